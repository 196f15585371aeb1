"""Figures, labels and the self-contained HTML report, on small synthetic tidy tables.

Figures are checked by their content (lines, bands, bars and their values,
titles), the report by its text and by what it must not contain (external
references, unescaped markup), and the report is opened in a real headless
browser (Debian's chromium) through the DevTools protocol over a pipe -- no
extra Python package is needed for that.
"""

from __future__ import annotations

import base64
import json
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from grassroots.report import figures as F
from grassroots.report import labels as LB
from grassroots.report import study_figures as SF
from grassroots.report.labels import CJKFontWarning, Labels, fmt_value, fmt_yuan, label
from grassroots.report import ReportDocument, read_results, render, write_report
from grassroots.report import fonts as FONTS
from grassroots.report import sections as S
from grassroots.results import ResultFolder

from report_tables import (CONTRIB, FIELDS, LEVERS, MANIFEST, SCEN, SCENARIOS, SOLUTION, YEARS,
                           make_allocation, make_comparison, make_counties, make_decomposition,
                           make_frontier, make_probability, make_sensitivity, make_summary)
from chromium import CHROMIUM, Chromium


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def title(ax) -> str:
    """The axes title, wherever it sits (the figures put it on the left)."""
    return next((t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t), "")


def lines_with_label(ax, prefix: str = ""):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_") and ln.get_label().startswith(prefix)]


def band_range_at(poly: PolyCollection, x: float) -> tuple[float, float]:
    v = poly.get_paths()[0].vertices
    ys = v[np.isclose(v[:, 0], x), 1]
    return float(ys.min()), float(ys.max())


# ----------------------------------------------------------------------------- labels and formats

def test_labels_in_both_languages_and_unknown_keys():
    assert label("coverage", "en") == "Coverage (staff / demand)"
    assert label("coverage", "zh") == "覆盖率（在岗/需求）"
    for key in F.DEFAULT_METRICS + ("coverage_gini", "share_counties_below_80pct") + tuple(LEVERS) \
            + tuple(FIELDS) + ("county", "township", "east", "central", "west", "special_post_teachers",
                               "sanzhi_yifu", "scenario", "year", "mean", "p05", "p95", "lever"):
        assert key in LB.LABELS, key
        assert re.search(r"[\u4e00-\u9fff]", label(key, "zh")), key
        assert label(key, "en") != key or key in ("p05", "p95")
    # English figures must draw without a CJK font: no Chinese characters in English labels
    # (scenario descriptions quote the opinion's number, 57号, and appear only in the HTML)
    assert [k for k, (en, _) in LB.LABELS.items()
            if re.search(r"[\u3000-\u9fff\uff00-\uffef]", en) and not k.startswith("scenario_")] == []
    assert label("place_sanzhi_yifu", "zh") == "名额：三支一扶" and label("senior_post", "en") == "Extra senior posts"
    assert label("special_teachers", "en") == "Special teachers"  # unknown: tidied, never an error
    assert label("behaviour.exit_intercept", "en") == "behaviour.exit_intercept"  # key paths as is
    assert label("62", "zh") == "甘肃" and label(62, "en") == "Gansu"
    with pytest.raises(ValueError, match="allowed: en, zh"):
        label("coverage", "fr")
    L = Labels("en", names={"policy-2016": "2016 package"})
    assert L.scenario("policy-2016") == "2016 package" and L.scenario("baseline") == "baseline"


def test_number_formats_for_people():
    assert fmt_yuan(1.234e9, "en") == "¥1.23 billion"
    assert fmt_yuan(4.56e7, "en") == "¥45.6 million"
    assert fmt_yuan(1.234e9, "zh") == "12.34亿元"
    assert fmt_yuan(4.56e5, "zh") == "45.6万元"
    assert fmt_value("coverage", 0.8734) == "87.3%"
    assert fmt_value("coverage", 0.012, diff=True) == "+1.2 pp"
    assert fmt_value("coverage", -0.012, "zh", diff=True) == "−1.2 个百分点"
    assert fmt_value("vacancies", 1234567.4) == "1,234,567"
    assert fmt_value("coverage_gini", 0.12345) == "0.123"
    assert fmt_value("coverage", float("nan")) == "–"


