"""Kernels of steps 0-2: ageing and retirement, the stay/leave screening and logit terms, exit tallies, compaction."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (_F0, _F1, _F2, FLAG_WIDTH, GRADES, STATE_WIDTH, flagged,  # noqa: F401
                     splitmix_uniform)


# ============================================================================ step 0-1: ageing, retirement

@njit(cache=True)
def age_one_year(age, served, at_title, at_grade, obligation, in_term, retirement_age, retire, retiring,
                 unit, post, kind, title, directed, tab):
    """Everyone one year older (age, years served, at title, at grade +1; obligation -1 while in a term).

    Marks ``retiring[i]`` (age >= ``retirement_age``, float32, when ``retire``)
    and subtracts the retirees from the post table ``tab`` (flat
    ``unit x 54 + state``, as ``posts.state_table``).  The first loop has no
    branches (so it vectorises); the second visits the few retirees.
    """
    n = age.shape[0]
    for i in range(n):
        a = age[i] + _F1
        age[i] = a
        served[i] += _F1
        at_title[i] += _F1
        at_grade[i] += _F1
        obligation[i] -= in_term[i]
        retiring[i] = (a >= retirement_age) & retire
    if retire:
        for i in range(n):
            if retiring[i]:
                tab[unit[i] * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] -= 1


# ============================================================================ step 2: stay or leave

@njit(cache=True)
def exit_screen(pid, unit, served, in_term, obligation, programme, contract, retiring,
                add_exit, add_term, add_up, stay_prob, upward_rate, upward_min_served, bound_prob, code):
    """The non-logit part of ``behaviour.decide_exits`` for everyone.

    Per person: retirees get code 6; a programme term that ended
    (``in_term`` and obligation <= 0) is stayed (join 编制: ``contract`` off)
    or left (code 5) by the TERM_END uniform against ``stay_prob[programme]``,
    and ``in_term`` is switched off; the non-obligated with at least
    ``upward_min_served`` years served move upward (code 3) when their UPWARD
    uniform is below ``upward_rate`` (only if > 0); everyone else still
    undecided whose EXIT uniform is below ``bound_prob[unit]`` (an upper bound
    of the leave probability) is a candidate for the logit.

    Done in simple loops the compiler vectorises (the draws; the codes and
    flags; the comparison with the unit's bound), then the flags are
    compacted and the few term ends decided one by one.
    Returns (indices of ended terms, candidate indices, candidates' EXIT uniforms).
    """
    n = pid.shape[0]
    u_all = np.empty(n, dtype=np.float64)
    for i in range(n):
        u_all[i] = splitmix_uniform(add_exit, pid[i])
    is_cand = np.empty(n, dtype=np.bool_)
    ends = np.empty(n, dtype=np.bool_)
    if upward_rate > 0.0:
        u_up = np.empty(n, dtype=np.float64)
        for i in range(n):
            u_up[i] = splitmix_uniform(add_up, pid[i])
        for i in range(n):
            r = retiring[i]
            it = in_term[i]
            ob = obligation[i]
            te = it & (ob <= 0) & ~r
            up = ~r & ~te & ~(it & (ob > 0)) & (served[i] >= upward_min_served) & (u_up[i] < upward_rate)
            code[i] = np.int8(6) if r else (np.int8(3) if up else np.int8(0))
            ends[i] = te
            is_cand[i] = ~r & ~te & ~up
    else:                                     # no upward moves: the same loop without them
        for i in range(n):
            r = retiring[i]
            te = in_term[i] & (obligation[i] <= 0) & ~r
            code[i] = np.int8(6) if r else np.int8(0)
            ends[i] = te
            is_cand[i] = ~r & ~te
    for i in range(n):
        is_cand[i] = is_cand[i] & (u_all[i] < bound_prob[unit[i]])
    ended = flagged(ends)
    for i in ended:
        in_term[i] = False
        if splitmix_uniform(add_term, pid[i]) >= stay_prob[programme[i]]:
            code[i] = 5
        else:
            contract[i] = False
    cand = flagged(is_cand)
    u_cand = np.empty(cand.shape[0], dtype=np.float64)
    for j in range(cand.shape[0]):
        u_cand[j] = u_all[cand[j]]
    return ended, cand, u_cand


@njit(cache=True)
def leave_logit_base(idx, unit, grade, contract, skill, title, post, at_title, served, unit_tier,
                     grid, inv_rate, n_bins, skill_lo, inv_bin, inv_a, min_years, exceptional, exceptional_after,
                     public_term):
    """First part of the fast leave logit for the people ``idx`` (see ``behaviour``): (v, W), float32.

    ``v`` = the (unit, grade) grid value + the 编制 term for contract staff;
    ``W`` = the expected wait until the next promotion (``behaviour.expected_wait``):
    years left before eligibility (0 with exceptional promotion after
    ``exceptional_after`` years served) + 1 / (apply x pass probability) at
    the person's skill bin + 1 / appointment chance - 1; the post wait only
    for people already holding a title above their post; 2 at the top.
    The skill bin is rint((skill - ``skill_lo``) x ``inv_bin``) (float32),
    clipped to the ``n_bins`` bins.  The career-prospect term (a logarithm
    of W) is added by numpy.
    """
    m = idx.shape[0]
    v = np.empty(m, dtype=np.float32)
    w = np.empty(m, dtype=np.float32)
    top = np.float32(n_bins - 1)
    for j in range(m):
        i = idx[j]
        u = unit[i]
        x = grid[u * GRADES + (grade[i] - 1)]
        if contract[i]:
            x = x + public_term
        v[j] = x
        t = title[i]
        ps = post[i]
        if ps >= 2:
            w[j] = _F2
            continue
        if t > ps:
            w[j] = inv_a[u * 2 + ps]
            continue
        step = t if t < 1 else 1
        sb = np.rint((skill[i] - skill_lo) * inv_bin)
        if sb < _F0:
            sb = _F0
        elif sb > top:
            sb = top
        key = (step * 2 + unit_tier[u]) * n_bins + np.int64(sb)
        rem = min_years[step] - at_title[i]
        if rem < _F0:
            rem = _F0
        if exceptional and served[i] >= exceptional_after:
            rem = _F0
        w[j] = ((inv_rate[key] + rem) + inv_a[u * 2 + step]) - _F1
    return v, w


@njit(cache=True)
def leave_logit_rest(idx, v, unit, served, remote, directed, post, grade, in_term, obligation, programme,
                     unit_tier, unit_region, unit_field, town_on, b32, band_amount, remote_extra,
                     directed_coef, base_by_grade, outside_grade, subsidy_month, shift_table):
    """Last part of the fast leave logit for the people ``idx``, added to ``v`` in place, in numpy's order.

    Township subsidy (township units, when on: band by years served + remote
    extra, float64, cast to float32, times ``b32``) subtracted; a directed
    senior title lost outside: ``directed_coef[region] x (base[outside] -
    base[grade])`` added (float64 then float32); while in a programme term:
    the monthly subsidy subtracted, then the obligation shift
    ``shift_table[field, programme]`` added when obligated.
    """
    for j in range(idx.shape[0]):
        i = idx[j]
        u = unit[i]
        x = v[j]
        if town_on:
            if unit_tier[u] == 1:
                s = served[i]
                band = (1 if s >= 10 else 0) + (1 if s >= 20 else 0)
                amount = band_amount[band] + (remote_extra if remote[i] else 0.0)
            else:
                amount = 0.0
            x = x - b32 * np.float32(amount)
        if directed[i] and post[i] == 2:
            d = directed_coef[unit_region[u]] * (base_by_grade[outside_grade - 1] - base_by_grade[grade[i] - 1])
            x = x + np.float32(d)
        if in_term[i]:
            pg = programme[i]
            x = x - np.float32(subsidy_month[pg])
            if obligation[i] > 0:
                x = x + np.float32(shift_table[unit_field[u], pg])
            else:
                x = x + _F0
        v[j] = x


@njit(cache=True)
def exit_decide(cand, u_cand, prob, in_term, obligation, pid, add_dest, city_share, code):
    """Candidates whose EXIT uniform is below their leave probability leave: breach if obligated, else city
    (DESTINATION uniform below ``city_share``) or another sector.  Writes ``code``."""
    for j in range(cand.shape[0]):
        if u_cand[j] < np.float64(prob[j]):
            i = cand[j]
            if in_term[i] and obligation[i] > 0:
                code[i] = 4
            elif splitmix_uniform(add_dest, pid[i]) < city_share:
                code[i] = 1
            else:
                code[i] = 2


@njit(cache=True)
def exit_tally(code, unit, post, kind, title, directed, tab, by_reason, n_reasons):
    """Leavers (code > 0): count them per [unit, reason] and subtract them from the post table ``tab``.

    Returns the number of stayers.
    """
    stay = 0
    for i in range(code.shape[0]):
        c = code[i]
        if c > 0:
            u = unit[i]
            by_reason[u * n_reasons + c] += 1
            tab[u * STATE_WIDTH + ((post[i] * 3 + kind[i]) * 3 + title[i]) * 2 + directed[i]] -= 1
        else:
            stay += 1
    return stay


# ============================================================================ compaction

@njit(cache=True)
def holes_and_movers(mask, n_new):
    """Rows to fill (dropped rows below ``n_new``) and the kept rows at or above ``n_new`` that fill them."""
    n = mask.shape[0]
    kept_below = 0
    for i in range(n_new):
        kept_below += mask[i]
    n_holes = n_new - kept_below
    holes = np.empty(n_holes + 1, dtype=np.int64)   # one spare slot for the branch-free append
    movers = np.empty(n_holes + 1, dtype=np.int64)
    h = 0
    for i in range(n_new):
        holes[h] = i
        h += ~mask[i]
    k = 0
    for i in range(n_new, n):
        movers[k] = i
        k += mask[i]
    return holes[:n_holes], movers[:n_holes]


@njit(cache=True)
def move_rows(buf, holes, movers):
    """``buf[holes] = buf[movers]`` (one column of the compaction)."""
    for k in range(holes.shape[0]):
        buf[holes[k]] = buf[movers[k]]
