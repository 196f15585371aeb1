"""The allocation optimizer: special posts, programme places, promotions and subsidy money across counties.

PuLP models solved with HiGHS (through ``highspy``), CBC as the fallback.  May
import :mod:`scenarios`; knows nothing of the simulator or the application.

* :mod:`optimizer.inputs` -- a scenario and the county table as plain arrays
  (:class:`AllocationInputs`), with every lever's cost and effect derived and documented;
* :mod:`optimizer.model` -- the model as arrays and the named PuLP model built from them;
* :mod:`optimizer.solve` -- solver back ends, status checks, infeasibility diagnosis;
* :mod:`optimizer.years` -- the year-indexed model (budget path, decisions per year);
* :mod:`optimizer.tables` -- result tables (allocation, outcomes, totals);
* :mod:`optimizer.allocator` -- :class:`Allocator` (``solve``), :func:`size_budget`, :func:`frontier`.
"""

from .allocator import (ALLOCATION_COLUMNS, ALLOCATION_YEAR_COLUMNS, FRONTIER_COLUMNS, AllocationResult, Allocator, frontier,
                        parse_budgets, size_budget)
from .errors import InfeasibleError, OptimizerInputError, SolverError, UnboundedError
from .inputs import AllocationInputs, Groups, StatusQuo, from_scenario
from .model import OBJECTIVES, ModelArrays, build_arrays, to_linprog, to_pulp
from .solve import SOLVERS, Session
from .years import OBJECTIVE_YEARS, parse_budget_path
from .years import expand as expand_years

__all__ = [
    "Allocator", "AllocationResult", "AllocationInputs", "Groups", "StatusQuo", "from_scenario", "size_budget", "frontier",
    "parse_budgets", "build_arrays", "to_pulp", "to_linprog", "ModelArrays", "Session",
    "OptimizerInputError", "InfeasibleError", "SolverError", "UnboundedError",
    "OBJECTIVES", "SOLVERS", "ALLOCATION_COLUMNS", "ALLOCATION_YEAR_COLUMNS", "FRONTIER_COLUMNS", "expand_years", "parse_budget_path",
    "OBJECTIVE_YEARS",
]
