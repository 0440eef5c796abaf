"""The indicator tree: a tidy table of indicators with parent links.

Ids are assigned by position: the root is ``root``, its children ``1``, ``2``, ...,
their children ``1.1``, ``1.2``, ... Leaves (level 6 in the paper's system) carry the
paper's ``number``; all leaves must be at the same level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from resiliopt._yaml import load
from resiliopt.errors import InputError
from resiliopt.fahp.schemas import TreeFile, TreeNode

ROOT = "root"


@dataclass(frozen=True)
class IndicatorTree:
    """Indicators in depth-first order; ``nodes`` has one row per indicator.

    Columns: ``level`` (root = 1), ``id``, ``number`` (leaves only), ``name``, ``parent``,
    ``position`` (1-based among siblings), ``n_children``.
    """

    name: str
    source: str | None
    nodes: pd.DataFrame
    children: dict[str, list[str]]
    path: Path | None = None

    @property
    def leaf_level(self) -> int:
        return int(self.nodes["level"].max())

    @property
    def leaves(self) -> pd.DataFrame:
        return self.nodes[self.nodes["level"] == self.leaf_level]

    def counts(self) -> list[int]:
        """Number of indicators per level, level 1 first."""
        return self.nodes.groupby("level").size().tolist()

    def row(self, node_id: str) -> dict:
        """The indicator's row: level, id, number, name, parent, position, n_children."""
        return self.records[node_id]

    @cached_property
    def index(self) -> dict[str, int]:
        return dict(zip(self.nodes["id"], range(len(self.nodes)), strict=True))

    @cached_property
    def records(self) -> dict[str, dict]:
        """Indicator id -> its row as a plain dict (fast lookups)."""
        return {r["id"]: r for r in self.nodes.to_dict("records")}

    def number_to_id(self) -> dict[int, str]:
        lv = self.leaves
        return dict(zip(lv["number"].astype(int), lv["id"], strict=True))

    def subtree(self, node_id: str) -> list[str]:
        """``node_id`` and all its descendants, depth first."""
        out, stack = [], [node_id]
        while stack:
            x = stack.pop()
            out.append(x)
            stack.extend(reversed(self.children.get(x, [])))
        return out

    def ancestors(self, node_id: str) -> list[str]:
        """Parents of ``node_id`` up to the root, nearest first."""
        out = []
        p = self.records[node_id]["parent"]
        while isinstance(p, str):
            out.append(p)
            p = self.records[p]["parent"]
        return out

    def resolve(self, key: str, file: str | None = None, where: str | None = None) -> str:
        """An indicator id, or a name that is unique in the tree, -> its id."""
        if key in self.index:
            return key
        hits = self.nodes.loc[self.nodes["name"].str.lower() == str(key).lower(), "id"].tolist()
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise InputError(
                f"indicator name {key!r} is ambiguous ({', '.join(hits)}); use the id", file, where
            )
        raise InputError(f"no indicator with id or name {key!r} in the tree", file, where)


def _walk(node: TreeNode, node_id: str, parent: str | None, level: int, pos: int, rows, kids):
    rows.append(
        {
            "level": level,
            "id": node_id,
            "number": node.number,
            "name": node.name,
            "parent": parent,
            "position": pos,
            "n_children": len(node.children),
        }
    )
    kids[node_id] = []
    for k, ch in enumerate(node.children, start=1):
        cid = str(k) if node_id == ROOT else f"{node_id}.{k}"
        kids[node_id].append(cid)
        _walk(ch, cid, node_id, level + 1, k, rows, kids)


def build_tree(data: TreeFile, file: str | Path | None = None) -> IndicatorTree:
    rows: list[dict] = []
    kids: dict[str, list[str]] = {}
    _walk(data.root, ROOT, None, 1, 1, rows, kids)
    df = pd.DataFrame(rows)
    df["number"] = df["number"].astype("Int64")
    leaves = df[df["n_children"] == 0]
    f = str(file) if file else None
    if leaves["level"].nunique() > 1:
        bad = leaves[leaves["level"] != leaves["level"].max()].iloc[0]
        raise InputError(
            f"indicator {bad['name']!r} is a leaf at level {bad['level']}, but leaves must all "
            f"be at level {leaves['level'].max()}",
            f,
            f"indicator {bad['id']}",
        )
    if len(df) == 1:
        raise InputError("the tree has no indicators below the root", f, "root")
    if leaves["number"].isna().any():
        bad = leaves[leaves["number"].isna()].iloc[0]
        raise InputError("a leaf indicator needs a 'number'", f, f"indicator {bad['id']}")
    dup = leaves["number"][leaves["number"].duplicated()]
    if len(dup):
        raise InputError(f"leaf number {int(dup.iloc[0])} is used twice", f, "root")
    for pid, ch in kids.items():
        names = [df.loc[df["id"] == c, "name"].iloc[0] for c in ch]
        if len(set(names)) != len(names):
            twice = next(x for x in names if names.count(x) > 1)
            raise InputError(f"two children of {pid} are both named {twice!r}", f, f"indicator {pid}")
    return IndicatorTree(data.name, data.source, df, kids, Path(file) if file else None)


def load_tree(path: str | Path) -> IndicatorTree:
    """Read and check an indicator tree file (see ``data/cups/indicators.yaml``)."""
    return build_tree(load(TreeFile, path), path)


def numbering(tree: IndicatorTree) -> pd.Series:
    """Sequential number within each level (depth-first order), as in the paper's Fig. 2."""
    return tree.nodes.groupby("level").cumcount() + 1
