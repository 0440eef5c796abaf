"""City-size networks: import, slice, audit and a Monte Carlo on generated grid cities.

    python benchmarks/bench_city.py                       # 1k and 10k nodes
    python benchmarks/bench_city.py --sizes 1000,10000,50000 --mc-scenarios 100   # long

For each size: a jittered grid city in OSMnx's GraphML conventions
(resiliopt.roads.synthetic.grid_city: about 4 directed arcs per node, 1 % bridge streets) is
written as GraphML and imported (resiliopt.roads.graphml, one building share every 12th node,
so about as many groups as nodes). Then, each as a separate process, end to end:
``resiliopt slice CASE --json``, ``resiliopt audit CASE``, and
``resiliopt simulate CASE --scenarios N --days 365`` (no plots), whose ms per scenario is
printed. Side by side, the bare floor in this process: the case loaded once, the slice LP
written with numpy (slice_matrix) and solved by one highspy call.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import highspy
import networkx as nx

from resiliopt.solvers.highs import IPM_MIN_COLUMNS


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def bare(case_dir: Path, engine_scenarios: int) -> dict:
    """In this process: load, the day-0 LP solved cold by highspy, and the engine on a few
    scenarios with the time spent inside HiGHS calls."""
    from resiliopt.case import load_case
    from resiliopt.simulation.engine import compiled_for, run_scenario
    from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario
    from resiliopt.solvers.highs import new_highs, slice_matrix

    t = time.perf_counter()
    cm = case_model(load_case(case_dir))
    out = {"load": time.perf_counter() - t, "arcs": len(cm.arcs), "groups": cm.n_groups}
    lp = slice_matrix(RecoveryState(cm, sample_scenario(cm, 0, 0)).slice_data())
    out["shape"] = lp.shape
    for method in ("simplex", "ipm"):  # the bare floor: one cold highspy call, either method
        h = new_highs(lp)
        h.setOptionValue("solver", method)
        t = time.perf_counter()
        h.run()
        out[method] = time.perf_counter() - t
    fast = compiled_for(cm)
    t = time.perf_counter()
    for i in range(engine_scenarios):
        run_scenario(cm, 1, i, 365, fast)
    total = time.perf_counter() - t
    out["engine_ms"] = 1e3 * total / max(engine_scenarios, 1)
    out["highs_share"] = fast.highs_seconds / total if total > 0 else float("nan")
    out["lps"] = fast.solves / max(engine_scenarios, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--mc-scenarios", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine-scenarios", type=int, default=3, help="scenarios for the in-process engine")
    a = ap.parse_args()
    from resiliopt.roads.graphml import case_from_graphml
    from resiliopt.roads.synthetic import grid_city

    load = os.getloadavg()
    print(
        f"{platform.node()} | {os.cpu_count()} cores | load {load[0]:.1f} | Python "
        f"{platform.python_version()} | HiGHS {highspy.Highs().version()} | {time.strftime('%Y-%m-%d %H:%M')}"
    )
    cli = [sys.executable, "-m", "resiliopt.cli"]
    head = (
        f"| {'nodes':>6} | {'arcs':>6} | {'groups':>6} | {'import s':>8} | {'load s':>6} | "
        f"{'simplex s':>9} | {'IPM s':>6} | {'slice s':>7} | {'audit s':>7} | {'engine ms/scen':>14} | "
        f"{'in HiGHS':>8} | {'LPs/scen':>8} | {'MC ms/scen':>10} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for n in [int(x) for x in a.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            nx.write_graphml(grid_city(n, seed=1), tmp / "city.graphml")
            t = time.perf_counter()
            case = case_from_graphml(tmp / "city.graphml", tmp / "case", share_every=12).parent
            t_import = time.perf_counter() - t
            b = bare(case, a.engine_scenarios)
            t_slice = timed([*cli, "slice", str(case), "--json"])
            t_audit = timed([*cli, "audit", str(case), "--out", str(tmp / "audit")])
            mc = ""
            if a.mc_scenarios:
                cmd = [*cli, "simulate", str(case), "--scenarios", str(a.mc_scenarios), "--days", "365"]
                cmd += ["--workers", str(a.workers), "--out", str(tmp / "mc"), "--no-progress", "--no-plots"]
                mc = f"{1e3 * timed(cmd) / a.mc_scenarios:.0f}"
            print(
                f"| {n:>6} | {b['arcs']:>6} | {b['groups']:>6} | {t_import:>8.2f} | {b['load']:>6.2f} | "
                f"{b['simplex']:>9.3f} | {b['ipm']:>6.3f} | {t_slice:>7.2f} | {t_audit:>7.2f} | "
                f"{b['engine_ms']:>14.0f} | "
                f"{b['highs_share']:>8.0%} | {b['lps']:>8.0f} | {mc:>10} |",
                flush=True,
            )
    print(
        f"(load s: case files read and validated in this process; simplex s / IPM s: the bare "
        f"floor, the day-0 slice LP passed to highspy and solved cold by dual simplex / by interior "
        f"point with crossover (what `slice` uses from {IPM_MIN_COLUMNS} columns on); slice/audit: "
        f"end-to-end commands; "
        f"engine: {a.engine_scenarios} scenarios x 365 days in this process, 'in HiGHS' the share "
        f"of that time inside HiGHS calls; MC: `resiliopt simulate` of {a.mc_scenarios} scenarios "
        f"x 365 days on {a.workers} workers, wall time / scenarios, start-up included)"
    )


if __name__ == "__main__":
    main()
