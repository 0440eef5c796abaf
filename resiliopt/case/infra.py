"""Loading an interdependent infrastructure case into tidy tables (pandas DataFrames).

``load_infra_case("shelby-indp")`` finds a bundled case by name (``data/infra/<name>/case.yaml``,
shipped in the wheel), or takes a directory holding ``case.yaml`` or the file itself. Every
table is validated row by row against :mod:`resiliopt.case.infra_schema` and then across tables;
any error is an :class:`~resiliopt.errors.InputError` that names the file, the row and field
(or the YAML path of an inline record) and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from resiliopt._tables import Where as _Where
from resiliopt._tables import read_csv
from resiliopt._yaml import format_loc, input_error, read_yaml, validate
from resiliopt.case import infra_schema as s
from resiliopt.case.infra_reach import unservable_by_layer, unservable_demand, unservable_warnings
from resiliopt.case.paths import resolve_infra_case
from resiliopt.errors import InputError

KEY = ["kind", "layer", "element"]


# --------------------------------------------------------------------------- tables
def _is_float(ann) -> bool:
    if ann is float:
        return True
    return any(_is_float(a) for a in get_args(ann) if a is not type(None))


def _frame(model: type[s.Row], rows: list[s.Row]) -> pd.DataFrame:
    cols = [f.alias or name for name, f in model.model_fields.items()]
    df = pd.DataFrame([r.model_dump(by_alias=True) for r in rows], columns=cols)
    for name, f in model.model_fields.items():
        col = f.alias or name
        if f.annotation is bool:
            df[col] = df[col].astype(bool)
        elif f.annotation is int:
            df[col] = df[col].astype("int64")
        elif _is_float(f.annotation):
            df[col] = df[col].astype(float)
    return df


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _row_problems(exc: ValidationError, where: _Where) -> list[tuple]:
    """Every error of a table's records as ``(location, message, file)``: the record as
    ``row N (line N+1), column 'c'`` (CSV) or ``table[k].field`` (inline), and the value."""
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        k = int(loc[0]) if loc and str(loc[0]).isdigit() else 0
        column = format_loc(tuple(loc[1:])) if len(loc) > 1 else None
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not in the schema; check the spelling)"
        elif err["type"] != "missing" and not isinstance(err.get("input"), dict | list):
            msg = f"{msg} (got {_short(err['input'])})"
        out.append((where.at(k, column), msg, where.file))
    return out


def _load_table(name: str, ref, case_path: Path) -> tuple[pd.DataFrame | None, _Where, list[tuple]]:
    """A table's records as a frame, where they came from, and every record error (the frame is
    None when there is one). A CSV file's shape (header, cells per line) is refused at once."""
    model = s.TABLE_ROWS[name]
    if isinstance(ref, str):
        where = _Where(case_path.parent / ref)
        cells = read_csv(where.file, model)
        records = {str(k): r for k, r in enumerate(cells)}
        try:
            rows = list(TypeAdapter(dict[str, model]).validate_strings(records).values())
        except ValidationError as exc:
            return None, where, _row_problems(exc, where)
    else:
        where = _Where(case_path, inline=name)
        try:
            rows = TypeAdapter(list[model]).validate_python(ref)
        except ValidationError as exc:
            return None, where, _row_problems(exc, where)
    return _frame(model, rows), where, []


# --------------------------------------------------------------------------- the case
@dataclass(frozen=True)
class InfraCase:
    """An interdependent infrastructure case as tidy tables (see docs/infra.md for the fields)."""

    name: str
    path: Path
    currency: str
    description: str
    layers: pd.DataFrame
    nodes: pd.DataFrame
    links: pd.DataFrame
    dependencies: pd.DataFrame
    spaces: pd.DataFrame
    element_spaces: pd.DataFrame
    resources: pd.DataFrame
    damage: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    failure_probability: pd.DataFrame | None = None
    _files: Mapping[str, Path] = field(default_factory=dict, repr=False)

    def source_file(self, table: str) -> Path:
        """The file a table was read from (``case.yaml`` for inline tables)."""
        return self._files.get(table, self.path)

    def elements(self) -> pd.DataFrame:
        """Every node and link: columns kind, layer, element."""
        n = pd.DataFrame({"kind": "node", "layer": self.nodes["layer"], "element": self.nodes["node"]})
        lk = pd.DataFrame({"kind": "link", "layer": self.links["layer"], "element": self.links["link"]})
        return pd.concat([n, lk], ignore_index=True)

    def damage_scenario(self, scenario: str) -> pd.DataFrame:
        """Failed elements (kind, layer, element) of one named damage scenario."""
        if scenario not in self.damage:
            names = list(self.damage)
            shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
            raise InputError(
                f"unknown damage scenario {scenario!r} (this case has {len(names)}: {shown or 'none'})",
                self.source_file("damage"),
            )
        return self.damage[scenario]

    @property
    def damage_scenarios(self) -> list[str]:
        return list(self.damage)

    def summary(self) -> dict:
        """Counts per layer, and what the intact case can never serve, for ``infra validate``.

        ``unservable``: per layer, the demand that no working supply reaches in the intact case
        (:func:`resiliopt.case.infra_reach.unservable_demand`); ``warnings``: one sentence each.
        """
        per = []
        for layer in self.layers["layer"]:
            nd = self.nodes[self.nodes["layer"] == layer]
            per.append(
                {
                    "layer": layer,
                    "nodes": int(len(nd)),
                    "links": int((self.links["layer"] == layer).sum()),
                    "supply": float(nd.loc[nd["demand"] > 0, "demand"].sum()),
                    "demand": float(-nd.loc[nd["demand"] < 0, "demand"].sum()),
                }
            )
        return {
            "name": self.name,
            "layers": per,
            "dependencies": int(len(self.dependencies)),
            "spaces": int(len(self.spaces)),
            "resources": {r.resource: float(r.per_period) for r in self.resources.itertuples()},
            "damage_scenarios": len(self.damage),
            "failure_probability_magnitudes": (
                sorted(float(m) for m in self.failure_probability["magnitude"].unique())
                if self.failure_probability is not None
                else []
            ),
            "unservable": unservable_by_layer(self, unservable_demand(self)),
            "warnings": unservable_warnings(self),
        }


