"""Internal moves: talent flow between places (township -> county seat -> other counties), step 2b of the year.

The flow model
--------------
Each year, after the stay/leave decision (``behaviour``: leaving for a city
post, another sector, a reserved province/city post, breaches and term
ends), every professional who stays in the system chooses among three
alternatives by a multinomial logit:

* **stay** in the current unit (utility 0: everything is relative to it);
* move to the **county-seat unit of the same county and field** (township
  staff only);
* move to a **county-seat unit of another county of the same province**
  (township and county-seat staff).

Leaving the profession, for a city or for a province/city post remain the
decisions of ``behaviour``, so the whole choice is a nested logit whose
upper nest (leave or stay in the system) is the calibrated leave logit and
whose lower nest is this one.  With ``b = income_coef / 1000`` (utility per
yuan/month) and the DCE willingness-to-pay figures of ``behaviour``::

    V_seat  = a_seat[f]  + b x [ Y_seat(c, L) - Y_here(u, L, band, remote)   income incl. subsidies and tilt
                                 + WTP_county                               location: county instead of township
                                 + WTP_promotion x (P(seat) - P(here))      career prospects
                                 - cost_within_county ]                     moving cost
                         + age_coef x age band
    V_other = a_other[f] + b x [ - Y_here - WTP_promotion x P(here)
                                 + WTP_county x 1[township] + WTP_hardship x h(c)
                                 - cost_cross_county x (1 - barrier_reduction) ]     57号 §14
                         + age_coef x age band
                         + ln sum_{c' != c} pi(c') exp(b x [Y_seat(c', L) - WTP_hardship x h(c') + WTP_promotion x P(c')])

where ``Y`` is the monthly income of a representative grade of the post
level ``L`` (base + performance with the township tilt + hardship allowance
+ township subsidy by band of years served and remoteness: the §9 levers act
on moves through ``Y_here``), ``P = prospect_score(W)`` with ``W`` = half
the minimum years of the next title step (assumption: the average person is
half-way through them) (divided by ``1 + title_credit`` in a
township: §15 counts township years toward promotion, and a move forfeits
it) + the unit's expected wait for a free post (``behaviour``), and
``pi(c')`` = the destination's share of the transfer posts offered in the
province: destinations are weighted by utility and vacancies.  The log-sum
is the inclusive value of the "other county" nest.  Moves out of a township
unit need ``min_service_years_township`` years served (local practice).

**Vacancies decide.**  The county-seat bureaus (``bureau.plan_transfers``,
the Mesa agents) offer ``transfer_share_of_vacancies`` of their vacancies
after exits to transfers; a person applies to one destination, and each
destination takes its applicants by skill up to its offers
(``kernels.accept_moves``); the rest stay.  A mover keeps title and grade if
the destination has a free post of that level, else takes the highest free
lower level (``kernels.apply_moves``).  Because moves come before
appointments and recruitment, the township posts they empty are filled by
promotion and recruitment later in the year: the township -> county-seat
drain and its vacancy chain are emergent, not imposed.

Coefficients: the WTP terms, ``income_coef`` and the hardship term are those
of ``behaviour`` (DCE, FACTS.md); the moving costs, the transfer share, the
age effect and the minimum service are assumptions (``scenarios/schema.py``);
the intercepts ``a_seat`` and ``a_other`` are calibrated
(``simulator.calibrate_moves``) to ``mobility.move_rate_target`` and
``cross_county_share_target`` (``scenarios/data/published-mobility.toml``).

Speed: the utilities depend on the person only through the post level,
subsidy band, remoteness and age band (54 classes), so the choice
probabilities are tabulated per (unit, class) once a year in numpy
(:func:`move_tables`) and the compiled kernels only look them up and draw.
"""

from __future__ import annotations

import numpy as np

from . import kernels, posts, rng
from .behaviour import appointment_chances, prospect_score
from .params import NF, NT, TOWNSHIP, Params
from .pay import base_and_performance_table
from .population import BAND_TOP

DESTINATIONS = ("county_seat", "other_county", "prefecture_province", "city", "other_sector")
DEST_SEAT, DEST_OTHER, DEST_UPWARD, DEST_CITY, DEST_OTHER_SECTOR = range(5)
# exit reasons (behaviour.EXIT_CODES) that are flows to a place, and their destination codes
EXIT_DESTINATIONS = {"upward": DEST_UPWARD, "city": DEST_CITY, "other_sector": DEST_OTHER_SECTOR}
AGE_LO, AGE_HI = 35.0, 45.0          # age bands: <35, 35-44, >=45 (years; assumption, with mobility.age_coef)
REF_GRADE = np.array([12, 9, 6])     # representative grade of each post level (middle of its band; assumption)
N_COMBO = kernels.N_COMBO
FLOW_COLUMNS = 5                     # flow rows: t, origin unit, destination code, destination county (-1), persons


