"""``grassroots export FOLDER --csv``: the Parquet tables of a result folder as CSV, for those who want CSV.

Every ``<table>.parquet`` in FOLDER (``counties``, ``replications``) is written as
``<table>.csv.gz`` -- gzip-compressed CSV with a header row, the format earlier
versions wrote, readable by ``pandas.read_csv``, R's ``read.csv`` and any
spreadsheet after unzipping -- into ``--out DIR`` (default: FOLDER itself, beside
the Parquet files).  Rows come in the Parquet file's order (grouped by metric);
numbers are written exactly (shortest round-trip text); nothing is overwritten.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import options as opts


def export(args) -> int:
    """Run ``grassroots export``; returns the exit status."""
    folder = Path(args.folder)
    problems = []
    if not args.csv:
        problems.append("export: no format given (allowed: --csv)")
    if not folder.is_dir():
        problems.append(f"FOLDER: {folder} is not a folder (allowed: a result folder written by grassroots)")
    tables = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if folder.is_dir() and not tables:
        problems.append(f"FOLDER: {folder} holds no Parquet table (allowed: a result folder of run or compare)")
    out = Path(args.out) if args.out else folder
    if args.out and out.exists() and not out.is_dir():
        problems.append(f"--out: {out} is a file (allowed: a folder)")
    targets = [out / f"{t.stem}.csv.gz" for t in tables]
    if args.csv:
        problems += [f"--out: {t} exists already (allowed: a folder without it; nothing is overwritten)"
                     for t in targets if t.exists()]
    if problems:
        raise opts.InputError(problems)

    import pandas as pd
    from ..progress import rows_progress
    from ..results import write_csv_gz
    out.mkdir(parents=True, exist_ok=True)
    for src, dst in zip(tables, targets):
        df = pd.read_parquet(src)
        bar = rows_progress(f"export: {dst.name}", len(df), quiet=args.quiet, min_rows=0)
        tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                write_csv_gz(fh, df, progress=(lambda d, t: bar.update(d - bar.done)) if bar else None)
            os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
            if bar is not None:
                bar.close()
        print(dst)
    return 0
