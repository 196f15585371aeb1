"""The agent-based talent-flow simulator of the 2016 grassroots policy (人社部发〔2016〕57号).

County personnel bureaus are Mesa agents; professionals are a structure of
numpy arrays.  See ``simulator/model.py`` for the step order and units,
``simulator/metrics.py`` for every metric, ``simulator/behaviour.py`` for the
stay/leave formula.  Typical use::

    import scenarios, simulator
    res = simulator.simulate(scenarios.load("policy-2016"), provinces=["64"], years=10, replications=20, seed=1)
    res.summary        # scenario, year, metric, mean, p05, p95
    res.flows          # moves between places and exits to places per origin county (simulator.mobility)
"""

from .metrics import (AREA, CELL_METRIC_NAMES, COST_LEVERS, EXIT_REASONS, METRIC_NAMES, METRICS, RATIOS, RAW,
                      RECRUIT_CHANNELS, Metric)
from .model import ModelOptions, TalentModel
from .params import Params, compile_params
from .replicate import (COUNTY_COLUMNS, FLOW_COLUMNS, PROVINCE_COLUMNS, REPLICATION_COLUMNS, SUMMARY_COLUMNS, Replication,
                        SimulationResult, run_replication, simulate)
from .rng import replication_seeds

__all__ = [
    "simulate", "run_replication", "SimulationResult", "Replication", "TalentModel", "ModelOptions",
    "Params", "compile_params", "replication_seeds",
    "METRICS", "METRIC_NAMES", "CELL_METRIC_NAMES", "RAW", "RATIOS", "AREA", "Metric",
    "EXIT_REASONS", "RECRUIT_CHANNELS", "COST_LEVERS",
    "SUMMARY_COLUMNS", "COUNTY_COLUMNS", "PROVINCE_COLUMNS", "REPLICATION_COLUMNS", "FLOW_COLUMNS",
]
