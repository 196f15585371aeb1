"""Table blocks (plain data for ``templates/blocks.html.j2``) from DataFrames.

* :func:`frame_table` -- any DataFrame, each value formatted by its column (a metric name, a function,
  or the column's own kind: provinces by name, yuan in 亿元/billion, shares in percent);
* :func:`metric_year_table` -- rows = metrics, column groups = years (headline and comparison), each
  cell a value with its interval below;
* :func:`county_allocation_table` -- the optimizer's allocation per county: sortable by any column
  (a small inline script), filterable by prefecture.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .document import cell
from .labels import Labels, label
from .numbers import finite, fmt_number, metric_kind

MAX_ROWS = 200
MAX_COUNTY_ROWS = 3000


def format_cell(L: Labels, column: str, value, fmt=None) -> str:
    """One value of ``column`` as text for people."""
    if callable(fmt):
        return fmt(value)
    if isinstance(fmt, str):
        return L.value(fmt, value)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if column in ("year", "county_id", "province", "seed", "round"):
        if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer()):
            return label(str(int(value)).zfill(2), L.lang) if column == "province" else str(int(value))
        return label(value, L.lang) if column == "province" else str(value)
    if column in ("lever", "field", "metric", "index", "family"):
        return L(value)
    if column == "scenario":
        return L.scenario(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return L.value(column, value) if metric_kind(column) != "number" else fmt_number(value)
    return str(value)


def frame_table(L: Labels, title: str | None, df: pd.DataFrame, caption: str | None = None,
                formats: Mapping[str, str | Callable[[Any], str]] | None = None,
                headers: Mapping[str, str] | None = None, max_rows: int = MAX_ROWS, cls: str = "") -> dict:
    """A DataFrame as a table block.  ``formats`` maps a column to a metric name (formatted as that
    metric) or a function; column headings go through the labels unless ``headers`` names them."""
    formats = dict(formats or {})
    headers = dict(headers or {})
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and c not in ("province", "county_id") for c in df.columns}
    head = [[cell(headers.get(c, L(c)), "num" if numeric[c] else "") for c in df.columns]]
    rows = []
    for r in df.head(max_rows).itertuples(index=False, name=None):
        rows.append({"cells": [cell(format_cell(L, c, v, formats.get(c)), "num" if numeric[c] else "")
                               for c, v in zip(df.columns, r)]})
    more = L.text("rows_not_shown", n=f"{len(df) - max_rows:,}") if len(df) > max_rows else None
    return {"kind": "table", "title": title, "head": head, "rows": rows, "caption": caption, "more": more,
            "cls": cls, "sortable": False, "filter": None, "id": None}


def year_label(L: Labels, y: int, start: int | None) -> str:
    if start is None:
        return str(y)
    return L.text("year_of_run", year=int(y), n=int(y) - int(start))


def value_cell(L: Labels, metric: str, value, lo=None, hi=None, diff: bool = False, first: bool = False) -> dict:
    """A value with its interval on a second line; bold (``sig``) when a difference's interval excludes 0."""
    sig = diff and finite(lo) and finite(hi) and (float(lo) > 0 or float(hi) < 0)
    return cell(L.value(metric, value, diff=diff), "num" + (" first" if first else ""),
                ci=L.interval(metric, lo, hi, diff=diff), sig=bool(sig))


