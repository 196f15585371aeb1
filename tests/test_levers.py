"""The levers of issue 16 (57号 §5, §6, §8-§13, §16): metadata, baseline unchanged, and one directional test each.

Every directional test is paired: the scenario with the lever and the one without run with the same seed
(common random numbers), Ningxia, 3 years, 2 replications, and the difference has the sign the mechanism
says (``simulator/evaluation.py``, ``simulator/supply.py``).  Sums over the simulated years are compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
import simulator
from simulator import behaviour, evaluation
from simulator.model import TalentModel
from simulator.params import compile_params
from simulator.population import geography_from_table

PROVINCE = "64"
KW = dict(years=3, replications=2, seed=11)
NEW_KEYS = {   # key: the clause its source cites
    "titles.evaluation_method": "§5", "titles.evaluation_odds_factor.exam": None,
    "titles.non_public_channel": "§5", "titles.directed_on_leaving": "§6", "titles.training_linked": "§12",
    "posts.dynamic_ratio": "§8", "posts.management_grade_promotion": "§8",
    "pay.scarce_talent_tilt": "§9", "pay.tech_transfer_income.science": "§9", "pay.long_service_awards": "§10",
    "recruitment.supply_response": "§11", "recruitment.entrepreneurship_grants_per_county": "§16",
    "training.study_share": "§12", "training.promoted_training_hours": "§12",
    "training.talent_project_share": "§13", "training.counterpart_share": "§13",
}


@pytest.fixture(scope="module")
def table():
    return scenarios.county_table([PROVINCE])


@pytest.fixture(scope="module")
def base():
    return scenarios.load("baseline")


_CACHE: dict = {}


def total(sc, table, metric: str, years=None) -> float:
    """Sum over the simulated years (year index >= 1) of the mean of ``metric`` (runs cached by sha256)."""
    key = scenarios.sha256(sc)
    if key not in _CACHE:
        _CACHE[key] = simulator.simulate(sc, table=table, **KW).summary
    s = _CACHE[key]
    s = s[s["metric"] == metric].sort_values("year")
    vals = s["mean"].to_numpy()[1:]
    return float(vals.sum() if years is None else vals[years].sum())


def with_(sc, **changes):
    return scenarios.apply(sc, {k.replace("__", "."): v for k, v in changes.items()})


# ----------------------------------------------------------------------------- metadata and defaults

def test_params_list_every_new_key_with_unit_range_and_clause():
    rows = {r["key"]: r for r in scenarios.describe_params()}
    for key, clause in NEW_KEYS.items():
        assert key in rows, key
        assert rows[key]["unit"] and rows[key]["source"], key
        if clause:
            assert f"57号 {clause}" in rows[key]["source"], (key, rows[key]["source"])


def test_baseline_folds_nothing_and_switches_everything_off(base):
    p = compile_params(base)
    o = p.opinion
    assert evaluation.fold(p, base) is p
    assert o.directed_on_leaving == evaluation.LOSE and o.dynamic_ratio_rate == 0 and o.award_rate == 0
    assert o.supply_response == 0 and o.entre_grants == 0 and not o.any_skill_places and o.promoted_hours == 0
    assert not np.any(o.tech_income)


def test_policy_2016_switches_every_new_lever_on():
    sc = scenarios.load("policy-2016")
    t, po, pay, r, tr = sc.titles, sc.posts, sc.pay, sc.recruitment, sc.training
    assert t.evaluation_method == "assessment" and t.non_public_channel and t.directed_on_leaving == "convert"
    assert t.training_linked and po.dynamic_ratio and po.management_grade_promotion
    assert pay.scarce_talent_tilt > 0 and pay.long_service_awards and pay.tech_transfer_income["science"] > 0
    assert r.supply_response > 0 and r.entrepreneurship_grants_per_county > 0
    assert tr.study_share > 0 and tr.promoted_training_hours > 0 and tr.talent_project_share > 0
    assert tr.counterpart_share > 0


def test_bad_values_are_rejected_with_the_key():
    with pytest.raises(scenarios.ScenarioError) as e:
        scenarios.from_dict({"titles": {"evaluation_method": "lottery"}, "recruitment": {"supply_lag_years": 0}},
                            base="baseline")
    text = "\n".join(e.value.problems)
    assert "titles.evaluation_method" in text and "recruitment.supply_lag_years" in text


# ----------------------------------------------------------------------------- §5 evaluation

def test_evaluation_method_assessment_passes_more_exam_fewer(base, table):
    passed = lambda sc: total(sc, table, "titles_passed_intermediate") + total(sc, table, "titles_passed_senior")  # noqa: E731
    assert passed(with_(base, titles__evaluation_method="assessment")) > passed(base)
    assert passed(with_(base, titles__evaluation_method="exam")) < passed(base)


def test_non_public_channel_adds_applicants_and_recruits(base, table):
    sc = with_(base, titles__non_public_channel=True)
    assert total(sc, table, "applicants") > total(base, table, "applicants")
    assert total(sc, table, "recruits_open") > total(base, table, "recruits_open")


def test_training_linked_needs_the_90_hours(base, table):
    linked = with_(base, titles__training_linked=True)              # 40 hours: no credit, identical results
    assert total(linked, table, "titles_passed_intermediate") == total(base, table, "titles_passed_intermediate")
    h90 = with_(base, training__hours_per_year=90.0)
    both = with_(h90, titles__training_linked=True)
    assert total(both, table, "titles_passed_intermediate") > total(h90, table, "titles_passed_intermediate")


# ----------------------------------------------------------------------------- §6 directed titles on leaving

@pytest.fixture(scope="module")
def directed_model(table):
    """policy-2016 (directed titles and posts on) after two years, at the start of year 3."""
    m = TalentModel(scenarios.load("policy-2016"), geography=geography_from_table(table), seed=5, years=3)
    m.step()
    m.step()
    m.start_year(3)
    return m


def _logits(m, on_leaving: str, after: float = 5.0, reference: bool = False):
    """The model's leave logits with the §6 rule replaced (same people, same context)."""
    o = m.p.opinion
    p = m.p.replace(opinion=type(o)(**{**o.__dict__, "directed_on_leaving": evaluation.DIRECTED_ON_LEAVING.index(
        on_leaving), "directed_convert_after": after}))
    return behaviour.leave_logits(p, m.staff, m.ctx, reference=reference)


