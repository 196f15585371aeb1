"""Checkpoints: a small keyed store of finished work, shared safely by concurrent runs.

A long command (``run``, ``compare``, ``sensitivity``) keeps each finished
replication or sample point in ``<results root>/.cache/<command>-<digest>/`` so
that an interrupted run, started again with the same arguments, computes only
what is missing.  The folder's name is a digest of everything that changes the
results (:func:`run_key`: the scenarios' sha256, provinces, seed, years,
replications, the county table's *content* hash and the package version), and
``key.json`` inside it records that key in readable form.  Consequences:

* two commands that differ in anything that matters never share a folder, so one
  never empties or deletes another's checkpoints (a 2-replication run once
  deleted a 150-replication run's folder, which then crashed);
* two identical commands share one folder safely: every file is written to a
  temporary name and renamed (a reader sees a whole file or none), and both
  write the same bytes for the same item.

Each command using a folder holds a ``filelock`` lock on ``users/<pid>-<random>.lock``
inside it while it runs.  When a command finishes, it removes the folder only if
no other live command is using it (a user whose lock can be taken now has died),
and then ``.cache/`` itself when it is empty -- no empty ``.cache/`` is left
after success.  A short-held ``.lock`` in the folder orders joining and removal.
An interrupted or killed command leaves its folder: that is the resumable part.

Why not ``joblib.Memory``: it keys a cache by a function's arguments and code,
but it cannot remove one run's entries when that run succeeds without clearing
everyone's, has no locks, and would hash the whole county table for every call;
here the key is computed once per command and the removal is per run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Mapping

from .results import CACHE_DIRNAME, atomic_write_bytes, package_version
JOIN_TIMEOUT = 30.0   # seconds to wait for another command's brief join/removal step


def digest(key: Mapping) -> str:
    """16 hex digits of the sha256 of ``key`` as canonical JSON."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()[:16]


def file_sha256(path: str | Path | None) -> str | None:
    """sha256 of a file's bytes (the county table's content, not its name), or None without a file."""
    if not path:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_key(command: str, scenario_sha256: list[str] | str, *, provinces, seed: int, years: int, replications: int,
            county_table: str | Path | None = None, **extra: Any) -> dict:
    """Everything that changes a simulating command's results, as a JSON-ready dict."""
    return {"command": command,
            "scenarios": [scenario_sha256] if isinstance(scenario_sha256, str) else list(scenario_sha256),
            "provinces": sorted(provinces) if provinces else None, "seed": int(seed), "years": int(years),
            "replications": int(replications), "county_table_sha256": file_sha256(county_table),
            "version": package_version(), **extra}


class CheckpointStore:
    """The checkpoint folder ``root/.cache/<command>-<digest(key)>`` of one command; a context manager.

    ``with CheckpointStore(root, "run", key) as store:`` joins the folder (creating it);
    ``store.folder`` (or ``store.sub(name)``) is where the work keeps its files;
    ``store.finished()`` marks success, so leaving the block removes the folder unless
    another live command uses it.  Leaving on an exception keeps the folder for resuming.
    """

    def __init__(self, root: str | Path, command: str, key: Mapping):
        self.key = json.loads(json.dumps(dict(key), sort_keys=True, default=str))
        self.cache_root = Path(root) / CACHE_DIRNAME
        self.folder = self.cache_root / f"{command}-{digest(self.key)}"
        self._user = None
        self._success = False

    # -- joining and leaving
    def _guard(self):
        from filelock import FileLock
        return FileLock(str(self.folder / ".lock"), timeout=JOIN_TIMEOUT)

    def open(self) -> "CheckpointStore":
        from filelock import FileLock
        (self.folder / "users").mkdir(parents=True, exist_ok=True)
        with self._guard():
            (self.folder / "users").mkdir(parents=True, exist_ok=True)  # again: removed meanwhile by a finishing run
            meta = self.folder / "key.json"
            if not meta.exists():
                atomic_write_bytes(meta, json.dumps(self.key, sort_keys=True, indent=1).encode())
            user = FileLock(str(self.folder / "users" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"), timeout=0)
            user.acquire()
            self._user = user
        return self

    def finished(self) -> None:
        """The command's results are safely in place: the checkpoints may go."""
        self._success = True

    def close(self) -> None:
        """Leave the folder; after :meth:`finished`, remove it when no other live command uses it."""
        user, self._user = self._user, None
        if user is None:
            return
        mine = Path(user.lock_file)
        if not self._success:
            mine.unlink(missing_ok=True)
            user.release()
            return
        try:
            with self._guard():
                mine.unlink(missing_ok=True)
                user.release()
                if not self._others_alive():
                    shutil.rmtree(self.folder, ignore_errors=True)
        except OSError:
            user.release()  # the folder went away under us: nothing left to remove
        try:
            self.cache_root.rmdir()  # only when empty
        except OSError:
            pass

    def _others_alive(self) -> bool:
        from filelock import FileLock, Timeout
        alive = False
        for p in (self.folder / "users").glob("*.lock"):
            other = FileLock(str(p), timeout=0)
            try:
                other.acquire(timeout=0)
            except Timeout:
                alive = True
                continue
            p.unlink(missing_ok=True)  # its command died without leaving
            other.release()
        return alive

    def __enter__(self) -> "CheckpointStore":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._success = False
        self.close()
        return False

    def sub(self, name: str) -> Path:
        """A sub-folder (created) for one part of the work, e.g. one scenario's replications."""
        p = self.folder / name
        p.mkdir(parents=True, exist_ok=True)
        return p


__all__ = ["CACHE_DIRNAME", "CheckpointStore", "digest", "file_sha256", "run_key"]
