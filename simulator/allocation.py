"""Apply an allocation table (``allocation.csv``, :mod:`scenarios.levers`) on top of a scenario.

``simulate(..., allocation=df)`` validates ``df`` with
``scenarios.validate_allocation`` (unknown levers, bad numbers -> error) and
turns it into per-year, per-county arrays (:class:`AllocationArrays`, picklable)
for the simulated county table.  Rows for counties outside that table are
ignored.  A row applies from its ``year`` (1 = the first simulated year; a table
without a ``year`` column applies everything from year 1).  Per county x field,
a row of year ``y`` acts as follows:

* ``special_post``: that many extra township special posts are created in
  year y, outside unit totals and caps, added to the special-post stock and
  filled (and refilled) like every other special post, in every later year;
* ``purchased_post`` (政府购买岗位, 57号 §16): that many township posts outside unit
  totals are added to the special-post stock in year y for
  ``scenarios.levers.PURCHASED_POST["term_years"]`` years, filled like special
  posts; at the end of the term the posts are withdrawn (holders stay until
  they leave; vacancies are not refilled);
* ``direct_hire`` (直接考察, 57号 §7): that many people are placed in year y in
  the county's township unit of the field, outside the vacancy check, in
  编制, at grade ``DIRECT_HIRE["grade"]`` with skill ``DIRECT_HIRE["skill_z"]``
  standard deviations above an open-market recruit's;
* ``place_<programme>``: that many extra participants of the programme are
  placed in year y in the county's township unit of the field, with the
  programme's obligation, subsidy and skill (outside the vacancy check);
* ``senior_post`` / ``intermediate_post``: the township unit's senior /
  intermediate cap count is raised by that many posts from year y on;
* ``directed_senior_post``: the township unit's directed senior post count
  is raised by that many posts from year y on;
* ``township_subsidy`` (yuan/month per person): added from year y on to the
  monthly income of every township staff member of the county, costed to
  ``cost_township_subsidy_yuan`` (paid even when the scenario pays no
  township subsidy);
* ``hardship_topup`` (yuan/month per person): added from year y on to the
  hardship allowance of every staff member of the county (it also raises
  applicants like the allowance does), costed to ``cost_hardship_allowance_yuan``.

Levels add up over the years: a subsidy row of year 1 and one of year 3 give
their sum from year 3 on.  The subsidies are decided per county and reported on
every field: the county's amount in a year is the largest quantity over its rows
of that year (the rows repeat it).  Posts and persons are whole: a cell's
quantity is rounded to the nearest integer (a fractional LP allocation is
therefore approximated).  Senior, intermediate and directed posts and direct
hires go to the township unit (assumption: the allocation targets grassroots
posts).  Rows of years beyond the simulated horizon never act.  An all-zero
allocation leaves every random draw and result identical to a run without it
(tested).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .params import FIELDS, NF, NP, PROGRAMMES

#: recruit-id channel of direct hires (after the programme channels; ids stay distinct from every other entry)
CH_DIRECT = 3 + NP


@dataclass(frozen=True)
class AllocationArrays:
    """Per-year, per-county extras of an allocation, in the simulated table's county order.

    The first axis is the year from which the amount applies (index 0 = year 1).
    """

    special: np.ndarray        # [Y, C, F] extra special posts created in year y
    places: np.ndarray         # [Y, C, P, F] extra programme participants placed in year y
    senior: np.ndarray         # [Y, C, F] senior cap raised from year y (township unit)
    intermediate: np.ndarray   # [Y, C, F] intermediate cap raised from year y (township unit)
    directed: np.ndarray       # [Y, C, F] directed senior posts raised from year y (township unit)
    township_subsidy: np.ndarray  # [Y, C] yuan/month per township staff member added from year y
    hardship_topup: np.ndarray    # [Y, C] yuan/month per staff member added from year y
    purchased: np.ndarray      # [Y, C, F] government-purchased posts added in year y (for the term)
    direct: np.ndarray         # [Y, C, F] direct hires placed in year y

    @classmethod
    def zeros(cls, n_counties: int, n_years: int = 1) -> "AllocationArrays":
        z = lambda *s: np.zeros((n_years,) + s)  # noqa: E731
        c = n_counties
        return cls(z(c, NF), z(c, NP, NF), z(c, NF), z(c, NF), z(c, NF), z(c), z(c), z(c, NF), z(c, NF))

    @property
    def n_counties(self) -> int:
        return self.special.shape[1]

    @property
    def n_years(self) -> int:
        return self.special.shape[0]

    def is_empty(self) -> bool:
        return not any(np.any(getattr(self, k)) for k in self.__dataclass_fields__)

    def digest(self) -> str:
        h = hashlib.sha256()
        for k in self.__dataclass_fields__:
            h.update(np.ascontiguousarray(getattr(self, k), dtype=float).tobytes())
        return h.hexdigest()

    # -- per simulated year t (1-based)
    def at(self, name: str, t: int) -> np.ndarray:
        arr = getattr(self, name)
        return arr[t - 1] if 1 <= t <= self.n_years else np.zeros(arr.shape[1:])

    def upto(self, name: str, t: int) -> np.ndarray:
        arr = getattr(self, name)
        return arr[:max(0, min(t, self.n_years))].sum(axis=0)

    def subsidies(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(township subsidy, hardship top-up) per county in year t (yuan/month per person)."""
        return self.upto("township_subsidy", t), self.upto("hardship_topup", t)

    def purchased_change(self, t: int, term: int) -> np.ndarray:
        """Purchased posts added in year t less those whose term ended (added in year t - term) [C, F]."""
        return self.at("purchased", t) - self.at("purchased", t - term)


