"""Figures from tidy result tables (never from models).

Every function takes DataFrames in the formats of DESIGN.md ("Command line and
files") and returns a new :class:`matplotlib.figure.Figure`.  Nothing here uses
``pyplot``: figures are plain ``Figure`` objects rendered with Agg, so no state
is shared between calls and nothing opens a window.  Style and fonts are applied
with :func:`matplotlib.rc_context` while a figure is built, and the figure is
laid out once inside that context, so every text -- tick labels included --
keeps its font when it is saved later.

``labels`` is a :class:`grassroots.report.labels.Labels` (language and scenario display
names), ``"en"``/``"zh"``, or None for English.  Chinese labels need a CJK font;
without one the figure is drawn in English (see :mod:`grassroots.report.labels`).

Functions: :func:`trajectories`, :func:`county_strips`, :func:`county_differences`,
helpers :func:`county_totals` and :func:`to_png`.  The figures of the studies and the optimizer
(waterfall, allocation, frontier, tornado, budget probability) are in :mod:`grassroots.report.study_figures`.
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Iterable, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .labels import Labels, as_labels, has_bold, is_flow, metric_kind, unit
from .numbers import compact_yuan as _compact_yuan

#: widest figure in inches: at 110 dpi it shows at about its natural size in the report's column
FIG_WIDTH = 9.6

DEFAULT_METRICS = ("coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan")

#: scenario colours, colour-blind safe (Okabe-Ito); the first scenario is the base
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D1F", "#000000")
LEVER_PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2", "#EDC948", "#B07AA1",
                 "#FF9DA7", "#9C755F", "#BAB0AC", "#1B9E77", "#7570B3", "#E7298A", "#66A61E", "#A6761D", "#666666")
POSITIVE, NEGATIVE, TOTAL = "#2E7D32", "#C62828", "#455A64"
UP, DOWN = "#3B75AF", "#E08A2C"  # direction only, for metrics that are neither good nor bad (cost)

#: the direction in which a metric improves; colours then mean better (green) or worse (red)
HIGHER_IS_BETTER = ("coverage", "staff", "recruits", "senior_share", "intermediate_share", "mean_skill",
                    "probability", "special_post_staff", "programme_staff")
LOWER_IS_BETTER = ("vacancies", "exits", "turnover_rate", "coverage_gini", "share_counties_below_80pct",
                   "shortfall", "weighted_shortfall")

#: metrics that add up over fields (and over counties), besides every count and amount of yuan
ADDITIVE = ("staff", "demand", "vacancies", "recruits", "exits", "cost_yuan", "shortfall",
            "weighted_shortfall", "programme_staff", "special_post_staff", "flexible_fte")

#: ratios rebuilt from their parts when fields are combined (as the simulator defines them)
RATIO_PARTS = {
    "coverage": ("staff", "demand"),
    "vacancy_rate": ("vacancies", "authorized_posts"),
    "turnover_rate": ("exits", "staff_start"),
    "exit_rate": ("exits", "staff_start"),
    "senior_share": ("senior_titles", "staff"),
    "senior_post_share": ("senior_posts", "staff"),
    "mean_skill": ("skill_sum", "staff"),
    "fill_rate": ("recruits_open", "recruitment_quota"),
}

_STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.8,
    "axes.edgecolor": "#9E9E9E",
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 8,
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#333333",
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
}


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (no timestamp or software tag, so the bytes are reproducible)."""
    buf = io.BytesIO()
    # constrained layout already fits everything inside the figure: no bbox_inches="tight" (a second draw)
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


# ----------------------------------------------------------------------------- helpers

def change_colors(metric: str) -> tuple[str, str]:
    """Colours of an increase and a decrease of ``metric``: green/red where the good direction is known."""
    if metric in HIGHER_IS_BETTER:
        return POSITIVE, NEGATIVE
    if metric in LOWER_IS_BETTER:
        return NEGATIVE, POSITIVE
    return UP, DOWN


@contextlib.contextmanager
def _styled(L: Labels):
    rc = dict(_STYLE)
    if L.font is not None:
        rc["font.family"] = [L.font, "DejaVu Sans"]
        rc["axes.unicode_minus"] = False  # many CJK fonts lack U+2212
        if not has_bold(L.font):
            rc["axes.titleweight"] = "normal"
    with matplotlib.rc_context(rc):
        yield


