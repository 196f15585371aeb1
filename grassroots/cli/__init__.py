"""The ``grassroots`` command line: the parser, the command table and :func:`main`.

Each command is a thin module in this package (``run``, ``compare``, ``optimize`` (with size-budget and
frontier), ``plan``, ``sensitivity``, ``calibrate``, ``catalog`` (scenarios, validate, params), ``template``,
``export``, ``app``); the options they share are in :mod:`.options` (each command takes only the options it
honours: ``add_region``, ``add_simulation``, ``add_output``, ``add_planning``); the work is done by
:mod:`grassroots.studies` and the engines, the output by :mod:`grassroots.report` and :mod:`grassroots.results`.
Command modules never import each other.

Order of :func:`main`: parse (an option the command does not take is one line naming it); turn
``--province/--city/--county`` names into codes (:func:`.options.resolve_places`); then, inside the
interrupt-aware runner, :func:`.checks.preflight` (ranges, ``--out``, empty selections, memory) and the
command itself.

Every problem with the user's input -- a bad scenario file or county table, an
option out of its range or not taken by the command, an unknown place name, a
selection with no counties, a run that would not fit in memory, an ``--out``
that cannot be created, an infeasible constraint set -- is printed as one line
per problem on stderr (naming the file, key, row or option and what is
allowed), and the program exits with status 2 before anything is written
(checked by :func:`.checks.preflight` before the command starts, and by the
engines).

Exit status:

* **0** -- success; the result folder (or written file) is printed on stdout;
* **2** -- bad input: one line per problem on stderr, nothing written;
* **3** -- ran correctly, but the target is not reachable: ``size-budget`` found no
  fund up to ``--max-budget`` that reaches the coverage target, or the levers'
  bounds cap coverage below it (nothing written; with ``--confidence``: the
  probability curve's maximum and where it is are printed, and the result folder
  with the curve is written);
* **130** -- interrupted (Ctrl-C, :mod:`grassroots.interrupts`): one line saying
  what was kept; finished work (checkpoints) is kept where the command supports
  resuming, no half-written result folder;
* **1** -- an unexpected internal error (a traceback: a bug, please report it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from .options import (OBJECTIVES, SOLVERS, add_common, add_output, add_planning, add_region, add_simulation,
                      scheduler_context)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NOT_REACHED = 3
EXIT_INTERRUPTED = 130   # Ctrl-C: one line saying what was kept (see grassroots.interrupts)

COMMANDS: dict[str, str] = {
    "scenarios": "list the bundled scenarios, one line each",
    "validate": "check a scenario file or bundled name; exit 2 with one line per problem",
    "params": "list every scenario parameter with its unit, allowed range and source",
    "run": "simulate a scenario with replications and write summary and county tables",
    "compare": "run scenarios with common random numbers and report paired differences",
    "optimize": "allocate posts, programme places and subsidy money across counties",
    "size-budget": "the smallest budget that reaches a coverage target",
    "frontier": "sweep the budget: coverage, shortfall and marginal value per yuan",
    "sensitivity": "global sensitivity analysis (Morris, Sobol) of scenario parameters",
    "calibrate": "fit behaviour parameters to observed rates",
    "plan": "optimize, simulate the plan, re-estimate lever effects, repeat",
    "template": "write the bundled county table of a province as an Excel workbook to edit",
    "export": "convert a result folder's Parquet tables to CSV",

    "app": "start the web app (http://127.0.0.1:8765; needs the app extra)",
    "backtest": "run the history scenario from 2016 against the published figures (backtest.csv)",
}

# command -> (module, function) implementing it; a missing module means "not built yet"
HANDLERS: dict[str, tuple[str, str]] = {
    "scenarios": ("grassroots.cli.catalog", "list_scenarios"),
    "validate": ("grassroots.cli.catalog", "validate"),
    "params": ("grassroots.cli.catalog", "params"),
    "run": ("grassroots.cli.run", "run"),
    "compare": ("grassroots.cli.compare", "compare"),
    "optimize": ("grassroots.cli.optimize", "optimize"),
    "size-budget": ("grassroots.cli.optimize", "size_budget"),
    "frontier": ("grassroots.cli.optimize", "frontier"),
    "sensitivity": ("grassroots.cli.sensitivity", "sensitivity"),
    "calibrate": ("grassroots.cli.calibrate", "calibrate"),
    "plan": ("grassroots.cli.plan", "plan"),
    "template": ("grassroots.cli.template", "template"),
    "export": ("grassroots.cli.export", "export"),

    "app": ("grassroots.cli.app", "app"),
    "backtest": ("grassroots.cli.backtest", "backtest"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2.  No abbreviated options: ``--budget`` must not
    silently become ``--budget-path`` on a command that does not take ``--budget``."""

    def __init__(self, *a, **kw):
        kw.setdefault("allow_abbrev", False)
        super().__init__(*a, **kw)

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="grassroots",
        description="Grassroots Talent Planner: simulate and optimise the staffing of county- and "
                    "township-level professional posts under the 2016 grassroots talent policy (人社部发〔2016〕57号).",
    )
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"grassroots-talent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    sub.add_parser("scenarios", help=COMMANDS["scenarios"])
    p = sub.add_parser("validate", help=COMMANDS["validate"])
    p.add_argument("scenario", metavar="FILE|NAME")
    p = sub.add_parser("params", help=COMMANDS["params"])
    p.add_argument("--section", help="only keys under this section, e.g. pay")

    p = sub.add_parser("run", help=COMMANDS["run"])
    p.add_argument("scenario", metavar="SCENARIO")
    add_common(p)

    p = sub.add_parser("compare", help=COMMANDS["compare"])
    p.add_argument("scenario", metavar="BASE")
    p.add_argument("others", nargs="+", metavar="OTHER")
    p.add_argument("--decompose", nargs="?", const="families", choices=["families", "levers"],
                   help="Shapley decomposition of the change: by lever family (default) or by individual lever")
    p.add_argument("--decompose-se", dest="decompose_se", type=float, default=0.1, metavar="REL",
                   help="--decompose levers: stop when every lever's SE <= REL x the largest share (default 0.1)")
    p.add_argument("--decompose-max-pairs", dest="decompose_max_pairs", type=int, default=100, metavar="N",
                   help="--decompose levers: at most N antithetic pairs of lever orders (default 100)")
    p.add_argument("--decompose-metric", dest="decompose_metric", default="coverage", metavar="METRIC",
                   help="--decompose levers: the metric (last year) the stopping rule and interactions use (default coverage)")
    add_common(p)

    # each optimizing command takes only the options it honours (issue 11: no option silently ignored)
    objectives = {"optimize": OBJECTIVES, "plan": tuple(o for o in OBJECTIVES if o != "cost")}
    for name in ("optimize", "size-budget", "frontier", "plan"):
        p = sub.add_parser(name, help=COMMANDS[name])
        p.add_argument("scenario", metavar="SCENARIO")
        # attributes the shared optimizer code reads; None here, an option below only where the command honours it
        p.set_defaults(budget=None, objective=None, write_lp=False, target=None, share=None, confidence=None,
                       max_budget=None, budgets=None, rounds=None)
        if name in ("optimize", "plan"):
            p.add_argument("--budget", type=float, metavar="YUAN", help="budget in yuan per year (default: the scenario's budget.total_yuan)")
            p.add_argument("--objective", choices=objectives[name],
                           help=f"{' | '.join(objectives[name])} (default: the scenario's optimizer.objective)")
        p.add_argument("--integer", action="store_true", help="whole posts and places (mixed-integer model)")
        p.add_argument("--solver", choices=SOLVERS, help=f"{' | '.join(SOLVERS)} (default: the scenario's optimizer.solver)")
        if name in ("optimize", "size-budget"):
            p.add_argument("--write-lp", dest="write_lp", action="store_true",
                           help="also write the model as model.lp" + (" (without --confidence)" if name == "size-budget" else ""))
            p.add_argument("--target", type=float, metavar="COVERAGE",
                           help="coverage target (staff/demand) of the cost objective (default: the scenario's)")
            p.add_argument("--share", type=float, metavar="P",
                           help="share of counties that must reach the target, cost objective (default: the scenario's)")
        if name == "size-budget":
            p.add_argument("--confidence", type=float, metavar="P",
                           help="required probability of reaching the target in simulations of the planned allocation")
            p.add_argument("--max-budget", dest="max_budget", type=float, metavar="YUAN",
                           help="the largest fund searched, yuan per year (default: 10 x the scenario's budget.total_yuan); "
                                "not reached within it: exit status 3")
        if name == "frontier":
            p.add_argument("--budgets", metavar="MIN:MAX:N", required=True,
                           help="budget sweep in yuan per year: N budgets from MIN to MAX (N 2-1000)")
        if name == "plan":
            p.add_argument("--rounds", type=int, default=10, metavar="N", help="at most N optimize-simulate rounds, 1-100 (default 10)")
            add_planning(p, simulated=True)   # --field, --budget-path, --payer-budget, --objective-year (plan
        else:                                 # always simulates: no --static, no --no-check)
            add_planning(p)   # --field, --budget-path, --payer-budget, --objective-year, --static, --no-check
        add_region(p)
        add_simulation(p)   # plan and size-budget --confidence simulate; optimize, size-budget and frontier
        add_output(p)       # simulate the status quo and (unless --no-check) the answer; --static skips the first

    p = sub.add_parser("sensitivity", help=COMMANDS["sensitivity"])
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--method", choices=["morris", "sobol"], default="morris",
                   help="morris: screening, N*(D+1) runs; sobol: variance-based indices, N*(D+2) runs (default morris)")
    p.add_argument("--samples", type=int, default=16, metavar="N",
                   help="Morris trajectories, or Sobol' base samples (a power of 2) (default 16)")
    p.add_argument("--param", action="append", metavar="KEY=LOW:HIGH",
                   help="a numeric scenario key and its range; repeatable; KEY.*=LOW:HIGH shifts a whole table "
                        "(default: 8 uncertain behaviour parameters, see grassroots/studies/sensitivity_params.py)")
    add_common(p)

    p = sub.add_parser("calibrate", help=COMMANDS["calibrate"])
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--targets", metavar="FILE", help="targets file (TOML; default: the bundled FACTS.md targets)")
    p.add_argument("--max-evals", dest="max_evals", type=int, metavar="N",
                   help="at most N optimizer steps (each runs 1 + parameters simulations) (default 40)")
    add_common(p)

    p = sub.add_parser("template", help=COMMANDS["template"])
    p.add_argument("path", metavar="FILE.xlsx")
    for opt, what in (("--province", "province by code or name (62, 甘肃, Gansu); repeatable (default: all 31)"),
                      ("--city", "prefecture by code or name (6201, 兰州市): its counties only; repeatable"),
                      ("--county", "county-level unit by code or name (620102, 兰州市/城关区); repeatable")):
        p.add_argument(opt, action="append", metavar="NAME|CODE", help=what)
    p = sub.add_parser("export", help=COMMANDS["export"])
    p.add_argument("folder", metavar="FOLDER", help="a result folder (of run or compare)")
    p.add_argument("--csv", action="store_true", help="write every <table>.parquet as <table>.csv.gz")
    p.add_argument("--out", metavar="DIR", help="folder to write into (default: FOLDER itself)")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("app", help=COMMANDS["app"])
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--open", action="store_true", help="open the app in a web browser")
    p.add_argument("--token", metavar="SECRET", help="shared secret every request must carry (?token=SECRET or the "
                                                     "X-Grassroots-Token header); required off 127.0.0.1")
    p.add_argument("--results", default="results", metavar="DIR", help="results folder the app reads and writes (default results)")
    p = sub.add_parser("backtest", help=COMMANDS["backtest"])
    p.add_argument("scenario", metavar="SCENARIO", nargs="?", default="history-2016-2025",
                   help="the history scenario (default history-2016-2025)")
    p.add_argument("--published", metavar="FILE", help="published figures (TOML; default scenarios/data/published.toml)")
    add_common(p)
    p.set_defaults(replications=2)
    for action in p._actions:           # the shared option's help states its usual default (10)
        if action.dest == "replications":
            action.help = "Monte Carlo replications (default 2: a national run of 9 years each)"
    return parser


