"""``resiliopt fahp``, ``resiliopt assess`` and ``resiliopt fahp-sensitivity``.

Thin layer over :mod:`resiliopt.fahp`. File arguments that do not exist are looked up in the
bundled data: ``cups/sz.yaml``, or just ``sz`` / ``indicators`` (meaning ``cups/<name>.yaml``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._json import dumps
from resiliopt._yaml import load
from resiliopt.case import bundled_data_dir
from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.cli._output import plain_console, print_json, styled
from resiliopt.fahp import analyse, assess, compare, load_case, load_tree, table4_reproduction
from resiliopt.fahp.paper import table5_check
from resiliopt.fahp.schemas import ExpertMatrix, MatrixFile

console = plain_console(soft_wrap=True)


def resolve(path: str) -> Path:
    """An existing path, else a bundled file (``cups/sz.yaml``, ``sz``), else the path as is."""
    p = Path(path)
    if p.exists():
        return p
    root = bundled_data_dir()
    for cand in (root / path, root / "cups" / path, root / "cups" / f"{path}.yaml"):
        if cand.is_file():
            return cand
    return p


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", double_precision=10)) if len(df) else []


def _fmt(x, digits=4) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or x is pd.NA:
        return ""
    return f"{x:.{digits}f}" if isinstance(x, float | np.floating) else str(x)


def _table(df: pd.DataFrame, title: str, digits: int = 4) -> Table:
    t = Table(title=title, title_justify="left")
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "fi" else "left")
    for _, r in df.iterrows():
        t.add_row(*[_fmt(v, digits) for v in r])
    return t


@app.command("fahp")
def fahp_cmd(
    matrix_file: Annotated[str, typer.Argument(help="YAML with criteria and matrix or experts")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Weights, consistent matrix and consistency diagnostics of fuzzy complementary matrices."""
    path = resolve(matrix_file)
    m = load(MatrixFile, path)
    mats = [m.matrix] if m.matrix is not None else m.experts
    names = [
        (x.name if isinstance(x, ExpertMatrix) and x.name else f"expert {e + 1}") for e, x in enumerate(mats)
    ]
    raw = [x.matrix if isinstance(x, ExpertMatrix) else x for x in mats]
    res = analyse(
        m.criteria,
        raw,
        names=names,
        a=m.a,
        method=m.combine,
        scale=m.scale,
        tolerance=m.tolerance,
        ci_threshold=m.ci_threshold,
        triad_threshold=m.triad_threshold,
        file=str(path),
    )
    if as_json:
        print_json(res.to_dict(), indent=2)
        return
    w = pd.DataFrame({"criterion": res.criteria, "weight": res.weights})
    if len(res.experts) > 1:
        for e in res.experts:
            w[e.name] = e.weights
        w["spread"] = res.weight_spread()
    console.print(_table(w, f"{m.title or path.name}: weights (a = {res.a:g})"))
    cm = pd.DataFrame(res.consistent, columns=res.criteria)
    cm.insert(0, "", res.criteria)
    console.print(_table(cm, "consistent matrix"))
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


