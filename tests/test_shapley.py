"""Shapley estimators (grassroots.studies.shapley) on value functions with known answers, and
``compare --decompose levers`` on a small real run (shares add up to the total within 2 SE)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grassroots import cli
from grassroots.studies import shapley
from grassroots.studies.decomposition import (LEVER_COLUMNS, LeverOptions, changed_levers, decompose_levers,
                                              lever_family, lever_subset_document)

PLAYERS = [f"p{i}" for i in range(14)]
A = {p: float(i + 1) for i, p in enumerate(PLAYERS)}
C = 5.0   # interaction of p0 and p1


def additive_plus_pair(s: frozenset) -> np.ndarray:
    """v(S) = sum of a_i + C if p0 and p1 are both in S; two entries (the second = 2 x the first)."""
    v = sum(A[p] for p in s) + (C if {"p0", "p1"} <= s else 0.0)
    return np.array([v, 2 * v])


def known(p: str) -> float:
    return A[p] + (C / 2 if p in ("p0", "p1") else 0.0)


def test_exact_recovers_additive_plus_interaction():
    players = PLAYERS[:6]
    res = shapley.exact(players, additive_plus_pair)
    for p in players:
        assert res.phi[p] == pytest.approx([known(p), 2 * known(p)], abs=1e-12)
    assert res.total == pytest.approx(additive_plus_pair(frozenset(players)) - additive_plus_pair(frozenset()))


def test_antithetic_pairs_are_exact_for_a_pairwise_interaction():
    """An order and its reverse put p0 before p1 exactly once: each pair averages to the Shapley value."""
    res = shapley.sampled(PLAYERS, additive_plus_pair, stop_index=0, target_se=0.01, seed=3)
    assert res.method == "permutation" and res.converged and res.pairs == 4   # SE 0 at the first check (2 batches of 2)
    for p in PLAYERS:
        assert res.phi[p] == pytest.approx([known(p), 2 * known(p)], abs=1e-9)
        assert res.se[p] == pytest.approx([0.0, 0.0], abs=1e-9)


def three_way(s: frozenset) -> np.ndarray:
    """Additive + a three-way term 6 x 1[p0, p1, p2 in S]: the term splits 2/2/2."""
    return np.array([sum(A[p] for p in s) + (6.0 if {"p0", "p1", "p2"} <= s else 0.0)])


def test_sampling_converges_to_a_three_way_split_within_its_error():
    res = shapley.sampled(PLAYERS, three_way, stop_index=0, target_se=0.005, seed=1, max_pairs=400)
    for p in ("p0", "p1", "p2"):
        assert abs(res.phi[p][0] - (A[p] + 2.0)) <= 4 * res.se[p][0] + 1e-9
        assert res.se[p][0] > 0
    for p in PLAYERS[3:]:
        assert res.phi[p][0] == pytest.approx(A[p]) and res.se[p][0] == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=12, max_size=12), st.floats(-10, 10), st.integers(0, 2 ** 31 - 1))
def test_sampled_shares_add_up_to_the_total(a, c, seed):
    players = [f"q{i}" for i in range(12)]

    def v(s):
        x = sum(a[int(p[1:])] for p in s) + c * (len(s) >= 6) + 0.1 * len(s) ** 2
        return np.array([x])

    res = shapley.sampled(players, v, stop_index=0, target_se=1e-9, seed=seed, max_pairs=5)
    resid, se = shapley.efficiency(res)
    assert abs(resid[0]) <= 1e-9 * (1 + abs(res.total[0]))
    assert res.pairs <= 5


def test_same_seed_same_orders_same_estimates():
    a = shapley.sampled(PLAYERS, three_way, stop_index=0, target_se=1e-9, seed=7, max_pairs=6)
    b = shapley.sampled(PLAYERS, three_way, stop_index=0, target_se=1e-9, seed=7, max_pairs=6)
    assert all(np.array_equal(a.phi[p], b.phi[p]) for p in PLAYERS)
    assert a.pairs == 6 and not a.converged


def test_interactions_joint_minus_separate():
    got = shapley.interactions(list(itertools.combinations(["p0", "p1", "p2"], 2)), PLAYERS, additive_plus_pair)
    assert got[("p0", "p1", "alone")][0] == pytest.approx(C)
    assert got[("p0", "p1", "package")][0] == pytest.approx(C)
    assert got[("p0", "p2", "alone")][0] == pytest.approx(0.0)


def test_levers_are_keys_two_levels_down():
    base = {"name": "b", "titles": {"a": 1, "b": {"x": 1}}, "posts": {"c": 0}, "region": {"provinces": []}}
    pkg = {"name": "p", "titles": {"a": 2, "b": {"x": 2}}, "posts": {"c": 0}, "region": {"provinces": ["64"]}}
    assert changed_levers(base, pkg) == ["titles.a", "titles.b", "region.provinces"]
    assert [lever_family(lv) for lv in changed_levers(base, pkg)] == ["titles", "titles", "other"]
    doc = lever_subset_document(base, pkg, ["titles.b"])
    assert doc["titles"] == {"a": 1, "b": {"x": 2}} and base["titles"]["b"] == {"x": 1}


# ----------------------------------------------------------------------------- a real small run

SMALL = ["--province", "64", "--years", "1", "--replications", "2", "--quiet"]


def test_cli_decompose_levers_adds_up_within_two_se(tmp_path):
    out = tmp_path / "c"
    assert cli.main(["compare", "baseline", "lever-pay", *SMALL, "--decompose", "levers",
                     "--out", str(out)]) == 0
    dec = pd.read_csv(out / "decomposition.csv")
    assert list(dec.columns) == ["scenario", *LEVER_COLUMNS]
    parts = dec[dec["lever"] != "total"]
    assert set(parts["family"]) == {"pay"} and parts["lever"].nunique() == 6   # exact: <= 10 levers
    for (m, y), g in parts.groupby(["metric", "year"]):
        tot = dec[(dec.lever == "total") & (dec.metric == m) & (dec.year == y)]["share"].iloc[0]
        assert g["share"].sum() == pytest.approx(tot, rel=1e-9, abs=1e-9)
    inter = pd.read_csv(out / "interactions.csv")
    assert {"lever_a", "lever_b", "context", "interaction", "se"} <= set(inter.columns)
    assert (inter["se"] >= 0).all()            # 2 replications: an SE over replications for every row
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Strongest pairwise interactions" in html and "Standard error" in html


def test_sampled_levers_on_a_real_run_add_up_within_two_se():
    """Sampled shares (the coalitions of each round evaluated together on 2 worker processes) add up to the
    total within 2 SE, and equal, bit for bit, the shares from simulating every coalition one by one."""
    import scenarios
    import simulator
    from grassroots.studies.coalitions import CoalitionRunner
    table = scenarios.county_table(["64"])
    base, pkg = scenarios.load("baseline"), scenarios.load("lever-pay")

    def sim(sc, what=""):
        return simulator.simulate(sc, years=1, replications=2, seed=4, table=table)

    opts = LeverOptions(exact_max=2, max_pairs=3, target_se=1e-9, seed=2)
    args = (base, "baseline", [base, pkg], ["baseline", "lever-pay"], [sim(base), sim(pkg)])
    table_, inter, runs, info = decompose_levers(*args, sim, opts)
    many = CoalitionRunner(years=1, replications=2, seed=4, table=table, workers=2)
    table2, inter2, runs2, _ = decompose_levers(*args, lambda sc, what: many([(sc, what)])[0], opts,
                                                simulate_many=many)
    pd.testing.assert_frame_equal(table_, table2, check_exact=True)
    pd.testing.assert_frame_equal(inter, inter2, check_exact=True)
    assert runs == runs2 == many.runs > 0
    assert info["lever-pay"]["method"] == "permutation" and info["lever-pay"]["pairs"] == 3
    parts = table_[table_["lever"] != "total"]
    for (m, y), g in parts.groupby(["metric", "year"]):
        tot = table_[(table_.lever == "total") & (table_.metric == m) & (table_.year == y)]["share"].iloc[0]
        se = float(np.sqrt((g["se"] ** 2).sum()))
        assert abs(g["share"].sum() - tot) <= 2 * se + 1e-9 * (1 + abs(tot))
    assert not inter.empty and inter["se"].notna().all()


def test_exact_lever_shares_equal_the_average_over_every_order():
    """Exact Shapley shares (<= 10 levers) of a real run equal the brute-force definition: the marginal
    contribution of each lever averaged over all 6! = 720 orders of lever-pay's levers (same coalition values)."""
    import math

    import scenarios
    from grassroots.studies.coalitions import CoalitionRunner
    table = scenarios.county_table(["64"])
    base, pkg = scenarios.load("baseline"), scenarios.load("lever-pay")
    bd, pdoc = scenarios.to_dict(base), scenarios.to_dict(pkg)
    levers = changed_levers(bd, pdoc)
    assert len(levers) == 6
    many = CoalitionRunner(years=1, replications=1, seed=3, table=table)
    res, _, _, info = decompose_levers(base, "baseline", [base, pkg], ["baseline", "lever-pay"],
                                       [r.summary for r in many([(base, "b"), (pkg, "p")])],
                                       lambda sc, what: many([(sc, what)])[0],
                                       LeverOptions(top_interactions=0), simulate_many=many)
    assert info["lever-pay"]["method"] == "exact"
    subsets = [frozenset(c) for k in range(7) for c in itertools.combinations(levers, k)]
    docs = []
    for s in subsets:
        d = lever_subset_document(bd, pdoc, s)
        d["name"] = f"s{len(docs)}"
        docs.append((scenarios.from_dict(d, label="brute force", base=base), ""))
    v = {s: r.summary.set_index(["metric", "year"])["mean"] for s, r in zip(subsets, many(docs))}
    brute = {lv: 0.0 for lv in levers}
    for order in itertools.permutations(levers):
        before = frozenset()
        for lv in order:
            brute[lv] = brute[lv] + (v[before | {lv}] - v[before])
            before = before | {lv}
    got = res[res["lever"] != "total"].set_index(["lever", "metric", "year"])["share"]
    for lv in levers:
        want = (brute[lv] / math.factorial(6)).loc[got.loc[lv].index]
        np.testing.assert_allclose(got.loc[lv].to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-12, err_msg=lv)
    assert res[res["lever"] != "total"]["se"].eq(0).all()


