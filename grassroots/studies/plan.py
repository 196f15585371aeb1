"""The simulate-then-optimize loop (``grassroots plan``).

This is the only module where the two engines meet: :mod:`optimizer` allocates
with lever effects, :mod:`simulator` runs an allocation (``simulate(...,
allocation=df)``); neither imports the other.  Everything here uses the
optimizer's public inputs (:class:`optimizer.AllocationInputs`: effects,
status quo, column bounds, groups) and the simulator's ``simulate``.

What is measured
----------------
``staff_fn(allocation)`` = horizon-average staff per optimizer pair (county x
field; mean over the ends of years 1..H, the optimizer's accounting) from the
simulator with R replications and a *fixed* seed, so every allocation the loop
evaluates sees the same random numbers (common random numbers).  The loop
minimises the optimizer's own objective measured on these staff numbers
(:func:`merit`): the priority-weighted shortfall ``sum_k w_k max(0, D_k - S_k)``
(``--objective equity``: the largest shortfall ratio).

Effects and their estimation: see :mod:`grassroots.studies.effects`.

The model at an allocation
--------------------------
At allocation ``x`` (lever columns) with simulated staff ``S(x)`` the optimizer
is given ``staff(y) = S(x) + E_F (y - x)``: the effects ``E_F`` as above and the
status quo ``S(x) - E_F x`` (:func:`linearized_inputs`).  The model is exact at
``x``, so the predicted and the simulated coverage are comparable: in round 0
the loop starts from the *simulated* status quo (the optimizer's analytic one
counts one year of unreplaced exits while the simulator also recruits; round 0
of the rounds table shows both).  With a demand trend
(``demand.growth_per_year``) both sides use the horizon-average demand (the
optimizer's :func:`optimizer.inputs.demand_trend`).

The loop (:func:`plan`): sequential linear programming with a trust region
--------------------------------------------------------------------------
Round 0 simulates the status quo, estimates the effects there and solves the
LP: the *proposal*.  Round r (r = 1..``rounds``):

1. step = the proposal if it moves at most the trust radius ``rho`` (a share
   of the current allocation's money; ``inf`` at first), else the LP solved
   inside the L1 trust region ``sum_j c_j |y_j - x_j| <= rho x max(money(x),
   budget)`` (:func:`trust_region_inputs`; ``c_j`` = yuan/year per unit);
2. simulate the step; ``ratio`` = simulated reduction of the objective /
   predicted reduction;
3. accept the step if ``ratio >= TR_ACCEPT`` (else the allocation stays);
   ``rho`` becomes ``TR_SHRINK_HARD`` (ratio < 0) or ``TR_SHRINK`` (ratio <
   ``TR_SHRINK_BELOW``) times the step's size, or doubles (ratio >
   ``TR_EXPAND_ABOVE`` with the step on the boundary);
4. after an accepted step, re-estimate the effects at the new allocation,
   re-linearise and re-solve: the next proposal.

Why: the LP jumps between vertices, including near-equivalent ones, and it
exploits every error of the effect model (moving money away from pairs the
model thinks have a surplus, up to the kink of the shortfall).  Only steps the
simulator confirms are taken, and their size adapts to how far the model is
right, as in sequential linear programming with trust regions.

The *allocation change* is the share of money moved,
``sum_j c_j |y_j - x_j| / max(sum_j c_j x_j, budget)`` (:func:`money_change`;
:func:`allocation_change` on allocation tables).  The loop stops, and the last
round's ``stop`` says which and why, when

* **converged (fixed point)**: the proposal with the effects re-estimated at
  the current allocation moves less than ``tol`` of the money, or it predicts
  a gain of at most ``tol`` x the gain over the status quo (an equivalent
  optimum: the current allocation is kept rather than jumping to it);
* **converged (trust region)**: ``rho < tol`` -- the simulator confirmed no step
  of the size tried, so the next step could move less than ``tol`` of the
  money (the usual trust-region termination; the stop text also gives the
  gain the model still predicts, which the simulator did not deliver);
* **not converged**: ``rounds`` rounds are done (the stop text gives the
  remaining proposal and radius).

Rounds table (:data:`ROUND_COLUMNS`, ``rounds.csv``): per round the step
(accepted / rejected), predicted and simulated coverage (sum of horizon-average
staff / sum of demand, over the fields in scope: ``--field``, else all) and staff gain over the simulated status quo, predicted
and simulated reduction of the objective and their ratio, budget used,
allocation change, the trust radius used, the next proposal's change and
predicted gain (``remaining_gain``), the objective at the current allocation,
the mean province factor per lever kind, and the stop reason.  The simulate
step is injectable (``staff_fn``: ``allocation -> horizon-average staff per
optimizer pair``; tests use closed-form stubs).

Fields, money by year and payer (as ``optimize``)
------------------------------------------------
``fields``: pairs of other fields get weight 0 in the objective and their levers stay at 0 (their status
quo).  ``budget_path``: the loop runs on the year-indexed model (:func:`optimizer.expand_years`): the
simulated staff is per pair and year, the model is linearised there, and the effect factors (estimated on
the single-period model with the horizon average of the simulated staff, perturbations started in year 1)
scale every start year's columns.  ``payer_budget``: explicit limits per payer, as ``optimize``.

Sizing with confidence: :mod:`grassroots.studies.sizing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .effects import (ALLOC_COLUMNS, EFFECT_COLUMNS, KINDS, effect_summary, estimate_effects, scaled_inputs,
                      simulator_staff_fn)

DEFAULT_ROUNDS = 10          # optimize-simulate rounds at most (``grassroots plan --rounds``)
DEFAULT_TOLERANCE = 0.01     # stop when a step would move less than this share of the money
ROUND_COLUMNS = ["round", "step", "predicted_coverage", "simulated_coverage", "predicted_staff_gain",
                 "simulated_staff_gain", "predicted_reduction", "simulated_reduction", "ratio", "budget_used_yuan",
                 "allocation_change", "trust_radius", "proposal_change", "remaining_gain", "objective",
                 "factor_special", "factor_place", "factor_promotion", "factor_subsidy", "factor_subsidy_down", "stop"]
TR_ACCEPT = 0.1          # a step is accepted when simulated / predicted reduction >= this
TR_SHRINK_BELOW = 0.25   # ratio below this (or a rejected step): radius = TR_SHRINK x the step's size
TR_SHRINK = 0.5
TR_SHRINK_HARD = 0.25    # ... and this when the simulated objective got worse (ratio < 0)
TR_EXPAND_ABOVE = 0.75   # ratio above this with the step on the trust-region boundary: radius x TR_EXPAND
TR_EXPAND = 2.0
TRUST_LEVER = "trust_region_move"   # auxiliary columns of the trust region (never in an allocation)


# ----------------------------------------------------------------------------- the loop

@dataclass
class PlanResult:
    """What :func:`plan` returns: the final allocation, its optimizer result and every round's record."""

    result: object                 # optimizer AllocationResult that produced the final allocation
    allocation: pd.DataFrame
    rounds: pd.DataFrame           # ROUND_COLUMNS (round 0 = the status quo)
    effects: pd.DataFrame          # factors of every estimate (with a ``round`` column)
    converged: bool
    simulation: object = None      # SimulationResult of the final allocation (real simulator only)
    factors: pd.DataFrame | None = None
    stop_reason: str = ""
    x: np.ndarray | None = None    # the final allocation as optimizer lever columns
    status: str = ""               # "converged" (fixed point), "trust region" or "max rounds"


