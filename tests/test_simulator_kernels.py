"""The compiled kernels (simulator/kernels.py) against the numpy code they replace: bit for bit.

Each test keeps the numpy formulation the simulator used before the kernels
(or still uses as its reference) and compares on real model states, so a
change of a kernel that changes any value fails here before it reaches the
golden files (tests/test_golden.py).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import special

import scenarios
import simtables
from simulator import behaviour, bureau, kernels, pay, posts, rng, titles
from simulator.model import TalentModel
from simulator.params import NP, TOWNSHIP
from simulator.population import BAND_TOP, COLUMNS, GRADE_STEP_YEARS, rank_within


@pytest.fixture(scope="module")
def policy():
    return scenarios.apply(scenarios.load("policy-2016"),
                           {"behaviour.breach_rate": 0.2, "posts.special_posts_per_county.health": 3.0})


@pytest.fixture(scope="module")
def model_state(policy):
    """A policy-2016 model after three years (programme participants, directed titles, special posts exist)."""
    model = TalentModel(policy, simtables.small_table(8, 1.0, "64"), seed=11, years=5)
    for _ in range(3):
        model.step()
    s = model.staff
    assert s.in_term.any() and s.directed.any() and (s.kind == 1).any() and (s.kind == 2).any()
    return model


def _staff_copy(model):
    return copy.deepcopy(model.staff)


# ----------------------------------------------------------------------------- random numbers

def test_person_uniforms_bit_identical_to_numpy_reference():
    g = np.random.default_rng(2026)
    pid = np.concatenate([
        g.integers(0, 2 ** 63, 200_003, dtype=np.uint64) * np.uint64(2) + g.integers(0, 2, 200_003, dtype=np.uint64),
        np.arange(1000, dtype=np.uint64),                                              # initial stock ids
        rng.recruit_ids(7, np.arange(500, dtype=np.int32), 3, np.arange(500)),        # recruit ids (bit 62)
        np.array([0, 2 ** 64 - 1, 2 ** 63, 2 ** 62 - 1], dtype=np.uint64),             # extremes
    ])
    for seed, year, purpose in [(0, 0, rng.INIT_AGE), (20160701, 3, rng.EXIT), (2 ** 64 - 1, 10, rng.TITLE_PASS),
                                (123456789, 63, rng.SPECIAL_FILL)]:
        fast = rng.person_uniforms(seed, year, purpose, pid)
        ref = rng.person_uniforms_numpy(seed, year, purpose, pid)
        assert fast.dtype == np.float64
        np.testing.assert_array_equal(fast, ref)
    assert len(rng.person_uniforms(1, 1, rng.EXIT, np.zeros(0, dtype=np.uint64))) == 0
    # any integer dtype of ids is read as uint64, as before
    np.testing.assert_array_equal(rng.person_uniforms(5, 2, rng.EXIT, np.arange(100)),
                                  rng.person_uniforms_numpy(5, 2, rng.EXIT, np.arange(100, dtype=np.uint64)))


def test_like_float32_follows_numpy_promotion():
    assert kernels.like_float32(60.0).dtype == np.float32          # a Python float is a weak scalar
    assert kernels.like_float32(3).dtype == np.float32
    assert kernels.like_float32(np.float64(0.1)).dtype == np.float64
    x = np.float32([0.1, 0.3])
    assert np.array_equal(0.8 * x, kernels.like_float32(0.8) * x)


# ----------------------------------------------------------------------------- ageing, exits

def test_age_one_year_equals_numpy(model_state):
    m = model_state
    s1, s2 = _staff_copy(m), _staff_copy(m)
    ret_age = float(m.p.retirement_age)
    # numpy (the model before the kernel)
    s1.age += 1
    s1.served += 1
    s1.at_title += 1
    s1.at_grade += 1
    s1.obligation[s1.in_term] -= 1
    retiring = s1.age >= ret_age
    tab_ref = m._tab_end - posts.state_table(s1, m.n_units, np.flatnonzero(retiring))
    # kernel
    got = np.empty(len(s2), dtype=bool)
    tab = m._tab_end.copy()
    kernels.age_one_year(s2.age, s2.served, s2.at_title, s2.at_grade, s2.obligation, s2.in_term, np.float32(ret_age),
                         True, got, s2.unit, s2.post, s2.kind, s2.title, s2.directed, tab.reshape(-1))
    np.testing.assert_array_equal(got, retiring)
    np.testing.assert_array_equal(tab, tab_ref)
    for k in COLUMNS:
        np.testing.assert_array_equal(getattr(s1, k), getattr(s2, k), err_msg=k)
    assert retiring.any()


def test_exit_decisions_equal_numpy_with_term_ends_and_upward_moves(model_state):
    m = copy.deepcopy(model_state)
    m.start_year(4)
    s = m.staff
    assert (s.in_term & (s.obligation <= 0)).any()                   # some terms end this year
    assert m.p.upward_rate > 0
    s1, s2 = copy.deepcopy(s), copy.deepcopy(s)
    a, ended_a = behaviour.decide_exits(m.p, s1, m.ctx, m.seed, 4, retiring=m.retiring, thin=True)
    b, ended_b = behaviour.decide_exits(m.p, s2, m.ctx, m.seed, 4, retiring=m.retiring, thin=False)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ended_a, ended_b)
    for k in COLUMNS:                                                 # term ends update in_term and contract alike
        np.testing.assert_array_equal(getattr(s1, k), getattr(s2, k), err_msg=k)
    for code in behaviour.EXIT_CODES.values():
        assert (a == code).any(), code


def test_exit_tally_and_compaction_equal_numpy(model_state):
    m = model_state
    s = m.staff
    code = (np.random.default_rng(3).random(len(s)) < 0.1).astype(np.int8) * np.int8(2)
    code[::97] = 6
    nr = len(behaviour.EXIT_CODES) + 1
    by_reason = np.zeros(m.n_units * nr, dtype=np.int64)
    tab = m._tab_end.copy()
    n_stay = kernels.exit_tally(code, s.unit, s.post, s.kind, s.title, s.directed, tab.reshape(-1), by_reason, nr)
    gone = code > 0
    ref = np.bincount(s.unit * nr + code, minlength=m.n_units * nr)
    ref[::nr] = 0                                                     # stayers are not counted by the kernel
    np.testing.assert_array_equal(by_reason, ref)
    np.testing.assert_array_equal(tab, m._tab_end - posts.state_table(s, m.n_units, np.flatnonzero(gone)))
    assert n_stay == (~gone).sum()
    # compaction: holes filled from the end, as the numpy version did
    s1, s2 = copy.deepcopy(s), copy.deepcopy(s)
    s1.keep(~gone, n_stay)
    n_new = int(np.count_nonzero(~gone))
    holes = np.flatnonzero(gone[:n_new])
    movers = n_new + np.flatnonzero(~gone[n_new:])
    for k in COLUMNS:
        buf = s2._buf[k]
        buf[holes] = buf[movers]
        np.testing.assert_array_equal(getattr(s1, k), buf[:n_new], err_msg=k)


# ----------------------------------------------------------------------------- titles

def _evaluate_numpy(p, staff, unit_tier, seed, year):
    """titles.evaluate as written in numpy before the kernels."""
    eligible, exceptional = titles.eligible_by_years(p, staff)
    idx = np.flatnonzero(eligible)
    applies = rng.person_uniforms(seed, year, rng.TITLE_APPLY, staff.pid[idx]) < p.apply_rate
    idx = idx[applies]
    pid = staff.pid[idx]
    step = staff.title[idx]
    tier = unit_tier[staff.unit[idx]]
    skill = staff.skill[idx]
    u = rng.person_uniforms(seed, year, rng.TITLE_PASS, pid)
    passed = u < special.expit(titles.pass_logit(p, step, tier, skill))
    got = passed
    directed = None
    if p.directed_senior:
        try_dir = np.flatnonzero(~passed & (step == 1) & (tier == TOWNSHIP))
        ud = rng.person_uniforms(seed, year, rng.TITLE_DIRECTED, pid[try_dir])
        directed = try_dir[ud < special.expit(titles.directed_logit(p, skill[try_dir]))]
        got = passed.copy()
        got[directed] = True
    win = idx[got]
    staff.title[win] += 1
    staff.at_title[win] = 0.0
    out = {"intermediate": idx[passed & (step == 0)], "senior": idx[passed & (step == 1)],
           "directed": idx[directed] if directed is not None else idx[:0]}
    if directed is not None and len(directed):
        staff.directed[out["directed"]] = True
    out["exceptional"] = win[exceptional[win]] if exceptional is not None else idx[:0]
    return out


@pytest.mark.parametrize("changes", [{}, {"titles.exceptional_promotion": False, "titles.directed_senior": False,
                                          "titles.tilted_standards": False}])
def test_title_evaluation_equals_numpy(model_state, changes):
    m = model_state
    p = m.p if not changes else TalentModel(scenarios.apply(scenarios.load("policy-2016"), changes),
                                            simtables.small_table(2, 0.2, "64"), seed=1, years=1).p
    s1, s2 = _staff_copy(m), _staff_copy(m)
    s1.at_title += 2.0                                                # more people eligible
    s2.at_title += 2.0
    ref = _evaluate_numpy(p, s1, m.ctx.unit_tier, m.seed, 4)
    got = titles.evaluate(p, s2, m.ctx.unit_tier, m.seed, 4)
    assert set(got) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    for k in COLUMNS:
        np.testing.assert_array_equal(getattr(s1, k), getattr(s2, k), err_msg=k)
    assert len(ref["intermediate"]) and len(ref["senior"])
    if not changes:
        assert len(ref["directed"]) and len(ref["exceptional"])


# ----------------------------------------------------------------------------- posts

def _appoint_level_numpy(staff, idx, free_u, seed, year):
    if len(idx) == 0:
        return idx
    unit = staff.unit[idx]
    room = free_u[unit] > 0
    idx, unit = idx[room], unit[room]
    if len(idx) == 0:
        return idx
    order = rng.person_uniforms(seed, year, rng.APPOINT_ORDER, staff.pid[idx])
    priority = np.minimum(staff.at_title[idx].astype(float), 99.0) + order * 1e-3
    r = rank_within(unit, priority)          # exact two-key ranking (lexsort)
    return idx[r < free_u[unit]]


def test_appoint_level_ranks_exactly_and_ignores_row_order():
    g = np.random.default_rng(7)
    n = 60_000

    class S:
        pass

    s = S()
    # at large unit numbers a single float key unit x 400 - priority rounds near-equal priorities
    # together; the kernel's ranking must stay exact there
    s.unit = (27_000 + g.integers(0, 40, n)).astype(np.int32)
    s.at_title = g.integers(0, 12, n).astype(np.float32)
    s.at_title[::5] = 150.0                                           # capped at 99
    s.pid = g.integers(0, 2 ** 62, n, dtype=np.uint64)
    free = np.zeros(27_100)
    free[27_000:27_040] = g.integers(-2, 2500, 40)                    # none, some (contested) and plenty
    idx = np.sort(g.choice(n, 40_000, replace=False)).astype(np.int64)
    for year in range(1, 6):
        ref = _appoint_level_numpy(s, idx, free, 99, year)
        got = kernels.appoint_level(idx, s.unit, s.at_title, s.pid, free, rng.stream_add(99, year, rng.APPOINT_ORDER))
        np.testing.assert_array_equal(got, ref)
    key = s.unit[idx].astype(float) * 400.0 - (np.minimum(s.at_title[idx].astype(float), 99.0)
                                               + rng.person_uniforms(99, 5, rng.APPOINT_ORDER, s.pid[idx]) * 1e-3)
    assert len(np.unique(key)) < len(key)                             # the single key would have tied
    # the same people in another row order: the same people appointed
    perm = g.permutation(n)
    t = S()
    t.unit, t.at_title, t.pid = s.unit[perm], s.at_title[perm], s.pid[perm]
    where = np.empty(n, dtype=np.int64)
    where[perm] = np.arange(n)                                        # old row -> new row
    idx2 = np.sort(where[idx])
    add = rng.stream_add(99, 5, rng.APPOINT_ORDER)
    a = kernels.appoint_level(idx, s.unit, s.at_title, s.pid, free, add)
    b = kernels.appoint_level(idx2, t.unit, t.at_title, t.pid, free, add)
    assert set(s.pid[a].tolist()) == set(t.pid[b].tolist()) and len(a) > 0


def test_appoint_level_separates_near_equal_priorities_at_large_unit_numbers():
    # two candidates for one free post in unit 27,000, same years at title, draws 1e-7 apart: a key
    # unit x 400 - priority cannot tell them apart (its spacing there is 1.9e-9 > 1e-3 x 1e-7)
    add = rng.stream_add(99, 3, rng.APPOINT_ORDER)
    pids = np.random.default_rng(11).integers(0, 2 ** 62, 400_000, dtype=np.uint64)
    u = rng.person_uniforms(99, 3, rng.APPOINT_ORDER, pids)
    o = np.argsort(u)
    d = np.diff(u[o])
    k = int(np.flatnonzero((d > 0) & (d < 1e-6))[0])
    low, high = pids[o[k]], pids[o[k + 1]]
    free = np.zeros(27_001)
    free[27_000] = 1
    for first, second in ((low, high), (high, low)):
        unit = np.array([27_000, 27_000], dtype=np.int32)
        at = np.array([4.0, 4.0], dtype=np.float32)
        pid = np.array([first, second], dtype=np.uint64)
        got = kernels.appoint_level(np.array([0, 1], dtype=np.int64), unit, at, pid, free, add)
        assert pid[got].tolist() == [high]                            # the higher draw, wherever it sits


def test_state_table_and_aggregates_equal_numpy(model_state):
    s = model_state.staff
    nu = model_state.n_units
    code = ((s.post * 3 + s.kind) * 3 + s.title) * 2 + s.directed
    ref = np.bincount(s.unit * 54 + code, minlength=nu * 54).reshape(nu, 3, 3, 3, 2)
    tab = posts.state_table(s, nu)
    np.testing.assert_array_equal(tab, ref)
    idx = np.flatnonzero(s.contract)
    np.testing.assert_array_equal(posts.state_table(s, nu, idx),
                                  np.bincount((s.unit * 54 + code)[idx], minlength=nu * 54).reshape(nu, 3, 3, 3, 2))
    agg = posts.table_aggregates(tab)
    K = kernels
    expected = {K.AGG_STAFF: tab.sum(axis=(1, 2, 3, 4)), K.AGG_SPECIAL: tab[:, :, 1].sum(axis=(1, 2, 3)),
                K.AGG_DIRECTED_POST: tab[:, :, 2].sum(axis=(1, 2, 3)), K.AGG_SENIOR_REG: tab[:, 2, 0].sum(axis=(1, 2)),
                K.AGG_INTER_REG: tab[:, 1, 0].sum(axis=(1, 2)), K.AGG_SENIOR_TITLE: tab[:, :, :, 2].sum(axis=(1, 2, 3)),
                K.AGG_INTER_TITLE: tab[:, :, :, 1].sum(axis=(1, 2, 3)),
                K.AGG_DIRECTED_TITLE: tab[:, :, :, 2, 1].sum(axis=(1, 2)), K.AGG_SENIOR_POST: tab[:, 2].sum(axis=(1, 2, 3)),
                K.AGG_WAIT_I: tab[:, 0, :, 1:].sum(axis=(1, 2, 3)), K.AGG_WAIT_S: tab[:, :2, :, 2].sum(axis=(1, 2, 3))}
    assert len(expected) == K.N_AGG
    for col, values in expected.items():
        np.testing.assert_array_equal(agg[:, col], values, err_msg=str(col))
    assert (agg[:, K.AGG_SPECIAL] > 0).any() and (agg[:, K.AGG_DIRECTED_TITLE] > 0).any()


def test_grade_steps_and_waiting_equal_numpy(model_state):
    s1, s2 = _staff_copy(model_state), _staff_copy(model_state)
    s1.at_grade += 1.5
    s2.at_grade += 1.5
    move = (s1.grade > BAND_TOP[s1.post]) & (s1.at_grade >= GRADE_STEP_YEARS) & (s1.kind != 1)
    idx = np.flatnonzero(move)
    s1.grade[idx] -= 1
    s1.at_grade[idx] = 0.0
    posts.grade_steps(s2)
    np.testing.assert_array_equal(s1.grade, s2.grade)
    np.testing.assert_array_equal(s1.at_grade, s2.at_grade)
    assert len(idx)
    np.testing.assert_array_equal(kernels.waiting_for_post(s2.title, s2.post), np.flatnonzero(s2.title > s2.post))


# ----------------------------------------------------------------------------- pay, year end

def _yearly_costs_numpy(p, staff, n_units, unit_tier, unit_allowance, unit_subsidy=None):
    unit = staff.unit
    counts_ug = np.bincount(unit.astype(np.int64) * 13 + (staff.grade.astype(np.int64) - 1),
                            minlength=n_units * 13).reshape(n_units, 13).astype(float)
    base_u = counts_ug @ p.base_by_grade * 12.0
    perf_share = p.performance_share + np.where(unit_tier == TOWNSHIP, p.performance_tilt_township, 0.0)
    perf_u = base_u * perf_share
    staff_u = counts_ug.sum(axis=1)
    hard_u = staff_u * unit_allowance * 12.0
    if p.township_subsidy:
        tier = unit_tier[unit]
        town_u = np.bincount(unit, weights=pay.township_subsidy(p, staff, tier), minlength=n_units) * 12.0
    else:
        town_u = np.zeros(n_units)
    if unit_subsidy is not None:
        town_u = town_u + np.bincount(unit, minlength=n_units) * unit_subsidy * 12.0
    prog_up = np.zeros((n_units, NP))
    idx = np.flatnonzero(staff.in_term)
    if len(idx):
        key = unit[idx].astype(np.int64) * NP + staff.programme[idx]
        prog_up = (np.bincount(key, minlength=n_units * NP).reshape(n_units, NP) * p.prog_subsidy[None, :])
    return {"base_pay": base_u, "performance_pay": perf_u, "hardship_allowance": hard_u,
            "township_subsidy": town_u, "programme": prog_up}


def test_pay_and_year_end_tallies_equal_numpy(model_state):
    m = copy.deepcopy(model_state)
    p, s, nu, tier = m.p, m.staff, m.n_units, m.ctx.unit_tier
    assert p.township_subsidy and s.remote.any()
    allowance = m._allowance(3)
    sub = np.linspace(0.0, 300.0, nu)
    ref = _yearly_costs_numpy(p, s, nu, tier, allowance, unit_subsidy=sub)
    for tallies in (None, pay.pay_tallies(p, s, nu, tier)):
        got = pay.yearly_costs(p, s, nu, tier, allowance, unit_subsidy=sub, tallies=tallies)
        for k in ref:
            np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    # the model's year-end pass: training, post table, flags, skill sums and the same pay tallies
    delta = np.float32(0.07)
    skill_ref = s.skill + delta
    tab, flags, skill_sum, tallies = m._year_end_tallies(delta, pay_too=True)
    np.testing.assert_array_equal(s.skill, skill_ref)
    np.testing.assert_array_equal(tab, posts.state_table(s, nu))
    np.testing.assert_array_equal(flags, np.bincount(s.unit * 4 + s.contract * 2 + s.in_term,
                                                     minlength=4 * nu).reshape(nu, 2, 2))
    np.testing.assert_array_equal(skill_sum, np.bincount(s.unit, weights=s.skill.astype(float), minlength=nu))
    for a, b in zip(tallies, pay.pay_tallies(p, s, nu, tier)):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- bureaus

@pytest.mark.parametrize("scale", [1.0, 40.0])   # 40x the places: programmes exceed township vacancies
def test_bureau_recruitment_equals_numpy_rules(model_state, scale):
    inst = model_state.inst
    g = np.random.default_rng(int(scale))
    a, b = copy.deepcopy(inst), copy.deepcopy(inst)
    for x in (a, b):
        x.prog_rate *= scale
        x.vacancies[...] = g.integers(0, 30, x.vacancies.shape)
        g = np.random.default_rng(int(scale))                          # the same vacancies in both
    p = model_state.p
    for year in range(3):
        bureau.plan_recruitment_numpy(p, a)                           # all counties at once (batch)
        for i in range(a.authorized.shape[0]):                        # county by county (agents)
            bureau.plan_recruitment(p, b.row(i))
        for k in bureau.RECRUITMENT_STATE:
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    if scale > 1:
        assert (a.prog_unfilled > 0).any()
    assert (a.quota > 0).any()


def test_stable_argsort_equals_numpy_stable():
    g = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 17, 1000, 4097):
        key = g.integers(0, max(1, n // 4), n).astype(np.float64)   # many ties
        np.testing.assert_array_equal(kernels.stable_argsort(key), np.argsort(key, kind="stable"))
        key = g.random(n)
        np.testing.assert_array_equal(kernels.stable_argsort(key), np.argsort(key, kind="stable"))
        key = g.standard_normal(n) * 1e3                              # negative keys, and -0.0 ties +0.0
        key[: n // 5] = np.round(key[: n // 5] / 100.0)
        key[: min(n, 4)] = [-0.0, 0.0, -0.0, 5.0][: min(n, 4)]
        np.testing.assert_array_equal(kernels.stable_argsort(key), np.argsort(key, kind="stable"))


# ----------------------------------------------------------------------------- recruitment

def test_recruitment_kernels_equal_numpy(model_state):
    from simulator import recruitment
    m = model_state
    p, ctx = m.p, m.ctx
    g = np.random.default_rng(9)
    counts = g.integers(0, 7, m.n_units).astype(float)
    counts[::3] = 0
    # expand_units
    c = counts.astype(np.int64)
    unit_ref = np.repeat(np.arange(len(c), dtype=np.int32), c)
    rank_ref = np.arange(len(unit_ref), dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
    unit, rank = recruitment.expand_units(counts)
    assert unit.dtype == np.int32 and rank.dtype == np.int64
    np.testing.assert_array_equal(unit, unit_ref)
    np.testing.assert_array_equal(rank, rank_ref)
    # fill: each post's own draw keyed by (year, unit, post)
    a = g.random(m.n_units) * 2.0
    prob = np.clip(-np.expm1(-np.maximum(a, 0.0)), 0.0, 1.0)
    u = rng.person_uniforms(m.seed, 4, rng.RECRUIT_FILL, rng.recruit_ids(4, unit, 0, rank))
    ref = np.bincount(unit[u < prob[unit]], minlength=m.n_units)
    np.testing.assert_array_equal(recruitment.fill(m.seed, 4, rng.RECRUIT_FILL, counts, a), ref)
    # new_people: the per-recruit draws
    cols = recruitment.new_people(p, 4, m.seed, unit, rank, 1, skill=None, grade=13, contract=None,
                                  unit_tier=ctx.unit_tier, unit_remote=ctx.unit_remote)
    pid = rng.recruit_ids(4, unit, 1, rank)
    tier = ctx.unit_tier[unit]
    np.testing.assert_array_equal(cols["pid"], pid)
    np.testing.assert_array_equal(cols["age"], p.entry_age + 3.0 * rng.person_uniforms(m.seed, 4, rng.RECRUIT_AGE, pid))
    np.testing.assert_array_equal(cols["skill"],
                                  recruitment.recruit_skill(p, rng.person_uniforms(m.seed, 4, rng.RECRUIT_SKILL, pid)))
    np.testing.assert_array_equal(cols["contract"], rng.person_uniforms(m.seed, 4, rng.RECRUIT_CONTRACT, pid)
                                  < p.recruit_contract_share[tier])
    np.testing.assert_array_equal(cols["remote"], (tier == TOWNSHIP) & (
        rng.person_uniforms(m.seed, 4, rng.RECRUIT_REMOTE, pid) < ctx.unit_remote[unit]))
    assert cols["remote"].any() and cols["contract"].any() and not cols["contract"].all()
