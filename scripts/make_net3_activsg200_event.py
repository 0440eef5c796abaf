"""Make the synthetic emergency event of net3-activsg200 (run from the repository root).

    python scripts/make_net3_activsg200_event.py

The same recipe as scripts/make_emergency_event.py (shelby-extended), in this case's frame:
coordinates are Net3's drawing units, read as km (SYNTHETIC; see the case's SOURCE.md).
Writes data/infra/net3-activsg200/events/synthetic-m7/: event.yaml (roads, depots, damaged
bridges, the generating parameters under ``truth``) and observations.csv; the emergency levels
are the case's (case.yaml, written by scripts/make_net3_activsg200.py).
Everything in it is SYNTHETIC: a point-source ground-motion field, one lognormal fragility for
every element, lognormal repair durations, a made-up 5 x 5 road grid. The observations after
the event are what the ``population`` rule did with those durations (resiliopt.emergency).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from resiliopt.case.infra import KEY
from resiliopt.emergency.event import RoadAccess, Roads, event_config
from resiliopt.emergency.response import element_sites, run_loop
from resiliopt.infra import load_infra_case

OUT = Path("data/infra/net3-activsg200/events/synthetic-m7")
SEED = 20261201
EPICENTER = (30.0, 18.0)  # drawing units (synthetic), near the middle of the networks
PGA0, R0, SIGMA_GM = 0.45, 10.0, 0.35  # ln PGA = ln PGA0 - ln((R + R0) / R0) + SIGMA_GM eps
FRAGILITY = {"median": 0.6, "beta": 0.5}  # g; every element
REPAIR = {"median": 2.0, "dispersion": 0.5}  # periods
PERIODS = 20


def km(x1, y1, x2, y2):
    """Euclidean distance in the case's frame (drawing units read as km)."""
    return np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2)


def roads() -> dict:
    xs = np.linspace(8.0, 44.86, 5)  # Net3's bounding box
    ys = np.linspace(0.0, 31.06, 5)
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


def main() -> None:
    case = load_infra_case("net3-activsg200")
    rng = np.random.default_rng(SEED)
    sites = element_sites(case)
    r = km(sites["x"].to_numpy(), sites["y"].to_numpy(), *EPICENTER)
    pga = PGA0 * (R0 / (r + R0)) * np.exp(SIGMA_GM * rng.standard_normal(len(sites)))
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
    cfg = event_config(case, None)  # the levels of the case (scripts/make_net3_activsg200.py)
    road_spec = roads()
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
    OUT.mkdir(parents=True, exist_ok=True)
    obs.to_csv(OUT / "observations.csv", index=False)
    event = {
        "kind": "emergency_event",
        "synthetic": True,
        "description": (
            "SYNTHETIC magnitude-7-like event for net3-activsg200, made by "
            "scripts/make_net3_activsg200_event.py: "
            "point-source ground motion, one lognormal fragility, lognormal repair durations, a made-up "
            "5 x 5 road grid with two closed bridges; the observations after the event follow the "
            "population rule. Not a real earthquake."
        ),
        "observations": "observations.csv",
        "period_hours": 24,
        "truth": {
            "seed": SEED,
            "epicenter": list(EPICENTER),
            "ground_motion": {"pga0_g": PGA0, "r0_km": R0, "sigma_ln": SIGMA_GM},
            "fragility": FRAGILITY,
            "repair": REPAIR,
        },
        "roads": road_spec,
    }
    (OUT / "event.yaml").write_text(
        "# Generated by scripts/make_net3_activsg200_event.py; SYNTHETIC.\n"
        + yaml.safe_dump(event, sort_keys=False, width=100)
    )
    print(f"{int(damaged.sum())} damaged of {len(keys)}; {len(obs)} observation rows -> {OUT}")


if __name__ == "__main__":
    main()
