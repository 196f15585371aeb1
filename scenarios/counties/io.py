"""County tables in and out of files: CSV and Excel (``.xlsx``, via openpyxl).

``read_county_file(path, sheet=None)`` reads either format and validates it with
:func:`.validate.validate_county_frame` (every problem, one line each, naming the file, the sheet
for a workbook, the row a spreadsheet shows and the column -- with its letter in a workbook:
``counties.xlsx, sheet counties: row 6, column population (P): not a number: 'many' (allowed: ...)``).  ``write_template(path, provinces)``
writes a pre-filled workbook of the bundled table for provinces to edit: sheet ``counties`` with
one header row (column name and unit, e.g. ``population (persons)``; the reader strips the unit)
and sheet ``notes`` describing every column.  Reading the template back gives the bundled table.
"""
from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import _FLAGS, COLUMNS, DESCRIPTIVE, FIELDS, KINDS, REQUIRED, TYPES, UNITS, CountyDataError
from .validate import validate_county_frame

__all__ = ["read_county_file", "read_county_csv", "read_county_xlsx", "write_template", "write_table_workbook",
           "COUNTY_SHEET", "NOTES_SHEET"]

COUNTY_SHEET = "counties"
NOTES_SHEET = "notes"
_UNIT_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")


def _header(name: object) -> str:
    """Column name of a header cell: ``population (persons)`` -> ``population``."""
    return _UNIT_SUFFIX.sub("", str(name if name is not None else "").strip())


def _drop_blank(raw: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    blank = (raw.apply(lambda col: col.astype(str).str.strip()) == "").all(axis=1).to_numpy()
    return raw[~blank].reset_index(drop=True), rows[~blank]


def _validated(raw: pd.DataFrame, source: str, rows: np.ndarray) -> pd.DataFrame:
    problems, table = validate_county_frame(raw, source, rows)
    if problems:
        raise CountyDataError(problems)
    return table


def read_county_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a county table from CSV (UTF-8, header row; row numbers as in the file)."""
    source = os.fspath(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                          skip_blank_lines=False)
    except FileNotFoundError:
        raise CountyDataError([f"{source}: file not found"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise CountyDataError([f"{source}: cannot read as CSV: {exc}".replace("\n", " ")]) from None
    raw.columns = [_header(c) for c in raw.columns]
    # keep line numbers true to the file, then drop blank lines
    raw, rows = _drop_blank(raw, np.arange(len(raw)) + 2)
    return _validated(raw, source, rows)


def _cell_text(v: object) -> str:
    """A cell value as the text the validator parses (integral floats without '.0', booleans as words)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v).strip()


def read_county_xlsx(path: str | os.PathLike, sheet: str | int | None = None) -> pd.DataFrame:
    """Read and validate a county table from a workbook: ``sheet`` by name or 0-based index (first
    by default); row 1 is the header (names, optionally with a unit in parentheses)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    source = os.fspath(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise CountyDataError([f"{source}: file not found"]) from None
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise CountyDataError([f"{source}: cannot read as an Excel workbook (.xlsx): {exc}".replace("\n", " ")]) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            name = names[0]
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            i = int(sheet)
            if not 0 <= i < len(names):
                raise CountyDataError([f"{source}: no sheet number {i} (allowed: 0-{len(names) - 1}: {', '.join(names)})"])
            name = names[i]
        elif sheet in names:
            name = sheet
        else:
            raise CountyDataError([f"{source}: no sheet {sheet!r} (allowed: {', '.join(names)})"])
        values = [[_cell_text(v) for v in row] for row in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()
    where = f"{source}, sheet {name}"
    if not values:
        raise CountyDataError([f"{where}: row 1: the sheet is empty (allowed: a header row and one row per county)"])
    width = max(len(r) for r in values)
    values = [r + [""] * (width - len(r)) for r in values]
    header = [_header(c) for c in values[0]]
    keep = [i for i, h in enumerate(header) if h]  # unnamed (empty) header cells: formatting leftovers
    raw = pd.DataFrame([[r[i] for i in keep] for r in values[1:]], columns=[header[i] for i in keep], dtype=str)
    raw, rows = _drop_blank(raw, np.arange(len(raw)) + 2)
    problems, table = validate_county_frame(raw, where, rows)
    if problems:
        # name the spreadsheet column letter too: "column population (P)"
        letters = {header[i]: get_column_letter(i + 1) for i in keep}
        pattern = re.compile(r"(: row \d+, column )([A-Za-z_0-9]+):")
        problems = [pattern.sub(lambda m: f"{m[1]}{m[2]} ({letters[m[2]]}):" if m[2] in letters else m[0], p, count=1)
                    for p in problems]
        raise CountyDataError(problems)
    return table


def read_county_file(path: str | os.PathLike, sheet: str | int | None = None) -> pd.DataFrame:
    """A validated county table from ``.xlsx`` (``sheet``) or, for any other name, CSV."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return read_county_xlsx(path, sheet=sheet)
    if sheet is not None:
        raise CountyDataError([f"{os.fspath(path)}: a sheet ({sheet!r}) is only for .xlsx workbooks"])
    return read_county_csv(path)


