"""The event-driven engine gives the same tables, bit for bit, as one slice after the other.

``run_scenario`` jumps from event to event; ``run_scenario_stepwise`` (the reference, the
loop the project shipped before) steps through every slice. They must agree exactly on every
column, on the scenario summary and on the final state, for daily and monthly slices, with
and without bridge repair, with reconstruction of collapses, and when stopped early.
"""

import shutil

import numpy as np
import pytest
import yaml

from resiliopt.case import bundled_data_dir, load_case
from resiliopt.simulation.engine import compiled_for, run_scenario, run_scenario_stepwise
from resiliopt.simulation.scenario import case_model


def _case(tmp_path, name, **recovery):
    dst = tmp_path / name
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    d = yaml.safe_load((dst / "case.yaml").read_text())
    d["recovery"].update(recovery)
    (dst / "case.yaml").write_text(yaml.safe_dump(d))
    return load_case(dst)


VARIANTS = {
    "daily": {},
    "monthly": {"slice_days": 30},
    "bridge_repair": {"bridge_repair_days": {"slight": 3, "moderate": 20, "severe": 75, "collapse": 200}},
    "monthly_bridge_repair": {"slice_days": 30, "bridge_repair_days": {"moderate": 45, "severe": 90}},
    "weekly_reconstruction": {"slice_days": 7, "collapse_days": 300, "bridge_repair_days": {"collapse": 10}},
}


def _same(a, b):
    ca, sa, xa = a
    cb, sb, xb = b
    for k in ca:
        np.testing.assert_array_equal(ca[k], cb[k], err_msg=k, strict=True)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert (sa[k] == sb[k]) or (np.isnan(sa[k]) and np.isnan(sb[k])), k
    np.testing.assert_array_equal(xa.work_left, xb.work_left, strict=True)
    np.testing.assert_array_equal(xa.unsafe, xb.unsafe, strict=True)
    np.testing.assert_array_equal(xa.bridge_state, xb.bridge_state, strict=True)
    assert xa.day == xb.day


@pytest.mark.parametrize("name", list(VARIANTS))
def test_event_engine_bit_identical(tmp_path, name):
    cm = case_model(_case(tmp_path, name, **VARIANTS[name]))
    lp = compiled_for(cm)
    for i in range(12):
        _same(run_scenario_stepwise(cm, 7, i, 365, lp), run_scenario(cm, 7, i, 365, lp))


def test_event_engine_variant_and_stop_day():
    """A retrofit variant (other groups), odd horizons and an early stop (slice --day)."""
    cm = case_model(load_case("beijing"), "buildings")
    lp = compiled_for(cm)
    for i, (days, stop) in enumerate([(365, None), (17, None), (365, 45), (100, 1), (3, None)]):
        _same(run_scenario_stepwise(cm, 3, i, days, lp, stop), run_scenario(cm, 3, i, days, lp, stop))
