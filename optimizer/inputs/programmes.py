"""Lever family: service-term programme places (``place_<programme>``).

One recruit placed in year s under the programme's obligation: in post at the end of
year a ``(1-b)^a`` for a <= T (term), then ``(1-b)^T x post_term_stay x (1-p0)^(a-T)``;
cost in year a = ``max(0, subsidy - breach_penalty x b) x (1-b)^(a-1)`` for a <= T, paid
by the programme's payer.  Eligible where the county's region is in ``regions`` and
the field share is positive.  Uses one recruit.  Quota per programme x field and year:
``places_per_year x programmes.scale x field_share`` nationally, times the share of the
nation's eligible township demand that lies in the counties optimized (as the simulator
shares places).
"""

from __future__ import annotations

import math

import numpy as np

from .columns import ColumnBuilder, grouped, scope_share
from .containers import FIELDS, PAYERS, Groups
from .response import programme_place_profile
from .status_quo import Context


def programme_places(cx: Context, cb: ColumnBuilder, vacant_posts: np.ndarray) -> tuple[list[np.ndarray], list[Groups]]:
    """Columns of every programme with places (one list entry per programme) and their quota rows."""
    sc = cx.sc
    cols_out, groups = [], []
    for name in sc.programmes.__dataclass_fields__:
        if name == "scale":
            continue
        pg = getattr(sc.programmes, name)
        places = pg.places_per_year * sc.programmes.scale
        if places <= 0:
            continue
        shares = np.array([pg.field_shares[f] for f in FIELDS]) * scope_share(cx.table, pg.regions)
        elig = np.isin(cx.reg, list(pg.regions))[cx.pair_county] & (shares[cx.pair_field] > 0) & (vacant_posts > 0)
        k = np.flatnonzero(elig)
        if len(k) == 0:
            continue
        staff, cost = programme_place_profile(cx.flat(cx.p_pair)[k], sc.behaviour.breach_rate, pg.term_years,
                                              pg.post_term_stay, cx.H, pg.subsidy_yuan_per_year, pg.breach_penalty_yuan)
        payer_row = np.array([1.0 if p == pg.payer else 0.0 for p in PAYERS])
        c = cb.add_pairs(k, f"place_{name}", cost, staff, math.inf, True, np.tile(payer_row, (len(k), 1)))
        cols_out.append(c)
        jf = cx.pair_field[k]
        groups.append(grouped("programme_quota", np.array([f"{name}|{FIELDS[j]}" for j in jf], dtype=object), c,
                              np.ones(len(c)), lambda kk, places=places, shares=shares: places * shares[FIELDS.index(kk.split("|")[1])],
                              np.full(len(c), "", object), cx.fields_arr[jf], name_prefix="quota"))
    return cols_out, groups


__all__ = ["programme_places"]
