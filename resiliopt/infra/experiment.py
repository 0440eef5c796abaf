"""The INDP Monte Carlo experiment of Gonzalez et al. (2016) and its comparison with the
published results (docs/indp.md).

Each simulation draws a damage from the case's failure probabilities for one earthquake
magnitude (every node and link fails independently with its probability ``p``), then runs the
iterative INDP with ``v`` resources per period until nothing is damaged or a period repairs
nothing. Per simulation and iteration it records the paper's quantities R1..R9.

Reproducibility. Simulation ``i`` of magnitude ``M`` with seed ``s`` draws its damage with the
one sampler of every command (:func:`resiliopt.infra.damage.sample_damage`: uniforms from
``SeedSequence([s, M, i])`` over the failure table sorted by (kind, layer, element); simulation
0 is the damage of ``infra served|cascade|restore --magnitude M --seed s``), and its
solver starts cold (:meth:`~resiliopt.solvers.mip.PersistentMIP.reset`), so its numbers depend
on ``(s, M, i)`` alone, never on the worker count or on what a worker ran before.

Resume. Simulations are grouped in chunks of fixed size; each finished chunk is written at
once to ``OUT/parts/`` (temporary name, then rename). ``OUT/run.json`` holds the arguments; a
run started again with the same arguments skips the chunks already written, with other
arguments it refuses.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._atomic import write_text_atomic
from resiliopt._parallel import dask_client, run_jobs, sigterm_as_interrupt
from resiliopt.case import bundled_data_dir
from resiliopt.case.infra import load_infra_case
from resiliopt.errors import InputError
from resiliopt.formulations.indp import INDPOptions, damaged, mark_repaired, set_damage
from resiliopt.infra.damage import draw_damage, failure_table, magnitude_key, sample_damage
from resiliopt.infra.restoration import Restorer

__all__ = [
    "PUBLISHED_READING",
    "compare_published",
    "draw_damage",
    "failure_table",
    "load_published",
    "per_iteration",
    "run_experiment",
    "sample_damage",
    "summarize",
]

CHUNK = 25
PARAMS_FILE = "run.json"

#: the published quantities: name, the authors' R number, how a finished simulation carries on
QUANTITIES = [
    ("flow_cost", "R1"),
    ("reconstruction_cost", "R2"),
    ("space_preparation_cost", "R3"),
    ("flow_reconstruction_preparation_cost", "R4"),
    ("cumulative_reconstruction_cost", "R5"),
    ("unbalance_cost", "R6"),
    ("total_objective", "R7"),
    ("arcs_recovered", "R8"),
    ("nodes_recovered", "R9"),
]

RECORD_COLUMNS = [
    "magnitude",
    "v",
    "simulation",
    "iteration",
    "damaged_nodes",
    "damaged_links",
    "flow_cost",
    "reconstruction_cost",
    "space_preparation_cost",
    "unbalance_cost",
    "extension_cost",
    "arcs_recovered",
    "nodes_recovered",
    "left_nodes",
    "left_links",
    "status",
    "gap",
    "seconds",
]

_WORKER: dict = {}

#: the reading of the authors' model that reproduces their published Monte Carlo (docs/indp.md):
#: only the water commodity is served (power nodes enter as dependees of the water pumps), and
#: a two-way link is repaired as its two arcs (twice the cost and resource use; R8 counts 2).
PUBLISHED_READING = INDPOptions(arc_model="paired", service_layers=("water",))


def _load(case):
    if isinstance(case, str | Path):
        return load_infra_case(case)
    return case


def case_token(case) -> str:
    """A short identity of a case: its name/path, or a hash of an in-memory case's tables."""
    if isinstance(case, str | Path):
        return str(case)
    h = hashlib.sha256(pickle.dumps(case)).hexdigest()[:16]
    return f"{getattr(case, 'name', 'case')}#{h}"


def _restorer(case, token: str, v: float, options: INDPOptions, solver: str):
    key = (id(case), token, v, options, solver)  # the cache holds the case: its id stays its own
    if key not in _WORKER:
        _WORKER.clear()
        _WORKER[key] = Restorer(_load(case), 1, options, solver, resources=v)
    return _WORKER[key]


