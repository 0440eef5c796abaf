r"""Consistency diagnostics of a fuzzy complementary matrix.

*Triad index* (additive transitivity). A fuzzy complementary matrix is additively consistent
when :math:`R_{ij} + R_{jk} + R_{ki} = 3/2` for every triad (Tanino 1984). The triad
deviation is :math:`d_{ijk} = R_{ij} + R_{jk} + R_{ki} - 3/2`; we report the mean and the
maximum of :math:`|d_{ijk}|` over the :math:`\binom n3` triads :math:`i<j<k` (0 for a
perfectly consistent matrix, no triads for :math:`n \le 2`).

*Compatibility index* between the input and the weights. The weights stand for the additive
preference relation :math:`W_{ij} = 2a(w_i - w_j) + 1/2`, which equals the input exactly when
the input is additively consistent (:math:`R_{ij} = 1/2 + u_i - u_j`), and

.. math:: CI(R, W) = \frac1{n^2} \sum_{i,j} |R_{ij} - W_{ij}|,

the mean absolute change an expert's judgments would need to agree with the weights exactly
(after Xu 2004 on the compatibility of fuzzy preference relations). Either index above its
threshold gives a *warning*, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from resiliopt.fahp.matrix import characteristic_matrix

DEFAULT_CI_THRESHOLD = 0.1
DEFAULT_TRIAD_THRESHOLD = 0.1


@dataclass(frozen=True)
class Diagnostics:
    """Consistency of one matrix with its weights."""

    triad_index_mean: float
    triad_index_max: float
    worst_triad: tuple[str, str, str] | None
    compatibility_index: float
    ci_threshold: float
    triad_threshold: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "triad_index_mean": self.triad_index_mean,
            "triad_index_max": self.triad_index_max,
            "worst_triad": list(self.worst_triad) if self.worst_triad else None,
            "compatibility_index": self.compatibility_index,
            "ci_threshold": self.ci_threshold,
            "triad_threshold": self.triad_threshold,
            "warnings": list(self.warnings),
        }


def triad_deviations(R: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    r""":math:`d_{ijk} = R_{ij} + R_{jk} + R_{ki} - 3/2` for every triad :math:`i<j<k`."""
    n = R.shape[0]
    triads = list(combinations(range(n), 3))
    if not triads:
        return np.zeros(0), []
    i, j, k = (np.array(t) for t in zip(*triads, strict=True))
    return R[i, j] + R[j, k] + R[k, i] - 1.5, triads


def compatibility_index(R: np.ndarray, w: np.ndarray, a: float | None = None) -> float:
    r""":math:`CI = n^{-2}\sum_{ij}|R_{ij} - (2a(w_i - w_j) + 1/2)|`."""
    n = R.shape[0]
    return float(np.abs(R - characteristic_matrix(w, a)).sum() / n**2)


def diagnose(
    R: np.ndarray,
    w: np.ndarray,
    labels: Sequence[str],
    a: float | None = None,
    ci_threshold: float = DEFAULT_CI_THRESHOLD,
    triad_threshold: float = DEFAULT_TRIAD_THRESHOLD,
    who: str = "",
) -> Diagnostics:
    """Both indices and the warnings they trigger."""
    d, triads = triad_deviations(R)
    if len(d):
        absd = np.abs(d)
        worst = triads[int(absd.argmax())]
        t_mean, t_max = float(absd.mean()), float(absd.max())
        worst_l = tuple(labels[x] for x in worst)
    else:
        t_mean = t_max = 0.0
        worst_l = None
    ci = compatibility_index(R, w, a) if R.shape[0] > 1 else 0.0
    prefix = f"{who}: " if who else ""
    warnings = []
    if ci > ci_threshold + 1e-9:
        warnings.append(
            f"{prefix}compatibility index {ci:.3f} exceeds {ci_threshold:g}: the weights "
            "represent these judgments poorly"
        )
    if t_mean > triad_threshold + 1e-9:
        warnings.append(
            f"{prefix}triad index {t_mean:.3f} exceeds {triad_threshold:g}: judgments are not "
            f"additively transitive (worst triad {', '.join(worst_l)}: |d| = {t_max:.2f})"
        )
    return Diagnostics(t_mean, t_max, worst_l, ci, ci_threshold, triad_threshold, warnings)
