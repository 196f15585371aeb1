"""The simulate-then-optimize loop (``grassroots plan``) and fund sizing with a stated confidence.

This is the only module where the two engines meet: :mod:`optimizer` allocates
with lever effects, :mod:`simulator` runs an allocation (``simulate(...,
allocation=df)``); neither imports the other.

Effects and their re-estimation
-------------------------------
The optimizer's effects are analytic (``optimizer/inputs.py``: horizon-average
staff per lever unit, no crowding-out of ordinary recruitment).  The loop keeps
their *shape* and rescales them per province x field x lever kind by a factor
``simulated / analytic``, estimated by perturbation at the current allocation
``A`` with common random numbers (every run uses the same seed):

* ``special``: +1 special post in every county x field with a special-post column;
* ``place``: +1 place in every county x field, of the programme whose column
  has the best analytic effect per yuan there;
* ``promotion``: +1 senior, intermediate or directed post (whichever has the
  best analytic effect per yuan) in every county x field;
* ``subsidy``: +``SUBSIDY_STEP`` yuan/month of township subsidy in every
  county (the factor also scales the hardship top-up, which acts the same way).

Gain = horizon-average staff (mean over the ends of years 1..H, the
optimizer's accounting) of the perturbed run minus that of ``A``, summed over
the province's counties of the field; analytic gain = the optimizer's effect
of the same perturbation (for the subsidy: the segment the county's current
level falls in).  Factor = simulated / analytic, clipped to
``[0, FACTOR_MAX]``; where the analytic gain is 0 the factor stays 1.
Estimates are noisy with few replications, so the factor used in round r+1
is the running mean of the estimates of rounds 1..r (``damping="mean"``;
``damping="last"`` uses the last estimate only).  ``baseline="simulated"``
replaces the optimizer's analytic status quo by the simulated one (the
horizon-average staff of a run without allocation); the default keeps the
optimizer's, so predicted and simulated coverage may differ by the two
status quos (the rounds table shows both coverages and both staff gains).  The per-unit results are reported as ``effects`` rows
(``per_unit_*``: staff per post, per place, per yuan/month per person).

The loop (:func:`plan`)
-----------------------
round r: optimize with the current effects -> simulate the allocation with R
replications -> predicted (optimizer) vs simulated coverage (sum of
horizon-average staff / sum of demand) -> re-estimate the factors at this
allocation -> stop when the allocation changed by less than ``tol`` (relative
L1 on quantities: ``sum |q_r - q_{r-1}| / sum |q_{r-1}|`` over county x field x
lever rows) or after ``rounds`` rounds.  The simulate and estimate steps are
injectable (``staff_fn``): a function ``allocation -> horizon-average staff per
optimizer pair`` (tests use a closed-form stub).

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

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

SUBSIDY_STEP = 300.0         # yuan/month per person added in the subsidy perturbation
FACTOR_MAX = 5.0             # effect factors are clipped to [0, FACTOR_MAX]
SIZING_SEED_OFFSET = 100_003  # sizing replications use seed + this (fresh relative to the planning runs)
ALLOC_COLUMNS = ["county_id", "province", "field", "lever", "quantity", "cost_yuan"]
ROUND_COLUMNS = ["round", "predicted_coverage", "simulated_coverage", "predicted_staff_gain", "simulated_staff_gain",
                 "budget_used_yuan", "allocation_change", "factor_special", "factor_place", "factor_promotion", "factor_subsidy"]
PROBABILITY_COLUMNS = ["budget_yuan", "probability", "p_low", "p_high"]
KINDS = ("special", "place", "promotion", "subsidy")


def lever_kind(lever: str) -> str | None:
    if lever == "special_post":
        return "special"
    if lever.startswith("place_"):
        return "place"
    if lever in ("township_subsidy", "hardship_topup"):
        return "subsidy"
    if lever in ("senior_post", "intermediate_post", "directed_senior_post"):
        return "promotion"
    return None


# ----------------------------------------------------------------------------- effects

def scaled_inputs(inputs, factors: pd.DataFrame | None):
    """``inputs`` with each effect entry multiplied by its (province, field, kind) factor."""
    if factors is None or factors.empty:
        return inputs
    E = inputs.effect.tocoo()
    look = {(str(r.province), str(r.field), r.kind): float(r.factor) for r in factors.itertuples(index=False)}
    kinds = np.array([lever_kind(lv) for lv in inputs.col_lever], dtype=object)
    f = np.array([look.get((str(inputs.province[k]), str(inputs.field[k]), kinds[j]), 1.0)
                  for k, j in zip(E.row, E.col)], dtype=float)
    return inputs.with_effects(sp.csc_matrix((E.data * f, (E.row, E.col)), shape=E.shape))


def _pair_index(inputs) -> dict:
    return {(str(c), str(f)): k for k, (c, f) in enumerate(zip(inputs.county_id, inputs.field))}


def _columns_by(inputs, lever_pred) -> dict:
    """{key: [columns]} for columns whose lever satisfies ``lever_pred`` (key = col_key), in column order."""
    out: dict[str, list[int]] = {}
    for j, (lv, key) in enumerate(zip(inputs.col_lever, inputs.col_key)):
        if lever_pred(lv):
            out.setdefault(str(key), []).append(j)
    return out


def _county_subsidy(allocation: pd.DataFrame) -> dict:
    """Township staff's total top-up per county (township_subsidy + hardship_topup, as the optimizer counts it)."""
    tot: dict[str, float] = {}
    for lever in ("township_subsidy", "hardship_topup"):
        rows = allocation[allocation["lever"] == lever]
        for c, q in rows.groupby("county_id")["quantity"].max().items():
            tot[str(c)] = tot.get(str(c), 0.0) + float(q)
    return tot


