"""User-facing strings in English and Chinese, from one catalogue per language.

The catalogues are ``grassroots/report/locales/en.toml`` and ``zh.toml``: every label a figure or a
report shows (metrics, lever families, optimizer levers, fields, tiers, regions, payers, programmes,
provinces, column headings, section titles, units, captions and notes, scenario descriptions) under
the same key in both files.  Sections in a file only group keys; keys are unique across sections.
Sentences take ``{named}`` fields filled by :func:`text`.  TOML (read with the standard library's
``tomllib``) rather than gettext: the strings are keyed data the report and the web app look up, not
messages extracted from source, and a translator edits two side-by-side text files::

    label("coverage", "en")   # 'Coverage (staff / demand)'
    label("coverage", "zh")   # '覆盖率（在岗/需求）'
    label("62", "zh")         # '甘肃'  (GB/T 2260 province codes)
    text("caption_headline", "zh")

An unknown key is shown as itself, tidied (``special_teachers`` -> ``Special teachers``), never as an
error: a new metric from an engine still plots.  Number formats are in :mod:`.numbers`, the CJK font
search in :mod:`.fonts` (both re-exported here).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping

from . import fonts
from .fonts import CJK_PROBE, CJKFontWarning, cjk_font, has_bold  # noqa: F401 - re-exported
from .numbers import (METRIC_KIND, fmt_interval, fmt_number, fmt_value, fmt_yuan,  # noqa: F401 - re-exported
                      metric_kind)

LANGS = ("en", "zh")

#: canonical order of lever families in tables and charts
LEVER_ORDER = ("titles", "posts", "recruitment", "pay", "programmes", "training", "flexible", "other")

#: metrics that count what happened during a year (flows), not a state at its end: the simulator
#: records the starting year before anything flows, so they are not shown for that year
FLOW_METRICS = ("recruits", "exits", "turnover_rate", "exit_rate", "fill_rate", "mean_recruit_skill",
                "cost_yuan", "cost_per_staff_yuan", "training_hours", "staff_gain", "flexible_fte")


def is_flow(metric) -> bool:
    """Whether ``metric`` is a flow over a year (see :data:`FLOW_METRICS`; every ``cost_*_yuan`` is one)."""
    m = str(metric)
    return (m in FLOW_METRICS or (m.startswith("cost_") and m.endswith("_yuan"))
            or m.startswith(("moves_", "exits_", "recruits_", "net_moves")) or m.endswith("_move_rate"))


@functools.lru_cache(maxsize=None)
def catalogue_sections(lang: str) -> dict[str, dict[str, str]]:
    """The catalogue of ``lang`` as {section: {key: string}} (as in the file)."""
    check_lang(lang)
    raw = resources.files(__package__).joinpath("locales", f"{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of ``lang`` as one flat {key: string}; a key in two sections is an error."""
    flat: dict[str, str] = {}
    for sec, items in catalogue_sections(lang).items():
        for k, v in items.items():
            if k in flat:
                raise ValueError(f"locales/{lang}.toml: key {k!r} in section [{sec}] is defined twice")
            flat[k] = v
    return flat


class _Pairs(Mapping):
    """``LABELS[key] -> (English, Chinese)``, read from the catalogues (kept for callers of the old dict)."""

    def __getitem__(self, k):
        return catalogue("en")[k], catalogue("zh")[k]

    def __iter__(self):
        return iter(catalogue("en"))

    def __len__(self):
        return len(catalogue("en"))


LABELS: Mapping[str, tuple[str, str]] = _Pairs()


def _tidy(key: str) -> str:
    if "." in key or "=" in key:  # a scenario key path such as behaviour.exit_intercept: shown as is
        return key
    t = re.sub(r"[_\s]+", " ", str(key)).strip()
    return t[:1].upper() + t[1:] if t else t


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: {lang!r} is not a language (allowed: {', '.join(LANGS)})")
    return lang


