"""The loop's operations on one event, as an analyst runs them: monitor, diagnose, respond, learn.

Each function takes a case (bundled name, folder, ``case.yaml`` or a loaded
:class:`~resiliopt.case.infra.InfraCase`) and an event (folder, ``event.yaml``, a bare
observations file, or a loaded :class:`~resiliopt.emergency.event.Event`), returns a result
of tidy tables (pandas DataFrames with named columns) and, given ``out``, writes its tables
(CSV) and plots into that folder: checked before any work (:func:`resiliopt._atomic.check_output_dir`),
written whole or not at all (:func:`resiliopt._atomic.atomic_directory`). They never print.
``replay`` (the loop over policies and seeds) is :func:`resiliopt.emergency.replay.replay`.
The models behind them: docs/emergency.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._tables import write_tables
from resiliopt.case.infra import InfraCase, load_infra_case
from resiliopt.emergency.config import EmergencyConfig
from resiliopt.emergency.event import Event, check_backup_plan, check_event, event_config, load_event
from resiliopt.emergency.learn import check_prior, learn_event
from resiliopt.emergency.levels import LevelMachine
from resiliopt.emergency.monitor import Monitor, damaged_of, diagnose, failed_of, observed_states
from resiliopt.emergency.plots import levels_plot, served_plot
from resiliopt.emergency.response import Planner, element_sites, level_settings
from resiliopt.emergency.update import write_updated_case
from resiliopt.errors import InputError
from resiliopt.infra.restoration import Plan, PlanCheck, check_plan

#: the columns of :attr:`RespondResult.backups`
BACKUP_COLUMNS = ["layer", "node", "period", "supply"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as the steps of a long operation finish."""


def _supply(placed: pd.DataFrame | None) -> float:
    """Total supply of the backup units a :class:`~resiliopt.emergency.monitor.Monitor` placed."""
    return float(placed["supply"].sum()) if placed is not None and len(placed) else 0.0


def records(df: pd.DataFrame) -> list[dict]:
    """Rows of ``df`` as dicts, missing values as None (strict JSON)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def check_out(out: str | Path | None, command: str, force: bool = False) -> None:
    """Refuse ``out`` before any work if writing there would replace files resiliopt did not write."""
    if out is not None:
        check_output_dir(out, f"emergency {command}", force)


def open_event(
    case: str | Path | InfraCase, event: str | Path | Event
) -> tuple[InfraCase, Event, EmergencyConfig]:
    """Load the case and the event, check that everything the event names is in the case
    (:func:`~resiliopt.emergency.event.check_event`), and return the emergency configuration
    (the event's ``emergency:`` section, else the case's), checked with every rule."""
    c = case if isinstance(case, InfraCase) else load_infra_case(case)
    if isinstance(event, Event):
        check_event(event, c)
        ev = event
    else:
        ev = load_event(event, c)
    return c, ev, event_config(c, ev)


#: the solvers of the td-INDP re-plan (``--solver``)
SOLVERS = ("highs", "scip")


def check_option(value, name: str, kind: type, lo: float, hi: float) -> None:
    """Refuse an option value from the Python API that the command line would refuse while it
    is read (:mod:`resiliopt.cli._emergency_options`): not a ``kind``, not finite, or outside
    ``[lo, hi]`` (InputError naming the option), before any work."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not (ok and math.isfinite(value) and lo <= value <= hi):
        what = "a whole number" if kind is int else "a finite number"
        raise InputError(f"must be {what} in [{lo:g}, {hi:g}] (got {value!r})", location=name)


def state_at(
    states: list[tuple[float, pd.DataFrame]], time: float | None, file: str | Path | None = None
) -> tuple[float, pd.DataFrame]:
    """The observed state at time stamp ``time`` (None: the first); InputError (``--time``)
    naming the first time stamps when there is no observation at ``time``."""
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


# --------------------------------------------------------------------------- monitor
@dataclass
class MonitorResult:
    case: str
    event: Path
    synthetic: bool
    #: one row per time stamp: period (the time stamp), the level columns of
    #: :meth:`~resiliopt.emergency.levels.LevelMachine.step`, the indicators, failed, degraded
    periods: pd.DataFrame
    level_names: list[str]

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            "event": str(self.event),
            "synthetic": self.synthetic,
            "periods": records(self.periods),
        }


