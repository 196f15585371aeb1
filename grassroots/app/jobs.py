"""Jobs of the web app: one ``grassroots`` command in a worker process, its state on disk.

A job is the command line itself (``grassroots compare ...``, ``grassroots optimize ...``) run by
:mod:`grassroots.app.worker` in a new process group, so it uses the CLI's own code, executors and result
folders, and the folder's manifest holds the ``reproduce`` line a terminal user can paste.  Everything a
page needs to follow the job is in ``<results root>/.jobs/<key>/``:

* ``spec.json`` -- the command's arguments, the result folder it writes, the number of simulations
  expected (for the progress bar), the worker's process id;
* ``log.txt`` -- what the command printed (progress lines ``label: run: d/t replications``, problems);
* ``status.json`` -- written by the worker when the command ends (exit status);
* ``cancel`` -- present when a person pressed *Cancel*.

So a job survives a page reload or a second browser window (they read the same folder), and several
jobs run at once (one process group each).  The key is a digest of the command's arguments and the
sha256 of every scenario's resolved content: asking again for a finished comparison returns its result
folder at once (the cache); asking for a running one follows the running job.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

JOBS_DIRNAME = ".jobs"
KEY_RE = re.compile(r"^[0-9a-f]{20}$")
_PROGRESS = re.compile(r"(?:([^\r\n:]+): )?run: (\d+)/(\d+)")
_STEPS = re.compile(r"(\w[\w-]*): (\d+)/(\d+) (?:budget|points)")
_BAR = re.compile(r"(?m)^([\w-]+): \d+% \((\d+)/(\d+) ")    # one bar per command: 'run: 40% (4/10 replications, ...'

CANCEL_GRACE_SECONDS = 5.0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(text).stem if text.endswith(".toml") else text).strip("-.")[:40] or "run"


@dataclass
class JobState:
    """What a page shows of a job: ``status`` is queued/running/done/failed/cancelled."""

    key: str
    status: str
    title: str
    command: str
    out: str                 # result folder name (inside the results root)
    fraction: float | None   # 0..1, None when the command prints no progress
    message: str             # last progress line, or the problems of a failed job
    seconds: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class JobStore:
    """The jobs under one results root; safe to use from several threads of the server."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.dir = self.root / JOBS_DIRNAME
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ keys and submission
    @staticmethod
    def key(argv: list[str], scenario_hashes: list[str]) -> str:
        """Digest of the command's arguments (``--workers`` aside: it changes no result) and its scenarios'
        content (20 hex digits)."""
        kept = [a for i, a in enumerate(argv) if a != "--workers" and (i == 0 or argv[i - 1] != "--workers")]
        text = json.dumps({"argv": kept, "scenarios": list(scenario_hashes)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def submit(self, argv: list[str], scenario_hashes: list[str], title: str, simulations: int = 0) -> str:
        """Start ``grassroots ARGV`` unless the same job is running or finished already; returns the key."""
        key = self.key(argv, scenario_hashes)
        with self._lock:
            st = self.state(key)
            if st is not None and st.status in ("running", "done"):
                return key
            jd = self.dir / key
            if jd.exists():
                shutil.rmtree(jd, ignore_errors=True)
            jd.mkdir(parents=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            out = f"{argv[0]}-{_slug(argv[1]) if len(argv) > 1 else 'run'}-{stamp}-{key[:6]}"
            spec = {"key": key, "argv": list(argv), "out": out, "title": title, "simulations": int(simulations),
                    "created": time.time()}
            (jd / "spec.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
            env = dict(os.environ)
            pkg_parent = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            env["PYTHONUNBUFFERED"] = "1"
            with open(jd / "log.txt", "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "grassroots.app.worker", str(jd), str(self.root)],
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, env=env)
            self._procs[key] = proc
            spec["pid"] = proc.pid
            (jd / "spec.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
            return key

    # ------------------------------------------------------------------ reading state
    def _spec(self, key: str) -> dict | None:
        if not KEY_RE.match(key or ""):
            return None
        try:
            return json.loads((self.dir / key / "spec.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _alive(self, key: str, pid: int | None) -> bool:
        proc = self._procs.get(key)
        if proc is not None:
            return proc.poll() is None
        if not pid:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            try:
                os.kill(pid, 0)
            except OSError:
                return False
            return True
        return b"grassroots.app.worker" in cmdline and key.encode() in cmdline

    def state(self, key: str) -> JobState | None:
        """The job's state read from its folder, or None for an unknown key."""
        spec = self._spec(key)
        if spec is None:
            return None
        jd = self.dir / key
        log = _read_tail(jd / "log.txt")
        done = (self.root / spec["out"] / "manifest.json").exists()
        status_file = jd / "status.json"
        seconds = time.time() - spec.get("created", time.time())
        fraction, message = progress(log, spec.get("simulations", 0))
        if done:
            status, fraction = "done", 1.0
            try:
                seconds = json.loads(status_file.read_text())["seconds"]
            except (OSError, ValueError, KeyError):
                pass
        elif (jd / "cancel").exists():
            status = "running" if self._alive(key, spec.get("pid")) else "cancelled"
        elif self._alive(key, spec.get("pid")) and not status_file.exists():
            status = "running"
        else:
            status = "failed"
            message = problems_of(log) or "the worker process stopped without a result"
        return JobState(key, status, spec.get("title", ""), spec["argv"][0], spec["out"], fraction, message,
                        round(seconds, 1))

    def jobs(self) -> list[JobState]:
        """Every job under the root, newest first."""
        if not self.dir.is_dir():
            return []
        out = [self.state(p.name) for p in self.dir.iterdir() if KEY_RE.match(p.name)]
        return sorted([s for s in out if s is not None], key=lambda s: s.seconds)

    # ------------------------------------------------------------------ cancel
    def cancel(self, key: str) -> bool:
        """Stop a running job (SIGTERM to its process group, SIGKILL after a grace period); True if it ran."""
        spec = self._spec(key)
        if spec is None or not self._alive(key, spec.get("pid")):
            return False
        (self.dir / key / "cancel").touch()
        pid = spec["pid"]
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            return False

        def _kill_later():
            time.sleep(CANCEL_GRACE_SECONDS)
            if self._alive(key, pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                for partial in self.root.glob(f".{spec['out']}.partial-*"):
                    shutil.rmtree(partial, ignore_errors=True)

        threading.Thread(target=_kill_later, daemon=True).start()
        return True


def _read_tail(path: Path, limit: int = 64_000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def progress(log: str, simulations: int) -> tuple[float | None, str]:
    """(fraction done, last progress line) from a command's printed progress.

    ``label: run: d/t replications`` lines (one label per simulated scenario; ``simulations`` of them
    expected), a command's single bar written off a terminal (``run: 40% (4/10 replications, ...)``) and
    ``frontier: i/n budget ...`` / ``sensitivity: d/t points`` lines are understood; anything else gives
    None (the page then shows a moving bar).
    """
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", log) if ln.strip()]
    last = lines[-1] if lines else ""
    bars = _BAR.findall(log)
    if bars:
        _, d, t = bars[-1]
        return min(int(d) / max(int(t), 1), 0.99), last
    runs: dict[str, float] = {}
    for label, d, t in _PROGRESS.findall(log):
        runs[label or ""] = int(d) / max(int(t), 1)
    if runs:
        n = max(simulations, len(runs), 1)
        return min(sum(runs.values()) / n, 0.99), last
    steps = _STEPS.findall(log)
    if steps:
        _, d, t = steps[-1]
        return min(int(d) / max(int(t), 1), 0.99), last
    return None, last


def problems_of(log: str) -> str:
    """What a failed command said: its problem lines (exit 2), or the last line of a traceback."""
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    if not lines:
        return ""
    if any(ln.startswith("Traceback") for ln in lines):
        return "internal error: " + lines[-1]
    keep = [ln for ln in lines if not _PROGRESS.search(ln) and not _BAR.match(ln)]
    return "\n".join(keep[-12:])
