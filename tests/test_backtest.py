"""Backtest: the published figures as data, their validation, the table's arithmetic, and the outputs on a real run."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulator
from grassroots.studies import backtest as bt


def test_published_figures_load_with_sources_and_tolerances():
    figs, excluded = bt.load_published()
    assert len(figs) >= 14
    assert figs["id"].is_unique
    assert (figs["source"].str.len() > 10).all() and not figs["source"].str.contains("FACTS.md").any()
    assert (figs["tolerance"] > 0).all() and set(figs["role"]) <= set(bt.ROLES)
    # fitted and held-out years are both present; held out = after 2020
    assert (figs["year"] <= bt.FITTED_LAST_YEAR).any() and (figs["year"] > bt.FITTED_LAST_YEAR).any()
    # the special-post series of the issue is there
    spt = figs[(figs["output"] == "programme_recruits") & (figs["programme"] == "special_post_teachers")]
    assert spt.set_index("year")["value"].loc[2021:2025].tolist() == [84330.0, 67000.0, 52300.0, 37000.0, 21000.0]
    assert len(excluded) >= 1 and excluded["reason"].str.len().min() > 0


def test_history_scenario_cites_every_time_path_value():
    path = scenarios.loader.library_dir() / "history-2016-2025.toml"
    text = path.read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    sc = scenarios.load("history-2016-2025")
    assert sc.horizon.start_year == 2016 and sc.horizon.years == 9
    for key, years in doc["timeline"].items():
        block = text.split(f'[timeline."{key}"]')[1].split("[")[0]
        for y in years:
            line = next(ln for ln in block.splitlines() if ln.strip().startswith(f"{y} ="))
            assert "#" in line, f"{key} {y}: no source comment"
    assert sc.timeline["titles.tilted_standards"][2017] is True


@pytest.mark.parametrize("change, expect", [
    ({"output": "nope"}, "figure[0].output: 'nope' is not allowed"),
    ({"tolerance": 0.0}, "figure[0].tolerance: 0.0 is not allowed"),
    ({"field": "law"}, "figure[0].field: 'law' is not allowed"),
    ({"role": "guess"}, "figure[0].role: 'guess' is not allowed"),
    ({"colour": "red"}, "figure[0].colour: unknown key"),
])
def test_bad_published_figure_is_one_line_naming_the_key(change, expect):
    fig = {"id": "a", "value": 1.0, "year": 2018, "unit": "persons", "definition": "d", "source": "s",
           "tolerance": 0.1, "output": "township_staff", "field": "health", "role": "outcome"}
    fig.update(change)
    with pytest.raises(bt.PublishedError) as e:
        bt.parse_published({"figure": [fig]}, "p.toml")
    assert any(line.startswith("p.toml: ") and expect in line for line in e.value.problems), e.value.problems


def test_backtest_table_arithmetic_known_answer():
    figs = pd.DataFrame([
        {"id": "a", "value": 100.0, "year": 2018, "unit": "u", "source": "s", "tolerance": 10.0, "output": "o", "role": "outcome"},
        {"id": "b", "value": 100.0, "year": 2023, "unit": "u", "source": "s", "tolerance": 10.0, "output": "o", "role": "input-check"},
    ])
    t = bt.backtest_table({"a": [95.0, 105.0, 100.0], "b": [111.0, 111.0]}, figs)
    assert list(t.columns[:10]) == ["figure", "year", "source", "published", "simulated", "p05", "p95", "tolerance",
                                    "within", "held_out"]
    assert t["simulated"].tolist() == [100.0, 111.0]
    assert t["within"].tolist() == [True, False] and t["held_out"].tolist() == [False, True]
    assert t.loc[0, "p05"] == pytest.approx(95.5) and t.loc[0, "p95"] == pytest.approx(104.5)
    s = bt.summary(t).set_index(["period", "role"])
    assert s.loc[("all", "all"), "within"] == 1 and s.loc[("held out 2021-2025", "input-check"), "figures"] == 1


def test_outputs_on_a_small_history_run():
    """Every output kind evaluates on a real (one-province) run; counts are consistent with the records."""
    sc = scenarios.apply(scenarios.load("history-2016-2025"), {}, label="test")
    res = simulator.simulate(sc, provinces=["62"], years=9, replications=1, seed=3, keep_records=True,
                             county_metrics=("staff",))
    figs, _ = bt.load_published()
    from simulator.params import REGIONS, as_params
    table = simulator.replicate.resolve_table(sc, ["62"], None)
    run = bt._Run(res.replication_records[0].raw, as_params(sc), table["region"].map(
        {r: i for i, r in enumerate(REGIONS)}).to_numpy())
    vals = {f["id"]: bt.figure_value(run, f) for f in figs.to_dict("records")}
    assert all(np.isfinite(v) for k, v in vals.items() if k != "special_post_teachers.fill_share.2018")
    rec = res.summary[(res.summary.metric == "recruits_special_post_teachers") & (res.summary.year == 2021)]["mean"].item()
    assert vals["special_post_teachers.recruits.2021"] == rec
    assert 0 < vals["special_post_teachers.counties.2021"] <= len(table)
    assert vals["sanzhi_yifu.central_west_share.2017"] == 1.0          # Gansu is western
    assert 0 < vals["free_medical_students.completion.2025"] <= 1
    assert 0 < vals["health.township_exit_rate.2005"] < 0.3


def test_backtest_command_bad_input_exits_2_one_line_per_problem(tmp_path):
    from grassroots import cli
    bad = tmp_path / "pub.toml"
    bad.write_text('[[figure]]\nid = "x"\nvalue = 1.0\nyear = 2018\nunit = "u"\ndefinition = "d"\nsource = "s"\n'
                   'tolerance = -1.0\noutput = "coverage"\nfield = "health"\nrole = "outcome"\n', encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "grassroots", "backtest", "--province", "62", "--published", str(bad),
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("--province") and "figure[0].tolerance" in lines[1]


def test_backtest_command_writes_the_table(tmp_path):
    """The whole command, nationally, one replication (about 30 s)."""
    from grassroots import cli
    out = tmp_path / "bt"
    assert cli.main(["backtest", "--replications", "1", "--out", str(out), "--quiet"]) == 0
    t = pd.read_csv(out / "backtest.csv")
    assert list(t.columns[:10]) == ["figure", "year", "source", "published", "simulated", "p05", "p95", "tolerance",
                                    "within", "held_out"]
    figs, _ = bt.load_published()
    assert len(t) == len(figs) and t["simulated"].notna().sum() >= len(figs) - 1
    assert (out / "report.html").exists() and (out / "backtest.png").exists()
    s = pd.read_csv(out / "backtest-summary.csv")
    assert set(s["period"]) == {"all", "fitted 2017-2020", "held out 2021-2025"}
