"""Compiled kernels of the yearly step: one call where numpy needs several passes over the professionals.

Why: the model's yearly step was about sixty passes of numpy over the
structure of arrays (``population.Staff``), each with its own temporaries
(masks, index arrays, keys), plus per-call overheads; the simulator must run
at least 100 times the agent-years per second of a per-agent Mesa model
(``benchmarks/simulator.py``).  Each kernel here is a ``numba.njit`` function
that does the work of several of those passes (e.g. ageing, obligation
countdown and retirement marking; the whole stay/leave screening with its
random draws; every year-end per-unit count), reading the arrays once or
twice.  Where a loop would mix per-person arithmetic with appending to an
index list, the arithmetic runs in a loop without branches (which the
compiler vectorises) and :func:`flagged` compacts the result: measured
2-3x faster than one loop doing both.

Rules every kernel follows (results must equal the numpy code they replace,
bit for bit; ``tests/test_golden.py`` and ``tests/test_simulator_kernels.py``
check it):

* **No transcendental functions.** ``exp``/``log``/``expit`` stay in numpy
  (numba's libm and numpy's SIMD loops may differ by an ulp, which could
  flip a decision); the kernels do gathers, compares, counts and the
  float32/float64 additions and multiplications of the numpy code, in the
  same order and the same precision (float32 where numpy computes in
  float32, e.g. a float32 array times a Python float).  No ``fastmath``
  (which would allow reassociation and fused multiply-add).
* **Per-person random numbers** are SplitMix64 outputs keyed by person id
  (:func:`splitmix_uniform`, the same function as ``rng.person_uniforms``),
  so a kernel may draw a person's uniform wherever it needs it.
* Thresholds and coefficients that numpy combines with a float32 column
  are passed through :func:`like_float32`: a Python float is a weak scalar
  for numpy (compared or multiplied in float32), a numpy float64 is not.
* ``cache=True`` (compiled once per machine, loaded from ``__pycache__``
  afterwards); no ``parallel=True``: the benchmark is per CPU and the
  process pool already uses the cores.

Units are those of the columns (``population``): ages and durations in
years (float32), money in yuan (float64), counts in persons (int64).
Unit-indexed tables are flat: ``unit x width + position``.

Layout (one module per group of passes): ``common`` (SplitMix64 uniforms, the
branch-free compaction, table widths), ``people`` (steps 0-2: ageing,
stay/leave, compaction), ``moves`` (step 2b: internal moves and the
destination bureaus' acceptance), ``careers`` (steps 3-4: titles, grades,
appointments), ``tables`` (step 5 and the year end: recruitment, post tables,
tallies).  Everything is re-exported here, so callers write ``kernels.name``.
"""

from __future__ import annotations

from .careers import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .common import _F0, _F1, _F2, _GAMMA, _INV53  # noqa: F401
from .moves import *  # noqa: F401,F403
from .people import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
