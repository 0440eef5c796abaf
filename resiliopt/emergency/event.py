"""An emergency event file: what an analyst replays through the loop.

``event.yaml`` (kind ``emergency_event``) names the observations file and, optionally, a road
layer with depots and damaged bridges, through which repair crews reach the sites, and the
mobile backup units at hand::

    kind: emergency_event
    synthetic: true                 # say so when the event is made up
    description: ...
    observations: observations.csv
    period_hours: 24                # length of one period of the observations
    roads:                          # optional: without it every site is reachable at once
      speed_kmh: 40
      depots: [r0_0]
      nodes: [{id: r0_0, x: -90.05, y: 35.0}, ...]   # x, y: longitude, latitude (degrees)
      links: [{id: b1, from: r0_0, to: r0_1, bridge: true}, ...]
      damaged_bridges: [{link: b1, repaired_period: 6}]
    backups:                        # optional: mobile backup units (generators, water tanks)
      - {layer: power, count: 2, capacity: 50, cost: 1000, from_period: 1, nodes: ["12", "40"]}
    aftershocks:                    # optional: damage that appears in mid-event
      - {time: 4, elements: [node:power:18, link:water:3]}   # found, or hit, at period 4
      - {time: 6, magnitude: 5.5}   # drawn from the case's failure probabilities at 5.5

A road link's length is the great-circle distance of its ends unless ``length_km`` is given.
A backup entry gives ``count`` units of ``capacity`` each (the layer's unit per period), at
``cost`` per unit placed per period, available from the time stamp ``from_period`` (default:
from the start) at the demand nodes ``nodes`` of the layer (default: any of them).
:func:`load_event` checks every field (unknown field, wrong type, non-finite, negative, beyond
1e12, a coordinate off the globe) and, given the case, every reference into it (an observed or
a backup's layer, element or node the case does not have); docs/formats.md lists the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import networkx as nx
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from resiliopt._yaml import input_error, read_yaml, validate
from resiliopt.case.infra import InfraCase
from resiliopt.emergency.config import (
    EmergencyConfig,
    case_emergency,
    case_yaml_of,
    check_levels,
    load_emergency_config,
)
from resiliopt.emergency.observations import Source, element_problems, read_observations
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit
from resiliopt.schemas import LIMIT, NonNeg, Problems

#: the most units one backup entry may give (as ``--backup`` of ``infra restore``)
BACKUP_COUNT_MAX = 10_000


def _at_most_limit(v: float) -> float:
    if v > LIMIT:
        raise ValueError(f"{v:g} is beyond the limit of {LIMIT:g}")
    return v


Lon = Annotated[
    float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False, description="longitude, degrees")
]
Lat = Annotated[
    float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False, description="latitude, degrees")
]
Period = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False), AfterValidator(_at_most_limit)]
Id = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RoadNode(_Strict):
    id: Id
    x: Lon = Field(description="longitude, degrees (great-circle distances are computed from it)")
    y: Lat = Field(description="latitude, degrees")


class RoadLink(_Strict):
    id: Id
    from_: Id = Field(alias="from")
    to: Id
    bridge: bool = Field(False, strict=True)
    length_km: float | None = Field(None, strict=True, gt=0, le=1e4, allow_inf_nan=False)


class DamagedBridge(_Strict):
    link: Id
    repaired_period: Period | None = Field(None, description="period from which it is open; None: never")


class Roads(_Strict):
    speed_kmh: float = Field(40.0, strict=True, gt=0, le=300, allow_inf_nan=False)
    depots: list[Id] = Field(min_length=1)
    nodes: list[RoadNode] = Field(min_length=1)
    links: list[RoadLink]
    damaged_bridges: list[DamagedBridge] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Roads:
        p = Problems()
        ids = [n.id for n in self.nodes]
        for k, i in enumerate(ids):
            if i in ids[:k]:
                p.add(f"nodes[{k}].id", f"{i!r} repeats nodes[{ids.index(i)}] (ids are unique)")
        known = set(ids)
        lids = [lk.id for lk in self.links]
        for k, lk in enumerate(self.links):
            if lk.id in lids[:k]:
                p.add(f"links[{k}].id", f"{lk.id!r} repeats links[{lids.index(lk.id)}] (ids are unique)")
            for field, end in (("from", lk.from_), ("to", lk.to)):
                if end not in known:
                    p.add(f"links[{k}].{field}", f"refers to missing road node {end!r}")
            if lk.from_ == lk.to:
                p.add(f"links[{k}].to", f"a link from {lk.to!r} to itself")
        for k, d in enumerate(self.depots):
            if d not in known:
                p.add(f"depots[{k}]", f"{d!r} is not a road node")
            elif d in self.depots[:k]:
                p.add(f"depots[{k}]", f"{d!r} repeats depots[{self.depots.index(d)}]")
        bridges = {lk.id for lk in self.links if lk.bridge}
        seen: dict[str, int] = {}
        for k, b in enumerate(self.damaged_bridges):
            if b.link not in bridges:
                p.add(f"damaged_bridges[{k}].link", f"{b.link!r} is not a bridge of links (bridge: true)")
            elif b.link in seen:
                p.add(f"damaged_bridges[{k}].link", f"{b.link!r} repeats damaged_bridges[{seen[b.link]}]")
            seen.setdefault(b.link, k)
        p.raise_any()
        return self


class Backup(_Strict):
    """Mobile backup units of one layer (generators for power, tanks for water)."""

    layer: Id = Field(description="a layer of the case")
    count: int = Field(strict=True, ge=0, le=BACKUP_COUNT_MAX, description="units, a whole number")
    capacity: NonNeg = Field(description="what one unit supplies, the layer's unit per period")
    cost: NonNeg = Field(0.0, description="cost of one unit placed for one period (the case's currency)")
    from_period: Period | None = Field(
        None, description="time stamp from which the units are at hand (None: from the start)"
    )
    nodes: list[Id] | None = Field(
        None, min_length=1, description="demand nodes of the layer the units may serve (None: any)"
    )

    @model_validator(mode="after")
    def _check(self) -> Backup:
        p = Problems()
        for k, n in enumerate(self.nodes or []):
            if n in self.nodes[:k]:
                p.add(f"nodes[{k}]", f"{n!r} repeats nodes[{self.nodes.index(n)}]")
        p.raise_any()
        return self

    def unit(self) -> BackupUnit:
        """The restoration model's :class:`~resiliopt.formulations.indp.BackupUnit`."""
        nodes = tuple(self.nodes) if self.nodes is not None else None
        return BackupUnit(self.layer, int(self.count), float(self.capacity), float(self.cost), nodes)


