"""Command bodies of ``grassroots optimize``, ``grassroots size-budget`` and ``grassroots frontier``.

Each takes the argparse ``Namespace`` of :mod:`grassroots.cli` and returns an exit
status.  Arguments are checked first (one line per problem, raised as
:class:`optimizer.OptimizerInputError`, which the command line turns into exit
status 2); the model is solved next; only a solved model gets a result folder,
written through :class:`grassroots.results.ResultFolder` (so an infeasible or
failed run leaves nothing behind).  The folder holds:

* ``allocation.csv`` -- ``county_id,province,field,lever,quantity,cost_yuan`` (``,year`` with a budget path);
* ``solution.json`` -- status, objective, budget and budget used, solver, timings,
  shadow prices (``budget`` at least; per payer), totals and the derivation notes,
  ``status_quo`` (simulated or static), ``planning`` (years, fields, targets, money by year
  and payer) and ``validation`` (predicted vs simulated coverage and shortfall per field);
* ``summary_by_province_lever.csv``, ``outcomes.csv`` (one row per county x field:
  demand, staff before/after, shortfall, coverage), ``shadow_prices.csv`` (every
  reported constraint with a non-zero dual);
* ``model.lp`` with ``--write-lp``; for ``frontier``: ``frontier.csv`` and ``frontier.png``.

By default the optimizer plans against the simulated status quo of the scenario (run once and cached,
:mod:`grassroots.studies.world`); ``--static`` keeps the static first-order estimate (fast; ignores
internal flows and dynamics).  After solving, the answer is simulated with common random numbers and
compared with the prediction (``--no-check`` skips it); a difference above the tolerance gives one
warning line suggesting ``grassroots plan``.

The folder path is printed on stdout; a short human summary goes to stderr
unless ``--quiet``.
"""

from __future__ import annotations

from pathlib import Path

from ..report import write_report
from ..report.study_figures import frontier_figure
from ..studies import sizing, world
from . import options as opts


def _check(args, command: str) -> None:
    from optimizer import OptimizerInputError
    problems = opts.check_optimizer(args, command)
    if problems:
        raise OptimizerInputError(problems)


def _prepare(args, command: str):
    """(scenario, table, inputs, planning settings, result folder): the simulated status quo (cached) unless
    ``--static``, then the optimizer's inputs with the command's target year, fields, money and payers."""
    import optimizer
    import scenarios
    sc = opts.load_scenario(args)          # with --city/--county as region.counties
    plan = opts.planning(args, sc)
    table = optimizer.inputs.select_table(sc, opts.user_table(args), args.province or None)
    rf = opts.result_folder(command, opts.scenario_label(args, sc), args)   # fails now if --out exists
    if plan["static"]:
        opts.say(args, f"{command}: status quo: {world.STATIC_NOTE}")
    else:
        opts.say(args, f"{command}: status quo: {sc.name} simulated without an allocation, {args.replications} "
                       f"replication(s), {plan['years']} years, seed {args.seed}, with lever effects by simulation "
                       f"(run once, then read from the cache)")
    inputs, run = world.planned_inputs(
        sc, table, years=plan["years"], fields=plan["fields"], targets=plan["targets"], budget_path=plan["budget_path"],
        payer_budget=plan["payer_budget"], objective_year=plan["objective_year"], static=plan["static"],
        budget_yuan=args.budget, replications=args.replications, seed=args.seed, workers=opts.workers(args),
        cache_dir=opts.cache_dir(rf, "status-quo"), provinces=args.province or None)
    plan["status_quo"] = world.STATIC_NOTE if run is None else run.status_quo.source
    return sc, table, inputs, plan, rf


def _check_answer(args, sc, table, res, plan, command: str) -> None:
    """``solution["validation"]``: the answer simulated with common random numbers (unless ``--no-check``)."""
    s = res.solution
    s["status_quo"] = plan["status_quo"]
    s["planning"] = {k: plan[k] for k in ("years", "fields", "targets", "budget_path", "payer_budget", "objective_year")}
    if not plan["check"]:
        s["validation"] = None
        return
    opts.say(args, f"{command}: checking the answer: simulating the allocation ({args.replications} replication(s), "
                   f"seed {args.seed}, common random numbers)")
    val, warnings = world.check_allocation(sc, table, res, plan["years"], args.replications, args.seed,
                                           opts.workers(args), fields=plan["fields"])
    s["validation"] = val
    for w in warnings:          # one line
        opts.say(args, w)


