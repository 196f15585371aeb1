"""Checks of a command's whole input before any work starts: option ranges, seeds, ``--out``, the county
selection, and the memory a run would need.

:func:`preflight` is called by :func:`grassroots.cli.main` for every command, after parsing, after
``--province/--city/--county`` names became codes (:func:`.options.resolve_places`) and inside the
interrupt-aware runner (Ctrl-C during a check exits 130 like any other), before the command's module runs.  It raises :class:`~grassroots.cli.options.InputError` (or the scenario / county-table
error) with one line per problem, each naming the option, file, key or row and what is allowed; the command
line prints them and exits 2.  Nothing is written before these checks pass (the ``--out`` test creates and
removes one empty folder in the nearest existing parent).

Bounds on counts (every one is a bound on time or memory; the source of each is given):

* ``--years``: the schema's range of ``horizon.years`` (1-50; 57号 §3 sets targets for 5-10 years);
* ``--replications``: 1 to :data:`MAX_REPLICATIONS` (assumption: Monte Carlo error of a mean falls as
  1/sqrt(R); beyond 100,000 it is far below any other error of the model);
* ``--seed``: 0 to 2**63 - 1 (numpy's ``SeedSequence`` takes non-negative integers; the manifest stores it
  as a JSON integer, exact up to 2**63 in every common reader);
* ``--workers``: 0 (one per CPU) to 4 x the CPUs of this machine (more processes than that only share the
  same cores and each holds its own copy of the model);
* ``--samples``, ``--rounds``, ``--max-evals``: see :data:`LIMITS`;
* the memory of a simulating run (:func:`memory_needed`) must fit in this machine's physical memory.
"""

from __future__ import annotations

import math
import os
import reprlib
import tempfile
from pathlib import Path

from .options import InputError

SEED_MAX = 2 ** 63 - 1
MAX_REPLICATIONS = 100_000
# option -> (lowest, highest, why the highest)
LIMITS = {
    "samples": (1, 65_536, "Sobol' base samples up to 2**16; each sample is D+2 model runs"),
    "rounds": (1, 100, "plan stops long before: each round is one optimize + one simulation"),
    "max_evals": (1, 10_000, "each evaluation is 1 + parameters simulations"),
}
SIMULATING = ("run", "compare", "plan", "sensitivity", "calibrate")
OPTIMIZING = ("optimize", "size-budget", "frontier", "plan")
# memory model of a simulation (see memory_needed); measured: national default, 7.0 million professionals,
# 10 years, 1 replication, 1 worker peaks at 2.3 GB (benchmarks/README.md)
PROCESS_BYTES = 250e6          # numpy, pandas, numba and the compiled kernels in one process
BYTES_PER_PERSON = 300         # the staff arrays with spare capacity and the kernels' temporaries
RAW_METRICS = 91               # simulator.metrics.RAW rows kept per county x field x year and replication
OUTPUT_ROW_BYTES = 800         # the county table written out: ~10 metrics rows x ~80 bytes per county x field x year
FIELDS = 5

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlevel, _short.maxlist, _short.maxdict = 40, 40, 2, 4, 4


def short(value) -> str:
    """A short ``repr`` for a message (never more than ~60 characters, safe on deeply nested values)."""
    try:
        return _short.repr(value)
    except RecursionError:  # pragma: no cover - reprlib stops at maxlevel
        return "<deeply nested value>"


def years_range() -> tuple[int, int]:
    """(lowest, highest) ``horizon.years`` allowed by the schema."""
    from dataclasses import fields
    from scenarios.schema import Horizon
    meta = {f.name: f.metadata for f in fields(Horizon)}["years"]
    return int(meta["lo"]), int(meta["hi"])


def max_workers() -> int:
    return 4 * (os.cpu_count() or 1)


def _whole(args, name: str, lo: int, hi: int, what: str, problems: list[str], option: str | None = None) -> None:
    value = getattr(args, name, None)
    if value is None:
        return
    option = option or "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        problems.append(f"{option}: {short(value)} is not allowed (allowed: a whole number from {lo:,} to {hi:,}{what})")


