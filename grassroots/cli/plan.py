"""``grassroots plan SCENARIO --budget YUAN``: the simulate-then-optimize loop (see :mod:`grassroots.studies.plan`).

Like ``optimize``, ``--field`` (repeatable) restricts the objective to those fields (the others keep their
status quo), ``--budget-path`` gives yuan per year (decisions per year; ``allocation.csv`` gets a ``year``
column), ``--payer-budget`` fixes a payer's yuan per year and ``--objective-year`` counts every year or the last.

Arguments are checked first (bad input -> :class:`optimizer.OptimizerInputError`
with ``.problems``, exit status 2, before any folder exists).  The result folder holds:

* ``allocation.csv`` -- the final allocation (``county_id,province,field,lever,quantity,cost_yuan``, ``,year``
  with a budget path);
* ``solution.json`` -- the optimizer's solution of the final round, with the loop's
  record (``plan``: rounds, converged, tolerance, the final effect factors) and ``planning`` (years, fields,
  budget path, payer budgets, objective year);
* ``summary.csv`` -- the final allocation simulated with R replications
  (``scenario,year,metric,mean,p05,p95``);
* ``rounds.csv`` -- one row per round (``grassroots.studies.plan.ROUND_COLUMNS``; round 0 = the
  status quo): step accepted or rejected, predicted vs simulated coverage, staff gain and
  objective reduction, budget used, allocation change (share of money moved), trust radius,
  the next proposal, mean effect factors, and on the last row why the loop stopped;
* ``effects.csv`` -- the effect estimates at every allocation visited, per county x field x
  lever kind (``grassroots.studies.plan.EFFECT_COLUMNS`` and ``round``);
* ``manifest.json`` and ``report.html`` (with the rounds table and the stop reason).
"""

from __future__ import annotations

import math

from ..report.study_reports import write_plan_report
from ..studies import plan as P
from . import options as opts


def _problems(args) -> list[str]:
    p = opts.check_optimizer(args, "plan")
    if args.replications is None or args.replications < 1:
        p.append(f"--replications: {args.replications!r} (allowed: a whole number >= 1)")
    if args.years is not None and args.years < 1:
        p.append(f"--years: {args.years!r} (allowed: a whole number >= 1)")
    if args.workers is not None and args.workers < 1:
        p.append(f"--workers: {args.workers!r} (allowed: a whole number >= 1)")
    rounds = getattr(args, "rounds", None)
    if rounds is not None and rounds < 1:
        p.append(f"--rounds: {rounds!r} (allowed: a whole number >= 1)")
    if getattr(args, "objective", None) == "cost":
        p.append("--objective: 'cost' (allowed: shortfall or equity; plan spends a given budget)")
    return p


def _final_coverage(pr) -> float:
    """Simulated horizon-average coverage of the final allocation (the last accepted round, else the status quo)."""
    r = pr.rounds[pr.rounds["step"].isin(["accepted", "status quo"])]
    return float(r["simulated_coverage"].iloc[-1])


def _field_coverage(sim, fields) -> dict:
    """Per field (``fields``, else every field with demand): simulated coverage at the end of the last year
    (summed mean staff / summed mean demand) and the lowest county's coverage."""
    c = sim.counties
    c = c[c["year"] == c["year"].max()]
    w = c.pivot_table(index=["county_id", "field"], columns="metric", values="mean", observed=True)
    out = {}
    for f, g in w.groupby(level="field", observed=True):
        if (fields and f not in fields) or g["demand"].sum() <= 0:
            continue
        pos = g[g["demand"] > 0]
        out[str(f)] = {"coverage": float(g["staff"].sum() / g["demand"].sum()),
                       "lowest_county": float((pos["staff"] / pos["demand"]).min())}
    return out


