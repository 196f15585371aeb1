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
import contextlib
import math
import os
import sys
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
    """``--province``, ``--city``, ``--county``, ``--county-table``, ``--sheet``: which counties a command works on."""
    p.add_argument("--province", action="append", metavar="NAME|CODE",
                   help="province by code or name (62, 甘肃, Gansu); repeatable (default: the scenario's, else all 31)")
    p.add_argument("--city", action="append", metavar="NAME|CODE",
                   help="prefecture by code or name (6201, 兰州市, Lanzhou): its counties only; repeatable")
    p.add_argument("--county", action="append", metavar="NAME|CODE",
                   help="county-level unit by code or name (620102, 城关区, 兰州市/城关区); repeatable; "
                        "an ambiguous name lists its candidates")
    p.add_argument("--county-table", dest="county_table", metavar="FILE",
                   help="your own county table, CSV or Excel .xlsx (same columns as scenarios.county_table(); "
                        "`grassroots template` writes one to edit; default: the bundled one)")
    p.add_argument("--sheet", metavar="NAME", help="sheet of the --county-table workbook (default: the first)")


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
    p.add_argument("--excel", action="store_true",
                   help="also write results.xlsx: every small table as a sheet (allocation with county names), maps as pictures")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler address, e.g. tcp://host:8786: run the command's simulations on "
                        "that cluster (needs the dask extra; identical results to local runs)")


def add_common(p: argparse.ArgumentParser) -> None:
    """The options of every simulating command: region, horizon, replications, seed, workers,
    county table, result folder, quiet, language."""
    add_region(p)
    add_simulation(p)
    add_output(p)


def add_planning(p: argparse.ArgumentParser, simulated: bool = False) -> None:
    """The planning options of optimize, size-budget, frontier (and plan): target year and fields, money by year and
    payer, the status quo (simulated, or static with ``--static``) and the simulation check of the answer
    (``simulated``: a command that always simulates, ``plan``, takes neither ``--static`` nor ``--no-check``)."""
    p.add_argument("--field", action="append", metavar="FIELD",
                   help="restrict the objective and targets to FIELD (repeatable; the other fields keep their status quo)")
    p.add_argument("--budget-path", dest="budget_path", metavar="Y1,Y2,...",
                   help="yuan per year for years 1..N (one figure per year of --years): decisions per year, posts persist")
    p.add_argument("--payer-budget", dest="payer_budget", action="append", metavar="PAYER=YUAN",
                   help="yuan per year PAYER (central, provincial, county) may spend; repeatable (default: from the shares)")
    p.add_argument("--objective-year", dest="objective_year", metavar="all|last",
                   help="with --budget-path: count the shortfall of every year (all) or of the target year only (last)")
    if simulated:
        return
    p.add_argument("--static", action="store_true",
                   help="plan against the static first-order status quo (fast; ignores internal flows and dynamics)")
    p.add_argument("--no-check", dest="no_check", action="store_true",
                   help="do not simulate the answer to compare predicted and simulated coverage")


# ----------------------------------------------------------------------------- checks

def resolve_places(args) -> list[str]:
    """Turn ``--province/--city/--county`` names into codes, in place (one problem line each otherwise).

    Afterwards ``args.province`` holds province codes (or None) and ``args.counties`` the county
    codes selected by ``--city``/``--county`` (empty: every county of the provinces); the provinces
    of those counties are added to ``args.province``.  Idempotent.
    """
    if getattr(args, "_places", None) is not None or not hasattr(args, "province"):
        return []
    from scenarios.places import PlaceError, resolve
    try:
        places = resolve(args.province or [], getattr(args, "city", None) or [], getattr(args, "county", None) or [])
    except PlaceError as exc:
        return list(exc.problems)
    args._places = places
    args.province = list(places.provinces) or None
    args.counties = list(places.counties)
    return []


def load_scenario(args, ref=None):
    """A scenario by name or file (``ref``, default ``args.scenario``) with ``--city/--county`` applied
    (``region.provinces``/``region.counties``)."""
    import scenarios
    sc = scenarios.load(ref if ref is not None else args.scenario)
    return with_places(args, sc)


