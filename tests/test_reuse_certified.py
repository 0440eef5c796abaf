"""The Monte Carlo certifies the optima it reuses (resiliopt/simulation/reuse.py).

A wrong reuse rule used to give wrong tables that every check passed. Planted here, one at a
time: the event rule compares capacities only; the event logic forgets the bridge repair
days. Each must fail the run with an error naming the scenario and the day. And the checks
change nothing: the tables are bit-identical with them off, sampled, or on every slice.
"""

from __future__ import annotations

import numpy as np
import pytest

from resiliopt.case import load_case
from resiliopt.errors import SolveError
from resiliopt.simulation import engine, reuse
from resiliopt.simulation.engine import compiled_for, run_scenario, run_scenario_stepwise
from resiliopt.simulation.scenario import case_model

SCENARIOS = range(6)


def capacities_only(last, demand, cap, gain, key) -> bool:
    """A wrong reuse rule: the slice's data are "the same" when its capacities are."""
    return np.array_equal(cap, last[1])


@pytest.fixture(scope="module")
def model():
    cm = case_model(load_case("beijing"))
    return cm, compiled_for(cm)


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in a)


def test_tables_do_not_depend_on_the_checks(model):
    cm, lp = model
    for i in SCENARIOS:
        ref = run_scenario(cm, 1, i, 365, lp, reuse_check=None)[0]
        for share in (0.0, reuse.REUSE_SAMPLE, 1.0):
            assert _same(run_scenario(cm, 1, i, 365, lp, reuse_check=share)[0], ref), (i, share)
        assert _same(run_scenario_stepwise(cm, 1, i, 365, lp, reuse_check=1.0)[0], ref)


def test_share_one_certifies_every_reused_slice(model, monkeypatch):
    """With share 1 every slice with demand is either solved by HiGHS or certified."""
    cm, lp = model
    audits = []
    real = reuse.ReuseAudit.__init__

    def keep(self, *a, **k):
        real(self, *a, **k)
        audits.append(self)

    monkeypatch.setattr(reuse.ReuseAudit, "__init__", keep)
    for i in SCENARIOS:
        lp.solves = 0
        cols = run_scenario(cm, 1, i, 365, lp, reuse_check=1.0)[0]
        with_demand = int((cols["demand"] > 0).sum())
        assert audits[-1].checks + lp.solves == with_demand, i
        assert audits[-1].checks > 100 and audits[-1].unchecked == 0


def test_the_sample_is_seeded(model, monkeypatch):
    """The same scenario checks the same slices; another seed draws others."""
    cm, lp = model
    days: list[list[int]] = []
    real = reuse.ReuseAudit._certify

    def record(self, cap, demand, gain, day, solved_day):
        days[-1].append(day)
        return real(self, cap, demand, gain, day, solved_day)

    monkeypatch.setattr(reuse.ReuseAudit, "_certify", record)
    for seed in (1, 1, 2):
        days.append([])
        run_scenario(cm, seed, 3, 365, lp, reuse_check=0.2)
    assert days[0] == days[1] and days[0]
    assert days[0] != days[2]


def _planted_fails(cm, lp, i: int) -> str | None:
    """Run scenario i with the check on; the error message, or None when it passes."""
    try:
        run_scenario(cm, 1, i, 365, lp)
    except SolveError as exc:
        return str(exc)
    return None


def test_a_wrong_event_rule_fails_the_run(model, monkeypatch):
    """The rule compares capacities only: an event where a group finished reuses the plan that
    still delivers to it. Unchecked, the tables are wrong; checked, the run fails loudly."""
    cm, lp = model
    right = {i: run_scenario(cm, 1, i, 365, lp, reuse_check=None)[0] for i in SCENARIOS}
    monkeypatch.setattr(engine, "_same_data", capacities_only)
    unchecked = {i: run_scenario(cm, 1, i, 365, lp, reuse_check=None)[0] for i in SCENARIOS}
    wrong = [i for i in SCENARIOS if not _same(unchecked[i], right[i])]
    assert wrong  # the planted rule gives wrong tables ...
    for i in wrong:  # ... and every such run fails, naming scenario and day
        msg = _planted_fails(cm, lp, i)
        assert msg is not None and msg.startswith(f"scenario {i}, day ") and "reused" in msg, msg


def test_a_jump_past_a_bridge_repair_fails_the_run(model, monkeypatch):
    """The event logic forgets the bridge repair days (a jump runs past them and the bridges
    stay shut): the last slice of the jump sees the bridge open and the old plan fail."""
    cm, lp = model
    right = {i: run_scenario(cm, 1, i, 365, lp, reuse_check=None)[0] for i in SCENARIOS}
    monkeypatch.setattr(engine, "_bridge_due", lambda cm, state: np.full(len(state), np.inf))
    caught = 0
    for i in SCENARIOS:
        bad = run_scenario(cm, 1, i, 365, lp, reuse_check=None)[0]
        msg = _planted_fails(cm, lp, i)
        if msg is not None:
            caught += 1
            assert msg.startswith(f"scenario {i}, day "), msg
        else:  # passed: then the wrong rule happened to give the right F_C curve
            np.testing.assert_allclose(bad["fc"], right[i]["fc"], rtol=0, atol=1e-12)
    assert caught


def test_simulate_exits_1_naming_scenario_and_day(run_cli, monkeypatch, tmp_path):
    monkeypatch.setattr(engine, "_same_data", capacities_only)
    code, out, err = run_cli(
        "simulate", "beijing", "--scenarios", "3", "--days", "120", "--workers", "1", "--out", tmp_path / "r"
    )
    assert code == 1
    assert "scenario " in err and ", day " in err and "fails the input certificate" in err
    assert "Traceback" not in err
