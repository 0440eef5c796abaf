"""CLI: ``resiliopt emergency monitor|diagnose|respond|replay|learn CASE EVENT`` and
``resiliopt emergency evaluate CASE`` (docs/emergency.md).

EVENT is an event folder or its ``event.yaml`` (observations, roads, levels), or a bare
observations file (CSV or YAML); the levels then come from the case's ``emergency:`` section.
Each command parses its options, calls one function of :mod:`resiliopt.emergency.operations`
or :mod:`resiliopt.emergency.replay` (which also writes ``--out``) and prints its result.
The library is imported when a command runs: it loads Pyomo, HiGHS and networkx (1.4-1.7 s
measured with ``python -X importtime``), which ``resiliopt --help`` and the other commands skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import typer
from rich.progress import Progress

from resiliopt.cli import _emergency_options as eopt
from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import frame_table, plain_console, print_json

console = plain_console()
note = plain_console(stderr=True)
emergency_app = typer.Typer(
    name="emergency",
    help="The emergency loop: monitor, diagnose, respond, replay an event, learn from it; evaluate "
    "the policies over many events.",
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


_table = partial(frame_table, most=25, align=False)  # every emergency table: columns left-aligned


@contextmanager
def _bar(what: str, enabled: bool) -> Iterator:
    """A rich progress bar on the console; yields the library's ``progress(done, total)``."""
    with Progress(console=console, transient=True, disable=not enabled) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _wrote(out: str | None) -> None:
    if out is not None:
        note.print(f"wrote {out}", markup=False)


@emergency_app.command("monitor")
def monitor_cmd(
    case: str = CASE, event: str = EVENT, as_json: bool = JSON, out: str = OUT, force: bool = opt.FORCE
) -> None:
    """Indicators and the emergency level at every time stamp of the observations."""
    from resiliopt.emergency.operations import monitor_event  # lazy: slow to import (module doc)

    with _bar("monitor", not as_json) as progress:
        res = monitor_event(case, event, out, force, progress=progress)
    if as_json:
        print_json(res.as_dict())
    else:
        cols = ["period", "level", "event", "unserved_share", "tier1_unserved_share"]
        cols += ["failed_critical", "cascade_depth", "reason"]
        console.print(_table(res.periods, f"{res.case}: emergency levels", cols, most=100))
    _wrote(out)


