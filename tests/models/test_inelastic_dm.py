import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from darkscan.models import get_model
from darkscan.models.inelastic_dm import (
    mu2_width_chi2_to_chi1_vector,
    small_splitting_width,
    width_aprime_to_chi1_chi2,
)
from darkscan.physics.constants import ALPHA_EM, M_ELECTRON, M_MUON

IDM = get_model("inelastic-dm")
AP = get_model("dark-photon")
DS = get_model("dark-scalar")


def _kw(m2, splitting, m_a, eps=1e-3, alpha_d=0.1):
    """Couplings for chi2 mass m2 and absolute splitting Delta (delta = Delta / m_chi1)."""
    return {"eps": eps, "alpha_d": alpha_d, "m_aprime": m_a, "delta": splitting / (m2 - splitting)}


def test_registry_and_masses():
    assert IDM.name == "inelastic-dm"
    assert IDM.channels == (
        "chi1 e+e-",
        "chi1 mu+mu-",
        "chi1 tau+tau-",
        "chi1 hadrons",
        "chi1 A'",
    )
    m1, m2, split = IDM.chi_masses([1.1, 2.2], eps=1e-3, alpha_d=0.1, m_aprime=3.0, delta=0.1)
    assert_allclose(m1, [1.0, 2.0])
    assert_allclose(m2, [1.1, 2.2])
    assert_allclose(split, [0.1, 0.2])


# ------------------------------------------------------------------ small-splitting limit
@pytest.mark.parametrize(
    ("splitting", "m2", "m_a"), [(1.0, 1000.0, 100.0), (0.5, 2000.0, 40.0), (0.2, 400.0, 20.0)]
)
def test_small_splitting_limit(splitting, m2, m_a):
    """Gamma -> 4 eps^2 alpha alpha_D Delta^5 / (15 pi m_A^4) (1 - 3 Delta / (2 m_chi2))."""
    width = IDM.partial_width("chi1 e+e-", m2, **_kw(m2, splitting, m_a))
    limit = small_splitting_width(splitting, m_a, 1e-3, 0.1)
    assert_allclose(width, limit, rtol=2e-3)
    assert_allclose(width, limit * (1 - 1.5 * splitting / m2), rtol=3e-4)


def test_small_splitting_formula_normalisation():
    # 4 eps^2 alpha alpha_D Delta^5 / (15 pi m_A^4) at eps = 1e-3, alpha_D = 0.1, Delta = 0.1,
    # m_A' = 3 GeV: 4 * 1e-6 * 7.2974e-3 * 0.1 * 1e-5 / (15 pi 81)
    assert_allclose(
        small_splitting_width(0.1, 3.0, 1e-3, 0.1),
        4e-11 * ALPHA_EM * 0.1 / (15 * np.pi * 81),
        rtol=1e-12,
    )


def _dalitz_width(m2, m1, m_a, gamma_a, eps, alpha_d, m=M_ELECTRON, n=300):
    """Independent exact check: Dalitz-plot integral of the full spin-averaged |M|^2 of
    chi2(P) -> chi1(k) e-(p1) e+(p2) through the A' propagator (traces contracted by hand)."""
    x, w = np.polynomial.legendre.leggauss(n)
    t, wt = 0.5 * (x + 1), 0.5 * w
    lo, hi = 4 * m * m, (m2 - m1) ** 2
    q2 = (lo + (hi - lo) * (1 - np.cos(np.pi * t)) / 2)[:, None]
    jq = ((hi - lo) * np.pi * np.sin(np.pi * t) / 2 * wt)[:, None]
    e_pos = np.sqrt(q2) / 2
    e_chi = (m2**2 - q2 - m1**2) / (2 * np.sqrt(q2))
    p_pos = np.sqrt(np.clip(e_pos**2 - m * m, 0, None))
    p_chi = np.sqrt(np.clip(e_chi**2 - m1**2, 0, None))
    s_lo = (e_pos + e_chi) ** 2 - (p_pos + p_chi) ** 2
    s_hi = (e_pos + e_chi) ** 2 - (p_pos - p_chi) ** 2
    s23 = s_lo + (s_hi - s_lo) * t[None, :]
    js = (s_hi - s_lo) * wt[None, :]
    s13 = m2**2 + m1**2 + 2 * m * m - q2 - s23
    kp1, kp2 = (s13 - m1**2 - m * m) / 2, (s23 - m1**2 - m * m) / 2
    p1p2 = (q2 - 2 * m * m) / 2
    pp1, pp2, kp = m * m + kp1 + p1p2, m * m + kp2 + p1p2, m1**2 + kp1 + kp2
    # H^{mu nu} L_{mu nu} / 16 for H = Tr[(k+M1) g (P+M2) g], L = Tr[(p1+m) g (p2-m) g]
    contraction = 2 * (kp1 * pp2 + kp2 * pp1) - 2 * m1 * m2 * p1p2 + 2 * m * m * (kp - 2 * m1 * m2)
    amp2 = (
        0.5
        * 16
        * (4 * np.pi * alpha_d)
        * eps**2
        * (4 * np.pi * ALPHA_EM)
        * contraction
        / ((q2 - m_a**2) ** 2 + m_a**2 * gamma_a**2)
    )
    return np.sum(amp2 * jq * js) / (256 * np.pi**3 * m2**3)


