"""What every importer shares: the imported case as rows, the report, and the writer.

An importer builds an :class:`Imported` (layers, node and link rows, dependencies, side
tables, and the lines of ``import.md``); :func:`write_case` writes it as the infra case format
of docs/infra.md (``case.yaml`` + CSV tables) and checks the result with
:func:`~resiliopt.case.infra.load_infra_case` before anything becomes visible. Everything
written is a pure function of the input file and the options: numbers are rounded to fixed
digits, rows keep the source's order, no time stamp or absolute path is written, so a re-run
gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from resiliopt._atomic import atomic_directory
from resiliopt._tables import write_csv
from resiliopt.case.infra import load_infra_case
from resiliopt.errors import InputError

NODE_COLUMNS = ["layer", "node", "demand", "repair_cost", "population", "x", "y", "node_type"]
LINK_COLUMNS = [
    "layer",
    "link",
    "from",
    "to",
    "capacity",
    "repair_cost",
    "two_way",
    "length_km",
    "link_type",
]
DEP_COLUMNS = ["dependee_layer", "dependee", "depender_layer", "depender", "type", "loss"]
DIGITS = 6  # significant decimals of every number written
#: the largest quantity an option may give (a supply, a rating): the 1e12 of every input file
QUANTITY_MAX = 1e12
#: characters a layer name must not hold: ``--fail KIND:LAYER:ID`` and ``--service-layers A,B``
#: separate with them
LAYER_SEPARATORS = ":,"


def check_layer_name(name: object, where: str = "--layer") -> str:
    """A layer name as an importer writes it: not blank, no leading or trailing blanks, and
    none of :data:`LAYER_SEPARATORS` (returned as given, else an InputError at ``where``)."""
    text = str(name)
    if not text.strip():
        raise InputError(f"{text!r} is not a layer name: it is empty", location=where)
    if text != text.strip():
        raise InputError(f"{text!r} is not a layer name: it starts or ends with a blank", location=where)
    bad = [c for c in LAYER_SEPARATORS if c in text]
    if bad:
        raise InputError(
            f"{text!r} is not a layer name: it holds {' and '.join(map(repr, bad))} "
            "(which --fail KIND:LAYER:ID and layer lists A,B use as separators)",
            location=where,
        )
    return text


def check_quantity(value: float | None, where: str, lo: float = 0.0, hi: float = QUANTITY_MAX) -> None:
    """An option's number: None (its default) or finite with ``lo < value <= hi``."""
    if value is None:
        return
    v = float(value)
    if not (math.isfinite(v) and lo < v <= hi):
        raise InputError(f"{value!r} is out of range: must be > {lo:g} and <= {hi:g}", location=where)


def num(v: float | None, digits: int = DIGITS) -> float | int | None:
    """A number as written: rounded to ``digits`` decimals, an integer where it is one."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    r = round(float(v), digits)
    if r == 0:
        return 0
    return int(r) if r.is_integer() and abs(r) < 1e15 else r


@dataclass
class Report:
    """The content of ``import.md``: what was read, dropped (and why), assumed (and its value)."""

    title: str
    source: list[str] = field(default_factory=list)
    read: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    assumptions: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)

    def assume(self, name: str, value: object, rule: str) -> None:
        self.assumptions.append((name, str(value), rule))

    def drop(self, element: str, why: str) -> None:
        self.dropped.append((element, why))

    def markdown(self, counts: list[tuple[str, str]]) -> str:
        out = [
            f"# {self.title}",
            "",
            "Written by `resiliopt infra import` (docs/import.md); do not edit by hand.",
            "",
        ]
        if self.source:
            out += ["## Source", "", *self.source, ""]
        if self.read:
            out += [
                "## Read",
                "",
                "| what | count |",
                "|---|---|",
                *[f"| {a} | {b} |" for a, b in self.read],
                "",
            ]
        out += ["## Dropped", ""]
        if self.dropped:
            out += ["| element | why |", "|---|---|", *[f"| {a} | {b} |" for a, b in self.dropped]]
        else:
            out.append("Nothing.")
        out.append("")
        if self.assumptions:
            out += ["## Assumptions", "", "| parameter | value | rule |", "|---|---|---|"]
            out += [f"| {a} | {b} | {c} |" for a, b, c in self.assumptions]
            out.append("")
        if self.notes:
            out += ["## Notes", "", *[f"- {n}" for n in self.notes], ""]
        out += ["## Written", "", "| table | rows |", "|---|---|", *[f"| {a} | {b} |" for a, b in counts], ""]
        out += self.appendix
        return "\n".join(out).rstrip("\n") + "\n"


@dataclass
class Imported:
    """An imported case, as rows in the case format (docs/infra.md), before it is written."""

    name: str
    description: str
    layers: list[dict]
    nodes: list[dict]
    links: list[dict]
    report: Report
    dependencies: list[dict] = field(default_factory=list)
    resources: list[dict] = field(default_factory=lambda: [{"resource": "repair", "per_period": 3}])
    currency: str = "cost units (not in the source)"
    side_tables: dict[str, tuple[list[str], list[dict]]] = field(default_factory=dict)
    extra_tables: dict[str, tuple[list[str], list[dict]]] = field(default_factory=dict)
    extra_yaml: dict = field(default_factory=dict)
    header: str = "Generated by resiliopt infra import; do not edit by hand."
    source: str = "import.md"


def file_digest(path: Path) -> str:
    """SHA-256 of a file (named in import.md, so a reader can tell which file was read)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_lines(path: Path, reader: str) -> list[str]:
    p = Path(path)
    return [
        f"- file: `{p.name}` ({p.stat().st_size} bytes, SHA-256 `{file_digest(p)}`)",
        f"- read with: {reader}",
    ]


