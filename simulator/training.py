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


def skill_change(p: Params) -> float:
    """The yearly change of skill (z-score) from training: gain per 100 hours x hours / 100 - decay."""
    return p.skill_gain_per_100h * p.training_hours / 100.0 - p.skill_decay


def train(p: Params, staff) -> None:
    """Apply one year of training to everyone in post (the model does it in ``kernels.year_end``)."""
    staff.skill += np.float32(skill_change(p))


def hours_per_person(p: Params) -> float:
    return p.training_hours


def cost_per_person(p: Params) -> float:
    """Yuan per professional per year."""
    return p.training_hours * p.training_cost_per_hour
