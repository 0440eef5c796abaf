"""User constraints of a case (docs/constraints.md: the math of each type; resolved and built in
resiliopt/formulations/user_constraints.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from resiliopt.schemas.common import Id, NonNeg, Share, Strict


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
