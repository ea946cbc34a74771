import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from darkscan.models import get_model
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_ELECTRON, M_MUON, M_TAU

AP = get_model("dark-photon")
AP_INV = get_model("dark-photon-invisible")


def test_mumu_width_reference_value():
    # Three public codes agree: Gamma(A' -> mu mu) = 2.430e-9 GeV at m = 1 GeV, eps = 1e-3.
    assert_allclose(AP.partial_width("mu+mu-", 1.0, eps=1e-3), 2.430e-9, rtol=5e-4)


def test_mumu_branching_fraction_reference_range():
    br = AP.branching_fraction("mu+mu-", 1.0, eps=1e-3)
    assert 0.314 <= br <= 0.319


def test_ctau_reference_value():
    # c tau about 2.55e-8 m at 1 GeV, eps = 1e-3
    assert_allclose(AP.ctau_cm(1.0, eps=1e-3), 2.55e-6, rtol=0.03)


@pytest.mark.parametrize(
    ("channel", "m_f"), [("e+e-", M_ELECTRON), ("mu+mu-", M_MUON), ("tau+tau-", M_TAU)]
)
def test_lepton_thresholds_and_large_mass_limit(channel, m_f):
    assert AP.partial_width(channel, 2 * m_f, eps=1.0) == 0.0
    assert AP.partial_width(channel, 1.9 * m_f, eps=1.0) == 0.0
    just_above = AP.partial_width(channel, 2 * m_f * (1 + 1e-6), eps=1.0)
    assert 0 < just_above < 1e-2 * ALPHA_EM * 2 * m_f / 3
    big = 1e3
    assert_allclose(AP.partial_width(channel, big, eps=1.0), ALPHA_EM * big / 3, rtol=1e-4)


def test_hadrons_closed_below_two_pions():
    assert AP.partial_width("hadrons", 0.2, eps=1e-3) == 0.0
    assert AP.partial_width("hadrons", 0.775, eps=1e-3) > AP.partial_width(
        "mu+mu-", 0.775, eps=1e-3
    )


def test_below_everything_no_nan():
    m = np.array([0.0, 1e-4, 2 * M_ELECTRON])
    for v in AP.partial_widths(m, eps=1e-3).values():
        assert np.all(v == 0.0)
    for v in AP.branching_fractions(m, eps=1e-3).values():
        assert np.all(v == 0.0)
    assert np.all(AP.ctau_cm(m, eps=1e-3) == np.inf)


def test_invisible_dark_photon():
    br = AP_INV.branching_fraction("invisible", [0.1, 1.0, 5.0], eps=1e-3, alpha_d=0.5)
    assert np.all(br > 0.9999)
    # Gamma(chi chi) = alpha_D m / 3 (1 + 2 r) beta with r = 1/9
    r = 1 / 9
    expected = 0.5 * 1.0 / 3 * (1 + 2 * r) * np.sqrt(1 - 4 * r)
    assert_allclose(AP_INV.partial_width("invisible", 1.0, eps=1e-3, alpha_d=0.5), expected)
    heavy = get_model("dark-photon", m_chi=1.0)
    assert heavy.partial_width("invisible", 1.5, eps=1e-3, alpha_d=0.5) == 0.0
    with pytest.raises(ValueError, match="not both"):
        get_model("dark-photon", m_chi=1.0, chi_mass_ratio=0.3)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.002, 10.0), st.floats(1e-6, 1e-2), st.floats(0.1, 10.0))
def test_visible_widths_scale_as_eps_squared(m, eps, k):
    w1 = AP.partial_widths(m, eps=eps)
    w2 = AP.partial_widths(m, eps=eps * k)
    for ch in ("e+e-", "mu+mu-", "tau+tau-", "hadrons"):
        assert_allclose(w2[ch], k**2 * w1[ch], rtol=1e-10)


def _dsigma_dz_mandelstam(sqrt_s, m, eps, z):
    """Independent check: |M|^2 = 2 e^4 eps^2 (t^2 + u^2 + 2 s m^2)/(t u) (spin averaged)."""
    s = sqrt_s**2
    t = -(s - m * m) * (1 - z) / 2
    u = -(s - m * m) * (1 + z) / 2
    e2 = 4 * np.pi * ALPHA_EM
    msq = 2 * e2**2 * eps**2 * (t * t + u * u + 2 * s * m * m) / (t * u)
    return 2 * np.pi * msq / (64 * np.pi**2 * s) * (1 - m * m / s)


@pytest.mark.parametrize("m", [0.0, 0.5, 3.0, 8.0, 10.0])
def test_cross_section_closed_form_vs_numerical(m):
    for lo, hi in [(-0.95, 0.95), (-0.8, 0.3), (0.2, 0.99)]:
        closed = AP.cross_section_fb(10.58, m, eps=1e-3, cos_theta_min=lo, cos_theta_max=hi)
        numeric = AP.cross_section_numerical_fb(
            10.58, m, eps=1e-3, cos_theta_min=lo, cos_theta_max=hi
        )
        assert_allclose(closed, numeric, rtol=5e-3)
        assert_allclose(closed, numeric, rtol=1e-8)  # the quadrature is far better than 0.5 %
    z = np.linspace(-0.9, 0.9, 7)
    assert_allclose(
        AP.dsigma_dcos_fb(10.58, m, z, eps=1e-3),
        _dsigma_dz_mandelstam(10.58, m, 1e-3, z) * GEV2_TO_FB,
        rtol=1e-10,
    )


def test_cross_section_symmetric_range_matches_physics_md_formula():
    s, m, c, eps = 10.58**2, 2.0, 0.9, 1e-3
    r = m * m / s
    ref = (
        4
        * np.pi
        * ALPHA_EM**2
        * eps**2
        / s
        * ((1 + r * r) / (1 - r) * np.log((1 + c) / (1 - c)) - (1 - r) * c)
    )
    assert_allclose(
        AP.cross_section_fb(np.sqrt(s), m, eps=eps, cos_theta_min=-c, cos_theta_max=c),
        ref * GEV2_TO_FB,
        rtol=1e-12,
    )


def test_cross_section_zero_above_kinematic_limit():
    assert AP.cross_section_fb(10.58, 10.58, eps=1e-3, cos_theta_min=-0.9, cos_theta_max=0.9) == 0
    assert AP.cross_section_fb(10.58, 11.0, eps=1e-3, cos_theta_min=-0.9, cos_theta_max=0.9) == 0
    assert AP.cross_section_fb(10.58, 1.0, eps=1e-3, cos_theta_min=0.5, cos_theta_max=0.2) == 0
    with pytest.raises(ValueError, match="cos_theta"):
        AP.cross_section_fb(10.58, 1.0, eps=1e-3, cos_theta_min=-2)
    with pytest.raises(ValueError, match="sqrt_s"):
        AP.cross_section_fb(-1.0, 1.0, eps=1e-3)


def test_massless_limit_is_the_gamma_gamma_cross_section():
    # eps = 1, m = 0: e+e- -> gamma A' is e+e- -> gamma gamma with distinguishable photons, so
    # half of it is the gamma gamma cross section; the Belle II reference value is 4.99 nb for
    # 10-170 deg (with radiative corrections and lab-frame acceptance, hence the 15 % band).
    c = np.cos(np.radians(10.0))
    sigma = AP.cross_section_fb(10.58, 0.0, eps=1.0, cos_theta_min=-c, cos_theta_max=c)
    assert_allclose(sigma / 2, 4.99e6, rtol=0.15)
