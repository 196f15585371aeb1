"""Benchmark of the web app as a person feels it (issue 18, "Speed a person feels").

Measures, in one run on this machine, with the app on a free 127.0.0.1 port over a fresh results folder:

1. *first page*: from starting ``grassroots app`` to the first full page (``/`` -> the Scenario page, the
   heaviest: every parameter of the schema) -- target < 3 s;
2. *comparison to results*: a province comparison (baseline vs policy-2016, default Ningxia 64) of 5 years x 4
   replications submitted on the Compare page, from the POST until the result page with its table is served
   -- target < 15 s on 2 cores; the peer is the same command run directly from a terminal
   (``grassroots compare ...``, its own process), so the ratio is the app's overhead;
3. *reopening*: the same comparison asked for again (the cache: straight to the finished folder), and the
   result page of a finished folder -- target < 1 s.

numba's compiled kernels are cached on disk: a warm-up run (1 year, 1 replication) goes first so neither
the app nor the peer pays the one-off compilation.

Run:  python benchmarks/app.py [--province 64] [--years 5] [--replications 4] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, method: str, path: str, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = urllib.parse.urlencode(body, doseq=True).encode() if body else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    out = (r.status, r.getheader("location"), r.read())
    conn.close()
    return out


def _follow(port: int, method: str, path: str, body: dict | None = None):
    """Follow redirects (at most 5); (final path, status, body)."""
    for _ in range(5):
        status, loc, data = _get(port, method, path, body)
        if status in (301, 302, 303, 307) and loc:
            method, path, body = "GET", loc, None
            continue
        return path, status, data
    raise RuntimeError("too many redirects")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--province", default="64")
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    out: dict = {"province": a.province, "years": a.years, "replications": a.replications, "workers": a.workers,
                 "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    tmp = Path(tempfile.mkdtemp(prefix="grassroots-app-bench-"))
    results = tmp / "results"

    warm = [sys.executable, "-m", "grassroots", "compare", "baseline", "policy-2016", "--province", a.province,
            "--years", "1", "--replications", "1", "--quiet", "--out", str(tmp / "warm")]
    subprocess.run(warm, env=_env(), check=True, capture_output=True, cwd=tmp)

    port = _port()
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "grassroots", "app", "--port", str(port), "--results", str(results)],
                            env=_env(), cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                path, status, body = _follow(port, "GET", "/")
                if status == 200 and b"</html>" in body:
                    break
            except OSError:
                time.sleep(0.05)
            if time.monotonic() - t0 > 60:
                raise RuntimeError("the app did not answer within 60 s")
        out["first_page_s"] = round(time.monotonic() - t0, 2)

        form = {"scenario": ["baseline", "policy-2016"], "province": [a.province], "years": str(a.years),
                "replications": str(a.replications), "seed": "20160701", "workers": str(a.workers)}
        t0 = time.monotonic()
        status, loc, _ = _get(port, "POST", "/compare", form)
        key = loc.rsplit("/", 1)[1]
        while True:
            _, _, body = _get(port, "GET", f"/api/jobs/{key}")
            d = json.loads(body)
            if d["done"]:
                break
            if any(j["status"] in ("failed", "cancelled") for j in d["jobs"]):
                raise RuntimeError(d)
            time.sleep(0.25)
        path, status, body = _follow(port, "GET", d["result_url"])
        assert status == 200 and b'id="headline"' in body
        out["comparison_to_results_s"] = round(time.monotonic() - t0, 2)

        t0 = time.monotonic()
        path2, status, body = _follow(port, "POST", "/compare", form)
        out["reopen_same_comparison_s"] = round(time.monotonic() - t0, 3)
        assert path2 == path and b'id="headline"' in body, (path2, path)
        t0 = time.monotonic()
        _follow(port, "GET", path)
        out["reopen_result_page_s"] = round(time.monotonic() - t0, 3)
    finally:
        proc.terminate()
        proc.wait(10)

    peer = [sys.executable, "-m", "grassroots", "compare", "baseline", "policy-2016", "--province", a.province,
            "--years", str(a.years), "--replications", str(a.replications), "--workers", str(a.workers),
            "--quiet", "--out", str(tmp / "peer")]
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(peer, env=_env(), check=True, capture_output=True, cwd=tmp)
    out["peer_cli_s"] = round(time.monotonic() - t0, 2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the command and its worker processes: on an idle 2-core machine the wall time is
    # about this over the workers, plus the start-up
    out["peer_cli_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    out["ratio_app_to_cli"] = round(out["comparison_to_results_s"] / out["peer_cli_s"], 2)
    out["load_after"] = os.getloadavg()[0]
    for k, v in out.items():
        print(f"{k}: {v}")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
