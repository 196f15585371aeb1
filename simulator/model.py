"""The talent-flow model: a ``mesa.Model`` of county bureaus over a structure of arrays of professionals.

Agents and state
----------------
* The Mesa agents are the county personnel bureaus (``bureau.CountyBureau``),
  one per county-level unit; they hold their county's institutional state
  (authorized posts, cap counts, directed and special posts, carried
  fractions of quotas and programme places) and take the institutional
  decisions (``plan_posts``, ``plan_recruitment``), called with
  ``model.agents.do``.  A Python call per bureau costs about 30-60
  microseconds a year, which is 10-20 % of a province-sized run and more for
  the national table, so with more than ``AGENT_LOOP_MAX_COUNTIES`` counties
  (``bureau_mode="auto"``, the default) the bureaus keep their state and
  rules but the model applies the very same rule functions to all bureaus'
  rows at once (``bureau_mode="batch"``); results are identical either way
  (tested).
* Professionals are positions in the arrays of ``population.Staff`` (field,
  county, tier, grade, title, age, years served, years at title and grade,
  skill, contract, obligation, programme, entry channel, remote township).
  Decisions about them are vectorised over all professionals.

Step order (one step = one calendar year; ``year = start_year + t``)
--------------------------------------------------------------------
0. ageing (age, years served, years at title/grade +1; obligation -1) and the
   bureaus' post plan (caps with uplift and the directed-post total, planned
   in year 1 and kept since their inputs do not change; new special posts).
   When demand changes over the years (``demand.growth_per_year``: demand in
   year t = county table x (1 + g[field])^t, not rounded), the model first sets
   this year's authorized posts = round(authorized_share x demand_t) and the
   bureaus re-plan caps and directed posts from them every year;
1. retirement at ``population.retirement_age`` (marked; removed together
   with the other leavers after step 2);
2. stay or leave (``behaviour``): programme term ends, upward moves, logit
   exits by destination; the context (free posts, people waiting) excludes
   this year's retirees;
2b. internal moves (``mobility``, with ``mobility.internal_moves``): the
   county-seat bureaus offer part of their vacancies to transfers, staff
   choose stay / own county seat / another county's seat (nested logit),
   destinations take applicants by skill; the township posts emptied are
   filled by the appointments and recruitment below (the vacancy chain).
   Moves are not exits: per cell staff(t) = staff(t-1) + recruits - exits
   + net_moves, and moves sum to zero over counties;
3. title evaluation (``titles``);
4. grade steps within bands, then appointment to free posts within caps
   (``posts``);
5. recruitment (``recruitment``, ``programmes``): vacancies counted by the
   model, bureaus place programme participants and set quotas; special posts,
   programme places and open quotas are filled;
6. pay: income of everyone in post and the cost of each lever by payer (``pay``);
7. training: skill growth and its cost (``training``);
8. flexible inflows in FTE and their cost (``flexible``);
9. record every metric per county x field (``metrics``).

Units: people are persons (headcount), posts are posts, money is yuan (costs
per year; incomes per month), time is years, skill is a z-score.  The record
``raw[metric, cell, t]`` has ``t = 0`` for the initial state (flows 0) and
``t = 1..years`` for the end of each simulated year; ``cell = county x 5 +
field`` in the county table's row order.

Randomness: every draw is keyed by (replication seed, year, purpose) and,
for decisions of individuals, by the person's id (``rng``), so results do not
depend on array order and scenarios share random numbers person by person.

Speed: the passes over all professionals are compiled kernels
(``simulator.kernels``, numba): ageing with retirement (step 0-1), the
stay/leave screening (2), the exit tallies and the compaction, title
applicants and outcomes (3), grade steps and appointments (4), and one
year-end pass for pay tallies, training and the stocks (6-9).  They give
bit-identical results to the numpy code they replaced (``tests/test_golden.py``,
``tests/test_simulator_kernels.py``); exponentials and logarithms stay in numpy.

Allocation: ``TalentModel(..., allocation=AllocationArrays)`` applies an
allocation table on top of the scenario (``simulator.allocation``), each row from
its year: extra caps, directed, special and purchased posts in step 0 (caps and
directed posts added again after each later re-plan when demand changes), extra
programme placements and direct hires in step 5, and per-person top-ups in the
income (step 2 behaviour, step 5 applicants, step 6 pay and costs).  None or all
zeros = no change.

Issue-16 levers (57号 §5-§16; ``simulator.evaluation``, ``simulator.supply``): most are folded into the
parameters by ``compile_params``; at run time the model adds the §8 dynamic caps after the cap plan (step 0),
§9 technology-transfer income to the unit allowance (not costed), §6/§10 person-level leave terms
(``behaviour``), §12 training of this year's title passers (step 3), §11/§16 applicant multipliers (step 5),
§12/§13 skill of study and project places and the §10/§12/§13/§16 costs (steps 6-7).  Off in the baseline.

Test hooks (``ModelOptions``, not scenario keys): ``fixed_exit_hazard`` replaces
the stay/leave behaviour with a constant yearly hazard (no term ends or
upward moves), ``retirement=False`` and ``recruitment=False`` switch those
processes off, ``fixed_move_prob`` replaces the move choice by a constant
township -> county-seat probability with every move accepted.  They exist for known-answer tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
from scipy import special

from . import behaviour, flexible, kernels, pay, posts, programmes, recruitment, rng, titles, training
from .allocation import apply_posts as apply_allocation_posts
from .allocation import direct_hire_columns
from .bureau import CountyBureau, Institutions, plan_posts, plan_recruitment
from .metrics import COST_LEVERS, RAW, RAW_INDEX
from .params import NF, NP, NT, PAYERS, PROGRAMMES, TOWNSHIP, Params, as_params
from .population import (CH_OPEN, CH_PROGRAMME0, CH_SPECIAL, Geography, authorized_posts, demand_at,
                         geography_from_table, initial_staff)
from . import mobility                 # internal moves (step 2b)
from .bureau import plan_transfers     # the bureaus' transfer offers (step 2b)
from . import evaluation, supply       # issue 16 levers (57号 §5-§16)


@dataclass(frozen=True)
class ModelOptions:
    """Run options that are not policy: bureau execution mode and test hooks."""

    bureau_mode: str = "auto"              # "agents" (mesa AgentSet.do), "batch" (same rules, all counties at once),
    #                                        or "auto": agents up to AGENT_LOOP_MAX_COUNTIES counties, batch above
    fixed_exit_hazard: float | None = None  # test hook: constant exit hazard instead of behaviour
    retirement: bool = True                 # test hook
    recruitment: bool = True                # test hook
    fixed_move_prob: float | None = None    # test hook: township staff move to their county seat with this yearly
    #                                         probability (no other moves; every move accepted)

    def __post_init__(self):
        if self.bureau_mode not in ("auto", "agents", "batch"):
            raise ValueError(f"bureau_mode: {self.bureau_mode!r} (allowed: auto, agents, batch)")
        if self.fixed_exit_hazard is not None and not 0.0 <= self.fixed_exit_hazard <= 1.0:
            raise ValueError("fixed_exit_hazard: must be in [0, 1]")
        if self.fixed_move_prob is not None and not 0.0 <= self.fixed_move_prob <= 1.0:
            raise ValueError("fixed_move_prob: must be in [0, 1]")


AGENT_LOOP_MAX_COUNTIES = 100  # above this, "auto" applies the bureau rules in batch (same results, less Python overhead)


class _Ctx:
    """Per-unit lookups and this year's per-unit context for the behaviour step."""


