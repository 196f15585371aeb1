"""Scenarios: the schema of every policy lever, the bundled scenario library, and the national county table.

Imports no engine.  Typical use::

    import scenarios
    sc = scenarios.load("policy-2016")          # validated, frozen Scenario
    table = scenarios.county_table(provinces=["62"])
"""

from .counties import (CountyDataError, county_table, divisions, province_codes, province_table, read_county_file,
                       write_template)
from .loader import (ScenarioError, apply, bundled, bundled_names, describe_params, from_dict,
                     get_path, leaf_paths, load, resolve, sha256, to_dict)
from .levers import ALLOCATION_COLUMNS, LEVERS, AllocationError, read_allocation, validate_allocation
from .schema import FIELDS, PAYERS, PROGRAMMES, REGIONS, TIERS, Scenario

__all__ = [
    "CountyDataError", "county_table", "divisions", "province_codes", "province_table", "read_county_file",
    "write_template",
    "ScenarioError", "apply", "bundled", "bundled_names", "describe_params", "from_dict",
    "get_path", "leaf_paths", "load", "resolve", "sha256", "to_dict",
    "ALLOCATION_COLUMNS", "LEVERS", "AllocationError", "read_allocation", "validate_allocation",
    "FIELDS", "PAYERS", "PROGRAMMES", "REGIONS", "TIERS", "Scenario",
]
