"""The audit's content (closed arcs, price units, cross-check), plots, and the HTML report."""

import base64
import re

import numpy as np
import pyomo.environ as pyo
import pytest

from resiliopt.formulations.slice_lp import build_slice_model
from resiliopt.logistics import load_slice, solve_model, solve_slice
from resiliopt.reports import audit
from resiliopt.reports.html import render, write_report
from resiliopt.simulation import plots


@pytest.fixture(scope="module")
def beijing_slice():
    return load_slice("beijing", seed=1, day=0)


@pytest.fixture(scope="module")
def beijing_res(beijing_slice):
    return solve_slice(beijing_slice)


def test_binding_includes_closed_arcs_with_their_price(beijing_res, beijing_slice):
    tabs = audit.audit_tables(beijing_res)
    b = tabs["binding"]
    closed = b[b["capacity"] == 0]
    assert len(closed) > 0 and (closed["shadow_price"] > 0).all()
    # every positive arc price of a closed arc is in the binding table
    sp = audit.arc_prices(beijing_res)
    cap = beijing_res.flows.set_index("arc")["capacity"]
    expect = set(sp[(sp > 1e-9) & (cap.reindex(sp.index) == 0)].index)
    assert expect == set(closed["arc"])
    # the price is what reopening the arc a little is worth (finite difference, forward)
    top = closed.iloc[0]
    arcs = beijing_slice.arcs.copy()
    delta = 1e-3
    arcs.loc[arcs["arc"] == top["arc"], "capacity"] = delta
    from resiliopt.formulations.slice_lp import SliceData

    d2 = SliceData(arcs, beijing_slice.groups, beijing_slice.total_resources, name="fd")
    fd = (solve_slice(d2, crosscheck=False).objective - beijing_res.objective) / delta
    assert fd == pytest.approx(top["shadow_price"], rel=1e-6)
    md = audit.summary_markdown(beijing_res)
    assert top["label"] in md.split("## Binding capacities")[1].split("## Arcs of the minimum cut")[0]


def test_dual_units_are_price_units(beijing_res):
    d = beijing_res.duals
    assert d["unit"].str.startswith("F_C per ").all()
    tr = d[d["constraint"] == "total_resources"].iloc[0]
    assert tr["unit"] == "F_C per unit/slice" and tr["constraint_unit"] == "units/slice"


def test_crosscheck_says_when_inapplicable(beijing_slice):
    m = build_slice_model(beijing_slice)
    arcs = list(m.arcs)[:3]
    m.heavy_trucks = pyo.Constraint(expr=sum(m.flow[e] for e in arcs) <= 1.0)
    res = solve_model(m)
    assert res.networkx_objective is None
    assert "not applicable" in res.crosscheck_note and "heavy_trucks" in res.crosscheck_note
    md = audit.summary_markdown(res)
    assert "cross-check: not applicable" in md
    assert res.to_dict()["networkx_note"] == res.crosscheck_note
    # the plain model is checked
    assert solve_model(build_slice_model(beijing_slice)).networkx_objective is not None


def _capture(monkeypatch):
    figs = {}

    def fake_save(fig, out, name):
        figs[name] = fig
        return []

    monkeypatch.setattr(plots, "save_figure", fake_save)
    return figs


def _slices(seed, n=8, days=40, shift=0.0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n):
        base = rng.uniform(0.4, 0.7)
        for d in range(days):
            v = min(1.0, base + shift + d * 0.01)
            rows.append({"scenario": s, "day": d, "fc": v, "supply_rate": v, "supply_rate_units": v})
    return pd.DataFrame(rows)


def _frames(sl):
    cols = ("fc", "supply_rate", "supply_rate_units")
    return {c: sl.groupby("day")[c].quantile([0.1, 0.5, 0.9]).unstack() for c in cols}


def _counts(sl, col):
    return {int(d): np.histogram(g[col], bins=np.linspace(0, 1, 11))[0] for d, g in sl.groupby("day")}


def test_recovery_plots_name_case_and_band(monkeypatch, tmp_path):
    figs = _capture(monkeypatch)
    sl = _slices(0)
    plots.recovery_plots(
        _frames(sl), sl[["day", "scenario", "fc"]], _counts(sl, "supply_rate"), 8, 0.87, tmp_path,
        name="beijing, variant bridges", units_counts=_counts(sl, "supply_rate_units"),
    )  # fmt: skip
    for stem in ("fc_fan", "supply_fan"):
        ax = figs[stem].axes[0]
        assert "beijing, variant bridges" in ax.get_title()
        assert plots.BAND in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "beijing, variant bridges" in figs["supply_hist"]._suptitle.get_text()
    assert len(figs["supply_hist"].axes) == 2 * len(plots.MONTHS)  # both rates


