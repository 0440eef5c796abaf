"""The files of a run: chunk files, the run's parameters and input hashes, resume (docs/simulate.md).

Streaming. Each finished chunk is one file of ``OUT/slices.parquet/`` and one of
``OUT/scenarios.parquet/`` (written under a temporary name, then renamed: a chunk file is
whole or absent). The two directories are partitioned Parquet datasets: ``pd.read_parquet``
reads either as one table, sorted by scenario and day.

Resume. ``OUT/run.json`` holds the run's arguments, the resiliopt version and a SHA-256 of
every input file. Started again with the same arguments and unchanged inputs, a run skips
the chunks already there; otherwise it refuses and names what differs (use another ``--out``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from resiliopt import __version__
from resiliopt.case import CaseData
from resiliopt.errors import InputError

CHUNK = 20
PARAMS_FILE = "run.json"
LAYOUT = 2  # 1: parts/ + assembled tables; 2: chunk files are the datasets
SLICES_DIR = "slices.parquet"
SCENARIOS_DIR = "scenarios.parquet"


def chunks(scenarios: int) -> list[tuple[int, int]]:
    """The chunks ``(start, stop)`` of a run: indices ``[k C, (k+1) C)``, whatever the workers."""
    return [(s, min(s + CHUNK, scenarios)) for s in range(0, scenarios, CHUNK)]


def part_names(out: Path, start: int) -> tuple[Path, Path]:
    """The slices and scenarios files of the chunk starting at scenario ``start``."""
    name = f"part-{start:08d}.parquet"
    return out / SLICES_DIR / name, out / SCENARIOS_DIR / name


def write_part(out: Path, start: int, sl: pd.DataFrame, sc: pd.DataFrame) -> None:
    """Write a chunk's two files, each under a temporary name first (whole or absent)."""
    a, b = part_names(out, start)
    for df, path in ((sl, a), (sc, b)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    # the scenarios file is written last: its presence marks the chunk as complete


def chunk_done(out: Path, start: int) -> bool:
    a, b = part_names(out, start)
    return a.exists() and b.exists()


def finished_chunks(out: str | Path) -> int:
    """How many chunks of the run in ``out`` are complete (kept when a run is interrupted)."""
    return len(list((Path(out) / SCENARIOS_DIR).glob("part-*.parquet")))


def remove_partial(out: Path) -> None:
    """Remove temporary chunk files left by a killed worker (resiliopt's own names only)."""
    for d in (SLICES_DIR, SCENARIOS_DIR):
        for p in (out / d).glob(".part-*.parquet.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def read_table(out: str | Path, name: str = "slices", columns: list[str] | None = None) -> pd.DataFrame:
    """A run's ``slices`` or ``scenarios`` table read as one DataFrame (all of it in memory)."""
    d = Path(out) / (SLICES_DIR if name == "slices" else SCENARIOS_DIR)
    files = sorted(d.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


# --------------------------------------------------------------------------- run identity
def input_files(case: CaseData) -> dict[str, Path]:
    """Every file a case was loaded from, by its name relative to the case directory."""
    if case.files:  # an override layer: the layers and the base case's files
        return dict(case.files)
    base = case.path.parent
    files = {case.path.name: case.path}
    for f in ("network", "bridges", "buildings", "community"):
        rel = getattr(case.case, f)
        files[str(rel)] = base / rel
    files.update(case.table_files)  # CSV tables the network file names
    return files


def input_hashes(case: CaseData) -> dict[str, str]:
    return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in input_files(case).items()}


def run_params(case: CaseData, variant, scenarios, seed, days) -> dict:
    """What identifies a run (``run.json``): its arguments, the version and the input hashes."""
    out = {
        "case": str(case.path.resolve()),
        "variant": variant or "none",
        "scenarios": scenarios,
        "seed": seed,
        "days": days,
        "chunk": CHUNK,
        "layout": LAYOUT,
        "resiliopt": __version__,
        "inputs": input_hashes(case),
    }
    if case.overrides or case.extension:  # (absent otherwise: earlier runs still resume)
        out["overrides"] = list(case.overrides)
        out["extension"] = case.extension
    return out


def check_resume(pfile: Path, params: dict, case: CaseData) -> None:
    """Refuse to resume a run whose inputs, version or arguments differ; name what differs."""
    try:
        old = json.loads(pfile.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the run's parameters: {exc}", pfile) from None
    if not isinstance(old, dict) or old.get("layout") != LAYOUT:
        raise InputError("this directory holds a run of an older resiliopt; use another --out", pfile)
    if old.get("resiliopt") != params["resiliopt"]:
        raise InputError(
            f"this run was started with resiliopt {old.get('resiliopt')}, this is {params['resiliopt']}; "
            "its chunks may differ: use another --out",
            pfile,
            "resiliopt",
        )
    old_in, new_in = old.get("inputs") or {}, params["inputs"]
    changed = sorted(k for k in set(old_in) | set(new_in) if old_in.get(k) != new_in.get(k))
    if changed:
        files = input_files(case)
        where = files.get(changed[0], case.path.parent / changed[0])
        raise InputError(
            f"input file {', '.join(changed)} changed since this run started (SHA-256 differs); "
            "resuming would mix results of two inputs: use another --out",
            where,
        )
    differ = [k for k in params if k != "inputs" and old.get(k) != params[k]]
    if differ:
        raise InputError(
            f"this directory holds a run with other arguments ({', '.join(differ)} differ); "
            "use another --out",
            pfile,
        )
