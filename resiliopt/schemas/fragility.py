"""The fragility files: bridges and buildings (paper 004, Tables 1 and 2)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from resiliopt.schemas.common import SECTORS, Id, Level, NonNeg, Pos, Problems, Share, Strict, _unique


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
