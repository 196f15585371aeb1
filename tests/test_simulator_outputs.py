"""The result tables of ``simulator.simulate`` and the folder written by ``grassroots run``."""

from __future__ import annotations

import argparse
import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulator
import simtables
from simulator import metrics
from simulator.params import FIELDS

PROVINCE = "64"


def small_table(n: int = 5, scale: float = 0.5):
    return simtables.small_table(n, scale, PROVINCE)


@pytest.fixture(scope="module")
def result():
    return simulator.simulate(scenarios.load("policy-2016"), years=3, replications=3, seed=4, table=small_table())


def test_table_columns_and_years(result):
    assert list(result.summary.columns) == ["scenario", "year", "metric", "mean", "p05", "p95"]
    assert list(result.counties.columns) == ["scenario", "county_id", "province", "field", "year", "metric",
                                             "mean", "p05", "p95"]
    assert list(result.replications.columns) == ["scenario", "replication", "year", "metric", "value"]
    assert list(result.provinces.columns) == ["scenario", "province", "year", "metric", "mean", "p05", "p95"]
    assert result.years == [2016, 2017, 2018, 2019]
    assert sorted(result.summary.year.unique()) == result.years
    assert set(result.summary.metric) == set(simulator.METRIC_NAMES)
    assert set(result.counties.metric.astype(str)) == set(simulator.CELL_METRIC_NAMES)
    assert len(result.counties) == 5 * len(FIELDS) * 4 * len(simulator.CELL_METRIC_NAMES)
    assert len(result.replications) == 3 * 4 * len(simulator.METRIC_NAMES)
    assert result.scenario == "policy-2016" and len(result.scenario_sha256) == 64
    assert result.seeds == simulator.replication_seeds(4, 3)
    assert (result.summary.p05 <= result.summary["mean"] + 1e-9).all() or result.summary["mean"].isna().any()


def _summary(result, metric, year):
    return result.summary.set_index(["metric", "year"]).loc[(metric, year)]


def test_initial_year_is_the_state_with_no_flows(result):
    y0 = result.years[0]
    for m in ("recruits", "exits", "cost_yuan", "promotions_senior", "flexible_fte", "appointments_blocked_by_caps"):
        assert _summary(result, m, y0)["mean"] == 0
    assert _summary(result, "staff", y0)["mean"] == small_table()[[f"staff_{f}" for f in FIELDS]].to_numpy().sum()
    assert _summary(result, "demand", y0)["mean"] == small_table()[[f"demand_{f}" for f in FIELDS]].to_numpy().sum()


def test_national_rows_are_sums_and_ratios_of_sums(result):
    c = result.counties
    reps = result.replications.pivot_table(index=["replication", "year"], columns="metric", values="value")
    # ratios recomputed from sums, per replication
    np.testing.assert_allclose(reps["coverage"], reps["staff"] / reps["demand"])
    np.testing.assert_allclose(reps["turnover_rate"].xs(2018, level="year"),
                               ((reps["exits"] - reps["exits_retirement"]) / reps["staff_start"]).xs(2018, level="year"))
    np.testing.assert_allclose(reps["mean_skill"].notna(), True)
    # summary mean = mean over replications; counts add up over counties and fields
    for m in ("staff", "recruits", "exits", "cost_yuan", "vacancies"):
        for y in result.years:
            total = c[(c.metric == m) & (c.year == y)]["mean"].sum()
            assert total == pytest.approx(_summary(result, m, y)["mean"], rel=1e-9, abs=1e-6)
            assert reps[m].xs(y, level="year").mean() == pytest.approx(_summary(result, m, y)["mean"], rel=1e-12)
    # area metrics: only national and provincial rows
    assert not c.metric.astype(str).isin(["coverage_gini", "share_counties_below_80pct"]).any()
    g = _summary(result, "coverage_gini", 2019)["mean"]
    assert 0 <= g < 1
    p = result.provinces.set_index(["metric", "year"]).loc[("coverage_gini", 2019)]["mean"]
    assert p == pytest.approx(g)  # one province: the same counties


def test_gini_and_share_below_80pct_known_values():
    staff = np.array([[10.0], [20.0], [30.0], [0.0]])
    demand = np.array([[10.0], [40.0], [30.0], [0.0]])       # coverage 1, 0.5, 1; the last county has no demand
    gini, share = metrics.area_metrics(staff, demand)
    x = np.array([0.5, 1.0, 1.0])
    expected = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini[0] == pytest.approx(expected)
    assert share[0] == pytest.approx(1 / 3)