# ----------------------------------------------------------------------------- figures

def test_trajectories_one_line_and_band_per_scenario():
    summary = make_summary()
    metrics = ("coverage", "vacancies", "cost_yuan", "not_a_metric")
    fig = F.trajectories(summary, metrics=metrics)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert [title(ax) for ax in axes] == [label(m) for m in metrics[:3]]
    for ax, m in zip(axes, metrics[:3]):
        assert ax.get_xlabel() == "Year"
        lines = lines_with_label(ax)
        assert [ln.get_label() for ln in lines] == SCEN
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        for ln, band, s in zip(lines, bands, SCEN):
            d = summary[(summary.metric == m) & (summary.scenario == s)].sort_values("year")
            if m == "cost_yuan":  # a flow: the starting year (before anything flows) is not plotted
                d = d[d.year > YEARS[0]]
            np.testing.assert_allclose(ln.get_ydata(), d["mean"])
            np.testing.assert_array_equal(ln.get_xdata(), d["year"])
            for x, y in zip(ln.get_xdata(), ln.get_ydata()):
                lo, hi = band_range_at(band, x)
                assert lo <= y <= hi
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == SCEN and legend[2] == "Spread across replications (p05–p95)"


def test_trajectories_without_intervals_draws_no_band_and_rejects_unknown_metrics():
    summary = make_summary().assign(p05=np.nan, p95=np.nan)
    fig = F.trajectories(summary, metrics=("coverage",))
    assert not [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    with pytest.raises(ValueError, match="none of the metrics"):
        F.trajectories(summary, metrics=("nope",))
    with pytest.raises(ValueError, match="missing columns mean"):
        F.trajectories(summary.drop(columns="mean"))


def test_figures_leave_no_global_state():
    before = dict(matplotlib.rcParams)
    F.trajectories(make_summary(), metrics=("coverage",), labels=Labels("en", font="DejaVu Sans"))
    SF.waterfall(make_decomposition(), "coverage")
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_county_totals_use_all_rows_else_combine_fields():
    c = make_counties(with_all=True)
    t = F.county_totals(c, "coverage", 2026)
    rows = c[(c.field == "all") & (c.metric == "coverage") & (c.year == 2026)]
    assert len(t) == len(rows)
    np.testing.assert_allclose(t.sort_values(["scenario", "county_id"])["mean"],
                               rows.sort_values(["scenario", "county_id"])["mean"])
    c2 = make_counties(with_all=False)
    t2 = F.county_totals(c2, "coverage")  # last year by default
    one = c2[(c2.county_id == "620003") & (c2.scenario == "policy-2016") & (c2.year == 2026)]
    expect = one[one.metric == "staff"]["mean"].sum() / one[one.metric == "demand"]["mean"].sum()
    got = t2[(t2.county_id == "620003") & (t2.scenario == "policy-2016")]["mean"].item()
    assert got == pytest.approx(expect, rel=1e-12)
    assert t2["p05"].isna().all()  # intervals cannot be combined across fields
    staff = F.county_totals(c2, "staff", 2021)
    assert staff["mean"].sum() == pytest.approx(c2[(c2.metric == "staff") & (c2.year == 2021)]["mean"].sum())
    with pytest.raises(ValueError, match="cannot be combined"):
        F.county_totals(c2.assign(metric=c2.metric.replace("coverage", "coverage_gini")), "coverage_gini")
    with pytest.raises(ValueError, match="no rows for 'senior_titles'.*needed for 'senior_share'"):
        F.county_totals(c2.assign(metric=c2.metric.replace("coverage", "senior_share")), "senior_share")
    # turnover as the simulator defines it: exits over staff at the start of the year
    parts = c2[c2.metric.isin(["staff", "demand"])].assign(
        metric=lambda d: d.metric.map({"staff": "staff_start", "demand": "exits"}))
    turn = F.county_totals(parts, "turnover_rate", 2026)
    one = parts[(parts.county_id == "520001") & (parts.scenario == "baseline") & (parts.year == 2026)]
    expect = one[one.metric == "exits"]["mean"].sum() / one[one.metric == "staff_start"]["mean"].sum()
    assert turn[(turn.county_id == "520001") & (turn.scenario == "baseline")]["mean"].item() == pytest.approx(expect)
    with pytest.raises(ValueError, match="year 1999 not in the table"):
        F.county_totals(c, "coverage", 1999)


def test_county_strips_sorted_per_scenario_with_share_below_80pct():
    c = make_counties()
    fig = F.county_strips(c, "coverage", 2026)
    assert len(fig.axes) == 2  # sorted strip and per-province strips
    ax = fig.axes[0]
    tot = F.county_totals(c, "coverage", 2026)
    lines = lines_with_label(ax)
    assert len(lines) == 2
    for ln, s in zip(lines, SCEN):
        y = np.asarray(ln.get_ydata())
        np.testing.assert_allclose(y, np.sort(tot[tot.scenario == s]["mean"]))
        share = (tot[tot.scenario == s]["mean"] < 0.8).mean()
        assert ln.get_label() == f"{s}: {share:.0%} of counties below 80%"
    prov_ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert sorted(prov_ticks) == sorted(["Gansu", "Guizhou", "Hebei"])
    single = F.county_strips(c[c.province == "62"], "coverage")
    assert len(single.axes) == 1


def test_county_differences_are_other_minus_base():
    c = make_counties()
    base = c[c.scenario == "baseline"]
    fig = F.county_differences(base, c, "coverage", 2026)  # the base rows in `c` are ignored
    t = F.county_totals(c, "coverage", 2026).pivot(index="county_id", columns="scenario", values="mean")
    diff = np.sort((t["policy-2016"] - t["baseline"]).to_numpy())
    ln = lines_with_label(fig.axes[0])[0]
    np.testing.assert_allclose(ln.get_ydata(), diff)
    up, down = int((diff > 0).sum()), int((diff < 0).sum())
    assert ln.get_label() == f"policy-2016: {up} counties improved, {down} worsened"
    with pytest.raises(ValueError, match="no scenario other than the base"):
        F.county_differences(base, base)


def bars_by_gid(fig: Figure) -> dict[str, Rectangle]:
    return {p.get_gid(): p for p in fig.axes[0].patches if p.get_gid()}


def test_waterfall_bars_chain_to_the_total():
    d = make_decomposition()
    fig = SF.waterfall(d, "coverage")
    bars = bars_by_gid(fig)
    assert list(bars) == [f"lever:{lv}" for lv in LEVERS] + ["lever:total"]
    cum = 0.0
    for lv, v in zip(LEVERS, CONTRIB["coverage"]):
        b = bars[f"lever:{lv}"]
        assert b.get_y() == pytest.approx(cum) and b.get_height() == pytest.approx(v)
        cum += v
    assert bars["lever:total"].get_y() == 0 and bars["lever:total"].get_height() == pytest.approx(cum)
    assert bars["lever:training"].get_height() == 0  # a lever that changes nothing is drawn, flat
    # coverage: higher is better, so the negative lever is red and a positive one green
    assert matplotlib.colors.to_hex(bars["lever:flexible"].get_facecolor()) == F.NEGATIVE.lower()
    assert matplotlib.colors.to_hex(bars["lever:pay"].get_facecolor()) == F.POSITIVE.lower()
    assert "+0.4 pp" in texts(fig) and title(fig.axes[0]) == f"{label('coverage')} — 2026"


def test_waterfall_shows_a_residual_instead_of_hiding_it():
    d = make_decomposition()
    d.loc[(d.lever == "total") & (d.metric == "coverage"), "contribution"] += 0.01
    bars = bars_by_gid(SF.waterfall(d, "coverage", year=2021))
    assert "lever:residual" in bars and bars["lever:residual"].get_height() == pytest.approx(0.01)
    with pytest.raises(ValueError, match="no rows for metric"):
        SF.waterfall(d, "nope")


def test_allocation_by_province_stacks_cost_by_lever():
    a = make_allocation()
    fig = SF.allocation_by_province(a)
    ax = fig.axes[0]
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(rects) == 3 * 3  # provinces x levers
    assert sum(r.get_width() for r in rects) == pytest.approx(a.cost_yuan.sum())
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["Gansu", "Guizhou", "Hebei"]  # int codes read back
    totals = a.groupby(a.province.map(lambda p: f"{p:02d}")).cost_yuan.sum().sort_values()
    assert [t.get_text() for t in ax.get_yticklabels()] == [label(p) for p in totals.index]  # largest on top
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"Special posts", "Programme places",
                                                                  "Extra senior posts"}


