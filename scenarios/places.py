"""Places by code or name: provinces, prefectures (cities) and county-level units.

``resolve(provinces=[...], cities=[...], counties=[...])`` turns what a user types into codes of
the bundled division list (:func:`scenarios.counties.divisions`):

* a code: ``62`` / ``620000`` (province), ``6201`` / ``620100`` (prefecture), ``620102`` (county);
* a Chinese name, with or without its generic suffix: ``甘肃`` / ``甘肃省``, ``兰州`` / ``兰州市``,
  ``城关区``;
* a pinyin or English name, any case, spaces and apostrophes ignored, with or without the
  generic part: ``Gansu``, ``Inner Mongolia`` / ``Neimenggu``, ``Lanzhou``, ``Chengguan Qu`` /
  ``Chengguan District``;
* a qualified name ``PARENT/NAME`` (``兰州市/城关区``, ``Gansu/Chengguan``, ``62/城关区``).

Cities and counties are looked up within the given provinces when there are any.  The selection
is the units of the given cities and counties, or, when neither is given, every unit of the
provinces (``Places.counties`` empty).  A name that fits several places raises
:class:`AmbiguousPlaceError` listing each candidate with its code and parents; an unknown name
raises :class:`UnknownPlaceError` listing close matches.  Both are :class:`PlaceError`
(a ``ValueError``) with one line per problem in ``.problems``.
"""
from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .counties.columns import _province_table_cached, divisions

__all__ = ["Places", "PlaceError", "AmbiguousPlaceError", "UnknownPlaceError", "resolve", "province_code"]

LEVELS = ("province", "city", "county")
#: generic parts of names, Chinese and English/pinyin, stripped for matching (longest first)
_ZH_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "自治旗", "特别行政区", "特区",
                "林区", "地区", "省", "市", "区", "县", "旗", "盟")
_EN_SUFFIXES = ("autonomous region", "autonomous prefecture", "autonomous county", "autonomous banner", "municipality",
                "province", "prefecture", "district", "county", "city", "banner", "league", "region",
                "zizhiqu", "zizhizhou", "zizhixian", "zizhiqi", "sheng", "shi", "qu", "xian", "qi", "meng", "diqu", "tequ",
                "linqu")
#: pinyin names of provinces whose English short name differs
_PROVINCE_ALIASES = {"15": ("neimenggu", "nei mongol"), "54": ("xizang",), "44": ("canton",)}


