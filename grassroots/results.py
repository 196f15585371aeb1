"""Result folders: one new folder per command, written whole or not at all.

A :class:`ResultFolder` is a context manager.  On entry it creates a hidden
temporary folder next to the final one; files are written into it (each file
itself under a temporary name and renamed, so no reader ever sees half a file);
on a clean exit it writes ``manifest.json`` and renames the folder into place.
If the body raises, the temporary folder is removed and nothing is left behind.
The final folder name is never reused: an existing folder is never overwritten.

The manifest records how to reproduce the run: the exact command line, the
package version, the scenario's sha256, seeds, and start/end times.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import json
import os
import platform
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

DEFAULT_ROOT = Path("results")


def package_version() -> str:
    """Installed version of grassroots-talent (or 'unknown' when run from a bare checkout)."""
    try:
        from importlib.metadata import version
        return version("grassroots-talent")
    except Exception:  # noqa: BLE001 - metadata absent in a bare checkout
        return "unknown"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(text).stem if text.endswith(".toml") else text).strip("-") or "scenario"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).astimezone()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def json_default(obj: Any):
    """JSON encoder for numpy scalars/arrays and paths."""
    try:
        import numpy as np
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def reproduce_command(argv: list[str] | None) -> str:
    """The shell command that reproduces a run, with --out dropped (a new folder is made anyway)."""
    if not argv:
        return ""
    args = list(argv[1:])
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--out":
            skip = True
            continue
        if a.startswith("--out="):
            continue
        out.append(a)
    return "grassroots " + " ".join(shlex.quote(a) for a in out)


class ResultFolder:
    """A new result folder, written atomically.

    ``out`` is the final folder path; by default
    ``results/<command>-<scenario>-<timestamp>``.  If ``out`` exists already the
    command fails before doing any work (a finished folder is never rewritten).
    """

    def __init__(self, command: str, scenario: str, out: str | Path | None = None,
                 argv: list[str] | None = None, root: str | Path | None = None):
        self.command = command
        self.scenario = scenario
        self.argv = list(argv) if argv is not None else list(sys.argv)
        self.started = _now()
        if out is None:
            stamp = self.started.strftime("%Y%m%d-%H%M%S")
            base = Path(root) if root is not None else DEFAULT_ROOT
            final = base / f"{command}-{_slug(scenario)}-{stamp}"
            n = 1
            while final.exists():
                n += 1
                final = base / f"{command}-{_slug(scenario)}-{stamp}-{n}"
        else:
            final = Path(out)
            if final.exists():
                raise FileExistsError(f"{final}: output folder exists already (allowed: a new folder; finished results are never overwritten)")
        self.final_path = final
        self.path = final.with_name(f".{final.name}.partial-{os.getpid()}")
        self.manifest: dict[str, Any] = {
            "command": command,
            "argv": self.argv[1:],
            "reproduce": reproduce_command(self.argv),
            "scenario": scenario,
            "package": "grassroots-talent",
            "version": package_version(),
            "python": platform.python_version(),
            "started": self.started.isoformat(timespec="seconds"),
        }
        self.files: list[str] = []

    # -- context manager
    def __enter__(self) -> "ResultFolder":
        self.path.mkdir(parents=True, exist_ok=False)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        self.manifest["finished"] = _now().isoformat(timespec="seconds")
        self.manifest["files"] = sorted(set(self.files))
        self.write_json("manifest.json", self.manifest, record=False)
        os.replace(self.path, self.final_path)
        return False

    # -- writers
    def _target(self, name: str) -> Path:
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_bytes(self, name: str, data: bytes, record: bool = True) -> Path:
        p = self._target(name)
        atomic_write_bytes(p, data)
        if record:
            self.files.append(name)
        return p

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj: Any, record: bool = True) -> Path:
        text = json.dumps(obj, indent=2, ensure_ascii=False, default=json_default, sort_keys=False)
        return self.write_bytes(name, (text + "\n").encode("utf-8"), record=record)

    def write_csv(self, name: str, df) -> Path:
        """A DataFrame as CSV (gzip-compressed, deterministically, when the name ends in .gz)."""
        text = df.to_csv(index=False, lineterminator="\n")
        data = text.encode("utf-8")
        if name.endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
                gz.write(data)
            data = buf.getvalue()
        return self.write_bytes(name, data)

    def savefig(self, name: str, fig, dpi: int = 110) -> Path:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        return self.write_bytes(name, buf.getvalue())


def _column_text(col) -> list[str] | None:
    """A column as CSV text cells, the way ``DataFrame.to_csv`` writes them (floats by ``repr``, NaN empty)."""
    import numpy as np
    import pandas as pd
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories.astype(str), dtype=object)
        return cats[col.cat.codes.to_numpy()].tolist()
    if col.dtype.kind == "f":
        return ["" if x != x else repr(x) for x in col.to_numpy(dtype=float).tolist()]
    if col.dtype.kind in "iub":
        return [str(x) for x in col.to_numpy().tolist()]
    return None  # anything else: let pandas format it


def csv_gz_bytes(df, rows_per_chunk: int = 1_000_000, compresslevel: int = 6) -> bytes:
    """``df`` as gzip-compressed CSV, the same text as ``ResultFolder.write_csv``, built chunk by chunk.

    The national county table has about 16 million rows: pandas' ``to_csv``
    needs minutes and several GB of text for it; joining pre-formatted
    columns chunk by chunk takes a fraction of that (the text is the same,
    tested).  Compression level 6 (zlib's default; 9 is about three times
    slower for a few per cent smaller files); the output is deterministic.
    """
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=compresslevel) as gz:
        gz.write((",".join(map(str, df.columns)) + "\n").encode("utf-8"))
        for start in range(0, len(df), rows_per_chunk):
            part = df.iloc[start:start + rows_per_chunk]
            cols = [_column_text(part[c]) for c in part.columns]
            if any(c is None for c in cols):
                text = part.to_csv(index=False, header=False, lineterminator="\n")
            else:
                text = "\n".join(map(",".join, zip(*cols))) + "\n"
            gz.write(text.encode("utf-8"))
    return buf.getvalue()
