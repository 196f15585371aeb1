"""Every report kind rendered from the templates in both languages, the string catalogues, units on
every axis, flows from the first simulated year, solver internals collapsed, the per-county table, the
CJK font search with a stale matplotlib font cache, and the Chinese report in a real browser.

Structural checks, not golden files: the sections a kind must have are present, every figure the
document made is embedded exactly once, nothing refers outside the file, data text is escaped.
"""

from __future__ import annotations

import copy
import html as _html
import json
import re
import shutil
import string
import warnings
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from grassroots.report import ReportDocument, render, write_report
from grassroots.report import figures as F
from grassroots.report import fonts as FONTS
from grassroots.report import labels as LB
from grassroots.report import study_figures as SF
from grassroots.report import study_sections as SS
from grassroots.report.flows import flow_figure
from grassroots.report.study_reports import ROUND_COLUMNS, write_calibration_report, write_plan_report

from chromium import CHROMIUM, Chromium
from report_tables import (MANIFEST, SCENARIOS, SOLUTION, make_allocation, make_comparison, make_counties,
                           make_decomposition, make_frontier, make_probability, make_sensitivity, make_summary)

CJK = re.compile(r"[\u4e00-\u9fff]")
EVIL = "Status quo <script>alert('x')</script> & \"quotes\""


@pytest.fixture(autouse=True)
def quiet_font_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FONTS.CJKFontWarning)
        yield


# ----------------------------------------------------------------------------- catalogues

def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_every_key_exists_in_both_languages_with_the_same_fields():
    en, zh = LB.catalogue("en"), LB.catalogue("zh")
    assert set(en) == set(zh), sorted(set(en) ^ set(zh))
    assert [k for k in en if _fields(en[k]) != _fields(zh[k])] == []
    assert [k for k, v in {**en, **zh}.items() if not v.strip()] == []
    # the sections of both files hold the same keys (a translator compares them side by side)
    se, sz = LB.catalogue_sections("en"), LB.catalogue_sections("zh")
    assert {s: set(v) for s, v in se.items()} == {s: set(v) for s, v in sz.items()}
    # Chinese strings are Chinese, except codes, symbols and names that are the same in both languages
    same = {k for k in en if en[k] == zh[k]}
    assert same <= {"python", "unit_percent", "unit_probability", "S1", "ST", "S2"}, sorted(same)
    # every bundled scenario's description is translated, and the English one is the file's own
    import scenarios
    names = scenarios.bundled_names()
    assert len(names) >= 10
    for name in names:
        sc = scenarios.load(name)
        assert f"scenario_{name}" in zh and en[f"scenario_{name}"] == sc.description, name


def test_catalogue_texts_fill_their_fields():
    assert LB.text("year_of_run", "zh", year=2026, n=10) == "2026年（第10年）"
    assert LB.text("rows_not_shown", "en", n="1,234") == "1,234 more rows not shown."
    assert LB.label("place_sanzhi_yifu", "zh") == "名额：三支一扶"
    bundled = LB.catalogue("en")["scenario_policy-2016"]
    assert LB.scenario_description("policy-2016", bundled, "zh").startswith("2016年意见全部措施")
    assert LB.scenario_description("policy-2016", bundled, "en") == bundled
    assert LB.scenario_description("policy-2016", "edited", "zh") == "edited"  # a user's own text: as written
    assert LB.scenario_description("my-own", "file text", "zh") == "file text"
    assert LB.unit("vacancies", "zh") == "岗位" and LB.unit("coverage", "en", diff=True) == "percentage points"
    assert LB.axis_label("Contribution", "cost_yuan", "en", diff=True) == "Contribution (yuan per year)"


