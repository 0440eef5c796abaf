"""Dask without a shared disk: scheduler and workers are separate processes in other folders.

The workers never see the case files (deleted once the client has loaded them) nor the
client's --out: the case is scattered to them, the chunk tables come back to the client.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from resiliopt.case import bundled_data_dir
from resiliopt.simulation.montecarlo import CHUNK, simulate

N, DAYS = 2 * CHUNK + 3, 30
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture
def cluster(tmp_path):
    sched_dir, work_dir = tmp_path / "scheduler-home", tmp_path / "worker-home"
    sched_dir.mkdir()
    work_dir.mkdir()
    sfile = sched_dir / "scheduler.json"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(sfile)],
            cwd=sched_dir,
            **common,
        )
    ]
    try:
        deadline = time.time() + 60
        while not sfile.exists() and time.time() < deadline:
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [str(DASK), "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                cwd=work_dir,
                **common,
            )
        )
        from dask.distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")
def test_separate_dask_processes_no_shared_disk(tmp_path, cluster):
    case = tmp_path / "client" / "case"
    shutil.copytree(bundled_data_dir() / "beijing", case)
    deleted = []

    def progress(done, total):  # first called once the case is loaded, before any chunk runs
        if not deleted:
            shutil.rmtree(case)
            deleted.append(True)

    out = tmp_path / "client" / "dask-run"
    simulate(case, N, 5, DAYS, out, scheduler=cluster, progress=progress, plots=False)
    assert deleted and not case.exists()
    local = tmp_path / "local"
    simulate("beijing", N, 5, DAYS, local, workers=1, plots=False)
    for name in ("slices.parquet", "scenarios.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / name), pd.read_parquet(local / name), check_exact=True
        )
    a, b = (json.loads((d / "summary.json").read_text()) for d in (out, local))
    assert a["percentiles"] == b["percentiles"] and a["time_to_threshold"] == b["time_to_threshold"]
