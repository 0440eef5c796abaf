"""CLI: ``resiliopt infra validate|schema|served|cascade|criticality``, thin wrappers over
:mod:`resiliopt.infra.runs`: each command parses its options, calls one library function and
prints. The ``infra`` group itself is shared in :mod:`resiliopt.cli._options` (``INFRA_APP``);
cli/infra_restore.py adds restore and simulate to it.

The library is imported inside each command: it loads pandas, Pyomo, HiGHS and networkx
(about 1.5 s), which every other ``resiliopt`` command (and ``--help``) would pay otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import app, err_console
from resiliopt.cli._output import first_report_bar, plain_console, print_json

console = plain_console()
infra_app = opt.INFRA_APP
app.add_typer(infra_app, name="infra")

CASE = opt.INFRA_CASE
JSON = opt.JSON

# --------------------------------------------------------------------------- shared options
DAMAGE = opt.INFRA_DAMAGE
FAIL = opt.INFRA_FAIL
DAMAGE_FILE = opt.INFRA_DAMAGE_FILE
MAGNITUDE = opt.INFRA_MAGNITUDE
SEED = opt.INFRA_SEED
SIMULATION = opt.INFRA_SIMULATION
K_FAILURES = opt.Number(int, 0, 100, what="a whole number of failures")
SECONDS = opt.Number(float, 0.0, lo_open=True, what="a finite number of seconds")
OUT = typer.Option(
    None, "--out", help="write tidy tables (and plots) into this directory (replaced atomically)"
)
FORMAT = opt.Choice("parquet", "csv").option("parquet", "--format", help="table format under --out")
WEIGHTS = opt.Choice("share", "unit", "penalty").option(
    "share", "--weights", help="served-demand weights: share (1/layer demand), unit, penalty"
)


def _source(damage, fail, damage_file, magnitude, seed, simulation=0):
    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.damage import DamageSource

    return DamageSource(damage, tuple(fail or ()), damage_file, magnitude, seed, simulation)


def _layers_table(title: str, layers) -> Table:
    t = Table(title=title)
    for col in ("layer", "demand", "served", "unserved", "served share"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in layers.itertuples(index=False):
        t.add_row(r.layer, f"{r.demand:.6g}", f"{r.served:.6g}", f"{r.unserved:.6g}", f"{r.served_share:.4f}")
    return t


@infra_app.command("validate")
def validate_cmd(case: str = CASE, as_json: bool = JSON) -> None:
    """Load and check an interdependent case; print its size per layer."""
    from resiliopt.emergency.config import case_emergency  # lazy: slow to import (module doc)
    from resiliopt.infra import load_infra_case  # lazy: slow to import (module doc)

    c = load_infra_case(case)
    case_emergency(c)  # its levels, with every rule `resiliopt emergency` applies
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
    for w in summary.get("warnings", []):
        console.print(f"warning: {w}")


@infra_app.command("schema")
def schema_cmd(
    out: Path = typer.Option(
        None, "--out", help="write one <name>.schema.json per schema into this directory"
    ),
    force: bool = opt.FORCE,
) -> None:
    """Export the JSON Schema of case.yaml and of every table's rows."""
    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.runs import write_schemas

    docs = write_schemas(out, force)
    if out is None:
        print(json.dumps(docs, indent=1))
    else:
        console.print(f"{len(docs)} schema(s) written to {out}")


