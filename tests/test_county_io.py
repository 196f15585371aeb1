"""Excel in and out for county tables: the template round trip and bad cells named by sheet, row, column."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

import scenarios
from scenarios import CountyDataError, county_table, write_template
from scenarios.counties import COLUMNS, REQUIRED, UNITS

PROBLEM = re.compile(r"^(?P<src>.+), sheet (?P<sheet>[^:]+): row (?P<row>\d+), column (?P<col>[a-z_0-9]+)( \((?P<letter>[A-Z]+)\))?: (?P<msg>.+) \(allowed: .+\)$")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "gansu.xlsx"
    write_template(path, provinces=["甘肃"])
    return path


def test_template_round_trip(template):
    back = county_table(path=template)
    pd.testing.assert_frame_equal(back, county_table(provinces=["62"]))
    assert county_table(path=template, sheet="counties").equals(back)
    assert county_table(path=template, sheet=0).equals(back)


def test_template_layout(template):
    wb = load_workbook(template)
    assert wb.sheetnames == ["counties", "notes"]
    header = [c.value for c in wb["counties"][1]]
    assert header[0] == "county_id" and "population (persons)" in header and "area_km2 (km2)" in header
    assert len(header) == len(COLUMNS)
    assert wb["counties"].max_row == 1 + 87
    notes = [r[0] for r in wb["notes"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert all(c in notes for c in COLUMNS)
    assert all(UNITS[c] in h for c, h in zip(COLUMNS, header) if c in UNITS)


def _edit(template, tmp_path, cells: dict[str, object], name="bad.xlsx"):
    wb = load_workbook(template)
    ws = wb["counties"]
    for ref, value in cells.items():
        ws[ref] = value
    out = tmp_path / name
    wb.save(out)
    return out


def _col_letter(template, column: str) -> str:
    from openpyxl.utils import get_column_letter
    header = [c.value for c in load_workbook(template, read_only=True)["counties"][1]]
    i = next(i for i, h in enumerate(header) if h.split(" (")[0] == column)
    return get_column_letter(i + 1)


@pytest.mark.parametrize("column, value, fragment", [
    ("population", "many", "not a number"),
    ("hardship_class", 9, "out of range"),
    ("county_id", "12345", "not 6 digits"),
    ("border", "maybe", "not a boolean"),
    ("staff_health_county", -3, "negative"),
])
def test_bad_cell_named_by_sheet_row_column(template, tmp_path, column, value, fragment):
    letter = _col_letter(template, column)
    path = _edit(template, tmp_path, {f"{letter}6": value})
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path)
    hits = [PROBLEM.match(p) for p in exc.value.problems]
    hit = next(m for m in hits if m and m["col"] == column)
    assert hit["src"] == str(path) and hit["sheet"] == "counties" and hit["row"] == "6"
    assert hit["letter"] == letter
    assert fragment in hit["msg"]


def test_missing_column_and_other_sheet(tmp_path):
    """A workbook whose county sheet is the second one, missing a column; --sheet picks it."""
    table = county_table(provinces=["64"]).head(3)
    wb = Workbook()
    wb.active.title = "readme"
    wb.active.append(["see the next sheet"])
    ws = wb.create_sheet("mine")
    cols = [c for c in COLUMNS if c != "remoteness"]
    ws.append(cols)
    for row in table[cols].itertuples(index=False):
        ws.append([bool(v) if isinstance(v, (bool,)) or str(type(v)).endswith("bool_'>") else v for v in row])
    path = tmp_path / "mine.xlsx"
    wb.save(path)
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path, sheet="mine")
    (line,) = exc.value.problems
    assert line.startswith(f"{path}, sheet mine: row 1, column remoteness") and "missing" in line
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path)  # first sheet: no county columns at all
    assert len(exc.value.problems) == len(REQUIRED)
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path, sheet="nope")
    assert exc.value.problems == [f"{path}: no sheet 'nope' (allowed: readme, mine)"]


def test_descriptive_columns_are_optional(tmp_path):
    """Only the engine columns are required; names etc. are filled from the bundled list by code."""
    table = county_table(provinces=["64"]).head(4)
    path = tmp_path / "engine_only.csv"
    table[list(REQUIRED)].to_csv(path, index=False)
    back = county_table(path=path)
    pd.testing.assert_frame_equal(back, table.reset_index(drop=True))


def test_not_a_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("not a zip")
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path)
    assert "cannot read as an Excel workbook" in exc.value.problems[0]
    with pytest.raises(CountyDataError, match="file not found"):
        county_table(path=tmp_path / "missing.xlsx")
    csv = tmp_path / "t.csv"
    county_table(provinces=["64"]).to_csv(csv, index=False)
    with pytest.raises(CountyDataError, match="only for .xlsx"):
        scenarios.read_county_file(csv, sheet="x")
