"""Lever family: promotion posts -- senior, intermediate (inside the ratio caps) and directed senior posts.

* ``senior_post`` / ``intermediate_post`` (an extra post inside the ratio cap, 57号 §8; the
  simulator raises the township unit's cap), a standing post from year s: promotes one person
  (grade 9 -> 7, resp. 12 -> 10), raising own pay by ``d`` = base difference x (1 +
  performance_share + performance_tilt_township) (the cost) and, as in the simulator's leave
  logit, the pay the person would carry outside by ``outside_income_ratio[region] x base
  difference x (1 + outside_performance_share)`` (a directed senior carries grade 8 outside):
  the utility term is the difference ``d_net`` (negative when the outside option gains more); staff
  gained at the end of year a: ``(1 - (1-p0)^a)/p0 x (g(d_net) + spill)``, ``g`` = exits avoided per
  person-year at a rise of ``d_net`` (the simulator's logit), ``spill = p0 (1-p0) beta_promo / H``
  counts colleagues' better promotion prospects (one extra promotion over the horizon
  shared by the eligible group; ``beta_promo = beta x wtp_promotion_2_vs_5_years / 1000 /
  PROMOTION_RATE_GAP``); cost 12 d every year.
* ``directed_senior_post`` (定向评价、定向使用, 57号 §6/§8): as a senior post but for
  township staff, outside the cap, under a province total of
  ``posts.directed_senior_share`` x township posts.

Caps per county x field (cumulative over the years: the posts persist): current seniors
+ new senior posts <= (senior_cap + cap_uplift.senior) x posts, per tier and summed;
intermediate cap likewise, a senior promotion freeing an intermediate post.  Headroom
below 0 is clamped to 0.  Promotions <= people in the grade below.
"""

from __future__ import annotations

import numpy as np

from .columns import ColumnBuilder, grouped
from .containers import FIELDS, Groups
from .response import exits_avoided, persistence_profile
from .status_quo import Context

#: annual promotion-rate difference equivalent to "promotion in 2 instead of 5 years"
#: (1/2 - 1/5 = 0.3 per year; assumption used to turn the DCE WTP into a utility per unit rate).
PROMOTION_RATE_GAP = 0.3
#: grades (1 = top) between which a promotion moves a person: senior posts 9 -> 7,
#: intermediate posts 12 -> 10 (assumption: middle of the lower band to the entry of the upper).
SENIOR_PROMOTION_GRADES = (9, 7)
INTERMEDIATE_PROMOTION_GRADES = (12, 10)


#: the grade a directed senior carries outside (the title is valid only at the grassroots): the simulator's
#: ``behaviour.OUTSIDE_GRADE_DIRECTED`` (the engines do not import each other; a test checks they agree)
OUTSIDE_GRADE_DIRECTED = 8


def pay_rises(cx: Context) -> tuple[float, float]:
    """Monthly pay rise (yuan/month) of a senior and of an intermediate promotion in a township unit:
    base difference x (1 + performance_share + performance_tilt_township), as the simulator pays it."""
    base, perf, tilt = cx.base, cx.perf, float(cx.sc.pay.performance_tilt_township)
    d_sen = (base[SENIOR_PROMOTION_GRADES[1] - 1] - base[SENIOR_PROMOTION_GRADES[0] - 1]) * (1 + perf + tilt)
    d_int = (base[INTERMEDIATE_PROMOTION_GRADES[1] - 1] - base[INTERMEDIATE_PROMOTION_GRADES[0] - 1]) * (1 + perf + tilt)
    return float(d_sen), float(d_int)


