"""Helpers of the web-app tests: start ``grassroots app`` on a free loopback port, and plain HTTP requests.

The server is the real command (``python -m grassroots app``) in a subprocess over a temporary results
folder; requests go to 127.0.0.1 only, each bounded by a timeout.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``grassroots app --port P --results DIR [--token T]`` running until :meth:`stop`."""

    def __init__(self, results: Path, token: str | None = None, log: Path | None = None):
        self.port = free_port()
        self.results = Path(results)
        self.token = token
        argv = [sys.executable, "-m", "grassroots", "app", "--port", str(self.port), "--results", str(results)]
        if token:
            argv += ["--token", token]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.log_path = log or (self.results.parent / f"app-{self.port}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=str(results.parent), env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"grassroots app exited: {self.log_path.read_text()}")
            try:
                status, _, _ = self.request("GET", "/healthz", headers={"X-Grassroots-Token": token or ""})
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("grassroots app did not answer within 60 s")
        self.started = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None,
                timeout: float = 30) -> tuple[int, dict, bytes]:
        """(status, headers, body) of one request; ``path`` is sent as given (no normalisation)."""
        h = dict(headers or {})
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body, doseq=True).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def wait_done(server: Server, key: str, limit: float = 240, headers: dict | None = None) -> dict:
    """Poll ``/api/jobs/<key>`` until the job is no longer running (bounded by ``limit`` seconds)."""
    import json
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status, _, body = server.request("GET", f"/api/jobs/{key}", headers=headers)
        assert status == 200, body
        d = json.loads(body)
        if d["done"] or all(j["status"] in ("failed", "cancelled") for j in d["jobs"]):
            return d
        time.sleep(0.5)
    raise AssertionError(f"job {key} not finished within {limit} s")
