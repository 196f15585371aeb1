"""The backtest's report: published figures against the simulation, as a ReportDocument rendered by the templates.

Takes the tables of :func:`grassroots.studies.backtest.backtest` (and the panel figure of
:mod:`grassroots.report.backtest_figures`); returns the report's HTML.  Strings come from the
catalogues (``locales/*.toml``, section ``[backtest]``).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from . import sections as S
from .document import ReportDocument
from .labels import text
from .render import render


def backtest_html(manifest: Mapping, scenario, table: pd.DataFrame, summary: pd.DataFrame,
                  excluded: pd.DataFrame, fig, lang: str = "en") -> str:
    """The whole backtest report as one self-contained HTML page."""
    doc = ReportDocument(title=text("backtest_title", lang, name=scenario.name), lang=lang)
    S.add_run_info(doc, manifest, [scenario])
    doc.section(text("backtest_section", lang), key="backtest")
    doc.add_note(text("backtest_note", lang, within=int(table["within"].sum()), total=len(table)))
    doc.add_table(text("backtest_within", lang), summary)
    doc.add_figure(text("backtest_figure", lang), fig, name="backtest")
    doc.add_table(text("backtest_every", lang), table.drop(columns=["source"]))
    doc.add_table(text("backtest_sources", lang), table[["figure", "source"]])
    doc.add_table(text("backtest_excluded", lang), excluded)
    return render(doc)
