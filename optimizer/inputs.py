"""Optimizer inputs: a scenario and the county table turned into plain arrays.

This is the only module of :mod:`optimizer` that reads a :class:`scenarios.Scenario`
or the county table.  It produces an :class:`AllocationInputs`: numpy arrays for
the *pairs* (one per county x field), the *lever columns* (one per candidate
decision: a lever in a county x field) and the *groups* (resource constraints
such as post caps, recruit supply and quotas).  :mod:`optimizer.model` works
from these arrays only, so tests can hand-build tiny instances with
:meth:`AllocationInputs.build`.

Accounting convention (how costs and effects are measured)
----------------------------------------------------------
The fund ``budget.total_yuan`` is yuan per year.  A plan is adopted now and run
as designed over the planning horizon ``H = horizon.years``.  For every lever
unit started now:

* **effect** = expected staff in post attributable to the unit, averaged over the
  ends of years 1..H (persons; "horizon-average staff");
* **cost** = expected yuan paid for the unit, averaged over years 1..H (yuan per
  year).

Shortfall, coverage and the budget are all in these horizon-average terms, so a
lever that lasts (a special post, a programme graduate who stays) is credited
for its duration and a fixed-term obligation is charged only for its term.

Demand is the county table's times the horizon average of the scenario's demand
trend, ``mean_{t=1..H} (1 + g_f)^t`` (:func:`demand_trend`; 1 without a trend), and
authorized posts follow it, as in the simulator.

Status quo: ``P = staff - expected exits``, where expected exits are the year's
voluntary exits and retirements that ordinary recruitment does not replace:
``staff x (p0 + r) x (1 - recruitment.quota_share)``, with ``p0`` =
``behaviour.exit_rate_target`` of the field (township staff: lowered by any
township subsidy the scenario already pays) and ``r`` = the share reaching
``population.retirement_age`` within a year when ages are Normal(``mean_age``,
``population.age_sd``) truncated at retirement.  Lever effects are added
to ``P`` (no crowding-out of ordinary recruitment; the simulate-then-optimize
loop of ``grassroots plan`` corrects this).

Lever derivations (``p0`` = yearly exit probability, ``b`` = breach rate,
``beta`` = ``behaviour.income_coef`` per 1,000 yuan/month, ``q`` = quota_share)
------------------------------------------------------------------------------
Exit response to income (the simulator's logit, first order in persistence)::

    exit(s)  = logistic(logit(p0) - beta * s / 1000)       s in yuan/month
    g(s)     = p0 - exit(s)                                 exits avoided per person-year (concave in s)
    K_H(p)   = (1/H) sum_{t=1..H} (1 - (1-p)^t) / p         horizon-average persistence of a yearly flow

* ``special_post`` (57号 §8 township 特设岗位, outside unit totals and ratios; a post
  created now and refilled by ordinary recruitment): filled share
  ``f_t = f_{t-1}(1 - p0(1-q)) + (1 - f_{t-1}) q``, ``f_0 = 1``; effect = mean f_t;
  cost = 12 x monthly pay x effect, pay = base(grade ``posts.special_post_grade``)
  x (1 + performance_share + performance_tilt_township) + hardship allowance of
  the county's class + the existing township subsidy.  Uses one recruit.
* ``place_<programme>`` (one recruit now under the programme's obligation):
  in post at the end of year t: ``(1-b)^t`` for t <= T (term), then
  ``(1-b)^T x post_term_stay x (1-p0)^(t-T)``; effect = mean over t = 1..H.
  Cost = (subsidy - breach_penalty x b) x sum_{t<=min(T,H)} (1-b)^(t-1) / H, paid
  by the programme's payer.  Eligible where the county's region is in
  ``regions`` and the field share is positive.  Uses one recruit.
* ``senior_post`` / ``intermediate_post`` (an extra post inside the ratio cap,
  57号 §8): promotes one person (grade 9 -> 7, resp. 12 -> 10), raising pay by
  ``d`` = base difference x (1 + performance_share); effect =
  ``K_H(p0) x (g(d) + spill)`` where ``spill = p0 (1-p0) beta_promo / H`` counts
  colleagues' better promotion prospects (one extra promotion over the horizon
  shared by the eligible group; ``beta_promo = beta x wtp_promotion_2_vs_5_years
  / 1000 / PROMOTION_RATE_GAP``); cost = 12 d.
* ``directed_senior_post`` (定向评价、定向使用, 57号 §6/§8): as a senior post but for
  township staff, outside the cap, under a province total of
  ``posts.directed_senior_share`` x township posts.
* ``township_subsidy`` / ``hardship_topup`` (57号 §9; yuan/month per person): the
  township work subsidy goes to every township staff member of a county, the
  hardship top-up to every staff member of a hardship county (class >= 1) --
  by statute per person whatever the field, so each is decided **per county**
  and acts on the county's five fields.  Township staff respond to the sum of
  both, county-seat staff to the top-up alone; each field's response
  ``N_f x K_H(p0_f) x g(s)`` is cut at :data:`SUBSIDY_BREAKS` into linear
  segments (concave for every field, so the LP fills them in order).  Cost =
  12 x N yuan/year per yuan/month, N = the staff who receive it; reports split
  it over the fields by their staff.  Township staff already receiving the
  scenario's township subsidy (``pay.township_subsidy``) start from the lower
  exit rate it implies.

Supply, caps and bounds
-----------------------
* recruit supply per province x field (recruits per year, used by special posts
  and programme places): applicants left after ordinary recruitment,
  ``sum_i max(0, apv_f x (1 + hardship_tilt x class) x qual x vacancies - q x (p0+r) x staff)``,
  vacancies = ``max(0, posts - staff) + (p0 + r) x staff``, posts =
  ``posts.authorized_share_of_demand`` x demand per tier, ``qual`` = share of
  applicants above ``recruitment.entry_threshold`` relative to threshold 0.
* senior cap per county x field: current seniors + new senior posts <= (senior_cap +
  cap_uplift.senior) x posts, per tier and summed; intermediate cap likewise, a
  senior promotion freeing an intermediate post.  Headroom below 0 is clamped to 0.
* programme quota per programme x field: ``places_per_year x programmes.scale x
  field_share`` nationally, times the share of the nation's eligible township
  demand that lies in the counties optimized (as the simulator shares places); special-post quota per province x field:
  ``posts.special_posts_per_county x`` units in the province.
* per-county bounds: special posts <= :data:`SPECIAL_POST_COUNTY_MULTIPLE` x the
  per-county quota; programme places <= vacant authorized posts
  ``max(0, posts - P)``; promotions <= people in the grade below; subsidies <=
  :data:`SUBSIDY_BREAKS`\\ [-1].
* payer budgets: a county's lever costs are split by its region's
  ``budget.payer_shares``; programme subsidies go to the programme's payer.
  Payer ``q`` may spend at most ``total x share_q x (1 + PAYER_HEADROOM)``,
  ``share_q`` = the payer's shares weighted by each region's status-quo
  priority-weighted gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logit
from scipy.stats import norm

from .errors import OptimizerInputError

FIELDS = ("science", "education", "engineering", "agriculture", "health")
PAYERS = ("central", "provincial", "county")
SENSES = ("<=", ">=")

# ----------------------------------------------------------------------------- assumptions
# Module constants the scenario schema does not (yet) hold; each is an assumption,
# reported in AllocationInputs.notes and to the lead for a schema key.

#: yuan/month breakpoints of the piecewise-linear subsidy response; the last is the
#: largest top-up per person (assumption: just below the city-vs-township WTP of
#: 3,324 yuan/month, FACTS.md DCE, beyond which a subsidy is a city wage).
SUBSIDY_BREAKS = (0.0, 200.0, 500.0, 1000.0, 2000.0, 3000.0)
#: a county may take at most this multiple of the per-county special-post quota (assumption).
SPECIAL_POST_COUNTY_MULTIPLE = 3.0
#: annual promotion-rate difference equivalent to "promotion in 2 instead of 5 years"
#: (1/2 - 1/5 = 0.3 per year; assumption used to turn the DCE WTP into a utility per unit rate).
PROMOTION_RATE_GAP = 0.3
#: payer budgets exceed the gap-weighted payer shares by this margin (assumption).
PAYER_HEADROOM = 0.25
#: grades (1 = top) between which a promotion moves a person: senior posts 9 -> 7,
#: intermediate posts 12 -> 10 (assumption: middle of the lower band to the entry of the upper).
SENIOR_PROMOTION_GRADES = (9, 7)
INTERMEDIATE_PROMOTION_GRADES = (12, 10)

ASSUMPTIONS = {
    "subsidy_breaks_yuan_month": list(SUBSIDY_BREAKS),
    "special_post_county_multiple": SPECIAL_POST_COUNTY_MULTIPLE,
    "promotion_rate_gap_per_year": PROMOTION_RATE_GAP,
    "payer_headroom": PAYER_HEADROOM,
    "senior_promotion_grades": list(SENIOR_PROMOTION_GRADES),
    "intermediate_promotion_grades": list(INTERMEDIATE_PROMOTION_GRADES),
}


# ----------------------------------------------------------------------------- containers

@dataclass(frozen=True)
class Groups:
    """Resource constraints over lever columns, as sparse arrays.

    Group ``g`` reads ``sum_e[entry_group == g] entry_coef * x[entry_col] (sense) rhs``.
    ``family`` names the kind of constraint (``supply``, ``senior_cap`` ...), ``name``
    the row (``supply_62_agriculture``); the ``label_*`` arrays say what it is about
    ("" where not applicable).
    """

    family: np.ndarray
    name: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray
    label_county: np.ndarray
    label_province: np.ndarray
    label_field: np.ndarray
    entry_group: np.ndarray
    entry_col: np.ndarray
    entry_coef: np.ndarray

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> "Groups":
        """Groups from dicts: ``family, name, coefs ({col: coef}), rhs[, sense, county, province, field]``."""
        fam, nam, sen, rhs, lc, lp, lf, eg, ec, ev = ([] for _ in range(10))
        for g, r in enumerate(rows):
            fam.append(r["family"])
            nam.append(r["name"])
            sen.append(r.get("sense", "<="))
            rhs.append(float(r["rhs"]))
            lc.append(r.get("county", ""))
            lp.append(r.get("province", ""))
            lf.append(r.get("field", ""))
            for col, coef in r["coefs"].items():
                eg.append(g)
                ec.append(int(col))
                ev.append(float(coef))
        return cls(np.array(fam, dtype=object), np.array(nam, dtype=object), np.array(sen, dtype=object),
                   np.array(rhs, dtype=float), np.array(lc, dtype=object), np.array(lp, dtype=object),
                   np.array(lf, dtype=object), np.array(eg, dtype=np.int64), np.array(ec, dtype=np.int64),
                   np.array(ev, dtype=float))

    @classmethod
    def empty(cls) -> "Groups":
        return cls.from_rows([])

    @classmethod
    def concat(cls, parts: Sequence["Groups"]) -> "Groups":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        cat = lambda a: np.concatenate([getattr(p, a) for p in parts])  # noqa: E731
        return cls(cat("family"), cat("name"), cat("sense"), cat("rhs"), cat("label_county"),
                   cat("label_province"), cat("label_field"),
                   np.concatenate([p.entry_group + o for p, o in zip(parts, offsets)]),
                   cat("entry_col"), cat("entry_coef"))


@dataclass(frozen=True)
class AllocationInputs:
    """Everything the allocation model needs, as plain arrays.

    Pairs (length K, one per county x field): ``county_id, province, region, field,
    demand, baseline_staff`` (status-quo staff P), ``weight`` (priority weight).

    Lever columns (length M): ``col_lever`` (lever name), ``col_key`` (what the column
    is about, for its name: ``<county>_<field>`` or ``<county>_all`` for a county-wide
    lever), ``col_county``, ``col_cost`` (yuan/year per unit), ``col_lower``/``col_upper``
    (per-county bounds; ``inf`` = none), ``col_integer`` (a whole person or post),
    ``col_payer`` (M x 3 cost shares of central, provincial, county), ``col_unit``.
    ``effect`` (K x M, sparse): staff gained in pair k per unit of column j;
    ``cost_split`` (K x M, sparse, columns sum to 1): the share of column j's cost
    reported under pair k.  Most columns act on one pair; the subsidies act on
    every field of a county.

    ``groups``: resource constraints.  ``budget_yuan``: the fund; ``payer_budget_yuan``:
    per-payer limits (``None`` = only the total), ``payer_budget_share``: the same as
    shares of the fund (they scale with it in :meth:`with_budget`).
    """

    county_id: np.ndarray
    province: np.ndarray
    region: np.ndarray
    field: np.ndarray
    demand: np.ndarray
    baseline_staff: np.ndarray
    weight: np.ndarray
    col_lever: np.ndarray
    col_key: np.ndarray
    col_county: np.ndarray
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_integer: np.ndarray
    col_payer: np.ndarray
    col_unit: np.ndarray
    effect: sp.csc_matrix
    cost_split: sp.csc_matrix
    groups: Groups
    budget_yuan: float
    payer_budget_yuan: np.ndarray | None = None
    payer_budget_share: np.ndarray | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)

    # -- sizes
    @property
    def n_pairs(self) -> int:
        return len(self.demand)

    @property
    def n_columns(self) -> int:
        return len(self.col_cost)

    @property
    def gap(self) -> np.ndarray:
        """Status-quo gap ``demand - baseline_staff`` per pair (may be negative)."""
        return self.demand - self.baseline_staff

    def with_budget(self, budget_yuan: float) -> "AllocationInputs":
        """A copy with another fund; per-payer limits keep their shares of it."""
        pb = self.payer_budget_yuan
        if self.payer_budget_share is not None:
            pb = self.payer_budget_share * float(budget_yuan)
        return replace(self, budget_yuan=float(budget_yuan), payer_budget_yuan=pb)

    def with_effects(self, effect) -> "AllocationInputs":
        """A copy with another effect matrix (K x M, same meaning as :attr:`effect`).

        Used by ``grassroots plan`` to optimize with lever effects re-estimated by simulation.
        """
        eff = sp.csc_matrix(effect, dtype=float)
        if eff.shape != self.effect.shape:
            raise OptimizerInputError([f"effect: shape {eff.shape} (allowed: {self.effect.shape}, pairs x columns)"])
        if eff.nnz and not np.all(np.isfinite(eff.data)):
            raise OptimizerInputError(["effect: values must be finite"])
        return replace(self, effect=eff)

    # -- construction for tests and scripts
    @classmethod
    def build(cls, pairs: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, Any]],
              groups: Sequence[Mapping[str, Any]] = (), budget_yuan: float = 0.0,
              payer_budget_yuan: Sequence[float] | None = None, notes: Mapping | None = None) -> "AllocationInputs":
        """A validated instance from plain dicts (hand-built test cases).

        ``pairs``: ``county_id, field, demand, baseline_staff[, province, region, weight]``.
        ``columns``: ``lever, cost`` and either ``pair`` (index) with ``effect``, or ``pairs``
        (``{pair: effect}``) with an optional ``split`` (``{pair: cost share}``, default equal);
        optional ``lower``, ``upper``, ``integer``, ``payer`` (3 shares; default all central), ``unit``.
        ``groups``: see :meth:`Groups.from_rows`.
        """
        s = lambda rows, k, d: np.array([r.get(k, d) for r in rows], dtype=object)  # noqa: E731
        f = lambda rows, k, d=None: np.array([float(r[k]) if d is None else float(r.get(k, d)) for r in rows], dtype=float)  # noqa: E731
        er, ec, ev, sr, sv = [], [], [], [], []
        for j, col in enumerate(columns):
            eff = col["pairs"] if "pairs" in col else {col["pair"]: col.get("effect", 0.0)}
            split = col.get("split") or {k: 1.0 / len(eff) for k in eff}
            for k, e in eff.items():
                er.append(int(k)); ec.append(j); ev.append(float(e))
            for k, sh in split.items():
                sr.append((int(k), j)); sv.append(float(sh))
        K, M = len(pairs), len(columns)
        key = lambda k: f"{pairs[k]['county_id']}_{pairs[k].get('field', 'education')}"  # noqa: E731
        col_key, col_county = [], []
        for col in columns:
            ks = list(col["pairs"]) if "pairs" in col else [col["pair"]]
            col_key.append(key(ks[0]) if len(ks) == 1 else f"{pairs[ks[0]]['county_id']}_all")
            col_county.append(pairs[ks[0]]["county_id"])
        payer = np.array([r.get("payer", (1.0, 0.0, 0.0)) for r in columns], dtype=float).reshape(M, 3)
        inp = cls(
            county_id=s(pairs, "county_id", ""), province=s(pairs, "province", "00"), region=s(pairs, "region", "west"),
            field=s(pairs, "field", "education"), demand=f(pairs, "demand"), baseline_staff=f(pairs, "baseline_staff"),
            weight=f(pairs, "weight", 1.0),
            col_lever=s(columns, "lever", ""), col_key=np.array(col_key, dtype=object), col_county=np.array(col_county, dtype=object),
            col_cost=f(columns, "cost"), col_lower=f(columns, "lower", 0.0), col_upper=f(columns, "upper", math.inf),
            col_integer=np.array([bool(r.get("integer", False)) for r in columns], dtype=bool),
            col_payer=payer, col_unit=s(columns, "unit", "units"),
            effect=sp.csc_matrix((ev, (er, ec)), shape=(K, M)),
            cost_split=sp.csc_matrix((sv, ([r for r, _ in sr], [c for _, c in sr])), shape=(K, M)),
            groups=Groups.from_rows(groups), budget_yuan=float(budget_yuan),
            payer_budget_yuan=None if payer_budget_yuan is None else np.asarray(payer_budget_yuan, dtype=float),
            notes=dict(notes or {}),
        )
        inp.validate()
        return inp

    # -- validation
    def validate(self) -> None:
        """Raise :class:`OptimizerInputError` listing every inconsistency (one line each)."""
        p: list[str] = []
        K, M = len(self.demand), len(self.col_cost)
        for name in ("county_id", "province", "region", "field", "baseline_staff", "weight"):
            if len(getattr(self, name)) != K:
                p.append(f"inputs.{name}: length {len(getattr(self, name))} (allowed: one value per pair, {K})")
        for name in ("col_lever", "col_key", "col_county", "col_lower", "col_upper", "col_integer", "col_unit"):
            if len(getattr(self, name)) != M:
                p.append(f"inputs.{name}: length {len(getattr(self, name))} (allowed: one value per column, {M})")
        if self.col_payer.shape != (M, 3):
            p.append(f"inputs.col_payer: shape {self.col_payer.shape} (allowed: ({M}, 3) shares of {', '.join(PAYERS)})")
        for name in ("effect", "cost_split"):
            if getattr(self, name).shape != (K, M):
                p.append(f"inputs.{name}: shape {getattr(self, name).shape} (allowed: ({K}, {M}), pairs x columns)")
        if p:
            raise OptimizerInputError(p)

        def finite(name, arr, lo=None):
            arr = np.asarray(arr, dtype=float)
            bad = np.flatnonzero(~np.isfinite(arr) | ((arr < lo) if lo is not None else False))
            for i in bad[:5]:
                p.append(f"inputs.{name}[{i}]: {arr[i]!r} (allowed: a finite number{'' if lo is None else f' >= {lo}'})")
            if len(bad) > 5:
                p.append(f"inputs.{name}: {len(bad) - 5} more values out of range")

        finite("demand", self.demand, 0.0)
        finite("baseline_staff", self.baseline_staff)
        finite("weight", self.weight, 0.0)
        finite("col_cost", self.col_cost)
        finite("effect", self.effect.data)
        finite("cost_split", self.cost_split.data, 0.0)
        finite("col_lower", self.col_lower)
        finite("col_payer", self.col_payer, 0.0)
        up = np.asarray(self.col_upper, dtype=float)
        bad = np.flatnonzero(np.isnan(up) | (up < self.col_lower))
        for i in bad[:5]:
            p.append(f"inputs.col_upper[{i}]: {up[i]!r} is below the lower bound {self.col_lower[i]!r} (allowed: >= lower, or inf)")
        if M:
            s = self.col_payer.sum(axis=1)
            bad = np.flatnonzero(np.abs(s - 1.0) > 1e-6)
            for i in bad[:5]:
                p.append(f"inputs.col_payer[{i}]: shares sum to {s[i]:.6g} (allowed: they must sum to 1)")
            cs = np.asarray(self.cost_split.sum(axis=0)).ravel()
            bad = np.flatnonzero(np.abs(cs - 1.0) > 1e-6)
            for i in bad[:5]:
                p.append(f"inputs.cost_split[:, {i}]: shares sum to {cs[i]:.6g} (allowed: each column's shares sum to 1)")
        if not (math.isfinite(self.budget_yuan) and self.budget_yuan >= 0):
            p.append(f"budget: {self.budget_yuan!r} (allowed: a number >= 0, yuan per year)")
        if self.payer_budget_yuan is not None:
            pb = np.asarray(self.payer_budget_yuan, dtype=float)
            if pb.shape != (3,) or not np.all(np.isfinite(pb)) or np.any(pb < 0):
                p.append(f"payer_budget_yuan: {pb.tolist()} (allowed: 3 numbers >= 0 for {', '.join(PAYERS)})")
        g = self.groups
        G = len(g)
        for name in ("family", "sense", "rhs", "label_county", "label_province", "label_field"):
            if len(getattr(g, name)) != G:
                p.append(f"groups.{name}: length {len(getattr(g, name))} (allowed: one per group, {G})")
        if len(g.entry_col) and (g.entry_col.min() < 0 or g.entry_col.max() >= M):
            p.append(f"groups.entry_col: column index out of range (allowed: 0..{M - 1})")
        if len(g.entry_group) and (g.entry_group.min() < 0 or g.entry_group.max() >= G):
            p.append(f"groups.entry_group: group index out of range (allowed: 0..{G - 1})")
        for i, sense in enumerate(g.sense):
            if sense not in SENSES:
                p.append(f"groups.sense[{i}] ({g.name[i]}): {sense!r} (allowed: {', '.join(SENSES)})")
        finite("groups.rhs", g.rhs)
        finite("groups.entry_coef", g.entry_coef)
        names = list(g.name)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})[:3]
            p.append(f"groups.name: duplicate row names {dup} (allowed: unique names)")
        if p:
            raise OptimizerInputError(p)


# ----------------------------------------------------------------------------- lever response maths

def exits_avoided(s, p0, beta):
    """Exits avoided per person-year at a top-up of ``s`` yuan/month: ``p0 - logistic(logit(p0) - beta s/1000)``."""
    p0 = np.clip(np.asarray(p0, dtype=float), 1e-9, 1 - 1e-9)
    return p0 - expit(logit(p0) - beta * np.asarray(s, dtype=float) / 1000.0)


def demand_trend(sc, horizon: int) -> np.ndarray:
    """Horizon-average demand per field relative to the county table's [F]: ``mean_{t=1..H} (1 + g_f)^t``.

    ``g_f`` = ``demand.growth_per_year`` (share per year; the simulator's demand in year
    t is the table's x ``(1 + g_f)^t``), averaged like every other quantity here over
    the ends of years 1..H.  Exactly 1 without a trend.
    """
    g = np.array([sc.demand.growth_per_year[f] for f in FIELDS], dtype=float)
    if not g.any():
        return np.ones(len(FIELDS))
    t = np.arange(1, int(horizon) + 1, dtype=float)
    return ((1.0 + g)[None, :] ** t[:, None]).mean(axis=0)


def persistence(p, horizon: int):
    """``K_H(p)``: horizon-average number of people in post per yearly avoided exit (see module doc)."""
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1.0)
    t = np.arange(1, horizon + 1, dtype=float)
    return np.mean((1.0 - (1.0 - p[..., None]) ** t) / p[..., None], axis=-1)


def programme_place(p0, breach: float, term: float, stay: float, horizon: int, subsidy: float, penalty: float):
    """(effect, cost) of one programme recruit: horizon-average staff in post and yuan/year."""
    p0 = np.asarray(p0, dtype=float)
    T = int(round(term))
    t = np.arange(1, horizon + 1, dtype=float)
    in_term = (1 - breach) ** np.minimum(t, T)
    after = (1 - breach) ** T * stay * (1 - p0[..., None]) ** np.maximum(t - T, 0)
    staff = np.where(t <= T, in_term, after)
    effect = staff.mean(axis=-1)
    years_paid = np.arange(1, min(T, horizon) + 1, dtype=float)
    alive = (1 - breach) ** (years_paid - 1)
    cost = max(0.0, float(((subsidy - penalty * breach) * alive).sum()) / horizon)
    return effect, np.full_like(effect, cost)


def filled_share(p0, refill: float, horizon: int):
    """Horizon-average share of time a created post is filled when vacancies are refilled with probability ``refill`` a year."""
    p0 = np.asarray(p0, dtype=float)
    f = np.ones_like(p0)
    acc = np.zeros_like(p0)
    for _ in range(horizon):
        f = f * (1 - p0 * (1 - refill)) + (1 - f) * refill
        acc += f
    return acc / horizon


def retirement_share(mean_age, age_sd: float, retirement_age: float):
    """Share of staff reaching retirement within a year, ages ~ Normal(mean, sd) truncated at retirement."""
    hi = norm.cdf((retirement_age - np.asarray(mean_age, dtype=float)) / age_sd)
    lo = norm.cdf((retirement_age - 1 - np.asarray(mean_age, dtype=float)) / age_sd)
    return np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-12), 0.0)


# ----------------------------------------------------------------------------- from a scenario

_LEVER_UNITS = {
    "special_post": "posts created",
    "senior_post": "posts added",
    "intermediate_post": "posts added",
    "directed_senior_post": "posts added",
    "township_subsidy": "yuan/month per township staff member",
    "hardship_topup": "yuan/month per staff member",
}


def lever_unit(lever: str) -> str:
    return "recruits placed" if lever.startswith("place_") else _LEVER_UNITS.get(lever, "units")


def priority_weight(table, opt) -> np.ndarray:
    """1 + the scenario's extra weights for hardship class and the four area flags."""
    return (1.0 + opt.weight_per_hardship_class * table["hardship_class"].to_numpy(float)
            + opt.weight_formerly_poor * table["formerly_poor"].to_numpy(float)
            + opt.weight_border * table["border"].to_numpy(float)
            + opt.weight_ethnic_minority * table["ethnic_minority"].to_numpy(float)
            + opt.weight_old_revolutionary * table["old_revolutionary"].to_numpy(float))


def from_scenario(sc, table=None, provinces: Sequence[str] | None = None,
                  budget_yuan: float | None = None) -> AllocationInputs:
    """Derive the allocation inputs of a scenario (see the module docstring for every formula).

    ``table``: a county table (default ``scenarios.county_table`` of ``provinces``, else of the
    scenario's ``region.provinces``, else national; ``region.counties`` filters it).
    ``budget_yuan`` overrides ``budget.total_yuan``.
    """
    import scenarios

    problems = []
    if budget_yuan is not None and not (math.isfinite(budget_yuan) and budget_yuan >= 0):
        problems.append(f"budget: {budget_yuan!r} (allowed: a number >= 0, yuan per year)")
    if problems:
        raise OptimizerInputError(problems)
    if table is None:
        provs = list(provinces) if provinces else (list(sc.region.provinces) or None)
        table = scenarios.county_table(provinces=provs)
    elif provinces:
        table = table[table["province"].isin(list(provinces))]
    if sc.region.counties:
        table = table[table["county_id"].isin(list(sc.region.counties))]
    table = table.reset_index(drop=True)
    if len(table) == 0:
        raise OptimizerInputError(["provinces: no county-level units selected (allowed: GB/T 2260 codes with units in the county table)"])

    H = int(sc.horizon.years)
    beh, pay, posts, rec, opt = sc.behaviour, sc.pay, sc.posts, sc.recruitment, sc.optimizer
    beta = float(beh.income_coef)
    q = float(rec.quota_share)
    base = np.asarray(pay.base_by_grade, dtype=float)
    perf = float(pay.performance_share)
    n = len(table)
    nf = len(FIELDS)

    cls = table["hardship_class"].to_numpy(int)
    remote = table["remoteness"].to_numpy(float)
    townships = table["townships"].to_numpy(float)
    allowance = np.where(cls >= 1, np.asarray(pay.hardship_allowance_by_class, dtype=float)[np.clip(cls - 1, 0, 5)], 0.0)
    s0 = (pay.township_subsidy_by_band[0] + pay.township_subsidy_remote_extra * remote) if pay.township_subsidy else np.zeros(n)
    w_county = priority_weight(table, opt)

    # per-pair arrays, shape (n, nf), field-major flattening below
    def col(pattern):
        return np.column_stack([table[pattern.format(f=f)].to_numpy(float) for f in FIELDS])

    D, Dc, Dt = col("demand_{f}"), col("demand_{f}_county"), col("demand_{f}_township")
    trend = demand_trend(sc, H)
    D, Dc, Dt = D * trend, Dc * trend, Dt * trend
    S, Sc, St = col("staff_{f}"), col("staff_{f}_county"), col("staff_{f}_township")
    sen_share, int_share, age = col("senior_share_{f}"), col("intermediate_share_{f}"), col("mean_age_{f}")
    p_target = np.array([beh.exit_rate_target[f] for f in FIELDS])
    p_cty = np.broadcast_to(p_target, (n, nf)).copy()
    p_twp = exits_after(p_target[None, :], beta, s0[:, None])
    p_pair = np.where(S > 0, (Sc * p_cty + St * p_twp) / np.maximum(S, 1e-12), p_cty)
    r = retirement_share(age, sc.population.age_sd, sc.population.retirement_age)
    exits = S * (p_pair + r) * (1.0 - q)
    P = S - exits
    A_cty = posts.authorized_share_of_demand["county"] * Dc
    A_twp = posts.authorized_share_of_demand["township"] * Dt
    A = A_cty + A_twp
    vac = np.maximum(0.0, A - S) + (p_pair + r) * S

    K = n * nf
    flat = lambda a: np.asarray(a).reshape(K)  # noqa: E731  (county-major: k = i*nf + j)
    pair_county = np.repeat(np.arange(n), nf)
    pair_field = np.tile(np.arange(nf), n)
    cid = table["county_id"].to_numpy(object)
    prov = table["province"].to_numpy(object)
    reg = table["region"].to_numpy(object)
    fields_arr = np.array(FIELDS, dtype=object)

    region_payer = {rg: np.array([sc.budget.payer_shares[rg][p] for p in PAYERS]) for rg in sc.budget.payer_shares}
    pay_region = np.array([region_payer[rg] for rg in reg])  # (n, 3)
    cb = _ColumnBuilder(cid, fields_arr, pair_county, pair_field, nf)
    groups: list[Groups] = []
    supply_cols: list[np.ndarray] = []
    k_all = np.arange(K)

    # special posts ---------------------------------------------------------------
    spc = np.array([posts.special_posts_per_county[f] for f in FIELDS])
    grade = int(posts.special_post_grade)
    sp_pay = base[grade - 1] * (1 + perf + pay.performance_tilt_township) + allowance + s0  # (n,) yuan/month
    sp_fill = flat(filled_share(p_twp, q, H))
    ok = flat((spc[None, :] > 0) & (townships[:, None] > 0) & np.ones((n, nf), bool))
    k_sp = np.flatnonzero(ok)
    i_sp, j_sp = pair_county[k_sp], pair_field[k_sp]
    c_sp = cb.add_pairs(k_sp, "special_post", 12.0 * sp_pay[i_sp] * sp_fill[k_sp], sp_fill[k_sp],
                        np.ceil(SPECIAL_POST_COUNTY_MULTIPLE * spc[j_sp]), True, pay_region[i_sp])
    supply_cols.append(c_sp)
    if len(c_sp):
        key = prov[i_sp] + "|" + fields_arr[j_sp]
        groups.append(_grouped("special_post_quota", key, c_sp, np.ones(len(c_sp)),
                               lambda k: _quota_rhs(k, prov, spc), prov[i_sp], fields_arr[j_sp]))

    # programme places -----------------------------------------------------------------
    prog_cols = []
    vacant_posts = flat(np.maximum(0.0, A - P))
    for name in sc.programmes.__dataclass_fields__:
        if name == "scale":
            continue
        pg = getattr(sc.programmes, name)
        places = pg.places_per_year * sc.programmes.scale
        if places <= 0:
            continue
        shares = np.array([pg.field_shares[f] for f in FIELDS]) * _scope_share(table, pg.regions)
        elig = np.isin(reg, list(pg.regions))[pair_county] & (shares[pair_field] > 0) & (vacant_posts > 0)
        k_p = np.flatnonzero(elig)
        if len(k_p) == 0:
            continue
        eff, cost = programme_place(flat(p_pair)[k_p], beh.breach_rate, pg.term_years, pg.post_term_stay, H,
                                    pg.subsidy_yuan_per_year, pg.breach_penalty_yuan)
        payer_row = np.array([1.0 if p == pg.payer else 0.0 for p in PAYERS])
        c_p = cb.add_pairs(k_p, f"place_{name}", cost, eff, math.inf, True, np.tile(payer_row, (len(k_p), 1)))
        supply_cols.append(c_p)
        prog_cols.append(c_p)
        jf = pair_field[k_p]
        groups.append(_grouped("programme_quota", np.array([f"{name}|{FIELDS[j]}" for j in jf], dtype=object), c_p,
                               np.ones(len(c_p)), lambda k, places=places, shares=shares: places * shares[FIELDS.index(k.split("|")[1])],
                               np.full(len(c_p), "", object), fields_arr[jf], name_prefix="quota"))

    # promotions -----------------------------------------------------------------------
    beta_promo = beta * beh.wtp_promotion_2_vs_5_years / 1000.0 / PROMOTION_RATE_GAP
    d_sen = (base[SENIOR_PROMOTION_GRADES[1] - 1] - base[SENIOR_PROMOTION_GRADES[0] - 1]) * (1 + perf)
    d_int = (base[INTERMEDIATE_PROMOTION_GRADES[1] - 1] - base[INTERMEDIATE_PROMOTION_GRADES[0] - 1]) * (1 + perf)

    def promo_effect(p, d):
        return persistence(p, H) * (exits_avoided(d, p, beta) + p * (1 - p) * beta_promo / H)

    up_sen, up_int = posts.cap_uplift["senior"], posts.cap_uplift["intermediate"]
    cap_sen = sum((np.array([posts.senior_cap[t][f] for f in FIELDS])[None, :] + up_sen) * At
                  for t, At in (("county", A_cty), ("township", A_twp)))
    cap_int = sum((np.array([posts.intermediate_cap[t][f] for f in FIELDS])[None, :] + up_int) * At
                  for t, At in (("county", A_cty), ("township", A_twp)))
    n_sen, n_int = sen_share * S, int_share * S
    n_jun = np.maximum(0.0, S - n_sen - n_int)
    head_sen = flat(np.maximum(0.0, cap_sen - n_sen))
    head_int = flat(np.maximum(0.0, cap_int - n_int))
    k_s = k_all[(head_sen > 0) & (flat(np.floor(n_int)) > 0)]
    c_sen = cb.add_pairs(k_s, "senior_post", 12 * d_sen, promo_effect(flat(p_pair)[k_s], d_sen),
                         flat(np.floor(n_int))[k_s], True, pay_region[pair_county[k_s]])
    k_i = k_all[(head_int > 0) & (flat(np.floor(n_jun)) > 0)]
    c_int = cb.add_pairs(k_i, "intermediate_post", 12 * d_int, promo_effect(flat(p_pair)[k_i], d_int),
                         flat(np.floor(n_jun))[k_i], True, pay_region[pair_county[k_i]])
    if len(c_sen):
        groups.append(cb.pair_rows("senior_cap", k_s, np.arange(len(k_s)), c_sen, np.ones(len(c_sen)), head_sen[k_s], prov))
    # intermediate cap: new intermediate posts - new senior posts <= headroom (a promotion to senior frees a post)
    k_ic = np.union1d(k_s, k_i)
    if len(k_ic):
        pos = np.searchsorted(k_ic, np.concatenate([k_i, k_s]))
        groups.append(cb.pair_rows("intermediate_cap", k_ic, pos, np.concatenate([c_int, c_sen]),
                                   np.concatenate([np.ones(len(c_int)), -np.ones(len(c_sen))]), head_int[k_ic], prov))

    # directed senior posts (township, outside the cap, province total) --------------------
    if posts.directed_senior_share > 0:
        n_int_twp = flat(np.floor(int_share * St))
        k_d = k_all[n_int_twp > 0]
        c_dir = cb.add_pairs(k_d, "directed_senior_post", 12 * d_sen, promo_effect(flat(p_twp)[k_d], d_sen),
                             n_int_twp[k_d], True, pay_region[pair_county[k_d]])
        if len(c_dir):
            tot = {p: posts.directed_senior_share * A_twp[prov == p].sum() for p in np.unique(prov)}
            key = prov[pair_county[k_d]]
            groups.append(_grouped("directed_total", key, c_dir, np.ones(len(c_dir)), lambda k: tot[k],
                                   key, np.full(len(c_dir), "", object)))

    # subsidies: county-wide, piecewise-linear segments ---------------------------------------
    # The township work subsidy and the hardship allowance are paid per person to all staff of
    # a county's township units (resp. of a hardship county) whatever their field (57号 §9), so
    # a top-up is decided per county; each segment acts on the county's five shortfall rows.
    brk = np.asarray(SUBSIDY_BREAKS)
    width = np.diff(brk)
    Kt, Kc = persistence(p_twp, H), persistence(p_cty, H)  # (n, nf)
    twp_cols, cty_cols = [], []
    i_t = np.flatnonzero(St.sum(axis=1) > 0)
    i_c = np.flatnonzero((Sc.sum(axis=1) > 0) & (cls >= 1))
    for j in range(len(width)):
        g_t = (exits_avoided(brk[j + 1], p_twp, beta) - exits_avoided(brk[j], p_twp, beta)) / width[j]
        twp_cols.append(cb.add_counties(i_t, "township_subsidy", 12 * St[i_t].sum(axis=1), (St * Kt * g_t)[i_t],
                                        St[i_t], width[j], pay_region[i_t]))
        g_c = (exits_avoided(brk[j + 1], p_cty, beta) - exits_avoided(brk[j], p_cty, beta)) / width[j]
        cty_cols.append(cb.add_counties(i_c, "hardship_topup", 12 * Sc[i_c].sum(axis=1), (Sc * Kc * g_c)[i_c],
                                        Sc[i_c], width[j], pay_region[i_c]))
    # link: the top-up reaches township staff too, so the township total is at least the top-up
    i_link = np.intersect1d(i_c, i_t)
    if len(i_link) and len(cty_cols[0]):
        pc_, pt_ = np.searchsorted(i_c, i_link), np.searchsorted(i_t, i_link)
        gi = np.arange(len(i_link))
        nw = len(width)
        eg = np.concatenate([np.tile(gi, nw), np.tile(gi, nw)])
        ec = np.concatenate([np.concatenate([c[pc_] for c in cty_cols]), np.concatenate([c[pt_] for c in twp_cols])])
        ev = np.concatenate([np.ones(len(gi) * nw), -np.ones(len(gi) * nw)])
        groups.append(Groups(family=np.full(len(gi), "subsidy_link", object),
                             name=np.array([f"subsidy_link_{c}" for c in cid[i_link]], dtype=object),
                             sense=np.full(len(gi), "<=", object), rhs=np.zeros(len(gi)),
                             label_county=cid[i_link].astype(object), label_province=prov[i_link].astype(object),
                             label_field=np.full(len(gi), "", object), entry_group=eg.astype(np.int64),
                             entry_col=ec.astype(np.int64), entry_coef=ev))

    # programme places per county x field: at most the vacant authorized posts ------------------
    if prog_cols:
        allp = np.concatenate(prog_cols)
        kp = cb.home_pair(allp)
        k_u, inv = np.unique(kp, return_inverse=True)
        groups.append(cb.pair_rows("county_bound", k_u, inv.astype(np.int64), allp, np.ones(len(allp)),
                                   vacant_posts[k_u], prov, name_prefix="places_bound"))

    # recruit supply per province x field --------------------------------------------------
    apv = np.array([rec.applicants_per_vacancy[f] for f in FIELDS])
    mu = rec.recruit_skill_mean
    qual = (1 - norm.cdf(rec.entry_threshold - mu)) / max(1e-12, 1 - norm.cdf(-mu))
    pool = apv[None, :] * (1 + rec.hardship_tilt * cls[:, None]) * qual * vac
    spare = np.maximum(0.0, pool - q * (p_pair + r) * S)
    sup = np.concatenate(supply_cols) if supply_cols else np.zeros(0, np.int64)
    if len(sup):
        ks = cb.home_pair(sup)
        key = prov[pair_county[ks]] + "|" + fields_arr[pair_field[ks]]
        spare_pf = {f"{p_}|{f}": float(spare[prov == p_, j].sum()) for p_ in np.unique(prov) for j, f in enumerate(FIELDS)}
        groups.append(_grouped("supply", key, sup, np.ones(len(sup)), lambda k: spare_pf[k],
                               prov[pair_county[ks]], fields_arr[pair_field[ks]]))

    # payer budgets ------------------------------------------------------------------------
    gap_w = flat(w_county[:, None] * np.maximum(0.0, D - P))
    region_gap = {rg: gap_w[reg[pair_county] == rg].sum() for rg in region_payer}
    tot_gap = sum(region_gap.values())
    if tot_gap > 0:
        share = sum(region_payer[rg] * region_gap[rg] / tot_gap for rg in region_payer)
    else:
        share = np.mean([region_payer[rg] for rg in region_payer], axis=0)
    payer_share = share * (1 + PAYER_HEADROOM)
    budget = float(sc.budget.total_yuan if budget_yuan is None else budget_yuan)
    notes = {
        "horizon_years": H,
        "accounting": "horizon-average staff (persons) and horizon-average cost (yuan/year); see optimizer.inputs",
        "assumptions": dict(ASSUMPTIONS),
        "payer_budget_share": dict(zip(PAYERS, payer_share.round(6).tolist())),
        "promotion_pay_rise_yuan_month": {"senior": d_sen, "intermediate": d_int},
        "special_post_grade": grade,
        "status_quo": {"demand": float(D.sum()), "staff": float(S.sum()), "expected_exits": float(exits.sum()),
                       "baseline_staff": float(P.sum())},
    }
    cols = cb.finish(K)
    inp = AllocationInputs(
        county_id=cid[pair_county], province=prov[pair_county], region=reg[pair_county], field=fields_arr[pair_field],
        demand=flat(D), baseline_staff=flat(P), weight=w_county[pair_county], groups=Groups.concat(groups),
        budget_yuan=budget, payer_budget_yuan=payer_share * budget, payer_budget_share=payer_share, notes=notes, **cols,
    )
    inp.validate()
    return inp


class _ColumnBuilder:
    """Collects lever columns: per-pair columns (one effect) and county-wide ones (one effect per field)."""

    def __init__(self, cid, fields_arr, pair_county, pair_field, nf):
        self.cid, self.fields_arr, self.pc, self.pf, self.nf = cid, fields_arr, pair_county, pair_field, nf
        self.m = 0
        self.parts: dict[str, list] = {k: [] for k in ("lever", "key", "county", "cost", "upper", "integer", "payer", "home")}
        self.er, self.ec, self.ev, self.sv = [], [], [], []

    def _common(self, m, lever, cost, upper, integer, payer):
        start = self.m
        self.parts["lever"].append(np.full(m, lever, dtype=object))
        self.parts["cost"].append(np.broadcast_to(np.asarray(cost, float), (m,)).copy())
        self.parts["upper"].append(np.broadcast_to(np.asarray(upper, float), (m,)).copy())
        self.parts["integer"].append(np.full(m, integer, dtype=bool))
        self.parts["payer"].append(np.asarray(payer, float).reshape(m, 3))
        self.m += m
        return np.arange(start, start + m)

    def add_pairs(self, pairs, lever, cost, effect, upper, integer, payer) -> np.ndarray:
        """One column per pair in ``pairs``."""
        pairs = np.asarray(pairs, dtype=np.int64)
        m = len(pairs)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        idx = self._common(m, lever, cost, upper, integer, payer)
        self.parts["key"].append(np.array([f"{c}_{f}" for c, f in zip(self.cid[self.pc[pairs]], self.fields_arr[self.pf[pairs]])], dtype=object))
        self.parts["county"].append(self.cid[self.pc[pairs]])
        self.parts["home"].append(pairs)
        self.er.append(pairs); self.ec.append(idx)
        self.ev.append(np.broadcast_to(np.asarray(effect, float), (m,)).copy()); self.sv.append(np.ones(m))
        return idx

    def add_counties(self, counties, lever, cost, effect, split_weight, upper, payer) -> np.ndarray:
        """One column per county in ``counties``, acting on each of its fields (``effect``, (c, nf))."""
        counties = np.asarray(counties, dtype=np.int64)
        m = len(counties)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        idx = self._common(m, lever, cost, upper, False, payer)
        self.parts["key"].append(np.array([f"{c}_all" for c in self.cid[counties]], dtype=object))
        self.parts["county"].append(self.cid[counties])
        self.parts["home"].append(np.full(m, -1, dtype=np.int64))
        wsum = split_weight.sum(axis=1, keepdims=True)
        share = np.where(wsum > 0, split_weight / np.where(wsum > 0, wsum, 1.0), 1.0 / self.nf)
        pairs = counties[:, None] * self.nf + np.arange(self.nf)[None, :]
        keep = (np.asarray(effect) != 0) | (share != 0)
        self.er.append(pairs[keep]); self.ec.append(np.broadcast_to(idx[:, None], pairs.shape)[keep])
        self.ev.append(np.asarray(effect, float)[keep]); self.sv.append(share[keep])
        return idx

    def home_pair(self, cols) -> np.ndarray:
        return np.concatenate(self.parts["home"])[cols]

    def pair_rows(self, family, pairs, entry_group, entry_col, entry_coef, rhs, prov, name_prefix=None) -> Groups:
        """One ``<=`` row per pair in ``pairs`` (named ``<prefix>_<county>_<field>``)."""
        pairs = np.asarray(pairs, dtype=np.int64)
        c, f = self.cid[self.pc[pairs]], self.fields_arr[self.pf[pairs]]
        prefix = name_prefix or family
        return Groups(family=np.full(len(pairs), family, object),
                      name=np.array([f"{prefix}_{a}_{b}" for a, b in zip(c, f)], dtype=object),
                      sense=np.full(len(pairs), "<=", object), rhs=np.asarray(rhs, float), label_county=c.astype(object),
                      label_province=prov[self.pc[pairs]].astype(object), label_field=f.astype(object),
                      entry_group=np.asarray(entry_group, np.int64), entry_col=np.asarray(entry_col, np.int64),
                      entry_coef=np.asarray(entry_coef, float))

    def finish(self, K) -> dict:
        cat = lambda k, dt: np.concatenate(self.parts[k]) if self.parts[k] else np.zeros(0, dtype=dt)  # noqa: E731
        M = self.m
        lever = cat("lever", object)
        er, ec = np.concatenate(self.er), np.concatenate(self.ec)
        return dict(
            col_lever=lever, col_key=cat("key", object), col_county=cat("county", object), col_cost=cat("cost", float),
            col_lower=np.zeros(M), col_upper=cat("upper", float), col_integer=cat("integer", bool).astype(bool),
            col_payer=np.concatenate(self.parts["payer"]) if self.parts["payer"] else np.zeros((0, 3)),
            col_unit=np.array([lever_unit(lv) for lv in lever], dtype=object),
            effect=sp.csc_matrix((np.concatenate(self.ev), (er, ec)), shape=(K, M)),
            cost_split=sp.csc_matrix((np.concatenate(self.sv), (er, ec)), shape=(K, M)),
        )


def exits_after(p0, beta, s):
    """Exit probability after a top-up of ``s`` yuan/month."""
    p0 = np.clip(np.asarray(p0, dtype=float), 1e-9, 1 - 1e-9)
    return expit(logit(p0) - beta * np.asarray(s, dtype=float) / 1000.0)


# ----------------------------------------------------------------------------- group helpers

def _scope_share(table, regions) -> np.ndarray:
    """Share of the nation's eligible township demand per field that lies in ``table`` [F].

    National programme places are shared among counties by township demand in
    the programme's regions (as the simulator does), so a run on some provinces
    gets their share of the national quota, not all of it.  A user table that is
    not part of the bundled national table is treated as the nation (share 1).
    """
    import scenarios
    nat = scenarios.county_table()
    if not set(table["county_id"].astype(str)).issubset(set(nat["county_id"].astype(str))):
        return np.ones(len(FIELDS))
    regions = list(regions)
    out = np.zeros(len(FIELDS))
    for j, f in enumerate(FIELDS):
        col = f"demand_{f}_township"
        whole = float(nat.loc[nat["region"].isin(regions), col].sum())
        part = float(table.loc[table["region"].isin(regions), col].sum())
        out[j] = part / whole if whole > 0 else 0.0
    return out


def _quota_rhs(key: str, prov: np.ndarray, spc: np.ndarray) -> float:
    p, f = key.split("|")
    return float(spc[FIELDS.index(f)] * np.sum(prov == p))


def _grouped(family, keys, cols, coefs, rhs_of, label_province, label_field, name_prefix=None) -> Groups:
    """One ``<=`` row per distinct key: sum of the given columns <= rhs_of(key)."""
    uk, inv = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
    first = np.zeros(len(uk), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    prefix = name_prefix or family
    names = np.array([f"{prefix}_{k.replace('|', '_')}" for k in uk], dtype=object)
    return Groups(
        family=np.full(len(uk), family, object), name=names, sense=np.full(len(uk), "<=", object),
        rhs=np.array([rhs_of(k) for k in uk], dtype=float), label_county=np.full(len(uk), "", object),
        label_province=np.asarray(label_province, dtype=object)[first], label_field=np.asarray(label_field, dtype=object)[first],
        entry_group=inv.astype(np.int64), entry_col=np.asarray(cols, np.int64), entry_coef=np.asarray(coefs, float))


__all__ = ["AllocationInputs", "Groups", "from_scenario", "exits_avoided", "exits_after", "persistence",
           "programme_place", "filled_share", "retirement_share", "priority_weight", "lever_unit",
           "FIELDS", "PAYERS", "ASSUMPTIONS", "SUBSIDY_BREAKS"]
