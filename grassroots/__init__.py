"""Grassroots Talent Planner: the application layer.

The ``grassroots`` command line and the orchestration that runs scenarios
through the two engines (``simulator`` and ``optimizer``), writes result
folders, figures and reports.  Engines never import this package.
"""

from .results import package_version

__version__ = package_version()
