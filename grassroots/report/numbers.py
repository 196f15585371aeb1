"""Every number a report or figure shows is formatted here: one place for thousands separators, yuan
(亿元/万元 in Chinese, billion/million in English), percentages and percentage points, indices.

What a metric's values are (share, count, yuan, index, score, rate) comes from :func:`metric_kind`;
the words (units, "percentage points") come from the language catalogues through
:func:`grassroots.report.labels.text`.
"""

from __future__ import annotations

import math

#: how each metric's values are shown: share (percent), count, yuan, index, score, rate
METRIC_KIND: dict[str, str] = {
    "coverage": "share", "turnover_rate": "share", "senior_share": "share",
    "intermediate_share": "share", "share_counties_below_80pct": "share", "probability": "share",
    "p_low": "share", "p_high": "share", "share": "share", "below": "share",
    "staff": "count", "demand": "count", "vacancies": "count", "recruits": "count", "exits": "count",
    "shortfall": "count", "weighted_shortfall": "count", "programme_staff": "count",
    "special_post_staff": "count", "directed_senior": "count", "flexible_fte": "count", "quantity": "count",
    "cost_yuan": "yuan", "budget_yuan": "yuan", "budget_used_yuan": "yuan",
    "coverage_gini": "index", "mean_skill": "score", "marginal_value_per_yuan": "rate",
    "training_hours": "hours", "coverage_with_flexible": "share", "vacancy_rate": "share", "exit_rate": "share",
    "senior_post_share": "share", "fill_rate": "share", "mean_recruit_skill": "score",
    "mean_income_yuan_month": "yuan_month", "authorized_posts": "count", "special_posts": "count",
    "special_posts_filled": "count", "directed_posts": "count", "senior_titles": "count",
    "intermediate_titles": "count", "obligated_staff": "count", "township_staff": "count", "staff_gain": "count",
    "programme_places": "count", "max_shortfall_ratio": "share", "counties": "count",
}


def metric_kind(metric) -> str:
    """``share``, ``count``, ``yuan``, ``yuan_month``, ``index``, ``score``, ``rate``, ``hours`` or ``number``."""
    m = str(metric)
    if m in METRIC_KIND:
        return METRIC_KIND[m]
    if m.endswith("_yuan"):
        return "yuan"
    if m.endswith(("_share", "_rate")) or m.startswith("share_"):
        return "share"
    return "number"


def finite(x) -> bool:
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x, digits: int | None = None) -> str:
    """A plain number for people: thousands separators, sensible decimals; '–' when missing."""
    if not finite(x):
        return "–"
    x = float(x) + 0.0  # no "-0"
    if digits is not None:
        return f"{x:,.{digits}f}"
    if x.is_integer():
        return f"{x:,.0f}"
    a = abs(x)
    if a >= 100 or a == 0:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:,.1f}"
    if a >= 0.01:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def fixed(digits: int):
    """A formatter with ``digits`` decimals and thousands separators ('–' when missing)."""
    return lambda v: fmt_number(v, digits)


def fmt_percent(v, digits: int = 2) -> str:
    """A share as a percentage, e.g. 0.1234 -> '12.34%' ('–' when missing)."""
    return "–" if not finite(v) else f"{100 * float(v):.{digits}f}%"


def fmt_g4(v) -> str:
    """Four significant digits, for duals and marginal values; never '-0'."""
    if not finite(v):
        return "–"
    x = float(v)
    return "0" if abs(x) < 1e-12 else f"{x:.4g}"


def fmt_yuan(x, lang: str = "en", signed: bool = False) -> str:
    """Yuan in 亿元/万元 (zh) or billion/million (en)."""
    if not finite(x):
        return "–"
    x = float(x)
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    a = abs(x)
    if lang == "zh":
        if a >= 1e8:
            return f"{sign}{a / 1e8:,.2f}亿元"
        if a >= 1e4:
            return f"{sign}{a / 1e4:,.1f}万元" if a < 1e6 else f"{sign}{a / 1e4:,.0f}万元"
        return f"{sign}{a:,.0f}元"
    if a >= 1e9:
        return f"{sign}¥{a / 1e9:,.2f} billion"
    if a >= 1e6:
        return f"{sign}¥{a / 1e6:,.1f} million"
    return f"{sign}¥{a:,.0f}"