def test_fig6_shares_from_counts():
    c = np.array([3, 1, 0, 0, 0, 0, 0, 0, 2, 4])
    assert plots.shares_from_counts(c) == {"near_0.1": 0.4, "near_1": 0.6}


def test_compare_plot_draws_every_median_visibly(monkeypatch, tmp_path):
    figs = _capture(monkeypatch)
    same = _frames(_slices(1))
    variants = {"none": same, "copy": dict(same), "other": _frames(_slices(2, shift=0.1))}
    plots.compare_plots(variants, 0.87, tmp_path, "x")
    ax = figs["compare_fc"].axes[0]
    medians = [ln for ln in ax.get_lines() if ln.get_label().endswith(": median")]
    assert len(medians) == 3
    # identical curves stay distinguishable: distinct styles, the earlier one wider, all on top of bands
    assert len({(str(ln.get_linestyle()), ln.get_linewidth()) for ln in medians}) == 3
    assert medians[0].get_linewidth() > medians[1].get_linewidth()
    assert min(ln.get_zorder() for ln in medians) > max(c.get_zorder() for c in ax.collections)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum(plots.BAND in t for t in labels) == 3 and "x" in ax.get_title()


# ----------------------------------------------------------------------------- HTML
@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory, beijing_res):
    out = tmp_path_factory.mktemp("rep") / "audit"
    audit.write_audit(beijing_res, out, {"input": "beijing", "seed": 1})
    return out


def _images(html):
    return re.findall(r'<img src="([^"]+)"', html)


def test_html_audit_report_is_self_contained(audit_dir):
    html = render(audit_dir)
    for sid in ("overview", "certificate", "binding", "min-cut", "shadow-prices", "parameters"):
        assert f'id="{sid}"' in html and f'href="#{sid}"' in html
    assert "primal_infeasibility" in html and "F_C per unit/slice" in html
    assert "input certificate" in html and "dual_objective" in html
    assert "highs" in html and "pyomo" in html  # versions
    # nothing is fetched from the network
    assert not re.search(r'(src|href)="(https?:)?//', html)
    closed = audit.audit_tables(solve_slice(load_slice("beijing", seed=1)))["binding"]
    assert closed[closed["capacity"] == 0]["label"].iloc[0] in html


def test_html_simulate_and_compare_reports(tmp_path, run_cli):
    out = tmp_path / "cmp"
    code, _, err = run_cli(
        "compare", "beijing", "--variants", "none,bridges", "--scenarios", 3, "--days", 40,
        "--workers", 1, "--out", out, "--no-progress", "--report",
    )  # fmt: skip
    assert code == 0, err
    html = (out / "report.html").read_text()
    imgs = _images(html)
    assert len(imgs) == 2
    for uri in imgs:
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'href="none/report.html"' in html and (out / "none" / "report.html").exists()
    sub = (out / "bridges" / "report.html").read_text()
    assert len(_images(sub)) == 3 and "variant bridges" in sub
    # the report command rewrites the same file
    code, _, _ = run_cli("report", out / "bridges", "--out", tmp_path / "again.html")
    assert code == 0 and len(_images((tmp_path / "again.html").read_text())) == 3


def test_report_refuses_a_directory_that_is_no_run(tmp_path, run_cli):
    code, _, err = run_cli("report", tmp_path)
    assert code == 2 and "not a run directory" in err and "Traceback" not in err
    assert "no output manifest" in err and str(tmp_path) in err
    code, _, err = run_cli("retrofit", "beijing", "--sweep", "0:10:5", "--report")
    assert code == 2 and "--report needs --out" in err


def test_retrofit_sweep_report(tmp_path, run_cli):
    out = tmp_path / "sweep"
    code, _, err = run_cli("retrofit", "beijing", "--sweep", "0:20:10", "--out", out, "--report")
    assert code == 0, err
    html = (out / "report.html").read_text()
    assert 'id="sweep"' in html and len(_images(html)) == 1 and "0:20:10" in html


def test_write_report_is_atomic(audit_dir, monkeypatch):
    import resiliopt.reports.sections as sections

    before = (audit_dir / "report.html").exists()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(sections, "table_html", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(audit_dir)
    assert (audit_dir / "report.html").exists() == before
    assert not [p for p in audit_dir.iterdir() if p.name.startswith(".report")]
