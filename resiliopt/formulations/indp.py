r"""The Interdependent Network Design Problem (INDP) and its time-dependent form (td-INDP).

Gonzalez, Dueñas-Osorio, Sánchez-Silva, Medaglia (2016), "The Interdependent Network Design
Problem for Optimal Infrastructure System Restoration", Computer-Aided Civil and
Infrastructure Engineering 31, 334-350. Notation follows the paper; docs/indp.md has the
readings of the paper and of the data that its text leaves open.

Sets
    :math:`K` layers (one commodity each, ``case.layers``); :math:`N` nodes :math:`(k, i)`;
    :math:`L` links; :math:`A` directed arcs: a link :math:`\ell = (i, j)` gives the arc
    :math:`i \to j`, and a ``two_way`` link also :math:`j \to i`, each with the link's
    capacity; :math:`N' \subseteq N`, :math:`L' \subseteq L` the damaged elements (mutable
    parameters :math:`\bar d_i, \bar d_\ell \in \{0, 1\}`); :math:`S` geographic spaces;
    :math:`R` repair resources; :math:`\mathcal T = \{1, \dots, T\}` periods.

Parameters
    :math:`b_i` supply (> 0) or demand (< 0) [layer unit/period]; :math:`u_\ell` capacity
    [unit/period]; :math:`c_\ell` flow cost [cost/unit]; :math:`q_i, f_\ell` repair costs
    [cost]; :math:`g_s` preparation cost of space :math:`s` [cost/period used];
    :math:`M^+_i, M^-_i` over- and under-supply penalties [cost/unit]; :math:`p_i, h_\ell`
    resource use of a repair [resource units]; :math:`v_{rt}` resources available in period
    :math:`t` [resource units] (mutable); :math:`\gamma_{ij} \in (0, 1]` the dependency of node
    :math:`j` on node :math:`i` (the case's ``loss``); :math:`\alpha_{is}, \beta_{\ell s}`
    membership of spaces; :math:`\tau_i \ge 1` the repair duration [periods] (the case's
    ``repair_time`` rounded up, :mod:`resiliopt.formulations.indp_repairs`).

Variables (per period :math:`t`)
    :math:`x_{at} \ge 0` flow on arc :math:`a`; :math:`\delta^+_{it}, \delta^-_{it} \ge 0`
    over- and under-supply; :math:`w_{it}, y_{\ell t} \in \{0,1\}` the element works;
    :math:`\tilde w_{it}, \tilde y_{\ell t} \in \{0,1\}` the repair of the element starts in
    period :math:`t` (it is under way in periods :math:`t, \dots, t + \tau_i - 1`);
    :math:`z_{st} \in \{0,1\}` space :math:`s` is prepared in period :math:`t`.

.. math::

    \min \sum_{t \in \mathcal T} \Big[ & \sum_{s} g_s z_{st}
        + \sum_{\ell} f_\ell \tilde y_{\ell t} + \sum_{i} q_i \tilde w_{it}
        + \sum_{i} (M^+_i \delta^+_{it} + M^-_i \delta^-_{it})
        + \sum_{a} c_{\ell(a)} x_{at} \Big]                                      \\
    \text{s.t.}\;
    & 0 \le \delta^+_{it} \le \max(b_i, 0),\quad 0 \le \delta^-_{it} \le \max(-b_i, 0)
        && \forall i, t \quad (\text{bounds})                                    \\
    & \textstyle\sum_{a \in \delta^+(i)} x_{at} - \sum_{a \in \delta^-(i)} x_{at}
        + \delta^+_{it} - \delta^-_{it} = b_i
        && \forall i, t \quad (\text{balance})                                     \\
    & x_{at} \le u_{\ell(a)}\, y_{\ell(a) t},\;
      x_{at} \le u_{\ell(a)}\, w_{o(a) t},\; x_{at} \le u_{\ell(a)}\, w_{e(a) t}
        && \forall a, t \quad (\text{cap\_link, cap\_from, cap\_to})             \\
    & w_{it} \le 1 - \bar d_i + \textstyle\sum_{t' \le t - \tau_i + 1} \tilde w_{it'},\quad
      y_{\ell t} \le 1 - \bar d_\ell + \sum_{t' \le t - \tau_\ell + 1} \tilde y_{\ell t'}
        && \forall i, \ell, t \quad (\text{node\_state, link\_state})           \\
    & \textstyle\sum_t \tilde w_{it} \le \bar d_i,\quad \sum_t \tilde y_{\ell t} \le \bar d_\ell
        && \forall i, \ell \quad (\text{repair\_once})                           \\
    & \tilde w_{it} = 0\ (t > T - \tau_i + 1),\quad \tilde y_{\ell t} = 0\ (t > T - \tau_\ell + 1)
        && \forall i, \ell \quad (\text{bounds: repairs end in the horizon})        \\
    & \textstyle\sum_i p_i \sum_{t' \in W_i(t)} \tilde w_{it'}
      + \sum_\ell h_\ell \sum_{t' \in W_\ell(t)} \tilde y_{\ell t'} \le v_{rt}
        && \forall r, t \quad (\text{resources})                                   \\
    & w_{jt} \le \textstyle\sum_{i \in D_k(j)} \gamma_{ij} w_{it}
        && \forall j, k \in K(j), t \quad (\text{dependency})                     \\
    & \textstyle\sum_{W_i(t)} \tilde w_{it'} \le z_{st}\ (\alpha_{is} = 1),\quad
      \sum_{W_\ell(t)} \tilde y_{\ell t'} \le z_{st}\ (\beta_{\ell s} = 1)
        && \forall t \quad (\text{space\_node, space\_link})

The bounds on :math:`\delta^\pm` are not in the paper: without them a node's
under-supply can act as a virtual source for its neighbours. When the under-supply penalties
of a layer are equal (as in Shelby County) the optimum is the same either way (move the
shortfall to where it is consumed, which saves the flow cost), and with the bounds a node's
served demand is :math:`|b_i| - \delta^-_{it}`, which the tier rows need.

:math:`D_k(j)` are the nodes of layer :math:`k` that node :math:`j` depends on. With the
paper's rule (``dependency_rule="any"``, default) node :math:`j` works if the dependees of
each layer it depends on supply a total :math:`\gamma` of at least one (with binary
:math:`\gamma`, at least one of them works). ``dependency_rule="all"`` writes one row
:math:`w_{jt} \le w_{it}` per dependency instead (every dependee must work).

The iterative INDP is this model with :math:`T = 1`, solved once per period with
:math:`\bar d` updated to what is still broken (:func:`set_damage`); the td-INDP is the same
model with :math:`T > 1` solved once. :math:`W_i(t) = \{t' : t - \tau_i + 1 \le t' \le t\}`:
a repair started in :math:`t` holds its resources and spaces in periods :math:`t..t+\tau_i-1`
and the element is usable in period :math:`t + \tau_i - 1` (flows are those of the end of the
period, as in the paper's iterative INDP). With :math:`\tau \equiv 1` (``durations="one"``,
or a case whose ``repair_time`` is at most 1) this is the paper's model row for row;
:mod:`resiliopt.formulations.indp_repairs` writes these rows and says what the durations mean.

Extensions (off by default; :class:`INDPOptions`)
    *Priority tiers.* With ``tier1_min_share`` :math:`\sigma`, in every layer and period the
    tier-1 demand nodes :math:`N_1` receive at least :math:`\sigma` of their demand:
    :math:`\sum_{i \in N_1^k} \delta^-_{it} \le (1 - \sigma) \sum_{i \in N_1^k} |b_i| +
    \xi_{kt}` (row ``tier1_share``), where the shortfall :math:`\xi_{kt} \ge 0` costs
    ``tier1_shortfall_penalty`` per unit (default ten times the largest :math:`M^-`): the
    row is binding whenever it can be met, and a shortfall is reported, not an infeasibility.

    *Mobile backup units.* :class:`BackupUnit` gives, for a layer, ``count`` units of
    ``capacity`` each (a generator, a water tank). Binary :math:`m_{it}` places a unit at
    demand node :math:`i` (among ``nodes`` if given) in period :math:`t`, :math:`\sum_i m_{it} \le` ``count``
    (``backup_count``); it supplies :math:`s_{it} \le` ``capacity`` :math:`m_{it}`
    (``backup_capacity``) and at most the node's own demand, :math:`s_{it} \le |b_i|`
    (``backup_local``), served on the spot (it does not need the node or the network to
    work); :math:`s_{it}` enters the balance row as supply; each placed unit costs
    ``cost`` per period.

Build once with :func:`build_indp`, then :func:`set_damage` / :func:`set_resources` change
mutable parameters in place (a persistent solver only receives the changed numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from resiliopt.errors import InputError
from resiliopt.formulations.indp_repairs import add_repair_rows, add_space_rows, repair_periods

#: description and unit of each constraint (Calliope style).
META: dict[str, dict[str, str]] = {
    "balance": {"description": "flow out - flow in + oversupply - undersupply = b_i", "unit": "unit/period"},
    "cap_link": {"description": "flow only on working links, up to capacity", "unit": "unit/period"},
    "cap_from": {"description": "flow only out of working nodes", "unit": "unit/period"},
    "cap_to": {"description": "flow only into working nodes", "unit": "unit/period"},
    "node_state": {"description": "a damaged node works only once repaired", "unit": "1"},
    "link_state": {"description": "a damaged link works only once repaired", "unit": "1"},
    "node_repair_once": {"description": "only damaged nodes are repaired, once", "unit": "1"},
    "link_repair_once": {"description": "only damaged links are repaired, once", "unit": "1"},
    "resources": {"description": "repair resources used in a period <= v", "unit": "resource units"},
    "dependency": {"description": "a depender works only if its dependees work", "unit": "1"},
    "space_node": {"description": "repairing a node prepares its spaces", "unit": "1"},
    "space_link": {"description": "repairing a link prepares its spaces", "unit": "1"},
    "tier1_share": {"description": "tier-1 loads get at least the minimum share", "unit": "unit/period"},
    "backup_count": {"description": "backup units placed <= units available", "unit": "units"},
    "backup_capacity": {"description": "backup supply <= capacity of placed units", "unit": "unit/period"},
    "backup_local": {"description": "a backup serves only the node's own demand", "unit": "unit/period"},
}


@dataclass(frozen=True)
class BackupUnit:
    """Mobile backup units of one layer (generators for power, tanks for water)."""

    layer: str
    count: int
    capacity: float
    cost: float = 0.0
    nodes: tuple[str, ...] | None = None  #: the demand nodes a unit may be placed at (None: any)


@dataclass(frozen=True)
class INDPOptions:
    """Variants of the model. Defaults reproduce the paper's INDP."""

    dependency_rule: str = "any"
    #: dependency types that make a depender fail ("geographic" is co-location, not service)
    dependency_types: tuple[str, ...] = ("physical", "cyber", "logical")
    tier1_min_share: float | None = None
    tier1_shortfall_penalty: float | None = None
    backups: tuple[BackupUnit, ...] = ()
    #: "link": a two-way link is one element (one repair, one cost, one resource use);
    #: "directed": each direction is its own arc with its own repair, cost and resource use,
    #: as in the authors' data (one row per direction); a damaged link damages both;
    #: "paired": a two-way link is repaired as one element, but as its two arcs: twice the
    #: link's repair cost and resource use (the authors' counting, docs/indp.md).
    arc_model: str = "link"
    #: layers whose supply and demand are modelled (default: all); the nodes of the other
    #: layers keep their state (damage, repair, dependencies) but have no demand or links.
    service_layers: tuple[str, ...] | None = None
    #: "case": a repair takes the case's repair_time, rounded up to whole periods (at least 1);
    #: "one": every repair takes one period (the paper's INDP). docs/indp.md, "Repairs that
    #: take several periods".
    durations: str = "case"

    def validate(self) -> None:
        if self.dependency_rule not in ("any", "all"):
            raise InputError(
                f"dependency_rule must be 'any' or 'all' (got {self.dependency_rule!r})",
                location="dependency_rule",
            )
        if self.arc_model not in ("link", "directed", "paired"):
            raise InputError(
                f"arc_model must be link, directed or paired (got {self.arc_model!r})", location="arc_model"
            )
        if self.durations not in ("case", "one"):
            raise InputError(
                f"durations must be 'case' or 'one' (got {self.durations!r})", location="durations"
            )
        if self.tier1_min_share is not None and not 0.0 <= self.tier1_min_share <= 1.0:
            raise InputError(
                f"tier1_min_share must be in [0, 1] (got {self.tier1_min_share})", location="tier1_min_share"
            )
        for k, b in enumerate(self.backups):
            if b.count < 0 or b.capacity < 0 or b.cost < 0:
                raise InputError("backup count, capacity and cost must be >= 0", location=f"backups[{k}]")


