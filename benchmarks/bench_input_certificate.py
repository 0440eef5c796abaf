"""What the input certificate costs on the Monte Carlo's fast path, measured side by side.

    python benchmarks/bench_input_certificate.py            # about half a minute

The same sequence of slices (every slice the simulation solves in the first scenarios of
the bundled case, warm-started as in a run) is solved by ``CompiledSlice`` with the input
certificate on and off, interleaved in rounds so that load on a shared machine affects
both alike; then the check alone on one solution, and whole scenarios (``run_scenario``,
365 days) with the check on and off. The ratios are what to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from resiliopt.case import load_case
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.scenario import case_model

sys.path.insert(0, str(Path(__file__).parent))
from bench_slices import slice_sequence  # noqa: E402


def run_fast(fast, seq, certify: bool) -> float:
    fast.certify = certify
    fast.reset()
    t = time.perf_counter()
    for c, d, g, tr in seq:
        fast.update(c, d, g, tr)
        fast.solve()
    return time.perf_counter() - t


def run_scenarios(cm, lp, n: int, certify: bool) -> float:
    lp.certify = certify
    t = time.perf_counter()
    for i in range(n):
        run_scenario(cm, 1, i, 365, lp)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    cm = case_model(load_case("beijing"))
    seq = slice_sequence(cm, a.scenarios, 365)
    fast = compiled_for(cm)
    print(
        f"LP: {fast.lp.shape[0]} rows x {fast.lp.shape[1]} columns; {len(seq)} slices from "
        f"{a.scenarios} scenarios; certificate network: {len(fast.net.arc_ids)} arcs, "
        f"{len(fast.net.group_ids)} groups, {len(fast.net.road_nodes)} road nodes"
    )
    on, off, son, soff = [], [], [], []
    for _ in range(a.rounds):
        off.append(run_fast(fast, seq, False) / len(seq))
        on.append(run_fast(fast, seq, True) / len(seq))
        soff.append(run_scenarios(cm, fast, a.scenarios, False) / a.scenarios)
        son.append(run_scenarios(cm, fast, a.scenarios, True) / a.scenarios)
    fast.certify = True
    c, d, g, tr = seq[0]
    fast.update(c, d, g, tr)
    obj = fast.solve()[0]
    sol = fast.h.getSolution()
    x, rd = np.asarray(sol.col_value), np.asarray(sol.row_dual)
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        fast.check(x, rd, obj)
    check = (time.perf_counter() - t) / n
    b_on, b_off = min(on) * 1e6, min(off) * 1e6
    print(
        f"fast path update+solve, best of {a.rounds}: {b_off:.0f} us without, {b_on:.0f} us with "
        f"the certificate (x {b_on / b_off:.2f})"
    )
    print(f"the check alone: {check * 1e6:.0f} us per slice")
    s_on, s_off = min(son) * 1e3, min(soff) * 1e3
    print(
        f"one scenario x 365 days, best of {a.rounds}: {s_off:.1f} ms without, {s_on:.1f} ms with "
        f"(x {s_on / s_off:.2f})"
    )


if __name__ == "__main__":
    main()
