"""County personnel bureaus: the Mesa agents that hold a county's institutional state and decide.

One :class:`CountyBureau` per county-level unit.  Its state lives in the
model's :class:`Institutions` arrays (one row per county); the bureau holds
*views* of its own row, so what it writes is what the model reads, with no
copying.  A bureau decides, each year:

* ``plan_posts`` (start of the year): the senior and intermediate posts its
  ratio caps allow (with the scenario's uplift) out of this year's authorized
  posts, the directed senior posts under the total control, and the township
  special posts it creates;
* ``plan_transfers`` (after exits, with internal moves on): how many of its
  county-seat vacancies it offers to staff moving in (``simulator.mobility``);
  it then takes the best applicants up to that number;
* ``plan_recruitment`` (after exits and appointments, given the vacancies the
  model counted): how many programme participants it places in township
  vacancies, and its open-recruitment quota.

The rules themselves are the vectorised functions of ``posts``,
``programmes`` and ``recruitment``, written for arrays of shape ``[..., F, T]``:
a bureau applies them to its row; in ``batch`` mode (``ModelOptions``) the
model applies the very same functions to all rows at once, which is faster
for thousands of counties and gives identical results (tested).  The
recruitment plan runs as one compiled call with the same arithmetic
(``kernels.bureau_recruitment``; ``plan_recruitment_numpy`` is the numpy
reference, tested equal), for one row or all.  Decisions
about individual professionals (who is appointed, who is recruited) are then
carried out by the model in batch over the structure of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from . import kernels, posts, programmes, recruitment
from .params import COUNTY, NF, NP, NT, Params, TOWNSHIP


@dataclass
class Institutions:
    """Institutional state of every county (first axis = county)."""

    authorized: np.ndarray      # [C, F, T] authorized posts
    senior_cap: np.ndarray      # [C, F, T] senior posts allowed by the cap
    inter_cap: np.ndarray       # [C, F, T] intermediate posts allowed by the cap
    directed_total: np.ndarray  # [C, F, T] directed senior posts allowed (township only)
    special_stock: np.ndarray   # [C, F, T] special posts created so far (township only)
    special_carry: np.ndarray   # [C, F] fractional special posts carried
    special_created: np.ndarray  # [C, F] created this year
    prog_rate: np.ndarray       # [C, P, F] programme places per year (entitlement)
    prog_carry: np.ndarray      # [C, P, F] fractional places carried
    prog_placed: np.ndarray     # [C, P, F] placed this year
    prog_unfilled: np.ndarray   # [C, P, F] entitled but not placed this year
    vacancies: np.ndarray       # [C, F, T] vacancies after exits (input to plan_recruitment)
    quota_carry: np.ndarray     # [C, F, T] fractional quota carried
    quota: np.ndarray           # [C, F, T] open-recruitment quota this year
    transfer_offers: np.ndarray = None  # [C, F, T] posts offered to internal moves this year (county seat only)
    transfer_carry: np.ndarray = None   # [C, F, T] fractional offers carried

    @classmethod
    def create(cls, authorized: np.ndarray, prog_rate: np.ndarray) -> "Institutions":
        c = authorized.shape[0]
        z = lambda *shape: np.zeros(shape, dtype=float)  # noqa: E731
        return cls(authorized=authorized.astype(float), senior_cap=z(c, NF, NT), inter_cap=z(c, NF, NT),
                   directed_total=z(c, NF, NT), special_stock=z(c, NF, NT), special_carry=z(c, NF),
                   special_created=z(c, NF), prog_rate=prog_rate.astype(float), prog_carry=z(c, NP, NF),
                   prog_placed=z(c, NP, NF), prog_unfilled=z(c, NP, NF), vacancies=z(c, NF, NT),
                   quota_carry=z(c, NF, NT), quota=z(c, NF, NT), transfer_offers=z(c, NF, NT),
                   transfer_carry=z(c, NF, NT))

    def row(self, i: int) -> "Institutions":
        """Views of county ``i``'s rows (writes go through to these arrays)."""
        return Institutions(**{k: getattr(self, k)[i] for k in self.__dataclass_fields__})


