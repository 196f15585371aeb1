"""Headless chromium over the DevTools protocol on a pipe, for the report tests (standard library only)."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


class Chromium:
    """Headless chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

    Messages are NUL-terminated JSON on file descriptors 3 (to the browser) and
    4 (from it); a two-line Python launcher moves our pipe ends there, so nothing but the standard
    library is needed.
    """

    # put our pipe ends on fds 3 and 4 (moving them above 9 first, so neither clobbers the other), then exec
    LAUNCH = ("import fcntl, os, sys; r, w = (fcntl.fcntl(int(a), fcntl.F_DUPFD, 10) for a in sys.argv[1:3]); "
              "os.dup2(r, 3); os.dup2(w, 4); os.execv(sys.argv[3], sys.argv[3:])")
    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--remote-debugging-pipe"]

    def __init__(self, binary: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="grassroots-chromium-")
        to_r, self.to_w = os.pipe()
        self.fr_r, fr_w = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.LAUNCH, str(to_r), str(fr_w), binary, *self.FLAGS,
             f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(to_r, fr_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(to_r)
        os.close(fr_w)
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def _stderr(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-3000:]

    def wait_for(self, pred, timeout: float | None = None) -> dict:
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" not in msg:
                    self.events.append(msg)
                if pred(msg):
                    return msg
            left = end - time.monotonic()
            ready, _, _ = select.select([self.fr_r], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"chromium did not answer in time; stderr:\n{self._stderr()}")
            chunk = os.read(self.fr_r, 1 << 20)
            if not chunk:
                raise EOFError(f"chromium closed the pipe; stderr:\n{self._stderr()}")
            self.buf += chunk

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        i = self.next_id
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        reply = self.wait_for(lambda m: m.get("id") == i)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, url: str, domains=("Page", "Runtime", "Log", "Network")):
        """Open ``url`` in a new tab and wait for its load event; returns ``js(expression) -> value``."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in domains:
            self.call(f"{domain}.enable", session=sid)
        self.call("Page.navigate", {"url": url}, session=sid)
        self.wait_for(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == sid)

        def js(expr: str):
            res = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=sid)
            if "exceptionDetails" in res:
                raise AssertionError(res)
            return res["result"].get("value")

        js.session = sid
        return js

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - the browser may exit before answering
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_w, self.fr_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)
