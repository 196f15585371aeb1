"""Calibration: fit behaviour parameters to observed rates.

A *targets file* (TOML) lists observed rates with their uncertainty; each
target says which scenario parameter it identifies.  :class:`Calibration`
finds the parameter values whose simulated rates match the targets best and
reports the fit, target by target, with Monte Carlo intervals.

Targets file schema (``grassroots/data/targets-facts.toml`` is the shipped one)::

    description = "..."                  # optional text
    [[target]]
    metric = "exit_rate"                 # required: one of TARGET_METRICS (below)
    field = "health"                     # exit_rate: one of the five fields
    # programme = "special_post_teachers"  # post_term_stay, recruits: one of the seven programmes
    value = 0.081                        # required: the observed value, in the metric's unit
    sd = 0.01                            # required, > 0: uncertainty of the observed value (same unit)
    source = "HRH 7:24 (2009)"           # required text: where the value comes from, or "assumption"
    name = "exit_rate.health"            # optional: default metric.field or metric.programme
    fit = true                           # optional: false = reported only, not fitted
    param = "behaviour.exit_intercept.health"  # optional: the scenario key it calibrates (default per metric)
    low = -8.0                           # optional: bounds of that key (default per metric, inside the schema range)
    high = 3.0

Anything else -- an unknown key, an unknown metric, field or programme, a
missing value, ``sd <= 0``, a value outside the metric's range, a ``param``
that is not a numeric scenario key -- is refused, every problem at once, one
line each: ``FILE: target[3].metric: 'exits' is not allowed (allowed: ...)``.

Target metrics (simulated counterparts; rates pooled over all simulated years
and all simulated counties, computed per replication)

``exit_rate`` (field)
    non-retirement exits / staff at the start of the year -- the simulator's
    ``turnover_rate`` of that field: ``sum(exits - exits_retirement) /
    sum(staff_start)``.  Default parameter ``behaviour.exit_intercept.<field>``.
``post_term_stay`` (programme)
    share of the programme's participants reaching the end of their term who
    stay.  Default parameter ``programmes.<programme>.post_term_stay``.
``recruits`` (programme)
    recruits per year through the programme, national (compared only when
    every province is simulated).  No default parameter: a check.

Loss
    With ``m_i(theta)`` the mean over R replications of target i's simulated
    value, ``y_i`` the observed value and ``s_i`` its ``sd``::

        L(theta) = sum over fitted targets of ((m_i(theta) - y_i) / s_i) ** 2

    a weighted least-squares (chi-square) loss: each residual is in units of
    the target's own uncertainty.  It is minimised within the parameters'
    bounds by ``scipy.optimize.least_squares`` (trust-region reflective) with
    a forward-difference Jacobian whose columns are computed in parallel by the
    executor (steps of 0.05 logit for intercepts, 0.01 for shares: large
    enough to see through the granularity of a finite population).

Monte Carlo noise
    Every evaluation uses the same master seed (common random numbers): the
    simulator gives each person the same random draw whatever the parameters
    (``simulator.rng``), so ``m_i(theta)`` is a smooth-looking, deterministic
    function and differences between nearby parameter values are not noise.
    The report gives each simulated value's Monte Carlo standard error
    (sd over replications / sqrt(R)) and 5-95% range over replications, and
    re-simulates the calibrated scenario with an independent seed
    (``validation_*`` columns) to show the fit is not an artefact of one set
    of draws.  Use enough replications that the standard error is well below
    each target's ``sd`` (a note is written when it is not).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

FIELDS = ("science", "education", "engineering", "agriculture", "health")
PROGRAMMES = ("special_post_teachers", "agri_extension_posts", "gp_special_posts", "free_normal_students",
              "free_medical_students", "sanzhi_yifu", "tuition_compensation")


@dataclass(frozen=True)
class MetricSpec:
    by: str                      # "field" or "programme"
    unit: str
    lo: float
    hi: float
    default_param: str | None    # format string with {field} / {programme}
    bounds: tuple[float, float] | None
    step: float                  # finite-difference step for the default parameter
    scope: str = "any"           # "national": only comparable when every province is simulated
    meaning: str = ""


TARGET_METRICS: dict[str, MetricSpec] = {
    "exit_rate": MetricSpec("field", "share of staff per year", 0.0, 1.0, "behaviour.exit_intercept.{field}", (-8.0, 3.0), 0.05,
                            meaning="non-retirement exits / staff at the start of the year, pooled over years and counties"),
    "post_term_stay": MetricSpec("programme", "share", 0.0, 1.0, "programmes.{programme}.post_term_stay", (0.0, 1.0), 0.01,
                                 meaning="participants staying at the end of their term / participants reaching it"),
    "recruits": MetricSpec("programme", "persons per year", 0.0, math.inf, None, None, 0.0, scope="national",
                           meaning="recruits per year through the programme, national"),
}
TARGET_KEYS = ("name", "metric", "field", "programme", "value", "sd", "source", "fit", "param", "low", "high")
TOP_KEYS = ("description", "target")
DEFAULT_STEP = 0.01          # finite-difference step, as a share of the bounds' width, for non-default parameters
WEAK_MC_RATIO = 1 / 3        # note a target whose Monte Carlo standard error exceeds this share of its sd


class CalibrationInputError(ValueError):
    """Bad calibration input; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Target:
    name: str
    metric: str
    value: float
    sd: float
    source: str
    field: str | None = None
    programme: str | None = None
    fit: bool = True
    param: str | None = None
    low: float | None = None
    high: float | None = None

    @property
    def spec(self) -> MetricSpec:
        return TARGET_METRICS[self.metric]

    def as_option(self) -> dict:
        """What a model needs to know to simulate this target (picklable)."""
        return {"name": self.name, "metric": self.metric, "field": self.field, "programme": self.programme}


