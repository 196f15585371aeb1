"""Solving the allocation model: solver back ends, status checks, infeasibility diagnosis.

A :class:`Session` holds one built model (its :class:`~optimizer.model.ModelArrays`
and the named PuLP problem built from them) on one solver, and can change
bounds, the objective or integrality and solve again:

* ``highs`` -- HiGHS through PuLP (``pulp.HiGHS`` with ``highspy``).  The PuLP
  problem is handed to HiGHS in one ``passModel`` call from the arrays it was
  built from (:class:`ArrayHiGHS`, a ``pulp.HiGHS`` subclass), instead of one
  ``addCol``/``addRow`` call per variable and row; results are written back
  to the PuLP variables and constraints (``varValue``, ``pi``, ``slack``).
  Re-solves reuse the HiGHS instance, so they start from the previous basis
  (warm start: the budget frontier, marginal values by re-solving).
* ``cbc`` -- CBC through PuLP's ``COIN_CMD`` (the ``cbc`` on ``PATH`` if any, else
  the binary bundled with PuLP); every solve writes and reads files, no warm start.

:func:`check` turns a solver outcome into a result or a typed error.  It looks
at the *solution* status, not only the problem status (PuLP reports "Optimal"
when HiGHS stops at its time limit with a feasible point), accepts a
mixed-integer solution that stopped early only within the stated gap, and on an
infeasible or "unbounded or infeasible" outcome solves the elastic relaxation
(:func:`optimizer.model.elastic`) to name the constraint families that need
slack -- or, when none does, to report the columns that make it unbounded.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
import pulp

from .errors import InfeasibleError, OptimizerInputError, SolverError, UnboundedError
from .model import FAMILY_UNITS, MONEY_FAMILIES, MONEY_UNIT, ModelArrays, elastic, to_pulp

SOLVERS = ("highs", "cbc")
#: HiGHS options used unless overridden.  The model is scaled by construction (money in
#: 10,000 yuan, the equity ratio priced per person of demand), and HiGHS's own simplex
#: scaling on top of it multiplies the iterations on the national instance by 1.6 and the
#: time by up to 6 (``benchmarks/optimizer.py``), so it is off.
HIGHS_OPTIONS = {"simplex_scale_strategy": 0}


@dataclass
class RawSolution:
    """What a solver returned, as arrays in model order."""

    kind: str                 # optimal | feasible | infeasible | unbounded | infeasible_or_unbounded | error
    x: np.ndarray | None
    row_dual: np.ndarray | None
    objective: float | None
    mip_gap: float | None
    seconds: float
    pulp_status: str
    sol_status: int
    detail: str = ""


# ----------------------------------------------------------------------------- HiGHS

_BANNER_DONE = False


def _new_highs():
    """A ``highspy.Highs`` with output off; the one-time start-up banner is swallowed."""
    import highspy
    global _BANNER_DONE
    if _BANNER_DONE:
        h = highspy.Highs()
    else:
        try:
            fd = os.dup(1)
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                try:
                    h = highspy.Highs()
                finally:
                    os.dup2(fd, 1)
                    os.close(fd)
        except OSError:  # pragma: no cover - no usable file descriptor 1
            h = highspy.Highs()
        _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    return h


def _highs_kind(status) -> str:
    import highspy
    S = highspy.HighsModelStatus
    return {
        S.kOptimal: "optimal", S.kInfeasible: "infeasible", S.kUnbounded: "unbounded",
        S.kUnboundedOrInfeasible: "infeasible_or_unbounded", S.kTimeLimit: "feasible", S.kIterationLimit: "feasible",
        S.kInterrupt: "feasible", S.kObjectiveBound: "feasible", S.kObjectiveTarget: "feasible",
    }.get(status, "error")


class ArrayHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` that passes a problem built by :func:`optimizer.model.to_pulp` to HiGHS in one call.

    The problem carries its arrays (``problem._gtp_arrays``) and its variables and
    constraints in array order; everything else is PuLP's HiGHS interface.
    """

    def createAndConfigureSolver(self, lp):
        h = _new_highs()
        if self.msg:
            h.setOptionValue("output_flag", True)
        for key, value in (("mip_rel_gap", self.gapRel), ("mip_abs_gap", self.gapAbs), ("threads", self.threads),
                           ("time_limit", None if self.timeLimit is None else float(self.timeLimit))):
            if value is not None:
                h.setOptionValue(key, value)
        for key, value in self.optionsDict.items():
            h.setOptionValue(key, value)
        lp.solverModel = h

    def buildSolverModel(self, lp):
        import highspy
        a: ModelArrays = lp._gtp_arrays
        inf = highspy.kHighsInf
        model = highspy.HighsLp()
        m, n = a.A.shape
        csc = a.A.tocsc()
        model.num_col_, model.num_row_ = n, m
        model.col_cost_ = a.c.astype(float)
        model.col_lower_ = np.where(np.isfinite(a.col_lo), a.col_lo, -inf)
        model.col_upper_ = np.where(np.isfinite(a.col_hi), a.col_hi, inf)
        model.row_lower_ = np.where(np.isfinite(a.row_lo), a.row_lo, -inf)
        model.row_upper_ = np.where(np.isfinite(a.row_hi), a.row_hi, inf)
        model.offset_ = float(a.offset)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = csc.indptr.astype(np.int32)
        model.a_matrix_.index_ = csc.indices.astype(np.int32)
        model.a_matrix_.value_ = csc.data.astype(float)
        model.a_matrix_.num_col_, model.a_matrix_.num_row_ = n, m
        if self.mip and a.integer.any():
            model.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in a.integer]
        lp.solverModel.passModel(model)

    def findSolutionValues(self, lp):
        h = lp.solverModel
        kind = _highs_kind(h.getModelStatus())
        info = h.getInfo()
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float) if sol.value_valid else None
        duals = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
        obj = float(info.objective_function_value) if x is not None else None
        mip = bool(self.mip and lp._gtp_arrays.integer.any())
        gap = float(info.mip_gap) if mip and x is not None else None
        if kind == "feasible" and x is None:
            kind = "error"
        _write_back(lp, x, duals)
        status, sol_status = _pulp_status(kind, mip)
        lp._gtp_raw = RawSolution(kind, x, duals, obj, gap, 0.0, pulp.LpStatus[status], sol_status,
                                  detail=h.modelStatusToString(h.getModelStatus()))
        return status, sol_status

    def actualSolve(self, lp, **kwargs):
        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        self.callSolver(lp)
        status, sol_status = self.findSolutionValues(lp)
        lp.assignStatus(status, sol_status)
        return status

    def resolve(self, lp):
        """Solve the (modified) HiGHS instance again, from its current basis."""
        self.callSolver(lp)
        status, sol_status = self.findSolutionValues(lp)
        lp.assignStatus(status, sol_status)
        return status


