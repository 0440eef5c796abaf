"""Pydantic schemas of the FAHP input files: matrix files, indicator trees, site cases.

Matrix entries are kept as raw lists here: :func:`resiliopt.fahp.matrix.validate_matrix`
checks them cell by cell so that a message can name the row and column labels. Every model
forbids unknown fields; numbers are finite numbers (not strings or booleans). ``kind`` is
optional in these files (``matrix``, ``tree``, ``site``); ``resiliopt validate`` recognises a
file without it by its fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

Num = Annotated[float, Field(strict=True, allow_inf_nan=False)]

Scale = Literal["0.1-0.9", "0-1"]
Combine = Literal["mean", "geometric"]
Category = Literal["critical", "serious", "moderate", "minor", "negligible"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_READS = {"matrix": "`resiliopt fahp`", "tree": "the tree argument", "site": "the site argument"}


def _same_kind(expected: str, data: Any) -> Any:
    """A file of another FAHP kind is named as such, not as a list of missing fields."""
    got = guess_kind(data)
    if got is not None and got != expected:
        msg = f"this is a {got} file; {_READS[expected]} needs a {expected} file"
        raise PydanticCustomError("input_rule", msg, {"problems": (("kind", msg),)})
    return data


class ExpertMatrix(_Strict):
    name: str | None = None
    matrix: list[Any]


class _MatrixOptions(_Strict):
    scale: Scale = "0.1-0.9"
    tolerance: Num = Field(1e-6, ge=0, le=0.1)
    a: Num | None = Field(None, gt=0, le=1e6)
    combine: Combine = "mean"
    ci_threshold: Num = Field(0.1, ge=0, le=1e6)
    triad_threshold: Num = Field(0.1, ge=0, le=1e6)


class MatrixFile(_MatrixOptions):
    """``resiliopt fahp`` input: criteria and one matrix or several experts' matrices."""

    kind: Literal["matrix"] = "matrix"
    title: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        return _same_kind("matrix", data)

    note: str | None = None
    criteria: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
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
    number: int | None = Field(None, strict=True, ge=1, le=10**6)
    children: list[TreeNode] = Field(default_factory=list)


class TreeFile(_Strict):
    kind: Literal["tree"] = "tree"
    name: str

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        return _same_kind("tree", data)

    source: str | None = None
    root: TreeNode


class ScoreEntry(_Strict):
    score: Num
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
    weights: dict[str, Num] | None = None
    a: Num | None = Field(None, gt=0, le=1e6)
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
    level: int = Field(strict=True, ge=1, le=100)
    aggregate: Num | None = None  # "average of level-6 scores" or "sum of values" row
    weight: Num | None = None
    value: Num | None = None
    note: str | None = None


class Table5Row(_Strict):
    level: int = Field(strict=True, ge=1, le=100)
    name: str
    ids: list[str]  # several when the printed name is ambiguous in the tree
    value: Num
    difference: Num


class Published(_Strict):
    source: str
    system_value: Num | None = None
    table4: list[Table4Row] = Field(default_factory=list)
    table5: list[Table5Row] = Field(default_factory=list)


class CaseFile(_MatrixOptions):
    """One site: level-6 scores and the weights of every group (or of a sub-tree)."""

    kind: Literal["site"] = "site"
    site: str

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        return _same_kind("site", data)

    label: str
    provenance: Literal["paper", "illustrative"]
    note: str | None = None
    scope: str | None = None
    weight_tolerance: Num = Field(0.02, ge=0, le=0.5)
    scores: dict[Annotated[int, Field(ge=1, le=10**6)], Num | ScoreEntry] = Field(min_length=1)
    groups: dict[str, Group] = Field(default_factory=dict)
    published: Published | None = None


#: the FAHP input kinds, for ``resiliopt validate`` and ``resiliopt schema``
SCHEMAS: dict[str, type[BaseModel]] = {"matrix": MatrixFile, "tree": TreeFile, "site": CaseFile}


def guess_kind(raw: Any) -> str | None:
    """The FAHP kind of a parsed file without ``kind``: by its characteristic fields."""
    if not isinstance(raw, dict):
        return None
    if "kind" in raw:
        return raw["kind"] if isinstance(raw["kind"], str) and raw["kind"] in SCHEMAS else None
    if "root" in raw:
        return "tree"
    if "criteria" in raw and ("matrix" in raw or "experts" in raw):
        return "matrix"
    if "scores" in raw or "site" in raw:
        return "site"
    return None