def perturbations(inputs, allocation: pd.DataFrame) -> dict[str, tuple]:
    """Per kind: (perturbed allocation, analytic staff gain per pair, units added per (province, field))."""
    K = inputs.n_pairs
    E = inputs.effect.tocsc()
    base = allocation[ALLOC_COLUMNS].copy()
    out = {}
    # special posts and places: one unit per pair
    for kind in ("special", "place", "promotion"):
        cols = _columns_by(inputs, lambda lv, kind=kind: lever_kind(lv) == kind)
        rows, gain = [], np.zeros(K)
        for key, js in cols.items():
            eff = np.array([E[:, j].sum() for j in js])
            per_yuan = eff / np.maximum(inputs.col_cost[js], 1e-9)
            j = js[int(np.argmax(per_yuan))]
            k = int(E[:, j].nonzero()[0][0]) if E[:, j].nnz else None
            if k is None or eff.max() <= 0:
                continue
            gain[k] += float(E[k, j])
            rows.append({"county_id": str(inputs.county_id[k]), "province": str(inputs.province[k]),
                         "field": str(inputs.field[k]), "lever": str(inputs.col_lever[j]), "quantity": 1.0, "cost_yuan": 0.0})
        if rows:
            add = pd.DataFrame(rows)
            out[kind] = (pd.concat([base, add], ignore_index=True), gain,
                         add.groupby(["province", "field"])["quantity"].sum())
    # township subsidy: +SUBSIDY_STEP per county, marginal segment of its current level
    cols = _columns_by(inputs, lambda lv: lv == "township_subsidy")
    level = _county_subsidy(allocation)
    rows, gain = [], np.zeros(K)
    pairs_of = {}
    for k, c in enumerate(inputs.county_id):
        pairs_of.setdefault(str(c), []).append(k)
    for key, js in cols.items():
        c = str(inputs.col_county[js[0]])
        s = level.get(c, 0.0)
        cum, seg = 0.0, None
        for j in js:
            cum += float(inputs.col_upper[j]) if math.isfinite(inputs.col_upper[j]) else math.inf
            if s < cum - 1e-9:
                seg = j
                break
        if seg is None:
            continue
        col = E[:, seg].toarray().ravel()
        gain += SUBSIDY_STEP * col
        for k in pairs_of[c]:
            rows.append({"county_id": c, "province": str(inputs.province[k]), "field": str(inputs.field[k]),
                         "lever": "township_subsidy", "quantity": SUBSIDY_STEP, "cost_yuan": 0.0})
    if rows:
        add = pd.DataFrame(rows)
        units = add.groupby(["province", "field"])["quantity"].sum()
        # township_subsidy rows of a county are the same amount on every field: add the step to it
        cur = base[base["lever"] == "township_subsidy"].groupby("county_id")["quantity"].max()
        add["quantity"] = add["quantity"] + add["county_id"].map(cur).fillna(0.0)
        kept = base[~((base["lever"] == "township_subsidy") & base["county_id"].isin(set(add["county_id"])))]
        out["subsidy"] = (pd.concat([kept, add], ignore_index=True), gain, units)
    return out


