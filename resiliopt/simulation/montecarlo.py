"""The Monte Carlo over earthquake scenarios: chunks, workers, Dask, resume (docs/simulate.md).

Reproducibility. Scenario ``i`` of a run with seed ``s`` draws its damage from
``SeedSequence([s, i])`` and starts from a cold HiGHS basis, so its numbers depend on
``(s, i)`` alone, never on which worker ran it or what that worker ran before. Scenarios are
grouped in chunks of fixed size (indices ``[k C, (k+1) C)``), whatever the worker count.

Streaming. Each finished chunk is one file of ``OUT/slices.parquet/`` and one of
``OUT/scenarios.parquet/`` (written under a temporary name, then renamed: a chunk file is
whole or absent). The two directories are partitioned Parquet datasets: ``pd.read_parquet``
reads either as one table, sorted by scenario and day. No process ever holds all slices: each
chunk's per-day sketch (:mod:`resiliopt.simulation.stats`) goes to the client, which merges
it, and the percentiles, the summary and the plots come from the merged sketch.

Resume. ``OUT/run.json`` holds the run's arguments, the resiliopt version and a SHA-256 of
every input file. Started again with the same arguments and unchanged inputs, a run skips
the chunks already there; otherwise it refuses and names what differs (use another ``--out``).

Interrupts. SIGINT (Ctrl-C) or SIGTERM stops the workers at once (they are terminated; only
whole chunk files stay), and :func:`simulate` raises ``KeyboardInterrupt``; the CLI exits 130.

Dask. The client scatters the loaded case to the workers once; workers return each chunk's
tables and sketch to the client, which writes them: no worker needs the case files or the
client's ``--out``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt import __version__
from resiliopt._atomic import write_text_atomic
from resiliopt._parallel import dask_client
from resiliopt.case import CaseData, load_case, resolve_case_path
from resiliopt.errors import InputError
from resiliopt.simulation.stats import METRICS, RunStats, chunk_stats
from resiliopt.stock import variant_building_cost

CHUNK = 20
PARAMS_FILE = "run.json"
LAYOUT = 2  # 1: parts/ + assembled tables; 2: chunk files are the datasets
SLICES_DIR = "slices.parquet"
SCENARIOS_DIR = "scenarios.parquet"
SAMPLE_TRAJECTORIES = 200

_WORKER_CACHE: dict = {}


def case_extension(case: CaseData):
    """The extension hook of a case: ``--extension`` (``case.extension``), else the case's own
    ``extension:`` (a file path relative to the case file); None without one."""
    from resiliopt.formulations.user_constraints import load_extension

    spec = case.extension or case.case.extension
    if not spec:
        return None
    if not case.extension:
        mod, fn = spec.rsplit(":", 1)
        if mod.endswith(".py") and not Path(mod).is_absolute():
            spec = f"{(Path(case.path).parent / mod).resolve()}:{fn}"
    return load_extension(spec)


def load_case_with(case_path, overrides=(), extension: str | None = None) -> CaseData:
    """The case with its ``--override`` layers and ``--extension`` (docs/constraints.md)."""
    from resiliopt.formulations.user_constraints import normalize_spec

    data = load_case(case_path, tuple(overrides))
    if extension:
        data = dataclasses.replace(data, extension=normalize_spec(extension))
    return data


def load_case_model(case_path, variant: str | None, overrides=(), extension: str | None = None):
    """The case model of a run: the case with its override layers, the variant and the
    extension hook applied (docs/constraints.md)."""
    from resiliopt.simulation.scenario import case_model

    data = load_case_with(case_path, overrides, extension)
    return case_model(data, variant, case_extension(data))


# --------------------------------------------------------------------------- worker side
def _worker_state(case: CaseData, variant: str | None, key: str):
    """Case model and compiled LP, built once per process (one warm HiGHS per worker)."""
    from resiliopt.simulation.engine import compiled_for
    from resiliopt.simulation.scenario import case_model

    if key not in _WORKER_CACHE:
        cm = case_model(case, variant, case_extension(case))
        _WORKER_CACHE.clear()
        _WORKER_CACHE[key] = (cm, compiled_for(cm))
    return _WORKER_CACHE[key]


def run_chunk(cm, lp, seed: int, days: int, start: int, stop: int):
    """Run scenarios ``start..stop-1``; returns (slices, scenarios) DataFrames."""
    from resiliopt.simulation.engine import run_scenario

    parts, summaries = [], []
    for i in range(start, stop):
        cols, summary, _ = run_scenario(cm, seed, i, days, lp)
        parts.append(cols)
        summaries.append(summary)
    sl = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    for k in ("scenario", "day", "unrepaired"):
        sl[k] = sl[k].astype(np.int64)
    return sl, pd.DataFrame(summaries)


_LOCAL: dict = {}


def _init_local_worker(case: CaseData, variant: str | None, key: str) -> None:
    """Pool initializer: the parent alone handles Ctrl-C; the case arrives pickled, loaded once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _LOCAL["args"] = (case, variant, key)


