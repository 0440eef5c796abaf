"""Fig. 6 and the 2-month median recovery under seismic settings (docs/recovery.md).

Runs the bundled case under named settings (each a set of changes to case.yaml, plus an
optional factor on every link and entry capacity), and prints one JSON line per setting:
shares of scenarios with a supply rate near 0.1 (< 0.2) and near 1 (>= 0.8) at day 0, 30 and
60, for both the weighted rate (19) and the unit rate, the median days to F_C >= 0.87 over all
scenarios (never = inf), the share reaching it, and a distance to the paper's numbers.

    python scripts/recovery_calibration.py [--scenarios 200] [--days 240] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GM = {"tau": 0.26, "phi": 0.5, "range_km": 40.7}  # Boore & Atkinson (2008)-like PGA terms
NO_REPAIR = {"recovery": {"bridge_repair_days": {}}}

SETTINGS: dict[str, tuple[dict, float]] = {
    "paper-model (no bridge repair)": (NO_REPAIR, 1.0),
    "bundled default (HAZUS bridge repair)": ({}, 1.0),
    "+ ground motion": ({"hazard": {"ground_motion": GM}}, 1.0),
    "+ ground motion + category 0.5": ({"hazard": {"ground_motion": GM, "category_correlation": 0.5}}, 1.0),
    "+ ground motion, tau 0.5": ({"hazard": {"ground_motion": {**GM, "tau": 0.5}}}, 1.0),
    "+ ground motion, capacity x 0.3": ({"hazard": {"ground_motion": GM}}, 0.3),
    "+ ground motion, tau 0.5, capacity x 0.3": ({"hazard": {"ground_motion": {**GM, "tau": 0.5}}}, 0.3),
    "+ ground motion, capacity x 0.1": ({"hazard": {"ground_motion": GM}}, 0.1),
    "independent, capacity x 0.2": ({}, 0.2),
    "category 1.0": ({"hazard": {"category_correlation": 1.0}}, 1.0),
    "category 1.0, capacity x 0.3": ({"hazard": {"category_correlation": 1.0}}, 0.3),
    "category 1.0, capacity x 0.2": ({"hazard": {"category_correlation": 1.0}}, 0.2),
    "category 1.0, capacity x 0.15": ({"hazard": {"category_correlation": 1.0}}, 0.15),
    "category 0.8, capacity x 0.3": ({"hazard": {"category_correlation": 0.8}}, 0.3),
    "+ ground motion + category 0.9, capacity x 0.3": (
        {"hazard": {"ground_motion": GM, "category_correlation": 0.9}},
        0.3,
    ),
    "+ ground motion + category 0.9, capacity x 0.5": (
        {"hazard": {"ground_motion": GM, "category_correlation": 0.9}},
        0.5,
    ),
}
PAPER = {"near_0.1": [0.70, 0.40, 0.25], "near_1_day0": 0.30, "median_days": 60.0}


def merge(doc: dict, change: dict) -> dict:
    for k, v in change.items():
        if isinstance(v, dict) and v and isinstance(doc.get(k), dict):
            merge(doc[k], v)
        else:
            doc[k] = v
    return doc


def distance(low: list[float], high0: float, t50: float) -> float:
    """Sum of absolute share differences plus the median-days difference in months."""
    d = sum(abs(a - b) for a, b in zip(low, PAPER["near_0.1"], strict=True))
    months = abs(t50 - PAPER["median_days"]) / 30.0 if math.isfinite(t50) else math.inf
    return d + abs(high0 - PAPER["near_1_day0"]) + months


def run(name: str, scenarios: int, days: int, seed: int) -> dict:
    from resiliopt.simulation.montecarlo import read_table, simulate

    change, factor = SETTINGS[name]
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case"
        shutil.copytree(ROOT / "data" / "beijing", case)
        doc = merge(yaml.safe_load((case / "case.yaml").read_text()), change)
        if factor != 1.0:  # every link and entry capacity times the factor
            doc.setdefault("logistics", {})["capacity_factor"] = factor
        (case / "case.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        res = simulate(case, scenarios, seed, days, Path(tmp) / "out", workers=1, plots=False)
        scen = read_table(Path(tmp) / "out", "scenarios")
    sh = res.summary["supply_rate_shares"]
    t = scen["days_to_threshold"].fillna(math.inf)
    t50 = float(t.median())
    row = {"setting": name, "scenarios": scenarios, "seed": seed}
    for col, tag in (("supply_rate", "weighted"), ("supply_rate_units", "units")):
        low = [sh[col][d]["near_0.1"] for d in ("0", "30", "60")]
        row[f"{tag}_near_0.1"] = [round(x, 3) for x in low]
        row[f"{tag}_near_1"] = [round(sh[col][d]["near_1"], 3) for d in ("0", "30", "60")]
        row[f"{tag}_distance"] = round(distance(low, sh[col]["0"]["near_1"], t50), 3)
    row["median_days_to_0.87"] = t50
    row["reached_share"] = round(float((t < math.inf).mean()), 3)
    row["fc0_median"] = round(res.summary["fc0_p50"], 3)
    row["unreachable_share_day0_mean"] = round(res.summary["unreachable_share_day0_mean"], 3)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"settings (default all): {list(SETTINGS)}")
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--days", type=int, default=240)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    for name in a.names or SETTINGS:
        if name not in SETTINGS:
            print(f"unknown setting {name!r}", file=sys.stderr)
            return 2
        print(json.dumps(run(name, a.scenarios, a.days, a.seed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
