"""The Monte Carlo over earthquake scenarios: chunks, workers, Dask, resume (docs/simulate.md).

Reproducibility. Scenario ``i`` of a run with seed ``s`` draws its damage from
``SeedSequence([s, i])`` and starts from a cold HiGHS basis, so its numbers depend on
``(s, i)`` alone, never on which worker ran it or what that worker ran before. Scenarios are
grouped in chunks of fixed size (indices ``[k C, (k+1) C)``), whatever the worker count.

Resume. Each finished chunk is written at once to ``OUT/parts/`` (write to a temporary name,
then rename: a chunk file is whole or absent). ``OUT/run.json`` holds the run's arguments.
Started again with the same arguments, a run skips the chunks already there; with other
arguments it refuses (use another ``--out``). The final tables are assembled from the chunk
files, sorted by scenario and day, so they are identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt import __version__
from resiliopt._atomic import write_text_atomic
from resiliopt.case import load_case, resolve_case_path
from resiliopt.errors import InputError

CHUNK = 20
PARAMS_FILE = "run.json"

_WORKER_CACHE: dict = {}


def _worker_state(case_path: str, variant: str | None):
    """Case model and compiled LP, built once per process (one warm HiGHS per worker)."""
    from resiliopt.simulation.engine import compiled_for
    from resiliopt.simulation.scenario import case_model

    key = (case_path, variant)
    if key not in _WORKER_CACHE:
        cm = case_model(load_case(case_path), variant)
        _WORKER_CACHE.clear()
        _WORKER_CACHE[key] = (cm, compiled_for(cm))
    return _WORKER_CACHE[key]


def run_chunk(case_path: str, variant: str | None, seed: int, days: int, start: int, stop: int):
    """Run scenarios ``start..stop-1``; returns (slices, scenarios) DataFrames."""
    from resiliopt.simulation.engine import run_scenario

    cm, lp = _worker_state(case_path, variant)
    parts, summaries = [], []
    for i in range(start, stop):
        cols, summary, _ = run_scenario(cm, seed, i, days, lp)
        parts.append(cols)
        summaries.append(summary)
    sl = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    for k in ("scenario", "day", "unrepaired"):
        sl[k] = sl[k].astype(np.int64)
    return sl, pd.DataFrame(summaries)


def _run_chunk_to_file(args) -> tuple[int, int]:
    case_path, variant, seed, days, start, stop, parts = args
    sl, sc = run_chunk(case_path, variant, seed, days, start, stop)
    _write_part(Path(parts), start, sl, sc)
    return start, stop


def _part_names(parts: Path, start: int) -> tuple[Path, Path]:
    return parts / f"slices-{start:08d}.parquet", parts / f"scenarios-{start:08d}.parquet"


def _write_part(parts: Path, start: int, sl: pd.DataFrame, sc: pd.DataFrame) -> None:
    a, b = _part_names(parts, start)
    for df, path in ((sl, a), (sc, b)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    # the scenarios file is written last: its presence marks the chunk as complete


def _chunk_done(parts: Path, start: int) -> bool:
    a, b = _part_names(parts, start)
    return a.exists() and b.exists()


@dataclass
class SimulationResult:
    out: Path
    slices: pd.DataFrame
    scenarios: pd.DataFrame
    summary: dict


def _run_params(case_path: Path, variant, scenarios, seed, days) -> dict:
    return {
        "case": str(case_path.resolve()),
        "variant": variant or "none",
        "scenarios": scenarios,
        "seed": seed,
        "days": days,
        "chunk": CHUNK,
    }


def simulate(
    case: str | Path,
    scenarios: int,
    seed: int,
    days: int,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    variant: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    plots: bool = True,
) -> SimulationResult:
    """Run ``scenarios`` scenarios of ``days`` days; write Parquet tables, summary and plots.

    ``workers``: local processes (default: all cores; 1 runs in this process). ``scheduler``: a
    Dask distributed scheduler address, or ``"local"`` for a LocalCluster of ``workers``.
    ``progress(done, total)`` is called as scenarios finish.
    """
    if scenarios < 1:
        raise InputError(f"scenarios must be >= 1 (got {scenarios})", location="--scenarios")
    if days < 1:
        raise InputError(f"days must be >= 1 (got {days})", location="--days")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1 (got {workers})", location="--workers")
    case_path = resolve_case_path(case)
    from resiliopt.simulation.scenario import case_model

    cm = case_model(load_case(case_path), variant)  # validates the case and variant up front
    out = Path(out)
    parts = out / "parts"
    params = _run_params(case_path, variant, scenarios, seed, days)
    workers = workers or os.cpu_count() or 1
    pfile = out / PARAMS_FILE
    if pfile.exists():
        old = json.loads(pfile.read_text())
        if old != params:
            raise InputError(
                "this directory holds a run with other arguments "
                f"({', '.join(k for k in params if old.get(k) != params[k])} differ); use another --out",
                file=out,
            )
    client, cluster = _dask_client(scheduler, workers) if scheduler else (None, None)
    try:
        parts.mkdir(parents=True, exist_ok=True)
        write_text_atomic(pfile, json.dumps(params, indent=1))

        chunks = [(s, min(s + CHUNK, scenarios)) for s in range(0, scenarios, CHUNK)]
        todo = [c for c in chunks if not _chunk_done(parts, c[0])]
        done = scenarios - sum(b - a for a, b in todo)
        if progress:
            progress(done, scenarios)
        jobs = [(str(case_path), variant, seed, days, a, b, str(parts)) for a, b in todo]
        t0 = time.perf_counter()
        for a, b in _execute(jobs, workers, client):
            done += b - a
            if progress:
                progress(done, scenarios)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    elapsed = time.perf_counter() - t0

    slices = pd.concat([pd.read_parquet(_part_names(parts, a)[0]) for a, _ in chunks], ignore_index=True)
    scen = pd.concat([pd.read_parquet(_part_names(parts, a)[1]) for a, _ in chunks], ignore_index=True)
    slices = slices.sort_values(["scenario", "day"], kind="stable").reset_index(drop=True)
    scen = scen.sort_values("scenario", kind="stable").reset_index(drop=True)
    summary = summarize(slices, scen, cm, params)
    summary["elapsed_seconds_this_invocation"] = round(elapsed, 3)
    for name, df in (("slices.parquet", slices), ("scenarios.parquet", scen)):
        tmp = out / f".{name}.tmp"
        df.to_parquet(tmp, index=False)
        os.replace(tmp, out / name)
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))
    if plots:
        from resiliopt.reports.plots import recovery_plots

        recovery_plots(slices, cm.case.community.threshold, out)
    return SimulationResult(out, slices, scen, summary)


def _dask_client(scheduler: str, workers: int):
    """Connect (or start a LocalCluster) before any output is written; bad addresses are input errors."""
    from dask.distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="20s"), None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot reach the Dask scheduler: {exc}", location="--scheduler") from None


def _execute(jobs: list, workers: int, client) -> Iterable[tuple[int, int]]:
    if not jobs:
        return
    if client is not None:
        from dask.distributed import as_completed

        for f in as_completed(client.map(_run_chunk_to_file, jobs, pure=False)):
            yield f.result()
    elif workers == 1:
        for job in jobs:
            yield _run_chunk_to_file(job)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            futures = [ex.submit(_run_chunk_to_file, job) for job in jobs]
            for f in as_completed(futures):
                yield f.result()


def summarize(slices: pd.DataFrame, scen: pd.DataFrame, cm, params: dict) -> dict:
    """Percentiles of F_C and r per slice, time to the threshold, run parameters, versions."""
    from resiliopt.solvers.compiled import highs_version

    by_day = slices.groupby("day")
    pct = {}
    for col in ("fc", "supply_rate"):
        q = by_day[col].quantile([0.1, 0.5, 0.9]).unstack()
        pct[col] = {
            "day": q.index.tolist(),
            "p10": q[0.1].round(6).tolist(),
            "p50": q[0.5].round(6).tolist(),
            "p90": q[0.9].round(6).tolist(),
        }
    t = scen["days_to_threshold"]
    reached = t.dropna()
    hist = {}
    if len(reached):
        edges = [0, 1, 15, 31, 61, 91, 181, 271, 366, np.inf]
        counts, _ = np.histogram(reached, bins=edges)
        hist = {f"[{a:g}, {b:g})": int(c) for a, b, c in zip(edges, edges[1:], counts, strict=False)}
    return {
        "parameters": params,
        "threshold": cm.case.community.threshold,
        "versions": {"resiliopt": __version__, "highs": highs_version()},
        "percentiles": pct,
        "time_to_threshold": {
            "reached_share": float(len(reached) / len(t)),
            "p10": _q(reached, 0.1),
            "p50": _q(reached, 0.5),
            "p90": _q(reached, 0.9),
            "histogram_days": hist,
        },
        "days_to_full_recovery_p50": _q(scen["days_to_full"].dropna(), 0.5),
        "fc0_p50": float(scen["fc0"].median()),
    }


def _q(s: pd.Series, q: float) -> float | None:
    return float(s.quantile(q)) if len(s) else None


def variant_cost(case, variant: str | None) -> dict:
    """Cost of a variant's retrofits, billion CNY: buildings by eq. (5) (MODEL_NOTES 3,
    C = n C_0k (a_old / a_new - 1)), bridges by the case's cost per upgraded bridge."""
    if variant in (None, "none"):
        return {"buildings": 0.0, "bridges": 0.0, "total": 0.0}
    from resiliopt.retrofit.buildings import plan_from_variant, stock

    v = case.case.variants[variant]
    cb = stock(case).cost(plan_from_variant(case, variant))
    br = case.bridges
    ids = {x.id for x in br.bridges} if v.upgrade_bridges == "all" else set(v.upgrade_bridges)
    n = sum(1 for x in br.bridges if x.id in ids and x.grade != br.upgrade_to)
    return {"buildings": cb, "bridges": n * br.upgrade_cost, "total": cb + n * br.upgrade_cost}


