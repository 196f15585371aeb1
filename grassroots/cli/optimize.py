"""Command bodies of ``grassroots optimize``, ``grassroots size-budget`` and ``grassroots frontier``.

Each takes the argparse ``Namespace`` of :mod:`grassroots.cli` and returns an exit
status.  Arguments are checked first (one line per problem, raised as
:class:`optimizer.OptimizerInputError`, which the command line turns into exit
status 2); the model is solved next; only a solved model gets a result folder,
written through :class:`grassroots.results.ResultFolder` (so an infeasible or
failed run leaves nothing behind).  The folder holds:

* ``allocation.csv`` -- ``county_id,province,field,lever,quantity,cost_yuan``;
* ``solution.json`` -- status, objective, budget and budget used, solver, timings,
  shadow prices (``budget`` at least), totals and the derivation notes;
* ``summary_by_province_lever.csv``, ``outcomes.csv`` (one row per county x field:
  demand, staff before/after, shortfall, coverage), ``shadow_prices.csv`` (every
  reported constraint with a non-zero dual);
* ``model.lp`` with ``--write-lp``; for ``frontier``: ``frontier.csv`` and ``frontier.png``.

The folder path is printed on stdout; a short human summary goes to stderr
unless ``--quiet``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

OBJECTIVES = ("shortfall", "equity", "cost")
SOLVERS = ("highs", "cbc")


def _problems(args, command: str) -> list[str]:
    """Every problem with the command's arguments, one line each (nothing is created yet)."""
    p: list[str] = []
    budget = getattr(args, "budget", None)
    if budget is not None and not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget >= 0):
        p.append(f"--budget: {budget!r} is negative or not a number (allowed: a number >= 0, yuan per year)")
    target = getattr(args, "target", None)
    if target is not None and not (math.isfinite(target) and 0 <= target <= 1):
        p.append(f"--target: {target!r} (allowed: a coverage from 0 to 1, staff/demand)")
    share = getattr(args, "share", None)
    if share is not None and not (math.isfinite(share) and 0 <= share <= 1):
        p.append(f"--share: {share!r} (allowed: a share of counties from 0 to 1)")
    objective = getattr(args, "objective", None)
    if objective is not None and objective not in OBJECTIVES:
        p.append(f"--objective: {objective!r} (allowed: {', '.join(OBJECTIVES)})")
    elif command == "size-budget" and objective not in (None, "cost"):
        p.append(f"--objective: {objective!r} (allowed: cost or omitted; size-budget minimises the budget)")
    elif command == "frontier" and objective not in (None, "shortfall"):
        p.append(f"--objective: {objective!r} (allowed: shortfall or omitted; the frontier sweeps the weighted shortfall)")
    solver = getattr(args, "solver", None)
    if solver is not None and solver not in SOLVERS:
        p.append(f"--solver: {solver!r} (allowed: {', '.join(SOLVERS)})")
    confidence = getattr(args, "confidence", None)
    if command == "size-budget" and confidence is not None:
        if not (math.isfinite(confidence) and 0 < confidence < 1):
            p.append(f"--confidence: {confidence!r} (allowed: a probability strictly between 0 and 1)")
        reps = getattr(args, "replications", 10)
        if reps is None or reps < 1:
            p.append(f"--replications: {reps!r} (allowed: a whole number >= 1)")
        years = getattr(args, "years", None)
        if years is not None and years < 1:
            p.append(f"--years: {years!r} (allowed: a whole number >= 1)")
    if command == "frontier":
        spec = getattr(args, "budgets", None)
        if spec is None:
            p.append("--budgets: missing (allowed: MIN:MAX:N, e.g. 0:2e10:20)")
        else:
            from optimizer import OptimizerInputError, parse_budgets
            try:
                parse_budgets(spec)
            except OptimizerInputError as e:
                p.extend(e.problems)
    provinces = getattr(args, "province", None)
    if provinces:
        import scenarios
        allowed = scenarios.province_codes()
        for code in provinces:
            if code not in allowed:
                p.append(f"--province: {code!r} is not a province code (allowed: {', '.join(allowed)})")
    return p


def _check(args, command: str) -> None:
    from optimizer import OptimizerInputError
    problems = _problems(args, command)
    if problems:
        raise OptimizerInputError(problems)


