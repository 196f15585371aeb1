"""``grassroots compare BASE OTHER...``: paired comparison with common random numbers, and lever decomposition.

Every scenario is simulated with the same master seed, hence the same
replication seeds, so replication *r* of each scenario shares the random draws
the policy does not change (see ``simulator.rng``).  Files:

* ``summary.csv``, ``provinces.csv``, ``counties.parquet``, ``replications.parquet`` -- every scenario's
  own tables, stacked (formats as for ``grassroots run``);
* ``comparison.csv`` -- ``metric,year,scenario,base,mean_diff,ci_low,ci_high``: the paired
  difference OTHER - BASE per replication, its mean and the 90% Student-t confidence interval of that mean
  (``summary.csv``'s ``p05,p95`` are instead the spread across replications)
  (see :mod:`grassroots.studies.compare`);
* ``decomposition.csv`` (with ``--decompose``) -- ``scenario,metric,year,lever,contribution``:
  exact Shapley values of each lever family in the change from BASE to OTHER, plus
  ``lever = total``; every coalition of families is simulated once with the same seeds;
  with ``--decompose levers`` ``scenario,lever,family,metric,year,share,se`` by individual lever, and
  ``interactions.csv`` (``scenario,lever_a,lever_b,context,metric,year,interaction,se``);
* ``report.html`` and figures (with the strongest interactions named).

Coalitions of a decomposition are simulated together, a round at a time, on ``--workers`` local processes
or the ``--scheduler`` cluster, national results only (:mod:`grassroots.studies.coalitions`); results are
the same on every executor.

Resuming: finished replications of every scenario are kept in
``<results root>/.cache/compare-<digest>/<scenario sha256>/`` and the national values of every finished
coalition in ``.../coalitions/<sha256>.npy`` (see :mod:`grassroots.checkpoints`); the
same command run again reuses them; the cache is removed once the result folder is in place.

Progress: one bar for the whole command, whose total counts the replications of every
scenario and of every decomposition sub-run (counted before any runs).  The headline
differences of the last year are printed at the end.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from ..report import write_report
from ..studies import compare as C
from ..studies.decomposition import (DECOMPOSED_METRICS, DECOMPOSITION_COLUMNS, LeverOptions, planned_sub_runs,
                                     strongest_interactions, too_many_families)
from . import options as opts


progress_printer = opts.progress_printer   # looked up at call time (tests replace it)


def _progress(bar, limit: int | None = None):
    """The study's progress factory: every simulation (the first ``limit`` ones, if given) draws on the
    command's one bar, named in its note."""
    count = [0]

    def for_simulation(what: str):
        count[0] += 1
        if limit is not None and count[0] > limit:
            return None
        bar.set_note(what)
        return progress_printer(bar.quiet, bar=bar)
    return for_simulation


