"""Schemas of every input file (pydantic), one attribute table per component.

Each field carries its unit and meaning in ``description``; ``resiliopt schema`` exports these
models as JSON Schema so that editors can complete case files. Validation rules that span
fields (ids unique, links to existing nodes, DAM symmetric, ...) live in model validators
here, so a case that loads is a case the formulations can trust. Every rule is listed in
docs/formats.md.

* Every model forbids unknown fields (a typo is refused, never ignored).
* Numbers are numbers: a string (``"5"``) or a boolean (``yes``) where a number is expected is
  refused, and so are ``.nan`` and ``.inf``.
* Every quantity is at most :data:`LIMIT` (1e12) in absolute value: HiGHS treats bounds of
  1e20 and more as infinite, and a margin of 1e8 below that keeps its tolerances (1e-7)
  meaningful next to the data.

The models live in one module per file kind: :mod:`~resiliopt.schemas.common` (limits, number
types, :class:`Strict`, :class:`Problems`), :mod:`~resiliopt.schemas.network`,
:mod:`~resiliopt.schemas.fragility` (bridges, buildings), :mod:`~resiliopt.schemas.community`,
:mod:`~resiliopt.schemas.constraints` (user constraints), :mod:`~resiliopt.schemas.case` and
:mod:`~resiliopt.schemas.slice`; every public name is re-exported here (``schemas.Case``).
"""

from __future__ import annotations

from pydantic import BaseModel

from resiliopt.schemas.case import Case, GroundMotion, Hazard, Logistics, Recovery, Variant
from resiliopt.schemas.common import (
    DAMAGE_STATES,
    INT_LIMIT,
    LIMIT,
    PGA,
    SECTORS,
    Id,
    Level,
    NonNeg,
    Num,
    Pos,
    Problems,
    Share,
    Strict,
)
from resiliopt.schemas.community import Community
from resiliopt.schemas.constraints import (
    RESERVED_NAMES,
    Closure,
    FlowCap,
    MinDelivery,
    TrShare,
    UserConstraint,
)
from resiliopt.schemas.fragility import (
    Bridge,
    Bridges,
    Buildings,
    CapacityLoss,
    Category,
    DriftThresholds,
    PowerLaw,
)
from resiliopt.schemas.network import Entry, Link, Network, Node
from resiliopt.schemas.slice import SliceArc, SliceFile, SliceGroup

#: the model of each ``kind:`` of a logistics input file (``resiliopt schema`` exports them)
SCHEMAS: dict[str, type[BaseModel]] = {
    "case": Case,
    "network": Network,
    "bridges": Bridges,
    "buildings": Buildings,
    "community": Community,
    "slice": SliceFile,
}

__all__ = [
    "DAMAGE_STATES",
    "INT_LIMIT",
    "LIMIT",
    "PGA",
    "RESERVED_NAMES",
    "SCHEMAS",
    "SECTORS",
    "Bridge",
    "Bridges",
    "Buildings",
    "CapacityLoss",
    "Case",
    "Category",
    "Closure",
    "Community",
    "DriftThresholds",
    "Entry",
    "FlowCap",
    "GroundMotion",
    "Hazard",
    "Id",
    "Level",
    "Link",
    "Logistics",
    "MinDelivery",
    "Network",
    "Node",
    "NonNeg",
    "Num",
    "Pos",
    "PowerLaw",
    "Problems",
    "Recovery",
    "Share",
    "SliceArc",
    "SliceFile",
    "SliceGroup",
    "Strict",
    "TrShare",
    "UserConstraint",
    "Variant",
]
