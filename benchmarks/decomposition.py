"""Cost of ``compare --decompose levers``: coalition evaluation before and after issue 16's speed work, serially,
on 2 local workers and on a Dask ``LocalCluster`` of 2 processes, and the projected cost of whole decompositions.

A per-lever decomposition of ``baseline`` -> ``policy-2016`` (40 levers) is a sequence of coalition
simulations (the package with some levers set back to the base, same seeds).  The estimators hand every
coalition of a round (the orders up to the next check of the stopping rule) to
``grassroots.studies.coalitions.CoalitionRunner`` at once, which runs them on the executor, national results
only.  This script takes the first ``--coalitions`` coalitions the real sampler asks for (seed 1, the orders
of ``compare --seed 1``) and times them

1. ``simulate`` path: one ``simulator.simulate`` per coalition, one after another (what ``compare`` did
   before: county, province and flow tables, raw checkpoints; ``--old`` coalitions of them);
2. ``lean serial``: ``CoalitionRunner(workers=1)`` (national values only, shared geography);
3. ``lean 2 workers``: the simulator's kept local pool of 2 spawned processes (warmed first);
4. ``lean LocalCluster(2)``: ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` (warmed).

Results are asserted identical (every value, bit for bit) between 2-4 and equal to 1.  Wall time and CPU
time (this process + its child processes, from ``psutil``) are printed for each, and the speed-ups as
ratios measured in the same run; the machine's load average is printed before and after.  Projection: the
coalitions of a decomposition that stops at the first check (4 antithetic pairs of orders, the default
stopping rule's first look; counted from the real orders) plus the interactions of the 6 largest levers
(at most 4 x 15 corners), times the per-coalition wall time; the nation by the ratio of professionals.

    python benchmarks/decomposition.py --province 62 --years 10 --replications 4 --coalitions 24 --old 6
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent   # benchmarks/simulator.py would shadow the simulator package
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def _cpu() -> float:
    """CPU seconds of this process and every live or finished child (workers, the cluster's processes)."""
    import psutil
    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for ch in me.children(recursive=True):
        try:
            c = ch.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def _warm() -> None:
    """Load the simulator's compiled kernels in a worker (a one-replication, one-year Ningxia run)."""
    import simulator
    simulator.simulate("baseline", provinces=["64"], years=1, replications=1, seed=1)


def first_coalitions(levers, seed: int, pairs: int) -> list[frozenset]:
    """The distinct coalitions (neither empty nor full) of the sampler's first ``pairs`` antithetic pairs."""
    import numpy as np
    from grassroots.studies.shapley import prefixes
    rng = np.random.default_rng(seed)
    seen, out = {frozenset(), frozenset(levers)}, []
    for _ in range(pairs):
        order = [levers[k] for k in rng.permutation(len(levers))]
        for s in prefixes(order) + prefixes(order[::-1]):
            if s not in seen:
                seen.add(s)
                out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--province", default="62")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--coalitions", type=int, default=24, help="coalitions timed on each lean executor")
    ap.add_argument("--old", type=int, default=6, help="coalitions timed on the old simulate() path")
    a = ap.parse_args()

    import distributed
    import scenarios
    import simulator
    from grassroots.studies.coalitions import CoalitionRunner
    from grassroots.studies.decomposition import changed_levers, lever_subset_document
    from grassroots.studies.executors import DaskExecutor
    from simulator.replicate import close_worker_pool, using_executor, worker_pool

    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")
    table = scenarios.county_table([a.province])
    base, pkg = scenarios.load("baseline"), scenarios.load("policy-2016")
    bd, pdoc = scenarios.to_dict(base), scenarios.to_dict(pkg)
    levers = changed_levers(bd, pdoc)
    round1 = first_coalitions(levers, a.seed, 4)
    n_decomp = len(round1) + 4 * 15
    subs = []
    for s in round1[:a.coalitions]:
        doc = lever_subset_document(bd, pdoc, s)
        doc["name"] = f"baseline+{len(s)} levers"
        subs.append((scenarios.from_dict(doc, label="bench", base=base), f"{len(s)} levers"))
    kw = dict(years=a.years, replications=a.replications, seed=a.seed, table=table)
    simulator.simulate(pkg, years=1, replications=1, seed=1, table=table)      # compile/load kernels

    rows = {}

    def timed(label, fn, n):
        w0, c0 = time.perf_counter(), _cpu()
        out = fn()
        wall, cpu = time.perf_counter() - w0, _cpu() - c0
        rows[label] = (wall / n, cpu / n)
        print(f"{label:<24} {n:3d} coalitions: wall {wall:7.1f} s ({wall / n:5.2f} s each), "
              f"CPU {cpu:7.1f} s ({cpu / n:5.2f} s each)")
        return out

    old = timed("simulate() per coalition", lambda: [simulator.simulate(sc, **kw).summary for sc, _ in subs[:a.old]],
                a.old)
    lean_kw = dict(years=a.years, replications=a.replications, seed=a.seed, table=table)
    serial = timed("lean serial", lambda: CoalitionRunner(**lean_kw)(subs), len(subs))
    worker_pool(2).submit(int, 0).result()
    CoalitionRunner(**lean_kw, workers=2)(subs[:4])                           # warm both workers' kernels
    two = timed("lean 2 local workers", lambda: CoalitionRunner(**lean_kw, workers=2)(subs), len(subs))
    close_worker_pool()
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0") as cl:
        with DaskExecutor(cl.scheduler_address) as ex, using_executor(ex):
            ex.client.run(_warm)                                               # every worker loads the kernels
            CoalitionRunner(**lean_kw)(subs[:4])
            dask2 = timed("lean LocalCluster(2)", lambda: CoalitionRunner(**lean_kw)(subs), len(subs))
    for i in range(len(subs)):
        for other in (two[i], dask2[i]):
            assert serial[i].summary.equals(other.summary) and serial[i].replications.equals(other.replications), \
                "results differ between executors"
    for i in range(a.old):
        assert old[i].equals(serial[i].summary), "lean path differs from simulate()"
    print(f"load average after: {os.getloadavg()}")

    cols = [f"staff_{f}" for f in scenarios.FIELDS]
    ratio_n = float(scenarios.county_table()[cols].to_numpy().sum()) / float(table[cols].to_numpy().sum())
    t_old, t_ser, t_two, t_dask = (rows[k][0] for k in rows)
    print(f"lean / simulate() path (serial): {t_old / t_ser:.2f}x less wall, "
          f"{rows['simulate() per coalition'][1] / rows['lean serial'][1]:.2f}x less CPU per coalition")
    print(f"speed-up over lean serial: 2 local workers {t_ser / t_two:.2f}x, LocalCluster(2) {t_ser / t_dask:.2f}x")
    print(f"decomposition stopping at the first check: {len(round1)} coalitions of 4 pairs + <= {4 * 15} for "
          f"interactions = {n_decomp}")
    for label, (t, _) in rows.items():
        print(f"  {label:<24} {n_decomp * t / 60:6.1f} min; nation (x{ratio_n:.0f} professionals) "
              f"{n_decomp * t * ratio_n / 3600:6.1f} h")


if __name__ == "__main__":
    main()
