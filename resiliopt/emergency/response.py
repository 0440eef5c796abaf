r"""Respond: the closed loop (rolling-horizon td-INDP), the open loop, priority rules, an oracle.

One *period* :math:`t` of the loop (docs/emergency.md, "Respond"):

1. repairs whose end period has come are done; damage that appears now (an aftershock, a
   failure newly found: :class:`Aftershock`) joins the damaged set;
2. indicators (:class:`~resiliopt.emergency.monitor.Monitor`) and the emergency level
   (:class:`~resiliopt.emergency.levels.LevelMachine`); the level sets the resources :math:`v`,
   the horizon :math:`H` and the tier-1 minimum served share of the response model;
3. choose which repairs to start now, by a *policy*:

   * ``closed``: solve the td-INDP (:mod:`resiliopt.formulations.indp`) over :math:`H`
     periods from the observed state and start its first-period repairs (then observe again
     and re-plan: every period, or with ``replan="change"`` only on new information);
   * ``open``: solve the td-INDP once, at the first period, over a horizon long enough for
     every repair, and follow its order (damage that appears later joins the end of the list);
   * ``criticality``: start the damaged elements with the largest N-1 loss first;
   * ``population``: start the damaged elements serving the most people first;
   * ``oracle``: the closed loop planning with the *true* repair durations (where the
     td-INDP models durations) and the true end of every repair under way;

4. crews travel over the road layer (:class:`~resiliopt.emergency.event.RoadAccess`): a repair
   starts only at a site a depot reaches over open roads (closed bridges cut links), and the
   trip's hours are added to its duration;
5. a repair of element :math:`e` started in period :math:`t` ends in period
   :math:`t + \max(1, \lceil \tau_e + h_e / P \rceil)`, with :math:`\tau_e` its duration
   (periods), :math:`h_e` the travel hours and :math:`P` the period length (hours).

The planners' resources. A repair under way holds its resource use until it ends; the plan of
period :math:`t` gets, for its period :math:`j = 1..H`,

.. math:: v_j = \max\Bigl(0,\ v - \sum_{e \text{ under way},\ \hat E_e > t + j - 1} p_e\Bigr)

with :math:`\hat E_e` the end the planner believes: the start plus the planned duration (the
case's ``repair_time``) and the trip for ``closed`` (one more period once that has passed
without the repair ending), the true end for ``oracle``.

Readings (docs/emergency.md): repairs under way are *committed*: the planner treats them as
done and plans the rest with the resources they leave free. Elements a crew cannot reach now
are skipped in this period (they stay damaged and are planned again). A planning policy starts
its plan's first-period repairs and then, while resources are left (a site it planned first is
cut off), the plan's later repairs in their order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.emergency.config import EmergencyConfig
from resiliopt.emergency.event import RoadAccess
from resiliopt.emergency.levels import LevelMachine
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.planner import Planner, durations_modelled, whole_periods
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit
from resiliopt.infra.criticality import element_coordinates

POLICIES = ("closed", "open", "criticality", "population", "oracle")
#: the policies that plan with the td-INDP in every period (or on new information)
PLANNING = ("closed", "oracle")
REPLAN = ("every", "change")


def element_sites(case: InfraCase) -> pd.DataFrame:
    """Indexed by kind, layer, element: x, y (a link at the midpoint of its ends, from
    :func:`~resiliopt.infra.criticality.element_coordinates`), population (a link: the larger
    of its ends'), repair_time, resource_use, repair_cost."""
    n, lk = case.nodes, case.links
    pop = n.set_index(["layer", "node"])["population"]
    link_pop = np.maximum(
        pop.reindex(pd.MultiIndex.from_arrays([lk["layer"], lk["from"]])).to_numpy(),
        pop.reindex(pd.MultiIndex.from_arrays([lk["layer"], lk["to"]])).to_numpy(),
    )
    cols = ["repair_time", "resource_use", "repair_cost"]
    attrs = pd.concat(
        [n[cols].assign(population=n["population"].to_numpy()), lk[cols].assign(population=link_pop)],
        ignore_index=True,
    )
    return pd.concat([element_coordinates(case), attrs], axis=1).set_index(KEY)


@dataclass(frozen=True)
class Aftershock:
    """Damage that appears in mid-event, at the first period at or after ``time``: an
    aftershock or a failure found late. ``durations`` (periods, by kind, layer, element): the
    true durations of the new repairs (default: the loop's durations)."""

    time: float
    damage: pd.DataFrame
    durations: pd.Series | None = None
    what: str = "aftershock"


def _supply(placed: pd.DataFrame | None) -> float:
    return float(placed["supply"].sum()) if placed is not None and len(placed) else 0.0


@dataclass
class LoopResult:
    periods: pd.DataFrame  # period, level, indicators..., damaged, under_way, started, ...
    dispatch: pd.DataFrame  # period, crew, kind, layer, element, action, start, end, travel_hours
    summary: dict


def level_settings(cfg: EmergencyConfig, level: int, case: InfraCase) -> tuple[float, int, float | None]:
    """``(v, horizon, tier1_min_share)`` that level ``level`` sets: its resources per period
    (default: the case's first resource, else 1), its horizon (default 3), its tier-1 share."""
    r = cfg.response(level)
    v = r.resources_per_period
    if v is None:
        v = float(case.resources["per_period"].iloc[0]) if len(case.resources) else 1.0
    return float(v), int(r.horizon or 3), r.tier1_min_share


def sample_durations(sites: pd.DataFrame, seed: int, dispersion: float, stream: int = 7) -> pd.Series:
    """Random repair durations (periods), lognormal with median ``repair_time``; one draw per
    element from ``SeedSequence([seed, stream])`` so every policy sees the same durations
    (stream 7: the event's damage; 8 + k: the damage of its ``aftershocks[k]``)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
    med = sites["repair_time"].to_numpy(float)
    tau = np.where(med > 0, med * np.exp(dispersion * rng.standard_normal(len(med))), 0.0)
    return pd.Series(tau, index=sites.index)


def _keys(df: pd.DataFrame) -> list[tuple]:
    return [tuple(map(str, k)) for k in df[KEY].to_numpy()] if len(df) else []


@dataclass
class _Work:
    """A repair under way: its true end period, resource use, crews, and the end the planner
    believes (:mod:`resiliopt.emergency.response`, "The planners' resources")."""

    end: int
    use: float
    crews: list[str]
    believed: int


def _check_known(keys: list[tuple], sites: pd.DataFrame, where: str) -> None:
    unknown = sorted(set(keys) - set(sites.index))
    if unknown:
        k = unknown[0]
        raise InputError(f"{where} names {k[0]} {k[2]!r} of layer {k[1]!r}, not in the case", location=where)


@dataclass
class _Planned:
    """A planning policy's choice in period ``t``: follow its last plan, or make a new one."""

    policy: str
    planner: Planner
    t: int
    candidates: list[tuple]
    under_way: dict[tuple, _Work]
    settings: tuple[float, float, int, float | None]  # v, free, horizon, tier-1 share
    tau: dict[tuple, float]
    units: tuple[BackupUnit, ...] = ()

    def resources(self) -> list[float]:
        """Resources per plan period, less what repairs under way hold until their believed end."""
        v, _, horizon, _ = self.settings
        t = self.t
        ends = [
            (w.end if self.policy == "oracle" else max(w.believed, t + 1), w.use)
            for w in self.under_way.values()
        ]
        return [max(0.0, v - sum(u for e, u in ends if e > t + j)) for j in range(horizon)]

    def follow(self, last_plan, fresh: bool):
        """``(order, planned for now, plan, replanned)``: the starts in the plan's order (its
        periods from now on), a new plan when ``fresh`` or the last one is used up."""
        waiting = set(self.candidates)
        step = self.t - last_plan[0] + 1 if last_plan else 0
        rest = [(p, k) for p, k in last_plan[1] if p >= step and k in waiting] if last_plan else []
        replanned = fresh or not rest
        if replanned:
            _, _, horizon, tier1 = self.settings
            truth = pd.Series(self.tau) if self.policy == "oracle" else None
            prior = [(p - step + 1, k) for p, k in last_plan[1] if p >= step] if last_plan else []
            steps = self.planner.starts(
                self.candidates, horizon, tier1, self.resources(), truth, self.units, prior
            )
            last_plan, step = (self.t, steps), 1
            rest = [(p, k) for p, k in steps if k in waiting]
        return [k for _, k in rest], {k for p, k in rest if p == step}, last_plan, replanned


def run_loop(
    case: InfraCase,
    cfg: EmergencyConfig,
    damage: pd.DataFrame,
    policy: str = "closed",
    roads: RoadAccess | None = None,
    period_hours: float = 24.0,
    seed: int = 0,
    dispersion: float = 0.5,
    max_periods: int = 30,
    monitor: Monitor | None = None,
    planner: Planner | None = None,
    durations: pd.Series | None = None,
    progress=None,
    aftershocks: Sequence[Aftershock] = (),
    replan: str = "every",
    backups: Callable[[float], tuple[BackupUnit, ...]] | None = None,
) -> LoopResult:
    """Simulate the loop from ``damage`` (kind, layer, element) until every element is repaired
    or, with nothing under way and nothing started, all demand is served (the rest is deferred:
    no policy needs it now); never before the last ``aftershocks`` entry has arrived.
    ``durations`` (periods, indexed by kind, layer, element) replaces the random durations of
    :func:`sample_durations`. ``replan``: ``every`` period, or on a ``change`` (a repair ended
    or overran its planned end, new damage, another level, a planned start that could not be
    made, the plan used up). ``backups(t)``: the mobile backup units at hand in period ``t``
    (:meth:`~resiliopt.emergency.event.Event.backup_units`); the monitor counts their supply
    and the planners plan with them."""
    if policy not in POLICIES:
        raise InputError(f"policy must be one of {', '.join(POLICIES)} (got {policy!r})", location="--policy")
    if replan not in REPLAN:
        raise InputError(f"replan must be one of {', '.join(REPLAN)} (got {replan!r})", location="--replan")
    monitor = monitor or Monitor(case)
    planner = planner or Planner(case)
    sites = element_sites(case)
    base = sample_durations(sites, seed, dispersion) if durations is None else durations
    tau = {tuple(k): float(v) for k, v in base.items()}
    rt = sites["repair_time"].to_dict()
    use_of = sites["resource_use"].to_dict()
    damaged = set(_keys(damage))
    _check_known(sorted(damaged), sites, "damage")
    pending = sorted(aftershocks, key=lambda a: a.time)
    for a in pending:
        _check_known(_keys(a.damage), sites, "aftershocks")
    near: dict[tuple, str] = {}

    def node_of(k: tuple) -> str:
        if k not in near:
            near[k] = roads.nearest(sites.at[k, "x"], sites.at[k, "y"])
        return near[k]

    machine = LevelMachine(cfg)
    g0, s0 = len(planner.gaps), len(planner.seconds)
    under_way: dict[tuple, _Work] = {}
    rank = (
        {tuple(k): i for i, k in enumerate(monitor.ranking[KEY].to_numpy())}
        if policy == "criticality"
        else {}
    )
    open_order: list[tuple] = []
    last_plan: tuple[int, list[tuple[int, tuple]]] | None = None
    missed, prev_level, replans, truncated = False, None, 0, True
    periods, dispatch = [], []
    crews_total = 0
    modelled = durations_modelled()
    for t in range(max_periods + 1):
        news = [k for k, w in under_way.items() if w.end <= t]
        for k in news:
            damaged.discard(k)
            del under_way[k]
        arrived = 0
        while pending and pending[0].time <= t:
            a = pending.pop(0)
            new = [k for k in _keys(a.damage) if k not in damaged]
            for k in new:
                damaged.add(k)
                if a.durations is not None and k in a.durations.index:
                    tau[k] = float(a.durations[k])
            if open_order:  # the open loop does not re-plan: new damage joins the end of its list
                open_order += sorted(new)
            arrived += len(new)
        failed = pd.DataFrame(sorted(damaged), columns=KEY)
        units = tuple(backups(t)) if backups is not None else ()
        x = monitor.indicators(failed, units)[0]
        lv = machine.step(x)
        v, horizon, tier1 = level_settings(cfg, lv["level_index"], case)
        changed = bool(news) or arrived > 0 or lv["level_index"] != prev_level or missed
        prev_level = lv["level_index"]
        changed |= any(t >= w.believed for w in under_way.values())  # an overrun is news too
        crews_total = max(crews_total, int(math.ceil(v)))
        busy = sum(w.use for w in under_way.values())
        free = max(0.0, v - busy)
        candidates = sorted(damaged - set(under_way))
        hours = roads.travel_hours(t, {k: node_of(k) for k in candidates}) if roads else {}
        reachable = {k for k in candidates if math.isfinite(hours.get(k, 0.0))}
        order: list[tuple] = []
        planned_now: set[tuple] = set()
        replanned = False
        if candidates and free > 0:
            if policy in PLANNING:
                if any(use_of[k] <= free + 1e-9 for k in reachable):
                    p = _Planned(
                        policy, planner, t, candidates, under_way, (v, free, horizon, tier1), tau, units
                    )
                    order, planned_now, last_plan, replanned = p.follow(
                        last_plan, replan == "every" or changed
                    )
                    replans += replanned
            elif policy == "open":
                if not open_order:  # the one plan, at the first period with something to repair
                    need = sum(use_of[k] * (whole_periods(rt[k]) if modelled else 1) for k in candidates)
                    longest = max(whole_periods(rt[k]) for k in candidates) if modelled else 1
                    h0 = int(min(max(horizon, math.ceil(need / max(v, 1e-9)) + longest), 20))
                    first = [
                        k
                        for _, k in planner.starts(
                            candidates, h0, tier1, [free] + [v] * (h0 - 1), None, units
                        )
                    ]
                    planned = set(first)
                    open_order = first + [k for k in candidates if k not in planned]  # then the rest
                    replans, replanned = replans + 1, True
                waiting = set(candidates)
                order = [k for k in open_order if k in waiting]
            elif policy == "criticality":
                order = sorted(candidates, key=lambda k: (rank.get(k, len(rank)), k))
            else:
                order = sorted(candidates, key=lambda k: (-sites.at[k, "population"], k))
        started = []
        crews_free = [f"crew-{i + 1}" for i in range(crews_total)]
        for w in under_way.values():
            crews_free = [c for c in crews_free if c not in w.crews]
        for k in order:
            if k not in reachable:
                continue
            use = float(use_of[k])
            if use > free + 1e-9:
                continue
            free -= use
            h = hours.get(k, 0.0)
            end = t + whole_periods(tau[k] + h / period_hours)
            plan_end = t + whole_periods(rt[k] + h / period_hours) if modelled else t + 1
            n_crews = max(1, int(math.ceil(use))) if use > 0 else 0
            crews, crews_free = crews_free[:n_crews], crews_free[n_crews:]
            under_way[k] = _Work(end, use, crews, plan_end)
            started.append(k)
            crew = "+".join(crews) or "-"
            if h > 0:
                dispatch.append((t, crew, *k, "travel", t, t + h / period_hours, h))
            dispatch.append((t, crew, *k, "repair", t, end, h))
        missed = bool(planned_now - set(started))
        periods.append(
            {
                "period": t,
                **lv,
                **x,
                "resources": v,
                "horizon": horizon,
                "damaged": len(damaged),
                "under_way": len(under_way),
                "started": len(started),
                "unreachable": len(candidates) - len(reachable),
                "arrived": arrived,
                "replanned": replanned,
                **({} if backups is None else {"backup_supply": _supply(monitor.placed)}),
            }
        )
        if progress is not None:
            progress()
        if not pending and (not damaged or (not under_way and not started and x["unserved_share"] <= 1e-9)):
            truncated = False
            break
    per, disp = _tables(periods, dispatch)
    return LoopResult(
        per, disp, _summary(policy, seed, per, damaged, cfg, planner, g0, s0, replans, truncated)
    )


def _tables(periods: list[dict], dispatch: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    disp = pd.DataFrame(
        dispatch,
        columns=["period", "crew", "kind", "layer", "element", "action", "start", "end", "travel_hours"],
    )
    return pd.DataFrame(periods), disp


def _summary(policy, seed, per, damaged, cfg, planner, g0, s0, replans, truncated) -> dict:
    """One run's numbers: unserved area (sum over periods of ``unserved_share``; per layer
    ``unserved_area.<layer>``), periods to full service, what is left, the planner's work."""
    full = per.index[per["unserved_share"] <= 1e-9]
    gaps = planner.gaps[g0:]
    out = {
        "policy": policy,
        "seed": seed,
        "periods": int(len(per)),
        "unserved_area": float(per["unserved_share"].sum()),
        "tier1_unserved_area": float(per["tier1_unserved_share"].sum()),
        "periods_to_full_service": int(per.loc[full[0], "period"]) if len(full) else None,
        "periods_to_all_repaired": int(per["period"].iloc[-1]) if not damaged else None,
        "deferred": len(damaged),
        "max_level": str(cfg.levels[int(per["level_index"].max())].name),
        "max_mip_gap": float(np.nanmax(gaps)) if gaps and not np.isnan(gaps).all() else None,
        "replans": int(replans),
        "plan_seconds": float(sum(planner.seconds[s0:])),
        "truncated": bool(truncated),
    }
    for c in per.columns:
        if c.startswith("unserved_share."):
            out["unserved_area." + c.split(".", 1)[1]] = float(per[c].sum())
    return out
