"""Options every command shares, in one place: adding them to a parser, checking them, and turning them into
what the studies take (scenario, county table, workers, result folder, progress callbacks).

Checks return one line per problem naming the option and what is allowed; a command raises them together
(:class:`InputError`, or the engine's own error class) before anything is written, and
:func:`grassroots.cli.main` prints them and exits 2.

Importing this module imports neither pandas nor the engines (``grassroots --help`` stays fast); the
functions import what they need.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from ..results import ResultFolder

OBJECTIVES = ("shortfall", "equity", "cost")
SOLVERS = ("highs", "cbc")
CACHE_DIRNAME = ".cache"      # checkpoints live in <results root>/.cache/<command>-<digest>/


class InputError(ValueError):
    """Problems with a command's input, one line each (the command line prints them and exits 2)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ----------------------------------------------------------------------------- parser

DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 20160701


def add_region(p: argparse.ArgumentParser) -> None:
    """``--province`` and ``--county-table``: which counties a command works on."""
    p.add_argument("--province", action="append", metavar="CODE",
                   help="GB/T 2260 two-digit province code; repeatable (default: the scenario's, else all 31)")
    p.add_argument("--county-table", dest="county_table", metavar="CSV",
                   help="your own county table (same columns as scenarios.county_table(); default: the bundled one)")


def add_simulation(p: argparse.ArgumentParser, note: str = "", defaults: bool = True) -> None:
    """``--years``, ``--replications``, ``--seed``, ``--workers`` of a simulating command.  With
    ``defaults=False`` they stay None when not given (a command that uses them only in one mode tells)."""
    p.add_argument("--years", type=int, metavar="N", help=f"years to simulate, 1-50 (default: the scenario's horizon){note}")
    p.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS if defaults else None, metavar="R",
                   help=f"Monte Carlo replications, 1-100,000 (default {DEFAULT_REPLICATIONS}){note}")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED if defaults else None, metavar="S",
                   help=f"master seed, 0 to 2**63-1 (default {DEFAULT_SEED}){note}")
    p.add_argument("--workers", type=int, default=1 if defaults else None, metavar="W",
                   help=f"worker processes; 0 = one per CPU (default 1){note}")


def add_output(p: argparse.ArgumentParser) -> None:
    """``--out``, ``--quiet``, ``--lang``: where and how a command writes."""
    p.add_argument("--out", metavar="DIR", help="result folder to create (default results/<command>-<scenario>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of report.html and figures (default en)")


def add_common(p: argparse.ArgumentParser) -> None:
    """The options of every simulating command: region, horizon, replications, seed, workers,
    county table, result folder, quiet, language."""
    add_region(p)
    add_simulation(p)
    add_output(p)


# ----------------------------------------------------------------------------- checks

def check_common(args) -> list[str]:
    """Problems with the common simulation options (one line each)."""
    problems = []
    if args.replications is None or args.replications < 1:
        problems.append(f"--replications: {args.replications} is not allowed (allowed: a whole number >= 1)")
    if args.years is not None and args.years < 1:
        problems.append(f"--years: {args.years} is not allowed (allowed: a whole number >= 1)")
    if args.workers is not None and args.workers < 0:
        problems.append(f"--workers: {args.workers} is not allowed (allowed: a whole number >= 0; 0 = one per CPU)")
    if args.province:
        import scenarios
        allowed = scenarios.province_codes()
        for code in args.province:
            if code not in allowed:
                problems.append(f"--province: unknown province code {code!r} (allowed: {', '.join(allowed)})")
    return problems


def check_optimizer(args, command: str) -> list[str]:
    """Every problem with the optimizing commands' arguments (optimize, size-budget, frontier, plan), one line each."""
    p: list[str] = []
    budget = getattr(args, "budget", None)
    if budget is not None and not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget >= 0):
        p.append(f"--budget: {budget!r} is negative or not a number (allowed: a number >= 0, yuan per year)")
    target = getattr(args, "target", None)
    if target is not None and not (math.isfinite(target) and 0 <= target <= 1):
        p.append(f"--target: {target!r} (allowed: a coverage from 0 to 1, staff/demand)")
    share = getattr(args, "share", None)
    if share is not None and not (math.isfinite(share) and 0 <= share <= 1):
        p.append(f"--share: {share!r} (allowed: a share of counties from 0 to 1)")
    objective = getattr(args, "objective", None)
    if objective is not None and objective not in OBJECTIVES:
        p.append(f"--objective: {objective!r} (allowed: {', '.join(OBJECTIVES)})")
    elif command == "size-budget" and objective not in (None, "cost"):
        p.append(f"--objective: {objective!r} (allowed: cost or omitted; size-budget minimises the budget)")
    elif command == "frontier" and objective not in (None, "shortfall"):
        p.append(f"--objective: {objective!r} (allowed: shortfall or omitted; the frontier sweeps the weighted shortfall)")
    solver = getattr(args, "solver", None)
    if solver is not None and solver not in SOLVERS:
        p.append(f"--solver: {solver!r} (allowed: {', '.join(SOLVERS)})")
    confidence = getattr(args, "confidence", None)
    if command == "size-budget" and confidence is not None:
        if not (math.isfinite(confidence) and 0 < confidence < 1):
            p.append(f"--confidence: {confidence!r} (allowed: a probability strictly between 0 and 1)")
        reps = getattr(args, "replications", None)
        if reps is not None and reps < 1:
            p.append(f"--replications: {reps!r} (allowed: a whole number >= 1)")
        years = getattr(args, "years", None)
        if years is not None and years < 1:
            p.append(f"--years: {years!r} (allowed: a whole number >= 1)")
        if getattr(args, "write_lp", False):
            p.append("--write-lp: not used with --confidence (allowed: without --confidence; the sized fund comes "
                     "from simulating many planned allocations, not from one model)")

    if command == "frontier":
        spec = getattr(args, "budgets", None)
        if spec is None:
            p.append("--budgets: missing (allowed: MIN:MAX:N, e.g. 0:2e10:20)")
        else:
            from optimizer import OptimizerInputError, parse_budgets
            try:
                parse_budgets(spec)
            except OptimizerInputError as e:
                p.extend(e.problems)
    provinces = getattr(args, "province", None)
    if provinces:
        import scenarios
        allowed = scenarios.province_codes()
        for code in provinces:
            if code not in allowed:
                p.append(f"--province: {code!r} is not a province code (allowed: {', '.join(allowed)})")
    return p