_CELL = {"special_post": "special", "senior_post": "senior", "intermediate_post": "intermediate",
         "directed_senior_post": "directed", "purchased_post": "purchased", "direct_hire": "direct"}


def allocation_arrays(df: pd.DataFrame, county_ids) -> AllocationArrays:
    """Validate ``df`` and build its arrays for the counties ``county_ids`` (table order)."""
    import scenarios
    df = scenarios.validate_allocation(df)
    if "year" not in df.columns:
        df = df.assign(year=1)
    ids = [str(c) for c in county_ids]
    n_years = int(df["year"].max()) if len(df) else 1
    out = AllocationArrays.zeros(len(ids), n_years)
    index = {c: i for i, c in enumerate(ids)}
    fidx = {f: j for j, f in enumerate(FIELDS)}
    pidx = {f"place_{p}": j for j, p in enumerate(PROGRAMMES)}
    acc: dict[tuple, float] = {}
    for row in df.itertuples(index=False):
        i = index.get(row.county_id)
        if i is None:
            continue
        f = fidx[row.field]
        y = int(row.year) - 1
        q = float(row.quantity)
        if row.lever in ("township_subsidy", "hardship_topup"):
            arr = getattr(out, row.lever)
            arr[y, i] = max(arr[y, i], q)
        else:
            acc[(row.lever, y, i, f)] = acc.get((row.lever, y, i, f), 0.0) + q
    for (lever, y, i, f), q in acc.items():
        n = np.floor(q + 0.5)
        if lever in pidx:
            out.places[y, i, pidx[lever], f] += n
        else:
            getattr(out, _CELL[lever])[y, i, f] += n
    return out


def apply_posts(a: AllocationArrays, inst, t: int, replan: bool, township: int) -> None:
    """The allocation's caps, directed posts, special and purchased posts of year ``t`` (township units).

    ``replan``: the bureaus re-planned the caps this year (year 1, or demand varies), so the
    cumulative amounts to year t are added; otherwise only year t's.
    """
    from scenarios.levers import PURCHASED_POST
    get = a.upto if replan else a.at
    inst.senior_cap[..., township] += get("senior", t)
    inst.inter_cap[..., township] += get("intermediate", t)
    inst.directed_total[..., township] += get("directed", t)
    special = a.at("special", t)
    inst.special_stock[..., township] += special + a.purchased_change(t, int(PURCHASED_POST["term_years"]))
    inst.special_created += special


def direct_hire_columns(a: AllocationArrays, p, t: int, seed: int, unit_tier, unit_remote, township: int, nt: int):
    """Columns of the people hired directly in year ``t`` (``None`` if none)."""
    from scenarios.levers import DIRECT_HIRE

    from . import recruitment
    hires = a.at("direct", t)                      # [C, F]
    if not hires.any():
        return None
    counts = np.zeros(hires.shape + (nt,))
    counts[..., township] = hires
    unit, rank = recruitment.expand_units(counts.reshape(-1))
    unit = unit.astype(np.int32)
    cols = recruitment.new_people(p, t, seed, unit, rank, CH_DIRECT, skill=None, grade=int(DIRECT_HIRE["grade"]),
                                  contract=np.zeros(len(unit), dtype=bool), unit_tier=unit_tier, unit_remote=unit_remote)
    cols["skill"] = (cols["skill"] + float(DIRECT_HIRE["skill_z"]) * p.skill_sd).astype(cols["skill"].dtype)
    return cols


__all__ = ["AllocationArrays", "allocation_arrays", "apply_posts", "direct_hire_columns", "CH_DIRECT"]
