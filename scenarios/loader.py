"""Load, validate and merge scenario files into frozen :class:`~scenarios.schema.Scenario` objects.

A scenario file is TOML.  It names the scenario it ``extends`` (a bundled name
such as ``"policy-2016"`` or a path relative to the file; default
``"baseline"``) and states only its differences.  Loading

1. reads the whole ``extends`` chain (a cycle is an error),
2. checks every file on its own against the schema -- unknown keys, wrong
   types, out-of-range values, unknown province codes -- and collects *every*
   problem, one line each: ``FILE: key.path: message (allowed: ...)``,
3. merges the differences over the baseline (tables merge key by key; lists and
   scalars replace),
4. checks rules that span keys (shares that must sum to 1, caps that must fit),
5. builds frozen dataclasses.

Nothing is returned, and nothing is changed, unless every check passes: any
problem raises :class:`ScenarioError` carrying the full list.

Time paths
----------
Any numeric or on/off key may change over the calendar years, in a
``[timeline]`` table keyed by the key's dotted path, one sub-table per key::

    [timeline."programmes.special_post_teachers.places_per_year"]
    2017 = 80000.0     # each value may carry its own source comment
    2018 = 90000.0
    2020 = 105000.0

Rule (``value_at``): before the first listed year the key's ordinary value
applies; between two listed years a number is interpolated linearly (2019
above: 97,500); after the last listed year the last value is held.  Integer
and on/off keys (``titles.tilted_standards``) step: the value of the latest
listed year at or before the year.  Each value is checked like the key itself
(type, range), years must be whole calendar years 1900-2100, ``horizon.*``
and ``region.*`` and ``optimizer.*`` keys cannot change over time, and the
rules spanning keys (shares summing to 1 ...) are checked in every listed
year.  A file that gives a path replaces that whole path of the scenario it
extends (years are not merged).  The simulator reads the value of the
simulated calendar year: step ``t`` of a run is calendar year
``horizon.start_year + t`` (the ``start_year`` row is the initial stock).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import reprlib
import tomllib
import typing
from dataclasses import fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Mapping

from . import schema
from .schema import Scenario, frozen_mapping

META_KEYS = ("name", "description", "extends")
TIMELINE = "timeline"
TIMELINE_FIXED = ("horizon.", "region.", "optimizer.")   # keys that cannot change over time
YEAR_RANGE = (1900, 2100)
DEFAULT_PARENT = "baseline"
MAX_FILE_BYTES = 1 << 20     # a scenario file states differences: the full baseline is 15 KB, every county id 30 KB
MAX_DEPTH = 16               # tables and lists nested deeper than this are not a scenario (the schema's depth is 4)

_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlevel, _repr.maxlist, _repr.maxdict = 40, 40, 2, 4, 4


def _show(value) -> str:
    """A short ``repr`` for a problem line (never the whole of a long or deeply nested value)."""
    return _repr.repr(value)


def _depth(doc) -> int:
    """How deeply tables and lists nest in a parsed document (iterative: safe on any depth)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


