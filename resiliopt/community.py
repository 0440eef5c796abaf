r"""Community functionality F_C (paper 004, section 3.1; docs/community.md).

With :math:`l_i` the unsafe share of sector :math:`i` (residential, business, education,
public) and the symmetric Damage Augmentation Matrix :math:`A = [a_{ij}]`:

.. math::

    L_C(l) = \sum_i a_{ii} l_i + \sum_{i \ne j} a_{ij} l_i l_j, \qquad F_C = 1 - L_C

The paper's equation (1), :math:`I_{1\times4}[DAM]I_{4\times1}`, taken literally gives
:math:`L_C = \sum_i a_{ii} + \dots = 0.35` with no damage at all; its own equation (7) is the
derivative of the form above, which is the reading used here. The gradient with respect to
the functional share :math:`f_i = 1 - l_i` is

.. math::

    \frac{\partial F_C}{\partial f_i} = a_{ii} + \sum_{j \ne i} (a_{ij} + a_{ji})\, l_j .

The quadratic is calibrated for small :math:`l`; for large damage :math:`F_C` can fall below
0. :func:`functionality` clamps to [0, 1] when asked (the bundled case does) and the
gradient is always that of the unclamped form.
"""

from __future__ import annotations

import numpy as np


def loss(l: np.ndarray, dam: np.ndarray) -> np.ndarray:
    """L_C for unsafe shares ``l`` (shape ``(..., 4)``)."""
    l = np.asarray(l, dtype=float)
    diag = np.diag(dam)
    off = dam - np.diag(diag)
    return l @ diag + np.einsum("...i,ij,...j->...", l, off, l)


def functionality(l: np.ndarray, dam: np.ndarray, clamp: bool = True) -> np.ndarray:
    """F_C = 1 - L_C; clamped to [0, 1] when ``clamp``."""
    fc = 1.0 - loss(l, dam)
    return np.clip(fc, 0.0, 1.0) if clamp else fc


def gradient(l: np.ndarray, dam: np.ndarray) -> np.ndarray:
    """dF_C/df_i = a_ii + sum_{j != i} (a_ij + a_ji) l_j  (= -dL_C/dl_i)."""
    l = np.asarray(l, dtype=float)
    diag = np.diag(dam)
    off = dam - np.diag(diag)
    return diag + l @ (off + off.T)


def sector_loss(unsafe: np.ndarray, sector: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Unsafe share of each sector: unsafe buildings per sector over the sector's total.

    ``unsafe`` are unsafe building counts (thousands) of groups whose sector index (0..3) is
    ``sector``; ``totals`` are the sector totals. Shape ``(..., groups)`` -> ``(..., 4)``.
    """
    unsafe = np.asarray(unsafe, dtype=float)
    out = np.zeros(unsafe.shape[:-1] + (4,))
    for i in range(4):
        out[..., i] = unsafe[..., sector == i].sum(axis=-1)
    return out / np.where(totals > 0, totals, 1.0)
