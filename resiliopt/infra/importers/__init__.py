"""Importers: real network files -> the infra case format (docs/infra.md, docs/import.md).

* :func:`import_water`: EPANET ``.inp`` (through WNTR) -> a ``water`` layer;
* :func:`import_power`: MATPOWER ``.m`` (matpowercaseframes) or pandapower JSON (read as
  JSON) -> a ``power`` layer;
* :func:`import_couple`: several imported cases -> one case with dependencies from a linking
  table or by nearest coordinates.

Each writes ``case.yaml``, CSV tables and ``import.md`` (what was read, dropped and why, every
assumption with its value) into an output folder, whole or not at all, and the written case is
loaded and validated before it appears. Re-running on the same input gives byte-identical
files. WNTR and matpowercaseframes come with the ``import`` extra
(``pip install resiliopt[import]``); the pandapower reader needs neither.
"""

from __future__ import annotations

from pathlib import Path

from resiliopt._atomic import check_output_dir
from resiliopt.errors import InputError
from resiliopt.infra.importers._common import Imported, write_case, write_files
from resiliopt.infra.importers.couple import Nearest, couple_cases
from resiliopt.infra.importers.epanet import import_epanet
from resiliopt.infra.importers.matpower import import_matpower
from resiliopt.infra.importers.pandapower_json import import_pandapower_json

__all__ = [
    "Imported",
    "Nearest",
    "couple_cases",
    "import_couple",
    "import_epanet",
    "import_matpower",
    "import_pandapower_json",
    "import_power",
    "import_water",
    "read_power",
    "write_case",
    "write_files",
]


def _missing(package: str, exc: ModuleNotFoundError) -> InputError:
    return InputError(
        f"this importer needs the Python package {package!r} ({exc.name} is not installed): "
        "pip install 'resiliopt[import]'"
    )


def import_water(path: str | Path, out: str | Path, *, force: bool = False, **options) -> dict:
    """EPANET ``.inp`` -> an infra case in ``out`` (options: :func:`import_epanet`)."""
    check_output_dir(out, "infra import water", force)  # before reading any input
    try:
        imp = import_epanet(path, **options)
    except ModuleNotFoundError as exc:
        raise _missing("wntr", exc) from None
    return write_case(imp, out, "infra import water", force)


def read_power(path: str | Path, **options) -> Imported:
    """MATPOWER ``.m`` or pandapower ``.json``, by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".m":
        try:
            return import_matpower(path, **options)
        except ModuleNotFoundError as exc:
            raise _missing("matpowercaseframes", exc) from None
    if suffix == ".json":
        return import_pandapower_json(path, **options)
    raise InputError(f"unknown power file type {suffix!r}: .m (MATPOWER) or .json (pandapower)", path)


def import_power(path: str | Path, out: str | Path, *, force: bool = False, **options) -> dict:
    """MATPOWER or pandapower JSON -> an infra case in ``out`` (options: :func:`import_matpower`)."""
    check_output_dir(out, "infra import power", force)  # before reading any input
    return write_case(read_power(path, **options), out, "infra import power", force)


def import_couple(
    cases: list[str | Path],
    out: str | Path,
    *,
    table: str | Path | None = None,
    nearest: list[Nearest] | None = None,
    name: str | None = None,
    force: bool = False,
) -> dict:
    """Merge imported cases and add dependencies (:func:`couple_cases`) -> a case in ``out``."""
    check_output_dir(out, "infra import couple", force)  # before reading any input
    imp = couple_cases(cases, table=table, nearest=nearest, name=name)
    return write_case(imp, out, "infra import couple", force)
