"""Tests for scenarios.county_table: the bundled national county table and user CSV files."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.county_table import (
    COLUMNS,
    FIELDS,
    KINDS,
    LAND_BORDER_PROVINCES,
    NATIONAL_TARGETS,
    PROVINCE_POPULATION_2020,
    TARGET_COVERAGE,
    TIERS,
    CountyDataError,
    TYPE_KIND,
    calibration,
    county_table,
    divisions,
    province_codes,
    province_table,
)

# ``scenarios/__init__`` re-exports the function ``county_table``, which shadows the submodule
# attribute: ``import scenarios.county_table as m`` would bind the function.  Take the module itself.
ct_module = sys.modules["scenarios.county_table"]

#: Units per province in the bundled division list (scenarios/data/PROVENANCE.md), 2,847 in all.
REAL_COUNTS = {"11": 16, "12": 16, "13": 167, "14": 117, "15": 103, "21": 100, "22": 60, "23": 122, "31": 16,
               "32": 95, "33": 90, "34": 104, "35": 84, "36": 100, "37": 136, "41": 157, "42": 103, "43": 122,
               "44": 124, "45": 111, "46": 26, "50": 38, "51": 183, "52": 88, "53": 129, "54": 74, "61": 107,
               "62": 87, "63": 44, "64": 22, "65": 106}

REPO = Path(__file__).resolve().parents[1]
FACTS_MD = Path("/work/shared/FACTS.md")

# Hard-coded from FACTS.md, "Administrative units by province" (end-2013 counties, end-2007 townships):
# code: (county-level, districts, cities, counties, autonomous, other, township-level)
FACTS_SAMPLE = {
    "62": (86, 17, 4, 58, 7, 0, 1343),      # Gansu
    "15": (102, 22, 11, 17, 0, 52, 854),    # Inner Mongolia (49 banners etc.)
    "53": (129, 13, 12, 75, 29, 0, 1370),   # Yunnan
    "54": (74, 1, 1, 72, 0, 0, 691),        # Tibet
    "11": (16, 14, 0, 2, 0, 0, 317),        # Beijing
}
FACTS_REGIONS = {
    "east": "11 12 13 21 31 32 33 35 37 44 46".split(),
    "central": "14 22 23 34 36 41 42 43".split(),
    "west": "15 45 50 51 52 53 54 61 62 63 64 65".split(),
}

PROBLEM_RE = re.compile(r"^(?P<file>.+): row (?P<row>\d+), column (?P<col>[a-z_]+): (?P<msg>.+) \(allowed: (?P<allowed>.+)\)$")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return county_table()


@pytest.fixture(scope="module")
def provinces() -> pd.DataFrame:
    return province_table()


# --------------------------------------------------------------------------- provinces.csv


def test_province_table_totals(provinces):
    assert len(provinces) == 31
    assert province_codes() == tuple(sorted(provinces["code"]))
    assert all(re.fullmatch(r"\d{2}", c) for c in province_codes())
    assert provinces["county_level"].sum() == 2853
    assert provinces["districts"].sum() == 872
    assert provinces["cities"].sum() == 368
    assert provinces["counties"].sum() == 1442
    assert provinces["autonomous"].sum() == 117
    assert provinces["other"].sum() == 2853 - 872 - 368 - 1442 - 117
    parts = provinces[["districts", "cities", "counties", "autonomous", "other"]].sum(axis=1)
    assert (parts == provinces["county_level"]).all()
    assert (provinces[["districts", "cities", "counties", "autonomous", "other", "townships"]] >= 0).all().all()


@pytest.mark.parametrize("code", sorted(FACTS_SAMPLE))
def test_province_table_hardcoded_facts(provinces, code):
    row = provinces.set_index("code").loc[code]
    got = tuple(int(row[c]) for c in ("county_level", "districts", "cities", "counties", "autonomous", "other", "townships"))
    assert got == FACTS_SAMPLE[code]


def test_province_regions(provinces):
    for region, codes in FACTS_REGIONS.items():
        assert sorted(provinces.loc[provinces["region"] == region, "code"]) == sorted(codes)


@pytest.mark.skipif(not FACTS_MD.exists(), reason="FACTS.md not available")
def test_province_table_equals_facts_md(provinces):
    """Every row of provinces.csv equals the FACTS.md table (parsed)."""
    rows = {}
    for line in FACTS_MD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([A-Za-z ]+?)\s*\|\s*(\d{2})\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)[^|]*\|\s*(\d+)\s*\|", line)
        if m:
            rows[m.group(2)] = (m.group(1), *map(int, m.groups()[2:]))
    assert len(rows) == 31
    p = provinces.set_index("code")
    for code, (name, total, d, c, k, a, tw) in rows.items():
        r = p.loc[code]
        assert r["province"] == name
        assert (r["county_level"], r["districts"], r["cities"], r["counties"], r["autonomous"], r["townships"]) == (total, d, c, k, a, tw)
        assert r["other"] == total - d - c - k - a


# --------------------------------------------------------------------------- structure


def test_columns_and_size(table):
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 2847 == sum(REAL_COUNTS.values())
    assert table["province"].nunique() == 31
    assert list(table.index) == list(range(len(table)))
    for f in FIELDS:
        for prefix in ("demand", "staff"):
            assert f"{prefix}_{f}" in table and all(f"{prefix}_{f}_{t}" in table for t in TIERS)
        for col in (f"senior_share_{f}", f"intermediate_share_{f}", f"mean_age_{f}"):
            assert col in table


def test_units_are_the_real_list(table):
    """One row per unit of the bundled division list, in code order, kinds from the real types."""
    div = divisions()
    assert table["county_id"].tolist() == div["code"].tolist() == sorted(div["code"])
    assert table.groupby("province").size().to_dict() == REAL_COUNTS
    assert (table["kind"] == table["type"].map(TYPE_KIND)).all()
    assert table["type"].value_counts().to_dict() == {
        "县": 1301, "市辖区": 978, "县级市": 393, "自治县": 117, "旗": 49, "不设区的地级市": 4, "自治旗": 3,
        "林区": 1, "特区": 1}
    for c in ("name", "name_pinyin", "prefecture", "prefecture_name", "type", "area_km2", "distance_km"):
        assert (table[c] == div[c]).all(), c


@pytest.mark.parametrize("code, name, pinyin, prefecture, prefecture_name, type_", [
    ("620102", "城关区", "Chengguan Qu", "6201", "兰州市", "市辖区"),
    ("540102", "城关区", "Chengguan Qu", "5401", "拉萨市", "市辖区"),
    ("620200", "嘉峪关市", "Jiayuguan Shi", "6202", "嘉峪关市", "不设区的地级市"),
    ("429021", "神农架林区", "Shennongjia Linqu", "4290", "省直辖县级行政区划", "林区"),
    ("520203", "六枝特区", "Liuzhi Tequ", "5202", "六盘水市", "特区"),
    ("110105", "朝阳区", "Chaoyang Qu", "1101", "北京市", "市辖区"),
    ("500229", "城口县", "Chengkou Xian", "5001", "重庆市", "县"),
    ("622927", "积石山保安族东乡族撒拉族自治县", None, "6229", "临夏回族自治州", "自治县"),
    ("152223", "扎赉特旗", None, "1522", "兴安盟", "旗"),
])
def test_known_units(table, code, name, pinyin, prefecture, prefecture_name, type_):
    row = table.set_index("county_id").loc[code]
    assert (row["name"], row["prefecture"], row["prefecture_name"], row["type"]) == (name, prefecture, prefecture_name, type_)
    assert row["province"] == code[:2]
    if pinyin:
        assert row["name_pinyin"] == pinyin


def test_prefecture_grouping(table):
    gansu = table[table["province"] == "62"]
    by_pref = gansu.groupby("prefecture")["county_id"].apply(list)
    assert len(by_pref) == 14  # 12 prefecture-level cities + 2 autonomous prefectures
    assert by_pref["6201"] == ["620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123"]
    assert (table["prefecture"] == table["county_id"].str[:4]).sum() > 2700
    assert (table["prefecture"].str[:2] == table["province"]).all()
    assert table.groupby("prefecture")["prefecture_name"].nunique().max() == 1


def test_geography_plausible(table):
    """Areas sum to China's land area (~9.6 M km2) and capitals' central districts are at distance 0."""
    assert 9.3e6 < table["area_km2"].sum() < 9.8e6
    assert table.loc[table["county_id"] == "620102", "distance_km"].item() == 0.0
    assert (table["distance_km"] < 1500).all() and (table["area_km2"] > 0).all()
    lanzhou = table[table["prefecture"] == "6201"]
    assert lanzhou["distance_km"].max() < 120
    assert table.loc[table["county_id"] == "653101", "distance_km"].item() > 900  # Kashgar from Urumqi


def test_townships_exact_per_province(table, provinces):
    got = table.groupby("province")["townships"].sum()
    exp = provinces.set_index("code")["townships"]
    assert (got.sort_index() == exp.sort_index()).all()
    assert (table["townships"] >= 1).all()
    assert table["townships"].sum() == 40811
    # districts get few townships, rural counties most
    mean = table.groupby("kind")["townships"].mean()
    assert mean["district"] < mean["county"] < mean["city"]


def test_population_per_province_and_national(table):
    got = table.groupby("province")["population"].sum()
    assert got.to_dict() == PROVINCE_POPULATION_2020
    total = table["population"].sum()
    assert total == NATIONAL_TARGETS["population"]["value"]
    assert 1.38e9 < total < 1.42e9
    mean = table.groupby("kind")["population"].mean()
    assert mean["district"] > mean["county"] and mean["city"] > mean["county"]


def test_region_matches_province(table, provinces):
    region = dict(zip(provinces["code"], provinces["region"]))
    assert (table["region"] == table["province"].map(region)).all()


# --------------------------------------------------------------------------- calibration


def test_targets_have_unit_and_source():
    for key, spec in NATIONAL_TARGETS.items():
        assert set(spec) >= {"value", "unit", "source", "assumption"}, key
        assert spec["value"] > 0 and spec["unit"] == "persons" and spec["source"]


@pytest.mark.parametrize("key", sorted(k for k in NATIONAL_TARGETS if k.startswith("staff_")))
def test_national_staff_totals_within_half_percent(table, key):
    target = NATIONAL_TARGETS[key]["value"]
    if key == "staff_total":
        got = sum(table[f"staff_{f}"].sum() for f in FIELDS)
    else:
        got = table[key].sum()
    assert abs(got - target) <= 0.005 * target, (key, got, target)


def test_published_anchors(table):
    assert NATIONAL_TARGETS["staff_education_township"]["value"] == 2_900_000
    assert NATIONAL_TARGETS["staff_health_township"]["value"] == 1_360_000
    assert table["staff_education_township"].sum() == pytest.approx(2.9e6, rel=0.005)
    assert table["staff_health_township"].sum() == pytest.approx(1.36e6, rel=0.005)
    total = sum(table[f"staff_{f}"].sum() for f in FIELDS)
    assert total == pytest.approx(7.0e6, rel=0.005)


def test_national_coverage_in_band(table):
    for f in FIELDS:
        cov = table[f"staff_{f}"].sum() / table[f"demand_{f}"].sum()
        assert 0.85 <= cov <= 0.95, (f, cov)
        for t in TIERS:
            cov_t = table[f"staff_{f}_{t}"].sum() / table[f"demand_{f}_{t}"].sum()
            assert cov_t == pytest.approx(TARGET_COVERAGE, abs=0.01)
    cal = calibration()
    assert len(cal) == len(FIELDS) * len(TIERS)
    assert np.allclose(cal["coverage"], TARGET_COVERAGE, atol=0.01)


def test_districts_mostly_county_tier(table):
    d = table[table["kind"] == "district"]
    c = table[table["kind"] == "county"]
    for f in FIELDS:
        share_d = d[f"staff_{f}_township"].sum() / d[f"staff_{f}"].sum()
        share_c = c[f"staff_{f}_township"].sum() / c[f"staff_{f}"].sum()
        assert share_d < 0.5 and share_d < share_c, f
        if f in ("education", "health"):
            assert share_d < 0.3 < share_c, f


def _coverage(df: pd.DataFrame) -> pd.Series:
    staff = sum(df[f"staff_{f}"] for f in FIELDS)
    demand = sum(df[f"demand_{f}"] for f in FIELDS)
    return staff / demand


def test_west_lower_coverage_than_east(table):
    cov = _coverage(table)
    by_region = cov.groupby(table["region"]).mean()
    assert by_region["west"] < by_region["central"] < by_region["east"]
    for f in FIELDS:
        c = (table[f"staff_{f}"] / table[f"demand_{f}"].where(table[f"demand_{f}"] > 0)).groupby(table["region"]).mean()
        assert c["west"] < c["east"], f
    hard = cov.groupby(table["hardship_class"] >= 3).mean()
    assert hard[True] < hard[False]


# --------------------------------------------------------------------------- values


def test_value_ranges(table):
    assert table["hardship_class"].between(0, 6).all()
    num = table.select_dtypes(include="number")
    assert (num >= 0).all().all()
    for c in ("old_revolutionary", "ethnic_minority", "border", "formerly_poor"):
        assert table[c].dtype == bool
    assert table["county_id"].is_unique
    assert table["county_id"].str.fullmatch(r"\d{6}").all()
    assert (table["county_id"].str[:2] == table["province"]).all()
    assert table["remoteness"].between(0, 1).all()
    for f in FIELDS:
        for p in ("demand", "staff"):
            assert (table[f"{p}_{f}"] == table[f"{p}_{f}_county"] + table[f"{p}_{f}_township"]).all()
        s, i = table[f"senior_share_{f}"], table[f"intermediate_share_{f}"]
        assert s.between(0, 1).all() and i.between(0, 1).all() and (s + i <= 1).all()
        assert table[f"mean_age_{f}"].between(30, 55).all()
    assert (sum(table[f"demand_{f}"] for f in FIELDS) > 0).all()


def test_hardship_pattern(table):
    mean = table.groupby("region")["hardship_class"].mean()
    assert mean["east"] < mean["central"] < mean["west"]
    east = table[table["region"] == "east"]
    assert (east["hardship_class"] == 0).mean() > 0.8
    high = table[table["province"].isin(["54", "63", "65"])]
    assert high["hardship_class"].max() == 6
    assert high["hardship_class"].mean() > table[table["region"] == "west"]["hardship_class"].mean()
    by_kind = table.groupby("kind")["hardship_class"].mean()
    assert by_kind["district"] < by_kind["county"] < by_kind["autonomous"]


def test_flags(table):
    assert table.loc[table["kind"] == "autonomous", "ethnic_minority"].all()
    assert set(table.loc[table["border"], "province"]) <= set(LAND_BORDER_PROVINCES)
    assert table["border"].sum() == 133  # real land-border units (published: about 140)
    border = table.set_index("county_id")["border"]
    assert border[["152501", "222404", "540233"]].all()          # Erenhot, Hunchun, Yadong
    assert not border[["532502", "620102", "653101"]].any()      # Kaiyuan, Chengguan (Lanzhou), Kashgar city
    assert 790 <= table["formerly_poor"].sum() <= 870  # ~832 nationally designated poor counties
    poor = table[table["formerly_poor"]]
    assert (poor["region"] != "east").mean() > 0.9
    assert (poor["kind"] != "district").mean() > 0.9
    assert set(poor.loc[poor["region"] == "east", "province"]) <= {"13", "46"}
    assert table[table["province"] == "54"]["formerly_poor"].all()


def test_senior_share_education_township_lower(table):
    """Township staff hold fewer senior posts: units with mostly township staff have lower shares."""
    twp_heavy = table["staff_education_township"] > 2 * table["staff_education_county"]
    s = table["senior_share_education"]
    assert s[twp_heavy].mean() < s[~twp_heavy].mean()
    assert s.mean() < 0.163  # below the 2000 high-school share


# --------------------------------------------------------------------------- determinism, subsets, caching


def test_deterministic_and_cache_is_protected():
    a = county_table()
    b = county_table()
    pd.testing.assert_frame_equal(a, b)
    a.loc[0, "population"] = -1
    a["staff_health"] = 0
    c = county_table()
    pd.testing.assert_frame_equal(b, c)


@pytest.mark.parametrize("codes", [["62"], ["65", "11"], ["54", "15", "53", "33"]])
def test_subset_equals_national_rows(table, codes):
    sub = county_table(provinces=codes)
    expected = table[table["province"].isin(codes)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, expected)
    assert set(sub["province"]) == set(codes)


@settings(max_examples=25, deadline=None)
@given(st.sets(st.sampled_from(sorted(FACTS_SAMPLE) + ["13", "44", "51", "63", "64"]), min_size=1, max_size=6))
def test_subset_property(codes):
    national = county_table()
    sub = county_table(provinces=sorted(codes))
    pd.testing.assert_frame_equal(sub, national[national["province"].isin(codes)].reset_index(drop=True))


def test_province_filter_forms():
    assert len(county_table(provinces="62")) == 87
    assert len(county_table(provinces=[62])) == 87
    assert len(county_table(provinces=[])) == 0


def test_unknown_province_code():
    with pytest.raises(CountyDataError) as exc:
        county_table(provinces=["62", "99"])
    assert len(exc.value.problems) == 1
    line = exc.value.problems[0]
    assert "'99'" in line and "11, 12" in line and "65" in line
    assert isinstance(exc.value, ValueError)


def _table_digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


def test_same_table_in_a_fresh_process_and_fast(table):
    """Another interpreter (different hash seed) builds the identical table, in well under 2 s."""
    code = (
        "import time, json, hashlib\n"
        "t0 = time.perf_counter()\n"
        "from scenarios.county_table import county_table\n"
        "t1 = time.perf_counter()\n"
        "df = county_table()\n"
        "t2 = time.perf_counter()\n"
        "print(json.dumps({'digest': hashlib.sha256(df.to_csv(index=False).encode()).hexdigest(),"
        " 'import_s': t1 - t0, 'build_s': t2 - t1}))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["digest"] == _table_digest(table)
    assert res["build_s"] < 2.0, res


# --------------------------------------------------------------------------- docs


def test_docstring_documents_every_column():
    doc = ct_module.__doc__
    generic = {c.replace(f, "<field>") for c in COLUMNS for f in FIELDS if f in c}
    for c in COLUMNS:
        if any(f in c for f in FIELDS):
            continue
        assert f"``{c}``" in doc, c
    for g in generic:
        assert f"``{g}``" in doc, g


# --------------------------------------------------------------------------- user CSV files


def test_user_csv_round_trip(table, tmp_path):
    path = tmp_path / "counties.csv"
    table.to_csv(path, index=False)
    back = county_table(path=path)
    pd.testing.assert_frame_equal(back, table)
    sub = county_table(provinces=["62"], path=str(path))
    pd.testing.assert_frame_equal(sub, county_table(provinces=["62"]))


def test_user_csv_small_and_extra_columns(table, tmp_path):
    """A user table need not reproduce the bundled counts; extra columns are kept."""
    small = table[table["province"] == "62"].head(5).copy()
    small["note"] = [f"unit {i}" for i in range(5)]
    small["border"] = ["1", "0", "true", "False", "no"]
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    back = county_table(path=path)
    assert len(back) == 5 and list(back.columns) == [*COLUMNS, "note"]
    assert back["border"].tolist() == [True, False, True, False, False]


def _raw(table: pd.DataFrame) -> pd.DataFrame:
    return table.head(20).astype(str).copy()


def _problems(raw: pd.DataFrame, tmp_path, name="bad.csv") -> list[str]:
    path = tmp_path / name
    raw.to_csv(path, index=False)
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path)
    assert str(path) in str(exc.value)
    return exc.value.problems


@pytest.mark.parametrize(
    "column, index, value, fragment",
    [
        ("province", 3, "99", "unknown province code '99'"),
        ("population", 4, "-5", "negative"),
        ("staff_health_county", 5, "-1", "negative"),
        ("townships", 6, "many", "not a number"),
        ("remoteness", 7, "", "empty value"),
        ("hardship_class", 8, "7", "out of range"),
        ("hardship_class", 9, "2.5", "not an integer"),
        ("kind", 10, "prefecture", "unknown kind"),
        ("region", 11, "north", "unknown region"),
        ("region", 12, "west", "does not match province"),
        ("border", 13, "maybe", "not a boolean"),
        ("county_id", 14, "12345", "not 6 digits"),
    ],
)
def test_user_csv_each_error(table, tmp_path, column, index, value, fragment):
    raw = _raw(table)
    raw.loc[index, column] = value
    problems = _problems(raw, tmp_path)
    hits = [p for p in problems if PROBLEM_RE.match(p) and PROBLEM_RE.match(p)["col"] == column]
    assert hits, problems
    m = PROBLEM_RE.match(hits[0])
    assert int(m["row"]) == index + 2  # header is row 1
    assert fragment in m["msg"]
    assert m["allowed"]


def test_user_csv_missing_column(table, tmp_path):
    raw = _raw(table).drop(columns=["demand_health", "hardship_class"])
    problems = _problems(raw, tmp_path)
    cols = {PROBLEM_RE.match(p)["col"] for p in problems}
    assert cols == {"demand_health", "hardship_class"}
    assert all("missing" in p and PROBLEM_RE.match(p)["row"] == "1" for p in problems)


def test_user_csv_duplicate_id(table, tmp_path):
    raw = _raw(table)
    raw.loc[7, "county_id"] = raw.loc[2, "county_id"]
    problems = _problems(raw, tmp_path)
    assert len(problems) == 1
    m = PROBLEM_RE.match(problems[0])
    assert (m["row"], m["col"]) == ("9", "county_id")
    assert "duplicate" in m["msg"] and "row 4" in m["msg"]


def test_user_csv_several_problems_all_reported(table, tmp_path):
    raw = _raw(table).drop(columns=["mean_age_science"])
    raw.loc[0, "province"] = "00"
    raw.loc[1, "population"] = "-3"
    raw.loc[2, "townships"] = "abc"
    raw.loc[5, "county_id"] = raw.loc[4, "county_id"]
    raw.loc[6, "staff_education"] = "1"  # inconsistent with the tier columns
    raw.loc[7, "senior_share_health"] = "0.9"
    raw.loc[7, "intermediate_share_health"] = "0.5"
    problems = _problems(raw, tmp_path)
    found = {(PROBLEM_RE.match(p)["row"], PROBLEM_RE.match(p)["col"]) for p in problems}
    assert found >= {
        ("1", "mean_age_science"), ("2", "province"), ("3", "population"), ("4", "townships"),
        ("7", "county_id"), ("8", "staff_education"), ("9", "senior_share_health"),
    }
    rows = [int(PROBLEM_RE.match(p)["row"]) for p in problems]
    assert rows == sorted(rows)


def test_user_csv_blank_line_keeps_row_numbers(table, tmp_path):
    path = tmp_path / "blank.csv"
    raw = _raw(table)
    raw.loc[3, "population"] = "x"
    text = raw.to_csv(index=False).splitlines()
    text.insert(2, "")  # a blank line after the first data row
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(CountyDataError) as exc:
        county_table(path=path)
    (p,) = exc.value.problems
    assert PROBLEM_RE.match(p)["row"] == "6"  # header 1, data 2, blank 3, data 4..; index 3 -> line 6


def test_user_csv_missing_file(tmp_path):
    with pytest.raises(CountyDataError) as exc:
        county_table(path=tmp_path / "nope.csv")
    assert "not found" in exc.value.problems[0]


def test_county_names_known_units_in_order_and_none_for_unknown_ids():
    import scenarios
    got = scenarios.county_names(pd.Series(["540102", "620102", 110105, "620102"], index=[7, 3, 5, 9]))
    assert list(got.index) == [0, 1, 2, 3]
    assert got["name"].tolist() == ["城关区", "城关区", "朝阳区", "城关区"]
    assert got["prefecture_name"].tolist() == ["拉萨市", "兰州市", "北京市", "兰州市"]
    assert scenarios.county_names([]).empty
    assert scenarios.county_names(["620102", "C0001"]) is None       # a synthetic id: no names at all
    assert scenarios.county_names(["999999"]) is None


def test_excel_and_report_label_counties_with_the_same_names():
    from grassroots.excel import _with_names
    from grassroots.report.study_sections import with_county_names
    alloc = pd.DataFrame({"county_id": ["622927", "152223"], "cost_yuan": [1.0, 2.0]})
    xl, rep = _with_names(alloc), with_county_names(alloc)
    assert list(xl.columns) == ["county_id", "name", "prefecture_name", "cost_yuan"]
    assert xl["name"].tolist() == rep["county_name"].tolist() == ["积石山保安族东乡族撒拉族自治县", "扎赉特旗"]
    assert xl["prefecture_name"].tolist() == rep["prefecture_name"].tolist() == ["临夏回族自治州", "兴安盟"]
    synthetic = alloc.assign(county_id=["C1", "C2"])
    assert _with_names(synthetic) is synthetic and with_county_names(synthetic) is synthetic