def province_order(province: np.ndarray):
    """Counties grouped by province: (order, start, end) with ``order[start[c]:end[c]]`` = county c's province."""
    province = np.asarray(province).astype(str)
    order = np.argsort(province, kind="stable")
    ps = province[order]
    bounds = np.r_[0, np.flatnonzero(ps[1:] != ps[:-1]) + 1, len(ps)]
    start = np.empty(len(province), dtype=np.int64)
    end = np.empty(len(province), dtype=np.int64)
    group = np.empty(len(province), dtype=np.int64)
    for g in range(len(bounds) - 1):
        members = order[bounds[g]:bounds[g + 1]]
        start[members], end[members], group[members] = bounds[g], bounds[g + 1], g
    return order.astype(np.int64), start, end, group


def unit_prospects(p: Params, ctx) -> np.ndarray:
    """``P(u, L)`` [units, 3]: career-prospect score of the next promotion from post level L in unit u (see module)."""
    n_u = len(ctx.unit_tier)
    a_i, a_s = appointment_chances(ctx.free_i, ctx.free_s, ctx.wait_i, ctx.wait_s)
    town = ctx.unit_tier == TOWNSHIP
    credit = 1.0 + p.title_credit_township * town
    w = np.full((n_u, 3), 2.0)
    w[:, 0] = 0.5 * p.min_years[0] / credit + 1.0 / a_i
    w[:, 1] = 0.5 * p.min_years[1] / credit + 1.0 / a_s
    return prospect_score(w)


def move_tables(p: Params, ctx, offers_u: np.ndarray, prov) -> dict:
    """This year's choice probabilities and destination weights (see the module docstring).

    ``offers_u`` = transfer posts offered per unit (county-seat units);
    ``prov`` = :func:`province_order`.  Returns ``p_seat``, ``p_other``
    [unit x 54 + class] and ``w``, ``s_excl`` [(field x 3 + level) x C + county].
    """
    b = p.income_coef / 1000.0
    tier, county, field = ctx.unit_tier, ctx.unit_county, ctx.unit_field
    n_u = len(tier)
    n_c = n_u // (NF * NT)
    town = (tier == TOWNSHIP).astype(float)
    bp = base_and_performance_table(p)[:, REF_GRADE - 1]                           # [T, L]
    y_base = bp[tier] + ctx.allowance[:, None]                                       # [U, L]
    sub = np.zeros((3, 2))
    if p.township_subsidy:
        sub = p.township_subsidy_by_band[:, None] + np.array([0.0, p.township_subsidy_remote_extra])[None, :]
    y_here = y_base[:, :, None, None] + town[:, None, None, None] * sub[None, None, :, :]   # [U, L, band, remote]
    pr = unit_prospects(p, ctx)                                                       # [U, L]
    seat = (np.arange(n_u) - tier).astype(np.int64)                                  # the county-seat unit of u
    age = p.move_age_coef * np.arange(3.0)
    y_seat = y_base[seat]                                                             # [U, L] (seat units: tier 0)

    # same county's seat (township origins with an offer there)
    v_seat = (p.move_intercept_seat[field][:, None, None, None]
              + b * ((y_seat + p.wtp_county + p.wtp_promotion * (pr[seat] - pr) - p.moving_cost_county)[:, :, None, None]
                     - y_here))
    can_seat = (tier == TOWNSHIP) & (offers_u[seat] > 0)

    # other counties of the province: inclusive value over destinations weighted by their share of offers
    order, start, end, group = prov
    seat_cf = (np.arange(n_c)[:, None] * NF + np.arange(NF)[None, :]) * NT           # [C, F] seat units
    d = b * (y_base[seat_cf] - p.wtp_hardship * ctx.county_hardship[:, None, None]
             + p.wtp_promotion * pr[seat_cf])                                        # [C, F, L]
    off = offers_u[seat_cf].astype(float)                                            # [C, F]
    w = off[:, :, None] * np.exp(d)                                                  # [C, F, L]
    n_g = group.max() + 1 if n_c else 0
    tot = np.zeros((n_g, NF, 3))
    np.add.at(tot, group, w)
    off_tot = np.zeros((n_g, NF))
    np.add.at(off_tot, group, off)
    s_excl = np.maximum(tot[group] - w, 0.0)                                         # [C, F, L]
    with np.errstate(divide="ignore"):
        iv = np.where(s_excl > 0, np.log(np.where(s_excl > 0, s_excl, 1.0))
                      - np.log(np.maximum(off_tot[group], 1.0))[:, :, None], -np.inf)
    iv_u = iv[county, field]                                                         # [U, L]
    cost = p.moving_cost_cross * (1.0 - p.barrier_reduction)
    v_other = (p.move_intercept_other[field][:, None, None, None] + iv_u[:, :, None, None]
               + b * ((-p.wtp_promotion * pr + p.wtp_county * town[:, None]
                       + p.wtp_hardship * ctx.unit_hardship[:, None] - cost)[:, :, None, None] - y_here))

    v_seat = v_seat[..., None] + age                                                 # [U, L, band, remote, age]
    v_other = v_other[..., None] + age
    e_s = np.where(can_seat[:, None, None, None, None], np.exp(np.minimum(v_seat, 50.0)), 0.0)
    with np.errstate(over="ignore"):
        e_o = np.where(np.isfinite(v_other), np.exp(np.minimum(v_other, 50.0)), 0.0)
    den = 1.0 + e_s + e_o
    return {"p_seat": (e_s / den).reshape(-1), "p_other": (e_o / den).reshape(-1),
            "w": np.ascontiguousarray(w.transpose(1, 2, 0)).reshape(-1),
            "s_excl": np.ascontiguousarray(s_excl.transpose(1, 2, 0)).reshape(-1)}


