"""CLI: report (one self-contained HTML file of a run directory; resiliopt.reports.html)."""

from __future__ import annotations

from pathlib import Path

import typer

from resiliopt.cli import app
from resiliopt.cli._output import plain_console

console = plain_console(stderr=True)

REPORT = typer.Option(False, "--report", help="also write OUT/report.html (one self-contained HTML file)")


def write_run_report(out: Path | None, params: dict | None = None) -> Path | None:
    """Write OUT/report.html for a command's ``--report`` and say where it is."""
    from resiliopt.errors import InputError
    from resiliopt.reports.html import write_report

    if out is None:
        raise InputError(
            "--report needs --out (the report is written into that directory)", location="--report"
        )
    path = write_report(out, params=params)
    console.print(f"report written to {path}")
    return path


@app.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(..., help="output directory of audit, simulate, compare or retrofit"),
    out: Path = typer.Option(
        None, "--out", metavar="FILE", help="HTML file to write (default RUN_DIR/report.html)"
    ),
) -> None:
    """Write one self-contained HTML report of a run (plots, tables, parameters, versions)."""
    from resiliopt.reports.html import write_report

    path = write_report(run_dir, out)
    console.print(f"report written to {path}")
