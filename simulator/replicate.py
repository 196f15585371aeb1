"""Replications: seeds, worker processes, and the tidy summary tables.

``simulate(scenario, ...)`` runs R replications of one scenario and returns a
:class:`SimulationResult`.  Replication *r* uses the seed
``replication_seeds(seed, R)[r]`` (the first 64-bit word of the r-th child of
``SeedSequence(seed).spawn(R)``); ``run_replication(scenario, table, seed,
years)`` is the picklable unit of work, a pure function of its arguments, so
serial and parallel runs (``workers > 1``, a ``ProcessPoolExecutor`` with the
"spawn" context, never set globally) give identical results, and two
scenarios run with one master seed share random numbers (see ``rng``).

Summaries: the mean and the 5th and 95th percentiles over replications
(``numpy.quantile``, linear interpolation) of each metric, computed per
replication first (national and provincial ratios from national/provincial
sums, never averaged over counties).
"""

from __future__ import annotations

import atexit
import contextlib
import concurrent.futures as cf
import hashlib
import io
import json
import multiprocessing
import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import AREA, CELL_METRIC_NAMES, RAW_INDEX, RAW_NAMES, area_metrics, derive, derive_metric
from .model import ModelOptions, TalentModel
from .params import FIELDS, NF, REGIONS, Params, as_params
from .population import Geography, geography_from_table
from .rng import replication_seeds

SUMMARY_COLUMNS = ["scenario", "year", "metric", "mean", "p05", "p95"]
COUNTY_COLUMNS = ["scenario", "county_id", "province", "field", "year", "metric", "mean", "p05", "p95"]
PROVINCE_COLUMNS = ["scenario", "province", "year", "metric", "mean", "p05", "p95"]
REPLICATION_COLUMNS = ["scenario", "replication", "year", "metric", "value"]
FLOW_COLUMNS = ["scenario", "year", "field", "origin_tier", "origin_county", "province", "destination",
                "destination_county", "persons", "p05", "p95"]
AREA_NAMES = tuple(m.name for m in AREA)


@dataclass
class Replication:
    """One replication's record: ``raw[len(RAW), cells, years + 1]`` (cells = county x field, table order)
    and ``flows`` (int64 rows t, origin unit, destination code, destination county or -1, persons:
    ``TalentModel.flow_record``)."""

    seed: int
    raw: np.ndarray
    raw_names: tuple[str, ...] = RAW_NAMES
    flows: np.ndarray | None = None


@dataclass
class SimulationResult:
    """What ``simulate`` returns; the tables follow DESIGN.md's file formats."""

    scenario: str
    scenario_sha256: str
    seed: int
    seeds: list[int]
    years: list[int]
    province_codes: list[str]
    summary: pd.DataFrame
    counties: pd.DataFrame
    provinces: pd.DataFrame
    replications: pd.DataFrame
    flows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FLOW_COLUMNS))
    replication_records: list[Replication] = field(default_factory=list, repr=False)
    reused_replications: int = 0

    def value(self, metric: str, year: int | None = None, stat: str = "mean") -> float | pd.Series:
        """National ``stat`` of ``metric`` in ``year`` (or a Series over years)."""
        rows = self.summary[self.summary["metric"] == metric].set_index("year")[stat]
        if rows.empty:
            raise KeyError(f"no metric {metric!r}")
        return float(rows.loc[year]) if year is not None else rows


# ----------------------------------------------------------------------------- inputs

@lru_cache(maxsize=1)
def _national_table():
    import scenarios
    return scenarios.county_table()


def national_township_demand(table: pd.DataFrame | None) -> np.ndarray:
    """Township demand per [region, hardship class 0-6, field] of the nation, the denominators of programme places.

    From the bundled national table when ``table`` is ``None`` or all of its
    ``county_id`` values are in it; otherwise ``table`` is treated as the nation.
    """
    nat = _national_table()
    if table is not None and not set(table["county_id"].astype(str)).issubset(set(nat["county_id"].astype(str))):
        nat = table
    out = np.zeros((len(REGIONS), 7, NF))
    for r, region in enumerate(REGIONS):
        for k in range(7):
            sub = nat[(nat["region"] == region) & (nat["hardship_class"] == k)]
            for f, name in enumerate(FIELDS):
                out[r, k, f] = float(sub[f"demand_{name}_township"].sum())
    return out


