"""Flexible inflows (57号 §15): temporary capacity in full-time equivalents, not staff.

Per county and field, each year::

    secondment FTE    = secondment_fte_per_county[field]       (secondments, counterpart support)
    expert FTE        = expert_service_fte_per_county[field]   (expert service)
    rural-service FTE = rural_service_fte_per_1000_staff[field] x staff / 1000   (only when rural_service_rule is on:
                        urban teachers and doctors serving the year in the countryside before a senior title)

reported as ``flexible_fte`` (and its three parts) and in
``coverage_with_flexible``, never in ``staff``.  Cost: FTE x ``cost_per_fte``
(work and living subsidies), attributed by the region's payer shares.
"""

from __future__ import annotations

import numpy as np

from .params import Params


def fte(p: Params, n_counties: int, staff_cf: np.ndarray) -> dict[str, np.ndarray]:
    """FTE per [county, field] by kind, given year-end staff per [county, field]."""
    second = np.broadcast_to(p.secondment_fte, (n_counties, len(p.secondment_fte))).astype(float)
    expert = np.broadcast_to(p.expert_fte, (n_counties, len(p.expert_fte))).astype(float)
    if p.rural_service_rule:
        rural = p.rural_service_fte_per_1000[None, :] * staff_cf / 1000.0
    else:
        rural = np.zeros_like(second)
    return {"secondment": second, "expert": expert, "rural_service": rural}
