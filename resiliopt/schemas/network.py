"""The road network file: nodes, links, the entry and the sink (docs/formats.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from resiliopt._tables import Where
from resiliopt.schemas.common import INT_LIMIT, Id, NonNeg, Num, Problems, Strict, _unique


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
