"""The allocator: settings in ``__init__``, work in ``solve(inputs)``, results in an :class:`AllocationResult`.

::

    import scenarios, optimizer
    sc = scenarios.load("policy-2016")
    inputs = optimizer.from_scenario(sc, provinces=["62"])
    res = optimizer.Allocator.from_scenario(sc).solve(inputs)
    res.allocation                  # county_id, province, field, lever, quantity, cost_yuan
    res.solution["shadow_prices"]["budget"]     # objective change per extra yuan
    optimizer.size_budget(inputs, target=0.85)  # smallest fund reaching the target
    optimizer.frontier(inputs, budgets=np.linspace(0, 2e10, 20))

Objectives
----------
``shortfall``  minimise the priority-weighted shortfall ``sum_k w_k u_k`` (persons), plus
               ``spend_penalty`` yuan-weight on spending so money that closes no gap is left.
``equity``     first minimise the largest shortfall ratio ``z = max_k u_k / demand_k`` (LP),
               then the weighted shortfall with every ratio held at ``z``; for an integer
               model the second stage is mixed-integer with the cap kept as a priced soft
               constraint, so it stays feasible and fast.
``cost``       minimise the money needed so every county (or ``target_share`` of counties)
               reaches ``coverage_target`` in every field; the budget is the answer.

Marginal values
---------------
``shadow_prices["budget"]`` is the change of the objective per extra yuan of the fund, the
per-payer limits moving with it (LP: from the duals; integer: by re-solving at
``budget x (1 +/- marginal_step)``).  Caps, supply and quotas get LP duals (for integer
models those of the LP relaxation, flagged as such).  Units: objective units per unit of
the constraint's right-hand side (see :data:`optimizer.model.FAMILY_UNITS`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import InfeasibleError, OptimizerInputError
from .inputs import PAYERS, AllocationInputs, lever_unit
from .model import FAMILY_UNITS, MONEY_FAMILIES, MONEY_UNIT, OBJECTIVES, ModelArrays, build_arrays, weighted_shortfall_objective
from .solve import SOLVERS, RawSolution, Session, check
from .tables import (ALLOCATION_COLUMNS, ALLOCATION_YEAR_COLUMNS, allocation_table, clean_levers, outcomes_table,
                     summary_by_province_lever, totals)

#: families whose duals are reported (besides budget and payer budgets)
DUAL_FAMILIES = ("senior_cap", "intermediate_cap", "directed_total", "supply", "programme_quota",
                 "special_post_quota", "county_bound", "coverage_target")


@dataclass
class AllocationResult:
    """Outcome of :meth:`Allocator.solve`.

    ``allocation``: one row per county x field x lever used (``ALLOCATION_COLUMNS``);
    ``solution``: the ``solution.json`` content; ``summary_by_province_lever``; ``outcomes``:
    one row per county x field (demand, staff before/after, shortfall, coverage);
    ``shadow_prices``: one row per reported constraint with a non-zero dual;
    ``x``: the raw solution vector; ``arrays``: the model solved last.
    """

    allocation: pd.DataFrame
    solution: dict
    summary_by_province_lever: pd.DataFrame
    outcomes: pd.DataFrame
    shadow_prices: pd.DataFrame
    x: np.ndarray
    arrays: ModelArrays
    inputs: AllocationInputs
    session: Session | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.solution["status"]

    @property
    def objective(self) -> float:
        return self.solution["objective"]


def _validate_settings(objective, solver, coverage_target, target_share, time_limit, mip_gap, marginal_step) -> list[str]:
    p = []
    if objective not in OBJECTIVES:
        p.append(f"objective: {objective!r} (allowed: {', '.join(OBJECTIVES)})")
    if solver not in SOLVERS:
        p.append(f"solver: {solver!r} (allowed: {', '.join(SOLVERS)})")
    if not (isinstance(coverage_target, (int, float)) and 0 <= coverage_target <= 1):
        p.append(f"coverage_target: {coverage_target!r} (allowed: a number from 0 to 1, staff/demand)")
    if not (isinstance(target_share, (int, float)) and 0 <= target_share <= 1):
        p.append(f"target_share: {target_share!r} (allowed: a number from 0 to 1, share of counties)")
    if time_limit is not None and not (time_limit > 0):
        p.append(f"time_limit: {time_limit!r} (allowed: seconds > 0)")
    if not (0 <= mip_gap < 1):
        p.append(f"mip_gap: {mip_gap!r} (allowed: a relative gap from 0 to below 1)")
    if not (0 < marginal_step < 1):
        p.append(f"marginal_step: {marginal_step!r} (allowed: a share of the budget between 0 and 1)")
    return p


class Allocator:
    """Allocate special posts, programme places, promotions and subsidy money across counties.

    Parameters
    ----------
    objective: ``shortfall`` | ``equity`` | ``cost``.
    integer: whole posts and places (mixed-integer model).
    solver: ``highs`` (default) | ``cbc``.
    coverage_target, target_share: the cost objective's target (staff/demand) and the share of
        counties that must reach it in every field.
    time_limit, mip_gap: solver limits; an integer solution is accepted only within ``mip_gap``.
    marginals: compute shadow prices (integer models: extra re-solves).
    marginal_step: relative budget step of the integer re-solves (5%: a step well above the
        MIP gap, so the two re-solves differ by more than solver tolerance).
    spend_penalty: objective weight per yuan spent in the shortfall objectives (default 1e-9
        weighted persons per yuan: far below any lever's value, so it only stops useless spending).
    lp_path: write the model there in LP format before solving.
    highs_options: HiGHS options (default :data:`optimizer.solve.HIGHS_OPTIONS`).
    """

    def __init__(self, objective: str = "shortfall", *, integer: bool = False, solver: str = "highs",
                 coverage_target: float = 0.85, target_share: float = 1.0, time_limit: float | None = 60.0,
                 mip_gap: float = 0.005, marginals: bool = True, marginal_step: float = 0.05,
                 spend_penalty: float = 1e-9, lp_path: str | None = None, msg: bool = False,
                 threads: int | None = None, highs_options: dict | None = None):
        self.objective = objective
        self.integer = integer
        self.solver = solver
        self.coverage_target = coverage_target
        self.target_share = target_share
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.marginals = marginals
        self.marginal_step = marginal_step
        self.spend_penalty = spend_penalty
        self.lp_path = lp_path
        self.msg = msg
        self.threads = threads
        self.highs_options = highs_options
        problems = _validate_settings(objective, solver, coverage_target, target_share, time_limit, mip_gap, marginal_step)
        if problems:
            raise OptimizerInputError(problems)

    @classmethod
    def from_scenario(cls, sc, **overrides) -> "Allocator":
        """Settings from the scenario's ``[optimizer]`` table; keyword arguments override them."""
        o = sc.optimizer
        kw = dict(objective=o.objective, integer=o.integer, solver=o.solver, coverage_target=o.coverage_target,
                  target_share=o.target_share_of_counties, time_limit=o.time_limit_seconds, mip_gap=o.mip_gap)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("objective", "integer", "solver", "coverage_target", "target_share",
                                               "time_limit", "mip_gap", "marginals", "marginal_step", "spend_penalty")}

    # ------------------------------------------------------------------ solve
    def _session(self, arrays: ModelArrays) -> Session:
        return Session(arrays, self.solver, time_limit=self.time_limit, mip_gap=self.mip_gap, msg=self.msg,
                       threads=self.threads, highs_options=self.highs_options)

    def build(self, inputs: AllocationInputs) -> tuple[ModelArrays, float]:
        """The model arrays for ``inputs`` and the seconds it took to build them."""
        t = time.perf_counter()
        soft = _equity_soft_penalty(inputs) if self.objective == "equity" and self.integer else None
        arrays = build_arrays(inputs, self.objective, integer=self.integer, coverage_target=self.coverage_target,
                              target_share=self.target_share, spend_penalty=self.spend_penalty, equity_soft_penalty=soft)
        return arrays, time.perf_counter() - t

    def solve(self, inputs: AllocationInputs) -> AllocationResult:
        inputs.validate()
        arrays, t_arrays = self.build(inputs)
        sess = self._session(arrays)
        if self.lp_path:
            sess.write_lp(self.lp_path)
        info: dict[str, Any] = {}
        stage1 = None
        try:
            if self.objective == "equity":
                raw, stage1 = self._solve_equity(sess, inputs, info)
            else:
                raw = check(sess.run(), sess, self.objective)
        except InfeasibleError as err:
            if inputs.payer_budget_fixed and inputs.payer_budget_yuan is not None:
                self._diagnose_payers(inputs, err)
            raise
        shadow_df, shadow = (self._shadow_prices(sess, raw, inputs, stage1) if self.marginals
                             else (pd.DataFrame(columns=_SHADOW_COLUMNS), {"budget": None}))
        return _result(inputs, sess, raw, self, t_arrays, shadow_df, shadow, info)

    def _solve_equity(self, sess: Session, inputs: AllocationInputs, info: dict) -> tuple[RawSolution, RawSolution]:
        """Stage 1: the smallest largest shortfall ratio z* (LP).  Stage 2: least weighted shortfall at z*.

        Integer models keep z* from the LP and allow each pair the effect of one unit of its
        largest integer lever above it (whole posts cannot hit a fractional ratio exactly); if
        that is still infeasible, the cap becomes a soft constraint priced far above any
        shortfall, so the integer stage stays feasible and fast.
        """
        a = sess.arrays
        c1 = np.zeros(len(a.c))
        c1[a.z_col] = a.z_scale
        nv = int((a.col_family == "equity_slack").sum())
        vcols = np.arange(a.v_start, a.v_start + nv)
        if nv:
            sess.set_col_bounds(vcols, hi=0.0)
        sess.set_objective(c1, 0.0)
        sess.set_relaxed(True)
        raw1 = check(sess.run(), sess, "equity, stage 1")
        z = float(raw1.x[a.z_col])
        info["max_shortfall_ratio_lp"] = z
        c2, offset = weighted_shortfall_objective(a, inputs.weight, self.spend_penalty)
        sess.set_col_bounds([a.z_col], lo=0.0, hi=z * (1 + 1e-7) + 1e-9)
        sess.set_objective(c2, offset)
        if not (self.integer and a.is_mip):
            return check(sess.run(), sess, "equity, stage 2"), raw1
        eq_rows = np.flatnonzero(a.row_family == "equity")
        dpos = np.flatnonzero((inputs.demand > 0) & (np.asarray(inputs.weight, float) > 0))   # the equity rows' pairs
        E = inputs.effect.tocsr()[dpos][:, inputs.col_integer]
        allowance = np.asarray(E.max(axis=1).todense()).ravel() if E.shape[1] else np.zeros(len(dpos))
        base_hi = a.row_hi[eq_rows].copy()
        sess.set_row_bounds(eq_rows, hi=base_hi + allowance)
        sess.set_relaxed(False)
        raw2 = sess.run()
        if raw2.kind in ("optimal", "feasible") and raw2.x is not None:
            info["equity_integer_cap"] = "hard: z* plus one unit of the largest integer lever per pair"
            return check(raw2, sess, "equity, stage 2"), raw1
        sess.set_row_bounds(eq_rows, hi=base_hi)
        if nv:
            c2[vcols] = _equity_soft_penalty(inputs)
            sess.set_col_bounds(vcols, hi=math.inf)
            sess.set_objective(c2, offset)
        info["equity_integer_cap"] = "soft: priced at 1000 x the largest weight per person above z*"
        return check(sess.run(), sess, "equity, stage 2"), raw1

    def _diagnose_payers(self, inputs: AllocationInputs, err: InfeasibleError) -> None:
        """Name the payers whose explicit limits make the instance infeasible (raises), else return.

        Solves the instance without payer limits; if that is feasible, then for each limited payer
        the least it must spend (yuan/year; mean over the budget years) with the other payers
        unlimited: every payer whose least spending exceeds its limit is named.
        """
        free = replace(inputs, payer_budget_yuan=np.full(3, math.inf), payer_budget_by_year=None)
        arrays, _ = self.build(free)
        sess = self._session(arrays)
        first = sess.run()
        if first.kind not in ("optimal", "feasible"):
            return
        C = (np.asarray(inputs.col_cost, float) if inputs.col_cost_by_year is None
             else np.asarray(inputs.col_cost_by_year, float).mean(axis=1))
        limits = np.asarray(inputs.payer_budget_yuan, float)
        rows, need = [], {}
        for q, p in enumerate(PAYERS):
            if not np.isfinite(limits[q]):
                continue
            c = np.zeros(len(arrays.c))
            c[:arrays.n_lever] = C * inputs.col_payer[:, q] / MONEY_UNIT
            sess.set_objective(c, 0.0)
            r = sess.run()
            if r.kind not in ("optimal", "feasible") or r.x is None:
                continue
            least = float(c @ r.x) * MONEY_UNIT
            need[p] = least
            if least > limits[q] * (1 + 1e-6) + 1e-6:
                rows.append(f"payer_budget_{p}: needs at least {least:,.0f} yuan/year (limit {limits[q]:,.0f})")
        if rows:
            fam = {"payer_budget": {"rows": len(rows), "slack": sum(need[r.split(':')[0][13:]] - limits[PAYERS.index(r.split(':')[0][13:])]
                                                                      for r in rows),
                                    "unit": "yuan/year", "examples": rows}}
            raise InfeasibleError(fam, objective=self.objective) from err

    # ------------------------------------------------------------------ marginal values
    def _budget_rows(self, a: ModelArrays, inputs: AllocationInputs, budget: float):
        """Rows and new upper bounds when the fund becomes ``budget`` (see :func:`fund_rows`)."""
        rows, w = fund_rows(a, inputs)
        return rows, w * float(budget) / MONEY_UNIT

    def _shadow_prices(self, sess: Session, raw: RawSolution, inputs: AllocationInputs, stage1: RawSolution | None = None):
        a = sess.arrays
        out: dict[str, Any] = {}
        duals, method = raw.row_dual, "lp_dual"
        if sess.mip:
            method = "lp_relaxation"
            if a.budget_row >= 0 and a.objective not in ("equity", "cost"):
                rows, _ = self._budget_rows(a, inputs, 0.0)
                his = a.row_hi[rows].copy()
                out["budget"], out["budget_method"] = self._budget_by_resolve(sess, raw, inputs), "re-solve"
                sess.set_row_bounds(rows, hi=his)  # restore
            sess.set_relaxed(True)
            try:
                lp = check(sess.run(), sess, "LP relaxation for shadow prices")
                duals = lp.row_dual
            finally:
                sess.set_relaxed(False)
        if duals is None:
            duals = np.zeros(a.A.shape[0])
        frows, fw = fund_rows(a, inputs)
        if stage1 is not None and len(frows):
            d1 = stage1.row_dual
            if d1 is not None:
                d = float(d1[frows] @ fw)
                out["budget"], out["budget_method"] = d / MONEY_UNIT / a.z_scale + 0.0, "lp_dual of stage 1"
                out["budget_unit"] = "change of the largest shortfall ratio per extra yuan"
        if len(frows) and "budget" not in out:
            d = float(duals[frows] @ fw) / MONEY_UNIT
            # the objective also carries spend_penalty per yuan: when the fund binds, each extra yuan is spent,
            # so the weighted shortfall falls by the dual's size less that penalty
            out["budget"], out["budget_method"] = (d - self.spend_penalty * a.n_years if d < 0 else 0.0) + 0.0, method
        if a.budget_row >= 0 and a.objective != "cost":
            out["budget_row"] = float(duals[a.budget_row]) / MONEY_UNIT
            if a.n_years > 1:
                out["budget_by_year"] = [float(duals[r]) / MONEY_UNIT + 0.0 for r in a.budget_rows]
        if len(a.payer_rows):
            out.update(_payer_prices(a, duals, inputs))
        if a.budget_row < 0 or a.objective == "cost":
            out["budget"] = None
            out["budget_note"] = "the cost objective's value is the budget"
        if a.objective == "cost":
            cov = a.row_family == "coverage_target"
            if cov.any() and a.y_start < 0:
                dpos = np.flatnonzero((inputs.demand > 0) & (a.target > 0))
                # rhs_k = (1 - target) demand_k  =>  d cost / d target = -sum_k dual_k demand_k
                out["coverage_target"] = float(-(duals[cov] @ inputs.demand[dpos])) * MONEY_UNIT
                out["coverage_target_unit"] = "yuan/year per unit of coverage target (x0.01 per percentage point)"
        out["method"] = method
        out["unit"] = "objective change per unit increase of the constraint's right-hand side"
        df = _shadow_table(a, duals, inputs, raw.x)
        fam: dict[str, Any] = {}
        for f in DUAL_FAMILIES:
            m = a.row_family == f
            if not m.any():
                continue
            d = duals[m]
            nzm = np.abs(d) > 1e-12
            fam[f] = {"rows": int(m.sum()), "nonzero": int(nzm.sum()), "unit": FAMILY_UNITS.get(f, ""),
                      "min": float(d.min()), "max": float(d.max()), "mean_nonzero": float(d[nzm].mean()) if nzm.any() else 0.0}
        out["families"] = fam
        top = df.reindex(df["dual"].abs().sort_values(ascending=False).index).head(10)
        out["largest"] = [{"row": r.row, "family": r.family, "dual": float(r.dual)} for r in top.itertuples()]
        return df, out

    def _budget_by_resolve(self, sess: Session, raw: RawSolution, inputs: AllocationInputs) -> float | None:
        a = sess.arrays
        frows, fw = fund_rows(a, inputs)
        B = float(a.row_hi[frows[0]] / fw[0]) * MONEY_UNIT
        step = self.marginal_step * B if B > 0 else 1.0
        vals = []
        for b in ((B - step, B + step) if B - step >= 0 else (B, B + step)):
            if b == B:
                vals.append((b, raw.objective))
                continue
            rows, his = self._budget_rows(a, inputs, b)
            sess.set_row_bounds(rows, hi=his)
            r = check(sess.run(), sess, f"marginal value at budget {b:,.0f}")
            vals.append((b, r.objective))
        (b0, o0), (b1, o1) = vals
        return float((o1 - o0) / (b1 - b0))


