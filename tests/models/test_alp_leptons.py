"""Lepton-coupled ALP: a -> l+ l-, the lepton-loop a -> gamma gamma and its loop function."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from darkscan.models import get_model
from darkscan.models.alp_leptons import LeptonALP, b1_loop
from darkscan.physics.constants import ALPHA_EM, M_ELECTRON, M_MUON, M_TAU

LEPTONS = {"e+e-": M_ELECTRON, "mu+mu-": M_MUON, "tau+tau-": M_TAU}
couplings = st.floats(min_value=1e-8, max_value=1e-1)


@pytest.fixture(scope="module")
def alp() -> LeptonALP:
    return get_model("alp-leptons")


def test_registry(alp):
    assert isinstance(alp, LeptonALP)
    assert alp.name == "alp-leptons"
    assert alp.channels == ("e+e-", "mu+mu-", "tau+tau-", "gamma gamma")
    assert alp.coupling_names == ("g_ll",)
    assert alp.productions == ()
    with pytest.raises(ValueError, match="no closed-form"):
        alp.cross_section_fb(10.58, 1.0, g_ll=1e-3)


# ----------------------------------------------------------------------- a -> l+ l-


@pytest.mark.parametrize(("channel", "m_l"), list(LEPTONS.items()))
def test_lepton_width_threshold_and_limits(alp, channel, m_l):
    g = 1e-3
    # exactly 0 at and below threshold (no NaN)
    below = np.array([0.0, m_l, 2 * m_l * (1 - 1e-12), 2 * m_l])
    np.testing.assert_array_equal(alp.partial_width(channel, below, g_ll=g), np.zeros(4))
    # one power of beta just above threshold (pseudoscalar)
    m = 2 * m_l * (1 + 1e-6)
    beta = math.sqrt(1 - 4 * m_l**2 / m**2)
    expected = g**2 * m_l**2 * m * beta / (8 * math.pi)
    assert alp.partial_width(channel, m, g_ll=g) == pytest.approx(expected, rel=1e-9)
    # large-mass limit g^2 m_l^2 m / (8 pi)
    m = 1e4 * m_l
    assert alp.partial_width(channel, m, g_ll=g) == pytest.approx(
        g**2 * m_l**2 * m / (8 * math.pi), rel=1e-7
    )


@settings(max_examples=60, deadline=None)
@given(
    m1=st.floats(min_value=1e-3, max_value=10.0),
    m2=st.floats(min_value=1e-3, max_value=10.0),
    g=couplings,
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_width_scaling_and_branching(alp, m1, m2, g, scale):
    w1 = alp.partial_widths(m1, g_ll=g)
    w_scaled = alp.partial_widths(m1, g_ll=g * scale)
    w2 = alp.partial_widths(m2, g_ll=g)
    for ch in alp.channels:
        assert w_scaled[ch] == pytest.approx(w1[ch] * scale**2, rel=1e-10)
    for ch, m_l in LEPTONS.items():
        b1 = math.sqrt(max(0.0, 1 - 4 * m_l**2 / m1**2)) if m1 > 2 * m_l else 0.0
        b2 = math.sqrt(max(0.0, 1 - 4 * m_l**2 / m2**2)) if m2 > 2 * m_l else 0.0
        assert w2[ch] * m1 * b1 == pytest.approx(w1[ch] * m2 * b2, rel=1e-9, abs=1e-300)
    brs = alp.branching_fractions(m1, g_ll=g)
    assert sum(brs.values()) == pytest.approx(1.0, rel=1e-12)
    assert all(0 <= b <= 1 for b in brs.values())


def test_broadcasting(alp):
    m = np.logspace(-4, 1, 30)[:, None]
    g = np.array([[1e-6, 1e-4, 1e-2]])
    widths = alp.partial_widths(m, g_ll=g)
    for ch in alp.channels:
        assert widths[ch].shape == (30, 3)
        assert np.all(np.isfinite(widths[ch]))
    np.testing.assert_allclose(widths["gamma gamma"][:, 2] / widths["gamma gamma"][:, 0], 1e8)
    br = alp.branching_fractions(m, g_ll=g)
    np.testing.assert_allclose(sum(br.values()), 1.0, rtol=1e-12)
    # below 2 m_e the photons are the only channel
    assert br["gamma gamma"][0, 0] == 1.0


def test_zero_coupling_and_mass(alp):
    widths = alp.partial_widths([0.0, 1.0], g_ll=[1e-3, 0.0])
    for ch in alp.channels:
        np.testing.assert_array_equal(widths[ch], [0.0, 0.0])
    assert alp.branching_fraction("mu+mu-", 1.0, g_ll=0.0) == 0.0


# ----------------------------------------------------------------------- loop function


def _b1_feynman_parameters(tau: float) -> complex:
    """1 - 2 int dx dy 1/(1 - 4xy/tau - i0) over the triangle, the y integral done analytically:
    int_0^(1-x) dy / (1 - a x y - i0) = -ln(1 - a x (1 - x) - i0) / (a x), a = 4 / tau."""
    a = 4.0 / tau
    points = None
    if tau < 1:
        s = math.sqrt(1 - tau)
        points = [(1 - s) / 2, (1 + s) / 2]

    def re(x):
        return -math.log(abs(1 - a * x * (1 - x))) / (a * x)

    real, _ = integrate.quad(re, 0.0, 1.0, points=points, limit=400, epsabs=0, epsrel=1e-11)
    imag = 0.0
    if tau < 1:  # ln(-|w| - i0) = ln|w| - i pi on (x1, x2): + i pi / (a x)
        imag = math.pi / a * math.log(points[1] / points[0])
    return 1.0 - 2.0 * complex(real, imag)


@pytest.mark.parametrize("tau", [1e-4, 0.01, 0.3, 0.9, 0.999, 1.001, 1.5, 4.0, 50.0, 900.0])
def test_b1_matches_feynman_parameter_integral(tau):
    assert b1_loop(tau) == pytest.approx(_b1_feynman_parameters(tau), rel=1e-7, abs=1e-10)


def test_b1_limits():
    # light fermion (m_a >> m_f): the anomaly value 1
    assert b1_loop(0.0) == 1.0
    assert b1_loop(1e-12) == pytest.approx(1.0, abs=1e-9)
    # heavy fermion decouples: B1 = -m_a^2/(12 m_f^2) = -1/(3 tau) + O(tau^-2)
    for tau in (1e3, 1e5, 1e9, 1e15):
        assert b1_loop(tau).real == pytest.approx(-1 / (3 * tau), rel=1e-2 / tau * 100)
        assert b1_loop(tau).imag == 0.0
    assert b1_loop(np.inf) == 0.0
    # series / closed form and the two closed forms join smoothly
    lo, hi = b1_loop([999.999, 1000.001])
    assert lo == pytest.approx(hi, rel=1e-5)
    below_1, at_1, above_1 = b1_loop([1 - 1e-12, 1.0, 1 + 1e-12])
    assert at_1 == pytest.approx(1 - math.pi**2 / 4)
    assert below_1 == pytest.approx(at_1, abs=1e-5)
    assert above_1 == pytest.approx(at_1, abs=1e-5)
    with pytest.raises(ValueError, match="tau"):
        b1_loop(-1.0)


def test_b1_vectorised_matches_scalar():
    taus = np.array([1e-6, 0.2, 1.0, 3.0, 1e4])
    vec = b1_loop(taus)
    np.testing.assert_array_equal(vec, [complex(b1_loop(t)) for t in taus])
    assert b1_loop(taus.reshape(5, 1)).shape == (5, 1)


# ----------------------------------------------------------------------- a -> gamma gamma


def test_photon_width_light_lepton_limit(alp):
    # m_a >> m_tau: every lepton gives B1 -> 1, g_agg,eff -> 3 alpha/pi g_ll
    m, g = 3000.0, 1e-3
    g_eff = 3 * ALPHA_EM / math.pi * g
    assert abs(alp.g_agg_effective(m, g)) == pytest.approx(g_eff, rel=2e-3)
    assert alp.partial_width("gamma gamma", m, g_ll=g) == pytest.approx(
        g_eff**2 * m**3 / (64 * math.pi), rel=4e-3
    )


def test_photon_width_heavy_lepton_limit(alp):
    # m_a << 2 m_e: g_agg,eff = -(alpha/pi) g_ll m^2/12 sum_l 1/m_l^2 (decoupling), Gamma ~ m^7
    m, g = 1e-7, 1e-3
    g_eff = ALPHA_EM / math.pi * g * m**2 / 12 * sum(1 / ml**2 for ml in LEPTONS.values())
    assert alp.g_agg_effective(m, g) == pytest.approx(-g_eff, rel=1e-6)
    assert alp.partial_width("gamma gamma", m, g_ll=g) == pytest.approx(
        g_eff**2 * m**3 / (64 * math.pi), rel=1e-6
    )
    w1, w2 = alp.partial_width("gamma gamma", [m, 2 * m], g_ll=g)
    assert w2 / w1 == pytest.approx(2**7, rel=1e-6)


def test_photon_width_continuous_at_thresholds(alp):
    for m_l in LEPTONS.values():
        m0 = 2 * m_l
        w = alp.partial_width("gamma gamma", [m0 * (1 - 1e-10), m0, m0 * (1 + 1e-10)], g_ll=1e-3)
        np.testing.assert_allclose(w, w[1], rtol=1e-3)


def test_photon_branching_small(alp):
    # well above the muon threshold the loop-induced photon mode is a small correction
    br = alp.branching_fraction("gamma gamma", 1.0, g_ll=1e-3)
    assert 1e-5 < br < 1e-2


# ----------------------------------------------------------------------- bad input


def test_bad_input(alp):
    with pytest.raises(ValueError, match=r"valid: \['g_ll'\]"):
        alp.total_width(1.0, g_ee=1e-3)
    with pytest.raises(ValueError, match="needs coupling 'g_ll'"):
        alp.total_width(1.0)
    with pytest.raises(ValueError, match="mass"):
        alp.total_width(-0.5, g_ll=1e-3)
    with pytest.raises(ValueError, match="mass"):
        alp.g_agg_effective(np.nan, 1e-3)
    with pytest.raises(ValueError, match="g_ll"):
        alp.total_width(1.0, g_ll=-1e-3)
    with pytest.raises(ValueError, match="g_ll"):
        alp.total_width(1.0, g_ll=[1e-3, np.inf])
    with pytest.raises(ValueError, match="unknown channel"):
        alp.partial_width("hadrons", 1.0, g_ll=1e-3)
