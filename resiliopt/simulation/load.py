"""The case of a run: the case file with its override layers, the variant and the extension hook
(docs/constraints.md), made into the :class:`~resiliopt.simulation.scenario.CaseModel` every
scenario samples from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from resiliopt.case import CaseData, load_case
from resiliopt.formulations.user_constraints import load_extension, normalize_spec
from resiliopt.simulation.scenario import CaseModel, case_model


def case_extension(case: CaseData):
    """The extension hook of a case: ``--extension`` (``case.extension``), else the case's own
    ``extension:`` (a file path relative to the case file); None without one."""
    spec = case.extension or case.case.extension
    if not spec:
        return None
    if not case.extension:
        mod, fn = spec.rsplit(":", 1)
        if mod.endswith(".py") and not Path(mod).is_absolute():
            spec = f"{(Path(case.path).parent / mod).resolve()}:{fn}"
    return load_extension(spec)


def load_case_with(case_path, overrides=(), extension: str | None = None) -> CaseData:
    """The case with its ``--override`` layers and ``--extension`` (docs/constraints.md)."""
    data = load_case(case_path, tuple(overrides))
    if extension:
        data = dataclasses.replace(data, extension=normalize_spec(extension))
    return data


def load_case_model(case_path, variant: str | None, overrides=(), extension: str | None = None) -> CaseModel:
    """The case model of a run: the case with its override layers, the variant and the
    extension hook applied (docs/constraints.md)."""
    data = load_case_with(case_path, overrides, extension)
    return case_model(data, variant, case_extension(data))