def compare(
    case: str | Path,
    variants: list[str],
    scenarios: int,
    seed: int,
    days: int,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate each variant with the same seed (common random numbers) and tabulate them."""
    from resiliopt.reports.plots import compare_plots

    data = load_case(resolve_case_path(case))
    for k, v in enumerate(variants):
        if v != "none" and v not in data.case.variants:
            raise InputError(
                f"unknown variant {v!r} (case has: none, {', '.join(data.case.variants)})",
                location=f"--variants[{k}]",
            )
    out = Path(out)
    rows, slices = [], {}
    for v in variants:
        cb = (lambda d, t, v=v: progress(v, d, t)) if progress else None
        res = simulate(case, scenarios, seed, days, out / v, workers, scheduler, v, cb)
        t = res.scenarios["days_to_threshold"]
        cost = variant_cost(data, v)
        rows.append(
            {
                "variant": v,
                "fc0_median": res.scenarios["fc0"].median(),
                "days_to_threshold_p50": t.median(),
                "days_to_threshold_p90": t.quantile(0.9),
                "never_reached_share": float(t.isna().mean()),
                "cost_buildings": cost["buildings"],
                "cost_bridges": cost["bridges"],
                "cost_total": cost["total"],
            }
        )
        slices[v] = res.slices
    table = pd.DataFrame(rows)
    table.to_csv(out / ".comparison.csv.tmp", index=False)
    os.replace(out / ".comparison.csv.tmp", out / "comparison.csv")
    compare_plots(slices, data.community.threshold, out)
    return table