# --------------------------------------------------------------------------- served
@infra_app.command("served")
def served_cmd(
    case: str = CASE,
    damage: str = DAMAGE,
    fail: list[str] = FAIL,
    damage_file: Path = DAMAGE_FILE,
    magnitude: float = MAGNITUDE,
    seed: int = SEED,
    simulation: int = SIMULATION,
    objective: str = opt.Choice("cost", "served").option(
        "cost", "--objective", help="cost (INDP flow + penalties) or served"
    ),
    weights: str = WEIGHTS,
    as_json: bool = JSON,
    out: Path = OUT,
    fmt: str = FORMAT,
    force: bool = opt.FORCE,
) -> int:
    """Served and unserved demand under damage (the flow LP with repairs fixed), with certificates."""
    from resiliopt.infra.runs import served_run  # lazy: slow to import (module doc)

    src = _source(damage, fail, damage_file, magnitude, seed, simulation)
    run = served_run(case, src, objective, weights, out, fmt, force)
    res = run.result
    if as_json:
        print_json(run.to_dict())
        return 0 if run.ok else 1
    console.print(
        _layers_table(f"{run.case.name}: {run.damage} ({len(run.failed)} failed elements)", res.layers)
    )
    console.print(f"objective ({objective}) {res.objective:.10g}")
    for label, cert in (
        ("matrix certificate", res.certificate),
        ("input certificate", res.input_certificate),
    ):
        d = cert.to_dict()
        shown = ", ".join(
            f"{k} {v:.1e}" for k, v in d.items() if k not in ("passed", "tol") and "objective" not in k
        )
        console.print(f"{label}: {'passed' if cert.passed else 'FAILED'} ({shown})")
    if not res.input_certificate.passed:
        console.print(f"worst: {res.input_certificate.worst}")
    for u in res.unservable_layers:
        nodes = ", ".join(str(n) for n in u["nodes"][:8]) + (", ..." if len(u["nodes"]) > 8 else "")
        console.print(
            f"unservable {u['layer']}: {u['demand']:.6g} ({100 * u['share']:.3g} % of its demand) at {nodes}"
        )
    for r in res.links.sort_values("capacity_value", ascending=False).head(3).itertuples(index=False):
        if r.capacity_value > 0:
            console.print(f"capacity value {r.layer} {r.link}: {r.capacity_value:.4g} per unit")
    if out is not None:
        console.print(f"tables written to {out}")
    return 0 if run.ok else 1


# --------------------------------------------------------------------------- cascade
@infra_app.command("cascade")
def cascade_cmd(
    case: str = CASE,
    damage: str = DAMAGE,
    fail: list[str] = FAIL,
    damage_file: Path = DAMAGE_FILE,
    magnitude: float = MAGNITUDE,
    seed: int = SEED,
    simulation: int = SIMULATION,
    as_json: bool = JSON,
    out: Path = OUT,
    fmt: str = FORMAT,
    force: bool = opt.FORCE,
) -> None:
    """Propagate failures through dependencies (per round) and the layer-level IIM."""
    from resiliopt.infra.runs import cascade_run  # lazy: slow to import (module doc)

    run = cascade_run(case, _source(damage, fail, damage_file, magnitude, seed, simulation), out, fmt, force)
    if as_json:
        print_json(run.to_dict())
        return
    t = Table(title=f"{run.case.name}: cascade from {run.damage}")
    for col in ("round", "kind", "layer", "elements"):
        t.add_column(col, justify="right" if col in ("round", "elements") else "left")
    for r in run.per_round.itertuples(index=False):
        t.add_row(str(r.round), r.kind, r.layer, str(r.elements))
    console.print(t)
    s = run.result.to_dict()
    console.print(
        f"{s['initially_failed']} failed at first, {s['finally_failed']} after {s['rounds']} round(s), "
        f"{s['partially_working']} partly working"
    )
    t = Table(title="layer inoperability: bounded IIM q = min(1, A q + c*) vs the flow LP")
    for col in ("layer", "c* (direct)", "q (IIM)", "lost (LP)"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r in run.iim.itertuples(index=False):
        t.add_row(r.sector, f"{r.c_star:.4f}", f"{r.q:.4f}", f"{r.lp_lost:.4f}")
    console.print(t)
    if out is not None:
        console.print(f"tables and dependency graph written to {out}")


# --------------------------------------------------------------------------- criticality
@infra_app.command("criticality")
def criticality_cmd(
    case: str = CASE,
    k: int = K_FAILURES.option(2, "--k", help="size of the worst set by the interdiction MILP (0: skip)"),
    candidates: str = opt.Choice("all", "nodes", "links").option(
        "all", "--candidates", help="elements that may fail"
    ),
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
    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.runs import criticality_run

    bar = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with first_report_bar("N-1", err_console.is_terminal, True, *bar, console=err_console) as update:
        run = criticality_run(case, k, candidates, weights, top, time_limit, out, fmt, force, progress=update)
    if as_json:
        print_json(run.to_dict())
        return 0 if run.ok else 1
    c, ranking, nk = run.case, run.ranking, run.worst
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
    console.print(f"single points of failure: {len(run.spof)} elements cut some demand node off completely")
    for r in run.spof.head(5).itertuples(index=False):
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
    return 0 if run.ok else 1
