"""The report's talent-flow block: where township and county-seat staff go, per year (``simulator.mobility``).

Built from the national summary (and, in a comparison, the paired differences), so it needs no extra
table: the origin -> destination matrix is the summary's flow metrics::

    origin \\ destination   county seat (same county)   other county            prefecture/province      city                 other sector
    township                moves_township_to_seat      moves_township_to_...   exits_upward_township    exits_city_township  exits_other_sector_township
    county seat             --                          moves_seat_to_other...  exits_upward - township  exits_city - ...     exits_other_sector - ...

Persons per year, means over replications (a flow of one year is the sum over counties and fields).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure

from .figures import _finish, _styled, _year_axis
from .labels import Labels, as_labels, label, text
from .numbers import fixed, fmt_g4

DESTINATIONS = ("county_seat", "other_county", "prefecture_province", "city", "other_sector")
#: catalogue keys of the destinations and origins (locales/*.toml, section [flows])
DEST_KEYS = tuple(f"dest_{d}" for d in DESTINATIONS)
ORIGIN_KEYS = ("origin_township", "origin_county_seat")
FLOW_METRICS = ("moves_township_to_seat", "moves_township_to_other_county", "moves_seat_to_other_county",
                "exits_upward", "exits_upward_township", "exits_city", "exits_city_township",
                "exits_other_sector", "exits_other_sector_township")
COMPARED = ("moves_township_to_seat", "moves_township_to_other_county", "moves_seat_to_other_county",
            "township_move_rate", "cross_county_move_rate", "township_staff")
COLORS = ("#1f77b4", "#9467bd", "#2ca02c", "#d62728", "#7f7f7f")


def has_flows(summary: pd.DataFrame | None) -> bool:
    return summary is not None and "moves_township_to_seat" in set(summary["metric"].astype(str))


def matrix(summary: pd.DataFrame, scenario: str, year: int) -> pd.DataFrame:
    """Origin (township, county seat) x destination (``DESTINATIONS``) persons in ``year`` (national means)."""
    s = summary[(summary["scenario"] == scenario) & (summary["year"] == year)].set_index("metric")["mean"]
    g = lambda m: float(s.get(m, 0.0))  # noqa: E731
    town = [g("moves_township_to_seat"), g("moves_township_to_other_county"), g("exits_upward_township"),
            g("exits_city_township"), g("exits_other_sector_township")]
    seat = [0.0, g("moves_seat_to_other_county"), g("exits_upward") - g("exits_upward_township"),
            g("exits_city") - g("exits_city_township"), g("exits_other_sector") - g("exits_other_sector_township")]
    return pd.DataFrame([town, seat], index=["township", "county_seat"], columns=list(DESTINATIONS))


def flow_figure(summary: pd.DataFrame, lang: str = "en", scenarios: Sequence[str] | None = None,
                labels: Labels | None = None) -> Figure:
    """Township outflows by destination per year, stacked bars, one panel per scenario (at most four).
    The starting year is left out: the simulator records it before anything flows."""
    L = (labels or as_labels(lang)).for_figures()
    scen = list(scenarios or dict.fromkeys(summary["scenario"].astype(str)))[:4]
    years = sorted(int(y) for y in summary["year"].unique())[1:]
    names = [L(k) for k in DEST_KEYS]
    with _styled(L):
        fig = Figure(figsize=(4.2 * len(scen) + 1.5, 3.6), layout="constrained")
        axes = fig.subplots(1, len(scen), sharey=True, squeeze=False)[0]
        for ax, sc in zip(axes, scen):
            bottom = [0.0] * len(years)
            for k, dest in enumerate(DESTINATIONS):
                vals = [float(matrix(summary, sc, y).loc["township", dest]) for y in years]
                ax.bar(years, vals, bottom=bottom, color=COLORS[k], label=names[k], width=0.8)
                bottom = [b + v for b, v in zip(bottom, vals)]
            ax.set_title(L.scenario(sc))
            ax.set_xlabel(L("year"))
            _year_axis(ax)                      # whole years only (bars stand at integer years)
            ax.grid(axis="y", alpha=0.3)
        axes[0].set_ylabel(L.text("flows_axis"))
        axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _finish(fig)


def add_flows(report, summary: pd.DataFrame, comparison: pd.DataFrame | None = None) -> None:
    """The flow section: the figure, the origin -> destination matrix of the last year for each scenario, and
    (in a comparison) the paired differences of the flow metrics in the last year with their 90% intervals."""
    lang = report.lang
    report.section("flows")
    report.add_figure("", flow_figure(summary, lang, labels=report.figure_labels), caption=text("caption_flows", lang),
                      alt=label("flows", lang), name="flows")
    last = int(summary["year"].max())
    dl, ol = [label(k, lang) for k in DEST_KEYS], [label(k, lang) for k in ORIGIN_KEYS]
    for sc in dict.fromkeys(summary["scenario"].astype(str)):
        m = matrix(summary, sc, last)
        df = m.reset_index(drop=True)
        df.columns = list(dl)
        df.insert(0, label("origin", lang), list(ol))
        title = text("flows_matrix_title", lang, scenario=report.labels.scenario(sc), year=last)
        report.add_table(title, df, formats={c: fixed(0) for c in dl},
                         headers={c: c for c in df.columns})
    if comparison is not None and len(comparison):
        c = comparison[comparison["metric"].isin(COMPARED) & (comparison["year"] == last)]
        if len(c):
            ci = ["ci_low", "ci_high"] if "ci_low" in c.columns else ["p05", "p95"]  # older comparison.csv
            df = c[["scenario", "metric", "base", "mean_diff"] + ci].reset_index(drop=True)
            df.columns = ["scenario", "metric", "base", "mean_diff", "ci_low", "ci_high"]
            report.add_table(text("flows_compare_title", lang, year=last), df,
                             formats={k: fmt_g4 for k in ("base", "mean_diff", "ci_low", "ci_high")})
