"""Emergency loop timings on shelby-extended and its bundled synthetic event.

    python benchmarks/bench_emergency.py [--policies closed,open,criticality,population]
        [--evaluate-events 10] [--workers 2] [--skip-loop]

Prints: one re-plan (td-INDP from the event's initial state, horizons 3, 4 and 5, the MIP
gap and the build time apart), one pass of the monitor over the 20 observed periods, and the
replay of the event (the loop until repaired) per policy, each with its HiGHS calls.
Targets (issue 10): a re-plan under 5 s, a 20-period replay under 2 minutes.

Then the evaluation (issue 19, docs/emergency.md "Evidence over many events"): one event
replay of every policy as ``emergency evaluate`` runs it (fast checked indicators, plans
without tables; the bundled event's damage, seed-0 durations), target under 10 s; and a small
``emergency evaluate`` run of ``--evaluate-events`` drawn events on ``--workers`` processes,
whose time scaled to 200 events estimates the 200-event evaluation (target under 20 minutes;
an estimate: event sizes vary, the run's mean cost stands for the mean of 200). Ratios are
printed (measured / target: below 1 meets it); nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

from resiliopt.emergency.evaluate import evaluate
from resiliopt.emergency.evaluate_events import EventDraw
from resiliopt.emergency.evaluate_run import RunSpec, run_event
from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.levels import LevelMachine
from resiliopt.emergency.monitor import Monitor, damaged_of, failed_of, observed_states
from resiliopt.emergency.response import POLICIES, Planner, element_sites, run_loop, sample_durations
from resiliopt.infra import load_infra_case

EVENT = "data/infra/shelby-extended/events/synthetic-m7"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", default="closed,open,criticality,population")
    ap.add_argument("--evaluate-events", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-loop", action="store_true", help="only the evaluation timings")
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
    if not args.skip_loop:
        loop_timings(case, ev, cfg, states, dmg, args.policies.split(","))
    evaluation_timings(case, ev, cfg, dmg, args.evaluate_events, args.workers)


def evaluation_timings(case, ev, cfg, dmg, n_events: int, workers: int) -> None:
    """One event replay of every policy (target 10 s) and a 200-event estimate (target 20 min)."""
    t0 = time.perf_counter()
    spec = RunSpec(
        case, cfg, ev.spec.roads, ev.spec.period_hours, POLICIES, 40, "every", Monitor(case).ranking
    )
    tau = sample_durations(element_sites(case), 0, 0.5)
    event = EventDraw(0, "draw", "bundled", "", float("nan"), float("nan"), float("nan"), dmg, tau, None)
    t1 = time.perf_counter()
    runs, _, timing = run_event(spec, event)  # builds the models: the first event of a worker
    t2 = time.perf_counter()
    run_event(spec, event)  # the models built: any later event of the worker
    t3 = time.perf_counter()
    per = {r["policy"]: round(r["seconds"], 2) for r in timing}
    print(
        f"evaluate, one event replay of {len(POLICIES)} policies ({len(dmg)} damaged): "
        f"set-up {t1 - t0:.2f} s, first {t2 - t1:.2f} s, again {t3 - t2:.2f} s "
        f"(target 10 s, ratio {(t3 - t2) / 10:.2f}); per policy {per}"
    )
    if n_events < 1:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = evaluate(
            "shelby-extended", n_events, 0, event=EVENT, workers=workers, out=f"{tmp}/run", plots=False
        )
        dt = time.perf_counter() - t0
    est = dt * 200 / n_events
    print(
        f"evaluate {n_events} drawn events ({res.events['n_damaged'].mean():.1f} damaged on average), "
        f"{workers} workers: {dt:.1f} s; 200 events estimated {est / 60:.1f} min "
        f"(target 20 min, ratio {est / 1200:.2f})"
    )


def loop_timings(case, ev, cfg, states, dmg, policies) -> None:

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

    for p in policies:
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
