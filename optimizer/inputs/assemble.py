"""Optimizer inputs from a scenario: the lever families assembled into one :class:`AllocationInputs`.

This package is the only part of :mod:`optimizer` that reads a :class:`scenarios.Scenario`
or the county table.  :func:`from_scenario` builds the *pairs* (one per county x field),
the *lever columns* (one per candidate decision: a lever in a county x field) and the
*groups* (resource constraints such as post caps, recruit supply and quotas) from the
lever families, one module each:

* :mod:`~optimizer.inputs.posts` -- special posts, government-purchased posts, direct hires;
* :mod:`~optimizer.inputs.programmes` -- service-term programme places;
* :mod:`~optimizer.inputs.promotions` -- senior, intermediate and directed senior posts;
* :mod:`~optimizer.inputs.subsidies` -- township subsidy and hardship top-up;
* :mod:`~optimizer.inputs.status_quo` -- the before state (static or injected);
* :mod:`~optimizer.inputs.response` -- the response maths (age profiles).

Accounting convention (how costs and effects are measured)
----------------------------------------------------------
Every lever unit has an *age profile*: expected staff in post attributable to it at the
end of each year a = 1..H after it is started (persons), and yuan paid for it in each of
those years.  ``H`` = the target year (``years``, default ``horizon.years``).

* Static status quo (``status_quo=None``): effect = the profile averaged over years 1..H
  ("horizon-average staff"), cost = the average yuan per year; shortfall, coverage and
  the budget are all in these horizon-average terms (a first-order estimate).
* Injected status quo (the simulator's): the single-period model plans for the end of
  the target year: status-quo staff and demand of year H, effect = the profile at year H
  (a unit started in year 1), cost = the average yuan per year over years 1..H.
* A budget path (:mod:`optimizer.years`) uses the profiles year by year.

Demand is the county table's times the scenario's demand trend ``(1 + g_f)^t``, and
authorized posts follow it, as in the simulator.

Supply and payers
-----------------
* recruit supply per province x field (recruits per year, used by special posts,
  purchased posts and programme places): applicants left after ordinary recruitment,
  ``sum_i max(0, apv_f x (1 + hardship_tilt x class) x qual x vacancies - q x (p0+r) x staff)``,
  vacancies = ``max(0, posts - staff) + (p0 + r) x staff``, posts =
  ``posts.authorized_share_of_demand`` x demand per tier, ``qual`` = share of
  applicants above ``recruitment.entry_threshold`` relative to threshold 0.
* programme places and direct hires per county x field: at most the vacant authorized
  posts ``max(0, posts - P)``.
* payer budgets: a county's lever costs are split by its region's
  ``budget.payer_shares``; programme subsidies go to the programme's payer.  Unless
  given explicitly (``payer_budget``), payer ``q`` may spend at most
  ``total x share_q x (1 + PAYER_HEADROOM)``, ``share_q`` = the payer's shares weighted by
  each region's status-quo priority-weighted gap.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import norm

from ..errors import OptimizerInputError
from .columns import ColumnBuilder, grouped
from .containers import FIELDS, PAYERS, AllocationInputs, Groups
from .posts import SPECIAL_POST_COUNTY_MULTIPLE, direct_hires, purchased_posts, special_posts
from .programmes import programme_places
from .promotions import INTERMEDIATE_PROMOTION_GRADES, PROMOTION_RATE_GAP, SENIOR_PROMOTION_GRADES, pay_rises, promotions
from .status_quo import Context, StatusQuo
from .subsidies import SUBSIDY_BREAKS, subsidies

#: payer budgets exceed the gap-weighted payer shares by this margin (assumption).
PAYER_HEADROOM = 0.25

ASSUMPTIONS = {
    "subsidy_breaks_yuan_month": list(SUBSIDY_BREAKS),
    "special_post_county_multiple": SPECIAL_POST_COUNTY_MULTIPLE,
    "promotion_rate_gap_per_year": PROMOTION_RATE_GAP,
    "payer_headroom": PAYER_HEADROOM,
    "senior_promotion_grades": list(SENIOR_PROMOTION_GRADES),
    "intermediate_promotion_grades": list(INTERMEDIATE_PROMOTION_GRADES),
}


def select_table(sc, table=None, provinces=None):
    """The county table a plan covers: ``table`` or the bundled one of ``provinces`` (else the scenario's), filtered
    by ``region.counties``."""
    import scenarios
    if table is None:
        provs = list(provinces) if provinces else (list(sc.region.provinces) or None)
        table = scenarios.county_table(provinces=provs)
    elif provinces:
        table = table[table["province"].isin(list(provinces))]
    if sc.region.counties:
        table = table[table["county_id"].isin(list(sc.region.counties))]
    table = table.reset_index(drop=True)
    if len(table) == 0:
        raise OptimizerInputError(["provinces: no county-level units selected (allowed: GB/T 2260 codes with units in the county table)"])
    return table


def check_options(years=None, fields=None, targets=None, payer_budget=None, budget_yuan=None) -> list[str]:
    """One line per invalid option (names the option and what is allowed)."""
    p = []
    if budget_yuan is not None and not (math.isfinite(budget_yuan) and budget_yuan >= 0):
        p.append(f"budget: {budget_yuan!r} (allowed: a number >= 0, yuan per year)")
    if years is not None and not (isinstance(years, (int, np.integer)) and 1 <= years <= 50):
        p.append(f"--years: {years!r} (allowed: a whole number of years from 1 to 50)")
    for f in fields or ():
        if f not in FIELDS:
            p.append(f"--field: {f!r} (allowed: {', '.join(FIELDS)})")
    for f, v in (targets or {}).items():
        if f not in FIELDS:
            p.append(f"--target: field {f!r} (allowed: {', '.join(FIELDS)})")
        elif not (isinstance(v, (int, float)) and 0 <= v <= 1):
            p.append(f"--target: {f} = {v!r} (allowed: a coverage from 0 to 1, staff/demand)")
    for q, v in (payer_budget or {}).items():
        if q not in PAYERS:
            p.append(f"--payer-budget: payer {q!r} (allowed: {', '.join(PAYERS)})")
        elif not (isinstance(v, (int, float)) and v >= 0 and not math.isnan(v)):
            p.append(f"--payer-budget: {q} = {v!r} (allowed: a number >= 0, yuan per year)")
    return p


def from_scenario(sc, table=None, provinces: Sequence[str] | None = None, budget_yuan: float | None = None, *,
                  years: int | None = None, status_quo: StatusQuo | None = None, fields: Sequence[str] | None = None,
                  targets: Mapping[str, float] | None = None,
                  payer_budget: Mapping[str, float] | None = None) -> AllocationInputs:
    """Derive the allocation inputs of a scenario (see the module docstring and each lever family's).

    ``table``: a county table (default ``scenarios.county_table`` of ``provinces``, else of the
    scenario's ``region.provinces``, else national; ``region.counties`` filters it).
    ``budget_yuan`` overrides ``budget.total_yuan``.  ``years``: the target year (default
    ``horizon.years``).  ``status_quo``: an injected :class:`StatusQuo` (default: the static
    estimate).  ``fields``: restrict the objective and targets to these fields (the others keep
    their status quo: their own levers are fixed at 0).  ``targets``: coverage target per field
    (the cost objective's; fields not named keep the allocator's).  ``payer_budget``: explicit
    yuan/year limits per payer (payers not named: no limit of their own).
    """
    problems = check_options(years, fields, targets, payer_budget, budget_yuan)
    if problems:
        raise OptimizerInputError(problems)
    table = select_table(sc, table, provinces)
    H = int(sc.horizon.years if years is None else years)
    cx = Context(sc, table, H, status_quo, at_target=status_quo is not None)
    K, flat = cx.K, cx.flat
    cb = ColumnBuilder(cx.cid, cx.fields_arr, cx.pair_county, cx.pair_field, cx.nf, H)
    groups: list[Groups] = []

    c_sp, g_sp = special_posts(cx, cb)
    groups += g_sp
    c_pu = purchased_posts(cx, cb)
    vacant_posts = flat(np.maximum(0.0, cx.A - cx.P))
    c_pl, g_pl = programme_places(cx, cb, vacant_posts)
    groups += g_pl
    c_dh = direct_hires(cx, cb, vacant_posts)
    groups += promotions(cx, cb)
    groups += subsidies(cx, cb)

    # programme places and direct hires per county x field: at most the vacant authorized posts
    bounded = c_pl + ([c_dh] if len(c_dh) else [])
    if bounded:
        allp = np.concatenate(bounded)
        kp = cb.home_pair(allp)
        k_u, inv = np.unique(kp, return_inverse=True)
        groups.append(cb.pair_rows("county_bound", k_u, inv.astype(np.int64), allp, np.ones(len(allp)),
                                   vacant_posts[k_u], cx.prov, name_prefix="places_bound"))

    # recruit supply per province x field
    rec = sc.recruitment
    apv = np.array([rec.applicants_per_vacancy[f] for f in FIELDS])
    mu = rec.recruit_skill_mean
    qual = (1 - norm.cdf(rec.entry_threshold - mu)) / max(1e-12, 1 - norm.cdf(-mu))
    pool = apv[None, :] * (1 + rec.hardship_tilt * cx.cls[:, None]) * qual * cx.vac
    spare = np.maximum(0.0, pool - cx.q * (cx.p_pair + cx.r) * cx.S)
    sup = np.concatenate([c_sp, c_pu] + c_pl)
    if len(sup):
        ks = cb.home_pair(sup)
        key = cx.prov[cx.pair_county[ks]] + "|" + cx.fields_arr[cx.pair_field[ks]]
        spare_pf = {f"{p_}|{f}": float(spare[cx.prov == p_, j].sum()) for p_ in np.unique(cx.prov) for j, f in enumerate(FIELDS)}
        groups.append(grouped("supply", key, sup, np.ones(len(sup)), lambda k: spare_pf[k],
                              cx.prov[cx.pair_county[ks]], cx.fields_arr[cx.pair_field[ks]]))

    # payer budgets
    gap_w = flat(cx.w_county[:, None] * np.maximum(0.0, cx.D - cx.P))
    region_gap = {rg: gap_w[cx.reg[cx.pair_county] == rg].sum() for rg in cx.region_payer}
    tot_gap = sum(region_gap.values())
    if tot_gap > 0:
        share = sum(cx.region_payer[rg] * region_gap[rg] / tot_gap for rg in cx.region_payer)
    else:
        share = np.mean([cx.region_payer[rg] for rg in cx.region_payer], axis=0)
    payer_share = share * (1 + PAYER_HEADROOM)
    budget = float(sc.budget.total_yuan if budget_yuan is None else budget_yuan)
    if payer_budget:
        pb, pshare, fixed = np.array([float(payer_budget.get(q, math.inf)) for q in PAYERS]), None, True
    else:
        pb, pshare, fixed = payer_share * budget, payer_share, False
    d_sen, d_int = pay_rises(cx)
    notes = {
        "horizon_years": H,
        "target_year": H,
        "status_quo": {"source": cx.source, "demand": float(cx.D.sum()), "staff": float(cx.S.sum()),
                       "expected_exits": float(cx.exits.sum()), "baseline_staff": float(cx.P.sum())},
        "accounting": ("horizon-average staff (persons) and horizon-average cost (yuan/year); see optimizer.inputs"
                       if status_quo is None else
                       "staff at the end of the target year (persons) and average cost over years 1..H (yuan/year)"),
        "assumptions": dict(ASSUMPTIONS),
        "payer_budget_share": dict(zip(PAYERS, payer_share.round(6).tolist())),
        "payer_budget_explicit": bool(fixed),
        "promotion_pay_rise_yuan_month": {"senior": d_sen, "intermediate": d_int},
        "special_post_grade": int(sc.posts.special_post_grade),
    }
    cols = cb.finish(K, at_age=H if status_quo is not None else None)
    if status_quo is not None and status_quo.effect_factor is not None:
        cols = _scale_effects(cols, status_quo.effect_factor, cx)
    weight = cx.w_county[cx.pair_county].astype(float)
    pair_field = cx.fields_arr[cx.pair_field]
    fields = tuple(fields) if fields else tuple(FIELDS)
    in_scope = np.isin(pair_field, list(fields))
    coverage_target = None
    if targets or len(fields) < len(FIELDS):
        coverage_target = np.array([float(targets.get(f, np.nan)) if targets else np.nan for f in pair_field])
        coverage_target[~in_scope] = -1.0       # no target (NaN: the allocator's target)
    if len(fields) < len(FIELDS):
        weight = np.where(in_scope, weight, 0.0)
        home = np.concatenate(cb.parts["home"])
        off = (home >= 0) & ~in_scope[np.maximum(home, 0)]
        cols["col_upper"] = np.where(off, 0.0, cols["col_upper"])
        notes["fields"] = list(fields)
    inp = AllocationInputs(
        county_id=cx.cid[cx.pair_county], province=cx.prov[cx.pair_county], region=cx.reg[cx.pair_county],
        field=pair_field, demand=flat(cx.D), baseline_staff=flat(cx.P), weight=weight, groups=Groups.concat(groups),
        budget_yuan=budget, payer_budget_yuan=pb, payer_budget_share=pshare, payer_budget_fixed=fixed, notes=notes,
        demand_by_year=cx.D_by_year.reshape(K, H), baseline_by_year=cx.P_by_year.reshape(K, H),
        coverage_target=coverage_target, **cols,
    )
    inp.validate()
    return inp


def _scale_effects(cols: dict, factor: pd.DataFrame, cx: Context) -> dict:
    """Multiply each effect entry (pair k, column j) by the factor of (county, field of k, lever of j); missing = 1."""
    need = {"county_id", "field", "lever", "factor"}
    if not need.issubset(factor.columns):
        raise OptimizerInputError([f"status_quo.effect_factor: missing column(s) {', '.join(sorted(need - set(factor.columns)))} "
                                   "(allowed: county_id, field, lever, factor)"])
    lut = {(str(c), str(f), str(lv)): float(v) for c, f, lv, v in
           factor[["county_id", "field", "lever", "factor"]].itertuples(index=False)}
    bad = [k for k, v in lut.items() if not (math.isfinite(v) and v >= 0)]
    if bad:
        raise OptimizerInputError([f"status_quo.effect_factor: {bad[0]} = {lut[bad[0]]!r} (allowed: a finite factor >= 0)"])

    fac = pd.Series(lut, dtype=float)
    fac.index = pd.MultiIndex.from_tuples(fac.index, names=["county_id", "field", "lever"]) if len(fac) else fac.index

    def scaled(m):
        coo = m.tocoo()
        if not len(fac):
            return m
        idx = pd.MultiIndex.from_arrays([cx.cid[cx.pair_county[coo.row]].astype(str), cx.fields_arr[cx.pair_field[coo.row]].astype(str),
                                         np.asarray(cols["col_lever"], dtype=str)[coo.col]])
        f = fac.reindex(idx).fillna(1.0).to_numpy(float)
        return sp.csc_matrix((coo.data * f, (coo.row, coo.col)), shape=m.shape)

    out = dict(cols)
    out["effect"] = scaled(cols["effect"])
    out["effect_by_age"] = tuple(scaled(m) for m in cols["effect_by_age"])
    return out


__all__ = ["from_scenario", "check_options", "select_table", "ASSUMPTIONS", "PAYER_HEADROOM"]