def test_metric_registry_is_complete_and_documented():
    names = [m.name for m in metrics.METRICS]
    assert len(names) == len(set(names))
    for m in metrics.METRICS:
        assert m.unit and m.meaning and m.kind in ("stock", "flow", "ratio", "area")
    for required in ("staff", "demand", "coverage", "vacancies", "recruits", "exits", "turnover_rate",
                     "senior_share", "mean_skill", "cost_yuan", "coverage_gini", "share_counties_below_80pct",
                     "flexible_fte", "appointments_blocked_by_caps", "exits_city", "exits_other_sector",
                     "exits_upward", "exits_breach", "exits_term_end", "exits_retirement", "recruits_open",
                     "recruits_special_post", "cost_township_subsidy_yuan", "cost_payer_central_yuan",
                     "promotions_intermediate", "promotions_senior", "promotions_directed_senior"):
        assert required in names, required
    for p in simulator.params.PROGRAMMES:
        assert f"recruits_{p}" in names and f"cost_programme_{p}_yuan" in names


def test_checkpoint_resume_reuses_finished_replications(tmp_path):
    sc = scenarios.load("baseline")
    table = small_table(3)
    first = simulator.simulate(sc, years=2, replications=3, seed=8, table=table, checkpoint=tmp_path / "ck")
    assert first.reused_replications == 0
    assert len(list((tmp_path / "ck").glob("*.npz"))) == 3
    again = simulator.simulate(sc, years=2, replications=3, seed=8, table=table, checkpoint=tmp_path / "ck")
    assert again.reused_replications == 3
    assert again.summary.equals(first.summary)
    # another scenario in the same folder does not reuse the first one's replications
    other = simulator.simulate(scenarios.apply(sc, {"pay.township_subsidy": True}), years=2, replications=3,
                               seed=8, table=table, checkpoint=tmp_path / "ck")
    assert other.reused_replications == 0


def _args(**kw):
    base = dict(scenario="baseline", province=[PROVINCE], years=2, replications=2, seed=3, workers=1, out=None,
                quiet=True)
    base.update(kw)
    return argparse.Namespace(**base)


def test_grassroots_run_writes_the_result_folder(tmp_path, capsys):
    from grassroots.cli import run as cmd_run
    out = tmp_path / "r1"
    assert cmd_run.run(_args(out=str(out))) == 0
    assert capsys.readouterr().out.strip() == str(out)
    for name in ("manifest.json", "summary.csv", "counties.csv.gz", "provinces.csv", "replications.csv.gz",
                 "metrics.csv"):
        assert (out / name).exists(), name
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"] == "baseline" and len(man["scenario_sha256"]) == 64
    assert man["seed"] == 3 and man["replication_seeds"] == simulator.replication_seeds(3, 2)
    assert man["years"] == 2 and man["provinces"] == [PROVINCE] and man["start_year"] == 2016
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scenario", "year", "metric", "mean", "p05", "p95"]
    counties = pd.read_csv(io.BytesIO(gzip.decompress((out / "counties.csv.gz").read_bytes())), dtype={"county_id": str, "province": str})
    assert counties.county_id.nunique() == 22 and set(counties.field) == set(FIELDS)
    assert not list(tmp_path.glob(".cache/run-*"))          # checkpoints removed once the folder is in place
    # same command again: a new folder with the same numbers
    out2 = tmp_path / "r2"
    assert cmd_run.run(_args(out=str(out2))) == 0
    assert (out2 / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_grassroots_run_rejects_bad_input_before_writing(tmp_path):
    from grassroots.cli import run as cmd_run
    with pytest.raises(ValueError) as e:
        cmd_run.run(_args(out=str(tmp_path / "bad"), province=["99"], replications=0))
    assert len(e.value.problems) == 2
    assert not (tmp_path / "bad").exists()


def test_chunked_csv_writer_gives_the_text_of_to_csv(result):
    from grassroots.results import csv_gz_bytes
    for df in (result.counties, result.summary, result.replications, result.provinces):
        text = gzip.decompress(csv_gz_bytes(df, rows_per_chunk=777)).decode("utf-8")
        assert text == df.to_csv(index=False, lineterminator="\n")
