"""The logistics API: get a slice (from a file or a case), solve it, audit it.

>>> from resiliopt.logistics import load_slice, solve_slice
>>> res = solve_slice(load_slice("beijing", seed=1, day=0))
>>> res.objective, res.passed                      # doctest: +SKIP
>>> res.certificate, res.input_certificate        # doctest: +SKIP
>>> res.flows.head(); res.duals.head()            # tidy tables  # doctest: +SKIP

Build, modify, then solve: :func:`resiliopt.formulations.slice_lp.build_slice_model` gives the
Pyomo model; change it (``update_slice_model`` or any Pyomo edit) and pass it to
:func:`solve_model`.

Every solve is checked twice (docs/solvers.md): the matrix certificate against the model's
own matrix, and the input certificate (:mod:`resiliopt.solvers.input_certificate`) against
the slice's input tables, sharing no code with the model builder; plus the networkx
min-cost-flow objective. ``status`` is ``"optimal"`` only when HiGHS says so *and* both
certificates pass *and* networkx agrees; otherwise it is ``"unverified"`` and ``problems``
says why.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from resiliopt import schemas
from resiliopt._yaml import read_yaml, validate
from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.slice_compiled import slice_matrix
from resiliopt.formulations.slice_crosscheck import networkx_agrees, networkx_allowed, networkx_objective
from resiliopt.formulations.slice_lp import META, SliceData, build_slice_model
from resiliopt.formulations.slice_network import NETWORK_MIN_ARCS, network_solution
from resiliopt.formulations.user_constraints import load_extension
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.load import load_case_model
from resiliopt.simulation.scenario import RecoveryState, sample_scenario
from resiliopt.simulation.unreachable import unreachable_groups, unreachable_line, unreachable_summary
from resiliopt.solvers.certificate import Certificate
from resiliopt.solvers.highs import SLICE_TOLERANCES, PyomoHighs, Solution, solve_lp
from resiliopt.solvers.input_certificate import InputCertificate, certify_input

if TYPE_CHECKING:  # Pyomo is imported by the Pyomo route only (solve_model, SliceResult.model)
    import pyomo.environ as pyo

TOL = 1e-9
#: above this many arcs the networkx cross-check (pure Python, seconds at city size) is skipped
#: unless asked for (``crosscheck=True``); the result says so in ``crosscheck_note``.
CROSSCHECK_MAX_ARCS = 5000


def load_slice(
    path: str | Path,
    seed: int = 0,
    day: int = 0,
    scenario: int = 0,
    variant: str | None = None,
    overrides: tuple = (),
    extension: str | None = None,
) -> SliceData:
    """A slice from a ``kind: slice`` file, or from a case at ``day`` of scenario ``scenario``.

    ``overrides`` (YAML files laid over a case) and ``extension`` (``module:function``):
    docs/constraints.md. A slice file takes an extension but no overrides.
    """
    p = Path(path)
    if p.is_file() and p.suffix in (".yaml", ".yml") and p.name != "case.yaml":
        raw = read_yaml(p)
        if isinstance(raw, dict) and raw.get("kind") == "slice":  # parsed once, validated here
            if overrides:
                raise InputError("overrides apply to cases, not to slice files", location="--override")
            data = SliceData.from_schema(validate(schemas.SliceFile, raw, p), name=p.stem)
            if extension:
                data.extension = load_extension(extension)
            return data
        if not (isinstance(raw, dict) and raw.get("kind") in ("case", "override")):
            raise InputError("expected a file with kind: slice, case or override", p, "kind")
    return case_slice(path, seed, day, scenario, variant, overrides, extension)


def case_slice(
    case: str | Path,
    seed: int = 0,
    day: int = 0,
    scenario: int = 0,
    variant: str | None = None,
    overrides: tuple = (),
    extension: str | None = None,
) -> SliceData:
    """The slice of a case's scenario at ``day`` (the recovery is simulated up to that day)."""
    if day < 0:
        raise InputError(f"day must be >= 0 (got {day})", location="--day")
    cm = load_case_model(case, variant, overrides, extension)
    if day == 0:
        st = RecoveryState(cm, sample_scenario(cm, seed, scenario))
    else:
        _, _, st = run_scenario(cm, seed, scenario, day, compiled_for(cm), stop_day=day)
    return st.slice_data(only_active=True)


