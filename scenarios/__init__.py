"""Scenarios: the schema of every policy lever, the bundled scenario library, and the national county table.

Imports no engine.  Typical use::

    import scenarios
    sc = scenarios.load("policy-2016")          # validated, frozen Scenario
    table = scenarios.county_table(provinces=["62"])
"""

# import the compatibility module first: loading a submodule binds its name on the package, and the
# function ``county_table`` bound below must win over the module ``scenarios.county_table``
from . import county_table as _county_table_module  # noqa: F401
from . import places
from .counties import (CountyDataError, county_names, county_table, divisions, province_codes, province_table,
                       read_county_file, write_template)
from .loader import (ScenarioError, apply, bundled, bundled_names, describe_params, from_dict,
                     get_path, leaf_paths, load, resolve, sha256, to_dict)
from .levers import ALLOCATION_COLUMNS, LEVERS, AllocationError, read_allocation, validate_allocation
from .schema import FIELDS, PAYERS, PROGRAMMES, REGIONS, TIERS, Scenario

__all__ = [
    "CountyDataError", "county_names", "county_table", "divisions", "province_codes", "province_table",
    "read_county_file", "write_template", "places",
    "ScenarioError", "apply", "bundled", "bundled_names", "describe_params", "from_dict",
    "get_path", "leaf_paths", "load", "resolve", "sha256", "to_dict",
    "ALLOCATION_COLUMNS", "LEVERS", "AllocationError", "read_allocation", "validate_allocation",
    "FIELDS", "PAYERS", "PROGRAMMES", "REGIONS", "TIERS", "Scenario",
]
