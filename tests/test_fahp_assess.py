"""Bottom-up values, illustrative complete sites, sensitivity, and the CLI end to end."""

import json

import numpy as np
import pytest

from resiliopt.case import bundled_data_dir
from resiliopt.cli import main
from resiliopt.fahp import assess, compile_case, load_case, load_tree
from resiliopt.fahp.assess import bottom_up
from resiliopt.fahp.sensitivity import monte_carlo, one_at_a_time, reversal_probability

CUPS = bundled_data_dir() / "cups"


@pytest.fixture(scope="module")
def tree():
    return load_tree(CUPS / "indicators.yaml")


@pytest.fixture(scope="module")
def A(tree):
    return assess(tree, load_case(CUPS / "illustrative_a.yaml"))


@pytest.fixture(scope="module")
def B(tree):
    return assess(tree, load_case(CUPS / "illustrative_b.yaml"))


def test_illustrative_is_complete_and_labelled(A):
    case = A.model.case
    assert case.provenance == "illustrative"
    assert len(case.scores) == 182
    assert sum(g.source == "fahp" for g in A.model.groups.values()) == 1 + 3 + 8 + 23
    assert all(len(g.fahp.experts) >= 2 for g in A.model.groups.values() if g.source == "fahp")


def test_system_value_is_global_weighted_sum_of_scores(A):
    t = A.table
    leaves = t[t["level"] == 6]
    assert A.system_value == pytest.approx((leaves["global_weight"] * leaves["score"]).sum())
    assert leaves["global_weight"].sum() == pytest.approx(1)
    assert -100 <= A.system_value <= 100


def test_equation_4_level_by_level(A):
    t = A.table.set_index("id")
    for pid, g in A.model.groups.items():
        s = sum(t.at[c, "value"] for c in g.children)
        assert t.at[pid, "score"] == pytest.approx(s)
        for c in g.children:
            assert t.at[c, "value"] == pytest.approx(t.at[c, "weight"] * t.at[c, "score"])
    assert t.at["root", "score"] == pytest.approx(sum(t.at[c, "value"] for c in ("1", "2", "3")))


def test_extreme_scores_give_extreme_system(tree):
    case = load_case(CUPS / "illustrative_a.yaml")
    allneg = case.model_copy(update={"scores": {k: -100.0 for k in case.scores}})
    assert assess(tree, allneg).system_value == pytest.approx(-100)


def test_monte_carlo_zero_delta_is_nominal(A):
    mc = monte_carlo(A, samples=50, delta=0.0)
    np.testing.assert_allclose(mc.samples, A.system_value)


def test_monte_carlo_spread_grows_with_delta(A):
    s1 = monte_carlo(A, samples=2000, delta=0.05, seed=1).samples.std()
    s2 = monte_carlo(A, samples=2000, delta=0.2, seed=1).samples.std()
    assert 0 < s1 < s2


def test_monte_carlo_matches_full_recompute(A):
    """Sample weights through the closed form == analyse() on the perturbed matrices."""
    from resiliopt.fahp import analyse
    from resiliopt.fahp.sensitivity import perturb_matrices

    g = A.model.groups["1.1"]
    rng = np.random.default_rng(3)
    P = perturb_matrices(g.matrices, 3, 0.1, "0.1-0.9", rng)
    for s in range(3):
        res = analyse(g.fahp.criteria, [m.tolist() for m in P[s]])
        w = np.mean([np.asarray(x.weights) for x in res.experts], axis=0)
        np.testing.assert_allclose(res.weights, w, atol=1e-12)


def test_reversal_probability(A, B):
    from resiliopt.fahp.sensitivity import MonteCarlo

    a = MonteCarlo("a", 1.0, np.array([1.0, 2.0, -1.0, 3.0]), 0.1, 1, 0)
    b = MonteCarlo("b", 0.0, np.zeros(4), 0.1, 1, 0)
    assert reversal_probability(a, b) == 0.25
    p = reversal_probability(monte_carlo(A, 500, seed=1), monte_carlo(B, 500, seed=2))
    assert 0 <= p <= 1


