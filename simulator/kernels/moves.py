"""Kernels of step 2b: internal moves (``simulator.mobility``) -- who applies where, whom the bureaus take, the move.

The utilities and choice probabilities are tabulated per (origin unit,
person class) in numpy (``mobility.move_tables``: exponentials stay out of
the kernels); these kernels only look them up, draw the person's uniforms
(SplitMix64 keyed by person id) and do the bookkeeping.

Person class (``combo``, 54 values) = ((post level x 3 + subsidy band) x 2 +
remote) x 3 + age band; subsidy band by years served (<10, 10-20, >=20),
age band (<35, 35-44, >=45).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .careers import take_by_priority
from .common import STATE_WIDTH, flagged, splitmix_uniform

N_COMBO = 54


@njit(cache=True)
def person_class(post, served, remote, age, age_lo, age_hi):
    """The person class (0..53, the module docstring's ``combo``) of one professional."""
    band = (1 if served >= 10 else 0) + (1 if served >= 20 else 0)
    ab = (1 if age >= age_lo else 0) + (1 if age >= age_hi else 0)
    return ((post * 3 + band) * 2 + (1 if remote else 0)) * 3 + ab


@njit(cache=True)
def move_choices(pid, unit, post, served, remote, age, kind, directed, in_term, unit_tier, n_field, n_tier,
                 min_service, age_lo, age_hi, add_move, add_dest, p_seat, p_other, w, s_excl, order, prov_start,
                 prov_end):
    """Applicants for a move this year: (person indices, destination units), ascending by person.

    Eligible: regular post holders (``kind`` 0) without a directed title,
    not serving a programme term, and -- when leaving a township unit -- with
    at least ``min_service`` years served.  A person of origin unit ``u``
    and class ``c`` applies to the county-seat unit of the same county and
    field when the MOVE uniform is below ``p_seat[u x 54 + c]``, to another
    county's county-seat unit when it is below ``p_seat + p_other``.  The
    other county is drawn (MOVE_DEST uniform) with probability proportional
    to its weight ``w[(field x 3 + level) x C + county]`` among the counties
    of the province (``order[prov_start[c]:prov_end[c]]``) other than the
    person's own; ``s_excl`` is that sum.  The screening loop has no appends
    (vectorised); the few applicants are then resolved one by one.
    """
    n = pid.shape[0]
    n_c = prov_start.shape[0]
    flag = np.empty(n, dtype=np.bool_)
    for i in range(n):
        u = unit[i]
        town = unit_tier[u] == 1
        s = served[i]
        k = u * N_COMBO + person_class(post[i], s, remote[i], age[i], age_lo, age_hi)
        ok = (kind[i] == 0) & ~directed[i] & ~in_term[i] & ((s >= min_service) | ~town)
        flag[i] = ok & (splitmix_uniform(add_move, pid[i]) < p_seat[k] + p_other[k])
    cand = flagged(flag)
    m = cand.shape[0]
    dest = np.empty(m, dtype=np.int64)
    for j in range(m):
        i = cand[j]
        u = unit[i]
        k = u * N_COMBO + person_class(post[i], served[i], remote[i], age[i], age_lo, age_hi)
        county = u // (n_field * n_tier)
        field = (u // n_tier) % n_field
        if splitmix_uniform(add_move, pid[i]) < p_seat[k]:
            dest[j] = (county * n_field + field) * n_tier
            continue
        row = (field * 3 + post[i]) * n_c
        target = splitmix_uniform(add_dest, pid[i]) * s_excl[row + county]
        acc = 0.0
        chosen = -1
        for q in range(prov_start[county], prov_end[county]):
            c2 = order[q]
            if c2 == county:
                continue
            wt = w[row + c2]
            if wt <= 0.0:
                continue
            chosen = c2
            acc += wt
            if acc > target:
                break
        dest[j] = (chosen * n_field + field) * n_tier if chosen >= 0 else -1
    n_ok = 0
    for j in range(m):
        n_ok += dest[j] >= 0
    idx = np.empty(n_ok, dtype=np.int64)
    out = np.empty(n_ok, dtype=np.int64)
    q = 0
    for j in range(m):
        if dest[j] >= 0:
            idx[q] = cand[j]
            out[q] = dest[j]
            q += 1
    return idx, out


@njit(cache=True)
def accept_moves(idx, dest, skill, pid, add_rank, offers):
    """The destination bureaus' decision: per destination unit, the applicants with the highest skill, up to its
    ``offers`` (int64 per unit).  Priority = skill + 0.001 x MOVE_RANK uniform (float64).  Returns the accepted
    positions into ``idx`` (ascending).  Units with enough offers take every applicant without sorting."""
    m = idx.shape[0]
    priority = np.empty(m, dtype=np.float64)
    for j in range(m):
        i = idx[j]
        priority[j] = np.float64(skill[i]) + splitmix_uniform(add_rank, pid[i]) * 1e-3
    sel = take_by_priority(dest, offers, priority)
    return flagged(sel)


@njit(cache=True)
def apply_moves(idx, dest, unit, post, kind, title, directed, grade, at_grade, remote, tab, free_i, free_s, band_top):
    """Move the people ``idx`` to the units ``dest`` (in this order); returns their origin units.

    Each keeps title and grade if the destination has a free post of the
    level held (``free_s`` / ``free_i`` per unit: cap minus regular holders,
    decremented here); otherwise takes the highest lower level with a free
    post (junior always), with grade lowered into that band (``band_top``)
    and years at grade reset -- the title stays, so the appointment step may
    promote the person again.  The post table ``tab`` follows (flat ``unit x
    54 + state``); the destination is a county-seat unit, so ``remote`` is off.
    """
    m = idx.shape[0]
    origin = np.empty(m, dtype=np.int64)
    for j in range(m):
        i = idx[j]
        u = unit[i]
        d = dest[j]
        origin[j] = u
        tab[u * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] -= 1
        lv = post[i]
        if lv == 2:
            if free_s[d] > 0:
                free_s[d] -= 1
            else:
                lv = 1
        if lv == 1:
            if free_i[d] > 0:
                free_i[d] -= 1
            else:
                lv = 0
        if lv != post[i]:
            post[i] = lv
            if grade[i] < band_top[lv]:
                grade[i] = band_top[lv]
                at_grade[i] = 0.0
        unit[i] = d
        remote[i] = False
        tab[d * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] += 1
    return origin
