"""The operations pages (docs/report.md): ``resiliopt report`` on the output of
``infra restore``, ``infra simulate``, ``emergency replay`` and ``emergency evaluate``.

One self-contained page per run, built from the report's sections
(:mod:`resiliopt.reports.sections`): a network map per period with a period slider (and a
run selector where the folder holds several runs), the levels timeline with the reasons of
every change, served demand per layer, the dispatch Gantt chart, and for an evaluation the
policy table with its bootstrap intervals. The map and the charts are inline SVG
(:mod:`.ops_map`, :mod:`.ops_charts`); the frames of the map (:mod:`.ops_frames`) travel in
the page as JSON, and one small inline script (``templates/ops.js``) applies the chosen frame.

The map needs the case (node coordinates, links) and, for a replay, the event (the damage at
its first time stamp, the roads): the command records them in its output manifest
(``inputs``); a page whose case cannot be read says so and shows the rest.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

from resiliopt._provenance import versions
from resiliopt.case.infra import InfraCase, load_infra_case
from resiliopt.emergency.event import event_config, load_event
from resiliopt.errors import InputError
from resiliopt.reports import ops_charts as charts
from resiliopt.reports.ops_frames import (
    PROBABILITY_STATES,
    REPLAY_STATES,
    RESTORE_STATES,
    first_damage,
    gantt_rows,
    probability_frames,
    replay_frames,
    restore_frames,
)
from resiliopt.reports.ops_map import NetworkMap, State, legend_html
from resiliopt.reports.sections import Section, params_section, read_csv, read_json, shown_name, table_html

MAX_RUNS = 12  # runs of a replay drawn on the page (the first seeds of every policy)


# ---------------------------------------------------------------------------- inputs
def load_case(rec: dict, name: str | None = None) -> tuple[InfraCase | None, str]:
    """The run's case, from the manifest's ``inputs`` (its path, else its bundled name) or
    ``name``; ``(None, why)`` when it cannot be read."""
    inputs = rec.get("inputs") or {}
    tries = [inputs.get("case_path"), inputs.get("case"), name]
    tried = []
    for ref in dict.fromkeys(t for t in tries if t):
        try:
            return load_infra_case(ref), ""
        except InputError as exc:
            tried.append(f"{ref}: {exc.message}")
    if not tried:
        return None, "the output manifest names no case (written before resiliopt recorded it)"
    return None, "the case cannot be read (" + "; ".join(tried) + ")"


def _layer_colours(case: InfraCase | None, layers: list[str]) -> dict[str, str]:
    order = [str(v) for v in case.layers["layer"]] if case is not None else []
    order += [v for v in layers if v not in order]
    return {v: charts.LAYER_COLOURS[k % len(charts.LAYER_COLOURS)] for k, v in enumerate(order)}


def _json_script(data: dict) -> str:
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="ops-data">{text}</script>'


def map_section(
    nmap: NetworkMap,
    legend: list[State],
    runs: list[dict],
    intro: str,
    slider: str = "period",
    extra_legend: tuple = (),
) -> Section:
    """The map with its period slider (and run selector): the first frame drawn, every frame
    in the page's JSON for the script."""
    s = Section("map", "Network map", intro)
    first = runs[0]["frames"][0]
    ctl = ['<div class="ops-controls">']
    if len(runs) > 1:
        opts = "".join(f'<option value="{escape(r["id"])}">{escape(r["label"])}</option>' for r in runs)
        ctl.append(f'<label>run <select id="ops-run">{opts}</select></label>')
    n = max(len(r["frames"]) for r in runs)
    ctl.append(
        f'<label>{escape(slider)} <input type="range" id="ops-frame" min="0" max="{n - 1}" step="1" '
        'value="0"></label> <output id="ops-frame-label">{escape(first["label"])}</output></div>'
    )
    data = {
        "legend": [
            {"code": st.code, "name": st.name, "count": st.count.replace("{label}", st.label)}
            for st in legend
        ],
        "layers": nmap.layers,
        "elayer": nmap.layer_of(),
        "runs": runs,
    }
    body = "".join(ctl) + '<div class="scroll">' + nmap.svg(first["states"], legend) + "</div>"
    s.raw(body + legend_html(legend, list(extra_legend)) + _json_script(data))
    if not nmap.geo:
        s.text("Some node has no coordinates: each layer is drawn with a force layout (schematic, seed 0).")
    return s


def _per_run(run_id: str, html: str, first: bool) -> str:
    style = "" if first else ' style="display:none"'
    return f'<div class="ops-run" data-run="{escape(run_id)}"{style}>{html}</div>'


