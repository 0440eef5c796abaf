"""CLI: ``resiliopt infra ...`` (critical infrastructure), a thin layer over resiliopt.infra.

Sub-app :data:`infra_app`; other modules (restoration, simulation) add their commands to it with
``@infra_app.command(...)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json

console = plain_console()
infra_app = typer.Typer(
    name="infra",
    help="Critical infrastructure: interdependent networks, cascades, criticality, restoration.",
    no_args_is_help=True,
)
app.add_typer(infra_app, name="infra")

CASE = typer.Argument(
    ..., help="an infra case: bundled name (shelby-indp, shelby-extended), directory or case.yaml"
)
JSON = typer.Option(False, "--json", help="print one strict JSON object")


def dumps(obj) -> str:
    """Strict JSON (NaN and infinities become null): :func:`resiliopt._json.dumps`."""
    from resiliopt._json import dumps as strict

    return strict(obj)


@infra_app.command("validate")
def validate_cmd(case: str = CASE, as_json: bool = JSON) -> None:
    """Load and check an interdependent case; print its size per layer."""
    from resiliopt.infra import load_infra_case

    c = load_infra_case(case)
    summary = c.summary()
    if as_json:
        print_json({"valid": True, "path": str(c.path), **summary})
        return
    t = Table(title=f"{c.name}: valid ({c.path})")
    for col in ("layer", "nodes", "links", "supply", "demand"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in summary["layers"]:
        t.add_row(r["layer"], str(r["nodes"]), str(r["links"]), f"{r['supply']:.6g}", f"{r['demand']:.6g}")
    console.print(t)
    console.print(
        f"dependencies {summary['dependencies']}, spaces {summary['spaces']}, "
        f"resources {summary['resources']}, "
        f"damage scenarios {summary['damage_scenarios']}, failure probabilities for "
        f"{summary['failure_probability_magnitudes'] or 'none'}"
    )


@infra_app.command("schema")
def schema_cmd(
    out: Path = typer.Option(
        None, "--out", help="write one <name>.schema.json per schema into this directory"
    ),
    force: bool = opt.FORCE,
) -> None:
    """Export the JSON Schema of case.yaml and of every table's rows."""
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.case.infra_schema import json_schemas

    if out is not None:
        check_output_dir(out, "infra schema", force)
    docs = json_schemas()
    if out is None:
        print(json.dumps(docs, indent=1))
        return
    with atomic_directory(out, "infra schema", force) as tmp:
        for k, d in docs.items():
            (tmp / f"{k}.schema.json").write_text(json.dumps(d, indent=1))
    console.print(f"{len(docs)} schema(s) written to {out}")


# --------------------------------------------------------------------------- shared options
DAMAGE = typer.Option(None, "--damage", help="a damage scenario of the case, e.g. set0/sce1")
FAIL = typer.Option(None, "--fail", help="a failed element KIND:LAYER:ID, e.g. node:power:18 (repeatable)")
DAMAGE_FILE = typer.Option(None, "--damage-file", help="CSV of failed elements: kind, layer, element")
MAGNITUDE = opt.NONNEG.option(None, "--magnitude", help="draw failures from the case's failure probabilities")
SEED = opt.SEED.option(0, "--seed", help="seed of the --magnitude draw")
K_FAILURES = opt.Number(int, 0, 100, what="a whole number of failures")
SECONDS = opt.Number(float, 0.0, lo_open=True, what="a finite number of seconds")
OUT = typer.Option(
    None, "--out", help="write tidy tables (and plots) into this directory (replaced atomically)"
)
FORMAT = typer.Option("parquet", "--format", help="table format under --out: parquet or csv")
WEIGHTS = typer.Option(
    "share", "--weights", help="served-demand weights: share (1/layer demand), unit, penalty"
)


def _failed(case, damage, fail, damage_file, magnitude, seed):
    from resiliopt.infra.damage import failed_from_options

    return failed_from_options(case, damage, fail, damage_file, magnitude, seed)


def _check_format(fmt: str) -> None:
    from resiliopt.errors import InputError

    if fmt not in ("parquet", "csv"):
        raise InputError(f"--format must be parquet or csv (got {fmt!r})", location="--format")


def _write(tmp: Path, tables: dict, fmt: str) -> list[str]:
    names = []
    for name, df in tables.items():
        p = tmp / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(p, index=False)
        else:
            df.to_parquet(p, index=False)
        names.append(p.name)
    return names


