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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resiliopt._yaml import input_error, read_yaml, validate
from resiliopt.errors import InputError
from resiliopt.schemas import NonNeg, Problems

#: the indicators a threshold may name (docs/emergency.md defines each one)
INDICATORS = (
    "unserved_share",  # 1 - served / demanded, all layers together
    "tier1_unserved_share",  # 1 - served / demanded over tier-1 (core service) loads
    "failed_critical",  # number of failed elements among the top critical ones
    "cascade_depth",  # rounds of the dependency cascade
)
LAYER_PREFIX = "unserved_share."  # per layer: unserved_share.water, unserved_share.power, ...

Threshold = NonNeg  # a finite number >= 0, at most 1e12 (resiliopt.schemas.LIMIT); a number in YAML


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelResponse(_Strict):
    """What the response (restoration) model uses while this level holds."""

    resources_per_period: NonNeg | None = Field(
        None, description="repair resources v per period, units per period"
    )
    horizon: int | None = Field(
        None, strict=True, ge=1, le=100, description="rolling-horizon length, periods"
    )
    tier1_min_share: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="minimum served share of tier-1 loads, 1",
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

    min_dwell: int = Field(
        1, strict=True, ge=1, le=10_000, description="periods a level holds before it may be lowered"
    )
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EmergencyConfig:
        p = Problems()
        names = [lv.name for lv in self.levels]
        for k, n in enumerate(names):
            if n in names[:k]:
                p.add(f"levels[{k}].name", f"{n!r} repeats levels[{names.index(n)}] (names are unique)")
        if self.levels[0].enter or self.levels[0].leave:
            p.add("levels[0]", "levels[0] is the normal level: it takes no enter/leave thresholds")
        for k, lv in enumerate(self.levels[1:], start=1):
            if not lv.enter:
                p.add(f"levels[{k}].enter", "a level above normal needs at least one threshold")
            for part, table in (("enter", lv.enter), ("leave", lv.leave)):
                for i in table:
                    if not _known_indicator(i):
                        p.add(
                            f"levels[{k}].{part}.{i}",
                            f"unknown indicator {i!r}; use one of {list(INDICATORS)}"
                            f" or {LAYER_PREFIX}<layer>",
                        )
            for i in lv.leave:
                if i not in lv.enter:
                    p.add(f"levels[{k}].leave.{i}", "no enter threshold for this indicator")
                elif lv.leave[i] > lv.enter[i]:
                    p.add(
                        f"levels[{k}].leave.{i}",
                        f"{lv.leave[i]:g} is above enter = {lv.enter[i]:g}: hysteresis needs leave <= enter",
                    )
            prev = self.levels[k - 1]
            for i, v in lv.enter.items():
                if i in prev.enter and v < prev.enter[i]:
                    p.add(
                        f"levels[{k}].enter.{i}",
                        f"{v:g} is below the less severe levels[{k - 1}] ({prev.enter[i]:g}):"
                        " a more severe level must not enter earlier",
                    )
        p.raise_any()
        return self

    @property
    def names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def indicators(self) -> list[str]:
        """Every indicator a level names (enter or leave), in order of first mention."""
        seen: list[str] = []
        for lv in self.levels:
            for i in [*lv.enter, *lv.leave]:
                if i not in seen:
                    seen.append(i)
        return seen

    def response(self, level: int) -> LevelResponse:
        """The response settings of ``level``; unset fields fall back to less severe levels."""
        merged: dict[str, Any] = {}
        for lv in self.levels[: level + 1]:
            merged.update(lv.response.model_dump(exclude_none=True, exclude_defaults=True))
        return LevelResponse(**merged)


def _prefixed(exc: InputError) -> InputError:
    """The same error with every location under ``emergency.`` (the section of the file)."""
    loc = exc.location
    loc = f"emergency.{loc}" if loc and loc != "(top level)" else "emergency"
    lines = exc.message.split("\n")
    lines[1:] = [_prefix_line(ln) for ln in lines[1:]]
    return InputError("\n".join(lines), file=exc.file, location=loc)