def test_frontier_plots_the_columns_it_has():
    fr = make_frontier()
    fig = SF.frontier(fr)
    assert [title(ax) for ax in fig.axes] == [label(m) for m in ("coverage", "shortfall", "marginal_value_per_million_yuan")]
    fig2 = SF.frontier(fr[["budget_yuan", "coverage"]])
    assert len(fig2.axes) == 1
    np.testing.assert_allclose(fig2.axes[0].get_lines()[0].get_ydata(), fr["coverage"])
    with pytest.raises(ValueError, match="none of the columns"):
        SF.frontier(fr[["budget_yuan"]])


def test_tornado_sorted_by_main_index_with_intervals():
    s = make_sensitivity()
    fig = SF.tornado(s, "coverage")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["behaviour.beta_income", "pay.performance_tilt_township", "recruitment.quota_share"]
    assert ax.yaxis_inverted()  # the largest on top
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 3 * 2
    mu = s[(s.metric == "coverage") & (s["index"] == "mu_star")].set_index("param")["value"]
    assert sorted(b.get_width() for b in bars[:3]) == pytest.approx(sorted(mu))
    bar_containers = [c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer)]
    assert len(bar_containers) == 2 and all(c.errorbar is not None for c in bar_containers)
    # the error bar is the confidence half-width either side of the bar
    segs = bar_containers[0].errorbar.lines[2][0].get_segments()
    conf = s[(s.metric == "coverage") & (s["index"] == "mu_star")].set_index("param")["conf"]
    assert sorted(seg[1, 0] - seg[0, 0] for seg in segs) == pytest.approx(sorted(2 * conf))


