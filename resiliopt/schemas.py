"""Schemas of every input file (pydantic), one attribute table per component.

Each field carries its unit and meaning in ``description``; ``resiliopt schema`` exports these
models as JSON Schema so that editors can complete case files. Validation rules that span
fields (ids unique, links to existing nodes, DAM symmetric, ...) live in model validators
here, so a case that loads is a case the formulations can trust.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(min_length=1, description="identifier, unique within its list")]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]

SECTORS = ("residential", "business", "education", "public")
DAMAGE_STATES = ("none", "slight", "moderate", "severe", "collapse")


class Strict(BaseModel):
    """Case files reject unknown fields (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(items, what: str, key: str = "id") -> None:
    seen: set[str] = set()
    for k, item in enumerate(items):
        v = getattr(item, key)
        if v in seen:
            raise ValueError(f"duplicate {what} id {v!r} at position {k}")
        seen.add(v)


# --------------------------------------------------------------------------- network
class Node(Strict):
    id: Id
    ring: int | None = Field(None, description="ring road number (2..5) the node lies on")
    x: float = Field(0.0, allow_inf_nan=False, description="east coordinate, km (plotting only)")
    y: float = Field(0.0, allow_inf_nan=False, description="north coordinate, km (plotting only)")


class Link(Strict):
    id: Id
    from_: Id = Field(alias="from", description="end node id")
    to: Id = Field(description="other end node id")
    capacity: NonNeg = Field(description="designated capacity, resource units per day, each way")
    road: str | None = Field(None, description="road name, e.g. 'ring2' or 'radial3'")
    two_way: bool = Field(True, description="a two-way link yields one arc in each direction")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Entry(Strict):
    """The virtual source RR and the arcs that feed resources into the city."""

    id: Id = Field("RR", description="id of the virtual source node")
    nodes: list[Id] = Field(description="road nodes joined to the source (the 5th ring)")
    capacity: NonNeg = Field(description="capacity of each source arc, units per day")


class Network(Strict):
    kind: Literal["network"] = "network"
    nodes: list[Node] = Field(min_length=1)
    links: list[Link]
    entry: Entry
    sink: Id = Field("RS", description="id of the virtual sink node")

    @model_validator(mode="after")
    def _check(self) -> Network:
        _unique(self.nodes, "node")
        _unique(self.links, "link")
        ids = {n.id for n in self.nodes}
        for k, link in enumerate(self.links):
            for end in (link.from_, link.to):
                if end not in ids:
                    raise ValueError(f"links[{k}] refers to missing node {end!r}")
            if link.from_ == link.to:
                raise ValueError(f"links[{k}] is a self-loop at {link.from_!r}")
        for k, n in enumerate(self.entry.nodes):
            if n not in ids:
                raise ValueError(f"entry.nodes[{k}] refers to missing node {n!r}")
        if self.entry.id in ids or self.sink in ids or self.entry.id == self.sink:
            raise ValueError("entry.id and sink must differ from each other and from road nodes")
        return self


# --------------------------------------------------------------------------- fragility
class PowerLaw(Strict):
    """Drift demand theta = a * IM**b * eps, ln eps ~ N(0, zeta**2)."""

    a: Pos = Field(description="response coefficient, rad per g**b")
    b: Pos = Field(0.97, description="exponent of the intensity measure (PGA, g)")
    zeta: Pos = Field(description="log standard deviation of eps")


class DriftThresholds(Strict):
    """Lower drift bounds (rad) of the damage states slight, moderate, severe, collapse."""

    slight: Pos
    moderate: Pos
    severe: Pos
    collapse: Pos

    @model_validator(mode="after")
    def _increasing(self) -> DriftThresholds:
        v = [self.slight, self.moderate, self.severe, self.collapse]
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("thresholds must increase: slight < moderate < severe < collapse")
        return self

    def as_list(self) -> list[float]:
        return [self.slight, self.moderate, self.severe, self.collapse]


class Bridge(Strict):
    id: Id
    node: Id = Field(description="interchange node the bridge carries")
    grade: str = Field(description="fragility grade, a key of `grades`")


class CapacityLoss(Strict):
    """Paper 004 Table 2: share of link capacity lost for each bridge damage state."""

    none: Share = 0.0
    slight: Share = 0.2
    moderate: Share = 0.5
    severe: Share = 1.0
    collapse: Share = 1.0

    def as_list(self) -> list[float]:
        return [self.none, self.slight, self.moderate, self.severe, self.collapse]


class Bridges(Strict):
    kind: Literal["bridges"] = "bridges"
    grades: dict[str, PowerLaw] = Field(description="fragility of each grade")
    upgrade_to: str | None = Field(None, description="grade a bridge upgrade moves a bridge to")
    upgrade_cost: NonNeg = Field(0.2, description="cost of upgrading one bridge, billion CNY")
    thresholds: DriftThresholds
    capacity_loss: CapacityLoss = CapacityLoss()
    bridges: list[Bridge]

    @model_validator(mode="after")
    def _check(self) -> Bridges:
        _unique(self.bridges, "bridge")
        for k, b in enumerate(self.bridges):
            if b.grade not in self.grades:
                raise ValueError(f"bridges[{k}].grade {b.grade!r} is not one of {list(self.grades)}")
        if self.upgrade_to is not None and self.upgrade_to not in self.grades:
            raise ValueError(f"upgrade_to {self.upgrade_to!r} is not one of {list(self.grades)}")
        return self


# --------------------------------------------------------------------------- buildings
class Category(Strict):
    """Paper 004 Table 1, one row."""

    id: Id
    sector: Literal["residential", "business", "education", "public"]
    count: NonNeg = Field(description="number of buildings, thousands")
    a: Pos = Field(description="response coefficient a of theta = a IM^b eps, rad")
    design_level: int = Field(ge=6, le=9, description="design seismic intensity level")
    retrofit_cost: NonNeg = Field(description="C_0 k: retrofit cost, billion CNY per thousand")


class Buildings(Strict):
    kind: Literal["buildings"] = "buildings"
    b: Pos = Field(0.97, description="exponent b of theta = a IM^b eps")
    zeta: Pos = Field(0.6, description="log standard deviation of a building group's drift")
    theta_cr: Pos = Field(0.01, description="drift above which a building is unsafe, rad")
    thresholds: DriftThresholds
    categories: list[Category] = Field(min_length=1)
    level_a: dict[str, dict[int, Pos]] = Field(
        default_factory=dict,
        description="response coefficient a of each sector at each design level (retrofit)",
    )
    node_shares: dict[Id, Share] = Field(
        description="share of every category's buildings located at each road node"
    )

    @model_validator(mode="after")
    def _check(self) -> Buildings:
        _unique(self.categories, "category")
        total = sum(self.node_shares.values())
        if self.node_shares and not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"node_shares must sum to 1 (they sum to {total:.6g})")
        for k, sec in enumerate(self.level_a):
            if sec not in SECTORS:
                raise ValueError(f"level_a key {k} {sec!r} is not a sector {SECTORS}")
        return self


