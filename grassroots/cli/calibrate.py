"""``grassroots calibrate``: fit behaviour parameters of a scenario to observed rates.

Writes one result folder:

* ``calibrated.toml`` -- the calibrated scenario: only the fitted keys, ``extends``
  the input scenario (its bundled name, or the absolute path of its file), so
  ``grassroots run <folder>/calibrated.toml`` runs it;
* ``fit.csv`` -- one row per target: observed value and sd, simulated mean
  before and after, 5-95% range over replications, Monte Carlo standard error,
  ``z = (simulated - observed) / sd``, and the same at an independent
  validation seed;
* ``params.csv`` -- each fitted key: initial and calibrated value, approximate
  standard error (from the Jacobian of the sd-scaled residuals), bounds;
* ``history.csv`` -- every parameter vector evaluated and its loss;
* ``manifest.json`` -- with the targets file and its sha256, seeds, loss, notes.

Loss, optimizer and noise handling are documented in :mod:`grassroots.studies.calibration`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from ..report.study_reports import write_calibration_report
from ..studies import calibration as cal
from ..studies.executors import make_executor
from ..studies.sensitivity import derive_seed
from . import options as opts


def _extends_ref(ref: str) -> str:
    """How the calibrated file names its parent: a bundled name stays a name; a file becomes an absolute path."""
    if ref.endswith(".toml") or "/" in ref or "\\" in ref:
        return str(Path(ref).resolve())
    return ref


def calibrate(args) -> int:
    """Run the calibration described by the parsed command-line ``args``; returns the exit status."""
    import scenarios

    problems = opts.check_common(args)
    max_evals = getattr(args, "max_evals", None)
    if max_evals is not None and max_evals < 1:
        problems.append(f"--max-evals: {max_evals} is not allowed (allowed: a whole number >= 1)")
    sc = opts.load_scenario(args)
    try:
        targets, description = cal.load_targets(args.targets)
    except cal.CalibrationInputError as e:
        problems += e.problems
        targets = []
    if problems:
        raise cal.CalibrationInputError(problems)

    seed = args.seed
    options = {"provinces": list(args.province) if args.province else None, "years": args.years,
               "replications": args.replications, "seed": seed}
    if getattr(args, "county_table", None):   # read once per worker; its sha256 is recorded with the options
        from ..studies.sensitivity import sim_options
        options.update({k: v for k, v in sim_options(county_table=args.county_table).items() if k.startswith("county_table")})
    validation_seed = derive_seed(seed, "calibration-validation")
    calib = cal.Calibration(targets, base=scenarios.to_dict(sc), options=options, validation_seed=validation_seed,
                            **({"max_evals": max_evals} if max_evals is not None else {}))

    rf = opts.result_folder("calibrate", sc.name, args)  # fails now if --out exists
    progress = None
    if not args.quiet:
        print(f"calibrate: {len(calib.params)} parameter(s), {len(calib.fitted)} fitted target(s), "
              f"{args.replications} replication(s) per evaluation", file=sys.stderr)

        def progress(k: int, loss: float) -> None:
            print(f"calibrate: evaluation {k}: loss {loss:.4g}", file=sys.stderr)

    with make_executor(args.workers, getattr(args, "scheduler", None)) as ex:
        calib.fit(executor=ex, progress=progress)
        executor_info = ex.describe()

    targets_path = Path(args.targets) if args.targets else cal.default_targets_path()
    with rf as out:
        name = f"{sc.name}-calibrated"
        text = calib.to_toml(name, _extends_ref(args.scenario),
                             description=f"{sc.name} with behaviour parameters calibrated to {targets_path.name}")
        p = out.write_text("calibrated.toml", text)
        scenarios.load(str(p))          # the written file must load; a ScenarioError here is a bug
        out.write_csv("fit.csv", calib.table_)
        out.write_csv("params.csv", calib.param_table_)
        out.write_csv("history.csv", calib.history_)
        from simulator import replication_seeds
        rep_seeds = replication_seeds(seed, args.replications)
        out.manifest.update({
            "scenario_sha256": scenarios.sha256(sc),
            "targets_file": str(targets_path),
            "targets_sha256": hashlib.sha256(targets_path.read_bytes()).hexdigest(),
            "targets_description": description,
            "seed": seed,
            "replication_seeds": rep_seeds,
            "validation_seed": validation_seed,
            "provinces": args.province,
            "years": args.years if args.years is not None else sc.horizon.years,
            "replications": args.replications,
            "loss": "sum over fitted targets of ((simulated mean - observed) / sd)^2",
            "loss_initial": calib.loss0_,
            "loss_final": calib.loss_,
            "evaluations": calib.n_evals_,
            "optimizer": {"method": "scipy.optimize.least_squares (trf, bounded)", "success": calib.success_,
                          "message": calib.message_, "max_evals": calib.max_evals},
            "calibrated": calib.changes_,
            "executor": executor_info,
            "notes": calib.notes_,
        })
        write_calibration_report(out, sc, calib.table_, calib.param_table_, lang=getattr(args, "lang", "en"))
    if not args.quiet:
        print(f"calibrate: loss {calib.loss0_:.4g} -> {calib.loss_:.4g}; wrote {rf.final_path}", file=sys.stderr)
        for note in calib.notes_:
            print(f"calibrate: note: {note}", file=sys.stderr)
    return 0
