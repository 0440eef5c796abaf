r"""Fuzzy complementary matrices: validation, the consistent-matrix transform, weights.

The method is the one of Xu et al. (2022), section 3.2.2, after Yang, Su and Song (2019):

.. math::

    r_i = \sum_{k=1}^n R_{ik}, \qquad
    \tilde r_{ij} = \frac{r_i - r_j}{2n} + \frac12, \qquad
    w_i = \frac1n - \frac1{2a} + \frac1{na} \sum_{j=1}^n \tilde r_{ij},

with :math:`a \ge (n-1)/2` (default :math:`a = (n-1)/2`, the most discriminating choice).
For a complementary matrix (:math:`R_{ij} + R_{ji} = 1`, so :math:`\sum_i r_i = n^2/2`)
this collapses to :math:`w_i = \frac1n - \frac1{4a} + \frac{r_i}{2na}`, i.e.
:math:`w_i = (r_i + n/2 - 1) / (n(n-1))` for the default ``a``. The weights sum to 1 for
*any* matrix, so complementarity is checked explicitly by :func:`validate_matrix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from resiliopt.errors import InputError

SCALES: dict[str, tuple[float, float]] = {"0.1-0.9": (0.1, 0.9), "0-1": (0.0, 1.0)}
DEFAULT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class MatrixSpec:
    """Where a matrix came from, for error messages: file, location prefix, labels."""

    labels: Sequence[str]
    file: str | None = None
    where: str = "matrix"


def _cell(spec: MatrixSpec, i: int, j: int) -> str:
    return f"{spec.where}[row {spec.labels[i]!r}, col {spec.labels[j]!r}]"


def validate_matrix(
    matrix: object,
    labels: Sequence[str],
    *,
    scale: str = "0.1-0.9",
    tolerance: float = DEFAULT_TOLERANCE,
    file: str | None = None,
    where: str = "matrix",
) -> np.ndarray:
    r"""Check a fuzzy complementary matrix and return it as a float array.

    Rules, each with its own message naming the cell by row and column label:
    square with one row per criterion; finite numbers; every entry in the scale
    (``[0.1, 0.9]`` by default, ``[0, 1]`` with ``scale="0-1"``) -- the diagonal is exempt;
    :math:`R_{ii} = 0.5`; :math:`R_{ij} + R_{ji} = 1` (all within ``tolerance``).
    """
    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r} (use one of {', '.join(SCALES)})", file, where)
    spec = MatrixSpec(labels, file, where)
    n = len(labels)
    if len(set(labels)) != n:
        dup = next(x for x in labels if list(labels).count(x) > 1)
        raise InputError(f"criterion {dup!r} is listed twice", file, "criteria")
    if not isinstance(matrix, list | tuple | np.ndarray) or len(matrix) != n:
        got = len(matrix) if isinstance(matrix, list | tuple | np.ndarray) else type(matrix).__name__
        raise InputError(
            f"the matrix must have one row per criterion: {n} rows expected, got {got}", file, where
        )
    for i, row in enumerate(matrix):
        if not isinstance(row, list | tuple | np.ndarray) or len(row) != n:
            got = len(row) if isinstance(row, list | tuple | np.ndarray) else 1
            raise InputError(
                f"the matrix is not square: {n} columns expected, got {got}",
                file,
                f"{where}[row {labels[i]!r}]",
            )
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, int | float | np.floating | np.integer):
                raise InputError(f"entry must be a number, got {x!r}", file, _cell(spec, i, j))
            if not abs(x) <= 1e300:  # nan, inf, or an int too big for a float
                raise InputError(f"entry must be a finite number, got {x!r:.40}", file, _cell(spec, i, j))
    R = np.asarray(matrix, dtype=float).reshape(n, n)
    lo, hi = SCALES[scale]
    for i in range(n):
        if abs(R[i, i] - 0.5) > tolerance:
            raise InputError(f"diagonal entry is {R[i, i]:g}; R_ii must be 0.5", file, _cell(spec, i, i))
    for i in range(n):
        for j in range(n):
            if i != j and not (lo - tolerance <= R[i, j] <= hi + tolerance):
                raise InputError(
                    f"entry {R[i, j]:g} is outside the scale [{lo:g}, {hi:g}]"
                    + (" (pass scale '0-1' to allow [0, 1])" if scale == "0.1-0.9" else ""),
                    file,
                    _cell(spec, i, j),
                )
    for i in range(n):
        for j in range(i + 1, n):
            s = R[i, j] + R[j, i]
            if abs(s - 1.0) > tolerance:
                raise InputError(
                    f"not complementary: R_ij + R_ji = {R[i, j]:g} + {R[j, i]:g} = {s:g}, "
                    f"must be 1 (tolerance {tolerance:g})",
                    file,
                    _cell(spec, i, j),
                )
    return R


def consistent_matrix(R: np.ndarray) -> np.ndarray:
    r"""Fuzzy consistent matrix :math:`\tilde r_{ij} = (r_i - r_j)/(2n) + 1/2` (paper eq. 2).

    Works on a stack of matrices (``...``, n, n).
    """
    R = np.asarray(R, dtype=float)
    n = R.shape[-1]
    r = R.sum(axis=-1)
    return (r[..., :, None] - r[..., None, :]) / (2 * n) + 0.5


def default_a(n: int) -> float:
    """The paper's :math:`a = (n-1)/2`."""
    return (n - 1) / 2


