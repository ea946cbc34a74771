import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.stats.combine import upper_limit_combined
from darkscan.stats.counting import upper_limit_asymptotic

KEYS = (
    "observed",
    "expected_median",
    "expected_minus1",
    "expected_plus1",
    "expected_minus2",
    "expected_plus2",
)


def test_one_channel_reproduces_counting():
    n = np.array([0.0, 3.0, 12.0, 150.0])
    b = np.array([0.5, 2.0, 10.0, 140.0])
    sb = np.array([0.1, 0.5, 2.0, 10.0])
    single = upper_limit_asymptotic(n, b, sb, cl=0.9)
    comb = upper_limit_combined(n[:, None], b[:, None], sb[:, None], cl=0.9)
    for k in KEYS:
        assert_allclose(getattr(comb, k), getattr(single, k), rtol=1e-6)


def test_two_identical_known_background_channels_equal_their_sum():
    n, b = np.array([2.0, 7.0, 30.0]), np.array([1.0, 5.0, 25.0])
    comb = upper_limit_combined(
        np.stack([n, n], -1), np.stack([b, b], -1), 0.0, np.ones((3, 2)), cl=0.95
    )
    summed = upper_limit_asymptotic(2 * n, 2 * b, 0.0, eff=2.0, cl=0.95)
    for k in KEYS:
        assert_allclose(getattr(comb, k), getattr(summed, k), rtol=1e-6)


def test_combination_is_stronger_than_each_channel():
    n = np.array([[4.0, 9.0]])
    b = np.array([[4.0, 9.0]])
    eff = np.array([[1.0, 1.5]])
    comb = upper_limit_combined(n, b, 1.0, eff, cl=0.95)
    each = upper_limit_asymptotic(n[0], b[0], 1.0, eff[0], cl=0.95)
    assert comb.expected_median[0] < each.expected_median.min()
    assert np.all(comb.status == "ok")


def test_zero_efficiency_everywhere_is_flagged_not_nan():
    res = upper_limit_combined([[1.0, 2.0]], [[1.0, 2.0]], 0.1, [[0.0, 0.0]])
    assert res.observed[0] == np.inf and res.status[0] == "failed"
    with pytest.raises(ValueError, match="channel axis"):
        upper_limit_combined(1.0, 1.0)
