"""The Monte Carlo at the cost of its LPs: engine time vs HiGHS time, serial part, memory.

    python benchmarks/bench_montecarlo.py                      # engine + one 1000 x 365 run
    python benchmarks/bench_montecarlo.py --engine 200 --runs 0  # engine only (quick)
    python benchmarks/bench_montecarlo.py --memory 1000,10000  # peak RSS at two run sizes
    python benchmarks/bench_montecarlo.py --efficiency 16 --scenarios 4000   # on a 16-core machine

Engine: N scenarios x 365 days in this process with the event-driven engine, on today's path
and on the path before issue 20 (``CompiledSlice.incremental = False``: every bound and cost
sent to HiGHS each solve, every recheck computed), interleaved in blocks of 10 scenarios, their
tables compared bit for bit; the old/new ratios of wall time, CPU time and time outside HiGHS
are printed. The time spent inside HiGHS calls (bounds, costs, run, solution: the bare highspy
floor of these LPs) is counted by CompiledSlice; the stepwise reference loop is timed on a
subset for comparison. The certification of reused optima (resiliopt/simulation/reuse.py) is
timed in the same blocks: off, the default sample, and every reused slice, so that a change
of load hits all modes alike; their tables must be bit-identical.

Runs: ``resiliopt simulate`` as a subprocess, alternately on the old path
(``RESILIOPT_LP_PATH=full``) and on the new one, ``--repeat`` pairs, best of each; wall time;
serial part (set-up before the first chunk is dispatched + summary and plots after the last
one, from summary.json); peak RSS of the largest process (parent or worker).

Efficiency: the same run with 1 worker and with W workers; efficiency = T1 / (W T_W).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import highspy
import numpy as np

from resiliopt.case import load_case
from resiliopt.simulation.engine import LP_PATH_ENV, compiled_for, run_scenario, run_scenario_stepwise
from resiliopt.simulation.reuse import REUSE_SAMPLE
from resiliopt.simulation.scenario import case_model

#: the reuse checks timed: off, the default sample, every reused slice
REUSE_MODES = {"off": None, f"sample {REUSE_SAMPLE:g} (default)": REUSE_SAMPLE, "every reused slice": 1.0}
DEFAULT = f"sample {REUSE_SAMPLE:g} (default)"
#: the path before issue 20 (CompiledSlice.incremental = False; RESILIOPT_LP_PATH=full for runs)
OLD = "old path"


def engine(n: int, ref: int, case: str) -> None:
    cm = case_model(load_case(case))
    lps = {True: compiled_for(cm), False: compiled_for(cm)}
    lps[True].incremental, lps[False].incremental = True, False
    modes = {name: (True, share) for name, share in REUSE_MODES.items()}
    modes[OLD] = (False, REUSE_SAMPLE)  # today's path before issue 20, with the default sample
    times = dict.fromkeys(modes, 0.0)
    cpu = dict.fromkeys(modes, 0.0)
    highs = dict.fromkeys(modes, 0.0)
    first: dict[int, dict] = {}
    solves = 0
    for block in range(0, n, 10):
        for name, (lean, share) in modes.items():
            lp = lps[lean]
            lp.highs_seconds, lp.solves = 0.0, 0
            t, c = time.perf_counter(), time.process_time()
            for i in range(block, min(block + 10, n)):
                cols = run_scenario(cm, 1, i, 365, lp, reuse_check=share)[0]
                if i not in first:
                    first[i] = cols
                elif not all(np.array_equal(cols[k], first[i][k]) for k in cols):
                    raise SystemExit(f"scenario {i}: the tables differ ({name})")
            times[name] += time.perf_counter() - t
            cpu[name] += time.process_time() - c
            highs[name] += lp.highs_seconds
            solves += lp.solves if name == "off" else 0
    total, hs = times[DEFAULT], highs[DEFAULT]
    t = time.perf_counter()
    for i in range(ref):
        run_scenario_stepwise(cm, 1, i, 365, lps[True])
    step = (time.perf_counter() - t) / max(ref, 1)
    print(f"engine, {n} scenarios x 365 days in one process ({case}):")
    print(
        f"  HiGHS calls      {hs:8.2f} s  ({solves / n:.1f} LPs per scenario, "
        f"{1e3 * hs / solves:.3f} ms each)"
    )
    print(
        f"  total            {total:8.2f} s  = {total / hs:.2f} x HiGHS; "
        f"{1e3 * total / n:.2f} ms per scenario"
    )
    old, old_hs = times[OLD], highs[OLD]
    print(
        f"  {OLD}: {old:.2f} s ({1e3 * old / n:.2f} ms per scenario, HiGHS {old_hs:.2f} s); "
        f"old/new {old / total:.2f} x wall, {cpu[OLD] / cpu[DEFAULT]:.2f} x CPU, outside HiGHS "
        f"{(old - old_hs) / (total - hs):.2f} x (same run, interleaved; tables bit-identical)"
    )
    print(
        f"  stepwise (ref.)  {1e3 * step:8.2f} ms per scenario on {ref} scenarios "
        f"({step * n / total:.1f} x slower)"
    )
    print("  certifying reused optima (same run, interleaved; tables bit-identical):")
    off = times["off"]
    for name in REUSE_MODES:
        secs = times[name]
        print(f"    {name:<26} {1e3 * secs / n:8.2f} ms per scenario  ({secs / off:.3f} x off)")


def run(scenarios: int, workers: int, case: str = "beijing", plots: bool = True, path: str = "lean") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "resiliopt.cli", "simulate", case, "--scenarios", str(scenarios)]
        cmd += [
            "--days",
            "365",
            "--seed",
            "1",
            "--workers",
            str(workers),
            "--out",
            f"{tmp}/run",
            "--no-progress",
        ]
        if not plots:
            cmd.append("--no-plots")
        # a fresh wrapper process: its RUSAGE_CHILDREN peak is the largest process of this run alone
        wrap = "import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True, "
        wrap += "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        wrap += "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        t = time.perf_counter()
        env = {**os.environ, LP_PATH_ENV: path}
        res = subprocess.run(
            [sys.executable, "-c", wrap, *cmd], check=True, capture_output=True, text=True, env=env
        )
        wall = time.perf_counter() - t
        peak = int(res.stdout.split()[-1])
        timing = json.load(open(f"{tmp}/run/summary.json"))["timing_seconds"]
    return {"wall": wall, "peak_mib": peak / 1024, **timing}


def show(label: str, r: dict) -> None:
    print(
        f"  {label:<28} wall {r['wall']:7.2f} s | serial {r['serial_s']:5.2f} s "
        f"(set-up {r['setup_s']:.2f}, summary+plots {r['finalize_s']:.2f}) | peak RSS "
        f"{r['peak_mib']:.0f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", type=int, default=1000, help="scenarios for the in-process engine timing")
    ap.add_argument("--ref", type=int, default=50, help="scenarios for the stepwise reference")
    ap.add_argument("--runs", type=int, default=1000, help="scenarios of the full run (0: none)")
    ap.add_argument("--repeat", type=int, default=2, help="old/new pairs of the full run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory", default="", help="comma-separated run sizes: peak RSS of each")
    ap.add_argument("--efficiency", type=int, default=0, help="W: time 1 and W workers on --scenarios")
    ap.add_argument("--scenarios", type=int, default=2000)
    ap.add_argument("--case", default="beijing")
    a = ap.parse_args()
    load = os.getloadavg()
    print(
        f"{platform.node()} | {os.cpu_count()} cores | load {load[0]:.1f} | Python "
        f"{platform.python_version()} | HiGHS {highspy.Highs().version()} | {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if a.engine:
        engine(a.engine, a.ref, a.case)
    if a.runs:
        print(f"simulate {a.case}, {a.runs} x 365, {a.workers} workers (old path, new, old, new):")
        walls = {"full": [], "lean": []}
        for path in ("full", "lean") * a.repeat:
            r = run(a.runs, a.workers, a.case, path=path)
            walls[path].append(r["wall"])
            show(f"{a.runs} scenarios, {'old path' if path == 'full' else 'new path'}", r)
        old, new = min(walls["full"]), min(walls["lean"])
        print(f"  best of {a.repeat}: old {old:.2f} s, new {new:.2f} s; old/new {old / new:.2f} x")
    if a.memory:
        print(f"peak memory against run size ({a.workers} workers, no plots):")
        for n in [int(x) for x in a.memory.split(",")]:
            show(f"{n} scenarios", run(n, a.workers, a.case, plots=False))
    if a.efficiency:
        w = a.efficiency
        r1 = run(a.scenarios, 1, a.case)
        rw = run(a.scenarios, w, a.case)
        print(f"parallel efficiency, {a.scenarios} x 365:")
        show("1 worker", r1)
        show(f"{w} workers", rw)
        print(
            f"  speed-up {r1['wall'] / rw['wall']:.2f} on {w} workers: "
            f"efficiency {r1['wall'] / (w * rw['wall']):.0%}"
        )


if __name__ == "__main__":
    main()
