"""Map blocks of the report: county choropleths of coverage, change against the base and allocation;
the county maps are followed by a table of the counties with their names and prefectures (the
allocation's per-county table is :func:`grassroots.report.tables.county_allocation_table`).

Called by :func:`grassroots.report.write.write_report` on the tables a command produced, on a
:class:`~grassroots.report.document.ReportDocument`; each map is a figure of the report (embedded, and
saved as ``figures/<name>.png`` in a result folder).  Strings come from the catalogues (``[maps]``).  Maps are drawn
only for county ids of the bundled division list (a user table with other ids gets no map, and a note);
national runs (more than ``NATIONAL_FROM`` provinces) get a map of provinces as well as of counties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import figures as F
from . import maps as M

NATIONAL_FROM = 8   # provinces: from this many on, a province map is added


def _known(ids) -> bool:
    import scenarios
    return set(map(str, ids)) <= set(scenarios.divisions()["code"])


def _texts(report):
    """Figure labels (English when no CJK font is installed) and their 'no data' legend entry."""
    L = report.figure_labels
    return L, L.text("map_no_data")


def add_county_maps(report, counties: pd.DataFrame, base: str | None = None, metric: str = "coverage") -> None:
    """Coverage at the last year per county (base scenario) and, for other scenarios, the change from it."""
    tot = F.county_totals(counties, metric)
    if tot.empty:
        return
    if not _known(tot["county_id"]):
        report.add_note(report.T("map_not_divisions"))
        return
    L, missing = _texts(report)
    year = F._pick_year(counties, None)
    scen = F._ordered(tot["scenario"])
    b = base if base in scen else scen[0]
    report.section("county_maps")
    first = tot[tot["scenario"] == b].set_index(tot[tot["scenario"] == b]["county_id"].astype(str))["mean"]
    provinces = sorted({c[:2] for c in first.index})
    what = L(metric)
    title = f"{L.scenario(b)} · {what} · {year}" if year is not None else f"{L.scenario(b)} · {what}"
    fig = M.county_map(first, label=what, title=title, font=L.font, missing_label=missing)
    report.add_figure("", fig, alt=title, name=f"map-{metric}")
    if len(provinces) >= NATIONAL_FROM:
        by_prov = _province_ratio(counties, tot, b, metric)
        if by_prov is not None:
            fig = M.province_map(by_prov, label=what, title=L.text("map_provinces_title", scenario=L.scenario(b), metric=what),
                                 font=L.font, missing_label=missing)
            report.add_figure("", fig, alt=what, name=f"map-provinces-{metric}")
    T = report.labels
    table = {T.scenario(b): first}
    for s in scen:
        if s == b:
            continue
        other = tot[tot["scenario"] == s].set_index(tot[tot["scenario"] == s]["county_id"].astype(str))["mean"]
        diff = (other - first).dropna()
        lab = L.text("map_change_from", metric=what, base=L.scenario(b))
        fig = M.county_map(diff.reindex(first.index), label=lab, title=f"{L.scenario(s)} − {L.scenario(b)}",
                           cmap="RdBu", center=0.0, font=L.font, missing_label=missing)
        report.add_figure("", fig, alt=lab, name=f"map-change-{metric}-{s}")
        if len(table) < 4:
            table[f"{T.scenario(s)} − {T.scenario(b)}"] = diff
    cap = report.T("caption_county_map_table", metric=T(metric), year=year, base=T.scenario(b))
    _county_table(report, table, sort=T.scenario(b), ascending=True,
                  formats={k: metric for k in table}, caption=cap)


def _names() -> pd.DataFrame:
    import scenarios
    d = scenarios.divisions()
    return d.set_index("code")[["name", "prefecture_name"]]


def _county_table(report, values: dict[str, pd.Series], sort: str, ascending: bool, formats: dict,
                  caption: str) -> None:
    """One row per county with its name and prefecture, sorted (at most 200 rows shown)."""
    df = pd.DataFrame(values)
    df.index = df.index.astype(str)
    names = _names().reindex(df.index)
    df.insert(0, "prefecture_name", names["prefecture_name"].to_numpy())
    df.insert(0, "name", names["name"].to_numpy())
    df = df.sort_values(sort, ascending=ascending, kind="stable").rename_axis("county_id").reset_index()
    T = report.labels
    headers = {"name": T("county_name"), "prefecture_name": T("prefecture"), "county_id": T("county_id")}
    headers.update({k: k for k in values})
    report.add_table(None, df, formats=formats, headers=headers, caption=caption)


def _province_ratio(counties, tot, scenario, metric):
    """Province values: ratios rebuilt from their summed parts (coverage = staff / demand), else means."""
    parts = F.RATIO_PARTS.get(metric)
    if parts:
        num = F.county_totals(counties, parts[0])
        den = F.county_totals(counties, parts[1])
        num = num[num["scenario"] == scenario].groupby("province")["mean"].sum()
        den = den[den["scenario"] == scenario].groupby("province")["mean"].sum()
        return (num / den.replace(0, np.nan)).dropna()
    t = tot[tot["scenario"] == scenario]
    return t.groupby("province")["mean"].mean()


def add_allocation_maps(report, allocation: pd.DataFrame) -> None:
    """Money (yuan/year) and persons/posts (levers counted in persons or posts) allocated per county.

    The per-county table with names is the sortable one of ``study_sections.add_allocation``."""
    if allocation is None or allocation.empty or "county_id" not in allocation.columns:
        return
    ids = allocation["county_id"].astype(str)
    if not _known(ids):
        return
    L, _ = _texts(report)
    nothing = L.text("map_nothing_allocated")
    provinces = sorted({c[:2] for c in ids})
    money = allocation.assign(county_id=ids).groupby("county_id")["cost_yuan"].sum()
    if not (money > 0).any():   # no lever used: nothing to map (the allocation block says so)
        return
    lab = L.text("map_allocated_yuan")
    fig = M.county_map(money.where(money > 0), label=lab, title=lab, cmap="YlOrRd", vmin=0, font=L.font,
                       missing_label=nothing, provinces=provinces)
    report.add_figure("", fig, caption=report.T("caption_allocation_maps", n=f"{int((money > 0).sum()):,}"),
                      alt=lab, name="map-allocation-yuan")
    persons = allocation[~allocation["lever"].isin(["township_subsidy", "hardship_topup"])]
    if "quantity" in allocation.columns and not persons.empty:
        q = persons.assign(county_id=persons["county_id"].astype(str)).groupby("county_id")["quantity"].sum()
        lab = L.text("map_allocated_persons")
        fig = M.county_map(q.where(q > 0), label=lab, title=lab, cmap="PuBu", vmin=0, font=L.font,
                           missing_label=nothing, provinces=provinces)
        report.add_figure("", fig, alt=lab, name="map-allocation-persons")


def net_flows(flows: pd.DataFrame, scenario: str | None = None) -> pd.Series:
    """Net talent flow per county over all years and fields (persons): arrivals from other counties minus
    departures to other counties, to prefecture/province posts, to cities and to other sectors.  Moves
    between a county's townships and its own seat stay inside the county and do not count."""
    f = flows if scenario is None else flows[flows["scenario"] == scenario]
    f = f.assign(origin_county=f["origin_county"].astype(str))
    out_rows = f[f["destination"] != "county_seat"]
    leaving = out_rows.groupby("origin_county")["persons"].sum()
    arriving = f[f["destination"] == "other_county"].assign(
        destination_county=lambda d: d["destination_county"].astype(str)).groupby("destination_county")["persons"].sum()
    counties = leaving.index.union(arriving.index)
    return arriving.reindex(counties, fill_value=0.0) - leaving.reindex(counties, fill_value=0.0)


def add_flow_map(report, flows: pd.DataFrame) -> None:
    """Map of the net talent flow per county (persons over the whole run, mean over replications)."""
    if flows is None or flows.empty or not _known(flows["origin_county"].astype(str)):
        return
    L, missing = _texts(report)
    scen = list(pd.unique(flows["scenario"]))
    net = net_flows(flows, scen[0])
    years = sorted(pd.unique(flows["year"]))
    lab = L.text("map_net_flow")
    title = (f"{L.scenario(scen[0])} · {lab} · {years[0]}–{years[-1]}" if years else lab)
    fig = M.county_map(net, label=lab, title=title, cmap="PuOr", center=0.0, font=L.font, missing_label=missing)
    cap = report.T("caption_net_flow_map")
    report.add_figure("", fig, caption=cap, alt=lab, name="map-net-flow")