class ScenarioError(ValueError):
    """A scenario could not be loaded; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ----------------------------------------------------------------------------- bundled library

def library_dir() -> Path:
    """Folder holding the bundled scenario files."""
    return Path(str(resources.files("scenarios") / "library"))


def bundled_names() -> list[str]:
    """Names of the bundled scenarios, baseline first, then alphabetical."""
    names = sorted(p.stem for p in library_dir().glob("*.toml"))
    return sorted(names, key=lambda n: (n != "baseline", n))


def bundled() -> list[tuple[str, str]]:
    """(name, description) of every bundled scenario."""
    out = []
    for n in bundled_names():
        with open(library_dir() / f"{n}.toml", "rb") as fh:
            out.append((n, tomllib.load(fh).get("description", "")))
    return out


def _locate(ref: str, relative_to: Path | None) -> Path:
    """Turn a bundled name or a path into a file path (not checked for existence)."""
    if ref.endswith(".toml") or "/" in ref or "\\" in ref:
        p = Path(ref)
        if not p.is_absolute() and relative_to is not None:
            p = relative_to / p
        return p.resolve()
    return (library_dir() / f"{ref}.toml").resolve()


# ----------------------------------------------------------------------------- type checking

def _describe(tp) -> str:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "text"
    if origin is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(tp)))
    if origin is tuple:
        return "a list"
    if origin in (Mapping, dict) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        return "a table"
    if is_dataclass(tp):
        return "a table"
    return str(tp)


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(schema))


def _check_number(value, meta, where, problems, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        problems.append(f"{where}: expected {'an integer' if integer else 'a number'}, got {_show(value)}")
        return
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{where}: expected a finite number, got {_show(value)}")
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{'-inf' if lo is None else lo} to {'inf' if hi is None else hi}"
        unit = meta.get("unit", "")
        problems.append(f"{where}: {_show(value)} is out of range (allowed: {rng}{', ' + unit if unit else ''})")


def _check(value, tp, meta, where: str, problems: list[str], partial: bool) -> None:
    """Append a problem line for every mismatch between ``value`` and type ``tp``."""
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a table, got {_show(value)}")
            return
        _check_table(value, tp, where, problems, partial)
    elif tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {_show(value)}")
    elif tp is int:
        _check_number(value, meta, where, problems, integer=True)
    elif tp is float:
        _check_number(value, meta, where, problems)
    elif tp is str:
        if not isinstance(value, str):
            problems.append(f"{where}: expected text, got {_show(value)}")
    elif origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            problems.append(f"{where}: {_show(value)} is not allowed (allowed: {', '.join(map(str, allowed))})")
    elif origin is tuple:
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {_show(value)}")
            return
        item = typing.get_args(tp)[0]
        n = meta.get("length")
        if n is not None and len(value) != n:
            problems.append(f"{where}: expected a list of {n} values, got {len(value)}")
        found: list[str] = []
        for i, v in enumerate(value):
            _check(v, item, meta, f"{where}[{i}]", found, partial)
        problems.extend(found[:5])
        if len(found) > 5:
            problems.append(f"{where}: ... and {len(found) - 5} more problems in this list")
    elif origin in (Mapping, dict) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a table, got {_show(value)}")
            return
        key_tp, val_tp = typing.get_args(tp)
        allowed = typing.get_args(key_tp)
        for k, v in value.items():
            if k not in allowed:
                problems.append(f"{where}.{k}: unknown key (allowed: {', '.join(allowed)})")
                continue
            _check(v, val_tp, meta, f"{where}.{k}", problems, partial)
        if not partial:
            for k in allowed:
                if k not in value:
                    problems.append(f"{where}.{k}: missing (every one of {', '.join(allowed)} is needed)")
    else:  # pragma: no cover - schema programming error
        raise TypeError(f"unsupported schema type {tp!r} at {where}")


def _check_table(value: dict, cls, where: str, problems: list[str], partial: bool) -> None:
    hints = _hints(cls)
    metas = {f.name: f.metadata for f in fields(cls)}
    prefix = f"{where}." if where else ""
    for k, v in value.items():
        if where == "" and k in META_KEYS + (TIMELINE,):
            continue
        if k not in hints:
            allowed = [n for n in hints if not (where == "" and n in META_KEYS)]
            problems.append(f"{prefix}{k}: unknown key (allowed: {', '.join(allowed)})")
            continue
        _check(v, hints[k], metas[k], f"{prefix}{k}", problems, partial)
    if not partial:
        for k in hints:
            if k not in value and not (where == "" and k in META_KEYS + (TIMELINE,)):
                problems.append(f"{prefix}{k}: missing")


def _check_meta(doc: dict, problems: list[str]) -> None:
    for k in META_KEYS:
        if k in doc and not isinstance(doc[k], str):
            problems.append(f"{k}: expected text, got {_show(doc[k])}")


def _check_codes(doc: dict, problems: list[str]) -> None:
    """Province codes must be real GB/T 2260 codes from the county table."""
    region = doc.get("region") if isinstance(doc.get("region"), dict) else None
    if region is not None:
        problems.extend(_region_problems(region))
    programmes = doc.get("programmes")
    if isinstance(programmes, dict):
        for name, prog in programmes.items():
            if isinstance(prog, dict) and isinstance(prog.get("regions"), list):
                for i, r in enumerate(prog["regions"]):
                    if isinstance(r, str) and r not in schema.REGIONS:
                        problems.append(f"programmes.{name}.regions[{i}]: unknown region {_show(r)} (allowed: {', '.join(schema.REGIONS)})")


def _region_places(region: dict):
    """``scenarios.places.resolve`` of a [region] table (names or codes), or the PlaceError."""
    from .places import PlaceError, resolve as resolve_places

    def items(key):
        v = region.get(key, [])
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
    try:
        return resolve_places(items("provinces"), items("cities"), items("counties"),
                              names=("region.provinces", "region.cities", "region.counties")), None
    except PlaceError as exc:
        return None, exc


def _region_problems(region: dict) -> list[str]:
    """Every province, city and county of a [region] table must name a real place (one line each)."""
    from .counties import province_codes
    problems, allowed = [], province_codes()
    provinces = region.get("provinces")
    if isinstance(provinces, list):
        for i, code in enumerate(provinces):
            if isinstance(code, str) and code.isdigit() and code not in allowed:
                problems.append(f"region.provinces[{i}]: unknown province code {_show(code)} (allowed: {', '.join(allowed)})")
        if problems:
            region = {**region, "provinces": [c for c in provinces if not (isinstance(c, str) and c.isdigit()
                                                                           and c not in allowed)]}
    _, exc = _region_places(region)
    return problems + ([] if exc is None else list(exc.problems))


def _normalise_region(merged: dict) -> None:
    """Names in [region] become codes: provinces as 2-digit codes; cities expanded into their counties."""
    region = merged.get("region")
    if not isinstance(region, dict) or not any(region.get(k) for k in ("provinces", "cities", "counties")):
        return
    places, exc = _region_places(region)
    if exc is not None:
        raise ScenarioError(exc.problems)
    asked = [str(p) for p in region.get("provinces", [])]
    region["provinces"] = list(places.provinces) if asked or places.counties else []
    region["counties"] = list(places.counties)
    region["cities"] = []


def _timeline_leaves() -> dict[str, tuple[Any, Mapping]]:
    return {k: v for k, v in leaf_paths().items() if v[0] in (int, float, bool) and not k.startswith(TIMELINE_FIXED)}


def _year_of(key) -> int | None:
    """A calendar year from a timeline key (TOML keys are text: "2017"); None if not a whole year."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return None


