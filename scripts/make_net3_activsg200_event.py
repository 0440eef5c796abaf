"""Make the synthetic emergency event of net3-activsg200 (run from the repository root).

    python scripts/make_net3_activsg200_event.py

The recipe of scripts/make_emergency_event.py (shelby-extended), run in this case's frame:
coordinates are Net3's drawing units, read as km (SYNTHETIC; see the case's SOURCE.md).
Writes data/infra/net3-activsg200/events/synthetic-m7/: event.yaml (roads, depots, damaged
bridges, the generating parameters under ``truth``) and observations.csv; the emergency levels
are the case's (case.yaml, written by scripts/make_net3_activsg200.py).
Everything in it is SYNTHETIC: a point-source ground-motion field, one lognormal fragility for
every element, lognormal repair durations, a made-up 5 x 5 road grid. The observations after
the event are what the ``population`` rule did with those durations (resiliopt.emergency).
"""

from __future__ import annotations

import numpy as np
from make_emergency_event import Recipe, make_event  # (the script's own folder is on sys.path)


def km(x1, y1, x2, y2):
    """Euclidean distance in the case's frame (drawing units read as km)."""
    return np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2)


NET3 = Recipe(
    case="net3-activsg200",
    script="scripts/make_net3_activsg200_event.py",
    levels_from="scripts/make_net3_activsg200.py",
    epicenter=(30.0, 18.0),  # drawing units (synthetic), near the middle of the networks
    pga0=0.45,
    distance=km,
    grid_x=(8.0, 44.86),  # Net3's bounding box
    grid_y=(0.0, 31.06),
)

if __name__ == "__main__":
    make_event(NET3)
