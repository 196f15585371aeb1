"""Reports and figure files of the commands whose report is not one :func:`~grassroots.report.write_report`
call: ``plan`` (rounds table), ``calibrate`` (fit and parameters), ``sensitivity`` (one tornado file per metric).

Inputs are tables and plain result objects; nothing here imports :mod:`grassroots.studies`.
"""

from __future__ import annotations

from . import sections as S
from . import study_sections as SS
from .document import ReportDocument
from .labels import label
from .numbers import fixed, fmt_percent
from .study_figures import tornado
from .write import save


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
    doc = ReportDocument(title=f"{label('report_title', lang)}: {label('calibration', lang)} {sc.name}", lang=lang)
    S.add_run_info(doc, rf.manifest, [sc])
    doc.section("calibration")
    doc.add_table(doc.T("calibration_fit"), fit)
    doc.add_table(doc.T("calibration_params"), params)
    save(rf, doc, save_figures=False)


#: the columns of the plan's rounds table, in order; headings are catalogue keys ``round_<column>``
ROUND_COLUMNS = ("round", "step", "predicted_coverage", "simulated_coverage", "predicted_staff_gain",
                 "simulated_staff_gain", "ratio", "allocation_change", "trust_radius", "proposal_change",
                 "remaining_gain", "objective")


def write_plan_report(rf, sc, summary, solution, pr, lang: str = "en") -> None:
    """``report.html`` of ``grassroots plan`` in the result folder ``rf``: run info, the simulated headline and
    trajectories of the final allocation, the rounds table with the stop reason, the optimizer's solution and
    the allocation.  ``pr``: the plan result (``rounds``, ``allocation``, ``stop_reason``)."""
    from optimizer import ALLOCATION_COLUMNS
    m = dict(rf.manifest)
    doc = ReportDocument(title=f"{label('report_title', lang)}: {label('plan', lang)} {sc.name}", lang=lang,
                         subtitle=m.get("started"))

    def block(fn) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - shown in the report, results are already written
            doc.section("notes")
            doc.add_note(doc.T("block_failed", error=f"{type(exc).__name__}: {exc}"), kind="warn")

    def rounds_block():
        doc.section("rounds")
        doc.add_note(pr.stop_reason or "", kind="note")
        cols = [c for c in ROUND_COLUMNS if c in pr.rounds.columns]
        pct, num = fmt_percent, fixed
        fm = {"predicted_coverage": num(4), "simulated_coverage": num(4), "predicted_staff_gain": num(0),
              "simulated_staff_gain": num(0), "ratio": num(2), "allocation_change": pct, "trust_radius": pct,
              "proposal_change": pct, "remaining_gain": num(1), "objective": num(1), "round": num(0),
              "step": lambda v: label(str(v).replace(" ", "_"), lang)}
        doc.add_table(None, pr.rounds[cols], formats=fm, headers={c: label(f"round_{c}", lang) for c in cols},
                      caption=doc.T("caption_rounds"))

    block(lambda: S.add_run_info(doc, m, [sc]))
    block(lambda: S.add_headline(doc, summary))
    block(rounds_block)
    block(lambda: S.add_trajectories(doc, summary))
    block(lambda: SS.add_solution(doc, solution))
    block(lambda: SS.add_allocation(doc, pr.allocation[ALLOCATION_COLUMNS]))
    save(rf, doc)
