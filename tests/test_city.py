"""City-size networks: the numpy-built LP equals the Pyomo one; GraphML import and its rules."""

import networkx as nx
import numpy as np
import pytest
import yaml

from resiliopt.case import bundled_data_dir, load_case
from resiliopt.formulations.slice_compiled import slice_matrix
from resiliopt.formulations.slice_lp import SliceData, build_slice_model
from resiliopt.logistics import solve_slice
from resiliopt.roads.graphml import case_from_graph, case_from_graphml
from resiliopt.simulation.engine import compiled_for, run_scenario, run_scenario_stepwise
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario
from resiliopt.solvers.matrix import to_matrix

EXAMPLE = bundled_data_dir() / "roads" / "example.graphml"


def _same_matrix(d: SliceData):
    a, b = to_matrix(build_slice_model(d)), slice_matrix(d)
    for x, y in zip(a.csc(), b.csc(), strict=True):
        np.testing.assert_array_equal(x, y, strict=True)
    for f in ("c", "row_lb", "row_ub", "col_lb", "col_ub"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f, strict=True)
    assert (a.sense, a.c0) == (b.sense, b.c0)
    assert a.col_component == b.col_component and a.row_component == b.row_component
    assert list(a.col_index) == list(b.col_index) and list(a.row_index) == list(b.row_index)


@pytest.fixture(scope="module")
def example_case(tmp_path_factory):
    return load_case(case_from_graphml(EXAMPLE, tmp_path_factory.mktemp("roads") / "example"))


def test_numpy_matrix_equals_pyomo(data_dir, example_case):
    for variant in (None, "buildings"):
        cm = case_model(load_case("beijing"), variant)
        _same_matrix(RecoveryState(cm, sample_scenario(cm, 0, 3)).slice_data(only_active=False))
    for f in sorted(data_dir.glob("slice_*.yaml")):
        _same_matrix(SliceData.from_file(f))
    cm = case_model(example_case)
    _same_matrix(RecoveryState(cm, sample_scenario(cm, 1, 0)).slice_data(only_active=True))


def test_example_graph_imports_solves_and_simulates(example_case):
    net = example_case.network
    g = nx.read_graphml(EXAMPLE)
    assert len(net.nodes) == g.number_of_nodes()
    assert len(net.links) == g.number_of_edges() - 1  # the parallel street merges into one corridor
    assert example_case.bridges.bridges and not any(link.two_way for link in net.links)
    res = solve_slice(RecoveryState(cm := case_model(example_case), sample_scenario(cm, 2, 0)).slice_data())
    assert res.status == "optimal" and res.certificate.passed
    assert res.networkx_objective == pytest.approx(res.objective, rel=1e-9, abs=1e-12)
    lp = compiled_for(cm)
    for i in range(3):
        a, b = run_scenario_stepwise(cm, 2, i, 60, lp), run_scenario(cm, 2, i, 60, lp)
        for k in a[0]:
            np.testing.assert_array_equal(a[0][k], b[0][k])


def test_capacity_direction_and_bridge_rules(tmp_path):
    g = nx.MultiDiGraph()
    for n, (x, y) in {"a": (0, 0), "b": (1, 0), "c": (2, 0), "d": (9, 9)}.items():
        g.add_node(n, x=x, y=y)
    g.add_edge("a", "b", lanes="['3', '2']")  # a list: the smallest (the bottleneck)
    g.add_edge("a", "b", lanes="1")  # parallel: capacities add
    g.add_edge("b", "c", capacity=7.5, lanes="4", bridge="yes")  # capacity wins; bridge at c
    g.add_edge("c", "d", bridge="no")  # no lanes: one lane; not a bridge
    g.add_edge("d", "d")  # self-loop: dropped
    case = load_case(case_from_graph(g, tmp_path / "c", per_lane=10.0, entry_share=0.25))
    net = yaml.safe_load((tmp_path / "c" / "network.yaml").read_text())
    assert (net["nodes"], net["links"]) == ("nodes.csv", "links.csv")  # written as CSV tables
    assert set(case.table_files) == {"nodes.csv", "links.csv"}
    caps = {(link.from_, link.to): link.capacity for link in case.network.links}
    assert caps == {("a", "b"): 30.0, ("b", "c"): 7.5, ("c", "d"): 10.0}
    assert [b.node for b in case.bridges.bridges] == ["c"]
    assert case.network.entry.nodes == ["d"]  # farthest from the centroid
    und = load_case(case_from_graph(nx.Graph(nx.path_graph(3)), tmp_path / "u"))
    assert all(link.two_way for link in und.network.links)


def test_bad_graphml_is_refused(tmp_path):
    from resiliopt.errors import InputError

    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node id='a'/>")
    with pytest.raises(InputError, match="GraphML"):
        case_from_graphml(bad, tmp_path / "out")
    g = nx.DiGraph()
    g.add_edge("a", "b", capacity="lots")
    with pytest.raises(InputError, match="capacity"):
        case_from_graph(g, tmp_path / "out2")
