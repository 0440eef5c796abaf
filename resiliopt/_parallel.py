"""The one way every Monte Carlo runs its chunks: here, on local processes, or on Dask workers.

``simulate`` (logistics), ``infra simulate`` (INDP) and ``emergency evaluate`` all call
:func:`run_jobs` with a module-level ``task(data, job)``, the run's ``data`` (what every worker
needs: the loaded case, the levels, ...) and one small ``job`` per chunk:

- ``workers == 1``: ``task(data, job)`` here, in order.
- local processes (``spawn``): ``data`` is pickled once by the client (:func:`pack`) and
  loaded once per process (:func:`unpack`); SIGINT and SIGTERM stop them at once.
- Dask (``--scheduler``): the same pickled payload is scattered to every worker once
  (``broadcast=True``) and loaded once per worker process; each task's result goes back to the
  client, which writes it. No worker opens a path of the client: the payload holds the parsed
  data, not file names, so a cluster without a shared disk gives the tables of a local run
  (``tests/test_no_shared_disk.py``).

A worker that cannot load the payload (another resiliopt version, a module it lacks, a broken
pickle) raises :class:`WorkerError` naming the worker's address: the client's paths were read
and checked by the client, so the user's input is not what is wrong (exit 1, not 2).

The Dask client itself is connected here (:func:`dask_client`), before any output is written,
so a bad address is an input error of ``--scheduler`` and not a half-written run.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from resiliopt import __version__
from resiliopt.errors import InputError, ResilioptError

Task = Callable[[Any, Any], Any]


class WorkerError(ResilioptError):
    """A worker could not load what the client sent it; the message names the worker (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class Payload:
    """What every worker of a run needs, pickled once by the client (data, never paths)."""

    blob: bytes
    token: str  # this payload's identity: a worker loads it once
    version: str  # the client's resiliopt
    what: str  # for messages, e.g. "the case shelby-indp"


def pack(data: Any, what: str = "the run's data") -> Payload:
    """``data`` pickled once, to be scattered or handed to local processes."""
    blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    return Payload(blob, uuid.uuid4().hex, __version__, what)


def worker_address() -> str:
    """The Dask worker's address, or ``local process PID`` outside Dask."""
    if "distributed" in sys.modules:  # only a Dask worker has imported it
        from distributed import get_worker  # imported here: already loaded in a worker, slow elsewhere

        with contextlib.suppress(ValueError):
            return str(get_worker().address)
    return f"local process {os.getpid()}"


_LOADED: dict[str, Any] = {}


def unpack(payload: Payload) -> Any:
    """The payload's data, loaded once per process; :class:`WorkerError` if it cannot be."""
    data = _LOADED.get(payload.token, _LOADED)  # the dict itself: not loaded yet
    if data is _LOADED:
        why = None
        if payload.version != __version__:
            why = f"it runs resiliopt {__version__}, the client {payload.version}"
        else:
            try:
                data = pickle.loads(payload.blob)
            except Exception as exc:  # whatever the cause, the worker failed, not the user's input
                why = f"{type(exc).__name__}: {exc}"
        if why is not None:
            raise WorkerError(
                f"worker {worker_address()} could not load {payload.what} sent by the client "
                f"({' '.join(why.split())})"
            )
        _LOADED.clear()  # one run's data at a time
        _LOADED[payload.token] = data
    return data


def _dask_call(task: Task, payload: Payload, job: Any) -> Any:
    return task(unpack(payload), job)


_POOL: dict = {}


def _init_pool(payload: Payload) -> None:
    """Pool initializer: the parent alone handles Ctrl-C; SIGTERM ends the process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _POOL["payload"] = payload


def _pool_call(item: tuple[Task, Any]) -> Any:
    task, job = item
    return task(unpack(_POOL["payload"]), job)


def run_jobs(
    task: Task, data: Any, jobs: Sequence, workers: int, client=None, what: str = "the run's data"
) -> Iterator:
    """``task(data, job)`` for every job; yields the results as they finish (any order).

    ``task`` must be a module-level function (it is pickled by name). ``client``: a Dask
    client (``data`` scattered once), else ``workers`` local processes (1: this one). Closing
    the generator early (an interrupt, an error) cancels the Dask futures or terminates the
    local processes."""
    if not jobs:
        return
    if client is not None:
        from dask.distributed import as_completed  # imported here: a run without Dask skips it (0.25 s)

        shared = client.scatter(pack(data, what), broadcast=True)
        futures = [client.submit(_dask_call, task, shared, job, pure=False) for job in jobs]
        try:
            for f in as_completed(futures):
                yield f.result()
        except BaseException as exc:
            client.cancel(futures)
            if isinstance(exc, RuntimeError) and "deserializ" in str(exc):  # dask's words
                why = " ".join(str(exc).split())
                raise WorkerError(
                    f"the Dask cluster at {client.scheduler.address} could not load the tasks "
                    f"sent by the client, most often because its packages differ from the client's ({why})"
                ) from None
            raise
    elif workers == 1:
        for job in jobs:
            yield task(data, job)
    else:
        ctx = mp.get_context("spawn")
        pool = ctx.Pool(min(workers, len(jobs)), initializer=_init_pool, initargs=(pack(data, what),))
        try:
            yield from pool.imap_unordered(_pool_call, [(task, job) for job in jobs])
            pool.close()
        except BaseException:
            pool.terminate()  # SIGTERM to every worker: stops within a moment, no orphan left
            raise
        finally:
            pool.join()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While running, SIGTERM is handled like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def dask_client(scheduler: str, workers: int):
    """Connect (or start a LocalCluster) before any output is written; bad addresses are input errors."""
    from dask.distributed import Client, LocalCluster  # imported here: dask is slow to import

    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="20s"), None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot reach the Dask scheduler: {exc}", location="--scheduler") from None
