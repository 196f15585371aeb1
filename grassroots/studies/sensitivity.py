"""Global sensitivity analysis of scenario parameters (Morris screening, Sobol indices) with SALib.

Which assumptions drive the answer?  A study varies a few numeric scenario
parameters over ranges, runs the model at every sample point, and attributes
the spread of each headline metric to the parameters.

The code path, the same for the simulator and for analytic test functions::

    params = parse_params(["behaviour.income_coef=0.2:0.5", ...], scenario)   # or DEFAULT_PARAMETERS
    study = Study(params, method="sobol", samples=256, base=scenarios.to_dict(sc),
                  options=sim_options(provinces=["62"], years=10, replications=2, seed=1))
    study.run(executor=make_executor(workers=2), cache=PointCache(folder, study.cache_key()))
    study.indices_      # metric,param,index,value,conf   (sensitivity.csv)
    study.samples_      # point, one column per parameter, one per metric   (samples.csv)

Parameters (``--param KEY=LOW:HIGH``)
    ``KEY`` is any numeric leaf of the scenario schema (``grassroots params``
    lists them), checked against the schema: a float or integer leaf, ``LOW <
    HIGH``, both inside the leaf's allowed range.  Integer leaves are rounded
    to the nearest whole number at each point.  ``KEY`` may end in ``.*``
    (e.g. ``behaviour.exit_intercept.*=-0.5:0.5``): then LOW:HIGH is a *shift*
    added to every leaf under that table (all five fields' intercepts move
    together), and base value + shift must stay inside each leaf's range.
    Structural assumptions outside the default set are keys too, e.g.
    ``posts.grade_step_years=2:4`` (years per grade step within a title band),
    ``recruitment.reserved_upward_min_years=1:5`` (service before a reserved
    upward post) and ``demand.growth_per_year.education=-0.05:0`` (demand trend;
    ``demand.growth_per_year.*=-0.03:0.03`` moves every field's together).

Sampling and analysis
    * ``sobol``: Saltelli's scheme on a scrambled Sobol' sequence
      (``SALib.sample.sobol``) with ``N`` base samples, a power of 2; without
      second-order indices by default, ``N * (D + 2)`` model runs for D
      parameters; ``SALib.analyze.sobol`` gives first-order ``S1`` and total
      ``ST`` indices (and ``S2`` for pairs, param ``a:b``, with ``second_order``).
    * ``morris``: ``N`` trajectories on a 4-level grid (``SALib.sample.morris``),
      ``N * (D + 1)`` runs; ``SALib.analyze.morris`` gives ``mu_star`` (mean
      absolute elementary effect: the screening measure), ``mu`` and ``sigma``
      (non-linearity / interactions).
    * Confidence intervals (``conf``, the half-width of a 95% interval) come
      from SALib's bootstrap over sample points (``num_resamples`` = 200);
      Morris gives one for ``mu_star`` only (``conf`` is empty for ``mu``
      and ``sigma``).
    * The sampler and the bootstrap are seeded from the master seed through
      :func:`derive_seed` (sha256 of a label), so a study is reproducible.

Model runs
    Each sample point runs the simulator once with ``replications`` Monte Carlo
    replications and the *same* master seed at every point (common random
    numbers): differences between points are the parameters' doing, not
    noise.  The output of a point is, for each headline metric, the mean over
    replications in the **final simulated year** (``start_year + years``):
    ``coverage``, ``vacancies``, ``turnover_rate``, ``senior_share``,
    ``cost_yuan``, ``coverage_gini``.  The model function is pluggable: any
    module-level function ``model(base, changes, options) -> {metric: float}``
    runs through exactly the same sampling, execution, caching and analysis
    (the tests use the Ishigami function this way).

Resuming
    A :class:`PointCache` keeps one small JSON file per finished point in a
    folder named after a digest of everything that determines the results
    (:meth:`Study.cache_key`); running the same study again reuses those points
    and computes only the rest.  Files are written atomically, so a point is
    either wholly cached or not at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

HEADLINE_METRICS: tuple[str, ...] = ("coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan", "coverage_gini")
METHODS = ("morris", "sobol")
SECOND_ORDER_SEP = ":"
NUM_RESAMPLES = 200      # bootstrap resamples for confidence intervals
CONF_LEVEL = 0.95        # confidence level of ``conf`` (half-width)
MORRIS_LEVELS = 4        # grid levels of the Morris design (SALib default; Saltelli et al. 2008 recommend 4)
CACHE_FORMAT = 1         # bump when the cache file layout changes


from .sensitivity_params import (changes_for_point, check_corners, DEFAULT_PARAMETERS, Parameter, parse_param,
                                 parse_params, problem_spec, SensitivityInputError)


def derive_seed(master: int, label: str) -> int:
    """A positive 32-bit seed derived from the master seed and a label (sha256, never ``hash()``)."""
    digest = hashlib.sha256(f"{int(master)}:{label}".encode()).digest()
    return int.from_bytes(digest[:4], "little") or 1


# ----------------------------------------------------------------------------- model evaluation

def sim_options(provinces: Sequence[str] | None = None, years: int | None = None, replications: int = 1,
                seed: int = 0, metrics: Sequence[str] = HEADLINE_METRICS, county_table: str | None = None) -> dict:
    """Options for :func:`simulate_point` (a plain, picklable dict).  ``county_table``: a user county table CSV,
    read once per worker process; its sha256 is part of the options, hence of the cache key."""
    out = {"provinces": list(provinces) if provinces else None, "years": years,
           "replications": int(replications), "seed": int(seed), "metrics": list(metrics)}
    if county_table:
        out["county_table"] = str(Path(county_table).resolve())
        out["county_table_sha256"] = hashlib.sha256(Path(county_table).read_bytes()).hexdigest()
    return out


_TABLE_MEMO: dict[tuple, Any] = {}


def user_table(options: Mapping):
    """The user's county table named by ``options["county_table"]`` (None: the bundled one), memoised per process."""
    path = options.get("county_table")
    if not path:
        return None
    key = (path, options.get("county_table_sha256"))
    if key not in _TABLE_MEMO:
        import scenarios
        _TABLE_MEMO.clear()
        _TABLE_MEMO[key] = scenarios.county_table(path=path)
    return _TABLE_MEMO[key]


