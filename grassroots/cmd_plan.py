"""``grassroots plan SCENARIO --budget YUAN``: the simulate-then-optimize loop (see :mod:`grassroots.plan`).

Arguments are checked first (bad input -> :class:`optimizer.OptimizerInputError`
with ``.problems``, exit status 2, before any folder exists).  The result folder holds:

* ``allocation.csv`` -- the final allocation (``county_id,province,field,lever,quantity,cost_yuan``);
* ``solution.json`` -- the optimizer's solution of the final round, with the loop's
  record (``plan``: rounds, converged, tolerance, the final effect factors);
* ``summary.csv`` -- the final allocation simulated with R replications
  (``scenario,year,metric,mean,p05,p95``);
* ``rounds.csv`` -- one row per round (``grassroots.plan.ROUND_COLUMNS``): predicted vs
  simulated coverage and staff gain, budget used, allocation change, mean effect factors;
* ``effects.csv`` -- every round's estimated factors per province x field x lever kind;
* ``manifest.json`` and ``report.html``.
"""

from __future__ import annotations

import math
import sys

DEFAULT_ROUNDS = 5
TOLERANCE = 0.01


def _problems(args) -> list[str]:
    from grassroots.cmd_optimize import _problems as opt_problems
    p = opt_problems(args, "plan")
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


def plan(args) -> int:
    import optimizer
    import scenarios
    from grassroots import plan as P
    from grassroots.cmd_optimize import _allocator, _manifest, _report, _say, _scenario_label
    from grassroots.results import ResultFolder

    problems = _problems(args)
    if problems:
        raise optimizer.OptimizerInputError(problems)
    sc = scenarios.load(args.scenario)
    if args.years is not None and args.years != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": int(args.years)})
    rounds = getattr(args, "rounds", None) or DEFAULT_ROUNDS
    alloc = _allocator(args, sc, marginals=False)
    if alloc.objective == "cost":
        alloc = optimizer.Allocator.from_scenario(sc, objective="shortfall", integer=alloc.integer or None,
                                                  solver=alloc.solver, marginals=False)

    def progress(row):
        _say(args, f"plan: round {row['round']}: coverage predicted {row['predicted_coverage']:.4f}, simulated "
                   f"{row['simulated_coverage']:.4f}; staff gain predicted {row['predicted_staff_gain']:,.0f}, simulated "
                   f"{row['simulated_staff_gain']:,.0f}; allocation change {row['allocation_change']:.4f}")

    pr = P.plan(sc, args.budget, provinces=args.province or None, rounds=rounds, replications=args.replications,
                seed=args.seed, tol=TOLERANCE, workers=args.workers or 1, allocator=alloc, progress=progress)
    res, sim = pr.result, pr.simulation
    solution = dict(res.solution)
    rounds_rec = pr.rounds.replace({math.inf: None}).to_dict(orient="records")
    solution["plan"] = {"rounds": rounds_rec, "converged": pr.converged, "tolerance": TOLERANCE,
                        "max_rounds": rounds, "replications": args.replications, "seed": args.seed,
                        "method": "effects rescaled per province x field x lever kind by simulated/analytic gain "
                                  "(perturbation, common random numbers); see grassroots/plan.py"}
    with ResultFolder("plan", _scenario_label(args, sc), out=args.out, argv=sys.argv) as rf:
        rf.write_csv("allocation.csv", pr.allocation)
        rf.write_json("solution.json", solution)
        rf.write_csv("summary.csv", sim.summary)
        rf.write_csv("rounds.csv", pr.rounds)
        rf.write_csv("effects.csv", pr.effects)
        _manifest(rf, args, sc, res.inputs, {"objective": alloc.objective, "solver": alloc.solver,
                                             "integer": alloc.integer, "status": solution["status"],
                                             "seed": args.seed, "replication_seeds": sim.seeds,
                                             "replications": args.replications, "rounds": len(pr.rounds),
                                             "converged": pr.converged})
        _report(rf, args, sc, summary=sim.summary, solution=solution, allocation=pr.allocation)
    _say(args, "plan: " + ("converged" if pr.converged else f"not converged within {rounds} rounds")
               + f"; final simulated coverage {pr.rounds['simulated_coverage'].iloc[-1]:.4f}")
    print(rf.final_path)
    return 0
