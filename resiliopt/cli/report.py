"""CLI: report (one self-contained HTML file of a run directory; :mod:`resiliopt.reports.html`)."""

from __future__ import annotations

from pathlib import Path

import typer

from resiliopt.cli import app
from resiliopt.cli._output import plain_console

console = plain_console(stderr=True)


@app.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(
        ...,
        help="output directory of audit, simulate, compare, retrofit, infra restore, infra simulate, "
        "emergency replay or emergency evaluate (the kind its output manifest records)",
    ),
    out: Path = typer.Option(
        None, "--out", metavar="FILE", help="HTML file to write (default RUN_DIR/report.html)"
    ),
) -> None:
    """Write one self-contained HTML report of a run (plots, tables, parameters, versions); for
    infrastructure and emergency runs, the operations page (network map per period, levels,
    served demand, dispatch)."""
    from resiliopt.reports.html import write_report  # on use: `resiliopt --help` skips it

    path = write_report(run_dir, out)
    console.print(f"report written to {path}")
