"""The audit of a solved slice: a Markdown summary, CSV tables and the LP file, written atomically.

:func:`audit_tables` gives the summary's tables (binding arcs with their shadow prices, the
minimum cut, the largest shadow prices); the Markdown summary and the HTML report
(:mod:`resiliopt.reports.html`) both show them. Binding arcs include arcs of capacity 0 (closed
bridges) whose shadow price is positive: they are often the most valuable arcs to reopen.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._json import dumps
from resiliopt._provenance import versions
from resiliopt.logistics import TOL, SliceResult, load_and_solve_slice
from resiliopt.reports.html import REPORT_NAME, render

PRICE = "F_C per unit/slice"  # unit of an arc-capacity shadow price


def arc_prices(res: SliceResult) -> pd.Series:
    """Shadow price of every arc's capacity (F_C per unit/slice), indexed by arc id."""
    d = res.duals[res.duals["constraint"] == "arc_capacity"]
    return pd.Series(d["value"].to_numpy(), index=d["index"].to_numpy()).reindex(res.flows["arc"]).fillna(0.0)


def audit_tables(res: SliceResult, n: int = 10) -> dict[str, pd.DataFrame]:
    """The audit's tables: ``binding`` arcs, ``min_cut``, ``shadow_prices`` (the ``n`` largest).

    ``binding``: arcs at capacity with capacity > 0, and arcs of capacity 0 whose shadow price
    is positive (a closed bridge that would carry flow if reopened); sorted by shadow price.
    """
    f = res.flows.copy()
    f["shadow_price"] = arc_prices(res).to_numpy()
    at_cap = f["flow"] >= f["capacity"] - TOL
    binding = f[at_cap & ((f["capacity"] > TOL) | (f["shadow_price"] > TOL))]
    binding = binding.sort_values(["shadow_price", "arc"], ascending=[False, True], kind="stable")
    cut = res.min_cut().merge(f[["arc", "shadow_price"]], on="arc", how="left")
    sp = res.shadow_prices(n).rename(columns={"index": "arc", "value": "shadow_price"})
    sp = sp.merge(f[["arc", "capacity", "flow"]], on="arc", how="left")
    cols = ["arc", "from", "to", "flow", "capacity", "shadow_price", "label", "bridges"]
    return {
        "binding": binding[cols].reset_index(drop=True),
        "min_cut": cut[cols].reset_index(drop=True),
        "shadow_prices": sp[["arc", "label", "bridges", "capacity", "flow", "shadow_price"]],
    }


def networkx_line(res: SliceResult) -> str:
    """What the networkx cross-check found, or why it does not apply."""
    if res.networkx_objective is None:
        return f"networkx network simplex cross-check: {res.crosscheck_note or 'not run'}"
    return f"networkx network simplex (integer-scaled) objective: {res.networkx_objective:.10g}"


def _md_table(df: pd.DataFrame, floatfmt: str = ".6g") -> str:
    if df.empty:
        return "_(none)_\n"
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _input_certificate_lines(res: SliceResult) -> list[str]:
    """The input certificate's table, or why it does not apply (rows beyond the input tables)."""
    inp = res.input_certificate
    if inp is None:
        return [
            "## Input certificate: not applicable",
            "",
            f"The model has rows beyond the input tables ({res.crosscheck_note}); the matrix",
            "certificate above, computed from the extended model's matrix, is the proof.",
            "",
        ]
    return [
        "## Input certificate (checked against the input tables, no model code)",
        "",
        "Conservation at every node the input names, bounds and the TR row, and a dual solution",
        "(node potentials) priced on the input graph; weak duality then bounds every feasible plan.",
        "",
        "| check | value |",
        "|---|---|",
        f"| road nodes checked | {inp.nodes} |",
        f"| conservation (largest in - out - delivered) | {inp.conservation:.3e} |",
        f"| bounds (0 <= flow <= capacity, 0 <= delivery <= demand) | {inp.bounds:.3e} |",
        f"| TR row (sent - TR) | {inp.total_resources:.3e} |",
        f"| dual sign (price of TR >= 0) | {inp.dual_sign:.3e} |",
        f"| complementary slackness | {inp.complementary_slackness:.3e} |",
        f"| objective recomputed from the input gains | {inp.objective:.10g} |",
        f"| dual objective (upper bound on every feasible plan) | {inp.dual_objective:.10g} |",
        f"| primal-dual gap | {inp.gap:.3e} |",
        f"| problems | {'; '.join(inp.problems) or 'none'} |",
        f"| passed (all <= {inp.tol:g}, no problem) | **{inp.passed}** |",
        "",
    ]


