"""Benchmark of the choropleth maps (grassroots/report/maps.py) against a per-patch matplotlib peer.

Ours: one ``PathCollection`` of compound paths (one path per county, holes by winding), prefecture
and province borders as two ``LineCollection``s.  Peer: the common hand-written way, one
``matplotlib.patches.Polygon`` per ring added with ``ax.add_patch`` and coloured one by one, borders
as one ``ax.plot`` per ring (no collections).  Both draw the same outlines on the same figure size
and save a PNG at 110 dpi.

    python benchmarks/maps.py                 # Gansu and the nation, median of 3 each
    python benchmarks/maps.py --json out.json

The first map of a process also loads the outlines (``scenarios.geo``, ~0.1 s) and imports
matplotlib; the script reports that cold run separately ("first") and then the median of 3.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import scenarios  # noqa: E402
from grassroots.report import maps  # noqa: E402
from scenarios import geo  # noqa: E402

IMPORT_S = time.perf_counter() - T0


def values(provinces):
    t = scenarios.county_table(provinces=provinces)
    staff = sum(t[f"staff_{f}"] for f in scenarios.FIELDS)
    demand = sum(t[f"demand_{f}"] for f in scenarios.FIELDS)
    return pd.Series((staff / demand).to_numpy(), index=t["county_id"])


def ours(v, out):
    fig = maps.county_map(v, label="Coverage (staff / demand)", title="coverage")
    maps.save(fig, out)


def peer(v, out):
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    provs = sorted({c[:2] for c in v.index})
    counties = {c: r for c, r in geo.outlines("county").items() if c[:2] in provs}
    prefs = {c: r for c, r in geo.outlines("prefecture").items() if c[:2] in provs}
    outline = geo.outlines("province", provs)
    allxy = np.concatenate([r for rs in counties.values() for r in rs])
    k = math.cos(math.radians((allxy[:, 1].min() + allxy[:, 1].max()) / 2))
    norm = matplotlib.colors.Normalize(v.min(), v.max())
    cmap = matplotlib.colormaps["viridis"]
    fig = Figure(figsize=(7.5, 6), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    for code, rings in counties.items():
        color = cmap(norm(v.get(code, np.nan)))
        for r in rings:
            ax.add_patch(Polygon(np.column_stack([r[:, 0] * k, r[:, 1]]), closed=True, facecolor=color,
                                 edgecolor="white", linewidth=0.2))
    for group, width in ((prefs, 0.4), (outline, 1.0)):
        for rings in group.values():
            for r in rings:
                ax.plot(r[:, 0] * k, r[:, 1], color="#333333", linewidth=width)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.colorbar(matplotlib.cm.ScalarMappable(norm, cmap), ax=ax, label="Coverage")
    fig.savefig(out, format="png", dpi=110)


def timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - w, time.process_time() - c


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None)
    ap.add_argument("--out", default="/tmp")
    a = ap.parse_args(argv)
    res = {"import_s": IMPORT_S}
    for name, provs in (("gansu", ["62"]), ("national", None)):
        v = values(provs)
        first = timed(ours, v, f"{a.out}/map_{name}.png")
        runs = [timed(ours, v, f"{a.out}/map_{name}.png") for _ in range(3)]
        pruns = [timed(peer, v, f"{a.out}/peer_{name}.png") for _ in range(1 if name == "national" else 3)]
        r = {"counties": len(v), "first_wall_s": first[0],
             "ours_wall_s": statistics.median(x[0] for x in runs), "ours_cpu_s": statistics.median(x[1] for x in runs),
             "peer_wall_s": statistics.median(x[0] for x in pruns), "peer_cpu_s": statistics.median(x[1] for x in pruns)}
        r["ratio_cpu"] = r["peer_cpu_s"] / r["ours_cpu_s"]
        res[name] = r
        print(f"{name:9s} {r['counties']:5d} counties: first {r['first_wall_s']:.2f} s, ours {r['ours_wall_s']:.2f} s wall "
              f"/ {r['ours_cpu_s']:.2f} s CPU; peer {r['peer_wall_s']:.2f} s / {r['peer_cpu_s']:.2f} s CPU; "
              f"{r['ratio_cpu']:.1f}x", flush=True)
    print(f"imports (numpy, pandas, scenarios, matplotlib via grassroots.maps): {IMPORT_S:.2f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