@pytest.mark.parametrize(
    ("splitting", "m2", "m_a"),
    [(0.05, 50.0, 5.0), (0.02, 100.0, 10.0), (0.1, 1.0, 3.0), (0.3, 1.5, 1.0), (0.003, 0.1, 0.3)],
)
def test_width_matches_full_dalitz_integration(splitting, m2, m_a):
    kw = _kw(m2, splitting, m_a)
    gamma_a = IDM.aprime_width(m2, **kw)
    ref = _dalitz_width(m2, m2 - splitting, m_a, gamma_a, 1e-3, 0.1)
    assert_allclose(IDM.partial_width("chi1 e+e-", m2, **kw), ref, rtol=3e-4)


@pytest.mark.parametrize(
    ("m2", "delta", "m_a", "eps"),
    [(10.0, 1.0, 0.5, 1e-3), (1.0, 0.5, 0.2, 1e-2), (3.0, 0.4, 0.7, 1e-4)],
)
def test_on_shell_aprime_narrow_width(m2, delta, m_a, eps):
    """Delta > m_A': chi2 -> chi1 A' (on shell) times BR(A' -> f) of the dark photon."""
    m1 = m2 / (1 + delta)
    d, s, mu = m2 - m1, m1 + m2, m_a
    p = np.sqrt((d * d - mu * mu) * (s * s - mu * mu)) / (2 * m2)
    two_body = 0.1 * p / (2 * m2**2 * mu**2) * (d * d - mu * mu) * (4 * m1 * m2 + d * d + 2 * mu**2)
    br = AP.branching_fractions(m_a, eps=eps)
    w = IDM.partial_widths(m2, eps=eps, alpha_d=0.1, m_aprime=m_a, delta=delta)
    for ch in ("e+e-", "mu+mu-", "hadrons"):
        if br[ch] > 0:
            assert_allclose(w[f"chi1 {ch}"], two_body * br[ch], rtol=2e-5)
        else:  # closed at m_A': only the eps^2-suppressed off-shell tail mu > m_A'
            assert w[f"chi1 {ch}"] < 10 * eps**2 * two_body


# ------------------------------------------------------------------ thresholds, scaling, BR
def test_thresholds_and_no_nan():
    m2 = 1.0
    kw = {"eps": 1e-3, "alpha_d": 0.1, "m_aprime": 3.0}
    split = np.array(
        [
            0.0,
            M_ELECTRON,
            2 * M_ELECTRON,
            2 * M_ELECTRON * 1.001,
            0.1,
            2 * M_MUON,
            2 * M_MUON * 1.001,
            0.5,
        ]
    )
    w = IDM.partial_widths(m2, delta=split / (m2 - split), **kw)
    for v in w.values():
        assert np.all(np.isfinite(v)) and np.all(v >= 0)
    assert np.all(w["chi1 e+e-"][:3] == 0.0) and np.all(w["chi1 e+e-"][3:] > 0)
    assert np.all(w["chi1 mu+mu-"][:6] == 0.0) and np.all(w["chi1 mu+mu-"][6:] > 0)
    assert np.all(w["chi1 tau+tau-"] == 0.0)
    assert w["chi1 hadrons"][-1] > 0  # 0.5 GeV > 2 m_pi
    assert np.all(IDM.branching_fractions(m2, delta=0.0, **kw)["chi1 e+e-"] == 0.0)
    assert IDM.ctau_cm(m2, delta=0.0, **kw) == np.inf


def test_eps_zero_gives_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = IDM.partial_widths(10.0, eps=0.0, alpha_d=0.1, m_aprime=0.5, delta=0.01)
        assert all(np.all(v == 0.0) for v in w.values())


@pytest.mark.parametrize(("eps", "m_a"), [(0.0, 0.5), (1e-3, 1e-3), (1e-3, 1.9 * M_ELECTRON)])
def test_stable_on_shell_aprime_channel(eps, m_a):
    """Delta > m_A' and the A' cannot decay: chi2 -> chi1 A' (invisible), eps-independent."""
    m2, delta = 10.0, 1.0
    m1 = m2 / (1 + delta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = IDM.partial_widths(m2, eps=eps, alpha_d=0.1, m_aprime=m_a, delta=delta)
    two_body = mu2_width_chi2_to_chi1_vector(m2, m1, m2 - m1, 0.1, m_a) / m_a**2
    assert_allclose(w["chi1 A'"], two_body, rtol=1e-12)
    for ch in ("chi1 e+e-", "chi1 mu+mu-", "chi1 tau+tau-", "chi1 hadrons"):
        if eps == 0:
            assert w[ch] == 0.0
        else:  # only the eps^2-suppressed off-shell continuum above 2 m_e
            assert 0 <= w[ch] < 1e-3 * two_body
    # a decaying on-shell A' does not use the channel
    assert IDM.partial_width("chi1 A'", m2, eps=1e-3, alpha_d=0.1, m_aprime=0.5, delta=1.0) == 0


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0.01, 5.0),
    st.floats(0.01, 0.5),
    st.floats(0.6, 1.99),
    st.floats(1e-6, 1e-2),
    st.floats(1e-3, 1.0),
    st.floats(0.1, 10.0),
)
def test_width_scales_as_eps2_alpha_d(m2, delta, ratio, eps, alpha_d, k):
    # Delta < m_A' < m_chi1 + m_chi2: off-shell A' whose width is eps^2-small
    m_a = ratio * m2 / (1 + delta)
    base = {"m_aprime": m_a, "delta": delta}
    w1 = IDM.total_width(m2, eps=eps, alpha_d=alpha_d, **base)
    w2 = IDM.total_width(m2, eps=eps * k, alpha_d=alpha_d, **base)
    w3 = IDM.total_width(m2, eps=eps, alpha_d=alpha_d * k, **base)
    assert_allclose(w2, k * k * w1, rtol=1e-6)
    assert_allclose(w3, k * w1, rtol=1e-12)


