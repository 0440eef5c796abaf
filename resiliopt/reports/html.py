"""One self-contained HTML report of a run directory (docs/report.md).

``resiliopt report RUN_DIR`` (and ``--report`` on audit, simulate, compare and retrofit)
writes ``RUN_DIR/report.html``: plots embedded as base64 PNG, tidy tables, the run's
parameters and versions, the audit summary with its certificate, and links between sections.
The page loads nothing from outside (no scripts, fonts or style sheets from the network), so
it opens offline. It is rendered with Jinja2 from ``templates/report.html.j2`` (package data).

The kind of run is recognised from its files:

=========  ==========================================================
audit      ``result.json`` (and ``audit.json``) from ``resiliopt audit``
simulate   ``run.json`` + ``summary.json`` from ``resiliopt simulate``
compare    ``comparison.csv`` (one sub-directory per variant)
retrofit   ``sweep.csv``, ``plan.json``, ``table3.csv`` or ``evaluation.csv``
=========  ==========================================================

A small script in the page checks that every image decoded (``naturalWidth > 0``) and writes
the result into the element ``#page-check`` (used by the browser test); it also records any
script error there.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from pathlib import Path

import pandas as pd

from resiliopt._atomic import add_to_manifest, read_manifest, write_text_atomic
from resiliopt._provenance import versions
from resiliopt.case import load_case
from resiliopt.errors import InputError

REPORT_NAME = "report.html"
MAX_ROWS = 60  # longer tables are cut, with a note and the CSV named



# ---------------------------------------------------------------------------- helpers
def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def table_html(df: pd.DataFrame, max_rows: int = MAX_ROWS) -> str:
    """A tidy table as HTML (escaped), at most ``max_rows`` rows."""
    if df is None or df.empty:
        return '<p class="none">(none)</p>'
    html = df.head(max_rows).to_html(
        index=False, border=0, classes="tidy", float_format=lambda v: f"{v:.6g}", na_rep="-", escape=True
    )
    html = f'<div class="scroll">{html}</div>'
    if len(df) > max_rows:
        html += f'<p class="note">first {max_rows} of {len(df)} rows</p>'
    return html


def kv_html(d: dict) -> str:
    rows = pd.DataFrame({"item": list(d), "value": [_fmt(v) for v in d.values()]})
    return table_html(rows, max_rows=10_000)


def image_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", path) from None


def _csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


class Section:
    """One section of the page: text, key-value tables, tables, images, links."""

    def __init__(self, sid: str, title: str, intro: str = ""):
        self.id, self.title, self.intro = sid, title, intro
        self.blocks: list[dict] = []

    def text(self, s: str) -> Section:
        self.blocks.append({"kind": "text", "text": s})
        return self

    def kv(self, d: dict, caption: str = "") -> Section:
        self.blocks.append({"kind": "html", "caption": caption, "html": kv_html(d), "source": ""})
        return self

    def table(self, df: pd.DataFrame | None, caption: str = "", source: str = "") -> Section:
        if df is not None:
            self.blocks.append({"kind": "html", "caption": caption, "html": table_html(df), "source": source})
        return self

    def image(self, path: Path, caption: str) -> Section:
        if path.exists():
            self.blocks.append(
                {"kind": "image", "caption": caption, "uri": image_uri(path), "file": path.name}
            )
        return self

    def links(self, items: list[tuple[str, str]]) -> Section:
        self.blocks.append({"kind": "links", "links": items})
        return self


_SHOWN_AS: list[Path] = []  # the folder's final name while it is written in a temporary one


def _params_section(params: dict, vers: dict, run_dir: Path) -> Section:
    s = Section("parameters", "Parameters and versions")
    s.kv(params or {"(not recorded)": "-"}, "parameters of the run")
    s.kv(vers, "versions")
    where = _SHOWN_AS[-1] if _SHOWN_AS else run_dir
    s.kv({"run directory": str(Path(where).resolve()), "report written": _now()}, "where and when")
    return s


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---------------------------------------------------------------------------- kinds
def detect_kind(run_dir: Path) -> str:
    """audit, simulate, compare or retrofit, from the files the commands write."""
    if (run_dir / "result.json").exists():
        return "audit"
    if (run_dir / "summary.json").exists() and (run_dir / "run.json").exists():
        return "simulate"
    if (run_dir / "comparison.csv").exists():
        return "compare"
    if any((run_dir / f).exists() for f in ("sweep.csv", "plan.json", "table3.csv", "evaluation.csv")):
        return "retrofit"
    raise InputError(
        "not a run directory: expected the output of audit (result.json), simulate (run.json, "
        "summary.json), compare (comparison.csv) or retrofit (sweep.csv, plan.json, table3.csv, "
        "evaluation.csv)",
        run_dir,
    )


def _audit(run_dir: Path, params: dict | None):
    res = _json(run_dir / "result.json")
    meta = _json(run_dir / "audit.json") if (run_dir / "audit.json").exists() else {}
    title = f"Audit of slice {meta.get('slice', _SHOWN_AS[-1].name)}"
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
    price = "shadow prices in F_C per unit/slice"
    sections.append(
        Section(
            "binding",
            "Binding arc capacities",
            "Arcs at capacity, including closed arcs (capacity 0, e.g. a collapsed bridge) with a "
            f"positive shadow price; {price}.",
        ).table(_csv(run_dir / "binding.csv"), source="binding.csv")
    )
    sections.append(
        Section(
            "min-cut",
            "Arcs of the minimum cut",
            "Saturated arcs leaving the part of the network reachable from the source in the residual graph.",
        ).table(_csv(run_dir / "min_cut.csv"), source="min_cut.csv")
    )
    sections.append(
        Section("shadow-prices", "Largest shadow prices of arc capacities", price).table(
            _csv(run_dir / "shadow_prices.csv"), source="shadow_prices.csv"
        )
    )
    duals = _csv(run_dir / "duals.csv")
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
    dl = _csv(run_dir / "deliveries.csv")
    if dl is not None:
        sections.append(
            Section("deliveries", "Deliveries to building groups", "Largest gain first.").table(
                dl.sort_values("gain", ascending=False), source="deliveries.csv"
            )
        )
    sections.append(
        _params_section(params or meta.get("parameters", {}), meta.get("versions") or {}, run_dir)
    )
    return title, sections


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


def _simulate(run_dir: Path, params: dict | None):
    run = _json(run_dir / "run.json")
    summary = _json(run_dir / "summary.json")
    case = _case_name(str(run.get("case", "")))
    title = f"Monte Carlo: {case}, variant {run.get('variant', 'none')}"
    t = summary.get("time_to_threshold", {})
    over = Section("overview", "Overview")
    over.kv(
        {
            "scenarios": run.get("scenarios"),
            "days": run.get("days"),
            "seed": run.get("seed"),
            "median F_C right after": summary.get("fc0_p50"),
            f"days to F_C >= {summary.get('threshold')} (p10 / p50 / p90)": (
                f"{t.get('p10')} / {t.get('p50')} / {t.get('p90')}"
            ),
            "share of scenarios reaching the threshold": t.get("reached_share"),
            "median days to full recovery": summary.get("days_to_full_recovery_p50"),
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
    sections.append(_params_section(p, summary.get("versions") or {}, run_dir))
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
                s = _json(sub / "summary.json")
                vers = s.get("versions") or {}
                p = {k: val for k, val in _json(sub / "run.json").items() if k != "variant"}
    sections = [over, plots]
    if links:
        sections.append(Section("variants", "Each variant's own report").links(links))
    p.update(params or {})
    sections.append(_params_section(p, vers or versions(), run_dir))
    return title, sections


def _retrofit(run_dir: Path, params: dict | None):
    title = f"Retrofit ({_SHOWN_AS[-1].name})"
    sections = []
    if (run_dir / "plan.json").exists():
        plan = _json(run_dir / "plan.json")
        s = Section("plan", "Plan")
        s.kv({k: v for k, v in plan.items() if not isinstance(v, dict | list)})
        s.table(_csv(run_dir / "plan.csv"), "steps", "plan.csv")
        s.table(_csv(run_dir / "z_start.csv"), "Z of every candidate at the start", "z_start.csv")
        sections.append(s)
    if (run_dir / "sweep.csv").exists():
        s = Section("sweep", "Budget sweep: greedy against the exact MILP")
        s.image(run_dir / "sweep.png", "F_C right after the earthquake by budget, and the greedy gap")
        s.table(_csv(run_dir / "sweep.csv"), source="sweep.csv")
        sections.append(s)
    if (run_dir / "table3.csv").exists():
        s = Section("table3", "Paper Table 3 against the toolkit")
        s.table(_csv(run_dir / "table3.csv"), source="table3.csv")
        s.table(_csv(run_dir / "table3_summary.csv"), "F_C right after the earthquake", "table3_summary.csv")
        sections.append(s)
    if (run_dir / "evaluation.csv").exists():
        s = Section("bridges", "Bridge upgrades (SAA), out of sample")
        s.image(run_dir / "bridges.png", "Day-0 delivery per plan")
        s.table(_csv(run_dir / "evaluation.csv"), source="evaluation.csv")
        s.table(_csv(run_dir / "bridges.csv"), "bridges", "bridges.csv")
        sections.append(s)
    recorded = _json(run_dir / "run.json") if (run_dir / "run.json").exists() else {}
    recorded.update(params or {})
    sections.append(_params_section(recorded, versions(), run_dir))
    return title, sections


_KINDS = {"audit": _audit, "simulate": _simulate, "compare": _compare, "retrofit": _retrofit}


def render(run_dir: str | Path, params: dict | None = None, shown_as: str | Path | None = None) -> str:
    """The report of ``run_dir`` as one HTML string (``shown_as``: the folder's name to show)."""
    import jinja2  # imported here: `resiliopt --help` and runs without a report skip it (0.02 s)

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("no such run directory", run_dir)
    kind = detect_kind(run_dir)
    _SHOWN_AS.append(Path(shown_as) if shown_as is not None else run_dir)
    try:
        title, sections = _KINDS[kind](run_dir, params)
    finally:
        _SHOWN_AS.pop()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("resiliopt.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    files = sorted(p.name for p in run_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return env.get_template("report.html.j2").render(
        title=title, kind=kind, sections=sections, files=files, generated=_now()
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