@emergency_app.command("diagnose")
def diagnose_cmd(
    case: str = CASE,
    event: str = EVENT,
    time: float = eopt.TIME.option(None, "--time", help="time stamp to diagnose (default: the first)"),
    top: int = TOP,
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """What is lost where, binding capacities and their prices, critical elements, single points
    of failure now, and which damaged sites the crews cannot reach."""
    from resiliopt.emergency.operations import diagnose_event  # lazy: slow to import (module doc)

    res = diagnose_event(case, event, time, top, out, force)
    if as_json:
        print_json(res.as_dict())
    else:
        console.print(_table(res.tables["indicators"], f"{res.case} at time {res.time:g}: indicators"))
        for k in ("layers", "lost", "binding", "critical", "spof", "access"):
            if k in res.tables and len(res.tables[k]):
                console.print(_table(res.tables[k], k, most=top))
    _wrote(out)


@emergency_app.command("respond")
def respond_cmd(
    case: str = CASE,
    event: str = EVENT,
    time: float = eopt.TIME.option(None, "--time", help="time stamp to plan from (default: the first)"),
    solver: str = typer.Option("highs", "--solver", parser=eopt.solver_name, help="highs or scip"),
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """One re-plan: the td-INDP over the level's horizon from the observed state at --time,
    with the level's resources and tier-1 share; checked against the input data."""
    from resiliopt.emergency.operations import respond_event  # lazy: slow to import (module doc)

    res = respond_event(case, event, time, solver, out, force)
    if as_json:
        print_json(res.as_dict())
    else:
        console.print(
            f"{res.case} at time {res.time:g}: level {res.level}, v = {res.resources_per_period:g}, "
            f"horizon {res.horizon}, MIP gap {res.plan.max_gap:.2g}, "
            f"plan check {'passed' if res.ok else 'FAILED'}"
        )
        console.print(_table(res.repairs, "repairs (period = time stamp)", most=100))
    _wrote(out)
    if not res.ok:
        raise typer.Exit(1)


@emergency_app.command("replay")
def replay_cmd(
    case: str = CASE,
    event: str = EVENT,
    policies: str = typer.Option(
        "closed,open,criticality,population",
        "--policies",
        parser=eopt.policy_list,
        help="comma-separated: closed, open, criticality, population",
    ),
    seeds: int = eopt.SEEDS.option(1, "--seeds", help="random repair-duration draws per policy"),
    seed: int = opt.SEED.option(0, "--seed", help="first seed"),
    max_periods: int = eopt.PERIODS.option(40, "--max-periods"),
    dispersion: float = eopt.DISPERSION.option(
        0.5, "--dispersion", help="log-sd of the random repair durations"
    ),
    as_json: bool = JSON,
    out: str = OUT,
    force: bool = opt.FORCE,
) -> None:
    """Replay the event's damage through the loop: closed loop vs open loop vs priority rules
    on the same random repair durations; levels, dispatch plans, served demand per layer."""
    from resiliopt.emergency.replay import replay  # lazy: slow to import (module doc)

    with _bar("replay", not as_json) as progress:
        res = replay(
            case, event, policies, seeds, seed, max_periods, dispersion, out, force, progress=progress
        )
    if as_json:
        print_json(res.as_dict())
    else:
        cols = ["policy", "seed", "unserved_area", "periods_to_full_service", "periods_to_all_repaired"]
        cols += ["deferred", "max_level", "max_mip_gap"]
        title = f"{res.case}: {len(res.damaged)} damaged elements; policies compared"
        console.print(_table(res.summary, title, cols, most=100))
    _wrote(out)


@emergency_app.command("learn")
def learn_cmd(
    case: str = CASE,
    event: str = EVENT,
    out: str = typer.Option(None, "--out", help="write the updated case (a copy) and learned.yaml here"),
    prior_dispersion: float = eopt.PRIOR_DISPERSION.option(0.5, "--prior-dispersion"),
    prior_strength: float = eopt.STRENGTH.option(5.0, "--prior-strength"),
    as_json: bool = JSON,
    force: bool = opt.FORCE,
) -> None:
    """Fit element fragility (lognormal, maximum likelihood against the observed PGA) and
    update repair durations (lognormal, Bayesian); write an updated case."""
    from resiliopt.emergency.operations import learn_from_event  # lazy: slow to import (module doc)

    res = learn_from_event(case, event, prior_dispersion, prior_strength, out, force)
    if as_json:
        print_json(res.learned)
    else:
        console.print(_table(res.fragility, "fragility (maximum likelihood)"))
        cols = ["layer", "kind", "prior_median", "n_complete", "n_censored", "median", "dispersion"]
        console.print(_table(res.repair_durations, "repair durations (posterior)", cols + ["method"]))
    _wrote(out)


@emergency_app.command("evaluate")
def evaluate_cmd(
    case: str = CASE,
    events: int = eopt.EVENTS.option(40, "--events", help="number of events"),
    seed: int = opt.SEED.option(
        0, "--seed", help="run seed (event e draws its numbers from the seed and e alone)"
    ),
    policies: str = typer.Option(
        "closed,open,criticality,population,oracle",
        "--policies",
        parser=eopt.policy_list,
        help="comma-separated, with closed: closed, open, criticality, population, oracle",
    ),
    source: str = eopt.SOURCE.option(
        "draw", "--source", help="drawn earthquakes or the case's damage scenarios"
    ),
    event: Path | None = typer.Option(
        None, "--event", help="event file whose road layer, period length and levels the events use"
    ),
    workers: int = opt.WORKERS.option(None, "--workers", help="local worker processes (default: all cores)"),
    scheduler: str = typer.Option(
        None, "--scheduler", parser=eopt.scheduler_address, help="Dask scheduler address, or 'local'"
    ),
    aftershocks: float = eopt.PROBABILITY.option(
        None, "--aftershocks", help="probability of an aftershock (or a failure found late) per event"
    ),
    aftershock_kind: str = eopt.AFTERSHOCK_KIND.option(
        "auto", "--aftershock-kind", help="quake (ground motion) or found (a failure found late)"
    ),
    damage_model: str = eopt.DAMAGE_MODEL.option(
        "auto", "--damage-model", help="the case's failure table, or ground motion and fragility"
    ),
    horizon: int = eopt.HORIZON.option(None, "--horizon", help="every level plans over this many periods"),
    max_periods: int = eopt.PERIODS.option(40, "--max-periods"),
    replan: str = eopt.REPLAN.option("every", "--replan", help="re-plan every period, or on a change"),
    dispersion: float = eopt.DISPERSION.option(0.5, "--dispersion", help="log-sd of the repair durations"),
    bootstrap: int = eopt.BOOTSTRAP.option(2000, "--bootstrap", help="bootstrap resamples B"),
    out: str = typer.Option(..., "--out", help="output folder (a stopped run resumes here)"),
    as_json: bool = JSON,
) -> None:
    """Replay every policy on many events with common random numbers; the paired difference to
    the closed loop with its bootstrap interval, and win rates (docs/emergency.md)."""
    from resiliopt.emergency.evaluate import PARTS, evaluate  # lazy: slow to import (module doc)

    try:
        with _bar("evaluate", not as_json) as progress:
            res = evaluate(
                case,
                events,
                seed,
                policies,
                source,
                workers,
                scheduler,
                out,
                aftershocks,
                progress,
                event=event,
                model={
                    "dispersion": dispersion,
                    "damage_model": damage_model,
                    "aftershock_kind": aftershock_kind,
                },
                max_periods=max_periods,
                horizon=horizon,
                replan=replan,
                bootstrap=bootstrap,
            )
    except KeyboardInterrupt:
        kept = len(list((Path(out) / PARTS).glob("runs-*.parquet")))
        note.print(f"interrupted: {kept} finished chunk(s) kept in {out}; run the same command to resume")
        raise typer.Exit(130) from None
    if as_json:
        print_json(res.as_dict())
    else:
        cmp_all = res.comparison[res.comparison["layer"] == "all"]
        cols = ["policy", "mean", "diff_vs_closed", "ci_low", "ci_high", "win_rate", "tie_rate", "loss_rate"]
        cols += [c for c in ("diff_vs_oracle",) if c in cmp_all]
        title = (
            f"{res.case}: {len(res.events)} events, unserved area (all layers), "
            f"paired with the closed loop ({bootstrap} bootstrap resamples, 95 %)"
        )
        console.print(_table(cmp_all, title, cols, most=100))
    _wrote(out)
