"""Real processes: Ctrl-C at any moment, SIGKILL, and two identical commands at once.

Each test starts ``python -m grassroots`` in a process group of its own and signals the
whole group, as a terminal does on Ctrl-C (worker processes receive it too).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ["run", "baseline", "--province", "64", "--years", "4", "--seed", "9", "--quiet"]
REPS = 8


def _start(args, cwd) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "grassroots", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _finish(p: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def _checkpoints(root: Path) -> list[Path]:
    return sorted((root / ".cache").rglob("*.npz")) if (root / ".cache").exists() else []


def _wait_for_checkpoints(p: subprocess.Popen, root: Path, n: int, timeout: float = 300) -> None:
    t0 = time.monotonic()
    while len(_checkpoints(root)) < n:
        assert p.poll() is None, p.communicate()
        assert time.monotonic() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.01)


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_mid_run_prints_one_line_exits_130_and_the_rerun_resumes(tmp_path, workers):
    root = tmp_path / "results"
    root.mkdir()
    args = [*RUN, "--replications", str(REPS), "--workers", str(workers), "--out", "results/r"]
    p = _start(args, tmp_path)
    _wait_for_checkpoints(p, root, 2)
    os.killpg(p.pid, signal.SIGINT)           # as a terminal's Ctrl-C: to every process of the group
    rc, out, err = _finish(p)
    assert rc == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    kept = len(_checkpoints(root))
    assert lines[0].startswith("grassroots run: interrupted; ") and lines[0].endswith(
        f" of {REPS} replications kept, rerun the same command to resume")
    said = int(lines[0].split("interrupted; ")[1].split(" of ")[0])
    # each replication is checkpointed just before it is counted, and a worker may finish one more
    # after the count was taken: the line never claims more than is on disk
    assert 1 <= said <= kept < REPS
    assert sorted(x.name for x in root.iterdir()) == [".cache"]   # no result folder, no partial folder
    assert out == ""

    rc, out, err = _finish(_start(args, tmp_path))   # the same command again: resumes
    assert rc == 0, err
    manifest = json.loads((root / "r" / "manifest.json").read_text())
    assert manifest["replications_from_checkpoint"] == kept
    assert sorted(x.name for x in root.iterdir()) == ["r"]         # checkpoints gone, no empty .cache/

    # the same results as an uninterrupted run (in this process; same machine, so exactly equal)
    import scenarios
    import simulator
    res = simulator.simulate(scenarios.load("baseline"), provinces=["64"], years=4, replications=REPS, seed=9)
    assert (root / "r" / "summary.csv").read_text() == res.summary.to_csv(index=False, lineterminator="\n")


def test_sigkill_leaves_only_resumable_checkpoints(tmp_path):
    root = tmp_path / "results"
    root.mkdir()
    args = [*RUN, "--replications", str(REPS), "--out", "results/r"]
    p = _start(args, tmp_path)
    _wait_for_checkpoints(p, root, 1)
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    assert sorted(x.name for x in root.iterdir()) == [".cache"]
    kept = len(_checkpoints(root))
    rc, out, err = _finish(_start(args, tmp_path))
    assert rc == 0, err
    assert json.loads((root / "r" / "manifest.json").read_text())["replications_from_checkpoint"] == kept >= 1
    assert sorted(x.name for x in root.iterdir()) == ["r"]


def test_two_identical_commands_with_the_same_out_at_once(tmp_path):
    root = tmp_path / "results"
    root.mkdir()
    args = [*RUN, "--replications", "3", "--out", "results/r"]
    procs = [_start(args, tmp_path) for _ in range(2)]
    results = sorted((_finish(p) for p in procs), key=lambda r: r[0])
    (rc0, out0, err0), (rc1, out1, err1) = results
    assert (rc0, rc1) == (0, 2), (err0, err1)
    assert out0.strip() == "results/r" and err0 == ""
    lines = err1.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err1
    assert "another grassroots command is writing" in lines[0] or "exists already" in lines[0]
    assert sorted(x.name for x in root.iterdir()) == ["r"]       # no orphaned .r.partial-*, no lock, no .cache
    manifest = json.loads((root / "r" / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"summary.csv", "counties.parquet", "replications.parquet"}


def test_two_commands_with_default_folders_at_once_both_finish(tmp_path):
    args = [*RUN, "--replications", "2"]
    procs = [_start(args, tmp_path) for _ in range(2)]
    outs = [_finish(p) for p in procs]
    assert [rc for rc, _, _ in outs] == [0, 0], [e for _, _, e in outs]
    folders = {o.strip() for _, o, _ in outs}
    assert len(folders) == 2
    assert sorted(x.name for x in (tmp_path / "results").iterdir()) == sorted(Path(f).name for f in folders)
    a, b = (tmp_path / f for f in folders)
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()