def test_probability_curve_band_contains_the_line():
    p = make_probability()
    fig = SF.probability_curve(p, target=0.9, budget=2e9)
    ax = fig.axes[0]
    line = [ln for ln in ax.get_lines() if ln.get_label() == label("probability")][0]
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    for x, y in zip(line.get_xdata(), line.get_ydata()):
        lo, hi = band_range_at(band, x)
        assert lo <= y <= hi
    assert any(t.startswith("Target: 90%") for t in texts(fig))


# ----------------------------------------------------------------------------- Chinese and the font fallback

@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(LB, "cjk_font", lambda: None)
    monkeypatch.setattr(FONTS, "_warned", False)


def test_without_cjk_font_figures_fall_back_to_english_with_one_warning(no_cjk_font):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f1 = F.trajectories(make_summary(), metrics=("coverage",), labels="zh")
        f2 = SF.waterfall(make_decomposition(), "coverage", labels="zh")
    font_warnings = [w for w in caught if issubclass(w.category, CJKFontWarning)]
    assert len(font_warnings) == 1 and "fonts-noto-cjk" in str(font_warnings[0].message)
    assert title(f1.axes[0]) == "Coverage (staff / demand)"
    assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts(f1) + texts(f2))


def test_with_a_cjk_font_figures_are_in_chinese(monkeypatch):
    monkeypatch.setattr(LB, "cjk_font", lambda: "DejaVu Sans")  # the text, not the glyphs, is checked here
    fig = F.trajectories(make_summary(), metrics=("coverage",), labels="zh")
    assert title(fig.axes[0]) == "覆盖率（在岗/需求）" and fig.axes[0].get_xlabel() == "年份"