# ----------------------------------------------------------------------------- values the studies take

def workers(args) -> int:
    """``--workers``, with 0 meaning one per CPU."""
    return args.workers if args.workers else (os.cpu_count() or 1)


def provinces(args) -> list[str] | None:
    """``--province`` codes, or None for the scenario's (else all)."""
    return list(args.province) if args.province else None


def user_table(args):
    """The user's county table from ``--county-table CSV`` (validated; CountyDataError lines otherwise), or None."""
    path = getattr(args, "county_table", None)
    if not path:
        return None
    import scenarios
    return scenarios.county_table(provinces=args.province or None, path=path)


def scenario_label(args, sc) -> str:
    """The name result folders use: the scenario's name, else its file's stem."""
    return sc.name or Path(str(args.scenario)).stem


def result_folder(command: str, name: str, args) -> ResultFolder:
    """The command's result folder (``--out`` or ``results/<command>-<name>-<time>``); fails now if ``--out`` exists."""
    return ResultFolder(command, name, out=args.out, argv=sys.argv)


def cache_dir(rf: ResultFolder, name: str) -> Path:
    """Checkpoint folder ``<results root>/.cache/<name>`` beside the result folder ``rf`` will become."""
    return rf.final_path.parent / CACHE_DIRNAME / name


# ----------------------------------------------------------------------------- optimizer options

def optimizer_inputs(args):
    """(scenario, optimizer inputs) for the command's scenario, provinces, county table and budget."""
    import optimizer
    import scenarios
    sc = scenarios.load(args.scenario)
    inputs = optimizer.from_scenario(sc, table=user_table(args), provinces=args.province or None,
                                    budget_yuan=getattr(args, "budget", None))
    return sc, inputs


def allocator(args, sc, **fixed):
    """``optimizer.Allocator`` for the scenario with ``--objective/--solver/--target/--share/--integer`` over it."""
    import optimizer
    kw = dict(objective=getattr(args, "objective", None), solver=getattr(args, "solver", None),
              coverage_target=getattr(args, "target", None), target_share=getattr(args, "share", None))
    if getattr(args, "integer", False):
        kw["integer"] = True
    kw.update(fixed)
    return optimizer.Allocator.from_scenario(sc, **kw)


def optimizer_manifest(rf, args, sc, inputs, extra: dict) -> None:
    """The manifest entries of an optimizing command (scenario, provinces, years, budget) plus ``extra``."""
    import scenarios
    rf.manifest.update({
        "scenario_name": sc.name,
        "scenario_sha256": scenarios.sha256(sc),
        "provinces": list(args.province) if args.province else (list(sc.region.provinces) or "all"),
        "years": int(sc.horizon.years),
        "seed": None,
        "replication_seeds": [],
        "budget_yuan": inputs.budget_yuan,
        **extra,
    })


# ----------------------------------------------------------------------------- output

def say(args, text: str) -> None:
    """A line on stderr unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def progress_printer(quiet: bool, stream=None):
    """``progress(done, total)`` printing ``run: done/total replications``; in place on a terminal."""
    if quiet:
        return None
    stream = stream if stream is not None else sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    t0 = time.monotonic()

    def report(done: int, total: int) -> None:
        msg = f"run: {done}/{total} replications ({time.monotonic() - t0:.0f} s)"
        stream.write(("\r" + msg + ("\n" if done == total else "")) if tty else msg + "\n")
        stream.flush()

    return report


def points_printer(label: str = "sensitivity", stream=None, quiet: bool = False) :
    """A progress callback printing ``label: done/total points (k from cache)``: in place on a terminal, else every 10%."""
    if quiet:
        return None
    stream = stream if stream is not None else sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    state = {"last": -1}

    def report(done: int, total: int, reused: int) -> None:
        msg = f"{label}: {done}/{total} points" + (f" ({reused} from cache)" if reused else "")
        if tty:
            stream.write("\r" + msg + ("\n" if done == total else ""))
            stream.flush()
        else:
            step = max(1, total // 10)
            if done == total or done // step != state["last"]:
                state["last"] = done // step
                stream.write(msg + "\n")
                stream.flush()

    return report
