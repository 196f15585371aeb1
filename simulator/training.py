"""Continuing education (57号 §12): hours -> skill growth, and its cost.

Every professional trains ``training.hours_per_year`` hours a year (the 90-hour
rule of §12 is a scenario value, 40 hours before 2016 by assumption).  Skill
(a z-score) changes each year by::

    skill += skill_gain_per_100h x hours / 100 - skill_decay

and the cost is ``hours x cost_per_hour`` per professional, attributed by the
region's payer shares.  Training also enters the stay/leave decision as the
DCE's "sufficient training" attribute, ``min(1, hours / sufficient_hours)``.
"""

from __future__ import annotations

import numpy as np

from .params import Params


def train(p: Params, staff) -> None:
    """Apply one year of training to everyone in post."""
    delta = np.float32(p.skill_gain_per_100h * p.training_hours / 100.0 - p.skill_decay)
    staff.skill += delta


def hours_per_person(p: Params) -> float:
    return p.training_hours


def cost_per_person(p: Params) -> float:
    """Yuan per professional per year."""
    return p.training_hours * p.training_cost_per_hour