_SCENARIO_MEMO: dict[str, Any] = {}


def _base_scenario(base: Mapping):
    """The Scenario for a plain dict, memoised per worker process (validation is not free)."""
    import scenarios
    key = hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()
    sc = _SCENARIO_MEMO.get(key)
    if sc is None:
        sc = scenarios.from_dict(dict(base), label=str(base.get("name", "<scenario>")))
        if len(_SCENARIO_MEMO) > 8:
            _SCENARIO_MEMO.clear()
        _SCENARIO_MEMO[key] = sc
    return sc


def final_year_means(summary: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """Mean over replications of each metric in the last year of a summary table (NaN if absent)."""
    last = summary["year"].max()
    rows = summary[summary["year"] == last].set_index("metric")["mean"]
    return {m: float(rows[m]) if m in rows.index else float("nan") for m in metrics}


def simulate_point(base: Mapping, changes: Mapping[str, Any], options: Mapping) -> dict[str, float]:
    """The simulator at one sample point: headline metrics in the final year, mean over replications.

    ``base`` is the scenario as a plain dict (``scenarios.to_dict``), ``changes``
    the point's ``{dotted.key: value}``; every point uses ``options["seed"]``
    (common random numbers).  Module-level so processes and Dask can run it.
    """
    import scenarios
    import simulator

    sc = scenarios.apply(_base_scenario(base), dict(changes), label="sample point")
    res = simulator.simulate(sc, provinces=options.get("provinces"), years=options.get("years"),
                             replications=options.get("replications", 1), seed=options.get("seed", 0), workers=1,
                             table=user_table(options),
                             county_metrics=("staff",))  # county detail is not needed: keep it small
    return final_year_means(res.summary, options.get("metrics", HEADLINE_METRICS))


# Analytic models with known indices, run through the same code path as the simulator
# (they check an installation, and the tests use them).

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
# Known Sobol' indices of the Ishigami function on [-pi, pi]^3 (Ishigami & Homma 1990; Saltelli et al. 2008)
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(base, changes: Mapping[str, float], options: Mapping | None = None) -> dict[str, float]:
    """Ishigami function of ``changes["x1"], ["x2"], ["x3"]`` (each on [-pi, pi]) as metric ``y``."""
    x1, x2, x3 = (float(changes[k]) for k in ("x1", "x2", "x3"))
    return {"y": math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3 ** 4 * math.sin(x1)}


def linear(base, changes: Mapping[str, float], options: Mapping) -> dict[str, float]:
    """``y = sum(options["coef"][k] * changes[k])``: Morris ``mu_star`` is ``|coef| * (high - low)``, ``sigma`` 0."""
    return {"y": float(sum(c * float(changes[k]) for k, c in options["coef"].items()))}


def _evaluate(task: tuple) -> dict[str, float]:
    """Executor entry point: ``task`` is ``(model, base, changes, options)``."""
    model, base, changes, options = task
    out = model(base, changes, options)
    return {str(k): float(v) for k, v in out.items()}


def _model_name(model: Callable) -> str:
    return f"{getattr(model, '__module__', '?')}.{getattr(model, '__qualname__', repr(model))}"


# ----------------------------------------------------------------------------- per-point cache

class PointCache:
    """One JSON file per finished sample point, in ``folder``; reused when the same study runs again.

    ``key`` (a JSON-ready dict) describes everything that determines the
    results; it is stored as ``study.json`` and checked on reuse.  A point file
    holds the point's index, its scenario changes and its outputs; a point is
    reused only if its stored changes equal the ones asked for.
    """

    def __init__(self, folder: str | Path, key: Mapping):
        self.folder = Path(folder)
        self.key = json.loads(json.dumps(key, sort_keys=True))
        self.reused = 0

    @staticmethod
    def digest(key: Mapping) -> str:
        return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]

    @classmethod
    def for_study(cls, root: str | Path, command: str, key: Mapping) -> "PointCache":
        """The cache folder ``root/<command>-<digest of key>``."""
        return cls(Path(root) / f"{command}-{cls.digest(key)}", key)

    def open(self) -> "PointCache":
        from ..results import atomic_write_bytes
        (self.folder / "points").mkdir(parents=True, exist_ok=True)
        meta = self.folder / "study.json"
        if meta.exists():
            try:
                stored = json.loads(meta.read_text("utf-8"))
            except (OSError, ValueError):
                stored = None
            if stored != self.key:
                # not the same study (or a damaged file): start afresh rather than mix results
                shutil.rmtree(self.folder / "points", ignore_errors=True)
                (self.folder / "points").mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(meta, json.dumps(self.key, sort_keys=True, indent=1).encode())
        else:
            atomic_write_bytes(meta, json.dumps(self.key, sort_keys=True, indent=1).encode())
        return self

    def _path(self, i: int) -> Path:
        return self.folder / "points" / f"{i:07d}.json"

    def get(self, i: int, changes: Mapping) -> dict[str, float] | None:
        p = self._path(i)
        try:
            rec = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if rec.get("point") != i or rec.get("changes") != json.loads(json.dumps(changes)):
            return None
        out = rec.get("outputs")
        if not isinstance(out, dict):
            return None
        self.reused += 1
        return {k: (float("nan") if v is None else float(v)) for k, v in out.items()}

    def put(self, i: int, changes: Mapping, outputs: Mapping[str, float]) -> None:
        from ..results import atomic_write_bytes
        rec = {"point": i, "changes": dict(changes),
               "outputs": {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in outputs.items()}}
        atomic_write_bytes(self._path(i), json.dumps(rec, sort_keys=True).encode())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # the .cache folder itself, when now empty
        except OSError:
            pass