def test_the_figure_font_reaches_every_text_even_when_saved_later():
    L = Labels("en", font="DejaVu Serif")  # any non-default font shows where the font went
    figs = [F.trajectories(make_summary(), metrics=("coverage", "cost_yuan"), labels=L),
            F.county_strips(make_counties(n_per=3), labels=L), SF.allocation_by_province(make_allocation(), labels=L)]
    for fig in figs:
        F.to_png(fig)  # tick labels are made and drawn here, outside the style context
        drawn = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
        assert len(drawn) > 10
        assert {t.get_fontfamily()[0] for t in drawn} == {"DejaVu Serif"}
    assert matplotlib.rcParams["font.family"] != ["DejaVu Serif", "DejaVu Sans"]


def test_cjk_font_renders_without_missing_glyphs():
    font = LB.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed here (e.g. apt-get install fonts-noto-cjk); the fallback is tested above")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        fig = F.county_strips(make_counties(), labels="zh")
        png = F.to_png(fig)  # tick labels are drawn here, outside the style context
    assert png.startswith(b"\x89PNG")


def test_report_notes_the_fallback_once(no_cjk_font):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CJKFontWarning)
        html = write_report(None, summary=make_summary(), decomposition=make_decomposition(), lang="zh", strict=True)
    assert html.count("No CJK font is installed") == 1
    assert '<html lang="zh-CN">' in html and "主要结果" in html and "覆盖率（在岗/需求）" in html


# ----------------------------------------------------------------------------- the report

@pytest.fixture(scope="module")
def full_report() -> str:
    s = make_summary()
    return write_report(None, manifest=MANIFEST, scenarios=SCENARIOS, summary=s, comparison=make_comparison(s),
                        counties=make_counties(), decomposition=make_decomposition(), solution=SOLUTION,
                        allocation=make_allocation(), frontier=make_frontier(), sensitivity=make_sensitivity(),
                        probability=make_probability(), probability_target=0.9, sized_budget=2e9,
                        lang="en", strict=True)


def test_report_headline_values_and_years(full_report):
    html = full_report
    s = make_summary().set_index(["scenario", "year", "metric"])
    for y in (2021, 2026):
        assert f"{y} (year {y - 2016})" in html
        for sc in SCEN:
            r = s.loc[(sc, y, "coverage")]
            assert fmt_value("coverage", r["mean"]) in html
            assert f'{fmt_value("coverage", r["p05"])} – {fmt_value("coverage", r["p95"])}' in html
            assert fmt_yuan(s.loc[(sc, y, "cost_yuan")]["mean"]) in html
    assert "2017 (year 1)" not in html


def test_report_run_info_comparison_decomposition_and_optimizer(full_report):
    html = full_report
    assert "grassroots compare baseline policy-2016 --province 62 --seed 7" in html
    assert "a1" * 32 in html and "b2" * 32 in html
    assert "人社部发〔2016〕57号" in html and "Gansu (62)" in html
    # comparison: the paired mean difference and its interval, bold when it excludes zero
    c = make_comparison(make_summary()).set_index(["metric", "year"])
    r = c.loc[("coverage", 2026)]
    assert f'<span class="v sig">{fmt_value("coverage", r["mean_diff"], diff=True)}</span>' in html
    # decomposition table: each lever's contribution and the total
    assert "Service-term programmes" in html and fmt_value("coverage", sum(CONTRIB["coverage"]), diff=True) in html
    assert "Optimal" in html and "¥1.50 billion" in html and "3.5e-05" in html


def test_run_info_from_scenario_objects():
    import html as _html

    import scenarios
    sc = scenarios.load("policy-2016")
    out = render(S.add_run_info(ReportDocument(), {"command": "run", "seed": 0}, [sc]))
    assert _html.escape(sc.description) in out and scenarios.sha256(sc) in out
    assert "<dt>Master seed</dt><dd><code>0</code></dd>" in out  # a seed of 0 is a value