# --------------------------------------------------------------------------- community
class Community(Strict):
    kind: Literal["community"] = "community"
    sectors: list[str] = Field(default=list(SECTORS))
    dam: list[list[float]] = Field(description="Damage Augmentation Matrix, 4x4, symmetric")
    threshold: Share = Field(0.87, description="acceptable community functionality F_C")
    clamp: bool = Field(True, description="clamp F_C to [0, 1] (the quadratic form can leave it)")

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, v: list[str]) -> list[str]:
        if sorted(v) != sorted(SECTORS):
            raise ValueError(f"sectors must be exactly {list(SECTORS)}")
        return v

    @field_validator("dam")
    @classmethod
    def _dam(cls, v: list[list[float]]) -> list[list[float]]:
        if len(v) != 4 or any(len(row) != 4 for row in v):
            raise ValueError("DAM must be a 4x4 matrix")
        for i in range(4):
            for j in range(4):
                x = v[i][j]
                if not math.isfinite(x):
                    raise ValueError(f"DAM[{i}][{j}] is not a finite number")
                if x < 0:
                    raise ValueError(f"DAM[{i}][{j}] = {x} is negative")
                if abs(x - v[j][i]) > 1e-9:
                    raise ValueError(f"DAM is not symmetric: [{i}][{j}] = {x} but [{j}][{i}] = {v[j][i]}")
        return v