def allocation_change(new: pd.DataFrame, old: pd.DataFrame | None, budget: float = 0.0) -> float:
    """Share of money moved between two allocation tables: ``sum |q_new - q_old| x unit cost /
    max(sum cost_old, budget)`` (:func:`money_change` on tables).

    Rows are county x field x lever; the unit cost of a row is its ``cost_yuan / quantity`` (from
    whichever allocation has the row).  ``inf`` without a previous allocation, or when the old one
    spends nothing, ``budget`` is 0 and the new one spends something.
    """
    if old is None:
        return math.inf
    key = ["county_id", "field", "lever"]

    def agg(df):
        g = df.groupby(key)[["quantity", "cost_yuan"]].sum()
        return g["quantity"], g["cost_yuan"]

    qa, ca = agg(new)
    qb, cb = agg(old)
    idx = qa.index.union(qb.index)
    qa, ca, qb, cb = (s.reindex(idx, fill_value=0.0) for s in (qa, ca, qb, cb))
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(qb.abs() > 1e-12, cb / qb, np.where(qa.abs() > 1e-12, ca / qa, 0.0))
    moved = float((np.abs(qa - qb) * np.abs(unit)).sum())
    denom = max(float(cb.abs().sum()), float(budget))
    if denom <= 0:
        return 0.0 if moved <= 1e-9 else math.inf
    return moved / denom