def _yaml_text(imp: Imported, tables: list[str]) -> str:
    doc: dict = {
        "kind": "infra_case",
        "name": imp.name,
        "description": imp.description,
        "source": imp.source,
        "currency": imp.currency,
        "layers": imp.layers,
        "resources": imp.resources,
    }
    for t in tables:
        doc[t] = f"{t}.csv"
    doc.update(imp.extra_yaml)
    body = yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)
    return f"# {imp.header}\n{body}"


def write_files(imp: Imported, folder: Path) -> list[tuple[str, str]]:
    """Write the case into an existing folder (no manifest); returns (table, rows) counts."""
    folder = Path(folder)
    tables = ["nodes", "links"]
    write_csv(folder / "nodes.csv", NODE_COLUMNS, imp.nodes)
    write_csv(folder / "links.csv", LINK_COLUMNS, imp.links)
    counts = [("nodes.csv", str(len(imp.nodes))), ("links.csv", str(len(imp.links)))]
    if imp.dependencies:
        tables.append("dependencies")
        write_csv(folder / "dependencies.csv", DEP_COLUMNS, imp.dependencies)
        counts.append(("dependencies.csv", str(len(imp.dependencies))))
    for name, (header, rows) in imp.extra_tables.items():
        tables.append(name)
        write_csv(folder / f"{name}.csv", header, rows)
        counts.append((f"{name}.csv", str(len(rows))))
    for fname, (header, rows) in imp.side_tables.items():
        write_csv(folder / fname, header, rows)
        counts.append((f"{fname} (side table, not read by the case loader)", str(len(rows))))
    (folder / "case.yaml").write_text(_yaml_text(imp, tables), encoding="utf-8")
    (folder / "import.md").write_text(imp.report.markdown(counts), encoding="utf-8")
    return counts


def write_case(imp: Imported, out: str | Path, command: str, force: bool = False) -> dict:
    """Write ``imp`` to the output folder ``out`` (docs/outputs.md rules: whole or nothing),
    after checking it loads as a valid infra case. Returns a summary for the CLI."""
    with atomic_directory(out, command, force) as tmp:
        write_files(imp, tmp)
        try:
            case = load_infra_case(tmp / "case.yaml")
        except InputError as exc:  # a mapping rule broke the format: say so, not a temp path
            first = re.sub(r" \[\d+ errors( in this file)?\]$", "", (exc.message or "").split("\n")[0])
            file = Path(out) / Path(exc.file).name if exc.file else Path(out)
            raise InputError(
                f"the imported case would not be valid, so nothing was written: {first}", file, exc.location
            ) from None
        summary = case.summary()
    summary["path"] = str(out)
    summary["dropped"] = len(imp.report.dropped)
    return summary


def unique_id(base: str, taken: set[str], what: str, file: Path) -> str:
    """``base`` if free, else an InputError: generated ids must not shadow source ids."""
    if base in taken:
        raise InputError(f"generated {what} id {base!r} collides with an id of the source", file)
    taken.add(base)
    return base
