"""Benchmark: a Sobol' study of 8 parameters with N = 256 on one province, on 2 local
worker processes and on a 2-worker Dask LocalCluster.

Measures, in one run:

1. ``serial path``: K sample points (K = --probe, spread over the design)
   through the study code path in this process (scenario changes applied and
   validated, simulation, result reduced, point cached atomically);
2. ``sim``: the time spent inside ``simulator.simulate`` during those calls
   (the function is wrapped with a timer), so the per-point overhead
   ``path - sim`` is measured on the same calls, not blurred by other load;
3. the whole study (sampling, every point, caching, analysis) on a
   ``ProcessExecutor(2)``: wall time, points per second; each task records its
   own wall and CPU seconds on the worker, so the executor's per-point
   overhead is ``(wall x workers - sum of task wall times) / points``
   (dispatch, pickling, result transfer, idle workers), and the main
   process's CPU per point (caching, bookkeeping) is measured too;
4. the same study on ``dask.distributed.LocalCluster(n_workers=2,
   processes=True)`` (cluster start-up timed separately).

The peer for the overhead is the bare simulation; the peer for the executors
is each other (and ideal 2x scaling of the serial simulation time).

Usage::

    python benchmarks/sensitivity.py                  # N = 256, province 64 (Ningxia), 10 years, 1 replication
    python benchmarks/sensitivity.py --samples 64     # smaller N: the figures are extrapolated to 256 too
    python benchmarks/sensitivity.py --json out.json  # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def timed_point(base, changes, options):
    """``sensitivity.simulate_point`` plus the wall and CPU seconds the task took on its worker."""
    from grassroots.studies.sensitivity import simulate_point
    w0, c0 = time.perf_counter(), time.process_time()
    out = simulate_point(base, changes, options)
    out["_task_wall"] = time.perf_counter() - w0
    out["_task_cpu"] = time.process_time() - c0
    return out


def _task_times(cache_folder: Path) -> tuple[float, float]:
    """Sum of the task wall and CPU seconds recorded in a study's cache files."""
    wall = cpu = 0.0
    for f in (cache_folder / "points").glob("*.json"):
        out = json.loads(f.read_text())["outputs"]
        wall += out["_task_wall"]
        cpu += out["_task_cpu"]
    return wall, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--province", default="64")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--replications", type=int, default=1)
    ap.add_argument("--samples", type=int, default=256, help="Sobol' base samples N (power of 2)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probe", type=int, default=20, help="points timed serially for the overhead")
    ap.add_argument("--note", default="", help="free text stored with the figures (e.g. machine load)")
    ap.add_argument("--seed", type=int, default=20160701)
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--json", help="write the figures to this JSON file")
    a = ap.parse_args(argv)

    import scenarios
    import simulator
    from grassroots.studies import sensitivity as sa
    from grassroots.studies.executors import DaskExecutor, ProcessExecutor

    sc = scenarios.load(a.scenario)
    base = scenarios.to_dict(sc)
    params = sa.parse_params(None, sc)          # the documented default set: 8 parameters
    options = sa.sim_options(provinces=[a.province], years=a.years, replications=a.replications, seed=a.seed)

    def make_study(model=sa.simulate_point):
        return sa.Study(params, "sobol", a.samples, base=base, options=options, seed=a.seed, model=model)

    study = make_study()
    n = study.n_points()
    X = study.sample()
    tasks = study.tasks(X)
    probe = [tasks[i] for i in np.linspace(0, n - 1, a.probe).astype(int)]
    staff0 = float(simulator.simulate(sc, provinces=[a.province], years=0 or 1, replications=1, seed=a.seed)
                   .summary.query("year == @sc.horizon.start_year and metric == 'staff'")["mean"].iloc[0])
    figures: dict = {"scenario": a.scenario, "province": a.province, "years": a.years, "replications": a.replications,
                     "samples": a.samples, "parameters": len(params), "points": n, "workers": a.workers,
                     "staff_at_start": staff0, "cpus": os.cpu_count(), "python": platform.python_version(),
                     "machine": platform.machine(), "note": a.note,
                     "load_average_at_start": os.getloadavg()[0]}
    print(f"Sobol' study: {len(params)} parameters, N = {a.samples}, {n} points; province {a.province} "
          f"({staff0:,.0f} staff), {a.years} years, {a.replications} replication(s) per point", flush=True)

    # warm up imports and memoised scenario validation in this process
    sa._evaluate(probe[0])

    # 1.-2. the study code path, serially, with the cache; the time inside simulator.simulate is
    # measured by wrapping it, so overhead = path - simulation is not blurred by load on the machine
    inside = [0.0]
    real_simulate = simulator.simulate

    def timed_simulate(*args, **kw):
        t = time.perf_counter()
        try:
            return real_simulate(*args, **kw)
        finally:
            inside[0] += time.perf_counter() - t

    tmp = Path(tempfile.mkdtemp(prefix="gtp-bench-"))
    try:
        cache = sa.PointCache(tmp / "probe", {"probe": True}).open()
        simulator.simulate = timed_simulate
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            for i, t in enumerate(probe):
                out = sa._evaluate(t)
                cache.put(i, t[2], out)
            path = (time.perf_counter() - t0) / len(probe)
            path_cpu = (time.process_time() - c0) / len(probe)
        finally:
            simulator.simulate = real_simulate
        sim = inside[0] / len(probe)
        figures.update({"sim_seconds_per_point": sim, "serial_path_seconds_per_point": path,
                        "serial_path_cpu_seconds_per_point": path_cpu,
                        "overhead_seconds_per_point_serial": path - sim,
                        "overhead_share_serial": (path - sim) / path})
        print(f"simulation alone: {sim:.3f} s/point; through the study path: {path:.3f} s/point; "
              f"overhead {1000 * (path - sim):.1f} ms/point ({100 * (path - sim) / path:.1f}%); "
              f"{path_cpu:.3f} s CPU/point", flush=True)
        figures["serial_estimate_seconds"] = path * n

        def run(kind, ex):
            st = make_study(timed_point)
            c = sa.PointCache(tmp / kind, st.cache_key())
            t0, c0 = time.perf_counter(), time.process_time()
            st.run(executor=ex, cache=c)
            wall, main_cpu = time.perf_counter() - t0, time.process_time() - c0
            task_wall, task_cpu = _task_times(c.folder)
            capacity = wall * a.workers
            f = {"wall_seconds": wall, "points_per_second": n / wall,
                 "task_wall_seconds_per_point": task_wall / n, "task_cpu_seconds_per_point": task_cpu / n,
                 "worker_utilisation": task_wall / capacity,
                 "dispatch_overhead_seconds_per_point": (capacity - task_wall) / n,
                 "main_process_cpu_seconds_per_point": main_cpu / n,
                 "speedup_vs_serial_path": path * n / wall,
                 "wall_seconds_at_N256": wall * 256 / a.samples}
            figures[kind] = f
            print(f"{kind}: {wall:.1f} s wall for {n} points ({n / wall:.2f} points/s, {path * n / wall:.2f}x the serial path); "
                  f"per point: task {task_wall / n:.3f} s wall / {task_cpu / n:.3f} s CPU on the worker, "
                  f"dispatch+idle {1000 * (capacity - task_wall) / n:.0f} ms, main process {1000 * main_cpu / n:.0f} ms CPU; "
                  f"workers busy {100 * task_wall / capacity:.0f}%"
                  + (f"; extrapolated to N = 256: {wall * 256 / a.samples:.0f} s" if a.samples != 256 else ""), flush=True)
            return st

        results = {}
        if not a.skip_local:
            with ProcessExecutor(a.workers) as ex:
                results["local"] = run("local_processes", ex)
        if not a.skip_dask:
            from distributed import LocalCluster
            t0 = time.perf_counter()
            with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster:
                start = time.perf_counter() - t0
                figures["dask_cluster_start_seconds"] = start
                print(f"dask LocalCluster({a.workers} workers) started in {start:.1f} s", flush=True)
                with DaskExecutor(cluster.scheduler_address) as ex:
                    results["dask"] = run("dask_localcluster", ex)
        if len(results) == 2:
            same = results["local"].samples_.equals(results["dask"].samples_) and \
                results["local"].indices_.equals(results["dask"].indices_)
            figures["identical_results"] = bool(same)
            print(f"local processes and Dask give identical results: {same}", flush=True)
        if results:
            st = next(iter(results.values()))
            top = {m: sa.ranking(st.indices_, m, "ST")[:3] for m in st.metrics}
            figures["top_ST"] = top
            for m, ps in top.items():
                print(f"  {m}: largest ST {', '.join(ps)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures["load_average_at_end"] = os.getloadavg()[0]
    print(f"load average (1 min) at start {figures['load_average_at_start']:.1f}, at end {figures['load_average_at_end']:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