@dataclass
class SliceResult:
    """A solved slice: tidy tables of flows, deliveries, duals, reduced costs, and checks."""

    data: SliceData
    solution: Solution
    flows: pd.DataFrame
    deliveries: pd.DataFrame
    duals: pd.DataFrame
    reduced_costs: pd.DataFrame
    networkx_objective: float | None
    input_certificate: InputCertificate | None = None
    crosscheck_note: str | None = None
    #: the Pyomo model that was solved (None: solved from its matrix, see :attr:`model`)
    solved_model: pyo.ConcreteModel | None = None

    @property
    def model(self) -> pyo.ConcreteModel:
        """The slice's Pyomo model. A plain slice is solved from its matrix form
        (:func:`solve_slice`); its model is then built here on first use, with the solution's
        flows and deliveries as variable values."""
        if self.solved_model is None:
            m = build_slice_model(self.data)
            if self.solution.optimal:
                for e, v in zip(self.flows["arc"], self.flows["flow"], strict=True):
                    m.flow[e].set_value(v, skip_validation=True)
                for j, v in zip(self.deliveries["group"], self.deliveries["delivered"], strict=True):
                    m.delivery[j].set_value(v, skip_validation=True)
            self.solved_model = m
        return self.solved_model

    @functools.cached_property
    def unreachable(self) -> pd.DataFrame:
        """Groups with demand that no open arc path reaches from the source, read from the
        input tables (not from the LP): group, node, demand, gain, fc_at_stake
        (:func:`~resiliopt.simulation.unreachable.unreachable_groups`). Every feasible plan
        delivers them nothing."""
        return unreachable_groups(self.data)

    @property
    def unreachable_summary(self) -> dict:
        """Count, nodes, demand and F_C shares of :attr:`unreachable` (docs/slice_lp.md)."""
        return unreachable_summary(self.data, self.unreachable)

    @property
    def unreachable_note(self) -> str:
        """One sentence on :attr:`unreachable` (empty when every group with demand is reached)."""
        return unreachable_line(self.unreachable_summary, self.data.source)

    @property
    def problems(self) -> list[str]:
        """Why an answer HiGHS calls optimal is not proven (empty when it is)."""
        if not self.solution.optimal:
            return []
        out = []
        cert, inp = self.certificate, self.input_certificate
        if cert is None or not cert.passed:
            out.append("the matrix certificate " + ("is missing" if cert is None else "failed"))
        if inp is None or not inp.passed:  # an extension: inapplicable, so not proven (docs/solvers.md)
            out.append("the input certificate " + ("is missing" if inp is None else inp.summary()))
        if self.networkx_objective is not None and not networkx_agrees(
            self.data, self.objective, self.networkx_objective
        ):
            out.append(
                f"networkx's objective {self.networkx_objective:.10g} differs from HiGHS's "
                f"{self.objective:.10g} by more than the tolerance"
            )
        return out

    @property
    def passed(self) -> bool:
        """HiGHS says optimal, both certificates pass and networkx (when run) agrees."""
        return self.solution.optimal and not self.problems

    @property
    def status(self) -> str:
        """``optimal`` only when :attr:`passed`; ``unverified`` when HiGHS's optimum fails a
        check; otherwise HiGHS's status (``infeasible``, ...)."""
        if not self.solution.optimal:
            return self.solution.status
        return "optimal" if self.passed else "unverified"

    def require_proven(self) -> None:
        """Raise :class:`~resiliopt.errors.SolveError` (exit 1) unless HiGHS solved the slice to
        optimality and every check passed (:attr:`passed`)."""
        if not self.solution.optimal:
            raise SolveError(f"the slice was not solved to optimality: {self.status}", self.status)
        if not self.passed:
            raise SolveError("HiGHS's optimum is not proven: " + "; ".join(self.problems), self.status)

    @property
    def objective(self) -> float | None:
        return self.solution.objective

    @property
    def certificate(self) -> Certificate | None:
        return self.solution.certificate

    @property
    def delivered(self) -> float:
        return float(self.deliveries["delivered"].sum()) if len(self.deliveries) else 0.0

    @property
    def source_outflow(self) -> float:
        f = self.flows
        return float(f.loc[f["from"] == self.data.source, "flow"].sum()) if len(f) else 0.0

    def shadow_prices(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` largest arc-capacity shadow prices (F_C per extra unit of capacity)."""
        d = self.duals[(self.duals["constraint"] == "arc_capacity") & (self.duals["value"] > TOL)]
        d = d.sort_values("value", ascending=False).head(n)
        return d.merge(self.flows[["arc", "label", "bridges"]], left_on="index", right_on="arc").drop(
            columns="arc"
        )

    def min_cut(self) -> pd.DataFrame:
        """Saturated arcs from the source side to the rest of the residual graph.

        Road nodes reachable from the source in the residual graph of the optimal flow (road
        arcs only) form the source side S; every arc leaving S is at capacity, so these arcs
        form a minimum cut between the source and the nodes outside S: any unmet demand outside
        S is cut off by exactly these arcs. The TR limit is not part of the graph; whether it
        binds is shown by its dual.
        """
        import networkx as nx  # imported here: a city-size slice skips it

        g = nx.DiGraph()
        f = self.flows
        cols = (f[c].tolist() for c in ("from", "to", "flow", "capacity"))
        for u, v, x, cap in zip(*cols, strict=True):
            if x < cap - TOL:
                g.add_edge(u, v)
            if x > TOL:
                g.add_edge(v, u)
        src = self.data.source
        if src not in g:
            return self.flows.iloc[0:0]
        side = nx.descendants(g, src) | {src}
        cut = self.flows[self.flows["from"].isin(side) & ~self.flows["to"].isin(side)]
        return cut[cut["capacity"] > TOL]

    def to_dict(self) -> dict:
        def rows(df, cols):  # Python values column by column (pandas' to_dict is 4x slower)
            columns = [df[c].tolist() for c in cols]
            if len(cols) == 3:  # a dict display per row: twice as fast as dict(zip(...)) (city size)
                k0, k1, k2 = cols
                return [{k0: a, k1: b, k2: c} for a, b, c in zip(*columns, strict=True)]
            return [dict(zip(cols, v, strict=True)) for v in zip(*columns, strict=True)]

        out = {
            "status": self.status,
            "solver_status": self.solution.status,
            "passed": self.passed,
            "problems": self.problems,
            "objective": self.objective,
            "solver": f"{self.solution.solver} {self.solution.solver_version}",
            "total_resources": self.data.total_resources,
            "delivered": self.delivered if self.solution.optimal else None,
            "unreachable": {
                **self.unreachable_summary,
                "table": rows(self.unreachable, list(self.unreachable.columns)),
            },
        }
        if not self.solution.optimal:
            return out
        out["unused"] = self.data.total_resources - self.source_outflow
        out["networkx_objective"] = self.networkx_objective
        out["networkx_tolerance"] = (
            networkx_allowed(self.data, self.objective) if self.networkx_objective is not None else None
        )
        if self.crosscheck_note:
            out["networkx_note"] = self.crosscheck_note
        out["flows"] = rows(self.flows, ["from", "to", "flow"])
        out["deliveries"] = rows(self.deliveries, ["group", "node", "delivered", "demand", "gain"])
        out["duals"] = rows(self.duals, ["constraint", "index", "value"])
        out["reduced_costs"] = rows(self.reduced_costs, ["variable", "index", "value"])
        out["certificate"] = self.certificate.to_dict() if self.certificate else None
        out["input_certificate"] = self.input_certificate.to_dict() if self.input_certificate else None
        return out


def slice_potentials(duals: pd.DataFrame) -> tuple[dict[str, float], float]:
    """Node potentials and the price of TR from a tidy dual table (shadow prices).

    ``p_v = -dual(node_balance[v])`` (one more unit *delivered at* v is worth ``p_v``),
    ``lambda = dual(total_resources)`` (0 when the model has no such row).
    """
    nb = duals[duals["constraint"] == "node_balance"]
    pot = dict(zip(nb["index"].tolist(), (-nb["value"].to_numpy(dtype=float)).tolist(), strict=True))
    tr = duals.loc[duals["constraint"] == "total_resources", "value"]
    return pot, float(tr.iloc[0]) if len(tr) else 0.0


#: the components of the plain slice model, by Pyomo type name
_PLAIN = {
    "Constraint": {"node_balance", "total_resources"},
    "Var": {"flow", "delivery"},
    "Objective": {"objective"},
}


def crosscheck_blockers(model: pyo.ConcreteModel) -> list[str]:
    """Components that make the model more than the min-cost flow networkx checks.

    The cross-check solves the slice's *data* as a network flow; it says nothing about rows,
    variables or objectives added to the Pyomo model (user constraints, an extension), nor
    about fixed variables.
    """
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

    out = []
    for ctype, names in _PLAIN.items():
        for c in model.component_objects(getattr(pyo, ctype), active=True, descend_into=True):
            if c.local_name not in names:
                out.append(f"{ctype.lower()} {c.local_name}")
    for name in ("flow", "delivery"):
        var = getattr(model, name, None)
        if var is not None and any(var[k].fixed for k in var):
            out.append(f"fixed values of {name}")
    return out


def price_unit(constraint_unit: str) -> str:
    """Unit of a shadow price: objective unit per unit of the constraint (``F_C per unit/slice``)."""
    if not constraint_unit:
        return ""
    per = constraint_unit[:-1] if constraint_unit == "units" else constraint_unit.replace("units/", "unit/")
    return f"{META['objective']['unit']} per {per}"


def solve_model(model: pyo.ConcreteModel, crosscheck: bool | None = None) -> SliceResult:
    """Solve a built (and possibly modified) slice model through Pyomo; tidy tables and checks."""
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

    model.meta = {**META, **getattr(model, "meta", {})}  # built-in rows, then user rows
    sol = PyomoHighs(options=SLICE_TOLERANCES).solve(model)
    data: SliceData = model.slice_data
    if not sol.optimal:
        empty = pd.DataFrame()
        return SliceResult(data, sol, empty, empty, empty, empty, None, solved_model=model)
    flows = pd.DataFrame(
        {
            "arc": list(model.arcs),
            "flow": [pyo.value(model.flow[e]) for e in model.arcs],
            "capacity": [pyo.value(model.cap[e]) for e in model.arcs],
        }
    )
    deliveries = pd.DataFrame(
        {
            "group": list(model.groups),
            "node": list(data.groups["node"]),
            "delivered": [pyo.value(model.delivery[j]) for j in model.groups],
            "demand": [pyo.value(model.demand[j]) for j in model.groups],
            "gain": [pyo.value(model.gain[j]) for j in model.groups],
        }
    )
    blockers = crosscheck_blockers(model)
    # rows, variables or fixings added to the built model by hand are not the input's problem
    declared = {r.name for r in data.constraints} | set(getattr(model, "extension_components", ()))
    by_hand = [b for b in blockers if b.split(" ", 1)[-1] not in declared]
    return _checked(data, sol, flows, deliveries, crosscheck, blockers, by_hand, model)


def solve_slice(data: SliceData, crosscheck: bool | None = None, method: str = "auto") -> SliceResult:
    """Solve a slice.

    A slice with user constraints or an extension is built as a Pyomo model and solved by
    :func:`solve_model`. A plain slice (the LP of the module docstring of
    :mod:`~resiliopt.formulations.slice_lp`) is written in matrix form with numpy
    (:func:`~resiliopt.formulations.slice_compiled.slice_matrix`, the same rows, columns and
    coefficients as the Pyomo model, checked entry for entry in tests/test_city.py) and
    solved without Pyomo. ``method``: ``auto`` (the network route of
    :mod:`~resiliopt.formulations.slice_network` from :data:`NETWORK_MIN_ARCS` arcs on,
    HiGHS below: interior point with crossover for large LPs, dual simplex otherwise;
    :func:`~resiliopt.solvers.highs.solve_lp`), ``network``, ``highs`` (HiGHS's own choice at
    every size: the route before the network one), ``simplex`` or ``ipm``. The
    network route hands over to HiGHS (``auto``'s choice) when it does not apply or when its
    answer fails the matrix or the input certificate. The checks are the same on every
    route: the matrix certificate, the input certificate, networkx.
    """
    if method not in ("auto", "network", "highs", "simplex", "ipm"):
        raise ValueError(f"method must be auto, network, highs, simplex or ipm (got {method!r})")
    if data.constraints or data.extension is not None:
        return solve_model(build_slice_model(data), crosscheck=crosscheck)
    lp = slice_matrix(data)
    if method == "network" or (method == "auto" and len(data.arcs) >= NETWORK_MIN_ARCS):
        sol = network_solution(data, lp, META)
        if sol is not None and sol.certificate.passed:
            res = _result(data, sol, crosscheck)
            if res.input_certificate.passed:
                return res
        method = "auto"  # not applicable, or not proven: HiGHS solves it
    how = "auto" if method == "highs" else method  # solve_lp's auto: IPM for large LPs, else simplex
    return _result(data, solve_lp(lp, META, SLICE_TOLERANCES, how), crosscheck)


def _result(data: SliceData, sol: Solution, crosscheck: bool | None) -> SliceResult:
    """The tables and checks of a plain slice solved from its matrix (columns: arcs, groups)."""
    if not sol.optimal:
        empty = pd.DataFrame()
        return SliceResult(data, sol, empty, empty, empty, empty, None)
    x = sol.primal["value"].to_numpy()
    arcs, groups, n_arc = data.arcs, data.groups, len(data.arcs)
    flows = pd.DataFrame(
        {"arc": arcs["arc"].to_numpy(), "flow": x[:n_arc], "capacity": arcs["capacity"].to_numpy(dtype=float)}
    )
    deliveries = pd.DataFrame(
        {
            "group": groups["group"].to_numpy(),
            "node": groups["node"].to_numpy(),
            "delivered": x[n_arc:],
            "demand": groups["capacity"].to_numpy(dtype=float),
            "gain": groups["gain"].to_numpy(dtype=float),
        }
    )
    return _checked(data, sol, flows, deliveries, crosscheck, [], [], None)


def load_and_solve_slice(
    path: str | Path,
    seed: int = 0,
    day: int = 0,
    scenario: int = 0,
    variant: str | None = None,
    overrides: tuple = (),
    extension: str | None = None,
) -> SliceResult:
    """:func:`solve_slice` of :func:`load_slice` (a slice file, or a case's slice at ``day``)."""
    return solve_slice(load_slice(path, seed, day, scenario, variant, tuple(overrides), extension))


def _checked(
    data: SliceData,
    sol: Solution,
    flows: pd.DataFrame,
    deliveries: pd.DataFrame,
    crosscheck: bool | None,
    blockers: list[str],
    by_hand: list[str],
    model: pyo.ConcreteModel | None,
) -> SliceResult:
    """The tidy tables of an optimal solve, with the input certificate and networkx's check."""
    arcs = data.arcs
    if len(flows) == len(arcs) and np.array_equal(flows["arc"].to_numpy(), arcs["arc"].to_numpy()):
        # the solvers' tables follow the input's arc order: the join below, without its cost
        # (1 s at 200,000 arcs); ids are unique (checked when the model was built)
        for col in ("from", "to", "label"):
            flows[col] = arcs[col].to_numpy()
        flows["bridges"] = arcs["bridges"].to_numpy() if "bridges" in arcs else ""
    else:
        labels = arcs[["arc", "from", "to", "label"]].copy()
        labels["bridges"] = arcs["bridges"].to_numpy() if "bridges" in arcs else ""
        flows = flows.merge(labels, on="arc", how="left", validate="one_to_one")
    flows = flows[["arc", "from", "to", "flow", "capacity", "label", "bridges"]]
    rc = sol.reduced_costs
    bound_duals = []
    for var, cname in (("flow", "arc_capacity"), ("delivery", "group_demand")):
        part = rc[rc["variable"] == var]
        bound_duals.append(
            pd.DataFrame(
                {
                    "constraint": cname,
                    "index": part["index"].to_numpy(),
                    "value": np.maximum(part["value"].to_numpy(), 0.0),
                    "description": META[cname]["description"],
                    "unit": META[cname]["unit"],
                }
            )
        )
    rows = sol.duals[["constraint", "index", "value", "slack", "description", "unit"]]
    duals = pd.concat([rows, *bound_duals], ignore_index=True)
    # a dual is a price: F_C per unit of the right-hand side (the row's own unit is kept too)
    duals["constraint_unit"] = duals["unit"]
    units = {u: price_unit(u) for u in duals["unit"].unique()}
    duals["unit"] = duals["constraint_unit"].map(units)
    note = None
    if blockers:  # networkx and the input certificate would check the input tables, not this model
        crosscheck = False
        note = "not applicable: the model has " + ", ".join(blockers) + " beyond the min-cost flow"
    elif crosscheck is None:
        crosscheck = len(data.arcs) <= CROSSCHECK_MAX_ARCS
        if not crosscheck:
            note = f"networkx cross-check skipped: {len(data.arcs)} arcs > {CROSSCHECK_MAX_ARCS}"
    elif not crosscheck:
        note = "networkx cross-check not requested"
    nx_obj = networkx_objective(data) if crosscheck else None
    pot, lam = slice_potentials(sol.duals)
    names = {r.name for r in data.constraints}
    ud = sol.duals[sol.duals["constraint"].isin(names)]
    inp = certify_input(
        data,
        flows=dict(zip(flows["arc"].tolist(), flows["flow"].tolist(), strict=True)),
        deliveries=dict(zip(deliveries["group"].tolist(), deliveries["delivered"].tolist(), strict=True)),
        potentials=pot,
        tr_price=lam,
        objective=sol.objective,
        user_duals=dict(zip(zip(ud["constraint"], ud["index"], strict=True), ud["value"], strict=True)),
    )
    if by_hand and data.extension is None:
        extra = f"inapplicable: the model has {', '.join(by_hand)}, which the input does not describe"
        inp = dataclasses.replace(inp, problems=(*inp.problems, extra))
    return SliceResult(data, sol, flows, deliveries, duals, rc.copy(), nx_obj, inp, note, model)