#: how the summary names each solver of a slice (the network route: docs/solvers.md, "City size")
_SOLVER = {"highs": "HiGHS", "network": "network route,"}


def summary_markdown(res: SliceResult, tables: dict[str, pd.DataFrame] | None = None) -> str:
    """The audit's Markdown summary (``tables``: :func:`audit_tables` of ``res``, if at hand)."""
    d = res.data
    lines = [f"# Audit of slice `{d.name}`", ""]
    solver = _SOLVER.get(res.solution.solver, res.solution.solver)
    lines += [f"- status: **{res.status}**", f"- solver: {solver} {res.solution.solver_version}"]
    if not res.solution.optimal:
        return "\n".join(lines) + "\n"
    lines += [f"- proven optimal (HiGHS optimal, both certificates pass, networkx agrees): **{res.passed}**"]
    lines += [f"- NOT PROVEN: {p}" for p in res.problems]
    cert = res.certificate
    lines += [
        f"- objective (F_C gained this slice): **{res.objective:.10g}**",
        f"- {networkx_line(res)}",
        f"- resources: TR = {d.total_resources:g}, sent {res.source_outflow:.6g}, "
        f"delivered {res.delivered:.6g}, unused {d.total_resources - res.source_outflow:.6g}",
        f"- arcs: {len(res.flows)}, groups: {len(res.deliveries)}, "
        f"LP size: {res.solution.lp.shape[0]} rows x {res.solution.lp.shape[1]} columns",
        "",
        "## Matrix certificate (computed from the model's matrix, not by the solver)",
        "",
        "| check | value |",
        "|---|---|",
        f"| primal infeasibility | {cert.primal_infeasibility:.3e} |",
        f"| dual infeasibility | {cert.dual_infeasibility:.3e} |",
        f"| complementary slackness | {cert.complementary_slackness:.3e} |",
        f"| primal-dual gap | {cert.gap:.3e} |",
        f"| passed (all <= {cert.tol:g}) | **{cert.passed}** |",
        "",
    ]
    lines += _input_certificate_lines(res)
    lines += [
        "Duals are shadow prices: the change of the objective (F_C) per unit more of the",
        "right-hand side or bound. See docs/solvers.md for the sign convention.",
        "",
    ]
    tabs = audit_tables(res) if tables is None else tables
    pcol = {"shadow_price": f"shadow price ({PRICE})"}
    lines += [
        "## Binding capacities",
        "",
        "Arcs at capacity, including closed arcs (capacity 0, e.g. a collapsed bridge) whose "
        "shadow price is positive; largest price first.",
        "",
        _md_table(tabs["binding"].drop(columns="arc").rename(columns=pcol)),
    ]
    lines += [
        "## Arcs of the minimum cut",
        "",
        "Saturated arcs leaving the part of the network reachable from the source in the "
        "residual graph (docs/slice_lp.md).",
        "",
        _md_table(tabs["min_cut"].drop(columns="arc").rename(columns=pcol)),
    ]
    lines += [
        "## Ten largest shadow prices of arc capacities",
        "",
        "What one more unit of capacity on that arc is worth in F_C this slice (capacity 0 included).",
        "",
        _md_table(tabs["shadow_prices"].rename(columns=pcol)),
    ]
    lines += user_rows_markdown(res)
    lines += unreachable_markdown(res)
    tr = res.duals[res.duals["constraint"] == "total_resources"]["value"]
    if len(tr):
        lines += [
            f"Shadow price of TR (one more unit of resources): {float(tr.iloc[0]):.6g} {PRICE}.",
            "",
        ]
    return "\n".join(lines) + "\n"


def unreachable_markdown(res: SliceResult) -> list[str]:
    """The groups with demand that no open arc reaches from the source (from the input graph)."""
    s = res.unreachable_summary
    head = ["## Demand no road reaches", ""]
    if not s["groups"]:
        return [*head, "Every group with demand is reached from the source along open arcs.", ""]
    return [
        *head,
        f"{s['groups']} group(s) at {len(s['nodes'])} node(s) ({', '.join(s['nodes'])}): demand "
        f"{s['demand']:.6g} ({100 * s['demand_share']:.3g} % of the slice's demand), worth "
        f"{s['fc_at_stake']:.6g} F_C ({100 * s['fc_share']:.3g} % of the F_C this slice could gain if "
        "every demand were met). No open arc path leads from the source to their nodes, so every "
        "feasible plan delivers them nothing (read from the input tables, not from the LP; "
        "docs/slice_lp.md).",
        "",
        _md_table(res.unreachable),
    ]


