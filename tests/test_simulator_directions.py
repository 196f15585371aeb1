"""Directions the issue requires: each lever moves its outcome the documented way (common random numbers)."""

from __future__ import annotations


import scenarios
import simulator
from simulator.params import FIELDS, TIERS
from simtables import baseline, paired, table, voluntary_exits  # noqa: F401 (baseline, table: fixtures)
from simtables import summary_series as _series


def _county_values(res, metric, year):
    c = res.counties
    c = c[(c.metric == metric) & (c.year == year)]
    return c.groupby("county_id", observed=True)["mean"].sum()


def test_township_subsidy_lowers_exits(baseline, table):
    with_subsidy = scenarios.apply(baseline, {"pay.township_subsidy": True})
    kw = dict(years=3, replications=2, seed=20160701, table=table)
    a, b = paired(baseline, with_subsidy, **kw)
    start = a.years[0]
    assert (voluntary_exits(b).loc[start + 1:] < voluntary_exits(a).loc[start + 1:]).all()
    assert _series(b, "turnover_rate").loc[start + 1] < _series(a, "turnover_rate").loc[start + 1]
    # year 1 starts from the same state and every person draws the same uniform: a subsidy can only
    # keep people, so no county loses more people than without it
    ya = _county_values(a, "exits_city", start + 1) + _county_values(a, "exits_other_sector", start + 1)
    yb = _county_values(b, "exits_city", start + 1) + _county_values(b, "exits_other_sector", start + 1)
    assert (yb <= ya).all() and yb.sum() < ya.sum()
    # and it is paid for, by lever
    assert _series(b, "cost_township_subsidy_yuan").loc[start + 1] > 0
    assert _series(a, "cost_township_subsidy_yuan").loc[start + 1] == 0


def test_relaxed_entry_threshold_raises_fill_rate_and_lowers_recruit_skill(baseline, table):
    relaxed = scenarios.apply(baseline, {"recruitment.entry_threshold": -1.0})
    strict = scenarios.apply(baseline, {"recruitment.entry_threshold": 0.5})
    kw = dict(years=2, replications=2, seed=1, table=table)
    res = {name: simulator.simulate(sc, **kw) for name, sc in
           (("relaxed", relaxed), ("base", baseline), ("strict", strict))}
    y1 = res["base"].years[1]
    fill = [_series(res[n], "fill_rate").loc[y1] for n in ("relaxed", "base", "strict")]
    skill = [_series(res[n], "mean_recruit_skill").loc[y1] for n in ("relaxed", "base", "strict")]
    assert fill[0] > fill[1] > fill[2]
    assert skill[0] < skill[1] < skill[2]
    # the recruits are truncated at the threshold: their mean is above it
    assert skill[2] > 0.5 and skill[0] > -1.0


def test_binding_caps_block_appointments(baseline, table):
    tight, loose = {}, {}
    for tier in TIERS:
        for f in FIELDS:
            tight[f"posts.senior_cap.{tier}.{f}"] = 0.0
            tight[f"posts.intermediate_cap.{tier}.{f}"] = 0.0
            loose[f"posts.senior_cap.{tier}.{f}"] = 0.5
            loose[f"posts.intermediate_cap.{tier}.{f}"] = 0.5
    kw = dict(years=4, replications=1, seed=3, table=table)
    t, b, lo = paired(scenarios.apply(baseline, tight), baseline, scenarios.apply(baseline, loose), **kw)
    sim = slice(t.years[1], None)
    assert _series(t, "promotions_senior").loc[sim].sum() == 0
    assert _series(t, "promotions_intermediate").loc[sim].sum() == 0
    assert _series(t, "titles_passed_intermediate").loc[sim].sum() > 0     # titles still pass ...
    blocked = [_series(r, "appointments_blocked_by_caps").loc[sim].sum() for r in (t, b, lo)]
    assert blocked[0] > blocked[1] > blocked[2]                           # ... but cannot be appointed
    # loose caps: more staff hold senior posts (promotion *flows* need not be larger: loose caps appoint the
    # initial backlog at once, and with high turnover the baseline keeps appointing from its backlog)
    assert (_series(lo, "senior_posts").loc[sim] > _series(b, "senior_posts").loc[sim]).all()


def test_cap_uplift_and_directed_posts_add_senior_posts_outside_the_cap(baseline, table):
    sc = scenarios.apply(baseline, {"titles.directed_senior": True, "posts.directed_senior_share": 0.05})
    res = simulator.simulate(sc, years=4, replications=1, seed=3, table=table)
    y = res.years[-1]
    assert _series(res, "promotions_directed_senior").loc[res.years[1]:].sum() > 0
    assert _series(res, "directed_posts_filled").loc[y] <= _series(res, "directed_posts").loc[y]
    assert _series(res, "senior_posts_regular").loc[y] <= _series(res, "senior_cap_posts").loc[y]
    assert (_series(res, "senior_posts").loc[y]
            == _series(res, "senior_posts_regular").loc[y] + _series(res, "directed_posts_filled").loc[y])


def test_policy_2016_beats_baseline_on_coverage_in_year_10(baseline, table):
    policy = scenarios.load("policy-2016")
    kw = dict(years=10, replications=3, seed=20160701, table=table)
    a, b = paired(baseline, policy, **kw)
    y10 = a.years[0] + 10
    assert _series(b, "coverage").loc[y10] > _series(a, "coverage").loc[y10]
    # paired by replication (common random numbers): better in every replication
    ra = a.replications[(a.replications.metric == "coverage") & (a.replications.year == y10)].set_index("replication")
    rb = b.replications[(b.replications.metric == "coverage") & (b.replications.year == y10)].set_index("replication")
    assert ((rb["value"] - ra["value"]) > 0).all()
    # the start is the same state in both scenarios
    y0 = a.years[0]
    assert _series(a, "staff").loc[y0] == _series(b, "staff").loc[y0]
