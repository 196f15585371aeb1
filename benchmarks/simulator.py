"""Benchmark: the simulator against a straightforward per-agent Mesa model of the same rules.

Measures, in one run (see benchmarks/README.md for recorded figures):

1. **Peer vs ours** at about 100,000 and 1,000,000 professionals for 10 years:
   agent-years per second of each and their ratio.  The peer
   (:class:`PeerModel`) is what a Mesa modeller would write first: one
   ``mesa.Agent`` per professional, ``AgentSet.shuffle_do("step")`` for the
   yearly personal decisions (ageing, retirement, term end, upward move,
   logit stay/leave, title evaluation), Python loops over the agents for
   appointments, recruitment (new agents), pay, training and counting.  It
   applies the same rules with the same parameters -- the same leave-utility
   terms, the same pass probabilities, caps, quotas, applicant pools and
   programme placement (the county bureaus' institutional rules, which are
   per county and not per professional, are called from the simulator's
   ``bureau`` module) -- from the same initial population, but draws its
   random numbers from ``model.random`` one at a time, so the two agree in
   distribution, not draw for draw; the benchmark prints both models'
   staff, exits and recruits so the agreement can be checked.  If the peer
   would take more than ``--peer-budget`` seconds, it runs fewer years and
   its speed is taken per agent-year (printed as such).
   Populations: province 22 (Jilin, 116,206 professionals) and provinces
   41 + 37 (Henan and Shandong, 1,013,438).  Speed is agent-years per second
   of the yearly steps (initialisation excluded for both), by CPU time of the
   process (robust when other jobs share the machine) and by wall time; ours
   is the median of three runs, the peer runs once.
2. **National default**: ``simulate(baseline)`` on all 2,853 county-level
   units (about 7 million professionals), 10 years, 1 replication, 1 worker:
   wall time, CPU time and peak memory (``resource.getrusage``, ru_maxrss).
   Run in a fresh process so the peak belongs to it alone.
3. **One province x 50 replications** with ``workers=2``: province 36
   (Jiangxi, 100 county-level units, 262,502 professionals), 10 years.

Usage::

    python benchmarks/simulator.py                    # everything (about 10 minutes)
    python benchmarks/simulator.py --only peer        # peer comparison only
    python benchmarks/simulator.py --only national
    python benchmarks/simulator.py --only province --reps 50 --workers 2
    python benchmarks/simulator.py --json out.json    # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mesa  # noqa: E402
import numpy as np  # noqa: E402

import scenarios  # noqa: E402
from simulator import behaviour, bureau, mobility  # noqa: E402
from simulator.model import TalentModel  # noqa: E402
from simulator.params import NF, NP, NT, TOWNSHIP, compile_params  # noqa: E402
from simulator.population import (BAND_BOTTOM, BAND_TOP, CH_OPEN, CH_PROGRAMME0, CH_SPECIAL,  # noqa: E402
                                  authorized_posts, geography_from_table, initial_staff)
from simulator import programmes as progs  # noqa: E402
from simulator import recruitment as rec  # noqa: E402
from simulator.replicate import national_township_demand  # noqa: E402

SIZES = {"100k": ["22"], "1M": ["41", "37"]}


# ============================================================================= the per-agent peer

class Professional(mesa.Agent):
    """One professional as one Python object (the peer's design)."""

    def __init__(self, model, unit, age, served, at_title, at_grade, grade, post, title, kind, directed, skill,
                 contract, obligation, in_term, programme, remote):
        super().__init__(model)
        self.unit = unit
        self.field = (unit // NT) % NF
        self.tier = unit % NT
        county = unit // (NF * NT)
        self.region = model.region[county]
        self.hclass = model.hardship[county]
        self.age, self.served, self.at_title, self.at_grade = age, served, at_title, at_grade
        self.grade, self.post, self.title, self.kind, self.directed = grade, post, title, kind, directed
        self.skill, self.contract = skill, contract
        self.obligation, self.in_term, self.programme, self.remote = obligation, in_term, programme, remote

    # ------------------------------------------------------------------ the yearly personal decisions
    def step(self):
        m, p = self.model, self.model.p
        r = m.random.random
        self.age += 1
        self.served += 1
        self.at_title += 1 + (p.title_credit_township if (p.internal_moves and self.tier == TOWNSHIP) else 0.0)
        self.at_grade += 1
        if self.in_term:
            self.obligation -= 1
        if self.age >= p.retirement_age:
            m.leave(self, "retirement")
            return
        if self.in_term and self.obligation <= 0:                      # term end
            self.in_term = False
            if r() >= p.prog_post_term_stay[self.programme]:
                m.leave(self, "term_end")
                return
            self.contract = False
        else:
            obligated = self.in_term
            if (p.upward_rate > 0 and not obligated and self.served >= p.upward_min_years
                    and r() < p.upward_rate):
                m.leave(self, "upward")
                return
            if r() < 1.0 / (1.0 + math.exp(-self.leave_logit())):
                if obligated:
                    m.leave(self, "breach")
                elif r() < p.city_share_of_exits:
                    m.leave(self, "city")
                else:
                    m.leave(self, "other_sector")
                return
        self.evaluate_title()

    def income(self) -> float:
        m, p = self.model, self.model.p
        base = m.base[self.grade - 1]
        perf = p.performance_share + (p.performance_tilt_township if self.tier == TOWNSHIP else 0.0)
        inc = base * (1.0 + perf) + m.allowance[self.hclass]
        if p.township_subsidy and self.tier == TOWNSHIP:
            band = (self.served >= 10) + (self.served >= 20)
            inc += m.subsidy_band[band] + (p.township_subsidy_remote_extra if self.remote else 0.0)
        if self.in_term:
            inc += m.prog_subsidy[self.programme] / 12.0
        return inc

    def pass_probability(self, step: int) -> float:
        m, p = self.model, self.model.p
        x = m.pass_logit[step][self.tier] + p.skill_effect * self.skill
        pr = 1.0 / (1.0 + math.exp(-x))
        if p.directed_senior and step == 1 and self.tier == TOWNSHIP:
            pd = 1.0 / (1.0 + math.exp(-(m.directed_logit + p.skill_effect * self.skill)))
            pr = 1.0 - (1.0 - pr) * (1.0 - pd)
        return pr

    def expected_wait(self) -> float:
        m, p = self.model, self.model.p
        if self.post >= 2:
            return 2.0
        a = m.appoint_chance[self.unit][self.post]
        if self.title > self.post:
            return 1.0 / a
        step = min(self.title, 1)
        remaining = max(p.min_years[step] - self.at_title, 0.0)
        if p.exceptional_promotion and self.served >= p.exceptional_after_years:
            remaining = 0.0
        return remaining + 1.0 / max(p.apply_rate * self.pass_probability(step), 1e-6) + 1.0 / a - 1.0

    def leave_logit(self) -> float:
        m, p = self.model, self.model.p
        b = p.income_coef / 1000.0
        g_out = behaviour.OUTSIDE_GRADE_DIRECTED if (self.directed and self.post == 2) else self.grade
        y_out = m.outside_ratio[self.region] * m.base[g_out - 1] * (1.0 + p.performance_share)
        w = min(max(self.expected_wait(), behaviour.W_MIN), behaviour.W_MAX)
        attr = (y_out - self.income()
                - (p.wtp_county if self.tier == 0 else 0.0)
                + p.wtp_hardship * self.hclass
                - (0.0 if self.contract else p.wtp_public)
                - p.wtp_training * m.train_score
                + p.wtp_promotion * math.log(w / 2.0) / math.log(2.5))
        v = m.intercept[self.field] + b * attr
        if self.in_term and self.obligation > 0:
            v += m.breach_shift[self.field] - p.penalty_salience * m.prog_penalty[self.programme] / 1000.0
        return v

    def evaluate_title(self):
        m, p = self.model, self.model.p
        if self.title >= 2 or self.post != self.title:
            return
        step = self.title
        ok = self.at_title >= p.min_years[step]
        exceptional = (not ok and p.exceptional_promotion and self.served >= p.exceptional_after_years)
        if not (ok or exceptional) or m.random.random() >= p.apply_rate:
            return
        x = m.pass_logit[step][self.tier] + p.skill_effect * self.skill
        if m.random.random() < 1.0 / (1.0 + math.exp(-x)):
            self.title += 1
            self.at_title = 0.0
            m.count("titles_passed_senior" if step == 1 else "titles_passed_intermediate")
        elif p.directed_senior and step == 1 and self.tier == TOWNSHIP:
            if m.random.random() < 1.0 / (1.0 + math.exp(-(m.directed_logit + p.skill_effect * self.skill))):
                self.title, self.directed, self.at_title = 2, True, 0.0
                m.count("titles_passed_directed")


class PeerModel(mesa.Model):
    """The per-agent model: same rules, one Agent per professional (see the module docstring)."""

    def __init__(self, sc, table, seed: int, programme_base_rf):
        super().__init__(seed=seed)
        p = self.p = compile_params(sc)
        geo = self.geo = geography_from_table(table)
        self.region = [int(x) for x in geo.region]
        self.province = [str(x) for x in geo.province]
        self.hardship = [int(x) for x in geo.hardship]
        self.base = [float(x) for x in p.base_by_grade]
        self.outside_ratio = [float(x) for x in p.outside_income_ratio]
        self.subsidy_band = [float(x) for x in p.township_subsidy_by_band]
        self.prog_subsidy = [float(x) for x in p.prog_subsidy]
        self.prog_penalty = [float(x) for x in p.prog_penalty]
        self.intercept = [float(x) for x in p.exit_intercept]
        lg = lambda x: math.log(max(min(x, 1 - 1e-9), 1e-9) / (1 - max(min(x, 1 - 1e-9), 1e-9)))  # noqa: E731
        self.breach_shift = [lg(p.breach_rate) - lg(float(x)) for x in p.exit_rate_target]
        tilt = math.log(p.tilted_odds_factor) if p.tilted_standards else 0.0
        self.pass_logit = [[lg(float(p.pass_rate[0, t])) + tilt for t in range(2)],
                           [lg(p.separate_group_pass_rate if p.separate_grouping else float(p.pass_rate[1, t])) + tilt
                            for t in range(2)]]
        self.directed_logit = lg(p.directed_pass_rate) + tilt
        self.train_score = min(1.0, p.training_hours / p.sufficient_hours) if p.sufficient_hours > 0 else 1.0
        self.n_units = geo.n_units
        u_county, self.u_field, self.u_tier, u_region, self.u_hard, self.u_remote = geo.unit_arrays()
        rates = progs.entitlement_rates(p, geo.region, geo.demand[:, :, TOWNSHIP], progs.programme_base(programme_base_rf, p))
        self.inst = bureau.Institutions.create(authorized_posts(p, geo), rates)
        self.inst.senior_cap[...] = np.floor(self.inst.authorized * p.senior_cap.T + 1e-9)
        self.inst.inter_cap[...] = np.floor(self.inst.authorized * p.intermediate_cap.T + 1e-9)
        s = initial_staff(p, geo, seed)          # the same initial population as the simulator's
        cols = {k: v.tolist() for k, v in s.columns().items()}
        for i in range(len(s)):
            Professional(self, cols["unit"][i], cols["age"][i], cols["served"][i], cols["at_title"][i],
                         cols["at_grade"][i], cols["grade"][i], cols["post"][i], cols["title"][i], cols["kind"][i],
                         cols["directed"][i], cols["skill"][i], cols["contract"][i], cols["obligation"][i],
                         cols["in_term"][i], cols["programme"][i], cols["remote"][i])
        self.people = self.agents_by_type[Professional]
        self.history = []
        self.counts = {}

    def count(self, name, k=1):
        self.counts[name] = self.counts.get(name, 0) + k

    def leave(self, agent, reason):
        self.count("exits")
        self.count(f"exits_{reason}")
        agent.remove()

    def _unit_counts(self, retiring_excluded: bool = False):
        """Occupancy and waiting per unit, counted agent by agent (optionally without this year's retirees)."""
        n = self.n_units
        last_age = self.p.retirement_age - 1.0
        occ = [[0, 0, 0] for _ in range(n)]          # regular intermediate, regular senior, directed
        wait = [[0, 0] for _ in range(n)]
        special = [0] * n
        total = [0] * n
        for a in self.people:
            if retiring_excluded and a.age >= last_age:
                continue
            u = a.unit
            total[u] += 1
            if a.kind == 1:
                special[u] += 1
            elif a.kind == 2:
                occ[u][2] += 1
            elif a.post >= 1:
                occ[u][a.post - 1] += 1
            if a.title >= 1 and a.post == 0:
                wait[u][0] += 1
            if a.title == 2 and a.post < 2:
                wait[u][1] += 1
        return occ, wait, special, total

    def step(self):
        t = self.steps
        p, inst = self.p, self.inst
        self.counts = {}
        if np.any(p.demand_growth):     # demand.growth_per_year: this year's authorized posts, as the simulator
            inst.authorized[...] = authorized_posts(p, self.geo, t)
        bureau.plan_posts(p, inst)
        self.allowance = [float(x) * (1.0 + p.hardship_growth) ** t for x in p.hardship_allowance]
        sen_cap = inst.senior_cap.reshape(-1)
        int_cap = inst.inter_cap.reshape(-1)
        dir_tot = inst.directed_total.reshape(-1)
        occ, wait, _, _ = self._unit_counts(retiring_excluded=True)   # retirement comes first
        self.appoint_chance = []
        for u in range(self.n_units):
            free_i = max(int_cap[u] - occ[u][0], 0)
            free_s = max(sen_cap[u] - occ[u][1], 0) + max(dir_tot[u] - occ[u][2], 0)
            self.appoint_chance.append((min(max(free_i / max(wait[u][0], 1), 0.05), 1.0),
                                        min(max(free_s / max(wait[u][1], 1), 0.05), 1.0)))
        # 1-3: every professional decides (retire, term end, upward, stay/leave, title)
        self.people.shuffle_do("step")
        # 2b: internal moves (simulator.mobility's rules), agent by agent
        if p.internal_moves:
            self._moves()
        # 4: grade steps and appointment to free posts
        occ, _, _, _ = self._unit_counts()
        cand_s, cand_d, cand_i = {}, {}, {}
        for a in self.people:
            if a.at_grade >= p.grade_step_years and a.grade > BAND_TOP[a.post] and a.kind != 1:
                a.grade -= 1
                a.at_grade = 0.0
            if a.title == 2 and a.post < 2:
                (cand_d if a.directed else cand_s).setdefault(a.unit, []).append(a)
        for cands, level, kind, cap, slot in ((cand_s, 2, 0, sen_cap, 1), (cand_d, 2, 2, dir_tot, 2)):
            for u, lst in cands.items():
                free = int(cap[u] - occ[u][slot])
                if free <= 0:
                    continue
                lst.sort(key=lambda a: -(min(a.at_title, 99.0) + 1e-3 * self.random.random()))
                for a in lst[:free]:
                    if kind == 0 and a.kind == 0 and a.post == 1:
                        occ[u][0] -= 1
                    a.post, a.grade, a.kind, a.at_grade = 2, int(BAND_BOTTOM[2]), kind, 0.0
                    self.count("promotions_senior" if kind == 0 else "promotions_directed_senior")
        for a in self.people:
            if a.title >= 1 and a.post == 0:
                cand_i.setdefault(a.unit, []).append(a)
        for u, lst in cand_i.items():
            free = int(int_cap[u] - occ[u][0])
            if free <= 0:
                continue
            lst.sort(key=lambda a: -(min(a.at_title, 99.0) + 1e-3 * self.random.random()))
            for a in lst[:free]:
                a.post, a.grade, a.kind, a.at_grade = 1, int(BAND_BOTTOM[1]), 0, 0.0
                self.count("promotions_intermediate")
        # 5: recruitment (vacancies counted agent by agent; bureau rules per county as in the simulator)
        _, _, special, total = self._unit_counts()
        auth = inst.authorized.reshape(-1)
        vac = np.array([max(auth[u] - (total[u] - special[u]), 0) for u in range(self.n_units)], dtype=float)
        inst.vacancies[...] = vac.reshape(inst.vacancies.shape)
        bureau.plan_recruitment(p, inst)
        r = self.random.random
        for c in range(inst.prog_placed.shape[0]):
            for j in range(NP):
                for f in range(NF):
                    n = int(inst.prog_placed[c, j, f])
                    u = (c * NF + f) * NT + TOWNSHIP
                    for _ in range(n):
                        self._recruit(u, CH_PROGRAMME0 + j, skill=float(p.prog_recruit_skill[j]) + p.skill_sd * _normal(r),
                                      grade=13, contract=True, programme=j, obligation=int(p.prog_term[j]))
        a_open = rec.applicants_per_post(p, 13, self.u_field, self.u_tier, self.u_hard, self.u_remote,
                                         np.array(self.allowance)[self.u_hard])
        quota = inst.quota.reshape(-1)
        for u in range(self.n_units):
            q = int(quota[u])
            prob = 1.0 - math.exp(-max(float(a_open[u]), 0.0))
            for _ in range(q):
                if r() < prob:
                    self._recruit(u, CH_OPEN, skill=None, grade=13, contract=None)
        stock = inst.special_stock.reshape(-1)
        a_sp = rec.applicants_per_post(p, p.special_post_grade, self.u_field, self.u_tier, self.u_hard,
                                       self.u_remote, np.array(self.allowance)[self.u_hard])
        for u in range(self.n_units):
            for _ in range(max(int(stock[u]) - special[u], 0)):
                if r() < 1.0 - math.exp(-max(float(a_sp[u]), 0.0)):
                    self._recruit(u, CH_SPECIAL, skill=None, grade=p.special_post_grade, contract=False)
        # 6-7: pay and training, agent by agent
        cost = 0.0
        gain = p.skill_gain_per_100h * p.training_hours / 100.0 - p.skill_decay
        staff = 0
        for a in self.people:
            cost += 12.0 * a.income()
            a.skill += gain
            staff += 1
        self.history.append({"year": t, "staff": staff, "exits": self.counts.get("exits", 0),
                             "recruits": self.counts.get("recruits", 0), "cost_pay_yuan": cost,
                             "moves": self.counts.get("moves_township_to_seat", 0) + self.counts.get("moves_other", 0)})

    def _moves(self):
        """Transfer offers by the county-seat bureaus, each agent's logit over stay / own county seat / another
        county's seat (the terms of ``simulator.mobility``, evaluated per agent with scalar math), the
        destinations' choice of applicants by skill, and the moves (post kept if free at the destination)."""
        p, inst, r = self.p, self.inst, self.random.random
        b = p.income_coef / 1000.0
        occ, _, special, total = self._unit_counts()
        auth = inst.authorized.reshape(-1)
        vac = np.array([max(auth[u] - (total[u] - special[u]), 0) for u in range(self.n_units)], dtype=float)
        inst.vacancies[...] = vac.reshape(inst.vacancies.shape)
        bureau.plan_transfers(p, inst)
        offers = [int(x) for x in inst.transfer_offers.reshape(-1)]
        a_seat, a_other = [float(x) for x in p.move_intercept_seat], [float(x) for x in p.move_intercept_other]
        tilt = (p.performance_share, p.performance_share + p.performance_tilt_township)
        ref = [int(g) for g in mobility.REF_GRADE]
        town_sub = [[0.0, 0.0] for _ in range(3)]
        if p.township_subsidy:
            town_sub = [[self.subsidy_band[k], self.subsidy_band[k] + p.township_subsidy_remote_extra] for k in range(3)]

        def prospect(u, level):
            if level >= 2:
                return 0.0
            credit = 1.0 + (p.title_credit_township if u % NT == TOWNSHIP else 0.0)
            w = 0.5 * float(p.min_years[level]) / credit + 1.0 / self.appoint_chance[u][level]
            return -math.log(min(max(w, 1.0), 20.0) / 2.0) / math.log(2.5)

        def seat_income(c, level):
            return self.base[ref[level] - 1] * (1.0 + tilt[0]) + self.allowance[self.hardship[c]]

        # destination attractiveness of every county's seat units (institution-level, once a year)
        n_c = len(self.hardship)
        weight = {}
        for c in range(n_c):
            for f in range(NF):
                su = (c * NF + f) * NT
                for level in range(3):
                    d = b * (seat_income(c, level) - p.wtp_hardship * self.hardship[c] + p.wtp_promotion * prospect(su, level))
                    weight[c, f, level] = offers[su] * math.exp(d)
        members, off_tot = {}, {}
        for c in range(n_c):
            members.setdefault(self.province[c], []).append(c)
        for prov, cs in members.items():
            for f in range(NF):
                off_tot[prov, f] = sum(offers[(c * NF + f) * NT] for c in cs)
        cost = p.moving_cost_cross * (1.0 - p.barrier_reduction)
        applications = {}
        for a in self.people:
            town = a.tier == TOWNSHIP
            if a.kind != 0 or a.directed or a.in_term or (town and a.served < p.min_service_township):
                continue
            c = a.unit // (NF * NT)
            su = a.unit - a.tier
            lv = a.post
            band = (a.served >= 10) + (a.served >= 20)
            y_here = (self.base[ref[lv] - 1] * (1.0 + tilt[a.tier]) + self.allowance[a.hclass]
                      + (town_sub[band][1 if a.remote else 0] if town else 0.0))
            pr_here = prospect(a.unit, lv)
            ab = p.move_age_coef * ((a.age >= mobility.AGE_LO) + (a.age >= mobility.AGE_HI))
            e_s = 0.0
            if town and offers[su] > 0:
                v = (a_seat[a.field] + ab + b * (seat_income(c, lv) - y_here + p.wtp_county
                                                                 + p.wtp_promotion * (prospect(su, lv) - pr_here)
                                                                 - p.moving_cost_county))
                e_s = math.exp(min(v, 50.0))
            cs = members[self.province[c]]
            s_excl = sum(weight[c2, a.field, lv] for c2 in cs) - weight[c, a.field, lv]
            e_o = 0.0
            if s_excl > 0:
                v = (a_other[a.field] + ab + math.log(s_excl) - math.log(max(off_tot[self.province[c], a.field], 1))
                     + b * (-y_here - p.wtp_promotion * pr_here + (p.wtp_county if town else 0.0)
                            + p.wtp_hardship * a.hclass - cost))
                e_o = math.exp(min(v, 50.0))
            x = r() * (1.0 + e_s + e_o)
            if x < e_s:
                dest = su
            elif x < e_s + e_o:
                target, acc, pick = r() * s_excl, 0.0, -1
                for c2 in cs:
                    if c2 == c or weight[c2, a.field, lv] <= 0:
                        continue
                    pick, acc = c2, acc + weight[c2, a.field, lv]
                    if acc > target:
                        break
                dest = (pick * NF + a.field) * NT
            else:
                continue
            applications.setdefault(dest, []).append(a)
        int_cap, sen_cap = inst.inter_cap.reshape(-1), inst.senior_cap.reshape(-1)
        free = {}
        for d, lst in applications.items():
            lst.sort(key=lambda a: -(a.skill + 1e-3 * r()))
            for a in lst[:offers[d]]:
                if d not in free:
                    free[d] = [max(int(int_cap[d]) - occ[d][0], 0), max(int(sen_cap[d]) - occ[d][1], 0)]
                lv = a.post
                if lv == 2 and free[d][1] > 0:
                    free[d][1] -= 1
                elif lv >= 1 and free[d][0] > 0:
                    lv = 1
                    free[d][0] -= 1
                else:
                    lv = 0
                if lv != a.post:
                    a.post = lv
                    if a.grade < BAND_TOP[lv]:
                        a.grade, a.at_grade = int(BAND_TOP[lv]), 0.0
                self.count("moves_township_to_seat" if a.tier == TOWNSHIP and d == a.unit - a.tier else "moves_other")
                a.unit, a.tier, a.remote = d, 0, False
                county = d // (NF * NT)
                a.region, a.hclass = self.region[county], self.hardship[county]

    def _recruit(self, u, channel, skill, grade, contract, programme=-1, obligation=0):
        p, r = self.p, self.random.random
        if skill is None:                                  # truncated normal above the threshold
            lo = _ndtr((p.entry_threshold - p.recruit_skill_mean) / p.skill_sd)
            skill = p.recruit_skill_mean + p.skill_sd * _ndtri(lo + r() * (1.0 - lo))
        if contract is None:
            contract = r() < p.recruit_contract_share[u % NT]
        level = 0 if grade >= 11 else (1 if grade >= 8 else 2)
        remote = (u % NT == TOWNSHIP) and r() < self.u_remote[u]
        Professional(self, u, p.entry_age + 3.0 * r(), 0.0, 0.0, 0.0, grade, level, level,
                     1 if channel == CH_SPECIAL else 0, False, skill, contract, obligation, obligation > 0,
                     programme, remote)
        self.count("recruits")


def _normal(r):
    return _ndtri(min(max(r(), 1e-12), 1 - 1e-12))


def _ndtr(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


_STD_NORMAL = None


def _ndtri(q):
    global _STD_NORMAL
    if _STD_NORMAL is None:
        from statistics import NormalDist
        _STD_NORMAL = NormalDist()
    return _STD_NORMAL.inv_cdf(min(max(q, 1e-12), 1 - 1e-12))


# ============================================================================= measurements

def _table(provinces):
    return scenarios.county_table(provinces=provinces)


def run_ours(sc, table, years, seed=1):
    from simulator.metrics import RAW_INDEX
    base = national_township_demand(table)
    t0 = time.perf_counter()
    m = TalentModel(sc, table, seed=seed, years=years, programme_base_rf=base)
    n0 = len(m.staff)
    init = time.perf_counter() - t0
    agent_years, step_wall, step_cpu = 0, 0.0, 0.0
    hist = []
    for t in range(1, years + 1):
        agent_years += len(m.staff)
        w, c = time.perf_counter(), time.process_time()
        m.step()
        step_wall += time.perf_counter() - w
        step_cpu += time.process_time() - c
        hist.append({"year": t, "staff": float(m.raw[RAW_INDEX["staff"], :, t].sum()),
                     "exits": float(m.raw[RAW_INDEX["exits"], :, t].sum()),
                     "moves": float(m.raw[RAW_INDEX["moves_township_to_seat"], :, t].sum()
                                    + m.raw[RAW_INDEX["moves_out"], :, t].sum()),
                     "recruits": float(m.raw[RAW_INDEX["recruits"], :, t].sum())})
    return {"n0": n0, "years": years, "agent_years": agent_years, "wall_s": time.perf_counter() - t0,
            "init_s": init, "step_wall_s": step_wall, "step_cpu_s": step_cpu, "history": hist,
            "bureau_mode": m.bureau_mode}


def run_peer(sc, table, years, budget_s, seed=1):
    base = national_township_demand(table)
    t0 = time.perf_counter()
    m = PeerModel(sc, table, seed, base)
    n0 = len(m.people)
    init = time.perf_counter() - t0
    agent_years, done, step_wall, step_cpu = 0, 0, 0.0, 0.0
    for t in range(1, years + 1):
        agent_years += len(m.people)
        w, c = time.perf_counter(), time.process_time()
        m.step()
        step_wall += time.perf_counter() - w
        step_cpu += time.process_time() - c
        done = t
        if (time.perf_counter() - t0) + step_wall / t > budget_s and t < years:
            break
    return {"n0": n0, "years": done, "years_asked": years, "agent_years": agent_years,
            "wall_s": time.perf_counter() - t0, "init_s": init, "step_wall_s": step_wall, "step_cpu_s": step_cpu,
            "history": m.history}


def peer_comparison(sizes, years, budget, ours_runs=3):
    sc = scenarios.load("baseline")
    out = {}
    for label, provinces in sizes.items():
        table = _table(provinces)
        runs = sorted((run_ours(sc, table, years) for _ in range(ours_runs)), key=lambda r: r["step_cpu_s"])
        ours = runs[len(runs) // 2]                     # the median of a few runs (each takes seconds)
        peer = run_peer(sc, table, years, budget)       # one run (each takes minutes)
        # speed of the yearly steps (initialisation excluded for both), per agent-year, by CPU time of this
        # process (robust when other work shares the machine) and by wall time
        r = {}
        for clock in ("cpu", "wall"):
            r[clock] = (ours["agent_years"] / ours[f"step_{clock}_s"], peer["agent_years"] / peer[f"step_{clock}_s"])
        out[label] = {"provinces": provinces, "professionals": ours["n0"], "ours": ours, "peer": peer,
                      "ours_agent_years_per_cpu_s": r["cpu"][0], "peer_agent_years_per_cpu_s": r["cpu"][1],
                      "ratio_cpu": r["cpu"][0] / r["cpu"][1],
                      "ours_agent_years_per_wall_s": r["wall"][0], "peer_agent_years_per_wall_s": r["wall"][1],
                      "ratio_wall": r["wall"][0] / r["wall"][1]}
        print(f"\n[{label}] provinces {'+'.join(provinces)}: {ours['n0']:,} professionals "
              f"(bureaus: {ours['bureau_mode']})")
        print(f"  ours (median of {ours_runs} runs): {ours['years']} years, steps {ours['step_cpu_s']:.2f} s CPU / {ours['step_wall_s']:.2f} s wall "
              f"(init {ours['init_s']:.1f} s): {r['cpu'][0]:,.0f} agent-years per CPU s, {r['wall'][0]:,.0f} per wall s")
        note = "" if peer["years"] == years else f" (stopped after {peer['years']} of {years} years: budget; rate per agent-year)"
        print(f"  peer: {peer['years']} years, steps {peer['step_cpu_s']:.1f} s CPU / {peer['step_wall_s']:.1f} s wall "
              f"(init {peer['init_s']:.1f} s): {r['cpu'][1]:,.0f} agent-years per CPU s, {r['wall'][1]:,.0f} per wall s{note}")
        print(f"  ratio ours / peer: {r['cpu'][0] / r['cpu'][1]:,.0f}x (CPU time), {r['wall'][0] / r['wall'][1]:,.0f}x (wall time)")
        print("  agreement (year: staff ours / peer, exits ours / peer, recruits ours / peer, moves ours / peer):")
        for ho, hp in zip(ours["history"], peer["history"]):
            print(f"    {ho['year']:2d}: {ho['staff']:>10,.0f} / {hp['staff']:>10,.0f}   {ho['exits']:>8,.0f} / "
                  f"{hp['exits']:>8,.0f}   {ho['recruits']:>8,.0f} / {hp['recruits']:>8,.0f}   "
                  f"{ho['moves']:>7,.0f} / {hp['moves']:>7,.0f}")
    return out


NATIONAL_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter(); c0 = time.process_time()
import scenarios, simulator
sc = scenarios.load("baseline")
res = simulator.simulate(sc, years=10, replications=1, seed=20160701, workers=1)
wall = time.perf_counter() - t0
print(json.dumps({{"wall_s": wall, "cpu_s": time.process_time() - c0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "professionals": float(res.value("staff", res.years[0])),
                  "counties": int(res.counties["county_id"].nunique()),
                  "county_rows": len(res.counties),
                  "coverage_2026": res.value("coverage", res.years[-1])}}))
"""


def national():
    """The national default in a fresh process (imports and table loading included in the wall time)."""
    code = NATIONAL_CHILD.format(root=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n[national] {r['counties']:,} counties, {r['professionals']:,.0f} professionals, 10 years, 1 replication: "
          f"wall {r['wall_s']:.1f} s (CPU {r['cpu_s']:.1f} s), peak memory {r['peak_rss_mb']:,.0f} MB, "
          f"{r['county_rows']:,} county rows")
    return r


def province_reps(province, reps, workers, years=10):
    import simulator
    sc = scenarios.load("baseline")
    table = _table([province])
    t0 = time.perf_counter()
    res = simulator.simulate(sc, provinces=[province], years=years, replications=reps, seed=20160701,
                             workers=workers, table=table)
    wall = time.perf_counter() - t0
    n = float(res.value("staff", res.years[0]))
    print(f"\n[province {province}] {len(table)} counties, {n:,.0f} professionals, {years} years x {reps} "
          f"replications, workers={workers}: wall {wall:.1f} s")
    return {"province": province, "counties": len(table), "professionals": n, "replications": reps,
            "workers": workers, "wall_s": wall}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["peer", "national", "province"], action="append")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--peer-budget", type=float, default=300.0, help="seconds allowed to the peer per size")
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    ap.add_argument("--province", default="36")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    what = args.only or ["peer", "national", "province"]
    print(f"python {platform.python_version()}, numpy {np.__version__}, mesa {mesa.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    figures = {}
    if "peer" in what:
        figures["peer"] = peer_comparison({k: SIZES[k] for k in args.sizes}, args.years, args.peer_budget)
    if "national" in what:
        figures["national"] = national()
    if "province" in what:
        figures["province"] = province_reps(args.province, args.reps, args.workers, args.years)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