def fund_rows(a: ModelArrays, inputs: AllocationInputs) -> tuple[np.ndarray, np.ndarray]:
    """Rows that move with the fund, and by how many yuan each bound moves per yuan of the (mean yearly) fund.

    Budget rows move with the shape of the budget path (1 each without a path); derived payer
    limits move with their share; explicit payer limits and the cost objective's rows do not move.
    """
    if a.objective == "cost" or not len(a.budget_rows):
        return np.zeros(0, np.int64), np.zeros(0)
    Y = a.n_years
    path = np.ones(Y) if inputs.budget_by_year is None else np.asarray(inputs.budget_by_year, float)
    rel = path / path.mean() if path.mean() > 0 else np.ones(Y)
    rows, w = list(a.budget_rows), list(rel)
    if len(a.payer_rows) and inputs.payer_budget_share is not None and not inputs.payer_budget_fixed:
        for r, q, y in zip(a.payer_rows, a.payer_row_payer, a.payer_row_year):
            rows.append(int(r)); w.append(float(inputs.payer_budget_share[q] * rel[y]))
    return np.array(rows, dtype=np.int64), np.array(w, dtype=float)


def _payer_prices(a: ModelArrays, duals: np.ndarray, inputs: AllocationInputs) -> dict:
    """Shadow prices of the payer limits: per payer (and year), and what one more million buys."""
    per: dict[str, Any] = {}
    million: dict[str, float] = {}
    for q, p in enumerate(PAYERS):
        m = a.payer_row_payer == q
        if not m.any():
            continue
        # shortfall: persons per 10^4 yuan -> per yuan; cost: yuan per yuan (both sides in 10^4 yuan)
        d = duals[a.payer_rows[m]] / (1.0 if a.objective == "cost" else MONEY_UNIT) + 0.0
        per[p] = float(d[0]) if a.n_years == 1 else [float(v) for v in d]
        million[p] = float(-d.sum() * 1e6) + 0.0
    unit = "persons" if a.objective == "shortfall" else ("yuan/year" if a.objective == "cost" else "objective units")
    lines = [f"one more million yuan a year from the {p} budget {'saves' if a.objective == 'cost' else 'removes'} "
             f"{v:,.4g} {'yuan/year of the fund' if a.objective == 'cost' else 'weighted persons of shortfall'}"
             for p, v in million.items()]
    return {"payer_budget": per, "payer_budget_per_million": million, "payer_budget_per_million_unit": unit,
            "payer_budget_note": lines}


