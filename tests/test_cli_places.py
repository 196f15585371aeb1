"""The command line with places by name, Excel county tables, the template command and maps in reports."""

from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest

import scenarios
from grassroots import cli


def _counties(folder):
    from grassroots.results import read_table
    df = read_table(folder, "counties")          # counties.parquet
    return df.astype({"county_id": str, "province": str})


def test_ambiguous_county_exits_2_listing_candidates(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli.main(["run", "policy-2016", "--county", "城关区", "--years", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "620102 城关区 (兰州市, 甘肃省)" in err[0] and "540102 城关区 (拉萨市, 西藏自治区)" in err[0]
    assert not out.exists()


def test_unknown_province_name_exits_2(tmp_path, capsys):
    assert cli.main(["run", "policy-2016", "--province", "Gansuu", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--province 'Gansuu'" in err and "62 甘肃省" in err


def test_one_county_runs_alone(tmp_path):
    out = tmp_path / "one"
    assert cli.main(["run", "policy-2016", "--county", "兰州市/城关区", "--years", "2", "--replications", "1",
                     "--out", str(out), "--quiet"]) == 0
    c = _counties(out)
    assert set(c["county_id"]) == {"620102"}
    assert {"map-coverage.png", "map-net-flow.png"} <= {p.name for p in (out / "figures").iterdir()}
    man = json.loads((out / "manifest.json").read_text())
    assert man["provinces"] == ["62"]


def test_template_then_county_table_gives_the_bundled_results(tmp_path, capsys):
    """`grassroots template` writes a workbook; --county-table reads it back: same results as the bundled table."""
    book = tmp_path / "ningxia.xlsx"
    assert cli.main(["template", str(book), "--province", "宁夏"]) == 0
    assert capsys.readouterr().out.strip() == str(book)
    assert cli.main(["template", str(book), "--province", "64"]) == 2  # never overwrites
    common = ["--years", "2", "--replications", "1", "--quiet", "--seed", "5"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["run", "baseline", "--province", "Ningxia", "--county-table", str(book), "--sheet", "counties",
                     "--out", str(a), *common]) == 0
    assert cli.main(["run", "baseline", "--province", "64", "--out", str(b), *common]) == 0
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()


def test_sheet_without_table_and_bad_sheet(tmp_path, capsys):
    assert cli.main(["run", "baseline", "--province", "64", "--sheet", "x", "--years", "1",
                     "--out", str(tmp_path / "r")]) == 2
    assert "--sheet 'x': only with --county-table" in capsys.readouterr().err
    book = tmp_path / "t.xlsx"
    scenarios.write_template(book, provinces=["64"])
    assert cli.main(["run", "baseline", "--province", "64", "--county-table", str(book), "--sheet", "nope",
                     "--years", "1", "--out", str(tmp_path / "r2"), "--quiet"]) == 2
    assert f"{book}: no sheet 'nope' (allowed: counties, notes)" in capsys.readouterr().err
    assert not (tmp_path / "r2").exists()


def test_toml_region_by_name(tmp_path):
    p = tmp_path / "lanzhou.toml"
    p.write_text('extends = "policy-2016"\n[region]\nprovinces = ["甘肃"]\ncities = ["兰州市"]\ncounties = ["Linxia/Yongjing"]\n',
                 encoding="utf-8")
    sc = scenarios.load(str(p))
    assert sc.region.provinces == ("62",)
    assert sc.region.counties == ("620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123",
                                  "622923")
    bad = tmp_path / "bad.toml"
    bad.write_text('[region]\ncounties = ["城关区"]\n', encoding="utf-8")
    with pytest.raises(scenarios.ScenarioError) as exc:
        scenarios.load(str(bad))
    assert "region.counties '城关区' is ambiguous" in str(exc.value)


def test_compare_report_has_county_maps(tmp_path):
    out = tmp_path / "cmp"
    assert cli.main(["compare", "baseline", "policy-2016", "--city", "Lanzhou", "--years", "2",
                     "--replications", "1", "--out", str(out), "--quiet"]) == 0
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"map-coverage.png", "map-change-coverage-policy-2016.png"} <= figs
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "County maps" in html


def test_optimize_report_names_the_counties(tmp_path):
    out = tmp_path / "opt"
    assert cli.main(["optimize", "policy-2016", "--province", "Ningxia", "--budget", "1e8", "--out", str(out),
                     "--quiet"]) == 0
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"map-allocation-yuan.png", "map-allocation-persons.png"} <= figs
    html = (out / "report.html").read_text(encoding="utf-8")
    alloc = pd.read_csv(out / "allocation.csv", dtype={"county_id": str})
    top = alloc.groupby("county_id")["cost_yuan"].sum().idxmax()
    row = scenarios.divisions().set_index("code").loc[top]
    # one per-county table (the sortable one), largest first, with the county's and prefecture's names
    assert html.count('id="county-allocation"') == 1
    first = html.split('id="county-allocation"', 1)[1].split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f'<tr data-filter="{row.prefecture_name}"><td data-sort="{top}">{top}</td>' in first
    assert f'<td class="label" data-sort="{row["name"]}">{row["name"]}</td>' in first
    assert "counties receive money; largest first" in html