def test_directed_title_kept_raises_the_holders_leave_odds_only(directed_model):
    m = directed_model
    lose, keep = _logits(m, "lose"), _logits(m, "keep")
    holders = m.staff.directed & (m.staff.post == 2)
    assert holders.sum() > 0
    assert np.all(keep[holders] > lose[holders])
    assert np.array_equal(keep[~holders], lose[~holders])
    assert np.array_equal(_logits(m, "convert", after=0.0), keep)    # converts at once = keep
    assert np.array_equal(_logits(m, "convert", after=45.0), lose)   # never converts = lose


def test_directed_fast_logits_match_the_reference_formula(directed_model):
    m = directed_model
    np.testing.assert_allclose(_logits(m, "keep"), _logits(m, "keep", reference=True), rtol=0, atol=2e-4)


# ----------------------------------------------------------------------------- §8 posts

def test_dynamic_ratio_raises_caps_and_promotions(base, table):
    sc = with_(base, posts__dynamic_ratio=True)
    assert total(sc, table, "senior_cap_posts") > total(base, table, "senior_cap_posts")
    assert total(sc, table, "intermediate_cap_posts") > total(base, table, "intermediate_cap_posts")
    assert (total(sc, table, "promotions_intermediate") + total(sc, table, "promotions_senior")
            > total(base, table, "promotions_intermediate") + total(base, table, "promotions_senior"))


def test_management_grade_promotion_releases_capped_posts(base, table):
    sc = with_(base, posts__management_grade_promotion=True)
    assert total(sc, table, "intermediate_cap_posts") > total(base, table, "intermediate_cap_posts")
    assert total(sc, table, "senior_cap_posts") > total(base, table, "senior_cap_posts")


