"""Geo's map blocks on the template report (ReportDocument), in both languages: county maps with the
per-county table of names, allocation maps beside the one sortable per-county allocation table (with the
real county and prefecture names), the net-flow map, and the optimizer's 'no lever is used' note."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import scenarios
from grassroots.report import ReportDocument, render
from grassroots.report import map_blocks as MB
from grassroots.report import study_sections as SS
from grassroots.report.labels import text

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def ningxia():
    d = scenarios.divisions()
    return d[d["province"] == "64"].reset_index(drop=True)


def _counties(div, scen=("baseline", "policy-2016")):
    rows = []
    for k, s in enumerate(scen):
        for i, c in enumerate(div["code"]):
            for m, v in (("coverage", 0.80 + 0.005 * i + 0.02 * k), ("staff", 100.0 + i), ("demand", 120.0)):
                rows.append((s, c, "64", "teachers", 2030, m, v, v, v))
    return pd.DataFrame(rows, columns=["scenario", "county_id", "province", "field", "year", "metric", "mean",
                                       "p05", "p95"])


def _allocation(div):
    rows = []
    for i, c in enumerate(div["code"]):
        rows.append((c, 64, "teachers", "special_posts", float(i % 3), 8.0e4 * (i % 3)))
        rows.append((c, 64, "teachers", "township_subsidy", 10.0, 1.0e5 * (1 + i % 2)))
    return pd.DataFrame(rows, columns=["county_id", "province", "field", "lever", "quantity", "cost_yuan"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_county_maps_on_the_document(ningxia, lang):
    doc = ReportDocument(lang=lang)
    MB.add_county_maps(doc, _counties(ningxia), base="baseline")
    sec = doc.sections[-1]
    assert sec["key"] == "county_maps" and sec["id"] == "county-maps"
    assert sec["title"] == text("county_maps", lang)
    names = [n for n, _ in doc.figures]
    assert names == ["map-coverage", "map-change-coverage-policy-2016"]
    (table,) = [b for b in sec["blocks"] if b["kind"] == "table"]
    assert len(table["rows"]) == len(ningxia)
    heads = [c["text"] for c in table["head"][0]]
    assert heads[:3] == [doc.L("county_id"), doc.L("county_name"), doc.L("prefecture")]
    first = [c["text"] for c in table["rows"][0]["cells"]]
    assert first[0] == ningxia["code"].iloc[0] and first[1] == ningxia["name"].iloc[0]  # lowest coverage first
    assert table["caption"] == text("caption_county_map_table", lang, metric=doc.L("coverage"), year=2030,
                                    base="baseline")
    html = render(doc)
    assert html.count("<img") == 2 and ningxia["prefecture_name"].iloc[0] in html


def test_unknown_county_ids_get_a_note_not_a_map():
    c = _counties(pd.DataFrame({"code": ["c1", "c2"]}))
    doc = ReportDocument(lang="zh")
    MB.add_county_maps(doc, c)
    assert doc.figures == [] and doc.sections[-1]["blocks"][0]["text"] == text("map_not_divisions", "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_allocation_maps_and_one_named_county_table(ningxia, lang):
    a = _allocation(ningxia)
    doc = ReportDocument(lang=lang)
    SS.add_allocation(doc, a)
    MB.add_allocation_maps(doc, a)
    assert {"map-allocation-yuan", "map-allocation-persons"} <= {n for n, _ in doc.figures}
    tables = [b for b in doc.sections[-1]["blocks"] if b["kind"] == "table"]
    county_tables = [t for t in tables if t.get("id") == "county-allocation"]
    assert len(county_tables) == 1 and len(tables) == 2   # totals by lever + the one per-county table
    t = county_tables[0]
    assert [c["text"] for c in t["head"][0][:4]] == [doc.L("county_id"), doc.L("county_name"), doc.L("province"),
                                                     doc.L("prefecture")]
    div = ningxia.set_index("code")
    for r in t["rows"]:
        cid, name, _, pref = (c["text"] for c in r["cells"][:4])
        assert name == div.loc[cid, "name"] and pref == div.loc[cid, "prefecture_name"] == r["filter"]
    totals = a.groupby("county_id")["cost_yuan"].sum()
    assert sorted(r["cells"][0]["text"] for r in t["rows"]) == sorted(totals.index)
    shown = [float(r["cells"][4]["sort"]) for r in t["rows"]]
    assert shown == sorted(shown, reverse=True) and shown == pytest.approx(sorted(totals, reverse=True))
    cap = [b for b in doc.sections[-1]["blocks"] if b.get("name") == "map-allocation-yuan"][0]["caption"]
    assert cap == text("caption_allocation_maps", lang, n=f"{len(totals):,}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_lever_used_note(ningxia, lang):
    a = _allocation(ningxia).assign(cost_yuan=0.0, quantity=0.0)
    for alloc in (a, a.iloc[:0]):
        doc = ReportDocument(lang=lang)
        SS.add_allocation(doc, alloc)
        MB.add_allocation_maps(doc, alloc)
        blocks = doc.sections[-1]["blocks"]
        assert [b["kind"] for b in blocks] == ["note"] and doc.figures == []
        assert blocks[0]["text"] == text("no_lever_used", lang)
    assert text("no_lever_used", "en") == "No lever is used: the status quo already reaches the target."
    assert CJK.search(text("no_lever_used", "zh"))


def test_net_flow_map(ningxia):
    c = list(ningxia["code"][:2])
    flows = pd.DataFrame({"scenario": "baseline", "year": [2027, 2027], "field": "teachers",
                          "origin_tier": "township", "origin_county": c, "province": "64",
                          "destination": ["other_county", "city"], "destination_county": [c[1], ""],
                          "persons": [2.0, 1.0], "p05": [2.0, 1.0], "p95": [2.0, 1.0]})
    doc = ReportDocument(lang="zh")
    doc.section("flows")
    MB.add_flow_map(doc, flows)
    (fig,) = doc.sections[-1]["blocks"]
    assert fig["name"] == "map-net-flow" and fig["caption"] == text("caption_net_flow_map", "zh")
