"""One self-contained ``report.html`` per command.

The report is a single file that reads well offline and prints: figures are
embedded as base64 PNG ``data:`` URIs, the CSS is inline, there is no script and
no external reference of any kind.  All text is HTML-escaped.

Two ways to build one:

* :func:`write_report` takes the tidy tables a command produced (any subset:
  each block appears only when its data is there) and writes ``report.html``
  into a :class:`~grassroots.results.ResultFolder` (with the figures as PNG
  files beside it) or to a path; it returns the HTML.
  :func:`read_results` loads those tables back from a finished result folder,
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

import base64
import html
import json
import logging
import re
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import figures as F
from .labels import LEVER_ORDER, Labels, fmt_number, fmt_yuan, label, metric_kind

log = logging.getLogger(__name__)

HEADLINE_METRICS = ("coverage", "vacancies", "turnover_rate", "senior_share", "cost_yuan",
                    "coverage_gini", "share_counties_below_80pct")
HEADLINE_OFFSETS = (5, 10)
FIGURE_DPI = 110

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def esc(text: Any) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


def _png_size(png: bytes) -> tuple[int, int]:
    if not png.startswith(_PNG_MAGIC) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()
    return s or "section"


def _g4(v) -> str:
    """Four significant digits, for duals and marginal values; never '-0'."""
    if not _finite(v):
        return "–"
    x = float(v)
    return "0" if abs(x) < 1e-12 else f"{x:.4g}"


def _finite(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- blocks

@dataclass
class _Figure:
    title: str
    png: bytes
    caption: str | None
    alt: str
    slug: str

    def html(self) -> str:
        w, h = _png_size(self.png)
        data = base64.b64encode(self.png).decode("ascii")
        cap = f'<figcaption>{esc(self.caption)}</figcaption>' if self.caption else ""
        title = f"<h3>{esc(self.title)}</h3>" if self.title else ""
        return (f'<figure class="fig">{title}<img src="data:image/png;base64,{data}" alt="{esc(self.alt)}" '
                f'width="{w}" height="{h}">{cap}</figure>')


@dataclass
class _Raw:
    """Markup built by this module from escaped pieces."""
    markup: str

    def html(self) -> str:
        return self.markup


@dataclass
class _Section:
    key: str
    title: str
    blocks: list = field(default_factory=list)


# ----------------------------------------------------------------------------- builder

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
            fig = F.waterfall(decomposition, m, labels=self.figure_labels, year=y)
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
        fig = F.allocation_by_province(allocation, labels=self.figure_labels)
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
        fig = F.frontier(frontier_df, labels=self.figure_labels)
        cap = ("预算逐步增加时的覆盖率、缺口与每元边际效益。" if self.lang == "zh"
               else "Coverage, shortfall and marginal value of one more yuan as the budget grows.")
        self.add_figure("", fig, caption=cap, alt=self.L("frontier"), name="frontier")
        cols = [c for c in ("budget_yuan",) + F.FRONTIER_METRICS if c in frontier_df.columns]
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
            fig = F.tornado(sensitivity_df, m if m is not None else "", labels=self.figure_labels)
            self.add_figure("", fig, caption=cap, alt=f'{self.L("sensitivity")}: {self.L(m) if m else ""}',
                            name=f"sensitivity-{m or 'all'}")
        return self

    def add_probability(self, df: pd.DataFrame, target: float | None = None, budget: float | None = None,
                        caption: str | None = None) -> "Report":
        self.section("budget_probability")
        fig = F.probability_curve(df, target=target, budget=budget, labels=self.figure_labels)
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
        from .results import atomic_write_bytes
        p = Path(path)
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p}: exists already (pass overwrite=True to replace it)")
        atomic_write_bytes(p, self.to_html().encode("utf-8"))
        return p


_SECTION_KEYS = {"run_info", "headline", "comparison", "trajectories", "county_distribution", "decomposition",
                 "optimizer", "frontier", "sensitivity", "budget_probability", "notes"}


def _first(m: Mapping, *keys):
    for k in keys:
        if m.get(k) is not None:
            return m[k]
    return None


def _scenario_rows(m: Mapping, scenarios) -> list[tuple[str, str, str]]:
    """(name, description, sha256) from the scenarios argument and the manifest, whichever has them."""
    rows: dict[str, list[str]] = {}

    def put(name, description=None, sha=None):
        r = rows.setdefault(str(name), ["", ""])
        if description and not r[0]:
            r[0] = str(description)
        if sha and not r[1]:
            r[1] = str(sha)

    if scenarios is not None:
        items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
        for key, sc in items:
            if isinstance(sc, str):  # {name: description}
                put(key, sc)
            elif isinstance(sc, Mapping):
                put(sc.get("name", key), sc.get("description"), sc.get("sha256"))
            else:  # a Scenario object
                sha = None
                try:
                    import scenarios as _sc
                    sha = _sc.sha256(sc)
                except Exception:  # noqa: BLE001 - the digest is a nicety here
                    pass
                put(getattr(sc, "name", key), getattr(sc, "description", None), sha)
    ms = m.get("scenarios")
    if isinstance(ms, Mapping):
        for name, v in ms.items():
            if isinstance(v, Mapping):
                put(name, v.get("description"), v.get("sha256"))
            else:
                put(name, None, v)
    elif isinstance(ms, (list, tuple)):
        for v in ms:
            if isinstance(v, Mapping) and v.get("name"):
                put(v["name"], v.get("description"), v.get("sha256"))
            elif isinstance(v, str):
                put(v)
    if m.get("scenario") and not rows:
        put(m["scenario"], m.get("description"), _first(m, "sha256", "scenario_sha256"))
    elif m.get("scenario") and str(m["scenario"]) in rows:
        put(m["scenario"], m.get("description"), _first(m, "sha256", "scenario_sha256"))
    return [(k, v[0], v[1]) for k, v in rows.items()]


def headline_years(df: pd.DataFrame, years: Sequence[int] | None = None,
                   start_year: int | None = None) -> tuple[list[int], int | None]:
    """The years a headline shows: start+5 and start+10 where present (start = first year), else the last."""
    have = sorted(int(y) for y in pd.unique(df["year"].dropna()))
    if not have:
        return [], None
    start = int(start_year) if start_year is not None else have[0]
    if years is not None:
        return [int(y) for y in years if int(y) in have], start
    chosen = [start + k for k in HEADLINE_OFFSETS if start + k in have]
    if have[-1] not in chosen and len(chosen) < len(HEADLINE_OFFSETS):
        chosen.append(have[-1])
    return chosen, start


# ----------------------------------------------------------------------------- one call

SECTIONS = ("summary", "comparison", "counties", "decomposition", "solution", "allocation",
            "frontier", "sensitivity", "probability")


def write_report(target=None, *, manifest: Mapping | None = None, scenarios=None,
                 summary: pd.DataFrame | None = None, comparison: pd.DataFrame | None = None,
                 counties: pd.DataFrame | None = None, decomposition: pd.DataFrame | None = None,
                 solution: Mapping | None = None, allocation: pd.DataFrame | None = None,
                 frontier: pd.DataFrame | None = None, sensitivity: pd.DataFrame | None = None,
                 probability: pd.DataFrame | None = None, probability_target: float | None = None,
                 sized_budget: float | None = None, lang: str = "en", names: Mapping[str, str] | None = None,
                 title: str | None = None, base: str | None = None, start_year: int | None = None,
                 strict: bool = False, save_figures: bool = True, overwrite: bool = False) -> str:
    """Build the report from whatever tables are given and write it; returns the HTML.

    ``target``: a :class:`~grassroots.results.ResultFolder` (writes ``report.html``
    and, with ``save_figures``, ``figures/<name>.png``; its manifest is used when
    ``manifest`` is None), a file path, or None (only return the HTML).

    A block whose data is malformed is replaced by a visible note and a logged
    warning, so a long run never loses its results to a plotting problem;
    ``strict=True`` raises instead (tests use it).
    """
    folder = target if hasattr(target, "write_bytes") and hasattr(target, "manifest") else None
    if folder is None and target is not None:  # fail before drawing anything
        if Path(target).is_dir():
            raise IsADirectoryError(f"{target}: give the report's file name, e.g. {Path(target) / 'report.html'}")
        if Path(target).exists() and not overwrite:
            raise FileExistsError(f"{target}: exists already (pass overwrite=True to replace it)")
    if manifest is None and folder is not None:
        manifest = folder.manifest
    m = dict(manifest or {})
    if base is None:
        base = m.get("base") or (m.get("scenario") if m.get("command") == "compare" else None)
    if title is None:
        what = " ".join(str(x) for x in [m.get("command")] + _scenario_names(m) if x)
        title = label("report_title", lang) + (f": {what}" if what else "")
    sub = " · ".join(str(x) for x in (" ".join(str(v) for v in (m.get("package"), m.get("version")) if v),
                                      m.get("started")) if x)
    r = Report(title=title, lang=lang, names=names, subtitle=sub or None)

    def block(name: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported visibly below
            if strict:
                raise
            log.warning("report: the %s block could not be built: %s", name, exc)
            r.section(name if name in _SECTION_KEYS else "notes")
            r.add_note(("无法生成此部分：" if lang == "zh" else "This part could not be built: ")
                       + f"{type(exc).__name__}: {exc}", kind="warn")

    block("run_info", lambda: r.add_run_info(m, scenarios))
    if summary is not None:
        block("headline", lambda: r.add_headline(summary, start_year=start_year))
    if comparison is not None:
        block("comparison", lambda: r.add_comparison(comparison, start_year=start_year, base_name=base))
    if summary is not None:
        block("trajectories", lambda: r.add_trajectories(summary))
    if counties is not None:
        block("county_distribution", lambda: r.add_county_distribution(counties, base=base))
    if decomposition is not None:
        block("decomposition", lambda: r.add_decomposition(decomposition))
    if solution is not None:
        block("optimizer", lambda: r.add_solution(solution))
    if allocation is not None:
        block("optimizer", lambda: r.add_allocation(allocation))
    if frontier is not None:
        block("frontier", lambda: r.add_frontier(frontier))
    if sensitivity is not None:
        block("sensitivity", lambda: r.add_sensitivity(sensitivity))
    if probability is not None:
        block("budget_probability", lambda: r.add_probability(probability, probability_target, sized_budget))
    text = r.to_html()
    if folder is not None:
        if save_figures:
            for slug, png in r.figures():
                folder.write_bytes(f"figures/{slug}.png", png)
        folder.write_bytes("report.html", text.encode("utf-8"))
    elif target is not None:
        r.write(target, overwrite=overwrite)
    return text


def _scenario_names(m: Mapping) -> list[str]:
    ms = m.get("scenarios")
    if isinstance(ms, Mapping) and ms:
        return [str(k) for k in ms]
    if isinstance(ms, (list, tuple)) and ms:
        return [str(v.get("name") if isinstance(v, Mapping) else v) for v in ms]
    return [str(m["scenario"])] if m.get("scenario") else []


def read_results(folder: str | Path) -> dict[str, Any]:
    """The tables of a finished result folder, keyed as :func:`write_report` takes them."""
    p = Path(folder)
    out: dict[str, Any] = {}
    files = {"summary": "summary.csv", "comparison": "comparison.csv", "decomposition": "decomposition.csv",
             "allocation": "allocation.csv", "frontier": "frontier.csv", "sensitivity": "sensitivity.csv",
             "probability": "probability.csv"}
    for key, name in files.items():
        if (p / name).exists():
            out[key] = pd.read_csv(p / name, dtype={"province": str, "county_id": str})
    for name in ("counties.csv.gz", "counties.csv"):
        if (p / name).exists():
            out["counties"] = pd.read_csv(p / name, dtype={"province": str, "county_id": str})
            break
    for key, name in (("manifest", "manifest.json"), ("solution", "solution.json")):
        if (p / name).exists():
            out[key] = json.loads((p / name).read_text(encoding="utf-8"))
    return out


# ----------------------------------------------------------------------------- style

CSS = """
:root{--ink:#1f2328;--muted:#5b6470;--line:#d8dde3;--soft:#f5f7f9;--accent:#0b5cad;--pos:#1b6e20;--neg:#b3261e}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
"WenQuanYi Micro Hei",sans-serif}
header,nav.toc,main{max-width:1080px;margin:0 auto;padding:0 28px}
header{padding-top:28px;padding-bottom:8px;border-bottom:3px solid var(--accent)}
h1{font-size:1.6rem;margin:0 0 4px;line-height:1.25}
h2{font-size:1.25rem;margin:36px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:22px 0 8px}
.subtitle{margin:0;color:var(--muted)}
.meta{margin:2px 0 8px;color:var(--muted);font-size:.85rem}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;margin:10px 0;font-size:.92rem}
.warn{background:#fdecea;border-left:4px solid var(--neg);padding:8px 12px;margin:10px 0;font-size:.92rem}
.muted{color:var(--muted);font-size:.85rem}
details{margin:10px 0;font-size:.88rem}
details summary{cursor:pointer;color:var(--accent)}
nav.toc{margin-top:14px}
nav.toc h2{font-size:.95rem;border:0;margin:8px 0 4px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
nav.toc ol{margin:0;padding-left:20px;columns:2;column-gap:40px;font-size:.93rem}
nav.toc a{color:var(--accent);text-decoration:none}
p.label{margin:8px 0 4px;font-weight:600;font-size:.9rem}
pre.cmd{background:#0f1720;color:#e6edf3;padding:10px 14px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;font-size:.88rem;margin:0 0 14px}
code{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
code.hash{font-size:.74rem;color:var(--muted);word-break:break-all}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:10px 0;font-size:.93rem}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;word-break:break-word}
.table-wrap{overflow-x:auto;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid #b9c1ca;vertical-align:bottom}
td.num,th.num{text-align:right;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fafbfc}
tr.group th{background:#eef3f8;text-align:left;font-weight:700;color:var(--accent)}
tr.total td{font-weight:700;border-top:2px solid #b9c1ca}
.v{display:block}
.ci{display:block;color:var(--muted);font-size:.85em}
.v.sig{font-weight:700}
th.year{text-align:center;background:#eef3f8;color:var(--accent);border-left:2px solid #fff}
td.first,th.first{border-left:2px solid var(--line)}
table.scen td:first-child{white-space:nowrap}
.caption,figcaption{color:var(--muted);font-size:.85rem;margin:6px 0 14px}
figure.fig{margin:14px 0 22px}
figure.fig img{display:block;max-width:100%;height:auto;border:1px solid #eef0f2}
@media print{
  @page{size:A4;margin:14mm}
  body{font-size:11pt}
  header,nav.toc,main{max-width:none;padding:0}
  nav.toc{display:none}
  h2{break-after:avoid}
  figure.fig,tr,dl.kv{break-inside:avoid}
  .table-wrap{overflow:visible}
  table{font-size:8.5pt}
  th,td{padding:4px 6px}
  td.num,th.num{white-space:normal}
  figure.fig img{border:0}
  pre.cmd{background:#fff;color:#000;border:1px solid #999}
  a{color:inherit;text-decoration:none}
}
"""
