"""Stay or leave: a binary logit between the current post and an outside option.

The formula lives in one function, :func:`leave_logit`.  For professional *i*
in field *f* the log-odds of leaving this year are::

    V_i = alpha_f
        + b x [ Y_out_i - Y_stay_i                        income, yuan/month
                - WTP_county        x 1[county-seat post] location: county instead of township
                + WTP_hardship      x hardship class      location: each hardship class is a cost of staying
                - WTP_public        x 1[in 编制]           security: public (编制) post instead of contract
                - WTP_training      x min(1, hours / sufficient_hours)      training
                - WTP_promotion     x prospect_i ]        career: prospect_i = -ln(W_i / 2) / ln(5 / 2)
        + 1[obligated] x ( logit(breach_rate) - logit(exit_rate_target_f)
                           - penalty_salience x (breach_penalty - breach_observed_penalty) / 1000 )
        + 1[not obligated] x exit_age_slope_f x (age_i - 40)   younger staff leave more (slope < 0)

The age term does not apply during a programme obligation: the obligated leave
at the observed breach rate, which was observed on young graduates (so the age
gradient is already in that anchor; adding it would count youth twice).

with ``b = behaviour.income_coef / 1000`` (utility per yuan/month): the DCE
willingness-to-pay figures of FACTS.md (HRH 2021) become utility through the
income coefficient, ``utility = b x WTP``.

* ``Y_stay`` is the monthly income of ``pay.monthly_income`` (base + performance
  + hardship allowance + township subsidy + programme subsidy).
* ``Y_out = outside_income_ratio[region] x base x (1 + outside_performance_share)``
  at the grade the person would carry outside: the outside option keeps its
  own performance share, so raising ``pay.performance_share`` raises own pay
  relative to outside pay and lowers exits.  A directed (定向) senior title
  is valid only at the grassroots, so a directed senior leaving is paid as
  grade 8 (the top intermediate grade) outside: the title is lost on leaving.
* ``W_i`` (years until the next promotion, clipped to [1, 20]) is the person's
  expected wait: remaining years before eligibility + 1 / (apply_rate x pass
  probability) + the wait for a free post, 1 / a_u - 1, where
  a_u = free posts / people already waiting at the next level in the unit
  (clipped to [0.05, 1]).  Staff already at the top of the grassroots ladder
  (senior post) get W = 2, the DCE's "promotion in 2 years" level.  The DCE
  values promotion in 2 instead of 5 years at ``wtp_promotion_2_vs_5_years``;
  the log form keeps that difference exact and extends it smoothly.
* An obligation (programme term) turns leaving into a breach: the intercept is
  shifted so that an obligated person with no penalty leaves at the observed
  breach rate's odds relative to the field's target rate (``breach_rate``,
  FACTS.md); that rate was observed under a penalty
  (``breach_observed_penalty_yuan``), so only a penalty above (below) it
  lowers (raises) the odds, ``penalty_salience`` per 1,000 yuan: the penalty
  is counted once.  Programme subsidies, lost on
  leaving, enter through ``Y_stay``.
* ``alpha_f`` (``behaviour.exit_intercept``) absorbs everything common to a
  field, including the fixed attributes of the outside option (city location,
  no 编制); it is calibrated (``simulator.calibrate_intercepts``) so that the
  baseline's year-1 non-retirement exit rate equals ``exit_rate_target``.
  Hence ``wtp_city_vs_township`` has no separate effect: it is the same for
  everyone and lives inside ``alpha_f`` (the county/township difference is
  ``WTP_county``).

Speed: the model evaluates the formula through ``leave_logits`` (the
(unit, grade) part tabulated once a year by ``prepare``, person-level terms
added by the compiled kernels ``kernels.leave_logit_base`` and
``kernels.leave_logit_rest``, the logarithm of the career-prospect term and
the logistic function by numpy), and ``decide_exits`` computes it only for
people whose uniform draw lies below an upper bound of their unit's leave
probability (``leave_logit_bound``; the screening, term ends and upward
moves in one pass, ``kernels.exit_screen``).  Both give exactly the
decisions of the formula applied to everyone (tested).

Leavers' destinations: obligated leavers are ``breach``; others go to a
``city`` post with probability ``city_share_of_exits``, otherwise to
``other_sector``.  Before the logit, staff with at least
``recruitment.reserved_upward_min_years`` (``Params.upward_min_years``) years
of service who are not obligated move ``upward`` into reserved province/city
posts (57号 §7) with probability ``upward_rate_per_reserved_share x
reserved_upward_share``.  At the end of a programme term, the participant
stays with probability ``post_term_stay`` (then joins 编制) or leaves
(``term_end``); that year the logit does not apply to them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from . import evaluation, kernels, rng
from .params import COUNTY, Params
from .titles import pass_probability

OUTSIDE_GRADE_DIRECTED = 8  # a directed senior leaving is paid as the top intermediate grade outside
MIN_APPOINT_CHANCE = 0.05
W_MIN, W_MAX = 1.0, 20.0


def _logit(x):
    x = np.clip(x, 1e-9, 1 - 1e-9)
    return np.log(x) - np.log1p(-x)


def prospect_score(wait_years):
    """Career-prospect attribute: 0 for a promotion in 2 years, -1 in 5 years (log scale)."""
    w = np.clip(wait_years, W_MIN, W_MAX)
    return -np.log(w / 2.0) / math.log(2.5)


AGE_REF = 40.0  # years: the age at which the age term of the leave logit is 0


def leave_logit(p: Params, *, field, tier, region, hardship_class, grade_out, income_stay,
                in_bianzhi, wait_years, obligated, penalty_yuan, training_hours=None, age=None) -> np.ndarray:
    """Log-odds of leaving this year (see the module docstring for the formula); ``age=None``: no age term."""
    b = p.income_coef / 1000.0
    hours = p.training_hours if training_hours is None else training_hours
    train = min(1.0, hours / p.sufficient_hours) if p.sufficient_hours > 0 else 1.0
    y_out = p.outside_income_ratio[region] * p.base_by_grade[grade_out - 1] * (1.0 + p.outside_performance_share)
    attr = (y_out - income_stay
            - p.wtp_county * (tier == COUNTY)
            + p.wtp_hardship * hardship_class
            - p.wtp_public * in_bianzhi
            - p.wtp_training * train
            - p.wtp_promotion * prospect_score(wait_years))
    v = p.exit_intercept[field] + b * attr
    if age is not None and np.any(p.exit_age_slope):       # not during an obligation (module docstring)
        term = p.exit_age_slope[field] * (np.asarray(age, dtype=np.float32) - np.float32(AGE_REF))
        v = v + np.where(obligated, 0.0, term)
    if np.any(obligated):
        shift = (_logit(p.breach_rate) - _logit(p.exit_rate_target[field])
                 - p.penalty_salience * (penalty_yuan - p.breach_observed_penalty) / 1000.0)
        v = v + np.where(obligated, shift, 0.0)
    return v


SKILL_BIN = 0.02          # skill is rounded to 0.02 z when the pass probability enters the expected wait
SKILL_LO, SKILL_HI = -6.0, 8.0


def inverse_title_rate_table(p: Params) -> np.ndarray:
    """1 / (apply_rate x pass probability) by [step, tier, skill bin] (expected years of trying)."""
    centres = np.arange(SKILL_LO, SKILL_HI + SKILL_BIN / 2, SKILL_BIN)
    out = np.empty((2, 2, len(centres)))
    for step in (0, 1):
        for tier in (0, 1):
            pp = pass_probability(p, np.full(len(centres), step), np.full(len(centres), tier), centres)
            out[step, tier] = 1.0 / np.maximum(p.apply_rate * pp, 1e-6)
    return out


def appointment_chances(free_i, free_s, wait_i, wait_s) -> tuple[np.ndarray, np.ndarray]:
    """a_u per unit for the intermediate and senior level: free posts / people waiting, in [0.05, 1]."""
    a_i = np.clip(free_i / np.maximum(wait_i, 1), MIN_APPOINT_CHANCE, 1.0)
    a_s = np.clip(free_s / np.maximum(wait_s, 1), MIN_APPOINT_CHANCE, 1.0)
    return a_i, a_s


def prepare(p: Params, ctx) -> None:
    """Per-year lookup tables of the fast path, stored on ``ctx`` (needs ``ctx.allowance`` and free/wait counts).

    ``ctx.grid[unit x 13 + grade - 1]``: :func:`leave_logit` on the (unit, grade)
    grid -- in 编制, promotion in 2 years, no subsidy or obligation;
    ``ctx.inv_a[unit x 2 + level - 1]``: 1 / appointment chance at the next level;
    ``ctx.inv_rate[(step x 2 + tier) x bins + skill bin]``: 1 / (apply x pass probability).
    """
    from .pay import base_and_performance_table
    g = getattr(ctx, "grid_inputs", None)
    if g is None or g["params"] is not p:                # the (unit, grade) grid's fixed inputs: once per run
        n_units = len(ctx.unit_tier)
        gu = np.repeat(np.arange(n_units), 13)
        gg = np.tile(np.arange(1, 14), n_units)
        gt = ctx.unit_tier[gu]
        g = ctx.grid_inputs = {"params": p, "gu": gu, "gg": gg, "gt": gt, "field": ctx.unit_field[gu],
                               "region": ctx.unit_region[gu], "hardship": ctx.unit_hardship[gu],
                               "bp": base_and_performance_table(p)[gt, gg - 1]}
    ctx.grid = leave_logit(p, field=g["field"], tier=g["gt"], region=g["region"],
                           hardship_class=g["hardship"], grade_out=g["gg"],
                           income_stay=g["bp"] + ctx.allowance[g["gu"]],
                           in_bianzhi=True, wait_years=2.0, obligated=False, penalty_yuan=0.0).astype(np.float32)
    a_i, a_s = appointment_chances(ctx.free_i, ctx.free_s, ctx.wait_i, ctx.wait_s)
    ctx.inv_a = np.stack([1.0 / a_i, 1.0 / a_s], axis=1).astype(np.float32).reshape(-1)
    if getattr(ctx, "inv_rate_params", None) is not p:      # depends on the scenario only: once per run
        table = inverse_title_rate_table(p).astype(np.float32)
        ctx.n_bins = table.shape[2]
        ctx.inv_rate = table.reshape(-1)
        ctx.inv_rate_params = p


def expected_wait(p: Params, staff, ctx) -> np.ndarray:
    """W_i: expected years until the next promotion (see module docstring), float32; needs ``prepare``."""
    nb = ctx.n_bins
    title, post, unit = staff.title, staff.post, staff.unit
    step = np.minimum(title, 1)
    unit2 = unit * 2
    # climbing: holds the post of the title (not at the top): years left + years of trying + wait for a post
    sb = (staff.skill - np.float32(SKILL_LO)) * np.float32(1.0 / SKILL_BIN)
    np.rint(sb, out=sb)
    np.clip(sb, 0, nb - 1, out=sb)
    key = (step * 2 + ctx.unit_tier[unit]).astype(np.int32) * nb + sb.astype(np.int32)
    w = ctx.inv_rate[key]
    remaining = p.min_years.astype(np.float32)[step] - staff.at_title
    np.maximum(remaining, 0.0, out=remaining)
    if p.exceptional_promotion:
        remaining[staff.served >= p.exceptional_after_years] = 0.0
    w += remaining
    w += ctx.inv_a[unit2 + step]
    w -= 1.0
    # waiting for a post at the level of the title already held: the post wait only
    idx = np.flatnonzero(title > post)
    if len(idx):
        w[idx] = ctx.inv_a[unit2[idx] + post[idx]]
    # at the top of the grassroots ladder
    w[post >= 2] = 2.0
    return w


def leave_logits(p: Params, staff, ctx, reference: bool = False) -> np.ndarray:
    """``leave_logit`` for every professional, given the model's per-unit context ``ctx``.

    The fast path evaluates :func:`leave_logit` once per year on the (unit,
    grade) grid -- every term fixed by the unit and grade (``prepare``) --
    and adds the person-level terms (编制, township subsidy, programme
    subsidy, obligation, career prospects, directed title) in compiled
    kernels (float32).  ``reference=True`` calls ``leave_logit`` person by
    person instead (same values up to float32 rounding; the tests compare
    the two).  ``prepare`` must have been called for this year's context
    (the model does it).
    """
    if reference:
        from .pay import monthly_income
        unit = staff.unit
        wait = expected_wait(p, staff, ctx)
        obligated = staff.in_term & (staff.obligation > 0)
        grade_out = np.where(staff.directed & (staff.post == 2), OUTSIDE_GRADE_DIRECTED, staff.grade).astype(np.intp)
        penalty = np.where(obligated, p.prog_penalty[np.maximum(staff.programme, 0)], 0.0)
        income = monthly_income(p, staff, ctx.unit_tier, ctx.allowance)
        v = leave_logit(p, field=ctx.unit_field[unit], tier=ctx.unit_tier[unit], region=ctx.unit_region[unit],
                        hardship_class=ctx.unit_hardship[unit], grade_out=grade_out, income_stay=income,
                        in_bianzhi=~staff.contract, wait_years=wait, obligated=obligated, penalty_yuan=penalty,
                        age=staff.age)
        evaluation.adjust_leave_logits(p, staff, ctx, np.arange(len(staff), dtype=np.int64), v)   # 57号 §6, §10
        return v
    return fast_logits(p, staff, ctx, np.arange(len(staff), dtype=np.int64))


def logit_terms(p: Params) -> dict:
    """Per-scenario constants of the fast path's person-level terms (computed as the formula computes them).

    ``directed_coef[region]`` = b x outside ratio x (1 + performance share)
    (times the base-pay difference: the directed title lost outside);
    ``subsidy_month[programme]`` = b x subsidy / 12 (utility of the monthly
    programme subsidy); ``shift[field, programme]`` = logit(breach rate)
    - logit(target exit rate of the field) - penalty salience x penalty / 1000.
    """
    b = p.income_coef / 1000.0
    shift = (_logit(p.breach_rate) - _logit(p.exit_rate_target)[:, None]
             - p.penalty_salience * (p.prog_penalty[None, :] - p.breach_observed_penalty) / 1000.0)
    return {
        "b": b,
        "directed_coef": b * p.outside_income_ratio * (1.0 + p.outside_performance_share),
        "subsidy_month": b * p.prog_subsidy / 12.0,
        "shift": np.ascontiguousarray(shift),
    }


def fast_logits(p: Params, staff, ctx, idx: np.ndarray) -> np.ndarray:
    """The fast path of :func:`leave_logits` for the rows ``idx`` (int64) of ``staff``: float32 logits.

    Same operations, in the same order and precision, as the formula
    evaluated on the (unit, grade) grid plus the person-level terms:
    ``kernels.leave_logit_base`` (grid, 编制, expected wait), numpy (career
    prospects: a logarithm), ``kernels.leave_logit_rest`` (township subsidy,
    directed title, programme subsidy and obligation).
    """
    k = logit_terms(p)
    b = k["b"]
    v, w = kernels.leave_logit_base(
        idx, staff.unit, staff.grade, staff.contract, staff.skill, staff.title, staff.post, staff.at_title,
        staff.served, ctx.unit_tier, ctx.grid, ctx.inv_rate, ctx.n_bins, np.float32(SKILL_LO),
        np.float32(1.0 / SKILL_BIN), ctx.inv_a, p.min_years.astype(np.float32), bool(p.exceptional_promotion),
        kernels.like_float32(p.exceptional_after_years), np.float32(b * p.wtp_public))
    v -= np.float32(b * p.wtp_promotion) * prospect_score(w)                              # career prospects
    if np.any(p.exit_age_slope):                                                          # age, by field
        slope = p.exit_age_slope.astype(np.float32)[ctx.unit_field[staff.unit[idx]]]
        free = ~(staff.in_term[idx] & (staff.obligation[idx] > 0))                       # not during an obligation
        v += np.where(free, slope * (staff.age[idx] - np.float32(AGE_REF)), np.float32(0.0)).astype(np.float32)
    kernels.leave_logit_rest(
        idx, v, staff.unit, staff.served, staff.remote, staff.directed, staff.post, staff.grade, staff.in_term,
        staff.obligation, staff.programme, ctx.unit_tier, ctx.unit_region, ctx.unit_field,
        bool(p.township_subsidy), np.float32(b), p.township_subsidy_by_band.astype(np.float64),
        float(p.township_subsidy_remote_extra), k["directed_coef"], p.base_by_grade.astype(np.float64),
        OUTSIDE_GRADE_DIRECTED, k["subsidy_month"], k["shift"])
    evaluation.adjust_leave_logits(p, staff, ctx, idx, v)   # 57号 §6 directed title kept, §10 awards
    return v


def leave_logit_bound(p: Params, ctx) -> np.ndarray:
    """An upper bound of every professional's leave logit, per unit (needs ``prepare``).

    The (unit, grade) grid value at the worst grade, plus the largest
    person-level terms that can raise it: a contract instead of 编制, the
    longest expected wait (W = 20 years), and an obligation whose breach-rate
    shift is positive (when breach_rate exceeds the target).  The other
    person-level terms (subsidies, penalty, directed title) only lower it.
    A small margin covers float32 rounding.
    """
    b = p.income_coef / 1000.0
    n_units = len(ctx.unit_tier)
    top = ctx.grid.reshape(n_units, 13).astype(float).max(axis=1)
    shift = float(np.max(logit_terms(p)["shift"]))
    worst_prospect = -float(prospect_score(np.array([W_MAX]))[0])
    ages = np.array([p.entry_age, p.retirement_age + 1.0]) - AGE_REF                     # nobody is younger or older
    slope = p.exit_age_slope[ctx.unit_field]                                              # [units]
    age_term = np.maximum(0.0, np.maximum(slope * ages[0], slope * ages[1]))
    return top + b * p.wtp_public + b * p.wtp_promotion * worst_prospect + max(0.0, shift) + age_term + 1e-3


def decide_exits(p: Params, staff, ctx, seed: int, year: int, fixed_hazard: float | None = None,
                 retiring: np.ndarray | None = None, thin: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """This year's leavers: an int8 reason code per professional (0 stays; see ``EXIT_CODES``).

    ``retiring`` marks those retiring this year (decided before, by age): they
    take no other decision.  Also returns the indices of the programme
    participants whose term ended this year (stayers and leavers).  With
    ``thin`` (default) the logit is computed only for people whose uniform
    lies below their unit's bound (``leave_logit_bound``), screened in one
    compiled pass (``kernels.exit_screen``): the same decisions, less work.
    ``thin=False`` is the plain numpy reference (the logit for everyone).
    """
    if fixed_hazard is not None or not thin:
        return _decide_exits_numpy(p, staff, ctx, seed, year, fixed_hazard, retiring)
    n = len(staff)
    code = np.empty(n, dtype=np.int8)
    if retiring is None:
        retiring = np.zeros(n, dtype=bool)

    def add(purpose):
        return rng.stream_add(seed, year, purpose)

    bound = special.expit(leave_logit_bound(p, ctx))
    ended, cand, u_cand = kernels.exit_screen(
        staff.pid, staff.unit, staff.served, staff.in_term, staff.obligation, staff.programme, staff.contract,
        retiring, add(rng.EXIT), add(rng.TERM_END), add(rng.UPWARD), p.prog_post_term_stay.astype(np.float64),
        float(p.upward_rate), kernels.like_float32(p.upward_min_years), bound, code)
    prob = special.expit(fast_logits(p, staff, ctx, cand))
    kernels.exit_decide(cand, u_cand, prob, staff.in_term, staff.obligation, staff.pid, add(rng.DESTINATION),
                        float(p.city_share_of_exits), code)
    return code, ended


def _decide_exits_numpy(p: Params, staff, ctx, seed: int, year: int, fixed_hazard: float | None,
                        retiring: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``decide_exits`` in plain numpy, computing the logit for everyone (the reference; and the fixed-hazard hook)."""
    n = len(staff)
    pid = staff.pid
    u = rng.person_uniforms(seed, year, rng.EXIT, pid)
    code = np.zeros(n, dtype=np.int8)
    if retiring is not None:
        code[retiring] = EXIT_CODES["retirement"]
    if fixed_hazard is not None:
        code[(code == 0) & (u < fixed_hazard)] = EXIT_CODES["other_sector"]
        return code, np.zeros(0, dtype=np.intp)
    # end of a programme term: stay (join 编制) with probability post_term_stay
    ended = np.flatnonzero(staff.in_term & (staff.obligation <= 0) & (code == 0))
    if len(ended):
        ut = rng.person_uniforms(seed, year, rng.TERM_END, pid[ended])
        leave = ut >= p.prog_post_term_stay[staff.programme[ended]]
        code[ended[leave]] = EXIT_CODES["term_end"]
        staff.in_term[ended] = False
        staff.contract[ended[~leave]] = False
    obligated = staff.in_term & (staff.obligation > 0)
    decided = code > 0
    decided[ended] = True
    if p.upward_rate > 0:
        can = np.flatnonzero(~obligated & ~decided & (staff.served >= p.upward_min_years))
        uu = rng.person_uniforms(seed, year, rng.UPWARD, pid[can])
        up = can[uu < p.upward_rate]
        code[up] = EXIT_CODES["upward"]
        decided[up] = True
    prob = special.expit(leave_logits(p, staff, ctx))
    leave = np.flatnonzero(~decided & (u < prob))
    ob = obligated[leave]
    code[leave[ob]] = EXIT_CODES["breach"]
    vol = leave[~ob]
    ud = rng.person_uniforms(seed, year, rng.DESTINATION, pid[vol])
    city = ud < p.city_share_of_exits
    code[vol[city]] = EXIT_CODES["city"]
    code[vol[~city]] = EXIT_CODES["other_sector"]
    return code, ended


EXIT_CODES = {"city": 1, "other_sector": 2, "upward": 3, "breach": 4, "term_end": 5, "retirement": 6}