def _pulp_status(kind: str, mip: bool) -> tuple[int, int]:
    C = pulp.constants
    return {
        "optimal": (C.LpStatusOptimal, C.LpSolutionOptimal),
        "feasible": (C.LpStatusOptimal, C.LpSolutionIntegerFeasible),
        "infeasible": (C.LpStatusInfeasible, C.LpSolutionInfeasible),
        "infeasible_or_unbounded": (C.LpStatusInfeasible, C.LpSolutionInfeasible),
        "unbounded": (C.LpStatusUnbounded, C.LpSolutionUnbounded),
    }.get(kind, (C.LpStatusNotSolved, C.LpSolutionNoSolutionFound))


def _write_back(lp, x, duals):
    """Solution values onto the PuLP variables and constraints (``varValue``, ``pi``, ``slack``)."""
    xs, cons = lp._gtp_vars, lp._gtp_cons
    if x is None:
        for v in xs:
            v.varValue = None
        return
    for v, val in zip(xs, x.tolist()):
        v.varValue = val
    act = lp._gtp_arrays.A @ x
    if duals is None:
        duals = [None] * len(cons)
    else:
        duals = duals.tolist()
    for con, d, ax in zip(cons, duals, act.tolist()):
        con.pi = d
        con.slack = -(con.constant + ax) if con.sense == pulp.LpConstraintLE else con.constant + ax


