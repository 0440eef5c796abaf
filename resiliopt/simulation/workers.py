"""Who runs the chunks of a Monte Carlo: this process, local worker processes, or Dask workers.

Reproducibility. Scenario ``i`` of a run with seed ``s`` draws its damage from
``SeedSequence([s, i])`` and starts from a cold HiGHS basis, so its numbers depend on
``(s, i)`` alone, never on which worker ran it or what that worker ran before.

Each worker builds the case model and its compiled LP once (one warm HiGHS per process) and
returns each chunk's per-day sketch (:mod:`resiliopt.simulation.stats`) to the client. The
chunks run through :func:`resiliopt._parallel.run_jobs`, the one mechanism of every Monte
Carlo: the loaded case is pickled once and loaded once per worker. Local workers write their
chunk files themselves (same disk); Dask workers return the chunk's tables, which the client
writes: no worker needs the case files or the client's ``--out``.

Interrupts. SIGINT (Ctrl-C) or SIGTERM stops the workers at once (they are terminated; only
whole chunk files stay).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._parallel import run_jobs, sigterm_as_interrupt
from resiliopt.case import CaseData
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.load import case_extension
from resiliopt.simulation.runfiles import write_part
from resiliopt.simulation.scenario import case_model
from resiliopt.simulation.stats import chunk_stats

__all__ = ["execute", "run_chunk", "sigterm_as_interrupt", "worker_state"]

_WORKER_CACHE: dict = {}


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


def _chunk(data: tuple, job: tuple):
    """One chunk on a worker; ``out``: a local worker writes the chunk files itself (same disk)
    and returns the sketch, a Dask worker (``out`` None) returns the tables too."""
    seed, days, start, stop, out = job
    cm, lp = worker_state(*data)
    sl, sc = run_chunk(cm, lp, seed, days, start, stop)
    if out is not None:
        write_part(Path(out), start, sl, sc)
        return start, stop, chunk_stats(sl, sc, cm.slice_days), None, None
    return start, stop, chunk_stats(sl, sc, cm.slice_days), sl, sc


def execute(todo, data, variant, key, seed, days, out, workers, client) -> Iterable[tuple[int, int, dict]]:
    """Run the chunks ``todo``; yields ``(start, stop, sketch)`` as each chunk's files are written."""
    dest = None if client is not None else str(out)  # Dask workers need no access to --out
    jobs = [(seed, days, a, b, dest) for a, b in todo]
    what = f"the case {getattr(data, 'name', '')}".rstrip()
    with contextlib.closing(run_jobs(_chunk, (data, variant, key), jobs, workers, client, what)) as results:
        for a, b, part, sl, sc in results:  # closed early: the workers are stopped
            if sl is not None:
                write_part(out, a, sl, sc)  # the client writes what a Dask worker sent back
            del sl, sc
            yield a, b, part
