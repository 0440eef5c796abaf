"""The audit of a solved slice: a Markdown summary, CSV tables and the LP file, written atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory
from resiliopt._json import dumps
from resiliopt.logistics import SliceResult


def _md_table(df: pd.DataFrame, floatfmt: str = ".6g") -> str:
    if df.empty:
        return "_(none)_\n"
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def summary_markdown(res: SliceResult) -> str:
    """The audit's Markdown summary."""
    d = res.data
    lines = [f"# Audit of slice `{d.name}`", ""]
    lines += [f"- status: **{res.status}**", f"- solver: HiGHS {res.solution.solver_version}"]
    if not res.solution.optimal:
        return "\n".join(lines) + "\n"
    lines += [f"- proven optimal (HiGHS optimal, both certificates pass, networkx agrees): **{res.passed}**"]
    lines += [f"- NOT PROVEN: {p}" for p in res.problems]
    cert, inp = res.certificate, res.input_certificate
    lines += [
        f"- objective (F_C gained this slice): **{res.objective:.10g}**",
        f"- networkx network simplex (integer-scaled) objective: {res.networkx_objective:.10g}"
        if res.networkx_objective is not None
        else f"- {res.crosscheck_note}",
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
        "Duals are shadow prices: the change of the objective (F_C) per unit more of the",
        "right-hand side or bound. See docs/solvers.md for the sign convention.",
        "",
    ]
    f = res.flows
    binding = f[(f["capacity"] > 0) & (f["flow"] >= f["capacity"] - 1e-9)]
    lines += ["## Binding capacities", "", _md_table(binding[["from", "to", "flow", "capacity", "label"]])]
    cut = res.min_cut()
    lines += [
        "## Arcs of the minimum cut",
        "",
        "Saturated arcs leaving the part of the network reachable from the source in the "
        "residual graph (docs/slice_lp.md).",
        "",
        _md_table(cut[["from", "to", "flow", "capacity", "label", "bridges"]]),
    ]
    sp = res.shadow_prices(10).rename(columns={"index": "arc", "value": "F_C per unit"})
    lines += [
        "## Ten largest shadow prices of arc capacities",
        "",
        "What one more unit of daily capacity on that arc is worth in F_C this slice.",
        "",
        _md_table(sp[["arc", "label", "bridges", "F_C per unit"]]),
    ]
    tr = res.duals[res.duals["constraint"] == "total_resources"]["value"]
    if len(tr):
        lines += [f"Shadow price of TR (one more unit of resources): {float(tr.iloc[0]):.6g} F_C.", ""]
    return "\n".join(lines) + "\n"


def write_audit(res: SliceResult, out: str | Path, *, force: bool = False) -> Path:
    """Write the audit to ``out``: all files appear together, or none does.

    ``out`` must be new, empty or an earlier audit (``force``: see :mod:`resiliopt._atomic`).
    """
    with atomic_directory(out, "audit", force) as tmp:
        (tmp / "summary.md").write_text(summary_markdown(res), encoding="utf-8")
        (tmp / "result.json").write_text(dumps(res.to_dict(), indent=1), encoding="utf-8")
        if res.solution.optimal:
            res.flows.to_csv(tmp / "flows.csv", index=False)
            res.deliveries.to_csv(tmp / "deliveries.csv", index=False)
            res.duals.to_csv(tmp / "duals.csv", index=False)
            res.reduced_costs.to_csv(tmp / "reduced_costs.csv", index=False)
        res.model.write(str(tmp / "model.lp"), io_options={"symbolic_solver_labels": True})
    return Path(out)
