import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

from darkscan.models import dark_scalar as ds
from darkscan.models import get_model
from darkscan.physics.constants import (
    ALPHA_EM,
    ALPHA_S_MZ,
    G_FERMI,
    HBAR_GEV_S,
    HIGGS_VEV,
    M_B_CHARGED,
    M_B_ZERO,
    M_BOTTOM,
    M_CHARM,
    M_D_ZERO,
    M_ELECTRON,
    M_K_CHARGED,
    M_K_STAR_ZERO,
    M_K_ZERO,
    M_MUON,
    M_PI_CHARGED,
    M_PI_ZERO,
    M_STRANGE,
    M_TAU,
    M_TOP,
    M_Z,
    TAU_B_CHARGED_S,
    TAU_B_ZERO_S,
    V_TB,
    V_TS,
)
from darkscan.physics.kinematics import lambda_sqrt_norm

S = get_model("dark-scalar")
V = HIGGS_VEV
LEPTONS = {"e+e-": M_ELECTRON, "mu+mu-": M_MUON, "tau+tau-": M_TAU}
MESONS = {
    "pi+pi-": (M_PI_CHARGED, 1.0),
    "pi0pi0": (M_PI_ZERO, 0.5),
    "K+K-": (M_K_CHARGED, 1.0),
    "K0K0bar": (M_K_ZERO, 1.0),
}


def beta(m, m_d):
    return np.sqrt(1 - 4 * m_d**2 / m**2)


# ----------------------------------------------------------------------------- registry
def test_registry_entry():
    assert S.name == "dark-scalar"
    assert S.coupling_names == ("theta",)
    assert set(S.channels) == {
        "e+e-",
        "mu+mu-",
        "tau+tau-",
        "gamma gamma",
        "pi+pi-",
        "pi0pi0",
        "K+K-",
        "K0K0bar",
        "hadrons",
    }
    assert S.b_decay_modes == ("B+ -> K+ S", "B0 -> K*0 S")
    assert S.productions == ()
    assert S.describe()["parameters"] == {"m_chpt_max": 1.0, "m_pert_min": 2.0}


# ----------------------------------------------------------------------------- leptons
@pytest.mark.parametrize(("channel", "m_l"), list(LEPTONS.items()))
def test_lepton_width_formula_threshold_and_limit(channel, m_l):
    for m in (0.0, 1.5 * m_l, 2 * m_l):
        w = S.partial_width(channel, m, theta=1.0)
        assert w == 0.0 and np.isfinite(w)
    m = 4.5
    expected = 1e-6 * m_l**2 * m * beta(m, m_l) ** 3 / (8 * np.pi * V**2)
    assert_allclose(S.partial_width(channel, m, theta=1e-3), expected, rtol=1e-12)
    # P-wave threshold: Gamma / (m beta^3) is constant
    m1, m2 = 2 * m_l * (1 + 1e-4), 2 * m_l * (1 + 3e-4)
    r = S.partial_width(channel, m1, theta=1.0) / S.partial_width(channel, m2, theta=1.0)
    assert_allclose(r, m1 * beta(m1, m_l) ** 3 / (m2 * beta(m2, m_l) ** 3), rtol=1e-9)
    # large mass: beta -> 1
    big = 1e3
    assert_allclose(
        S.partial_width(channel, big, theta=1.0), m_l**2 * big / (8 * np.pi * V**2), rtol=1e-4
    )


@settings(max_examples=60, deadline=None)
@given(st.floats(2 * M_TAU * 1.0001, 50.0))
def test_lepton_widths_scale_like_ml2_m_beta3(m):
    w = S.partial_widths(m, theta=1.0)
    reduced = [w[ch] / (m_l**2 * m * beta(m, m_l) ** 3) for ch, m_l in LEPTONS.items()]
    assert_allclose(reduced, reduced[0], rtol=1e-10)


