"""Professionals as a structure of arrays, and the initial stock built from the county table.

Each professional is one position in a set of parallel numpy arrays (``Staff``);
nobody is a Python object.  Geography is the *unit*: one county x field x tier
(``unit = (county * 5 + field) * 2 + tier``, tier 0 county seat, 1 township);
the *cell* ``unit // 2`` is county x field, the level at which metrics are
reported.

Columns (dtype, unit):

==============  =======  =============================================================
``pid``         uint64   person id (initial stock 0..N0-1; recruits see ``rng.recruit_ids``)
``unit``        int32    county x field x tier
``age``         float32  years of age
``served``      float32  years of grassroots service
``at_title``    float32  years since the current title was obtained
``at_grade``    float32  years at the current grade
``grade``       int8     professional grade 1 (top) .. 13
``post``        int8     level of the post held: 0 junior (grades 11-13), 1 intermediate (8-10), 2 senior (1-7)
``title``       int8     title (qualification) held: 0 junior, 1 intermediate, 2 senior
``kind``        int8     post kind: 0 regular (counts against unit totals and caps), 1 special post
                         (特设岗位, outside totals and ratios), 2 directed senior post (outside the cap)
``directed``    bool     the senior title is a directed (定向) one, valid only at the grassroots
``skill``       float32  skill, z-score
``contract``    bool     on a contract outside 编制
``obligation``  int8     service-term years left (programme participants)
``in_term``     bool     still serving a programme term
``programme``   int8     programme index (-1 none)
``channel``     int8     entry channel (``CHANNELS``)
``remote``      bool     works in a remote township
==============  =======  =============================================================

The initial stock (``initial_staff``) has, per unit, the county table's staff
count; ages from the field's age pyramid (``population.age_pyramid``: shares
of staff in the bands entry age-29, 30-34, ..., 50-54, 55-retirement age,
uniform within a band; one national pyramid per field, so the county table's
``mean_age`` columns are not used: assumption, no published county age data);
titles from the table's senior/intermediate shares, given to the oldest
(noisy ranking) staff; posts appointed from titles within the *pre-policy*
caps (without ``cap_uplift``), so that the initial state is the same for every
scenario with the same population parameters; grades within the band from the
years at title, one grade per ``posts.grade_step_years``.  Initial staff carry no
programme obligations (assumption: the programme participants already in post
in 2016 are treated as regular staff).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import kernels, rng
from .params import FIELDS, NF, NT, PROGRAMMES, Params

CHANNELS = ("initial", "open", "special_post") + PROGRAMMES
CH_INITIAL, CH_OPEN, CH_SPECIAL = 0, 1, 2
CH_PROGRAMME0 = 3

# grade bands: level -> (bottom grade, top grade reachable at the grassroots)
BAND_BOTTOM = np.array([13, 10, 7], dtype=np.int8)
BAND_TOP = np.array([11, 8, 5], dtype=np.int8)  # assumption: 正高 grades 1-4 are not modelled at the grassroots
# Years at grade per grade step within a band: a scenario key (``posts.grade_step_years``, used by the
# model as ``Params.grade_step_years``); this is only its baseline value, the default of ``posts.grade_steps``.
GRADE_STEP_YEARS = 3.0

COLUMNS = {
    "pid": np.uint64, "unit": np.int32, "age": np.float32, "served": np.float32,
    "at_title": np.float32, "at_grade": np.float32, "grade": np.int8, "post": np.int8,
    "title": np.int8, "kind": np.int8, "directed": np.bool_, "skill": np.float32,
    "contract": np.bool_, "obligation": np.int8, "in_term": np.bool_, "programme": np.int8,
    "channel": np.int8, "remote": np.bool_,
}


_MOVE_AS = {1: np.uint8, 4: np.uint32, 8: np.uint64}  # columns are moved as raw bytes of their width (fewer compiled variants)


def level_of_grade(grade: np.ndarray) -> np.ndarray:
    """Post level of a grade: 0 junior (11-13), 1 intermediate (8-10), 2 senior (1-7)."""
    g = np.asarray(grade)
    return np.where(g >= 11, 0, np.where(g >= 8, 1, 2)).astype(np.int8)


class Staff:
    """All professionals of a run as parallel arrays (see module docstring).

    Columns are views ``buffer[:n]`` of buffers with spare capacity:
    ``extend`` writes recruits after the last row (growing the buffers by a
    fifth when full) and ``keep`` fills the holes left by leavers with the
    people at the end of the arrays, so a year moves only the leavers'
    share of rows instead of copying every column.  Row order therefore
    changes; nothing in the model depends on it (every draw is keyed by
    person id, every ranking by explicit priorities).  Column views taken
    before ``keep`` or ``extend`` are stale afterwards.
    """

    def __init__(self, columns: dict[str, np.ndarray]):
        n = {len(v) for v in columns.values()}
        if len(n) != 1 or set(columns) != set(COLUMNS):
            raise ValueError("Staff needs every column, all of one length")
        self._n = n.pop()
        self._buf = {k: np.array(columns[k], dtype=dt) for k, dt in COLUMNS.items()}
        self._expose()

    def _expose(self) -> None:
        for k in COLUMNS:
            setattr(self, k, self._buf[k][:self._n])

    def __len__(self) -> int:
        return self._n

    def columns(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in COLUMNS}

    def view(self, start: int, stop: int) -> "Staff":
        """Rows start..stop as views (no copy): writes go through."""
        v = object.__new__(Staff)
        v._n = stop - start
        for k in COLUMNS:
            col = getattr(self, k, None)
            if col is not None:
                setattr(v, k, col[start:stop])
        return v

    def subset(self, idx: np.ndarray, columns=None) -> "Staff":
        """A copy of the rows ``idx`` (of some ``columns``, default all); writes do not go back."""
        v = object.__new__(Staff)
        v._n = len(idx)
        for k in (COLUMNS if columns is None else columns):
            setattr(v, k, getattr(self, k)[idx])
        return v

    def keep(self, mask: np.ndarray, n_new: int | None = None) -> None:
        """Drop everyone where ``mask`` is False (holes filled from the end); ``n_new`` = kept count if known."""
        n = self._n
        if n_new is None:
            n_new = int(np.count_nonzero(mask))
        if n_new == n:
            return
        holes, movers = kernels.holes_and_movers(mask, n_new)
        for k in COLUMNS:
            buf = self._buf[k]
            kernels.move_rows(buf.view(_MOVE_AS[buf.dtype.itemsize]), holes, movers)
        self._n = n_new
        self._expose()

    def extend(self, other: dict[str, np.ndarray]) -> None:
        """Append new people (a dict of the same columns)."""
        k = len(other["pid"])
        if k == 0:
            return
        n, need = self._n, self._n + k
        cap = len(self._buf["pid"])
        if need > cap:
            new_cap = max(need, int(cap * 1.2) + 1024)
            for col, dt in COLUMNS.items():
                grown = np.empty(new_cap, dtype=dt)
                grown[:n] = self._buf[col][:n]
                self._buf[col] = grown
        for col, dt in COLUMNS.items():
            self._buf[col][n:need] = np.asarray(other[col], dtype=dt)
        self._n = need
        self._expose()

    @staticmethod
    def empty_columns(n: int) -> dict[str, np.ndarray]:
        return {k: np.zeros(n, dtype=dt) for k, dt in COLUMNS.items()}


@dataclass(frozen=True)
class Geography:
    """Per-county and per-unit attributes, from the county table (read-only during a run)."""

    county_id: np.ndarray       # [C] str
    province: np.ndarray        # [C] str
    region: np.ndarray          # [C] int8 region index
    hardship: np.ndarray        # [C] int8 class 0-6
    remoteness: np.ndarray      # [C] float share of townships remote
    demand: np.ndarray          # [C, F, T] posts needed
    staff0: np.ndarray          # [C, F, T] initial staff
    senior_share: np.ndarray    # [C, F]
    inter_share: np.ndarray     # [C, F]
    mean_age: np.ndarray        # [C, F]

    @property
    def n_counties(self) -> int:
        return len(self.county_id)

    @property
    def n_units(self) -> int:
        return self.n_counties * NF * NT

    @property
    def n_cells(self) -> int:
        return self.n_counties * NF

    def unit_arrays(self):
        """Per-unit lookups: county, field, tier, region, hardship class, remoteness."""
        u = np.arange(self.n_units)
        county = u // (NF * NT)
        field = (u // NT) % NF
        tier = u % NT
        return county, field, tier, self.region[county], self.hardship[county], self.remoteness[county]


def geography_from_table(table) -> Geography:
    """Read the engine inputs from a county table (``scenarios.county_table`` columns)."""
    from .params import REGIONS, TIERS
    missing = [c for c in _required_columns() if c not in table.columns]
    if missing:
        raise ValueError(f"county table: missing columns {', '.join(missing)}")
    region = table["region"].map({r: i for i, r in enumerate(REGIONS)})
    if region.isna().any():
        bad = sorted(set(table.loc[region.isna(), "region"]))
        raise ValueError(f"county table: unknown region {bad} (allowed: {', '.join(REGIONS)})")

    def grid(prefix):
        return np.stack([np.stack([table[f"{prefix}_{f}_{t}"].to_numpy(dtype=float) for t in TIERS], axis=1)
                         for f in FIELDS], axis=1)

    return Geography(
        county_id=table["county_id"].astype(str).to_numpy(),
        province=table["province"].astype(str).to_numpy(),
        region=region.to_numpy(dtype=np.int8),
        hardship=table["hardship_class"].to_numpy(dtype=np.int8),
        remoteness=table["remoteness"].to_numpy(dtype=float),
        demand=grid("demand"),
        staff0=np.rint(grid("staff")).astype(np.int64),
        senior_share=np.stack([table[f"senior_share_{f}"].to_numpy(dtype=float) for f in FIELDS], axis=1),
        inter_share=np.stack([table[f"intermediate_share_{f}"].to_numpy(dtype=float) for f in FIELDS], axis=1),
        mean_age=np.stack([table[f"mean_age_{f}"].to_numpy(dtype=float) for f in FIELDS], axis=1),
    )


def _required_columns() -> list[str]:
    from .params import TIERS
    cols = ["county_id", "province", "region", "hardship_class", "remoteness"]
    for f in FIELDS:
        cols += [f"demand_{f}_{t}" for t in TIERS] + [f"staff_{f}_{t}" for t in TIERS]
        cols += [f"senior_share_{f}", f"intermediate_share_{f}", f"mean_age_{f}"]
    return cols


def demand_factor(p: Params, t: int) -> np.ndarray | None:
    """Demand in year ``t`` relative to the county table's, per field [F]: (1 + growth)^t; None if constant."""
    if t == 0 or not np.any(p.demand_growth):
        return None
    return (1.0 + p.demand_growth) ** t


