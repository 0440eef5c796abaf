"""Emergency loop timings on shelby-extended and its bundled synthetic event.

    python benchmarks/bench_emergency.py [--policies closed,open,criticality,population]

Prints: one re-plan (td-INDP from the event's initial state, horizons 3, 4 and 5, the MIP
gap and the build time apart), one pass of the monitor over the 20 observed periods, and the
replay of the event (the loop until repaired) per policy, each with its HiGHS calls.
Targets (issue 10): a re-plan under 5 s, a 20-period replay under 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.levels import LevelMachine
from resiliopt.emergency.monitor import Monitor, damaged_of, failed_of, observed_states
from resiliopt.emergency.response import Planner, run_loop
from resiliopt.infra import load_infra_case

EVENT = "data/infra/shelby-extended/events/synthetic-m7"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", default="closed,open,criticality,population")
    args = ap.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    case = load_infra_case("shelby-extended")
    ev = load_event(EVENT)
    cfg = event_config(case, ev)
    states = observed_states(ev.observations)
    dmg = damaged_of(states[0][1])
    print(f"event: {len(dmg)} damaged elements, {len(states)} observed periods")

    planner = Planner(case)
    for h in (3, 4, 5):
        t0 = time.perf_counter()
        planner.restorer(h, None)
        t1 = time.perf_counter()
        plan = planner.plan(dmg, h, 10, 10, None)
        t2 = time.perf_counter()
        plan2 = planner.plan(dmg.iloc[5:], h, 10, 10, None)  # a second re-plan on the built model
        t3 = time.perf_counter()
        print(
            f"re-plan td-INDP H={h}: build {t1 - t0:6.2f} s, first solve {t2 - t1:6.2f} s, "
            f"re-solve {t3 - t2:6.2f} s, gap {max(plan.max_gap, plan2.max_gap):.1e}"
        )

    mon = Monitor(case)
    t0 = time.perf_counter()
    _ = mon.ranking
    t1 = time.perf_counter()
    machine = LevelMachine(cfg)
    for _, s in states:
        x, _, _ = mon.indicators(failed_of(s))
        machine.step(x)
    t2 = time.perf_counter()
    print(f"monitor: N-1 ranking {t1 - t0:.2f} s once, then {len(states)} periods in {t2 - t1:.2f} s")

    for p in args.policies.split(","):
        t0 = time.perf_counter()
        r = run_loop(
            case,
            cfg,
            dmg,
            p,
            roads=ev.roads,
            period_hours=ev.spec.period_hours,
            seed=0,
            monitor=mon,
            planner=planner,
        )
        t1 = time.perf_counter()
        s = r.summary
        print(
            f"replay {p:12s}: {t1 - t0:6.2f} s for {s['periods']} periods; unserved area "
            f"{s['unserved_area']:.3f}, full service at period {s['periods_to_full_service']}"
        )


if __name__ == "__main__":
    main()
