"""Result folders: one new folder per command, written whole or not at all.

A :class:`ResultFolder` is a context manager.  On entry it creates a hidden
temporary folder next to the final one; files are written into it (each file
itself under a temporary name and renamed, so no reader ever sees half a file);
on a clean exit it writes ``manifest.json`` and renames the folder into place.
If the body raises, the temporary folder is removed and nothing is left behind.
The final folder name is never reused: an existing folder is never overwritten.

The manifest records how to reproduce the run: the exact command line, the
package version, the scenario's sha256, seeds, and start/end times.

Concurrent runs: a result folder's name is claimed with a ``filelock`` lock
``.cache/<name>.lock`` beside it for as long as the command runs (taken when the
:class:`ResultFolder` is made, before any work), so a second command asking for
the same ``--out`` refuses at start in one line (exit 2) instead of racing the
first; the lock file is removed when the folder is in place or abandoned.  A
``.<name>.partial-<pid>`` folder left by a killed run (SIGKILL) is removed by the
next run under the same results folder, once no live command holds its lock.

Large tables (``counties``, ``replications``) are written as Parquet
(:func:`write_parquet`: typed columns, dictionary-encoded text, zstd); small ones
as CSV.  :func:`read_table` reads either back.
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
CACHE_DIRNAME = ".cache"          # <results root>/.cache/: checkpoints, and the locks of folders being written
PARQUET_COMPRESSION = "zstd"      # at Arrow's default level (1): several times faster than gzip -6, and smaller
PARQUET_ROWS_PER_GROUP = 1_000_000  # rows per row group: bounded memory when reading, one progress step each
#: text columns of the large tables, stored as Parquet dictionaries (pandas categoricals when read back)
DICTIONARY_COLUMNS = ("scenario", "county_id", "province", "field", "metric")
#: the column a large table's rows are grouped by in the file (rows of one metric together compress better)
GROUP_COLUMN = "metric"


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
        self._lock = None
        self._created = None
        if out is None:
            stamp = self.started.strftime("%Y%m%d-%H%M%S")
            base = Path(root) if root is not None else DEFAULT_ROOT
            final = base / f"{command}-{_slug(scenario)}-{stamp}"
            n = 1
            while final.exists() or not self._claim(final):
                n += 1
                final = base / f"{command}-{_slug(scenario)}-{stamp}-{n}"
        else:
            final = Path(out)
            if final.exists():
                raise FileExistsError(f"{final}: output folder exists already (allowed: a new folder; finished results are never overwritten)")
            if not self._claim(final):
                raise FileExistsError(f"{final}: another grassroots command is writing this output folder now "
                                      f"(allowed: wait for it to finish, or choose another --out)")
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
        self.excel = False   # --excel: also write results.xlsx (grassroots.excel) when the folder is complete

    # -- the claim on the final name (a file lock, held while the command runs)
    def _claim(self, final: Path) -> bool:
        """Lock ``.<final>.lock``; False when another live command holds it (or ``final`` appeared meanwhile)."""
        from filelock import FileLock, Timeout
        top = final.parent
        while not top.parent.exists() and top.parent != top:
            top = top.parent
        if not top.exists():
            self._created = top          # removed again if the command ends without a folder
        final.parent.mkdir(parents=True, exist_ok=True)
        lock_path = lock_path_of(final)
        for attempt in range(5):   # another command may remove an empty .cache/ between mkdir and open
            lock_path.parent.mkdir(exist_ok=True)
            lock = FileLock(str(lock_path), timeout=0)
            try:
                lock.acquire(timeout=0)
                break
            except Timeout:
                return False
            except FileNotFoundError:
                if attempt == 4:
                    raise
        if final.exists():  # finished by a command that held the lock a moment ago
            lock.release()
            raise FileExistsError(f"{final}: output folder exists already (allowed: a new folder; finished results are never overwritten)")
        self._lock = lock
        _OPEN.add(self)
        remove_stale_partials(final.parent)
        return True

    def release(self) -> None:
        """Give up the claim on the final name (the lock file is removed); idempotent."""
        lock, self._lock = self._lock, None
        _OPEN.discard(self)
        if lock is None:
            return
        try:
            Path(lock.lock_file).unlink(missing_ok=True)
        finally:
            lock.release()
        try:
            Path(lock.lock_file).parent.rmdir()   # .cache/, when nothing else is in it
        except OSError:
            pass
        created = getattr(self, "_created", None)
        if created is not None and not self.final_path.exists():
            d = self.final_path.parent
            while True:   # the folders this command created for nothing, when empty
                try:
                    d.rmdir()
                except OSError:
                    break
                if d == created:
                    break
                d = d.parent

    # -- context manager
    def __enter__(self) -> "ResultFolder":
        self.path.mkdir(parents=True, exist_ok=False)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.release()
            return False
        try:
            if self.excel:
                from .excel import workbook_bytes
                self.write_bytes("results.xlsx", workbook_bytes(self.path, self.manifest))
            self.manifest["finished"] = _now().isoformat(timespec="seconds")
            self.manifest["files"] = sorted(set(self.files))
            self.write_json("manifest.json", self.manifest, record=False)
            try:
                os.replace(self.path, self.final_path)
            except OSError:
                if not self.final_path.exists():
                    raise
                raise FileExistsError(f"{self.final_path}: output folder was created by another command meanwhile "
                                      f"(allowed: a new folder; finished results are never overwritten)") from None
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        finally:
            self.release()
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

    def write_parquet(self, name: str, df, progress=None) -> Path:
        """A large DataFrame as Parquet (see :func:`write_parquet`), written under a temporary name and renamed."""
        p = self._target(name)
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                write_parquet(fh, df, progress=progress)
                fh.flush()
                os.fsync(fh.fileno())     # as every file of the folder: on disk before the rename
            os.replace(tmp, p)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.files.append(name)
        return p

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
    """``df`` as gzip-compressed CSV, the same text as ``ResultFolder.write_csv``, built chunk by chunk."""
    buf = io.BytesIO()
    write_csv_gz(buf, df, rows_per_chunk=rows_per_chunk, compresslevel=compresslevel)
    return buf.getvalue()


def write_csv_gz(fileobj, df, rows_per_chunk: int = 1_000_000, compresslevel: int = 6, progress=None) -> None:
    """Write ``df`` to the binary ``fileobj`` as gzip-compressed CSV, the text of ``DataFrame.to_csv``.

    The national county table has about 16 million rows: pandas' ``to_csv``
    needs minutes and several GB of text for it; joining pre-formatted
    columns chunk by chunk takes a fraction of that (the text is the same,
    tested).  Compression level 6 (zlib's default; 9 is about three times
    slower for a few per cent smaller files); the output is deterministic.
    ``progress(rows_written, rows_total)`` is called after each chunk.
    """
    with gzip.GzipFile(fileobj=fileobj, mode="wb", mtime=0, filename="", compresslevel=compresslevel) as gz:
        gz.write((",".join(map(str, df.columns)) + "\n").encode("utf-8"))
        for start in range(0, len(df), rows_per_chunk):
            part = df.iloc[start:start + rows_per_chunk]
            cols = [_column_text(part[c]) for c in part.columns]
            if any(c is None for c in cols):
                text = part.to_csv(index=False, header=False, lineterminator="\n")
            else:
                text = "\n".join(map(",".join, zip(*cols))) + "\n"
            gz.write(text.encode("utf-8"))
            if progress is not None:
                progress(min(start + rows_per_chunk, len(df)), len(df))


# ----------------------------------------------------------------------------- claims of live commands

_OPEN: set = set()   # ResultFolders holding a claim in this process


def release_all() -> None:
    """Release every claim this process still holds (the command line calls it when a command ends abnormally)."""
    for rf in list(_OPEN):
        rf.release()


def lock_path_of(final: Path) -> Path:
    """The lock file claiming result folder ``final``: ``<parent>/.cache/<name>.lock``."""
    return final.parent / CACHE_DIRNAME / f"{final.name}.lock"


def remove_stale_partials(root: Path) -> list[Path]:
    """Remove ``.<name>.partial-<pid>`` folders in ``root`` whose name no live command has claimed.

    A run killed with SIGKILL leaves its partial folder and its lock file; the lock itself
    died with the process, so taking it now (without waiting) proves the folder abandoned.
    """
    from filelock import FileLock, Timeout
    removed = []
    try:
        partials = [p for p in Path(root).iterdir() if p.name.startswith(".") and ".partial-" in p.name and p.is_dir()]
    except OSError:
        return removed
    for partial in partials:
        name = partial.name[1:partial.name.rindex(".partial-")]
        lock_path = lock_path_of(partial.with_name(name))
        if any(rf._lock is not None and Path(rf._lock.lock_file) == lock_path for rf in _OPEN):
            continue  # ours: this process holds the claim (and has no stale partial: it has not started one)
        lock = FileLock(str(lock_path), timeout=0)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue  # a live command is writing it
        try:
            shutil.rmtree(partial, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            removed.append(partial)
        finally:
            lock.release()
    return removed


# ----------------------------------------------------------------------------- Parquet tables

def parquet_table(df):
    """``df`` as a ``pyarrow.Table`` for writing: text columns as dictionaries, rows grouped by metric.

    Text columns (:data:`DICTIONARY_COLUMNS`, and any categorical) become dictionary-encoded
    strings (pandas categoricals when read back); numbers keep their types (float64
    values are stored exactly).  Rows are put in a stable order by :data:`GROUP_COLUMN`
    (within a metric they keep their order), which makes the file about a fifth smaller;
    readers that need another order sort.  The columns are reordered with numpy and
    handed to Arrow directly (a pandas ``take`` of 16 million rows costs several
    seconds more).  No pandas metadata is stored: plain Parquet for every reader.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    cats = {}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats[c] = col.array
        elif c in DICTIONARY_COLUMNS or col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            cats[c] = pd.Categorical(col.astype(str))
    order = None
    if GROUP_COLUMN in df.columns and len(df) > 1:
        key = cats[GROUP_COLUMN].codes if GROUP_COLUMN in cats else pd.factorize(df[GROUP_COLUMN], sort=True)[0]
        order = np.argsort(key, kind="stable")
        if np.array_equal(order, np.arange(len(order))):
            order = None
    arrays = []
    for c in df.columns:
        if c in cats:
            codes = np.asarray(cats[c].codes)
            codes = codes if order is None else codes.take(order)
            dictionary = pa.array(np.asarray(cats[c].categories.astype(str), dtype=object), type=pa.string())
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary))
        else:
            values = df[c].to_numpy()
            arrays.append(pa.array(values if order is None else values.take(order)))
    return pa.table(arrays, names=[str(c) for c in df.columns])