def money_change(y: np.ndarray, x: np.ndarray, cost: np.ndarray, ref: float = 0.0) -> float:
    """:func:`allocation_change` on optimizer lever columns: ``sum_j c_j |y_j - x_j| / max(sum_j c_j x_j, ref)``
    (``ref``: the fund, so a step from the status quo that spends the whole fund counts as 1)."""
    moved = float(np.abs(cost) @ np.abs(np.asarray(y, float) - np.asarray(x, float)))
    denom = max(float(np.abs(cost) @ np.abs(np.asarray(x, float))), float(ref))
    if denom <= 0:
        return 0.0 if moved <= 1e-9 else math.inf
    return moved / denom


def merit(staff: np.ndarray, inputs, objective: str = "shortfall") -> float:
    """The quantity the loop minimises, measured on staff per pair (simulated or predicted).

    ``shortfall``: priority-weighted shortfall ``sum_k w_k max(0, demand_k - staff_k)`` (persons);
    ``equity``: the largest shortfall ratio ``max_k max(0, demand_k - staff_k) / demand_k``.
    """
    D = np.asarray(inputs.demand, float)
    u = np.maximum(0.0, D - np.asarray(staff, float))
    if objective == "equity":
        pos = (D > 0) & (np.asarray(inputs.weight, float) > 0)     # pairs the objective counts (--field)
        return float(np.max(u[pos] / D[pos], initial=0.0))
    return float(np.asarray(inputs.weight, float) @ u)


def linearized_inputs(inputs, factors: pd.DataFrame | None, x: np.ndarray, staff_x: np.ndarray):
    """The optimizer's model linearised at allocation ``x``: staff(y) = staff_x + E_F (y - x).

    ``E_F`` = the analytic effects rescaled by ``factors`` (:func:`scaled_inputs`); the status quo of
    the model becomes ``staff_x - E_F x``, so the model reproduces the simulated staff at ``x`` exactly.
    """
    from dataclasses import replace
    x = np.asarray(x, float)
    cur = scaled_inputs(inputs, factors, x)
    base = np.asarray(staff_x, float) - (cur.effect @ x if len(x) else 0.0)
    return replace(cur, baseline_staff=np.asarray(base, float))


