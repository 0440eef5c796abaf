"""A single time slice given directly (``kind: slice``, docs/formats.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from resiliopt.schemas.common import MIN_SCALE, Id, NonNeg, Problems, Strict, _unique, scale_message


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
        top = max(range(len(self.groups)), key=lambda k: self.groups[k].capacity, default=None)
        if top is not None and 0 < self.groups[top].capacity < MIN_SCALE:  # the slice's unit
            msg = scale_message(self.groups[top].capacity, " for the largest demand of a slice")
            p.add(f"groups[{top}].capacity", msg)
        for k, g in enumerate(self.groups):
            if g.node in (self.source, self.sink):
                p.add(f"groups[{k}].node", "must be a road node, not the source or sink")
            elif g.node not in nodes:
                p.add(f"groups[{k}].node", f"{g.node!r} is not on any arc")
        p.raise_any()
        return self