@dataclass
class INDPData:
    """The case's tables as index lists for the builder and the result tables."""

    nodes: list[tuple[str, str]]
    links: list[tuple[str, str]]
    arcs: list[tuple[str, str, str]]  # (layer, link, "+" | "-")
    arc_ends: dict[tuple, tuple[tuple[str, str], tuple[str, str]]]
    node_tab: pd.DataFrame  # indexed by (layer, node)
    link_tab: pd.DataFrame  # indexed by (layer, link)
    deps: dict[tuple[str, str, str], list[tuple[tuple[str, str], float]]]  # (layer, node, dee layer)
    spaces: dict[str, float]
    node_spaces: list[tuple[tuple[str, str], str]]
    link_spaces: list[tuple[tuple[str, str], str]]
    resources: dict[str, float]
    layers: list[str]
    #: repair duration tau (periods) of every element, keyed (kind, layer, element)
    repair_periods: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def compile_case(case, options: INDPOptions | None = None) -> INDPData:
    """Index lists of ``case`` (an :class:`~resiliopt.infra.InfraCase`, see INFRA_CONTRACT)."""
    options = options or INDPOptions()
    nodes_df = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
    links_df = case.links.assign(layer=case.links["layer"].astype(str), link=case.links["link"].astype(str))
    es = case.element_spaces
    if es is not None:
        es = es.assign(layer=es["layer"].astype(str), element=es["element"].astype(str))
    units: dict = {}
    if options.service_layers is not None:
        known = set(case.layers["layer"].astype(str))
        bad = set(options.service_layers) - known
        if bad:
            raise InputError(
                f"unknown service layers {sorted(bad)} (case has {sorted(known)})", location="service_layers"
            )
        other = ~nodes_df["layer"].isin(options.service_layers)
        nodes_df.loc[other, "demand"] = 0.0
        for r in links_df[~links_df["layer"].isin(options.service_layers)].itertuples(index=False):
            units[(r.layer, r.link)] = []  # damage there is accepted and has no effect
        links_df = links_df[links_df["layer"].isin(options.service_layers)]
        if es is not None:
            es = es[(es["kind"] == "node") | es["layer"].isin(options.service_layers)]
    if options.arc_model == "paired":
        tw = links_df["two_way"].astype(bool)
        links_df = links_df.assign(
            repair_cost=links_df["repair_cost"].where(~tw, 2 * links_df["repair_cost"]),
            resource_use=links_df["resource_use"].where(~tw, 2 * links_df["resource_use"]),
        )
    if options.arc_model == "directed":
        rows, es_rows = [], []
        space_of = {}
        if es is not None:
            for r in es[es["kind"] == "link"].itertuples(index=False):
                space_of.setdefault((r.layer, r.element), []).append(r.space)
        for r in links_df.to_dict("records"):
            key = (r["layer"], r["link"])
            if not r["two_way"]:
                rows.append(r)
                units[key] = [key]
                continue
            fwd = {**r, "link": f"{r['link']}:+", "two_way": False}
            bwd = {**r, "link": f"{r['link']}:-", "from": r["to"], "to": r["from"], "two_way": False}
            rows += [fwd, bwd]
            units[key] = [(r["layer"], fwd["link"]), (r["layer"], bwd["link"])]
            for u in units[key]:
                es_rows += [("link", u[0], u[1], sp) for sp in space_of.get(key, [])]
        links_df = pd.DataFrame(rows, columns=links_df.columns)
        if es is not None:
            es = pd.concat(
                [
                    es[es["kind"] == "node"],
                    pd.DataFrame(es_rows, columns=["kind", "layer", "element", "space"]),
                ],
                ignore_index=True,
            )
    nt = nodes_df.set_index(["layer", "node"], drop=False).sort_index()
    lt = links_df.set_index(["layer", "link"], drop=False).sort_index()
    nodes = [tuple(map(str, k)) for k in nt.index]
    node_set = set(nodes)
    links = [tuple(map(str, k)) for k in lt.index]
    for k in links:
        units.setdefault(k, [k])
    arcs, ends = [], {}
    frm, to, two = lt["from"].astype(str).tolist(), lt["to"].astype(str).tolist(), lt["two_way"].tolist()
    for (layer, link), o, e, tw in zip(links, frm, to, two, strict=True):
        a, b = (layer, o), (layer, e)
        for end in (a, b):
            if end not in node_set:
                raise InputError(
                    f"link {link!r} of layer {layer!r} ends at unknown node {end[1]!r}",
                    file=_source(case, "links"),
                    location=f"links[{layer}/{link}]",
                )
        arcs.append((layer, link, "+"))
        ends[(layer, link, "+")] = (a, b)
        if bool(tw):
            arcs.append((layer, link, "-"))
            ends[(layer, link, "-")] = (b, a)
    deps: dict = {}
    dep = case.dependencies
    if dep is not None and len(dep):
        dep = dep[dep["type"].isin(options.dependency_types)]
        for r in dep.itertuples(index=False):
            dee = (str(r.dependee_layer), str(r.dependee))
            der = (str(r.depender_layer), str(r.depender))
            for end in (dee, der):
                if end not in node_set:
                    raise InputError(
                        f"dependency names unknown node {end[1]!r} of layer {end[0]!r}",
                        file=_source(case, "dependencies"),
                        location="dependencies",
                    )
            deps.setdefault((der[0], der[1], dee[0]), []).append((dee, float(r.loss)))
    spaces = {}
    if case.spaces is not None:
        spaces = {str(r.space): float(r.preparation_cost) for r in case.spaces.itertuples(index=False)}
    node_spaces, link_spaces = [], []
    link_set = set(links)
    if es is not None:
        for r in es.itertuples(index=False):
            key = (str(r.layer), str(r.element))
            if str(r.space) not in spaces:
                raise InputError(
                    f"unknown space {r.space!r}",
                    file=_source(case, "element_spaces"),
                    location="element_spaces",
                )
            if r.kind == "node" and key in node_set:
                node_spaces.append((key, str(r.space)))
            elif r.kind == "link" and key in link_set:
                link_spaces.append((key, str(r.space)))
            else:
                raise InputError(
                    f"space membership names unknown {r.kind} {key[1]!r} of layer {key[0]!r}",
                    file=_source(case, "element_spaces"),
                    location="element_spaces",
                )
    resources = {str(r.resource): float(r.per_period) for r in case.resources.itertuples(index=False)}
    if not resources:
        raise InputError("the case defines no repair resource", file=_source(case, "resources"))
    layers = [str(x) for x in case.layers["layer"]]
    data = INDPData(
        nodes,
        links,
        arcs,
        ends,
        nt,
        lt,
        deps,
        spaces,
        sorted(set(node_spaces)),
        sorted(set(link_spaces)),
        resources,
        layers,
    )
    data.extra["link_units"] = units
    try:
        tau_n = repair_periods(nt, nodes, options.durations)
        tau_l = repair_periods(lt, links, options.durations)
    except ValueError as exc:
        raise InputError(str(exc), file=_source(case, "nodes"), location="repair_time") from None
    data.repair_periods = {("node", *k): v for k, v in tau_n.items()} | {
        ("link", *k): v for k, v in tau_l.items()
    }
    return data


