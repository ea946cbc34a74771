"""e+e- -> mu+ mu- Z': matrix element, phase space, cross section and event record.

Independent references: explicit 4x4 Dirac-matrix traces with explicit Z' polarisation vectors
(not the -g + kk/M^2 sum), the textbook e+e- -> q qbar g formula, the soft-photon eikonal
factor, a scipy nested quadrature over the Dalitz plot in (E_Z', E_mu-) with the beam
orientation averaged by an exact 6-point rule, and the generator's own Monte Carlo.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate

from darkscan.colliders import BABAR, BELLE, BELLE2
from darkscan.generators import get_process
from darkscan.generators.signal_zprime import (
    MuMuZPrime,
    _cos_sin,
    cm_to_lab_matrix,
    sample_hard,
)
from darkscan.models.zprime import (
    cross_section_mumu_zprime_fb,
    dsigma_mumu_zprime_de_fb,
    msq_mumu_zprime,
    msq_mumu_zprime_reduced,
)
from darkscan.physics import lorentz as lv
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_MUON

SQRT_S = 10.58

# ----------------------------------------------------------------------------- Dirac algebra
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_SIGMA = [
    np.array([[0, 1], [1, 0]], complex),
    np.array([[0, -1j], [1j, 0]]),
    np.array([[1, 0], [0, -1]], complex),
]
GAMMA = np.array(
    [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)]
    + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIGMA]
)  # gamma^mu, Dirac representation
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
GAMMA_LOW = np.einsum("mn,nab->mab", METRIC, GAMMA)
ONE = np.eye(4)


def slash(p):
    """p-slash for (n, 4) momenta -> (n, 4, 4)."""
    return np.einsum("nm,mab->nab", p @ METRIC, GAMMA)


def polarisations(k, mass):
    """Three real polarisation vectors (n, 3, 4) of a massive vector of momentum k (n, 4)."""
    kv = k[:, 1:]
    kabs = np.linalg.norm(kv, axis=1)
    khat = kv / kabs[:, None]
    helper = np.where(np.abs(khat[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = np.cross(khat, helper)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(khat, e1)
    zero = np.zeros((len(k), 1))
    eps_l = np.concatenate([kabs[:, None], k[:, :1] * khat], axis=1) / mass
    return np.stack(
        [np.concatenate([zero, e1], axis=1), np.concatenate([zero, e2], axis=1), eps_l], axis=1
    )


def msq_reduced_by_traces(p1, p2, q1, q2, k, mass, m=M_MUON, pol="explicit"):
    """R = L_{mu rho} H^{mu rho} from explicit Dirac matrices (vectorised over events).

    pol: "explicit" (sum over 3 polarisation vectors), "-g" (photon-like -g_{nu sigma}) or
    "kk" (the k_nu k_sigma / M^2 piece alone).
    """
    n = len(p1)
    d1 = (lv.mass2(q1 + k) - m * m)[:, None, None, None, None]
    d2 = (lv.mass2(q2 + k) - m * m)[:, None, None, None, None]
    prop1 = slash(q1 + k) + m * ONE
    prop2 = -slash(q2 + k) + m * ONE
    # O[n, nu, mu] = gamma^nu prop1 gamma_mu / D1 + gamma_mu prop2 gamma^nu / D2
    o1 = np.einsum("vab,nbc,mcd->nvmad", GAMMA, prop1, GAMMA_LOW)
    o2 = np.einsum("mab,nbc,vcd->nvmad", GAMMA_LOW, prop2, GAMMA)
    o = o1 / d1 + o2 / d2
    obar = np.einsum("ab,nvmcb,cd->nvmad", GAMMA[0], o.conj(), GAMMA[0])
    lep = np.einsum("nab,mbc,ncd,rda->nmr", slash(p2), GAMMA, slash(p1), GAMMA).real
    a = slash(q1) + m * ONE
    b = slash(q2) - m * ONE
    # H[n, nu, mu, sigma, rho] = Tr[a O^nu_mu b Obar^sigma_rho]
    h = np.einsum("nab,nvmbc,ncd,nsrda->nvmsr", a, o, b, obar)
    if pol == "explicit":
        eps = polarisations(k, mass)  # contravariant components
        eps_low = eps @ METRIC
        proj = np.einsum("npv,nps->nvs", eps_low, eps_low)
    elif pol == "-g":
        proj = np.broadcast_to(-METRIC, (n, 4, 4))
    else:
        kl = k @ METRIC
        proj = np.einsum("nv,ns->nvs", kl, kl) / mass**2
    return np.einsum("nmr,nvmsr,nvs->n", lep, h, proj).real


def random_points(n, rng, sqrt_s, mass, m=M_MUON):
    """Exact 3-body points in the CM (e- along +z) built with lorentz.two_body_decay."""
    s = sqrt_s**2
    e_max = (s + mass**2 - 4 * m * m) / (2 * sqrt_s)
    e_k = rng.uniform(mass, e_max, n)
    kabs = np.sqrt(e_k**2 - mass**2)
    ct, ph = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    st = np.sqrt(1 - ct**2)
    k = lv.four_vector(e_k, kabs * st * np.cos(ph), kabs * st * np.sin(ph), kabs * ct)
    q = lv.four_vector(sqrt_s, 0.0, 0.0, 0.0) - k
    q1, q2 = lv.two_body_decay(q, m, m, rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    p1 = np.broadcast_to([sqrt_s / 2, 0, 0, sqrt_s / 2], (n, 4)).astype(float)
    p2 = np.broadcast_to([sqrt_s / 2, 0, 0, -sqrt_s / 2], (n, 4)).astype(float)
    return p1, p2, q1, q2, k


def reduced_from_momenta(p1, p2, q1, q2, k, mass, m=M_MUON):
    return msq_mumu_zprime_reduced(
        2 * lv.dot(p1, p2),
        2 * lv.dot(q1, k) + mass**2,
        2 * lv.dot(q2, k) + mass**2,
        lv.dot(p1, q1) - lv.dot(p2, q1),
        lv.dot(p1, q2) - lv.dot(p2, q2),
        mass,
        m,
    )


# ----------------------------------------------------------------------------- matrix element
@pytest.mark.parametrize("mass", [0.05, 0.7, 3.0, 9.0])
def test_closed_form_matches_dirac_traces_with_explicit_polarisations(mass):
    rng = np.random.default_rng(11)
    pts = random_points(40, rng, SQRT_S, mass)
    ref = msq_reduced_by_traces(*pts, mass, pol="explicit")
    assert np.all(ref > 0)
    assert_allclose(reduced_from_momenta(*pts, mass), ref, rtol=1e-10)


@pytest.mark.parametrize("mass", [0.3, 4.0])
def test_kk_term_cancels_between_the_two_diagrams(mass):
    rng = np.random.default_rng(12)
    pts = random_points(20, rng, SQRT_S, mass)
    full = msq_reduced_by_traces(*pts, mass, pol="explicit")
    kk = msq_reduced_by_traces(*pts, mass, pol="kk")
    assert np.max(np.abs(kk) / full) < 1e-11
    assert_allclose(msq_reduced_by_traces(*pts, mass, pol="-g"), full, rtol=1e-10)


def test_massless_photon_limit_against_dirac_traces():
    # M = 0 (photon, -g polarisation sum) with massive muons: the closed form is regular there.
    rng = np.random.default_rng(13)
    pts = random_points(30, rng, SQRT_S, 1e-9)
    k = pts[4].copy()
    k[:, 0] = np.linalg.norm(k[:, 1:], axis=1)  # exactly massless
    q = lv.four_vector(SQRT_S, 0, 0, 0) - k
    q1, q2 = lv.two_body_decay(q, M_MUON, M_MUON, rng.uniform(-1, 1, 30), rng.uniform(0, 6, 30))
    pts = (pts[0], pts[1], q1, q2, k)
    ref = msq_reduced_by_traces(*pts, 1.0, pol="-g")
    assert_allclose(reduced_from_momenta(*pts, 0.0), ref, rtol=1e-10)
    # and M -> 0 approaches it continuously
    assert_allclose(reduced_from_momenta(*pts, 1e-6), ref, rtol=1e-6)


def test_massless_limit_is_the_textbook_qqbar_gluon_formula():
    # m_mu = M = 0: (1/4) sum |M|^2 = 4 e^4 g'^2 [(p1q1)^2 + (p1q2)^2 + (p2q1)^2 + (p2q2)^2]
    #                                   / (s (q1.k)(q2.k))
    rng = np.random.default_rng(14)
    n = 50
    sqrt_s = 10.0
    x1, x2 = rng.uniform(0.2, 1.0, (2, 4 * n))
    ok = (x1 + x2 > 1.02) & (x1 + x2 < 1.98)
    x1, x2 = x1[ok][:n], x2[ok][:n]
    e1, e2 = x1 * sqrt_s / 2, x2 * sqrt_s / 2
    ek = sqrt_s - e1 - e2
    c12 = (ek**2 - e1**2 - e2**2) / (2 * e1 * e2)  # massless: |q| = E
    s12 = np.sqrt(1 - c12**2)
    q1 = np.stack([e1, 0 * e1, 0 * e1, e1], axis=1)
    q2 = np.stack([e2, e2 * s12, 0 * e2, e2 * c12], axis=1)
    k = np.stack([ek, -e2 * s12, 0 * e2, -e1 - e2 * c12], axis=1)
    beam = rng.normal(size=(n, 3))
    beam /= np.linalg.norm(beam, axis=1)[:, None]
    p1 = np.concatenate([np.full((n, 1), sqrt_s / 2), beam * sqrt_s / 2], axis=1)
    p2 = np.concatenate([np.full((n, 1), sqrt_s / 2), -beam * sqrt_s / 2], axis=1)
    g = 0.3
    got = msq_mumu_zprime(p1, p2, q1, q2, k, 0.0, g, m_mu=0.0)
    e4 = (4 * np.pi * ALPHA_EM) ** 2
    squares = sum(lv.dot(a, b) ** 2 for a in (p1, p2) for b in (q1, q2))
    ref = 4 * e4 * g**2 * squares / (sqrt_s**2 * lv.dot(q1, k) * lv.dot(q2, k))
    assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize("cos_mu", [-0.6, 0.1, 0.9])
def test_soft_limit_is_born_times_eikonal(cos_mu):
    # |M|^2 -> |M0(e+e- -> mu mu)|^2 g'^2 [2 q1.q2/((q1k)(q2k)) - m^2/(q1k)^2 - m^2/(q2k)^2]
    sqrt_s, g = SQRT_S, 0.7
    s = sqrt_s**2
    p1 = np.array([[sqrt_s / 2, 0, 0, sqrt_s / 2]])
    p2 = np.array([[sqrt_s / 2, 0, 0, -sqrt_s / 2]])
    ratios = []
    for lam in (1e-2, 1e-3, 1e-4):
        mass = 0.3 * lam  # a soft, light Z': k ~ lam, M ~ lam
        kv = lam * np.array([0.3, -0.5, 0.6])
        k = np.concatenate([[np.sqrt(mass**2 + kv @ kv)], kv])[None]
        q = np.array([[sqrt_s, 0, 0, 0]]) - k
        q1, q2 = lv.two_body_decay(q, M_MUON, M_MUON, [cos_mu], [0.4])
        got = msq_mumu_zprime(p1, p2, q1, q2, k, mass, g)
        born = (
            8
            * (4 * np.pi * ALPHA_EM) ** 2
            / s**2
            * (
                lv.dot(p1, q1) * lv.dot(p2, q2)
                + lv.dot(p1, q2) * lv.dot(p2, q1)
                + M_MUON**2 * lv.dot(p1, p2)
            )
        )
        a1, a2 = lv.dot(q1, k), lv.dot(q2, k)
        eikonal = 2 * lv.dot(q1, q2) / (a1 * a2) - M_MUON**2 / a1**2 - M_MUON**2 / a2**2
        ratios.append(float(got[0] / (born[0] * g**2 * eikonal[0])))
    dev = np.abs(np.array(ratios) - 1)
    assert dev[-1] < 1e-3
    assert dev[2] < dev[1] < dev[0]  # converges as the Z' gets soft


def test_born_formula_used_in_soft_test_is_the_textbook_one():
    # massless muons: (1/4) sum |M0|^2 = e^4 (1 + cos^2 theta)
    sqrt_s = 10.0
    c = np.array([-0.3, 0.5])
    st = np.sqrt(1 - c**2)
    q1 = np.stack([np.full(2, 5.0), 5 * st, 0 * c, 5 * c], axis=1)
    q2 = q1 * [1, -1, -1, -1]
    p1 = np.array([5.0, 0, 0, 5.0])
    p2 = np.array([5.0, 0, 0, -5.0])
    born = (
        8
        * (4 * np.pi * ALPHA_EM) ** 2
        / sqrt_s**4
        * (lv.dot(p1, q1) * lv.dot(p2, q2) + lv.dot(p1, q2) * lv.dot(p2, q1))
    )
    assert_allclose(born, (4 * np.pi * ALPHA_EM) ** 2 * (1 + c**2), rtol=1e-12)


def test_msq_is_frame_independent_and_scales_as_g_squared():
    rng = np.random.default_rng(15)
    pts = random_points(20, rng, SQRT_S, 1.3)
    beta = np.array([0.1, -0.2, 0.4])
    boosted = [lv.boost(p, beta) for p in pts]
    a = msq_mumu_zprime(*pts, 1.3, 0.01)
    assert_allclose(msq_mumu_zprime(*boosted, 1.3, 0.01), a, rtol=1e-9)
    assert_allclose(msq_mumu_zprime(*pts, 1.3, 0.03), 9 * a, rtol=1e-14)


# ----------------------------------------------------------------------------- phase space
def test_sampled_kinematics_are_on_shell_and_conserve_momentum():
    rng = np.random.default_rng(16)
    hard = sample_hard(20_000, rng, SQRT_S, 0.8)
    q1, q2, k = np.moveaxis(hard.p4(), 1, 0)
    assert_allclose(lv.mass2(q1), M_MUON**2, atol=1e-9)
    assert_allclose(lv.mass2(q2), M_MUON**2, atol=1e-9)
    assert_allclose(lv.mass2(k), 0.64, rtol=1e-10)
    assert_allclose(q1 + q2 + k, np.broadcast_to([SQRT_S, 0, 0, 0], q1.shape), atol=1e-12)
    assert_allclose(lv.mass(q1 + q2), hard.q, rtol=1e-9)
    assert np.all(hard.weight >= 0) and np.all(np.isfinite(hard.weight))
    # the weight is |M|^2 / (2 s) dPhi / density: rebuild |M|^2 from the momenta
    p1 = np.broadcast_to([SQRT_S / 2, 0, 0, SQRT_S / 2], q1.shape)
    p2 = np.broadcast_to([SQRT_S / 2, 0, 0, -SQRT_S / 2], q1.shape)
    msq = msq_mumu_zprime(p1, p2, q1, q2, k, 0.8)
    assert np.all(msq > 0)


def test_collinear_region_is_sampled_without_cancellation():
    # light Z': y1 = 2 q1.k + M^2 reaches ~m^2 M^2/E^2-scale values; weights stay finite, bounded
    rng = np.random.default_rng(17)
    hard = sample_hard(200_000, rng, SQRT_S, 0.02)
    w = hard.weight
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert w.max() / w.mean() < 10
    assert w.mean() ** 2 / np.mean(w**2) > 0.5  # importance sampling efficiency


@pytest.mark.parametrize("mass", [0.1, 1.0, 8.0])
def test_mc_matches_deterministic_quadrature(mass):
    rng = np.random.default_rng(100 + int(10 * mass))
    n = 400_000
    w = sample_hard(n, rng, SQRT_S, mass).weight * GEV2_TO_FB
    mean, err = w.mean(), w.std() / np.sqrt(n)
    ref = float(cross_section_mumu_zprime_fb(SQRT_S, mass))
    assert abs(mean - ref) < 4 * err
    assert err / ref < 3e-3  # i.e. agreement well below 1 %


def _sigma_dalitz_scipy(sqrt_s, mass, m=M_MUON):
    """sigma [fb] by scipy nested adaptive quadrature over (E_k, E_1), with the beam direction
    averaged by the 6-point (octahedron) rule, exact for the quadratic dependence on it."""
    s = sqrt_s**2
    axes = np.concatenate([np.eye(3), -np.eye(3)])
    p1 = np.concatenate([np.full((6, 1), sqrt_s / 2), axes * sqrt_s / 2], axis=1)
    p2 = np.concatenate([np.full((6, 1), sqrt_s / 2), -axes * sqrt_s / 2], axis=1)

    def limits(e_k):
        kabs = np.sqrt(max(e_k**2 - mass**2, 0.0))
        q = np.sqrt(s - 2 * sqrt_s * e_k + mass**2)
        pst = np.sqrt(max(q * q / 4 - m * m, 0.0))
        e_q = sqrt_s - e_k
        return (e_q * q / 2 - kabs * pst) / q, (e_q * q / 2 + kabs * pst) / q

    def integrand(e1, e_k):
        e2 = sqrt_s - e_k - e1
        kabs = np.sqrt(e_k**2 - mass**2)
        p1abs = np.sqrt(max(e1**2 - m * m, 0.0))
        p2abs2 = e2**2 - m * m
        if kabs == 0 or p1abs == 0:
            return 0.0
        c = np.clip((p2abs2 - kabs**2 - p1abs**2) / (2 * kabs * p1abs), -1, 1)
        k = np.array([e_k, 0, 0, kabs])
        q1 = np.array([e1, p1abs * np.sqrt(1 - c * c), 0, p1abs * c])
        q2 = np.array([sqrt_s, 0, 0, 0]) - k - q1
        msq = msq_mumu_zprime(p1, p2, q1, q2, k, mass)
        return float(np.mean(msq)) / (2 * s) / (32 * np.pi**3)

    e_max = (s + mass**2 - 4 * m * m) / (2 * sqrt_s)
    val, _ = integrate.quad(
        lambda e_k: integrate.quad(
            integrand, *limits(e_k), args=(e_k,), epsrel=1e-5, epsabs=0, limit=100
        )[0],
        mass,
        e_max,
        epsrel=1e-4,
        epsabs=0,
        limit=100,
    )
    return val * GEV2_TO_FB


@pytest.mark.slow
@pytest.mark.parametrize("mass", [2.0, 6.0])
def test_quadrature_matches_scipy_dalitz_integration(mass):
    ref = _sigma_dalitz_scipy(SQRT_S, mass)
    assert_allclose(cross_section_mumu_zprime_fb(SQRT_S, mass), ref, rtol=3e-4)


@pytest.mark.parametrize("mass", [0.3, 5.0])
def test_zprime_energy_spectrum_against_quadrature(mass):
    # MC histogram of E_Z' (CM, no ISR) vs the deterministic spectrum integrated over each bin
    n = 200_000
    batch = MuMuZPrime(mass, isr=False, muon_theta_lab_deg=None).generate(
        n, np.random.default_rng(21), BELLE2
    )
    e = batch.truth["e_zprime_cm"]
    sqrt_s = BELLE2.sqrt_s
    e_max = (sqrt_s**2 + mass**2 - 4 * M_MUON**2) / (2 * sqrt_s)
    edges = mass + (e_max - mass) * np.linspace(0, 1, 13) ** 2
    hist, _ = np.histogram(e, edges, weights=batch.weight)
    err = np.sqrt(np.histogram(e, edges, weights=batch.weight**2)[0])
    ref = np.array(
        [
            integrate.quad(lambda x: float(dsigma_mumu_zprime_de_fb(sqrt_s, mass, x)), a, b)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    pull = (hist - ref) / err
    assert np.all(np.abs(pull) < 4.5)
    assert np.sum(pull**2) < 12 + 5 * np.sqrt(24)
    assert_allclose(ref.sum(), cross_section_mumu_zprime_fb(sqrt_s, mass), rtol=1e-6)
    assert dsigma_mumu_zprime_de_fb(sqrt_s, mass, [mass * 0.99, e_max * 1.01]).tolist() == [0, 0]


def test_zprime_polar_angle_is_forward_backward_symmetric():
    # photon exchange with FSR only is C-even: no forward-backward asymmetry of the Z'
    batch = MuMuZPrime(1.0, isr=False, muon_theta_lab_deg=None).generate(
        200_000, np.random.default_rng(22), BELLE2
    )
    c = batch.truth["cos_theta_zprime_cm"]
    w = batch.weight
    afb = (w[c > 0].sum() - w[c < 0].sum()) / w.sum()
    assert abs(afb) < 4 * np.sqrt(np.sum(w**2)) / w.sum()
    # and the angular distribution is not flat: more Z's along the beams (1 + a cos^2, a > 0)
    forward = np.abs(c) > 0.5
    assert w[forward].sum() / w.sum() > 0.52


def test_cos_sin_helper():
    phi = np.linspace(-10, 10, 1001)
    c, s = _cos_sin(phi)
    assert_allclose(c, np.cos(phi), atol=1e-14)
    assert_allclose(s, np.sin(phi), atol=1e-14)
    c, s = _cos_sin(np.array([np.pi, -np.pi]))
    assert_allclose(c, -1.0, atol=1e-15)


def test_cross_section_properties():
    masses = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0])
    sigma = cross_section_mumu_zprime_fb(SQRT_S, masses, 1.0)
    assert np.all(np.diff(sigma) < 0)  # falls with the mass
    # sanity scale (Belle II, PRL 130, 231801): g' = 1e-2 at low mass gives tens of fb
    assert 10 < cross_section_mumu_zprime_fb(SQRT_S, 0.1, 1e-2) < 200
    assert_allclose(cross_section_mumu_zprime_fb(SQRT_S, masses, 3e-3), 9e-6 * sigma, rtol=1e-12)
    # 0 at and above threshold, vectorised
    above = cross_section_mumu_zprime_fb(SQRT_S, [1.0, SQRT_S - 2 * M_MUON, 11.0])
    assert above[0] > 0 and above[1] == 0 and above[2] == 0
    with pytest.raises(ValueError, match="mass"):
        cross_section_mumu_zprime_fb(SQRT_S, 0.0)
    with pytest.raises(ValueError, match="muon_theta_lab_deg"):
        cross_section_mumu_zprime_fb(SQRT_S, 1.0, muon_theta_lab_deg=(150, 17))


# ----------------------------------------------------------------------------- generator
def test_cm_to_lab_matrix_maps_beams():
    for coll in (BELLE2, BELLE, BABAR):
        lab = cm_to_lab_matrix(coll)
        e = coll.sqrt_s / 2
        assert_allclose(np.array([e, 0, 0, e]) @ lab, coll.p_minus, atol=1e-12)
        assert_allclose(np.array([e, 0, 0, -e]) @ lab, coll.p_plus, atol=1e-12)


@pytest.mark.parametrize("isr", [False, True])
@pytest.mark.parametrize("decay", ["invisible", "mu+mu-"])
def test_momentum_conservation_in_the_lab(isr, decay):
    proc = MuMuZPrime(1.5, 1e-2, isr=isr, decay=decay)
    batch = proc.generate(5_000, np.random.default_rng(3), BELLE2)
    p4 = batch.particles.columns["p4"]
    total = np.add.reduceat(p4, batch.particles.offsets[:-1], axis=0)
    assert_allclose(total, np.broadcast_to(BELLE2.p_total, total.shape), atol=1e-12)
    counts = batch.particles.counts
    base = 3 if decay == "invisible" else 4
    if isr:
        assert set(np.unique(counts)) == {base, base + 1}
    else:
        assert np.all(counts == base)


def test_recoil_mass_is_the_zprime_mass_without_isr():
    mass = 2.0
    batch = MuMuZPrime(mass, isr=False).generate(20_000, np.random.default_rng(4), BELLE2)
    assert_allclose(batch.truth["recoil_mass2"], mass**2, rtol=1e-10)
    p4 = batch.particles.columns["p4"].reshape(-1, 3, 4)
    assert np.all(batch.particles.columns["pdg"].reshape(-1, 3) == [13, -13, 55])
    recoil = BELLE2.p_total - p4[:, 0] - p4[:, 1]
    assert_allclose(lv.mass2(recoil), mass**2, rtol=1e-9)
    assert_allclose(lv.mass(p4[:, 0] + p4[:, 1]), batch.truth["m_mumu"], rtol=1e-9)
    assert_allclose(batch.truth["sqrt_s_hat"], BELLE2.sqrt_s)


def test_isr_shifts_recoil_mass_up():
    mass = 2.0
    batch = MuMuZPrime(mass, isr=True).generate(20_000, np.random.default_rng(5), BELLE2)
    r2 = batch.truth["recoil_mass2"]
    x = batch.truth["isr_x"]
    soft = x < 1e-5
    assert_allclose(r2[soft], mass**2, rtol=1e-9)
    assert np.all(r2[~soft] > mass**2 * (1 - 1e-9))
    assert 0.2 < soft.mean() < 0.6  # (1e-5)^beta ~ 0.37
    assert np.all(batch.truth["sqrt_s_hat"] <= BELLE2.sqrt_s * (1 + 1e-15))


def test_muons_inside_the_generation_cut():
    batch = MuMuZPrime(1.0).generate(10_000, np.random.default_rng(6), BELLE2)
    p4 = batch.particles.columns["p4"]
    pdg = batch.particles.columns["pdg"]
    first_two = np.zeros(len(pdg), bool)
    first_two[batch.particles.offsets[:-1]] = True
    first_two[batch.particles.offsets[:-1] + 1] = True
    theta = np.degrees(np.arccos(lv.cos_theta(p4[first_two])))
    assert np.all((theta > 17) & (theta < 150))
    assert batch.n_events == 10_000
    assert batch.meta["n_tried"] > 10_000


def test_cut_cross_section_unbiased_against_cutting_afterwards():
    # generation cut (Haldane-normalised) vs no generation cut and the lab cut applied after
    mass = 1.0
    rng = np.random.default_rng(7)
    cut = MuMuZPrime(mass, isr=False).generate(300_000, rng, BELLE2)
    free = MuMuZPrime(mass, isr=False, muon_theta_lab_deg=None).generate(400_000, rng, BELLE2)
    p4 = free.particles.columns["p4"].reshape(-1, 3, 4)
    th = np.degrees(np.arccos(lv.cos_theta(p4[:, :2])))
    inside = np.all((th > 17) & (th < 150), axis=1)
    w = free.weight * inside
    ref, ref_err = w.sum(), np.sqrt(np.sum(w**2) - w.sum() ** 2 / len(w))
    err = np.sqrt(np.sum(cut.weight**2))
    assert abs(cut.cross_section_fb - ref) < 4 * np.hypot(ref_err, err)
    assert 0.6 < ref / free.cross_section_fb < 0.95
    # the model's cut cross section is the same Monte Carlo
    sig = cross_section_mumu_zprime_fb(
        BELLE2.sqrt_s, mass, muon_theta_lab_deg=(17, 150), n_mc=200_000
    )
    assert abs(sig - ref) < 4 * np.hypot(ref_err, 0.003 * ref)


def test_isr_cross_section_matches_convolution():
    mass = 0.5
    n = 300_000
    batch = MuMuZPrime(mass, isr=True, muon_theta_lab_deg=None).generate(
        n, np.random.default_rng(8), BELLE2
    )
    err = batch.weight.std() * np.sqrt(n)
    ref = float(cross_section_mumu_zprime_fb(BELLE2.sqrt_s, mass, isr=True))
    assert abs(batch.cross_section_fb - ref) < 4 * err
    assert err / ref < 5e-3
    born = float(cross_section_mumu_zprime_fb(BELLE2.sqrt_s, mass))
    assert 1.0 < ref / born < 1.3  # radiative return to lower s' raises sigma ~ 1/s'


def test_visible_decay():
    mass = 3.0
    proc = MuMuZPrime(mass, 1e-3, isr=False, decay="mu+mu-")
    batch = proc.generate(5_000, np.random.default_rng(9), BELLE2)
    p4 = batch.particles.columns["p4"].reshape(-1, 4, 4)
    vtx = batch.particles.columns["vertex"].reshape(-1, 4, 3)
    assert np.all(batch.particles.columns["pdg"].reshape(-1, 4) == [13, -13, 13, -13])
    assert_allclose(lv.mass(p4[:, 2] + p4[:, 3]), mass, rtol=1e-9)
    assert np.all(vtx[:, :2] == 0)
    flight = (p4[:, 2] + p4[:, 3])[:, 1:]
    cross = np.cross(vtx[:, 2], flight)
    assert np.max(np.linalg.norm(cross, axis=1)) < 1e-9 * np.max(np.linalg.norm(vtx[:, 2], axis=1))
    # decay length: |x| = (|k| / M) c tau Exp(1)
    ctau = float(proc.model.ctau_cm(mass, g_prime=1e-3))
    ratio = np.linalg.norm(vtx[:, 2], axis=1) / (np.linalg.norm(flight, axis=1) / mass * ctau)
    assert abs(ratio.mean() - 1) < 5 / np.sqrt(len(ratio))
    br = proc.model.branching_fraction("mu+mu-", mass, g_prime=1e-3)
    invisible = MuMuZPrime(mass, 1e-3, isr=False, benchmark="vanilla")
    ref = invisible.generate(5_000, np.random.default_rng(9), BELLE2)
    br_inv = proc.model.branching_fraction("invisible", mass, g_prime=1e-3)
    assert_allclose(batch.weight / br, ref.weight / br_inv, rtol=1e-12)


def test_weights_scale_with_g_squared_and_fully_invisible_br_is_one():
    a = MuMuZPrime(1.0, 1e-2).generate(1_000, np.random.default_rng(10), BELLE2)
    b = MuMuZPrime(1.0, 3e-2).generate(1_000, np.random.default_rng(10), BELLE2)
    assert_allclose(b.weight, 9 * a.weight, rtol=1e-12)
    assert a.meta["branching_fraction"] == 1.0


def test_same_seed_same_events_and_registry():
    proc = get_process("ee-mumu-zprime", mass=0.7, g_prime=5e-3)
    assert isinstance(proc, MuMuZPrime)
    a = proc.generate(3_000, np.random.default_rng(42), BELLE2)
    b = proc.generate(3_000, np.random.default_rng(42), BELLE2)
    c = proc.generate(3_000, np.random.default_rng(43), BELLE2)
    assert np.array_equal(a.particles.columns["p4"], b.particles.columns["p4"])
    assert np.array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, c.weight)
    for key in a.truth:
        assert np.array_equal(a.truth[key], b.truth[key])


def test_empty_and_bad_input():
    proc = MuMuZPrime(1.0)
    empty = proc.generate(0, np.random.default_rng(1), BELLE2)
    assert empty.n_events == 0 and empty.particles.n_events == 0
    with pytest.raises(ValueError, match="n_events"):
        proc.generate(-1, np.random.default_rng(1), BELLE2)
    limit = BELLE2.sqrt_s - 2 * M_MUON
    with pytest.raises(ValueError, match=r"allowed range 0 < mass < .*10\.36"):
        MuMuZPrime(limit).generate(10, np.random.default_rng(1), BELLE2)
    with pytest.raises(ValueError, match="mass"):
        MuMuZPrime(0.0)
    with pytest.raises(ValueError, match="mass"):
        MuMuZPrime(-1.0)
    with pytest.raises(ValueError, match="g_prime"):
        MuMuZPrime(1.0, g_prime=-1.0)
    with pytest.raises(ValueError, match="decay"):
        MuMuZPrime(1.0, decay="e+e-")
    with pytest.raises(ValueError, match="2 m_mu"):
        MuMuZPrime(0.15, decay="mu+mu-")
    with pytest.raises(ValueError, match="muon_theta_lab_deg"):
        MuMuZPrime(1.0, muon_theta_lab_deg=(20.0, 10.0))
    with pytest.raises(ValueError, match="muon_theta_lab_deg"):
        MuMuZPrime(1.0, muon_theta_lab_deg="17-150")
    # command-line spellings
    assert MuMuZPrime(1.0, muon_theta_lab_deg="none").muon_theta_lab_deg is None
    assert MuMuZPrime(1.0, muon_theta_lab_deg="20,140").muon_theta_lab_deg == (20.0, 140.0)
    with pytest.raises(ValueError, match="BR"):
        MuMuZPrime(1.0, decay="mu+mu-", benchmark="fully-invisible")
    with pytest.raises(ValueError, match="benchmark"):
        MuMuZPrime(1.0, benchmark="nope")
    with pytest.raises(ValueError, match="passes"):
        MuMuZPrime(1.0, muon_theta_lab_deg=(0.0, 1e-6)).generate(
            10, np.random.default_rng(1), BELLE2
        )


def test_lower_beam_energy_collider():
    # a data set with another sqrt(s): threshold and cross section follow the collider
    low = dataclasses.replace(BELLE2, e_minus=3.5, e_plus=2.0)
    batch = MuMuZPrime(4.0, isr=False, muon_theta_lab_deg=None).generate(
        50_000, np.random.default_rng(2), low
    )
    ref = float(cross_section_mumu_zprime_fb(low.sqrt_s, 4.0))
    err = batch.weight.std() * np.sqrt(batch.n_events)
    assert abs(batch.cross_section_fb - ref) < 4 * err