def with_places(args, sc):
    """``sc`` restricted to the counties of ``--city/--county`` (unchanged when none were given)."""
    counties = getattr(args, "counties", None)
    if not counties:
        return sc
    import scenarios
    return scenarios.apply(sc, {"region.provinces": list(args.province or []), "region.counties": list(counties)})


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
        for opt, attr in (("--static", "static"), ("--no-check", "no_check")):
            if getattr(args, attr, False):
                p.append(f"{opt}: not used with --confidence (allowed: without --confidence; every planned "
                         "allocation is simulated)")

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
    p.extend(check_planning(args))
    return p


def payer_budgets(args) -> tuple[dict, list[str]]:
    """``--payer-budget PAYER=YUAN`` (repeatable) as {payer: yuan/year}, and one line per bad value."""
    out, p = {}, []
    for spec in getattr(args, "payer_budget", None) or []:
        name, sep, val = str(spec).partition("=")
        try:
            v = float(val)
            ok = bool(sep) and math.isfinite(v) and v >= 0
        except ValueError:
            ok = False
        if not ok:
            p.append(f"--payer-budget: {spec!r} (allowed: PAYER=YUAN, PAYER one of central, provincial, county, YUAN >= 0 per year)")
        elif name not in ("central", "provincial", "county"):
            p.append(f"--payer-budget: payer {name!r} (allowed: central, provincial, county)")
        else:
            out[name] = v
    return out, p


def check_planning(args) -> list[str]:
    """Problems with --field, --budget-path, --payer-budget, --objective-year, --years (one line each)."""
    p: list[str] = []
    fields = ("science", "education", "engineering", "agriculture", "health")
    for f in getattr(args, "field", None) or []:
        if f not in fields:
            p.append(f"--field: {f!r} (allowed: {', '.join(fields)})")
    p.extend(payer_budgets(args)[1])
    oy = getattr(args, "objective_year", None)
    if oy is not None and oy not in ("all", "last"):
        p.append(f"--objective-year: {oy!r} (allowed: all, last)")
    years = getattr(args, "years", None)
    if years is not None and not (1 <= years <= 50):
        p.append(f"--years: {years!r} (allowed: a whole number of years from 1 to 50)")
    spec = getattr(args, "budget_path", None)
    if spec is not None:
        from optimizer import OptimizerInputError, parse_budget_path
        try:
            parse_budget_path(spec, years)
        except OptimizerInputError as e:
            p.extend(e.problems)
    return p


# ----------------------------------------------------------------------------- values the studies take

@contextlib.contextmanager
def scheduler_context(args):
    """With ``--scheduler ADDRESS``: every ``simulator.simulate`` call inside runs its replications on that Dask
    cluster (``simulator.replicate.using_executor`` with a ``DaskExecutor``); otherwise nothing changes.
    An unreachable scheduler or a missing dask raises ``ExecutorError`` (one line, exit 2)."""
    address = getattr(args, "scheduler", None)
    if not address:
        yield None
        return
    from simulator.replicate import using_executor
    from ..studies.executors import DaskExecutor
    with DaskExecutor(address) as ex, using_executor(ex):
        yield ex


def workers(args) -> int:
    """``--workers``, with 0 meaning one per CPU."""
    return args.workers if args.workers else (os.cpu_count() or 1)


def provinces(args) -> list[str] | None:
    """``--province`` codes, or None for the scenario's (else all)."""
    return list(args.province) if args.province else None


def user_table(args):
    """The user's county table from ``--county-table FILE`` (CSV or .xlsx with ``--sheet``; validated,
    CountyDataError lines otherwise) restricted to ``--city/--county``, or None."""
    path = getattr(args, "county_table", None)
    if not path:
        if getattr(args, "sheet", None):
            raise InputError([f"--sheet {args.sheet!r}: only with --county-table FILE.xlsx"])
        return None
    import scenarios
    table = scenarios.county_table(provinces=args.province or None, path=path, sheet=getattr(args, "sheet", None))
    counties = getattr(args, "counties", None)
    if counties:
        table = table[table["county_id"].isin(counties)].reset_index(drop=True)
    return table


