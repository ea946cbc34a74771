"""Tests of darkscan.generators.tau_decays against analytic spectra and conservation laws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from darkscan.generators import tau_decays as td
from darkscan.physics.constants import M_ELECTRON, M_MUON, M_PI_CHARGED, M_PI_ZERO, M_TAU

CHARGE = {11: -1, -11: 1, 13: -1, -13: 1, -211: -1, 211: 1}


def _taus_at_rest(n, rng, charge=None):
    p4 = np.zeros((n, 4))
    p4[:, 0] = M_TAU
    if charge is None:
        charge = np.where(rng.random(n) < 0.5, -1, 1)
    return p4, np.asarray(charge)


def _moving_taus(n, rng):
    p = rng.uniform(0.5, 6.0, n)[:, None] * td._isotropic_dirs(n, rng)
    p4 = np.concatenate([np.sqrt(np.sum(p * p, 1) + M_TAU**2)[:, None], p], 1)
    return p4, np.where(rng.random(n) < 0.5, -1, 1)


def _mass(p):
    return np.sqrt(np.clip(p[..., 0] ** 2 - np.sum(p[..., 1:] ** 2, -1), 0, None))


def test_branching_fractions():
    br = td.BRANCHING_FRACTIONS
    assert sum(br.values()) == pytest.approx(1.0, abs=1e-12)
    assert br["e"] == 0.1782 and br["mu"] == 0.1739  # PDG, kept exactly
    # hadronic modes keep their PDG ratios
    assert br["rho"] / br["pi"] == pytest.approx(td.PDG_BR["rho"] / td.PDG_BR["pi"])
    # one-prong fraction close to the PDG 85.2 % (three prongs 14.6 %)
    three = br["a1_3prong"] + br["3pi_pi0"]
    assert three == pytest.approx(0.146, abs=0.005)
    assert td.CTAU_CM == pytest.approx(87.03e-4, rel=2e-3)


def test_conservation_laws_and_codes():
    rng = np.random.default_rng(1)
    p4, charge = _moving_taus(50_000, rng)
    dec, factor = td.decay_taus(p4, charge, rng)
    prod = dec.products
    assert np.all(factor == 1.0)
    tot = np.add.reduceat(prod.columns["p4"], prod.offsets[:-1], axis=0)
    np.testing.assert_allclose(tot, p4, atol=1e-10)
    pdg = prod.columns["pdg"]
    q = np.array([CHARGE.get(int(c), 0) for c in pdg])
    np.testing.assert_array_equal(np.add.reduceat(q, prod.offsets[:-1]), charge)
    assert set(np.unique(np.abs(pdg))) <= {11, 12, 13, 14, 16, 22, 211}
    # exactly one nu_tau (tau-) or anti-nu_tau (tau+) per decay
    n_nu = np.add.reduceat((pdg == 16).astype(int) - (pdg == -16).astype(int), prod.offsets[:-1])
    np.testing.assert_array_equal(n_nu, -charge)
    # masses of the daughters
    m = _mass(prod.columns["p4"])
    for code, mass in ((11, M_ELECTRON), (13, M_MUON), (211, M_PI_CHARGED), (22, 0.0), (12, 0.0)):
        sel = np.abs(pdg) == code
        np.testing.assert_allclose(m[sel], mass, atol=2e-6)


def test_mode_frequencies_follow_branching_fractions():
    rng = np.random.default_rng(2)
    n = 200_000
    dec, _ = td.decay_taus(*_taus_at_rest(n, rng), rng)
    counts = np.bincount(dec.mode, minlength=len(td.MODES))
    expected = n * np.array([td.BRANCHING_FRACTIONS[m] for m in td.MODES])
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, len(td.MODES) - 1) > 1e-3


def _only(mode, n, rng, moving=False):
    p4, charge = _moving_taus(n, rng) if moving else _taus_at_rest(n, rng)
    dec, factor = td.decay_taus(p4, charge, rng, modes=(mode,))
    return dec, factor, p4


def test_michel_spectrum_electron():
    """tau -> e nu nu at rest: x = 2 E_e / m_tau follows 2 x^2 (3 - 2x) (m_e -> 0)."""
    rng = np.random.default_rng(3)
    dec, factor, _ = _only("e", 200_000, rng)
    assert factor[0] == pytest.approx(td.BRANCHING_FRACTIONS["e"])
    pr = dec.products
    e = pr.columns["p4"][np.abs(pr.columns["pdg"]) == 11][:, 0]
    x = 2 * e / M_TAU
    edges = np.linspace(0, 1, 21)
    counts, _ = np.histogram(x, edges)
    cdf = lambda t: 2 * t**3 - t**4  # noqa: E731  integral of 2 x^2 (3 - 2x)
    expected = np.diff(cdf(edges)) * len(x)
    keep = expected > 20
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_michel_spectrum_muon_with_mass():
    """tau -> mu nu nu at rest: d Gamma / dx ~ sqrt(x^2 - x0^2)(3x - 2x^2 - x0^2) (rho = 3/4,
    eta = 0, x0 = 2 m_mu / m_tau), an independent textbook form of the V-A spectrum."""
    rng = np.random.default_rng(4)
    dec, _, _ = _only("mu", 200_000, rng)
    pr = dec.products
    e = pr.columns["p4"][np.abs(pr.columns["pdg"]) == 13][:, 0]
    x0 = 2 * M_MUON / M_TAU
    x = 2 * e / M_TAU
    x_max = 1 + x0**2 / 4
    assert x.min() >= x0 - 1e-12 and x.max() <= x_max + 1e-12
    f = lambda t: np.sqrt(max(t * t - x0 * x0, 0)) * (3 * t - 2 * t * t - x0 * x0)  # noqa: E731
    edges = np.linspace(x0, x_max, 21)
    norm = integrate.quad(f, x0, x_max)[0]
    expected = np.array(
        [integrate.quad(f, a, b)[0] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    )
    expected *= len(x) / norm
    counts, _ = np.histogram(x, edges)
    keep = expected > 20
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_two_body_pion_momentum_and_isotropy():
    rng = np.random.default_rng(5)
    dec, _, _ = _only("pi", 50_000, rng)
    pr = dec.products
    pi = pr.columns["p4"][np.abs(pr.columns["pdg"]) == 211]
    p = np.linalg.norm(pi[:, 1:], axis=1)
    np.testing.assert_allclose(p, (M_TAU**2 - M_PI_CHARGED**2) / (2 * M_TAU), rtol=1e-12)
    cos = pi[:, 3] / p
    assert stats.kstest(cos, "uniform", args=(-1, 2)).pvalue > 1e-3


def test_rho_mass_and_helicity_angle():
    """pi pi0 mass ~ rho_mass2_density; pion angle in the rho frame about the rho direction
    ~ m_tau^2 cos^2 + m^2 sin^2 (exact V-A current, unpolarised tau)."""
    rng = np.random.default_rng(6)
    dec, _, _ = _only("rho", 100_000, rng)
    pr = dec.products
    idx = pr.event_index()
    pdg = pr.columns["pdg"]
    pi = pr.columns["p4"][np.abs(pdg) == 211]
    photons = pr.columns["p4"][pdg == 22]
    pi0 = photons[0::2] + photons[1::2]  # two photons per decay, in order
    assert np.all(idx[pdg == 22][0::2] == idx[pdg == 22][1::2])
    np.testing.assert_allclose(_mass(pi0), M_PI_ZERO, rtol=1e-9)
    rho = pi + pi0
    m2 = _mass(rho) ** 2
    lo, hi = (M_PI_CHARGED + M_PI_ZERO) ** 2, M_TAU**2
    edges = np.linspace(lo, hi, 26)
    norm = integrate.quad(td.rho_mass2_density, lo, hi, limit=200, points=[0.6])[0]
    expected = np.array(
        [
            integrate.quad(td.rho_mass2_density, a, b, limit=100)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    expected *= len(m2) / norm
    counts, _ = np.histogram(m2, edges)
    keep = expected > 20
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3
    # helicity angle, in a narrow m window
    sel = (m2 > 0.5) & (m2 < 0.7)
    beta = -rho[sel, 1:] / rho[sel, :1]
    pi_rest = td._boost_rows(pi[sel], beta)
    axis = rho[sel, 1:] / np.linalg.norm(rho[sel, 1:], axis=1)[:, None]
    cos = np.sum(pi_rest[:, 1:] * axis, 1) / np.linalg.norm(pi_rest[:, 1:], axis=1)
    m2_mid = np.mean(m2[sel])
    a, b = m2_mid, M_TAU**2 - m2_mid
    edges = np.linspace(-1, 1, 11)
    cdf = (a * (edges + 1) + b * (edges**3 + 1) / 3) / (2 * a + 2 * b / 3)
    expected = np.diff(cdf) * sel.sum()
    counts, _ = np.histogram(cos, edges)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, len(counts) - 1) > 1e-4


def test_three_prong_masses_and_flat_phase_space():
    rng = np.random.default_rng(7)
    dec, _, _ = _only("a1_3prong", 60_000, rng)
    pr = dec.products
    assert np.all(pr.counts == 4)
    p4 = pr.columns["p4"].reshape(-1, 4, 4)
    had = p4[:, :3].sum(1)
    assert np.all(_mass(had) <= M_TAU + 1e-9) and np.all(_mass(had) >= 3 * M_PI_CHARGED - 1e-9)
    # flat_phase_space: at fixed M the Dalitz plot is uniform -> m12^2 marginal ~ boundary length
    big_m = 1.2
    n = 200_000
    total = np.zeros((n, 4))
    total[:, 0] = big_m
    a, b, c = td.flat_phase_space(total, (M_PI_CHARGED, M_PI_CHARGED, M_PI_ZERO), rng)
    np.testing.assert_allclose(a + b + c, total, atol=1e-12)
    m12 = _mass(a + b) ** 2
    lo, hi = (2 * M_PI_CHARGED) ** 2, (big_m - M_PI_ZERO) ** 2

    def length(
        s12,
    ):  # Dalitz extent in m23^2 at fixed m12^2, ~ p*(M; m12, m3) p*(m12; m1, m2) / m12
        return (
            td._p2(big_m, np.sqrt(s12), M_PI_ZERO)
            * td._p2(np.sqrt(s12), M_PI_CHARGED, M_PI_CHARGED)
            / np.sqrt(s12)
        )

    edges = np.linspace(lo, hi, 21)
    expected = np.array(
        [integrate.quad(length, x, y)[0] for x, y in zip(edges[:-1], edges[1:], strict=True)]
    )
    expected *= n / expected.sum()
    counts, _ = np.histogram(m12, edges)
    keep = expected > 20
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_restricted_modes_and_weight():
    rng = np.random.default_rng(8)
    p4, charge = _moving_taus(10_000, rng)
    dec, factor = td.decay_taus(p4, charge, rng, modes=("mu", "pi"))
    assert np.all(
        factor == pytest.approx(td.BRANCHING_FRACTIONS["mu"] + td.BRANCHING_FRACTIONS["pi"])
    )
    names = {td.MODES[i] for i in np.unique(dec.mode)}
    assert names == {"mu", "pi"}
    frac_mu = np.mean(dec.mode == td.MODES.index("mu"))
    expect = td.BRANCHING_FRACTIONS["mu"] / (
        td.BRANCHING_FRACTIONS["mu"] + td.BRANCHING_FRACTIONS["pi"]
    )
    assert frac_mu == pytest.approx(expect, abs=0.02)


def test_decay_vertex_flight_length():
    rng = np.random.default_rng(9)
    n = 100_000
    p = 4.0
    p4 = np.tile([np.sqrt(p * p + M_TAU**2), 0.0, 0.0, p], (n, 1))
    dec, _ = td.decay_taus(p4, -np.ones(n, int), rng, production_vertex=[0.0, 0.0, 1.0])
    v = dec.products.columns["vertex"][dec.products.offsets[:-1]]
    assert np.all(v[:, :2] == 0)
    assert np.mean(v[:, 2] - 1.0) == pytest.approx(p / M_TAU * td.CTAU_CM, rel=0.01)


def test_same_seed_same_decays():
    p4, charge = _moving_taus(3000, np.random.default_rng(0))
    a, _ = td.decay_taus(p4, charge, np.random.default_rng(4))
    b, _ = td.decay_taus(p4, charge, np.random.default_rng(4))
    np.testing.assert_array_equal(a.products.columns["p4"], b.products.columns["p4"])
    np.testing.assert_array_equal(a.mode, b.mode)


def test_bad_input():
    rng = np.random.default_rng(0)
    p4, charge = _taus_at_rest(3, rng)
    with pytest.raises(ValueError, match="valid"):
        td.decay_taus(p4, charge, rng, modes=("kaon",))
    with pytest.raises(ValueError, match="charge"):
        td.decay_taus(p4, np.array([0, 1, 1]), rng)
    with pytest.raises(ValueError, match="shape"):
        td.decay_taus(p4[:, :3], charge, rng)
    with pytest.raises(ValueError, match="valid"):
        td.decay_taus(p4, charge, rng, modes=())
