r"""Bottom-up resilience values (Xu et al. 2022, section 3.2.3, equation (4)).

For every indicator :math:`v` with children :math:`C(v)` and local weight :math:`w_v` (its
weight among its siblings):

.. math::

    S_v = \sum_{c \in C(v)} V_c, \qquad V_v = w_v S_v,

where the children of a level-5 indicator are the level-6 scores with equal weights
:math:`1/|C(v)|` (so :math:`S_v` is their average) and the weights of levels 2-5 come from
FAHP. The system value is :math:`S_{root} = \sum_{\text{level 2}} V_c`. In the tidy table,
``score`` is :math:`S_v` (the impact score for a leaf, the average for level 5, the sum of the
children's values above) and ``value`` is :math:`V_v`. Since every weight vector sums to 1
and :math:`|\text{score}| \le 100`, the system value lies in :math:`[-100, 100]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._yaml import load
from resiliopt.errors import InputError
from resiliopt.fahp.experts import FahpResult, analyse
from resiliopt.fahp.matrix import SCALES
from resiliopt.fahp.schemas import CaseFile, ExpertMatrix, Group
from resiliopt.fahp.scores import check_score
from resiliopt.fahp.tree import ROOT, IndicatorTree


@dataclass(frozen=True)
class GroupWeights:
    """Weights of the children of ``parent`` in the tree's order of children."""

    parent: str
    children: list[str]
    weights: np.ndarray
    source: str  # "fahp", "given" or "mean" (level-5 averages)
    fahp: FahpResult | None = None
    order: list[int] | None = None  # matrix row r is the child children[order[r]]
    matrices: np.ndarray | None = None  # experts' matrices (E, n, n) in matrix-row order


