"""``grassroots template FILE.xlsx [--province NAME|CODE] [--city ...] [--county ...]``: a county-table workbook to edit.

Writes the bundled county table of the chosen places (default: all 31 provinces) as an Excel workbook
(:func:`scenarios.write_template`): sheet ``counties`` with a header row of column names and units, sheet
``notes`` describing every column.  Edit it and pass it back with ``--county-table FILE.xlsx``; unedited,
it gives the same results as the bundled table.  An existing file is not overwritten (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from .options import InputError


def template(args) -> int:
    import scenarios
    path = Path(args.path)
    problems = []
    if path.suffix.lower() != ".xlsx":
        problems.append(f"{args.path}: the template is an Excel workbook (allowed: a file name ending in .xlsx)")
    if path.exists():
        problems.append(f"{args.path}: already exists (allowed: a new file; delete or rename the old one)")
    if not path.parent.exists():
        problems.append(f"{args.path}: folder {path.parent} does not exist")
    if problems:
        raise InputError(problems)
    counties = getattr(args, "counties", None)
    if counties:
        table = scenarios.county_table(provinces=args.province)
        table = table[table["county_id"].isin(counties)]
        from scenarios.counties.io import write_table_workbook
        write_table_workbook(path, table)
    else:
        scenarios.write_template(path, provinces=args.province or None)
    print(path)
    return 0
