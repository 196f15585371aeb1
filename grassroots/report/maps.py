"""Choropleth maps of counties and provinces from the bundled outlines (:mod:`scenarios.geo`).

``county_map(values, label=...)`` colours every county-level unit of the provinces it covers by a
per-county value (a Series indexed by ``county_id``), with prefecture borders, the province
outlines and a colour bar titled ``label`` (give the unit in it, in the language you want:
``"Coverage (staff / demand)"`` or ``"覆盖率（在岗/需求）"``).  ``province_map(values, label=...)``
does the same for a Series indexed by province code (national runs).  Both return a
:class:`matplotlib.figure.Figure` drawn with Agg (no ``pyplot`` state); :func:`save` writes PNG or
SVG by the file suffix.

Projection (documented simple projection, no GIS package): equirectangular, the longitude scaled by
cos(latitude at the middle of the drawn area), x = lon x cos(lat0), y = lat, on an equal-aspect
axis.  Shapes and areas are true near lat0 and off by cos(lat)/cos(lat0) elsewhere (within 10 % over
a province; over the nation, 18-53 N, areas in the far north and south are off by up to ~35 %).
The outlines are Amap's (GCJ-02; offset from WGS-84 by up to ~0.5 km), simplified to ~0.5 km.

The South China Sea islands (rings south of 17.8 N) are drawn in an inset at the lower right when
the map also shows the mainland or Hainan island.  Maps of all 31 provinces also show Taiwan, in plain
light grey (outside the model).  Counties without a value are drawn in light grey and listed in the legend as "no data" (the
``missing_label`` argument).  A diverging colour map around ``center`` shows a change (e.g. against
the base scenario) with zero at the neutral colour.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from scenarios import geo, province_codes

__all__ = ["county_map", "province_map", "save", "project"]

MISSING = "#D9D9D9"
CONTEXT = "#EFEFEF"
PREFECTURE_EDGE = "#4D4D4D"
PROVINCE_EDGE = "#1A1A1A"


def project(lon: np.ndarray, lat: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular scaled by cos(lat0): x = lon x cos(lat0), y = lat (degrees of latitude)."""
    return np.asarray(lon) * math.cos(math.radians(lat0)), np.asarray(lat)


def _compound(rings: list[np.ndarray], k: float) -> MplPath:
    """One path of several closed rings (MOVETO, LINETO..., CLOSEPOLY each), x scaled by k."""
    verts, codes = [], []
    for r in rings:
        v = r.copy()
        v[:, 0] *= k
        c = np.full(len(v), MplPath.LINETO, dtype=MplPath.code_type)
        c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        verts.append(v)
        codes.append(c)
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _segments(rings_by_code: dict[str, list[np.ndarray]], k: float) -> list[np.ndarray]:
    out = []
    for rings in rings_by_code.values():
        for r in rings:
            v = r.copy()
            v[:, 0] *= k
            out.append(v)
    return out


@contextlib.contextmanager
def _font(font: str | None):
    rc = {"axes.unicode_minus": False} if font else {}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    with matplotlib.rc_context(rc):
        yield


def _norm(v: np.ndarray, vmin, vmax, center):
    finite = v[np.isfinite(v)]
    lo = float(np.min(finite)) if vmin is None and len(finite) else (0.0 if vmin is None else float(vmin))
    hi = float(np.max(finite)) if vmax is None and len(finite) else (1.0 if vmax is None else float(vmax))
    if center is not None:
        span = max(abs(lo - center), abs(hi - center)) or 1.0
        return TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    if hi <= lo:
        hi = lo + 1.0
    return Normalize(vmin=lo, vmax=hi)


#: rings entirely south of this latitude (degrees N) are the South China Sea islands: drawn in an inset
INSET_LAT = 17.8


def _is_island(r: np.ndarray) -> bool:
    return bool(r[:, 1].max() < INSET_LAT)


def _extent(rings_by_code: dict[str, list[np.ndarray]], keep) -> np.ndarray:
    xy = [r for rings in rings_by_code.values() for r in rings if keep(r)]
    return np.concatenate(xy) if xy else np.concatenate([r for rs in rings_by_code.values() for r in rs])


def _layers(ax, paths_by_code, values, cmap, norm, borders, k: float, edge_width: float, context=None) -> PathCollection:
    if context:  # places shown but not modelled (Taiwan on maps of China): plain grey, no value
        ax.add_collection(PathCollection([_compound(r, k) for r in context.values()], facecolors=CONTEXT,
                                         edgecolors=PROVINCE_EDGE, linewidths=0.5, gid="context"))
    codes = list(paths_by_code)
    coll = PathCollection([_compound(paths_by_code[c], k) for c in codes], cmap=cmap, norm=norm,
                          edgecolors="white", linewidths=edge_width, gid="units")
    coll.set_array(np.ma.masked_invalid(values))
    ax.add_collection(coll)
    for rings, width, color in borders:
        ax.add_collection(LineCollection(_segments(rings, k), colors=color, linewidths=width))
    return coll


