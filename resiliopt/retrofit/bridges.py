r"""Selective bridge upgrades under a budget (beyond paper 004; docs/retrofit.md).

Scenarios are drawn exactly as the recovery simulation draws them
(:func:`resiliopt.simulation.scenario.sample_scenario`, seeded by ``SeedSequence([seed, index])``).
The same draw is evaluated twice, once with every bridge as built and once with every
candidate upgraded: the standard-normal numbers are identical, only the medians differ
(common random numbers), so a bridge's state upgraded is never worse than as built, and the
building damage (hence the groups' demands and gains on day 0) is the same in both.

:func:`choose_bridges` solves the SAA MILP of :mod:`resiliopt.formulations.bridge_saa` on
scenarios ``0..N-1``; :func:`evaluate` scores any set of upgraded bridges on other scenarios
(indices from ``eval_start``) with the plain slice LP, so the selective plan, "none" and
"all" are compared out of sample.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from resiliopt.case import CaseData
from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.bridge_saa import SaaData, build_bridge_saa, chosen_bridges
from resiliopt.formulations.retrofit_milp import solve_mip
from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.simulation.scenario import CaseModel, RecoveryState, case_model, sample_scenario

OBJECTIVES = ("weighted", "resources")
EVAL_START = 1_000_000  # scenario indices used for out-of-sample evaluation start here


def with_upgrades(cm: CaseModel, upgraded: list[int] | np.ndarray) -> CaseModel:
    """The case model with the bridges at positions ``upgraded`` moved to the upgrade grade."""
    br = cm.case.bridges
    if br.upgrade_to is None:
        raise InputError("the case's bridges.yaml names no upgrade_to grade", cm.case.path)
    g = br.grades[br.upgrade_to]
    a, b, z = cm.bridge_a.copy(), cm.bridge_b.copy(), cm.bridge_zeta.copy()
    for k in upgraded:
        a[k], b[k], z[k] = g.a, g.b, g.zeta
    return replace(cm, bridge_a=a, bridge_b=b, bridge_zeta=z)


def candidates(cm: CaseModel) -> np.ndarray:
    """Bridges an upgrade changes (a grade other than the upgrade grade)."""
    br = cm.case.bridges
    return np.array([x.grade != br.upgrade_to for x in br.bridges], dtype=bool)


def _check(budget: float, n: int, what: str = "scenarios") -> None:
    if not math.isfinite(budget) or budget < 0:
        raise InputError(f"budget must be a finite number >= 0 (billion CNY), got {budget:g}")
    if n < 1:
        raise InputError(f"number of {what} must be at least 1, got {n}")


def saa_data(cm: CaseModel, seed: int, indices, objective: str = "weighted") -> SaaData:
    """Sample the scenarios and build the SAA data (keeps as built and upgraded, day-0 groups)."""
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    cand = candidates(cm)
    cm_hi = with_upgrades(cm, np.flatnonzero(cand))
    loss = np.asarray(cm.case.bridges.capacity_loss.as_list())
    keep_lo, keep_hi, groups = [], [], []
    tr = None
    for pos, idx in enumerate(indices):
        sc_lo = sample_scenario(cm, seed, idx)
        sc_hi = sample_scenario(cm_hi, seed, idx)
        keep_lo.append(1.0 - loss[sc_lo.bridge_state])
        keep_hi.append(1.0 - loss[sc_hi.bridge_state])
        rs = RecoveryState(cm, sc_lo)
        d = rs.demand()
        w = rs.gains() if objective == "weighted" else np.ones_like(d)
        on = d > 0
        groups.append(
            pd.DataFrame(
                {
                    "scenario": pos,
                    "group": np.asarray(cm.group_ids)[on],
                    "node": np.asarray(cm.g_node)[on],
                    "demand": d[on],
                    "weight": w[on],
                }
            )
        )
        tr = rs.total_resources()
    net = cm.case.network
    return SaaData(
        arcs=cm.arcs[["arc", "from", "to", "capacity"]].copy(),
        arc_bridges=cm.arc_bridges,
        keep_lo=np.array(keep_lo),
        keep_hi=np.array(keep_hi),
        candidate=cand,
        cost=np.full(len(cand), float(cm.case.bridges.upgrade_cost)),
        groups=pd.concat(groups, ignore_index=True),
        total_resources=float(tr),
        source=net.entry.id,
        sink=net.sink,
    )


@dataclass
class BridgePlan:
    """The chosen bridges and how the SAA problem was solved."""

    budget: float
    n_scenarios: int
    seed: int
    objective: str
    upgraded: list[str]
    cost: float
    saa_value: float
    seconds: float
    bridges: pd.DataFrame
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: "optimal" (the SAA MILP's status), "unverified" when the final check against the case
    #: fails (:func:`resiliopt.retrofit.verify.check_bridge_plan`; ``problems`` says why)
    status: str = "optimal"
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "plan_check": {"passed": not self.problems, "problems": list(self.problems)},
            "budget": self.budget,
            "scenarios": self.n_scenarios,
            "seed": self.seed,
            "objective": self.objective,
            "upgraded": self.upgraded,
            "cost": self.cost,
            "saa_value": self.saa_value,
            "solve_seconds": self.seconds,
            "evaluation": self.evaluation.to_dict(orient="records"),
        }


def choose_bridges(
    case: CaseData,
    budget: float,
    n_scenarios: int = 100,
    seed: int = 0,
    objective: str = "weighted",
    time_limit: float | None = None,
) -> BridgePlan:
    """Solve the SAA MILP on scenarios ``0..n_scenarios-1`` of ``seed``."""
    _check(budget, n_scenarios)
    cm = case_model(case)
    t0 = time.perf_counter()
    data = saa_data(cm, seed, range(n_scenarios), objective)
    w = data.groups["weight"]
    scale = 1.0 / float(w[w > 0].mean()) if (w > 0).any() else 1.0
    m = build_bridge_saa(data, budget, scale=scale)
    status, obj = solve_mip(m, time_limit=time_limit)
    if status != "optimal":
        raise SolveError(f"the bridge SAA MILP was not solved to optimality ({status})", status=status)
    seconds = time.perf_counter() - t0
    up = chosen_bridges(m)
    ids = cm.bridge_ids
    br = case.bridges
    table = pd.DataFrame(
        {
            "bridge": ids,
            "node": cm.bridge_node,
            "grade": [x.grade for x in br.bridges],
            "candidate": data.candidate,
            "upgraded": [k in up for k in range(len(ids))],
            "p_damaged_as_built": (data.keep_lo < 1).mean(axis=0),
            "p_damaged_upgraded": (data.keep_hi < 1).mean(axis=0),
        }
    )
    return BridgePlan(
        budget=float(budget),
        n_scenarios=n_scenarios,
        seed=seed,
        objective=objective,
        upgraded=[ids[k] for k in up],
        cost=float(sum(data.cost[k] for k in up)),
        saa_value=obj / scale,
        seconds=seconds,
        bridges=table,
    )


def evaluate(case: CaseData, upgraded: list[str], seed: int, indices) -> pd.DataFrame:
    """Score a set of upgraded bridges on scenarios ``indices`` with the plain slice LP (day 0).

    One row per scenario: ``weighted`` (the slice LP objective, F_C gained per slice) and
    ``resources`` (units delivered).
    """
    cm0 = case_model(case)
    pos = {b: k for k, b in enumerate(cm0.bridge_ids)}
    for b in upgraded:
        if b not in pos:
            raise InputError(f"unknown bridge {b!r}")
    cm = with_upgrades(cm0, [pos[b] for b in upgraded])
    lp = None
    rows = []
    for idx in indices:
        rs = RecoveryState(cm, sample_scenario(cm, seed, idx))
        if lp is None:
            lp = CompiledSlice(rs.slice_data(only_active=False))
        d = rs.demand()
        lp.update(rs.arc_capacity(), d, rs.gains(), rs.total_resources())
        obj, _, y = lp.solve()
        rows.append({"scenario": idx, "weighted": obj, "resources": float(y.sum()), "demand": float(d.sum())})
    return pd.DataFrame(rows)


def compare(
    case: CaseData,
    plan: BridgePlan,
    n_eval: int = 200,
    eval_start: int = EVAL_START,
    per_scenario: dict | None = None,
) -> pd.DataFrame:
    """Selective plan against 'none' and 'all' on scenarios not used to choose.

    One row per plan: bridges upgraded, cost, mean and standard error of both measures, and
    the paired gain over 'none' (same scenarios) with its standard error, and the share of the
    'all' plan's gain over 'none' that the plan captures. ``per_scenario``
    (a dict) receives each plan's per-scenario table from :func:`evaluate`.
    """
    _check(0.0, n_eval, "evaluation scenarios")
    cm = case_model(case)
    all_ids = [b for b, c in zip(cm.bridge_ids, candidates(cm), strict=True) if c]
    idx = range(eval_start, eval_start + n_eval)
    plans = {"none": [], "selective": plan.upgraded, "all": all_ids}
    res = {k: evaluate(case, v, plan.seed, idx) for k, v in plans.items()}
    if per_scenario is not None:
        per_scenario.update(res)
    key = plan.objective
    base, top = res["none"][key].mean(), res["all"][key].mean()
    rows = []
    for k, v in plans.items():
        r = res[k]
        rows.append(
            {
                "plan": k,
                "bridges": len(v),
                "cost": len(v) * float(case.bridges.upgrade_cost),
                "weighted_mean": r["weighted"].mean(),
                "weighted_se": r["weighted"].std(ddof=1) / math.sqrt(len(r)) if len(r) > 1 else 0.0,
                "resources_mean": r["resources"].mean(),
                "resources_se": r["resources"].std(ddof=1) / math.sqrt(len(r)) if len(r) > 1 else 0.0,
                "gain_vs_none": (r[key] - res["none"][key]).mean(),
                "gain_vs_none_se": (r[key] - res["none"][key]).std(ddof=1) / math.sqrt(len(r))
                if len(r) > 1
                else 0.0,
                "share_of_all_gain": (r[key].mean() - base) / (top - base) if top > base else float("nan"),
            }
        )
    return pd.DataFrame(rows)
