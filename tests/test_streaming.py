"""Streamed results: chunk datasets, merged sketches, resume identity, interrupts."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from resiliopt.case import bundled_data_dir
from resiliopt.simulation.montecarlo import simulate
from resiliopt.simulation.runfiles import CHUNK, SCENARIOS_DIR
from resiliopt.simulation.stats import BINS, RunStats, chunk_stats

N, DAYS = 2 * CHUNK + 7, 120


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("stream") / "run"
    res = simulate("beijing", N, 4, DAYS, out, workers=1, plots=True)
    return out, res


def test_summary_matches_full_tables(run):
    """Per-day percentiles within the stated bound of pandas' exact ones; the rest exact."""
    out, res = run
    sl, sc = pd.read_parquet(out / "slices.parquet"), pd.read_parquet(out / "scenarios.parquet")
    assert len(sc) == N and len(sl) == N * DAYS and sl["scenario"].is_monotonic_increasing
    s = res.summary
    bound = s["percentile_error_bound"]
    assert 0 <= bound <= 0.5 / BINS
    for col in ("fc", "supply_rate"):
        q = sl.groupby("day")[col].quantile([0.1, 0.5, 0.9]).unstack()
        for qq, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
            np.testing.assert_allclose(s["percentiles"][col][name], q[qq], rtol=0, atol=bound + 1e-6)
    t = sc["days_to_threshold"].dropna()
    tt = s["time_to_threshold"]
    assert tt["reached_share"] == len(t) / N
    for q, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        assert tt[name] == t.quantile(q)  # exact: day values are counted
    assert sum(tt["histogram_days"].values()) == len(t)
    full = sc["days_to_full"].dropna()
    assert s["days_to_full_recovery_p50"] == (full.median() if len(full) else None)
    assert abs(s["fc0_p50"] - sc["fc0"].median()) <= s["fc0_p50_error_bound"] + 1e-12
    assert all((out / f"{p}.png").exists() for p in ("fc_fan", "supply_hist", "supply_fan"))


def test_merge_is_order_free(run):
    """Merging chunk sketches in any order gives the same sketch (sums, min, max)."""
    out, _ = run
    files = sorted((out / "slices.parquet").glob("part-*.parquet"))
    parts = [
        chunk_stats(pd.read_parquet(f), pd.read_parquet(out / SCENARIOS_DIR / f.name), 1) for f in files
    ]
    a, b = RunStats(DAYS), RunStats(DAYS)
    for p in parts:
        a.add(p)
    for p in reversed(parts):
        b.add(p)
    for m in ("fc", "supply_rate"):
        assert np.array_equal(a.count[m], b.count[m]) and a.count[m].sum() == N * DAYS
        assert np.array_equal(a.vmin[m], b.vmin[m]) and np.array_equal(a.vmax[m], b.vmax[m])
        assert np.array_equal(a.percentile(m, 0.5)[0], b.percentile(m, 0.5)[0])


def _copy_case(tmp_path):
    dst = tmp_path / "case"
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    return dst


def test_resume_refuses_changed_input(tmp_path, run_cli):
    case = _copy_case(tmp_path)
    args = ["simulate", case, "--scenarios", CHUNK, "--days", 5, "--out", tmp_path / "o", "--no-progress"]
    code, _, err = run_cli(*args, "--no-plots", "--workers", 1)
    assert code == 0, err
    params = json.loads((tmp_path / "o" / "run.json").read_text())
    assert set(params["inputs"]) >= {"case.yaml"} and params["resiliopt"]
    b = next(p for p in case.iterdir() if p.name.startswith("buildings"))
    b.write_text(b.read_text() + "\n# edited\n")
    code, _, err = run_cli(*args, "--no-plots", "--workers", 1)
    assert code == 2 and b.name in err and "changed" in err, err


def _session_pids(sid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover processes")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_workers_keeps_chunks(tmp_path, sig):
    """Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM to the parent:
    exit 130 within seconds, no process left, finished chunks kept, resume completes."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "resiliopt.cli", "simulate", "beijing", "--scenarios", "400"]
    cmd += ["--days", "365", "--seed", "2", "--workers", "2", "--out", str(out)]
    cmd += ["--no-progress", "--no-plots"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / SCENARIOS_DIR).glob("part-*.parquet")):
        time.sleep(0.05)
    t = time.time()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    stopped = time.time() - t
    time.sleep(0.3)
    left = _session_pids(proc.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert stopped < 10 and not left, (stopped, left)
    kept = list((out / SCENARIOS_DIR).glob("part-*.parquet"))
    assert 1 <= len(kept) < 20 and "resume" in err.decode()
    assert not list((out / "slices.parquet").glob(".*.tmp"))
    for f in kept:  # every kept chunk is whole
        assert len(pd.read_parquet(f)) == CHUNK


def test_compare_from_streamed_summaries(tmp_path, run_cli):
    code, out, err = run_cli(
        "compare", "beijing", "--variants", "none,buildings", "--scenarios", 6, "--days", 15,
        "--out", tmp_path / "cmp", "--workers", 1, "--json", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    rows = {r["variant"]: r for r in json.loads(out)}
    for v in ("none", "buildings"):
        s = json.loads((tmp_path / "cmp" / v / "summary.json").read_text())
        assert rows[v]["fc0_median"] == s["fc0_p50"]
        assert rows[v]["never_reached_share"] == pytest.approx(1 - s["time_to_threshold"]["reached_share"])
    assert rows["buildings"]["fc0_median"] > rows["none"]["fc0_median"]  # the retrofit helps at once
    assert (tmp_path / "cmp" / "comparison.csv").exists() and (tmp_path / "cmp" / "compare_fc.png").exists()