def demand_at(p: Params, geo: Geography, t: int = 0) -> np.ndarray:
    """Posts needed per unit [C, F, T] in year ``t`` (``t = 0``: the county table) = demand x (1 + growth[field])^t.

    Not rounded: demand is a need, not a count of posts (``demand.growth_per_year``).
    """
    factor = demand_factor(p, t)
    return geo.demand if factor is None else geo.demand * factor[None, :, None]


def authorized_posts(p: Params, geo: Geography, t: int = 0) -> np.ndarray:
    """Authorized posts (编制) per unit [C, F, T] = round(authorized_share[tier] x demand in year ``t``)."""
    return np.rint(demand_at(p, geo, t) * p.authorized_share[None, None, :]).astype(np.int64)


def cap_posts(share_tf: np.ndarray, authorized: np.ndarray) -> np.ndarray:
    """Posts allowed at a level: floor(cap share x authorized posts), per unit [..., F, T]."""
    return np.floor(authorized * share_tf.T + 1e-9).astype(np.int64)


def rank_within(group: np.ndarray, score: np.ndarray, span: float | None = None) -> np.ndarray:
    """0-based rank of each element within its group, highest score first (ties by position).

    With ``span`` (an upper bound of ``|score|``) a single float sort on
    ``group x 4 span - score`` replaces the two-key lexsort (faster).
    """
    if span is not None:
        order = np.argsort(group.astype(np.float64) * (4.0 * span) - score, kind="stable")
    else:
        order = np.lexsort((-score, group))
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    counts = np.diff(np.r_[start, len(g)])
    ranks_sorted = np.arange(len(g)) - np.repeat(start, counts)
    out = np.empty(len(g), dtype=np.int64)
    out[order] = ranks_sorted
    return out