def resolve_table(p_or_sc, provinces=None, table=None) -> pd.DataFrame:
    """The county table to simulate: ``table`` or the bundled one, restricted to provinces/counties."""
    import scenarios
    sc_provinces, sc_counties = (), ()
    if not isinstance(p_or_sc, (Params, dict)):
        sc_provinces, sc_counties = tuple(p_or_sc.region.provinces), tuple(p_or_sc.region.counties)
    if provinces is None and sc_provinces:
        provinces = list(sc_provinces)
    if table is None:
        t = scenarios.county_table(provinces=list(provinces) if provinces else None)
    else:
        t = table
        if provinces:
            t = t[t["province"].astype(str).isin([str(x) for x in provinces])]
    if sc_counties:
        t = t[t["county_id"].astype(str).isin(sc_counties)]
    if len(t) == 0:
        raise ValueError(f"no counties to simulate (provinces {provinces!r})")
    return t.reset_index(drop=True)


# ----------------------------------------------------------------------------- one replication

def run_replication(scenario, table, seed: int, years: int | None = None, *,
                    programme_base_rf: np.ndarray | None = None,
                    options: ModelOptions | None = None, allocation=None) -> Replication:
    """Run one replication; ``scenario`` is a Scenario, a compiled ``Params`` or a ``to_dict`` dict.

    ``table`` is a county table (DataFrame) or a ``Geography``.  Picklable
    arguments in, picklable result out: this is what worker processes run.
    """
    geo = table if isinstance(table, Geography) else geography_from_table(table)
    model = TalentModel(as_params(scenario), geography=geo, seed=int(seed), years=years,
                        programme_base_rf=programme_base_rf, options=options, allocation=allocation)
    try:
        raw = model.run()
        return Replication(seed=int(seed), raw=raw, flows=model.flow_record())
    finally:
        release_model(model)


def release_model(model) -> None:
    """Let a finished model be freed: Mesa 3's ``Agent._ids`` (a class-level dict of unique-id counters keyed
    by model) otherwise keeps every model, with its agents and arrays, alive for the life of the process --
    about 14 MB per Gansu replication, which filled a kept worker process's memory after a few hundred
    coalitions of a decomposition."""
    import mesa
    mesa.Agent._ids.pop(model, None)


class ReplicationCache:
    """Finished replications on disk, so an interrupted run resumes without recomputing them.

    One ``<seed>.npz`` per replication (written to a temporary name and
    renamed) in ``folder``; ``key.json`` records everything that determines
    the results (scenario digest, years, county inputs, options, metric list).
    A folder holding another key is never emptied (another run may be using
    it): this cache then keeps its files in the sub-folder ``k-<digest of key>``.
    """

    def __init__(self, folder: str | Path, key: dict):
        self.folder = Path(folder)
        self.key = json.loads(json.dumps(key, sort_keys=True))
        self.reused = 0

    def open(self) -> "ReplicationCache":
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "key.json"
        try:
            stored = json.loads(meta.read_text("utf-8")) if meta.exists() else None
        except (OSError, ValueError):
            stored = None
        if stored is None:
            _atomic_write(meta, json.dumps(self.key, sort_keys=True, indent=1).encode())
        elif stored != self.key:
            digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:16]
            self.folder = self.folder / f"k-{digest}"
            return self.open()
        return self

    def get(self, seed: int) -> Replication | None:
        path = self.folder / f"{int(seed)}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                raw = z["raw"]
                names = tuple(str(x) for x in z["names"])
                flows = z["flows"]
        except (OSError, ValueError, KeyError):
            return None
        if names != RAW_NAMES:
            return None
        self.reused += 1
        return Replication(seed=int(seed), raw=raw, flows=flows)

    def put(self, rep: Replication) -> None:
        buf = io.BytesIO()
        flows = rep.flows if rep.flows is not None else np.zeros((0, 5), dtype=np.int64)
        np.savez(buf, raw=rep.raw, names=np.array(RAW_NAMES), flows=flows)
        _atomic_write(self.folder / f"{rep.seed}.npz", buf.getvalue())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def cache_key(params: Params, geo: Geography, years: int, base_rf: np.ndarray, options, allocation=None) -> dict:
    """Everything that determines a replication's record, given its seed."""
    h = hashlib.sha256()
    for arr in (geo.county_id.astype(str), geo.region, geo.hardship, geo.remoteness, geo.demand, geo.staff0,
                geo.senior_share, geo.inter_share, geo.mean_age, np.asarray(base_rf, dtype=float)):
        h.update(np.ascontiguousarray(arr).tobytes())
        h.update(b"|")
    return {"scenario_sha256": params.sha256, "exit_intercept": params.exit_intercept.tolist(), "years": int(years),
            "inputs_sha256": h.hexdigest(), "options": repr(options or ModelOptions()),
            "metrics_sha256": hashlib.sha256("|".join(RAW_NAMES).encode()).hexdigest(),
            **({} if allocation is None or allocation.is_empty() else {"allocation_sha256": allocation.digest()})}


