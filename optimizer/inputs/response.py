"""Lever response maths: how many people a lever unit keeps in post, year by year, and what it costs.

Every function here works on *age profiles*: the value at the end of each year
``a = 1..H`` after a unit is started (``H`` = the planning horizon, years).  The
horizon-average figures of the static model are the means of these profiles; the
year-indexed model (:mod:`optimizer.years`) uses them year by year; the target-year
model uses the value at ``a = H``.

Notation: ``p0`` = yearly exit probability, ``b`` = breach rate, ``beta`` =
``behaviour.income_coef`` (utility per 1,000 yuan/month), ``q`` = quota_share.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

FIELDS = ("science", "education", "engineering", "agriculture", "health")


def exits_after(p0, beta, s):
    """Exit probability after a top-up of ``s`` yuan/month: ``logistic(logit(p0) - beta s / 1000)``."""
    p0 = np.clip(np.asarray(p0, dtype=float), 1e-9, 1 - 1e-9)
    return expit(logit(p0) - beta * np.asarray(s, dtype=float) / 1000.0)


def exits_avoided(s, p0, beta):
    """Exits avoided per person-year at a top-up of ``s`` yuan/month: ``p0 - logistic(logit(p0) - beta s/1000)``."""
    p0 = np.clip(np.asarray(p0, dtype=float), 1e-9, 1 - 1e-9)
    return p0 - expit(logit(p0) - beta * np.asarray(s, dtype=float) / 1000.0)


def demand_trend(sc, horizon: int) -> np.ndarray:
    """Horizon-average demand per field relative to the county table's [F]: ``mean_{t=1..H} (1 + g_f)^t``.

    ``g_f`` = ``demand.growth_per_year`` (share per year; the simulator's demand in year
    t is the table's x ``(1 + g_f)^t``), averaged like every other quantity here over
    the ends of years 1..H.  Exactly 1 without a trend.
    """
    return demand_path(sc, horizon).mean(axis=0)


def demand_path(sc, horizon: int) -> np.ndarray:
    """Demand per year and field relative to the county table's [H, F]: ``(1 + g_f)^t``, t = 1..H."""
    g = np.array([sc.demand.growth_per_year[f] for f in FIELDS], dtype=float)
    t = np.arange(1, int(horizon) + 1, dtype=float)
    if not g.any():
        return np.ones((len(t), len(FIELDS)))
    return (1.0 + g)[None, :] ** t[:, None]


def persistence_profile(p, horizon: int) -> np.ndarray:
    """People in post at the end of year a per yearly avoided exit from year 1: ``(1 - (1-p)^a) / p`` [..., H]."""
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1.0)
    t = np.arange(1, horizon + 1, dtype=float)
    return (1.0 - (1.0 - p[..., None]) ** t) / p[..., None]


def persistence(p, horizon: int):
    """``K_H(p)``: horizon-average number of people in post per yearly avoided exit (mean of the profile)."""
    return np.mean(persistence_profile(p, horizon), axis=-1)


def programme_place_profile(p0, breach: float, term: float, stay: float, horizon: int, subsidy: float,
                            penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """(staff [..., H], cost [H]) of one programme recruit placed in year 1.

    In post at the end of year a: ``(1-b)^a`` within the term T, then
    ``(1-b)^T x stay x (1-p0)^(a-T)``; cost in year a (yuan): ``max(0, subsidy - penalty x b)
    x (1-b)^(a-1)`` for a <= T, else 0.
    """
    p0 = np.asarray(p0, dtype=float)
    T = int(round(term))
    t = np.arange(1, horizon + 1, dtype=float)
    in_term = (1 - breach) ** np.minimum(t, T)
    after = (1 - breach) ** T * stay * (1 - p0[..., None]) ** np.maximum(t - T, 0)
    staff = np.where(t <= T, in_term, after)
    cost = np.where(t <= T, max(0.0, subsidy - penalty * breach) * (1 - breach) ** (t - 1), 0.0)
    return staff, cost


def programme_place(p0, breach: float, term: float, stay: float, horizon: int, subsidy: float, penalty: float):
    """(effect, cost) of one programme recruit: horizon-average staff in post and yuan/year."""
    staff, cost = programme_place_profile(p0, breach, term, stay, horizon, subsidy, penalty)
    effect = staff.mean(axis=-1)
    return effect, np.full_like(effect, float(cost.sum()) / horizon)


def filled_share_profile(p0, refill: float, horizon: int, term: int | None = None) -> np.ndarray:
    """Share of a created post that is filled at the end of year a [..., H].

    ``f_a = f_{a-1} (1 - p0 (1 - refill)) + (1 - f_{a-1}) refill``, ``f_0 = 1``: vacancies are
    refilled with probability ``refill`` a year.  With a ``term`` (a post funded for T years),
    refilling stops after year T: ``f_a = f_T (1 - p0)^(a-T)``.
    """
    p0 = np.asarray(p0, dtype=float)
    f = np.ones_like(p0)
    out = np.empty(p0.shape + (horizon,))
    for a in range(horizon):
        if term is None or a < term:
            f = f * (1 - p0 * (1 - refill)) + (1 - f) * refill
        else:
            f = f * (1 - p0)
        out[..., a] = f
    return out


def filled_share(p0, refill: float, horizon: int):
    """Horizon-average share of time a created post is filled when vacancies are refilled with probability ``refill`` a year."""
    return filled_share_profile(p0, refill, horizon).mean(axis=-1)


#: inner edges of ``population.age_pyramid``'s 7 bands (years of age): the simulator's
#: ``simulator.population.AGE_BAND_EDGES`` (the engines do not import each other; a test checks they agree)
AGE_BAND_EDGES = (30.0, 35.0, 40.0, 45.0, 50.0, 55.0)


def age_cdf(shares, entry_age: float, retirement_age: float) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative share, age) knots of an age pyramid, as the simulator draws initial ages: bands entry age-29,
    30-34, ..., 55-retirement age, uniform within a band; bands cut to [entry age, retirement age), an empty
    band's share dropped and the others rescaled (``simulator.population.age_cdf``)."""
    edges = np.clip(np.array((entry_age,) + AGE_BAND_EDGES + (retirement_age,)), entry_age, retirement_age)
    sh = np.where(np.diff(edges) > 0, np.asarray(shares, dtype=float), 0.0)
    if sh.sum() <= 0:
        sh = np.diff(edges)
    cdf = np.r_[0.0, np.cumsum(sh)]
    cdf /= cdf[-1]
    keep = np.r_[True, np.diff(cdf) > 0]
    return cdf[keep], edges[keep]


def retirement_share(shares, entry_age: float, retirement_age: float) -> float:
    """Share of staff retiring in the first year: the simulator ages everyone by a year and retires those at
    ``retirement_age``, so it is the pyramid's share aged ``retirement_age - 1`` to ``retirement_age``
    (``population.age_pyramid`` of the field; the county table's mean ages are not used, as in the simulator)."""
    cdf, age = age_cdf(shares, entry_age, retirement_age)
    return float(1.0 - np.interp(retirement_age - 1.0, age, cdf))


__all__ = ["exits_after", "exits_avoided", "demand_trend", "demand_path", "persistence", "persistence_profile",
           "programme_place", "programme_place_profile", "filled_share", "filled_share_profile", "retirement_share",
           "age_cdf", "AGE_BAND_EDGES"]