def trust_region_inputs(inputs, x: np.ndarray, radius_yuan: float):
    """``inputs`` with the trust region ``sum_j cost_j |y_j - x_j| <= radius_yuan`` (yuan/year moved).

    The L1 ball is written with one auxiliary column ``t_j >= |y_j - x_j|`` per costed lever column
    (lever :data:`TRUST_LEVER`: no cost, no effect; rows ``y_j - t_j <= x_j``, ``-y_j - t_j <= -x_j``
    and ``sum_j cost_j t_j <= radius``), appended after the lever columns so the first
    ``inputs.n_columns`` solution values stay the allocation.  ``radius_yuan = inf``: unchanged.
    """
    if not math.isfinite(radius_yuan):
        return inputs
    from dataclasses import replace
    from optimizer import Groups
    c = np.abs(np.asarray(inputs.col_cost, float))
    x = np.asarray(x, float)
    K, M = inputs.n_pairs, inputs.n_columns
    J = np.flatnonzero(c > 0)
    n = len(J)
    CS = inputs.cost_split.tocsc()
    home = np.array([CS.indices[CS.indptr[j]] if CS.indptr[j + 1] > CS.indptr[j] else 0 for j in J], dtype=np.int64)
    aux = M + np.arange(n)
    ones = np.ones(n)
    gi = np.arange(n)
    scale = 1e-4      # the radius row in 10,000 yuan, like the optimizer's money rows
    new = Groups(
        family=np.full(2 * n + 1, "trust_region", object),
        name=np.array([f"trust_up_{j}" for j in J] + [f"trust_down_{j}" for j in J] + ["trust_radius"], dtype=object),
        sense=np.full(2 * n + 1, "<=", object),
        rhs=np.concatenate([x[J], -x[J], [radius_yuan * scale]]),
        label_county=np.concatenate([np.asarray(inputs.col_county, object)[J]] * 2 + [np.array([""], object)]),
        label_province=np.full(2 * n + 1, "", object), label_field=np.full(2 * n + 1, "", object),
        entry_group=np.concatenate([gi, gi, n + gi, n + gi, np.full(n, 2 * n)]).astype(np.int64),
        entry_col=np.concatenate([J, aux, J, aux, aux]).astype(np.int64),
        entry_coef=np.concatenate([ones, -ones, -ones, -ones, c[J] * scale]))
    cat = lambda a, b_: np.concatenate([np.asarray(a), np.asarray(b_)])  # noqa: E731
    per_col = {}                       # year-indexed inputs (a budget path): the aux columns cost nothing in any year
    if inputs.col_cost_by_year is not None:
        cby = np.asarray(inputs.col_cost_by_year, float)
        per_col["col_cost_by_year"] = np.vstack([cby, np.zeros((n, cby.shape[1]))])
    if inputs.col_year is not None:
        per_col["col_year"] = cat(inputs.col_year, np.asarray(inputs.col_year)[J])
    if inputs.col_stock is not None:
        per_col["col_stock"] = cat(inputs.col_stock, np.zeros(n, bool))
    return replace(
        inputs, **per_col,
        col_lever=cat(inputs.col_lever, np.full(n, TRUST_LEVER, object)),
        col_key=cat(inputs.col_key, np.asarray(inputs.col_key, object)[J]),
        col_county=cat(inputs.col_county, np.asarray(inputs.col_county, object)[J]),
        col_cost=cat(inputs.col_cost, np.zeros(n)), col_lower=cat(inputs.col_lower, np.zeros(n)),
        col_upper=cat(inputs.col_upper, np.full(n, math.inf)), col_integer=cat(inputs.col_integer, np.zeros(n, bool)),
        col_payer=np.vstack([inputs.col_payer, np.asarray(inputs.col_payer)[J]]),
        col_unit=cat(inputs.col_unit, np.full(n, "yuan/year moved", object)),
        effect=sp.hstack([inputs.effect, sp.csc_matrix((K, n))]).tocsc(),
        cost_split=sp.hstack([inputs.cost_split, sp.csc_matrix((ones, (home, gi)), shape=(K, n))]).tocsc(),
        groups=Groups.concat([inputs.groups, new]))


def _columns(res, inputs) -> np.ndarray:
    """Lever quantities of an optimizer result, cleaned and within the columns' own bounds."""
    y = np.asarray(res.x[:inputs.n_columns], float)
    y = np.where(np.abs(y) < 1e-7, 0.0, y)
    return np.clip(y, inputs.col_lower, inputs.col_upper)


def _evaluate_at(allocator, inputs, x: np.ndarray):
    """An optimizer result whose allocation is exactly ``x`` (every column fixed at its value)."""
    from dataclasses import replace
    return allocator.solve(replace(inputs, col_lower=np.array(x, float), col_upper=np.array(x, float)))


def _combine(history: list[pd.DataFrame], damping: str) -> pd.DataFrame:
    if damping == "last" or len(history) == 1:
        return history[-1]
    allf = pd.concat(history, ignore_index=True)
    keys = ["county_id", "province", "field", "kind"] if "county_id" in allf.columns else ["province", "field", "kind"]
    return allf.groupby(keys, as_index=False)[[c for c in ("province_factor", "factor") if c in allf.columns]].mean()


def _allocation_of(res, year_indexed: bool = False) -> pd.DataFrame:
    """The allocation table of an optimizer result without trust-region columns (with its ``year`` column when
    the model is year-indexed: a budget path)."""
    a = res.allocation
    return a.loc[a["lever"] != TRUST_LEVER, ALLOC_COLUMNS + (["year"] if year_indexed else [])].reset_index(drop=True)


