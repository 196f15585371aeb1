"""Shared pieces of the compiled kernels: SplitMix64 uniforms, the branch-free compaction, table widths."""

from __future__ import annotations

import numpy as np
from numba import njit

# SplitMix64 constants (as rng.py)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / float(1 << 53)

_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)


def like_float32(x):
    """``x`` as numpy combines it with a float32 array: float32 if a Python number (NEP 50 weak scalar), else as is.

    Pass thresholds and coefficients through this so a kernel compares or
    multiplies in the precision numpy would use.
    """
    return np.result_type(x, np.float32).type(x)


STATE_WIDTH = 54        # post level (3) x post kind (3) x title (3) x directed (2), as posts.state_table
GRADES = 13
FLAG_WIDTH = 4          # contract x 2 + in_term


# ============================================================================ random numbers

@njit(cache=True, inline="always")
def splitmix_uniform(add, pid):
    """Uniform [0, 1) of person ``pid`` in the stream whose ``add = key + gamma`` (uint64, wrapping).

    SplitMix64: ``z = pid x gamma + add``, then the three xor-shift-multiply
    rounds of the finaliser, then the top 53 bits scaled by 2^-53 (exact).
    """
    z = pid * _GAMMA + add
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return np.float64(z >> _S11) * _INV53


@njit(cache=True)
def person_uniforms(add, pid, out):
    """``out[i]`` = the uniform of person ``pid[i]`` in the stream ``add`` (see ``rng.person_uniforms``)."""
    for i in range(pid.shape[0]):
        out[i] = splitmix_uniform(add, pid[i])


@njit(cache=True)
def flagged(flag):
    """Indices where ``flag`` is true (ascending), by a branch-free append.

    The kernels below compute their per-person flags in a loop without
    branches or appends (which the compiler vectorises) and compact them
    here: measured 2-3x faster than one loop that does both.
    """
    n = flag.shape[0]
    out = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += flag[i]
    return out[:m].copy()
