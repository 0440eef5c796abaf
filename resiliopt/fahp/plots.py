"""Charts: values per level (style of the paper's Fig. 2), tornado, Monte Carlo histogram.

Every function writes ``<stem>.png`` and ``<stem>.svg`` into ``out_dir`` and returns the paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    # imported here: matplotlib is slow to import, and only a command that draws needs it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after the backend is chosen (lazy, as above)

    return plt


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    for p in paths:
        fig.savefig(p, dpi=120, bbox_inches="tight")
    return paths


def level_bars(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """One bar chart per level 2..leaf-1: the value of each indicator, one bar per site.

    ``tables`` maps a site label to its assessment table. As in Fig. 2 (c, d), indicators of
    levels 4 and 5 are labelled by their sequential number within the level when there are many.
    """
    plt = _pyplot()
    out_dir = Path(out_dir)
    first = next(iter(tables.values()))
    leaf = int(first["level"].max())
    paths: list[Path] = []
    for level in range(2, leaf):
        sub = first[first["level"] == level]
        if sub.empty:
            continue
        ids = sub["id"].tolist()
        x = np.arange(len(ids))
        width = 0.8 / len(tables)
        fig, ax = plt.subplots(figsize=(max(5, 0.28 * len(ids) * len(tables) + 2), 3.6))
        for k, (label, t) in enumerate(tables.items()):
            v = t.set_index("id").reindex(ids)["value"].to_numpy(dtype=float)
            ax.bar(x + (k - (len(tables) - 1) / 2) * width, v, width, label=label)
        many = len(ids) > 8
        labels = [str(i + 1) for i in range(len(ids))] if many else sub["name"].tolist()
        ax.set_xticks(
            x,
            labels,
            rotation=90 if many else 20,
            ha="center" if many else "right",
            fontsize=7 if many else 9,
        )
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel("resilience value")
        ax.set_title(f"Level {level}" + (" (numbers: order within the level)" if many else ""))
        ax.legend(fontsize=8)
        paths += _save(fig, out_dir, f"level{level}")
        plt.close(fig)
    return paths


def tornado(oat: pd.DataFrame, nominal: float, out_dir: str | Path, top: int = 15) -> list[Path]:
    """Tornado chart of the ``top`` largest swings of :func:`one_at_a_time`."""
    plt = _pyplot()
    d = oat.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(d) + 1.5))
    y = np.arange(len(d))
    lo = d["low"].to_numpy() - nominal
    hi = d["high"].to_numpy() - nominal
    ax.barh(y, lo, left=nominal, color="tab:blue", label="weight - delta")
    ax.barh(y, hi, left=nominal, color="tab:orange", label="weight + delta")
    ax.set_yticks(y, [f"{i} {n}" for i, n in zip(d["id"], d["name"], strict=True)], fontsize=8)
    ax.axvline(nominal, color="black", lw=0.8)
    ax.set_xlabel("system value")
    ax.legend(fontsize=8)
    paths = _save(fig, Path(out_dir), "tornado")
    plt.close(fig)
    return paths


def mc_histogram(samples: dict[str, np.ndarray], out_dir: str | Path) -> list[Path]:
    """Histogram of the Monte Carlo system values, one per site."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, s in samples.items():
        ax.hist(s, bins=60, alpha=0.6, label=label)
    ax.set_xlabel("system value")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    paths = _save(fig, Path(out_dir), "monte_carlo")
    plt.close(fig)
    return paths