# ----------------------------------------------------------------------------- CBC

def cbc_path() -> str:
    """The CBC executable: ``cbc`` on PATH, else the binary bundled with PuLP."""
    found = shutil.which("cbc")
    if found:
        return found
    from pulp.apis.coin_api import pulp_cbc_path
    return os.path.normpath(pulp_cbc_path)


def _cbc_solve(prob, arrays: ModelArrays, mip: bool, time_limit, gap, msg, threads) -> RawSolution:
    path = cbc_path()
    solver = pulp.COIN_CMD(path=path, mip=mip, msg=msg, timeLimit=time_limit, gapRel=gap if mip else None, threads=threads)
    if not solver.available():
        raise SolverError(f"solver: CBC is not available at {path} (allowed: highs, or install CBC)", status="error")
    prob.solve(solver)
    st, ss = prob.status, prob.sol_status
    C = pulp.constants
    if ss == C.LpSolutionOptimal:
        kind = "optimal"
    elif ss == C.LpSolutionIntegerFeasible:
        kind = "feasible"
    elif st == C.LpStatusInfeasible or ss == C.LpSolutionInfeasible:
        kind = "infeasible"
    elif st == C.LpStatusUnbounded or ss == C.LpSolutionUnbounded:
        kind = "unbounded"
    else:
        kind = "error"
    x = duals = obj = None
    if kind in ("optimal", "feasible"):
        x = np.array([0.0 if v.varValue is None else v.varValue for v in prob._gtp_vars], dtype=float)
        if not (mip and arrays.integer.any()):
            duals = np.array([0.0 if c.pi is None else c.pi for c in prob._gtp_cons], dtype=float)
        obj = arrays.objective_value(x)
    return RawSolution(kind, x, duals, obj, None, 0.0, pulp.LpStatus[st], ss)


# ----------------------------------------------------------------------------- session