def plan_inputs(inputs, allocator, staff_fn, rounds: int = DEFAULT_ROUNDS, tol: float = DEFAULT_TOLERANCE, progress=None,
                damping: str = "last", prior: float | None = None, base_inputs=None) -> PlanResult:
    """The loop on prepared optimizer ``inputs`` with an injectable ``staff_fn`` (see the module docstring).

    Year-indexed ``inputs`` (:func:`optimizer.expand_years`: a budget path) need their single-period
    ``base_inputs``; ``staff_fn`` then gives staff at the end of each year (index ``(t - 1) x K + k``), the
    effect factors are estimated on ``base_inputs`` with the horizon average of those staff, and applied to
    every start year's columns; the allocation tables keep their ``year`` column.
    """
    if rounds < 1:
        raise ValueError("rounds: must be at least 1")
    if damping not in ("mean", "last"):
        raise ValueError("damping: 'mean' or 'last'")
    objective = allocator.objective if allocator.objective in ("shortfall", "equity") else "shortfall"
    D = np.asarray(inputs.demand, float)
    fields = (inputs.notes or {}).get("fields")       # --field: coverage of those fields only
    scope = np.isin(np.asarray(inputs.field).astype(str), list(fields)) if fields else np.ones(len(D), bool)
    Dsum = float(D[scope].sum())
    cost = np.asarray(inputs.col_cost, float)
    budget = float(inputs.budget_yuan)
    cov = (lambda s: float(np.sum(np.asarray(s)[scope]) / Dsum)) if Dsum > 0 else (lambda s: None)
    f_ = lambda s: merit(s, inputs, objective)  # noqa: E731
    yearly = inputs.pair_year is not None
    if yearly:
        if base_inputs is None:
            raise ValueError("base_inputs: the single-period inputs of year-indexed inputs are required")
        eff_in, K1 = base_inputs, base_inputs.n_pairs
        n_years = inputs.n_pairs // K1
        avg = lambda s: np.asarray(s, float).reshape(n_years, K1).mean(axis=0)  # noqa: E731
        eff_fn = lambda a: avg(staff_fn(a))  # noqa: E731
    else:
        eff_in, n_years, avg, eff_fn = inputs, 1, (lambda s: s), staff_fn
    per_year = 1.0 / n_years              # staff gains are horizon averages (persons), whatever the model

    # round 0: the status quo, simulated; effects estimated there; the model linearised there
    empty = pd.DataFrame(columns=ALLOC_COLUMNS + (["year"] if yearly else []))
    S0 = np.asarray(staff_fn(empty), float)
    f0 = f_(S0)
    x, S_x, f_x, res_x = np.zeros(inputs.n_columns), S0, f0, None
    history = [estimate_effects(eff_in, empty, eff_fn, base_staff=avg(S_x), prior=prior)]
    factors = _combine(history, damping)
    effs = [history[-1].assign(round=0)]

    def relinearise():
        lin_ = linearized_inputs(inputs, factors, x, S_x)
        full = allocator.solve(lin_)
        y_ = _columns(full, inputs)
        gap_ = f_x - merit(lin_.baseline_staff + lin_.effect @ y_, inputs, objective)
        return lin_, full, y_, money_change(y_, x, cost, budget), float(gap_)

    def fmeans():
        pf = "province_factor" if "province_factor" in factors.columns else "factor"
        fm = (factors.groupby(["province", "field", "kind"])[pf].first().groupby(level="kind").mean()
              if len(factors) else pd.Series(dtype=float))
        return {f"factor_{k}": float(fm.get(k, np.nan)) for k in KINDS}

    lin, full_res, full_y, pchange, gap = relinearise()
    radius = math.inf                      # trust region: share of the current allocation's money that may move
    rec = [{"round": 0, "step": "status quo", "predicted_coverage": cov(inputs.baseline_staff),
            "simulated_coverage": cov(S0), "predicted_staff_gain": 0.0, "simulated_staff_gain": 0.0,
            "predicted_reduction": np.nan, "simulated_reduction": np.nan, "ratio": np.nan, "budget_used_yuan": 0.0,
            "allocation_change": np.nan, "trust_radius": np.nan, "proposal_change": pchange,
            "remaining_gain": gap, "objective": f0, **fmeans(), "stop": ""}]

    def fixed_point() -> str:
        gained = max(f0 - f_x, 0.0)
        if pchange < tol:
            return (f"converged (fixed point): optimizing with the effects re-estimated at this allocation moves "
                    f"{pchange:.2%} of its money (< {tol:.0%})")
        if gap <= tol * gained + 1e-9 * (1.0 + abs(f0)):
            return (f"converged (fixed point): the optimizer's best proposal with the effects re-estimated at this "
                    f"allocation would move {pchange:.2%} of the money for a predicted gain of {gap:.4g}, at most "
                    f"{tol:.0%} of the {gained:.4g} gained over the status quo (an equivalent optimum): the "
                    "allocation is kept")
        return ""

    status, reason = "", fixed_point()
    if reason:
        status, rec[-1]["stop"] = "converged", reason
    if progress:
        progress(rec[-1])
    r = 0
    while not status and r < rounds:
        r += 1
        boxed = math.isfinite(radius) and pchange > radius * (1 + 1e-9)
        if boxed:
            ref = max(float(np.abs(cost) @ np.abs(x)), budget)
            step_res = allocator.solve(trust_region_inputs(lin, x, radius * ref))
            y = _columns(step_res, inputs)
        else:
            step_res, y = full_res, full_y
        step = money_change(y, x, cost, budget)
        pred_staff = lin.baseline_staff + lin.effect @ y
        pred = f_x - merit(pred_staff, inputs, objective)
        alloc_y = _allocation_of(step_res, yearly)
        S_y = np.asarray(staff_fn(alloc_y), float)
        act = f_x - f_(S_y)
        ratio = act / pred if pred > 0 else math.nan
        accepted = pred > 0 and ratio >= TR_ACCEPT
        used_radius = radius
        if not (ratio >= 0):                          # the step made things worse (or predicted nothing)
            radius = TR_SHRINK_HARD * step
        elif not accepted or ratio < TR_SHRINK_BELOW:
            radius = TR_SHRINK * step
        elif ratio > TR_EXPAND_ABOVE and boxed:
            radius = TR_EXPAND * radius
        if accepted:
            x, S_x, f_x, res_x = y, S_y, f_(S_y), step_res
            history.append(estimate_effects(eff_in, alloc_y, eff_fn, base_staff=avg(S_x), prior=prior))
            effs.append(history[-1].assign(round=r))
            factors = _combine(history, damping)
            lin, full_res, full_y, pchange, gap = relinearise()
        row = {"round": r, "step": "accepted" if accepted else "rejected",
               "predicted_coverage": cov(pred_staff), "simulated_coverage": cov(S_y),
               "predicted_staff_gain": float(pred_staff.sum() - S0.sum()) * per_year,
               "simulated_staff_gain": float(S_y.sum() - S0.sum()) * per_year,
               "predicted_reduction": float(pred), "simulated_reduction": float(act), "ratio": float(ratio),
               "budget_used_yuan": float(step_res.solution["budget_used_yuan"]),
               "allocation_change": step if accepted else 0.0, "trust_radius": used_radius,
               "proposal_change": pchange, "remaining_gain": gap, "objective": f_x, **fmeans(), "stop": ""}
        rec.append(row)
        reason = fixed_point()
        if reason:
            status = "converged"
        elif radius < tol:
            status = "trust region"
            reason = (f"converged (trust region): the simulator did not confirm the last step ({step:.2%} of the "
                      f"money, ratio {ratio:.2f}) and the trust region shrank to {radius:.2%} (< {tol:.0%}): the next "
                      f"step could move less than {tol:.0%} of the money. The model still predicts a gain of {gap:.4g} "
                      f"(moving {pchange:.2%}), which the simulator at this allocation did not deliver: the effect "
                      "model is not accurate enough to improve further")
        elif r == rounds:
            status = "max rounds"
            reason = (f"not converged within {rounds} rounds: the optimizer's proposal at the last allocation would "
                      f"still move {pchange:.2%} of its money for a predicted gain of {gap:.4g} (trust radius "
                      + (f"{radius:.2%})" if math.isfinite(radius) else "none)"))
        row["stop"] = reason
        if progress:
            progress(row)
    if res_x is None:      # no step taken: the status quo under the final model
        res_x = _evaluate_at(allocator, lin, x)
    if isinstance(res_x.solution.get("levers"), dict):
        res_x.solution["levers"].pop(TRUST_LEVER, None)
    return PlanResult(result=res_x, allocation=_allocation_of(res_x, yearly),
                      rounds=pd.DataFrame(rec, columns=ROUND_COLUMNS),
                      effects=pd.concat(effs, ignore_index=True), converged=status in ("converged", "trust region"),
                      factors=factors, stop_reason=rec[-1]["stop"], x=x, status=status)


