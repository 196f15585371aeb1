"""Many coalition sub-scenarios of a decomposition simulated at once, in parallel, national results only.

A Shapley decomposition needs hundreds of simulations that differ only in their parameters (the package with
some levers set back to the base; same county table, years and replication seeds).  Each one needs only the
national means of the decomposed metrics, not the county, province or flow tables that
``simulator.simulate`` builds (about a quarter of a Gansu simulation's time), nor the raw records (4 MB per
replication for Gansu) that its checkpoints store.  :class:`CoalitionRunner` therefore

* prepares once what every coalition shares: the county table (per distinct ``region`` of the
  sub-scenarios), the geography and the programme-place denominators (``national_township_demand``, 34 ms);
* sends one item per coalition -- compiled parameters, geography, seeds -- to an executor
  (:mod:`grassroots.studies.executors`: serial, the simulator's kept local process pool, or the Dask
  cluster of ``--scheduler``), all the coalitions of a round at once, so 2 workers evaluate 2 coalitions
  at a time whatever the number of replications;
* each worker runs the replications with ``simulator.run_replication`` and returns their national values
  (``simulator.replicate.national_values``: a few KB); the summary is ``national_summary`` of them, the
  same function ``simulate`` uses, so every number equals the serial ``simulate(...).summary`` bit for bit;
* keeps each finished coalition's values in ``<cache folder>/<scenario sha256>.npy`` (written to a
  temporary name and renamed), so an interrupted decomposition resumes without re-running them.

Results are a pure function of (parameters, geography, seeds): the same on every executor (common random
numbers: every coalition uses the comparison's replication seeds).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd


@dataclass
class CoalitionResult:
    """A coalition's national ``summary`` (as ``summary.csv``) and ``replications`` (``replication, year,
    metric, value``: the national values of each replication, for standard errors over replications)."""

    summary: pd.DataFrame
    replications: pd.DataFrame


def _result(name: str, nat: np.ndarray, years: list[int]) -> CoalitionResult:
    from simulator.replicate import NATIONAL_NAMES, national_summary
    r, m, y = nat.shape
    reps = pd.DataFrame({"replication": np.repeat(np.arange(r), m * y), "year": np.tile(np.asarray(years), r * m),
                         "metric": np.tile(np.repeat(np.asarray(NATIONAL_NAMES), y), r), "value": nat.ravel()})
    return CoalitionResult(national_summary(name, nat, years), reps)


def coalition_values(item) -> np.ndarray:
    """National values ``[R, M, Y]`` of one coalition: ``item = (params, geography, seeds, years, base_rf,
    options)``.  Module-level and pure: what an executor's workers run."""
    from simulator.replicate import national_values, run_replication
    params, geo, seeds, years, base_rf, options = item
    return np.stack([national_values(run_replication(params, geo, s, years, programme_base_rf=base_rf,
                                                     options=options).raw, geo.n_counties) for s in seeds])


class CoalitionRunner:
    """``runner(subs)``: a :class:`CoalitionResult` (national summary and per-replication values) for each of
    the sub-scenarios ``subs`` (a list of ``(scenario, label)``), evaluated together on the executor.

    ``provinces``, ``years``, ``replications``, ``seed``, ``table`` as for ``simulator.simulate``;
    ``workers``: local processes when no ``--scheduler`` executor is active (1: in this process);
    ``cache``: folder for finished coalitions (None: no resume); ``done(label, replications)`` after each
    finished coalition (progress).
    """

    def __init__(self, *, provinces=None, years: int, replications: int, seed: int, workers: int = 1,
                 table: pd.DataFrame | None = None, cache: str | Path | None = None,
                 done: Callable[[str, int], None] | None = None):
        from simulator.replicate import national_township_demand
        from simulator.rng import replication_seeds
        self.provinces, self.years, self.table, self.workers = provinces, int(years), table, int(workers)
        self.seeds = replication_seeds(seed, replications)
        self.base_rf = national_township_demand(table)
        self.cache = Path(cache) if cache is not None else None
        self.done = done
        self._geo: dict = {}
        self.runs = 0                    # coalitions simulated (not read from the cache)

    def _geography(self, sc):
        from simulator.population import geography_from_table
        from simulator.replicate import resolve_table
        key = (tuple(sc.region.provinces), tuple(sc.region.counties))
        if key not in self._geo:
            self._geo[key] = geography_from_table(resolve_table(sc, self.provinces, self.table))
        return self._geo[key]

    def _executor(self):
        from simulator.replicate import current_executor, worker_pool
        from .executors import ProcessExecutor, SerialExecutor
        ex = current_executor()
        if ex is not None:             # --scheduler: the command's Dask executor (not ours to close)
            return ex, False
        if self.workers > 1:           # the simulator's kept pool: its workers have the kernels loaded
            return ProcessExecutor(self.workers, pool=worker_pool(self.workers)), True
        return SerialExecutor(), True

    def _path(self, sha: str) -> Path | None:
        return self.cache / f"{sha}.npy" if self.cache is not None else None

    def __call__(self, subs: Sequence[tuple[object, str]]) -> list[CoalitionResult]:
        import scenarios
        from simulator.params import as_params
        out: list[CoalitionResult | None] = [None] * len(subs)
        todo, items = [], []
        for k, (sc, _label) in enumerate(subs):
            params = as_params(sc)
            years_cal = [params.start_year + t for t in range(self.years + 1)]
            path = self._path(scenarios.sha256(sc))
            if path is not None and path.exists():
                try:
                    out[k] = _result(params.name, np.load(path, allow_pickle=False), years_cal)
                    continue
                except (OSError, ValueError):
                    pass
            todo.append((k, params, years_cal, path))
            items.append((params, self._geography(sc), self.seeds, self.years, self.base_rf, None))
        if items:
            ex, own = self._executor()
            try:
                for j, nat in ex.iter_completed(coalition_values, items):
                    k, params, years_cal, path = todo[j]
                    if path is not None:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.npy")
                        np.save(tmp, nat, allow_pickle=False)
                        os.replace(tmp, path)
                    out[k] = _result(params.name, nat, years_cal)
                    self.runs += 1
                    if self.done is not None:
                        self.done(subs[k][1], len(self.seeds))
            finally:
                if own:
                    ex.close()
        return out  # type: ignore[return-value]
