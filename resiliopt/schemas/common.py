"""Limits, number types and the shared base of every input model (:mod:`resiliopt.schemas`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from resiliopt._tables import Where

#: the largest absolute value of any number in an input file (capacities, TR, counts, days, ...)
LIMIT = 1e12
#: the largest integer (ring numbers, slice length in days is bounded separately)
INT_LIMIT = 10**6
#: the smallest unit of resources (docs/formats.md, "Tiny numbers"): the demand of a thousand
#: buildings per day, and the largest demand of a slice file, are at least this. HiGHS's
#: feasibility tolerances (1e-7 by default, 1e-9 tight) and the input certificate's 1e-7
#: (1 + size) are absolute below one unit, so data in a much smaller unit are not resolved
MIN_SCALE = 1e-3


def _finite_limit(v: float) -> float:
    if abs(v) > LIMIT:
        raise ValueError(
            f"{v:g} is beyond the limit of {LIMIT:g} in absolute value (HiGHS treats 1e20 as "
            "infinite; keep input numbers at most 1e12)"
        )
    return v


def scale_message(v: float, what: str = "") -> str:
    """Why an amount below :data:`MIN_SCALE` is refused (``what``: whose amount it is)."""
    return (
        f"{v:g} is below the smallest amount {MIN_SCALE:g}{what}: the solvers' tolerances are absolute "
        "near 1e-7 units, so count resources in a smaller unit (docs/formats.md)"
    )


def _at_least_scale(v: float) -> float:
    if v < MIN_SCALE:
        raise ValueError(scale_message(v))
    return v


Id = Annotated[str, Field(min_length=1, description="identifier, unique within its list")]
Num = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_finite_limit)]
NonNeg = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False), AfterValidator(_finite_limit)]
Pos = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False), AfterValidator(_finite_limit)]
#: the unit of resources (a case's demand per thousand buildings): from MIN_SCALE to LIMIT
PosAmount = Annotated[Pos, AfterValidator(_at_least_scale)]
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
