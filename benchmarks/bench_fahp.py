"""Timings of the FAHP assessment: the full 182-indicator tree, and 10,000 Monte Carlo samples.

Run: python benchmarks/bench_fahp.py   (prints the best of several repetitions)
"""

from __future__ import annotations

import time

from resiliopt.case import bundled_data_dir
from resiliopt.fahp import assess, load_case, load_tree
from resiliopt.fahp.sensitivity import monte_carlo


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    cups = bundled_data_dir() / "cups"
    tree = load_tree(cups / "indicators.yaml")
    case = load_case(cups / "illustrative_a.yaml")
    a = assess(tree, case)  # warm-up
    t_assess = best(lambda: assess(tree, case), 20)
    t_mc = best(lambda: monte_carlo(a, 10_000, 0.1, 0), 5)
    print(f"assess full tree (182 scores, 35 groups x 3 experts): {t_assess * 1e3:.1f} ms (target < 50 ms)")
    print(f"Monte Carlo, 10,000 samples of every judgment: {t_mc:.3f} s (target < 5 s)")


if __name__ == "__main__":
    main()
