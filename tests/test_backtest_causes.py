"""The causes fixed for the backtest (issue 14): each with a directional or known-answer test.

* raising ``pay.performance_share`` lowers exits (outside pay keeps its own performance share);
* raising ``recruitment.reserved_upward_share`` raises applicants per vacancy (the career prospect it opens);
* the breach penalty is counted once (only a penalty above the observed one lowers the breach odds);
* initial ages follow the field's age pyramid (retirements of year 1 = the last band / its width);
* programme places a county cannot use go to eligible counties of its province with vacancies, none is
  created or over-filled, and ``min_hardship_class`` limits the reach.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
from simulator import behaviour, programmes, recruitment
from simulator.metrics import RAW_INDEX
from simulator.model import TalentModel
from simulator.params import FIELDS, PROGRAMMES, compile_params
from simulator.population import age_cdf
from simtables import baseline, paired, table, voluntary_exits  # noqa: F401 (baseline, table: fixtures)
from simtables import summary_series as _series


def test_performance_share_raises_own_pay_relative_to_outside_pay():
    p = compile_params(scenarios.load("baseline"))
    q = compile_params(scenarios.apply(scenarios.load("baseline"), {"pay.performance_share": 0.6}))
    kw = dict(field=np.array([4]), tier=np.array([1]), region=np.array([2]), hardship_class=np.array([2]),
              grade_out=np.array([12]), in_bianzhi=np.array([True]), wait_years=np.array([5.0]),
              obligated=np.array([False]), penalty_yuan=np.array([0.0]))
    pay_p = p.base_by_grade[11] * (1 + p.performance_share)
    pay_q = q.base_by_grade[11] * (1 + q.performance_share)
    lp = behaviour.leave_logit(p, income_stay=np.array([pay_p]), **kw)
    lq = behaviour.leave_logit(q, income_stay=np.array([pay_q]), **kw)
    # known answer: only own pay moved, by base x 0.3, valued at b per yuan
    assert lq[0] - lp[0] == pytest.approx(-p.income_coef / 1000 * p.base_by_grade[11] * 0.3, rel=1e-9)


def test_performance_share_lowers_simulated_exits(baseline, table):
    more = scenarios.apply(baseline, {"pay.performance_share": 0.6})
    kw = dict(years=2, replications=2, seed=20160701, table=table)
    a, b = paired(baseline, more, **kw)
    y1 = a.years[1]
    assert voluntary_exits(b).loc[y1] < voluntary_exits(a).loc[y1]
    # and it attracts applicants (the reference post keeps the 2016 performance share)
    assert _series(b, "applicants").loc[y1] / _series(b, "recruitment_quota").loc[y1] > \
        _series(a, "applicants").loc[y1] / _series(a, "recruitment_quota").loc[y1]


def test_reserved_upward_share_raises_applicants_per_vacancy(baseline):
    p = compile_params(baseline)
    q = compile_params(scenarios.apply(baseline, {"recruitment.reserved_upward_share": 0.2}))
    args = (np.array([1, 4]), np.array([1, 1]), np.array([0, 3]), np.array([0.0, 0.5]), np.array([0.0, 200.0]))
    a_p = recruitment.applicants_per_post(p, 13, *args)
    a_q = recruitment.applicants_per_post(q, 13, *args)
    assert (a_q > a_p).all()
    # size: the DCE promotion term on the shorter expected wait (no reserved posts: no value)
    assert recruitment.reserved_prospect_value(p, np.array([1]))[0] == 0.0
    v = recruitment.reserved_prospect_value(q, np.array([1]))[0]
    assert 0 < v < q.wtp_promotion
    assert a_q[0] / a_p[0] == pytest.approx(np.exp(q.income_coef / 1000 * v), rel=1e-9)


def test_reserved_upward_share_raises_simulated_applicants(baseline, table):
    more = scenarios.apply(baseline, {"recruitment.reserved_upward_share": 0.2})
    kw = dict(years=1, replications=1, seed=5, table=table)
    a, b = paired(baseline, more, **kw)
    y1 = a.years[1]
    per_post = lambda r: _series(r, "applicants").loc[y1] / _series(r, "recruitment_quota").loc[y1]  # noqa: E731
    assert per_post(b) > per_post(a)


def test_breach_penalty_counted_once():
    p = compile_params(scenarios.load("baseline"))
    k = behaviour.logit_terms(p)
    f, j = FIELDS.index("health"), PROGRAMMES.index("free_medical_students")
    logit = lambda x: np.log(x / (1 - x))  # noqa: E731
    # the observed breach rate was observed under the free medical students' penalty: no further shift
    assert p.prog_penalty[j] == p.breach_observed_penalty
    assert k["shift"][f, j] == pytest.approx(logit(p.breach_rate) - logit(p.exit_rate_target[f]), abs=1e-12)
    # a larger penalty lowers the odds, a programme without a penalty breaches more
    q = p.replace(prog_penalty=p.prog_penalty + 10000.0)
    assert behaviour.logit_terms(q)["shift"][f, j] < k["shift"][f, j]
    none = PROGRAMMES.index("special_post_teachers")
    assert p.prog_penalty[none] == 0 and k["shift"][f, none] > k["shift"][f, j]


def test_initial_ages_follow_the_age_pyramid(baseline, table):
    p = compile_params(baseline)
    m = TalentModel(baseline, table, seed=11, years=1)
    s = m.staff
    field = m.ctx.unit_field[s.unit]
    edges = [p.entry_age, 30, 35, 40, 45, 50, 55, p.retirement_age]
    for f in range(len(FIELDS)):
        ages = s.age[field == f]
        shares = np.histogram(ages, bins=edges)[0] / len(ages)
        n = len(ages)
        tol = 4 * np.sqrt(p.age_pyramid[f] * (1 - p.age_pyramid[f]) / n) + 1e-3
        assert (np.abs(shares - p.age_pyramid[f]) <= tol).all(), (FIELDS[f], shares, p.age_pyramid[f])
    cdf, knots = age_cdf(p, FIELDS.index("health"))
    assert cdf[0] == 0 and cdf[-1] == pytest.approx(1.0) and knots[-1] == p.retirement_age
    # year-1 retirements of health = share aged 59-60 = last band share / 5 (uniform within the band)
    raw = m.run()
    h = FIELDS.index("health")
    ret = raw[RAW_INDEX["exits_retirement"]][h::5, 1].sum() / raw[RAW_INDEX["staff"]][h::5, 0].sum()
    assert ret == pytest.approx(p.age_pyramid[h, -1] / 5, abs=0.01)


def test_redistribution_conserves_places_and_fills_no_more_than_vacancies():
    p = compile_params(scenarios.load("baseline"))
    rng = np.random.default_rng(0)
    c, n_p, n_f = 12, len(PROGRAMMES), len(FIELDS)
    province = np.repeat([0, 1, 2], 4)
    eligible = rng.random((c, n_p)) < 0.7
    vac = rng.integers(0, 30, (c, n_f)).astype(float)
    placed = np.minimum(rng.integers(0, 10, (c, n_p, n_f)), 3).astype(float)
    placed *= eligible[:, :, None]
    vac = np.maximum(vac, placed.sum(axis=1))
    quota = np.floor(0.5 * (vac - placed.sum(axis=1)))
    unfilled = rng.integers(0, 20, (c, n_p, n_f)).astype(float) * eligible[:, :, None]
    before = placed + unfilled
    p0, u0 = placed.copy(), unfilled.copy()
    programmes.redistribute(p, province, eligible, vac, quota, placed, unfilled)
    # whole places, none created: per province and programme x field, placed + unfilled is unchanged
    for g in range(3):
        sel = province == g
        np.testing.assert_array_equal((placed + unfilled)[sel].sum(axis=0), before[sel].sum(axis=0))
    assert (placed == np.floor(placed)).all() and (unfilled >= 0).all() and (placed >= p0).all()
    # nothing over-filled: placements + open quota within the vacancies; only eligible counties receive
    assert (placed.sum(axis=1) + quota <= vac + 1e-9).all()
    assert ((placed - p0)[~eligible] == 0).all()
    assert (placed - p0).sum() > 0 and unfilled.sum() < u0.sum()


def test_min_hardship_class_limits_the_reach(baseline, table):
    j = PROGRAMMES.index("special_post_teachers")
    sc = scenarios.apply(baseline, {"programmes.special_post_teachers.min_hardship_class": 3})
    m = TalentModel(sc, table, seed=2, years=2)
    raw = m.run()
    got = raw[RAW_INDEX["recruits_special_post_teachers"]].reshape(-1, 5, 3).sum(axis=(1, 2)) > 0
    assert got.any() and (m.geo.hardship[got] >= 3).all()
    assert (m.inst.prog_rate[m.geo.hardship < 3, j] == 0).all()


def test_exit_age_slope_younger_leave_more_fast_equals_reference_and_bound_holds():
    import copy

    from tests.simtables import small_table
    sc = scenarios.apply(scenarios.load("policy-2016"), {"behaviour.exit_age_slope.education": -0.08})
    p = compile_params(sc)
    kw = dict(field=np.array([1, 1]), tier=np.array([1, 1]), region=np.array([2, 2]), hardship_class=np.array([0, 0]),
              grade_out=np.array([13, 13]), income_stay=np.array([4000.0, 4000.0]), in_bianzhi=np.array([True, True]),
              wait_years=np.array([2.0, 2.0]), obligated=np.array([False, False]), penalty_yuan=np.array([0.0, 0.0]))
    v = behaviour.leave_logit(p, age=np.array([25.0, 55.0]), **kw)
    assert v[0] - v[1] == pytest.approx(0.08 * 30, rel=1e-6)            # known answer: slope x age gap
    m = TalentModel(sc, small_table(6, 1.0), seed=4, years=3)
    m.step()
    m.step()
    m.start_year(3)
    fast = behaviour.leave_logits(m.p, m.staff, m.ctx)
    ref = behaviour.leave_logits(m.p, m.staff, m.ctx, reference=True)
    np.testing.assert_allclose(fast, ref, atol=2e-4)
    assert (fast <= behaviour.leave_logit_bound(m.p, m.ctx)[m.staff.unit]).all()
    s1, s2 = copy.deepcopy(m.staff), copy.deepcopy(m.staff)
    a, _ = behaviour.decide_exits(m.p, s1, m.ctx, m.seed, 3, retiring=m.retiring, thin=True)
    b, _ = behaviour.decide_exits(m.p, s2, m.ctx, m.seed, 3, retiring=m.retiring, thin=False)
    np.testing.assert_array_equal(a, b)