def _progress(total: int, what: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from resiliopt.cli import err_console

    prog = Progress(
        f"[bold]{what}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    task = prog.add_task(what, total=total)
    return prog, lambda: prog.advance(task)


def _layers_table(title: str, layers) -> Table:
    t = Table(title=title)
    for col in ("layer", "demand", "served", "unserved", "served share"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in layers.itertuples(index=False):
        t.add_row(r.layer, f"{r.demand:.6g}", f"{r.served:.6g}", f"{r.unserved:.6g}", f"{r.served_share:.4f}")
    return t


# --------------------------------------------------------------------------- served
@infra_app.command("served")
def served_cmd(
    case: str = CASE,
    damage: str = DAMAGE,
    fail: list[str] = FAIL,
    damage_file: Path = DAMAGE_FILE,
    magnitude: float = MAGNITUDE,
    seed: int = SEED,
    objective: str = typer.Option("cost", "--objective", help="cost (INDP flow + penalties) or served"),
    weights: str = WEIGHTS,
    as_json: bool = JSON,
    out: Path = OUT,
    fmt: str = FORMAT,
    force: bool = opt.FORCE,
) -> int:
    """Served and unserved demand under damage (the flow LP with repairs fixed), with certificates."""
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.formulations.infra_flow import InfraFlow
    from resiliopt.infra import load_infra_case

    _check_format(fmt)
    if out is not None:
        check_output_dir(out, "infra served", force)
    c = load_infra_case(case)
    failed, what = _failed(c, damage, fail, damage_file, magnitude, seed)
    res = InfraFlow(c, objective, weights).solve(failed)
    ok = res.certificate.passed and res.input_certificate.passed
    if out is not None:
        with atomic_directory(out, "infra served", force) as tmp:
            _write(
                tmp,
                {
                    "nodes": res.nodes,
                    "links": res.links,
                    "layers": res.layers,
                    "dependencies": res.dependencies,
                    "failed": failed,
                },
                fmt,
            )
    if as_json:
        print_json({"case": c.name, "damage": what, "failed": len(failed), **res.to_dict()})
    else:
        console.print(_layers_table(f"{c.name}: {what} ({len(failed)} failed elements)", res.layers))
        console.print(f"objective ({objective}) {res.objective:.10g}")
        for label, cert in (
            ("matrix certificate", res.certificate),
            ("input certificate", res.input_certificate),
        ):
            d = cert.to_dict()
            console.print(
                f"{label}: {'passed' if cert.passed else 'FAILED'} ("
                + ", ".join(
                    f"{k} {v:.1e}"
                    for k, v in d.items()
                    if k not in ("passed", "tol") and "objective" not in k
                )
                + ")"
            )
        top = res.links.sort_values("capacity_value", ascending=False).head(3)
        for r in top.itertuples(index=False):
            if r.capacity_value > 0:
                console.print(f"capacity value {r.layer} {r.link}: {r.capacity_value:.4g} per unit")
        if out is not None:
            console.print(f"tables written to {out}")
    return 0 if ok else 1


# --------------------------------------------------------------------------- cascade
@infra_app.command("cascade")
def cascade_cmd(
    case: str = CASE,
    damage: str = DAMAGE,
    fail: list[str] = FAIL,
    damage_file: Path = DAMAGE_FILE,
    magnitude: float = MAGNITUDE,
    seed: int = SEED,
    as_json: bool = JSON,
    out: Path = OUT,
    fmt: str = FORMAT,
    force: bool = opt.FORCE,
) -> None:
    """Propagate failures through dependencies (per round) and the layer-level IIM."""
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.infra import load_infra_case
    from resiliopt.infra.cascade import cascade, case_iim, layer_interdependency_matrix

    _check_format(fmt)
    if out is not None:
        check_output_dir(out, "infra cascade", force)
    c = load_infra_case(case)
    failed, what = _failed(c, damage, fail, damage_file, magnitude, seed)
    res = cascade(c, failed)
    q = case_iim(c, failed)
    a = layer_interdependency_matrix(c)
    per = res.rounds.groupby(["round", "kind", "layer"]).size().rename("elements").reset_index()
    if out is not None:
        from resiliopt.infra.plots import dependency_graph

        with atomic_directory(out, "infra cascade", force) as tmp:
            _write(
                tmp, {"rounds": res.rounds, "final": res.final, "iim": q, "iim_matrix": a.reset_index()}, fmt
            )
            dependency_graph(c, tmp)
    if as_json:
        print(
            dumps(
                {
                    "case": c.name,
                    "damage": what,
                    **res.to_dict(),
                    "per_round": per.to_dict("records"),
                    "iim": q.to_dict("records"),
                    "iim_matrix": {k: v for k, v in a.to_dict("index").items()},
                }
            )
        )
        return
    t = Table(title=f"{c.name}: cascade from {what}")
    for col in ("round", "kind", "layer", "elements"):
        t.add_column(col, justify="right" if col in ("round", "elements") else "left")
    for r in per.itertuples(index=False):
        t.add_row(str(r.round), r.kind, r.layer, str(r.elements))
    console.print(t)
    s = res.to_dict()
    console.print(
        f"{s['initially_failed']} failed at first, {s['finally_failed']} after {s['rounds']} round(s), "
        f"{s['partially_working']} partly working"
    )
    t = Table(title="layer inoperability: bounded IIM q = min(1, A q + c*) vs the flow LP")
    for col in ("layer", "c* (direct)", "q (IIM)", "lost (LP)"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in q.itertuples(index=False):
        t.add_row(r.sector, f"{r.c_star:.4f}", f"{r.q:.4f}", f"{r.lp_lost:.4f}")
    console.print(t)
    if out is not None:
        console.print(f"tables and dependency graph written to {out}")


# --------------------------------------------------------------------------- criticality
@infra_app.command("criticality")
def criticality_cmd(
    case: str = CASE,
    k: int = K_FAILURES.option(2, "--k", help="size of the worst set by the interdiction MILP (0: skip)"),
    candidates: str = typer.Option("all", "--candidates", help="elements that may fail: all, nodes or links"),
    weights: str = WEIGHTS,
    top: int = opt.ROWS.option(10, "--top", help="rows of the ranking to print (and certify)"),
    time_limit: float = SECONDS.option(None, "--time-limit", help="seconds for the N-k MILP"),
    as_json: bool = JSON,
    out: Path = OUT,
    fmt: str = FORMAT,
    force: bool = opt.FORCE,
) -> int:
    """Rank every element by served demand lost when it alone fails (N-1), the worst N-k set,
    and the single points of failure; --out adds the criticality map and the dependency graph."""
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.errors import InputError
    from resiliopt.formulations.infra_flow import InfraFlow
    from resiliopt.infra import load_infra_case
    from resiliopt.infra.criticality import _candidates, n_minus_1, n_minus_k, single_points_of_failure

    _check_format(fmt)
    if candidates not in ("all", "nodes", "links"):
        raise InputError(
            f"--candidates must be all, nodes or links (got {candidates!r})", location="--candidates"
        )
    if out is not None:
        check_output_dir(out, "infra criticality", force)
    c = load_infra_case(case)
    flow = InfraFlow(c, objective="served", weights=weights)
    prog, tick = _progress(len(_candidates(c, candidates)), "N-1")
    with prog:
        ranking = n_minus_1(c, candidates, weights, progress=tick, flow=flow, certify_top=top)
    spof = single_points_of_failure(c)
    nk = n_minus_k(c, k, candidates, weights, time_limit) if k > 0 else None
    ok = all(v is not False for v in ranking["certified"]) and (nk is None or nk.certified)
    if out is not None:
        from resiliopt.infra.plots import criticality_map, dependency_graph

        with atomic_directory(out, "infra criticality", force) as tmp:
            tables = {"n_minus_1": ranking, "spof": spof}
            if nk is not None:
                tables["n_minus_k"] = nk.failed.assign(k=nk.k, served=nk.served, loss=nk.loss)
            _write(tmp, tables, fmt)
            criticality_map(c, ranking, tmp)
            dependency_graph(c, tmp)
    if as_json:
        print(
            dumps(
                {
                    "case": c.name,
                    "weights": weights,
                    "candidates": candidates,
                    "n_minus_1": ranking.head(top).to_dict("records"),
                    "elements": len(ranking),
                    "spof": spof.to_dict("records"),
                    "n_minus_k": nk.to_dict() if nk is not None else None,
                }
            )
        )
        return 0 if ok else 1
    layers = list(c.layers["layer"])
    t = Table(title=f"{c.name}: N-1 served demand lost (weights {weights}; top {top} of {len(ranking)})")
    for col in ("rank", "element", "loss", *layers, "population", "certified"):
        t.add_column(col, justify="left" if col == "element" else "right")
    for r in ranking.head(top).itertuples(index=False):
        t.add_row(
            str(r.rank),
            f"{r.kind} {r.layer} {r.element}",
            f"{r.loss:.4f}",
            *[f"{getattr(r, f'loss_{lay}'):.3f}" for lay in layers],
            f"{r.population_unserved:.0f}",
            {True: "yes", False: "FAILED", None: ""}[r.certified],
        )
    console.print(t)
    console.print(f"single points of failure: {len(spof)} elements cut some demand node off completely")
    for r in spof.head(5).itertuples(index=False):
        console.print(
            f"  {r.kind} {r.layer} {r.element}: cuts {r.demand_nodes} demand node(s), {r.demand_cut:.3f}"
        )
    if nk is not None:
        sel = ", ".join(f"{r.kind} {r.layer} {r.element}" for r in nk.failed.itertuples(index=False))
        console.print(
            f"worst N-{k}: {sel or 'none'}: loss {nk.loss:.4f} (MILP, optimal; LP check {nk.lp_check:.10g}, "
            f"certificates {'passed' if nk.certified else 'FAILED'})"
        )
    if out is not None:
        console.print(f"tables, criticality map and dependency graph written to {out}")
    return 0 if ok else 1
