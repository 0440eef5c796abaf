"""Strict JSON: what resiliopt prints or writes as JSON parses with any JSON parser.

``NaN`` and ``Infinity`` are not JSON (RFC 8259); they become ``null``. numpy and pandas
scalars become Python numbers, arrays lists, paths strings.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath
from typing import Any


def jsonable(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None and numpy/pandas values unwrapped."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, PurePath):
        return str(obj)
    if hasattr(obj, "tolist") and not isinstance(obj, str | bytes):  # numpy arrays and scalars
        return jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is not None and not isinstance(obj, str | int | bool):
        try:
            import pandas as pd  # imported here: plain JSON output does not load pandas

            if obj is pd.NA or obj is pd.NaT:
                return None
        except ImportError:  # pragma: no cover
            pass
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`jsonable` ``(obj)``, refusing anything that is not strict JSON.

    Plain Python data (what most results are) goes straight to ``json.dumps``; only when that
    refuses it (a NaN, a numpy array, a path) is the whole object converted first."""
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except (TypeError, ValueError):
        return json.dumps(jsonable(obj), allow_nan=False, **kwargs)


def records(df: Any, digits: int | None = 10) -> list[dict]:
    """The rows of a DataFrame as JSON-ready dicts (NaN and NA become None).

    ``digits``: floats rounded to this many decimals by pandas' JSON writer; None keeps every
    digit (the values as Python objects).
    """
    if digits is None:
        return df.astype(object).where(df.notna(), None).to_dict("records")
    return json.loads(df.to_json(orient="records", double_precision=digits)) if len(df) else []
