"""Tests of the QED background generators (darkscan.generators.qed).

Independent references used here:
* a brute-force helicity sum with explicit Dirac matrices and spinors (numpy, per point) for
  the exact e+e- -> f f gamma matrix element, with physical photon polarisations (so gauge
  invariance of the -g polarisation sum used in the traces is tested too);
* the soft-photon (eikonal) limit, Bonneau-Martin's angle-integrated ISR spectrum, the
  massless soft + virtual formulas, closed-form Born cross sections, one-loop running alpha;
* the reference cross sections of the Belle II Physics Book (shared/reference/physics.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from darkscan.colliders import BELLE2, Collider
from darkscan.generators import get_process, process_names, qed
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_ELECTRON, M_MUON, M_TAU

S_BELLE2 = BELLE2.sqrt_s**2
NB = 1e6  # fb per nb


# ============================================================================ Dirac reference
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_SIG = [
    np.array([[0, 1], [1, 0]], complex),
    np.array([[0, -1j], [1j, 0]]),
    np.array([[1, 0], [0, -1]], complex),
]
_G0 = np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)
_GAMMA = np.array([_G0] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIG])
_METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _slash(p):
    return np.einsum("m,mab->ab", _METRIC @ p, _GAMMA)


def _spinors(p, m, kind):
    sp = sum(_SIG[i] * p[i + 1] for i in range(3))
    out = []
    for chi in (np.array([1, 0], complex), np.array([0, 1], complex)):
        big, small = np.sqrt(p[0] + m) * chi, sp @ chi / np.sqrt(p[0] + m)
        out.append(np.concatenate([big, small] if kind == "u" else [small, big]))
    return out


def _bar(s):
    return s.conj() @ _G0


def dirac_msq(p1, p2, q1, q2, k, me, mf):
    """sum |M|^2 / e^6 by brute force: explicit spinors, two physical photon polarisations."""
    dot = lambda a, b: a @ _METRIC @ b  # noqa: E731
    s, sp = dot(p1 + p2, p1 + p2), dot(q1 + q2, q1 + q2)
    kv = k[1:] / np.linalg.norm(k[1:])
    e1 = np.cross(kv, [1.0, 0, 0] if abs(kv[0]) < 0.9 else [0, 1.0, 0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(kv, e1)
    one = np.eye(4)
    out = {"isr": 0.0, "fsr": 0.0, "int": 0.0}
    for eps in (np.concatenate([[0.0], e1]), np.concatenate([[0.0], e2])):
        es = _slash(eps)
        o = [
            _GAMMA[mu] @ (_slash(p1 - k) + me * one) @ es / (-2 * dot(p1, k))
            + es @ (_slash(k - p2) + me * one) @ _GAMMA[mu] / (-2 * dot(p2, k))
            for mu in range(4)
        ]
        f = [
            es @ (_slash(q1 + k) + mf * one) @ _GAMMA[nu] / (2 * dot(q1, k))
            + _GAMMA[nu] @ (_slash(-q2 - k) + mf * one) @ es / (2 * dot(q2, k))
            for nu in range(4)
        ]
        for u1 in _spinors(p1, me, "u"):
            for v2 in _spinors(p2, me, "v"):
                for uq in _spinors(q1, mf, "u"):
                    for vq in _spinors(q2, mf, "v"):
                        je_rad = np.array([_bar(v2) @ o[mu] @ u1 for mu in range(4)])
                        je = np.array([_bar(v2) @ _GAMMA[mu] @ u1 for mu in range(4)])
                        jm = np.array([_bar(uq) @ _GAMMA[mu] @ vq for mu in range(4)])
                        jm_rad = np.array([_bar(uq) @ f[mu] @ vq for mu in range(4)])
                        a_i = (je_rad @ _METRIC @ jm) / sp
                        a_f = (je @ _METRIC @ jm_rad) / s
                        out["isr"] += abs(a_i) ** 2
                        out["fsr"] += abs(a_f) ** 2
                        out["int"] += 2 * (a_i * np.conj(a_f)).real
    return out


def _boost(v, b):
    g = 1 / np.sqrt(1 - b @ b)
    bp = b @ v[1:]
    coef = (g - 1) * bp / (b @ b) if b @ b > 0 else 0.0
    return np.concatenate([[g * (v[0] + bp)], v[1:] + (coef + g * v[0]) * b])


def random_point(rng, sqrt_s, me, mf, w_frac=(0.01, 0.9)):
    """A 2 -> 3 phase-space point (p1, p2, q1, q2, k) in the CM frame, e- along +z."""
    e = sqrt_s / 2
    pz = np.sqrt(e * e - me * me)
    p1, p2 = np.array([e, 0, 0, pz]), np.array([e, 0, 0, -pz])
    while True:
        w = rng.uniform(*w_frac) * e
        c, ph = rng.uniform(-1, 1), rng.uniform(0, 2 * np.pi)
        st = np.sqrt(1 - c * c)
        k = w * np.array([1, st * np.cos(ph), st * np.sin(ph), c])
        big_q = p1 + p2 - k
        m2 = big_q @ _METRIC @ big_q
        if m2 > 4 * mf * mf * 1.01:
            break
    qs = np.sqrt(m2 / 4 - mf * mf)
    c2, ph2 = rng.uniform(-1, 1), rng.uniform(0, 2 * np.pi)
    st2 = np.sqrt(1 - c2 * c2)
    d = qs * np.array([st2 * np.cos(ph2), st2 * np.sin(ph2), c2])
    b = big_q[1:] / big_q[0]
    q1 = _boost(np.concatenate([[np.sqrt(qs * qs + mf * mf)], d]), b)
    return p1, p2, q1, big_q - q1, k


@pytest.mark.parametrize(("me", "mf"), [(M_ELECTRON, M_MUON), (M_ELECTRON, M_TAU), (0.4, 1.2)])
def test_matrix_element_equals_dirac_matrix_helicity_sum(me, mf, monkeypatch):
    rng = np.random.default_rng(11)
    if me != M_ELECTRON:  # a heavy "electron" exercises every m_e term
        monkeypatch.setattr(qed, "M_ELECTRON", me)
        qed._polynomials.cache_clear()
    try:
        for _ in range(4):
            pts = random_point(rng, 10.58, me, mf)
            ref = dirac_msq(*pts, me, mf)
            got = qed.msq_ffgamma(*pts, mf)
            for part in ("isr", "fsr", "int"):
                assert got[part][0] == pytest.approx(ref[part], rel=1e-10, abs=1e-12)
    finally:
        qed._polynomials.cache_clear()


def _born_msq(p1, p2, q1, q2, me, mf):
    dot = lambda a, b: a @ _METRIC @ b  # noqa: E731
    s = dot(p1 + p2, p1 + p2)
    return (32 / s**2) * (
        dot(p1, q1) * dot(p2, q2)
        + dot(p1, q2) * dot(p2, q1)
        + mf * mf * dot(p1, p2)
        + me * me * dot(q1, q2)
        + 2 * me * me * mf * mf
    )


@pytest.mark.parametrize("mf", [M_MUON, M_TAU])
def test_soft_limit_is_born_times_eikonal_per_part(mf):
    """|M|^2 -> |M_Born|^2 e^2 (-J^2), J = sum eta_i Q_i p_i / (p_i k): checks every part,
    including the sign of the ISR-FSR interference."""
    dot = lambda a, b: a @ _METRIC @ b  # noqa: E731
    e = 5.29
    pz = np.sqrt(e * e - M_ELECTRON**2)
    p1, p2 = np.array([e, 0, 0, pz]), np.array([e, 0, 0, -pz])
    n = np.array([0.3, 0.5, 0.2]) / np.linalg.norm([0.3, 0.5, 0.2])
    c, st = 0.6, 0.8
    for w in (1e-4, 1e-5):
        k = w * np.concatenate([[1.0], n])
        big_q = p1 + p2 - k
        qs = np.sqrt(dot(big_q, big_q) / 4 - mf * mf)
        q = np.array([np.sqrt(qs**2 + mf * mf), qs * st, 0, qs * c])
        q1 = _boost(q, big_q[1:] / big_q[0])
        q2 = big_q - q1
        born = _born_msq(p1, p2, q1, q2, M_ELECTRON, mf)
        j_i = p1 / dot(p1, k) - p2 / dot(p2, k)
        j_f = -q1 / dot(q1, k) + q2 / dot(q2, k)
        got = qed.msq_ffgamma(p1, p2, q1, q2, k, mf)
        tol = 30 * w / e
        assert got["isr"][0] / (-dot(j_i, j_i) * born) == pytest.approx(1.0, abs=tol)
        assert got["fsr"][0] / (-dot(j_f, j_f) * born) == pytest.approx(1.0, abs=tol)
        assert got["int"][0] / (-2 * dot(j_i, j_f) * born) == pytest.approx(1.0, abs=tol)


# ============================================================================ ISR quadrature
def isr_quadrature(x, c_lo=-1.0, c_hi=1.0, m_f=M_MUON, s=S_BELLE2, n_panels=48):
    """d sigma / dx [fb] of the ISR part of msq_ffgamma (alpha(0)), photon cos in
    [c_lo, c_hi] (frame F), fermion angles integrated exactly (six-axis average: the
    integrand is quadratic in the fermion direction in the f f frame)."""
    sqrt_s = np.sqrt(s)
    e = sqrt_s / 2
    pe = np.sqrt(e * e - M_ELECTRON**2)
    b = pe / e
    big_t = np.arctanh(b)

    def t_of(c):
        return big_t if c >= 1 else (-big_t if c <= -1 else np.arctanh(b * c))

    t, wt = qed._gauss_panels(t_of(c_lo), t_of(c_hi), n_panels, 16)
    c = np.tanh(t) / b
    sech2 = 1.0 / np.cosh(t) ** 2  # = 1 - b^2 c^2
    sn = np.sqrt(np.clip(sech2 - (1 - b * b), 0, None)) / b
    dc_dt = sech2 / b
    w = x * e
    k = w * np.stack([np.ones_like(c), sn, 0 * c, c], 1)
    big_q = -k
    big_q[:, 0] += sqrt_s
    s_prime = s - 2 * sqrt_s * w
    beta_q = big_q[:, 1:] / big_q[:, :1]
    p_star = np.sqrt(s_prime / 4 - m_f**2)
    one_p_bc = np.where(c >= 0, 1 + b * c, sech2 / (1 - b * c))
    one_m_bc = np.where(c >= 0, sech2 / (1 + b * c), 1 - b * c)
    avg = 0.0
    for axis in np.vstack([np.eye(3), -np.eye(3)]):
        rest = np.concatenate([[np.sqrt(p_star**2 + m_f**2)], p_star * axis])
        q1 = qed._boost_rows(np.broadcast_to(rest, k.shape).copy(), beta_q)
        q2 = big_q - q1
        dots = {
            "kp1": w * e * one_m_bc,
            "kp2": w * e * one_p_bc,
            "kq1": qed._mdot(k, q1),
            "kq2": qed._mdot(k, q2),
            "p1p2": np.full(len(c), e * e + pe * pe),
            "p1q1": e * q1[:, 0] - pe * q1[:, 3],
            "p1q2": e * q2[:, 0] - pe * q2[:, 3],
            "p2q1": e * q1[:, 0] + pe * q1[:, 3],
            "p2q2": e * q2[:, 0] + pe * q2[:, 3],
            "q1q2": qed._mdot(q1, q2),
        }
        me = qed.msq_ffgamma_dots(dots, np.full(len(c), s), np.full(len(c), s_prime), m_f, ["isr"])
        avg = avg + me["isr"] / 6.0
    beta_p = np.sqrt(1 - 4 * m_f**2 / s_prime)
    e6 = (4 * np.pi * ALPHA_EM) ** 3
    pref = e6 / (8 * s * b) * (sqrt_s / 2) * w * 2 * np.pi / (2 * (2 * np.pi) ** 3)
    pref *= beta_p / (32 * np.pi**2) * 4 * np.pi
    return float(np.sum(wt * dc_dt * avg) * pref * GEV2_TO_FB)


def bonneau_martin(x, m_f=M_MUON, s=S_BELLE2):
    """(alpha / pi)(L - 1)(1 + (1 - x)^2) / x sigma_Born(s (1 - x)) [fb]."""
    big_l = np.log(s / M_ELECTRON**2)
    return (
        ALPHA_EM
        / np.pi
        * (big_l - 1)
        * (1 + (1 - x) ** 2)
        / x
        * qed.born_ff_sigma(s * (1 - x), m_f)
    )


@pytest.mark.parametrize("x", [0.02, 0.3, 0.8])
@pytest.mark.parametrize("m_f", [M_MUON, M_TAU])
def test_isr_spectrum_is_bonneau_martin(x, m_f):
    """The photon-angle-integrated ISR part reproduces (alpha/pi)(L - 1) P(x) sigma0(s'):
    the '-1' comes from the m_e^2 / (p.k)^2 terms, so this checks the electron mass terms."""
    if m_f == M_TAU and x > 0.8:
        pytest.skip("above the tau threshold")
    got = isr_quadrature(x, m_f=m_f)
    assert got == pytest.approx(float(bonneau_martin(x, m_f)), rel=2e-4)


# ============================================================================ VP, Born, S+V
def test_leptonic_running_alpha_limits():
    assert qed.delta_alpha_leptonic(0.0) == 0.0
    # small |s|: -(alpha / 15 pi) s / m^2 summed, on both sides of the series switch
    for s in (1e-11, -1e-11, 1e-13, -1e-13):
        expect = -ALPHA_EM / (15 * np.pi) * s * sum(1 / m**2 for m in (M_ELECTRON, M_MUON, M_TAU))
        assert qed.delta_alpha_leptonic(s) == pytest.approx(expect, rel=2e-3)
    # large s: (alpha / 3 pi) sum (ln(s / m^2) - 5/3), and the same for -s
    s = 1e6
    expect = (
        ALPHA_EM / (3 * np.pi) * sum(np.log(s / m**2) - 5 / 3 for m in (M_ELECTRON, M_MUON, M_TAU))
    )
    assert qed.delta_alpha_leptonic(s) == pytest.approx(expect, rel=1e-5)
    assert qed.delta_alpha_leptonic(-s) == pytest.approx(expect, rel=1e-5)
    # continuous across each threshold 4 m^2
    for m in (M_MUON, M_TAU):
        lo, hi = qed.delta_alpha_leptonic([4 * m * m * (1 - 1e-9), 4 * m * m * (1 + 1e-9)])
        assert lo == pytest.approx(hi, abs=5e-7)  # a sqrt(s - 4 m^2) cusp
    # the PDG one-loop value at m_Z
    assert qed.delta_alpha_leptonic(91.1876**2) == pytest.approx(0.03142, abs=2e-5)


def test_hadronic_running_alpha_at_mz_matches_pdg():
    """The dispersion integral over darkscan's R gives Delta alpha_had^(5)(m_Z^2) = 0.02766
    (PDG 2024) within 2 % (R above 40 GeV is taken constant, no Z)."""
    mz2 = 91.1876**2
    for s in (mz2, -mz2):
        assert qed._delta_alpha_hadronic_direct(np.array([s]))[0] == pytest.approx(
            0.02766, rel=0.02
        )
    # the table agrees with the direct evaluation
    s = np.array([0.5, 9.0, 50.0, S_BELLE2, -2.0, -30.0])
    np.testing.assert_allclose(
        qed.delta_alpha_hadronic(s), qed._delta_alpha_hadronic_direct(s), rtol=2e-3, atol=2e-5
    )


def test_born_closed_forms():
    s = 10.58**2
    # point-like sigma = 4 pi alpha^2 / 3 s = 0.776 nb at 10.58 GeV (physics.md)
    assert qed.born_ff_sigma(s, 0.0) / NB == pytest.approx(0.776, abs=0.0005)
    for m in (M_MUON, M_TAU):
        num = integrate.quad(lambda c, m=m: qed.born_ff_dsigma_dcos(s, c, m), -1, 1)[0]
        assert num == pytest.approx(float(qed.born_ff_sigma(s, m)), rel=1e-10)
    c0 = np.cos(np.radians(10))
    num = integrate.quad(lambda c: qed.bhabha_dsigma_dcos(s, c), -c0, c0, limit=200)[0]
    assert qed.bhabha_sigma(s, -c0, c0) == pytest.approx(num, rel=1e-9)
    gg = integrate.quad(
        lambda c: 0.5 * 2 * np.pi * ALPHA_EM**2 / s * (1 + c * c) / (1 - c * c), -c0, c0
    )[0]
    assert qed.born_gammagamma_sigma(s, c0) / GEV2_TO_FB == pytest.approx(gg, rel=1e-10)


def test_fsr_soft_virtual_massless_limit_and_eps_independence():
    """Muons: the exact slice matches (2 alpha/pi)[(L_f - 1) ln eps + 3/4 L_f - 1 + pi^2/6]
    up to its dropped O(eps) LL term (2 alpha/pi)(L_f - 1)(-eps) and O(alpha eps) non-log
    terms (< 1e-4 here); taus: soft + hard is eps-free."""
    s = S_BELLE2
    big_l = np.log(s / M_MUON**2)
    for k in (0.005, 0.05):
        eps = k / (np.sqrt(s) / 2)
        massless = 2 * ALPHA_EM / np.pi * ((big_l - 1) * (np.log(eps) - eps) + 0.75 * big_l - 1)
        massless += 2 * ALPHA_EM / np.pi * np.pi**2 / 6
        assert qed.fsr_soft_virtual(s, M_MUON, k) == pytest.approx(massless, abs=1e-4)
    born = float(qed.born_ff_sigma(s, M_TAU))
    tot = [
        qed.fsr_soft_virtual(s, M_TAU, k) * born + qed.fsr_hard_sigma(s, M_TAU, k)
        for k in (0.005, 0.02, 0.2)
    ]
    np.testing.assert_allclose(tot, qed.schwinger_fsr_total(qed.fermion_velocity(s, M_TAU)) * born)


def test_isr_soft_virtual_is_eps_independent_with_hard_spectrum():
    """delta_ISR(eps1) - delta_ISR(eps2) = int_eps1^eps2 of the LL spectrum (beta/2)P(x)/x."""
    s = S_BELLE2
    beta = 2 * ALPHA_EM / np.pi * (np.log(s / M_ELECTRON**2) - 1)
    e1, e2 = 1e-3, 3e-2
    hard = integrate.quad(lambda x: beta / 2 * (1 + (1 - x) ** 2) / x, e1, e2)[0]
    diff = qed.delta_isr_soft_virtual(s, e2) - qed.delta_isr_soft_virtual(s, e1)
    assert diff == pytest.approx(hard, rel=1e-9)


# ============================================================================ generators
def _sum_particles(batch):
    p = batch.particles
    return np.add.reduceat(p.columns["p4"], p.offsets[:-1], axis=0)


@pytest.mark.parametrize("radiation", ["born", "isr", "isr2", "exact"])
def test_mumu_momentum_conservation_and_content(radiation):
    batch = qed.MuMuGamma(radiation=radiation).generate(3000, np.random.default_rng(1), BELLE2)
    np.testing.assert_allclose(
        _sum_particles(batch), np.broadcast_to(BELLE2.p_total, (batch.n_events, 4)), atol=1e-9
    )
    pdg = batch.particles.columns["pdg"]
    first = batch.particles.offsets[:-1]
    assert np.all(pdg[first] == 13) and np.all(pdg[first + 1] == -13)
    assert set(np.unique(pdg)) <= {13, -13, 22}
    m = np.sqrt(
        np.clip(qed._mdot(batch.particles.columns["p4"], batch.particles.columns["p4"]), 0, None)
    )
    np.testing.assert_allclose(m[pdg == 13], M_MUON, rtol=1e-6)
    assert np.all(batch.weight > 0)
    assert batch.n_events == 3000 and batch.meta["n_tried"] >= 3000


@pytest.mark.parametrize("cls", [qed.GammaGammaGamma, qed.Bhabha])
@pytest.mark.parametrize("frame", ["cm", "lab"])
def test_two_to_two_momentum_conservation_and_acceptance(cls, frame):
    proc = cls(frame=frame, theta_min_deg=17.0, theta_max_deg=150.0)
    batch = proc.generate(5000, np.random.default_rng(3), BELLE2)
    assert batch.n_events == 5000
    total = np.broadcast_to(BELLE2.p_total, (batch.n_events, 4))
    np.testing.assert_allclose(_sum_particles(batch), total, atol=1e-9)
    p = batch.particles
    first = p.offsets[:-1]
    lab_to_f = np.linalg.inv(qed.cm_to_lab_matrix(BELLE2))
    for j in (0, 1):
        v = p.columns["p4"][first + j]
        if frame == "cm":
            v = v @ lab_to_f.T
        theta = np.degrees(np.arccos(v[:, 3] / np.linalg.norm(v[:, 1:], axis=1)))
        assert np.all((theta >= 17.0 - 1e-6) & (theta <= 150.0 + 1e-6))
    assert set(np.unique(p.columns["pdg"][first])) == ({22} if cls is qed.GammaGammaGamma else {11})


def test_same_seed_same_events_and_different_seed_differs():
    for proc in (
        qed.MuMuGamma(),
        qed.TauTauGamma(radiation="isr"),
        qed.Bhabha(),
        qed.GammaGammaGamma(),
    ):
        a = proc.generate(2000, np.random.default_rng(7), BELLE2)
        b = proc.generate(2000, np.random.default_rng(7), BELLE2)
        c = proc.generate(2000, np.random.default_rng(8), BELLE2)
        np.testing.assert_array_equal(a.weight, b.weight)
        np.testing.assert_array_equal(a.particles.columns["p4"], b.particles.columns["p4"])
        np.testing.assert_array_equal(a.particles.columns["pdg"], b.particles.columns["pdg"])
        assert not np.array_equal(a.weight, c.weight) or not np.array_equal(
            a.particles.columns["p4"][:10], c.particles.columns["p4"][:10]
        )


@pytest.mark.parametrize("cls", [qed.MuMuGamma, qed.TauTauGamma])
def test_born_mode_total_and_angular_distribution(cls):
    """Born mode (no VP): sum of weights = closed form; cos(theta*) of f- ~ the Born shape."""
    proc = cls(
        radiation="born",
        vacuum_polarization=False,
        **({"decay": False} if cls is qed.TauTauGamma else {}),
    )
    batch = proc.generate(200_000, np.random.default_rng(3), BELLE2)
    assert batch.cross_section_fb == pytest.approx(proc.born_sigma_fb(BELLE2), rel=1e-9)
    # angle in frame F from the truth-free route: boost the lab f- back
    frame = qed.cm_to_lab_matrix(BELLE2)
    lab = batch.particles.columns["p4"][batch.particles.offsets[:-1]]
    cm = lab @ np.linalg.inv(frame).T
    cos = cm[:, 3] / np.linalg.norm(cm[:, 1:], axis=1)
    edges = np.linspace(-1, 1, 21)
    counts, _ = np.histogram(cos, edges)
    m = cls.fermion_mass
    cdf = [
        integrate.quad(lambda c: qed.born_ff_dsigma_dcos(S_BELLE2, c, m), -1, e)[0] for e in edges
    ]
    expected = np.diff(cdf) / cdf[-1] * len(cos)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, len(counts) - 1) > 1e-3


@pytest.mark.parametrize("cls", [qed.GammaGammaGamma, qed.Bhabha])
def test_two_to_two_born_total_and_angular_distribution(cls):
    kw = {"vacuum_polarization": False} if cls is qed.Bhabha else {}
    proc = cls(radiation="born", **kw)
    batch = proc.generate(300_000, np.random.default_rng(4), BELLE2)
    err = np.sqrt(np.sum(batch.weight**2))
    assert abs(batch.cross_section_fb - proc.born_sigma_fb(BELLE2)) < 4 * err
    assert err / batch.cross_section_fb < 0.01 / 4  # the < 1 % check is meaningful
    frame = qed.cm_to_lab_matrix(BELLE2)
    lab = batch.particles.columns["p4"][batch.particles.offsets[:-1]]
    cm = lab @ np.linalg.inv(frame).T
    cos = cm[:, 3] / np.linalg.norm(cm[:, 1:], axis=1)
    c0 = np.cos(np.radians(10))
    edges = np.linspace(-c0, c0, 17)
    sums, _ = np.histogram(cos, edges, weights=batch.weight)
    errs = np.sqrt(np.histogram(cos, edges, weights=batch.weight**2)[0])
    if cls is qed.Bhabha:
        expected = [
            integrate.quad(lambda c: qed.bhabha_dsigma_dcos(S_BELLE2, c), a, b)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    else:  # either (randomly labelled) photon: (alpha^2/s)(1+c^2)/(1-c^2) 2 pi, halved
        f = lambda c: np.pi * ALPHA_EM**2 / S_BELLE2 * (1 + c * c) / (1 - c * c) * GEV2_TO_FB  # noqa: E731
        expected = [integrate.quad(f, a, b)[0] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    chi2 = np.sum((sums - np.array(expected)) ** 2 / errs**2)
    assert stats.chi2.sf(chi2, len(sums)) > 1e-3


def test_tau_pair_momentum_charge_and_neutrinos():
    batch = qed.TauTauGamma().generate(5000, np.random.default_rng(5), BELLE2)
    np.testing.assert_allclose(
        _sum_particles(batch), np.broadcast_to(BELLE2.p_total, (batch.n_events, 4)), atol=1e-8
    )
    pdg = batch.particles.columns["pdg"]
    charge = np.select([np.isin(pdg, (11, 13, -211)), np.isin(pdg, (-11, -13, 211))], [-1, 1], 0)
    per_event = np.add.reduceat(charge, batch.particles.offsets[:-1])
    assert np.all(per_event == 0)
    assert set(np.unique(np.abs(pdg))) <= {11, 12, 13, 14, 16, 22, 211}
    nu_tau = np.add.reduceat((pdg == 16).astype(int), batch.particles.offsets[:-1])
    anti_nu_tau = np.add.reduceat((pdg == -16).astype(int), batch.particles.offsets[:-1])
    assert np.all(nu_tau == 1) and np.all(anti_nu_tau == 1)
    # the taus themselves are truth, on shell
    for key in ("tau_minus_p4", "tau_plus_p4"):
        m = np.sqrt(qed._mdot(batch.truth[key], batch.truth[key]))
        np.testing.assert_allclose(m, M_TAU, rtol=1e-7)


def test_tau_mode_bias_weights():
    plain = qed.TauTauGamma(radiation="born", vacuum_polarization=False)
    forced = qed.TauTauGamma(radiation="born", vacuum_polarization=False, tau_modes=("mu",))
    b = forced.generate(20_000, np.random.default_rng(9), BELLE2)
    from darkscan.generators.tau_decays import BRANCHING_FRACTIONS, MODES

    assert b.cross_section_fb == pytest.approx(
        plain.born_sigma_fb(BELLE2) * BRANCHING_FRACTIONS["mu"] ** 2, rel=1e-9
    )
    assert np.all(b.truth["tau_minus_mode"] == MODES.index("mu"))
    charged = np.isin(np.abs(b.particles.columns["pdg"]), (11, 211))
    assert not np.any(charged)


def test_photon_bias_is_exact_and_more_efficient():
    """Photon into the barrel (lab 33-128 deg) with E* > 0.5 GeV: the biased sample and an
    unbiased sample agree on the cross section of the region; the biased one has a larger
    effective luminosity per try."""
    bias = qed.Bias(photon_theta_lab_deg=((33.0, 128.0),), photon_e_min_gev=0.5)
    biased = qed.MuMuGamma(bias=bias).generate(60_000, np.random.default_rng(21), BELLE2)
    plain = qed.MuMuGamma().generate(300_000, np.random.default_rng(22), BELLE2)
    p = plain.particles
    ph = p.columns["pdg"] == 22
    ev = p.event_index()[ph]
    from darkscan.physics.lorentz import cos_theta

    theta = np.degrees(np.arccos(cos_theta(p.columns["p4"][ph])))
    sel = ev[(theta >= 33) & (theta <= 128) & (plain.truth["photon_e_cm"][ev] >= 0.5)]
    w_plain = plain.weight[sel]
    s_b, e_b = biased.cross_section_fb, np.sqrt(np.sum(biased.weight**2))
    s_p, e_p = w_plain.sum(), np.sqrt(np.sum(w_plain**2))
    assert abs(s_b - s_p) < 4 * np.hypot(e_b, e_p)
    assert biased.n_events == 60_000
    lumi_per_try_biased = biased.effective_lumi_fb() / biased.meta["n_tried"]
    lumi_per_try_plain = (s_p / e_p**2) / plain.meta["n_tried"]
    assert lumi_per_try_biased > 2 * lumi_per_try_plain
    # every biased event has its hardest photon in the window
    ph_b = biased.particles.columns["pdg"] == 22
    th_b = np.degrees(np.arccos(cos_theta(biased.particles.columns["p4"][ph_b])))
    assert np.all((th_b >= 33 - 1e-9) & (th_b <= 128 + 1e-9))


def test_keep_predicate_and_missed_photon_helper():
    bias = qed.Bias.photon_missed(BELLE2, keep=lambda b: b.truth["photon_e_cm"] > 1.0)
    assert bias.photon_theta_lab_deg == ((0.0, 12.4), (155.1, 180.0))
    batch = qed.MuMuGamma(radiation="isr", bias=bias).generate(
        20_000, np.random.default_rng(2), BELLE2
    )
    assert np.all(batch.truth["photon_e_cm"] > 1.0)
    assert batch.n_events == 20_000 < batch.meta["n_tried"]


def test_isr_photon_angle_distribution_in_exact_mode():
    """Exact mode with the ISR part only, no VP: the weighted photon polar-angle distribution
    for 0.1 < x < 0.5 follows the deterministic quadrature of the same matrix element."""
    proc = qed.MuMuGamma(me_parts=("isr",), vacuum_polarization=False, soft_fraction=0.0)
    batch = proc.generate(150_000, np.random.default_rng(31), BELLE2)
    x = batch.truth["photon_e_cm"] / (BELLE2.sqrt_s / 2)
    cos = batch.truth["photon_cos_cm"]
    sel = (x > 0.1) & (x < 0.5)
    edges = np.array([-1, -0.999, -0.99, -0.9, -0.5, 0.0, 0.5, 0.9, 0.99, 0.999, 1])
    sums, _ = np.histogram(cos[sel], edges, weights=batch.weight[sel])
    errs = np.sqrt(np.histogram(cos[sel], edges, weights=batch.weight[sel] ** 2)[0])
    xs, wx = qed._gauss_panels(np.log(0.1), np.log(0.5), 4, 8)
    expected = [
        np.sum(
            [
                wi * np.exp(li) * isr_quadrature(np.exp(li), a, b, n_panels=6)
                for li, wi in zip(xs, wx, strict=True)
            ]
        )
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    chi2 = np.sum((sums - np.array(expected)) ** 2 / errs**2)
    assert stats.chi2.sf(chi2, len(sums)) > 1e-3


def test_exact_mode_hard_spectrum_matches_isr_plus_fsr_quadrature():
    """omega > k_min: the generator's photon-energy spectrum (ISR + FSR, no VP) equals
    Bonneau-Martin's ISR spectrum plus the quadrature of the exact FSR part, bin by bin."""
    k_min = 0.2
    proc = qed.MuMuGamma(k_min_gev=k_min, vacuum_polarization=False, soft_fraction=0.0)
    batch = proc.generate(150_000, np.random.default_rng(41), BELLE2)
    e_beam = BELLE2.sqrt_s / 2
    w_max = (S_BELLE2 - 4 * M_MUON**2) / (2 * BELLE2.sqrt_s)
    edges = np.concatenate([np.geomspace(k_min, 5.0, 8), [w_max]])
    sums, _ = np.histogram(batch.truth["photon_e_cm"], edges, weights=batch.weight)
    errs = np.sqrt(np.histogram(batch.truth["photon_e_cm"], edges, weights=batch.weight**2)[0])
    isr = [
        integrate.quad(bonneau_martin, a / e_beam, b / e_beam, limit=200)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    fsr_above = [qed.fsr_hard_sigma(S_BELLE2, M_MUON, e) for e in edges[:-1]] + [0.0]
    fsr = -np.diff(fsr_above)
    expected = np.array(isr) + fsr
    chi2 = np.sum((sums - expected) ** 2 / errs**2)
    assert stats.chi2.sf(chi2, len(sums)) > 1e-3


@pytest.mark.slow
def test_exact_mode_total_does_not_depend_on_k_min():
    totals = []
    for k_min in (0.003, 0.1):
        b = qed.MuMuGamma(k_min_gev=k_min).generate(600_000, np.random.default_rng(5), BELLE2)
        totals.append((b.cross_section_fb, np.sqrt(np.sum(b.weight**2))))
    (a, ea), (b, eb) = totals
    assert abs(a - b) < 4 * np.hypot(ea, eb)
    assert np.hypot(ea, eb) / a < 0.005


# Reference values (Belle II Physics Book, physics.md) and what darkscan gets with 1e6 events
# (MC errors < 0.1 %): mu mu(gamma) 1.148 nb: exact O(alpha) 1.122, structure function 1.137,
# per-beam 1.137; tau tau(gamma) 0.919 nb: exact 0.913, structure function 0.904;
# gamma gamma(gamma) 4.99 nb: 4.94; e+e-(gamma) ~300 nb: 296.5. Tolerance 4 %: missing higher
# orders (O(alpha) only in the exact mode, leading logs in the structure function), FSR and
# interference in the 2 -> 2 processes.
REFERENCES = [
    ("ee-mumu", {"radiation": "exact"}, 1.148),
    ("ee-mumu", {"radiation": "isr"}, 1.148),
    ("ee-mumu", {"radiation": "isr2"}, 1.148),
    ("ee-tautau", {"radiation": "exact", "decay": False}, 0.919),
    ("ee-tautau", {"radiation": "isr", "decay": False}, 0.919),
    ("ee-gammagamma", {}, 4.99),
    ("ee-bhabha", {}, 300.0),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params", "ref_nb"), REFERENCES)
def test_cross_sections_against_reference_values(name, params, ref_nb):
    batch = get_process(name, **params).generate(400_000, np.random.default_rng(12), BELLE2)
    sigma = batch.cross_section_fb / NB
    assert sigma == pytest.approx(ref_nb, rel=0.04)


def test_isr_and_isr2_agree_and_isr2_has_recoil_mass():
    a = qed.MuMuGamma(radiation="isr").generate(200_000, np.random.default_rng(1), BELLE2)
    b = qed.MuMuGamma(radiation="isr2").generate(200_000, np.random.default_rng(2), BELLE2)
    ea, eb = np.sqrt(np.sum(a.weight**2)), np.sqrt(np.sum(b.weight**2))
    assert (
        abs(a.cross_section_fb - b.cross_section_fb)
        < 4 * np.hypot(ea, eb) + 0.005 * a.cross_section_fb
    )
    assert np.all(a.truth["recoil_mass"] < 1e-3)
    frac = b.weight[b.truth["recoil_mass"] > 1.0].sum() / b.weight.sum()
    assert 0.01 < frac < 0.2


# ============================================================================ interface
def test_registry_and_bad_input():
    assert {"ee-mumu", "ee-tautau", "ee-gammagamma", "ee-bhabha"} <= set(process_names())
    assert isinstance(get_process("ee-mumu"), qed.MuMuGamma)
    with pytest.raises(ValueError, match="valid"):
        get_process("ee-mumu-nonsense")
    with pytest.raises(ValueError, match="radiation"):
        qed.MuMuGamma(radiation="fsr")
    with pytest.raises(ValueError, match="n_events"):
        qed.MuMuGamma().generate(-1, np.random.default_rng(0), BELLE2)
    with pytest.raises(ValueError, match="k_min_gev"):
        qed.MuMuGamma(k_min_gev=-1.0)
    with pytest.raises(ValueError, match="tau decay mode"):
        qed.TauTauGamma(tau_modes=("kaon",))
    with pytest.raises(ValueError, match="photon_theta_lab_deg"):
        qed.Bias(photon_theta_lab_deg=((50.0, 20.0),))
    with pytest.raises(ValueError, match="theta_min_deg"):
        qed.Bhabha(theta_min_deg=0.0)
    with pytest.raises(ValueError, match="frame"):
        qed.GammaGammaGamma(frame="hard")
    with pytest.raises(ValueError, match="me_parts"):
        qed.MuMuGamma(me_parts=("box",))
    with pytest.raises(ValueError, match="photon"):
        qed.MuMuGamma(radiation="born", bias=qed.Bias(photon_e_min_gev=1.0)).generate(
            10, np.random.default_rng(0), BELLE2
        )
    low = Collider("low", "test", 1.7, 1.7, 0.0, (12.0, 155.0))
    with pytest.raises(ValueError, match="threshold"):
        qed.TauTauGamma().generate(10, np.random.default_rng(0), low)
    empty = qed.MuMuGamma().generate(0, np.random.default_rng(0), BELLE2)
    assert empty.n_events == 0


@pytest.mark.slow
def test_accept_exactly_is_unbiased_for_small_n():
    """Stopping at the n-th accepted try: weights v (n-1)/(n (T-1)) estimate
    sigma = A E[v] without bias (checked with a synthetic process, A = 0.05, E[v] = 2)."""
    from darkscan.generators.base import EventBatch, Objects

    rng = np.random.default_rng(0)

    def make_chunk(m):
        v = rng.exponential(2.0, m)
        idx = np.flatnonzero(rng.random(m) < 0.05)
        objects = Objects(
            np.zeros(idx.size + 1, np.int64),
            {"pdg": np.zeros(0), "p4": np.zeros((0, 4)), "vertex": np.zeros((0, 3))},
        )
        return EventBatch(objects, v[idx], "toy"), idx

    for n in (2, 5):
        sums = [
            qed._accept_exactly(n, make_chunk, chunk=16)[0].cross_section_fb for _ in range(4000)
        ]
        assert np.mean(sums) == pytest.approx(0.1, abs=4 * np.std(sums) / np.sqrt(len(sums)))