def test_report_escapes_text(full_report):
    html = full_report
    assert "Status quo &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert "alert('x')</script>" not in html
    r = ReportDocument(title="A <b>bold</b> & title")
    r.section("x <i>").add_note("<img src=x onerror=alert(1)>")
    out = render(r)
    assert "<b>bold</b>" not in out and "<img src=x" not in out and "&lt;img src=x" in out


def test_report_is_self_contained(full_report):
    html = full_report
    for pattern in (r"https?://", r'(src|href)\s*=\s*"(?!data:|#)', r"url\(", r"@import", r"<script[^>]", r"<link(?![^>]*data:)",
                    r"<iframe", r"<object", r"<embed"):
        assert not re.search(pattern, html, re.I), pattern
    assert html.count("<script>") == 1  # the one inline script of the sortable per-county table
    imgs = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*width="(\d+)" height="(\d+)"', html)
    assert len(imgs) == html.count("<img") >= 10
    for data, w, h in imgs:
        png = base64.b64decode(data, validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert (int(w), int(h)) == tuple(int.from_bytes(png[i:i + 4], "big") for i in (16, 20))


def test_report_document_api():
    r = ReportDocument(title="Custom", lang="en")
    r.section("Extra").add_figure("A figure", SF.waterfall(make_decomposition(), "coverage"), caption="cap")
    r.add_table("T", pd.DataFrame({"province": ["62"], "year": [2026], "cost_yuan": [1.5e9], "coverage": [0.9]}))
    html = render(r)
    assert "<h2>Extra</h2>" in html and "<h3>A figure</h3>" in html and "<figcaption>cap</figcaption>" in html
    assert "<td>Gansu</td>" in html and ">2026<" in html and "¥1.50 billion" in html and "90.0%" in html
    assert len(r.figures) == 1 and r.figures[0][1].startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="not a PNG"):
        r.add_figure("bad", b"GIF89a")


def test_write_report_into_a_result_folder(tmp_path):
    s = make_summary()
    with ResultFolder("run", "policy-2016", out=tmp_path / "run1",
                      argv=["grassroots", "run", "policy-2016", "--seed", "3"]) as folder:
        folder.manifest.update(seed=3, replication_seeds=[11, 12])
        html = write_report(folder, summary=s, strict=True)
    out = tmp_path / "run1"
    assert (out / "report.html").read_text(encoding="utf-8") == html
    pngs = sorted((out / "figures").glob("*.png"))
    assert [p.name for p in pngs] == ["trajectories.png"] and pngs[0].read_bytes().startswith(b"\x89PNG")
    assert "grassroots run policy-2016 --seed 3" in html and "11, 12" in html
    manifest = json.loads((out / "manifest.json").read_text())
    assert "report.html" in manifest["files"]


def test_same_tables_give_the_same_report_byte_for_byte():
    # a resumed run must give the same files as an uninterrupted one: no clock, no random jitter
    summary = make_summary()
    kw = dict(manifest=MANIFEST, summary=summary[summary.metric.isin(["coverage", "cost_yuan"])],
              counties=make_counties(n_per=3), strict=True)
    assert write_report(None, **kw) == write_report(None, **kw)


def test_write_report_to_a_path_never_overwrites(tmp_path):
    p = tmp_path / "r.html"
    summary = make_summary()
    summary = summary[summary.metric == "coverage"]
    write_report(p, summary=summary, strict=True)
    assert p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(FileExistsError):
        write_report(p, summary=summary)
    with pytest.raises(IsADirectoryError):
        write_report(tmp_path, summary=summary)


def test_a_malformed_block_becomes_a_visible_note_not_a_lost_run(caplog):
    bad = make_decomposition().drop(columns="contribution")
    html = write_report(None, summary=make_summary(), decomposition=bad)
    assert "This part could not be built" in html and "missing columns contribution" in html
    assert "Headline results" in html and "report: the decomposition block" in caplog.text
    with pytest.raises(ValueError):
        write_report(None, decomposition=bad, strict=True)


