"""Post structure (57号 §8): ratio caps, directed senior posts, special posts, and appointment.

Institutional rules (applied by each county bureau to its own rows; the
functions take arrays shaped ``[..., F, T]`` so the same rule serves one
bureau or all counties at once):

* ``plan_caps``: senior posts allowed = floor((senior_cap + uplift) x
  authorized posts), likewise intermediate; directed senior posts allowed =
  floor(directed_senior_share x authorized posts) in township units (total
  control, outside the senior cap; they do count in the unit's total);
* ``create_special_posts``: each county creates
  ``special_posts_per_county[field]`` township special posts a year
  (fractions carried to the next year); a special post stays once created
  and is refilled when its holder leaves (assumption).  Special posts are
  outside unit totals and ratios and are appointed at ``special_post_grade``.

Appointment (``appoint``, vectorised over all units): staff holding a title
above their post are appointed, longest at the title first (ties by a random
draw), to free posts: first regular senior posts (free = cap - holders of
regular senior posts), then directed posts for directed title holders, then
intermediate posts (including the ones just vacated).  Whoever still holds a
title above the post afterwards is counted in ``appointments_blocked_by_caps``.
Ratio caps are never exceeded: an appointment only fills a free post; special
and directed posts are the only senior/intermediate posts outside the caps.
Within a band, a professional moves up one grade every ``posts.grade_step_years``
years at grade (``Params.grade_step_years``; to grade 11 / 8 / 5); special-post
holders stay at their grade.

Authorized posts follow demand (``demand.growth_per_year``): when demand
changes over the years, the model sets each year's authorized posts from that
year's demand and the bureaus re-plan their caps and directed-post totals from
them (``bureau.plan_posts``).  A cap that falls below its holders removes
nobody: it only stops appointments until leavers bring the holders under it.
"""

from __future__ import annotations

import numpy as np

from . import kernels, rng
from .params import Params, TOWNSHIP
from .population import BAND_BOTTOM, BAND_TOP, GRADE_STEP_YEARS


# ----------------------------------------------------------------------------- bureau rules

def plan_caps(p: Params, authorized: np.ndarray, out_senior: np.ndarray, out_inter: np.ndarray,
              out_directed: np.ndarray) -> None:
    """Cap and directed-post counts for ``authorized[..., F, T]``, written into the ``out_*`` arrays."""
    out_senior[...] = np.floor(authorized * p.senior_cap_now.T + 1e-9)
    out_inter[...] = np.floor(authorized * p.intermediate_cap_now.T + 1e-9)
    directed = np.floor(authorized * p.directed_senior_share + 1e-9)
    directed[..., 1 - TOWNSHIP] = 0
    out_directed[...] = directed


def create_special_posts(p: Params, carry: np.ndarray, stock: np.ndarray, created: np.ndarray) -> None:
    """Add this year's special posts (``carry[..., F]`` keeps fractions; ``stock[..., F, T]`` township column)."""
    carry += p.special_posts_per_county
    new = np.floor(carry + 1e-9)
    carry -= new
    created[...] = new
    stock[..., TOWNSHIP] += new


# ----------------------------------------------------------------------------- appointment

def _appoint_level(staff, idx: np.ndarray, free_u: np.ndarray, seed: int, year: int) -> np.ndarray:
    """Of the candidates ``idx``, those appointed: per unit, the first ``free_u`` by priority.

    Priority: longest at the title first, ties by a random draw (APPOINT_ORDER); the exact
    per-unit ranking of ``rank_within``, computed by ``kernels.appoint_level``.
    """
    if len(idx) == 0:
        return idx
    return kernels.appoint_level(np.asarray(idx, dtype=np.int64), staff.unit, staff.at_title, staff.pid,
                                 np.asarray(free_u, dtype=np.float64), rng.stream_add(seed, year, rng.APPOINT_ORDER))


def state_table(staff, n_units: int, idx: np.ndarray | None = None) -> np.ndarray:
    """Head counts per [unit, post level, post kind, title, directed] (one compiled pass), of everyone or of ``idx``."""
    tab = np.zeros(n_units * kernels.STATE_WIDTH, dtype=np.int64)
    if idx is None:
        kernels.state_counts(staff.unit, staff.post, staff.kind, staff.title, staff.directed, tab)
    else:
        kernels.state_counts_of(np.asarray(idx, dtype=np.int64), staff.unit, staff.post, staff.kind, staff.title,
                                staff.directed, tab)
    return tab.reshape(n_units, 3, 3, 3, 2)


