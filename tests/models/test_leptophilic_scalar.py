import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

from darkscan.models import get_model
from darkscan.models.dark_scalar import scalar_loop_fermion
from darkscan.physics.constants import ALPHA_EM, HIGGS_VEV, M_ELECTRON, M_MUON, M_TAU

PHI = get_model("leptophilic-scalar")
MU = get_model("muonphilic-scalar")
V = HIGGS_VEV
LEPTONS = {"e+e-": M_ELECTRON, "mu+mu-": M_MUON, "tau+tau-": M_TAU}


def beta(m, m_d):
    return np.sqrt(1 - 4 * m_d**2 / m**2)


def a_half_feynman(tau):
    """A_1/2 = 4 int dx dy (1 - 4xy)/(1 - 4 tau x y) over the triangle (tau < 1)."""
    val, _ = integrate.dblquad(
        lambda y, x: (1 - 4 * x * y) / (1 - 4 * tau * x * y),
        0,
        1,
        0,
        lambda x: 1 - x,
        epsabs=1e-12,
        epsrel=1e-10,
    )
    return 4 * val


def test_registry_entries():
    assert PHI.name == "leptophilic-scalar" and MU.name == "muonphilic-scalar"
    assert PHI.coupling_names == ("xi",) and MU.coupling_names == ("g_s",)
    assert PHI.channels == ("e+e-", "mu+mu-", "tau+tau-", "gamma gamma")
    assert MU.channels == ("mu+mu-", "gamma gamma")
    assert PHI.productions == () and MU.productions == ()
    assert PHI.b_decay_modes == () and MU.b_decay_modes == ()


# ----------------------------------------------------------------------------- leptophilic
@pytest.mark.parametrize(("channel", "m_l"), list(LEPTONS.items()))
def test_leptophilic_lepton_widths(channel, m_l):
    for m in (0.0, m_l, 2 * m_l):
        w = PHI.partial_width(channel, m, xi=1.0)
        assert w == 0.0 and np.isfinite(w)
    m = 5.0
    expected = 4.0 * m_l**2 * m * beta(m, m_l) ** 3 / (8 * np.pi * V**2)
    assert_allclose(PHI.partial_width(channel, m, xi=2.0), expected, rtol=1e-12)
    m1, m2 = 2 * m_l * (1 + 1e-5), 2 * m_l * (1 + 2e-5)
    r = PHI.partial_width(channel, m1, xi=1.0) / PHI.partial_width(channel, m2, xi=1.0)
    assert_allclose(r, m1 * beta(m1, m_l) ** 3 / (m2 * beta(m2, m_l) ** 3), rtol=1e-9)
    big = 2e3
    assert_allclose(
        PHI.partial_width(channel, big, xi=1.0), m_l**2 * big / (8 * np.pi * V**2), rtol=1e-5
    )


def test_leptophilic_photon_width():
    m = np.array([1e-4, 0.1, 0.3, 1.0, 4.0])
    amp = sum(scalar_loop_fermion(m**2 / (4 * m_l**2)) for m_l in LEPTONS.values())
    expected = 0.25 * ALPHA_EM**2 * m**3 * np.abs(amp) ** 2 / (256 * np.pi**3 * V**2)
    assert_allclose(PHI.partial_width("gamma gamma", m, xi=0.5), expected, rtol=1e-12)
    # heavy-lepton limit (m << 2 m_e): amplitude 3 x 4/3 = 4
    m0 = 1e-6
    assert_allclose(
        PHI.partial_width("gamma gamma", m0, xi=1.0),
        ALPHA_EM**2 * m0**3 / (16 * np.pi**3 * V**2),
        rtol=1e-5,
    )
    assert PHI.partial_width("gamma gamma", 0.0, xi=1.0) == 0.0
    # only channel below 2 m_e; tiny BR above
    assert_allclose(PHI.branching_fraction("gamma gamma", 1.0e-3, xi=1.0), 1.0)
    assert np.all(PHI.branching_fraction("gamma gamma", np.linspace(0.22, 10, 50), xi=1) < 1e-3)


def test_leptophilic_photon_width_with_numerical_loop():
    # m = 0.2 GeV: tau_mu = 0.896 (below threshold: real Feynman integral), e and tau by quad too
    m = 0.2
    taus = [m**2 / (4 * m_l**2) for m_l in LEPTONS.values()]
    amp_mu_tau = a_half_feynman(taus[1]) + a_half_feynman(taus[2])
    amp_e = complex(scalar_loop_fermion(taus[0]))  # light electron: complex, checked elsewhere
    expected = ALPHA_EM**2 * m**3 * abs(amp_e + amp_mu_tau) ** 2 / (256 * np.pi**3 * V**2)
    assert_allclose(PHI.partial_width("gamma gamma", m, xi=1.0), expected, rtol=1e-7)


def test_leptophilic_decay_pattern_of_the_belle_search():
    # phi_L -> e+e- below 2 m_mu, mu+mu- dominant between 2 m_mu and 2 m_tau
    assert PHI.branching_fraction("e+e-", 0.05, xi=1.0) > 0.98
    # ... but just below 2 m_mu the lepton loops (|A| ~ 3) make gamma gamma ~20 %
    assert 0.1 < PHI.branching_fraction("gamma gamma", 0.2, xi=1.0) < 0.3
    br = PHI.branching_fractions(3.0, xi=1.0)
    assert br["mu+mu-"] > 0.999 and br["tau+tau-"] == 0.0
    br = PHI.branching_fractions(6.0, xi=1.0)
    assert br["tau+tau-"] > 0.99


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 12.0), st.floats(1e-6, 1e3))
def test_leptophilic_widths_scale_as_xi_squared(m, xi):
    ref = PHI.partial_widths(m, xi=1.0)
    got = PHI.partial_widths(m, xi=xi)
    for ch in PHI.channels:
        assert np.isfinite(got[ch]) and got[ch] >= 0
        assert_allclose(got[ch], xi**2 * ref[ch], rtol=1e-12, atol=0)


