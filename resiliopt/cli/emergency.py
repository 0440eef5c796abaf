"""CLI: ``resiliopt emergency monitor|diagnose|respond|replay|learn CASE EVENT`` (docs/emergency.md).

EVENT is an event folder or its ``event.yaml`` (observations, roads, levels), or a bare
observations file (CSV or YAML); the levels then come from the case's ``emergency:`` section.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.progress import Progress
from rich.table import Table

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json
from resiliopt.errors import InputError

console = plain_console()
note = plain_console(stderr=True)
TIME = opt.Number(float, 0.0, 1e9, what="a time stamp (a number >= 0)")
SEEDS = opt.Number(int, 1, 1000, what="a whole number of seeds")
PERIODS = opt.Number(int, 1, 1000, what="a whole number of periods")
DISPERSION = opt.Number(float, 0.0, 5.0, what="a log standard deviation")
PRIOR_DISPERSION = opt.Number(float, 0.0, 5.0, lo_open=True, what="a log standard deviation")
STRENGTH = opt.Number(float, 0.0, 1e6, lo_open=True, what="a prior strength (pseudo-observations)")
emergency_app = typer.Typer(
    name="emergency",
    help="The emergency loop: monitor, diagnose, respond, replay an event, learn from it.",
    no_args_is_help=True,
)
app.add_typer(emergency_app, name="emergency")

CASE = typer.Argument(..., help="an infra case: bundled name (shelby-extended), directory or case.yaml")
EVENT = typer.Argument(..., help="event folder / event.yaml, or an observations file (CSV or YAML)")
JSON = typer.Option(False, "--json", help="print one strict JSON object")
OUT = typer.Option(
    None, "--out", help="write tables (CSV) and plots to this folder (new, or this command's output)"
)
TOP = opt.ROWS.option(10, "--top", help="rows of each ranking")


def _load(case: str, event: str):
    from resiliopt.emergency.event import event_config, load_event
    from resiliopt.emergency.observations import check_elements
    from resiliopt.infra import load_infra_case

    c = load_infra_case(case)
    ev = load_event(event)
    check_elements(ev.observations, c.elements(), file=ev.path)
    return c, ev, event_config(c, ev)


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _table(df: pd.DataFrame, title: str, cols: list[str] | None = None, most: int = 25) -> Table:
    t = Table(title=title)
    cols = cols or list(df.columns)
    for c in cols:
        t.add_column(str(c))
    for r in df[cols].head(most).itertuples(index=False):
        t.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r])
    return t


def _check_out(out: str | None, command: str, force: bool) -> None:
    if out is not None:
        check_output_dir(out, f"emergency {command}", force)


def _write(out: str | None, command: str, force: bool, tables: dict[str, pd.DataFrame], plots=None) -> None:
    if out is None:
        return
    with atomic_directory(out, f"emergency {command}", force) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        if plots is not None:
            plots(tmp)
    note.print(f"wrote {out}", markup=False)


def _time(states, time: float | None, file) -> tuple[float, pd.DataFrame]:
    if time is None:
        return states[0]
    for t, s in states:
        if t == time:
            return t, s
    raise InputError(
        f"no observation at time {time:g} (times: {', '.join(f'{t:g}' for t, _ in states[:10])} ...)",
        file=file,
        location="--time",
    )


@emergency_app.command("monitor")
def monitor_cmd(
    case: str = CASE, event: str = EVENT, as_json: bool = JSON, out: str = OUT, force: bool = opt.FORCE
) -> None:
    """Indicators and the emergency level at every time stamp of the observations."""
    _check_out(out, "monitor", force)
    from resiliopt.emergency.levels import LevelMachine
    from resiliopt.emergency.monitor import Monitor, failed_of, observed_states

    c, ev, cfg = _load(case, event)
    states = observed_states(ev.observations)
    mon, machine, rows = Monitor(c), LevelMachine(cfg), []
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("monitor", total=len(states))
        for t, s in states:
            x, _, _ = mon.indicators(failed_of(s))
            rows.append(
                {
                    "period": t,
                    **machine.step(x),
                    **x,
                    "failed": int((s["status"] == "down").sum()),
                    "degraded": int((s["status"] == "degraded").sum()),
                }
            )
            bar.advance(task)
    per = pd.DataFrame(rows)
    if as_json:
        print_json(
            {
                "case": c.name,
                "event": str(ev.path),
                "synthetic": ev.spec.synthetic,
                "periods": _records(per),
            }
        )
    else:
        console.print(
            _table(
                per,
                f"{c.name}: emergency levels",
                [
                    "period",
                    "level",
                    "event",
                    "unserved_share",
                    "tier1_unserved_share",
                    "failed_critical",
                    "cascade_depth",
                    "reason",
                ],
                most=100,
            )
        )

    def plots(d: Path):
        from resiliopt.emergency.plots import levels_plot, served_plot

        levels_plot(per, cfg.names, d, f"{c.name}: levels and indicators ({ev.path.parent.name})")
        served_plot(per, d, f"{c.name}: served demand per layer (observed state)")

    _write(out, "monitor", force, {"periods": per}, plots)


@emergency_app.command("diagnose")
def diagnose_cmd(
    case: str = CASE,
    event: str = EVENT,
    time: float = TIME.option(None, "--time", help="time stamp to diagnose (default: the first)"),
    top: int = TOP,
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """What is lost where, binding capacities and their prices, critical elements, single points
    of failure now, and which damaged sites the crews cannot reach."""
    from resiliopt.emergency.monitor import Monitor, damaged_of, diagnose, failed_of, observed_states
    from resiliopt.emergency.response import element_sites

    _check_out(out, "diagnose", force)
    c, ev, _ = _load(case, event)
    t, s = _time(observed_states(ev.observations), time, ev.path)
    tabs = diagnose(Monitor(c, top_n=top), failed_of(s), top=top)
    if ev.roads is not None:
        sites = element_sites(c)
        dmg = [tuple(k) for k in damaged_of(s).to_numpy()]
        near = {k: ev.roads.nearest(sites.at[k, "x"], sites.at[k, "y"]) for k in dmg}
        hours = ev.roads.travel_hours(t, near)
        tabs["access"] = pd.DataFrame(
            [(*k, near[k], hours[k], hours[k] == float("inf")) for k in dmg],
            columns=["kind", "layer", "element", "road_node", "travel_hours", "unreachable"],
        )
        tabs["closed_roads"] = pd.DataFrame({"link": sorted(ev.roads.closed(t))})
    if as_json:
        print_json({"case": c.name, "time": t, **{k: _records(v) for k, v in tabs.items()}})
    else:
        console.print(_table(tabs["indicators"], f"{c.name} at time {t:g}: indicators"))
        for k in ("layers", "lost", "binding", "critical", "spof", "access"):
            if k in tabs and len(tabs[k]):
                console.print(_table(tabs[k], k, most=top))
    _write(out, "diagnose", force, tabs)


@emergency_app.command("respond")
def respond_cmd(
    case: str = CASE,
    event: str = EVENT,
    time: float = TIME.option(None, "--time", help="time stamp to plan from (default: the first)"),
    solver: str = typer.Option("highs", "--solver", help="highs or scip"),
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """One re-plan: the td-INDP over the level's horizon from the observed state at --time,
    with the level's resources and tier-1 share; checked against the input data."""
    from resiliopt.emergency.levels import LevelMachine
    from resiliopt.emergency.monitor import Monitor, damaged_of, failed_of, observed_states
    from resiliopt.emergency.response import Planner, _levels_settings
    from resiliopt.infra.restoration import check_plan

    _check_out(out, "respond", force)
    c, ev, cfg = _load(case, event)
    states = observed_states(ev.observations)
    t, _ = _time(states, time, ev.path)
    mon, machine = Monitor(c), LevelMachine(cfg)
    for tt, s in states:  # the level at t depends on the history before it
        x, _, _ = mon.indicators(failed_of(s))
        lv = machine.step(x)
        if tt == t:
            break
    v, horizon, tier1 = _levels_settings(cfg, lv["level_index"], c)
    planner = Planner(c, solver=solver)
    dmg = damaged_of(s)
    if dmg.empty:
        raise InputError(
            f"nothing is damaged at time {t:g}: no repair to plan", file=ev.path, location="--time"
        )
    plan = planner.plan(dmg, horizon, v, v, tier1)
    chk = check_plan(c, plan, planner.restorer(horizon, tier1).options)
    rep = plan.repairs.assign(period=plan.repairs["period"] + t - 1)
    info = {
        "case": c.name,
        "time": t,
        "level": lv["level"],
        "resources_per_period": v,
        "horizon": horizon,
        "tier1_min_share": tier1,
        "mip": _records(plan.mip),
        "plan_check": bool(chk.ok),
        "objective": plan.objective,
        "repairs": _records(rep),
    }
    if as_json:
        print_json(info)
    else:
        console.print(
            f"{c.name} at time {t:g}: level {lv['level']}, v = {v:g}, horizon {horizon}, "
            f"MIP gap {plan.max_gap:.2g}, plan check {'passed' if chk.ok else 'FAILED'}"
        )
        console.print(_table(rep, "repairs (period = time stamp)", most=100))
    _write(
        out, "respond", force, {"repairs": rep, "mip": plan.mip, "served": plan.served, "check": chk.checks}
    )
    if not chk.ok:
        raise typer.Exit(1)


