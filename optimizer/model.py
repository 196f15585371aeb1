"""The allocation model as arrays, and the PuLP model built from them.

:func:`build_arrays` turns :class:`~optimizer.inputs.AllocationInputs` into a
:class:`ModelArrays`: objective ``c``, sparse matrix ``A`` (CSR), row bounds,
column bounds and integrality, with a name and a *family* for every row and
column.  Everything else reads these arrays:

* :func:`to_pulp` builds the named PuLP model (variables ``<lever>_<county>_<field>``,
  constraints ``<family>_<...>``), fast: one ``LpAffineExpression`` per row from
  the CSR slices, no operator arithmetic (see ``benchmarks/optimizer.py``);
* :func:`to_linprog` exports ``c, A_ub, b_ub, A_eq, b_eq, bounds`` for
  ``scipy.optimize.linprog`` (tests compare optima);
* :func:`elastic` adds slack columns to every constraint family and to the
  per-county bounds, to find which families make an instance infeasible.

Columns: the M lever columns, one *surplus* ``t_k`` per pair (staff beyond demand),
one *spending* column ``m_g`` per county x payer pattern (in MONEY_UNIT = 10,000
yuan per year), then the
objective's own columns (``z`` for equity, ``v`` per pair for the integer equity
cap, ``y`` per county for a cost target on a share of counties).  The shortfall
of pair k is ``u_k = gap_k - (E x)_k + t_k`` with ``gap = demand - baseline``
and ``E`` the lever effects (:meth:`ModelArrays.shortfall`).

Rows and families (unit of the right-hand side):

==================  ===============================================================  =========
family              row                                                              unit
==================  ===============================================================  =========
shortfall           (E x)_k - t_k <= gap_k            (i.e. u_k >= 0)                persons
spending            sum_{j in g} cost_j x_j / MONEY_UNIT - m_g = 0                   10^4 yuan/yr
budget              sum_g m_g <= budget / MONEY_UNIT                                 10^4 yuan/yr
payer_budget        sum_g share_gq m_g <= budget_q / MONEY_UNIT                      10^4 yuan/yr
<group families>    from ``inputs.groups`` (caps, supply, quotas, bounds, links)     varies
equity              u_k - demand_k z (- v_k) <= 0                                    persons
coverage_target     u_k (- big_k (1 - y_c)) <= (1 - target) demand_k                persons
target_share        sum_c y_c >= ceil(share x counties)                              counties
==================  ===============================================================  =========

Objectives: shortfall ``sum_k w_k u_k + spend_penalty sum_g m_g``; equity ``z x total demand`` then
(stage 2, :func:`weighted_shortfall_objective`) the weighted shortfall with ``z``
capped; cost ``sum_g m_g``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from .errors import OptimizerInputError
from .inputs import PAYERS, AllocationInputs

OBJECTIVES = ("shortfall", "equity", "cost")
INF = math.inf
#: yuan per unit of the spending columns, the budget and payer rows and the cost objective
#: (10,000 yuan, 万元): keeps money coefficients near 1 so solver tolerances mean the same
#: thing on the budget row as on the staffing rows.  Duals are converted back to yuan.
MONEY_UNIT = 1e4

#: unit of the right-hand side of each row family, as reported (money rows are held in
#: MONEY_UNIT inside the model and converted to yuan in messages and tables)
FAMILY_UNITS = {
    "shortfall": "persons", "spending": "yuan/year", "budget": "yuan/year", "payer_budget": "yuan/year", "supply": "recruits/year",
    "senior_cap": "posts", "intermediate_cap": "posts", "directed_total": "posts", "programme_quota": "places",
    "special_post_quota": "posts", "county_bound": "places", "subsidy_link": "yuan/month",
    "equity": "persons", "coverage_target": "persons", "target_share": "counties", "lever_bounds": "units",
    "lever_total": "units",
}


@dataclass
class ModelArrays:
    """A linear (mixed-integer) model ``min c x + offset  s.t.  row_lo <= A x <= row_hi, col_lo <= x <= col_hi``."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    col_names: list
    row_names: list
    col_family: np.ndarray
    row_family: np.ndarray
    objective: str
    offset: float = 0.0
    n_lever: int = 0
    n_pairs: int = 0
    t_start: int = 0
    m_start: int = 0
    n_spend: int = 0
    z_col: int = -1
    z_scale: float = 1.0
    y_start: int = -1
    y_county: np.ndarray | None = None
    v_start: int = -1
    budget_row: int = -1
    payer_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    group_row_start: int = 0
    spend_row_start: int = 0
    mode_row_start: int = -1
    n_elastic: int = 0
    gap: np.ndarray | None = None
    E: sp.csr_matrix | None = None
    n_years: int = 1
    fund_col: int = -1
    budget_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    payer_row_payer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    payer_row_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    target: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    def copy(self) -> "ModelArrays":
        return replace(self, c=self.c.copy(), row_lo=self.row_lo.copy(), row_hi=self.row_hi.copy(),
                       col_lo=self.col_lo.copy(), col_hi=self.col_hi.copy(), integer=self.integer.copy())

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    def shortfall(self, x: np.ndarray) -> np.ndarray:
        """Shortfall ``u_k = gap_k - (E x)_k + t_k`` per pair at solution ``x``."""
        return self.gap - self.E @ x[:self.n_lever] + x[self.t_start:self.t_start + self.n_pairs]

    def money(self, x: np.ndarray) -> float:
        """Yuan per year spent at solution ``x`` (the mean over the budget years)."""
        return float(x[self.m_start:self.m_start + self.n_spend].sum()) * MONEY_UNIT / max(1, self.n_years)

    def money_by_year(self, x: np.ndarray) -> np.ndarray:
        """Yuan spent in each budget year at solution ``x``."""
        m = x[self.m_start:self.m_start + self.n_spend].reshape(self.n_years, -1)
        return m.sum(axis=1) * MONEY_UNIT

    def violations(self, x: np.ndarray, tol: float = 1e-6) -> dict[str, float]:
        """Largest violation per row family (and of column bounds), relative to max(1, |bound|)."""
        ax = self.A @ x
        out: dict[str, float] = {}
        lo_f, hi_f = np.isfinite(self.row_lo), np.isfinite(self.row_hi)
        lo_v, hi_v = np.zeros(len(ax)), np.zeros(len(ax))
        lo_v[lo_f] = (self.row_lo[lo_f] - ax[lo_f]) / np.maximum(1.0, np.abs(self.row_lo[lo_f]))
        hi_v[hi_f] = (ax[hi_f] - self.row_hi[hi_f]) / np.maximum(1.0, np.abs(self.row_hi[hi_f]))
        v = np.maximum(lo_v, hi_v)
        for fam in np.unique(self.row_family):
            m = self.row_family == fam
            worst = float(v[m].max()) if m.any() else 0.0
            if worst > tol:
                out[str(fam)] = worst
        cb = np.maximum(np.where(np.isfinite(self.col_lo), self.col_lo - x, 0.0),
                        np.where(np.isfinite(self.col_hi), x - self.col_hi, 0.0))
        if len(cb) and cb.max() > tol:
            out["column_bounds"] = float(cb.max())
        return out


