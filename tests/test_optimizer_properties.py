"""Invariants of the allocation model, on random small instances and on a province of the bundled table.

* budgets, caps and quotas are never exceeded;
* a larger budget never gives a worse objective (property test);
* shadow prices agree with finite differences (the dual lies between the one-sided slopes);
* the LP optimum equals ``scipy.optimize.linprog`` on the same matrices;
* everything on HiGHS and on CBC.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

# A budget row may be exceeded by the LP solver's primal feasibility tolerance (HiGHS: 1e-7 in the
# model's scaled units, after its own row scaling): seen up to 1.2e-9 of the budget on the real
# county table; 1e-6 of the budget (1 yuan per million) is the stated bound.
SOLVER_FEASIBILITY_REL = 1e-6


import optimizer
from optimizer import AllocationInputs, Allocator, Session, build_arrays, to_linprog
from optimizer.model import MONEY_UNIT

SOLVERS = ["highs", "cbc"]


@pytest.fixture(params=SOLVERS)
def solver(request):
    return request.param


@pytest.fixture(scope="module")
def ningxia():
    """Ningxia (22 county-level units, 110 pairs) under the 2016 package, fund 100 million yuan."""
    import scenarios
    return optimizer.from_scenario(scenarios.load("policy-2016"), provinces=["64"], budget_yuan=1e8)


# ----------------------------------------------------------------------------- random instances

@st.composite
def instances(draw, integer=False):
    n = draw(st.integers(2, 4))
    pairs = [dict(county_id=f"C{i}", demand=draw(st.integers(5, 40)), weight=draw(st.sampled_from([1.0, 1.3, 2.0])),
                  province=draw(st.sampled_from(["62", "63"])))
             for i in range(n)]
    for p in pairs:
        p["baseline_staff"] = p["demand"] - draw(st.integers(0, 12))
    cols, cap_rows, quota = [], [], {}
    for k in range(n):
        for lever in draw(st.lists(st.sampled_from(["special_post", "place_x", "senior_post", "subsidy"]),
                                   min_size=1, max_size=3, unique=True)):
            j = len(cols)
            upper = draw(st.one_of(st.none(), st.integers(1, 8)))
            cols.append(dict(pair=k, lever=lever, cost=draw(st.integers(5, 120)),
                             effect=draw(st.sampled_from([0.3, 0.5, 0.8, 1.0, 1.5])),
                             upper=float("inf") if upper is None else upper,
                             integer=integer and lever != "subsidy",
                             payer=draw(st.sampled_from([(1, 0, 0), (0.5, 0.3, 0.2), (0, 1, 0)]))))
            if lever == "place_x":
                quota[j] = 1.0
            if lever == "senior_post":
                cap_rows.append(dict(family="senior_cap", name=f"senior_cap_{k}", coefs={j: 1.0}, rhs=draw(st.integers(0, 5))))
    groups = cap_rows + ([dict(family="programme_quota", name="quota_x", coefs=quota, rhs=draw(st.integers(0, 10)))] if quota else [])
    payer = draw(st.one_of(st.none(), st.just((0.7, 0.4, 0.3))))
    b1 = draw(st.integers(0, 800))
    b2 = b1 + draw(st.integers(1, 800))
    inp = AllocationInputs.build(pairs, cols, groups, budget_yuan=b1,
                                 payer_budget_yuan=None if payer is None else [s * b1 for s in payer])
    if payer is not None:
        from dataclasses import replace
        inp = replace(inp, payer_budget_share=np.array(payer))
    return inp, b2


#: relative tolerance of "never exceeded": CBC writes its solution with 8 significant digits
RTOL = 1e-7


def within_limits(res, inp):
    """Money within the fund and payer limits; every group row within its bound; bounds kept."""
    M = inp.n_columns
    x = res.x[:M]
    used = float(inp.col_cost @ x)
    assert used <= inp.budget_yuan * (1 + RTOL) + 1e-6
    if inp.payer_budget_yuan is not None:
        assert np.all((inp.col_cost * x) @ inp.col_payer <= inp.payer_budget_yuan * (1 + RTOL) + 1e-6)
    g = inp.groups
    lhs = np.bincount(g.entry_group, weights=g.entry_coef * x[g.entry_col], minlength=len(g))
    le = g.sense == "<="
    assert np.all(lhs[le] <= g.rhs[le] * (1 + RTOL) + 1e-6)
    assert np.all(x >= inp.col_lower - 1e-6) and np.all(x <= inp.col_upper * (1 + RTOL) + 1e-6)


def check_limits_and_monotone(solver_name, data):
    inp, b2 = data.draw(instances())
    alloc = Allocator("shortfall", solver=solver_name, marginals=False)
    r1 = alloc.solve(inp)
    within_limits(r1, inp)
    inp2 = inp.with_budget(b2)
    r2 = alloc.solve(inp2)
    within_limits(r2, inp2)
    assert r2.objective <= r1.objective + 1e-6


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_limits_hold_and_more_budget_is_never_worse_highs(data):
    check_limits_and_monotone("highs", data)


@settings(deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_limits_hold_and_more_budget_is_never_worse_cbc(data):
    check_limits_and_monotone("cbc", data)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_integer_limits_hold_and_more_budget_is_never_worse(data):
    inp, b2 = data.draw(instances(integer=True))
    alloc = Allocator("shortfall", integer=True, marginals=False, mip_gap=0.0)
    r1 = alloc.solve(inp)
    within_limits(r1, inp)
    x = r1.x[:inp.n_columns]
    assert np.allclose(x[inp.col_integer], np.round(x[inp.col_integer]), atol=1e-6)
    r2 = alloc.solve(inp.with_budget(b2))
    assert r2.objective <= r1.objective + 1e-6


# ----------------------------------------------------------------------------- shadow prices

def slopes(f, b, step):
    """One-sided difference quotients of f at b (for a convex f they bracket every subgradient)."""
    fb = f(b)
    left = (fb - f(b - step)) / step if b - step >= 0 else -np.inf
    right = (f(b + step) - fb) / step
    return left, right


def test_budget_shadow_price_matches_finite_differences(ningxia, solver):
    alloc = Allocator("shortfall", solver=solver)
    res = alloc.solve(ningxia)
    dual = res.solution["shadow_prices"]["budget"]
    assert dual < 0  # the fund binds: more money lowers the weighted shortfall
    f = lambda b: Allocator("shortfall", solver=solver, marginals=False).solve(ningxia.with_budget(b)).objective  # noqa: E731
    left, right = slopes(f, ningxia.budget_yuan, 2e4)
    tol = 1e-6 * abs(dual) + 1e-10
    assert left - tol <= dual <= right + tol
    assert dual == pytest.approx((left + right) / 2, rel=0.05)


@pytest.mark.parametrize("family", ["senior_cap", "intermediate_cap", "programme_quota", "county_bound"])
def test_group_shadow_prices_match_finite_differences(ningxia, solver, family):
    arrays = build_arrays(ningxia, "shortfall", spend_penalty=1e-9)
    sess = Session(arrays, solver)
    raw = sess.run()
    rows = np.flatnonzero(arrays.row_family == family)
    r = rows[np.argmax(np.abs(raw.row_dual[rows]))]
    dual = raw.row_dual[r]
    rhs = arrays.row_hi[r]

    def f(v):
        s = Session(arrays, solver)
        s.set_row_bounds([r], hi=v)
        return s.run().objective

    # the optimum is convex in the right-hand side, so secant slopes over any step bracket the dual;
    # one post keeps CBC's 8-digit solution output far below the slopes' size
    left, right = slopes(f, rhs, 1.0)
    tol = (1e-6 if solver == "highs" else 1e-3) * max(1.0, abs(dual))
    assert left - tol <= dual <= right + tol


def test_coverage_target_shadow_price(ningxia, solver):
    res = optimizer.size_budget(ningxia, target=0.9, solver=solver)
    d = res.solution["shadow_prices"]["coverage_target"]
    f = lambda t: optimizer.size_budget(ningxia, target=t, solver=solver, marginals=False).solution["budget_yuan"]  # noqa: E731
    left, right = slopes(f, 0.9, 1e-4)
    tol = 1e-5 * abs(d)
    assert d > 0 and left - tol <= d <= right + tol


def test_integer_budget_marginal_by_resolve(ningxia):
    res = Allocator("shortfall", integer=True).solve(ningxia)
    sp = res.solution["shadow_prices"]
    assert sp["budget_method"] == "re-solve" and sp["budget"] < 0
    lp = Allocator("shortfall").solve(ningxia).solution["shadow_prices"]["budget"]
    # same order of magnitude as the LP dual (whole posts make the integer slope lumpy)
    assert 0.3 < sp["budget"] / lp < 3


# ----------------------------------------------------------------------------- linprog

def linprog_value(arrays):
    lp = to_linprog(arrays)
    r = linprog(lp["c"], A_ub=lp["A_ub"], b_ub=lp["b_ub"], A_eq=lp["A_eq"], b_eq=lp["b_eq"], bounds=lp["bounds"],
                method="highs")
    assert r.status == 0, r.message
    return r.fun + lp["offset"]


@pytest.mark.parametrize("objective", ["shortfall", "equity", "cost"])
def test_lp_optimum_equals_linprog(ningxia, solver, objective):
    arrays = build_arrays(ningxia, objective, spend_penalty=1e-9, coverage_target=0.9)
    ours = Session(arrays, solver).run()
    assert ours.kind == "optimal"
    ref = linprog_value(arrays)
    assert ours.objective == pytest.approx(ref, rel=1e-6, abs=1e-6)
    if objective == "equity":  # the objective is z x total demand; z itself agrees too
        assert ours.x[arrays.z_col] == pytest.approx(ref / arrays.z_scale, rel=1e-6)


def test_hand_instance_equals_linprog(solver):
    from test_optimizer_instances import quota_instance  # noqa: PLC0415 - same folder
    arrays = build_arrays(quota_instance(), "shortfall", spend_penalty=1e-9)
    assert Session(arrays, solver).run().objective == pytest.approx(linprog_value(arrays), abs=1e-9)


def test_solvers_agree_on_the_province(ningxia):
    vals = {s: Allocator("shortfall", solver=s, marginals=False).solve(ningxia).objective for s in SOLVERS}
    assert vals["highs"] == pytest.approx(vals["cbc"], rel=1e-6)


def test_money_unit_is_internal(ningxia):
    res = Allocator("shortfall").solve(ningxia)
    # the budget row holds 10,000-yuan units; every reported figure is in yuan
    assert res.arrays.row_hi[res.arrays.budget_row] * MONEY_UNIT == pytest.approx(ningxia.budget_yuan)
    assert res.solution["budget_used_yuan"] == pytest.approx(res.allocation["cost_yuan"].sum(), rel=1e-9)
    assert res.solution["budget_used_yuan"] <= ningxia.budget_yuan * (1 + SOLVER_FEASIBILITY_REL)
    assert res.arrays.violations(res.x, tol=1e-7) == {}
