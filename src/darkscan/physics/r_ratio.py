"""darkscan's parametrisation of R(sqrt s) = sigma(e+e- -> hadrons) / sigma_point(e+e- -> mu+ mu-).

Conventions
-----------
* ``sqrt_s`` (also written E) is the centre-of-mass energy in GeV, s = E^2 in GeV^2.
* sigma_point = 4 pi alpha^2 / (3 s) is the point-like QED cross section (massless muons).
* R is a Born-level ("bare") quantity: no initial-state radiation and no beam-energy spread.
  For a vector resonance V decaying to the final state f the Born cross section is the
  relativistic Breit-Wigner

      sigma_V(s) = 12 pi M^2 Gamma_ee Gamma_f(s) / (s |M^2 - s - i M Gamma(s)|^2)

  i.e. R_V = 9 M^2 Gamma_ee Gamma_f(s) / (alpha^2 |M^2 - s - i M Gamma(s)|^2), whose area is
  integral sigma dE = 6 pi^2 Gamma_ee Gamma_f / (M^2 Gamma) for a narrow state.
* R is exactly 0 below the pi+ pi- threshold 2 m_pi+ (the radiative pi0 gamma channel, which
  opens at m_pi0, is only kept above 2 m_pi+, where it is part of the omega's decays; below,
  it would contribute R < 1e-5).

Components (all vectorised numpy, one smooth function of E except where physics is narrow)
--------------------------------------------------------------------------------------
1. pi+ pi-: R = beta_pi^3 / 4 |F_pi(s)|^2 with a Gounaris-Sakurai form factor built from
   rho(770), rho(1450), rho(1700) (P-wave pi pi widths) and rho-omega mixing,
   F = [GS_rho (1 + delta s / M_omega^2 BW_omega) + beta' GS_rho' + beta'' GS_rho''] / (1 + beta' +
   beta'').
2. K+ K- and K0 K0bar: vector-meson dominance with SU(3) (ideal-mixing) couplings,
   F_K+/K0 = +-1/2 GS_rho + 1/6 BW_omega + 1/3 BW_phi, R = beta_K^3 / 4 |F_K|^2 per charge
   state (normalised F_K+(0) = 1, F_K0(0) = 0). The phi has an energy-dependent width
   (P-wave K Kbar, 3 pi, eta gamma); with these couplings its peak reproduces the PDG
   Gamma(phi -> e+e-) B(K Kbar) to a few per cent.
3. 3 pi: coherent sum of omega, phi, omega(1420), omega(1650) Breit-Wigners, each normalised
   to Gamma_ee B(3 pi) at its pole, times the V -> rho pi -> 3 pi phase space (Dalitz integral
   of |p+ x p-|^2 with the three rho propagators; tabulated once, interpolated).
   omega -> pi0 gamma and phi -> eta gamma are added with their P-wave (k_gamma^3) widths.
4. Effective multi-hadron channel (4 pi, omega pi, eta pi pi, 5 pi, 6 pi ...): the amplitude
   g_bg + g' e^{i phi'} BW_rho(1450) + g'' e^{i phi''} BW_rho(1700) (a non-resonant term that
   carries the approach to the partonic value, plus the excited rho's) squared, times the
   threshold factor (1 - 16 m_pi^2 / s)^p, plus phi(1680) -> K K*(892) with a P-wave width.
5. Perturbative continuum R = N_c sum_q Q_q^2 (1 + a + c2 a^2 + c3 a^3), a = alpha_s(E)/pi
   (MS-bar, three-loop running from alpha_s(m_Z), flavour thresholds at the MS-bar c and b
   masses), blended smoothly into the low-energy sum between 1.8 and 2.2 GeV.
   Open charm and bottom turn on at 2 m_D0 and 2 m_B with the vector-current quark-pair factor
   v (3 - v^2) / 2 and Schwinger's O(alpha_s) massive correction, whose Coulomb term
   pi / (2 v) is cut off below v ~ V_COULOMB (the Coulomb enhancement there is carried by the
   bound states J/psi, psi(2S), Upsilon(nS), treated separately).
6. Narrow and threshold resonances as Breit-Wigners normalised to their PDG Gamma_ee:
   J/psi, psi(2S), Upsilon(1S, 2S, 3S) (constant widths), psi(3770) -> D Dbar and
   Upsilon(4S) -> B Bbar (P-wave energy-dependent widths, so they start at 0 at threshold).

Validity: 2 m_pi+ <= E <= ~11 GeV. Between 0.3 and 2 GeV the 50 MeV-bin averages agree with a
measured (digitised) R compilation within 13 % (``validation/r_ratio.py``), except the bin
holding the phi, where the digitised peak is ~1.5 times broader than the PDG Gamma_ee(phi)
allows (darkscan keeps the PDG peak; R(1 GeV) = 1.157). In the open-charm region
3.73-4.6 GeV the broad psi(4040, 4160, 4415) are not resolved (duality average); the b-quark
continuum above 2 m_B is included but Upsilon(10860, 11020) are not. Above 11 GeV the function
returns the five-flavour perturbative value (no Z exchange), good to ~40 GeV.

Inputs: masses and total widths of the mesons come from the PDG tables shipped with the
``particle`` package; electronic widths and branching fractions are PDG 2024 values quoted
below; the few couplings of the excited states (:class:`Parameters`) are tuned to the measured
R between 0.3 and 2 GeV and to R(1 GeV) ~ 1.155 (dark photon BR(mu mu) = 0.3166 at 1 GeV).

Speed: :func:`r_hadrons` interpolates everything but the narrow quarkonia on a 0.1 MeV table
built once (~0.1 s) from the component formulas; 1e6 points take ~70 ms on one core.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from particle import Particle
from scipy.optimize import brentq

from darkscan.physics.constants import (
    ALPHA_EM,
    ALPHA_S_MZ,
    M_B_CHARGED,
    M_BOTTOM,
    M_CHARM,
    M_K_CHARGED,
    M_K_ZERO,
    M_PI_CHARGED,
    M_PI_ZERO,
    M_Z,
)

__all__ = [
    "R_THRESHOLD",
    "alpha_s",
    "binned_comparison",
    "r_components",
    "r_hadrons",
    "r_perturbative",
]

FloatArray = NDArray[np.float64]


def _pdg(pdgid: int) -> tuple[float, float]:
    """(mass, width) [GeV] from the particle package's PDG table."""
    p = Particle.from_pdgid(pdgid)
    return float(p.mass) / 1000.0, float(p.width) / 1000.0


