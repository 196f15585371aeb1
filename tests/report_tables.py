"""Small synthetic tidy tables in the formats of DESIGN.md, shared by the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


SCEN = ["baseline", "policy-2016"]
YEARS = list(range(2016, 2027))
PROVS = ["62", "52", "13"]
FIELDS = ["science", "education", "engineering", "agriculture", "health"]
LEVERS = ["titles", "posts", "recruitment", "pay", "programmes", "training", "flexible"]


# ----------------------------------------------------------------------------- synthetic tables

def make_summary() -> pd.DataFrame:
    rows = []
    for k, s in enumerate(SCEN):
        for t, y in enumerate(YEARS):
            g = t / 10
            vals = {
                "staff": 1.5e6 * (1 + 0.02 * t + 0.03 * k * g), "demand": 1.8e6 * (1 + 0.01 * t),
                "vacancies": 3.0e5 * (1 - 0.3 * k * g), "turnover_rate": 0.081 - 0.015 * k * g,
                "senior_share": 0.08 + 0.01 * g + 0.02 * k * g, "cost_yuan": 2.1e9 * k * g + 1.2e8,
                "coverage_gini": 0.12 - 0.03 * k * g, "share_counties_below_80pct": 0.45 - 0.25 * k * g,
            }
            vals["coverage"] = vals["staff"] / vals["demand"]
            for m, v in vals.items():
                w = abs(v) * 0.04 * (0.3 + g)
                rows.append((s, y, m, v, v - w, v + 1.2 * w))
    return pd.DataFrame(rows, columns=["scenario", "year", "metric", "mean", "p05", "p95"])


def make_counties(with_all: bool = True, n_per: int = 8, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    ids = [f"{p}{i:04d}" for p in PROVS for i in range(n_per)]
    level = {c: rng.uniform(0.55, 1.05) for c in ids}
    for k, s in enumerate(SCEN):
        for y in (2021, 2026):
            for c in ids:
                st = dm = 0.0
                for f in FIELDS:
                    demand = float(rng.integers(50, 400))
                    staff = demand * level[c] * (1 + 0.1 * k * (y - 2016) / 10) * rng.uniform(0.9, 1.1)
                    st += staff
                    dm += demand
                    for m, v in (("staff", staff), ("demand", demand), ("coverage", staff / demand)):
                        rows.append((s, c, c[:2], f, y, m, v, 0.95 * v, 1.05 * v))
                if with_all:
                    rows.append((s, c, c[:2], "all", y, "coverage", st / dm, 0.96 * st / dm, 1.04 * st / dm))
    return pd.DataFrame(rows, columns=["scenario", "county_id", "province", "field", "year", "metric",
                                       "mean", "p05", "p95"])


def make_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    b = summary[summary.scenario == SCEN[0]].set_index(["metric", "year"])
    o = summary[summary.scenario == SCEN[1]].set_index(["metric", "year"])
    d = (o["mean"] - b["mean"]).rename("mean_diff").to_frame()
    d["base"] = b["mean"]
    half = d["mean_diff"].abs() * 0.2
    d["ci_low"], d["ci_high"], d["scenario"] = d["mean_diff"] - half, d["mean_diff"] + half, SCEN[1]
    return d.reset_index()[["metric", "year", "scenario", "base", "mean_diff", "ci_low", "ci_high"]]


CONTRIB = {"coverage": [0.004, 0.011, 0.006, 0.018, 0.032, 0.0, -0.002],
           "cost_yuan": [0.0, 1.5e8, 2e7, 9.1e8, 8.4e8, 1.1e8, 7e7]}


def make_decomposition() -> pd.DataFrame:
    rows = []
    for m, c in CONTRIB.items():
        for y in (2021, 2026):
            for lv, v in zip(LEVERS, c):
                rows.append((m, y, lv, v))
            rows.append((m, y, "total", float(sum(c))))
    return pd.DataFrame(rows, columns=["metric", "year", "lever", "contribution"])


def make_allocation() -> pd.DataFrame:
    rows = []
    unit = {"special_posts": 8.0e4, "programme_places": 4.0e4, "senior_posts": 1.5e4}
    for j, p in enumerate(PROVS):
        for i in range(3):
            for f in FIELDS[:2]:
                for lv, u in unit.items():
                    q = float(1 + (i + j) % 3)
                    rows.append((f"{p}{i:04d}", int(p), f, lv, q, q * u))
    return pd.DataFrame(rows, columns=["county_id", "province", "field", "lever", "quantity", "cost_yuan"])


def make_frontier() -> pd.DataFrame:
    b = np.linspace(1e8, 2e9, 8)
    cov = 0.78 + 0.12 * (1 - np.exp(-b / 6e8))
    return pd.DataFrame({"budget_yuan": b, "coverage": cov, "shortfall": 3e5 * np.exp(-b / 6e8),
                         "marginal_value_per_yuan": np.gradient(cov, b)})


def make_sensitivity() -> pd.DataFrame:
    params = ["behaviour.beta_income", "recruitment.quota_share", "pay.performance_tilt_township"]
    rows = []
    for m in ("coverage", "cost_yuan"):
        for i, p in enumerate(params):
            mu = 0.05 / (i + 1) * (1 if i != 1 else 0.3)  # quota_share smallest
            rows += [(m, p, "mu_star", mu, 0.2 * mu), (m, p, "sigma", 0.5 * mu, 0.1 * mu)]
    return pd.DataFrame(rows, columns=["metric", "param", "index", "value", "conf"])


def make_probability() -> pd.DataFrame:
    b = np.linspace(5e8, 3e9, 7)
    p = 1 / (1 + np.exp(-(b - 1.6e9) / 3e8))
    return pd.DataFrame({"budget_yuan": b, "probability": p, "p_low": np.clip(p - 0.05, 0, 1),
                         "p_high": np.clip(p + 0.05, 0, 1)})


MANIFEST = {
    "command": "compare",
    "argv": ["compare", "baseline", "policy-2016", "--province", "62", "--seed", "7"],
    "reproduce": "grassroots compare baseline policy-2016 --province 62 --seed 7",
    "scenario": "baseline",
    "scenarios": {"baseline": {"sha256": "a1" * 32}, "policy-2016": {"sha256": "b2" * 32}},
    "package": "grassroots-talent", "version": "0.1.0", "python": "3.11.2",
    "seed": 7, "replication_seeds": [101, 102, 103], "years": 10, "replications": 3, "provinces": ["62"],
    "started": "2026-11-26T12:00:00+00:00", "finished": "2026-11-26T12:01:00+00:00",
}
SCENARIOS = [
    {"name": "baseline", "description": "Status quo <script>alert('x')</script> & \"quotes\""},
    {"name": "policy-2016", "description": "The whole 2016 opinion (人社部发〔2016〕57号)"},
]
SOLUTION = {"status": "Optimal", "objective": 4321.5, "budget_yuan": 2e9, "budget_used_yuan": 1.5e9,
            "solver": "highs", "solve_seconds": 0.42, "shadow_prices": {"budget": 3.5e-5}}
