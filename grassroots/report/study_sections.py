"""The sections of study and optimizer reports, as data: lever decomposition, optimizer solution (solver
internals in a collapsed technical section), allocation (by province and lever, and per county), budget
frontier, sensitivity, budget probability.  Same conventions as :mod:`.sections`.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import figures as F
from . import study_figures as SF
from .document import ReportDocument, cell, details_block, items_block
from . import labels as LB
from .labels import LEVER_ORDER
from .numbers import finite, fmt_g4, fmt_number, fmt_scalar, fmt_small_diff, fmt_yuan
from .sections import HEADLINE_METRICS
from .tables import county_allocation_table, frame_table


def add_decomposition(doc: ReportDocument, decomposition: pd.DataFrame, year: int | None = None,
                      metrics: Sequence[str] | None = None, max_figures: int = 4) -> ReportDocument:
    """Shapley decomposition by lever family: one table (levers x metrics) and waterfalls."""
    F._require(decomposition, ["metric", "lever", "contribution"], "decomposition")
    d = decomposition
    y = F._pick_year(d, year)
    if y is not None:
        d = d[d["year"] == y]
    have = F._ordered(d["metric"], first=HEADLINE_METRICS)
    mets = [m for m in (metrics or have) if m in have]
    if not mets:
        return doc
    doc.section("decomposition")
    L = doc.labels
    levers = F._ordered([lv for lv in d["lever"] if lv != "total"], first=LEVER_ORDER) + ["total"]
    table = d.pivot_table(index="lever", columns="metric", values="contribution", aggfunc="sum", observed=True)
    table = table.reindex(index=[lv for lv in levers if lv in table.index], columns=mets)
    head = [[cell(L("lever"), "label")] + [cell(L(m), "num") for m in mets]]
    rows = [{"cls": "total" if lv == "total" else "",
             "cells": [cell(L(lv), "label")] + [cell(L.value(m, r[m], diff=True), "num") for m in mets]}
            for lv, r in table.iterrows()]
    cap = doc.T("caption_decomposition_year", year=y) if y is not None else doc.T("caption_decomposition")
    doc.add({"kind": "table", "title": None, "head": head, "rows": rows, "caption": cap, "more": None,
             "cls": "decomp", "sortable": False, "filter": None, "id": None})
    for m in mets[:max_figures]:
        fig = SF.waterfall(decomposition, m, labels=doc.figure_labels, year=y)
        doc.add_figure("", fig, alt=f'{L("decomposition")}: {L(m)}', name=f"waterfall-{m}")
    return doc


def add_interactions(doc: ReportDocument, interactions: pd.DataFrame, metric: str = "coverage", n: int = 8,
                     year: int | None = None) -> ReportDocument:
    """The strongest pairwise lever interactions (``interactions.csv`` of ``compare --decompose levers``):
    the ``n`` rows of ``metric`` in ``year`` (default: the last) with the largest |interaction|, of the first
    package, with their standard error when the table has one."""
    F._require(interactions, ["lever_a", "lever_b", "context", "metric", "year", "interaction"], "interactions")
    d = interactions
    if "scenario" in d.columns and len(d):
        d = d[d["scenario"] == d["scenario"].iloc[0]]
    d = d[d["metric"] == metric]
    y = F._pick_year(d, year)
    if y is not None:
        d = d[d["year"] == y]
    d = d.reindex(d["interaction"].abs().sort_values(ascending=False, kind="stable").index).head(n)
    if d.empty:
        return doc
    doc.section("decomposition")
    L = doc.labels
    has_se = "se" in d.columns and d["se"].notna().any()
    head = [[cell(L("lever_a"), "label"), cell(L("lever_b"), "label"), cell(L("interaction_context"), "label"),
             cell(L("interaction"), "num")] + ([cell(L("se"), "num")] if has_se else [])]
    rows = []
    for r in d.itertuples(index=False):
        value, error = fmt_small_diff(metric, r.interaction, r.se if has_se else None, L.lang)
        cells = [cell(L(r.lever_a), "label"), cell(L(r.lever_b), "label"), cell(L(f"context_{r.context}"), "label"),
                 cell(value, "num")]
        if has_se:
            cells.append(cell(error, "num"))
        rows.append({"cls": "", "cells": cells})
    doc.add({"kind": "table", "title": L("strongest_interactions"), "head": head, "rows": rows,
             "caption": doc.T("caption_interactions", metric=L(metric), year=y), "more": None,
             "cls": "decomp", "sortable": False, "filter": None, "id": None})
    return doc


#: solution.json keys a reader needs; everything else is solver detail, shown collapsed
SOLUTION_MAIN = ("status", "objective", "budget_yuan", "budget_used_yuan", "solver", "solve_seconds", "integer",
                 "mip_gap", "coverage_target", "target_share_of_counties")


def add_solution(doc: ReportDocument, solution: Mapping[str, Any]) -> ReportDocument:
    """Optimizer solution (``solution.json``): status, objective, budget and budget used by payer, totals
    before and after, the budget's shadow price; row names, raw solver values, settings and inputs in a
    collapsed technical section."""
    s = dict(solution or {})
    doc.section("optimizer")
    L, lang = doc.labels, doc.lang

    def fmt(k, v):
        return fmt_scalar(k, v, lang)

    items = []
    for k in SOLUTION_MAIN:
        v = s.get(k)
        if v is None:
            continue
        if k == "objective":
            text = fmt(k, v) + (f" ({L(s['objective_name'])})" if s.get("objective_name") else "")
        elif k == "solve_seconds":
            text = f"{float(v):.2f}" if finite(v) else None
        elif k == "status":
            text = L(v) if str(v) in ("optimal", "Optimal", "infeasible") else str(v)
        elif k == "mip_gap":
            text = f"{100 * float(v):.3g}%" if finite(v) else None
        else:
            text = fmt(k, v)
        items.append((L(k), text))
        if k == "budget_used_yuan":
            for key in ("budget_used_by_payer_yuan", "payer_budget_yuan"):
                if isinstance(s.get(key), Mapping):
                    items += [(f"{L(key)}: {L(f'{p}_gov')}", fmt(key, x)) for p, x in s[key].items()]
    sp = s.get("shadow_prices") if isinstance(s.get("shadow_prices"), Mapping) else {}
    if finite(sp.get("budget")):
        per_million = abs(float(sp["budget"])) * 1e6  # the dual is per yuan; people read per ¥1 million
        items.append((L("shadow_price_budget"), doc.T("shadow_price_budget_value", value=fmt_g4(per_million))))
    doc.add(items_block(None, [(k, v) for k, v in items if v not in (None, "–")]))
    totals = s.get("totals")
    if isinstance(totals, Mapping) and totals:
        rows = [(_total_label(doc, k), fmt(k, v)) for k, v in totals.items() if not isinstance(v, (Mapping, list))]
        doc.add(items_block(L("totals"), rows))
    tech = _technical(doc, s, sp)
    if tech:
        doc.add(details_block(doc.T("technical_details"), tech))
    return doc


def _total_label(doc: ReportDocument, key: str) -> str:
    """``shortfall_after`` -> 'Shortfall (posts), after'; other keys through the labels."""
    for end in ("before", "after"):
        if key.endswith("_" + end) and key[: -len(end) - 1] in LB.catalogue(doc.lang):
            return doc.T(f"{end}_of", what=doc.L(key[: -len(end) - 1]))
    return doc.L(key)


def _technical(doc: ReportDocument, s: Mapping, sp: Mapping) -> list[dict]:
    """Blocks of the collapsed technical section: solver values, constraint rows and their duals."""
    L = doc.labels
    shown = set(SOLUTION_MAIN) | {"objective_name", "budget_used_by_payer_yuan", "payer_budget_yuan",
                                  "shadow_prices", "totals", "settings", "levers", "inputs"}
    out = []
    raw = [(k, v) for k, v in s.items() if k not in shown and (v is None or isinstance(v, (str, int, float, bool)))]
    if raw:
        out.append(items_block(doc.T("solver_values"), [(k, "–" if v is None else str(v)) for k, v in raw],
                               code=[k for k, _ in raw]))
    rows = []
    for k, v in sp.items():
        if isinstance(v, bool) or k in ("families", "largest"):
            continue
        if isinstance(v, (int, float)) or v is None:
            rows.append((k, v))
        elif isinstance(v, Mapping) and all(isinstance(x, (int, float)) or x is None for x in v.values()):
            rows += [(f"{k}: {p}", x) for p, x in v.items()]
    notes = "; ".join(f"{k}: {v}" for k, v in sp.items() if isinstance(v, str))
    if rows:
        df = pd.DataFrame(rows, columns=["constraint", "shadow_price"])
        out.append(frame_table(L, L("shadow_prices"), df, caption=notes or None,
                               headers={"constraint": L("constraint"), "shadow_price": L("shadow_prices")},
                               formats={"shadow_price": fmt_g4, "constraint": str}))
    fam = sp.get("families")
    if isinstance(fam, Mapping) and fam:
        df = pd.DataFrame([{"family": f, **v} for f, v in fam.items() if isinstance(v, Mapping)])
        fmts = {c: fmt_g4 for c in ("min", "max", "mean_nonzero")}
        fmts["family"] = str
        out.append(frame_table(L, L("shadow_prices_by_family"), df, formats=fmts))
    largest = sp.get("largest")
    if isinstance(largest, list) and largest and all(isinstance(r, Mapping) for r in largest):
        df = pd.DataFrame(largest)
        fmts = {c: str for c in df.columns if c != "dual"}
        fmts["dual"] = fmt_g4
        out.append(frame_table(L, L("largest_shadow_prices"), df, formats=fmts))
    details = [(k, json.dumps(v, ensure_ascii=False, default=str))
               for key in ("settings", "levers", "inputs") if isinstance(s.get(key), Mapping)
               for k, v in s[key].items()]
    if details:
        out.append(items_block(doc.T("solver_settings"), details, code=[k for k, _ in details]))
    return out


def add_allocation(doc: ReportDocument, allocation: pd.DataFrame) -> ReportDocument:
    """Allocation by province and lever (figure), totals by lever and the per-county table."""
    F._require(allocation, ["province", "lever", "cost_yuan"], "allocation")
    if not doc.has_section("optimizer"):
        doc.section("optimizer")
    L = doc.labels
    if allocation.empty or not (allocation["cost_yuan"] != 0).any():
        # a legitimate answer: the status quo already reaches the target (or money buys nothing)
        doc.add_note(doc.T("no_lever_used"))
        return doc
    fig = SF.allocation_by_province(allocation, labels=doc.figure_labels)
    doc.add_figure("", fig, alt=L("allocation_by_province"), name="allocation-by-province")
    agg = {"cost_yuan": ("cost_yuan", "sum")}
    if "quantity" in allocation.columns:
        agg["quantity"] = ("quantity", "sum")
    by = allocation.groupby("lever", observed=True).agg(**agg).reset_index()
    total = by["cost_yuan"].sum()
    by["share"] = by["cost_yuan"] / total if total else np.nan
    by = by.sort_values("cost_yuan", ascending=False)
    cols = ["lever"] + (["quantity"] if "quantity" in by.columns else []) + ["cost_yuan", "share"]
    doc.add(frame_table(L, None, by[cols], formats={"cost_yuan": "cost_yuan", "share": "share",
                                                    "quantity": lambda q: fmt_number(q)},
                        headers={"share": L("share_of_cost")}))
    if "county_id" in allocation.columns:
        t = county_allocation_table(L, with_county_names(allocation))
        if t is not None:
            doc.add(t)
            doc.script = True
    return doc


def add_frontier(doc: ReportDocument, frontier_df: pd.DataFrame) -> ReportDocument:
    doc.section("frontier")
    fig = SF.frontier(frontier_df, labels=doc.figure_labels)
    doc.add_figure("", fig, caption=doc.T("caption_frontier"), alt=doc.L("frontier"), name="frontier")
    cols = [c for c in ("budget_yuan",) + SF.FRONTIER_METRICS if c in frontier_df.columns]
    t = frontier_df[cols].sort_values("budget_yuan")
    if "marginal_value_per_yuan" in t.columns:  # per yuan the numbers are ~1e-6: shown per ¥1 million
        t = t.assign(marginal_value_per_yuan=t["marginal_value_per_yuan"] * 1e6).rename(
            columns={"marginal_value_per_yuan": "marginal_value_per_million_yuan"})
    fmts = {c: c for c in t.columns}
    fmts["marginal_value_per_million_yuan"] = fmt_g4
    doc.add(frame_table(doc.labels, None, t, formats=fmts))
    return doc


def add_sensitivity(doc: ReportDocument, sensitivity_df: pd.DataFrame, metrics: Sequence[str] | None = None,
                    max_figures: int = 4) -> ReportDocument:
    F._require(sensitivity_df, ["param", "index", "value"], "sensitivity")
    doc.section("sensitivity")
    have = F._ordered(sensitivity_df["metric"], first=HEADLINE_METRICS) if "metric" in sensitivity_df else [None]
    mets = [m for m in (metrics or have) if m in have]
    morris = bool(set(sensitivity_df["index"]) & {"mu_star", "sigma"})
    cap = doc.T("caption_morris" if morris else "caption_sobol")
    for m in mets[:max_figures]:
        fig = SF.tornado(sensitivity_df, m if m is not None else "", labels=doc.figure_labels)
        doc.add_figure("", fig, caption=cap, alt=f'{doc.L("sensitivity")}: {doc.L(m) if m else ""}',
                       name=f"sensitivity-{m or 'all'}")
    return doc


def add_probability(doc: ReportDocument, df: pd.DataFrame, target: float | None = None,
                    budget: float | None = None, caption: str | None = None) -> ReportDocument:
    doc.section("budget_probability")
    fig = SF.probability_curve(df, target=target, budget=budget, labels=doc.figure_labels)
    if caption is None:
        caption = doc.T("caption_probability")
        if budget is not None:
            caption += " " + doc.T("sized_budget_is", budget=fmt_yuan(budget, doc.lang))
    return doc.add_figure("", fig, caption=caption, alt=doc.L("budget_probability"), name="budget-probability")


def with_county_names(allocation: pd.DataFrame) -> pd.DataFrame:
    """The allocation with ``county_name`` and ``prefecture_name`` from the bundled division list
    (``scenarios.divisions()``) when its county ids are GB/T 2260 codes of that list and it has no
    names of its own; else unchanged."""
    from .tables import NAME_COLUMNS, PREFECTURE_COLUMNS
    has_name = any(c in allocation.columns for c in NAME_COLUMNS)
    has_pref = any(c in allocation.columns for c in PREFECTURE_COLUMNS)
    if has_name and has_pref:
        return allocation
    import scenarios
    names = scenarios.county_names(allocation["county_id"])
    if names is None:
        return allocation
    out = allocation.copy()
    if not has_name:
        out["county_name"] = names["name"].to_numpy()
    if not has_pref:
        out["prefecture_name"] = names["prefecture_name"].to_numpy()
    return out
