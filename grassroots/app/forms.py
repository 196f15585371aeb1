"""The Budget page's planning fields, checked before any job starts: money by year and payer limits.

* ``budget_path`` -- million yuan per year, comma-separated, one figure per year of the plan (years 1..N):
  becomes ``--budget-path`` (yuan) and ``--years N`` of ``grassroots optimize`` (the optimizer then decides
  per year and the posts it buys persist; see ``optimizer.years``);
* ``payer_central``, ``payer_provincial``, ``payer_county`` -- million yuan per year that level of
  government may spend: each filled one becomes ``--payer-budget PAYER=YUAN``; empty keeps the scenario's
  ``budget.payer_limit_yuan`` (else the payer shares of the budget).

Each bad field gives one line ``field: value (allowed: ...)`` in ``errors`` under the field's name (the
page shows it beside the field); the command line checks the same values again (``--budget-path``: one
figure per year of ``--years``; ``--payer-budget``: a known payer, yuan >= 0).
"""

from __future__ import annotations

import math
from typing import Mapping

PAYERS = ("central", "provincial", "county")     # scenarios.PAYERS, in the opinion's order (57号 §18)
MAX_PATH_YEARS = 50                                # the command line's --years limit
MILLION = 1e6                                      # the page's money unit, in yuan


def _number(text: str) -> float | None:
    """A finite number >= 0 from the text, else None."""
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def budget_path(raw: str | None, errors: dict[str, str]) -> list[float] | None:
    """Yuan per year from the ``budget_path`` field (million yuan per year, comma-separated; a Chinese comma
    or spaces between figures are accepted), or None when the field is empty or bad (then one line in
    ``errors["budget_path"]``)."""
    text = (raw or "").replace("，", ",").replace(";", ",").strip()
    if not text:
        return None
    parts = [p.strip() for p in (text.split(",") if "," in text else text.split())]
    bad = [p for p in parts if _number(p) is None]
    allowed = (f"allowed: million yuan per year, comma-separated, one figure per year of the plan "
               f"(1 to {MAX_PATH_YEARS} figures), each a number >= 0")
    if bad:
        shown = ", ".join(repr(p) for p in bad[:3]) + (" ..." if len(bad) > 3 else "")
        errors["budget_path"] = f"budget_path: {shown} is not a number >= 0 ({allowed})"
        return None
    if len(parts) > MAX_PATH_YEARS:
        errors["budget_path"] = f"budget_path: {len(parts)} figures ({allowed})"
        return None
    return [_number(p) * MILLION for p in parts]


def payer_limits(form: Mapping | None, errors: dict[str, str]) -> dict[str, float]:
    """``{payer: yuan per year}`` of the filled payer fields (million yuan per year on the page); each bad
    one gives a line in ``errors["payer_<payer>"]`` and is left out."""
    out: dict[str, float] = {}
    for payer in PAYERS:
        key = f"payer_{payer}"
        raw = ((form.get(key) if form is not None else None) or "").strip()
        if not raw:
            continue
        v = _number(raw)
        if v is None:
            errors[key] = f"{key}: {raw!r} (allowed: empty, or million yuan per year, a number >= 0)"
        else:
            out[payer] = v * MILLION
    return out


def planning_argv(path: list[float] | None, payers: dict[str, float]) -> list[str]:
    """The command-line options for a budget path (``--budget-path``, ``--years``) and payer limits."""
    argv: list[str] = []
    if path:
        argv += ["--budget-path", ",".join(f"{v:.0f}" for v in path), "--years", str(len(path))]
    for payer in PAYERS:
        if payer in payers:
            argv += ["--payer-budget", f"{payer}={payers[payer]:.0f}"]
    return argv
