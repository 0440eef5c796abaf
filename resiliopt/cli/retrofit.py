"""``resiliopt retrofit``: building retrofit (greedy / exact / grid), budget sweeps, bridge upgrades."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.table import Table

from resiliopt._json import dumps
from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json
from resiliopt.errors import InputError

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


def _table(title: str, df, formats: dict[str, str] | None = None) -> Table:
    formats = formats or {}
    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "if" else "left")
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row, strict=True):
            if isinstance(v, float):
                cells.append(format(v, formats.get(c, ".4g")))
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t


_report: dict = {"enabled": False, "params": {}}


def _write_report(tmp: Path, out: Path) -> None:
    """``--report``: report.html written into the output's temporary folder, with its files."""
    if _report["enabled"]:
        from resiliopt.reports.html import REPORT_NAME, render

        params = {k: str(v) for k, v in _report["params"].items()}
        (tmp / REPORT_NAME).write_text(render(tmp, params, shown_as=out), encoding="utf-8")


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
    from resiliopt._atomic import atomic_directory, check_output_dir
    from resiliopt.case import load_case
    from resiliopt.retrofit import buildings as rb

    if report and out is None:
        raise InputError("--report needs --out (the report is written into that folder)", location="--report")
    args = {k: v for k, v in locals().items() if k not in ("rb", "load_case", "report", "out", "force")}
    args = {k: v for k, v in args.items() if k not in ("atomic_directory", "check_output_dir")}
    _report.update(enabled=report, params={k: v for k, v in args.items() if v not in (None, False)})
    if out is not None:
        check_output_dir(out, "retrofit", force)
    if method not in rb.METHODS:
        raise InputError(f"--method must be one of {', '.join(rb.METHODS)}, got {method!r}")
    if method == "exact" and step is not None and sweep is None and not paper:
        raise InputError(
            "--step restricts fractions to a grid; --method exact is the continuous optimum "
            f"(for the grid optimum use --method grid --step {step:g})"
        )
    if target_month_fc is not None:
        rb.check_inputs(0.0, target_month_fc)
    if budget is not None:
        rb.check_inputs(budget, target_fc, step)
    elif target_fc is not None:
        rb.check_inputs(0.0, target_fc, step)
    cd = load_case(case)

    if bridges:
        return _bridges(cd, budget, scenarios, eval_scenarios, seed, objective, out, as_json, force)

    st = rb.restrict(rb.stock(cd), _cats(only), _cats(exclude))
    if paper:
        df = rb.table3_comparison(st, step)
        summ = rb.table3_summary(st, step)
        if out is not None:
            with atomic_directory(out, "retrofit", force) as tmp:
                df.to_csv(tmp / "table3.csv", index=False)
                summ.to_csv(tmp / "table3_summary.csv", index=False)
                _write_report(tmp, out)
        if as_json:
            obj = {"table3": df.to_dict(orient="records"), "summary": summ.to_dict(orient="records")}
            print_json(obj)
        else:
            console.print(
                _table("Paper Table 3 against the toolkit (billion CNY)", df.rename(columns=T3_HEADERS))
            )
            console.print(_table("F_C right after the earthquake", summ))
        return None
    if sweep is not None:
        budgets = rb.parse_sweep(sweep)
        df = rb.sweep(st, budgets, step)
        if out is not None:
            from resiliopt.reports.retrofit_plots import plot_sweep

            with atomic_directory(out, "retrofit", force) as tmp:
                df.to_csv(tmp / "sweep.csv", index=False)
                plot_sweep(df, tmp)
                _write_report(tmp, out)
        if as_json:
            print_json({"sweep": df.to_dict(orient="records")})
        else:
            cols = ["budget", "fc_greedy", "fc_exact", "fc_bound", "gap_exact", "exact_minus_greedy"]
            if step is not None:
                cols += ["fc_greedy_grid", "fc_grid", "gap_grid"]
            shown = df[cols + ["exact_plan"]].copy()
            for c in ("gap_exact", "exact_minus_greedy", "gap_grid"):
                if c in shown:  # rounding noise (|v| < 1e-12) shown as 0, not as -0.00000
                    shown[c] = shown[c].where(shown[c].abs() >= 1e-12, 0.0)
            fmt = {c: ".5f" for c in cols if c.startswith("fc_")}
            fmt.update({"gap_exact": ".1e", "exact_minus_greedy": ".5f", "gap_grid": ".5f", "budget": "g"})
            console.print(
                _table(
                    "F_C right after the earthquake by budget (exact: proven global optimum, SCIP; "
                    "gap_exact = bound - exact)",
                    shown,
                    fmt,
                )
            )
        return None
    if budget is None:
        raise InputError("--budget is required (or give --sweep or --paper-table)")
    hist = None
    if target_month_fc is not None:
        if target_fc is not None:
            raise InputError("give --target-fc or --target-month-fc, not both")
        plan, hist = rb.month_target_plan(
            cd, st, budget, target_month_fc, method, scenarios=scenarios, seed=seed, step=step
        )
    elif method == "greedy":
        plan = rb.greedy(st, budget, target_fc, step=step)
    elif method == "grid":
        plan = rb.grid(st, budget, target_fc, step=step or 0.1)
    else:
        plan = rb.exact(st, budget, target_fc)
    if out is not None:
        with atomic_directory(out, "retrofit", force) as tmp:
            plan.steps.to_csv(tmp / "plan.csv", index=False)
            plan.z_start.to_csv(tmp / "z_start.csv", index=False)
            (tmp / "plan.json").write_text(dumps(plan.to_dict(), indent=1))
            _write_report(tmp, out)
    if as_json:
        print_json(plan.to_dict())
        return None
    steps = plan.steps.rename(columns=PLAN_HEADERS)
    console.print(_table(f"Retrofit plan ({plan.method}, budget {budget:g} billion CNY)", steps))
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
    if hist is not None:
        met = plan.info["month_target_met"]
        title = f"Initial F_C raised step by step; median F_C after 30 days ({scenarios} scenarios)"
        console.print(_table(title, hist))
        console.print(f"target median F_C one month after {target_month_fc:g}: {'met' if met else 'NOT met'}")
    z = plan.z_start[list(Z_HEADERS)].rename(columns=Z_HEADERS)
    console.print(_table("Z of every candidate at the start (F_C per billion CNY)", z))
    return None


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


