"""Pydantic schemas of the FAHP input files: matrix files, indicator trees, site cases.

Matrix entries are kept as raw lists here: :func:`resiliopt.fahp.matrix.validate_matrix`
checks them cell by cell so that a message can name the row and column labels.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scale = Literal["0.1-0.9", "0-1"]
Combine = Literal["mean", "geometric"]
Category = Literal["critical", "serious", "moderate", "minor", "negligible"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpertMatrix(_Strict):
    name: str | None = None
    matrix: list[Any]


class _MatrixOptions(_Strict):
    scale: Scale = "0.1-0.9"
    tolerance: float = Field(1e-6, ge=0, le=0.1)
    a: float | None = None
    combine: Combine = "mean"
    ci_threshold: float = Field(0.1, ge=0)
    triad_threshold: float = Field(0.1, ge=0)


class MatrixFile(_MatrixOptions):
    """``resiliopt fahp`` input: criteria and one matrix or several experts' matrices."""

    title: str | None = None
    note: str | None = None
    criteria: list[str] = Field(min_length=1)
    matrix: list[Any] | None = None
    experts: list[ExpertMatrix | list[Any]] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> MatrixFile:
        if (self.matrix is None) == (self.experts is None):
            raise ValueError("give exactly one of 'matrix' and 'experts'")
        if self.experts is not None and not self.experts:
            raise ValueError("'experts' is empty")
        return self


class TreeNode(_Strict):
    name: str = Field(min_length=1)
    number: int | None = None
    children: list[TreeNode] = Field(default_factory=list)


class TreeFile(_Strict):
    name: str
    source: str | None = None
    root: TreeNode


class ScoreEntry(_Strict):
    score: float
    category: Category | None = None
    sign: Literal["positive", "negative"] | None = None
    note: str | None = None


class Group(_Strict):
    """Weights of the children of one indicator: experts' matrices, one matrix, or weights.

    ``criteria`` lists the children (ids or names) in the order of the matrix rows; it
    defaults to the tree's order. ``weights`` maps child id or name to a weight.
    """

    criteria: list[str] | None = None
    matrix: list[Any] | None = None
    experts: list[ExpertMatrix | list[Any]] | None = None
    weights: dict[str, float] | None = None
    a: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Group:
        given = [x is not None for x in (self.matrix, self.experts, self.weights)]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'matrix', 'experts' and 'weights'")
        return self


class Table4Row(_Strict):
    id: str
    name: str
    level: int
    aggregate: float | None = None  # "average of level-6 scores" or "sum of values" row
    weight: float | None = None
    value: float | None = None
    note: str | None = None


class Table5Row(_Strict):
    level: int
    name: str
    ids: list[str]  # several when the printed name is ambiguous in the tree
    value: float
    difference: float


class Published(_Strict):
    source: str
    system_value: float | None = None
    table4: list[Table4Row] = Field(default_factory=list)
    table5: list[Table5Row] = Field(default_factory=list)


class CaseFile(_MatrixOptions):
    """One site: level-6 scores and the weights of every group (or of a sub-tree)."""

    site: str
    label: str
    provenance: Literal["paper", "illustrative"]
    note: str | None = None
    scope: str | None = None
    weight_tolerance: float = Field(0.02, ge=0, le=0.5)
    scores: dict[int, float | ScoreEntry]
    groups: dict[str, Group] = Field(default_factory=dict)
    published: Published | None = None
