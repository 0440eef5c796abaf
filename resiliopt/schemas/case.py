"""The case file: hazard, logistics, recovery, variants and user constraints (docs/formats.md)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from resiliopt.schemas.common import PGA, Id, Level, NonNeg, Pos, PosAmount, Share, Strict
from resiliopt.schemas.constraints import RESERVED_NAMES, UserConstraint


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
    demand_per_thousand: PosAmount = Field(
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
