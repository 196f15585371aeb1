"""``--excel``: results.xlsx beside the result folder's files (issue 17, item 4)."""

from __future__ import annotations

import openpyxl
import pandas as pd

from grassroots import cli


def test_optimize_excel_has_every_table_the_allocation_with_names_and_the_maps(tmp_path):
    out = tmp_path / "opt"
    assert cli.main(["optimize", "policy-2016", "--province", "64", "--budget", "1e8", "--static", "--no-check",
                     "--excel", "--out", str(out), "--quiet"]) == 0
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert {"about", "allocation", "maps"} <= set(wb.sheetnames)
    alloc_csv = pd.read_csv(out / "allocation.csv", dtype={"county_id": str})
    alloc = pd.read_excel(out / "results.xlsx", sheet_name="allocation", dtype={"county_id": str})
    assert len(alloc) == len(alloc_csv)
    assert list(alloc.columns[:3]) == ["county_id", "name", "prefecture_name"]
    first = alloc.iloc[0]
    import scenarios
    div = scenarios.divisions().set_index("code")
    assert first["name"] == div.loc[first["county_id"], "name"]
    assert alloc["cost_yuan"].sum() == __import__("pytest").approx(alloc_csv["cost_yuan"].sum(), rel=1e-12)
    assert len(wb["maps"]._images) >= 1                      # the allocation maps as pictures
    import json
    assert "results.xlsx" in json.loads((out / "manifest.json").read_text())["files"]


def test_without_excel_no_workbook(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["run", "baseline", "--province", "64", "--years", "1", "--replications", "1",
                     "--out", str(out), "--quiet"]) == 0
    assert not (out / "results.xlsx").exists()


def test_run_excel_summary_sheet_equals_summary_csv(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["run", "baseline", "--province", "64", "--years", "1", "--replications", "1", "--excel",
                     "--out", str(out), "--quiet"]) == 0
    csv = pd.read_csv(out / "summary.csv")
    xl = pd.read_excel(out / "results.xlsx", sheet_name="summary")
    assert list(xl.columns) == list(csv.columns) and len(xl) == len(csv)
    pd.testing.assert_series_equal(xl["mean"], csv["mean"], rtol=1e-12)
