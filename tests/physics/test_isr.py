import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats

from darkscan.physics import isr
from darkscan.physics.constants import ALPHA_EM, M_ELECTRON

S = 10.58**2


def _w_times_x1mb(x, s, order, nonlog):
    """W(x) x^(1 - beta), the regular part for scipy's algebraic-weight quadrature."""
    b = float(isr.isr_beta(s))
    if x <= 0:
        return b * float(isr.soft_factor(b, order, nonlog))
    return float(isr.radiator(x, s, order=order, nonlog=nonlog)) * x ** (1 - b)


def _quad_w(a, b_, s, order=1, nonlog=False):
    """int_a^b W dx by QAWS (weight x^(beta - 1)) - independent of the closed forms."""
    beta = float(isr.isr_beta(s))
    value, _ = integrate.quad(
        _w_times_x1mb,
        a,
        b_,
        args=(s, order, nonlog),
        weight="alg",
        wvar=(beta - 1.0, 0.0),
        epsabs=0.0,
        epsrel=1e-12,
        limit=200,
    )
    return value


def test_beta_at_the_upsilon_4s():
    beta = isr.isr_beta(S)
    expected = 2 * ALPHA_EM / np.pi * (np.log(S / M_ELECTRON**2) - 1)
    assert_allclose(beta, expected, rtol=1e-14)
    assert 0.087 < beta < 0.088


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("nonlog", [False, True])
def test_sum_rule_and_closed_form_cdf(order, nonlog):
    # Leading logs: int_0^1 W = 1 exactly (the hard term -3 beta/4 cancels the 3 beta/4 of
    # Delta; at order 2 the bracket, 2 pi^2/3 - 9/4, cancels beta^2 (9/32 - pi^2/12)).
    # nonlog adds alpha/pi (pi^2/3 - 1/2) = 0.65 %.
    expected_total = 1.0 + (isr.NONLOG_CONSTANT if nonlog else 0.0)
    assert_allclose(isr.radiator_cdf(1.0, S, order=order, nonlog=nonlog), expected_total)
    assert_allclose(_quad_w(0.0, 1.0, S, order, nonlog), expected_total, rtol=1e-10)
    for x in (1e-8, 1e-4, 0.01, 0.3, 0.9, 0.999):
        assert_allclose(
            isr.radiator_cdf(x, S, order=order, nonlog=nonlog),
            _quad_w(0.0, x, S, order, nonlog),
            rtol=1e-10,
        )


def test_radiator_shape():
    beta = float(isr.isr_beta(S))
    x = np.geomspace(1e-12, 0.999, 200)
    for order in (1, 2):
        w = isr.radiator(x, S, order=order)
        assert np.all(w > 0)
        # soft limit: W -> Delta beta x^(beta - 1)
        delta = float(isr.soft_factor(beta, order))
        assert_allclose(w[0], delta * beta * x[0] ** (beta - 1), rtol=1e-9)
    assert isr.radiator(0.0, S) == np.inf
    assert isr.radiator(1.5, S) == 0.0


@pytest.mark.parametrize(("order", "pole"), [(1, None), (2, None), (1, 0.0), (2, 0.05)])
def test_sampler_reproduces_the_radiator(order, pole):
    x_max = 0.9
    n = 400_000
    res = isr.sample_x(n, np.random.default_rng(7), S, x_max=x_max, order=order, pole=pole)
    assert np.all((res.x > 0) & (res.x <= x_max))
    assert np.all(np.isfinite(res.weight)) and np.all(res.weight > 0)
    edges = np.concatenate([[0.0], np.geomspace(1e-9, x_max, 25)])
    idx = np.clip(np.searchsorted(edges, res.x, side="right") - 1, 0, len(edges) - 2)
    sw = np.bincount(idx, res.weight, len(edges) - 1) / n
    sw2 = np.bincount(idx, res.weight**2, len(edges) - 1) / n
    var = (sw2 - sw**2) / n
    expected = np.diff(isr.radiator_cdf(edges, S, order=order))
    chi2 = np.sum((sw - expected) ** 2 / var)
    assert stats.chi2.sf(chi2, len(expected)) > 1e-3, chi2
    total = res.weight.mean()
    err = res.weight.std() / np.sqrt(n)
    assert abs(total - isr.radiator_cdf(x_max, S, order=order)) < 5 * err


def test_sampler_is_deterministic_and_validates():
    a = isr.sample_x(1000, np.random.default_rng(3), S, x_max=0.5, pole=0.1)
    b = isr.sample_x(1000, np.random.default_rng(3), S, x_max=0.5, pole=0.1)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.weight, b.weight)
    with pytest.raises(ValueError, match="x_max"):
        isr.sample_x(10, np.random.default_rng(), S, x_max=1.5)
    with pytest.raises(ValueError, match="pole"):
        isr.sample_x(10, np.random.default_rng(), S, x_max=0.5, pole=0.6)
    with pytest.raises(ValueError, match="order"):
        isr.sample_x(10, np.random.default_rng(), S, order=3)
    with pytest.raises(ValueError, match="n must"):
        isr.sample_x(-1, np.random.default_rng(), S)
    with pytest.raises(ValueError, match="angular"):
        isr.sample_photon_direction(10, np.random.default_rng(), S, angular="flat")