KEV = 1e-6
#: Hadronic threshold [GeV]: R = 0 below 2 m_pi+ (pi+ pi- threshold).
R_THRESHOLD: float = 2.0 * M_PI_CHARGED

M_ETA: float = _pdg(221)[0]
M_D_ZERO: float = _pdg(421)[0]

# ---------------------------------------------------------------------------------------------
# Light vector mesons. Gamma_ee [GeV] and branching fractions: PDG 2024 (Review of Particle
# Physics, Phys. Rev. D 110, 030001 (2024)), meson listings.
M_RHO, G_RHO = _pdg(113)  # rho(770)0
M_OMEGA, G_OMEGA = _pdg(223)  # omega(782)
M_PHI, G_PHI = _pdg(333)  # phi(1020)
GEE_OMEGA: float = 0.60 * KEV
GEE_PHI: float = 1.266 * KEV  # B(e+e-) = 2.979e-4 times Gamma = 4.249 MeV
B_OMEGA_PI0GAMMA: float = 0.0835
B_OMEGA_PIPI: float = 0.0153
B_OMEGA_3PI: float = 1.0 - B_OMEGA_PI0GAMMA - B_OMEGA_PIPI  # 0.892 (+ tiny rest)
B_PHI_KPKM: float = 0.491
B_PHI_K0K0: float = 0.339
B_PHI_ETAGAMMA: float = 0.01303
B_PHI_3PI: float = 1.0 - B_PHI_KPKM - B_PHI_K0K0 - B_PHI_ETAGAMMA  # 0.157

# Excited light vector mesons: masses / widths from the PDG tables (particle package); their
# couplings to e+e- are poorly measured and are the tuned parameters of this model.
M_RHO1, G_RHO1 = _pdg(100113)  # rho(1450)
M_RHO2, G_RHO2 = _pdg(30113)  # rho(1700)
M_OMEGA1, G_OMEGA1 = _pdg(100223)  # omega(1420)
M_OMEGA2, G_OMEGA2 = _pdg(30223)  # omega(1650)
M_PHI1, G_PHI1 = _pdg(100333)  # phi(1680)

# ---------------------------------------------------------------------------------------------
# Heavy quarkonia: (PDG id, Gamma_ee [GeV], B(hadrons) = 1 - sum of lepton-pair fractions).
_NARROW_STATES: dict[str, tuple[int, float, float]] = {
    "J/psi": (443, 5.53 * KEV, 1.0 - 0.05971 - 0.05961),
    "psi(2S)": (100443, 2.33 * KEV, 1.0 - 0.00793 - 0.0080 - 0.0031),
    "Upsilon(1S)": (553, 1.340 * KEV, 1.0 - 0.0238 - 0.0248 - 0.0260),
    "Upsilon(2S)": (100553, 0.612 * KEV, 1.0 - 0.0191 - 0.0193 - 0.0200),
    "Upsilon(3S)": (200553, 0.443 * KEV, 1.0 - 0.0218 - 0.0218 - 0.0229),
}
#: psi(3770) -> D Dbar and Upsilon(4S) -> B Bbar: (PDG id, Gamma_ee [GeV], daughter mass).
_THRESHOLD_STATES: dict[str, tuple[int, float, float]] = {
    "psi(3770)": (30443, 0.262 * KEV, M_D_ZERO),
    "Upsilon(4S)": (300553, 0.272 * KEV, M_B_CHARGED),
}


