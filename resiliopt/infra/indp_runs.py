"""``infra restore`` and ``infra simulate`` as library calls (docs/indp.md).

:func:`indp_options` turns the command's reading options into :class:`INDPOptions`, checked
against the case (a backup unit or a service layer of a layer the case does not have is refused
by name). :func:`restore_run` resolves the damage with the one reader and sampler
(:mod:`resiliopt.infra.damage`), plans, checks the plan against the input and writes the plan's
folder; :func:`simulate_run` runs (or resumes) the Monte Carlo, summarises it, compares it with
published results and writes the folder's summary files and plots. Nothing here prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory, check_output_dir, output_directory, write_text_atomic
from resiliopt._json import dumps
from resiliopt.case.infra import InfraCase
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit, INDPOptions
from resiliopt.infra.damage import DamageSource
from resiliopt.infra.experiment import (
    PUBLISHED_READING,
    compare_published,
    load_published,
    per_iteration,
    run_experiment,
    summarize,
)
from resiliopt.infra.plots import comparison_plot, fan_charts, restoration_curves
from resiliopt.infra.restoration import Plan, PlanCheck, check_plan, restore
from resiliopt.infra.runs import as_case, check_choice, elements

READINGS = ("model", "published")
METHODS = ("iterative", "td")
SOLVERS = ("highs", "scip")


def indp_options(
    case: InfraCase | None = None,
    reading: str = "model",
    arc_model: str | None = None,
    service_layers: tuple[str, ...] | str | None = None,
    dependency_rule: str = "any",
    tier1_share: float | None = None,
    backups: list[tuple] | None = None,
    durations: str = "case",
) -> INDPOptions:
    """The model variant of ``--reading`` (``published``: :data:`PUBLISHED_READING`) with the
    explicit options over it; ``backups`` as ``(layer, count, capacity[, cost])`` tuples (or
    the CLI's ``Backup``, which carries the text as typed); ``durations``: ``case`` (each repair
    takes the case's ``repair_time``, rounded up) or ``one`` (docs/indp.md). With ``case``,
    every layer named must be one of the case's."""
    check_choice(reading, READINGS, "--reading")
    check_choice(durations, ("case", "one"), "--durations")
    base = PUBLISHED_READING if reading == "published" else INDPOptions()
    if isinstance(service_layers, str):
        service_layers = tuple(s.strip() for s in service_layers.split(",") if s.strip())
    units, specs = [], []
    for k, b in enumerate(backups or []):
        if not (isinstance(b, tuple | list) and len(b) >= 3):
            raise InputError(
                f"expected (layer, count, capacity[, cost]) (got {b!r})", location=f"--backup[{k}]"
            )
        units.append(BackupUnit(str(b[0]), int(b[1]), float(b[2]), float(b[3]) if len(b) >= 4 else 0.0))
        specs.append(
            getattr(b, "spec", None) or ":".join(f"{x:g}" if isinstance(x, float) else str(x) for x in b)
        )
    opts = INDPOptions(
        dependency_rule=dependency_rule,
        tier1_min_share=tier1_share,
        backups=tuple(units),
        arc_model=arc_model or base.arc_model,
        service_layers=tuple(service_layers) if service_layers else base.service_layers,
        durations=durations,
    )
    opts.validate()
    if case is not None:
        layers = list(case.layers["layer"])
        for k, u in enumerate(opts.backups):
            if u.layer not in layers:
                raise InputError(
                    f"{specs[k]!r}: {case.name} has no layer {u.layer!r} (layers: {', '.join(layers)})",
                    location=f"--backup[{k}]",
                )
        for s in opts.service_layers or ():
            if s not in layers:
                raise InputError(
                    f"{case.name} has no layer {s!r} (layers: {', '.join(layers)})",
                    location="--service-layers",
                )
    return opts


# --------------------------------------------------------------------------- restore
@dataclass
class RestoreRun:
    case: InfraCase
    damage: str
    method: str
    solver: str
    plan: Plan
    check: PlanCheck
    seconds: float

    @property
    def all_optimal(self) -> bool:
        return bool((self.plan.mip["status"] == "optimal").all())

    @property
    def ok(self) -> bool:
        """Every solve optimal and the plan passed the check against the input."""
        return self.check.ok and self.all_optimal

    def to_dict(self) -> dict:
        p, chk = self.plan, self.check
        return {
            "case": self.case.name,
            "damage": self.damage,
            "damaged": {
                "nodes": int((p.damage.kind == "node").sum()),
                "links": int((p.damage.kind == "link").sum()),
            },
            "damaged_elements": elements(p.damage),
            "method": self.method,
            "periods": int(p.costs["period"].max()),
            "objective": p.objective,
            "max_gap": p.max_gap,
            "all_optimal": self.all_optimal,
            "check_ok": chk.ok,
            "objective_recomputed": chk.objective_recomputed,
            "seconds": round(self.seconds, 3),
            "solver": self.solver,
            "unrepaired": len(p.unrepaired),
            "costs": p.costs.to_dict(orient="records"),
            "served": p.served.to_dict(orient="records"),
            "repairs": p.repairs.to_dict(orient="records"),
            "checks": chk.checks.to_dict(orient="records"),
        }


def restore_run(
    case: str | Path | InfraCase,
    damage: DamageSource,
    method: str = "iterative",
    periods: int = 10,
    resources: float | None = None,
    options: dict | INDPOptions | None = None,
    solver: str = "highs",
    out: Path | None = None,
    force: bool = False,
    plots: bool = True,
) -> RestoreRun:
    """One restoration plan for exactly one damage source, checked against the input tables;
    ``options``: an :class:`INDPOptions` or the keyword arguments of :func:`indp_options`.
    ``out``: the plan's tables (CSV; flows and nodes parquet), ``plan.json`` and the curves."""
    check_choice(method, METHODS, "--method")
    check_choice(solver, SOLVERS, "--solver")
    if out is not None:
        check_output_dir(out, "infra restore", force)
    c = as_case(case)
    opts = options if isinstance(options, INDPOptions) else indp_options(c, **(options or {}))
    dmg, what = damage.resolve(c, exactly_one=True)
    t0 = time.perf_counter()
    plan = restore(c, dmg, method, periods, resources, opts, solver)
    chk = check_plan(c, plan, opts, damage=dmg, resources=resources)  # the input, not the plan's tables
    run = RestoreRun(c, what, method, solver, plan, chk, time.perf_counter() - t0)
    if out is not None:
        summary = {k: v for k, v in run.to_dict().items() if k not in ("costs", "served")}
        inputs = {
            "case": c.name,
            "case_path": str(Path(c.path).resolve()),
        }  # the report's map reads the case again
        with atomic_directory(out, "infra restore", force, kind="infra-restore", inputs=inputs) as tmp:
            for name in ("repairs", "costs", "served", "mip", "resources", "damage", "unrepaired"):
                getattr(plan, name).to_csv(tmp / f"{name}.csv", index=False)
            run.check.checks.to_csv(tmp / "check.csv", index=False)
            plan.flows.to_parquet(tmp / "flows.parquet", index=False)
            plan.nodes.to_parquet(tmp / "nodes.parquet", index=False)
            (tmp / "plan.json").write_text(dumps(summary))
            if plots:
                restoration_curves(plan.served, tmp, f"{c.name}: {method} INDP, {what}")
    return run


# --------------------------------------------------------------------------- simulate
@dataclass
class SimulateRun:
    case: str
    seed: int
    magnitudes: list
    resources: list
    out: Path
    records: pd.DataFrame
    summary: pd.DataFrame
    per_run: pd.DataFrame  # magnitude, v, simulations, iterations_mean, unbalanced_at_end
    comparison: pd.DataFrame | None
    seconds: float
    result: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.result


def simulate_run(
    case: str | Path | InfraCase,
    magnitudes: list[float],
    resources: list[float],
    simulations: int,
    seed: int,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    options: dict | INDPOptions | None = None,
    solver: str = "highs",
    published: str | Path | None = None,
    plots: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SimulateRun:
    """Run or resume the Monte Carlo under ``out`` and write summary.csv, comparison.csv
    (``published``: ``"bundled"`` or a directory of M*_recovery_mean_std.csv), the plots and
    summary.json. Every option is checked (and the published files read) before anything is
    written."""
    check_choice(solver, SOLVERS, "--solver")
    out = Path(out)
    check_output_dir(out, "infra simulate")  # before any input is read
    loaded = as_case(case)
    opts = options if isinstance(options, INDPOptions) else indp_options(loaded, **(options or {}))
    pub = None
    if published is not None:
        pub = load_published(None if str(published) == "bundled" else Path(published))
        pairs = pub[["magnitude", "v"]].drop_duplicates().itertuples(index=False)
        have = {(float(m), float(v)) for m, v in pairs}
        if not any((float(m), float(v)) in have for m in magnitudes for v in resources):
            raise InputError(
                f"no (magnitude, v) pair of this run has published results in {published!r} "
                f"(published: {', '.join(f'M{m:g} v={v:g}' for m, v in sorted(have))})",
                location="--published",
            )
    inputs = {
        "case": loaded.name,
        "case_path": str(Path(loaded.path).resolve()),
    }  # the report's map reads the case again
    with output_directory(out, "infra simulate", kind="infra-simulate", inputs=inputs):
        t0 = time.perf_counter()
        rec = run_experiment(
            case,
            magnitudes,
            resources,
            simulations,
            seed,
            out,
            workers,
            scheduler,
            opts,
            solver,
            progress=progress,
        )
        elapsed = time.perf_counter() - t0
        summ = summarize(rec)
        summ.to_csv(out / ".summary.csv.tmp", index=False)
        (out / ".summary.csv.tmp").replace(out / "summary.csv")
        cmp = None
        if pub is not None:
            cmp = compare_published(rec, pub)
            cmp.to_csv(out / ".comparison.csv.tmp", index=False)
            (out / ".comparison.csv.tmp").replace(out / "comparison.csv")
        if plots:
            fan_charts(per_iteration(rec), out)
            if cmp is not None:
                comparison_plot(cmp, out)
        last = rec.groupby(["magnitude", "v", "simulation"]).tail(1)
        per = (
            last.groupby(["magnitude", "v"])
            .agg(
                simulations=("simulation", "size"),
                iterations_mean=("iteration", "mean"),
                unbalanced_at_end=("unbalance_cost", lambda s: int((s > 1e-6).sum())),
            )
            .reset_index()
        )
        result = {
            "out": str(out),
            "seconds_this_invocation": round(elapsed, 2),
            "runs": per.to_dict(orient="records"),
            "max_gap": float(rec["gap"].max()),
            "all_optimal": bool((rec["status"] == "optimal").all()),
        }
        if cmp is not None:
            result["published_cells"] = int(cmp["published_mean"].notna().sum())
            result["beyond_3se"] = int((~cmp["within_3se"] & cmp["published_mean"].notna()).sum())
        write_text_atomic(out / "summary.json", json.dumps(json.loads(dumps(result)), indent=1))
    name = case if isinstance(case, str | Path) else loaded.name
    return SimulateRun(
        str(name), seed, list(magnitudes), list(resources), out, rec, summ, per, cmp, elapsed, result
    )
