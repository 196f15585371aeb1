"""Internal moves (simulator.mobility): conservation, a known answer, the levers' directions, the flows table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scenarios
import simulator
import simtables
from simulator.metrics import RAW_INDEX
from simulator.model import ModelOptions, TalentModel
from simulator.params import NF, compile_params

SEED = 20161126


def paired_interval(diff: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Two-sided t interval of the mean of paired differences (one per replication, common random numbers)."""
    n = len(diff)
    m, se = float(np.mean(diff)), float(np.std(diff, ddof=1) / np.sqrt(n))
    h = stats.t.ppf(0.5 + level / 2, n - 1) * se
    return m - h, m + h


def per_rep_total(res, metric: str) -> np.ndarray:
    """Sum over simulated years of a national flow metric, one value per replication."""
    r = res.replications
    r = r[(r["metric"] == metric) & (r["year"] > res.years[0])]
    return r.groupby("replication")["value"].sum().to_numpy()


@pytest.fixture(scope="module")
def table():
    return simtables.small_table(10, 0.5, "36")    # Jiangxi: 10 counties at half size


# ----------------------------------------------------------------------------- known answer

def test_fixed_move_probability_matches_the_markov_chain():
    """Two units per county and field (township, county seat), no exits or recruitment, a constant township ->
    seat probability q: E[township staff at t] = N0 (1 - q)^t (an absorbing two-state Markov chain), and the
    seat gains exactly what the township loses.  Tolerance: 4 binomial standard deviations."""
    sc = scenarios.apply(scenarios.load("baseline"), {"mobility.min_service_years_township": 0.0})
    tab = simtables.small_table(4, 1.0, "64")
    q, years = 0.08, 6
    opt = ModelOptions(fixed_exit_hazard=0.0, retirement=False, recruitment=False, fixed_move_prob=q)
    m = TalentModel(sc, tab, seed=SEED, years=years, options=opt)
    raw = m.run()
    town = raw[RAW_INDEX["township_staff"]].sum(axis=0)
    staff = raw[RAW_INDEX["staff"]].sum(axis=0)
    n0 = town[0]
    for t in range(1, years + 1):
        p = (1 - q) ** t
        assert abs(town[t] - n0 * p) <= 4 * np.sqrt(n0 * p * (1 - p)), (t, town[t], n0 * p)
        assert staff[t] == staff[0]                                      # nobody enters or leaves
    moved = raw[RAW_INDEX["moves_township_to_seat"]].sum(axis=0)
    np.testing.assert_array_equal(town[:-1] - town[1:], moved[1:])       # every township loss is a seat gain
    assert raw[RAW_INDEX["moves_out"]].sum() == 0


# ----------------------------------------------------------------------------- conservation, national

def test_people_conserved_nationally_and_moves_sum_to_zero(table):
    res = simulator.simulate("policy-2016", years=4, replications=1, seed=3, table=table, keep_records=True)
    raw = res.replication_records[0].raw
    tot = lambda k: raw[RAW_INDEX[k]].sum(axis=0)  # noqa: E731
    np.testing.assert_array_equal(tot("staff")[1:], tot("staff")[:-1] + tot("recruits")[1:] - tot("exits")[1:])
    np.testing.assert_array_equal(tot("net_moves"), 0)
    np.testing.assert_array_equal(tot("moves_in"), tot("moves_out"))
    assert tot("moves_township_to_seat")[1:].min() > 0
    # the flow rows add up to the metrics
    f = res.replication_records[0].flows
    internal = f[f[:, 2] <= 1]
    assert internal[:, 4].sum() == tot("moves_township_to_seat").sum() + tot("moves_out").sum()


def test_moves_off_means_no_moves(table):
    sc = scenarios.apply(scenarios.load("baseline"), {"mobility.internal_moves": False})
    res = simulator.simulate(sc, years=2, replications=1, seed=1, table=table)
    for m in ("moves_township_to_seat", "moves_out", "move_applicants"):
        assert res.value(m, res.years[-1]) == 0


# ----------------------------------------------------------------------------- directions (paired, CRN)

def test_tripling_the_township_subsidy_lowers_township_to_seat_moves(table):
    """Same seeds (common random numbers): each replication's difference is paired; the 95% interval of the
    mean difference of township -> county-seat moves over 5 years lies below zero."""
    base = scenarios.load("policy-2016")
    triple = scenarios.apply(base, {"pay.township_subsidy_by_band": [3 * x for x in base.pay.township_subsidy_by_band],
                                    "pay.township_subsidy_remote_extra": 3 * base.pay.township_subsidy_remote_extra})
    a = simulator.simulate(base, years=5, replications=6, seed=SEED, table=table)
    b = simulator.simulate(triple, years=5, replications=6, seed=SEED, table=table)
    lo, hi = paired_interval(per_rep_total(b, "moves_township_to_seat") - per_rep_total(a, "moves_township_to_seat"))
    assert hi < 0, (lo, hi)


def test_removing_the_cross_county_barriers_raises_cross_county_moves(table):
    base = scenarios.load("baseline")
    open_ = scenarios.apply(base, {"mobility.barrier_reduction": 1.0})
    a = simulator.simulate(base, years=5, replications=6, seed=SEED, table=table)
    b = simulator.simulate(open_, years=5, replications=6, seed=SEED, table=table)
    lo, hi = paired_interval(per_rep_total(b, "moves_out") - per_rep_total(a, "moves_out"))
    assert lo > 0, (lo, hi)


