"""Result tables of a solution: the allocation, the outcomes per county x field, totals and summaries.

Pure functions of :class:`~optimizer.inputs.AllocationInputs` and the lever part of a solution
vector, so the plan loop and tests can tabulate any allocation the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inputs import AllocationInputs, lever_unit

ALLOCATION_COLUMNS = ["county_id", "province", "field", "lever", "quantity", "cost_yuan"]
#: the allocation.csv columns of a year-indexed model: ``year`` = the year from which a row applies
#: (1 = the first simulated year; the start year in the year-indexed model, always 1 otherwise);
#: ``cost_yuan`` = yuan per year while it runs within the horizon
ALLOCATION_YEAR_COLUMNS = ALLOCATION_COLUMNS + ["year"]
PER_PERSON_LEVERS = ("township_subsidy", "hardship_topup")


def clean_levers(inputs: AllocationInputs, x_lever: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Lever quantities as reported: solver noise below ``tol`` set to 0, whole posts rounded to 1e-6."""
    x = np.where(np.abs(x_lever) < tol, 0.0, x_lever)
    return np.where(inputs.col_integer, np.round(x, 6), x)


def allocation_table(inputs: AllocationInputs, x_lever: np.ndarray, tol: float = 1e-7) -> tuple[pd.DataFrame, np.ndarray]:
    """(allocation DataFrame, staff gain per pair) from the lever part of a solution.

    A county-wide column (the subsidies) is reported on each field of its county with that
    field's share of the cost (``inputs.cost_split``) and its staff gained.  Segments are
    summed; the township subsidy is reported net of the hardship top-up (township staff get
    both), and the top-up's cost includes what it pays township staff.
    """
    x = clean_levers(inputs, x_lever, tol)
    K = inputs.n_pairs
    gain = inputs.effect @ x if len(x) else np.zeros(K)
    used = np.flatnonzero(x != 0)
    S = inputs.cost_split[:, used].tocoo()
    E = inputs.effect[:, used].tocsc()
    j = used[S.col]
    eff = np.asarray(E[S.row, S.col]).ravel() if len(S.row) else np.zeros(0)
    df = pd.DataFrame({"pair": S.row, "lever": inputs.col_lever[j], "quantity": x[j],
                       "cost_yuan": x[j] * inputs.col_cost[j] * S.data, "staff_gain": x[j] * eff,
                       "unit_cost": inputs.col_cost[j] * S.data})
    agg = df.groupby(["pair", "lever"], sort=False).agg(quantity=("quantity", "sum"), cost_yuan=("cost_yuan", "sum"),
                                                         staff_gain=("staff_gain", "sum"), unit_cost=("unit_cost", "first")).reset_index()
    sub = agg["lever"].isin(["township_subsidy", "hardship_topup"])
    if sub.any():
        s = agg[sub].pivot_table(index="pair", columns="lever", values=["quantity", "staff_gain", "unit_cost"],
                                 aggfunc="first", fill_value=0.0)
        get = lambda r, a, b: float(r[(a, b)]) if (a, b) in r.index else 0.0  # noqa: E731
        rows = []
        for k, r in s.iterrows():
            T, Hh = get(r, "quantity", "township_subsidy"), get(r, "quantity", "hardship_topup")
            ct, cc = get(r, "unit_cost", "township_subsidy"), get(r, "unit_cost", "hardship_topup")
            eT, eH = get(r, "staff_gain", "township_subsidy"), get(r, "staff_gain", "hardship_topup")
            s1 = max(0.0, T - Hh)
            if s1 > tol:
                rows.append({"pair": k, "lever": "township_subsidy", "quantity": s1, "cost_yuan": ct * s1,
                             "staff_gain": eT * s1 / T if T > 0 else 0.0})
            if Hh > tol:
                rows.append({"pair": k, "lever": "hardship_topup", "quantity": Hh, "cost_yuan": (ct + cc) * Hh,
                             "staff_gain": eH + (eT * Hh / T if T > 0 else 0.0)})
        agg = pd.concat([agg[~sub], pd.DataFrame(rows, columns=["pair", "lever", "quantity", "cost_yuan", "staff_gain"])],
                        ignore_index=True)
    agg = agg.sort_values(["pair", "lever"], kind="stable")
    k = agg["pair"].to_numpy(int)
    year = np.ones(len(k), dtype=int) if inputs.pair_year is None else np.asarray(inputs.pair_year, int)[k]
    out = pd.DataFrame({"county_id": inputs.county_id[k], "province": inputs.province[k], "field": inputs.field[k],
                        "lever": agg["lever"].to_numpy(), "quantity": agg["quantity"].to_numpy(float),
                        "cost_yuan": agg["cost_yuan"].to_numpy(float), "year": year,
                        "staff_gain": agg["staff_gain"].to_numpy(float)})
    return out.reset_index(drop=True), np.asarray(gain, dtype=float)


def outcomes_table(inputs: AllocationInputs, gain: np.ndarray) -> pd.DataFrame:
    after = inputs.baseline_staff + gain
    D = inputs.demand
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_b = np.where(D > 0, inputs.baseline_staff / D, np.nan)
        cov_a = np.where(D > 0, after / D, np.nan)
    year = np.full(len(D), int(inputs.notes.get("target_year", 1)) if isinstance(inputs.notes, dict) else 1) \
        if inputs.pair_year is None else np.asarray(inputs.pair_year, int)
    return pd.DataFrame({
        "county_id": inputs.county_id, "province": inputs.province, "region": inputs.region, "field": inputs.field,
        "year": year, "weight": inputs.weight, "demand": D, "baseline_staff": inputs.baseline_staff, "staff_gain": gain,
        "staff_after": after, "shortfall_before": np.maximum(0.0, D - inputs.baseline_staff),
        "shortfall_after": np.maximum(0.0, D - after), "coverage_before": cov_b, "coverage_after": cov_a,
    })


