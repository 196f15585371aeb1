"""Global sensitivity: known indices on analytic functions through the study code path, parameter checks, resuming."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("SALib")

import scenarios
from grassroots import cli
from grassroots.studies import sensitivity as sa
from grassroots.studies.executors import ProcessExecutor, SerialExecutor

PI = math.pi
ISHIGAMI_PARAMS = [sa.Parameter(f"x{i}", -PI, PI) for i in (1, 2, 3)]


def _index(df, index):
    return df[df["index"] == index].set_index("param")["value"].reindex(["x1", "x2", "x3"]).to_numpy()


# ----------------------------------------------------------------------------- known answers

@pytest.fixture(scope="module")
def ishigami_study():
    return sa.Study(ISHIGAMI_PARAMS, "sobol", 1024, model=sa.ishigami, seed=1).run()


def test_ishigami_sobol_indices_match_known_values(ishigami_study):
    df = ishigami_study.indices_
    assert list(df.columns) == ["metric", "param", "index", "value", "conf"]
    assert set(df["metric"]) == {"y"}
    assert len(ishigami_study.X_) == 1024 * (3 + 2)
    np.testing.assert_allclose(_index(df, "S1"), sa.ISHIGAMI_S1, atol=0.05)
    np.testing.assert_allclose(_index(df, "ST"), sa.ISHIGAMI_ST, atol=0.05)
    # the bootstrap intervals are real intervals that cover the known values here
    conf = df.set_index(["index", "param"])["conf"]
    assert (conf > 0).all() and (conf < 0.15).all()
    for idx, truth in (("S1", sa.ISHIGAMI_S1), ("ST", sa.ISHIGAMI_ST)):
        err = np.abs(_index(df, idx) - np.array(truth))
        assert (err <= conf.loc[idx].reindex(["x1", "x2", "x3"]).to_numpy()).all()


def test_ishigami_ranking_and_interaction(ishigami_study):
    df = ishigami_study.indices_
    assert sa.ranking(df, "y", "ST") == ["x1", "x2", "x3"]
    s1, st = _index(df, "S1"), _index(df, "ST")
    assert st[2] - s1[2] > 0.2          # x3 acts only through its interaction with x1
    assert abs(st[1] - s1[1]) < 0.05    # x2 acts alone


def test_sobol_second_order_finds_the_x1_x3_interaction():
    st = sa.Study(ISHIGAMI_PARAMS, "sobol", 512, model=sa.ishigami, seed=2, second_order=True).run()
    s2 = st.indices_[st.indices_["index"] == "S2"].set_index("param")["value"]
    assert set(s2.index) == {"x1:x2", "x1:x3", "x2:x3"}
    assert s2["x1:x3"] == pytest.approx(0.244, abs=0.08)
    assert abs(s2["x1:x2"]) < 0.08 and abs(s2["x2:x3"]) < 0.08


def test_morris_on_a_linear_model_is_exact_and_ranks():
    coef = {"a": 3.0, "b": -1.0, "c": 0.5, "d": 0.0}
    params = [sa.Parameter("a", 0.0, 1.0), sa.Parameter("b", 0.0, 2.0), sa.Parameter("c", -1.0, 1.0), sa.Parameter("d", 0.0, 5.0)]
    st = sa.Study(params, "morris", 20, model=sa.linear, options={"coef": coef}, seed=3).run()
    df = st.indices_
    assert len(st.X_) == 20 * 5
    mu_star = df[df["index"] == "mu_star"].set_index("param")["value"]
    sigma = df[df["index"] == "sigma"].set_index("param")["value"]
    expected = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.0}   # |coef| x (high - low)
    for k, v in expected.items():
        assert mu_star[k] == pytest.approx(v, abs=1e-9)
        assert sigma[k] == pytest.approx(0.0, abs=1e-9)
    assert sa.ranking(df, "y", "mu_star") == ["a", "b", "c", "d"]
    mu = df[df["index"] == "mu"].set_index("param")["value"]
    assert mu["b"] == pytest.approx(-2.0, abs=1e-9)     # the sign survives in mu


def test_morris_screens_ishigami():
    st = sa.Study(ISHIGAMI_PARAMS, "morris", 100, model=sa.ishigami, seed=4).run()
    df = st.indices_
    sigma = df[df["index"] == "sigma"].set_index("param")["value"]
    mu_star = df[df["index"] == "mu_star"].set_index("param")["value"]
    assert (mu_star > 1.0).all()                  # every input matters
    assert sigma["x3"] > mu_star["x3"] * 0.8      # x3: interaction, effects of both signs


def test_same_seed_same_study_different_seed_different_sample():
    a = sa.Study(ISHIGAMI_PARAMS, "sobol", 64, model=sa.ishigami, seed=5).run()
    b = sa.Study(ISHIGAMI_PARAMS, "sobol", 64, model=sa.ishigami, seed=5).run()
    c = sa.Study(ISHIGAMI_PARAMS, "sobol", 64, model=sa.ishigami, seed=6).run()
    pd.testing.assert_frame_equal(a.indices_, b.indices_)
    pd.testing.assert_frame_equal(a.samples_, b.samples_)
    assert not np.array_equal(a.X_, c.X_)


def test_processes_give_the_serial_answer():
    serial = sa.Study(ISHIGAMI_PARAMS, "sobol", 32, model=sa.ishigami, seed=7).run(executor=SerialExecutor())
    with ProcessExecutor(2) as ex:
        parallel = sa.Study(ISHIGAMI_PARAMS, "sobol", 32, model=sa.ishigami, seed=7).run(executor=ex)
    pd.testing.assert_frame_equal(serial.samples_, parallel.samples_, check_exact=True)
    pd.testing.assert_frame_equal(serial.indices_, parallel.indices_, check_exact=True)


def test_constant_metric_gives_undefined_sobol_indices_not_a_crash():
    params = [sa.Parameter("a", 0.0, 1.0), sa.Parameter("b", 0.0, 1.0)]
    st = sa.Study(params, "sobol", 16, model=sa.linear, options={"coef": {"a": 0.0}}, seed=1).run()
    assert st.indices_["value"].isna().all()


# ----------------------------------------------------------------------------- resuming

class _StopAfter(Exception):
    pass


def test_interrupted_study_resumes_from_cached_points(tmp_path):
    key = {"test": "resume"}
    full = sa.Study(ISHIGAMI_PARAMS, "sobol", 16, model=sa.ishigami, seed=8).run()
    n = len(full.X_)

    def stop_at_30(done, total, reused):
        if done >= 30:
            raise _StopAfter

    cache = sa.PointCache.for_study(tmp_path / ".cache", "sensitivity", key)
    with pytest.raises(_StopAfter):
        sa.Study(ISHIGAMI_PARAMS, "sobol", 16, model=sa.ishigami, seed=8).run(cache=cache, progress=stop_at_30)
    assert len(list((cache.folder / "points").glob("*.json"))) == 30
    # no half-written point files
    assert not list((cache.folder / "points").glob(".*tmp*"))

    seen = []
    resumed = sa.Study(ISHIGAMI_PARAMS, "sobol", 16, model=sa.ishigami, seed=8).run(
        cache=sa.PointCache.for_study(tmp_path / ".cache", "sensitivity", key),
        progress=lambda d, t, r: seen.append((d, t, r)))
    assert resumed.points_reused_ == 30
    assert seen[0] == (30, n, 30) and seen[-1] == (n, n, 30)
    pd.testing.assert_frame_equal(resumed.samples_, full.samples_, check_exact=True)
    pd.testing.assert_frame_equal(resumed.indices_, full.indices_, check_exact=True)
    cache.remove()
    assert not cache.folder.exists() and not (tmp_path / ".cache").exists()


def test_cache_ignores_points_of_another_study(tmp_path):
    st = sa.Study(ISHIGAMI_PARAMS, "sobol", 8, model=sa.ishigami, seed=9)
    cache = sa.PointCache(tmp_path / "c", st.cache_key())
    st.run(cache=cache)
    # a different seed is a different study: its key differs, so the same folder is reset, not reused
    other = sa.Study(ISHIGAMI_PARAMS, "sobol", 8, model=sa.ishigami, seed=10)
    other.run(cache=sa.PointCache(tmp_path / "c", other.cache_key()))
    assert other.points_reused_ == 0
    assert sa.PointCache.digest(st.cache_key()) != sa.PointCache.digest(other.cache_key())
    # a tampered point (changes differ) is recomputed
    p = sorted((tmp_path / "c" / "points").glob("*.json"))[0]
    rec = json.loads(p.read_text())
    rec["changes"]["x1"] += 1.0
    p.write_text(json.dumps(rec))
    again = sa.Study(ISHIGAMI_PARAMS, "sobol", 8, model=sa.ishigami, seed=10)
    again.run(cache=sa.PointCache(tmp_path / "c", again.cache_key()))
    assert again.points_reused_ == len(again.X_) - 1
    pd.testing.assert_frame_equal(again.indices_, other.indices_)


# ----------------------------------------------------------------------------- parameters

@pytest.fixture(scope="module")
def baseline():
    return scenarios.load("baseline")


def test_default_parameters_are_valid_numeric_keys_bracketing_the_baseline(baseline):
    params = sa.parse_params(None, baseline)
    assert len(params) == 8
    leaves = scenarios.leaf_paths()
    for p in params:
        assert p.why, p.key
        if p.shift:
            assert p.low < 0 < p.high
            continue
        assert leaves[p.key][0] in (int, float)
        assert p.low < scenarios.get_path(baseline, p.key) < p.high, p.key
    for name in ("policy-2016", "west-priority"):
        assert len(sa.parse_params([], scenarios.load(name))) == 8


def test_parse_param_accepts_value_and_shift(baseline):
    p = sa.parse_param("behaviour.income_coef=0.2:0.5", baseline)
    assert (p.key, p.low, p.high, p.shift, p.integer) == ("behaviour.income_coef", 0.2, 0.5, False, False)
    s = sa.parse_param("behaviour.exit_intercept.*=-0.5:0.5", baseline)
    assert s.shift and s.prefix == "behaviour.exit_intercept"
    i = sa.parse_param("population.retirement_age=55:65", baseline)
    assert i.integer
    base = scenarios.to_dict(baseline)
    ch = sa.changes_for_point([p, s, i], [0.3, 0.25, 57.6], base)
    assert ch["behaviour.income_coef"] == 0.3
    assert ch["population.retirement_age"] == 58 and isinstance(ch["population.retirement_age"], int)
    for f in scenarios.FIELDS:
        assert ch[f"behaviour.exit_intercept.{f}"] == pytest.approx(baseline.behaviour.exit_intercept[f] + 0.25)
    before = baseline.behaviour.exit_intercept["health"]
    applied = scenarios.apply(baseline, ch)
    assert applied.behaviour.exit_intercept["health"] == pytest.approx(before + 0.25)
    assert baseline.behaviour.exit_intercept["health"] == before     # the base is untouched


@pytest.mark.parametrize("text, fragment", [
    ("behaviour.incom_coef=0.2:0.5", "unknown key (did you mean behaviour.income_coef"),
    ("behaviour.income_coef=0.5:0.2", "LOW must be below HIGH"),
    ("behaviour.income_coef=0.3:0.3", "LOW must be below HIGH"),
    ("behaviour.income_coef=0.2:9", "9.0 is out of range (allowed: 0 to 5"),
    ("behaviour.breach_rate=-0.1:0.5", "out of range (allowed: 0.0 to 1.0"),
    ("behaviour.income_coef", "expected KEY=LOW:HIGH"),
    ("behaviour.income_coef=0.2", "is not LOW:HIGH"),
    ("behaviour.income_coef=a:b", "is not LOW:HIGH"),
    ("behaviour.income_coef=0.1:nan", "is not LOW:HIGH"),
    ("pay.township_subsidy=0:1", "not a numeric parameter"),
    ("titles.pass_rate.senior=0.1:0.2", "unknown key"),
    ("behaviour.exit_intercept.*=-20:0", "out of range"),
    ("nosuch.*=0:1", "no numeric keys under 'nosuch'"),
    ("population.retirement_age=60.1:60.3", "rounds to one value"),
])
def test_bad_param_is_one_clear_line(baseline, text, fragment):
    with pytest.raises(sa.SensitivityInputError) as e:
        sa.parse_params([text], baseline)
    assert len(e.value.problems) == 1
    line = e.value.problems[0]
    assert fragment in line, line
    assert line.startswith("--param ")
    assert text.split("=")[0] in line


def test_every_bad_param_is_reported_together(baseline):
    with pytest.raises(sa.SensitivityInputError) as e:
        sa.parse_params(["x.y=0:1", "behaviour.income_coef=1:0", "behaviour.breach_rate=0.01:0.02",
                         "behaviour.breach_rate=0.02:0.03"], baseline)
    assert len(e.value.problems) == 3
    assert "given twice" in e.value.problems[2]


def test_shift_and_member_key_overlap_is_refused(baseline):
    with pytest.raises(sa.SensitivityInputError, match="overlaps"):
        sa.parse_params(["behaviour.exit_intercept.*=-0.5:0.5", "behaviour.exit_intercept.health=-3:-2"], baseline)


def test_study_settings_are_checked():
    with pytest.raises(sa.SensitivityInputError, match="power of 2.*e.g. 64 or 128"):
        sa.Study(ISHIGAMI_PARAMS, "sobol", 100, model=sa.ishigami)
    with pytest.raises(sa.SensitivityInputError, match="--method"):
        sa.Study(ISHIGAMI_PARAMS, "fast", 64, model=sa.ishigami)
    with pytest.raises(sa.SensitivityInputError, match="at least 2 parameters"):
        sa.Study(ISHIGAMI_PARAMS[:1], "sobol", 64, model=sa.ishigami)
    assert sa.Study(ISHIGAMI_PARAMS[:1], "morris", 10, model=sa.ishigami).n_points() == 20


def test_cli_bad_param_exits_2_with_one_line_each(capsys, tmp_path):
    out = tmp_path / "out"
    rc = cli.main(["sensitivity", "baseline", "--method", "sobol", "--samples", "8",
                   "--param", "behaviour.incom_coef=0.2:0.5", "--param", "behaviour.breach_rate=0.05:0.01",
                   "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 2, err
    assert "behaviour.incom_coef" in err[0] and "behaviour.breach_rate" in err[1]
    assert not out.exists() and not (tmp_path / ".cache").exists()


def test_cli_bad_samples_and_province_exit_2(capsys, tmp_path):
    rc = cli.main(["sensitivity", "baseline", "--method", "sobol", "--samples", "100", "--province", "99",
                   "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert any("--province" in line and "'99'" in line for line in err), err
    rc = cli.main(["sensitivity", "baseline", "--method", "sobol", "--samples", "100", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "power of 2" in err[0]


# ----------------------------------------------------------------------------- the simulator, end to end

TINY = ["--method", "morris", "--samples", "2", "--province", "64", "--years", "2", "--replications", "1",
        "--param", "behaviour.income_coef=0.2:0.5", "--param", "behaviour.exit_intercept.*=-0.5:0.5"]


def test_cli_sensitivity_on_the_simulator_resumes_after_an_interruption(tmp_path, monkeypatch, capsys):
    pytest.importorskip("simulator")
    from grassroots.cli import sensitivity as cmd_sensitivity

    # an uninterrupted run
    assert cli.main(["sensitivity", "baseline", *TINY, "--out", str(tmp_path / "a" / "full"), "--quiet"]) == 0
    full = tmp_path / "a" / "full"
    assert {"sensitivity.csv", "samples.csv", "manifest.json"} <= {p.name for p in full.iterdir()}
    assert not (tmp_path / "a" / ".cache").exists()          # the cache is gone once the folder is written
    idx = pd.read_csv(full / "sensitivity.csv")
    assert list(idx.columns) == ["metric", "param", "index", "value", "conf"]
    assert set(idx["metric"]) == set(sa.HEADLINE_METRICS)
    assert set(idx["param"]) == {"behaviour.income_coef", "behaviour.exit_intercept.*"}
    # raising every exit intercept raises turnover: mu of the shift is positive
    mu = idx[(idx["metric"] == "turnover_rate") & (idx["index"] == "mu")].set_index("param")["value"]
    assert mu["behaviour.exit_intercept.*"] > 0
    m = json.loads((full / "manifest.json").read_text())
    assert m["study"]["points"] == 6 and m["points_from_cache"] == 0 and m["scenario_sha256"]

    # interrupted after 4 of 6 points: no result folder, the finished points kept
    def stopping(label="sensitivity", stream=None, quiet=False):
        def report(done, total, reused):
            if done >= 4:
                raise KeyboardInterrupt
        return report

    monkeypatch.setattr(cmd_sensitivity, "points_printer", stopping)
    out = tmp_path / "b" / "resumed"
    assert cli.main(["sensitivity", "baseline", *TINY, "--out", str(out), "--quiet"]) == 130
    assert not out.exists()
    caches = list((tmp_path / "b" / ".cache").iterdir())
    assert len(caches) == 1 and len(list((caches[0] / "points").glob("*.json"))) == 4
    monkeypatch.undo()

    # the same command again: resumes, and gives the same answer as the uninterrupted run
    assert cli.main(["sensitivity", "baseline", *TINY, "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "manifest.json").read_text())["points_from_cache"] == 4
    pd.testing.assert_frame_equal(pd.read_csv(out / "samples.csv"), pd.read_csv(full / "samples.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(out / "sensitivity.csv"), idx)
    assert not (tmp_path / "b" / ".cache").exists()
    capsys.readouterr()


def test_ranges_that_break_a_cross_key_rule_are_refused_before_any_run(baseline):
    # field shares must sum to 1: moving one share alone breaks the scenario at either end
    params = sa.parse_params(["programmes.sanzhi_yifu.field_shares.health=0.1:0.3", "behaviour.income_coef=0.2:0.5"], baseline)
    with pytest.raises(sa.SensitivityInputError) as e:
        sa.check_corners(params, baseline)
    assert len(e.value.problems) == 2
    assert all(line.startswith("--param programmes.sanzhi_yifu.field_shares.health at") for line in e.value.problems)
    assert "sum to" in e.value.problems[0]
    sa.check_corners(sa.parse_params(None, baseline), baseline)     # the default set is fine
