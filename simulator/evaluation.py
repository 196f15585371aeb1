"""The levers of issue 16 that act on evaluation and posts (57号 §5, §6, §8, §9, §12), and their parameters.

:class:`OpinionParams` holds every issue-16 scenario value the simulator uses
(``Params.opinion``); :func:`compile_opinion` builds it from a scenario and
:func:`fold` turns the levers whose mechanism is a change of existing
parameters into those parameters.  With the baseline values every fold is
skipped, so baseline results are bit-identical to the model before issue 16.

Mechanisms (units as in ``scenarios/schema.py``):

* **§5 evaluation method** (``titles.evaluation_method``): review (评审, the
  calibrated pass rates), exam or assessment-and-recognition (考核认定).  The
  method multiplies the odds of passing every evaluation (regular, separate
  group, directed) by ``evaluation_odds_factor[method]`` and the skill effect
  by ``evaluation_skill_factor[method]`` (folded into ``pass_rate``,
  ``separate_group_pass_rate``, ``directed_pass_rate`` and ``skill_effect``).
* **§12 training linked to appointment** (``titles.training_linked``): when
  the scenario's ``training.hours_per_year`` reaches ``sufficient_hours`` (the
  90-hour rule), the odds of passing are multiplied by
  ``training_link_odds_factor`` (same fold); below the rule it has no effect.
* **§5 channel for non-public and social organisations**
  (``titles.non_public_channel``): titled professionals of those
  organisations join the applicant pools: ``applicants_per_vacancy x (1 +
  non_public_applicant_share)`` (folded).
* **§8 management staff grade promotion**
  (``posts.management_grade_promotion``): management staff promoted in their
  own grade ladder stop competing for professional middle/senior posts:
  ``management_post_release`` is added to both cap uplifts (folded).
* **§9 performance-pay tilt to units recruiting scarce talent**
  (``pay.scarce_talent_tilt``): those units' performance share rises by the
  tilt; spread over township units in expectation, ``performance_tilt_township
  += scarce_talent_tilt x scarce_talent_unit_share`` (folded).
* **§6 directed title on leaving** (``titles.directed_on_leaving``): ``lose``
  (today: outside, a directed senior is paid as grade 8), ``keep`` (paid at
  own grade outside: the loss term of the leave logit is removed), or
  ``convert`` (kept once held ``directed_convert_after_years``):
  :func:`adjust_leave_logits` removes the loss term for those who keep it.
* **§8 dynamic post ratios** (``posts.dynamic_ratio``): each year, after the
  cap plan, a unit's intermediate and senior caps move up toward the number
  of its staff holding that title by ``dynamic_ratio_rate`` x the gap, never
  more than ``dynamic_ratio_max_uplift`` x authorized posts above the plan
  and never below it (:class:`DynamicCaps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from scenarios.schema import DIRECTED_ON_LEAVING, EVALUATION_METHODS, FIELDS

LOSE, KEEP, CONVERT = range(3)


@dataclass(frozen=True, eq=False)
class OpinionParams:
    """Issue-16 values the simulator reads at run time (the folded ones are in ``Params`` itself)."""

    directed_on_leaving: int = LOSE          # LOSE / KEEP / CONVERT
    directed_convert_after: float = 5.0      # years holding the directed title
    dynamic_ratio_rate: float = 0.0          # share of the gap per year (0 = off)
    dynamic_ratio_max_uplift: float = 0.0    # share of authorized posts
    tech_income: np.ndarray | None = None    # [F] yuan/month per professional (not a public cost)
    award_min_years: float = 20.0
    award_rate: float = 0.0                  # share of eligible staff per year (0 = off)
    award_yuan: float = 0.0
    award_honour_factor: float = 0.0
    supply_response: float = 0.0            # relative applicants per unit vacancy rate (0 = off)
    supply_lag: int = 4
    entre_grants: float = 0.0                # grants per county per year
    entre_grant_yuan: float = 0.0
    entre_gain: float = 0.0                  # relative township applicants per grant per county
    study_share: float = 0.0
    study_gain: float = 0.0
    study_cost: float = 0.0
    promoted_hours: float = 0.0
    project_share: float = 0.0
    counterpart_share: float = 0.0
    project_gain: float = 0.0
    project_cost: float = 0.0

    @property
    def any_skill_places(self) -> bool:
        return bool(self.study_share or self.project_share or self.counterpart_share)


def compile_opinion(sc) -> OpinionParams:
    """The :class:`OpinionParams` of a validated scenario."""
    t, po, r, pay, tr = sc.titles, sc.posts, sc.recruitment, sc.pay, sc.training
    return OpinionParams(
        directed_on_leaving=DIRECTED_ON_LEAVING.index(t.directed_on_leaving),
        directed_convert_after=float(t.directed_convert_after_years),
        dynamic_ratio_rate=float(po.dynamic_ratio_rate) if po.dynamic_ratio else 0.0,
        dynamic_ratio_max_uplift=float(po.dynamic_ratio_max_uplift),
        tech_income=np.array([float(pay.tech_transfer_income[f]) for f in FIELDS]),
        award_min_years=float(pay.award_min_years),
        award_rate=float(pay.award_rate) if pay.long_service_awards else 0.0,
        award_yuan=float(pay.award_yuan),
        award_honour_factor=float(pay.award_honour_factor),
        supply_response=float(r.supply_response),
        supply_lag=int(r.supply_lag_years),
        entre_grants=float(r.entrepreneurship_grants_per_county),
        entre_grant_yuan=float(r.entrepreneurship_grant_yuan),
        entre_gain=float(r.entrepreneurship_applicant_gain),
        study_share=float(tr.study_share),
        study_gain=float(tr.study_skill_gain),
        study_cost=float(tr.study_cost_yuan),
        promoted_hours=float(tr.promoted_training_hours),
        project_share=float(tr.talent_project_share),
        counterpart_share=float(tr.counterpart_share),
        project_gain=float(tr.project_skill_gain),
        project_cost=float(tr.project_cost_yuan),
    )


def _odds(rate, factor):
    """Rate with its odds multiplied by ``factor`` (rates of 0 or 1 stay)."""
    r = np.clip(np.asarray(rate, dtype=float), 1e-12, 1 - 1e-12)
    return special.expit(special.logit(r) + np.log(factor))


def pass_odds_factor(sc) -> float:
    """Odds multiplier on every title evaluation from §5 (method) and §12 (training linked)."""
    t = sc.titles
    f = float(t.evaluation_odds_factor[t.evaluation_method])
    if t.training_linked and sc.training.hours_per_year >= sc.training.sufficient_hours:
        f *= float(t.training_link_odds_factor)
    return f


def fold(p, sc):
    """``Params`` with the folded levers of the module docstring applied (``p`` itself when none is on)."""
    t, po, pay = sc.titles, sc.posts, sc.pay
    ch: dict = {}
    odds = pass_odds_factor(sc)
    if odds != 1.0:
        ch["pass_rate"] = _odds(p.pass_rate, odds)
        ch["separate_group_pass_rate"] = float(_odds(p.separate_group_pass_rate, odds))
        ch["directed_pass_rate"] = float(_odds(p.directed_pass_rate, odds))
    skill = float(t.evaluation_skill_factor[t.evaluation_method])
    if skill != 1.0:
        ch["skill_effect"] = p.skill_effect * skill
    if t.non_public_channel and t.non_public_applicant_share:
        ch["applicants_per_vacancy"] = p.applicants_per_vacancy * (1.0 + float(t.non_public_applicant_share))
    if po.management_grade_promotion and po.management_post_release:
        ch["cap_uplift"] = p.cap_uplift + float(po.management_post_release)
    if pay.scarce_talent_tilt and pay.scarce_talent_unit_share:
        ch["performance_tilt_township"] = (p.performance_tilt_township
                                           + float(pay.scarce_talent_tilt) * float(pay.scarce_talent_unit_share))
    return p.replace(**ch) if ch else p


# ----------------------------------------------------------------------------- run-time mechanisms

def keeps_directed_title(o: OpinionParams, staff, idx: np.ndarray) -> np.ndarray:
    """Mask over ``idx``: directed seniors who keep their title on leaving (§6 keep / convert)."""
    held = staff.directed[idx] & (staff.post[idx] == 2)
    if o.directed_on_leaving == KEEP:
        return held
    if o.directed_on_leaving == CONVERT:
        return held & (staff.at_title[idx] >= o.directed_convert_after)
    return np.zeros(len(idx), dtype=bool)


def award_value(p) -> float:
    """Monthly utility-equivalent (yuan/month) of the §10 award for an eligible professional: expected money per
    month x (1 + honour factor)."""
    o = p.opinion
    return o.award_rate * o.award_yuan / 12.0 * (1.0 + o.award_honour_factor)


def adjust_leave_logits(p, staff, ctx, idx: np.ndarray, v: np.ndarray) -> None:
    """Add the §6 and §10 person-level terms to the leave logits ``v`` of rows ``idx`` (in place).

    §6: for directed seniors who keep their title outside, the loss term the model adds (``b x outside ratio x
    (1 + performance share) x (base[8] - base[grade])``) is taken out again.  §10: staff with at least
    ``award_min_years`` of service value the award (:func:`award_value`) as income for staying.  Both only
    change rows they concern; with the baseline values nothing changes.
    """
    o = getattr(p, "opinion", None)
    if o is None or not len(idx):
        return
    b = p.income_coef / 1000.0
    if o.directed_on_leaving != LOSE:
        keep = keeps_directed_title(o, staff, idx)
        if keep.any():
            rows = idx[keep]
            region = ctx.unit_region[staff.unit[rows]]
            coef = b * p.outside_income_ratio[region] * (1.0 + p.performance_share)
            d = coef * (p.base_by_grade[8 - 1] - p.base_by_grade[staff.grade[rows].astype(np.intp) - 1])
            v[keep] -= d.astype(v.dtype)
    if o.award_rate > 0:
        long = staff.served[idx] >= o.award_min_years
        if long.any():
            v[long] -= np.asarray(b * award_value(p), dtype=v.dtype)


class DynamicCaps:
    """§8 dynamic post ratios: caps that follow the unit's title holders (see the module docstring).

    ``extra[s]`` (posts, per unit, s = intermediate, senior) is the cumulative adjustment above the planned
    cap; it grows by ``rate x max(0, holders - cap)`` a year, capped at ``max_uplift x authorized``.
    """

    def __init__(self, inst):
        self.extra = np.zeros((2,) + inst.senior_cap.shape)
        self.base = None

    def apply(self, p, inst, holders_inter: np.ndarray, holders_senior: np.ndarray, replanned: bool) -> None:
        """Update the adjustment after this year's cap plan and add it to the caps (before any allocation's
        extra caps, so the gap is measured against the plan alone); holders per unit, shaped like the caps."""
        o = p.opinion
        fresh = self.base is None or replanned           # caps were just (re)planned: add the whole adjustment
        if fresh:
            self.base = (inst.inter_cap.copy(), inst.senior_cap.copy())
        top = o.dynamic_ratio_max_uplift * inst.authorized
        for k, (base, held, cap) in enumerate(zip(self.base, (holders_inter, holders_senior),
                                                  (inst.inter_cap, inst.senior_cap))):
            old = np.floor(self.extra[k] + 1e-9)
            gap = np.maximum(held - (base + self.extra[k]), 0.0)
            self.extra[k] = np.minimum(self.extra[k] + o.dynamic_ratio_rate * gap, np.maximum(top, self.extra[k]))
            new = np.floor(self.extra[k] + 1e-9)
            cap += new if fresh else new - old

__all__ = ["DIRECTED_ON_LEAVING", "OpinionParams", "compile_opinion", "fold", "adjust_leave_logits", "DynamicCaps", "award_value",
           "EVALUATION_METHODS"]