# --------------------------------------------------------------------------- case
class Hazard(Strict):
    pga: Pos | list[Pos] = Field(0.25, description="scenario PGA in g (a list: one drawn per scenario)")


class Logistics(Strict):
    total_resources: NonNeg = Field(description="TR: resource units entering the city per day")
    demand_per_thousand: Pos = Field(
        5.0, description="units a damaged group needs per day per 1000 buildings at full speed"
    )


class Recovery(Strict):
    slice_days: int = Field(1, ge=1, description="length of one time slice, days")
    moderate_days: Pos = Field(30, description="repair time of moderate damage at full supply")
    severe_days: Pos = Field(180, description="repair time of severe damage at full supply")
    collapse_days: Pos | None = Field(
        None, description="reconstruction time of collapse; null: permanent loss (paper)"
    )
    bridge_repair_days: dict[str, Pos] = Field(
        default_factory=dict,
        description="days until a bridge in a damage state is repaired; empty: never (paper)",
    )


class Variant(Strict):
    """A scenario variant: what is changed before the earthquake."""

    description: str = ""
    building_plan: dict[Id, dict[int, Share]] = Field(
        default_factory=dict,
        description="category -> {target design level: fraction moved there}",
    )
    upgrade_bridges: list[Id] | Literal["all"] = Field(default_factory=list)


class Case(Strict):
    kind: Literal["case"] = "case"
    name: Id
    description: str = ""
    network: str = Field("network.yaml", description="network file, relative to the case")
    bridges: str = "bridges.yaml"
    buildings: str = "buildings.yaml"
    community: str = "community.yaml"
    hazard: Hazard = Hazard()
    logistics: Logistics
    recovery: Recovery = Recovery()
    variants: dict[Id, Variant] = Field(default_factory=dict)


# --------------------------------------------------------------------------- slice file
class SliceArc(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    from_: Id = Field(alias="from")
    to: Id
    capacity: NonNeg
    label: str | None = Field(None, description="what the arc is (a link or bridge), for reports")


class SliceGroup(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: Id
    node: Id = Field(description="flow node the group hangs off")
    capacity: NonNeg = Field(description="units the group can take this slice (its demand)")
    gain: float = Field(allow_inf_nan=False, description="dF_C per unit delivered")


class SliceFile(BaseModel):
    """A single time slice given directly (see docs/formats.md)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kind: Literal["slice"]
    source: Id = "RR"
    sink: Id = "RS"
    total_resources: NonNeg
    arcs: list[SliceArc] = Field(min_length=1)
    groups: list[SliceGroup] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> SliceFile:
        _unique(self.groups, "group")
        seen: set[tuple[str, str]] = set()
        for k, a in enumerate(self.arcs):
            if (a.from_, a.to) in seen:
                raise ValueError(f"arcs[{k}] repeats the arc {a.from_} -> {a.to}")
            seen.add((a.from_, a.to))
            if a.to == self.source:
                raise ValueError(f"arcs[{k}] enters the source {self.source!r}")
            if a.from_ == self.sink:
                raise ValueError(f"arcs[{k}] leaves the sink {self.sink!r}")
            if a.from_ == a.to:
                raise ValueError(f"arcs[{k}] is a self-loop at {a.from_!r}")
        nodes = {a.from_ for a in self.arcs} | {a.to for a in self.arcs}
        for k, g in enumerate(self.groups):
            if g.node not in nodes:
                raise ValueError(f"groups[{k}].node {g.node!r} is not on any arc")
            if g.node in (self.source, self.sink):
                raise ValueError(f"groups[{k}].node must be a road node, not the source or sink")
        return self


SCHEMAS: dict[str, type[BaseModel]] = {
    "case": Case,
    "network": Network,
    "bridges": Bridges,
    "buildings": Buildings,
    "community": Community,
    "slice": SliceFile,
}
