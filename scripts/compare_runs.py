"""Do two versions of resiliopt give the same tables? (a restructuring must not change a number)

Runs ``resiliopt demo`` and ``resiliopt simulate beijing --scenarios 100 --seed 7 --days 365
--workers 2`` with the package of a git revision (a temporary worktree) and with the working
tree, then compares what they wrote:

* the Monte Carlo tables (``slices.parquet``, ``scenarios.parquet``): equal frames, bit for bit;
* ``summary.json``: equal, less the timings, the versions and the output paths;
* the audit tables of the demo (every ``*.csv``): byte-identical; ``result.json`` equal less its
  timing.

    python scripts/compare_runs.py --base 1241a58          # exit 0: identical; 1: a difference

Plots (PNG/SVG) are not compared: matplotlib writes dates and ids into them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIMULATE = ["simulate", "beijing", "--scenarios", "100", "--seed", "7", "--days", "365", "--workers", "2"]
#: what differs between any two runs: timings, versions, and the paths of the two trees
VOLATILE = {"timing_seconds", "elapsed_seconds_this_invocation", "versions", "out", "output", "case"}


def _run(tree: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out.mkdir(parents=True)
    for args in (["demo"], [*SIMULATE, "--out", str(out / "sim")]):
        cmd = [sys.executable, "-m", "resiliopt.cli", *args]
        subprocess.run(cmd, cwd=out, env=env, check=True, stdout=subprocess.DEVNULL)


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def _frames(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path)
    keys = [c for c in ("scenario", "day", "slice") if c in df.columns]
    return df.sort_values(keys).reset_index(drop=True) if keys else df


def compare(a: Path, b: Path) -> list[str]:
    """The differences between two output folders (empty: identical)."""
    diffs = []
    for sim in ("sim", "resiliopt-demo/simulation"):
        for table in ("slices.parquet", "scenarios.parquet"):
            x, y = _frames(a / sim / table), _frames(b / sim / table)
            if not x.equals(y):
                diffs.append(f"{sim}/{table}: tables differ")
        sa = _strip(json.loads((a / sim / "summary.json").read_text()))
        sb = _strip(json.loads((b / sim / "summary.json").read_text()))
        if sa != sb:
            diffs.append(f"{sim}/summary.json: {sorted(k for k in sa if sa.get(k) != sb.get(k))}")
    audit_a, audit_b = a / "resiliopt-demo" / "audit", b / "resiliopt-demo" / "audit"
    for f in sorted(audit_a.glob("*.csv")):
        if f.read_bytes() != (audit_b / f.name).read_bytes():
            diffs.append(f"audit/{f.name}: bytes differ")
    ra = _strip(json.loads((audit_a / "result.json").read_text()))
    rb = _strip(json.loads((audit_b / "result.json").read_text()))
    if ra != rb:
        diffs.append("audit/result.json differs")
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare the working tree with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="resiliopt-compare-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base-tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _run(base, tmp / "base")
            _run(ROOT, tmp / "work")
            diffs = compare(tmp / "base", tmp / "work")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    if diffs:
        print(f"DIFFERENT from {args.base}:\n  " + "\n  ".join(diffs))
        return 1
    print(f"identical to {args.base}: demo (audit tables, 100-scenario run) and simulate beijing 100 x 365")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