def _pair_names(inputs: AllocationInputs) -> np.ndarray:
    if inputs.pair_year is not None:
        return np.array([f"{c}_{f}_y{y}" for c, f, y in zip(inputs.county_id, inputs.field, inputs.pair_year)], dtype=object)
    return np.array([f"{c}_{f}" for c, f in zip(inputs.county_id, inputs.field)], dtype=object)


def build_arrays(inputs: AllocationInputs, objective: str = "shortfall", *, integer: bool = False,
                 coverage_target: float = 0.85, target_share: float = 1.0, spend_penalty: float = 0.0,
                 equity_soft_penalty: float | None = None) -> ModelArrays:
    """The model of ``objective`` over ``inputs`` as arrays (see the module docstring).

    ``integer``: lever columns flagged ``col_integer`` become integer.  ``spend_penalty``:
    yuan-weight added to the shortfall objectives so that money that reduces no shortfall is
    not spent.  ``coverage_target``/``target_share``: the cost objective's target and the
    share of counties that must reach it.  ``equity_soft_penalty``: adds a priced slack ``v``
    to every equity row (used for the integer equity stage).

    Two reformulations keep the simplex fast (measured in ``benchmarks/optimizer.py``):
    the shortfall ``u_k = gap_k - (E x)_k + t_k`` is substituted by the *surplus* ``t_k >= 0``
    (staff beyond demand), so the objective prices the levers directly; and money is summed
    per county and payer pattern into *spending* columns ``m_g`` (rows ``sum c x - m_g = 0``),
    so the budget and payer rows have a few thousand entries instead of one per lever column.
    """
    if objective not in OBJECTIVES:
        raise OptimizerInputError([f"objective: {objective!r} (allowed: {', '.join(OBJECTIVES)})"])
    K, M = inputs.n_pairs, inputs.n_columns
    pair_names = _pair_names(inputs)
    gap = inputs.gap
    w = inputs.weight.astype(float)
    E = sp.csr_matrix(inputs.effect)  # staff gained per unit: pairs x lever columns

    # ---- spending groups: one per county x payer pattern among columns with a cost (x year when year-indexed)
    C = (np.asarray(inputs.col_cost, float)[:, None] if inputs.col_cost_by_year is None
         else np.asarray(inputs.col_cost_by_year, float))          # [M, Y] yuan in each budget year
    Y = C.shape[1]
    has_cost = (C != 0).any(axis=1)
    pay_pat, pat_inv = np.unique(np.round(inputs.col_payer, 12), axis=0, return_inverse=True)
    pat_inv = np.asarray(pat_inv).reshape(-1)
    county_codes = np.unique(inputs.county_id.astype(str))
    gkey = np.searchsorted(county_codes, inputs.col_county.astype(str)) * max(1, len(pay_pat)) + pat_inv
    gkeys, g_of_col = np.unique(gkey[has_cost], return_inverse=True)
    G = len(gkeys)
    g_county = county_codes[gkeys // max(1, len(pay_pat))] if G else np.zeros(0, object)
    g_share = pay_pat[gkeys % max(1, len(pay_pat))] if G else np.zeros((0, 3))

    # ---- columns: levers | surplus t (K) | spending m (G x Y, year-major) | z | v | y | F
    names = _uniquify([f"{lv}_{key}" for lv, key in zip(inputs.col_lever, inputs.col_key)])
    names += [f"surplus_{pn}" for pn in pair_names]
    ysuf = (lambda y: "") if Y == 1 else (lambda y: f"_y{y + 1}")  # noqa: E731
    for yy in range(Y):
        names += [f"spend_{cid}_p{gk % max(1, len(pay_pat))}{ysuf(yy)}" for cid, gk in zip(g_county, gkeys)]
    GY = G * Y
    t0_, m0 = M, M + K
    n = M + K + GY
    c_parts = [np.zeros(M), np.zeros(K), np.zeros(GY)]
    lo_parts = [inputs.col_lower.astype(float), np.zeros(K), np.full(GY, -INF)]
    hi_parts = [inputs.col_upper.astype(float), np.full(K, INF), np.full(GY, INF)]
    int_parts = [inputs.col_integer.astype(bool) & bool(integer), np.zeros(K, bool), np.zeros(GY, bool)]
    fam_parts = [np.full(M, "lever", object), np.full(K, "surplus", object), np.full(GY, "spending", object)]
    z_col = y_start = v_start = -1
    y_county = None
    dpos = np.flatnonzero((inputs.demand > 0) & (np.asarray(inputs.weight, float) > 0))   # equity: pairs counted
                                                           # (weight 0: a field outside --field, a year not counted)

    def add_cols(cost, lo_, hi_, integ_, fam_, nm):
        nonlocal n
        start = n
        c_parts.append(np.asarray(cost, float)); lo_parts.append(np.asarray(lo_, float)); hi_parts.append(np.asarray(hi_, float))
        int_parts.append(np.asarray(integ_, bool)); fam_parts.append(np.full(len(nm), fam_, object)); names.extend(nm)
        n += len(nm)
        return start

    # z is a ratio with tiny reduced costs; priced per person of total demand, the solver's
    # optimality tolerance means the same as on the staffing rows (the value reported is z)
    z_scale = float(max(1.0, inputs.demand.sum()))
    if objective == "equity":
        z_col = add_cols([z_scale], [0.0], [INF], [False], "equity", ["z_max_shortfall_ratio"])
        if equity_soft_penalty is not None:
            v_start = add_cols(np.full(len(dpos), float(equity_soft_penalty)), np.zeros(len(dpos)), np.full(len(dpos), INF),
                               np.zeros(len(dpos), bool), "equity_slack", [f"v_{pair_names[k]}" for k in dpos])
    tgt = np.full(K, float(coverage_target))
    if inputs.coverage_target is not None:
        ct = np.asarray(inputs.coverage_target, float)
        tgt = np.where(np.isnan(ct), tgt, ct)
    tpos = np.flatnonzero((inputs.demand > 0) & (tgt > 0))   # pairs with a coverage target
    need_y = objective == "cost" and target_share < 1.0
    if need_y:
        y_county, pair_to_county = np.unique(inputs.county_id.astype(str), return_inverse=True)
        nc = len(y_county)
        y_start = add_cols(np.zeros(nc), np.zeros(nc), np.ones(nc), np.ones(nc, bool), "target_share",
                           [f"y_{cid}" for cid in y_county])
    fund_col = -1
    if objective == "cost" and Y > 1:
        # a flat yearly fund F >= spending of every year: the smallest F is the answer
        fund_col = add_cols([1.0], [0.0], [INF], [False], "fund", ["fund_per_year"])
    c = np.concatenate(c_parts)
    offset = 0.0
    if objective == "shortfall":
        # sum_k w_k u_k = sum_k w_k gap_k - (w E) x + w t
        c[:M] = -(E.T @ w)
        c[t0_:t0_ + K] = w
        c[m0:m0 + GY] = spend_penalty * MONEY_UNIT
        offset = float(w @ gap)
    elif objective == "cost":
        # the cost objective is in MONEY_UNIT: total spending (one year), or the flat fund F plus a
        # tie-breaking 1e-6 per unit spent (so money that reaches no target is not spent)
        c[m0:m0 + GY] = 1.0 if Y == 1 else 1e-6
    # equity: only z (stage 1); the allocator sets the stage-2 objective via weighted_shortfall_objective()

    # ---- rows
    rows_r, rows_c, rows_v = [], [], []
    lo, hi, rnames, rfam = [], [], [], []
    r0 = 0

    def add_rows(r, cc, v, rlo, rhi, nm, fam):
        nonlocal r0
        rows_r.append(np.asarray(r, np.int64) + r0)
        rows_c.append(np.asarray(cc, np.int64))
        rows_v.append(np.asarray(v, float))
        lo.append(np.asarray(rlo, float)); hi.append(np.asarray(rhi, float))
        rnames.extend(nm)
        rfam.append(np.full(len(nm), fam, object) if isinstance(fam, str) else np.asarray(fam, object))
        start = r0
        r0 += len(nm)
        return start

    # shortfall rows: (E x)_k - t_k <= gap_k   (u_k = gap_k - (E x)_k + t_k >= 0)
    Ecoo = E.tocoo()
    add_rows(np.concatenate([Ecoo.row, np.arange(K)]), np.concatenate([Ecoo.col, t0_ + np.arange(K)]),
             np.concatenate([Ecoo.data, -np.ones(K)]), np.full(K, -INF), gap,
             [f"shortfall_{pn}" for pn in pair_names], "shortfall")
    # spending rows: sum_{j in g} c_jy x_j - m_gy = 0, per year y
    jc = np.flatnonzero(has_cost)
    spend_row_start = r0
    for yy in range(Y):
        cy = C[jc, yy]
        nzc = cy != 0
        add_rows(np.concatenate([g_of_col[nzc], np.arange(G)]), np.concatenate([jc[nzc], m0 + yy * G + np.arange(G)]),
                 np.concatenate([cy[nzc] / MONEY_UNIT, -np.ones(G)]), np.zeros(G), np.zeros(G),
                 [f"spending_{nm[6:]}" for nm in names[m0 + yy * G:m0 + (yy + 1) * G]], "spending")
    budget_rows = np.zeros(0, np.int64)
    payer_rows = np.zeros(0, np.int64)
    payer_row_payer = np.zeros(0, np.int64)
    payer_row_year = np.zeros(0, np.int64)
    bsuf = (lambda y: "") if Y == 1 else (lambda y: f"_y{y + 1}")  # noqa: E731
    if objective != "cost":
        path = (np.full(Y, inputs.budget_yuan) if inputs.budget_by_year is None else np.asarray(inputs.budget_by_year, float))
        budget_rows = np.array([add_rows(np.zeros(G), m0 + yy * G + np.arange(G), np.ones(G), [-INF], [path[yy] / MONEY_UNIT],
                                         [f"budget{bsuf(yy)}"], "budget") for yy in range(Y)], dtype=np.int64)
    elif fund_col >= 0:
        budget_rows = np.array([add_rows(np.zeros(G + 1), np.append(m0 + yy * G + np.arange(G), fund_col),
                                         np.append(np.ones(G), -1.0), [-INF], [0.0], [f"budget{bsuf(yy)}"], "budget")
                                for yy in range(Y)], dtype=np.int64)
    if inputs.payer_budget_yuan is not None and G and (objective != "cost" or inputs.payer_budget_fixed):
        pby = (np.tile(np.asarray(inputs.payer_budget_yuan, float), (Y, 1)) if inputs.payer_budget_by_year is None
               else np.asarray(inputs.payer_budget_by_year, float).reshape(Y, 3))
        pr, pq, py_ = [], [], []
        for yy in range(Y):
            for q, pname in enumerate(PAYERS):
                if not np.isfinite(pby[yy, q]):
                    continue
                gq = np.flatnonzero(g_share[:, q])
                pr.append(add_rows(np.zeros(len(gq)), m0 + yy * G + gq, g_share[gq, q], [-INF], [pby[yy, q] / MONEY_UNIT],
                                   [f"payer_budget_{pname}{bsuf(yy)}"], "payer_budget"))
                pq.append(q); py_.append(yy)
        payer_rows, payer_row_payer, payer_row_year = (np.array(v, dtype=np.int64) for v in (pr, pq, py_))
    budget_row = int(budget_rows[0]) if len(budget_rows) else -1
    g = inputs.groups
    group_row_start = r0
    if len(g):
        le = g.sense == "<="
        add_rows(g.entry_group, g.entry_col, g.entry_coef, np.where(le, -INF, g.rhs), np.where(le, g.rhs, INF),
                 list(g.name), g.family)
    mode_row_start = r0
    if objective in ("equity", "cost"):
        # rows on u_k = gap_k - (E x)_k + t_k for pairs with demand (cost: with a target)
        if objective == "cost":
            dpos = tpos
        nd = len(dpos)
        Ed = E[dpos].tocoo()
        rr = [Ed.row, np.arange(nd)]
        cc = [Ed.col, t0_ + dpos]
        vv = [-Ed.data, np.ones(nd)]
        if objective == "equity":
            # u_k - demand_k z (- v_k) <= 0
            rr.append(np.arange(nd)); cc.append(np.full(nd, z_col)); vv.append(-inputs.demand[dpos])
            if v_start >= 0:
                rr.append(np.arange(nd)); cc.append(v_start + np.arange(nd)); vv.append(-np.ones(nd))
            add_rows(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv), np.full(nd, -INF), -gap[dpos],
                     [f"equity_{pair_names[k]}" for k in dpos], "equity")
        else:
            # u_k <= (1 - target) demand_k  [+ big_k (1 - y_c)]
            rhs = (1.0 - tgt[dpos]) * inputs.demand[dpos] - gap[dpos]
            if need_y:
                big = np.maximum(0.0, gap[dpos])  # y = 0 leaves u <= rhs + gap: never binding, for any target
                rr.append(np.arange(nd)); cc.append(y_start + pair_to_county[dpos]); vv.append(big)
                rhs = rhs + big
            add_rows(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv), np.full(nd, -INF), rhs,
                     [f"coverage_{pair_names[k]}" for k in dpos], "coverage_target")
            if need_y:
                need = math.ceil(target_share * len(y_county) - 1e-9)
                add_rows(np.zeros(len(y_county)), y_start + np.arange(len(y_county)), np.ones(len(y_county)),
                         [float(need)], [INF], ["target_share"], "target_share")

    A = sp.csr_matrix((np.concatenate(rows_v), (np.concatenate(rows_r), np.concatenate(rows_c))), shape=(r0, n))
    A.sum_duplicates()
    A.eliminate_zeros()
    return ModelArrays(
        c=c, A=A, row_lo=np.concatenate(lo), row_hi=np.concatenate(hi), col_lo=np.concatenate(lo_parts),
        col_hi=np.concatenate(hi_parts), integer=np.concatenate(int_parts), col_names=names, row_names=rnames,
        col_family=np.concatenate(fam_parts), row_family=np.concatenate(rfam), objective=objective, offset=offset,
        n_lever=M, n_pairs=K, t_start=t0_, m_start=m0, n_spend=GY, n_years=Y, fund_col=fund_col, budget_rows=budget_rows,
        payer_row_payer=payer_row_payer, payer_row_year=payer_row_year, target=tgt, z_col=z_col, y_start=y_start, y_county=y_county,
        v_start=v_start, z_scale=z_scale, budget_row=budget_row, payer_rows=payer_rows, group_row_start=group_row_start,
        spend_row_start=spend_row_start, mode_row_start=mode_row_start, gap=gap.copy(), E=E,
    )


