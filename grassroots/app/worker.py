"""The process a web-app job runs in: ``python -m grassroots.app.worker JOBDIR ROOT``.

It runs the ``grassroots`` command line (:func:`grassroots.cli.main`) with the job's arguments and
``--out ROOT/<folder>``, so the result folder, its manifest and ``reproduce`` line are the CLI's own.
SIGTERM (the page's *Cancel*) becomes KeyboardInterrupt, so the CLI removes its unfinished folder as it
does on Ctrl-C.  The worker runs at a lower CPU priority (nice 5) so pages answer quickly meanwhile.
The exit status and the time taken go to ``JOBDIR/status.json``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

WORKER_NICENESS = 5


def _interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def main(jobdir: str, root: str) -> int:
    jd = Path(jobdir)
    spec = json.loads((jd / "spec.json").read_text(encoding="utf-8"))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        os.nice(WORKER_NICENESS)   # the server's pages stay quick while jobs compute
    except OSError:
        pass
    argv = [*spec["argv"], "--out", str(Path(root) / spec["out"])]
    sys.argv = ["grassroots", *argv]
    started = time.monotonic()
    rc = 1
    try:
        from grassroots.cli import main as cli_main
        rc = cli_main(argv)
    except KeyboardInterrupt:
        rc = 130
    finally:
        status = {"rc": rc, "seconds": round(time.monotonic() - started, 2)}
        (jd / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return rc


if __name__ == "__main__":  # pragma: no cover - run as a process
    sys.exit(main(sys.argv[1], sys.argv[2]))
