"""The command line: listing, validation, exit statuses, one-line errors, result folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grassroots import cli
from grassroots.results import ResultFolder, reproduce_command


def run_cli(*args, cwd=None):
    """Run ``python -m grassroots`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "grassroots", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_every_command():
    r = run_cli("--help")
    assert r.returncode == 0
    for name in cli.COMMANDS:
        assert name in r.stdout


def test_scenarios_lists_at_least_ten(capsys):
    assert cli.main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 10
    assert lines[0].startswith("baseline ")
    assert any(line.startswith("policy-2016 ") for line in lines)


def test_validate_bundled_ok(capsys):
    assert cli.main(["validate", "policy-2016"]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_unknown_key_exits_2_and_names_the_key(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[pay]\ntownshp_subsidy = true\n[budget]\ntotal_yuan = -1.0\n")
    r = run_cli("validate", str(p))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2, r.stderr
    assert "pay.townshp_subsidy: unknown key" in lines[0] and str(p) in lines[0]
    assert "budget.total_yuan" in lines[1]
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_usage_error_is_one_line_exit_2():
    r = run_cli("run")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_cli("frobnicate")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_params_lists_units_and_sources(capsys):
    assert cli.main(["params", "--section", "pay"]) == 0
    out = capsys.readouterr().out
    assert "pay.township_subsidy_by_band: a list, yuan/month" in out
    assert cli.main(["params", "--section", "nope"]) == 2


def test_unbuilt_command_says_so(monkeypatch, capsys):
    monkeypatch.setitem(cli.HANDLERS, "plan", ("grassroots.cli.does_not_exist", "plan"))
    assert cli.main(["plan", "policy-2016"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["grassroots plan: not built yet in this version"]


# ----------------------------------------------------------------------------- result folders

def test_result_folder_is_atomic_and_has_manifest(tmp_path):
    out = tmp_path / "r1"
    with ResultFolder("run", "baseline", out=out, argv=["grassroots", "run", "baseline", "--out", str(out)]) as rf:
        assert not out.exists() and rf.path.exists()
        import pandas as pd
        rf.write_csv("summary.csv", pd.DataFrame({"a": [1, 2]}))
        rf.write_csv("counties.csv.gz", pd.DataFrame({"a": [1, 2]}))
        rf.manifest["seed"] = 7
    assert out.is_dir() and not rf.path.exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["reproduce"] == "grassroots run baseline"
    assert sorted(manifest["files"]) == ["counties.csv.gz", "summary.csv"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_result_folder_removed_on_error(tmp_path):
    out = tmp_path / "r2"
    with pytest.raises(RuntimeError):
        with ResultFolder("run", "baseline", out=out) as rf:
            rf.write_text("half.txt", "x")
            raise RuntimeError("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_result_folder_never_overwrites(tmp_path):
    out = tmp_path / "r3"
    out.mkdir()
    with pytest.raises(FileExistsError):
        ResultFolder("run", "baseline", out=out)


def test_default_folder_names_are_unique(tmp_path):
    a = ResultFolder("run", "policy-2016", root=tmp_path)
    with a:
        pass
    b = ResultFolder("run", "policy-2016", root=tmp_path)
    with b:
        pass
    assert a.final_path != b.final_path and a.final_path.exists() and b.final_path.exists()
    assert a.final_path.name.startswith("run-policy-2016-")


def test_reproduce_command_drops_out():
    assert reproduce_command(["grassroots", "run", "x", "--out", "d", "--seed", "3"]) == "grassroots run x --seed 3"
    assert reproduce_command(["grassroots", "run", "x", "--out=d"]) == "grassroots run x"


def test_user_county_table_is_used_and_bad_one_exits_2(tmp_path):
    import scenarios
    t = scenarios.county_table(provinces=["64"])
    good = tmp_path / "nx.csv"
    t.to_csv(good, index=False)
    bad = tmp_path / "bad.csv"
    b = t.drop(columns=["population"])
    b.loc[3, "staff_health_township"] = -4
    b.to_csv(bad, index=False)
    out = tmp_path / "run"
    assert cli.main(["run", "baseline", "--county-table", str(good), "--replications", "1", "--years", "1",
                     "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["provinces"] == ["64"] and manifest["counties"] == 22
    r = run_cli("run", "baseline", "--county-table", str(bad), "--replications", "1", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert any("column population: required column is missing" in line for line in lines)
    assert any("row 5, column staff_health_township: negative value" in line for line in lines)
    assert not (tmp_path / "x").exists()
