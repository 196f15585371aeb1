"""Paired comparisons and Shapley decomposition, on tables with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scenarios
from grassroots.studies.compare import paired_differences
from grassroots.studies.decomposition import LEVER_FAMILIES, changed_families, shapley, subset_document


def reps_table(values: dict[str, np.ndarray], metric="coverage", year=2021) -> pd.DataFrame:
    rows = []
    for sc, vals in values.items():
        for r, v in enumerate(vals):
            rows.append((sc, r, year, metric, float(v)))
    return pd.DataFrame(rows, columns=["scenario", "replication", "year", "metric", "value"])


def test_self_comparison_is_exactly_zero():
    rng = np.random.default_rng(1)
    vals = rng.normal(0.8, 0.05, 30)
    t = reps_table({"base": vals, "same": vals.copy()})
    res = paired_differences(t, "base")
    assert list(res.columns) == ["metric", "year", "scenario", "base", "mean_diff", "ci_low", "ci_high"]
    assert (res[["mean_diff", "ci_low", "ci_high"]].to_numpy() == 0.0).all()


def test_known_paired_difference_and_t_interval():
    base = np.array([1.0, 2.0, 3.0, 4.0])
    other = base + np.array([0.5, 1.5, 0.5, 1.5])  # d = [.5, 1.5, .5, 1.5]: mean 1, sd 0.57735
    res = paired_differences(reps_table({"b": base, "o": other}), "b").iloc[0]
    assert res["base"] == pytest.approx(2.5)
    assert res["mean_diff"] == pytest.approx(1.0)
    half = 2.3533634 * 0.5773503 / 2  # t(0.95, 3) * sd / sqrt(4)
    assert res["ci_low"] == pytest.approx(1.0 - half, rel=1e-6)
    assert res["ci_high"] == pytest.approx(1.0 + half, rel=1e-6)


def test_pairing_removes_common_noise():
    rng = np.random.default_rng(2)
    common = rng.normal(0, 1.0, 50)
    res = paired_differences(reps_table({"b": common, "o": common + 0.1}), "b").iloc[0]
    assert res["ci_high"] - res["ci_low"] < 1e-9 and res["mean_diff"] == pytest.approx(0.1)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=40))
def test_interval_contains_paired_mean(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    res = paired_differences(reps_table({"a": a, "b": b}), "a").iloc[0]
    assert res["ci_low"] <= res["mean_diff"] + 1e-6 * (1 + abs(res["mean_diff"]))
    assert res["mean_diff"] <= res["ci_high"] + 1e-6 * (1 + abs(res["mean_diff"]))
    assert res["mean_diff"] == pytest.approx(np.mean(b - a), rel=1e-9, abs=1e-6)


# ----------------------------------------------------------------------------- Shapley

def test_shapley_additive_game_gives_each_its_own_effect():
    effects = {"pay": 3.0, "titles": 1.0, "posts": -0.5}
    v = lambda s: pd.Series({("coverage", 2026): sum(effects[f] for f in s)})
    phi = shapley(list(effects), v)
    for f, e in effects.items():
        assert phi[f].iloc[0] == pytest.approx(e)
    assert phi["total"].iloc[0] == pytest.approx(3.5)


def test_shapley_interaction_is_split_equally():
    # v = 1 only when both are on: each gets 1/2
    v = lambda s: pd.Series({("m", 1): 1.0 if {"a", "b"} <= s else 0.0})
    phi = shapley(["a", "b"], v)
    assert phi["a"].iloc[0] == pytest.approx(0.5) and phi["b"].iloc[0] == pytest.approx(0.5)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10_000))
def test_shapley_efficiency_and_null_player(n, seed):
    rng = np.random.default_rng(seed)
    fams = list(LEVER_FAMILIES[:n]) + ["dummy"]
    table = {frozenset(c): rng.normal(size=2) for k in range(n + 1) for c in itertools.combinations(fams[:-1], k)}
    v = lambda s: pd.Series(table[frozenset(s - {"dummy"})], index=[("m", 1), ("m", 2)])
    phi = shapley(fams, v)
    np.testing.assert_allclose(phi[fams].sum(axis=1), phi["total"], atol=1e-9)
    assert (phi["dummy"].abs() < 1e-12).all()


def test_each_coalition_evaluated_once():
    calls = []
    v = lambda s: calls.append(s) or pd.Series({("m", 1): float(len(s))})
    shapley(["a", "b", "c"], v)
    assert len(calls) == len(set(calls)) == 8


def test_changed_families_and_subset_documents():
    base = scenarios.to_dict(scenarios.load("baseline"))
    pol = scenarios.to_dict(scenarios.load("policy-2016"))
    assert changed_families(base, pol) == list(LEVER_FAMILIES)
    assert changed_families(base, scenarios.to_dict(scenarios.load("lever-pay"))) == ["pay"]
    doc = subset_document(base, pol, {"pay"})
    assert doc["pay"] == pol["pay"] and doc["titles"] == base["titles"]
    west = scenarios.to_dict(scenarios.load("west-priority"))
    assert "other" in changed_families(pol, west)  # optimizer weights differ
