"""Bayesian upper limits: closed forms, brute-force integration, bands, robustness, inputs."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, optimize, special

from darkscan.stats.bayes import (
    BAND_QUANTILES,
    background_only_quantiles,
    smeared_poisson_cdf,
    upper_limit_bayes,
)
from darkscan.stats.results import STATUS_FAILED, STATUS_OK, LimitResult

BAND_KEYS = (
    "expected_minus2",
    "expected_minus1",
    "expected_median",
    "expected_plus1",
    "expected_plus2",
)


def helene(n, b, cl):
    """Known-background flat-prior limit by scipy root finding of Q(n+1, s+b)/Q(n+1, b)."""

    def f(s):
        return special.gammaincc(n + 1, s + b) / special.gammaincc(n + 1, b) - (1 - cl)

    return optimize.brentq(f, 0.0, 1e4, xtol=1e-13, rtol=1e-14)


# ------------------------------------------------------------------------------------------
# reference values
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cl", [0.9, 0.95, 0.68])
def test_zero_count_zero_background_is_minus_log_alpha(cl):
    res = upper_limit_bayes(0, 0, cl=cl)
    assert_allclose(res.observed, -np.log(1 - cl), rtol=1e-12)
    assert res.status == STATUS_OK
    # b = 0: n = 0 with certainty, every band is the observed limit
    for key in BAND_KEYS:
        assert_allclose(getattr(res, key), -np.log(1 - cl), rtol=1e-12)


def test_zero_count_independent_of_background_and_its_prior():
    # Pois(0 | s + b) = exp(-s) exp(-b): the posterior of s does not depend on b
    for kw in (
        dict(bkg=3.0),
        dict(bkg=800.0),
        dict(bkg=800.0, bkg_unc=10.0),
        dict(bkg=800.0, bkg_unc=100.0),
        dict(bkg=5.0, bkg_unc=2.0, prior_bkg="lognormal"),
        dict(bkg=1e6, bkg_unc=1e3, prior_bkg="lognormal"),
    ):
        res = upper_limit_bayes(0, cl=0.9, expected=False, **kw)
        assert_allclose(res.observed, -np.log(0.1), rtol=1e-8, err_msg=str(kw))


@pytest.mark.parametrize("cl", [0.9, 0.95])
def test_known_background_matches_helene(cl):
    n = np.array([0, 1, 2, 3, 5, 10, 20, 3.7, 0.4, 50])
    b = np.array([0.0, 3.0, 0.5, 3.0, 1.0, 10.0, 30.0, 2.2, 0.1, 40.0])
    res = upper_limit_bayes(n, b, cl=cl, expected=False)
    ref = [helene(ni, bi, cl) for ni, bi in zip(n, b, strict=True)]
    assert_allclose(res.observed, ref, rtol=1e-9)
    assert np.all(res.status == STATUS_OK)


def test_efficiency_scales_the_limit():
    a = upper_limit_bayes([0, 4, 9], 3.0, eff=1.0, cl=0.9)
    c = upper_limit_bayes([0, 4, 9], 3.0, eff=0.25, cl=0.9)
    for key in ("observed",) + BAND_KEYS:
        assert_allclose(getattr(c, key), getattr(a, key) / 0.25, rtol=1e-10)
    # with an efficiency uncertainty the relative uncertainty is what matters
    d = upper_limit_bayes(4, 3.0, 1.0, eff=1.0, eff_unc=0.1, cl=0.9, expected=False)
    e = upper_limit_bayes(4, 3.0, 1.0, eff=2.0, eff_unc=0.2, cl=0.9, expected=False)
    assert_allclose(e.observed, d.observed / 2, rtol=1e-9)


# ------------------------------------------------------------------------------------------
# brute-force integration with nuisance parameters
# ------------------------------------------------------------------------------------------
def _posterior_cdf_2d(n, bkg, unc, prior, mu_max):
    """P(mu <= M | n) by brute-force 2-D integration over (mu, b) of Pois(n|mu+b) pi(b)."""
    if prior == "truncated-gaussian":
        lo, hi = max(0.0, bkg - 9 * unc), bkg + 9 * unc

        def pdf(b):
            return np.exp(-0.5 * ((b - bkg) / unc) ** 2)

    else:  # log-normal: integrate over z = (ln b - m) / s instead of b
        s2 = np.log1p((unc / bkg) ** 2)
        m, s = np.log(bkg) - s2 / 2, np.sqrt(s2)

        def integrand_z(z, mu):
            lam = mu + np.exp(m + s * z)
            return np.exp(special.xlogy(n, lam) - lam - special.gammaln(n + 1) - z * z / 2)

        def integral_z(m_hi):
            return integrate.dblquad(integrand_z, 0.0, m_hi, -9, 9, epsabs=0, epsrel=1e-9)[0]

        norm = integral_z(mu_max)
        return lambda m_up: integral_z(m_up) / norm

    def integrand(b, mu):
        lam = mu + b
        return np.exp(special.xlogy(n, lam) - lam - special.gammaln(n + 1)) * pdf(b)

    def integral(m_hi):
        return integrate.dblquad(integrand, 0.0, m_hi, lo, hi, epsabs=0, epsrel=1e-9)[0]

    norm = integral(mu_max)
    return lambda m_up: integral(m_up) / norm


@pytest.mark.parametrize(
    ("n", "bkg", "unc", "prior"),
    [
        (3, 3.0, 1.0, "truncated-gaussian"),
        (10, 5.0, 5.0, "truncated-gaussian"),  # prior wider than the likelihood (swapped order)
        (2, 10.0, 5.0, "truncated-gaussian"),  # deficit, truncation at zero matters
        (5, 3.0, 2.0, "lognormal"),
        (7, 2.0, 3.0, "lognormal"),  # wide, skewed log-normal
    ],
)
def test_background_uncertainty_vs_brute_force_double_integral(n, bkg, unc, prior):
    cl = 0.9
    res = upper_limit_bayes(n, bkg, unc, cl=cl, prior_bkg=prior, expected=False)
    up = float(res.observed)
    cdf = _posterior_cdf_2d(n, bkg, unc, prior, mu_max=up + 40 + 10 * np.sqrt(n + 1))
    # the 2-D posterior puts CL below our limit; the limit is within 0.5 % (far better in fact)
    assert cdf(up) == pytest.approx(cl, abs=2e-5)
    assert cdf(0.995 * up) < cl < cdf(1.005 * up)


def test_efficiency_uncertainty_vs_double_integral_over_nuisances():
    n, bkg, unc, eff, eff_unc, cl = 3, 3.0, 1.0, 0.5, 0.05, 0.9
    res = upper_limit_bayes(n, bkg, unc, eff, eff_unc, cl=cl, expected=False)
    lo_e, hi_e = eff - 6 * eff_unc, eff + 6 * eff_unc  # the documented prior range

    def tail(m):  # int int pi(b) pi(e) / e Q(n+1, m e + b), the mu integral in closed form
        def f(b, e):
            pb = np.exp(-0.5 * ((b - bkg) / unc) ** 2)
            pe = np.exp(-0.5 * ((e - eff) / eff_unc) ** 2)
            return pb * pe / e * special.gammaincc(n + 1, m * e + b)

        return integrate.dblquad(f, lo_e, hi_e, 0.0, bkg + 9 * unc, epsabs=0, epsrel=1e-10)[0]

    up, norm = float(res.observed), tail(0.0)
    assert tail(up) / norm == pytest.approx(1 - cl, abs=1e-6)
    assert tail(0.995 * up) / norm > 1 - cl > tail(1.005 * up) / norm


def test_lognormal_efficiency_prior_runs_and_is_close_to_gaussian_for_small_unc():
    g = upper_limit_bayes(4, 2.0, 0.5, 1.0, 0.03, cl=0.9, expected=False)
    ln = upper_limit_bayes(4, 2.0, 0.5, 1.0, 0.03, cl=0.9, expected=False, prior_eff="lognormal")
    assert_allclose(ln.observed, g.observed, rtol=2e-3)


# ------------------------------------------------------------------------------------------
# monotonic behaviour
# ------------------------------------------------------------------------------------------
def test_limit_increases_with_n_and_decreases_with_b():
    n = np.arange(0, 40)
    for kw in (dict(), dict(bkg_unc=1.5), dict(bkg_unc=1.5, prior_bkg="lognormal")):
        up = upper_limit_bayes(n, 6.0, cl=0.9, expected=False, **kw).observed
        assert np.all(np.diff(up) > 0), kw
    b = np.linspace(0, 30, 61)
    for k in (1, 4, 10):
        up = upper_limit_bayes(k, b, cl=0.9, expected=False).observed
        assert np.all(np.diff(up) < 0)
        # ... towards the n = 0 value -ln(1 - CL) from above
        assert np.all(up >= -np.log(0.1) - 1e-9)


def test_limit_grows_with_cl_and_with_background_uncertainty_for_an_excess():
    cls = [0.68, 0.9, 0.95, 0.99]
    ups = [float(upper_limit_bayes(6, 3.0, cl=c, expected=False).observed) for c in cls]
    assert np.all(np.diff(ups) > 0)
    unc = np.array([0.0, 0.5, 1.0, 2.0])
    up = upper_limit_bayes(6, 3.0, unc, cl=0.9, expected=False).observed
    assert np.all(np.diff(up) > 0)


# ------------------------------------------------------------------------------------------
# expected limits
# ------------------------------------------------------------------------------------------
def test_bands_are_ordered_and_median_is_limit_at_median_count():
    b = np.array([0.5, 3.0, 10.0, 120.0])
    res = upper_limit_bayes(2, b, cl=0.9)
    bands = np.stack([getattr(res, k) for k in BAND_KEYS])
    assert np.all(np.diff(bands, axis=0) >= 0)
    from scipy.stats import poisson

    med_n = poisson.ppf(0.5, b)  # smallest n with cdf >= 0.5
    assert_allclose(res.expected_median, upper_limit_bayes(med_n, b, cl=0.9).observed)


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(bkg_unc=0.3), dict(bkg_unc=0.3, prior_bkg="lognormal"), dict(eff=0.5)],
)
def test_quantile_bands_equal_full_weighted_quantiles(kw):
    b = np.array([0.2, 1.0, 3.0, 7.5, 20.0])
    kw = dict(kw)
    if "bkg_unc" in kw:
        kw["bkg_unc"] = kw["bkg_unc"] * b
    quick = upper_limit_bayes(1, b, cl=0.9, **kw)
    full = upper_limit_bayes(1, b, cl=0.9, bands="full", **kw)
    for key in BAND_KEYS:
        assert_allclose(getattr(quick, key), getattr(full, key), rtol=1e-9)


def test_background_only_quantiles_are_poisson_quantiles():
    from scipy.stats import poisson

    b = np.array([0.0, 0.3, 2.0, 9.0, 150.0, 1e6])
    q = background_only_quantiles(b)
    assert q.shape == (6, 5)
    assert_allclose(q, poisson.ppf(BAND_QUANTILES[None, :], b[:, None]))


def test_prior_predictive_cdf_vs_direct_integral():
    for k, s, b, u in [(3, 0.0, 4.0, 1.0), (10, 2.0, 5.0, 8.0), (0, 1.0, 3.0, 3.0)]:
        ref = (
            integrate.quad(
                lambda x, k=k, s=s, b=b, u=u: (
                    special.gammaincc(k + 1, s + x) * np.exp(-0.5 * ((x - b) / u) ** 2)
                ),
                0,
                b + 12 * u,
            )[0]
            / integrate.quad(lambda x, b=b, u=u: np.exp(-0.5 * ((x - b) / u) ** 2), 0, b + 12 * u)[
                0
            ]
        )
        assert_allclose(smeared_poisson_cdf(k, s, b, u), ref, rtol=1e-7)


# ------------------------------------------------------------------------------------------
# shapes and vectorisation
# ------------------------------------------------------------------------------------------
def test_broadcast_shapes_and_elementwise_equality():
    n = np.array([[0], [3], [7]])
    b = np.array([0.5, 2.0, 4.0, 9.0])
    res = upper_limit_bayes(n, b, 0.2 * b, cl=0.9)
    assert isinstance(res, LimitResult)
    for key in ("observed", "status") + BAND_KEYS:
        assert np.shape(getattr(res, key)) == (3, 4)
    one = upper_limit_bayes(7, 4.0, 0.8, cl=0.9)
    assert_allclose(res.observed[2, 2], one.observed, rtol=1e-12)
    assert_allclose(res.expected_plus2[2, 2], one.expected_plus2, rtol=1e-12)
    assert np.shape(one.observed) == ()
    recs = res.to_records()
    assert len(recs) == 12 and recs[0]["method"].startswith("bayes")


# ------------------------------------------------------------------------------------------
# robustness
# ------------------------------------------------------------------------------------------
def _no_nan(res):
    for key in ("observed",) + BAND_KEYS:
        assert not np.any(np.isnan(getattr(res, key))), key


def test_zero_efficiency_gives_infinite_limit_flagged():
    res = upper_limit_bayes([0, 3], [0.0, 2.0], eff=[0.0, 1.0], cl=0.9)
    _no_nan(res)
    assert np.isinf(res.observed[0]) and np.isinf(res.expected_median[0])
    assert res.status[0] == STATUS_FAILED and res.status[1] == STATUS_OK
    assert np.isfinite(res.observed[1])


@pytest.mark.parametrize("unc", [0.0, 1e3, 1e5])
def test_huge_background(unc):
    res = upper_limit_bayes(1e6, 1e6, unc, cl=0.9)
    _no_nan(res)
    assert res.status == STATUS_OK
    sigma = np.hypot(1e3, unc)  # Gaussian limit: truncated normal at zero, sd sigma
    assert_allclose(res.observed, sigma * special.ndtri(0.95), rtol=0.01)


def test_non_integer_counts_interpolate_continuously():
    n = np.array([2.0, 2.25, 2.5, 2.75, 3.0])
    up = upper_limit_bayes(n, 1.5, 0.5, cl=0.9, expected=False).observed
    assert np.all(np.diff(up) > 0)
    dense = upper_limit_bayes(np.linspace(2, 2 + 1e-6, 3), 1.5, cl=0.9, expected=False).observed
    assert np.ptp(dense) < 1e-5


def test_large_relative_uncertainties_and_tension_are_finite():
    res = upper_limit_bayes(
        [0, 1, 50, 100, 3], [0.1, 1000.0, 1.0, 500.0, 3.0], [5.0, 10.0, 3.0, 10.0, 30.0], cl=0.95
    )
    _no_nan(res)
    assert np.all(np.isfinite(res.observed)) and np.all(res.observed > 0)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n_obs=-1, bkg=1.0), "n_obs"),
        (dict(n_obs=np.nan, bkg=1.0), "n_obs"),
        (dict(n_obs=1, bkg=-0.5), "bkg"),
        (dict(n_obs=1, bkg=np.inf), "bkg"),
        (dict(n_obs=1, bkg=1.0, bkg_unc=-1.0), "bkg_unc"),
        (dict(n_obs=1, bkg=1.0, eff=np.nan), "eff"),
        (dict(n_obs=1, bkg=1.0, eff_unc=-0.1), "eff_unc"),
        (dict(n_obs=1, bkg=1.0, cl=0.0), "cl"),
        (dict(n_obs=1, bkg=1.0, cl=1.0), "cl"),
        (dict(n_obs=1, bkg=1.0, cl=1.5), "cl"),
        (dict(n_obs=1, bkg=1.0, cl=np.nan), "cl"),
        (dict(n_obs=1, bkg=1.0, prior_bkg="flat"), "prior_bkg"),
        (dict(n_obs=1, bkg=1.0, prior_eff="gamma"), "prior_eff"),
        (dict(n_obs=1, bkg=1.0, bands="mean"), "bands"),
        (dict(n_obs="many", bkg=1.0), "n_obs"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        upper_limit_bayes(**kwargs)
