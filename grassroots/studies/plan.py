"""The simulate-then-optimize loop (``grassroots plan``) and fund sizing with a stated confidence.

This is the only module where the two engines meet: :mod:`optimizer` allocates
with lever effects, :mod:`simulator` runs an allocation (``simulate(...,
allocation=df)``); neither imports the other.  Everything here uses the
optimizer's public inputs (:class:`optimizer.AllocationInputs`: effects,
status quo, column bounds, groups) and the simulator's ``simulate``.

What is measured
----------------
``staff_fn(allocation)`` = horizon-average staff per optimizer pair (county x
field; mean over the ends of years 1..H, the optimizer's accounting) from the
simulator with R replications and a *fixed* seed, so every allocation the loop
evaluates sees the same random numbers (common random numbers).  The loop
minimises the optimizer's own objective measured on these staff numbers
(:func:`merit`): the priority-weighted shortfall ``sum_k w_k max(0, D_k - S_k)``
(``--objective equity``: the largest shortfall ratio).

Effects and their estimation
----------------------------
The optimizer's effects are analytic (``optimizer/inputs.py``: staff per lever
unit, no crowding-out of ordinary recruitment).  The loop keeps their *shape*
and rescales them per county x field x lever kind by a factor
``simulated / analytic`` estimated by perturbation at the current allocation
``A`` (common random numbers: the perturbed run minus the run of ``A``):

* ``special``: +1 special post in every county x field with a special-post column;
* ``place``: +1 place in every county x field, of the programme whose column
  has the best analytic effect per yuan there;
* ``promotion``: +1 senior, intermediate or directed post (whichever has the
  best analytic effect per yuan) in every county x field;
* ``subsidy``: +``SUBSIDY_STEP`` yuan/month of township subsidy in every county;
* ``subsidy_down``: -``SUBSIDY_STEP`` yuan/month where the county has that much
  (through its township row, else through its hardship top-up).  Subsidy
  segments the allocation uses (``x_j > 0``) take this factor, unused ones the
  ``subsidy`` factor: the simulated response to a subsidy is more concave than
  the analytic one, so a cut and a rise have different slopes.

The analytic gain of a subsidy move is the overlap of the moved interval with
each segment times its slope.  Per province x field, ``F = sum simulated / sum
analytic``; each pair's factor is its own ratio shrunk towards ``F``:
``(s + prior x F) / (a + prior)`` (``a``, ``s`` = the pair's analytic and
simulated gain in persons, ``prior`` = :data:`PRIOR_PERSONS` persons; a pair's
own response differs from its province's, e.g. where the pair is at its post
ceiling ordinary recruitment does not refill the exits a subsidy avoids).  All
factors are clipped to ``[0, FACTOR_MAX]``; where no perturbation moves a pair
analytically the factor is 1.  ``damping="mean"`` averages the factors over the
allocations visited instead of using the current one (``"last"``, default).

The model at an allocation
--------------------------
At allocation ``x`` (lever columns) with simulated staff ``S(x)`` the optimizer
is given ``staff(y) = S(x) + E_F (y - x)``: the effects ``E_F`` as above and the
status quo ``S(x) - E_F x`` (:func:`linearized_inputs`).  The model is exact at
``x``, so the predicted and the simulated coverage are comparable: in round 0
the loop starts from the *simulated* status quo (the optimizer's analytic one
counts one year of unreplaced exits while the simulator also recruits; round 0
of the rounds table shows both).  With a demand trend
(``demand.growth_per_year``) both sides use the horizon-average demand (the
optimizer's :func:`optimizer.inputs.demand_trend`).

The loop (:func:`plan`): sequential linear programming with a trust region
--------------------------------------------------------------------------
Round 0 simulates the status quo, estimates the effects there and solves the
LP: the *proposal*.  Round r (r = 1..``rounds``):

1. step = the proposal if it moves at most the trust radius ``rho`` (a share
   of the current allocation's money; ``inf`` at first), else the LP solved
   inside the L1 trust region ``sum_j c_j |y_j - x_j| <= rho x max(money(x),
   budget)`` (:func:`trust_region_inputs`; ``c_j`` = yuan/year per unit);
2. simulate the step; ``ratio`` = simulated reduction of the objective /
   predicted reduction;
3. accept the step if ``ratio >= TR_ACCEPT`` (else the allocation stays);
   ``rho`` becomes ``TR_SHRINK_HARD`` (ratio < 0) or ``TR_SHRINK`` (ratio <
   ``TR_SHRINK_BELOW``) times the step's size, or doubles (ratio >
   ``TR_EXPAND_ABOVE`` with the step on the boundary);
4. after an accepted step, re-estimate the effects at the new allocation,
   re-linearise and re-solve: the next proposal.

Why: the LP jumps between vertices, including near-equivalent ones, and it
exploits every error of the effect model (moving money away from pairs the
model thinks have a surplus, up to the kink of the shortfall).  Only steps the
simulator confirms are taken, and their size adapts to how far the model is
right, as in sequential linear programming with trust regions.

The *allocation change* is the share of money moved,
``sum_j c_j |y_j - x_j| / max(sum_j c_j x_j, budget)`` (:func:`money_change`;
:func:`allocation_change` on allocation tables).  The loop stops, and the last
round's ``stop`` says which and why, when

* **converged (fixed point)**: the proposal with the effects re-estimated at
  the current allocation moves less than ``tol`` of the money, or it predicts
  a gain of at most ``tol`` x the gain over the status quo (an equivalent
  optimum: the current allocation is kept rather than jumping to it);
* **converged (trust region)**: ``rho < tol`` -- the simulator confirmed no step
  of the size tried, so the next step could move less than ``tol`` of the
  money (the usual trust-region termination; the stop text also gives the
  gain the model still predicts, which the simulator did not deliver);
* **not converged**: ``rounds`` rounds are done (the stop text gives the
  remaining proposal and radius).

Rounds table (:data:`ROUND_COLUMNS`, ``rounds.csv``): per round the step
(accepted / rejected), predicted and simulated coverage (sum of horizon-average
staff / sum of demand) and staff gain over the simulated status quo, predicted
and simulated reduction of the objective and their ratio, budget used,
allocation change, the trust radius used, the next proposal's change and
predicted gain (``remaining_gain``), the objective at the current allocation,
the mean province factor per lever kind, and the stop reason.  The simulate
step is injectable (``staff_fn``: ``allocation -> horizon-average staff per
optimizer pair``; tests use closed-form stubs).

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

DEFAULT_ROUNDS = 10          # optimize-simulate rounds at most (``grassroots plan --rounds``)
DEFAULT_TOLERANCE = 0.01     # stop when a step would move less than this share of the money
SUBSIDY_STEP = 300.0         # yuan/month per person added in the subsidy perturbation
FACTOR_MAX = 5.0             # effect factors are clipped to [0, FACTOR_MAX]
PRIOR_PERSONS = 2.0          # a pair's own factor is shrunk to its province's with this much analytic gain (persons)
SIZING_SEED_OFFSET = 100_003  # sizing replications use seed + this (fresh relative to the planning runs)
ALLOC_COLUMNS = ["county_id", "province", "field", "lever", "quantity", "cost_yuan"]
ROUND_COLUMNS = ["round", "step", "predicted_coverage", "simulated_coverage", "predicted_staff_gain",
                 "simulated_staff_gain", "predicted_reduction", "simulated_reduction", "ratio", "budget_used_yuan",
                 "allocation_change", "trust_radius", "proposal_change", "remaining_gain", "objective",
                 "factor_special", "factor_place", "factor_promotion", "factor_subsidy", "factor_subsidy_down", "stop"]
PROBABILITY_COLUMNS = ["budget_yuan", "probability", "p_low", "p_high"]
KINDS = ("special", "place", "promotion", "subsidy", "subsidy_down")
TR_ACCEPT = 0.1          # a step is accepted when simulated / predicted reduction >= this
TR_SHRINK_BELOW = 0.25   # ratio below this (or a rejected step): radius = TR_SHRINK x the step's size
TR_SHRINK = 0.5
TR_SHRINK_HARD = 0.25    # ... and this when the simulated objective got worse (ratio < 0)
TR_EXPAND_ABOVE = 0.75   # ratio above this with the step on the trust-region boundary: radius x TR_EXPAND
TR_EXPAND = 2.0
TRUST_LEVER = "trust_region_move"   # auxiliary columns of the trust region (never in an allocation)


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

def scaled_inputs(inputs, factors: pd.DataFrame | None, x: np.ndarray | None = None):
    """``inputs`` with each effect entry (pair k, column j) multiplied by the factor of (k, kind of j).

    ``factors``: rows ``province, field, kind, factor`` and optionally ``county_id`` (pair-level
    factors, as :func:`estimate_effects` gives them; a pair without its own row takes the province x
    field factor, its ``province_factor`` column or the mean of the province's pairs).  With the current
    allocation ``x`` (lever columns), subsidy segments already in use (``x_j > 0``) take the
    ``subsidy_down`` factor where one was estimated (their slope is the response to a cut), the
    others the ``subsidy`` factor (the response to a rise).
    """
    if factors is None or factors.empty:
        return inputs
    E = inputs.effect.tocoo()
    fac = factors.copy()
    pf = "province_factor" if "province_factor" in fac.columns else "factor"
    prov_look = fac.groupby(["province", "field", "kind"])[pf].mean().to_dict()
    pair_look = ({} if "county_id" not in fac.columns else
                 {(str(r.county_id), str(r.field), r.kind): float(r.factor) for r in fac.itertuples(index=False)
                  if isinstance(r.county_id, str) and r.county_id})
    prov_look = {(str(p), str(f), k): float(v) for (p, f, k), v in prov_look.items()}
    kinds = np.array([lever_kind(lv) for lv in inputs.col_lever], dtype=object)
    if x is not None:
        used = (np.asarray(x, float) > 1e-9) & (kinds == "subsidy")
        kinds = np.where(used, "subsidy_down", kinds)
    cid = np.asarray(inputs.county_id).astype(str)
    prov, fld = np.asarray(inputs.province).astype(str), np.asarray(inputs.field).astype(str)

    def factor(k, kind):
        for kd in ((kind, "subsidy") if kind == "subsidy_down" else (kind,)):
            v = pair_look.get((cid[k], fld[k], kd))
            if v is None:
                v = prov_look.get((prov[k], fld[k], kd))
            if v is not None:
                return v
        return 1.0

    cache: dict = {}
    f = np.empty(len(E.data))
    for i, (k, j) in enumerate(zip(E.row, E.col)):
        key = (k, kinds[j])
        if key not in cache:
            cache[key] = factor(k, kinds[j])
        f[i] = cache[key]
    return inputs.with_effects(sp.csc_matrix((E.data * f, (E.row, E.col)), shape=E.shape))


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
    """Per kind (``special``, ``place``, ``promotion``, ``subsidy``, ``subsidy_down``; see the module
    docstring): (perturbed allocation, analytic staff gain per pair, units moved per (province, field))."""
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
    # subsidies: the township staff's level T (township_subsidy + hardship_topup rows) raised by SUBSIDY_STEP
    # through the township row ("subsidy"), and cut by SUBSIDY_STEP ("subsidy_down") through the township row
    # where it holds that much, else through the hardship top-up H (which also cuts the county-seat staff's);
    # analytic gain = the overlap of the moved interval with each segment x the segment's slope
    twp = {str(inputs.col_county[js[0]]): js for js in _columns_by(inputs, lambda lv: lv == "township_subsidy").values()}
    hrd = {str(inputs.col_county[js[0]]): js for js in _columns_by(inputs, lambda lv: lv == "hardship_topup").values()}
    level = _county_subsidy(allocation)
    cid = base["county_id"].astype(str)
    net = base[base["lever"] == "township_subsidy"].groupby(cid)["quantity"].max()
    top = base[base["lever"] == "hardship_topup"].groupby(cid)["quantity"].max()
    pairs_of: dict[str, list[int]] = {}
    for k, c in enumerate(inputs.county_id):
        pairs_of.setdefault(str(c), []).append(k)

    def seg_gain(js, lo_, hi_):
        """(analytic gain per pair of moving a county-wide level from lo_ to hi_ > lo_, width covered)."""
        g, cum, covered = np.zeros(K), 0.0, 0.0
        for j in js:
            w = float(inputs.col_upper[j]) if math.isfinite(inputs.col_upper[j]) else math.inf
            ov = max(0.0, min(cum + w, hi_) - max(cum, lo_))
            if ov > 0:
                g += ov * E[:, j].toarray().ravel()
                covered += ov
            cum += w
        return g, covered

    for kind in ("subsidy", "subsidy_down"):
        rows, gain, moved = [], np.zeros(K), set()
        for c, js in twp.items():
            T, n, h = level.get(c, 0.0), float(net.get(c, 0.0)), float(top.get(c, 0.0))
            if kind == "subsidy":
                g, cov = seg_gain(js, T, T + SUBSIDY_STEP)
                if cov < SUBSIDY_STEP - 1e-6:      # beyond the last segment: no analytic counterpart
                    continue
                lever, q = "township_subsidy", n + SUBSIDY_STEP
            elif n >= SUBSIDY_STEP - 1e-9:
                g, _ = seg_gain(js, T - SUBSIDY_STEP, T)
                g, lever, q = -g, "township_subsidy", n - SUBSIDY_STEP
            elif h >= SUBSIDY_STEP - 1e-9 and c in hrd:
                g1, _ = seg_gain(js, T - SUBSIDY_STEP, T)
                g2, _ = seg_gain(hrd[c], h - SUBSIDY_STEP, h)
                g, lever, q = -(g1 + g2), "hardship_topup", h - SUBSIDY_STEP
            else:
                continue
            gain += g
            moved.add((c, lever))
            for k in pairs_of[c]:
                rows.append({"county_id": c, "province": str(inputs.province[k]), "field": str(inputs.field[k]),
                             "lever": lever, "quantity": q, "cost_yuan": 0.0})
        if rows:
            add = pd.DataFrame(rows)
            units = add.groupby(["province", "field"])["quantity"].size() * SUBSIDY_STEP
            drop = pd.Series(list(zip(cid, base["lever"])), index=base.index).isin(moved)
            out[kind] = (pd.concat([base[~drop], add[add["quantity"] > 0]], ignore_index=True), gain, units)
    return out


EFFECT_COLUMNS = ["county_id", "province", "field", "kind", "units", "analytic_gain", "simulated_gain",
                  "province_factor", "factor"]


def estimate_effects(inputs, allocation: pd.DataFrame, staff_fn: Callable[[pd.DataFrame], np.ndarray],
                     base_staff: np.ndarray | None = None, prior: float | None = None) -> pd.DataFrame:
    """Effect factors per county x field x kind at ``allocation`` (see the module docstring).

    ``inputs``: the optimizer's analytic inputs; ``staff_fn(allocation)``: horizon-average staff per
    pair (same seed every call: common random numbers).  One row per pair and kind that the
    perturbation moved analytically (columns :data:`EFFECT_COLUMNS`): ``units`` (perturbation units of
    the pair), ``analytic_gain`` and ``simulated_gain`` (persons, negative for ``subsidy_down``),
    ``province_factor`` = sum simulated / sum analytic over the province's counties of the field,
    ``factor`` = the pair's own ratio shrunk towards it: ``(s + prior x F) / (a + prior)`` with
    ``a``, ``s`` taken positive (``prior`` persons of analytic gain, default :data:`PRIOR_PERSONS`).
    Factors are clipped to ``[0, FACTOR_MAX]``.  :func:`effect_summary` gives the province table.
    """
    nu = PRIOR_PERSONS if prior is None else float(prior)
    if base_staff is None:
        base_staff = staff_fn(allocation)
    cid = np.asarray(inputs.county_id).astype(str)
    prov = np.asarray(inputs.province).astype(str)
    fld = np.asarray(inputs.field).astype(str)
    parts = []
    for kind, (alloc_k, gain_a, units) in perturbations(inputs, allocation).items():
        gain_s = np.asarray(staff_fn(alloc_k), float) - base_staff
        df = pd.DataFrame({"county_id": cid, "province": prov, "field": fld, "kind": kind,
                           "analytic_gain": gain_a, "simulated_gain": gain_s})
        df = df[np.abs(df["analytic_gain"]) > 1e-12].copy()
        if df.empty:
            continue
        n_pairs = df.groupby(["province", "field"])["county_id"].transform("size").to_numpy(float)
        tot_units = np.array([float(units.get((p, f), 0.0)) for p, f in zip(df["province"], df["field"])])
        df["units"] = np.where(n_pairs > 0, tot_units / n_pairs, 0.0)
        sums = df.groupby(["province", "field"])[["analytic_gain", "simulated_gain"]].transform("sum")
        F = np.clip(sums["simulated_gain"] / sums["analytic_gain"], 0.0, FACTOR_MAX)
        sign = np.sign(df["analytic_gain"])
        a, s_ = df["analytic_gain"] * sign, df["simulated_gain"] * sign
        df["province_factor"] = F
        df["factor"] = np.clip((s_ + nu * F) / (a + nu), 0.0, FACTOR_MAX) if math.isfinite(nu) else F
        parts.append(df[EFFECT_COLUMNS])
    if not parts:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def effect_summary(effects: pd.DataFrame) -> pd.DataFrame:
    """Province x field x kind (x round) table of pair-level ``effects``: units, analytic and simulated
    gain, per unit (persons per post, per place, per yuan/month per person) and the province factor."""
    keys = ["province", "field", "kind"] + (["round"] if "round" in effects.columns else [])
    if effects.empty:
        return pd.DataFrame(columns=keys + ["units", "analytic_gain", "simulated_gain", "per_unit_analytic",
                                           "per_unit_simulated", "factor"])
    g = effects.groupby(keys, as_index=False).agg(units=("units", "sum"), analytic_gain=("analytic_gain", "sum"),
                                                  simulated_gain=("simulated_gain", "sum"),
                                                  factor=("province_factor", "first"))
    u = g["units"].where(g["units"] > 0, 1.0)
    g["per_unit_analytic"] = g["analytic_gain"] / u
    g["per_unit_simulated"] = g["simulated_gain"] / u
    return g[keys + ["units", "analytic_gain", "simulated_gain", "per_unit_analytic", "per_unit_simulated", "factor"]]


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
    """What :func:`plan` returns: the final allocation, its optimizer result and every round's record."""

    result: object                 # optimizer AllocationResult that produced the final allocation
    allocation: pd.DataFrame
    rounds: pd.DataFrame           # ROUND_COLUMNS (round 0 = the status quo)
    effects: pd.DataFrame          # factors of every estimate (with a ``round`` column)
    converged: bool
    simulation: object = None      # SimulationResult of the final allocation (real simulator only)
    factors: pd.DataFrame | None = None
    stop_reason: str = ""
    x: np.ndarray | None = None    # the final allocation as optimizer lever columns
    status: str = ""               # "converged" (fixed point), "trust region" or "max rounds"


def allocation_change(new: pd.DataFrame, old: pd.DataFrame | None, budget: float = 0.0) -> float:
    """Share of money moved between two allocation tables: ``sum |q_new - q_old| x unit cost /
    max(sum cost_old, budget)`` (:func:`money_change` on tables).

    Rows are county x field x lever; the unit cost of a row is its ``cost_yuan / quantity`` (from
    whichever allocation has the row).  ``inf`` without a previous allocation, or when the old one
    spends nothing, ``budget`` is 0 and the new one spends something.
    """
    if old is None:
        return math.inf
    key = ["county_id", "field", "lever"]

    def agg(df):
        g = df.groupby(key)[["quantity", "cost_yuan"]].sum()
        return g["quantity"], g["cost_yuan"]

    qa, ca = agg(new)
    qb, cb = agg(old)
    idx = qa.index.union(qb.index)
    qa, ca, qb, cb = (s.reindex(idx, fill_value=0.0) for s in (qa, ca, qb, cb))
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(qb.abs() > 1e-12, cb / qb, np.where(qa.abs() > 1e-12, ca / qa, 0.0))
    moved = float((np.abs(qa - qb) * np.abs(unit)).sum())
    denom = max(float(cb.abs().sum()), float(budget))
    if denom <= 0:
        return 0.0 if moved <= 1e-9 else math.inf
    return moved / denom


def money_change(y: np.ndarray, x: np.ndarray, cost: np.ndarray, ref: float = 0.0) -> float:
    """:func:`allocation_change` on optimizer lever columns: ``sum_j c_j |y_j - x_j| / max(sum_j c_j x_j, ref)``
    (``ref``: the fund, so a step from the status quo that spends the whole fund counts as 1)."""
    moved = float(np.abs(cost) @ np.abs(np.asarray(y, float) - np.asarray(x, float)))
    denom = max(float(np.abs(cost) @ np.abs(np.asarray(x, float))), float(ref))
    if denom <= 0:
        return 0.0 if moved <= 1e-9 else math.inf
    return moved / denom


def merit(staff: np.ndarray, inputs, objective: str = "shortfall") -> float:
    """The quantity the loop minimises, measured on staff per pair (simulated or predicted).

    ``shortfall``: priority-weighted shortfall ``sum_k w_k max(0, demand_k - staff_k)`` (persons);
    ``equity``: the largest shortfall ratio ``max_k max(0, demand_k - staff_k) / demand_k``.
    """
    D = np.asarray(inputs.demand, float)
    u = np.maximum(0.0, D - np.asarray(staff, float))
    if objective == "equity":
        pos = D > 0
        return float(np.max(u[pos] / D[pos], initial=0.0))
    return float(np.asarray(inputs.weight, float) @ u)


def linearized_inputs(inputs, factors: pd.DataFrame | None, x: np.ndarray, staff_x: np.ndarray):
    """The optimizer's model linearised at allocation ``x``: staff(y) = staff_x + E_F (y - x).

    ``E_F`` = the analytic effects rescaled by ``factors`` (:func:`scaled_inputs`); the status quo of
    the model becomes ``staff_x - E_F x``, so the model reproduces the simulated staff at ``x`` exactly.
    """
    from dataclasses import replace
    x = np.asarray(x, float)
    cur = scaled_inputs(inputs, factors, x)
    base = np.asarray(staff_x, float) - (cur.effect @ x if len(x) else 0.0)
    return replace(cur, baseline_staff=np.asarray(base, float))


def trust_region_inputs(inputs, x: np.ndarray, radius_yuan: float):
    """``inputs`` with the trust region ``sum_j cost_j |y_j - x_j| <= radius_yuan`` (yuan/year moved).

    The L1 ball is written with one auxiliary column ``t_j >= |y_j - x_j|`` per costed lever column
    (lever :data:`TRUST_LEVER`: no cost, no effect; rows ``y_j - t_j <= x_j``, ``-y_j - t_j <= -x_j``
    and ``sum_j cost_j t_j <= radius``), appended after the lever columns so the first
    ``inputs.n_columns`` solution values stay the allocation.  ``radius_yuan = inf``: unchanged.
    """
    if not math.isfinite(radius_yuan):
        return inputs
    from dataclasses import replace
    from optimizer import Groups
    c = np.abs(np.asarray(inputs.col_cost, float))
    x = np.asarray(x, float)
    K, M = inputs.n_pairs, inputs.n_columns
    J = np.flatnonzero(c > 0)
    n = len(J)
    CS = inputs.cost_split.tocsc()
    home = np.array([CS.indices[CS.indptr[j]] if CS.indptr[j + 1] > CS.indptr[j] else 0 for j in J], dtype=np.int64)
    aux = M + np.arange(n)
    ones = np.ones(n)
    gi = np.arange(n)
    scale = 1e-4      # the radius row in 10,000 yuan, like the optimizer's money rows
    new = Groups(
        family=np.full(2 * n + 1, "trust_region", object),
        name=np.array([f"trust_up_{j}" for j in J] + [f"trust_down_{j}" for j in J] + ["trust_radius"], dtype=object),
        sense=np.full(2 * n + 1, "<=", object),
        rhs=np.concatenate([x[J], -x[J], [radius_yuan * scale]]),
        label_county=np.concatenate([np.asarray(inputs.col_county, object)[J]] * 2 + [np.array([""], object)]),
        label_province=np.full(2 * n + 1, "", object), label_field=np.full(2 * n + 1, "", object),
        entry_group=np.concatenate([gi, gi, n + gi, n + gi, np.full(n, 2 * n)]).astype(np.int64),
        entry_col=np.concatenate([J, aux, J, aux, aux]).astype(np.int64),
        entry_coef=np.concatenate([ones, -ones, -ones, -ones, c[J] * scale]))
    cat = lambda a, b_: np.concatenate([np.asarray(a), np.asarray(b_)])  # noqa: E731
    return replace(
        inputs,
        col_lever=cat(inputs.col_lever, np.full(n, TRUST_LEVER, object)),
        col_key=cat(inputs.col_key, np.asarray(inputs.col_key, object)[J]),
        col_county=cat(inputs.col_county, np.asarray(inputs.col_county, object)[J]),
        col_cost=cat(inputs.col_cost, np.zeros(n)), col_lower=cat(inputs.col_lower, np.zeros(n)),
        col_upper=cat(inputs.col_upper, np.full(n, math.inf)), col_integer=cat(inputs.col_integer, np.zeros(n, bool)),
        col_payer=np.vstack([inputs.col_payer, np.asarray(inputs.col_payer)[J]]),
        col_unit=cat(inputs.col_unit, np.full(n, "yuan/year moved", object)),
        effect=sp.hstack([inputs.effect, sp.csc_matrix((K, n))]).tocsc(),
        cost_split=sp.hstack([inputs.cost_split, sp.csc_matrix((ones, (home, gi)), shape=(K, n))]).tocsc(),
        groups=Groups.concat([inputs.groups, new]))


def _columns(res, inputs) -> np.ndarray:
    """Lever quantities of an optimizer result, cleaned and within the columns' own bounds."""
    y = np.asarray(res.x[:inputs.n_columns], float)
    y = np.where(np.abs(y) < 1e-7, 0.0, y)
    return np.clip(y, inputs.col_lower, inputs.col_upper)


def _evaluate_at(allocator, inputs, x: np.ndarray):
    """An optimizer result whose allocation is exactly ``x`` (every column fixed at its value)."""
    from dataclasses import replace
    return allocator.solve(replace(inputs, col_lower=np.array(x, float), col_upper=np.array(x, float)))


def _combine(history: list[pd.DataFrame], damping: str) -> pd.DataFrame:
    if damping == "last" or len(history) == 1:
        return history[-1]
    allf = pd.concat(history, ignore_index=True)
    keys = ["county_id", "province", "field", "kind"] if "county_id" in allf.columns else ["province", "field", "kind"]
    return allf.groupby(keys, as_index=False)[[c for c in ("province_factor", "factor") if c in allf.columns]].mean()


def _allocation_of(res) -> pd.DataFrame:
    """The allocation table of an optimizer result without trust-region columns."""
    a = res.allocation
    return a.loc[a["lever"] != TRUST_LEVER, ALLOC_COLUMNS].reset_index(drop=True)


def plan_inputs(inputs, allocator, staff_fn, rounds: int = DEFAULT_ROUNDS, tol: float = DEFAULT_TOLERANCE, progress=None,
                damping: str = "last", prior: float | None = None) -> PlanResult:
    """The loop on prepared optimizer ``inputs`` with an injectable ``staff_fn`` (see the module docstring)."""
    if rounds < 1:
        raise ValueError("rounds: must be at least 1")
    if damping not in ("mean", "last"):
        raise ValueError("damping: 'mean' or 'last'")
    objective = allocator.objective if allocator.objective in ("shortfall", "equity") else "shortfall"
    D = np.asarray(inputs.demand, float)
    Dsum = float(D.sum())
    cost = np.asarray(inputs.col_cost, float)
    budget = float(inputs.budget_yuan)
    cov = (lambda s: float(np.sum(s) / Dsum)) if Dsum > 0 else (lambda s: None)
    f_ = lambda s: merit(s, inputs, objective)  # noqa: E731

    # round 0: the status quo, simulated; effects estimated there; the model linearised there
    empty = pd.DataFrame(columns=ALLOC_COLUMNS)
    S0 = np.asarray(staff_fn(empty), float)
    f0 = f_(S0)
    x, S_x, f_x, res_x = np.zeros(inputs.n_columns), S0, f0, None
    history = [estimate_effects(inputs, empty, staff_fn, base_staff=S_x, prior=prior)]
    factors = _combine(history, damping)
    effs = [history[-1].assign(round=0)]

    def relinearise():
        lin_ = linearized_inputs(inputs, factors, x, S_x)
        full = allocator.solve(lin_)
        y_ = _columns(full, inputs)
        gap_ = f_x - merit(lin_.baseline_staff + lin_.effect @ y_, inputs, objective)
        return lin_, full, y_, money_change(y_, x, cost, budget), float(gap_)

    def fmeans():
        pf = "province_factor" if "province_factor" in factors.columns else "factor"
        fm = (factors.groupby(["province", "field", "kind"])[pf].first().groupby(level="kind").mean()
              if len(factors) else pd.Series(dtype=float))
        return {f"factor_{k}": float(fm.get(k, np.nan)) for k in KINDS}

    lin, full_res, full_y, pchange, gap = relinearise()
    radius = math.inf                      # trust region: share of the current allocation's money that may move
    rec = [{"round": 0, "step": "status quo", "predicted_coverage": cov(inputs.baseline_staff),
            "simulated_coverage": cov(S0), "predicted_staff_gain": 0.0, "simulated_staff_gain": 0.0,
            "predicted_reduction": np.nan, "simulated_reduction": np.nan, "ratio": np.nan, "budget_used_yuan": 0.0,
            "allocation_change": np.nan, "trust_radius": np.nan, "proposal_change": pchange,
            "remaining_gain": gap, "objective": f0, **fmeans(), "stop": ""}]

    def fixed_point() -> str:
        gained = max(f0 - f_x, 0.0)
        if pchange < tol:
            return (f"converged (fixed point): optimizing with the effects re-estimated at this allocation moves "
                    f"{pchange:.2%} of its money (< {tol:.0%})")
        if gap <= tol * gained + 1e-9 * (1.0 + abs(f0)):
            return (f"converged (fixed point): the optimizer's best proposal with the effects re-estimated at this "
                    f"allocation would move {pchange:.2%} of the money for a predicted gain of {gap:.4g}, at most "
                    f"{tol:.0%} of the {gained:.4g} gained over the status quo (an equivalent optimum): the "
                    "allocation is kept")
        return ""

    status, reason = "", fixed_point()
    if reason:
        status, rec[-1]["stop"] = "converged", reason
    if progress:
        progress(rec[-1])
    r = 0
    while not status and r < rounds:
        r += 1
        boxed = math.isfinite(radius) and pchange > radius * (1 + 1e-9)
        if boxed:
            ref = max(float(np.abs(cost) @ np.abs(x)), budget)
            step_res = allocator.solve(trust_region_inputs(lin, x, radius * ref))
            y = _columns(step_res, inputs)
        else:
            step_res, y = full_res, full_y
        step = money_change(y, x, cost, budget)
        pred_staff = lin.baseline_staff + lin.effect @ y
        pred = f_x - merit(pred_staff, inputs, objective)
        alloc_y = _allocation_of(step_res)
        S_y = np.asarray(staff_fn(alloc_y), float)
        act = f_x - f_(S_y)
        ratio = act / pred if pred > 0 else math.nan
        accepted = pred > 0 and ratio >= TR_ACCEPT
        used_radius = radius
        if not (ratio >= 0):                          # the step made things worse (or predicted nothing)
            radius = TR_SHRINK_HARD * step
        elif not accepted or ratio < TR_SHRINK_BELOW:
            radius = TR_SHRINK * step
        elif ratio > TR_EXPAND_ABOVE and boxed:
            radius = TR_EXPAND * radius
        if accepted:
            x, S_x, f_x, res_x = y, S_y, f_(S_y), step_res
            history.append(estimate_effects(inputs, alloc_y, staff_fn, base_staff=S_x, prior=prior))
            effs.append(history[-1].assign(round=r))
            factors = _combine(history, damping)
            lin, full_res, full_y, pchange, gap = relinearise()
        row = {"round": r, "step": "accepted" if accepted else "rejected",
               "predicted_coverage": cov(pred_staff), "simulated_coverage": cov(S_y),
               "predicted_staff_gain": float(pred_staff.sum() - S0.sum()), "simulated_staff_gain": float(S_y.sum() - S0.sum()),
               "predicted_reduction": float(pred), "simulated_reduction": float(act), "ratio": float(ratio),
               "budget_used_yuan": float(step_res.solution["budget_used_yuan"]),
               "allocation_change": step if accepted else 0.0, "trust_radius": used_radius,
               "proposal_change": pchange, "remaining_gain": gap, "objective": f_x, **fmeans(), "stop": ""}
        rec.append(row)
        reason = fixed_point()
        if reason:
            status = "converged"
        elif radius < tol:
            status = "trust region"
            reason = (f"converged (trust region): the simulator did not confirm the last step ({step:.2%} of the "
                      f"money, ratio {ratio:.2f}) and the trust region shrank to {radius:.2%} (< {tol:.0%}): the next "
                      f"step could move less than {tol:.0%} of the money. The model still predicts a gain of {gap:.4g} "
                      f"(moving {pchange:.2%}), which the simulator at this allocation did not deliver: the effect "
                      "model is not accurate enough to improve further")
        elif r == rounds:
            status = "max rounds"
            reason = (f"not converged within {rounds} rounds: the optimizer's proposal at the last allocation would "
                      f"still move {pchange:.2%} of its money for a predicted gain of {gap:.4g} (trust radius "
                      f"{radius:.2%})")
        row["stop"] = reason
        if progress:
            progress(row)
    if res_x is None:      # no step taken: the status quo under the final model
        res_x = _evaluate_at(allocator, lin, x)
    if isinstance(res_x.solution.get("levers"), dict):
        res_x.solution["levers"].pop(TRUST_LEVER, None)
    return PlanResult(result=res_x, allocation=_allocation_of(res_x),
                      rounds=pd.DataFrame(rec, columns=ROUND_COLUMNS),
                      effects=pd.concat(effs, ignore_index=True), converged=status in ("converged", "trust region"),
                      factors=factors, stop_reason=rec[-1]["stop"], x=x, status=status)


def plan(sc, budget: float | None = None, provinces=None, rounds: int = DEFAULT_ROUNDS, replications: int = 3, seed: int = 0,
         tol: float = DEFAULT_TOLERANCE, *, years: int | None = None, table: pd.DataFrame | None = None, workers: int = 1,
         allocator=None, staff_fn=None, progress=None, damping: str = "last",
         prior: float | None = None) -> PlanResult:
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
                      prior=prior)
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


__all__ = ["plan", "plan_inputs", "PlanResult", "estimate_effects", "effect_summary", "scaled_inputs",
           "linearized_inputs", "trust_region_inputs", "merit", "money_change", "simulator_staff_fn",
           "allocation_change", "EFFECT_COLUMNS", "size_budget_with_confidence", "SizingResult", "replication_events", "wilson",
           "ROUND_COLUMNS", "PROBABILITY_COLUMNS"]
