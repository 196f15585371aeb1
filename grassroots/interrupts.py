"""Ctrl-C, handled the same way at any moment: one line, exit status 130, finished work kept.

:func:`main <grassroots.cli.main>` installs :func:`_on_sigint` for the duration of a
command.  It records that an interruption happened and raises ``KeyboardInterrupt``
as Python's default handler does.  Recording it matters because Python runs signal
handlers only between bytecodes: a Ctrl-C that arrives while a numba kernel runs
surfaces when the kernel returns, sometimes wrapped by numba as a ``SystemError``
("returned a result with an exception set") or re-raised by a library as something
else.  Whatever exception then ends the command, :func:`happened` says it was the
user's Ctrl-C, and the command line prints :func:`message` instead of a traceback.

Worker processes ignore SIGINT (their pools' initializers); the main process stops
them (``simulator.replicate.close_worker_pool(terminate=True)``,
``ProcessExecutor.terminate``), so a Ctrl-C in a terminal, which reaches the whole
process group, never prints the workers' tracebacks.
"""

from __future__ import annotations

import signal
import threading

_STATE = {"hit": False}


def _on_sigint(signum, frame):
    _STATE["hit"] = True
    raise KeyboardInterrupt


def install():
    """Install the handler (main thread only); returns the previous handler for :func:`restore`."""
    _STATE["hit"] = False
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def restore(previous) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)


def happened(exc: BaseException | None = None) -> bool:
    """Whether the command was interrupted: a SIGINT arrived, or ``exc`` is (or was caused by) a KeyboardInterrupt."""
    if _STATE["hit"]:
        return True
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def message(command: str) -> str:
    """The one line printed on an interruption, saying what was kept for resuming."""
    from .progress import kept
    done, total, unit = kept()
    if total:
        return (f"grassroots {command}: interrupted; {done} of {total} {unit} kept, "
                f"rerun the same command to resume")
    return f"grassroots {command}: interrupted; no result folder was written"
