"""Executors: run one function over many independent items, serially, on local
processes, or on a Dask cluster -- with identical results.

The three executors share one small interface::

    with make_executor(workers=2) as ex:            # or scheduler="tcp://host:8786"
        results = ex.map(fn, items)                  # a list, in input order
        for index, result in ex.iter_completed(fn, items):
            ...                                      # as they finish (for caching)

* ``fn`` must be a module-level (picklable) function; each item is one
  argument.  Results depend only on ``fn`` and the item -- never on which
  worker ran it or in what order -- so every executor returns the same list.
  Randomness belongs inside ``fn`` and must be seeded from the item.
* :class:`SerialExecutor` (``workers=1``, no scheduler) runs in this process.
* :class:`ProcessExecutor` (``workers>1``) uses a
  :class:`concurrent.futures.ProcessPoolExecutor` with a *spawn* context that
  is passed to the pool, never set globally (``multiprocessing`` start methods
  are process-wide state; spawn is the one start method that is safe with
  threads and identical on Linux, macOS and Windows).
* :class:`DaskExecutor` (``scheduler="ADDRESS"``) connects a
  ``dask.distributed.Client`` to a running scheduler.  Dask is an optional
  extra (``pip install "grassroots-talent[dask]"``) and is imported only here,
  only when asked for.  Workers need the same packages installed (and the same
  version of this one) as the client.

Problems a user can fix (Dask not installed, scheduler unreachable, a bad
worker count) raise :class:`ExecutorError`, a ``RuntimeError`` with a
``problems`` list of one-line messages that the command line prints as they
are.  Exceptions raised by ``fn`` itself propagate unchanged (after the
remaining work is cancelled).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator, Sequence

DASK_EXTRA_HINT = 'pip install "grassroots-talent[dask]"'
DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before giving up


class ExecutorError(RuntimeError):
    """An executor could not be set up; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Base:
    """Shared behaviour: context manager, ordered ``map`` built on ``iter_completed``."""

    kind = "base"
    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close()
        return False

    def close(self) -> None:  # pragma: no cover - overridden where there is something to close
        pass

    def iter_completed(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list:
        """``[fn(x) for x in items]``, computed by this executor, in input order."""
        items = list(items)
        out: list = [None] * len(items)
        for i, result in self.iter_completed(fn, items):
            out[i] = result
        return out

    def describe(self) -> dict:
        """What ran the work, for the manifest."""
        return {"kind": self.kind, "workers": self.workers}


class SerialExecutor(_Base):
    """Runs every item in this process, in order."""

    kind = "serial"

    def iter_completed(self, fn, items):
        for i, item in enumerate(items):
            yield i, fn(item)


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the main process's to handle (it cancels the pool), not the workers'."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor(_Base):
    """A pool of ``workers`` local processes (spawn start method, passed to the pool only)."""

    kind = "processes"

    def __init__(self, workers: int, max_in_flight: int | None = None, pool: ProcessPoolExecutor | None = None):
        self.workers = int(workers)
        # Submit at most this many items ahead, so a study of 10^5 points does not
        # queue 10^5 pickled tasks at once and an interruption loses little.
        self.max_in_flight = max_in_flight if max_in_flight is not None else 4 * self.workers
        # ``pool``: an existing pool to borrow (e.g. the simulator's kept ``worker_pool``, whose workers have
        # their kernels loaded already); it is left running on close
        self._own_pool = pool is None
        self._pool = pool if pool is not None else ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint)

    def iter_completed(self, fn, items):
        items = list(items)
        pending: dict = {}
        nxt = 0
        try:
            while nxt < len(items) or pending:
                while nxt < len(items) and len(pending) < self.max_in_flight:
                    pending[self._pool.submit(fn, items[nxt])] = nxt
                    nxt += 1
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=pending.__getitem__):
                    i = pending.pop(fut)
                    yield i, fut.result()
        except BaseException as e:
            if not isinstance(e, Exception):   # Ctrl-C (KeyboardInterrupt) or exit: stop the workers now
                self.terminate()
            raise
        finally:
            for fut in pending:
                fut.cancel()

    def terminate(self) -> None:
        """Stop every worker at once (their running items are lost; finished ones were yielded already)."""
        for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
            proc.terminate()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None and not issubclass(exc_type, Exception):   # interrupted: do not wait for workers
            self.terminate()
        return super().__exit__(exc_type, exc, tb)

    def close(self) -> None:
        if self._own_pool:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(_Base):
    """Work sent to a ``dask.distributed`` scheduler at ``address`` (or an existing ``client``)."""

    kind = "dask"

    def __init__(self, address: str | None = None, client=None, timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 max_in_flight: int | None = None):
        self.address = address
        self._own_client = client is None
        if client is None:
            client = connect_dask(address, timeout=timeout)
        self.client = client
        try:
            self.workers = sum(self.client.nthreads().values()) or 1
        except Exception:  # noqa: BLE001 - informational only
            self.workers = 1
        self.max_in_flight = max_in_flight if max_in_flight is not None else max(64, 8 * self.workers)

    def iter_completed(self, fn, items):
        from distributed import as_completed  # imported lazily: dask is optional

        items = list(items)
        pending: dict = {}  # future key -> (future, item index)
        nxt = 0
        ac = as_completed([], loop=self.client.loop, with_results=True)

        def submit_more():
            nonlocal nxt
            while nxt < len(items) and len(pending) < self.max_in_flight:
                fut = self.client.submit(fn, items[nxt], pure=False)
                pending[fut.key] = (fut, nxt)
                ac.add(fut)
                nxt += 1

        try:
            submit_more()
            while pending:
                fut, result = next(ac)
                _, i = pending.pop(fut.key)
                submit_more()
                yield i, result
        finally:
            for fut, _ in pending.values():
                fut.cancel()

    def describe(self) -> dict:
        d = super().describe()
        d["scheduler"] = self.address if self.address is not None else self.client.scheduler.address
        return d

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def connect_dask(address: str | None, timeout: float = DEFAULT_CONNECT_TIMEOUT):
    """A ``distributed.Client`` connected to ``address``; :class:`ExecutorError` when that is impossible."""
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError([f"--scheduler: dask.distributed is not installed (allowed: install the optional extra: {DASK_EXTRA_HINT})"]) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ExecutorError([f"--scheduler: cannot reach a Dask scheduler at {address!r} within {timeout:g} s "
                             f"(allowed: the address of a running scheduler, e.g. tcp://127.0.0.1:8786): {type(e).__name__}"]) from None
    except ValueError as e:
        raise ExecutorError([f"--scheduler: {address!r} is not a scheduler address (allowed: e.g. tcp://host:8786): {e}"]) from None


def make_executor(workers: int | None = 1, scheduler: str | None = None) -> _Base:
    """The executor for ``--workers`` / ``--scheduler``.

    ``scheduler`` (a Dask address) wins over ``workers``; ``workers`` of 1 (or
    ``None``) runs serially; ``workers`` of 0 means one process per CPU.
    """
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if workers is None:
        workers = 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ExecutorError([f"--workers: {workers!r} is not allowed (allowed: a whole number >= 0; 0 = one per CPU)"])
    if workers == 0:
        workers = os.cpu_count() or 1
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)


__all__ = ["ExecutorError", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "connect_dask", "make_executor"]