def plan_posts(p: Params, s: Institutions, first_year: bool = True) -> None:
    """Caps, directed-post total and special posts for the year (one county's rows or all).

    The cap plan depends only on the authorized posts and the scenario.  With
    constant demand both are fixed during a run, so it is made in the first
    year and kept; when demand changes over the years (``demand.growth_per_year``)
    the model sets each year's authorized posts and the plan is made every year.
    """
    if first_year or np.any(p.demand_growth):
        posts.plan_caps(p, s.authorized, s.senior_cap, s.inter_cap, s.directed_total)
    if np.count_nonzero(p.special_posts_per_county):
        posts.create_special_posts(p, s.special_carry, s.special_stock, s.special_created)


def plan_transfers(p: Params, s: Institutions) -> None:
    """Posts offered to internal moves (``simulator.mobility``), county-seat units only (one county's rows or all).

    offers = floor(carry + ``transfer_share_of_vacancies`` x vacancies after exits + 1e-9), the fraction
    carried (at most 1); township units offer none (moves go up to county seats).
    """
    c = s.transfer_carry[..., COUNTY] + p.transfer_share * s.vacancies[..., COUNTY]
    q = np.floor(c + 1e-9)
    s.transfer_carry[..., COUNTY] = np.minimum(c - q, 1.0)
    s.transfer_offers[...] = 0.0
    s.transfer_offers[..., COUNTY] = q


RECRUITMENT_STATE = ("prog_rate", "prog_carry", "vacancies", "prog_placed", "prog_unfilled", "quota_carry", "quota")


def recruitment_views(s: Institutions) -> tuple[np.ndarray, ...]:
    """The arrays ``plan_recruitment`` reads and writes, as 3-d views [rows, ..., ...] (one row for a bureau)."""
    return tuple(getattr(s, k).reshape((-1,) + getattr(s, k).shape[-2:]) for k in RECRUITMENT_STATE)


def plan_recruitment(p: Params, s: Institutions, views: tuple[np.ndarray, ...] | None = None) -> None:
    """Programme placements into township vacancies, then the open-recruitment quota.

    The rules are ``programmes.place`` and ``recruitment.plan_quota``
    (:func:`plan_recruitment_numpy`); they run as one compiled call
    (``kernels.bureau_recruitment``, the same arithmetic, tested equal),
    since a bureau's arrays are tiny and numpy's per-call overhead dominated.
    ``views``: ``recruitment_views(s)`` if the caller keeps them.
    """
    kernels.bureau_recruitment(*(recruitment_views(s) if views is None else views), float(p.quota_share), TOWNSHIP)


def plan_recruitment_numpy(p: Params, s: Institutions) -> None:
    """:func:`plan_recruitment` with the numpy rule functions (the reference)."""
    programmes.place(s.prog_rate, s.prog_carry, s.vacancies[..., TOWNSHIP], s.prog_placed, s.prog_unfilled)
    remaining = s.vacancies.copy()
    remaining[..., TOWNSHIP] -= s.prog_placed.sum(axis=-2)
    recruitment.plan_quota(p, remaining, s.quota_carry, s.quota)


class CountyBureau(mesa.Agent):
    """The personnel bureau of one county-level unit (see module docstring)."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)
        geo = model.geo
        self.county_id = str(geo.county_id[index])
        self.province = str(geo.province[index])
        self.region = int(geo.region[index])
        self.hardship_class = int(geo.hardship[index])
        self.remoteness = float(geo.remoteness[index])
        self.state = model.inst.row(index)
        self._recruitment_views = None      # recruitment_views(self.state), made on first use

    def plan_posts(self) -> None:
        plan_posts(self.model.p, self.state, first_year=self.model.steps <= 1)

    def plan_transfers(self) -> None:
        plan_transfers(self.model.p, self.state)

    def plan_recruitment(self) -> None:
        if self._recruitment_views is None:
            self._recruitment_views = recruitment_views(self.state)
        plan_recruitment(self.model.p, self.state, self._recruitment_views)

    def __repr__(self) -> str:
        return f"CountyBureau({self.county_id})"