def estimate_effects(inputs, allocation: pd.DataFrame, staff_fn: Callable[[pd.DataFrame], np.ndarray],
                     base_staff: np.ndarray | None = None) -> pd.DataFrame:
    """Effect factors per province x field x kind at ``allocation`` (see the module docstring).

    ``inputs``: the optimizer's analytic inputs; ``staff_fn(allocation)``: horizon-average staff per
    pair (same seed every call: common random numbers).  Columns: province, field, kind, units
    (perturbation units), analytic_gain, simulated_gain, per_unit_analytic, per_unit_simulated, factor.
    """
    if base_staff is None:
        base_staff = staff_fn(allocation)
    prov = np.asarray(inputs.province).astype(str)
    fld = np.asarray(inputs.field).astype(str)
    rows = []
    for kind, (alloc_k, gain_a, units) in perturbations(inputs, allocation).items():
        gain_s = staff_fn(alloc_k) - base_staff
        df = pd.DataFrame({"province": prov, "field": fld, "a": gain_a, "s": gain_s}).groupby(["province", "field"]).sum()
        for (p, f), r in df.iterrows():
            if r["a"] <= 0:
                continue
            u = float(units.get((p, f), 0.0)) or 1.0
            factor = float(np.clip(r["s"] / r["a"], 0.0, FACTOR_MAX))
            rows.append({"province": p, "field": f, "kind": kind, "units": u, "analytic_gain": float(r["a"]),
                         "simulated_gain": float(r["s"]), "per_unit_analytic": float(r["a"]) / u,
                         "per_unit_simulated": float(r["s"]) / u, "factor": factor})
    return pd.DataFrame(rows, columns=["province", "field", "kind", "units", "analytic_gain", "simulated_gain",
                                       "per_unit_analytic", "per_unit_simulated", "factor"])


def simulator_staff_fn(sc, table: pd.DataFrame, inputs, years: int, replications: int, seed: int, workers: int = 1,
                       keep: dict | None = None) -> Callable[[pd.DataFrame], np.ndarray]:
    """``allocation -> horizon-average staff per optimizer pair`` from the simulator (fixed seed: CRN).

    With ``keep`` (a dict), the last SimulationResult is stored under ``keep["result"]``.
    """
    import simulator
    order = pd.MultiIndex.from_arrays([np.asarray(inputs.county_id).astype(str), np.asarray(inputs.field).astype(str)])

    def run(allocation: pd.DataFrame | None) -> np.ndarray:
        res = simulator.simulate(sc, years=years, replications=replications, seed=seed, workers=workers, table=table,
                                 allocation=allocation, county_metrics=("staff",))
        if keep is not None:
            keep["result"] = res
        c = res.counties
        first = res.years[0]
        c = c[(c["metric"] == "staff") & (c["year"] > first)]
        avg = c.groupby([c["county_id"].astype(str), c["field"].astype(str)], observed=True)["mean"].mean()
        return avg.reindex(order).fillna(0.0).to_numpy(float)

    return run


# ----------------------------------------------------------------------------- the loop

@dataclass
class PlanResult:
    """What :func:`plan` returns: the last round's optimizer result and every round's record."""

    result: object                 # optimizer AllocationResult of the final allocation
    allocation: pd.DataFrame
    rounds: pd.DataFrame           # ROUND_COLUMNS
    effects: pd.DataFrame          # factors of every round (with a ``round`` column)
    converged: bool
    simulation: object = None      # SimulationResult of the final allocation (real simulator only)
    factors: pd.DataFrame | None = None


def allocation_change(new: pd.DataFrame, old: pd.DataFrame | None) -> float:
    """Relative L1 change of quantities over county x field x lever rows (inf without a previous one)."""
    if old is None:
        return math.inf
    key = ["county_id", "field", "lever"]
    a = new.groupby(key)["quantity"].sum()
    b = old.groupby(key)["quantity"].sum()
    idx = a.index.union(b.index)
    a, b = a.reindex(idx, fill_value=0.0), b.reindex(idx, fill_value=0.0)
    denom = float(b.abs().sum())
    diff = float((a - b).abs().sum())
    if denom == 0:
        return 0.0 if diff == 0 else math.inf
    return diff / denom


