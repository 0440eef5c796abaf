"""The mutation test's harness (benchmarks/mutation.py) works: every planted bug applies to the code
as it is, a killed mutant is reported killed, an equivalent one equivalent."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation", BENCH / "mutation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation", mod)
    spec.loader.exec_module(mod)
    return mod


def test_every_mutant_applies_once_and_names_real_tests(mutation):
    """A refactor that moves a snippet must move its mutant too: each snippet occurs exactly once,
    and each test named exists."""
    names = [m.name for m in mutation.MUTANTS]
    assert len(names) == len(set(names)) and 20 <= len(names) <= 30
    root = mutation.ROOT
    for m in mutation.MUTANTS:
        assert mutation.check_applies(m) is None, (m.name, mutation.check_applies(m))
        assert m.run is None or m.run in mutation.RUNS, m.name
        for t in m.tests:
            path, _, node = t.partition("::")
            assert (root / path).is_file(), (m.name, t)
            assert not node or f"def {node.split('[')[0]}(" in (root / path).read_text(), (m.name, t)


def test_verdict_helpers(mutation):
    assert mutation.failed_checks({"status": "optimal", "certificate": {"passed": True}}) == []
    assert mutation.failed_checks({"status": "unverified"}) == ["status unverified"]
    bad = {"checks": [{"check": "costs", "ok": False}, {"check": "once", "ok": True}]}
    assert mutation.failed_checks(bad) == ["checks[costs].ok"]
    assert mutation.same({"a": [1.0, "x"]}, {"a": [1.0 + 1e-12, "x"]})
    assert not mutation.same({"a": [1.0]}, {"a": [1.0 + 1e-6]})
    assert not mutation.same({"a": 1}, {"b": 1})


def test_one_killed_and_one_equivalent_mutant(mutation):
    """Two cheap mutants end to end (a copy each, the tests and the command in it): the triad
    index reading R_ik for R_ki fails a test and changes the printed diagnostics, which no
    check looks at (a silent wrong answer); drawing with u <= p instead of u < p changes
    nothing (equivalent)."""
    by_name = {m.name: m for m in mutation.MUTANTS}
    killed = dataclasses.replace(
        by_name["fahp-triad-index"],
        tests=("tests/test_fahp_matrix.py::test_consistent_input_has_zero_diagnostics",),
    )
    same = dataclasses.replace(
        by_name["damage-draw-le"],
        tests=("tests/test_infra_damage.py::test_the_draw_is_the_documented_stream",),
    )
    files = mutation.tracked_files()
    base = mutation.baseline_runs({killed.run, same.run}, files, jobs=2)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        a, b = ex.map(lambda m: mutation.evaluate(m, base, files), [killed, same])
    assert a.killed and a.killed_by.endswith("test_consistent_input_has_zero_diagnostics")
    assert a.caught == "silent" and a.changed.startswith("yes") and not a.equivalent
    assert not b.killed and b.changed == "no" and b.caught == "-" and b.equivalent
    rt = mutation.rates([a, b])
    assert rt["equivalent"] == ["damage-draw-le"] and rt["killed_by_tests"] == rt["tests_counted"] == 1
    assert rt["wrong_answers"] == 1 and rt["silent_wrong_answers"] == ["fahp-triad-index"]
    assert "fahp-triad-index" in mutation.table([a, b])
