"""Plotting: matplotlib's pyplot on the Agg backend, and figures saved as PNG and SVG atomically.

The one home of the two for every plot module (simulation, infra, emergency, reports).
matplotlib is imported on first use: a command that draws nothing does not load it.
"""

from __future__ import annotations

import os
from pathlib import Path


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend."""
    # imported here: matplotlib is slow to import, and only a command that draws needs it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after the backend is chosen (lazy, as above)

    return plt


def save_figure(fig, out: Path, name: str) -> list[Path]:
    """Save ``fig`` as OUT/NAME.png and .svg (each via a temporary file and a rename), close it."""
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{name}.{ext}"
        tmp = out / f".{name}.tmp.{ext}"
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, p)
        paths.append(p)
    pyplot().close(fig)
    return paths