def _equity_soft_penalty(inputs: AllocationInputs) -> float:
    """Price per person above the equity cap when it is soft: far above any weighted shortfall."""
    return 1000.0 * float(max(1.0, inputs.weight.max(initial=1.0)))


_SHADOW_COLUMNS = ["row", "family", "county_id", "province", "field", "rhs", "activity", "dual"]


def _shadow_table(a: ModelArrays, duals: np.ndarray, inputs: AllocationInputs, x: np.ndarray) -> pd.DataFrame:
    keep = np.isin(a.row_family, ("budget", "payer_budget") + DUAL_FAMILIES) & (np.abs(duals) > 1e-12)
    idx = np.flatnonzero(keep)
    g = inputs.groups
    gr = idx - a.group_row_start
    in_g = (gr >= 0) & (gr < len(g))
    lab = lambda arr: np.where(in_g, np.asarray(arr, dtype=object)[np.clip(gr, 0, max(0, len(g) - 1))] if len(g) else "", "")  # noqa: E731
    rhs = np.where(np.isfinite(a.row_hi[idx]), a.row_hi[idx], a.row_lo[idx])
    act = (a.A[idx] @ x) if len(idx) else np.zeros(0)
    df = pd.DataFrame({"row": np.asarray(a.row_names, dtype=object)[idx], "family": a.row_family[idx],
                       "county_id": lab(g.label_county), "province": lab(g.label_province), "field": lab(g.label_field),
                       "rhs": rhs, "activity": act, "dual": duals[idx]})
    money = df["family"].isin(MONEY_FAMILIES).to_numpy()
    df.loc[money, ["rhs", "activity"]] *= MONEY_UNIT
    df.loc[money, "dual"] /= MONEY_UNIT
    cov = df["family"] == "coverage_target"
    if cov.any():
        parts = df.loc[cov, "row"].str.extract(r"^coverage_(.+)_([a-z]+?)(?:_y\d+)?$")
        df.loc[cov, "county_id"] = parts[0]
        df.loc[cov, "field"] = parts[1]
    return df[_SHADOW_COLUMNS]