# ----------------------------------------------------------------------------- the study

class Study:
    """A global sensitivity study: settings in the constructor, work in :meth:`run`, results in ``*_`` attributes.

    ``model(base, changes, options) -> {metric: float}`` must be a module-level
    function (it is pickled by reference for worker processes and Dask).
    """

    def __init__(self, params: Sequence[Parameter], method: str = "sobol", samples: int = 64, *,
                 model: Callable = simulate_point, base: Mapping | None = None, options: Mapping | None = None,
                 seed: int = 0, metrics: Sequence[str] | None = None, second_order: bool = False,
                 num_resamples: int = NUM_RESAMPLES, conf_level: float = CONF_LEVEL, num_levels: int = MORRIS_LEVELS):
        self.params = list(params)
        self.method = method
        self.samples = samples
        self.model = model
        self.base = base
        self.options = dict(options or {})
        self.seed = seed
        if metrics is None and "metrics" in self.options:
            metrics = self.options["metrics"]
        # None: the metrics are the keys the model returns at the first point
        self.metrics = list(metrics) if metrics is not None else None
        self.second_order = second_order
        self.num_resamples = num_resamples
        self.conf_level = conf_level
        self.num_levels = num_levels
        self.check()

    # -- settings
    def check(self) -> None:
        """Raise :class:`SensitivityInputError` listing every bad setting."""
        problems = []
        if self.method not in METHODS:
            problems.append(f"--method: {self.method!r} is not allowed (allowed: {', '.join(METHODS)})")
        n = self.samples
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            problems.append(f"--samples: {n!r} is not allowed (allowed: a whole number >= 2)")
        elif self.method == "sobol" and (n & (n - 1)) != 0:
            lo = 1 << (int(n).bit_length() - 1)
            problems.append(f"--samples: {n} is not a power of 2, which Sobol' sampling needs (allowed: e.g. {lo} or {lo * 2})")
        if not self.params:
            problems.append("--param: no parameters to vary (allowed: one or more KEY=LOW:HIGH)")
        elif self.method == "sobol" and len(self.params) < 2:
            problems.append("--param: Sobol' indices need at least 2 parameters (allowed: 2 or more, or --method morris)")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            problems.append("--param: a key is given twice (allowed: each key once)")
        if self.metrics is not None and not self.metrics:
            problems.append("metrics: none to analyse")
        if problems:
            raise SensitivityInputError(problems)

    def problem(self) -> dict:
        return problem_spec(self.params)

    def n_points(self) -> int:
        d = len(self.params)
        if self.method == "morris":
            return self.samples * (d + 1)
        return self.samples * ((2 * d + 2) if self.second_order else (d + 2))

    def cache_key(self, extra: Mapping | None = None) -> dict:
        """Everything that determines the sample points and their outputs (JSON-ready)."""
        from ..results import package_version
        base_sha = None
        if self.base is not None:
            base_sha = hashlib.sha256(json.dumps(self.base, sort_keys=True).encode()).hexdigest()
        key = {"format": CACHE_FORMAT, "version": package_version(), "model": _model_name(self.model),
               "base_sha256": base_sha, "options": self.options, "method": self.method, "samples": int(self.samples),
               "second_order": self.second_order, "num_levels": self.num_levels, "seed": int(self.seed),
               "params": [dataclasses.asdict(p) | {"why": ""} for p in self.params]}
        if extra:
            key["extra"] = dict(extra)
        return json.loads(json.dumps(key, sort_keys=True))

    # -- work
    def sample(self) -> np.ndarray:
        """The SALib design matrix (one row per model run), reproducible from the seed."""
        problem = self.problem()
        seed = derive_seed(self.seed, f"{self.method}-sample")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if self.method == "morris":
                from SALib.sample import morris as morris_sample
                return morris_sample.sample(problem, int(self.samples), num_levels=self.num_levels, seed=seed)
            from SALib.sample import sobol as sobol_sample
            return sobol_sample.sample(problem, int(self.samples), calc_second_order=self.second_order, seed=seed)

    def tasks(self, X: np.ndarray) -> list[tuple]:
        return [(self.model, self.base, changes_for_point(self.params, row, self.base), self.options) for row in X]

    def run(self, executor=None, cache: PointCache | None = None,
            progress: Callable[[int, int, int], None] | None = None) -> "Study":
        """Sample, evaluate every point (reusing cached ones), analyse.  Sets ``X_``, ``Y_``, ``samples_``, ``indices_``."""
        from .executors import SerialExecutor

        X = self.sample()
        tasks = self.tasks(X)
        n = len(tasks)
        outputs: list[dict | None] = [None] * n
        if cache is not None:
            cache.open()
            for i, t in enumerate(tasks):
                outputs[i] = cache.get(i, t[2])
        todo = [i for i in range(n) if outputs[i] is None]
        reused = n - len(todo)
        if progress is not None:
            progress(reused, n, reused)
        ex = executor if executor is not None else SerialExecutor()
        done = reused
        for j, out in ex.iter_completed(_evaluate, [tasks[i] for i in todo]):
            i = todo[j]
            outputs[i] = out
            if cache is not None:
                cache.put(i, tasks[i][2], out)
            done += 1
            if progress is not None:
                progress(done, n, reused)
        if self.metrics is None:
            self.metrics = list(outputs[0]) if outputs else []
        self.X_ = X
        self.points_reused_ = reused
        self.Y_ = pd.DataFrame([{m: o.get(m, float("nan")) for m in self.metrics} for o in outputs], columns=self.metrics)
        samples = pd.DataFrame(X, columns=[p.name for p in self.params])
        samples.insert(0, "point", np.arange(n))
        self.samples_ = pd.concat([samples, self.Y_], axis=1)
        self.indices_ = self.analyse(X, self.Y_)
        return self

    def analyse(self, X: np.ndarray, Y: pd.DataFrame) -> pd.DataFrame:
        """Indices with bootstrap confidence half-widths: columns ``metric,param,index,value,conf``."""
        problem = self.problem()
        names = problem["names"]
        rows: list[dict] = []
        for m in self.metrics:
            y = np.asarray(Y[m], dtype=float)
            seed = derive_seed(self.seed, f"{self.method}-bootstrap-{m}")
            degenerate = not np.all(np.isfinite(y)) or float(np.var(y)) == 0.0
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                if self.method == "morris":
                    from SALib.analyze import morris as morris_analyze
                    if not np.all(np.isfinite(y)):
                        res = {k: [float("nan")] * len(names) for k in ("mu_star", "mu", "sigma", "mu_star_conf")}
                    else:
                        res = morris_analyze.analyze(problem, X, y, num_resamples=self.num_resamples,
                                                     conf_level=self.conf_level, num_levels=self.num_levels, seed=seed)
                    for j, p in enumerate(names):
                        rows.append({"metric": m, "param": p, "index": "mu_star", "value": float(res["mu_star"][j]),
                                     "conf": float(res["mu_star_conf"][j])})
                        rows.append({"metric": m, "param": p, "index": "mu", "value": float(res["mu"][j]), "conf": float("nan")})
                        rows.append({"metric": m, "param": p, "index": "sigma", "value": float(res["sigma"][j]), "conf": float("nan")})
                else:
                    from SALib.analyze import sobol as sobol_analyze
                    if degenerate:
                        # a constant (or broken) output: variance-based indices are undefined
                        nan = [float("nan")] * len(names)
                        res = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
                        if self.second_order:
                            res["S2"] = np.full((len(names), len(names)), np.nan)
                            res["S2_conf"] = res["S2"]
                    else:
                        res = sobol_analyze.analyze(problem, y, calc_second_order=self.second_order,
                                                    num_resamples=self.num_resamples, conf_level=self.conf_level, seed=seed)
                    for idx in ("S1", "ST"):
                        for j, p in enumerate(names):
                            rows.append({"metric": m, "param": p, "index": idx, "value": float(res[idx][j]),
                                         "conf": float(res[f"{idx}_conf"][j])})
                    if self.second_order:
                        for j in range(len(names)):
                            for k in range(j + 1, len(names)):
                                rows.append({"metric": m, "param": f"{names[j]}{SECOND_ORDER_SEP}{names[k]}", "index": "S2",
                                             "value": float(res["S2"][j, k]), "conf": float(res["S2_conf"][j, k])})
        return pd.DataFrame(rows, columns=["metric", "param", "index", "value", "conf"])

    def describe(self) -> dict:
        """Settings for the manifest."""
        return {"method": self.method, "samples": int(self.samples), "points": self.n_points(),
                "second_order": self.second_order, "num_levels": self.num_levels if self.method == "morris" else None,
                "num_resamples": self.num_resamples, "conf_level": self.conf_level, "seed": int(self.seed),
                "sample_seed": derive_seed(self.seed, f"{self.method}-sample"), "metrics": self.metrics,
                "metric_year": "final simulated year, mean over replications",
                "model": _model_name(self.model),
                "params": [{"key": p.key, "low": p.low, "high": p.high, "shift": p.shift, "integer": p.integer, "why": p.why}
                           for p in self.params]}


def ranking(indices: pd.DataFrame, metric: str, index: str) -> list[str]:
    """Parameters ordered from most to least influential on ``metric`` by ``index`` (e.g. ST, mu_star)."""
    sub = indices[(indices["metric"] == metric) & (indices["index"] == index)]
    return list(sub.sort_values("value", ascending=False, kind="stable")["param"])


__all__ = ["HEADLINE_METRICS", "METHODS", "DEFAULT_PARAMETERS", "SensitivityInputError", "Parameter",
           "parse_param", "parse_params", "check_corners", "problem_spec", "changes_for_point", "derive_seed", "sim_options",
           "simulate_point", "final_year_means", "ishigami", "linear", "ISHIGAMI_S1", "ISHIGAMI_ST", "PointCache", "Study", "ranking"]
