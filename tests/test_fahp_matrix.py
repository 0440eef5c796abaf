"""FAHP weights: closed form, small n, permutation equivariance, sum to 1, diagnostics."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.errors import InputError
from resiliopt.fahp import analyse, combine, consistent_matrix, validate_matrix, weights
from resiliopt.fahp.consistency import compatibility_index, triad_deviations
from resiliopt.fahp.matrix import characteristic_matrix, weights_from_rowsums


@st.composite
def fcm(draw, min_n=1, max_n=8):
    """A random fuzzy complementary matrix on the 0.1-0.9 scale (0.1 steps)."""
    n = draw(st.integers(min_n, max_n))
    R = np.full((n, n), 0.5)
    for i in range(n):
        for j in range(i + 1, n):
            x = draw(st.integers(1, 9)) / 10
            R[i, j], R[j, i] = x, 1 - x
    return R


def test_closed_form_default_a():
    # w_i = (r_i + n/2 - 1) / (n (n - 1)) for a = (n-1)/2 (MODEL_NOTES section 5)
    R = np.array([[0.5, 0.7, 0.9], [0.3, 0.5, 0.6], [0.1, 0.4, 0.5]])
    r = R.sum(axis=1)
    n = 3
    np.testing.assert_allclose(weights(R), (r + n / 2 - 1) / (n * (n - 1)))
    np.testing.assert_allclose(weights(R), [2.6 / 6, 1.9 / 6, 1.5 / 6])


def test_consistent_matrix_formula():
    R = np.array([[0.5, 0.8], [0.2, 0.5]])
    C = consistent_matrix(R)
    # r = (1.3, 0.7): r_12 = (1.3 - 0.7)/4 + 0.5 = 0.65
    np.testing.assert_allclose(C, [[0.5, 0.65], [0.35, 0.5]])


def test_n1_weight_is_one():
    res = analyse(["only"], [[[0.5]]])
    assert res.weights.tolist() == [1.0]
    assert res.diagnostics.compatibility_index == 0.0


def test_n2_works():
    # w_1 = (0.5 + R_12 + 1 - 1) / 2
    w = weights(np.array([[0.5, 0.9], [0.1, 0.5]]))
    np.testing.assert_allclose(w, [0.7, 0.3])


def test_larger_a_flattens_weights():
    R = np.array([[0.5, 0.9, 0.9], [0.1, 0.5, 0.5], [0.1, 0.5, 0.5]])
    w1, w5 = weights(R), weights(R, a=5.0)
    assert w5.max() - w5.min() < w1.max() - w1.min()
    np.testing.assert_allclose(w5.sum(), 1)
    np.testing.assert_allclose(weights_from_rowsums(R.sum(1), 3, 5.0), w5)


@settings(max_examples=60, deadline=None)
@given(fcm(), st.randoms(use_true_random=False))
def test_permutation_equivariance(R, rnd):
    n = R.shape[0]
    p = list(range(n))
    rnd.shuffle(p)
    p = np.array(p)
    np.testing.assert_allclose(weights(R[np.ix_(p, p)]), weights(R)[p], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(fcm(min_n=2), st.floats(0, 5))
def test_weights_sum_to_one_and_nonnegative(R, extra):
    n = R.shape[0]
    a = (n - 1) / 2 + extra
    w = weights(R, a)
    assert abs(w.sum() - 1) < 1e-12
    assert (w >= -1e-12).all()
    np.testing.assert_allclose(weights_from_rowsums(R.sum(1), n, a), w, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(fcm(min_n=2))
def test_characteristic_matrix_doubles_consistent_matrix(R):
    # W - 1/2 = 2 (r~ - 1/2): the paper's consistent matrix halves preference intensities
    W = characteristic_matrix(weights(R))
    np.testing.assert_allclose(W - 0.5, 2 * (consistent_matrix(R) - 0.5), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-0.2, 0.2), min_size=2, max_size=7), st.floats(0, 3))
def test_additively_consistent_input_is_reproduced(u, extra):
    u = np.array(u)
    R = 0.5 + u[:, None] - u[None, :]
    a = (len(u) - 1) / 2 + extra
    np.testing.assert_allclose(characteristic_matrix(weights(R, a), a), R, atol=1e-12)
    assert compatibility_index(R, weights(R, a), a) < 1e-12


def test_weights_sum_to_one_even_for_non_complementary_input():
    # why complementarity must be checked: the formula does not notice
    R = np.array([[0.5, 0.9, 0.9], [0.9, 0.5, 0.9], [0.2, 0.2, 0.5]])
    assert abs(weights(R).sum() - 1) < 1e-12
    with pytest.raises(InputError, match="not complementary"):
        validate_matrix(R.tolist(), ["a", "b", "c"])


def test_consistent_input_has_zero_diagnostics():
    u = np.array([0.1, -0.05, 0.2, 0.0])
    R = 0.5 + u[:, None] - u[None, :]
    res = analyse(list("abcd"), [R.tolist()])
    assert res.diagnostics.triad_index_max < 1e-12
    assert res.diagnostics.compatibility_index < 1e-12
    assert res.diagnostics.warnings == []


def test_triad_deviation_value_and_warning():
    R = np.array([[0.5, 0.9, 0.1], [0.1, 0.5, 0.9], [0.9, 0.1, 0.5]])  # cyclic preferences
    d, _ = triad_deviations(R)
    np.testing.assert_allclose(d, [0.9 + 0.9 + 0.9 - 1.5])
    res = analyse(list("abc"), [R.tolist()], triad_threshold=0.5)
    assert any("triad index" in w for w in res.diagnostics.warnings)
    # the weights are uniform and cannot reflect the strong judgments: CI is large
    np.testing.assert_allclose(res.weights, [1 / 3] * 3)
    assert compatibility_index(R, res.weights) == pytest.approx((6 * 0.4) / 9)
    assert any("compatibility index" in w for w in res.diagnostics.warnings)
    # a higher threshold silences the warning: it is a warning, not an error
    quiet = analyse(list("abc"), [R.tolist()], ci_threshold=0.5, triad_threshold=2)
    assert quiet.diagnostics.warnings == []


def test_mean_combination_weights_are_mean_of_expert_weights():
    E1 = [[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.6, 0.5]]
    E2 = [[0.5, 0.3, 0.8], [0.7, 0.5, 0.9], [0.2, 0.1, 0.5]]
    res = analyse(list("abc"), [E1, E2])
    np.testing.assert_allclose(res.weights, (weights(np.array(E1)) + weights(np.array(E2))) / 2)
    assert len(res.experts) == 2
    np.testing.assert_allclose(res.weight_spread(), np.abs(res.experts[0].weights - res.experts[1].weights))
    # each expert deviates from the mean by half the cell-wise difference
    off = ~np.eye(3, dtype=bool)
    half = np.abs(np.array(E1) - np.array(E2))[off].mean() / 2
    assert res.experts[0].deviation == pytest.approx(half)


def test_geometric_combination_is_complementary():
    E = np.array([[[0.5, 0.9], [0.1, 0.5]], [[0.5, 0.4], [0.6, 0.5]]])
    G = combine(E, "geometric")
    g12, g21 = np.sqrt(0.9 * 0.4), np.sqrt(0.1 * 0.6)
    assert G[0, 1] == pytest.approx(g12 / (g12 + g21))
    assert G[0, 1] + G[1, 0] == pytest.approx(1)
    assert G[0, 0] == 0.5
