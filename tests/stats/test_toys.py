"""Toy-based CLs limits, p-values and discovery significance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from darkscan.stats import counting as c
from darkscan.stats import toys as t
from darkscan.stats.results import STATUS_FAILED, STATUS_OK

KEYS = (
    "observed",
    "expected_minus2",
    "expected_minus1",
    "expected_median",
    "expected_plus1",
    "expected_plus2",
)


def values(r):
    return np.array([np.asarray(getattr(r, k), float) for k in KEYS])


def test_deterministic_for_a_seed_and_any_thread_count():
    n, b, sb = np.array([3.0, 12.0, 0.0]), np.array([1.2, 10.0, 0.5]), np.array([0.3, 2.0, 0.1])
    a = t.upper_limit_toys(n, b, sb, cl=0.9, n_toys=2000, seed=5, workers=1)
    b2 = t.upper_limit_toys(n, b, sb, cl=0.9, n_toys=2000, seed=5, workers=2)
    other = t.upper_limit_toys(n, b, sb, cl=0.9, n_toys=2000, seed=6, workers=1)
    assert np.array_equal(values(a), values(b2))
    assert not np.array_equal(values(a), values(other))
    assert a.method == "cls-toys"


def test_n0_b0_is_log10_within_mc_error():
    # b = 0: every background-only toy has n = 0, so CLs = P(n = 0 | s) = exp(-s)
    r = t.upper_limit_toys(0, 0, cl=0.9, n_toys=20_000, seed=1)
    assert np.allclose(values(r), math.log(10), rtol=0.03)
    assert r.status == STATUS_OK


def test_pvalues_match_exact_poisson_for_known_background():
    n, b = np.array([3.0, 8.0, 20.0]), np.array([1.2, 6.0, 25.0])
    mu = np.array([4.0, 6.0, 9.0])
    p = t.pvalues_toys(mu, n, b, n_toys=50_000, seed=2)
    exact_sb = special.gammaincc(n + 1, mu + b)  # P(N <= n | s + b)
    exact_b = special.gammaincc(n + 1, b)
    assert np.all(np.abs(p["clsb"] - exact_sb) < 5 * np.sqrt(exact_sb * (1 - exact_sb) / 5e4))
    assert np.all(np.abs(p["clb"] - exact_b) < 5 * np.sqrt(exact_b * (1 - exact_b) / 5e4))


def test_limits_match_classical_cls_for_known_background():
    n, b = np.array([3.0, 10.0, 0.0, 40.0]), np.array([1.2, 8.0, 5.0, 35.0])
    r = t.upper_limit_toys(n, b, cl=0.9, n_toys=20_000, seed=3)
    e = c.upper_limit_exact(n, b, cl=0.9)
    rel = values(r) / values(e) - 1
    # MC precision ~1-2 % (worse for -2 sigma: CLs+b ~ 0.002 there; and for the observed
    # limit with n = 0, b = 5, where CLb = exp(-5) is sampled by ~130 toys: ~9 %)
    assert np.all(np.abs(rel[[0, 3, 4]][:, [0, 1, 3]]) < 0.06), rel
    assert np.all(np.abs(rel) < 0.25), rel


def test_toys_agree_with_asymptotic_at_large_background():
    r = t.upper_limit_toys(
        [1000.0, 5000.0], [1000.0, 5100.0], [50.0, 100.0], cl=0.95, n_toys=10_000, seed=4
    )
    a = c.upper_limit_asymptotic([1000.0, 5000.0], [1000.0, 5100.0], [50.0, 100.0], cl=0.95)
    rel = values(r) / values(a) - 1
    # MC spread with 1e4 toys: ~2-3 %, ~6 % for -2 sigma
    assert np.all(np.abs(rel[[0, 2, 3, 4]]) < 0.07), rel
    assert np.all(np.abs(rel) < 0.2), rel


@pytest.mark.parametrize("cons", c.CONSTRAINTS)
def test_constraints_and_efficiency_uncertainty_run(cons):
    r = t.upper_limit_toys(
        [2.0, 15.0],
        [1.0, 12.0],
        [0.4, 3.0],
        [1.0, 0.5],
        [0.1, 0.05],
        cl=0.95,
        n_toys=1000,
        seed=1,
        constraint=cons,
        eff_constraint="lognormal" if cons == "lognormal" else "gaussian",
    )
    v = values(r)
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    a = c.upper_limit_asymptotic(
        [2.0, 15.0], [1.0, 12.0], [0.4, 3.0], [1.0, 0.5], [0.1, 0.05], constraint=cons
    )
    assert np.all(np.abs(v[0] / a.observed - 1) < 0.5)


def test_clsb_toys_below_cls_toys():
    kw = {"n_toys": 4000, "seed": 9, "cl": 0.95}
    cls = t.upper_limit_toys([5.0, 30.0], [3.0, 25.0], [1.0, 4.0], **kw)
    clsb = t.upper_limit_toys([5.0, 30.0], [3.0, 25.0], [1.0, 4.0], method="clsb", **kw)
    assert np.all(clsb.observed <= cls.observed * 1.02)
    assert clsb.method == "clsb-toys"


def test_zero_efficiency_and_bad_arguments():
    r = t.upper_limit_toys([3.0, 3.0], 1.0, 0.2, [0.0, 1.0], n_toys=500)
    assert np.isinf(r.observed[0]) and r.status[0] == STATUS_FAILED
    assert np.isfinite(r.observed[1])
    with pytest.raises(ValueError, match="n_toys"):
        t.upper_limit_toys(3, 1, n_toys=5)
    with pytest.raises(ValueError, match="bkg"):
        t.upper_limit_toys(3, -1.0)
    with pytest.raises(ValueError, match="method"):
        t.upper_limit_toys(3, 1.0, method="bayes")


def test_progress_callback_reaches_total():
    seen = []
    t.upper_limit_toys(
        np.arange(5.0), 2.0, 0.5, n_toys=200, progress=lambda d, n: seen.append((d, n))
    )
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_discovery_toys_match_poisson_tail():
    n, b = np.array([5.0, 10.0, 3.0]), np.array([1.0, 3.0, 3.0])
    res = t.discovery_toys(n, b, n_toys=100_000, seed=3)
    exact = stats.poisson.sf(n - 1, b)  # P(N >= n | b)
    for i in range(2):
        sd = math.sqrt(exact[i] * (1 - exact[i]) / 1e5)
        assert abs(res.p_value[i] - exact[i]) < 5 * sd + 2e-5
    # n = b: q_0 = 0, every toy is at least as signal-like
    assert res.p_value[2] == 1.0 and res.z[2] == 0.0
    assert np.all(res.z[:2] > 2.5)


def test_discovery_toys_with_uncertainty_near_asymptotic():
    res = t.discovery_toys(150.0, 100.0, 5.0, n_toys=100_000, seed=8)
    a = c.discovery_asymptotic(150.0, 100.0, 5.0)
    assert res.z == pytest.approx(float(a.z), rel=0.06)
