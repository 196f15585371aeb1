"""One world for the optimizer: its status quo from the simulator, and every answer checked by simulation.

* :func:`simulated_status_quo` -- the scenario simulated without any allocation (the status quo):
  expected staff and demand per county x field at the end of each year 1..T, as an
  :class:`optimizer.StatusQuo` the optimizer plans against (instead of its static first-order
  estimate, which ignores internal flows and dynamics).  Cached on disk, keyed by everything that
  changes it (scenario sha256, provinces, seed, years, replications, county table hash), written
  atomically under a file lock, so a repeated command runs it once.
* :func:`check_allocation` -- simulates the optimizer's allocation with the same seed (common
  random numbers) and compares, per field at the end of the target year, the predicted coverage
  and shortfall with the simulated mean and its spread across replications (``p05``/``p95``: the
  5th and 95th percentile over replications, not an interval of the mean).  A difference above
  ``tolerance`` (coverage, staff/demand) yields a one-line warning suggesting ``grassroots plan``.

Coverage and shortfall per field: summed staff over summed demand of the field's county x field
pairs, and the sum over pairs of ``max(0, demand - staff)`` (persons).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: largest difference (coverage, staff/demand) between predicted and simulated coverage of a field
#: before the check warns (assumption: two percentage points, the acceptance of issue 13)
CHECK_TOLERANCE = 0.02
FIELDS = ("science", "education", "engineering", "agriculture", "health")


def table_hash(table: pd.DataFrame) -> str:
    """sha256 of a county table's content (row order and columns included)."""
    h = hashlib.sha256()
    h.update(",".join(map(str, table.columns)).encode())
    h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return h.hexdigest()


def cache_key(sc, provinces, seed: int, years: int, replications: int, table: pd.DataFrame) -> dict:
    import scenarios
    return {"kind": "status_quo", "scenario_sha256": scenarios.sha256(sc),
            "provinces": sorted(provinces) if provinces else None, "seed": int(seed), "years": int(years),
            "replications": int(replications), "county_table_sha256": table_hash(table)}


def _simulate(sc, table, years, replications, seed, workers, allocation=None):
    import simulator
    res = simulator.simulate(sc, years=years, replications=replications, seed=seed, workers=workers, table=table,
                             allocation=allocation, county_metrics=("staff",), keep_records=True)
    from simulator.metrics import RAW_INDEX
    staff = np.stack([r.raw[RAW_INDEX["staff"]] for r in res.replication_records])     # [R, cells, T + 1]
    demand = np.stack([r.raw[RAW_INDEX["demand"]] for r in res.replication_records])
    return staff, demand


@dataclass
class StatusQuoRun:
    """A simulated status quo: ``staff``/``demand`` [R, cells, T + 1] per replication (cells = county x field,
    table order), and whether it came from the cache."""

    status_quo: object
    staff: np.ndarray
    demand: np.ndarray
    from_cache: bool
    key: dict


def simulated_status_quo(sc, table: pd.DataFrame, years: int, replications: int, seed: int, workers: int = 1,
                         cache_dir: str | Path | None = None, provinces=None) -> StatusQuoRun:
    """The scenario's status quo from the simulator (see the module docstring), from the cache when there."""
    import optimizer
    key = cache_key(sc, provinces, seed, years, replications, table)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"status-quo-{digest}.npz" if cache_dir else None
    staff = demand = None
    from_cache = False
    if path is not None:
        from filelock import FileLock
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            if path.exists():
                with np.load(path, allow_pickle=False) as z:
                    if json.loads(str(z["key"])) == key:
                        staff, demand, from_cache = z["staff"], z["demand"], True
            if staff is None:
                staff, demand = _simulate(sc, table, years, replications, seed, workers)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
                os.close(fd)
                try:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, staff=staff, demand=demand, key=np.array(json.dumps(key, sort_keys=True)))
                    os.replace(tmp, path)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
    else:
        staff, demand = _simulate(sc, table, years, replications, seed, workers)
    ids = table["county_id"].astype(str).to_numpy()
    n, nf = len(ids), len(FIELDS)
    mean_s, mean_d = staff.mean(axis=0)[:, 1:], demand.mean(axis=0)[:, 1:]          # [cells, T]
    long = pd.DataFrame({"county_id": np.repeat(ids, nf * years), "field": np.tile(np.repeat(FIELDS, years), n),
                         "year": np.tile(np.arange(1, years + 1), n * nf), "staff": mean_s.reshape(-1),
                         "demand": mean_d.reshape(-1)})
    src = (f"simulated status quo: {sc.name or 'scenario'}, {replications} replications, seed {seed}, {years} years"
           + (" (cached)" if from_cache else ""))
    return StatusQuoRun(optimizer.StatusQuo(long, source=src), staff, demand, from_cache, key)


