"""Progress a person can read: one bar per command, with total, done, rate and time left.

:class:`Progress` wraps a ``tqdm`` bar on stderr.  tqdm, not rich: it is one small
pure-Python package with no dependencies, already the ecosystem's default for
loops of known length, writes only to the stream it is given, and disables itself
cleanly; rich would bring a console layer (and Pygments, markdown-it) for one bar.

* On a terminal: one bar, ``run: 40%|####      | 4/10 replications [00:31<00:46, 0.13 replications/s]``,
  whose total covers every sub-run of the command (all scenarios and decomposition
  coalitions of ``compare``, all points of ``sensitivity``, all rounds of ``plan``).
* When stderr is not a terminal (a log file, CI): no bar; at most one line per 10%
  (``run: 40% (4/10 replications, 0.13/s, about 46 s left)``).
* With ``--quiet``: nothing.

A command also records here how many units are finished and kept (``KEPT``), so that
an interruption can say "N of M replications kept" (see :func:`kept`).
"""

from __future__ import annotations

import sys
import time
from typing import Callable

#: (done, total, unit) of the command's current bar: what an interruption reports as kept
_KEPT: dict[str, object] = {"done": 0, "total": 0, "unit": ""}


def kept() -> tuple[int, int, str]:
    """``(done, total, unit)`` of the most recent bar (finished units are checkpointed as they finish)."""
    return int(_KEPT["done"]), int(_KEPT["total"]), str(_KEPT["unit"])


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _fmt_seconds(s: float) -> str:
    s = int(round(s))
    if s < 90:
        return f"{s} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def _bar_class():
    """tqdm with an ``{each}`` field: ``2.5/s`` for fast work, ``12.3 s each`` for slow (national replications)."""
    from tqdm import tqdm

    class Bar(tqdm):
        @property
        def format_dict(self):
            d = super().format_dict
            rate = d.get("rate")
            if rate is None and d.get("elapsed") and d["n"] > d.get("initial", 0):
                rate = (d["n"] - d.get("initial", 0)) / d["elapsed"]
            d["each"] = "?/s" if not rate else (f"{rate:.3g}/s" if rate >= 1 else f"{1 / rate:.3g} s each")
            return d

    return Bar


class Progress:
    """One progress display for a command: ``update(n)`` as units finish, ``add_total(n)`` as work is planned.

    ``label`` names the command (``run``, ``compare`` ...), ``unit`` what is counted
    (``replications``, ``points``, ``rounds``, ``rows``).  ``record=True`` makes this the
    bar an interruption reports (the work's bar, not a writing bar).
    """

    def __init__(self, label: str, total: int = 0, unit: str = "replications", *, quiet: bool = False,
                 stream=None, record: bool = True, initial: int = 0):
        self.label, self.unit, self.quiet, self.record = label, unit, quiet, record
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _is_tty(self.stream) and not quiet
        self.total = int(total)
        self.done = int(initial)
        self.reused = 0
        self._t0 = time.monotonic()
        self._done0 = self.done       # units not computed in this run (from checkpoints) do not count for the rate
        self._last_decile = self.done * 10 // self.total if self.total else -1
        self._bar = None
        self._t_first = None
        self._first_units = 0
        if self.tty:
            self._bar = _bar_class()(total=self.total or None, initial=self.done, desc=label, unit=unit,
                                     file=self.stream, dynamic_ncols=True, leave=True, smoothing=0.1,
                                     bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} "
                                                "[{elapsed}<{remaining}, {each}]{postfix}")
        self._record()

    def _record(self) -> None:
        if self.record:
            _KEPT.update(done=self.done, total=self.total, unit=self.unit)

    # -- planning and counting
    def add_total(self, n: int) -> None:
        self.total += int(n)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()
        self._record()

    def skip(self, n: int) -> None:
        """``n`` units were found finished (checkpoints): counted as done, not in the rate."""
        self.reused += int(n)
        self._done0 += int(n)
        self.update(n)

    def update(self, n: int = 1) -> None:
        if n <= 0:
            return
        if self._t_first is None and self.done - self._done0 + n > 0:
            self._t_first = time.monotonic()    # the first unit carries the start-up (imports, compilation)
            self._first_units = self.done - self._done0 + n
        self.done += int(n)
        self._record()
        if self._bar is not None:
            self._bar.update(n)
        elif not self.quiet:
            self._line()

    def set_note(self, text: str) -> None:
        """A short note shown after the bar (e.g. what is being simulated); not printed without a terminal."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def write(self, text: str) -> None:
        """A line of text above the bar (or on its own line without a terminal); nothing with ``--quiet``."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _line(self) -> None:
        if not self.total:
            return
        decile = min(10, self.done * 10 // self.total)
        if decile == self._last_decile:
            return
        self._last_decile = decile
        now = time.monotonic()
        computed = self.done - self._done0
        msg = f"{self.label}: {100 * self.done // self.total}% ({self.done}/{self.total} {self.unit}"
        since_first = now - self._t_first if self._t_first is not None else 0.0
        if computed > self._first_units and since_first > 0:
            rate = (computed - self._first_units) / since_first     # steady rate, start-up excluded
        elif computed > 0 and now > self._t0:
            rate = computed / (now - self._t0)
        else:
            rate = 0.0
        if rate > 0:
            msg += f", {rate:.3g}/s" if rate >= 0.1 else f", {1 / rate:.3g} s each"
            if self.done < self.total:
                msg += f", about {_fmt_seconds((self.total - self.done) / rate)} left"
        if self.reused:
            msg += f", {self.reused} from checkpoints"
        self.stream.write(msg + ")\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- adapters for the callbacks the studies and the simulator take
    def replications_callback(self) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for one ``simulator.simulate`` call (done counts from 0 to total).

        The simulator's first call reports the replications found in the checkpoints when
        there are any; a first step of more than one is counted as reused (not in the rate).
        """
        state = {"seen": 0, "first": True}

        def cb(done: int, total: int) -> None:
            delta, state["seen"] = done - state["seen"], done
            if state["first"] and delta > 1:
                self.skip(delta)
            else:
                self.update(delta)
            state["first"] = False

        return cb


def rows_progress(label: str, rows: int, *, quiet: bool = False, stream=None, min_rows: int = 1_000_000):
    """A :class:`Progress` over ``rows`` rows for writing a large table (None for small tables or ``--quiet``)."""
    if quiet or rows < min_rows:
        return None
    return Progress(label, total=rows, unit="rows", stream=stream, record=False)


__all__ = ["Progress", "kept", "reset", "rows_progress"]


def reset() -> None:
    """Forget the previous command's counts (the command line calls it as a command starts)."""
    _KEPT.update(done=0, total=0, unit="")