@settings(max_examples=60, deadline=None)
@given(st.floats(2 * M_TAU * 1.0001, 100.0))
def test_leptophilic_lepton_widths_scale_like_ml2_m_beta3(m):
    w = PHI.partial_widths(m, xi=1.0)
    reduced = [w[ch] / (m_l**2 * m * beta(m, m_l) ** 3) for ch, m_l in LEPTONS.items()]
    assert_allclose(reduced, reduced[0], rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-6, 12.0), st.floats(1e-6, 1e3))
def test_leptophilic_branching_fractions_sum_to_one(m, xi):
    assert_allclose(sum(PHI.branching_fractions(m, xi=xi).values()), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------- muonphilic
def test_muonphilic_widths():
    assert MU.partial_width("mu+mu-", 2 * M_MUON, g_s=1.0) == 0.0
    m = 1.0
    assert_allclose(
        MU.partial_width("mu+mu-", m, g_s=1e-3),
        1e-6 * m * beta(m, M_MUON) ** 3 / (8 * np.pi),
        rtol=1e-12,
    )
    # photon width: alpha^2 m^3 / (256 pi^3) |g_s / m_mu A_1/2|^2
    tau = m**2 / (4 * M_MUON**2)
    expected = (
        ALPHA_EM**2
        * m**3
        * 1e-6
        * abs(complex(scalar_loop_fermion(tau))) ** 2
        / (256 * np.pi**3 * M_MUON**2)
    )
    assert_allclose(MU.partial_width("gamma gamma", m, g_s=1e-3), expected, rtol=1e-12)
    # heavy-muon limit: A = 4/3 -> Gamma = alpha^2 g^2 m^3 / (144 pi^3 m_mu^2)
    m0 = 1e-3
    assert_allclose(
        MU.partial_width("gamma gamma", m0, g_s=1.0),
        ALPHA_EM**2 * m0**3 / (144 * np.pi**3 * M_MUON**2),
        rtol=1e-4,
    )
    # numerical Feynman integral just below the muon threshold
    m1 = 0.2
    expected = (
        ALPHA_EM**2
        * m1**3
        * a_half_feynman(m1**2 / (4 * M_MUON**2)) ** 2
        / (256 * np.pi**3 * M_MUON**2)
    )
    assert_allclose(MU.partial_width("gamma gamma", m1, g_s=1.0), expected, rtol=1e-7)
    # below 2 m_mu the scalar decays only to photons, above almost only to muons
    assert MU.branching_fraction("gamma gamma", 0.2, g_s=1e-3) == 1.0
    assert MU.branching_fraction("mu+mu-", 0.3, g_s=1e-3) > 0.999
    # large mass: muon width -> g^2 m / (8 pi)
    big = 1e3
    assert_allclose(MU.partial_width("mu+mu-", big, g_s=1.0), big / (8 * np.pi), rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 12.0), st.floats(1e-8, 1.0))
def test_muonphilic_widths_scale_as_coupling_squared(m, g):
    ref = MU.partial_widths(m, g_s=1.0)
    got = MU.partial_widths(m, g_s=g)
    for ch in MU.channels:
        assert_allclose(got[ch], g**2 * ref[ch], rtol=1e-12, atol=0)
    if m > 1e-30:  # below that m^3 underflows and the width is 0
        assert_allclose(sum(MU.branching_fractions(m, g_s=g).values()), 1.0, rtol=1e-12)


def test_broadcasting_and_zero_mass():
    m = np.linspace(0.0, 8.0, 21)[:, None]
    c = np.logspace(-5, -1, 4)[None, :]
    for model, coupling in ((PHI, "xi"), (MU, "g_s")):
        widths = model.partial_widths(m, **{coupling: c})
        for ch, w in widths.items():
            assert w.shape == (21, 4)
            assert np.all(np.isfinite(w))
            assert_allclose(w[:, 2], model.partial_width(ch, m[:, 0], **{coupling: c[0, 2]}))
        assert np.all(model.total_width(m[:1], **{coupling: c}) == 0.0)
        assert model.ctau_cm(m, **{coupling: c}).shape == (21, 4)


@pytest.mark.parametrize(("model", "coupling"), [(PHI, "xi"), (MU, "g_s")])
def test_bad_inputs(model, coupling):
    with pytest.raises(ValueError, match=coupling):
        model.partial_widths(1.0, theta=1e-3)
    with pytest.raises(ValueError, match=coupling):
        model.partial_widths(1.0, **{coupling: -1.0})
    with pytest.raises(ValueError, match=coupling):
        model.partial_widths(1.0, **{coupling: np.nan})
    with pytest.raises(ValueError, match="mass"):
        model.partial_widths(np.inf, **{coupling: 1.0})
    with pytest.raises(ValueError, match="no closed-form"):
        model.cross_section_fb(10.58, 1.0, **{coupling: 1.0})
    with pytest.raises(ValueError, match="unknown B decay"):
        model.b_decay_width("B+ -> K+ S", 1.0, **{coupling: 1.0})
