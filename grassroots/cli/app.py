"""``grassroots app``: the web app for planners who do not use a command line (needs ``pip install ".[app]"``).

Serves :mod:`grassroots.app` with uvicorn on ``--host``/``--port`` (default http://127.0.0.1:8765) over the
results folder ``--results`` (default ``results``); opens a browser only with ``--open``.  Off loopback
(``--host 0.0.0.0``) it prints a warning and requires ``--token``, a shared secret every request must carry.
"""

from __future__ import annotations

import sys

from .options import InputError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_HOST = "127.0.0.1"     # the parser in grassroots/cli/__init__.py states the same defaults (tested)
DEFAULT_PORT = 8765


def check(args) -> list[str]:
    """Problems with the options, one line each."""
    problems = []
    if not 1 <= args.port <= 65535:
        problems.append(f"--port: {args.port} (allowed: 1 to 65535)")
    if args.host not in LOOPBACK and not args.token:
        problems.append(f"--token: required with --host {args.host} (a shared secret, so that not everyone on the network can use the app)")
    if args.token is not None and len(args.token) < 8:
        problems.append("--token: too short (allowed: at least 8 characters)")
    return problems


def app(args) -> int:
    """Run the web app until Ctrl-C."""
    problems = check(args)
    if problems:
        raise InputError(problems)
    try:
        import uvicorn

        from ..app.server import create_app
    except ModuleNotFoundError as e:
        raise InputError([f"grassroots app: needs the app extra ({e.name} is missing): pip install \"grassroots-talent[app]\""])
    if args.host not in LOOPBACK:
        print(f"grassroots app: WARNING: listening on {args.host}: anyone who can reach this computer and knows the "
              "token can run jobs and read the results folder", file=sys.stderr)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/" + (f"?token={args.token}" if args.token else "")
    print(f"grassroots app: {url} (results in {args.results}; Ctrl-C stops)", file=sys.stderr)
    asgi = create_app(args.results, token=args.token, loopback=args.host in LOOPBACK)
    if args.open:
        import threading
        import webbrowser
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(asgi, host=args.host, port=args.port, log_level="warning")
    return 0
