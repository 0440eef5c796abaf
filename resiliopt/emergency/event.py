"""An emergency event file: what an analyst replays through the loop.

``event.yaml`` (kind ``emergency_event``) names the observations file and, optionally, a road
layer with depots and damaged bridges, through which repair crews reach the sites::

    kind: emergency_event
    synthetic: true                 # say so when the event is made up
    description: ...
    observations: observations.csv
    period_hours: 24                # length of one period of the observations
    roads:                          # optional: without it every site is reachable at once
      speed_kmh: 40
      depots: [r0_0]
      nodes: [{id: r0_0, x: -90.05, y: 35.0}, ...]   # x, y in the case's coordinates (lon/lat)
      links: [{id: b1, from: r0_0, to: r0_1, bridge: true}, ...]
      damaged_bridges: [{link: b1, repaired_period: 6}]

A road link's length is the great-circle distance of its ends unless ``length_km`` is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from resiliopt._yaml import read_yaml, validate
from resiliopt.case.infra import InfraCase
from resiliopt.emergency.config import EmergencyConfig, load_emergency_config
from resiliopt.emergency.observations import load_observations
from resiliopt.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RoadNode(_Strict):
    id: str = Field(min_length=1)
    x: float = Field(allow_inf_nan=False, description="longitude or east coordinate")
    y: float = Field(allow_inf_nan=False, description="latitude or north coordinate")


class RoadLink(_Strict):
    id: str = Field(min_length=1)
    from_: str = Field(alias="from")
    to: str
    bridge: bool = False
    length_km: float | None = Field(None, gt=0, le=1e4, allow_inf_nan=False)


class DamagedBridge(_Strict):
    link: str
    repaired_period: float | None = Field(None, ge=0, allow_inf_nan=False, description="None: never")


class Roads(_Strict):
    speed_kmh: float = Field(40.0, gt=0, le=300, allow_inf_nan=False)
    depots: list[str] = Field(min_length=1)
    nodes: list[RoadNode] = Field(min_length=1)
    links: list[RoadLink]
    damaged_bridges: list[DamagedBridge] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Roads:
        ids = [n.id for n in self.nodes]
        for k, i in enumerate(ids):
            if i in ids[:k]:
                raise ValueError(f"nodes[{k}].id {i!r} repeats nodes[{ids.index(i)}]")
        known = set(ids)
        lids = [lk.id for lk in self.links]
        for k, lk in enumerate(self.links):
            if lk.id in lids[:k]:
                raise ValueError(f"links[{k}].id {lk.id!r} repeats links[{lids.index(lk.id)}]")
            for end in (lk.from_, lk.to):
                if end not in known:
                    raise ValueError(f"links[{k}] refers to missing road node {end!r}")
        for k, d in enumerate(self.depots):
            if d not in known:
                raise ValueError(f"depots[{k}] {d!r} is not a road node")
        bridges = {lk.id for lk in self.links if lk.bridge}
        for k, b in enumerate(self.damaged_bridges):
            if b.link not in bridges:
                raise ValueError(f"damaged_bridges[{k}].link {b.link!r} is not a bridge of links")
        return self


class EventFile(_Strict):
    kind: str = Field("emergency_event", pattern="^emergency_event$")
    synthetic: bool = Field(description="true when the event is made up (say so)")
    description: str = ""
    observations: str = Field(min_length=1, description="observations file, relative to event.yaml")
    period_hours: float = Field(24.0, gt=0, le=24 * 365, allow_inf_nan=False)
    roads: Roads | None = None
    truth: dict | None = Field(None, description="synthetic events: the parameters they were drawn with")
    emergency: dict | None = Field(
        None, description="overrides the case's `emergency:` section for this event"
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
        probe = RoadNode(id="_", x=x, y=y)
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


def event_config(case: InfraCase, event: Event | None) -> EmergencyConfig:
    """The emergency configuration: the event's ``emergency:`` section, else the case's."""
    if event is not None and event.spec.emergency is not None:
        return load_emergency_config(event.spec.emergency, file=event.path)
    case_yaml = case.path if case.path.is_file() else case.path / "case.yaml"
    raw = read_yaml(case_yaml)
    if not isinstance(raw, dict) or raw.get("emergency") is None:
        raise InputError(
            "no `emergency:` section (levels and thresholds) in the case or the event", file=case_yaml
        )
    return load_emergency_config(raw["emergency"], file=case_yaml)


def load_event(path: str | Path) -> Event:
    """Read an event: ``event.yaml`` (or its folder), or a bare observations file (CSV/YAML)."""
    path = Path(path)
    if path.is_dir():
        path = path / "event.yaml"
    if path.suffix.lower() == ".csv":
        obs = load_observations(path)
        return Event(path, EventFile(synthetic=False, observations=path.name), obs, None)
    raw = read_yaml(path)
    if isinstance(raw, dict) and "observations" in raw and isinstance(raw["observations"], list):
        return Event(path, EventFile(synthetic=False, observations=path.name), load_observations(path), None)
    spec = validate(EventFile, raw, file=path)
    obs_path = (path.parent / spec.observations).resolve()
    if not obs_path.is_relative_to(path.parent.resolve()):
        raise InputError("must name a file inside the event's folder", file=path, location="observations")
    obs = load_observations(obs_path)
    return Event(path, spec, obs, RoadAccess.build(spec.roads) if spec.roads else None)