@dataclass(frozen=True)
class FitParam:
    key: str
    low: float
    high: float
    step: float
    targets: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- targets file

def default_targets_path() -> Path:
    """The shipped targets file built from FACTS.md."""
    from importlib import resources
    return Path(str(resources.files("grassroots") / "data" / "targets-facts.toml"))


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_targets(doc: Mapping, label: str = "<targets>") -> tuple[list[Target], str]:
    """Targets from a parsed TOML document; :class:`CalibrationInputError` lists every problem."""
    problems: list[str] = []
    for k in doc:
        if k not in TOP_KEYS:
            problems.append(f"{label}: {k}: unknown key (allowed: {', '.join(TOP_KEYS)})")
    description = doc.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{label}: description: expected text, got {description!r}")
        description = ""
    raw = doc.get("target")
    if raw is None:
        raise CalibrationInputError(problems + [f"{label}: target: missing (allowed: one or more [[target]] tables)"])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise CalibrationInputError(problems + [f"{label}: target: expected [[target]] tables"])
    leaves = None
    targets: list[Target] = []
    for i, t in enumerate(raw):
        where = f"{label}: target[{i}]"
        bad = False
        for k in t:
            if k not in TARGET_KEYS:
                problems.append(f"{where}.{k}: unknown key (allowed: {', '.join(TARGET_KEYS)})")
                bad = True
        metric = t.get("metric")
        if metric is None:
            problems.append(f"{where}.metric: missing (allowed: {', '.join(TARGET_METRICS)})")
            continue
        if metric not in TARGET_METRICS:
            problems.append(f"{where}.metric: {metric!r} is not allowed (allowed: {', '.join(TARGET_METRICS)})")
            continue
        spec = TARGET_METRICS[metric]
        fld, prog = t.get("field"), t.get("programme")
        if spec.by == "field":
            if fld not in FIELDS:
                problems.append(f"{where}.field: {fld!r} is not allowed for {metric} (allowed: {', '.join(FIELDS)})")
                bad = True
            if prog is not None:
                problems.append(f"{where}.programme: not used by {metric} (allowed: field)")
                bad = True
        else:
            if prog not in PROGRAMMES:
                problems.append(f"{where}.programme: {prog!r} is not allowed for {metric} (allowed: {', '.join(PROGRAMMES)})")
                bad = True
            if fld is not None:
                problems.append(f"{where}.field: not used by {metric} (allowed: programme)")
                bad = True
        for k in ("value", "sd"):
            v = t.get(k)
            if v is None:
                problems.append(f"{where}.{k}: missing (allowed: a number)")
                bad = True
            elif not _is_number(v):
                problems.append(f"{where}.{k}: expected a number, got {v!r}")
                bad = True
        if not bad:
            if not (spec.lo <= t["value"] <= spec.hi):
                problems.append(f"{where}.value: {t['value']!r} is out of range (allowed: {spec.lo} to {spec.hi}, {spec.unit})")
                bad = True
            if not t["sd"] > 0:
                problems.append(f"{where}.sd: {t['sd']!r} is not allowed (allowed: a number > 0, {spec.unit})")
                bad = True
        src = t.get("source")
        if not isinstance(src, str) or not src.strip():
            problems.append(f"{where}.source: missing or empty (allowed: text naming the source, or 'assumption')")
            bad = True
        fit = t.get("fit", True)
        if not isinstance(fit, bool):
            problems.append(f"{where}.fit: expected true or false, got {fit!r}")
            bad = True
        name = t.get("name", f"{metric}.{fld if spec.by == 'field' else prog}")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name: expected text, got {name!r}")
            bad = True
        if bad:
            continue  # the parameter checks below would only repeat the problems found
        param = t.get("param")
        if param is None and spec.default_param is not None:
            param = spec.default_param.format(field=fld, programme=prog)
        low, high = t.get("low"), t.get("high")
        if param is not None:
            if not isinstance(param, str):
                problems.append(f"{where}.param: expected text, got {param!r}")
                bad = True
            else:
                if leaves is None:
                    import scenarios
                    leaves = {k: v for k, v in scenarios.leaf_paths().items() if v[0] in (int, float)}
                if param not in leaves:
                    problems.append(f"{where}.param: {param!r} is not a numeric scenario key (allowed: keys listed by `grassroots params`)")
                    bad = True
                else:
                    meta = leaves[param][1]
                    dlo, dhi = spec.bounds if (spec.bounds and param == (spec.default_param or "").format(field=fld, programme=prog)) \
                        else (meta.get("lo"), meta.get("hi"))
                    low = dlo if low is None else low
                    high = dhi if high is None else high
                    for k, v in (("low", low), ("high", high)):
                        if not _is_number(v):
                            problems.append(f"{where}.{k}: expected a finite number, got {v!r} (the key's range is unbounded: give {k})")
                            bad = True
                    if not bad:
                        if not low < high:
                            problems.append(f"{where}.low: {low!r} is not below high {high!r}")
                            bad = True
                        mlo, mhi = meta.get("lo"), meta.get("hi")
                        if (mlo is not None and low < mlo) or (mhi is not None and high > mhi):
                            problems.append(f"{where}.low: {low!r}:{high!r} leaves the range of {param} "
                                            f"(allowed: {'-inf' if mlo is None else mlo} to {'inf' if mhi is None else mhi})")
                            bad = True
        elif low is not None or high is not None:
            problems.append(f"{where}.low: bounds given without a param (allowed: param with low and high)")
            bad = True
        if not bad:
            targets.append(Target(name=name, metric=metric, value=float(t["value"]), sd=float(t["sd"]), source=src,
                                  field=fld, programme=prog, fit=fit, param=param,
                                  low=None if low is None else float(low), high=None if high is None else float(high)))
    names = [t.name for t in targets]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{label}: target name {n!r} is used twice (allowed: unique names)")
    if not problems and not any(t.fit and t.param for t in targets):
        problems.append(f"{label}: no target to fit (allowed: at least one target with fit = true and a param)")
    if problems:
        raise CalibrationInputError(problems)
    return targets, description