def _local_job(args) -> tuple[int, int, dict]:
    """A local worker's chunk: it writes the chunk files itself (same disk) and returns the sketch."""
    seed, days, start, stop, out = args
    cm, lp = _worker_state(*_LOCAL["args"])
    sl, sc = run_chunk(cm, lp, seed, days, start, stop)
    _write_part(Path(out), start, sl, sc)
    return start, stop, chunk_stats(sl, sc, cm.slice_days)


def _dask_job(case: CaseData, variant: str | None, key: str, seed: int, days: int, start: int, stop: int):
    """A Dask worker's chunk: tables and sketch go back to the client (no shared disk)."""
    cm, lp = _worker_state(case, variant, key)
    sl, sc = run_chunk(cm, lp, seed, days, start, stop)
    return start, stop, chunk_stats(sl, sc, cm.slice_days), sl, sc


# --------------------------------------------------------------------------- files
def _part_names(out: Path, start: int) -> tuple[Path, Path]:
    name = f"part-{start:08d}.parquet"
    return out / SLICES_DIR / name, out / SCENARIOS_DIR / name


def _write_part(out: Path, start: int, sl: pd.DataFrame, sc: pd.DataFrame) -> None:
    a, b = _part_names(out, start)
    for df, path in ((sl, a), (sc, b)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    # the scenarios file is written last: its presence marks the chunk as complete


def _chunk_done(out: Path, start: int) -> bool:
    a, b = _part_names(out, start)
    return a.exists() and b.exists()


def _remove_partial(out: Path) -> None:
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


def _run_params(case: CaseData, variant, scenarios, seed, days) -> dict:
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


def _check_resume(pfile: Path, params: dict, case: CaseData) -> None:
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


# --------------------------------------------------------------------------- the run
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


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While running, SIGTERM is handled like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


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
    from resiliopt.simulation.scenario import case_model

    data = load_case_with(case_path, overrides, extension)
    cm = case_model(data, variant, case_extension(data))  # validates the case and variant up front
    if cm.extension is not None:
        from resiliopt.simulation.engine import compiled_for

        compiled_for(cm)  # the extension's model must compile (errors before any output)
    out = Path(out)
    params = _run_params(data, variant, scenarios, seed, days)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    workers = workers or os.cpu_count() or 1
    pfile = out / PARAMS_FILE
    if pfile.exists():
        _check_resume(pfile, params, data)
    n_slices = -(-days // cm.slice_days)
    stats = RunStats(n_slices)
    client, cluster = dask_client(scheduler, workers) if scheduler else (None, None)
    timing = {}
    try:
        for d in (SLICES_DIR, SCENARIOS_DIR):
            (out / d).mkdir(parents=True, exist_ok=True)
        write_text_atomic(pfile, json.dumps(params, indent=1))
        _remove_partial(out)
        chunks = [(s, min(s + CHUNK, scenarios)) for s in range(0, scenarios, CHUNK)]
        todo = []
        for a, b in chunks:
            if _chunk_done(out, a):  # resumed: its sketch is read back from its files
                sl, sc = (pd.read_parquet(p) for p in _part_names(out, a))
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
        with _sigterm_as_interrupt():
            try:
                results = _execute(todo, data, variant, key, seed, days, out, workers, client)
                with contextlib.closing(results):  # an interrupt here stops the workers too
                    for a, b, part in results:
                        stats.add(part)
                        done += b - a
                        if progress:
                            progress(done, scenarios)
            except BaseException:
                _remove_partial(out)
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
        from resiliopt.simulation.plots import recovery_plots

        sample = _sample(out, scenarios)
        recovery_plots(
            _percentile_frames(stats, cm.slice_days),
            sample,
            _histograms(stats, cm),
            scenarios,
            cm.case.community.threshold,
            out,
            name=f"{cm.case.name}, variant {variant or 'none'}",
            units_counts=_histograms(stats, cm, "supply_rate_units"),
        )
    timing["finalize_s"] = time.perf_counter() - t_fin
    timing["serial_s"] = timing["setup_s"] + timing["finalize_s"]
    summary["elapsed_seconds_this_invocation"] = round(time.perf_counter() - t_start, 3)
    summary["timing_seconds"] = {k: round(v, 4) for k, v in timing.items()}
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))
    return SimulationResult(out, summary, stats, timing)


def _import_plotting() -> None:
    from resiliopt.simulation.plots import pyplot

    pyplot()


def _sample(out: Path, scenarios: int) -> pd.DataFrame:
    """Day and F_C of the first scenarios (at most SAMPLE_TRAJECTORIES), for the light lines."""
    files = [_part_names(out, s)[0] for s in range(0, min(scenarios, SAMPLE_TRAJECTORIES), CHUNK)]
    df = pd.concat([pd.read_parquet(f, columns=["scenario", "day", "fc"]) for f in files], ignore_index=True)
    return df[df["scenario"] < SAMPLE_TRAJECTORIES]


