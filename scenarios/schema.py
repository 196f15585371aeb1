"""The scenario schema: every policy lever and behavioural parameter, typed, with unit and source.

A scenario is a tree of frozen dataclasses.  Every leaf is declared here with
:func:`param`, which records

* ``unit``   -- what the number measures (``yuan/month``, ``share``, ``years`` ...),
* ``source`` -- where the default comes from: a figure in ``shared/FACTS.md`` or
  the policy clause (``57号 §9``), or the word ``assumption`` followed by why;
* ``lo``/``hi`` -- the allowed range, checked on load;
* ``length`` -- for fixed-length lists (13 post grades, 6 hardship classes).

The default *values* live in ``scenarios/library/baseline.toml``; this module
holds only structure and metadata, so a value has one home and its metadata
another (the OpenFisca / PolicyEngine split).  ``tests/test_schema.py`` checks
that every leaf has a unit and a source.

Values that the policy lets differ by field, tier or region are mappings keyed
by the ``Literal`` types below; a scenario file may override one key of such a
mapping and inherit the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping

FIELDS = ("science", "education", "engineering", "agriculture", "health")
TIERS = ("county", "township")
REGIONS = ("east", "central", "west")
PAYERS = ("central", "provincial", "county")
TITLE_STEPS = ("intermediate", "senior")
PROGRAMMES = (
    "special_post_teachers",
    "agri_extension_posts",
    "gp_special_posts",
    "free_normal_students",
    "free_medical_students",
    "sanzhi_yifu",
    "tuition_compensation",
)
OBJECTIVES = ("shortfall", "equity", "cost")
EVALUATION_METHODS = ("review", "exam", "assessment")     # 57号 §5: 评审, 考试, 考评结合/考核认定
DIRECTED_ON_LEAVING = ("lose", "keep", "convert")         # 57号 §6: a directed title outside the grassroots
SOLVERS = ("highs", "cbc")

Field = Literal["science", "education", "engineering", "agriculture", "health"]
Tier = Literal["county", "township"]
Region = Literal["east", "central", "west"]
Payer = Literal["central", "provincial", "county"]
TitleStep = Literal["intermediate", "senior"]
Objective = Literal["shortfall", "equity", "cost"]
Solver = Literal["highs", "cbc"]
EvaluationMethod = Literal["review", "exam", "assessment"]
DirectedOnLeaving = Literal["lose", "keep", "convert"]

FACTS = "FACTS.md"
ASSUMPTION = "assumption"


def param(unit: str, source: str, lo: float | None = None, hi: float | None = None,
          length: int | None = None):
    """Declare a scenario leaf with its unit, source and allowed range."""
    return field(metadata={"unit": unit, "source": source, "lo": lo, "hi": hi, "length": length})


def ratio(source: str, unit: str = "share"):
    """A share or probability in [0, 1]."""
    return param(unit, source, 0.0, 1.0)


def money(unit: str, source: str):
    """An amount of money: never negative."""
    return param(unit, source, 0.0, None)


def frozen_mapping(d: Mapping) -> Mapping:
    """A read-only view, so a loaded scenario cannot be changed in place."""
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Horizon:
    start_year: int = param("calendar year", "57号 was issued 2016-07-01; simulation starts in 2016", 2000, 2100)
    years: int = param("years", "57号 §3: targets are set for 5-10 years", 1, 50)


@dataclass(frozen=True)
class RegionScope:
    provinces: tuple[str, ...] = param("GB/T 2260 two-digit codes or names (甘肃, Gansu); empty = all 31",
                                       "FACTS.md province table")
    cities: tuple[str, ...] = param("prefectures by code or name (兰州市, Lanzhou, 6201): their counties are "
                                    "selected; resolved into counties on loading", "division list (scenarios.divisions)")
    counties: tuple[str, ...] = param("county_id values or names (620102, 城关区, 兰州市/城关区); empty = every "
                                      "county of the provinces", "county table")


@dataclass(frozen=True)
class Demand:
    growth_per_year: Mapping[Field, float] = param(
        "share of demand per year",
        "assumption: need constant over the years (0); negative e.g. for falling rural school enrolment. "
        "Simulator: demand in year t = county-table demand x (1 + g)^t, and authorized posts, vacancies "
        "and coverage follow it; optimizer: the horizon average of that demand", -0.1, 0.1)


@dataclass(frozen=True)
class Population:
    retirement_age: int = param("years of age", "statutory retirement age 60 for men; one age for all is an assumption", 50, 70)
    entry_age: float = param("years of age", "assumption: graduates enter at about 24 after a bachelor's degree", 18, 40)
    age_sd: float = param("years", "assumption: spread of staff ages around the county table's mean age; no longer "
                          "used (both engines take ages from age_pyramid; kept so scenario files that set it load)", 1, 20)
    age_pyramid: Mapping[Field, tuple[float, ...]] = param(
        "share of staff by age band: entry age-29, 30-34, 35-39, 40-44, 45-49, 50-54, 55-retirement age",
        "FACTS.md: rural teachers 43.4% under 35 (MOE 2020); village doctors 45.2% aged 50+ (HRH 2014) and "
        "~50,000 of 1.36 million rural health workers retiring a year (2023); other fields assumption", 0, 1, length=7)
    contract_share: Mapping[Tier, float] = ratio("assumption: share of staff on contracts outside 编制 at the start")
    skill_sd: float = param("z-score units", "assumption: skill is a standard-normal index; 1 = one standard deviation", 0.01, 5)


@dataclass(frozen=True)
class Behaviour:
    exit_intercept: Mapping[Field, float] = param(
        "logit", "calibrated: intercepts make baseline non-retirement exits match exit_rate_target (see calibration targets)", -15, 15)
    exit_rate_target: Mapping[Field, float] = ratio(
        "FACTS.md: township health centre exits 8.1%/yr (HRH 7:24, 2009); other fields assumption; the rate of the "
        "township tier (county-seat exits follow from wtp_county_vs_township)", "share of township staff per year")
    income_coef: float = param(
        "utility per 1,000 yuan/month", "assumption anchored on FACTS.md: rural uptake rises to 92.8% at 8,000 yuan/month (HRH 2019)", 0, 5)
    wtp_county_vs_township: float = money("yuan/month", "FACTS.md DCE (HRH 2021): county instead of township 1,073-1,771; midpoint")
    wtp_city_vs_township: float = money("yuan/month", "FACTS.md DCE (HRH 2021): city instead of township 2,256-4,392; midpoint")
    wtp_public_vs_private: float = money("yuan/month", "FACTS.md DCE (HRH 2021): public instead of private 1,104-1,653; midpoint; used for 编制 security")
    wtp_promotion_2_vs_5_years: float = money("yuan/month", "FACTS.md DCE (HRH 2021): promotion in 2 instead of 5 years 881-1,683; midpoint")
    wtp_training_sufficient: float = money("yuan/month", "FACTS.md DCE (HRH 2021): sufficient instead of insufficient training 564-1,380; midpoint")
    wtp_hardship_per_class: float = money("yuan/month per hardship class", "assumption: each hardship class costs about a tenth of the city-vs-township WTP")
    outside_income_ratio: Mapping[Region, float] = param(
        "outside (city/other-sector) income / own base+performance pay", "assumption: city premium larger in the east", 0.1, 10)
    city_share_of_exits: float = ratio("assumption: share of voluntary leavers who go to a city post rather than another sector")
    breach_rate: float = ratio(
        "share of obligated staff per year", "FACTS.md: 86.1% of compulsory-service medical graduates served (Front. Public Health 2023) -> 1-0.861^(1/6) = 0.025/yr")
    breach_observed_penalty_yuan: float = money(
        "yuan", "the breach penalty in force where breach_rate was observed (compulsory-service medical graduates); "
        "only a penalty above or below it shifts the breach odds (assumption: = free_medical_students.breach_penalty_yuan)")
    exit_age_slope: Mapping[Field, float] = param(
        "logit per year of age above 40, by field", "assumption: younger staff leave more (turnover falls with age "
        "and tenure; rural teachers: about half of those first assigned to rural schools later move to county/town "
        "schools, FACTS.md); see baseline.toml line comment", -0.5, 0.5)
    outside_performance_share: float = param(
        "performance pay / base pay of the outside option", "assumption: outside employers do not follow 57号 §9, "
        "so the outside pay keeps the 2016 performance share (= baseline pay.performance_share)", 0, 5)
    penalty_salience: float = param(
        "utility per 1,000 yuan of breach penalty", "assumption: a penalty weighs as much as income_coef x penalty / 12 months", 0, 5)
    upward_rate_per_reserved_share: float = ratio(
        "share of staff per year per unit share of reserved posts", "assumption: 57号 §7 reserved province/city posts open an upward path")


@dataclass(frozen=True)
class Titles:
    min_years: Mapping[TitleStep, float] = param("years at the current title", "assumption: typical 5 years bachelor's to intermediate and intermediate to senior", 1, 30)
    pass_rate: Mapping[TitleStep, Mapping[Tier, float]] = ratio("assumption: senior-title pass rates not verified (FACTS.md)", "share of eligible applicants per year")
    apply_rate: float = ratio("assumption: share of eligible staff who apply in a year")
    skill_effect: float = param("logit per z-score of skill", "assumption", 0, 5)
    tilted_standards: bool = param("on/off", "57号 §4: papers, research, foreign language and computer tests not required")
    tilted_odds_factor: float = param("odds multiplier", "assumption: effect of dropping paper and language requirements", 1, 10)
    separate_grouping: bool = param("on/off", "57号 §5: separate grouping, review and pass rate for grassroots senior titles")
    separate_group_pass_rate: float = ratio("assumption: pass rate of the separate grassroots group (senior step)")
    exceptional_promotion: bool = param("on/off", "57号 §5: exceptional promotion for long rural service")
    exceptional_after_years: float = param("years of rural service", "assumption: 57号 §5 says 'long'; 20 years", 1, 45)
    directed_senior: bool = param("on/off", "57号 §6: 定向评价、定向使用 senior titles valid only at the grassroots")
    directed_pass_rate: float = ratio("assumption: pass rate of directed senior evaluation (township staff)")
    # --- issue 16 (simulator/evaluation.py)
    evaluation_method: EvaluationMethod = param(
        "one of review, exam, assessment", "57号 §5: 'flexibly use exam, review, exam-and-review, assessment-and-"
        "recognition (考核认定)'; review (评审) before 2016")
    evaluation_odds_factor: Mapping[EvaluationMethod, float] = param(
        "odds multiplier on passing", "assumption: an exam screens harder (0.8), assessment-and-recognition of "
        "practical work passes more grassroots staff (1.5); review = 1 (the calibrated rates)", 0.1, 10)
    evaluation_skill_factor: Mapping[EvaluationMethod, float] = param(
        "multiplier on skill_effect", "assumption: an exam selects on tested skill (1.5), assessment of practical "
        "work less (0.6); review = 1", 0, 5)
    non_public_channel: bool = param(
        "on/off", "57号 §5: open the title channel of non-public economic and social organisations' professionals")
    non_public_applicant_share: float = param(
        "extra applicants per vacancy, relative", "assumption: titled professionals of non-public/social "
        "organisations add 10% to the applicant pool once their titles are recognised", 0, 5)
    directed_on_leaving: DirectedOnLeaving = param(
        "one of lose, keep, convert", "57号 §6: 'qualification re-evaluation and confirmation after leaving the "
        "grassroots'; lose before 2016 (the title is valid only at the grassroots)")
    directed_convert_after_years: float = param(
        "years holding the directed title", "assumption: with convert, a directed title held this long is "
        "confirmed as a regular title on leaving (57号 §6 leaves the rule to provinces)", 0, 45)
    training_linked: bool = param(
        "on/off", "57号 §12: link continuing education to appraisal, appointment and title evaluation")
    training_link_odds_factor: float = param(
        "odds multiplier on passing when training_hours >= sufficient_hours", "assumption: completing the "
        "required hours is credited in evaluation and appointment", 1, 10)


@dataclass(frozen=True)
class Posts:
    authorized_share_of_demand: Mapping[Tier, float] = param("authorized posts (编制) / demand", "assumption", 0, 2)
    senior_cap: Mapping[Tier, Mapping[Field, float]] = ratio(
        "assumption; FACTS.md: teachers' senior shares in 2000 were 16.3% high school, 3.3% middle, 0.1% primary", "max share of posts at senior grades 1-7")
    intermediate_cap: Mapping[Tier, Mapping[Field, float]] = ratio("assumption: caps not verified (FACTS.md)", "max share of posts at grades 8-10")
    cap_uplift: Mapping[TitleStep, float] = ratio("57号 §8: 'appropriately raise' middle and senior ratios; size assumption", "added to the cap share")
    special_posts_per_county: Mapping[Field, float] = param(
        "township special posts (特设岗位) created per county per year", "57号 §8: outside unit totals and ratios, up to grade 8; Gansu set aside 14,427 posts (FACTS.md)", 0, 1000)
    special_post_grade: int = param("professional grade (1-13)", "57号 §8: special posts may be appointed up to grade 8", 1, 13)
    grade_step_years: float = param(
        "years at grade per grade step", "assumption: one professional (pay) grade up within the title band every 3 years at grade", 1, 10)
    directed_senior_share: float = ratio("57号 §8: directed senior posts under total control outside the cap; size assumption", "share of township posts")
    # --- issue 16 (simulator/evaluation.py)
    dynamic_ratio: bool = param(
        "on/off", "57号 §8: a dynamic adjustment mechanism of post-structure ratios (caps follow the unit's staff)")
    dynamic_ratio_rate: float = ratio(
        "assumption: each year a cap closes 20% of the gap to the unit's title holders at that level",
        "share of the gap per year")
    dynamic_ratio_max_uplift: float = ratio(
        "assumption: a cap never rises more than 10% of authorized posts above its plan", "share of authorized posts")
    management_grade_promotion: bool = param(
        "on/off", "57号 §8: grade promotion (职员等级晋升) for management staff of county and township units")
    management_post_release: float = ratio(
        "assumption: management staff promoted in their own grades release 1% of authorized posts they held in "
        "the professional middle/senior ratios", "share added to both caps")


@dataclass(frozen=True)
class Recruitment:
    entry_threshold: float = param("z-score of minimum skill", "assumption; 57号 §7 relaxes entry conditions (lower = more relaxed)", -5, 5)
    applicants_per_vacancy: Mapping[Field, float] = param("applicants per vacancy at threshold 0 in a class-0 township", "assumption", 0, 100)
    # --- issue 16 (simulator/supply.py)
    supply_response: float = param(
        "extra applicants (relative) per unit of the field's vacancy rate, lagged", "57号 §11: colleges adjust "
        "programmes to grassroots needs; 0 before 2016 (applicants exogenous); size assumption", 0, 10)
    supply_lag_years: int = param(
        "years", "assumption: a bachelor's programme opened for a field graduates after 4 years", 1, 10)
    entrepreneurship_grants_per_county: float = param(
        "grants per county per year", "57号 §16: entrepreneurship support for graduates at the grassroots; 0 before "
        "2016; size assumption", 0, 1000)
    entrepreneurship_grant_yuan: float = money(
        "yuan per grant", "assumption: local start-up grants for graduates are of the order of 10,000 yuan")
    entrepreneurship_applicant_gain: float = param(
        "extra township applicants (relative) per grant per county", "assumption: each grant a county offers "
        "draws 2% more graduates to its township vacancies", 0, 1)
    quota_share: float = ratio("assumption: share of open vacancies that get a recruitment quota each year")
    hardship_tilt: float = param("extra applicants per hardship class (relative)", "57号 §7: special tilt to hardship areas; size assumption", 0, 5)
    recruit_skill_mean: float = param("z-score", "assumption: open-market applicants average 0", -5, 5)
    contract_share: Mapping[Tier, float] = ratio("assumption: share of recruits on contracts outside 编制")
    reserved_upward_share: float = ratio("57号 §7: province/city units reserve posts for people with grassroots experience; size assumption")
    reserved_upward_min_years: float = param(
        "years of grassroots service", "assumption: 'grassroots work experience' required for the reserved posts of 57号 §7 = 2 years served", 0, 45)


@dataclass(frozen=True)
class Pay:
    base_by_grade: tuple[float, ...] = param(
        "yuan/month, grade 1 (top) to 13", "assumption: 2006 post+grade wage scale scaled to 2016 levels", 0, None, length=13)
    performance_share: float = param("performance pay / base pay", "assumption; 57号 §9 performance pay", 0, 5)
    performance_tilt_township: float = param("extra performance share in township units", "57号 §9: tilt to hardship/remote; size assumption", 0, 5)
    hardship_allowance_by_class: tuple[float, ...] = param(
        "yuan/month, class 1 to 6", "assumption: FACTS.md says amounts not verified", 0, None, length=6)
    hardship_growth: float = param("share per year", "57号 §9: normal growth mechanism; size assumption", 0, 1)
    township_subsidy: bool = param("on/off", "57号 §9: township work subsidy (乡镇工作补贴)")
    township_subsidy_by_band: tuple[float, ...] = param(
        "yuan/month for <10, 10-20, >20 years served", "FACTS.md: >=200/month; local schemes 200/300/400", 0, None, length=3)
    township_subsidy_remote_extra: float = money("yuan/month in remote townships", "FACTS.md: +80 in remote townships")
    # --- issue 16 (simulator/supply.py)
    scarce_talent_tilt: float = param(
        "extra performance share in units recruiting high-level/scarce talent", "57号 §9: tilt the performance-"
        "pay total of such units; 0 before 2016; size assumption", 0, 5)
    scarce_talent_unit_share: float = ratio(
        "assumption: a third of township units recruit high-level or scarce talent (the tilt is spread over "
        "township units in expectation)", "share of township units")
    tech_transfer_income: Mapping[Field, float] = money(
        "yuan/month per professional", "57号 §9: income from transferring technology and technical services "
        "(science, agriculture, engineering); 0 before 2016; size assumption")
    long_service_awards: bool = param(
        "on/off", "57号 §10: awards and honours first for professionals with long grassroots service")
    award_min_years: float = param("years of grassroots service", "assumption: 'long' service = 20 years", 0, 45)
    award_rate: float = ratio("assumption: 2% of eligible staff are honoured per year", "share of eligible staff per year")
    award_yuan: float = money("yuan per award", "assumption: a one-off award of 10,000 yuan")
    award_honour_factor: float = param(
        "utility of the honour as a multiple of the award's money", "assumption: the honour weighs as much as the "
        "money (1)", 0, 10)


@dataclass(frozen=True)
class Programme:
    places_per_year: float = param("recruits per year, national", "see baseline.toml line comment", 0, 1e7)
    field_shares: Mapping[Field, float] = ratio("programme definition", "share of places per field")
    regions: tuple[str, ...] = param("regions eligible (east/central/west)", "programme definition")
    term_years: float = param("years of obligation", "programme definition", 0, 10)
    subsidy_yuan_per_year: float = money("yuan/year per participant", "see baseline.toml line comment")
    payer: Payer = param("who pays the subsidy", "programme definition")
    breach_penalty_yuan: float = money("yuan", "see baseline.toml line comment")
    post_term_stay: float = ratio("see baseline.toml line comment", "share staying at term end")
    recruit_skill: float = param("z-score", "assumption", -5, 5)
    min_hardship_class: int = param(
        "hardship class 0-6", "programme definition: only counties of this hardship class or above receive places "
        "(0 = every county of the regions; see baseline.toml line comment)", 0, 6)
    applicants_per_place: float = param(
        "applicants per place in a class-0 township with no incentives",
        "take-up (simulator/programmes.py, take_up): a placed place is taken up with probability 1 - exp(-A), "
        "A = this x the attractiveness of the county's township entry post (hardship, remoteness, pay, as for "
        "open recruitment); 0 = not modelled (every placed place is taken up); see baseline.toml line comment", 0, 1000)
    central_funded_share: float = ratio(
        "funding rule (simulator/programmes.py): the share of the places funded by the central budget, placed only "
        "in counties of central and western provinces (the central subsidy goes to 中西部); the rest is shared over "
        "all the programme's regions by township demand; see baseline.toml line comment")


@dataclass(frozen=True)
class Programmes:
    special_post_teachers: Programme
    agri_extension_posts: Programme
    gp_special_posts: Programme
    free_normal_students: Programme
    free_medical_students: Programme
    sanzhi_yifu: Programme
    tuition_compensation: Programme
    scale: float = param("multiplier on every programme's places", "assumption: 1 = the documented level", 0, 100)


@dataclass(frozen=True)
class Training:
    hours_per_year: float = param("hours per person per year", "57号 §12 and FACTS.md: at least 90 hours", 0, 2000)
    cost_per_hour: float = money("yuan per person-hour", "assumption")
    skill_gain_per_100h: float = param("z-score per 100 hours", "assumption", 0, 5)
    skill_decay: float = ratio("assumption: yearly loss of skill without training", "z-score per year")
    sufficient_hours: float = param("hours/year counted as 'sufficient training' in the DCE", "FACTS.md: 90-hour rule", 0, 2000)
    # --- issue 16 (simulator/supply.py)
    study_share: float = ratio(
        "57号 §12: select grassroots professionals for study at universities, colleges, hospitals, institutes "
        "(进修); 0 before 2016; size assumption", "share of staff per year")
    study_skill_gain: float = param("z-score per study stay", "assumption: a term of study = 0.3 SD of skill", 0, 5)
    study_cost_yuan: float = money("yuan per study stay", "assumption: a semester's fees, travel and replacement")
    promoted_training_hours: float = param(
        "hours per newly promoted professional", "57号 §12: special training for the newly promoted to "
        "intermediate and senior titles; 0 before 2016; size assumption", 0, 2000)
    talent_project_share: float = ratio(
        "57号 §13: national talent projects (知识更新工程 etc.) train grassroots key staff; 0 before 2016; size "
        "assumption", "share of staff per year")
    counterpart_share: float = ratio(
        "57号 §13: east-west counterpart support (对口支援) sends western grassroots staff to developed regions; "
        "0 before 2016; size assumption", "share of western staff per year")
    project_skill_gain: float = param("z-score per place", "assumption: a project or counterpart place = 0.2 SD", 0, 5)
    project_cost_yuan: float = money("yuan per place", "assumption")


@dataclass(frozen=True)
class Flexible:
    secondment_fte_per_county: Mapping[Field, float] = param("full-time equivalents per county", "57号 §15: secondments, counterpart support; size assumption", 0, 1000)
    expert_service_fte_per_county: Mapping[Field, float] = param("full-time equivalents per county", "57号 §15: expert service; size assumption", 0, 1000)
    rural_service_rule: bool = param("on/off", "57号 §15: one year of rural service before a senior title for urban teachers and doctors")
    rural_service_fte_per_1000_staff: Mapping[Field, float] = param("FTE per 1,000 local staff", "assumption", 0, 1000)
    cost_per_fte: float = money("yuan/year per FTE", "57号 §15 work and living subsidies; size assumption")


@dataclass(frozen=True)
class Mobility:
    internal_moves: bool = param(
        "on/off", "issue 15 / DESIGN.md: staff move between places (township -> county seat -> other counties); "
        "off = the pre-flow model (units fixed for life)")
    move_intercept_seat: Mapping[Field, float] = param(
        "logit", "calibrated: year-1 township -> county-seat moves match scenarios/data/published-mobility.toml "
        "(python -m simulator.calibrate_moves)", -15, 15)
    move_intercept_other_county: Mapping[Field, float] = param(
        "logit", "calibrated: year-1 cross-county share of township moves matches "
        "scenarios/data/published-mobility.toml (python -m simulator.calibrate_moves)", -15, 15)
    move_rate_target: Mapping[Field, float] = ratio(
        "scenarios/data/published-mobility.toml: health 3.8%/yr = 8.1% leaving x 47.3% to higher-level "
        "institutions (HRH 2009 7:24; Yu Bo 2014); other fields assumption", "township staff moving to a county seat per year")
    cross_county_share_target: float = ratio(
        "assumption: share of township staff's moves that cross a county line (93.6% of township health "
        "leavers stay in their province, Yu Bo 2014; no county-level figure found)", "share of moves")
    moving_cost_within_county: float = money(
        "yuan/month equivalent", "assumption: a change of unit inside the county (housing, family) costs a third of "
        "the county-vs-township WTP; absorbed partly by the calibrated intercept")
    moving_cost_cross_county: float = money(
        "yuan/month equivalent", "assumption: hukou, 身份 (编制 transfer) and social-insurance barriers of a move to "
        "another county, about the public-vs-private WTP (57号 §14 names these barriers)")
    barrier_reduction: float = ratio(
        "57号 §14: break hukou/地域/身份 barriers and make social insurance portable; size assumption (0 before 2016)",
        "share of the cross-county moving cost removed")
    min_service_years_township: float = param(
        "years of grassroots service", "assumption: common local practice, new township recruits serve at least 5 "
        "years before a transfer to the county seat (minimum service period in recruitment announcements; not verified)",
        0, 45)
    title_credit_township: float = param(
        "extra years counted per township year", "57号 §15: grassroots experience counts toward priority promotion; "
        "size assumption (0 before 2016)", 0, 2)
    transfer_share_of_vacancies: float = ratio(
        "assumption: county-seat bureaus fill most vacancies by selection (选调) from township staff before open "
        "recruitment", "share of a county-seat unit's vacancies offered to transfers each year")
    age_coef: float = param(
        "logit per age band (<35, 35-44, 45+)", "assumption: movers are mostly young (HRH 2009: 3-13 years of "
        "experience)", -5, 5)


@dataclass(frozen=True)
class Budget:
    total_yuan: float = money("yuan/year", "assumption: the fund the optimizer allocates")
    payer_shares: Mapping[Region, Mapping[Payer, float]] = ratio("57号 §18; split by region is an assumption", "share of cost")
    path_yuan: tuple[float, ...] = money(
        "yuan/year for years 1..N (one figure per year); empty = total_yuan in a single-period plan",
        "the user's: 57号 §18 leaves the yearly amounts to each level of government")
    payer_limit_yuan: Mapping[Payer, float] = param(
        "yuan/year per payer; -1 = no limit of its own (then derived from payer_shares)",
        "the user's: 57号 §18 funds come from central, provincial and county budgets", -1, None)


@dataclass(frozen=True)
class Targets:
    year: int = param("simulated year (1 = the first); 0 = horizon.years", "57号 §3: targets are set for 5-10 years", 0, 50)
    fields: tuple[Field, ...] = param("fields the objective and targets cover; empty = all five", "the user's")
    coverage: Mapping[Field, float] = param(
        "staff / demand at the end of the target year; 0 = optimizer.coverage_target",
        "57号 §3: staff numbers 'basically meet' need; per-field levels are the user's", 0, 1)
    objective_year: Literal["all", "last"] = param(
        "all = shortfall of every year counts; last = the target year only", "DESIGN.md (second system: money by year)")


@dataclass(frozen=True)
class OptimizerSettings:
    objective: Objective = param("one of shortfall, equity, cost", "DESIGN.md")
    coverage_target: float = param("staff / demand", "57号 §3: staff numbers 'basically meet' need; 0.85 assumption", 0, 1)
    target_share_of_counties: float = ratio("assumption: share of counties that must reach the target (cost objective)")
    weight_per_hardship_class: float = param("extra priority weight per hardship class", "assumption; 57号 §8 priority to 老少边穷 areas", 0, 100)
    weight_formerly_poor: float = param("extra priority weight", "assumption", 0, 100)
    weight_border: float = param("extra priority weight", "assumption", 0, 100)
    weight_ethnic_minority: float = param("extra priority weight", "assumption", 0, 100)
    weight_old_revolutionary: float = param("extra priority weight", "assumption", 0, 100)
    integer: bool = param("on/off", "posts and people are whole numbers")
    solver: Solver = param("highs or cbc", "DESIGN.md")
    time_limit_seconds: float = param("seconds", "assumption", 1, 86400)
    mip_gap: float = ratio("assumption: stated relative gap for integer models", "relative gap")


@dataclass(frozen=True)
class Scenario:
    name: str = param("text", "scenario file")
    description: str = param("text", "scenario file")
    horizon: Horizon
    region: RegionScope
    demand: Demand
    population: Population
    behaviour: Behaviour
    titles: Titles
    posts: Posts
    recruitment: Recruitment
    pay: Pay
    programmes: Programmes
    training: Training
    flexible: Flexible
    mobility: Mobility
    budget: Budget
    optimizer: OptimizerSettings
    targets: Targets
    timeline: Mapping[str, Mapping[int, Any]] = param(
        "calendar year -> value of a numeric or on/off key",
        "scenario file: parameters that change over time (see scenarios/loader.py, 'Time paths')")