@dataclass(frozen=True)
class Parameters:
    """Couplings of the low-energy model (dimensionless unless stated).

    Fitted (least squares on the 50 MeV-bin ratios, 0.3-2 GeV, plus R(1 GeV) = 1.155):
    beta_rho1, beta_rho2, g4_*, phase4_*, p4_power. Set by hand to physical estimates:
    delta_rho_omega (CMD-2-like ~2e-3), the omega(1420)/omega(1650) 3 pi strengths (sigma(3 pi)
    of a few nb at 1.4-1.7 GeV), the phases (SND-like: phi and omega(1420) opposite to omega)
    and the phi(1680) -> K K* peak (sigma(K Kbar pi) ~ 10 nb).
    """

    #: rho-omega mixing strength and phase [rad] in F_pi.
    delta_rho_omega: float = 1.9e-3
    phase_rho_omega: float = 0.0
    #: rho(1450), rho(1700) weights in F_pi.
    beta_rho1: float = -0.050
    beta_rho2: float = -0.040
    #: Gamma_ee B(3 pi) [GeV] of omega(1420), omega(1650) and their phases relative to omega.
    gee3pi_omega1: float = 0.15 * KEV
    gee3pi_omega2: float = 0.10 * KEV
    phase_omega1: float = np.pi
    phase_omega2: float = 0.0
    #: phase of phi relative to omega in 3 pi.
    phase_phi_3pi: float = np.pi
    #: multi-hadron amplitude: non-resonant constant, rho(1450), rho(1700) weights and phases.
    g4_bg: float = 2.335
    g4_rho1: float = 0.146
    g4_rho2: float = 0.0865
    phase4_rho1: float = -1.178
    phase4_rho2: float = -0.654
    #: exponent of the multi-hadron threshold factor (1 - 16 m_pi^2 / s)^p.
    p4_power: float = 11.2
    #: phi(1680) -> K K*(892) peak R.
    r_phi1_kkpi: float = 0.25


PARAMS = Parameters()


# ---------------------------------------------------------------------------------------------
# Kinematic helpers (evaluated only above the relevant thresholds by the callers)
def _p_two_body(s: FloatArray, m1: float, m2: float) -> FloatArray:
    """Two-body break-up momentum [GeV] for invariant mass squared s (0 below threshold)."""
    above = np.clip(s - (m1 + m2) ** 2, 0.0, None)
    return 0.5 * np.sqrt(above * (s - (m1 - m2) ** 2) / s)


def _beta(s: FloatArray, m: float) -> FloatArray:
    return np.sqrt(np.clip(1.0 - 4.0 * m * m / s, 0.0, None))


# ---------------------------------------------------------------------------------------------
# Gounaris-Sakurai propagator for a P-wave pi pi resonance.
@dataclass(frozen=True)
class _GounarisSakurai:
    mass: float
    width: float
    m: float = M_PI_CHARGED

    @functools.cached_property
    def _consts(self) -> tuple[float, float, float, float]:
        m, mm = self.m, self.mass
        k_m = 0.5 * np.sqrt(mm * mm - 4 * m * m)
        log_m = np.log((mm + 2 * k_m) / (2 * m))
        h_m = 2 / np.pi * k_m / mm * log_m
        dh_m = h_m * (1 / (8 * k_m**2) - 1 / (2 * mm**2)) + 1 / (2 * np.pi * mm**2)
        d = (
            3 / np.pi * m * m / k_m**2 * log_m
            + mm / (2 * np.pi * k_m)
            - m * m * mm / (np.pi * k_m**3)
        )
        return k_m, h_m, dh_m, d

    def __call__(self, s: FloatArray, sq: FloatArray, k: FloatArray, h: FloatArray):
        """GS(s) normalised to GS(0) = 1; s above the pi pi threshold; k, h shared helpers."""
        k_m, h_m, dh_m, d = self._consts
        mm2 = self.mass**2
        f = self.width * mm2 / k_m**3 * (k * k * (h - h_m) + (mm2 - s) * k_m**2 * dh_m)
        gam = self.width * (k / k_m) ** 3 * (self.mass / sq)
        return mm2 * (1 + d * self.width / self.mass) / (mm2 - s + f - 1j * self.mass * gam)


def _pipi_helpers(s: FloatArray, sq: FloatArray, m: float = M_PI_CHARGED):
    k = 0.5 * np.sqrt(np.clip(s - 4 * m * m, 0.0, None))
    h = 2 / np.pi * k / sq * np.log((sq + 2 * k) / (2 * m))
    return k, h


GS_RHO = _GounarisSakurai(M_RHO, G_RHO)
GS_RHO1 = _GounarisSakurai(M_RHO1, G_RHO1)
GS_RHO2 = _GounarisSakurai(M_RHO2, G_RHO2)


# ---------------------------------------------------------------------------------------------
# V -> rho pi -> pi+ pi- pi0 phase-space function, tabulated once.
_E3PI_MIN = 2 * M_PI_CHARGED + M_PI_ZERO
_E3PI_MAX = 3.0