def metric_year_table(L: Labels, metrics: Sequence[str], years: Sequence[int], start: int | None,
                      columns: Sequence[tuple[str, str]], value: Callable[[str, int, str, bool], dict],
                      cls: str, max_columns: int = 4) -> list[dict]:
    """Rows = metrics; column groups = years, each with ``columns`` (key, heading).

    ``value(metric, year, key, first)`` returns a cell.  Years are split over several tables when a row
    would have more than ``max_columns`` values.
    """
    per = max(1, max_columns // max(1, len(columns)))
    out = []
    for i in range(0, len(years), per):
        chunk = list(years[i:i + per])
        top = [cell(L("metric"), "", rowspan=2)] + [cell(year_label(L, y, start), "year", colspan=len(columns))
                                                      for y in chunk]
        sub = [cell(h, "num" + (" first" if j == 0 else "")) for _ in chunk for j, (_, h) in enumerate(columns)]
        rows = [{"cells": [cell(L(m), "label")] + [value(m, y, k, j == 0) for y in chunk
                                                     for j, (k, _) in enumerate(columns)]} for m in metrics]
        out.append({"kind": "table", "title": None, "head": [top, sub], "rows": rows, "caption": None,
                    "more": None, "cls": cls, "sortable": False, "filter": None, "id": None})
    return out


# ----------------------------------------------------------------------------- per county

NAME_COLUMNS = ("county_name", "name", "name_zh", "name_en")
PREFECTURE_COLUMNS = ("prefecture_name", "prefecture", "prefecture_code")


def _first_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    return next((c for c in names if c in df.columns), None)


def prefecture_of(county_id) -> str:
    """The prefecture code of a GB/T 2260 county code (first four digits + '00'), '' when not a code."""
    s = str(county_id)
    return s[:4] + "00" if len(s) == 6 and s.isdigit() else ""


def county_allocation_table(L: Labels, allocation: pd.DataFrame, table_id: str = "county-allocation",
                            max_rows: int = MAX_COUNTY_ROWS) -> dict | None:
    """The allocation per county (summed over fields): total cost and cost per lever, sortable by any
    column, filterable by prefecture.  County and prefecture names are used when the table has them
    (``county_name``/``name``, ``prefecture_name``/``prefecture``); else the prefecture is the first four
    digits of a six-digit GB/T 2260 county code."""
    a = allocation.copy()
    a["county_id"] = a["county_id"].astype(str)
    name_col = _first_column(a, NAME_COLUMNS)
    pref_col = _first_column(a, PREFECTURE_COLUMNS)
    a["_pref"] = a[pref_col].astype(str) if pref_col else a["county_id"].map(prefecture_of)
    if "province" not in a.columns:
        a["province"] = a["county_id"].str[:2]
    keys = ["county_id", "province", "_pref"] + ([name_col] if name_col else [])
    wide = a.pivot_table(index=keys, columns="lever", values="cost_yuan", aggfunc="sum", fill_value=0.0,
                         observed=True)
    levers = [lv for lv in wide.sum().sort_values(ascending=False).index if wide[lv].abs().sum() > 0]
    wide = wide[levers]
    wide["_total"] = wide.sum(axis=1)
    wide = wide[wide["_total"] != 0].sort_values("_total", ascending=False).reset_index()
    if wide.empty:
        return None
    has_pref = bool((wide["_pref"] != "").any())
    head = [cell(L("county_id"))] + ([cell(L("county_name"))] if name_col else []) + [cell(L("province"))]
    head += [cell(L("prefecture"))] if has_pref else []
    head += [cell(L("cost_total_yuan"), "num")] + [cell(L(lv), "num") for lv in levers]
    rows = []
    for d in wide.head(max_rows).to_dict("records"):
        cid, prov, pref = str(d["county_id"]), str(d["province"]), str(d["_pref"])
        cells = [cell(cid, "", sort=cid)]
        if name_col:
            cells.append(cell(d[name_col], "label", sort=str(d[name_col])))
        cells.append(cell(format_cell(L, "province", prov), "", sort=prov.zfill(2)))
        if has_pref:
            cells.append(cell(pref, "", sort=pref))
        cells.append(cell(L.value("cost_yuan", d["_total"]), "num", sort=repr(float(d["_total"]))))
        cells += [cell(L.value("cost_yuan", d[lv]), "num", sort=repr(float(d[lv]))) for lv in levers]
        rows.append({"cells": cells, "filter": pref})
    more = L.text("rows_not_shown", n=f"{len(wide) - max_rows:,}") if len(wide) > max_rows else None
    prefs = sorted({p for p in wide["_pref"].head(max_rows) if p})
    filt = {"label": L("prefecture"), "all": L.text("all_prefectures"), "options": prefs} if has_pref and len(prefs) > 1 else None
    return {"kind": "table", "title": L("allocation_by_county"), "head": [head], "rows": rows,
            "caption": L.text("caption_county_allocation"), "more": more, "cls": "counties",
            "sortable": True, "filter": filt, "id": table_id}
