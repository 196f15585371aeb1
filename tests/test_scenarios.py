"""Scenario files: loading, merging, every kind of validation error, immutability, digests."""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from scenarios import ScenarioError
from scenarios.loader import library_dir, validate_document

LEVER_FAMILIES = ["titles", "posts", "recruitment", "pay", "programmes", "training", "flexible", "mobility"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems_of(ref) -> list[str]:
    with pytest.raises(ScenarioError) as e:
        scenarios.load(ref)
    return e.value.problems


# ----------------------------------------------------------------------------- library

def test_library_has_every_required_scenario():
    names = scenarios.bundled_names()
    assert len(names) >= 10
    for n in ["baseline", "policy-2016", "west-priority"] + [f"lever-{f}" for f in LEVER_FAMILIES]:
        assert n in names
    for n, desc in scenarios.bundled():
        assert len(desc) > 30, f"{n} needs a description"


@pytest.mark.parametrize("name", scenarios.bundled_names())
def test_every_bundled_scenario_loads_and_is_named(name):
    sc = scenarios.load(name)
    assert sc.name == name
    assert len(scenarios.sha256(sc)) == 64


def test_lever_scenarios_change_only_their_own_section():
    base = scenarios.to_dict(scenarios.load("baseline"))
    for fam in LEVER_FAMILIES:
        d = scenarios.to_dict(scenarios.load(f"lever-{fam}"))
        changed = {k for k in base if k not in ("name", "description") and d[k] != base[k]}
        assert changed == {fam}, f"lever-{fam} changes {changed}"


def test_policy_2016_is_the_union_of_the_lever_families():
    base = scenarios.to_dict(scenarios.load("baseline"))
    policy = scenarios.to_dict(scenarios.load("policy-2016"))
    for fam in LEVER_FAMILIES:
        assert policy[fam] == scenarios.to_dict(scenarios.load(f"lever-{fam}"))[fam]
    for k in base:
        if k not in LEVER_FAMILIES + ["name", "description"]:
            assert policy[k] == base[k]


def test_baseline_documents_the_township_subsidy_from_facts():
    sc = scenarios.load("policy-2016")
    assert sc.pay.township_subsidy is True
    assert sc.pay.township_subsidy_by_band == (200.0, 300.0, 400.0)
    assert sc.behaviour.exit_rate_target["health"] == pytest.approx(0.081)
    assert sc.training.hours_per_year == 90.0


def test_every_parameter_has_unit_and_source():
    leaves = scenarios.leaf_paths()
    assert len(leaves) > 150
    for path, (_, meta) in leaves.items():
        if path in ("name", "description"):
            continue
        assert meta.get("unit"), f"{path} has no unit"
        assert meta.get("source"), f"{path} has no source"


# ----------------------------------------------------------------------------- frozen, no side effects

def test_scenario_is_frozen():
    sc = scenarios.load("baseline")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.pay.township_subsidy = True
    with pytest.raises(TypeError):
        sc.behaviour.exit_rate_target["health"] = 0.5


def test_applying_a_scenario_never_changes_the_baseline():
    before = scenarios.sha256(scenarios.load("baseline"))
    base = scenarios.load("baseline")
    changed = scenarios.apply(base, {"pay.township_subsidy": True, "behaviour.exit_rate_target.health": 0.2})
    assert changed.pay.township_subsidy is True and base.pay.township_subsidy is False
    assert changed.behaviour.exit_rate_target["health"] == 0.2
    assert base.behaviour.exit_rate_target["health"] == pytest.approx(0.081)
    scenarios.load("policy-2016")
    assert scenarios.sha256(scenarios.load("baseline")) == before == scenarios.sha256(base)


def test_failed_apply_changes_nothing():
    base = scenarios.load("baseline")
    before = scenarios.sha256(base)
    with pytest.raises(ScenarioError):
        scenarios.apply(base, {"pay.township_subsidy": True, "budget.total_yuan": -1})
    assert scenarios.sha256(base) == before


def test_sha256_is_stable_and_content_based(tmp_path):
    a = scenarios.sha256(scenarios.load("policy-2016"))
    assert a == scenarios.sha256(scenarios.load("policy-2016"))
    # the same content written as a file elsewhere has the same digest
    text = (library_dir() / "policy-2016.toml").read_text(encoding="utf-8")
    text = text.replace('extends = "baseline"', f'extends = "{library_dir() / "baseline.toml"}"')
    p = write(tmp_path, "policy-2016.toml", text)
    assert scenarios.sha256(scenarios.load(p)) == a
    assert scenarios.sha256(scenarios.load("baseline")) != a


# ----------------------------------------------------------------------------- extends

def test_extends_merges_only_differences(tmp_path):
    p = write(tmp_path, "mine.toml", 'name = "mine"\nextends = "policy-2016"\n[behaviour.exit_rate_target]\nhealth = 0.1\n')
    sc = scenarios.load(p)
    policy = scenarios.load("policy-2016")
    assert sc.behaviour.exit_rate_target["health"] == 0.1
    assert sc.behaviour.exit_rate_target["education"] == policy.behaviour.exit_rate_target["education"]
    assert sc.pay == policy.pay


def test_extends_relative_path_chain(tmp_path):
    write(tmp_path, "a.toml", 'extends = "baseline"\n[training]\nhours_per_year = 120.0\n')
    (tmp_path / "sub").mkdir()
    p = write(tmp_path / "sub", "b.toml", 'extends = "../a.toml"\n[pay]\ntownship_subsidy = true\n')
    sc = scenarios.load(p)
    assert sc.training.hours_per_year == 120.0 and sc.pay.township_subsidy
    assert sc.name == "b"


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    probs = problems_of(tmp_path / "a.toml")
    assert len(probs) == 1 and "cycle" in probs[0]


def test_extends_unknown_bundled_name(tmp_path):
    p = write(tmp_path, "x.toml", 'extends = "policy-2061"\n')
    (line,) = problems_of(p)
    assert "x.toml: extends" in line and "policy-2016" in line  # lists what is allowed


# ----------------------------------------------------------------------------- every kind of error

@pytest.mark.parametrize("text, expect", [
    ("[pay]\ntownshp_subsidy = true\n", "pay.townshp_subsidy: unknown key (allowed: base_by_grade"),
    ("[paay]\nx = 1\n", "paay: unknown key (allowed: horizon"),
    ("[pay]\ntownship_subsidy = 1\n", "pay.township_subsidy: expected true or false, got 1"),
    ("[horizon]\nyears = 2.5\n", "horizon.years: expected an integer"),
    ("[horizon]\nyears = 0\n", "horizon.years: 0 is out of range (allowed: 1 to 50"),
    ("[budget]\ntotal_yuan = -5.0\n", "budget.total_yuan: -5.0 is out of range (allowed: 0.0 to inf"),
    ("[titles.pass_rate.senior]\ncounty = 1.2\n", "titles.pass_rate.senior.county: 1.2 is out of range (allowed: 0.0 to 1.0"),
    ("[titles.pass_rate.senior]\nvillage = 0.2\n", "titles.pass_rate.senior.village: unknown key (allowed: county, township)"),
    ("[behaviour.exit_rate_target]\nmedicine = 0.1\n", "behaviour.exit_rate_target.medicine: unknown key (allowed: science, education"),
    ("[region]\nprovinces = [\"62\", \"99\"]\n", "region.provinces[1]: unknown province code '99' (allowed: 11, 12"),
    ("[region]\nprovinces = \"62\"\n", "region.provinces: expected a list"),
    ("[pay]\nbase_by_grade = [1.0, 2.0]\n", "pay.base_by_grade: expected a list of 13 values, got 2"),
    ("[optimizer]\nobjective = \"cheapest\"\n", "optimizer.objective: 'cheapest' is not allowed (allowed: shortfall, equity, cost)"),
    ("[programmes.sanzhi_yifu]\npayer = \"village\"\n", "programmes.sanzhi_yifu.payer: 'village' is not allowed (allowed: central, provincial, county)"),
    ("[programmes.sanzhi_yifu]\nregions = [\"north\"]\n", "programmes.sanzhi_yifu.regions[0]: unknown region 'north'"),
    ("[training]\nhours_per_year = nan\n", "training.hours_per_year: expected a finite number"),
    ("[horizon]\nyears = true\n", "horizon.years: expected an integer, got True"),
    ("name = 3\n", "name: expected text"),
    ("[budget.payer_shares.west]\ncentral = 0.9\n", "budget.payer_shares.west: shares sum to 1.1 (allowed: they must sum to 1)"),
    ("[posts.cap_uplift]\nsenior = 0.5\nintermediate = 0.4\n", "senior + intermediate caps with uplift sum to"),
    ("[pay]\nbase_by_grade = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0]\n", "pay.base_by_grade: pay must not rise"),
    ("horizon = 3\n", "horizon: expected a table, got 3"),
    ("[pay\n", "not valid TOML"),
])
def test_each_kind_of_problem_is_reported_with_file_and_key(tmp_path, text, expect):
    p = write(tmp_path, "bad.toml", text)
    probs = problems_of(p)
    assert any(expect in line for line in probs), probs
    assert all(line.startswith(str(p) + ": ") or line.startswith("bad.toml: ") or "bad.toml: " in line for line in probs)


def test_all_problems_are_reported_at_once(tmp_path):
    p = write(tmp_path, "bad.toml", "[pay]\ntownshp = 1\n[budget]\ntotal_yuan = -1.0\n[horizon]\nyears = 0\n[region]\nprovinces = [\"00\"]\n")
    probs = problems_of(p)
    assert len(probs) == 4
    for key in ("pay.townshp", "budget.total_yuan", "horizon.years", "region.provinces[0]"):
        assert sum(key in line for line in probs) == 1


def test_problem_in_a_parent_file_names_the_parent(tmp_path):
    write(tmp_path, "parent.toml", "[budget]\ntotal_yuan = -1.0\n")
    p = write(tmp_path, "child.toml", 'extends = "parent.toml"\n')
    (line,) = problems_of(p)
    assert line.startswith(str(tmp_path / "parent.toml") + ": budget.total_yuan") or "parent.toml: budget.total_yuan" in line


def test_missing_file_and_unknown_name():
    (line,) = problems_of("/nonexistent/x.toml")
    assert "file not found" in line
    (line,) = problems_of("polcy-2016")
    assert "no such bundled scenario" in line and "policy-2016" in line


def test_incomplete_root_is_reported():
    probs = validate_document({"horizon": {"years": 3}}, partial=False)
    assert any(p.startswith("horizon.start_year: missing") for p in probs)
    assert any(p.startswith("pay: missing") for p in probs)


# ----------------------------------------------------------------------------- fuzzing

SCHEMA_KEYS = sorted({part for path in scenarios.leaf_paths() for part in path.split(".")})

keys = st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(alphabet="abcdefghij_", min_size=1, max_size=8))
scalars = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=10),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(scalars, max_size=14), st.dictionaries(keys, children, max_size=5)),
    max_leaves=20,
)
documents = st.dictionaries(keys, values, max_size=6)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_fuzz_random_documents_only_raise_scenario_error(tmp_path, doc):
    text = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items())
    p = write(tmp_path, "fuzz.toml", text)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        pass
    try:
        sc = scenarios.load(p)
    except ScenarioError as e:
        assert e.problems and all(line.strip() for line in e.problems)
    else:
        assert isinstance(sc, scenarios.Scenario)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes_only_raise_scenario_error(tmp_path, data):
    p = tmp_path / "bytes.toml"
    p.write_bytes(data)
    try:
        scenarios.load(p)
    except ScenarioError:
        pass


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(sorted(scenarios.leaf_paths())), value=scalars)
def test_fuzz_apply_any_leaf_any_value(path, value):
    base = scenarios.load("baseline")
    before = scenarios.sha256(base)
    try:
        sc = scenarios.apply(base, {path: value})
    except ScenarioError as e:
        assert e.problems
    else:
        assert scenarios.get_path(sc, path) == value or isinstance(value, (int, float))
    assert scenarios.sha256(base) == before