def _rho_propagator(s: FloatArray) -> NDArray[np.complex128]:
    sq = np.sqrt(s)
    k = 0.5 * np.sqrt(np.clip(s - 4 * M_PI_CHARGED**2, 0.0, None))
    k_m = 0.5 * np.sqrt(M_RHO**2 - 4 * M_PI_CHARGED**2)
    gam = G_RHO * (k / k_m) ** 3 * (M_RHO / sq)
    return 1.0 / (M_RHO**2 - s - 1j * M_RHO * gam)


@functools.cache
def _phase_space_3pi_table(n_e: int = 240, n_gl: int = 40) -> tuple[FloatArray, FloatArray]:
    """Phi_3pi(E) = E^-3 int ds_{+-} ds_{+0} |p+ x p-|^2 |sum_rho BW_rho|^2 (rest frame of V).

    Proportional to Gamma(V -> rho pi -> 3 pi) at mass E for a fixed coupling (the
    Gell-Mann-Sharp-Wagner amplitude). Normalisation is arbitrary (ratios are used).
    """
    mc, m0 = M_PI_CHARGED, M_PI_ZERO
    # grid dense near threshold: E = E_min + (E_max - E_min) u^2
    u = np.linspace(0.0, 1.0, n_e)
    e = _E3PI_MIN + (_E3PI_MAX - _E3PI_MIN) * u * u
    e = e[1:]
    x, w = np.polynomial.legendre.leggauss(n_gl)
    x = 0.5 * (x + 1.0)
    w = 0.5 * w
    ee = e[:, None, None]
    s2 = ee * ee
    # outer variable s_{+-}
    lo, hi = (2 * mc) ** 2, (ee - m0) ** 2
    spm = lo + (hi - lo) * x[None, :, None]
    jac1 = (hi - lo) * w[None, :, None]
    # inner variable s_{+0}: limits at fixed s_{+-}
    rs = np.sqrt(spm)
    e_p = rs / 2
    e_0 = (s2 - spm - m0 * m0) / (2 * rs)
    pp = np.sqrt(np.clip(e_p**2 - mc * mc, 0.0, None))
    p0 = np.sqrt(np.clip(e_0**2 - m0 * m0, 0.0, None))
    s_lo = (e_p + e_0) ** 2 - (pp + p0) ** 2
    s_hi = (e_p + e_0) ** 2 - (pp - p0) ** 2
    sp0 = s_lo + (s_hi - s_lo) * x[None, None, :]
    jac2 = (s_hi - s_lo) * w[None, None, :]
    sm0 = s2 + 2 * mc * mc + m0 * m0 - spm - sp0
    # V rest frame energies of pi+ and pi-
    en_p = (s2 + mc * mc - sm0) / (2 * ee)
    en_m = (s2 + mc * mc - sp0) / (2 * ee)
    pp2 = np.clip(en_p**2 - mc * mc, 0.0, None)
    pm2 = np.clip(en_m**2 - mc * mc, 0.0, None)
    dot = en_p * en_m - 0.5 * (spm - 2 * mc * mc)
    cross2 = np.clip(pp2 * pm2 - dot * dot, 0.0, None)
    amp = _rho_propagator(spm) + _rho_propagator(sp0) + _rho_propagator(sm0)
    integrand = cross2 * np.abs(amp) ** 2
    val = np.sum(integrand * jac1 * jac2, axis=(1, 2)) / e**3
    return np.concatenate([[_E3PI_MIN], e]), np.concatenate([[0.0], val])


def _phi3pi(e: FloatArray) -> FloatArray:
    grid, val = _phase_space_3pi_table()
    return np.interp(e, grid, val, left=0.0)


# ---------------------------------------------------------------------------------------------
# Running strong coupling (MS-bar, three-loop PDG expansion in 1/ln(mu^2/Lambda^2)).
def _alpha_s_lambda(mu: FloatArray | float, lam: float, nf: int) -> FloatArray:
    b0 = 11.0 - 2.0 * nf / 3.0
    b1 = 51.0 - 19.0 * nf / 3.0
    b2 = 2857.0 - 5033.0 * nf / 9.0 + 325.0 * nf * nf / 27.0
    t = np.log(np.square(mu) / lam**2)
    lt = np.log(t)
    return (
        4.0
        * np.pi
        / (b0 * t)
        * (1.0 - b1 / b0**2 * lt / t + (b1**2 * (lt * lt - lt - 1.0) + b0 * b2) / (b0**4 * t * t))
    )


@functools.cache
def _lambdas() -> dict[int, float]:
    """Lambda_QCD^(nf) [GeV] for nf = 5, 4, 3 from alpha_s(m_Z), continuous at mu = m_q."""
    lam5 = brentq(lambda lam: _alpha_s_lambda(M_Z, lam, 5) - ALPHA_S_MZ, 0.05, 0.5)
    a_b = _alpha_s_lambda(M_BOTTOM, lam5, 5)
    lam4 = brentq(lambda lam: _alpha_s_lambda(M_BOTTOM, lam, 4) - a_b, 0.05, 0.6)
    a_c = _alpha_s_lambda(M_CHARM, lam4, 4)
    lam3 = brentq(lambda lam: _alpha_s_lambda(M_CHARM, lam, 3) - a_c, 0.05, 0.7)
    return {5: lam5, 4: lam4, 3: lam3}


