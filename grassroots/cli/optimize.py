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

from pathlib import Path

from ..report import write_report
from ..report.study_figures import frontier_figure
from ..studies import sizing
from . import options as opts


def _check(args, command: str) -> None:
    from optimizer import OptimizerInputError
    problems = opts.check_optimizer(args, command)
    if problems:
        raise OptimizerInputError(problems)


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
    from optimizer import ALLOCATION_COLUMNS
    if tables.get("allocation") is not None:
        tables["allocation"] = tables["allocation"][ALLOCATION_COLUMNS]
    write_report(rf, scenarios=[sc], lang=getattr(args, "lang", "en") or "en", **tables)


def optimize(args) -> int:
    """``grassroots optimize SCENARIO [--budget YUAN] [--objective ...] [--integer] [--solver ...]``."""
    _check(args, "optimize")
    sc, inputs = opts.optimizer_inputs(args)
    alloc = opts.allocator(args, sc)
    opts.say(args, f"optimize: {inputs.n_pairs} county x field pairs, {inputs.n_columns} lever columns, "
                   f"objective {alloc.objective}, solver {alloc.solver}{', integer' if alloc.integer else ''}")
    res = alloc.solve(inputs)
    s = res.solution
    with opts.result_folder("optimize", opts.scenario_label(args, sc), args) as rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": alloc.objective, "solver": alloc.solver,
                                                       "integer": alloc.integer,
                                                       "status": s["status"]})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    t = s["totals"]
    bp = s["shadow_prices"].get("budget")
    opts.say(args, f"optimize: {s['status']}; {s['objective_name']} {s['objective']:,.1f}; shortfall "
                   f"{t['shortfall_before']:,.0f} -> {t['shortfall_after']:,.0f} persons; budget used "
                   f"{s['budget_used_yuan']:,.0f} of {s['budget_yuan']:,.0f} yuan/year"
                   + (f"; one more million yuan changes the objective by {bp * 1e6:,.3f}" if bp is not None else ""))
    print(rf.final_path)
    return 0


MAX_BUDGET_FACTOR = 10   # default --max-budget: 10 x the scenario's budget.total_yuan (assumption: a fund ten
                         # times the planned one is beyond any realistic policy; the user can raise it)


def max_budget(args, sc) -> float:
    """``--max-budget``, else :data:`MAX_BUDGET_FACTOR` x the scenario's ``budget.total_yuan`` (yuan/year)."""
    m = getattr(args, "max_budget", None)
    return float(m) if m is not None else MAX_BUDGET_FACTOR * float(sc.budget.total_yuan)


def _not_reached(lines) -> int:
    import sys
    for line in lines:
        print(line, file=sys.stderr)
    return 3


def size_budget(args) -> int:
    """``grassroots size-budget SCENARIO --target COVERAGE [--share P]``: the smallest yearly fund (cost objective).

    Exit status 3 (nothing written) when no fund reaches the target (the model is infeasible: the levers'
    bounds cap coverage) or the smallest fund exceeds ``--max-budget``.
    """
    import optimizer
    _check(args, "size-budget")
    if getattr(args, "confidence", None) is not None:
        return _size_budget_confidence(args)
    sc, inputs = opts.optimizer_inputs(args)
    alloc = opts.allocator(args, sc, objective="cost")
    what = f"coverage {alloc.coverage_target:g} in {alloc.target_share:.0%} of {len(set(inputs.county_id))} counties"
    opts.say(args, f"size-budget: smallest fund for {what}")
    try:
        res = alloc.solve(inputs)
    except optimizer.InfeasibleError as e:
        return _not_reached([f"size-budget: target not reachable: no fund reaches {what}; the levers' bounds "
                             "leave these constraints short:", *[f"size-budget: {line}" for line in e.problems]])
    s = res.solution
    cap = max_budget(args, sc)
    if s["budget_yuan"] > cap * (1 + 1e-9):
        return _not_reached([f"size-budget: target not reachable within --max-budget {cap:,.0f} yuan/year: the smallest "
                             f"fund for {what} is {s['budget_yuan']:,.0f} yuan/year (allowed: raise --max-budget)"])
    with opts.result_folder("size-budget", opts.scenario_label(args, sc), args) as rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": "cost", "solver": alloc.solver,
                                                       "integer": alloc.integer, "coverage_target": alloc.coverage_target,
                                                       "target_share": alloc.target_share,
                                                       "smallest_budget_yuan": s["budget_yuan"], "status": s["status"]})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    opts.say(args, f"size-budget: {s['status']}; smallest fund {s['budget_yuan']:,.0f} yuan/year")
    print(rf.final_path)
    return 0


