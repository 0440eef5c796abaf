r"""Replay an event through the loop: every policy on the same random repair durations.

For each seed :math:`s \in \{s_0, \dots, s_0 + n - 1\}` and each policy, one run of
:func:`~resiliopt.emergency.response.run_loop` from the damage observed at the event's first
time stamp; the random durations of seed :math:`s` are drawn once per element from
``SeedSequence([s, 7])`` (:func:`~resiliopt.emergency.response.sample_durations`), so every
policy meets the same durations (common random numbers). One
:class:`~resiliopt.emergency.monitor.Monitor` and one
:class:`~resiliopt.emergency.response.Planner` serve every run (the served-demand LP and the
td-INDP models are built once and re-solved). The indicators of a failed set are computed
once per replay by :class:`~resiliopt.emergency.evaluate_run.CachedMonitor` (a fast path
checked against the certified monitor on the first failed set; docs/emergency.md, "Speed").
docs/emergency.md, "Respond".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory
from resiliopt.case.infra import InfraCase
from resiliopt.emergency.config import EmergencyConfig
from resiliopt.emergency.evaluate_run import CachedMonitor
from resiliopt.emergency.event import Event, RoadAccess
from resiliopt.emergency.monitor import Monitor, damaged_of, observed_states
from resiliopt.emergency.operations import Progress, check_out, open_event, records, write_tables
from resiliopt.emergency.plots import gantt_plot, levels_plot, served_plot
from resiliopt.emergency.response import (
    POLICIES,
    Aftershock,
    Planner,
    element_sites,
    run_loop,
    sample_durations,
)
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit
from resiliopt.infra.damage import draw_damage, failure_table


@dataclass
class ReplayResult:
    """Tidy tables of every (policy, seed) run: each row names its ``policy`` and ``seed``."""

    case: str
    event: Path
    synthetic: bool
    level_names: list[str]
    policies: list[str]
    seeds: list[int]
    #: kind, layer, element: the damage at the event's first time stamp
    damaged: pd.DataFrame
    #: one row per run: policy, seed, periods, unserved_area, tier1_unserved_area,
    #: periods_to_full_service, periods_to_all_repaired, deferred, max_level, max_mip_gap
    summary: pd.DataFrame
    #: one row per run and period: period, level..., indicators..., resources, horizon,
    #: damaged, under_way, started, unreachable, policy, seed
    periods: pd.DataFrame
    #: one row per travel or repair: period, crew, kind, layer, element, action, start, end,
    #: travel_hours, policy, seed
    dispatch: pd.DataFrame

    def run(self, policy: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(periods, dispatch)`` of one run, without the policy and seed columns."""
        out = []
        for df in (self.periods, self.dispatch):
            one = df[(df["policy"] == policy) & (df["seed"] == seed)]
            out.append(one.drop(columns=["policy", "seed"]).reset_index(drop=True))
        return out[0], out[1]

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            "event": str(self.event),
            "synthetic": self.synthetic,
            "damaged": len(self.damaged),
            "summary": records(self.summary),
        }


def write_replay(result: ReplayResult, folder: Path) -> None:
    """``summary.csv``, ``periods.csv``, ``dispatch.csv`` and, for the first policy at the first
    seed, the levels, served-demand and dispatch (Gantt) plots."""
    write_tables(folder, {"summary": result.summary, "periods": result.periods, "dispatch": result.dispatch})
    pol = result.policies[0]
    per, disp = result.run(pol, result.seeds[0])
    levels_plot(per, result.level_names, folder, f"{result.case}: levels, {pol} loop")
    served_plot(per, folder, f"{result.case}: served demand per layer, {pol} loop")
    gantt_plot(disp, folder, f"{result.case}: dispatch plan, {pol} loop")


def check_policies(policies: list[str] | tuple[str, ...] | str) -> list[str]:
    """The policy names (a list, or comma-separated); InputError (``--policies``) for none or
    an unknown one."""
    if isinstance(policies, str):
        policies = policies.split(",")
    pols = [p.strip() for p in policies if p.strip()]
    bad = [p for p in pols if p not in POLICIES]
    if not pols or bad:
        raise InputError(
            f"unknown policy {bad[0] if bad else '(none)'}; use {', '.join(POLICIES)}", location="--policies"
        )
    return pols