def test_report_names_the_strongest_interactions_in_both_languages():
    from grassroots.report import write_report
    rows = []
    for a, b, ctx, x, se in [("titles.directed_senior", "posts.directed_senior_share", "package", 0.012, 0.002),
                             ("pay.township_subsidy", "recruitment.quota_share", "alone", -0.004, 0.001),
                             ("pay.hardship_growth", "training.hours_per_year", "alone", 0.0001, 0.0002)]:
        rows += [{"scenario": "policy-2016", "lever_a": a, "lever_b": b, "context": ctx, "metric": "coverage",
                  "year": y, "interaction": x * (y - 2015), "se": se} for y in (2016, 2017)]
    inter = pd.DataFrame(rows)
    en = write_report(interactions=inter, strict=True, lang="en")
    assert "Strongest pairwise interactions" in en and "Standard error" in en
    i1, i2 = en.index("titles.directed_senior"), en.index("pay.township_subsidy")
    assert i1 < i2 and en.index("pay.hardship_growth") > i2          # strongest first, by |interaction|
    assert "the rest of the package" in en and "the base (the two levers alone)" in en and "2017" in en
    # 2017's values: interaction 0.024 with SE 0.002 -> '+2.40 pp' and '±0.20 pp' (the error's two digits
    # set the decimals), never '+0.2 pp' for an error
    assert "+2.40 pp" in en and "±0.20 pp" in en and "−0.80 pp" in en and "±0.10 pp" in en
    zh = write_report(interactions=inter, strict=True, lang="zh")
    assert "最强的两两交互作用" in zh and "标准误" in zh and "政策包中的其余杠杆" in zh
    no_se = write_report(interactions=inter.drop(columns="se"), strict=True, lang="en")
    assert "Strongest pairwise interactions" in no_se
    assert no_se.count("Standard error") == en.count("Standard error") - 1   # the column, not the caption