def weighted_shortfall_objective(arrays: ModelArrays, weight: np.ndarray, spend_penalty: float = 0.0) -> tuple[np.ndarray, float]:
    """``(c, offset)`` of ``sum_k w_k u_k + spend_penalty x money`` on ``arrays`` (the equity stage 2)."""
    M, K = arrays.n_lever, arrays.n_pairs
    c = np.zeros(len(arrays.c))
    c[:M] = -(arrays.E.T @ weight)
    c[arrays.t_start:arrays.t_start + K] = weight
    c[arrays.m_start:arrays.m_start + arrays.n_spend] = spend_penalty * MONEY_UNIT
    return c, float(weight @ arrays.gap)


def _uniquify(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for nm in names:
        k = seen.get(nm, 0)
        seen[nm] = k + 1
        out.append(nm if k == 0 else f"{nm}_s{k}")
    return out


# ----------------------------------------------------------------------------- elastic relaxation

#: families never relaxed: they define quantities rather than restrict them
DEFINITIONAL = ("shortfall", "spending", "equity", "subsidy_link")


def elastic(arrays: ModelArrays) -> tuple[ModelArrays, np.ndarray, np.ndarray]:
    """A copy of ``arrays`` where every restricting row and every lever bound may be violated at a price.

    Returns ``(model, slack_family, slack_target)``: the elastic model minimises the sum of
    violations, each relative to ``max(1, |bound|)``; ``slack_family``/``slack_target`` say,
    per slack column, which family and which row or column it relaxes.  Lever bounds become
    rows ``x - s <= upper`` and ``x + s >= lower`` (family ``lever_bounds``).  The original
    objective is dropped: this model only asks *whether* and *where* the instance is infeasible.
    """
    m, n = arrays.A.shape
    M = arrays.n_lever
    lever = np.arange(M)
    ub = lever[np.isfinite(arrays.col_hi[:M])]
    lb = lever[arrays.col_lo[:M] > 0]
    # bound rows appended below the original rows
    nb = len(ub) + len(lb)
    B = sp.csr_matrix((np.ones(nb), (np.arange(nb), np.concatenate([ub, lb]).astype(np.int64))), shape=(nb, n))
    row_lo = np.concatenate([arrays.row_lo, np.full(len(ub), -INF), arrays.col_lo[lb]])
    row_hi = np.concatenate([arrays.row_hi, arrays.col_hi[ub], np.full(len(lb), INF)])
    row_family = np.concatenate([arrays.row_family, np.full(nb, "lever_bounds", object)])
    row_names = list(arrays.row_names) + [f"upper_{arrays.col_names[j]}" for j in ub] + [f"lower_{arrays.col_names[j]}" for j in lb]
    relax = ~np.isin(row_family, DEFINITIONAL)
    rr, vv, fams, targets, cost = [], [], [], [], []
    for r in np.flatnonzero(relax):
        for sign, bound in ((1.0, row_lo[r]), (-1.0, row_hi[r])):
            if np.isfinite(bound):
                rr.append(r); vv.append(sign); fams.append(row_family[r]); targets.append(row_names[r])
                cost.append(1.0 / max(1.0, abs(bound)))
    ns = len(rr)
    S = sp.csr_matrix((vv, (rr, np.arange(ns))), shape=(m + nb, ns))
    A = sp.hstack([sp.vstack([arrays.A, B]), S], format="csr")
    col_lo = np.concatenate([arrays.col_lo, np.zeros(ns)])
    col_hi = np.concatenate([arrays.col_hi, np.full(ns, INF)])
    col_lo[lb] = 0.0
    col_hi[ub] = INF
    out = replace(arrays, c=np.concatenate([np.zeros(n), np.asarray(cost, float)]), A=A, row_lo=row_lo, row_hi=row_hi,
                  row_names=row_names, row_family=row_family, col_lo=col_lo, col_hi=col_hi,
                  integer=np.concatenate([arrays.integer, np.zeros(ns, bool)]),
                  col_names=list(arrays.col_names) + [f"elastic_{i}" for i in range(ns)],
                  col_family=np.concatenate([arrays.col_family, np.full(ns, "elastic", object)]),
                  offset=0.0, n_elastic=ns)
    return out, np.array(fams, dtype=object), np.array(targets, dtype=object)


# ----------------------------------------------------------------------------- exports

def to_linprog(arrays: ModelArrays) -> dict:
    """``c, A_ub, b_ub, A_eq, b_eq, bounds, integrality`` for ``scipy.optimize.linprog``/``milp``."""
    A = arrays.A.tocsr()
    eq = np.isfinite(arrays.row_lo) & np.isfinite(arrays.row_hi) & (arrays.row_lo == arrays.row_hi)
    le = np.isfinite(arrays.row_hi) & ~eq
    ge = np.isfinite(arrays.row_lo) & ~eq
    A_ub = sp.vstack([A[le], -A[ge]], format="csr")
    b_ub = np.concatenate([arrays.row_hi[le], -arrays.row_lo[ge]])
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
              for lo, hi in zip(arrays.col_lo, arrays.col_hi)]
    return {"c": arrays.c.copy(), "A_ub": A_ub, "b_ub": b_ub, "A_eq": A[eq] if eq.any() else None,
            "b_eq": arrays.row_lo[eq] if eq.any() else None, "bounds": bounds,
            "integrality": arrays.integer.astype(int), "offset": arrays.offset}