def check_options(args) -> list[str]:
    """Ranges of every count and seed the command takes (one line per problem, naming the option)."""
    p: list[str] = []
    lo, hi = years_range()
    _whole(args, "years", lo, hi, " years, the schema's range of horizon.years", p)
    _whole(args, "replications", 1, MAX_REPLICATIONS, "", p)
    _whole(args, "seed", 0, SEED_MAX, "", p)
    _whole(args, "workers", 0, max_workers(), f"; 0 = one per CPU; at most 4 x the {os.cpu_count() or 1} CPUs here", p)
    for name, (a, b, why) in LIMITS.items():
        _whole(args, name, a, b, f"; {why}", p)
    for name in ("budget", "max_budget"):
        v = getattr(args, name, None)
        if v is not None and not (math.isfinite(v) and v >= 0):
            p.append(f"--{name.replace('_', '-')}: {short(v)} is negative or not a number (allowed: a number >= 0, yuan per year)")
    if getattr(args, "province", None):   # codes already (resolve_places ran before); a code it let through
        import scenarios
        allowed = scenarios.province_codes()
        for code in args.province:
            if code not in allowed:
                p.append(f"--province: unknown province code {code!r} (allowed: {', '.join(allowed)})")
    if getattr(args, "sheet", None) is not None and not getattr(args, "county_table", None):
        p.append(f"--sheet {short(args.sheet)}: only with --county-table FILE.xlsx (allowed: omit --sheet, or give "
                 "the workbook with --county-table)")
    if getattr(args, "command", None) in ("optimize", "size-budget", "frontier"):
        from .options import check_planning
        p += [line for line in check_planning(args) if not line.startswith("--years:")]   # --years: checked above
    return p


def check_out(args) -> list[str]:
    """``--out`` (or the default ``results/``) can be created: it does not exist, its nearest existing parent is
    a folder, and a folder can be made there (tried: one empty folder is created and removed).  ``export``
    writes beside existing tables (its own checks name the files it would overwrite): only a given ``--out``
    that is a file is refused here."""
    out = getattr(args, "out", None)
    if getattr(args, "command", None) == "export":
        return [f"--out: {out}: is a file (allowed: a folder)"] if out and Path(out).is_file() else []
    target = Path(out) if out else Path("results") / "x"
    label = f"--out: {out}" if out else "results/ (the default result folder)"
    if out and (target.exists() or target.is_symlink()):
        return [f"{label}: exists already (allowed: a new folder; finished results are never overwritten)"]
    parent = target.parent
    while not parent.exists():
        if parent.is_symlink():
            return [f"{label}: {parent} is a broken link (allowed: a folder that can be created)"]
        parent = parent.parent
    if not parent.is_dir():
        return [f"{label}: {parent} is a file, not a folder (allowed: a path whose parents are folders)"]
    try:
        probe = tempfile.mkdtemp(prefix=".grassroots-write-test-", dir=parent)
        os.rmdir(probe)
    except OSError as e:
        return [f"{label}: cannot create a folder in {parent}: {e.strerror} (allowed: a writable place)"]
    return []


# ----------------------------------------------------------------------------- selection and memory

def _scenarios(args) -> list:
    """Every scenario of the command, with ``--city/--county`` applied (as the command will load them)."""
    import scenarios
    from .options import load_scenario
    refs = [args.scenario, *getattr(args, "others", [])]
    loaded, problems = [], []
    for ref in refs:
        try:
            loaded.append(load_scenario(args, ref))
        except scenarios.ScenarioError as e:
            problems += e.problems
    if problems:
        raise scenarios.ScenarioError(problems)
    return loaded


