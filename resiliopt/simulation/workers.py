"""Who runs the chunks of a Monte Carlo: this process, local worker processes, or Dask workers.

Reproducibility. Scenario ``i`` of a run with seed ``s`` draws its damage from
``SeedSequence([s, i])`` and starts from a cold HiGHS basis, so its numbers depend on
``(s, i)`` alone, never on which worker ran it or what that worker ran before.

Each worker builds the case model and its compiled LP once (one warm HiGHS per process) and
returns each chunk's per-day sketch (:mod:`resiliopt.simulation.stats`) to the client. Local
workers write their chunk files themselves (same disk); Dask workers get the loaded case
scattered once and return the chunk's tables, which the client writes: no worker needs the
case files or the client's ``--out``.

Interrupts. SIGINT (Ctrl-C) or SIGTERM stops the workers at once (they are terminated; only
whole chunk files stay).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt.case import CaseData
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.load import case_extension
from resiliopt.simulation.runfiles import write_part
from resiliopt.simulation.scenario import case_model
from resiliopt.simulation.stats import chunk_stats

_WORKER_CACHE: dict = {}
_LOCAL: dict = {}


def worker_state(case: CaseData, variant: str | None, key: str):
    """Case model and compiled LP, built once per process (one warm HiGHS per worker)."""
    if key not in _WORKER_CACHE:
        cm = case_model(case, variant, case_extension(case))
        _WORKER_CACHE.clear()
        _WORKER_CACHE[key] = (cm, compiled_for(cm))
    return _WORKER_CACHE[key]


def run_chunk(cm, lp, seed: int, days: int, start: int, stop: int):
    """Run scenarios ``start..stop-1``; returns (slices, scenarios) DataFrames."""
    parts, summaries = [], []
    for i in range(start, stop):
        cols, summary, _ = run_scenario(cm, seed, i, days, lp)
        parts.append(cols)
        summaries.append(summary)
    sl = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    for k in ("scenario", "day", "unrepaired"):
        sl[k] = sl[k].astype(np.int64)
    return sl, pd.DataFrame(summaries)


def _init_local_worker(case: CaseData, variant: str | None, key: str) -> None:
    """Pool initializer: the parent alone handles Ctrl-C; the case arrives pickled, loaded once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _LOCAL["args"] = (case, variant, key)


def _local_job(args) -> tuple[int, int, dict]:
    """A local worker's chunk: it writes the chunk files itself (same disk) and returns the sketch."""
    seed, days, start, stop, out = args
    cm, lp = worker_state(*_LOCAL["args"])
    sl, sc = run_chunk(cm, lp, seed, days, start, stop)
    write_part(Path(out), start, sl, sc)
    return start, stop, chunk_stats(sl, sc, cm.slice_days)


def _dask_job(case: CaseData, variant: str | None, key: str, seed: int, days: int, start: int, stop: int):
    """A Dask worker's chunk: tables and sketch go back to the client (no shared disk)."""
    cm, lp = worker_state(case, variant, key)
    sl, sc = run_chunk(cm, lp, seed, days, start, stop)
    return start, stop, chunk_stats(sl, sc, cm.slice_days), sl, sc


def execute(todo, data, variant, key, seed, days, out, workers, client) -> Iterable[tuple[int, int, dict]]:
    """Run the chunks ``todo``; yields ``(start, stop, sketch)`` as each chunk's files are written."""
    if not todo:
        return
    if client is not None:
        from dask.distributed import as_completed  # imported here: a run without Dask skips it (0.25 s)

        shared = client.scatter(data, broadcast=True)
        futures = [
            client.submit(_dask_job, shared, variant, key, seed, days, a, b, pure=False) for a, b in todo
        ]
        try:
            for f in as_completed(futures):
                a, b, part, sl, sc = f.result()
                write_part(out, a, sl, sc)  # the client writes: workers need no access to --out
                del sl, sc
                yield a, b, part
        except BaseException:
            client.cancel(futures)
            raise
    elif workers == 1:
        _LOCAL["args"] = (data, variant, key)
        for a, b in todo:
            yield _local_job((seed, days, a, b, str(out)))
    else:
        jobs = [(seed, days, a, b, str(out)) for a, b in todo]
        ctx = mp.get_context("spawn")
        pool = ctx.Pool(
            min(workers, len(jobs)), initializer=_init_local_worker, initargs=(data, variant, key)
        )
        try:
            yield from pool.imap_unordered(_local_job, jobs)
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
