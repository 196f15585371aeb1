"""The national county table, split along its seams.

* :mod:`.columns` -- columns, dtypes, ranges, the province and division lists;
* :mod:`.generate` -- the bundled table (documents every column, its unit and source);
* :mod:`.validate` -- checking a user table, every problem by row and column;
* :mod:`.io` -- CSV and Excel in, the Excel template out.
"""
from .columns import (COLUMNS, DESCRIPTIVE, FIELDS, KINDS, LAND_BORDER_PROVINCES, REGIONS, REQUIRED, TIERS,
                      TYPE_KIND, TYPES, UNITS, CountyDataError, county_names, divisions, province_codes,
                      province_table)
from .generate import (NATIONAL_TARGETS, PROVINCE_POPULATION_2020, TARGET_COVERAGE, calibration, county_table)
from .io import read_county_csv, read_county_file, read_county_xlsx, write_template
from .validate import validate_county_frame

__all__ = [
    "COLUMNS", "DESCRIPTIVE", "FIELDS", "KINDS", "LAND_BORDER_PROVINCES", "REGIONS", "REQUIRED", "TIERS",
    "TYPE_KIND", "TYPES", "UNITS", "CountyDataError", "county_names", "divisions", "province_codes", "province_table",
    "NATIONAL_TARGETS", "PROVINCE_POPULATION_2020", "TARGET_COVERAGE", "calibration", "county_table",
    "read_county_csv", "read_county_file", "read_county_xlsx", "write_template", "validate_county_frame",
]
