"""Apply an allocation table (``allocation.csv``, :mod:`scenarios.levers`) on top of a scenario.

``simulate(..., allocation=df)`` validates ``df`` with
``scenarios.validate_allocation`` (unknown levers, bad numbers -> error) and
turns it into per-county arrays (:class:`AllocationArrays`, picklable) for the
simulated county table.  Rows for counties outside that table are ignored.
Per county x field, each lever acts as follows (all from simulated year 1):

* ``special_post``: that many extra township special posts are created in
  year 1, outside unit totals and caps, added to the special-post stock and
  filled (and refilled) like every other special post;
* ``place_<programme>``: that many extra participants of the programme are
  placed in year 1 in the county's township unit of the field, with the
  programme's obligation, subsidy and skill (outside the vacancy check);
* ``senior_post`` / ``intermediate_post``: the township unit's senior /
  intermediate cap count is raised by that many posts (from the year-1 plan);
* ``directed_senior_post``: the township unit's directed senior post count
  is raised by that many posts;
* ``township_subsidy`` (yuan/month per person): added to the monthly income
  of every township staff member of the county, costed to
  ``cost_township_subsidy_yuan`` (paid even when the scenario pays no
  township subsidy);
* ``hardship_topup`` (yuan/month per person): added to the hardship
  allowance of every staff member of the county (it also raises applicants
  like the allowance does), costed to ``cost_hardship_allowance_yuan``.

The subsidies are decided per county and reported on every field: the
county's amount is the largest quantity over its rows (the rows repeat it).
Posts and persons are whole: a cell's quantity is rounded to the nearest
integer (a fractional LP allocation is therefore approximated).  Senior,
intermediate and directed posts go to the township unit (assumption: the
allocation targets grassroots posts).  An all-zero allocation leaves every
random draw and result identical to a run without it (tested).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .params import FIELDS, NF, NP, PROGRAMMES


@dataclass(frozen=True)
class AllocationArrays:
    """Per-county extras of an allocation, in the simulated table's county order."""

    special: np.ndarray        # [C, F] extra special posts created in year 1
    places: np.ndarray         # [C, P, F] extra programme participants placed in year 1
    senior: np.ndarray         # [C, F] senior cap raised (township unit)
    intermediate: np.ndarray   # [C, F] intermediate cap raised (township unit)
    directed: np.ndarray       # [C, F] directed senior posts raised (township unit)
    township_subsidy: np.ndarray  # [C] yuan/month per township staff member
    hardship_topup: np.ndarray    # [C] yuan/month per staff member

    @classmethod
    def zeros(cls, n_counties: int) -> "AllocationArrays":
        z = lambda *s: np.zeros(s)  # noqa: E731
        c = n_counties
        return cls(z(c, NF), z(c, NP, NF), z(c, NF), z(c, NF), z(c, NF), z(c), z(c))

    def is_empty(self) -> bool:
        return not any(np.any(getattr(self, k)) for k in self.__dataclass_fields__)

    def digest(self) -> str:
        h = hashlib.sha256()
        for k in self.__dataclass_fields__:
            h.update(np.ascontiguousarray(getattr(self, k), dtype=float).tobytes())
        return h.hexdigest()


_CELL = {"special_post": "special", "senior_post": "senior", "intermediate_post": "intermediate",
         "directed_senior_post": "directed"}


def allocation_arrays(df: pd.DataFrame, county_ids) -> AllocationArrays:
    """Validate ``df`` and build its arrays for the counties ``county_ids`` (table order)."""
    import scenarios
    df = scenarios.validate_allocation(df)
    ids = [str(c) for c in county_ids]
    out = AllocationArrays.zeros(len(ids))
    index = {c: i for i, c in enumerate(ids)}
    fidx = {f: j for j, f in enumerate(FIELDS)}
    pidx = {f"place_{p}": j for j, p in enumerate(PROGRAMMES)}
    acc: dict[tuple, float] = {}
    for row in df.itertuples(index=False):
        i = index.get(row.county_id)
        if i is None:
            continue
        f = fidx[row.field]
        q = float(row.quantity)
        if row.lever in ("township_subsidy", "hardship_topup"):
            arr = getattr(out, row.lever)
            arr[i] = max(arr[i], q)
        else:
            acc[(row.lever, i, f)] = acc.get((row.lever, i, f), 0.0) + q
    for (lever, i, f), q in acc.items():
        n = np.floor(q + 0.5)
        if lever in pidx:
            out.places[i, pidx[lever], f] += n
        else:
            getattr(out, _CELL[lever])[i, f] += n
    return out


__all__ = ["AllocationArrays", "allocation_arrays"]
