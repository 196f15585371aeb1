"""Shapley decomposition of a policy package by lever family or by individual lever, and the sub-runs it needs.

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
scenario already run are not run again (:func:`content_key`).  :func:`decompose_levers` does the same by
individual lever (``section.key``), exactly for up to 10 levers and by antithetic permutation sampling with
standard errors and a stopping rule above that (estimators in :mod:`grassroots.studies.shapley`), with the
strongest pairwise interactions.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import shapley as estimators   # (``shapley`` below is the exact family split)

LEVER_FAMILIES = ("titles", "posts", "recruitment", "pay", "programmes", "training", "flexible", "mobility")
NOT_LEVERS = ("name", "description")
MAX_EXACT_FAMILIES = 8
DECOMPOSITION_COLUMNS = ["metric", "year", "lever", "contribution"]
#: ``simulate_many(subs)``: the summary tables of many ``(sub-scenario, label)`` at once (in parallel)
SimulateMany = Callable[[Sequence[tuple[object, str]]], Sequence[pd.DataFrame]]
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


def planned_sub_runs(base_sc, base_label: str, scenarios_: Sequence, labels: Sequence[str]) -> int:
    """How many simulations :func:`decompose` will run (coalitions not equal in content to a scenario or to
    each other), counted before running any, so that a progress bar can show the whole comparison's total."""
    import scenarios
    seen = {content_key(sc) for sc in scenarios_}
    base_doc = scenarios.to_dict(base_sc)
    n = 0
    for sc, lab in zip(scenarios_[1:], labels[1:]):
        doc = scenarios.to_dict(sc)
        fams = changed_families(base_doc, doc)
        for k in range(len(fams) + 1):
            for subset in itertools.combinations(fams, k):
                sub_doc = subset_document(base_doc, doc, subset)
                sub_doc["name"] = "+".join([base_label, *sorted(subset)]) if subset else base_label
                key = content_key(scenarios.from_dict(sub_doc, label=f"{lab} decomposition", base=base_sc))
                if key not in seen:
                    seen.add(key)
                    n += 1
    return n


def _means(summary: pd.DataFrame) -> pd.Series:
    s = summary[summary["metric"].isin(DECOMPOSED_METRICS)]
    return s.set_index(["metric", "year"])["mean"].sort_index()


def decompose(base_sc, base_label: str, scenarios_: Sequence, labels: Sequence[str], summaries: Sequence[pd.DataFrame],
              simulate: Callable[[object, str], pd.DataFrame],
              simulate_many: SimulateMany | None = None) -> tuple[pd.DataFrame, int]:
    """Shapley decomposition of every package in ``scenarios_[1:]`` against ``base_sc`` (= ``scenarios_[0]``).

    ``summaries[i]``: the national summary table already simulated for ``scenarios_[i]``;
    ``simulate(sub_scenario, what)``: simulates a coalition's sub-scenario (``what`` labels it for progress)
    and returns its summary table; ``simulate_many`` (optional, as for :func:`decompose_levers`) runs every
    coalition of a package at once.  Returns ``(table, sub_runs)``: the table has columns ``scenario`` and
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

        def sub_scenario(subset, doc=doc, lab=lab):
            sub_doc = subset_document(base_doc, doc, subset)
            sub_doc["name"] = "+".join([base_label, *sorted(subset)]) if subset else base_label
            sub = scenarios.from_dict(sub_doc, label=f"{lab} decomposition", base=base_sc)
            return sub, content_key(sub), f"{lab} [{'+'.join(sorted(subset)) or 'none'}]"

        def value(subset):
            nonlocal sub_runs
            sub, key, what = sub_scenario(subset)
            if key not in cache:
                sub_runs += 1
                cache[key] = _means(_parts(simulate(sub, what))[0])
            return cache[key]

        if simulate_many is not None:   # every coalition of the package at once
            todo: dict[str, tuple] = {}
            for k in range(len(fams) + 1):
                for subset in itertools.combinations(fams, k):
                    sub, key, what = sub_scenario(frozenset(subset))
                    if key not in cache and key not in todo:
                        todo[key] = (sub, what)
            for key, result in zip(todo, simulate_many(list(todo.values()))):
                cache[key] = _means(_parts(result)[0])
                sub_runs += 1

        table = decomposition_table(shapley(fams, value))
        table.insert(0, "scenario", lab)
        frames.append(table)
    decomposition = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["scenario", *DECOMPOSITION_COLUMNS])
    return decomposition, sub_runs


# ----------------------------------------------------------------------------- by individual lever (issue 16)
#
# A *lever* is a key two levels down, ``section.key`` (``titles.directed_senior``, ``posts.cap_uplift``,
# ``programmes.sanzhi_yifu``, ``pay.tech_transfer_income``): one scenario setting, a mapping counted as one
# lever.  Its *family* is its section (``other`` outside LEVER_FAMILIES).  A coalition of levers takes the
# package's value of those keys and the base's for the rest; shares are Shapley values estimated by
# ``shapley.exact`` (<= ``exact_max`` levers) or ``shapley.sampled`` (antithetic permutations with a stopping
# rule), every coalition simulated with the comparison's seeds (common random numbers).

LEVER_COLUMNS = ["lever", "family", "metric", "year", "share", "se"]
INTERACTION_COLUMNS = ["lever_a", "lever_b", "context", "metric", "year", "interaction", "se"]


def changed_levers(base: Mapping, package: Mapping) -> list[str]:
    """``section.key`` paths whose value differs between two resolved scenario dicts (schema order)."""
    out = []
    for sec, val in package.items():
        if sec in NOT_LEVERS:
            continue
        bval = base.get(sec)
        if isinstance(val, Mapping) and isinstance(bval, Mapping):
            out += [f"{sec}.{k}" for k in val if bval.get(k) != val[k]]
        elif bval != val:
            out.append(sec)
    return out


def lever_family(lever: str) -> str:
    """The lever family of a lever path (its section; ``other`` outside :data:`LEVER_FAMILIES`)."""
    sec = lever.split(".", 1)[0]
    return sec if sec in LEVER_FAMILIES else "other"


def lever_subset_document(base: Mapping, package: Mapping, subset: Iterable[str]) -> dict:
    """Base scenario dict with the package's value of every lever in ``subset``."""
    doc = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for lever in subset:
        sec, _, key = lever.partition(".")
        if key:
            doc[sec][key] = package[sec][key]
        else:
            doc[sec] = package[sec]
    return doc


