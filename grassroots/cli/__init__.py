"""The ``grassroots`` command line: the parser, the command table and :func:`main`.

Each command is a thin module in this package (``run``, ``compare``, ``optimize`` (with size-budget and
frontier), ``plan``, ``sensitivity``, ``calibrate``, ``catalog`` (scenarios, validate, params)); the options
they share are in :mod:`.options`; the work is done by :mod:`grassroots.studies` and the engines, the
output by :mod:`grassroots.report` and :mod:`grassroots.results`.  Command modules never import each other.

Every problem with the user's input -- a bad scenario file, an unknown option
value, a negative budget, an infeasible constraint set -- is printed as one
line per problem on stderr and the program exits with status 2, before any
result folder is created.  Exit status 0 means success; 1 is reserved for
unexpected internal errors (which print a traceback, as they are bugs).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from .options import add_common, add_planning, scheduler_context

EXIT_OK = 0
EXIT_USAGE = 2
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
    """argparse that reports a usage error in one line and exits 2."""

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

    for name in ("optimize", "size-budget", "frontier", "plan"):
        p = sub.add_parser(name, help=COMMANDS[name])
        p.add_argument("scenario", metavar="SCENARIO")
        p.add_argument("--budget", type=float, metavar="YUAN", help="budget in yuan per year (default: the scenario's budget.total_yuan)")
        p.add_argument("--objective", help="shortfall | equity | cost (default: the scenario's)")
        p.add_argument("--integer", action="store_true", help="whole posts and places (mixed-integer model)")
        p.add_argument("--solver", help="highs | cbc (default: the scenario's)")
        p.add_argument("--write-lp", dest="write_lp", action="store_true", help="also write the model as model.lp")
        p.add_argument("--target", type=float, metavar="COVERAGE", help="coverage target (staff/demand), size-budget")
        p.add_argument("--share", type=float, metavar="P", help="share of counties that must reach the target")
        p.add_argument("--confidence", type=float, metavar="P", help="required probability of reaching the target (size-budget)")
        p.add_argument("--budgets", metavar="MIN:MAX:N", help="budget sweep for frontier")
        if name == "plan":
            p.add_argument("--rounds", type=int, default=10, metavar="N", help="at most N optimize-simulate rounds (default 10)")
        else:
            add_planning(p)
        add_common(p)

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
    parser = build_parser()
    args = parser.parse_args(argv)
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
        with scheduler_context(args):   # --scheduler: every simulation of the command runs on the Dask cluster
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
