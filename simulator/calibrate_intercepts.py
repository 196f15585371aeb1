"""Calibrate ``behaviour.exit_intercept`` so baseline township exits match ``behaviour.exit_rate_target``.

Run::

    python -m simulator.calibrate_intercepts            # solve and rewrite baseline.toml's [behaviour.exit_intercept]
    python -m simulator.calibrate_intercepts --dry-run  # solve and print only

Method: build the baseline model on the whole national county table with the
replication seed the command line uses by default (first replication of
master seed 20160701), run the start of year 1 exactly as the model does
(ageing, post plan, retirement), and compute every professional's leave
logit without the intercept.  For each field, solve (Brent) for the intercept
that makes the *expected* non-retirement exit rate of year 1 in the
**township tier** -- ``sum_i P(leave_i) / township staff at the start of the
year``, upward moves included -- equal the target (the published figure,
8.1%/yr, is for township health centres; county-seat staff then leave at the
rate the model's county-vs-township terms give).  Expected values, not a simulated draw, so the solution
has no Monte Carlo noise.  The intercepts are written with 4 decimals.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
from scipy import optimize, special

from . import behaviour
from .model import TalentModel
from .params import FIELDS, NF, TOWNSHIP, Params, compile_params
from .population import geography_from_table
from .rng import replication_seeds

DEFAULT_MASTER_SEED = 20160701


def year_one_logits(p: Params, table, seed: int, tier: int | None = TOWNSHIP):
    """(field of each professional, leave logit without intercept, upward probability, staff at start per field).

    Only the professionals of ``tier`` (default township; None = both tiers).
    """
    p0 = p.replace(exit_intercept=np.zeros(NF))
    model = TalentModel(p0, geography=geography_from_table(table), seed=seed, years=1)
    model.start_year(1)
    p0 = model.p                               # the first simulated year's parameters (time paths)
    s = model.staff
    in_tier = np.ones(len(s), dtype=bool) if tier is None else model.ctx.unit_tier[s.unit] == tier
    stay = ~model.retiring & in_tier
    v0 = behaviour.leave_logits(p0, s, model.ctx)[stay]
    field = model.ctx.unit_field[s.unit][stay]
    obligated = (s.in_term & (s.obligation > 0))[stay]
    upward = np.where(~obligated & (s.served[stay] >= p0.upward_min_years), p0.upward_rate, 0.0)
    start_f = np.bincount(model.ctx.unit_field[s.unit][in_tier], minlength=NF).astype(float)
    return field, v0, upward, start_f


def expected_rates(intercepts: np.ndarray, field, v0, upward, start_f) -> np.ndarray:
    """Expected year-1 non-retirement exit rate per field for given intercepts."""
    prob = upward + (1.0 - upward) * special.expit(v0 + intercepts[field])
    return np.bincount(field, weights=prob, minlength=NF) / start_f


def solve(p: Params, table, seed: int) -> np.ndarray:
    """Intercepts [F] matching ``p.exit_rate_target`` in the township tier."""
    field, v0, upward, start_f = year_one_logits(p, table, seed)
    out = np.zeros(NF)
    for f in range(NF):
        sel = field == f
        vf, uf = v0[sel], upward[sel]

        def gap(a):
            return (uf + (1 - uf) * special.expit(vf + a)).sum() / start_f[f] - p.exit_rate_target[f]

        out[f] = optimize.brentq(gap, -15.0, 15.0, xtol=1e-10)
    return out


def write_intercepts(path: Path, intercepts: np.ndarray) -> str:
    """Rewrite only the numbers of the ``[behaviour.exit_intercept]`` table; returns the new text."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^\[behaviour\.exit_intercept\][^\n]*\n((?:[a-z_]+\s*=.*\n)+)", text, flags=re.M)
    if not m:
        raise RuntimeError(f"{path}: no [behaviour.exit_intercept] table found")
    block = m.group(1)
    for f, value in zip(FIELDS, intercepts):
        block, n = re.subn(rf"^({f}\s*=\s*)[-+0-9.eE]+", lambda mm: f"{mm.group(1)}{value:.4f}", block, flags=re.M)
        if n != 1:
            raise RuntimeError(f"{path}: [behaviour.exit_intercept] has no single line for {f}")
    return text[:m.start(1)] + block + text[m.end(1):]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulator.calibrate_intercepts", description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="print the intercepts, do not rewrite baseline.toml")
    ap.add_argument("--seed", type=int, default=DEFAULT_MASTER_SEED, help="master seed (default 20160701)")
    args = ap.parse_args(argv)
    import scenarios
    sc = scenarios.load("baseline")
    p = compile_params(sc)
    table = scenarios.county_table()
    seed = replication_seeds(args.seed, 1)[0]
    a = solve(p, table, seed)
    field, v0, upward, start_f = year_one_logits(p, table, seed)
    rates = expected_rates(a, field, v0, upward, start_f)
    for f, name in enumerate(FIELDS):
        print(f"{name:12s} intercept {a[f]:+.4f}  expected year-1 township exit rate {rates[f]:.4f}  target {p.exit_rate_target[f]:.4f}")
    if not args.dry_run:
        path = Path(scenarios.loader.library_dir()) / "baseline.toml"
        new = write_intercepts(path, a)
        path.write_text(new, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
