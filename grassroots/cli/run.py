"""``grassroots run``: simulate one scenario with replications and write one result folder.

Files (see DESIGN.md, "Command line and files"):

* ``summary.csv`` -- ``scenario,year,metric,mean,p05,p95``, national (``p05,p95``: the spread across
  replications, 5th and 95th percentiles -- not a confidence interval of the mean);
* ``counties.parquet`` -- ``scenario,county_id,province,field,year,metric,mean,p05,p95``
  (Parquet: typed columns, text as dictionaries, zstd; rows grouped by metric;
  ``grassroots export FOLDER --csv`` converts it to CSV);
* ``provinces.csv`` -- ``scenario,province,year,metric,mean,p05,p95``;
* ``flows.parquet`` -- ``scenario,year,field,origin_tier,origin_county,province,destination,
  destination_county,persons,p05,p95``: moves between places and exits to places per origin county
  (``simulator.replicate.flows_table``; persons = mean over replications);
* ``replications.parquet`` -- ``scenario,replication,year,metric,value``: national
  values per replication, for paired comparisons with common random numbers;
* ``metrics.csv`` -- every metric's unit, kind and meaning (``simulator.metrics``);
* ``manifest.json`` -- scenario and its sha256, master seed and replication
  seeds, years, provinces, replications, workers, timings;
* figures and ``report.html`` through ``grassroots.report`` when available.

``year`` is the calendar year: ``start_year`` is the initial state, ``start_year
+ t`` the end of simulated year t.

Resuming: each finished replication is kept in ``<results root>/.cache/run-<digest>/``
(written atomically; the digest covers everything that changes the results, see
:mod:`grassroots.checkpoints`); running the same command again reuses them, and the
folder is removed once the result folder is in place (unless another identical run
is still using it).  The headline numbers of the last year are printed at the end.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from ..report import write_report
from . import options as opts


def run(args) -> int:
    """Run the ``grassroots run`` command for parsed ``args``; returns the exit status."""
    import scenarios
    import simulator

    problems = opts.check_common(args)
    sc = opts.load_scenario(args)            # ScenarioError: one line per problem, exit 2
    if problems:
        raise opts.InputError(problems)
    workers = opts.workers(args)
    provinces = opts.provinces(args)
    years = args.years if args.years is not None else sc.horizon.years
    table = opts.user_table(args)                 # CountyDataError: one line per problem, exit 2

    rf = opts.result_folder("run", sc.name, args)   # fails now if --out exists or another run is writing it
    store = opts.checkpoints(rf, "run", scenarios.sha256(sc), args, years)
    if not args.quiet:
        where = ", ".join(provinces) if provinces else ("scenario's provinces" if sc.region.provinces else "all provinces")
        print(f"run: {sc.name}, {where}, {years} years, {args.replications} replication(s), "
              f"{workers} worker(s); checkpoints in {store.folder}", file=sys.stderr)
    started = time.monotonic()
    bar = opts.progress_bar("run", args.replications, "replications", quiet=args.quiet)
    with store, bar:
        res = simulator.simulate(sc, provinces=provinces, years=years, replications=args.replications, seed=args.seed,
                                 workers=workers, table=table, progress=opts.progress_printer(args.quiet, bar=bar),
                                 checkpoint=store.sub("replications"))
        bar.close()
        _write(rf, args, sc, res, years, workers, time.monotonic() - started)
        store.finished()
    if not args.quiet:
        for line in opts.headline(res.summary, sc.name):
            print(line, file=sys.stderr)
    print(rf.final_path)
    return 0


def _write(rf, args, sc, res, years: int, workers: int, seconds: float) -> None:
    """The result folder of a finished simulation."""
    import simulator
    with rf as out:
        out.write_csv("summary.csv", res.summary)
        out.write_csv("provinces.csv", res.provinces)
        opts.write_large(out, "replications.parquet", res.replications, args, "run")
        out.write_csv("metrics.csv", pd.DataFrame(simulator.metrics.describe()))
        opts.write_large(out, "counties.parquet", res.counties, args, "run")
        opts.write_large(out, "flows.parquet", res.flows, args, "run")
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
        write_report(out, summary=res.summary, counties=res.counties, scenarios=[sc], flows=res.flows,
                            lang=getattr(args, "lang", "en"), start_year=res.years[0])