_EXECUTOR: list = []   # the executor of ``using_executor`` (innermost last); empty = local (``workers``)


def current_executor():
    """The executor of the innermost :func:`using_executor` block, or None (local runs)."""
    return _EXECUTOR[-1] if _EXECUTOR else None


@contextlib.contextmanager
def using_executor(executor):
    """Run the replications of every :func:`simulate` call inside the block on ``executor``.

    ``executor``: anything with ``iter_completed(fn, items)`` yielding ``(index, fn(items[index]))`` as they
    finish -- e.g. ``grassroots.studies.executors.DaskExecutor`` on a ``dask.distributed`` cluster (the
    command line's ``--scheduler``).  ``None`` changes nothing.  Every replication is a pure function of its
    seed, so results are identical to local runs; ``workers`` is then ignored.
    """
    if executor is None:
        yield
        return
    _EXECUTOR.append(executor)
    try:
        yield
    finally:
        _EXECUTOR.remove(executor)


def _replication_item(item) -> Replication:
    """One replication from a picklable tuple (what an executor's workers receive)."""
    params, geo, seed, years, base_rf, options, allocation = item
    return run_replication(params, geo, seed, years, programme_base_rf=base_rf, options=options, allocation=allocation)


def _run_many(params: Params, geo: Geography, seeds: list[int], years: int, base_rf, options, workers: int,
              progress=None, cache: ReplicationCache | None = None, allocation=None) -> list[Replication]:
    results: dict[int, Replication] = {}
    if cache is not None:
        for i, s in enumerate(seeds):
            rep = cache.get(s)
            if rep is not None:
                results[i] = rep
    todo = [i for i in range(len(seeds)) if i not in results]
    total = len(seeds)

    def finished(i, rep):
        results[i] = rep
        if cache is not None:
            cache.put(rep)
        if progress:
            progress(len(results), total)

    if progress and results:
        progress(len(results), total)
    if _EXECUTOR and todo:
        items = [(params, geo, seeds[i], years, base_rf, options, allocation) for i in todo]
        for k, rep in _EXECUTOR[-1].iter_completed(_replication_item, items):
            finished(todo[k], rep)
    elif workers <= 1 or len(todo) <= 1:
        for i in todo:
            finished(i, run_replication(params, geo, seeds[i], years, programme_base_rf=base_rf, options=options,
                                        allocation=allocation))
    else:
        pool = worker_pool(workers)
        try:
            futures = {pool.submit(run_replication, params, geo, seeds[i], years, programme_base_rf=base_rf,
                                   options=options, allocation=allocation): i for i in todo}
            for fut in cf.as_completed(futures):
                finished(futures[fut], fut.result())
        except BaseException as e:
            # interrupted or a worker failed: never leave work running behind
            close_worker_pool(terminate=not isinstance(e, Exception))
            raise
    return [results[i] for i in range(total)]


_POOL: dict[int, cf.ProcessPoolExecutor] = {}


