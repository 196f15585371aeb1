"""Time paths: scenario keys that change by calendar year ([timeline]), validation, and the simulator reading them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import scenarios
from scenarios.loader import at_year, value_at
from simulator.metrics import RAW_INDEX
from simulator.model import TalentModel
from simulator.params import PROGRAMMES, compile_params
from tests.simtables import small_table

PLACES = "programmes.special_post_teachers.places_per_year"


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_value_at_rule_known_answers():
    path = {2017: 80000.0, 2018: 90000.0, 2020: 105000.0}
    assert value_at(path, 2016, 70000.0) == 70000.0          # before the first year: the key's own value
    assert value_at(path, 2017, 70000.0) == 80000.0
    assert value_at(path, 2019, 70000.0) == pytest.approx(97500.0, abs=1e-9)   # linear between listed years
    assert value_at(path, 2020, 70000.0) == 105000.0
    assert value_at(path, 2031, 70000.0) == 105000.0          # held after the last year
    # integers and on/off keys step
    assert value_at({2017: True}, 2016, False, bool) is False
    assert value_at({2017: True, 2020: False}, 2019, False, bool) is True
    assert value_at({2017: 5, 2020: 9}, 2019, 3, int) == 5


def test_timeline_file_loads_and_resolves_by_year(tmp_path):
    p = write(tmp_path, f'''
[timeline."{PLACES}"]
2017 = 80000          # an integer is accepted for a number
2018 = 90000.0
[timeline."titles.tilted_standards"]
2018 = true
''')
    sc = scenarios.load(str(p))
    assert dict(sc.timeline[PLACES]) == {2017: 80000, 2018: 90000.0}
    assert at_year(sc, 2016).programmes.special_post_teachers.places_per_year == 70000.0
    assert at_year(sc, 2017).programmes.special_post_teachers.places_per_year == 80000.0
    assert at_year(sc, 2017).titles.tilted_standards is False
    assert at_year(sc, 2025).titles.tilted_standards is True
    assert not at_year(sc, 2025).timeline
    # the digest sees the timeline
    assert scenarios.sha256(sc) != scenarios.sha256(scenarios.load("baseline"))


def test_child_path_replaces_parent_path_whole(tmp_path):
    write(tmp_path, f'[timeline."{PLACES}"]\n2017 = 1.0\n2025 = 2.0\n', "parent.toml")
    child = write(tmp_path, f'extends = "parent.toml"\n[timeline."{PLACES}"]\n2020 = 5.0\n', "child.toml")
    assert dict(scenarios.load(str(child)).timeline[PLACES]) == {2020: 5.0}


@pytest.mark.parametrize("text, expect", [
    (f'[timeline."{PLACES}"]\n2017 = -5.0\n', f'timeline."{PLACES}".2017: -5.0 is out of range'),
    (f'[timeline."{PLACES}"]\nsoon = 5.0\n', f'timeline."{PLACES}".soon: not a calendar year'),
    (f'[timeline."{PLACES}"]\n2017 = "many"\n', "expected a number"),
    ('[timeline."horizon.years"]\n2017 = 3\n', 'timeline."horizon.years": cannot change over time'),
    ('[timeline."pay.nope"]\n2017 = 3.0\n', 'timeline."pay.nope": not a numeric or on/off scenario key'),
    ('[timeline."titles.tilted_standards"]\n2017 = 1\n', "expected true or false"),
    ('[timeline."programmes.sanzhi_yifu.field_shares.health"]\n2018 = 0.9\n',
     "timeline year 2018: programmes.sanzhi_yifu.field_shares: shares sum to 1.7"),
])
def test_bad_timeline_names_file_key_and_rule(tmp_path, text, expect):
    p = write(tmp_path, text)
    with pytest.raises(scenarios.ScenarioError) as e:
        scenarios.load(str(p))
    assert any(expect in line and str(p.name) in line for line in e.value.problems), e.value.problems


def test_bad_timeline_exits_2_one_line_through_the_cli(tmp_path):
    p = write(tmp_path, f'[timeline."{PLACES}"]\n2017 = -5.0\n2018 = 1e9\n')
    r = subprocess.run([sys.executable, "-m", "grassroots", "validate", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and all(f'timeline."{PLACES}"' in line for line in lines)


def test_params_at_year_and_replace_holds_in_every_year(tmp_path):
    p = write(tmp_path, f'[timeline."{PLACES}"]\n2017 = 0.0\n2019 = 20000.0\n')
    par = compile_params(scenarios.load(str(p)))
    j = PROGRAMMES.index("special_post_teachers")
    assert par.prog_places[j] == 70000.0                        # start_year 2016: the key's own value
    assert par.at(2016) is par
    assert [par.at(y).prog_places[j] for y in (2017, 2018, 2019, 2030)] == [0.0, 10000.0, 20000.0, 20000.0]
    q = par.replace(breach_rate=0.5)
    assert all(q.at(y).breach_rate == 0.5 for y in (2016, 2017, 2018, 2030))


def test_simulator_reads_the_value_of_the_simulated_year(tmp_path):
    """Free normal students: no places in 2017, 400 a year from 2018 -> recruits only from the 2018 step."""
    prog = "programmes.free_normal_students.places_per_year"
    p = write(tmp_path, f'[timeline."{prog}"]\n2017 = 0.0\n2018 = 400000.0\n')
    table = small_table(n=6, scale=1.0)
    m = TalentModel(scenarios.load(str(p)), table, seed=3, years=3)
    raw = m.run()
    rec = raw[RAW_INDEX["recruits_free_normal_students"]].sum(axis=0)   # per step: 2016 (initial), 2017, 2018, 2019
    assert rec[1] == 0 and rec[2] > 0 and rec[3] > 0
    # the same scenario without the path recruits in 2017
    base = TalentModel(scenarios.load("baseline"), table, seed=3, years=1).run()
    assert base[RAW_INDEX["recruits_free_normal_students"]].sum(axis=0)[1] > 0
    assert np.isfinite(raw).all()
