"""`grassroots compare` end to end on a small province: pairing, decomposition, resume after interruption."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from grassroots import cli
from grassroots.cli import compare as cmd_compare

SMALL = ["--province", "64", "--years", "3", "--replications", "3", "--seed", "11", "--quiet"]
ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
VOLATILE_HTML = r"(?i)((?:simulation seconds|replications from checkpoint)</dt><dd>)[^<]*"
VOLATILE = {"started", "finished", "simulation_seconds", "argv", "reproduce", "replications_from_checkpoint", "files"}


def test_scenario_compared_with_itself_is_zero(tmp_path):
    out = tmp_path / "self"
    assert cli.main(["compare", "baseline", "baseline", *SMALL, "--out", str(out)]) == 0
    comp = pd.read_csv(out / "comparison.csv")
    assert set(comp["scenario"]) == {"baseline#2"}
    assert (comp[["mean_diff", "ci_low", "ci_high"]].to_numpy() == 0).all()
    assert {"staff", "coverage", "exits", "cost_yuan"} <= set(comp["metric"])


def test_decomposition_adds_up_and_unused_family_is_zero(tmp_path):
    # a package that switches on pay, and sets a training value equal to the baseline's (no change in results)
    pkg = tmp_path / "pkg.toml"
    pkg.write_text('name = "pkg"\nextends = "lever-pay"\n[titles]\nexceptional_after_years = 45.0\n')
    out = tmp_path / "dec"
    assert cli.main(["compare", "baseline", str(pkg), *SMALL, "--decompose", "--out", str(out)]) == 0
    dec = pd.read_csv(out / "decomposition.csv")
    assert set(dec["lever"]) == {"pay", "titles", "total"}
    wide = dec.pivot_table(index=["metric", "year"], columns="lever", values="contribution")
    pd.testing.assert_series_equal(wide["pay"] + wide["titles"], wide["total"], check_names=False, atol=1e-6)
    # exceptional promotion is off in baseline/lever-pay, so its threshold changes nothing: exactly zero
    assert (wide["titles"].abs() < 1e-9).all()
    assert wide.loc[("cost_yuan", 2019), "pay"] > 0
    comp = pd.read_csv(out / "comparison.csv").set_index(["metric", "year"])
    assert comp.loc[("coverage", 2019), "mean_diff"] == pytest.approx(wide.loc[("coverage", 2019), "total"], abs=1e-9)
    html = (out / "report.html").read_text()
    assert "pkg" in html and "<img" in html
    # the progress bar's total was counted before running: the same sub-runs as were run
    import scenarios
    from grassroots.studies.decomposition import planned_sub_runs
    loaded = [scenarios.load("baseline"), scenarios.load(str(pkg))]
    assert planned_sub_runs(loaded[0], "baseline", loaded, ["baseline", "pkg"]) == \
        json.loads((out / "manifest.json").read_text())["decomposition_sub_runs"] > 0


def test_interrupted_compare_resumes_to_identical_files(tmp_path, monkeypatch):
    real = cmd_compare.progress_printer
    calls = {"n": 0}

    def interrupting(quiet, bar=None):
        def progress(done, total):
            calls["n"] += 1
            if calls["n"] == 4:  # after the base and one replication of the other scenario
                raise KeyboardInterrupt
        return progress

    root = tmp_path / "results"
    args = ["compare", "baseline", "lever-pay", *SMALL]
    monkeypatch.setattr(cmd_compare, "progress_printer", interrupting)
    assert cli.main([*args, "--out", str(root / "a")]) == 130
    assert not (root / "a").exists()
    cached = list((root / ".cache").rglob("*.npz"))
    assert len(cached) == 4
    monkeypatch.setattr(cmd_compare, "progress_printer", real)
    assert cli.main([*args, "--out", str(root / "a")]) == 0
    assert not (root / ".cache").exists()
    assert cli.main([*args, "--out", str(root / "b")]) == 0

    a, b = root / "a", root / "b"
    names = sorted(p.name for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.name for p in b.rglob("*") if p.is_file())
    for name in names:
        if name == "manifest.json":
            ma, mb = (json.loads((d / name).read_text()) for d in (a, b))
            assert {k: v for k, v in ma.items() if k not in VOLATILE} == {k: v for k, v in mb.items() if k not in VOLATILE}
        elif name == "report.html":  # identical but for the run's start time and timings
            ta, tb = (re.sub(VOLATILE_HTML, r"\1X", re.sub(ISO_TIME, "TIME", (d / name).read_text())) for d in (a, b))
            assert ta == tb
        else:
            pa = next(a.rglob(name))
            pb = next(b.rglob(name))
            assert pa.read_bytes() == pb.read_bytes(), name


def test_bad_input_exits_2_without_folder(tmp_path, capsys):
    out = tmp_path / "x"
    assert cli.main(["compare", "baseline", "nonesuch", *SMALL, "--out", str(out)]) == 2
    assert cli.main(["compare", "baseline", "policy-2016", "--replications", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("nonesuch" in line for line in err) and any("--replications" in line for line in err)
    assert not out.exists() and not any(Path(tmp_path).iterdir())
