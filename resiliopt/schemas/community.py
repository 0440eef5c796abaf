"""The community file: sectors, the Damage Augmentation Matrix and the threshold of F_C."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from resiliopt.schemas.common import LIMIT, SECTORS, Share, Strict


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