def test_read_results_round_trip(tmp_path):
    s = make_summary()
    s.to_csv(tmp_path / "summary.csv", index=False)
    make_counties().to_csv(tmp_path / "counties.csv.gz", index=False)
    make_allocation().to_csv(tmp_path / "allocation.csv", index=False)
    (tmp_path / "solution.json").write_text(json.dumps(SOLUTION))
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    loaded = read_results(tmp_path)
    assert set(loaded) == {"summary", "counties", "allocation", "solution", "manifest"}
    assert loaded["counties"]["province"].iloc[0] == "62"  # codes stay strings
    html = write_report(None, **loaded, lang="en", strict=True)
    assert "County distribution" in html and "Allocation by province and lever" in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); CI installs it")
def test_report_renders_in_headless_chromium(full_report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(full_report, encoding="utf-8")
    url = page.as_uri()
    browser = Chromium(CHROMIUM)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=sid)
        browser.call("Page.navigate", {"url": url}, session=sid)
        browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == sid)

        def js(expr: str):
            res = browser.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=sid)
            assert "exceptionDetails" not in res, res
            return res["result"].get("value")

        images = js("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])")
        text = js("document.body.innerText")
        title = js("document.title")
        headings = js("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        # the per-county table sorts on a click of a heading (and back on a second) and filters by prefecture
        rows = "[...document.querySelectorAll('#county-allocation tbody tr')]"
        ids = f"{rows}.filter(r => !r.hidden).map(r => r.cells[0].textContent)"
        costs = f"{rows}.map(r => parseFloat(r.cells[3].dataset.sort))"
        heads = js("[...document.querySelectorAll('#county-allocation thead th')].map(h => h.textContent)")
        before = js(ids)
        js("document.querySelector('#county-allocation thead th').click()")
        ascending = js(ids)
        js("document.querySelector('#county-allocation thead th').click()")
        descending = js(ids)
        js("document.querySelectorAll('#county-allocation thead th')[3].click()")
        by_cost = js(costs)
        select = "document.querySelector('select[data-filter-for=county-allocation]')"
        js(f"(s => {{ s.value = '620000'; s.dispatchEvent(new Event('change')); }})({select})")
        filtered = js(ids)
        pdf = browser.call("Page.printToPDF", {"printBackground": True}, session=sid)["data"]
        browser.call("Runtime.evaluate", {"expression": "1"}, session=sid)  # flush pending events
    finally:
        browser.close()

    problems = []
    for e in browser.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            problems.append(p["exceptionDetails"].get("text"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            problems.append(str(p.get("args")))
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            problems.append(p["entry"]["text"])
    assert problems == []
    requested = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert all(u == url or u.startswith("data:") for u in requested), requested

    assert len(images) == full_report.count("<img") >= 10
    assert all(ok and w > 0 and h > 0 for ok, w, h, _ in images), images
    assert title.startswith("Grassroots Talent Planner")
    for h in ("What was run", "Headline results", "Comparison with the base scenario", "Trajectories",
              "County distribution", "Which lever did it: decomposition", "Allocation", "Budget frontier",
              "Sensitivity", "Budget and probability of reaching the target"):
        assert h in headings
    s = make_summary().set_index(["scenario", "year", "metric"])
    assert fmt_value("coverage", s.loc[("policy-2016", 2026, "coverage")]["mean"]) in text
    assert "grassroots compare baseline policy-2016 --province 62 --seed 7" in text
    assert "Status quo <script>alert('x')</script>" in text  # shown as text, not run
    assert base64.b64decode(pdf).startswith(b"%PDF")
    assert heads[:4] == ["County", "Province", "Prefecture", "Total cost (yuan/year)"]
    assert before != ascending and ascending == sorted(before) and descending == sorted(before, reverse=True)
    assert by_cost == sorted(by_cost) and len(set(by_cost)) > 1
    assert filtered == sorted(c for c in before if c.startswith("6200")) and filtered
