"""Recruitment (57号 §7, §8): vacancies, quotas, applicant pools, fill, recruit skill; new people.

Per unit (county x field x tier), after exits and programme placements:

* ``vacancies = max(0, authorized posts - staff in regular and directed posts)``
  (special-post holders are outside unit totals);
* the bureau's open-recruitment **quota** is ``quota_share x vacancies``,
  fractions carried to the next year (``plan_quota``);
* **applicants per quota post** ``A = applicants_per_vacancy[field] x
  attractiveness x (1 + hardship_tilt x hardship class) x threshold factor``,
  where attractiveness = ``exp(b x (value of the entry post - value of a
  reference post))``: the entry post (grade 13) is valued with the same terms
  as ``behaviour`` (pay with every allowance and subsidy, county vs township,
  hardship class, share of recruits in 编制, training, and the career
  prospect opened by reserved posts, below); the reference is a class-0
  township post paying base + the 2016 performance share
  (``behaviour.outside_performance_share``, so raising ``pay.performance_share``
  attracts applicants) with the same 编制 share, no training and no reserved
  posts (assumption), so ``applicants_per_vacancy`` is the pool at threshold 0
  in a class-0 township with no incentives, as the schema says.
  **Reserved posts** (57号 §7, ``recruitment.reserved_upward_share``) open a
  second path to a first career step: after ``reserved_upward_min_years`` an
  upward move at the yearly rate ``upward_rate``.  The entrant's expected wait
  for the first step, W_reg = min_years(intermediate) + 1 / (apply_rate x
  pass rate of the tier) without them, becomes 1 / (1 / W_reg + 1 / W_up)
  with W_up = min years + 1 / upward_rate (the first of two paths), valued
  with the DCE's promotion term as ``behaviour`` values waits:
  ``wtp_promotion x (prospect(W) - prospect(W_reg))`` yuan/month (FACTS.md
  DCE, HRH 2021: promotion in 2 instead of 5 years 881-1,683 yuan/month);  Threshold factor = ``P(skill >= threshold) / P(skill >= 0)`` for
  applicants' skill ~ N(recruit_skill_mean, skill_sd): relaxing the
  threshold enlarges the qualified pool;
* each quota post is **filled** when it draws at least one qualified
  applicant: fill probability ``1 - exp(-A)`` (Poisson applicants per post),
  one draw per post, so filled posts ~ Binomial(quota, 1 - exp(-A))
  (``fill_rate`` = filled / quota);
* recruits' **skill** ~ N(recruit_skill_mean, skill_sd) truncated below at
  ``entry_threshold``: a lower threshold lowers the mean recruit skill;
* special posts vacant in a township unit are filled the same way
  (applicants valued at the special post's grade), at ``special_post_grade``.

Recruits enter aged ``entry_age`` + U(0, 3) (assumption), junior title and
grade 13 (special posts: their grade and the title of its level), on a
contract with probability ``recruitment.contract_share[tier]`` (special posts
and programme participants: see ``programmes``), in a remote township with
probability = the county's remoteness.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import kernels, rng
from .params import COUNTY, TOWNSHIP, Params
from .population import CH_SPECIAL, Staff, level_of_grade


def plan_quota(p: Params, vacancies: np.ndarray, carry: np.ndarray, out_quota: np.ndarray) -> None:
    """Bureau rule: quota = quota_share x vacancies, fractions carried (arrays [..., F, T])."""
    carry += p.quota_share * vacancies
    q = np.minimum(np.floor(carry + 1e-9), vacancies)
    carry -= q
    np.minimum(carry, 1.0, out=carry)
    out_quota[...] = q


def threshold_factor(p: Params) -> float:
    """Qualified applicants relative to threshold 0: P(skill >= threshold) / P(skill >= 0)."""
    mu, sd = p.recruit_skill_mean, p.skill_sd
    return float(special.ndtr((mu - p.entry_threshold) / sd) / special.ndtr(mu / sd))


def entry_value(p: Params, grade: int, tier: np.ndarray, hardship: np.ndarray, remoteness: np.ndarray,
                allowance: np.ndarray) -> np.ndarray:
    """Monthly value (yuan-equivalent) of an entry post of ``grade`` in each unit, per ``behaviour``'s terms."""
    base = p.base_by_grade[grade - 1]
    pay = base * (1.0 + p.performance_share + np.where(tier == TOWNSHIP, p.performance_tilt_township, 0.0))
    pay = pay + allowance
    if p.township_subsidy:
        pay = pay + np.where(tier == TOWNSHIP, p.township_subsidy_by_band[0] + p.township_subsidy_remote_extra * remoteness, 0.0)
    train = min(1.0, p.training_hours / p.sufficient_hours) if p.sufficient_hours > 0 else 1.0
    bianzhi = 1.0 - p.recruit_contract_share[tier]
    return (pay + p.wtp_county * (tier == COUNTY) - p.wtp_hardship * hardship
            + p.wtp_public * bianzhi + p.wtp_training * train + reserved_prospect_value(p, tier))


