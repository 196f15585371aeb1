"""Small county tables for fast simulator tests (imported by the test modules, not collected)."""

from __future__ import annotations

import numpy as np

import scenarios
from scenarios import FIELDS, TIERS


def small_table(n: int = 4, scale: float = 0.25, province: str = "64"):
    """The first ``n`` counties of a province (default Ningxia) with staff and demand scaled by ``scale``.

    Tier columns are rounded to whole persons and field totals recomputed, so sums stay consistent.
    """
    t = scenarios.county_table([province]).head(n).copy()
    for f in FIELDS:
        for kind in ("demand", "staff"):
            for tier in TIERS:
                c = f"{kind}_{f}_{tier}"
                t[c] = np.rint(t[c] * scale).astype(int)
            t[f"{kind}_{f}"] = t[f"{kind}_{f}_county"] + t[f"{kind}_{f}_township"]
    return t.reset_index(drop=True)
