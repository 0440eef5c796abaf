"""CSV tables of input records: reading, row validation and where a record came from.

A table of records (the nodes and links of a network, the tables of an infrastructure case)
may be given inline in a YAML file or as a CSV file beside it. The CSV file has a header of
field names (the YAML field names); each line is one record, and an empty cell takes the
field's default (a missing required field is an error). Every error is an
:class:`~resiliopt.errors.InputError` naming the CSV file, the row (and its line) and the
column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, TypeAdapter, ValidationError

from resiliopt._yaml import format_loc
from resiliopt.errors import InputError


@dataclass(frozen=True)
class Where:
    """Where the records of one table came from, to name them in messages."""

    file: Path | None
    inline: str | None = None  # YAML key of an inline table, None for a CSV file

    @property
    def csv_file(self) -> Path | None:
        """The CSV file of the table; ``None`` for an inline one."""
        return self.file if self.inline is None else None

    def at(self, k: int, column: str | None = None) -> str:
        """Record ``k`` (0-based) and a column: ``links[3].to`` or ``row 4 (line 5), column 'to'``."""
        if self.inline is not None:
            loc = f"{self.inline}[{k}]"
            return f"{loc}.{column}" if column else loc
        loc = f"row {k + 1} (line {k + 2})"
        return f"{loc}, column {column!r}" if column else loc


def field_names(model: type[BaseModel]) -> set[str]:
    """The column names a table of ``model`` records may have (aliases where a field has one)."""
    return {f.alias or n for n, f in model.model_fields.items()}


def read_csv(path: Path, model: type[BaseModel]) -> list[dict[str, str]]:
    """The records of a CSV table as dicts of their non-empty cells (strings, stripped).

    Refused (an :class:`InputError` naming the file, line and column): a missing file, a
    file that is not UTF-8 or starts with a byte-order mark, no header, an empty, duplicate or
    unknown column name (a typo), an empty line, a line with more cells than the header has
    columns, bad CSV quoting.
    """
    if not path.is_file():
        raise InputError("table file not found", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    if text.startswith("\ufeff"):  # (else the first column's name is '\ufeff...': an unknown field)
        msg = (
            "the file starts with a UTF-8 byte-order mark (BOM, as 'CSV UTF-8' exports write): "
            "save it as plain UTF-8"
        )
        raise InputError(msg, path, "line 1 (header)")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader)
        except StopIteration:
            raise InputError("empty CSV file: a header row naming the fields is needed", file=path) from None
        header = [h.strip() for h in header]
        fields = field_names(model)
        for j, h in enumerate(header):
            if not h:
                raise InputError("empty column name in the header", path, f"line 1, column {j + 1}")
            if h in header[:j]:
                raise InputError(f"duplicate column {h!r} in the header", path, "line 1")
            if h not in fields:
                known = ", ".join(sorted(fields))
                raise InputError(f"unknown field (fields: {known})", path, f"line 1 (header), column {h!r}")
        width = len(header)
        # cells are stripped; a file without a blank next to a separator or quote needs none
        strip = _BLANK_EDGE.search(text) is not None
        rows = []
        for k, cells in enumerate(reader):
            if reader.line_num != k + 2:  # (keeps record k on line k + 2, as messages say)
                msg = "a line break inside a cell (a quoted cell spans lines); each record is one line"
                raise InputError(msg, path, f"line {k + 2}")
            if strip:
                cells = [c.strip() for c in cells]
            if len(cells) == width and "" not in cells:
                rows.append(dict(zip(header, cells, strict=True)))
                continue
            if len(cells) > width:
                msg = f"{len(cells)} cells but the header has {width} columns"
                raise InputError(msg, path, f"line {k + 2}")
            if not any(cells):
                raise InputError("empty line inside the table", path, f"line {k + 2}")
            # empty (or absent) cells take the field's default (a missing required field is an error)
            rows.append({h: c for h, c in zip(header, cells, strict=False) if c})
        return rows
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", file=path) from None


#: a blank (space, tab) at the start or end of a cell (perhaps inside its quotes)
_BLANK_EDGE = re.compile(r'(?:^|[,"])[ \t]|[ \t](?:[,"\r]|$)', re.MULTILINE)


def validate_rows(model: type[BaseModel], records: list, where: Where, strings: bool = False) -> list:
    """Validate records against ``model``; the first error (an unknown field first) is raised.

    ``strings``: the records' values are strings (CSV cells), parsed as the fields' types
    (pydantic's ``validate_strings``: ``'1.5'`` is a number to a strict float field,
    ``'false'`` a boolean) while the fields' rules stay those of YAML input.
    """
    try:
        if strings:  # strings mode takes no list: records keyed by their index
            out = TypeAdapter(dict[str, model]).validate_strings({str(k): r for k, r in enumerate(records)})
            return list(out.values())
        return TypeAdapter(list[model]).validate_python(records)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # an unknown field (a typo) explains the "missing" error that comes with it: name it first
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = err["loc"]
        k = int(loc[0]) if loc and str(loc[0]).isdigit() else 0
        column = format_loc(tuple(loc[1:])) if len(loc) > 1 else None
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] != "missing" and not isinstance(err.get("input"), dict | list):
            msg = f"{msg} (got {err['input']!r})"
        more = len(errors) - 1
        if more:
            msg += f" (and {more} more error{'s' if more > 1 else ''})"
        raise InputError(msg, where.file, where.at(k, column)) from None


def load_table(model: type[BaseModel], ref: str | list, file: Path, key: str) -> tuple[list, Where]:
    """The records of table ``key`` of YAML file ``file``: ``ref`` is the inline list or a CSV
    path relative to the file's directory. Returns the validated records and where they came from."""
    if isinstance(ref, str):
        where = Where(file.parent / ref)
        return validate_rows(model, read_csv(where.file, model), where, strings=True), where
    where = Where(file, inline=key)
    return validate_rows(model, ref, where), where


def _cell(v) -> object:
    if v is None:
        return ""
    return ("true" if v else "false") if isinstance(v, bool) else v


def write_csv(path: Path, header: list[str], rows) -> None:
    """Write a CSV table: a header of field names, then one record a line (sequences of cells
    in the header's order, or dicts by field name). ``None`` is an empty cell, a boolean
    ``true`` / ``false``."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            cells = [row.get(h) for h in header] if isinstance(row, dict) else row
            w.writerow([_cell(c) for c in cells])


def write_tables(folder: str | Path, tables: dict, fmt: str = "csv") -> list[str]:
    """Write each DataFrame of ``tables`` as ``folder/<name>.csv`` (or ``.parquet``), without
    the index; returns the file names. The one table writer of every command's output folder."""
    names = []
    for name, df in tables.items():
        p = Path(folder) / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(p, index=False)
        else:
            df.to_parquet(p, index=False)
        names.append(p.name)
    return names
