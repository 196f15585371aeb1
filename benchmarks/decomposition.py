"""Cost of ``compare --decompose levers``: one coalition simulation serially, on 2 local workers and on a
Dask ``LocalCluster`` of 2 processes, and the projected cost of a whole decomposition.

A per-lever decomposition is a sequence of coalition simulations (each one ``simulator.simulate`` of the
package with some levers switched back to the base, same seeds): about ``2 x levers x pairs`` for the
sampled shares plus ``~3 x top_interactions^2`` for the interactions, minus coalitions equal in content.
The unit cost is therefore one simulation of the province; this script times it three ways and multiplies.

    python benchmarks/decomposition.py --province 62 --years 10 --replications 4 [--sims 360]

Speed-up = serial time / parallel time of the same simulation (replications spread over the workers);
the national projection scales the Gansu time by the number of professionals in the county table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent   # benchmarks/simulator.py would shadow the simulator package
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--province", default="62")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--sims", type=int, default=360, help="coalition simulations of one decomposition")
    a = ap.parse_args()

    import distributed
    import scenarios
    import simulator
    from grassroots.studies.executors import DaskExecutor
    from simulator.replicate import close_worker_pool, using_executor

    table = scenarios.county_table([a.province])
    sc = scenarios.load("policy-2016")
    kw = dict(years=a.years, replications=a.replications, seed=1, table=table)
    simulator.simulate(sc, years=1, replications=1, seed=1, table=table)      # compile/load kernels

    def timed(label, **extra):
        t0, c0 = time.perf_counter(), time.process_time()
        res = simulator.simulate(sc, **kw, **extra)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label:<22} wall {wall:7.2f} s   main-process CPU {cpu:6.2f} s")
        return wall, res.summary

    serial, s1 = timed("serial (workers=1)")
    simulator.simulate(sc, years=1, replications=2, seed=1, table=table, workers=2)   # start the pool
    two, s2 = timed("2 local workers", workers=2)
    close_worker_pool()
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0") as cl:
        with DaskExecutor(cl.scheduler_address) as ex, using_executor(ex):
            simulator.simulate(sc, years=1, replications=2, seed=1, table=table)    # warm the workers
            dask2, s3 = timed("LocalCluster of 2")
    assert s1.equals(s2) and s1.equals(s3), "results differ between executors"
    cols = [f"staff_{f}" for f in scenarios.FIELDS]
    staff = float(table[cols].to_numpy().sum())
    nation = scenarios.county_table()
    staff_n = float(nation[cols].to_numpy().sum())
    print(f"speed-up 2 workers {serial / two:.2f}x, LocalCluster(2) {serial / dask2:.2f}x")
    for label, t in (("serial", serial), ("2 workers", two), ("LocalCluster(2)", dask2)):
        print(f"decomposition of {a.sims} simulations, {label}: {a.sims * t / 60:.0f} min; nation "
              f"(x{staff_n / staff:.0f} professionals): {a.sims * t * staff_n / staff / 3600:.0f} h")


if __name__ == "__main__":
    main()