def load_targets(path: str | Path | None = None) -> tuple[list[Target], str]:
    """Read and validate a targets file (default: the shipped FACTS.md targets)."""
    p = Path(path) if path is not None else default_targets_path()
    label = str(path) if path is not None else "targets-facts.toml"
    try:
        with open(p, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise CalibrationInputError([f"{label}: file not found"]) from None
    except IsADirectoryError:
        raise CalibrationInputError([f"{label}: is a folder, not a targets file"]) from None
    except tomllib.TOMLDecodeError as e:
        raise CalibrationInputError([f"{label}: not valid TOML: {e}"]) from None
    except UnicodeDecodeError as e:
        raise CalibrationInputError([f"{label}: not UTF-8 text: {e}"]) from None
    except RecursionError:
        raise CalibrationInputError([f"{label}: not valid TOML here: lists or tables nested thousands of levels "
                                     "deep (allowed: [[target]] tables of numbers and text)"]) from None
    return parse_targets(doc, label)


def fit_params(targets: Sequence[Target]) -> list[FitParam]:
    """The parameters to fit: one per distinct ``param`` of the fitted targets (bounds must agree)."""
    out: dict[str, FitParam] = {}
    problems = []
    for t in targets:
        if not (t.fit and t.param):
            continue
        spec = t.spec
        default = (spec.default_param or "").format(field=t.field, programme=t.programme)
        step = spec.step if t.param == default else DEFAULT_STEP * (t.high - t.low)
        if t.param in out:
            fp = out[t.param]
            if (fp.low, fp.high) != (t.low, t.high):
                problems.append(f"target {t.name}: bounds {t.low}:{t.high} of {t.param} differ from {fp.low}:{fp.high} "
                                f"set by target {fp.targets[0]} (allowed: the same bounds)")
                continue
            out[t.param] = replace(fp, targets=fp.targets + (t.name,))
        else:
            out[t.param] = FitParam(t.param, t.low, t.high, step, (t.name,))
    if problems:
        raise CalibrationInputError(problems)
    return list(out.values())


# ----------------------------------------------------------------------------- models

def _lookup(base: Mapping | None, changes: Mapping, key: str):
    if key in changes:
        return changes[key]
    node: Any = base
    for part in key.split("."):
        node = node[part]
    return node


def logistic_model(base: Mapping, changes: Mapping[str, float], options: Mapping) -> dict[str, list[float]]:
    """A cheap closed-form stand-in for the simulator, with the same Monte Carlo structure.

    Each field has ``options["staff"]`` people; person j leaves in a year when
    ``u_j < expit(exit_intercept)``; each programme has ``options["cohort"]``
    participants at term end who stay when ``u_j < post_term_stay``.  The
    uniforms depend only on (seed, replication, year, target) -- common random
    numbers -- so the simulated rates are deterministic, step-like functions
    of the parameters, like the simulator's.
    """
    from scipy.special import expit

    out: dict[str, list[float]] = {}
    seeds = np.random.SeedSequence(int(options["seed"])).spawn(int(options["replications"]))
    years = int(options.get("years") or 5)
    for t in options["targets"]:
        vals = []
        for r, ss in enumerate(seeds):
            label = f"{t['metric']}.{t['field'] or t['programme']}"
            tag = int.from_bytes(label.encode()[:8].ljust(8, b"\0"), "little")
            rng = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key + (tag,)))
            if t["metric"] == "exit_rate":
                p = float(expit(_lookup(base, changes, f"behaviour.exit_intercept.{t['field']}")))
                u = rng.random((years, int(options["staff"])))
                vals.append(float((u < p).mean()))
            elif t["metric"] == "post_term_stay":
                p = float(_lookup(base, changes, f"programmes.{t['programme']}.post_term_stay"))
                u = rng.random((years, int(options["cohort"])))
                vals.append(float((u < p).mean()))
            else:
                vals.append(float(_lookup(base, changes, f"programmes.{t['programme']}.places_per_year")))
        out[t["name"]] = vals
    return out


