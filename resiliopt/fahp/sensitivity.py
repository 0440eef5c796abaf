r"""How sure is the result: Monte Carlo on the judgments, one-at-a-time weight sensitivity.

*Monte Carlo.* Every judgment above the diagonal of every expert's matrix is perturbed,
:math:`R'_{ij} = \mathrm{clip}(R_{ij} + U_{ij},\ \text{scale})` with
:math:`U_{ij} \sim \mathcal U(-\delta, \delta)` independent (default :math:`\delta = 0.1`, one
step of the 0.1-0.9 scale), and :math:`R'_{ji} = 1 - R'_{ij}` keeps the matrix complementary.
Matrices are combined as in the case, weights come from the closed form
:math:`w_i = 1/n - 1/(4a) + r_i/(2na)`, and the system value is recomputed bottom-up; all
samples at once (arrays of shape (samples, experts, n, n)). Groups with given weights (the
paper's cases) have no judgments and stay fixed.

*Order reversal.* For two sites sampled independently,
:math:`P(\text{reversal}) = P(\operatorname{sign}(V_A' - V_B') \ne \operatorname{sign}(V_A - V_B))`.

*One at a time.* Weight :math:`w_k` of group :math:`g` moves by :math:`d` and its siblings are
rescaled by :math:`(1 - w_k - d)/(1 - w_k)` so the group still sums to 1. As :math:`V` is
linear in each group's weights,

.. math::

    \Delta V = G_g \, d \left(S_k - \frac{S_g - w_k S_k}{1 - w_k}\right),

with :math:`G_g` the product of the weights from the scope root down to and including
:math:`g`, :math:`S_k` the score of child :math:`k` and :math:`S_g = \sum_j w_j S_j`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.fahp.assess import Assessment, bottom_up
from resiliopt.fahp.experts import combine
from resiliopt.fahp.matrix import SCALES, weights_from_rowsums


@dataclass(frozen=True)
class MonteCarlo:
    label: str
    nominal: float
    samples: np.ndarray  # system (or scope) value per sample
    delta: float
    perturbed_groups: int
    fixed_groups: int

    def summary(self) -> dict:
        s = self.samples
        q = np.percentile(s, [2.5, 5, 50, 95, 97.5])
        return {
            "site": self.label,
            "nominal": self.nominal,
            "samples": int(s.size),
            "delta": self.delta,
            "mean": float(s.mean()),
            "std": float(s.std(ddof=1)) if s.size > 1 else 0.0,
            "p2_5": float(q[0]),
            "p5": float(q[1]),
            "median": float(q[2]),
            "p95": float(q[3]),
            "p97_5": float(q[4]),
            "min": float(s.min()),
            "max": float(s.max()),
            "perturbed_groups": self.perturbed_groups,
            "fixed_groups": self.fixed_groups,
        }


def perturb_matrices(
    stack: np.ndarray, samples: int, delta: float, scale: str, rng: np.random.Generator
) -> np.ndarray:
    """(E, n, n) -> (samples, E, n, n), upper triangle perturbed, complement below."""
    E, n, _ = stack.shape
    lo, hi = SCALES[scale]
    iu = np.triu_indices(n, 1)
    up = stack[:, iu[0], iu[1]]  # (E, m)
    noise = rng.uniform(-delta, delta, size=(samples, E, up.shape[-1]))
    newup = np.clip(up[None] + noise, lo, hi)
    out = np.full((samples, E, n, n), 0.5)
    out[..., iu[0], iu[1]] = newup
    out[..., iu[1], iu[0]] = 1.0 - newup
    return out


def monte_carlo(
    assessment: Assessment, samples: int = 10_000, delta: float = 0.1, seed: int = 0
) -> MonteCarlo:
    """Distribution of the system (or scope) value when every judgment moves within +-delta."""
    model = assessment.model
    rng = np.random.default_rng(seed)
    sampled: dict[str, np.ndarray] = {}
    fixed = 0
    for pid, g in model.groups.items():
        if g.source == "given":
            fixed += 1
        if g.source != "fahp" or len(g.children) < 2:
            continue
        P = perturb_matrices(g.matrices, samples, delta, model.case.scale, rng)
        R = combine(P, model.case.combine) if P.shape[1] > 1 else P[:, 0]
        n = len(g.children)
        w_rows = weights_from_rowsums(R.sum(axis=-1), n, g.fahp.a)
        w = np.empty_like(w_rows)
        w[:, g.order] = w_rows
        sampled[pid] = w
    S = (
        bottom_up(model, sampled)
        if sampled
        else np.broadcast_to(assessment.table["score"].to_numpy(), (samples, len(model.ids)))
    )
    return MonteCarlo(
        model.case.label, assessment.scope_value, np.array(S[..., 0]), delta, len(sampled), fixed
    )


def reversal_probability(a: MonteCarlo, b: MonteCarlo) -> float:
    """Probability that the order of the two sites differs from the nominal order."""
    nominal = np.sign(a.nominal - b.nominal)
    k = min(a.samples.size, b.samples.size)
    return float(np.mean(np.sign(a.samples[:k] - b.samples[:k]) != nominal))


def one_at_a_time(assessment: Assessment, delta: float = 0.1) -> pd.DataFrame:
    """System value when each weight moves by -delta and +delta (siblings rescaled).

    One row per weighted indicator: level, id, name, parent, weight, low, high, swing
    (high - low), sorted by decreasing |swing|. ``low``/``high`` are system values.
    """
    model = assessment.model
    t = assessment.table.set_index("id")
    V = assessment.scope_value
    rows = []
    for pid, g in model.groups.items():
        if g.source == "mean" or len(g.children) < 2:
            continue
        G = t.at[pid, "global_weight"]
        Sg = t.at[pid, "score"]
        for c, w in zip(g.children, g.weights, strict=True):
            Sk = t.at[c, "score"]
            if w >= 1:
                continue
            slope = G * (Sk - (Sg - w * Sk) / (1 - w))
            d_lo, d_hi = max(-delta, -w), min(delta, 1 - w)
            rows.append(
                {
                    "level": int(t.at[c, "level"]),
                    "id": c,
                    "name": t.at[c, "name"],
                    "parent": pid,
                    "weight": float(w),
                    "low": V + slope * d_lo,
                    "high": V + slope * d_hi,
                }
            )
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["swing"] = df["high"] - df["low"]
    return df.reindex(df["swing"].abs().sort_values(ascending=False).index).reset_index(drop=True)
