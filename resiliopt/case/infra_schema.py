"""Schema of an interdependent infrastructure case (pydantic): one attribute table per component.

A case is one ``case.yaml`` (``kind: infra_case``). Each table (``nodes``, ``links``,
``dependencies``, ``spaces``, ``element_spaces``, ``damage``, ``failure_probability``) is given
either inline as a list of records or as the name of a CSV file next to ``case.yaml`` whose
header row names the fields. Every record, inline or CSV row, is validated by the row model
below (unknown field, missing field, bad value -> :class:`~resiliopt.errors.InputError` naming
the file, the row and the field). Rules across tables (ids unique, links and dependencies
between existing nodes, ...) are checked by :func:`resiliopt.case.infra.load_infra_case`.

Units: every quantity of a layer (demand, capacity) is in the layer's ``unit``; costs are in the
case's ``currency``; times in repair periods.

Numbers are numbers, as in every input (:mod:`resiliopt.schemas`): a string (``'3'``) or a
boolean where a number is expected is refused in YAML (a CSV cell has no type of its own and is
read as the field's type), and so are ``.nan``, ``.inf`` and any value beyond
:data:`~resiliopt.schemas.LIMIT` (1e12) in absolute value; coordinates are at most
:data:`COORD_LIMIT` in absolute value. Every rule is listed in docs/formats.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from resiliopt.schemas import NonNeg, Num

#: the largest absolute value of a coordinate: degrees, km, or metres of any projected system
#: (Web Mercator reaches 2.0e7 m); a larger one is a unit or typing mistake
COORD_LIMIT = 1e8


def _coordinate(v: float | None) -> float | None:
    if v is not None and abs(v) > COORD_LIMIT:
        raise ValueError(
            f"coordinate {v:g} is beyond {COORD_LIMIT:g} in absolute value (degrees, km or metres "
            "of a projected system are all smaller)"
        )
    return v


Id = Annotated[str, Field(min_length=1, description="identifier")]
Real = Num  # finite, strict (no strings or booleans), at most LIMIT in absolute value
Coord = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_coordinate)]
Share = Annotated[float, Field(strict=True, allow_inf_nan=False)]

DEPENDENCY_TYPES = ("physical", "cyber", "geographic", "logical")
ELEMENT_KINDS = ("node", "link")


class Row(BaseModel):
    """Records reject unknown fields: a typo in a column name must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True)


class Layer(Row):
    layer: Id = Field(description="layer name, e.g. 'water'; unique")
    commodity: str = Field(description="what flows, e.g. 'water'")
    unit: str = Field(description="unit of demand, supply and capacity of this layer")
    description: str = Field("", description="free text")


class Node(Row):
    layer: Id = Field(description="layer of the node")
    node: Id = Field(description="node id, unique within its layer")
    demand: Real = Field(0.0, description="b_i: > 0 supply, < 0 demand, 0 transshipment (layer unit)")
    repair_cost: NonNeg = Field(0.0, description="q_i: cost of repairing the node (currency)")
    repair_time: NonNeg = Field(
        1.0,
        description="expected periods a repair takes; the td-INDP uses max(1, ceil(repair_time)) "
        "(docs/indp.md); emergency learn updates it",
    )
    resource_use: NonNeg = Field(1.0, description="p_i: units of repair resource one repair uses per period")
    oversupply_penalty: NonNeg = Field(
        0.0, description="M+_i: cost per unit of oversupply delta+ (currency/unit)"
    )
    unmet_penalty: NonNeg = Field(
        1.0, description="M-_i: cost per unit of unmet demand delta- (currency/unit)"
    )
    tier: int = Field(
        3, strict=True, ge=1, le=3, description="priority tier: 1 core service, 2, 3 (default: no priority)"
    )
    population: NonNeg = Field(0.0, description="people served by the node")
    x: Coord | None = Field(None, description="longitude or east coordinate (plots only)")
    y: Coord | None = Field(None, description="latitude or north coordinate (plots only)")
    node_type: str = Field("", description="free text, e.g. 'Pumping Station'")


