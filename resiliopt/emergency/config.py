r"""The ``emergency:`` section of a case: emergency levels and what each one sets.

Levels are ordered from ``normal`` (index 0) to the most severe (e.g. IV, III, II, I as in
China's four-tier emergency response). Every indicator is a *badness* measure (larger is worse,
docs/emergency.md defines each one). Level :math:`k \ge 1` has, per indicator :math:`i` it
names, an entry threshold :math:`e_{k,i}` and a lower exit threshold :math:`l_{k,i} \le e_{k,i}`:

.. math::

   \text{enter}_k(x) = \exists i:\ x_i \ge e_{k,i}, \qquad
   \text{below}_k(x) = \forall i:\ x_i < l_{k,i}.

The state machine of :mod:`resiliopt.emergency.levels` uses these two predicates and the
minimum dwell time; this module only validates the configuration.

Example::

    emergency:
      min_dwell: 2                  # periods a level is held before it may be lowered
      levels:
        - name: normal
          response: {resources_per_period: 3, horizon: 3}
        - name: IV
          enter: {unserved_share: 0.05}
          leave: {unserved_share: 0.02}
          response: {resources_per_period: 6, horizon: 4, tier1_min_share: 0.5}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resiliopt._yaml import read_yaml, validate
from resiliopt.errors import InputError

#: the indicators a threshold may name (docs/emergency.md defines each one)
INDICATORS = (
    "unserved_share",  # 1 - served / demanded, all layers together
    "tier1_unserved_share",  # 1 - served / demanded over tier-1 (core service) loads
    "failed_critical",  # number of failed elements among the top critical ones
    "cascade_depth",  # rounds of the dependency cascade
)
LAYER_PREFIX = "unserved_share."  # per layer: unserved_share.water, unserved_share.power, ...

Threshold = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelResponse(_Strict):
    """What the response (restoration) model uses while this level holds."""

    resources_per_period: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="repair resources v per period, units per period"
    )
    horizon: int | None = Field(None, ge=1, le=100, description="rolling-horizon length, periods")
    tier1_min_share: float | None = Field(
        None, ge=0, le=1, allow_inf_nan=False, description="minimum served share of tier-1 loads, 1"
    )
    weights: dict[str, Threshold] = Field(
        default_factory=dict,
        description="objective weights (cost term -> multiplier, 1): repair, flow, unmet, preparation",
    )

    @model_validator(mode="after")
    def _weights(self) -> LevelResponse:
        bad = sorted(set(self.weights) - {"repair", "flow", "unmet", "oversupply", "preparation"})
        if bad:
            raise ValueError(
                f"unknown objective weight {bad[0]!r}: use repair, flow, unmet, oversupply, preparation"
            )
        return self


class Level(_Strict):
    name: str = Field(min_length=1, description="level name, e.g. normal, IV, III, II, I")
    enter: dict[str, Threshold] = Field(
        default_factory=dict, description="indicator -> value at or above which the level is entered"
    )
    leave: dict[str, Threshold] = Field(
        default_factory=dict,
        description="indicator -> value below which (all of them) the level may be left; default: enter",
    )
    response: LevelResponse = LevelResponse()

    def exit_thresholds(self) -> dict[str, float]:
        return {i: self.leave.get(i, v) for i, v in self.enter.items()}


def _known_indicator(name: str) -> bool:
    return name in INDICATORS or (name.startswith(LAYER_PREFIX) and len(name) > len(LAYER_PREFIX))


class EmergencyConfig(_Strict):
    """Emergency levels, ordered from normal to the most severe."""

    min_dwell: int = Field(1, ge=1, le=10_000, description="periods a level holds before it may be lowered")
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EmergencyConfig:
        names = [lv.name for lv in self.levels]
        for k, n in enumerate(names):
            if n in names[:k]:
                raise ValueError(f"levels[{k}].name {n!r} repeats levels[{names.index(n)}]")
        if self.levels[0].enter or self.levels[0].leave:
            raise ValueError("levels[0] is the normal level: it takes no enter/leave thresholds")
        for k, lv in enumerate(self.levels[1:], start=1):
            if not lv.enter:
                raise ValueError(f"levels[{k}].enter: a level above normal needs at least one threshold")
            for i in [*lv.enter, *lv.leave]:
                if not _known_indicator(i):
                    raise ValueError(
                        f"levels[{k}]: unknown indicator {i!r}; use one of {list(INDICATORS)}"
                        f" or {LAYER_PREFIX}<layer>"
                    )
            for i in lv.leave:
                if i not in lv.enter:
                    raise ValueError(f"levels[{k}].leave.{i}: no enter threshold for this indicator")
                if lv.leave[i] > lv.enter[i]:
                    raise ValueError(
                        f"levels[{k}].leave.{i} = {lv.leave[i]} is above enter = {lv.enter[i]}:"
                        " hysteresis needs leave <= enter"
                    )
            prev = self.levels[k - 1]
            for i, v in lv.enter.items():
                if i in prev.enter and v < prev.enter[i]:
                    raise ValueError(
                        f"levels[{k}].enter.{i} = {v} is below the less severe"
                        f" levels[{k - 1}] ({prev.enter[i]}):"
                        " a more severe level must not enter earlier"
                    )
        return self

    @property
    def names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def response(self, level: int) -> LevelResponse:
        """The response settings of ``level``; unset fields fall back to less severe levels."""
        merged: dict[str, Any] = {}
        for lv in self.levels[: level + 1]:
            merged.update(lv.response.model_dump(exclude_none=True, exclude_defaults=True))
        return LevelResponse(**merged)


def load_emergency_config(source: str | Path | dict, file: str | Path | None = None) -> EmergencyConfig:
    """Validate an ``emergency:`` mapping (or read it from a YAML file that has one)."""
    if isinstance(source, dict):
        data, where = source, file
    else:
        where = Path(source)
        raw = read_yaml(where)
        data = raw.get("emergency") if isinstance(raw, dict) and "emergency" in raw else raw
    if data is None:
        raise InputError("no `emergency:` section (levels and thresholds)", file=where, location="emergency")
    try:
        return validate(EmergencyConfig, data, file=where)
    except InputError as exc:
        loc = f"emergency.{exc.location}" if exc.location and exc.location != "(top level)" else "emergency"
        raise InputError(exc.message, file=exc.file, location=loc) from None
