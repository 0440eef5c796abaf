"""Timings of the retrofit methods on the bundled case (prints; asserts nothing).

    python benchmarks/bench_retrofit.py [--scenarios 100]

Targets (issue #4): greedy well under 1 s, exact building MILP under 10 s, bridge SAA MILP with
100 scenarios under 60 s (sampling + build + solve).
"""

from __future__ import annotations

import argparse
import platform
import time

from resiliopt.case import load_case
from resiliopt.retrofit import bridges as rbr
from resiliopt.retrofit import buildings as rb


def timed(fn, repeat=1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--bridge-budget", type=float, default=1.0)
    ap.add_argument("--scenarios", type=int, default=100)
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'})")
    case = load_case("beijing")
    t, st = timed(lambda: rb.stock(case), 3)
    print(f"stock (unsafe shares, costs)         {t * 1000:8.3f} ms")
    t, g = timed(lambda: rb.greedy(st, args.budget), 5)
    print(f"greedy, budget {args.budget:g}                  {t * 1000:8.1f} ms   F_C {g.fc_after:.4f}")
    t, gg = timed(lambda: rb.greedy(st, args.budget, step=0.1), 5)
    print(f"greedy on the 0.1 grid               {t * 1000:8.1f} ms   F_C {gg.fc_after:.4f}")
    t, e = timed(lambda: rb.exact(st, args.budget, step=0.1), 1)
    print(
        f"exact MILP, grid 0.1 (build+solve)   {t * 1000:8.1f} ms   F_C {e.fc_after:.4f}"
        f"   (HiGHS {e.info['solve_seconds']:.2f} s)"
    )
    t, p = timed(lambda: rbr.choose_bridges(case, args.bridge_budget, args.scenarios), 1)
    print(
        f"bridge SAA MILP, {args.scenarios} scenarios        {t * 1000:8.1f} ms   "
        f"{len(p.upgraded)} bridges: {', '.join(p.upgraded)}"
    )


if __name__ == "__main__":
    main()