def _finish(fig: Figure) -> Figure:
    """Create each axis's prototype ticks inside the style context.

    Matplotlib makes tick labels lazily at draw time, copying the properties of
    the first tick; creating that tick now makes every later tick label keep the
    style and the (CJK) font even when the figure is saved outside the context.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.majorTicks[0]
            axis.minorTicks[0]
    return fig


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {', '.join(missing)} (has: {', '.join(map(str, df.columns))})")


def _ordered(values: Iterable, first: Sequence = ()) -> list:
    seen = list(dict.fromkeys(values))
    head = [v for v in first if v in seen]
    return head + [v for v in seen if v not in head]


def _province_code(p) -> str:
    """Province codes read from CSV come back as integers (62); show them as '62'."""
    if isinstance(p, (int, np.integer)) or (isinstance(p, float) and float(p).is_integer()):
        return f"{int(p):02d}"
    return str(p)


def unit_axis(metric, L: Labels, diff: bool = False) -> str:
    """An axis title that is the unit of ``metric``'s values (the panel title names the metric)."""
    u = unit(metric, L.lang, diff)
    return u[:1].upper() + u[1:]


def drop_flow_start(d: pd.DataFrame, metric: str, start) -> pd.DataFrame:
    """Rows of a flow metric (recruits, exits, turnover, cost ...) without the starting year: the
    simulator records that year before anything flows, so its flows are zero by construction."""
    if start is None or not is_flow(metric) or "year" not in d.columns:
        return d
    return d[d["year"] != start]


def _format_axis(axis, metric: str, L: Labels, diff: bool = False) -> str:
    """Tick format for ``metric`` (the axis title carries the unit: see :func:`unit_axis`); returns ''."""
    kind = metric_kind(metric)
    if kind == "share":
        if diff:  # percentage points; Chinese puts the unit in the axis label, not on every tick
            pp = "" if L.lang == "zh" else " pp"
            axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 100:+.3g}{pp}" if x else "0"))
            return ""
        else:
            axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    elif kind == "yuan":
        axis.set_major_formatter(FuncFormatter(lambda x, _: _compact_yuan(x, L.lang)))
    elif kind == "count":
        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 10 or x == 0 else f"{x:.3g}"))
    return ""


def _year_axis(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(round(x))}"))


def _has_band(d: pd.DataFrame, lo: str = "p05", hi: str = "p95") -> bool:
    return lo in d.columns and hi in d.columns and bool(d[[lo, hi]].notna().all().all())


def _pick_year(df: pd.DataFrame, year) -> int | None:
    if "year" not in df.columns or df["year"].isna().all():
        return None
    if year is None:
        return int(df["year"].max())
    years = set(int(y) for y in df["year"].dropna().unique())
    if int(year) not in years:
        raise ValueError(f"year {year} not in the table (has: {', '.join(map(str, sorted(years)))})")
    return int(year)


# ----------------------------------------------------------------------------- trajectories