def simulate_targets(base: Mapping, changes: Mapping[str, float], options: Mapping) -> dict[str, list[float]]:
    """The simulator's values of the targets, one per replication (module-level: runs on workers)."""
    import scenarios
    import simulator

    from .sensitivity import _base_scenario, user_table

    sc = scenarios.apply(_base_scenario(base), dict(changes), label="calibration point")
    res = simulator.simulate(sc, provinces=options.get("provinces"), years=options.get("years"),
                             replications=int(options["replications"]), seed=int(options["seed"]), workers=1,
                             table=user_table(options),
                             county_metrics=("staff",), keep_records=True)
    return target_values(res, options["targets"])


# per-programme counts of participants reaching the end of their term and of those who stay;
# computed only when the simulator records them (see target_values)
TERM_END_REACHED = "term_end_reached_{programme}"
TERM_END_LEFT = "exits_term_end_{programme}"


def target_values(res, targets: Sequence[Mapping]) -> dict[str, list[float]]:
    """Per-replication simulated values of ``targets`` from a ``simulate(..., keep_records=True)`` result.

    Flows are summed over the simulated years (the ``start_year`` column, the
    initial state, is excluded) and over the simulated counties; rates are
    ratios of those sums.  A target the simulator cannot provide (no such
    record) gets NaN values, and is then left out of the fit with a note.
    """
    from simulator.metrics import RAW_INDEX
    from simulator.params import FIELDS as SIM_FIELDS, NF

    out: dict[str, list[float]] = {}
    recs = res.replication_records
    if not recs:
        raise ValueError("target_values: the result has no replication records (simulate with keep_records=True)")

    def flow(raw, name, field_index=None):
        a = raw[RAW_INDEX[name]]                 # [cells, years + 1], cell = county x field
        a = a[:, 1:]
        if field_index is not None:
            a = a[field_index::NF]
        return float(a.sum())

    for t in targets:
        vals = []
        for rec in recs:
            raw = rec.raw
            if t["metric"] == "exit_rate":
                f = SIM_FIELDS.index(t["field"])
                den = flow(raw, "staff_start", f)
                num = flow(raw, "exits", f) - flow(raw, "exits_retirement", f)
                vals.append(num / den if den > 0 else float("nan"))
            elif t["metric"] == "post_term_stay":
                reached = TERM_END_REACHED.format(programme=t["programme"])
                left = TERM_END_LEFT.format(programme=t["programme"])
                if reached not in RAW_INDEX or left not in RAW_INDEX:
                    vals.append(float("nan"))
                    continue
                n = flow(raw, reached)
                vals.append(1.0 - flow(raw, left) / n if n > 0 else float("nan"))
            elif t["metric"] == "recruits":
                name = f"recruits_{t['programme']}"
                years = raw.shape[-1] - 1
                vals.append(flow(raw, name) / years if name in RAW_INDEX else float("nan"))
            else:  # pragma: no cover - parse_targets admits only TARGET_METRICS
                raise ValueError(f"unknown target metric {t['metric']!r}")
        out[t["name"]] = vals
    return out


