"""Shapley decomposition of a policy package by lever family, and the sub-runs it needs.

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

:func:`decompose` runs it for packages already simulated in a comparison: coalitions equal in content to a
scenario already run are not run again (:func:`content_key`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

LEVER_FAMILIES = ("titles", "posts", "recruitment", "pay", "programmes", "training", "flexible", "mobility")
NOT_LEVERS = ("name", "description")
MAX_EXACT_FAMILIES = 8
DECOMPOSITION_COLUMNS = ["metric", "year", "lever", "contribution"]
DECOMPOSED_METRICS = ("coverage", "staff", "vacancies", "turnover_rate", "exits", "senior_share", "mean_skill",
                      "cost_yuan", "coverage_gini", "share_counties_below_80pct")


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


# ----------------------------------------------------------------------------- running it

def too_many_families(base_sc, others: Sequence, labels: Sequence[str], base_label: str) -> list[str]:
    """One line per package that differs from the base in more lever families than an exact decomposition allows."""
    import scenarios
    base_doc = scenarios.to_dict(base_sc)
    return [f"{lab}: {len(changed_families(base_doc, scenarios.to_dict(sc)))} lever families differ from "
            f"{base_label} (allowed: at most {MAX_EXACT_FAMILIES} for an exact decomposition)"
            for sc, lab in zip(others, labels)
            if len(changed_families(base_doc, scenarios.to_dict(sc))) > MAX_EXACT_FAMILIES]


def content_key(sc) -> str:
    """Digest of a scenario's parameters without its name and description (equal content, equal results)."""
    import scenarios
    doc = scenarios.to_dict(sc)
    doc.pop("name", None)
    doc.pop("description", None)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _means(summary: pd.DataFrame) -> pd.Series:
    s = summary[summary["metric"].isin(DECOMPOSED_METRICS)]
    return s.set_index(["metric", "year"])["mean"].sort_index()


def decompose(base_sc, base_label: str, scenarios_: Sequence, labels: Sequence[str], summaries: Sequence[pd.DataFrame],
              simulate: Callable[[object, str], pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """Shapley decomposition of every package in ``scenarios_[1:]`` against ``base_sc`` (= ``scenarios_[0]``).

    ``summaries[i]``: the national summary table already simulated for ``scenarios_[i]``;
    ``simulate(sub_scenario, what)``: simulates a coalition's sub-scenario (``what`` labels it for progress)
    and returns its summary table.  Returns ``(table, sub_runs)``: the table has columns ``scenario`` and
    :data:`DECOMPOSITION_COLUMNS` (``lever = total`` included); ``sub_runs`` counts the simulations run.
    """
    import scenarios
    sub_runs = 0
    frames = []
    cache: dict[str, pd.Series] = {}
    for sc, summary in zip(scenarios_, summaries):  # coalitions equal to a scenario already run are not re-run
        cache[content_key(sc)] = _means(summary)
    base_doc = scenarios.to_dict(base_sc)
    for sc, lab in zip(scenarios_[1:], labels[1:]):
        doc = scenarios.to_dict(sc)
        fams = changed_families(base_doc, doc)

        def value(subset, doc=doc, fams=fams, lab=lab):
            nonlocal sub_runs
            sub_doc = subset_document(base_doc, doc, subset)
            sub_doc["name"] = "+".join([base_label, *sorted(subset)]) if subset else base_label
            sub = scenarios.from_dict(sub_doc, label=f"{lab} decomposition", base=base_sc)
            key = content_key(sub)
            if key not in cache:
                sub_runs += 1
                cache[key] = _means(simulate(sub, f"{lab} [{'+'.join(sorted(subset)) or 'none'}]"))
            return cache[key]

        table = decomposition_table(shapley(fams, value))
        table.insert(0, "scenario", lab)
        frames.append(table)
    decomposition = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["scenario", *DECOMPOSITION_COLUMNS])
    return decomposition, sub_runs