def compare(args) -> int:
    """Run the ``grassroots compare`` command for parsed ``args``; returns the exit status."""
    import scenarios

    problems = opts.check_common(args) + _check_decompose(args)
    loaded = [opts.with_places(args, sc) for sc in C.load_scenarios([args.scenario, *args.others])]
    if problems:
        raise opts.InputError(problems)
    labels = C.unique_names([sc.name for sc in loaded])
    base_sc, base_label = loaded[0], labels[0]
    decompose = getattr(args, "decompose", None)
    decompose = "families" if decompose is True else (decompose or False)
    if decompose == "families":
        too_many = too_many_families(base_sc, loaded[1:], labels[1:], base_label)
        if too_many:
            raise opts.InputError(too_many)

    table = opts.user_table(args)
    workers = opts.workers(args)
    provinces = opts.provinces(args)
    years = args.years if args.years is not None else base_sc.horizon.years
    sub_runs = planned_sub_runs(base_sc, base_label, loaded, labels) if decompose == "families" else 0
    rf = opts.result_folder("compare", base_sc.name, args)
    store = opts.checkpoints(rf, "compare", [scenarios.sha256(s) for s in loaded], args, years)
    if not args.quiet:
        print(f"compare: {', '.join(labels)}; {years} years, {args.replications} replication(s), seed {args.seed}"
              + (f", {sub_runs} decomposition sub-runs" if decompose == "families" else "") + f"; checkpoints in {store.folder}",
              file=sys.stderr)

    started = time.monotonic()
    lever_options = LeverOptions(target_se=getattr(args, "decompose_se", 0.1),
                                 max_pairs=getattr(args, "decompose_max_pairs", 100),
                                 stop_metric=getattr(args, "decompose_metric", "coverage"), seed=args.seed)
    # the bar counts the scenarios' replications and, for families, every planned sub-run; the number of lever
    # sub-runs depends on the stopping rule, so those report by note lines instead
    bar = opts.progress_bar("compare", (len(loaded) + sub_runs) * args.replications, "replications",
                            quiet=args.quiet)
    with store, bar:
        c = C.compare(loaded, labels, provinces=provinces, years=years, replications=args.replications,
                      seed=args.seed, workers=workers, table=table, cache_root=store.folder, decompose=decompose,
                      progress=_progress(bar, limit=len(loaded) if decompose == "levers" else None),
                      lever_options=lever_options,
                      note=(lambda text: opts.say(args, f"decompose levers: {text}")))
        bar.close()
        _write(rf, args, c, loaded, labels, base_label, years, workers, time.monotonic() - started)
        store.finished()
    if not args.quiet:
        for line in opts.headline(c.summary[c.summary["scenario"] == base_label], base_label):
            print(line, file=sys.stderr)
        for line in opts.headline_differences(c.comparison):
            print(line, file=sys.stderr)
    print(rf.final_path)
    return 0


def _write(rf, args, c, loaded, labels, base_label: str, years: int, workers: int, seconds: float) -> None:
    """The result folder of a finished comparison."""
    results = c.results

    with rf as out:
        out.write_csv("summary.csv", c.summary)
        out.write_csv("comparison.csv", c.comparison)
        out.write_csv("provinces.csv", c.provinces)
        opts.write_large(out, "replications.parquet", c.replications, args, "compare")
        opts.write_large(out, "counties.parquet", c.counties, args, "compare")
        if c.decomposition is not None:
            out.write_csv("decomposition.csv", c.decomposition)
        if c.interactions is not None:
            out.write_csv("interactions.csv", c.interactions)
            strongest = strongest_interactions(c.interactions, getattr(args, "decompose_metric", "coverage"))
            out.manifest["decomposition"] = {"by": "lever", **(c.decomposition_info or {}),
                                             "strongest_interactions": strongest.to_dict(orient="records")}
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
                     interactions=c.interactions if c.interactions is not None and not c.interactions.empty else None,
                     interactions_metric=getattr(args, "decompose_metric", "coverage"),
                     names=dict(zip(labels, labels)), lang=getattr(args, "lang", "en"),
                     start_year=results[0].years[0])


def _report_decomposition(decomposition: pd.DataFrame | None) -> pd.DataFrame | None:
    """The report shows the decomposition of the first OTHER scenario (columns metric, year, lever, contribution;
    by lever also ``se``, the standard error of each share)."""
    if decomposition is None or decomposition.empty:
        return None
    first = decomposition["scenario"].iloc[0]
    d = decomposition[decomposition["scenario"] == first]
    if "share" in d.columns:   # by lever: the same shape, shares as contributions
        return d.rename(columns={"share": "contribution"})[DECOMPOSITION_COLUMNS + ["se"]].reset_index(drop=True)
    return d[DECOMPOSITION_COLUMNS].reset_index(drop=True)


def _check_decompose(args) -> list[str]:
    """Problems with the ``--decompose-*`` options (one line each)."""
    p = []
    se = getattr(args, "decompose_se", 0.1)
    if se is None or not (se > 0 and se < float("inf")):
        p.append(f"--decompose-se: {se!r} (allowed: a number > 0, the target SE relative to the largest share)")
    pairs = getattr(args, "decompose_max_pairs", 100)
    if pairs is None or pairs < 3:
        p.append(f"--decompose-max-pairs: {pairs!r} (allowed: a whole number >= 3)")
    metric = getattr(args, "decompose_metric", "coverage")
    if metric not in DECOMPOSED_METRICS:
        p.append(f"--decompose-metric: {metric!r} (allowed: {', '.join(DECOMPOSED_METRICS)})")
    return p
