r"""Paired comparison of policies over events: means, differences, bootstrap intervals, win rates.

For a policy :math:`p`, a reference :math:`c` (the closed loop) and the unserved areas
:math:`U_{p,e}` of events :math:`e = 1..n` (one layer, or ``all``: the mean over layers),
the paired differences are :math:`d_e = U_{p,e} - U_{c,e}` (negative: :math:`p` leaves less
unserved, it *beats* the closed loop) and

* ``diff_vs_closed`` :math:`= \bar d`;
* ``ci_low``, ``ci_high``: the percentile bootstrap interval of :math:`\bar d`: :math:`B`
  resamples of the :math:`n` events with replacement (the same resamples for every policy and
  layer, from ``SeedSequence([seed, 0xB007])``), the :math:`\alpha/2` and :math:`1 - \alpha/2`
  quantiles of the resampled means (:math:`\alpha` = 0.05; numpy's linear quantile);
* ``win_rate`` :math:`= \#\{e: d_e < -\epsilon\}/n`, ``loss_rate`` :math:`= \#\{e: d_e > \epsilon\}/n`,
  ``tie_rate`` the rest (:math:`\epsilon` = 1e-9: equal areas are ties, not wins).

The same with the oracle as reference gives ``diff_vs_oracle`` and its interval: how far a
policy is from the policy that knows the true durations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TIE = 1e-9
BOOT_STREAM = 0xB007


def bootstrap_indices(n: int, b: int, seed: int) -> np.ndarray:
    """``b`` resamples of ``range(n)`` with replacement (a ``b x n`` array)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), BOOT_STREAM]))
    return rng.integers(0, n, size=(b, n))


def bootstrap_ci(
    d: np.ndarray, b: int = 2000, seed: int = 0, level: float = 0.95, idx: np.ndarray | None = None
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``d`` (module docstring)."""
    d = np.asarray(d, float)
    if len(d) == 0:
        return float("nan"), float("nan")
    idx = bootstrap_indices(len(d), b, seed) if idx is None else idx
    means = np.empty(idx.shape[0])
    step = max(1, 2_000_000 // max(1, len(d)))  # bounded memory: blocks of resamples
    for a in range(0, idx.shape[0], step):
        means[a : a + step] = d[idx[a : a + step]].mean(axis=1)
    alpha = 1.0 - level
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def rates(d: np.ndarray, tie: float = TIE) -> tuple[float, float, float]:
    """``(win, tie, loss)`` shares of paired differences (win: ``d < -tie``)."""
    d = np.asarray(d, float)
    n = max(1, len(d))
    win, loss = float((d < -tie).sum() / n), float((d > tie).sum() / n)
    return win, 1.0 - win - loss, loss


def compare(
    runs: pd.DataFrame,
    reference: str = "closed",
    b: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    oracle: str = "oracle",
) -> pd.DataFrame:
    """One row per (policy, layer) of ``runs`` (event, policy, layer, unserved_area): n_events,
    mean, sd, diff_vs_closed with its interval, win/tie/loss rates, the same against the oracle
    (where it ran), the bootstrap's B and confidence level."""
    wide = runs.pivot_table(
        index=["layer", "event"], columns="policy", values="unserved_area", aggfunc="first"
    )
    policies = list(dict.fromkeys(runs["policy"]))
    rows = []
    for layer in list(dict.fromkeys(runs["layer"])):
        w = wide.loc[layer].dropna()
        idx = bootstrap_indices(len(w), b, seed) if len(w) else np.zeros((b, 0), int)
        for p in policies:
            u = w[p].to_numpy(float)
            row = {
                "policy": p,
                "layer": layer,
                "n_events": len(u),
                "mean": float(u.mean()) if len(u) else np.nan,
                "sd": float(u.std(ddof=1)) if len(u) > 1 else np.nan,
            }
            for ref, name in ((reference, "closed"), (oracle, "oracle")):
                if ref not in w:
                    continue
                d = u - w[ref].to_numpy(float)
                lo, hi = bootstrap_ci(d, b, seed, level, idx)
                win, tie, loss = rates(d)
                row.update(
                    {
                        f"diff_vs_{name}": float(d.mean()) if len(d) else np.nan,
                        **({"ci_low": lo, "ci_high": hi} if name == "closed" else {}),
                        **({"oracle_ci_low": lo, "oracle_ci_high": hi} if name == "oracle" else {}),
                        **(
                            {"win_rate": win, "tie_rate": tie, "loss_rate": loss}
                            if name == "closed"
                            else {"beats_oracle_rate": win}
                        ),
                    }
                )
            row.update({"bootstrap": b, "confidence": level})
            rows.append(row)
    return pd.DataFrame(rows)