class Session:
    """One model on one solver; change it and solve again (see the module docstring)."""

    def __init__(self, arrays: ModelArrays, solver: str = "highs", *, time_limit: float | None = None,
                 mip_gap: float | None = None, msg: bool = False, threads: int | None = None,
                 name: str = "grassroots_allocation", highs_options: dict | None = None):
        if solver not in SOLVERS:
            raise OptimizerInputError([f"solver: {solver!r} (allowed: {', '.join(SOLVERS)})"])
        self.arrays = arrays.copy()
        self.solver = solver
        self.time_limit, self.mip_gap, self.msg, self.threads = time_limit, mip_gap, msg, threads
        self.name = name
        self.highs_options = dict(HIGHS_OPTIONS if highs_options is None else highs_options)
        self.relaxed = False
        self.build_seconds = 0.0
        self.solve_seconds = 0.0
        self.n_solves = 0
        self._pending: list[tuple] = []
        self._highs_solver: ArrayHiGHS | None = None
        self._build_pulp()

    # -- building
    def _build_pulp(self):
        t = time.perf_counter()
        self.prob, self.vars, self.cons = to_pulp(self.arrays, self.name)
        self.prob._gtp_arrays, self.prob._gtp_vars, self.prob._gtp_cons = self.arrays, self.vars, self.cons
        self.build_seconds += time.perf_counter() - t
        self._pending.clear()
        self._highs_solver = None

    @property
    def mip(self) -> bool:
        return self.arrays.is_mip and not self.relaxed

    # -- changes (applied to the arrays, the PuLP objects and, when live, to HiGHS)
    def set_row_bounds(self, rows, lo=None, hi=None):
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if lo is not None:
            self.arrays.row_lo[rows] = lo
        if hi is not None:
            self.arrays.row_hi[rows] = hi
        for r in rows:
            con = self.cons[r]
            l, h = self.arrays.row_lo[r], self.arrays.row_hi[r]
            con.changeRHS(float(h if con.sense == pulp.LpConstraintLE else l))
        self._pending.append(("rows", rows))

    def set_col_bounds(self, cols, lo=None, hi=None):
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        if lo is not None:
            self.arrays.col_lo[cols] = lo
        if hi is not None:
            self.arrays.col_hi[cols] = hi
        for j in cols:
            v = self.vars[j]
            v.lowBound = None if not np.isfinite(self.arrays.col_lo[j]) else float(self.arrays.col_lo[j])
            v.upBound = None if not np.isfinite(self.arrays.col_hi[j]) else float(self.arrays.col_hi[j])
        self._pending.append(("cols", cols))

    def set_objective(self, c: np.ndarray, offset: float | None = None):
        self.arrays.c = np.asarray(c, dtype=float).copy()
        if offset is not None:
            self.arrays.offset = float(offset)
        nz = np.flatnonzero(self.arrays.c)
        self.prob.setObjective(pulp.LpAffineExpression(zip([self.vars[j] for j in nz], self.arrays.c[nz].tolist()),
                                                       constant=float(self.arrays.offset)))
        self._pending.append(("cost", None))

    def set_relaxed(self, relaxed: bool):
        """Solve the LP relaxation (``True``) or the mixed-integer model (``False``) from now on."""
        if relaxed != self.relaxed:
            self.relaxed = relaxed
            self._pending.append(("integrality", None))

    # -- solving
    def run(self) -> RawSolution:
        t = time.perf_counter()
        if self.solver == "highs":
            raw = self._run_highs()
        else:
            raw = _cbc_solve(self.prob, self.arrays, self.mip, self.time_limit, self.mip_gap, self.msg, self.threads)
        raw.seconds = time.perf_counter() - t
        self.solve_seconds += raw.seconds
        self.n_solves += 1
        self._pending.clear()
        return raw

    def _run_highs(self) -> RawSolution:
        import highspy
        inf = highspy.kHighsInf
        if self._highs_solver is None or self._highs_solver.mip != self.mip:
            self._highs_solver = ArrayHiGHS(mip=self.mip, msg=self.msg, timeLimit=self.time_limit,
                                            gapRel=self.mip_gap if self.mip else None, threads=self.threads,
                                            **self.highs_options)
            self.prob.solve(self._highs_solver)
            return self.prob._gtp_raw
        h = self.prob.solverModel
        a = self.arrays
        for what, idx in self._pending:
            if what == "rows":
                lo = np.where(np.isfinite(a.row_lo[idx]), a.row_lo[idx], -inf)
                hi = np.where(np.isfinite(a.row_hi[idx]), a.row_hi[idx], inf)
                h.changeRowsBounds(len(idx), idx.astype(np.int32), lo, hi)
            elif what == "cols":
                lo = np.where(np.isfinite(a.col_lo[idx]), a.col_lo[idx], -inf)
                hi = np.where(np.isfinite(a.col_hi[idx]), a.col_hi[idx], inf)
                h.changeColsBounds(len(idx), idx.astype(np.int32), lo, hi)
            elif what == "cost":
                n = len(a.c)
                h.changeColsCost(n, np.arange(n, dtype=np.int32), a.c)
                h.changeObjectiveOffset(float(a.offset))
        self._highs_solver.resolve(self.prob)
        return self.prob._gtp_raw

    def write_lp(self, path) -> None:
        """The model in CPLEX LP format, variables and constraints named from their indices."""
        self.prob.writeLP(str(path))


# ----------------------------------------------------------------------------- checking