def compact_yuan(x: float, lang: str) -> str:
    """Short yuan for axis ticks and bar labels: 1.2亿, 350万 (zh); ¥1.2bn, ¥350m, ¥12k (en)."""
    a, sign = abs(x), ("−" if x < 0 else "")
    if lang == "zh":
        if a >= 1e8:
            return f"{sign}{a / 1e8:,.3g}亿"
        if a >= 1e4:
            return f"{sign}{a / 1e4:,.4g}万"
        return f"{sign}{a:,.0f}"
    if a >= 1e9:
        return f"{sign}¥{a / 1e9:,.3g}bn"
    if a >= 1e6:
        return f"{sign}¥{a / 1e6:,.4g}m"
    if a >= 1e3:
        return f"{sign}¥{a / 1e3:,.4g}k"
    return f"{sign}¥{a:,.0f}"


def fmt_value(metric, x, lang: str = "en", diff: bool = False) -> str:
    """One value of ``metric`` for a table: percent for shares (percentage points for differences)."""
    if not finite(x):
        return "–"
    x = float(x)
    kind = metric_kind(metric)
    sign = "+" if diff and x > 0 else ("−" if x < 0 else "")
    a = abs(x)
    if kind == "share":
        if diff:
            return f"{sign}{a * 100:.1f}" + (" 个百分点" if lang == "zh" else " pp")
        return f"{sign}{a * 100:.1f}%"
    if kind == "yuan":
        return fmt_yuan(x, lang, signed=diff)
    if kind == "yuan_month":
        return sign + (f"{a:,.0f}元" if lang == "zh" else f"¥{a:,.0f}")
    if kind == "index":
        return f"{sign}{a:.3f}"
    if kind == "score":
        return f"{sign}{a:.2f}"
    if kind == "rate":
        return f"{sign}{a:.3g}"
    return sign + fmt_number(a)


def fmt_small_diff(metric, x, se, lang: str = "en") -> tuple[str, str]:
    """A small difference of ``metric`` and its standard error, as two table cells with the same precision:
    two significant digits of the error fix the decimals of both (percentage points for shares), so an
    error of 0.013 pp is not shown as '+0.0 pp' beside '-0.5 pp'."""
    if not finite(x):
        return "–", "–"
    if not finite(se) or metric_kind(metric) != "share":
        return fmt_value(metric, x, lang, diff=True), ("–" if not finite(se) else "±" + fmt_value(metric, abs(float(se)), lang))
    unit = " 个百分点" if lang == "zh" else " pp"
    x, e = float(x) * 100, abs(float(se)) * 100
    digits = 1 if e == 0 else min(6, max(1, 1 - math.floor(math.log10(e))))
    sign = "+" if x > 0 else ("−" if x < 0 else "")
    return f"{sign}{abs(x):.{digits}f}{unit}", f"±{e:.{digits}f}{unit}"


def fmt_interval(metric, lo, hi, lang: str = "en", diff: bool = False) -> str:
    """``lo – hi`` in the metric's format; empty when the bounds are missing."""
    if not (finite(lo) and finite(hi)):
        return ""
    return f"{fmt_value(metric, lo, lang, diff)} – {fmt_value(metric, hi, lang, diff)}"


def fmt_scalar(key: str, v, lang: str = "en") -> str:
    """A solution or manifest value for people: yuan, shares and floats formatted by the key's name."""
    import re
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if type(v).__name__ in ("bool", "bool_"):  # Python's and numpy's
        from .labels import label
        return label("yes" if v else "no", lang)
    if finite(v):
        kind = metric_kind(re.sub(r"_(before|after)$", "", key))
        if kind == "yuan" or kind == "share" or key.startswith("coverage"):
            return fmt_value("coverage" if kind != "yuan" else "cost_yuan", v, lang)
        if float(v).is_integer() and abs(float(v)) < 1e15:
            return f"{int(v):,}"
        return fmt_number(v) if abs(float(v)) >= 1 else fmt_g4(v)
    return str(v)