def _no_map(why: str) -> Section:
    return Section("map", "Network map").text(f"No map: {why}.")


# ---------------------------------------------------------------------------- infra restore
def restore_page(run_dir: Path, params: dict | None, rec: dict):
    plan = read_json(run_dir / "plan.json")
    case, why = load_case(rec, plan.get("case"))
    damage_name = str(plan.get("damage", "?"))
    if damage_name.startswith("file "):  # the damage file's name; its path is in the overview
        damage_name = "file " + Path(damage_name[5:]).name
    title = f"Restoration plan: {plan.get('case', '?')}, {damage_name} ({plan.get('method', '?')})"
    over = Section(
        "overview",
        "Overview",
        "The plan of `resiliopt infra restore`, checked against the input tables (check.csv).",
    )
    over.kv(
        {
            "case": plan.get("case"),
            "damage": plan.get("damage"),
            "damaged elements (nodes / links)": f"{plan.get('damaged', {}).get('nodes', '-')} / "
            f"{plan.get('damaged', {}).get('links', '-')}",
            "method": plan.get("method"),
            "periods": plan.get("periods"),
            "objective": plan.get("objective"),
            "largest MIP gap": plan.get("max_gap"),
            "every solve optimal": plan.get("all_optimal"),
            "plan checked against the input": "passed" if plan.get("check_ok") else "FAILED",
            "elements left unrepaired": plan.get("unrepaired"),
            "seconds": plan.get("seconds"),
        }
    )
    served = read_csv(run_dir / "served.csv")
    repairs = read_csv(run_dir / "repairs.csv")
    damage = read_csv(run_dir / "damage.csv")
    periods = int(plan.get("periods") or (served["period"].max() if served is not None else 0))
    sections = [over]
    if case is not None:
        nodes = pd.read_parquet(run_dir / "nodes.parquet") if (run_dir / "nodes.parquet").exists() else None
        nmap = NetworkMap(case)
        frames = restore_frames(nmap, damage, repairs, nodes, periods)
        sections.append(
            map_section(
                nmap,
                RESTORE_STATES,
                [{"id": "plan", "label": "plan", "frames": frames}],
                "Each layer's elements at the chosen period of the plan: period 0 is the damage; a repair "
                "started in period p that takes tau periods makes its element serve from period p + tau - 1 "
                "(INDP; repairs.csv: period, works_from).",
            )
        )
    else:
        sections.append(_no_map(why))
    colours = _layer_colours(case, sorted(set(served["layer"])) if served is not None else [])
    if served is not None and not served.empty:
        series = {
            str(layer): (g["period"].tolist(), g["share"].tolist())
            for layer, g in served.groupby("layer", sort=False)
        }
        s = Section("served", "Served demand per layer", "Share of each layer's demand served, by period.")
        s.raw(charts.line_chart(series, "served share per layer", colours=colours, x_from=0))
        s.table(served, source="served.csv")
        sections.append(s)
    rows = []
    for r in repairs.sort_values(["period", "layer"]).itertuples(index=False):
        w = int(getattr(r, "works_from", r.period))
        tip = f"repair {r.kind} {r.layer} {r.element}: periods {r.period}-{w}, serves from period {w}"
        rows.append(
            (
                f"{r.layer} {r.kind} {r.element}",
                [(float(r.period), w + 1.0, "", colours.get(str(r.layer), "#888"), tip)],
            )
        )
    g = Section(
        "repairs",
        "Repair schedule",
        "One bar per repair, from the period it starts to the period from which the element serves.",
    )
    g.raw(charts.gantt(rows[:60], "repair schedule", "period"))
    if len(rows) > 60:
        g.text(f"first 60 of {len(rows)} repairs drawn")
    g.table(repairs, source="repairs.csv")
    g.table(read_csv(run_dir / "unrepaired.csv"), "left unrepaired", "unrepaired.csv")
    sections.append(g)
    t = Section("tables", "Costs, resources and checks")
    t.image(run_dir / "restoration_curves.png", "restoration curves")
    for name, caption in (
        ("costs", "cost terms by period"),
        ("resources", "repair resources by period"),
        ("check", "the plan checked against the input"),
        ("mip", "every MIP solve"),
    ):
        t.table(read_csv(run_dir / f"{name}.csv"), caption, f"{name}.csv")
    sections.append(t)
    sections.append(params_section({**(rec.get("inputs") or {}), **(params or {})}, versions(), run_dir))
    return title, sections