def to_pulp(arrays: ModelArrays, name: str = "grassroots_allocation"):
    """The named PuLP model of ``arrays``: ``(problem, variables, constraints)`` in array order.

    Built without operator arithmetic: variables through ``LpProblem.add_variable``, each
    row one ``LpAffineExpression`` from its CSR slice, rows added with ``LpProblem.extend``.
    """
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMinimize)
    cat_int, cat_cont = pulp.LpInteger, pulp.LpContinuous
    lo = [None if not np.isfinite(v) else float(v) for v in arrays.col_lo]
    hi = [None if not np.isfinite(v) else float(v) for v in arrays.col_hi]
    cats = [cat_int if b else cat_cont for b in arrays.integer]
    add = prob.add_variable
    xs = [add(nm, a, b, cat=ct) for nm, a, b, ct in zip(arrays.col_names, lo, hi, cats)]
    nz = np.flatnonzero(arrays.c)
    prob.setObjective(pulp.LpAffineExpression(zip([xs[j] for j in nz], arrays.c[nz].tolist()), constant=float(arrays.offset)))
    A = arrays.A
    indptr, ind, val = A.indptr, A.indices.tolist(), A.data.tolist()
    LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ
    Expr, Con = pulp.LpAffineExpression, pulp.LpConstraint
    cons = []
    rlo, rhi = arrays.row_lo.tolist(), arrays.row_hi.tolist()
    for r, nm in enumerate(arrays.row_names):
        a, b = indptr[r], indptr[r + 1]
        e = Expr(zip([xs[j] for j in ind[a:b]], val[a:b]))
        l, h = rlo[r], rhi[r]
        if l == h:
            con = Con(e, EQ, nm, l)
        elif math.isinf(l):
            con = Con(e, LE, nm, h)
        elif math.isinf(h):
            con = Con(e, GE, nm, l)
        else:  # pragma: no cover - the builder makes no ranged rows
            raise ValueError(f"ranged row {nm} is not supported")
        cons.append(con)
    prob.extend({con.name: con for con in cons})
    return prob, xs, cons


MONEY_FAMILIES = ("spending", "budget", "payer_budget")

__all__ = ["MONEY_FAMILIES", "MONEY_UNIT", "ModelArrays", "build_arrays", "weighted_shortfall_objective", "elastic", "to_pulp", "to_linprog", "OBJECTIVES", "FAMILY_UNITS", "DEFINITIONAL"]
