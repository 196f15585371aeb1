"""Tests for scenarios.places: provinces, cities and counties by code, Chinese, pinyin or English name."""
from __future__ import annotations

import pytest

import scenarios
from scenarios.places import AmbiguousPlaceError, PlaceError, UnknownPlaceError, province_code, resolve

LANZHOU = ("620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123")


@pytest.mark.parametrize("text", ["甘肃", "甘肃省", "Gansu", "gansu", "GANSU", "62", "620000", 62, "Gansu Province"])
def test_province_forms(text):
    assert province_code(text) == "62"
    assert resolve(provinces=[text]) == resolve(provinces="62")


@pytest.mark.parametrize("text, code", [("Inner Mongolia", "15"), ("内蒙古", "15"), ("Neimenggu", "15"), ("Tibet", "54"),
                                        ("西藏", "54"), ("Xizang", "54"), ("Shaanxi", "61"), ("Shanxi", "14"),
                                        ("宁夏回族自治区", "64"), ("Ningxia", "64"), ("北京", "11")])
def test_province_names(text, code):
    assert province_code(text) == code


def test_whole_province_selects_every_unit():
    p = resolve(provinces=["Gansu", "宁夏"])
    assert p.provinces == ("62", "64") and p.counties == ()
    assert p.scenario_overrides() == {"region.provinces": ["62", "64"], "region.counties": []}


@pytest.mark.parametrize("text", ["兰州市", "兰州", "Lanzhou", "Lanzhou City", "lanzhou shi", "6201", "620100", "甘肃/兰州"])
def test_city_forms(text):
    p = resolve(cities=[text])
    assert p.provinces == ("62",) and p.counties == LANZHOU


@pytest.mark.parametrize("text", ["临夏回族自治州", "临夏", "Linxia", "Linxia Prefecture", "6229"])
def test_autonomous_prefecture(text):
    p = resolve(cities=[text])
    assert len(p.counties) == 8 and all(c.startswith("6229") for c in p.counties)


@pytest.mark.parametrize("kw", [dict(counties=["620102"]), dict(counties=["兰州市/城关区"]), dict(counties=["Lanzhou/Chengguan"]),
                                dict(provinces=["甘肃"], counties=["城关区"]), dict(provinces=["Gansu"], counties=["Chengguan District"]),
                                dict(provinces=["62"], counties=["chengguan qu"])])
def test_county_forms(kw):
    p = resolve(**kw)
    assert p.counties == ("620102",) and p.provinces == ("62",)
    assert p.labels[-1] == "620102 城关区 (兰州市, 甘肃省)"


def test_english_generic_part_disambiguates():
    """'Yuzhong' is 渝中区 (Chongqing) and 榆中县 (Lanzhou); 'County' / 'District' picks one."""
    assert resolve(counties=["Yuzhong County"]).counties == ("620123",)
    assert resolve(counties=["Yuzhong District"]).counties == ("500103",)
    with pytest.raises(AmbiguousPlaceError):
        resolve(counties=["Yuzhong"])


def test_ambiguous_name_lists_candidates_with_codes_and_parents():
    with pytest.raises(AmbiguousPlaceError) as exc:
        resolve(counties=["城关区"])
    assert {c[0] for c in exc.value.candidates} == {"620102", "540102"}
    (line,) = exc.value.problems
    assert "620102 城关区 (兰州市, 甘肃省)" in line and "540102 城关区 (拉萨市, 西藏自治区)" in line
    assert "--county '城关区'" in line and "ambiguous" in line
    assert isinstance(exc.value, PlaceError) and isinstance(exc.value, ValueError)


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownPlaceError) as exc:
        resolve(counties=["Chengguang"])
    assert any(s.startswith("620102 城关区") for s in exc.value.suggestions)
    with pytest.raises(UnknownPlaceError) as exc:
        resolve(provinces=["Gansuu"])
    assert exc.value.suggestions[0] == "62 甘肃省"
    with pytest.raises(UnknownPlaceError) as exc:
        resolve(provinces=["Gansu"], counties=["兰州"])  # a city, not a county
    assert "use --city" in str(exc.value)


def test_all_problems_at_once():
    with pytest.raises(PlaceError) as exc:
        resolve(provinces=["Atlantis"], counties=["nowhere", "620102"])
    assert len(exc.value.problems) == 2


def test_every_unit_resolves_by_its_code_and_qualified_name():
    div = scenarios.divisions()
    for r in div.sample(200, random_state=1).itertuples():
        assert resolve(counties=[r.code]).counties == (r.code,)
        assert resolve(counties=[f"{r.prefecture}/{r.name}"]).counties == (r.code,)


def test_one_county_runs_alone():
    """A county planner's case: one county through simulator.simulate."""
    import simulator
    p = resolve(counties=["兰州市/城关区"])
    sc = scenarios.apply(scenarios.load("policy-2016"), p.scenario_overrides())
    res = simulator.simulate(sc, years=2, replications=1, seed=3)
    assert set(res.counties["county_id"].astype(str)) == {"620102"}
    staff0 = res.summary[(res.summary.metric == "staff") & (res.summary.year == res.summary.year.min())]["mean"].sum()
    table = scenarios.county_table(provinces=["62"]).set_index("county_id")
    assert staff0 == sum(table.loc["620102", f"staff_{f}"] for f in scenarios.FIELDS)