def test_bad_decompose_options_exit_2(tmp_path, capsys):
    code = cli.main(["compare", "baseline", "lever-pay", *SMALL, "--decompose", "levers", "--decompose-se", "0",
                     "--decompose-metric", "nope", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "--decompose-se" in err and "--decompose-metric" in err
    assert not (tmp_path / "x").exists()


def test_coalitions_resume_from_their_cache_and_equal_simulate(tmp_path):
    """A coalition finished once is read back, not simulated again, and its summary is ``simulate``'s."""
    import scenarios
    import simulator
    from grassroots.studies.coalitions import CoalitionRunner
    table = scenarios.county_table(["64"])
    subs = [(scenarios.load("baseline"), "b"), (scenarios.load("lever-pay"), "p")]
    first = CoalitionRunner(years=1, replications=2, seed=9, table=table, cache=tmp_path)
    a = first(subs)
    assert first.runs == 2 and len(list(tmp_path.glob("*.npy"))) == 2
    again = CoalitionRunner(years=1, replications=2, seed=9, table=table, cache=tmp_path)
    b = again(subs)
    assert again.runs == 0
    for x, y, (sc, _) in zip(a, b, subs):
        pd.testing.assert_frame_equal(x.summary, y.summary, check_exact=True)
        pd.testing.assert_frame_equal(x.summary, simulator.simulate(sc, years=1, replications=2, seed=9,
                                                                    table=table).summary, check_exact=True)
