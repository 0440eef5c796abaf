"""Override layers: a base case plus a small file that changes a few values (docs/formats.md).

An override file is usable wherever a case is (``resiliopt simulate overrides/x.yaml``)::

    kind: override
    base: ../case.yaml          # a case (name, directory, case.yaml) or another override file,
                                # relative to this file
    name: beijing-correlated    # optional; default: the base's name + "+" + this file's stem
    description: damage correlated within categories, roads at 30 %
    case:                       # merged into the base's case.yaml
      hazard: {category_correlation: 1.0}
      logistics: {capacity_factor: 0.3}
    network:                    # merged into its network file, and so on for
      links:                    # bridges, buildings, community
        ring2-01: {capacity: 5} # a list of items with ids is addressed by id

Merge rules (Calliope-like): a mapping is merged key by key into a mapping; a mapping given
for a list of items that have ``id`` changes the items it names (an id the list lacks is
refused); anything else (a number, a string, a list, ``null``) replaces the base's value.
The merged files are then validated exactly as a case is, and an error names the override
file and the base file it was merged onto. Layers stack: the base may itself be an override.

On the command line (``--override FILE``, repeatable; :func:`load_layers`) a layer's base is
the case argument (or the layer before it): such a file names no ``base`` (and may omit
``kind``), e.g. ``resiliopt simulate beijing --override my_changes.yaml``.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from resiliopt import schemas
from resiliopt._tables import load_table
from resiliopt._yaml import read_yaml, validate
from resiliopt.case.data import CaseData, read_case
from resiliopt.case.paths import resolve_case_path
from resiliopt.errors import InputError

FILES = ("network", "bridges", "buildings", "community")
#: the network's tables that may be CSV files (a layer changing them by id merges onto their records)
TABLES = ("nodes", "links")


class Override(BaseModel):
    """An override layer (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["override"]
    base: str | None = Field(
        None,
        min_length=1,
        description="the case (or override file) this layer changes; none for a layer given with --override",
    )
    name: str | None = Field(None, min_length=1, description="name of the resulting case")
    description: str = ""
    case: dict[str, Any] = Field(default_factory=dict, description="changes to case.yaml")
    network: dict[str, Any] = Field(default_factory=dict, description="changes to the network file")
    bridges: dict[str, Any] = Field(default_factory=dict, description="changes to the bridges file")
    buildings: dict[str, Any] = Field(default_factory=dict, description="changes to the buildings file")
    community: dict[str, Any] = Field(default_factory=dict, description="changes to the community file")


def is_override(path: Path) -> bool:
    """Is ``path`` an override file (a YAML file with ``kind: override``)?"""
    if path.name == "case.yaml" or path.suffix not in (".yaml", ".yml"):
        return False
    raw = read_yaml(path)
    return isinstance(raw, dict) and raw.get("kind") == "override"


def merge(base: Any, change: Any, file: Path, where: str) -> Any:
    """``base`` with ``change`` applied (a new object; the merge rules of the module docstring)."""
    if isinstance(change, dict) and isinstance(base, dict):
        out = dict(base)
        for k, v in change.items():
            out[k] = merge(base.get(k), v, file, f"{where}.{k}" if where else str(k))
        return out
    if (
        isinstance(change, dict)
        and isinstance(base, list)
        and all(isinstance(x, dict) and "id" in x for x in base)
    ):
        out = list(base)
        index = {str(x["id"]): i for i, x in enumerate(base)}
        for k, v in change.items():
            if str(k) not in index:
                raise InputError(
                    f"no item with id {k!r} in the base's list (ids: {', '.join(list(index)[:8])}, ...)",
                    file,
                    f"{where}.{k}",
                )
            out[index[str(k)]] = merge(base[index[str(k)]], v, file, f"{where}.{k}")
        return out
    return copy.deepcopy(change)


def _resolve(base: str, here: Path) -> Path:
    local = (here.parent / base).resolve()
    return resolve_case_path(local if local.exists() else base)


def layered_files(
    path: Path, seen: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], list[Path], dict[str, Path]]:
    """The merged raw contents of the five files, the chain of layers, and the base files."""
    path = path.resolve()
    if path in seen:
        raise InputError(
            "override layers form a cycle: " + " -> ".join(p.name for p in (*seen, path)), path, "base"
        )
    ov = validate(Override, read_yaml(path), file=path)
    if ov.base is None:
        raise InputError("an override file used as a case names its base", path, "base")
    raw, chain, names = _base_files(_resolve(ov.base, path), (*seen, path))
    return _lay(raw, ov, path), [*chain, path], names


