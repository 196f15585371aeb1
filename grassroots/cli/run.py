"""``grassroots run``: simulate one scenario with replications and write one result folder.

Files (see DESIGN.md, "Command line and files"):

* ``summary.csv`` -- ``scenario,year,metric,mean,p05,p95``, national;
* ``counties.csv.gz`` -- ``scenario,county_id,province,field,year,metric,mean,p05,p95``;
* ``provinces.csv`` -- ``scenario,province,year,metric,mean,p05,p95``;
* ``replications.csv.gz`` -- ``scenario,replication,year,metric,value``: national
  values per replication, for paired comparisons with common random numbers;
* ``metrics.csv`` -- every metric's unit, kind and meaning (``simulator.metrics``);
* ``manifest.json`` -- scenario and its sha256, master seed and replication
  seeds, years, provinces, replications, workers, timings;
* figures and ``report.html`` through ``grassroots.report`` when available.

``year`` is the calendar year: ``start_year`` is the initial state, ``start_year
+ t`` the end of simulated year t.

Resuming: each finished replication is kept in ``<results root>/.cache/run-<digest>/``
(written atomically); running the same command again reuses them, and the
folder is removed once the result folder is in place.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import time

import numpy as np
import pandas as pd

from . import report
from .results import ResultFolder

CACHE_DIRNAME = ".cache"


class RunInputError(ValueError):
    """Problems with the command's input, one line each (the command line prints them and exits 2)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def check_args(args) -> list[str]:
    """Problems with the common simulation options (one line each)."""
    problems = []
    if args.replications is None or args.replications < 1:
        problems.append(f"--replications: {args.replications} is not allowed (allowed: a whole number >= 1)")
    if args.years is not None and args.years < 1:
        problems.append(f"--years: {args.years} is not allowed (allowed: a whole number >= 1)")
    if args.workers is not None and args.workers < 0:
        problems.append(f"--workers: {args.workers} is not allowed (allowed: a whole number >= 0; 0 = one per CPU)")
    if args.province:
        import scenarios
        allowed = scenarios.province_codes()
        for code in args.province:
            if code not in allowed:
                problems.append(f"--province: unknown province code {code!r} (allowed: {', '.join(allowed)})")
    return problems


def user_table(args):
    """The user's county table from ``--county-table CSV`` (validated; CountyDataError lines otherwise), or None."""
    path = getattr(args, "county_table", None)
    if not path:
        return None
    import scenarios
    return scenarios.county_table(provinces=args.province or None, path=path)


def progress_printer(quiet: bool, stream=None):
    """``progress(done, total)`` printing ``run: done/total replications``; in place on a terminal."""
    if quiet:
        return None
    stream = stream if stream is not None else sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    t0 = time.monotonic()

    def report(done: int, total: int) -> None:
        msg = f"run: {done}/{total} replications ({time.monotonic() - t0:.0f} s)"
        stream.write(("\r" + msg + ("\n" if done == total else "")) if tty else msg + "\n")
        stream.flush()

    return report


def _column_text(col: pd.Series) -> list[str]:
    """A column as CSV text cells, the way ``DataFrame.to_csv`` writes them (floats by ``repr``, NaN empty)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories.astype(str), dtype=object)
        return cats[col.cat.codes.to_numpy()].tolist()
    if col.dtype.kind == "f":
        return ["" if x != x else repr(x) for x in col.to_numpy(dtype=float).tolist()]
    if col.dtype.kind in "iub":
        return [str(x) for x in col.to_numpy().tolist()]
    return None  # anything else: let pandas format it


def csv_gz_bytes(df: pd.DataFrame, rows_per_chunk: int = 1_000_000, compresslevel: int = 6) -> bytes:
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


def run(args) -> int:
    """Run the ``grassroots run`` command for parsed ``args``; returns the exit status."""
    import scenarios
    import simulator

    problems = check_args(args)
    sc = scenarios.load(args.scenario)            # ScenarioError: one line per problem, exit 2
    if problems:
        raise RunInputError(problems)
    workers = args.workers if args.workers else (os.cpu_count() or 1)
    provinces = list(args.province) if args.province else None
    years = args.years if args.years is not None else sc.horizon.years
    digest = hashlib.sha256(json.dumps({"scenario": scenarios.sha256(sc), "provinces": provinces, "years": years,
                                        "seed": args.seed, "county_table": getattr(args, "county_table", None)},
                                       sort_keys=True).encode()).hexdigest()[:16]

    rf = ResultFolder("run", sc.name, out=args.out, argv=sys.argv)   # fails now if --out exists
    cache_dir = rf.final_path.parent / CACHE_DIRNAME / f"run-{digest}"
    if not args.quiet:
        where = ", ".join(provinces) if provinces else ("scenario's provinces" if sc.region.provinces else "all provinces")
        print(f"run: {sc.name}, {where}, {years} years, {args.replications} replication(s), "
              f"{workers} worker(s); checkpoints in {cache_dir}", file=sys.stderr)
    started = time.monotonic()
    table = user_table(args)
    res = simulator.simulate(sc, provinces=provinces, years=years, replications=args.replications, seed=args.seed,
                             workers=workers, table=table, progress=progress_printer(args.quiet), checkpoint=cache_dir)
    seconds = time.monotonic() - started

    with rf as out:
        out.write_csv("summary.csv", res.summary)
        out.write_csv("provinces.csv", res.provinces)
        out.write_csv("replications.csv.gz", res.replications)
        out.write_csv("metrics.csv", pd.DataFrame(simulator.metrics.describe()))
        out.write_bytes("counties.csv.gz", csv_gz_bytes(res.counties))
        y0 = res.summary[res.summary.year == res.years[0]].set_index("metric")["mean"]
        out.manifest.update({
            "scenario_sha256": res.scenario_sha256,
            "description": sc.description,
            "seed": args.seed,
            "replication_seeds": res.seeds,
            "replications": args.replications,
            "replications_from_checkpoint": res.reused_replications,
            "years": years,
            "start_year": res.years[0],
            "calendar_years": res.years,
            "provinces": res.province_codes,
            "counties": int(res.counties["county_id"].nunique()),
            "initial_staff": float(y0.get("staff", float("nan"))),
            "workers": workers,
            "simulation_seconds": round(seconds, 2),
            "year_convention": "start_year is the initial state; start_year + t is the end of simulated year t",
            "common_random_numbers": "replication r of any scenario run with this seed uses replication_seeds[r]",
        })
        report.write_report(out, summary=res.summary, counties=res.counties, scenarios=[sc],
                            lang=getattr(args, "lang", "en"), start_year=res.years[0])
    simulator.replicate.ReplicationCache(cache_dir, {}).remove()
    print(rf.final_path)
    return 0
