"""One call that builds and writes a report from the tables a command produced, and one that reads them back.

:func:`write_report` takes any subset of the tidy tables (each block appears only when its data is there)
and writes ``report.html`` into a :class:`~grassroots.results.ResultFolder` (with the figures as PNG files
beside it) or to a path; :func:`read_results` loads those tables back from a finished result folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from . import map_blocks as MB
from . import sections as S
from . import study_sections as SS
from .document import SECTION_KEYS, ReportDocument
from .flows import add_flows, has_flows
from .labels import label, text
from .render import render, write_html

log = logging.getLogger("grassroots.report")


SECTIONS = ("summary", "comparison", "counties", "decomposition", "solution", "allocation",
            "frontier", "sensitivity", "probability")


def write_report(target=None, *, manifest: Mapping | None = None, scenarios=None,
                 summary: pd.DataFrame | None = None, comparison: pd.DataFrame | None = None,
                 counties: pd.DataFrame | None = None, decomposition: pd.DataFrame | None = None,
                 interactions: pd.DataFrame | None = None, interactions_metric: str = "coverage",
                 solution: Mapping | None = None, allocation: pd.DataFrame | None = None,
                 frontier: pd.DataFrame | None = None, sensitivity: pd.DataFrame | None = None,
                 probability: pd.DataFrame | None = None, probability_target: float | None = None,
                 flows: pd.DataFrame | None = None,
                 sized_budget: float | None = None, lang: str = "en", names: Mapping[str, str] | None = None,
                 title: str | None = None, base: str | None = None, start_year: int | None = None,
                 strict: bool = False, save_figures: bool = True, overwrite: bool = False) -> str:
    """Build the report from whatever tables are given and write it; returns the HTML.

    ``target``: a :class:`~grassroots.results.ResultFolder` (writes ``report.html``
    and, with ``save_figures``, ``figures/<name>.png``; its manifest is used when
    ``manifest`` is None), a file path, or None (only return the HTML).

    A block whose data is malformed is replaced by a visible note and a logged
    warning, so a long run never loses its results to a plotting problem;
    ``strict=True`` raises instead (tests use it).
    """
    folder = target if hasattr(target, "write_bytes") and hasattr(target, "manifest") else None
    if folder is None and target is not None:  # fail before drawing anything
        if Path(target).is_dir():
            raise IsADirectoryError(f"{target}: give the report's file name, e.g. {Path(target) / 'report.html'}")
        if Path(target).exists() and not overwrite:
            raise FileExistsError(f"{target}: exists already (pass overwrite=True to replace it)")
    if manifest is None and folder is not None:
        manifest = folder.manifest
    m = dict(manifest or {})
    if base is None:
        base = m.get("base") or (m.get("scenario") if m.get("command") == "compare" else None)
    if title is None:
        what = " ".join(str(x) for x in [m.get("command")] + _scenario_names(m) if x)
        title = label("report_title", lang) + (f": {what}" if what else "")
    sub = " · ".join(str(x) for x in (" ".join(str(v) for v in (m.get("package"), m.get("version")) if v),
                                      m.get("started")) if x)
    r = ReportDocument(title=title, lang=lang, names=names, subtitle=sub or None)

    def block(name: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported visibly below
            if strict:
                raise
            log.warning("report: the %s block could not be built: %s", name, exc)
            r.section(name if name in SECTION_KEYS else "notes")
            r.add_note(text("block_failed", lang, error=f"{type(exc).__name__}: {exc}"), kind="warn")

    block("run_info", lambda: S.add_run_info(r, m, scenarios))
    if summary is not None:
        block("headline", lambda: S.add_headline(r, summary, start_year=start_year))
    if comparison is not None:
        block("comparison", lambda: S.add_comparison(r, comparison, start_year=start_year, base_name=base))
    if summary is not None:
        block("trajectories", lambda: S.add_trajectories(r, summary))
    if has_flows(summary):
        block("flows", lambda: add_flows(r, summary, comparison))
    if flows is not None:
        block("flows", lambda: MB.add_flow_map(r, flows))
    if counties is not None:
        block("county_distribution", lambda: S.add_county_distribution(r, counties, base=base))
        block("county_maps", lambda: MB.add_county_maps(r, counties, base=base))
    if decomposition is not None:
        block("decomposition", lambda: SS.add_decomposition(r, decomposition))
    if interactions is not None:
        block("decomposition", lambda: SS.add_interactions(r, interactions, metric=interactions_metric))
    if solution is not None:
        block("optimizer", lambda: SS.add_solution(r, solution))
    if allocation is not None:
        block("optimizer", lambda: SS.add_allocation(r, allocation))
        block("optimizer", lambda: MB.add_allocation_maps(r, allocation))
    if frontier is not None:
        block("frontier", lambda: SS.add_frontier(r, frontier))
    if sensitivity is not None:
        block("sensitivity", lambda: SS.add_sensitivity(r, sensitivity))
    if probability is not None:
        block("budget_probability", lambda: SS.add_probability(r, probability, probability_target, sized_budget))
    html = render(r)
    if folder is not None:
        save(folder, r, html, save_figures)
    elif target is not None:
        write_html(r, target, overwrite=overwrite)
    return html


def save(folder, doc: ReportDocument, html: str | None = None, save_figures: bool = True) -> str:
    """Write ``report.html`` (and, with ``save_figures``, ``figures/<name>.png``) into a result folder."""
    html = render(doc) if html is None else html
    if save_figures:
        for name, png in doc.figures:
            folder.write_bytes(f"figures/{name}.png", png)
    folder.write_bytes("report.html", html.encode("utf-8"))
    return html


def _scenario_names(m: Mapping) -> list[str]:
    ms = m.get("scenarios")
    if isinstance(ms, Mapping) and ms:
        return [str(k) for k in ms]
    if isinstance(ms, (list, tuple)) and ms:
        return [str(v.get("name") if isinstance(v, Mapping) else v) for v in ms]
    return [str(m["scenario"])] if m.get("scenario") else []


def read_results(folder: str | Path) -> dict[str, Any]:
    """The tables of a finished result folder, keyed as :func:`write_report` takes them."""
    p = Path(folder)
    out: dict[str, Any] = {}
    files = {"summary": "summary.csv", "comparison": "comparison.csv", "decomposition": "decomposition.csv",
             "interactions": "interactions.csv",
             "allocation": "allocation.csv", "frontier": "frontier.csv", "sensitivity": "sensitivity.csv",
             "probability": "probability.csv"}
    for key, name in files.items():
        if (p / name).exists():
            out[key] = pd.read_csv(p / name, dtype={"province": str, "county_id": str})
    from ..results import read_table
    counties = read_table(p, "counties")   # counties.parquet (or the .csv.gz / .csv of earlier versions)
    if counties is not None:
        out["counties"] = counties
    if "comparison" in out:  # folders written before comparison.csv's interval was named ci_low/ci_high
        out["comparison"] = S.comparison_with_ci(out["comparison"])
    for key, name in (("manifest", "manifest.json"), ("solution", "solution.json")):
        if (p / name).exists():
            out[key] = json.loads((p / name).read_text(encoding="utf-8"))
    return out


