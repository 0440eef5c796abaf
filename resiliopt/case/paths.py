"""Where input files are found: the one lookup of bundled data for every kind of input.

A case is named by path (a directory holding ``case.yaml``, or the file itself) or by the name
of a bundled data set, which ships inside the wheel (``data/`` in a checkout):

* a logistics case: ``beijing`` -> ``data/beijing/case.yaml``;
* an infrastructure case: ``shelby-indp`` -> ``data/infra/shelby-indp/case.yaml``;
* any other bundled file (FAHP matrices, trees, sites): ``sz`` -> ``data/cups/sz.yaml``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from resiliopt.errors import InputError


def bundled_data_dir() -> Path:
    """Directory of the bundled data sets (inside the wheel, or ``data/`` in a checkout)."""
    packaged = Path(str(resources.files("resiliopt"))) / "_bundled_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data"


def _cases_in(root: Path) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/case.yaml"))


def bundled_cases() -> list[str]:
    """Names of the bundled logistics cases."""
    return _cases_in(bundled_data_dir())


def bundled_infra_cases() -> list[str]:
    """Names of the bundled infrastructure cases."""
    return _cases_in(bundled_data_dir() / "infra")


def _case_file(name_or_path: str | Path, root: Path) -> Path | None:
    p = Path(name_or_path)
    if p.is_dir():
        p = p / "case.yaml"
    if p.is_file():
        return p
    bundled = root / str(name_or_path) / "case.yaml"
    return bundled if bundled.is_file() else None


def resolve_case_path(name_or_path: str | Path) -> Path:
    """``beijing`` -> the bundled case file; a directory -> its ``case.yaml``."""
    p = _case_file(name_or_path, bundled_data_dir())
    if p is None:
        raise InputError(
            f"no case file here, and no bundled case of that name (bundled: {', '.join(bundled_cases())})",
            file=name_or_path,
        )
    return p


def resolve_infra_case(name_or_path: str | Path) -> Path:
    """``shelby-indp`` -> the bundled case file; a directory -> its ``case.yaml``."""
    p = _case_file(name_or_path, bundled_data_dir() / "infra")
    if p is None:
        raise InputError(
            "no infrastructure case file here, and no bundled case of that name "
            f"(bundled: {', '.join(bundled_infra_cases())})",
            file=name_or_path,
        )
    return p


def resolve_file(path: str | Path) -> Path:
    """An existing path, else a bundled file (``cups/sz.yaml``, ``sz``, a bundled case by name),
    else the path as it is (its reader then says it is missing)."""
    p = Path(path)
    if p.exists():
        return p
    root = bundled_data_dir()
    for cand in (
        root / path / "case.yaml",  # a bundled logistics case (beijing)
        root / "infra" / path / "case.yaml",  # a bundled infrastructure case
        root / path,
        root / "cups" / path,
        root / "cups" / f"{path}.yaml",
    ):
        if cand.is_file():
            return cand
    return p
