"""Result folders as the pages show them, and the one rule for paths: nothing outside the results root.

:func:`safe_path` is the only way the server turns a name from a request into a file: parts must be plain
names (no ``..``, no absolute path, no hidden part, no backslash or NUL), and the resolved path (symbolic
links followed) must lie inside the resolved root.  Readers here take a folder name, never a path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_PART = re.compile(r"^[^/\\\x00]+$")
HEADLINE_METRICS = ("coverage", "staff", "vacancies", "share_counties_below_80pct", "turnover_rate",
                    "senior_share", "mean_skill", "cost_yuan")
MAX_COUNTY_ROWS = 300
MAPS_MODULES = ("grassroots.report.maps", "grassroots.maps")     # where the geo work puts county_map


def safe_path(root: Path, *parts: str) -> Path | None:
    """``root/parts...`` when every part is a plain, non-hidden name and the result stays inside ``root``."""
    root = Path(root).resolve()
    rel = []
    for part in parts:
        for p in str(part).split("/"):
            if p in ("", ".", "..") or p.startswith(".") or not _PART.match(p):
                return None
            rel.append(p)
    if not rel:
        return None
    path = root.joinpath(*rel)
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return None
    if real != root and root not in real.parents:
        return None
    return real


def manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def list_results(root: Path) -> list[dict]:
    """Finished result folders directly under ``root`` (those with a manifest), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    rows = []
    for p in root.iterdir():
        if p.name.startswith(".") or not p.is_dir():
            continue
        m = manifest(p)
        if m is None:
            continue
        rows.append({"name": p.name, "command": m.get("command", ""), "scenario": m.get("scenario", ""),
                     "started": m.get("started", ""), "reproduce": m.get("reproduce", "")})
    return sorted(rows, key=lambda r: r["started"], reverse=True)