def plan(args) -> int:
    import optimizer
    import scenarios

    problems = _problems(args)
    if problems:
        raise optimizer.OptimizerInputError(problems)
    sc = opts.load_scenario(args)
    settings = opts.planning(args, sc)      # --years/--field/--budget-path/--payer-budget/--objective-year over [targets]/[budget]
    if settings["years"] != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": settings["years"]})
    rounds = getattr(args, "rounds", None) or P.DEFAULT_ROUNDS
    alloc = opts.allocator(args, sc, marginals=False)
    if alloc.objective == "cost":
        alloc = optimizer.Allocator.from_scenario(sc, objective="shortfall", integer=alloc.integer or None,
                                                  solver=alloc.solver, marginals=False)

    table = opts.user_table(args)   # --county-table (and --sheet), read before the progress bar starts
    bar = opts.progress_bar("plan", rounds + 1, "rounds", quiet=args.quiet, record=False)  # round 0 = status quo

    def progress(row):
        bar.update(1)
        if row["round"] == 0:
            bar.write(f"plan: round 0 (status quo): coverage optimizer {row['predicted_coverage']:.4f}, simulated "
                       f"{row['simulated_coverage']:.4f} (the loop starts from the simulated one); effects estimated; "
                       f"first proposal: predicted gain {row['remaining_gain']:,.1f}")
        else:
            radius = row["trust_radius"]
            bar.write(f"plan: round {row['round']} ({row['step']}, ratio {row['ratio']:.2f}, trust radius "
                       + ("none" if not math.isfinite(radius) else f"{radius:.2%} of the money") + "): coverage predicted "
                       f"{row['predicted_coverage']:.4f}, simulated {row['simulated_coverage']:.4f}; staff gain "
                       f"predicted {row['predicted_staff_gain']:,.0f}, simulated {row['simulated_staff_gain']:,.0f}; "
                       f"allocation change {row['allocation_change']:.4f}; next proposal moves "
                       f"{row['proposal_change']:.4f} for a predicted gain of {row['remaining_gain']:,.1f}")
        if row["stop"]:
            bar.write(f"plan: {row['stop']}")
            bar.close()

    with bar:
        pr = P.plan(sc, args.budget, provinces=args.province or None, rounds=rounds, replications=args.replications,
                    seed=args.seed, tol=P.DEFAULT_TOLERANCE, workers=args.workers or 1, allocator=alloc,
                    progress=progress, table=table, fields=settings["fields"], budget_path=settings["budget_path"],
                    payer_budget=settings["payer_budget"], objective_year=settings["objective_year"])
    res, sim = pr.result, pr.simulation
    solution = dict(res.solution)
    rounds_rec = pr.rounds.replace({math.inf: None}).to_dict(orient="records")
    solution["planning"] = {k: settings[k] for k in ("years", "fields", "budget_path", "payer_budget", "objective_year")}
    solution["plan"] = {"rounds": rounds_rec, "converged": pr.converged, "status": pr.status,
                        "stop_reason": pr.stop_reason, "tolerance": P.DEFAULT_TOLERANCE, "max_rounds": rounds,
                        "replications": args.replications, "seed": args.seed,
                        "method": "sequential linear programming with an L1 trust region on the money moved: the "
                                  "optimizer's model is linearised at the simulated allocation (effects rescaled per "
                                  "county x field x lever kind by perturbation with common random numbers); a step is "
                                  "kept only when the simulator confirms its predicted gain; see grassroots/studies/plan.py"}
    by_field = _field_coverage(sim, settings["fields"])
    solution["plan"]["coverage_by_field_last_year"] = by_field
    with opts.result_folder("plan", opts.scenario_label(args, sc), args) as rf:
        rf.write_csv("allocation.csv", pr.allocation)
        rf.write_json("solution.json", solution)
        rf.write_csv("summary.csv", sim.summary)
        rf.write_csv("rounds.csv", pr.rounds)
        rf.write_csv("effects.csv", pr.effects)
        opts.optimizer_manifest(rf, args, sc, res.inputs, {"objective": alloc.objective, "solver": alloc.solver,
                                             "integer": alloc.integer, "status": solution["status"],
                                             "seed": args.seed, "replication_seeds": sim.seeds,
                                             "replications": args.replications, "rounds": len(pr.rounds) - 1,
                                             "converged": pr.converged, "plan_status": pr.status,
                                             "fields": settings["fields"], "budget_path_yuan": settings["budget_path"],
                                             "payer_budget_yuan": settings["payer_budget"],
                                             "objective_year": settings["objective_year"]})
        write_plan_report(rf, sc, sim.summary, solution, pr, lang=getattr(args, "lang", "en") or "en")
    opts.say(args, "plan: " + (f"converged ({pr.status})" if pr.converged else "not converged")
               + f" after {len(pr.rounds) - 1} rounds; simulated coverage (horizon average"
               + (f", {', '.join(settings['fields'])}" if settings["fields"] else "") + ") of the final allocation "
                 f"{_final_coverage(pr):.4f}; at the end of year {settings['years']}: "
               + ", ".join(f"{f} {v['coverage']:.3f} (lowest county {v['lowest_county']:.3f})" for f, v in by_field.items()))
    print(rf.final_path)
    return 0
