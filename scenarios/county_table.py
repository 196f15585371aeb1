"""Compatibility module: the county table now lives in :mod:`scenarios.counties`.

``from scenarios.county_table import county_table, COLUMNS, ...`` keeps working; the
documentation of every column (unit, source, assumption) is :mod:`scenarios.counties.generate`'s
docstring, which this module's ``__doc__`` repeats.
"""
from .counties import *  # noqa: F401,F403
from .counties import __all__  # noqa: F401
from .counties import generate as _generate

__doc__ = _generate.__doc__
