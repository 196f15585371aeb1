"""``grassroots optimize | size-budget | frontier``: argument checks, result folders, file contents."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from grassroots import cli
from grassroots.cli import optimize as cmd_optimize
from optimizer import ALLOCATION_COLUMNS, OptimizerInputError

# A budget row may be exceeded by the LP solver's primal feasibility tolerance (HiGHS: 1e-7 in the
# model's scaled units, after its own row scaling): seen up to 1.2e-9 of the budget on the real
# county table; 1e-6 of the budget (1 yuan per million) is the stated bound.
SOLVER_FEASIBILITY_REL = 1e-6


def ns(tmp_path, **kw):
    base = dict(scenario="policy-2016", province=["64"], budget=1e8, objective=None, integer=False, solver=None,
                target=None, share=None, confidence=None, budgets=None, write_lp=False, out=str(tmp_path / "run"),
                quiet=True, years=None, replications=2, seed=1, workers=1, county_table=None, field=None,
                budget_path=None, payer_budget=None, objective_year=None, static=True, no_check=True)
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.parametrize("command, kw, key", [
    ("optimize", dict(budget=-5.0), "--budget"),
    ("optimize", dict(objective="fastest"), "--objective"),
    ("optimize", dict(solver="gurobi"), "--solver"),
    ("size-budget", dict(target=1.2), "--target"),
    ("size-budget", dict(share=-0.1), "--share"),
    ("size-budget", dict(confidence=1.5, static=False, no_check=False), "--confidence"),
    ("size-budget", dict(confidence=0.9, no_check=False), "--static"),
    ("frontier", dict(budgets="1e9:0:5"), "--budgets"),
    ("frontier", dict(budgets=None), "--budgets"),
    ("optimize", dict(province=["99"]), "--province"),
])
def test_bad_arguments_one_line_and_no_folder(tmp_path, command, kw, key):
    fn = {"optimize": cmd_optimize.optimize, "size-budget": cmd_optimize.size_budget, "frontier": cmd_optimize.frontier}[command]
    with pytest.raises(OptimizerInputError) as ei:
        fn(ns(tmp_path, **kw))
    assert len(ei.value.problems) == 1
    assert ei.value.problems[0].startswith(key) and "allowed" in ei.value.problems[0]
    assert list(tmp_path.iterdir()) == []


def test_cli_exit_2_without_folder(tmp_path, capsys):
    out = tmp_path / "x"
    assert cli.main(["optimize", "policy-2016", "--province", "64", "--budget", "-1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("--budget")
    assert not out.exists()
    assert cli.main(["size-budget", "policy-2016", "--target", "1.5", "--out", str(out)]) == 2
    assert cli.main(["optimize", "policy-2016", "--objective", "nope", "--out", str(out)]) == 2
    assert not out.exists()


def test_optimize_writes_the_result_folder(tmp_path, capsys):
    assert cmd_optimize.optimize(ns(tmp_path, write_lp=True)) == 0
    folder = tmp_path / "run"
    assert capsys.readouterr().out.strip() == str(folder)
    alloc = pd.read_csv(folder / "allocation.csv", dtype={"county_id": str, "province": str})
    assert list(alloc.columns) == ALLOCATION_COLUMNS
    assert (alloc["province"] == "64").all() and (alloc["quantity"] > 0).all()
    sol = json.loads((folder / "solution.json").read_text())
    for key in ("status", "objective", "budget_yuan", "budget_used_yuan", "solver", "solve_seconds", "shadow_prices"):
        assert key in sol
    assert sol["status"] == "optimal" and sol["solver"] == "highs"
    assert sol["budget_yuan"] == 1e8 and sol["budget_used_yuan"] <= 1e8 * (1 + SOLVER_FEASIBILITY_REL)
    assert alloc["cost_yuan"].sum() == pytest.approx(sol["budget_used_yuan"], rel=1e-9)
    assert sol["shadow_prices"]["budget"] < 0
    man = json.loads((folder / "manifest.json").read_text())
    assert man["command"] == "optimize" and len(man["scenario_sha256"]) == 64
    lp = (folder / "model.lp").read_text()
    assert "budget:" in lp and "shortfall_640104_education" in lp
    for name in ("summary_by_province_lever.csv", "outcomes.csv", "shadow_prices.csv"):
        assert (folder / name).exists()


def test_optimize_cbc_integer_equity(tmp_path):
    assert cmd_optimize.optimize(ns(tmp_path, solver="cbc", integer=True, objective="equity")) == 0
    sol = json.loads((tmp_path / "run" / "solution.json").read_text())
    assert sol["solver"] == "cbc" and sol["integer"] and "max_shortfall_ratio_lp" in sol


def test_size_budget(tmp_path):
    assert cmd_optimize.size_budget(ns(tmp_path, target=0.85, budget=None)) == 0
    sol = json.loads((tmp_path / "run" / "solution.json").read_text())
    alloc = pd.read_csv(tmp_path / "run" / "allocation.csv")
    assert sol["budget_yuan"] > 0 and alloc["cost_yuan"].sum() == pytest.approx(sol["budget_yuan"], rel=1e-9)
    assert sol["totals"]["pairs_below_target_after"] == 0


def test_infeasible_target_leaves_no_folder(tmp_path, capsys):
    # before 2016 (no special posts, programmes outside the east) Shanghai cannot reach full coverage:
    # size-budget ran correctly and the target is not reachable -> exit status 3, the reason, nothing written
    assert cmd_optimize.size_budget(ns(tmp_path, scenario="baseline", province=["31"], target=1.0, budget=None)) == 3
    err = capsys.readouterr().err
    assert "target not reachable" in err and "coverage_target" in err
    from grassroots import results
    results.release_all()   # what cli.main does when a command ends: give up the claim on --out
    assert [p.name for p in tmp_path.iterdir()] in ([], [".cache"])   # no result folder, only the keyed cache
    # and optimize with the same infeasible cost objective is a bad input (exit 2 through the command line)
    with pytest.raises(RuntimeError) as ei:
        cmd_optimize.optimize(ns(tmp_path, scenario="baseline", province=["31"], target=1.0, objective="cost"))
    assert ei.value.problems and all(line.startswith("infeasible") for line in ei.value.problems)
    assert "coverage_target" in ei.value.families
    from grassroots import results
    results.release_all()   # what cli.main does when a command ends early: give up the claim on --out
    # no result folder; the simulated status quo it planned against stays cached (keyed by scenario,
    # provinces, seed, years, replications and table) so that the corrected command starts at once
    assert [p.name for p in tmp_path.iterdir()] in ([], [".cache"])
    cached = [p.name for p in (tmp_path / ".cache").rglob("*") if p.is_file()] if (tmp_path / ".cache").exists() else []
    assert all(n.startswith(("status-quo-", "effects-")) for n in cached), cached


def test_frontier(tmp_path):
    assert cmd_optimize.frontier(ns(tmp_path, budgets="0:2e8:4", budget=None)) == 0
    table = pd.read_csv(tmp_path / "run" / "frontier.csv")
    assert len(table) == 4 and (table["weighted_shortfall"].diff().dropna() <= 1e-6).all()
    assert (table["marginal_value_per_yuan"].diff().dropna() <= 1e-12).all()  # diminishing returns
    assert (tmp_path / "run" / "frontier.png").stat().st_size > 1000


@pytest.mark.parametrize("command, extra", [("optimize", ["--budget", "1e8", "--years", "3", "--replications", "2"]),
                                            ("size-budget", ["--target", "0.9", "--static", "--no-check"])])
def test_optimizer_commands_write_a_self_contained_report(tmp_path, command, extra):
    from grassroots import cli
    out = tmp_path / command
    assert cli.main([command, "policy-2016", "--province", "64", *extra, "--quiet", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "policy-2016" in html and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html
