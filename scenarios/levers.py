"""The shared vocabulary of allocation levers, and the allocation table both engines read.

The optimizer *writes* an allocation (how much of each lever goes to each
county and field); the simulator can *read* one and apply it on top of a
scenario (the simulate-then-optimize loop in ``grassroots`` joins the two).
Neither engine imports the other: both use the names and the table format
defined here.

An allocation table has the columns of ``allocation.csv``::

    county_id, province, field, lever, quantity, cost_yuan[, year]

``year`` (optional, 1 = the first simulated year; absent = 1) says from which year a row
applies: posts and subsidy levels decided in a year persist in later years.

``quantity`` is in the lever's unit below; ``cost_yuan`` is yuan per year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .schema import FIELDS, PROGRAMMES

LEVERS: dict[str, str] = {
    "special_post": "township special posts (特设岗位) created now, outside unit totals and ratio caps, up to grade 8; unit: posts",
    **{f"place_{p}": f"recruits placed now under the {p} service-term programme, with its obligation; unit: recruits"
       for p in PROGRAMMES},
    "purchased_post": "government-purchased township posts (政府购买岗位, 57号 §16) funded for a term; unit: posts",
    "direct_hire": "high-level or scarce talent hired by direct assessment (直接考察, 57号 §7); unit: persons",
    "senior_post": "additional senior posts (grades 1-7) within the ratio cap; unit: posts",
    "intermediate_post": "additional intermediate posts (grades 8-10) within the ratio cap; unit: posts",
    "directed_senior_post": "directed senior posts (定向评价、定向使用) under the province's total control; unit: posts",
    "township_subsidy": "township work subsidy on top of the scenario's, for township staff; unit: yuan/month per person",
    "hardship_topup": "hardship-allowance top-up on top of the scenario's, for all staff of a hardship county; unit: yuan/month per person",
}

ALLOCATION_COLUMNS = ["county_id", "province", "field", "lever", "quantity", "cost_yuan"]
#: optional column: the year (1 = the first simulated year) from which a row applies; absent = 1
YEAR_COLUMN = "year"

#: Terms of the two levers the opinion funds without a scenario key of their own; both engines
#: read them here.  Each: value, unit, source.
PURCHASED_POST = {
    "term_years": 3,            # years: assumption -- funded like the graduate service programmes (三支一扶 2, 特岗 3 years)
    "per_county_per_year": 2.0,  # posts per county x field per year: assumption (a county purchases a few posts a year)
}
DIRECT_HIRE = {
    "grade": 7,                 # professional grade (1-13): assumption -- high-level talent enters at the senior band's entry
    "skill_z": 1.0,             # z-score of skill: assumption -- one standard deviation above open-market recruits
    "settling_yuan": 100000.0,  # yuan, once: assumption -- county talent-introduction packages (安家费) of about 100,000
    "per_county_per_year": 1.0,  # persons per county x field per year: assumption (scarce by definition)
}
LEVER_TERMS_SOURCE = {
    "purchased_post": "57号 §16 (政府购买岗位); term, cap: assumption; pay: as a special post (57号 §8 grade)",
    "direct_hire": "57号 §7 (直接考察); grade, skill, settling-in payment, cap: assumption",
}


class AllocationError(ValueError):
    """An allocation table is malformed; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def validate_allocation(df: pd.DataFrame, label: str = "allocation", county_ids=None) -> pd.DataFrame:
    """Check an allocation table; returns it with clean dtypes or raises :class:`AllocationError`."""
    problems = []
    missing = [c for c in ALLOCATION_COLUMNS if c not in df.columns]
    if missing:
        raise AllocationError([f"{label}: missing column(s) {', '.join(missing)} (allowed: {', '.join(ALLOCATION_COLUMNS)})"])
    has_year = YEAR_COLUMN in df.columns
    out = df[ALLOCATION_COLUMNS + ([YEAR_COLUMN] if has_year else [])].copy()
    out["county_id"] = out["county_id"].astype(str)
    out["province"] = out["province"].astype(str)
    for i, row in enumerate(out.itertuples(index=False), start=2):
        if row.field not in FIELDS:
            problems.append(f"{label}: row {i}, column field: {row.field!r} (allowed: {', '.join(FIELDS)})")
        if row.lever not in LEVERS:
            problems.append(f"{label}: row {i}, column lever: {row.lever!r} (allowed: {', '.join(LEVERS)})")
        for col in ("quantity", "cost_yuan"):
            v = getattr(row, col)
            try:
                ok = float(v) >= 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(f"{label}: row {i}, column {col}: {v!r} (allowed: a number >= 0)")
        if has_year:
            y = row.year
            try:
                ok = float(y) == int(float(y)) and int(float(y)) >= 1
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(f"{label}: row {i}, column year: {y!r} (allowed: a whole year >= 1, 1 = the first simulated year)")
        if county_ids is not None and row.county_id not in county_ids:
            problems.append(f"{label}: row {i}, column county_id: unknown county {row.county_id!r}")
    if problems:
        raise AllocationError(problems)
    out["quantity"] = out["quantity"].astype(float)
    out["cost_yuan"] = out["cost_yuan"].astype(float)
    if has_year:
        out[YEAR_COLUMN] = out[YEAR_COLUMN].astype(float).astype(int)
    return out


def read_allocation(path: str | Path) -> pd.DataFrame:
    """Read and validate an ``allocation.csv``."""
    try:
        df = pd.read_csv(path, dtype={"county_id": str, "province": str})
    except FileNotFoundError:
        raise AllocationError([f"{path}: file not found"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise AllocationError([f"{path}: not a readable CSV: {e}"]) from None
    return validate_allocation(df, label=str(path))
