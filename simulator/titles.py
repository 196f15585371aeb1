"""Title evaluation (57号 §4-6): who is eligible, who applies, who passes.

Steps: junior -> intermediate (step 0), intermediate -> senior (step 1).

* **Eligible**: holds the post of the current title (not already waiting for
  a post), at the title for ``titles.min_years[step]`` years; with
  ``exceptional_promotion`` on, also anyone with ``exceptional_after_years``
  of grassroots service regardless of years at title (破格, §5).
* **Applies** with probability ``titles.apply_rate``.
* **Passes** with probability ``sigmoid(logit(rate) + skill_effect x skill
  [+ log(tilted_odds_factor) if tilted_standards])`` where ``rate`` is
  ``pass_rate[step][tier]``, or for the senior step with ``separate_grouping``
  on, ``separate_group_pass_rate`` (the separate grassroots group and its own
  pass rate, §5; assumption: it replaces the tier rate for all grassroots
  staff).  ``tilted_standards`` (§4: no papers, no foreign language) multiplies
  the odds.
* **Directed senior titles** (定向评价, §6; when ``directed_senior`` is on):
  township applicants for the senior step who fail the regular evaluation are
  evaluated in the directed track with ``directed_pass_rate`` (same skill and
  tilt terms).  A directed title is valid only at the grassroots: it is lost
  on leaving (see ``behaviour``: the outside option pays the grade the person
  would hold without it) and uses directed posts only (``posts``).

A passed title is a qualification, not a post: ``posts.appoint`` decides
whether a post at that level is free.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import rng
from .params import TOWNSHIP, Params


def _logit(x):
    x = np.clip(x, 1e-9, 1 - 1e-9)
    return np.log(x) - np.log1p(-x)


def regular_rate(p: Params, step: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """Base pass rate of the regular (or separate-group) evaluation."""
    rate = p.pass_rate[step, tier]
    if p.separate_grouping:
        rate = np.where(step == 1, p.separate_group_pass_rate, rate)
    return rate


def pass_logit(p: Params, step: np.ndarray, tier: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Logit of passing the regular evaluation."""
    table = _logit(regular_rate(p, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])))  # [step x 2 + tier]
    if p.tilted_standards:
        table = table + np.log(p.tilted_odds_factor)
    return table[step * 2 + tier] + p.skill_effect * skill


def directed_logit(p: Params, skill: np.ndarray) -> np.ndarray:
    """Logit of passing the directed senior evaluation."""
    x = _logit(p.directed_pass_rate) + p.skill_effect * skill
    if p.tilted_standards:
        x = x + np.log(p.tilted_odds_factor)
    return x


def pass_probability(p: Params, step: np.ndarray, tier: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Probability that an applicant obtains the next title (regular or, if on, directed route)."""
    pr = special.expit(pass_logit(p, step, tier, skill))
    if p.directed_senior:
        pd = special.expit(directed_logit(p, skill))
        pr = np.where((step == 1) & (tier == TOWNSHIP), 1.0 - (1.0 - pr) * (1.0 - pd), pr)
    return pr


def eligible_by_years(p: Params, staff) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, eligible only through exceptional promotion) masks."""
    title = staff.title
    below = (title < 2) & (staff.post == title)
    threshold = np.array([p.min_years[0], p.min_years[1], np.inf], dtype=np.float32)[title]
    by_years = below & (staff.at_title >= threshold)
    if p.exceptional_promotion:
        exceptional = below & ~by_years & (staff.served >= p.exceptional_after_years)
        return by_years | exceptional, exceptional
    return by_years, None


def evaluate(p: Params, staff, unit_tier: np.ndarray, seed: int, year: int) -> dict[str, np.ndarray]:
    """Run the year's evaluation; updates titles in place and returns index arrays of passers."""
    eligible, exceptional = eligible_by_years(p, staff)
    idx = np.flatnonzero(eligible)
    applies = rng.person_uniforms(seed, year, rng.TITLE_APPLY, staff.pid[idx]) < p.apply_rate
    idx = idx[applies]
    pid = staff.pid[idx]
    step = staff.title[idx]
    tier = unit_tier[staff.unit[idx]]
    skill = staff.skill[idx]
    u = rng.person_uniforms(seed, year, rng.TITLE_PASS, pid)
    passed = u < special.expit(pass_logit(p, step, tier, skill))
    got = passed
    directed = None
    if p.directed_senior:
        try_dir = np.flatnonzero(~passed & (step == 1) & (tier == TOWNSHIP))
        ud = rng.person_uniforms(seed, year, rng.TITLE_DIRECTED, pid[try_dir])
        directed = try_dir[ud < special.expit(directed_logit(p, skill[try_dir]))]
        got = passed.copy()
        got[directed] = True
    win = idx[got]
    staff.title[win] += 1
    staff.at_title[win] = 0.0
    out = {"intermediate": idx[passed & (step == 0)], "senior": idx[passed & (step == 1)],
           "directed": idx[directed] if directed is not None else idx[:0]}
    if directed is not None and len(directed):
        staff.directed[out["directed"]] = True
    out["exceptional"] = win[exceptional[win]] if exceptional is not None else idx[:0]
    return out
