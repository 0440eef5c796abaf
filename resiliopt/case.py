"""Loading a case: a ``case.yaml`` and the files it names, validated and cross-checked.

A case is found by path (a directory holding ``case.yaml``, or the file itself) or by the
name of a bundled case (``beijing``), which ships inside the wheel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from resiliopt import schemas as s
from resiliopt._yaml import load
from resiliopt.errors import InputError


def bundled_data_dir() -> Path:
    """Directory of the bundled data sets (inside the wheel, or ``data/`` in a checkout)."""
    packaged = Path(str(resources.files("resiliopt"))) / "_bundled_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "data"


def bundled_cases() -> list[str]:
    root = bundled_data_dir()
    return sorted(p.parent.name for p in root.glob("*/case.yaml"))


def resolve_case_path(name_or_path: str | Path) -> Path:
    """``beijing`` -> the bundled case file; a directory -> its ``case.yaml``."""
    p = Path(name_or_path)
    if p.is_dir():
        p = p / "case.yaml"
    if p.is_file():
        return p
    bundled = bundled_data_dir() / str(name_or_path) / "case.yaml"
    if bundled.is_file():
        return bundled
    raise InputError(
        f"no case file here, and no bundled case of that name (bundled: {', '.join(bundled_cases())})",
        file=name_or_path,
    )


@dataclass(frozen=True)
class CaseData:
    """Everything a case holds, validated. Arrays are in the order of the files."""

    path: Path
    case: s.Case
    network: s.Network
    bridges: s.Bridges
    buildings: s.Buildings
    community: s.Community

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


def load_case(name_or_path: str | Path) -> CaseData:
    """Load and validate a case and the files it references."""
    path = resolve_case_path(name_or_path)
    case = load(s.Case, path)
    base = path.parent
    network = load(s.Network, base / case.network)
    bridges = load(s.Bridges, base / case.bridges)
    buildings = load(s.Buildings, base / case.buildings)
    community = load(s.Community, base / case.community)
    nodes = {n.id for n in network.nodes}
    for k, b in enumerate(bridges.bridges):
        if b.node not in nodes:
            raise InputError(
                f"node {b.node!r} is not in {case.network}", base / case.bridges, f"bridges[{k}].node"
            )
    for node in buildings.node_shares:
        if node not in nodes:
            raise InputError(
                f"node {node!r} is not in {case.network}", base / case.buildings, f"node_shares.{node}"
            )
    for k, c in enumerate(buildings.categories):
        levels = buildings.level_a.get(c.sector, {})
        if levels and c.design_level not in levels:
            raise InputError(
                f"design level {c.design_level} has no entry in level_a.{c.sector}",
                base / case.buildings,
                f"categories[{k}].design_level",
            )
    for name, v in case.variants.items():
        cats = {c.id for c in buildings.categories}
        for cat in v.building_plan:
            if cat not in cats:
                raise InputError(f"unknown category {cat!r}", path, f"variants.{name}.building_plan")
        if v.upgrade_bridges != "all":
            ids = {b.id for b in bridges.bridges}
            for k, bid in enumerate(v.upgrade_bridges):
                if bid not in ids:
                    raise InputError(f"unknown bridge {bid!r}", path, f"variants.{name}.upgrade_bridges[{k}]")
    return CaseData(path, case, network, bridges, buildings, community)