def test_photon_direction_distributions():
    n = 200_000
    cos, sin, phi = isr.sample_photon_direction(n, np.random.default_rng(1), S)
    assert_allclose(cos * cos + sin * sin, 1.0, atol=1e-12)
    assert np.all((phi >= 0) & (phi < 2 * np.pi))
    # CDF of 1 / (1 - b^2 c^2): P(|cos| < c) = artanh(b c) / artanh(b)
    b = np.sqrt(1 - 4 * M_ELECTRON**2 / S)
    for c in (0.5, 0.99, 0.9999999):
        p = np.arctanh(b * c) / np.arctanh(b)
        frac = np.mean(np.abs(cos) < c)
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n)
    # forward / backward symmetric; log-flat in the angle from ~m_e / E to ~1, so the median
    # angle is sech(artanh(b) / 2) ~ 2 sqrt(m_e / sqrt(s)) = 0.014
    assert abs(np.mean(cos > 0) - 0.5) < 5 * np.sqrt(0.25 / n)
    assert_allclose(np.median(sin), 1 / np.cosh(np.arctanh(b) / 2), rtol=0.02)
    cos_c, sin_c, _ = isr.sample_photon_direction(
        n, np.random.default_rng(1), S, angular="collinear"
    )
    assert np.all(np.abs(cos_c) == 1.0) and np.all(sin_c == 0.0)
    assert abs(np.mean(cos_c)) < 5 / np.sqrt(n)


def test_photon_and_recoil_conserve_and_have_mass():
    rng = np.random.default_rng(2)
    n = 1000
    x = rng.uniform(0, 0.9, n)
    cos, sin, phi = isr.sample_photon_direction(n, rng, S)
    k, p = isr.photon_and_recoil(x, np.sqrt(S), cos, sin, phi)
    assert_allclose(k + p, np.broadcast_to([np.sqrt(S), 0, 0, 0], (n, 4)), atol=1e-12)
    m2 = p[:, 0] ** 2 - np.sum(p[:, 1:] ** 2, axis=1)
    assert_allclose(m2, S * (1 - x), rtol=1e-10)
    assert_allclose(k[:, 0] ** 2 - np.sum(k[:, 1:] ** 2, axis=1), 0.0, atol=1e-10)


@pytest.mark.parametrize("x_max", [0.1, 0.5, 0.9, 0.99, 1 - 4 * 0.10566**2 / S])
def test_convolution_of_one_over_s_matches_closed_form(x_max):
    # sigma0 ~ 1/s (point-like e+e- -> mu+ mu-): the correction factor in closed form,
    # Delta x_m^beta 2F1(1, beta; 1 + beta; x_m) - beta (x_m / 2 - ln(1 - x_m) / 2).
    closed = isr.inverse_s_correction(S, x_max)
    numeric = isr.convolve(lambda sp: S / sp, S, x_max=x_max)
    assert_allclose(numeric, closed, rtol=1e-10)


def test_one_over_s_correction_values():
    # +0.7 % (x < 0.5), +12 % (x < 0.9), +24 % (x < 0.99), +33 % up to the mu mu threshold
    assert 1.005 < isr.inverse_s_correction(S, 0.5) < 1.01
    assert 1.11 < isr.inverse_s_correction(S, 0.9) < 1.13
    assert 1.22 < isr.inverse_s_correction(S, 0.99) < 1.25
    # soft cut-off limit: sigma_ISR / sigma0 -> x_m^beta (1 + 3 beta / 4) for small x_m
    beta = float(isr.isr_beta(S))
    assert_allclose(isr.inverse_s_correction(S, 1e-6), (1 + 0.75 * beta) * 1e-6**beta, rtol=1e-5)


def test_convolution_order_2_against_adaptive_quadrature():
    x_max = 0.95

    def sigma0(sp):
        return (S / sp) ** 2 * (1 + 0.3 * np.sin(sp / 10))

    expected = _quad_w_f(sigma0, x_max, order=2)
    assert_allclose(isr.convolve(sigma0, S, x_max=x_max, order=2), expected, rtol=1e-8)


def _quad_w_f(sigma0, x_max, order):
    beta = float(isr.isr_beta(S))

    def f(x):
        return _w_times_x1mb(x, S, order, False) * float(sigma0(S * (1 - x)))

    v1, _ = integrate.quad(
        f, 0, 0.05, weight="alg", wvar=(beta - 1, 0), epsabs=0, epsrel=1e-12, limit=200
    )
    v2, _ = integrate.quad(
        lambda x: float(isr.radiator(x, S, order=order)) * float(sigma0(S * (1 - x))),
        0.05,
        x_max,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )
    return v1 + v2


def test_convolve_validates():
    with pytest.raises(ValueError, match="x_max"):
        isr.convolve(lambda sp: 1 / sp, S, x_max=0.0)
    with pytest.raises(ValueError, match="pole"):
        isr.convolve(lambda sp: 1 / sp, S, x_max=0.9, pole=0.2)
    with pytest.raises(ValueError, match="s must"):
        isr.isr_beta(1e-9)