def alpha_s(mu: ArrayLike) -> FloatArray:
    """Running MS-bar alpha_s(mu) [mu in GeV], three-loop, from alpha_s(m_Z) = ALPHA_S_MZ.

    Flavour thresholds at the MS-bar masses m_c and m_b (continuous matching). Valid for
    mu >= 1 GeV (ValueError below: perturbative running is meaningless there).
    """
    mu = np.asarray(mu, dtype=float)
    if not np.all(np.isfinite(mu)) or (mu.size and float(np.min(mu)) < 1.0):
        raise ValueError("alpha_s: mu must be finite and >= 1 GeV")
    lam = _lambdas()
    out = np.empty_like(mu)
    nf = np.where(mu < M_CHARM, 3, np.where(mu < M_BOTTOM, 4, 5))
    for n in (3, 4, 5):
        sel = nf == n
        if np.any(sel):
            out[sel] = _alpha_s_lambda(mu[sel], lam[n], n)
    return out


# ---------------------------------------------------------------------------------------------
# Perturbative QCD continuum
#: Coulomb cut-off velocity of the massive O(alpha_s) correction at open-flavour thresholds.
V_COULOMB: float = 0.3
#: open charm / open bottom thresholds [GeV]
E_OPEN_CHARM: float = 2.0 * M_D_ZERO
E_OPEN_BOTTOM: float = 2.0 * M_B_CHARGED
#: blending window [GeV] between the low-energy resonance model and perturbative QCD.
E_BLEND_LO: float = 1.8
E_BLEND_HI: float = 2.2


def _qcd_series(a: FloatArray, nf: FloatArray) -> FloatArray:
    """Non-singlet massless series 1 + a + c2 a^2 + c3 a^3 (a = alpha_s / pi), MS-bar."""
    c2 = 1.9857 - 0.1152 * nf
    c3 = -6.63694 - 1.20013 * nf - 0.00518 * nf * nf
    return 1.0 + a * (1.0 + a * (c2 + a * c3))


def _heavy_factor(s: FloatArray, e_thr: float, als: FloatArray, higher: FloatArray):
    """Open heavy-flavour factor: v (3 - v^2)/2 [1 + 4/3 alpha_s f(v) + O(alpha_s^2)].

    v is the quark velocity mapped onto the open-flavour threshold, v^2 = 1 - e_thr^2 / s;
    f(v) is Schwinger's O(alpha_s) vector-current correction with its Coulomb term cut off
    below V_COULOMB. Exactly 0 below threshold, -> 1 + alpha_s/pi + ... for v -> 1.
    """
    v2 = np.clip(1.0 - e_thr * e_thr / s, 0.0, 1.0)
    v = np.sqrt(v2)
    born = 0.5 * v * (3.0 - v2)
    with np.errstate(divide="ignore", invalid="ignore"):
        coul = np.where(v > 0, np.pi / (2.0 * v) * -np.expm1(-v2 / V_COULOMB**2), 0.0)
    f = coul - 0.25 * (3.0 + v) * (0.5 * np.pi - 0.75 / np.pi)
    return born * (1.0 + 4.0 / 3.0 * als * f + higher)


def r_perturbative(sqrt_s: ArrayLike) -> FloatArray:
    """Perturbative-QCD R with open charm / bottom thresholds (no resonances) [E in GeV].

    u, d, s massless; c and b switched on at 2 m_D0 and 2 m_B+ (see :func:`_heavy_factor`).
    Meant for E >~ 1.8 GeV; ValueError below 1 GeV (see :func:`alpha_s`).
    """
    e = np.asarray(sqrt_s, dtype=float)
    s = e * e
    als = alpha_s(e)
    a = als / np.pi
    nf = np.where(e < M_CHARM, 3.0, np.where(e < M_BOTTOM, 4.0, 5.0))
    series = _qcd_series(a, nf)
    higher = series - 1.0 - a  # O(alpha_s^2) and beyond
    r = 3.0 * (6.0 / 9.0) * series
    r = r + 3.0 * (4.0 / 9.0) * _heavy_factor(s, E_OPEN_CHARM, als, higher)
    r = r + 3.0 * (1.0 / 9.0) * _heavy_factor(s, E_OPEN_BOTTOM, als, higher)
    return r


# ---------------------------------------------------------------------------------------------
# Low-energy resonance model (2 m_pi < E < E_BLEND_HI)
_C9 = 9.0 / ALPHA_EM**2
_M_KSTAR = 0.8955  # average K*(892) mass [GeV] (PDG)


def _p3_ratio(s: FloatArray, m1: float, m2: float, mass: float) -> FloatArray:
    """(p(s) / p(M^2))^3 for a two-body channel m1 + m2 of a resonance of mass M."""
    return (_p_two_body(s, m1, m2) / _p_two_body(np.float64(mass * mass), m1, m2)) ** 3


