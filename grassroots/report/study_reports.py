"""Reports and figure files of the commands whose report is not one :func:`~grassroots.report.write_report`
call: ``plan`` (rounds table), ``calibrate`` (fit and parameters), ``sensitivity`` (one tornado file per metric).

Inputs are tables and plain result objects; nothing here imports :mod:`grassroots.studies`.
"""

from __future__ import annotations

import numpy as np

from .html import Report
from .labels import label
from .study_figures import tornado


def write_tornadoes(rf, indices, metrics) -> list[str]:
    """One tornado chart per metric (``tornado-<metric>.png``) in the result folder ``rf``; notes for the manifest."""
    notes = []
    for m in metrics:
        sub = indices[indices["metric"] == m]
        if sub["value"].isna().all():
            notes.append(f"figure for {m} skipped: indices undefined (constant output)")
            continue
        rf.savefig(f"tornado-{m}.png", tornado(indices, m, "en"))
    return notes


def write_calibration_report(rf, sc, fit, params, lang: str = "en") -> None:
    """``report.html`` of ``grassroots calibrate``: run info, the fit table and the calibrated parameters."""
    rep = Report(title=f"Grassroots Talent Planner — calibration of {sc.name}", lang=lang)
    rep.add_run_info(rf.manifest, [sc])
    rep.add_table("Fit: targets against simulated values", fit)
    rep.add_table("Calibrated parameters", params)
    rf.write_text("report.html", rep.to_html())


ROUND_HEADERS = {"round": "round", "step": "step", "predicted_coverage": "coverage predicted",
                 "simulated_coverage": "coverage simulated", "predicted_staff_gain": "staff gain predicted",
                 "simulated_staff_gain": "staff gain simulated", "ratio": "simulated / predicted reduction",
                 "allocation_change": "allocation change (share of money moved)", "trust_radius": "trust radius",
                 "proposal_change": "next proposal moves", "remaining_gain": "next proposal's predicted gain",
                 "objective": "objective (simulated)"}


def write_plan_report(rf, sc, summary, solution, pr, lang: str = "en") -> None:
    """``report.html`` of ``grassroots plan`` in the result folder ``rf``: run info, the simulated headline and
    trajectories of the final allocation, the rounds table with the stop reason, the optimizer's solution and
    the allocation.  ``pr``: the plan result (``rounds``, ``allocation``, ``stop_reason``)."""
    from optimizer import ALLOCATION_COLUMNS
    m = dict(rf.manifest)
    r = Report(title=f"{label('report_title', lang)}: plan {sc.name}", lang=lang, subtitle=m.get("started"))

    def block(fn) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - shown in the report, results are already written
            r.section("notes")
            r.add_note(f"This part could not be built: {type(exc).__name__}: {exc}", kind="warn")

    def pct(v):
        return "–" if v is None or not np.isfinite(v) else f"{100 * v:.2f}%"

    def num(digits):
        return lambda v: "–" if v is None or not np.isfinite(v) else f"{v:,.{digits}f}"

    def rounds_block():
        r.section("Simulate-then-optimize rounds" if lang != "zh" else "模拟-优化迭代", key="rounds")
        r.add_note(pr.stop_reason or "", kind="note")
        t = pr.rounds[list(ROUND_HEADERS)]
        fm = {"predicted_coverage": num(4), "simulated_coverage": num(4), "predicted_staff_gain": num(0),
              "simulated_staff_gain": num(0), "ratio": num(2), "allocation_change": pct, "trust_radius": pct,
              "proposal_change": pct, "remaining_gain": num(1), "objective": num(1), "round": num(0)}
        r.add_table(None, t, formats=fm, headers=ROUND_HEADERS,
                    caption="Round 0 is the status quo: 'coverage predicted' there is the optimizer's analytic status "
                            "quo, the loop starts from the simulated one. Coverage = horizon-average staff / demand; "
                            "the objective is the priority-weighted shortfall of the current allocation.")

    block(lambda: r.add_run_info(m, [sc]))
    block(lambda: r.add_headline(summary))
    block(rounds_block)
    block(lambda: r.add_trajectories(summary))
    block(lambda: r.add_solution(solution))
    block(lambda: r.add_allocation(pr.allocation[ALLOCATION_COLUMNS]))
    html_text = r.to_html()
    for slug, png in r.figures():
        rf.write_bytes(f"figures/{slug}.png", png)
    rf.write_bytes("report.html", html_text.encode("utf-8"))
