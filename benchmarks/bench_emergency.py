"""Emergency loop timings on shelby-extended and its bundled synthetic event.

    python benchmarks/bench_emergency.py [--evaluate-events 10] [--workers 2] [--skip-loop]

Prints (issue 19, docs/emergency.md "Speed"; every ratio measured side by side in one run):
the closed loop's re-plans at horizon 5 (compiled model from the last plan, beside the Pyomo
model warm and cold: median seconds per plan, target under 1 s), and one replay of every
policy as ``emergency replay`` runs it beside the path before (target under 10 s).

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

import numpy as np

from resiliopt.emergency.evaluate import evaluate, with_horizon
from resiliopt.emergency.evaluate_events import EventDraw
from resiliopt.emergency.evaluate_run import CachedMonitor, RunSpec, run_event
from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.monitor import Monitor, damaged_of, observed_states
from resiliopt.emergency.response import POLICIES, Planner, element_sites, run_loop, sample_durations
from resiliopt.infra import load_infra_case

EVENT = "data/infra/shelby-extended/events/synthetic-m7"


def main() -> None:
    ap = argparse.ArgumentParser()
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
        replan_timings(case, ev, cfg, dmg)
        replay_timings(case, ev, cfg, dmg)
    evaluation_timings(case, ev, cfg, dmg, args.evaluate_events, args.workers)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the evaluation's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
    t2, c2 = time.perf_counter(), time.process_time()
    run_event(spec, event)  # the models built: any later event of the worker
    t3, c3 = time.perf_counter(), time.process_time()
    per = {r["policy"]: round(r["seconds"], 2) for r in timing}
    print(
        f"evaluate, one event replay of {len(POLICIES)} policies ({len(dmg)} damaged): "
        f"set-up {t1 - t0:.2f} s, first {t2 - t1:.2f} s, again {t3 - t2:.2f} s wall, {c3 - c2:.2f} s CPU "
        f"(target 10 s, ratio {(c3 - c2) / 10:.2f} on CPU); per policy {per}"
    )
    if n_events < 1:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), _cpu()
        res = evaluate(
            "shelby-extended", n_events, 0, event=EVENT, workers=workers, out=f"{tmp}/run", plots=False
        )
        dt, dc = time.perf_counter() - t0, _cpu() - c0
    est = dt * 200 / n_events
    print(
        f"evaluate {n_events} drawn events ({res.events['n_damaged'].mean():.1f} damaged on average), "
        f"{workers} workers: {dt:.1f} s; 200 events estimated {est / 60:.1f} min "
        f"(target 20 min, ratio {est / 1200:.2f}); CPU of this process and its workers {dc:.1f} s, "
        f"200 events at 2 cores, load-free: {dc * 200 / n_events / 2 / 60:.1f} min"
    )


def replan_timings(case, ev, cfg, dmg, horizon: int = 5) -> None:
    """The closed loop with every level planning over ``horizon`` periods, its re-plans timed:
    the compiled model from the last plan (today's path) beside the Pyomo model from the last
    plan and the Pyomo model cold (the path before; issue 19, target: median under 1 s)."""
    cfg5 = with_horizon(cfg, horizon)
    mon = CachedMonitor(Monitor(case), cfg5)
    for label, fast, warm in (
        ("compiled, warm", True, True),
        ("Pyomo, warm", False, True),
        ("Pyomo, cold", False, False),
    ):
        pl = Planner(case, fast=fast, warm=warm)
        c0, t0 = time.process_time(), time.perf_counter()
        r = run_loop(
            case,
            cfg5,
            dmg,
            "closed",
            roads=ev.roads,
            period_hours=ev.spec.period_hours,
            monitor=mon,
            planner=pl,
        )
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        sec, cs = np.asarray(pl.seconds), np.asarray(pl.cpu_seconds)
        print(
            f"re-plan H={horizon} {label:15s}: {len(sec)} plans, CPU median {np.median(cs):.2f} s "
            f"(first {cs[0]:.2f} s, later median {np.median(cs[1:]):.2f} s, max {cs.max():.2f} s; "
            f"target 1 s, ratio {np.median(cs):.2f}); HiGHS wall median {np.median(sec):.2f} s; "
            f"loop {wall:.1f} s wall, {cpu:.1f} s CPU; "
            f"unserved area {r.summary['unserved_area']:.6f}, max gap {r.summary['max_mip_gap']:.1e}"
        )


def replay_timings(case, ev, cfg, dmg) -> None:
    """One replay of every policy as ``emergency replay`` runs it (checked fast indicators,
    compiled warm re-plans) beside the path before (certified monitor every period, Pyomo
    models, cold re-plans); target under 10 s. Wall and CPU seconds (the machine is shared)."""
    for label, mon, fast, warm in (
        ("today", CachedMonitor(Monitor(case), cfg), True, True),
        ("before", Monitor(case), False, False),
    ):
        if isinstance(mon, CachedMonitor):
            mon.cascade = True
        pl = Planner(case, fast=fast, warm=warm)
        c0, t0 = time.process_time(), time.perf_counter()
        out = {}
        for p in POLICIES:
            r = run_loop(
                case, cfg, dmg, p, roads=ev.roads, period_hours=ev.spec.period_hours, monitor=mon, planner=pl
            )
            out[p] = round(r.summary["unserved_area"], 6)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        print(
            f"replay of {len(POLICIES)} policies, {label:6s}: {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"(target 10 s, ratio {cpu / 10:.2f} on CPU); {len(pl.seconds)} plans, HiGHS "
            f"{sum(pl.seconds):.1f} s; unserved area {out}"
        )


if __name__ == "__main__":
    main()
