"""One self-contained ``report.html`` per command.

The report is a single file that reads well offline and prints: figures are
embedded as base64 PNG ``data:`` URIs, the CSS is inline, there is no script and
no external reference of any kind.  All text is HTML-escaped.

Two ways to build one:

* :func:`~grassroots.report.write_report` (in :mod:`.write`) takes the tidy tables a command produced (any subset:
  each block appears only when its data is there) and writes ``report.html``
  into a :class:`~grassroots.results.ResultFolder` (with the figures as PNG
  files beside it) or to a path; it returns the HTML.
  :func:`~grassroots.report.read_results` loads those tables back from a finished result folder,
  so ``write_report("report-zh.html", **read_results(folder), lang="zh")``
  re-renders a run in Chinese.
* :class:`Report` is the builder underneath, for custom reports::

      r = Report(lang="en", title="Gansu, 2016 package")
      r.add_run_info(manifest, scenarios)
      r.add_headline(summary)
      r.section("Extra").add_figure("Coverage", fig, caption="...").add_note("...")
      html = r.to_html()

Blocks, in order: what was run (command, scenarios with descriptions and
sha256, seeds, version, the command to reproduce), headline table (years
start+5 and start+10, mean with p05-p95), comparison with the base (paired
differences with 90% intervals), trajectories, county distribution and
differences, lever decomposition (table and waterfalls), optimizer solution,
allocation by province and lever, budget frontier, sensitivity, and the
budget-probability curve.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import figures as F
from . import study_figures as SF
from .blocks import (esc, _Figure, FIGURE_DPI, _finite, _first, _g4, HEADLINE_METRICS, headline_years, _png_size, _Raw,
                     _scenario_rows, _Section, _SECTION_KEYS, _slug)
from .labels import LEVER_ORDER, Labels, fmt_number, fmt_yuan, label, metric_kind
from .style import CSS


class Report:
    """Builds one self-contained HTML report.

    ``lang`` is ``en`` or ``zh``; ``names`` maps scenario names to display names.
    Figures drawn by the ``add_*`` methods use Chinese labels only when a CJK
    font is installed; otherwise they fall back to English and the report says
    so once, at the top.
    """

    def __init__(self, title: str | None = None, lang: str = "en", names: Mapping[str, str] | None = None,
                 subtitle: str | None = None):
        self.labels = Labels(lang, dict(names or {}))
        self.title = title if title is not None else self.labels("report_title")
        self.subtitle = subtitle
        self.sections: list[_Section] = []
        self.notes: list[str] = []  # shown at the top, each once
        self._fig_labels: Labels | None = None
        self._ids: set[str] = set()  # section anchors
        self._names: set[str] = set()  # figure file names

    # -- plumbing
    @property
    def lang(self) -> str:
        return self.labels.lang

    def L(self, key) -> str:
        return self.labels(key)

    @property
    def figure_labels(self) -> Labels:
        """Labels for figures: English when Chinese was asked for and no CJK font is installed."""
        if self._fig_labels is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._fig_labels = self.labels.for_figures()
            for w in caught:  # pass the font warning on, once
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if self._fig_labels.fell_back:
                self.add_note(
                    "未安装中文字体（如 Debian 的 fonts-noto-cjk），图中标签使用英文。"
                    "No CJK font is installed (for example Debian's fonts-noto-cjk): figure labels are in English.",
                    top=True)
        return self._fig_labels

    @staticmethod
    def _unique(text: str, taken: set[str]) -> str:
        base = _slug(text)
        s, n = base, 1
        while s in taken:
            n += 1
            s = f"{base}-{n}"
        taken.add(s)
        return s

    def section(self, title: str, key: str | None = None) -> "Report":
        """Start a new section; ``title`` may be a label key (``"headline"``) or plain text."""
        text = self.L(title) if title in _SECTION_KEYS else title
        self.sections.append(_Section(self._unique(key or title, self._ids), text))
        return self

    def _current(self) -> _Section:
        if not self.sections:
            self.section("notes")
        return self.sections[-1]

    # -- generic blocks
    def add_note(self, text: str, kind: str = "note", top: bool = False) -> "Report":
        """A visible note (escaped).  ``top=True`` puts it under the title, once per text."""
        if top:
            if text not in self.notes:
                self.notes.append(text)
            return self
        self._current().blocks.append(_Raw(f'<p class="{esc(kind)}">{esc(text)}</p>'))
        return self

    def add_figure(self, title: str, fig, caption: str | None = None, alt: str | None = None,
                   name: str | None = None, dpi: int = FIGURE_DPI) -> "Report":
        """A matplotlib Figure (or PNG bytes), embedded as a data URI.

        ``name`` is the figure's file name (without .png) when the figures are also
        saved as files; by default it is made from the title.
        """
        png = fig if isinstance(fig, (bytes, bytearray)) else F.to_png(fig, dpi=dpi)
        _png_size(bytes(png))  # refuse anything that is not a PNG
        slug = self._unique(name or ("fig-" + (title or alt or "figure")), self._names)
        self._current().blocks.append(_Figure(title, bytes(png), caption, alt or title or "figure", slug))
        return self

    def add_table(self, title: str | None, df: pd.DataFrame, caption: str | None = None,
                  formats: Mapping[str, str | Callable[[Any], str]] | None = None,
                  headers: Mapping[str, str] | None = None, max_rows: int = 200) -> "Report":
        """A DataFrame as a table.  ``formats`` maps a column to a metric name (formatted
        as that metric) or a function; other numbers get thousands separators.  Column
        headings go through the labels unless ``headers`` names them."""
        formats = dict(formats or {})
        headers = dict(headers or {})
        shown = df.head(max_rows)
        numeric = {c: pd.api.types.is_numeric_dtype(df[c]) for c in df.columns}
        head = "".join(f'<th class="{"num" if numeric[c] else ""}">{esc(headers.get(c, self.L(c)))}</th>'
                       for c in df.columns)
        rows = []
        for _, r in shown.iterrows():
            cells = []
            for c in df.columns:
                cells.append(f'<td class="{"num" if numeric[c] else ""}">{esc(self._cell(c, r[c], formats.get(c)))}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        more = ""
        if len(df) > max_rows:
            more = (f'<p class="muted">{len(df) - max_rows:,} 行未显示。</p>' if self.lang == "zh"
                    else f'<p class="muted">{len(df) - max_rows:,} more rows not shown.</p>')
        title_html = f"<h3>{esc(title)}</h3>" if title else ""
        cap = f'<p class="caption">{esc(caption)}</p>' if caption else ""
        self._current().blocks.append(_Raw(
            f'{title_html}<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{cap}{more}'))
        return self

    def _cell(self, column: str, value, fmt) -> str:
        if callable(fmt):
            return fmt(value)
        if isinstance(fmt, str):
            return self.labels.value(fmt, value)
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return "–"
        if column in ("year", "county_id", "province", "seed"):
            if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer()):
                return label(str(int(value)).zfill(2), self.lang) if column == "province" else str(int(value))
            return label(value, self.lang) if column == "province" else str(value)
        if column in ("lever", "field", "metric", "index"):
            return self.L(value)
        if column == "scenario":
            return self.labels.scenario(value)
        if isinstance(value, (bool, np.bool_)):
            return str(bool(value))
        if isinstance(value, (int, float, np.integer, np.floating)):
            kind = metric_kind(column)
            return self.labels.value(column, value) if kind != "number" else fmt_number(value)
        return str(value)

    def add_items(self, title: str | None, items: Sequence[tuple[str, Any]], code: Iterable[str] = ()) -> "Report":
        """A definition list of (label, value); keys in ``code`` are shown in monospace."""
        code = set(code)
        parts = []
        for k, v in items:
            if v is None or v == "":
                continue
            val = f"<code>{esc(v)}</code>" if k in code else esc(v)
            parts.append(f"<dt>{esc(k)}</dt><dd>{val}</dd>")
        title_html = f"<h3>{esc(title)}</h3>" if title else ""
        self._current().blocks.append(_Raw(f'{title_html}<dl class="kv">{"".join(parts)}</dl>'))
        return self

    def add_html(self, markup: str) -> "Report":
        """Trusted markup (escape any text in it with :func:`esc`)."""
        self._current().blocks.append(_Raw(markup))
        return self

    # -- content blocks
    def add_run_info(self, manifest: Mapping[str, Any] | None, scenarios=None) -> "Report":
        """What was run: command, scenarios (name, description, sha256), seeds, version, how to reproduce."""
        m = dict(manifest or {})
        self.section("run_info")
        L = self.L
        reproduce = m.get("reproduce")
        if not reproduce and m.get("argv"):
            import shlex
            reproduce = "grassroots " + " ".join(shlex.quote(str(a)) for a in m["argv"])
        if reproduce:
            self.add_html(f'<p class="label">{esc(L("reproduce"))}</p><pre class="cmd"><code>{esc(reproduce)}</code></pre>')
        rows = _scenario_rows(m, scenarios)
        if rows:  # name, and description / sha256 columns when any scenario has them
            has_desc, has_sha = any(r[1] for r in rows), any(r[2] for r in rows)
            head = (f'<th>{esc(L("scenario"))}</th>' + (f'<th>{esc(L("description"))}</th>' if has_desc else "")
                    + (f'<th>{esc(L("sha256"))}</th>' if has_sha else ""))
            body = "".join(
                f'<tr><td><b>{esc(self.labels.scenario(name))}</b></td>'
                + (f"<td>{esc(desc)}</td>" if has_desc else "")
                + (f'<td><code class="hash">{esc(sha)}</code></td>' if has_sha else "") + "</tr>"
                for name, desc, sha in rows)
            self.add_html(f'<div class="table-wrap"><table class="scen"><thead><tr>{head}</tr></thead>'
                          f'<tbody>{body}</tbody></table></div>')
        seeds = _first(m, "replication_seeds", "seeds")
        seeds_text = None
        if isinstance(seeds, (list, tuple)) and seeds:
            shown = ", ".join(str(s) for s in seeds[:6])
            more = f" … ({len(seeds)} {'个' if self.lang == 'zh' else 'seeds; all in manifest.json'})" if len(seeds) > 6 else ""
            seeds_text = shown + more
        elif seeds is not None:
            seeds_text = str(seeds)
        provinces = m.get("provinces")
        if isinstance(provinces, (list, tuple)):
            provinces = ", ".join(f"{label(str(p), self.lang)} ({p})" for p in provinces) if provinces else None
        items = [
            (L("command"), m.get("command")),
            (L("seed"), _first(m, "seed", "master_seed")),
            (L("replication_seeds"), seeds_text),
            (L("replications"), m.get("replications")),
            (L("years"), m.get("years")),
            (L("provinces"), provinces),
            (L("version"), " ".join(str(x) for x in (m.get("package"), m.get("version")) if x)),
            (L("python"), m.get("python")),
            (L("started"), m.get("started")),
            (L("finished"), m.get("finished")),
        ]
        known = {"command", "argv", "reproduce", "scenario", "scenarios", "package", "version", "python",
                 "started", "finished", "seed", "master_seed", "replication_seeds", "seeds", "replications",
                 "years", "provinces", "files", "sha256", "scenario_sha256", "descriptions"}
        extra = [(k, v) for k, v in m.items() if k not in known and isinstance(v, (str, int, float, bool))]
        items += [(label(k, self.lang), v) for k, v in extra]
        self.add_items(None, items, code=(L("seed"), L("replication_seeds")))
        return self

    def _metric_year_table(self, css: str, metrics: Sequence[str], years: Sequence[int], start: int | None,
                           columns: Sequence[tuple[str, str]], cell: Callable[[str, int, str], str],
                           max_columns: int = 4) -> str:
        """Rows = metrics; column groups = years, each with ``columns`` (key, heading).

        ``cell(metric, year, key)`` returns a cell's inner markup.  Years are split
        over several tables when a row would have more than ``max_columns`` values.
        """
        per = max(1, max_columns // max(1, len(columns)))
        out = []
        for i in range(0, len(years), per):
            chunk = list(years[i:i + per])
            top = f'<th rowspan="2">{esc(self.L("metric"))}</th>' + "".join(
                f'<th class="year" colspan="{len(columns)}">{esc(self._year_label(y, start))}</th>' for y in chunk)
            sub = "".join(f'<th class="num{" first" if j == 0 else ""}">{esc(h)}</th>'
                          for _ in chunk for j, (_, h) in enumerate(columns))
            body = []
            for m in metrics:
                cells = "".join(f'<td class="num{" first" if j == 0 else ""}">{cell(m, y, k)}</td>'
                                for y in chunk for j, (k, _) in enumerate(columns))
                body.append(f"<tr><td>{esc(self.L(m))}</td>{cells}</tr>")
            out.append(f'<div class="table-wrap"><table class="{css}"><thead><tr>{top}</tr><tr>{sub}</tr></thead>'
                       f'<tbody>{"".join(body)}</tbody></table></div>')
        return "".join(out)

    @staticmethod
    def _row(idx: pd.DataFrame, key):
        if key not in idx.index:
            return None
        r = idx.loc[key]
        return r.iloc[0] if isinstance(r, pd.DataFrame) else r

    def _value_cell(self, metric: str, value, lo, hi, diff: bool = False) -> str:
        if not _finite(value):
            return "–"
        sig = diff and _finite(lo) and _finite(hi) and (float(lo) > 0 or float(hi) < 0)
        ci = self.labels.interval(metric, lo, hi, diff=diff)
        ci_html = f'<span class="ci">{esc(ci)}</span>' if ci else ""
        cls = "v sig" if sig else "v"
        return f'<span class="{cls}">{esc(self.labels.value(metric, value, diff=diff))}</span>{ci_html}'

    def add_headline(self, summary: pd.DataFrame, years: Sequence[int] | None = None,
                     metrics: Sequence[str] = HEADLINE_METRICS, start_year: int | None = None,
                     scenarios: Sequence[str] | None = None) -> "Report":
        """Years start+5 and start+10 (or ``years``): each headline metric per scenario, mean and p05-p95."""
        F._require(summary, ["scenario", "year", "metric", "mean"], "summary")
        have = set(summary["metric"])
        mets = [m for m in metrics if m in have]
        if not mets:
            return self
        chosen, start = headline_years(summary, years, start_year)
        scen = list(scenarios) if scenarios is not None else F._ordered(summary["scenario"])
        idx = summary.set_index(["scenario", "year", "metric"]).sort_index()
        self.section("headline")

        def cell(m, y, s):
            r = self._row(idx, (s, y, m))
            return "–" if r is None else self._value_cell(m, r["mean"], r.get("p05"), r.get("p95"))

        table = self._metric_year_table("headline", mets, chosen, start,
                                        [(s, self.labels.scenario(s)) for s in scen], cell)
        cap = ("均值；下方为重复实验的 5%–95% 分位区间。" if self.lang == "zh"
               else "Mean over replications; below it, the 5th–95th percentile range across replications.")
        self.add_html(f'{table}<p class="caption">{esc(cap)}</p>')
        return self

    def _year_label(self, y: int, start: int | None) -> str:
        if start is None:
            return str(y)
        n = int(y) - int(start)
        return f"{y}年（第{n}年）" if self.lang == "zh" else f"{y} (year {n})"

    def add_comparison(self, comparison: pd.DataFrame, years: Sequence[int] | None = None,
                       metrics: Sequence[str] = HEADLINE_METRICS, start_year: int | None = None,
                       base_name: str | None = None) -> "Report":
        """Paired differences from the base (``comparison.csv``) for the headline metrics and years."""
        F._require(comparison, ["metric", "year", "scenario", "mean_diff"], "comparison")
        mets = [m for m in metrics if m in set(comparison["metric"])]
        if not mets:
            return self
        chosen, start = headline_years(comparison, years, start_year)
        scen = F._ordered(comparison["scenario"])
        self.section("comparison")
        L = self.L
        numeric_base = "base" in comparison.columns and pd.api.types.is_numeric_dtype(comparison["base"])
        idx = comparison.set_index(["metric", "year", "scenario"]).sort_index()
        columns = [("\0base", L("base") + (f" ({self.labels.scenario(base_name)})" if base_name else ""))] \
            if numeric_base else []
        columns += [(s, "Δ " + self.labels.scenario(s)) for s in scen]

        def cell(m, y, s):
            if s == "\0base":
                b = comparison[(comparison["metric"] == m) & (comparison["year"] == y)]["base"]
                return esc(self.labels.value(m, b.iloc[0])) if len(b) else "–"
            r = self._row(idx, (m, y, s))
            return "–" if r is None else self._value_cell(m, r["mean_diff"], r.get("p05"), r.get("p95"), diff=True)

        table = self._metric_year_table("comparison", mets, chosen, start, columns, cell)
        cap = ("配对差异（共同随机数）：重复实验的均值与 90% 置信区间；区间不含零的差异以粗体显示。完整结果见 comparison.csv。"
               if self.lang == "zh" else
               "Paired differences from the base (common random numbers): mean and 90% confidence interval "
               "over replications. Bold: the interval excludes zero. Every metric and year is in comparison.csv.")
        self.add_html(f'{table}<p class="caption">{esc(cap)}</p>')
        return self

    def add_trajectories(self, summary: pd.DataFrame, metrics: Sequence[str] = F.DEFAULT_METRICS) -> "Report":
        self.section("trajectories")
        fig = F.trajectories(summary, metrics=metrics, labels=self.figure_labels)
        cap = ("每条线为一个情景的均值，阴影为重复实验的 5%–95% 分位区间。" if self.lang == "zh"
               else "Each line is a scenario's mean; the shaded band is the 5th–95th percentile range over replications.")
        return self.add_figure("", fig, caption=cap, alt=self.L("trajectories"), name="trajectories")

    def add_county_distribution(self, counties: pd.DataFrame, metric: str = "coverage", year: int | None = None,
                                base: str | None = None) -> "Report":
        """County strips for ``metric`` (and differences from ``base`` when there are other scenarios)."""
        tot = F.county_totals(counties, metric, year)
        self.section("county_distribution")
        fig = F.county_strips(counties, metric, year, labels=self.figure_labels)
        cap = ("上图：各县按数值排序（横轴为县的累计占比）；下图：各省县级分布，黑线为中位数。" if self.lang == "zh"
               else "Top: every county, sorted by its value (x = share of counties). "
                    "Bottom: counties by province, the black tick is the median.")
        self.add_figure("", fig, caption=cap, alt=self.L("county_distribution"), name=f"counties-{metric}")
        rows = []
        ref = 0.8 if metric == "coverage" else None
        for s in F._ordered(tot["scenario"]):
            v = tot.loc[tot["scenario"] == s, "mean"]
            row = {"scenario": s, "counties": len(v), "min": v.min(), "p10": v.quantile(0.10),
                   "median": v.median(), "max": v.max()}
            if ref is not None:
                row["below"] = float((v < ref).mean())
            rows.append(row)
        df = pd.DataFrame(rows)
        zh = self.lang == "zh"
        headers = {"scenario": self.L("scenario"), "counties": "县数" if zh else "Counties",
                   "min": "最低" if zh else "Lowest", "p10": "第10百分位" if zh else "10th percentile",
                   "median": "中位数" if zh else "Median", "max": "最高" if zh else "Highest",
                   "below": "低于80%的县占比" if zh else "Share below 80%"}
        formats = {c: metric for c in ("min", "p10", "median", "max")}
        formats["below"] = "share"
        formats["counties"] = lambda x: f"{int(x):,}"
        self.add_table(None, df, formats=formats, headers=headers)
        scen = F._ordered(tot["scenario"])
        if len(scen) > 1:
            b = base if base in scen else scen[0]
            fig = F.county_differences(counties[counties["scenario"] == b], counties, metric, year,
                                       labels=self.figure_labels)
            cap = ("各县均值之差（非配对区间）。" if zh else
                   "Difference of county means from the base; counties sorted by the difference.")
            self.add_figure(self.L("county_differences"), fig, caption=cap, alt=self.L("county_differences"),
                            name=f"county-differences-{metric}")
        return self

    def add_decomposition(self, decomposition: pd.DataFrame, year: int | None = None,
                          metrics: Sequence[str] | None = None, max_figures: int = 4) -> "Report":
        """Shapley decomposition by lever family: one table (levers x metrics) and waterfalls."""
        F._require(decomposition, ["metric", "lever", "contribution"], "decomposition")
        d = decomposition
        y = F._pick_year(d, year)
        if y is not None:
            d = d[d["year"] == y]
        have = F._ordered(d["metric"], first=HEADLINE_METRICS)
        mets = [m for m in (metrics or have) if m in have]
        if not mets:
            return self
        self.section("decomposition")
        levers = F._ordered([lv for lv in d["lever"] if lv != "total"], first=LEVER_ORDER) + ["total"]
        table = d.pivot_table(index="lever", columns="metric", values="contribution", aggfunc="sum", observed=True)
        table = table.reindex(index=[lv for lv in levers if lv in table.index], columns=mets)
        L = self.L
        head = f'<th>{esc(L("lever"))}</th>' + "".join(f'<th class="num">{esc(L(m))}</th>' for m in mets)
        body = []
        for lv, r in table.iterrows():
            cls = ' class="total"' if lv == "total" else ""
            cells = "".join(f'<td class="num">{esc(self.labels.value(m, r[m], diff=True))}</td>' for m in mets)
            body.append(f"<tr{cls}><td>{esc(L(lv))}</td>{cells}</tr>")
        cap = (f"{y} 年各政策杠杆的 Shapley 贡献（各项之和等于总差异）。" if self.lang == "zh"
               else f"Shapley contribution of each lever family{f' in {y}' if y is not None else ''}: "
                    "the contributions add up to the total difference between the package and its base.")
        self.add_html(f'<div class="table-wrap"><table class="decomp"><thead><tr>{head}</tr></thead>'
                      f'<tbody>{"".join(body)}</tbody></table></div><p class="caption">{esc(cap)}</p>')
        for m in mets[:max_figures]:
            fig = SF.waterfall(decomposition, m, labels=self.figure_labels, year=y)
            self.add_figure("", fig, alt=f'{L("decomposition")}: {L(m)}', name=f"waterfall-{m}")
        return self

    def _scalar(self, key: str, v) -> str:
        """A solution or manifest value for people: yuan, shares and floats formatted by the key's name."""
        if isinstance(v, (bool, np.bool_)) or v is None or isinstance(v, str):
            return "–" if v is None else str(v)
        if isinstance(v, (int, float, np.integer, np.floating)):
            kind = metric_kind(re.sub(r"_(before|after)$", "", key))
            if kind in ("yuan", "share") or key.startswith("coverage"):
                return self.labels.value("coverage" if kind != "yuan" else "cost_yuan", v)
            if isinstance(v, (int, np.integer)):
                return f"{int(v):,}"
            return fmt_number(v) if abs(float(v)) >= 1 else _g4(v)
        return str(v)

    def add_solution(self, solution: Mapping[str, Any]) -> "Report":
        """Optimizer solution (``solution.json``): status, objective, budget and budget used, solver,
        totals before and after, shadow prices (with families and the largest duals when given)."""
        s = dict(solution or {})
        self.section("optimizer")
        L, zh = self.L, self.lang == "zh"
        objective = s.get("objective")
        obj_text = self._scalar("objective", objective) if objective is not None else None
        if obj_text is not None and s.get("objective_name"):
            obj_text += f" ({L(s['objective_name'])})"
        items = [(L("status"), s.get("status")), (L("objective"), obj_text),
                 (L("budget_yuan"), self._scalar("budget_yuan", s["budget_yuan"]) if s.get("budget_yuan") is not None else None),
                 (L("budget_used_yuan"), self._scalar("budget_used_yuan", s["budget_used_yuan"])
                  if s.get("budget_used_yuan") is not None else None)]
        for key in ("budget_used_by_payer_yuan", "payer_budget_yuan"):
            if isinstance(s.get(key), Mapping):
                items += [(f"{L(key)}: {L(f'{p}_gov')}", self._scalar(key, v))
                          for p, v in s[key].items()]
        items += [(L("solver"), s.get("solver")),
                  (L("solve_seconds"), f"{float(s['solve_seconds']):.2f}" if _finite(s.get("solve_seconds")) else None)]
        shown = {"status", "objective", "objective_name", "budget_yuan", "budget_used_yuan", "solver", "solve_seconds",
                 "budget_used_by_payer_yuan", "payer_budget_yuan"}
        items += [(L(k), self._scalar(k, v)) for k, v in s.items()
                  if k not in shown and (v is None or isinstance(v, (str, int, float, bool)))]
        self.add_items(None, [(k, v) for k, v in items if v not in (None, "–")])
        totals = s.get("totals")
        if isinstance(totals, Mapping) and totals:
            rows = [(L(k), self._scalar(k, v)) for k, v in totals.items() if not isinstance(v, (Mapping, list))]
            self.add_items("合计" if zh else "Totals", rows)
        sp = s.get("shadow_prices")
        if isinstance(sp, Mapping) and sp:
            rows = []
            for k, v in sp.items():
                if isinstance(v, bool) or k in ("families", "largest"):
                    continue
                if isinstance(v, (int, float)) or v is None:
                    rows.append((L(k) if k == "budget" else k, v))
                elif isinstance(v, Mapping) and all(isinstance(x, (int, float)) or x is None for x in v.values()):
                    rows += [(f"{k}: {p}", x) for p, x in v.items()]
            notes = "; ".join(f"{k}: {v}" for k, v in sp.items() if isinstance(v, str))
            if rows:
                df = pd.DataFrame(rows, columns=["constraint", "shadow_price"])
                self.add_table(L("shadow_prices"), df, caption=notes or None,
                               headers={"constraint": "约束" if zh else "Constraint", "shadow_price": L("shadow_prices")},
                               formats={"shadow_price": _g4,
                                        "constraint": str})
            fam = sp.get("families")
            if isinstance(fam, Mapping) and fam:
                df = pd.DataFrame([{"family": f, **v} for f, v in fam.items() if isinstance(v, Mapping)])
                fmts = {c: _g4 for c in ("min", "max", "mean_nonzero")}
                fmts["family"] = str
                self.add_table("按约束族的影子价格" if zh else "Shadow prices by constraint family", df, formats=fmts)
            largest = sp.get("largest")
            if isinstance(largest, list) and largest and all(isinstance(r, Mapping) for r in largest):
                df = pd.DataFrame(largest)
                fmts = {c: str for c in df.columns if c != "dual"}
                fmts["dual"] = _g4
                self.add_table("绝对值最大的影子价格" if zh else "Largest shadow prices", df, formats=fmts)
        details = {k: s[k] for k in ("settings", "levers", "inputs") if isinstance(s.get(k), Mapping) and s[k]}
        if details:
            body = "".join(f"<dt>{esc(k)}</dt><dd><code>{esc(json.dumps(v, ensure_ascii=False, default=str))}</code></dd>"
                           for d in details.values() for k, v in d.items())
            summary = "求解设置与输入" if zh else "Solver settings and inputs"
            self.add_html(f'<details><summary>{esc(summary)}</summary><dl class="kv">{body}</dl></details>')
        return self

    def add_allocation(self, allocation: pd.DataFrame) -> "Report":
        """Allocation by province and lever (figure) and totals by lever (table)."""
        F._require(allocation, ["province", "lever", "cost_yuan"], "allocation")
        if not any(s.key == "optimizer" for s in self.sections):
            self.section("optimizer")
        fig = SF.allocation_by_province(allocation, labels=self.figure_labels)
        self.add_figure("", fig, alt=self.L("allocation_by_province"), name="allocation-by-province")
        agg = {"cost_yuan": ("cost_yuan", "sum")}
        if "quantity" in allocation.columns:
            agg["quantity"] = ("quantity", "sum")
        by = allocation.groupby("lever", observed=True).agg(**agg).reset_index()
        total = by["cost_yuan"].sum()
        by["share"] = by["cost_yuan"] / total if total else np.nan
        by = by.sort_values("cost_yuan", ascending=False)
        cols = ["lever"] + (["quantity"] if "quantity" in by.columns else []) + ["cost_yuan", "share"]
        zh = self.lang == "zh"
        self.add_table(None, by[cols], formats={"cost_yuan": "cost_yuan", "share": "share",
                                                "quantity": lambda q: fmt_number(q)},
                       headers={"share": "占总成本" if zh else "Share of cost"})
        return self

    def add_frontier(self, frontier_df: pd.DataFrame) -> "Report":
        self.section("frontier")
        fig = SF.frontier(frontier_df, labels=self.figure_labels)
        cap = ("预算逐步增加时的覆盖率、缺口与每元边际效益。" if self.lang == "zh"
               else "Coverage, shortfall and marginal value of one more yuan as the budget grows.")
        self.add_figure("", fig, caption=cap, alt=self.L("frontier"), name="frontier")
        cols = [c for c in ("budget_yuan",) + SF.FRONTIER_METRICS if c in frontier_df.columns]
        fmts = {c: c for c in cols}
        fmts["marginal_value_per_yuan"] = _g4
        self.add_table(None, frontier_df[cols].sort_values("budget_yuan"), formats=fmts)
        return self

    def add_sensitivity(self, sensitivity_df: pd.DataFrame, metrics: Sequence[str] | None = None,
                        max_figures: int = 4) -> "Report":
        F._require(sensitivity_df, ["param", "index", "value"], "sensitivity")
        self.section("sensitivity")
        have = F._ordered(sensitivity_df["metric"], first=HEADLINE_METRICS) if "metric" in sensitivity_df else [None]
        mets = [m for m in (metrics or have) if m in have]
        idx = set(sensitivity_df["index"])
        if idx & {"mu_star", "sigma"}:
            cap = ("Morris 筛选：μ* 衡量参数的总体影响，σ 衡量非线性与交互作用；误差线为自助法置信区间。" if self.lang == "zh"
                   else "Morris screening: μ* measures a parameter's overall influence, σ its nonlinearity and "
                        "interactions; error bars are bootstrap confidence intervals.")
        else:
            cap = ("Sobol 指数：S1 为单独效应，ST 含交互作用的总效应；误差线为自助法置信区间。" if self.lang == "zh"
                   else "Sobol indices: S1 is a parameter's own effect, ST its total effect including interactions; "
                        "error bars are bootstrap confidence intervals.")
        for m in mets[:max_figures]:
            fig = SF.tornado(sensitivity_df, m if m is not None else "", labels=self.figure_labels)
            self.add_figure("", fig, caption=cap, alt=f'{self.L("sensitivity")}: {self.L(m) if m else ""}',
                            name=f"sensitivity-{m or 'all'}")
        return self

    def add_probability(self, df: pd.DataFrame, target: float | None = None, budget: float | None = None,
                        caption: str | None = None) -> "Report":
        self.section("budget_probability")
        fig = SF.probability_curve(df, target=target, budget=budget, labels=self.figure_labels)
        if caption is None:
            caption = ("每个预算下达到目标的概率及其蒙特卡洛区间。" if self.lang == "zh"
                       else "Probability of reaching the target at each budget, with its Monte Carlo interval.")
            if budget is not None:
                caption += (f" 选定预算：{fmt_yuan(budget, 'zh')}。" if self.lang == "zh"
                            else f" Sized budget: {fmt_yuan(budget, 'en')}.")
        return self.add_figure("", fig, caption=caption, alt=self.L("budget_probability"), name="budget-probability")

    # -- output
    def figures(self) -> list[tuple[str, bytes]]:
        """(slug, PNG bytes) of every figure, in order."""
        return [(b.slug, b.png) for s in self.sections for b in s.blocks if isinstance(b, _Figure)]

    def to_html(self) -> str:
        lang_attr = "zh-CN" if self.lang == "zh" else "en"
        toc = "".join(f'<li><a href="#{esc(s.key)}">{esc(s.title)}</a></li>' for s in self.sections)
        notes = "".join(f'<p class="note">{esc(n)}</p>' for n in self.notes)
        body = []
        for s in self.sections:
            inner = "".join(b.html() for b in s.blocks)
            body.append(f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2>{inner}</section>')
        sub = f'<p class="subtitle">{esc(self.subtitle)}</p>' if self.subtitle else ""
        toc_html = (f'<nav class="toc"><h2>{esc(self.L("contents"))}</h2><ol>{toc}</ol></nav>'
                    if len(self.sections) > 1 else "")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{lang_attr}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head>\n"
            f'<body><header><h1>{esc(self.title)}</h1>{sub}{notes}</header>\n'
            f"{toc_html}<main>{''.join(body)}</main>\n"
            "</body></html>\n")

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the HTML to ``path`` (atomically; an existing file is kept unless ``overwrite``)."""
        from ..results import atomic_write_bytes
        p = Path(path)
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p}: exists already (pass overwrite=True to replace it)")
        atomic_write_bytes(p, self.to_html().encode("utf-8"))
        return p


