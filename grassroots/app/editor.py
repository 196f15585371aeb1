"""The scenario editor: every parameter grouped by clause of the opinion, the diff against the base
scenario, validation by the scenario loader itself, and the TOML file a planner saves.

Units, allowed ranges and sources come from :func:`scenarios.describe_params` (the schema), values from
the loaded base scenario; validation is :func:`scenarios.from_dict` (the same checks as ``grassroots
validate``), whose problem lines ``label: key.path: message (allowed: ...)`` are shown beside the field
they name.  Saved and uploaded scenarios live in ``<results root>/scenarios/`` and may extend only a
bundled scenario or another file of that folder (no path leads out of it).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

SCENARIOS_DIRNAME = "scenarios"
MAX_UPLOAD_BYTES = 256 * 1024          # a scenario file is a few kB; anything larger is refused
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")

# top-level section -> (group title en, zh); levers of the opinion first, then model assumptions
SECTIONS: dict[str, tuple[str, str]] = {
    "titles": ("Title evaluation (57号 §4-6)", "职称评审（57号第4-6条）"),
    "recruitment": ("Open recruitment and upward paths (57号 §7)", "公开招聘与向上通道（57号第7条）"),
    "posts": ("Post management (57号 §8)", "岗位管理（57号第8条）"),
    "pay": ("Pay and incentives (57号 §9)", "收入激励（57号第9条）"),
    "training": ("Training (57号 §12)", "培训（57号第12条）"),
    "programmes": ("Service-term programmes (57号 §13-14)", "服务期项目（57号第13-14条）"),
    "flexible": ("Flexible attraction of talent (57号 §15)", "柔性引才（57号第15条）"),
    "budget": ("Budget (57号 §18)", "经费（57号第18条）"),
    "optimizer": ("Optimizer settings", "优化设置"),
    "horizon": ("Horizon (57号 §3)", "年限（57号第3条）"),
    "region": ("Region", "地区"),
    "demand": ("Demand (assumption)", "需求（假设）"),
    "population": ("Staff at the start (assumption)", "初始人员（假设）"),
    "behaviour": ("Behaviour (calibrated and published figures)", "行为参数（校准与公开数据）"),
}


@functools.lru_cache(maxsize=1)
def _params() -> tuple[dict, ...]:
    """:func:`scenarios.describe_params` once per process (the schema does not change while it runs)."""
    import scenarios
    return tuple(scenarios.describe_params())


@functools.lru_cache(maxsize=1)
def _leaves() -> dict:
    import scenarios
    return scenarios.leaf_paths()


def params_by_section() -> list[tuple[str, list[dict]]]:
    """``[(section, [describe_params row, ...]), ...]`` in the order of :data:`SECTIONS`."""
    groups: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    for row in _params():
        sec = row["key"].split(".")[0]
        if sec in groups:
            groups[sec].append(row)
        elif sec not in ("name", "description"):
            groups.setdefault(sec, []).append(row)
    return [(s, rows) for s, rows in groups.items() if rows]


def shown(value: Any) -> str:
    """A value as the form shows it: lists comma-separated, booleans true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return "" if value is None else str(value)


def parse(text: str, kind: str, base: Any, item: type | None = None) -> Any:
    """The form's text for a parameter as the value the schema expects (the loader checks it);
    ``item`` is the element type of a list (text items stay text: province codes such as "64")."""
    text = (text or "").strip()
    if kind == "true or false":
        return text.lower() in ("true", "1", "on", "yes")
    if kind == "a list":
        items = [t.strip() for t in text.split(",") if t.strip()]
        sample = base[0] if isinstance(base, (list, tuple)) and base else None
        out = []
        for t in items:
            if item is str or isinstance(sample, str) or (item is None and sample is None and not _number(t)):
                out.append(t)
            else:
                out.append(_num(t))
        return out
    if kind in ("a number", "an integer"):
        return _num(text)
    return text


