import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from resiliopt import community as fc
from resiliopt.case import load_case

DAM = load_case("beijing").dam
shares = st.lists(st.floats(0, 0.5), min_size=4, max_size=4).map(np.array)


def test_no_damage_is_full_functionality():
    assert fc.functionality(np.zeros(4), DAM) == 1.0


def test_equation_1_read_literally_is_wrong():
    # I DAM I with ones on both sides gives 0.35 loss with no damage (MODEL_NOTES 1)
    assert np.isclose(np.trace(DAM), 0.35)
    assert fc.loss(np.zeros(4), DAM) == 0.0


def test_quadratic_form_by_hand():
    l = np.array([0.1, 0.2, 0.0, 0.05])
    by_hand = sum(DAM[i, i] * l[i] for i in range(4)) + sum(
        DAM[i, j] * l[i] * l[j] for i in range(4) for j in range(4) if i != j
    )
    assert np.isclose(fc.loss(l, DAM), by_hand)


@given(shares)
def test_gradient_matches_finite_differences(l):
    g = fc.gradient(l, DAM)
    h = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        # f_i = 1 - l_i, so dF/df_i = -dF/dl_i
        fd = -(fc.functionality(l + e, DAM, clamp=False) - fc.functionality(l - e, DAM, clamp=False)) / (
            2 * h
        )
        assert np.isclose(g[i], fd, rtol=1e-6, atol=1e-9)


def test_gradient_is_equation_7():
    l = np.array([0.3, 0.1, 0.2, 0.4])
    for i in range(4):
        eq7 = DAM[i, i] + sum((DAM[i, j] + DAM[j, i]) * l[j] for j in range(4) if j != i)
        assert np.isclose(fc.gradient(l, DAM)[i], eq7)


def test_clamp_and_sector_loss():
    assert fc.functionality(np.ones(4), DAM, clamp=True) == 0.0
    assert fc.functionality(np.ones(4), DAM, clamp=False) < 0
    unsafe = np.array([1.0, 2.0, 3.0, 0.5])
    sector = np.array([0, 0, 1, 3])
    got = fc.sector_loss(unsafe, sector, np.array([10.0, 6.0, 1.0, 5.0]))
    assert np.allclose(got, [0.3, 0.5, 0.0, 0.1])
