"""City-size slices and Monte Carlo: today's HiGHS path and the network route, side by side.

    python benchmarks/bench_city.py                                  # 1k and 10k nodes, helsinki
    python benchmarks/bench_city.py --sizes 1000,10000,50000         # long (50k HiGHS: a minute)

For each size: a jittered grid city in OSMnx's GraphML conventions
(resiliopt.roads.synthetic.grid_city: about 4 directed arcs per node, 1 % bridge streets) is
written as GraphML and imported (resiliopt.roads.graphml, one building share every 12th
node, so about as many groups as nodes); then the bundled cases named by ``--cases``.

**One slice, in this process, both paths on the same data** (the case loaded once): the
day-0 slice (``load_slice``), solved and checked by ``solve_slice(method="highs")`` (HiGHS:
interior point with crossover from 20,000 columns, dual simplex below; the path before the
network route) and by ``solve_slice(method="auto")`` (the network route from 10,000 arcs,
resiliopt.formulations.slice_network), each with both certificates and networkx where it
applies, and its JSON (``to_dict`` + ``json.dumps``, what ``slice --json`` prints). Columns:
load, then per path the solve (everything inside ``solve_slice``: matrix, solver, tables,
certificates) and the JSON, their sum with the load, and the ratio of the sums. The objectives
of both paths are compared (relative difference printed).

**Monte Carlo engine, in this process**: ``--engine-scenarios`` scenarios x 365 days by
``run_scenario`` with today's CompiledSlice (warm HiGHS) and with ``compiled_for`` (the
NetworkSlice from 10,000 arcs), ms per scenario, ratio, LPs per scenario, and whether the
tables agree (max abs difference over all columns; where equal gains tie, plans may differ).

**End to end** (new path only, new processes): ``resiliopt slice CASE --json`` and, with
``--mc-scenarios``, ``resiliopt simulate CASE --scenarios N --days 365`` on ``--workers``
(wall / scenarios, start-up included).

The machine's load average is printed at the start and the end: compare only numbers taken
side by side in one run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as every resiliopt command (resiliopt/__init__.py)

import argparse  # noqa: E402 (after the BLAS setting, which must precede numpy)
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import highspy
import networkx as nx
import numpy as np
import scipy.sparse.csgraph  # noqa: F401  imported before timing: neither path pays for it


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def one_slice(case: str) -> dict:
    """Load the day-0 slice once; solve, check and print it as JSON by each path."""
    from resiliopt.logistics import load_slice, solve_slice

    t = time.perf_counter()
    data = load_slice(case, seed=1)
    out = {"load": time.perf_counter() - t, "arcs": len(data.arcs), "groups": len(data.groups)}
    for name, method in (("old", "highs"), ("new", "auto")):
        t = time.perf_counter()
        res = solve_slice(data, method=method)
        t1 = time.perf_counter()
        json.dumps(res.to_dict())
        t2 = time.perf_counter()
        if not res.passed:
            raise RuntimeError(f"{case}: {name} path not proven: {res.problems}")
        out[name] = {"solve": t1 - t, "json": t2 - t1, "obj": res.objective, "solver": res.solution.solver}
        out[name]["total"] = out["load"] + t2 - t
    out["rel"] = abs(out["new"]["obj"] - out["old"]["obj"]) / max(abs(out["old"]["obj"]), 1e-300)
    return out


def engine(case: str, scenarios: int) -> dict:
    """ms per scenario of the Monte Carlo engine, today's CompiledSlice against compiled_for."""
    from resiliopt.case import load_case
    from resiliopt.formulations.slice_compiled import CompiledSlice
    from resiliopt.simulation.engine import compiled_for, run_scenario
    from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario

    cm = case_model(load_case(case))
    data = RecoveryState(cm, sample_scenario(cm, 0, 0)).slice_data(only_active=False)
    out, tables = {}, {}
    for name, lp in (("old", CompiledSlice(data)), ("new", compiled_for(cm))):
        t = time.perf_counter()
        tables[name] = [run_scenario(cm, 1, i, 365, lp)[0] for i in range(scenarios)]
        out[name] = 1e3 * (time.perf_counter() - t) / scenarios
        out[f"{name}_lps"] = lp.solves / scenarios
        out[f"{name}_kind"] = type(lp).__name__
    out["diff"] = max(
        float(np.max(np.abs(a[k] - b[k]), initial=0.0))
        for a, b in zip(tables["old"], tables["new"], strict=True)
        for k in a
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--cases", default="helsinki", help="bundled cases, comma-separated ('' for none)")
    ap.add_argument("--engine-scenarios", type=int, default=2, help="scenarios per path in this process")
    ap.add_argument("--engine-max", type=int, default=10000, help="no engine run above this many nodes")
    ap.add_argument("--mc-scenarios", type=int, default=0, help="`resiliopt simulate` (new path); 0: none")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cli", type=int, default=1, help="`resiliopt slice --json` runs per case (median)")
    a = ap.parse_args()
    from resiliopt.roads.graphml import case_from_graphml
    from resiliopt.roads.synthetic import grid_city

    load0 = os.getloadavg()
    print(
        f"{platform.node()} | {os.cpu_count()} cores | load {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f} | "
        f"Python {platform.python_version()} | HiGHS {highspy.Highs().version()} | "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} | "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )
    cli = [sys.executable, "-m", "resiliopt.cli"]
    head = (
        f"| {'case':>9} | {'arcs':>6} | {'groups':>6} | {'load s':>6} | {'HiGHS solve+chk s':>17} | "
        f"{'JSON s':>6} | {'today s':>7} | {'network solve+chk s':>19} | {'JSON s':>6} | {'new s':>6} | "
        f"{'ratio':>5} | {'obj rel diff':>12} | {'engine ms/scen today':>20} | {'new':>6} | "
        f"{'ratio':>5} | {'LPs/scen':>8} | {'table diff':>10} | {'slice CLI s':>11} | {'MC ms/scen':>10} |"
    )
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|", flush=True)

    def row(name: str, case: str, nodes: int | None) -> None:
        s = one_slice(case)
        e = {}
        if a.engine_scenarios and (nodes is None or nodes <= a.engine_max):
            e = engine(case, a.engine_scenarios)
        runs = sorted(timed([*cli, "slice", case, "--json"]) for _ in range(a.cli)) if a.cli else []
        mc = ""
        if a.mc_scenarios:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [*cli, "simulate", case, "--scenarios", str(a.mc_scenarios), "--days", "365"]
                cmd += ["--workers", str(a.workers), "--out", str(Path(tmp) / "mc"), "--no-progress"]
                mc = f"{1e3 * timed([*cmd, '--no-plots']) / a.mc_scenarios:.0f}"
        o, n = s["old"], s["new"]
        eng = (
            f"{e['old']:>20.0f} | {e['new']:>6.0f} | {e['old'] / e['new']:>5.2f} | {e['new_lps']:>8.1f} | "
            f"{e['diff']:>10.1e}"
            if e
            else f"{'':>20} | {'':>6} | {'':>5} | {'':>8} | {'':>10}"
        )
        print(
            f"| {name:>9} | {s['arcs']:>6} | {s['groups']:>6} | {s['load']:>6.2f} | {o['solve']:>17.2f} | "
            f"{o['json']:>6.2f} | {o['total']:>7.2f} | {n['solve']:>19.2f} | {n['json']:>6.2f} | "
            f"{n['total']:>6.2f} | {o['total'] / n['total']:>5.2f} | {s['rel']:>12.1e} | {eng} | "
            f"{(runs[len(runs) // 2] if runs else float('nan')):>11.2f} | {mc:>10} |",
            flush=True,
        )
        if e:
            print(f"    engine: today {e['old_kind']}, new {e['new_kind']}; new path solver: {n['solver']}")

    for n in [int(x) for x in a.sizes.split(",") if x]:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            nx.write_graphml(grid_city(n, seed=1), tmp / "city.graphml")
            case = case_from_graphml(tmp / "city.graphml", tmp / "case", share_every=12).parent
            row(f"grid {n // 1000}k", str(case), n)
    for c in [x for x in a.cases.split(",") if x]:
        row(c, c, None)
    load1 = os.getloadavg()
    print(
        f"load average at the end {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}. today: HiGHS (IPM + "
        f"crossover "
        f"from 20,000 columns, dual simplex below); new: the network route from 10,000 arcs (HiGHS below, "
        f"so small cases run the same path twice); ratio = today / new; engine: {a.engine_scenarios} "
        f"scenarios x 365 days per path in this process; slice CLI: `resiliopt slice CASE --json`, new "
        f"process, median of {a.cli}; MC: `resiliopt simulate` x {a.mc_scenarios} on {a.workers} workers"
    )


if __name__ == "__main__":
    main()
