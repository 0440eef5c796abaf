r"""Evaluate the response policies over many events, paired (docs/emergency.md, "Evidence over
many events").

:func:`evaluate` draws :math:`N` events (:mod:`resiliopt.emergency.evaluate_events`), replays
every policy on each with common random numbers (:mod:`resiliopt.emergency.evaluate_run`) and
compares the policies with the closed loop, paired by event
(:mod:`resiliopt.emergency.evaluate_stats`).

Reproducibility. Event :math:`e` of seed :math:`s` is drawn from ``SeedSequence([s, e])`` and
replayed from cold solvers, so its rows depend on :math:`(s, e)` and the inputs alone: the
same tables at any worker count, on one machine or on a Dask cluster.

Resume. Events are grouped in chunks of fixed size (events :math:`[kC, (k+1)C)`); each
finished chunk is written at once as Parquet files under ``OUT/parts/`` (a temporary name,
then renamed: a chunk is whole or absent). ``OUT/run.json`` holds the arguments, the
resiliopt version and a SHA-256 of every input file; started again with the same arguments
and inputs a run skips the chunks already there (more events reuse them), otherwise it
refuses and names what differs. Ctrl-C (or SIGTERM) stops the workers and keeps the finished
chunks; the caller gets ``KeyboardInterrupt``.

Workers. The chunks run through :func:`resiliopt._parallel.run_jobs`, the one mechanism of
every Monte Carlo: the run's data (:class:`~resiliopt.emergency.evaluate_run.RunSpec`: the
loaded case, the levels, the template event's road layer and backup units, the N-1 ranking)
is pickled once by the client and loaded once per worker; each chunk's drawn events are sent
as data; the workers return the tables and the client writes them: no worker needs a path
(a cluster without a shared disk gives the tables of a local run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from resiliopt import __version__
from resiliopt._atomic import check_output_dir, output_directory, write_text_atomic
from resiliopt._parallel import dask_client, run_jobs, sigterm_as_interrupt
from resiliopt.case.infra import InfraCase, load_infra_case
from resiliopt.emergency.config import EmergencyConfig, load_emergency_config
from resiliopt.emergency.evaluate_events import EventGenerator, EventModel, draw_events
from resiliopt.emergency.evaluate_run import RunSpec, run_chunk
from resiliopt.emergency.evaluate_stats import compare
from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.operations import records
from resiliopt.emergency.plots import evaluation_plots
from resiliopt.emergency.replay import check_policies
from resiliopt.emergency.response import POLICIES, REPLAN, durations_modelled
from resiliopt.errors import InputError
from resiliopt.infra.experiment import case_token

CHUNK = 5
PARAMS_FILE = "run.json"
PARTS = "parts"
TABLES = ("events", "periods", "timing", "runs")  # a chunk's files; ``runs`` is written last
LAYOUT = 1
COMMAND = "emergency evaluate"
Progress = Callable[[int, int], None]


@dataclass
class EvaluationResult:
    """Tidy tables of an evaluation (every row names its ``event``; runs and periods their
    ``policy``)."""

    case: str
    params: dict
    #: one row per event: event, source, scenario, magnitude, epicentre, n_damaged, ...
    events: pd.DataFrame
    #: one row per (event, policy, layer): unserved_area (layer ``all``: the mean over
    #: layers, summed over periods), periods, periods_to_full_service, deferred, ...
    runs: pd.DataFrame
    #: one row per (policy, layer): mean, diff_vs_closed, ci_low, ci_high, win_rate, ...
    comparison: pd.DataFrame
    #: one row per (event, policy, period): level, unserved shares, damaged, started, ...
    periods: pd.DataFrame
    #: one row per (event, policy): seconds, plan_seconds, lp_solves (not reproducible)
    timing: pd.DataFrame
    out: Path | None = None

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            "parameters": self.params,
            "comparison": records(self.comparison),
            "out": str(self.out) if self.out is not None else None,
        }


def _check(events, seed, workers, chunk, bootstrap, max_periods, aftershock, policies, replan) -> list[str]:
    """Refuse bad arguments (InputError naming the CLI option) before anything is done."""
    for name, v, lo in (
        ("--events", events, 1),
        ("--seed", seed, 0),
        ("--chunk", chunk, 1),
        ("--bootstrap", bootstrap, 100),
        ("--max-periods", max_periods, 1),
    ):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise InputError(f"must be a whole number >= {lo} (got {v!r})", location=name)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InputError(f"must be a whole number >= 1 (got {workers!r})", location="--workers")
    if aftershock is not None and not (0.0 <= float(aftershock) <= 1.0):
        raise InputError(f"must be a probability in [0, 1] (got {aftershock!r})", location="--aftershocks")
    if replan not in REPLAN:
        raise InputError(f"must be one of {', '.join(REPLAN)} (got {replan!r})", location="--replan")
    pols = check_policies(policies)
    if "closed" not in pols:
        raise InputError(
            "the comparison is paired with the closed loop: include closed", location="--policies"
        )
    if len(set(pols)) < len(pols):
        raise InputError(f"a policy is named twice ({','.join(pols)})", location="--policies")
    return pols


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes(case: InfraCase, event_path: Path | None) -> dict[str, str]:
    """SHA-256 of every file the case and the template event were read from."""
    out = {}
    yaml_file = case.path if case.path.is_file() else case.path / "case.yaml"
    files = {"case.yaml": yaml_file, **{k: Path(p) for k, p in getattr(case, "_files", {}).items()}}
    for name, p in files.items():
        if p.is_file():
            out[f"case/{name}"] = _sha(p)
    if event_path is not None:
        ev = load_event(event_path)
        out["event"] = _sha(ev.path)
    return out


def _check_resume(pfile: Path, params: dict) -> None:
    try:
        old = json.loads(pfile.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the run's parameters: {exc}", pfile) from None
    if not isinstance(old, dict):
        raise InputError("not a run.json of resiliopt emergency evaluate; use another --out", pfile)
    changed = sorted(
        k
        for k in set(old.get("inputs", {})) | set(params["inputs"])
        if old.get("inputs", {}).get(k) != params["inputs"].get(k)
    )
    if changed:
        raise InputError(
            f"input file {', '.join(changed)} changed since this run started (SHA-256 differs); "
            "resuming would mix results of two inputs: use another --out",
            pfile,
        )
    differ = [k for k in params if k not in ("inputs", "events") and old.get(k) != params[k]]
    if differ:
        raise InputError(
            f"this folder holds a run with other arguments ({', '.join(differ)} differ); use another --out",
            pfile,
        )


def _part(out: Path, table: str, a: int, b: int) -> Path:
    return out / PARTS / f"{table}-{a:07d}-{b:07d}.parquet"


def _chunk_done(out: Path, a: int, b: int) -> bool:
    return all(_part(out, t, a, b).exists() for t in TABLES)


def _write_chunk(out: Path, a: int, b: int, tables: dict[str, pd.DataFrame]) -> None:
    for t in TABLES:  # ``runs`` last: its file marks the chunk as whole
        path = _part(out, t, a, b)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tables[t].to_parquet(tmp, index=False)
        os.replace(tmp, path)


def _remove_partial(out: Path) -> None:
    for p in (out / PARTS).glob(".*.parquet.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


# --------------------------------------------------------------------------- workers
def _chunk_task(spec: RunSpec, job) -> tuple:
    """One chunk of events on a worker (:func:`resiliopt._parallel.run_jobs`)."""
    a, b, evs = job
    return a, b, run_chunk(spec, evs)


# --------------------------------------------------------------------------- the run
def with_horizon(cfg: EmergencyConfig, horizon: int | None) -> EmergencyConfig:
    """``cfg`` with every level planning over ``horizon`` periods (None: as configured)."""
    if horizon is None:
        return cfg
    levels = [
        lv.model_copy(update={"response": lv.response.model_copy(update={"horizon": int(horizon)})})
        for lv in cfg.levels
    ]
    return cfg.model_copy(update={"levels": levels})


def _setup(case, event, config, source, model, policies, max_periods, replan, rel_gap, horizon):
    c = case if isinstance(case, InfraCase) else load_infra_case(case)
    ev = load_event(event, c) if event is not None else None  # checked against the case
    if config is not None:
        cfg = config if isinstance(config, EmergencyConfig) else load_emergency_config(config)
    else:
        cfg = event_config(c, ev)
    cfg = with_horizon(cfg, horizon)
    roads = ev.spec.roads if ev is not None else None
    generator = EventGenerator(c, model, source, roads)
    ranking = Monitor(c).ranking  # the failed_critical indicator and the criticality rule need it
    spec = RunSpec(
        c,
        cfg,
        roads,
        ev.spec.period_hours if ev else 24.0,
        tuple(policies),
        max_periods,
        replan,
        ranking,
        rel_gap,
        ev.spec if ev is not None else None,
    )
    return c, ev, cfg, generator, spec


def evaluate(
    case: str | Path | InfraCase,
    events: int = 40,
    seed: int = 0,
    policies: list[str] | tuple[str, ...] | str = POLICIES,
    source: str = "draw",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    aftershock: float | None = None,
    progress: Progress | None = None,
    event: str | Path | None = None,
    config: EmergencyConfig | dict | None = None,
    model: EventModel | dict | None = None,
    max_periods: int = 40,
    horizon: int | None = None,
    replan: str = "every",
    bootstrap: int = 2000,
    chunk: int = CHUNK,
    rel_gap: float | None = None,
    plots: bool = True,
) -> EvaluationResult:
    """Draw ``events`` events (``source``: ``draw`` or the case's damage ``scenarios``), replay
    every policy on each with common random numbers and compare them with the closed loop.

    ``event``: an event file whose road layer (depots, bridges), period length and levels the
    drawn events use (without it: no roads, the case's levels; ``config`` replaces the levels).
    ``aftershock``: the probability of mid-event damage per event (``model``, an
    :class:`~resiliopt.emergency.evaluate_events.EventModel` or its fields, sets the rest of
    the event distribution). ``horizon``: every level plans over this many periods (None: the
    levels' own). ``workers``: local processes (default: all cores; 1 runs here);
    ``scheduler``: a Dask scheduler address or ``local``. With ``out`` the run is resumable
    there (module docstring) and writes ``events.csv``, ``runs.csv``, ``comparison.csv``,
    ``summary.json`` and the plots; ``progress(done, total)`` counts events."""
    pols = _check(events, seed, workers, chunk, bootstrap, max_periods, aftershock, policies, replan)
    if horizon is not None and (not isinstance(horizon, int) or not 1 <= horizon <= 100):
        raise InputError(f"must be a whole number in 1..100 (got {horizon!r})", location="--horizon")
    model = EventModel(**model) if isinstance(model, dict) else (model or EventModel())
    if aftershock is not None:
        model = replace(model, aftershock=float(aftershock))
    if out is not None:
        check_output_dir(Path(out), COMMAND)  # before any input is read (a resumed run is allowed)
    c, ev, cfg, generator, spec = _setup(
        case, event, config, source, model, pols, max_periods, replan, rel_gap, horizon
    )
    params = {
        "case": c.name,
        "events": events,
        "seed": seed,
        "policies": pols,
        "source": source,
        "event_model": model.as_dict(),
        "event": str(ev.path) if ev is not None else None,
        "max_periods": max_periods,
        "horizon": horizon,
        "replan": replan,
        "rel_gap": rel_gap,
        "chunk": chunk,
        "durations_modelled": durations_modelled(),
        "layout": LAYOUT,
        "resiliopt": __version__,
        "levels": cfg.model_dump(mode="json"),
        "inputs": input_hashes(c, ev.path if ev is not None else None)
        if isinstance(case, str | Path)
        else {"case": case_token(c)},
    }
    workers = workers or os.cpu_count() or 1
    chunks = [(a, min(a + chunk, events)) for a in range(0, events, chunk)]
    pfile = Path(out) / PARAMS_FILE if out is not None else None
    if pfile is not None and pfile.exists():
        _check_resume(pfile, params)
    client, cluster = dask_client(scheduler, workers) if scheduler else (None, None)  # before any output
    try:
        if out is None:
            tables = _run(chunks, spec, generator, seed, workers, client, None, progress)
            return _result(c, params, tables, bootstrap, seed, None, plots)
        out = Path(out)
        with output_directory(out, COMMAND):
            (out / PARTS).mkdir(parents=True, exist_ok=True)
            write_text_atomic(pfile, json.dumps(params, indent=1))
            _remove_partial(out)
            tables = _run(chunks, spec, generator, seed, workers, client, out, progress)
            return _result(c, params, tables, bootstrap, seed, out, plots)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _run(chunks, spec, generator, seed, workers, client, out, progress) -> dict[str, pd.DataFrame]:
    """Run the chunks not yet written; return every chunk's tables (read back when resumed)."""
    total = chunks[-1][1]
    todo = [(a, b) for a, b in chunks if out is None or not _chunk_done(out, a, b)]
    done = total - sum(b - a for a, b in todo)
    if progress:
        progress(done, total)
    got: dict[tuple[int, int], dict[str, pd.DataFrame]] = {}
    jobs = []
    for a, b in todo:
        evs = draw_events(generator, seed, range(a, b))
        got[a, b] = {"events": pd.DataFrame([e.row(spec.roads) for e in evs])}
        jobs.append((a, b, evs))
    with sigterm_as_interrupt():
        try:
            results = run_jobs(_chunk_task, spec, jobs, workers, client, f"the run's data ({spec.case.name})")
            with contextlib.closing(results):  # an interrupt here stops the workers too
                for a, b, tabs in results:
                    got[a, b].update(tabs)
                    if out is not None:
                        _write_chunk(out, a, b, got[a, b])
                    done += b - a
                    if progress:
                        progress(done, total)
        except BaseException:
            if out is not None:
                _remove_partial(out)
            raise
    tables = {}
    for t in TABLES:
        parts = [got[a, b][t] if (a, b) in got else pd.read_parquet(_part(out, t, a, b)) for a, b in chunks]
        tables[t] = pd.concat([p for p in parts if len(p)], ignore_index=True) if parts else pd.DataFrame()
    return tables


def _result(c, params, tables, bootstrap, seed, out, plots) -> EvaluationResult:
    pols = params["policies"]
    order = {p: i for i, p in enumerate(pols)}
    runs = tables["runs"].sort_values(
        ["event", "policy", "layer"], key=lambda s: s.map(order) if s.name == "policy" else s, kind="stable"
    )
    runs = runs.reset_index(drop=True)
    events = tables["events"].sort_values("event", kind="stable").reset_index(drop=True)
    periods = (
        tables["periods"]
        .sort_values(
            ["event", "policy", "period"],
            key=lambda s: s.map(order) if s.name == "policy" else s,
            kind="stable",
        )
        .reset_index(drop=True)
    )
    comparison = compare(runs, "closed", bootstrap, seed)
    res = EvaluationResult(c.name, params, events, runs, comparison, periods, tables["timing"], out)
    if out is not None:
        for name, df in (("events", events), ("runs", runs), ("comparison", comparison)):
            tmp = out / f".{name}.csv.tmp"
            df.to_csv(tmp, index=False)
            os.replace(tmp, out / f"{name}.csv")
        summary = {**res.as_dict(), "bootstrap": bootstrap}
        write_text_atomic(out / "summary.json", json.dumps(summary, indent=1, allow_nan=False, default=str))
        if plots:
            evaluation_plots(runs, comparison, out, f"{c.name}: {len(events)} events, seed {params['seed']}")
    return res
