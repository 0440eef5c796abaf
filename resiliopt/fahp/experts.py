r"""Several experts: combining their matrices, one weight vector, their disagreement.

Combination of the experts' matrices :math:`R^{(1)},\dots,R^{(E)}`:

* ``mean`` (default): :math:`\bar R_{ij} = \frac1E\sum_e R^{(e)}_{ij}`; complementary and
  with weights equal to the mean of the experts' weights (the weight formula is affine in R).
* ``geometric``: :math:`g_{ij} = (\prod_e R^{(e)}_{ij})^{1/E}`, renormalised to
  :math:`\bar R_{ij} = g_{ij} / (g_{ij} + g_{ji})` so the result is complementary again
  (:math:`\bar R_{ij} = 1/2` in the degenerate case :math:`g_{ij} = g_{ji} = 0`).

Disagreement: each expert's mean absolute deviation from the combined matrix over the
off-diagonal cells, and per criterion the spread (max - min) of the experts' own weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from resiliopt.errors import InputError
from resiliopt.fahp.consistency import (
    DEFAULT_CI_THRESHOLD,
    DEFAULT_TRIAD_THRESHOLD,
    Diagnostics,
    diagnose,
)
from resiliopt.fahp.matrix import (
    DEFAULT_TOLERANCE,
    check_a,
    consistent_matrix,
    validate_matrix,
    weights,
)

COMBINE_METHODS = ("mean", "geometric")


def combine(matrices: np.ndarray, method: str = "mean") -> np.ndarray:
    """Combine a stack (..., E, n, n) of complementary matrices into one (..., n, n)."""
    M = np.asarray(matrices, dtype=float)
    if method == "mean":
        return M.mean(axis=-3)
    if method == "geometric":
        with np.errstate(divide="ignore"):
            g = np.exp(np.log(M).mean(axis=-3))
        gt = np.swapaxes(g, -1, -2)
        s = g + gt
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(s > 0, g / np.where(s > 0, s, 1.0), 0.5)
        return out
    raise InputError(f"unknown combination method {method!r} (use mean or geometric)")


@dataclass(frozen=True)
class ExpertResult:
    name: str
    matrix: np.ndarray
    weights: np.ndarray
    diagnostics: Diagnostics
    deviation: float  # mean |R_e - R_combined| off the diagonal


@dataclass(frozen=True)
class FahpResult:
    """Weights of one group of criteria, with everything needed to audit them."""

    criteria: list[str]
    matrix: np.ndarray  # combined input
    consistent: np.ndarray
    weights: np.ndarray
    a: float
    combine: str
    diagnostics: Diagnostics
    experts: list[ExpertResult] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        out = list(self.diagnostics.warnings)
        for e in self.experts:
            out += e.diagnostics.warnings
        return out

    def weight_spread(self) -> np.ndarray:
        """Per criterion: max - min of the experts' own weights (0 for one expert)."""
        if len(self.experts) < 2:
            return np.zeros(len(self.criteria))
        W = np.array([e.weights for e in self.experts])
        return W.max(axis=0) - W.min(axis=0)

    def to_dict(self) -> dict:
        d = {
            "criteria": self.criteria,
            "weights": dict(zip(self.criteria, map(float, self.weights), strict=True)),
            "a": self.a,
            "combine": self.combine,
            "matrix": self.matrix.tolist(),
            "consistent_matrix": self.consistent.tolist(),
            "diagnostics": self.diagnostics.to_dict(),
        }
        if len(self.experts) > 1:
            spread = self.weight_spread()
            d["experts"] = [
                {
                    "name": e.name,
                    "weights": dict(zip(self.criteria, map(float, e.weights), strict=True)),
                    "deviation_from_combined": e.deviation,
                    "diagnostics": e.diagnostics.to_dict(),
                }
                for e in self.experts
            ]
            d["disagreement"] = {
                "mean_deviation": float(np.mean([e.deviation for e in self.experts])),
                "max_deviation": float(max(e.deviation for e in self.experts)),
                "weight_spread": dict(zip(self.criteria, map(float, spread), strict=True)),
            }
        return d


def analyse(
    criteria: Sequence[str],
    matrices: Sequence[object],
    *,
    names: Sequence[str] | None = None,
    a: float | None = None,
    method: str = "mean",
    scale: str = "0.1-0.9",
    tolerance: float = DEFAULT_TOLERANCE,
    ci_threshold: float = DEFAULT_CI_THRESHOLD,
    triad_threshold: float = DEFAULT_TRIAD_THRESHOLD,
    file: str | None = None,
    where: str = "",
) -> FahpResult:
    """Validate each expert's matrix, combine them, weigh, diagnose.

    ``where`` prefixes error locations (e.g. ``groups['1.1']``); with one matrix the location
    is ``<where>.matrix``, with several ``<where>.experts[e].matrix``.
    """
    criteria = [str(c) for c in criteria]
    if method not in COMBINE_METHODS:
        raise InputError(f"unknown combination method {method!r} (use mean or geometric)", file, "combine")
    if not matrices:
        raise InputError("no matrix given", file, where or None)
    n = len(criteria)
    a = check_a(a, n, file, f"{where}.a" if where else "a")
    names = list(names) if names else [f"expert {e + 1}" for e in range(len(matrices))]
    pre = f"{where}." if where else ""
    locs = (
        [f"{pre}matrix"]
        if len(matrices) == 1
        else [f"{pre}experts[{e}].matrix" for e in range(len(matrices))]
    )
    Rs = [
        validate_matrix(m, criteria, scale=scale, tolerance=tolerance, file=file, where=loc)
        for m, loc in zip(matrices, locs, strict=True)
    ]
    stack = np.array(Rs)
    R = combine(stack, method) if len(Rs) > 1 else Rs[0]
    w = weights(R, a)
    diag = diagnose(
        R,
        w,
        criteria,
        a,
        ci_threshold,
        triad_threshold,
        who=(where or "matrix") + (" (combined)" if len(Rs) > 1 else ""),
    )
    experts = []
    if len(Rs) > 1:
        off = ~np.eye(n, dtype=bool)
        for nm, Re in zip(names, Rs, strict=True):
            we = weights(Re, a)
            de = diagnose(Re, we, criteria, a, ci_threshold, triad_threshold, who=f"{pre}{nm}")
            dev = float(np.abs(Re - R)[off].mean()) if n > 1 else 0.0
            experts.append(ExpertResult(nm, Re, we, de, dev))
    return FahpResult(criteria, R, consistent_matrix(R), w, a, method, diag, experts)