@dataclass(frozen=True)
class Model:
    """A case compiled against a tree: scores and weights by indicator id."""

    tree: IndicatorTree
    case: CaseFile
    file: str | None
    scope: str
    ids: list[str]  # indicators in scope, depth first
    scores: dict[str, float]
    categories: dict[str, str]
    groups: dict[str, GroupWeights]
    outside_weights: dict[str, float]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`: the tidy table and the system (or scope) value."""

    model: Model
    table: pd.DataFrame
    scope_value: float

    @property
    def system_value(self) -> float | None:
        return self.scope_value if self.model.scope == ROOT else None

    @property
    def warnings(self) -> list[str]:
        return self.model.warnings


def _group_criteria(tree, pid, g: Group, file, where) -> tuple[list[str], list[int]]:
    children = tree.children[pid]
    by_name = {tree.row(c)["name"].lower(): c for c in children}
    if g.criteria is None:
        return children, list(range(len(children)))
    ids = []
    for k, key in enumerate(g.criteria):
        c = key if key in children else by_name.get(str(key).lower())
        if c is None:
            raise InputError(
                f"{key!r} is not a child of {tree.row(pid)['name']!r} (children: "
                + ", ".join(repr(tree.row(x)["name"]) for x in children)
                + ")",
                file,
                f"{where}.criteria[{k}]",
            )
        if c in ids:
            raise InputError(f"criterion {key!r} is listed twice", file, f"{where}.criteria[{k}]")
        ids.append(c)
    missing = [c for c in children if c not in ids]
    if missing:
        raise InputError(
            f"criterion {tree.row(missing[0])['name']!r} ({missing[0]}) is missing: the "
            "criteria must be all the children",
            file,
            f"{where}.criteria",
        )
    return ids, [children.index(c) for c in ids]


def _given_weights(tree, pid, g, case, file, where, partial_ok) -> dict[str, float]:
    out = {}
    for key, w in g.weights.items():
        c = key if key in tree.children[pid] else None
        if c is None:
            names = {tree.row(x)["name"].lower(): x for x in tree.children[pid]}
            c = names.get(str(key).lower())
        if c is None:
            raise InputError(f"{key!r} is not a child of {tree.row(pid)['name']!r}", file, f"{where}.weights")
        if not (0 <= w <= 1):
            raise InputError(f"weight {w:g} is outside [0, 1]", file, f"{where}.weights.{key}")
        out[c] = float(w)
    if len(out) < len(tree.children[pid]):
        if partial_ok:
            return out
        miss = next(c for c in tree.children[pid] if c not in out)
        raise InputError(f"no weight for {tree.row(miss)['name']!r} ({miss})", file, f"{where}.weights")
    total = sum(out.values())
    if abs(total - 1) > case.weight_tolerance:
        raise InputError(
            f"weights sum to {total:g}, not 1 (tolerance weight_tolerance = {case.weight_tolerance:g})",
            file,
            f"{where}.weights",
        )
    return out


def compile_case(tree: IndicatorTree, case: CaseFile, file: str | Path | None = None) -> Model:
    """Check a case against the tree: every score, every group, the scope."""
    f = str(file) if file is not None else None
    scope = tree.resolve(case.scope, f, "scope") if case.scope else ROOT
    if tree.row(scope)["n_children"] == 0:
        raise InputError("the scope must be an indicator with children", f, "scope")
    ids = tree.subtree(scope)
    in_scope = set(ids)
    leaf_level = tree.leaf_level
    warnings: list[str] = []

    num2id = tree.number_to_id()
    scores, cats = {}, {}
    outside = 0
    for number, entry in case.scores.items():
        if number not in num2id:
            raise InputError(
                f"there is no level-{leaf_level} indicator number {number} (1-{len(num2id)})",
                f,
                f"scores[{number}]",
            )
        lid = num2id[number]
        s, cat = check_score(number, tree.row(lid)["name"], entry, f)
        if lid in in_scope:
            scores[lid], cats[lid] = s, cat
        else:
            outside += 1
    if outside:
        warnings.append(f"{outside} scores are outside the scope {scope!r} and were ignored")
    missing = [i for i in ids if tree.row(i)["level"] == leaf_level and i not in scores]
    if missing:
        first = ", ".join(f"{int(tree.row(m)['number'])} ({tree.row(m)['name']})" for m in missing[:3])
        raise InputError(
            f"no score for {len(missing)} level-{leaf_level} indicator(s), first: {first}",
            f,
            "scores",
        )

    groups: dict[str, GroupWeights] = {}
    outside_w: dict[str, float] = {}
    seen = set()
    for key, g in case.groups.items():
        where = f"groups[{key!r}]"
        pid = tree.resolve(key, f, where)
        if pid in seen:
            raise InputError("this indicator's group is given twice", f, where)
        seen.add(pid)
        row = tree.row(pid)
        if row["level"] >= leaf_level - 1:
            raise InputError(
                f"{row['name']!r} is a level-{row['level']} indicator: its children are averaged, "
                "not weighted",
                f,
                where,
            )
        if pid not in in_scope:
            if g.weights is None:
                raise InputError(
                    f"group {row['name']!r} is outside the scope {scope!r}: only 'weights' "
                    "(of the scope's ancestors) can be given there",
                    f,
                    where,
                )
            outside_w.update(_given_weights(tree, pid, g, case, f, where, partial_ok=True))
            continue
        crit, order = _group_criteria(tree, pid, g, f, where)
        children = tree.children[pid]
        if g.weights is not None:
            wd = _given_weights(tree, pid, g, case, f, where, partial_ok=False)
            groups[pid] = GroupWeights(pid, children, np.array([wd[c] for c in children]), "given")
            continue
        mats = [g.matrix] if g.matrix is not None else g.experts
        names = [
            (m.name if isinstance(m, ExpertMatrix) and m.name else f"expert {e + 1}")
            for e, m in enumerate(mats)
        ]
        raw = [m.matrix if isinstance(m, ExpertMatrix) else m for m in mats]
        res = analyse(
            [tree.row(c)["name"] for c in crit],
            raw,
            names=names,
            a=g.a if g.a is not None else case.a,
            method=case.combine,
            scale=case.scale,
            tolerance=case.tolerance,
            ci_threshold=case.ci_threshold,
            triad_threshold=case.triad_threshold,
            file=f,
            where=where,
        )
        w = np.empty(len(children))
        w[order] = res.weights
        stack = np.array([e.matrix for e in res.experts]) if res.experts else res.matrix[None]
        groups[pid] = GroupWeights(pid, children, w, "fahp", res, order, stack)
        warnings += res.warnings

    for pid in ids:
        row = tree.row(pid)
        if row["n_children"] == 0:
            continue
        if row["level"] == leaf_level - 1:
            k = int(row["n_children"])
            groups[pid] = GroupWeights(pid, tree.children[pid], np.full(k, 1.0 / k), "mean")
        elif pid not in groups:
            raise InputError(
                f"no weights for the children of {row['name']!r} ({pid}): give a matrix, "
                "experts' matrices or weights",
                f,
                f"groups[{pid!r}]",
            )
    return Model(tree, case, f, scope, ids, scores, cats, groups, outside_w, warnings)


def bottom_up(model: Model, weights: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Scores :math:`S_v` of every indicator in scope (last axis, in ``model.ids`` order).

    ``weights`` overrides group weights (arrays ``(..., k)``, e.g. Monte Carlo samples).
    """
    idx = {x: i for i, x in enumerate(model.ids)}
    weights = weights or {}
    shape = ()
    for w in weights.values():
        shape = np.broadcast_shapes(shape, np.shape(w)[:-1])
    S = np.zeros((*shape, len(model.ids)))
    for x, s in model.scores.items():
        S[..., idx[x]] = s
    for x in reversed(model.ids):
        g = model.groups.get(x)
        if g is None:
            continue
        w = weights.get(x, g.weights)
        cidx = [idx[c] for c in g.children]
        S[..., idx[x]] = (np.asarray(w) * S[..., cidx]).sum(axis=-1)
    return S


def local_weights(model: Model) -> dict[str, float]:
    """Each indicator's weight among its siblings (root and scope: 1 unless given)."""
    out = {ROOT: 1.0}
    for g in model.groups.values():
        out.update(zip(g.children, map(float, g.weights), strict=True))
    if model.scope != ROOT:
        out[model.scope] = model.outside_weights.get(model.scope, np.nan)
    return out


def assess(tree: IndicatorTree, case: CaseFile, file: str | Path | None = None) -> Assessment:
    """Values of every indicator of the case's scope, as one tidy table."""
    model = compile_case(tree, case, file)
    S = bottom_up(model)
    w = local_weights(model)
    source = {ROOT: "root"}
    for g in model.groups.values():
        source.update(dict.fromkeys(g.children, g.source))
    nodes = tree.nodes.set_index("id").loc[model.ids].reset_index()
    t = nodes[["level", "id", "number", "name", "parent"]].copy()
    t["category"] = [model.categories.get(x) for x in model.ids]
    t["weight"] = [w.get(x, np.nan) for x in model.ids]
    t["weight_source"] = [source.get(x, "given" if x in model.outside_weights else None) for x in model.ids]
    t["score"] = S
    scope_w = 1.0 if model.scope == ROOT else w[model.scope]
    t["value"] = np.where(t["id"] == model.scope, scope_w * S[0], t["weight"] * t["score"])
    gw = {model.scope: 1.0}
    for x in model.ids[1:]:
        gw[x] = gw[tree.row(x)["parent"]] * w[x]
    t["global_weight"] = [gw[x] for x in model.ids]
    return Assessment(model, t, float(S[0]))


def load_case(path: str | Path) -> CaseFile:
    return load(CaseFile, path)


def compare(a: Assessment, b: Assessment, threshold: float = 3.0) -> pd.DataFrame:
    """Indicators of levels 2 to leaf-1 whose values differ by ``threshold`` or more (Table 5).

    One row per indicator: level, id, name, value of each site, difference (first - second).
    """
    leaf = a.model.tree.leaf_level
    ta = a.table[(a.table["level"] > 1) & (a.table["level"] < leaf)]
    tb = b.table[["id", "value"]]
    m = ta[["level", "id", "name", "value"]].merge(tb, on="id", suffixes=("_a", "_b"))
    m = (
        m.rename(columns={"value_a": a.model.case.label, "value_b": b.model.case.label})
        if a.model.case.label != b.model.case.label
        else m
    )
    cols = list(m.columns)
    m["difference"] = m[cols[3]] - m[cols[4]]
    out = m[m["difference"].abs() >= threshold - 1e-12]
    return out.sort_values("level", kind="stable").reset_index(drop=True)


__all__ = [
    "Assessment",
    "GroupWeights",
    "Model",
    "SCALES",
    "assess",
    "bottom_up",
    "compare",
    "compile_case",
    "load_case",
    "local_weights",
]
