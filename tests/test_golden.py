"""Golden files: the simulator's results on fixed cases must not change (see tests/golden/regenerate.py).

Speed work on the simulator (numba kernels, fused numpy passes) must leave
every result identical: counts exactly, money and other non-count metrics to
a relative 1e-12.  The files are written only by ``tests/golden/regenerate.py``.
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
