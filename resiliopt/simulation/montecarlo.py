"""The Monte Carlo over earthquake scenarios: set-up, the run, its summary and plots (docs/simulate.md).

The run is split by responsibility:

* :mod:`~resiliopt.simulation.load`: the case with its overrides, variant and extension;
* :mod:`~resiliopt.simulation.runfiles`: chunk files, ``run.json``, input hashes, resume;
* :mod:`~resiliopt.simulation.workers`: this process, local processes or Dask run the chunks;
* :mod:`~resiliopt.simulation.summary`: ``summary.json`` and the plots' data from the sketch;
* this module: :func:`simulate` ties them together, :func:`compare` runs variants side by side.

Reproducibility. Scenario ``i`` of a run with seed ``s`` draws its damage from
``SeedSequence([s, i])`` and starts from a cold HiGHS basis, so its numbers depend on
``(s, i)`` alone, never on which worker ran it or what that worker ran before. Scenarios are
grouped in chunks of fixed size (indices ``[k C, (k+1) C)``), whatever the worker count.

Streaming. No process ever holds all slices: each chunk's per-day sketch
(:mod:`resiliopt.simulation.stats`) goes to the client, which merges it, and the percentiles,
the summary and the plots come from the merged sketch.

Interrupts. SIGINT (Ctrl-C) or SIGTERM stops the workers at once (only whole chunk files
stay), and :func:`simulate` raises ``KeyboardInterrupt``; the CLI exits 130.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._atomic import write_text_atomic
from resiliopt._parallel import dask_client
from resiliopt.case import load_case, resolve_case_path
from resiliopt.errors import InputError
from resiliopt.simulation.engine import compiled_for
from resiliopt.simulation.load import case_extension, load_case_model, load_case_with
from resiliopt.simulation.plots import compare_plots, pyplot, recovery_plots
from resiliopt.simulation.runfiles import (
    CHUNK,
    PARAMS_FILE,
    SCENARIOS_DIR,
    SLICES_DIR,
    check_resume,
    chunk_done,
    chunks,
    input_files,
    input_hashes,
    part_names,
    read_table,
    remove_partial,
    run_params,
)
from resiliopt.simulation.scenario import case_model
from resiliopt.simulation.stats import RunStats, chunk_stats
from resiliopt.simulation.summary import histograms, percentile_frames, sample, summarize, supply_shares
from resiliopt.simulation.workers import execute, run_chunk, sigterm_as_interrupt
from resiliopt.stock import variant_building_cost

__all__ = [  # the run's API; the names of its parts are re-exported for earlier callers
    "CHUNK",
    "PARAMS_FILE",
    "SCENARIOS_DIR",
    "SLICES_DIR",
    "SimulationResult",
    "case_extension",
    "compare",
    "input_files",
    "input_hashes",
    "load_case_model",
    "load_case_with",
    "read_table",
    "run_chunk",
    "simulate",
    "summarize",
    "supply_shares",
    "variant_cost",
]


@dataclass
class SimulationResult:
    """A finished run: its directory, summary and merged sketch; tables are read on demand."""

    out: Path
    summary: dict
    stats: RunStats
    timing: dict = field(default_factory=dict)

    @property
    def slices(self) -> pd.DataFrame:
        return read_table(self.out, "slices")

    @property
    def scenarios(self) -> pd.DataFrame:
        return read_table(self.out, "scenarios")


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
    overrides: tuple = (),
    extension: str | None = None,
) -> SimulationResult:
    """Run ``scenarios`` scenarios of ``days`` days; write Parquet datasets, summary and plots.

    ``workers``: local processes (default: all cores; 1 runs in this process). ``scheduler``: a
    Dask distributed scheduler address, or ``"local"`` for a LocalCluster of ``workers``.
    ``progress(done, total)`` is called as scenarios finish. ``overrides``: YAML files laid
    over the case; ``extension``: ``module:function`` of an extension hook (docs/constraints.md).
    """
    t_start = time.perf_counter()
    if scenarios < 1:
        raise InputError(f"scenarios must be >= 1 (got {scenarios})", location="--scenarios")
    if days < 1:
        raise InputError(f"days must be >= 1 (got {days})", location="--days")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1 (got {workers})", location="--workers")
    case_path = resolve_case_path(case)
    data = load_case_with(case_path, overrides, extension)
    cm = case_model(data, variant, case_extension(data))  # validates the case and variant up front
    if cm.extension is not None:
        compiled_for(cm)  # the extension's model must compile (errors before any output)
    out = Path(out)
    params = run_params(data, variant, scenarios, seed, days)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    workers = workers or os.cpu_count() or 1
    pfile = out / PARAMS_FILE
    if pfile.exists():
        check_resume(pfile, params, data)
    n_slices = -(-days // cm.slice_days)
    stats = RunStats(n_slices)
    client, cluster = dask_client(scheduler, workers) if scheduler else (None, None)
    timing = {}
    try:
        for d in (SLICES_DIR, SCENARIOS_DIR):
            (out / d).mkdir(parents=True, exist_ok=True)
        write_text_atomic(pfile, json.dumps(params, indent=1))
        remove_partial(out)
        todo = []
        for a, b in chunks(scenarios):
            if chunk_done(out, a):  # resumed: its sketch is read back from its files
                sl, sc = (pd.read_parquet(p) for p in part_names(out, a))
                stats.add(chunk_stats(sl, sc, cm.slice_days))
            else:
                todo.append((a, b))
        done = scenarios - sum(b - a for a, b in todo)
        if progress:
            progress(done, scenarios)
        t_par = time.perf_counter()
        timing["setup_s"] = t_par - t_start
        if plots and (client is not None or workers > 1):
            # matplotlib's import (about a second) overlaps the workers instead of adding to the end
            threading.Thread(target=_import_plotting, daemon=True).start()
        with sigterm_as_interrupt():
            try:
                results = execute(todo, data, variant, key, seed, days, out, workers, client)
                with contextlib.closing(results):  # an interrupt here stops the workers too
                    for a, b, part in results:
                        stats.add(part)
                        done += b - a
                        if progress:
                            progress(done, scenarios)
            except BaseException:
                remove_partial(out)
                raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    t_fin = time.perf_counter()
    timing["parallel_s"] = t_fin - t_par
    summary = summarize(stats, cm, params)
    if plots:
        recovery_plots(
            percentile_frames(stats, cm.slice_days),
            sample(out, scenarios),
            histograms(stats, cm),
            scenarios,
            cm.case.community.threshold,
            out,
            name=f"{cm.case.name}, variant {variant or 'none'}",
            units_counts=histograms(stats, cm, "supply_rate_units"),
        )
    timing["finalize_s"] = time.perf_counter() - t_fin
    timing["serial_s"] = timing["setup_s"] + timing["finalize_s"]
    summary["elapsed_seconds_this_invocation"] = round(time.perf_counter() - t_start, 3)
    summary["timing_seconds"] = {k: round(v, 4) for k, v in timing.items()}
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))
    return SimulationResult(out, summary, stats, timing)


def _import_plotting() -> None:
    pyplot()


def variant_cost(case, variant: str | None) -> dict:
    """Cost of a variant's retrofits, billion CNY: buildings by eq. (5) (MODEL_NOTES 3,
    C = n C_0k (a_old / a_new - 1)), bridges by the case's cost per upgraded bridge."""
    if variant in (None, "none"):
        return {"buildings": 0.0, "bridges": 0.0, "total": 0.0}
    v = case.case.variants[variant]
    cb = variant_building_cost(case, variant)
    br = case.bridges
    ids = {x.id for x in br.bridges} if v.upgrade_bridges == "all" else set(v.upgrade_bridges)
    target = v.bridge_grade or br.upgrade_to
    n = sum(1 for x in br.bridges if x.id in ids and x.grade != target)
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
    overrides: tuple = (),
    extension: str | None = None,
) -> pd.DataFrame:
    """Simulate each variant with the same seed (common random numbers) and tabulate them."""
    data = load_case(resolve_case_path(case), tuple(overrides))
    for k, v in enumerate(variants):
        if v != "none" and v not in data.case.variants:
            raise InputError(
                f"unknown variant {v!r} (case has: none, {', '.join(data.case.variants)})",
                location=f"--variants[{k}]",
            )
    out = Path(out)
    rows, frames = [], {}
    for v in variants:
        cb = (lambda d, t, v=v: progress(v, d, t)) if progress else None
        res = simulate(
            case,
            scenarios,
            seed,
            days,
            out / v,
            workers,
            scheduler,
            v,
            cb,
            overrides=overrides,
            extension=extension,
        )
        t = res.summary["time_to_threshold"]
        cost = variant_cost(data, v)
        rows.append(
            {
                "variant": v,
                "fc0_median": res.summary["fc0_p50"],
                "days_to_threshold_p50": np.nan if t["p50"] is None else t["p50"],
                "days_to_threshold_p90": np.nan if t["p90"] is None else t["p90"],
                "never_reached_share": 1.0 - t["reached_share"],
                "supply_rate_day0_median": res.summary["percentiles"]["supply_rate"]["p50"][0],
                "supply_rate_units_day0_median": res.summary["percentiles"]["supply_rate_units"]["p50"][0],
                "unreachable_share_day0_mean": res.summary["unreachable_share_day0_mean"],
                "cost_buildings": cost["buildings"],
                "cost_bridges": cost["bridges"],
                "cost_total": cost["total"],
            }
        )
        frames[v] = percentile_frames(res.stats, data.case.recovery.slice_days)
    table = pd.DataFrame(rows)
    table.to_csv(out / ".comparison.csv.tmp", index=False)
    os.replace(out / ".comparison.csv.tmp", out / "comparison.csv")
    compare_plots(frames, data.community.threshold, out, name=data.name, n=scenarios)
    return table