def _prefix_line(line: str) -> str:
    """``  levels[2].name: ...`` -> ``  emergency.levels[2].name: ...`` (an indented problem line)."""
    if not line.startswith("  ") or line.startswith("  ..."):
        return line
    if line.startswith("  (top level)"):
        return "  emergency" + line[len("  (top level)") :]
    return "  emergency." + line[2:]


def load_emergency_config(source: str | Path | dict | Any, file: str | Path | None = None) -> EmergencyConfig:
    """Validate an ``emergency:`` mapping (or read it from a YAML file that has one).

    Only the rules of the section itself; :func:`check_levels` adds those that need the case.
    """
    if not isinstance(source, str | Path):  # the section itself (a mapping, or whatever the YAML held)
        data, where = source, file
    else:
        where = Path(source)
        raw = read_yaml(where)
        data = raw.get("emergency") if isinstance(raw, dict) and "emergency" in raw else raw
    if data is None:
        raise InputError("no `emergency:` section (levels and thresholds)", file=where, location="emergency")
    if not isinstance(data, dict):
        raise InputError(
            f"must be a mapping with `levels:` (got {data!r:.60})", file=where, location="emergency"
        )
    try:
        return validate(EmergencyConfig, data, file=where)
    except InputError as exc:
        raise _prefixed(exc) from None


def demand_layers(case) -> list[str]:
    """The case's layers with at least one demand node (demand < 0), in the case's order."""
    with_demand = set(case.nodes.loc[case.nodes["demand"] < 0, "layer"].astype(str))
    return [str(k) for k in case.layers["layer"] if str(k) in with_demand]


def check_levels(cfg: EmergencyConfig, case, file: str | Path | None = None) -> EmergencyConfig:
    """Every rule of the levels that needs the case (refused together, one error naming the file,
    the level and the value): an indicator ``unserved_share.<layer>`` names a layer of the case
    that has demand (a layer without demand has no unserved share to watch).

    The one function of these rules: the emergency commands call it through
    :func:`case_emergency` and :func:`resiliopt.emergency.event.event_config`, and
    ``resiliopt validate CASE`` through :func:`case_emergency`.
    """
    layers = [str(k) for k in case.layers["layer"]]
    demand = demand_layers(case)
    problems = []
    for k, lv in enumerate(cfg.levels):
        for part, table in (("enter", lv.enter), ("leave", lv.leave)):
            for i in table:
                if not i.startswith(LAYER_PREFIX):
                    continue
                layer = i[len(LAYER_PREFIX) :]
                if layer not in layers:
                    msg = f"level {lv.name!r}: the case has no layer {layer!r} (layers: {', '.join(layers)})"
                elif layer not in demand:
                    msg = (
                        f"level {lv.name!r}: layer {layer!r} has no demand node, so no unserved share"
                        f" (layers with demand: {', '.join(demand) or 'none'})"
                    )
                else:
                    continue
                problems.append((f"emergency.levels[{k}].{part}.{i}", msg))
    if problems:
        raise input_error(problems, file)
    return cfg


def case_yaml_of(case) -> Path:
    """The ``case.yaml`` of a loaded case."""
    return case.path if case.path.is_file() else case.path / "case.yaml"


def case_emergency(case) -> EmergencyConfig | None:
    """The case's ``emergency:`` section checked with every rule the emergency commands apply
    (:func:`load_emergency_config`, then :func:`check_levels`); None when it has none.

    ``resiliopt validate CASE`` and ``resiliopt infra validate CASE`` call this for an
    infrastructure case, so they refuse what ``resiliopt emergency ...`` refuses.
    """
    f = case_yaml_of(case)
    raw = read_yaml(f)
    if not isinstance(raw, dict) or raw.get("emergency") is None:
        return None
    return check_levels(load_emergency_config(raw["emergency"], file=f), case, f)