def check_a(a: float | None, n: int, file: str | None = None, where: str = "a") -> float:
    """Return ``a`` (default ``(n-1)/2``); ``a < (n-1)/2`` could give negative weights."""
    if a is None or n == 1:
        return default_a(n)
    if not np.isfinite(a) or a < default_a(n) - 1e-12:
        raise InputError(
            f"a = {a:g} is too small for n = {n} criteria: it must be at least (n-1)/2 = "
            f"{default_a(n):g}, or weights can be negative",
            file,
            where,
        )
    return float(a)


def weights(R: np.ndarray, a: float | None = None) -> np.ndarray:
    r"""Weights by eq. (3) of the paper from the consistent matrix; a stack is accepted.

    .. math:: w_i = \frac1n - \frac1{2a} + \frac1{na}\sum_j \tilde r_{ij}

    ``n = 1`` gives the weight 1 (the formula is undefined there: :math:`a = 0`).
    """
    R = np.asarray(R, dtype=float)
    n = R.shape[-1]
    if n == 1:
        return np.ones(R.shape[:-1])
    a = default_a(n) if a is None else a
    C = consistent_matrix(R)
    return 1.0 / n - 1.0 / (2 * a) + C.sum(axis=-1) / (n * a)


def weights_from_rowsums(r: np.ndarray, n: int, a: float | None = None) -> np.ndarray:
    r"""Closed form for a complementary matrix: :math:`w_i = 1/n - 1/(4a) + r_i/(2na)`.

    Vectorised over leading axes of ``r`` (row sums, last axis of length ``n``).
    """
    if n == 1:
        return np.ones_like(np.asarray(r, dtype=float))
    a = default_a(n) if a is None else a
    return 1.0 / n - 1.0 / (4 * a) + np.asarray(r, dtype=float) / (2 * n * a)


def characteristic_matrix(w: np.ndarray, a: float | None = None) -> np.ndarray:
    r"""The additive preference relation the weights stand for: :math:`W_{ij} = 2a(w_i-w_j)+1/2`.

    For an additively consistent input :math:`R_{ij} = 1/2 + u_i - u_j` the weights satisfy
    :math:`w_i - w_j = (u_i - u_j)/(2a)`, so :math:`W = R` exactly; for any complementary input
    :math:`W - 1/2 = 2(\tilde r - 1/2)`: the paper's consistent matrix :math:`\tilde r`
    halves every preference intensity, which is why it is not used as the comparator.
    """
    w = np.asarray(w, dtype=float)
    n = w.shape[-1]
    a = default_a(n) if a is None else a
    return 2 * a * (w[..., :, None] - w[..., None, :]) + 0.5