def test_number_formats_in_one_place():
    from grassroots.report import numbers as N
    assert N.fmt_yuan(2.5e8, "zh") == "2.50亿元" and N.fmt_yuan(3.2e6, "zh") == "320万元"
    assert N.fmt_yuan(3.2e6, "en") == "¥3.2 million" and N.fmt_number(1234567) == "1,234,567"
    assert N.compact_yuan(1.5e8, "zh") == "1.5亿" and N.compact_yuan(3e5, "en") == "¥300k"
    assert N.fmt_value("mean_income_yuan_month", 4321.4, "zh") == "4,321元"
    assert N.fmt_scalar("budget_used_yuan", 1.5e9, "zh") == "15.00亿元"
    assert N.fmt_scalar("coverage_after", 0.9123, "en") == "91.2%"


# ----------------------------------------------------------------------------- every report kind

class _Folder:
    """The part of a ResultFolder the report writers use."""

    def __init__(self, manifest):
        self.manifest = dict(manifest)
        self.files: dict[str, bytes] = {}

    def write_bytes(self, name, data):
        self.files[name] = bytes(data)

    def write_text(self, name, text):
        self.files[name] = text.encode("utf-8")


def _plan_rounds() -> pd.DataFrame:
    rows = []
    for r, step in enumerate(["status quo", "accepted", "rejected", "accepted"]):
        rows.append({c: float(r) for c in ROUND_COLUMNS} | {"round": r, "step": step})
    return pd.DataFrame(rows)


FLOWS = ("moves_township_to_seat", "moves_township_to_other_county", "moves_seat_to_other_county", "exits_upward",
         "exits_upward_township", "exits_city", "exits_city_township", "exits_other_sector",
         "exits_other_sector_township")


def _with_flows(s: pd.DataFrame) -> pd.DataFrame:
    """The summary with the flow metrics of ``simulator.mobility`` (zero in the starting year)."""
    rows = []
    for (sc, y), _ in s.groupby(["scenario", "year"]):
        for i, m in enumerate(FLOWS):
            v = 0.0 if y == s.year.min() else 100.0 * (i + 1) + y - 2016
            rows.append((sc, y, m, v, 0.9 * v, 1.1 * v))
    return pd.concat([s, pd.DataFrame(rows, columns=s.columns)], ignore_index=True)


def _with_flows_compared(s: pd.DataFrame) -> pd.DataFrame:
    c = make_comparison(_with_flows(s))
    return c


def _kind(kind: str, lang: str) -> tuple[str, int]:
    """(report.html, number of figures made) of one report kind."""
    s = make_summary()
    sc = SimpleNamespace(name="policy-2016", description=EVIL)
    common = dict(manifest=MANIFEST, scenarios=SCENARIOS, lang=lang, strict=True, names=None)
    tables = {
        "run": dict(summary=s, counties=make_counties()),
        "compare": dict(summary=s, comparison=make_comparison(s), counties=make_counties(),
                        decomposition=make_decomposition()),
        "optimize": dict(solution=SOLUTION, allocation=make_allocation()),
        "size-budget": dict(solution=SOLUTION, allocation=make_allocation(), probability=make_probability(),
                            probability_target=0.9, sized_budget=2e9),
        "frontier": dict(frontier=make_frontier()),
        "sensitivity": dict(sensitivity=make_sensitivity()),
        "flows": dict(summary=_with_flows(s), comparison=_with_flows_compared(s)),
    }
    if kind in tables:
        folder = _Folder(MANIFEST)
        out = write_report(folder, **common, **tables[kind])
        return out, sum(1 for n in folder.files if n.startswith("figures/"))
    folder = _Folder(MANIFEST)
    if kind == "plan":
        pr = SimpleNamespace(rounds=_plan_rounds(), allocation=make_allocation(), stop_reason="converged")
        write_plan_report(folder, sc, s, SOLUTION, pr, lang=lang)
    else:
        cols = ["target", "metric", "field", "programme", "param", "fitted", "observed", "sd", "initial_mean", "mean",
                "p05", "p95", "mc_se", "z", "validation_mean", "validation_z", "source"]  # Calibration.table_
        fit = pd.DataFrame([["turnover", "turnover_rate", "", "", "behaviour.exit_intercept", True, 0.08, 0.01,
                             0.09, 0.081, 0.079, 0.083, 0.0005, 0.1, 0.0805, 0.05, "FACTS.md"]], columns=cols)
        params = pd.DataFrame([{"param": "behaviour.exit_intercept", "initial": -2.0, "calibrated": -2.3,
                                "se_from_target_sd": 0.1, "low": -4.0, "high": 0.0, "at_bound": False,
                                "targets": "turnover"}])
        write_calibration_report(folder, sc, fit, params, lang=lang)
    return folder.files["report.html"].decode("utf-8"), sum(1 for n in folder.files if n.startswith("figures/"))