def _check_timeline(doc: dict, problems: list[str]) -> None:
    """Check a document's ``[timeline]`` table (see 'Time paths' in the module docstring)."""
    if TIMELINE not in doc:
        return
    tl = doc[TIMELINE]
    if not isinstance(tl, dict):
        problems.append(f"{TIMELINE}: expected a table of key paths, got {tl!r}")
        return
    leaves = _timeline_leaves()
    for path, years in tl.items():
        where = f'{TIMELINE}."{path}"'
        if path not in leaves:
            fixed = isinstance(path, str) and path.startswith(TIMELINE_FIXED)
            why = ("cannot change over time" if fixed else "not a numeric or on/off scenario key")
            problems.append(f"{where}: {why} (allowed: keys listed by `grassroots params` except horizon.*, "
                            f"region.*, optimizer.*)")
            continue
        if not isinstance(years, dict) or not years:
            problems.append(f"{where}: expected a table of calendar year = value, got {years!r}")
            continue
        tp, meta = leaves[path]
        for y, v in years.items():
            year = _year_of(y)
            if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
                problems.append(f"{where}.{y}: not a calendar year (allowed: whole years {YEAR_RANGE[0]}-{YEAR_RANGE[1]})")
                continue
            _check(v, tp, meta, f"{where}.{y}", problems, True)


def validate_document(doc: dict, partial: bool = True) -> list[str]:
    """Problems (without file prefix) of one scenario document against the schema."""
    problems: list[str] = []
    _check_meta(doc, problems)
    _check_table(doc, Scenario, "", problems, partial)
    _check_codes(doc, problems)
    _check_timeline(doc, problems)
    return problems


# ----------------------------------------------------------------------------- time paths

def _normalise_timeline(tl: Mapping | None) -> dict[str, dict[int, Any]]:
    """``{path: {year (int): value}}`` with years sorted (TOML gives the years as text)."""
    out: dict[str, dict[int, Any]] = {}
    for path, years in (tl or {}).items():
        out[path] = {int(_year_of(y)): v for y, v in sorted(years.items(), key=lambda kv: int(_year_of(kv[0])))}
    return out


def value_at(path_years: Mapping[int, Any], year: int, default, tp=float):
    """The value of one time path in calendar ``year`` (module docstring, 'Time paths').

    ``default``: the key's ordinary value, which applies before the first
    listed year; numbers are interpolated linearly between listed years and
    the last value is held after the last; ``int`` and ``bool`` keys step.
    """
    ys = sorted(int(y) for y in path_years)
    vals = {int(y): v for y, v in path_years.items()}
    if not ys or year < ys[0]:
        return default
    if year >= ys[-1]:
        return vals[ys[-1]]
    prev = max(y for y in ys if y <= year)
    if tp in (int, bool) or prev == year:
        return vals[prev]
    nxt = min(y for y in ys if y > year)
    w = (year - prev) / (nxt - prev)
    return float(vals[prev]) + w * (float(vals[nxt]) - float(vals[prev]))


def timeline_years(tl: Mapping[str, Mapping[int, Any]]) -> list[int]:
    """Every calendar year listed in a timeline, sorted."""
    return sorted({int(y) for years in tl.values() for y in years})


def _values_at(merged: dict, year: int) -> dict:
    """A copy of a merged plain-dict scenario with every time path set to its value in ``year`` (timeline kept)."""
    out = copy.deepcopy(merged)
    leaves = _timeline_leaves()
    for path, years in (merged.get(TIMELINE) or {}).items():
        tp = leaves[path][0]
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[part]
        v = value_at(years, year, node[parts[-1]], tp)
        node[parts[-1]] = float(v) if tp is float else v
    return out


def _merge_timeline(base: dict | None, diff: dict | None) -> dict:
    """Paths of ``diff`` replace the same paths of ``base`` whole (years are not merged)."""
    out = copy.deepcopy(_normalise_timeline(base))
    out.update(_normalise_timeline(diff))
    return out


def _merge_docs(base: dict, doc: dict) -> dict:
    merged = deep_merge(base, {k: v for k, v in doc.items() if k not in ("extends", TIMELINE)})
    merged[TIMELINE] = _merge_timeline(base.get(TIMELINE), doc.get(TIMELINE))
    return merged


def _all_cross_checks(merged: dict) -> list[str]:
    """The cross-key rules on the scenario's own values and in every year its timeline lists."""
    problems = _cross_checks(merged)
    for year in timeline_years(merged.get(TIMELINE) or {}):
        problems += [f"{TIMELINE} year {year}: {p}" for p in _cross_checks(_values_at(merged, year))]
    return problems


def at_year(sc: Scenario, year: int) -> Scenario:
    """The scenario with every time path set to its value in calendar ``year`` (and no timeline)."""
    d = to_dict(sc)
    if not d.get(TIMELINE):
        return sc
    d = _values_at(d, int(year))
    d[TIMELINE] = {}
    return _build(d, Scenario)


# ----------------------------------------------------------------------------- cross-key rules

def _cross_checks(d: dict) -> list[str]:
    """Rules spanning several keys, on the merged document."""
    problems = []

    def shares(path: str, table: Mapping[str, float]):
        s = sum(table.values())
        if abs(s - 1.0) > 1e-6:
            problems.append(f"{path}: shares sum to {s:.6g} (allowed: they must sum to 1)")

    for region, t in d["budget"]["payer_shares"].items():
        shares(f"budget.payer_shares.{region}", t)
    for name in schema.PROGRAMMES:
        shares(f"programmes.{name}.field_shares", d["programmes"][name]["field_shares"])
    for tier in schema.TIERS:
        for f in schema.FIELDS:
            s = d["posts"]["senior_cap"][tier][f] + d["posts"]["intermediate_cap"][tier][f]
            s += d["posts"]["cap_uplift"]["senior"] + d["posts"]["cap_uplift"]["intermediate"]
            if s > 1.0 + 1e-9:
                problems.append(f"posts.senior_cap.{tier}.{f}: senior + intermediate caps with uplift sum to {s:.3g} (allowed: at most 1)")
    pop = d["population"]
    for f, shares_f in pop["age_pyramid"].items():
        s = sum(shares_f)
        if abs(s - 1.0) > 1e-6:
            problems.append(f"population.age_pyramid.{f}: shares sum to {s:.6g} (allowed: they must sum to 1)")
    pay = d["pay"]["base_by_grade"]
    if any(a < b for a, b in zip(pay, pay[1:])):
        problems.append("pay.base_by_grade: pay must not rise from grade 1 (top) to grade 13 (allowed: non-increasing list)")
    return problems


