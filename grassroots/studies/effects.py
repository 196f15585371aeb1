"""Lever effects for the plan loop: the optimizer's analytic effects rescaled by what the simulator does.

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
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

ALLOC_COLUMNS = ["county_id", "province", "field", "lever", "quantity", "cost_yuan"]

SUBSIDY_STEP = 300.0         # yuan/month per person added in the subsidy perturbation
FACTOR_MAX = 5.0             # effect factors are clipped to [0, FACTOR_MAX]
PRIOR_PERSONS = 2.0          # a pair's own factor is shrunk to its province's with this much analytic gain (persons)
KINDS = ("special", "place", "promotion", "subsidy", "subsidy_down")


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


def _levels(allocation: pd.DataFrame, lever: str, first_year: bool = False) -> pd.Series:
    """A subsidy lever's level per county (yuan/month per person): in the last year (levels of rows started in
    different years add up; rows of one year repeat the county's amount), or from year 1 only (``first_year``)."""
    rows = allocation[allocation["lever"] == lever]
    cid = rows["county_id"].astype(str)
    if "year" not in rows.columns:
        return rows.groupby(cid)["quantity"].max()
    if first_year:
        rows, cid = rows[rows["year"] == 1], cid[rows["year"] == 1]
    return rows.groupby([cid, rows["year"]])["quantity"].max().groupby(level=0).sum()


def _county_subsidy(allocation: pd.DataFrame) -> dict:
    """Township staff's total top-up per county in the last year (township_subsidy + hardship_topup, as the
    optimizer counts it)."""
    tot: dict[str, float] = {}
    for lever in ("township_subsidy", "hardship_topup"):
        for c, q in _levels(allocation, lever).items():
            tot[str(c)] = tot.get(str(c), 0.0) + float(q)
    return tot


def perturbations(inputs, allocation: pd.DataFrame) -> dict[str, tuple]:
    """Per kind (``special``, ``place``, ``promotion``, ``subsidy``, ``subsidy_down``; see the module
    docstring): (perturbed allocation, analytic staff gain per pair, units moved per (province, field)).

    ``inputs`` are single-period (one pair per county x field).  A year-indexed ``allocation`` (a ``year``
    column: a budget path) keeps its rows; the perturbation acts from year 1 (new rows of year 1, the year-1
    subsidy row raised or cut), so its analytic gain is the single-period (horizon-average) effect."""
    K = inputs.n_pairs
    E = inputs.effect.tocsc()
    has_year = "year" in allocation.columns
    base = allocation[ALLOC_COLUMNS + (["year"] if has_year else [])].copy()
    y1 = {"year": 1} if has_year else {}
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
                         "field": str(inputs.field[k]), "lever": str(inputs.col_lever[j]), "quantity": 1.0, "cost_yuan": 0.0,
                         **y1})
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
    net = _levels(base, "township_subsidy", first_year=True)     # the year-1 rows the perturbation changes
    top = _levels(base, "hardship_topup", first_year=True)
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
                             "lever": lever, "quantity": q, "cost_yuan": 0.0, **y1})
        if rows:
            add = pd.DataFrame(rows)
            units = add.groupby(["province", "field"])["quantity"].size() * SUBSIDY_STEP
            drop = pd.Series(list(zip(cid, base["lever"])), index=base.index).isin(moved)
            if has_year:
                drop &= base["year"] == 1
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
                       keep: dict | None = None, by_year: bool = False) -> Callable[[pd.DataFrame], np.ndarray]:
    """``allocation -> horizon-average staff per optimizer pair`` from the simulator (fixed seed: CRN).

    ``by_year``: staff at the end of each year 1..``years`` instead, year-major (index ``(t - 1) x K + k``,
    the pair order of :func:`optimizer.expand_years`; ``inputs`` single-period, K pairs).
    With ``keep`` (a dict), the last SimulationResult is stored under ``keep["result"]``.
    """
    import simulator
    cid, fld = np.asarray(inputs.county_id).astype(str), np.asarray(inputs.field).astype(str)
    order = pd.MultiIndex.from_arrays([cid, fld])

    def run(allocation: pd.DataFrame | None) -> np.ndarray:
        res = simulator.simulate(sc, years=years, replications=replications, seed=seed, workers=workers, table=table,
                                 allocation=allocation, county_metrics=("staff",))
        if keep is not None:
            keep["result"] = res
        c = res.counties
        first = res.years[0]
        c = c[(c["metric"] == "staff") & (c["year"] > first)]
        if by_year:
            t = c.set_index([c["year"] - first, c["county_id"].astype(str), c["field"].astype(str)])["mean"]
            idx = pd.MultiIndex.from_arrays([np.repeat(np.arange(1, years + 1), len(cid)), np.tile(cid, years),
                                             np.tile(fld, years)])
            return t.reindex(idx).fillna(0.0).to_numpy(float)
        avg = c.groupby([c["county_id"].astype(str), c["field"].astype(str)], observed=True)["mean"].mean()
        return avg.reindex(order).fillna(0.0).to_numpy(float)

    return run