def write_monitor(result: MonitorResult, folder: Path) -> None:
    """``periods.csv`` and the levels and served-demand plots."""
    write_tables(folder, {"periods": result.periods})
    per, name = result.periods, result.event.parent.name
    levels_plot(per, result.level_names, folder, f"{result.case}: levels and indicators ({name})")
    served_plot(per, folder, f"{result.case}: served demand per layer (observed state)")


def monitor_event(
    case: str | Path | InfraCase,
    event: str | Path | Event,
    out: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> MonitorResult:
    """Indicators and the emergency level at every time stamp of the observations."""
    check_out(out, "monitor", force)
    c, ev, cfg = open_event(case, event)
    states = observed_states(ev.observations)
    mon, machine, rows = Monitor(c), LevelMachine(cfg), []
    if progress is not None:
        progress(0, len(states))
    for i, (t, s) in enumerate(states):
        x, _, _ = mon.indicators(failed_of(s), ev.backup_units(t))
        rows.append(
            {
                "period": t,
                **machine.step(x),
                **x,
                "failed": int((s["status"] == "down").sum()),
                "degraded": int((s["status"] == "degraded").sum()),
                **({"backup_supply": _supply(mon.placed)} if ev.spec.backups else {}),
            }
        )
        if progress is not None:
            progress(i + 1, len(states))
    res = MonitorResult(c.name, ev.path, ev.spec.synthetic, pd.DataFrame(rows), list(cfg.names))
    if out is not None:
        with atomic_directory(out, "emergency monitor", force) as tmp:
            write_monitor(res, tmp)
    return res


# --------------------------------------------------------------------------- diagnose
@dataclass
class DiagnoseResult:
    case: str
    time: float
    #: indicators, layers, lost, binding, cascade, spof, critical
    #: (:func:`~resiliopt.emergency.monitor.diagnose`) and, with a road layer, access
    #: (kind, layer, element, road_node, travel_hours, unreachable) and closed_roads (link)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"case": self.case, "time": self.time, **{k: records(v) for k, v in self.tables.items()}}


def diagnose_event(
    case: str | Path | InfraCase,
    event: str | Path | Event,
    time: float | None = None,
    top: int = 10,
    out: str | Path | None = None,
    force: bool = False,
) -> DiagnoseResult:
    """What is lost where, binding capacities and their prices, critical elements, single
    points of failure now, and which damaged sites the crews cannot reach, at time stamp
    ``time`` (None: the first)."""
    check_option(top, "--top", int, 1, 100_000)
    if time is not None:
        check_option(time, "--time", float, 0, 1e12)
    check_out(out, "diagnose", force)
    c, ev, _ = open_event(case, event)
    t, s = state_at(observed_states(ev.observations), time, ev.path)
    tabs = diagnose(Monitor(c, top_n=top), failed_of(s), top=top, backups=ev.backup_units(t))
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
    res = DiagnoseResult(c.name, t, tabs)
    if out is not None:
        with atomic_directory(out, "emergency diagnose", force) as tmp:
            write_tables(tmp, res.tables)
    return res


# --------------------------------------------------------------------------- respond
@dataclass
class RespondResult:
    case: str
    time: float
    level: str
    resources_per_period: float
    horizon: int
    tier1_min_share: float | None
    plan: Plan
    check: PlanCheck
    #: the plan's repairs with ``period`` shifted to the event's time stamps
    repairs: pd.DataFrame
    #: layer, node, period (time stamp), supply: where the plan places the event's backup units
    backups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BACKUP_COLUMNS))

    @property
    def ok(self) -> bool:
        """Whether the plan passed the independent check against the input data."""
        return bool(self.check.ok)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "repairs": self.repairs,
            **({"backups": self.backups} if len(self.backups) else {}),
            "mip": self.plan.mip,
            "served": self.plan.served,
            "check": self.check.checks,
        }

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            "time": self.time,
            "level": self.level,
            "resources_per_period": self.resources_per_period,
            "horizon": self.horizon,
            "tier1_min_share": self.tier1_min_share,
            "mip": records(self.plan.mip),
            "plan_check": self.ok,
            "objective": self.plan.objective,
            "repairs": records(self.repairs),
            "backups": records(self.backups),
        }