def _percentile_frames(stats: RunStats, slice_days: int) -> dict[str, pd.DataFrame]:
    """Percentiles 10/50/90 of F_C and r per day (index ``day``, columns 0.1, 0.5, 0.9)."""
    idx = pd.Index(np.arange(stats.n_slices) * slice_days, name="day")
    return {
        m: pd.DataFrame({q: stats.percentile(m, q)[0] for q in (0.1, 0.5, 0.9)}, index=idx) for m in METRICS
    }


def _histograms(stats: RunStats, cm, col: str = "supply_rate") -> dict[int, np.ndarray]:
    """Supply-rate counts in 10 bins on [0, 1] at every slice (for the histogram plot)."""
    return {int(k * cm.slice_days): stats.histogram(col, k) for k in range(stats.n_slices)}


def supply_shares(stats: RunStats, slice_days: int, days=(0, 30, 60)) -> dict:
    """Shares of scenarios with a supply rate near 0.1 (< 0.2) and near 1 (>= 0.8) (Fig. 6),
    for both rates, at the given days (the last slice if the run is shorter)."""
    from resiliopt.simulation.plots import shares_from_counts

    out = {}
    for col in ("supply_rate", "supply_rate_units"):
        out[col] = {
            str(d): shares_from_counts(stats.histogram(col, min(d // slice_days, stats.n_slices - 1)))
            for d in days
        }
    return out


def _execute(todo, data, variant, key, seed, days, out, workers, client) -> Iterable[tuple[int, int, dict]]:
    """Run the chunks ``todo``; yields ``(start, stop, sketch)`` as each chunk's files are written."""
    if not todo:
        return
    if client is not None:
        from dask.distributed import as_completed

        shared = client.scatter(data, broadcast=True)
        futures = [
            client.submit(_dask_job, shared, variant, key, seed, days, a, b, pure=False) for a, b in todo
        ]
        try:
            for f in as_completed(futures):
                a, b, part, sl, sc = f.result()
                _write_part(out, a, sl, sc)  # the client writes: workers need no access to --out
                del sl, sc
                yield a, b, part
        except BaseException:
            client.cancel(futures)
            raise
    elif workers == 1:
        _LOCAL["args"] = (data, variant, key)
        for a, b in todo:
            yield _local_job((seed, days, a, b, str(out)))
    else:
        import multiprocessing as mp

        jobs = [(seed, days, a, b, str(out)) for a, b in todo]
        ctx = mp.get_context("spawn")
        pool = ctx.Pool(
            min(workers, len(jobs)), initializer=_init_local_worker, initargs=(data, variant, key)
        )
        try:
            yield from pool.imap_unordered(_local_job, jobs)
            pool.close()
        except BaseException:
            pool.terminate()  # SIGTERM to every worker: stops within a moment, no orphan left
            raise
        finally:
            pool.join()


def summarize(stats: RunStats, cm, params: dict) -> dict:
    """Percentiles of F_C and r per slice, time to the threshold, run parameters, versions."""
    from resiliopt._provenance import versions

    days = (np.arange(stats.n_slices) * cm.slice_days).tolist()
    pct, bound = {}, 0.0
    for col in ("fc", "supply_rate", "supply_rate_units"):
        pct[col] = {"day": days}
        for q, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
            v, err = stats.percentile(col, q)
            pct[col][name] = np.round(v, 6).tolist()
            bound = max(bound, float(err.max()))
    fc0, fc0_err = stats.percentile("fc", 0.5)
    reached = stats.reached("days_to_threshold")
    hist = {}
    if reached:
        edges = [0, 1, 15, 31, 61, 91, 181, 271, 366, np.inf]
        counts = stats.value_histogram("days_to_threshold", edges)
        hist = {f"[{a:g}, {b:g})": int(c) for a, b, c in zip(edges, edges[1:], counts, strict=False)}
    return {
        "parameters": params,
        "threshold": cm.case.community.threshold,
        "versions": versions(),
        "percentiles": pct,
        "percentile_error_bound": bound,
        "time_to_threshold": {
            "reached_share": float(reached / stats.n),
            "p10": stats.value_quantile("days_to_threshold", 0.1),
            "p50": stats.value_quantile("days_to_threshold", 0.5),
            "p90": stats.value_quantile("days_to_threshold", 0.9),
            "histogram_days": hist,
        },
        "days_to_full_recovery_p50": stats.value_quantile("days_to_full", 0.5),
        "fc0_p50": float(fc0[0]),
        "fc0_p50_error_bound": float(fc0_err[0]),
        "supply_rate_shares": supply_shares(stats, cm.slice_days),
        "unreachable_share_day0_mean": stats.mean("unreachable_share_day0"),
    }


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
    from resiliopt.simulation.plots import compare_plots

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
        frames[v] = _percentile_frames(res.stats, data.case.recovery.slice_days)
    table = pd.DataFrame(rows)
    table.to_csv(out / ".comparison.csv.tmp", index=False)
    os.replace(out / ".comparison.csv.tmp", out / "comparison.csv")
    compare_plots(frames, data.community.threshold, out, name=data.name, n=scenarios)
    return table