STATIC_NOTE = "static first-order estimate (ignores internal flows and dynamics; --static)"
#: levers that take the effect factor of each perturbation kind of :mod:`grassroots.studies.effects`
#: (purchased posts are filled like special posts; direct hires keep the analytic effect)
KIND_LEVERS = {"special": ("special_post", "purchased_post"),
               "place": tuple(f"place_{p}" for p in ("special_post_teachers", "agri_extension_posts", "gp_special_posts",
                                                     "free_normal_students", "free_medical_students", "sanzhi_yifu",
                                                     "tuition_compensation")),
               "promotion": ("senior_post", "intermediate_post", "directed_senior_post"),
               "subsidy": ("township_subsidy", "hardship_topup")}


def _cached_table(path: Path | None, key: dict, compute) -> tuple[pd.DataFrame, bool]:
    """``compute()`` (a DataFrame) stored as JSON under ``path`` with ``key``; read back when the key matches."""
    if path is None:
        return compute(), False
    from filelock import FileLock
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():
            doc = json.loads(path.read_text())
            if doc.get("key") == key:
                return pd.DataFrame(doc["rows"]), True
        df = compute()
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json.tmp")
        os.close(fd)
        try:
            Path(tmp).write_text(json.dumps({"key": key, "rows": df.to_dict(orient="records")}))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return df, False


def simulated_effects(sc, table: pd.DataFrame, run: StatusQuoRun, years: int, replications: int, seed: int,
                      workers: int = 1, cache_dir=None) -> pd.DataFrame:
    """Effect factors ``county_id, field, lever, factor`` of the simulated status quo (cached).

    The optimizer's target-year lever effects are compared with the simulator's response to one more
    unit of each lever kind in every county x field (:func:`grassroots.studies.effects.estimate_effects`
    at the empty allocation, same seed: common random numbers; 4 simulations besides the status quo).
    """
    import optimizer

    from .effects import estimate_effects
    key = dict(run.key, kind="effect_factors")
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"effects-{digest}.json" if cache_dir else None

    def compute() -> pd.DataFrame:
        inputs = optimizer.from_scenario(sc, table=table, years=years, status_quo=run.status_quo)
        empty = pd.DataFrame(columns=["county_id", "province", "field", "lever", "quantity", "cost_yuan"])

        def staff_fn(alloc):
            st, _ = _simulate(sc, table, years, replications, seed, workers, allocation=alloc if len(alloc) else None)
            return st.mean(axis=0)[:, years]

        eff = estimate_effects(inputs, empty, staff_fn, base_staff=run.staff.mean(axis=0)[:, years])
        rows = [{"county_id": str(r.county_id), "field": str(r.field), "lever": lv, "factor": float(r.factor)}
                for r in eff.itertuples(index=False) for lv in KIND_LEVERS.get(r.kind, ())]
        return pd.DataFrame(rows, columns=["county_id", "field", "lever", "factor"])

    return _cached_table(path, key, compute)[0]


def planned_inputs(sc, table: pd.DataFrame, *, years: int, fields=None, targets=None, budget_path=None,
                   payer_budget=None, objective_year: str = "all", static: bool = False, budget_yuan=None,
                   replications: int = 10, seed: int = 0, workers: int = 1, cache_dir=None, provinces=None,
                   effects: bool = True):
    """(optimizer inputs, status-quo run or None): the plan's inputs against the simulated status quo
    (``static=False``, the default; with ``effects`` its lever effects rescaled by :func:`simulated_effects`)
    or the static estimate, year-indexed when there is a budget path."""
    import optimizer
    run = None if static else simulated_status_quo(sc, table, years, replications, seed, workers, cache_dir, provinces)
    sq = None
    if run is not None:
        sq = run.status_quo
        if effects:
            fac = simulated_effects(sc, table, run, years, replications, seed, workers, cache_dir)
            sq = optimizer.StatusQuo(sq.staff, fac, sq.source + "; lever effects rescaled by simulation")
            run.status_quo = sq
    inputs = optimizer.from_scenario(sc, table=table, budget_yuan=budget_yuan, years=years, status_quo=sq,
                                     fields=fields, targets=targets, payer_budget=payer_budget)
    if budget_path is not None:
        inputs = optimizer.expand_years(inputs, budget_path, objective_year)
    return inputs, run