def scenario_label(args, sc) -> str:
    """The name result folders use: the scenario's name, else its file's stem."""
    return sc.name or Path(str(args.scenario)).stem


def result_folder(command: str, name: str, args) -> ResultFolder:
    """The command's result folder (``--out`` or ``results/<command>-<name>-<time>``); fails now if ``--out`` exists."""
    rf = ResultFolder(command, name, out=args.out, argv=sys.argv)
    rf.excel = bool(getattr(args, "excel", False))
    return rf


def cache_dir(rf: ResultFolder, name: str) -> Path:
    """Checkpoint folder ``<results root>/.cache/<name>`` beside the result folder ``rf`` will become."""
    return rf.final_path.parent / CACHE_DIRNAME / name


def checkpoints(rf: ResultFolder, command: str, scenario_sha256, args, years: int):
    """The command's :class:`grassroots.checkpoints.CheckpointStore` beside ``rf``, keyed by everything that changes
    its results (scenarios, provinces, seed, years, replications, the county table's content and sheet, package
    version); ``--city``/``--county`` are part of the scenario (``region.counties``), hence of its sha256."""
    from ..checkpoints import CheckpointStore, run_key
    key = run_key(command, scenario_sha256, provinces=provinces(args), seed=args.seed, years=years,
                  replications=args.replications, county_table=getattr(args, "county_table", None),
                  sheet=getattr(args, "sheet", None))
    return CheckpointStore(rf.final_path.parent, command, key)


# ----------------------------------------------------------------------------- optimizer options

def optimizer_inputs(args):
    """(scenario, optimizer inputs) for the command's scenario, provinces, county table and budget."""
    import optimizer
    sc = load_scenario(args)
    inputs = optimizer.from_scenario(sc, table=user_table(args), provinces=args.province or None,
                                     budget_yuan=getattr(args, "budget", None))
    return sc, inputs


def planning(args, sc) -> dict:
    """The planning settings of a command: the command line over the scenario's ``[targets]`` and ``[budget]``.

    ``years`` (target year: --years, else targets.year, else the budget path's length, else horizon.years),
    ``fields`` (None = all), ``targets`` ({field: coverage} or None), ``budget_path`` (list or None),
    ``payer_budget`` ({payer: yuan} or None), ``objective_year``.
    """
    from optimizer import parse_budget_path
    tg, bd = sc.targets, sc.budget
    path = (parse_budget_path(args.budget_path) if getattr(args, "budget_path", None) is not None
            else (list(bd.path_yuan) or None))
    years = getattr(args, "years", None) or tg.year or (len(path) if path else None) or sc.horizon.years
    if path is not None:
        path = parse_budget_path(path, years)
    payer = payer_budgets(args)[0] or {q: float(v) for q, v in bd.payer_limit_yuan.items() if v >= 0} or None
    targets = {f: float(v) for f, v in tg.coverage.items() if v > 0}
    if getattr(args, "target", None) is not None:
        targets = None                      # --target: the allocator's target for every field
    return {"years": int(years), "fields": list(getattr(args, "field", None) or tg.fields) or None,
            "targets": targets or None, "budget_path": path, "payer_budget": payer,
            "objective_year": getattr(args, "objective_year", None) or tg.objective_year,
            "static": bool(getattr(args, "static", False)), "check": not getattr(args, "no_check", False)}


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


def progress_bar(label: str, total: int = 0, unit: str = "replications", quiet: bool = False, stream=None,
                 record: bool = True):
    """The command's one progress bar (:class:`grassroots.progress.Progress`: tqdm on a terminal, a line per
    10% otherwise, nothing with ``--quiet``); ``record``: its units are checkpointed (an interruption reports them)."""
    from ..progress import Progress
    return Progress(label, total=total, unit=unit, quiet=quiet, stream=stream, record=record)