def _result(inputs, sess: Session, raw: RawSolution, alloc: Allocator, t_arrays: float, shadow_df, shadow, info) -> AllocationResult:
    a = sess.arrays
    x = raw.x
    M = a.n_lever
    allocation, gain = allocation_table(inputs, x[:M])
    outcomes = outcomes_table(inputs, gain)
    tot = totals(inputs, outcomes, alloc.coverage_target)
    xl = clean_levers(inputs, x[:M])
    if inputs.col_cost_by_year is None:
        used_y = np.array([float(inputs.col_cost @ xl) if M else 0.0])
        payer_y = ((inputs.col_cost * xl) @ inputs.col_payer if M else np.zeros(3))[None, :]
    else:
        cy = np.asarray(inputs.col_cost_by_year, float)
        used_y = xl @ cy
        payer_y = (cy * xl[:, None]).T @ inputs.col_payer           # [Y, 3]
    used = float(used_y.mean())
    by_payer = payer_y.mean(axis=0)
    if alloc.objective == "shortfall":
        # over every counted pair (the weights are 0 outside --field and, with objective_year "last", before the target year)
        obj_name, obj = "weighted_shortfall", float(outcomes["weight"] @ outcomes["shortfall_after"])
    elif alloc.objective == "equity":
        obj_name, obj = "weighted_shortfall_at_min_max_ratio", tot["weighted_shortfall_after"]
    elif a.fund_col >= 0:
        obj_name, obj = "fund_per_year_yuan", float(x[a.fund_col]) * MONEY_UNIT
    else:
        obj_name, obj = "cost_yuan", used
    levers = {lv: lever_unit(lv) for lv in sorted(set(inputs.col_lever))}
    solution = {
        "status": "optimal" if raw.kind == "optimal" else f"feasible within the stated gap ({raw.mip_gap:.4%})",
        "objective": float(obj),
        "objective_name": obj_name,
        "objective_solver": raw.objective,
        "objective_solver_note": "the solver's objective: includes spend_penalty; money in 10,000 yuan",
        "objective_sense": "minimize",
        "budget_yuan": float(obj if alloc.objective == "cost" else inputs.budget_yuan),
        "budget_used_yuan": used,
        "budget_used_by_payer_yuan": dict(zip(PAYERS, map(float, by_payer))),
        "budget_path_yuan": None if inputs.budget_by_year is None else [float(v) for v in inputs.budget_by_year],
        "budget_used_by_year_yuan": [float(v) for v in used_y] if len(used_y) > 1 else None,
        "budget_used_by_payer_by_year_yuan": ({p: [float(v) for v in payer_y[:, q]] for q, p in enumerate(PAYERS)}
                                              if len(used_y) > 1 else None),
        "fund_per_year_yuan": float(x[a.fund_col]) * MONEY_UNIT if a.fund_col >= 0 else None,
        "payer_budget_yuan": None if inputs.payer_budget_yuan is None or (alloc.objective == "cost" and not inputs.payer_budget_fixed)
        else dict(zip(PAYERS, map(float, inputs.payer_budget_yuan))),
        "payer_budget_explicit": bool(inputs.payer_budget_fixed),
        "solver": alloc.solver,
        "integer": bool(alloc.integer),
        "mip_gap": raw.mip_gap,
        "stated_mip_gap": alloc.mip_gap if alloc.integer else None,
        "solve_seconds": round(sess.solve_seconds, 4),
        "build_seconds": round(t_arrays + sess.build_seconds, 4),
        "solves": sess.n_solves,
        "variables": int(a.A.shape[1]), "constraints": int(a.A.shape[0]),
        "integer_variables": int(a.integer.sum()) if alloc.integer else 0,
        "shadow_prices": shadow,
        "totals": tot,
        "settings": alloc.get_params(),
        "levers": levers,
        "inputs": dict(inputs.notes),
    }
    solution.update(info)
    if alloc.objective == "cost":
        solution["coverage_target"] = alloc.coverage_target
        solution["target_share_of_counties"] = alloc.target_share
    return AllocationResult(allocation[ALLOCATION_YEAR_COLUMNS + ["staff_gain"]], solution,
                            summary_by_province_lever(allocation), outcomes, shadow_df, x, a, inputs, sess)


