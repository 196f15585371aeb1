"""Writing the large result tables: Parquet (ours) against the gzip-CSV writer of earlier versions (the peer).

The tables are those of the national main command (README, "Two commands"):
``grassroots run policy-2016 --replications 4 --workers 2`` -- the county table
(every county x field x year x metric: about 16 million rows) and the replications
table.  The script simulates them once, then writes the *same* DataFrames both ways
in the same process, so the ratio is not disturbed by the simulation:

* peer: ``counties.csv.gz`` with ``grassroots.results.csv_gz_bytes`` (chunked, gzip
  level 6: the writer that spent about 2 of the command's 4.7 minutes) and
  ``replications.csv.gz`` with ``ResultFolder.write_csv``;
* ours: ``counties.parquet`` and ``replications.parquet`` with
  ``grassroots.results.write_parquet`` (zstd, dictionary text, byte-stream-split
  floats, rows grouped by metric; values exact).

Each writer runs ``--repeat`` times (median wall time reported); sizes are exact.
``--variants`` also reports, for the record, the sizes of two lossy layouts that
are NOT used (float32 values; means only), to show what the size target would take.

    python benchmarks/writing.py                        # national main command (about 5-8 minutes)
    python benchmarks/writing.py --province 62          # one province, about a minute
    python benchmarks/writing.py --json out.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grassroots.results import ResultFolder, csv_gz_bytes, write_parquet  # noqa: E402


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, last result)."""
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpus), out


def peer_write(folder: Path, counties, replications) -> dict:
    """The earlier versions' writing step, into ``folder`` (a ResultFolder's temporary folder)."""
    with ResultFolder("bench", "peer", out=folder / "peer", argv=["bench"]) as rf:
        rf.write_csv("replications.csv.gz", replications)
        rf.write_bytes("counties.csv.gz", csv_gz_bytes(counties))
    return {n: (folder / "peer" / n).stat().st_size for n in ("counties.csv.gz", "replications.csv.gz")}


def our_write(folder: Path, counties, replications) -> dict:
    with ResultFolder("bench", "ours", out=folder / "ours", argv=["bench"]) as rf:
        rf.write_parquet("replications.parquet", replications)
        rf.write_parquet("counties.parquet", counties)
    return {n: (folder / "ours" / n).stat().st_size for n in ("counties.parquet", "replications.parquet")}


def variants(counties) -> dict:
    """Sizes of lossy layouts, for the record only (not what the program writes)."""
    out = {}
    buf = io.BytesIO()
    c32 = counties.astype({c: "float32" for c in ("mean", "p05", "p95")})
    write_parquet(buf, c32)
    out["counties float32 values"] = len(buf.getvalue())
    buf = io.BytesIO()
    write_parquet(buf, c32.drop(columns=["p05", "p95"]))
    out["counties float32 means only"] = len(buf.getvalue())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="policy-2016")
    ap.add_argument("--province", action="append", help="default: all 31 (the national main command)")
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20160701)
    ap.add_argument("--repeat", type=int, default=1, help="writes per writer (median reported)")
    ap.add_argument("--variants", action="store_true", help="also the sizes of lossy layouts (not used)")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import pyarrow
    import scenarios
    import simulator

    t0 = time.perf_counter()
    res = simulator.simulate(scenarios.load(args.scenario), provinces=args.province, replications=args.replications,
                             seed=args.seed, workers=args.workers)
    sim_s = time.perf_counter() - t0
    counties, reps = res.counties, res.replications
    print(f"[tables] {args.scenario}, provinces {','.join(args.province) if args.province else 'all'}, "
          f"{args.replications} replications: counties {len(counties):,} rows, replications {len(reps):,} rows "
          f"(simulated in {sim_s:.0f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        peer_s, peer_cpu, peer_sizes = _timed(lambda: (__import__("shutil").rmtree(tmp / "peer", ignore_errors=True),
                                             peer_write(tmp, counties, reps))[1], args.repeat)
        ours_s, our_cpu, our_sizes = _timed(lambda: (__import__("shutil").rmtree(tmp / "ours", ignore_errors=True),
                                            our_write(tmp, counties, reps))[1], args.repeat)
        back = pd.read_parquet(tmp / "ours" / "counties.parquet")
        exact = bool(len(back) == len(counties) and np.array_equal(np.sort(back["mean"].to_numpy()),
                                                                     np.sort(counties["mean"].to_numpy()), equal_nan=True))
    peer_total = sum(peer_sizes.values())
    our_total = sum(our_sizes.values())
    fig = {
        "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "load": os.getloadavg()[0],
        "python": sys.version.split()[0], "pyarrow": pyarrow.__version__, "pandas": pd.__version__,
        "scenario": args.scenario, "provinces": args.province or "all", "replications": args.replications,
        "county_rows": len(counties), "replication_rows": len(reps),
        "peer_seconds": round(peer_s, 2), "ours_seconds": round(ours_s, 2), "speedup": round(peer_s / ours_s, 1),
        "peer_cpu_seconds": round(peer_cpu, 2), "ours_cpu_seconds": round(our_cpu, 2),
        "speedup_cpu": round(peer_cpu / our_cpu, 1),
        "peer_bytes": peer_sizes, "our_bytes": our_sizes,
        "counties_size_ratio": round(peer_sizes["counties.csv.gz"] / our_sizes["counties.parquet"], 2),
        "total_size_ratio": round(peer_total / our_total, 2), "values_exact": exact,
    }
    print(f"[write] peer (csv.gz): {peer_s:.1f} s wall, {peer_cpu:.1f} s CPU, counties {peer_sizes['counties.csv.gz'] / 1e6:.1f} MB, "
          f"replications {peer_sizes['replications.csv.gz'] / 1e6:.2f} MB")
    print(f"[write] ours (Parquet): {ours_s:.1f} s wall, {our_cpu:.1f} s CPU, counties {our_sizes['counties.parquet'] / 1e6:.1f} MB, "
          f"replications {our_sizes['replications.parquet'] / 1e6:.2f} MB; values exact: {exact}")
    print(f"[ratio] {peer_s / ours_s:.1f}x faster by wall time, {peer_cpu / our_cpu:.1f}x by CPU time; counties file {fig['counties_size_ratio']:.2f}x smaller "
          f"(load {fig['load']:.1f})")
    if args.variants:
        fig["variants_bytes"] = variants(counties)
        for k, v in fig["variants_bytes"].items():
            print(f"[variant, not used] {k}: {v / 1e6:.1f} MB ({peer_sizes['counties.csv.gz'] / v:.1f}x smaller than csv.gz)")
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