def event_aftershocks(case: InfraCase, event: Event, seed: int, dispersion: float) -> list[Aftershock]:
    """The event file's ``aftershocks:`` as the loop's :class:`Aftershock` entries: listed
    elements checked against the case (InputError naming the file and
    ``aftershocks[k].elements[j]``), or a draw at the entry's magnitude from the case's
    failure probabilities with the one sampler (draw ``k`` of seed ``seed``). The new repairs'
    durations are drawn from stream ``8 + k`` of the seed (:func:`sample_durations`)."""
    sites = element_sites(case)
    out = []
    for k, a in enumerate(event.spec.aftershocks):
        where = f"aftershocks[{k}]"
        if a.elements is not None:
            rows = []
            for j, text in enumerate(a.elements):
                parts = tuple(p.strip() for p in text.split(":"))
                if len(parts) != 3 or parts not in sites.index:
                    why = "is not KIND:LAYER:ID" if len(parts) != 3 else "is not an element of the case"
                    raise InputError(
                        f"{text!r} {why} (e.g. node:power:18)",
                        file=event.path,
                        location=f"{where}.elements[{j}]",
                    )
                rows.append(parts)
            dmg = pd.DataFrame(rows, columns=["kind", "layer", "element"]).drop_duplicates()
        else:
            try:
                table = failure_table(case, a.magnitude, f"{where}.magnitude")
            except InputError as exc:
                raise InputError(exc.message, file=event.path, location=f"{where}.magnitude") from None
            dmg = draw_damage(table, seed, a.magnitude, k)
        tau = sample_durations(sites, seed, dispersion, stream=8 + k)
        out.append(Aftershock(a.time, dmg.reset_index(drop=True), tau, a.what))
    return out


def replay_damage(
    case: InfraCase,
    cfg: EmergencyConfig,
    damage: pd.DataFrame,
    policies: list[str] | tuple[str, ...] | str = POLICIES,
    seeds: list[int] | tuple[int, ...] = (0,),
    roads: RoadAccess | None = None,
    period_hours: float = 24.0,
    dispersion: float = 0.5,
    max_periods: int = 40,
    progress: Progress | None = None,
    backups: Callable[[float], tuple[BackupUnit, ...]] | None = None,
    aftershocks=None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every policy from ``damage`` (kind, layer, element) at every seed (seed-major order):
    ``(summary, periods, dispatch)``, the tidy tables of :class:`ReplayResult`. ``backups(t)``:
    the mobile backup units at hand in period ``t`` (an event's, :meth:`Event.backup_units`);
    ``aftershocks(seed)``: the mid-event damage of a seed (a list of :class:`Aftershock`)."""
    pols = check_policies(policies)
    # the indicators of a failed set once per replay, by the checked fast path of evaluate
    # (its first failed set against the certified monitor), the cascade depth kept
    mon, planner = CachedMonitor(Monitor(case), cfg), Planner(case)
    mon.cascade = True
    summary, per, disp = [], [], []
    total, done = len(pols) * len(seeds), 0
    if progress is not None:
        progress(0, total)
    for s in seeds:
        for p in pols:
            r = run_loop(
                case,
                cfg,
                damage,
                p,
                roads=roads,
                period_hours=period_hours,
                seed=s,
                dispersion=dispersion,
                max_periods=max_periods,
                monitor=mon,
                planner=planner,
                backups=backups,
                aftershocks=aftershocks(s) if aftershocks is not None else (),
            )
            summary.append(r.summary)
            per.append(r.periods.assign(policy=p, seed=s))
            disp.append(r.dispatch.assign(policy=p, seed=s))
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.DataFrame(summary), pd.concat(per, ignore_index=True), pd.concat(disp, ignore_index=True)


def replay(
    case: str | Path | InfraCase,
    event: str | Path | Event,
    policies: list[str] | tuple[str, ...] | str = POLICIES,
    seeds: int = 1,
    seed: int = 0,
    max_periods: int = 40,
    dispersion: float = 0.5,
    out: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ReplayResult:
    """Replay the event's damage (its first time stamp) through the loop under every policy
    and ``seeds`` draws of the random repair durations (seeds ``seed`` ... ``seed + seeds - 1``,
    log-sd ``dispersion``), each run at most ``max_periods`` periods. With ``out``, the tables
    and plots are written there (:func:`write_replay`). ``progress(done, total)`` after each run."""
    pols = check_policies(policies)
    if seeds < 1:
        raise InputError(f"needs at least one seed (got {seeds})", location="--seeds")
    check_out(out, "replay", force)
    c, ev, cfg = open_event(case, event)
    _, s0 = observed_states(ev.observations)[0]
    dmg = damaged_of(s0)
    run_seeds = [seed + k for k in range(seeds)]
    if ev.spec.aftershocks:  # the listed elements and the magnitudes are checked before any run
        event_aftershocks(c, ev, seed, dispersion)
    summary, per, disp = replay_damage(
        c,
        cfg,
        dmg,
        pols,
        run_seeds,
        ev.roads,
        ev.spec.period_hours,
        dispersion,
        max_periods,
        progress,
        ev.backup_units if ev.spec.backups else None,
        aftershocks=(lambda s: event_aftershocks(c, ev, s, dispersion)) if ev.spec.aftershocks else None,
    )
    res = ReplayResult(
        case=c.name,
        event=ev.path,
        synthetic=ev.spec.synthetic,
        level_names=list(cfg.names),
        policies=pols,
        seeds=run_seeds,
        damaged=dmg,
        summary=summary,
        periods=per,
        dispatch=disp,
    )
    if out is not None:
        inputs = {
            "case": c.name,
            "case_path": str(Path(c.path).resolve()),
            "event": str(Path(ev.path).resolve()),
        }  # for the report's map
        with atomic_directory(out, "emergency replay", force, kind="emergency-replay", inputs=inputs) as tmp:
            write_replay(res, tmp)
    return res