# ----------------------------------------------------------------------------- §9, §10 pay and awards

def test_scarce_talent_tilt_costs_performance_pay_and_cuts_exits(base, table):
    sc = with_(base, pay__scarce_talent_tilt=0.3)
    assert total(sc, table, "cost_performance_pay_yuan") > total(base, table, "cost_performance_pay_yuan")
    assert total(sc, table, "exits_other_sector") < total(base, table, "exits_other_sector")


def test_tech_transfer_income_cuts_exits_at_no_public_cost(base, table):
    sc = with_(base, pay__tech_transfer_income__science=800.0, pay__tech_transfer_income__agriculture=800.0,
               pay__tech_transfer_income__engineering=800.0)
    leave = lambda s: total(s, table, "exits_other_sector") + total(s, table, "exits_city")  # noqa: E731
    assert leave(sc) < leave(base)
    r = simulator.simulate(sc, table=table, years=1, replications=1, seed=3, county_metrics=())
    b = simulator.simulate(base, table=table, years=1, replications=1, seed=3, county_metrics=())
    hard = lambda res: res.summary.query("metric == 'cost_hardship_allowance_yuan'")["mean"].iloc[1]  # noqa: E731
    staff = lambda res: res.summary.query("metric == 'staff'")["mean"].iloc[1]  # noqa: E731
    # the allowance line pays the same per head: the market pays the technology income
    assert hard(r) / staff(r) == pytest.approx(hard(b) / staff(b), rel=0.02)


def test_long_service_awards_cut_exits_and_cost_money(base, table):
    sc = with_(base, pay__long_service_awards=True, pay__award_yuan=200000.0)
    leave = lambda s: total(s, table, "exits_other_sector") + total(s, table, "exits_city")  # noqa: E731
    assert leave(sc) < leave(base)
    assert total(sc, table, "cost_performance_pay_yuan") > total(base, table, "cost_performance_pay_yuan")


# ----------------------------------------------------------------------------- §11, §16 supply

def test_supply_response_acts_after_its_lag(base, table):
    sc = with_(base, recruitment__supply_response=2.0, recruitment__supply_lag_years=1)
    assert total(sc, table, "applicants", years=[0]) == total(base, table, "applicants", years=[0])
    assert total(sc, table, "applicants", years=[1, 2]) > total(base, table, "applicants", years=[1, 2])
    assert total(sc, table, "recruits_open", years=[1, 2]) > total(base, table, "recruits_open", years=[1, 2])


def test_entrepreneurship_support_draws_applicants_and_costs_its_grants(base, table):
    sc = with_(base, recruitment__entrepreneurship_grants_per_county=5.0)
    assert total(sc, table, "recruits_open") > total(base, table, "recruits_open")
    n_counties = table["county_id"].nunique()
    extra = total(sc, table, "cost_flexible_yuan") - total(base, table, "cost_flexible_yuan")
    assert extra == pytest.approx(3 * n_counties * 5.0 * 10000.0, rel=1e-9)


# ----------------------------------------------------------------------------- §12, §13 training

@pytest.mark.parametrize("key,value", [("training.study_share", 0.05), ("training.promoted_training_hours", 200.0),
                                       ("training.talent_project_share", 0.05), ("training.counterpart_share", 0.05)])
def test_training_places_raise_skill_and_cost(base, table, key, value):
    sc = scenarios.apply(base, {key: value})
    assert total(sc, table, "mean_skill") > total(base, table, "mean_skill")
    assert total(sc, table, "cost_training_yuan") > total(base, table, "cost_training_yuan")


def test_counterpart_places_only_in_the_west(base):
    east = scenarios.county_table(["33"]).head(5)   # Zhejiang
    sc = with_(base, training__counterpart_share=0.5)
    a = simulator.simulate(sc, table=east, years=2, replications=1, seed=1).summary
    b = simulator.simulate(base, table=east, years=2, replications=1, seed=1).summary
    assert a.equals(b)