def worker_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, kept alive for the next call with the same size.

    Starting a worker costs about 1.5 s (importing numpy, pandas, Mesa and numba and
    loading the compiled kernels), several times a small run's work; the
    simulate-then-optimize loop calls :func:`simulate` dozens of times.  Results do
    not depend on the pool: every replication is a pure function of its seed.
    """
    pool = _POOL.get(workers)
    if pool is not None and getattr(pool, "_broken", False):
        close_worker_pool()
        pool = None
    if pool is None:
        close_worker_pool()
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_ignore_sigint)
        _POOL[workers] = pool
    return pool


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the main process's to handle (it stops the workers), not theirs."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def close_worker_pool(terminate: bool = False) -> None:
    """Shut down the kept worker pool (cancelling queued work); the next parallel call starts a new one.

    ``terminate=True`` (on an interruption) stops the workers at once instead of letting
    the replications they are running finish.
    """
    for pool in _POOL.values():
        if terminate:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    _POOL.clear()


atexit.register(close_worker_pool)   # before interpreter teardown, which a live pool would outlast noisily


# ----------------------------------------------------------------------------- summaries

def nan_quantiles(values: np.ndarray, qs=(0.05, 0.95)) -> list[np.ndarray]:
    """Quantiles over the first axis ignoring NaN, linear interpolation (as ``numpy.quantile``), vectorised."""
    xs = np.sort(values, axis=0)                      # NaN last
    n = (~np.isnan(values)).sum(axis=0)
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        a = np.take_along_axis(xs, lo[None], axis=0)[0]
        b = np.take_along_axis(xs, hi[None], axis=0)[0]
        v = a + (b - a) * (pos - lo)
        v = np.where(b == a, a, v)                    # exact when equal (also avoids inf - inf)
        out.append(np.where(n > 0, v, np.nan))
    return out


def _quantiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, p05, p95 over the first axis (NaN-aware: all-NaN stays NaN)."""
    if values.shape[0] == 1:
        v = values[0]
        return v, v.copy(), v.copy()
    n = (~np.isnan(values)).sum(axis=0)
    total = np.where(np.isnan(values), 0.0, values).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    p05, p95 = nan_quantiles(values)
    return mean, p05, p95


def _area_values(raw: np.ndarray, county_groups: np.ndarray | None, n_counties: int) -> np.ndarray:
    """Area metrics [len(AREA), years] for the counties selected (all when ``county_groups`` is None)."""
    staff = raw[RAW_INDEX["staff"]].reshape(n_counties, NF, -1).sum(axis=1)
    demand = raw[RAW_INDEX["demand"]].reshape(n_counties, NF, -1).sum(axis=1)
    if county_groups is not None:
        staff, demand = staff[county_groups], demand[county_groups]
    return area_metrics(staff, demand)


def _long(values_my: np.ndarray, names, years) -> pd.DataFrame:
    m, y = np.meshgrid(np.arange(len(names)), np.arange(len(years)), indexing="ij")
    return pd.DataFrame({"year": np.asarray(years)[y.ravel()], "metric": np.asarray(names)[m.ravel()],
                         "value": values_my.ravel()})


NATIONAL_NAMES = CELL_METRIC_NAMES + AREA_NAMES   # the metrics of summary.csv, in order


def national_values(raw: np.ndarray, n_counties: int) -> np.ndarray:
    """One replication's national metrics [len(NATIONAL_NAMES), years] from its raw record (what a
    coalition of a decomposition needs: a few KB instead of the raw record's MB)."""
    return np.concatenate([derive(raw.sum(axis=1)), _area_values(raw, None, n_counties)])


def national_summary(name: str, nat: np.ndarray, years: list[int]) -> pd.DataFrame:
    """The summary table (:data:`SUMMARY_COLUMNS`) of national values ``nat[R, M, Y]`` (:func:`national_values`
    per replication): mean, p05, p95 over replications, rows by year then metric."""
    names = NATIONAL_NAMES
    mean, p05, p95 = _quantiles(nat)
    m_idx, y_idx = np.meshgrid(np.arange(len(names)), np.arange(len(years)), indexing="ij")
    summary = pd.DataFrame({"scenario": name, "year": np.asarray(years)[y_idx.ravel()],
                            "metric": np.asarray(names)[m_idx.ravel()], "mean": mean.ravel(),
                            "p05": p05.ravel(), "p95": p95.ravel()})
    order = {n: i for i, n in enumerate(names)}
    summary = summary.sort_values(["year", "metric"], key=lambda s: s.map(order) if s.name == "metric" else s,
                                  kind="stable").reset_index(drop=True)
    return summary[SUMMARY_COLUMNS]


