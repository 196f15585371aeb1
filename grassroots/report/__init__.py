"""Presentation: figures, labels and the self-contained ``report.html``.

* :mod:`.write` -- :func:`write_report` (one call: tables in, ``report.html`` and figures out) and
  :func:`read_results` (a finished result folder's tables back);
* :mod:`.html` -- :class:`Report`, the HTML builder underneath (sections, tables, figures, notes);
* :mod:`.blocks`, :mod:`.style` -- its small parts and its CSS;
* :mod:`.study_reports` -- the reports of plan, calibration and sensitivity, and the tornado files;
* :mod:`.figures`, :mod:`.study_figures` -- matplotlib figures from tidy tables;
* :mod:`.labels` -- user-facing strings in English and Chinese, number formatting, CJK font detection.

This package never imports :mod:`grassroots.studies` or :mod:`grassroots.cli`: it takes tables and plain
objects.
"""

from .html import Report
from .labels import label
from .write import SECTIONS, read_results, write_report

__all__ = ["Report", "SECTIONS", "label", "read_results", "write_report"]
