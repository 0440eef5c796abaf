"""Every Monte Carlo on a Dask cluster whose workers cannot see the client's files.

A real ``dask scheduler`` and two ``dask worker`` processes are started as separate
processes; each worker runs in its own mount namespace (``unshare -m --propagation private``)
in which the client's folder (the test's folder holding the private copies of the cases and
every ``--out``) is covered by an empty tmpfs: a worker has the installed package but cannot
see one file of the client. The test first checks exactly that (``os.path.exists`` of the
private case, run on every worker, is False), then runs ``simulate`` (beijing),
``infra simulate`` (shelby-indp, ``--reading published``) and ``emergency evaluate``
(shelby-extended and its event file) on the private copies with ``--scheduler tcp://...`` and
compares their tables with a local ``--workers 1`` run: identical (the INDP records without
their ``seconds`` column, a timing). The runs are small: the module took 65 s at a load of 10
on 2 cores.

How it decides it can do this: the namespace and the tmpfs need root (CI runs as root). The
fixture first runs ``unshare -m --propagation private sh -c 'mount -t tmpfs none DIR'``; if
that fails, every test here FAILS with the reason, unless the environment variable
``RESILIOPT_NO_NAMESPACE_TEST`` holds a reason to skip, in which case they are skipped with
that reason (shown by ``pytest -rs``): never a silent skip.

It also checks that a worker that cannot load what it was sent reports a worker error naming
its address (exit 1, one line), not the user's bad path (exit 2).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import operator
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from resiliopt import _parallel
from resiliopt._parallel import WorkerError, run_jobs
from resiliopt.case import bundled_data_dir
from resiliopt.cli import main

DASK = Path(sys.executable).with_name("dask")
SKIP_VAR = "RESILIOPT_NO_NAMESPACE_TEST"
EVENT = Path("events") / "synthetic-m7" / "event.yaml"


def _namespace_problem(probe: Path) -> str | None:
    """Why a worker cannot be hidden from ``probe`` here (None: it can)."""
    if not DASK.exists():
        return f"the dask command is not installed beside {sys.executable}"
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is not installed"
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", f"mount -t tmpfs none '{probe}'"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{' '.join(cmd)} failed: {exc}"
    if r.returncode != 0:
        return (
            f"{' '.join(cmd)} exited {r.returncode} ({r.stderr.strip() or 'no message'}); "
            f"it needs root (uid here: {os.geteuid()})"
        )
    return None


def _stop(procs: list[subprocess.Popen]) -> None:
    """The workers are killed (no nanny: no child left; a SIGTERM'd worker can hang 20 s in its
    close), then the scheduler is stopped."""
    scheduler, *workers = procs
    for p in workers:
        p.kill()
    scheduler.terminate()
    for p in [*workers, scheduler]:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def hidden(tmp_path_factory):
    """``(scheduler address, client folder)``: a worker that cannot see the client folder."""
    client = tmp_path_factory.mktemp("client")
    problem = _namespace_problem(client)
    if problem is not None:
        if os.environ.get(SKIP_VAR):
            pytest.skip(f"{SKIP_VAR}={os.environ[SKIP_VAR]!r}: {problem}")
        pytest.fail(
            f"cannot start a Dask worker that does not see the client's files: {problem}. "
            f"Run as root with unshare, or set {SKIP_VAR}=<reason> to skip this test explicitly."
        )
    for name in ("beijing", "infra/shelby-indp", "infra/shelby-extended"):
        shutil.copytree(bundled_data_dir() / name, client / Path(name).name)
    home = tmp_path_factory.mktemp("cluster")
    sfile = home / "scheduler.json"
    logs = [open(home / f"{n}.log", "w") for n in ("scheduler", "worker")]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(sfile)],
            cwd=home,
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        deadline = time.time() + 60
        while not sfile.exists() and time.time() < deadline:
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        for k in range(2):  # two worker processes (no nanny: nothing to orphan), each hidden
            (home / f"worker{k}").mkdir()
            worker = (
                f"mount -t tmpfs none '{client}' && cd / && exec '{DASK}' worker {address} --no-nanny "
                f"--nthreads 1 --no-dashboard --local-directory '{home / f'worker{k}'}'"
            )
            procs.append(
                subprocess.Popen(
                    ["unshare", "-m", "--propagation", "private", "sh", "-c", worker],
                    cwd=home,
                    stdout=logs[1],
                    stderr=subprocess.STDOUT,
                )
            )
        from dask.distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=90)
        yield address, client
    finally:
        _stop(procs)
        for f in logs:
            f.close()


def cli(*args) -> int:
    return main([str(a) for a in args])


def test_the_worker_cannot_see_the_client_files(hidden):
    address, client = hidden
    from dask.distributed import Client

    case = client / "shelby-indp" / "case.yaml"
    assert case.exists()
    with Client(address, timeout="30s") as c:
        seen = c.run(os.path.exists, str(case))  # on every worker process
        listing = c.run(os.listdir, str(client))
    assert len(seen) == 2 and not any(seen.values()), seen
    assert all(v == [] for v in listing.values()), listing  # the client's folder: an empty tmpfs


def test_simulate_on_hidden_workers(hidden):
    address, client = hidden
    args = ["simulate", client / "beijing", "--scenarios", 21, "--days", 20, "--seed", 5, "--no-plots"]
    assert cli(*args, "--scheduler", address, "--out", client / "sim-dask") == 0
    assert cli(*args, "--workers", 1, "--out", client / "sim-local") == 0
    for name in ("slices.parquet", "scenarios.parquet"):
        a, b = (pd.read_parquet(client / d / name) for d in ("sim-dask", "sim-local"))
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_infra_simulate_on_hidden_workers(hidden):
    address, client = hidden
    args = ["infra", "simulate", client / "shelby-indp", "--simulations", 2, "--reading", "published"]
    args += ["--no-plots"]
    args += ["--v", "2,3"]  # chunks of 25 simulations: two values of v make two tasks
    assert cli(*args, "--scheduler", address, "--out", client / "indp-dask") == 0
    assert cli(*args, "--workers", 1, "--out", client / "indp-local") == 0
    a, b = (pd.read_parquet(client / d / "records.parquet") for d in ("indp-dask", "indp-local"))
    assert len(a) >= 6
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"), check_exact=True)
    a, b = (pd.read_csv(client / d / "summary.csv") for d in ("indp-dask", "indp-local"))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_emergency_evaluate_on_hidden_workers(hidden):
    address, client = hidden
    case = client / "shelby-extended"
    args = ["emergency", "evaluate", case, "--event", case / EVENT, "--events", 2]
    args += ["--policies", "closed,population", "--max-periods", 2, "--horizon", 1, "--bootstrap", 100]
    assert cli(*args, "--scheduler", address, "--out", client / "ev-dask") == 0
    assert cli(*args, "--workers", 1, "--out", client / "ev-local") == 0
    for name in ("events.csv", "runs.csv", "comparison.csv"):
        a, b = (pd.read_csv(client / d / name) for d in ("ev-dask", "ev-local"))
        assert len(a)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    a, b = (
        pd.read_parquet(client / d / "parts" / "periods-0000000-0000002.parquet")
        for d in ("ev-dask", "ev-local")
    )
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_worker_that_cannot_load_the_case_is_a_worker_error(hidden, monkeypatch, capsys):
    """The client stamps the payload with another resiliopt version: the worker refuses it,
    and the command says which worker failed (exit 1, one line), not that the case is bad."""
    address, client = hidden
    monkeypatch.setattr(_parallel, "__version__", "0.0.0+another")
    out = client / "indp-refused"
    code = cli(
        "infra", "simulate", client / "shelby-indp", "--simulations", 1, "--no-plots",
        "--scheduler", address, "--out", out,
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    errors = [line for line in err.splitlines() if not line.startswith("simulations ")]  # progress bar
    assert len(errors) == 1 and errors[0].startswith("error: "), err
    assert "worker tcp://127.0.0.1:" in err and "could not load the case shelby-indp" in err, err
    assert "runs resiliopt" in err and "0.0.0+another" in err, err


class _NeedsAModule:
    """Pickles as an import of a module that no process has: it fails where it is loaded."""

    def __reduce__(self):
        return importlib.import_module, ("resiliopt_plugin_that_no_worker_has",)


def test_unloadable_payload_names_the_worker(hidden):
    from dask.distributed import Client

    address, _ = hidden
    with Client(address, timeout="30s") as c, pytest.raises(WorkerError) as err:
        list(run_jobs(operator.getitem, (1, _NeedsAModule()), [1, 2], 2, c, "the poisoned data"))
    msg = str(err.value)
    assert msg.startswith("worker tcp://127.0.0.1:") and "could not load the poisoned data" in msg
    assert "ModuleNotFoundError" in msg and "\n" not in msg


def test_unloadable_payload_names_the_local_process():
    """The same error from local worker processes (no cluster needed)."""
    with pytest.raises(WorkerError, match=r"^worker local process \d+ could not load the poisoned"):
        with contextlib.closing(
            run_jobs(operator.getitem, (1, _NeedsAModule()), [1, 2], 2, None, "the poisoned data")
        ) as r:
            list(r)
    here = run_jobs(operator.getitem, (10, 20), [1, 0], 1)  # one worker: this process, nothing to load
    assert list(here) == [20, 10]
