"""CLI: slice, audit, validate, schema, demo (each a thin wrapper over one library function).

``slice``: :func:`resiliopt.logistics.load_and_solve_slice`; ``audit``:
:func:`resiliopt.reports.audit.audit_slice`; ``validate`` and ``schema``:
:mod:`resiliopt.validation`; ``demo``: :func:`resiliopt.reports.runs.run_demo`.

Each command imports its library function when it runs: imported at the top, the solver,
simulation and report stack would add about 0.3 s to every ``resiliopt`` start (``--help``
included; measured with ``python -X importtime -c "import resiliopt.cli"``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json, progress

if TYPE_CHECKING:
    from resiliopt.logistics import SliceResult

console = plain_console()

SEED = opt.SEED.option(0, "--seed", help="run seed (case input only)")
DAY = opt.DAY.option(0, "--day", help="day of the recovery (case input only)")
SCENARIO = opt.SCENARIO.option(0, "--scenario", help="scenario index (case input only)")


def _print_summary(res: SliceResult) -> None:
    t = Table(title=f"slice {res.data.name}", show_header=False)
    t.add_row("status", res.status)
    if res.solution.optimal:
        cert = res.certificate
        t.add_row("objective (F_C gained)", f"{res.objective:.10g}")
        nx_text = res.crosscheck_note if res.networkx_objective is None else f"{res.networkx_objective:.10g}"
        t.add_row("networkx cross-check", nx_text)
        t.add_row(
            "TR / delivered / unused",
            f"{res.data.total_resources:g} / {res.delivered:.6g} / "
            f"{res.data.total_resources - res.source_outflow:.6g}",
        )
        t.add_row("groups / arcs", f"{len(res.deliveries)} / {len(res.flows)}")
        t.add_row(
            "matrix certificate",
            f"{'passed' if cert.passed else 'FAILED'} (primal {cert.primal_infeasibility:.1e}, "
            f"dual {cert.dual_infeasibility:.1e}, compl. {cert.complementary_slackness:.1e}, "
            f"gap {cert.gap:.1e})",
        )
        inp = res.input_certificate
        na = "not applicable (rows beyond the input)"
        t.add_row("input certificate", inp.summary() if inp is not None else na)  # no markup: as is
        for p in res.problems:
            t.add_row("NOT PROVEN", p)
        sp = res.shadow_prices(3)
        for _, r in sp.iterrows():
            t.add_row("shadow price", f"{r['label']} ({r['index']}): {r['value']:.4g} F_C/unit")
    t.add_row("unreachable demand", res.unreachable_note or "none (every group with demand is reached)")
    console.print(t)


@app.command("slice")
def slice_cmd(
    path: str = typer.Argument(
        ..., help="a slice file (kind: slice) or a case (directory, case.yaml or name)"
    ),
    seed: int = SEED,
    day: int = DAY,
    scenario: int = SCENARIO,
    variant: str = opt.VARIANT,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    override: list[str] = opt.OVERRIDE,
    extension: str = opt.EXTENSION,
) -> None:
    """Solve one time slice of the logistics LP and print a summary."""
    from resiliopt.logistics import load_and_solve_slice  # on use: `resiliopt --help` skips it

    res = load_and_solve_slice(path, seed, day, scenario, variant, tuple(override or ()), extension)
    if as_json:
        print_json(res.to_dict())
    else:
        _print_summary(res)
    res.require_proven()


@app.command("audit")
def audit_cmd(
    path: str = typer.Argument(..., help="a slice file or a case"),
    out: Path = typer.Option(..., "--out", help="directory to write the report to"),
    seed: int = SEED,
    day: int = DAY,
    scenario: int = SCENARIO,
    variant: str = opt.VARIANT,
    force: bool = opt.FORCE,
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html"),
    override: list[str] = opt.OVERRIDE,
    extension: str = opt.EXTENSION,
) -> None:
    """Solve a slice and write the audit: summary.md, CSV tables, model.lp."""
    from resiliopt.reports.audit import audit_slice  # on use: `resiliopt --help` skips it

    res = audit_slice(
        path,
        out,
        seed,
        day,
        scenario,
        variant,
        force=force,
        report=report,
        overrides=tuple(override or ()),
        extension=extension,
    )
    _print_summary(res)
    console.print(f"audit written to {out}" + (f" (report: {out / 'report.html'})" if report else ""))
    res.require_proven()


@app.command("validate")
def validate_cmd(
    path: str = typer.Argument(
        ...,
        help="any resiliopt YAML file (case, network, ..., slice, matrix, tree, site, infra_case), or a case",
    ),
    tree: str = typer.Option(
        None, "--tree", help="indicator tree a site file is checked against (default: cups/indicators.yaml)"
    ),
    override: list[str] = opt.OVERRIDE,
) -> None:
    """Check a file (or a whole case) with every rule the commands that read it apply."""
    from resiliopt.validation import check_input  # on use: `resiliopt --help` skips it

    found = check_input(path, tree, tuple(override or ()))
    if override:
        console.print(f"OK: {path} with {len(override)} override layer(s) is a valid case")
    else:
        console.print(f"OK: {path} is a valid {found.kind}")
    for w in found.warnings:
        console.print(f"warning: {w}", soft_wrap=True)  # one line, however long


@app.command("schema")
def schema_cmd(
    kind: str = typer.Argument(
        None,
        help="one kind (case, network, bridges, buildings, community, slice, matrix, tree, site, "
        "infra_case); all if omitted",
    ),
    out: Path = typer.Option(None, "--out", help="write one <kind>.schema.json per kind into this directory"),
    force: bool = opt.FORCE,
) -> None:
    """Export the input schemas as JSON Schema (for editor completion)."""
    from resiliopt.validation import export_schemas  # on use: `resiliopt --help` skips it

    docs = export_schemas(kind, out, force)
    if out is None:
        print(json.dumps(docs[kind] if kind else docs, indent=1))
    else:
        console.print(f"{len(docs)} schema(s) written to {out}")


@app.command("demo")
def demo_cmd(
    case: str = typer.Argument("beijing", help="case to run"),
    out: Path = typer.Option(Path("resiliopt-demo"), "--out", help="output directory"),
    seed: int = opt.SEED.option(1, "--seed"),
    scenarios: int = opt.SCENARIOS.option(100, "--scenarios", help="scenarios of the small Monte Carlo"),
    days: int = opt.DAYS.option(365, "--days"),
    workers: int = opt.WORKERS.option(None, "--workers"),
    report: bool = typer.Option(False, "--report", help="also write report.html in audit/ and simulation/"),
) -> None:
    """The main job on the bundled case: audit the first slice, then a small Monte Carlo."""
    from resiliopt.reports.runs import run_demo  # on use: `resiliopt --help` skips it

    def audited(res: SliceResult) -> None:
        _print_summary(res)
        if res.passed:
            console.print(f"audit of the first slice written to {out / 'audit'}")

    with progress(True) as cb:
        demo = run_demo(
            case, out, seed, scenarios, days, workers, report, lambda d, t: cb("scenarios", d, t), audited
        )
    if demo.report is not None:
        plain_console(stderr=True).print(f"report written to {demo.report}")
    s = demo.simulation.summary
    t = s["time_to_threshold"]
    console.print(
        f"{scenarios} scenarios: median F_C right after {s['fc0_p50']:.3f}; days to "
        f"F_C >= {s['threshold']:g}: p10 {t['p10']}, median {t['p50']}, p90 {t['p90']}"
    )
    console.print(f"tables, summary.json and plots (fc_fan, supply_hist, supply_fan) in {out / 'simulation'}")