class TalentModel(mesa.Model):
    """One replication of one scenario on one county table (see the module docstring)."""

    def __init__(self, scenario, table=None, *, seed: int, years: int | None = None,
                 geography: Geography | None = None, programme_base_rf: np.ndarray | None = None,
                 options: ModelOptions | None = None, allocation=None):
        super().__init__(seed=int(seed))
        self.p: Params = as_params(scenario)
        if geography is None:
            if table is None:
                raise ValueError("TalentModel needs a county table or a Geography")
            geography = geography_from_table(table)
        self.geo = geography
        self.seed = int(seed)
        self.years = self.p.years if years is None else int(years)
        if self.years < 1:
            raise ValueError("years: must be at least 1")
        self.options = options or ModelOptions()
        geo, p = self.geo, self.p
        self._demand_varies = bool(np.any(p.demand_growth))   # demand.growth_per_year: authorized posts follow
        self.n_counties, self.n_units, self.n_cells = geo.n_counties, geo.n_units, geo.n_cells
        u_county, u_field, u_tier, u_region, u_hard, u_remote = geo.unit_arrays()
        self.ctx = _Ctx()
        self.ctx.unit_county, self.ctx.unit_field, self.ctx.unit_tier = u_county, u_field, u_tier
        self.ctx.unit_region, self.ctx.unit_hardship, self.ctx.unit_remote = u_region, u_hard, u_remote
        self.ctx.county_hardship = geo.hardship.astype(float)
        self.prov_order = mobility.province_order(geo.province)   # counties by province (destinations of moves)
        self.flow_rows: list[np.ndarray] = []                     # mobility.flow_rows / exit_flow_rows per year
        self.cell_region = geo.region[np.arange(self.n_cells) // NF]
        # an allocation applied on top of the scenario (simulator.allocation); None = none
        self.alloc = None if allocation is None or allocation.is_empty() else allocation
        if self.alloc is not None:
            if self.alloc.n_counties != self.n_counties:
                raise ValueError("allocation: arrays do not match the county table")
            self._unit_sub = self._unit_topup = None   # per year, set by _allowance
        else:
            self._unit_sub = self._unit_topup = None
        # issue 16: §9 technology-transfer income (not a public cost), §8 dynamic caps, extra costs per year
        self._unit_tech = supply.unit_income(p, u_field)
        self._dyn_caps = None
        self._x_costs: dict = {}

        if programme_base_rf is None:   # township demand per [region, hardship class, field]
            programme_base_rf = np.zeros((3, programmes.N_HARDSHIP, NF))
            np.add.at(programme_base_rf, (geo.region, geo.hardship), geo.demand[:, :, TOWNSHIP])
        self.p_all, self._programme_base_rf = p, programme_base_rf   # time paths: self.p is the year's (p_all.at)
        self._province_index = np.unique(geo.province, return_inverse=True)[1]
        self.inst = Institutions.create(authorized_posts(p, geo), self._entitlements(p))
        self.inst.prog_carry[...] = programmes.INITIAL_CARRY
        # the initial state: pre-policy caps (no uplift), no special or directed posts
        self.inst.senior_cap[...] = np.floor(self.inst.authorized * p.senior_cap.T + 1e-9)
        self.inst.inter_cap[...] = np.floor(self.inst.authorized * p.intermediate_cap.T + 1e-9)

        self.staff = initial_staff(p, geo, self.seed)
        for i in range(self.n_counties):
            CountyBureau(self, i)
        self.bureaus = self.agents_by_type[CountyBureau]

        self.raw = np.zeros((len(RAW), self.n_cells, self.years + 1))
        self._staff_end = self._cells(self._per_unit())
        self._record_stocks(0, staff_start=self._staff_end)

    # ------------------------------------------------------------------ helpers
    def _per_unit(self, mask=None, weights=None) -> np.ndarray:
        """Per-unit head count (of ``mask`` if given) or sum of ``weights``."""
        unit = self.staff.unit
        nu = self.n_units
        if weights is not None:
            w = weights if mask is None else np.where(mask, weights, 0.0)
            return np.bincount(unit, weights=w, minlength=nu)
        if mask is None:
            return np.bincount(unit, minlength=nu).astype(float)
        return np.bincount(unit * 2 + mask, minlength=2 * nu)[1::2].astype(float)

    def _cells(self, per_unit: np.ndarray) -> np.ndarray:
        """Per-unit values summed to cells (county x field): county seat + township (the same sum, without a reduction)."""
        if NT == 2:
            return per_unit[0::2] + per_unit[1::2]
        return per_unit.reshape(self.n_cells, NT).sum(axis=1)

    def _rec(self, name: str, t: int, cells: np.ndarray) -> None:
        self.raw[RAW_INDEX[name], :, t] += cells

    @property
    def bureau_mode(self) -> str:
        """How bureau decisions run in this model: "agents" or "batch"."""
        mode = self.options.bureau_mode
        if mode == "auto":
            return "agents" if self.n_counties <= AGENT_LOOP_MAX_COUNTIES else "batch"
        return mode

    def _bureaus(self, method: str) -> None:
        if self.bureau_mode == "agents":
            self.bureaus.do(method)
        elif method == "plan_posts":
            plan_posts(self.p, self.inst, first_year=self.steps <= 1)
        elif method == "plan_transfers":
            plan_transfers(self.p, self.inst)
        else:
            plan_recruitment(self.p, self.inst)

    def _flat(self, arr: np.ndarray) -> np.ndarray:
        return arr.reshape(self.n_units)

    def _allowance(self, t: int) -> np.ndarray:
        """Per-unit monthly income on top of base and performance pay, common to the unit's staff.

        The hardship allowance; with an allocation (from year 1) also its hardship top-up and its
        extra township subsidy (township units), which people respond to like any allowance.
        """
        a = pay.hardship_allowance_now(self.p, self.ctx.unit_hardship, t)
        if self.alloc is not None and t >= 1:
            sub, top = self.alloc.subsidies(t)
            self._unit_sub = sub[self.ctx.unit_county] * (self.ctx.unit_tier == TOWNSHIP)
            self._unit_topup = top[self.ctx.unit_county].astype(float)
            a = a + self._unit_topup + self._unit_sub
        if self._unit_tech is not None and t >= 1:   # 57号 §9: income from technology transfer and services
            a = a + self._unit_tech
        return a

    def _apply_allocation_posts(self, t: int) -> None:
        """The allocation's caps, directed, special and purchased posts of year t (township units; simulator.allocation.apply_posts)."""
        apply_allocation_posts(self.alloc, self.inst, t, t == 1 or self._demand_varies, TOWNSHIP)

    def _entitlements(self, p: Params) -> np.ndarray:
        """Programme places per year per [county, programme, field] under ``p`` (``programmes``)."""
        base_pf = programmes.programme_base(self._programme_base_rf, p)
        funded = programmes.programme_base(self._programme_base_rf, p, funded=True) if np.any(p.prog_central_share) else None
        return programmes.entitlement_rates(p, self.geo.region, self.geo.demand[:, :, TOWNSHIP], base_pf,
                                            hardship=self.geo.hardship, base_funded_pf=funded)

    def _params_of_year(self, t: int) -> None:
        """Time paths: the parameters of calendar year start_year + t; programme entitlements follow them."""
        p_t = self.p_all.at(self.p_all.start_year + t)
        if p_t is not self.p:
            self.p = p_t
            self.inst.prog_rate[...] = self._entitlements(p_t)

    # ------------------------------------------------------------------ the year
    def start_year(self, t: int) -> np.ndarray:
        """Steps 0-1 of year ``t`` and the behaviour context; returns staff per cell at the start of the year.

        Split out of ``step`` so calibration can evaluate the year-1 decision
        exactly as the model makes it.
        """
        self._params_of_year(t)
        p, s, ctx, opt = self.p, self.staff, self.ctx, self.options
        staff_start = self._staff_end.copy()

        # 0. ageing and the bureaus' post plan; 1. retirement (marked here; removed with the year's
        # other leavers in one compaction).  One compiled pass, which also takes the retirees out of
        # the post table of the end of last year (the context of the stay/leave decision).
        self.retiring = np.empty(len(s), dtype=bool)
        tab = self._tab_end.copy()
        kernels.age_one_year(s.age, s.served, s.at_title, s.at_grade, s.obligation, s.in_term,
                             kernels.like_float32(p.retirement_age), bool(opt.retirement), self.retiring,
                             s.unit, s.post, s.kind, s.title, s.directed, tab.reshape(-1))
        if p.internal_moves and p.title_credit_township > 0:   # 57号 §15: township years count extra toward titles
            s.at_title[ctx.unit_tier[s.unit] == TOWNSHIP] += np.float32(p.title_credit_township)
        if self._demand_varies:   # this year's authorized posts from this year's demand (bureaus re-plan caps)
            self.inst.authorized[...] = authorized_posts(p, self.geo, t)
        self._bureaus("plan_posts")
        if p.opinion is not None and p.opinion.dynamic_ratio_rate > 0:   # 57号 §8 dynamic post ratios
            self._dynamic_caps(t, tab)
        if self.alloc is not None:
            self._apply_allocation_posts(t)
        self._rec("special_posts_created", t, self.inst.special_created.reshape(-1))

        # context of the stay/leave decision (retirees excluded)
        ctx.allowance = self._allowance(t)
        ctx.free_i, ctx.free_s, ctx.wait_i, ctx.wait_s = posts.free_and_waiting(
            tab, self._flat(self.inst.senior_cap), self._flat(self.inst.inter_cap), self._flat(self.inst.directed_total))
        behaviour.prepare(p, ctx)
        return staff_start

    def step(self) -> None:
        t = self.steps
        if t > self.years:
            raise RuntimeError(f"the model was built for {self.years} years")
        p, ctx, opt = self.p, self.ctx, self.options
        seed = self.seed
        staff_start = self.start_year(t)
        p, s = self.p, self.staff             # start_year set this year's parameters (time paths)

        # 2. stay or leave
        code, ended = behaviour.decide_exits(p, s, ctx, seed, t, opt.fixed_exit_hazard, retiring=self.retiring)
        gone = code > 0
        if len(ended):
            key = s.unit[ended].astype(np.int64) * NP + s.programme[ended]
            reached = np.bincount(key, minlength=self.n_units * NP).reshape(self.n_units, NP)
            left_ = ended[code[ended] == behaviour.EXIT_CODES["term_end"]]
            key = s.unit[left_].astype(np.int64) * NP + s.programme[left_]
            left = np.bincount(key, minlength=self.n_units * NP).reshape(self.n_units, NP)
            for j, name in enumerate(PROGRAMMES):
                self._rec(f"term_end_reached_{name}", t, self._cells(reached[:, j].astype(float)))
                self._rec(f"exits_term_end_{name}", t, self._cells(left[:, j].astype(float)))
        # leavers per unit and reason, and the post table after exits (one compiled pass)
        nr = len(behaviour.EXIT_CODES) + 1
        by_reason = np.zeros(self.n_units * nr, dtype=np.int64)
        tab = self._tab_end.copy()
        n_stay = kernels.exit_tally(code, s.unit, s.post, s.kind, s.title, s.directed, tab.reshape(-1), by_reason, nr)
        by_reason = by_reason.reshape(self.n_units, nr)
        for reason, k in behaviour.EXIT_CODES.items():
            self._rec(f"exits_{reason}", t, self._cells(by_reason[:, k].astype(float)))
        k_ret = behaviour.EXIT_CODES["retirement"]                     # township units: odd unit numbers
        self._rec("township_retirements", t, by_reason[TOWNSHIP::NT, k_ret].astype(float))
        self._rec("township_exits", t, by_reason[TOWNSHIP::NT, 1:].sum(axis=1) - by_reason[TOWNSHIP::NT, k_ret])
        s.keep(~gone, n_stay)

        # exits to places (flows)
        town = ctx.unit_tier == TOWNSHIP
        for reason in mobility.EXIT_DESTINATIONS:
            self._rec(f"exits_{reason}_township", t,
                      self._cells(by_reason[:, behaviour.EXIT_CODES[reason]] * town).astype(float))
        self.flow_rows.append(mobility.exit_flow_rows(t, by_reason, behaviour.EXIT_CODES))
        # 2b. internal moves (simulator.mobility): township -> county seat -> other counties
        if p.internal_moves:
            self._moves(t, tab)

        # 3. titles
        passed = titles.evaluate(p, s, ctx.unit_tier, seed, t)
        self._x_costs = {}
        if p.opinion is not None:   # 57号 §12: training of the newly promoted
            c = supply.promoted_training(p, s, passed, self.n_units)
            if c is not None:
                self._x_costs["training"] = self._cells(c)
        for k in ("intermediate", "senior", "directed", "exceptional"):
            if len(passed[k]):
                self._rec(f"titles_passed_{k}", t, self._cells(np.bincount(s.unit[passed[k]], minlength=self.n_units)))

        # 4. appointment
        posts.grade_steps(s, p.grade_step_years)
        agg = posts.table_aggregates(tab)
        app = posts.appoint(p, s, self.n_units, self._flat(self.inst.senior_cap), self._flat(self.inst.inter_cap),
                            self._flat(self.inst.directed_total), seed, t, tab=tab, agg=agg)
        # people per unit inside unit totals and in special posts, after the appointments
        special_u = agg[:, kernels.AGG_SPECIAL] - np.bincount(s.unit[app["left_special"]], minlength=self.n_units)
        in_total_u = agg[:, kernels.AGG_STAFF] - special_u
        for k, name in (("intermediate", "promotions_intermediate"), ("senior", "promotions_senior"),
                        ("directed", "promotions_directed_senior"), ("blocked", "appointments_blocked_by_caps")):
            if len(app[k]):
                self._rec(name, t, self._cells(np.bincount(s.unit[app[k]], minlength=self.n_units)))

        # 5. recruitment
        if opt.recruitment:
            self._recruit(t, special_u.astype(float), in_total_u.astype(float))

        # 6. pay and 7. training: one compiled pass counts what pay costs (pay.pay_tallies), applies
        # training.train's skill change and counts the year-end stocks (post table, contract/term
        # flags, skill sums per unit); pay does not depend on skill
        s = self.staff
        if p.opinion is not None:
            self._opinion_year_end(s)
        tab, flags, skill_sum, tallies = self._year_end_tallies(np.float32(training.skill_change(p)), pay_too=True)
        public_allowance = ctx.allowance if self._unit_tech is None else ctx.allowance - self._unit_tech
        if self.alloc is None:
            costs = pay.yearly_costs(p, s, self.n_units, ctx.unit_tier, public_allowance, tallies=tallies)
        else:  # the extra township subsidy is in ctx.allowance for behaviour; cost it to its own lever
            costs = pay.yearly_costs(p, s, self.n_units, ctx.unit_tier, public_allowance - self._unit_sub,
                                     unit_subsidy=self._unit_sub, tallies=tallies)
        agg = posts.table_aggregates(tab)
        # 8. flexible inflows (per county x field, from year-end staff)
        staff_cells = self._cells(agg[:, kernels.AGG_STAFF].astype(float))
        fte = flexible.fte(p, self.n_counties, staff_cells.reshape(self.n_counties, NF))
        # 9. record
        self._record_costs(t, costs, staff_cells, fte)
        self._record_stocks(t, staff_start=staff_start, tab=tab, agg=agg, flags=flags, skill_sum=skill_sum)

    def _dynamic_caps(self, t: int, tab: np.ndarray) -> None:
        """57号 §8: caps follow the title holders of last year's end (``evaluation.DynamicCaps``)."""
        if self._dyn_caps is None:
            self._dyn_caps = evaluation.DynamicCaps(self.inst)
        agg = posts.table_aggregates(tab).astype(float)
        shape = self.inst.senior_cap.shape
        held_i = agg[:, kernels.AGG_INTER_TITLE].reshape(shape)
        held_s = agg[:, kernels.AGG_SENIOR_TITLE].reshape(shape)
        self._dyn_caps.apply(self.p, self.inst, held_i, held_s, replanned=self._demand_varies)

    def _opinion_year_end(self, s) -> None:
        """Issue 16 at the year end: §12/§13 skill of places (before the training pass), §10/§16/§12 costs."""
        p, nu = self.p, self.n_units
        delta = supply.place_skill_delta(p, self.ctx.unit_region)
        if delta is not None:
            s.skill += delta[s.unit].astype(np.float32)
            cost = supply.place_cost_per_person(p, self.ctx.unit_region)
            c = self._cells(np.bincount(s.unit, minlength=nu) * cost)
            self._x_costs["training"] = self._x_costs.get("training", 0.0) + c
        award = supply.award_cost(p, s, nu)
        if award is not None:
            self._x_costs["performance_pay"] = self._cells(award)
        entre = supply.entrepreneurship_cost(p, self.n_counties)
        if entre is not None:
            self._x_costs["flexible"] = entre

    def _moves(self, t: int, tab: np.ndarray) -> None:
        """Step 2b: the moves of ``mobility.make_moves`` and their records (``tab`` updated in place)."""
        mv = mobility.make_moves(self, t, tab)
        nu, per_county = self.n_units, NF * NT
        o, d = mv["origin"], mv["dest"]
        cross = (o // per_county) != (d // per_county)
        from_town = self.ctx.unit_tier[o] == TOWNSHIP
        count = lambda units: self._cells(np.bincount(units, minlength=nu).astype(float))  # noqa: E731
        self._rec("move_applicants", t, self._cells(mv["applicants"].astype(float)))
        self._rec("moves_township_to_seat", t, count(o[from_town & ~cross]))
        self._rec("moves_township_to_other_county", t, count(o[from_town & cross]))
        self._rec("moves_seat_to_other_county", t, count(o[~from_town & cross]))
        out, into = count(o[cross]), count(d[cross])
        self._rec("moves_out", t, out)
        self._rec("moves_in", t, into)
        self._rec("net_moves", t, into - out)
        self.flow_rows.append(mobility.flow_rows(t, o, d, nu))

    def flow_record(self) -> np.ndarray:
        """Every flow of the run so far: int64 rows (year index t, origin unit, destination code, destination
        county or -1, persons); destination codes ``mobility.DESTINATIONS``."""
        if not self.flow_rows:
            return np.zeros((0, mobility.FLOW_COLUMNS), dtype=np.int64)
        return np.concatenate(self.flow_rows)

    def _year_end_tallies(self, skill_delta, pay_too: bool = False):
        """Add ``skill_delta`` to every skill; return the post table, flags [unit, contract, in_term], skill
        sums per unit and (with ``pay_too``, else None) the tallies of ``pay.pay_tallies``: one compiled call."""
        s, nu, p = self.staff, self.n_units, self.p
        tab = np.zeros(nu * kernels.STATE_WIDTH, dtype=np.int64)
        flags = np.zeros(nu * kernels.FLAG_WIDTH, dtype=np.int64)
        skill_sum = np.zeros(nu, dtype=np.float64)
        counts_ug = np.zeros(nu * 13, dtype=np.int64)
        town = np.zeros(nu, dtype=np.float64)
        prog = np.zeros(nu * NP, dtype=np.int64)
        kernels.year_end(s.unit, s.skill, skill_delta, s.post, s.kind, s.title, s.directed, s.contract, s.in_term,
                         tab, flags, skill_sum, s.grade, s.served, s.remote, s.programme, self.ctx.unit_tier,
                         bool(p.township_subsidy and pay_too), p.township_subsidy_by_band.astype(np.float64),
                         float(p.township_subsidy_remote_extra), NP, counts_ug, town, prog)
        tallies = (counts_ug.reshape(nu, 13), town, prog.reshape(nu, NP)) if pay_too else None
        return tab.reshape(nu, 3, 3, 3, 2), flags.reshape(nu, 2, 2), skill_sum, tallies

    def _recruit(self, t: int, special_u: np.ndarray, filled_u: np.ndarray) -> None:
        p, s, ctx, inst, seed = self.p, self.staff, self.ctx, self.inst, self.seed
        inst.vacancies[...] = np.maximum(self._flat(inst.authorized) - filled_u, 0).reshape(inst.vacancies.shape)
        self._bureaus("plan_recruitment")
        programmes.redistribute(p, self._province_index, programmes.eligibility(p, self.geo.region, self.geo.hardship),
                                inst.vacancies[..., TOWNSHIP], inst.quota[..., TOWNSHIP], inst.prog_placed,
                                inst.prog_unfilled)
        if np.any(p.prog_applicants > 0):      # take-up of the places placed (programmes.take_up)
            a_town = recruitment.applicants_per_post(p, 13, ctx.unit_field, ctx.unit_tier, ctx.unit_hardship,
                                                     ctx.unit_remote, ctx.allowance)
            apv = p.applicants_per_vacancy[ctx.unit_field]
            attract = np.where(apv > 0, a_town / np.where(apv > 0, apv, 1.0), 0.0)
            attract = attract.reshape(self.n_counties, NF, NT)[:, :, TOWNSHIP]
            programmes.take_up(seed, t, p, inst.prog_placed, inst.prog_unfilled, attract)
        if self.alloc is not None:
            inst.prog_placed += self.alloc.at("places", t)   # extra participants, placed outside the vacancy check
        new = []
        # programme participants (township units), every programme at once
        placed = inst.prog_placed  # [C, P, F]
        self._rec("programme_places", t, (placed + inst.prog_unfilled).sum(axis=1).reshape(-1))
        self._rec("programme_places_unfilled", t, inst.prog_unfilled.sum(axis=1).reshape(-1))
        if placed.any():
            counts = np.zeros((self.n_counties, NF, NT, NP))
            counts[:, :, TOWNSHIP, :] = placed.transpose(0, 2, 1)
            pair, rank = recruitment.expand_units(counts.reshape(-1))          # pair = unit x P + programme
            unit, prog = (pair // NP).astype(np.int32), (pair % NP).astype(np.int8)
            channel = CH_PROGRAMME0 + prog
            pid = rng.recruit_ids(t, unit, channel, rank)
            u = np.clip(rng.person_uniforms(seed, t, rng.RECRUIT_SKILL, pid), 1e-12, 1 - 1e-12)
            skill = p.prog_recruit_skill[prog] + p.skill_sd * special.ndtri(u)
            cols = recruitment.new_people(p, t, seed, unit, rank, channel, skill=skill, grade=13,
                                          contract=np.ones(len(unit), dtype=bool), unit_tier=ctx.unit_tier,
                                          unit_remote=ctx.unit_remote, programme=prog,
                                          obligation=p.prog_term[prog].astype(np.int8), pid=pid)
            by = np.bincount(unit.astype(np.int64) * NP + prog, minlength=self.n_units * NP).reshape(self.n_units, NP)
            for j, name in enumerate(PROGRAMMES):
                self._rec(f"recruits_{name}", t, self._cells(by[:, j].astype(float)))
            new.append(cols)
        # direct hires of an allocation (township units, outside the vacancy check)
        if self.alloc is not None:
            cols = direct_hire_columns(self.alloc, p, t, seed, ctx.unit_tier, ctx.unit_remote, TOWNSHIP, NT)
            if cols is not None:
                hired = np.bincount(np.asarray(cols["unit"], np.int64), minlength=self.n_units).astype(float)
                self._rec("recruits_direct_hire", t, self._cells(hired))    # counted in recruits (§7 直接考察)
                new.append(cols)
        # open recruitment
        quota = self._flat(inst.quota)
        a = recruitment.applicants_per_post(p, 13, ctx.unit_field, ctx.unit_tier, ctx.unit_hardship,
                                            ctx.unit_remote, ctx.allowance)
        factor = None if p.opinion is None else supply.applicant_factor(
            p, self.raw[RAW_INDEX["vacancies"]], self.raw[RAW_INDEX["authorized_posts"]], t, ctx.unit_field,
            ctx.unit_tier)   # 57号 §11 lagged supply, §16 entrepreneurship support
        if factor is not None:
            a = a * factor
        filled = recruitment.fill(seed, t, rng.RECRUIT_FILL, quota, a)
        self._rec("recruitment_quota", t, self._cells(quota))
        self._rec("applicants", t, self._cells(quota * a))
        if filled.any():
            unit, rank = recruitment.expand_units(filled)
            cols = recruitment.new_people(p, t, seed, unit, rank, CH_OPEN, skill=None, grade=13, contract=None,
                                          unit_tier=ctx.unit_tier, unit_remote=ctx.unit_remote)
            self._rec("recruits_open", t, self._cells(filled.astype(float)))
            self._rec("open_recruit_skill_sum", t,
                      self._cells(np.bincount(unit, weights=cols["skill"].astype(float), minlength=self.n_units)))
            new.append(cols)
        # special posts (township), outside unit totals
        vacant_special = np.maximum(self._flat(inst.special_stock) - special_u, 0)
        if vacant_special.any():
            a_s = recruitment.applicants_per_post(p, p.special_post_grade, ctx.unit_field, ctx.unit_tier,
                                                  ctx.unit_hardship, ctx.unit_remote, ctx.allowance)
            filled_s = recruitment.fill(seed, t, rng.SPECIAL_FILL, vacant_special, a_s)
            if filled_s.any():
                unit, rank = recruitment.expand_units(filled_s)
                cols = recruitment.new_people(p, t, seed, unit, rank, CH_SPECIAL, skill=None, grade=p.special_post_grade,
                                              contract=np.zeros(len(unit), dtype=bool), unit_tier=ctx.unit_tier,
                                              unit_remote=ctx.unit_remote)
                self._rec("recruits_special_post", t, self._cells(filled_s.astype(float)))
                new.append(cols)
        if new:
            merged = {k: np.concatenate([c[k] for c in new]) for k in new[0]}
            s.extend(merged)

    # ------------------------------------------------------------------ recording
    def _record_costs(self, t, costs, staff_cells, fte) -> None:
        p = self.p
        cells = {k: self._cells(costs[k]) for k in ("base_pay", "performance_pay", "hardship_allowance", "township_subsidy")}
        prog_cp = costs["programme"].reshape(self.n_cells, NT, NP).sum(axis=1)  # [cells, P]
        cells["programme_subsidy"] = prog_cp.sum(axis=1)
        for j, name in enumerate(PROGRAMMES):
            self._rec(f"cost_programme_{name}_yuan", t, prog_cp[:, j])
        cells["training"] = staff_cells * (p.training_hours * p.training_cost_per_hour)
        fte_total = fte["secondment"] + fte["expert"] + fte["rural_service"]
        cells["flexible"] = fte_total.reshape(-1) * p.flexible_cost_per_fte
        for lever, extra in self._x_costs.items():   # issue 16 costs (simulator.supply)
            cells[lever] = cells[lever] + extra
        total = np.zeros(self.n_cells)
        for lever in COST_LEVERS:
            self._rec(f"cost_{lever}_yuan", t, cells[lever])
            total += cells[lever]
        self._rec("cost_yuan", t, total)
        self._rec("cost_incentives_yuan", t, total - cells["base_pay"] - cells["performance_pay"])
        general = total - cells["programme_subsidy"]
        shares = p.payer_shares[self.cell_region]  # [cells, 3]
        for k, payer in enumerate(PAYERS):
            by_prog = prog_cp[:, p.prog_payer == k].sum(axis=1)
            self._rec(f"cost_payer_{payer}_yuan", t, general * shares[:, k] + by_prog)
        income = (cells["base_pay"] + cells["performance_pay"] + cells["hardship_allowance"]
                  + cells["township_subsidy"] + cells["programme_subsidy"]) / 12.0
        self._rec("income_sum", t, income)
        self._rec("training_hours", t, staff_cells * p.training_hours)
        self._rec("flexible_secondment_fte", t, fte["secondment"].reshape(-1))
        self._rec("flexible_expert_fte", t, fte["expert"].reshape(-1))
        self._rec("flexible_rural_service_fte", t, fte["rural_service"].reshape(-1))
        self._rec("flexible_fte", t, fte_total.reshape(-1))

    def _record_stocks(self, t: int, staff_start: np.ndarray, tab: np.ndarray | None = None,
                       agg: np.ndarray | None = None, flags: np.ndarray | None = None,
                       skill_sum: np.ndarray | None = None) -> None:
        s, inst = self.staff, self.inst
        nu = self.n_units
        if tab is None:
            tab, flags, skill_sum, _ = self._year_end_tallies(np.float32(0.0))
        if agg is None:
            agg = posts.table_aggregates(tab)
        self._tab_end = tab
        a = agg.astype(float)                         # per unit: see kernels.AGG_*
        cells = self._cells
        staff_u = a[:, kernels.AGG_STAFF]
        special_u = a[:, kernels.AGG_SPECIAL]
        self._staff_end = cells(staff_u)
        self._rec("staff", t, cells(staff_u))
        self._rec("staff_start", t, staff_start)
        self._rec("demand", t, demand_at(self.p, self.geo, t).reshape(-1, NT).sum(axis=1))
        auth = self._flat(inst.authorized)
        self._rec("authorized_posts", t, cells(auth))
        in_total = staff_u - special_u
        self._rec("vacancies", t, cells(np.maximum(auth - in_total, 0)))
        self._rec("special_posts", t, cells(self._flat(inst.special_stock)))
        self._rec("special_posts_filled", t, cells(special_u))
        self._rec("directed_posts", t, cells(self._flat(inst.directed_total)))
        self._rec("directed_posts_filled", t, cells(a[:, kernels.AGG_DIRECTED_POST]))
        self._rec("senior_cap_posts", t, cells(self._flat(inst.senior_cap)))
        self._rec("intermediate_cap_posts", t, cells(self._flat(inst.inter_cap)))
        self._rec("senior_posts_regular", t, cells(a[:, kernels.AGG_SENIOR_REG]))
        self._rec("intermediate_posts_regular", t, cells(a[:, kernels.AGG_INTER_REG]))
        self._rec("senior_titles", t, cells(a[:, kernels.AGG_SENIOR_TITLE]))
        self._rec("intermediate_titles", t, cells(a[:, kernels.AGG_INTER_TITLE]))
        self._rec("directed_titles", t, cells(a[:, kernels.AGG_DIRECTED_TITLE]))
        self._rec("senior_posts", t, cells(a[:, kernels.AGG_SENIOR_POST]))
        self._rec("obligated_staff", t, cells(flags[:, :, 1].sum(axis=1).astype(float)))
        self._rec("contract_staff", t, cells(flags[:, 1, :].sum(axis=1).astype(float)))
        self._rec("township_staff", t, cells(staff_u * (self.ctx.unit_tier == TOWNSHIP)))
        self._rec("township_staff_under_35", t, self._per_unit(s.age < 35)[TOWNSHIP::NT])
        self._rec("township_mid_senior_titles", t, (a[:, kernels.AGG_INTER_TITLE] + a[:, kernels.AGG_SENIOR_TITLE])[TOWNSHIP::NT])
        self._rec("skill_sum", t, cells(skill_sum))
        town_end = self.raw[RAW_INDEX["township_staff"], :, t].copy()    # township staff at the start of the year
        self._rec("township_staff_start", t, getattr(self, "_town_end", town_end))
        self._town_end = town_end
        recruits = sum(self.raw[RAW_INDEX[f"recruits_{c}"], :, t] for c in ("open", "special_post", "direct_hire") + PROGRAMMES)
        exits = sum(self.raw[RAW_INDEX[f"exits_{r}"], :, t] for r in
                    ("retirement", "city", "other_sector", "upward", "breach", "term_end"))
        self.raw[RAW_INDEX["recruits"], :, t] = recruits
        self.raw[RAW_INDEX["exits"], :, t] = exits
        if t == 0:
            cost = pay.yearly_costs(self.p, s, nu, self.ctx.unit_tier, self._allowance(0))
            income = sum(cells(cost[k]) for k in ("base_pay", "performance_pay", "hardship_allowance", "township_subsidy"))
            income = income + self._cells(cost["programme"].sum(axis=1))
            self._rec("income_sum", 0, income / 12.0)

    # ------------------------------------------------------------------ running
    def run(self) -> np.ndarray:
        """Run every year; returns the raw record ``[len(RAW), cells, years + 1]``."""
        while self.steps < self.years:
            self.step()
        return self.raw

    def unit_state(self) -> dict[str, np.ndarray]:
        """Per-unit counts used by invariant tests: caps and holders of capped/outside posts."""
        s = self.staff
        regular = s.kind == 0
        return {
            "senior_cap": self._flat(self.inst.senior_cap).copy(),
            "inter_cap": self._flat(self.inst.inter_cap).copy(),
            "directed_total": self._flat(self.inst.directed_total).copy(),
            "special_stock": self._flat(self.inst.special_stock).copy(),
            "authorized": self._flat(self.inst.authorized).copy(),
            "senior_regular": self._per_unit(regular & (s.post == 2)),
            "inter_regular": self._per_unit(regular & (s.post == 1)),
            "directed_filled": self._per_unit(s.kind == 2),
            "special_filled": self._per_unit(s.kind == 1),
            "in_total": self._per_unit(s.kind != 1),
        }
