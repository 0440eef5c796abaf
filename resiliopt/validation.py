"""Check any input file with every rule the command that reads it applies; the input schemas.

One entry for every kind of input (``resiliopt validate``, ``resiliopt schema``): logistics
cases and their files, override layers, slices, FAHP matrices, indicator trees and sites, and
interdependent infrastructure cases. A file is found by path or by a bundled name
(:func:`resiliopt.case.resolve_file`); its kind comes from its ``kind:`` field, from the name
``case.yaml`` (an infrastructure case has ``layers``), or from its FAHP fields
(:func:`resiliopt.fahp.schemas.guess_kind`). Each kind is then read by the loader of the
command that uses it, so a file that passes here is one that command accepts.

A valid input may still deserve a warning (:func:`check_input`): a logistics case whose intact
network leaves building groups unreached, or a slice file whose groups with demand no open arc
reaches (:mod:`resiliopt.simulation.unreachable`). ``resiliopt validate`` prints each as a
``warning:`` line and exits 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from resiliopt import schemas
from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._yaml import read_yaml, validate
from resiliopt.case import load_case, load_network, resolve_file
from resiliopt.case.infra import load_infra_case
from resiliopt.case.infra_schema import InfraCaseFile
from resiliopt.case.overrides import Override
from resiliopt.emergency.config import case_emergency
from resiliopt.errors import InputError
from resiliopt.fahp import compile_case, load_tree
from resiliopt.fahp import schemas as fahp_schemas
from resiliopt.fahp.study import analyse_matrix
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.simulation.load import load_case_model
from resiliopt.simulation.unreachable import intact_warnings, unreachable_line, unreachable_summary

#: the indicator tree a site file is checked against when none is named
DEFAULT_TREE = "indicators"


def input_schemas() -> dict[str, type[BaseModel]]:
    """The pydantic model of every kind of input file, by kind."""
    return {**schemas.SCHEMAS, **fahp_schemas.SCHEMAS, "infra_case": InfraCaseFile, "override": Override}


def json_schemas(kind: str | None = None) -> dict[str, dict]:
    """The JSON Schema of ``kind`` (every kind if None), by kind."""
    models = input_schemas()
    if kind is not None and kind not in models:
        raise InputError(f"unknown kind {kind!r}; one of {sorted(models)}", location="KIND")
    kinds = [kind] if kind else sorted(models)
    return {k: models[k].model_json_schema(by_alias=True) for k in kinds}


def export_schemas(kind: str | None = None, out: str | Path | None = None, force: bool = False) -> dict:
    """:func:`json_schemas`; with ``out``, also written there as ``<kind>.schema.json`` files
    (a new folder, or an earlier ``schema`` output: :mod:`resiliopt._atomic`)."""
    if out is not None:
        check_output_dir(out, "schema", force)
    docs = json_schemas(kind)
    if out is not None:
        with atomic_directory(out, "schema", force) as tmp:
            for k, d in docs.items():
                (tmp / f"{k}.schema.json").write_text(json.dumps(d, indent=1))
    return docs


def file_kind(path: Path, raw) -> str:
    """The kind of a parsed input file; an :class:`InputError` if it has none we know."""
    if raw is None:
        raise InputError("the file is empty", path)
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind is None and path.name == "case.yaml" and isinstance(raw, dict):
        kind = "infra_case" if "layers" in raw else "case"  # kind is optional in a case.yaml
    if kind is None:
        kind = fahp_schemas.guess_kind(raw)
    kinds = input_schemas()
    if not isinstance(kind, str) or kind not in kinds:
        raise InputError(f"unknown or missing kind {kind!r}; one of {sorted(kinds)}", path, "kind")
    return kind


@dataclass
class Validated:
    """What :func:`check_input` found: the input's ``kind`` and ``warnings`` (one sentence each)
    about a valid input that deserves a look."""

    kind: str
    warnings: list[str] = field(default_factory=list)


def validate_file(path: Path, tree: str | None = None, warnings: list[str] | None = None) -> str:
    """Check one file with every rule the command that reads it applies; returns its kind.

    ``tree``: the indicator tree a site file is checked against (default ``cups/indicators.yaml``).
    ``warnings``: a list the warnings about a valid file are appended to (a slice file's
    unreachable groups).
    """
    raw = read_yaml(path)
    kind = file_kind(path, raw)
    if kind in ("case", "override"):  # an override layer (docs/overrides.md): as the case it makes
        load_case(path)
    elif kind == "infra_case":
        case_emergency(load_infra_case(path))  # its levels, with every rule `emergency` applies
    elif kind == "network":  # its nodes and links may be CSV tables
        load_network(path)
    elif kind == "slice":
        data = SliceData.from_file(path)
        line = unreachable_line(unreachable_summary(data), data.source)
        if line and warnings is not None:
            warnings.append(line)
    elif kind == "matrix":
        analyse_matrix(validate(fahp_schemas.MatrixFile, raw, file=path), path)
    elif kind == "tree":
        load_tree(path)
    elif kind == "site":
        site = validate(fahp_schemas.CaseFile, raw, file=path)
        compile_case(load_tree(resolve_file(tree or DEFAULT_TREE)), site, path)
    else:
        validate(input_schemas()[kind], raw, file=path)
    return kind


def validate_input(path: str | Path, tree: str | None = None, overrides: Sequence[str | Path] = ()) -> str:
    """Check a file, a case (directory, ``case.yaml`` or bundled name) or a bundled file with every
    rule the commands that read it apply; returns its kind (:func:`check_input` also gives the
    warnings)."""
    return check_input(path, tree, overrides).kind


def check_input(path: str | Path, tree: str | None = None, overrides: Sequence[str | Path] = ()) -> Validated:
    """Check a file, a case (directory, ``case.yaml`` or bundled name) or a bundled file with every
    rule the commands that read it apply (``resiliopt validate``); its kind and warnings.

    A case is also made into its case model, so its user constraints select arcs and groups,
    and its intact network is searched for building groups that no road reaches (a warning:
    :func:`~resiliopt.simulation.unreachable.intact_warnings`). ``overrides``: the case with
    these layers laid over it (then the kind is ``case``).
    """
    if overrides:  # a case with its layers; user constraints resolved to arcs and groups
        cm = load_case_model(path, None, tuple(overrides))
        return Validated("case", intact_warnings(cm))
    p = Path(path)
    p = p / "case.yaml" if p.is_dir() and (p / "case.yaml").is_file() else resolve_file(path)
    if not p.is_file():
        load_case(path)  # says what is missing
    warnings: list[str] = []
    kind = validate_file(p, tree, warnings)
    if kind in ("case", "override"):
        cm = load_case_model(p, None)  # its user constraints select arcs and groups
        warnings += intact_warnings(cm)
    return Validated(kind, warnings)
