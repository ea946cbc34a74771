import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from darkscan.colliders import BABAR, BELLE, BELLE2
from darkscan.generators import get_process
from darkscan.generators.signal_photon import (
    DarkHiggsstrahlung,
    GammaALP,
    GammaDarkPhoton,
    cm_to_lab_matrix,
    lab_to_cm_matrix,
)
from darkscan.models import get_model
from darkscan.physics import isr
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_MUON

AP = get_model("dark-photon")
ALP = get_model("alp-photon")
DH = get_model("dark-higgs")
SQRT_S = BELLE2.sqrt_s
S = SQRT_S**2


def _sigma_and_error(batch):
    w = batch.weight
    return w.sum(), np.sqrt(np.sum(np.square(w - w.mean())))


def _assert_cross_section(batch, expected, max_rel_error=0.003):
    """sum(w) = expected within 5 standard errors, and the sample is precise to < 0.3 %."""
    total, err = _sigma_and_error(batch)
    assert err / expected < max_rel_error
    assert abs(total - expected) < 5 * err + 1e-12 * expected, (total, expected, err)
    assert abs(total / expected - 1) < 0.01


def _event_sums(batch):
    p = batch.particles
    return np.add.reduceat(p.columns["p4"], p.offsets[:-1], axis=0)


def _to_cm(p4, collider=BELLE2):
    return p4 @ lab_to_cm_matrix(collider).T


# ---------------------------------------------------------------- frames
@pytest.mark.parametrize("collider", [BELLE2, BELLE, BABAR])
def test_cm_to_lab_matrix(collider):
    lam = cm_to_lab_matrix(collider)
    eta = np.diag([1.0, -1, -1, -1])
    assert_allclose(lam.T @ eta @ lam, eta, atol=1e-12)
    assert_allclose(lam @ [collider.sqrt_s, 0, 0, 0], collider.p_total, atol=1e-12)
    e_minus = lab_to_cm_matrix(collider) @ collider.p_minus
    e_plus = lab_to_cm_matrix(collider) @ collider.p_plus
    half = collider.sqrt_s / 2
    assert_allclose(e_minus, [half, 0, 0, half], atol=1e-12)
    assert_allclose(e_plus, [half, 0, 0, -half], atol=1e-12)


# ---------------------------------------------------------------- cross sections
def test_dark_photon_no_isr_matches_closed_form():
    proc = GammaDarkPhoton(1.0, eps=1e-3, isr=False, cos_theta_range=(-0.95, 0.9))
    batch = proc.generate(200_000, np.random.default_rng(1), BELLE2)
    expected = AP.cross_section_fb(SQRT_S, 1.0, cos_theta_min=-0.95, cos_theta_max=0.9, eps=1e-3)
    _assert_cross_section(batch, float(expected))
    # the importance sampling of the 1/(1 - z^2) poles leaves weights within (2+k)/(1+k)
    assert batch.weight.max() / batch.weight.min() < 2.0


def test_dark_photon_default_range_is_the_widened_calorimeter():
    batch = GammaDarkPhoton(0.5, isr=False).generate(1000, np.random.default_rng(1), BELLE2)
    lo, hi = batch.meta["cos_theta_range"]
    c_lo, c_hi = BELLE2.photon_cos_theta_cm_range()
    assert lo < c_lo < c_hi < hi < 1
    assert_allclose(np.arctanh([c_lo, hi]) - np.arctanh([lo, c_hi]), 0.25)
    assert np.all((batch.truth["cos_theta_star"] >= lo) & (batch.truth["cos_theta_star"] <= hi))


def _convolved(sigma_of_sqrt_s, x_max, pole=0.0, order=1):
    return isr.convolve(
        lambda sp: sigma_of_sqrt_s(np.sqrt(sp)), S, x_max=x_max, pole=pole, order=order
    )


