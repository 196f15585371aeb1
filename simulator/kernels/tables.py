"""Kernels of step 5 and the year end: the bureaus' recruitment rule, recruitment draws, post tables and tallies."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (_F0, _F1, _F2, FLAG_WIDTH, GRADES, STATE_WIDTH, flagged,  # noqa: F401
                     splitmix_uniform)


# ============================================================================ step 5: the bureaus' recruitment plan

@njit(cache=True)
def bureau_recruitment(rate, carry, vacancies, placed, unfilled, quota_carry, quota, quota_share, township):
    """The bureaus' recruitment rules for rows ``r`` of their state, compiled (``bureau.plan_recruitment``).

    Arrays: ``rate``, ``carry``, ``placed``, ``unfilled`` [rows, programme,
    field] (places); ``vacancies``, ``quota_carry``, ``quota`` [rows, field,
    tier] (posts).  The same arithmetic as ``programmes.place`` followed by
    ``recruitment.plan_quota`` (tested equal): entitled places = floor(carry
    + rate + 1e-9) with the fraction carried; where a field's entitled places
    exceed its township vacancies, each programme gets floor(entitled x
    vacancies / total + 1e-9) and the rest is unfilled; then the quota =
    min(floor(quota carry + quota_share x remaining vacancies + 1e-9),
    remaining vacancies), the fraction carried (at most 1).  A single call
    per bureau replaces some twenty numpy calls on tiny arrays.
    """
    n_rows, n_prog, n_field = rate.shape
    n_tier = vacancies.shape[2]
    for r in range(n_rows):
        for f in range(n_field):
            total = 0.0
            for k in range(n_prog):
                c = carry[r, k, f] + rate[r, k, f]
                e = np.floor(c + 1e-9)
                carry[r, k, f] = c - e
                unfilled[r, k, f] = e          # entitled, for now
                total += e
            vac = vacancies[r, f, township]
            given = 0.0
            if total > vac:
                ratio = vac / total
                for k in range(n_prog):
                    e = unfilled[r, k, f]
                    pl = np.floor(e * ratio + 1e-9)
                    placed[r, k, f] = pl
                    unfilled[r, k, f] = e - pl
                    given += pl
            else:
                for k in range(n_prog):
                    e = unfilled[r, k, f]
                    placed[r, k, f] = e
                    unfilled[r, k, f] = e - e
                    given += e
            for t in range(n_tier):
                remaining = vacancies[r, f, t]
                if t == township:
                    remaining = remaining - given
                c = quota_carry[r, f, t] + quota_share * remaining
                q = np.floor(c + 1e-9)
                if remaining < q:
                    q = remaining
                c = c - q
                quota_carry[r, f, t] = c if c < 1.0 else 1.0
                quota[r, f, t] = q


# ============================================================================ step 5: recruitment

@njit(cache=True)
def expand_counts(counts):
    """(unit of each new person, rank within its unit) for ``counts[unit]`` (int64) new people."""
    total = 0
    for u in range(counts.shape[0]):
        total += counts[u]
    unit = np.empty(total, dtype=np.int32)
    rank = np.empty(total, dtype=np.int64)
    k = 0
    for u in range(counts.shape[0]):
        for r in range(counts[u]):
            unit[k] = u
            rank[k] = r
            k += 1
    return unit, rank


@njit(cache=True)
def fill_posts(add, id_base, quota, prob):
    """Filled posts per unit: post ``r`` of unit ``u`` is filled when the uniform of id ``id_base | u << 29 |
    r`` (``rng.recruit_ids`` with channel 0) is below ``prob[u]``; ``quota`` int64 posts per unit."""
    nu = quota.shape[0]
    out = np.zeros(nu, dtype=np.int64)
    mask24 = np.uint64((1 << 24) - 1)
    s29 = np.uint64(29)
    for u in range(nu):
        base = id_base | (np.uint64(u) << s29)
        pu = prob[u]
        c = 0
        for r in range(quota[u]):
            c += splitmix_uniform(add, base | (np.uint64(r) & mask24)) < pu
        out[u] = c
    return out


@njit(cache=True)
def recruit_draws(pid, unit, unit_tier, unit_remote, entry_age, contract_share, add_age, add_skill, add_contract,
                  add_remote, draw_skill, draw_contract, age, u_skill, contract, remote):
    """The per-recruit draws of ``recruitment.new_people``, one pass: age = ``entry_age`` + 3 x RECRUIT_AGE
    uniform (float64); the RECRUIT_SKILL uniform (when ``draw_skill``; skill itself is an inverse normal, in
    numpy); contract when the RECRUIT_CONTRACT uniform is below ``contract_share[tier]`` (when
    ``draw_contract``); remote = township unit and RECRUIT_REMOTE uniform below the unit's remoteness."""
    for j in range(pid.shape[0]):
        p = pid[j]
        u = unit[j]
        tier = unit_tier[u]
        age[j] = entry_age + 3.0 * splitmix_uniform(add_age, p)
        if draw_skill:
            u_skill[j] = splitmix_uniform(add_skill, p)
        if draw_contract:
            contract[j] = splitmix_uniform(add_contract, p) < contract_share[tier]
        remote[j] = (tier == 1) & (splitmix_uniform(add_remote, p) < unit_remote[u])


# ============================================================================ tables

@njit(cache=True)
def state_counts(unit, post, kind, title, directed, tab):
    """Add everyone to the post table ``tab`` (flat ``unit x 54 + state``, as ``posts.state_table``)."""
    for i in range(unit.shape[0]):
        tab[unit[i] * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] += 1


