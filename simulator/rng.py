"""Random streams: one per (replication, year, purpose), and per-person draws keyed by person id.

Two kinds of draws, both derived from the replication seed only:

* **Per-person uniforms** (:func:`person_uniforms`): the uniform used for a
  person's decision of a given purpose in a given year is a pure function of
  ``(replication seed, year, purpose, person id)``:  the stream key comes from
  ``SeedSequence(entropy=seed, spawn_key=(year, purpose))`` and the uniform is
  the SplitMix64 output at position ``person id`` of that stream.  It does
  not depend on where the person sits in the arrays or on how many other
  people there are, so two scenarios run with one seed give *the same person
  the same draw* (common random numbers at the individual level) for as long
  as that person exists in both runs.  Recruits get ids built from (year,
  unit, channel, rank), so recruits of the same unit and channel are matched
  across scenarios too.
* **Per-unit generators** (:func:`generator`): a ``numpy.random.Generator``
  for draws made once per unit (e.g. how many quota posts are filled), drawn
  for every unit in a fixed order, so they too are common across scenarios.

Nothing here touches global random state.  Purpose ids are fixed integers
(changing one changes results).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import kernels

# purpose ids: stable integers, never reuse or renumber
INIT_AGE = 1
INIT_SKILL = 2
INIT_CONTRACT = 3
INIT_REMOTE = 4
INIT_RANK = 5
INIT_AT_TITLE = 6
EXIT = 10
DESTINATION = 11
UPWARD = 12
TERM_END = 13
MOVE = 14          # internal move: whether and where (simulator.mobility)
MOVE_DEST = 15     # internal move: which other county
MOVE_RANK = 16     # destination bureau's ranking of applicants (tie noise)
TITLE_APPLY = 20
TITLE_PASS = 21
TITLE_DIRECTED = 22
APPOINT_ORDER = 30
RECRUIT_FILL = 40
RECRUIT_SKILL = 41
RECRUIT_CONTRACT = 42
RECRUIT_REMOTE = 43
RECRUIT_AGE = 44
SPECIAL_FILL = 45
PROGRAMME_TAKEUP = 50   # + programme index (50..56): take-up of programme places

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / float(1 << 53)

# id layout of recruits: bit 62 set | year (6 bits) | unit (20 bits) | channel (5 bits) | rank (24 bits)
RECRUIT_FLAG = np.uint64(1) << np.uint64(62)


@lru_cache(maxsize=4096)
def _stream_key(seed: int, year: int, purpose: int) -> int:
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(year, purpose))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def stream_key(seed: int, year: int, purpose: int) -> np.uint64:
    """The 64-bit key of stream (year, purpose) of the replication with this seed."""
    return np.uint64(_stream_key(int(seed), int(year), int(purpose)))


def stream_add(seed: int, year: int, purpose: int) -> np.uint64:
    """``key + gamma`` (mod 2^64) of stream (year, purpose): the constant the SplitMix64 mixing adds to ``pid x gamma``."""
    return np.uint64((_stream_key(int(seed), int(year), int(purpose)) + int(_GAMMA)) & 0xFFFFFFFFFFFFFFFF)


def person_uniforms(seed: int, year: int, purpose: int, pid: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) draws, one per person id, for (year, purpose): SplitMix64 output at position ``pid``.

    ``u = mix(key + (pid + 1) x gamma) / 2^64`` with SplitMix64's gamma and
    finaliser (the SplitMix64 sequence of seed ``key``, read at ``pid``;
    the top 53 bits, so ``u`` is a multiple of 2^-53).  Computed by the
    compiled kernel ``kernels.person_uniforms``; :func:`person_uniforms_numpy`
    is the reference implementation in numpy (bit-identical, tested).
    """
    pid = np.ascontiguousarray(pid, dtype=np.uint64)
    out = np.empty(len(pid), dtype=np.float64)
    kernels.person_uniforms(stream_add(seed, year, purpose), pid, out)
    return out


_CHUNK = 1 << 14  # elements per chunk: keeps the temporaries of the mixing chain in cache


def person_uniforms_numpy(seed: int, year: int, purpose: int, pid: np.ndarray) -> np.ndarray:
    """The reference implementation of :func:`person_uniforms` in numpy (uint64 wrapping arithmetic), in chunks."""
    add = stream_add(seed, year, purpose)
    pid = np.ascontiguousarray(pid, dtype=np.uint64)
    n = len(pid)
    out = np.empty(n, dtype=np.float64)
    m0 = min(n, _CHUNK)
    z = np.empty(m0, dtype=np.uint64)
    tmp = np.empty(m0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for s in range(0, n, _CHUNK):
            e = min(n, s + _CHUNK)
            zz, tt = z[:e - s], tmp[:e - s]
            np.multiply(pid[s:e], _GAMMA, out=zz)
            zz += add
            np.right_shift(zz, _S30, out=tt)
            zz ^= tt
            zz *= _M1
            np.right_shift(zz, _S27, out=tt)
            zz ^= tt
            zz *= _M2
            np.right_shift(zz, _S31, out=tt)
            zz ^= tt
            np.right_shift(zz, _S11, out=tt)
            np.multiply(tt, _INV53, out=out[s:e], casting="unsafe")
    return out


def generator(seed: int, year: int, purpose: int) -> np.random.Generator:
    """A Generator for per-unit draws of (year, purpose)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=int(seed), spawn_key=(int(year), int(purpose)))))


def recruit_ids(year: int, unit: np.ndarray, channel, rank: np.ndarray) -> np.ndarray:
    """Ids of recruits: a function of (year, unit, channel, rank within unit and channel); channel may be an array."""
    u = unit.astype(np.uint64)
    r = rank.astype(np.uint64)
    c = np.asarray(channel).astype(np.uint64) & np.uint64(31)
    return (RECRUIT_FLAG | (np.uint64(year & 63) << np.uint64(49)) | (u << np.uint64(29))
            | (c << np.uint64(24)) | (r & np.uint64((1 << 24) - 1)))


def replication_seeds(master_seed: int, replications: int) -> list[int]:
    """Seeds of R replications: the first 64-bit word of each ``SeedSequence(master).spawn(R)`` child."""
    children = np.random.SeedSequence(int(master_seed)).spawn(int(replications))
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
