"""The "before" state the optimizer plans against: the static first-order estimate or an injected one.

Static status quo (``static=True``, the fallback): ``P = staff - expected exits``, where
expected exits are the year's voluntary exits and retirements that ordinary recruitment
does not replace: ``staff x (p0 + r) x (1 - recruitment.quota_share)``, ``p0`` =
``behaviour.exit_rate_target`` of the field (township staff: lowered by any township
subsidy the scenario already pays), ``r`` = the share reaching
``population.retirement_age`` within the first year when ages follow the field's
``population.age_pyramid`` (uniform within a band), as the simulator draws them.  The same ``P`` holds in every year
(a steady state: it ignores internal flows and dynamics).  Demand is the county
table's times the scenario's demand trend.

Injected status quo (:class:`StatusQuo`, assembled by the application from the
simulator's status-quo run): expected staff and demand per county x field at the end of
each year 1..H, and optionally a factor per county x field x lever by which the
simulator's response differs from the analytic lever effect.  The optimizer never runs
the simulator; it only reads these tables.

:class:`Context` holds every per-county x field array the lever families read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import OptimizerInputError
from .columns import priority_weight
from .containers import FIELDS
from .response import demand_path, exits_after, retirement_share


@dataclass(frozen=True)
class StatusQuo:
    """An injected status quo.

    ``staff``: long table ``county_id, field, year, staff[, demand]`` -- expected staff
    (persons) at the end of simulated year ``year`` (1..H) under the scenario without
    any allocation, and optionally demand (persons) that year.  ``effect_factor``:
    optional ``county_id, field, lever, factor`` (dimensionless; 1 = the analytic effect).
    ``source``: one line saying where it came from (reported in ``solution.json``).
    """

    staff: pd.DataFrame
    effect_factor: pd.DataFrame | None = None
    source: str = "injected"

    def arrays(self, county_ids, H: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(staff [n, F, H], demand [n, F, H] or None) in the order of ``county_ids``; missing cells are an error."""
        df = self.staff
        need = {"county_id", "field", "year", "staff"}
        if not need.issubset(df.columns):
            raise OptimizerInputError([f"status_quo.staff: missing column(s) {', '.join(sorted(need - set(df.columns)))} "
                                       "(allowed: county_id, field, year, staff[, demand])"])
        ids = [str(c) for c in county_ids]
        index = pd.MultiIndex.from_product([ids, FIELDS, range(1, H + 1)], names=["county_id", "field", "year"])
        d = df.assign(county_id=df["county_id"].astype(str), year=df["year"].astype(int)).set_index(["county_id", "field", "year"])
        d = d[~d.index.duplicated(keep="last")]
        got = d.reindex(index)
        missing = got["staff"].isna()
        if missing.any():
            first = missing[missing].index[0]
            raise OptimizerInputError([f"status_quo.staff: {int(missing.sum())} county x field x year cell(s) missing, "
                                       f"e.g. {first} (allowed: every county of the table, every field, years 1..{H})"])
        S = got["staff"].to_numpy(float).reshape(len(ids), len(FIELDS), H)
        D = got["demand"].to_numpy(float).reshape(len(ids), len(FIELDS), H) if "demand" in got else None
        if D is not None and np.isnan(D).any():
            D = None
        return S, D


