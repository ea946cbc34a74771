import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from darkscan.models import get_model
from darkscan.models.zprime import (
    delta_a_mu,
    g_prime_for_delta_a_mu,
    width_charged_lepton,
    width_neutrinos,
)
from darkscan.physics.constants import M_MUON, M_TAU

VANILLA = get_model("zprime-lmu-ltau")
INVIS = get_model("zprime-lmu-ltau-invisible")


def test_neutrino_width_single_flavour_not_double_counted():
    m, g = 2.0, 1e-2
    per_flavour = g**2 * m / (24 * np.pi)
    assert_allclose(width_neutrinos(m, g, n_flavours=1), per_flavour, rtol=1e-14)
    assert_allclose(VANILLA.partial_width("invisible", m, g_prime=g), 2 * per_flavour, rtol=1e-14)
    # Invisible width equals exactly half a massless Dirac muon pair width per flavour pair.
    assert_allclose(
        VANILLA.partial_width("invisible", 50.0, g_prime=g),
        VANILLA.partial_width("mu+mu-", 50.0, g_prime=g),
        rtol=1e-5,
    )


def test_vanilla_invisible_fraction_limits():
    br = VANILLA.branching_fractions([0.1, 100.0], g_prime=1e-3)
    assert br["invisible"][0] == 1.0  # below 2 m_mu only neutrinos
    assert_allclose(br["invisible"][1], 1 / 3, rtol=1e-3)  # mu, tau, nu equal far above


def test_lepton_width_threshold_and_limit():
    g = 0.1
    assert width_charged_lepton(2 * M_MUON, g, M_MUON) == 0.0
    assert width_charged_lepton(2 * M_MUON * 0.999, g, M_MUON) == 0.0
    m = 2 * M_MUON * 1.0001
    assert 0 < width_charged_lepton(m, g, M_MUON) < 0.05 * g**2 * m / (12 * np.pi)
    big = 1e4
    assert_allclose(width_charged_lepton(big, g, M_TAU), g**2 * big / (12 * np.pi), rtol=1e-6)


def test_fully_invisible_benchmark():
    m = np.array([0.05, 0.5, 3.0, 8.0])
    br = INVIS.branching_fractions(m, g_prime=1e-2)
    assert np.all(br["invisible"] == 1.0)
    assert np.all(br["mu+mu-"] == 0.0)
    assert_allclose(INVIS.total_width(m, g_prime=1e-2), VANILLA.total_width(m, g_prime=1e-2))


@given(st.floats(0.01, 10.0), st.floats(1e-6, 1.0), st.floats(0.1, 10.0))
def test_widths_scale_as_g_squared(m, g, k):
    w1 = VANILLA.partial_widths(m, g_prime=g)
    w2 = VANILLA.partial_widths(m, g_prime=g * k)
    for ch in VANILLA.channels:
        assert_allclose(w2[ch], k**2 * w1[ch], rtol=1e-12, atol=0)


def test_dark_fermion_channel():
    w0 = VANILLA.partial_width("invisible", 1.0, g_prime=1e-3)
    w = VANILLA.partial_width("invisible", 1.0, g_prime=1e-3, g_chi=1e-2)
    assert_allclose(w - w0, 1e-4 * 1.0 / (12 * np.pi), rtol=1e-12)
    heavy = get_model("zprime-lmu-ltau", m_chi=1.0)
    assert heavy.partial_width("invisible", 1.0, g_prime=1e-3, g_chi=1.0) == pytest.approx(w0)


def test_delta_a_mu_limits():
    g = 1e-3
    assert_allclose(delta_a_mu(1e-5, g), g**2 / (8 * np.pi**2), rtol=2e-3)
    m = 200.0
    assert_allclose(delta_a_mu(m, g), g**2 * M_MUON**2 / (12 * np.pi**2 * m**2), rtol=2e-3)


def test_delta_a_mu_against_quad():
    from scipy.integrate import quad

    for m in (0.01, 0.1, 0.5, 2.0):
        r = (m / M_MUON) ** 2
        ref = quad(lambda x, r=r: 2 * x * x * (1 - x) / (x * x + (1 - x) * r), 0, 1)[0]
        assert_allclose(delta_a_mu(m, 1.0), ref / (8 * np.pi**2), rtol=1e-6)


def test_g_minus_2_band_magnitude():
    # The (g-2)_mu-favoured coupling is ~5e-4 at 10 MeV and ~5e-3 at 1 GeV (seed 002 plots).
    g = g_prime_for_delta_a_mu([0.01, 1.0])
    assert 3e-4 < g[0] < 7e-4
    assert 3e-3 < g[1] < 8e-3


def test_bad_benchmark():
    with pytest.raises(ValueError, match="benchmark"):
        get_model("zprime-lmu-ltau", benchmark="nope")
