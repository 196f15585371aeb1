"""Golden files: the simulator's results on fixed cases must not change (see tests/golden/regenerate.py).

Speed work on the simulator (numba kernels, fused numpy passes) must leave
every result identical: whole-number counts exactly, money, ratios and
fractional expected counts to a relative 1e-9 (compiled code may differ in
the last digit between CPU models; on one machine results are byte-identical).  The files are written only by ``tests/golden/regenerate.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("golden_regenerate", Path(__file__).parent / "golden" / "regenerate.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.mark.parametrize("case", golden.CASES)
def test_results_equal_golden_files(case):
    tables = golden.compute(case)
    problems = []
    for table, df in tables.items():
        problems += golden.compare(case, table, df)
    assert not problems, "\n".join(problems)


def _perturbed(case, table, rel):
    """The stored table with every non-count value scaled by (1 + rel)."""
    df = golden.read(case, table).copy()
    import simulator
    units = {m.name: m.unit for m in simulator.METRICS}
    count = df["metric"].map(lambda m: units.get(m, "") in golden.EXACT_UNITS)
    for col in ("mean", "p05", "p95"):
        whole = count & (df[col] == df[col].round())
        df.loc[~whole, col] = df.loc[~whole, col] * (1 + rel)
    return df


def test_comparison_accepts_last_digit_differences_across_cpus():
    """A 1e-15 relative change of every float (what another CPU gives) is not a difference."""
    df = _perturbed("baseline", "summary", 1e-15)
    assert golden.compare("baseline", "summary", df) == []


def test_comparison_flags_a_float_change_beyond_tolerance():
    df = _perturbed("baseline", "summary", 1e-6)
    assert golden.compare("baseline", "summary", df)


def test_comparison_flags_a_count_off_by_one():
    df = golden.read("baseline", "summary").copy()
    i = df.index[(df["metric"] == "staff")][0]
    df.loc[i, "mean"] += 1.0
    problems = golden.compare("baseline", "summary", df)
    assert len(problems) == 1 and "metric=staff" in problems[0]