@emergency_app.command("replay")
def replay_cmd(
    case: str = CASE,
    event: str = EVENT,
    policies: str = typer.Option(
        "closed,open,criticality,population",
        "--policies",
        parser=opt.name_list,
        help="comma-separated: closed, open, criticality, population",
    ),
    seeds: int = SEEDS.option(1, "--seeds", help="random repair-duration draws per policy"),
    seed: int = opt.SEED.option(0, "--seed", help="first seed"),
    max_periods: int = PERIODS.option(40, "--max-periods"),
    dispersion: float = DISPERSION.option(0.5, "--dispersion", help="log-sd of the random repair durations"),
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """Replay the event's damage through the loop: closed loop vs open loop vs priority rules
    on the same random repair durations; levels, dispatch plans, served demand per layer."""
    from resiliopt.emergency.monitor import Monitor, damaged_of, observed_states
    from resiliopt.emergency.response import POLICIES, Planner, run_loop

    pols = [p.strip() for p in policies.split(",") if p.strip()]
    bad = [p for p in pols if p not in POLICIES]
    if not pols or bad:
        raise InputError(
            f"unknown policy {bad[0] if bad else '(none)'}; use {', '.join(POLICIES)}", location="--policies"
        )
    _check_out(out, "replay", force)
    c, ev, cfg = _load(case, event)
    _, s0 = observed_states(ev.observations)[0]
    dmg = damaged_of(s0)
    mon, planner = Monitor(c), Planner(c)
    results, summary = {}, []
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("replay", total=len(pols) * seeds)
        for k in range(seeds):
            for p in pols:
                r = run_loop(
                    c,
                    cfg,
                    dmg,
                    p,
                    roads=ev.roads,
                    period_hours=ev.spec.period_hours,
                    seed=seed + k,
                    dispersion=dispersion,
                    max_periods=max_periods,
                    monitor=mon,
                    planner=planner,
                )
                results[(p, seed + k)] = r
                summary.append(r.summary)
                bar.advance(task)
    summ = pd.DataFrame(summary)
    per = pd.concat([r.periods.assign(policy=p, seed=s) for (p, s), r in results.items()], ignore_index=True)
    disp = pd.concat(
        [r.dispatch.assign(policy=p, seed=s) for (p, s), r in results.items()], ignore_index=True
    )
    if as_json:
        print_json(
            {
                "case": c.name,
                "event": str(ev.path),
                "synthetic": ev.spec.synthetic,
                "damaged": len(dmg),
                "summary": _records(summ),
            }
        )
    else:
        console.print(
            _table(
                summ,
                f"{c.name}: {len(dmg)} damaged elements; policies compared",
                [
                    "policy",
                    "seed",
                    "unserved_area",
                    "periods_to_full_service",
                    "periods_to_all_repaired",
                    "deferred",
                    "max_level",
                    "max_mip_gap",
                ],
                most=100,
            )
        )

    def plots(d: Path):
        from resiliopt.emergency.plots import gantt_plot, levels_plot, served_plot

        first = results[(pols[0], seed)]
        levels_plot(first.periods, cfg.names, d, f"{c.name}: levels, {pols[0]} loop")
        served_plot(first.periods, d, f"{c.name}: served demand per layer, {pols[0]} loop")
        gantt_plot(first.dispatch, d, f"{c.name}: dispatch plan, {pols[0]} loop")

    _write(out, "replay", force, {"summary": summ, "periods": per, "dispatch": disp}, plots)


@emergency_app.command("learn")
def learn_cmd(
    case: str = CASE,
    event: str = EVENT,
    out: str = typer.Option(None, "--out", help="write the updated case (a copy) and learned.yaml here"),
    prior_dispersion: float = PRIOR_DISPERSION.option(0.5, "--prior-dispersion"),
    prior_strength: float = STRENGTH.option(5.0, "--prior-strength"),
    as_json: bool = JSON,
    force: bool = opt.FORCE,
) -> None:
    """Fit element fragility (lognormal, maximum likelihood against the observed PGA) and
    update repair durations (lognormal, Bayesian); write an updated case."""
    from resiliopt.emergency.learn import learn_event
    from resiliopt.emergency.update import write_updated_case

    _check_out(out, "learn", force)
    c, ev, _ = _load(case, event)
    learned, frag, times = learn_event(c, ev.observations, prior_dispersion, prior_strength)
    if ev.spec.truth:
        learned["truth"] = ev.spec.truth
    if as_json:
        print_json(learned)
    else:
        console.print(_table(frag, "fragility (maximum likelihood)"))
        console.print(
            _table(
                pd.DataFrame(learned["repair_durations"]),
                "repair durations (posterior)",
                [
                    "layer",
                    "kind",
                    "prior_median",
                    "n_complete",
                    "n_censored",
                    "median",
                    "dispersion",
                    "method",
                ],
            )
        )
    if out is not None:
        with atomic_directory(out, "emergency learn", force) as tmp:
            write_updated_case(c, times, learned, tmp)
        note.print(f"wrote {out}", markup=False)
