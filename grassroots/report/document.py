"""A report as plain data: sections of blocks (dicts and lists of strings), rendered by the templates.

:class:`ReportDocument` collects what a report shows -- no markup anywhere in Python.  Each block is a
dict with a ``kind`` that the macro of ``templates/blocks.html.j2`` of the same name draws:

* ``note`` -- ``text``, ``cls`` (``note`` or ``warn``);
* ``heading`` -- ``text`` (a sub-heading);
* ``figure`` -- ``title``, ``src`` (a ``data:image/png;base64,...`` string), ``width``, ``height``,
  ``alt``, ``caption``;
* ``table`` -- ``title``, ``head`` (rows of header cells), ``rows`` (``cells`` and optional ``cls`` and
  ``filter``), ``caption``, ``more``, ``cls``, ``sortable``, ``filter`` (a column to filter rows by);
  a cell is ``{"text", "cls", "sort", "ci", "sig", "code", "bold"}``, every key but ``text`` optional;
* ``items`` -- a definition list, ``items`` = [{``key``, ``value``, ``code``}];
* ``command`` -- ``label``, ``text`` (a shell command);
* ``details`` -- ``summary`` and nested ``blocks``, collapsed (solver internals, settings).

:func:`grassroots.report.render.render` turns the document into one self-contained HTML string
(autoescaped); :attr:`ReportDocument.figures` keeps each figure's PNG bytes for saving beside it.
"""

from __future__ import annotations

import base64
import re
import struct
import warnings
from typing import Any, Mapping

from . import figures as F
from .labels import Labels

FIGURE_DPI = 110
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: section keys whose titles come from the catalogue
SECTION_KEYS = {"run_info", "headline", "comparison", "trajectories", "county_distribution", "decomposition",
                "optimizer", "frontier", "sensitivity", "budget_probability", "notes", "rounds", "calibration",
                "flows", "county_maps"}


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG; ValueError for anything else."""
    if not png.startswith(_PNG_MAGIC) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


def slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower()
    return s or "section"


def cell(text: Any, cls: str = "", **extra) -> dict:
    """A table cell: its text (escaped by the template), CSS class and optional sort key, interval ..."""
    return {"text": "" if text is None else str(text), "cls": cls, **extra}


class ReportDocument:
    """The content of one report, as data.

    ``lang`` is ``en`` or ``zh``; ``names`` maps scenario names to display names.  Figures use Chinese
    labels only when a CJK font is installed; otherwise English, and the report says so once, at the top.
    """

    def __init__(self, title: str | None = None, lang: str = "en", names: Mapping[str, str] | None = None,
                 subtitle: str | None = None):
        self.labels = Labels(lang, dict(names or {}))
        self.title = title if title is not None else self.labels("report_title")
        self.subtitle = subtitle
        self.sections: list[dict] = []
        self.notes: list[str] = []  # shown at the top, each once
        self.figures: list[tuple[str, bytes]] = []  # (file name without .png, PNG bytes)
        self.script = False  # whether a block needs the inline table script
        self._fig_labels: Labels | None = None
        self._ids: set[str] = set()
        self._names: set[str] = set()

    # -- plumbing
    @property
    def lang(self) -> str:
        return self.labels.lang

    def L(self, key) -> str:
        return self.labels(key)

    def T(self, key: str, **fields) -> str:
        return self.labels.text(key, **fields)

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
                self.add_note(self.labels.text("note_no_cjk_font"), top=True)
        return self._fig_labels

    @staticmethod
    def _unique(text: str, taken: set[str]) -> str:
        base = slug(text)
        s, n = base, 1
        while s in taken:
            n += 1
            s = f"{base}-{n}"
        taken.add(s)
        return s

    def section(self, title: str, key: str | None = None) -> "ReportDocument":
        """Start a new section; ``title`` may be a section key (``"headline"``) or plain text."""
        shown = self.L(title) if title in SECTION_KEYS else title
        self.sections.append({"id": self._unique(key or title, self._ids), "key": key or title,
                              "title": shown, "blocks": []})
        return self

    def has_section(self, key: str) -> bool:
        return any(s["key"] == key for s in self.sections)

    def add(self, block: dict) -> "ReportDocument":
        """Append a block (a dict with a ``kind``) to the current section."""
        if not self.sections:
            self.section("notes")
        self.sections[-1]["blocks"].append(block)
        return self

    # -- blocks
    def add_note(self, text: str, kind: str = "note", top: bool = False) -> "ReportDocument":
        """A visible note.  ``top=True`` puts it under the title, once per text."""
        if top:
            if text not in self.notes:
                self.notes.append(text)
            return self
        return self.add({"kind": "note", "text": text, "cls": kind})

    def add_heading(self, text: str) -> "ReportDocument":
        return self.add({"kind": "heading", "text": text})

    def figure_block(self, title: str, fig, caption: str | None = None, alt: str | None = None,
                     name: str | None = None, dpi: int = FIGURE_DPI) -> dict:
        """A matplotlib Figure (or PNG bytes) as a figure block (not yet placed), its PNG kept for saving."""
        png = bytes(fig) if isinstance(fig, (bytes, bytearray)) else F.to_png(fig, dpi=dpi)
        w, h = png_size(png)  # refuses anything that is not a PNG
        name = self._unique(name or ("fig-" + (title or alt or "figure")), self._names)
        self.figures.append((name, png))
        return {"kind": "figure", "title": title, "caption": caption, "alt": alt or title or "figure",
                "name": name, "width": w, "height": h,
                "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}

    def add_figure(self, title: str, fig, caption: str | None = None, alt: str | None = None,
                   name: str | None = None, dpi: int = FIGURE_DPI) -> "ReportDocument":
        return self.add(self.figure_block(title, fig, caption, alt, name, dpi))

    def add_items(self, title: str | None, items, code=()) -> "ReportDocument":
        """A definition list of (label, value); labels in ``code`` show their value in monospace."""
        return self.add(items_block(title, items, code))

    def add_table(self, title, df, **kw) -> "ReportDocument":
        from .tables import frame_table
        return self.add(frame_table(self.labels, title, df, **kw))


def items_block(title: str | None, items, code=()) -> dict:
    code = set(code)
    rows = [{"key": str(k), "value": str(v), "code": k in code} for k, v in items if v is not None and v != ""]
    return {"kind": "items", "title": title, "items": rows}


def details_block(summary: str, blocks: list[dict]) -> dict:
    return {"kind": "details", "summary": summary, "blocks": blocks}