def _field_stats(staff: np.ndarray, demand: np.ndarray, year: int, n: int) -> dict:
    """Per field: coverage and shortfall at ``year`` (index into the year axis) from [R, cells, T + 1] arrays."""
    s = staff[:, :, year].reshape(staff.shape[0], n, len(FIELDS))
    d = demand[:, :, year].reshape(demand.shape[0], n, len(FIELDS))
    cov = s.sum(axis=1) / np.maximum(d.sum(axis=1), 1e-12)                   # [R, F]
    short = np.maximum(0.0, d - s).sum(axis=1)                               # [R, F]
    return {f: {"coverage": float(cov[:, j].mean()), "p05": float(np.percentile(cov[:, j], 5)),
                "p95": float(np.percentile(cov[:, j], 95)), "shortfall": float(short[:, j].mean())}
            for j, f in enumerate(FIELDS)}


def predicted_by_field(outcomes: pd.DataFrame, year: int | None = None) -> dict:
    """Predicted coverage and shortfall per field from an optimizer ``outcomes`` table (at ``year``, default the last)."""
    o = outcomes
    if "year" in o.columns:
        o = o[o["year"] == (int(o["year"].max()) if year is None else year)]
    g = o.groupby("field")[["staff_after", "demand", "shortfall_after"]].sum()
    return {f: {"coverage": float(r.staff_after / r.demand) if r.demand > 0 else None, "shortfall": float(r.shortfall_after)}
            for f, r in g.iterrows()}


def check_allocation(sc, table: pd.DataFrame, result, years: int, replications: int, seed: int, workers: int = 1,
                     tolerance: float = CHECK_TOLERANCE, fields=None) -> tuple[dict, list[str]]:
    """(``validation`` of solution.json, warning lines): the allocation simulated with common random numbers.

    ``validation`` = ``{field: {"predicted": {"coverage", "shortfall"}, "simulated": {"coverage", "p05", "p95",
    "shortfall"}, "difference": simulated - predicted coverage}, "tolerance": ..., "year": T, ...}``.
    """
    from optimizer import ALLOCATION_YEAR_COLUMNS
    alloc = result.allocation[ALLOCATION_YEAR_COLUMNS]
    alloc = alloc[alloc["quantity"] > 0]
    staff, demand = _simulate(sc, table, years, replications, seed, workers, allocation=alloc)
    sim = _field_stats(staff, demand, years, len(table))
    pred = predicted_by_field(result.outcomes)
    fields = list(fields) if fields else [f for f in FIELDS if f in pred]
    out: dict = {"year": int(years), "replications": int(replications), "seed": int(seed), "tolerance": tolerance,
                 "note": "simulated p05/p95: 5th/95th percentile of the field's coverage across replications"}
    warnings = []
    for f in fields:
        if f not in pred or pred[f]["coverage"] is None:
            continue
        diff = sim[f]["coverage"] - pred[f]["coverage"]
        out[f] = {"predicted": pred[f], "simulated": sim[f], "difference": diff}
        if abs(diff) > tolerance:
            warnings.append(f"{f} {pred[f]['coverage']:.3f} predicted vs {sim[f]['coverage']:.3f} simulated")
    out["within_tolerance"] = not warnings
    if warnings:
        warnings = [f"check: coverage in year {years} differs by more than {tolerance:g} from the prediction: "
                    + ", ".join(warnings) + "; `grassroots plan` re-estimates the lever effects by simulation"]
    return out, warnings


__all__ = ["simulated_status_quo", "check_allocation", "planned_inputs", "STATIC_NOTE", "predicted_by_field", "cache_key", "table_hash", "CHECK_TOLERANCE",
           "StatusQuoRun"]