def reserved_prospect_value(p: Params, tier: np.ndarray) -> np.ndarray:
    """Monthly value (yuan) to an entrant of the upward path reserved posts open (module docstring); 0 without them."""
    tier = np.asarray(tier)
    if p.upward_rate <= 0:
        return np.zeros(tier.shape)
    from .behaviour import prospect_score
    w_reg = p.min_years[0] + 1.0 / np.maximum(p.apply_rate * p.pass_rate[0][tier], 1e-6)
    w_up = p.upward_min_years + 1.0 / p.upward_rate
    w = 1.0 / (1.0 / w_reg + 1.0 / w_up)
    return p.wtp_promotion * (prospect_score(w) - prospect_score(w_reg))


def reference_value(p: Params, tier: np.ndarray) -> np.ndarray:
    """Value of the reference post: class-0 township, base + the 2016 performance share, no incentives."""
    base = p.base_by_grade[12]
    return (base * (1.0 + p.outside_performance_share)
            + p.wtp_public * (1.0 - p.recruit_contract_share[TOWNSHIP]) + 0.0 * tier)


def applicants_per_post(p: Params, grade: int, unit_field, unit_tier, unit_hardship, unit_remote, unit_allowance) -> np.ndarray:
    """Expected qualified applicants per quota post in each unit (``A`` in the module docstring)."""
    b = p.income_coef / 1000.0
    attract = np.exp(b * (entry_value(p, grade, unit_tier, unit_hardship, unit_remote, unit_allowance)
                          - reference_value(p, unit_tier)))
    return (p.applicants_per_vacancy[unit_field] * attract * (1.0 + p.hardship_tilt * unit_hardship)
            * threshold_factor(p))


def recruit_skill(p: Params, u: np.ndarray) -> np.ndarray:
    """Skill of open-market recruits: N(mean, sd) truncated below at the entry threshold (inverse CDF of ``u``)."""
    mu, sd = p.recruit_skill_mean, p.skill_sd
    lo = special.ndtr((p.entry_threshold - mu) / sd)
    return mu + sd * special.ndtri(np.clip(lo + u * (1.0 - lo), 1e-12, 1 - 1e-12))


def expand_units(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit of each new person, rank within its unit) for ``counts[unit]`` new people (``kernels.expand_counts``)."""
    return kernels.expand_counts(np.ascontiguousarray(counts).astype(np.int64))


def new_people(p: Params, year: int, seed: int, unit: np.ndarray, rank: np.ndarray, channel, *,
               skill: np.ndarray | None, grade: int, contract: np.ndarray | None, unit_tier, unit_remote,
               programme: np.ndarray | None = None, obligation: np.ndarray | None = None,
               pid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Columns of new recruits (``channel`` one value or one per recruit)."""
    n = len(unit)
    cols = Staff.empty_columns(n)
    if pid is None:
        pid = rng.recruit_ids(year, unit, channel, rank)
    cols["pid"] = pid
    cols["unit"] = unit
    # the uniform draws (age, skill, contract, remote) in one compiled pass; skill's inverse normal in numpy
    age = np.empty(n)
    u_skill = np.empty(n if skill is None else 0)
    draw_contract = contract is None
    if draw_contract:
        contract = np.empty(n, dtype=bool)
    remote = np.empty(n, dtype=bool)
    kernels.recruit_draws(np.ascontiguousarray(pid, dtype=np.uint64), np.ascontiguousarray(unit), unit_tier,
                          np.asarray(unit_remote, dtype=np.float64), float(p.entry_age),
                          np.asarray(p.recruit_contract_share, dtype=np.float64),
                          rng.stream_add(seed, year, rng.RECRUIT_AGE), rng.stream_add(seed, year, rng.RECRUIT_SKILL),
                          rng.stream_add(seed, year, rng.RECRUIT_CONTRACT), rng.stream_add(seed, year, rng.RECRUIT_REMOTE),
                          skill is None, draw_contract, age, u_skill, contract, remote)
    cols["age"] = age
    if skill is None:
        skill = recruit_skill(p, u_skill)
    cols["skill"] = skill
    cols["contract"] = contract
    cols["remote"] = remote
    level = int(level_of_grade(np.array([grade]))[0])
    cols["grade"][:] = grade
    cols["post"][:] = level
    cols["title"][:] = level
    cols["kind"] = (np.asarray(channel) == CH_SPECIAL).astype(np.int8) * np.ones(n, dtype=np.int8)
    cols["channel"][:] = channel
    cols["programme"][:] = -1 if programme is None else programme
    if obligation is not None:
        cols["obligation"] = obligation
        cols["in_term"] = obligation > 0
    return cols


def fill(seed: int, year: int, purpose: int, quota: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Filled posts per unit: each quota post is filled with probability ``1 - exp(-A)`` (Binomial overall).

    Post k of unit u draws its own uniform, keyed by (year, unit, k) (``rng.recruit_ids`` with channel 0),
    so a unit's result does not depend on other units and post k is the same post in every scenario.
    """
    prob = np.clip(-np.expm1(-np.maximum(a, 0.0)), 0.0, 1.0)
    q = np.maximum(quota, 0).astype(np.int64)
    id_base = rng.recruit_ids(year, np.zeros(1, dtype=np.int32), 0, np.zeros(1, dtype=np.int64))[0]
    return kernels.fill_posts(rng.stream_add(seed, year, purpose), id_base, q,
                              np.ascontiguousarray(prob, dtype=np.float64))