def test_open_dark_decay_of_the_aprime_in_the_propagator():
    """With A' -> chi1 chi2 open, Gamma_A' ~ alpha_D m_A'/3 enters the propagator at
    O(Gamma_A'^2 / m_A'^2): the eps^2 alpha_D scaling then holds to that order only."""
    kw = {"eps": 1e-3, "m_aprime": 3.0, "delta": 0.1}
    w1 = IDM.total_width(1.0, alpha_d=0.1, **kw)
    w2 = IDM.total_width(1.0, alpha_d=0.5, **kw)
    assert 5 * (1 - 3e-2) < w2 / w1 < 5
    m1 = 1.0 / 1.1
    assert_allclose(
        IDM.aprime_width(1.0, alpha_d=0.1, **kw) - AP.total_width(3.0, eps=1e-3),
        width_aprime_to_chi1_chi2(3.0, m1, 1.0, 0.1),
        rtol=1e-12,
    )


def test_aprime_to_chi_pair_width():
    # equal masses: the Dirac width (alpha_D m / 3)(1 + 2 r) beta
    r = 1 / 9
    assert_allclose(
        width_aprime_to_chi1_chi2(3.0, 1.0, 1.0, 0.5),
        0.5 * 3.0 / 3 * (1 + 2 * r) * np.sqrt(1 - 4 * r),
        rtol=1e-12,
    )
    assert width_aprime_to_chi1_chi2(2.0, 1.0, 1.0 + 1e-9, 0.5) == 0.0


def test_branching_fractions_broadcast():
    m2 = np.linspace(0.05, 5.0, 11)[:, None]
    delta = np.array([0.05, 0.1, 0.4, 1.0])[None, :]
    br = IDM.branching_fractions(m2, eps=1e-3, alpha_d=0.1, m_aprime=3 * m2, delta=delta)
    total = sum(br.values())
    assert total.shape == (11, 4)
    is_open = IDM.total_width(m2, eps=1e-3, alpha_d=0.1, m_aprime=3 * m2, delta=delta) > 0
    assert_allclose(total[is_open], 1.0, rtol=1e-12)
    assert np.all(total[~is_open] == 0.0)
    ctau = IDM.ctau_cm(m2, eps=1e-3, alpha_d=0.1, m_aprime=3 * m2, delta=delta)
    assert np.all(ctau > 0)


# ------------------------------------------------------------------ dark Higgs of iDM + h'
def test_dark_higgs_widths_delegate_to_dark_scalar():
    m_h = np.array([0.3, 0.8, 1.5])
    w = IDM.dark_higgs_widths(m_h, theta=1e-3)
    ref = DS.partial_widths(m_h, theta=1e-3)
    assert set(w) == set(ref)
    for ch in ("mu+mu-", "pi+pi-", "K+K-"):
        assert_allclose(w[ch], ref[ch])
    assert_allclose(IDM.dark_higgs_widths(0.8, theta=2e-3)["mu+mu-"], 4 * w["mu+mu-"][1])


# ------------------------------------------------------------------ bad input
def test_bad_inputs():
    kw = {"eps": 1e-3, "alpha_d": 0.1, "m_aprime": 3.0, "delta": 0.1}
    with pytest.raises(ValueError, match=r"unknown coupling.*delta"):
        IDM.total_width(1.0, theta=1e-3, **kw)
    with pytest.raises(ValueError, match="delta"):
        IDM.total_width(1.0, **{**kw, "delta": -0.1})
    with pytest.raises(ValueError, match="alpha_d"):
        IDM.total_width(1.0, **{**kw, "alpha_d": np.inf})
    with pytest.raises(ValueError, match="m_aprime"):
        IDM.total_width(1.0, **{**kw, "m_aprime": 0.0})
    with pytest.raises(ValueError, match="m_aprime"):
        IDM.total_width(1.0, eps=1e-3, alpha_d=0.1, delta=0.1)
    with pytest.raises(ValueError, match="mass"):
        IDM.total_width(np.nan, **kw)
    with pytest.raises(ValueError, match="no closed-form"):
        IDM.cross_section_fb(10.58, 1.0, **kw)
