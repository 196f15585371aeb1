"""Backtest: run the history scenario from 2016 and set every simulated figure beside the published one.

The published figures live in ``scenarios/data/published.toml`` (value, year,
unit, definition, source, tolerance, the output they map to, and their role:
``outcome`` or ``input-check``).  :func:`backtest` simulates the scenario
(default ``history-2016-2025``) nationally with a few replications and returns
the backtest table, one row per figure::

    figure, year, source, published, simulated, p05, p95, tolerance, within, held_out, role, unit, output

``simulated`` is the mean over replications, ``p05``/``p95`` their 5-95% range,
``within`` = ``|simulated - published| <= tolerance``, ``held_out`` = the figure's
year is after ``FITTED_LAST_YEAR`` (2020): the fit (``calibrate``) uses only
the outcome figures of 2017-2020, so 2021-2025 are out of sample.  An
``input-check`` figure is the same number the history scenario takes as an
input (programme places): reproducing it checks that places are filled, not
a prediction; :func:`summary` counts outcomes and input checks separately.

Run::

    grassroots backtest [SCENARIO] [--replications 2] [--out DIR]

(``grassroots.cli.backtest`` writes the result folder).  Figures are
national: the run always covers every province.  No argparse and no printing
here (a study).
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

FITTED_LAST_YEAR = 2020
DEFAULT_SCENARIO = "history-2016-2025"
DEFAULT_SEED = 20160701
FIELDS = ("science", "education", "engineering", "agriculture", "health")
ROLES = ("outcome", "input-check")
TABLE_COLUMNS = ["figure", "year", "source", "published", "simulated", "p05", "p95", "tolerance", "within",
                 "held_out", "role", "unit", "output"]

# output kind -> the arguments it needs (beyond the common keys)
OUTPUTS: dict[str, tuple[str, ...]] = {
    "programme_recruits": ("programme",),
    "programme_recruits_cumulative": ("programme", "offset"),
    "programme_fill_share": ("programme",),
    "programme_counties_reached": ("programme",),
    "programme_cost_per_participant": ("programme",),
    "programme_region_share": ("programme", "regions"),
    "programme_completion": ("programme", "compare_years"),
    "township_staff": ("field",),
    "township_share": ("field", "stock"),
    "township_retirements": ("field",),
    "township_exit_rate": ("field", "compare_years"),
    "upward_share_of_exits": ("field", "compare_years"),
    "coverage": ("field",),
    "township_growth": ("field",),
}
COMMON = ("id", "value", "year", "unit", "definition", "source", "tolerance", "output", "role")
OPTIONAL = ("field", "programme", "offset", "regions", "stock", "compare_years")
SHARE_STOCKS = ("township_staff_under_35", "township_mid_senior_titles")


class PublishedError(ValueError):
    """Bad published-figures file; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def published_path() -> Path:
    return Path(str(resources.files("scenarios") / "data" / "published.toml"))


