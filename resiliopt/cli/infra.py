"""CLI: ``resiliopt infra ...`` (critical infrastructure), a thin layer over resiliopt.infra.

Sub-app :data:`infra_app`; other modules (restoration, simulation) add their commands to it with
``@infra_app.command(...)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from resiliopt.cli import app

console = Console(highlight=False)
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
    """Strict JSON (no NaN/Infinity: those become null)."""

    def clean(o):
        if isinstance(o, float):
            return o if o == o and o not in (float("inf"), float("-inf")) else None
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(obj), allow_nan=False)


@infra_app.command("validate")
def validate_cmd(case: str = CASE, as_json: bool = JSON) -> None:
    """Load and check an interdependent case; print its size per layer."""
    from resiliopt.infra import load_infra_case

    c = load_infra_case(case)
    summary = c.summary()
    if as_json:
        print(dumps({"valid": True, "path": str(c.path), **summary}))
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
) -> None:
    """Export the JSON Schema of case.yaml and of every table's rows."""
    from resiliopt._atomic import atomic_directory
    from resiliopt.infra.schema import json_schemas

    docs = json_schemas()
    if out is None:
        print(json.dumps(docs, indent=1))
        return
    with atomic_directory(out) as tmp:
        for k, d in docs.items():
            (tmp / f"{k}.schema.json").write_text(json.dumps(d, indent=1))
    console.print(f"{len(docs)} schema(s) written to {out}")
