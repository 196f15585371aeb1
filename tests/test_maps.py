"""Tests for the bundled outlines (scenarios.geo) and the choropleth maps (grassroots.maps)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection

import scenarios
from grassroots.report import maps
from scenarios import geo


def _units(fig):
    ax = fig.axes[0]
    (coll,) = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == "units"]
    return ax, coll


def test_every_unit_has_an_outline():
    div = scenarios.divisions()
    assert set(geo.codes("county")) == set(div["code"])
    assert set(geo.codes("prefecture")) == set(div["prefecture"])
    assert set(geo.codes("province")) == set(scenarios.province_codes()) | {"71"}  # Taiwan: outline only
    for rings in geo.outlines("county", ["620102", "540102"]).values():
        assert rings and all(r.shape[1] == 2 and len(r) >= 4 and np.array_equal(r[0], r[-1]) for r in rings)


def test_outline_inside_its_province_box():
    rings = geo.outlines("county", ["620102"])["620102"]
    xy = np.concatenate(rings)
    assert 103.5 < xy[:, 0].min() and xy[:, 0].max() < 104.2 and 35.8 < xy[:, 1].min() and xy[:, 1].max() < 36.3
    with pytest.raises(KeyError):
        geo.outlines("county", ["999999"])


def test_county_map_one_patch_per_county():
    t = scenarios.county_table(provinces=["62"])
    values = pd.Series(np.linspace(0.6, 1.0, len(t)), index=t["county_id"])
    fig = maps.county_map(values, label="Coverage (staff / demand)", title="Gansu")
    ax, coll = _units(fig)
    assert len(coll.get_paths()) == len(t) == 87
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 2  # prefecture borders, province outline
    assert fig.axes[-1].get_ylabel() == "Coverage (staff / demand)"  # the colour bar carries the unit
    # the highest value gets the top colour of the map
    coll.update_scalarmappable()  # colours are mapped at draw time
    faces = coll.get_facecolors()
    top = int(np.argmax(values.to_numpy()))
    assert np.allclose(faces[top], maps.matplotlib.colormaps["viridis"](1.0))


def test_missing_values_grey_and_counted(tmp_path):
    t = scenarios.county_table(provinces=["64"])
    values = pd.Series(1.0, index=t["county_id"]).iloc[:-2]
    fig = maps.county_map(values, label="覆盖率", missing_label="无数据")  # labels in the caller's language
    ax, coll = _units(fig)
    assert len(coll.get_paths()) == 22
    assert ax.get_legend().get_texts()[0].get_text() == "无数据 (2)"
    assert np.ma.count_masked(coll.get_array()) == 2
    fig = maps.county_map(values, label="Coverage")
    out = maps.save(fig, tmp_path / "m.svg")
    assert out.read_text().lstrip().startswith("<?xml")
    png = maps.save(fig, tmp_path / "m.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_diverging_map_centres_zero():
    t = scenarios.county_table(provinces=["64"])
    values = pd.Series(np.linspace(-2, 5, len(t)), index=t["county_id"])
    fig = maps.county_map(values, label="Change (posts)", center=0.0, cmap="RdBu")
    _, coll = _units(fig)
    assert coll.norm(0.0) == pytest.approx(0.5)
    assert coll.norm(5.0) == pytest.approx(1.0) and coll.norm(-5.0) == pytest.approx(0.0)


def test_projection_aspect():
    x, y = maps.project(np.array([100.0, 101.0]), np.array([60.0, 60.0]), 60.0)
    assert x[1] - x[0] == pytest.approx(0.5)  # a degree of longitude at 60 N is half a degree of latitude
    assert np.array_equal(y, [60.0, 60.0])


def test_province_map_has_31_provinces_and_taiwan_in_grey():
    values = pd.Series(range(31), index=scenarios.province_codes(), dtype=float)
    fig = maps.province_map(values, label="Index")
    ax, coll = _units(fig)
    assert len(coll.get_paths()) == 31
    context = [c for c in ax.collections if c.get_gid() == "context"]
    assert len(context) == 1 and len(context[0].get_paths()) == 1


def test_net_flows_closed_form():
    """Arrivals from other counties minus departures out of the county; moves to the own seat do not count."""
    from grassroots.report.map_blocks import net_flows
    f = pd.DataFrame([
        ("s", 2017, "health", "township", "620102", "62", "county_seat", "620102", 5.0),    # inside: ignored
        ("s", 2017, "health", "township", "620102", "62", "other_county", "620103", 2.0),   # 102 -> 103
        ("s", 2017, "health", "county", "620103", "62", "city", None, 1.0),                 # 103 leaves
        ("s", 2018, "education", "county", "620103", "62", "other_county", "620102", 0.5),  # 103 -> 102
        ("t", 2018, "education", "county", "620103", "62", "other_county", "620102", 9.0),  # other scenario
    ], columns=["scenario", "year", "field", "origin_tier", "origin_county", "province", "destination",
                "destination_county", "persons"])
    net = net_flows(f, "s")
    assert net.to_dict() == {"620102": -2.0 + 0.5, "620103": 2.0 - 1.0 - 0.5}
    assert net.sum() == pytest.approx(-1.0)  # only the exit to a city leaves the two counties


def test_few_counties_are_drawn_alone():
    values = pd.Series([1.0, 2.0], index=["620102", "620103"])
    _, coll = _units(maps.county_map(values, label="x"))
    assert len(coll.get_paths()) == 2
    _, coll = _units(maps.county_map(values, label="x", provinces=["62"]))
    assert len(coll.get_paths()) == 87
