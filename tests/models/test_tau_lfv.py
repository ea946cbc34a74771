import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from darkscan.models import get_model
from darkscan.models.tau_lfv import TAU_BR_LNUNU, alpha_mass_limit
from darkscan.physics.constants import HBAR_GEV_S, M_ELECTRON, M_MUON, M_TAU, TAU_TAU_S

TAU = get_model("tau-lfv-alpha")
M_L = {"e": M_ELECTRON, "mu": M_MUON}


def test_alpha_is_stable_and_invisible():
    m = np.array([0.0, 0.5, 1.0, 1.6])
    assert TAU.channels == ("invisible",)
    assert np.all(TAU.total_width(m, br_ratio_e=1e-3) == 0.0)
    assert np.all(TAU.branching_fraction("invisible", m, br_ratio_e=1e-3) == 1.0)
    assert np.all(TAU.ctau_cm(m) == np.inf)
    # stable at rest or moving: never decays inside the detector
    assert np.all(TAU.decay_probability(m, 2.0, 0.0, 100.0) == 0.0)


def test_branching_fraction_broadcasts():
    m = np.linspace(0.0, 1.5, 4)[:, None]
    r = np.array([1e-4, 1e-3])[None, :]
    br = TAU.branching_fractions(m, br_ratio_mu=r)["invisible"]
    assert br.shape == (4, 2)
    assert_allclose(br, 1.0)


@pytest.mark.parametrize("lepton", ["e", "mu"])
def test_tau_branching_fraction(lepton):
    ratio = 3e-3
    kw = {f"br_ratio_{lepton}": ratio}
    assert_allclose(
        TAU.tau_branching_fraction(lepton, 0.5, **kw), ratio * TAU_BR_LNUNU[lepton], rtol=1e-14
    )
    # the other flavour's ratio does not leak in
    other = "mu" if lepton == "e" else "e"
    assert TAU.tau_branching_fraction(other, 0.5, **kw) == 0.0
    # closed at and above the endpoint, exactly 0
    limit = M_TAU - M_L[lepton]
    assert_allclose(alpha_mass_limit(lepton), limit)
    assert TAU.tau_branching_fraction(lepton, limit, **kw) == 0.0
    assert TAU.tau_branching_fraction(lepton, 2.0, **kw) == 0.0
    width = TAU.tau_partial_width(lepton, 0.5, **kw)
    assert_allclose(width, ratio * TAU_BR_LNUNU[lepton] * HBAR_GEV_S / TAU_TAU_S)


def test_pdg_leptonic_branching_fractions():
    assert TAU_BR_LNUNU == {"e": 0.1782, "mu": 0.1739}


@pytest.mark.parametrize("lepton", ["e", "mu"])
def test_massless_alpha_limit(lepton):
    m_l = M_L[lepton]
    e = TAU.lepton_energy_tau_frame(lepton, 0.0)
    assert_allclose(e, M_TAU / 2 * (1 + m_l**2 / M_TAU**2), rtol=1e-14)
    assert_allclose(TAU.x_lepton(lepton, 0.0), 1 + m_l**2 / M_TAU**2, rtol=1e-14)
    assert_allclose(
        TAU.lepton_momentum_tau_frame(lepton, 0.0), (M_TAU**2 - m_l**2) / (2 * M_TAU), rtol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["e", "mu"]), st.floats(0.0, 1.0))
def test_two_body_kinematics_consistent(lepton, frac):
    m_l = M_L[lepton]
    m = frac * (M_TAU - m_l)
    e = TAU.lepton_energy_tau_frame(lepton, m)
    p = TAU.lepton_momentum_tau_frame(lepton, m)
    # E^2 - p^2 = m_l^2 and energy conservation E_l + E_alpha = m_tau
    assert_allclose(e**2 - p**2, m_l**2, rtol=1e-6, atol=1e-12)
    assert_allclose(e + np.sqrt(p**2 + m**2), M_TAU, rtol=1e-12)
    assert 0.0 <= p
    x = TAU.x_lepton(lepton, m)
    assert 2 * m_l / M_TAU - 1e-12 <= x <= 1 + m_l**2 / M_TAU**2 + 1e-12


@pytest.mark.parametrize("lepton", ["e", "mu"])
def test_endpoint_and_closed_kinematics(lepton):
    limit = M_TAU - M_L[lepton]
    assert TAU.lepton_momentum_tau_frame(lepton, limit) == 0.0
    assert_allclose(TAU.lepton_energy_tau_frame(lepton, limit), M_L[lepton], rtol=1e-9)
    masses = np.linspace(0, limit, 7)
    p = TAU.lepton_momentum_tau_frame(lepton, masses)
    assert np.all(np.diff(p) < 0) and np.all(np.isfinite(p))
    for verb in (TAU.lepton_energy_tau_frame, TAU.lepton_momentum_tau_frame, TAU.x_lepton):
        with pytest.raises(ValueError, match="closed"):
            verb(lepton, [0.5, limit * (1 + 1e-9)])


def test_bad_inputs():
    with pytest.raises(ValueError, match="valid"):
        TAU.tau_branching_fraction("tau", 0.5)
    with pytest.raises(ValueError, match="valid"):
        TAU.x_lepton("nu", 0.5)
    with pytest.raises(ValueError, match=r"unknown coupling.*br_ratio_e"):
        TAU.tau_branching_fraction("e", 0.5, eps=1e-3)
    with pytest.raises(ValueError, match="br_ratio_mu"):
        TAU.tau_branching_fraction("mu", 0.5, br_ratio_mu=-1.0)
    with pytest.raises(ValueError, match="br_ratio_e"):
        TAU.branching_fractions(0.5, br_ratio_e=np.nan)
    with pytest.raises(ValueError, match="mass"):
        TAU.lepton_energy_tau_frame("e", -0.1)
    with pytest.raises(ValueError, match="mass"):
        TAU.total_width(np.inf)
