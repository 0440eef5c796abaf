r"""Respond: the closed loop (rolling-horizon td-INDP), the open loop and priority rules.

One *period* of the loop (docs/emergency.md, "Respond"):

1. observe the state: failed elements (``down``, not yet repaired) and damaged ones;
2. indicators (:class:`~resiliopt.emergency.monitor.Monitor`) and the emergency level
   (:class:`~resiliopt.emergency.levels.LevelMachine`); the level sets the resources :math:`v`,
   the horizon :math:`H` and the tier-1 minimum served share of the response model;
3. choose which repairs to start now, by a *policy*:

   * ``closed``: solve the td-INDP (:mod:`resiliopt.formulations.indp`) over :math:`H`
     periods from the observed state, with the resources left free by repairs under way in
     its first period, and start its first-period repairs (then observe again and re-plan);
   * ``open``: solve the td-INDP once, at the first period, and follow its order;
   * ``criticality``: start the damaged elements with the largest N-1 loss first;
   * ``population``: start the damaged elements serving the most people first;

4. crews travel over the road layer (:class:`~resiliopt.emergency.event.RoadAccess`): a repair
   starts only at a site a depot reaches over open roads (closed bridges cut links), and the
   trip's hours are added to its duration;
5. a repair of element :math:`e` started in period :math:`t` ends in period
   :math:`t + \max(1, \lceil \tau_e + h_e / P \rceil)`, with :math:`\tau_e` its duration
   (periods), :math:`h_e` the travel hours and :math:`P` the period length (hours).

Readings (docs/emergency.md): the INDP assumes a repair takes one period; the loop plans with
that model and observes the real (random) durations, which is the mismatch the closed loop
corrects. Repairs under way are *committed*: the planner treats them as done and plans the
rest with the resources they leave free. Elements a crew cannot reach now are dropped from the
first period's starts (they stay damaged and are planned again next period).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.emergency.config import EmergencyConfig
from resiliopt.emergency.event import RoadAccess
from resiliopt.emergency.levels import LevelMachine
from resiliopt.emergency.monitor import Monitor
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit, INDPOptions, set_resources
from resiliopt.infra.criticality import element_coordinates
from resiliopt.infra.restoration import Restorer

POLICIES = ("closed", "open", "criticality", "population")


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


@dataclass
class Planner:
    """td-INDP re-planning with one built model per (horizon, tier-1 share, backup units), reused."""

    case: InfraCase
    #: "all": a depender works only if every dependee works, as in the served-demand LP that
    #: monitors the state (the paper's INDP rule "any" would plan against another model)
    options: INDPOptions = field(default_factory=lambda: INDPOptions(dependency_rule="all"))
    solver: str = "highs"
    _models: dict = field(default_factory=dict)
    gaps: list = field(default_factory=list)

    def restorer(self, horizon: int, tier1: float | None, backups: tuple[BackupUnit, ...] = ()) -> Restorer:
        key = (horizon, tier1, backups)
        if key not in self._models:
            opts = self.options
            if tier1 is not None:
                opts = INDPOptions(**{**opts.__dict__, "tier1_min_share": tier1})
            if backups:  # the event's units at hand (docs/emergency.md, reading R8)
                opts = dataclasses.replace(opts, backups=tuple(opts.backups) + tuple(backups))
            self._models[key] = Restorer(self.case, horizon, opts, self.solver)
        return self._models[key]

    def plan(
        self,
        damage: pd.DataFrame,
        horizon: int,
        first: float,
        later: float,
        tier1: float | None,
        backups: tuple[BackupUnit, ...] = (),
    ):
        """td-INDP plan from ``damage`` with ``first`` resources in period 1, ``later`` after,
        and the mobile backup units ``backups`` at hand."""
        r = self.restorer(horizon, tier1, backups)
        res = self.case.resources["resource"].tolist() or ["repair"]
        set_resources(r.model, {k: [first] + [later] * (horizon - 1) for k in res})
        plan = r.td(damage)
        self.gaps.append(plan.max_gap)
        return plan


def _supply(placed: pd.DataFrame | None) -> float:
    return float(placed["supply"].sum()) if placed is not None and len(placed) else 0.0


@dataclass
class LoopResult:
    periods: pd.DataFrame  # period, level, indicators..., damaged, under_way, started, completed
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


def sample_durations(sites: pd.DataFrame, seed: int, dispersion: float) -> pd.Series:
    """Random repair durations (periods), lognormal with median ``repair_time``; one draw per
    element from ``SeedSequence([seed, 7])`` so every policy sees the same durations."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    med = sites["repair_time"].to_numpy(float)
    tau = np.where(med > 0, med * np.exp(dispersion * rng.standard_normal(len(med))), 0.0)
    return pd.Series(tau, index=sites.index)


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
    backups: Callable[[float], tuple[BackupUnit, ...]] | None = None,
) -> LoopResult:
    """Simulate the loop from ``damage`` (kind, layer, element) until every element is repaired
    or, with nothing under way and nothing started, all demand is served (the rest is deferred:
    no policy needs it now). ``durations`` (periods, indexed by kind, layer, element) replaces
    the random durations of :func:`sample_durations`. ``backups(t)``: the mobile backup units at
    hand in period ``t`` (:meth:`~resiliopt.emergency.event.Event.backup_units`); the monitor
    counts their supply and the planner plans with them."""
    if policy not in POLICIES:
        raise InputError(f"policy must be one of {', '.join(POLICIES)} (got {policy!r})", location="--policy")
    monitor = monitor or Monitor(case)
    planner = planner or Planner(case)
    sites = element_sites(case)
    tau = sample_durations(sites, seed, dispersion) if durations is None else durations
    damaged = {tuple(k) for k in damage[KEY].to_numpy()}
    unknown = damaged - set(sites.index)
    if unknown:
        k = sorted(unknown)[0]
        raise InputError(
            f"damage names {k[0]} {k[2]!r} of layer {k[1]!r}, not in the case", location="damage"
        )
    access = {k: roads.nearest(sites.at[k, "x"], sites.at[k, "y"]) for k in damaged} if roads else {}
    machine = LevelMachine(cfg)
    g0 = len(planner.gaps)
    under_way: dict[tuple, tuple[int, float, list[str]]] = {}  # key -> (end period, resource use, crews)
    rank = (
        {tuple(k): i for i, k in enumerate(monitor.ranking[KEY].to_numpy())}
        if policy == "criticality"
        else {}
    )
    open_order: list[tuple] = []
    periods, dispatch = [], []
    crews_total = 0
    for t in range(max_periods + 1):
        done = [k for k, (end, _, _) in under_way.items() if end <= t]
        for k in done:
            damaged.discard(k)
            del under_way[k]
        failed = pd.DataFrame(sorted(damaged), columns=KEY)
        units = backups(t) if backups is not None else ()
        x, _, _ = monitor.indicators(failed, units)
        lv = machine.step(x)
        v, horizon, tier1 = level_settings(cfg, lv["level_index"], case)
        crews_total = max(crews_total, int(math.ceil(v)))
        busy = sum(u for _, u, _ in under_way.values())
        free = max(0.0, v - busy)
        candidates = sorted(damaged - set(under_way))
        hours = roads.travel_hours(t, {k: access[k] for k in candidates}) if roads else {}
        reachable = [k for k in candidates if math.isfinite(hours.get(k, 0.0))]
        order: list[tuple] = []
        if candidates and free > 0:
            if policy == "closed":
                plan = planner.plan(pd.DataFrame(candidates, columns=KEY), horizon, free, v, tier1, units)
                first = plan.repairs[plan.repairs["period"] == 1]
                order = [tuple(k) for k in first[KEY].to_numpy()]
            elif policy == "open":
                if t == 0:
                    need = sites.loc[candidates, "resource_use"].sum()
                    h0 = int(min(max(horizon, math.ceil(need / max(v, 1e-9)) + 1), 20))
                    plan = planner.plan(pd.DataFrame(candidates, columns=KEY), h0, free, v, tier1, units)
                    rp = plan.repairs.sort_values(["period", "kind", "layer", "element"])
                    open_order = [tuple(k) for k in rp[KEY].to_numpy()]
                    planned = set(open_order)
                    rest = [k for k in candidates if k not in planned]
                    open_order += rest  # what the plan left for after its horizon
                waiting = set(candidates)
                order = [k for k in open_order if k in waiting]
            elif policy == "criticality":
                order = sorted(candidates, key=lambda k: (rank.get(k, len(rank)), k))
            else:
                order = sorted(candidates, key=lambda k: (-sites.at[k, "population"], k))
        started = []
        crews_free = [f"crew-{i + 1}" for i in range(crews_total)]
        for _, _, cr in under_way.values():
            crews_free = [c for c in crews_free if c not in cr]
        for k in order:
            if k not in reachable:
                continue
            use = float(sites.at[k, "resource_use"])
            if use > free + 1e-9:
                continue
            free -= use
            h = hours.get(k, 0.0)
            end = t + max(1, math.ceil(tau[k] + h / period_hours - 1e-9))
            n_crews = max(1, int(math.ceil(use))) if use > 0 else 0
            crews, crews_free = crews_free[:n_crews], crews_free[n_crews:]
            under_way[k] = (end, use, crews)
            started.append(k)
            crew = "+".join(crews) or "-"
            if h > 0:
                dispatch.append((t, crew, *k, "travel", t, t + h / period_hours, h))
            dispatch.append((t, crew, *k, "repair", t, end, h))
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
                **({} if backups is None else {"backup_supply": _supply(monitor.placed)}),
            }
        )
        if progress is not None:
            progress()
        if not damaged or (not under_way and not started and x["unserved_share"] <= 1e-9):
            break
    per = pd.DataFrame(periods)
    disp = pd.DataFrame(
        dispatch,
        columns=["period", "crew", "kind", "layer", "element", "action", "start", "end", "travel_hours"],
    )
    full = per.index[per["unserved_share"] <= 1e-9]
    summary = {
        "policy": policy,
        "seed": seed,
        "periods": int(len(per)),
        "unserved_area": float(per["unserved_share"].sum()),
        "tier1_unserved_area": float(per["tier1_unserved_share"].sum()),
        "periods_to_full_service": int(per.loc[full[0], "period"]) if len(full) else None,
        "periods_to_all_repaired": int(per["period"].iloc[-1]) if not damaged else None,
        "deferred": len(damaged),
        "max_level": str(cfg.levels[int(per["level_index"].max())].name),
        "max_mip_gap": float(np.nanmax(planner.gaps[g0:])) if planner.gaps[g0:] else None,
    }
    return LoopResult(per, disp, summary)
