"""Service-term programmes (57号 §8, §11, §16): places, placement, obligations.

Each programme has national ``places_per_year`` (times ``programmes.scale``)
split over fields by ``field_shares`` and open to the counties of its
``regions`` whose hardship class is at least ``min_hardship_class`` (the
programme's reach: special-post teachers went to the poverty and hardship
counties of central and western China, ~1,000 counties by 2021, FACTS).
A county's yearly entitlement is its share of the *national* township demand
of that field in the eligible counties::

    places[c, p, f] = places_p x share_pf x demand_township[c, f] / sum over eligible counties nationally

(with ``central_funded_share`` s > 0, the funding rule: a share s of the places is on
the central subsidy and goes only to the eligible counties of central and western
provinces, ``FUNDED_REGIONS``, by their share of those counties' township demand; the
other 1 - s is shared as above over every eligible county),
so simulating one province gives it its national share (the national
denominators, township demand per [region, hardship class, field], come from
the bundled national table, or from the table passed in when it is not a
subset of it; see ``replicate.national_township_demand``).  Fractions are
carried by the county bureau to the next year, starting from half a place
(``INITIAL_CARRY``), so that a county's places to date are its entitlement
rounded, not rounded down (with ~2,800 counties x 5 fields a programme's
places are a few per county and field: rounding down lost a fifth of
三支一扶's places in the first year).  With a time path of
``places_per_year`` the entitlements follow the calendar year.

Placement (bureau rule ``place``): programme participants are placed in the
county's *township* unit of the field (assumption: every programme serves
township and village posts), into vacancies; when entitled places exceed the
vacancies, each programme gets the same share (rounded down).  The places a
county cannot use are then **redistributed** (``redistribute``) within its
province to the counties eligible for the programme that still have township
vacancies in the field after their own placements (their open-recruitment
quota is cut to what is left), in proportion to those vacancies (as provinces allocate their central quota
to counties with vacancies; assumption).  What cannot be placed anywhere in the
province is counted as ``programme_places_unfilled`` and lost (not carried).
**Take-up** (``take_up``, when ``applicants_per_place`` > 0): each place placed is
taken up only if it draws an applicant, probability ``1 - exp(-A)`` with ``A =
applicants_per_place x`` the attractiveness of the county's township entry post (the
terms of open recruitment: hardship class, remoteness, allowances, pay), so places in
hard counties fail more often (2018: 85,200 of 90,000 special posts filled); places
not taken up are counted unfilled and lost.

Participants serve ``term_years`` (rounded up to whole years) on a contract
(outside 编制 during the term; assumption), receive the programme subsidy
(``subsidy_yuan_per_year``, paid by the programme's payer) while serving, and
face the breach penalty if they leave early (``behaviour``).  At term end they
stay with probability ``post_term_stay`` and then join 编制.  Their skill is
N(recruit_skill, skill_sd).  Tuition compensation binds three years in the
same way: the compensation is paid while serving and lost on leaving.
"""

from __future__ import annotations

import numpy as np

from .params import Params


N_HARDSHIP = 7  # hardship classes 0..6
FUNDED_REGIONS = ("central", "west")   # central_funded_share: regions of the central subsidy (中西部)
FUNDED_MASK = np.array([r in FUNDED_REGIONS for r in ("east", "central", "west")], dtype=bool)  # REGIONS order
INITIAL_CARRY = 0.5  # places: the bureaus' carried fraction at the start (rounding, not rounding down)


def eligible_classes(p: Params) -> np.ndarray:
    """[P, R, K] bool: counties of region r and hardship class k are open to programme p."""
    k_ok = np.arange(N_HARDSHIP)[None, :] >= p.prog_min_hardship[:, None]          # [P, K]
    return p.prog_regions[:, :, None] & k_ok[:, None, :]