def _base_files(base_path: Path, seen: tuple[Path, ...] = ()):
    """The raw contents of a case's five files (or of an override's merged ones)."""
    if is_override(base_path):
        return layered_files(base_path, seen)
    case = read_yaml(base_path)
    if not isinstance(case, dict):
        raise InputError("expected a case file (kind: case)", base_path)
    raw = {"case": case}
    names = {"case": base_path}
    for f in FILES:
        names[f] = base_path.parent / str(case.get(f, f"{f}.yaml"))
        raw[f] = read_yaml(names[f])
    net = raw["network"]
    for key in TABLES if isinstance(net, dict) else ():
        if isinstance(net.get(key), str):  # a CSV table: named by its full path in the merged file
            names[f"network.{key}"] = (names["network"].parent / net[key]).resolve()
            raw["network"] = net = {**net, key: str(names[f"network.{key}"])}
    return raw, [base_path], names


def _lay(raw: dict[str, Any], ov: Override, path: Path) -> dict[str, Any]:
    """One layer's changes applied to the raw files."""
    for f in ("case", *FILES):
        change = getattr(ov, f)
        if f == "network" and change and isinstance(raw[f], dict):
            change = dict(change)
            for key in TABLES:
                if isinstance(change.get(key), str):  # a CSV table of the layer: relative to it
                    change[key] = str((path.parent / change[key]).resolve())
                elif isinstance(change.get(key), dict) and isinstance(raw[f].get(key), str):
                    raw[f] = {**raw[f], key: _records(raw[f][key], key)}  # changed by id: as records
        if change:
            raw[f] = merge(raw[f], change, path, f)
    if ov.name:
        raw["case"] = {**raw["case"], "name": ov.name}
    elif "name" not in ov.case:
        raw["case"] = {**raw["case"], "name": f"{raw['case'].get('name', 'case')}+{path.stem}"}
    return raw


def _records(csv_path: str, key: str) -> list[dict[str, Any]]:
    """The records of a network's CSV table (validated), as a YAML list would give them."""
    model = schemas.Node if key == "nodes" else schemas.Link
    rows, _ = load_table(model, csv_path, Path(csv_path), key)  # (an absolute path: itself)
    return [r.model_dump(by_alias=True, exclude_unset=True) for r in rows]


def load_override(path: str | Path) -> CaseData:
    """The case an override file describes (a :class:`~resiliopt.case.CaseData` whose path is the file)."""
    path = Path(path)
    raw, chain, names = layered_files(path)
    cd = _materialize(raw, names, path)
    return dataclasses.replace(cd, path=path.resolve(), files=_files(chain, names))


def _files(chain: list[Path], names: dict[str, Path]) -> dict[str, Path]:
    """The files a layered case was read from, by name (run.json hashes them)."""
    files = {p.name if i else f"base/{p.name}": p for i, p in enumerate(chain)}
    files.update({f"base/{q.name}": q for q in names.values()})
    return files


def load_layers(case: str | Path, layers) -> CaseData:
    """``case`` (a case, or an override file) with each file of ``layers`` laid over it in
    turn (``--override``). A layer names no ``base``: its base is what comes before it."""
    raw, chain, names = _base_files(resolve_case_path(case))
    for layer in layers:
        layer = Path(layer)
        doc = read_yaml(layer)
        if isinstance(doc, dict) and "kind" not in doc:
            doc = {"kind": "override", **doc}
        ov = validate(Override, doc, file=layer)
        if ov.base is not None:
            raise InputError(
                "a layer given with --override takes the case argument as its base: remove base",
                layer,
                "base",
            )
        raw = _lay(raw, ov, layer)
        chain.append(layer)
    cd = _materialize(raw, names, ", ".join(str(x) for x in layers))
    return dataclasses.replace(cd, path=resolve_case_path(case).resolve(), files=_files(chain, names))


def _materialize(raw: dict[str, Any], names: dict[str, Path], path: Path | str) -> CaseData:
    """Read the merged files as a case (errors name ``path`` and the base file merged onto)."""
    with tempfile.TemporaryDirectory(prefix="resiliopt-override-") as tmp:
        t = Path(tmp)
        case = dict(raw["case"])
        for f in FILES:
            case[f] = f"{f}.yaml"
            (t / f"{f}.yaml").write_text(yaml.safe_dump(raw[f], sort_keys=False), encoding="utf-8")
        (t / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
        try:
            cd = read_case(t / "case.yaml")
        except InputError as exc:
            if exc.file and Path(exc.file).parent == t:
                onto = names[Path(exc.file).stem]
                raise InputError(exc.message, f"{path} (merged onto {onto})", exc.location) from None
            raise
    return cd
