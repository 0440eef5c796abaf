"""The worker side of an evaluation: every policy on one event, with common random numbers.

Every policy of an event replays the same damage, the same true repair durations, the same
road closures and the same aftershocks (:class:`~resiliopt.emergency.evaluate_events.EventDraw`);
the loop observes the state it produces, so two policies in the same state observe the same.

Reproducibility. Before each event the served-demand LP and every td-INDP model start cold
(:meth:`CachedMonitor.reset`, :meth:`~resiliopt.emergency.response.Planner.reset`) and the
indicators remembered for the last event are forgotten, so an event's tables depend on the
event alone, never on the worker or on what it ran before: the same numbers at any worker
count. Within an event the indicators of a failed set are computed once and shared by the
policies that reach that set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.emergency.config import EmergencyConfig
from resiliopt.emergency.evaluate_events import EventDraw
from resiliopt.emergency.event import EventFile, RoadAccess, Roads
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.response import Planner, run_loop
from resiliopt.errors import SolveError
from resiliopt.formulations.indp import BackupUnit
from resiliopt.infra.cascade import cascade

#: columns of one run's row in the ``runs`` table (one row per layer and ``all``)
RUN_COLUMNS = [
    "event",
    "policy",
    "layer",
    "unserved_area",
    "tier1_unserved_area",
    "periods",
    "periods_to_full_service",
    "deferred",
    "truncated",
    "replans",
    "max_level",
    "max_mip_gap",
]


@dataclass(frozen=True)
class RunSpec:
    """What every worker needs, shipped as data (no paths): the case, the levels, the
    template road layer, the loop's settings and the intact network's N-1 ranking."""

    case: InfraCase
    config: EmergencyConfig
    roads: Roads | None
    period_hours: float
    policies: tuple[str, ...]
    max_periods: int
    replan: str
    ranking: pd.DataFrame
    rel_gap: float | None = None
    #: the template event file, whose mobile backup units every event has at hand
    template: EventFile | None = None


class CachedMonitor:
    r"""The loop's indicators (:meth:`~resiliopt.emergency.monitor.Monitor.indicators`),
    computed once per failed set until :meth:`reset`, by a fast path that is checked.

    The fast path sets the failed set's bounds on the monitor's served-demand LP, solves it
    and reads the served share per layer (``InfraFlow.layer_served_share``), without its
    tables and certificates: :math:`1 - s_k D_k / s^0_k` with :math:`D_k` the layer's demand
    and :math:`s^0_k` what the intact network serves; ``cascade_depth`` only where a level
    names it (NaN otherwise). The first failed set of every event is also computed by the
    certified monitor, and the two must agree to 1e-7 (a
    :class:`~resiliopt.errors.SolveError` otherwise). A case with tier-1 demand takes the
    certified path throughout."""

    def __init__(self, monitor: Monitor, config: EmergencyConfig):
        self.monitor = monitor
        case = monitor.case
        self.cache: dict[tuple, tuple[dict, pd.DataFrame | None]] = {}
        self.solves = 0
        self.checked = False
        self.placed: pd.DataFrame | None = None
        self._pos = {
            kind: {(la, str(el)): i for i, (la, el) in enumerate(zip(tab["layer"], tab[col], strict=True))}
            for kind, tab, col in (("node", case.nodes, "node"), ("link", case.links, "link"))
        }
        b = case.nodes["demand"].to_numpy(float)
        self.layers = list(case.layers["layer"])
        dem = pd.Series(np.where(b < 0, -b, 0.0)).groupby(case.nodes["layer"].to_numpy()).sum()
        self.demand = np.array([float(dem.get(k, 0.0)) for k in self.layers])
        base_all, base_t1 = monitor.baseline
        self.base = np.array([float(base_all.get(k, 0.0)) for k in self.layers])
        self.fast = not any(float(v) > 0 for v in base_t1.to_numpy())
        named = {i for lv in config.levels for i in [*lv.enter, *lv.leave]}
        self.cascade = "cascade_depth" in named

    @property
    def ranking(self) -> pd.DataFrame:
        return self.monitor.ranking

    def _fast(self, keys: frozenset) -> dict[str, float]:
        fn = np.zeros(len(self._pos["node"]), bool)
        fl = np.zeros(len(self._pos["link"]), bool)
        for kind, la, el in keys:
            (fn if kind == "node" else fl)[self._pos[kind][(la, el)]] = True
        flow = self.monitor.flow
        flow.set_failed(fn, fl)
        flow.run()
        served = flow.layer_served_share() * self.demand
        x: dict[str, float] = {}
        shares = []
        for k, s, ref, dem in zip(self.layers, served, self.base, self.demand, strict=True):
            if ref > 0:
                x[f"unserved_share.{k}"] = float(min(1.0, max(0.0, 1.0 - s / ref)))
                shares.append(x[f"unserved_share.{k}"])
            elif dem > 0:  # the intact network serves none of it: nothing to lose (as the monitor)
                x[f"unserved_share.{k}"] = 0.0
        x["unserved_share"] = float(np.mean(shares)) if shares else 0.0
        x["tier1_unserved_share"] = 0.0
        failed = pd.DataFrame(sorted(keys), columns=KEY)
        x["cascade_depth"] = float(cascade(self.monitor.case, failed).n_rounds) if self.cascade else np.nan
        top = self.monitor.top_critical() if self.monitor.top_n > 0 else set()
        x["failed_critical"] = float(len(keys & top)) if self.monitor.top_n > 0 else 0.0
        return x

    def _check(self, keys: frozenset, x: dict[str, float]) -> None:
        full = self.monitor.indicators(pd.DataFrame(sorted(keys), columns=KEY))[0]  # certified
        for k, v in x.items():
            if not (np.isnan(v) and k == "cascade_depth") and abs(v - full[k]) > 1e-7:
                raise SolveError(f"the fast indicator {k} = {v} differs from the certified {full[k]}")
        self.checked = True

    def indicators(self, failed: pd.DataFrame, backups: Sequence[BackupUnit] = ()):
        """The indicators of a failed set (with ``backups`` at hand: the certified monitor,
        whose :attr:`placed` says where the units went)."""
        keys = frozenset(map(tuple, failed[KEY].astype(str).to_numpy())) if len(failed) else frozenset()
        key = (keys, tuple(backups))
        if key not in self.cache:
            placed = None
            if backups or not self.fast:
                x = self.monitor.indicators(failed, tuple(backups))[0]
                placed = self.monitor.placed
            else:
                x = self._fast(keys)
                if not self.checked:
                    self._check(keys, x)
            self.cache[key] = (x, placed)
            self.solves += 1
        x, self.placed = self.cache[key]
        return dict(x), None, None

    def reset(self) -> None:
        """Forget the indicators and the LP's basis (the next solve starts cold); check the
        fast path again on the next event's first failed set."""
        self.cache.clear()
        self.checked = False
        self.monitor.flow.h.clearSolver()


