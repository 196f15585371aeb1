"""Structural assumptions that used to be module constants are scenario keys now.

* ``posts.grade_step_years`` (was ``simulator.population.GRADE_STEP_YEARS``): one grade up within the
  title band every so many years at grade;
* ``recruitment.reserved_upward_min_years`` (was ``simulator.behaviour.UPWARD_MIN_YEARS``): years of
  grassroots service before a reserved province/city post (57号 §7) is open;
* ``demand.growth_per_year.<field>``: demand in year t = county-table demand x (1 + g)^t.

Defaults equal the old constants (``tests/test_golden.py`` pins the results); here: metadata,
validation, and that each key moves the simulator the way it says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulator
from grassroots.studies import sensitivity as sa
from scenarios import ScenarioError
from simulator import behaviour
from simulator.model import ModelOptions, TalentModel
from simulator.params import FIELDS, TIERS, compile_params
from simulator.population import BAND_TOP, GRADE_STEP_YEARS, geography_from_table
from simtables import PROVINCE, baseline, table  # noqa: F401 (baseline, table: fixtures)

NEW_KEYS = {
    "posts.grade_step_years": (3.0, 1, 10),
    "recruitment.reserved_upward_min_years": (2.0, 0, 45),
    **{f"demand.growth_per_year.{f}": (0.0, -0.1, 0.1) for f in FIELDS},
}


def _field_series(res, metric: str, field: str) -> pd.Series:
    """Sum over counties of ``metric`` for one field, by year (mean over replications)."""
    c = res.counties
    c = c[(c.metric == metric) & (c.field == field)]
    return c.groupby("year", observed=True)["mean"].sum()


# ----------------------------------------------------------------------------- schema and loading

def test_new_keys_have_metadata_defaults_and_ranges(baseline):
    leaves = scenarios.leaf_paths()
    for key, (default, lo, hi) in NEW_KEYS.items():
        tp, meta = leaves[key]
        assert tp is float
        assert meta["unit"] and "assumption" in meta["source"]
        assert (meta["lo"], meta["hi"]) == (lo, hi)
        assert scenarios.get_path(baseline, key) == default
    # the schema says how each engine uses the demand trend
    assert "horizon average" in leaves["demand.growth_per_year.education"][1]["source"]
    # every bundled scenario inherits the defaults (no scenario changes them), except the history, whose health
    # demand follows the published township health-centre workforce 2016-2020 (history-2016-2025.toml)
    history = {("history-2016-2025", "demand.growth_per_year.health")}
    for name in scenarios.bundled_names():
        sc = scenarios.load(name)
        for key, (default, _, _) in NEW_KEYS.items():
            if (name, key) not in history:
                assert scenarios.get_path(sc, key) == default, (name, key)


def test_defaults_equal_the_old_constants(baseline):
    p = compile_params(baseline)
    assert p.grade_step_years == GRADE_STEP_YEARS == 3.0      # the module constant is only the baseline value
    assert p.upward_min_years == 2.0
    assert np.array_equal(p.demand_growth, np.zeros(len(FIELDS)))
    changed = compile_params(scenarios.apply(baseline, {"posts.grade_step_years": 2.0,
                                                        "recruitment.reserved_upward_min_years": 5.0,
                                                        "demand.growth_per_year.education": -0.05}))
    assert changed.grade_step_years == 2.0 and changed.upward_min_years == 5.0
    assert changed.demand_growth[FIELDS.index("education")] == -0.05
    assert changed.demand_growth.sum() == -0.05


@pytest.mark.parametrize("key,value,allowed", [
    ("demand.growth_per_year.education", 0.5, "-0.1 to 0.1"),
    ("demand.growth_per_year.health", -0.2, "-0.1 to 0.1"),
    ("posts.grade_step_years", 0.5, "1 to 10"),
    ("recruitment.reserved_upward_min_years", -1.0, "0 to 45"),
])
def test_out_of_range_is_one_line_naming_key_and_range(baseline, key, value, allowed):
    with pytest.raises(ScenarioError) as e:
        scenarios.apply(baseline, {key: value})
    assert len(e.value.problems) == 1
    line = e.value.problems[0]
    assert "\n" not in line
    assert f"{key}: {value!r} is out of range (allowed: {allowed}" in line


def test_bad_growth_in_a_file(tmp_path):
    p = tmp_path / "shrinking.toml"
    p.write_text('extends = "baseline"\n[demand.growth_per_year]\neducation = 0.5\nfarming = 0.0\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        scenarios.load(p)
    lines = e.value.problems
    assert any("demand.growth_per_year.education: 0.5 is out of range (allowed: -0.1 to 0.1" in x for x in lines)
    assert any("demand.growth_per_year.farming: unknown key (allowed: science, education" in x for x in lines)
    p.write_text('extends = "baseline"\n[demand.growth_per_year]\neducation = -0.05\n', encoding="utf-8")
    sc = scenarios.load(p)
    assert sc.demand.growth_per_year["education"] == -0.05 and sc.demand.growth_per_year["health"] == 0.0


def test_sensitivity_accepts_the_new_keys(baseline):
    for spec in ("posts.grade_step_years=2:4", "recruitment.reserved_upward_min_years=0:5",
                 "demand.growth_per_year.education=-0.05:0.0"):
        prm = sa.parse_param(spec, baseline)
        assert not prm.integer and not prm.shift
    shift = sa.parse_param("demand.growth_per_year.*=-0.03:0.03", baseline)
    assert shift.shift
    with pytest.raises(sa.SensitivityInputError, match=r"demand.growth_per_year.education: -0.2 is out of range \(allowed: -0.1 to 0.1"):
        sa.parse_param("demand.growth_per_year.education=-0.2:0.0", baseline)
    with pytest.raises(sa.SensitivityInputError, match="takes demand.growth_per_year"):
        sa.parse_param("demand.growth_per_year.*=-0.2:0.0", baseline)
    # the documented default set is unchanged (the new keys are available, not default)
    assert not any(p.key.startswith(("demand.", "posts.grade_step", "recruitment.reserved_upward_min"))
                   for p in sa.DEFAULT_PARAMETERS)


# ----------------------------------------------------------------------------- grade step

def test_shorter_grade_step_gives_higher_grades_and_pay(baseline, table):
    geo = geography_from_table(table)
    fast = scenarios.apply(baseline, {"posts.grade_step_years": 2.0})
    slow = scenarios.apply(baseline, {"posts.grade_step_years": 5.0})
    models = {k: TalentModel(sc, geography=geo, seed=11, years=4) for k, sc in
              (("fast", fast), ("base", baseline), ("slow", slow))}
    # the initial stock: same people, same posts; grade = band bottom - years at title // step
    g0 = {k: m.staff.grade.astype(float) for k, m in models.items()}
    assert np.array_equal(models["fast"].staff.post, models["base"].staff.post)
    assert (g0["fast"] <= g0["base"]).all() and (g0["base"] <= g0["slow"]).all()
    assert g0["fast"].mean() < g0["base"].mean() < g0["slow"].mean()    # grade 1 is the top
    for m in models.values():
        m.run()
    # after the year's grade steps nobody below the band top has been at grade for a whole step
    for k, step in (("fast", 2.0), ("base", 3.0), ("slow", 5.0)):
        s = models[k].staff
        below_top = (s.kind != 1) & (s.grade > BAND_TOP[s.post])
        assert below_top.any() and (s.at_grade[below_top] < step).all()
        assert (s.at_grade[below_top] >= 1.0).any() or k == "fast"
    mean_grade = {k: m.staff.grade.astype(float).mean() for k, m in models.items()}
    assert mean_grade["fast"] < mean_grade["base"] < mean_grade["slow"]
    kw = dict(years=4, replications=1, seed=11, table=table)
    res = {k: simulator.simulate(sc, **kw) for k, sc in (("fast", fast), ("base", baseline), ("slow", slow))}
    years = res["base"].years[1:]
    pay = {k: r.value("cost_base_pay_yuan") / r.value("staff") for k, r in res.items()}
    assert (pay["fast"].loc[years] > pay["base"].loc[years]).all()
    assert (pay["base"].loc[years] > pay["slow"].loc[years]).all()
    assert (res["fast"].value("cost_yuan").loc[years] > res["base"].value("cost_yuan").loc[years]).all()


# ----------------------------------------------------------------------------- years before an upward move

def test_upward_moves_need_the_years_of_service(baseline, table):
    opened = scenarios.apply(baseline, {"recruitment.reserved_upward_share": 0.5})   # upward rate 0.05/yr
    kw = dict(years=3, replications=1, seed=5, table=table)
    res = {y: simulator.simulate(scenarios.apply(opened, {"recruitment.reserved_upward_min_years": y}), **kw)
           for y in (0.0, 2.0, 10.0, 45.0)}
    first = res[2.0].years[1]
    up = {y: r.value("exits_upward") for y, r in res.items()}
    assert (up[45.0] == 0).all()                    # longer than any career: nobody qualifies
    assert (up[2.0].loc[first:] > 0).all()
    # year 1 starts from the same state with the same draws: a longer requirement only removes people
    assert up[0.0].loc[first] >= up[2.0].loc[first] > up[10.0].loc[first] > 0
    # the compiled screening and the numpy reference agree on the new key too
    geo = geography_from_table(table)
    for y in (10.0, 45.0):
        sc = scenarios.apply(opened, {"recruitment.reserved_upward_min_years": y})
        m = TalentModel(sc, geography=geo, seed=5, years=1)
        m.start_year(1)
        s = m.staff
        fast, _ = behaviour.decide_exits(m.p, s, m.ctx, 5, 1, None, retiring=m.retiring.copy())
        m2 = TalentModel(sc, geography=geo, seed=5, years=1)
        m2.start_year(1)
        ref, _ = behaviour.decide_exits(m2.p, m2.staff, m2.ctx, 5, 1, None, retiring=m2.retiring.copy(),
                                                  thin=False)
        assert np.array_equal(fast, ref)
        upward = fast == behaviour.EXIT_CODES["upward"]
        assert (s.served[upward] >= y).all()
        assert (upward.sum() == 0) == (y == 45.0)


# ----------------------------------------------------------------------------- demand trend

@pytest.fixture(scope="module")
def demand_runs(baseline, table):
    kw = dict(years=4, replications=1, seed=20160701, table=table)
    return {g: simulator.simulate(scenarios.apply(baseline, {"demand.growth_per_year.education": g}), **kw)
            for g in (-0.05, 0.0, 0.05)}


def test_demand_follows_the_closed_form(demand_runs, table, baseline):
    res = demand_runs[-0.05]
    years = res.years
    d0 = float(table["demand_education_county"].sum() + table["demand_education_township"].sum())
    demand = _field_series(res, "demand", "education")
    for t, y in enumerate(years):
        assert demand.loc[y] == pytest.approx(d0 * 0.95 ** t, rel=1e-12, abs=0)
    # other fields keep the county table's demand, exactly
    base = demand_runs[0.0]
    for f in FIELDS:
        if f != "education":
            assert _field_series(res, "demand", f).equals(_field_series(base, "demand", f))
    # national demand = the other fields + education's trend
    nat = res.value("demand")
    other = base.value("demand") - _field_series(base, "demand", "education")
    assert np.allclose(nat.to_numpy(), (other + demand).to_numpy(), rtol=1e-12, atol=0)
    # authorized posts = round(authorized_share x demand_t) per unit (rounding is the simulator's)
    share = compile_params(baseline).authorized_share
    auth = _field_series(res, "authorized_posts", "education")
    for t, y in enumerate(years):
        expect = sum(np.rint(table[f"demand_education_{tier}"].to_numpy(float) * 0.95 ** t * share[k]).sum()
                     for k, tier in enumerate(TIERS))
        assert auth.loc[y] == expect
        assert abs(auth.loc[y] - d0 * 0.95 ** t) <= 0.5 * len(table) * len(TIERS)
    assert _field_series(base, "authorized_posts", "education").nunique() == 1


def test_falling_demand_raises_coverage_and_rising_demand_lowers_it(demand_runs):
    down, base, up = demand_runs[-0.05], demand_runs[0.0], demand_runs[0.05]
    later = base.years[1:]
    first = base.years[0]
    cov = {k: _field_series(r, "staff", "education") / _field_series(r, "demand", "education")
           for k, r in (("down", down), ("base", base), ("up", up))}
    assert cov["down"].loc[first] == cov["base"].loc[first] == cov["up"].loc[first]   # same start
    assert (cov["down"].loc[later] > cov["base"].loc[later]).all()
    assert (cov["up"].loc[later] < cov["base"].loc[later]).all()
    assert (down.value("coverage").loc[later] > base.value("coverage").loc[later]).all()
    vac = {k: _field_series(r, "vacancies", "education") for k, r in (("down", down), ("base", base), ("up", up))}
    assert (vac["down"].loc[later] < vac["base"].loc[later]).all()
    assert (vac["up"].loc[later] > vac["base"].loc[later]).all()
    # caps follow the authorized posts
    cap = {k: _field_series(r, "senior_cap_posts", "education") for k, r in (("down", down), ("base", base))}
    assert cap["down"].loc[base.years[-1]] < cap["base"].loc[base.years[-1]]


def test_demand_trend_same_in_agent_and_batch_bureaus(baseline, table):
    sc = scenarios.apply(baseline, {"demand.growth_per_year.education": -0.08, "demand.growth_per_year.health": 0.06})
    geo = geography_from_table(table)
    raws = [TalentModel(sc, geography=geo, seed=3, years=3, options=ModelOptions(bureau_mode=mode)).run()
            for mode in ("agents", "batch")]
    assert np.array_equal(raws[0], raws[1])


def test_allocation_caps_survive_the_yearly_replan(table):
    sc = scenarios.apply(scenarios.load("policy-2016"), {"demand.growth_per_year.health": -0.05,
                                                         "posts.dynamic_ratio": False})   # caps of the plan only
    cid = str(table["county_id"].iloc[0])
    alloc = pd.DataFrame([{"county_id": cid, "province": PROVINCE, "field": "health", "lever": "senior_post",
                           "quantity": 4.0, "cost_yuan": 0.0}])
    kw = dict(years=3, replications=1, seed=7, table=table, county_metrics=("senior_cap_posts",))
    with_a = simulator.simulate(sc, allocation=alloc, **kw).counties
    without = simulator.simulate(sc, **kw).counties

    def caps(c):
        c = c[(c.county_id == cid) & (c.field == "health") & (c.metric == "senior_cap_posts")]
        return c.set_index("year")["mean"]

    diff = caps(with_a) - caps(without)
    assert (diff.iloc[1:] == 4.0).all() and diff.iloc[0] == 0.0


def test_optimizer_allocates_against_the_horizon_average_of_the_trended_demand(baseline, table):
    import optimizer
    a = optimizer.from_scenario(baseline, table=table)
    sc = scenarios.apply(baseline, {"demand.growth_per_year.education": -0.1})
    b = optimizer.from_scenario(sc, table=table)
    H = int(sc.horizon.years)
    factor = np.mean(0.9 ** np.arange(1, H + 1))          # closed form: mean over the ends of years 1..H
    edu = a.field == "education"
    np.testing.assert_allclose(b.demand[edu], a.demand[edu] * factor, rtol=1e-12)
    assert np.array_equal(a.demand[~edu], b.demand[~edu])
    assert factor < 1 and b.gap[edu].sum() < a.gap[edu].sum()
