"""Small county tables for fast simulator tests (imported by the test modules, not collected)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulator
from scenarios import FIELDS, TIERS


def small_table(n: int = 4, scale: float = 0.25, province: str = "64"):
    """The first ``n`` counties of a province (default Ningxia) with staff and demand scaled by ``scale``.

    Tier columns are rounded to whole persons and field totals recomputed, so sums stay consistent.
    """
    return scaled(scenarios.county_table([province]).head(n), scale)


def scaled(table, scale: float):
    """``table`` (any county rows) with staff and demand scaled by ``scale``, tiers rounded to whole persons
    and field totals recomputed."""
    t = table.copy()
    for f in FIELDS:
        for kind in ("demand", "staff"):
            for tier in TIERS:
                c = f"{kind}_{f}_{tier}"
                t[c] = np.rint(t[c] * scale).astype(int)
            t[f"{kind}_{f}"] = t[f"{kind}_{f}_county"] + t[f"{kind}_{f}_township"]
    return t.reset_index(drop=True)


# ---------------------------------------------------------------- paired runs on a real province

PROVINCE = "64"  # Ningxia: 22 county-level units, about 33,000 professionals


@pytest.fixture(scope="module")
def table():
    """The real county table of :data:`PROVINCE` (a test module imports this fixture by name)."""
    return scenarios.county_table([PROVINCE])


@pytest.fixture(scope="module")
def baseline():
    """The bundled ``baseline`` scenario (a test module imports this fixture by name)."""
    return scenarios.load("baseline")


def summary_series(res, metric: str) -> pd.Series:
    """Mean over replications of one summary ``metric``, by year."""
    return res.summary[res.summary.metric == metric].set_index("year")["mean"]


def voluntary_exits(res) -> pd.Series:
    """Exits other than retirement (persons per year), by year."""
    return summary_series(res, "exits") - summary_series(res, "exits_retirement")


def paired(*scenarios_, **kw):
    """One simulation per scenario with the same ``kw`` (seed, years, table, ...): common random numbers, so a
    difference between the results is the levers' and not the draws'."""
    return tuple(simulator.simulate(sc, **kw) for sc in scenarios_)