def _frame(ax, xy: np.ndarray, k: float, pad: float) -> None:
    ax.set_xlim(xy[:, 0].min() * k - pad, xy[:, 0].max() * k + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_aspect("equal")


def _draw(fig: Figure, paths_by_code: dict[str, list[np.ndarray]], values: pd.Series, *, label: str,
          title: str | None, cmap, vmin, vmax, center, borders: list[tuple[dict, float, str]],
          missing_label: str, edge_width: float, context: dict | None = None) -> Figure:
    main = _extent(paths_by_code, lambda r: not _is_island(r))
    islands = [r for rings in paths_by_code.values() for r in rings if _is_island(r)]
    inset = bool(islands) and main[:, 1].min() >= INSET_LAT
    lat0 = float((main[:, 1].min() + main[:, 1].max()) / 2)
    k = math.cos(math.radians(lat0))
    codes = list(paths_by_code)
    v = pd.to_numeric(values.reindex(codes), errors="coerce").to_numpy(float)
    cmap = (matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(bad=MISSING)
    norm = _norm(v, vmin, vmax, center)
    ax = fig.add_subplot(1, 1, 1)
    coll = _layers(ax, paths_by_code, v, cmap, norm, borders, k, edge_width, context)
    if context:
        main = np.concatenate([main, *[r for rs in context.values() for r in rs]])
    _frame(ax, main, k, 0.2)
    ax.set_axis_off()
    if inset:  # the South China Sea islands, at a smaller scale, lower right
        sub = ax.inset_axes([0.84, 0.0, 0.16, 0.28])
        _layers(sub, paths_by_code, v, cmap, norm, borders, k, edge_width)
        _frame(sub, np.concatenate(islands), k, 0.3)
        sub.set_xticks([])
        sub.set_yticks([])
        for spine in sub.spines.values():
            spine.set_edgecolor("#808080")
            spine.set_linewidth(0.6)
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    fig.colorbar(coll, ax=ax, shrink=0.6, pad=0.02, label=label)
    if not np.isfinite(v).all():
        n = int((~np.isfinite(v)).sum())
        ax.legend(handles=[Patch(facecolor=MISSING, edgecolor="none", label=f"{missing_label} ({n})")],
                  loc="lower left", frameon=False, fontsize=8)
    return fig


def _figure(rings: dict[str, list[np.ndarray]], width: float) -> Figure:
    allxy = _extent(rings, lambda r: not _is_island(r))
    lat0 = (allxy[:, 1].min() + allxy[:, 1].max()) / 2
    w = (allxy[:, 0].max() - allxy[:, 0].min()) * math.cos(math.radians(lat0))
    h = allxy[:, 1].max() - allxy[:, 1].min()
    height = float(np.clip(width * 0.85 * h / max(w, 1e-6), 3.0, 9.0))
    return Figure(figsize=(width, height), layout="constrained")


def county_map(values: pd.Series, *, label: str, title: str | None = None,
               provinces: Iterable[str] | None = None, cmap="viridis", vmin=None, vmax=None,
               center: float | None = None, font: str | None = None, missing_label: str = "no data",
               width: float = 7.5) -> Figure:
    """Counties of ``provinces`` coloured by ``values``.  Without ``provinces``: every county of the
    provinces of ``values.index``, or only the counties of ``values.index`` (with their prefectures'
    borders) when they are fewer than half of those.

    ``values``: per-county numbers indexed by 6-digit ``county_id``; ``label``: colour-bar title
    with the unit; ``center``: draw a diverging map around this value (``cmap`` "RdBu" suits it);
    ``font``: a font family for the labels (a CJK font for Chinese).
    """
    values = pd.Series(values)
    values.index = values.index.astype(str)
    provs = sorted({str(p) for p in provinces} if provinces is not None else {c[:2] for c in values.index})
    counties = {c: r for c, r in geo.outlines("county").items() if c[:2] in provs}
    prefectures = {c: r for c, r in geo.outlines("prefecture").items() if c[:2] in provs}
    outline = geo.outlines("province", provs)
    if provinces is None and len(values.index) < 0.5 * len(counties):
        # a few counties (a city, a county planner's case): draw them alone, with their prefectures' borders
        counties = {c: r for c, r in counties.items() if c in set(values.index)}
        prefectures = {c: r for c, r in prefectures.items() if c in {k[:4] for k in counties}}
        outline = {}
    national = len(provs) > 8
    context = {c: r for c, r in geo.outlines("province").items() if c not in provs} if len(provs) == 31 else None
    with _font(font):
        fig = _figure(counties, width)
        _draw(fig, counties, values, label=label, title=title, cmap=cmap, vmin=vmin, vmax=vmax, center=center,
              borders=[(prefectures, 0.25 if national else 0.6, PREFECTURE_EDGE),
                       (outline, 0.5 if national else 1.1, PROVINCE_EDGE)],
              missing_label=missing_label, edge_width=0.05 if national else 0.3, context=context)
    return fig


def province_map(values: pd.Series, *, label: str, title: str | None = None, cmap="viridis", vmin=None,
                 vmax=None, center: float | None = None, font: str | None = None,
                 missing_label: str = "no data", width: float = 7.5) -> Figure:
    """The 31 provinces coloured by ``values`` (indexed by 2-digit province code)."""
    values = pd.Series(values)
    values.index = values.index.astype(str)
    everything = geo.outlines("province")
    modelled = set(province_codes())
    provinces = {c: r for c, r in everything.items() if c in modelled}
    context = {c: r for c, r in everything.items() if c not in modelled}
    with _font(font):
        fig = _figure(provinces, width)
        _draw(fig, provinces, values, label=label, title=title, cmap=cmap, vmin=vmin, vmax=vmax, center=center,
              borders=[(provinces, 0.5, PROVINCE_EDGE)], missing_label=missing_label, edge_width=0.3,
              context=context)
    return fig


def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG or SVG (by the suffix), without timestamps so the bytes are reproducible."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or "png"
    meta = {"Software": None} if fmt == "png" else {"Date": None} if fmt == "svg" else {}
    fig.savefig(path, format=fmt, dpi=dpi, metadata=meta)
    return path
