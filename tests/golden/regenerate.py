"""Regenerate the simulator's golden files (``tests/golden/*.csv``) -- the ONLY way to write them.

The golden files pin the simulator's results so that speed work (numba
kernels, fused numpy passes) is checked to change nothing: ``tests/test_golden.py``
recomputes every case below with the current code and compares it with the
stored files: whole-number counts of persons, posts and places exactly;
every other value (money, ratios, and expected counts such as the mean
``applicants``, which are fractional) to a relative tolerance of 1e-9.

Why a tolerance: on one machine results are byte-identical for any worker
count, but compiled code (numba/LLVM, BLAS, libm) may differ in the last
digit between CPU models, so an exact float comparison would fail on a
machine other than the one that wrote the files.

Cases (``CASES``): ``simulate(...)`` on Ningxia (province 64, 22 county-level
units, 34,663 professionals in the real-list county table), 5 years, 2 replications, master seed 20161126:

* ``baseline``            -- the status quo;
* ``policy2016``          -- the whole 2016 package (exceptional promotion,
                             directed titles, township subsidy, programmes...);
* ``policy2016_alloc``    -- the 2016 package plus a small allocation table
                             (extra posts, places, township subsidy and
                             hardship top-up in three counties), which
                             exercises the allocation paths of the model.

For each case two files: ``<case>_summary.csv`` (the whole national summary
table: every metric x year, mean / p05 / p95 over the replications) and
``<case>_counties.csv`` (the county table of ``COUNTY_METRICS``).  Floats are
written with 17 significant digits (round-trip exact).

Regenerate ONLY when a change of results is intended and understood (a rule
change, a new metric), never to make a failing golden test pass after a
change that was meant to be a pure speed-up.  Run from the repository root::

    python tests/golden/regenerate.py            # rewrite every file
    python tests/golden/regenerate.py --check    # recompute and compare, write nothing (what the test does)

and say in the commit message why the results changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROVINCE = "64"
YEARS = 5
REPLICATIONS = 2
SEED = 20161126
COUNTY_METRICS = ("staff", "exits", "recruits", "vacancies", "titles_passed_senior", "promotions_intermediate",
                  "cost_yuan", "cost_township_subsidy_yuan", "coverage", "turnover_rate", "mean_skill")
CASES = ("baseline", "policy2016", "policy2016_alloc")
# units whose values are counts: compared exactly where the stored value is a whole number; everything
# else (yuan, FTE, ratios, z-scores, fractional expected counts) to a relative tolerance RTOL
EXACT_UNITS = ("persons", "posts", "places", "person-hours")
RTOL = 1e-9  # relative; last-digit differences between CPUs are ~1e-16, a real change of results is far larger


def allocation_table() -> pd.DataFrame:
    """A small allocation on three Ningxia counties (touches every kind of lever the model applies):
    640104 兴庆区 (Yinchuan), 640122 贺兰县, 640424 泾源县."""
    rows = [
        ("640104", "education", "special_post", 3), ("640104", "health", "senior_post", 4),
        ("640104", "health", "intermediate_post", 5), ("640122", "agriculture", "directed_senior_post", 2),
        ("640122", "education", "place_free_normal_students", 6), ("640122", "health", "township_subsidy", 300),
        ("640424", "health", "hardship_topup", 250), ("640424", "engineering", "place_sanzhi_yifu", 2),
    ]
    return pd.DataFrame([{"county_id": c, "province": PROVINCE, "field": f, "lever": lv, "quantity": float(q),
                          "cost_yuan": 0.0} for c, f, lv, q in rows])


def compute(case: str) -> dict[str, pd.DataFrame]:
    """The tables of one case with the current code: {"summary": ..., "counties": ...}."""
    import scenarios
    import simulator
    name = {"baseline": "baseline", "policy2016": "policy-2016", "policy2016_alloc": "policy-2016"}[case]
    alloc = allocation_table() if case == "policy2016_alloc" else None
    res = simulator.simulate(scenarios.load(name), provinces=[PROVINCE], years=YEARS, replications=REPLICATIONS,
                             seed=SEED, county_metrics=COUNTY_METRICS, allocation=alloc)
    summary = res.summary.sort_values(["metric", "year"]).reset_index(drop=True)
    counties = res.counties.sort_values(["metric", "county_id", "field", "year"]).reset_index(drop=True)
    return {"summary": summary, "counties": counties}


def path(case: str, table: str) -> Path:
    return HERE / f"{case}_{table}.csv"


def _parse(source) -> pd.DataFrame:
    """Read a golden CSV: every column as text, the value columns converted by Python's exact ``float``."""
    df = pd.read_csv(source, dtype=str, keep_default_na=False)
    for col in ("mean", "p05", "p95"):
        df[col] = np.array([float(x) if x != "" else np.nan for x in df[col]], dtype=float)
    return df


def read(case: str, table: str) -> pd.DataFrame:
    return _parse(path(case, table))


def write(case: str, tables: dict[str, pd.DataFrame]) -> None:
    for table, df in tables.items():
        df.to_csv(path(case, table), index=False, float_format="%.17g", lineterminator="\n")


def compare(case: str, table: str, current: pd.DataFrame) -> list[str]:
    """Differences between ``current`` and the stored file, as readable lines (empty = identical)."""
    import simulator
    units = {m.name: m.unit for m in simulator.METRICS}
    # round-trip through CSV text so both sides have the same dtypes
    import io
    buf = io.StringIO()
    current.to_csv(buf, index=False, float_format="%.17g", lineterminator="\n")
    buf.seek(0)
    cur = _parse(buf)
    ref = read(case, table)
    problems = []
    if list(cur.columns) != list(ref.columns):
        return [f"{case}/{table}: columns {list(cur.columns)} != {list(ref.columns)}"]
    keys = [c for c in cur.columns if c not in ("mean", "p05", "p95")]
    if len(cur) != len(ref) or not cur[keys].equals(ref[keys]):
        return [f"{case}/{table}: rows differ ({len(cur)} now, {len(ref)} stored)"]
    count_unit = cur["metric"].map(lambda m: units.get(m, "") in EXACT_UNITS).to_numpy()
    for col in ("mean", "p05", "p95"):
        a, b = cur[col].to_numpy(float), ref[col].to_numpy(float)
        exact = count_unit & (b == np.round(b))
        same_nan = np.isnan(a) & np.isnan(b)
        bad_exact = exact & ~same_nan & (a != b)
        with np.errstate(invalid="ignore"):
            bad_close = ~exact & ~same_nan & ~(np.abs(a - b) <= RTOL * np.abs(b))
        for i in np.flatnonzero(bad_exact | bad_close)[:20]:
            row = ", ".join(f"{k}={cur[k].iloc[i]}" for k in keys)
            problems.append(f"{case}/{table}: {row}: {col} {a[i]!r} != stored {b[i]!r}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the stored files, write nothing")
    args = ap.parse_args(argv)
    problems = []
    for case in CASES:
        tables = compute(case)
        if args.check:
            for table, df in tables.items():
                problems += compare(case, table, df)
        else:
            write(case, tables)
            print(f"wrote {', '.join(str(path(case, t).relative_to(ROOT)) for t in tables)}")
    for line in problems:
        print(line)
    if args.check:
        print("golden: identical" if not problems else f"golden: {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
