"""Shapley values of many players: exact enumeration, permutation sampling with a stopping rule, interactions.

A *value function* ``value(coalition) -> numpy array`` (one entry per
``(metric, year)`` of the results; the coalition a frozenset of players) is
evaluated by simulation, so every estimator here asks for as few coalitions
as it can and never evaluates one twice (the caller caches by content).

**Exact** (:func:`exact`, up to :data:`MAX_EXACT` players: 2^n coalitions)::

    phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))

**Permutation sampling** (:func:`sampled`, Castro, Gomez & Tejada 2009):
for a random order pi of the players, player i's marginal contribution is
``v(P_i + i) - v(P_i)`` with P_i the players before i; its expectation over
uniform orders is phi_i.  Orders are drawn in *antithetic pairs* (an order
and its reverse: a player early in one is late in the other, which cancels
much of the variance that comes from position), and the estimate is the mean
over pairs of the pair-averaged marginals; its standard error is the standard
deviation over pairs / sqrt(pairs).  The marginals of one order add up to
``v(all) - v(none)`` exactly, so the estimates do too (efficiency holds by
construction; :func:`efficiency` checks it numerically).  The orders come from
``numpy.random.default_rng(seed)``: same seed, same orders, same estimates.

**Stopping rule**: pairs are added in batches until, for the stopping entry
(e.g. coverage in the last year), the largest standard error over players is
at most ``target_se`` x the largest absolute share, or ``max_pairs`` is
reached (``converged`` says which).

**Evaluating many coalitions at once.**  Every estimator takes an optional
``prefetch(coalitions)``, called with every coalition it is about to need
(exact: all of them; sampling: all prefixes of the orders up to the next
check of the stopping rule; interactions: all four corners of every pair)
before it calls ``value`` on them.  A caller that simulates can then run
them in parallel (e.g. on a process pool or a Dask cluster) and serve
``value`` from its cache; the estimates do not change, since the orders are
drawn in the same sequence and ``value`` is a pure function of the coalition.

**Interactions** (:func:`interactions`): for pairs of players, the joint
effect minus the separate effects, ``I(i, j) = v(S + i + j) - v(S + i) -
v(S + j) + v(S)``, both *alone* (S = no other player: the interaction
against the base) and *in the package* (S = every other player).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

MAX_EXACT = 10

Value = Callable[[frozenset], np.ndarray]
Prefetch = Callable[[Sequence[frozenset]], None]


@dataclass
class ShapleyResult:
    """Shares ``phi[player]`` and standard errors ``se[player]`` (arrays over the value's entries)."""

    players: list[str]
    phi: dict[str, np.ndarray]
    se: dict[str, np.ndarray]
    total: np.ndarray                      # v(all) - v(none)
    method: str                            # "exact" or "permutation"
    pairs: int = 0                         # antithetic pairs of orders used (permutation)
    converged: bool = True
    history: list[tuple[int, float]] = field(default_factory=list)   # (pairs, relative SE at the stop entry)


def weights(n: int) -> list[float]:
    """|S|!(n-|S|-1)!/n! for coalition sizes 0..n-1."""
    return [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]


def exact(players: Sequence[str], value: Value, prefetch: Prefetch | None = None) -> ShapleyResult:
    """Exact Shapley values by enumerating every coalition (at most :data:`MAX_EXACT` players)."""
    players = list(players)
    n = len(players)
    if n > MAX_EXACT:
        raise ValueError(f"{n} players: exact Shapley values are limited to {MAX_EXACT}")
    coalitions = [frozenset(c) for k in range(n + 1) for c in itertools.combinations(players, k)]
    if prefetch is not None:
        prefetch(coalitions)
    v = {s: np.asarray(value(s), dtype=float) for s in coalitions}
    empty = v[frozenset()]
    w = weights(n) if n else []
    phi = {}
    for i in players:
        others = [p for p in players if p != i]
        acc = np.zeros_like(empty)
        for k in range(len(others) + 1):
            for combo in itertools.combinations(others, k):
                s = frozenset(combo)
                acc = acc + w[k] * (v[s | {i}] - v[s])
        phi[i] = acc
    zero = np.zeros_like(empty)
    return ShapleyResult(players, phi, {i: zero for i in players}, v[frozenset(players)] - empty, "exact")


def _marginals(order: Sequence[str], value: Value, empty: np.ndarray) -> dict[str, np.ndarray]:
    out, prev, s = {}, empty, frozenset()
    for i in order:
        s = s | {i}
        cur = np.asarray(value(s), dtype=float)
        out[i] = cur - prev
        prev = cur
    return out


def prefixes(order: Sequence[str]) -> list[frozenset]:
    """The coalitions an order walks through: its first 1, 2, ..., n players."""
    return [frozenset(order[:k]) for k in range(1, len(order) + 1)]


def sampled(players: Sequence[str], value: Value, *, stop_index: int, target_se: float = 0.1, seed: int = 0,
            min_pairs: int = 3, max_pairs: int = 200, batch: int = 2,
            progress: Callable[[int, float], None] | None = None,
            prefetch: Prefetch | None = None) -> ShapleyResult:
    """Shapley values by antithetic permutation sampling, stopped by target error (module docstring).

    ``stop_index``: position of the stopping entry in the value arrays; ``target_se``: relative to the largest
    absolute share of that entry; ``progress(pairs, relative_se)`` after each batch whose end is checked;
    ``prefetch``: called once per round (the batches up to the next check) with the round's coalitions.
    """
    players = list(players)
    rng = np.random.default_rng(seed)
    if prefetch is not None:
        prefetch([frozenset(), frozenset(players)])
    empty = np.asarray(value(frozenset()), dtype=float)
    full = np.asarray(value(frozenset(players)), dtype=float)
    samples: dict[str, list[np.ndarray]] = {i: [] for i in players}
    history: list[tuple[int, float]] = []
    pairs, converged = 0, False
    while pairs < max_pairs:
        # a round: batches of orders until the next check of the stopping rule (the same draws as one
        # batch at a time: the stopping rule is only looked at once pairs >= min_pairs)
        orders: list[list[str]] = []
        while pairs + len(orders) < max_pairs:
            for _ in range(min(batch, max_pairs - pairs - len(orders))):
                orders.append([players[k] for k in rng.permutation(len(players))])
            if pairs + len(orders) >= min_pairs:
                break
        if prefetch is not None:
            prefetch([s for order in orders for s in prefixes(order) + prefixes(order[::-1])])
        for order in orders:
            a = _marginals(order, value, empty)
            b = _marginals(order[::-1], value, empty)
            for i in players:
                samples[i].append(0.5 * (a[i] + b[i]))
            pairs += 1
        if pairs >= min_pairs:
            rel = relative_se(samples, stop_index)
            history.append((pairs, rel))
            if progress is not None:
                progress(pairs, rel)
            if rel <= target_se:
                converged = True
                break
    phi = {i: np.mean(samples[i], axis=0) for i in players}
    se = {i: (np.std(samples[i], axis=0, ddof=1) / math.sqrt(pairs) if pairs > 1 else np.full_like(empty, np.nan))
          for i in players}
    return ShapleyResult(players, phi, se, full - empty, "permutation", pairs, converged, history)


def relative_se(samples: dict[str, list[np.ndarray]], k: int) -> float:
    """Largest standard error over players / largest absolute share, at entry ``k`` (inf when all shares are 0)."""
    n = len(next(iter(samples.values())))
    m = np.array([np.mean([x[k] for x in s]) for s in samples.values()])
    sd = np.array([np.std([x[k] for x in s], ddof=1) for s in samples.values()]) / math.sqrt(n)
    top = np.max(np.abs(m)) if len(m) else 0.0
    if top == 0:
        return 0.0 if np.all(sd == 0) else math.inf
    return float(np.max(sd) / top)


def efficiency(res: ShapleyResult) -> tuple[np.ndarray, np.ndarray]:
    """(sum of shares - total, combined standard error sqrt(sum se^2)) per entry: the efficiency check."""
    resid = sum(res.phi.values()) - res.total if res.players else -res.total
    se = np.sqrt(sum(s ** 2 for s in res.se.values())) if res.players else np.zeros_like(res.total)
    return resid, se


def interactions(pairs: Sequence[tuple[str, str]], players: Sequence[str], value: Value,
                 prefetch: Prefetch | None = None) -> dict:
    """``{(i, j, context): I}`` for each pair, context ``alone`` (against no other player) and ``package``
    (against every other player); see the module docstring."""
    out = {}
    everyone = frozenset(players)
    if prefetch is not None:
        prefetch([c for i, j in pairs for s in (frozenset(), everyone - {i, j})
                  for c in (s | {i, j}, s | {i}, s | {j}, s)])
    for i, j in pairs:
        for context, s in (("alone", frozenset()), ("package", everyone - {i, j})):
            out[(i, j, context)] = (np.asarray(value(s | {i, j}), float) - np.asarray(value(s | {i}), float)
                                    - np.asarray(value(s | {j}), float) + np.asarray(value(s), float))
    return out
