"""Small parts of the HTML report: escaping, PNG sizes, figure and section records, which scenario rows and
headline years a report shows.  Used by :class:`grassroots.report.html.Report`."""

from __future__ import annotations

import base64
import html
import logging
import re
import struct
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd


log = logging.getLogger("grassroots.report")

HEADLINE_METRICS = ("coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan",
                    "coverage_gini", "share_counties_below_80pct")
HEADLINE_OFFSETS = (5, 10)
FIGURE_DPI = 110

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def esc(text: Any) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


def _png_size(png: bytes) -> tuple[int, int]:
    if not png.startswith(_PNG_MAGIC) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()
    return s or "section"


def _g4(v) -> str:
    """Four significant digits, for duals and marginal values; never '-0'."""
    if not _finite(v):
        return "–"
    x = float(v)
    return "0" if abs(x) < 1e-12 else f"{x:.4g}"


def _finite(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- blocks

@dataclass
class _Figure:
    title: str
    png: bytes
    caption: str | None
    alt: str
    slug: str

    def html(self) -> str:
        w, h = _png_size(self.png)
        data = base64.b64encode(self.png).decode("ascii")
        cap = f'<figcaption>{esc(self.caption)}</figcaption>' if self.caption else ""
        title = f"<h3>{esc(self.title)}</h3>" if self.title else ""
        return (f'<figure class="fig">{title}<img src="data:image/png;base64,{data}" alt="{esc(self.alt)}" '
                f'width="{w}" height="{h}">{cap}</figure>')


@dataclass
class _Raw:
    """Markup built by this module from escaped pieces."""
    markup: str

    def html(self) -> str:
        return self.markup


@dataclass
class _Section:
    key: str
    title: str
    blocks: list = field(default_factory=list)


# ----------------------------------------------------------------------------- builder


_SECTION_KEYS = {"run_info", "headline", "comparison", "trajectories", "county_distribution", "decomposition",
                 "optimizer", "frontier", "sensitivity", "budget_probability", "notes"}


def _first(m: Mapping, *keys):
    for k in keys:
        if m.get(k) is not None:
            return m[k]
    return None


def _scenario_rows(m: Mapping, scenarios) -> list[tuple[str, str, str]]:
    """(name, description, sha256) from the scenarios argument and the manifest, whichever has them."""
    rows: dict[str, list[str]] = {}

    def put(name, description=None, sha=None):
        r = rows.setdefault(str(name), ["", ""])
        if description and not r[0]:
            r[0] = str(description)
        if sha and not r[1]:
            r[1] = str(sha)

    if scenarios is not None:
        items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
        for key, sc in items:
            if isinstance(sc, str):  # {name: description}
                put(key, sc)
            elif isinstance(sc, Mapping):
                put(sc.get("name", key), sc.get("description"), sc.get("sha256"))
            else:  # a Scenario object
                sha = None
                try:
                    import scenarios as _sc
                    sha = _sc.sha256(sc)
                except Exception:  # noqa: BLE001 - the digest is a nicety here
                    pass
                put(getattr(sc, "name", key), getattr(sc, "description", None), sha)
    ms = m.get("scenarios")
    if isinstance(ms, Mapping):
        for name, v in ms.items():
            if isinstance(v, Mapping):
                put(name, v.get("description"), v.get("sha256"))
            else:
                put(name, None, v)
    elif isinstance(ms, (list, tuple)):
        for v in ms:
            if isinstance(v, Mapping) and v.get("name"):
                put(v["name"], v.get("description"), v.get("sha256"))
            elif isinstance(v, str):
                put(v)
    if m.get("scenario") and not rows:
        put(m["scenario"], m.get("description"), _first(m, "sha256", "scenario_sha256"))
    elif m.get("scenario") and str(m["scenario"]) in rows:
        put(m["scenario"], m.get("description"), _first(m, "sha256", "scenario_sha256"))
    return [(k, v[0], v[1]) for k, v in rows.items()]


def headline_years(df: pd.DataFrame, years: Sequence[int] | None = None,
                   start_year: int | None = None) -> tuple[list[int], int | None]:
    """The years a headline shows: start+5 and start+10 where present (start = first year), else the last."""
    have = sorted(int(y) for y in pd.unique(df["year"].dropna()))
    if not have:
        return [], None
    start = int(start_year) if start_year is not None else have[0]
    if years is not None:
        return [int(y) for y in years if int(y) in have], start
    chosen = [start + k for k in HEADLINE_OFFSETS if start + k in have]
    if have[-1] not in chosen and len(chosen) < len(HEADLINE_OFFSETS):
        chosen.append(have[-1])
    return chosen, start


# ----------------------------------------------------------------------------- one call
