"""Photon-coupled ALP: widths, ALP-strahlung cross section, input checks, Belle II 2020 scale."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darkscan.models import get_model
from darkscan.models.alp_photon import PhotonALP
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB

SQRT_S = 10.58
PROCESS = "e+e- -> gamma a"
couplings = st.floats(min_value=1e-8, max_value=1e-1)
masses = st.floats(min_value=1e-3, max_value=10.0)


@pytest.fixture(scope="module")
def alp() -> PhotonALP:
    return get_model("alp-photon")


# ----------------------------------------------------------------------- independent amplitude


def _levi_civita() -> np.ndarray:
    eps = np.zeros((4, 4, 4, 4))
    for perm in itertools.permutations(range(4)):
        inversions = sum(perm[i] > perm[j] for i in range(4) for j in range(i + 1, 4))
        eps[perm] = (-1) ** inversions
    return eps  # eps^{0123} = +1


METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _dsigma_dz_from_feynman_rules(rs: float, m: float, z: float, g: float) -> float:
    """e+e- -> gamma* -> gamma a from the vertex g eps^{mu nu rho sigma} q_rho k_sigma, traces
    evaluated numerically (massless electrons), in GeV^-2."""
    eps = _levi_civita()
    s = rs * rs
    p1 = np.array([rs / 2, 0, 0, rs / 2])
    p2 = np.array([rs / 2, 0, 0, -rs / 2])
    e_gamma = (s - m * m) / (2 * rs)
    k = e_gamma * np.array([1.0, math.sqrt(1 - z * z), 0.0, z])
    q = p1 + p2
    lepton = 4 * (np.outer(p2, p1) + np.outer(p1, p2) - METRIC * (p1 @ METRIC @ p2))
    vertex = np.einsum("abrs,r,s->ab", eps, METRIC @ q, METRIC @ k)
    hadron = -np.einsum("ab,bc,dc->ad", vertex, METRIC, vertex)  # photon polarisation sum
    summed = np.einsum("ab,ac,bd,cd->", lepton, METRIC, METRIC, hadron)
    avg = 4 * math.pi * ALPHA_EM * g**2 / s**2 * summed / 4
    return 2 * math.pi * avg / (64 * math.pi**2 * s) * (e_gamma / (rs / 2))


@pytest.mark.parametrize(
    ("rs", "m", "z"), [(10.58, 1.0, 0.3), (10.58, 6.0, -0.8), (3.0, 2.5, 0.95)]
)
def test_differential_cross_section_matches_feynman_rules(alp, rs, m, z):
    g = 2e-3
    expected = _dsigma_dz_from_feynman_rules(rs, m, z, g) * GEV2_TO_FB
    assert alp.dsigma_dcos_fb(rs, m, z, g_agg=g) == pytest.approx(expected, rel=1e-12)


def test_width_matches_feynman_rules(alp):
    # sum_pol |g eps^{mu nu rho sigma} k1_mu e1_nu k2_rho e2_sigma|^2 = 2 g^2 (k1.k2)^2 = g^2 m^4/2,
    # Gamma = |p| / (8 pi m^2) x 1/2 (identical photons) x g^2 m^4 / 2 with |p| = m / 2.
    eps = _levi_civita()
    m, g = 0.7, 3e-3
    k1 = np.array([m / 2, 0, 0, m / 2])
    k2 = np.array([m / 2, 0, 0, -m / 2])
    t = np.einsum("abcd,a,c->bd", eps, METRIC @ k1, METRIC @ k2)
    summed = g**2 * np.einsum("bd,be,df,ef->", t, METRIC, METRIC, t)
    width = (m / 2) / (8 * math.pi * m**2) * 0.5 * summed
    assert summed == pytest.approx(g**2 * m**4 / 2, rel=1e-12)
    assert alp.partial_width("gamma gamma", m, g_agg=g) == pytest.approx(width, rel=1e-12)


# ----------------------------------------------------------------------- registry and widths


def test_registry(alp):
    assert isinstance(alp, PhotonALP)
    assert alp.name == "alp-photon"
    assert alp.channels == ("gamma gamma",)
    assert alp.coupling_names == ("g_agg",)
    assert [p.name for p in alp.productions] == [PROCESS]
    assert alp.describe()["couplings"][0]["unit"] == "GeV^-1"


def test_width_value(alp):
    m, g = 1.0, 1.29e-3
    assert alp.total_width(m, g_agg=g) == pytest.approx(g**2 / (64 * math.pi), rel=1e-14)
    # c tau = hbar c / Gamma: prompt at the Belle II limit (~ 2e-6 cm).
    assert alp.ctau_cm(m, g_agg=g) == pytest.approx(1.973269804e-14 * 64 * math.pi / g**2)


def test_zero_width_and_branching(alp):
    assert alp.total_width(0.0, g_agg=1e-3) == 0.0
    assert alp.total_width(1.0, g_agg=0.0) == 0.0
    assert alp.branching_fraction("gamma gamma", 1.0, g_agg=0.0) == 0.0
    assert np.isinf(alp.ctau_cm(1.0, g_agg=0.0))


@settings(max_examples=60, deadline=None)
@given(m1=masses, m2=masses, g=couplings, scale=st.floats(min_value=1e-3, max_value=1e3))
def test_width_scaling(alp, m1, m2, g, scale):
    w = alp.total_width(m1, g_agg=g)
    assert alp.total_width(m1, g_agg=g * scale) == pytest.approx(w * scale**2, rel=1e-10)
    assert alp.total_width(m2, g_agg=g) == pytest.approx(w * (m2 / m1) ** 3, rel=1e-10)
    assert alp.branching_fraction("gamma gamma", m1, g_agg=g) == pytest.approx(1.0, abs=1e-15)


def test_broadcasting(alp):
    m = np.linspace(0.1, 9.0, 7)[:, None]
    g = np.logspace(-5, -2, 4)[None, :]
    widths = alp.partial_widths(m, g_agg=g)
    assert widths["gamma gamma"].shape == (7, 4)
    np.testing.assert_allclose(widths["gamma gamma"], g**2 * m**3 / (64 * np.pi), rtol=1e-14)
    br = alp.branching_fractions(m, g_agg=g)
    np.testing.assert_array_equal(br["gamma gamma"], np.ones((7, 4)))
    xs = alp.cross_section_fb(SQRT_S, m, g_agg=g)
    assert xs.shape == (7, 4)


# ----------------------------------------------------------------------- cross sections


@pytest.mark.parametrize("m", [0.0, 0.1, 1.0, 5.0, 10.0, 10.5])
def test_total_cross_section_closed_form(alp, m):
    g = 1e-3
    r = m * m / SQRT_S**2
    expected = ALPHA_EM * g**2 / 24 * (1 - r) ** 3 * GEV2_TO_FB
    assert alp.cross_section_fb(SQRT_S, m, g_agg=g) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("m", [0.2, 3.0, 9.0])
@pytest.mark.parametrize(
    ("z_lo", "z_hi"), [(-1.0, 1.0), (-0.8, 0.8), (0.1, 0.6), (-0.95, -0.3), (0.5, 1.0)]
)
def test_closed_form_matches_numerical_integration(alp, m, z_lo, z_hi):
    kw = {"cos_theta_min": z_lo, "cos_theta_max": z_hi, "g_agg": 2e-3}
    closed = alp.cross_section_fb(SQRT_S, m, **kw)
    numeric = alp.cross_section_numerical_fb(SQRT_S, m, **kw)
    assert closed == pytest.approx(numeric, rel=5e-3)
    assert closed == pytest.approx(numeric, rel=1e-9)  # the closed form is exact


def test_angular_shape(alp):
    z = np.linspace(-1, 1, 11)
    d = alp.dsigma_dcos_fb(SQRT_S, 2.0, z, g_agg=1e-3)
    np.testing.assert_allclose(d / d[5], 1 + z**2, rtol=1e-13)


def test_cross_section_zero_above_kinematic_limit(alp):
    for rs in (1.0, 0.999, 0.5):
        assert alp.cross_section_fb(rs, 1.0, g_agg=1e-3) == 0.0
        assert alp.dsigma_dcos_fb(rs, 1.0, 0.2, g_agg=1e-3) == 0.0
    xs = alp.cross_section_fb(SQRT_S, [10.0, 10.58, 11.0, 20.0], g_agg=1e-3)
    assert xs[0] > 0 and np.all(xs[1:] == 0.0)
    assert alp.cross_section_fb(SQRT_S, 1.0, cos_theta_min=0.5, cos_theta_max=0.5, g_agg=1) == 0


# ----------------------------------------------------------------------- bad input


def test_bad_input(alp):
    with pytest.raises(ValueError, match=r"g_agg"):
        alp.total_width(1.0, g_aW=1e-3)
    with pytest.raises(ValueError, match=r"valid: \['g_agg'\]"):
        alp.total_width(1.0, g_agg=1e-3, eps=1e-3)
    with pytest.raises(ValueError, match="needs coupling 'g_agg'"):
        alp.total_width(1.0)
    with pytest.raises(ValueError, match="mass"):
        alp.total_width(-1.0, g_agg=1e-3)
    with pytest.raises(ValueError, match="mass"):
        alp.total_width(np.nan, g_agg=1e-3)
    with pytest.raises(ValueError, match="g_agg"):
        alp.total_width(1.0, g_agg=-1e-3)
    with pytest.raises(ValueError, match="g_agg"):
        alp.total_width(1.0, g_agg=np.inf)
    with pytest.raises(ValueError, match="sqrt_s"):
        alp.cross_section_fb(-10.58, 1.0, g_agg=1e-3)
    with pytest.raises(ValueError, match="unknown channel"):
        alp.partial_width("e+e-", 1.0, g_agg=1e-3)
    with pytest.raises(ValueError, match="unknown process"):
        alp.cross_section_fb(SQRT_S, 1.0, process="e+e- -> gamma A'", g_agg=1e-3)
    with pytest.raises(ValueError, match="no closed-form|B decay"):
        alp.b_decay_width("B+ -> K+ a", 1.0, g_agg=1e-3)


# ----------------------------------------------------------------------- published scale


# Belle II 2020 (PRL 125, 161806), 95 % CL: g_agg limit [GeV^-1] and sigma UL [pb] by mass [GeV].
BELLE2_2020 = {
    0.3: (7.1e-4, 0.092),
    0.5: (8.7e-4, 0.15),
    1.0: (1.29e-3, 0.15),
    2.0: (1.62e-3, 0.40),
    3.0: (2.17e-3, 0.48),
    5.0: (2.89e-3, 0.52),
    8.0: (7.06e-3, 0.74),
}


def test_belle2_2020_alp_cross_section_scale(alp):
    sigma_pb = alp.cross_section_fb(SQRT_S, 1.0, g_agg=1.29e-3) / 1000.0
    print(f"sigma(e+e- -> gamma a; m=1 GeV, g_agg=1.29e-3/GeV) = {sigma_pb:.3f} pb (UL 0.15 pb)")
    assert sigma_pb == pytest.approx(0.1918, rel=2e-3)
    for m, (g_limit, sigma_ul) in BELLE2_2020.items():
        ratio = alp.cross_section_fb(SQRT_S, m, g_agg=g_limit) / 1000.0 / sigma_ul
        print(f"  m = {m:4.1f} GeV: sigma(g_limit) / sigma_UL = {ratio:.2f}")
        assert 0.5 < ratio < 2.0
