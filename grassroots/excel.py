"""``--excel``: one workbook ``results.xlsx`` beside a result folder's files, for people who work in Excel.

Every small table of the folder (``summary.csv``, ``comparison.csv``, ``allocation.csv``, ...) becomes a
sheet of the same name; ``allocation`` gets each county's name and prefecture from the bundled division
list (when its ids are real codes); the county maps (``figures/map-*.png``) are placed as pictures on a
sheet ``maps``; a sheet ``about`` says what the workbook is and how to reproduce it.  Large per-county
tables stay Parquet (an Excel sheet holds at most 1,048,576 rows; ``grassroots export --csv`` converts them).
Written with openpyxl through pandas.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping

import pandas as pd

EXCEL_ROWS = 1_048_576   # rows of one Excel sheet (Excel's limit)
FIRST_SHEETS = ("summary", "comparison", "allocation", "decomposition", "frontier", "probability", "backtest")


def _with_names(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``name`` and ``prefecture_name`` after ``county_id`` when every id is a real county code."""
    if "county_id" not in df.columns or df.empty:
        return df
    import scenarios
    names = scenarios.county_names(df["county_id"])
    if names is None:
        return df
    out = df.copy()
    at = list(out.columns).index("county_id") + 1
    out.insert(at, "name", names["name"].to_numpy())
    out.insert(at + 1, "prefecture_name", names["prefecture_name"].to_numpy())
    return out


def workbook_bytes(folder: str | Path, manifest: Mapping | None = None) -> bytes:
    """The workbook of the files in ``folder`` (a finished or still-partial result folder)."""
    from openpyxl.drawing.image import Image

    folder = Path(folder)
    tables = {p.stem: p for p in sorted(folder.glob("*.csv"))}
    order = [s for s in FIRST_SHEETS if s in tables] + [s for s in tables if s not in FIRST_SHEETS]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        m = dict(manifest or {})
        about = pd.DataFrame({"item": ["what", "command", "reproduce", "version", "started", "note"],
                              "value": ["Grassroots Talent Planner results", m.get("command", ""),
                                        m.get("reproduce", ""), m.get("version", ""), m.get("started", ""),
                                        "summary p05/p95: spread across replications; comparison ci_low/ci_high: "
                                        "90% Student-t interval of the mean paired difference"]})
        about.to_excel(xw, sheet_name="about", index=False)
        for stem in order:
            df = pd.read_csv(tables[stem], dtype={"county_id": str, "province": str})
            if len(df) >= EXCEL_ROWS:
                continue
            _with_names(df).to_excel(xw, sheet_name=stem[:31], index=False)
        maps = sorted((folder / "figures").glob("map-*.png"))
        if maps:
            ws = xw.book.create_sheet("maps")
            row = 1
            for p in maps:
                ws.cell(row=row, column=1, value=p.stem)
                img = Image(io.BytesIO(p.read_bytes()))
                ws.add_image(img, f"A{row + 1}")
                row += int(img.height / 20) + 3       # about 20 px per row
    return buf.getvalue()