# ----------------------------------------------------------------------------- budget questions

def size_budget(inputs: AllocationInputs, target: float, share: float = 1.0, **settings) -> AllocationResult:
    """The smallest yearly fund that brings ``share`` of counties to ``target`` coverage in every field.

    A deterministic answer from the optimizer (cost objective); ``settings`` go to :class:`Allocator`.
    """
    settings = {k: v for k, v in settings.items() if k not in ("objective", "coverage_target", "target_share")}
    return Allocator("cost", coverage_target=target, target_share=share, **settings).solve(inputs)


FRONTIER_COLUMNS = ["budget_yuan", "status", "objective", "weighted_shortfall", "shortfall", "coverage",
                    "staff_gain", "budget_used_yuan", "marginal_value_per_yuan", "marginal_method", "solve_seconds"]


def frontier(inputs: AllocationInputs, budgets: Sequence[float], *, integer: bool = False, solver: str = "highs",
             time_limit: float | None = 60.0, mip_gap: float = 0.005, spend_penalty: float = 1e-9,
             highs_options: dict | None = None, progress=None) -> tuple[pd.DataFrame, dict]:
    """Weighted shortfall, shortfall, coverage and marginal value per yuan over a budget sweep.

    One model is built; each point only changes the budget rows and re-solves (HiGHS keeps its
    basis between points: a warm start).  ``marginal_value_per_yuan`` is the weighted shortfall
    removed by one more yuan: from the LP dual, or for integer models the slope to the
    neighbouring points.  Returns ``(table, timings)``.
    """
    budgets = [float(b) for b in budgets]
    bad = [b for b in budgets if not (math.isfinite(b) and b >= 0)]
    if bad or not budgets:
        raise OptimizerInputError([f"budgets: {bad[0] if bad else 'empty'} (allowed: numbers >= 0, yuan per year)"])
    alloc = Allocator("shortfall", integer=integer, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                      spend_penalty=spend_penalty, highs_options=highs_options)
    t0 = time.perf_counter()
    arrays, t_arrays = alloc.build(inputs.with_budget(budgets[0]))
    sess = alloc._session(arrays)
    rows = []
    for i, b in enumerate(budgets):
        rws, his = alloc._budget_rows(sess.arrays, inputs, b)
        sess.set_row_bounds(rws, hi=his)
        t = time.perf_counter()
        raw = check(sess.run(), sess, f"frontier point {b:,.0f} yuan")
        _, gain = allocation_table(inputs, raw.x[:arrays.n_lever])
        out = outcomes_table(inputs, gain)
        D = out["demand"].sum()
        mv, how = None, "lp_dual"
        if not sess.mip and raw.row_dual is not None:
            frows, fw = fund_rows(arrays, inputs)
            d = float(raw.row_dual[frows] @ fw) / MONEY_UNIT
            mv = float(-d + spend_penalty * arrays.n_years) if d < 0 else 0.0
        rows.append({"budget_yuan": b, "status": raw.kind, "objective": raw.objective,
                     "weighted_shortfall": float(out["weight"] @ out["shortfall_after"]),
                     "shortfall": float(out["shortfall_after"].sum()),
                     "coverage": float(out["staff_after"].sum() / D) if D > 0 else None,
                     "staff_gain": float(gain.sum()), "budget_used_yuan": float(inputs.col_cost @ clean_levers(inputs, raw.x[:arrays.n_lever])),
                     "marginal_value_per_yuan": mv, "marginal_method": how, "solve_seconds": time.perf_counter() - t})
        if progress is not None:
            progress(i + 1, len(budgets), rows[-1])
    df = pd.DataFrame(rows, columns=FRONTIER_COLUMNS)
    if integer or df["marginal_value_per_yuan"].isna().any():
        # slopes between neighbouring points (central where possible)
        b = df["budget_yuan"].to_numpy()
        o = df["objective"].to_numpy(float)
        if len(b) >= 2:
            slope = -np.gradient(o, b)
            df["marginal_value_per_yuan"] = slope
            df["marginal_method"] = "finite_difference"
    timings = {"build_seconds": t_arrays + sess.build_seconds, "solve_seconds": sess.solve_seconds,
               "total_seconds": time.perf_counter() - t0, "points": len(budgets), "solver": solver, "integer": integer}
    return df, timings


def parse_budgets(spec: str) -> list[float]:
    """``"MIN:MAX:N"`` -> N evenly spaced budgets; raises OptimizerInputError naming --budgets."""
    parts = str(spec).split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise OptimizerInputError([f"--budgets: {spec!r} (allowed: MIN:MAX:N, e.g. 0:2e10:20)"]) from None
    problems = []
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi < lo:
        problems.append(f"--budgets: {spec!r} (allowed: 0 <= MIN <= MAX, yuan per year)")
    if n < 2 or n > 1000:
        problems.append(f"--budgets: N = {n} (allowed: 2 to 1000 points)")
    if problems:
        raise OptimizerInputError(problems)
    return np.linspace(lo, hi, n).tolist()


__all__ = ["Allocator", "AllocationResult", "size_budget", "frontier", "parse_budgets", "allocation_table", "ALLOCATION_YEAR_COLUMNS",
           "outcomes_table", "summary_by_province_lever", "ALLOCATION_COLUMNS", "FRONTIER_COLUMNS"]
