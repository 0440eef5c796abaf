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

from resiliopt._tables import Where as _Where
from resiliopt._tables import load_table
from resiliopt._yaml import read_yaml, validate
from resiliopt.case import infra_schema as s
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


def _load_table(name: str, ref, case_path: Path) -> tuple[pd.DataFrame, _Where]:
    model = s.TABLE_ROWS[name]
    rows, where = load_table(model, ref, case_path, name)
    return _frame(model, rows), where


def _first_dup(df: pd.DataFrame, cols: list[str]) -> int | None:
    d = df.duplicated(cols, keep="first")
    return int(d.to_numpy().nonzero()[0][0]) if d.any() else None


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
        """Counts per layer, for ``infra validate``."""
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
        }


def _check(case_file: s.InfraCaseFile, path: Path, t: dict[str, pd.DataFrame], w: dict[str, _Where]) -> None:
    """Rules across rows and tables."""
    layers = [lay.layer for lay in case_file.layers]
    for k, name in enumerate(layers):
        if name in layers[:k]:
            raise InputError(f"duplicate layer {name!r}", path, f"layers[{k}].layer")
    res = [r.resource for r in case_file.resources]
    for k, name in enumerate(res):
        if name in res[:k]:
            raise InputError(f"duplicate resource {name!r}", path, f"resources[{k}].resource")
    lset = set(layers)

    def bad_layer(table: str, col: str = "layer") -> None:
        df = t[table]
        miss = ~df[col].isin(lset)
        if miss.any():
            k = int(miss.to_numpy().nonzero()[0][0])
            raise InputError(
                f"unknown layer {df[col].iloc[k]!r} (layers: {', '.join(layers)})",
                w[table].file,
                w[table].at(k, col),
            )

    nodes, links = t["nodes"], t["links"]
    bad_layer("nodes")
    k = _first_dup(nodes, ["layer", "node"])
    if k is not None:
        raise InputError(
            f"duplicate node {nodes['node'].iloc[k]!r} in layer {nodes['layer'].iloc[k]!r}",
            w["nodes"].file,
            w["nodes"].at(k, "node"),
        )
    node_keys = set(zip(nodes["layer"], nodes["node"], strict=True))
    bad_layer("links")
    k = _first_dup(links, ["layer", "link"])
    if k is not None:
        raise InputError(
            f"duplicate link {links['link'].iloc[k]!r} in layer {links['layer'].iloc[k]!r}",
            w["links"].file,
            w["links"].at(k, "link"),
        )
    for k, (layer, a, b) in enumerate(zip(links["layer"], links["from"], links["to"], strict=True)):
        for col, end in (("from", a), ("to", b)):
            if (layer, end) not in node_keys:
                raise InputError(
                    f"link end {end!r} is not a node of layer {layer!r}",
                    w["links"].file,
                    w["links"].at(k, col),
                )
        if a == b:
            raise InputError(f"self-loop at node {a!r}", w["links"].file, w["links"].at(k, "to"))
    ends = set(zip(links["layer"], links["from"], strict=True)) | set(
        zip(links["layer"], links["to"], strict=True)
    )
    for k, (layer, node, dem) in enumerate(zip(nodes["layer"], nodes["node"], nodes["demand"], strict=True)):
        if dem > 0 and (layer, node) not in ends:
            raise InputError(
                f"supply node {node!r} of layer {layer!r} is on no link: its supply could reach no one",
                w["nodes"].file,
                w["nodes"].at(k, "demand"),
            )

    dep = t["dependencies"]
    bad_layer("dependencies", "dependee_layer")
    bad_layer("dependencies", "depender_layer")
    for k, r in enumerate(dep.itertuples(index=False)):
        for lcol, ncol in (("dependee_layer", "dependee"), ("depender_layer", "depender")):
            if (getattr(r, lcol), getattr(r, ncol)) not in node_keys:
                raise InputError(
                    f"{ncol} {getattr(r, ncol)!r} is not a node of layer {getattr(r, lcol)!r}",
                    w["dependencies"].file,
                    w["dependencies"].at(k, ncol),
                )
        if (r.dependee_layer, r.dependee) == (r.depender_layer, r.depender):
            raise InputError(
                "a node cannot depend on itself", w["dependencies"].file, w["dependencies"].at(k, "depender")
            )
    k = _first_dup(dep, ["dependee_layer", "dependee", "depender_layer", "depender"])
    if k is not None:
        raise InputError(
            "duplicate dependency (same dependee and depender)",
            w["dependencies"].file,
            w["dependencies"].at(k),
        )

    spaces = t["spaces"]
    k = _first_dup(spaces, ["space"])
    if k is not None:
        raise InputError(
            f"duplicate space {spaces['space'].iloc[k]!r}", w["spaces"].file, w["spaces"].at(k, "space")
        )
    link_keys = set(zip(links["layer"], links["link"], strict=True))
    element_keys = {("node", *nk) for nk in node_keys} | {("link", *lk) for lk in link_keys}

    def check_elements(table: str, dup_cols: list[str]) -> None:
        df = t[table]
        if df is None:
            return
        bad_layer(table)
        for k, key in enumerate(zip(df["kind"], df["layer"], df["element"], strict=True)):
            if key not in element_keys:
                raise InputError(
                    f"{key[0]} {key[2]!r} is not in layer {key[1]!r}",
                    w[table].file,
                    w[table].at(k, "element"),
                )
        k = _first_dup(df, dup_cols)
        if k is not None:
            raise InputError(f"duplicate row ({', '.join(dup_cols)})", w[table].file, w[table].at(k))

    check_elements("element_spaces", ["kind", "layer", "element", "space"])
    es = t["element_spaces"]
    miss = ~es["space"].isin(set(spaces["space"]))
    if miss.any():
        k = int(miss.to_numpy().nonzero()[0][0])
        raise InputError(
            f"space {es['space'].iloc[k]!r} is not in the spaces table",
            w["element_spaces"].file,
            w["element_spaces"].at(k, "space"),
        )
    if t.get("damage") is not None:
        check_elements("damage", ["scenario", *KEY])
        listed = case_file.damage_scenarios
        if listed:
            miss = ~t["damage"]["scenario"].isin(set(listed))
            if miss.any():
                k = int(miss.to_numpy().nonzero()[0][0])
                raise InputError(
                    f"scenario {t['damage']['scenario'].iloc[k]!r} is not listed in damage_scenarios "
                    f"of {path.name}",
                    w["damage"].file,
                    w["damage"].at(k, "scenario"),
                )
    if t.get("failure_probability") is not None:
        check_elements("failure_probability", ["magnitude", *KEY])


def load_infra_case(name_or_path: str | Path) -> InfraCase:
    """Load and validate an interdependent infrastructure case (bundled name, directory or file)."""
    path = resolve_infra_case(name_or_path)
    raw = read_yaml(path)
    if isinstance(raw, dict) and raw.get("kind", "infra_case") != "infra_case":
        raise InputError(f"kind must be 'infra_case' (got {raw.get('kind')!r})", path, "kind")
    case_file = validate(s.InfraCaseFile, raw, file=path)
    tables: dict[str, pd.DataFrame | None] = {}
    where: dict[str, _Where] = {}
    for name in s.TABLE_ROWS:
        ref = getattr(case_file, name)
        if ref is None:
            tables[name] = None
            continue
        tables[name], where[name] = _load_table(name, ref, path)
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
