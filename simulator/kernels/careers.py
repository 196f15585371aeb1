"""Kernels of steps 3-4: title applicants and outcomes, grade steps, the appointment ranking (radix sort)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (_F0, _F1, _F2, FLAG_WIDTH, GRADES, STATE_WIDTH, flagged,  # noqa: F401
                     splitmix_uniform)


# ============================================================================ step 3: titles

@njit(cache=True)
def title_applicants(pid, title, post, at_title, served, unit, unit_tier, min_years, exceptional, exceptional_after,
                     add_apply, apply_rate, logit_table, skill, skill_effect, directed_base):
    """Who applies for the next title this year, and their pass logits.

    Eligible: below the senior title, holding the post of the title, and at
    least ``min_years[title]`` (float32) at it -- or, with ``exceptional``,
    at least ``exceptional_after`` (float32) years served; applies when the
    TITLE_APPLY uniform is below ``apply_rate``.

    Returns, per applicant: index; "eligible only by exceptional promotion";
    the logit of passing the regular evaluation, ``logit_table[title x 2 +
    tier] + skill_effect x skill`` (the product in the precision of
    ``skill_effect``, the sum in float64: as ``titles.pass_logit``); the
    logit of the directed evaluation, ``directed_base + skill_effect x
    skill`` (as ``titles.directed_logit`` before its tilt term); and whether
    the applicant could take the directed route (senior step, township).
    """
    n = pid.shape[0]
    applies = np.empty(n, dtype=np.bool_)
    exc_all = np.empty(n, dtype=np.bool_)
    thr0 = min_years[0]
    thr1 = min_years[1]
    for i in range(n):                        # branch-free (vectorised); compacted below
        t = title[i]
        below = (t < 2) & (post[i] == t)
        by_years = below & (at_title[i] >= (thr0 if t == 0 else thr1))
        ex = below & ~by_years & exceptional & (served[i] >= exceptional_after)
        exc_all[i] = ex
        applies[i] = (by_years | ex) & (splitmix_uniform(add_apply, pid[i]) < apply_rate)
    idx = flagged(applies)
    m = idx.shape[0]
    exc = np.empty(m, dtype=np.bool_)
    for j in range(m):
        exc[j] = exc_all[idx[j]]
    x = np.empty(m, dtype=np.float64)
    dx = np.empty(m, dtype=np.float64)
    can_dir = np.empty(m, dtype=np.bool_)
    for j in range(m):
        i = idx[j]
        tier = unit_tier[unit[i]]
        term = np.float64(skill_effect * skill[i])
        x[j] = logit_table[title[i] * 2 + tier] + term
        dx[j] = directed_base + term
        can_dir[j] = (title[i] == 1) & (tier == 1)
    return idx, exc, x, dx, can_dir


@njit(cache=True)
def title_results(idx, pid, p_pass, p_dir, can_dir, directed_on, add_pass, add_dir, title, at_title, directed):
    """Decide the applicants ``idx``: pass (TITLE_PASS uniform below ``p_pass``), else, if ``directed_on`` and
    ``can_dir``, the directed title (TITLE_DIRECTED uniform below ``p_dir``).  Winners get the next title
    (``at_title`` reset; ``directed`` set for the directed route).

    Returns the outcome per applicant: 0 failed, 1 passed, 2 directed title.
    """
    m = idx.shape[0]
    out = np.zeros(m, dtype=np.int8)
    for j in range(m):
        i = idx[j]
        p = pid[i]
        if splitmix_uniform(add_pass, p) < p_pass[j]:
            out[j] = 1
        elif directed_on and can_dir[j] and splitmix_uniform(add_dir, p) < p_dir[j]:
            out[j] = 2
            directed[i] = True
        else:
            continue
        title[i] += 1
        at_title[i] = _F0
    return out


# ============================================================================ step 4: grade steps, waiting

@njit(cache=True)
def grade_steps(grade, post, kind, at_grade, band_top, step_years):
    """One grade up within the band after ``step_years`` (float32) at grade; special posts (kind 1) excluded."""
    top0, top1, top2 = band_top[0], band_top[1], band_top[2]
    for i in range(grade.shape[0]):           # branch-free (vectorised)
        g = grade[i]
        a = at_grade[i]
        ps = post[i]
        top = top0 if ps == 0 else (top1 if ps == 1 else top2)
        move = (g > top) & (a >= step_years) & (kind[i] != 1)
        grade[i] = g - move
        at_grade[i] = _F0 if move else a


@njit(cache=True)
def waiting_for_post(title, post):
    """Indices of everyone holding a title above the post held."""
    n = title.shape[0]
    flag = np.empty(n, dtype=np.bool_)
    for i in range(n):
        flag[i] = title[i] > post[i]
    return flagged(flag)


@njit(cache=True)
def stable_argsort(key):
    """Indices that sort ``key`` (float64, no NaN) ascending, equal keys in their original order.

    The same order as ``numpy.argsort(key, kind="stable")``: a least-significant-digit
    radix sort (8-bit digits; passes where every key has the same digit are skipped) of
    the keys mapped to order-preserving unsigned integers (-0.0 is first made +0.0, so it
    ties with +0.0 as in a float comparison).  Written out because numba's own sorts take
    seconds to compile, and a radix sort does not depend on branch prediction.
    """
    n = key.shape[0]
    k = np.empty(n, dtype=np.float64)
    for i in range(n):
        k[i] = key[i] + 0.0
    raw = k.view(np.uint64)
    top = np.uint64(1) << np.uint64(63)
    b1 = np.empty(n, dtype=np.uint64)
    for i in range(n):
        b = raw[i]
        b1[i] = ~b if (b & top) else (b | top)     # negative: all bits flipped; positive: sign bit set
    i1 = np.arange(n)
    b2 = np.empty(n, dtype=np.uint64)
    i2 = np.empty(n, dtype=np.int64)
    count = np.empty(256, dtype=np.int64)
    digit = np.uint64(0xFF)
    for shift in range(0, 64, 8):
        s = np.uint64(shift)
        count[:] = 0
        for i in range(n):
            count[(b1[i] >> s) & digit] += 1
        trivial = False
        for d in range(256):
            if count[d] == n:
                trivial = True
        if trivial:
            continue
        total = 0
        for d in range(256):
            c = count[d]
            count[d] = total
            total += c
        for i in range(n):
            d = (b1[i] >> s) & digit
            q = count[d]
            b2[q] = b1[i]
            i2[q] = i1[i]
            count[d] = q + 1
        b1, b2 = b2, b1
        i1, i2 = i2, i1
    return i1


@njit(cache=True)
def take_by_priority(cand_unit, free, priority):
    """Which candidates a unit takes: per unit, the ``free[u]`` (int64 per unit) of highest ``priority``.

    ``cand_unit``: each candidate's unit (int64); ``priority``: float64 per candidate.  Returns a bool per
    candidate.  Units with no free place take nobody; units with at least as many free places as candidates
    take them all without sorting.  The rest (contested) are sorted once by priority alone (highest first,
    stable: exactly equal priorities go by position) and taken in that order while their unit has room --
    the per-unit ranking of ``population.rank_within`` without a ``span``, exact (a key ``unit x 400 -
    priority`` would round near-equal priorities together at large unit numbers).  Shared by appointments
    (:func:`appoint_level`) and internal moves (``moves.accept_moves``).
    """
    m = cand_unit.shape[0]
    nu = free.shape[0]
    cnt = np.zeros(nu, dtype=np.int64)
    for j in range(m):
        cnt[cand_unit[j]] += 1
    sel = np.zeros(m, dtype=np.bool_)
    contested = np.empty(m, dtype=np.int64)
    nc = 0
    for j in range(m):
        u = cand_unit[j]
        if free[u] > 0:
            if cnt[u] <= free[u]:
                sel[j] = True
            else:
                contested[nc] = j
                nc += 1
    if nc > 0:
        key = np.empty(nc, dtype=np.float64)
        for k in range(nc):
            key[k] = -priority[contested[k]]
        order = stable_argsort(key)
        taken = np.zeros(nu, dtype=np.int64)
        for k in range(nc):
            j = contested[order[k]]
            u = cand_unit[j]
            if taken[u] < free[u]:
                sel[j] = True
            taken[u] += 1
    return sel


@njit(cache=True)
def appoint_level(idx, unit, at_title, pid, free_u, add_order):
    """Of the candidates ``idx`` (ascending), those appointed (ascending): per unit, the first ``free_u`` by priority.

    Priority = min(years at title, 99) + 0.001 x APPOINT_ORDER uniform
    (float64); the per-unit ranking is :func:`take_by_priority` (only
    exactly equal priorities, a tie of 53-bit draws, go by position).
    """
    m = idx.shape[0]
    cand_unit = np.empty(m, dtype=np.int64)
    priority = np.empty(m, dtype=np.float64)
    for j in range(m):
        i = idx[j]
        cand_unit[j] = unit[i]
        a = np.float64(at_title[i])
        priority[j] = (a if a < 99.0 else 99.0) + splitmix_uniform(add_order, pid[i]) * 1e-3
    sel = take_by_priority(cand_unit, free_u, priority)
    n_sel = 0
    for j in range(m):
        n_sel += sel[j]
    out = np.empty(n_sel, dtype=np.int64)
    k = 0
    for j in range(m):
        if sel[j]:
            out[k] = idx[j]
            k += 1
    return out