def respond_event(
    case: str | Path | InfraCase,
    event: str | Path | Event,
    time: float | None = None,
    solver: str = "highs",
    out: str | Path | None = None,
    force: bool = False,
) -> RespondResult:
    """One re-plan: the td-INDP over the level's horizon from the observed state at ``time``
    (None: the first), with the level's resources and tier-1 share; checked against the input
    data by :func:`~resiliopt.infra.restoration.check_plan`. The tables are written to ``out``
    whether or not the check passes (``result.ok`` says which)."""
    if time is not None:
        check_option(time, "--time", float, 0, 1e12)
    if solver not in SOLVERS:
        raise InputError(f"{solver!r} is not a solver; use {' or '.join(SOLVERS)}", location="--solver")
    check_out(out, "respond", force)
    c, ev, cfg = open_event(case, event)
    states = observed_states(ev.observations)
    t, _ = state_at(states, time, ev.path)
    mon, machine = Monitor(c), LevelMachine(cfg)
    for tt, s in states:  # the level at t depends on the history before it
        x, _, _ = mon.indicators(failed_of(s), ev.backup_units(tt))
        lv = machine.step(x)
        if tt == t:
            break
    v, horizon, tier1 = level_settings(cfg, lv["level_index"], c)
    planner = Planner(c, solver=solver)
    dmg = damaged_of(s)
    if dmg.empty:
        raise InputError(
            f"nothing is damaged at time {t:g}: no repair to plan", file=ev.path, location="--time"
        )
    units = ev.backup_units(t)
    plan = planner.plan(dmg, horizon, v, v, tier1, units)
    chk = check_plan(c, plan, planner.restorer(horizon, tier1, units).options, damage=dmg, resources=v)
    if ev.spec.backups:  # the units placed against the event file, not the model's options
        ok, detail = check_backup_plan(plan.nodes, ev.spec, t, c)
        row = pd.DataFrame([("backup units as the event gives them", ok, detail)], columns=chk.checks.columns)
        chk = dataclasses.replace(chk, checks=pd.concat([chk.checks, row], ignore_index=True))
    rep = plan.repairs.assign(period=plan.repairs["period"] + t - 1)
    bk = plan.nodes[plan.nodes["backup"] > 1e-9] if len(plan.nodes) else plan.nodes
    bk = pd.DataFrame(
        {
            "layer": bk.get("layer", []),
            "node": bk.get("node", []),
            "period": bk["period"] + t - 1 if len(bk) else [],
            "supply": bk.get("backup", []),
        },
        columns=BACKUP_COLUMNS,
    )
    res = RespondResult(c.name, t, lv["level"], v, horizon, tier1, plan, chk, rep, bk.reset_index(drop=True))
    if out is not None:
        with atomic_directory(out, "emergency respond", force) as tmp:
            write_tables(tmp, res.tables())
    return res


# --------------------------------------------------------------------------- learn
@dataclass
class LearnResult:
    case: str
    #: what ``learned.yaml`` holds: the fits, the priors and posteriors (plain data)
    learned: dict
    #: one row per group (all, each layer): the maximum-likelihood fragility or why none
    fragility: pd.DataFrame
    #: one row per element class (layer, kind): prior, data and posterior of the durations
    repair_durations: pd.DataFrame
    #: kind, layer, element, repair_time: the updated repair time of each element
    repair_times: pd.DataFrame
    #: the updated case.yaml, when written
    updated_case: Path | None = None


def learn_from_event(
    case: str | Path | InfraCase,
    event: str | Path | Event,
    prior_dispersion: float = 0.5,
    prior_strength: float = 5.0,
    out: str | Path | None = None,
    force: bool = False,
) -> LearnResult:
    """Fit element fragility (lognormal, maximum likelihood against the observed PGA) and
    update repair durations (lognormal, Bayesian: :func:`~resiliopt.emergency.learn.learn_event`);
    with ``out``, write the updated case (a copy) and ``learned.yaml`` there."""
    check_prior(prior_dispersion, prior_strength)
    check_out(out, "learn", force)
    c, ev, _ = open_event(case, event)
    learned, frag, times = learn_event(c, ev.observations, prior_dispersion, prior_strength)
    if ev.spec.truth:
        learned["truth"] = ev.spec.truth
    res = LearnResult(c.name, learned, frag, pd.DataFrame(learned["repair_durations"]), times)
    if out is not None:
        with atomic_directory(out, "emergency learn", force) as tmp:
            written = write_updated_case(c, times, learned, tmp)
        res.updated_case = Path(out) / written.name
    return res
