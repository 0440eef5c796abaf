r"""The td-INDP planner of the emergency loop: one model per setting, built once, re-solved.

:class:`Planner` keeps, per (horizon, tier-1 share, backup units, planning durations), one
model. :meth:`Planner.starts` (what the loop asks for: the repairs and their start periods)
solves the compiled model (:mod:`resiliopt.formulations.indp_compiled`: the matrix written
straight into HiGHS, no Pyomo) where it writes the options, else the Pyomo model
(:class:`~resiliopt.infra.restoration.Restorer`); a re-plan starts from the last plan shifted
to its periods (a MIP start; docs/emergency.md, "Speed"). :meth:`Planner.plan` (a plan with
every table, for the independent plan check) always takes the Pyomo model.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from resiliopt.case.infra import InfraCase
from resiliopt.errors import SolveError
from resiliopt.formulations.indp import BackupUnit, INDPOptions, compile_case, set_damage, set_resources
from resiliopt.formulations.indp_compiled import CompiledINDP, supported
from resiliopt.infra.restoration import COLD_OPTIONS, WARM_OPTIONS, Restorer
from resiliopt.solvers.mip import DEFAULT_REL_GAP


def durations_modelled() -> bool:
    """Whether the td-INDP plans with repair durations (``INDPOptions.durations``)."""
    return "durations" in INDPOptions.__dataclass_fields__


def whole_periods(tau: float) -> int:
    r""":math:`\max(1, \lceil \tau \rceil)`: the periods a repair of duration :math:`\tau` takes."""
    return max(1, math.ceil(float(tau) - 1e-9))


def with_repair_times(case: InfraCase, times: dict[tuple, float]) -> InfraCase:
    """A copy of ``case`` whose elements in ``times`` (kind, layer, element) -> periods have
    that ``repair_time``."""
    n, lk = case.nodes, case.links
    nt = [
        times.get(("node", la, el), rt)
        for la, el, rt in zip(n["layer"], n["node"], n["repair_time"], strict=True)
    ]
    lt = [
        times.get(("link", la, el), rt)
        for la, el, rt in zip(lk["layer"], lk["link"], lk["repair_time"], strict=True)
    ]
    return dataclasses.replace(
        case,
        nodes=n.assign(repair_time=np.asarray(nt, float)),
        links=lk.assign(repair_time=np.asarray(lt, float)),
    )


@dataclass
class Planner:
    """td-INDP re-planning with one built model per (horizon, tier-1 share, backup units,
    durations), reused.

    Durations are part of a model's structure (docs/indp.md): the planning durations are the
    case's ``repair_time`` or those given to :meth:`plan`, in whole periods, at most the
    horizon (a repair longer than the horizon could never be started by the rolling plan; it
    is planned as taking the whole horizon). Models built for given durations (the oracle's,
    one event's) are dropped by :meth:`reset`."""

    case: InfraCase
    #: "all": a depender works only if every dependee works, as in the served-demand LP that
    #: monitors the state (the paper's INDP rule "any" would plan against another model)
    options: INDPOptions = field(default_factory=lambda: INDPOptions(dependency_rule="all"))
    solver: str = "highs"
    rel_gap: float | None = None
    time_limit: float | None = None
    #: re-plans start from the last plan (a MIP start; docs/emergency.md, "Speed")
    warm: bool = True
    #: :meth:`starts` solves the compiled model (no Pyomo) where it writes the options
    fast: bool = True
    _models: dict = field(default_factory=dict)
    _fast_models: dict = field(default_factory=dict)
    _plans: dict = field(default_factory=dict)
    gaps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    #: CPU seconds of each plan of :meth:`starts` (the solve is single-threaded, in-process:
    #: on a shared machine the measure that the load does not inflate)
    cpu_seconds: list = field(default_factory=list)

    def _planning_times(self, horizon: int, durations: pd.Series | None) -> dict | None:
        """The planning durations (whole periods, at most ``horizon``) where they differ from
        the case's own model: None where the case's ``repair_time`` serves as it is."""
        if not durations_modelled():
            return None
        if not hasattr(self, "_base"):
            self._base = {
                (k, la, str(el)): float(rt)
                for k, tab, col in (("node", self.case.nodes, "node"), ("link", self.case.links, "link"))
                for la, el, rt in zip(tab["layer"], tab[col], tab["repair_time"], strict=True)
            }
            self._longest = max((whole_periods(v) for v in self._base.values()), default=1)
        if durations is None and self._longest <= horizon:
            return None
        given = self._base if durations is None else dict(durations.items())
        return {tuple(k): float(min(whole_periods(v), horizon)) for k, v in given.items()}

    def restorer(
        self,
        horizon: int,
        tier1: float | None,
        backups: tuple[BackupUnit, ...] = (),
        durations: pd.Series | None = None,
    ) -> Restorer:
        return self._restorer(horizon, tier1, tuple(backups), durations)[0]

    def _setup(self, horizon: int, tier1: float | None, backups: tuple, durations: pd.Series | None):
        """The key of the model for these settings, and a function making its case and options."""
        times = self._planning_times(horizon, durations)
        dkey = tuple(sorted(times.items())) if times is not None else None
        key = (horizon, tier1, dkey, durations is not None and dkey is not None, backups)

        def make():
            case = with_repair_times(self.case, times) if times is not None else self.case
            opts = self.options
            if tier1 is not None:
                opts = INDPOptions(**{**opts.__dict__, "tier1_min_share": tier1})
            if backups:  # the event's units at hand (docs/emergency.md, reading R8)
                opts = dataclasses.replace(opts, backups=tuple(opts.backups) + tuple(backups))
            return case, opts

        return key, make

    def _restorer(self, horizon: int, tier1: float | None, backups: tuple, durations: pd.Series | None):
        key, make = self._setup(horizon, tier1, backups, durations)
        if key not in self._models:
            case, opts = make()
            self._models[key] = Restorer(
                case, horizon, opts, self.solver, rel_gap=self.rel_gap, time_limit=self.time_limit
            )
        return self._models[key], key

    def _compiled(self, horizon: int, tier1: float | None, backups: tuple, durations: pd.Series | None):
        """The compiled model (:mod:`~resiliopt.formulations.indp_compiled`) for these settings,
        or None where it does not write them (tier-1 rows, backup units, SCIP, ``fast`` off)."""
        key, make = self._setup(horizon, tier1, backups, durations)
        if not self.fast or self.solver != "highs":
            return None, key
        if key not in self._fast_models:
            case, opts = make()
            ok = supported(opts)
            self._fast_models[key] = (
                CompiledINDP(
                    compile_case(case, opts),
                    horizon,
                    opts,
                    DEFAULT_REL_GAP if self.rel_gap is None else self.rel_gap,
                    self.time_limit,
                )
                if ok
                else None
            )
        return self._fast_models[key], key

    def reset(self) -> None:
        """Cold start every model (the next plans depend on their input alone, not on what was
        solved before) and drop the models built for given durations."""
        self._models = {k: r for k, r in self._models.items() if not k[3]}
        self._fast_models = {k: r for k, r in self._fast_models.items() if not k[3]}
        self._plans.clear()
        for r in self._models.values():
            r.solver.reset()
        for r in self._fast_models.values():
            if r is not None:
                r.reset()

    def plan(
        self,
        damage: pd.DataFrame,
        horizon: int,
        first: float,
        later: float,
        tier1: float | None,
        backups: tuple[BackupUnit, ...] = (),
        durations: pd.Series | None = None,
        resources: Sequence[float] | None = None,
    ):
        """td-INDP plan from ``damage``: ``first`` resources in period 1 and ``later`` after,
        or ``resources`` per period, the mobile backup units ``backups`` at hand;
        ``durations`` (periods, by kind, layer, element) instead of the case's repair times."""
        r = self.restorer(horizon, tier1, backups, durations)
        res = self.case.resources["resource"].tolist() or ["repair"]
        per = list(resources) if resources is not None else [first] + [later] * (horizon - 1)
        set_resources(r.model, {k: per for k in res})
        t0 = time.perf_counter()
        plan = r.td(damage)
        self.seconds.append(time.perf_counter() - t0)
        self.gaps.append(plan.max_gap)
        return plan

    def starts(
        self,
        candidates: list[tuple],
        horizon: int,
        tier1: float | None,
        resources: Sequence[float],
        durations: pd.Series | None = None,
        backups: tuple[BackupUnit, ...] = (),
        prior: Sequence[tuple[int, tuple]] = (),
    ) -> list[tuple[int, tuple]]:
        """The td-INDP's repairs from damage ``candidates`` (kind, layer, element) as sorted
        ``(start period, element)``: :meth:`plan` without its tables, what the loop needs.
        ``prior``: the last plan's ``(start period, element)`` shifted to this plan's periods,
        the MIP start (:meth:`~resiliopt.infra.restoration.Restorer.start_from`; with
        :attr:`warm` off, or none given, a cold solve). The same input gives the same answer
        until :meth:`reset` (remembered)."""
        fast, mkey = self._compiled(horizon, tier1, tuple(backups), durations)
        key = (mkey, tuple(candidates), tuple(round(float(v), 9) for v in resources))
        if key not in self._plans:
            res = self.case.resources["resource"].tolist() or ["repair"]
            c0 = time.process_time()
            nodes = [(la, el) for k, la, el in candidates if k == "node"]
            links = [(la, el) for k, la, el in candidates if k == "link"]
            rows = [(*k, p) for p, k in prior] if self.warm else []
            if fast is not None:
                fast.set_resources({k: list(resources) for k in res})
                fast.set_damage(nodes, links)
                start = fast.start_from(rows) if rows else None
                out = fast.solve(start, WARM_OPTIONS if start is not None else COLD_OPTIONS)
                if not out.has_solution:
                    raise SolveError(f"INDP solve ended {out.status} without a solution", status=out.status)
                repairs = fast.repairs()
            else:
                r = self._restorer(horizon, tier1, tuple(backups), durations)[0]
                set_resources(r.model, {k: list(resources) for k in res})
                set_damage(r.model, nodes, links)
                out = r._solve(r.start_from(rows) if rows else None)  # the starts only: no tables
                repairs = r._repairs()
            self.seconds.append(out.seconds)
            self.cpu_seconds.append(time.process_time() - c0)
            self.gaps.append(out.gap if out.gap is not None else float("nan"))
            self._plans[key] = sorted((int(t), (k, la, el)) for k, la, el, t in repairs)
        return self._plans[key]
