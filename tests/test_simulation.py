"""Monte Carlo: reproducible whatever the executor, resumable after kill -9, sane recovery."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from resiliopt.case import load_case
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.montecarlo import simulate
from resiliopt.simulation.runfiles import CHUNK
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario

N, DAYS = 2 * CHUNK + 5, 40


def tables(out):
    return pd.read_parquet(out / "slices.parquet"), pd.read_parquet(out / "scenarios.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    simulate("beijing", N, 11, DAYS, out, workers=1, plots=False)
    return out


def test_two_workers_identical(reference, tmp_path):
    simulate("beijing", N, 11, DAYS, tmp_path / "w2", workers=2, plots=False)
    for a, b in zip(tables(reference), tables(tmp_path / "w2"), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_dask_local_cluster_identical(reference, tmp_path):
    simulate("beijing", N, 11, DAYS, tmp_path / "dask", workers=2, scheduler="local", plots=False)
    for a, b in zip(tables(reference), tables(tmp_path / "dask"), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_other_seed_differs(reference, tmp_path):
    simulate("beijing", CHUNK, 12, DAYS, tmp_path / "s12", workers=1, plots=False)
    a = tables(reference)[1].head(CHUNK)
    b = tables(tmp_path / "s12")[1]
    assert not np.allclose(a["fc0"], b["fc0"])


def test_resume_after_kill_9(reference, tmp_path):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "resiliopt.cli",
        "simulate",
        "beijing",
        "--scenarios",
        str(N),
        "--seed",
        "11",
        "--days",
        str(DAYS),
        "--out",
        str(out),
        "--workers",
        "1",
        "--no-progress",
        "--no-plots",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "scenarios.parquet").glob("part-*.parquet")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((out / "scenarios.parquet").glob("part-*.parquet")))
    assert 1 <= done_before < 3, "the kill should land mid-run"
    assert not (out / "summary.json").exists()
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for a, b in zip(tables(reference), tables(out), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert sorted(tables(out)[1]["scenario"]) == list(range(N))  # none lost, none twice


def test_resume_refuses_other_arguments(reference, run_cli):
    code, _, err = run_cli(
        "simulate",
        "beijing",
        "--scenarios",
        N,
        "--seed",
        99,
        "--days",
        DAYS,
        "--out",
        reference,
        "--no-progress",
    )
    assert code == 2 and "seed" in err


def test_bad_arguments(run_cli, tmp_path):
    for args, needle in (
        (["--scenarios", 0], "scenarios"),
        (["--days", 0], "days"),
        (["--variant", "nope"], "unknown variant"),
        (["--scheduler", "bogus"], "--scheduler"),
    ):
        code, _, err = run_cli("simulate", "beijing", "--out", tmp_path / "x", "--no-progress", *args)
        assert code == 2 and needle in err, err
        assert not (tmp_path / "x").exists()  # nothing written


def test_recovery_properties():
    """F_C never decreases, deliveries never exceed TR or demand, r in [0, 1], work conserved."""
    cm = case_model(load_case("beijing"))
    lp = compiled_for(cm)
    for i in range(4):
        cols, summary, st = run_scenario(cm, 5, i, 200, lp)
        assert np.all(np.diff(cols["fc"]) >= -1e-12)
        assert np.all(cols["delivered"] <= 300 + 1e-6)
        assert np.all(cols["delivered"] <= cols["demand"] + 1e-6)
        assert np.all((cols["supply_rate"] >= -1e-9) & (cols["supply_rate"] <= 1 + 1e-9))
        st0 = RecoveryState(cm, sample_scenario(cm, 5, i))
        finite = np.isfinite(st0.work_total)
        assert np.isclose(cols["delivered"].sum(), (st0.work_total[finite] - st.work_left[finite]).sum())
        assert summary["fc0"] == pytest.approx(st0.functionality())


def test_damage_shares_match_fragility():
    """Over many scenarios, the unsafe share of a category matches the lognormal exceedance."""
    from resiliopt.hazard import exceedance

    case = load_case("beijing")
    cm = case_model(case)
    b = case.buildings
    states = np.array([sample_scenario(cm, 0, i).group_state for i in range(400)])
    for ci, cat in enumerate(b.categories):
        mask = cm.g_cat == ci
        w = cm.g_count[mask] / cm.g_count[mask].sum()
        share = ((states[:, mask] >= 2) * w).sum(axis=1).mean()
        expect = exceedance(cat.a, 0.25, b.b, b.zeta, b.thresholds.moderate)
        assert share == pytest.approx(expect, abs=0.03), cat.id


def test_monthly_slices(tmp_path):
    """slice_days = 30: capacities, demand and TR scale to the slice; days step by 30."""
    import shutil

    import yaml

    from resiliopt.case import bundled_data_dir

    dst = tmp_path / "monthly"
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    d = yaml.safe_load((dst / "case.yaml").read_text())
    d["recovery"]["slice_days"] = 30
    (dst / "case.yaml").write_text(yaml.safe_dump(d))
    daily = case_model(load_case("beijing"))
    monthly = case_model(load_case(dst))
    sd, sm = (RecoveryState(cm, sample_scenario(cm, 2, 0)) for cm in (daily, monthly))
    assert np.allclose(sm.arc_capacity(), 30 * sd.arc_capacity())
    assert np.allclose(sm.demand(), 30 * sd.demand()) and sm.total_resources() == 30 * sd.total_resources()
    assert np.allclose(sm.work_total, sd.work_total)  # the work itself does not depend on the slice
    cols, summary, _ = run_scenario(monthly, 2, 0, 365, compiled_for(monthly))
    assert list(cols["day"][:3]) == [0, 30, 60]
    assert np.all(cols["delivered"] <= 30 * 300 + 1e-6)
    assert summary["days_to_threshold"] % 30 == 0
