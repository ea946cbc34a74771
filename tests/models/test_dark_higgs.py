import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

from darkscan.models import dark_higgs as dhm
from darkscan.models import get_model
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_ELECTRON

DH = get_model("dark-higgs")
DS = get_model("dark-scalar")


def test_registry_and_parameters():
    assert DH.name == "dark-higgs"
    assert DH.channels[:2] == ("A'A'", "A'A'*")
    assert set(DS.channels) <= set(DH.channels)
    units = {c.name: c.unit for c in DH.couplings}
    assert units == {"eps": "1", "alpha_d": "1", "m_aprime": "GeV", "theta": "1"}
    assert DH.describe()["productions"] == ["e+e- -> A' h'"]


# ------------------------------------------------------------------ h' -> A'A'
def _two_body_from_polarisation_sum(m_h, m_a, alpha_d):
    """(1/2) g_V^2 p [2 + (p1.p2)^2 / m_A^4] / (8 pi m_h^2), g_V = 2 g_D m_A."""
    g_v2 = 4.0 * (4.0 * np.pi * alpha_d) * m_a**2
    p = 0.5 * np.sqrt(m_h**2 - 4.0 * m_a**2)
    p1p2 = 0.5 * (m_h**2 - 2.0 * m_a**2)
    return 0.5 * g_v2 * p * (2.0 + p1p2**2 / m_a**4) / (8.0 * np.pi * m_h**2)


@pytest.mark.parametrize(("m_h", "m_a"), [(1.0, 0.2), (3.0, 1.4), (10.0, 0.01), (0.5, 0.249)])
def test_on_shell_width_matches_polarisation_sum(m_h, m_a):
    width = DH.partial_width("A'A'", m_h, eps=1e-3, alpha_d=0.3, m_aprime=m_a)
    assert_allclose(width, _two_body_from_polarisation_sum(m_h, m_a, 0.3), rtol=1e-12)


def test_on_shell_threshold_and_large_mass_limit():
    m_a = 1.0
    assert (
        DH.partial_width("A'A'", [0.5, 1.0, 1.9, 2.0], eps=1e-3, alpha_d=1.0, m_aprime=m_a).tolist()
        == [0.0] * 4
    )
    # sqrt(1 - 4x) threshold: Gamma / sqrt(1 - 4x) -> alpha_D m_h^3 / (8 m_A^2) (1 - 4x + 12x^2)
    m_h = 2.0 * (1 + 1e-8)
    x = m_a**2 / m_h**2
    w = DH.partial_width("A'A'", m_h, eps=0.0, alpha_d=1.0, m_aprime=m_a)
    assert_allclose(w / np.sqrt(1 - 4 * x), m_h**3 / 8 * (1 - 4 * x + 12 * x * x), rtol=1e-6)
    big = 1e4
    assert_allclose(
        DH.partial_width("A'A'", big, eps=0.0, alpha_d=1.0, m_aprime=m_a), big**3 / 8, rtol=1e-6
    )


# ------------------------------------------------------------------ h' -> A'A'* (off shell)
@pytest.mark.parametrize("x", [0.2501, 0.26, 0.3, 0.4, 0.5, 0.7, 0.9])
def test_offshell_reproduces_keung_marciano(x):
    """Massless fermions, Gamma_A' -> 0: alpha alpha_D eps^2 m_h R_KM(x) / (12 pi).

    (Above x ~ 0.95 the closed form of R_KM itself cancels catastrophically.)"""
    m_h, eps, alpha_d = 3.0, 1e-6, 0.2
    m_a = np.sqrt(x) * m_h
    width = dhm.width_hprime_to_aprime_offshell(m_h, m_a, alpha_d, eps, spectral="unit")
    expected = ALPHA_EM * alpha_d * eps**2 * m_h * dhm.keung_marciano(x) / (12 * np.pi)
    assert_allclose(width, expected, rtol=2e-4)


