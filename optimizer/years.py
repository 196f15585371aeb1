"""The year-indexed model: a budget path, decisions per year, shortfall counted year by year.

:func:`expand` turns single-period :class:`~optimizer.inputs.AllocationInputs` that carry
age profiles (``effect_by_age``, ``cost_by_age``: every instance from
:func:`optimizer.from_scenario`, and hand-built ones with ``effect_profile``) into a
time-expanded instance that :class:`~optimizer.Allocator` solves like any other:

* **pairs** ``(k, t)``: county x field ``k`` at the end of year ``t = 1..T`` (T = the target
  year), with that year's demand and status-quo staff (``demand_by_year``,
  ``baseline_by_year``: the simulated status quo when injected, else the static one);
* **columns** ``(j, s)``: lever ``j`` started in year ``s``.  Its staff gain at the end of
  year ``t >= s`` is the profile at age ``t - s + 1``; it costs ``cost_by_age[j, y - s]`` in
  every budget year ``y >= s`` -- posts created in a year persist and cost money in every
  later year, a subsidy level started in a year is paid from then on;
* **money**: one budget row per year, ``sum of costs in year y <= path[y]``; payer limits
  per year (explicit limits hold every year; derived ones are the path times the shares);
* **objective**: the weighted shortfall summed over every year (``objective_year="all"``)
  or of the target year only (``"last"``); coverage targets hold at the end of the target
  year;
* **groups**: yearly flows (recruit supply, programme and special-post quotas) hold for
  each start year; standing stocks (ratio caps, directed-post totals, vacant posts, the
  subsidy link) hold for the cumulative amount at every year; a standing lever's bound
  (promotion candidates, subsidy segment widths) holds for its cumulative amount
  (family ``lever_total``).

An allocation row of the solution has a ``year`` column: the start year.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .errors import OptimizerInputError
from .inputs import AllocationInputs, Groups

OBJECTIVE_YEARS = ("all", "last")
#: group families that limit a yearly flow (held per start year); every other family is a stock
FLOW_FAMILIES = ("supply", "programme_quota", "special_post_quota")


def parse_budget_path(spec: str | Sequence[float], years: int | None = None, option: str = "--budget-path") -> list[float]:
    """``"2e8,4e8,6e8"`` (or a list) -> yuan per year; one figure per year of the horizon."""
    try:
        vals = [float(v) for v in (spec.split(",") if isinstance(spec, str) else spec)]
    except (TypeError, ValueError):
        raise OptimizerInputError([f"{option}: {spec!r} (allowed: comma-separated yuan per year, e.g. 2e8,4e8,6e8)"]) from None
    p = []
    if not vals:
        p.append(f"{option}: empty (allowed: one figure per year, yuan per year)")
    bad = [v for v in vals if not (math.isfinite(v) and v >= 0)]
    if bad:
        p.append(f"{option}: {bad[0]!r} (allowed: numbers >= 0, yuan per year)")
    if years is not None and vals and len(vals) != years:
        p.append(f"{option}: {len(vals)} figure(s) for {years} year(s) (allowed: one figure per year of --years)")
    if p:
        raise OptimizerInputError(p)
    return vals


def expand(inputs: AllocationInputs, budget_path: Sequence[float] | None = None, objective_year: str = "all") -> AllocationInputs:
    """The year-indexed instance of ``inputs`` (see the module docstring).

    ``budget_path``: yuan in each year 1..T (default: ``inputs.budget_yuan`` every year).
    """
    p = []
    if inputs.effect_by_age is None or inputs.cost_by_age is None:
        p.append("inputs: no age profiles (allowed: inputs from optimizer.from_scenario, or built with effect_profile)")
    if objective_year not in OBJECTIVE_YEARS:
        p.append(f"--objective-year: {objective_year!r} (allowed: {', '.join(OBJECTIVE_YEARS)})")
    if p:
        raise OptimizerInputError(p)
    T = len(inputs.effect_by_age)
    path = np.asarray(parse_budget_path(list(budget_path), T) if budget_path is not None
                      else np.full(T, inputs.budget_yuan), dtype=float)
    K, M = inputs.n_pairs, inputs.n_columns
    tile = lambda a: np.tile(np.asarray(a), T)  # noqa: E731

    # pairs (k, t): index t * K + k
    D = inputs.demand_by_year if inputs.demand_by_year is not None else np.repeat(inputs.demand[:, None], T, axis=1)
    P = inputs.baseline_by_year if inputs.baseline_by_year is not None else np.repeat(inputs.baseline_staff[:, None], T, axis=1)
    counted = np.ones(T) if objective_year == "all" else (np.arange(T) == T - 1).astype(float)
    weight = (np.asarray(inputs.weight, float)[None, :] * counted[:, None]).reshape(-1)
    tgt_last = (np.full(K, np.nan) if inputs.coverage_target is None else np.asarray(inputs.coverage_target, float))
    target = np.concatenate([np.full(K, -1.0)] * (T - 1) + [tgt_last])
    pair_year = np.repeat(np.arange(1, T + 1), K)

    # columns (j, s): index s * M + j
    E = inputs.effect_by_age
    effect = sp.bmat([[E[t - s] if t >= s else None for s in range(T)] for t in range(T)], format="csc")
    effect = sp.csc_matrix(effect, shape=(K * T, M * T))
    cost_split = sp.block_diag([inputs.cost_split] * T, format="csc")
    cba = np.asarray(inputs.cost_by_age, float)                       # [M, T]
    cby = np.zeros((M * T, T))
    col_cost = np.zeros(M * T)
    for s in range(T):
        cby[s * M:(s + 1) * M, s:] = cba[:, :T - s]
        col_cost[s * M:(s + 1) * M] = cba[:, :T - s].mean(axis=1)      # yuan/year while it runs within the horizon
    col_year = np.repeat(np.arange(1, T + 1), M)
    col_key = np.array([f"{k}_y{y}" for k, y in zip(tile(inputs.col_key), col_year)], dtype=object)
    stock = (np.zeros(M, bool) if inputs.col_stock is None else np.asarray(inputs.col_stock, bool))

    groups = [_expand_groups(inputs.groups, M, T)]
    fin = np.flatnonzero(stock & np.isfinite(inputs.col_upper) & (inputs.col_upper > 0))
    if len(fin):
        groups.append(Groups(
            family=np.full(len(fin), "lever_total", object),
            name=np.array([f"total_{lv}_{k}_c{j}" for lv, k, j in zip(inputs.col_lever[fin], inputs.col_key[fin], fin)], dtype=object),
            sense=np.full(len(fin), "<=", object), rhs=np.asarray(inputs.col_upper, float)[fin],
            label_county=np.asarray(inputs.col_county, object)[fin], label_province=np.full(len(fin), "", object),
            label_field=np.full(len(fin), "", object), entry_group=np.repeat(np.arange(len(fin)), T).astype(np.int64),
            entry_col=(fin[:, None] + M * np.arange(T)[None, :]).reshape(-1).astype(np.int64), entry_coef=np.ones(len(fin) * T)))
    groups = Groups.concat(groups)
    # group names must stay unique after the suffixes
    pby = None
    if inputs.payer_budget_yuan is not None:
        if inputs.payer_budget_fixed or inputs.payer_budget_share is None:
            pby = np.tile(np.asarray(inputs.payer_budget_yuan, float), (T, 1))
        else:
            pby = path[:, None] * np.asarray(inputs.payer_budget_share, float)[None, :]
    notes = dict(inputs.notes)
    notes.update({"years": T, "budget_path_yuan": path.tolist(), "objective_year": objective_year,
                  "model": "year-indexed: decisions per start year, shortfall per year (optimizer.years)"})
    out = replace(
        inputs,
        county_id=tile(inputs.county_id), province=tile(inputs.province), region=tile(inputs.region), field=tile(inputs.field),
        demand=D.T.reshape(-1).astype(float), baseline_staff=P.T.reshape(-1).astype(float), weight=weight,
        col_lever=tile(inputs.col_lever), col_key=col_key, col_county=tile(inputs.col_county), col_cost=col_cost,
        col_lower=tile(inputs.col_lower), col_upper=tile(inputs.col_upper), col_integer=tile(inputs.col_integer),
        col_payer=np.tile(inputs.col_payer, (T, 1)), col_unit=tile(inputs.col_unit), effect=effect, cost_split=cost_split,
        groups=groups, budget_yuan=float(path.mean()),
        payer_budget_yuan=None if inputs.payer_budget_yuan is None else (pby.mean(axis=0) if not inputs.payer_budget_fixed
                                                                         else np.asarray(inputs.payer_budget_yuan, float)),
        notes=notes, effect_by_age=None, cost_by_age=None, col_stock=np.tile(stock, T), demand_by_year=None,
        baseline_by_year=None, coverage_target=target, pair_year=pair_year, col_year=col_year, col_cost_by_year=cby,
        budget_by_year=path, payer_budget_by_year=pby,
    )
    out.validate()
    return out


def _expand_groups(g: Groups, M: int, T: int) -> Groups:
    """Flow families per start year; stock families cumulative at every year (only the last when no coefficient is negative)."""
    if not len(g):
        return g
    parts = []
    fam = np.asarray(g.family, dtype=object)
    neg = np.zeros(len(g), bool)
    np.logical_or.at(neg, g.entry_group, g.entry_coef < 0)
    flow = np.isin(fam, FLOW_FAMILIES)
    for t in range(T):
        # rows of this year: flows (columns started in t), stocks with negative coefficients (cumulative to t),
        # stocks without (cumulative to T, once)
        rows = np.flatnonzero(flow | neg | (t == T - 1))
        if not len(rows):
            continue
        pos = np.full(len(g), -1, np.int64)
        pos[rows] = np.arange(len(rows))
        keep = pos[g.entry_group] >= 0
        eg, ec, ev = g.entry_group[keep], g.entry_col[keep], g.entry_coef[keep]
        is_flow = flow[eg]
        starts_f = [t]
        entries_g, entries_c, entries_v = [], [], []
        # flows: only start year t
        mf = is_flow
        entries_g.append(pos[eg[mf]]); entries_c.append(ec[mf] + M * starts_f[0]); entries_v.append(ev[mf])
        # stocks: every start year s <= t
        ms = ~is_flow
        for s in range(t + 1):
            entries_g.append(pos[eg[ms]]); entries_c.append(ec[ms] + M * s); entries_v.append(ev[ms])
        sfx = f"_y{t + 1}"
        parts.append(Groups(family=fam[rows], name=np.array([f"{n}{sfx}" for n in g.name[rows]], dtype=object),
                            sense=g.sense[rows], rhs=g.rhs[rows], label_county=g.label_county[rows],
                            label_province=g.label_province[rows], label_field=g.label_field[rows],
                            entry_group=np.concatenate(entries_g).astype(np.int64),
                            entry_col=np.concatenate(entries_c).astype(np.int64), entry_coef=np.concatenate(entries_v)))
    return Groups.concat(parts)


__all__ = ["expand", "parse_budget_path", "OBJECTIVE_YEARS", "FLOW_FAMILIES"]