def _groups_table(a) -> pd.DataFrame:
    rows = []
    for pid, g in a.model.groups.items():
        if g.source != "fahp":
            continue
        d = g.fahp.diagnostics
        rows.append(
            {
                "parent": pid,
                "expert": "combined",
                "n": len(g.children),
                "compatibility_index": d.compatibility_index,
                "triad_index_mean": d.triad_index_mean,
                "triad_index_max": d.triad_index_max,
                "deviation_from_combined": 0.0,
                "max_weight_spread": float(g.fahp.weight_spread().max()),
            }
        )
        for e in g.fahp.experts:
            rows.append(
                {
                    "parent": pid,
                    "expert": e.name,
                    "n": len(g.children),
                    "compatibility_index": e.diagnostics.compatibility_index,
                    "triad_index_mean": e.diagnostics.triad_index_mean,
                    "triad_index_max": e.diagnostics.triad_index_max,
                    "deviation_from_combined": e.deviation,
                    "max_weight_spread": np.nan,
                }
            )
    return pd.DataFrame(rows)


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
    if out is not None:
        check_output_dir(out, "assess", force)
    tree = load_tree(resolve(tree_file))
    cpath = resolve(case_file)
    a = assess(tree, load_case(cpath), cpath)
    b = None
    if other:
        opath = resolve(other)
        b = assess(tree, load_case(opath), opath)
    t4 = table4_reproduction(a)
    cmp = compare(a, b, threshold) if b is not None else pd.DataFrame()
    t5 = table5_check(a, b) if b is not None else pd.DataFrame()
    groups = _groups_table(a)
    case = a.model.case
    summary = {
        "site": case.site,
        "label": case.label,
        "provenance": case.provenance,
        "scope": a.model.scope,
        "system_value": a.system_value,
        "scope_value": a.scope_value,
        "published_system_value": case.published.system_value if case.published else None,
        "warnings": a.warnings,
    }
    if b is not None:
        summary["compare"] = {
            "site": b.model.case.site,
            "label": b.model.case.label,
            "system_value": b.system_value,
            "scope_value": b.scope_value,
            "threshold": threshold,
        }
    if out is not None:
        from resiliopt.fahp.plots import level_bars

        with atomic_directory(out, "assess", force) as tmp:
            a.table.to_csv(tmp / "indicators.csv", index=False)
            if len(groups):
                groups.to_csv(tmp / "diagnostics.csv", index=False)
            if len(t4):
                t4.to_csv(tmp / "table4_reproduction.csv", index=False)
            tables = {case.label: a.table}
            if b is not None:
                b.table.to_csv(tmp / "indicators_other.csv", index=False)
                cmp.to_csv(tmp / "compare.csv", index=False)
                if len(t5):
                    t5.to_csv(tmp / "table5_check.csv", index=False)
                tables[b.model.case.label] = b.table
            level_bars(tables, tmp)
            (tmp / "summary.json").write_text(dumps(summary, indent=2), encoding="utf-8")
    if as_json:
        doc = dict(summary)
        doc["indicators"] = _records(a.table)
        doc["groups"] = {pid: g.fahp.to_dict() for pid, g in a.model.groups.items() if g.source == "fahp"}
        doc["table4_reproduction"] = _records(t4)
        if b is not None:
            doc["differences"] = _records(cmp)
            doc["table5_check"] = _records(t5)
        print_json(doc, indent=2)
        return
    head = f"{case.site} ({case.label}, {case.provenance} data)"
    if a.system_value is not None:
        head += f": system resilience value {a.system_value:.2f}"
    else:
        head += (
            f": scope {a.model.scope} only (the case covers one sub-tree); "
            f"its aggregate is {a.scope_value:.2f}"
        )
    console.print(head)
    shown = a.table[a.table["level"] < tree.leaf_level] if a.model.scope == "root" else a.table
    console.print(
        _table(
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
            _table(
                t4[cols].set_axis(short, axis=1), "Table 4 reproduction (S aggregate, w weight, V value)", 3
            )
        )
    if b is not None:
        console.print(_table(cmp, f"indicators differing by {threshold:g} or more"))
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
    from resiliopt.fahp.sensitivity import monte_carlo, one_at_a_time, reversal_probability

    if out is not None:
        check_output_dir(out, "fahp-sensitivity", force)

    tree = load_tree(resolve(tree_file))
    cpath = resolve(case_file)
    a = assess(tree, load_case(cpath), cpath)
    ma = monte_carlo(a, samples, delta, seed)
    mcs = {a.model.case.label: ma}
    doc = {"monte_carlo": [ma.summary()]}
    if other:
        opath = resolve(other)
        b = assess(tree, load_case(opath), opath)
        mb = monte_carlo(b, samples, delta, seed + 1)
        mcs[b.model.case.label] = mb
        doc["monte_carlo"].append(mb.summary())
        doc["reversal_probability"] = reversal_probability(ma, mb)
    oat = one_at_a_time(a, weight_delta)
    doc["one_at_a_time"] = _records(oat)
    doc["weight_delta"] = weight_delta
    if out is not None:
        from resiliopt.fahp.plots import mc_histogram, tornado

        with atomic_directory(out, "fahp-sensitivity", force) as tmp:
            pd.DataFrame({k: m.samples for k, m in mcs.items()}).to_csv(
                tmp / "monte_carlo_samples.csv", index=False
            )
            pd.DataFrame(doc["monte_carlo"]).to_csv(tmp / "monte_carlo_summary.csv", index=False)
            oat.to_csv(tmp / "one_at_a_time.csv", index=False)
            mc_histogram({k: m.samples for k, m in mcs.items()}, tmp)
            if len(oat):
                tornado(oat, a.scope_value, tmp, top)
            (tmp / "summary.json").write_text(dumps(doc, indent=2), encoding="utf-8")
    if as_json:
        print_json(doc, indent=2)
        return
    mc = pd.DataFrame(doc["monte_carlo"])
    cols = ["site", "nominal", "mean", "std", "p5", "median", "p95", "perturbed_groups"]
    console.print(_table(mc[cols], f"Monte Carlo, {samples} samples, judgments +-{delta:g}", 3))
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
        console.print(_table(oat.head(top), f"one at a time, weight +-{weight_delta:g}"))
    if out is not None:
        console.print(f"wrote {out}")