@dataclass
class LeverOptions:
    """Settings of ``--decompose levers``: target error, budget of orders, stopping entry, interactions."""

    target_se: float = 0.1          # largest SE / largest |share| of the stopping metric in the last year
    max_pairs: int = 100            # antithetic pairs of orders at most
    stop_metric: str = "coverage"
    seed: int = 0                   # orders drawn from numpy default_rng(seed)
    exact_max: int = estimators.MAX_EXACT
    top_interactions: int = 6       # pairs among this many levers with the largest |share|


def _replication_values(replications: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per-replication national values of the decomposed metrics, ``(metric, year)`` x replication."""
    if replications is None:
        return None
    r = replications[replications["metric"].isin(DECOMPOSED_METRICS)]
    return r.set_index(["metric", "year", "replication"])["value"].unstack("replication").sort_index()


def _parts(result) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(summary, replications or None) of what a simulate callback returned: a summary table, or an object
    with ``summary`` and ``replications`` (``simulator.SimulationResult``, ``coalitions.CoalitionResult``)."""
    if isinstance(result, pd.DataFrame):
        return result, None
    return result.summary, getattr(result, "replications", None)


def decompose_levers(base_sc, base_label: str, scenarios_: Sequence, labels: Sequence[str],
                     summaries: Sequence, simulate: Callable[[object, str], object],
                     options: LeverOptions | None = None, progress: Callable[[str], None] | None = None,
                     simulate_many: SimulateMany | None = None):
    """Per-lever Shapley shares of every package in ``scenarios_[1:]`` against ``base_sc``.

    ``summaries[i]``: the summary table of ``scenarios_[i]``, or its ``SimulationResult`` (then the
    interactions get standard errors over replications); ``simulate(sub, label)``: likewise for one
    sub-scenario.  ``simulate_many(subs)`` (optional): the same for many ``(sub-scenario, label)`` at once --
    the estimators hand over every coalition of a round together (``shapley`` module docstring), so they can
    run in parallel (:class:`grassroots.studies.coalitions.CoalitionRunner`); without it, ``simulate`` runs
    them one by one.  Either way the results are the same.

    Returns ``(table, interactions, sub_runs, info)``: ``table`` has ``scenario`` + :data:`LEVER_COLUMNS`
    (and ``lever = total`` rows, ``se`` 0); ``interactions`` ``scenario`` + :data:`INTERACTION_COLUMNS`
    (``se``: standard error of the interaction over replications, which share their random numbers, i.e.
    sd of the per-replication interaction / sqrt(R); NaN without per-replication values or with R = 1);
    ``info[label]``: method, pairs, converged, levers, efficiency residual and its SE at the stopping entry.
    """
    import scenarios
    o = options or LeverOptions()
    sub_runs = 0
    cache: dict[str, pd.Series] = {}
    reps: dict[str, pd.DataFrame | None] = {}

    def keep(key, result):
        summary, replications = _parts(result)
        cache[key] = _means(summary)
        reps[key] = _replication_values(replications)

    for sc, result in zip(scenarios_, summaries):
        keep(content_key(sc), result)
    index = cache[content_key(scenarios_[0])].index
    last = max(y for _, y in index)
    if (o.stop_metric, last) not in index:
        raise ValueError(f"--decompose-metric: {o.stop_metric!r} (allowed: {', '.join(DECOMPOSED_METRICS)})")
    stop_index = index.get_loc((o.stop_metric, last))
    base_doc = scenarios.to_dict(base_sc)
    frames, inter_frames, info = [], [], {}
    for sc, lab in zip(scenarios_[1:], labels[1:]):
        doc = scenarios.to_dict(sc)
        levers = changed_levers(base_doc, doc)
        subs: dict[frozenset, tuple] = {}     # coalition -> (sub-scenario, content key, label)

        def sub_scenario(subset, doc=doc, lab=lab, levers=levers, subs=subs):
            if subset not in subs:
                sub_doc = lever_subset_document(base_doc, doc, subset)
                sub_doc["name"] = f"{base_label}+{len(subset)} levers" if subset else base_label
                sub = scenarios.from_dict(sub_doc, label=f"{lab} decomposition", base=base_sc)
                subs[subset] = (sub, content_key(sub), f"{lab} [{len(subset)}/{len(levers)} levers]")
            return subs[subset]

        def value(subset):
            nonlocal sub_runs
            sub, key, what = sub_scenario(subset)
            if key not in cache:
                sub_runs += 1
                keep(key, simulate(sub, what))
            return cache[key].reindex(index).to_numpy(dtype=float)

        def interaction_se(i, j, s):
            """SE over replications of v(S+i+j) - v(S+i) - v(S+j) + v(S) (NaN when unknown)."""
            mats = [reps.get(sub_scenario(c)[1]) for c in (s | {i, j}, s | {i}, s | {j}, s)]
            if any(m is None for m in mats) or mats[0].shape[1] < 2:
                return np.full(len(index), np.nan)
            x = [m.reindex(index).to_numpy(dtype=float) for m in mats]
            d = x[0] - x[1] - x[2] + x[3]
            return np.std(d, axis=1, ddof=1) / math.sqrt(d.shape[1])

        def prefetch(coalitions, lab=lab):
            nonlocal sub_runs
            todo: dict[str, tuple] = {}
            for c in coalitions:
                sub, key, what = sub_scenario(c)
                if key not in cache and key not in todo:
                    todo[key] = (sub, what)
            if not todo:
                return
            if progress:
                progress(f"{lab}: {len(todo)} coalitions at once (finished ones read from the checkpoints)")
            for key, result in zip(todo, simulate_many(list(todo.values()))):
                keep(key, result)
                sub_runs += 1

        pre = prefetch if simulate_many is not None else None
        if len(levers) <= o.exact_max:
            res = estimators.exact(levers, value, prefetch=pre)
        else:
            res = estimators.sampled(levers, value, stop_index=stop_index, target_se=o.target_se, seed=o.seed,
                                     max_pairs=o.max_pairs, prefetch=pre,
                                     progress=(lambda n, r, lab=lab: progress(f"{lab}: {n} pairs of orders, "
                                                                              f"relative SE {r:.3f}")) if progress else None)
        resid, resid_se = estimators.efficiency(res)
        info[lab] = {"method": res.method, "levers": len(levers), "pairs": res.pairs, "converged": res.converged,
                     "target_se": o.target_se, "stop": f"{o.stop_metric} {last}",
                     "relative_se": res.history[-1][1] if res.history else 0.0,
                     "efficiency_residual": float(resid[stop_index]), "efficiency_se": float(resid_se[stop_index])}
        rows = [pd.DataFrame({"lever": lv, "family": lever_family(lv), "metric": index.get_level_values(0),
                              "year": index.get_level_values(1), "share": res.phi[lv], "se": res.se[lv]})
                for lv in levers]
        rows.append(pd.DataFrame({"lever": "total", "family": "total", "metric": index.get_level_values(0),
                                  "year": index.get_level_values(1), "share": res.total, "se": 0.0}))
        table = pd.concat(rows, ignore_index=True)[LEVER_COLUMNS]
        table.insert(0, "scenario", lab)
        frames.append(table)
        top = sorted(levers, key=lambda lv: -abs(res.phi[lv][stop_index]))[:o.top_interactions]
        inter = estimators.interactions(list(itertools.combinations(top, 2)), levers, value, prefetch=pre)
        if inter:
            everyone = frozenset(levers)
            it = pd.concat([pd.DataFrame({"lever_a": a, "lever_b": b, "context": ctx,
                                          "metric": index.get_level_values(0), "year": index.get_level_values(1),
                                          "interaction": x,
                                          "se": interaction_se(a, b, frozenset() if ctx == "alone"
                                                               else everyone - {a, b})})
                            for (a, b, ctx), x in inter.items()], ignore_index=True)
            it.insert(0, "scenario", lab)
            inter_frames.append(it)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["scenario", *LEVER_COLUMNS])
    inter = (pd.concat(inter_frames, ignore_index=True) if inter_frames
             else pd.DataFrame(columns=["scenario", *INTERACTION_COLUMNS]))
    return table, inter, sub_runs, info


def strongest_interactions(interactions: pd.DataFrame, metric: str = "coverage", n: int = 5) -> pd.DataFrame:
    """The ``n`` pairs with the largest |interaction| for ``metric`` in the last year (for the report)."""
    if interactions is None or interactions.empty:
        return pd.DataFrame(columns=["scenario", *INTERACTION_COLUMNS])
    d = interactions[interactions["metric"] == metric]
    d = d[d["year"] == d["year"].max()]
    return d.reindex(d["interaction"].abs().sort_values(ascending=False).index).head(n).reset_index(drop=True)