def summarise(name: str, reps: list[Replication], geo: Geography, years: list[int],
              county_metrics: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """The summary, provinces, counties and replications tables of a list of replications."""
    n_c = geo.n_counties
    names = NATIONAL_NAMES
    nat = np.stack([national_values(rep.raw, n_c) for rep in reps])   # [R, M, Y]
    summary = national_summary(name, nat, years)
    m_idx, y_idx = np.meshgrid(np.arange(len(names)), np.arange(len(years)), indexing="ij")

    per_rep = []
    for r, rep in enumerate(reps):
        df = _long(nat[r], names, years)
        df.insert(0, "replication", r)
        per_rep.append(df)
    replications = pd.concat(per_rep, ignore_index=True)
    replications.insert(0, "scenario", name)
    replications = replications[REPLICATION_COLUMNS]

    # provinces
    prov_codes = sorted(set(geo.province.tolist()))
    prov_frames = []
    for code in prov_codes:
        sel = np.flatnonzero(geo.province == code)
        cell_sel = (sel[:, None] * NF + np.arange(NF)[None, :]).ravel()
        vals = np.stack([np.concatenate([derive(rep.raw[:, cell_sel].sum(axis=1)),
                                         _area_values(rep.raw, sel, n_c)]) for rep in reps])
        mn, lo, hi = _quantiles(vals)
        prov_frames.append(pd.DataFrame({"scenario": name, "province": code,
                                         "year": np.asarray(years)[y_idx.ravel()],
                                         "metric": np.asarray(names)[m_idx.ravel()],
                                         "mean": mn.ravel(), "p05": lo.ravel(), "p95": hi.ravel()}))
    provinces = pd.concat(prov_frames, ignore_index=True)[PROVINCE_COLUMNS]

    counties = county_table_long(name, reps, geo, years, county_metrics)
    return {"summary": summary[SUMMARY_COLUMNS], "provinces": provinces, "counties": counties,
            "replications": replications, "flows": flows_table(name, reps, geo, years)}


def flows_table(name: str, reps: list[Replication], geo: Geography, years: list[int]) -> pd.DataFrame:
    """Flows per year, field, origin tier and county, destination (and destination county for internal moves):
    ``persons`` = mean over replications, p05 / p95 (a flow absent from a replication counts 0 there).

    Destinations (``mobility.DESTINATIONS``): county_seat (same county), other_county (its county seat),
    prefecture_province (reserved upward posts), city, other_sector; exits by retirement, breach and
    term end are not flows to a place and are left out.  Rows ordered by year, origin county, field,
    origin tier, destination, destination county.
    """
    from .mobility import DESTINATIONS
    from .params import NT, TIERS
    frames = [r.flows for r in reps if r.flows is not None and len(r.flows)]
    if not frames:
        return pd.DataFrame(columns=FLOW_COLUMNS)
    n_r = len(reps)
    keys = np.concatenate([f[:, :4] for f in frames])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    vals = np.zeros((n_r, len(uniq)))
    start = 0
    for r, rep in enumerate(reps):
        f = rep.flows
        if f is None or not len(f):
            continue
        np.add.at(vals[r], inv[start:start + len(f)], f[:, 4])
        start += len(f)
    mean, p05, p95 = _quantiles(vals)
    t, unit, dcode, dcounty = uniq.T
    county = unit // (NF * NT)
    dc = geo.county_id[np.maximum(dcounty, 0)].astype(object)
    dc[dcounty < 0] = None
    df = pd.DataFrame({
        "scenario": name, "year": np.asarray(years)[t], "field": np.asarray(FIELDS)[(unit // NT) % NF],
        "origin_tier": np.asarray(TIERS)[unit % NT], "origin_county": geo.county_id[county],
        "province": geo.province[county], "destination": np.asarray(DESTINATIONS)[dcode],
        "destination_county": dc, "persons": mean, "p05": p05, "p95": p95})
    df["_c"] = county
    df = df.sort_values(["year", "_c", "field", "origin_tier", "destination", "destination_county"],
                        kind="stable").drop(columns="_c")
    return df.reset_index(drop=True)[FLOW_COLUMNS]


def county_table_long(name: str, reps: list[Replication], geo: Geography, years: list[int],
                      county_metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """County x field x year x metric rows with mean/p05/p95 over replications (categorical text columns).

    Rows are ordered by county (table order), field, year, metric (registry order).
    """
    wanted = CELL_METRIC_NAMES if county_metrics is None else tuple(county_metrics)
    unknown = [m for m in wanted if m not in CELL_METRIC_NAMES]
    if unknown:
        raise ValueError(f"county_metrics: unknown {unknown} (allowed: {', '.join(CELL_METRIC_NAMES)})")
    n_cells, n_y, m_n = geo.n_cells, len(years), len(wanted)
    stats = [np.empty((m_n, n_cells, n_y)) for _ in range(3)]
    for k in range(m_n):  # one metric at a time keeps the [R, cells, years] stack small
        stack = np.stack([derive_metric(rep.raw, wanted[k]) for rep in reps])
        mn, lo, hi = _quantiles(stack)
        stats[0][k], stats[1][k], stats[2][k] = mn, lo, hi
    n = n_cells * n_y * m_n
    # desired order: cell (county, field), year, metric  ->  transpose [M, cells, Y] to [cells, Y, M]
    cols = [st.transpose(1, 2, 0).reshape(-1) for st in stats]
    cell = np.repeat(np.arange(n_cells), n_y * m_n)
    county_idx = cell // NF
    prov_cats = sorted(set(geo.province.tolist()))
    prov_code = pd.Index(prov_cats).get_indexer(geo.province)
    df = pd.DataFrame({
        "scenario": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[name]),
        "county_id": pd.Categorical.from_codes(county_idx, categories=pd.Index(geo.county_id)),
        "province": pd.Categorical.from_codes(prov_code[county_idx], categories=prov_cats),
        "field": pd.Categorical.from_codes(cell % NF, categories=list(FIELDS)),
        "year": np.tile(np.repeat(np.asarray(years, dtype=np.int32), m_n), n_cells),
        "metric": pd.Categorical.from_codes(np.tile(np.arange(m_n), n_cells * n_y), categories=list(wanted)),
        "mean": cols[0], "p05": cols[1], "p95": cols[2],
    })
    return df[COUNTY_COLUMNS]


# ----------------------------------------------------------------------------- the entry point

def simulate(scenario, provinces=None, years: int | None = None, replications: int = 1, seed: int = 0,
             workers: int = 1, table: pd.DataFrame | None = None, *, options: ModelOptions | None = None,
             county_metrics: tuple[str, ...] | None = None, progress=None, keep_records: bool = False,
             checkpoint: str | Path | None = None, allocation: pd.DataFrame | None = None) -> SimulationResult:
    """Simulate ``scenario`` (a Scenario, a bundled name or a path) with ``replications`` replications.

    ``provinces=None`` -> the scenario's ``region.provinces`` or all;
    ``years=None`` -> ``horizon.years``; ``table`` replaces the bundled county
    table.  ``workers > 1`` runs replications in worker processes (results are
    identical to ``workers=1``); call it under ``if __name__ == "__main__":``
    in scripts.  ``progress(done, total)`` is called after each replication.

    ``county_metrics`` limits the county table to some metrics (default: all);
    ``keep_records=True`` keeps each replication's raw record in
    ``result.replication_records``; ``checkpoint`` is a folder where finished
    replications are stored and from which a rerun resumes (see
    :class:`ReplicationCache`; the caller removes it when done).
    ``allocation`` (an ``allocation.csv`` table) is applied on top of the
    scenario (see :mod:`simulator.allocation`; rows of other counties are ignored).
    """
    import scenarios
    if isinstance(scenario, str):
        scenario = scenarios.load(scenario)
    if replications < 1:
        raise ValueError("replications: must be at least 1")
    if workers < 1:
        raise ValueError("workers: must be at least 1")
    params = as_params(scenario)
    n_years = params.years if years is None else int(years)
    if n_years < 1:
        raise ValueError("years: must be at least 1")
    tab = resolve_table(scenario, provinces, table)
    base_rf = national_township_demand(table)
    geo = geography_from_table(tab)
    alloc = None
    if allocation is not None:
        from .allocation import allocation_arrays
        alloc = allocation_arrays(allocation, geo.county_id)
    seeds = replication_seeds(seed, replications)
    cache = None
    if checkpoint is not None:
        cache = ReplicationCache(checkpoint, cache_key(params, geo, n_years, base_rf, options, alloc)).open()
    reps = _run_many(params, geo, seeds, n_years, base_rf, options, workers, progress, cache, allocation=alloc)
    cal_years = [params.start_year + t for t in range(n_years + 1)]
    tables = summarise(params.name, reps, geo, cal_years, county_metrics)
    return SimulationResult(
        scenario=params.name, scenario_sha256=params.sha256, seed=int(seed), seeds=seeds, years=cal_years,
        province_codes=sorted(set(geo.province.tolist())), summary=tables["summary"], counties=tables["counties"],
        provinces=tables["provinces"], replications=tables["replications"], flows=tables["flows"],
        replication_records=reps if keep_records else [],
        reused_replications=cache.reused if cache is not None else 0,
    )


__all__ = ["simulate", "run_replication", "national_values", "national_summary", "current_executor", "SimulationResult", "Replication", "ReplicationCache", "summarise", "resolve_table",
           "national_township_demand", "SUMMARY_COLUMNS", "COUNTY_COLUMNS", "PROVINCE_COLUMNS",
           "REPLICATION_COLUMNS", "FLOW_COLUMNS", "flows_table"]
