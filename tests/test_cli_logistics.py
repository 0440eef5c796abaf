import json

import pytest


def test_slice_json_on_file(run_cli, data_dir):
    code, out, _ = run_cli("slice", data_dir / "slice_tr_binds.yaml", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["status"] == "optimal" and d["objective"] == pytest.approx(0.226)
    assert {"flows", "duals", "reduced_costs", "certificate"} <= set(d)
    assert d["certificate"]["passed"] is True
    assert {"from", "to", "flow"} == set(d["flows"][0])
    assert {"constraint", "index", "value"} == set(d["duals"][0])
    tr = [x for x in d["duals"] if x["constraint"] == "total_resources"][0]
    assert tr["value"] == pytest.approx(0.013)


def test_slice_on_case_day_and_seed(run_cli):
    code, out, _ = run_cli("slice", "beijing", "--seed", 2, "--day", 40, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["certificate"]["passed"] and d["objective"] > 0
    assert d["objective"] == pytest.approx(d["networkx_objective"], rel=1e-6)
    # later in the recovery fewer groups are left than right after the earthquake
    code, out0, _ = run_cli("slice", "beijing", "--seed", 2, "--json")
    assert len(json.loads(out0)["deliveries"]) > len(d["deliveries"])


def test_audit_writes_every_file(run_cli, tmp_path):
    out = tmp_path / "audit"
    code, _, _ = run_cli("audit", "beijing", "--seed", 1, "--out", out)
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"summary.md", "flows.csv", "duals.csv", "reduced_costs.csv", "model.lp"} <= names
    md = (out / "summary.md").read_text()
    assert "Ten largest shadow prices" in md and "minimum cut" in md and "**True**" in md
    assert "node_balance" in (out / "model.lp").read_text()  # readable names


def test_audit_is_atomic(run_cli, tmp_path, monkeypatch):
    """A failure while writing leaves neither a half-written report nor a temp dir."""
    import resiliopt.reports.audit as audit

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "summary_markdown", boom)
    out = tmp_path / "audit"
    code, _, _ = run_cli("audit", "beijing", "--out", out)
    assert code == 130  # interrupted
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_demo_runs(run_cli, tmp_path):
    code, out, _ = run_cli("demo", "--out", tmp_path / "demo", "--report")
    assert code == 0
    assert (tmp_path / "demo" / "audit" / "summary.md").exists()
    assert (tmp_path / "demo" / "audit" / "report.html").exists()
    assert (tmp_path / "demo" / "simulation" / "report.html").exists()


def test_infeasible_is_reported(run_cli, tmp_path):
    """A user-modified model that is infeasible: status reported, exit code 1."""
    import pyomo.environ as pyo

    from resiliopt.formulations.slice_lp import SliceData, build_slice_model
    from resiliopt.logistics import solve_model
    from resiliopt.schemas import SliceFile

    f = SliceFile.model_validate(
        {
            "kind": "slice",
            "total_resources": 5,
            "arcs": [{"from": "RR", "to": "a", "capacity": 1}],
            "groups": [{"id": "g", "node": "a", "capacity": 3, "gain": 1}],
        }
    )
    m = build_slice_model(SliceData.from_schema(f))
    m.force = pyo.Constraint(expr=m.delivery["g"] >= 2)  # more than the arc can carry
    res = solve_model(m)
    assert res.status == "infeasible"
    assert res.to_dict()["status"] == "infeasible"