def check(raw: RawSolution, session: Session, what: str = "") -> RawSolution:
    """``raw`` if it is a usable solution, else the right typed error (see the module docstring)."""
    label = f" ({what})" if what else ""
    if raw.kind == "optimal" and raw.x is not None:
        return raw
    if raw.kind == "feasible" and raw.x is not None:
        stated = session.mip_gap if session.mip_gap is not None else 0.0
        if session.mip and raw.mip_gap is not None and raw.mip_gap <= stated + 1e-9:
            return raw
        gap = "unknown" if raw.mip_gap is None else f"{raw.mip_gap:.3%}"
        raise SolverError(
            f"solver{label}: {session.solver} stopped ({raw.detail or 'time limit'}) after "
            f"{session.time_limit} s with a feasible but unproven solution, gap {gap} (allowed: gap <= "
            f"{stated:.3%}; raise optimizer.time_limit_seconds or mip_gap)", status="time_limit")
    if raw.kind in ("infeasible", "infeasible_or_unbounded", "unbounded"):
        diagnose(session, label, raw.kind)
    raise SolverError(f"solver{label}: {session.solver} returned no solution (status {raw.pulp_status}"
                      f"{', ' + raw.detail if raw.detail else ''})", status="error")


def diagnose(session: Session, label: str = "", kind: str = "infeasible") -> None:
    """Raise :class:`InfeasibleError` naming the families that need slack, or :class:`UnboundedError`."""
    a = session.arrays
    el, fam, target = elastic(a)
    sub = Session(el, session.solver, time_limit=session.time_limit, mip_gap=session.mip_gap, msg=False,
                  threads=session.threads, name=session.name + "_elastic", highs_options=session.highs_options)
    sub.relaxed = session.relaxed
    raw = sub.run()
    if raw.x is None or raw.kind not in ("optimal", "feasible"):
        raise SolverError(f"solver{label}: the model is {kind.replace('_', ' ')} and its elastic relaxation "
                          f"could not be solved ({raw.pulp_status})", status=kind)
    n = a.A.shape[1]
    slack = raw.x[n:n + len(fam)]
    used = slack > 1e-7 * np.maximum(1.0, np.abs(slack).max())
    used &= slack > 1e-9
    if not used.any():
        # lever columns that earn money without limit (negative cost, no upper bound) come first
        sp_rows = a.A[a.spend_row_start:a.spend_row_start + a.n_spend, :a.n_lever]
        earns = np.flatnonzero((np.asarray(sp_rows.min(axis=0).todense()).ravel() < 0) & ~np.isfinite(a.col_hi[:a.n_lever])) \
            if a.n_spend and a.n_lever else np.zeros(0, int)
        cols = [a.col_names[j] for j in earns]
        cols += [a.col_names[j] for j in range(n) if j not in set(earns) and a.col_family[j] != "spending"
                 and ((a.c[j] < 0 and not np.isfinite(a.col_hi[j])) or (a.c[j] > 0 and not np.isfinite(a.col_lo[j])))]
        raise UnboundedError(
            f"unbounded{label}: the objective can improve without limit through "
            f"{len(cols)} column(s) with no bound in the improving direction"
            + (f", e.g. {', '.join(cols[:3])}" if cols else ""), columns=cols)
    families: dict[str, dict] = {}
    for f in dict.fromkeys(fam[used]):
        m = used & (fam == f)
        order = np.argsort(-slack[m])
        scale = MONEY_UNIT if f in MONEY_FAMILIES else 1.0
        families[str(f)] = {"rows": int(m.sum()), "slack": float(slack[m].sum()) * scale, "unit": FAMILY_UNITS.get(str(f), ""),
                            "examples": [str(t) for t in target[m][order][:3]]}
    raise InfeasibleError(families, objective=label.strip(" ()"))


__all__ = ["HIGHS_OPTIONS", "Session", "ArrayHiGHS", "RawSolution", "check", "diagnose", "cbc_path", "SOLVERS"]