def programme_base(demand_township: np.ndarray, p: Params, funded: bool = False) -> np.ndarray:
    """National township demand of the eligible counties per [programme, field] (denominators).

    ``demand_township``: national township demand per [region, hardship class, field] (or per
    [region, field], usable only when no programme restricts hardship classes).  ``funded``: only
    the counties of the centrally funded regions (``FUNDED_REGIONS``, the funding rule).
    """
    d = np.asarray(demand_township, dtype=float)
    regions = p.prog_regions & (FUNDED_MASK[None, :] if funded else True)
    if d.ndim == 2:
        if np.any(p.prog_min_hardship > 0):
            raise ValueError("programme denominators per [region, field] cannot apply min_hardship_class: "
                             "pass them per [region, hardship class, field]")
        return regions.astype(float) @ d  # [P, R] @ [R, F]
    k_ok = np.arange(N_HARDSHIP)[None, :] >= p.prog_min_hardship[:, None]
    return np.einsum("prk,rkf->pf", (regions[:, :, None] & k_ok[:, None, :]).astype(float), d)


def eligibility(p: Params, region: np.ndarray, hardship: np.ndarray | None = None) -> np.ndarray:
    """[C, P] bool: county c may receive places of programme p (region and hardship class)."""
    ok = p.prog_regions[:, region].T
    if hardship is not None:
        ok = ok & (np.asarray(hardship)[:, None] >= p.prog_min_hardship[None, :])
    return ok


def entitlement_rates(p: Params, region: np.ndarray, demand_township: np.ndarray, base_pf: np.ndarray,
                      hardship: np.ndarray | None = None, base_funded_pf: np.ndarray | None = None) -> np.ndarray:
    """Places per year per [county, programme, field] (fractional).

    ``base_funded_pf``: ``programme_base(..., funded=True)``, needed when a programme has a
    ``central_funded_share`` (that share of its places goes to the eligible counties of
    ``FUNDED_REGIONS`` only, by their township demand; the rest to every eligible county).
    """
    eligible = eligibility(p, region, hardship)  # [C, P]
    places_pf = p.prog_places[:, None] * p.prog_field_shares  # [P, F]
    cs = np.asarray(p.prog_central_share, dtype=float)[:, None]            # [P, 1]
    out = eligible[:, :, None] * _share(demand_township, base_pf) * ((1.0 - cs) * places_pf)[None, :, :]
    if np.any(cs > 0):
        if base_funded_pf is None:
            raise ValueError("central_funded_share needs the funded denominators (base_funded_pf)")
        funded = eligible & FUNDED_MASK[np.asarray(region)][:, None]
        out = out + funded[:, :, None] * _share(demand_township, base_funded_pf) * (cs * places_pf)[None, :, :]
    return out


