"""Paired scenario comparison and Shapley decomposition of a policy package by lever family.

Both work on tidy tables, not on models.

**Paired differences.**  Scenarios are simulated with the same replication seeds
(common random numbers), so replication *r* of scenario A and replication *r* of
the base share every random draw that the policy does not change.  The difference
is therefore taken replication by replication, and its mean comes with a 90%
confidence interval from Student's t over replications::

    d_r = value(OTHER, r) - value(BASE, r)
    mean_diff = mean(d_r);  p05, p95 = mean_diff -/+ t(0.95, R-1) * sd(d_r) / sqrt(R)

A scenario compared with itself has d_r = 0 for every r, so every column is 0
exactly.  With a single replication the interval is undefined and reported as
the point difference (p05 = p95 = mean_diff), flagged in the report.

**Shapley decomposition.**  A package differs from its base in some lever
families (``titles``, ``posts``, ``recruitment``, ``pay``, ``programmes``,
``training``, ``flexible``; differences elsewhere form ``other``).  For every
subset S of those families a sub-scenario takes the package's sections for S
and the base's for the rest; ``v(S)`` is its simulated metric.  The Shapley
value of family i is

    phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))

exact for up to 8 families (256 sub-runs, each cached by the sub-scenario's
sha256).  The values add up to v(all) - v(none) (efficiency), and a family whose
change leaves every result unchanged gets exactly zero.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

LEVER_FAMILIES = ("titles", "posts", "recruitment", "pay", "programmes", "training", "flexible")
NOT_LEVERS = ("name", "description")
MAX_EXACT_FAMILIES = 8
COMPARISON_COLUMNS = ["metric", "year", "scenario", "base", "mean_diff", "p05", "p95"]
DECOMPOSITION_COLUMNS = ["metric", "year", "lever", "contribution"]


def paired_differences(replications: pd.DataFrame, base: str, level: float = 0.90) -> pd.DataFrame:
    """Paired differences of every scenario from ``base``.

    ``replications`` has columns ``scenario, replication, year, metric, value``.
    Returns ``metric, year, scenario, base, mean_diff, p05, p95`` (``base`` is the
    base scenario's mean) for every scenario other than ``base`` -- and for the base
    itself if it appears twice under another name.
    """
    need = {"scenario", "replication", "year", "metric", "value"}
    missing = need - set(replications.columns)
    if missing:
        raise ValueError(f"replications table lacks columns {sorted(missing)}")
    if base not in set(replications["scenario"]):
        raise ValueError(f"base scenario {base!r} not in the replications table")
    wide = replications.pivot_table(index=["metric", "year", "replication"], columns="scenario",
                                    values="value", aggfunc="first")
    base_vals = wide[base]
    out = []
    for sc in [s for s in wide.columns if s != base]:
        d = (wide[sc] - base_vals).rename("d").reset_index()
        b = base_vals.rename("b").reset_index()
        d["b"] = b["b"].to_numpy()
        g = d.groupby(["metric", "year"], sort=True)
        n = g["d"].count()
        mean = g["d"].mean()
        sd = g["d"].std(ddof=1).fillna(0.0)
        tq = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        half = np.where(n > 1, tq * sd / np.sqrt(n), 0.0)
        res = pd.DataFrame({"base": g["b"].mean(), "mean_diff": mean,
                            "p05": mean - half, "p95": mean + half}).reset_index()
        res["scenario"] = sc
        out.append(res)
    if not out:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return pd.concat(out, ignore_index=True)[COMPARISON_COLUMNS]


# ----------------------------------------------------------------------------- decomposition

def changed_families(base: Mapping, package: Mapping) -> list[str]:
    """Lever families whose section differs between two resolved scenario dicts (``other`` for the rest)."""
    fams = [f for f in LEVER_FAMILIES if base.get(f) != package.get(f)]
    rest = [k for k in package if k not in LEVER_FAMILIES and k not in NOT_LEVERS and base.get(k) != package.get(k)]
    if rest:
        fams.append("other")
    return fams


def subset_document(base: Mapping, package: Mapping, subset: Iterable[str]) -> dict:
    """Base scenario dict with the package's sections for the families in ``subset``."""
    doc = {k: v for k, v in base.items()}
    subset = set(subset)
    for k in package:
        if k in NOT_LEVERS:
            continue
        fam = k if k in LEVER_FAMILIES else "other"
        if fam in subset:
            doc[k] = package[k]
    return doc


def shapley_weights(n: int) -> dict[int, float]:
    """Weight |S|!(n-|S|-1)!/n! of a coalition of size s."""
    return {s: math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)}


def shapley(families: Sequence[str], value: Callable[[frozenset], pd.Series]) -> pd.DataFrame:
    """Exact Shapley values; ``value(subset)`` returns a Series indexed like every other call.

    Returns a DataFrame with one column per family plus ``total`` = v(all) - v(none).
    Each coalition is evaluated once.
    """
    n = len(families)
    if n > MAX_EXACT_FAMILIES:
        raise ValueError(f"{n} lever families: exact Shapley values are limited to {MAX_EXACT_FAMILIES}")
    cache: dict[frozenset, pd.Series] = {}

    def v(s: frozenset) -> pd.Series:
        if s not in cache:
            cache[s] = value(s)
        return cache[s]

    empty = v(frozenset())
    if n == 0:
        return pd.DataFrame({"total": empty * 0.0})
    w = shapley_weights(n)
    phi = {}
    for i in families:
        others = [f for f in families if f != i]
        acc = empty * 0.0
        for k in range(len(others) + 1):
            for combo in itertools.combinations(others, k):
                s = frozenset(combo)
                acc = acc + w[k] * (v(s | {i}) - v(s))
        phi[i] = acc
    out = pd.DataFrame(phi)
    out["total"] = v(frozenset(families)) - empty
    return out


def decomposition_table(phi: pd.DataFrame) -> pd.DataFrame:
    """Long ``metric, year, lever, contribution`` table from :func:`shapley` output indexed by (metric, year)."""
    long = phi.stack().rename("contribution").reset_index()
    long.columns = ["metric", "year", "lever", "contribution"]
    return long[DECOMPOSITION_COLUMNS]
