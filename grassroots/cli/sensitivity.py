"""``grassroots sensitivity``: a global sensitivity study of a scenario, written as one result folder.

Writes ``sensitivity.csv`` (``metric,param,index,value,conf``), ``samples.csv``
(one row per model run: the parameter values and the headline metrics),
``manifest.json`` (with the study settings, every parameter's range and why it
is in the default set, the executor and how many points came from the cache),
``tornado-<metric>.png`` per headline metric and ``report.html``.

Resuming: finished sample points are kept in
``<results root>/.cache/sensitivity-<digest>/`` (one small JSON file each,
written atomically; see :mod:`grassroots.checkpoints`); running the same command
again reuses them.  The cache is removed once the result folder is in place, unless
another identical study is still using it.  See :mod:`grassroots.studies.sensitivity`.
"""

from __future__ import annotations

import sys

from ..report import write_report
from ..report.study_reports import write_tornadoes
from ..studies import sensitivity as sa
from ..checkpoints import CheckpointStore
from ..studies.executors import make_executor
from . import options as opts

points_printer = opts.points_printer   # looked up at call time (tests replace it)


def sensitivity(args) -> int:
    """Run the study described by the parsed command-line ``args``; returns the exit status."""
    import scenarios

    problems = opts.check_common(args)
    sc = opts.load_scenario(args)  # ScenarioError: one line per problem, exit 2
    try:
        params = sa.parse_params(args.param, sc)
        sa.check_corners(params, sc)
    except sa.SensitivityInputError as e:
        problems += e.problems
        params = []
    options = sa.sim_options(provinces=args.province, years=args.years, replications=args.replications,
                             seed=args.seed, county_table=getattr(args, "county_table", None))
    if problems:
        raise sa.SensitivityInputError(problems)
    study = sa.Study(params, method=args.method, samples=args.samples, base=scenarios.to_dict(sc),
                     options=options, seed=args.seed)

    rf = opts.result_folder("sensitivity", sc.name, args)  # fails now if --out exists or is being written
    store = CheckpointStore(rf.final_path.parent, "sensitivity", study.cache_key())
    cache = sa.PointCache(store.folder, study.cache_key())
    if not args.quiet:
        print(f"sensitivity: {study.n_points()} model runs ({args.method}, {len(params)} parameters, "
              f"{args.replications} replication(s) each); cache {cache.folder}", file=sys.stderr)
    with store:
        progress = points_printer("sensitivity", quiet=args.quiet)
        with make_executor(args.workers, args.scheduler) as ex:
            study.run(executor=ex, cache=cache, progress=progress)
            executor_info = ex.describe()
        _write(rf, args, sc, study, executor_info)
        store.finished()
    if not args.quiet:
        print(f"sensitivity: wrote {rf.final_path}", file=sys.stderr)
    return 0


def _write(rf, args, sc, study, executor_info) -> None:
    """The result folder of a finished study."""
    import scenarios
    from simulator import replication_seeds
    with rf as out:
        out.write_csv("sensitivity.csv", study.indices_)
        out.write_csv("samples.csv", study.samples_)
        notes = write_tornadoes(out, study.indices_, study.metrics)
        out.manifest.update({
            "scenario_sha256": scenarios.sha256(sc),
            "description": sc.description,
            "seed": args.seed,
            "replication_seeds": replication_seeds(args.seed, args.replications),
            "common_random_numbers": "every sample point runs with the same replication seeds",
            "provinces": args.province,
            "years": args.years if args.years is not None else sc.horizon.years,
            "replications": args.replications,
            "study": study.describe(),
            "executor": executor_info,
            "points_from_cache": study.points_reused_,
            "notes": notes,
        })
        # embeds the tornado charts (the PNG files are written above, one per metric)
        write_report(out, sensitivity=study.indices_, scenarios=[sc], save_figures=False,
                     lang=getattr(args, "lang", "en"))
