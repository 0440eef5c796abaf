"""Tiny numbers: the smallest amount refused at input, and a networkx cross-check whose
tolerance stays meaningful at any unit (docs/solvers.md, docs/formats.md).

Before: a demand of 1e-9 per thousand was accepted while networkx's rounding tolerance grew
to about 800 F_C (2e13 on other cases) against an objective of 0.01, so no disagreement could
be flagged; and on such a slice HiGHS's answer was 5 % off with both certificates passing.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from resiliopt.errors import SolveError
from resiliopt.formulations import slice_crosscheck as cc
from resiliopt.logistics import load_slice, solve_slice
from resiliopt.schemas.common import MIN_SCALE


def _rescaled(data, k: float):
    """The same slice in a unit k times as large: amounts x k, gains / k (the same optimum)."""
    arcs, groups = data.arcs.copy(), data.groups.copy()
    arcs["capacity"] *= k
    groups["capacity"] *= k
    groups["gain"] /= k
    return dataclasses.replace(data, arcs=arcs, groups=groups, total_resources=data.total_resources * k)


def _old_tolerance(data) -> float:
    """The rule before: a fixed flow scale of 1e6 and TR (not what can move) in the cost part."""
    g = data.groups["gain"].to_numpy(dtype=float)
    n = len(data.arcs) + 2 * len(data.groups) + 1
    spread = float(g.max()) - min(float(g.min()), 0.0)
    return n * spread * 0.5 / 1e6 + data.total_resources * 0.5 * float(abs(g).max()) / 1e12


@pytest.fixture(scope="module")
def day0():
    return load_slice("beijing", seed=1)


@pytest.mark.parametrize("k", [1e-9, 1e-6, 1.0, 1e3])
def test_networkx_is_scale_invariant(day0, k):
    """The integer problem follows the unit: networkx gives the slice's optimum at every scale,
    and its tolerance stays a small share of the objective (it was 1e13 times it at 1e-9)."""
    ref = solve_slice(day0)
    data = _rescaled(day0, k)
    nx_obj = cc.networkx_objective(data)
    assert nx_obj == pytest.approx(ref.objective, rel=1e-9)
    allowed = cc.networkx_allowed(data, nx_obj)
    assert allowed <= 1e-4 * cc.attainable_gain(data) + 1e-6 * abs(nx_obj)
    assert allowed <= 1e-4 * nx_obj
    if k == 1e-9:
        assert _old_tolerance(data) > 1e3 * nx_obj  # the old rule could flag nothing here


def test_bundled_slices_keep_their_networkx_scale(day0):
    """The flow scale stays 1e6 where it was fine: the bundled slice's numbers do not change."""
    assert cc.flow_scale(day0) == 1e6
    assert cc.networkx_tolerance(day0) <= _old_tolerance(day0)


def test_planted_disagreement_at_tiny_scale_is_flagged(day0, monkeypatch):
    """networkx made to disagree by 1e-3 (relative) on a slice in a unit 1e9 times too small:
    the slice is unverified and require_proven raises (exit 1)."""
    import resiliopt.logistics as lg

    data = _rescaled(day0, 1e-9)
    true = cc.networkx_objective(data)
    monkeypatch.setattr(lg, "networkx_objective", lambda d: true * (1 + 1e-3))
    res = lg.solve_slice(data)
    assert res.status == "unverified"
    assert any("networkx" in p for p in res.problems)
    with pytest.raises(SolveError):
        res.require_proven()
    # the same planted error was inside the old tolerance
    assert abs(true * 1e-3) < _old_tolerance(data)


def test_a_wrong_tiny_scale_answer_is_caught_by_networkx(day0):
    """At 1e-9 HiGHS's absolute tolerances let its answer drift (5 % on this slice) while both
    certificates pass; the scale-invariant cross-check sees it (measured in this repository)."""
    res = solve_slice(_rescaled(day0, 1e-9))
    if abs(res.objective / solve_slice(day0).objective - 1) > 1e-6:
        assert res.status == "unverified" and any("networkx" in p for p in res.problems)
    else:
        assert res.passed


def test_clipping_is_exact():
    """Capacities far above what can move give the same networkx optimum (clipped exactly)."""
    from resiliopt.formulations.slice_lp import SliceData

    data = SliceData.from_file("tests/data/slice_small.yaml")
    big = data.arcs.copy()
    big["capacity"] = big["capacity"] * 0 + 1e12
    a = cc.networkx_objective(dataclasses.replace(data, arcs=big))
    b = cc.networkx_objective(dataclasses.replace(data, arcs=big, total_resources=1e12))
    res = solve_slice(dataclasses.replace(data, arcs=big))
    assert a == pytest.approx(res.objective, rel=1e-12) and b >= a


# ------------------------------------------------------------------ the smallest amount at input
def _override(tmp_path, changes: dict, name: str = "o.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump({"kind": "override", "base": "beijing", **changes}))
    return f


def test_a_case_in_too_small_a_unit_is_refused(run_cli, tmp_path):
    f = _override(tmp_path, {"case": {"logistics": {"demand_per_thousand": 1e-9}}})
    for cmd in (("validate", f), ("slice", f)):
        code, out, err = run_cli(*cmd)
        assert code == 2, (out, err)
        first = err.strip().splitlines()[0]
        assert "logistics.demand_per_thousand" in first and f"smallest amount {MIN_SCALE:g}" in first
        assert "Traceback" not in err


def test_small_amounts_in_a_sound_unit_stay_allowed(run_cli, tmp_path):
    """A small city has a small TR (an imported one-house city: 6e-5 units a day), a closed
    entry 0: only the unit is bounded, not every amount."""
    f = _override(tmp_path, {"case": {"logistics": {"total_resources": 6.3e-5}}})
    code, out, _ = run_cli("slice", f, "--json")
    assert code == 0 and json.loads(out)["passed"]
    f = _override(tmp_path, {"case": {"logistics": {"total_resources": 0}}}, "z.yaml")
    code, out, _ = run_cli("slice", f, "--json")
    assert code == 0 and json.loads(out)["delivered"] == 0


def _slice_file(tmp_path, demands, tr=10.0):
    doc = {
        "kind": "slice",
        "total_resources": tr,
        "arcs": [{"from": "RR", "to": "a", "capacity": 5}],
        "groups": [{"id": f"g{k}", "node": "a", "capacity": d, "gain": 0.1} for k, d in enumerate(demands)],
    }
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc))
    return f


def test_a_slice_file_in_too_small_a_unit_is_refused(run_cli, tmp_path):
    code, _, err = run_cli("slice", _slice_file(tmp_path, [1e-9, 3e-9]))
    assert code == 2
    first = err.strip().splitlines()[0]
    assert "groups[1].capacity: 3e-09 is below the smallest amount 0.001 for the largest demand" in first


def test_a_slice_file_with_one_small_demand_is_fine(run_cli, tmp_path):
    code, out, _ = run_cli("slice", _slice_file(tmp_path, [2.0, 1e-6], tr=1e-5), "--json")
    assert code == 0 and json.loads(out)["passed"]
