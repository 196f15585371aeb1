"""Rendering a :class:`~grassroots.report.document.ReportDocument` with the Jinja2 templates.

Templates live in ``grassroots/report/templates/`` (package data): ``report.html.j2`` (the page),
``blocks.html.j2`` (one macro per block kind), ``style.css`` and ``sortable.js`` (included inline, so the
report stays one self-contained file).  Autoescaping is on for every template: any text from data --
scenario descriptions, names, notes -- is escaped, never interpreted as markup.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .document import ReportDocument


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescape on (optional block keys may be absent)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("grassroots.report", "templates"),
                              autoescape=True, keep_trailing_newline=True)


def render(doc: ReportDocument) -> str:
    """The report as one HTML string."""
    tmpl = environment().get_template("report.html.j2")
    return tmpl.render(html_lang="zh-CN" if doc.lang == "zh" else "en", title=doc.title, subtitle=doc.subtitle,
                       notes=doc.notes, sections=doc.sections, contents=doc.L("contents"), script=doc.script)


def write_html(doc: ReportDocument, path: str | Path, overwrite: bool = False) -> Path:
    """Render ``doc`` into ``path`` (atomically; an existing file is kept unless ``overwrite``)."""
    from ..results import atomic_write_bytes
    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists already (pass overwrite=True to replace it)")
    atomic_write_bytes(p, render(doc).encode("utf-8"))
    return p
