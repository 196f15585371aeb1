"""Paired scenario comparison with common random numbers (``grassroots compare``).

:func:`paired_differences` works on tidy tables, not on models.

**Paired differences.**  Scenarios are simulated with the same replication seeds
(common random numbers), so replication *r* of scenario A and replication *r* of
the base share every random draw that the policy does not change.  The difference
is therefore taken replication by replication, and its mean comes with a 90%
confidence interval from Student's t over replications::

    d_r = value(OTHER, r) - value(BASE, r)
    mean_diff = mean(d_r);  ci_low, ci_high = mean_diff -/+ t(0.95, R-1) * sd(d_r) / sqrt(R)

(``ci_low``/``ci_high``: an interval of the *mean*, unlike ``summary.csv``'s ``p05``/``p95``, the spread of
the values across replications.)

A scenario compared with itself has d_r = 0 for every r, so every column is 0
exactly.  With a single replication the interval is undefined and reported as
the point difference (ci_low = ci_high = mean_diff), flagged in the report.

:func:`compare` runs a whole comparison from Python: every scenario simulated with the same seeds, the
stacked tables, the paired differences and (optionally) the Shapley decomposition
(:mod:`grassroots.studies.decomposition`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .coalitions import CoalitionRunner
from .decomposition import LeverOptions, decompose_levers
from .decomposition import decompose as _decompose

COMPARISON_COLUMNS = ["metric", "year", "scenario", "base", "mean_diff", "ci_low", "ci_high"]

#: ``progress(what)`` is called as each simulation starts (``what``: its label) and returns that
#: simulation's ``progress(done, total)`` callback (replications done of total), or None
ProgressFactory = Callable[[str], "Callable[[int, int], None] | None"]


def paired_differences(replications: pd.DataFrame, base: str, level: float = 0.90) -> pd.DataFrame:
    """Paired differences of every scenario from ``base``.

    ``replications`` has columns ``scenario, replication, year, metric, value``.
    Returns ``metric, year, scenario, base, mean_diff, ci_low, ci_high`` (``base`` is the
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
                            "ci_low": mean - half, "ci_high": mean + half}).reset_index()
        res["scenario"] = sc
        out.append(res)
    if not out:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return pd.concat(out, ignore_index=True)[COMPARISON_COLUMNS]


# ----------------------------------------------------------------------------- running a comparison

def unique_names(names: Sequence[str]) -> list[str]:
    """Scenario labels, made unique ('x', 'x#2', ...) when a scenario is given twice."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def load_scenarios(refs: Sequence[str]) -> list:
    """Every scenario by file or bundled name; one ScenarioError listing the problems of all of them."""
    import scenarios
    loaded, problems = [], []
    for ref in refs:
        try:
            loaded.append(scenarios.load(ref))
        except scenarios.ScenarioError as e:
            problems += e.problems
    if problems:
        raise scenarios.ScenarioError(problems)
    return loaded


def _relabel(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df = df.copy()
    df["scenario"] = label
    return df


@dataclass
class Comparison:
    """What :func:`compare` returns; every table has a ``scenario`` column holding the labels."""

    labels: list[str]
    results: list                      # simulator.SimulationResult per scenario, in order
    summary: pd.DataFrame
    provinces: pd.DataFrame
    counties: pd.DataFrame
    replications: pd.DataFrame
    comparison: pd.DataFrame           # COMPARISON_COLUMNS: paired differences from the first scenario
    decomposition: pd.DataFrame | None = None   # ``scenario`` + DECOMPOSITION_COLUMNS (families) or LEVER_COLUMNS (levers)
    sub_runs: int = 0                  # simulations the decomposition ran beyond the scenarios themselves
    interactions: pd.DataFrame | None = None    # ``decompose="levers"``: ``scenario`` + INTERACTION_COLUMNS
    decomposition_info: dict | None = None      # ``decompose="levers"``: method, pairs, efficiency per package


def compare(scenarios_: Sequence, labels: Sequence[str] | None = None, *, provinces: Sequence[str] | None = None,
            years: int | None = None, replications: int = 10, seed: int = 20160701, workers: int = 1,
            table: pd.DataFrame | None = None, cache_root: Path | None = None, decompose: bool | str = False,
            progress: ProgressFactory | None = None, lever_options: LeverOptions | None = None,
            note: Callable[[str], None] | None = None) -> Comparison:
    """Simulate ``scenarios_`` (the first is the base) with common random numbers and compare them.

    ``labels``: display names (default: :func:`unique_names` of the scenario names); ``years``: default
    the base's horizon; ``table``: a county table instead of the bundled one; ``cache_root``: folder for
    replication checkpoints (one sub-folder per scenario sha256), so an interrupted comparison resumes;
    ``decompose``: also the Shapley decomposition of each package: ``True`` or ``"families"`` by lever family
    (check :func:`grassroots.studies.decomposition.too_many_families` first), ``"levers"`` by individual lever
    (:func:`grassroots.studies.decomposition.decompose_levers` with ``lever_options``; ``note(text)`` receives
    its progress lines).
    """
    import scenarios
    import simulator

    labels = list(labels) if labels is not None else unique_names([sc.name for sc in scenarios_])
    base_sc, base_label = scenarios_[0], labels[0]
    years = years if years is not None else base_sc.horizon.years
    provinces = list(provinces) if provinces else None

    def run_one(sc, what: str):
        return simulator.simulate(sc, provinces=provinces, years=years, replications=replications,
                                  seed=seed, workers=workers, progress=progress(what) if progress else None,
                                  table=table,
                                  checkpoint=cache_root / scenarios.sha256(sc)[:16] if cache_root is not None else None)

    results = [run_one(sc, lab) for sc, lab in zip(scenarios_, labels)]
    reps = pd.concat([_relabel(r.replications, lab) for r, lab in zip(results, labels)], ignore_index=True)
    out = Comparison(
        labels=labels, results=results,
        summary=pd.concat([_relabel(r.summary, lab) for r, lab in zip(results, labels)], ignore_index=True),
        provinces=pd.concat([_relabel(r.provinces, lab) for r, lab in zip(results, labels)], ignore_index=True),
        counties=pd.concat([_relabel(r.counties, lab) for r, lab in zip(results, labels)], ignore_index=True),
        replications=reps, comparison=paired_differences(reps, base_label))
    if not decompose:
        return out

    def coalition_done(what: str, reps: int) -> None:   # a finished coalition draws on the progress bar
        cb = progress(what) if progress else None
        if cb is not None:
            cb(reps, reps)

    # every coalition of a round at once, on the executor (national results only; see .coalitions)
    many = CoalitionRunner(provinces=provinces, years=years, replications=replications, seed=seed,
                           workers=workers, table=table, done=coalition_done,
                           cache=cache_root / "coalitions" if cache_root is not None else None)
    if decompose == "levers":
        opts = lever_options or LeverOptions(seed=seed)
        out.decomposition, out.interactions, out.sub_runs, out.decomposition_info = decompose_levers(
            base_sc, base_label, scenarios_, labels, results,
            lambda sub, what: many([(sub, what)])[0], opts, progress=note, simulate_many=many)
    else:
        out.decomposition, out.sub_runs = _decompose(base_sc, base_label, scenarios_, labels,
                                                     [r.summary for r in results],
                                                     lambda sub, what: many([(sub, what)])[0], simulate_many=many)
    return out
