"""``load_case``: a logistics case by name or path, with its override layers (docs/overrides.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from resiliopt.case.data import CaseData, read_case
from resiliopt.case.overrides import is_override, load_layers, load_override
from resiliopt.case.paths import resolve_case_path


def load_case(name_or_path: str | Path, overrides: Sequence[str | Path] = ()) -> CaseData:
    """Load and validate a case and the files it references (or an override layer,
    :mod:`resiliopt.case.overrides`).

    ``overrides``: override files laid over the case in turn (``--override``; docs/overrides.md).
    """
    path = resolve_case_path(name_or_path)
    if overrides:
        cd = load_layers(path, list(overrides))
        return dataclasses.replace(cd, overrides=tuple(str(Path(o).resolve()) for o in overrides))
    if is_override(path):
        return load_override(path)
    return read_case(path)
