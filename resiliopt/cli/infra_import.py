"""CLI: ``resiliopt infra import water|power|couple`` (real network files -> infra cases).

A thin layer over :mod:`resiliopt.infra.importers`: parse, call one function, print.
"""

from __future__ import annotations

import math
from pathlib import Path

import typer

from resiliopt.cli import _options as opt
from resiliopt.cli._output import plain_console
from resiliopt.errors import InputError

console = plain_console()
import_app = typer.Typer(
    name="import",
    help="Import real networks (EPANET, MATPOWER, pandapower JSON) as infra cases, and couple them.",
    no_args_is_help=True,
)
opt.INFRA_APP.add_typer(import_app, name="import")

OUT = typer.Option(..., "--out", help="output folder (written whole, with import.md)")
NAME = typer.Option(None, "--name", help="case name (default: the file's stem)")
POSITIVE = opt.Number(float, 0, lo_open=True, what="a positive number")
QUANTITY = opt.Number(float, 0, opt.QUANTITY_MAX, lo_open=True, what="a positive number")
#: bounds of the library (resiliopt.infra.importers.epanet; docs/import.md), checked while parsing
VELOCITY = opt.Number(float, 0, 100.0, lo_open=True, what="a positive velocity (m/s)")
HORIZON = opt.Number(float, 0, 8760.0, lo_open=True, what="a positive number of hours")
FRAME = opt.Choice("same", "box")
DEPENDENCY_TYPE = opt.Choice("physical", "cyber", "geographic", "logical")  # infra_schema.DEPENDENCY_TYPES


def layer_name(raw: object) -> str:
    """``--layer``: the importers' rule (not blank, no ':' or ','), checked while parsing."""
    # lazy: the importers load the case library (slow to import); only `infra import` pays it
    from resiliopt.infra.importers._common import check_layer_name

    try:
        return check_layer_name(raw)
    except InputError as exc:
        raise typer.BadParameter(exc.message) from None


LAYER = {"parser": layer_name, "metavar": "NAME", "help": "layer name (no ':' or ',')"}


def _show(summary: dict) -> None:
    for lay in summary["layers"]:
        console.print(
            f"{lay['layer']}: {lay['nodes']} nodes, {lay['links']} links, supply {lay['supply']:.6g}, "
            f"demand {lay['demand']:.6g}"
        )
    console.print(
        f"dependencies {summary['dependencies']}; {summary['dropped']} elements dropped "
        f"(see import.md) -> {summary['path']}"
    )


@import_app.command("water")
def water_cmd(
    file: Path = typer.Argument(..., help="EPANET input file (.inp)"),
    out: Path = OUT,
    max_velocity: float = typer.Option(
        3.0, "--max-velocity", parser=VELOCITY, metavar="M/S", help="pipe capacity = pi/4 D^2 x this velocity"
    ),
    pattern: str = typer.Option(
        "mean", "--pattern", help="demand rule: mean | base | peak pattern multiplier"
    ),
    horizon: float = typer.Option(
        24.0,
        "--horizon-hours",
        parser=HORIZON,
        metavar="H",
        help="pattern averaging and tank-supply horizon",
    ),
    reservoir_supply: float = typer.Option(
        None, "--reservoir-supply", parser=QUANTITY, metavar="L/S", help="default: the total demand"
    ),
    keep_controlled: bool = typer.Option(
        False, "--keep-controlled", help="keep pipes closed at the start that a control may open"
    ),
    layer: str = typer.Option("water", "--layer", **LAYER),
    name: str = NAME,
    force: bool = opt.FORCE,
) -> None:
    """EPANET .inp (through WNTR) -> a water layer.

    Examples:

      resiliopt infra import water Net3.inp --out net3

      resiliopt infra import water town.inp --out town --max-velocity 2 --pattern peak
    """
    # lazy: the importers load WNTR / matpowercaseframes and the case library (slow to import)
    from resiliopt.infra.importers import import_water

    _show(
        import_water(
            file,
            out,
            force=force,
            layer=layer,
            max_velocity=max_velocity,
            pattern=pattern,
            horizon_hours=horizon,
            reservoir_supply=reservoir_supply,
            keep_controlled=keep_controlled,
            name=name,
        ),
    )


@import_app.command("power")
def power_cmd(
    file: Path = typer.Argument(..., help="MATPOWER case (.m) or pandapower net (.json)"),
    out: Path = OUT,
    zero_rating: float = typer.Option(
        None,
        "--zero-rating",
        parser=QUANTITY,
        metavar="MW",
        help="capacity of a branch rated 0 (default: total in-service Pmax)",
    ),
    layout: str = typer.Option(
        "none", "--layout", help="none | kamada-kawai (synthetic bus coordinates when the file has none)"
    ),
    layer: str = typer.Option("power", "--layer", **LAYER),
    name: str = NAME,
    force: bool = opt.FORCE,
) -> None:
    """MATPOWER .m or pandapower JSON -> a power layer.

    Examples:

      resiliopt infra import power case_ACTIVSg200.m --out grid --layout kamada-kawai

      resiliopt infra import power net.json --out grid --zero-rating 500
    """
    # lazy: the importers load WNTR / matpowercaseframes and the case library (slow to import)
    from resiliopt.infra.importers import import_power

    _show(
        import_power(file, out, force=force, layer=layer, zero_rating=zero_rating, layout=layout, name=name),
    )


@import_app.command("couple")
def couple_cmd(
    first: str = typer.Argument(..., help="an imported case (folder or case.yaml), e.g. the water layer"),
    second: str = typer.Argument(..., help="another imported case, e.g. the power layer"),
    out: Path = OUT,
    table: Path = typer.Option(
        None, "--table", help="linking table CSV: dependee_layer,dependee,depender_layer,depender[,type,loss]"
    ),
    nearest: list[str] = typer.Option(
        None, "--nearest", help="DEPENDEE_LAYER[:TYPE],DEPENDER_LAYER[:TYPE], e.g. power:bus,water:pump"
    ),
    radius: float = typer.Option(
        None,
        "--radius",
        parser=POSITIVE,
        metavar="DIST",
        help="largest distance of a nearest coupling (depender layer's units; default: no limit)",
    ),
    frame: str = FRAME.option(
        None, "--frame", help="with --nearest: same | box (map the dependee layer onto the depender's box)"
    ),
    dep_type: str = DEPENDENCY_TYPE.option(
        None, "--type", help="with --nearest: type of the nearest-coordinate dependencies (default physical)"
    ),
    name: str = typer.Option(None, "--name", help="case name (default: the names joined by '-')"),
    force: bool = opt.FORCE,
) -> None:
    """Merge imported cases and add dependencies (linking table and/or nearest coordinates).

    Examples:

      resiliopt infra import couple net3 grid --out pair --nearest power:bus,water:pump --frame box

      resiliopt infra import couple net3 grid --out pair --table links.csv
    """
    # lazy: the importers load WNTR / matpowercaseframes and the case library (slow to import)
    from resiliopt.infra.importers import Nearest, import_couple

    if not nearest:
        given = [
            (o, v)
            for o, v in (("--radius", radius), ("--frame", frame), ("--type", dep_type))
            if v is not None
        ]
        if given:
            o, v = given[0]
            raise typer.BadParameter(
                f"{v!r} is given without --nearest, the only rule it applies to", param_hint=o
            )
    frame, dep_type = frame or "same", dep_type or "physical"
    rules = [Nearest.parse(s, math.inf if radius is None else radius, frame, dep_type) for s in nearest or []]
    _show(import_couple([first, second], out, table=table, nearest=rules, name=name, force=force))
