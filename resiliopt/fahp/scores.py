r"""Resilience impact scores (Table 2 of Xu et al. 2022).

=========== =============== ===================
category    positive range  negative range
=========== =============== ===================
critical    81 -- 100       -(81 -- 100)
serious     61 -- 80        -(61 -- 80)
moderate    41 -- 60        -(41 -- 60)
minor       21 -- 40        -(21 -- 40)
negligible  0 -- 20         -(0 -- 20)
=========== =============== ===================

The paper's ranges are integer ranges. A non-integer score is placed by its magnitude in
the half-open intervals (80, 100], (60, 80], (40, 60], (20, 40], [0, 20]; so 80.5 is
*critical*. The sign says whether the indicator raises (+) or lowers (-) resilience.
"""

from __future__ import annotations

import math

from resiliopt.errors import InputError
from resiliopt.fahp.schemas import ScoreEntry

CATEGORIES: dict[str, tuple[float, float]] = {
    "critical": (81, 100),
    "serious": (61, 80),
    "moderate": (41, 60),
    "minor": (21, 40),
    "negligible": (0, 20),
}
_UPPER = [("negligible", 20), ("minor", 40), ("moderate", 60), ("serious", 80), ("critical", 100)]


def category_of(score: float) -> str:
    """Category of a score by its magnitude (see module docstring for non-integers)."""
    m = abs(score)
    for name, upper in _UPPER:
        if m <= upper:
            return name
    raise ValueError(f"|score| {m} > 100")


def check_score(
    number: int, name: str, entry: float | ScoreEntry, file: str | None = None
) -> tuple[float, str]:
    """Validate one level-6 score; return (score, category). Errors name the indicator."""
    where = f"scores[{number}] ({name})"
    e = entry if isinstance(entry, ScoreEntry) else ScoreEntry(score=entry)
    s = float(e.score)
    if not math.isfinite(s) or abs(s) > 100:
        raise InputError(f"score {s:g} is outside [-100, 100]", file, where)
    cat = category_of(s)
    if e.category is not None and e.category != cat:
        lo, hi = CATEGORIES[e.category]
        rng = f"{lo}~{hi}" if s >= 0 else f"-({lo}~{hi})"
        raise InputError(
            f"score {s:g} is outside the range of category {e.category!r} ({rng}); it is in {cat!r}",
            file,
            where,
        )
    if e.sign is not None and s != 0 and (e.sign == "negative") != (s < 0):
        raise InputError(
            f"score {s:g} contradicts sign {e.sign!r} (a negative impact needs a score <= 0)",
            file,
            where,
        )
    return s, (e.category or cat)