def run_simulation(restorer, table, seed, magnitude, v, simulation, max_iterations=None) -> list[dict]:
    """One damage-and-recovery simulation: one record per iteration."""
    dmg = draw_damage(table, seed, magnitude, simulation)  # the one sampler (infra/damage.py)
    restorer.solver.reset()
    nodes = [(la, el) for k, la, el in dmg.itertuples(index=False) if k == "node"]
    links = [(la, el) for k, la, el in dmg.itertuples(index=False) if k == "link"]
    model = restorer.model
    arcs = restorer.arcs_per_link
    set_damage(model, nodes, links)
    left_n, left_l = damaged(model)
    limit = max_iterations or len(left_n) + len(left_l) + 1
    rows = []
    for it in range(1, limit + 1):
        r = restorer._solve()
        done = restorer._repairs()
        c = restorer._costs()[0]
        mark_repaired(model, done)
        left_n, left_l = damaged(model)
        row = {
            "magnitude": magnitude,
            "v": v,
            "simulation": simulation,
            "iteration": it,
            "damaged_nodes": len(nodes),
            "damaged_links": len(links),
            "flow_cost": c["flow_cost"],
            "reconstruction_cost": c["node_repair_cost"] + c["link_repair_cost"],
            "space_preparation_cost": c["space_cost"],
            "unbalance_cost": c["unbalance_cost"],
            "extension_cost": c["extension_cost"],
            "arcs_recovered": sum(arcs.get(d[1:3], 1) for d in done if d[0] == "link"),
            "nodes_recovered": sum(1 for d in done if d[0] == "node"),
            "left_nodes": len(left_n),
            "left_links": len(left_l),
            "status": r.status,
            "gap": r.gap if r.gap is not None else np.nan,
            "seconds": r.seconds,
        }
        for s in restorer._served():
            row[f"served_{s['layer']}"] = s["share"]
        rows.append(row)
        if not done or not (left_n or left_l):
            break
    return rows


def run_chunk(case, token, magnitude, v, seed, start, stop, options, solver, max_iterations) -> pd.DataFrame:
    restorer = _restorer(case, token, v, options, solver)
    table = failure_table(restorer.case, magnitude)
    rows = []
    for i in range(start, stop):
        rows += run_simulation(restorer, table, seed, magnitude, v, i, max_iterations)
    return pd.DataFrame(rows)


def _part(parts: Path, magnitude, v, start, stop) -> Path:
    return parts / f"M{magnitude}-v{v:g}-{start:07d}-{stop:07d}.parquet"


def _chunk_task(case, job) -> tuple:
    """One chunk on a worker (:func:`resiliopt._parallel.run_jobs`): a local worker writes the
    chunk's file itself (``parts``: same disk), a Dask worker (``parts`` None) returns it."""
    token, magnitude, v, seed, start, stop, options, solver, max_it, parts = job
    df = run_chunk(case, token, magnitude, v, seed, start, stop, options, solver, max_it)
    if parts is None:
        return magnitude, v, start, stop, df
    _write_part(Path(parts), magnitude, v, start, stop, df)
    return magnitude, v, start, stop, None


