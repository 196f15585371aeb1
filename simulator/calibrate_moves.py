"""Calibrate the moving intercepts to the published township -> county-seat move rates.

Targets (``mobility.move_rate_target[field]``, ``mobility.cross_county_share_target``;
figures and citations in ``scenarios/data/published-mobility.toml``): in year 1
of the baseline, township staff of field f move to a county seat -- their own
county's or another's -- at ``move_rate_target[f]`` per year, and a share
``cross_county_share_target`` of those moves cross a county line.

Method: fixed-point iteration on the log rates of realised moves (after the
bureaus' acceptance, so the vacancy constraint is part of what is matched):
``a_seat[f] += log(target_seat / observed_seat)`` and likewise for
``a_other[f]``, on the calibration provinces (one per region: ``PROVINCES``),
seed ``SEED``, several replications pooled, until every rate is within
``TOLERANCE`` (relative) or ``MAX_ROUNDS`` rounds.  Moves barely change the
exit rates of year 1 (decided before them), so the exit intercepts need no
re-calibration.  Run from the repository root; prints the intercepts to paste
into ``scenarios/library/baseline.toml`` and the achieved rates::

    python -m simulator.calibrate_moves            # calibrate and print
    python -m simulator.calibrate_moves --check    # the current intercepts' rates against the targets
"""

from __future__ import annotations

import argparse

import numpy as np

from .metrics import RAW_INDEX
from .params import FIELDS, NF, compile_params

PROVINCES = ("32", "36", "51")   # Jiangsu (east), Jiangxi (central), Sichuan (west)
SEED = 20161126
REPLICATIONS = 2
TOLERANCE = 0.03
MAX_ROUNDS = 8


def observed(p, table, replications: int = REPLICATIONS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Year-1 township move rates per field: to the same county's seat, to another county's seat."""
    from .replicate import simulate
    res = simulate(p, years=1, replications=replications, seed=seed, table=table, keep_records=True)
    sums = {k: np.zeros(NF) for k in ("seat", "other", "start")}
    for rep in res.replication_records:
        raw = rep.raw[:, :, 1].reshape(rep.raw.shape[0], -1, NF)     # [RAW, county, field], year 1
        sums["seat"] += raw[RAW_INDEX["moves_township_to_seat"]].sum(axis=0)
        sums["other"] += raw[RAW_INDEX["moves_township_to_other_county"]].sum(axis=0)
        sums["start"] += raw[RAW_INDEX["township_staff_start"]].sum(axis=0)
    return {"seat": sums["seat"] / sums["start"], "other": sums["other"] / sums["start"]}


def calibrate(p, table, rounds: int = MAX_ROUNDS, verbose: bool = True):
    """(intercepts seat [F], intercepts other [F], achieved rates) for ``p`` (a ``Params``) on ``table``."""
    share = p.cross_county_share_target
    want_seat = p.move_rate_target * (1.0 - share)
    want_other = p.move_rate_target * share
    a_s, a_o = p.move_intercept_seat.copy(), p.move_intercept_other.copy()
    for r in range(rounds):
        q = p.replace(move_intercept_seat=a_s, move_intercept_other=a_o)
        obs = observed(q, table)
        err = max(np.max(np.abs(obs["seat"] / want_seat - 1)), np.max(np.abs(obs["other"] / want_other - 1)))
        if verbose:
            print(f"round {r}: seat {np.round(obs['seat'], 4)} other {np.round(obs['other'], 4)} max rel err {err:.3f}")
        if err < TOLERANCE:
            return a_s, a_o, obs
        a_s = np.clip(a_s + np.log(want_seat / np.maximum(obs["seat"], 1e-6)), -15, 15)
        a_o = np.clip(a_o + np.log(want_other / np.maximum(obs["other"], 1e-6)), -15, 15)
    return a_s, a_o, obs


def main(argv=None) -> int:
    import scenarios
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--provinces", nargs="*", default=list(PROVINCES))
    ap.add_argument("--rounds", type=int, default=MAX_ROUNDS)
    ap.add_argument("--check", action="store_true", help="only report the current intercepts' year-1 rates")
    args = ap.parse_args(argv)
    p = compile_params(scenarios.load("baseline"))
    table = scenarios.county_table(provinces=args.provinces)
    if args.check:
        obs = observed(p, table)
        total = obs["seat"] + obs["other"]
        print(f"year-1 township -> county-seat move rate, provinces {'+'.join(args.provinces)}, {REPLICATIONS} replications:")
        for f, got, want, sh in zip(FIELDS, total, p.move_rate_target, obs["other"] / total):
            print(f"  {f:12s} {got:.4f} /yr (target {want:.4f}); cross-county share {sh:.3f} "
                  f"(target {p.cross_county_share_target:.3f})")
        return 0
    a_s, a_o, _ = calibrate(p, table, args.rounds)
    obs = observed(p.replace(move_intercept_seat=a_s, move_intercept_other=a_o), table)   # with the printed values
    print("[mobility.move_intercept_seat]")
    for f, v in zip(FIELDS, a_s):
        print(f"{f} = {v:.4f}")
    print("[mobility.move_intercept_other_county]")
    for f, v in zip(FIELDS, a_o):
        print(f"{f} = {v:.4f}")
    total = obs["seat"] + obs["other"]
    print("achieved township move rate:", dict(zip(FIELDS, np.round(total, 4))),
          "cross-county share:", dict(zip(FIELDS, np.round(obs["other"] / total, 3))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
