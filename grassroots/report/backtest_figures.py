"""Figures of the backtest (``grassroots backtest``): published against simulated, one panel per series.

A *series* is the figures of one output for one programme or field (e.g. special-post teachers recruited
per year, 2017-2025).  Each panel shows the published values (black dots with the tolerance as error
bars), the simulated means (line) with their 5-95% range over replications (band), and a vertical line
after the last fitted year: points to its right are held out.  Built from the backtest table only.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figures import FIG_WIDTH, color


def series_key(row) -> str:
    """The series a backtest row belongs to: output and its programme or field (from the figure id)."""
    parts = str(row["figure"]).split(".")
    return ".".join(parts[:-1]) if len(parts) > 1 else str(row["figure"])


def backtest_panels(table: pd.DataFrame, fitted_last_year: int = 2020, per_row: int = 3) -> Figure:
    """One panel per series of the backtest table (columns of ``grassroots.studies.backtest.TABLE_COLUMNS``)."""
    t = table.copy()
    t["series"] = [series_key(r) for _, r in t.iterrows()]
    keys = list(dict.fromkeys(t["series"]))
    rows = max(1, math.ceil(len(keys) / per_row))
    fig = Figure(figsize=(FIG_WIDTH, 2.6 * rows))
    axes = fig.subplots(rows, per_row, squeeze=False)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(axes.ravel(), keys):
        s = t[t["series"] == key].sort_values("year")
        x = s["year"].to_numpy()
        ax.fill_between(x, s["p05"], s["p95"], color=color(0), alpha=0.2, linewidth=0)
        ax.plot(x, s["simulated"], "-o", color=color(0), markersize=3, label="simulated")
        ax.errorbar(x, s["published"], yerr=s["tolerance"], fmt="o", color="black", markersize=3, capsize=2,
                    label="published ± tolerance")
        missed = s[~s["within"]]
        ax.plot(missed["year"], missed["simulated"], "x", color=color(1), markersize=7, label="outside tolerance")
        if x.min() <= fitted_last_year < x.max() or len(x) == 1:
            ax.axvline(fitted_last_year + 0.5, color="grey", linestyle=":", linewidth=1)
        ax.set_title(key, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(min(x.min(), fitted_last_year) - 0.7, max(x.max(), fitted_last_year + 1) + 0.7)
    axes.ravel()[0].legend(fontsize=6, loc="best")
    fig.suptitle(f"Backtest: published vs simulated (dotted line: fitted years to {fitted_last_year} | held out)",
                 fontsize=9)
    fig.tight_layout()
    return fig