def _number(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def _num(t: str):
    """An int when the text is a whole number, else a float, else the text (the loader reports it)."""
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def diff(base_sc, form: dict[str, str]) -> dict[str, tuple[Any, Any]]:
    """``{key: (base value, new value)}`` for every parameter whose form value differs from the base."""
    import typing

    import scenarios
    leaves = _leaves()
    out: dict[str, tuple[Any, Any]] = {}
    for row in _params():
        key = row["key"]
        if key not in form or key in ("name", "description"):
            continue
        old = scenarios.to_dict(scenarios.get_path(base_sc, key))
        args = typing.get_args(leaves[key][0]) if key in leaves else ()
        new = parse(form[key], row["type"], old, item=args[0] if args else None)
        if not _same(old, new):
            out[key] = (old, new)
    return out


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def document(base: str, name: str, description: str, changes: dict[str, Any]) -> dict:
    """The scenario document ``extends = base`` with the changed keys (nested tables)."""
    import scenarios
    doc: dict = {"name": name, "description": description, "extends": base}
    for key, value in changes.items():
        doc = scenarios.loader.set_path(doc, key, value)
    return doc


def check(doc: dict, base_ref: str) -> tuple[object | None, dict[str, list[str]], list[str]]:
    """(scenario or None, problems by key path, problems naming no field) -- the loader's own checks."""
    import scenarios
    try:
        sc = scenarios.from_dict(doc, label=doc.get("name") or "scenario", base=base_ref)
        return sc, {}, []
    except scenarios.ScenarioError as e:
        lines = list(e.problems)
    keys = [r["key"] for r in _params()]
    by_key: dict[str, list[str]] = {}
    general: list[str] = []
    for line in lines:
        hit = _key_of(line, keys)
        (by_key.setdefault(hit, []) if hit else general).append(line)
    return None, by_key, general


def _key_of(line: str, keys: list[str]) -> str | None:
    """The longest parameter key a problem line names (``label: key.path: message``)."""
    best = None
    for k in keys:
        if re.search(rf"(^|[\s:]){re.escape(k)}(\b|:|\[)", line) and (best is None or len(k) > len(best)):
            best = k
    if best is None:  # a problem on a whole table, e.g. 'programmes.x.field_shares: must sum to 1'
        for k in keys:
            parent = k.rsplit(".", 1)[0]
            if re.search(rf"(^|[\s:]){re.escape(parent)}:", line):
                return k
    return best


def to_toml(doc: dict) -> str:
    """A scenario document as TOML: top-level keys, then one dotted key per line (JSON scalars are TOML)."""
    lines = [f"# saved by the grassroots web app; `grassroots validate FILE` checks it"]
    for k in ("name", "description", "extends"):
        if k in doc:
            lines.append(f"{k} = {json.dumps(doc[k], ensure_ascii=False)}")
    lines.append("")

    def walk(node: dict, prefix: str):
        for k, v in node.items():
            if prefix == "" and k in ("name", "description", "extends"):
                continue
            path = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(v, path + ".")
            else:
                lines.append(f"{path} = {json.dumps(v, ensure_ascii=False)}")
    walk(doc, "")
    return "\n".join(lines) + "\n"


def scenarios_dir(root: Path) -> Path:
    return Path(root) / SCENARIOS_DIRNAME


def saved(root: Path) -> list[str]:
    """Names of the scenario files saved in the app's folder."""
    d = scenarios_dir(root)
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def resolve_ref(root: Path, ref: str) -> str | None:
    """A scenario reference the app accepts: a bundled name, or a saved name -> its path; else None."""
    import scenarios
    if ref in scenarios.bundled_names():
        return ref
    if NAME_RE.match(ref or "") and ".." not in ref:
        p = scenarios_dir(root) / f"{ref}.toml"
        if p.is_file():
            return str(p.resolve())
    return None


def extends_problem(doc: dict, root: Path) -> str | None:
    """A problem line when ``extends`` leads outside the bundled library and the app's folder."""
    import scenarios
    parent = doc.get("extends", "baseline")
    if not isinstance(parent, str):
        return None   # the loader reports the type
    if parent in scenarios.bundled_names():
        return None
    stem = parent[:-5] if parent.endswith(".toml") else parent
    if NAME_RE.match(stem) and ".." not in stem and (scenarios_dir(root) / f"{stem}.toml").is_file():
        return None
    return (f"extends: {parent!r} (allowed: a bundled scenario ({', '.join(scenarios.bundled_names())}) "
            f"or a scenario saved in the app)")


def save(root: Path, name: str, text: str) -> Path:
    """Write ``<root>/scenarios/<name>.toml`` (atomically); ``name`` must match :data:`NAME_RE`."""
    from ..results import atomic_write_bytes
    if not NAME_RE.match(name) or ".." in name:
        raise ValueError(f"name: {name!r} (allowed: letters, digits, '-', '_', '.', at most 60)")
    d = scenarios_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.toml"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def extends_value(root: Path, base: str) -> str:
    """``extends`` for a file saved in the app's folder: a bundled name, or ``<saved>.toml`` beside it."""
    import scenarios
    return base if base in scenarios.bundled_names() else f"{Path(base).stem}.toml"


def store_upload(root: Path, filename: str, data: bytes) -> tuple[Path | None, list[str]]:
    """Validate an uploaded scenario file like ``grassroots validate`` and keep it in the app's folder.

    Returns (saved path, []) or (None, problems, one line each); nothing is kept when there is a problem.
    """
    import os
    import secrets
    import tomllib

    import scenarios
    label = Path(filename or "upload.toml").name
    if len(data) > MAX_UPLOAD_BYTES:
        return None, [f"{label}: {len(data):,} bytes (allowed: at most {MAX_UPLOAD_BYTES:,} bytes)"]
    if not label.endswith(".toml"):
        return None, [f"{label}: not a .toml file (allowed: a scenario file ending in .toml)"]
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [f"{label}: not UTF-8 text"]
    except tomllib.TOMLDecodeError as e:
        return None, [f"{label}: not valid TOML: {e}"]
    bad = extends_problem(doc, root)
    if bad:
        return None, [f"{label}: {bad}"]
    name = doc.get("name") if isinstance(doc.get("name"), str) else Path(label).stem
    if not NAME_RE.match(name) or ".." in name:
        return None, [f"{label}: name: {name!r} (allowed: letters, digits, '-', '_', '.', at most 60)"]
    doc["name"] = name
    if "extends" in doc:
        doc["extends"] = extends_value(root, doc["extends"])
    d = scenarios_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".upload-{os.getpid()}-{secrets.token_hex(4)}.toml"
    tmp.write_text(to_toml(doc), encoding="utf-8")
    try:
        scenarios.load(str(tmp))
    except scenarios.ScenarioError as e:
        tmp.unlink(missing_ok=True)
        return None, [ln.replace(str(tmp), label).replace(tmp.name, label) for ln in e.problems]
    final = d / f"{name}.toml"
    os.replace(tmp, final)
    return final, []
