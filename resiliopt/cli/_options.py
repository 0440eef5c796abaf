"""Checked option types of the command line, shared by every command.

Each number option is parsed by a :class:`Number` (whole or finite real, with its range), so
a mistyped value (``--day -1``, ``--delta nan``, ``--days 1e12``, ``--samples 0``) is refused
while the command line is read, before any work or output, with exit code 2 and one message
that quotes what was typed. Use :func:`option` to declare one::

    seed: int = SEED.option(0, "--seed", help="run seed")

or, with ``Annotated``, ``typer.Option(parser=SEED, metavar=SEED.metavar, ...)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import typer

from resiliopt.errors import InputError

# Limits of counts and indices; beyond these a run could not finish (or overflows) anyway.
SEED_MAX = 2**63 - 1  # seeds fit a signed 64-bit column
DAYS_MAX = 36_500  # 100 years of recovery
SCENARIOS_MAX = 1_000_000
WORKERS_MAX = 1024
SAMPLES_MAX = 10_000_000
#: the largest quantity an option may give (a budget, resources, a backup's capacity or cost): the
#: 1e12 of every input file (resiliopt.schemas.LIMIT; HiGHS takes 1e20 and more as infinite)
QUANTITY_MAX = 1e12


class Number:
    """Parse one option value: an ``int`` or a finite ``float`` within ``[lo, hi]``.

    ``lo_open`` excludes ``lo`` itself (e.g. a step > 0). ``what`` names the quantity in the
    message. Values already of the right type (the defaults) are checked the same way.
    """

    def __init__(
        self,
        kind: type,
        lo: float | None = None,
        hi: float | None = None,
        *,
        lo_open: bool = False,
        what: str | None = None,
    ):
        self.kind, self.lo, self.hi, self.lo_open = kind, lo, hi, lo_open
        self.what = what or ("a whole number" if kind is int else "a finite number")
        self.metavar = "INTEGER" if kind is int else "FLOAT"
        self.__name__ = self.metavar.lower()  # typer shows a parser's name in some messages

    def _range(self) -> str:
        lo = None if self.lo is None else (f"> {self.lo:g}" if self.lo_open else f">= {self.lo:g}")
        hi = None if self.hi is None else f"<= {self.hi:g}" if self.kind is float else f"<= {self.hi}"
        return " and ".join(x for x in (lo, hi) if x)

    def __call__(self, raw: Any) -> int | float:
        shown = repr(raw) if isinstance(raw, str) else repr(str(raw))
        value: int | float
        try:
            if self.kind is int:
                if isinstance(raw, bool) or isinstance(raw, float):
                    raise ValueError
                value = int(raw) if isinstance(raw, int) else int(str(raw).strip(), 10)
            else:
                value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise typer.BadParameter(f"{shown} is not {self.what}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise typer.BadParameter(f"{shown} is not {self.what}")
        bad_lo = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        bad_hi = self.hi is not None and value > self.hi
        if bad_lo or bad_hi:
            raise typer.BadParameter(f"{shown} is out of range: must be {self._range()}")
        return value

    def option(self, default: Any, *decls: str, help: str | None = None, **kwargs: Any) -> Any:
        """``typer.Option(default, *decls)`` parsed and checked by this type."""
        return typer.Option(default, *decls, parser=self, metavar=self.metavar, help=help, **kwargs)


SEED = Number(int, 0, SEED_MAX, what="a whole number (a seed)")
DAY = Number(int, 0, DAYS_MAX, what="a whole number (a day)")
DAYS = Number(int, 1, DAYS_MAX, what="a whole number of days")
SCENARIO = Number(int, 0, SCENARIOS_MAX - 1, what="a whole number (a scenario index)")
SCENARIOS = Number(int, 1, SCENARIOS_MAX, what="a whole number of scenarios")
WORKERS = Number(int, 1, WORKERS_MAX, what="a whole number of workers")
SAMPLES = Number(int, 1, SAMPLES_MAX, what="a whole number of samples")
ROWS = Number(int, 1, 100_000, what="a whole number of rows")
NONNEG = Number(float, 0.0, QUANTITY_MAX)
SHARE = Number(float, 0.0, 1.0)
JUDGMENT_DELTA = Number(float, 0.0, 0.8)  # +- on a judgment of a [0, 1] scale around 0.5
FRACTION_STEP = Number(float, 0.0, 1.0, lo_open=True)
#: a hazard level (earthquake magnitude): any finite number here; the case's failure_probability
#: table decides which exist (a table of whole magnitudes is chosen by a whole number)
MAGNITUDE = Number(float, what="a finite number (a magnitude)")
LIST_MAX = 1000  # values in one comma-separated list option
BACKUP_COUNT_MAX = 10_000


class NumberList:
    """Comma-separated numbers, each parsed by ``item`` (a :class:`Number`): at least one,
    none twice, at most :data:`LIST_MAX`; returned as a tuple (``"6,7" -> (6.0, 7.0)``)."""

    def __init__(self, item: Number):
        self.item = item
        self.metavar = f"{item.metavar},..."
        self.__name__ = "list"

    def __call__(self, raw: Any) -> tuple:
        if isinstance(raw, list | tuple):
            items = list(raw)
        else:
            items = [x.strip() for x in str(raw).split(",")]
        spec = ",".join(map(str, items))
        if not items or any(isinstance(x, str) and not x for x in items):
            raise typer.BadParameter(f"{spec!r} is not a comma-separated list of numbers (e.g. 6,7)")
        if len(items) > LIST_MAX:
            raise typer.BadParameter(f"{spec!r} has more than {LIST_MAX} values")
        values = []
        for k, x in enumerate(items):
            try:
                values.append(self.item(x))
            except typer.BadParameter as exc:
                raise typer.BadParameter(f"{spec!r}: value {k + 1}: {exc.message}") from None
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise typer.BadParameter(f"{spec!r} gives {', '.join(f'{v:g}' for v in twice)} more than once")
        return tuple(values)

    def option(self, default: Any, *decls: str, help: str | None = None, **kwargs: Any) -> Any:
        return typer.Option(default, *decls, parser=self, metavar=self.metavar, help=help, **kwargs)


MAGNITUDES = NumberList(MAGNITUDE)
RESOURCES = NumberList(Number(float, 0.0, QUANTITY_MAX, what="a finite number >= 0 (resources per period)"))


class Choice:
    """One of a fixed set of words (``--method iterative``), refused otherwise while parsing."""

    def __init__(self, *values: str):
        self.values = values
        self.metavar = "|".join(values).upper() if len(values) <= 4 else "TEXT"
        self.__name__ = "choice"

    def __call__(self, raw: Any) -> str:
        value = str(raw)
        if value not in self.values:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(self.values)}")
        return value

    def option(self, default: Any, *decls: str, help: str | None = None, **kwargs: Any) -> Any:
        return typer.Option(default, *decls, parser=self, metavar=self.metavar, help=help, **kwargs)


_BACKUP_COUNT = Number(int, 0, BACKUP_COUNT_MAX, what="a whole number of units")
_BACKUP_AMOUNT = Number(float, 0.0, QUANTITY_MAX, what="a finite number >= 0")


class Backup(NamedTuple):
    """Mobile backup units of ``--backup``, with the text as typed (``spec``) for messages."""

    layer: str
    count: int
    capacity: float
    cost: float
    spec: str


def backup_spec(raw: Any) -> Backup:
    """``LAYER:COUNT:CAPACITY[:COST]`` mobile backup units -> :class:`Backup`: a non-empty
    layer name (the case checks that it has the layer), a whole count >= 0, a finite capacity
    and cost in [0, 1e12] (cost 0 when left out)."""
    if isinstance(raw, Backup):
        return raw
    spec = str(raw)
    parts = spec.split(":")
    if len(parts) not in (3, 4) or not parts[0].strip():
        raise typer.BadParameter(f"{spec!r} is not LAYER:COUNT:CAPACITY[:COST] (e.g. power:2:50)")
    try:
        count = _BACKUP_COUNT(parts[1])
        capacity = _BACKUP_AMOUNT(parts[2])
        cost = _BACKUP_AMOUNT(parts[3]) if len(parts) == 4 else 0.0
    except typer.BadParameter as exc:
        raise typer.BadParameter(f"{spec!r} (LAYER:COUNT:CAPACITY[:COST]): {exc.message}") from None
    return Backup(parts[0].strip(), int(count), float(capacity), float(cost), spec)


def sweep_spec(raw: Any) -> str:
    """``START:STOP:STEP`` budgets, checked by the library's one parser
    (:func:`resiliopt.retrofit.parse_sweep`: finite, ``0 <= START <= STOP``, ``STEP > 0``, a
    bounded count); returned as typed."""
    # the retrofit library loads HiGHS and the recovery engine: only when --sweep is given
    from resiliopt.retrofit import parse_sweep

    spec = str(raw)
    try:
        parse_sweep(spec)
    except InputError as exc:
        raise typer.BadParameter(exc.message) from None
    return spec


def name_list(raw: Any) -> str:
    """Comma-separated names: at least one, none empty (``a,,b``, ``a,``), none twice; returned
    as ``a,b,c`` without blanks."""
    spec = str(raw)
    names = [n.strip() for n in spec.split(",")]
    if not any(names):
        raise typer.BadParameter(f"{spec!r} names nothing; give comma-separated names")
    if not all(names):
        raise typer.BadParameter(f"{spec!r} has an empty name (a comma too many?)")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise typer.BadParameter(f"{spec!r} names {', '.join(map(repr, twice))} more than once")
    return ",".join(names)


JSON = typer.Option(False, "--json", help="print one strict JSON object")

#: the ``resiliopt infra`` command group: cli/infra.py adds it to the app, cli/infra_restore.py
#: adds its commands to it (command modules share it here, they never import each other)
INFRA_APP = typer.Typer(
    name="infra",
    help="Critical infrastructure: interdependent networks, cascades, criticality, restoration.",
    no_args_is_help=True,
)
INFRA_CASE = typer.Argument(
    ..., help="an infra case: bundled name (shelby-indp, shelby-extended), directory or case.yaml"
)

# --------------------------------------------------------------------------- the damage of infra commands
INFRA_DAMAGE = typer.Option(None, "--damage", help="a damage scenario of the case, e.g. set0/sce1")
INFRA_FAIL = typer.Option(
    None, "--fail", help="a failed element KIND:LAYER:ID, e.g. node:power:18 (repeatable)"
)
INFRA_DAMAGE_FILE = typer.Option(None, "--damage-file", help="CSV of failed elements: kind, layer, element")
INFRA_MAGNITUDE = MAGNITUDE.option(
    None, "--magnitude", help="draw the damage from the case's failure probabilities of this magnitude"
)
INFRA_SEED = SEED.option(0, "--seed", help="seed of the --magnitude draw")
INFRA_SIMULATION = SCENARIO.option(
    0, "--simulation", help="index of the --magnitude draw (simulation i of infra simulate)"
)

FORCE = typer.Option(
    False,
    "--force",
    help="write into a folder that is not this command's output: replaces only files resiliopt wrote",
)

# --------------------------------------------------------------------------- options of several commands
OVERRIDE = typer.Option(
    None, "--override", help="YAML file laid over the case (repeatable, in order; docs/constraints.md)"
)
EXTENSION = typer.Option(
    None, "--extension", help="module:function (or file.py:function) adding Pyomo components to the slice LP"
)
RUN_EXTENSION = typer.Option(
    None,
    "--extension",
    help="module:function (or file.py:function) adding Pyomo components to every slice LP",
)
VARIANT = typer.Option(None, "--variant", help="scenario variant of the case (e.g. bridges)")
WORKERS_OPTION = WORKERS.option(None, "--workers", help="local worker processes (default: all cores)")
SCHEDULER = typer.Option(None, "--scheduler", help="Dask scheduler address, or 'local' for a LocalCluster")
REPORT = typer.Option(False, "--report", help="also write OUT/report.html (one self-contained HTML file)")