def _low_energy(e: FloatArray, par: Parameters = PARAMS) -> dict[str, FloatArray]:
    """Channel contributions to R for 2 m_pi < e < E_BLEND_HI (e 1-d, above threshold)."""
    s = e * e
    k, h = _pipi_helpers(s, e)
    beta_pi = 2.0 * k / e
    phi3 = _phi3pi(e)
    phi3_om = _phi3pi(np.float64(M_OMEGA))
    phi3_ph = _phi3pi(np.float64(M_PHI))
    k_m_rho = 0.5 * np.sqrt(M_OMEGA**2 - 4 * M_PI_CHARGED**2)

    # omega and phi with energy-dependent widths
    pig = _p3_ratio(s, M_PI_ZERO, 0.0, M_OMEGA)
    g_om = G_OMEGA * (
        B_OMEGA_3PI * phi3 / phi3_om
        + B_OMEGA_PI0GAMMA * pig
        + B_OMEGA_PIPI * (k / k_m_rho) ** 3 * (M_OMEGA / e)
    )
    d_om = M_OMEGA**2 - s - 1j * M_OMEGA * g_om
    kp = _p3_ratio(s, M_K_CHARGED, M_K_CHARGED, M_PHI) * (M_PHI / e)
    k0 = _p3_ratio(s, M_K_ZERO, M_K_ZERO, M_PHI) * (M_PHI / e)
    etag = _p3_ratio(s, M_ETA, 0.0, M_PHI)
    g_ph = G_PHI * (
        B_PHI_KPKM * kp + B_PHI_K0K0 * k0 + B_PHI_3PI * phi3 / phi3_ph + B_PHI_ETAGAMMA * etag
    )
    d_ph = M_PHI**2 - s - 1j * M_PHI * g_ph
    bw_om = M_OMEGA**2 / d_om
    bw_ph = M_PHI**2 / d_ph

    # pi+ pi-: Gounaris-Sakurai with rho-omega mixing
    gs_rho = GS_RHO(s, e, k, h)
    gs_rho1 = GS_RHO1(s, e, k, h)
    gs_rho2 = GS_RHO2(s, e, k, h)
    mix = par.delta_rho_omega * np.exp(1j * par.phase_rho_omega) * s / M_OMEGA**2 * bw_om
    f_pi = (gs_rho * (1.0 + mix) + par.beta_rho1 * gs_rho1 + par.beta_rho2 * gs_rho2) / (
        1.0 + par.beta_rho1 + par.beta_rho2
    )
    r_pipi = 0.25 * beta_pi**3 * np.abs(f_pi) ** 2

    # K Kbar: SU(3) vector-meson dominance
    iso0 = bw_om / 6.0 + bw_ph / 3.0
    r_kk = 0.25 * _beta(s, M_K_CHARGED) ** 3 * np.abs(iso0 + 0.5 * gs_rho) ** 2
    r_kk = r_kk + 0.25 * _beta(s, M_K_ZERO) ** 3 * np.abs(iso0 - 0.5 * gs_rho) ** 2

    # 3 pi: omega, phi, omega(1420), omega(1650)
    a3 = M_OMEGA * np.sqrt(GEE_OMEGA * G_OMEGA * B_OMEGA_3PI / phi3_om) / d_om
    a3 = (
        a3
        + np.exp(1j * par.phase_phi_3pi)
        * M_PHI
        * np.sqrt(GEE_PHI * G_PHI * B_PHI_3PI / phi3_ph)
        / d_ph
    )
    for mass, width, gee3, phase in (
        (M_OMEGA1, G_OMEGA1, par.gee3pi_omega1, par.phase_omega1),
        (M_OMEGA2, G_OMEGA2, par.gee3pi_omega2, par.phase_omega2),
    ):
        norm = np.sqrt(gee3 * width / _phi3pi(np.float64(mass)))
        a3 = a3 + np.exp(1j * phase) * mass * norm / (mass * mass - s - 1j * mass * width)
    r_3pi = _C9 * np.abs(a3) ** 2 * phi3

    # radiative: omega -> pi0 gamma, phi -> eta gamma
    r_rad = _C9 * (
        M_OMEGA**2 * GEE_OMEGA * G_OMEGA * B_OMEGA_PI0GAMMA * pig / np.abs(d_om) ** 2
        + M_PHI**2 * GEE_PHI * G_PHI * B_PHI_ETAGAMMA * etag / np.abs(d_ph) ** 2
    )

    # effective multi-hadron channel
    bw1 = M_RHO1**2 / (M_RHO1**2 - s - 1j * M_RHO1 * G_RHO1)
    bw2 = M_RHO2**2 / (M_RHO2**2 - s - 1j * M_RHO2 * G_RHO2)
    amp4 = (
        par.g4_bg
        + par.g4_rho1 * np.exp(1j * par.phase4_rho1) * bw1
        + par.g4_rho2 * np.exp(1j * par.phase4_rho2) * bw2
    )
    ps4 = np.clip(1.0 - (4.0 * M_PI_CHARGED / e) ** 2, 0.0, None) ** par.p4_power
    r_4pi = np.abs(amp4) ** 2 * ps4
    kks = _p3_ratio(s, M_K_CHARGED, _M_KSTAR, M_PHI1)
    r_kkpi = (
        par.r_phi1_kkpi
        * (M_PHI1 * G_PHI1) ** 2
        / np.abs(M_PHI1**2 - s - 1j * M_PHI1 * G_PHI1) ** 2
        * kks
    )
    return {
        "pi+pi-": r_pipi,
        "K Kbar": r_kk,
        "3pi": r_3pi,
        "radiative": r_rad,
        "multi-hadron": r_4pi + r_kkpi,
    }