def label(key, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` (``en`` or ``zh``); unknown keys come back tidied."""
    cat = catalogue(check_lang(lang))
    k = str(key)
    if k in cat:
        return cat[k]
    if k.startswith("place_") and k[6:] in cat:  # optimizer lever: places on a programme
        return cat["places_prefix"] + cat[k[6:]]
    if k.isdigit() and len(k) <= 2 and k.zfill(2) in cat:  # province codes read back as integers
        return cat[k.zfill(2)]
    return _tidy(k)


def text(key: str, lang: str = "en", **fields) -> str:
    """A sentence of the catalogue with its ``{named}`` fields filled."""
    s = catalogue(check_lang(lang))[key]
    return s.format(**fields) if fields else s


def unit(metric, lang: str = "en", diff: bool = False) -> str:
    """The unit of ``metric``'s values as an axis shows it, e.g. '%', 'persons', 'yuan per year'."""
    own = f"unit_{metric}"
    if not diff and own in catalogue(check_lang(lang)):  # e.g. unit_share_of_counties, unit_sobol
        return text(own, lang)
    kind = metric_kind(metric)
    if kind == "share":
        return text("unit_pp" if diff else "unit_percent", lang)
    return text(f"unit_{kind}", lang)


def axis_label(name: str, metric, lang: str = "en", diff: bool = False) -> str:
    """``name (unit)`` -- in Chinese ``name（unit）`` -- unless the name already ends with its unit."""
    u = unit(metric, lang, diff)
    if not u or name.endswith((f"({u})", f"（{u}）")):
        return name
    return f"{name}（{u}）" if lang == "zh" else f"{name} ({u})"


def scenario_description(name, description, lang: str = "en") -> str:
    """A bundled scenario's description in ``lang`` (catalogue key ``scenario_<name>``) when the
    description is the bundled one (or missing), else the description as written."""
    key = f"scenario_{name}"
    if lang != "en" and key in catalogue(lang) and (not description or description == catalogue("en")[key]):
        return catalogue(lang)[key]
    return "" if description is None else str(description)


# ----------------------------------------------------------------------------- Labels

@dataclass(frozen=True)
class Labels:
    """Language plus display names for scenarios (and any other keys).

    ``Labels("zh", names={"policy-2016": "2016年政策包"})("coverage")`` -> '覆盖率（在岗/需求）'.
    ``font`` is the font family figures use (None: matplotlib's default).
    """

    lang: str = "en"
    names: Mapping[str, str] = field(default_factory=dict)
    font: str | None = None
    fell_back: bool = False  # True when Chinese was asked for but no CJK font exists

    def __post_init__(self):
        check_lang(self.lang)

    def __call__(self, key) -> str:
        k = str(key)
        if k in self.names:
            return str(self.names[k])
        return label(k, self.lang)

    def text(self, key: str, **fields) -> str:
        return text(key, self.lang, **fields)

    def scenario(self, name) -> str:
        """A scenario's display name: from ``names``, else the name itself (never tidied)."""
        return str(self.names.get(str(name), name))

    def value(self, metric, x, diff: bool = False) -> str:
        return fmt_value(metric, x, self.lang, diff)

    def interval(self, metric, lo, hi, diff: bool = False) -> str:
        return fmt_interval(metric, lo, hi, self.lang, diff)

    def axis(self, name_key: str, metric, diff: bool = False) -> str:
        """An axis title: the label of ``name_key`` with the unit of ``metric``."""
        return axis_label(self(name_key), metric, self.lang, diff)

    def for_figures(self) -> "Labels":
        """These labels as figures can show them: English when no CJK font is installed."""
        if self.lang != "zh" or self.font is not None:
            return self
        font = cjk_font()
        if font is None:
            fonts.warn_no_cjk()
            return Labels("en", self.names, None, True)
        return Labels("zh", self.names, font, False)


def as_labels(labels: "Labels | str | None" = None) -> Labels:
    """``None`` -> English; a language code -> Labels(lang); Labels unchanged."""
    if labels is None:
        return Labels()
    if isinstance(labels, Labels):
        return labels
    if isinstance(labels, str):
        return Labels(labels)
    raise TypeError(f"labels: expected Labels, 'en' or 'zh', not {type(labels).__name__}")
