"""CLI: simulate and compare (thin wrappers over :mod:`resiliopt.reports.runs`).

The library is imported when a command runs (about 0.3 s that ``resiliopt --help`` skips).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json, progress

console = plain_console(stderr=True)


def _report_written(path: Path | None) -> None:
    if path is not None:
        console.print(f"report written to {path}")


@app.command("simulate")
def simulate_cmd(
    case: str = typer.Argument(..., help="case directory, case.yaml or bundled name"),
    scenarios: int = opt.SCENARIOS.option(1000, "--scenarios", help="number of earthquake scenarios"),
    seed: int = opt.SEED.option(0, "--seed", help="run seed"),
    days: int = opt.DAYS.option(365, "--days", help="days to simulate"),
    out: Path = typer.Option(..., "--out", help="output directory (a killed run resumes here)"),
    workers: int = opt.WORKERS_OPTION,
    scheduler: str = opt.SCHEDULER,
    variant: str = typer.Option(None, "--variant", help="scenario variant of the case"),
    no_progress: bool = typer.Option(False, "--no-progress"),
    no_plots: bool = typer.Option(False, "--no-plots"),
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html"),
    override: list[str] = opt.OVERRIDE,
    extension: str = opt.RUN_EXTENSION,
) -> None:
    """Monte Carlo of the recovery: Parquet tables, summary.json and plots in OUT."""
    from resiliopt.reports.runs import simulate_run  # on use: `resiliopt --help` skips it
    from resiliopt.simulation.runfiles import finished_chunks

    try:
        with progress(not no_progress, console) as cb:
            res, path = simulate_run(
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
                report=report,
            )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers are stopped; say what was kept
        kept = finished_chunks(out)
        console.print(f"interrupted: {kept} finished chunk(s) kept in {out}; run the same command to resume")
        raise typer.Exit(130) from None
    _report_written(path)
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
    workers: int = opt.WORKERS_OPTION,
    scheduler: str = opt.SCHEDULER,
    as_json: bool = typer.Option(False, "--json"),
    no_progress: bool = typer.Option(False, "--no-progress"),
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html (and one per variant)"),
    override: list[str] = opt.OVERRIDE,
    extension: str = opt.RUN_EXTENSION,
) -> None:
    """Simulate variants side by side (same scenarios): time to the threshold and cost."""
    from resiliopt.reports.runs import compare_run  # on use: `resiliopt --help` skips it

    names = [v.strip() for v in variants.split(",") if v.strip()]
    try:
        with progress(not no_progress and not as_json, console) as cb:
            table, path = compare_run(
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
                report,
            )
    except KeyboardInterrupt:
        console.print(f"interrupted: finished chunks kept under {out}; run the same command to resume")
        raise typer.Exit(130) from None
    _report_written(path)
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
