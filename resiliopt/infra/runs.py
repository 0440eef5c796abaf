"""``infra served``, ``infra cascade`` and ``infra criticality`` as library calls.

Each function takes the case (a name, a path or an :class:`InfraCase`) and the command's
options, resolves the damage with the one reader and sampler (:mod:`resiliopt.infra.damage`),
runs the analysis, writes the tidy tables and plots under ``out`` (replaced atomically, all or
nothing) and returns a result whose ``to_dict()`` is the command's ``--json``. Nothing here
prints; bad input raises :class:`~resiliopt.errors.InputError` before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._tables import write_tables as _write_tables
from resiliopt.case.infra import KEY, InfraCase, load_infra_case
from resiliopt.case.infra_schema import json_schemas
from resiliopt.errors import InputError
from resiliopt.formulations.infra_flow import FlowResult, InfraFlow
from resiliopt.infra.cascade import CascadeResult, cascade, case_iim, layer_interdependency_matrix
from resiliopt.infra.criticality import (
    NkResult,
    candidate_elements,
    n_minus_1,
    n_minus_k,
    single_points_of_failure,
)
from resiliopt.infra.damage import DamageSource
from resiliopt.infra.plots import criticality_map, dependency_graph

FORMATS = ("parquet", "csv")
OBJECTIVES = ("cost", "served")
CANDIDATES = ("all", "nodes", "links")


def as_case(case: str | Path | InfraCase) -> InfraCase:
    """An :class:`InfraCase` from a bundled name, a directory, a case.yaml, or itself."""
    return case if isinstance(case, InfraCase) else load_infra_case(case)


def check_choice(value: str, allowed: tuple[str, ...], option: str) -> None:
    if value not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)} (got {value!r})", location=option)


def write_tables(directory: Path, tables: dict[str, pd.DataFrame], fmt: str) -> list[str]:
    """Each table as ``directory/<name>.<fmt>`` (parquet or csv, no index); the file names."""
    check_choice(fmt, FORMATS, "--format")
    return _write_tables(directory, tables, fmt)


def elements(failed: pd.DataFrame) -> list[list[str]]:
    """A failed table as ``[[kind, layer, element], ...]`` (for JSON)."""
    return [list(map(str, r)) for r in failed[KEY].itertuples(index=False)]


def _start(command: str, out: Path | None, fmt: str, force: bool) -> None:
    check_choice(fmt, FORMATS, "--format")
    if out is not None:
        check_output_dir(out, command, force)


# --------------------------------------------------------------------------- served
@dataclass
class ServedRun:
    case: InfraCase
    failed: pd.DataFrame
    damage: str
    objective: str
    result: FlowResult

    @property
    def ok(self) -> bool:
        return bool(self.result.certificate.passed and self.result.input_certificate.passed)

    def to_dict(self) -> dict:
        return {
            "case": self.case.name,
            "damage": self.damage,
            "failed": len(self.failed),
            "failed_elements": elements(self.failed),
            **self.result.to_dict(),
        }


def served_run(
    case: str | Path | InfraCase,
    damage: DamageSource = DamageSource(),
    objective: str = "cost",
    weights: str = "share",
    out: Path | None = None,
    fmt: str = "parquet",
    force: bool = False,
) -> ServedRun:
    """Served and unserved demand under damage (the flow LP with repairs fixed), certified;
    ``out``: nodes, links, layers, dependencies and failed tables."""
    check_choice(objective, OBJECTIVES, "--objective")
    _start("infra served", out, fmt, force)
    c = as_case(case)
    failed, what = damage.resolve(c)
    res = InfraFlow(c, objective, weights).solve(failed)
    if out is not None:
        tables = {
            "nodes": res.nodes,
            "links": res.links,
            "layers": res.layers,
            "dependencies": res.dependencies,
            "failed": failed,
        }
        with atomic_directory(out, "infra served", force) as tmp:
            write_tables(tmp, tables, fmt)
    return ServedRun(c, failed, what, objective, res)


# --------------------------------------------------------------------------- cascade
@dataclass
class CascadeRun:
    case: InfraCase
    failed: pd.DataFrame
    damage: str
    result: CascadeResult
    iim: pd.DataFrame  # layer-level bounded IIM beside the flow LP's loss
    matrix: pd.DataFrame  # the layer interdependency matrix A

    @property
    def per_round(self) -> pd.DataFrame:
        """Elements dropped per round, kind and layer."""
        g = self.result.rounds.groupby(["round", "kind", "layer"]).size()
        return g.rename("elements").reset_index()

    def to_dict(self) -> dict:
        return {
            "case": self.case.name,
            "damage": self.damage,
            "failed_elements": elements(self.failed),
            **self.result.to_dict(),
            "per_round": self.per_round.to_dict("records"),
            "iim": self.iim.to_dict("records"),
            "iim_matrix": dict(self.matrix.to_dict("index").items()),
        }


def cascade_run(
    case: str | Path | InfraCase,
    damage: DamageSource = DamageSource(),
    out: Path | None = None,
    fmt: str = "parquet",
    force: bool = False,
) -> CascadeRun:
    """Failures propagated through dependencies per round, and the layer-level IIM; ``out``:
    rounds, final, iim, iim_matrix tables and the dependency graph."""
    _start("infra cascade", out, fmt, force)
    c = as_case(case)
    failed, what = damage.resolve(c)
    run = CascadeRun(
        c, failed, what, cascade(c, failed), case_iim(c, failed), layer_interdependency_matrix(c)
    )
    if out is not None:
        tables = {
            "rounds": run.result.rounds,
            "final": run.result.final,
            "iim": run.iim,
            "iim_matrix": run.matrix.reset_index(),
        }
        with atomic_directory(out, "infra cascade", force) as tmp:
            write_tables(tmp, tables, fmt)
            dependency_graph(c, tmp)
    return run


# --------------------------------------------------------------------------- criticality
@dataclass
class CriticalityRun:
    case: InfraCase
    weights: str
    candidates: str
    top: int
    ranking: pd.DataFrame  # N-1, ranked
    spof: pd.DataFrame
    worst: NkResult | None  # N-k (None: k = 0)

    @property
    def ok(self) -> bool:
        """Every certified N-1 row and the N-k set passed their certificates."""
        return all(v is not False for v in self.ranking["certified"]) and (
            self.worst is None or bool(self.worst.certified)
        )

    def to_dict(self) -> dict:
        return {
            "case": self.case.name,
            "weights": self.weights,
            "candidates": self.candidates,
            "n_minus_1": self.ranking.head(self.top).to_dict("records"),
            "elements": len(self.ranking),
            "spof": self.spof.to_dict("records"),
            "n_minus_k": self.worst.to_dict() if self.worst is not None else None,
        }


def criticality_run(
    case: str | Path | InfraCase,
    k: int = 2,
    candidates: str = "all",
    weights: str = "share",
    top: int = 10,
    time_limit: float | None = None,
    out: Path | None = None,
    fmt: str = "parquet",
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CriticalityRun:
    """N-1 ranking (the first ``top`` rows certified), single points of failure and the worst
    N-``k`` set (k = 0: skipped); ``out``: the tables, the criticality map and the dependency
    graph. ``progress(done, total)`` after each N-1 solve."""
    check_choice(candidates, CANDIDATES, "--candidates")
    _start("infra criticality", out, fmt, force)
    c = as_case(case)
    flow = InfraFlow(c, objective="served", weights=weights)
    total, done = len(candidate_elements(c, candidates)), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    ranking = n_minus_1(c, candidates, weights, progress=tick, flow=flow, certify_top=top)
    spof = single_points_of_failure(c)
    worst = n_minus_k(c, k, candidates, weights, time_limit) if k > 0 else None
    run = CriticalityRun(c, weights, candidates, top, ranking, spof, worst)
    if out is not None:
        tables = {"n_minus_1": ranking, "spof": spof}
        if worst is not None:
            tables["n_minus_k"] = worst.failed.assign(k=worst.k, served=worst.served, loss=worst.loss)
        with atomic_directory(out, "infra criticality", force) as tmp:
            write_tables(tmp, tables, fmt)
            criticality_map(c, ranking, tmp)
            dependency_graph(c, tmp)
    return run


# --------------------------------------------------------------------------- schema
def write_schemas(out: Path | None = None, force: bool = False) -> dict[str, dict]:
    """The JSON Schema of case.yaml and of every table's rows; ``out``: one
    ``<name>.schema.json`` per schema (the folder replaced atomically)."""
    if out is not None:
        check_output_dir(out, "infra schema", force)
    docs = json_schemas()
    if out is not None:
        with atomic_directory(out, "infra schema", force) as tmp:
            for k, d in docs.items():
                (tmp / f"{k}.schema.json").write_text(json.dumps(d, indent=1))
    return docs
