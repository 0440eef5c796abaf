"""YAML reading and pydantic validation with messages that name file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from resiliopt.errors import InputError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"invalid YAML: {problem}", file=path, location=where) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None


def format_loc(loc: tuple[Any, ...]) -> str:
    """``('links', 12, 'capacity')`` -> ``links[12].capacity``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def validate(model: type[M], data: Any, file: str | Path | None = None) -> M:
    """Validate ``data`` against ``model``; the first error becomes an :class:`InputError`."""
    if data is None:
        raise InputError("the file is empty", file=file)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = format_loc(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {err['input']!r})"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more error{'s' if more > 1 else ''})"
        raise InputError(msg, file=file, location=loc) from None


def load(model: type[M], path: str | Path) -> M:
    """Read and validate one YAML file."""
    return validate(model, read_yaml(path), file=path)
