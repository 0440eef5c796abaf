"""CLI: ``resiliopt import ...``: real networks in, as cases in the existing format.

Sub-app :data:`import_app`; ``import osm`` turns an OpenStreetMap file (or OSMnx GraphML) into
a logistics case (resiliopt.roads.osm; rules and assumptions: docs/import.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console
from resiliopt.errors import InputError

console = plain_console()
import_app = typer.Typer(
    name="import",
    help="Bring your own city: real networks in, written as resiliopt cases (docs/import.md).",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

MAGNITUDE = opt.Number(float, 4.0, 8.5, what="a moment magnitude")
VS30 = opt.Number(float, 180.0, 1300.0, what="a shear-wave velocity in m/s")
PGA = opt.Number(float, 0.0, 10.0, lo_open=True, what="a PGA in g")
LEVEL = opt.Number(int, 6, 8, what="a design level (6, 7 or 8)")
POSITIVE = opt.Number(float, 0.0, 1e12, lo_open=True, what="a number > 0")
SHARE = opt.Number(float, 0.0, 1.0, lo_open=True, what="a share in (0, 1]")
LEVELS = opt.Number(float, 0.0, 200.0, lo_open=True, what="a number of levels in (0, 200]")


def lat_lon(raw: Any) -> str:
    """``LAT,LON`` in degrees."""
    spec = str(raw)
    try:
        lat, lon = (float(p) for p in spec.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"{spec!r} is not LAT,LON (two numbers in degrees, e.g. 60.125,24.944)"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise typer.BadParameter(f"{spec!r}: latitude must be in [-90, 90] and longitude in [-180, 180]")
    return spec


@import_app.command(
    "osm",
    epilog="Example: resiliopt import osm Helsinki.osm.pbf --out runs/helsinki "
    "--epicentre 60.125,24.944 --magnitude 6.5   then   resiliopt slice runs/helsinki",
)
def osm_cmd(
    file: Path = typer.Argument(
        ..., help="an OpenStreetMap file (.osm.pbf, .osm, .osm.gz, .osm.bz2) or OSMnx GraphML"
    ),
    out: Path = typer.Option(..., "--out", help="case directory to write"),
    name: str = typer.Option(None, "--name", help="case name (default: the file name up to its first dot)"),
    epicentre: str = typer.Option(
        None,
        "--epicentre",
        parser=lat_lon,
        metavar="LAT,LON",
        help="scenario earthquake's epicentre, degrees",
    ),
    magnitude: float = MAGNITUDE.option(None, "--magnitude", help="its moment magnitude (with --epicentre)"),
    vs30: float = VS30.option(760.0, "--vs30", help="site Vs30, m/s (760: BA08's reference rock)"),
    mechanism: str = typer.Option(
        "unspecified", "--mechanism", help="unspecified, strike-slip, normal or reverse (BA08)"
    ),
    variability: bool = typer.Option(
        False,
        "--ground-motion-variability",
        help="add BA08's between- and within-event terms (tau, phi) to the case's ground motion",
    ),
    pga: float = PGA.option(
        None, "--pga", help="without --epicentre: one PGA in g everywhere (default 0.25)"
    ),
    design_level: int = LEVEL.option(6, "--design-level", help="design level of every building (Table 1)"),
    equivalent_m2: float = POSITIVE.option(
        1000.0, "--equivalent-m2", help="floor area (m^2) counted as one building of the paper"
    ),
    levels: float = LEVELS.option(
        None, "--levels", help="levels of a building without building:levels (default: the file's median)"
    ),
    other_sector: str = typer.Option("residential", "--other-sector", help="paper sector of category other"),
    relief_share: float = SHARE.option(0.1, "--relief-share", help="share of road capacity open to relief"),
    template: str = typer.Option("beijing", "--template", help="case whose paper parameters are used"),
    force: bool = opt.FORCE,
) -> None:
    """Roads, bridges and buildings of an OpenStreetMap extract -> a logistics case (+ import.md)."""
    # lazy: the importer loads the OSM reader and the case library (slow to import)
    from resiliopt.roads.osm import Earthquake, ImportOptions, import_case
    from resiliopt.roads.osm_network import CapacityRule

    if (epicentre is None) != (magnitude is None):
        raise InputError("--epicentre and --magnitude go together", location="--magnitude")
    if epicentre is not None and pga is not None:
        raise InputError("--pga is for a case without an epicentre", location="--pga")
    quake = None
    if epicentre is not None:
        lat, lon = (float(p) for p in epicentre.split(","))
        quake = Earthquake(lat, lon, magnitude, vs30, mechanism, variability)
    options = ImportOptions(
        name=name,
        earthquake=quake,
        pga=pga,
        template=template,
        design_level=design_level,
        equivalent_m2=equivalent_m2,
        default_levels=levels,
        other_sector=other_sector,
        capacity=CapacityRule(relief_share=relief_share),
    )
    s = import_case(file, out, options, force)
    if s.get("graphml"):
        console.print(f"case {s['name']} written to {out} from the GraphML {s['file']} (docs/roads.md)")
        return
    console.print(
        f"case {s['name']} written to {out}: {s['nodes']} road nodes, {s['links']} links ({s['arcs']} arcs), "
        f"{s['bridges']} bridges, {s['groups']} building groups from {s['buildings']} buildings; "
        f"PGA {s['pga']:g} g, TR {s['total_resources']:g} units/day"
    )
    console.print(f"what was read, dropped and assumed: {out / 'import.md'}")