def table_aggregates(tab: np.ndarray) -> np.ndarray:
    """Per-unit sums of a ``state_table`` [units, ``kernels.N_AGG``] (int64; columns ``kernels.AGG_*``)."""
    out = np.empty((tab.shape[0], kernels.N_AGG), dtype=np.int64)
    kernels.table_aggregates(np.ascontiguousarray(tab).reshape(-1), out)
    return out


def appoint(p: Params, staff, n_units: int, senior_cap: np.ndarray, inter_cap: np.ndarray,
            directed_total: np.ndarray, seed: int, year: int, tab: np.ndarray | None = None,
            agg: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Appoint title holders to free posts (flat per-unit cap arrays); returns appointed index arrays.

    ``tab`` is ``state_table(staff)`` if the caller has it (only post levels and kinds are used);
    ``agg`` its ``table_aggregates`` if the caller has them.
    """
    unit = staff.unit
    if agg is None:
        agg = table_aggregates(state_table(staff, n_units) if tab is None else tab)
    waiting = kernels.waiting_for_post(staff.title, staff.post)   # everyone holding a title above the post
    t_w, d_w = staff.title[waiting], staff.directed[waiting]

    from_special = []

    def take_post(idx, level, kind):
        vacated = idx[(staff.kind[idx] == 0) & (staff.post[idx] == 1)]
        from_special.append(idx[staff.kind[idx] == 1])
        staff.post[idx] = level
        staff.grade[idx] = BAND_BOTTOM[level]
        staff.kind[idx] = kind
        staff.at_grade[idx] = 0.0
        return vacated

    occ = agg[:, kernels.AGG_SENIOR_REG]                       # regular senior posts held
    sen = _appoint_level(staff, waiting[(t_w == 2) & ~d_w], np.maximum(senior_cap - occ, 0), seed, year)
    vacated = [take_post(sen, 2, 0)]
    occ = agg[:, kernels.AGG_DIRECTED_POST]                    # directed posts held
    dire = _appoint_level(staff, waiting[(t_w == 2) & d_w], np.maximum(directed_total - occ, 0), seed, year)
    vacated.append(take_post(dire, 2, 2))
    # intermediate posts, including those just vacated by senior appointments
    occ = agg[:, kernels.AGG_INTER_REG] - np.bincount(unit[np.concatenate(vacated)], minlength=n_units)
    cand = waiting[staff.post[waiting] == 0]
    inter = _appoint_level(staff, cand, np.maximum(inter_cap - occ, 0), seed, year)
    take_post(inter, 1, 0)
    blocked = waiting[staff.title[waiting] > staff.post[waiting]]
    return {"senior": sen, "directed": dire, "intermediate": inter, "blocked": blocked,
            "left_special": np.concatenate(from_special)}


def grade_steps(staff, step_years: float = GRADE_STEP_YEARS) -> None:
    """One grade up within the band after ``step_years`` at grade (special posts excluded); one compiled pass.

    The model passes the scenario's ``Params.grade_step_years``; the default is the baseline value.
    """
    kernels.grade_steps(staff.grade, staff.post, staff.kind, staff.at_grade, BAND_TOP,
                        kernels.like_float32(float(step_years)))


def free_and_waiting(tab: np.ndarray, senior_cap: np.ndarray, inter_cap: np.ndarray, directed_total: np.ndarray,
                     agg: np.ndarray | None = None):
    """Per unit: free intermediate posts, free senior posts (regular + directed), and people waiting for each.

    ``tab`` is a ``state_table`` of the people concerned (``agg`` its ``table_aggregates``, if at hand).
    """
    if agg is None:
        agg = table_aggregates(tab)
    occ_i = agg[:, kernels.AGG_INTER_REG]
    occ_s = agg[:, kernels.AGG_SENIOR_REG]
    occ_d = agg[:, kernels.AGG_DIRECTED_POST]
    free_i = np.maximum(inter_cap - occ_i, 0)
    free_s = np.maximum(senior_cap - occ_s, 0) + np.maximum(directed_total - occ_d, 0)
    wait_i = agg[:, kernels.AGG_WAIT_I]                        # junior post, title >= 1
    wait_s = agg[:, kernels.AGG_WAIT_S]                        # below a senior post, senior title
    return free_i, free_s, wait_i, wait_s
