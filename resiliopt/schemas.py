"""Schemas of every input file (pydantic), one attribute table per component.

Each field carries its unit and meaning in ``description``; ``resiliopt schema`` exports these
models as JSON Schema so that editors can complete case files. Validation rules that span
fields (ids unique, links to existing nodes, DAM symmetric, ...) live in model validators
here, so a case that loads is a case the formulations can trust. Every rule is listed in
docs/formats.md.

* Every model forbids unknown fields (a typo is refused, never ignored).
* Numbers are numbers: a string (``"5"``) or a boolean (``yes``) where a number is expected is
  refused, and so are ``.nan`` and ``.inf``.
* Every quantity is at most :data:`LIMIT` (1e12) in absolute value: HiGHS treats bounds of
  1e20 and more as infinite, and a margin of 1e8 below that keeps its tolerances (1e-7)
  meaningful next to the data.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from resiliopt._tables import Where

#: the largest absolute value of any number in an input file (capacities, TR, counts, days, ...)
LIMIT = 1e12
#: the largest integer (ring numbers, slice length in days is bounded separately)
INT_LIMIT = 10**6


def _finite_limit(v: float) -> float:
    if abs(v) > LIMIT:
        raise ValueError(
            f"{v:g} is beyond the limit of {LIMIT:g} in absolute value (HiGHS treats 1e20 as "
            "infinite; keep input numbers at most 1e12)"
        )
    return v


Id = Annotated[str, Field(min_length=1, description="identifier, unique within its list")]
Num = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_finite_limit)]
NonNeg = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False), AfterValidator(_finite_limit)]
Pos = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False), AfterValidator(_finite_limit)]
Share = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
PGA = Annotated[
    float, Field(strict=True, gt=0, le=10, allow_inf_nan=False, description="peak ground acceleration, g")
]
Level = Annotated[int, Field(ge=6, le=9, description="design seismic intensity level (6..9)")]

SECTORS = ("residential", "business", "education", "public")
DAMAGE_STATES = ("none", "slight", "moderate", "severe", "collapse")


class Strict(BaseModel):
    """Every input model rejects unknown fields (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Problems:
    """Collects every broken cross-field rule of a model, then raises them together.

    Raised as one pydantic error of type ``input_rule`` whose context lists
    ``(location, message)`` pairs; :func:`resiliopt._yaml.validate` reports each one.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, loc: str, msg: str, file: Any = None) -> None:
        """A broken rule at ``loc``; ``file``: the file it is in, when not the one validated (a CSV table)."""
        self.items.append((loc, msg) if file is None else (loc, msg, file))

    def raise_any(self) -> None:
        if self.items:
            raise PydanticCustomError(
                "input_rule",
                "{first}",
                {"first": f"{self.items[0][0]}: {self.items[0][1]}", "problems": tuple(self.items)},
            )


def _unique(
    items, what: str, where: str, problems: Problems, key: str = "id", rows: Where | None = None
) -> None:
    rows = rows or Where(None, inline=where)
    seen: dict[Any, int] = {}
    for k, item in enumerate(items):
        v = getattr(item, key)
        if v in seen:
            problems.add(
                rows.at(k, key),
                f"duplicate {what} id {v!r}: {rows.at(seen[v])} has it too (ids must be unique)",
                rows.csv_file,
            )
        else:
            seen[v] = k


# --------------------------------------------------------------------------- network
class Node(Strict):
    id: Id
    ring: int | None = Field(
        None, strict=True, ge=0, le=INT_LIMIT, description="ring road number (2..5) the node lies on"
    )
    x: Num = Field(0.0, description="east coordinate, km (plotting only)")
    y: Num = Field(0.0, description="north coordinate, km (plotting only)")


class Link(Strict):
    id: Id
    from_: Id = Field(alias="from", description="end node id")
    to: Id = Field(description="other end node id")
    capacity: NonNeg = Field(description="designated capacity, resource units per day, each way")
    road: str | None = Field(None, description="road name, e.g. 'ring2' or 'radial3'")
    two_way: bool = Field(True, strict=True, description="a two-way link yields one arc in each direction")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Entry(Strict):
    """The virtual source RR and the arcs that feed resources into the city."""

    id: Id = Field("RR", description="id of the virtual source node")
    nodes: list[Id] = Field(min_length=1, description="road nodes joined to the source (the 5th ring)")
    capacity: NonNeg = Field(description="capacity of each source arc, units per day")


def _csv_table_schema(schema: dict[str, Any]) -> None:
    """JSON Schema: ``nodes`` and ``links`` may each be a CSV file path instead of a list."""
    for key in ("nodes", "links"):
        prop = dict(schema["properties"][key])
        csv_path = {
            "type": "string",
            "description": f"path of a CSV table of the {key}, relative to the network file: a header of "
            "the field names, one record a line, an empty cell takes the field's default",
        }
        schema["properties"][key] = {
            "anyOf": [prop, csv_path],
            "title": prop.pop("title", key),
            "description": prop.pop("description", ""),
        }


class Network(Strict):
    """Road nodes and links, the entry and the sink; ``nodes`` and ``links`` are each a list or
    the path of a CSV table beside the file (docs/formats.md)."""

    # A CSV table is read by resiliopt.case.read_network, which passes its validated records
    # and where they came from (context={"tables": {key: Where}}): a broken rule below then
    # names the CSV file, row and column.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_csv_table_schema)
    kind: Literal["network"] = "network"
    nodes: list[Node] = Field(min_length=1, description="the road nodes (a list, or a CSV file of them)")
    links: list[Link] = Field(description="the road links (a list, or a CSV file of them)")
    entry: Entry
    sink: Id = Field("RS", description="id of the virtual sink node")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Network:
        tables = (info.context or {}).get("tables", {})
        nrows = tables.get("nodes") or Where(None, inline="nodes")
        lrows = tables.get("links") or Where(None, inline="links")
        in_nodes = nrows.csv_file.name if nrows.csv_file else "nodes"
        p = Problems()
        _unique(self.nodes, "node", "nodes", p, rows=nrows)
        _unique(self.links, "link", "links", p, rows=lrows)
        ids = {n.id for n in self.nodes}
        arcs: dict[tuple[str, str], int] = {}
        for k, link in enumerate(self.links):
            for field, end in (("from", link.from_), ("to", link.to)):
                if end not in ids:
                    msg = f"refers to missing node {end!r} (not in {in_nodes})"
                    p.add(lrows.at(k, field), msg, lrows.csv_file)
            if link.from_ == link.to:
                p.add(lrows.at(k), f"is a self-loop at {link.from_!r}", lrows.csv_file)
                continue
            ends = [(link.from_, link.to)] + ([(link.to, link.from_)] if link.two_way else [])
            for arc in ends:
                if arc in arcs and arcs[arc] != k:
                    p.add(
                        lrows.at(k),
                        f"repeats the arc {arc[0]} -> {arc[1]} of {lrows.at(arcs[arc])} (a link may be "
                        "given once; merge the two capacities into one link)",
                        lrows.csv_file,
                    )
                    break
            for arc in ends:
                arcs.setdefault(arc, k)
        seen: dict[str, int] = {}
        for k, n in enumerate(self.entry.nodes):
            if n not in ids:
                p.add(f"entry.nodes[{k}]", f"refers to missing node {n!r} (not in {in_nodes})")
            if n in seen:
                p.add(f"entry.nodes[{k}]", f"repeats {n!r} of entry.nodes[{seen[n]}]")
            seen.setdefault(n, k)
        if self.entry.id in ids or self.sink in ids or self.entry.id == self.sink:
            p.add("entry.id", "entry.id and sink must differ from each other and from road nodes")
        p.raise_any()
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
    grades: dict[str, PowerLaw] = Field(min_length=1, description="fragility of each grade")
    upgrade_to: str | None = Field(None, description="grade a bridge upgrade moves a bridge to")
    upgrade_cost: NonNeg = Field(0.2, description="cost of upgrading one bridge, billion CNY")
    thresholds: DriftThresholds
    capacity_loss: CapacityLoss = CapacityLoss()
    bridges: list[Bridge]

    @model_validator(mode="after")
    def _check(self) -> Bridges:
        p = Problems()
        _unique(self.bridges, "bridge", "bridges", p)
        at: dict[str, int] = {}
        for k, b in enumerate(self.bridges):
            if b.node in at:
                p.add(
                    f"bridges[{k}].node",
                    f"node {b.node!r} already carries bridges[{at[b.node]}] (one bridge per interchange; "
                    "a second one would be ignored)",
                )
            at.setdefault(b.node, k)
        for k, b in enumerate(self.bridges):
            if b.grade not in self.grades:
                p.add(f"bridges[{k}].grade", f"{b.grade!r} is not one of the grades {list(self.grades)}")
        if self.upgrade_to is not None and self.upgrade_to not in self.grades:
            p.add("upgrade_to", f"{self.upgrade_to!r} is not one of the grades {list(self.grades)}")
        p.raise_any()
        return self


# --------------------------------------------------------------------------- buildings
class Category(Strict):
    """Paper 004 Table 1, one row."""

    id: Id
    sector: Literal["residential", "business", "education", "public"]
    count: NonNeg = Field(description="number of buildings, thousands")
    a: Pos = Field(description="response coefficient a of theta = a IM^b eps, rad")
    design_level: Level = Field(strict=True)
    retrofit_cost: NonNeg = Field(description="C_0 k: retrofit cost, billion CNY per thousand")
    node_shares: dict[Id, Share] | None = Field(
        None,
        description="share of this category's buildings at each road node, summing to 1 (an imported "
        "city: docs/import.md); default: the file's node_shares",
    )


class Buildings(Strict):
    kind: Literal["buildings"] = "buildings"
    b: Pos = Field(0.97, description="exponent b of theta = a IM^b eps")
    zeta: Pos = Field(0.6, description="log standard deviation of a building group's drift")
    theta_cr: Pos = Field(0.01, description="drift above which a building is unsafe, rad")
    thresholds: DriftThresholds
    categories: list[Category] = Field(min_length=1)
    level_a: dict[str, dict[Level, Pos]] = Field(
        default_factory=dict,
        description="response coefficient a of each sector at each design level (retrofit)",
    )
    node_shares: dict[Id, Share] = Field(
        min_length=1, description="share of every category's buildings located at each road node"
    )

    @model_validator(mode="after")
    def _check(self) -> Buildings:
        p = Problems()
        _unique(self.categories, "category", "categories", p)
        total = sum(self.node_shares.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            p.add("node_shares", f"the shares must sum to 1 (they sum to {total:.6g})")
        for k, c in enumerate(self.categories):
            own = sum(c.node_shares.values()) if c.node_shares is not None else 1.0
            if not math.isclose(own, 1.0, abs_tol=1e-6):
                p.add(f"categories[{k}].node_shares", f"the shares must sum to 1 (they sum to {own:.6g})")
        for sec in self.level_a:
            if sec not in SECTORS:
                p.add(f"level_a.{sec}", f"{sec!r} is not a sector {SECTORS}")
        p.raise_any()
        return self


# --------------------------------------------------------------------------- community
class Community(Strict):
    kind: Literal["community"] = "community"
    sectors: list[str] = Field(default=list(SECTORS))
    dam: list[list[float]] = Field(description="Damage Augmentation Matrix, 4x4, symmetric")
    threshold: Share = Field(0.87, description="acceptable community functionality F_C")
    clamp: bool = Field(
        True, strict=True, description="clamp F_C to [0, 1] (the quadratic form can leave it)"
    )

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, v: list[str]) -> list[str]:
        if sorted(v) != sorted(SECTORS):
            raise ValueError(f"sectors must be exactly {list(SECTORS)}, each once")
        return v

    @field_validator("dam", mode="before")
    @classmethod
    def _dam_numbers(cls, v: Any) -> Any:
        if isinstance(v, list):
            for i, row in enumerate(v):
                for j, x in enumerate(row if isinstance(row, list) else []):
                    if isinstance(x, bool) or not isinstance(x, int | float):
                        raise ValueError(f"DAM[{i}][{j}] is not a number (got {x!r})")
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
                if x > LIMIT:
                    raise ValueError(f"DAM[{i}][{j}] = {x:g} is beyond the limit of {LIMIT:g}")
                if abs(x - v[j][i]) > 1e-9:
                    raise ValueError(f"DAM is not symmetric: [{i}][{j}] = {x} but [{j}][{i}] = {v[j][i]}")
        return v


# --------------------------------------------------------------------------- user constraints
# docs/constraints.md: the math of each type; resolved and built in
# resiliopt/formulations/user_constraints.py.
class _UserConstraint(Strict):
    description: str = Field("", description="what the constraint means, shown with its dual")


class _ArcSelection(_UserConstraint):
    arcs: list[Id] = Field(default_factory=list, description="arc ids 'from->to' (one direction)")
    links: list[Id] = Field(default_factory=list, description="link ids (every direction of the link)")
    bridges: list[Id] = Field(
        default_factory=list, description="bridge ids: the arcs into the bridge's interchange node"
    )

    @model_validator(mode="after")
    def _some_arcs(self):
        if not (self.arcs or self.links or self.bridges):
            raise ValueError("name at least one of arcs, links or bridges")
        return self


class _GroupSelection(_UserConstraint):
    sectors: list[Literal["residential", "business", "education", "public"]] = Field(
        default_factory=list, description="sectors of the groups"
    )
    categories: list[Id] = Field(default_factory=list, description="building categories of the groups")
    nodes: list[Id] = Field(default_factory=list, description="road nodes the groups hang off")

    @model_validator(mode="after")
    def _some_groups(self):
        if not (self.sectors or self.categories or self.nodes):
            raise ValueError("name at least one of sectors, categories or nodes (a group must match each)")
        return self


class FlowCap(_ArcSelection):
    """Total flow through a set of arcs at most ``max`` (e.g. heavy trucks on bridges)."""

    type: Literal["flow_cap"]
    max: NonNeg = Field(description="largest total flow through the arcs, units per day")


class TrShare(_GroupSelection):
    """A share of TR reserved for a set of groups: the other groups get at most (1 - share) TR."""

    type: Literal["tr_share"]
    share: Share = Field(description="share of TR reserved for the groups")


class MinDelivery(_GroupSelection):
    """At least ``amount`` delivered to a set of groups (or all they demand, if less)."""

    type: Literal["min_delivery"]
    amount: NonNeg = Field(description="least delivery to the groups, units per day")


class Closure(_ArcSelection):
    """Arcs closed (capacity 0) from ``from_day`` until ``until_day`` (exclusive)."""

    type: Literal["closure"]
    from_day: int = Field(0, ge=0, description="first day closed")
    until_day: int | None = Field(None, ge=1, description="first day open again; null: never")

    @model_validator(mode="after")
    def _days(self):
        if self.until_day is not None and self.until_day <= self.from_day:
            raise ValueError(f"until_day {self.until_day} must be after from_day {self.from_day}")
        return self


UserConstraint = Annotated[FlowCap | TrShare | MinDelivery | Closure, Field(discriminator="type")]
#: names the slice LP uses itself (a user constraint may not take them)
RESERVED_NAMES = (
    *("arc_capacity", "group_demand", "node_balance", "total_resources", "objective"),
    *("flow", "delivery", "cap", "demand", "gain", "TR", "day", "nodes", "arcs", "groups"),
    *("meta", "slice_data", "source_arcs", "user_data", "user_rows", "extension_components"),
)


# --------------------------------------------------------------------------- case
class GroundMotion(Strict):
    """Spatially correlated ground motion: ln IM_v = ln IM + tau eta + phi eps_v (docs/recovery.md).

    Both standard deviations 0 (the default, paper 004): every site has the scenario PGA.
    """

    tau: NonNeg = Field(0.0, description="between-event standard deviation of ln PGA (one term per scenario)")
    phi: NonNeg = Field(0.0, description="within-event standard deviation of ln PGA at a site")
    range_km: Pos = Field(
        40.7,
        description="range r of the within-event correlation exp(-3 h / r), km (Jayaram & Baker 2009, "
        "PGA: 40.7 without, 8.5 with clustered site conditions)",
    )


class Hazard(Strict):
    pga: PGA | Annotated[list[PGA], Field(min_length=1)] = Field(
        0.25, description="scenario PGA in g, 0 < PGA <= 10 (a list, not empty: one drawn per scenario)"
    )
    ground_motion: GroundMotion = Field(
        GroundMotion(), description="spatial correlation of the intensity between road nodes"
    )
    category_correlation: Share = Field(
        0.0,
        description="correlation of the fragility residual ln eps between building groups of one "
        "category (0: independent groups, paper 004)",
    )


class Logistics(Strict):
    total_resources: NonNeg = Field(description="TR: resource units entering the city per day")
    demand_per_thousand: Pos = Field(
        5.0, description="units a damaged group needs per day per 1000 buildings at full speed"
    )
    capacity_factor: Pos = Field(
        1.0, description="factor on every link and entry capacity of the network (scenario studies)"
    )


class Recovery(Strict):
    slice_days: int = Field(
        1, strict=True, ge=1, le=366, description="length of one time slice, days (1..366)"
    )
    moderate_days: Pos = Field(30, description="repair time of moderate damage at full supply")
    severe_days: Pos = Field(180, description="repair time of severe damage at full supply")
    collapse_days: Pos | None = Field(
        None, description="reconstruction time of collapse; null: permanent loss (paper)"
    )
    bridge_repair_days: dict[Literal["slight", "moderate", "severe", "collapse"], Pos] = Field(
        default_factory=dict,
        description="days until a bridge in a damage state (slight, moderate, severe, collapse) is "
        "repaired (the bundled case: HAZUS means); empty: never (paper)",
    )


class Variant(Strict):
    """A scenario variant: what is changed before the earthquake."""

    description: str = ""
    building_plan: dict[Id, dict[Level, Share]] = Field(
        default_factory=dict,
        description="category -> {target design level (above the category's own): fraction moved there}",
    )
    upgrade_bridges: list[Id] | Literal["all"] = Field(default_factory=list)
    bridge_grade: str | None = Field(
        None, description="grade the upgraded bridges move to (a key of bridges.grades); null: upgrade_to"
    )


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
    constraints: dict[Id, UserConstraint] = Field(
        default_factory=dict,
        description="user constraints added to every slice LP (docs/constraints.md), by name",
    )
    extension: str | None = Field(
        None,
        pattern=r"^[^:]+:[A-Za-z_]\w*$",
        description="'module:function' (or 'file.py:function', relative to the case) called with "
        "(model, slice data) to add components to every slice LP; --extension overrides it",
    )

    @model_validator(mode="after")
    def _check(self) -> Case:
        v = self.variants.get("none")
        if v is not None and (v.building_plan or v.upgrade_bridges):
            raise PydanticCustomError(
                "input_rule",
                "variants.none changes something",
                {
                    "problems": (
                        (
                            "variants.none",
                            "the variant 'none' means as built; it cannot retrofit buildings or upgrade "
                            "bridges (give the plan another name)",
                        ),
                    )
                },
            )
        return self

    @field_validator("constraints")
    @classmethod
    def _constraint_names(cls, v: dict) -> dict:
        for name in v:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name in RESERVED_NAMES:
                raise ValueError(
                    f"constraint name {name!r} must be a letter then letters, digits or _, "
                    f"and not one of {list(RESERVED_NAMES)}"
                )
        return v


# --------------------------------------------------------------------------- slice file
class SliceArc(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: Id = Field(alias="from")
    to: Id
    capacity: NonNeg
    label: str | None = Field(None, description="what the arc is (a link or bridge), for reports")


class SliceGroup(Strict):
    id: Id
    node: Id = Field(description="flow node the group hangs off")
    capacity: NonNeg = Field(description="units the group can take this slice (its demand)")
    gain: NonNeg = Field(description="dF_C per unit delivered (>= 0: a delivery cannot lower F_C)")


class SliceFile(Strict):
    """A single time slice given directly (see docs/formats.md)."""

    kind: Literal["slice"]
    source: Id = "RR"
    sink: Id = Field("RS", description="end of the group arcs; on no arc only under its default name RS")
    total_resources: NonNeg
    arcs: list[SliceArc] = Field(min_length=1)
    groups: list[SliceGroup] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> SliceFile:
        p = Problems()
        _unique(self.groups, "group", "groups", p)
        seen: dict[tuple[str, str], int] = {}
        for k, a in enumerate(self.arcs):
            if (a.from_, a.to) in seen:
                p.add(
                    f"arcs[{k}]",
                    f"repeats the arc {a.from_} -> {a.to} of arcs[{seen[a.from_, a.to]}] (an arc may be "
                    "given once)",
                )
            seen.setdefault((a.from_, a.to), k)
            if a.to == self.source:
                p.add(f"arcs[{k}].to", f"enters the source {self.source!r}")
            if a.from_ == self.sink:
                p.add(f"arcs[{k}].from", f"leaves the sink {self.sink!r}")
            if a.from_ == a.to:
                p.add(f"arcs[{k}]", f"is a self-loop at {a.from_!r}")
        if self.source == self.sink:
            p.add("sink", f"the source and the sink are the same node {self.source!r}")
        tails = {a.from_ for a in self.arcs}
        nodes = tails | {a.to for a in self.arcs}
        if self.source not in tails:
            p.add(
                "source",
                f"no arc leaves the source {self.source!r} (check the spelling; every unit enters "
                "through an arc from the source)",
            )
        if self.sink not in nodes and self.sink != "RS":
            p.add(
                "sink",
                f"no arc touches the sink {self.sink!r} (check the spelling, or leave sink out: "
                "the default RS may be on no arc)",
            )
        for k, g in enumerate(self.groups):
            if g.node in (self.source, self.sink):
                p.add(f"groups[{k}].node", "must be a road node, not the source or sink")
            elif g.node not in nodes:
                p.add(f"groups[{k}].node", f"{g.node!r} is not on any arc")
        p.raise_any()
        return self


SCHEMAS: dict[str, type[BaseModel]] = {
    "case": Case,
    "network": Network,
    "bridges": Bridges,
    "buildings": Buildings,
    "community": Community,
    "slice": SliceFile,
}
