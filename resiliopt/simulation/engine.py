"""One scenario's recovery, slice after slice, on the compiled fast path (docs/recovery.md).

At the start of each slice the state gives F_C, the sector functionalities, the arc
capacities, the groups' demands and gains; the slice LP routes resources; the deliveries
move each group's repair forward; repaired groups become functional and leave the graph.

When a slice's LP data equal the previous slice's (no group finished, no demand below full
speed, no bridge repaired), its optimum is the same, so the previous solution is reused
without calling HiGHS; this is exact, not an approximation.
"""

from __future__ import annotations

import numpy as np

from resiliopt import community as fc_mod
from resiliopt.schemas import SECTORS
from resiliopt.simulation.scenario import CaseModel, RecoveryState, sample_scenario
from resiliopt.solvers.compiled import CompiledSlice

SLICE_COLUMNS = [
    "scenario",
    "day",
    "fc",
    *[f"f_{s}" for s in SECTORS],
    "demand",
    "delivered",
    "unused",
    "supply_rate",
    "unrepaired",
    "objective",
]


def compiled_for(cm: CaseModel) -> CompiledSlice:
    """The fast-path LP for a case: every group, built once per worker."""
    sc = sample_scenario(cm, 0, 0)
    return CompiledSlice(RecoveryState(cm, sc).slice_data(only_active=False))


def run_scenario(
    cm: CaseModel, seed: int, index: int, days: int, lp: CompiledSlice, stop_day: int | None = None
):
    """Simulate scenario ``index`` for ``days`` days.

    Returns ``(slices, summary, state)``: ``slices`` a dict of equal-length arrays (one entry
    per slice, columns :data:`SLICE_COLUMNS`), ``summary`` a dict for the scenario table, and
    the final :class:`RecoveryState`. ``stop_day`` ends early (used by ``resiliopt slice --day``).
    """
    sc = sample_scenario(cm, seed, index)
    st = RecoveryState(cm, sc)
    lp.reset()
    dt = cm.slice_days
    n = -(-days // dt)
    if stop_day is not None:
        n = min(n, stop_day // dt)
    cols = {k: np.zeros(n) for k in SLICE_COLUMNS}
    thr = cm.case.community.threshold
    dam, clamp = cm.case.dam, cm.case.community.clamp
    last = None
    y = np.zeros(cm.n_groups)
    obj = 0.0
    tr = st.total_resources()
    settled = not cm.case.case.recovery.bridge_repair_days  # no state change once demand is 0
    for k in range(n):
        l = st.sector_loss()
        fc = float(fc_mod.functionality(l, dam, clamp))
        demand = st.demand()
        cols["day"][k] = st.day
        cols["fc"][k] = fc
        for i, s in enumerate(SECTORS):
            cols[f"f_{s}"][k] = 1.0 - l[i]
        total_demand = float(demand.sum())
        if total_demand > 0:
            cap = st.arc_capacity()
            gain = st.gains(l)
            if last is None or not (
                np.array_equal(demand, last[0])
                and np.array_equal(cap, last[1])
                and np.array_equal(gain, last[2])
            ):
                lp.update(cap, demand, gain, tr)
                obj, _, y = lp.solve()
                y = np.minimum(np.maximum(y, 0.0), demand)
                last = (demand, cap, gain)
            r = st.supply_rate(y, demand, gain)
        elif settled:
            # nothing left to repair and no bridge repair model: every later slice is this one
            rest = slice(k, n)
            for name in SLICE_COLUMNS:
                if name not in ("scenario", "day", "fc") and not name.startswith("f_"):
                    cols[name][rest] = 0.0
            cols["day"][rest] = st.day + dt * np.arange(n - k)
            for name in ("fc", *[f"f_{s}" for s in SECTORS]):
                cols[name][rest] = cols[name][k]
            cols["unused"][rest] = tr
            cols["supply_rate"][rest] = 1.0
            cols["unrepaired"][rest] = int(st.unsafe.sum())
            st.day += dt * (n - k)
            break
        else:
            y = np.zeros(cm.n_groups)
            obj, r, last = 0.0, 1.0, None
        delivered = float(y.sum())
        cols["demand"][k] = total_demand
        cols["delivered"][k] = delivered
        cols["unused"][k] = tr - delivered
        cols["supply_rate"][k] = r
        cols["unrepaired"][k] = int(st.unsafe.sum())
        cols["objective"][k] = obj
        st.advance(y)
    cols["scenario"][:] = index
    fc_end = st.functionality()
    fcs = np.append(cols["fc"], fc_end)
    days_axis = np.append(cols["day"], st.day)
    reach = np.flatnonzero(fcs >= thr)
    repaired_all = not st.unsafe.any()
    summary = {
        "scenario": index,
        "pga": sc.pga,
        "fc0": float(fcs[0]),
        "fc_end": fc_end,
        "days_to_threshold": float(days_axis[reach[0]]) if len(reach) else np.nan,
        "days_to_full": float(_full_day(cols, st)) if repaired_all else np.nan,
        "damaged_groups": int((sc.group_state >= 2).sum()),
        "collapsed_groups": int((sc.group_state == 4).sum()),
        "damaged_bridges": int((sc.bridge_state >= 1).sum()),
        "delivered_total": float(cols["delivered"].sum()),
    }
    return cols, summary, st


def _full_day(cols: dict, st: RecoveryState) -> float:
    """First day at whose start no group is unsafe."""
    idx = np.flatnonzero(cols["unrepaired"] == 0)
    return float(cols["day"][idx[0]]) if len(idx) else float(st.day)