def select_table(args, sc, ref: str | None = None):
    """The county table the command will use for scenario ``sc`` (``--county-table`` or the bundled one,
    ``--province`` or the scenario's provinces, the scenario's ``region.counties``); one line per reason it
    comes out empty (naming the province, the file and the key)."""
    import scenarios
    path = getattr(args, "county_table", None)
    source = path or "the bundled county table"
    table = scenarios.county_table(path=path, sheet=getattr(args, "sheet", None)) if path else scenarios.county_table()
    provinces = list(args.province) if getattr(args, "province", None) else list(sc.region.provinces)
    problems = []
    if len(table) == 0:
        raise InputError([f"--county-table: {path}: no county rows, only a header (allowed: one row per county)"])
    if provinces:
        present = set(table["province"].astype(str))
        missing = [c for c in provinces if c not in present]
        where = "--province" if getattr(args, "province", None) else f"{args.scenario}: region.provinces"
        for c in missing:
            problems.append(f"{where}: no rows for province {c} in {source} (it has rows for provinces "
                            f"{', '.join(sorted(present)[:10])}{' ...' if len(present) > 10 else ''})")
        table = table[table["province"].astype(str).isin(provinces)]
    if sc.region.counties:
        ids = set(table["county_id"].astype(str))
        unknown = [c for c in sc.region.counties if c not in ids]
        for c in unknown[:5]:
            problems.append(f"{ref or sc.name}: region.counties: county_id {c!r} is not in {source}"
                            + (f" for provinces {', '.join(provinces)}" if provinces else "")
                            + " (allowed: county_id values of that table)")
        if len(unknown) > 5:
            problems.append(f"{ref or sc.name}: region.counties: ... and {len(unknown) - 5} more unknown county_id values")
        table = table[table["county_id"].astype(str).isin(list(sc.region.counties))]
    if problems:
        raise InputError(problems)
    return table


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine (psutil when installed, else ``os.sysconf``), or None."""
    try:
        import psutil
        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - psutil is optional
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_needed(staff: float, counties: int, years: int, replications: int, workers: int,
                  scenarios_: int = 1, county_output: bool = True, processes: int | None = None) -> float:
    """Rough peak bytes of a simulating command (the national default: estimate 2.6 GB, measured peak 2.3 GB).

    Per process holding a model: :data:`PROCESS_BYTES` + :data:`BYTES_PER_PERSON` x staff; per replication
    and scenario the raw county record (counties x 5 fields x (years + 1) x 91 metrics x 8 bytes) until the
    summaries are made; plus the county table written out when ``county_output``.  ``processes``: how many
    models are in memory at once (default: one per worker, at most one per replication).
    """
    cells = counties * FIELDS * (years + 1)
    if processes is None:
        processes = max(1, min(workers, replications * scenarios_))
    total = processes * (PROCESS_BYTES + BYTES_PER_PERSON * staff)
    total += scenarios_ * replications * cells * RAW_METRICS * 8
    if county_output:
        total += scenarios_ * cells * OUTPUT_ROW_BYTES
    return total


def size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(n) < 1024 or unit == "EiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.3g}"  # pragma: no cover


def check_memory(args, command: str, sc, table) -> list[str]:
    """One line when the run would need more memory than the machine has."""
    from scenarios import FIELDS as names
    staff = float(sum(table[f"staff_{f}"].astype(float).sum() for f in names))
    lo, hi = years_range()
    years = getattr(args, "years", None) or sc.horizon.years
    reps = getattr(args, "replications", None) or 10
    workers = getattr(args, "workers", None)
    workers = (os.cpu_count() or 1) if workers == 0 else (workers or 1)
    n_sc = 1 + len(getattr(args, "others", []) or [])
    need = memory_needed(staff, len(table), int(years), int(reps), int(workers), n_sc,
                         county_output=command in ("run", "compare"),
                         # sensitivity and calibrate run one sample point per worker: every worker holds a model
                         processes=max(1, workers) if command in ("sensitivity", "calibrate") else None)
    if command in ("optimize", "size-budget", "frontier") and getattr(args, "static", False):
        return []
    have = physical_memory()
    if have is None or need <= have:
        return []
    return [f"{command}: this run needs about {size_text(need)} of memory; the machine has {size_text(have)} "
            f"({len(table):,} counties, {staff:,.0f} professionals, {years} year(s), {reps:,} replication(s), "
            f"{workers} worker(s); allowed: fewer --replications, --workers, --years or counties)"]


def preflight(args) -> None:
    """Every check that needs no simulation, in order; raises with all problems of the first failing stage."""
    command = args.command
    problems = check_options(args)
    if hasattr(args, "out"):
        problems += check_out(args)
    if problems:
        raise InputError(problems)
    if command not in SIMULATING + OPTIMIZING or not hasattr(args, "scenario"):
        return
    loaded = _scenarios(args)
    if command == "optimize":
        objective = getattr(args, "objective", None) or loaded[0].optimizer.objective
        unused = [o for o in ("target", "share") if getattr(args, o, None) is not None and objective != "cost"]
        if unused:
            raise InputError([f"--{o}: only used by the cost objective, and the objective is {objective} (allowed: "
                              "with --objective cost; shortfall and equity spend a given --budget)" for o in unused])
    needs_sim = command in SIMULATING + OPTIMIZING   # the optimizing commands simulate the status quo too
    refs = [args.scenario, *(getattr(args, "others", None) or [])]
    tables = [select_table(args, sc, ref) for sc, ref in zip(loaded, refs)]
    if needs_sim:
        memory = check_memory(args, command, loaded[0], tables[0])
        if memory:
            raise InputError(memory)


__all__ = ["preflight", "check_options", "check_out", "select_table", "check_memory", "memory_needed",
           "physical_memory", "short", "SEED_MAX", "MAX_REPLICATIONS", "LIMITS"]
