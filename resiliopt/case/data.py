"""Reading a plain logistics case: a ``case.yaml`` and the files it names, validated and
cross-checked (the rules across files live here; the per-file rules in :mod:`resiliopt.schemas`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from resiliopt import schemas as s
from resiliopt._tables import Where, load_table
from resiliopt._yaml import input_error, load, problems_of, read_yaml
from resiliopt.errors import InputError


@dataclass(frozen=True)
class CaseData:
    """Everything a case holds, validated. Arrays are in the order of the files."""

    path: Path
    case: s.Case
    network: s.Network
    bridges: s.Bridges
    buildings: s.Buildings
    community: s.Community
    #: the files it was read from, by name, when not ``path`` and the files it names (an override)
    files: dict[str, Path] | None = None
    overrides: tuple[str, ...] = ()  # --override layers laid over the case (resolved paths)
    #: CSV tables the network file names, by path relative to the case directory
    table_files: dict[str, Path] = dataclasses.field(default_factory=dict)
    extension: str | None = None  # --extension module:function (the case's own: case.extension)

    @property
    def name(self) -> str:
        return self.case.name

    @cached_property
    def node_ids(self) -> list[str]:
        return [n.id for n in self.network.nodes]

    @cached_property
    def dam(self) -> np.ndarray:
        """DAM reordered to the canonical sector order of :data:`schemas.SECTORS`."""
        order = [self.community.sectors.index(sec) for sec in s.SECTORS]
        d = np.asarray(self.community.dam, dtype=float)
        return d[np.ix_(order, order)]

    @cached_property
    def sector_totals(self) -> np.ndarray:
        """Buildings per sector, thousands, in :data:`schemas.SECTORS` order."""
        tot = np.zeros(4)
        for c in self.buildings.categories:
            tot[s.SECTORS.index(c.sector)] += c.count
        return tot


def read_case(path: Path) -> CaseData:
    """Read and validate a plain case file (``case.yaml``) and the files it references.

    Override layers are read by :mod:`resiliopt.case.overrides`; :func:`resiliopt.case.load_case`
    chooses between the two.
    """
    case = load(s.Case, path)
    base = path.parent
    for field in ("network", "bridges", "buildings", "community"):
        if not (base / getattr(case, field)).is_file():
            raise InputError(
                f"file {getattr(case, field)!r} not found (a path relative to the case directory)",
                path,
                field,
            )
    network, tables = read_network(base / case.network)
    bridges = load(s.Bridges, base / case.bridges)
    buildings = load(s.Buildings, base / case.buildings)
    community = load(s.Community, base / case.community)
    nodes = {n.id for n in network.nodes}

    bad: list[tuple[str, str]] = []
    for k, b in enumerate(bridges.bridges):
        if b.node not in nodes:
            bad.append((f"bridges[{k}].node", f"node {b.node!r} is not in {case.network}"))
    if bad:
        raise input_error(bad, base / case.bridges)

    for node in buildings.node_shares:
        if node not in nodes:
            bad.append((f"node_shares.{node}", f"node {node!r} is not in {case.network}"))
    for k, c in enumerate(buildings.categories):
        for node in c.node_shares or {}:
            if node not in nodes:
                bad.append((f"categories[{k}].node_shares.{node}", f"node {node!r} is not in {case.network}"))
        levels = buildings.level_a.get(c.sector, {})
        if levels and c.design_level not in levels:
            bad.append(
                (
                    f"categories[{k}].design_level",
                    f"design level {c.design_level} has no entry in level_a.{c.sector}",
                )
            )
    if bad:
        raise input_error(bad, base / case.buildings)

    bad = _check_variants(case, bridges, buildings) + _check_magnitudes(case, network, buildings)
    if bad:
        raise input_error(bad, path)
    _check_constraints(case, path, network, bridges, buildings)
    tables = {os.path.relpath(p, base): p for p in tables.values()}
    return CaseData(path, case, network, bridges, buildings, community, table_files=tables)


def read_network(path: str | Path) -> tuple[s.Network, dict[str, Path]]:
    """A network file validated, and the CSV tables it names (``{"links": Path}``).

    ``nodes`` and ``links`` are each an inline list or a CSV file path relative to the network
    file (docs/formats.md). A CSV table's records are validated row by row
    (:func:`resiliopt._tables.load_table`); the network's rules across rows then name the
    CSV file, row and column of a record that breaks them.
    """
    path = Path(path)
    raw = read_yaml(path)
    if raw is None:
        raise InputError("the file is empty", file=path)
    tables: dict[str, Where] = {}
    if isinstance(raw, dict):
        for key, model in (("nodes", s.Node), ("links", s.Link)):
            if isinstance(raw.get(key), str):
                if not (path.parent / raw[key]).is_file():
                    raise InputError(
                        f"CSV table {str(path.parent / raw[key])!r} not found (a path relative to the "
                        "network file's directory)",
                        path,
                        key,
                    )
                rows, tables[key] = load_table(model, raw[key], path, key)
                raw = {**raw, key: rows}
    try:
        network = s.Network.model_validate(raw, context={"tables": tables})
    except ValidationError as exc:
        raise input_error(problems_of(exc), path) from None
    return network, {k: w.file for k, w in tables.items()}


def load_network(path: str | Path) -> s.Network:
    """A network file validated (its nodes and links inline or CSV tables; :func:`read_network`)."""
    return read_network(path)[0]


def _check_variants(case: s.Case, bridges: s.Bridges, buildings: s.Buildings) -> list[tuple[str, str]]:
    """The rules ``slice --variant`` applies, checked for every variant when the case loads."""
    bad: list[tuple[str, str]] = []
    cats = {c.id: c for c in buildings.categories}
    ids = {b.id for b in bridges.bridges}
    for name, v in case.variants.items():
        where = f"variants.{name}"
        for cid, plan in v.building_plan.items():
            cat = cats.get(cid)
            if cat is None:
                bad.append(
                    (f"{where}.building_plan.{cid}", f"unknown category {cid!r} (not in {case.buildings})")
                )
                continue
            moved = sum(plan.values())
            if moved > 1 + 1e-9:
                bad.append(
                    (
                        f"{where}.building_plan.{cid}",
                        f"the fractions moved sum to {moved:g}; at most 1 can move",
                    )
                )
            for level in plan:
                if level <= cat.design_level:
                    bad.append(
                        (
                            f"{where}.building_plan.{cid}[{level}]",
                            f"level {level} is not above the design level {cat.design_level} of {cid}: a "
                            "retrofit moves buildings to a stronger level",
                        )
                    )
                elif level not in buildings.level_a.get(cat.sector, {}):
                    bad.append(
                        (
                            f"{where}.building_plan.{cid}[{level}]",
                            f"no response coefficient for {cat.sector} at level {level} "
                            f"(level_a.{cat.sector} in {case.buildings})",
                        )
                    )
        if v.upgrade_bridges != "all":
            if v.upgrade_bridges and bridges.upgrade_to is None:
                bad.append((f"{where}.upgrade_bridges", f"{case.bridges} names no upgrade_to grade"))
            seen: dict[str, int] = {}
            for k, bid in enumerate(v.upgrade_bridges):
                if bid not in ids:
                    bad.append((f"{where}.upgrade_bridges[{k}]", f"unknown bridge {bid!r}"))
                elif bid in seen:
                    bad.append(
                        (f"{where}.upgrade_bridges[{k}]", f"repeats {bid!r} of upgrade_bridges[{seen[bid]}]")
                    )
                seen.setdefault(bid, k)
        elif bridges.upgrade_to is None and bridges.bridges:
            bad.append((f"{where}.upgrade_bridges", f"{case.bridges} names no upgrade_to grade"))
    return bad


def _check_magnitudes(case: s.Case, network: s.Network, buildings: s.Buildings) -> list[tuple[str, str]]:
    """Per-slice quantities (a daily value times the slice length) stay within :data:`schemas.LIMIT`."""
    days = case.recovery.slice_days
    biggest = {
        "logistics.total_resources": case.logistics.total_resources,
        f"{case.network}: link and entry capacities": max(
            [lk.capacity for lk in network.links] + [network.entry.capacity]
        ),
        "logistics.demand_per_thousand x the largest category count": case.logistics.demand_per_thousand
        * max(c.count for c in buildings.categories),
    }
    bad = []
    for what, value in biggest.items():
        if value * days > s.LIMIT:
            bad.append(
                (
                    "recovery.slice_days",
                    f"{what} times slice_days ({value:g} x {days}) is beyond the limit of {s.LIMIT:g} "
                    "per slice (HiGHS treats 1e20 as infinite)",
                )
            )
    return bad


_WHAT = {
    "arcs": "arc",
    "links": "link",
    "bridges": "bridge",
    "categories": "category",
    "nodes": "node with buildings",
}


def _check_constraints(case: s.Case, path: Path, network, bridges, buildings) -> None:
    """Every arc, link, bridge, category and node a user constraint names exists."""
    links = {x.id for x in network.links}
    arcs = {f"{x.from_}->{x.to}" for x in network.links}
    arcs |= {f"{x.to}->{x.from_}" for x in network.links if x.two_way}
    arcs |= {f"{network.entry.id}->{n}" for n in network.entry.nodes}
    known = {
        "arcs": arcs,
        "links": links,
        "bridges": {b.id for b in bridges.bridges},
        "categories": {c.id for c in buildings.categories},
        "nodes": set(buildings.node_shares).union(*(c.node_shares or {} for c in buildings.categories)),
    }
    for name, c in case.constraints.items():
        for fld, ids in known.items():
            for k, i in enumerate(getattr(c, fld, ())):
                if i not in ids:
                    what = _WHAT[fld]
                    raise InputError(f"unknown {what} {i!r}", path, f"constraints.{name}.{fld}[{k}]")