def _combine(history: list[pd.DataFrame], damping: str) -> pd.DataFrame:
    if damping == "last" or len(history) == 1:
        return history[-1]
    allf = pd.concat(history, ignore_index=True)
    return allf.groupby(["province", "field", "kind"], as_index=False)["factor"].mean()


def plan_inputs(inputs, allocator, staff_fn, rounds: int = 5, tol: float = 0.01, progress=None,
                damping: str = "mean", baseline: str = "optimizer") -> PlanResult:
    """The loop on prepared optimizer ``inputs`` with an injectable ``staff_fn`` (see the module docstring)."""
    if rounds < 1:
        raise ValueError("rounds: must be at least 1")
    D = np.asarray(inputs.demand, float)
    base0 = staff_fn(pd.DataFrame(columns=ALLOC_COLUMNS))       # the status quo, simulated
    if baseline == "simulated":   # the optimizer's status quo replaced by the simulated one (horizon average)
        from dataclasses import replace
        inputs = replace(inputs, baseline_staff=np.asarray(base0, dtype=float))
    elif baseline != "optimizer":
        raise ValueError("baseline: 'optimizer' or 'simulated'")
    factors = None
    if damping not in ("mean", "last"):
        raise ValueError("damping: 'mean' or 'last'")
    prev, rec, effs, res, conv, history = None, [], [], None, False, []
    for r in range(1, rounds + 1):
        cur = scaled_inputs(inputs, factors)
        res = allocator.solve(cur)
        alloc = res.allocation[ALLOC_COLUMNS].reset_index(drop=True)
        staff = staff_fn(alloc)
        tot = res.solution["totals"]
        change = allocation_change(alloc, prev)
        new = estimate_effects(inputs, alloc, staff_fn, base_staff=staff)
        fmean = new.groupby("kind")["factor"].mean() if len(new) else pd.Series(dtype=float)
        row = {"round": r, "predicted_coverage": tot["coverage_after"],
               "simulated_coverage": float(staff.sum() / D.sum()) if D.sum() > 0 else None,
               "predicted_staff_gain": float(tot["staff_gain"]), "simulated_staff_gain": float((staff - base0).sum()),
               "budget_used_yuan": float(res.solution["budget_used_yuan"]), "allocation_change": change,
               **{f"factor_{k}": float(fmean.get(k, np.nan)) for k in KINDS}}
        rec.append(row)
        effs.append(new.assign(round=r))
        if progress:
            progress(row)
        if change < tol:
            conv = True
            break
        history.append(new)
        prev, factors = alloc, _combine(history, damping)
    return PlanResult(result=res, allocation=res.allocation[ALLOC_COLUMNS].reset_index(drop=True),
                      rounds=pd.DataFrame(rec, columns=ROUND_COLUMNS),
                      effects=pd.concat(effs, ignore_index=True) if effs else pd.DataFrame(), converged=conv,
                      factors=factors)


def plan(sc, budget: float | None = None, provinces=None, rounds: int = 5, replications: int = 3, seed: int = 0,
         tol: float = 0.01, *, years: int | None = None, table: pd.DataFrame | None = None, workers: int = 1,
         allocator=None, staff_fn=None, progress=None, damping: str = "mean", baseline: str = "optimizer") -> PlanResult:
    """Simulate-then-optimize on the scenario's counties (``provinces``) with a yearly fund ``budget``.

    ``years`` sets the planning horizon of both engines (default ``horizon.years``).  The final
    allocation is simulated with ``replications`` replications (``PlanResult.simulation``).
    """
    import optimizer
    import scenarios
    import simulator
    if years is not None and int(years) != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": int(years)})
    H = int(sc.horizon.years)
    tab = simulator.replicate.resolve_table(sc, provinces, table)
    inputs = optimizer.from_scenario(sc, table=tab, budget_yuan=budget)
    if allocator is None:
        allocator = optimizer.Allocator.from_scenario(sc, objective="shortfall", marginals=False)
    keep: dict = {}
    if staff_fn is None:
        staff_fn = simulator_staff_fn(sc, tab, inputs, H, replications, seed, workers, keep=keep)
    out = plan_inputs(inputs, allocator, staff_fn, rounds=rounds, tol=tol, progress=progress, damping=damping,
                      baseline=baseline)
    if keep:
        out.simulation = simulator.simulate(sc, years=H, replications=replications, seed=seed, workers=workers,
                                            table=tab, allocation=out.allocation)
    return out


