"""Failed-element sets: named scenarios, explicit lists, CSV files, draws from failure probabilities.

Every function returns the tidy failed table (kind, layer, element), checked against the case.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._tables import Where, read_csv, validate_rows
from resiliopt.case.infra import KEY, InfraCase
from resiliopt.case.infra_schema import Row
from resiliopt.errors import InputError


class FailedRow(Row):
    kind: str
    layer: str
    element: str


def check_failed(case: InfraCase, failed: pd.DataFrame, file: str | Path | None = None) -> pd.DataFrame:
    """Refuse unknown elements or kinds; drop repeats; return kind, layer, element (str)."""
    el = case.elements()
    known = set(zip(el["kind"], el["layer"], el["element"], strict=True))
    out = failed[KEY].astype(str).drop_duplicates().reset_index(drop=True)
    for k, key in enumerate(zip(out["kind"], out["layer"], out["element"], strict=True)):
        if key[0] not in ("node", "link"):
            raise InputError(
                f"kind must be node or link (got {key[0]!r})", file, f"row {k + 1}, column 'kind'"
            )
        if key not in known:
            raise InputError(
                f"{key[0]} {key[2]!r} is not in layer {key[1]!r} of {case.name}", file, f"row {k + 1}"
            )
    return out


def parse_fail_options(case: InfraCase, items: list[str]) -> pd.DataFrame:
    """``node:power:18`` / ``link:water:3`` strings (the CLI's ``--fail``) -> failed table."""
    rows = []
    for k, s in enumerate(items):
        parts = s.split(":")
        if len(parts) != 3:
            raise InputError(
                f"expected KIND:LAYER:ID, e.g. node:power:18 (got {s!r})", location=f"--fail[{k}]"
            )
        rows.append(parts)
    return check_failed(case, pd.DataFrame(rows, columns=KEY), "--fail")


def read_failed_csv(case: InfraCase, path: str | Path) -> pd.DataFrame:
    """A CSV with columns kind, layer, element (one failed element a row)."""
    path = Path(path)
    rows = validate_rows(FailedRow, read_csv(path, FailedRow), Where(path), strings=True)
    return check_failed(case, pd.DataFrame([r.model_dump() for r in rows], columns=KEY), path)


def sample_damage(case: InfraCase, magnitude: float, seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Each element fails independently with its probability ``p`` at ``magnitude``.

    One uniform draw per row of ``failure_probability`` (rows of that magnitude, in table order),
    so a seed gives the same set on any machine."""
    fp = case.failure_probability
    if fp is None:
        raise InputError("this case has no failure_probability table", case.path, "failure_probability")
    sub = fp[fp["magnitude"] == float(magnitude)]
    if not len(sub):
        mags = ", ".join(f"{m:g}" for m in sorted(fp["magnitude"].unique()))
        raise InputError(
            f"no failure probabilities for magnitude {magnitude:g} (have {mags})", location="magnitude"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    u = rng.random(len(sub))
    return sub.loc[u < sub["p"].to_numpy(), KEY].reset_index(drop=True)


def failed_from_options(
    case: InfraCase,
    damage: str | None = None,
    fail: list[str] | None = None,
    damage_file: str | Path | None = None,
    magnitude: float | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, str]:
    """The union of the given sources, and a one-line description of where it came from."""
    parts, what = [], []
    if damage:
        parts.append(case.damage_scenario(damage))
        what.append(f"scenario {damage}")
    if fail:
        parts.append(parse_fail_options(case, fail))
        what.append(f"{len(fail)} listed")
    if damage_file:
        parts.append(read_failed_csv(case, damage_file))
        what.append(f"file {damage_file}")
    if magnitude is not None:
        parts.append(sample_damage(case, magnitude, seed))
        what.append(f"drawn at magnitude {magnitude:g}, seed {seed}")
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in KEY}), "no damage"
    failed = pd.concat(parts, ignore_index=True).drop_duplicates().reset_index(drop=True)
    return failed, " + ".join(what)