def _source(case, table):
    try:
        return case.source_file(table)
    except Exception:  # noqa: BLE001 - a stand-in case without files
        return None


def build_indp(case, periods: int = 1, options: INDPOptions | None = None, data: INDPData | None = None):
    """Build the (td-)INDP MILP of ``case`` over ``periods`` periods, nothing damaged yet.

    Returns a Pyomo ``ConcreteModel``; ``model.data`` is the :class:`INDPData`,
    ``model.options`` the :class:`INDPOptions`. Set the damage with :func:`set_damage`.
    """
    options = options or INDPOptions()
    options.validate()
    if periods < 1:
        raise InputError(f"periods must be >= 1 (got {periods})", location="periods")
    d = data or compile_case(case, options)
    nt, lt = d.node_tab, d.link_tab
    m = pyo.ConcreteModel(name=f"indp[{getattr(case, 'name', '')}]")
    m.data, m.options, m.meta = d, options, META
    m.T = pyo.RangeSet(1, periods)
    m.N = pyo.Set(initialize=d.nodes, dimen=2, ordered=True)
    m.L = pyo.Set(initialize=d.links, dimen=2, ordered=True)
    m.A = pyo.Set(initialize=d.arcs, dimen=3, ordered=True)
    m.S = pyo.Set(initialize=sorted(d.spaces), ordered=True)
    m.R = pyo.Set(initialize=sorted(d.resources), ordered=True)

    b = nt["demand"].to_dict()
    node = {k: nt.loc[k] for k in d.nodes}
    link = {k: lt.loc[k] for k in d.links}
    m.dmg_node = pyo.Param(m.N, initialize=0, mutable=True, within=pyo.Binary)
    m.dmg_link = pyo.Param(m.L, initialize=0, mutable=True, within=pyo.Binary)
    m.v = pyo.Param(m.R, m.T, initialize=lambda m, r, t: d.resources[r], mutable=True)

    m.x = pyo.Var(m.A, m.T, within=pyo.NonNegativeReals)
    # a node's unmet demand is at most its demand, its unused supply at most its supply
    m.over = pyo.Var(
        m.N, m.T, within=pyo.NonNegativeReals, bounds=lambda m, la, nd, t: (0, max(b[la, nd], 0.0))
    )
    m.under = pyo.Var(
        m.N, m.T, within=pyo.NonNegativeReals, bounds=lambda m, la, nd, t: (0, max(-b[la, nd], 0.0))
    )
    m.w = pyo.Var(m.N, m.T, within=pyo.Binary)
    m.y = pyo.Var(m.L, m.T, within=pyo.Binary)
    m.wr = pyo.Var(m.N, m.T, within=pyo.Binary)
    m.yr = pyo.Var(m.L, m.T, within=pyo.Binary)
    m.z = pyo.Var(m.S, m.T, within=pyo.Binary)

    out_arcs = {n: [] for n in d.nodes}
    in_arcs = {n: [] for n in d.nodes}
    for a in d.arcs:
        o, e = d.arc_ends[a]
        out_arcs[o].append(a)
        in_arcs[e].append(a)

    backups = [bu for bu in options.backups if bu.count > 0 and bu.capacity > 0]
    bnodes = [(*k, bu_i) for bu_i, bu in enumerate(backups) for k in d.nodes if k[0] == bu.layer and b[k] < 0]
    bnodes = [(la, nd, i) for la, nd, i in bnodes if backups[i].nodes is None or nd in backups[i].nodes]
    m.B = pyo.Set(initialize=bnodes, dimen=3, ordered=True)
    m.place = pyo.Var(m.B, m.T, within=pyo.Binary)
    m.backup = pyo.Var(m.B, m.T, within=pyo.NonNegativeReals)
    bsupply = {n: [] for n in d.nodes}
    for la, nd, bi in bnodes:
        bsupply[(la, nd)].append((la, nd, bi))

    def balance(m, la, nd, t):
        n = (la, nd)
        return sum(m.x[a, t] for a in out_arcs[n]) - sum(m.x[a, t] for a in in_arcs[n]) - sum(
            m.backup[k, t] for k in bsupply[n]
        ) + m.over[n, t] - m.under[n, t] == float(b[n])

    m.balance = pyo.Constraint(m.N, m.T, rule=balance)
    cap = {a: float(link[a[:2]]["capacity"]) for a in d.arcs}
    m.cap_link = pyo.Constraint(
        m.A, m.T, rule=lambda m, la, li, s, t: m.x[la, li, s, t] <= cap[la, li, s] * m.y[la, li, t]
    )
    m.cap_from = pyo.Constraint(
        m.A,
        m.T,
        rule=lambda m, la, li, s, t: m.x[la, li, s, t] <= cap[la, li, s] * m.w[d.arc_ends[la, li, s][0], t],
    )
    m.cap_to = pyo.Constraint(
        m.A,
        m.T,
        rule=lambda m, la, li, s, t: m.x[la, li, s, t] <= cap[la, li, s] * m.w[d.arc_ends[la, li, s][1], t],
    )
    p = {k: float(node[k]["resource_use"]) for k in d.nodes}
    h = {k: float(link[k]["resource_use"]) for k in d.links}
    add_repair_rows(m, d, p, h)  # states, repair once, resources (with durations)
    if options.dependency_rule == "any":
        groups = sorted(d.deps)
        m.DEP = pyo.Set(initialize=groups, dimen=3, ordered=True)
        m.dependency = pyo.Constraint(
            m.DEP,
            m.T,
            rule=lambda m, la, nd, kl, t: m.w[la, nd, t] <= sum(g * m.w[i, t] for i, g in d.deps[la, nd, kl]),
        )
    else:
        pairs = sorted({(der[0], der[1], i[0], i[1]) for der, lst in d.deps.items() for i, _ in lst})
        m.DEP = pyo.Set(initialize=pairs, dimen=4, ordered=True)
        m.dependency = pyo.Constraint(
            m.DEP, m.T, rule=lambda m, la, nd, ila, ind, t: m.w[la, nd, t] <= m.w[ila, ind, t]
        )
    add_space_rows(m, d)  # a repair under way prepares its spaces

    # extensions
    layers = d.layers
    m.K = pyo.Set(initialize=layers, ordered=True)
    tier1 = {k: [n for n in d.nodes if n[0] == k and b[n] < 0 and int(node[n]["tier"]) == 1] for k in layers}
    m.K1 = pyo.Set(initialize=[k for k in layers if tier1[k]] if options.tier1_min_share is not None else [])
    m.shortfall = pyo.Var(m.K1, m.T, within=pyo.NonNegativeReals)
    share = options.tier1_min_share or 0.0
    m.tier1_share = pyo.Constraint(
        m.K1,
        m.T,
        rule=lambda m, k, t: (
            sum(m.under[n, t] for n in tier1[k])
            <= (1 - share) * sum(-float(b[n]) for n in tier1[k]) + m.shortfall[k, t]
        ),
    )
    m.backup_count = pyo.Constraint(
        range(len(backups)),
        m.T,
        rule=lambda m, bi, t: sum(m.place[la, nd, j, t] for la, nd, j in m.B if j == bi) <= backups[bi].count,
    )
    m.backup_capacity = pyo.Constraint(
        m.B,
        m.T,
        rule=lambda m, la, nd, bi, t: (
            m.backup[la, nd, bi, t] <= backups[bi].capacity * m.place[la, nd, bi, t]
        ),
    )
    m.BN = pyo.Set(initialize=sorted({(la, nd) for la, nd, _ in bnodes}), dimen=2, ordered=True)
    m.backup_local = pyo.Constraint(
        m.BN, m.T, rule=lambda m, la, nd, t: sum(m.backup[k, t] for k in bsupply[la, nd]) <= -float(b[la, nd])
    )
    m.backups_used = backups

    mplus = nt["oversupply_penalty"].to_dict()
    mminus = nt["unmet_penalty"].to_dict()
    q = {k: float(node[k]["repair_cost"]) for k in d.nodes}
    f = {k: float(link[k]["repair_cost"]) for k in d.links}
    c = {a: float(link[a[:2]]["flow_cost"]) for a in d.arcs}
    pen = options.tier1_shortfall_penalty
    if pen is None:
        pen = 10.0 * max([float(v) for v in mminus.values()] + [1.0])
    m.tier1_penalty = pen

    # cost terms per period, as expressions (reported by the solver wrapper)
    m.flow_cost = pyo.Expression(m.T, rule=lambda m, t: sum(c[a] * m.x[a, t] for a in d.arcs if c[a]))
    m.node_repair_cost = pyo.Expression(
        m.T, rule=lambda m, t: sum(q[k] * m.wr[k, t] for k in d.nodes if q[k])
    )
    m.link_repair_cost = pyo.Expression(
        m.T, rule=lambda m, t: sum(f[k] * m.yr[k, t] for k in d.links if f[k])
    )
    m.space_cost = pyo.Expression(m.T, rule=lambda m, t: sum(d.spaces[s] * m.z[s, t] for s in m.S))
    m.unbalance_cost = pyo.Expression(
        m.T,
        rule=lambda m, t: sum(
            float(mplus[k]) * m.over[k, t] + float(mminus[k]) * m.under[k, t] for k in d.nodes
        ),
    )
    m.extension_cost = pyo.Expression(
        m.T,
        rule=lambda m, t: (
            sum(pen * m.shortfall[k, t] for k in m.K1)
            + sum(backups[bi].cost * m.place[la, nd, bi, t] for la, nd, bi in m.B)
        ),
    )
    m.obj = pyo.Objective(
        expr=sum(
            m.flow_cost[t]
            + m.node_repair_cost[t]
            + m.link_repair_cost[t]
            + m.space_cost[t]
            + m.unbalance_cost[t]
            + m.extension_cost[t]
            for t in m.T
        ),
        sense=pyo.minimize,
    )
    return m


