"""Optimizer inputs: a scenario and the county table turned into plain arrays, one module per lever family.

* :mod:`.containers` -- :class:`AllocationInputs` and :class:`Groups` (what :mod:`optimizer.model` reads);
* :mod:`.response` -- the response maths (exits avoided, persistence, filled shares; age profiles);
* :mod:`.status_quo` -- the before state: static estimate or an injected :class:`StatusQuo`;
* :mod:`.posts`, :mod:`.programmes`, :mod:`.promotions`, :mod:`.subsidies` -- the lever families;
* :mod:`.columns` -- the column builder and group helpers they share;
* :mod:`.assemble` -- :func:`from_scenario`, which puts them together (accounting convention there).
"""

from .assemble import ASSUMPTIONS, PAYER_HEADROOM, check_options, from_scenario, select_table
from .columns import lever_unit, priority_weight
from .containers import FIELDS, PAYERS, SENSES, AllocationInputs, Groups
from .posts import SPECIAL_POST_COUNTY_MULTIPLE
from .promotions import INTERMEDIATE_PROMOTION_GRADES, PROMOTION_RATE_GAP, SENIOR_PROMOTION_GRADES
from .response import (demand_path, demand_trend, exits_after, exits_avoided, filled_share, filled_share_profile, persistence,
                       persistence_profile, programme_place, programme_place_profile, retirement_share)
from .status_quo import Context, StatusQuo
from .subsidies import SUBSIDY_BREAKS

__all__ = ["AllocationInputs", "Groups", "StatusQuo", "Context", "from_scenario", "check_options", "select_table", "exits_avoided",
           "exits_after", "persistence", "persistence_profile", "programme_place", "programme_place_profile",
           "filled_share", "filled_share_profile", "retirement_share", "priority_weight", "lever_unit", "demand_trend",
           "demand_path", "FIELDS", "PAYERS", "SENSES", "ASSUMPTIONS", "SUBSIDY_BREAKS", "PAYER_HEADROOM",
           "SPECIAL_POST_COUNTY_MULTIPLE", "PROMOTION_RATE_GAP", "SENIOR_PROMOTION_GRADES", "INTERMEDIATE_PROMOTION_GRADES"]