def trajectories(summary: pd.DataFrame, metrics: Sequence[str] = DEFAULT_METRICS,
                 labels: Labels | str | None = None, scenarios: Sequence[str] | None = None,
                 ncols: int | None = None) -> Figure:
    """One panel per metric, one line per scenario (mean) with its p05-p95 band (spread across
    replications), x = year.  Flow metrics (:func:`grassroots.report.labels.is_flow`) start at the
    first simulated year: the table's first year holds the state before anything flows.

    ``summary`` has the columns of ``summary.csv``: ``scenario,year,metric,mean,p05,p95``.
    Metrics absent from the table are skipped; ``scenarios`` fixes their order
    (default: order of appearance; the first is the base).
    """
    _require(summary, ["scenario", "year", "metric", "mean"], "summary")
    L = as_labels(labels).for_figures()
    have = set(summary["metric"])
    present = [m for m in metrics if m in have]
    if not present:
        raise ValueError(f"summary: none of the metrics {', '.join(metrics)} (has: {', '.join(sorted(map(str, have)))})")
    scen = list(scenarios) if scenarios is not None else _ordered(summary["scenario"])
    n = len(present)
    ncols = ncols or min(3, n)
    nrows = math.ceil(n / ncols)
    with _styled(L):
        fig = Figure(figsize=(FIG_WIDTH * ncols / 3, 2.7 * nrows + 0.5), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        banded = False
        start = summary["year"].min() if "year" in summary.columns and len(summary) else None
        for ax, m in zip(axes, present):
            dm = drop_flow_start(summary[summary["metric"] == m], m, start)
            for i, s in enumerate(scen):
                d = dm[dm["scenario"] == s].sort_values("year")
                if d.empty:
                    continue
                if _has_band(d):
                    ax.fill_between(d["year"], d["p05"], d["p95"], color=color(i), alpha=0.18, linewidth=0)
                    banded = True
                ax.plot(d["year"], d["mean"], color=color(i), linewidth=2, label=L.scenario(s),
                        marker="o" if len(d) <= 15 else None, markersize=3)
            ax.set_title(L(m))
            ax.set_xlabel(L("year"))
            ax.set_ylabel(unit_axis(m, L))
            _year_axis(ax)
            _format_axis(ax.yaxis, m, L)
        for ax in axes[n:]:
            fig.delaxes(ax)
        handles = [matplotlib.lines.Line2D([], [], color=color(i), linewidth=2, label=L.scenario(s)) for i, s in enumerate(scen)]
        if banded:
            handles.append(Patch(color="#888888", alpha=0.3,
                                 label=L.text("fig_band_spread")))
        fig.legend(handles=handles, loc="outside upper left", ncols=min(len(handles), 4))
        return _finish(fig)


# ----------------------------------------------------------------------------- counties

def county_totals(counties: pd.DataFrame, metric: str = "coverage", year: int | None = None) -> pd.DataFrame:
    """One row per (scenario, county) for ``metric`` in ``year`` (default: the last year).

    ``counties`` has the columns of ``counties.csv``.  Rows with ``field == "all"``
    are used when present.  Otherwise fields are combined: additive metrics
    (staff, demand, vacancies, cost ...) are summed; ``coverage`` is total staff /
    total demand and ``turnover_rate`` total exits / total staff (ratios of
    means).  Intervals cannot be combined across fields, so p05/p95 are then NaN.
    Returns ``scenario, county_id, province, mean, p05, p95``.
    """
    _require(counties, ["scenario", "county_id", "metric", "mean"], "counties")
    y = _pick_year(counties, year)
    d = counties if y is None else counties[counties["year"] == y]
    keys = ["scenario", "county_id"] + (["province"] if "province" in d.columns else [])
    out_cols = ["scenario", "county_id", "province", "mean", "p05", "p95"]

    def finish(t: pd.DataFrame) -> pd.DataFrame:
        t = t.copy()
        if "province" not in t.columns:
            t["province"] = ""
        t["province"] = t["province"].map(_province_code)
        for c in ("p05", "p95"):
            if c not in t.columns:
                t[c] = np.nan
        if t.duplicated(["scenario", "county_id"]).any():
            raise ValueError(f"counties: several rows per scenario and county for {metric!r} in {y}")
        return t[out_cols].reset_index(drop=True)

    dm = d[d["metric"] == metric]
    if "field" not in d.columns:
        if dm.empty:
            raise ValueError(f"counties: no rows for metric {metric!r}" + (f" in {y}" if y is not None else ""))
        return finish(dm)
    if (dm["field"] == "all").any():
        return finish(dm[dm["field"] == "all"])
    fields = d[d["field"] != "all"]

    def summed(m: str) -> pd.Series:
        t = fields[fields["metric"] == m]
        if t.empty:
            raise ValueError(f"counties: no rows for {m!r}" + (f" in {y}" if y is not None else "")
                             + f", needed for {metric!r}")
        return t.groupby(keys, sort=False, observed=True)["mean"].sum()

    if metric in RATIO_PARTS:
        num, den = RATIO_PARTS[metric]
        res = (summed(num) / summed(den)).rename("mean").reset_index()
    elif metric in ADDITIVE or metric_kind(metric) in ("count", "yuan"):
        res = summed(metric).rename("mean").reset_index()
    elif not dm.empty and dm["field"].nunique() == 1:
        res = dm
    else:
        raise ValueError(f"counties: {metric!r} has no field='all' rows and cannot be combined across "
                         f"fields (combinable: counts, amounts of yuan and {', '.join(RATIO_PARTS)})")
    return finish(res)


def _province_panel(ax, df: pd.DataFrame, value: str, scen: list[str], L: Labels, order: list[str],
                    color_offset: int = 0) -> None:
    """Dots per county in one column per province (dodged by scenario), with the median marked."""
    rng = np.random.default_rng(20160701)  # fixed jitter: the same figure every time
    k = len(scen)
    width = 0.8 / k
    pos = {p: i for i, p in enumerate(order)}
    for j, s in enumerate(scen):
        d = df[df["scenario"] == s]
        if d.empty:
            continue
        x = d["province"].map(pos).to_numpy(float) + (j - (k - 1) / 2) * width
        jitter = rng.uniform(-0.35, 0.35, len(d)) * width
        ax.scatter(x + jitter, d[value], s=7 if len(df) > 1500 else 12, color=color(j + color_offset), alpha=0.55, linewidths=0, label=L.scenario(s))
        med = d.groupby("province", observed=True)[value].median()
        mx = np.array([pos[p] for p in med.index], float) + (j - (k - 1) / 2) * width
        ax.hlines(med.to_numpy(), mx - width * 0.45, mx + width * 0.45, colors="black", linewidth=1.6)
    ax.set_xticks(range(len(order)), [L(p) for p in order],
                  rotation=0 if len(order) <= (14 if L.lang == "zh" else 8) else 90)
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(L("province"))


def county_strips(counties: pd.DataFrame, metric: str = "coverage", year: int | None = None,
                  labels: Labels | str | None = None, scenarios: Sequence[str] | None = None,
                  reference: float | None = None) -> Figure:
    """The distribution of ``metric`` across counties in ``year`` (default: the last year).

    Top: every county sorted by its value, one line per scenario (x = share of
    counties), with each county's p05-p95 band when available; for coverage a
    reference line at 80% (``reference``) and the share of counties below it in
    the legend.  Bottom (when there are several provinces): one strip of county
    dots per province, the median marked, provinces sorted by the base median.
    """
    L = as_labels(labels).for_figures()
    tot = county_totals(counties, metric, year)
    y = _pick_year(counties, year)
    scen = list(scenarios) if scenarios is not None else _ordered(tot["scenario"])
    if reference is None and metric == "coverage":
        reference = 0.8
    provinces = [p for p in tot["province"].unique() if p != ""]
    by_province = len(provinces) > 1
    with _styled(L):
        fig = Figure(figsize=(FIG_WIDTH, 7.0 if by_province else 3.6), layout="constrained")
        axes = fig.subplots(2 if by_province else 1, 1, squeeze=False).ravel()
        ax = axes[0]
        for i, s in enumerate(scen):
            d = tot[tot["scenario"] == s].sort_values("mean")
            if d.empty:
                continue
            x = (np.arange(len(d)) + 0.5) / len(d)
            if _has_band(d):
                ax.fill_between(x, d["p05"], d["p95"], color=color(i), alpha=0.15, linewidth=0, step="mid")
            name = L.scenario(s)
            if reference is not None:
                below = float((d["mean"] < reference).mean())
                name = L.text("fig_below_ref", name=name, share=f"{below:.0%}", ref=f"{reference:.0%}")
            ax.plot(x, d["mean"], color=color(i), linewidth=2, label=name)
        if reference is not None:
            ax.axhline(reference, color="#777777", linestyle="--", linewidth=1)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlim(0, 1)
        ax.set_xlabel(L.axis("county_rank", "share_of_counties"))
        ax.set_ylabel(unit_axis(metric, L))
        _format_axis(ax.yaxis, metric, L)
        title = L(metric) + (f" — {y}" if y is not None else "")
        ax.set_title(title)
        ax.legend(loc="upper left")
        if by_province:
            base = tot[tot["scenario"] == scen[0]]
            order = list(base.groupby("province", observed=True)["mean"].median().sort_values().index)
            order += [p for p in provinces if p not in order]
            _province_panel(axes[1], tot, "mean", scen, L, order)
            _format_axis(axes[1].yaxis, metric, L)
            axes[1].set_ylabel(unit_axis(metric, L))
            if reference is not None:
                axes[1].axhline(reference, color="#777777", linestyle="--", linewidth=1)
            axes[1].set_title(L.text("fig_by_province", title=L(metric)))
        return _finish(fig)


def county_differences(counties_base: pd.DataFrame, counties_other: pd.DataFrame, metric: str = "coverage",
                       year: int | None = None, labels: Labels | str | None = None) -> Figure:
    """Per-county difference of each other scenario from the base, as a sorted strip.

    ``counties_base`` holds the base scenario's county rows, ``counties_other``
    those of one or more other scenarios (rows of the base scenario in it are
    ignored, so the same table may be passed twice).  The difference is of county
    means; the counts of counties that improved and worsened are in the legend.
    With several provinces a second panel shows the differences by province.
    """
    L = as_labels(labels).for_figures()
    base = county_totals(counties_base, metric, year)
    base_names = _ordered(base["scenario"])
    if len(base_names) != 1:
        raise ValueError(f"counties_base: expected one scenario, found {', '.join(map(str, base_names))}")
    other = county_totals(counties_other, metric, year)
    other = other[~other["scenario"].isin(base_names)]
    if other.empty:
        raise ValueError("counties_other: no scenario other than the base")
    y = _pick_year(counties_base, year)
    merged = other.merge(base[["county_id", "mean"]].rename(columns={"mean": "base"}), on="county_id", how="inner")
    if merged.empty:
        raise ValueError("county_differences: the two tables have no county in common")
    merged["diff"] = merged["mean"] - merged["base"]
    scen = _ordered(merged["scenario"])
    provinces = [p for p in merged["province"].unique() if p != ""]
    by_province = len(provinces) > 1
    with _styled(L):
        fig = Figure(figsize=(FIG_WIDTH, 7.0 if by_province else 3.6), layout="constrained")
        axes = fig.subplots(2 if by_province else 1, 1, squeeze=False).ravel()
        ax = axes[0]
        scale = float(np.nanmax(np.abs(merged["diff"]))) if len(merged) else 0.0
        tol = 1e-9 * max(scale, 1e-12)
        for i, s in enumerate(scen, start=1):
            d = merged[merged["scenario"] == s].sort_values("diff")
            x = (np.arange(len(d)) + 0.5) / len(d)
            up, down = int((d["diff"] > tol).sum()), int((d["diff"] < -tol).sum())
            if metric in LOWER_IS_BETTER:
                up, down = down, up
            if metric in HIGHER_IS_BETTER or metric in LOWER_IS_BETTER:
                words = (L("improved"), L("worsened"))
            else:
                words = (L("higher"), L("lower"))
            name = L.text("fig_counties_changed", name=L.scenario(s), up=up, down=down, better=words[0],
                          worse=words[1])
            if len(scen) == 1:
                c_up, c_down = change_colors(metric)
                ax.fill_between(x, 0, d["diff"], where=d["diff"] >= 0, color=c_up, alpha=0.25,
                                linewidth=0, interpolate=True)
                ax.fill_between(x, 0, d["diff"], where=d["diff"] < 0, color=c_down, alpha=0.25,
                                linewidth=0, interpolate=True)
            ax.plot(x, d["diff"], color=color(i), linewidth=2, label=name)
        ax.axhline(0, color="#333333", linewidth=0.9)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlim(0, 1)
        ax.set_xlabel(L.axis("county_rank", "share_of_counties"))
        _format_axis(ax.yaxis, metric, L, diff=True)
        ax.set_ylabel(L.axis("difference", metric, diff=True))
        ax.set_title(L.text("fig_versus", metric=L(metric), base=L.scenario(base_names[0]))
                     + (f" — {y}" if y is not None else ""))
        ax.legend(loc="upper left")
        if by_province:
            order = list(merged[merged["scenario"] == scen[0]].groupby("province", observed=True)["diff"].median()
                         .sort_values().index)
            # colours as in the strip above (colour 0 is the base)
            _province_panel(axes[1], merged, "diff", scen, L, order, color_offset=1)
            axes[1].axhline(0, color="#333333", linewidth=0.9)
            _format_axis(axes[1].yaxis, metric, L, diff=True)
            axes[1].set_ylabel(L.axis("difference", metric, diff=True))
            axes[1].set_title(L.text("fig_by_province", title=L("difference")))
        return _finish(fig)
