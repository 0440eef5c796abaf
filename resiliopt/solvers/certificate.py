r"""An optimality certificate computed from the model's matrix, not taken from the solver.

For :math:`\max c^\top x` s.t. :math:`r^L \le Ax \le r^U`, :math:`x^L \le x \le x^U`, with row
duals :math:`y` and reduced costs :math:`z` in the shadow-price convention
(:math:`y_i = \partial\,\text{obj} / \partial r_i`, positive when the upper side binds):

* primal infeasibility: the largest violation of a row or a bound,
  relative to :math:`1 + \max(\|r\|_\infty, \|x\|_\infty)` over finite bounds;
* dual infeasibility: :math:`\|c - A^\top y - z\|_\infty` plus any dual of the wrong sign
  (a positive dual on a side that is infinite), relative to :math:`1 + \|c\|_\infty`;
* complementary slackness: the largest :math:`|y_i| \cdot` (distance of row :math:`i` to the
  side its dual prices), same for columns, relative to :math:`1 + |\text{obj}|`;
* gap: :math:`|c^\top x - (\sum_i y_i^+ r^U_i + y_i^- r^L_i + \sum_j z_j^+ x^U_j + z_j^- x^L_j)|`
  relative to :math:`1 + |c^\top x|`.

For a minimization every sign flips (``sense = -1``); the formulas are applied to the
equivalent maximization of :math:`-c^\top x`. A solution passes when all four are at most
``tol`` (1e-7).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from resiliopt.solvers.matrix import LinearProgram

TOL = 1e-7


@dataclass(frozen=True)
class Certificate:
    primal_infeasibility: float
    dual_infeasibility: float
    complementary_slackness: float
    gap: float
    tol: float = TOL

    @property
    def passed(self) -> bool:
        return (
            max(self.primal_infeasibility, self.dual_infeasibility, self.complementary_slackness, self.gap)
            <= self.tol
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _fin(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, 0.0)


def certify(lp: LinearProgram, x: np.ndarray, y: np.ndarray, z: np.ndarray, tol: float = TOL) -> Certificate:
    """Check (x, y, z) against the LP; duals in the shadow-price convention of the model's sense."""
    s = lp.sense
    c, y, z = s * lp.c, s * np.asarray(y, float), s * np.asarray(z, float)  # as a maximization
    ax = lp.matvec(x)
    scale = 1.0 + max(
        np.abs(_fin(np.r_[lp.row_lb, lp.row_ub, lp.col_lb, lp.col_ub])).max(initial=0),
        np.abs(x).max(initial=0),
    )
    viol = np.r_[lp.row_lb - ax, ax - lp.row_ub, lp.col_lb - x, x - lp.col_ub]
    primal = max(0.0, np.nanmax(viol, initial=0.0)) / scale

    resid = np.abs(c - lp.rmatvec(y) - z).max(initial=0.0)
    wrong = np.r_[
        np.where(np.isinf(lp.row_ub), np.maximum(y, 0), 0),
        np.where(np.isinf(lp.row_lb), np.maximum(-y, 0), 0),
        np.where(np.isinf(lp.col_ub), np.maximum(z, 0), 0),
        np.where(np.isinf(lp.col_lb), np.maximum(-z, 0), 0),
    ]
    dual = (resid + wrong.max(initial=0.0)) / (1.0 + np.abs(c).max(initial=0.0))

    obj = float(c @ x)
    row_side = np.where(y > 0, _fin(lp.row_ub) - ax, ax - _fin(lp.row_lb))
    col_side = np.where(z > 0, _fin(lp.col_ub) - x, x - _fin(lp.col_lb))
    comp = max(np.abs(y * row_side).max(initial=0.0), np.abs(z * col_side).max(initial=0.0))
    comp /= 1.0 + abs(obj)

    dual_obj = (
        np.maximum(y, 0) @ _fin(lp.row_ub)
        + np.minimum(y, 0) @ _fin(lp.row_lb)
        + np.maximum(z, 0) @ _fin(lp.col_ub)
        + np.minimum(z, 0) @ _fin(lp.col_lb)
    )
    gap = abs(obj - dual_obj) / (1.0 + abs(obj))
    return Certificate(float(primal), float(dual), float(comp), float(gap), tol)
