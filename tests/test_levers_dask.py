"""Every heavy command accepts ``--scheduler tcp://...`` and gives the same results on a Dask cluster as locally.

The commands of issue 16 item 4: run, compare (with a per-lever decomposition), plan, size-budget
--confidence, frontier (with its simulation checks), sensitivity, calibrate, backtest.

One ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` (separate processes, as on real
machines) serves the module; each command runs once locally and once on the cluster (Ningxia, 2 years,
2 replications) and its result tables must be equal: whole-number counts exactly, floats to 1e-12 relative
(the same code on the same machine gives the same bits; the tolerance only absorbs summation order).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from grassroots import cli  # noqa: E402

SMALL = ["--province", "64", "--years", "2", "--replications", "2", "--seed", "5", "--quiet"]


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for f in sorted(folder.glob("*.csv")) + sorted(folder.glob("*.csv.gz")):
        if f.name in ("timings.csv",):
            continue
        out[f.name] = pd.read_csv(f)
    return out


def _same(a: Path, b: Path) -> None:
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys() and ta
    for name in ta:
        x, y = ta[name], tb[name]
        assert list(x.columns) == list(y.columns), name
        assert len(x) == len(y), name
        for c in x.columns:
            if "seconds" in c:   # solver / wall times
                continue
            if pd.api.types.is_numeric_dtype(x[c]):
                np.testing.assert_allclose(x[c].to_numpy(float), y[c].to_numpy(float), rtol=1e-12, atol=0,
                                           equal_nan=True, err_msg=f"{name}: {c}")
            else:
                assert x[c].astype(str).tolist() == y[c].astype(str).tolist(), f"{name}: {c}"


def _both(tmp_path: Path, scheduler: str, argv: list[str]) -> tuple[Path, Path]:
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert cli.main([*argv, "--out", str(local)]) == 0
    assert cli.main([*argv, "--scheduler", scheduler, "--out", str(remote)]) == 0
    return local, remote


def test_run_on_a_cluster(tmp_path, scheduler):
    local, remote = _both(tmp_path, scheduler, ["run", "baseline", *SMALL])
    _same(local, remote)
    assert json.loads((remote / "manifest.json").read_text())["replication_seeds"] == \
        json.loads((local / "manifest.json").read_text())["replication_seeds"]


def test_compare_with_decomposition_on_a_cluster(tmp_path, scheduler):
    pkg = tmp_path / "pkg.toml"   # three levers: 8 coalitions, exact
    pkg.write_text('name = "pkg"\n[pay]\ntownship_subsidy = true\nscarce_talent_tilt = 0.2\n'
                   '[recruitment]\nquota_share = 0.5\n')
    local, remote = _both(tmp_path, scheduler, ["compare", "baseline", str(pkg), *SMALL, "--decompose", "levers"])
    _same(local, remote)
    assert (remote / "interactions.csv").exists()


def test_plan_on_a_cluster(tmp_path, scheduler):
    local, remote = _both(tmp_path, scheduler, ["plan", "policy-2016", *SMALL, "--budget", "2e8", "--rounds", "2"])
    _same(local, remote)


def test_size_budget_confidence_on_a_cluster(tmp_path, scheduler):
    local, remote = _both(tmp_path, scheduler, ["size-budget", "policy-2016", *SMALL, "--confidence", "0.5",
                                                "--target", "0.8", "--share", "0.5"])
    _same(local, remote)


def test_frontier_with_checks_on_a_cluster(tmp_path, scheduler):
    """Every budget's answer is checked by simulating it (the default; --no-check would skip that)."""
    local, remote = _both(tmp_path, scheduler, ["frontier", "policy-2016", *SMALL, "--budgets", "0:2e8:3"])
    _same(local, remote)


def test_sensitivity_on_a_cluster(tmp_path, scheduler):
    local, remote = _both(tmp_path, scheduler, ["sensitivity", "baseline", *SMALL, "--samples", "2",
                                                "--param", "behaviour.income_coef=0.3:0.6",
                                                "--param", "training.skill_decay=0.0:0.04"])
    _same(local, remote)


def test_calibrate_on_a_cluster(tmp_path, scheduler):
    local, remote = _both(tmp_path, scheduler, ["calibrate", "baseline", *SMALL, "--max-evals", "2"])
    _same(local, remote)


def test_backtest_on_a_cluster(tmp_path, scheduler):
    """``backtest`` refuses --province and --years (its published figures are national); a history scenario
    file that extends the bundled one with Ningxia and 2 years keeps the run small (the figures of later
    years are NaN there, on both sides)."""
    small = tmp_path / "history-small.toml"
    small.write_text('name = "history-small"\nextends = "history-2016-2025"\n'
                     '[region]\nprovinces = ["64"]\n[horizon]\nyears = 2\n', encoding="utf-8")
    local, remote = _both(tmp_path, scheduler, ["backtest", str(small), "--replications", "2", "--seed", "5",
                                                "--quiet"])
    _same(local, remote)
    assert pd.read_csv(remote / "backtest.csv")["simulated"].notna().any()


def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    code = cli.main(["run", "baseline", *SMALL, "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