class AftershockSpec(_Strict):
    """Damage that appears in mid-event (an aftershock, or a failure found late): the listed
    elements, or a draw at ``magnitude`` from the case's failure probabilities (the one
    sampler, :func:`resiliopt.infra.damage.draw_damage`); checked against the case by
    :func:`resiliopt.emergency.replay.event_aftershocks`."""

    time: Period = Field(description="time stamp at which the damage appears")
    elements: list[Id] | None = Field(None, min_length=1, description="KIND:LAYER:ID of each element")
    magnitude: float | None = Field(None, gt=0, le=10, allow_inf_nan=False)
    what: Literal["aftershock", "found"] = "aftershock"

    @model_validator(mode="after")
    def _one(self) -> AftershockSpec:
        if (self.elements is None) == (self.magnitude is None):
            raise ValueError("give exactly one of elements (a list of KIND:LAYER:ID) or magnitude")
        return self


class EventFile(_Strict):
    kind: str = Field("emergency_event", pattern="^emergency_event$")
    synthetic: bool = Field(strict=True, description="true when the event is made up (say so)")
    description: str = ""
    observations: Id = Field(description="observations file, relative to event.yaml")
    period_hours: float = Field(24.0, strict=True, gt=0, le=24 * 365, allow_inf_nan=False)
    roads: Roads | None = None
    backups: list[Backup] = Field(default_factory=list, description="mobile backup units at hand")
    aftershocks: list[AftershockSpec] = Field(default_factory=list, description="mid-event damage")
    truth: dict | None = Field(None, description="synthetic events: the parameters they were drawn with")
    emergency: dict | None = Field(
        None, description="overrides the case's `emergency:` section for this event"
    )

    def backup_units(self, period: float) -> tuple[BackupUnit, ...]:
        """The backup units at hand at time stamp ``period`` (``from_period <= period``)."""
        return tuple(
            b.unit()
            for b in self.backups
            if b.count > 0 and (b.from_period is None or b.from_period <= period)
        )


