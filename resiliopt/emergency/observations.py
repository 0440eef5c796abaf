"""The observations file of an event: one row per time stamp and element.

Columns (CSV header, or the keys of each mapping under ``observations:`` in YAML):

===============  ========  ==========================================================
column           required  meaning
===============  ========  ==========================================================
time             yes       period of the observation (number >= 0; the event is at the first)
kind             yes       ``node`` or ``link``
layer            yes       layer id of the case (water, gas, power, telecom, road ...)
element          yes       node or link id within the layer
status           yes       ``up``, ``down``, ``degraded`` or ``repairing`` (down, a crew at work)
served_share     no        share of the element's demand served, 0..1
flow             no        observed flow, the layer's unit per period
pga              no        peak ground acceleration at the element, g (> 0)
===============  ========  ==========================================================

One element may be observed at most once per time stamp. Rows of an element need not be
consecutive; the table is returned sorted by time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from resiliopt._yaml import format_loc, read_yaml
from resiliopt.errors import InputError

MAX_ERRORS = 20


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time: float = Field(ge=0, allow_inf_nan=False, description="period of the observation")
    kind: Literal["node", "link"]
    layer: str = Field(min_length=1)
    element: str = Field(min_length=1)
    status: Literal["up", "down", "degraded", "repairing"]
    served_share: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    flow: float | None = Field(None, allow_inf_nan=False)
    pga: float | None = Field(None, gt=0, le=10, allow_inf_nan=False, description="g")


COLUMNS = list(Observation.model_fields)
_rows = TypeAdapter(list[Observation])


def _records(path: Path) -> tuple[list[dict], str]:
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise InputError("file not found", file=path)
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"not a readable CSV file ({exc})", file=path) from None
        recs = [{k: v for k, v in r.items() if v != ""} for r in df.to_dict("records")]
        return recs, "row"
    raw = read_yaml(path)
    if not isinstance(raw, dict) or "observations" not in raw:
        raise InputError("expected a mapping with an `observations:` list", file=path)
    extra = sorted(set(raw) - {"observations", "kind", "description", "synthetic"})
    if extra:
        raise InputError("unknown field", file=path, location=extra[0])
    if not isinstance(raw["observations"], list):
        raise InputError("must be a list of rows", file=path, location="observations")
    return raw["observations"], "observations"


def load_observations(path: str | Path) -> pd.DataFrame:
    """Read and validate an observations file (CSV or YAML) into a tidy table."""
    path = Path(path)
    recs, where = _records(path)
    if not recs:
        raise InputError("no observations", file=path)
    try:
        rows = _rows.validate_python(recs)
    except ValidationError as exc:
        errs = exc.errors(include_url=False)
        msgs = []
        for e in errs[:MAX_ERRORS]:
            loc = list(e["loc"])
            if where == "row":  # CSV: data row numbers start at 2 (after the header)
                loc = [f"row {loc[0] + 2}", *loc[1:]]
                text = ", ".join(str(p) for p in loc)
            else:
                text = format_loc(("observations", *loc))
            msg = "unknown column" if e["type"] == "extra_forbidden" else e["msg"]
            msgs.append(f"{text}: {msg}")
        more = f" (and {len(errs) - MAX_ERRORS} more)" if len(errs) > MAX_ERRORS else ""
        raise InputError("; ".join(msgs) + more, file=path) from None
    df = pd.DataFrame([r.model_dump() for r in rows], columns=COLUMNS)
    dup = df.duplicated(["time", "kind", "layer", "element"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        idx = [int(i) for i in df.index[dup][:2]]
        label = "row" if where == "row" else "observations"
        pos = [f"{label} {i + 2}" if where == "row" else f"{label}[{i}]" for i in idx]
        raise InputError(
            f"{first.layer} {first.kind} {first.element!r} observed twice at time {first.time:g}"
            f" ({pos[0]} and {pos[1]})",
            file=path,
        )
    return df.sort_values("time", kind="stable").reset_index(drop=True)


def check_elements(obs: pd.DataFrame, known: pd.DataFrame, file: str | Path | None = None) -> None:
    """Refuse observations of elements the case does not have.

    ``known`` has columns ``kind, layer, element``.
    """
    keys = set(map(tuple, known[["kind", "layer", "element"]].astype(str).to_numpy()))
    for row in obs[["kind", "layer", "element"]].astype(str).drop_duplicates().itertuples(index=False):
        if tuple(row) not in keys:
            raise InputError(
                f"{row.layer} {row.kind} {row.element!r} is not an element of the case", file=file
            )