@pytest.mark.parametrize(("mass", "order"), [(1.0, 1), (0.0, 1), (5.0, 2)])
def test_dark_photon_with_isr_matches_convolution(mass, order):
    rng_z = (-0.9, 0.85)
    proc = GammaDarkPhoton(mass, eps=1e-3, cos_theta_range=rng_z, e_gamma_min=0.2, isr_order=order)
    batch = proc.generate(300_000, np.random.default_rng(2), BELLE2)
    x_max = batch.meta["x_max"]
    assert_allclose(x_max, 1 - (0.2 + np.hypot(0.2, mass)) ** 2 / S)

    def sigma(rs):
        return AP.cross_section_fb(
            rs, mass, cos_theta_min=rng_z[0], cos_theta_max=rng_z[1], eps=1e-3
        )

    expected = _convolved(sigma, x_max, pole=mass**2 / S, order=order)
    _assert_cross_section(batch, expected)
    # ISR raises the cross section (radiative return towards soft hard-frame photons)
    assert expected > sigma(SQRT_S)


def test_isr_x_max_caps_the_radiation():
    proc = GammaALP(2.0, g_agg=1e-3, isr_x_max=0.3)
    batch = proc.generate(100_000, np.random.default_rng(21), BELLE2)
    assert batch.meta["x_max"] == 0.3
    assert batch.truth["x_isr"].max() <= 0.3
    isr_photon = batch.particles.columns["p4"][batch.particles.offsets[1:] - 1]
    has = batch.truth["x_isr"] > 0
    assert_allclose(_to_cm(isr_photon[has])[:, 0], batch.truth["x_isr"][has] * SQRT_S / 2)

    def sigma(rs):
        return ALP.cross_section_fb(rs, 2.0, g_agg=1e-3)

    _assert_cross_section(batch, _convolved(sigma, 0.3))


def test_dark_photon_visible_weight_includes_branching_fraction():
    proc = GammaDarkPhoton(
        1.0, eps=1e-3, decay="visible", channel="mu+mu-", isr=False, cos_theta_range=(-0.8, 0.8)
    )
    batch = proc.generate(100_000, np.random.default_rng(3), BELLE2)
    br = AP.branching_fraction("mu+mu-", 1.0, eps=1e-3)
    sigma = AP.cross_section_fb(SQRT_S, 1.0, cos_theta_min=-0.8, cos_theta_max=0.8, eps=1e-3)
    _assert_cross_section(batch, float(br * sigma))
    assert batch.meta["branching_fraction"] == pytest.approx(float(br))


def test_alp_cross_section_closed_form_and_with_isr():
    m, g = 1.5, 1e-3
    batch = GammaALP(m, g_agg=g, isr=False).generate(1000, np.random.default_rng(4), BELLE2)
    closed = ALPHA_EM * g**2 / 24 * (1 - m**2 / S) ** 3 * GEV2_TO_FB  # full angular range
    assert_allclose(batch.cross_section_fb, closed, rtol=1e-10)
    proc = GammaALP(m, g_agg=g, cos_theta_range=(-0.7, 0.9))
    batch = proc.generate(200_000, np.random.default_rng(5), BELLE2)

    def sigma(rs):
        return ALP.cross_section_fb(rs, m, cos_theta_min=-0.7, cos_theta_max=0.9, g_agg=g)

    _assert_cross_section(batch, _convolved(sigma, batch.meta["x_max"]))


def test_dark_higgsstrahlung_cross_section_closed_form_and_with_isr():
    c = {"eps": 1e-3, "alpha_d": 0.5, "m_aprime": 4.0}
    br = float(AP.branching_fraction("mu+mu-", 4.0, eps=1e-3))
    batch = DarkHiggsstrahlung(4.0, 1.0, isr=False).generate(1000, np.random.default_rng(6), BELLE2)
    assert_allclose(batch.cross_section_fb, br * DH.cross_section_fb(SQRT_S, 1.0, **c), rtol=1e-10)
    # the published benchmark: sigma / (eps^2 alpha_D) = 7.43e7 fb at (4, 1) GeV
    assert_allclose(batch.cross_section_fb / br / (1e-6 * 0.5), 7.43e7, rtol=2e-3)
    for m_h, rng_z in ((1.0, (-1.0, 1.0)), (0.05, (-0.6, 0.8))):
        proc = DarkHiggsstrahlung(4.0, m_h, cos_theta_range=rng_z)
        batch = proc.generate(200_000, np.random.default_rng(7), BELLE2)

        def sigma(rs, m_h=m_h, rng_z=rng_z):
            return DH.cross_section_fb(rs, m_h, cos_theta_min=rng_z[0], cos_theta_max=rng_z[1], **c)

        expected = br * _convolved(sigma, batch.meta["x_max"], pole=16.0 / S)
        _assert_cross_section(batch, expected)