_STATE: dict = {}


def worker_state(spec: RunSpec) -> tuple[CachedMonitor, Planner]:
    """The monitor and the planner of this process, built once per spec."""
    key = id(spec)
    if key not in _STATE:
        _STATE.clear()
        mon = CachedMonitor(Monitor(spec.case, ranking=spec.ranking), spec.config)
        _STATE[key] = (spec, mon, Planner(spec.case, rel_gap=spec.rel_gap))
    return _STATE[key][1], _STATE[key][2]


def run_event(spec: RunSpec, ev: EventDraw) -> tuple[list[dict], pd.DataFrame, list[dict]]:
    """Every policy on event ``ev``: ``(runs rows, periods, timing rows)``."""
    mon, planner = worker_state(spec)
    mon.reset()
    planner.reset()
    roads_spec = ev.roads(spec.roads)
    roads = RoadAccess.build(roads_spec) if roads_spec is not None else None
    layers = list(spec.case.layers["layer"])
    runs, periods, timing = [], [], []
    for p in spec.policies:
        t0, s0 = time.perf_counter(), mon.solves
        r = run_loop(
            spec.case,
            spec.config,
            ev.damage,
            p,
            roads=roads,
            period_hours=spec.period_hours,
            seed=ev.event,
            durations=ev.durations,
            max_periods=spec.max_periods,
            monitor=mon,
            planner=planner,
            aftershocks=ev.aftershocks,
            replan=spec.replan,
            backups=spec.template.backup_units if spec.template and spec.template.backups else None,
        )
        s = r.summary
        common = {c: s[c] for c in RUN_COLUMNS[4:] if c in s}
        for layer in ["all", *layers]:
            area = s["unserved_area"] if layer == "all" else s.get(f"unserved_area.{layer}")
            if area is None:
                continue  # a layer without demand has no unserved share
            runs.append({"event": ev.event, "policy": p, "layer": layer, "unserved_area": area, **common})
        cols = [
            "period",
            "level",
            "unserved_share",
            *[c for c in r.periods if c.startswith("unserved_share.")],
        ]
        cols += ["damaged", "under_way", "started", "arrived", "replanned"]
        periods.append(r.periods[cols].assign(event=ev.event, policy=p))
        timing.append(
            {
                "event": ev.event,
                "policy": p,
                "seconds": time.perf_counter() - t0,
                "plan_seconds": s["plan_seconds"],
                "lp_solves": mon.solves - s0,
            }
        )
    return runs, pd.concat(periods, ignore_index=True), timing


def run_chunk(spec: RunSpec, events: list[EventDraw]) -> dict[str, pd.DataFrame]:
    """Every policy on each event of a chunk: the chunk's ``runs``, ``periods`` and ``timing``."""
    runs, periods, timing = [], [], []
    for ev in events:
        r, p, t = run_event(spec, ev)
        runs += r
        periods.append(p)
        timing += t
    return {
        "runs": pd.DataFrame(runs, columns=RUN_COLUMNS),
        "periods": pd.concat(periods, ignore_index=True),
        "timing": pd.DataFrame(timing),
    }