class PlaceError(ValueError):
    """A place that cannot be resolved.  ``.problems``: one line per problem."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class AmbiguousPlaceError(PlaceError):
    """A name fits several places; ``.candidates`` lists (code, name, parents) of each."""

    def __init__(self, problems: Iterable[str], candidates: list[tuple[str, str, str]]):
        self.candidates = candidates
        super().__init__(problems)


class UnknownPlaceError(PlaceError):
    """No place has this code or name; ``.suggestions`` lists close matches."""

    def __init__(self, problems: Iterable[str], suggestions: list[str]):
        self.suggestions = suggestions
        super().__init__(problems)


@dataclass(frozen=True)
class Places:
    """A resolved selection: province codes, and county codes (empty = every unit of the provinces)."""

    provinces: tuple[str, ...]
    counties: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()      # "620102 城关区 (兰州市, 甘肃省)" per place asked for

    def scenario_overrides(self) -> dict:
        """``scenarios.apply`` overrides selecting these places (``region.provinces``/``region.counties``)."""
        return {"region.provinces": list(self.provinces), "region.counties": list(self.counties)}


def _norm_latin(text: str) -> str:
    """lower case letters only: "Chengguan Qu" -> "chengguanqu"; "Xi'an" -> "xian"."""
    return re.sub(r"[^a-z]", "", text.lower().replace("ü", "v"))


def _strip_en(text: str) -> str:
    t = text.strip().lower()
    for s in _EN_SUFFIXES:
        if t.endswith(" " + s) or (t.endswith(s) and len(t) > len(s) + 1 and " " not in t and s in ("shi", "qu", "xian", "sheng")):
            return t[: -len(s)].strip()
    return t


#: ethnic groups named in autonomous areas' names (stripped with the suffix: 临夏回族自治州 -> 临夏)
_ETHNIC = ("蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族",
           "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "拉祜族", "水族", "东乡族", "纳西族",
           "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
           "阿昌族", "普米族", "塔吉克族", "怒族", "鄂温克族", "德昂族", "保安族", "裕固族", "独龙族", "鄂伦春族",
           "基诺族", "各族")


#: the same in pinyin, as build_geo writes them (proper part joined: 临夏回族 -> linxiahuizu)
_ETHNIC_PINYIN = ('dongxiangzu', 'keerkezizu', 'chaoxianzu', 'elunchunzu', 'weiwuerzu', 'zhuangzu', 'maonanzu',
                  'ewenkezu', 'dawoerzu', 'hasakezu', 'bulangzu', 'jingpozu', 'tajikezu', 'achangzu', 'dulongzu',
                  'mengguzu', 'qiangzu', 'gelaozu', 'jinuozu', 'mulaozu', 'tujiazu', 'deangzu', 'baoanzu', 'pumizu',
                  'salazu', 'shuizu', 'lisuzu', 'yuguzu', 'xibozu', 'hanizu', 'miaozu', 'zangzu', 'buyizu', 'dongzu',
                  'naxizu', 'lahuzu', 'yaozu', 'shezu', 'manzu', 'huizu', 'baizu', 'daizu', 'wazu', 'tuzu', 'lizu',
                  'yizu', 'nuzu', 'gezu')


def _short_latin(name_zh: str, latin: str) -> str:
    """Pinyin of the proper name alone: "Linxiahuizu Zizhizhou" (临夏回族自治州) -> "linxia"."""
    t = _norm_latin(_strip_en(latin))
    return _strip_endings(t, _ETHNIC_PINYIN) if "自治" in name_zh else t


def _strip_endings(text: str, endings) -> str:
    """``text`` without any run of ``endings`` at its end ("临夏回族" -> "临夏"); never empties it."""
    stripped = True
    while stripped:
        stripped = False
        for e in endings:
            if text.endswith(e) and len(text) > len(e):
                text, stripped = text[: -len(e)], True
    return text


_EN_GENERIC = {"autonomous region": "zizhiqu", "autonomous prefecture": "zizhizhou", "autonomous county": "zizhixian",
               "autonomous banner": "zizhiqi", "municipality": "shi", "province": "sheng", "district": "qu",
               "county": "xian", "city": "shi", "banner": "qi", "league": "meng", "prefecture": "diqu"}


def _en_as_pinyin(text: str) -> str:
    """English generic part as its pinyin: "Yuzhong County" -> "yuzhong xian" (so it cannot match 渝中区)."""
    t = text.strip().lower()
    for en, py in _EN_GENERIC.items():
        if t.endswith(" " + en):
            return t[: -len(en)] + py
    return t


def _strip_zh(text: str) -> str:
    for s in _ZH_SUFFIXES:
        if text.endswith(s) and len(text) > len(s) + 1 - (len(s) > 1):
            text = text[: -len(s)]
            return _strip_endings(text, _ETHNIC) if s.startswith("自治") else text
    return text


@functools.lru_cache(maxsize=1)
def _gazetteer() -> pd.DataFrame:
    """One row per place: level, code, name, parents, and the keys it answers to."""
    div = divisions()
    prov = _province_table_cached().set_index("code")
    rows = []
    for code, p in prov.iterrows():
        keys = {p["name_zh"], _strip_zh(p["name_zh"]), _norm_latin(p["province"]), _norm_latin(p["name_en"]),
                *(_norm_latin(a) for a in _PROVINCE_ALIASES.get(code, ()))}
        rows.append(("province", code, p["name_zh"], p["province"], "", keys))
    for (code, name, pin, pname), _ in div.groupby(["prefecture", "prefecture_name", "prefecture_pinyin",
                                                    "province_name"]):
        keys = {name, _strip_zh(name), _norm_latin(pin), _short_latin(name, pin)}
        rows.append(("city", code, name, pin, pname, keys))
    for r in div.itertuples():
        keys = {r.name, _strip_zh(r.name), _norm_latin(r.name_pinyin), _short_latin(r.name, r.name_pinyin)}
        rows.append(("county", r.code, r.name, r.name_pinyin, f"{r.prefecture_name}, {r.province_name}", keys))
    return pd.DataFrame(rows, columns=["level", "code", "name", "latin", "parents", "keys"])


def _label(row) -> str:
    return f"{row.code} {row.name}" + (f" ({row.parents})" if row.parents else "")


def _find(level: str, text: str, within: tuple[str, ...] = ()) -> list:
    """Rows of the gazetteer at ``level`` that ``text`` names (best tier of match), within code prefixes."""
    g = _gazetteer()
    g = g[g["level"] == level]
    if within:
        g = g[g["code"].str.startswith(tuple(within))]
    t = str(text).strip()
    if re.fullmatch(r"\d+", t):
        # codes: 2 / 4 / 6 digits; 620000 and 620100 name the province and the prefecture
        if level == "province" and (len(t) == 2 or (len(t) == 6 and t.endswith("0000"))):
            t = t[:2]
        elif level == "city" and len(t) == 6 and t.endswith("00") and not (g["code"] == t[:4]).any():
            t = t[:4]
        elif level == "city" and len(t) == 6 and t.endswith("00"):
            t = t[:4]
        return [r for r in g.itertuples() if r.code == t]
    tiers = (
        lambda r: t == r.name,
        lambda r: t in r.keys,
        lambda r: _strip_zh(t) in r.keys,
        lambda r: _norm_latin(t) in r.keys and _norm_latin(t) != "",
        lambda r: _norm_latin(_en_as_pinyin(t)) in r.keys and _norm_latin(_en_as_pinyin(t)) != "",
        lambda r: _norm_latin(_strip_en(t)) in r.keys and _norm_latin(_strip_en(t)) != "",
    )
    rows = list(g.itertuples())
    for test in tiers:
        hits = [r for r in rows if test(r)]
        if hits:
            return hits
    return []


def _one(level: str, text: str, within: tuple[str, ...], option: str) -> object:
    t = str(text).strip()
    if "/" in t:  # qualified: PARENT/NAME
        parent, _, name = t.rpartition("/")
        parent_rows = []
        for plevel in ("province", "city"):
            if LEVELS.index(plevel) < LEVELS.index(level):
                parent_rows = _find(plevel, parent, within)
                if parent_rows:
                    break
        if not parent_rows:
            raise UnknownPlaceError([f"{option} {text!r}: unknown parent {parent!r} (a province or city name or code)"], [])
        return _one(level, name, tuple(r.code for r in parent_rows), option)
    hits = _find(level, t, within)
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        cands = [(r.code, r.name, r.parents) for r in hits]
        raise AmbiguousPlaceError(
            [f"{option} {text!r} is ambiguous: {len(hits)} places are called so: "
             + "; ".join(_label(r) for r in hits)
             + f" (use the code, or qualify the name: {hits[0].parents.split(', ')[0]}/{hits[0].name})"
             if level != "province" else f"{option} {text!r} is ambiguous: " + "; ".join(_label(r) for r in hits)],
            cands)
    g = _gazetteer()
    g = g[g["level"] == level]
    if within:
        g = g[g["code"].str.startswith(tuple(within))]
    names: dict[str, list] = {}
    for r in g.itertuples():
        for k in (r.name, r.latin, r.code):
            names.setdefault(k, []).append(r)
    close = difflib.get_close_matches(t, list(names), n=5, cutoff=0.6)
    if not close and re.search(r"[a-zA-Z]", t):
        latin: dict[str, list] = {}
        for r in g.itertuples():
            latin.setdefault(_norm_latin(r.latin), []).append(r)
        close_rows = [r for k in difflib.get_close_matches(_norm_latin(t), list(latin), n=5, cutoff=0.7) for r in latin[k]]
    else:
        close_rows = [r for k in close for r in names[k]]
    sugg = list(dict.fromkeys(_label(r) for r in close_rows))[:6]
    other = [f"{lv} {_label(r)}" for lv in LEVELS if lv != level for r in _find(lv, t, within)][:3]
    where = f" in {', '.join(within)}" if within else ""
    hint = (f" (it names a {'; a '.join(other)}; use {_option(option, other[0].split()[0])})" if other
            else f" (close: {'; '.join(sugg)})" if sugg
            else f" (allowed: a {level} code, Chinese, pinyin or English name)")
    raise UnknownPlaceError([f"{option} {text!r}: no {level}{where} of that code or name{hint}"], sugg)


def _option(asked: str, level: str) -> str:
    """The option or key for ``level`` in the style of ``asked`` (--county -> --city; region.counties -> region.cities)."""
    word = {"province": "province", "city": "city", "county": "county"}[level]
    plural = {"province": "provinces", "city": "cities", "county": "counties"}[level]
    return f"--{word}" if asked.startswith("--") else f"region.{plural}" if asked.startswith("region.") else f"--{word}"


def province_code(text: str | int) -> str:
    """The 2-digit code of a province given by code, Chinese, pinyin or English name."""
    return _one("province", str(text), (), "province").code


def resolve(provinces: Iterable[str] | str | None = None, cities: Iterable[str] | str | None = None,
            counties: Iterable[str] | str | None = None,
            names: tuple[str, str, str] = ("--province", "--city", "--county")) -> Places:
    """Resolve places given by code or name (see the module docstring); all problems at once.

    ``names``: how problem lines name the three inputs (command-line options by default; the loader
    passes ``region.provinces`` ...).
    """
    def listed(x):
        return [] if x is None else [x] if isinstance(x, (str, int)) else list(x)

    problems: list[str] = []
    errors: list[PlaceError] = []
    prov_codes: list[str] = []
    labels: list[str] = []
    for text in listed(provinces):
        try:
            r = _one("province", str(text), (), names[0])
            prov_codes.append(r.code)
            labels.append(_label(r))
        except PlaceError as exc:
            errors.append(exc)
    within = tuple(dict.fromkeys(prov_codes))
    units: list[str] = []
    div = divisions()
    for level, items, option in (("city", listed(cities), names[1]), ("county", listed(counties), names[2])):
        for text in items:
            try:
                r = _one(level, str(text), within, option)
            except PlaceError as exc:
                errors.append(exc)
                continue
            labels.append(_label(r))
            units.extend(div.loc[div["prefecture"] == r.code, "code"] if level == "city" else [r.code])
    for exc in errors:
        problems.extend(exc.problems)
    if problems:
        if len(errors) == 1:
            raise errors[0]
        raise PlaceError(problems)
    units = list(dict.fromkeys(units))
    if units:
        provs = tuple(sorted(set(prov_codes) | {u[:2] for u in units}))
        return Places(provinces=provs, counties=tuple(sorted(units)), labels=tuple(labels))
    return Places(provinces=tuple(sorted(set(prov_codes))), counties=(), labels=tuple(labels))