def _evaluate(task: tuple) -> dict[str, list[float]]:
    """Executor entry point: ``task`` is ``(model, base, changes, options)``."""
    model, base, changes, options = task
    return {k: [float(v) for v in vals] for k, vals in model(base, changes, options).items()}


# ----------------------------------------------------------------------------- the fit

class Calibration:
    """Fit parameters to targets: settings in the constructor, work in :meth:`fit`, results in ``*_`` attributes.

    ``model(base, changes, options) -> {target name: [value per replication]}``
    is a module-level function; ``options`` must hold ``seed`` and
    ``replications`` and receives ``targets`` (see :meth:`Target.as_option`).
    """

    def __init__(self, targets: Sequence[Target], *, model: Callable = simulate_targets, base: Mapping | None = None,
                 options: Mapping | None = None, params: Sequence[FitParam] | None = None,
                 validation_seed: int | None = None, max_evals: int = 40, ftol: float = 1e-3, xtol: float = 1e-3):
        self.targets = list(targets)
        self.model = model
        self.base = base
        self.options = dict(options or {})
        self.params = list(params) if params is not None else fit_params(self.targets)
        self.validation_seed = validation_seed
        self.max_evals = max_evals
        self.ftol = ftol
        self.xtol = xtol
        national = not self.options.get("provinces")
        # targets that can be compared in this run
        self.active = [t for t in self.targets if national or t.spec.scope != "national"]
        self.fitted = [t for t in self.active if t.fit and t.param in {p.key for p in self.params}]
        if not self.params:
            raise CalibrationInputError(["no parameter to fit (allowed: targets with fit = true and a param)"])
        if not self.fitted:
            raise CalibrationInputError(["no fitted target is comparable in this run (national targets need every province)"])

    # -- evaluation
    def _changes(self, x: Sequence[float]) -> dict[str, float]:
        out = dict(self._fixed)
        out.update({p.key: float(v) for p, v in zip(self.params, x)})
        return out

    def _task(self, changes: Mapping[str, float], seed=None) -> tuple:
        opts = dict(self.options)
        if seed is not None:
            opts["seed"] = seed
        opts["targets"] = [t.as_option() for t in self.active]
        return (self.model, self.base, dict(changes), opts)

    def _start(self) -> np.ndarray:
        x0 = []
        for p in self.params:
            v = float(_lookup(self.base, {}, p.key)) if self.base is not None else 0.5 * (p.low + p.high)
            margin = 1e-6 * (p.high - p.low)
            x0.append(min(max(v, p.low + margin), p.high - margin))
        return np.array(x0)

    def fit(self, executor=None, progress: Callable[[int, float], None] | None = None) -> "Calibration":
        """Minimise the loss; sets ``x_``, ``changes_``, ``table_``, ``param_table_``, ``history_``, ``success_`` ..."""
        from scipy.optimize import least_squares

        from .executors import SerialExecutor

        ex = executor if executor is not None else SerialExecutor()
        memo: dict[tuple, dict[str, list[float]]] = {}
        history: list[dict] = []
        self._fixed = {}
        self.unavailable_ = []

        def evaluate_many(xs: list[np.ndarray]) -> list[dict]:
            changes = [self._changes(x) for x in xs]
            keys = [tuple(sorted(c.items())) for c in changes]
            todo = list(dict.fromkeys(k for k in keys if k not in memo))
            for k, out in zip(todo, ex.map(_evaluate, [self._task(dict(k)) for k in todo])):
                memo[k] = out
                r = self._residuals(out)
                loss = float(np.nansum(r * r))   # NaN: a target the model cannot simulate (dropped after the start)
                history.append({"evaluation": len(history) + 1, **dict(k), "loss": loss})
                if progress is not None:
                    progress(len(history), loss)
            return [memo[k] for k in keys]

        # the start: also finds targets the model cannot provide (NaN), which are left out
        x0 = self._start()
        out0 = evaluate_many([x0])[0]
        self.unavailable_ = [t.name for t in self.active if not np.all(np.isfinite(out0[t.name]))]
        if self.unavailable_:
            self.fitted = [t for t in self.fitted if t.name not in self.unavailable_]
            keep = [i for i, p in enumerate(self.params) if any(t.param == p.key for t in self.fitted)]
            self._fixed = {p.key: float(v) for i, (p, v) in enumerate(zip(self.params, x0)) if i not in keep}
            self.params = [self.params[i] for i in keep]
            x0 = x0[keep]
            if not self.fitted:
                raise CalibrationInputError([f"no fitted target can be simulated (unavailable: {', '.join(self.unavailable_)})"])
            r = self._residuals(out0)
            history[0]["loss"] = float(r @ r)      # the loss over the targets that remain

        def fun(x):
            return self._residuals(evaluate_many([x])[0])

        def jac(x):
            h = np.array([p.step for p in self.params], dtype=float)
            hi = np.array([p.high for p in self.params])
            h = np.where(x + h > hi, -h, h)           # step backwards at the upper bound
            pts = [np.array(x, dtype=float)]
            for j in range(len(x)):
                xj = np.array(x, dtype=float)
                xj[j] += h[j]
                pts.append(xj)
            outs = evaluate_many(pts)
            r0 = self._residuals(outs[0])
            J = np.empty((len(r0), len(x)))
            for j in range(len(x)):
                J[:, j] = (self._residuals(outs[j + 1]) - r0) / h[j]
            return J

        lo = np.array([p.low for p in self.params])
        hi = np.array([p.high for p in self.params])
        res = least_squares(fun, x0, jac=jac, bounds=(lo, hi), method="trf", x_scale="jac",
                            ftol=self.ftol, xtol=self.xtol, gtol=1e-8, max_nfev=self.max_evals)
        self.x0_ = x0
        self.x_ = np.asarray(res.x, dtype=float)
        self.changes_ = {p.key: float(v) for p, v in zip(self.params, self.x_)}
        self.success_ = bool(res.success)
        self.message_ = str(res.message)
        self.n_evals_ = len(memo)
        self.history_ = pd.DataFrame(history)
        out1 = evaluate_many([self.x_])[0]
        r0, r1 = self._residuals(out0), self._residuals(out1)
        self.loss0_ = float(r0 @ r0)
        self.loss_ = float(r1 @ r1)
        validation = None
        if self.validation_seed is not None:
            validation = ex.map(_evaluate, [self._task(self._changes(self.x_), seed=self.validation_seed)])[0]
        self.table_ = self._table(out0, out1, validation)
        self.param_table_ = self._param_table(res)
        self.notes_ = self._notes()
        return self

    def _residuals(self, out: Mapping[str, list[float]]) -> np.ndarray:
        m = np.array([np.mean(out[t.name]) for t in self.fitted])
        return (m - np.array([t.value for t in self.fitted])) / np.array([t.sd for t in self.fitted])

    def _table(self, out0, out1, validation) -> pd.DataFrame:
        rows = []
        for t in self.targets:
            row = {"target": t.name, "metric": t.metric, "field": t.field or "", "programme": t.programme or "",
                   "param": t.param or "", "fitted": t in self.fitted, "observed": t.value, "sd": t.sd, "source": t.source}
            if t in self.active and t.name not in self.unavailable_:
                v0, v1 = np.asarray(out0[t.name]), np.asarray(out1[t.name])
                n = len(v1)
                row.update({"initial_mean": float(v0.mean()), "mean": float(v1.mean()),
                            "p05": float(np.quantile(v1, 0.05)), "p95": float(np.quantile(v1, 0.95)),
                            "mc_se": float(v1.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
                            "z": float((v1.mean() - t.value) / t.sd)})
                if validation is not None:
                    vv = np.asarray(validation[t.name])
                    row.update({"validation_mean": float(vv.mean()), "validation_z": float((vv.mean() - t.value) / t.sd)})
            rows.append(row)
        cols = ["target", "metric", "field", "programme", "param", "fitted", "observed", "sd", "initial_mean", "mean",
                "p05", "p95", "mc_se", "z", "validation_mean", "validation_z", "source"]
        return pd.DataFrame(rows).reindex(columns=cols)

    def _param_table(self, res) -> pd.DataFrame:
        # approximate standard errors from the Jacobian of the sd-scaled residuals: cov = (J'J)^-1
        se = np.full(len(self.params), np.nan)
        J = getattr(res, "jac", None)
        if J is not None:
            try:
                se = np.sqrt(np.diag(np.linalg.pinv(J.T @ J)))
            except np.linalg.LinAlgError:
                pass
        rows = []
        for p, a, b, e, act in zip(self.params, self.x0_, self.x_, se, np.asarray(res.active_mask)):
            rows.append({"param": p.key, "initial": float(a), "calibrated": float(b), "se_from_target_sd": float(e),
                         "low": p.low, "high": p.high, "at_bound": bool(act != 0), "targets": ";".join(p.targets)})
        return pd.DataFrame(rows)

    def _notes(self) -> list[str]:
        notes = []
        if not self.success_:
            notes.append(f"optimizer stopped: {self.message_}")
        for _, r in self.table_.iterrows():
            if r["fitted"] and np.isfinite(r["mc_se"]) and r["mc_se"] > WEAK_MC_RATIO * r["sd"]:
                notes.append(f"{r['target']}: Monte Carlo standard error {r['mc_se']:.3g} exceeds a third of the target sd "
                             f"{r['sd']:.3g}; use more replications")
        for _, r in self.param_table_.iterrows():
            if r["at_bound"]:
                notes.append(f"{r['param']}: calibrated value {r['calibrated']:.4g} is at its bound; widen low/high or check the target")
        if self.unavailable_:
            notes.append(f"not simulated by this model (left out): {', '.join(self.unavailable_)}")
        skipped = [t.name for t in self.targets if t not in self.active]
        if skipped:
            notes.append(f"not compared (national targets in a regional run): {', '.join(skipped)}")
        return notes

    def to_toml(self, name: str, extends: str, description: str = "") -> str:
        """The calibrated scenario file: only the fitted keys, over the scenario it ``extends``."""
        return scenario_toml(self.changes_, name=name, extends=extends, description=description,
                             comments={p.key: f"calibrated to {', '.join(p.targets)}" for p in self.params})


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def scenario_toml(changes: Mapping[str, float], name: str, extends: str, description: str = "",
                  comments: Mapping[str, str] | None = None) -> str:
    """A scenario file (TOML) stating ``changes`` (dotted keys) over ``extends``."""
    comments = comments or {}
    lines = [f"name = {_toml_str(name)}", f"description = {_toml_str(description)}", f"extends = {_toml_str(extends)}", ""]
    tables: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(changes):
        table, _, leaf = key.rpartition(".")
        tables.setdefault(table, []).append((key, leaf))
    for table in sorted(tables):
        lines.append(f"[{table}]")
        for key, leaf in tables[table]:
            v = changes[key]
            text = repr(int(v)) if isinstance(v, int) and not isinstance(v, bool) else repr(round(float(v), 6))
            c = comments.get(key)
            lines.append(f"{leaf} = {text}" + (f"  # {c}" if c else ""))
        lines.append("")
    return "\n".join(lines)


__all__ = ["TARGET_METRICS", "CalibrationInputError", "Target", "FitParam", "default_targets_path", "parse_targets",
           "load_targets", "fit_params", "logistic_model", "simulate_targets", "target_values", "Calibration",
           "scenario_toml"]
