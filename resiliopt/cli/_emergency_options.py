"""Checked option types of the ``emergency`` commands (built on :mod:`resiliopt.cli._options`).

Each is refused while the command line is read (exit 2, one message quoting what was typed).
"""

from __future__ import annotations

from typing import Any

import typer

from resiliopt.cli._options import Choice, Number, name_list

TIME = Number(float, 0.0, 1e9, what="a time stamp (a number >= 0)")
SEEDS = Number(int, 1, 1000, what="a whole number of seeds")
PERIODS = Number(int, 1, 1000, what="a whole number of periods")
DISPERSION = Number(float, 0.0, 5.0, what="a log standard deviation")
PRIOR_DISPERSION = Number(float, 0.0, 5.0, lo_open=True, what="a log standard deviation")
STRENGTH = Number(float, 0.0, 1e6, lo_open=True, what="a prior strength (pseudo-observations)")
SOLVERS = ("highs", "scip")
EVENTS = Number(int, 1, 100_000, what="a whole number of events")
HORIZON = Number(int, 1, 100, what="a whole number of periods")
BOOTSTRAP = Number(int, 100, 1_000_000, what="a whole number of bootstrap resamples")
PROBABILITY = Number(float, 0.0, 1.0, what="a probability in [0, 1]")
SOURCE = Choice("draw", "scenarios")
REPLAN = Choice("every", "change")
DAMAGE_MODEL = Choice("auto", "table", "fragility")
AFTERSHOCK_KIND = Choice("auto", "quake", "found")


def policy_list(raw: Any) -> str:
    """Comma-separated policies of the loop (:data:`~resiliopt.emergency.response.POLICIES`),
    at least one, none twice; returned as ``a,b`` without blanks."""
    # lazy: the library loads Pyomo, HiGHS and networkx (resiliopt/cli/emergency.py's doc)
    from resiliopt.emergency.response import POLICIES

    spec = name_list(raw)
    bad = [p for p in spec.split(",") if p not in POLICIES]
    if bad:
        raise typer.BadParameter(f"unknown policy {bad[0]!r}; use {', '.join(POLICIES)}")
    return spec


def scheduler_address(raw: Any) -> str:
    """A Dask scheduler address (``tcp://host:8786``, ``host:8786``) or ``local``: one word,
    no blanks; whether it answers is checked when the run connects (before any output)."""
    text = str(raw).strip()
    if not text or any(c.isspace() for c in text):
        raise typer.BadParameter(
            f"{str(raw)!r} is not a scheduler address; use HOST:PORT, tcp://HOST:PORT or local"
        )
    return text


def solver_name(raw: Any) -> str:
    """``highs`` or ``scip``."""
    name = str(raw).strip()
    if name not in SOLVERS:
        raise typer.BadParameter(f"{str(raw)!r} is not a solver; use {' or '.join(SOLVERS)}")
    return name
