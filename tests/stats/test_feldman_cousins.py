"""Feldman-Cousins intervals: the paper's table, brute-force belts, coverage, robustness."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import poisson

from darkscan.stats.bayes import smeared_poisson_cdf
from darkscan.stats.feldman_cousins import _log_ratio, fc_accepts, interval_fc
from darkscan.stats.results import STATUS_FAILED, STATUS_OK, LimitResult

BAND_KEYS = (
    "expected_minus2",
    "expected_minus1",
    "expected_median",
    "expected_plus1",
    "expected_plus2",
)

# Feldman & Cousins, PRD 57 (1998) 3873, Table IV (90 % CL): (n, b) -> [lower, upper]
FC_TABLE_IV = [
    (0, 0.0, 0.00, 2.44),
    (1, 0.0, 0.11, 4.36),
    (2, 0.0, 0.53, 5.91),
    (3, 0.0, 1.10, 7.42),
    (0, 3.0, 0.00, 1.08),
]


@pytest.mark.parametrize(("n", "b", "lo", "up"), FC_TABLE_IV)
def test_fc_paper_table_to_quoted_decimals(n, b, lo, up):
    res = interval_fc(n, b, cl=0.9, expected=False)
    assert round(float(res.lower), 2) == lo
    assert round(float(res.observed), 2) == up
    assert res.status == STATUS_OK


def test_pure_construction_sawtooth_and_table_convention():
    # the pure Neyman construction gives 0.95 at b = 3; the paper's tables make the upper end
    # non-increasing in b: the sup over b' >= 3 is reached at b' = 3.454 (1.078)
    pure = interval_fc(0, [3.0, 3.454, 3.5], cl=0.9, expected=False, monotonic_bkg=False)
    assert_allclose(pure.observed[0], 0.9530, atol=5e-4)
    assert_allclose(pure.observed[1], 1.0781, atol=5e-4)  # detached accepted piece at b'
    assert pure.observed[2] > pure.observed[0]  # saw-tooth
    mono = interval_fc(0, 3.0, cl=0.9, expected=False)
    assert_allclose(mono.observed, 1.0781, atol=5e-4)
    # lower ends and the other counts of the b = 3 column are untouched by the convention
    n = np.arange(1, 11)
    a = interval_fc(n, 3.0, cl=0.9, expected=False)
    p = interval_fc(n, 3.0, cl=0.9, expected=False, monotonic_bkg=False)
    assert_allclose(a.observed, p.observed, rtol=1e-9)
    assert_allclose(a.lower, p.lower, rtol=1e-9, atol=1e-12)


def test_upper_end_non_increasing_in_background_with_table_convention():
    b = np.linspace(0.0, 8.0, 81)
    for k in (0, 1, 2):
        up = interval_fc(k, b, cl=0.9, expected=False).observed
        assert np.all(np.diff(up) <= 1e-7), k  # tooth births located to ~1e-9


# ------------------------------------------------------------------------------------------
# brute force
# ------------------------------------------------------------------------------------------
def _belt_acceptance(s, b, u=0.0, nmax=120):
    """Explicit FC belt: sort n by R, accumulate probabilities until >= CL (0.9)."""
    n = np.arange(nmax + 1.0)
    lr = _log_ratio(n, s, b, u)
    if u > 0:
        pmf = np.diff(np.concatenate([[0.0], smeared_poisson_cdf(n, s, b, u)]))
    else:
        pmf = poisson.pmf(n, s + b)
    order = np.argsort(-lr, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(pmf[order])[:-1]])
    acc = np.empty(n.size, dtype=bool)
    acc[order] = before < 0.9
    return acc


@pytest.mark.parametrize("u", [0.0, 0.5, 2.0])
def test_acceptance_matches_explicitly_sorted_belt(u):
    for b in (0.0, 0.5, 3.0, 7.3):
        for s in (0.0, 0.4, 1.0, 2.7, 6.0, 11.0):
            if u > 0 and b == 0:
                continue
            ref = _belt_acceptance(s, b, u)[:40]
            got = fc_accepts(s, np.arange(40.0), b, u, cl=0.9)
            np.testing.assert_array_equal(got, ref, err_msg=f"s={s} b={b} u={u}")


def test_interval_edges_vs_fine_scan():
    mu = np.arange(0.0, 25.0, 5e-4)
    for n, b in [(0, 0.5), (1, 3.3), (4, 1.2), (6, 4.4), (9, 2.6)]:
        acc = fc_accepts(mu, n, b, 0.0, cl=0.9)
        res = interval_fc(n, b, cl=0.9, expected=False, monotonic_bkg=False)
        assert abs(float(res.observed) - mu[acc].max()) < 1e-3
        assert abs(float(res.lower) - mu[acc].min()) < 1e-3


def test_profile_ordering_reduces_to_known_background():
    n = np.arange(0, 12)
    a = interval_fc(n, 2.6, 1e-7, cl=0.9, expected=False)
    p = interval_fc(n, 2.6, 0.0, cl=0.9, expected=False, monotonic_bkg=False)
    assert_allclose(a.observed, p.observed, atol=1e-5)
    assert_allclose(a.lower, p.lower, atol=1e-5)


# ------------------------------------------------------------------------------------------
# coverage
# ------------------------------------------------------------------------------------------
def _covered(mu_true, n, b, u=0.0):
    uniq, inv = np.unique(n, return_inverse=True)
    res = interval_fc(uniq.astype(float), b, u, cl=0.9, expected=False)
    ok = (res.lower <= mu_true) & (mu_true <= res.observed)
    return ok[inv]


def test_exact_coverage_of_the_neyman_construction():
    # the probability of covering, summed exactly over n, is >= CL for every true mu
    b = 3.0
    n = np.arange(0, 60.0)
    res = interval_fc(n, b, cl=0.9, expected=False)
    for mu in np.linspace(0.0, 15.0, 61):
        cov = np.sum(poisson.pmf(n, mu + b) * ((res.lower <= mu) & (mu <= res.observed)))
        assert cov >= 0.9 - 1e-9, mu


def test_coverage_by_toys_fast():
    rng = np.random.default_rng(7)
    for mu in (0.5, 2.0, 6.0):
        n = rng.poisson(mu + 3.0, size=2000)
        frac = np.mean(_covered(mu, n, 3.0))
        err = np.sqrt(0.9 * 0.1 / n.size)
        assert frac > 0.9 - 3 * err, (mu, frac)


def test_coverage_by_toys_with_background_uncertainty():
    # averaged over the background prior the profile construction covers (Cousins-Highland)
    rng = np.random.default_rng(11)
    b0, u = 4.0, 1.5
    for mu in (0.0, 1.0, 3.0, 8.0):
        b_true = np.abs(rng.normal(b0, u, size=20000))
        n = rng.poisson(mu + b_true)
        frac = np.mean(_covered(mu, n, b0, u))
        err = np.sqrt(0.9 * 0.1 / n.size)
        assert frac > 0.9 - 4 * err, (mu, frac)
        assert frac < 0.99, (mu, frac)


# ------------------------------------------------------------------------------------------
# expected limits, shapes
# ------------------------------------------------------------------------------------------
def test_bands_ordered_and_consistent():
    b = np.array([0.0, 0.5, 3.0, 12.0])
    res = interval_fc(1, b, cl=0.9)
    bands = np.stack([getattr(res, k) for k in BAND_KEYS])
    assert np.all(np.diff(bands, axis=0) >= 0)
    assert_allclose(bands[:, 0], 2.435915, atol=1e-5)  # b = 0: n = 0 always
    med = poisson.ppf(0.5, b)
    assert_allclose(res.expected_median, interval_fc(med, b, expected=False).observed)


@pytest.mark.parametrize("kw", [dict(), dict(monotonic_bkg=False), dict(bkg_unc=1.0)])
def test_quantile_bands_equal_full_weighted_quantiles(kw):
    b = np.array([0.3, 2.5, 4.4, 9.0])
    quick = interval_fc(0, b, cl=0.9, **kw)
    full = interval_fc(0, b, cl=0.9, bands="full", **kw)
    for key in BAND_KEYS:
        assert_allclose(getattr(quick, key), getattr(full, key), rtol=1e-8)


def test_upper_and_lower_ends_monotonic_in_n():
    n = np.arange(0, 40.0)
    for b, u in [(0.5, 0.0), (4.4, 0.0), (10.0, 3.0)]:
        res = interval_fc(n, b, u, cl=0.9, expected=False)
        assert np.all(np.diff(res.observed) > 0)
        assert np.all(np.diff(res.lower) >= 0)


def test_shapes_broadcast_and_efficiency_scaling():
    n = np.array([[0], [2], [5]])
    b = np.array([0.0, 1.0, 3.0, 6.5])
    res = interval_fc(n, b, eff=0.5, cl=0.9)
    assert isinstance(res, LimitResult)
    for key in ("observed", "lower", "status") + BAND_KEYS:
        assert np.shape(getattr(res, key)) == (3, 4)
    ref = interval_fc(n, b, eff=1.0, cl=0.9)
    assert_allclose(res.observed, ref.observed / 0.5, rtol=1e-12)
    assert_allclose(res.lower, ref.lower / 0.5, rtol=1e-12)
    assert_allclose(res.expected_plus1, ref.expected_plus1 / 0.5, rtol=1e-12)
    one = interval_fc(5, 6.5, cl=0.9)
    assert_allclose(res.observed[2, 3], 2 * one.observed, rtol=1e-9)
    assert np.shape(one.observed) == () and one.lower is not None
    assert len(res.to_records()) == 12 and "lower" in res.to_records()[0]


# ------------------------------------------------------------------------------------------
# robustness
# ------------------------------------------------------------------------------------------
def _no_nan(res):
    for key in ("observed", "lower") + BAND_KEYS:
        assert not np.any(np.isnan(getattr(res, key))), key


def test_non_integer_counts_interpolate():
    res = interval_fc([2.0, 2.25, 3.0], 0.0, cl=0.9, expected=False)
    assert_allclose(res.observed[1], 0.75 * res.observed[0] + 0.25 * res.observed[2])
    assert_allclose(res.lower[1], 0.75 * res.lower[0] + 0.25 * res.lower[2])


def test_zero_efficiency_flagged_without_nan():
    res = interval_fc([0, 3], 1.0, eff=[0.0, 1.0], cl=0.9)
    _no_nan(res)
    assert np.isinf(res.observed[0]) and res.lower[0] == 0.0
    assert res.status[0] == STATUS_FAILED and res.status[1] == STATUS_OK


@pytest.mark.parametrize("unc", [0.0, 1e4])
def test_huge_background(unc):
    res = interval_fc(1e6, 1e6, unc, cl=0.9)
    _no_nan(res)
    assert res.status == STATUS_OK
    sigma = np.hypot(1e3, unc)
    # Gaussian FC with the boundary at zero and x = 0: upper end 1.64 sigma
    assert_allclose(res.observed, 1.645 * sigma, rtol=0.01)
    assert res.lower == 0.0


def test_zero_zero_and_deficits():
    res = interval_fc([0, 0, 2], [0.0, 40.0, 40.0], [0.0, 0.0, 5.0], cl=0.9)
    _no_nan(res)
    assert np.all(np.isfinite(res.observed)) and np.all(res.observed > 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n_obs=-2, bkg=1.0), "n_obs"),
        (dict(n_obs=np.inf, bkg=1.0), "n_obs"),
        (dict(n_obs=1, bkg=-1.0), "bkg"),
        (dict(n_obs=1, bkg=np.nan), "bkg"),
        (dict(n_obs=1, bkg=1.0, bkg_unc=-0.1), "bkg_unc"),
        (dict(n_obs=1, bkg=1.0, eff=-1.0), "eff"),
        (dict(n_obs=1, bkg=1.0, cl=0.0), "cl"),
        (dict(n_obs=1, bkg=1.0, cl=1.0), "cl"),
        (dict(n_obs=1, bkg=1.0, cl=-0.3), "cl"),
        (dict(n_obs=1, bkg=1.0, bands="x"), "bands"),
        (dict(n_obs=1, bkg=1.0, grid_points=2), "grid_points"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        interval_fc(**kwargs)


def test_few_hundred_hypotheses_vectorised_quickly():
    import time

    rng = np.random.default_rng(3)
    b = rng.uniform(0.1, 20.0, 300)
    n = rng.poisson(b).astype(float)
    t0 = time.perf_counter()
    res = interval_fc(n, b, cl=0.9, expected=False)
    assert time.perf_counter() - t0 < 20.0  # ~0.3 s on one core; generous for shared CI
    assert np.all(np.isfinite(res.observed)) and np.all(np.isfinite(res.lower))
    assert np.all(np.isnan(res.expected_median))  # expected=False: bands not computed


@pytest.mark.slow
@pytest.mark.parametrize("monotonic", [True, False])
def test_coverage_by_toys_grid(monotonic):
    # the validation grid of validation/coverage.py, 50k toys per point, both conventions
    rng = np.random.default_rng(2024)
    for b in (0.5, 3.0, 10.0):
        n_all = np.arange(0, 80.0)
        res = interval_fc(n_all, b, cl=0.9, expected=False, monotonic_bkg=monotonic)
        for mu in np.linspace(0.0, 12.0, 25):
            n = rng.poisson(mu + b, size=50000)
            covered = (res.lower[n] <= mu) & (mu <= res.observed[n])
            frac = covered.mean()
            err = np.sqrt(0.9 * 0.1 / n.size)
            assert frac > 0.9 - 4 * err, (b, mu, frac)
            assert frac < 0.975, (b, mu, frac)  # over-coverage from discreteness stays modest