def _km(a: RoadNode, b: RoadNode) -> float:
    """Great-circle distance (km) of two lon/lat points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass
class RoadAccess:
    """Which sites crews can reach at a period, and how long the trip takes (networkx)."""

    roads: Roads
    graph: nx.Graph

    @classmethod
    def build(cls, roads: Roads) -> RoadAccess:
        g = nx.Graph()
        pos = {n.id: n for n in roads.nodes}
        for n in roads.nodes:
            g.add_node(n.id, x=n.x, y=n.y)
        for lk in roads.links:
            km = lk.length_km if lk.length_km is not None else _km(pos[lk.from_], pos[lk.to])
            g.add_edge(lk.from_, lk.to, id=lk.id, km=km, bridge=lk.bridge)
        return cls(roads, g)

    def closed(self, period: float) -> set[str]:
        return {
            b.link
            for b in self.roads.damaged_bridges
            if b.repaired_period is None or period < b.repaired_period
        }

    def nearest(self, x: float, y: float) -> str:
        probe = RoadNode.model_construct(id="_", x=x, y=y)  # a site: checked by check_event
        return min(self.roads.nodes, key=lambda n: _km(n, probe)).id

    def travel_hours(self, period: float, sites: dict[str, str]) -> dict[str, float]:
        """Hours from the nearest open depot to each site's road node (``inf``: unreachable)."""
        shut = self.closed(period)
        g = nx.subgraph_view(self.graph, filter_edge=lambda u, v: self.graph[u][v]["id"] not in shut)
        dist = nx.multi_source_dijkstra_path_length(g, set(self.roads.depots), weight="km")
        v = self.roads.speed_kmh
        return {k: dist.get(node, math.inf) / v for k, node in sites.items()}


@dataclass
class Event:
    path: Path
    spec: EventFile
    observations: pd.DataFrame
    roads: RoadAccess | None
    #: the observations file and the record of each row of ``observations`` (for messages)
    source: Source | None = None

    def backup_units(self, period: float) -> tuple[BackupUnit, ...]:
        """The backup units at hand at time stamp ``period`` (:meth:`EventFile.backup_units`)."""
        return self.spec.backup_units(period)


def event_config(case: InfraCase, event: Event | None) -> EmergencyConfig:
    """The emergency configuration: the event's ``emergency:`` section, else the case's; checked
    with every rule, those that need the case included (:func:`~resiliopt.emergency.config.check_levels`)."""
    if event is not None and event.spec.emergency is not None:
        return check_levels(load_emergency_config(event.spec.emergency, file=event.path), case, event.path)
    cfg = case_emergency(case)
    if cfg is None:
        raise InputError(
            "no `emergency:` section (levels and thresholds) in the case or the event",
            file=case_yaml_of(case),
        )
    return cfg


def backup_problems(spec: EventFile, case: InfraCase) -> list[tuple]:
    """Every backup entry of ``spec`` that names a layer or node the case does not have (or a
    node a unit cannot serve: one without demand), as ``(location, message)`` problems."""
    layers = [str(k) for k in case.layers["layer"]]
    nodes = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
    demand = nodes.set_index(["layer", "node"])["demand"]
    out = []
    for k, b in enumerate(spec.backups):
        if b.layer not in layers:
            out.append(
                (f"backups[{k}].layer", f"the case has no layer {b.layer!r} (layers: {', '.join(layers)})")
            )
            continue
        own = demand[demand.index.get_level_values("layer") == b.layer]
        if not (own < 0).any():
            out.append(
                (f"backups[{k}].layer", f"layer {b.layer!r} has no demand node: a unit there serves nothing")
            )
            continue
        for j, n in enumerate(b.nodes or []):
            if (b.layer, n) not in demand.index:
                out.append((f"backups[{k}].nodes[{j}]", f"{n!r} is not a node of layer {b.layer!r}"))
            elif demand[(b.layer, n)] >= 0:
                out.append(
                    (
                        f"backups[{k}].nodes[{j}]",
                        f"{b.layer} node {n!r} has no demand (demand {demand[(b.layer, n)]:g}): a unit"
                        " serves a demand node's own demand",
                    )
                )
    return out


