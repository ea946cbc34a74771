r"""Dark scalar S mixing with the Higgs boson (mixing angle theta), with its B-meson production.

Convention
----------
Small-angle mixing: S couples to every SM particle like the Higgs boson, times theta::

    L = - theta (S / v) [ sum_f m_f fbar f - 2 m_W^2 W+_mu W-^mu - m_Z^2 Z_mu Z^mu ],

v = (sqrt(2) G_F)^(-1/2) = 246.22 GeV. Units: masses and widths in GeV. The coupling is
``theta`` (dimensionless; sin(theta) ~ theta). Every width is proportional to theta^2.

Channels and widths (r_x = m_x^2/m^2, beta_x = sqrt(1 - 4 r_x); exactly 0 below threshold)
---------------------------------------------------------------------------------------------
``e+e-``, ``mu+mu-``, ``tau+tau-``
    Gamma = theta^2 m_l^2 m beta_l^3 / (8 pi v^2) (P-wave, hence beta^3).

``gamma gamma`` (loop)
    Gamma = theta^2 alpha^2 m^3 / (256 pi^3 v^2) |A_W + sum_{q=c,b,t} 3 Q_q^2 A_1/2(tau_q)
    + sum_l A_1/2(tau_l) + 16/27|^2 with the loop functions below (A_1/2 -> 4/3 and A_1 -> -7
    for a heavy loop particle). The light hadrons enter as the constant 16/27 = (2/9) x (8/3):
    after integrating out c, b, t the scalar couples to (2/9) theta^mu_mu of the light sector,
    whose QED trace anomaly has the u, d, s beta-function coefficient
    (4/3) N_c sum Q^2 = 8/3. This is the low-energy estimate (m << 1 GeV), kept constant above,
    where the channel is negligible. The amplitude nearly cancels (W against fermions), so the
    rate carries an O(1) uncertainty. Its branching fraction is 1 below 2 m_e (the only open
    channel), at most 2.4 % (just below 2 m_mu) up to the muon threshold and ~1e-3 or less above.

``pi+pi-``, ``pi0pi0``, ``K+K-``, ``K0K0bar`` (m <= ``m_chpt_max``, default 1 GeV)
    Leading-order chiral perturbation theory with the low-energy theorem (Voloshin; Shifman,
    Vainshtein, Zakharov). Integrating out the n_h = 3 heavy quarks,
    sum_Q m_Q Qbar Q -> -(n_h alpha_s / 12 pi) G G, and eliminating G G with the trace anomaly of
    3-flavour QCD, theta^mu_mu = -(9 alpha_s / 8 pi) G G + sum_q m_q qbar q, gives::

        L_eff = (theta S / v) [ (2/9) theta^mu_mu + (7/9) sum_{q=u,d,s} m_q qbar q ].

    At leading order <P P| theta^mu_mu |0> = m^2 + 2 m_P^2 and <P P| sum m_q qbar q |0> = m_P^2
    (Feynman-Hellmann: m_P^2 is linear in the quark masses) for P P = pi pi or K Kbar, so every
    two-meson amplitude is the same function of its meson mass::

        |M(S -> P P)| = (theta / v) (2/9) (m^2 + 11 m_P^2 / 2),
        Gamma(S -> P P) = S_PP theta^2 m^3 beta_P (2/9 + 11 m_P^2 / (9 m^2))^2 / (16 pi v^2),

    S_PP = 1 for pi+pi-, K+K-, K0K0bar and 1/2 for pi0pi0 (identical particles). In the isospin
    limit pi+pi- : pi0pi0 = 2/3 : 1/3 and the sum is the textbook
    Gamma(pi pi) = theta^2 3 m^3 beta_pi (2/9 + 11 m_pi^2/(9 m^2))^2 / (32 pi v^2)
    (= G_F m^3 / (108 sqrt(2) pi) for m >> m_pi); K Kbar is twice K+K-. Physical meson masses
    are used per channel. S-wave: the widths rise like beta (not beta^3). Leading-order ChPT
    ignores the f0(500), f0(980) and the 4 pi, eta eta channels; dispersive treatments differ from
    it by factors of a few near 1 GeV.

``hadrons`` (m >= ``m_pert_min``, default 2 GeV): perturbative inclusive s sbar + c cbar + g g
    Gamma(S -> q qbar) = theta^2 3 mbar_q(m)^2 m beta^3 / (8 pi v^2) (1 + 5.67 a + (35.94 -
    1.36 n_f) a^2), a = alpha_s(m) / pi, with the MS-bar running mass mbar_q(mu = m) (LO running,
    exponent 12 / (33 - 2 n_f), from m_s(2 GeV) and m_c(m_c) of :mod:`darkscan.physics.constants`)
    and alpha_s at two loops (alpha_s(m_Z) = 0.118, flavour thresholds at mbar_c, mbar_b).
    beta uses the running mass for s sbar (beta ~ 1) and the *physical* open-charm threshold
    2 m_D0 for c cbar (charmonium resonances are not modelled). u and d (Yukawa suppressed by
    (m_d / m_s)^2 < 1 %) are neglected.
    Gamma(S -> g g) = theta^2 alpha_s(m)^2 m^3 / (72 pi^3 v^2) |sum_{q=c,b,t} (3/4) A_1/2(tau_q)|^2
    at leading order (each heavy quark contributes 1 in the heavy-quark limit). The NLO K-factor
    (1 + (95/4 - 7 n_f / 6) alpha_s / pi, ~2.5-3 at 2-4 GeV) is *not* applied; its size is part
    of the O(1) uncertainty of this region. :meth:`DarkScalar.hadron_components` splits the
    channel into ``"s sbar"``, ``"c cbar"``, ``"g g"``.

Between ``m_chpt_max`` and ``m_pert_min`` (1-2 GeV) neither description holds: the total
hadronic width is interpolated linearly in ln(Gamma) between its two end-point values,
ln Gamma_had(m) = (1 - t) ln Gamma_ChPT(m_lo) + t ln Gamma_pert(m_hi), t = (m - m_lo)/(m_hi - m_lo),
and shared as (1 - t) x (ChPT channel fractions at m) + t x ("hadrons", split into s sbar, c cbar,
g g by the perturbative fractions at m). The hadronic width in
this region (and so BR(S -> mu mu) and c tau) carries an O(1) theory uncertainty, as known in
the literature; the two end points are dataclass fields so that it can be varied.

B-meson production (``B+ -> K+ S``, ``B0 -> K*0 S``)
----------------------------------------------------
The top-W loop (Higgs penguin) gives, to leading order in m_t^2 (m_s -> 0)::

    L = g_bs S sbar P_R b + h.c.,  g_bs = theta 3 sqrt(2) G_F m_t^2 V_ts^* V_tb m_b / (16 pi^2 v)
                                       = theta 3 m_b m_t^2 V_ts^* V_tb / (16 pi^2 v^3)

(sqrt(2) G_F = 1 / v^2); with the b-quark mass insertion the chirality is sbar_L b_R. Hadronic
matrix elements, with P_R = (1 + gamma5)/2:

* B -> K: parity kills <K| sbar gamma5 b |B> (two pseudoscalars), so
  <K| sbar P_R b |B> = (1/2) <K| sbar b |B> = (1/2) (m_B^2 - m_K^2)/(m_b - m_s) f0(q^2)
  (the scalar density from the divergence of the vector current). Hence::

      Gamma(B -> K S) = |g_bs|^2 (m_B^2 - m_K^2)^2 f0(m^2)^2 lambda^(1/2)(m_B^2, m_K^2, m^2)
                        / (64 pi m_B^3 (m_b - m_s)^2)

  with f0(q^2) = 0.330 / (1 - q^2 / 37.46 GeV^2) (Ball-Zwicky 2005 light-cone sum rules).
* B -> K*: the scalar density vanishes (<K*| sbar b |B> is the divergence of the purely
  epsilon-tensor vector form factor), and from the axial current
  <K*(eps)| sbar gamma5 b |B> = -i 2 m_K* (eps^* . q) A0(q^2) / (m_b + m_s); summing over
  polarisations, sum |eps^* . q|^2 = -q^2 + (p_K* . q)^2 / m_K*^2 = lambda / (4 m_K*^2)
  (only the longitudinal K* is produced), so::

      Gamma(B -> K* S) = |g_bs|^2 A0(m^2)^2 lambda^(3/2)(m_B^2, m_K*^2, m^2)
                         / (64 pi m_B^3 (m_b + m_s)^2)

  with A0(q^2) = 1.364/(1 - q^2/27.88) - 0.990/(1 - q^2/36.78) (Ball-Zwicky 2005).

Gamma = |M|^2 lambda^(1/2) / (16 pi m_B^3) for both; the 1/4 (64 pi instead of 16 pi) is the
square of the chiral projector's 1/2. Inputs: m_t = M_TOP (172.6 GeV, pole), m_b = M_BOTTOM
(MS-bar 4.186 GeV, used in both g_bs and the quark-mass denominators, so that it largely
cancels), m_s = M_STRANGE, |V_ts|, |V_tb| and the PDG B lifetimes.
Result: BR(B+ -> K+ S) = 0.507 theta^2 and BR(B0 -> K*0 S) = 0.51 theta^2 at m = 1 GeV.
*Verdict on physics.md (check):* its formula theta^2 |3 m_t^2 V_ts V_tb / (16 pi^2 v^3)|^2
(m_B^2 - m_K^2)^2 f0^2 lambda^(1/2) / (16 pi m_B^3) drops the projector's 1/2 (and sets
m_b / (m_b - m_s) = 1), giving 1.94 theta^2, a factor 3.8 too large. As a cross-check of g_bs,
the inclusive rate it implies, Gamma(b -> s S) = |g_bs|^2 m_b (1 - m^2/m_b^2)^2 / (32 pi), is
BR(B -> X_s S) ~ 4.5 theta^2 with m_b = 4.19 GeV (6.7 theta^2 with a 4.78 GeV pole mass), of the
size usually quoted for this model (several theta^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from darkscan.models.base import Array, Coupling, Model
from darkscan.physics.constants import (
    ALPHA_EM,
    ALPHA_S_MZ,
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
    M_W,
    M_Z,
    V_TB,
    V_TS,
)
from darkscan.physics.form_factors import a0_b_to_kstar, f0_b_to_k
from darkscan.physics.kinematics import lambda_sqrt_norm, safe_divide

ComplexArray = NDArray[np.complex128]

# ---------------------------------------------------------------------------- loop functions
#: Below this tau the loop functions use their Taylor series (avoids 0/0 at m = 0).
_TAU_SERIES = 1e-3


def scalar_loop_f(tau: ArrayLike) -> ComplexArray:
    """The triangle function f(tau), tau = m^2 / (4 m_loop^2), complex above threshold.

    f = arcsin^2(sqrt(tau)) for tau <= 1 and -1/4 [ln((1 + s)/(1 - s)) - i pi]^2 with
    s = sqrt(1 - 1/tau) above; equivalently f = -1/2 int_0^1 dx/x ln(1 - 4 tau x(1-x) - i0).
    """
    tau = np.asarray(tau, dtype=float)
    below = tau <= 1.0
    f_below = np.square(np.arcsin(np.sqrt(np.clip(tau, 0.0, 1.0))))
    t_up = np.where(below, 2.0, tau)
    s = np.sqrt(1.0 - 1.0 / t_up)
    # ln((1 + s)/(1 - s)) = ln((1 + s)^2 tau) without the cancellation in 1 - s.
    eta = 2.0 * np.log1p(s) + np.log(t_up)
    f_above = -0.25 * np.square(eta - 1j * np.pi)
    return np.where(below, f_below + 0j, f_above)


def scalar_loop_fermion(tau: ArrayLike) -> ComplexArray:
    """Fermion-loop amplitude A_1/2(tau) = 2 [tau + (tau - 1) f(tau)] / tau^2 of a scalar decaying
    to two photons (or gluons), tau = m^2 / (4 m_f^2).

    Heavy fermion (tau -> 0): 4/3 + 14 tau/45 + 8 tau^2/63; light fermion (tau -> inf):
    (2/tau) [1 - (ln(4 tau) - i pi)^2 / 4] -> 0.
    """
    tau = np.asarray(tau, dtype=float)
    small = tau < _TAU_SERIES
    t = np.where(small, 1.0, tau)
    closed = 2.0 * (t + (t - 1.0) * scalar_loop_f(t)) / np.square(t)
    series = 4.0 / 3.0 + 14.0 / 45.0 * tau + 8.0 / 63.0 * np.square(tau)
    return np.where(small, series + 0j, closed)


def scalar_loop_vector(tau: ArrayLike) -> ComplexArray:
    """W-loop amplitude A_1(tau) = -[2 tau^2 + 3 tau + 3 (2 tau - 1) f(tau)] / tau^2,
    tau = m^2 / (4 m_W^2); -7 - 22 tau/15 - 76 tau^2/105 for a heavy W."""
    tau = np.asarray(tau, dtype=float)
    small = tau < _TAU_SERIES
    t = np.where(small, 1.0, tau)
    closed = -(2.0 * t * t + 3.0 * t + 3.0 * (2.0 * t - 1.0) * scalar_loop_f(t)) / np.square(t)
    series = -7.0 - 22.0 / 15.0 * tau - 76.0 / 105.0 * np.square(tau)
    return np.where(small, series + 0j, closed)


def beta_threshold(mass: ArrayLike, m_daughter: ArrayLike) -> Array:
    """sqrt(1 - 4 m_d^2 / m^2) for m_d > 0: exactly 0 at and below threshold, overflow-free
    even for subnormal masses (the ratio never exceeds 1)."""
    mass = np.asarray(mass, dtype=float)
    two_md = 2.0 * np.asarray(m_daughter, dtype=float)
    return np.sqrt(np.clip(1.0 - np.square(two_md / np.maximum(mass, two_md)), 0.0, None))


def loop_tau(mass: ArrayLike, m_loop: float) -> Array:
    """tau = m^2 / (4 m_loop^2)."""
    return np.square(np.asarray(mass, dtype=float)) / (4.0 * m_loop * m_loop)


def width_scalar_to_fermions(
    mass: ArrayLike, yukawa: ArrayLike, m_f: float, n_c: float = 1.0
) -> Array:
    """Gamma(S -> f fbar) = n_c y^2 m beta_f^3 / (8 pi) [GeV] for L = -y S fbar f; 0 below
    threshold."""
    mass = np.asarray(mass, dtype=float)
    return n_c * np.square(yukawa) * mass * beta_threshold(mass, m_f) ** 3 / (8.0 * np.pi)


def width_scalar_to_photons(mass: ArrayLike, amplitude: ArrayLike) -> Array:
    """Gamma(S -> gamma gamma) = alpha^2 m^3 |A|^2 / (256 pi^3) [GeV], where
    A = sum_f (y_f / m_f) N_c Q_f^2 A_1/2(tau_f) (+ g_SWW / (2 m_W^2) A_1(tau_W)) [GeV^-1]."""
    mass = np.asarray(mass, dtype=float)
    return ALPHA_EM**2 * mass**3 * np.abs(amplitude) ** 2 / (256.0 * np.pi**3)


# ---------------------------------------------------------------------------- QCD inputs
def _alpha_s_lambda(mu: ArrayLike, lam: float, nf: int) -> Array:
    """Two-loop alpha_s from Lambda_QCD^(nf) (expanded solution of the RGE)."""
    b0 = 11.0 - 2.0 * nf / 3.0
    b1 = 102.0 - 38.0 * nf / 3.0
    big_l = np.log(np.square(mu) / lam**2)
    return 4.0 * np.pi / (b0 * big_l) * (1.0 - b1 / b0**2 * np.log(big_l) / big_l)


def _lambdas() -> dict[int, float]:
    lam5 = brentq(lambda x: _alpha_s_lambda(M_Z, x, 5) - ALPHA_S_MZ, 0.01, 1.0, xtol=1e-14)
    a_b = _alpha_s_lambda(M_BOTTOM, lam5, 5)
    lam4 = brentq(lambda x: _alpha_s_lambda(M_BOTTOM, x, 4) - a_b, 0.01, 1.0, xtol=1e-14)
    a_c = _alpha_s_lambda(M_CHARM, lam4, 4)
    lam3 = brentq(lambda x: _alpha_s_lambda(M_CHARM, x, 3) - a_c, 0.01, 1.0, xtol=1e-14)
    return {3: float(lam3), 4: float(lam4), 5: float(lam5)}


#: Lambda_QCD^(n_f) [GeV] at two loops, matched continuously at mbar_c and mbar_b.
LAMBDA_QCD: dict[int, float] = _lambdas()
#: alpha_s is frozen below this scale [GeV] (only used for m >= 1 GeV).
_MU_MIN = 1.0


def n_flavours(mu: ArrayLike) -> NDArray[np.int64]:
    """Active quark flavours at scale mu [GeV]: 3 below mbar_c, 4 below mbar_b, else 5."""
    mu = np.asarray(mu, dtype=float)
    return 3 + (mu >= M_CHARM).astype(np.int64) + (mu >= M_BOTTOM).astype(np.int64)


def alpha_s(mu: ArrayLike) -> Array:
    """Strong coupling alpha_s(mu) in the MS-bar scheme at two loops (alpha_s(m_Z) = 0.118,
    flavour thresholds at mbar_c and mbar_b), for mu >= 1 GeV (frozen below)."""
    mu = np.maximum(np.asarray(mu, dtype=float), _MU_MIN)
    nf = n_flavours(mu)
    return np.select(
        [nf == 3, nf == 4],
        [_alpha_s_lambda(mu, LAMBDA_QCD[n], n) for n in (3, 4)],
        default=_alpha_s_lambda(mu, LAMBDA_QCD[5], 5),
    )


def _mass_running_factor(a: ArrayLike, nf: int) -> Array:
    return np.asarray(a, dtype=float) ** (12.0 / (33.0 - 2.0 * nf))


def running_quark_mass(m0: float, mu0: float, mu: ArrayLike) -> Array:
    """MS-bar quark mass at scale mu [GeV] from mbar(mu0) = m0, leading-order running
    mbar(mu) proportional to alpha_s(mu)^(12/(33 - 2 n_f)), continuous at flavour thresholds."""
    thresholds = {4: M_CHARM, 5: M_BOTTOM}  # n_f switches to the key at this scale
    nf0 = int(n_flavours(mu0))
    invariant = {nf0: m0 / _mass_running_factor(alpha_s(mu0), nf0)}
    for nf in range(nf0 + 1, 6):  # upwards through thresholds (at most two steps)
        a = alpha_s(thresholds[nf])
        invariant[nf] = (
            invariant[nf - 1] * _mass_running_factor(a, nf - 1) / (_mass_running_factor(a, nf))
        )
    for nf in range(nf0 - 1, 2, -1):  # downwards
        a = alpha_s(thresholds[nf + 1])
        invariant[nf] = (
            invariant[nf + 1] * _mass_running_factor(a, nf + 1) / (_mass_running_factor(a, nf))
        )
    mu = np.maximum(np.asarray(mu, dtype=float), _MU_MIN)
    a = alpha_s(mu)
    nf = n_flavours(mu)
    return np.select(
        [nf == 3, nf == 4],
        [invariant[n] * _mass_running_factor(a, n) for n in (3, 4)],
        default=invariant[5] * _mass_running_factor(a, 5),
    )


def qcd_correction_quarks(mu: ArrayLike) -> Array:
    """1 + 5.67 a + (35.94 - 1.36 n_f) a^2, a = alpha_s(mu)/pi: QCD correction to
    Gamma(S -> q qbar) expressed with the running mass mbar_q(mu = m)."""
    a = alpha_s(mu) / np.pi
    return 1.0 + 5.67 * a + (35.94 - 1.36 * n_flavours(np.maximum(mu, _MU_MIN))) * a * a


#: g_bs / theta = 3 m_b m_t^2 |V_ts V_tb| / (16 pi^2 v^3), the S sbar P_R b coupling per theta.
G_BS_PER_THETA: float = 3.0 * M_BOTTOM * M_TOP**2 * V_TS * V_TB / (16.0 * np.pi**2 * HIGGS_VEV**3)

#: B decay mode -> (m_B, m_K(*), is_vector).
_B_MODES: dict[str, tuple[float, float, bool]] = {
    "B+ -> K+ S": (M_B_CHARGED, M_K_CHARGED, False),
    "B0 -> K*0 S": (M_B_ZERO, M_K_STAR_ZERO, True),
}

# ---------------------------------------------------------------------------- widths at theta = 1
_V2 = HIGGS_VEV**2
_LEPTONS = {"e+e-": M_ELECTRON, "mu+mu-": M_MUON, "tau+tau-": M_TAU}
#: Exclusive two-meson channels: meson mass and symmetry factor.
_MESON_PAIRS: dict[str, tuple[float, float]] = {
    "pi+pi-": (M_PI_CHARGED, 1.0),
    "pi0pi0": (M_PI_ZERO, 0.5),
    "K+K-": (M_K_CHARGED, 1.0),
    "K0K0bar": (M_K_ZERO, 1.0),
}
#: Heavy quarks in the loops: (mass, charge).
_HEAVY_QUARKS = ((M_CHARM, 2.0 / 3.0), (M_BOTTOM, -1.0 / 3.0), (M_TOP, 2.0 / 3.0))
#: Light-hadron (u, d, s) contribution to the photon amplitude: (2/9) x (8/3).
LIGHT_HADRON_PHOTON_TERM: float = 16.0 / 27.0


def photon_amplitude(mass: ArrayLike) -> ComplexArray:
    """Dimensionless S -> gamma gamma amplitude (v / theta) x A: W, c, b, t, leptons and the
    constant light-hadron term (see module docstring)."""
    mass = np.asarray(mass, dtype=float)
    amp = scalar_loop_vector(loop_tau(mass, M_W)) + LIGHT_HADRON_PHOTON_TERM
    for m_q, q in _HEAVY_QUARKS:
        amp = amp + 3.0 * q * q * scalar_loop_fermion(loop_tau(mass, m_q))
    for m_l in _LEPTONS.values():
        amp = amp + scalar_loop_fermion(loop_tau(mass, m_l))
    return amp


def gluon_amplitude(mass: ArrayLike) -> ComplexArray:
    """sum_{q = c, b, t} (3/4) A_1/2(tau_q): 3 in the heavy-quark limit."""
    mass = np.asarray(mass, dtype=float)
    return sum(0.75 * scalar_loop_fermion(loop_tau(mass, m_q)) for m_q, _ in _HEAVY_QUARKS)


def chpt_width(mass: ArrayLike, m_meson: float, symmetry: float = 1.0) -> Array:
    """Leading-order ChPT Gamma(S -> P P) / theta^2 [GeV]:
    S_PP m^3 beta_P (2/9 + 11 m_P^2/(9 m^2))^2 / (16 pi v^2); 0 below threshold."""
    mass = np.asarray(mass, dtype=float)
    b = beta_threshold(mass, m_meson)
    r = np.square(m_meson / np.maximum(mass, 2.0 * m_meson))  # = m_P^2/m^2 wherever open
    shape = np.square(2.0 / 9.0 + 11.0 / 9.0 * r)
    return symmetry * mass**3 * b * shape / (16.0 * np.pi * _V2)


def perturbative_widths(mass: ArrayLike) -> dict[str, Array]:
    """Perturbative Gamma / theta^2 [GeV] of ``s sbar``, ``c cbar``, ``g g`` (valid m >~ 2 GeV)."""
    mass = np.asarray(mass, dtype=float)
    k_qcd = qcd_correction_quarks(mass)
    ms = running_quark_mass(M_STRANGE, 2.0, mass)
    mc = running_quark_mass(M_CHARM, M_CHARM, mass)
    beta_s = beta_threshold(mass, ms)
    beta_c = beta_threshold(mass, M_D_ZERO)  # physical open-charm threshold
    pref = 3.0 * mass / (8.0 * np.pi * _V2) * k_qcd
    a_s = alpha_s(mass)
    return {
        "s sbar": pref * np.square(ms) * beta_s**3,
        "c cbar": pref * np.square(mc) * beta_c**3,
        "g g": np.square(a_s)
        * mass**3
        * np.abs(gluon_amplitude(mass)) ** 2
        / (72.0 * np.pi**3 * _V2),
    }


@dataclass(frozen=True)
class DarkScalar(Model):
    """Higgs-mixed dark scalar S (mixing angle theta); see the module docstring for the widths,
    the hadronic treatment and B -> K(*) S.

    ``m_chpt_max`` [GeV]: upper end of leading-order ChPT for the exclusive pi pi, K Kbar
    channels; ``m_pert_min`` [GeV]: lower end of the perturbative inclusive ``hadrons`` channel.
    Between them the hadronic width is interpolated log-linearly (O(1) theory uncertainty).
    """

    m_chpt_max: float = 1.0
    m_pert_min: float = 2.0

    name: ClassVar[str] = "dark-scalar"
    mediator: ClassVar[str] = "S"
    summary: ClassVar[str] = (
        "Higgs-mixed scalar, L = -theta (S/v) sum_f m_f fbar f + ...; B -> K(*) S via the "
        "top-W Higgs penguin"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("theta", "mixing angle with the SM Higgs (small angle)", "1"),
    )
    channels: ClassVar[tuple[str, ...]] = (
        "e+e-",
        "mu+mu-",
        "tau+tau-",
        "gamma gamma",
        "pi+pi-",
        "pi0pi0",
        "K+K-",
        "K0K0bar",
        "hadrons",
    )
    b_decay_modes: ClassVar[tuple[str, ...]] = tuple(_B_MODES)

    def __post_init__(self) -> None:
        for label in ("m_chpt_max", "m_pert_min"):
            value = getattr(self, label)
            if not np.isfinite(value):
                raise ValueError(f"{label} must be finite, got {value}")
        if not 2.0 * M_PI_CHARGED < self.m_chpt_max < self.m_pert_min:
            raise ValueError(
                "need 2 m_pi < m_chpt_max < m_pert_min, got "
                f"m_chpt_max={self.m_chpt_max}, m_pert_min={self.m_pert_min}"
            )
        if self.m_pert_min < _MU_MIN:
            raise ValueError(f"m_pert_min must be >= {_MU_MIN} GeV, got {self.m_pert_min}")

    # -- hadronic widths per theta^2
    def _hadronic_reduced(self, mass: Array) -> tuple[dict[str, Array], dict[str, Array]]:
        """(exclusive + ``hadrons`` widths, perturbative components) / theta^2 [GeV]."""
        m_lo, m_hi = self.m_chpt_max, self.m_pert_min
        low = mass <= m_lo
        high = mass >= m_hi
        mid = ~low & ~high
        t = np.clip((mass - m_lo) / (m_hi - m_lo), 0.0, 1.0)

        total_lo = sum(float(chpt_width(m_lo, mp, sym)) for mp, sym in _MESON_PAIRS.values())
        total_hi = sum(float(v) for v in perturbative_widths(m_hi).values())
        g_mid = np.exp((1.0 - t) * np.log(total_lo) + t * np.log(total_hi))

        out: dict[str, Array] = {}
        chpt = {ch: chpt_width(mass, mp, sym) for ch, (mp, sym) in _MESON_PAIRS.items()}
        chpt_sum = np.sum(np.stack(list(chpt.values())), axis=0)
        for ch, w in chpt.items():
            interp = g_mid * (1.0 - t) * safe_divide(w, chpt_sum)
            out[ch] = np.where(low, w, np.where(mid, interp, 0.0))
        # perturbative formulas need m >~ 1 GeV (alpha_s); only their ratios are used below m_hi
        pert = perturbative_widths(np.maximum(mass, _MU_MIN))
        pert_sum = np.sum(np.stack(list(pert.values())), axis=0)
        comps = {
            k: np.where(high, v, np.where(mid, g_mid * t * safe_divide(v, pert_sum), 0.0))
            for k, v in pert.items()
        }
        out["hadrons"] = np.sum(np.stack(list(comps.values())), axis=0)
        return out, comps

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        theta2 = np.square(c["theta"])
        widths = {
            ch: width_scalar_to_fermions(mass, c["theta"] * m_l / HIGGS_VEV, m_l)
            for ch, m_l in _LEPTONS.items()
        }
        widths["gamma gamma"] = theta2 * width_scalar_to_photons(
            mass, photon_amplitude(mass) / HIGGS_VEV
        )
        hadronic, _ = self._hadronic_reduced(mass)
        for ch, w in hadronic.items():
            widths[ch] = theta2 * w
        return widths

    def hadron_components(self, mass: ArrayLike, **couplings: ArrayLike) -> dict[str, Array]:
        """The ``hadrons`` channel split into ``"s sbar"``, ``"c cbar"``, ``"g g"`` [GeV] (they sum
        to it; in the interpolation region with the perturbative fractions at m)."""
        m, c = self._prepare(mass, couplings)
        _, comps = self._hadronic_reduced(m)
        theta2 = np.square(c["theta"])
        return {k: np.broadcast_to(theta2 * v, m.shape).astype(float) for k, v in comps.items()}

    # -- B -> K(*) S
    def _b_decay_width(self, mode: str, mass: Array, c: dict[str, Array]) -> Array:
        m_b_meson, m_k, is_vector = _B_MODES[mode]
        lam_sqrt = m_b_meson**2 * lambda_sqrt_norm(m_b_meson, m_k, mass)  # lambda^(1/2) [GeV^2]
        open_ = lam_sqrt > 0
        q2 = np.where(open_, np.square(mass), 0.0)  # keep the form-factor poles away
        g2 = np.square(c["theta"]) * G_BS_PER_THETA**2
        if is_vector:
            a0 = a0_b_to_kstar(q2)
            width = (
                g2
                * a0**2
                * lam_sqrt**3
                / (64.0 * np.pi * m_b_meson**3 * (M_BOTTOM + M_STRANGE) ** 2)
            )
        else:
            f0 = f0_b_to_k(q2)
            width = (
                g2
                * (m_b_meson**2 - m_k**2) ** 2
                * f0**2
                * lam_sqrt
                / (64.0 * np.pi * m_b_meson**3 * (M_BOTTOM - M_STRANGE) ** 2)
            )
        return np.where(open_, width, 0.0)


__all__ = [
    "DarkScalar",
    "G_BS_PER_THETA",
    "LAMBDA_QCD",
    "alpha_s",
    "beta_threshold",
    "chpt_width",
    "gluon_amplitude",
    "photon_amplitude",
    "perturbative_widths",
    "qcd_correction_quarks",
    "running_quark_mass",
    "scalar_loop_f",
    "scalar_loop_fermion",
    "scalar_loop_vector",
    "width_scalar_to_fermions",
    "width_scalar_to_photons",
]
