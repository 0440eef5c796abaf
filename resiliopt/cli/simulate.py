"""CLI: simulate and compare (thin wrappers over resiliopt.simulation.montecarlo)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
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
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json

console = plain_console(stderr=True)

WORKERS = opt.WORKERS.option(None, "--workers", help="local worker processes (default: all cores)")
SCHEDULER = typer.Option(None, "--scheduler", help="Dask scheduler address, or 'local' for a LocalCluster")
OVERRIDE = typer.Option(
    None, "--override", help="YAML file laid over the case (repeatable, in order; docs/constraints.md)"
)
EXTENSION = typer.Option(
    None,
    "--extension",
    help="module:function (or file.py:function) adding Pyomo components to every slice LP",
)


@contextmanager
def _progress(enabled: bool):
    if not enabled:
        yield None
        return
    cols = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} scen/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*cols, console=console, transient=False) as p:
        tasks: dict[str, int] = {}
        import time

        start: dict[str, tuple[float, int]] = {}

        def update(name: str, done: int, total: int):
            if name not in tasks:
                tasks[name] = p.add_task(name, total=total, rate="-")
                start[name] = (time.perf_counter(), done)
            t0, d0 = start[name]
            dt = time.perf_counter() - t0
            rate = f"{(done - d0) / dt:.1f}" if dt > 0 and done > d0 else "-"
            p.update(tasks[name], completed=done, rate=rate)

        yield update


def _interrupted(out: Path):
    """Ctrl-C or SIGTERM: the workers are stopped; say what was kept, exit 130."""
    from resiliopt.simulation.montecarlo import SCENARIOS_DIR

    kept = len(list((Path(out) / SCENARIOS_DIR).glob("part-*.parquet")))
    console.print(f"interrupted: {kept} finished chunk(s) kept in {out}; run the same command to resume")
    raise typer.Exit(130)


@app.command("simulate")
def simulate_cmd(
    case: str = typer.Argument(..., help="case directory, case.yaml or bundled name"),
    scenarios: int = opt.SCENARIOS.option(1000, "--scenarios", help="number of earthquake scenarios"),
    seed: int = opt.SEED.option(0, "--seed", help="run seed"),
    days: int = opt.DAYS.option(365, "--days", help="days to simulate"),
    out: Path = typer.Option(..., "--out", help="output directory (a killed run resumes here)"),
    workers: int = WORKERS,
    scheduler: str = SCHEDULER,
    variant: str = typer.Option(None, "--variant", help="scenario variant of the case"),
    no_progress: bool = typer.Option(False, "--no-progress"),
    no_plots: bool = typer.Option(False, "--no-plots"),
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html"),
    override: list[str] = OVERRIDE,
    extension: str = EXTENSION,
) -> None:
    """Monte Carlo of the recovery: Parquet tables, summary.json and plots in OUT."""
    from resiliopt._atomic import output_directory
    from resiliopt.simulation.montecarlo import simulate

    try:
        with output_directory(out, "simulate"), _progress(not no_progress) as cb:
            res = simulate(
                case,
                scenarios,
                seed,
                days,
                out,
                workers,
                scheduler,
                variant,
                (lambda d, t: cb("scenarios", d, t)) if cb else None,
                plots=not no_plots,
                overrides=tuple(override or ()),
                extension=extension,
            )
            if report:  # inside the output folder's context: recorded in its manifest
                from resiliopt.cli.report import write_run_report

                write_run_report(out)
    except KeyboardInterrupt:
        _interrupted(out)
    t = res.summary["time_to_threshold"]
    tab = Table(title=f"{scenarios} scenarios x {days} days, seed {seed}", show_header=False)
    tab.add_row("median F_C right after", f"{res.summary['fc0_p50']:.3f}")
    tab.add_row(
        f"days to F_C >= {res.summary['threshold']:g} (p10/p50/p90)", f"{t['p10']} / {t['p50']} / {t['p90']}"
    )
    tab.add_row("share reaching the threshold", f"{t['reached_share']:.1%}")
    tab.add_row("output", str(out))
    plain_console().print(tab)


@app.command("compare")
def compare_cmd(
    case: str = typer.Argument(..., help="case directory, case.yaml or bundled name"),
    variants: str = typer.Option(
        "none,buildings,bridges",
        "--variants",
        parser=opt.name_list,
        metavar="NAMES",
        help="comma-separated variant names",
    ),
    scenarios: int = opt.SCENARIOS.option(200, "--scenarios"),
    seed: int = opt.SEED.option(0, "--seed"),
    days: int = opt.DAYS.option(365, "--days"),
    out: Path = typer.Option(..., "--out"),
    workers: int = WORKERS,
    scheduler: str = SCHEDULER,
    as_json: bool = typer.Option(False, "--json"),
    no_progress: bool = typer.Option(False, "--no-progress"),
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html (and one per variant)"),
    override: list[str] = OVERRIDE,
    extension: str = EXTENSION,
) -> None:
    """Simulate variants side by side (same scenarios): time to the threshold and cost."""
    from resiliopt._atomic import output_directory
    from resiliopt.simulation.montecarlo import compare

    names = [v.strip() for v in variants.split(",") if v.strip()]
    try:
        with output_directory(out, "compare"), _progress(not no_progress and not as_json) as cb:
            table = compare(
                case,
                names,
                scenarios,
                seed,
                days,
                out,
                workers,
                scheduler,
                cb,
                tuple(override or ()),
                extension,
            )
            if report:  # inside the output folder's context: recorded in its manifest
                from resiliopt.cli.report import write_run_report
                from resiliopt.reports.html import write_report

                for v in names:
                    write_report(out / v)
                write_run_report(out)
    except KeyboardInterrupt:
        console.print(f"interrupted: finished chunks kept under {out}; run the same command to resume")
        raise typer.Exit(130) from None
    if as_json:
        print_json(table.to_dict(orient="records"))
        return
    t = Table(title=f"variants, {scenarios} scenarios, seed {seed}")
    for c in ["variant", "median F_C(0)", "days to thr. p50", "p90", "never", "cost (bn CNY)"]:
        t.add_column(c)
    for r in table.itertuples(index=False):
        t.add_row(
            r.variant,
            f"{r.fc0_median:.3f}",
            f"{r.days_to_threshold_p50:g}",
            f"{r.days_to_threshold_p90:g}",
            f"{r.never_reached_share:.0%}",
            f"{r.cost_total:.2f}",
        )
    plain_console().print(t)