SECTIONS = {
    "run": ["run-info", "headline", "trajectories", "county-distribution"],
    "compare": ["run-info", "headline", "comparison", "trajectories", "county-distribution", "decomposition"],
    "optimize": ["run-info", "optimizer"],
    "size-budget": ["run-info", "optimizer", "budget-probability"],
    "frontier": ["run-info", "frontier"],
    "sensitivity": ["run-info", "sensitivity"],
    "flows": ["run-info", "headline", "comparison", "trajectories", "flows"],
    "plan": ["run-info", "headline", "rounds", "trajectories", "optimizer"],
    "calibration": ["run-info", "calibration"],
}


class _Text(HTMLParser):
    """Text of headings, table headers, captions and labels, by tag."""

    WATCH = {"h1", "h2", "h3", "th", "dt", "figcaption", "summary", "label"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.WATCH or (tag == "p" and ("class", "caption") in attrs):
            self.stack.append(tag)
            self.found.append((tag, ""))

    def handle_endtag(self, tag):
        if self.stack and (tag == self.stack[-1] or (tag == "p" and self.stack[-1] == "p")):
            self.stack.pop()

    def handle_data(self, data):
        if self.stack:
            t, v = self.found[-1]
            self.found[-1] = (t, v + data)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", list(SECTIONS))
def test_each_report_kind_renders_from_templates(kind, lang):
    out, n_figures = _kind(kind, lang)
    assert out.startswith("<!DOCTYPE html>") and f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in out
    ids = re.findall(r'<section id="([^"]+)">', out)
    assert [s for s in SECTIONS[kind] if s not in ids] == [], ids
    # each figure the document made is embedded once, as a PNG data URI with its size
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]*" width="\d+" height="\d+">', out)
    assert len(imgs) == out.count("<img") and (n_figures == 0 or len(imgs) == n_figures)
    assert len(set(imgs)) == len(imgs)
    # nothing outside the file
    assert not re.search(r"https?://|(src|href)\s*=\s*\"(?!data:|#)|url\(|@import|<script[^>]|<iframe|<object", out)
    # the scenario description is text, never markup
    assert "<script>alert" not in out and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in out
    assert out.count("<script>") == (1 if "county-allocation" in out else 0)
    if kind == "plan" and lang == "zh":  # the rounds' steps are words too
        assert all(w in out for w in ("现状", "接受", "拒绝"))
    if lang == "zh":  # every heading, table header, caption and label is Chinese (names and codes aside)
        names = {"baseline", "policy-2016", "Python"}
        p = _Text()
        p.feed(out)
        untranslated = [(t, v) for t, v in p.found if v.strip() and not CJK.search(v)
                        and v.strip().lstrip("Δ ").strip() not in names and not re.fullmatch(r"[\d\s.,%–-]+", v)]
        assert untranslated == []


def test_a_scenario_description_with_markup_is_escaped_in_both_languages():
    for lang in ("en", "zh"):
        doc = ReportDocument(lang=lang, names={"x": "<b>x</b>"})
        from grassroots.report.sections import add_run_info
        add_run_info(doc, {"command": "run"}, [{"name": "x", "description": "<script>alert(1)</script>"}])
        doc.add_note("<img src=x onerror=alert(1)>")
        out = render(doc)
        assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
        assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "<img src=x" not in out


# ----------------------------------------------------------------------------- report fixes