def user_rows_markdown(res: SliceResult) -> list[str]:
    """The rows of user constraints and of an extension, with their duals (docs/constraints.md)."""
    builtin = {"node_balance", "total_resources", "arc_capacity", "group_demand"}
    d = res.duals[~res.duals["constraint"].isin(builtin)]
    if d.empty:
        return []
    cols = ("constraint", "index", "value", "unit", "slack", "constraint_unit", "description")
    names = {"value": "dual", "unit": "unit of the dual", "constraint_unit": "unit of the row"}
    tab = d[[c for c in cols if c in d]].rename(columns=names)
    return [
        "## User constraints",
        "",
        "Rows added by the case's `constraints:` section or by an extension, under their names; "
        "the dual is what one more unit of the right-hand side is worth in F_C this slice.",
        "",
        _md_table(tab),
    ]


#: above this many arcs ``result.json`` is written without indentation
COMPACT_JSON_ARCS = 5000


def write_audit(
    res: SliceResult,
    out: str | Path,
    params: dict | None = None,
    *,
    force: bool = False,
    report: bool = False,
) -> Path:
    """Write the audit to ``out``: all files appear together, or none does.

    ``out`` must be new, empty or an earlier audit (``force``: see :mod:`resiliopt._atomic`).
    ``params`` (the input path, seed, day, scenario, variant) go to ``audit.json`` with the
    versions, for ``resiliopt report``; ``report``: ``report.html`` is written with the rest.
    """
    meta = {
        "kind": "audit",
        "slice": res.data.name,
        "parameters": params or {},
        "unreachable": res.unreachable_summary,  # the table: unreachable.csv
        "versions": versions(),
    }
    with atomic_directory(out, "audit", force) as tmp:
        (tmp / "audit.json").write_text(dumps(meta, indent=1), encoding="utf-8")
        tables = audit_tables(res) if res.solution.optimal else {}
        (tmp / "summary.md").write_text(summary_markdown(res, tables), encoding="utf-8")
        # indented for reading; a city-size result (its tables are in the CSV files too) is
        # written compact, which json's C encoder does several times faster
        indent = 1 if len(res.flows) <= COMPACT_JSON_ARCS else None
        (tmp / "result.json").write_text(dumps(res.to_dict(), indent=indent), encoding="utf-8")
        if res.solution.optimal:
            res.flows.to_csv(tmp / "flows.csv", index=False)
            res.deliveries.to_csv(tmp / "deliveries.csv", index=False)
            res.duals.to_csv(tmp / "duals.csv", index=False)
            res.reduced_costs.to_csv(tmp / "reduced_costs.csv", index=False)
            for name, df in tables.items():
                df.to_csv(tmp / f"{name}.csv", index=False)
        res.unreachable.to_csv(tmp / "unreachable.csv", index=False)  # from the input: always
        res.model.write(str(tmp / "model.lp"), io_options={"symbolic_solver_labels": True})
        if report:
            (tmp / REPORT_NAME).write_text(render(tmp, shown_as=out), encoding="utf-8")
    return Path(out)


def audit_slice(
    path: str | Path,
    out: str | Path,
    seed: int = 0,
    day: int = 0,
    scenario: int = 0,
    variant: str | None = None,
    *,
    force: bool = False,
    report: bool = False,
    overrides: tuple = (),
    extension: str | None = None,
) -> SliceResult:
    """``resiliopt audit``: solve a slice (a slice file, or a case's slice at ``day`` of
    ``scenario``) and write its audit to ``out`` (:func:`write_audit`); ``out`` is checked first.

    The result is returned whatever its status (the audit of a failed solve says so);
    :meth:`~resiliopt.logistics.SliceResult.require_proven` tells a proven optimum.
    """
    check_output_dir(out, "audit", force)
    res = load_and_solve_slice(path, seed, day, scenario, variant, tuple(overrides), extension)
    params = {"input": path, "seed": seed, "day": day, "scenario": scenario, "variant": variant or "none"}
    if overrides or extension:
        params.update(overrides=list(overrides or ()), extension=extension)
    write_audit(res, out, params, force=force, report=report)
    return res