# ---------------------------------------------------------------------------- infra simulate
def simulate_page(run_dir: Path, params: dict | None, rec: dict):
    run = read_json(run_dir / "run.json")
    summary = read_json(run_dir / "summary.json")
    case, why = load_case(rec, run.get("case"))
    mags = list(run.get("magnitudes") or [])
    title = f"Restoration Monte Carlo: {run.get('case', '?')}, M {', '.join(f'{m:g}' for m in mags)}"
    over = Section(
        "overview",
        "Overview",
        "The Monte Carlo of `resiliopt infra simulate`: damage draws, then INDP recovery.",
    )
    over.kv(
        {
            "case": run.get("case"),
            "magnitudes": ", ".join(f"{m:g}" for m in mags),
            "repair resources per period (v)": ", ".join(f"{v:g}" for v in run.get("v") or []),
            "simulations per (M, v)": run.get("simulations"),
            "seed": run.get("seed"),
            "largest MIP gap": summary.get("max_gap"),
            "every solve optimal": summary.get("all_optimal"),
            "published cells compared": summary.get("published_cells", "not compared"),
            "cells beyond 3 standard errors": summary.get("beyond_3se", "-"),
        }
    )
    over.table(pd.DataFrame(summary.get("runs") or []), "per (M, v)")
    sections = [over]
    fp = getattr(case, "failure_probability", None) if case is not None else None
    if case is not None and fp is not None and mags:
        nmap = NetworkMap(case)
        frames = probability_frames(nmap, fp, mags)
        sections.append(
            map_section(
                nmap,
                PROBABILITY_STATES,
                [{"id": "fp", "label": "failure probability", "frames": frames}],
                "The Monte Carlo records no element states; the map shows each element's failure "
                "probability at the run's magnitudes (the table its damage draws use). For one draw's "
                "plan period by period: `resiliopt infra restore CASE --magnitude M --simulation i "
                "--out DIR`.",
                slider="magnitude",
            )
        )
    else:
        sections.append(_no_map(why or "the case has no failure_probability table"))
    rec_path = run_dir / "records.parquet"
    records = pd.read_parquet(rec_path) if rec_path.exists() else None
    if records is not None and not records.empty:
        cols = [c for c in records.columns if c.startswith("served_")]
        layers = [c[len("served_") :] for c in cols]
        colours = _layer_colours(case, layers)
        s = Section(
            "served",
            "Served demand per layer",
            "Mean served share over the simulations, by INDP iteration (one chart per M and v); a "
            "simulation that has finished counts with its last value.",
        )
        for (m, v), g in records.groupby(["magnitude", "v"]):
            full = _carry_forward(g, cols)
            mean = full.groupby("iteration")[cols].mean()
            series = {
                lay: (mean.index.tolist(), mean[c].tolist()) for lay, c in zip(layers, cols, strict=True)
            }
            chart = charts.line_chart(series, f"M {m:g}, v {v:g}", "iteration", colours=colours, marker=False)
            s.raw(chart, f"magnitude {m:g}, v = {v:g}: mean served share by iteration")
        left = records.assign(left=records["left_nodes"] + records["left_links"])
        series = {}
        for (m, v), g in left.groupby(["magnitude", "v"]):
            mean = _carry_forward(g, ["left"]).groupby("iteration")["left"].mean()
            series[f"M {m:g}, v {v:g}"] = (mean.index.tolist(), mean.tolist())
        s.raw(
            charts.line_chart(
                series, "elements still damaged", "iteration", "elements", None, marker=False, percent=False
            ),
            "mean number of elements still damaged after each iteration",
        )
        s.image(run_dir / "served_fan.png", "served demand: mean and band of the simulations")
        sections.append(s)
    c = Section("published", "Published results and summary")
    c.table(read_csv(run_dir / "comparison.csv"), "against the published means", "comparison.csv")
    c.image(run_dir / "comparison.png", "against the published results")
    c.table(read_csv(run_dir / "summary.csv"), "mean and standard error by iteration", "summary.csv")
    sections.append(c)
    sections.append(params_section({**run, **(params or {})}, versions(), run_dir))
    return title, sections