def _print_problems(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


# why an option another command takes is not taken by this one
_ELSEWHERE = {
    "--confidence": "only size-budget takes it",
    "--budgets": "only frontier takes it", "--budget": "it does not spend a given budget",
    "--write-lp": "it writes no single model", "--target": "only the cost objective (optimize, size-budget) uses it",
    "--share": "only the cost objective (optimize, size-budget) uses it", "--rounds": "only plan takes it",
    "--max-budget": "only size-budget takes it", "--objective": "its objective is fixed",
    **{o: "only optimize, size-budget, frontier and plan take it" for o in
       ("--field", "--budget-path", "--payer-budget", "--objective-year")},
    **{o: "only optimize, size-budget and frontier take it (plan always simulates)" for o in ("--static", "--no-check")},
}


def _not_taken(command: str | None, extra: Sequence[str]) -> list[str]:
    """One line per option the command does not take (argparse's 'unrecognized arguments', said per option)."""
    prog = f"grassroots {command}" if command else "grassroots"
    lines, prev = [], ""
    for a in extra:
        if a.startswith("-") and len(a) > 1:
            opt = a.split("=", 1)[0]
            why = _ELSEWHERE.get(opt)
            lines.append(f"{opt}: not an option of {prog}" + (f": {why}" if why else "") + f" (allowed: see {prog} --help)")
        elif not (prev.startswith("-") and "=" not in prev):   # a value of the option just refused is not repeated
            lines.append(f"{a!r}: unexpected argument of {prog} (allowed: see {prog} --help)")
        prev = a
    return lines


def _handler(command: str) -> Callable | None:
    module, func = HANDLERS[command]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise
    return getattr(mod, func, None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grassroots`` console script; returns the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:               # output piped into a reader that stopped (``| head``): not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error when Python flushes
        return EXIT_OK


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as e:               # --help, --version (0) or a usage error (2, one line printed)
        return int(e.code or 0)
    if extra:
        _print_problems(_not_taken(args.command, extra))
        return EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = _handler(args.command)
    if handler is None:
        print(f"grassroots {args.command}: not built yet in this version", file=sys.stderr)
        return EXIT_USAGE
    from .options import resolve_places
    problems = resolve_places(args)  # --province/--city/--county names -> codes, before any work
    if problems:
        _print_problems(problems)
        return EXIT_USAGE
    from .. import interrupts, progress, results
    progress.reset()
    previous = interrupts.install()
    try:
        return _run(handler, args)
    except BaseException as e:
        if not interrupts.happened(e):
            raise
        print(interrupts.message(args.command), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        results.release_all()   # a command that ended early gives up its claim on its --out
        interrupts.restore(previous)


def _run(handler: Callable, args) -> int:
    """Run a command's handler; user-fixable problems become one line each and exit status 2."""
    try:
        from .checks import preflight
        preflight(args)                   # every input check that needs no simulation; nothing written before
        with scheduler_context(args):     # --scheduler: every simulation of the command runs on the Dask cluster
            return int(handler(args) or EXIT_OK)
    except FileExistsError as e:
        _print_problems([str(e)])
    except (ValueError, RuntimeError) as e:
        from .. import interrupts
        if interrupts.happened(e):
            raise
        problems = getattr(e, "problems", None)
        if problems is None and type(e).__module__.split(".")[0] not in ("scenarios", "optimizer", "simulator", "grassroots"):
            raise
        _print_problems(problems or [str(e)])
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
