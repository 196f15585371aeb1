"""Service-term programmes (57号 §8, §11, §16): places, placement, obligations.

Each programme has national ``places_per_year`` (times ``programmes.scale``)
split over fields by ``field_shares`` and open to counties of its ``regions``.
A county's yearly entitlement is its share of the *national* township demand
of that field in the eligible regions::

    places[c, p, f] = places_p x share_pf x demand_township[c, f] / sum over eligible counties nationally

so simulating one province gives it its national share (the national
denominators come from the bundled national table, or from the table passed
in when it is not a subset of it; see ``replicate.programme_base``).
Fractions are carried by the county bureau to the next year.

Placement (bureau rule ``place``): programme participants are placed in the
county's *township* unit of the field (assumption: every programme serves
township and village posts), into vacancies; when entitled places exceed the
vacancies, each programme gets the same share (rounded down) and the rest
are counted as ``programme_places_unfilled`` and lost (not carried).

Participants serve ``term_years`` (rounded up to whole years) on a contract
(outside 编制 during the term; assumption), receive the programme subsidy
(``subsidy_yuan_per_year``, paid by the programme's payer) while serving, and
face the breach penalty if they leave early (``behaviour``).  At term end they
stay with probability ``post_term_stay`` and then join 编制.  Their skill is
N(recruit_skill, skill_sd).  Tuition compensation binds three years in the
same way: the compensation is paid while serving and lost on leaving.
"""

from __future__ import annotations

import numpy as np

from .params import Params


def programme_base(demand_township_rf: np.ndarray, p: Params) -> np.ndarray:
    """National township demand of the eligible regions per [programme, field] (denominators)."""
    return p.prog_regions.astype(float) @ demand_township_rf  # [P, R] @ [R, F]


def entitlement_rates(p: Params, region: np.ndarray, demand_township: np.ndarray, base_pf: np.ndarray) -> np.ndarray:
    """Places per year per [county, programme, field] (fractional)."""
    eligible = p.prog_regions[:, region].T  # [C, P]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(base_pf[None, :, :] > 0, demand_township[:, None, :] / np.where(base_pf > 0, base_pf, 1.0)[None], 0.0)
    places_pf = p.prog_places[:, None] * p.prog_field_shares  # [P, F]
    return eligible[:, :, None] * share * places_pf[None, :, :]


def place(rate: np.ndarray, carry: np.ndarray, vacancies_township: np.ndarray,
          out_placed: np.ndarray, out_unfilled: np.ndarray) -> None:
    """Bureau rule (arrays [..., P, F] and vacancies [..., F]): entitled places this year, placed into vacancies."""
    carry += rate
    entitled = np.floor(carry + 1e-9)
    carry -= entitled
    total = entitled.sum(axis=-2)                                   # [..., F]
    over = total > vacancies_township
    if over.any():
        ratio = np.ones_like(total)
        np.divide(vacancies_township, total, out=ratio, where=over)
        placed = np.floor(entitled * ratio[..., None, :] + 1e-9)
    else:
        placed = entitled
    out_placed[...] = placed
    np.subtract(entitled, placed, out=out_unfilled)


