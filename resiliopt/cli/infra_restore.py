"""CLI: ``resiliopt infra restore`` and ``resiliopt infra simulate`` (INDP restoration),
thin wrappers over resiliopt.infra.restoration and resiliopt.infra.experiment (docs/indp.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli._output import plain_console, print_json
from resiliopt.cli.infra import CASE, JSON, dumps, infra_app
from resiliopt.errors import InputError

console = plain_console()
err = Console(highlight=False, stderr=True)
MAGNITUDE = opt.Number(int, 0, 12, what="a whole magnitude")
PERIODS = opt.Number(int, 1, 1000, what="a whole number of periods")

READINGS = ("model", "published")


def _options(
    reading: str,
    arc_model: str | None,
    service_layers: str | None,
    dependency_rule: str,
    tier1_share: float | None,
    backups: list[str] | None,
):
    from resiliopt.formulations.indp import BackupUnit, INDPOptions
    from resiliopt.infra.experiment import PUBLISHED_READING

    if reading not in READINGS:
        raise InputError(
            f"--reading must be one of {', '.join(READINGS)} (got {reading!r})", location="--reading"
        )
    base = PUBLISHED_READING if reading == "published" else INDPOptions()
    units = []
    for k, spec in enumerate(backups or []):
        parts = spec.split(":")
        try:
            if len(parts) not in (3, 4):
                raise ValueError
            units.append(
                BackupUnit(
                    parts[0], int(parts[1]), float(parts[2]), float(parts[3]) if len(parts) == 4 else 0.0
                )
            )
        except ValueError:
            raise InputError(
                f"--backup must be LAYER:COUNT:CAPACITY[:COST] (got {spec!r})", location=f"--backup[{k}]"
            ) from None
    opts = INDPOptions(
        dependency_rule=dependency_rule,
        tier1_min_share=tier1_share,
        backups=tuple(units),
        arc_model=arc_model or base.arc_model,
        service_layers=tuple(s.strip() for s in service_layers.split(",") if s.strip())
        if service_layers
        else base.service_layers,
    )
    opts.validate()
    return opts


READING = typer.Option(
    "model",
    "--reading",
    help="model: every layer served, a two-way link is one element; published: the reading that "
    "reproduces the authors' Monte Carlo (water served, links as arc pairs; docs/indp.md)",
)
ARC_MODEL = typer.Option(None, "--arc-model", help="link | directed | paired (overrides --reading)")
SERVICE = typer.Option(None, "--service-layers", help="comma-separated layers whose demand is served")
RULE = typer.Option("any", "--dependency-rule", help="any (paper: sum of gamma >= 1 per layer) | all")
TIER1 = opt.SHARE.option(
    None, "--tier1-share", help="minimum served share of tier-1 loads per layer and period"
)
BACKUP = typer.Option(None, "--backup", help="mobile backup units LAYER:COUNT:CAPACITY[:COST] (repeatable)")
SOLVER = typer.Option("highs", "--solver", help="highs | scip")


def _damage(
    case, damage: str | None, damage_file: Path | None, magnitude: int | None, seed: int, simulation: int
):
    from resiliopt.infra.experiment import failure_table, sample_damage

    given = [x is not None for x in (damage, damage_file, magnitude)]
    if sum(given) != 1:
        raise InputError(
            "give exactly one of --damage NAME, --damage-file CSV, --magnitude M", location="--damage"
        )
    if damage is not None:
        return case.damage_scenario(damage), f"scenario {damage}"
    if damage_file is not None:
        if not damage_file.exists():
            raise InputError("file not found", file=damage_file)
        try:
            t = pd.read_csv(damage_file, dtype=str)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"not a CSV table: {exc}", file=damage_file) from None
        for col in ("kind", "layer", "element"):
            if col not in t.columns:
                raise InputError(f"missing column {col!r} (need kind, layer, element)", file=damage_file)
        return t[["kind", "layer", "element"]], str(damage_file)
    tab = failure_table(case, magnitude)
    return sample_damage(tab, seed, magnitude, simulation), f"M{magnitude} draw {simulation} (seed {seed})"


@infra_app.command("restore")
def restore_cmd(
    case: str = CASE,
    damage: str = typer.Option(None, "--damage", help="a damage scenario of the case, e.g. set0/sce1"),
    damage_file: Path = typer.Option(
        None, "--damage-file", help="CSV of failed elements: kind, layer, element"
    ),
    magnitude: int = MAGNITUDE.option(
        None, "--magnitude", help="draw the damage from the failure probabilities"
    ),
    seed: int = opt.SEED.option(0, "--seed", help="seed of the damage draw (with --magnitude)"),
    simulation: int = opt.SCENARIO.option(0, "--simulation", help="index of the draw (with --magnitude)"),
    method: str = typer.Option("iterative", "--method", help="iterative (INDP, one period at a time) | td"),
    periods: int = PERIODS.option(10, "--periods", help="td-INDP horizon T"),
    v: float = opt.NONNEG.option(None, "--v", help="repair resources per period (default: the case's)"),
    reading: str = READING,
    arc_model: str = ARC_MODEL,
    service_layers: str = SERVICE,
    dependency_rule: str = RULE,
    tier1_share: float = TIER1,
    backup: list[str] = BACKUP,
    solver: str = SOLVER,
    out: Path = typer.Option(
        None, "--out", help="write the plan's tables and plots here (replaced atomically)"
    ),
    force: bool = opt.FORCE,
    no_plots: bool = typer.Option(False, "--no-plots"),
    as_json: bool = JSON,
) -> int:
    """Optimal restoration plan (INDP / td-INDP) for one damage, checked against the input."""
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.infra import load_infra_case
    from resiliopt.infra.restoration import check_plan, restore

    if out is not None:
        check_output_dir(out, "infra restore", force)
    opts = _options(reading, arc_model, service_layers, dependency_rule, tier1_share, backup)
    c = load_infra_case(case)
    dmg, what = _damage(c, damage, damage_file, magnitude, seed, simulation)
    t0 = time.perf_counter()
    plan = restore(c, dmg, method, periods, v, opts, solver)
    seconds = time.perf_counter() - t0
    chk = check_plan(c, plan, opts)
    served = plan.served.pivot(index="period", columns="layer", values="share")
    summary = {
        "case": c.name,
        "damage": what,
        "damaged": {
            "nodes": int((plan.damage.kind == "node").sum()),
            "links": int((plan.damage.kind == "link").sum()),
        },
        "method": method,
        "periods": int(plan.costs["period"].max()),
        "objective": plan.objective,
        "max_gap": plan.max_gap,
        "all_optimal": bool((plan.mip["status"] == "optimal").all()),
        "check_ok": chk.ok,
        "objective_recomputed": chk.objective_recomputed,
        "seconds": round(seconds, 3),
        "solver": solver,
        "unrepaired": len(plan.unrepaired),
        "costs": plan.costs.to_dict(orient="records"),
        "served": plan.served.to_dict(orient="records"),
        "repairs": plan.repairs.to_dict(orient="records"),
        "checks": chk.checks.to_dict(orient="records"),
    }
    if out is not None:
        with atomic_directory(out, "infra restore", force) as tmp:
            plan.repairs.to_csv(tmp / "repairs.csv", index=False)
            plan.costs.to_csv(tmp / "costs.csv", index=False)
            plan.served.to_csv(tmp / "served.csv", index=False)
            plan.mip.to_csv(tmp / "mip.csv", index=False)
            plan.resources.to_csv(tmp / "resources.csv", index=False)
            plan.damage.to_csv(tmp / "damage.csv", index=False)
            plan.unrepaired.to_csv(tmp / "unrepaired.csv", index=False)
            chk.checks.to_csv(tmp / "check.csv", index=False)
            plan.flows.to_parquet(tmp / "flows.parquet", index=False)
            plan.nodes.to_parquet(tmp / "nodes.parquet", index=False)
            (tmp / "plan.json").write_text(
                dumps({k: summary[k] for k in summary if k not in ("costs", "served")})
            )
            if not no_plots:
                from resiliopt.reports.indp_plots import restoration_curves

                restoration_curves(plan.served, tmp, f"{c.name}: {method} INDP, {what}")
    code = 0 if chk.ok and summary["all_optimal"] else 1
    if as_json:
        print_json(summary)
        return code
    t = Table(
        title=f"{c.name}: {method} INDP, {what} ({summary['damaged']['nodes']} nodes, "
        f"{summary['damaged']['links']} links damaged)"
    )
    for col in ["t", "rep.", "flow", "repair", "spaces", "unbal.", "objective", *served.columns]:
        t.add_column(col, justify="right")
    nrep = plan.repairs.groupby("period").size()
    for r in plan.costs.itertuples(index=False):
        t.add_row(
            str(r.period),
            str(int(nrep.get(r.period, 0))),
            f"{r.flow_cost:.4g}",
            f"{r.node_repair_cost + r.link_repair_cost:.4g}",
            f"{r.space_cost:.4g}",
            f"{r.unbalance_cost:.3g}",
            f"{r.objective:.5g}",
            *[f"{served.at[r.period, k]:.0%}" for k in served.columns],
        )
    console.print(t)
    gap = f"{plan.max_gap:.2g}" if plan.max_gap == plan.max_gap else "n/a"
    proof = "all optimal" if summary["all_optimal"] else "NOT all optimal"
    console.print(
        f"objective {plan.objective:,.6g} (max MIP gap {gap}, {proof}); "
        f"independent check: {'passed' if chk.ok else 'FAILED'} "
        f"(recomputed {chk.objective_recomputed:,.6g}); "
        f"{len(plan.unrepaired)} element(s) left unrepaired; {seconds:.2f} s"
    )
    if not chk.ok:
        for r in chk.checks.query("not ok").itertuples(index=False):
            console.print(f"  [red]failed[/]: {r.check} {r.detail}")
    if out is not None:
        console.print(f"tables and plots in {out}")
    return code


def _floats(s: str, name: str) -> list[float]:
    try:
        vals = [float(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"expected comma-separated numbers (got {s!r})", location=name) from None
    if not vals:
        raise InputError("expected at least one number", location=name)
    return vals


@infra_app.command("simulate")
def simulate_cmd(
    case: str = CASE,
    magnitudes: str = typer.Option("6", "--magnitudes", help="comma-separated earthquake magnitudes"),
    v: str = typer.Option("3", "--v", help="comma-separated repair resources per period"),
    simulations: int = opt.SCENARIOS.option(
        1000, "--simulations", help="damage-and-recovery simulations per (M, v)"
    ),
    seed: int = opt.SEED.option(0, "--seed", help="run seed"),
    out: Path = typer.Option(
        ..., "--out", help="output directory (a killed run resumes here; more --simulations extend it)"
    ),
    workers: int = opt.WORKERS.option(None, "--workers", help="local worker processes (default: all cores)"),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address, or 'local'"),
    reading: str = READING,
    arc_model: str = ARC_MODEL,
    service_layers: str = SERVICE,
    dependency_rule: str = RULE,
    solver: str = SOLVER,
    published: str = typer.Option(
        None,
        "--published",
        help="compare with published results: 'bundled' (Gonzalez et al. 2016, M6 and M7) or a "
        "directory of M*_recovery_mean_std.csv",
    ),
    no_progress: bool = typer.Option(False, "--no-progress"),
    no_plots: bool = typer.Option(False, "--no-plots"),
    as_json: bool = JSON,
) -> None:
    """Monte Carlo of damage (failure probabilities) and iterative INDP recovery, per M and v."""
    from resiliopt._atomic import output_directory, write_text_atomic
    from resiliopt.infra.experiment import (
        compare_published,
        load_published,
        per_iteration,
        run_experiment,
        summarize,
    )

    opts = _options(reading, arc_model, service_layers, dependency_rule, None, None)
    mags = [int(x) for x in _floats(magnitudes, "--magnitudes")]
    vs = _floats(v, "--v")
    with output_directory(out, "infra simulate"):
        pub = None
        if published is not None:
            pub = load_published(None if published == "bundled" else Path(published))
        t0 = time.perf_counter()
        if no_progress or as_json:
            rec = run_experiment(case, mags, vs, simulations, seed, out, workers, scheduler, opts, solver)
        else:
            cols = [
                TextColumn("simulations"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            ]
            with Progress(*cols, console=err) as p:
                task = p.add_task("sims", total=None)

                def cb(done, total):
                    p.update(task, completed=done, total=total)

                rec = run_experiment(
                    case, mags, vs, simulations, seed, out, workers, scheduler, opts, solver, progress=cb
                )
        elapsed = time.perf_counter() - t0
        out = Path(out)
        summ = summarize(rec)
        summ.to_csv(out / ".summary.csv.tmp", index=False)
        (out / ".summary.csv.tmp").replace(out / "summary.csv")
        cmp = None
        if pub is not None:
            cmp = compare_published(rec, pub)
            cmp.to_csv(out / ".comparison.csv.tmp", index=False)
            (out / ".comparison.csv.tmp").replace(out / "comparison.csv")
        if not no_plots:
            from resiliopt.reports.indp_plots import comparison_plot, fan_charts

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
        if as_json:
            print_json(result)
            return
        t = Table(title=f"{case}: iterative INDP, seed {seed}")
        for col in ("M", "v", "simulations", "mean iterations", "unbalanced at the end"):
            t.add_column(col, justify="right")
        for r in per.itertuples(index=False):
            t.add_row(
                f"{r.magnitude:g}",
                f"{r.v:g}",
                str(r.simulations),
                f"{r.iterations_mean:.2f}",
                str(int(r.unbalanced_at_end)),
            )
        console.print(t)
        if cmp is not None:
            q = cmp[(cmp["v"] == vs[0]) & (cmp["magnitude"] == mags[0])]
            t2 = Table(title=f"M{mags[0]} v={vs[0]:g} vs published: mean (se) / published mean, z")
            t2.add_column("quantity")
            its = sorted(q["iteration"].unique())
            for it in its:
                t2.add_column(f"it {it}", justify="right")
            for name, g in q.groupby("quantity", sort=False):
                g = g.set_index("iteration")
                t2.add_row(
                    name,
                    *[
                        f"{g.at[i, 'mean']:.4g} ({g.at[i, 'se']:.2g})\n{g.at[i, 'published_mean']:.4g}, "
                        f"z={g.at[i, 'z']:.1f}"
                        for i in its
                    ],
                )
            console.print(t2)
            console.print(
                f"{result['beyond_3se']} of {result['published_cells']} published cells "
                "beyond 3 standard errors"
            )
        console.print(f"max MIP gap {result['max_gap']:.2g}; tables and plots in {out}; {elapsed:.1f} s")
