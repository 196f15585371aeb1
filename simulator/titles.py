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

from . import kernels, rng
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


def pass_logit_table(p: Params) -> np.ndarray:
    """Logit of the regular pass rate by [step x 2 + tier] (with the tilt when tilted standards are on)."""
    table = _logit(regular_rate(p, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])))  # [step x 2 + tier]
    if p.tilted_standards:
        table = table + np.log(p.tilted_odds_factor)
    return table


def pass_logit(p: Params, step: np.ndarray, tier: np.ndarray, skill: np.ndarray) -> np.ndarray:
    """Logit of passing the regular evaluation."""
    return pass_logit_table(p)[step * 2 + tier] + p.skill_effect * skill


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
    """Run the year's evaluation; updates titles in place and returns index arrays of passers.

    Compiled kernels screen who is eligible and applies, with their pass
    logits (``kernels.title_applicants``: the rule of
    :func:`eligible_by_years`, the logits of :func:`pass_logit` and
    :func:`directed_logit`), and draw the outcomes
    (``kernels.title_results``); the logistic function is numpy's.
    """
    idx, exceptional, x, dx, can_dir = kernels.title_applicants(
        staff.pid, staff.title, staff.post, staff.at_title, staff.served, staff.unit, unit_tier,
        p.min_years.astype(np.float32), bool(p.exceptional_promotion), kernels.like_float32(p.exceptional_after_years),
        rng.stream_add(seed, year, rng.TITLE_APPLY), float(p.apply_rate), pass_logit_table(p).astype(np.float64),
        staff.skill, kernels.like_float32(p.skill_effect), np.float64(_logit(p.directed_pass_rate)))
    step = staff.title[idx]
    p_pass = special.expit(x)
    if p.directed_senior:
        if p.tilted_standards:
            dx = dx + np.log(p.tilted_odds_factor)
        p_dir = special.expit(dx)
    else:
        p_dir = dx
    outcome = kernels.title_results(idx, staff.pid, p_pass, p_dir, can_dir, bool(p.directed_senior),
                                    rng.stream_add(seed, year, rng.TITLE_PASS),
                                    rng.stream_add(seed, year, rng.TITLE_DIRECTED),
                                    staff.title, staff.at_title, staff.directed)
    passed = outcome == 1
    got = outcome > 0
    win = idx[got]
    return {"intermediate": idx[passed & (step == 0)], "senior": idx[passed & (step == 1)],
            "directed": idx[outcome == 2],
            "exceptional": win[exceptional[got]] if p.exceptional_promotion else idx[:0]}
