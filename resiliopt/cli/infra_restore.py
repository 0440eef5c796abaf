"""CLI: ``resiliopt infra restore`` and ``resiliopt infra simulate`` (INDP restoration, docs/indp.md),
thin wrappers over :func:`resiliopt.infra.indp_runs.restore_run` and
:func:`~resiliopt.infra.indp_runs.simulate_run`: parse the options, call, print.

The library is imported inside each command: it loads pandas, Pyomo and HiGHS (about 1.5 s),
which every other ``resiliopt`` command (and ``--help``) would pay otherwise.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from resiliopt.cli import _options as opt
from resiliopt.cli import err_console
from resiliopt.cli._output import first_report_bar, plain_console, print_json

console = plain_console()
infra_app = opt.INFRA_APP
PERIODS = opt.Number(int, 1, 1000, what="a whole number of periods")

READING = opt.Choice("model", "published").option(
    "model",
    "--reading",
    help="model: every layer served, a two-way link is one element; published: the reading that "
    "reproduces the authors' Monte Carlo (water served, links as arc pairs; docs/indp.md)",
)
ARC_MODEL = opt.Choice("link", "directed", "paired").option(
    None, "--arc-model", help="how a two-way link is repaired (overrides --reading)"
)
SERVICE = typer.Option(
    None, "--service-layers", parser=opt.name_list, help="comma-separated layers whose demand is served"
)
RULE = opt.Choice("any", "all").option(
    "any", "--dependency-rule", help="any (paper: sum of gamma >= 1 per layer) | all"
)
TIER1 = opt.SHARE.option(
    None, "--tier1-share", help="minimum served share of tier-1 loads per layer and period"
)
BACKUP = typer.Option(
    None,
    "--backup",
    parser=opt.backup_spec,
    metavar="LAYER:COUNT:CAPACITY[:COST]",
    help="mobile backup units of a layer of the case, e.g. power:2:50:1000 (repeatable)",
)
SOLVER = opt.Choice("highs", "scip").option("highs", "--solver", help="MIP solver")


def _reading(reading, arc_model, service_layers, dependency_rule, tier1_share=None, backups=None) -> dict:
    return {
        "reading": reading,
        "arc_model": arc_model,
        "service_layers": service_layers,
        "dependency_rule": dependency_rule,
        "tier1_share": tier1_share,
        "backups": list(backups or []),
    }


@infra_app.command("restore")
def restore_cmd(
    case: str = opt.INFRA_CASE,
    damage: str = opt.INFRA_DAMAGE,
    damage_file: Path = opt.INFRA_DAMAGE_FILE,
    magnitude: float = opt.INFRA_MAGNITUDE,
    seed: int = opt.INFRA_SEED,
    simulation: int = opt.INFRA_SIMULATION,
    method: str = opt.Choice("iterative", "td").option(
        "iterative", "--method", help="iterative (INDP, one period at a time) | td"
    ),
    periods: int = PERIODS.option(10, "--periods", help="td-INDP horizon T"),
    v: float = opt.NONNEG.option(None, "--v", help="repair resources per period (default: the case's)"),
    reading: str = READING,
    arc_model: str = ARC_MODEL,
    service_layers: str = SERVICE,
    dependency_rule: str = RULE,
    tier1_share: float = TIER1,
    backup: list[str] = BACKUP,
    durations: str = opt.Choice("case", "one").option(
        "case",
        "--durations",
        help="case: a repair takes the case's repair_time, rounded up to whole periods; "
        "one: every repair one period",
    ),
    solver: str = SOLVER,
    out: Path = typer.Option(
        None, "--out", help="write the plan's tables and plots here (replaced atomically)"
    ),
    force: bool = opt.FORCE,
    no_plots: bool = typer.Option(False, "--no-plots"),
    as_json: bool = opt.JSON,
) -> int:
    """Optimal restoration plan (INDP / td-INDP) for one damage, checked against the input."""
    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.damage import DamageSource

    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.indp_runs import restore_run

    run = restore_run(
        case,
        DamageSource(damage, (), damage_file, magnitude, seed, simulation),
        method,
        periods,
        v,
        {
            **_reading(reading, arc_model, service_layers, dependency_rule, tier1_share, backup),
            "durations": durations,
        },
        solver,
        out,
        force,
        plots=not no_plots,
    )
    code = 0 if run.ok else 1
    if as_json:
        print_json(run.to_dict())
        return code
    plan, chk = run.plan, run.check
    d = run.to_dict()["damaged"]
    served = plan.served.pivot(index="period", columns="layer", values="share")
    t = Table(
        title=f"{run.case.name}: {method} INDP, {run.damage} ({d['nodes']} nodes, {d['links']} links damaged)"
    )
    for col in ["t", "rep.", "flow", "repair", "spaces", "unbal.", "objective", *served.columns]:
        t.add_column(col, justify="right")
    nrep = plan.repairs.groupby("period").size()
    for r in plan.costs.itertuples(index=False):
        t.add_row(
            str(r.period),
            str(int(nrep.get(r.period, 0))),
            f"{r.flow_cost:.4g}",
            f"{r.node_repair_cost + r.link_repair_cost:.4g}",
            f"{r.space_cost:.4g}",
            f"{r.unbalance_cost:.3g}",
            f"{r.objective:.5g}",
            *[f"{served.at[r.period, k]:.0%}" for k in served.columns],
        )
    console.print(t)
    gap = f"{plan.max_gap:.2g}" if plan.max_gap == plan.max_gap else "n/a"
    proof = "all optimal" if run.all_optimal else "NOT all optimal"
    console.print(
        f"objective {plan.objective:,.6g} (max MIP gap {gap}, {proof}); "
        f"independent check: {'passed' if chk.ok else 'FAILED'} "
        f"(recomputed {chk.objective_recomputed:,.6g}); "
        f"{len(plan.unrepaired)} element(s) left unrepaired; {run.seconds:.2f} s"
    )
    for r in chk.checks.query("not ok").itertuples(index=False):
        console.print(f"  failed: {r.check} {r.detail}")
    if out is not None:
        console.print(f"tables and plots in {out}")
    return code


@infra_app.command("simulate")
def simulate_cmd(
    case: str = opt.INFRA_CASE,
    magnitudes: str = opt.MAGNITUDES.option(
        "6", "--magnitudes", help="comma-separated magnitudes of the case's failure probabilities"
    ),
    v: str = opt.RESOURCES.option("3", "--v", help="comma-separated repair resources per period"),
    simulations: int = opt.SCENARIOS.option(
        1000, "--simulations", help="damage-and-recovery simulations per (M, v)"
    ),
    seed: int = opt.SEED.option(0, "--seed", help="run seed"),
    out: Path = typer.Option(
        ..., "--out", help="output directory (a killed run resumes here; more --simulations extend it)"
    ),
    workers: int = opt.WORKERS.option(None, "--workers", help="local worker processes (default: all cores)"),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address, or 'local'"),
    reading: str = READING,
    arc_model: str = ARC_MODEL,
    service_layers: str = SERVICE,
    dependency_rule: str = RULE,
    solver: str = SOLVER,
    published: str = typer.Option(
        None,
        "--published",
        help="compare with published results: 'bundled' (Gonzalez et al. 2016, M6 and M7) or a "
        "directory of M*_recovery_mean_std.csv",
    ),
    no_progress: bool = typer.Option(False, "--no-progress"),
    no_plots: bool = typer.Option(False, "--no-plots"),
    as_json: bool = opt.JSON,
) -> None:
    """Monte Carlo of damage (failure probabilities) and iterative INDP recovery, per M and v."""
    # lazy: the library is slow to import (module doc)
    from resiliopt.infra.indp_runs import simulate_run

    bar = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with first_report_bar(
        "simulations", not (no_progress or as_json), False, *bar, console=err_console
    ) as update:
        run = simulate_run(
            case, list(magnitudes), list(v), simulations, seed, out, workers, scheduler,
            _reading(reading, arc_model, service_layers, dependency_rule), solver, published,
            plots=not no_plots, progress=update,
        )  # fmt: skip
    result = run.to_dict()
    if as_json:
        print_json(result)
        return
    t = Table(title=f"{case}: iterative INDP, seed {seed}")
    for col in ("M", "v", "simulations", "mean iterations", "unbalanced at the end"):
        t.add_column(col, justify="right")
    for r in run.per_run.itertuples(index=False):
        t.add_row(
            f"{r.magnitude:g}",
            f"{r.v:g}",
            str(r.simulations),
            f"{r.iterations_mean:.2f}",
            str(int(r.unbalanced_at_end)),
        )
    console.print(t)
    cmp = run.comparison
    if cmp is not None:
        m0, v0 = run.magnitudes[0], run.resources[0]
        q = cmp[(cmp["v"] == v0) & (cmp["magnitude"] == m0)]
        t2 = Table(title=f"M{m0:g} v={v0:g} vs published: mean (se) / published mean, z")
        t2.add_column("quantity")
        its = sorted(q["iteration"].unique())
        for it in its:
            t2.add_column(f"it {it}", justify="right")
        for name, g in q.groupby("quantity", sort=False):
            g = g.set_index("iteration")
            t2.add_row(
                name,
                *[
                    f"{g.at[i, 'mean']:.4g} ({g.at[i, 'se']:.2g})\n{g.at[i, 'published_mean']:.4g}, "
                    f"z={g.at[i, 'z']:.1f}"
                    for i in its
                ],
            )
        console.print(t2)
        console.print(
            f"{result['beyond_3se']} of {result['published_cells']} published cells beyond 3 standard errors"
        )
    console.print(f"max MIP gap {result['max_gap']:.2g}; tables and plots in {run.out}; {run.seconds:.1f} s")
