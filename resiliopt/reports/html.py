"""One self-contained HTML report of a run directory (docs/report.md).

``resiliopt report RUN_DIR`` (and ``--report`` on audit, simulate, compare and retrofit)
writes ``RUN_DIR/report.html``: plots embedded as base64 PNG or drawn as inline SVG, tidy
tables, the run's parameters and versions, and links between sections. The page loads nothing
from outside (no scripts, fonts or style sheets from the network), so it opens offline. It is
rendered with Jinja2 from ``templates/report.html.j2`` (package data).

The kind of run is the one its output manifest records (:func:`resiliopt._atomic.output_record`:
the ``kind`` of the command that wrote the folder, or of the sub-folder in its ``parts``), never
a guess from file names. :data:`PAGES` lists the kinds with a page:

==================  =================================================================
audit               ``resiliopt audit``: the slice, its certificates, prices, cuts
simulate            ``resiliopt simulate`` (and a variant of compare, demo's simulation)
compare             ``resiliopt compare``: the variants side by side
retrofit            ``resiliopt retrofit``: what the mode wrote
infra-restore       ``resiliopt infra restore``: operations page (:mod:`.ops`)
infra-simulate      ``resiliopt infra simulate``: operations page
emergency-replay    ``resiliopt emergency replay``: operations page
emergency-evaluate  ``resiliopt emergency evaluate``: the policy table with intervals
==================  =================================================================

Any other folder (no manifest, a manifest without a kind or command that has a page, a page's
file missing) is refused with an :class:`~resiliopt.errors.InputError` naming the folder and the
kind found. A small script in the page checks that every image decoded (``naturalWidth > 0``)
and writes the result into the element ``#page-check`` (used by the browser test); it also
records any script error there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._atomic import MANIFEST, add_to_manifest, output_record, read_manifest, write_text_atomic
from resiliopt._provenance import versions
from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.reports import ops
from resiliopt.reports.sections import (
    MAX_ROWS,
    SHOWN_AS,
    Section,
    now,
    params_section,
    read_csv,
    read_json,
    shown_name,
    table_html,
)

REPORT_NAME = "report.html"
__all__ = ["MAX_ROWS", "PAGES", "REPORT_NAME", "Section", "render", "run_kind", "table_html", "write_report"]


# ---------------------------------------------------------------------------- kinds
def _part_kind(rec: dict, rel: str) -> str | None:
    """The kind of sub-folder ``rel`` of an output: its ``parts`` entry, or for a manifest from
    before ``parts``, the sub-folders those commands wrote (a variant of compare, the
    simulation of demo)."""
    kind = (rec.get("parts") or {}).get(rel)
    if kind is None and f"{rel}/run.json" in rec.get("files", {}):
        kind = {"compare": "simulate", "demo": "simulate" if rel == "simulation" else None}.get(
            rec["command"]
        )
    return kind


def run_kind(run_dir: str | Path) -> tuple[str, dict]:
    """``(kind, record)`` of a run folder from its output manifest (or the manifest of the
    output it is a sub-folder of); InputError naming the folder when there is none."""
    run_dir = Path(run_dir)
    rec = output_record(run_dir)
    if rec is not None:
        return rec["kind"], rec
    here = run_dir.resolve()
    for parent in list(here.parents)[:3]:
        prec = output_record(parent)
        if prec is None:
            continue
        rel = here.relative_to(parent).as_posix()
        kind = _part_kind(prec, rel)
        if kind is None:
            raise InputError(
                f"{rel!r} is a sub-folder of the output of `resiliopt {prec['command']}` (kind "
                f"{prec['kind']}) in {str(parent)!r}, and that output records no kind for it; "
                "resiliopt report has no page for it",
                run_dir,
            )
        return kind, {"command": prec["command"], "kind": kind, "files": {}, "part_of": str(parent)}
    raise InputError(
        f"not a run directory of resiliopt: no output manifest ({MANIFEST}) names its kind of run; "
        "resiliopt writes one with every --out folder, and resiliopt report does not guess the kind "
        "from file names (run the command again with --out)",
        run_dir,
    )


def _check_files(run_dir: Path, kind: str, rec: dict, needs: tuple[str, ...]) -> None:
    missing = [f for f in needs if not (run_dir / f).exists()]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise InputError(
            f"its manifest records kind {kind} (`resiliopt {rec['command']}`), but {', '.join(missing)} "
            f"{verb} missing (renamed or removed?); resiliopt report needs the files the command wrote",
            run_dir,
        )


def _audit(run_dir: Path, params: dict | None):
    res = read_json(run_dir / "result.json")
    meta = read_json(run_dir / "audit.json") if (run_dir / "audit.json").exists() else {}
    title = f"Audit of slice {meta.get('slice', shown_name(run_dir))}"
    over = Section("overview", "Overview")
    nx_val = res.get("networkx_objective")
    over.kv(
        {
            "status": res.get("status"),
            "proven optimal (both certificates pass, networkx agrees)": res.get("passed", "-"),
            "not proven because": "; ".join(res.get("problems") or []) or "-",
            "solver": res.get("solver"),
            "objective (F_C gained this slice)": res.get("objective"),
            "networkx cross-check": nx_val if nx_val is not None else res.get("networkx_note", "not run"),
            "TR (units/slice)": res.get("total_resources"),
            "delivered": res.get("delivered"),
            "unused": res.get("unused"),
        }
    )
    sections = [over]
    cert, inp = res.get("certificate"), res.get("input_certificate")
    if cert or inp:
        c = Section(
            "certificate",
            "Certificates",
            "Checks of the solution computed by resiliopt, not by the solver (docs/solvers.md).",
        )
        for caption, d in (
            ("matrix certificate: the model's matrix and the solution", cert),
            ("input certificate: the input tables and the solution, no model code", inp),
        ):
            if d:
                flat = {
                    k: ("; ".join(map(str, v)) or "none") if isinstance(v, list) else v for k, v in d.items()
                }
                c.kv({k: v for k, v in flat.items() if not isinstance(v, dict)}, caption)
        sections.append(c)
    unreach = _unreachable(run_dir, res, meta)
    if unreach is not None:
        sections.append(unreach)
    price = "shadow prices in F_C per unit/slice"
    sections.append(
        Section(
            "binding",
            "Binding arc capacities",
            "Arcs at capacity, including closed arcs (capacity 0, e.g. a collapsed bridge) with a "
            f"positive shadow price; {price}.",
        ).table(read_csv(run_dir / "binding.csv"), source="binding.csv")
    )
    sections.append(
        Section(
            "min-cut",
            "Arcs of the minimum cut",
            "Saturated arcs leaving the part of the network reachable from the source in the residual graph.",
        ).table(read_csv(run_dir / "min_cut.csv"), source="min_cut.csv")
    )
    sections.append(
        Section("shadow-prices", "Largest shadow prices of arc capacities", price).table(
            read_csv(run_dir / "shadow_prices.csv"), source="shadow_prices.csv"
        )
    )
    duals = read_csv(run_dir / "duals.csv")
    if duals is not None:
        rows = duals[~duals["constraint"].isin(["arc_capacity", "group_demand"])]
        rows = rows.reindex(rows["value"].abs().sort_values(ascending=False).index)
        sections.append(
            Section(
                "duals",
                "Duals of the rows",
                "Each dual's unit is the unit of its price (F_C per unit of the row).",
            ).table(rows, source="duals.csv")
        )
    dl = read_csv(run_dir / "deliveries.csv")
    if dl is not None:
        sections.append(
            Section("deliveries", "Deliveries to building groups", "Largest gain first.").table(
                dl.sort_values("gain", ascending=False), source="deliveries.csv"
            )
        )
    sections.append(params_section(params or meta.get("parameters", {}), meta.get("versions") or {}, run_dir))
    return title, sections


def _unreachable(run_dir: Path, res: dict, meta: dict) -> Section | None:
    """Building groups on nodes no road reaches (their demand can never be served), where the
    audit recorded them: ``unreachable.csv`` and/or an ``unreachable`` entry of result.json or
    audit.json (its numbers as a table, its lists of records as tables)."""
    table = read_csv(run_dir / "unreachable.csv")
    rec = res.get("unreachable", meta.get("unreachable"))
    if table is None and rec is None:
        return None
    s = Section(
        "unreachable",
        "Building groups no road reaches",
        "Their demand cannot be served by any plan: they are left out of the slice's LP and named here.",
    )
    if isinstance(rec, dict):
        s.kv({k: v for k, v in rec.items() if not isinstance(v, dict | list)} or {"(recorded)": "-"})
        for k, v in rec.items():
            if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
                s.table(pd.DataFrame(v), k)
            elif isinstance(v, list):
                s.kv({k: ", ".join(map(str, v)) or "none"})
    elif isinstance(rec, list) and rec and all(isinstance(r, dict) for r in rec):
        s.table(pd.DataFrame(rec))
    s.table(table, source="unreachable.csv")
    return s


def _months_table(summary: dict, days=(0, 30, 60, 180, 364)) -> pd.DataFrame | None:
    pct = summary.get("percentiles", {})
    rows = []
    for col, p in pct.items():
        day = p.get("day", [])
        for d in days:
            if d in day:
                k = day.index(d)
                rows.append(
                    {"quantity": col, "day": d, "p10": p["p10"][k], "p50": p["p50"][k], "p90": p["p90"][k]}
                )
    return pd.DataFrame(rows) if rows else None


def _case_name(path: str) -> str:
    """The case's own name (an override's too); the directory name if it cannot be loaded."""
    try:
        return load_case(path).name
    except InputError:
        return Path(path).parent.name or path


def _day(v) -> str:
    return "-" if v is None else f"{v:g}"


def _full_recovery(p50: float | None, scenarios: Path, within: str) -> str:
    """The median day of full recovery in words: summary.json's value is the median over the
    scenarios that recover fully (None: none does), so say which scenarios it counts."""
    share = None
    if scenarios.exists():
        col = pd.read_parquet(scenarios)
        if "days_to_full" in col:
            share = float(col["days_to_full"].notna().mean())
    if p50 is None:
        return f"not reached {within} in any scenario (every scenario still has unrepaired damage)"
    if share is None:
        return f"{p50:g} (median over the scenarios that recover fully {within})"
    if share >= 1:
        return f"{p50:g}"
    return f"{p50:g} (median over the {share:.0%} of scenarios that recover fully {within})"


def _simulate(run_dir: Path, params: dict | None):
    run = read_json(run_dir / "run.json")
    summary = read_json(run_dir / "summary.json")
    case = _case_name(str(run.get("case", "")))
    title = f"Monte Carlo: {case}, variant {run.get('variant', 'none')}"
    t = summary.get("time_to_threshold", {})
    days = run.get("days")
    within = f"within the {days} days simulated" if days is not None else "within the days simulated"
    reached = t.get("reached_share")
    to_threshold = (
        f"{_day(t.get('p10'))} / {_day(t.get('p50'))} / {_day(t.get('p90'))}"
        + (" (of the scenarios that reach it)" if reached is not None and reached < 1 else "")
        if t.get("p50") is not None
        else f"not reached {within} in any scenario"
    )
    over = Section("overview", "Overview")
    over.kv(
        {
            "scenarios": run.get("scenarios"),
            "days": days,
            "seed": run.get("seed"),
            "median F_C right after": summary.get("fc0_p50"),
            f"days to F_C >= {summary.get('threshold')} (p10 / p50 / p90)": to_threshold,
            "share of scenarios reaching the threshold": reached,
            "median days to full recovery": _full_recovery(
                summary.get("days_to_full_recovery_p50"), run_dir / "scenarios.parquet", within
            ),
        }
    )
    shown = ("threshold", "fc0_p50", "days_to_full_recovery_p50")
    extra = {k: v for k, v in summary.items() if isinstance(v, int | float | str) and k not in shown}
    if extra:
        over.kv(extra, "other figures of summary.json")
    plots = Section("plots", "Plots", "PNG copies of the plots written next to this report (SVG there too).")
    plots.image(run_dir / "fc_fan.png", "Community functionality F_C over time (paper Fig. 5)")
    plots.image(run_dir / "supply_hist.png", "Supply rate at 0, 1, 2, 6 and 12 months (paper Fig. 6)")
    plots.image(run_dir / "supply_fan.png", "Supply rate over time (paper Fig. 11)")
    months = Section("months", "Percentiles at 0, 1, 2, 6 and 12 months").table(_months_table(summary))
    shares = summary.get("supply_rate_shares") or {}
    rows = [
        {"rate": col, "day": int(d), "near 0.1 (< 0.2)": v["near_0.1"], "near 1 (>= 0.8)": v["near_1"]}
        for col, by_day in shares.items()
        for d, v in by_day.items()
    ]
    if rows:
        months.table(pd.DataFrame(rows), "share of scenarios near 0.1 and near 1 (paper Fig. 6)")
    sections = [over, plots, months]
    hist = t.get("histogram_days")
    if hist:
        sections.append(
            Section(
                "time-to-threshold", "Days to the threshold", "Scenarios by the first day F_C reaches it."
            ).table(pd.DataFrame({"days": list(hist), "scenarios": list(hist.values())}))
        )
    sc_path = run_dir / "scenarios.parquet"
    if sc_path.exists():
        sc = pd.read_parquet(sc_path)
        desc = sc.drop(columns=["scenario"], errors="ignore").describe(percentiles=[0.1, 0.5, 0.9]).T
        desc.insert(0, "column", desc.index)
        sections.append(
            Section("scenarios", "Scenario table", "Distribution of every per-scenario column.").table(
                desc.reset_index(drop=True), source="scenarios.parquet"
            )
        )
    p = dict(run)
    p.update(params or {})
    sections.append(params_section(p, summary.get("versions") or {}, run_dir))
    return title, sections


def _compare(run_dir: Path, params: dict | None):
    table = pd.read_csv(run_dir / "comparison.csv")
    title = f"Variants compared ({run_dir.name})"
    over = Section(
        "overview", "Comparison", "Same scenarios for every variant (common random numbers)."
    ).table(table, source="comparison.csv")
    plots = Section("plots", "Plots")
    plots.image(run_dir / "compare_fc.png", "F_C: median and 10-90 % band of each variant (paper Fig. 10)")
    plots.image(
        run_dir / "compare_supply.png", "Supply rate: median and band of each variant (paper Fig. 11)"
    )
    links = []
    vers: dict = {}
    p: dict = {}
    for v in table["variant"]:
        sub = run_dir / str(v)
        if (sub / "run.json").exists():
            if (sub / REPORT_NAME).exists():
                links.append((f"{v}/{REPORT_NAME}", f"report of variant {v}"))
            if not vers and (sub / "summary.json").exists():
                s = read_json(sub / "summary.json")
                vers = s.get("versions") or {}
                p = {k: val for k, val in read_json(sub / "run.json").items() if k != "variant"}
    sections = [over, plots]
    if links:
        sections.append(Section("variants", "Each variant's own report").links(links))
    p.update(params or {})
    sections.append(params_section(p, vers or versions(), run_dir))
    return title, sections


def _retrofit(run_dir: Path, params: dict | None):
    title = f"Retrofit ({shown_name(run_dir)})"
    sections = []
    if (run_dir / "plan.json").exists():
        plan = read_json(run_dir / "plan.json")
        s = Section("plan", "Plan")
        s.kv({k: v for k, v in plan.items() if not isinstance(v, dict | list)})
        s.table(read_csv(run_dir / "plan.csv"), "steps", "plan.csv")
        s.table(read_csv(run_dir / "z_start.csv"), "Z of every candidate at the start", "z_start.csv")
        sections.append(s)
    if (run_dir / "sweep.csv").exists():
        s = Section("sweep", "Budget sweep: greedy against the exact MILP")
        s.image(run_dir / "sweep.png", "F_C right after the earthquake by budget, and the greedy gap")
        s.table(read_csv(run_dir / "sweep.csv"), source="sweep.csv")
        sections.append(s)
    if (run_dir / "table3.csv").exists():
        s = Section("table3", "Paper Table 3 against the toolkit")
        s.table(read_csv(run_dir / "table3.csv"), source="table3.csv")
        s.table(
            read_csv(run_dir / "table3_summary.csv"), "F_C right after the earthquake", "table3_summary.csv"
        )
        sections.append(s)
    if (run_dir / "evaluation.csv").exists():
        s = Section("bridges", "Bridge upgrades (SAA), out of sample")
        s.image(run_dir / "bridges.png", "Day-0 delivery per plan")
        s.table(read_csv(run_dir / "evaluation.csv"), source="evaluation.csv")
        s.table(read_csv(run_dir / "bridges.csv"), "bridges", "bridges.csv")
        sections.append(s)
    recorded = read_json(run_dir / "run.json") if (run_dir / "run.json").exists() else {}
    recorded.update(params or {})
    sections.append(params_section(recorded, versions(), run_dir))
    return title, sections


#: kind of output -> (its page, the files the page needs); every other kind is refused
PAGES = {
    "audit": (lambda d, p, r: _audit(d, p), ("result.json",)),
    "simulate": (lambda d, p, r: _simulate(d, p), ("run.json", "summary.json")),
    "compare": (lambda d, p, r: _compare(d, p), ("comparison.csv",)),
    "retrofit": (lambda d, p, r: _retrofit(d, p), ()),
    **ops.PAGES,
}


def render(
    run_dir: str | Path,
    params: dict | None = None,
    shown_as: str | Path | None = None,
) -> str:
    """The report of ``run_dir`` as one HTML string (``shown_as``: the folder's name to show),
    the page of the kind its output manifest records (:func:`run_kind`)."""
    import jinja2  # imported here: `resiliopt --help` and runs without a report skip it (0.02 s)

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("no such run directory", run_dir)
    kind, rec = run_kind(run_dir)
    if kind not in PAGES:
        raise InputError(
            f"holds the output of `resiliopt {rec['command']}` (kind {kind}); resiliopt report has no "
            f"page for it (pages: {', '.join(PAGES)})",
            run_dir,
        )
    page, needs = PAGES[kind]
    _check_files(run_dir, kind, rec, needs)
    SHOWN_AS.append(Path(shown_as) if shown_as is not None else run_dir)
    try:
        title, sections = page(run_dir, params, rec)
    finally:
        SHOWN_AS.pop()
    if rec.get("complete") is False:
        sections[0].intro = (
            "The command did not finish (its manifest says incomplete): this page shows what it wrote. "
            + sections[0].intro
        )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("resiliopt.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    files = sorted(p.name for p in run_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return env.get_template("report.html.j2").render(
        title=title, kind=kind, sections=sections, files=files, generated=now(), ops=kind in ops.PAGES
    )


GENERATOR = '<meta name="generator" content="resiliopt report">'


def _ours(path: Path) -> bool:
    """Is the file at ``path`` a report resiliopt wrote (so it may be replaced)?"""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return GENERATOR in fh.read(2000)
    except OSError:
        return False


def write_report(run_dir: str | Path, out: str | Path | None = None, params: dict | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``), atomically.

    A file already at that path is replaced only if resiliopt wrote it (a report, or a file of
    the folder's manifest); the report is added to the run folder's manifest.
    """
    run_dir = Path(run_dir)
    path = Path(out) if out is not None else run_dir / REPORT_NAME
    if path.is_dir():
        raise InputError("is a folder; give the HTML file to write", location="--out", file=path)
    if path.exists() and not _ours(path):
        man = read_manifest(path.parent) if path.parent.is_dir() else None
        if not (man and path.name in man["files"]):
            raise InputError(
                "a file resiliopt did not write is there; resiliopt never replaces it (give --out)", path
            )
    html = render(run_dir, params)
    write_text_atomic(path, html)
    if path.parent.resolve() == run_dir.resolve():
        add_to_manifest(run_dir, path.name)
    return path
