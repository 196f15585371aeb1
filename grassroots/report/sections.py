"""The sections of a simulation report, as data: what was run, headline, comparison with the base,
trajectories, county distribution.  Each function adds one section to a
:class:`~grassroots.report.document.ReportDocument` from tidy tables (the columns of DESIGN.md).

Intervals are named for what they are: ``summary.csv``'s ``p05``/``p95`` are the *spread* of a value
across replications (5th and 95th percentiles), ``comparison.csv``'s ``ci_low``/``ci_high`` a 90%
Student-t *confidence interval of the mean* paired difference; the captions say which is shown.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping, Sequence

import pandas as pd

from . import figures as F
from .document import ReportDocument, cell, items_block
from .labels import label, scenario_description
from .tables import frame_table, metric_year_table, value_cell

HEADLINE_METRICS = ("coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan",
                    "coverage_gini", "share_counties_below_80pct")
HEADLINE_OFFSETS = (5, 10)

#: the columns of comparison.csv's interval (older folders wrote them as p05/p95)
CI_COLUMNS = ("ci_low", "ci_high")


def _first(m: Mapping, *keys):
    for k in keys:
        if m.get(k) is not None:
            return m[k]
    return None


def scenario_rows(m: Mapping, scenarios) -> list[tuple[str, str, str]]:
    """(name, description, sha256) from the scenarios argument and the manifest, whichever has them."""
    rows: dict[str, list[str]] = {}

    def put(name, description=None, sha=None):
        r = rows.setdefault(str(name), ["", ""])
        if description and not r[0]:
            r[0] = str(description)
        if sha and not r[1]:
            r[1] = str(sha)

    if scenarios is not None:
        items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
        for key, sc in items:
            if isinstance(sc, str):  # {name: description}
                put(key, sc)
            elif isinstance(sc, Mapping):
                put(sc.get("name", key), sc.get("description"), sc.get("sha256"))
            else:  # a Scenario object
                sha = None
                try:
                    import scenarios as _sc
                    sha = _sc.sha256(sc)
                except Exception:  # noqa: BLE001 - the digest is a nicety here
                    pass
                put(getattr(sc, "name", key), getattr(sc, "description", None), sha)
    ms = m.get("scenarios")
    if isinstance(ms, Mapping):
        for name, v in ms.items():
            if isinstance(v, Mapping):
                put(name, v.get("description"), v.get("sha256"))
            else:
                put(name, None, v)
    elif isinstance(ms, (list, tuple)):
        for v in ms:
            if isinstance(v, Mapping) and v.get("name"):
                put(v["name"], v.get("description"), v.get("sha256"))
            elif isinstance(v, str):
                put(v)
    if m.get("scenario") and (not rows or str(m["scenario"]) in rows):
        put(m["scenario"], m.get("description"), _first(m, "sha256", "scenario_sha256"))
    return [(k, v[0], v[1]) for k, v in rows.items()]


def headline_years(df: pd.DataFrame, years: Sequence[int] | None = None,
                   start_year: int | None = None) -> tuple[list[int], int | None]:
    """The years a headline shows: start+5 and start+10 where present (start = first year), else the last."""
    have = sorted(int(y) for y in pd.unique(df["year"].dropna()))
    if not have:
        return [], None
    start = int(start_year) if start_year is not None else have[0]
    if years is not None:
        return [int(y) for y in years if int(y) in have], start
    chosen = [start + k for k in HEADLINE_OFFSETS if start + k in have]
    if have[-1] not in chosen and len(chosen) < len(HEADLINE_OFFSETS):
        chosen.append(have[-1])
    return chosen, start


KNOWN_MANIFEST = {"command", "argv", "reproduce", "scenario", "scenarios", "package", "version", "python",
                  "started", "finished", "seed", "master_seed", "replication_seeds", "seeds", "replications",
                  "years", "provinces", "files", "sha256", "scenario_sha256", "descriptions", "description"}


def add_run_info(doc: ReportDocument, manifest: Mapping[str, Any] | None, scenarios=None) -> ReportDocument:
    """What was run: command, scenarios (name, description, sha256), seeds, version, how to reproduce."""
    m = dict(manifest or {})
    doc.section("run_info")
    L, lang = doc.L, doc.lang
    reproduce = m.get("reproduce")
    if not reproduce and m.get("argv"):
        reproduce = "grassroots " + " ".join(shlex.quote(str(a)) for a in m["argv"])
    if reproduce:
        doc.add({"kind": "command", "label": L("reproduce"), "text": reproduce})
    rows = scenario_rows(m, scenarios)
    if rows:  # name, and description / sha256 columns when any scenario has them
        has_desc, has_sha = any(r[1] for r in rows), any(r[2] for r in rows)
        head = [cell(L("scenario"))] + ([cell(L("description"))] if has_desc else []) \
            + ([cell(L("sha256"))] if has_sha else [])
        body = []
        for name, desc, sha in rows:
            cells = [cell(doc.labels.scenario(name), "label", bold=True)]
            if has_desc:
                cells.append(cell(scenario_description(name, desc, lang)))
            if has_sha:
                cells.append(cell(sha, "hash", code=True))
            body.append({"cells": cells})
        doc.add({"kind": "table", "title": None, "head": [head], "rows": body, "caption": None, "more": None,
                 "cls": "scen", "sortable": False, "filter": None, "id": None})
    seeds = _first(m, "replication_seeds", "seeds")
    seeds_text = None
    if isinstance(seeds, (list, tuple)) and seeds:
        seeds_text = ", ".join(str(s) for s in seeds[:6])
        if len(seeds) > 6:
            seeds_text += " … " + doc.T("seeds_more", n=len(seeds))
    elif seeds is not None:
        seeds_text = str(seeds)
    provinces = m.get("provinces")
    if isinstance(provinces, (list, tuple)):
        provinces = ", ".join(f"{label(str(p), lang)} ({p})" for p in provinces) if provinces else None
    items = [
        (L("command"), m.get("command")),
        (L("seed"), _first(m, "seed", "master_seed")),
        (L("replication_seeds"), seeds_text),
        (L("replications"), m.get("replications")),
        (L("years"), m.get("years")),
        (L("provinces"), provinces),
        (L("version"), " ".join(str(x) for x in (m.get("package"), m.get("version")) if x)),
        (L("python"), m.get("python")),
        (L("started"), m.get("started")),
        (L("finished"), m.get("finished")),
    ]
    extra = [(k, v) for k, v in m.items() if k not in KNOWN_MANIFEST and isinstance(v, (str, int, float, bool))]
    items += [(label(k, lang), label("yes" if v else "no", lang) if isinstance(v, bool) else v) for k, v in extra]
    doc.add(items_block(None, items, code=(L("seed"), L("replication_seeds"))))
    return doc


def _row(idx: pd.DataFrame, key):
    try:
        r = idx.loc[key]
    except KeyError:
        return None
    return r.iloc[0] if isinstance(r, pd.DataFrame) else r


def add_headline(doc: ReportDocument, summary: pd.DataFrame, years: Sequence[int] | None = None,
                 metrics: Sequence[str] = HEADLINE_METRICS, start_year: int | None = None,
                 scenarios: Sequence[str] | None = None) -> ReportDocument:
    """Years start+5 and start+10 (or ``years``): each headline metric per scenario, mean and spread."""
    F._require(summary, ["scenario", "year", "metric", "mean"], "summary")
    mets = [m for m in metrics if m in set(summary["metric"])]
    if not mets:
        return doc
    chosen, start = headline_years(summary, years, start_year)
    scen = list(scenarios) if scenarios is not None else F._ordered(summary["scenario"])
    idx = summary.set_index(["scenario", "year", "metric"]).sort_index()
    doc.section("headline")
    L = doc.labels

    def value(m, y, s, first):
        r = _row(idx, (s, y, m))
        if r is None:
            return cell("–", "num")
        return value_cell(L, m, r["mean"], r.get("p05"), r.get("p95"), first=first)

    for t in metric_year_table(L, mets, chosen, start, [(s, L.scenario(s)) for s in scen], value, "headline"):
        doc.add(t)
    doc.add_note(doc.T("caption_headline"), kind="caption")
    return doc


def add_comparison(doc: ReportDocument, comparison: pd.DataFrame, years: Sequence[int] | None = None,
                   metrics: Sequence[str] = HEADLINE_METRICS, start_year: int | None = None,
                   base_name: str | None = None) -> ReportDocument:
    """Paired differences from the base (``comparison.csv``) for the headline metrics and years."""
    F._require(comparison, ["metric", "year", "scenario", "mean_diff"], "comparison")
    comparison = comparison_with_ci(comparison)
    mets = [m for m in metrics if m in set(comparison["metric"])]
    if not mets:
        return doc
    chosen, start = headline_years(comparison, years, start_year)
    scen = F._ordered(comparison["scenario"])
    doc.section("comparison")
    L = doc.labels
    numeric_base = "base" in comparison.columns and pd.api.types.is_numeric_dtype(comparison["base"])
    idx = comparison.set_index(["metric", "year", "scenario"]).sort_index()
    columns = [("\0base", L("base") + (f" ({L.scenario(base_name)})" if base_name else ""))] if numeric_base else []
    columns += [(s, "Δ " + L.scenario(s)) for s in scen]

    def value(m, y, s, first):
        if s == "\0base":
            b = comparison[(comparison["metric"] == m) & (comparison["year"] == y)]["base"]
            return cell(L.value(m, b.iloc[0]) if len(b) else "–", "num" + (" first" if first else ""))
        r = _row(idx, (m, y, s))
        if r is None:
            return cell("–", "num")
        return value_cell(L, m, r["mean_diff"], r.get("ci_low"), r.get("ci_high"), diff=True, first=first)

    for t in metric_year_table(L, mets, chosen, start, columns, value, "comparison"):
        doc.add(t)
    doc.add_note(doc.T("caption_comparison"), kind="caption")
    return doc


def comparison_with_ci(comparison: pd.DataFrame) -> pd.DataFrame:
    """``comparison.csv`` with its interval as ``ci_low``/``ci_high`` (folders written before the rename
    named them ``p05``/``p95``)."""
    if "ci_low" not in comparison.columns and {"p05", "p95"} <= set(comparison.columns):
        return comparison.rename(columns={"p05": "ci_low", "p95": "ci_high"})
    return comparison


def add_trajectories(doc: ReportDocument, summary: pd.DataFrame,
                     metrics: Sequence[str] = F.DEFAULT_METRICS) -> ReportDocument:
    doc.section("trajectories")
    fig = F.trajectories(summary, metrics=metrics, labels=doc.figure_labels)
    return doc.add_figure("", fig, caption=doc.T("caption_trajectories"), alt=doc.L("trajectories"),
                          name="trajectories")


def add_county_distribution(doc: ReportDocument, counties: pd.DataFrame, metric: str = "coverage",
                            year: int | None = None, base: str | None = None) -> ReportDocument:
    """County strips for ``metric`` (and differences from ``base`` when there are other scenarios)."""
    tot = F.county_totals(counties, metric, year)
    doc.section("county_distribution")
    L = doc.labels
    fig = F.county_strips(counties, metric, year, labels=doc.figure_labels)
    one_province = tot["province"].nunique() <= 1
    doc.add_figure("", fig, caption=doc.T("caption_county_strip" if one_province else "caption_county_strips"),
                   alt=L("county_distribution"),
                   name=f"counties-{metric}")
    rows = []
    ref = 0.8 if metric == "coverage" else None
    for s in F._ordered(tot["scenario"]):
        v = tot.loc[tot["scenario"] == s, "mean"]
        row = {"scenario": s, "counties": len(v), "min": v.min(), "p10": v.quantile(0.10),
               "median": v.median(), "max": v.max()}
        if ref is not None:
            row["below"] = float((v < ref).mean())
        rows.append(row)
    headers = {"scenario": L("scenario"), "counties": L("counties"), "min": L("lowest"),
               "p10": L("p10_counties"), "median": L("median"), "max": L("highest"), "below": L("share_below_80")}
    formats = {c: metric for c in ("min", "p10", "median", "max")}
    formats["below"] = "share"
    formats["counties"] = lambda x: f"{int(x):,}"
    doc.add(frame_table(L, None, pd.DataFrame(rows), formats=formats, headers=headers))
    scen = F._ordered(tot["scenario"])
    if len(scen) > 1:
        b = base if base in scen else scen[0]
        fig = F.county_differences(counties[counties["scenario"] == b], counties, metric, year,
                                   labels=doc.figure_labels)
        doc.add_figure(L("county_differences"), fig, caption=doc.T("caption_county_differences"),
                       alt=L("county_differences"), name=f"county-differences-{metric}")
    return doc