class Link(Row):
    layer: Id = Field(description="layer of the link")
    link: Id = Field(description="link id, unique within its layer")
    from_: Id = Field(alias="from", description="end node id (same layer)")
    to: Id = Field(description="other end node id (same layer)")
    capacity: NonNeg = Field(description="u_ij: capacity, layer unit, in each usable direction")
    flow_cost: NonNeg = Field(0.0, description="c_ij: cost per unit of flow (currency/unit)")
    repair_cost: NonNeg = Field(0.0, description="f_ij: cost of repairing the link (currency)")
    repair_time: NonNeg = Field(
        1.0,
        description="expected periods a repair takes; the td-INDP uses max(1, ceil(repair_time)) "
        "(docs/indp.md); emergency learn updates it",
    )
    resource_use: NonNeg = Field(1.0, description="h_ij: units of repair resource one repair uses per period")
    two_way: bool = Field(True, strict=True, description="usable in both directions, each up to capacity")
    length_km: NonNeg | None = Field(None, description="length (km), information only")
    link_type: str = Field("", description="free text, e.g. 'Water pipe'")


class Dependency(Row):
    dependee_layer: Id = Field(description="layer of the node that is needed")
    dependee: Id = Field(description="node that is needed")
    depender_layer: Id = Field(description="layer of the node that needs it")
    depender: Id = Field(description="node that needs it")
    type: Literal["physical", "cyber", "geographic", "logical"] = Field(
        "physical", description="Rinaldi et al. (2001) class of the dependency"
    )
    loss: Share = Field(
        1.0,
        gt=0,
        le=1,
        description="share of the depender's function lost while the dependee is down (1 = fails)",
    )


class Space(Row):
    space: Id = Field(description="geographic space id, unique")
    preparation_cost: NonNeg = Field(
        0.0, description="g_s: cost of preparing the space for repairs (currency)"
    )


class ElementSpace(Row):
    kind: Literal["node", "link"]
    layer: Id
    element: Id = Field(description="node or link id")
    space: Id = Field(description="a space of the spaces table")


class Resource(Row):
    resource: Id = Field(description="repair resource name, e.g. 'crew'")
    per_period: NonNeg = Field(description="v: units available per period")


class DamageRow(Row):
    scenario: Id = Field(description="damage scenario name, e.g. 'set0/sce1'")
    kind: Literal["node", "link"]
    layer: Id
    element: Id


class FailureProbability(Row):
    magnitude: Real = Field(description="hazard level the probability belongs to (e.g. earthquake magnitude)")
    kind: Literal["node", "link"]
    layer: Id
    element: Id
    p: Share = Field(ge=0, le=1, description="probability that the element fails")


TABLE_ROWS: dict[str, type[Row]] = {
    "nodes": Node,
    "links": Link,
    "dependencies": Dependency,
    "spaces": Space,
    "element_spaces": ElementSpace,
    "damage": DamageRow,
    "failure_probability": FailureProbability,
}

TableRef = Annotated[
    str | list[dict],
    Field(description="a CSV file name (relative to case.yaml) or an inline list of records"),
]


class InfraCaseFile(BaseModel):
    """The ``case.yaml`` of an interdependent infrastructure case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["infra_case"] = "infra_case"
    name: Id = Field(description="case name")
    description: str = ""
    source: str = Field("", description="where the data come from (a file such as SOURCE.md, or text)")
    currency: str = Field("cost units", description="unit of every cost")
    layers: list[Layer] = Field(min_length=1)
    resources: list[Resource] = Field(default_factory=list)
    nodes: TableRef
    links: TableRef = Field(default_factory=list)
    dependencies: TableRef = Field(default_factory=list)
    spaces: TableRef = Field(default_factory=list)
    element_spaces: TableRef = Field(default_factory=list)
    damage: TableRef | None = Field(
        None, description="rows scenario, kind, layer, element of failed elements"
    )
    damage_scenarios: list[Id] = Field(
        default_factory=list, description="every scenario name, also those with no damaged element"
    )
    failure_probability: TableRef | None = None
    emergency: dict | None = Field(
        None,
        description="emergency levels and what each sets (resiliopt.emergency, docs/emergency.md)",
    )


def json_schemas() -> dict[str, dict]:
    """JSON Schema of ``case.yaml`` and of each table's records (CSV rows)."""
    out = {"infra_case": InfraCaseFile.model_json_schema(by_alias=True)}
    for name, model in TABLE_ROWS.items():
        out[f"infra_{name}"] = model.model_json_schema(by_alias=True)
    return out