# ----------------------------------------------------------------------------- loop functions
def f_numerical(tau):
    """f(tau) = -1/2 int_0^1 dx/x ln(1 - 4 tau x (1-x) - i0), by quadrature."""

    def integrand(x):
        return -0.5 * np.log(abs(1 - 4 * tau * x * (1 - x))) / x

    if tau <= 1:
        re, _ = integrate.quad(integrand, 0, 1, epsabs=1e-13, epsrel=1e-11, limit=200)
        return complex(re, 0.0)
    s = np.sqrt(1 - 1 / tau)
    xm, xp = (1 - s) / 2, (1 + s) / 2
    re = sum(
        integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
        for a, b in ((0, xm), (xm, xp), (xp, 1))
    )
    # ln(negative - i0) = ln|.| - i pi on (x-, x+)
    im, _ = integrate.quad(lambda x: 0.5 * np.pi / x, xm, xp, epsrel=1e-12)
    return complex(re, im)


@pytest.mark.parametrize("tau", [1e-4, 0.05, 0.3, 0.9, 0.999, 1.001, 1.7, 5.0, 40.0, 1e4])
def test_loop_f_against_feynman_parameter_integral(tau):
    assert_allclose(complex(ds.scalar_loop_f(tau)), f_numerical(tau), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("tau", [1e-2, 0.2, 0.5, 0.8, 0.95])
def test_fermion_loop_against_two_dimensional_feynman_integral(tau):
    # A_1/2 = 4 int_0^1 dx int_0^{1-x} dy (1 - 4xy) / (1 - 4 tau x y) (below threshold)
    val, _ = integrate.dblquad(
        lambda y, x: (1 - 4 * x * y) / (1 - 4 * tau * x * y),
        0,
        1,
        0,
        lambda x: 1 - x,
        epsabs=1e-12,
        epsrel=1e-10,
    )
    assert_allclose(complex(ds.scalar_loop_fermion(tau)), 4 * val, rtol=1e-8)


@pytest.mark.parametrize("tau", [0.1, 0.6, 1.5, 30.0])
def test_loop_amplitudes_from_numerical_f(tau):
    f = f_numerical(tau)
    assert_allclose(
        complex(ds.scalar_loop_fermion(tau)), 2 * (tau + (tau - 1) * f) / tau**2, rtol=1e-7
    )
    assert_allclose(
        complex(ds.scalar_loop_vector(tau)),
        -(2 * tau**2 + 3 * tau + 3 * (2 * tau - 1) * f) / tau**2,
        rtol=1e-7,
    )


def test_loop_limits_and_continuity():
    # heavy loop particle: 4/3 and -7, also exactly at tau = 0 (m = 0)
    assert_allclose(ds.scalar_loop_fermion([0.0, 1e-8]), 4 / 3, rtol=1e-7)
    assert_allclose(ds.scalar_loop_vector([0.0, 1e-8]), -7, rtol=1e-7)
    # series / closed form agree around the switch
    t = ds._TAU_SERIES
    for fn in (ds.scalar_loop_fermion, ds.scalar_loop_vector):
        assert_allclose(fn(t * (1 - 1e-9)), fn(t * (1 + 1e-9)), rtol=1e-9)
        assert_allclose(fn(0.01), fn(np.array([0.01]))[0])
    # continuous across tau = 1; real below, complex above
    for fn in (ds.scalar_loop_fermion, ds.scalar_loop_vector):
        assert_allclose(fn(1 - 1e-10), fn(1 + 1e-10), atol=1e-3)
    assert ds.scalar_loop_fermion(0.5).imag == 0 and ds.scalar_loop_fermion(2.0).imag > 0
    # light fermion: (2/tau)[1 - (ln(4 tau) - i pi)^2 / 4] -> 0
    tau = np.array([1e5, 1e7])
    light = 2 / tau * (1 - (np.log(4 * tau) - 1j * np.pi) ** 2 / 4)
    assert_allclose(ds.scalar_loop_fermion(tau), light, rtol=1e-3)
    assert np.all(np.abs(ds.scalar_loop_fermion(tau)) < 1e-2)
    # SM Higgs check (m_h = 125 GeV): A_W = -8.32, A_top = 1.38
    assert_allclose(ds.scalar_loop_vector(125.0**2 / (4 * 80.379**2)).real, -8.32, atol=0.01)
    assert_allclose(ds.scalar_loop_fermion(125.0**2 / (4 * 172.76**2)).real, 1.376, atol=2e-3)


def test_photon_width():
    m = np.array([0.0, 1e-3, 0.05, 0.5, 3.0])
    amp = ds.photon_amplitude(m)
    expected = 1e-6 * ALPHA_EM**2 * m**3 * np.abs(amp) ** 2 / (256 * np.pi**3 * V**2)
    assert_allclose(S.partial_width("gamma gamma", m, theta=1e-3), expected, rtol=1e-12)
    assert S.partial_width("gamma gamma", 0.0, theta=1.0) == 0.0
    # heavy-particle limit: -7 (W) + 16/9 + 4/9 + 16/9 (c, b, t) + 3 x 4/3 (leptons) + 16/27
    assert_allclose(ds.photon_amplitude(1e-7).real, -7 + 4 + 4 + 16 / 27, rtol=1e-6)
    # the only open channel below 2 m_e
    assert_allclose(S.branching_fraction("gamma gamma", 1e-3, theta=1e-3), 1.0)
    # small everywhere else
    m = np.linspace(0.3, 5.0, 200)
    assert np.all(S.branching_fraction("gamma gamma", m, theta=1e-3) < 1e-3)


# ----------------------------------------------------------------------------- chiral region
@pytest.mark.parametrize(("channel", "params"), list(MESONS.items()))
def test_chpt_two_meson_widths(channel, params):
    m_p, sym = params
    assert S.partial_width(channel, 2 * m_p, theta=1.0) == 0.0
    assert S.partial_width(channel, 1.9 * m_p, theta=1.0) == 0.0
    m = 0.999
    expected = (
        4e-8
        * sym
        * m**3
        * beta(m, m_p)
        * (2 / 9 + 11 * m_p**2 / (9 * m**2)) ** 2
        / (16 * np.pi * V**2)
    )
    assert_allclose(S.partial_width(channel, m, theta=2e-4), expected, rtol=1e-12)
    # S-wave threshold: Gamma / (m^3 beta (2/9 + 11 r/9)^2) constant, i.e. Gamma ~ beta
    m1, m2 = 2 * m_p * (1 + 1e-6), 2 * m_p * (1 + 4e-6)
    r = S.partial_width(channel, m1, theta=1.0) / S.partial_width(channel, m2, theta=1.0)
    assert_allclose(r, beta(m1, m_p) / beta(m2, m_p), rtol=1e-4)


def test_pion_isospin_and_textbook_normalisation():
    m, mpi = 0.7, M_PI_CHARGED
    charged = ds.chpt_width(m, mpi, 1.0)
    neutral = ds.chpt_width(m, mpi, 0.5)
    assert_allclose(charged / (charged + neutral), 2 / 3, rtol=1e-12)
    total = 3 * m**3 * beta(m, mpi) * (2 / 9 + 11 * mpi**2 / (9 * m**2)) ** 2 / (32 * np.pi * V**2)
    assert_allclose(charged + neutral, total, rtol=1e-12)
    # m >> m_pi: Gamma(pi pi) -> G_F m^3 / (108 sqrt 2 pi) (Voloshin)
    big = 50.0
    lim = ds.chpt_width(big, mpi, 1.0) + ds.chpt_width(big, mpi, 0.5)
    assert_allclose(lim, G_FERMI * big**3 / (108 * np.sqrt(2) * np.pi), rtol=1e-4)
    # the kaon analogue: the same amplitude with m_K; K Kbar = 2 K+K- in the isospin limit
    assert_allclose(
        ds.chpt_width(1.5, M_K_CHARGED, 1.0) / ds.chpt_width(1.5, mpi, 1.0),
        beta(1.5, M_K_CHARGED)
        * (2 + 11 * M_K_CHARGED**2 / 1.5**2) ** 2
        / (beta(1.5, mpi) * (2 + 11 * mpi**2 / 1.5**2) ** 2),
        rtol=1e-12,
    )


def test_pions_closed_below_threshold_and_reasonable_at_half_gev():
    assert S.partial_width("hadrons", 0.9, theta=1.0) == 0.0
    br = S.branching_fractions(0.5, theta=1e-3)
    assert 0.5 < br["pi+pi-"] + br["pi0pi0"] < 0.8
    assert 0.25 < br["mu+mu-"] < 0.45


# ----------------------------------------------------------------------------- transition
def test_interpolation_is_continuous_and_log_linear():
    model = get_model("dark-scalar")
    lo, hi = model.m_chpt_max, model.m_pert_min
    for edge in (lo, hi):
        a = model.partial_widths(edge * (1 - 1e-10), theta=1.0)
        b = model.partial_widths(edge * (1 + 1e-10), theta=1.0)
        total = model.total_width(edge, theta=1.0)
        for ch in model.channels:
            assert_allclose(a[ch], b[ch], rtol=1e-6, atol=1e-8 * total)
    had = [ch for ch in model.channels if ch in MESONS or ch == "hadrons"]

    def g_had(m):
        w = model.partial_widths(m, theta=1.0)
        return sum(w[ch] for ch in had)

    g_lo = sum(ds.chpt_width(lo, mp, sym) for mp, sym in MESONS.values())
    g_hi = sum(ds.perturbative_widths(hi).values())
    assert_allclose(g_had(lo), g_lo, rtol=1e-12)
    assert_allclose(g_had(hi), g_hi, rtol=1e-12)
    for t in (0.25, 0.5, 0.8):
        m = lo + t * (hi - lo)
        assert_allclose(np.log(g_had(m)), (1 - t) * np.log(g_lo) + t * np.log(g_hi), rtol=1e-12)
    # exclusive channels vanish from m_pert_min on, inclusive below m_chpt_max
    w = model.partial_widths([0.9, 2.0, 3.0], theta=1.0)
    assert np.all(w["pi+pi-"][1:] == 0) and w["hadrons"][0] == 0


def test_transition_points_are_parameters():
    wide = get_model("dark-scalar", m_chpt_max=0.8, m_pert_min=2.5)
    assert wide.partial_width("K+K-", 1.5, theta=1.0) > 0
    assert wide.partial_width("hadrons", 0.9, theta=1.0) > 0
    with pytest.raises(ValueError, match="m_chpt_max"):
        get_model("dark-scalar", m_chpt_max=2.5, m_pert_min=2.0)
    with pytest.raises(ValueError, match="m_chpt_max"):
        get_model("dark-scalar", m_chpt_max=0.1)
    with pytest.raises(ValueError, match="m_pert_min"):
        get_model("dark-scalar", m_chpt_max=0.5, m_pert_min=0.9)
    with pytest.raises(ValueError, match="finite"):
        get_model("dark-scalar", m_pert_min=float("nan"))


# ----------------------------------------------------------------------------- perturbative
def test_alpha_s_and_running_masses():
    assert_allclose(ds.alpha_s(M_Z), ALPHA_S_MZ, rtol=1e-9)
    assert 0.21 < ds.alpha_s(M_BOTTOM) < 0.24
    assert 0.29 < ds.alpha_s(2.0) < 0.33
    assert 0.30 < ds.alpha_s(M_TAU) < 0.36
    # continuous at the flavour thresholds, decreasing
    for thr in (M_CHARM, M_BOTTOM):
        assert_allclose(ds.alpha_s(thr * (1 - 1e-12)), ds.alpha_s(thr * (1 + 1e-12)), rtol=1e-9)
    mu = np.linspace(1.0, 100.0, 500)
    assert np.all(np.diff(ds.alpha_s(mu)) < 0)
    assert_allclose(ds.running_quark_mass(M_STRANGE, 2.0, 2.0), M_STRANGE, rtol=1e-12)
    assert_allclose(ds.running_quark_mass(M_CHARM, M_CHARM, M_CHARM), M_CHARM, rtol=1e-12)
    mc = ds.running_quark_mass(M_CHARM, M_CHARM, mu)
    assert np.all(np.diff(mc) < 0)
    assert 0.95 < ds.running_quark_mass(M_CHARM, M_CHARM, 3.0) < 1.06  # FLAG: 0.988 GeV
    # running down and back up is the identity
    m_up = ds.running_quark_mass(M_STRANGE, 2.0, 10.0)
    assert_allclose(ds.running_quark_mass(float(m_up), 10.0, 2.0), M_STRANGE, rtol=1e-12)


def test_perturbative_components():
    m = np.array([2.0, 3.0, 3.7, 4.0, 5.0])
    comps = S.hadron_components(m, theta=1e-2)
    assert_allclose(sum(comps.values()), S.partial_width("hadrons", m, theta=1e-2), rtol=1e-12)
    a = ds.alpha_s(m)
    gg = 1e-4 * a**2 * m**3 * np.abs(ds.gluon_amplitude(m)) ** 2 / (72 * np.pi**3 * V**2)
    assert_allclose(comps["g g"], gg, rtol=1e-12)
    ms = ds.running_quark_mass(M_STRANGE, 2.0, m)
    ss = 1e-4 * 3 * ms**2 * m * beta(m, ms) ** 3 / (8 * np.pi * V**2) * ds.qcd_correction_quarks(m)
    assert_allclose(comps["s sbar"], ss, rtol=1e-12)
    # open charm only above 2 m_D, rising like beta^3
    assert np.all(comps["c cbar"][m <= 2 * M_D_ZERO] == 0) and np.all(comps["c cbar"][3:] > 0)
    # heavy-quark limit of the gluon loop sum: 3 (c, b, t each contribute 1)
    assert_allclose(ds.gluon_amplitude(1e-6).real, 3.0, rtol=1e-9)
    # gluon width: alpha_s^2 m^3 / (8 pi^3 v^2) in the heavy-quark limit
    g_small = ds.alpha_s(2.0) ** 2 * 2.0**3 * abs(ds.gluon_amplitude(1e-6)) ** 2 / (72 * np.pi**3)
    assert_allclose(g_small, ds.alpha_s(2.0) ** 2 * 8 / (8 * np.pi**3), rtol=1e-8)
    # QCD correction factor in a sensible range
    k = ds.qcd_correction_quarks(np.array([2.0, 5.0, 10.0]))
    assert np.all((k > 1.3) & (k < 2.0)) and np.all(np.diff(k) < 0)


def test_large_mass_tau_and_gluons_dominate():
    br = S.branching_fractions(8.0, theta=1e-3)
    assert br["tau+tau-"] > 0.3 and br["hadrons"] > 0.3
    assert_allclose(sum(br.values()), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------- B -> K(*) S
def test_b_to_k_s_hand_computed_value_at_1_gev():
    m_s2 = 1.0
    g = 3 * M_BOTTOM * M_TOP**2 * V_TS * V_TB / (16 * np.pi**2 * V**3)  # per theta
    f0 = 0.330 / (1 - m_s2 / 37.46)
    # <K| sbar P_R b |B> = 1/2 <K| sbar b |B>
    amp = 0.5 * g * (M_B_CHARGED**2 - M_K_CHARGED**2) / (M_BOTTOM - M_STRANGE) * f0
    a, b, c = M_B_CHARGED**2, M_K_CHARGED**2, m_s2
    lam = a * a + b * b + c * c - 2 * (a * b + a * c + b * c)
    width = amp**2 * np.sqrt(lam) / (16 * np.pi * M_B_CHARGED**3)
    br = width * TAU_B_CHARGED_S / HBAR_GEV_S
    assert_allclose(S.b_decay_width("B+ -> K+ S", 1.0, theta=1.0), width, rtol=1e-12)
    assert_allclose(S.b_decay_branching_fraction("B+ -> K+ S", 1.0, theta=1.0), br, rtol=1e-12)
    # By hand (PDG inputs): g = 6.580e-6, f0 = 0.33905, amplitude 4.78e-6 x 27.629 / 4.093 ...
    assert_allclose(g, 6.580e-6, rtol=1e-3)
    assert_allclose(br, 0.5074, rtol=1e-3)
    # physics.md's (check) formula, without the projector's 1/2, is ~3.8 x larger
    naive = (
        (3 * M_TOP**2 * V_TS * V_TB / (16 * np.pi**2 * V**3)) ** 2
        * (a - b) ** 2
        * f0**2
        * np.sqrt(lam)
        / (16 * np.pi * M_B_CHARGED**3)
        * TAU_B_CHARGED_S
        / HBAR_GEV_S
    )
    assert_allclose(naive, 1.94, rtol=1e-2)
    assert_allclose(naive / br, 4 * ((M_BOTTOM - M_STRANGE) / M_BOTTOM) ** 2, rtol=1e-12)


def test_b_to_kstar_s_with_explicit_polarisation_vectors():
    m = 1.0
    mb, mk = M_B_ZERO, M_K_STAR_ZERO
    g = ds.G_BS_PER_THETA
    q2 = m * m
    a0 = 1.364 / (1 - q2 / 27.88) - 0.990 / (1 - q2 / 36.78)
    # B rest frame, K* along +z
    e_k = (mb**2 + mk**2 - q2) / (2 * mb)
    p = np.sqrt(e_k**2 - mk**2)
    q = np.array([mb - e_k, 0, 0, -p])
    metric = np.diag([1.0, -1.0, -1.0, -1.0])
    pols = [
        np.array([0, 1, 1j, 0]) / np.sqrt(2),
        np.array([0, 1, -1j, 0]) / np.sqrt(2),
        np.array([p, 0, 0, e_k]) / mk,
    ]
    pol_sum = sum(abs(np.conj(e) @ metric @ q) ** 2 for e in pols)
    # |M| = (g/2) x 2 m_K* |eps* . q| A0 / (m_b + m_s)
    m2 = (0.5 * g * 2 * mk * a0 / (M_BOTTOM + M_STRANGE)) ** 2 * pol_sum
    width = m2 * p / (8 * np.pi * mb**2)
    assert_allclose(S.b_decay_width("B0 -> K*0 S", m, theta=1.0), width, rtol=1e-12)
    br = S.b_decay_branching_fraction("B0 -> K*0 S", m, theta=1.0)
    assert_allclose(br, width * TAU_B_ZERO_S / HBAR_GEV_S, rtol=1e-12)
    assert_allclose(br, 0.509, rtol=2e-3)


@pytest.mark.parametrize(
    ("mode", "m_b", "m_k"),
    [("B+ -> K+ S", M_B_CHARGED, M_K_CHARGED), ("B0 -> K*0 S", M_B_ZERO, M_K_STAR_ZERO)],
)
def test_b_decay_closed_above_kinematic_limit(mode, m_b, m_k):
    limit = m_b - m_k
    m = np.array([limit, limit + 1e-9, 5.0, 6.2, 10.0, 1e3])
    w = S.b_decay_width(mode, m, theta=1.0)
    assert np.all(w == 0.0) and np.all(np.isfinite(w))
    assert S.b_decay_width(mode, limit * (1 - 1e-6), theta=1.0) > 0
    assert S.b_decay_width(mode, 0.0, theta=1.0) > 0
    # near the end point: lambda^(1/2) (K, S-wave-like) or lambda^(3/2) (K*, P-wave)
    m1, m2 = limit * (1 - 1e-6), limit * (1 - 4e-6)
    lam = [m_b**4 * float(lambda_sqrt_norm(m_b, m_k, x)) ** 2 for x in (m1, m2)]
    power = 1.5 if "K*" in mode else 0.5
    r = S.b_decay_width(mode, m1, theta=1.0) / S.b_decay_width(mode, m2, theta=1.0)
    assert_allclose(r, (lam[0] / lam[1]) ** power, rtol=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 4.8), st.floats(1e-7, 1.0))
def test_b_decay_branching_fraction_scales_as_theta_squared(m, theta):
    for mode in S.b_decay_modes:
        ref = S.b_decay_branching_fraction(mode, m, theta=1.0)
        assert_allclose(
            S.b_decay_branching_fraction(mode, m, theta=theta), theta**2 * ref, rtol=1e-12
        )


def test_unknown_b_mode():
    with pytest.raises(ValueError, match="B\\+ -> K\\+ S"):
        S.b_decay_width("B+ -> pi+ S", 1.0, theta=1.0)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 10.0), st.floats(1e-8, 1.0))