def progress_printer(quiet: bool, stream=None, label: str = "run", bar=None):
    """A ``progress(done, total)`` callback for one simulation, drawing on ``bar`` (or a new bar of its own)."""
    if quiet and bar is None:
        return None
    if bar is None:
        bar = progress_bar(label, 0, "replications", quiet=quiet, stream=stream)
    state = {"sized": bar.total > 0}
    inner = bar.replications_callback()

    def report(done: int, total: int) -> None:
        if not state["sized"]:
            state["sized"] = True
            bar.add_total(total)
        inner(done, total)
        if bar.total and bar.done >= bar.total:
            bar.close()

    return report


def points_printer(label: str = "sensitivity", stream=None, quiet: bool = False):
    """A ``progress(done, total, reused)`` callback for a study's sample points, on one bar."""
    if quiet:
        return None
    bar = progress_bar(label, 0, "points", stream=stream)
    state = {"seen": 0}

    def report(done: int, total: int, reused: int) -> None:
        if not bar.total:
            bar.add_total(total)
        delta, state["seen"] = done - state["seen"], done
        if delta > 0 and done == reused:
            bar.skip(delta)
        else:
            bar.update(delta)
        if done >= total:
            bar.close()

    return report


def write_large(rf, name: str, df, args, label: str) -> None:
    """Write a large table as Parquet into result folder ``rf``, with a rows bar when it is big (not with --quiet)."""
    from ..progress import rows_progress
    bar = rows_progress(f"{label}: writing {name}", len(df), quiet=getattr(args, "quiet", False))
    if bar is None:
        rf.write_parquet(name, df)
        return
    with bar:
        rf.write_parquet(name, df, progress=lambda done, total: bar.update(done - bar.done))


#: the headline metrics printed at the end of run/compare: (metric, label, format of a value, unit)
HEADLINE = (("coverage", "coverage", "{:.3f}", ""), ("vacancies", "vacancies", "{:,.0f}", ""),
            ("turnover_rate", "turnover", "{:.2%}", ""), ("cost_yuan", "cost", "{:,.3f}", " bn yuan/year"))


def _fmt(metric: str, fmt: str, value: float, sign: bool = False) -> str:
    if metric == "cost_yuan":
        value = value / 1e9
    if sign and metric == "turnover_rate":   # a difference of rates: percentage points
        value, fmt = value * 100, "{:.2f} pp"
    text = fmt.format(value)
    return ("+" + text) if sign and value >= 0 and not text.startswith("+") else text


def headline(summary, label: str | None = None, year: int | None = None) -> list[str]:
    """Headline line of a summary table (``scenario,year,metric,mean,p05,p95``): coverage, vacancies, turnover and
    cost in the last year, each with its 5-95% spread across replications."""
    year = int(summary["year"].max()) if year is None else year
    s = summary[summary["year"] == year].set_index("metric")
    parts = [f"{name} {_fmt(m, f, s.loc[m, 'mean'])} [{_fmt(m, f, s.loc[m, 'p05'])}, {_fmt(m, f, s.loc[m, 'p95'])}]{unit}"
             for m, name, f, unit in HEADLINE if m in s.index]
    who = f"{label}, " if label else ""
    return [f"{who}{year} (mean [5%, 95% across replications]): " + "; ".join(parts)]


def headline_differences(comparison, year: int | None = None) -> list[str]:
    """One line per compared scenario: the paired difference from the base in the last year with its 90% t-interval."""
    year = int(comparison["year"].max()) if year is None else year
    c = comparison[comparison["year"] == year]
    lines = []
    for sc, g in c.groupby("scenario", sort=False):
        g = g.set_index("metric")
        parts = [f"{name} {_fmt(m, f, g.loc[m, 'mean_diff'], True)} [{_fmt(m, f, g.loc[m, 'ci_low'], True)}, "
                 f"{_fmt(m, f, g.loc[m, 'ci_high'], True)}]{unit}" for m, name, f, unit in HEADLINE if m in g.index]
        lines.append(f"{sc} minus base, {year} (mean paired difference [90% t-interval]): " + "; ".join(parts))
    return lines