def _plan_manifest(args, plan) -> dict:
    return {"years": plan["years"], "seed": None if plan["static"] else args.seed,
            "replications": None if plan["static"] else args.replications, "status_quo": plan["status_quo"],
            "fields": plan["fields"], "budget_path_yuan": plan["budget_path"], "payer_budget_yuan": plan["payer_budget"],
            "objective_year": plan["objective_year"], "checked": plan["check"]}


def _write_result(rf, res, write_lp: bool) -> None:
    from optimizer import ALLOCATION_COLUMNS, ALLOCATION_YEAR_COLUMNS
    year_indexed = res.inputs.pair_year is not None
    rf.write_csv("allocation.csv", res.allocation[ALLOCATION_YEAR_COLUMNS if year_indexed else ALLOCATION_COLUMNS])
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
    sc, table, inputs, plan, rf = _prepare(args, "optimize")
    alloc = opts.allocator(args, sc)
    opts.say(args, f"optimize: {inputs.n_pairs} county x field pairs, {inputs.n_columns} lever columns, "
                   f"objective {alloc.objective}, solver {alloc.solver}{', integer' if alloc.integer else ''}")
    res = alloc.solve(inputs)
    _check_answer(args, sc, table, res, plan, "optimize")
    s = res.solution
    with rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": alloc.objective, "solver": alloc.solver,
                                                       "integer": alloc.integer,
                                                       "status": s["status"], **_plan_manifest(args, plan)})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    t = s["totals"]
    bp = s["shadow_prices"].get("budget")
    opts.say(args, f"optimize: {s['status']}; {s['objective_name']} {s['objective']:,.1f}; shortfall "
                   f"{t['shortfall_before']:,.0f} -> {t['shortfall_after']:,.0f} persons; budget used "
                   f"{s['budget_used_yuan']:,.0f} of {s['budget_yuan']:,.0f} yuan/year"
                   + (f"; one more million yuan changes the objective by {bp * 1e6:,.3f}" if bp is not None else "")
                   + _validation_line(s))
    print(rf.final_path)
    return 0


def _validation_line(s: dict) -> str:
    v = s.get("validation")
    if not v:
        return ""
    parts = [f"{f} {v[f]['predicted']['coverage']:.3f} predicted / {v[f]['simulated']['coverage']:.3f} simulated"
             for f in v if isinstance(v.get(f), dict) and "predicted" in v[f]]
    return f"; coverage in year {v['year']}: " + ", ".join(parts) if parts else ""


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
    sc, table, inputs, plan, rf = _prepare(args, "size-budget")
    alloc = opts.allocator(args, sc, objective="cost")
    fields = ", ".join(plan["fields"]) if plan["fields"] else "every field"
    what = (f"coverage {alloc.coverage_target:g} ({fields}) at the end of year {plan['years']} in "
            f"{alloc.target_share:.0%} of {len(set(inputs.county_id))} counties")
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
    _check_answer(args, sc, table, res, plan, "size-budget")
    with rf:
        _write_result(rf, res, getattr(args, "write_lp", False))
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": "cost", "solver": alloc.solver,
                                                       "integer": alloc.integer, "coverage_target": alloc.coverage_target,
                                                       "target_share": alloc.target_share,
                                                       "smallest_budget_yuan": s["budget_yuan"], "status": s["status"],
                                                       **_plan_manifest(args, plan)})
        _report(rf, args, sc, solution=s, allocation=res.allocation)
    o = res.outcomes
    o = o[(o["year"] == o["year"].max()) & o["field"].isin(s["totals"]["fields"]) & (o["demand"] > 0)]
    opts.say(args, f"size-budget: {s['status']}; smallest fund {s['budget_yuan']:,.0f} yuan/year; lowest county "
                   f"coverage {o['coverage_before'].min():.3f} before, {o['coverage_after'].min():.3f} after"
                   + _validation_line(s))
    print(rf.final_path)
    return 0