def plan(sc, budget: float | None = None, provinces=None, rounds: int = DEFAULT_ROUNDS, replications: int = 3, seed: int = 0,
         tol: float = DEFAULT_TOLERANCE, *, years: int | None = None, table: pd.DataFrame | None = None, workers: int = 1,
         allocator=None, staff_fn=None, progress=None, damping: str = "last", prior: float | None = None,
         fields=None, budget_path=None, payer_budget=None, objective_year: str = "all",
         at_target: bool = False) -> PlanResult:
    """Simulate-then-optimize on the scenario's counties (``provinces``) with a yearly fund ``budget``.

    ``years`` sets the planning horizon of both engines (default ``horizon.years``).  ``fields``: the
    objective counts these fields only; the other fields' levers stay at 0 (their status quo).
    ``budget_path``: yuan in each year 1..``years`` (decisions per start year, posts persist, the shortfall
    of every year counted, or of the last with ``objective_year="last"``; :func:`optimizer.expand_years`).
    ``payer_budget``: yuan/year per payer (central, provincial, county).  The final allocation is simulated
    with ``replications`` replications (``PlanResult.simulation``).

    ``at_target`` (without a budget path): plan for the end of year ``years`` instead of the horizon average,
    as ``optimize`` does against the simulated status quo -- the simulated staff and the demand of that year,
    lever effects at that age (``size-budget --confidence``, whose event is at the end of the last year).
    """
    import optimizer
    import scenarios
    import simulator
    if years is not None and int(years) != sc.horizon.years:
        sc = scenarios.apply(sc, {"horizon.years": int(years)})
    H = int(sc.horizon.years)
    tab = simulator.replicate.resolve_table(sc, provinces, table)
    base = optimizer.from_scenario(sc, table=tab, budget_yuan=budget, fields=fields, payer_budget=payer_budget)
    last = at_target and budget_path is None
    if last:   # the target-year model; its status quo is replaced by the simulated one (linearised_inputs)
        K, cid = base.n_pairs, np.asarray(base.county_id).astype(str)
        sq = pd.DataFrame({"county_id": np.repeat(cid, H), "field": np.repeat(np.asarray(base.field).astype(str), H),
                           "year": np.tile(np.arange(1, H + 1), K),
                           "staff": np.asarray(base.baseline_by_year, float).reshape(-1),
                           "demand": np.asarray(base.demand_by_year, float).reshape(-1)})
        base = optimizer.from_scenario(sc, table=tab, budget_yuan=budget, fields=fields, payer_budget=payer_budget,
                                       years=H, status_quo=optimizer.StatusQuo(sq, source="simulated in the loop"))
    inputs = base if budget_path is None else optimizer.expand_years(base, budget_path, objective_year)
    if allocator is None:
        allocator = optimizer.Allocator.from_scenario(sc, objective="shortfall", marginals=False)
    keep: dict = {}
    if staff_fn is None:
        staff_fn = simulator_staff_fn(sc, tab, base, H, replications, seed, workers, keep=keep,
                                      by_year=budget_path is not None or last)
        if last:
            per_year = staff_fn
            staff_fn = lambda a: per_year(a)[-base.n_pairs:]  # noqa: E731 - the end of year H
    out = plan_inputs(inputs, allocator, staff_fn, rounds=rounds, tol=tol, progress=progress, damping=damping,
                      prior=prior, base_inputs=base if budget_path is not None else None)
    if keep:
        out.simulation = simulator.simulate(sc, years=H, replications=replications, seed=seed, workers=workers,
                                            table=tab, allocation=out.allocation)
    return out


__all__ = ["plan", "plan_inputs", "PlanResult", "estimate_effects", "effect_summary", "scaled_inputs",
           "linearized_inputs", "trust_region_inputs", "merit", "money_change", "simulator_staff_fn",
           "allocation_change", "EFFECT_COLUMNS", "ROUND_COLUMNS"]