def road_problems(spec: EventFile, case: InfraCase) -> list[tuple]:
    """With a road layer, every node of the case needs a longitude and latitude (the crews go to
    its nearest road node, by great-circle distance): ``(location, message)`` problems for the
    nodes without coordinates or with coordinates off the globe."""
    if spec.roads is None:
        return []
    out = []
    for layer, node, x, y in zip(
        case.nodes["layer"], case.nodes["node"], case.nodes["x"], case.nodes["y"], strict=True
    ):
        x, y = float("nan") if x is None else float(x), float("nan") if y is None else float(y)
        if not (math.isfinite(x) and math.isfinite(y)):
            why = "has no coordinates (x, y)"
        elif not (-180 <= x <= 180 and -90 <= y <= 90):
            why = f"has x = {x:g}, y = {y:g}, not a longitude and latitude in degrees"
        else:
            continue
        out.append(
            ("roads", f"{layer} node {str(node)!r} of the case {why}: crews could not be routed to it")
        )
    return out


def check_backup_plan(nodes: pd.DataFrame, spec: EventFile, time: float, case: InfraCase, tol: float = 1e-6):
    """Check a plan's backup supply against the event file and the case alone: ``nodes`` is the
    plan's node table (layer, node, period, backup), planned at time stamp ``time`` with the
    units at hand then. In every period a node gets supply only if it is a demand node one of
    those entries allows, at most the capacity of one unit of each such entry and its own
    demand; per layer, no more nodes than units and no more supply than count x capacity.
    Returns ``(ok, detail)``."""
    units = spec.backup_units(time)
    demand = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
    demand = demand.set_index(["layer", "node"])["demand"]
    bad = []
    used = nodes[nodes["backup"] > tol] if len(nodes) else nodes
    for (period, layer), g in used.groupby(["period", "layer"]):
        mine = [u for u in units if u.layer == layer]
        for node, s in zip(g["node"].astype(str), g["backup"], strict=True):
            cap = sum(u.capacity for u in mine if u.nodes is None or node in u.nodes)
            own = -float(demand.get((layer, node), 0.0))
            if s > cap + tol or s > own + tol:
                bad.append(
                    f"period {period}: {layer} node {node!r} gets {s:g} (units allow {cap:g}, demand {own:g})"
                )
        if len(g) > sum(u.count for u in mine):
            bad.append(f"period {period}: {len(g)} {layer} nodes served, {sum(u.count for u in mine)} units")
        if g["backup"].sum() > sum(u.count * u.capacity for u in mine) + tol:
            bad.append(f"period {period}: {layer} backup supply {g['backup'].sum():g} above count x capacity")
    return not bad, "; ".join(bad[:5])


def check_event(event: Event, case: InfraCase) -> None:
    """Refuse an event that names what the case does not have: an observed layer or element
    (named in the observations file with its row and column), a backup's layer or node (named
    in the event file); and a road layer for a case whose nodes have no longitude and latitude.
    Every such problem in one :class:`~resiliopt.errors.InputError`."""
    problems = [(*p, event.path) for p in road_problems(event.spec, case) + backup_problems(event.spec, case)]
    layers = [str(k) for k in case.layers["layer"]]
    problems += element_problems(event.observations, case.elements(), layers, event.source)
    if problems:
        raise input_error(problems, event.path)


def load_event(path: str | Path, case: InfraCase | None = None) -> Event:
    """Read an event: ``event.yaml`` (or its folder), or a bare observations file (CSV/YAML).

    With ``case``, also :func:`check_event` (what the event names exists in the case)."""
    path = Path(path)
    if path.is_dir():
        path = path / "event.yaml"
    bare = EventFile(synthetic=False, observations=path.name)
    if path.suffix.lower() == ".csv":
        obs, src = read_observations(path)
        ev = Event(path, bare, obs, None, src)
    else:
        raw = read_yaml(path)
        if isinstance(raw, dict) and "observations" in raw and isinstance(raw["observations"], list):
            obs, src = read_observations(path)
            ev = Event(path, bare, obs, None, src)
        else:
            spec = validate(EventFile, raw, file=path)
            obs_path = (path.parent / spec.observations).resolve()
            if not obs_path.is_relative_to(path.parent.resolve()):
                raise InputError(
                    f"must name a file inside the event's folder (got {spec.observations!r})",
                    file=path,
                    location="observations",
                )
            if not obs_path.is_file():
                raise InputError(
                    f"file {spec.observations!r} not found next to the event file",
                    file=path,
                    location="observations",
                )
            obs, src = read_observations(obs_path)
            ev = Event(path, spec, obs, RoadAccess.build(spec.roads) if spec.roads else None, src)
    if case is not None:
        check_event(ev, case)
    return ev
