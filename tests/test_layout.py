"""The application layer's import directions (README, "Layout"), checked on the source with ``ast``.

cli -> studies, report; studies and report never import cli; report never imports studies; the command
modules of ``grassroots/cli`` never import each other (shared option handling is ``cli/options.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "grassroots"
COMMAND_MODULES = {p.stem for p in (ROOT / "cli").glob("*.py")} - {"__init__", "options", "checks"}  # checks: shared input checks


def _imports(path: Path) -> set[str]:
    """Absolute names of the grassroots modules a file imports (relative imports resolved)."""
    package = ["grassroots", *path.relative_to(ROOT).parent.parts]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("grassroots")}


@pytest.mark.parametrize("sub,forbidden", [("studies", ("grassroots.cli", "grassroots.report")),
                                           ("report", ("grassroots.cli", "grassroots.studies"))])
def test_studies_and_report_do_not_import_upwards(sub, forbidden):
    bad = [f"{p.name}: {m}" for p in (ROOT / sub).glob("*.py") for m in _imports(p) if m.startswith(forbidden)]
    assert not bad


def test_command_modules_do_not_import_each_other():
    bad = [f"{p.name}: {m}" for p in (ROOT / "cli").glob("*.py") for m in _imports(p)
           if m.startswith("grassroots.cli.") and m.split(".")[2] in COMMAND_MODULES - {p.stem}]
    assert not bad


def test_no_module_over_700_lines():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert not long