def _bridges(cd, budget, scenarios, eval_scenarios, seed, objective, out, as_json, force=False):
    from resiliopt._atomic import atomic_directory
    from resiliopt.retrofit import bridges as rbr

    if budget is None:
        raise InputError("--budget is required with --bridges")
    if eval_scenarios < 1:
        raise InputError(f"--eval-scenarios must be at least 1, got {eval_scenarios}")
    plan = rbr.choose_bridges(cd, budget, scenarios, seed, objective)
    per: dict = {}
    plan.evaluation = rbr.compare(cd, plan, eval_scenarios, per_scenario=per)
    if out is not None:
        from resiliopt.reports.retrofit_plots import plot_bridge_evaluation

        with atomic_directory(out, "retrofit", force) as tmp:
            plan.bridges.to_csv(tmp / "bridges.csv", index=False)
            plan.evaluation.to_csv(tmp / "evaluation.csv", index=False)
            plot_bridge_evaluation(per, tmp)
            _write_report(tmp, out)
    if as_json:
        print_json(plan.to_dict())
        return None
    console.print(
        f"Upgrade {len(plan.upgraded)} bridges for {plan.cost:.2f} billion CNY "
        f"(budget {budget:g}; SAA on {scenarios} scenarios, seed {seed}, solved in {plan.seconds:.1f} s):"
    )
    console.print("  " + (", ".join(plan.upgraded) or "none"))
    console.print(
        _table(
            f"Out of sample: {eval_scenarios} scenarios not used to choose (day-0 slice LP)",
            plan.evaluation.rename(columns=EVAL_HEADERS),
        )
    )
    return None
