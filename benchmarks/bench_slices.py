"""Per-slice solve paths measured side by side on the same sequence of slices, and a full run.

    python benchmarks/bench_slices.py                 # slice paths only (about a minute)
    python benchmarks/bench_slices.py --full          # plus 1000 x 365 with 2 workers

The sequence: the slices of the first scenarios of the bundled case, every day on which the
LP data change (the days the simulation actually solves). Paths:

1. bare highspy: one Highs, changeColsBounds / changeColsCost / changeRowBounds / run /
   getSolution, nothing else;
2. fast path: resiliopt.formulations.slice_compiled.CompiledSlice (update + solve);
3. persistent Pyomo: update_slice_model + Pyomo's persistent HiGHS interface;
4. rebuild: build_slice_model + a fresh Pyomo solve each slice.

Timings are interleaved in rounds (each round runs every path on the same slices) so that
load on this shared machine affects all paths alike; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time

import highspy
import numpy as np

from resiliopt.case import load_case
from resiliopt.formulations.slice_lp import build_slice_model, update_slice_model
from resiliopt.simulation.engine import compiled_for
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario
from resiliopt.solvers.highs import new_highs


def slice_sequence(cm, n_scenarios: int, days: int):
    """(capacity, demand, gain, TR) of each slice whose data change, from real recoveries."""
    lp = compiled_for(cm)
    seq = []
    for i in range(n_scenarios):
        st = RecoveryState(cm, sample_scenario(cm, 1, i))
        lp.reset()
        last = None
        for _ in range(days):
            d, c, g = st.demand(), st.arc_capacity(), st.gains()
            if d.sum() == 0:
                break
            if last is None or not (np.array_equal(d, last[0]) and np.array_equal(g, last[2])):
                seq.append((c, d, g, st.total_resources()))
                last = (d, c, g)
            lp.update(c, d, g, st.total_resources())
            _, _, y = lp.solve()
            st.advance(np.minimum(np.maximum(y, 0), d))
    return seq


def run_bare(lp_matrix, seq, flow_cols, deliv_cols, tr_row):
    h = new_highs(lp_matrix)
    cols = np.r_[flow_cols, deliv_cols].astype(np.int32)
    lower = np.zeros(len(cols))
    inf = highspy.kHighsInf
    t = time.perf_counter()
    objs = []
    for c, d, g, tr in seq:
        h.changeColsBounds(len(cols), cols, lower, np.concatenate([c, d]))
        h.changeColsCost(len(deliv_cols), deliv_cols, g)
        h.changeRowBounds(tr_row, -inf, tr)
        h.run()
        np.asarray(h.getSolution().col_value)
        objs.append(h.getInfo().objective_function_value)
    return time.perf_counter() - t, objs


def run_fast(fast, seq):
    t = time.perf_counter()
    objs = []
    for c, d, g, tr in seq:
        fast.update(c, d, g, tr)
        objs.append(fast.solve()[0])
    return time.perf_counter() - t, objs


def run_pyomo_persistent(model, seq, n):
    from pyomo.contrib.solver.common.factory import SolverFactory

    opt = SolverFactory("highs")
    t = time.perf_counter()
    objs = []
    for c, d, g, tr in seq[:n]:
        update_slice_model(model, capacity=c, demand=d, gain=g, total_resources=tr)
        r = opt.solve(model, solver_options={"threads": 1})
        objs.append(r.incumbent_objective)
    return time.perf_counter() - t, objs


def run_rebuild(data, seq, n):
    from pyomo.contrib.solver.common.factory import SolverFactory

    t = time.perf_counter()
    objs = []
    for c, d, g, tr in seq[:n]:
        data.arcs["capacity"] = c
        data.groups["capacity"] = d
        data.groups["gain"] = g
        data.total_resources = tr
        m = build_slice_model(data)
        objs.append(SolverFactory("highs").solve(m, solver_options={"threads": 1}).incumbent_objective)
    return time.perf_counter() - t, objs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pyomo-slices", type=int, default=150, help="slices for the slow Pyomo paths")
    ap.add_argument("--full", action="store_true", help="also time 1000 x 365 with 2 workers")
    a = ap.parse_args()

    cm = case_model(load_case("beijing"))
    seq = slice_sequence(cm, a.scenarios, 365)
    fast = compiled_for(cm)
    data = RecoveryState(cm, sample_scenario(cm, 1, 0)).slice_data(only_active=False)
    model = build_slice_model(data)
    n_py = min(a.pyomo_slices, len(seq))
    print(
        f"{platform.node()} | {platform.machine()} | Python {platform.python_version()}"
        f" | HiGHS {highspy.Highs().version()}"
    )
    print(
        f"LP: {fast.lp.shape[0]} rows x {fast.lp.shape[1]} columns; {len(seq)} slices "
        f"from {a.scenarios} scenarios; Pyomo paths on the first {n_py}"
    )
    times = {"bare": [], "fast": [], "pyomo": [], "rebuild": []}
    for _ in range(a.rounds):
        fast.reset()
        tb, ob = run_bare(fast.lp, seq, fast.flow_cols, fast.delivery_cols, fast.tr_row)
        tf, of = run_fast(fast, seq)
        tp, op = run_pyomo_persistent(model, seq, n_py)
        tr_, orb = run_rebuild(data, seq, n_py)
        assert np.allclose(ob, of, rtol=1e-7, atol=1e-9) and np.allclose(op, orb, rtol=1e-6, atol=1e-9)
        assert np.allclose(ob[:n_py], op, rtol=1e-6, atol=1e-8)
        times["bare"].append(tb / len(seq))
        times["fast"].append(tf / len(seq))
        times["pyomo"].append(tp / n_py)
        times["rebuild"].append(tr_ / n_py)
    best = {k: min(v) * 1e3 for k, v in times.items()}
    print(f"{'path':<22}{'ms/slice (best of ' + str(a.rounds) + ')':>26}{'x bare':>10}")
    for k, label in (
        ("bare", "bare highspy loop"),
        ("fast", "fast path"),
        ("pyomo", "persistent Pyomo"),
        ("rebuild", "rebuild Pyomo"),
    ):
        print(f"{label:<22}{best[k]:>26.3f}{best[k] / best['bare']:>10.2f}")

    if a.full:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "resiliopt.cli",
                "simulate",
                "beijing",
                "--scenarios",
                "1000",
                "--days",
                "365",
                "--seed",
                "1",
                "--workers",
                "2",
                "--out",
                f"{tmp}/run",
                "--no-progress",
                "--no-plots",
            ]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"1000 scenarios x 365 days, 2 workers: {wall:.1f} s wall; "
            f"peak RSS of the largest process {peak:.0f} MiB"
        )


if __name__ == "__main__":
    main()