# ---------------------------------------------------------------------------------------------
# Narrow / threshold resonances on top of the continuum
@functools.cache
def _narrow_table() -> tuple[tuple[float, float, float], ...]:
    """(M^2, (M Gamma)^2, 9 M^2 Gamma_ee Gamma_had / alpha^2) of the constant-width quarkonia."""
    rows = []
    for pdgid, gee, b_had in _NARROW_STATES.values():
        mass, width = _pdg(pdgid)
        rows.append((mass * mass, (mass * width) ** 2, _C9 * mass * mass * gee * width * b_had))
    return tuple(rows)


def _narrow(s: FloatArray) -> FloatArray:
    """Sum of J/psi, psi(2S), Upsilon(1S, 2S, 3S) Breit-Wigners (constant widths), s > 0."""
    out = np.zeros_like(s)
    for m2, mg2, c in _narrow_table():  # 5 states, each vectorised over the points
        d = m2 - s
        out += c / (d * d + mg2)
    return out


@functools.cache
def _threshold_table() -> tuple[tuple[float, float, float, float], ...]:
    rows = []
    for pdgid, gee, m_d in _THRESHOLD_STATES.values():
        mass, width = _pdg(pdgid)
        rows.append((mass, width, gee, m_d))
    return tuple(rows)


def _threshold_state(e: FloatArray, mass: float, width: float, gee: float, m_d: float):
    """Breit-Wigner with a P-wave width to m_d + m_d (psi(3770), Upsilon(4S)); e > 2 m_d."""
    s = e * e
    gam = width * _p3_ratio(s, m_d, m_d, mass) * (mass / e)
    return _C9 * mass * mass * gee * gam / ((mass * mass - s) ** 2 + (mass * gam) ** 2)


# ---------------------------------------------------------------------------------------------
# Public API
def _as_energy(sqrt_s: ArrayLike) -> FloatArray:
    e = np.asarray(sqrt_s, dtype=float)
    if not np.all(np.isfinite(e)):
        raise ValueError("sqrt_s must be finite (got NaN or inf)")
    if e.size and float(np.min(e)) < 0:
        raise ValueError(f"sqrt_s must be >= 0 GeV (got min {float(np.min(e))})")
    return e


