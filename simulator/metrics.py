"""Every metric the simulator reports: name, unit, kind and meaning, in one place.

Kinds
-----
``stock``
    measured at the end of the year (the ``start_year`` row is the initial state);
``flow``
    counted during the year (``start_year`` row: 0);
``ratio``
    recomputed from sums at every level of aggregation (``numerator / denominator``),
    never averaged over counties or fields;
``area``
    defined across counties, so only in national and provincial rows:
    ``coverage_gini`` (Gini coefficient of county coverage, counties weighted
    equally, coverage of a county = staff / demand summed over fields) and
    ``share_counties_below_80pct``.

Accounting identities (exact in every county, field and year)::

    staff(t) = staff(t-1) + recruits(t) - exits(t) + net_moves(t)
    net_moves = moves_in - moves_out      (moves across county lines; summed over counties: 0)
    moves_out = moves_township_to_other_county + moves_seat_to_other_county
    recruits = recruits_open + recruits_special_post + recruits_direct_hire + sum of recruits_<programme>
    exits    = exits_retirement + exits_city + exits_other_sector + exits_upward + exits_breach + exits_term_end
    cost_yuan = sum of cost_<lever>_yuan = sum of cost_payer_<payer>_yuan

``RAW`` lists what the model records per county x field x year (summable
quantities); ``RATIOS`` and ``AREA`` are derived; ``METRICS`` is the public
list, in output order.  Raw helper sums (``*_sum``) are not output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import PAYERS, PROGRAMMES


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    kind: str          # stock | flow | ratio | area
    meaning: str
    numerator: str | None = None
    denominator: str | None = None
    internal: bool = False


def _m(name, unit, kind, meaning, num=None, den=None, internal=False):
    return Metric(name, unit, kind, meaning, num, den, internal)


_EXIT_REASONS = {
    "retirement": "reached the retirement age",
    "city": "left voluntarily for a city post",
    "other_sector": "left voluntarily for another sector",
    "upward": "moved up into a province/city post reserved for grassroots staff (57号 §7)",
    "breach": "left during a programme term, breaking the obligation",
    "term_end": "left at the end of a programme term",
}

RAW: tuple[Metric, ...] = (
    # stocks
    _m("staff", "persons", "stock", "professionals in post at year end (headcount; flexible FTE excluded)"),
    _m("demand", "posts", "stock", "posts needed: county table x (1 + demand.growth_per_year)^t (constant by default)"),
    _m("authorized_posts", "posts", "stock", "authorized posts (编制) = authorized_share_of_demand x demand of the year, rounded"),
    _m("vacancies", "posts", "stock", "authorized posts not filled by staff in regular or directed posts, at year end"),
    _m("special_posts", "posts", "stock", "township special posts (特设岗位) created so far, outside unit totals and caps"),
    _m("special_posts_filled", "persons", "stock", "staff holding a special post"),
    _m("directed_posts", "posts", "stock", "directed senior posts allowed under the total control (outside the senior cap)"),
    _m("directed_posts_filled", "persons", "stock", "staff holding a directed senior post"),
    _m("senior_cap_posts", "posts", "stock", "senior posts allowed by the ratio cap (with uplift)"),
    _m("intermediate_cap_posts", "posts", "stock", "intermediate posts allowed by the ratio cap (with uplift)"),
    _m("senior_posts_regular", "persons", "stock", "staff in senior posts counted against the cap"),
    _m("intermediate_posts_regular", "persons", "stock", "staff in intermediate posts counted against the cap"),
    _m("senior_titles", "persons", "stock", "staff holding a senior title (directed ones included)"),
    _m("intermediate_titles", "persons", "stock", "staff holding an intermediate title"),
    _m("directed_titles", "persons", "stock", "staff holding a directed (定向) senior title"),
    _m("senior_posts", "persons", "stock", "staff in senior posts (regular + directed)"),
    _m("obligated_staff", "persons", "stock", "staff serving a programme term"),
    _m("contract_staff", "persons", "stock", "staff on contracts outside 编制"),
    _m("township_staff", "persons", "stock", "staff in township units"),
    _m("township_staff_start", "persons", "stock", "staff in township units at the start of the year"),
    _m("staff_start", "persons", "stock", "staff at the start of the year (= previous year's staff)"),
    _m("township_staff_under_35", "persons", "stock", "staff in township units younger than 35"),
    _m("township_mid_senior_titles", "persons", "stock", "staff in township units holding an intermediate or senior title"),
    _m("skill_sum", "z-score x persons", "stock", "sum of skill", internal=True),
    _m("income_sum", "yuan/month x persons", "stock", "sum of monthly income", internal=True),
    # flows: entries
    _m("recruits", "persons", "flow", "every entry in the year (all channels)"),
    _m("recruits_open", "persons", "flow", "entries by open recruitment to vacancies"),
    _m("recruits_special_post", "persons", "flow", "entries into township special posts"),
    _m("recruits_direct_hire", "persons", "flow",
       "entries by direct hiring of scarce or high-level talent (直接考察, 57号 §7) of an allocation (counted in recruits)"),
    *(_m(f"recruits_{p}", "persons", "flow", f"entries through the {p} programme (with a service obligation)") for p in PROGRAMMES),
    # flows: exits
    _m("exits", "persons", "flow", "every departure in the year (retirements included)"),
    *(_m(f"exits_{r}", "persons", "flow", f"departures: {m}") for r, m in _EXIT_REASONS.items()),
    _m("township_exits", "persons", "flow", "departures from township units other than retirement"),
    _m("township_retirements", "persons", "flow", "retirements from township units"),
    *(_m(f"term_end_reached_{p}", "persons", "flow", f"{p} participants whose term ended this year (stayers and leavers)")
      for p in PROGRAMMES),
    *(_m(f"exits_term_end_{p}", "persons", "flow", f"{p} participants who left at the end of their term") for p in PROGRAMMES),
    *(_m(f"exits_{r}_township", "persons", "flow", f"departures from township units: {_EXIT_REASONS[r]}")
      for r in ("upward", "city", "other_sector")),
    # flows: internal moves (simulator.mobility); a move is not an exit
    _m("moves_township_to_seat", "persons", "flow", "moves from a township unit to the county seat of the same county (origin county)"),
    _m("moves_township_to_other_county", "persons", "flow", "moves from a township unit to another county's county seat (origin county)"),
    _m("moves_seat_to_other_county", "persons", "flow", "moves from a county-seat unit to another county's county seat (origin county)"),
    _m("moves_out", "persons", "flow", "moves to another county (origin county)"),
    _m("moves_in", "persons", "flow", "moves from another county (destination county)"),
    _m("net_moves", "persons", "flow", "moves_in - moves_out: net gain from moves across county lines"),
    _m("move_applicants", "persons", "flow", "applications for a move (destination county), accepted or not"),
    # flows: titles and posts
    _m("titles_passed_intermediate", "persons", "flow", "intermediate titles passed"),
    _m("titles_passed_senior", "persons", "flow", "senior titles passed in the regular (or separate-group) evaluation"),
    _m("titles_passed_directed", "persons", "flow", "directed senior titles passed (定向评价, township staff)"),
    _m("titles_passed_exceptional", "persons", "flow", "titles passed by staff eligible only through exceptional promotion after long rural service"),
    _m("promotions_intermediate", "persons", "flow", "appointments to an intermediate post (within the cap)"),
    _m("promotions_senior", "persons", "flow", "appointments to a regular senior post (within the cap)"),
    _m("promotions_directed_senior", "persons", "flow", "appointments to a directed senior post (outside the cap)"),
    _m("appointments_blocked_by_caps", "persons", "flow", "staff holding a title above their post who could not be appointed this year for lack of a free post"),
    # flows: recruitment
    _m("recruitment_quota", "posts", "flow", "open-recruitment quota (quota_share x vacancies left after programme placements)"),
    _m("applicants", "persons", "flow", "expected qualified applicants for the open quota"),
    _m("open_recruit_skill_sum", "z-score x persons", "flow", "sum of open recruits' skill", internal=True),
    _m("programme_places", "places", "flow", "programme places allocated to the county"),
    _m("programme_places_unfilled", "places", "flow", "programme places not placed for lack of a township vacancy"),
    _m("special_posts_created", "posts", "flow", "special posts created in the year"),
    # flows: flexible, training
    _m("flexible_fte", "FTE", "flow", "flexible capacity: secondment + expert service + rural-service secondees (not staff)"),
    _m("flexible_secondment_fte", "FTE", "flow", "secondments and counterpart support (57号 §15)"),
    _m("flexible_expert_fte", "FTE", "flow", "expert service (57号 §15)"),
    _m("flexible_rural_service_fte", "FTE", "flow", "urban teachers/doctors serving the rural year before a senior title (57号 §15)"),
    _m("training_hours", "person-hours", "flow", "continuing-education hours"),
    # flows: cost by lever
    _m("cost_base_pay_yuan", "yuan", "flow", "base pay by grade"),
    _m("cost_performance_pay_yuan", "yuan", "flow", "performance pay (with the township tilt)"),
    _m("cost_hardship_allowance_yuan", "yuan", "flow", "hardship-area allowance (艰苦边远地区津贴)"),
    _m("cost_township_subsidy_yuan", "yuan", "flow", "township work subsidy (乡镇工作补贴)"),
    _m("cost_programme_subsidy_yuan", "yuan", "flow", "service-term programme subsidies, all programmes"),
    *(_m(f"cost_programme_{p}_yuan", "yuan", "flow", f"subsidy of the {p} programme") for p in PROGRAMMES),
    _m("cost_training_yuan", "yuan", "flow", "continuing education (hours x cost per hour)"),
    _m("cost_flexible_yuan", "yuan", "flow", "flexible inflows (FTE x cost per FTE)"),
    _m("cost_yuan", "yuan", "flow", "total cost of the year, every lever"),
    _m("cost_incentives_yuan", "yuan", "flow", "cost of every lever except base and performance pay"),
    *(_m(f"cost_payer_{p}_yuan", "yuan", "flow", f"cost borne by the {p} government") for p in PAYERS),
)

RATIOS: tuple[Metric, ...] = (
    _m("coverage", "staff/demand", "ratio", "staff / demand", "staff", "demand"),
    _m("coverage_with_flexible", "(staff+FTE)/demand", "ratio", "(staff + flexible_fte) / demand", "staff+flexible_fte", "demand"),
    _m("vacancy_rate", "share", "ratio", "vacancies / authorized posts", "vacancies", "authorized_posts"),
    _m("turnover_rate", "share/yr", "ratio", "non-retirement exits / staff at the start of the year (the calibrated rate)", "exits-exits_retirement", "staff_start"),
    _m("exit_rate", "share/yr", "ratio", "all exits / staff at the start of the year", "exits", "staff_start"),
    _m("township_to_seat_rate", "share/yr", "ratio", "township -> same county seat moves / township staff at the start of the year",
       "moves_township_to_seat", "township_staff_start"),
    _m("township_move_rate", "share/yr", "ratio", "township -> any county seat moves / township staff at the start of the year (the calibrated rate)",
       "moves_township_to_seat+moves_township_to_other_county", "township_staff_start"),
    _m("cross_county_move_rate", "share/yr", "ratio", "moves to another county / staff at the start of the year",
       "moves_out", "staff_start"),
    _m("senior_share", "share", "ratio", "staff holding a senior title / staff", "senior_titles", "staff"),
    _m("senior_post_share", "share", "ratio", "staff in senior posts / staff", "senior_posts", "staff"),
    _m("mean_skill", "z-score", "ratio", "mean skill of staff", "skill_sum", "staff"),
    _m("fill_rate", "share", "ratio", "open recruits / open-recruitment quota", "recruits_open", "recruitment_quota"),
    _m("mean_recruit_skill", "z-score", "ratio", "mean skill of open recruits", "open_recruit_skill_sum", "recruits_open"),
    _m("mean_income_yuan_month", "yuan/month", "ratio", "mean monthly income of staff", "income_sum", "staff"),
    _m("cost_per_staff_yuan", "yuan/person", "ratio", "cost_yuan / staff", "cost_yuan", "staff"),
)

AREA: tuple[Metric, ...] = (
    _m("coverage_gini", "Gini (0-1)", "area", "Gini coefficient of county coverage (staff/demand over all fields), counties weighted equally"),
    _m("share_counties_below_80pct", "share of counties", "area", "share of counties (with demand) whose coverage is below 0.8"),
)

RAW_NAMES: tuple[str, ...] = tuple(m.name for m in RAW)
RAW_INDEX: dict[str, int] = {n: i for i, n in enumerate(RAW_NAMES)}
FLOW_NAMES = frozenset(m.name for m in RAW if m.kind == "flow")
CELL_METRICS: tuple[Metric, ...] = tuple(m for m in RAW if not m.internal) + RATIOS
METRICS: tuple[Metric, ...] = CELL_METRICS + AREA
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
CELL_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in CELL_METRICS)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS + tuple(m for m in RAW if m.internal)}

EXIT_REASONS = tuple(_EXIT_REASONS)
RECRUIT_CHANNELS = ("open", "special_post") + PROGRAMMES
COST_LEVERS = ("base_pay", "performance_pay", "hardship_allowance", "township_subsidy",
               "programme_subsidy", "training", "flexible")


def _term(raw: np.ndarray, expr: str) -> np.ndarray:
    """Value of ``a``, ``a+b`` or ``a-b`` over raw sums (first axis = RAW_NAMES)."""
    for op in ("+", "-"):
        if op in expr:
            a, b = expr.split(op)
            x, y = raw[RAW_INDEX[a]], raw[RAW_INDEX[b]]
            return x + y if op == "+" else x - y
    return raw[RAW_INDEX[expr]]


_CELL_BY_NAME = {m.name: m for m in CELL_METRICS}


def derive_metric(raw: np.ndarray, name: str) -> np.ndarray:
    """One cell-level metric from raw sums (``raw[len(RAW), ...]``); NaN where a ratio's denominator is 0."""
    m = _CELL_BY_NAME[name]
    if m.kind != "ratio":
        return raw[RAW_INDEX[name]]
    num, den = _term(raw, m.numerator), _term(raw, m.denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def derive(raw: np.ndarray) -> np.ndarray:
    """Cell-level metrics from raw sums: ``raw[len(RAW), ...]`` -> ``[len(CELL_METRICS), ...]``.

    Works for any trailing shape (cells x years, or years).  Ratios with a
    zero denominator are NaN.
    """
    out = np.empty((len(CELL_METRICS),) + raw.shape[1:], dtype=float)
    k = 0
    for m in RAW:
        if m.internal:
            continue
        out[k] = raw[RAW_INDEX[m.name]]
        k += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in RATIOS:
            num, den = _term(raw, m.numerator), _term(raw, m.denominator)
            out[k] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
            k += 1
    return out


def gini(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Gini coefficient along ``axis`` (equal weights); NaN entries are ignored."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    xs = np.sort(x, axis=-1)  # NaN sorts last
    valid = ~np.isnan(xs)
    n = valid.sum(axis=-1)
    xs0 = np.where(valid, xs, 0.0)
    idx = np.arange(1, xs.shape[-1] + 1)
    total = xs0.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (2.0 * (xs0 * idx).sum(axis=-1) / (n * total)) - (n + 1.0) / n
    return np.where((n > 0) & (total > 0), g, np.nan)


def area_metrics(staff_c: np.ndarray, demand_c: np.ndarray) -> np.ndarray:
    """``[len(AREA), ...]`` from county-level staff and demand (first axis = counties)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(demand_c > 0, staff_c / np.where(demand_c > 0, demand_c, 1.0), np.nan)
    has = demand_c > 0
    below = np.where(has, cov < 0.8, False).sum(axis=0)
    n = has.sum(axis=0)
    share = np.where(n > 0, below / np.maximum(n, 1), np.nan)
    return np.stack([gini(cov, axis=0), share])


def describe() -> list[dict]:
    """One row per public metric: name, unit, kind, meaning (for documentation and the CLI)."""
    return [{"metric": m.name, "unit": m.unit, "kind": m.kind, "meaning": m.meaning} for m in METRICS]