def _size_budget_confidence(args) -> int:
    """``size-budget --confidence P``: the smallest fund whose planned allocation reaches the target with
    probability >= P in R fresh-seed simulations (:func:`grassroots.studies.sizing.size_budget_with_confidence`).

    Writes ``probability.csv`` (``budget_yuan,probability,p_low,p_high``, every budget tried),
    ``allocation.csv`` and ``solution.json`` of the sized plan, ``rounds.csv`` and the report.
    """
    import scenarios
    sc = opts.load_scenario(args)
    settings = opts.planning(args, sc)     # --years/--field/--budget-path/--payer-budget as optimize
    if settings["years"] != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": settings["years"]})
    fields = settings["fields"]
    o = sc.optimizer
    target = args.target if args.target is not None else o.coverage_target
    share = args.share if args.share is not None else o.target_share_of_counties
    cap = max_budget(args, sc)
    what = ", ".join(fields) if fields else "every field"
    opts.say(args, f"size-budget: smallest fund with P(at least {share:.0%} of counties reach coverage {target:g} in "
                   f"{what}, end of year {sc.horizon.years}) >= {args.confidence:g}; {args.replications} replications per "
                   f"budget; at most {cap:,.0f} yuan/year"
                   + ("; money by year in the shape of --budget-path (the fund is its mean)" if settings["budget_path"] else ""))

    def progress(row):
        opts.say(args, f"size-budget: budget {row['budget_yuan']:,.0f} yuan: probability {row['probability']:.3f} "
                       f"[{row['p_low']:.3f}, {row['p_high']:.3f}]")

    r = sizing.size_budget_with_confidence(sc, target, args.confidence, share=share, provinces=args.province or None,
                                           replications=args.replications, seed=args.seed, workers=args.workers or 1,
                                           hi=getattr(args, "budget", None) or None, progress=progress,
                                           table=opts.user_table(args), max_budget=cap, fields=fields,
                                           budget_path=settings["budget_path"], payer_budget=settings["payer_budget"],
                                           objective_year=settings["objective_year"])
    solution = dict(r.plan.result.solution) if r.plan is not None else {"status": "optimal"}
    solution["confidence"] = {"budget_yuan": r.budget_yuan, "probability": r.probability, "p_low": r.p_low,
                              "p_high": r.p_high, "required": args.confidence, "reached": r.reached,
                              "max_budget_yuan": cap,
                              "coverage_target": target, "target_share": share, **r.notes}
    solution["planning"] = {k: settings[k] for k in ("years", "fields", "budget_path", "payer_budget", "objective_year")}
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
                            "reached": r.reached, "max_budget_yuan": cap, "fields": fields,
                            "budget_path_yuan": r.notes["budget_path_yuan"], "payer_budget_yuan": settings["payer_budget"]})
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
    sc, county_table, inputs, plan, rf = _prepare(args, "frontier")
    budgets = optimizer.parse_budgets(args.budgets)
    o = sc.optimizer
    integer = bool(getattr(args, "integer", False) or o.integer)
    solver = getattr(args, "solver", None) or o.solver

    def progress(i, n, row):
        opts.say(args, f"frontier: {i}/{n} budget {row['budget_yuan']:,.0f} yuan: coverage {row['coverage']:.4f}, "
                       f"weighted shortfall {row['weighted_shortfall']:,.1f}")

    ftable, timings = optimizer.frontier(inputs, budgets, integer=integer, solver=solver,
                                        time_limit=o.time_limit_seconds, mip_gap=o.mip_gap, progress=progress)
    fig = frontier_figure(ftable, title=f"{opts.scenario_label(args, sc)}: budget frontier")
    solution = {"status": "optimal", "objective_name": "weighted_shortfall", "solver": solver,
                "integer": integer, "budgets_yuan": budgets, "timings": timings,
                "points": ftable.to_dict(orient="records"), "inputs": dict(inputs.notes)}
    # the chosen points: the middle and the largest budget, each solved and simulated
    checks = []
    for b in sorted({budgets[len(budgets) // 2], budgets[-1]}):
        res = optimizer.Allocator("shortfall", integer=integer, solver=solver, time_limit=o.time_limit_seconds,
                                  mip_gap=o.mip_gap, marginals=False).solve(inputs.with_budget(b))
        _check_answer(args, sc, county_table, res, plan, "frontier")
        checks.append({"budget_yuan": b, "validation": res.solution["validation"]})
    solution.update(status_quo=plan["status_quo"], validation=checks if plan["check"] else None,
                    planning=res.solution["planning"])
    with rf:
        rf.write_csv("frontier.csv", ftable)
        rf.write_json("solution.json", solution)
        rf.savefig("frontier.png", fig)
        opts.optimizer_manifest(rf, args, sc, inputs, {"objective": "shortfall", "solver": solver, "integer": integer,
                                                       "budgets": args.budgets, **_plan_manifest(args, plan)})
        _report(rf, args, sc, frontier=ftable)
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(rf.final_path)
    return 0


__all__ = ["optimize", "size_budget", "frontier"]
