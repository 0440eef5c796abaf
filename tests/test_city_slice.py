"""The network route of the slice LP (resiliopt.formulations.slice_network) against HiGHS.

Known optima by hand, the bundled cases and slice files against the HiGHS path, a hypothesis
property (equal objectives and both certificates on random small networks), and the Monte
Carlo's NetworkSlice against CompiledSlice.
"""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resiliopt.case import load_case
from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.formulations.slice_network import MAX_LEVELS, NETWORK_MIN_ARCS, NetworkSlice, compiled_slice
from resiliopt.logistics import load_slice, solve_slice
from resiliopt.simulation.engine import run_scenario
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario


def _slice(arcs, groups, tr) -> SliceData:
    a = pd.DataFrame(arcs, columns=["from", "to", "capacity"])
    a.insert(0, "arc", [f"a{k}" for k in range(len(a))])
    a["label"] = a["arc"]
    g = pd.DataFrame(groups, columns=["node", "capacity", "gain"])
    g.insert(0, "group", [f"g{k}" for k in range(len(g))])
    return SliceData(a, g, float(tr))


def _both(data: SliceData):
    net, ref = solve_slice(data, method="network"), solve_slice(data, method="simplex")
    assert ref.status == "optimal"
    assert net.status == "optimal", net.problems
    assert net.solution.solver == "network"  # not handed over to HiGHS
    assert net.certificate.passed and net.input_certificate.passed
    assert net.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-15)
    return net, ref


def test_known_optimum_high_gain_first_through_a_bottleneck():
    # one arc of capacity 1 to v; a low-gain group sits before a high-gain one in the input
    d = _slice([("RR", "v", 1.0)], [("v", 1.0, 1.0), ("v", 1.0, 3.0)], 10)
    net, _ = _both(d)
    assert net.objective == pytest.approx(3.0)
    assert net.deliveries["delivered"].tolist() == [0.0, 1.0]
    du = net.duals.set_index(["constraint", "index"])["value"]
    assert du["arc_capacity", "a0"] == pytest.approx(1.0)  # one more unit reaches the gain-1 group
    assert du["group_demand", "g1"] == pytest.approx(2.0)  # one more unit of g1's demand: 3 - 1


def test_known_optimum_tr_binds_and_prices_it():
    # two disjoint routes; TR = 2 of 3 demanded: the gain-5 group first, then 1 unit at gain 2
    d = _slice(
        [("RR", "a", 5.0), ("RR", "b", 5.0), ("a", "c", 5.0)],
        [("c", 1.0, 5.0), ("b", 2.0, 2.0)],
        2,
    )
    net, _ = _both(d)
    assert net.objective == pytest.approx(7.0)
    tr = net.duals[net.duals["constraint"] == "total_resources"]["value"].iloc[0]
    assert tr == pytest.approx(2.0)  # the marginal unit of TR goes to the gain-2 group


def test_known_optimum_rerouting_needs_a_backward_arc():
    # the tree may send w's unit RR->a->t->w; u then needs RR->a, reached only by the path
    # RR->b->t, back along a->t (undoing it), a->u: 2 (w) + 1 (u or t) = 3
    d = _slice(
        [
            ("RR", "a", 1.0),
            ("RR", "b", 1.0),
            ("a", "t", 1.0),
            ("b", "t", 1.0),
            ("a", "u", 1.0),
            ("t", "w", 1.0),
        ],
        [("w", 1.0, 2.0), ("u", 1.0, 1.0), ("t", 1.0, 1.0)],
        10,
    )
    net, _ = _both(d)
    assert net.objective == pytest.approx(3.0)
    assert net.deliveries["delivered"].iloc[0] == pytest.approx(1.0)


def test_unreachable_zero_gain_and_sink_arcs():
    d = _slice(
        [("RR", "a", 2.0), ("a", "RS", 5.0), ("a", "b", 0.0), ("b", "c", 3.0), ("RR", "a", 1.0)],
        [("a", 1.0, 0.0), ("b", 1.0, 4.0), ("a", 1.0, -1.0), ("c", 0.5, 2.0), ("a", 0.5, 1e-6)],
        3,
    )
    net, _ = _both(d)
    assert net.objective == pytest.approx(0.5e-6)
    assert net.flows.loc[net.flows["to"] == "RS", "flow"].sum() == 0.0