class _Problems:
    """Broken rules across rows and tables, each ``(location, message, file)``."""

    def __init__(self, path: Path, where: dict[str, _Where]):
        self.path, self.where, self.items = path, where, []

    def row(self, table: str, k: int, column: str | None, msg: str) -> None:
        w = self.where[table]
        self.items.append((w.at(k, column), msg, w.file))

    def yaml(self, loc: str, msg: str) -> None:
        self.items.append((loc, msg, self.path))

    def duplicates(self, table: str, df: pd.DataFrame, cols: list[str], column: str | None, what) -> None:
        """Each repeated key of ``cols``, naming both records; ``what(k)``: the message head."""
        first: dict[tuple, int] = {}
        for k, key in enumerate(zip(*(df[c] for c in cols), strict=True)):
            if key in first:
                other = self.where[table].at(first[key])
                self.row(table, k, column, f"{what(k)}: {other} has it too")
            else:
                first[key] = k

    def raise_any(self) -> None:
        if self.items:
            raise input_error(self.items, self.path)


def _check(case_file: s.InfraCaseFile, path: Path, t: dict[str, pd.DataFrame], w: dict[str, _Where]) -> None:
    """Rules across rows and tables; every broken one is reported (docs/formats.md)."""
    p = _Problems(path, w)
    for key, attr, what in (("layers", "layer", "layer"), ("resources", "resource", "resource")):
        names = [getattr(r, attr) for r in getattr(case_file, key)]
        for k, name in enumerate(names):
            if name in names[:k]:
                p.yaml(
                    f"{key}[{k}].{attr}", f"duplicate {what} {name!r}: {key}[{names.index(name)}] has it too"
                )
    listed = list(case_file.damage_scenarios)
    for k, name in enumerate(listed):
        if name in listed[:k]:
            p.yaml(
                f"damage_scenarios[{k}]",
                f"damage scenario {name!r} is listed twice: "
                f"damage_scenarios[{listed.index(name)}] has it too",
            )
    layers = [lay.layer for lay in case_file.layers]
    lset = set(layers)

    def bad_layer(table: str, col: str = "layer") -> None:
        df = t[table]
        for k in (~df[col].isin(lset)).to_numpy().nonzero()[0]:
            p.row(table, int(k), col, f"unknown layer {df[col].iloc[k]!r} (layers: {', '.join(layers)})")

    nodes, links = t["nodes"], t["links"]
    bad_layer("nodes")
    p.duplicates(
        "nodes",
        nodes,
        ["layer", "node"],
        "node",
        lambda k: f"duplicate node {nodes['node'].iloc[k]!r} in layer {nodes['layer'].iloc[k]!r}",
    )
    node_keys = set(zip(nodes["layer"], nodes["node"], strict=True))
    bad_layer("links")
    p.duplicates(
        "links",
        links,
        ["layer", "link"],
        "link",
        lambda k: f"duplicate link {links['link'].iloc[k]!r} in layer {links['layer'].iloc[k]!r}",
    )
    for k, (layer, a, b) in enumerate(zip(links["layer"], links["from"], links["to"], strict=True)):
        for col, end in (("from", a), ("to", b)):
            if layer in lset and (layer, end) not in node_keys:
                p.row("links", k, col, f"link end {end!r} is not a node of layer {layer!r}")
        if a == b:
            p.row("links", k, "to", f"self-loop at node {a!r}")
    ends = set(zip(links["layer"], links["from"], strict=True)) | set(
        zip(links["layer"], links["to"], strict=True)
    )
    for k, (layer, node, dem) in enumerate(zip(nodes["layer"], nodes["node"], nodes["demand"], strict=True)):
        if dem > 0 and (layer, node) not in ends:
            p.row(
                "nodes",
                k,
                "demand",
                f"supply node {node!r} of layer {layer!r} is on no link: its supply {dem:g} "
                "could reach no one",
            )

    dep = t["dependencies"]
    bad_layer("dependencies", "dependee_layer")
    bad_layer("dependencies", "depender_layer")
    for k, r in enumerate(dep.itertuples(index=False)):
        for lcol, ncol in (("dependee_layer", "dependee"), ("depender_layer", "depender")):
            if getattr(r, lcol) in lset and (getattr(r, lcol), getattr(r, ncol)) not in node_keys:
                p.row(
                    "dependencies",
                    k,
                    ncol,
                    f"{ncol} {getattr(r, ncol)!r} is not a node of layer {getattr(r, lcol)!r}",
                )
        if (r.dependee_layer, r.dependee) == (r.depender_layer, r.depender):
            p.row("dependencies", k, "depender", f"node {r.depender!r} cannot depend on itself")
    p.duplicates(
        "dependencies",
        dep,
        ["dependee_layer", "dependee", "depender_layer", "depender"],
        None,
        lambda k: "duplicate dependency (same dependee and depender)",
    )

    spaces = t["spaces"]
    p.duplicates(
        "spaces", spaces, ["space"], "space", lambda k: f"duplicate space {spaces['space'].iloc[k]!r}"
    )
    link_keys = set(zip(links["layer"], links["link"], strict=True))
    element_keys = {("node", *nk) for nk in node_keys} | {("link", *lk) for lk in link_keys}

    def check_elements(table: str, dup_cols: list[str]) -> None:
        df = t[table]
        if df is None:
            return
        bad_layer(table)
        for k, key in enumerate(zip(df["kind"], df["layer"], df["element"], strict=True)):
            if key[1] in lset and key not in element_keys:
                p.row(table, k, "element", f"{key[0]} {key[2]!r} is not in layer {key[1]!r}")
        p.duplicates(table, df, dup_cols, None, lambda k: f"duplicate row ({', '.join(dup_cols)})")

    check_elements("element_spaces", ["kind", "layer", "element", "space"])
    es = t["element_spaces"]
    for k in (~es["space"].isin(set(spaces["space"]))).to_numpy().nonzero()[0]:
        p.row("element_spaces", int(k), "space", f"space {es['space'].iloc[k]!r} is not in the spaces table")
    if t.get("damage") is not None:
        check_elements("damage", ["scenario", *KEY])
        if listed:
            dmg = t["damage"]
            for k in (~dmg["scenario"].isin(set(listed))).to_numpy().nonzero()[0]:
                p.row(
                    "damage",
                    int(k),
                    "scenario",
                    f"scenario {dmg['scenario'].iloc[k]!r} is not listed in damage_scenarios of {path.name}",
                )
    if t.get("failure_probability") is not None:
        check_elements("failure_probability", ["magnitude", *KEY])
    p.raise_any()


