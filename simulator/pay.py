"""Pay (57号 §9): each professional's monthly income by component, and the yearly cost of each lever.

Monthly income of a professional (yuan/month)::

    base          = base_by_grade[grade]
    performance   = base x (performance_share + performance_tilt_township if in a township)
    hardship      = hardship_allowance_by_class[county class] x (1 + hardship_growth)^t   (t = simulated year, 1..)
    township      = township_subsidy_by_band[band(years served: <10, 10-20, >20)]
                    + township_subsidy_remote_extra if in a remote township       (only when township_subsidy is on)
    programme     = programme subsidy_yuan_per_year / 12 while serving a programme term

The same function feeds the stay/leave decision (``behaviour``) and the cost
accounts, so what people respond to is what is paid.  Everyone in post at the
pay step is paid for the whole year (12 months; assumption: entries and exits
happen at year boundaries).  Costs are attributed to a lever and to a payer:
programme subsidies to the programme's payer, everything else by
``budget.payer_shares`` of the county's region.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .params import NP, TOWNSHIP, Params


def hardship_allowance_now(p: Params, hardship_class: np.ndarray, t: int) -> np.ndarray:
    """Monthly hardship allowance by county class in simulated year ``t`` (0 for class 0)."""
    return p.hardship_allowance[hardship_class] * (1.0 + p.hardship_growth) ** max(t, 0)


def subsidy_band(served: np.ndarray) -> np.ndarray:
    """Township-subsidy band: 0 (<10 years served), 1 (10-20), 2 (>=20)."""
    return (served >= 10).astype(np.int8) + (served >= 20).astype(np.int8)


def base_and_performance_table(p: Params) -> np.ndarray:
    """Monthly base + performance pay by [tier, grade-1]."""
    tilt = np.array([0.0, p.performance_tilt_township])
    return p.base_by_grade[None, :] * (1.0 + p.performance_share + tilt[:, None])


def monthly_income(p: Params, staff, unit_tier: np.ndarray, unit_allowance: np.ndarray) -> np.ndarray:
    """Monthly income (yuan) of every professional; ``unit_allowance`` = hardship allowance per unit this year."""
    tier = unit_tier[staff.unit]
    bp = base_and_performance_table(p)
    inc = bp[tier, staff.grade.astype(np.intp) - 1] + unit_allowance[staff.unit]
    if p.township_subsidy:
        inc = inc + township_subsidy(p, staff, tier)
    if staff.in_term.any():
        idx = np.flatnonzero(staff.in_term)
        inc[idx] += p.prog_subsidy[staff.programme[idx]] / 12.0
    return inc


def township_subsidy(p: Params, staff, tier: np.ndarray) -> np.ndarray:
    """Monthly township work subsidy of every professional (0 in county-seat units or when off)."""
    if not p.township_subsidy:
        return np.zeros(len(staff))
    amount = p.township_subsidy_by_band[subsidy_band(staff.served)] + p.township_subsidy_remote_extra * staff.remote
    return np.where(tier == TOWNSHIP, amount, 0.0)


def pay_tallies(p: Params, staff, n_units: int, unit_tier: np.ndarray):
    """Per-unit tallies the pay accounts need, in one compiled pass (``kernels.pay_counts``).

    (persons per [unit, grade] int64 [units x 13], sum of monthly township
    subsidies per unit in yuan/month [units] (zeros when the scenario pays
    none), persons in a programme term per [unit, programme] int64 [units x P]).
    The model counts them in its year-end pass instead (``kernels.year_end``).
    """
    counts_ug = np.zeros(n_units * 13, dtype=np.int64)
    town = np.zeros(n_units, dtype=np.float64)
    prog = np.zeros(n_units * NP, dtype=np.int64)
    kernels.pay_counts(staff.unit, staff.grade, staff.served, staff.remote, staff.in_term, staff.programme,
                       unit_tier, bool(p.township_subsidy), p.township_subsidy_by_band.astype(np.float64),
                       float(p.township_subsidy_remote_extra), NP, counts_ug, town, prog)
    return counts_ug.reshape(n_units, 13), town, prog.reshape(n_units, NP)


def yearly_costs(p: Params, staff, n_units: int, unit_tier: np.ndarray, unit_allowance: np.ndarray,
                 unit_subsidy: np.ndarray | None = None, tallies=None) -> dict[str, np.ndarray]:
    """Cost per unit of each pay lever for the year (yuan), and programme subsidies per [unit, programme].

    ``unit_subsidy``: an extra township subsidy per unit (yuan/month per person, an allocation's),
    costed to ``township_subsidy``.  ``tallies``: :func:`pay_tallies` of ``staff`` if the caller has them.
    """
    counts_i, town_sum, prog_counts = pay_tallies(p, staff, n_units, unit_tier) if tallies is None else tallies
    counts_ug = counts_i.astype(float)
    base_u = counts_ug @ p.base_by_grade * 12.0
    perf_share = p.performance_share + np.where(unit_tier == TOWNSHIP, p.performance_tilt_township, 0.0)
    perf_u = base_u * perf_share
    staff_u = counts_ug.sum(axis=1)
    hard_u = staff_u * unit_allowance * 12.0
    if p.township_subsidy:
        town_u = town_sum * 12.0
    else:
        town_u = np.zeros(n_units)
    if unit_subsidy is not None:
        town_u = town_u + counts_i.sum(axis=1) * unit_subsidy * 12.0
    prog_up = prog_counts * p.prog_subsidy[None, :]
    return {"base_pay": base_u, "performance_pay": perf_u, "hardship_allowance": hard_u,
            "township_subsidy": town_u, "programme": prog_up}
