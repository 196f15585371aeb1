"""Validation of a user county table (all problems at once, one line each, by row and column).

Used for CSV and Excel files alike (:mod:`.io`); a problem line reads
``SOURCE: row N, column C: message (allowed: ...)`` where SOURCE is the file (and sheet), row N
the row number a spreadsheet shows (header = row 1) and C the column name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import (_FLAGS, _FLOAT_COLS, _INT_COLS, _RANGES, COLUMNS, DESCRIPTIVE, FIELDS, KINDS, REGIONS,
                      REQUIRED, TYPES, _coerce, _province_table_cached, divisions, province_codes)

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def validate_county_frame(raw: pd.DataFrame, source: str = "<table>",
                          rows: np.ndarray | None = None) -> tuple[list[str], pd.DataFrame | None]:
    """Validate a table of strings (as read from CSV with ``dtype=str``).

    Returns ``(problems, table)``: problems as ``SOURCE: row N, column C: message (allowed: ...)``
    lines sorted by row then column, and the parsed table with canonical dtypes (``None`` when there
    are problems).  ``rows`` gives each row's line number in the file (default: header = row 1, so
    data row i is row i + 2).
    """
    found: list[tuple[int, int, str]] = []
    col_order = {c: i for i, c in enumerate(COLUMNS)}

    def add(row: int, col: str, msg: str, allowed: str) -> None:
        found.append((int(row), col_order.get(col, len(col_order)),
                      f"{source}: row {row}, column {col}: {msg} (allowed: {allowed})"))

    raw = raw.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.reset_index(drop=True)
    for c in REQUIRED:
        if c not in raw.columns:
            add(1, c, "required column is missing", "the columns documented in scenarios.county_table")
    present = [c for c in COLUMNS if c in raw.columns]
    data = {c: raw[c].astype(str).str.strip() for c in present}
    rows = np.arange(len(raw)) + 2 if rows is None else np.asarray(rows)
    parsed: dict[str, pd.Series] = {}
    allowed_codes = province_codes()
    prov_region = dict(zip(_province_table_cached()["code"], _province_table_cached()["region"]))

    if "province" in data:
        s = data["province"]
        bad = ~s.isin(allowed_codes)
        for i in np.flatnonzero(bad.to_numpy()):
            add(rows[i], "province", f"unknown province code {s.iat[i]!r}", ", ".join(allowed_codes))
        parsed["province"] = s
    if "county_id" in data:
        s = data["county_id"]
        bad = ~s.str.fullmatch(r"\d{6}")
        for i in np.flatnonzero(bad.to_numpy()):
            add(rows[i], "county_id", f"{s.iat[i]!r} is not 6 digits", "6 digits: province code + 4 digits")
        if "province" in data:
            ok_prov = data["province"].isin(allowed_codes)
            mism = ~bad & ok_prov & (s.str[:2] != data["province"])
            for i in np.flatnonzero(mism.to_numpy()):
                add(rows[i], "county_id", f"{s.iat[i]!r} does not start with its province code {data['province'].iat[i]!r}",
                    "6 digits starting with the province code")
        dup = s.duplicated(keep="first") & (s != "")
        if dup.any():
            first = {v: rows[i] for i, v in reversed(list(enumerate(s)))}
            for i in np.flatnonzero(dup.to_numpy()):
                add(rows[i], "county_id", f"duplicate county_id {s.iat[i]!r} (first at row {first[s.iat[i]]})", "unique values")
        parsed["county_id"] = s
    if "region" in data:
        s = data["region"]
        bad = ~s.isin(REGIONS)
        for i in np.flatnonzero(bad.to_numpy()):
            add(rows[i], "region", f"unknown region {s.iat[i]!r}", ", ".join(REGIONS))
        if "province" in data:
            expected = data["province"].map(prov_region)
            mism = ~bad & expected.notna() & (s != expected)
            for i in np.flatnonzero(mism.to_numpy()):
                add(rows[i], "region", f"{s.iat[i]!r} does not match province {data['province'].iat[i]} ({expected.iat[i]})",
                    expected.iat[i])
        parsed["region"] = s
    if "kind" in data:
        s = data["kind"]
        for i in np.flatnonzero((~s.isin(KINDS)).to_numpy()):
            add(rows[i], "kind", f"unknown kind {s.iat[i]!r}", ", ".join(KINDS))
        parsed["kind"] = s
    for c in _FLAGS:
        if c not in data:
            continue
        low = data[c].str.lower()
        is_t, is_f = low.isin(_TRUE), low.isin(_FALSE)
        for i in np.flatnonzero((~(is_t | is_f)).to_numpy()):
            add(rows[i], c, f"not a boolean: {data[c].iat[i]!r}", "true, false, 1, 0")
        parsed[c] = is_t
    if "type" in data:
        s = data["type"]
        for i in np.flatnonzero((~s.isin(TYPES) & (s != "")).to_numpy()):
            add(rows[i], "type", f"unknown type {s.iat[i]!r}", ", ".join(TYPES) + " or empty")
        parsed["type"] = s
    for c in ("name", "name_pinyin", "prefecture", "prefecture_name"):
        if c in data:
            parsed[c] = data[c]
    for c in (*_INT_COLS, *_FLOAT_COLS):
        if c not in data:
            continue
        lo, hi, integer = _RANGES[c]
        s = data[c]
        if c in DESCRIPTIVE:  # optional: empty means unknown
            s = s.where(s != "", "nan")
        num = pd.to_numeric(s, errors="coerce").astype("float64")
        allowed = (f"integers {lo:g}-{hi:g}" if np.isfinite(hi) else f"integers >= {lo:g}") if integer else \
            (f"numbers {lo:g}-{hi:g}" if np.isfinite(hi) else f"numbers >= {lo:g}")
        v = num.to_numpy()
        nan = (np.isnan(v) & (s != "nan").to_numpy()) | np.isinf(v) if c in DESCRIPTIVE else np.isnan(v) | np.isinf(v)
        for i in np.flatnonzero(nan):
            msg = "empty value" if s.iat[i] == "" else f"not a number: {s.iat[i]!r}"
            add(rows[i], c, msg, allowed)
        ok = ~nan & ~np.isnan(v)
        neg = ok & (v < 0)
        for i in np.flatnonzero(neg):
            add(rows[i], c, f"negative value {s.iat[i]}", allowed)
        out = ok & ~neg & ((v < lo) | (v > hi))
        for i in np.flatnonzero(out):
            add(rows[i], c, f"value {s.iat[i]} out of range", allowed)
        if integer:
            frac = ok & ~neg & ~out & (v != np.round(v))
            for i in np.flatnonzero(frac):
                add(rows[i], c, f"not an integer: {s.iat[i]!r}", allowed)
        parsed[c] = pd.Series(np.where(ok, v, np.nan if c in DESCRIPTIVE else 0.0), index=s.index)
    # consistency between columns
    for f in FIELDS:
        for kind_ in ("demand", "staff"):
            tot, a, b = f"{kind_}_{f}", f"{kind_}_{f}_county", f"{kind_}_{f}_township"
            if all(c in parsed for c in (tot, a, b)):
                mism = np.flatnonzero((parsed[tot] != parsed[a] + parsed[b]).to_numpy())
                for i in mism:
                    add(rows[i], tot, f"{data[tot].iat[i]} is not {a} + {b} = {data[a].iat[i]} + {data[b].iat[i]}", f"{a} + {b}")
        s_c, i_c = f"senior_share_{f}", f"intermediate_share_{f}"
        if s_c in parsed and i_c in parsed:
            over = np.flatnonzero((parsed[s_c] + parsed[i_c] > 1.0 + 1e-9).to_numpy())
            for i in over:
                add(rows[i], s_c, f"{s_c} + {i_c} = {parsed[s_c].iat[i] + parsed[i_c].iat[i]:g} exceeds 1", "shares summing to at most 1")
    problems = [text for _, _, text in sorted(found, key=lambda x: (x[0], x[1]))]
    if problems:
        return problems, None
    extra = [c for c in raw.columns if c not in COLUMNS]
    table = _fill_descriptive(pd.DataFrame({c: parsed[c].to_numpy() for c in COLUMNS if c in parsed}))
    table = _coerce(table[list(COLUMNS)])
    for c in extra:
        table[c] = raw[c].to_numpy()
    return problems, table




def _fill_descriptive(table: pd.DataFrame) -> pd.DataFrame:
    """Add missing descriptive columns from the bundled division list (by code; empty / NaN if unknown)."""
    missing = [c for c in DESCRIPTIVE if c not in table]
    if not missing:
        return table
    div = divisions().rename(columns={"code": "county_id"}).set_index("county_id")
    ids = table["county_id"]
    for c in missing:
        values = ids.map(div[c])
        table[c] = values.fillna("") if c not in ("area_km2", "distance_km") else values.astype("float64")
    return table
