"""Figures of the studies and the optimizer, from their tidy tables (never from models).

:func:`waterfall` (lever decomposition), :func:`allocation_by_province`, :func:`frontier` (budget sweep),
:func:`frontier_figure` (the stand-alone ``frontier.png`` of ``grassroots frontier``), :func:`tornado`
(sensitivity indices), :func:`probability_curve` (budget sizing with confidence).  Same conventions as
:mod:`grassroots.report.figures`: plain ``Figure`` objects, styled while built, English without a CJK font.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .figures import (change_colors, color, _compact_yuan, FIG_WIDTH, _finish, _format_axis, _has_band, LEVER_PALETTE,
                      _ordered, _pick_year, _province_code, _require, _styled, TOTAL, unit_axis)
from .labels import LEVER_ORDER, Labels, as_labels, metric_kind


# ----------------------------------------------------------------------------- decomposition

def _annotation(metric: str, v: float, L: Labels) -> str:
    kind = metric_kind(metric)
    if kind == "yuan":
        return ("+" if v > 0 else "") + _compact_yuan(v, L.lang) if v else "0"
    if kind == "share" and L.lang == "zh":  # the unit (百分点) is in the axis label
        return f"{v * 100:+.1f}".replace("-", "−") if round(v * 100, 1) else "0"
    return L.value(metric, v, diff=True)


MANY_BARS = 12        # more bars than this (one per lever): label only the large ones, ticks upright
LABEL_SHARE = 0.08    # ... those of at least this share of the largest value (total or one bar)


def waterfall(decomposition: pd.DataFrame, metric: str = "coverage", labels: Labels | str | None = None,
              year: int | None = None) -> Figure:
    """Shapley lever decomposition of ``metric`` in ``year`` (default: the last) as a waterfall.

    ``decomposition`` has ``metric,year,lever,contribution`` with a ``lever ==
    "total"`` row.  One floating bar per lever family (canonical order; zero
    contributions are drawn, flat), then the total from zero.  Should the
    contributions not add up to the total, the gap is drawn as its own
    "residual" bar rather than hidden.
    """
    _require(decomposition, ["metric", "lever", "contribution"], "decomposition")
    L = as_labels(labels).for_figures()
    d = decomposition[decomposition["metric"] == metric]
    if d.empty:
        raise ValueError(f"decomposition: no rows for metric {metric!r}")
    y = _pick_year(d, year)
    if y is not None:
        d = d[d["year"] == y]
    parts = d[d["lever"] != "total"]
    levers = _ordered(parts["lever"], first=LEVER_ORDER)
    values = [float(parts.loc[parts["lever"] == lv, "contribution"].sum()) for lv in levers]
    ses = ([float(parts.loc[parts["lever"] == lv, "se"].fillna(0.0).sum()) for lv in levers]
           if "se" in parts.columns else None)   # by lever (sampled Shapley): error bars of +-1 SE
    tot_rows = d[d["lever"] == "total"]
    total = float(tot_rows["contribution"].iloc[0]) if len(tot_rows) else float(sum(values))
    residual = total - float(sum(values))
    scale = max([abs(total)] + [abs(v) for v in values] + [1e-300])
    if abs(residual) > 1e-9 * scale:
        levers.append("residual")
        values.append(residual)
    with _styled(L):
        fig = Figure(figsize=(min(FIG_WIDTH, max(6.0, 0.95 * (len(levers) + 1) + 1.5)),
                            6.0 if len(levers) > MANY_BARS else 4.0), layout="constrained")
        ax = fig.add_subplot()
        cum = 0.0
        up, down = change_colors(metric)
        xs = list(range(len(levers) + 1))
        for i, (lv, v) in enumerate(zip(levers, values)):
            c = up if v > 0 else (down if v < 0 else "#9E9E9E")
            ax.bar(i, v, bottom=cum, color=c, width=0.62, edgecolor="white", gid=f"lever:{lv}")
            if ses is not None and i < len(ses) and ses[i] > 0:
                ax.errorbar(i, cum + v, yerr=ses[i], color="#333333", linewidth=0.9, capsize=2.5)
            ax.plot([i - 0.31, i + 1.31], [cum + v, cum + v], color="#9E9E9E", linewidth=0.8, linestyle=":")
            # above a rising bar, below a falling one; with many bars (one per lever) only the bars of at
            # least LABEL_SHARE of the largest value, so the labels do not overlap (decomposition.csv has all)
            if len(levers) <= MANY_BARS or abs(v) >= LABEL_SHARE * scale:
                ax.annotate(_annotation(metric, v, L), (i, max(cum, cum + v) if v >= 0 else min(cum, cum + v)),
                            xytext=(0, 3 if v >= 0 else -3), textcoords="offset points", ha="center",
                            va="bottom" if v >= 0 else "top", fontsize=8.5)
            cum += v
        ax.bar(len(levers), total, bottom=0.0, color=TOTAL, width=0.62, edgecolor="white", gid="lever:total")
        ax.annotate(_annotation(metric, total, L), (len(levers), total),
                    xytext=(0, 3 if total >= 0 else -3), textcoords="offset points", ha="center",
                    va="bottom" if total >= 0 else "top",
                    fontsize=9, fontweight=matplotlib.rcParams["axes.titleweight"])
        ax.axhline(0, color="#333333", linewidth=0.9)
        many = len(levers) > MANY_BARS
        ax.set_xticks(xs, [L(lv) for lv in levers] + [L("total")], rotation=90 if many else 25,
                      ha="center" if many else "right", fontsize=7.5 if many else None)
        ax.grid(axis="x", visible=False)
        _format_axis(ax.yaxis, metric, L, diff=True)
        ax.set_ylabel(L.axis("contribution", metric, diff=True))  # the metric's unit
        # bars are sticky at their bases, so margins() cannot make room for the labels: set limits
        levels = np.concatenate([[0.0, total], np.cumsum(values)])
        lo, hi = float(levels.min()), float(levels.max())
        pad = 0.12 * ((hi - lo) or max(abs(hi), 1e-12))
        ax.set_ylim(lo - pad if lo < 0 else lo, hi + pad if hi > 0 else hi + pad * 0.25)
        ax.set_title(L(metric) + (f" — {y}" if y is not None else ""))
        return _finish(fig)


# ----------------------------------------------------------------------------- optimizer

def allocation_by_province(allocation: pd.DataFrame, labels: Labels | str | None = None,
                           value: str = "cost_yuan") -> Figure:
    """Stacked horizontal bars of ``value`` (default cost) by province, one colour per lever.

    ``allocation`` has the columns of ``allocation.csv``
    (``county_id,province,field,lever,quantity,cost_yuan``).  Provinces are
    sorted by their total (largest on top); levers with a zero total are left out.
    """
    _require(allocation, ["province", "lever", value], "allocation")
    L = as_labels(labels).for_figures()
    a = allocation.assign(province=allocation["province"].map(_province_code))
    table = a.groupby(["province", "lever"], observed=True)[value].sum().unstack(fill_value=0.0)
    table = table.loc[:, table.sum(axis=0) != 0]
    if table.empty:
        raise ValueError(f"allocation: every {value} is zero")
    table = table[list(table.sum(axis=0).sort_values(ascending=False).index)]
    table = table.loc[table.sum(axis=1).sort_values(ascending=True).index]
    n = len(table)
    width = FIG_WIDTH * 0.9
    # legend below, in as many columns as its longest label allows (a clipped legend is useless)
    names = [L(lv) for lv in table.columns]
    # a CJK character is about twice as wide as a Latin one
    col_in = 0.45 + 0.068 * max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in t) for t in names)
    ncols = max(1, min(len(names), int(width * 0.95 // col_in)))
    legend_rows = math.ceil(len(names) / ncols)
    with _styled(L):
        fig = Figure(figsize=(width, max(2.2, 0.27 * n + 1.3) + 0.24 * legend_rows), layout="constrained")
        ax = fig.add_subplot()
        left = np.zeros(n)
        ypos = np.arange(n)
        for j, lv in enumerate(table.columns):
            w = table[lv].to_numpy(float)
            ax.barh(ypos, w, left=left, height=0.72, color=LEVER_PALETTE[j % len(LEVER_PALETTE)],
                    label=L(lv), edgecolor="white", linewidth=0.4)
            left += w
        ax.set_yticks(ypos, [L(p) for p in table.index])
        ax.grid(axis="y", visible=False)
        _format_axis(ax.xaxis, value, L)
        ax.set_xlabel(L(value))
        ax.set_title(L("allocation_by_province"))
        fig.legend(loc="outside lower center", ncols=ncols)
        return _finish(fig)


FRONTIER_METRICS = ("coverage", "shortfall", "weighted_shortfall", "marginal_value_per_yuan")


def frontier(frontier_df: pd.DataFrame, labels: Labels | str | None = None,
             metrics: Sequence[str] = FRONTIER_METRICS) -> Figure:
    """Budget (x) against coverage, shortfall and marginal value per yuan: one panel per column present."""
    _require(frontier_df, ["budget_yuan"], "frontier")
    L = as_labels(labels).for_figures()
    present = [m for m in metrics if m in frontier_df.columns and frontier_df[m].notna().any()]
    if not present:
        raise ValueError(f"frontier: none of the columns {', '.join(metrics)}")
    d = frontier_df.sort_values("budget_yuan")
    n = len(present)
    with _styled(L):
        fig = Figure(figsize=(min(3.4 * n, FIG_WIDTH), 3.2), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False).ravel()
        for i, (ax, m) in enumerate(zip(axes, present)):
            if m == "marginal_value_per_yuan":  # per yuan the numbers are ~1e-6: drawn per ¥1 million
                ax.plot(d["budget_yuan"], d[m] * 1e6, color=color(i), linewidth=2, marker="o", markersize=3.5)
                ax.set_title(L("marginal_value_per_million_yuan"))
                ax.set_xlabel(L("budget_yuan"))
                ax.set_ylabel(unit_axis("marginal_value_per_million_yuan", L))
                _format_axis(ax.xaxis, "budget_yuan", L)
                continue
            ax.plot(d["budget_yuan"], d[m], color=color(i), linewidth=2, marker="o", markersize=3.5)
            lo, hi = f"{m}_p05", f"{m}_p95"
            if _has_band(d, lo, hi):
                ax.fill_between(d["budget_yuan"], d[lo], d[hi], color=color(i), alpha=0.18, linewidth=0)
            ax.set_title(L(m))
            ax.set_xlabel(L("budget_yuan"))
            ax.set_ylabel(unit_axis(m, L))
            _format_axis(ax.xaxis, "budget_yuan", L)
            _format_axis(ax.yaxis, m, L)
        return _finish(fig)


# ----------------------------------------------------------------------------- sensitivity

INDEX_ORDER = ("mu_star", "sigma", "mu", "ST", "S1", "S2")
PRIMARY_INDEX = ("ST", "mu_star", "S1", "mu", "sigma")


def tornado(sensitivity_df: pd.DataFrame, metric: str = "coverage", labels: Labels | str | None = None,
            top: int = 15) -> Figure:
    """Sensitivity indices of ``metric`` per parameter as horizontal bars with confidence intervals.

    ``sensitivity_df`` has ``metric,param,index,value,conf`` (index such as
    mu_star/sigma for Morris or S1/ST for Sobol; ``conf`` is the half-width).
    Parameters are sorted by the main index (ST, else mu_star), largest on top;
    only the ``top`` largest are shown.
    """
    _require(sensitivity_df, ["param", "index", "value"], "sensitivity")
    L = as_labels(labels).for_figures()
    d = sensitivity_df
    if "metric" in d.columns:
        d = d[d["metric"] == metric]
        if d.empty:
            raise ValueError(f"sensitivity: no rows for metric {metric!r}")
    indices = _ordered(d["index"], first=INDEX_ORDER)
    primary = next((i for i in PRIMARY_INDEX if i in indices), indices[0])
    rank = d[d["index"] == primary].groupby("param", observed=True)["value"].max().sort_values(ascending=False)
    params = list(rank.index[:top])
    params += [p for p in _ordered(d["param"]) if p not in rank.index][: max(0, top - len(params))]
    k = len(indices)
    h = 0.8 / k
    with _styled(L):
        height = max(2.4, 0.42 * len(params) * max(1.0, k * 0.6) + 1.4)
        fig = Figure(figsize=(FIG_WIDTH * 0.85, height), layout="constrained")
        ax = fig.add_subplot()
        ypos = np.arange(len(params))
        for j, ix in enumerate(indices):
            di = d[d["index"] == ix].groupby("param", observed=True)
            vals = di["value"].mean().reindex(params).to_numpy(float)
            conf = (di["conf"].mean().reindex(params).to_numpy(float) if "conf" in d.columns
                    else np.full(len(params), np.nan))
            err = np.where(np.isfinite(conf), conf, 0.0)
            ax.barh(ypos + (j - (k - 1) / 2) * h, np.nan_to_num(vals), height=h * 0.92,
                    color=LEVER_PALETTE[j % len(LEVER_PALETTE)], label=L(ix),
                    xerr=err, error_kw={"ecolor": "#333333", "elinewidth": 1, "capsize": 2.5})
        ax.set_yticks(ypos, [L(p) for p in params])
        ax.invert_yaxis()
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        morris = bool(set(indices) & {"mu_star", "sigma", "mu"})
        ax.set_xlabel(L.axis("index", "morris" if morris else "sobol"))
        ax.set_title(L(metric))
        ax.legend(loc="lower right")
        return _finish(fig)


def probability_curve(df: pd.DataFrame, target: float | None = None, budget: float | None = None,
                      labels: Labels | str | None = None) -> Figure:
    """Budget (x) against the probability of reaching the target, with its interval.

    ``df`` has ``budget_yuan,probability`` and optionally ``p_low,p_high`` (the
    Monte Carlo interval of the probability).  ``target`` draws the required
    confidence as a horizontal line, ``budget`` the sized budget as a vertical one.
    """
    _require(df, ["budget_yuan", "probability"], "probability")
    L = as_labels(labels).for_figures()
    d = df.sort_values("budget_yuan")
    with _styled(L):
        fig = Figure(figsize=(7.5, 3.8), layout="constrained")
        ax = fig.add_subplot()
        if _has_band(d, "p_low", "p_high"):
            ax.fill_between(d["budget_yuan"], d["p_low"], d["p_high"], color=color(0), alpha=0.2, linewidth=0,
                            label=L.text("mc_interval"))
        ax.plot(d["budget_yuan"], d["probability"], color=color(0), linewidth=2, marker="o", markersize=4,
                label=L("probability"))
        if target is not None:
            ax.axhline(target, color=color(1), linestyle="--", linewidth=1.2,
                       label=f"{L('target')}: {target:.0%}")
        if budget is not None:
            ax.axvline(budget, color="#333333", linestyle=":", linewidth=1.2,
                       label=L.text("sized_budget") + f": {L.value('budget_yuan', budget)}")
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        _format_axis(ax.xaxis, "budget_yuan", L)
        ax.set_xlabel(L("budget_yuan"))
        ax.set_ylabel(L.axis("probability", "probability"))
        ax.set_title(L("probability"))
        ax.legend(loc="lower right")
        return _finish(fig)


# ----------------------------------------------------------------------------- frontier.png

def frontier_figure(table, title: str = "budget frontier"):
    """Coverage, weighted shortfall and marginal value per million yuan against the budget."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    b = table["budget_yuan"] / 1e9
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    ax1.plot(b, table["weighted_shortfall"], marker="o", color="tab:red", label="weighted shortfall")
    ax1.set_ylabel("weighted shortfall (persons)")
    ax1b = ax1.twinx()
    ax1b.plot(b, table["coverage"], marker="s", color="tab:blue", label="coverage")
    ax1b.set_ylabel("coverage (staff / demand)")
    lines = ax1.get_lines() + ax1b.get_lines()
    ax1.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    ax1.set_title(title)
    ax2.step(b, table["marginal_value_per_yuan"] * 1e6, where="mid", color="tab:green")
    ax2.set_ylabel("weighted shortfall removed\nper extra million yuan")
    ax2.set_xlabel("budget (billion yuan per year)")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig
