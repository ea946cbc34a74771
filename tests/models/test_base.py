"""The verbs every model shares, exercised on the Z' (no hadronic inputs needed)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.models import get_model, model_names
from darkscan.physics.constants import HBARC_GEV_CM

Z = get_model("zprime-lmu-ltau")


def test_broadcasting_grid():
    m = np.linspace(0.1, 8, 5)[:, None]
    g = np.array([1e-4, 1e-3, 1e-2])[None, :]
    w = Z.total_width(m, g_prime=g)
    assert w.shape == (5, 3)
    for ch, br in Z.branching_fractions(m, g_prime=g).items():
        assert br.shape == (5, 3), ch
    assert_allclose(sum(Z.branching_fractions(m, g_prime=g).values()), 1.0, rtol=1e-12)


def test_ctau_is_hbarc_over_width():
    w = Z.total_width(1.0, g_prime=1e-3)
    assert_allclose(Z.ctau_cm(1.0, g_prime=1e-3), HBARC_GEV_CM / w)
    assert Z.ctau_cm(1.0, g_prime=0.0) == np.inf


def test_zero_width_branching_fractions_are_zero_not_nan():
    br = Z.branching_fractions([0.0, 1.0], g_prime=0.0)
    for v in br.values():
        assert np.all(v == 0.0)


def test_decay_probability():
    m, p, g = 1.0, 3.0, 1e-6
    length = p / m * Z.ctau_cm(m, g_prime=g)
    prob = Z.decay_probability(m, p, 1.0, 10.0, g_prime=g)
    assert_allclose(prob, np.exp(-1 / length) - np.exp(-10 / length))
    assert_allclose(Z.decay_probability(m, p, 0.0, np.inf, g_prime=g), 1.0)
    # transverse radii: the same probability as flight distances r / sin(theta)
    s = 0.5
    assert_allclose(
        Z.decay_probability(m, p, 1.0, 10.0, sin_theta=s, g_prime=g),
        Z.decay_probability(m, p, 2.0, 20.0, g_prime=g),
    )
    # stable particle never decays; probabilities sum to one over a partition
    assert Z.decay_probability(m, p, 0.0, 100.0, g_prime=0.0) == 0.0
    edges = [0.0, 0.1, 1.0, 10.0, np.inf]
    parts = [
        Z.decay_probability(m, p, a, b, g_prime=1e-7)
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    assert_allclose(sum(parts), 1.0)
    with pytest.raises(ValueError, match="r_max_cm"):
        Z.decay_probability(m, p, 2.0, 1.0, g_prime=g)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_mass_and_coupling(bad):
    with pytest.raises(ValueError, match="mass"):
        Z.total_width(bad, g_prime=1e-3)
    with pytest.raises(ValueError, match="g_prime"):
        Z.total_width(1.0, g_prime=bad)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match=r"valid: \['g_prime', 'g_chi'\]"):
        Z.total_width(1.0, eps=1e-3)
    with pytest.raises(ValueError, match="needs coupling 'g_prime'"):
        Z.total_width(1.0)
    with pytest.raises(ValueError, match="valid: .*mu\\+mu-"):
        Z.partial_width("e+e-", 1.0, g_prime=1e-3)
    with pytest.raises(ValueError, match="valid: .*dark-photon"):
        get_model("no-such-model")
    with pytest.raises(ValueError, match="no closed-form"):
        Z.cross_section_fb(10.58, 1.0, g_prime=1e-3)


def test_registry_complete():
    names = model_names()
    for expected in (
        "dark-photon",
        "zprime-lmu-ltau",
        "alp-photon",
        "alp-w",
        "dark-scalar",
        "leptophilic-scalar",
        "muonphilic-scalar",
        "dark-higgs",
        "inelastic-dm",
        "tau-lfv-alpha",
        "alp-leptons",
    ):
        assert expected in names


def test_every_model_answers_the_verbs():
    for name in model_names():
        model = get_model(name)
        d = model.describe()
        assert d["couplings"], name
        kwargs = {c.name: (c.default if c.default is not None else 1e-3) for c in model.couplings}
        m = np.array([0.0, 0.05, 0.3, 1.0, 3.0, 9.0])
        widths = model.partial_widths(m, **kwargs)
        assert set(widths) == set(model.channels), name
        for ch, w in widths.items():
            assert np.all(np.isfinite(w)) and np.all(w >= 0), (name, ch)
        brs = model.branching_fractions(m, **kwargs)
        total = sum(brs.values())
        assert np.all((np.abs(total - 1) < 1e-9) | (total == 0)), name
        assert np.all(model.ctau_cm(m, **kwargs) > 0), name