def parse_published(doc: Mapping, label: str = "published.toml") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(figures, excluded) tables from a parsed published-figures document; every problem at once."""
    from simulator.params import PROGRAMMES, REGIONS
    problems: list[str] = []
    rows = []
    for i, f in enumerate(doc.get("figure") or []):
        where = f"{label}: figure[{i}]"
        for k in f:
            if k not in COMMON + OPTIONAL:
                problems.append(f"{where}.{k}: unknown key (allowed: {', '.join(COMMON + OPTIONAL)})")
        for k in COMMON:
            if k not in f:
                problems.append(f"{where}.{k}: missing")
        out = f.get("output")
        if out not in OUTPUTS:
            problems.append(f"{where}.output: {out!r} is not allowed (allowed: {', '.join(OUTPUTS)})")
            continue
        for k in OUTPUTS[out]:
            if k not in f:
                problems.append(f"{where}.{k}: missing (output {out} needs {', '.join(OUTPUTS[out])})")
        for k in ("value", "tolerance", "offset"):
            if k in f and (isinstance(f[k], bool) or not isinstance(f[k], (int, float)) or not math.isfinite(f[k])):
                problems.append(f"{where}.{k}: expected a number, got {f[k]!r}")
        if isinstance(f.get("tolerance"), (int, float)) and not f["tolerance"] > 0:
            problems.append(f"{where}.tolerance: {f['tolerance']!r} is not allowed (allowed: a number > 0)")
        if not isinstance(f.get("year"), int) or not 2000 <= f["year"] <= 2100:
            problems.append(f"{where}.year: {f.get('year')!r} is not allowed (allowed: a calendar year)")
        if f.get("role") not in ROLES:
            problems.append(f"{where}.role: {f.get('role')!r} is not allowed (allowed: {', '.join(ROLES)})")
        if "field" in f and f["field"] not in FIELDS:
            problems.append(f"{where}.field: {f['field']!r} is not allowed (allowed: {', '.join(FIELDS)})")
        if "programme" in f and f["programme"] not in PROGRAMMES:
            problems.append(f"{where}.programme: {f['programme']!r} is not allowed (allowed: {', '.join(PROGRAMMES)})")
        if "stock" in f and f["stock"] not in SHARE_STOCKS:
            problems.append(f"{where}.stock: {f['stock']!r} is not allowed (allowed: {', '.join(SHARE_STOCKS)})")
        if "regions" in f and (not isinstance(f["regions"], list) or any(r not in REGIONS for r in f["regions"])):
            problems.append(f"{where}.regions: {f['regions']!r} is not allowed (allowed: a list of {', '.join(REGIONS)})")
        cy = f.get("compare_years")
        if cy is not None and not (isinstance(cy, list) and len(cy) == 2 and all(isinstance(y, int) for y in cy)
                                   and cy[0] <= cy[1]):
            problems.append(f"{where}.compare_years: {cy!r} is not allowed (allowed: [first year, last year])")
        rows.append({k: f.get(k) for k in COMMON + OPTIONAL})
    ids = [r["id"] for r in rows]
    for d in sorted({x for x in ids if ids.count(x) > 1}):
        problems.append(f"{label}: figure id {d!r} is used twice (allowed: unique ids)")
    if not rows:
        problems.append(f"{label}: figure: missing (allowed: one or more [[figure]] tables)")
    if problems:
        raise PublishedError(problems)
    excluded = pd.DataFrame(doc.get("excluded") or [], columns=["figure", "reason"])
    return pd.DataFrame(rows), excluded


def load_published(path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published figures (default: the bundled ``scenarios/data/published.toml``), validated."""
    p = Path(path) if path is not None else published_path()
    try:
        with open(p, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PublishedError([f"{p}: cannot read: {e}"]) from None
    return parse_published(doc, str(p.name))


# ----------------------------------------------------------------------------- simulated values

class _Run:
    """One replication's raw record with the lookups the outputs need."""

    def __init__(self, raw: np.ndarray, params, county_region: np.ndarray):
        from simulator.metrics import RAW_INDEX
        self.raw, self.p, self.region = raw, params, county_region
        self.ix = RAW_INDEX
        self.nf = len(FIELDS)

    def col(self, year: int) -> int:
        i = year - self.p.start_year
        if not 0 <= i < self.raw.shape[-1]:
            raise ValueError(f"year {year} is outside the simulated years {self.p.start_year}-"
                             f"{self.p.start_year + self.raw.shape[-1] - 1}")
        return i

    def cells(self, name: str, field: str | None = None) -> np.ndarray:
        a = self.raw[self.ix[name]]
        return a if field is None else a[FIELDS.index(field)::self.nf]

    def total(self, name, years, field=None) -> float:
        a = self.cells(name, field)
        return float(sum(a[:, self.col(y)].sum() for y in years))

    def by_county(self, name: str, cols) -> np.ndarray:
        a = self.raw[self.ix[name]][:, cols]
        return a.reshape(-1, self.nf, a.shape[-1]).sum(axis=(1, 2))


def _years(fig) -> range:
    cy = fig.get("compare_years")
    if isinstance(cy, (list, tuple)) and len(cy) == 2:
        return range(int(cy[0]), int(cy[1]) + 1)
    return range(int(fig["year"]), int(fig["year"]) + 1)


def figure_value(run: _Run, fig: Mapping) -> float:
    """The simulated counterpart of one published figure (see ``published.toml`` for each output kind)."""
    from simulator.params import PROGRAMMES, REGIONS
    out, y = fig["output"], int(fig["year"])
    prog, field = fig.get("programme"), fig.get("field")
    rec = f"recruits_{prog}" if prog else None
    ratio = lambda a, b: a / b if b > 0 else float("nan")  # noqa: E731
    if out == "programme_recruits":
        return run.total(rec, [y])
    if out == "programme_recruits_cumulative":
        return float(fig["offset"]) + run.total(rec, range(run.p.start_year + 1, y + 1))
    if out == "programme_fill_share":
        j = PROGRAMMES.index(prog)
        return ratio(run.total(rec, [y]), float(run.p.at(y).prog_places[j]))
    if out == "programme_counties_reached":
        cols = [run.col(v) for v in range(run.p.start_year + 1, y + 1)]
        return float((run.by_county(rec, cols) > 0).sum())
    if out == "programme_cost_per_participant":
        j = PROGRAMMES.index(prog)
        term = int(run.p.at(y).prog_term[j])
        recent = run.total(rec, [v for v in range(y - term + 1, y + 1) if v > run.p.start_year])
        return ratio(run.total(f"cost_programme_{prog}_yuan", [y]), recent)
    if out == "programme_region_share":
        per_county = run.by_county(rec, [run.col(y)])
        sel = np.isin(run.region, [REGIONS.index(r) for r in fig["regions"]])
        return ratio(float(per_county[sel].sum()), float(per_county.sum()))
    if out == "programme_completion":
        j = PROGRAMMES.index(prog)
        yrs = list(_years(fig))
        term = int(run.p.at(yrs[-1]).prog_term[j])
        return ratio(run.total(f"term_end_reached_{prog}", yrs), run.total(rec, [v - term for v in yrs]))
    if out == "township_staff":
        return run.total("township_staff", [y], field)
    if out == "township_share":
        return ratio(run.total(fig["stock"], [y], field), run.total("township_staff", [y], field))
    if out == "township_retirements":
        return run.total("township_retirements", [y], field)
    if out == "township_exit_rate":
        yrs = list(_years(fig))
        return ratio(run.total("township_exits", yrs, field), run.total("township_staff", [v - 1 for v in yrs], field))
    if out == "upward_share_of_exits":
        yrs = list(_years(fig))
        up = run.total("exits_city", yrs, field) + run.total("exits_upward", yrs, field)
        return ratio(up, run.total("exits", yrs, field) - run.total("exits_retirement", yrs, field))
    if out == "coverage":
        return ratio(run.total("staff", [y], field), run.total("demand", [y], field))
    if out == "township_growth":
        return ratio(run.total("township_staff", [y], field), run.total("township_staff", [y - 1], field)) - 1.0
    raise ValueError(f"unknown output {out!r}")  # pragma: no cover - parse_published admits only OUTPUTS


def figure_values(result, figures: pd.DataFrame, scenario) -> dict[str, list[float]]:
    """``{figure id: [value per replication]}`` from a ``simulate(..., keep_records=True)`` result."""
    from simulator.params import REGIONS, as_params
    from simulator.replicate import resolve_table
    p = as_params(scenario)
    table = resolve_table(scenario, None, None)
    region = table["region"].map({r: i for i, r in enumerate(REGIONS)}).to_numpy()
    runs = [_Run(rec.raw, p, region) for rec in result.replication_records]
    last = p.start_year + result.replication_records[0].raw.shape[-1] - 1
    out = {}
    for fig in figures.to_dict("records"):            # figures after the simulated years: NaN
        inside = max(int(fig["year"]), max(_years(fig))) <= last
        out[fig["id"]] = [figure_value(r, fig) if inside else float("nan") for r in runs]
    return out


def simulate_figures(base: Mapping | None, changes: Mapping[str, float], options: Mapping) -> dict[str, list[float]]:
    """Calibration model (``grassroots.calibration.Calibration``): the figures' values for ``changes``.

    ``options``: ``scenario`` (name or path), ``replications``, ``seed``, ``figures`` (records),
    optionally ``years``.  Module-level so it runs on workers.
    """
    import scenarios
    import simulator
    sc = scenarios.load(options.get("scenario", DEFAULT_SCENARIO))
    if changes:
        sc = scenarios.apply(sc, dict(changes), label="calibration point")
    res = simulator.simulate(sc, years=options.get("years"), replications=int(options["replications"]),
                             seed=int(options["seed"]), workers=1, county_metrics=("staff",), keep_records=True)
    figs = pd.DataFrame(options["figures"])
    return figure_values(res, figs, sc)


# ----------------------------------------------------------------------------- the study

def backtest_table(values: Mapping[str, Sequence[float]], figures: pd.DataFrame) -> pd.DataFrame:
    """The backtest table (module docstring) from per-replication values and the figures."""
    rows = []
    for fig in figures.to_dict("records"):
        v = np.asarray(values[fig["id"]], dtype=float)
        mean = float(np.mean(v))
        rows.append({"figure": fig["id"], "year": int(fig["year"]), "source": fig["source"],
                     "published": float(fig["value"]), "simulated": mean,
                     "p05": float(np.quantile(v, 0.05)), "p95": float(np.quantile(v, 0.95)),
                     "tolerance": float(fig["tolerance"]),
                     "within": bool(np.isfinite(mean) and abs(mean - fig["value"]) <= fig["tolerance"]),
                     "held_out": int(fig["year"]) > FITTED_LAST_YEAR, "role": fig["role"], "unit": fig["unit"],
                     "output": fig["output"]})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Figures within tolerance: all, fitted period, held out; outcomes and input checks."""
    rows = []
    for period, sel in (("all", slice(None)), ("fitted 2017-2020", ~table["held_out"]),
                        ("held out 2021-2025", table["held_out"])):
        sub = table[sel]
        for role in ("all", *ROLES):
            s = sub if role == "all" else sub[sub["role"] == role]
            rows.append({"period": period, "role": role, "figures": len(s), "within": int(s["within"].sum()),
                         "share_within": float(s["within"].mean()) if len(s) else float("nan")})
    return pd.DataFrame(rows)


def backtest(scenario=DEFAULT_SCENARIO, *, replications: int = 2, seed: int = DEFAULT_SEED, workers: int = 1,
             figures: pd.DataFrame | None = None, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(backtest table, summary) of ``scenario`` (a name, path or Scenario) against the published figures."""
    import scenarios
    import simulator
    sc = scenarios.load(scenario) if isinstance(scenario, (str, Path)) else scenario
    if figures is None:
        figures, _ = load_published()
    res = simulator.simulate(sc, replications=replications, seed=seed, workers=workers, county_metrics=("staff",),
                             keep_records=True, progress=progress)
    table = backtest_table(figure_values(res, figures, sc), figures)
    return table, summary(table)


def fit_targets(figures: pd.DataFrame, params: Mapping[str, tuple[float, float, Sequence[str]]]):
    """Calibration targets: the outcome figures of the fitted period named in ``params`` ({key: (low, high, ids)}).

    Each figure's sd is half its tolerance (within tolerance = within 2 sd).  The targets use the
    ``recruits`` metric spec of ``grassroots.calibration`` only for its national scope and
    finite-difference step; their values come from :func:`simulate_figures`.
    """
    from .calibration import Target
    by_id = {f["id"]: f for f in figures.to_dict("records")}
    out = []
    for key, (low, high, ids) in params.items():
        for i in ids:
            f = by_id[i]
            if f["year"] > FITTED_LAST_YEAR:
                raise ValueError(f"{i}: a held-out figure cannot be fitted")
            out.append(Target(name=i, metric="recruits", value=float(f["value"]), sd=float(f["tolerance"]) / 2,
                              source=f["source"], programme="special_post_teachers", param=key,
                              low=float(low), high=float(high)))
    return out