@pytest.mark.parametrize("path", ["beijing", "helsinki"])
def test_bundled_cases_same_optimum(path):
    for day in (0, 30):
        _both(load_slice(path, seed=1, day=day))


def test_slice_files_same_optimum(data_dir):
    for f in ("slice_small.yaml", "slice_tr_binds.yaml"):
        _both(SliceData.from_file(data_dir / f))


def _round(v: float) -> float:
    return round(v, 5)  # data to 1e-5 (tiny numbers: tests/test_tiny_numbers.py covers those)


@st.composite
def networks(draw):
    n = draw(st.integers(2, 7))
    nodes = [f"n{i}" for i in range(n)]
    ends = st.sampled_from(["RR", *nodes])
    heads = st.sampled_from([*nodes, "RS"])
    caps = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 10.0]) | st.floats(0, 5).map(_round)
    arcs = draw(st.lists(st.tuples(ends, heads, caps), min_size=1, max_size=16))
    arcs = [(u, v, c) for u, v, c in arcs if not (u == "RR" and v == "RS")] or [("RR", nodes[0], 1.0)]
    gains = st.sampled_from([0.0, 1e-5, 2e-5, 3e-4, 1.0, -0.5]) | st.floats(-1, 2).map(_round)
    dem = st.sampled_from([0.0, 0.25, 1.0, 4.0]) | st.floats(0, 3).map(_round)
    groups = draw(st.lists(st.tuples(st.sampled_from(nodes), dem, gains), min_size=1, max_size=10))
    tr = draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 100.0]) | st.floats(0, 10).map(_round))
    return _slice(arcs, groups, tr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_property_same_objective_and_both_certificates(data):
    _both(data)


def test_auto_uses_the_network_route_only_for_large_slices():
    d = load_slice("beijing", seed=1)
    assert len(d.arcs) < NETWORK_MIN_ARCS
    assert solve_slice(d).solution.solver == "highs"
    assert isinstance(compiled_slice(d), CompiledSlice) and not isinstance(compiled_slice(d), NetworkSlice)


class _Twin(NetworkSlice):
    """The network route, with HiGHS (CompiledSlice) solving every same slice beside it."""

    def __init__(self, data):
        super().__init__(data)
        self.ref = CompiledSlice(data)
        self.compared = 0

    def reset(self):
        super().reset()
        self.ref.reset()

    def update(self, capacity, demand, gain, total_resources, day=0):
        super().update(capacity, demand, gain, total_resources, day)
        self.ref.update(capacity, demand, gain, total_resources, day)

    def solve(self):
        obj, x, y = super().solve()
        ref, _, _ = self.ref.solve()
        assert obj == pytest.approx(ref, rel=1e-9, abs=1e-14)
        self.compared += 1
        return obj, x, y


@pytest.mark.parametrize("case", ["beijing", "helsinki"])
def test_monte_carlo_network_slice_same_optimum_every_slice(case):
    # where equal gains tie, the route may pick another optimal plan than HiGHS's vertex, and
    # the recoveries then part (docs/solvers.md): every slice's optimum is the same
    cm = case_model(load_case(case))
    net = _Twin(RecoveryState(cm, sample_scenario(cm, 0, 0)).slice_data(only_active=False))
    for i in range(3):
        run_scenario(cm, 3, i, 120, net)
    assert net.compared == net.network_solves == net.solves > 0  # every slice on the route
    assert net.last_certificate is not None and net.last_certificate.passed


def test_too_many_distinct_gains_go_to_highs():
    k = MAX_LEVELS + 1
    d = _slice([("RR", "v", 1.0)], [("v", 0.01, 1.0 + i) for i in range(k)], 10)
    res, ref = solve_slice(d, method="network"), solve_slice(d, method="simplex")
    assert res.solution.solver == "highs" and res.passed
    assert res.objective == pytest.approx(ref.objective, rel=1e-12)
