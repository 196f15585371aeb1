"""Lever family: subsidies -- the township work subsidy and the hardship top-up (57号 §9).

Both are paid per person (yuan/month) to all staff of a county's township units (resp.
of a hardship county, class >= 1) whatever their field, so each is decided **per
county** and acts on the county's five fields.  A level started in year s is paid in
every later year (a standing commitment, bounds cumulative).  Township staff respond to
the sum of both, county-seat staff to the top-up alone; each field's response at the
end of year a, ``N_f x (1 - (1-p0_f)^a)/p0_f x g(s)`` with ``g(s) = p0 - logistic(logit(p0)
- beta s / 1000)``, is cut at :data:`SUBSIDY_BREAKS` into linear segments (concave for every
field, so the LP fills them in order).  Cost = 12 x N yuan/year per yuan/month, N = the
staff who receive it; reports split it over the fields by their staff.  Township staff
already receiving the scenario's township subsidy start from the lower exit rate it implies.
"""

from __future__ import annotations

import numpy as np

from .columns import ColumnBuilder
from .containers import Groups
from .response import exits_avoided, persistence_profile
from .status_quo import Context

#: yuan/month breakpoints of the piecewise-linear subsidy response; the last is the
#: largest top-up per person (assumption: just below the city-vs-township WTP of
#: 3,324 yuan/month, FACTS.md DCE, beyond which a subsidy is a city wage).
SUBSIDY_BREAKS = (0.0, 200.0, 500.0, 1000.0, 2000.0, 3000.0)


def subsidies(cx: Context, cb: ColumnBuilder) -> list[Groups]:
    """Segment columns of both subsidies and the rows linking them (township total >= top-up)."""
    brk = np.asarray(SUBSIDY_BREAKS)
    width = np.diff(brk)
    H, beta, St, Sc = cx.H, cx.beta, cx.St, cx.Sc
    Kt, Kc = persistence_profile(cx.p_twp, H), persistence_profile(cx.p_cty, H)   # (n, nf, H)
    twp_cols, cty_cols = [], []
    i_t = np.flatnonzero(St.sum(axis=1) > 0)
    i_c = np.flatnonzero((Sc.sum(axis=1) > 0) & (cx.cls >= 1))
    for j in range(len(width)):
        g_t = (exits_avoided(brk[j + 1], cx.p_twp, beta) - exits_avoided(brk[j], cx.p_twp, beta)) / width[j]
        cost_t = np.repeat((12 * St[i_t].sum(axis=1))[:, None], H, axis=1)
        twp_cols.append(cb.add_counties(i_t, "township_subsidy", cost_t, (St[:, :, None] * Kt * g_t[:, :, None])[i_t],
                                        St[i_t], width[j], cx.pay_region[i_t]))
        g_c = (exits_avoided(brk[j + 1], cx.p_cty, beta) - exits_avoided(brk[j], cx.p_cty, beta)) / width[j]
        cost_c = np.repeat((12 * Sc[i_c].sum(axis=1))[:, None], H, axis=1)
        cty_cols.append(cb.add_counties(i_c, "hardship_topup", cost_c, (Sc[:, :, None] * Kc * g_c[:, :, None])[i_c],
                                        Sc[i_c], width[j], cx.pay_region[i_c]))
    # link: the top-up reaches township staff too, so the township total is at least the top-up
    i_link = np.intersect1d(i_c, i_t)
    if not (len(i_link) and len(cty_cols[0])):
        return []
    pc_, pt_ = np.searchsorted(i_c, i_link), np.searchsorted(i_t, i_link)
    gi = np.arange(len(i_link))
    nw = len(width)
    eg = np.concatenate([np.tile(gi, nw), np.tile(gi, nw)])
    ec = np.concatenate([np.concatenate([c[pc_] for c in cty_cols]), np.concatenate([c[pt_] for c in twp_cols])])
    ev = np.concatenate([np.ones(len(gi) * nw), -np.ones(len(gi) * nw)])
    return [Groups(family=np.full(len(gi), "subsidy_link", object),
                   name=np.array([f"subsidy_link_{c}" for c in cx.cid[i_link]], dtype=object),
                   sense=np.full(len(gi), "<=", object), rhs=np.zeros(len(gi)),
                   label_county=cx.cid[i_link].astype(object), label_province=cx.prov[i_link].astype(object),
                   label_field=np.full(len(gi), "", object), entry_group=eg.astype(np.int64),
                   entry_col=ec.astype(np.int64), entry_coef=ev)]


__all__ = ["subsidies", "SUBSIDY_BREAKS"]