def _size_budget_confidence(args) -> int:
    """``size-budget --confidence P``: the smallest fund whose planned allocation reaches the target with
    probability >= P in R fresh-seed simulations (:func:`grassroots.studies.sizing.size_budget_with_confidence`).

    Writes ``probability.csv`` (``budget_yuan,probability,p_low,p_high``, every budget tried),
    ``allocation.csv`` and ``solution.json`` of the sized plan, ``rounds.csv`` and the report.
    """
    import scenarios
    sc = scenarios.load(args.scenario)
    if args.years is not None and args.years != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": int(args.years)})
    o = sc.optimizer
    target = args.target if args.target is not None else o.coverage_target
    share = args.share if args.share is not None else o.target_share_of_counties
    cap = max_budget(args, sc)
    opts.say(args, f"size-budget: smallest fund with P(at least {share:.0%} of counties reach coverage {target:g} in every "
                   f"field, end of year {sc.horizon.years}) >= {args.confidence:g}; {args.replications} replications per "
                   f"budget; at most {cap:,.0f} yuan/year")

    def progress(row):
        opts.say(args, f"size-budget: budget {row['budget_yuan']:,.0f} yuan: probability {row['probability']:.3f} "
                       f"[{row['p_low']:.3f}, {row['p_high']:.3f}]")

    r = sizing.size_budget_with_confidence(sc, target, args.confidence, share=share, provinces=args.province or None,
                                           replications=args.replications, seed=args.seed, workers=args.workers or 1,
                                           hi=getattr(args, "budget", None) or None, progress=progress,
                                           table=opts.user_table(args), max_budget=cap)
    solution = dict(r.plan.result.solution) if r.plan is not None else {"status": "optimal"}
    solution["confidence"] = {"budget_yuan": r.budget_yuan, "probability": r.probability, "p_low": r.p_low,
                              "p_high": r.p_high, "required": args.confidence, "reached": r.reached,
                              "max_budget_yuan": cap,
                              "coverage_target": target, "target_share": share, **r.notes}
    with opts.result_folder("size-budget", opts.scenario_label(args, sc), args) as rf:
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
                            "reached": r.reached, "max_budget_yuan": cap})
        _report(rf, args, sc, solution=solution, allocation=r.allocation, probability=r.table,
                probability_target=args.confidence, sized_budget=r.budget_yuan)
    print(rf.final_path)
    if not r.reached:
        best = r.table.loc[r.table["probability"].idxmax()]
        return _not_reached([
            f"size-budget: target not reachable: no fund up to --max-budget {cap:,.0f} yuan/year reaches probability "
            f"{args.confidence:g}; the probability curve's maximum is {best['probability']:.3f} [{best['p_low']:.3f}, "
            f"{best['p_high']:.3f}] at {best['budget_yuan']:,.0f} yuan/year ({len(r.table)} budgets tried, in "
            f"{rf.final_path}/probability.csv; allowed: a lower --confidence or --target, or a larger --max-budget)"])
    opts.say(args, f"size-budget: smallest fund {r.budget_yuan:,.0f} yuan/year, probability {r.probability:.3f} "
                   f"[{r.p_low:.3f}, {r.p_high:.3f}]")
    return 0


def frontier(args) -> int:
    """``grassroots frontier SCENARIO --budgets MIN:MAX:N``: the budget sweep, table and figure."""
    import optimizer
    _check(args, "frontier")
    sc, inputs = opts.optimizer_inputs(args)
    budgets = optimizer.parse_budgets(args.budgets)
    o = sc.optimizer
    integer = bool(getattr(args, "integer", False) or o.integer)
    solver = getattr(args, "solver", None) or o.solver

    def progress(i, n, row):
        opts.say(args, f"frontier: {i}/{n} budget {row['budget_yuan']:,.0f} yuan: coverage {row['coverage']:.4f}, "
                       f"weighted shortfall {row['weighted_shortfall']:,.1f}")

    table, timings = optimizer.frontier(inputs, budgets, integer=integer, solver=solver,
                                        time_limit=o.time_limit_seconds, mip_gap=o.mip_gap, progress=progress)
    fig = frontier_figure(table, title=f"{opts.scenario_label(args, sc)}: budget frontier")
    with opts.result_folder("frontier", opts.scenario_label(args, sc), args) as rf:
        rf.write_csv("frontier.csv", table)
        rf.write_json("solution.json", {"status": "optimal", "objective_name": "weighted_shortfall", "solver": solver,
                                        "integer": integer, "budgets_yuan": budgets, "timings": timings,
                                        "points": table.to_dict(orient="records"), "inputs": dict(inputs.notes)})
        rf.savefig("frontier.png", fig)
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": "shortfall", "solver": solver, "integer": integer,
                                                       "budgets": args.budgets})
        _report(rf, args, sc, frontier=table)
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(rf.final_path)
    return 0


__all__ = ["optimize", "size_budget", "frontier"]
