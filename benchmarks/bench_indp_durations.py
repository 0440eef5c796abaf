"""td-INDP with repair durations: solve time and gap, tau = 1 beside tau drawn (asserts nothing).

    python benchmarks/bench_indp_durations.py [--scenario set4/sce46] [--periods 10] \
        [--tau-max 3] [--seed 0] [--time-limit 600]

On shelby-extended (v = 3 per period, the case's), one damage scenario, horizon T: the model
with every repair one period (the case as bundled: repair_time = 1), then the same with
``repair_time`` of every element drawn uniformly from 1..tau-max (seed). Prints the build and
solve seconds (wall and CPU: the machine is shared), the objective, the MIP gap, the repairs
and the independent check of each, the compiled model (what ``infra restore --method td``
solves) beside the Pyomo model.
The machine's load matters: it is printed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np

from resiliopt.infra import load_infra_case
from resiliopt.infra.restoration import Restorer, check_plan


def run(case, damage, periods: int, time_limit: float, label: str, fast: bool = True) -> None:
    c0, t0 = time.process_time(), time.perf_counter()
    r = Restorer(case, periods, time_limit=time_limit, fast=fast)
    built = time.perf_counter() - t0
    plan = r.td(damage)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    chk = check_plan(case, plan, damage=damage)
    mip = plan.mip.iloc[0]
    print(
        f"{label} ({'compiled' if fast else 'Pyomo'}): build {built:.2f} s, HiGHS {mip.seconds:.2f} s "
        f"({mip.status}), build+solve+tables {total:.2f} s wall, {cpu:.2f} s CPU; objective "
        f"{plan.objective:.6f}, bound {mip.bound:.6f}, gap {mip.gap:.2g}; "
        f"{len(plan.repairs)} repairs started, {len(plan.unrepaired)} left; "
        f"check {'passed' if chk.ok else 'FAILED'} ({time.perf_counter() - t1:.2f} s)",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="set4/sce46")
    ap.add_argument("--periods", type=int, default=10)  # infra restore's default
    ap.add_argument("--tau-max", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0)
    a = ap.parse_args()
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    case = load_infra_case("shelby-extended")
    damage = case.damage_scenario(a.scenario)
    print(f"shelby-extended {a.scenario}: {len(damage)} damaged elements, T = {a.periods}, v = 3")
    run(case, damage, a.periods, a.time_limit, "tau = 1")
    run(case, damage, a.periods, a.time_limit, "tau = 1", fast=False)
    rng = np.random.default_rng(a.seed)
    nodes = case.nodes.assign(repair_time=rng.integers(1, a.tau_max + 1, len(case.nodes)).astype(float))
    links = case.links.assign(repair_time=rng.integers(1, a.tau_max + 1, len(case.links)).astype(float))
    drawn = dataclasses.replace(case, nodes=nodes, links=links)
    key = set(map(tuple, damage[["kind", "layer", "element"]].to_numpy()))
    taus = [int(r.repair_time) for r in nodes.itertuples() if ("node", r.layer, r.node) in key] + [
        int(r.repair_time) for r in links.itertuples() if ("link", r.layer, r.link) in key
    ]
    print(
        f"tau drawn 1..{a.tau_max} (seed {a.seed}); "
        f"damaged elements per tau: {np.bincount(taus)[1:].tolist()}"
    )
    run(drawn, damage, a.periods, a.time_limit, f"tau in 1..{a.tau_max}")
    run(drawn, damage, a.periods, a.time_limit, f"tau in 1..{a.tau_max}", fast=False)


if __name__ == "__main__":
    main()