def _write_part(parts: Path, magnitude, v, start, stop, df: pd.DataFrame) -> None:
    path = _part(parts, magnitude, v, start, stop)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def run_experiment(
    case,
    magnitudes: list[float],
    resources: list[float],
    simulations: int,
    seed: int,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    options: INDPOptions | None = None,
    solver: str = "highs",
    max_iterations: int | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run ``simulations`` damage-and-recovery simulations for every magnitude and every ``v``.

    Returns the records (one row per simulation and iteration, :data:`RECORD_COLUMNS` plus the
    served share of each layer), also written to ``OUT/records.parquet``.
    """
    if simulations < 1:
        raise InputError(f"simulations must be >= 1 (got {simulations})", location="--simulations")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be >= 1 (got {workers})", location="--workers")
    if chunk < 1:
        raise InputError(f"chunk must be >= 1 (got {chunk})", location="--chunk")
    for name, values in (("--magnitudes", magnitudes), ("--v", resources)):
        if not len(values):
            raise InputError("give at least one value", location=name)
        for x in values:
            if not np.isfinite(float(x)) or (name == "--v" and float(x) < 0):
                raise InputError(
                    f"each value must be a finite number{' >= 0' * (name == '--v')} (got {x!r})",
                    location=name,
                )
        if len(set(map(float, values))) < len(values):
            raise InputError(f"a value is given twice (got {list(values)})", location=name)
    # a whole magnitude is an int (the seed of the draw, the records, run.json, the part names)
    magnitudes = [magnitude_key(m) for m in magnitudes]
    options = options or INDPOptions()
    options.validate()
    token = case_token(case)
    loaded = _load(case)
    for m in magnitudes:
        failure_table(loaded, m, "--magnitudes")  # every magnitude exists, before anything is written
    out = Path(out)
    parts = out / "parts"
    params = {
        "case": token,
        "magnitudes": list(magnitudes),
        "v": [float(v) for v in resources],
        "simulations": simulations,
        "seed": seed,
        "options": json.loads(json.dumps(asdict(options))),
        "solver": solver,
        "max_iterations": max_iterations,
        "chunk": chunk,
    }
    pfile = out / PARAMS_FILE
    if pfile.exists():
        old = json.loads(pfile.read_text())
        # more (or fewer) simulations reuse the chunks already written: chunk k holds the same
        # simulations whatever the total
        same = {k: v for k, v in old.items() if k != "simulations"}
        if same != {k: v for k, v in params.items() if k != "simulations"}:
            diff = ", ".join(k for k in params if old.get(k) != params[k])
            raise InputError(
                f"this directory holds a run with other arguments ({diff} differ); use another --out",
                file=out,
            )
    workers = workers or os.cpu_count() or 1
    client = cluster = None
    if scheduler:
        client, cluster = dask_client(scheduler, workers)
    try:
        parts.mkdir(parents=True, exist_ok=True)
        write_text_atomic(pfile, json.dumps(params, indent=1))
        chunks = [
            (m, float(v), s, min(s + chunk, simulations))
            for m in magnitudes
            for v in resources
            for s in range(0, simulations, chunk)
        ]
        todo = [c for c in chunks if not _part(parts, *c).exists()]
        total = len(magnitudes) * len(resources) * simulations
        done = total - sum(b - a for _, _, a, b in todo)
        if progress:
            progress(done, total)
        dest = None if client is not None else str(parts)  # Dask workers need no access to --out
        jobs = [(token, m, v, seed, a, b, options, solver, max_iterations, dest) for m, v, a, b in todo]
        what = f"the case {loaded.name}"
        with (
            sigterm_as_interrupt(),
            contextlib.closing(
                run_jobs(_chunk_task, loaded, jobs, workers, client, what)  # the loaded case, not its path
            ) as results,
        ):
            for m, v, a, b, df in results:
                if df is not None:
                    _write_part(parts, m, v, a, b, df)  # the client writes what a Dask worker sent back
                done += b - a
                if progress:
                    progress(done, total)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    rec = pd.concat([pd.read_parquet(_part(parts, *c)) for c in chunks], ignore_index=True)
    rec = rec.sort_values(["magnitude", "v", "simulation", "iteration"], kind="stable").reset_index(drop=True)
    tmp = out / ".records.parquet.tmp"
    rec.to_parquet(tmp, index=False)
    os.replace(tmp, out / "records.parquet")
    return rec


def per_iteration(records: pd.DataFrame, iterations: int | None = None) -> pd.DataFrame:
    """Each simulation carried to ``iterations`` iterations as the authors' arrays are (a
    finished simulation keeps its flow and unbalance costs and repairs nothing), with the
    derived R4, R5 and R7; one row per (magnitude, v, simulation, iteration)."""
    rows = []
    n_it = iterations or int(records["iteration"].max())
    served = [c for c in records.columns if c.startswith("served_")]
    for (m, v, s), g in records.groupby(["magnitude", "v", "simulation"], sort=True):
        g = g.sort_values("iteration")
        k = len(g)
        idx = np.minimum(np.arange(n_it), k - 1)
        live = np.arange(n_it) < k
        d = {"magnitude": m, "v": v, "simulation": s, "iteration": np.arange(1, n_it + 1)}
        for col in ("flow_cost", "unbalance_cost", *served):
            d[col] = g[col].to_numpy()[idx]
        for col in ("reconstruction_cost", "space_preparation_cost", "arcs_recovered", "nodes_recovered"):
            d[col] = np.where(live, g[col].to_numpy()[idx], 0.0)
        rows.append(pd.DataFrame(d))
    p = pd.concat(rows, ignore_index=True)
    p["flow_reconstruction_preparation_cost"] = (
        p["flow_cost"] + p["reconstruction_cost"] + p["space_preparation_cost"]
    )
    rs = p["reconstruction_cost"] + p["space_preparation_cost"]
    p["cumulative_reconstruction_cost"] = (
        rs.groupby([p["magnitude"], p["v"], p["simulation"]]).cumsum() + p["flow_cost"]
    )
    p["total_objective"] = p["flow_reconstruction_preparation_cost"] + p["unbalance_cost"]
    return p


def summarize(records: pd.DataFrame, iterations: int | None = None) -> pd.DataFrame:
    """Mean, standard deviation and standard error per (magnitude, v, iteration, quantity)."""
    p = per_iteration(records, iterations)
    long = p.melt(
        id_vars=["magnitude", "v", "simulation", "iteration"],
        value_vars=[q for q, _ in QUANTITIES],
        var_name="quantity",
    )
    g = long.groupby(["magnitude", "v", "iteration", "quantity"], sort=False)["value"]
    s = g.agg(mean="mean", std="std", simulations="count").reset_index()
    s["std"] = s["std"].fillna(0.0)
    s["se"] = s["std"] / np.sqrt(s["simulations"])
    s["R"] = s["quantity"].map(dict(QUANTITIES))
    return s


def compare_published(records: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Our mean and standard error beside the published mean per iteration and quantity.

    ``z`` is the difference over the combined standard error
    :math:`\\sqrt{\\max(se_{ours}, s_{pub}/\\sqrt{n_{ours}})^2 + se_{pub}^2}` (the published
    standard error is :math:`s_{pub}/\\sqrt{n_{pub}}`; the floor keeps a small run that saw no
    rare event, whose sample std is zero, from claiming a precision it does not have);
    ``within_3se`` flags :math:`|z| \\le 3`. Differences under 1e-6 of the published scale
    count as zero (the published arrays carry round-off like 1e-12).
    """
    out = []
    for (m, v), pub in published.groupby(["magnitude", "v"]):
        rec = records[(records["magnitude"] == m) & (records["v"] == v)]
        if not len(rec):
            continue
        n_it = max(int(pub["iteration"].max()), int(rec["iteration"].max()))
        ours = summarize(rec, n_it)
        mm = ours.merge(
            pub[["magnitude", "v", "iteration", "quantity", "mean", "std", "simulations"]],
            on=["magnitude", "v", "iteration", "quantity"],
            how="left",
            suffixes=("", "_published"),
        )
        out.append(mm)
    if not out:
        raise InputError("no simulated (magnitude, v) pair has published results", location="--magnitude")
    c = pd.concat(out, ignore_index=True).rename(
        columns={
            "mean_published": "published_mean",
            "std_published": "published_std",
            "simulations_published": "published_simulations",
        }
    )
    c["published_se"] = c["published_std"] / np.sqrt(c["published_simulations"])
    c["diff"] = c["mean"] - c["published_mean"]
    scale = c.groupby("quantity")["published_mean"].transform(lambda s: s.abs().max())
    # our standard error, but never below what the published spread implies for our sample
    # size: a small run that saw no rare event (a stuck simulation) has a sample std of zero
    ours = np.maximum(c["se"], c["published_std"] / np.sqrt(c["simulations"]))
    se = np.sqrt(ours**2 + c["published_se"] ** 2)
    tiny = c["diff"].abs() <= 1e-6 * scale.fillna(1.0) + 1e-9
    c["z"] = np.where(tiny, 0.0, c["diff"] / se.where(se > 0))
    has = c["published_mean"].notna()
    c["within_3se"] = pd.array((c["z"].abs() <= 3).where(has, None), dtype="boolean")  # NA: nothing published
    return c[
        [
            "magnitude",
            "v",
            "iteration",
            "quantity",
            "R",
            "mean",
            "se",
            "simulations",
            "published_mean",
            "published_se",
            "diff",
            "z",
            "within_3se",
        ]
    ]


def published_dir() -> Path:
    """The bundled published results (data/indp_published: M6 and M7 of Gonzalez et al. 2016)."""
    return bundled_data_dir() / "indp_published"


def load_published(directory: str | Path | None = None) -> pd.DataFrame:
    """All ``M*_recovery_mean_std.csv`` files of a directory (default: :func:`published_dir`)."""
    d = Path(directory) if directory is not None else published_dir()
    files = sorted(d.glob("M*_recovery_mean_std.csv"))
    if not files:
        raise InputError("no M*_recovery_mean_std.csv files here", file=d)
    tabs = []
    for f in files:
        t = pd.read_csv(f)
        need = {"magnitude", "v", "iteration", "quantity", "mean", "std", "simulations"}
        miss = need - set(t.columns)
        if miss:
            raise InputError(f"missing columns {sorted(miss)}", file=f)
        tabs.append(t)
    return pd.concat(tabs, ignore_index=True)
