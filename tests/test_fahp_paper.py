"""The paper's data: Appendix A counts and names, Table 4 reproduction, Table 5 arithmetic."""

import numpy as np
import pytest

from resiliopt.case import bundled_data_dir
from resiliopt.fahp import assess, load_case, load_tree, table4_reproduction, table5_check

CUPS = bundled_data_dir() / "cups"


@pytest.fixture(scope="module")
def tree():
    return load_tree(CUPS / "indicators.yaml")


@pytest.fixture(scope="module")
def sites(tree):
    return {k: assess(tree, load_case(CUPS / f"{k}.yaml")) for k in ("sz", "gz")}


def test_counts_per_level(tree):
    assert tree.counts() == [1, 3, 8, 23, 71, 182]
    assert sorted(tree.leaves["number"].astype(int)) == list(range(1, 183))


@pytest.mark.parametrize(
    "number, name, path",
    [
        (1, "Connection", ["Robustness", "Redundancy", "Functional facilities", "Floors"]),
        (36, "Police equipment", ["Robustness", "Redundancy", "People", "Policeman"]),
        (92, "Instructions", ["Robustness", "Maintaining Key Functions", "Transfer", "Facilities"]),
        (
            128,
            "Decisive role for other urban functions",
            ["Rapid Recovery", "Connection recovery", "External connections", "Social influence"],
        ),
        (
            182,
            "Resource availability",
            ["Resourcefulness", "Resourcefulness(Post-event)", "New resources", "Recovery resources"],
        ),
    ],
)
def test_names_and_numbers_as_printed(tree, number, name, path):
    lid = tree.number_to_id()[number]
    assert tree.row(lid)["name"] == name
    names = [tree.row(x)["name"] for x in reversed(tree.ancestors(lid))][1:]
    assert names == path


# Table 4 as printed: (average, weight, value) of the level-5 rows
TABLE4 = {
    "sz": {
        "1.1.2.1": (-82.50, 0.35, -28.4),
        "1.1.2.2": (82.50, 0.25, 20.86),
        "1.1.2.3": (81.67, 0.40, 32.85),
    },
    "gz": {
        "1.1.2.1": (-77.50, 0.39, -29.91),
        "1.1.2.2": (62.50, 0.30, 18.49),
        "1.1.2.3": (63.33, 0.32, 20.16),
    },
}


@pytest.mark.parametrize("site", ["sz", "gz"])
def test_table4_averages_exact(sites, site):
    t = sites[site].table.set_index("id")
    for lid, (avg, _w, _v) in TABLE4[site].items():
        assert t.at[lid, "score"] == pytest.approx(avg, abs=0.005)  # printed to 2 decimals


@pytest.mark.parametrize("site", ["sz", "gz"])
def test_table4_values_within_rounding_bound(sites, site):
    """V = w S with w printed to 2 decimals: |V_ours - V_paper| <= 0.005 |S| + 0.005."""
    t = sites[site].table.set_index("id")
    for lid, (avg, w, v) in TABLE4[site].items():
        if site == "sz" and lid == "1.1.2.1":
            v = 25.24 - 20.86 - 32.85  # printed -28.4 is inconsistent with the printed sum
            assert v == pytest.approx(-28.47)
        ours = t.at[lid, "value"]
        assert ours == pytest.approx(w * t.at[lid, "score"])
        assert abs(ours - v) <= 0.005 * abs(avg) + 0.005 + 1e-9
        # the implied weight of the printed numbers rounds to the printed weight
        assert abs(v / avg - w) <= 0.005 + 1e-4


def test_table4_printed_passenger_value_is_the_outlier(sites):
    rep = table4_reproduction(sites["sz"]).set_index("id")
    assert not rep.at["1.1.2.1", "within_bound"]
    assert rep.at["1.1.2.1", "value_residual"] == pytest.approx(-0.475)
    assert rep.at["1.1.2", "printed_children_sum"] == pytest.approx(25.31)


@pytest.mark.parametrize("site", ["sz", "gz"])
def test_table4_upper_rows_within_bound(sites, site):
    rep = table4_reproduction(sites[site]).set_index("id")
    for lid in ("1.1.2", "1.1", "1"):
        assert rep.at[lid, "within_bound"], lid
    # sums of the printed level-5 values equal the printed sum row (print rounding)
    if site == "gz":
        assert rep.at["1.1.2", "printed_children_sum"] == pytest.approx(8.74, abs=0.015)


def test_gz_rounded_weights_do_not_sum_to_one(sites):
    # why the cases need weight_tolerance: the paper's rounded GZ weights sum to 1.01
    g = sites["gz"].model.groups["1.1.2"]
    assert g.weights.sum() == pytest.approx(1.01)


def test_table5_differences(sites):
    t5 = table5_check(sites["sz"], sites["gz"])
    assert len(t5) == 31
    assert (t5["residual"].abs() <= 0.0101).sum() == 30  # print rounding only
    worst = t5.loc[t5["residual"].abs().idxmax()]
    assert worst["name"] == "Disaster prevention/mitigation planning"  # GZ printed as 20.6
    assert np.isclose(worst["residual"], 0.07)


def test_policeman_difference_close_to_table5(tree, sites):
    from resiliopt.fahp import compare

    d = compare(sites["sz"], sites["gz"]).set_index("id")
    # with the rounded weights 0.40/0.32 the Policeman difference is 12.40 (paper 12.69)
    assert list(d.index) == ["1.1.2.3"]
    assert d.at["1.1.2.3", "difference"] == pytest.approx(12.40)
    assert abs(d.at["1.1.2.3", "difference"] - 12.69) <= 0.005 * (81.67 + 63.33) + 0.01
