"""CLI: slice, audit, validate, schema, demo (thin wrappers over resiliopt.logistics)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json
from resiliopt.errors import InputError, SolveError

console = plain_console()

SEED = opt.SEED.option(0, "--seed", help="run seed (case input only)")
DAY = opt.DAY.option(0, "--day", help="day of the recovery (case input only)")
SCENARIO = opt.SCENARIO.option(0, "--scenario", help="scenario index (case input only)")
VARIANT = typer.Option(None, "--variant", help="scenario variant of the case (e.g. bridges)")
OVERRIDE = typer.Option(
    None, "--override", help="YAML file laid over the case (repeatable, in order; docs/constraints.md)"
)
EXTENSION = typer.Option(
    None, "--extension", help="module:function (or file.py:function) adding Pyomo components to the slice LP"
)


def _solve(path: str, seed: int, day: int, scenario: int, variant: str | None, override=None, extension=None):
    from resiliopt.logistics import load_slice, solve_slice

    data = load_slice(path, seed, day, scenario, variant, tuple(override or ()), extension)
    return solve_slice(data)


def _print_summary(res) -> None:
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
    console.print(t)


def _check_status(res) -> None:
    if not res.solution.optimal:
        raise SolveError(f"the slice was not solved to optimality: {res.status}", res.status)
    if not res.passed:
        raise SolveError("HiGHS's optimum is not proven: " + "; ".join(res.problems), res.status)


@app.command("slice")
def slice_cmd(
    path: str = typer.Argument(
        ..., help="a slice file (kind: slice) or a case (directory, case.yaml or name)"
    ),
    seed: int = SEED,
    day: int = DAY,
    scenario: int = SCENARIO,
    variant: str = VARIANT,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    override: list[str] = OVERRIDE,
    extension: str = EXTENSION,
) -> None:
    """Solve one time slice of the logistics LP and print a summary."""
    res = _solve(path, seed, day, scenario, variant, override, extension)
    if as_json:
        print_json(res.to_dict())
    else:
        _print_summary(res)
    _check_status(res)


@app.command("audit")
def audit_cmd(
    path: str = typer.Argument(..., help="a slice file or a case"),
    out: Path = typer.Option(..., "--out", help="directory to write the report to"),
    seed: int = SEED,
    day: int = DAY,
    scenario: int = SCENARIO,
    variant: str = VARIANT,
    force: bool = opt.FORCE,
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html"),
    override: list[str] = OVERRIDE,
    extension: str = EXTENSION,
) -> None:
    """Solve a slice and write the audit: summary.md, CSV tables, model.lp."""
    from resiliopt._atomic import check_output_dir
    from resiliopt.reports.audit import write_audit

    check_output_dir(out, "audit", force)
    res = _solve(path, seed, day, scenario, variant, override, extension)
    params = {"input": path, "seed": seed, "day": day, "scenario": scenario, "variant": variant or "none"}
    if override or extension:
        params.update(overrides=list(override or ()), extension=extension)
    write_audit(res, out, params, force=force, report=report)
    _print_summary(res)
    console.print(f"audit written to {out}" + (f" (report: {out / 'report.html'})" if report else ""))
    _check_status(res)


def _all_schemas() -> dict:
    from resiliopt import schemas
    from resiliopt.case.infra_schema import InfraCaseFile
    from resiliopt.case.overrides import Override
    from resiliopt.fahp import schemas as fahp_schemas

    return {**schemas.SCHEMAS, **fahp_schemas.SCHEMAS, "infra_case": InfraCaseFile, "override": Override}


def _validate_file(p: Path, tree: str | None) -> str:
    """Check one file with every rule the command that reads it applies; returns its kind."""
    from resiliopt._yaml import read_yaml, validate
    from resiliopt.fahp import schemas as fahp_schemas

    raw = read_yaml(p)
    if raw is None:
        raise InputError("the file is empty", p)
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind is None and p.name == "case.yaml" and isinstance(raw, dict):
        kind = "infra_case" if "layers" in raw else "case"  # kind is optional in a case.yaml
    if kind is None:
        kind = fahp_schemas.guess_kind(raw)
    kinds = _all_schemas()
    if not isinstance(kind, str) or kind not in kinds:
        raise InputError(f"unknown or missing kind {kind!r}; one of {sorted(kinds)}", p, "kind")
    if kind == "override":  # an override layer (docs/overrides.md): validated as the case it makes
        from resiliopt.case import load_case

        load_case(p)
    elif kind == "case":
        from resiliopt.case import load_case

        load_case(p)
    elif kind == "infra_case":
        from resiliopt.case.infra import load_infra_case
        from resiliopt.emergency.config import case_emergency  # lazy: only for an infra case

        case_emergency(load_infra_case(p))  # its levels, with every rule `emergency` applies
    elif kind == "network":  # its nodes and links may be CSV tables
        from resiliopt.case import load_network

        load_network(p)
    elif kind == "slice":
        from resiliopt.formulations.slice_lp import SliceData

        SliceData.from_file(p)
    elif kind == "matrix":
        from resiliopt.fahp import analyse

        m = validate(fahp_schemas.MatrixFile, raw, file=p)
        mats = [m.matrix] if m.matrix is not None else m.experts
        analyse(
            m.criteria,
            [x.matrix if isinstance(x, fahp_schemas.ExpertMatrix) else x for x in mats],
            a=m.a,
            method=m.combine,
            scale=m.scale,
            tolerance=m.tolerance,
            file=str(p),
        )
    elif kind == "tree":
        from resiliopt.fahp import load_tree

        load_tree(p)
    elif kind == "site":
        from resiliopt.cli.fahp import resolve
        from resiliopt.fahp import compile_case, load_tree

        site = validate(fahp_schemas.CaseFile, raw, file=p)
        compile_case(load_tree(resolve(tree or "indicators")), site, p)
    else:
        validate(kinds[kind], raw, file=p)
    return kind


@app.command("validate")
def validate_cmd(
    path: str = typer.Argument(
        ...,
        help="any resiliopt YAML file (case, network, ..., slice, matrix, tree, site, infra_case), or a case",
    ),
    tree: str = typer.Option(
        None, "--tree", help="indicator tree a site file is checked against (default: cups/indicators.yaml)"
    ),
    override: list[str] = OVERRIDE,
) -> None:
    """Check a file (or a whole case) with every rule the commands that read it apply."""
    from resiliopt.case import load_case
    from resiliopt.simulation.montecarlo import load_case_model

    if override:  # a case with its layers; user constraints resolved to arcs and groups
        load_case_model(path, None, tuple(override))
        console.print(f"OK: {path} with {len(override)} override layer(s) is a valid case")
        return
    p = Path(path)
    if p.is_dir() and (p / "case.yaml").is_file():
        p = p / "case.yaml"
    if not p.is_file():
        from resiliopt.case import bundled_data_dir

        root = bundled_data_dir()
        if (root / path / "case.yaml").is_file():
            p = root / path / "case.yaml"  # a bundled case (beijing)
        elif (root / "infra" / path / "case.yaml").is_file():
            p = root / "infra" / path / "case.yaml"  # a bundled infrastructure case
        else:
            from resiliopt.cli.fahp import resolve

            p = resolve(path)  # a bundled FAHP file (sz, indicators, cups/gz.yaml)
    if not p.is_file():
        load_case(path)  # says what is missing
    kind = _validate_file(p, tree)
    if kind in ("case", "override"):
        load_case_model(p, None)  # its user constraints select arcs and groups
    console.print(f"OK: {path} is a valid {kind}")


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
    from resiliopt._atomic import atomic_directory, check_output_dir

    schemas = _all_schemas()
    if out is not None:
        check_output_dir(out, "schema", force)
    if kind is not None and kind not in schemas:
        raise InputError(f"unknown kind {kind!r}; one of {sorted(schemas)}", location="KIND")
    kinds = [kind] if kind else sorted(schemas)
    docs = {k: schemas[k].model_json_schema(by_alias=True) for k in kinds}
    if out is None:
        print(json.dumps(docs[kind] if kind else docs, indent=1))
        return
    with atomic_directory(out, "schema", force) as tmp:
        for k, d in docs.items():
            (tmp / f"{k}.schema.json").write_text(json.dumps(d, indent=1))
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
    from resiliopt._atomic import check_output_dir, output_directory
    from resiliopt.cli.simulate import _progress
    from resiliopt.reports.audit import write_audit
    from resiliopt.simulation.montecarlo import simulate

    check_output_dir(out, "demo")
    res = _solve(case, seed, 0, 0, None)
    with output_directory(out, "demo"):
        params = {"input": case, "seed": seed, "day": 0, "scenario": 0, "variant": "none"}
        write_audit(res, out / "audit", params, report=report)
        _print_summary(res)
        _check_status(res)
        console.print(f"audit of the first slice written to {out / 'audit'}")
        with _progress(True) as cb:
            sim = simulate(
                case,
                scenarios,
                seed,
                days,
                out / "simulation",
                workers,
                progress=lambda d, t: cb("scenarios", d, t),
            )
        if report:
            from resiliopt.cli.report import write_run_report

            write_run_report(out / "simulation")
    t = sim.summary["time_to_threshold"]
    console.print(
        f"{scenarios} scenarios: median F_C right after {sim.summary['fc0_p50']:.3f}; days to "
        f"F_C >= {sim.summary['threshold']:g}: p10 {t['p10']}, median {t['p50']}, p90 {t['p90']}"
    )
    console.print(f"tables, summary.json and plots (fc_fan, supply_hist, supply_fan) in {out / 'simulation'}")
