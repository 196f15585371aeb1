"""Hand-solvable allocation instances with known optima, for every objective, on HiGHS and CBC.

Each test asserts the status first (an exception is the status), then values
within a tolerance.  Instances are small enough to solve on paper; the comment
above each gives the reasoning.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import (AllocationInputs, Allocator, InfeasibleError, OptimizerInputError, UnboundedError,
                       size_budget)

TOL = 1e-6


@pytest.fixture(params=["highs", "cbc"])
def solver(request):
    return request.param


def qty(res, county, lever):
    a = res.allocation
    return float(a.loc[(a["county_id"] == county) & (a["lever"] == lever), "quantity"].sum())


def two_counties(budget):
    """A: gap 4, weight 2; B: gap 2, weight 1; a special post costs 100 and adds 1 person in either."""
    return AllocationInputs.build(
        pairs=[dict(county_id="A", demand=10, baseline_staff=6, weight=2.0),
               dict(county_id="B", demand=10, baseline_staff=8, weight=1.0)],
        columns=[dict(pair=0, lever="special_post", cost=100, effect=1, upper=10),
                 dict(pair=1, lever="special_post", cost=100, effect=1, upper=10)],
        budget_yuan=budget)


@pytest.mark.parametrize("budget, xa, xb, obj, used", [
    (300, 3, 0, 2 * 1 + 1 * 2, 300),      # all to the heavier weight
    (500, 4, 1, 1.0, 500),                # A closed, the rest to B
    (1000, 4, 2, 0.0, 600),               # both closed; money that helps nobody is not spent
])
def test_shortfall_two_counties(solver, budget, xa, xb, obj, used):
    res = Allocator("shortfall", solver=solver).solve(two_counties(budget))
    assert res.status == "optimal"
    assert qty(res, "A", "special_post") == pytest.approx(xa, abs=TOL)
    assert qty(res, "B", "special_post") == pytest.approx(xb, abs=TOL)
    assert res.objective == pytest.approx(obj, abs=1e-6)
    assert res.solution["budget_used_yuan"] == pytest.approx(used, abs=1e-6)


def test_shortfall_shadow_price_of_budget(solver):
    # at 300 the next yuan buys 1/100 of a person for A (weight 2): -0.02 weighted persons per yuan
    res = Allocator("shortfall", solver=solver).solve(two_counties(300))
    assert res.solution["shadow_prices"]["budget"] == pytest.approx(-0.02, rel=1e-6)
    # past 600 more money buys nothing
    res = Allocator("shortfall", solver=solver).solve(two_counties(1000))
    assert res.solution["shadow_prices"]["budget"] == pytest.approx(0.0, abs=1e-12)


def quota_instance(budget=200.0):
    """Three counties; a programme place costs 10 and adds 0.8 (5 places nationally); a special post adds 1
    for 60 in A, 50 in B and C.

    All 5 places go to A (weight 1.5, gap 4 = 5 x 0.8): moving one to B gains 0.8 there but A then needs
    0.8 special posts (48 yuan = 0.96 persons in B) -- a loss.  The remaining 150 buys 3 special posts for
    B and C.  Weighted shortfall 0 + (3 + 3 - 3) = 3.  One more place (in B) frees 10 yuan of a special
    post: +0.8 - 0.2 = 0.6 persons; one place fewer costs A 0.8 persons, bought back with 48 yuan of special
    posts taken from B (0.96 persons).  A is exactly closed (a degenerate vertex), so any quota dual in
    [-0.96, -0.6] is right.  One more yuan: 1/50 person -> budget dual -0.02.
    """
    pairs = [dict(county_id=c, demand=10, baseline_staff=10 - g, weight=w, province="62")
             for c, g, w in (("A", 4, 1.5), ("B", 3, 1.0), ("C", 3, 1.0))]
    cols, quota = [], {}
    for k in range(3):
        quota[len(cols)] = 1.0
        cols.append(dict(pair=k, lever="place_x", cost=10, effect=0.8, integer=True))
        cols.append(dict(pair=k, lever="special_post", cost=60 if k == 0 else 50, effect=1, integer=True))
    groups = [dict(family="programme_quota", name="quota_x", coefs=quota, rhs=5)]
    return AllocationInputs.build(pairs, cols, groups, budget_yuan=budget)


def test_quota_instance(solver):
    res = Allocator("shortfall", solver=solver).solve(quota_instance())
    assert res.status == "optimal"
    assert qty(res, "A", "place_x") == pytest.approx(5, abs=TOL)
    assert qty(res, "B", "special_post") + qty(res, "C", "special_post") == pytest.approx(3, abs=TOL)
    assert res.objective == pytest.approx(3.0, abs=1e-6)
    sp = res.shadow_prices.set_index("row")
    assert -0.96 - 1e-6 <= sp.loc["quota_x", "dual"] <= -0.6 + 1e-6
    assert res.solution["shadow_prices"]["budget"] == pytest.approx(-0.02, rel=1e-6)


def test_quota_instance_integer(solver):
    res = Allocator("shortfall", solver=solver, integer=True).solve(quota_instance())
    assert res.status.startswith(("optimal", "feasible"))
    assert res.objective == pytest.approx(3.0, abs=1e-6)
    q = res.allocation["quantity"].to_numpy()
    assert np.allclose(q, np.round(q))
    # integer marginal value of the budget by re-solving at budget +/- 1%: 2 yuan buy 0 or 0.04 persons
    assert res.solution["shadow_prices"]["budget_method"] == "re-solve"


def test_concave_segments_fill_in_order(solver):
    # a subsidy response cut in two segments: the first gives twice the staff per yuan
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", demand=20, baseline_staff=10)],
        columns=[dict(pair=0, lever="township_subsidy", cost=1, effect=0.02, upper=100),
                 dict(pair=0, lever="township_subsidy", cost=1, effect=0.01, upper=100)],
        budget_yuan=150)
    res = Allocator("shortfall", solver=solver).solve(inp)
    x = res.x[:2]
    assert x == pytest.approx([100, 50], abs=1e-6)
    assert res.objective == pytest.approx(10 - 2 - 0.5, abs=1e-6)


def equity_instance(budget=5.0, integer=False):
    """A: demand 10, gap 5; B: demand 20, gap 4; one person costs 1 in either.

    min max(u_A/10, u_B/20) with x_A + x_B = 5: (5 - x_A)/10 = (4 - x_B)/20 -> x_A = 11/3, x_B = 4/3,
    z* = 2/15.
    """
    return AllocationInputs.build(
        pairs=[dict(county_id="A", demand=10, baseline_staff=5), dict(county_id="B", demand=20, baseline_staff=16)],
        columns=[dict(pair=0, lever="special_post", cost=1, effect=1, integer=integer),
                 dict(pair=1, lever="special_post", cost=1, effect=1, integer=integer)],
        budget_yuan=budget)


def test_equity_lp(solver):
    res = Allocator("equity", solver=solver).solve(equity_instance())
    assert res.status == "optimal"
    assert res.solution["max_shortfall_ratio_lp"] == pytest.approx(2 / 15, abs=1e-7)
    assert qty(res, "A", "special_post") == pytest.approx(11 / 3, abs=1e-6)
    assert qty(res, "B", "special_post") == pytest.approx(4 / 3, abs=1e-6)
    assert res.solution["totals"]["max_shortfall_ratio_after"] == pytest.approx(2 / 15, abs=1e-6)
    # one more yuan lowers the largest ratio: dz/dB = -1/(10 + 20)
    assert res.solution["shadow_prices"]["budget"] == pytest.approx(-1 / 30, rel=1e-5)


def test_equity_integer_stays_within_one_unit_of_the_lp_cap(solver):
    res = Allocator("equity", solver=solver, integer=True).solve(equity_instance(integer=True))
    q = res.allocation.set_index("county_id")["quantity"]
    assert np.allclose(q, np.round(q)) and q.sum() <= 5 + 1e-9
    z = res.solution["max_shortfall_ratio_lp"]
    out = res.outcomes.set_index("county_id")
    # each pair's shortfall is at most z* x demand plus one person (the largest integer lever's unit)
    assert (out["shortfall_after"] <= z * out["demand"] + 1 + 1e-6).all()
    assert res.solution["totals"]["max_shortfall_ratio_after"] in (pytest.approx(0.15), pytest.approx(0.2))


def cost_instance(n=2):
    """A: demand 10, gap 4 -> target 0.8 needs 2 more staff: 2 places (30 each, 0.5 person) + 1 special (100) = 160.
    B: gap 1, already within target.  C (n=3): gap 5 needs 3 special posts = 300."""
    pairs = [dict(county_id="A", demand=10, baseline_staff=6), dict(county_id="B", demand=10, baseline_staff=9)]
    cols = [dict(pair=0, lever="place_x", cost=30, effect=0.5, upper=2, integer=True),
            dict(pair=0, lever="special_post", cost=100, effect=1, integer=True),
            dict(pair=1, lever="special_post", cost=100, effect=1, integer=True)]
    if n == 3:
        pairs.append(dict(county_id="C", demand=10, baseline_staff=5))
        cols.append(dict(pair=2, lever="special_post", cost=100, effect=1, integer=True))
    return AllocationInputs.build(pairs, cols)


@pytest.mark.parametrize("integer", [False, True])
def test_cost_objective(solver, integer):
    res = size_budget(cost_instance(), target=0.8, solver=solver, integer=integer)
    assert res.status == "optimal"
    assert res.solution["budget_yuan"] == pytest.approx(160, abs=1e-6)
    assert qty(res, "A", "place_x") == pytest.approx(2, abs=1e-6)
    assert qty(res, "A", "special_post") == pytest.approx(1, abs=1e-6)
    assert qty(res, "B", "special_post") == pytest.approx(0, abs=1e-6)
    if not integer:
        # raising the target by 0.01 needs 0.1 more person in A at 100 each: 1,000 yuan per unit of target
        assert res.solution["shadow_prices"]["coverage_target"] == pytest.approx(1000, rel=1e-6)


@pytest.mark.parametrize("share, cost", [(2 / 3, 160), (1.0, 460)])
def test_cost_objective_share_of_counties(solver, share, cost):
    res = size_budget(cost_instance(3), target=0.8, share=share, solver=solver)
    assert res.solution["budget_yuan"] == pytest.approx(cost, abs=1e-6)
    assert res.solution["totals"]["share_counties_at_target_after"] >= share - 1e-9


def test_infeasible_target_names_the_family(solver):
    # the gap of 5 needs 5 places but the quota allows 2; target 1.0 leaves no shortfall
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", demand=10, baseline_staff=5)],
        columns=[dict(pair=0, lever="place_x", cost=1, effect=1)],
        groups=[dict(family="programme_quota", name="quota_x", coefs={0: 1}, rhs=2)])
    with pytest.raises(InfeasibleError) as ei:
        size_budget(inp, target=1.0, solver=solver)
    fams = set(ei.value.families)
    assert fams and fams <= {"coverage_target", "programme_quota"}
    assert all(line.startswith("infeasible") for line in ei.value.problems)
    assert "Infeasible" != str(ei.value)


def test_infeasible_budget_against_lower_bounds(solver):
    # 5 posts are required (lower bound) at 100 each, but the fund is 300
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", demand=10, baseline_staff=2)],
        columns=[dict(pair=0, lever="special_post", cost=100, effect=1, lower=5, upper=10)],
        budget_yuan=300)
    with pytest.raises(InfeasibleError) as ei:
        Allocator("shortfall", solver=solver).solve(inp)
    assert set(ei.value.families) and set(ei.value.families) <= {"budget", "payer_budget", "lever_bounds"}


def test_unbounded_names_the_column(solver):
    # a lever that earns money without limit makes the smallest budget unbounded below
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", demand=10, baseline_staff=5)],
        columns=[dict(pair=0, lever="special_post", cost=100, effect=1),
                 dict(pair=0, lever="fee_income", cost=-1, effect=0)])
    with pytest.raises(UnboundedError) as ei:
        size_budget(inp, target=0.8, solver=solver)
    assert any("fee_income" in c for c in ei.value.columns)


def test_county_wide_column_acts_on_every_field(solver):
    # one subsidy column raises staff in both fields of county A; cost reported by staff share
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", field="education", demand=10, baseline_staff=8),
               dict(county_id="A", field="health", demand=10, baseline_staff=9)],
        columns=[dict(pairs={0: 0.02, 1: 0.01}, split={0: 0.75, 1: 0.25}, lever="township_subsidy", cost=4, upper=100)],
        budget_yuan=400)
    res = Allocator("shortfall", solver=solver).solve(inp)
    a = res.allocation.set_index("field")
    assert a.loc["education", "quantity"] == pytest.approx(100) and a.loc["health", "quantity"] == pytest.approx(100)
    assert a.loc["education", "cost_yuan"] == pytest.approx(300) and a.loc["health", "cost_yuan"] == pytest.approx(100)
    assert res.objective == pytest.approx((2 - 2) + (1 - 1), abs=1e-6)


@pytest.mark.parametrize("kwargs, key", [
    (dict(objective="fastest"), "objective"),
    (dict(solver="gurobi"), "solver"),
    (dict(coverage_target=1.2), "coverage_target"),
    (dict(mip_gap=-0.1), "mip_gap"),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(OptimizerInputError) as ei:
        Allocator(**kwargs)
    assert len(ei.value.problems) == 1 and ei.value.problems[0].startswith(key) and "allowed" in ei.value.problems[0]


def test_bad_inputs_list_every_problem():
    with pytest.raises(OptimizerInputError) as ei:
        AllocationInputs.build(pairs=[dict(county_id="A", demand=-1, baseline_staff=float("nan"))],
                               columns=[dict(pair=0, lever="x", cost=1, effect=1, lower=3, upper=2)], budget_yuan=-5)
    text = "\n".join(ei.value.problems)
    for key in ("inputs.demand[0]", "inputs.baseline_staff[0]", "inputs.col_upper[0]", "budget"):
        assert key in text


def test_equity_counts_only_the_pairs_the_objective_counts(solver):
    """``--field`` gives the other fields' pairs weight 0: the equity objective ignores them.  Pairs A (education,
    demand 100, staff 50) and C (education, 100, 60) have a post lever each (cost 1, effect 1); pair B (health,
    weight 0, 100 demanded, 10 in post) has none, so counted it would fix the largest ratio at 0.9.  Solved by
    hand: a fund of 20 equalises A and C at ratio (50 + 40 - 20) / 200 = 0.35 (A 15, C 5)."""
    inp = AllocationInputs.build(
        pairs=[dict(county_id="A", field="education", demand=100, baseline_staff=50),
               dict(county_id="B", field="health", demand=100, baseline_staff=10, weight=0.0),
               dict(county_id="C", field="education", demand=100, baseline_staff=60)],
        columns=[dict(pair=0, lever="special_post", cost=1, effect=1), dict(pair=2, lever="special_post", cost=1, effect=1)],
        budget_yuan=20)
    res = Allocator("equity", solver=solver).solve(inp)
    assert res.solution["max_shortfall_ratio_lp"] == pytest.approx(0.35, abs=1e-7)
    assert qty(res, "A", "special_post") == pytest.approx(15, abs=1e-5)    # CBC: 14.999996
    assert qty(res, "C", "special_post") == pytest.approx(5, abs=1e-5)