@pytest.mark.parametrize("m_a", [0.05, 0.3, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("eps", [1e-2, 1e-5])
def test_offshell_narrow_width_limit(m_a, eps):
    """With the A' pole inside the range, the A'* integral is the on-shell width times
    BR(A' -> SM) = 1, counted twice (either A' may be the virtual one)."""
    m_h = 3.0 * m_a
    full = dhm.width_hprime_to_aprime_offshell(m_h, m_a, 0.5, eps, mu_max=m_h - m_a)
    on_shell = dhm.width_hprime_to_aprimes(m_h, m_a, 0.5)
    # (near the phi meson at m_A' = 1 GeV, R varies across the A' width by ~4e-5 at eps = 1e-2)
    assert_allclose(full, 2.0 * on_shell, rtol=1e-4)


def _offshell_reference(m_h, m_a, alpha_d, eps):
    """Independent adaptive quadrature of the A'* integral in mu, with the hadronic R."""
    gam = float(dhm.dark_photon_visible_width(m_a, eps))

    def integrand(mu):
        lam = max((m_h**2 - (m_a + mu) ** 2) * (m_h**2 - (m_a - mu) ** 2), 0.0)
        p = np.sqrt(lam) / (2 * m_h)
        pol = 2 * mu**2 + (m_h**2 - m_a**2 - mu**2) ** 2 / (4 * m_a**2)
        k = 2 * alpha_d * m_a**2 / m_h**2 * p * pol
        r = float(dhm.dark_photon_r("visible", mu))
        return 2 * mu * k * r / ((mu**2 - m_a**2) ** 2 + m_a**2 * gam**2)

    breaks = [0.2791, 0.7827, 1.0195, 3.0969, 3.6861, 0.2113, 3.5537]
    value, _ = integrate.quad(
        integrand,
        0,
        m_h - m_a,
        points=[b for b in breaks if b < m_h - m_a],
        limit=2000,
        epsabs=0,
        epsrel=1e-10,
    )
    return ALPHA_EM * eps**2 / (3 * np.pi) * value


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize(
    ("m_h", "m_a"), [(0.5, 0.3), (1.5, 1.0), (6.0, 4.0), (9.0, 5.0), (7.9, 4.0)]
)
def test_offshell_against_adaptive_quadrature(m_h, m_a):
    width = DH.partial_width("A'A'*", m_h, eps=1e-3, alpha_d=0.3, m_aprime=m_a)
    assert_allclose(width, _offshell_reference(m_h, m_a, 0.3, 1e-3), rtol=1e-3)


def test_offshell_window_and_no_nan():
    m_a = 1.0
    e_thr = m_a + 2 * M_ELECTRON  # the A'* needs at least an e+e- pair
    m_h = np.array([0.0, 0.5, 1.0, 1.0 + 1e-9, e_thr, e_thr + 1e-4, 1.5, 2.0 - 1e-9, 2.0, 3.0])
    w = DH.partial_width("A'A'*", m_h, eps=1e-3, alpha_d=0.1, m_aprime=m_a)
    assert np.all(np.isfinite(w))
    assert np.all(w[[0, 1, 2, 3, 4, 8, 9]] == 0.0)
    assert 0 < w[5] < w[6] < w[7]
    # grows steeply with the phase space above the threshold
    lo = DH.partial_width("A'A'*", [1.01, 1.02], eps=1e-3, alpha_d=0.1, m_aprime=m_a)
    assert lo[1] / lo[0] > 4


@settings(max_examples=25, deadline=None)
@given(
    st.floats(0.05, 8.0),
    st.floats(1.05, 1.95),
    st.floats(1e-6, 1e-2),
    st.floats(1e-3, 1.0),
    st.floats(0.1, 10.0),
)
def test_offshell_scales_as_eps2_alpha_d(m_a, ratio, eps, alpha_d, k):
    m_h = ratio * m_a
    w1 = DH.partial_width("A'A'*", m_h, eps=eps, alpha_d=alpha_d, m_aprime=m_a)
    w2 = DH.partial_width("A'A'*", m_h, eps=eps * k, alpha_d=alpha_d / k**2, m_aprime=m_a)
    w3 = DH.partial_width("A'A'*", m_h, eps=eps, alpha_d=alpha_d * k, m_aprime=m_a)
    assert w1 > 0
    # the A' width in the propagator breaks the eps^2 scaling only at O(Gamma_A'^2 / delta^2)
    assert_allclose(w2, w1, rtol=1e-6)
    assert_allclose(w3, k * w1, rtol=1e-12)


# ------------------------------------------------------------------ mixing, BR, c tau
def test_mixing_channels_are_the_dark_scalar_widths():
    m = np.array([0.1, 0.5, 1.5, 3.0, 5.0])
    w = DH.partial_widths(m, eps=1e-3, alpha_d=0.1, m_aprime=2.0, theta=1e-4)
    ref = DS.partial_widths(m, theta=1e-4)
    for ch, v in ref.items():
        assert_allclose(w[ch], v, rtol=1e-14)


def test_light_dark_higgs_without_mixing_is_stable():
    m = np.array([0.1, 1.0, 3.9])
    kw = {"eps": 1e-3, "alpha_d": 0.5, "m_aprime": 4.0}
    assert np.all(DH.total_width(m, **kw) == 0.0)
    assert np.all(DH.ctau_cm(m, **kw) == np.inf)
    for br in DH.branching_fractions(m, **kw).values():
        assert np.all(br == 0.0)
    # with mixing it decays like a dark scalar
    br = DH.branching_fractions(1.0, theta=1e-3, **kw)
    assert br["A'A'"] == br["A'A'*"] == 0.0
    assert_allclose(sum(br.values()), 1.0)


def test_branching_fractions_broadcast_over_mass_planes():
    m_h = np.linspace(0.1, 10.0, 12)[:, None]
    m_a = np.linspace(0.2, 6.0, 7)[None, :]
    br = DH.branching_fractions(m_h, eps=1e-3, alpha_d=0.1, m_aprime=m_a, theta=1e-4)
    total = sum(br.values())
    assert total.shape == (12, 7)
    assert_allclose(total, 1.0, rtol=1e-12)
    for v in br.values():
        assert np.all((v >= 0) & (v <= 1))
    heavy = m_h > 2 * m_a
    assert np.all(np.where(heavy, br["A'A'"], 1.0) > 0.99)


# ------------------------------------------------------------------ e+e- -> A' h'
def _dsigma_dz_from_lepton_tensor(sqrt_s, m_h, m_a, eps, alpha_d, z):
    """Independent: contract (1/4) sum |vbar gamma u|^2 with the A' polarisation sum."""
    s = sqrt_s**2
    g = np.diag([1.0, -1.0, -1.0, -1.0])
    e = sqrt_s / 2
    p1 = np.array([e, 0, 0, e])
    p2 = np.array([e, 0, 0, -e])
    p = 0.5 * sqrt_s * np.sqrt(dhm.kallen(1.0, m_a**2 / s, m_h**2 / s))
    st_ = np.sqrt(1 - z * z)
    k = np.array([np.sqrt(p**2 + m_a**2), p * st_, 0.0, p * z])
    dot = p1 @ g @ p2
    lep = np.outer(p1, p2) + np.outer(p2, p1) - np.linalg.inv(g) * dot  # upper indices
    kl = g @ k
    pol = -g + np.outer(kl, kl) / m_a**2  # lower indices
    contraction = np.sum(lep * pol)
    coupling2 = (4 * np.pi * ALPHA_EM * eps**2) * (2.0 * m_a) ** 2 * (4 * np.pi * alpha_d)
    amp2 = coupling2 * contraction / (s - m_a**2) ** 2  # lep = (1/4) sum over spins
    return p * amp2 / (16 * np.pi * s**1.5)


@pytest.mark.parametrize(("m_h", "m_a", "z"), [(1.0, 4.0, 0.3), (3.0, 0.5, -0.8), (0.1, 9.0, 0.0)])
def test_differential_cross_section_matches_lepton_tensor(m_h, m_a, z):
    d = DH.dsigma_dcos_fb(10.58, m_h, z, eps=1e-3, alpha_d=0.5, m_aprime=m_a)
    ref = _dsigma_dz_from_lepton_tensor(10.58, m_h, m_a, 1e-3, 0.5, z) * GEV2_TO_FB
    assert_allclose(d, ref, rtol=1e-10)


@pytest.mark.parametrize(
    ("m_h", "m_a", "zl", "zh"),
    [(1.0, 4.0, -1.0, 1.0), (0.3, 1.65, -0.6, 0.9), (5.0, 5.0, 0.1, 0.2)],
)
def test_closed_form_equals_numerical_integral(m_h, m_a, zl, zh):
    kw = {"eps": 1e-3, "alpha_d": 0.5, "m_aprime": m_a}
    closed = DH.cross_section_fb(10.58, m_h, cos_theta_min=zl, cos_theta_max=zh, **kw)
    num = DH.cross_section_numerical_fb(10.58, m_h, cos_theta_min=zl, cos_theta_max=zh, **kw)
    assert_allclose(closed, num, rtol=1e-8)


def test_batell_pospelov_ritz_total_cross_section():
    s = 10.58**2
    m_h, m_a = 2.0, 3.0
    lam = dhm.kallen(1.0, m_a**2 / s, m_h**2 / s)
    sigma = (
        np.pi
        * ALPHA_EM
        * 0.5
        * 1e-6
        / (3 * s)
        * np.sqrt(lam)
        * (lam + 12 * m_a**2 / s)
        / (1 - m_a**2 / s) ** 2
    )
    got = DH.cross_section_fb(10.58, m_h, eps=1e-3, alpha_d=0.5, m_aprime=m_a)
    assert_allclose(got, sigma * GEV2_TO_FB, rtol=1e-12)


def test_cross_section_zero_at_and_above_kinematic_limit():
    kw = {"eps": 1e-3, "alpha_d": 0.5, "m_aprime": 4.0}
    assert_allclose(DH.kinematic_limit(1.0, **kw), 5.0)
    m_h = np.array([6.58 - 1e-6, 6.58, 6.59, 7.0, 12.0])
    sigma = DH.cross_section_fb(10.58, m_h, **kw)
    assert sigma[0] > 0
    assert sigma[1:].tolist() == [0.0] * 4
    d = DH.dsigma_dcos_fb(10.58, m_h, 0.2, **kw)
    assert d[1:].tolist() == [0.0] * 4 and np.all(np.isfinite(d))
    assert DH.cross_section_fb(4.0, 0.5, **kw) == 0.0  # below the A' mass itself
    assert DH.cross_section_fb(10.58, 1.0, eps=1e-3, alpha_d=0.5, m_aprime=10.58) == 0.0


def test_belle2_order_of_magnitude():
    """PRL 130, 071804: sigma limits of 1.7-5.0 fb <-> eps^2 alpha_D < 1.7e-8 ... (4-9.7 GeV)."""
    per_unit = DH.cross_section_fb(10.58, 1.0, eps=1.0, alpha_d=1.0, m_aprime=4.0)
    assert_allclose(per_unit, 7.43e7, rtol=2e-3)
    eps2_alpha_d = 1.7 / per_unit
    assert 1e-8 < eps2_alpha_d < 1e-7  # 2.3e-8 vs the published 1.7e-8 (no efficiency, BR)


def test_cross_section_broadcasts_over_mass_plane():
    m_h = np.linspace(0.1, 8, 9)[:, None]
    m_a = np.linspace(1, 9, 5)[None, :]
    sigma = DH.cross_section_fb(10.58, m_h, eps=1e-3, alpha_d=0.5, m_aprime=m_a)
    assert sigma.shape == (9, 5)
    assert np.all(sigma[(m_h + m_a) >= 10.58] == 0.0)
    assert np.all(sigma[(m_h + m_a) < 10.58] > 0.0)


# ------------------------------------------------------------------ bad input
def test_bad_inputs():
    with pytest.raises(ValueError, match=r"unknown coupling.*m_aprime"):
        DH.total_width(1.0, eps=1e-3, alpha_d=0.1, m_aprime=1.0, g_prime=1.0)
    with pytest.raises(ValueError, match="m_aprime"):
        DH.total_width(1.0, eps=1e-3, alpha_d=0.1)
    with pytest.raises(ValueError, match="eps"):
        DH.total_width(1.0, eps=-1e-3, alpha_d=0.1, m_aprime=1.0)
    with pytest.raises(ValueError, match="m_aprime"):
        DH.total_width(1.0, eps=1e-3, alpha_d=0.1, m_aprime=np.nan)
    with pytest.raises(ValueError, match="m_aprime"):
        DH.total_width(1.0, eps=1e-3, alpha_d=0.1, m_aprime=0.0)
    with pytest.raises(ValueError, match="theta"):
        DH.total_width(1.0, eps=1e-3, alpha_d=0.1, m_aprime=1.0, theta=np.inf)
    with pytest.raises(ValueError, match="mass"):
        DH.cross_section_fb(10.58, -1.0, eps=1e-3, alpha_d=0.1, m_aprime=1.0)
    with pytest.raises(ValueError, match="spectral"):
        dhm.dark_photon_r("neutrinos", 1.0)
