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
Within a band, a professional moves up one grade every ``GRADE_STEP_YEARS``
years at grade (to grade 11 / 8 / 5); special-post holders stay at their grade.
"""

from __future__ import annotations

import numpy as np

from . import rng
from .params import Params, TOWNSHIP
from .population import BAND_BOTTOM, BAND_TOP, GRADE_STEP_YEARS, rank_within


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
    """Of the candidates ``idx``, those appointed: per unit, the first ``free_u`` by priority."""
    if len(idx) == 0:
        return idx
    unit = staff.unit[idx]
    room = free_u[unit] > 0
    idx, unit = idx[room], unit[room]
    if len(idx) == 0:
        return idx
    order = rng.person_uniforms(seed, year, rng.APPOINT_ORDER, staff.pid[idx])
    priority = np.minimum(staff.at_title[idx].astype(float), 99.0) + order * 1e-3
    r = rank_within(unit, priority, span=100.0)
    return idx[r < free_u[unit]]


def state_table(staff, n_units: int, idx: np.ndarray | None = None) -> np.ndarray:
    """Head counts per [unit, post level, post kind, title, directed] (one bincount), of everyone or of ``idx``."""
    if idx is None:
        post, kind, title, directed, unit = staff.post, staff.kind, staff.title, staff.directed, staff.unit
    else:
        post, kind, title, directed, unit = (staff.post[idx], staff.kind[idx], staff.title[idx],
                                             staff.directed[idx], staff.unit[idx])
    code = ((post * 3 + kind) * 3 + title) * 2 + directed
    key = unit * 54 + code
    return np.bincount(key, minlength=n_units * 54).reshape(n_units, 3, 3, 3, 2)


def appoint(p: Params, staff, n_units: int, senior_cap: np.ndarray, inter_cap: np.ndarray,
            directed_total: np.ndarray, seed: int, year: int, tab: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Appoint title holders to free posts (flat per-unit cap arrays); returns appointed index arrays.

    ``tab`` is ``state_table(staff)`` if the caller has it (only post levels and kinds are used).
    """
    unit = staff.unit
    if tab is None:
        tab = state_table(staff, n_units)
    waiting = np.flatnonzero(staff.title > staff.post)        # everyone holding a title above the post
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

    occ = tab[:, 2, 0].sum(axis=(1, 2))                        # regular senior posts held
    sen = _appoint_level(staff, waiting[(t_w == 2) & ~d_w], np.maximum(senior_cap - occ, 0), seed, year)
    vacated = [take_post(sen, 2, 0)]
    occ = tab[:, :, 2].sum(axis=(1, 2, 3))                     # directed posts held
    dire = _appoint_level(staff, waiting[(t_w == 2) & d_w], np.maximum(directed_total - occ, 0), seed, year)
    vacated.append(take_post(dire, 2, 2))
    # intermediate posts, including those just vacated by senior appointments
    occ = tab[:, 1, 0].sum(axis=(1, 2)) - np.bincount(unit[np.concatenate(vacated)], minlength=n_units)
    cand = waiting[staff.post[waiting] == 0]
    inter = _appoint_level(staff, cand, np.maximum(inter_cap - occ, 0), seed, year)
    take_post(inter, 1, 0)
    blocked = waiting[staff.title[waiting] > staff.post[waiting]]
    return {"senior": sen, "directed": dire, "intermediate": inter, "blocked": blocked,
            "left_special": np.concatenate(from_special)}


def grade_steps(staff) -> None:
    """One grade up within the band after GRADE_STEP_YEARS at grade (special posts excluded)."""
    move = staff.grade > BAND_TOP[staff.post]
    move &= staff.at_grade >= GRADE_STEP_YEARS
    move &= staff.kind != 1
    idx = np.flatnonzero(move)
    staff.grade[idx] -= 1
    staff.at_grade[idx] = 0.0


def free_and_waiting(tab: np.ndarray, senior_cap: np.ndarray, inter_cap: np.ndarray, directed_total: np.ndarray):
    """Per unit: free intermediate posts, free senior posts (regular + directed), and people waiting for each.

    ``tab`` is a ``state_table`` of the people concerned.
    """                           # unit, post, kind, title, directed
    occ_i = tab[:, 1, 0].sum(axis=(1, 2))
    occ_s = tab[:, 2, 0].sum(axis=(1, 2))
    occ_d = tab[:, :, 2].sum(axis=(1, 2, 3))
    free_i = np.maximum(inter_cap - occ_i, 0)
    free_s = np.maximum(senior_cap - occ_s, 0) + np.maximum(directed_total - occ_d, 0)
    wait_i = tab[:, 0, :, 1:].sum(axis=(1, 2, 3))              # junior post, title >= 1
    wait_s = tab[:, :2, :, 2].sum(axis=(1, 2, 3))              # below a senior post, senior title
    return free_i, free_s, wait_i, wait_s