# --------------------------------------------------------------------------- template


def _notes() -> list[tuple[str, str, str]]:
    """(column, unit, meaning) for every column, for the notes sheet."""
    fixed = {
        "county_id": ("", "6-digit GB/T 2260 code of the county-level unit (unique)"),
        "name": ("", "Chinese name (optional)"),
        "name_pinyin": ("", "pinyin name (optional)"),
        "province": ("", "2-digit GB/T 2260 province code"),
        "prefecture": ("", "4-digit prefecture code (optional)"),
        "prefecture_name": ("", "prefecture name (optional)"),
        "region": ("", "east / central / west; must match the province"),
        "kind": ("", "the engines' kind: " + ", ".join(KINDS)),
        "type": ("", "unit type (optional): " + ", ".join(TYPES)),
        "townships": ("count", "township-level units (towns, townships, sub-districts)"),
        "hardship_class": ("class 0-6", "hardship-area allowance class; 0 = not a hardship area"),
        "old_revolutionary": ("true/false", "old revolutionary base area"),
        "ethnic_minority": ("true/false", "ethnic-minority (autonomous) area"),
        "border": ("true/false", "land-border unit"),
        "formerly_poor": ("true/false", "formerly nationally designated poor county"),
        "population": ("persons", "resident population"),
        "remoteness": ("share 0-1", "share of the unit's townships classed remote"),
        "area_km2": ("km2", "land area (optional)"),
        "distance_km": ("km", "great-circle distance to the provincial capital (optional)"),
    }
    per_field = {
        "demand_{f}_county": "posts needed at county-seat units", "demand_{f}_township": "posts needed at township units",
        "demand_{f}": "posts needed, county + township (must equal the sum)",
        "staff_{f}_county": "staff in post at county-seat units", "staff_{f}_township": "staff in post at township units",
        "staff_{f}": "staff in post, county + township (must equal the sum)",
        "senior_share_{f}": "share of staff in senior posts", "intermediate_share_{f}": "share in intermediate posts",
        "mean_age_{f}": "mean age of staff (18-70)",
    }
    out = []
    for c in COLUMNS:
        if c in fixed:
            unit, text = fixed[c]
        else:
            f = next(f for f in FIELDS if f in c)
            unit, text = UNITS.get(c, ""), per_field[c.replace(f, "{f}")] + f" ({f})"
        need = "optional" if c in DESCRIPTIVE else "required"
        out.append((c, unit, need, text))
    return out


def write_template(path: str | os.PathLike, provinces: Iterable[str] | str | None = None) -> Path:
    """Write a workbook of the bundled table for ``provinces`` (codes or names; all when None) to edit.

    Sheet ``counties``: header ``column (unit)``, one row per unit; sheet ``notes``: every column's
    unit, whether it is required and its meaning, with the source of the bundled values.
    """
    from .generate import county_table

    return write_table_workbook(path, county_table(provinces=provinces))


def write_table_workbook(path: str | os.PathLike, table: pd.DataFrame) -> Path:
    """Write a county table (all of ``COLUMNS``) as the template workbook (see :func:`write_template`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = COUNTY_SHEET
    ws.append([f"{c} ({UNITS[c]})" if c in UNITS else c for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    cols = [table[c].tolist() for c in COLUMNS]
    for values in zip(*cols):
        ws.append([bool(v) if isinstance(v, (bool, np.bool_)) else v for v in values])
    ws.freeze_panes = "C2"
    for letter, width in (("A", 10), ("B", 14), ("C", 18)):
        ws.column_dimensions[letter].width = width
    notes = wb.create_sheet(NOTES_SHEET)
    notes.append(["column", "unit", "required", "meaning"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for row in _notes():
        notes.append(list(row))
    notes.append([])
    notes.append(["Edit the sheet 'counties' and pass the file with --county-table (and --sheet if you rename or "
                  "add sheets). Row 1 is the header: a column's name, optionally followed by its unit in "
                  "parentheses. Booleans: TRUE/FALSE or 1/0. The bundled values are modelled from published "
                  "totals (see scenarios.county_table); names, codes, areas and distances come from "
                  "scenarios/data/PROVENANCE.md."])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["D"].width = 70
    out = Path(path)
    wb.save(out)
    return out
