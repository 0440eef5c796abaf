r"""Failed-element sets: named scenarios, explicit lists, CSV files, draws from failure probabilities.

The one damage sampler and the one damage-file reader of every command (``infra served``,
``cascade``, ``restore``, ``simulate``; docs/infra.md "Damage"). Every function returns the tidy
failed table (kind, layer, element), checked against the case.

**The draw.** Draw ``i`` (``--simulation i``, simulation ``i`` of ``infra simulate``) of
magnitude :math:`M` with seed :math:`s` takes the failure probabilities of :math:`M` sorted by
(kind, layer, element), one uniform :math:`u_j` per row from
``numpy.random.default_rng(SeedSequence([s, M, i]))``, and fails row :math:`j` iff
:math:`u_j < p_j`: every element fails independently with its probability. A whole magnitude
enters the seed as itself (this is the per-simulation stream of the INDP Monte Carlo, whose
published comparison it reproduces); a magnitude with a fraction (a table for 6.5) enters as
the 64 bits of its IEEE double followed by a 1, so it can never give the stream of a whole one.
The set depends on :math:`(s, M, i)` and the table alone, never on the machine, the worker
count or the row order of the file.
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resiliopt._tables import Where, read_csv, validate_rows
from resiliopt.case.infra import KEY, InfraCase
from resiliopt.case.infra_schema import Row
from resiliopt.errors import InputError


class FailedRow(Row):
    kind: str
    layer: str
    element: str


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in KEY})


def _check_rows(
    case: InfraCase, rows: list[tuple[str, str, str]], file: Any, at: Callable[[int, str | None], str]
) -> pd.DataFrame:
    """Refuse a bad kind, an unknown layer or element, naming ``at(k, column)`` of row ``k`` as
    given (before repeats are dropped); return kind, layer, element (str) without repeats."""
    el = case.elements()
    known = set(zip(el["kind"], el["layer"], el["element"], strict=True))
    layers = list(case.layers["layer"])
    for k, (kind, layer, element) in enumerate(rows):
        if kind not in ("node", "link"):
            raise InputError(f"kind must be node or link (got {kind!r})", file, at(k, "kind"))
        if layer not in layers:
            raise InputError(
                f"unknown layer {layer!r} (layers of {case.name}: {', '.join(layers)})", file, at(k, "layer")
            )
        if (kind, layer, element) not in known:
            other = sorted(la for ki, la, e in known if ki == kind and e == element)
            hint = f" (it is in {', '.join(map(repr, other))})" if other else ""
            raise InputError(
                f"unknown {kind} {element!r}: {kind} {element!r} is not in layer {layer!r} "
                f"of {case.name}{hint}",
                file,
                at(k, "element"),
            )
    out = pd.DataFrame(rows, columns=KEY).astype(str) if rows else _empty()
    return out.drop_duplicates().reset_index(drop=True)


def check_failed(case: InfraCase, failed: pd.DataFrame, file: str | Path | None = None) -> pd.DataFrame:
    """Refuse unknown elements or kinds (``row k`` of ``failed`` as given); drop repeats."""
    missing = [c for c in KEY if c not in failed.columns]
    if missing:
        raise InputError(f"the failed table lacks column(s) {missing} (need kind, layer, element)", file)
    rows = [tuple(map(str, r)) for r in failed[KEY].itertuples(index=False)]
    return _check_rows(case, rows, file, lambda k, col: f"row {k + 1}" + (f", column {col!r}" if col else ""))


def parse_fail_options(case: InfraCase, items: list[str]) -> pd.DataFrame:
    """``node:power:18`` / ``link:water:3`` strings (the CLI's ``--fail``) -> failed table."""
    rows = []
    for k, s in enumerate(items):
        parts = [p.strip() for p in s.split(":")]  # blanks around a part, as in a CSV cell
        if len(parts) != 3:
            raise InputError(
                f"expected KIND:LAYER:ID, e.g. node:power:18 (got {s!r})", location=f"--fail[{k}]"
            )
        rows.append((parts[0], parts[1], parts[2]))
    return _check_rows(case, rows, None, lambda k, col: f"--fail[{k}] {items[k]!r}")


_BOM = b"\xef\xbb\xbf"


def _check_text(path: Path) -> None:
    """Refuse, at the line concerned, what the table reader names only by the file: an empty
    file, a byte-order mark, bytes that are not UTF-8 (a missing file is left to it)."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if not data.strip():
        raise InputError(
            "empty file: a header kind,layer,element and one failed element a row are needed",
            path,
            "line 1 (header)",
        )
    if data.startswith(_BOM):
        raise InputError(
            "the file starts with a UTF-8 byte-order mark (BOM, as 'CSV UTF-8' exports write): "
            "save it as plain UTF-8",
            path,
            "line 1 (header)",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text: byte {data[exc.start : exc.start + 1]!r} at byte offset {exc.start}",
            path,
            f"line {line}" + (" (header)" if line == 1 else ""),
        ) from None


def read_damage_file(case: InfraCase, path: str | Path) -> pd.DataFrame:
    """THE damage-file reader: a CSV with columns kind, layer, element (one failed element a row).

    Every error names the file and ``row k (line k+1)`` counted in the file as written (before
    repeated rows are dropped) with the column and the value: a missing file, a header that
    lacks or misspells a column, an empty cell, a kind other than node / link, an unknown
    layer or element; and at its line an empty file, a byte-order mark, bytes that are not
    UTF-8. Blanks around a cell are dropped. A row given twice counts once."""
    path = Path(path)
    where = Where(path)
    _check_text(path)
    records = read_csv(path, FailedRow)  # refuses a missing file, bad UTF-8 or CSV, a misspelt column
    with path.open(encoding="utf-8", newline="") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    missing = [c for c in KEY if c not in header]
    if missing:
        raise InputError(
            f"the header lacks column(s) {', '.join(map(repr, missing))} (need kind, layer, element)",
            path,
            "line 1 (header)",
        )
    for k, rec in enumerate(records):
        for col in KEY:
            if col not in rec:
                raise InputError(
                    "empty cell (got ''): each row needs kind (node or link), layer and element",
                    path,
                    where.at(k, col),
                )
    rows = validate_rows(FailedRow, records, where, strings=True)
    return _check_rows(case, [(r.kind, r.layer, r.element) for r in rows], path, where.at)


#: the earlier name of :func:`read_damage_file`
read_failed_csv = read_damage_file


# --------------------------------------------------------------------------- the one sampler
def magnitude_key(magnitude: float) -> int | float:
    """A magnitude as the draw and the output name it: ``7.0 -> 7``, ``6.5 -> 6.5``."""
    m = float(magnitude)
    return int(m) if m.is_integer() else m


def _entropy(seed: int, magnitude: float, simulation: int) -> list[int]:
    m = magnitude_key(magnitude)
    if isinstance(m, int) and m >= 0:
        return [int(seed), m, int(simulation)]
    bits = struct.unpack("<Q", struct.pack("<d", float(m)))[0]
    return [int(seed), bits, int(simulation), 1]


def failure_table(case: InfraCase, magnitude: float, option: str = "--magnitude") -> pd.DataFrame:
    """The failure probabilities of one magnitude (it must be in the table: a table of whole
    magnitudes is chosen by a whole number), sorted by (kind, layer, element): the row order of
    the draw. ``option`` names the magnitude's option in the message."""
    fp = getattr(case, "failure_probability", None)
    src = case.source_file("failure_probability") if hasattr(case, "source_file") else None
    if fp is None or not len(fp):
        raise InputError(
            f"this case has no failure_probability table: {getattr(case, 'name', 'case')} cannot draw a "
            "damage from a magnitude",
            src or getattr(case, "path", None),
            "failure_probability",
        )
    t = fp[fp["magnitude"] == float(magnitude)]
    if not len(t):
        have = ", ".join(f"{m:g}" for m in sorted(fp["magnitude"].astype(float).unique()))
        raise InputError(
            f"no failure probabilities for magnitude {float(magnitude):g} (have {have})", location=option
        )
    t = t.assign(layer=t["layer"].astype(str), element=t["element"].astype(str))
    return t.sort_values(["kind", "layer", "element"], kind="stable").reset_index(drop=True)


def draw_damage(table: pd.DataFrame, seed: int, magnitude: float, simulation: int = 0) -> pd.DataFrame:
    """Draw ``simulation`` from a :func:`failure_table`: rows whose uniform fell below ``p``."""
    rng = np.random.default_rng(np.random.SeedSequence(_entropy(seed, magnitude, simulation)))
    u = rng.random(len(table))
    return table.loc[u < table["p"].to_numpy(), KEY].reset_index(drop=True)


def sample_damage(case: InfraCase, magnitude: float, seed: int = 0, simulation: int = 0) -> pd.DataFrame:
    """The one damage sampler: draw ``simulation`` at ``magnitude`` with ``seed`` (module doc).

    ``sample_damage(case, M, s)`` is the damage of ``infra served|cascade|restore --magnitude M
    --seed s`` and of simulation 0 of ``infra simulate --magnitudes M --seed s``."""
    return draw_damage(failure_table(case, magnitude), seed, magnitude, simulation)


# --------------------------------------------------------------------------- options -> damage
@dataclass(frozen=True)
class DamageSource:
    """Where a command's damage comes from (its ``--damage``, ``--fail``, ``--damage-file``,
    ``--magnitude``, ``--seed`` and ``--simulation`` options)."""

    scenario: str | None = None
    fail: tuple[str, ...] = field(default_factory=tuple)
    file: str | Path | None = None
    magnitude: float | None = None
    seed: int = 0
    simulation: int = 0

    def resolve(self, case: InfraCase, exactly_one: bool = False) -> tuple[pd.DataFrame, str]:
        """The failed table and a one-line description (:func:`failed_from_options`)."""
        return failed_from_options(
            case,
            self.scenario,
            list(self.fail),
            self.file,
            self.magnitude,
            self.seed,
            self.simulation,
            exactly_one=exactly_one,
        )


def _scenario(case: InfraCase, name: str) -> pd.DataFrame:
    """The damage scenario ``name`` (``--damage``); an empty or unknown name is refused."""
    if name not in case.damage_scenarios:
        names = case.damage_scenarios
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise InputError(
            f"unknown damage scenario {name!r} (this case has {len(names)}: {shown or 'none'})",
            case.source_file("damage"),
            "--damage",
        )
    return case.damage_scenario(name)


def failed_from_options(
    case: InfraCase,
    damage: str | None = None,
    fail: list[str] | None = None,
    damage_file: str | Path | None = None,
    magnitude: float | None = None,
    seed: int = 0,
    simulation: int = 0,
    exactly_one: bool = False,
) -> tuple[pd.DataFrame, str]:
    """The union of the given sources, and a one-line description of where it came from.

    ``exactly_one``: refuse anything but one source (``infra restore``). A draw index without
    a magnitude is refused (it would be ignored)."""
    if simulation and magnitude is None:
        raise InputError(
            f"--simulation {simulation} picks a draw of --magnitude; give --magnitude M",
            location="--simulation",
        )
    if exactly_one:
        given = [damage is not None, bool(fail), damage_file is not None, magnitude is not None]
        if sum(given) != 1:
            raise InputError(
                "give exactly one of --damage NAME, --damage-file CSV, --magnitude M"
                + (", --fail KIND:LAYER:ID" if fail else ""),
                location="--damage",
            )
    parts, what = [], []
    if damage is not None:
        parts.append(_scenario(case, damage))
        what.append(f"scenario {damage}")
    if fail:
        parts.append(parse_fail_options(case, fail))
        what.append(f"{len(fail)} listed")
    if damage_file is not None:
        f = Path(damage_file)
        if not f.is_file():
            rule = "is a folder" if f.is_dir() else "is not a regular file" if f.exists() else "no such file"
            raise InputError(
                f"{str(f)!r} {rule}: give a CSV file (kind, layer, element)", location="--damage-file"
            )
        parts.append(read_damage_file(case, damage_file))
        what.append(f"file {damage_file}")
    if magnitude is not None:
        parts.append(sample_damage(case, magnitude, seed, simulation))
        draw = f", draw {simulation}" if simulation else ""
        what.append(f"drawn at magnitude {float(magnitude):g}, seed {seed}{draw}")
    if not parts:
        return _empty(), "no damage"
    failed = pd.concat(parts, ignore_index=True).drop_duplicates().reset_index(drop=True)
    return failed, " + ".join(what)
