"""``grassroots compare BASE OTHER...``: paired comparison with common random numbers, and lever decomposition.

Every scenario is simulated with the same master seed, hence the same
replication seeds, so replication *r* of each scenario shares the random draws
the policy does not change (see ``simulator.rng``).  Files:

* ``summary.csv``, ``provinces.csv``, ``counties.csv.gz``, ``replications.csv.gz`` -- every scenario's
  own tables, stacked (formats as for ``grassroots run``);
* ``comparison.csv`` -- ``metric,year,scenario,base,mean_diff,p05,p95``: the paired
  difference OTHER - BASE per replication, its mean and 90% t-interval
  (see :mod:`grassroots.compare`);
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
import os
import shutil
import sys
import time

import pandas as pd

from .cmd_run import RunInputError, check_args, progress_printer, user_table
from .compare import (DECOMPOSITION_COLUMNS, MAX_EXACT_FAMILIES, changed_families, decomposition_table,
                      paired_differences, shapley, subset_document)
from .results import ResultFolder

CACHE_DIRNAME = ".cache"
DECOMPOSED_METRICS = ("coverage", "staff", "vacancies", "turnover_rate", "exits", "senior_share", "mean_skill",
                      "cost_yuan", "coverage_gini", "share_counties_below_80pct")


def _unique_names(names: list[str]) -> list[str]:
    """Scenario labels, made unique ('x', 'x#2', ...) when a scenario is given twice."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def _load_all(refs: list[str]):
    import scenarios
    loaded, problems = [], []
    for ref in refs:
        try:
            loaded.append(scenarios.load(ref))
        except scenarios.ScenarioError as e:
            problems += e.problems
    if problems:
        raise scenarios.ScenarioError(problems)
    return loaded


def content_key(sc) -> str:
    """Digest of a scenario's parameters without its name and description (equal content, equal results)."""
    import scenarios
    doc = scenarios.to_dict(sc)
    doc.pop("name", None)
    doc.pop("description", None)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _relabel(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df = df.copy()
    df["scenario"] = label
    return df


def compare(args) -> int:
    """Run the ``grassroots compare`` command for parsed ``args``; returns the exit status."""
    import scenarios
    import simulator

    problems = check_args(args)
    loaded = _load_all([args.scenario, *args.others])
    if problems:
        raise RunInputError(problems)
    labels = _unique_names([sc.name for sc in loaded])
    base_sc, base_label = loaded[0], labels[0]
    decompose = bool(getattr(args, "decompose", False))
    if decompose:
        base_doc = scenarios.to_dict(base_sc)
        too_many = [f"{lab}: {len(changed_families(base_doc, scenarios.to_dict(sc)))} lever families differ from "
                    f"{base_label} (allowed: at most {MAX_EXACT_FAMILIES} for an exact decomposition)"
                    for sc, lab in zip(loaded[1:], labels[1:])
                    if len(changed_families(base_doc, scenarios.to_dict(sc))) > MAX_EXACT_FAMILIES]
        if too_many:
            raise RunInputError(too_many)

    table = user_table(args)
    workers = args.workers if args.workers else (os.cpu_count() or 1)
    provinces = list(args.province) if args.province else None
    years = args.years if args.years is not None else base_sc.horizon.years
    digest = hashlib.sha256(json.dumps({"scenarios": [scenarios.sha256(s) for s in loaded], "provinces": provinces,
                                        "years": years, "seed": args.seed, "replications": args.replications,
                                        "county_table": getattr(args, "county_table", None)},
                                       sort_keys=True).encode()).hexdigest()[:16]
    rf = ResultFolder("compare", base_sc.name, out=args.out, argv=sys.argv)
    cache_root = rf.final_path.parent / CACHE_DIRNAME / f"compare-{digest}"
    if not args.quiet:
        print(f"compare: {', '.join(labels)}; {years} years, {args.replications} replication(s), seed {args.seed}; "
              f"checkpoints in {cache_root}", file=sys.stderr)

    def run_one(sc, what: str):
        prog = progress_printer(args.quiet)
        if prog is not None:
            inner = prog
            prog = lambda d, t: (sys.stderr.write(f"{what}: "), inner(d, t))  # noqa: E731
        return simulator.simulate(sc, provinces=provinces, years=years, replications=args.replications,
                                  seed=args.seed, workers=workers, progress=prog, table=table,
                                  checkpoint=cache_root / scenarios.sha256(sc)[:16])

    started = time.monotonic()
    results = [run_one(sc, lab) for sc, lab in zip(loaded, labels)]
    summary = pd.concat([_relabel(r.summary, lab) for r, lab in zip(results, labels)], ignore_index=True)
    provinces_tab = pd.concat([_relabel(r.provinces, lab) for r, lab in zip(results, labels)], ignore_index=True)
    counties = pd.concat([_relabel(r.counties, lab) for r, lab in zip(results, labels)], ignore_index=True)
    reps = pd.concat([_relabel(r.replications, lab) for r, lab in zip(results, labels)], ignore_index=True)
    comparison = paired_differences(reps, base_label)

    decomposition = None
    sub_runs = 0
    if decompose:
        frames = []
        cache: dict[str, pd.Series] = {}
        for sc, r in zip(loaded, results):  # coalitions equal to a scenario already run are not re-run
            s = r.summary[r.summary["metric"].isin(DECOMPOSED_METRICS)]
            cache[content_key(sc)] = s.set_index(["metric", "year"])["mean"].sort_index()
        base_doc = scenarios.to_dict(base_sc)
        for sc, lab in zip(loaded[1:], labels[1:]):
            doc = scenarios.to_dict(sc)
            fams = changed_families(base_doc, doc)

            def value(subset, doc=doc, fams=fams, lab=lab):
                nonlocal sub_runs
                sub_doc = subset_document(base_doc, doc, subset)
                sub_doc["name"] = "+".join([base_label, *sorted(subset)]) if subset else base_label
                sub = scenarios.from_dict(sub_doc, label=f"{lab} decomposition", base=base_sc)
                key = content_key(sub)
                if key not in cache:
                    sub_runs += 1
                    s = run_one(sub, f"{lab} [{'+'.join(sorted(subset)) or 'none'}]").summary
                    s = s[s["metric"].isin(DECOMPOSED_METRICS)]
                    cache[key] = s.set_index(["metric", "year"])["mean"].sort_index()
                return cache[key]

            table = decomposition_table(shapley(fams, value))
            table.insert(0, "scenario", lab)
            frames.append(table)
        decomposition = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["scenario", *DECOMPOSITION_COLUMNS])
    seconds = time.monotonic() - started

    with rf as out:
        out.write_csv("summary.csv", summary)
        out.write_csv("comparison.csv", comparison)
        out.write_csv("provinces.csv", provinces_tab)
        out.write_csv("replications.csv.gz", reps)
        out.write_csv("counties.csv.gz", counties)
        if decomposition is not None:
            out.write_csv("decomposition.csv", decomposition)
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
            "decomposition_sub_runs": sub_runs,
            "simulation_seconds": round(seconds, 2),
            "interval": "p05/p95 of comparison.csv: 90% Student-t interval of the mean paired difference over replications",
            "common_random_numbers": "replication r of every scenario uses replication_seeds[r]",
        })
        from . import report
        report.write_report(out, scenarios=loaded, summary=summary, comparison=comparison, counties=counties,
                            decomposition=_report_decomposition(decomposition), base=base_label,
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