@njit(cache=True)
def state_counts_of(idx, unit, post, kind, title, directed, tab):
    """Add the people ``idx`` to the post table ``tab``."""
    for j in range(idx.shape[0]):
        i = idx[j]
        tab[unit[i] * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] += 1


@njit(cache=True)
def township_subsidy_of(tier, served, remote, band_amount, remote_extra):
    """Township work subsidy of one person (yuan/month): the band of years served (<10, 10-20, >=20) plus
    the remote extra, in a township unit (``tier`` 1); 0.0 in a county-seat unit (added as 0.0, as
    ``numpy.bincount`` adds its zero weights)."""
    if tier != 1:
        return 0.0
    band = (1 if served >= 10 else 0) + (1 if served >= 20 else 0)
    return band_amount[band] + (remote_extra if remote else 0.0)


@njit(cache=True)
def pay_counts(unit, grade, served, remote, in_term, programme, unit_tier, town_on, band_amount, remote_extra,
               n_prog, counts_ug, town_sum, prog_counts):
    """Per-unit tallies of the pay accounts (``pay.yearly_costs``), in one pass.

    ``counts_ug[unit x 13 + grade - 1]`` persons; ``town_sum[unit]`` the sum of
    monthly township subsidies (yuan/month; summed in row order like
    ``numpy.bincount``), only when ``town_on``; ``prog_counts[unit x P +
    programme]`` persons in a programme term.
    """
    for i in range(unit.shape[0]):
        u = unit[i]
        counts_ug[u * GRADES + grade[i] - 1] += 1
        if town_on:
            town_sum[u] += township_subsidy_of(unit_tier[u], served[i], remote[i], band_amount, remote_extra)
        if in_term[i]:
            prog_counts[u * n_prog + programme[i]] += 1


@njit(cache=True)
def year_end(unit, skill, skill_delta, post, kind, title, directed, contract, in_term, tab, flags, skill_sum,
             grade, served, remote, programme, unit_tier, town_on, band_amount, remote_extra, n_prog,
             counts_ug, town_sum, prog_counts):
    """Training and every year-end tally.

    ``skill += skill_delta`` (float32: one year of training; nothing if 0);
    then the post table ``tab`` (flat ``unit x 54 + state``), ``flags[unit x
    4 + contract x 2 + in_term]``, ``skill_sum[unit]`` (float64, row order,
    as ``numpy.bincount`` with weights) and the tallies of
    :func:`pay_counts` (which do not depend on skill).  Separate loops
    without run-time switches inside (faster than one loop that tests them).
    """
    n = unit.shape[0]
    if skill_delta != _F0:
        for i in range(n):
            skill[i] = skill[i] + skill_delta
    for i in range(n):
        u = unit[i]
        tab[u * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] += 1
        flags[u * FLAG_WIDTH + (2 if contract[i] else 0) + (1 if in_term[i] else 0)] += 1
        skill_sum[u] += np.float64(skill[i])
        counts_ug[u * GRADES + grade[i] - 1] += 1
        if in_term[i]:
            prog_counts[u * n_prog + programme[i]] += 1
    if town_on:
        for i in range(n):
            u = unit[i]
            town_sum[u] += township_subsidy_of(unit_tier[u], served[i], remote[i], band_amount, remote_extra)


# per-unit aggregates of the post table, in this column order (see ``table_aggregates``)
AGG_STAFF, AGG_SPECIAL, AGG_DIRECTED_POST, AGG_SENIOR_REG, AGG_INTER_REG = 0, 1, 2, 3, 4
AGG_SENIOR_TITLE, AGG_INTER_TITLE, AGG_DIRECTED_TITLE, AGG_SENIOR_POST = 5, 6, 7, 8
AGG_WAIT_I, AGG_WAIT_S = 9, 10
N_AGG = 11


@njit(cache=True)
def table_aggregates(tab, out):
    """Per-unit sums of the post table ``tab[unit, post, kind, title, directed]`` (flat rows of 54), exactly.

    Columns: staff; special-post holders (kind 1); directed-post holders
    (kind 2); regular senior and intermediate post holders (kind 0, post 2 /
    1); senior, intermediate and directed senior titles; senior posts (any
    kind); waiting for an intermediate post (junior post, title >= 1);
    waiting for a senior post (post below senior, senior title).
    """
    nu = out.shape[0]
    for u in range(nu):
        base = u * STATE_WIDTH
        for k in range(N_AGG):
            out[u, k] = 0
        for post in range(3):
            for kind in range(3):
                for title in range(3):
                    for d in range(2):
                        c = tab[base + ((post * 3 + kind) * 3 + title) * 2 + d]
                        if c == 0:
                            continue
                        out[u, AGG_STAFF] += c
                        if kind == 1:
                            out[u, AGG_SPECIAL] += c
                        elif kind == 2:
                            out[u, AGG_DIRECTED_POST] += c
                        else:
                            if post == 2:
                                out[u, AGG_SENIOR_REG] += c
                            elif post == 1:
                                out[u, AGG_INTER_REG] += c
                        if title == 2:
                            out[u, AGG_SENIOR_TITLE] += c
                            if d == 1:
                                out[u, AGG_DIRECTED_TITLE] += c
                            if post < 2:
                                out[u, AGG_WAIT_S] += c
                        elif title == 1:
                            out[u, AGG_INTER_TITLE] += c
                        if post == 2:
                            out[u, AGG_SENIOR_POST] += c
                        if post == 0 and title >= 1:
                            out[u, AGG_WAIT_I] += c