def _say(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def _prepare(args):
    """(scenario, inputs) for the command's scenario, provinces and budget."""
    import optimizer
    import scenarios
    sc = scenarios.load(args.scenario)
    from .cmd_run import user_table
    inputs = optimizer.from_scenario(sc, table=user_table(args), provinces=args.province or None, budget_yuan=args.budget)
    return sc, inputs


def _allocator(args, sc, **fixed):
    import optimizer
    kw = dict(objective=getattr(args, "objective", None), solver=getattr(args, "solver", None),
              coverage_target=getattr(args, "target", None), target_share=getattr(args, "share", None))
    if getattr(args, "integer", False):
        kw["integer"] = True
    kw.update(fixed)
    return optimizer.Allocator.from_scenario(sc, **kw)


def _manifest(rf, args, sc, inputs, extra: dict) -> None:
    import scenarios
    rf.manifest.update({
        "scenario_name": sc.name,
        "scenario_sha256": scenarios.sha256(sc),
        "provinces": list(args.province) if args.province else (list(sc.region.provinces) or "all"),
        "years": int(sc.horizon.years),
        "seed": None,
        "replication_seeds": [],
        "budget_yuan": inputs.budget_yuan,
        **extra,
    })


def _write_result(rf, res, write_lp: bool) -> None:
    from optimizer import ALLOCATION_COLUMNS
    rf.write_csv("allocation.csv", res.allocation[ALLOCATION_COLUMNS])
    rf.write_json("solution.json", res.solution)
    rf.write_csv("summary_by_province_lever.csv", res.summary_by_province_lever)
    rf.write_csv("outcomes.csv", res.outcomes)
    rf.write_csv("shadow_prices.csv", res.shadow_prices)
    if write_lp and res.session is not None:
        res.session.write_lp(Path(rf.path) / "model.lp")
        rf.files.append("model.lp")


def _report(rf, args, sc, **tables) -> None:
    """``report.html`` (self-contained, figures embedded) in the result folder."""
    from grassroots import report
    from optimizer import ALLOCATION_COLUMNS
    if tables.get("allocation") is not None:
        tables["allocation"] = tables["allocation"][ALLOCATION_COLUMNS]
    report.write_report(rf, scenarios=[sc], lang=getattr(args, "lang", "en") or "en", **tables)


def _scenario_label(args, sc) -> str:
    return sc.name or Path(str(args.scenario)).stem


def optimize(args) -> int:
    """``grassroots optimize SCENARIO [--budget YUAN] [--objective ...] [--integer] [--solver ...]``."""
    from grassroots.results import ResultFolder
    _check(args, "optimize")
    sc, inputs = _prepare(args)
    alloc = _allocator(args, sc)
    _say(args, f"optimize: {inputs.n_pairs} county x field pairs, {inputs.n_columns} lever columns, "
               f"objective {alloc.objective}, solver {alloc.solver}{', integer' if alloc.integer else ''}")
    res = alloc.solve(inputs)
    s = res.solution
    with ResultFolder("optimize", _scenario_label(args, sc), out=args.out, argv=sys.argv) as rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        _manifest(rf, args, sc, inputs, {"objective": alloc.objective, "solver": alloc.solver, "integer": alloc.integer,
                                         "status": s["status"]})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    t = s["totals"]
    bp = s["shadow_prices"].get("budget")
    _say(args, f"optimize: {s['status']}; {s['objective_name']} {s['objective']:,.1f}; shortfall "
               f"{t['shortfall_before']:,.0f} -> {t['shortfall_after']:,.0f} persons; budget used "
               f"{s['budget_used_yuan']:,.0f} of {s['budget_yuan']:,.0f} yuan/year"
               + (f"; one more million yuan changes the objective by {bp * 1e6:,.3f}" if bp is not None else ""))
    print(rf.final_path)
    return 0


def size_budget(args) -> int:
    """``grassroots size-budget SCENARIO --target COVERAGE [--share P]``: the smallest yearly fund (cost objective)."""
    from grassroots.results import ResultFolder
    _check(args, "size-budget")
    if getattr(args, "confidence", None) is not None:
        return _size_budget_confidence(args)
    sc, inputs = _prepare(args)
    alloc = _allocator(args, sc, objective="cost")
    _say(args, f"size-budget: smallest fund for coverage {alloc.coverage_target:g} in "
               f"{alloc.target_share:.0%} of {len(set(inputs.county_id))} counties")
    res = alloc.solve(inputs)
    s = res.solution
    with ResultFolder("size-budget", _scenario_label(args, sc), out=args.out, argv=sys.argv) as rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        _manifest(rf, args, sc, inputs, {"objective": "cost", "solver": alloc.solver, "integer": alloc.integer,
                                         "coverage_target": alloc.coverage_target, "target_share": alloc.target_share,
                                         "smallest_budget_yuan": s["budget_yuan"], "status": s["status"]})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    _say(args, f"size-budget: {s['status']}; smallest fund {s['budget_yuan']:,.0f} yuan/year")
    print(rf.final_path)
    return 0


def _size_budget_confidence(args) -> int:
    """``size-budget --confidence P``: the smallest fund whose planned allocation reaches the target with
    probability >= P in R fresh-seed simulations (:func:`grassroots.plan.size_budget_with_confidence`).

    Writes ``probability.csv`` (``budget_yuan,probability,p_low,p_high``, every budget tried),
    ``allocation.csv`` and ``solution.json`` of the sized plan, ``rounds.csv`` and the report.
    """
    import scenarios
    from grassroots import plan as P
    from grassroots.results import ResultFolder
    sc = scenarios.load(args.scenario)
    if args.years is not None and args.years != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": int(args.years)})
    o = sc.optimizer
    target = args.target if args.target is not None else o.coverage_target
    share = args.share if args.share is not None else o.target_share_of_counties
    _say(args, f"size-budget: smallest fund with P(at least {share:.0%} of counties reach coverage {target:g} in every "
               f"field, end of year {sc.horizon.years}) >= {args.confidence:g}; {args.replications} replications per budget")

    def progress(row):
        _say(args, f"size-budget: budget {row['budget_yuan']:,.0f} yuan: probability {row['probability']:.3f} "
                   f"[{row['p_low']:.3f}, {row['p_high']:.3f}]")

    r = P.size_budget_with_confidence(sc, target, args.confidence, share=share, provinces=args.province or None,
                                      replications=args.replications, seed=args.seed, workers=args.workers or 1,
                                      hi=args.budget if args.budget else None, progress=progress)
    solution = dict(r.plan.result.solution) if r.plan is not None else {"status": "optimal"}
    solution["confidence"] = {"budget_yuan": r.budget_yuan, "probability": r.probability, "p_low": r.p_low,
                              "p_high": r.p_high, "required": args.confidence, "reached": r.reached,
                              "coverage_target": target, "target_share": share, **r.notes}
    with ResultFolder("size-budget", _scenario_label(args, sc), out=args.out, argv=sys.argv) as rf:
        rf.write_csv("probability.csv", r.table[["budget_yuan", "probability", "p_low", "p_high"]])
        rf.write_csv("allocation.csv", r.allocation)
        rf.write_json("solution.json", solution)
        if r.plan is not None:
            rf.write_csv("rounds.csv", r.plan.rounds)
        rf.manifest.update({"scenario_name": sc.name, "scenario_sha256": scenarios.sha256(sc),
                            "provinces": list(args.province) if args.province else (list(sc.region.provinces) or "all"),
                            "years": int(sc.horizon.years), "seed": args.seed, "sizing_seed": r.notes["seed"],
                            "replications": args.replications, "confidence": args.confidence,
                            "coverage_target": target, "target_share": share, "sized_budget_yuan": r.budget_yuan,
                            "reached": r.reached})
        _report(rf, args, sc, solution=solution, allocation=r.allocation, probability=r.table,
                probability_target=args.confidence, sized_budget=r.budget_yuan)
    _say(args, f"size-budget: {'smallest fund' if r.reached else 'NOT reached; largest fund tried'} "
               f"{r.budget_yuan:,.0f} yuan/year, probability {r.probability:.3f} [{r.p_low:.3f}, {r.p_high:.3f}]")
    print(rf.final_path)
    return 0


def frontier(args) -> int:
    """``grassroots frontier SCENARIO --budgets MIN:MAX:N``: the budget sweep, table and figure."""
    import optimizer
    from grassroots.results import ResultFolder
    _check(args, "frontier")
    sc, inputs = _prepare(args)
    budgets = optimizer.parse_budgets(args.budgets)
    o = sc.optimizer
    integer = bool(getattr(args, "integer", False) or o.integer)
    solver = getattr(args, "solver", None) or o.solver

    def progress(i, n, row):
        _say(args, f"frontier: {i}/{n} budget {row['budget_yuan']:,.0f} yuan: coverage {row['coverage']:.4f}, "
                   f"weighted shortfall {row['weighted_shortfall']:,.1f}")

    table, timings = optimizer.frontier(inputs, budgets, integer=integer, solver=solver,
                                        time_limit=o.time_limit_seconds, mip_gap=o.mip_gap, progress=progress)
    fig = frontier_figure(table, title=f"{_scenario_label(args, sc)}: budget frontier")
    with ResultFolder("frontier", _scenario_label(args, sc), out=args.out, argv=sys.argv) as rf:
        rf.write_csv("frontier.csv", table)
        rf.write_json("solution.json", {"status": "optimal", "objective_name": "weighted_shortfall", "solver": solver,
                                        "integer": integer, "budgets_yuan": budgets, "timings": timings,
                                        "points": table.to_dict(orient="records"), "inputs": dict(inputs.notes)})
        rf.savefig("frontier.png", fig)
        _manifest(rf, args, sc, inputs, {"objective": "shortfall", "solver": solver, "integer": integer,
                                         "budgets": args.budgets})
        _report(rf, args, sc, frontier=table)
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(rf.final_path)
    return 0


def frontier_figure(table, title: str = "budget frontier"):
    """Coverage, weighted shortfall and marginal value per million yuan against the budget."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    b = table["budget_yuan"] / 1e9
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    ax1.plot(b, table["weighted_shortfall"], marker="o", color="tab:red", label="weighted shortfall")
    ax1.set_ylabel("weighted shortfall (persons)")
    ax1b = ax1.twinx()
    ax1b.plot(b, table["coverage"], marker="s", color="tab:blue", label="coverage")
    ax1b.set_ylabel("coverage (staff / demand)")
    lines = ax1.get_lines() + ax1b.get_lines()
    ax1.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    ax1.set_title(title)
    ax2.step(b, table["marginal_value_per_yuan"] * 1e6, where="mid", color="tab:green")
    ax2.set_ylabel("weighted shortfall removed\nper extra million yuan")
    ax2.set_xlabel("budget (billion yuan per year)")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


__all__ = ["optimize", "size_budget", "frontier", "frontier_figure"]
