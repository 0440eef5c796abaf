"""The parallel client of every Monte Carlo: a Dask scheduler (an address, or ``local``).

Processes on one machine use :mod:`concurrent.futures` in each Monte Carlo; beyond one machine
a Dask client is connected here, before any output is written, so a bad address is an input
error of ``--scheduler`` and not a half-written run.
"""

from __future__ import annotations

from resiliopt.errors import InputError


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
