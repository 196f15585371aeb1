"""The smallest fund whose planned allocation reaches a coverage target with a stated confidence
(``grassroots size-budget --confidence``).

Sizing with confidence (:func:`size_budget_with_confidence`)
------------------------------------------------------------
Event of one replication: at least ``share`` of the counties have coverage
(staff / demand at the end of the last simulated year) >= ``target`` in every
field with demand.  Probability = share of R replications (fresh seeds,
``seed + SIZING_SEED_OFFSET``, the same for every budget) where the event holds,
with a Wilson 95 % interval (``scipy.stats.binomtest``).  The budget is the
smallest one (bisection to ``rel_tol``) whose planned allocation reaches
probability >= ``confidence`` (``criterion="estimate"``) or whose Wilson lower
bound does (``criterion="lower"``, conservative).  Every budget tried is a row
of the budget-vs-probability table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .plan import plan, PlanResult

SIZING_SEED_OFFSET = 100_003  # sizing replications use seed + this (fresh relative to the planning runs)
PROBABILITY_COLUMNS = ["budget_yuan", "probability", "p_low", "p_high"]


# ----------------------------------------------------------------------------- sizing with confidence

def scaled_path(path, budget: float):
    """A budget path scaled to a mean of ``budget`` yuan/year (its shape kept), or None without a path."""
    if path is None:
        return None
    p = np.asarray(path, float)
    return (p * (float(budget) / p.mean())).tolist() if p.mean() > 0 else [float(budget)] * len(p)


@dataclass
class SizingResult:
    budget_yuan: float
    probability: float
    p_low: float
    p_high: float
    table: pd.DataFrame            # PROBABILITY_COLUMNS, one row per budget tried, by budget
    allocation: pd.DataFrame
    plan: PlanResult | None
    reached: bool
    notes: dict = field(default_factory=dict)


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import binomtest
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def replication_events(raw_list, n_counties: int, target: float, share: float, year_index: int = -1,
                       fields=None) -> np.ndarray:
    """Per replication: does at least ``share`` of counties reach ``target`` in every field with demand
    (``fields``: in every one of those fields with demand; the others do not count)?"""
    from simulator.metrics import RAW_INDEX
    import scenarios
    cols = [scenarios.FIELDS.index(f) for f in fields] if fields else slice(None)
    out = []
    for raw in raw_list:
        staff = raw[RAW_INDEX["staff"], :, year_index].reshape(n_counties, -1)[:, cols]
        dem = raw[RAW_INDEX["demand"], :, year_index].reshape(n_counties, -1)[:, cols]
        ok = np.where(dem > 0, staff >= target * dem - 1e-9, True).all(axis=1)
        out.append(ok.mean() >= share - 1e-12)
    return np.array(out, dtype=bool)


def simulator_event_fn(sc, table, years: int, target: float, share: float, workers: int = 1, fields=None):
    """``(allocation, seed, R) -> events[R]`` from the simulator (see :func:`replication_events`)."""
    import simulator

    def run(allocation, seed, R):
        res = simulator.simulate(sc, years=years, replications=R, seed=seed, workers=workers, table=table,
                                 allocation=allocation, county_metrics=("staff",), keep_records=True)
        return replication_events([r.raw for r in res.replication_records], len(table), target, share, fields=fields)

    return run


def size_budget_with_confidence(sc, target: float, confidence: float, *, share: float = 1.0, provinces=None,
                                replications: int = 20, seed: int = 0, years: int | None = None,
                                table: pd.DataFrame | None = None, workers: int = 1, rounds: int = 3,
                                plan_replications: int = 3, lo: float = 0.0, hi: float | None = None,
                                rel_tol: float = 0.01, criterion: str = "estimate", planner=None, event_fn=None,
                                max_doublings: int = 40, max_budget: float | None = None,
                                progress=None, fields=None, budget_path=None, payer_budget=None,
                                objective_year: str = "all") -> SizingResult:
    """The smallest yearly fund whose planned allocation reaches the target with probability >= ``confidence``.

    ``planner(budget) -> (allocation, PlanResult | None)`` (default: :func:`plan` with ``rounds`` and
    ``plan_replications``, objective ``equity`` when ``share`` is 1 -- the event needs every county, so the
    worst county comes first -- else ``shortfall``); ``event_fn(allocation, seed, R) -> bool[R]`` (default: the simulator,
    :func:`replication_events`).  See the module docstring for the event and the interval.

    ``max_budget`` bounds the search (yuan/year): the budget doubles up to it, and when even ``max_budget``
    does not reach the confidence the result has ``reached=False`` (the command line exits 3).

    As ``optimize``: ``fields`` restricts the event and the plans' objective to those fields (the others keep
    their status quo); ``budget_path`` (yuan per year) is the *shape* of the money over the years: a fund
    ``b`` is the path scaled to a mean of ``b`` yuan/year (the sized budget is that mean; ``notes`` give the
    sized path); ``payer_budget`` fixes payers' yuan/year in every plan; ``objective_year`` (with a
    ``budget_path``) as ``plan``.  Without a path the plans use the single-period model at the end of the last
    year (``plan(..., at_target=True)``: the year of the event, as ``optimize``); the year-indexed one with the
    equity objective took longer than the solver's time limit for a province of 87 counties x 5 years under load.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence: must be between 0 and 1")
    if criterion not in ("estimate", "lower"):
        raise ValueError("criterion: 'estimate' or 'lower'")
    if planner is None or event_fn is None:
        import scenarios
        import simulator
        if years is not None and int(years) != sc.horizon.years:
            sc = scenarios.apply(sc, {"horizon.years": int(years)})
        tab = simulator.replicate.resolve_table(sc, provinces, table)
        if planner is None:
            import optimizer
            # the event needs every county (share 1): plan for the worst county first (equity), else the total
            objective = "equity" if share >= 1.0 else "shortfall"
            allocator = optimizer.Allocator.from_scenario(sc, objective=objective, marginals=False)

            def planner(b):
                pr = plan(sc, b, rounds=rounds, replications=plan_replications, seed=seed, table=tab, workers=workers,
                          allocator=allocator,
                          fields=fields, budget_path=scaled_path(budget_path, b), payer_budget=payer_budget,
                          objective_year=objective_year, at_target=True)
                return pr.allocation, pr
        if event_fn is None:
            event_fn = simulator_event_fn(sc, tab, int(sc.horizon.years), target, share, workers, fields=fields)
        if hi is None:   # start from the optimizer's deterministic smallest fund (doubling/bisection correct it),
            import optimizer   # planned against the simulated status quo as ``size-budget`` without --confidence
            from .world import planned_inputs
            try:
                inp, _ = planned_inputs(sc, tab, years=int(sc.horizon.years), fields=fields, payer_budget=payer_budget,
                                        replications=plan_replications, seed=seed, workers=workers)
                det = optimizer.size_budget(inp, target, share, marginals=False)
                hi = float(det.solution["budget_yuan"]) or None
            except Exception:  # noqa: BLE001 - infeasible target etc.: fall back to doubling from 1e6
                hi = None
    fresh = int(seed) + SIZING_SEED_OFFSET
    tried: dict[float, dict] = {}

    def evaluate(b):
        if b in tried:
            return tried[b]
        alloc, pr = planner(b)
        ev = np.asarray(event_fn(alloc, fresh, replications), dtype=bool)
        k, n = int(ev.sum()), len(ev)
        low, high = wilson(k, n)
        row = {"budget_yuan": float(b), "probability": k / n, "p_low": low, "p_high": high,
               "allocation": alloc, "plan": pr}
        row["ok"] = (row["probability"] if criterion == "estimate" else low) >= confidence
        tried[b] = row
        if progress:
            progress(row)
        return row

    def done(row, reached):
        table_ = pd.DataFrame([{k: r[k] for k in PROBABILITY_COLUMNS} for r in tried.values()])
        table_ = table_.sort_values("budget_yuan").reset_index(drop=True)
        return SizingResult(row["budget_yuan"], row["probability"], row["p_low"], row["p_high"], table_,
                            row["allocation"], row["plan"], reached,
                            {"event": f"at least {share:.0%} of counties reach coverage {target:g} in "
                                      + (", ".join(fields) if fields else "every field with demand")
                                      + " at the end of the last simulated year",
                             "replications": replications, "seed": fresh, "criterion": criterion,
                             "interval": "Wilson 95%", "rel_tol": rel_tol, "fields": list(fields) if fields else None,
                             "budget_path_yuan": scaled_path(budget_path, row["budget_yuan"])})

    r_lo = evaluate(float(lo))
    if r_lo["ok"]:
        return done(r_lo, True)
    h = float(hi) if hi is not None else max(1e6, 2 * float(lo))
    if max_budget is not None:
        h = min(h, float(max_budget))
    r_hi = evaluate(h)
    n = 0
    while not r_hi["ok"]:
        n += 1
        if n > max_doublings or (max_budget is not None and h >= max_budget):
            return done(r_hi, False)
        lo, h = h, h * 2 if max_budget is None else min(h * 2, float(max_budget))
        r_hi = evaluate(h)
    lo = float(lo)
    while (h - lo) > rel_tol * h:
        mid = 0.5 * (lo + h)
        if evaluate(mid)["ok"]:
            h = mid
        else:
            lo = mid
    return done(tried[h], True)


__all__ = ["size_budget_with_confidence", "SizingResult", "replication_events", "simulator_event_fn", "wilson",
           "PROBABILITY_COLUMNS", "SIZING_SEED_OFFSET", "scaled_path"]