def set_damage(model, nodes=(), links=()) -> None:
    """Mark exactly these elements as damaged (``nodes``: (layer, node) keys; ``links``:
    (layer, link) keys); every other element works. Changes mutable parameters only."""
    nodes = {tuple(map(str, k)) for k in nodes}
    d = model.data
    units = d.extra.get("link_units", {})
    links_in = {tuple(map(str, k)) for k in links}
    links = set()
    for k in links_in:
        if k not in units:
            raise InputError(f"damage names unknown link {k[1]!r} of layer {k[0]!r}", location="damage")
        links.update(units[k])
    for k in nodes - set(d.nodes):
        raise InputError(f"damage names unknown node {k[1]!r} of layer {k[0]!r}", location="damage")
    for k in d.nodes:
        model.dmg_node[k] = 1 if k in nodes else 0
    for k in d.links:
        model.dmg_link[k] = 1 if k in links else 0


def mark_repaired(model, repairs) -> None:
    """Take repairs as done: ``repairs`` are (kind, layer, element, ...) rows of a plan."""
    for r in repairs:
        if r[0] == "node":
            model.dmg_node[r[1], r[2]] = 0
        else:
            model.dmg_link[r[1], r[2]] = 0


def set_resources(model, per_period) -> None:
    """Resources available per period: a number (every resource, every period), a dict
    resource -> number, or a dict resource -> sequence (one value per period)."""
    for r in model.R:
        val = per_period.get(r, model.data.resources[r]) if isinstance(per_period, dict) else per_period
        vals = np.broadcast_to(np.asarray(val, dtype=float), (len(model.T),))
        if (vals < 0).any():
            raise InputError(f"resources must be >= 0 (got {val})", location="resources")
        for t, x in zip(model.T, vals, strict=True):
            model.v[r, t] = float(x)


def damaged(model) -> tuple[list, list]:
    """The elements currently marked damaged: (nodes, links) key lists."""
    d = model.data
    return (
        [k for k in d.nodes if pyo.value(model.dmg_node[k]) > 0.5],
        [k for k in d.links if pyo.value(model.dmg_link[k]) > 0.5],
    )