def test_widths_scale_as_theta_squared(m, theta):
    ref = S.partial_widths(m, theta=1.0)
    got = S.partial_widths(m, theta=theta)
    for ch in S.channels:
        assert np.isfinite(got[ch]) and got[ch] >= 0
        assert_allclose(got[ch], theta**2 * ref[ch], rtol=1e-12, atol=0)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 10.0), st.floats(1e-8, 1.0))
def test_branching_fractions_sum_to_one(m, theta):
    br = S.branching_fractions(m, theta=theta)
    assert_allclose(sum(br.values()), 1.0, rtol=1e-12)
    assert all(0 <= v <= 1 for v in br.values())


def test_zero_mass_and_zero_coupling():
    for v in S.partial_widths([0.0, 0.5], theta=[1e-3, 0.0]).values():
        assert np.all(v == 0.0)
    for v in S.branching_fractions(0.0, theta=1e-3).values():
        assert v == 0.0
    assert S.ctau_cm(0.5, theta=0.0) == np.inf


def test_broadcasting_over_mass_and_coupling_grid():
    m = np.linspace(0.0, 6.0, 31)[:, None]
    theta = np.logspace(-6, -2, 5)[None, :]
    widths = S.partial_widths(m, theta=theta)
    for ch, w in widths.items():
        assert w.shape == (31, 5)
        for j in range(5):
            assert_allclose(w[:, j], S.partial_width(ch, m[:, 0], theta=theta[0, j]), rtol=1e-14)
    assert S.ctau_cm(m, theta=theta).shape == (31, 5)
    assert S.b_decay_branching_fraction("B0 -> K*0 S", m, theta=theta).shape == (31, 5)
    assert np.all(np.isfinite(S.total_width(m, theta=theta)))


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs():
    with pytest.raises(ValueError, match="theta"):
        S.partial_widths(1.0, eps=1e-3)
    with pytest.raises(ValueError, match="needs coupling 'theta'"):
        S.partial_widths(1.0)
    with pytest.raises(ValueError, match="theta"):
        S.partial_widths(1.0, theta=-1e-3)
    with pytest.raises(ValueError, match="theta"):
        S.partial_widths(1.0, theta=np.nan)
    with pytest.raises(ValueError, match="theta"):
        S.b_decay_branching_fraction("B+ -> K+ S", 1.0, theta=np.inf)
    with pytest.raises(ValueError, match="mass"):
        S.partial_widths(-1.0, theta=1e-3)
    with pytest.raises(ValueError, match="mass"):
        S.b_decay_width("B+ -> K+ S", np.nan, theta=1e-3)
    with pytest.raises(ValueError, match="valid"):
        S.partial_width("b bbar", 1.0, theta=1e-3)
    with pytest.raises(ValueError, match="no closed-form"):
        S.cross_section_fb(10.58, 1.0, theta=1e-3)