# ----------------------------------------------------------------------------- sizing with confidence

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


def replication_events(raw_list, n_counties: int, target: float, share: float, year_index: int = -1) -> np.ndarray:
    """Per replication: does at least ``share`` of counties reach ``target`` in every field with demand?"""
    from simulator.metrics import RAW_INDEX
    out = []
    for raw in raw_list:
        staff = raw[RAW_INDEX["staff"], :, year_index].reshape(n_counties, -1)
        dem = raw[RAW_INDEX["demand"], :, year_index].reshape(n_counties, -1)
        ok = np.where(dem > 0, staff >= target * dem - 1e-9, True).all(axis=1)
        out.append(ok.mean() >= share - 1e-12)
    return np.array(out, dtype=bool)


def simulator_event_fn(sc, table, years: int, target: float, share: float, workers: int = 1):
    """``(allocation, seed, R) -> events[R]`` from the simulator (see :func:`replication_events`)."""
    import simulator

    def run(allocation, seed, R):
        res = simulator.simulate(sc, years=years, replications=R, seed=seed, workers=workers, table=table,
                                 allocation=allocation, county_metrics=("staff",), keep_records=True)
        return replication_events([r.raw for r in res.replication_records], len(table), target, share)

    return run


def size_budget_with_confidence(sc, target: float, confidence: float, *, share: float = 1.0, provinces=None,
                                replications: int = 20, seed: int = 0, years: int | None = None,
                                table: pd.DataFrame | None = None, workers: int = 1, rounds: int = 3,
                                plan_replications: int = 3, lo: float = 0.0, hi: float | None = None,
                                rel_tol: float = 0.01, criterion: str = "estimate", planner=None, event_fn=None,
                                max_doublings: int = 40, progress=None) -> SizingResult:
    """The smallest yearly fund whose planned allocation reaches the target with probability >= ``confidence``.

    ``planner(budget) -> (allocation, PlanResult | None)`` (default: :func:`plan` with ``rounds`` and
    ``plan_replications``); ``event_fn(allocation, seed, R) -> bool[R]`` (default: the simulator,
    :func:`replication_events`).  See the module docstring for the event and the interval.
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
            def planner(b):
                pr = plan(sc, b, rounds=rounds, replications=plan_replications, seed=seed, table=tab, workers=workers)
                return pr.allocation, pr
        if event_fn is None:
            event_fn = simulator_event_fn(sc, tab, int(sc.horizon.years), target, share, workers)
        if hi is None:   # start from the optimizer's deterministic smallest fund (doubling/bisection correct it)
            import optimizer
            try:
                det = optimizer.size_budget(optimizer.from_scenario(sc, table=tab), target, share, marginals=False)
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
                            {"event": f"at least {share:.0%} of counties reach coverage {target:g} in every field "
                                      "with demand at the end of the last simulated year",
                             "replications": replications, "seed": fresh, "criterion": criterion,
                             "interval": "Wilson 95%", "rel_tol": rel_tol})

    r_lo = evaluate(float(lo))
    if r_lo["ok"]:
        return done(r_lo, True)
    h = float(hi) if hi is not None else max(1e6, 2 * float(lo))
    r_hi = evaluate(h)
    n = 0
    while not r_hi["ok"]:
        n += 1
        if n > max_doublings:
            return done(r_hi, False)
        lo, h = h, h * 2
        r_hi = evaluate(h)
    lo = float(lo)
    while (h - lo) > rel_tol * h:
        mid = 0.5 * (lo + h)
        if evaluate(mid)["ok"]:
            h = mid
        else:
            lo = mid
    return done(tried[h], True)


__all__ = ["plan", "plan_inputs", "PlanResult", "estimate_effects", "scaled_inputs", "simulator_staff_fn",
           "allocation_change", "size_budget_with_confidence", "SizingResult", "replication_events", "wilson",
           "ROUND_COLUMNS", "PROBABILITY_COLUMNS"]
