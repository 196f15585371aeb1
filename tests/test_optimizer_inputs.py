"""The derivation of lever costs and effects from a scenario (``optimizer.inputs``)."""

from __future__ import annotations

import numpy as np
import pytest

import optimizer
from optimizer import inputs as oi


@pytest.fixture(scope="module")
def sc2016():
    import scenarios
    return scenarios.load("policy-2016")


@pytest.fixture(scope="module")
def gansu(sc2016):
    return optimizer.from_scenario(sc2016, provinces=["62"])


def test_exit_response_is_increasing_and_concave():
    s = np.linspace(0, 3000, 61)
    g = oi.exits_avoided(s, 0.06, 0.35)
    assert g[0] == pytest.approx(0, abs=1e-15) and np.all(np.diff(g) > 0)
    assert np.all(np.diff(g, 2) < 0)
    # the logit: at 1,000 yuan/month an exit probability of 4% falls to logistic(logit(0.04) - 0.35)
    assert oi.exits_avoided(1000, 0.04, 0.35) == pytest.approx(0.04 - 1 / (1 + np.exp(-(np.log(0.04 / 0.96) - 0.35))))


def test_persistence_matches_a_cohort_count():
    # avoided exits arrive every year and then leave at the baseline rate: average stock over the horizon
    p, H = 0.05, 10
    stock, total = 0.0, 0.0
    for _ in range(H):
        stock = stock * (1 - p) + 1.0
        total += stock
    assert oi.persistence(p, H) == pytest.approx(total / H)


def test_programme_place_effect_and_cost():
    # term 3, no breach, all stay, no exits: in post every year of a 10-year horizon
    eff, cost = oi.programme_place(np.array([0.0]), 0.0, 3, 1.0, 10, 30000.0, 0.0)
    assert eff[0] == pytest.approx(1.0) and cost[0] == pytest.approx(3 * 30000 / 10)
    # nobody stays after the term: in post 3 of 10 years
    eff, _ = oi.programme_place(np.array([0.04]), 0.0, 3, 0.0, 10, 30000.0, 0.0)
    assert eff[0] == pytest.approx(0.3)
    # a breach penalty is repaid by those who breach, lowering the net cost
    _, c_pen = oi.programme_place(np.array([0.04]), 0.1, 6, 0.5, 10, 6700.0, 60000.0)
    _, c_nopen = oi.programme_place(np.array([0.04]), 0.1, 6, 0.5, 10, 6700.0, 0.0)
    assert c_pen[0] < c_nopen[0]


def test_filled_share():
    assert oi.filled_share(np.array([0.1]), 1.0, 10)[0] == pytest.approx(1.0)
    assert oi.filled_share(np.array([0.1]), 0.0, 2)[0] == pytest.approx((0.9 + 0.81) / 2)


def test_from_scenario_is_consistent(gansu):
    inp = gansu
    inp.validate()
    assert inp.n_pairs == 87 * 5
    assert np.all(inp.col_cost > 0)
    assert np.all(inp.effect.data > 0)
    levers = set(inp.col_lever)
    assert {"special_post", "senior_post", "intermediate_post", "directed_senior_post", "township_subsidy",
            "hardship_topup", "place_special_post_teachers"} <= levers
    # integers exactly where a person or a post is decided
    person = ~np.isin(inp.col_lever, ["township_subsidy", "hardship_topup"])
    assert np.array_equal(inp.col_integer, person)
    # programme subsidies go to the programme's payer; other levers by the region's shares (Gansu: west)
    tp = inp.col_lever == "place_special_post_teachers"
    assert np.all(inp.col_payer[tp] == [1, 0, 0])
    assert np.allclose(inp.col_payer[inp.col_lever == "senior_post"], [0.8, 0.15, 0.05])


def test_subsidy_segments_are_concave_per_pair(gansu):
    E = gansu.effect.tocsc()
    for lever in ("township_subsidy", "hardship_topup"):
        cols = np.flatnonzero(gansu.col_lever == lever)
        county = gansu.col_county[cols]
        first = cols[county == county[0]]
        assert len(first) == len(oi.SUBSIDY_BREAKS) - 1
        eff = np.asarray(E[:, first].todense())  # pairs x segments
        rows = eff.sum(axis=1) > 0
        assert np.all(np.diff(eff[rows], axis=1) < 0)  # each field's response flattens
        # a county-wide column is costed on all the staff who receive it, split by field
        assert np.allclose(np.asarray(gansu.cost_split[:, first].sum(axis=0)).ravel(), 1.0)


def test_quota_rows_match_the_scenario(sc2016, gansu):
    g = gansu.groups
    m = (g.family == "programme_quota") & (g.name == "quota_special_post_teachers_education")
    # a province gets the national places in proportion to its share of eligible (central + west) township demand
    import scenarios
    nat = scenarios.county_table()
    eligible = nat[nat["region"].isin(["central", "west"])]
    share = eligible.loc[eligible["province"] == "62", "demand_education_township"].sum() / eligible["demand_education_township"].sum()
    assert 0 < share < 0.1
    assert g.rhs[m][0] == pytest.approx(sc2016.programmes.special_post_teachers.places_per_year * share)
    m = g.family == "special_post_quota"
    assert g.rhs[m].sum() == pytest.approx(87 * sum(sc2016.posts.special_posts_per_county.values()))


def test_baseline_has_no_special_or_directed_posts():
    import scenarios
    inp = optimizer.from_scenario(scenarios.load("baseline"), provinces=["64"])
    assert "special_post" not in set(inp.col_lever) and "directed_senior_post" not in set(inp.col_lever)


def test_budget_override_and_bad_budget(sc2016):
    inp = optimizer.from_scenario(sc2016, provinces=["64"], budget_yuan=5e7)
    assert inp.budget_yuan == 5e7
    assert inp.payer_budget_yuan == pytest.approx(inp.payer_budget_share * 5e7)
    with pytest.raises(optimizer.OptimizerInputError) as ei:
        optimizer.from_scenario(sc2016, provinces=["64"], budget_yuan=-1.0)
    assert ei.value.problems[0].startswith("budget:")


def test_priority_weights(gansu, sc2016):
    o = sc2016.optimizer
    assert gansu.weight.min() >= 1.0
    assert gansu.weight.max() <= 1 + 6 * o.weight_per_hardship_class + o.weight_formerly_poor + o.weight_border \
        + o.weight_ethnic_minority + o.weight_old_revolutionary + 1e-12
