"""Timings of the INDP restoration models (prints times and ratios to the targets; asserts nothing).

    python benchmarks/bench_indp.py [--simulations 1000] [--workers 2] [--skip-mc] [--skip-scip]

Targets (issue 9):
* the 1000-simulation M6 v = 3 experiment on shelby-indp (published reading) in under 10 min on
  2 cores; with ``--simulations N < 1000`` the time is extrapolated linearly (say so);
* td-INDP on shelby-extended with T = 10, v = 3 for one damage scenario in under 10 s
  (build + solve, and the solve alone);
* HiGHS and SCIP on the same Pyomo MILPs, side by side (objectives equal within the gap).

The machine's load matters: the script prints the load average before each part.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import pandas as pd

from resiliopt.errors import SolveError
from resiliopt.infra import load_infra_case
from resiliopt.infra.damage import draw_damage as sample_damage
from resiliopt.infra.damage import failure_table
from resiliopt.infra.experiment import PUBLISHED_READING, run_experiment
from resiliopt.infra.restoration import Restorer


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average n/a"


def bench_mc(n: int, workers: int) -> None:
    print(
        f"\n[1] M6 v=3 Monte Carlo, shelby-indp, published reading, {n} simulations, "
        f"{workers} workers ({load()})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rec = run_experiment(
            "shelby-indp", [6], [3], n, 2016, tmp, workers=workers, options=PUBLISHED_READING
        )
        dt = time.perf_counter() - t0
    solves = len(rec)
    full = dt * 1000 / n
    print(
        f"    {dt:8.1f} s for {n} simulations ({solves} MILP solves, {dt / solves * 1000:.1f} ms each incl. "
        f"process start-up)"
    )
    what = "measured" if n == 1000 else f"extrapolated linearly from {n}"
    print(f"    1000 simulations: {full:8.1f} s ({what}); target 600 s -> ratio {full / 600:.2f}")
    print(f"    max MIP gap {rec['gap'].max():.2g}, all optimal: {bool((rec['status'] == 'optimal').all())}")


def bench_td(scenarios: list[str]) -> None:
    """Per scenario: from scratch (build, hand to HiGHS, solve, tables) and re-solved in a
    model already built for another scenario (what the Monte Carlo and the CLI loop do)."""
    case = load_infra_case("shelby-extended")
    print(f"\n[2] td-INDP, shelby-extended, T=10, v=3 ({load()})")
    shared = Restorer(case, 10, resources=3)
    shared.td(case.damage_scenario(scenarios[0]))  # warm: the model is with HiGHS already
    for name in scenarios:
        dmg = case.damage_scenario(name)
        t0 = time.perf_counter()
        r = Restorer(case, 10, resources=3)
        build = time.perf_counter() - t0
        p = r.td(dmg)
        fresh = time.perf_counter() - t0
        t0 = time.perf_counter()
        q = shared.td(dmg)
        reused = time.perf_counter() - t0
        assert abs(p.objective - q.objective) <= 1e-9 * abs(p.objective)
        hs = float(p.mip["seconds"].sum())
        print(
            f"    {name:12s} {len(dmg):3d} damaged: from scratch {fresh:6.2f} s (build {build:5.2f} s, "
            f"HiGHS {hs:6.2f} s; target 10 s -> ratio {fresh / 10:.2f}); re-solved in a built model "
            f"{reused:6.2f} s; gap {p.max_gap:.1g}, {len(p.repairs)} repairs"
        )


def bench_solvers(n_draws: int) -> None:
    print(f"\n[3] HiGHS vs SCIP on the same Pyomo MILPs ({load()})")
    case = load_infra_case("shelby-indp")
    tab = failure_table(case, 7)
    rows = []
    for solver in ("highs", "scip"):
        r = Restorer(case, 1, PUBLISHED_READING, solver=solver, resources=3)
        for i in range(n_draws):
            p = r.iterative(sample_damage(tab, 2016, 7, i), max_iterations=1, detail=False)
            rows.append(("indp M7 it.1", i, solver, p.objective, float(p.mip["seconds"].sum())))
    for solver in ("highs", "scip"):
        r = Restorer(case, 3, PUBLISHED_READING, solver=solver, resources=3)
        for i in range(max(1, n_draws // 3)):
            p = r.td(sample_damage(tab, 2016, 7, i))
            rows.append(("td-INDP M7 T=3", i, solver, p.objective, float(p.mip["seconds"].sum())))
    t = pd.DataFrame(rows, columns=["model", "draw", "solver", "objective", "seconds"])
    w = t.pivot_table(index=["model", "draw"], columns="solver", values=["objective", "seconds"])
    rel = (w["objective"]["highs"] - w["objective"]["scip"]).abs() / w["objective"]["highs"].abs().clip(
        lower=1
    )
    s = w["seconds"].groupby(level="model").sum()
    for model, row in s.iterrows():
        print(
            f"    {model:24s} HiGHS {row['highs']:7.2f} s   SCIP {row['scip']:7.2f} s   SCIP/HiGHS "
            f"{row['scip'] / row['highs']:5.2f}   max rel. objective difference "
            f"{rel.xs(model, level='model').max():.1e}"
        )


def bench_scip_extended() -> None:
    """SCIP on a td-INDP of shelby-extended (last: a SCIP failure can leave stdout redirected)."""
    ext = load_infra_case("shelby-extended")
    print("\n[4] td-INDP T=4, shelby-extended set0/sce1, HiGHS then SCIP", flush=True)
    for solver in ("highs", "scip"):
        r = Restorer(ext, 4, solver=solver, resources=3)
        try:
            p = r.td(ext.damage_scenario("set0/sce1"))
            msg = f"objective {p.objective:.10g} in {float(p.mip['seconds'].sum()):.2f} s"
        except SolveError as exc:
            msg = f"failed: {exc}"
        print(f"    {solver}: {msg}", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--simulations", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenarios", default="set7/sce13,set5/sce55,set5/sce36")
    ap.add_argument("--draws", type=int, default=10, help="M7 damage draws for the solver comparison")
    ap.add_argument("--skip-mc", action="store_true")
    ap.add_argument("--skip-scip", action="store_true")
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    if not args.skip_mc:
        bench_mc(args.simulations, args.workers)
    bench_td([s for s in args.scenarios.split(",") if s])
    if not args.skip_scip:
        bench_solvers(args.draws)
        bench_scip_extended()


if __name__ == "__main__":
    main()
