"""Calibration: the baseline's year-1 non-retirement township exit rate per field matches behaviour.exit_rate_target."""

from __future__ import annotations

import numpy as np
import pytest

import scenarios
import simulator
from simulator import calibrate_intercepts as cal
from simulator.metrics import RAW_INDEX
from simulator.params import FIELDS, NF, compile_params
from simulator.replicate import run_replication

@pytest.fixture(scope="module")
def national():
    return scenarios.county_table()


def test_expected_year_one_exit_rates_match_targets(national):
    """What the calibration solved: expected rates (no Monte Carlo noise) on the whole national table."""
    p = compile_params(scenarios.load("baseline"))
    seed = simulator.replication_seeds(cal.DEFAULT_MASTER_SEED, 1)[0]
    field, v0, upward, start_f = cal.year_one_logits(p, national, seed)
    rates = cal.expected_rates(p.exit_intercept, field, v0, upward, start_f)
    np.testing.assert_allclose(rates, p.exit_rate_target, atol=5e-4)
    # another replication seed gives another initial population: still on target
    other = simulator.replication_seeds(1, 1)[0]
    field, v0, upward, start_f = cal.year_one_logits(p, national, other)
    np.testing.assert_allclose(cal.expected_rates(p.exit_intercept, field, v0, upward, start_f),
                               p.exit_rate_target, atol=1e-3)


def test_simulated_year_one_exit_rates_match_targets(national):
    """A simulated year of the national baseline (about 7 million people): township exits within Monte Carlo error."""
    sc = scenarios.load("baseline")
    p = compile_params(sc)
    rep = run_replication(sc, national, simulator.replication_seeds(7, 1)[0], 1)
    raw = rep.raw
    per_field = lambda name, t=1: raw[RAW_INDEX[name]][:, t].reshape(-1, NF).sum(axis=0)  # noqa: E731
    start = per_field("township_staff", 0)
    rate = per_field("township_exits") / start
    # the county seats leave less (they value their location: wtp_county_vs_township)
    county = (per_field("exits") - per_field("exits_retirement") - per_field("township_exits")) / \
        (per_field("staff", 0) - start)
    assert (county < rate).all()
    sd = np.sqrt(p.exit_rate_target * (1 - p.exit_rate_target) / start)
    assert (np.abs(rate - p.exit_rate_target) < 4 * sd + 1e-3).all(), (rate, p.exit_rate_target)
    # health, the one observed rate (township health centres 8.1%/yr, FACTS.md)
    assert rate[FIELDS.index("health")] == pytest.approx(0.081, abs=0.002)


def test_write_intercepts_changes_only_the_intercept_numbers(tmp_path):
    src = scenarios.loader.library_dir() / "baseline.toml"
    copy = tmp_path / "baseline.toml"
    copy.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    new = cal.write_intercepts(copy, np.array([-1.0, -2.0, -3.0, -4.0, -5.5]))
    old_lines = src.read_text(encoding="utf-8").splitlines()
    new_lines = new.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert [b.split("=")[0].strip() for _, b in changed] == list(FIELDS) or len(changed) <= 5
    for _, b in changed:
        assert b.split("=")[0].strip() in FIELDS
    import tomllib
    doc = tomllib.loads(new)
    assert doc["behaviour"]["exit_intercept"] == {"science": -1.0, "education": -2.0, "engineering": -3.0,
                                                  "agriculture": -4.0, "health": -5.5}
    assert doc["behaviour"]["exit_rate_target"] == tomllib.loads(src.read_text(encoding="utf-8"))["behaviour"]["exit_rate_target"]
