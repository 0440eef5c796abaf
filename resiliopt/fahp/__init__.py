"""Fuzzy AHP resilience assessment of complex urban public spaces (Xu et al. 2022).

API: :func:`analyse` (one group of criteria, one or several experts), :func:`load_tree`,
:func:`load_case`, :func:`assess`, :func:`compare`, :func:`table4_reproduction`,
:func:`monte_carlo`, :func:`one_at_a_time`. See ``docs/fahp.md``.
"""

from resiliopt.fahp.assess import Assessment, assess, compare, compile_case, load_case
from resiliopt.fahp.consistency import Diagnostics, diagnose
from resiliopt.fahp.experts import FahpResult, analyse, combine
from resiliopt.fahp.matrix import consistent_matrix, validate_matrix, weights
from resiliopt.fahp.paper import table4_reproduction, table5_check
from resiliopt.fahp.tree import IndicatorTree, load_tree

__all__ = [
    "Assessment",
    "Diagnostics",
    "FahpResult",
    "IndicatorTree",
    "analyse",
    "assess",
    "combine",
    "compare",
    "compile_case",
    "consistent_matrix",
    "diagnose",
    "load_case",
    "load_tree",
    "table4_reproduction",
    "table5_check",
    "validate_matrix",
    "weights",
]
