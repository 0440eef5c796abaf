"""The run commands as functions: ``simulate`` and ``compare`` in their output folder (with the
optional report), and the demo (docs/simulate.md, docs/report.md).

Each writes its folder in place (:func:`resiliopt._atomic.output_directory`: a killed run
resumes in it, and its manifest lists what it wrote), and ``report=True`` adds
``report.html`` (:func:`resiliopt.reports.html.write_report`) inside that context, so the
report is recorded in the manifest too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from resiliopt._atomic import check_output_dir, output_directory
from resiliopt.logistics import SliceResult, load_and_solve_slice
from resiliopt.reports.audit import write_audit
from resiliopt.reports.html import write_report
from resiliopt.simulation.montecarlo import SimulationResult, compare, simulate


def simulate_run(
    case: str | Path,
    scenarios: int,
    seed: int,
    days: int,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    variant: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    plots: bool = True,
    overrides: tuple = (),
    extension: str | None = None,
    report: bool = False,
) -> tuple[SimulationResult, Path | None]:
    """``resiliopt simulate``: :func:`~resiliopt.simulation.montecarlo.simulate` in the output
    folder ``out``; returns the result and the report's path (None without ``report``)."""
    with output_directory(out, "simulate"):
        res = simulate(
            case,
            scenarios,
            seed,
            days,
            out,
            workers,
            scheduler,
            variant,
            progress,
            plots=plots,
            overrides=tuple(overrides),
            extension=extension,
        )
        path = write_report(out) if report else None
    return res, path


def compare_run(
    case: str | Path,
    variants: list[str],
    scenarios: int,
    seed: int,
    days: int,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    overrides: tuple = (),
    extension: str | None = None,
    report: bool = False,
) -> tuple[pd.DataFrame, Path | None]:
    """``resiliopt compare``: :func:`~resiliopt.simulation.montecarlo.compare` in the output
    folder ``out``; ``report`` writes one report per variant and ``OUT/report.html``."""
    with output_directory(out, "compare", parts={v: "simulate" for v in variants}):
        table = compare(
            case,
            variants,
            scenarios,
            seed,
            days,
            out,
            workers,
            scheduler,
            progress,
            tuple(overrides),
            extension,
        )
        path = None
        if report:
            for v in variants:
                write_report(Path(out) / v)
            path = write_report(out)
    return table, path


@dataclass
class Demo:
    """What ``resiliopt demo`` did: the audited first slice and the small Monte Carlo."""

    slice: SliceResult
    simulation: SimulationResult
    audit_dir: Path
    simulation_dir: Path
    report: Path | None  # simulation/report.html (with ``report``)


def run_demo(
    case: str | Path = "beijing",
    out: str | Path = "resiliopt-demo",
    seed: int = 1,
    scenarios: int = 100,
    days: int = 365,
    workers: int | None = None,
    report: bool = False,
    progress: Callable[[int, int], None] | None = None,
    audited: Callable[[SliceResult], None] | None = None,
) -> Demo:
    """The main job on a case: the audit of its first slice (day 0 of scenario 0) in
    ``OUT/audit``, then a Monte Carlo of ``scenarios`` scenarios in ``OUT/simulation``.

    ``audited(result)`` is called once the audit is written (the CLI prints its summary); a
    slice whose optimum is not proven stops the demo there
    (:meth:`~resiliopt.logistics.SliceResult.require_proven`). ``report``: report.html in both
    folders. ``progress(done, total)``: scenarios finished.
    """
    out = Path(out)
    check_output_dir(out, "demo")
    res = load_and_solve_slice(case, seed, 0, 0, None)
    with output_directory(out, "demo", parts={"simulation": "simulate"}):
        params = {"input": case, "seed": seed, "day": 0, "scenario": 0, "variant": "none"}
        write_audit(res, out / "audit", params, report=report)
        if audited is not None:
            audited(res)
        res.require_proven()
        sim = simulate(case, scenarios, seed, days, out / "simulation", workers, progress=progress)
        path = write_report(out / "simulation") if report else None
    return Demo(res, sim, out / "audit", out / "simulation", path)