# ----------------------------------------------------------------------------- merging and building

def deep_merge(base: dict, diff: dict) -> dict:
    """A new dict: ``diff`` over ``base``; tables merge, everything else replaces."""
    out = copy.deepcopy(base)
    for k, v in diff.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _build(value, tp):
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{k: _build(value[k], hints[k]) for k in hints})
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_build(v, item) for v in value)
    if origin is not None and origin is not Literal:
        _, val_tp = typing.get_args(tp)
        return frozen_mapping({k: _build(v, val_tp) for k, v in value.items()})
    if tp is float:
        return float(value)
    return value


def to_dict(obj) -> Any:
    """Plain, JSON-ready nested dict of a scenario (or any part of one)."""
    if is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj


def sha256(sc: Scenario) -> str:
    """Stable digest of a resolved scenario (canonical JSON, sorted keys)."""
    text = json.dumps(to_dict(sc), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path, label: str) -> tuple[dict | None, list[str]]:
    try:
        size = path.stat().st_size
        if path.is_file() and size > MAX_FILE_BYTES:
            return None, [f"{label}: the file is {size / (1 << 20):,.1f} MiB (allowed: at most "
                          f"{MAX_FILE_BYTES >> 20} MiB; a scenario file states only its differences from the one it extends)"]
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
        if _depth(doc) > MAX_DEPTH:
            return None, [f"{label}: tables or lists nested more than {MAX_DEPTH} levels deep (allowed: the schema's "
                          "tables, see `grassroots params`)"]
        return doc, []
    except RecursionError:
        return None, [f"{label}: not valid TOML here: lists or tables nested thousands of levels deep "
                      f"(allowed: at most {MAX_DEPTH} levels)"]
    except FileNotFoundError:
        return None, [f"{label}: file not found"]
    except IsADirectoryError:
        return None, [f"{label}: is a folder, not a scenario file"]
    except tomllib.TOMLDecodeError as e:
        return None, [f"{label}: not valid TOML: {e}"]
    except UnicodeDecodeError as e:
        return None, [f"{label}: not UTF-8 text: {e}"]
    except OSError as e:
        return None, [f"{label}: cannot read: {e.strerror}"]


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _chain(ref: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """The files from ``ref`` back to the root, each validated on its own."""
    problems: list[str] = []
    chain: list[tuple[str, dict]] = []
    seen: list[Path] = []
    path = _locate(ref, Path.cwd())
    if not path.exists() and not (ref.endswith(".toml") or "/" in ref):
        names = ", ".join(bundled_names())
        return [], [f"{ref}: no such bundled scenario or file (allowed: {names}, or a path to a .toml file)"]
    while True:
        label = _label(path)
        if path in seen:
            cycle = " -> ".join(_label(p) for p in seen + [path])
            problems.append(f"{label}: extends: cycle ({cycle})")
            break
        seen.append(path)
        doc, errs = _read(path, label)
        if doc is None:
            problems += [f"{chain[-1][0]}: extends: {e}" for e in errs] if chain else errs
            break
        is_root = path == (library_dir() / "baseline.toml").resolve()
        problems += [f"{label}: {p}" for p in validate_document(doc, partial=not is_root)]
        chain.append((label, doc))
        if is_root:
            break
        parent = doc.get("extends", DEFAULT_PARENT)
        if not isinstance(parent, str):
            break
        nxt = _locate(parent, path.parent)
        if not nxt.exists() and not (parent.endswith(".toml") or "/" in parent):
            problems.append(f"{label}: extends: no bundled scenario {_show(parent)} (allowed: {', '.join(bundled_names())}, or a relative path)")
            break
        path = nxt
    return chain, problems


def resolve(ref: str) -> dict:
    """The merged, validated plain dict of a scenario; raises ScenarioError."""
    chain, problems = _chain(str(ref))
    if problems:
        raise ScenarioError(problems)
    merged: dict = {}
    for _, doc in reversed(chain):
        merged = _merge_docs(merged, doc)
    top_label, top = chain[0]
    if "name" not in top:
        merged["name"] = Path(top_label).stem
    merged.setdefault("description", "")
    _normalise_region(merged)
    cross = _all_cross_checks(merged)
    if cross:
        raise ScenarioError([f"{top_label}: {p}" for p in cross])
    return merged


def load(ref: str | Path) -> Scenario:
    """Load a bundled scenario by name, or a scenario file by path, fully validated."""
    return _build(resolve(str(ref)), Scenario)


def from_dict(doc: dict, label: str = "<dict>", base: Scenario | str | None = None) -> Scenario:
    """A scenario from a plain dict of differences over ``base`` (default: its ``extends`` or baseline)."""
    problems = [f"{label}: {p}" for p in validate_document(doc, partial=True)]
    if problems:
        raise ScenarioError(problems)
    if isinstance(base, Scenario):
        merged = to_dict(base)
    else:
        merged = resolve(base or doc.get("extends", DEFAULT_PARENT))
    merged = _merge_docs(merged, doc)
    try:
        _normalise_region(merged)
    except ScenarioError as exc:
        raise ScenarioError([f"{label}: {p}" for p in exc.problems]) from None
    cross = _all_cross_checks(merged)
    if cross:
        raise ScenarioError([f"{label}: {p}" for p in cross])
    return _build(merged, Scenario)


def set_path(doc: dict, key_path: str, value) -> dict:
    """A copy of ``doc`` with the dotted ``key_path`` set to ``value`` (tables created as needed)."""
    out = copy.deepcopy(doc)
    node = out
    parts = key_path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ScenarioError([f"{key_path}: {p} is not a table"])
    node[parts[-1]] = value
    return out


def apply(sc: Scenario, changes: Mapping[str, Any], label: str = "<changes>") -> Scenario:
    """A new scenario: ``sc`` with dotted key paths changed, e.g. ``{"pay.township_subsidy": True}``.

    Validated like a file; ``sc`` itself is never modified (it is frozen).
    """
    doc: dict = {}
    for k, v in changes.items():
        doc = set_path(doc, k, v)
    return from_dict(doc, label=label, base=sc)


def leaf_paths(cls=Scenario, prefix: str = "") -> dict[str, tuple[Any, Mapping]]:
    """Every leaf of the schema as ``{dotted.path: (type, metadata)}``; mapping keys expanded."""
    out: dict[str, tuple[Any, Mapping]] = {}
    hints = _hints(cls)
    for f in fields(cls):
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if is_dataclass(tp):
            out.update(leaf_paths(tp, path + "."))
        else:
            out.update(_expand(tp, f.metadata, path))
    return out


def _expand(tp, meta, path):
    origin = typing.get_origin(tp)
    if origin is not None and origin not in (tuple, Literal):
        key_tp, val_tp = typing.get_args(tp)
        out = {}
        for k in typing.get_args(key_tp):
            out.update(_expand(val_tp, meta, f"{path}.{k}"))
        return out
    return {path: (tp, meta)}


def get_path(sc: Scenario, key_path: str):
    """The value at a dotted key path of a scenario (mapping keys included)."""
    node: Any = sc
    for p in key_path.split("."):
        node = node[p] if isinstance(node, Mapping) else getattr(node, p)
    return node


def describe_params() -> list[dict]:
    """One row per schema leaf: path, unit, source, allowed range (for `grassroots params`)."""
    rows = []
    for path, (tp, meta) in leaf_paths().items():
        lo, hi = meta.get("lo"), meta.get("hi")
        rows.append({"key": path, "type": _describe(tp), "unit": meta.get("unit", ""),
                     "source": meta.get("source", ""),
                     "range": "" if lo is None and hi is None else f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"})
    return rows


__all__ = ["ScenarioError", "load", "resolve", "from_dict", "apply", "sha256", "to_dict", "at_year", "value_at",
           "timeline_years",
           "bundled", "bundled_names", "library_dir", "validate_document", "leaf_paths",
           "get_path", "describe_params", "deep_merge"]