def net_rises(cx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(senior, intermediate, directed) income terms of the leave logit per county (yuan/month): own pay rise
    minus the rise of the outside option (``outside_income_ratio[region] x base difference of the grade
    carried outside x (1 + outside_performance_share)``)."""
    beh, base = cx.sc.behaviour, cx.base
    out = np.array([beh.outside_income_ratio[r] for r in cx.reg], dtype=float) * (1 + beh.outside_performance_share)
    d_sen, d_int = pay_rises(cx)
    (s_hi, s_lo), (i_hi, i_lo) = SENIOR_PROMOTION_GRADES[::-1], INTERMEDIATE_PROMOTION_GRADES[::-1]
    sen = d_sen - out * (base[s_hi - 1] - base[s_lo - 1])
    inter = d_int - out * (base[i_hi - 1] - base[i_lo - 1])
    directed = d_sen - out * (base[OUTSIDE_GRADE_DIRECTED - 1] - base[s_lo - 1])
    return sen, inter, directed


def promotions(cx: Context, cb: ColumnBuilder) -> list[Groups]:
    """Senior, intermediate and directed senior post columns with their cap rows."""
    sc, H, flat = cx.sc, cx.H, cx.flat
    beh, posts = sc.behaviour, sc.posts
    beta = cx.beta
    beta_promo = beta * beh.wtp_promotion_2_vs_5_years / 1000.0 / PROMOTION_RATE_GAP
    d_sen, d_int = pay_rises(cx)
    u_sen, u_int, u_dir = net_rises(cx)            # income terms of the leave logit per county

    def effect(p, d):
        return persistence_profile(p, H) * (exits_avoided(d, p, beta) + p * (1 - p) * beta_promo / H)[:, None]

    up_sen, up_int = posts.cap_uplift["senior"], posts.cap_uplift["intermediate"]
    cap_sen = sum((np.array([posts.senior_cap[t][f] for f in FIELDS])[None, :] + up_sen) * At
                  for t, At in (("county", cx.A_cty), ("township", cx.A_twp)))
    cap_int = sum((np.array([posts.intermediate_cap[t][f] for f in FIELDS])[None, :] + up_int) * At
                  for t, At in (("county", cx.A_cty), ("township", cx.A_twp)))
    S = cx.S
    n_sen, n_int = cx.sen_share * S, cx.int_share * S
    n_jun = np.maximum(0.0, S - n_sen - n_int)
    head_sen = flat(np.maximum(0.0, cap_sen - n_sen))
    head_int = flat(np.maximum(0.0, cap_int - n_int))
    p_pair, pr = flat(cx.p_pair), cx.pay_region
    groups: list[Groups] = []
    k_s = cx.k_all[(head_sen > 0) & (flat(np.floor(n_int)) > 0)]
    c_sen = cb.add_pairs(k_s, "senior_post", np.full(H, 12 * d_sen), effect(p_pair[k_s], u_sen[cx.pair_county[k_s]]),
                         flat(np.floor(n_int))[k_s], True, pr[cx.pair_county[k_s]], stock=True)
    k_i = cx.k_all[(head_int > 0) & (flat(np.floor(n_jun)) > 0)]
    c_int = cb.add_pairs(k_i, "intermediate_post", np.full(H, 12 * d_int), effect(p_pair[k_i], u_int[cx.pair_county[k_i]]),
                         flat(np.floor(n_jun))[k_i], True, pr[cx.pair_county[k_i]], stock=True)
    if len(c_sen):
        groups.append(cb.pair_rows("senior_cap", k_s, np.arange(len(k_s)), c_sen, np.ones(len(c_sen)), head_sen[k_s], cx.prov))
    # intermediate cap: new intermediate posts - new senior posts <= headroom (a promotion to senior frees a post)
    k_ic = np.union1d(k_s, k_i)
    if len(k_ic):
        pos = np.searchsorted(k_ic, np.concatenate([k_i, k_s]))
        groups.append(cb.pair_rows("intermediate_cap", k_ic, pos, np.concatenate([c_int, c_sen]),
                                   np.concatenate([np.ones(len(c_int)), -np.ones(len(c_sen))]), head_int[k_ic], cx.prov))
    # directed senior posts (township, outside the cap, province total)
    if posts.directed_senior_share > 0:
        n_int_twp = flat(np.floor(cx.int_share * cx.St))
        k_d = cx.k_all[n_int_twp > 0]
        c_dir = cb.add_pairs(k_d, "directed_senior_post", np.full(H, 12 * d_sen), effect(flat(cx.p_twp)[k_d], u_dir[cx.pair_county[k_d]]),
                             n_int_twp[k_d], True, pr[cx.pair_county[k_d]], stock=True)
        if len(c_dir):
            tot = {p: posts.directed_senior_share * cx.A_twp[cx.prov == p].sum() for p in np.unique(cx.prov)}
            key = cx.prov[cx.pair_county[k_d]]
            groups.append(grouped("directed_total", key, c_dir, np.ones(len(c_dir)), lambda k: tot[k],
                                  key, np.full(len(c_dir), "", object)))
    return groups


__all__ = ["promotions", "pay_rises", "net_rises", "OUTSIDE_GRADE_DIRECTED", "PROMOTION_RATE_GAP", "SENIOR_PROMOTION_GRADES", "INTERMEDIATE_PROMOTION_GRADES"]