def load_infra_case(name_or_path: str | Path) -> InfraCase:
    """Load and validate an interdependent infrastructure case (bundled name, directory or file).

    Every record of every table is checked first (all errors of all tables are reported
    together: the first on the first line, the others indented below), then the rules across
    rows and tables (again all of them).
    """
    path = resolve_infra_case(name_or_path)
    raw = read_yaml(path)
    if isinstance(raw, dict) and raw.get("kind", "infra_case") != "infra_case":
        raise InputError(f"kind must be 'infra_case' (got {raw.get('kind')!r})", path, "kind")
    case_file = validate(s.InfraCaseFile, raw, file=path)
    tables: dict[str, pd.DataFrame | None] = {}
    where: dict[str, _Where] = {}
    problems: list[tuple] = []
    for name in s.TABLE_ROWS:
        ref = getattr(case_file, name)
        if ref is None:
            tables[name] = None
            continue
        tables[name], where[name], bad = _load_table(name, ref, path)
        problems += bad
    if problems:
        raise input_error(problems, path)
    _check(case_file, path, tables, where)

    layers = pd.DataFrame([lay.model_dump() for lay in case_file.layers], columns=list(s.Layer.model_fields))
    resources = pd.DataFrame(
        [r.model_dump() for r in case_file.resources], columns=list(s.Resource.model_fields)
    ).astype({"per_period": float})
    damage: dict[str, pd.DataFrame] = {}
    if tables["damage"] is not None:
        dmg = tables["damage"]
        names = list(case_file.damage_scenarios) or list(dict.fromkeys(dmg["scenario"]))
        groups = {k: g[KEY].reset_index(drop=True) for k, g in dmg.groupby("scenario", sort=False)}
        empty = pd.DataFrame({c: pd.Series(dtype=str) for c in KEY})
        damage = {n: groups.get(n, empty) for n in names}
    files = {name: w.file for name, w in where.items()}
    return InfraCase(
        name=case_file.name,
        path=path,
        currency=case_file.currency,
        description=case_file.description,
        layers=layers,
        nodes=tables["nodes"],
        links=tables["links"],
        dependencies=tables["dependencies"],
        spaces=tables["spaces"],
        element_spaces=tables["element_spaces"],
        resources=resources,
        damage=damage,
        failure_probability=tables["failure_probability"],
        _files=files,
    )