FULL_SOLUTION = {
    **SOLUTION, "status": "optimal", "objective_name": "weighted_shortfall", "objective_solver": 123.456789012,
    "objective_solver_note": "the solver's objective: includes spend_penalty; money in 10,000 yuan",
    "variables": 1234, "constraints": 567,
    "shadow_prices": {"budget": 3.5e-5, "post_cap_620001_science": 0.0123456,
                      "families": {"post_cap": {"binding": 3, "min": 0.01, "max": 0.02, "mean_nonzero": 0.015}},
                      "largest": [{"row": "post_cap_620001_science", "dual": 0.0123456}]},
    "settings": {"objective": "shortfall", "integer": False}, "inputs": {"money_unit": "10,000 yuan"},
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_solver_internals_are_in_a_collapsed_technical_section(lang):
    doc = ReportDocument(lang=lang)
    SS.add_solution(doc, FULL_SOLUTION)
    out = render(doc)
    main, rest = out.split("<details", 1)
    tech = rest.split("</details>", 1)[0]
    assert "<details open" not in out  # collapsed
    for internal in ("10,000 yuan", "post_cap_620001_science", "123.456789012", "objective_solver", "spend_penalty"):
        assert internal not in main and internal in tech, internal
    assert ("最优解" if lang == "zh" else "Optimal") in main
    assert "35" in main  # the budget's shadow price, per ¥1 million: 3.5e-5 * 1e6


def _axes_with_figures(L):
    s, d = make_summary(), make_decomposition()
    c = make_counties()
    return {
        "trajectories": F.trajectories(s, labels=L), "strips": F.county_strips(c, labels=L),
        "differences": F.county_differences(c[c.scenario == "baseline"], c, labels=L),
        "waterfall-coverage": SF.waterfall(d, "coverage", labels=L),
        "waterfall-cost": SF.waterfall(d, "cost_yuan", labels=L),
        "frontier": SF.frontier(make_frontier(), labels=L),
        "probability": SF.probability_curve(make_probability(), labels=L),
        "allocation": SF.allocation_by_province(make_allocation(), labels=L),
        "tornado": SF.tornado(make_sensitivity(), labels=L),
        "flows": flow_figure(_with_flows(s), labels=L),
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_value_axis_has_a_unit(lang, monkeypatch):
    monkeypatch.setattr(LB, "cjk_font", lambda: "DejaVu Sans")  # the words, not the glyphs, are checked here
    L = LB.Labels(lang)
    units = {v for k, v in LB.catalogue(lang).items() if k.startswith("unit_")}
    units |= {u[:1].upper() + u[1:] for u in units}
    with matplotlib.rc_context():
        for name, fig in _axes_with_figures(L).items():
            figs = fig if isinstance(fig, list) else [fig]
            for f in figs:
                for ax in f.axes:
                    # an axis whose ticks are names (levers, provinces, parameters) needs none
                    for axis, text in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
                        ticks = [t.get_text() for t in axis.get_ticklabels()]
                        categorical = ticks and not any(re.search(r"\d", t) for t in ticks if t)
                        if categorical or axis is ax.xaxis and ax.get_xlabel() in (L("year"), "Year", "年份"):
                            continue
                        if axis is ax.yaxis and not text:  # panels sharing a y axis: labelled on the first
                            text = next((a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax)
                                         if a.get_ylabel()), "")
                        # the unit alone (the panel title names the metric), or "name (unit)"
                        assert text in units or re.search(r"[(（].+[)）]$", text), (name, text)
        # the waterfall's axis has the metric's unit (it had none: "Contribution")
    fig = SF.waterfall(make_decomposition(), "cost_yuan", labels=L)
    assert fig.axes[0].get_ylabel() == LB.axis_label(L("contribution"), "cost_yuan", lang, diff=True)
    assert fig.axes[0].get_ylabel() != L("contribution")


def test_flow_metrics_are_not_drawn_at_the_starting_year():
    s = make_summary()
    s.loc[(s.year == 2016) & s.metric.isin(["turnover_rate", "cost_yuan"]), ["mean", "p05", "p95"]] = 0.0
    fig = F.trajectories(s, metrics=("coverage", "turnover_rate", "cost_yuan"))
    first_x = {ax.get_title(loc="left"): min(ln.get_xdata()[0] for ln in ax.get_lines()
                                              if not ln.get_label().startswith("_")) for ax in fig.axes}
    assert first_x == {LB.label("coverage"): 2016, LB.label("turnover_rate"): 2017, LB.label("cost_yuan"): 2017}
    for ax in fig.axes[1:]:
        assert all(min(ln.get_ydata()) > 0 for ln in ax.get_lines() if not ln.get_label().startswith("_"))


def test_per_county_allocation_table_with_names_and_prefectures():
    a = make_allocation()
    a["county_id"] = a["county_id"].str[:2] + "01" + a["county_id"].str[-2:]  # real-looking six-digit codes
    a.loc[a.county_id.str.endswith("01"), "county_id"] = a["county_id"].str[:2] + "0201"
    a["county_name"] = "县" + a["county_id"]
    doc = ReportDocument(lang="zh")
    SS.add_allocation(doc, a)
    t = next(b for b in doc.sections[-1]["blocks"] if b.get("id") == "county-allocation")
    assert t["sortable"] and doc.script
    assert [c["text"] for c in t["head"][0][:5]] == ["县", "县名", "省份", "地级市", "总成本（元/年）"]
    totals = a.groupby("county_id").cost_yuan.sum()
    assert len(t["rows"]) == len(totals)
    for r in t["rows"]:
        cid = r["cells"][0]["text"]
        assert float(r["cells"][4]["sort"]) == pytest.approx(totals[cid]) and r["filter"] == cid[:4] + "00"
    assert set(t["filter"]["options"]) == {cid[:4] + "00" for cid in totals.index}
    out = render(doc)
    assert out.count('data-filter="6201') > 0 and "<script>" in out
    # synthetic ids (not GB/T 2260 codes): no prefecture column, no filter
    plain = make_allocation().assign(county_id=lambda d: "c" + d.county_id)
    doc2 = ReportDocument()
    SS.add_allocation(doc2, plain)
    t2 = next(b for b in doc2.sections[-1]["blocks"] if b.get("id") == "county-allocation")
    assert "Prefecture" not in [c["text"] for c in t2["head"][0]] and t2["filter"] is None


def test_comparison_intervals_are_named_apart_from_the_spread():
    s = make_summary()
    out = write_report(None, summary=s, comparison=make_comparison(s), strict=True)
    assert "ci_low–ci_high" in out and "Student-t" in out and "spread across replications" in out
    # a folder written before the rename (p05/p95 in comparison.csv) still renders the same intervals
    old = make_comparison(s).rename(columns={"ci_low": "p05", "ci_high": "p95"})
    assert write_report(None, summary=s, comparison=old, strict=True) == out


# ----------------------------------------------------------------------------- CJK font and a stale cache

def test_a_font_installed_after_the_cache_was_written_is_found(tmp_path):
    """A manager loaded from a cache that predates a font file misses it; refreshing adds it and rewrites
    the cache (here a copy of the manager and a temporary cache file, never the user's)."""
    from matplotlib import font_manager
    src = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    new = tmp_path / "fonts" / "NewlyInstalled.ttf"
    new.parent.mkdir()
    shutil.copy(src, new)
    stale = copy.deepcopy(font_manager.fontManager)
    assert FONTS.missing_fonts(stale, [str(new)]) == [str(new)]
    cache = tmp_path / "cache" / "fontlist.json"
    assert FONTS.refresh_font_list(stale, [str(new)], cache=cache) == [str(new)]
    assert FONTS.missing_fonts(stale, [str(new)]) == []
    assert str(new) in {e.fname for e in stale.ttflist}
    assert str(new) in json.loads(cache.read_text())["ttflist"].__repr__()
    assert FONTS.refresh_font_list(stale, [str(new)], cache=cache) == []  # nothing new: nothing rewritten


def test_stale_cache_without_cjk_then_refreshed_finds_noto(tmp_path, monkeypatch):
    from matplotlib import font_manager
    monkeypatch.delenv("GRASSROOTS_CJK_FONT", raising=False)
    system = font_manager.findSystemFonts()
    cjk_files = [f for f in system if FONTS._CJK_NAME.search(Path(f).name) and FONTS.has_glyphs(f)]
    if not cjk_files:
        pytest.skip("no CJK font installed here (apt-get install fonts-noto-cjk); the fallback is tested elsewhere")
    stale = copy.deepcopy(font_manager.fontManager)  # as if the cache was written before the CJK install
    stale.ttflist = [e for e in stale.ttflist if not FONTS.has_glyphs(e.fname)]
    assert FONTS.find_cjk_font(stale, refresh=False) is None
    added = FONTS.refresh_font_list(stale, system, cache=tmp_path / "fontlist.json")
    assert set(cjk_files) <= set(added)
    name = FONTS.find_cjk_font(stale, refresh=False)
    assert name is not None and FONTS._CJK_NAME.search(name)


def test_the_no_font_message_says_how_to_fix_it():
    m = FONTS.NO_CJK_FONT_MESSAGE
    assert "apt-get install fonts-noto-cjk" in m and "GRASSROOTS_CJK_FONT" in m
    assert "fonts-noto-cjk" in LB.text("note_no_cjk_font", "zh") and "GRASSROOTS_CJK_FONT" in LB.text("note_no_cjk_font", "en")


# ----------------------------------------------------------------------------- the Chinese report in a browser

@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); CI installs it")
def test_chinese_tables_keep_their_label_column_and_scroll_inside_their_box(tmp_path):
    s = make_summary()
    metrics = ["coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan", "coverage_gini",
               "share_counties_below_80pct"]
    rng = np.random.default_rng(1)
    d = pd.DataFrame([(m, 2026, lv, float(rng.normal()) * (1e8 if m == "cost_yuan" else 0.01))
                      for m in metrics for lv in ["titles", "posts", "recruitment", "pay", "programmes", "training",
                                                  "flexible", "total"]],
                     columns=["metric", "year", "lever", "contribution"])
    out = write_report(None, summary=s, comparison=make_comparison(s), decomposition=d, lang="zh", strict=True,
                       manifest=MANIFEST, scenarios=SCENARIOS)
    page = tmp_path / "zh.html"
    page.write_text(out, encoding="utf-8")
    browser = Chromium(CHROMIUM)
    try:
        js = browser.open(page.as_uri())
        js("document.body.style.width = '600px'")  # a narrow window
        lines = js("[...document.querySelectorAll('table.decomp td.label')].map(td => "
                   "td.getBoundingClientRect().height / parseFloat(getComputedStyle(td).lineHeight))")
        page_overflow = js("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        boxes = js("[...document.querySelectorAll('.table-wrap')].map(w => [w.scrollWidth > w.clientWidth, "
                   "getComputedStyle(w).overflowX])")
    finally:
        browser.close()
    assert len(lines) == 8 and max(lines) < 2.5  # one line each (cell padding counts for less than a line)
    assert page_overflow <= 0  # the page itself never scrolls sideways ...
    assert any(wide for wide, _ in boxes) and all(ov == "auto" for _, ov in boxes)  # ... wide tables do, inside
    assert _html.unescape("政策杠杆贡献分解") in out


@pytest.mark.parametrize("n_years", [3, 6, 31])
def test_flow_figure_has_whole_year_ticks_only(n_years):
    s = make_summary()
    s = s[s.year < s.year.min() + n_years] if n_years <= s.year.nunique() else pd.concat(
        [s.assign(year=s.year + k * s.year.nunique()) for k in range(-(-n_years // s.year.nunique()))])
    fig = flow_figure(_with_flows(s))
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).draw()                                   # tick labels are made when drawn
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [x for x in ax.get_xticks() if lo <= x <= hi]
        assert ticks and all(float(x).is_integer() for x in ticks)       # no 2016.75 | 2017.25
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels and all(lab.isdigit() for lab in labels)
