"""The simulator's view of a scenario: every parameter as a number or a small numpy array.

:func:`compile_params` turns a validated :class:`scenarios.Scenario` into a
:class:`Params`: the same values, indexed by position instead of name, so the
model can use them in vectorised arithmetic (``p.senior_cap[tier, field]``).
``Params`` is a plain frozen dataclass of numbers and arrays, so it pickles
(a ``Scenario`` holds read-only mapping proxies, which do not), and is what
worker processes receive.

Index orders are fixed here and used everywhere:

* fields ``FIELDS`` = science, education, engineering, agriculture, health;
* tiers ``TIERS`` = county (0), township (1);
* regions ``REGIONS`` = east (0), central (1), west (2);
* payers ``PAYERS`` = central (0), provincial (1), county (2);
* title steps: intermediate (0), senior (1);
* programmes ``PROGRAMMES`` in schema order;
* professional grades 1 (top) .. 13; ``base_by_grade[g - 1]``.

Units are those of ``scenarios/schema.py``; money is yuan per month for pay
and allowances and yuan per year for programme subsidies and unit costs.

Time paths (``[timeline]`` of a scenario, rule in ``scenarios.loader``): the
compiled ``Params`` holds the values of calendar year ``start_year`` (the
initial state) and, in ``year_params``, one ``Params`` per later calendar
year up to the last listed year (held afterwards); ``Params.at(year)`` is the
one the model uses in the step of that year (``year = start_year + t``).
Without a timeline ``at`` returns the ``Params`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from scenarios.schema import FIELDS, PAYERS, PROGRAMMES, REGIONS, TIERS
from scenarios.schema import TITLE_STEPS as STEPS

NF, NT, NR, NP = len(FIELDS), len(TIERS), len(REGIONS), len(PROGRAMMES)
COUNTY, TOWNSHIP = 0, 1


@dataclass(frozen=True, eq=False)
class Params:
    """Every scenario value the simulator uses, positionally indexed (see module docstring)."""

    name: str
    sha256: str
    start_year: int
    years: int
    # demand
    demand_growth: np.ndarray                # [F] share/yr: demand_t = demand_0 x (1 + g)^t
    # population
    retirement_age: float
    entry_age: float
    age_sd: float
    age_pyramid: np.ndarray                  # [F, 7] share of staff by age band (population.AGE_BAND_EDGES)
    skill_sd: float
    init_contract_share: np.ndarray          # [T]
    # behaviour
    exit_intercept: np.ndarray               # [F] logit
    exit_rate_target: np.ndarray             # [F] share/yr
    income_coef: float                       # utility per 1,000 yuan/month
    wtp_county: float                        # yuan/month
    wtp_city: float
    wtp_public: float
    wtp_promotion: float
    wtp_training: float
    wtp_hardship: float                      # yuan/month per class
    outside_income_ratio: np.ndarray         # [R]
    city_share_of_exits: float
    breach_rate: float
    breach_observed_penalty: float           # yuan: the penalty in force where breach_rate was observed
    outside_performance_share: float         # performance share of the outside option's pay
    exit_age_slope: np.ndarray               # [F] logit per year of age above behaviour.AGE_REF
    penalty_salience: float                  # utility per 1,000 yuan
    upward_rate: float                       # share/yr = rate per reserved share x reserved share
    upward_min_years: float                  # years served before a reserved (upward) post is open
    # titles
    min_years: np.ndarray                    # [2]
    pass_rate: np.ndarray                    # [2, T]
    apply_rate: float
    skill_effect: float
    tilted_standards: bool
    tilted_odds_factor: float
    separate_grouping: bool
    separate_group_pass_rate: float
    exceptional_promotion: bool
    exceptional_after_years: float
    directed_senior: bool
    directed_pass_rate: float
    # posts
    authorized_share: np.ndarray             # [T]
    senior_cap: np.ndarray                   # [T, F] base cap, before uplift
    intermediate_cap: np.ndarray             # [T, F]
    cap_uplift: np.ndarray                   # [2] intermediate, senior
    special_posts_per_county: np.ndarray     # [F] per county per year
    special_post_grade: int
    grade_step_years: float                  # years at grade per grade step within the band
    directed_senior_share: float
    # recruitment
    entry_threshold: float
    applicants_per_vacancy: np.ndarray       # [F]
    quota_share: float
    hardship_tilt: float
    recruit_skill_mean: float
    recruit_contract_share: np.ndarray       # [T]
    # pay
    base_by_grade: np.ndarray                # [13] yuan/month
    performance_share: float
    performance_tilt_township: float
    hardship_allowance: np.ndarray           # [7] yuan/month by class 0..6 (class 0 = 0)
    hardship_growth: float
    township_subsidy: bool
    township_subsidy_by_band: np.ndarray     # [3] yuan/month
    township_subsidy_remote_extra: float
    # programmes
    prog_places: np.ndarray                  # [P] per year, national, scale applied
    prog_field_shares: np.ndarray            # [P, F]
    prog_regions: np.ndarray                 # [P, R] bool
    prog_term: np.ndarray                    # [P] whole years (int)
    prog_subsidy: np.ndarray                 # [P] yuan/year
    prog_payer: np.ndarray                   # [P] payer index
    prog_penalty: np.ndarray                 # [P] yuan
    prog_post_term_stay: np.ndarray          # [P]
    prog_recruit_skill: np.ndarray           # [P]
    prog_min_hardship: np.ndarray            # [P] int: lowest hardship class receiving places
    prog_applicants: np.ndarray              # [P] applicants per place, class-0 township (0 = every place taken up)
    prog_central_share: np.ndarray           # [P] share of places funded centrally, placed in central/west only
    # training
    training_hours: float
    training_cost_per_hour: float
    skill_gain_per_100h: float
    skill_decay: float
    sufficient_hours: float
    # flexible
    secondment_fte: np.ndarray               # [F] per county
    expert_fte: np.ndarray                   # [F] per county
    rural_service_rule: bool
    rural_service_fte_per_1000: np.ndarray   # [F]
    flexible_cost_per_fte: float
    # mobility (simulator.mobility)
    internal_moves: bool
    move_intercept_seat: np.ndarray   # [F] logit
    move_intercept_other: np.ndarray  # [F] logit
    move_rate_target: np.ndarray      # [F] share/yr of township staff
    cross_county_share_target: float
    moving_cost_county: float          # yuan/month equivalent
    moving_cost_cross: float           # yuan/month equivalent
    barrier_reduction: float           # share of the cross-county cost removed (57号 §14)
    min_service_township: float        # years served before a move out of a township
    title_credit_township: float       # extra years toward titles per township year (57号 §15)
    transfer_share: float              # share of county-seat vacancies offered to transfers
    move_age_coef: float               # logit per age band
    # budget
    payer_shares: np.ndarray                 # [R, 3]
    # time paths: {calendar year: Params of that year} after start_year (empty: no timeline)
    year_params: dict = None

    def at(self, year: int) -> "Params":
        """The parameters of calendar ``year`` (the last listed year's after it; these before start_year + 1)."""
        yp = self.year_params
        if not yp or year <= self.start_year:
            return self
        return yp[min(int(year), max(yp))]
    # issue 16 levers read at run time (simulator.evaluation, simulator.supply); None = all off
    opinion: object = None

    def replace(self, **changes) -> "Params":
        """A copy with some values changed (used by calibration)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        if self.year_params and "year_params" not in changes:    # the change holds in every year
            values["year_params"] = {y: q.replace(**changes) for y, q in self.year_params.items()}
        return Params(**values)

    @property
    def senior_cap_now(self) -> np.ndarray:
        """Senior cap share [T, F] with the scenario's uplift, capped at 1."""
        return np.minimum(self.senior_cap + self.cap_uplift[1], 1.0)

    @property
    def intermediate_cap_now(self) -> np.ndarray:
        """Intermediate cap share [T, F] with the scenario's uplift, capped at 1."""
        return np.minimum(self.intermediate_cap + self.cap_uplift[0], 1.0)


def _by(mapping, keys) -> np.ndarray:
    return np.array([float(mapping[k]) for k in keys], dtype=float)


def compile_params(sc) -> Params:
    """The :class:`Params` of a validated scenario (a ``scenarios.Scenario``), with its time paths."""
    import scenarios
    from scenarios.loader import at_year, timeline_years

    tl = getattr(sc, "timeline", None)
    if not tl:
        return _compile(sc, scenarios.sha256(sc))
    digest = scenarios.sha256(sc)
    start = int(sc.horizon.start_year)
    last = max(timeline_years(tl))
    base = _compile(at_year(sc, start), digest)
    by_year = {y: _compile(at_year(sc, y), digest) for y in range(start + 1, last + 1)}
    return base.replace(year_params=by_year)


def _compile(sc, digest: str) -> Params:
    b, t, po, r, pay, pr, tr, fl = (sc.behaviour, sc.titles, sc.posts, sc.recruitment, sc.pay,
                                    sc.programmes, sc.training, sc.flexible)
    progs = [getattr(pr, n) for n in PROGRAMMES]
    from . import evaluation
    return evaluation.fold(Params(
        name=sc.name,
        sha256=digest,
        start_year=int(sc.horizon.start_year),
        years=int(sc.horizon.years),
        demand_growth=_by(sc.demand.growth_per_year, FIELDS),
        retirement_age=float(sc.population.retirement_age),
        entry_age=float(sc.population.entry_age),
        age_sd=float(sc.population.age_sd),
        age_pyramid=np.array([[float(v) for v in sc.population.age_pyramid[f]] for f in FIELDS]),
        skill_sd=float(sc.population.skill_sd),
        init_contract_share=_by(sc.population.contract_share, TIERS),
        exit_intercept=_by(b.exit_intercept, FIELDS),
        exit_rate_target=_by(b.exit_rate_target, FIELDS),
        income_coef=float(b.income_coef),
        wtp_county=float(b.wtp_county_vs_township),
        wtp_city=float(b.wtp_city_vs_township),
        wtp_public=float(b.wtp_public_vs_private),
        wtp_promotion=float(b.wtp_promotion_2_vs_5_years),
        wtp_training=float(b.wtp_training_sufficient),
        wtp_hardship=float(b.wtp_hardship_per_class),
        outside_income_ratio=_by(b.outside_income_ratio, REGIONS),
        city_share_of_exits=float(b.city_share_of_exits),
        breach_rate=float(b.breach_rate),
        breach_observed_penalty=float(b.breach_observed_penalty_yuan),
        outside_performance_share=float(b.outside_performance_share),
        exit_age_slope=_by(b.exit_age_slope, FIELDS),
        penalty_salience=float(b.penalty_salience),
        upward_rate=float(b.upward_rate_per_reserved_share) * float(r.reserved_upward_share),
        upward_min_years=float(r.reserved_upward_min_years),
        min_years=_by(t.min_years, STEPS),
        pass_rate=np.array([_by(t.pass_rate[s], TIERS) for s in STEPS]),
        apply_rate=float(t.apply_rate),
        skill_effect=float(t.skill_effect),
        tilted_standards=bool(t.tilted_standards),
        tilted_odds_factor=float(t.tilted_odds_factor),
        separate_grouping=bool(t.separate_grouping),
        separate_group_pass_rate=float(t.separate_group_pass_rate),
        exceptional_promotion=bool(t.exceptional_promotion),
        exceptional_after_years=float(t.exceptional_after_years),
        directed_senior=bool(t.directed_senior),
        directed_pass_rate=float(t.directed_pass_rate),
        authorized_share=_by(po.authorized_share_of_demand, TIERS),
        senior_cap=np.array([_by(po.senior_cap[tier], FIELDS) for tier in TIERS]),
        intermediate_cap=np.array([_by(po.intermediate_cap[tier], FIELDS) for tier in TIERS]),
        cap_uplift=_by(po.cap_uplift, STEPS),
        special_posts_per_county=_by(po.special_posts_per_county, FIELDS),
        special_post_grade=int(po.special_post_grade),
        grade_step_years=float(po.grade_step_years),
        directed_senior_share=float(po.directed_senior_share),
        entry_threshold=float(r.entry_threshold),
        applicants_per_vacancy=_by(r.applicants_per_vacancy, FIELDS),
        quota_share=float(r.quota_share),
        hardship_tilt=float(r.hardship_tilt),
        recruit_skill_mean=float(r.recruit_skill_mean),
        recruit_contract_share=_by(r.contract_share, TIERS),
        base_by_grade=np.array(pay.base_by_grade, dtype=float),
        performance_share=float(pay.performance_share),
        performance_tilt_township=float(pay.performance_tilt_township),
        hardship_allowance=np.concatenate([[0.0], np.array(pay.hardship_allowance_by_class, dtype=float)]),
        hardship_growth=float(pay.hardship_growth),
        township_subsidy=bool(pay.township_subsidy),
        township_subsidy_by_band=np.array(pay.township_subsidy_by_band, dtype=float),
        township_subsidy_remote_extra=float(pay.township_subsidy_remote_extra),
        prog_places=np.array([g.places_per_year for g in progs], dtype=float) * float(pr.scale),
        prog_field_shares=np.array([_by(g.field_shares, FIELDS) for g in progs]),
        prog_regions=np.array([[rg in g.regions for rg in REGIONS] for g in progs], dtype=bool),
        prog_term=np.array([int(np.ceil(g.term_years - 1e-9)) for g in progs], dtype=np.int16),
        prog_subsidy=np.array([g.subsidy_yuan_per_year for g in progs], dtype=float),
        prog_payer=np.array([PAYERS.index(g.payer) for g in progs], dtype=np.int8),
        prog_penalty=np.array([g.breach_penalty_yuan for g in progs], dtype=float),
        prog_post_term_stay=np.array([g.post_term_stay for g in progs], dtype=float),
        prog_recruit_skill=np.array([g.recruit_skill for g in progs], dtype=float),
        prog_min_hardship=np.array([int(g.min_hardship_class) for g in progs], dtype=np.int64),
        prog_applicants=np.array([g.applicants_per_place for g in progs], dtype=float),
        prog_central_share=np.array([g.central_funded_share for g in progs], dtype=float),
        training_hours=float(tr.hours_per_year),
        training_cost_per_hour=float(tr.cost_per_hour),
        skill_gain_per_100h=float(tr.skill_gain_per_100h),
        skill_decay=float(tr.skill_decay),
        sufficient_hours=float(tr.sufficient_hours),
        secondment_fte=_by(fl.secondment_fte_per_county, FIELDS),
        expert_fte=_by(fl.expert_service_fte_per_county, FIELDS),
        rural_service_rule=bool(fl.rural_service_rule),
        rural_service_fte_per_1000=_by(fl.rural_service_fte_per_1000_staff, FIELDS),
        flexible_cost_per_fte=float(fl.cost_per_fte),
        payer_shares=np.array([_by(sc.budget.payer_shares[rg], PAYERS) for rg in REGIONS]),
        internal_moves=bool(sc.mobility.internal_moves),
        move_intercept_seat=_by(sc.mobility.move_intercept_seat, FIELDS),
        move_intercept_other=_by(sc.mobility.move_intercept_other_county, FIELDS),
        move_rate_target=_by(sc.mobility.move_rate_target, FIELDS),
        cross_county_share_target=float(sc.mobility.cross_county_share_target),
        moving_cost_county=float(sc.mobility.moving_cost_within_county),
        moving_cost_cross=float(sc.mobility.moving_cost_cross_county),
        barrier_reduction=float(sc.mobility.barrier_reduction),
        min_service_township=float(sc.mobility.min_service_years_township),
        title_credit_township=float(sc.mobility.title_credit_township),
        transfer_share=float(sc.mobility.transfer_share_of_vacancies),
        move_age_coef=float(sc.mobility.age_coef),
        opinion=evaluation.compile_opinion(sc),
    ), sc)


def as_params(scenario) -> Params:
    """Accept a ``Params``, a ``Scenario``, or a plain dict from ``scenarios.to_dict``."""
    if isinstance(scenario, Params):
        return scenario
    if isinstance(scenario, dict):
        import scenarios
        return compile_params(scenarios.from_dict({k: v for k, v in scenario.items()}, label=str(scenario.get("name", "<dict>"))))
    return compile_params(scenario)
