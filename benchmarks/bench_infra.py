"""Criticality timings on the bundled infra cases (CPU seconds of this process and ratios side by
side, not a test; HiGHS runs single-threaded in-process, so CPU time is robust to a shared machine).

    python benchmarks/bench_infra.py [--quick]

* N-1 on every element: the served-demand LP built once, bounds changed, warm-started HiGHS
  (what ``n_minus_1`` does) vs a cold solve of the same compiled LP vs rebuilding the Pyomo
  model for each element (measured on the first elements, extrapolated per solve);
* N-k: the interdiction MILP vs brute-force enumeration with warm LPs, same optimum.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np

from resiliopt.formulations.infra_flow import InfraFlow
from resiliopt.infra import load_infra_case
from resiliopt.infra.criticality import n_minus_1, n_minus_k


def best_of(f, n=3):
    t = []
    for _ in range(n):
        t0 = time.process_time()
        out = f()
        t.append(time.process_time() - t0)
    return min(t), out


def bench_n1(name: str, rebuild_sample: int) -> None:
    case = load_infra_case(name)
    el = list(case.elements().itertuples(index=False, name=None))
    flow = InfraFlow(case, objective="served")
    warm, ranking = best_of(lambda: n_minus_1(case, flow=flow))

    def cold():
        for e in el:
            flow.h.clearSolver()
            flow.objective_under([e])

    t_cold, _ = best_of(cold)
    t0 = time.process_time()
    for e in el[:rebuild_sample]:
        InfraFlow(case, objective="served").objective_under([e])
    t_rebuild = (time.process_time() - t0) / rebuild_sample * len(el)
    n = len(el)
    print(f"{name}: N-1 over {n} elements ({len(case.nodes)} nodes, {len(case.links)} links)")
    print(f"  {'path':40s} {'s total':>9s} {'ms/solve':>9s} {'x warm':>7s}")
    for label, t in (
        ("built once, warm start (n_minus_1)", warm),
        ("built once, cold solve each", t_cold),
        (f"rebuild Pyomo each (from {rebuild_sample})", t_rebuild),
    ):
        print(f"  {label:40s} {t:9.3f} {1000 * t / n:9.3f} {t / warm:7.2f}")
    top = ranking.iloc[0]
    print(f"  top element: {top['kind']} {top['layer']} {top['element']} (loss {top['loss']:.4f})")


def bench_nk(name: str, ks: list[int], brute_k: int, layers: list[str] | None = None) -> None:
    import dataclasses

    case = load_infra_case(name)
    if layers:
        dep = case.dependencies
        case = dataclasses.replace(
            case,
            layers=case.layers[case.layers["layer"].isin(layers)].reset_index(drop=True),
            nodes=case.nodes[case.nodes["layer"].isin(layers)].reset_index(drop=True),
            links=case.links[case.links["layer"].isin(layers)].reset_index(drop=True),
            dependencies=dep[dep["dependee_layer"].isin(layers) & dep["depender_layer"].isin(layers)],
        )
    label = name + (f" ({', '.join(layers)})" if layers else "")
    el = list(case.elements().itertuples(index=False, name=None))
    print(f"{label}: N-k interdiction MILP, {len(el)} candidate elements")
    for k in ks:
        t0 = time.process_time()
        res = n_minus_k(case, k)
        t = time.process_time() - t0
        sel = ", ".join(f"{a}:{b}:{c}" for a, b, c in res.failed.itertuples(index=False, name=None))
        line = f"  k={k}: MILP {t:7.2f} s, loss {res.loss:.6f} [{sel}]"
        if k <= brute_k:
            flow = InfraFlow(case, objective="served")
            base = flow.objective_under(None)
            t0 = time.process_time()
            worst = max(
                flow.objective_under(list(c)) for s in range(1, k + 1) for c in itertools.combinations(el, s)
            )
            tb = time.process_time() - t0
            line += f"; brute force {tb:7.2f} s, loss {worst - base:.6f} (x{tb / t:.2f} the MILP)"
        print(line)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    np.random.seed(0)
    bench_n1("shelby-indp", 10)
    bench_n1("shelby-extended", 10)
    bench_nk("shelby-indp", [1, 2] if quick else [1, 2, 3], 2, ["gas"])
    bench_nk("shelby-extended", [1] if quick else [1, 2, 3], 0 if quick else 1)