def summary_by_province_lever(allocation: pd.DataFrame) -> pd.DataFrame:
    if allocation.empty:
        return pd.DataFrame(columns=["province", "lever", "counties", "quantity", "cost_yuan", "staff_gain", "quantity_unit", "yuan_per_staff"])
    g = allocation.groupby(["province", "lever"]).agg(counties=("county_id", "nunique"), quantity=("quantity", "sum"),
                                                       mean_quantity=("quantity", "mean"), cost_yuan=("cost_yuan", "sum"),
                                                       staff_gain=("staff_gain", "sum")).reset_index()
    # a per-person top-up (yuan/month) is averaged over the county x field rows that receive it, not summed
    per_person = g["lever"].isin(PER_PERSON_LEVERS)
    g["quantity"] = np.where(per_person, g["mean_quantity"], g["quantity"])
    g["quantity_unit"] = [lever_unit(lv) + (" (mean over rows)" if pp else "") for lv, pp in zip(g["lever"], per_person)]
    g = g.drop(columns="mean_quantity")
    g["yuan_per_staff"] = np.where(g["staff_gain"] > 0, g["cost_yuan"] / g["staff_gain"].where(g["staff_gain"] > 0, 1), np.nan)
    return g


def scope(inputs: AllocationInputs, outcomes: pd.DataFrame) -> np.ndarray:
    """Rows of ``outcomes`` the totals describe: the target year, the fields of ``--field``."""
    m = np.ones(len(outcomes), bool)
    if inputs.pair_year is not None:
        m &= outcomes["year"].to_numpy() == int(outcomes["year"].max())
    fields = inputs.notes.get("fields") if isinstance(inputs.notes, dict) else None
    if fields:
        m &= outcomes["field"].isin(list(fields)).to_numpy()
    return m


def totals(inputs: AllocationInputs, outcomes: pd.DataFrame, coverage_target: float) -> dict:
    """Totals over the target year and the selected fields (all pairs of a single-period, all-field model)."""
    allrows = outcomes
    m = scope(inputs, outcomes)
    outcomes = outcomes[m]
    tgt = np.full(len(outcomes), float(coverage_target))
    if inputs.coverage_target is not None:
        ct = np.asarray(inputs.coverage_target, float)[m]
        tgt = np.where(np.isnan(ct), tgt, ct)
    D = outcomes["demand"].to_numpy()
    w = outcomes["weight"].to_numpy()
    pos = D > 0
    ratio_b = np.where(pos, outcomes["shortfall_before"] / np.where(pos, D, 1), 0.0)
    ratio_a = np.where(pos, outcomes["shortfall_after"] / np.where(pos, D, 1), 0.0)
    cov_a = outcomes["coverage_after"].to_numpy()
    by_county = outcomes.assign(ok=(outcomes["coverage_after"] >= tgt - 1e-6) | ~pos).groupby("county_id")["ok"].all()
    by_year = allrows[np.isin(allrows["field"], outcomes["field"].unique())].groupby("year")[["staff_after", "demand", "baseline_staff"]].sum()
    return {
        "fields": sorted(outcomes["field"].unique().tolist()),
        "year": int(outcomes["year"].max()) if len(outcomes) else None,
        "coverage_by_year": {int(y): float(r.staff_after / r.demand) if r.demand > 0 else None for y, r in by_year.iterrows()},
        "coverage_before_by_year": {int(y): float(r.baseline_staff / r.demand) if r.demand > 0 else None for y, r in by_year.iterrows()},
        "pairs": int(len(D)), "counties": int(outcomes["county_id"].nunique()),
        "demand": float(D.sum()), "baseline_staff": float(outcomes["baseline_staff"].sum()),
        "staff_gain": float(outcomes["staff_gain"].sum()), "staff_after": float(outcomes["staff_after"].sum()),
        "shortfall_before": float(outcomes["shortfall_before"].sum()), "shortfall_after": float(outcomes["shortfall_after"].sum()),
        "weighted_shortfall_before": float(w @ outcomes["shortfall_before"]),
        "weighted_shortfall_after": float(w @ outcomes["shortfall_after"]),
        "coverage_before": float(outcomes["baseline_staff"].sum() / D.sum()) if D.sum() > 0 else None,
        "coverage_after": float(outcomes["staff_after"].sum() / D.sum()) if D.sum() > 0 else None,
        "max_shortfall_ratio_before": float(ratio_b.max(initial=0.0)),
        "max_shortfall_ratio_after": float(ratio_a.max(initial=0.0)),
        "pairs_below_target_after": int(((cov_a < tgt - 1e-6) & pos & (tgt > 0)).sum()),
        "share_counties_at_target_after": float(by_county.mean()) if len(by_county) else None,
        "coverage_target": coverage_target,
    }


__all__ = ["clean_levers", "allocation_table", "outcomes_table", "summary_by_province_lever", "scope", "totals",
           "ALLOCATION_COLUMNS", "ALLOCATION_YEAR_COLUMNS", "PER_PERSON_LEVERS"]