def write_parquet(path, df, progress=None, rows_per_group: int = PARQUET_ROWS_PER_GROUP) -> Path:
    """Write ``df`` to ``path`` as Parquet: zstd, dictionary text, byte-stream-split floats; deterministic bytes.

    ``progress(rows_written, rows_total)`` is called after each row group.  Floats use
    the BYTE_STREAM_SPLIT encoding (their bytes regrouped so zstd finds the repeated
    exponents): about a fifth smaller at the same speed; integers and text use
    dictionaries.  The file holds no timestamp, so the same table gives the same bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = parquet_table(df)
    floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    others = [f.name for f in table.schema if f.name not in floats]
    n = table.num_rows
    sink = str(path) if isinstance(path, (str, os.PathLike)) else path   # a path or a binary file object
    with pq.ParquetWriter(sink, table.schema, compression=PARQUET_COMPRESSION, use_dictionary=others,
                          column_encoding={c: "BYTE_STREAM_SPLIT" for c in floats} or None) as w:
        if n == 0:
            w.write_table(table)
        for start in range(0, n, rows_per_group):
            w.write_table(table.slice(start, rows_per_group), row_group_size=rows_per_group)
            if progress is not None:
                progress(min(start + rows_per_group, n), n)
    return path


def read_table(folder, stem: str, **read_csv_kw):
    """Table ``stem`` of a result folder: ``<stem>.parquet``, else ``<stem>.csv.gz``, else ``<stem>.csv``; None if absent.

    Parquet dictionary columns come back as pandas categoricals; CSV is read with
    ``county_id`` and ``province`` as text.
    """
    import pandas as pd
    p = Path(folder)
    if (p / f"{stem}.parquet").exists():
        return pd.read_parquet(p / f"{stem}.parquet")
    for name in (f"{stem}.csv.gz", f"{stem}.csv"):
        if (p / name).exists():
            kw = {"dtype": {"province": str, "county_id": str}, **read_csv_kw}
            return pd.read_csv(p / name, **kw)
    return None
