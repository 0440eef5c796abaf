"""``resiliopt fahp``, ``resiliopt assess`` and ``resiliopt fahp-sensitivity``.

Thin layer over :mod:`resiliopt.fahp.study` (imported when a command runs: ``resiliopt --help``
skips it). File arguments that do not exist are looked up in the bundled data:
``cups/sz.yaml``, or just ``sz`` / ``indicators`` (meaning ``cups/<name>.yaml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import df_table, plain_console, print_json, styled

console = plain_console(soft_wrap=True)


@app.command("fahp")
def fahp_cmd(
    matrix_file: Annotated[str, typer.Argument(help="YAML with criteria and matrix or experts")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Weights, consistent matrix and consistency diagnostics of fuzzy complementary matrices."""
    from resiliopt.fahp.study import analyse_file  # on use: `resiliopt --help` skips it

    fa = analyse_file(matrix_file)
    res = fa.result
    if as_json:
        print_json(res.to_dict(), indent=2)
        return
    w = pd.DataFrame({"criterion": res.criteria, "weight": res.weights})
    if len(res.experts) > 1:
        for e in res.experts:
            w[e.name] = e.weights
        w["spread"] = res.weight_spread()
    console.print(df_table(w, f"{fa.title}: weights (a = {res.a:g})"))
    cm = pd.DataFrame(res.consistent, columns=res.criteria)
    cm.insert(0, "", res.criteria)
    console.print(df_table(cm, "consistent matrix"))
    d = res.diagnostics
    console.print(
        f"triad index mean {d.triad_index_mean:.4f}, max {d.triad_index_max:.4f}; "
        f"compatibility index {d.compatibility_index:.4f} (threshold {d.ci_threshold:g})"
    )
    for e in res.experts:
        console.print(
            f"  {e.name}: deviation from combined {e.deviation:.4f}, compatibility "
            f"{e.diagnostics.compatibility_index:.4f}, triad {e.diagnostics.triad_index_mean:.4f}"
        )
    for wmsg in res.warnings:
        console.print(styled("warning:", "yellow", wmsg))


@app.command("assess")
def assess_cmd(
    tree_file: Annotated[str, typer.Argument(help="indicator tree, e.g. cups/indicators.yaml")],
    case_file: Annotated[str, typer.Argument(help="site case, e.g. cups/sz.yaml")],
    other: Annotated[str | None, typer.Option("--compare", help="second site to compare")] = None,
    threshold: Annotated[
        float, opt.NONNEG.option(..., "--threshold", help="--compare lists |difference| >= this")
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="write CSV tables and charts")] = None,
    force: bool = opt.FORCE,
) -> None:
    """Resilience value of every indicator, bottom-up from level-6 scores and FAHP weights."""
    from resiliopt.fahp.study import assess_sites  # on use: `resiliopt --help` skips it

    study = assess_sites(tree_file, case_file, other, threshold, out, force)
    a, b, t4 = study.first, study.second, study.table4
    if as_json:
        print_json(study.to_dict(), indent=2)
        return
    case = a.model.case
    head = f"{case.site} ({case.label}, {case.provenance} data)"
    if a.system_value is not None:
        head += f": system resilience value {a.system_value:.2f}"
    else:
        head += (
            f": scope {a.model.scope} only (the case covers one sub-tree); "
            f"its aggregate is {a.scope_value:.2f}"
        )
    console.print(head)
    shown = a.table[a.table["level"] < study.tree.leaf_level] if a.model.scope == "root" else a.table
    console.print(
        df_table(
            shown[["level", "id", "name", "weight", "score", "value"]],
            "indicators (score = average / sum of children's values)",
        )
    )
    if len(t4):
        cols = [
            "level",
            "id",
            "name",
            "published_aggregate",
            "reproduced_aggregate",
            "weight",
            "implied_weight",
            "published_value",
            "reproduced_value",
            "value_residual",
            "value_bound",
        ]
        short = [
            "lv",
            "id",
            "name",
            "S paper",
            "S ours",
            "w",
            "w impl.",
            "V paper",
            "V ours",
            "resid.",
            "bound",
        ]
        console.print(
            df_table(
                t4[cols].set_axis(short, axis=1), "Table 4 reproduction (S aggregate, w weight, V value)", 3
            )
        )
    if b is not None:
        console.print(df_table(study.differences, f"indicators differing by {threshold:g} or more"))
    for wmsg in a.warnings:
        console.print(styled("warning:", "yellow", wmsg))
    if out is not None:
        console.print(f"wrote {out}")


@app.command("fahp-sensitivity")
def sensitivity_cmd(
    tree_file: Annotated[str, typer.Argument(help="indicator tree")],
    case_file: Annotated[str, typer.Argument(help="site case")],
    other: Annotated[str | None, typer.Option("--compare", help="second site")] = None,
    samples: Annotated[int, opt.SAMPLES.option(..., "--samples", help="Monte Carlo samples")] = 10_000,
    delta: Annotated[float, opt.JUDGMENT_DELTA.option(..., "--delta", help="judgment +- range")] = 0.1,
    weight_delta: Annotated[float, opt.SHARE.option(..., "--weight-delta", help="OAT weight +-")] = 0.1,
    seed: Annotated[int, opt.SEED.option(..., "--seed", help="random seed")] = 0,
    top: Annotated[int, opt.ROWS.option(..., "--top", help="rows of the tornado")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="write CSV and charts")] = None,
    force: bool = opt.FORCE,
) -> None:
    """Monte Carlo on every judgment (+-delta) and one-at-a-time weight sensitivity."""
    from resiliopt.fahp.study import sensitivity_study  # on use: `resiliopt --help` skips it

    study = sensitivity_study(
        tree_file, case_file, other, samples, delta, weight_delta, seed, top, out, force
    )
    doc, oat = study.summary, study.one_at_a_time
    if as_json:
        print_json(doc, indent=2)
        return
    mc = pd.DataFrame(doc["monte_carlo"])
    cols = ["site", "nominal", "mean", "std", "p5", "median", "p95", "perturbed_groups"]
    console.print(df_table(mc[cols], f"Monte Carlo, {samples} samples, judgments +-{delta:g}", 3))
    for s in doc["monte_carlo"]:
        if s["perturbed_groups"] == 0:
            console.print(
                styled(
                    "note:",
                    "yellow",
                    f"{s['site']} has no judgments to perturb (its weights are given), "
                    "so the distribution is a point",
                )
            )
    if "reversal_probability" in doc:
        console.print(
            f"probability that the order of the two sites reverses: {doc['reversal_probability']:.4f}"
        )
    if len(oat):
        console.print(df_table(oat.head(top), f"one at a time, weight +-{weight_delta:g}"))
    if out is not None:
        console.print(f"wrote {out}")