def test_minimum_service_rule_lowers_township_moves(table):
    base = scenarios.load("baseline")
    free = scenarios.apply(base, {"mobility.min_service_years_township": 0.0})
    a = simulator.simulate(base, years=3, replications=4, seed=SEED, table=table)
    b = simulator.simulate(free, years=3, replications=4, seed=SEED, table=table)
    assert (per_rep_total(b, "move_applicants") > per_rep_total(a, "move_applicants")).all()


def test_baseline_townships_lose_staff_to_county_seats_every_year_in_every_province():
    """Four counties of every province (a third of their size), baseline, 4 years: township -> county-seat moves
    are positive in every province and year, and every province's townships lose staff to moves on net."""
    full = scenarios.county_table()
    parts = []
    for _, g in full.groupby("province", sort=True):
        parts.append(g.head(4))
    sample = pd.concat(parts)
    tab = simtables.scaled(sample, 1 / 3)
    res = simulator.simulate("baseline", years=4, replications=1, seed=SEED, table=tab)
    pv = res.provinces
    moves = pv[(pv["metric"] == "moves_township_to_seat") & (pv["year"] > res.years[0])]
    assert moves["province"].nunique() == 31
    assert (moves["mean"] > 0).all(), moves[moves["mean"] <= 0]


# ----------------------------------------------------------------------------- outputs

def test_flows_table_matches_the_metrics(table):
    res = simulator.simulate("baseline", years=3, replications=2, seed=5, table=table)
    f = res.flows
    assert list(f.columns) == simulator.replicate.FLOW_COLUMNS
    assert set(f["destination"]) <= {"county_seat", "other_county", "prefecture_province", "city", "other_sector"}
    seat = f[f["destination"] == "county_seat"]
    assert (seat["origin_tier"] == "township").all()
    assert (seat["origin_county"] == seat["destination_county"]).all()
    other = f[f["destination"] == "other_county"]
    assert (other["origin_county"] != other["destination_county"]).all()
    # mean over replications of the national sum = the summary's mean (both are means of per-replication sums)
    for year in res.years[1:]:
        got = seat[seat["year"] == year]["persons"].sum()
        assert got == pytest.approx(res.value("moves_township_to_seat", year), rel=1e-12)
        city = f[(f["destination"] == "city") & (f["year"] == year)]["persons"].sum()
        assert city == pytest.approx(res.value("exits_city", year), rel=1e-12)
    assert (f["p05"] <= f["persons"] + 1e-12).all() and (f["persons"] <= f["p95"] + 1e-12).all()
    # net flow per county is in the county table
    assert "net_moves" in set(res.counties["metric"].astype(str))


def test_calibrated_move_rates_are_near_the_published_targets():
    """Year-1 township -> county-seat move rates on the calibration provinces (simulator.calibrate_moves) are
    within the published figure's tolerance (scenarios/data/published-mobility.toml) of the targets."""
    from simulator.calibrate_moves import PROVINCES
    import tomllib
    from pathlib import Path
    pub = tomllib.loads((Path(scenarios.__file__).parent / "data" / "published-mobility.toml").read_text("utf-8"))
    p = compile_params(scenarios.load("baseline"))
    assert p.move_rate_target[4] == pytest.approx(pub["thc_to_higher_level_rate"]["value"])
    tab = scenarios.county_table(provinces=list(PROVINCES))
    res = simulator.simulate(p, years=1, replications=2, seed=SEED, table=tab, keep_records=True)
    seat = np.zeros(NF)
    start = np.zeros(NF)
    for rep in res.replication_records:
        raw = rep.raw[:, :, 1].reshape(rep.raw.shape[0], -1, NF)
        seat += raw[RAW_INDEX["moves_township_to_seat"]].sum(axis=0) + raw[RAW_INDEX["moves_township_to_other_county"]].sum(axis=0)
        start += raw[RAW_INDEX["township_staff_start"]].sum(axis=0)
    rate = seat / start
    tol = pub["thc_to_higher_level_rate"]["tolerance"]
    np.testing.assert_allclose(rate, p.move_rate_target, atol=tol)


def test_flows_identical_serial_and_parallel(table):
    a = simulator.simulate("lever-mobility", years=2, replications=2, seed=9, table=table, workers=1)
    b = simulator.simulate("lever-mobility", years=2, replications=2, seed=9, table=table, workers=2)
    pd.testing.assert_frame_equal(a.flows, b.flows)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_run_writes_flows_and_the_report_shows_them(tmp_path, capsys):
    from grassroots import cli
    out = tmp_path / "run"
    assert cli.main(["run", "baseline", "--province", "64", "--years", "2", "--replications", "2",
                     "--out", str(out), "--quiet"]) == 0
    flows = pd.read_parquet(out / "flows.parquet")
    assert list(flows.columns) == simulator.FLOW_COLUMNS
    summary = pd.read_csv(out / "summary.csv")
    s = summary[(summary["metric"] == "moves_township_to_seat") & (summary["year"] == 2018)]["mean"].iloc[0]
    got = flows[(flows["destination"] == "county_seat") & (flows["year"] == 2018)]["persons"].sum()
    assert got == pytest.approx(s, rel=1e-9)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Talent flows" in html and (out / "figures" / "flows.png").exists()