def _carry_forward(g: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Every simulation at every iteration up to the longest one: a finished simulation keeps
    its last values (it is recovered, not missing)."""
    last = int(g["iteration"].max())
    out = []
    for _, one in g.groupby("simulation"):
        one = one.set_index("iteration")[cols].reindex(range(1, last + 1)).ffill()
        out.append(one.reset_index())
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------- emergency replay
def _event_parts(rec: dict, case: InfraCase | None):
    """``(damage at the first time stamp, road access, level names, why not)`` of the event."""
    path = (rec.get("inputs") or {}).get("event")
    if not path:
        return None, None, None, "the output manifest names no event"
    try:
        ev = load_event(path)
        names = list(event_config(case, ev).names) if case is not None else None
    except InputError as exc:
        return None, None, None, f"the event cannot be read ({path}: {exc.message})"
    return first_damage(ev.observations), ev.roads, names, ""


def replay_page(run_dir: Path, params: dict | None, rec: dict):
    summary = pd.read_csv(run_dir / "summary.csv")
    periods = pd.read_csv(run_dir / "periods.csv")
    dispatch = pd.read_csv(run_dir / "dispatch.csv")
    case, why = load_case(rec)
    damaged0, access, names, ev_why = _event_parts(rec, case) if case is not None else (None, None, None, "")
    ev_name = Path((rec.get("inputs") or {}).get("event", "")).parent.name or shown_name(run_dir)
    case_name = case.name if case is not None else (rec.get("inputs") or {}).get("case", "?")
    title = f"Event replay: {case_name}, {ev_name}"
    over = Section(
        "overview",
        "Overview",
        "Every policy replayed on the event's damage with the same random repair durations "
        "(`resiliopt emergency replay`). unserved_area: the mean over layers of the unserved share, "
        "summed over periods (lower is better).",
    )
    best = summary.loc[summary.groupby("seed")["unserved_area"].idxmin()]
    over.kv(
        {
            f"least unserved area, seed {r.seed}": f"{r.policy} ({r.unserved_area:.4g})"
            for r in best.itertuples()
        }
    )
    over.table(summary, "one row per run (policy, seed)", "summary.csv")
    every = [(str(p), int(s)) for p, s in summary[["policy", "seed"]].drop_duplicates().to_numpy()]
    runs = sorted(every, key=lambda r: (r[1], every.index(r)))[:MAX_RUNS]  # the first seeds first
    if len(every) > len(runs):
        over.text(
            f"The map and charts show {len(runs)} of the {len(every)} runs: the first seeds of every policy."
        )
    ids = [f"{p}-{s}" for p, s in runs]
    level_names = names or _level_names(periods)
    layers = [c.split(".", 1)[1] for c in periods.columns if c.startswith("unserved_share.")]
    colours = _layer_colours(case, layers)
    per_run = {
        rid: (
            periods[(periods["policy"] == p) & (periods["seed"] == s)],
            dispatch[(dispatch["policy"] == p) & (dispatch["seed"] == s)],
        )
        for rid, (p, s) in zip(ids, runs, strict=True)
    }
    sections = [over]
    if case is not None:
        nmap = NetworkMap(case, access.roads if access is not None else None)
        map_runs = [
            {"id": rid, "label": f"{p} loop, seed {s}" if p in ("closed", "open") else f"{p} rule, seed {s}",
             "frames": replay_frames(nmap, *per_run[rid], damaged0, access if nmap.roads else None)}
            for rid, (p, s) in zip(ids, runs, strict=True)
        ]  # fmt: skip
        intro = (
            "Each layer's elements at the chosen period of the chosen run; crews stand at the element "
            "they repair, with their road route in the period they are dispatched."
        )
        extra = [("crew", "crew at work"), ("route", "route from the depot")]
        if nmap.roads is not None:
            extra += [("road", "road"), ("closed", "road closed (bridge down)"), ("depot", "depot")]
        s = map_section(nmap, REPLAY_STATES, map_runs, intro, extra_legend=tuple(extra))
        if ev_why:
            s.text(f"{ev_why}: the map knows only the elements the runs dispatched crews to.")
        sections.append(s)
    else:
        sections.append(_no_map(why))
    lv = Section("levels", "Emergency levels", "The level of every period; hover a period for its reason.")
    sv = Section("served", "Served demand per layer", "1 - unserved share of each layer, by period.")
    gt = Section(
        "dispatch", "Dispatch (Gantt)", "Crews by period: travel hatched, repairs in their layer's colour."
    )
    for k, rid in enumerate(ids):
        per, disp = per_run[rid]
        p, s = runs[k]
        lv.raw(_per_run(rid, _levels_html(per, level_names, f"{p}, seed {s}"), k == 0))
        series = {
            lay: (per["period"].tolist(), (1 - per[f"unserved_share.{lay}"]).tolist()) for lay in layers
        }
        sv.raw(
            _per_run(rid, charts.line_chart(series, f"served share, {p}, seed {s}", colours=colours), k == 0)
        )
        gt.raw(
            _per_run(
                rid, charts.gantt(gantt_rows(disp, colours), f"dispatch, {p}, seed {s}", "period"), k == 0
            )
        )
    if len(runs) > 1:
        for sec in (lv, sv, gt):
            sec.intro += " The run is the one chosen above the map."
    gt.table(dispatch, "every travel and repair", "dispatch.csv")
    sections += [lv, sv, gt]
    sections.append(params_section({**(rec.get("inputs") or {}), **(params or {})}, versions(), run_dir))
    return title, sections


def _level_names(periods: pd.DataFrame) -> list[str]:
    seen = dict(zip(periods["level_index"].astype(int), periods["level"].astype(str), strict=True))
    return [seen.get(k, f"level {k}") for k in range(max(seen, default=0) + 1)]


def _levels_html(per: pd.DataFrame, names: list[str], what: str) -> str:
    rows = per[["period", "level", "level_index", "event", "reason"]].to_dict(orient="records")
    changes = per.loc[per["event"] != "hold", ["period", "level", "event", "reason"]]
    return charts.level_timeline(rows, names, f"levels, {what}") + (
        '<p class="caption">changes of level and their reasons</p>' + table_html(changes)
    )


# ---------------------------------------------------------------------------- emergency evaluate
def evaluate_page(run_dir: Path, params: dict | None, rec: dict):
    comparison = pd.read_csv(run_dir / "comparison.csv")
    events = read_csv(run_dir / "events.csv")
    run = read_json(run_dir / "run.json") if (run_dir / "run.json").exists() else {}
    summary = read_json(run_dir / "summary.json") if (run_dir / "summary.json").exists() else {}
    case = summary.get("case") or run.get("case") or (rec.get("inputs") or {}).get("case", "?")
    n = len(events) if events is not None else "?"
    title = f"Policy evaluation: {case}, {n} events"
    over = Section(
        "overview",
        "Overview",
        "Every policy replayed on the same events (drawn earthquakes or the case's damage scenarios) "
        "with common random numbers, compared with the closed loop paired by event "
        "(`resiliopt emergency evaluate`).",
    )
    over.kv({"case": case, "events": n, **{k: v for k, v in run.items() if isinstance(v, int | float | str)}})
    pol = Section(
        "policies",
        "Policies against the closed loop",
        "diff_vs_closed: mean paired difference of unserved area (policy - closed; negative: the policy "
        "leaves less unserved), with its percentile bootstrap interval [ci_low, ci_high]; win_rate: share "
        "of events where the policy leaves less unserved than the closed loop.",
    )
    overall = comparison[comparison["layer"] == "all"] if "layer" in comparison else comparison
    shown = [c for c in ("policy", "n_events", "mean", "sd", "diff_vs_closed", "ci_low", "ci_high",
                         "win_rate", "tie_rate", "loss_rate", "diff_vs_oracle", "oracle_ci_low",
                         "oracle_ci_high") if c in overall]  # fmt: skip
    pol.table(overall[shown], "all layers (mean over layers)", "comparison.csv")
    if {"diff_vs_closed", "ci_low", "ci_high"} <= set(overall.columns):
        rows = [
            {
                "label": str(r.policy),
                "value": float(r.diff_vs_closed),
                "low": float(r.ci_low),
                "high": float(r.ci_high),
            }
            for r in overall.itertuples(index=False)
            if r.policy != "closed"
        ]
        conf = overall["confidence"].iloc[0] if "confidence" in overall and len(overall) else 0.95
        pol.raw(
            charts.intervals(
                rows, "difference to the closed loop", f"unserved area, policy - closed ({conf:.0%} interval)"
            )
        )
    if "layer" in comparison:
        pol.table(comparison[comparison["layer"] != "all"], "per layer", "comparison.csv")
    pol.image(run_dir / "differences.png", "paired differences to the closed loop")
    pol.image(run_dir / "unserved.png", "unserved area by policy")
    ev = Section("events", "Events and runs")
    ev.table(events, "the drawn events", "events.csv")
    ev.table(read_csv(run_dir / "runs.csv"), "one row per event, policy and layer", "runs.csv")
    p = {**run, **(params or {})}
    return title, [over, pol, ev, params_section(p, versions(), run_dir)]


#: kind -> (page, the files it needs); :data:`resiliopt.reports.html.PAGES` adds these
PAGES = {
    "infra-restore": (restore_page, ("plan.json", "damage.csv", "repairs.csv")),
    "infra-simulate": (simulate_page, ("run.json", "summary.json", "records.parquet")),
    "emergency-replay": (replay_page, ("summary.csv", "periods.csv", "dispatch.csv")),
    "emergency-evaluate": (evaluate_page, ("comparison.csv", "events.csv", "runs.csv")),
}