def tier_title_shares(p: Params, geo: Geography) -> tuple[np.ndarray, np.ndarray]:
    """Senior and intermediate title shares per unit [C, F, T].

    The table gives one share per county and field, blended over tiers; it is
    split across tiers in proportion to the pre-policy caps (assumption), so
    that the staff-weighted blend equals the table's share.
    """
    staff = geo.staff0.astype(float)
    out = []
    for share, cap in ((geo.senior_share, p.senior_cap), (geo.inter_share, p.intermediate_cap)):
        cap_cft = np.broadcast_to(cap.T[None, :, :], staff.shape)  # [C, F, T]
        avg = (cap_cft * staff).sum(axis=2) / np.maximum(staff.sum(axis=2), 1.0)
        factor = np.where(avg > 0, share / np.maximum(avg, 1e-12), 0.0)
        out.append(np.clip(cap_cft * factor[:, :, None], 0.0, 1.0))
    senior, inter = out
    inter = np.minimum(inter, 1.0 - senior)
    return senior, inter


AGE_BAND_EDGES = (30.0, 35.0, 40.0, 45.0, 50.0, 55.0)   # inner edges of population.age_pyramid's 7 bands


def age_cdf(p: Params, field: int) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative share, age) knots of the field's age pyramid: entry age .. retirement age, uniform in bands.

    Bands outside [entry age, retirement age) (a retirement age below 55, an entry age above 30) are cut
    to it; a band left empty loses its share and the others are rescaled to sum to 1 (assumption).
    """
    edges = np.clip(np.array((p.entry_age,) + AGE_BAND_EDGES + (p.retirement_age,)), p.entry_age, p.retirement_age)
    shares = np.where(np.diff(edges) > 0, np.asarray(p.age_pyramid[field], dtype=float), 0.0)
    if shares.sum() <= 0:                           # nothing left: uniform over the working ages
        shares = np.diff(edges)
    cdf = np.r_[0.0, np.cumsum(shares)]
    cdf /= cdf[-1]
    keep = np.r_[True, np.diff(cdf) > 0]            # knots where the CDF rises (empty bands dropped)
    return cdf[keep], edges[keep]


def initial_staff(p: Params, geo: Geography, seed: int) -> Staff:
    """The initial stock of professionals (see module docstring)."""
    n_u = geo.staff0.reshape(-1)
    N = int(n_u.sum())
    nu = geo.n_units
    unit = np.repeat(np.arange(nu, dtype=np.int32), n_u)
    pid = np.arange(N, dtype=np.uint64)
    u_county = np.arange(nu) // (NF * NT)
    u_field = (np.arange(nu) // NT) % NF
    u_tier = np.arange(nu) % NT
    cols = Staff.empty_columns(N)
    cols["pid"], cols["unit"] = pid, unit

    # ages: the field's age pyramid, uniform within a band (inverse of the piecewise-linear CDF)
    u = rng.person_uniforms(seed, 0, rng.INIT_AGE, pid)
    age = np.empty(N)
    person_field = u_field[unit]
    for f in range(NF):
        sel = person_field == f
        if sel.any():
            knots_cdf, knots_age = age_cdf(p, f)
            age[sel] = np.interp(u[sel], knots_cdf, knots_age)
    np.clip(age, p.entry_age, p.retirement_age - 1e-3, out=age)
    cols["age"] = age
    served = (age - p.entry_age).astype(np.float32)
    cols["served"] = served
    u = rng.person_uniforms(seed, 0, rng.INIT_SKILL, pid)
    np.clip(u, 1e-12, 1 - 1e-12, out=u)
    cols["skill"] = special.ndtri(u) * p.skill_sd
    cols["contract"] = rng.person_uniforms(seed, 0, rng.INIT_CONTRACT, pid) < p.init_contract_share[u_tier][unit]
    remote_u = np.where(u_tier == 1, geo.remoteness[u_county], 0.0)
    cols["remote"] = rng.person_uniforms(seed, 0, rng.INIT_REMOTE, pid) < remote_u[unit]

    # titles: the oldest (noisy ranking) hold the higher titles, in the table's shares
    senior_s, inter_s = tier_title_shares(p, geo)
    n_sen = np.rint(senior_s.reshape(-1) * n_u).astype(np.int64)
    n_int = np.rint(inter_s.reshape(-1) * n_u).astype(np.int64)
    n_int = np.minimum(n_int, n_u - n_sen)
    score = rng.person_uniforms(seed, 0, rng.INIT_RANK, pid)
    score *= 8.0
    score += age
    rank = rank_within(unit, score, span=200.0)
    title = (rank < n_sen[unit]).astype(np.int8) + (rank < (n_sen + n_int)[unit])
    cols["title"] = title

    # posts: appointed from titles within the pre-policy caps (most senior first)
    auth = authorized_posts(p, geo)
    cap_sen = cap_posts(p.senior_cap, auth).reshape(-1)
    cap_int = cap_posts(p.intermediate_cap, auth).reshape(-1)
    post = np.zeros(N, dtype=np.int8)
    post[(title == 2) & (rank < cap_sen[unit])] = 2
    # intermediate posts: title >= 1 and not in a senior post, by rank order; rank among them =
    # rank - (senior posts given in the unit), since every senior post holder ranks above them
    given_sen = np.minimum(n_sen, cap_sen)
    cand = (title >= 1) & (post == 0)
    post[cand & (rank - given_sen[unit] < cap_int[unit])] = 1
    cols["post"] = post

    # years at title: uniform over [0, min(served, 2 x min_years)) (assumption)
    u = rng.person_uniforms(seed, 0, rng.INIT_AT_TITLE, pid)
    span = np.minimum(served, 2.0 * p.min_years.astype(np.float32)[np.minimum(title, 1)])
    at_title = (u * span).astype(np.float32)
    cols["at_title"] = at_title
    step_years = np.float32(p.grade_step_years)
    steps = np.floor(at_title / step_years).astype(np.int8)
    cols["grade"] = np.maximum(BAND_BOTTOM[post] - steps, BAND_TOP[post])
    cols["at_grade"] = np.mod(at_title, step_years)
    cols["programme"][:] = -1
    cols["channel"][:] = CH_INITIAL
    return Staff(cols)