# ---------------------------------------------------------------- angular shapes
def _chi2_pvalue(values, weights, edges, expected_per_bin):
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    sw = np.bincount(idx, weights, len(edges) - 1)
    sw2 = np.bincount(idx, weights**2, len(edges) - 1)
    n = len(values)
    var = sw2 - sw**2 / n
    chi2 = np.sum((sw - expected_per_bin) ** 2 / var)
    return stats.chi2.sf(chi2, len(edges) - 1)


def test_dark_photon_cos_theta_histogram_matches_analytic():
    batch = GammaDarkPhoton(2.0, isr=False, cos_theta_range=(-0.98, 0.98)).generate(
        200_000, np.random.default_rng(8), BELLE2
    )
    edges = np.linspace(-0.98, 0.98, 21)
    expected = AP.cross_section_fb(
        SQRT_S, 2.0, cos_theta_min=edges[:-1], cos_theta_max=edges[1:], eps=1e-3
    )
    p = _chi2_pvalue(batch.truth["cos_theta_star"], batch.weight, edges, expected)
    assert p > 1e-3


def test_dark_photon_cos_theta_histogram_with_isr_matches_convolution():
    proc = GammaDarkPhoton(2.0, cos_theta_range=(-0.9, 0.9), e_gamma_min=0.5)
    batch = proc.generate(200_000, np.random.default_rng(9), BELLE2)
    edges = np.linspace(-0.9, 0.9, 10)
    x_max = batch.meta["x_max"]
    expected = [
        _convolved(
            lambda rs, a=a, b=b: AP.cross_section_fb(
                rs, 2.0, cos_theta_min=a, cos_theta_max=b, eps=1e-3
            ),
            x_max,
            pole=4.0 / S,
        )
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    p = _chi2_pvalue(batch.truth["cos_theta_star"], batch.weight, edges, np.array(expected))
    assert p > 1e-3


def test_alp_and_dark_higgs_angles_are_sampled_exactly():
    # constant weights without ISR: the unweighted histogram follows the analytic shape
    n = 100_000
    z = (
        GammaALP(1.0, isr=False)
        .generate(n, np.random.default_rng(10), BELLE2)
        .truth["cos_theta_star"]
    )
    cdf = (z + z**3 / 3 + 4 / 3) / (8 / 3)  # (1 + z^2) on [-1, 1]
    assert stats.kstest(cdf, "uniform").pvalue > 1e-3
    proc = DarkHiggsstrahlung(0.5, 0.2, isr=False, cos_theta_range=(-0.9, 0.7))
    batch = proc.generate(n, np.random.default_rng(11), BELLE2)
    assert np.ptp(batch.weight) < 1e-12 * batch.weight[0]
    z = batch.truth["cos_theta_star"]
    c = {"eps": 1e-3, "alpha_d": 0.5, "m_aprime": 0.5}
    norm = DH.cross_section_fb(SQRT_S, 0.2, cos_theta_min=-0.9, cos_theta_max=0.7, **c)
    cdf = DH.cross_section_fb(SQRT_S, 0.2, cos_theta_min=-0.9, cos_theta_max=z, **c) / norm
    assert stats.kstest(cdf, "uniform").pvalue > 1e-3


# ---------------------------------------------------------------- kinematics
ALL_PROCESSES = [
    GammaDarkPhoton(1.0),
    GammaDarkPhoton(0.0, e_gamma_min=0.5),
    GammaDarkPhoton(0.3, eps=1e-4, decay="visible", channel="e+e-"),
    GammaDarkPhoton(3.0, decay="visible", channel="mu+mu-", isr_angular="collinear"),
    GammaALP(0.5, g_agg=1e-4),
    DarkHiggsstrahlung(4.0, 1.0),
    DarkHiggsstrahlung(2.0, 0.1, channel="e+e-", isr_order=2),
]


@pytest.mark.parametrize("proc", ALL_PROCESSES, ids=lambda p: f"{p.name}")
@pytest.mark.parametrize("collider", [BELLE2, BABAR])
def test_four_momentum_conservation_in_every_event(proc, collider):
    batch = proc.generate(20_000, np.random.default_rng(12), collider)
    sums = _event_sums(batch)
    assert_allclose(sums, np.broadcast_to(collider.p_total, sums.shape), atol=1e-9)
    counts = batch.particles.counts
    n_hard = counts.min()
    has_isr = batch.truth["x_isr"] > 0
    assert np.array_equal(counts, n_hard + has_isr)
    assert 0.5 < has_isr.mean() < 0.9  # 1 - 0.8 x_soft^beta ~ 0.7 with the pole channel
    assert np.all(np.isfinite(batch.particles.columns["p4"]))
    assert np.all(batch.weight > 0)
    # the ISR photon is the last particle of its event
    last = batch.particles.offsets[1:] - 1
    assert np.all(batch.particles.columns["pdg"][last[has_isr]] == 22)


def test_photon_energy_and_recoil_mass_without_isr():
    m = 2.5
    batch = GammaDarkPhoton(m, isr=False).generate(10_000, np.random.default_rng(13), BELLE2)
    p4 = batch.particles.columns["p4"].reshape(-1, 2, 4)
    assert np.all(batch.particles.columns["pdg"].reshape(-1, 2) == [22, 55])
    gamma_cm = _to_cm(p4[:, 0])
    assert_allclose(gamma_cm[:, 0], (S - m**2) / (2 * SQRT_S), rtol=1e-12)
    # cos(theta*) truth is the photon polar angle in the CM frame (e- along +z)
    assert_allclose(
        gamma_cm[:, 3] / gamma_cm[:, 0], batch.truth["cos_theta_star"], rtol=0, atol=1e-12
    )
    assert_allclose(batch.truth["m_x2"], m**2, atol=1e-9)
    a_cm = _to_cm(p4[:, 1])
    assert_allclose(a_cm[:, 0] ** 2 - np.sum(a_cm[:, 1:] ** 2, axis=1), m**2, atol=1e-9)


def test_soft_isr_events_keep_the_no_isr_photon_energy():
    m = 1.0
    batch = GammaDarkPhoton(m).generate(20_000, np.random.default_rng(14), BELLE2)
    no_isr = batch.truth["x_isr"] == 0
    assert 0.2 < no_isr.mean() < 0.45  # ~0.8 x_soft^beta (soft channel) = 0.29
    first = batch.particles.offsets[:-1]
    gamma_cm = _to_cm(batch.particles.columns["p4"][first])
    assert_allclose(gamma_cm[no_isr, 0], (S - m**2) / (2 * SQRT_S), rtol=1e-12)
    # with ISR the recoil mass squared against the photon moves away from m^2
    x = batch.truth["x_isr"]
    assert np.all(batch.truth["m_x2"][x > 1e-3] != pytest.approx(m**2))


def test_collinear_isr_photon_runs_along_a_beam():
    proc = GammaDarkPhoton(1.0, isr_angular="collinear")
    batch = proc.generate(5000, np.random.default_rng(15), BELLE2)
    has = batch.truth["x_isr"] > 0
    last = batch.particles.offsets[1:] - 1
    k = batch.particles.columns["p4"][last[has]]
    u = k[:, 1:] / k[:, :1]
    along_minus = np.abs(u @ [0, 0, 1] - 1) < 1e-12
    e_plus_dir = BELLE2.p_plus[1:] / BELLE2.p_plus[0]
    along_plus = np.abs(u @ e_plus_dir - 1) < 1e-12
    assert np.all(along_minus | along_plus)
    assert 0.45 < along_minus.mean() < 0.55


def test_visible_decay_kinematics_and_vertex():
    m, eps = 0.3, 1e-5
    proc = GammaDarkPhoton(m, eps=eps, decay="visible", channel="e+e-")
    batch = proc.generate(50_000, np.random.default_rng(16), BELLE2)
    cols = batch.particles.columns
    first = batch.particles.offsets[:-1]
    assert np.all(cols["pdg"][first] == 22)
    assert np.all(cols["pdg"][first + 1] == 11) and np.all(cols["pdg"][first + 2] == -11)
    l1, l2 = cols["p4"][first + 1], cols["p4"][first + 2]
    pair = l1 + l2
    assert_allclose(np.sqrt(pair[:, 0] ** 2 - np.sum(pair[:, 1:] ** 2, axis=1)), m, rtol=1e-7)
    v1, v2 = cols["vertex"][first + 1], cols["vertex"][first + 2]
    assert np.array_equal(v1, v2)
    assert np.all(cols["vertex"][first] == 0)
    # vertex along the A' flight direction, distance / (beta gamma c tau) ~ Exp(1)
    p_a = pair[:, 1:]
    dist = np.linalg.norm(v1, axis=1)
    assert_allclose(np.sum(v1 * p_a, axis=1), dist * np.linalg.norm(p_a, axis=1), rtol=1e-9)
    assert_allclose(dist, batch.truth["decay_length_cm"], rtol=1e-9)
    ctau = float(AP.ctau_cm(m, eps=eps))
    assert batch.meta["ctau_cm"] == pytest.approx(ctau)
    t = dist / (np.linalg.norm(p_a, axis=1) / m * ctau)
    assert stats.kstest(t, "expon").pvalue > 1e-3


def test_alp_three_photons_and_diphoton_mass():
    m = 0.8
    proc = GammaALP(m, g_agg=1e-4, isr=False)
    batch = proc.generate(5000, np.random.default_rng(17), BELLE2)
    assert np.all(batch.particles.counts == 3)
    assert np.all(batch.particles.columns["pdg"] == 22)
    p4 = batch.particles.columns["p4"].reshape(-1, 3, 4)
    pair = p4[:, 1] + p4[:, 2]
    assert_allclose(np.sqrt(pair[:, 0] ** 2 - np.sum(pair[:, 1:] ** 2, axis=1)), m, rtol=1e-9)
    assert_allclose(batch.truth["m_x2"], m**2, atol=1e-9)
    assert np.all(
        np.linalg.norm(batch.particles.columns["vertex"].reshape(-1, 3, 3)[:, 1], axis=1) > 0
    )


def test_dark_higgs_recoil_mass_and_dimuon():
    batch = DarkHiggsstrahlung(4.0, 1.0, isr=False).generate(
        5000, np.random.default_rng(18), BELLE2
    )
    pdg = batch.particles.columns["pdg"].reshape(-1, 3)
    assert np.all(pdg == [13, -13, 54])
    p4 = batch.particles.columns["p4"].reshape(-1, 3, 4)
    mumu = p4[:, 0] + p4[:, 1]
    assert_allclose(np.sqrt(mumu[:, 0] ** 2 - np.sum(mumu[:, 1:] ** 2, axis=1)), 4.0, rtol=1e-9)
    assert_allclose(batch.truth["m_x2"], 1.0, atol=1e-8)
    recoil = _to_cm(BELLE2.p_total - mumu)
    assert_allclose(recoil[:, 0] ** 2 - np.sum(recoil[:, 1:] ** 2, axis=1), 1.0, atol=1e-8)
    assert np.all(np.abs(p4[:, 0, 0]) > M_MUON)


# ---------------------------------------------------------------- reproducibility, API, errors
@pytest.mark.parametrize("proc", ALL_PROCESSES[:1] + ALL_PROCESSES[2:3] + ALL_PROCESSES[4:6])
def test_same_seed_same_events(proc):
    a = proc.generate(3000, np.random.default_rng(99), BELLE2)
    b = proc.generate(3000, np.random.default_rng(99), BELLE2)
    c = proc.generate(3000, np.random.default_rng(100), BELLE2)
    for name in ("pdg", "p4", "vertex"):
        assert np.array_equal(a.particles.columns[name], b.particles.columns[name])
    assert np.array_equal(a.particles.offsets, b.particles.offsets)
    assert np.array_equal(a.weight, b.weight)
    for k in a.truth:
        assert np.array_equal(a.truth[k], b.truth[k])
    assert not np.array_equal(a.weight, c.weight)


def test_registry_meta_and_empty_batch():
    proc = get_process("ee-gamma-aprime", mass=1.0, eps=1e-3)
    assert isinstance(proc, GammaDarkPhoton)
    assert isinstance(get_process("ee-gamma-alp", mass=1.0), GammaALP)
    assert isinstance(
        get_process("ee-aprime-hprime", m_aprime=3.0, m_hprime=1.0), DarkHiggsstrahlung
    )
    batch = proc.generate(0, np.random.default_rng(1), BELLE2)
    assert batch.n_events == 0 and batch.cross_section_fb == 0
    batch = proc.generate(10, np.random.default_rng(1), BELLE)
    meta = batch.meta
    assert meta["process"] == "ee-gamma-aprime" and meta["collider"] == "belle"
    assert meta["params"]["mass"] == 1.0 and meta["generator_version"]
    assert set(batch.truth) == {"cos_theta_star", "x_isr", "m_x2"}


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: GammaDarkPhoton(1.0, decay="dark"), "unknown decay"),
        (lambda: GammaDarkPhoton(1.0, decay="visible", channel="tau+tau-"), "unknown channel"),
        (lambda: GammaDarkPhoton(0.1, decay="visible", channel="mu+mu-"), "threshold"),
        (lambda: GammaDarkPhoton(-1.0), "mass"),
        (lambda: GammaDarkPhoton(1.0, eps=0.0), "eps"),
        (lambda: GammaDarkPhoton(1.0, cos_theta_range=(-1.0, 0.5)), "cos_theta_range"),
        (lambda: GammaDarkPhoton(1.0, e_gamma_min=0.0), "e_gamma_min"),
        (lambda: GammaDarkPhoton(1.0, isr_order=3), "isr_order"),
        (lambda: GammaDarkPhoton(1.0, isr_angular="flat"), "isr_angular"),
        (lambda: GammaALP(0.0), "mass"),
        (lambda: GammaALP(1.0, cos_theta_range=(0.5, 0.2)), "cos_theta_range"),
        (lambda: DarkHiggsstrahlung(1.0, 2.0), "m_hprime must be below"),
        (lambda: DarkHiggsstrahlung(1.0, 0.0), "m_hprime"),
        (lambda: get_process("ee-gamma-aprime", mass=1.0, coupling=2.0), "bad parameter"),
    ],
)
def test_bad_parameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_bad_generate_arguments():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="below sqrt"):
        GammaDarkPhoton(11.0).generate(10, rng, BELLE2)
    with pytest.raises(ValueError, match="below sqrt"):
        GammaALP(10.6).generate(10, rng, BELLE2)
    with pytest.raises(ValueError, match="below sqrt"):
        DarkHiggsstrahlung(8.0, 3.0).generate(10, rng, BELLE2)
    with pytest.raises(ValueError, match="e_gamma_min"):
        GammaDarkPhoton(10.0, e_gamma_min=1.0).generate(10, rng, BELLE2)
    with pytest.raises(ValueError, match="n_events"):
        GammaDarkPhoton(1.0).generate(-5, rng, BELLE2)
    with pytest.raises(ValueError, match="n_events"):
        GammaALP(1.0).generate(2.5, rng, BELLE2)