class Context:
    """Per-county x field arrays of a scenario on a county table (shape ``(n, F)`` unless stated).

    ``H`` = years of the profiles (the target year).  ``D``, ``Dc``, ``Dt``: demand (total,
    county seat, township) averaged over years 1..H with the trend; ``D_by_year`` [n, F, H];
    ``S``/``Sc``/``St``: the table's staff; ``P``: status-quo staff (static: steady);
    ``P_by_year`` [n, F, H]; ``p_pair``/``p_cty``/``p_twp``: yearly exit probabilities; ``r``:
    retirement share; ``A``/``A_cty``/``A_twp``: authorized posts; ``vac``: yearly vacancies.
    """

    def __init__(self, sc, table, H: int, status_quo: StatusQuo | None = None, at_target: bool = False):
        beh, pay, posts, rec = sc.behaviour, sc.pay, sc.posts, sc.recruitment
        self.sc, self.table, self.H = sc, table, int(H)
        self.beta = float(beh.income_coef)
        self.q = float(rec.quota_share)
        self.base = np.asarray(pay.base_by_grade, dtype=float)
        self.perf = float(pay.performance_share)
        n = self.n = len(table)
        nf = self.nf = len(FIELDS)
        self.K = n * nf
        self.cls = table["hardship_class"].to_numpy(int)
        remote = table["remoteness"].to_numpy(float)
        self.townships = table["townships"].to_numpy(float)
        self.allowance = np.where(self.cls >= 1, np.asarray(pay.hardship_allowance_by_class, dtype=float)[np.clip(self.cls - 1, 0, 5)], 0.0)
        self.s0 = (pay.township_subsidy_by_band[0] + pay.township_subsidy_remote_extra * remote) if pay.township_subsidy else np.zeros(n)
        self.w_county = priority_weight(table, sc.optimizer)

        def col(pattern):
            return np.column_stack([table[pattern.format(f=f)].to_numpy(float) for f in FIELDS])

        path = demand_path(sc, self.H)                       # [H, F]
        trend = path.mean(axis=0)
        D0, Dc0, Dt0 = col("demand_{f}"), col("demand_{f}_county"), col("demand_{f}_township")
        self.D, self.Dc, self.Dt = D0 * trend, Dc0 * trend, Dt0 * trend
        self.D_by_year = D0[:, :, None] * path.T[None, :, :]
        S, Sc, St = col("staff_{f}"), col("staff_{f}_county"), col("staff_{f}_township")
        self.S, self.Sc, self.St = S, Sc, St
        self.sen_share, self.int_share = col("senior_share_{f}"), col("intermediate_share_{f}")
        p_target = np.array([beh.exit_rate_target[f] for f in FIELDS])
        self.p_cty = np.broadcast_to(p_target, (n, nf)).copy()
        self.p_twp = exits_after(p_target[None, :], self.beta, self.s0[:, None])
        self.p_pair = np.where(S > 0, (Sc * self.p_cty + St * self.p_twp) / np.maximum(S, 1e-12), self.p_cty)
        pop = sc.population
        r_f = np.array([retirement_share(pop.age_pyramid[f], pop.entry_age, pop.retirement_age) for f in FIELDS])
        self.r = np.broadcast_to(r_f, (n, nf)).copy()
        self.exits = S * (self.p_pair + self.r) * (1.0 - self.q)
        self.P = S - self.exits
        self.P_by_year = np.repeat(self.P[:, :, None], self.H, axis=2)
        self.source = "static"
        if status_quo is not None:
            Sy, Dy = status_quo.arrays(table["county_id"].to_numpy(object), self.H)
            self.P_by_year = Sy
            if Dy is not None:
                self.D_by_year = Dy
            # the single-period model plans for the end of the target year
            self.P = Sy[:, :, -1] if at_target else Sy.mean(axis=2)
            self.D = self.D_by_year[:, :, -1] if at_target else self.D_by_year.mean(axis=2)
            self.source = status_quo.source
        self.A_cty = posts.authorized_share_of_demand["county"] * self.Dc
        self.A_twp = posts.authorized_share_of_demand["township"] * self.Dt
        self.A = self.A_cty + self.A_twp
        self.vac = np.maximum(0.0, self.A - S) + (self.p_pair + self.r) * S
        self.pair_county = np.repeat(np.arange(n), nf)
        self.pair_field = np.tile(np.arange(nf), n)
        self.cid = table["county_id"].to_numpy(object)
        self.prov = table["province"].to_numpy(object)
        self.reg = table["region"].to_numpy(object)
        self.fields_arr = np.array(FIELDS, dtype=object)
        self.region_payer = {rg: np.array([sc.budget.payer_shares[rg][p] for p in ("central", "provincial", "county")])
                             for rg in sc.budget.payer_shares}
        self.pay_region = np.array([self.region_payer[rg] for rg in self.reg])  # (n, 3)
        self.k_all = np.arange(self.K)

    def flat(self, a) -> np.ndarray:
        """(n, F) -> (K,), county-major: k = i * F + j."""
        return np.asarray(a).reshape(self.K)


__all__ = ["StatusQuo", "Context"]
