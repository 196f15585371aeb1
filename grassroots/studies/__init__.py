"""Studies: what the commands compute, callable from Python with scenarios and DataFrames in and out.

* :mod:`.compare` -- paired differences with common random numbers; :func:`~.compare.compare` runs a whole
  comparison; :mod:`.decomposition` -- Shapley decomposition by lever family and its sub-runs;
* :mod:`.plan` -- the simulate-then-optimize loop; :mod:`.effects` -- lever effects re-estimated by
  simulation; :mod:`.sizing` -- the smallest fund reaching a target with a stated confidence;
* :mod:`.sensitivity` -- Morris and Sobol studies; :mod:`.sensitivity_params` -- their parameters;
* :mod:`.calibration` -- fitting behaviour parameters to observed rates;
* :mod:`.backtest` -- the history scenario against the published figures (``scenarios/data/published.toml``);
* :mod:`.executors` -- serial, process-pool and dask executors the studies run their points on.

No argparse and no printing here: progress goes through callbacks.  Studies may import the engines,
``scenarios`` and :mod:`grassroots.results`; never :mod:`grassroots.cli` or :mod:`grassroots.report`.
"""