def _blend_weight(e: FloatArray) -> FloatArray:
    """Smooth (C1) step from 0 at E_BLEND_LO to 1 at E_BLEND_HI: weight of perturbative QCD."""
    x = np.clip((e - E_BLEND_LO) / (E_BLEND_HI - E_BLEND_LO), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _evaluate(
    e: FloatArray,
    params: Parameters,
    parts: dict[str, FloatArray] | None,
    narrow: bool = True,
) -> FloatArray:
    """R on the 1-d array e (validated) from the component formulas, without the narrow
    quarkonia if ``narrow`` is False; fills ``parts`` by component if given."""
    out = np.zeros_like(e)

    def add(key: str, idx: NDArray[np.intp], val: FloatArray) -> None:
        out[idx] += val
        if parts is not None:
            parts.setdefault(key, np.zeros_like(e))[idx] += val

    idx = np.flatnonzero((e > R_THRESHOLD) & (e < E_BLEND_HI))
    if idx.size:
        el = e[idx]
        w_low = 1.0 - _blend_weight(el)
        for key, val in _low_energy(el, params).items():
            add(key, idx, val * w_low)
    idx = np.flatnonzero(e > E_BLEND_LO)
    if idx.size:
        ep = e[idx]
        add("perturbative", idx, r_perturbative(ep) * _blend_weight(ep))
    if narrow:
        idx = np.flatnonzero(e > R_THRESHOLD)
        add("narrow", idx, _narrow(np.square(e[idx])))
    for mass, width, gee, m_d in _threshold_table():
        idx = np.flatnonzero(e > 2.0 * m_d)
        if idx.size:
            add("threshold resonances", idx, _threshold_state(e[idx], mass, width, gee, m_d))
    return out


COMPONENTS: tuple[str, ...] = (
    "pi+pi-",
    "K Kbar",
    "3pi",
    "radiative",
    "multi-hadron",
    "perturbative",
    "narrow",
    "threshold resonances",
)


def r_components(sqrt_s: ArrayLike, params: Parameters = PARAMS) -> dict[str, FloatArray]:
    """Contributions to R by component (each of the shape of ``sqrt_s``); they sum to R.

    Keys (:data:`COMPONENTS`): the low-energy channels ``"pi+pi-"``, ``"K Kbar"``, ``"3pi"``,
    ``"radiative"`` (omega -> pi0 gamma, phi -> eta gamma), ``"multi-hadron"``, each already
    multiplied by 1 - w (w the perturbative blending weight), ``"perturbative"`` (times w),
    ``"narrow"`` (J/psi, psi(2S), Upsilon(1S-3S)) and ``"threshold resonances"``
    (psi(3770), Upsilon(4S)). ``params`` overrides the tuned couplings (for studies/fits).
    """
    e = _as_energy(sqrt_s)
    parts = {key: np.zeros(e.size) for key in COMPONENTS}
    _evaluate(e.ravel(), params, parts)
    return {key: val.reshape(e.shape) for key, val in parts.items()}


#: Step [GeV] and upper end of the interpolation table used by :func:`r_hadrons`.
TABLE_STEP: float = 1e-4
TABLE_MAX: float = 11.0


@functools.cache
def _smooth_table() -> tuple[FloatArray, FloatArray]:
    """R without the narrow quarkonia on a uniform grid R_THRESHOLD + TABLE_STEP * i
    (values and forward differences), computed once from the component formulas."""
    n = int(np.ceil((TABLE_MAX - R_THRESHOLD) / TABLE_STEP)) + 1
    grid = R_THRESHOLD + TABLE_STEP * np.arange(n)
    val = _evaluate(grid, PARAMS, None, narrow=False)
    val[0] = 0.0
    slope = np.append(np.diff(val), 0.0)
    return val, slope


def r_hadrons(sqrt_s: ArrayLike) -> FloatArray:
    """R(sqrt s) = sigma(e+e- -> hadrons) / sigma_point(e+e- -> mu+ mu-), Born level.

    Parameters
    ----------
    sqrt_s : array_like
        Centre-of-mass energy [GeV] (or the dark-photon mass), any shape, >= 0 and finite.

    Returns
    -------
    numpy.ndarray
        R as a float array of the shape of ``sqrt_s`` (0-d for a scalar); exactly 0 for
        sqrt_s <= 2 m_pi+ (:data:`R_THRESHOLD`), never NaN.

    Raises
    ------
    ValueError
        If ``sqrt_s`` contains negative, NaN or infinite values.

    Notes
    -----
    For speed the part without the narrow quarkonia (widths >= 4 MeV) is evaluated once on a
    0.1 MeV grid up to TABLE_MAX and linearly interpolated (relative deviation from the
    direct formulas of :func:`r_components` < 1e-3); J/psi, psi(2S) and Upsilon(1S-3S) are
    added analytically. See the module docstring for the components, inputs and range of
    validity (2 m_pi to ~11 GeV).
    """
    e = _as_energy(sqrt_s)
    flat = e.ravel()
    val, slope = _smooth_table()
    u = (flat - R_THRESHOLD) * (1.0 / TABLE_STEP)
    np.clip(u, 0.0, val.size - 1.0, out=u)
    i = u.astype(np.intp)
    u -= i
    out = np.take(val, i)
    out += u * np.take(slope, i)
    out += _narrow(flat * flat)
    out[flat <= R_THRESHOLD] = 0.0
    high = np.flatnonzero(flat > TABLE_MAX)
    if high.size:
        out[high] = _evaluate(flat[high], PARAMS, None)
    return out.reshape(e.shape)


def binned_comparison(
    sqrt_s: ArrayLike,
    r_measured: ArrayLike,
    lo: float = 0.3,
    hi: float = 2.0,
    width: float = 0.05,
) -> list[dict[str, float]]:
    """Compare measured R points with :func:`r_hadrons` in bins of ``width`` GeV.

    In each bin [lo + k width, lo + (k + 1) width) the mean of the measured values is compared
    with the mean of r_hadrons evaluated at the same energies (so an uneven sampling of a
    peak affects both alike). Empty bins are skipped. Returns one dict per bin with keys
    ``lo``, ``hi``, ``centre``, ``n``, ``data``, ``model``, ``ratio`` (model / data).
    """
    x = np.asarray(sqrt_s, dtype=float).ravel()
    y = np.asarray(r_measured, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError("sqrt_s and r_measured must have the same number of points")
    keep = (x >= lo) & (x < hi)
    x, y = x[keep], y[keep]
    model = r_hadrons(x)
    k = np.floor(np.round((x - lo) / width, 9)).astype(int)
    rows = []
    for b in np.unique(k):  # loop over bins (tens), not over points
        sel = k == b
        data, mod = float(np.mean(y[sel])), float(np.mean(model[sel]))
        rows.append(
            {
                "lo": lo + b * width,
                "hi": lo + (b + 1) * width,
                "centre": lo + (b + 0.5) * width,
                "n": int(np.sum(sel)),
                "data": data,
                "model": mod,
                "ratio": mod / data if data > 0 else float("inf"),
            }
        )
    return rows
