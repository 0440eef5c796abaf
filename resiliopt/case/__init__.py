"""Input cases: where they are found, how they are read, how overrides are laid over them.

* :mod:`~resiliopt.case.paths`: the one lookup of bundled data (``beijing``, ``shelby-indp``, ``sz``);
* :mod:`~resiliopt.case.data`: a plain logistics case read and cross-checked (:class:`CaseData`);
* :mod:`~resiliopt.case.overrides`: override layers, merged as dictionaries, then read;
* :mod:`~resiliopt.case.load`: :func:`load_case`, the dispatch between the two;
* :mod:`~resiliopt.case.infra` and :mod:`~resiliopt.case.infra_schema`: an interdependent
  infrastructure case (:class:`InfraCase`) and its row schemas.
"""

from resiliopt.case.data import CaseData, load_network, read_case, read_network
from resiliopt.case.load import load_case
from resiliopt.case.paths import (
    bundled_cases,
    bundled_data_dir,
    bundled_infra_cases,
    resolve_case_path,
    resolve_file,
    resolve_infra_case,
)

__all__ = [
    "CaseData",
    "bundled_cases",
    "bundled_data_dir",
    "bundled_infra_cases",
    "load_case",
    "load_network",
    "read_case",
    "read_network",
    "resolve_case_path",
    "resolve_file",
    "resolve_infra_case",
]
