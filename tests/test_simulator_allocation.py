"""The simulator reading a year-indexed allocation, and the two levers the opinion funds (purchased posts, direct hires).

Four scaled Ningxia counties, one replication, 4 years, seed 11: each test compares a run with an
allocation against the run without it (common random numbers), year by year.
"""

from __future__ import annotations

import pandas as pd
import pytest

import scenarios
import simulator
from scenarios.levers import PURCHASED_POST
from simtables import small_table
from simulator.allocation import AllocationArrays, allocation_arrays

YEARS, SEED = 4, 11


@pytest.fixture(scope="module")
def sc():
    return scenarios.load("policy-2016")


@pytest.fixture(scope="module")
def table():
    return small_table(4)


@pytest.fixture(scope="module")
def base(sc, table):
    return simulator.simulate(sc, years=YEARS, replications=1, seed=SEED, table=table)


def rows(table, lever, q, year=None, fields=("education",)):
    out = pd.DataFrame([{"county_id": c, "province": "64", "field": f, "lever": lever, "quantity": q, "cost_yuan": 0.0}
                        for c in table["county_id"].astype(str) for f in fields])
    return out if year is None else out.assign(year=year)


def by_year(res, metric):
    """The metric by simulated year (0 = the start, 1 = the end of the first year)."""
    s = res.summary[res.summary.metric == metric]
    return pd.Series(s["mean"].to_numpy(), index=s["year"].to_numpy() - int(s["year"].min()))


def run(sc, table, alloc):
    return simulator.simulate(sc, years=YEARS, replications=1, seed=SEED, table=table, allocation=alloc)


def test_year_one_rows_equal_rows_without_a_year(sc, table):
    a = run(sc, table, rows(table, "special_post", 2))
    b = run(sc, table, rows(table, "special_post", 2, year=1))
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_a_row_acts_from_its_year(sc, table, base):
    r = run(sc, table, rows(table, "special_post", 2, year=3))
    d = by_year(r, "special_posts") - by_year(base, "special_posts")
    n = 2 * len(table)
    assert d.loc[:2].abs().max() == 0                       # nothing before year 3
    assert d.loc[3] == n and d.loc[4] == n                   # created in year 3, persisting
    # years before the allocation acts are identical, metric by metric
    y0 = int(base.summary["year"].min())
    s0 = base.summary[base.summary.year <= y0 + 2].reset_index(drop=True)
    s1 = r.summary[r.summary.year <= y0 + 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(s0, s1)


def test_subsidy_levels_add_up_over_the_years(sc, table, base):
    alloc = pd.concat([rows(table, "township_subsidy", 300, year=2), rows(table, "township_subsidy", 300, year=3)])
    r = run(sc, table, alloc)
    d = by_year(r, "cost_township_subsidy_yuan") - by_year(base, "cost_township_subsidy_yuan")
    assert d.loc[1] == 0 and d.loc[2] > 0
    assert d.loc[3] > 1.5 * d.loc[2]                          # 600 instead of 300 yuan/month a person


def test_purchased_posts_last_their_term(sc, table, base):
    term = int(PURCHASED_POST["term_years"])
    assert term < YEARS
    r = run(sc, table, rows(table, "purchased_post", 1))
    d = by_year(r, "special_posts") - by_year(base, "special_posts")
    n = len(table)
    assert list(d.loc[1:term]) == [n] * term                 # in the stock during the term
    assert d.loc[term + 1] == 0                              # withdrawn after it
    assert (by_year(r, "staff") - by_year(base, "staff")).loc[1] > 0


def test_direct_hires_join_in_their_year(sc, table, base):
    r = run(sc, table, rows(table, "direct_hire", 2, year=2))
    d = by_year(r, "staff") - by_year(base, "staff")
    assert d.loc[1] == 0 and d.loc[2] > 0
    assert (by_year(r, "mean_skill") - by_year(base, "mean_skill")).loc[2] > 0


def test_arrays_are_year_indexed():
    df = pd.DataFrame([
        {"county_id": "a", "province": "64", "field": "health", "lever": "senior_post", "quantity": 2.4, "cost_yuan": 0, "year": 1},
        {"county_id": "a", "province": "64", "field": "health", "lever": "senior_post", "quantity": 1.0, "cost_yuan": 0, "year": 3},
        {"county_id": "b", "province": "64", "field": "science", "lever": "township_subsidy", "quantity": 200, "cost_yuan": 0, "year": 2},
        {"county_id": "b", "province": "64", "field": "health", "lever": "township_subsidy", "quantity": 200, "cost_yuan": 0, "year": 2},
    ])
    a = allocation_arrays(df, ["a", "b"])
    assert a.n_years == 3 and a.n_counties == 2
    h = list(simulator.params.FIELDS).index("health")
    assert a.senior[:, 0, h].tolist() == [2.0, 0.0, 1.0]      # whole posts, by year
    assert a.upto("senior", 2)[0, h] == 2 and a.upto("senior", 5)[0, h] == 3
    assert a.subsidies(1)[0].tolist() == [0, 0] and a.subsidies(2)[0].tolist() == [0, 200]   # repeated rows: once
    assert AllocationArrays.zeros(2, 3).is_empty() and not a.is_empty()


@pytest.mark.parametrize("year", [0, 1.5, "x"])
def test_bad_year_is_named(year):
    df = pd.DataFrame([{"county_id": "a", "province": "64", "field": "health", "lever": "special_post",
                        "quantity": 1, "cost_yuan": 0, "year": year}])
    with pytest.raises(scenarios.levers.AllocationError) as ei:
        scenarios.validate_allocation(df)
    assert "column year" in ei.value.problems[0] and "row 2" in ei.value.problems[0]


def test_zero_year_indexed_allocation_changes_nothing(sc, table, base):
    r = run(sc, table, rows(table, "direct_hire", 0, year=3))
    pd.testing.assert_frame_equal(r.summary, base.summary)
