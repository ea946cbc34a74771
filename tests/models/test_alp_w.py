"""W-coupled ALP: a -> gamma gamma, photon-mediated ALP-strahlung and B -> K(*) a."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darkscan.models import get_model
from darkscan.models.alp_w import WALP, b_to_s_coupling, loop_function_w
from darkscan.physics.constants import (
    G_FERMI,
    HBAR_GEV_S,
    M_B_CHARGED,
    M_B_ZERO,
    M_CHARM,
    M_K_CHARGED,
    M_K_STAR_ZERO,
    M_TOP,
    M_W,
    SIN2_THETA_W,
    TAU_B_CHARGED_S,
    TAU_B_ZERO_S,
    V_TB,
    V_TS,
)
from darkscan.physics.form_factors import a0_b_to_kstar, f0_b_to_k

SQRT_S = 10.58
K_MODE = "B+ -> K+ a"
KSTAR_MODE = "B0 -> K*0 a"
K_THRESHOLD = M_B_CHARGED - M_K_CHARGED
KSTAR_THRESHOLD = M_B_ZERO - M_K_STAR_ZERO
couplings = st.floats(min_value=1e-9, max_value=1e-2)


@pytest.fixture(scope="module")
def walp() -> WALP:
    return get_model("alp-w")


def test_registry(walp):
    assert isinstance(walp, WALP)
    assert walp.name == "alp-w"
    assert walp.channels == ("gamma gamma",)
    assert walp.coupling_names == ("g_aW",)
    assert walp.b_decay_modes == (K_MODE, KSTAR_MODE)
    assert walp.parameters() == {"sin2_theta_w": SIN2_THETA_W}
    assert get_model("alp-w", sin2_theta_w=0.223).sin2_theta_w == 0.223
    with pytest.raises(ValueError, match="sin2_theta_w"):
        get_model("alp-w", sin2_theta_w=1.5)


# ----------------------------------------------------------------------- a -> gamma gamma


def test_width_formula(walp):
    m, g = 0.5, 1e-5
    # Gamma = g_aW^2 m^3 sin^4(theta_W) / (64 pi): m^3, not the m^2 of the seed slide.
    expected = g**2 * m**3 * SIN2_THETA_W**2 / (64 * math.pi)
    assert walp.total_width(m, g_aW=g) == pytest.approx(expected, rel=1e-14)
    photon = get_model("alp-photon")
    assert walp.total_width(m, g_aW=g) == pytest.approx(
        photon.total_width(m, g_agg=g * SIN2_THETA_W), rel=1e-14
    )
    assert walp.g_agg_effective(g) == pytest.approx(g * SIN2_THETA_W)
    assert walp.total_width(0.0, g_aW=g) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    m1=st.floats(min_value=1e-3, max_value=10.0),
    m2=st.floats(min_value=1e-3, max_value=10.0),
    g=couplings,
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_width_and_b_decay_scaling(walp, m1, m2, g, scale):
    w = walp.total_width(m1, g_aW=g)
    assert walp.total_width(m1, g_aW=g * scale) == pytest.approx(w * scale**2, rel=1e-10)
    assert walp.total_width(m2, g_aW=g) == pytest.approx(w * (m2 / m1) ** 3, rel=1e-10)
    assert walp.branching_fraction("gamma gamma", m1, g_aW=g) == 1.0
    for mode in (K_MODE, KSTAR_MODE):
        br = walp.b_decay_branching_fraction(mode, m1, g_aW=g)
        assert walp.b_decay_branching_fraction(mode, m1, g_aW=g * scale) == pytest.approx(
            br * scale**2, rel=1e-10
        )


def test_broadcasting(walp):
    m = np.linspace(0.0, 6.0, 13)[:, None]
    g = np.array([[1e-6, 1e-5, 1e-4]])
    assert walp.total_width(m, g_aW=g).shape == (13, 3)
    for mode in walp.b_decay_modes:
        br = walp.b_decay_branching_fraction(mode, m, g_aW=g)
        assert br.shape == (13, 3)
        assert np.all(np.isfinite(br)) and np.all(br >= 0)
        is_open = br[:, 0] > 0
        assert is_open.sum() == (10 if mode == K_MODE else 9)  # m <= 4.5, 4.0 GeV
        np.testing.assert_allclose(br[is_open, 1] / br[is_open, 0], 100.0)
        assert np.all(br[~is_open] == 0.0)


# ----------------------------------------------------------------------- e+e- -> gamma a


@pytest.mark.parametrize(("z_lo", "z_hi"), [(-1.0, 1.0), (-0.6, 0.9), (0.2, 0.4)])
def test_production(walp, z_lo, z_hi):
    kw = {"cos_theta_min": z_lo, "cos_theta_max": z_hi}
    g = 1e-3
    closed = walp.cross_section_fb(SQRT_S, 2.0, g_aW=g, **kw)
    assert closed == pytest.approx(
        walp.cross_section_numerical_fb(SQRT_S, 2.0, g_aW=g, **kw), rel=1e-9
    )
    photon = get_model("alp-photon")
    assert closed == pytest.approx(
        photon.cross_section_fb(SQRT_S, 2.0, g_agg=g * SIN2_THETA_W, **kw), rel=1e-14
    )
    assert walp.cross_section_fb(SQRT_S, SQRT_S, g_aW=g) == 0.0


# ----------------------------------------------------------------------- loop function, g_sb


def test_loop_function():
    assert loop_function_w(1.0) == pytest.approx(0.5, rel=1e-14)
    # continuous through the series region around x = 1
    for x in (1 - 2e-4, 1 - 5e-5, 1 + 5e-5, 1 + 2e-4):
        exact = x * (1 - x + x * math.log(x)) / (1 - x) ** 2
        assert loop_function_w(x) == pytest.approx(exact, rel=1e-7)
    assert loop_function_w(0.0) == 0.0
    assert loop_function_w(1e-6) == pytest.approx(1e-6, rel=1e-4)  # f(x) ~ x for light quarks
    # large x: f -> ln x - 1 + O(ln x / x)
    assert loop_function_w(1e8) == pytest.approx(math.log(1e8) - 1, rel=1e-6)
    x_t = (M_TOP / M_W) ** 2
    assert loop_function_w(x_t) == pytest.approx(1.2155, abs=2e-3)


def test_b_to_s_coupling_by_hand():
    x_t = (M_TOP / M_W) ** 2
    x_c = (M_CHARM / M_W) ** 2

    def f(x):
        return x * (1 - x + x * math.log(x)) / (1 - x) ** 2

    expected = 3 * math.sqrt(2) * G_FERMI * M_W**2 / (16 * math.pi**2) * V_TB * V_TS
    expected *= f(x_t) - f(x_c)
    assert b_to_s_coupling(1.0) == pytest.approx(expected, rel=1e-12)
    assert b_to_s_coupling(1.0) == pytest.approx(1.020e-4, rel=3e-3)


def test_form_factors():
    assert f0_b_to_k(0.0) == pytest.approx(0.330)
    assert a0_b_to_kstar(0.0) == pytest.approx(0.374)
    assert f0_b_to_k(1.0) == pytest.approx(0.330 / (1 - 1 / 37.46))


# ----------------------------------------------------------------------- B -> K(*) a


def test_br_b_to_k_a_by_hand(walp):
    """BR(B+ -> K+ a) / g_aW^2 at m_a = 1 GeV, written out step by step."""
    m_a = 1.0
    # 1. One-loop b -> s coupling of L = -g_sb (d a) sbar gamma P_L b [GeV^-1 per GeV^-1 of g_aW]:
    #    3 sqrt(2) G_F m_W^2/(16 pi^2) = 3 x 1.41421 x 1.16638e-5 x 80.36^2 / 157.914 = 2.024e-3,
    #    x |V_tb V_ts| = 0.04146 -> 8.39e-5, x [f(x_t) - f(x_c)] = 1.2153 -> g_sb = 1.020e-4.
    g_sb = b_to_s_coupling(1.0)
    # 2. Amplitude: (g_sb / 2) q_mu <K|sbar gamma^mu b|B> = (g_sb / 2)(m_B^2 - m_K^2) f0(m_a^2),
    #    m_B^2 - m_K^2 = 27.872 - 0.244 = 27.628 GeV^2, f0(1) = 0.330 / (1 - 1/37.46) = 0.33905.
    m_b2, m_k2 = M_B_CHARGED**2, M_K_CHARGED**2
    f0 = 0.330 / (1 - m_a**2 / 37.46)
    amp = 0.5 * g_sb * (m_b2 - m_k2) * f0
    # 3. lambda^(1/2)(m_B^2, m_K^2, m_a^2) = sqrt((27.872 - 0.244 - 1)^2 - 4 x 0.244) = 26.61 GeV^2.
    lam_sqrt = math.sqrt((m_b2 - m_k2 - m_a**2) ** 2 - 4 * m_k2 * m_a**2)
    # 4. Gamma = |A|^2 lambda^(1/2) / (16 pi m_B^3) = 8.2e-10 GeV x (g_aW GeV)^2.
    width = amp**2 * lam_sqrt / (16 * math.pi * M_B_CHARGED**3)
    # 5. BR = Gamma tau_B+ / hbar, tau_B+ / hbar = 1.637e-12 s / 6.582e-25 GeV s = 2.487e12 /GeV.
    br = width * TAU_B_CHARGED_S / HBAR_GEV_S
    print(f"BR(B+ -> K+ a) / g_aW^2 at m_a = 1 GeV: {br:.4g} GeV^2")
    assert walp.b_decay_width(K_MODE, m_a, g_aW=1.0) == pytest.approx(width, rel=1e-12)
    assert walp.b_decay_branching_fraction(K_MODE, m_a, g_aW=1.0) == pytest.approx(br, rel=1e-12)
    assert br == pytest.approx(2.04e3, rel=5e-3)
    # At the Belle 711 fb^-1 reach g_aW ~ 3e-6 /GeV this is BR ~ 2e-8.
    assert walp.b_decay_branching_fraction(K_MODE, m_a, g_aW=3e-6) == pytest.approx(
        1.84e-8, rel=1e-2
    )


def test_br_b_to_kstar_a_by_hand(walp):
    """BR(B0 -> K*0 a) / g_aW^2 at m_a = 1 GeV: only the longitudinal K* (lambda^(3/2))."""
    m_a = 1.0
    g_sb = b_to_s_coupling(1.0)
    a0 = 1.364 / (1 - 1 / 27.88) - 0.990 / (1 - 1 / 36.78)  # = 0.3971
    m_b2, m_k2 = M_B_ZERO**2, M_K_STAR_ZERO**2
    lam = (m_b2 - m_k2 - m_a**2) ** 2 - 4 * m_k2 * m_a**2
    # |M|^2 = g_sb^2 m_K*^2 A0^2 |eps_L.q|^2, |eps_L.q|^2 = lambda / (4 m_K*^2)
    width = (0.5 * g_sb * a0) ** 2 * lam**1.5 / (16 * math.pi * M_B_ZERO**3)
    br = width * TAU_B_ZERO_S / HBAR_GEV_S
    print(f"BR(B0 -> K*0 a) / g_aW^2 at m_a = 1 GeV: {br:.4g} GeV^2")
    assert walp.b_decay_branching_fraction(KSTAR_MODE, m_a, g_aW=1.0) == pytest.approx(
        br, rel=1e-12
    )
    assert br == pytest.approx(2.24e3, rel=5e-3)


@pytest.mark.parametrize(
    ("mode", "threshold", "power"), [(K_MODE, K_THRESHOLD, 0.5), (KSTAR_MODE, KSTAR_THRESHOLD, 1.5)]
)
def test_b_decay_threshold(walp, mode, threshold, power):
    # exactly 0 at and above m_B - m_K(*), including beyond the form-factor poles; no NaN
    above = np.array([threshold, threshold + 1e-9, 5.0, math.sqrt(27.88), math.sqrt(37.46), 7.0])
    width = walp.b_decay_width(mode, above, g_aW=1e-5)
    np.testing.assert_array_equal(width, np.zeros_like(above))
    # lambda ~ (threshold - m) near threshold: Gamma ~ delta^(1/2) for K, delta^(3/2) for K*
    d1, d2 = 1e-6, 4e-6
    w1, w2 = walp.b_decay_width(mode, [threshold - d1, threshold - d2], g_aW=1e-5)
    assert w1 > 0
    assert w2 / w1 == pytest.approx(4.0**power, rel=1e-4)


def test_b_decay_mass_dependence(walp):
    m = np.linspace(0.0, K_THRESHOLD, 200, endpoint=False)
    br = walp.b_decay_branching_fraction(K_MODE, m, g_aW=1e-5)
    assert np.all(br > 0)
    # O(2e-7) at g_aW = 1e-5 / GeV over most of the range
    assert 1.5e-7 < br[0] < 2.5e-7


def test_bad_input(walp):
    with pytest.raises(ValueError, match=r"valid: \['g_aW'\]"):
        walp.total_width(1.0, g_agg=1e-3)
    with pytest.raises(ValueError, match="g_aW"):
        walp.b_decay_width(K_MODE, 1.0, g_aW=-1e-5)
    with pytest.raises(ValueError, match="g_aW"):
        walp.b_decay_width(K_MODE, 1.0, g_aW=np.nan)
    with pytest.raises(ValueError, match="mass"):
        walp.b_decay_width(K_MODE, -1.0, g_aW=1e-5)
    with pytest.raises(ValueError, match="mass"):
        walp.total_width(np.inf, g_aW=1e-5)
    with pytest.raises(ValueError, match="unknown B decay"):
        walp.b_decay_width("B+ -> K+ S", 1.0, g_aW=1e-5)
    with pytest.raises(ValueError, match="g_aW"):
        walp.g_agg_effective(-1.0)
