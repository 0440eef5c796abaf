"""Timings of the retrofit methods on the bundled case, side by side (prints; asserts nothing).

    python benchmarks/bench_retrofit.py [--budget 60] [--scenarios 100] [--no-bridges]

Targets: greedy and the proven global optimum (``exact``, SCIP) well under 1 s per budget; the
grid MILP (``grid``, step 0.1) and the bridge SAA MILP with 100 scenarios under 60 s. The sweep
line times ``exact`` and ``greedy`` at every budget of 0:120:5 and prints the ratio.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from resiliopt import retrofit as rb
from resiliopt.case import load_case
from resiliopt.retrofit import bridges as rbr


def timed(fn, repeat=1):
    """Best wall time of ``repeat`` calls, and the result of that call."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        t = time.perf_counter() - t0
        if t < best:
            best, out = t, res
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--bridge-budget", type=float, default=1.0)
    ap.add_argument("--scenarios", type=int, default=100)
    ap.add_argument("--no-bridges", action="store_true", help="skip the bridge SAA MILP")
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'})")
    case = load_case("beijing")
    t, st = timed(lambda: rb.stock(case), 3)
    print(f"stock (unsafe shares, costs)             {t * 1000:8.3f} ms")
    rb.exact(st, args.budget)  # first call imports pyscipopt; not counted
    tg, g = timed(lambda: rb.greedy(st, args.budget), 5)
    print(f"greedy, budget {args.budget:g}                       {tg * 1000:8.1f} ms   F_C {g.fc_after:.6f}")
    t, gg = timed(lambda: rb.greedy(st, args.budget, step=0.1), 5)
    print(f"greedy on the 0.1 grid                   {t * 1000:8.1f} ms   F_C {gg.fc_after:.6f}")
    te, e = timed(lambda: rb.exact(st, args.budget), 5)
    print(
        f"exact, global QP (build+SCIP+polish)     {te * 1000:8.1f} ms   F_C {e.fc_after:.6f}"
        f"   (SCIP {e.info['solve_seconds'] * 1000:.1f} ms, {e.info['nodes']} nodes, gap {e.gap:.1e})"
    )
    tm, m = timed(lambda: rb.grid(st, args.budget, step=0.1), 1)
    print(
        f"grid MILP, step 0.1 (build+HiGHS)        {tm * 1000:8.1f} ms   F_C {m.fc_after:.6f}"
        f"   (HiGHS {m.info['solve_seconds']:.2f} s)"
    )
    print(f"  ratios: exact / greedy {te / tg:.1f}x, grid MILP / exact {tm / te:.0f}x")
    te_all, tg_all = [], []
    for b in rb.parse_sweep("0:120:5"):
        t1, _ = timed(lambda b=b: rb.exact(st, float(b)), 1)
        t2, _ = timed(lambda b=b: rb.greedy(st, float(b)), 1)
        te_all.append(t1)
        tg_all.append(t2)
    print(
        f"sweep 0:120:5, per budget: exact median {statistics.median(te_all) * 1000:.1f} ms, "
        f"max {max(te_all) * 1000:.1f} ms; greedy median {statistics.median(tg_all) * 1000:.1f} ms, "
        f"max {max(tg_all) * 1000:.1f} ms; exact/greedy total {sum(te_all) / sum(tg_all):.1f}x"
    )
    if args.no_bridges:
        return
    t, p = timed(lambda: rbr.choose_bridges(case, args.bridge_budget, args.scenarios), 1)
    print(
        f"bridge SAA MILP, {args.scenarios} scenarios            {t * 1000:8.1f} ms   "
        f"{len(p.upgraded)} bridges: {', '.join(p.upgraded)}"
    )


if __name__ == "__main__":
    main()
