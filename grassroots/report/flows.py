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

DESTINATIONS = ("county_seat", "other_county", "prefecture_province", "city", "other_sector")
DEST_LABELS = {
    "en": ("County seat (same county)", "Other county", "Prefecture/province", "City", "Other sector"),
    "zh": ("本县县城", "外县", "地市/省级", "城市", "其他行业"),
}
ORIGIN_LABELS = {"en": ("Township", "County seat"), "zh": ("乡镇", "县城")}
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


def flow_figure(summary: pd.DataFrame, lang: str = "en", scenarios: Sequence[str] | None = None) -> Figure:
    """Township outflows by destination per year, stacked bars, one panel per scenario (at most four)."""
    scen = list(scenarios or dict.fromkeys(summary["scenario"].astype(str)))[:4]
    years = sorted(int(y) for y in summary["year"].unique())[1:]
    fig = Figure(figsize=(4.2 * len(scen) + 1.5, 3.6))
    axes = fig.subplots(1, len(scen), sharey=True, squeeze=False)[0]
    names = DEST_LABELS["zh" if lang == "zh" else "en"]
    for ax, sc in zip(axes, scen):
        bottom = [0.0] * len(years)
        for k, dest in enumerate(DESTINATIONS):
            vals = [float(matrix(summary, sc, y).loc["township", dest]) for y in years]
            ax.bar(years, vals, bottom=bottom, color=COLORS[k], label=names[k], width=0.8)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_title(sc, fontsize=10)
        ax.set_xlabel("年份" if lang == "zh" else "Year")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("乡镇流出人数/年" if lang == "zh" else "Township staff leaving per year (persons)")
    axes[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def add_flows(report, summary: pd.DataFrame, comparison: pd.DataFrame | None = None) -> None:
    """The flow section: the figure, the origin -> destination matrix of the last year for each scenario, and
    (in a comparison) the paired differences of the flow metrics in the last year with their 90% intervals."""
    zh = report.lang == "zh"
    report.section("人才流动" if zh else "Talent flows", key="flows")
    cap = ("乡镇人员每年的去向（县城、外县、地市/省级岗位、城市、其他行业），重复实验均值。" if zh else
           "Where township staff go each year (own county seat, another county, prefecture/province posts, "
           "city, other sector); means over replications.")
    report.add_figure("", flow_figure(summary, report.lang), caption=cap,
                      alt="人才流动" if zh else "Talent flows", name="flows")
    last = int(summary["year"].max())
    dl, ol = DEST_LABELS["zh" if zh else "en"], ORIGIN_LABELS["zh" if zh else "en"]
    for sc in dict.fromkeys(summary["scenario"].astype(str)):
        m = matrix(summary, sc, last)
        df = m.reset_index(drop=True)
        df.columns = list(dl)
        df.insert(0, "起点" if zh else "Origin", list(ol))
        title = f"{sc}: {last}" + (" 年流向矩阵（人）" if zh else " origin -> destination (persons)")
        report.add_table(title, df, formats={c: (lambda x: f"{x:,.0f}") for c in dl},
                         headers={c: c for c in df.columns})
    if comparison is not None and len(comparison):
        c = comparison[comparison["metric"].isin(COMPARED) & (comparison["year"] == last)]
        if len(c):
            df = c[["scenario", "metric", "base", "mean_diff", "p05", "p95"]].reset_index(drop=True)
            title = (f"{last} 年流动的配对差异（90% 区间）" if zh
                     else f"Paired differences of flows in {last} (90% interval, common random numbers)")
            report.add_table(title, df, formats={k: (lambda x: f"{x:,.4g}") for k in ("base", "mean_diff", "p05", "p95")})