def _share(demand_township: np.ndarray, base_pf: np.ndarray) -> np.ndarray:
    """[C, P, F] county demand / national denominator (0 where the denominator is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base_pf[None, :, :] > 0,
                        demand_township[:, None, :] / np.where(base_pf > 0, base_pf, 1.0)[None], 0.0)


def take_up(seed: int, t: int, p: Params, placed: np.ndarray, unfilled: np.ndarray, attract: np.ndarray) -> None:
    """Take-up of the places placed this year (arrays [C, P, F], updated in place).

    A place placed in a county's township unit of field f is taken up when it draws at least one
    applicant: probability ``1 - exp(-A)``, ``A = applicants_per_place[p] x attract[c, f]``, where
    ``attract`` is the attractiveness of the unit's entry post relative to a class-0 township with
    no incentives (``recruitment.applicants_per_post / applicants_per_vacancy``: hardship class,
    remoteness, allowances, pay), so hard counties fill fewer places.  One draw per place
    (``recruitment.fill``, stream ``rng.PROGRAMME_TAKEUP + programme``).  Places not taken up are
    moved to ``unfilled`` (lost: the year's recruitment round is over; assumption).  Programmes
    with ``applicants_per_place = 0`` are untouched (every place taken up).
    """
    from . import recruitment, rng
    for j in np.flatnonzero(p.prog_applicants > 0):
        q = placed[:, j, :]
        if not q.any():
            continue
        a = float(p.prog_applicants[j]) * attract
        taken = recruitment.fill(seed, t, rng.PROGRAMME_TAKEUP + int(j), q.reshape(-1), a.reshape(-1))
        taken = taken.reshape(q.shape).astype(placed.dtype)
        unfilled[:, j, :] += q - taken
        placed[:, j, :] = taken


def place(rate: np.ndarray, carry: np.ndarray, vacancies_township: np.ndarray,
          out_placed: np.ndarray, out_unfilled: np.ndarray) -> None:
    """Bureau rule (arrays [..., P, F] and vacancies [..., F]): entitled places this year, placed into vacancies."""
    carry += rate
    entitled = np.floor(carry + 1e-9)
    carry -= entitled
    total = entitled.sum(axis=-2)                                   # [..., F]
    over = total > vacancies_township
    if over.any():
        ratio = np.ones_like(total)
        np.divide(vacancies_township, total, out=ratio, where=over)
        placed = np.floor(entitled * ratio[..., None, :] + 1e-9)
    else:
        placed = entitled
    out_placed[...] = placed
    np.subtract(entitled, placed, out=out_unfilled)




def redistribute(p: Params, province: np.ndarray, eligible: np.ndarray, vacancies_township: np.ndarray,
                 quota_township: np.ndarray, placed: np.ndarray, unfilled: np.ndarray) -> None:
    """Move places counties could not use to eligible counties of the same province with spare township vacancies.

    Arrays: ``province`` [C] int (index), ``eligible`` [C, P] bool (``eligibility``),
    ``vacancies_township``, ``quota_township`` [C, F], ``placed`` and ``unfilled`` [C, P, F]
    (all updated in place).  Spare vacancies = vacancies - everything placed (programme
    places come before open recruitment, as in the bureau's own plan: a recipient's open
    quota is cut to the vacancies left, so nothing is over-filled); programmes in schema
    order; each eligible recipient gets ``floor(pool x its spare / spare of the province)``
    (at most its spare), and the donors' unfilled counts fall by what moved (whole places,
    donors in county order).
    """
    n_c, n_p, n_f = placed.shape
    if not unfilled.any():
        return
    spare = np.maximum(vacancies_township - placed.sum(axis=1), 0.0)   # [C, F]
    gid = (province.astype(np.int64)[:, None] * n_f + np.arange(n_f)[None, :]).ravel()  # group = province x field
    n_g = int(gid.max()) + 1
    order = np.argsort(gid, kind="stable")
    for j in range(n_p):
        u = unfilled[:, j, :].ravel()
        if not u.any():
            continue
        pool = np.bincount(gid, weights=u, minlength=n_g)
        w = (spare * eligible[:, j, None]).ravel()
        wsum = np.bincount(gid, weights=w, minlength=n_g)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(wsum[gid] > 0, w / np.where(wsum[gid] > 0, wsum[gid], 1.0), 0.0)
        give = np.minimum(np.floor(pool[gid] * share + 1e-9), w)
        moved = np.bincount(gid, weights=give, minlength=n_g)
        if not moved.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(pool > 0, moved / np.where(pool > 0, pool, 1.0), 0.0)
        take = np.floor(u * frac[gid] + 1e-9)
        rest = moved - np.bincount(gid, weights=take, minlength=n_g)
        avail = (u - take)[order]
        g_sorted = gid[order]
        cum = np.cumsum(avail)
        start = np.r_[0, np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1]
        before = np.repeat(cum[start] - avail[start], np.diff(np.r_[start, len(g_sorted)]))
        extra_sorted = np.clip(rest[g_sorted] - (cum - before - avail), 0.0, avail)
        take[order] += extra_sorted
        unfilled[:, j, :] = (u - take).reshape(n_c, n_f)
        placed[:, j, :] += give.reshape(n_c, n_f)
        spare -= give.reshape(n_c, n_f)
    np.minimum(quota_township, spare, out=quota_township)
