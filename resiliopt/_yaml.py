"""YAML reading and pydantic validation with messages that name file and field.

:func:`read_yaml` is the single entry point for every YAML input. On top of ``yaml.safe_load``
it

* refuses a mapping that gives the same key twice (PyYAML keeps the last one silently), with
  the line of both;
* reads ``1e5`` and ``1.5E-3`` as numbers (YAML 1.2; PyYAML's YAML 1.1 rules make them strings);
* uses libyaml's C parser (``yaml.CSafeLoader``) where PyYAML was built with it.

:func:`validate` turns every pydantic error of a file (up to :data:`MAX_ERRORS`) into one
:class:`InputError` whose first line is the first error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from resiliopt.errors import InputError

M = TypeVar("M", bound=BaseModel)

#: at most this many errors of one file are listed in a message
MAX_ERRORS = 20

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that refuses duplicate keys and reads ``1e5`` as a float."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # SafeConstructor reports unhashable keys itself
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key {key!r} is given twice in one mapping (first on line {first}); "
                        "a key may appear once",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file, a syntax error or a duplicate key is an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"invalid YAML: {problem}", file=path, location=where) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. a timestamp out of range
        raise InputError(f"invalid YAML: {exc}", file=path) from None


def format_loc(loc: tuple[Any, ...]) -> str:
    """``('links', 12, 'capacity')`` -> ``links[12].capacity``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def join_loc(prefix: str, loc: str) -> str:
    """``links[3]`` + ``to`` -> ``links[3].to``; either may be empty."""
    if not prefix or prefix == "(top level)":
        return loc
    if not loc or loc == "(top level)":
        return prefix
    return prefix + ("" if loc.startswith("[") else ".") + loc


def input_error(problems: list[tuple], file: str | Path | None = None) -> InputError:
    """One :class:`InputError` for a list of ``(location, message)``: the first, then the rest.

    The first line is the first problem (``file: location: message``), followed by a count;
    the next lines list the others (at most :data:`MAX_ERRORS` in all). A problem given as
    ``(location, message, its_file)`` is in another file than ``file`` (a CSV table the file
    names): that file is named with it.
    """
    def file_of(p: tuple) -> str | Path | None:
        return p[2] if len(p) > 2 and p[2] is not None else file

    loc, msg = problems[0][:2]
    top = file_of(problems[0])
    n = len(problems)
    if n > 1:
        shown = problems[1:MAX_ERRORS]
        one_file = len({str(file_of(p)) for p in problems[:MAX_ERRORS]}) == 1
        msg += f" [{n} errors{' in this file' if one_file else ''}]"
        lines = []
        for p in shown:
            where, m, other = p[0], p[1], file_of(p)
            if other is not None and str(other) != str(top):
                where = f"{Path(other).name} {where}" if where else Path(other).name
            lines.append(f"  {where + ': ' if where else ''}{m}")
        if n > MAX_ERRORS:
            lines.append(f"  ... and {n - MAX_ERRORS} more")
        msg += "\n" + "\n".join(lines)
    return InputError(msg, file=top, location=loc)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def problems_of(exc: ValidationError) -> list[tuple]:
    """Every error of a pydantic ``ValidationError`` as ``(location, message)`` (and the file of a
    problem in another file, see :func:`input_error`)."""
    out: list[tuple] = []
    for err in exc.errors(include_url=False):
        loc = format_loc(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
        if err["type"] == "input_rule":
            for where, msg, *file in err["ctx"]["problems"]:
                out.append((join_loc(loc, where), msg, *file))
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not in the schema; check the spelling)"
        elif "input" in err and err["type"] != "missing" and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {_short(err['input'])})"
        out.append((loc, msg))
    return out


def validate(model: type[M], data: Any, file: str | Path | None = None) -> M:
    """Validate ``data`` against ``model``; every error (up to a limit) goes into one :class:`InputError`."""
    if data is None:
        raise InputError("the file is empty", file=file)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error(problems_of(exc), file) from None


def load(model: type[M], path: str | Path) -> M:
    """Read and validate one YAML file."""
    return validate(model, read_yaml(path), file=path)
