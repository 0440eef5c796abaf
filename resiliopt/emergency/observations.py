"""The observations file of an event: one row per time stamp and element.

Columns (CSV header, or the keys of each mapping under ``observations:`` in YAML):

===============  ========  ==========================================================
column           required  meaning
===============  ========  ==========================================================
time             yes       period of the observation (number, 0 <= time <= 1e12; the event is at the first)
kind             yes       ``node`` or ``link``
layer            yes       layer id of the case (water, gas, power, telecom, road ...)
element          yes       node or link id within the layer
status           yes       ``up``, ``down``, ``degraded`` or ``repairing`` (down, a crew at work)
served_share     no        share of the element's demand served, 0..1
flow             no        observed flow, the layer's unit per period (|flow| <= 1e12)
pga              no        peak ground acceleration at the element, g (0 < pga <= 10)
===============  ========  ==========================================================

One element may be observed at most once per time stamp. Rows of an element need not be
consecutive; the table is returned sorted by time.

A CSV file is read by the tables' reader (:func:`resiliopt._tables.read_csv`: header, blank
cells, line breaks) and every error names the row as the tables do, ``row N (line N+1),
column 'status'``, with the value as written; a YAML file names ``observations[N].status``.
Every broken rule of the file is reported in one :class:`~resiliopt.errors.InputError` (the
first, then an indented list: :func:`resiliopt._yaml.input_error`). docs/formats.md lists the
rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from resiliopt._tables import Where, read_csv
from resiliopt._yaml import format_loc, input_error, read_yaml
from resiliopt.errors import InputError
from resiliopt.schemas import LIMIT, PGA, Num, Share


def _at_most_limit(v: float) -> float:
    if v > LIMIT:
        raise ValueError(f"{v:g} is beyond the limit of {LIMIT:g}")
    return v


Time = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False), AfterValidator(_at_most_limit)]
Name = Annotated[str, Field(min_length=1)]


class Observation(BaseModel):
    # element and layer ids may be numbers in YAML (``element: 12``): read as text
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    time: Time = Field(description="period of the observation")
    kind: Literal["node", "link"]
    layer: Name
    element: Name
    status: Literal["up", "down", "degraded", "repairing"]
    served_share: Share | None = None
    flow: Num | None = Field(None, description="observed flow, the layer's unit per period")
    pga: PGA | None = None


COLUMNS = list(Observation.model_fields)
_one = TypeAdapter(Observation)
_strings = TypeAdapter(dict[str, Observation])


@dataclass(frozen=True)
class Source:
    """Where the observations came from: the file, how its records are named, and the record
    (0-based, in file order) of every row of the table :func:`read_observations` returns."""

    where: Where
    rows: tuple[int, ...]

    @property
    def file(self) -> Path | None:
        return self.where.file

    def at(self, i: int, column: str | None = None) -> str:
        """The location of row ``i`` of the returned (time-sorted) table."""
        return self.where.at(self.rows[i], column)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _records(path: Path) -> tuple[list, Where, bool]:
    """The raw records, where they are, and whether they are CSV cells (strings)."""
    if path.suffix.lower() == ".csv":
        return read_csv(path, Observation), Where(path), True
    raw = read_yaml(path)
    if not isinstance(raw, dict) or "observations" not in raw:
        raise InputError("expected a mapping with an `observations:` list", file=path)
    extra = sorted(map(str, set(raw) - {"observations", "kind", "description", "synthetic"}))
    if extra:
        raise InputError("unknown field (fields: observations, kind, description, synthetic)", path, extra[0])
    if not isinstance(raw["observations"], list):
        raise InputError(
            f"must be a list of rows (got {_short(raw['observations'])})", file=path, location="observations"
        )
    return raw["observations"], Where(path, inline="observations"), False


def _problems(exc: ValidationError, where: Where, records: list, strings: bool) -> list[tuple]:
    out = []
    for e in exc.errors(include_url=False):
        loc = list(e["loc"])
        k = int(loc[0]) if loc and str(loc[0]).isdigit() else 0
        column = format_loc(tuple(loc[1:])) if len(loc) > 1 else None
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e["type"] == "extra_forbidden":
            msg = "unknown column" if strings else "unknown field (not in the schema; check the spelling)"
        elif e["type"] != "missing" and not isinstance(e.get("input"), dict | list):
            msg = f"{msg} (got {_short(e['input'])})"
        elif e["type"] == "model_type" or (not strings and not loc[1:]):
            msg = f"a row must be a mapping of columns (got {_short(records[k])})"
        out.append((where.at(k, column), msg))
    return out


def read_observations(path: str | Path) -> tuple[pd.DataFrame, Source]:
    """Read and validate an observations file (CSV or YAML): the tidy table (sorted by time)
    and where each of its rows came from (to name them in later messages)."""
    path = Path(path)
    recs, where, strings = _records(path)
    if not recs:
        raise InputError("no observations", file=path)
    try:
        if strings:  # strings mode takes no list: records keyed by their index
            rows = list(_strings.validate_strings({str(k): r for k, r in enumerate(recs)}).values())
        else:
            rows = TypeAdapter(list[Observation]).validate_python(recs)
    except ValidationError as exc:
        raise input_error(_problems(exc, where, recs, strings), path) from None
    df = pd.DataFrame([r.model_dump() for r in rows], columns=COLUMNS)
    problems = []
    first: dict[tuple, int] = {}
    for k, key in enumerate(zip(df["time"], df["kind"], df["layer"], df["element"], strict=True)):
        if key in first:
            t, kind, layer, el = key
            problems.append(
                (
                    where.at(k),
                    f"{layer} {kind} {el!r} is observed twice at time {t:g}: {where.at(first[key])}"
                    " has it too (one status per element and time)",
                )
            )
        else:
            first[key] = k
    if problems:
        raise input_error(problems, path)
    order = df.sort_values("time", kind="stable").index
    df = df.loc[order].reset_index(drop=True)
    return df, Source(where, tuple(int(i) for i in order))


def load_observations(path: str | Path) -> pd.DataFrame:
    """Read and validate an observations file (CSV or YAML) into a tidy table."""
    return read_observations(path)[0]


def element_problems(
    obs: pd.DataFrame, case_elements: pd.DataFrame, layers: list[str], source: Source | None = None
) -> list[tuple]:
    """Every row of ``obs`` that names a layer or an element the case does not have, as
    ``(location, message, file)`` problems (:func:`resiliopt._yaml.input_error`).

    ``case_elements`` has columns ``kind, layer, element``; ``source`` names the rows (else
    ``row N`` of the table).
    """
    keys = set(map(tuple, case_elements[["kind", "layer", "element"]].astype(str).to_numpy()))
    out = []
    cols = obs[["kind", "layer", "element"]].astype(str).to_numpy()
    for i, (kind, layer, el) in enumerate(cols):
        if (kind, layer, el) in keys:
            continue
        at = (lambda c, i=i: source.at(i, c)) if source is not None else (lambda c, i=i: f"row {i + 1}, {c}")
        if layer not in layers:
            out.append(
                (at("layer"), f"the case has no layer {layer!r} (layers: {', '.join(layers)})", _file(source))
            )
        else:
            out.append((at("element"), f"{layer} {kind} {el!r} is not an element of the case", _file(source)))
    return out


def _file(source: Source | None) -> Path | None:
    return source.file if source is not None else None


def check_elements(
    obs: pd.DataFrame,
    known: pd.DataFrame,
    file: str | Path | None = None,
    source: Source | None = None,
    layers: list[str] | None = None,
) -> None:
    """Refuse observations of elements the case does not have (every such row, one error).

    ``known`` has columns ``kind, layer, element``; ``source`` (from :func:`read_observations`)
    names the file and its rows.
    """
    layers = layers if layers is not None else sorted(set(known["layer"].astype(str)))
    problems = element_problems(obs, known, layers, source)
    if problems:
        raise input_error(problems, source.file if source is not None else file)
