"""Make the bundled synthetic emergency event of shelby-extended (run from the repository root).

    python scripts/make_emergency_event.py

Writes data/infra/shelby-extended/events/synthetic-m7/: event.yaml (roads, depots, damaged
bridges, the generating parameters under ``truth``) and observations.csv; the emergency levels
are the case's (case.yaml, written by scripts/convert_shelby_extended.py).
Everything in it is SYNTHETIC: a point-source ground-motion field, one lognormal fragility for
every element, lognormal repair durations, a made-up 5 x 5 road grid. The observations after
the event are what the ``population`` rule did with those durations (resiliopt.emergency).

The recipe is :func:`make_event` of a :class:`Recipe`; scripts/make_net3_activsg200_event.py
runs it for the net3-activsg200 case in that case's frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from resiliopt.case.infra import KEY
from resiliopt.emergency.event import RoadAccess, Roads, event_config
from resiliopt.emergency.response import element_sites, run_loop
from resiliopt.infra import load_infra_case

SEED = 20261201
R0, SIGMA_GM = 10.0, 0.35  # ln PGA = ln PGA0 - ln((R + R0) / R0) + SIGMA_GM eps
FRAGILITY = {"median": 0.6, "beta": 0.5}  # g; every element
REPAIR = {"median": 2.0, "dispersion": 0.5}  # periods
PERIODS = 20


def km(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


@dataclass(frozen=True)
class Recipe:
    """What differs between the cases' events: the case, its frame and the scripts named."""

    case: str
    script: str  # the script that runs this recipe (named in the files written)
    levels_from: str  # the script that wrote the case's emergency levels
    epicenter: tuple[float, float]  # in the case's frame (synthetic)
    pga0: float  # g at the epicentre
    distance: Callable  # km between (x1, y1) and (x2, y2) of the case's frame
    grid_x: tuple[float, float]  # the road grid's extent
    grid_y: tuple[float, float]

    @property
    def out(self) -> Path:
        return Path(f"data/infra/{self.case}/events/synthetic-m7")


SHELBY = Recipe(
    case="shelby-extended",
    script="scripts/make_emergency_event.py",
    levels_from="scripts/convert_shelby_extended.py",
    epicenter=(-90.05, 35.12),  # lon, lat (synthetic)
    pga0=0.9,
    distance=km,
    grid_x=(-90.16, -89.63),
    grid_y=(34.99, 35.40),
)


def roads(recipe: Recipe) -> dict:
    xs = np.linspace(*recipe.grid_x, 5)
    ys = np.linspace(*recipe.grid_y, 5)
    nodes = [
        {"id": f"r{i}_{j}", "x": round(float(xs[j]), 4), "y": round(float(ys[i]), 4)}
        for i in range(5)
        for j in range(5)
    ]
    links = []
    for i in range(5):
        for j in range(5):
            if j < 4:
                links.append({"id": f"h{i}_{j}", "from": f"r{i}_{j}", "to": f"r{i}_{j + 1}"})
            if i < 4:
                # the row 2 -> 3 crossings stand for river bridges (synthetic)
                links.append(
                    {"id": f"v{i}_{j}", "from": f"r{i}_{j}", "to": f"r{i + 1}_{j}", "bridge": i == 2}
                )
    return {
        "speed_kmh": 40,
        "depots": ["r0_4", "r4_0"],
        "nodes": nodes,
        "links": links,
        "damaged_bridges": [{"link": "v2_0", "repaired_period": 3}, {"link": "v2_1", "repaired_period": 6}],
    }


def make_event(recipe: Recipe) -> None:
    """Draw the event of ``recipe`` and write event.yaml and observations.csv."""
    case = load_infra_case(recipe.case)
    rng = np.random.default_rng(SEED)
    sites = element_sites(case)
    r = recipe.distance(sites["x"].to_numpy(), sites["y"].to_numpy(), *recipe.epicenter)
    pga = recipe.pga0 * (R0 / (r + R0)) * np.exp(SIGMA_GM * rng.standard_normal(len(sites)))
    p = 0.5 * (
        1 + np.vectorize(math.erf)(np.log(pga / FRAGILITY["median"]) / FRAGILITY["beta"] / math.sqrt(2))
    )
    damaged = rng.random(len(sites)) < p
    keys = [tuple(k) for k in sites.index]
    status0 = np.where(damaged, "down", "up").astype(object)
    node = np.array([k[0] == "node" for k in keys])
    status0[damaged & node & (rng.random(len(sites)) < 0.25)] = "degraded"
    tau = pd.Series(
        np.where(
            damaged, REPAIR["median"] * np.exp(REPAIR["dispersion"] * rng.standard_normal(len(sites))), 0.0
        ),
        index=sites.index,
    )
    cfg = event_config(case, None)  # the levels of the case (recipe.levels_from)
    road_spec = roads(recipe)
    dmg = pd.DataFrame([k for k, d in zip(keys, damaged, strict=True) if d], columns=KEY)
    res = run_loop(
        case,
        cfg,
        dmg,
        "population",
        roads=RoadAccess.build(Roads(**road_spec)),
        durations=tau,
        max_periods=PERIODS - 1,
        seed=SEED,
    )
    work = res.dispatch[res.dispatch["action"] == "repair"].set_index(KEY)
    starts, ends = work["start"], work["end"]
    rows = []
    for t in range(PERIODS):
        for k, s, a in zip(keys, status0, pga, strict=True):
            if s == "up" and t > 0:
                continue
            start, end = starts.get(k), ends.get(k)
            if s != "up" and end is not None and end <= t:
                now = "up"
            elif s != "up" and start is not None and start <= t:
                now = "repairing"
            else:
                now = s
            rows.append((t, *k, now, round(float(a), 4) if t == 0 else None))
    obs = pd.DataFrame(rows, columns=["time", *KEY, "status", "pga"])
    out = recipe.out
    out.mkdir(parents=True, exist_ok=True)
    obs.to_csv(out / "observations.csv", index=False)
    event = {
        "kind": "emergency_event",
        "synthetic": True,
        "description": (
            f"SYNTHETIC magnitude-7-like event for {recipe.case}, made by {recipe.script}: "
            "point-source ground motion, one lognormal fragility, lognormal repair durations, a made-up "
            "5 x 5 road grid with two closed bridges; the observations after the event follow the "
            "population rule. Not a real earthquake."
        ),
        "observations": "observations.csv",
        "period_hours": 24,
        "truth": {
            "seed": SEED,
            "epicenter": list(recipe.epicenter),
            "ground_motion": {"pga0_g": recipe.pga0, "r0_km": R0, "sigma_ln": SIGMA_GM},
            "fragility": FRAGILITY,
            "repair": REPAIR,
        },
        "roads": road_spec,
    }
    (out / "event.yaml").write_text(
        f"# Generated by {recipe.script}; SYNTHETIC.\n" + yaml.safe_dump(event, sort_keys=False, width=100)
    )
    print(f"{int(damaged.sum())} damaged of {len(keys)}; {len(obs)} observation rows -> {out}")


def main() -> None:
    make_event(SHELBY)


if __name__ == "__main__":
    main()
