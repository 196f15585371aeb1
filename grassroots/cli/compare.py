"""``grassroots compare BASE OTHER...``: paired comparison with common random numbers, and lever decomposition.

Every scenario is simulated with the same master seed, hence the same
replication seeds, so replication *r* of each scenario shares the random draws
the policy does not change (see ``simulator.rng``).  Files:

* ``summary.csv``, ``provinces.csv``, ``counties.csv.gz``, ``replications.csv.gz`` -- every scenario's
  own tables, stacked (formats as for ``grassroots run``);
* ``comparison.csv`` -- ``metric,year,scenario,base,mean_diff,ci_low,ci_high``: the paired
  difference OTHER - BASE per replication, its mean and the 90% Student-t confidence interval of that mean
  (``summary.csv``'s ``p05,p95`` are instead the spread across replications)
  (see :mod:`grassroots.studies.compare`);
* ``decomposition.csv`` (with ``--decompose``) -- ``scenario,metric,year,lever,contribution``:
  exact Shapley values of each lever family in the change from BASE to OTHER, plus
  ``lever = total``; every coalition of families is simulated once with the same seeds;
* ``report.html`` and figures.

Resuming: finished replications of every scenario and sub-scenario are kept in
``<results root>/.cache/compare-<digest>/<scenario sha256>/``; the same command
run again reuses them; the cache is removed once the result folder is in place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time

import pandas as pd

from ..report import write_report
from ..studies import compare as C
from ..studies.decomposition import DECOMPOSITION_COLUMNS, too_many_families
from . import options as opts


progress_printer = opts.progress_printer   # looked up at call time (tests replace it)


def _progress(quiet: bool):
    """The study's progress factory: a ``run: done/total replications`` printer per simulation, prefixed by its label."""
    def for_simulation(what: str):
        prog = progress_printer(quiet)
        if prog is None:
            return None
        return lambda d, t: (sys.stderr.write(f"{what}: "), prog(d, t))
    return for_simulation


def compare(args) -> int:
    """Run the ``grassroots compare`` command for parsed ``args``; returns the exit status."""
    import scenarios

    problems = opts.check_common(args)
    loaded = C.load_scenarios([args.scenario, *args.others])
    if problems:
        raise opts.InputError(problems)
    labels = C.unique_names([sc.name for sc in loaded])
    base_sc, base_label = loaded[0], labels[0]
    decompose = bool(getattr(args, "decompose", False))
    if decompose:
        too_many = too_many_families(base_sc, loaded[1:], labels[1:], base_label)
        if too_many:
            raise opts.InputError(too_many)

    table = opts.user_table(args)
    workers = opts.workers(args)
    provinces = opts.provinces(args)
    years = args.years if args.years is not None else base_sc.horizon.years
    digest = hashlib.sha256(json.dumps({"scenarios": [scenarios.sha256(s) for s in loaded], "provinces": provinces,
                                        "years": years, "seed": args.seed, "replications": args.replications,
                                        "county_table": getattr(args, "county_table", None)},
                                       sort_keys=True).encode()).hexdigest()[:16]
    rf = opts.result_folder("compare", base_sc.name, args)
    cache_root = opts.cache_dir(rf, f"compare-{digest}")
    if not args.quiet:
        print(f"compare: {', '.join(labels)}; {years} years, {args.replications} replication(s), seed {args.seed}; "
              f"checkpoints in {cache_root}", file=sys.stderr)

    started = time.monotonic()
    c = C.compare(loaded, labels, provinces=provinces, years=years, replications=args.replications, seed=args.seed,
                  workers=workers, table=table, cache_root=cache_root, decompose=decompose,
                  progress=_progress(args.quiet))
    seconds = time.monotonic() - started
    results = c.results

    with rf as out:
        out.write_csv("summary.csv", c.summary)
        out.write_csv("comparison.csv", c.comparison)
        out.write_csv("provinces.csv", c.provinces)
        out.write_csv("replications.csv.gz", c.replications)
        out.write_csv("counties.csv.gz", c.counties)
        if c.decomposition is not None:
            out.write_csv("decomposition.csv", c.decomposition)
        out.manifest.update({
            "scenario": base_label,
            "base": base_label,
            "scenarios": {lab: {"sha256": r.scenario_sha256, "description": sc.description}
                          for sc, lab, r in zip(loaded, labels, results)},
            "seed": args.seed,
            "replication_seeds": results[0].seeds,
            "replications": args.replications,
            "years": years,
            "start_year": results[0].years[0],
            "calendar_years": results[0].years,
            "provinces": results[0].province_codes,
            "workers": workers,
            "decomposition_sub_runs": c.sub_runs,
            "simulation_seconds": round(seconds, 2),
            "interval": "ci_low/ci_high of comparison.csv: 90% Student-t confidence interval of the mean paired difference over replications; p05/p95 of summary.csv: spread (5th-95th percentile) across replications",
            "common_random_numbers": "replication r of every scenario uses replication_seeds[r]",
        })
        write_report(out, scenarios=loaded, summary=c.summary, comparison=c.comparison, counties=c.counties,
                     decomposition=_report_decomposition(c.decomposition), base=base_label,
                     names=dict(zip(labels, labels)), lang=getattr(args, "lang", "en"),
                     start_year=results[0].years[0])
    shutil.rmtree(cache_root, ignore_errors=True)
    try:
        cache_root.parent.rmdir()
    except OSError:
        pass
    print(rf.final_path)
    return 0


def _report_decomposition(decomposition: pd.DataFrame | None) -> pd.DataFrame | None:
    """The report shows the decomposition of the first OTHER scenario (columns metric, year, lever, contribution)."""
    if decomposition is None or decomposition.empty:
        return None
    first = decomposition["scenario"].iloc[0]
    return decomposition[decomposition["scenario"] == first][DECOMPOSITION_COLUMNS].reset_index(drop=True)
