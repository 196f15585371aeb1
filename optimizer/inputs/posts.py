"""Lever family: posts outside the ordinary recruitment -- special, government-purchased, direct hires.

* ``special_post`` (57号 §8 township 特设岗位, outside unit totals and ratios; a post
  created in year s and refilled by ordinary recruitment): filled share
  ``f_a = f_{a-1}(1 - p0(1-q)) + (1 - f_{a-1}) q``, ``f_0 = 1``; effect in year a = ``f_a``;
  cost in year a = 12 x monthly pay x ``f_a``, pay = base(grade ``posts.special_post_grade``)
  x (1 + performance_share + performance_tilt_township) + hardship allowance of the
  county's class + the existing township subsidy.  Uses one recruit.  At most
  :data:`SPECIAL_POST_COUNTY_MULTIPLE` x the per-county quota per county x field and
  year; a province x field total of ``posts.special_posts_per_county`` x its units a year.
* ``purchased_post`` (政府购买岗位, 57号 §16): a township post the government funds for
  ``PURCHASED_POST["term_years"]``; refilled like a special post during the term, not
  after it (``f_a = f_T (1-p0)^(a-T)``); paid as a special post while filled.  Uses one
  recruit; at most ``PURCHASED_POST["per_county_per_year"]`` per county x field and year.
* ``direct_hire`` (直接考察, 57号 §7: high-level and scarce talent hired by direct
  assessment instead of an examination): one person placed in year s at grade
  ``DIRECT_HIRE["grade"]``, in post at the end of year a with ``(1-p0)^a``; costs the
  settling-in payment in year 1 and the pay above an ordinary recruit's (grade 13) while
  in post.  Outside the ordinary applicant pool (no recruit supply used); at most
  ``DIRECT_HIRE["per_county_per_year"]`` per county x field and year, and counted with
  programme places against the vacant authorized posts.

The terms of the last two live in :mod:`scenarios.levers` (both engines read them there).
"""

from __future__ import annotations

import numpy as np

from .columns import ColumnBuilder, grouped, quota_rhs
from .containers import FIELDS, Groups
from .response import filled_share_profile
from .status_quo import Context

#: a county may take at most this multiple of the per-county special-post quota (assumption).
SPECIAL_POST_COUNTY_MULTIPLE = 3.0


def _post_pay(cx: Context) -> np.ndarray:
    """Monthly pay of a special-post holder per county (yuan/month)."""
    pay, grade = cx.sc.pay, int(cx.sc.posts.special_post_grade)
    return cx.base[grade - 1] * (1 + cx.perf + pay.performance_tilt_township) + cx.allowance + cx.s0


def special_posts(cx: Context, cb: ColumnBuilder) -> tuple[np.ndarray, list[Groups]]:
    """Special-post columns (uses recruits) and their province x field quota rows."""
    spc = np.array([cx.sc.posts.special_posts_per_county[f] for f in FIELDS])
    fill = filled_share_profile(cx.p_twp, cx.q, cx.H).reshape(cx.K, cx.H)
    ok = cx.flat((spc[None, :] > 0) & (cx.townships[:, None] > 0) & np.ones((cx.n, cx.nf), bool))
    k = np.flatnonzero(ok)
    i, j = cx.pair_county[k], cx.pair_field[k]
    cols = cb.add_pairs(k, "special_post", 12.0 * _post_pay(cx)[i][:, None] * fill[k], fill[k],
                        np.ceil(SPECIAL_POST_COUNTY_MULTIPLE * spc[j]), True, cx.pay_region[i])
    groups = []
    if len(cols):
        key = cx.prov[i] + "|" + cx.fields_arr[j]
        groups.append(grouped("special_post_quota", key, cols, np.ones(len(cols)),
                              lambda kk: quota_rhs(kk, cx.prov, spc), cx.prov[i], cx.fields_arr[j]))
    return cols, groups


def purchased_posts(cx: Context, cb: ColumnBuilder) -> np.ndarray:
    """Government-purchased post columns (use recruits)."""
    from scenarios.levers import PURCHASED_POST
    term = int(PURCHASED_POST["term_years"])
    cap = float(PURCHASED_POST["per_county_per_year"])
    if cap <= 0:
        return np.zeros(0, np.int64)
    fill = filled_share_profile(cx.p_twp, cx.q, cx.H, term=term).reshape(cx.K, cx.H)
    k = np.flatnonzero(cx.flat((cx.townships[:, None] > 0) & np.ones((cx.n, cx.nf), bool)))
    i = cx.pair_county[k]
    return cb.add_pairs(k, "purchased_post", 12.0 * _post_pay(cx)[i][:, None] * fill[k], fill[k], cap, True,
                        cx.pay_region[i])


def direct_hires(cx: Context, cb: ColumnBuilder, vacant_posts: np.ndarray) -> np.ndarray:
    """Direct-hire columns (pairs with vacant authorized posts)."""
    from scenarios.levers import DIRECT_HIRE
    cap = float(DIRECT_HIRE["per_county_per_year"])
    if cap <= 0:
        return np.zeros(0, np.int64)
    g = int(DIRECT_HIRE["grade"])
    tilt = float(cx.sc.pay.performance_tilt_township)                     # placed in a township unit
    premium = 12.0 * (cx.base[g - 1] - cx.base[12]) * (1 + cx.perf + tilt)   # yuan/year above an ordinary recruit
    k = np.flatnonzero(vacant_posts > 0)
    a = np.arange(1, cx.H + 1, dtype=float)
    stay = (1.0 - cx.flat(cx.p_pair)[k][:, None]) ** a[None, :]
    cost = premium * np.concatenate([np.ones((len(k), 1)), stay[:, :-1]], axis=1)   # paid while in post during year a
    cost[:, 0] += float(DIRECT_HIRE["settling_yuan"])
    return cb.add_pairs(k, "direct_hire", cost, stay, cap, True, cx.pay_region[cx.pair_county[k]])


__all__ = ["special_posts", "purchased_posts", "direct_hires", "SPECIAL_POST_COUNTY_MULTIPLE"]
