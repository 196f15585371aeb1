"""Compiled kernels of the yearly step: one call where numpy needs several passes over the professionals.

Why: the model's yearly step was about sixty passes of numpy over the
structure of arrays (``population.Staff``), each with its own temporaries
(masks, index arrays, keys), plus per-call overheads; the simulator must run
at least 100 times the agent-years per second of a per-agent Mesa model
(``benchmarks/simulator.py``).  Each kernel here is a ``numba.njit`` function
that does the work of several of those passes (e.g. ageing, obligation
countdown and retirement marking; the whole stay/leave screening with its
random draws; every year-end per-unit count), reading the arrays once or
twice.  Where a loop would mix per-person arithmetic with appending to an
index list, the arithmetic runs in a loop without branches (which the
compiler vectorises) and :func:`flagged` compacts the result: measured
2-3x faster than one loop doing both.

Rules every kernel follows (results must equal the numpy code they replace,
bit for bit; ``tests/test_golden.py`` and ``tests/test_simulator_kernels.py``
check it):

* **No transcendental functions.** ``exp``/``log``/``expit`` stay in numpy
  (numba's libm and numpy's SIMD loops may differ by an ulp, which could
  flip a decision); the kernels do gathers, compares, counts and the
  float32/float64 additions and multiplications of the numpy code, in the
  same order and the same precision (float32 where numpy computes in
  float32, e.g. a float32 array times a Python float).  No ``fastmath``
  (which would allow reassociation and fused multiply-add).
* **Per-person random numbers** are SplitMix64 outputs keyed by person id
  (:func:`splitmix_uniform`, the same function as ``rng.person_uniforms``),
  so a kernel may draw a person's uniform wherever it needs it.
* Thresholds and coefficients that numpy combines with a float32 column
  are passed through :func:`like_float32`: a Python float is a weak scalar
  for numpy (compared or multiplied in float32), a numpy float64 is not.
* ``cache=True`` (compiled once per machine, loaded from ``__pycache__``
  afterwards); no ``parallel=True``: the benchmark is per CPU and the
  process pool already uses the cores.

Units are those of the columns (``population``): ages and durations in
years (float32), money in yuan (float64), counts in persons (int64).
Unit-indexed tables are flat: ``unit x width + position``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# SplitMix64 constants (as rng.py)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / float(1 << 53)

_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)


def like_float32(x):
    """``x`` as numpy combines it with a float32 array: float32 if a Python number (NEP 50 weak scalar), else as is.

    Pass thresholds and coefficients through this so a kernel compares or
    multiplies in the precision numpy would use.
    """
    return np.result_type(x, np.float32).type(x)


STATE_WIDTH = 54        # post level (3) x post kind (3) x title (3) x directed (2), as posts.state_table
GRADES = 13
FLAG_WIDTH = 4          # contract x 2 + in_term


# ============================================================================ random numbers

@njit(cache=True, inline="always")
def splitmix_uniform(add, pid):
    """Uniform [0, 1) of person ``pid`` in the stream whose ``add = key + gamma`` (uint64, wrapping).

    SplitMix64: ``z = pid x gamma + add``, then the three xor-shift-multiply
    rounds of the finaliser, then the top 53 bits scaled by 2^-53 (exact).
    """
    z = pid * _GAMMA + add
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return np.float64(z >> _S11) * _INV53


@njit(cache=True)
def person_uniforms(add, pid, out):
    """``out[i]`` = the uniform of person ``pid[i]`` in the stream ``add`` (see ``rng.person_uniforms``)."""
    for i in range(pid.shape[0]):
        out[i] = splitmix_uniform(add, pid[i])


@njit(cache=True)
def flagged(flag):
    """Indices where ``flag`` is true (ascending), by a branch-free append.

    The kernels below compute their per-person flags in a loop without
    branches or appends (which the compiler vectorises) and compact them
    here: measured 2-3x faster than one loop that does both.
    """
    n = flag.shape[0]
    out = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += flag[i]
    return out[:m].copy()


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
def appoint_level(idx, unit, at_title, pid, free_u, add_order):
    """Of the candidates ``idx`` (ascending), those appointed (ascending): per unit, the first ``free_u`` by priority.

    Priority = min(years at title, 99) + 0.001 x APPOINT_ORDER uniform
    (float64).  The contested candidates are sorted once by priority alone
    (highest first, stable) and taken in that order while their unit has a
    free post: the per-unit ranking of ``population.rank_within`` without a
    ``span``, exact (a key ``unit x 400 - priority`` would round near-equal
    priorities together at large unit numbers and leave them to row order).
    Only exactly equal priorities (a tie of 53-bit draws) go by position.
    Units with no free post appoint nobody; units with at least as many free
    posts as candidates appoint all of them without sorting.
    """
    m = idx.shape[0]
    nu = free_u.shape[0]
    cnt = np.zeros(nu, dtype=np.int64)
    for j in range(m):
        u = unit[idx[j]]
        if free_u[u] > 0:
            cnt[u] += 1
    sel = np.zeros(m, dtype=np.bool_)
    contested = np.empty(m, dtype=np.int64)
    nc = 0
    for j in range(m):
        u = unit[idx[j]]
        if free_u[u] > 0:
            if cnt[u] <= free_u[u]:
                sel[j] = True
            else:
                contested[nc] = j
                nc += 1
    if nc > 0:
        key = np.empty(nc, dtype=np.float64)
        for k in range(nc):
            i = idx[contested[k]]
            a = np.float64(at_title[i])
            key[k] = -((a if a < 99.0 else 99.0) + splitmix_uniform(add_order, pid[i]) * 1e-3)
        order = stable_argsort(key)
        taken = np.zeros(nu, dtype=np.int64)
        for k in range(nc):
            j = contested[order[k]]
            u = unit[idx[j]]
            if taken[u] < free_u[u]:
                sel[j] = True
            taken[u] += 1
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
