"""``resiliopt retrofit``: building retrofit (greedy / exact / grid), budget sweeps, bridge upgrades."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from resiliopt._atomic import check_output_dir
from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import frame_table, plain_console, print_json
from resiliopt.errors import InputError

if TYPE_CHECKING:  # imported when the command runs
    from resiliopt.retrofit import RetrofitResult

console = plain_console(width=max(shutil.get_terminal_size((120, 24)).columns, 110))

PLAN_HEADERS = {
    "category": "category",
    "from_level": "from",
    "to_level": "to",
    "fraction": "fraction",
    "buildings": "k bldgs",
    "cost": "cost",
    "fc_gain": "F_C gain",
    "z": "Z",
}
T3_HEADERS = {
    "category": "cat",
    "to_level": "to",
    "fraction": "frac",
    "paper_cost": "paper",
    "cost": "eq. (5)",
    "residual": "resid",
    "ratio_paper": "ratio(paper)",
    "ratio_table1": "a_old/a_new",
    "z_start": "Z",
    "greedy_fraction": "greedy",
    "exact_fraction": "exact",
    "grid_fraction": "grid",
}
EVAL_HEADERS = {
    "plan": "plan",
    "bridges": "bridges",
    "cost": "cost",
    "weighted_mean": "F_C/day",
    "weighted_se": "se",
    "resources_mean": "units",
    "resources_se": "se ",
    "gain_vs_none": "gain",
    "gain_vs_none_se": "se  ",
    "share_of_all_gain": "of 'all'",
}
Z_HEADERS = {
    "category": "category",
    "from_level": "from",
    "to_level": "to",
    "cost_full": "cost (all)",
    "fc_gain_full": "F_C gain (all)",
    "z": "Z (move)",
    "z_marginal": "Z (6)-(8)",
}


def _cats(spec: str | None) -> list[str] | None:
    if spec is None:
        return None
    return [c.strip() for c in spec.split(",") if c.strip()]


@app.command("retrofit")
def retrofit(
    case: str = typer.Argument(..., help="bundled case name (beijing) or path to a case"),
    budget: float = opt.NONNEG.option(None, "--budget", help="budget, billion CNY"),
    target_fc: float = opt.SHARE.option(
        None, "--target-fc", help="stop when F_C right after the earthquake reaches this (0..1)"
    ),
    method: str = typer.Option(
        "greedy",
        "--method",
        help="greedy (paper 3.3), exact (proven global optimum, SCIP) or grid (optimum over a fraction grid)",
    ),
    step: float = opt.FRACTION_STEP.option(
        None,
        "--step",
        help="fraction grid for greedy and grid (grid: default 0.1; greedy: default continuous); "
        "with --sweep or --paper-table, adds the grid columns",
    ),
    only: str = typer.Option(None, "--only", help="comma-separated categories that may be retrofitted"),
    exclude: str = typer.Option(None, "--exclude", help="comma-separated categories not to retrofit"),
    sweep: str = typer.Option(
        None,
        "--sweep",
        parser=opt.sweep_spec,
        metavar="START:STOP:STEP",
        help="budgets: greedy vs exact (vs grid)",
    ),
    target_month_fc: float = opt.SHARE.option(
        None,
        "--target-month-fc",
        help="stop when the median F_C one month after (Monte Carlo, --scenarios, --seed) reaches this",
    ),
    paper: bool = typer.Option(False, "--paper-table", help="compare with paper Table 3 row by row"),
    bridges: bool = typer.Option(False, "--bridges", help="choose bridges to upgrade (SAA MILP)"),
    scenarios: int = opt.SCENARIOS.option(100, "--scenarios", help="scenarios (bridges: used to choose)"),
    eval_scenarios: int = opt.SCENARIOS.option(
        200, "--eval-scenarios", help="bridges: fresh scenarios to evaluate"
    ),
    seed: int = opt.SEED.option(0, "--seed", help="run seed of the scenarios"),
    objective: str = typer.Option("weighted", "--objective", help="bridges: weighted or resources"),
    out: Path = typer.Option(None, "--out", help="directory for tables and plots (written atomically)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    force: bool = opt.FORCE,
    report: bool = typer.Option(False, "--report", help="also write OUT/report.html (needs --out)"),
) -> None:
    """Plan pre-earthquake retrofits under a budget (docs/retrofit.md)."""
    # the options as typed, shown in the report (those left at None or False/0 are left out)
    typed = {k: v for k, v in locals().items() if k not in ("report", "out", "force")}
    if report and out is None:
        raise InputError("--report needs --out (the report is written into that folder)", location="--report")
    if out is not None:
        check_output_dir(out, "retrofit", force)
    # the library loads HiGHS, the recovery engine and the formulations: when the command runs,
    # not at every command's start-up (--help, other commands)
    from resiliopt.reports.retrofit_plots import write_retrofit
    from resiliopt.retrofit import run_retrofit

    res = run_retrofit(
        case,
        budget,
        target_fc=target_fc,
        method=method,
        step=step,
        only=_cats(only),
        exclude=_cats(exclude),
        sweep_spec=sweep,
        target_month_fc=target_month_fc,
        paper=paper,
        bridges=bridges,
        scenarios=scenarios,
        eval_scenarios=eval_scenarios,
        seed=seed,
        objective=objective,
    )
    if out is not None:
        params = {k: v for k, v in typed.items() if v is not None and v is not False} if report else None
        write_retrofit(res, out, force, report_params=params)
    if as_json:
        print_json(res.to_dict())
    elif res.kind == "paper":
        _print_paper(res)
    elif res.kind == "sweep":
        _print_sweep(res)
    elif res.kind == "bridges":
        _print_bridges(res, eval_scenarios)
    else:
        _print_plan(res, target_fc, target_month_fc, scenarios)
    if not as_json:
        for p in res.problems:  # the final check against the input (resiliopt.retrofit.verify)
            console.print(f"NOT VERIFIED: {p}", soft_wrap=True)
    res.require_verified()  # exit 1 when a reported plan fails its check


def _print_paper(res: RetrofitResult) -> None:
    df = res.tables["table3"].rename(columns=T3_HEADERS)
    console.print(frame_table(df, "Paper Table 3 against the toolkit (billion CNY)"))
    console.print(frame_table(res.tables["table3_summary"], "F_C right after the earthquake"))


def _print_sweep(res: RetrofitResult) -> None:
    df = res.tables["sweep"]
    cols = ["budget", "fc_greedy", "fc_exact", "fc_bound", "gap_exact", "exact_minus_greedy"]
    if "fc_grid" in df:
        cols += ["fc_greedy_grid", "fc_grid", "gap_grid"]
    shown = df[cols + ["exact_plan"]].copy()
    for c in ("gap_exact", "exact_minus_greedy", "gap_grid"):
        if c in shown:  # rounding noise (|v| < 1e-12) shown as 0, not as -0.00000
            shown[c] = shown[c].where(shown[c].abs() >= 1e-12, 0.0)
    fmt = {c: ".5f" for c in cols if c.startswith("fc_")}
    fmt.update({"gap_exact": ".1e", "exact_minus_greedy": ".5f", "gap_grid": ".5f", "budget": "g"})
    title = (
        "F_C right after the earthquake by budget (exact: proven global optimum, SCIP; "
        "gap_exact = bound - exact)"
    )
    console.print(frame_table(shown, title, formats=fmt))


def _print_plan(res: RetrofitResult, target_fc, target_month_fc, scenarios) -> None:
    plan = res.plan
    steps = plan.steps.rename(columns=PLAN_HEADERS)
    console.print(frame_table(steps, f"Retrofit plan ({plan.method}, budget {plan.budget:g} billion CNY)"))
    console.print(
        f"F_C right after the earthquake: before {plan.fc_before:.4f}, after {plan.fc_after:.4f}; "
        f"cost {plan.cost:.3f} billion CNY"
        + (
            f"; target {target_fc:g} {'met' if plan.fc_after >= target_fc - 1e-9 else 'NOT met'}"
            if target_fc
            else ""
        )
    )
    proof = _proof_line(plan)
    if proof:
        console.print(proof)
    if res.history is not None:
        met = plan.info["month_target_met"]
        title = f"Initial F_C raised step by step; median F_C after 30 days ({scenarios} scenarios)"
        console.print(frame_table(res.history, title))
        console.print(f"target median F_C one month after {target_month_fc:g}: {'met' if met else 'NOT met'}")
    z = plan.z_start[list(Z_HEADERS)].rename(columns=Z_HEADERS)
    console.print(frame_table(z, "Z of every candidate at the start (F_C per billion CNY)"))


def _proof_line(plan) -> str | None:
    """What the plan's optimality rests on: SCIP's bound and gap, or "grid optimum"."""
    if plan.info.get("grid_optimum"):
        what = "cheapest" if plan.objective == "cost" else "best"
        return (
            f"Grid optimum: the {what} plan with every fraction a multiple of {plan.info['step']:g} "
            "(HiGHS MILP); not the continuous optimum (--method exact)"
        )
    if plan.bound is None or plan.gap is None:
        return None
    if plan.objective == "cost":
        head = f"cost {plan.optimum:.6f}, lower bound {plan.bound:.6f} billion CNY"
    else:
        head = f"F_C {plan.optimum:.6f}, upper bound {plan.bound:.6f}"
    gap = "0" if abs(plan.gap) < 1e-12 else f"{plan.gap:.1e}"
    proven = "proven global optimum" if plan.status == "optimal" else f"NOT proven optimal ({plan.status})"
    return (
        f"Exact: {proven}; {head}, gap {gap} (0 up to SCIP's tolerances)\n"
        f"       SCIP {plan.info['solver_version']}, {plan.info['nodes']} nodes, "
        f"{plan.info['solve_seconds']:.2f} s"
    )


def _print_bridges(res: RetrofitResult, eval_scenarios: int) -> None:
    plan = res.plan
    console.print(
        f"Upgrade {len(plan.upgraded)} bridges for {plan.cost:.2f} billion CNY "
        f"(budget {plan.budget:g}; SAA on {plan.n_scenarios} scenarios, seed {plan.seed}, "
        f"solved in {plan.seconds:.1f} s):"
    )
    console.print("  " + (", ".join(plan.upgraded) or "none"))
    console.print(
        frame_table(
            plan.evaluation.rename(columns=EVAL_HEADERS),
            f"Out of sample: {eval_scenarios} scenarios not used to choose (day-0 slice LP)",
        )
    )