def files_of(folder: Path) -> list[str]:
    """Every file of a result folder, as paths relative to it (figures/ included)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _read_csv(path: Path):
    import pandas as pd
    return pd.read_csv(path, dtype={"province": str, "county_id": str})


def headline(folder: Path, lang: str) -> list[dict]:
    """Final-year rows of ``comparison.csv`` for the headline metrics: base value, difference, 90% interval."""
    from ..report.labels import fmt_interval, fmt_value, label
    path = folder / "comparison.csv"
    if not path.exists():
        return []
    cmp = _read_csv(path)          # metric,year,scenario,base,mean_diff,ci_low,ci_high ('base' = the base's mean)
    cmp = cmp.rename(columns={"p05": "ci_low", "p95": "ci_high"})    # the interval's older column names
    year = int(cmp["year"].max())
    rows = []
    for metric in HEADLINE_METRICS:
        part = cmp[(cmp["metric"] == metric) & (cmp["year"] == year)]
        for r in part.itertuples(index=False):
            rows.append({"metric": label(metric, lang), "scenario": r.scenario, "year": year,
                         "base": fmt_value(metric, r.base, lang),
                         "diff": fmt_value(metric, r.mean_diff, lang, diff=True),
                         "interval": fmt_interval(metric, r.ci_low, r.ci_high, lang, diff=True)})
    return rows


def decomposition(folder: Path, lang: str) -> list[dict]:
    """Coverage contributions by lever family in the final year (``decomposition.csv``), if any."""
    from ..report.labels import fmt_value, label
    p = folder / "decomposition.csv"
    if not p.exists():
        return []
    d = _read_csv(p)
    d = d[(d["metric"] == "coverage") & (d["year"] == d["year"].max())]
    return [{"scenario": r.scenario, "lever": label(r.lever, lang),
             "contribution": fmt_value("coverage", r.contribution, lang, diff=True)} for r in d.itertuples(index=False)]


def allocation(folder: Path, lang: str, fields: list[str] | None = None) -> tuple[list[str], list[dict], int]:
    """(lever columns, rows, number of counties): ``allocation.csv`` per county, quantities by lever and cost."""
    from ..report.labels import fmt_number, fmt_yuan, label
    p = folder / "allocation.csv"
    if not p.exists():
        return [], [], 0
    a = _read_csv(p)
    if fields:
        a = a[a["field"].isin(fields)]
    if a.empty:
        return [], [], 0
    import scenarios
    # posts and places add up over fields; a per-person top-up (yuan/month) does not: the highest field's is shown
    per_person = {lv for lv in a["lever"].unique() if "yuan/month" in scenarios.LEVERS.get(lv, "")}
    q = a.pivot_table(index=["county_id", "province"], columns="lever", values="quantity", aggfunc="sum", fill_value=0)
    if per_person:
        top = a[a["lever"].isin(per_person)].pivot_table(index=["county_id", "province"], columns="lever",
                                                         values="quantity", aggfunc="max", fill_value=0)
        for lv in top.columns:
            q[lv] = top[lv].reindex(q.index).fillna(0)
    cost = a.groupby(["county_id", "province"])["cost_yuan"].sum()
    q = q.assign(_cost=cost).sort_values("_cost", ascending=False)
    names = _county_names(list(q.index.get_level_values(0)), lang)
    levers = [c for c in q.columns if c != "_cost"]
    rows = []
    for (county, prov), r in q.head(MAX_COUNTY_ROWS).iterrows():
        rows.append({"county": names.get(county, county), "province": label(prov, lang),
                     "values": [fmt_number(r[c]) for c in levers], "cost": fmt_yuan(r["_cost"], lang)})
    unit = "（元/月，最高领域）" if lang == "zh" else " (yuan/month, highest field)"
    return [label(c, lang) + (unit if c in per_person else "") for c in levers], rows, len(q)


def _county_names(ids: list[str], lang: str) -> dict[str, str]:
    """County names when the county table has a name column (the geo work adds them); else none."""
    try:
        import scenarios
        table = scenarios.county_table(provinces=sorted({i[:2] for i in ids}))
    except Exception:  # noqa: BLE001 - names are a nicety; the ids are shown instead
        return {}
    col = next((c for c in (("name_zh", "name") if lang == "zh" else ("name_en", "name")) if c in table.columns), None)
    if col is None:
        return {}
    return {str(k): f"{v} ({k})" for k, v in zip(table["county_id"].astype(str), table[col])}


def one_more_million(folder: Path) -> float | None:
    """Change of the objective for one more million yuan a year (budget shadow price x 1e6), if reported."""
    try:
        s = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    bp = (s.get("shadow_prices") or {}).get("budget")
    return None if bp is None else float(bp) * 1e6


def budget_summary(folder: Path, lang: str) -> dict | None:
    """Budget used of the budget, and the shortfall before and after the allocation (``solution.json``)."""
    from ..report.labels import fmt_number, fmt_yuan
    try:
        s = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    t = s.get("totals") or {}
    if "budget_used_yuan" not in s:
        return None
    return {"status": s.get("status", ""), "used": fmt_yuan(s.get("budget_used_yuan"), lang),
            "budget": fmt_yuan(s.get("budget_yuan"), lang),
            "before": fmt_number(t.get("shortfall_before")), "after": fmt_number(t.get("shortfall_after"))}


def sized(folder: Path, lang: str) -> dict | None:
    """The smallest fund of ``size-budget`` (with ``--confidence``: the simulated probability and its interval)."""
    from ..report.labels import fmt_yuan
    m = manifest(folder) or {}
    if m.get("command") != "size-budget":
        return None
    try:
        s = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    c = s.get("confidence")
    if c:
        return {"budget": fmt_yuan(c.get("budget_yuan"), lang), "reached": bool(c.get("reached")),
                "probability": f"{c.get('probability', float('nan')):.2f}",
                "interval": f"{c.get('p_low', float('nan')):.2f}–{c.get('p_high', float('nan')):.2f}",
                "required": f"{c.get('required', float('nan')):g}", "target": f"{c.get('coverage_target', float('nan')):g}"}
    return {"budget": fmt_yuan(s.get("budget_yuan"), lang), "reached": s.get("status") == "optimal",
            "probability": "", "interval": "", "required": "", "target": f"{m.get('coverage_target', '')}"}


def frontier(folder: Path, lang: str) -> list[dict]:
    """``frontier.csv`` rows: budget, coverage, weighted shortfall."""
    from ..report.labels import fmt_number, fmt_yuan
    p = folder / "frontier.csv"
    if not p.exists():
        return []
    f = _read_csv(p)
    out = []
    for r in f.to_dict(orient="records"):
        out.append({"budget": fmt_yuan(r.get("budget_yuan"), lang), "coverage": f"{100 * float(r.get('coverage', 0)):.1f}%",
                    "shortfall": fmt_number(r.get("weighted_shortfall"))})
    return out


def _counties(folder: Path, columns_metric: tuple[str, ...]):
    """The per-county table of a run (``counties.parquet`` or ``counties.csv.gz``), only the given metrics."""
    import pandas as pd
    pq, gz = folder / "counties.parquet", folder / "counties.csv.gz"
    if pq.exists():
        df = pd.read_parquet(pq, filters=[("metric", "in", list(columns_metric))])
    elif gz.exists():
        df = _read_csv(gz)
    else:
        return None
    df = df[df["metric"].isin(columns_metric)].copy()
    df["county_id"] = df["county_id"].astype(str)
    return df


def map_values(folder: Path, lang: str):
    """(per-county values indexed by county_id, colour-bar label, centre) for the result's map, or None.

    A comparison: the change of coverage (staff / demand over all fields) in the final year, first other
    scenario minus the base, in percentage points (diverging around 0).  A single run: its coverage.
    An allocation: its cost per county (yuan/year).
    """
    from ..report.labels import label
    alloc = folder / "allocation.csv"
    if alloc.exists():
        a = _read_csv(alloc)
        return a.groupby("county_id")["cost_yuan"].sum(), label("cost_yuan", lang), None
    c = _counties(folder, ("staff", "demand"))
    if c is None or c.empty:
        return None
    c = c[c["year"] == c["year"].max()]
    tot = c.pivot_table(index=["scenario", "county_id"], columns="metric", values="mean", aggfunc="sum")
    cov = (tot["staff"] / tot["demand"]).unstack(0)
    m = manifest(folder) or {}
    scen = list(cov.columns)
    base = m.get("base") if m.get("base") in scen else scen[0]
    others = [s for s in scen if s != base]
    if not others:
        return cov[base], label("coverage", lang), None
    unit = "（个百分点）" if lang == "zh" else " (percentage points)"
    text = f"{label('coverage', lang)}: {others[0]} − {base}{unit}"
    return 100 * (cov[others[0]] - cov[base]), text, 0.0


def county_map(folder: Path, lang: str) -> bytes | None:
    """A county map PNG when a maps module exists (``county_map`` of ``grassroots.report.maps`` or
    ``grassroots.maps``, from the geo work), imported only here; None (the page omits the map) when there
    is none or it cannot draw this result."""
    import importlib
    import io
    draw = None
    for module in MAPS_MODULES:
        try:
            draw = importlib.import_module(module).county_map
            break
        except (ImportError, AttributeError):
            continue
    if draw is None:
        return None
    try:
        got = map_values(folder, lang)
        if got is None:
            return None
        values, text, center = got
        font = None
        if lang == "zh":
            from ..report.labels import cjk_font
            font = cjk_font()
        kw = {"label": text, "font": font}
        if center is not None:
            kw.update(center=center, cmap="RdBu")
        fig = draw(values, **kw)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - the map slot is omitted when the maps code cannot draw this result
        return None
