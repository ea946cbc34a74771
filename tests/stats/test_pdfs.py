"""Truncated pdfs: normalisation and cdf against numerical quadrature, shapes against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate, interpolate, stats

from darkscan.stats import pdfs

# (shape, params, (lo, hi)) covering peaks inside/at the edge/outside the range, heavy and
# light tails, rising/falling/flat slopes, both ARGUS regimes and general powers p.
CASES = [
    (pdfs.gauss, (1.0, 0.3), (0.0, 2.0)),
    (pdfs.gauss, (0.1, 0.05), (0.0, 2.0)),
    (pdfs.gauss, (3.0, 0.4), (0.0, 2.0)),
    (pdfs.crystalball, (1.0, 0.1, 1.2, 3.0), (0.0, 2.0)),
    (pdfs.crystalball, (1.0, 0.1, 0.5, 1.1), (0.0, 2.0)),
    (pdfs.crystalball, (5.28, 0.003, 2.5, 10.0), (5.2, 5.3)),
    (pdfs.crystalball, (0.05, 0.2, 1.0, 2.0), (0.0, 2.0)),
    (pdfs.dscb, (1.0, 0.1, 1.2, 3.0, 2.0, 5.0), (0.0, 2.0)),
    (pdfs.dscb, (0.5, 0.05, 0.8, 1.5, 0.6, 2.5), (0.0, 1.0)),
    (pdfs.exponential, (-2.0,), (0.0, 2.0)),
    (pdfs.exponential, (3.0,), (1.0, 4.0)),
    (pdfs.exponential, (0.0,), (0.0, 2.0)),
    (pdfs.exponential, (-200.0,), (10.0, 11.0)),
    (pdfs.argus, (5.29, 20.0, 0.5), (5.2, 5.3)),
    (pdfs.argus, (5.29, 1.0, 0.5), (5.0, 5.29)),
    (pdfs.argus, (5.29, 0.0, 1.5), (5.0, 5.29)),
    (pdfs.argus, (10.58, 8.0, 2.0), (0.0, 10.58)),
    (pdfs.argus, (5.29, 3.0, 0.2), (5.2, 5.29)),
    (pdfs.chebyshev, (1.0, 0.3, -0.2, 0.1), (0.0, 2.0)),
    (pdfs.chebyshev, (1.0, -0.5, 0.2, 0.05, 0.01), (4.5, 5.5)),
    (pdfs.bernstein, (1.0, 0.3, 2.0, 0.1), (0.0, 2.0)),
    (pdfs.bernstein, (0.0, 1.0, 0.5), (4.5, 5.5)),
]
IDS = [f"{s.name}-{i}" for i, (s, _, _) in enumerate(CASES)]


def _quad(f, a, b, points=()):
    pts = [p for p in points if a < p < b]
    val, _ = integrate.quad(f, a, b, points=pts or None, limit=500, epsabs=1e-13, epsrel=1e-11)
    return val


@pytest.mark.parametrize(("shape", "params", "rng"), CASES, ids=IDS)
def test_normalisation_matches_quad(shape, params, rng):
    lo, hi = rng
    bp = np.sort(shape.breakpoints(*params, lo=lo, hi=hi))
    pts = list(bp[(bp > lo) & (bp < hi)][:45])
    total = _quad(lambda x: float(shape.pdf(x, *params, lo=lo, hi=hi)), lo, hi, pts)
    assert abs(total - 1.0) < 1e-6


@pytest.mark.parametrize(("shape", "params", "rng"), CASES, ids=IDS)
def test_cdf_is_integral_of_pdf(shape, params, rng):
    lo, hi = rng
    bp = np.sort(shape.breakpoints(*params, lo=lo, hi=hi))
    pts = list(bp[(bp > lo) & (bp < hi)][:45])
    for frac in (0.1, 0.37, 0.5, 0.81, 0.999):
        x = lo + frac * (hi - lo)
        ref = _quad(lambda t: float(shape.pdf(t, *params, lo=lo, hi=hi)), lo, x, pts)
        assert abs(float(shape.cdf(x, *params, lo=lo, hi=hi)) - ref) < 1e-6
    assert float(shape.cdf(lo, *params, lo=lo, hi=hi)) == 0.0
    assert float(shape.cdf(hi, *params, lo=lo, hi=hi)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("shape", "params", "rng"), CASES, ids=IDS)
def test_outside_range_and_shapes(shape, params, rng):
    lo, hi = rng
    x = np.array([lo - 1.0, hi + 1.0])
    assert_allclose(shape.pdf(x, *params, lo=lo, hi=hi), 0.0)
    assert_allclose(shape.cdf(x, *params, lo=lo, hi=hi), [0.0, 1.0])
    grid = np.linspace(lo, hi, 12).reshape(3, 4)
    assert shape.pdf(grid, *params, lo=lo, hi=hi).shape == (3, 4)
    c = shape.cdf(np.linspace(lo, hi, 501), *params, lo=lo, hi=hi)
    assert np.all(np.diff(c) >= -1e-15)


@pytest.mark.parametrize(("shape", "params", "rng"), CASES, ids=IDS)
def test_rvs_follow_cdf_and_are_reproducible(shape, params, rng):
    lo, hi = rng
    a = shape.rvs(4000, *params, lo=lo, hi=hi, rng=np.random.default_rng(7))
    b = shape.rvs(4000, *params, lo=lo, hi=hi, rng=7)
    assert_allclose(a, b)
    assert np.all((a >= lo) & (a <= hi))
    res = stats.kstest(a, lambda x: shape.cdf(x, *params, lo=lo, hi=hi))
    assert res.pvalue > 1e-3
    q = np.array([0.0, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0])
    x = shape.ppf(q, *params, lo=lo, hi=hi)
    assert_allclose(shape.cdf(x, *params, lo=lo, hi=hi), q, atol=1e-9)


def _truncated(dist, x, lo, hi):
    return dist.pdf(x) / (dist.cdf(hi) - dist.cdf(lo)), (dist.cdf(x) - dist.cdf(lo)) / (
        dist.cdf(hi) - dist.cdf(lo)
    )


@pytest.mark.parametrize("mu", [-0.5, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("sigma", [0.05, 0.4, 3.0])
def test_gauss_vs_scipy(mu, sigma):
    lo, hi = 0.0, 2.0
    x = np.linspace(lo, hi, 41)
    # truncnorm is scipy's tail-safe truncated normal (mu = -0.5, sigma = 0.05 is 10 sigma out)
    ref = stats.truncnorm((lo - mu) / sigma, (hi - mu) / sigma, loc=mu, scale=sigma)
    assert_allclose(pdfs.gauss.pdf(x, mu, sigma, lo=lo, hi=hi), ref.pdf(x), rtol=1e-8, atol=1e-290)
    assert_allclose(pdfs.gauss.cdf(x, mu, sigma, lo=lo, hi=hi), ref.cdf(x), rtol=1e-8, atol=1e-14)
    if abs(mu - 1.0) < 4 * sigma:  # plain normal, truncated by hand, where that is accurate
        pdf, cdf = _truncated(stats.norm(mu, sigma), x, lo, hi)
        assert_allclose(pdfs.gauss.pdf(x, mu, sigma, lo=lo, hi=hi), pdf, rtol=1e-9)
        assert_allclose(pdfs.gauss.cdf(x, mu, sigma, lo=lo, hi=hi), cdf, rtol=1e-9, atol=1e-14)


def test_gauss_far_tail_range_is_accurate():
    # range 8-9 sigma above the mean: naive Phi(b) - Phi(a) would cancel catastrophically
    x = np.linspace(8.0, 9.0, 11)
    ref = stats.truncnorm(8.0, 9.0)
    assert_allclose(pdfs.gauss.pdf(x, 0.0, 1.0, lo=8.0, hi=9.0), ref.pdf(x), rtol=1e-7)
    assert_allclose(pdfs.gauss.cdf(x, 0.0, 1.0, lo=8.0, hi=9.0), ref.cdf(x), rtol=1e-7)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("n", [1.05, 2.0, 5.0, 30.0])
@pytest.mark.parametrize(("mu", "sigma"), [(1.0, 0.1), (0.4, 0.3), (1.9, 0.05)])
def test_crystalball_vs_scipy(alpha, n, mu, sigma):
    lo, hi = 0.0, 2.0
    x = np.linspace(lo, hi, 57)
    pdf, cdf = _truncated(stats.crystalball(alpha, n, loc=mu, scale=sigma), x, lo, hi)
    assert_allclose(pdfs.crystalball.pdf(x, mu, sigma, alpha, n, lo=lo, hi=hi), pdf, rtol=1e-8)
    assert_allclose(
        pdfs.crystalball.cdf(x, mu, sigma, alpha, n, lo=lo, hi=hi), cdf, rtol=1e-8, atol=1e-13
    )


def test_crystalball_tail_is_on_the_low_side():
    lo, hi, mu, sigma = 0.0, 2.0, 1.0, 0.1
    below = pdfs.crystalball.pdf(mu - 5 * sigma, mu, sigma, 1.0, 2.0, lo=lo, hi=hi)
    above = pdfs.crystalball.pdf(mu + 5 * sigma, mu, sigma, 1.0, 2.0, lo=lo, hi=hi)
    assert below > 100 * above


@pytest.mark.parametrize(("al", "nl"), [(0.7, 1.5), (1.5, 4.0)])
def test_dscb_reduces_to_crystalball_and_gauss(al, nl):
    lo, hi, mu, sigma = 0.0, 2.0, 1.0, 0.1
    x = np.linspace(lo, hi, 81)
    # right tail starting beyond the range: identical to the one-sided Crystal Ball
    d = pdfs.dscb.pdf(x, mu, sigma, al, nl, 20.0, 3.0, lo=lo, hi=hi)
    c = pdfs.crystalball.pdf(x, mu, sigma, al, nl, lo=lo, hi=hi)
    assert_allclose(d, c, rtol=1e-12)
    # mirror symmetry: swapping the tails mirrors the density about mu
    left = pdfs.dscb.pdf(mu - (x - mu), mu, sigma, al, nl, 1.2, 6.0, lo=lo, hi=hi)
    right = pdfs.dscb.pdf(x, mu, sigma, 1.2, 6.0, al, nl, lo=lo, hi=hi)
    assert_allclose(left, right, rtol=1e-12)
    g = pdfs.dscb.pdf(x, mu, sigma, 15.0, 2.0, 15.0, 2.0, lo=lo, hi=hi)
    assert_allclose(g, pdfs.gauss.pdf(x, mu, sigma, lo=lo, hi=hi), rtol=1e-12)


def test_dscb_continuous_at_joints():
    mu, sigma, al, ar = 1.0, 0.1, 0.8, 1.3
    p = (mu, sigma, al, 2.0, ar, 4.0)
    for joint in (mu - al * sigma, mu + ar * sigma):
        eps = 1e-9
        a, b = pdfs.dscb.pdf([joint - eps, joint + eps], *p, lo=0.0, hi=2.0)
        assert a == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize("lam", [0.1, 1.0, 5.0, 50.0])
@pytest.mark.parametrize(("lo", "hi"), [(0.0, 2.0), (1.0, 1.5), (3.0, 10.0)])
def test_exponential_vs_scipy(lam, lo, hi):
    x = np.linspace(lo, hi, 33)
    # truncexpon is scipy's truncated exponential on [loc, loc + b * scale]
    ref = stats.truncexpon((hi - lo) * lam, loc=lo, scale=1.0 / lam)
    pdf, cdf = ref.pdf(x), ref.cdf(x)
    if lam * hi < 30:  # plain expon truncated by hand, where that is accurate
        pdf2, cdf2 = _truncated(stats.expon(scale=1.0 / lam), x, lo, hi)
        assert_allclose(pdf2, pdf, rtol=1e-9)
    assert_allclose(pdfs.exponential.pdf(x, -lam, lo=lo, hi=hi), pdf, rtol=1e-9)
    assert_allclose(pdfs.exponential.cdf(x, -lam, lo=lo, hi=hi), cdf, rtol=1e-9, atol=1e-15)
    # rising slope: mirror image of the falling one
    up = pdfs.exponential.pdf(lo + hi - x, lam, lo=lo, hi=hi)
    assert_allclose(up, pdfs.exponential.pdf(x, -lam, lo=lo, hi=hi), rtol=1e-9)


def test_exponential_extreme_slopes_do_not_overflow():
    x = np.linspace(100.0, 101.0, 11)
    for k in (-1e3, 1e3, 1e-12, 0.0):
        p = pdfs.exponential.pdf(x, k, lo=100.0, hi=101.0)
        assert np.all(np.isfinite(p))


@pytest.mark.parametrize("chi", [0.0, 0.1, 1.0, 5.0, 20.0, 30.0])
@pytest.mark.parametrize(("lo", "hi"), [(5.2, 5.3), (0.0, 5.29), (4.0, 5.25)])
def test_argus_vs_scipy(chi, lo, hi):
    m0 = 5.29
    x = np.linspace(lo, hi, 45)
    if chi == 0.0:  # scipy needs chi > 0; chi -> 0 limit: x sqrt(1 - x^2/m0^2)
        un = np.where(x < m0, x * np.sqrt(np.clip(1 - (x / m0) ** 2, 0, 1)), 0.0)
        norm = _quad(lambda t: t * np.sqrt(max(1 - (t / m0) ** 2, 0.0)), lo, min(hi, m0))
        pdf = un / norm
        cdf = None
    else:
        dist = stats.argus(chi, scale=m0)
        with np.errstate(invalid="ignore"):
            pdf, cdf = _truncated(dist, x, lo, hi)
        pdf = np.where(x < m0, pdf, 0.0)
        cdf = np.where(x < m0, cdf, 1.0)
    assert_allclose(pdfs.argus.pdf(x, m0, chi, lo=lo, hi=hi), pdf, rtol=1e-8, atol=1e-12)
    if cdf is not None:
        assert_allclose(pdfs.argus.cdf(x, m0, chi, lo=lo, hi=hi), cdf, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("p", [-0.5, 0.0, 0.5, 1.0, 3.3])
@pytest.mark.parametrize("chi", [0.0, 2.0, 12.0])
def test_argus_general_power_normalised(p, chi):
    m0, lo, hi = 5.29, 5.0, 5.3

    def smooth(t):  # pdf / (m0 - t)^p: quad's algebraic weight handles the endpoint power
        return float(pdfs.argus.pdf(t, m0, chi, p, lo=lo, hi=hi)) / max(m0 - t, 1e-300) ** p

    if p < 0:  # integrable singularity at the endpoint
        total, _ = integrate.quad(smooth, lo, m0, weight="alg", wvar=(0.0, p), epsabs=1e-13)
    else:
        total = _quad(lambda t: float(pdfs.argus.pdf(t, m0, chi, p, lo=lo, hi=hi)), lo, m0)
    assert abs(total - 1.0) < 1e-6
    part = _quad(lambda t: float(pdfs.argus.pdf(t, m0, chi, p, lo=lo, hi=hi)), lo, 5.2)
    assert float(pdfs.argus.cdf(5.2, m0, chi, p, lo=lo, hi=hi)) == pytest.approx(part, abs=1e-9)


def test_argus_default_power_is_half():
    x = np.linspace(5.2, 5.29, 7)
    assert_allclose(
        pdfs.argus.pdf(x, 5.29, 3.0, lo=5.2, hi=5.3),
        pdfs.argus.pdf(x, 5.29, 3.0, 0.5, lo=5.2, hi=5.3),
    )


@pytest.mark.parametrize("coeffs", [(1.0,), (1.0, 0.5), (2.0, -0.3, 0.4, 0.1), (1, 0, 0, 0, -0.2)])
def test_chebyshev_vs_numpy(coeffs):
    lo, hi = 4.5, 5.5
    x = np.linspace(lo, hi, 31)
    t = (2 * x - lo - hi) / (hi - lo)
    un = np.polynomial.chebyshev.chebval(t, coeffs)
    norm = _quad(
        lambda v: np.polynomial.chebyshev.chebval((2 * v - lo - hi) / (hi - lo), coeffs), lo, hi
    )
    assert_allclose(pdfs.chebyshev.pdf(x, *coeffs, lo=lo, hi=hi), un / norm, rtol=1e-10)
    basis = pdfs.chebyshev.basis(x, len(coeffs) - 1, lo=lo, hi=hi)
    integ = pdfs.chebyshev.basis_integrals(len(coeffs) - 1, lo=lo, hi=hi)
    assert_allclose(
        np.asarray(coeffs) @ basis / (np.asarray(coeffs) @ integ), un / norm, rtol=1e-10
    )


@pytest.mark.parametrize("coeffs", [(1.0,), (1.0, 0.5), (2.0, 0.3, 0.4, 0.1), (0, 1, 0, 3, 0.2)])
def test_bernstein_vs_scipy_bpoly(coeffs):
    lo, hi = 0.5, 3.0
    x = np.linspace(lo, hi, 31)
    bp = interpolate.BPoly(np.asarray(coeffs, float)[:, None], [lo, hi])
    norm = bp.integrate(lo, hi)
    assert_allclose(pdfs.bernstein.pdf(x, *coeffs, lo=lo, hi=hi), bp(x) / norm, rtol=1e-10)
    assert_allclose(
        pdfs.bernstein.cdf(x, *coeffs, lo=lo, hi=hi),
        [bp.integrate(lo, v) / norm for v in x],
        rtol=1e-10,
        atol=1e-14,
    )
    basis = pdfs.bernstein.basis(x, len(coeffs) - 1, lo=lo, hi=hi)
    integ = pdfs.bernstein.basis_integrals(len(coeffs) - 1, lo=lo, hi=hi)
    assert_allclose(
        np.asarray(coeffs) @ basis / (np.asarray(coeffs) @ integ), bp(x) / norm, rtol=1e-10
    )


def test_polynomial_scale_cancels_and_negative_density_reported():
    x = np.linspace(0, 1, 5)
    assert_allclose(
        pdfs.chebyshev.pdf(x, 1, 0.3, lo=0, hi=1), pdfs.chebyshev.pdf(x, 7, 2.1, lo=0, hi=1)
    )
    with pytest.raises(ValueError, match="negative"):
        pdfs.chebyshev.rvs(10, 1.0, 3.0, lo=0.0, hi=1.0, rng=1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pdfs.gauss.pdf(1.0, 0.0, 0.0, lo=0, hi=1), "sigma"),
        (lambda: pdfs.gauss.pdf(1.0, 0.0, -1.0, lo=0, hi=1), "sigma"),
        (lambda: pdfs.gauss.pdf(1.0, np.nan, 1.0, lo=0, hi=1), "non-finite"),
        (lambda: pdfs.gauss.pdf(1.0, 0.0, 1.0, lo=1, hi=1), "lo < hi"),
        (lambda: pdfs.gauss.pdf(1.0, 0.0, 1.0, lo=0, hi=np.inf), "finite"),
        (lambda: pdfs.gauss.pdf(1.0, 0.0, lo=0, hi=1), "takes"),
        (lambda: pdfs.crystalball.pdf(1.0, 0.0, 1.0, 1.0, 1.0, lo=0, hi=1), "n must be > 1"),
        (lambda: pdfs.crystalball.pdf(1.0, 0.0, 1.0, -1.0, 3.0, lo=0, hi=1), "alpha"),
        (lambda: pdfs.dscb.pdf(1.0, 0.0, 1.0, 1.0, 2.0, 1.0, 0.5, lo=0, hi=1), "n_r"),
        (lambda: pdfs.argus.pdf(1.0, 5.29, -1.0, lo=5.0, hi=5.3), "chi"),
        (lambda: pdfs.argus.pdf(1.0, 5.29, 1.0, -2.0, lo=5.0, hi=5.3), "p must"),
        (lambda: pdfs.argus.pdf(1.0, 5.29, 1.0, lo=5.3, hi=5.4), "endpoint"),
        (lambda: pdfs.exponential.pdf(1.0, np.inf, lo=0, hi=1), "non-finite"),
        (lambda: pdfs.chebyshev.pdf(1.0, lo=0, hi=1), "coefficient"),
        (lambda: pdfs.bernstein.pdf(0.5, 0.0, 0.0, lo=0, hi=1), "integrates"),
        (lambda: pdfs.gauss.rvs(-1, 0.0, 1.0, lo=0, hi=1), "size"),
        (lambda: pdfs.gauss.ppf(1.5, 0.0, 1.0, lo=0, hi=1), "probabilities"),
    ],
)
def test_invalid_parameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=60, deadline=None)
@given(
    mu=st.floats(-0.3, 2.5),
    sigma=st.floats(0.02, 2.0),
    alpha=st.floats(0.05, 5.0),
    n=st.floats(1.01, 50.0),
)
def test_crystalball_cdf_monotone_and_bounded(mu, sigma, alpha, n):
    x = np.linspace(0.0, 2.0, 201)
    c = pdfs.crystalball.cdf(x, mu, sigma, alpha, n, lo=0.0, hi=2.0)
    assert np.all(np.isfinite(c))
    assert np.all(np.diff(c) >= -1e-12)
    assert c[0] == 0.0
    assert c[-1] == pytest.approx(1.0, abs=1e-12)
    p = pdfs.crystalball.pdf(x, mu, sigma, alpha, n, lo=0.0, hi=2.0)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
