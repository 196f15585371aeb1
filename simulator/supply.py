"""The levers of issue 16 that act on supply, income, skill and their costs (57号 §9-§13, §16).

Values come from ``Params.opinion`` (:class:`simulator.evaluation.OpinionParams`);
with the baseline values every function here returns "no change" and the
model skips it, so baseline results are bit-identical.

* **§9 technology-transfer income** (``pay.tech_transfer_income[field]``,
  yuan/month per professional): added to the unit's monthly income on top of
  pay (:func:`unit_income`), so it enters the stay/leave decision, the value
  of entry posts for applicants and the move choice like an allowance.  It is
  paid by the market, not the state: the model takes it out of the costs.
* **§10 awards for long service** (``pay.long_service_awards``): staff with
  ``award_min_years`` of service value ``award_rate x award_yuan / 12 x (1 +
  award_honour_factor)`` yuan/month (``evaluation.adjust_leave_logits``);
  the cost is ``award_rate x award_yuan`` per eligible professional a year
  (:func:`award_cost`), booked with performance pay (unit awards are paid
  from the performance-pay total, 单位奖励为主体).
* **§11 applicant supply** (``recruitment.supply_response``, lag
  ``supply_lag_years``): applicants per vacancy of a field in year t are
  multiplied by ``1 + supply_response x vacancy rate of the field`` in the
  whole simulated region at the end of year t - lag (vacancies / authorized
  posts); before the first lagged year (t <= lag) colleges have not yet
  responded (:func:`applicant_factor`).
* **§16 entrepreneurship support** (``recruitment.entrepreneurship_grants_per_county``):
  township applicants x ``(1 + entrepreneurship_applicant_gain x grants)``;
  cost ``grants x entrepreneurship_grant_yuan`` per county a year, spread
  evenly over the county's fields and booked with flexible inflows (people
  drawn to the grassroots outside the unit system) (:func:`entrepreneurship_cost`).
* **§12 study at universities (进修) and §13 talent projects and counterpart
  support (对口支援)**: ``study_share``, ``talent_project_share`` (everyone)
  and ``counterpart_share`` (western units) of staff get a place each year;
  a place raises skill by ``study_skill_gain`` / ``project_skill_gain``.  In
  expectation each professional of a unit gains ``share x gain`` a year
  (:func:`place_skill_delta`); the cost (``share x cost per place`` per
  professional, :func:`place_cost_per_person`) is booked with training.
* **§12 training for the newly promoted** (``training.promoted_training_hours``):
  each professional passing a title this year gets these hours, skill
  ``+ skill_gain_per_100h x hours / 100``, cost ``hours x cost_per_hour``
  (:func:`promoted_training`), booked with training.
"""

from __future__ import annotations

import numpy as np

from .params import NF, TOWNSHIP

WEST = 2  # region index (REGIONS = east, central, west)


def unit_income(p, unit_field: np.ndarray) -> np.ndarray | None:
    """§9 technology-transfer income per unit (yuan/month), or None when there is none."""
    inc = p.opinion.tech_income
    if inc is None or not np.any(inc):
        return None
    return inc[unit_field].astype(float)


def applicant_factor(p, raw_vacancies: np.ndarray, raw_authorized: np.ndarray, t: int,
                     unit_field: np.ndarray, unit_tier: np.ndarray) -> np.ndarray | None:
    """Multiplier on applicants per post in each unit this year (§11 and §16), or None when it is 1 everywhere.

    ``raw_vacancies``, ``raw_authorized``: the model's records [cells, t] (cell = county x 5 + field).
    """
    o = p.opinion
    f = None
    if o.supply_response > 0 and t - o.supply_lag >= 1:
        lag = t - o.supply_lag
        vac = raw_vacancies[:, lag].reshape(-1, NF).sum(axis=0)
        auth = raw_authorized[:, lag].reshape(-1, NF).sum(axis=0)
        rate = np.where(auth > 0, vac / np.maximum(auth, 1e-9), 0.0)
        f = 1.0 + o.supply_response * rate[unit_field]
    if o.entre_grants > 0 and o.entre_gain > 0:
        g = np.where(unit_tier == TOWNSHIP, 1.0 + o.entre_gain * o.entre_grants, 1.0)
        f = g if f is None else f * g
    return f


def entrepreneurship_cost(p, n_counties: int) -> np.ndarray | None:
    """§16 grants per cell (yuan/year), or None."""
    o = p.opinion
    if not (o.entre_grants > 0 and o.entre_grant_yuan > 0):
        return None
    return np.full(n_counties * NF, o.entre_grants * o.entre_grant_yuan / NF)


def award_cost(p, staff, n_units: int) -> np.ndarray | None:
    """§10 awards per unit (yuan/year): award_rate x award_yuan x eligible staff, or None."""
    o = p.opinion
    if not (o.award_rate > 0 and o.award_yuan > 0):
        return None
    eligible = staff.served >= o.award_min_years
    return o.award_rate * o.award_yuan * np.bincount(staff.unit[eligible], minlength=n_units).astype(float)


def place_skill_delta(p, unit_region: np.ndarray) -> np.ndarray | None:
    """§12 study and §13 project/counterpart places: expected skill gain per professional per unit, or None."""
    o = p.opinion
    return _per_professional(o, unit_region, o.study_gain, o.project_gain) if o.any_skill_places else None


def place_cost_per_person(p, unit_region: np.ndarray) -> np.ndarray | None:
    """Yuan per professional per year of the §12/§13 places, per unit, or None."""
    o = p.opinion
    return _per_professional(o, unit_region, o.study_cost, o.project_cost) if o.any_skill_places else None


def _per_professional(o, unit_region: np.ndarray, per_study: float, per_project: float) -> np.ndarray:
    """Expected value per professional of the §12/§13 places, per unit: the study share x ``per_study``, the
    project share x ``per_project``, and in western units the counterpart share x ``per_project`` too."""
    v = o.study_share * per_study + o.project_share * per_project
    return v + np.where(unit_region == WEST, o.counterpart_share * per_project, 0.0)


def promoted_training(p, staff, passed: dict, n_units: int) -> np.ndarray | None:
    """§12: train this year's title passers (skill in place); returns the cost per unit (yuan/year), or None."""
    hours = p.opinion.promoted_hours
    if hours <= 0:
        return None
    idx = np.concatenate([passed[k] for k in ("intermediate", "senior", "directed")])
    if not len(idx):
        return np.zeros(n_units)
    staff.skill[idx] += np.float32(p.skill_gain_per_100h * hours / 100.0)
    return np.bincount(staff.unit[idx], minlength=n_units) * (hours * p.training_cost_per_hour)
