"""``grassroots backtest [SCENARIO]``: run the history scenario from 2016 against the published figures.

Writes one result folder:

* ``backtest.csv`` -- ``figure,year,source,published,simulated,p05,p95,tolerance,within,held_out`` (+ role,
  unit, output): one row per published figure of ``scenarios/data/published.toml``;
* ``backtest-summary.csv`` -- figures within tolerance: all, fitted years (to 2020), held out (2021-2025);
  outcomes and input checks separately;
* ``excluded.csv`` -- figures of the facts file that do not map to an output, with the reason;
* ``report.html`` with the tables and a figure per series (``backtest.png``); ``manifest.json``.

The study is :func:`grassroots.studies.backtest.backtest`; the run is national (the figures are).
"""

from __future__ import annotations

import sys
import time

from ..report.backtest_figures import backtest_panels
from ..report.backtest_report import backtest_html
from ..studies import backtest as bt
from . import options as opts


def backtest(args) -> int:
    """Run ``grassroots backtest`` for parsed ``args``; returns the exit status."""
    import scenarios

    problems = opts.check_common(args)
    if args.province:
        problems.append("--province: not allowed here (the published figures are national: the backtest "
                        "simulates every province)")
    if args.years is not None:
        problems.append("--years: not allowed here (the backtest runs the scenario's horizon)")
    if getattr(args, "county_table", None):
        problems.append("--county-table: not allowed here (the published figures are for the bundled national table)")
    sc = scenarios.load(args.scenario)            # ScenarioError: one line per problem, exit 2
    try:
        figures, excluded = bt.load_published(getattr(args, "published", None))
    except bt.PublishedError as e:
        problems += e.problems
    if problems:
        raise opts.InputError(problems)

    rf = opts.result_folder("backtest", sc.name, args)   # fails now if --out exists
    if not args.quiet:
        print(f"backtest: {sc.name} from {sc.horizon.start_year}, {sc.horizon.years} years, all provinces, "
              f"{args.replications} replication(s), {len(figures)} published figures", file=sys.stderr)
    started = time.monotonic()
    table, summary = bt.backtest(sc, replications=args.replications, seed=args.seed, workers=opts.workers(args),
                                 figures=figures, progress=opts.progress_printer(args.quiet))
    seconds = time.monotonic() - started
    with rf as out:
        out.write_csv("backtest.csv", table)
        out.write_csv("backtest-summary.csv", summary)
        out.write_csv("excluded.csv", excluded)
        fig = backtest_panels(table, bt.FITTED_LAST_YEAR)
        from ..report.figures import to_png
        out.write_bytes("backtest.png", to_png(fig))
        out.manifest.update({"scenario_sha256": scenarios.sha256(sc), "seed": args.seed,
                             "replications": args.replications, "seconds": round(seconds, 1),
                             "published_file": str(getattr(args, "published", None) or bt.published_path()),
                             "fitted_last_year": bt.FITTED_LAST_YEAR,
                             "within": int(table["within"].sum()), "figures": len(table)})
        out.write_text("report.html", backtest_html(out.manifest, sc, table, summary, excluded, fig,
                                                   lang=getattr(args, "lang", "en")))
    if not args.quiet:
        n, k = len(table), int(table["within"].sum())
        print(f"backtest: {k} of {n} figures within tolerance ({seconds:.0f} s); wrote {rf.final_path}", file=sys.stderr)
    return 0
