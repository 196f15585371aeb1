"""Presentation: figures, labels and the self-contained ``report.html``.

* :mod:`.write` -- :func:`write_report` (one call: tables in, ``report.html`` and figures out) and
  :func:`read_results` (a finished result folder's tables back);
* :mod:`.document` -- :class:`ReportDocument`, a report as plain data (sections of blocks);
  :mod:`.sections`, :mod:`.study_sections` and :mod:`.tables` assemble its blocks from tidy tables;
* :mod:`.render` -- the Jinja2 templates of ``templates/`` (autoescaped) turn a document into HTML;
* :mod:`.study_reports` -- the reports of plan and calibration, and the tornado files of sensitivity;
* :mod:`.figures`, :mod:`.study_figures` -- matplotlib figures from tidy tables;
* :mod:`.labels` -- user-facing strings from ``locales/en.toml`` and ``locales/zh.toml``;
  :mod:`.numbers` -- number formats; :mod:`.fonts` -- the CJK font search.

This package never imports :mod:`grassroots.studies` or :mod:`grassroots.cli`: it takes tables and plain
objects.
"""

from .document import ReportDocument
from .labels import label
from .render import render
from .write import SECTIONS, read_results, write_report

__all__ = ["ReportDocument", "SECTIONS", "label", "read_results", "render", "write_report"]