def test_one_at_a_time_matches_recompute(A):
    oat = one_at_a_time(A, 0.1).set_index("id")
    model = A.model
    for cid in ["2.3", "1.1.2.3", "3.1.1"]:
        pid = oat.at[cid, "parent"]
        g = model.groups[pid]
        k = g.children.index(cid)
        w = g.weights.copy()
        d = min(0.1, 1 - w[k])
        rest = (1 - w[k] - d) / (1 - w[k])
        w2 = w * rest
        w2[k] = w[k] + d
        assert w2.sum() == pytest.approx(1)
        assert bottom_up(model, {pid: w2})[0] == pytest.approx(oat.at[cid, "high"])


def test_scope_assessment(tree):
    m = compile_case(tree, load_case(CUPS / "sz.yaml"))
    assert m.scope == "1.1.2" and len(m.ids) == 1 + 3 + 9


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def test_cli_fahp_json(capsys):
    code, cap = run(capsys, "fahp", "cups/matrix_experts.yaml", "--json")
    assert code == 0
    d = json.loads(cap.out)
    assert set(d) >= {"weights", "consistent_matrix", "diagnostics", "experts", "disagreement"}
    assert sum(d["weights"].values()) == pytest.approx(1)
    # r = (1.7667, 1.1667, 1.5667) for the mean matrix: w = (r + 0.5) / 6
    assert d["weights"]["Robustness"] == pytest.approx((0.5 + 0.7 + 0.5667 + 0.5) / 6, abs=1e-4)


def test_cli_fahp_human(capsys):
    code, cap = run(capsys, "fahp", "matrix_people")
    assert code == 0 and "consistent matrix" in cap.out and "compatibility index" in cap.out


def test_cli_assess_out_and_compare(tmp_path, capsys):
    out = tmp_path / "report"
    code, cap = run(
        capsys,
        "assess",
        "indicators",
        "illustrative_a",
        "--compare",
        "illustrative_b",
        "--out",
        out,
        "--json",
    )
    assert code == 0, cap.err
    d = json.loads(cap.out)
    assert len(d["indicators"]) == 1 + 3 + 8 + 23 + 71 + 182
    assert all(abs(r["difference"]) >= 3 for r in d["differences"])
    names = {p.name for p in out.iterdir()}
    assert {
        "indicators.csv",
        "compare.csv",
        "diagnostics.csv",
        "summary.json",
        "level2.png",
        "level5.svg",
    } <= names
    assert not list(tmp_path.glob(".report*"))  # no temporary left behind


def test_cli_assess_paper_case(capsys):
    code, cap = run(
        capsys, "assess", "cups/indicators.yaml", "cups/sz.yaml", "--compare", "cups/gz.yaml", "--json"
    )
    assert code == 0
    d = json.loads(cap.out)
    assert d["system_value"] is None and d["published_system_value"] == 65.38
    assert len(d["table4_reproduction"]) == 7 and len(d["table5_check"]) == 31


def test_cli_assess_failure_leaves_no_output(tmp_path, capsys):
    out = tmp_path / "r"
    code, _ = run(capsys, "assess", "indicators", "matrix_bad", "--out", out)
    assert code == 2 and not out.exists()


def test_cli_sensitivity(tmp_path, capsys):
    out = tmp_path / "s"
    code, cap = run(
        capsys,
        "fahp-sensitivity",
        "indicators",
        "illustrative_a",
        "--compare",
        "illustrative_b",
        "--samples",
        300,
        "--json",
        "--out",
        out,
    )
    assert code == 0, cap.err
    d = json.loads(cap.out)
    assert 0 <= d["reversal_probability"] <= 1
    assert d["monte_carlo"][0]["samples"] == 300
    assert (out / "tornado.png").exists() and (out / "monte_carlo.svg").exists()
