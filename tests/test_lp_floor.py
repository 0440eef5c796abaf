"""The Monte Carlo at the LP floor (issue 20, section 2): the lean path changes no number.

``CompiledSlice.incremental`` (on by default) sends HiGHS only the bounds and costs that
changed, reads the objective without the info record, answers a reuse recheck on data equal
bit for bit to the certified data with that certificate's verdict, and the engine computes
reachability once per capacity change. Off, it is the path before issue 20. The two must
give the same tables, scenario rows and final states, bit for bit, on daily and monthly
slices, with bridge repair, with user rows (a closure that opens), with an extension (the
matrix certificate) and on the Helsinki case; and the recheck shortcut must answer only
where the data are equal.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from resiliopt.case import bundled_data_dir, load_case
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.montecarlo import load_case_model
from resiliopt.simulation.reuse import ReuseAudit
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario

DIR = "tests/data/constraints"
RECOVERY = {
    "daily": {},
    "monthly": {"slice_days": 30},
    "bridge_repair": {"bridge_repair_days": {"slight": 3, "moderate": 20, "severe": 75, "collapse": 200}},
    "weekly_reconstruction": {"slice_days": 7, "collapse_days": 300, "bridge_repair_days": {"collapse": 10}},
}


def _beijing(tmp_path, **recovery):
    dst = tmp_path / "case"
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    d = yaml.safe_load((dst / "case.yaml").read_text())
    d["recovery"].update(recovery)
    (dst / "case.yaml").write_text(yaml.safe_dump(d))
    return case_model(load_case(dst))


def _both_paths(cm, seed: int, scenarios, days: int = 365, share: float = 1.0):
    """Run each scenario on the lean and on the full path; assert every number is the same."""
    lean, full = compiled_for(cm), compiled_for(cm)
    full.incremental = False
    assert lean.incremental
    for i in scenarios:
        ca, sa, xa = run_scenario(cm, seed, i, days, lean, reuse_check=share)
        cb, sb, xb = run_scenario(cm, seed, i, days, full, reuse_check=share)
        for k in ca:
            np.testing.assert_array_equal(ca[k], cb[k], err_msg=f"scenario {i}: {k}", strict=True)
        assert sa.keys() == sb.keys()
        for k in sa:
            assert sa[k] == sb[k] or (np.isnan(sa[k]) and np.isnan(sb[k])), (i, k)
        np.testing.assert_array_equal(xa.work_left, xb.work_left, strict=True)
        np.testing.assert_array_equal(xa.unsafe, xb.unsafe, strict=True)
    assert lean.solves == full.solves > 0  # the same LPs, solved the same number of times
    return lean


@pytest.mark.parametrize("name", list(RECOVERY))
def test_lean_path_gives_the_same_tables(tmp_path, name):
    lean = _both_paths(_beijing(tmp_path, **RECOVERY[name]), 7, range(15))
    if name == "daily":  # the recheck shortcut is used (and changes nothing)
        assert lean.rechecks_reused > 100


def test_lean_path_with_user_rows_and_an_extension():
    """Closures (a day key), user rows (no recheck shortcut) and an extension (matrix certificate)."""
    cm = load_case_model("beijing", None, (f"{DIR}/overrides.yaml",))
    lean = _both_paths(cm, 4, range(3), days=60)
    assert lean.rechecks_reused == 0  # user rows: every recheck is computed
    cm = load_case_model("beijing", None, (f"{DIR}/overrides.yaml",), f"{DIR}/ext_business.py:business_cap")
    _both_paths(cm, 4, range(2), days=40, share=0.05)


def test_lean_path_on_helsinki():
    _both_paths(case_model(load_case("helsinki")), 2, range(8))


def test_recheck_shortcut_only_on_equal_data():
    """The verdict is reused for data equal bit for bit; any other data are checked in full,
    and a reused plan that is wrong for them fails."""
    cm = case_model(load_case("beijing"))
    lp = compiled_for(cm)
    st = RecoveryState(cm, sample_scenario(cm, 1, 0))
    cap, demand, gain, tr = st.arc_capacity(), st.demand(), st.gains(), st.total_resources()
    lp.reset()
    lp.update(cap, demand, gain, tr, st.day)
    _, _, y = lp.solve()
    verdict = lp.last_certificate
    assert verdict.passed
    same = lp.recheck(cap.copy(), demand.copy(), gain.copy(), tr)
    assert same is verdict and lp.rechecks_reused == 1
    # one delivered group needs a little less: the plan over-delivers to it, checked in full
    j = int(np.argmax(y))
    less = demand.copy()
    less[j] = 0.5 * y[j]
    other = lp.recheck(cap, less, gain, tr)
    assert other is not verdict and lp.rechecks_reused == 1 and not other.passed
    # equal demands but another TR or gain: checked in full too
    assert lp.recheck(cap, demand, gain, tr * 0.5) is not verdict
    gain2 = gain.copy()
    gain2[j] = np.nextafter(gain2[j], 1.0)
    assert lp.recheck(cap, demand, gain2, tr) is not verdict
    assert lp.rechecks_reused == 1
    # the array the LP was updated with, refilled in place: compared against a copy, so checked
    gain *= 2.0
    assert lp.recheck(cap, demand, gain, tr) is not verdict and lp.rechecks_reused == 1
    # a reset forgets the verdict
    lp.reset()
    assert lp.recheck(cap, demand, gain, tr) is None


def test_audit_counts_are_those_of_the_full_path(monkeypatch):
    """The audit runs the same checks on both paths (the shortcut answers some of them)."""
    cm = case_model(load_case("beijing"))
    counts = []
    real = ReuseAudit.__init__
    for incremental in (True, False):
        lp = compiled_for(cm)
        lp.incremental = incremental
        audits = []

        def keep(self, *a, _audits=audits, **k):
            real(self, *a, **k)
            _audits.append(self)

        monkeypatch.setattr(ReuseAudit, "__init__", keep)
        for i in range(4):
            run_scenario(cm, 1, i, 365, lp, reuse_check=0.3)
        monkeypatch.undo()
        counts.append([(a.checks, a.unchecked) for a in audits])
    assert counts[0] == counts[1] and all(c > 0 for c, _ in counts[0])


def test_arrays_refilled_in_place_are_sent_again():
    """A caller that refills its demand and gain arrays between slices: the lean path compares
    against copies, so HiGHS gets the new values (same optimum as a fresh LP)."""
    cm = case_model(load_case("beijing"))
    st = RecoveryState(cm, sample_scenario(cm, 1, 2))
    cap, demand, gain, tr = st.arc_capacity(), st.demand(), st.gains(), st.total_resources()
    lp = compiled_for(cm)
    lp.update(cap, demand, gain, tr)
    lp.solve()
    demand *= 0.5
    gain[::2] *= 3.0
    lp.update(cap, demand, gain, tr)
    obj, _, y = lp.solve()
    fresh = compiled_for(cm)
    fresh.update(cap, demand, gain, tr)
    obj2, _, _ = fresh.solve()
    assert lp.last_certificate.passed and np.all(y <= demand + 1e-9)
    assert abs(obj - obj2) <= 1e-9 * (1 + abs(obj2))