def make_moves(model, t: int, tab: np.ndarray) -> dict:
    """Step 2b of year ``t``: transfer offers, applications, the bureaus' acceptance and the moves.

    ``tab`` is the post table after this year's exits (flat ``unit x 54 + state``), updated in place.
    Returns per-unit counts (``applicants`` by destination) and the movers' origin and destination units.
    """
    p, s, ctx, inst = model.p, model.staff, model.ctx, model.inst
    nu = model.n_units
    agg = posts.table_aggregates(tab)
    in_total = agg[:, kernels.AGG_STAFF] - agg[:, kernels.AGG_SPECIAL]
    inst.vacancies[...] = np.maximum(model._flat(inst.authorized) - in_total, 0).reshape(inst.vacancies.shape)
    model._bureaus("plan_transfers")
    offers = model._flat(inst.transfer_offers).astype(np.int64)
    tables = move_tables(p, ctx, offers, model.prov_order)
    q = model.options.fixed_move_prob
    if q is not None:   # test hook: constant township -> own county seat probability, every move accepted
        town = np.repeat(ctx.unit_tier == TOWNSHIP, N_COMBO)
        tables["p_seat"] = np.where(town, float(q), 0.0)
        tables["p_other"] = np.zeros_like(tables["p_seat"])
        offers = np.full(nu, len(s), dtype=np.int64)
    seed = model.seed

    def add(purpose):
        return rng.stream_add(seed, t, purpose)

    order, start, end, _ = model.prov_order
    idx, dest = kernels.move_choices(
        s.pid, s.unit, s.post, s.served, s.remote, s.age, s.kind, s.directed, s.in_term, ctx.unit_tier, NF, NT,
        kernels.like_float32(p.min_service_township), kernels.like_float32(AGE_LO), kernels.like_float32(AGE_HI),
        add(rng.MOVE), add(rng.MOVE_DEST), tables["p_seat"], tables["p_other"], tables["w"], tables["s_excl"],
        order, start, end)
    applicants = np.bincount(dest, minlength=nu)
    sel = kernels.accept_moves(idx, dest, s.skill, s.pid, add(rng.MOVE_RANK), offers)
    idx, dest = idx[sel], dest[sel]
    free_i = np.maximum(model._flat(inst.inter_cap) - agg[:, kernels.AGG_INTER_REG], 0).astype(np.int64)
    free_s = np.maximum(model._flat(inst.senior_cap) - agg[:, kernels.AGG_SENIOR_REG], 0).astype(np.int64)
    origin = kernels.apply_moves(idx, dest, s.unit, s.post, s.kind, s.title, s.directed, s.grade, s.at_grade,
                                 s.remote, tab.reshape(-1), free_i, free_s, BAND_TOP)
    return {"applicants": applicants, "origin": origin, "dest": dest}


def flow_rows(t: int, origin: np.ndarray, dest: np.ndarray, n_units: int) -> np.ndarray:
    """Internal moves of year ``t`` as flow rows (t, origin unit, destination code, destination county, persons)."""
    if len(origin) == 0:
        return np.zeros((0, FLOW_COLUMNS), dtype=np.int64)
    key, n = np.unique(origin * n_units + dest, return_counts=True)
    o, d = key // n_units, key % n_units
    per_county = NF * NT
    code = np.where(o // per_county == d // per_county, DEST_SEAT, DEST_OTHER)
    return np.stack([np.full(len(o), t), o, code, d // per_county, n], axis=1).astype(np.int64)


def exit_flow_rows(t: int, by_reason: np.ndarray, exit_codes: dict) -> np.ndarray:
    """Exits to places (``EXIT_DESTINATIONS``) of year ``t`` as flow rows, from per-unit counts ``by_reason``."""
    rows = []
    for reason, dcode in EXIT_DESTINATIONS.items():
        col = by_reason[:, exit_codes[reason]]
        u = np.flatnonzero(col)
        if len(u):
            rows.append(np.stack([np.full(len(u), t), u, np.full(len(u), dcode), np.full(len(u), -1), col[u]], axis=1))
    if not rows:
        return np.zeros((0, FLOW_COLUMNS), dtype=np.int64)
    return np.concatenate(rows).astype(np.int64)
