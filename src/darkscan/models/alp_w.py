r"""Axion-like particle a coupled to the SU(2)_L field strength (the "W-philic" ALP).

Lagrangian (W~^{a mu nu} = 1/2 eps^{mu nu rho sigma} W^a_{rho sigma})::

    L = 1/2 (d a)^2 - 1/2 m^2 a^2 - (g_aW / 4) a W^a_{mu nu} W~^{a mu nu},   g_aW in GeV^-1.

After electroweak symmetry breaking W^3 = s_W A + c_W Z, so the photon coupling is
g_agg = g_aW sin^2(theta_W) (plus a Z gamma and ZZ coupling). Below m_Z the ALP decays to two
photons only::

    Gamma(a -> gamma gamma) = g_aW^2 sin^4(theta_W) m^3 / (64 pi)

(the seed slide writes m_a^2, a typo: a width needs GeV^-2 x GeV^3). The model is meant for
m < m_Z (Z gamma, WW, ZZ decays are not included); sin^2(theta_W) is a fixed parameter,
MS-bar at m_Z by default.

Production e+e- -> gamma a: photon exchange only, i.e. :mod:`darkscan.models.alp_photon` with
g_agg = g_aW s_W^2. The Z-exchange amplitude (a Z gamma coupling g_aW 2 s_W c_W, Z propagator
s / (s - m_Z^2) ~ -0.013 at 10.58 GeV, electron vector coupling 1 - 4 s_W^2 ~ 0.08) changes the
rate by well below a per cent at the B factories and is neglected.

B -> K(*) a: derivation and convention
--------------------------------------
The W-top loop induces at one loop (Izaguirre, Lin, Shuve, PRL 118, 111802 (2017)) the
flavour-changing *derivative* operator::

    L_eff = - g_sb (d_mu a) sbar gamma^mu P_L b + h.c.,   P_L = (1 - gamma5) / 2,
    g_sb  = - 3 sqrt(2) G_F m_W^2 g_aW / (16 pi^2) sum_{q = c, t} V_qb V_qs^* f(m_q^2 / m_W^2),
    f(x)  = x [1 - x + x ln x] / (1 - x)^2      (f(1) = 1/2; f(x) ~ x for x -> 0;
                                                   f(x_t = 4.61) = 1.216),

g_sb in GeV^-1 (G_F m_W^2 is dimensionless, so g_sb carries the GeV^-1 of g_aW and multiplies
a dimension-5 operator). CKM unitarity with the u-quark term dropped (a 2 % term multiplying
f(x_u) - f(x_c) ~ 1e-4) gives sum_q V_qb V_qs^* f(x_q) = V_tb V_ts^* [f(x_t) - f(x_c)]; the
top mass is the pole mass.

Hadronic matrix elements. Only the vector current of gamma^mu P_L = (gamma^mu - gamma^mu gamma5)
/ 2 contributes to B -> K (parity) and only the axial one to B -> K*, each with a factor 1/2
from the projector; contracting with the ALP momentum q = p_B - p_K::

    q_mu <K|sbar gamma^mu b|B>            = (m_B^2 - m_K^2) f0(q^2)
    q_mu <K*|sbar gamma^mu gamma5 b|B>    = 2 m_K* (eps*.q) A0(q^2)       (up to a phase)

Equivalently, by the equations of motion the operator equals i a (m_b - m_s) x (1/2) sbar b for
B -> K, and <K|sbar b|B> = (m_B^2 - m_K^2) / (m_b - m_s) f0 makes the quark masses cancel
exactly. With sum_pol |eps*.q|^2 = lambda / (4 m_K*^2) the amplitudes are

    |A_K|^2  = (g_sb / 2)^2 (m_B^2 - m_K^2)^2 f0(m^2)^2,
    |A_K*|^2 = (g_sb / 2)^2 A0(m^2)^2        (the lambda of the sum over polarisations moved out)

    Gamma(B -> K a)  = |A_K|^2  lambda^(1/2)(m_B^2, m_K^2, m^2)  / (16 pi m_B^3)
    Gamma(B -> K* a) = |A_K*|^2 lambda^(3/2)(m_B^2, m_K*^2, m^2) / (16 pi m_B^3)

i.e. Gamma(B -> K a) = m_B^3 |g_sb|^2 / (64 pi) (1 - m_K^2/m_B^2)^2 f0^2 lambda_norm^(1/2), the
form written by ILS. Form factors: light-cone sum rules, Ball & Zwicky, PRD 71, 014015 and
014029 (2005):
f0(q^2) = 0.330 / (1 - q^2 / 37.46 GeV^2) and
A0(q^2) = 1.364 / (1 - q^2 / 27.88 GeV^2) - 0.990 / (1 - q^2 / 36.78 GeV^2).

Numbers (PDG masses, tau_B+ = 1.637 ps): g_sb = 1.020e-4 g_aW and
BR(B+ -> K+ a) = 2.04e3 GeV^2 x g_aW^2 at m = 1 GeV (BR(B0 -> K*0 a) = 2.24e3 GeV^2 x g_aW^2).
Public codes differ in this normalisation by up to a factor ~12; dropping the 1/2 of the chiral
projector alone gives a factor 4, and writing the operator as m_b a sbar P_R b (m_s dropped) a
factor (m_b / (m_b - m_s))^2 = 1.05. This module's convention is the one written above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from darkscan.models.alp_photon import (
    ALP_STRAHLUNG,
    dsigma_dz_alp_strahlung,
    sigma_alp_strahlung,
    width_alp_to_photons,
)
from darkscan.models.base import Array, Coupling, Model, Production, as_float_array
from darkscan.physics.constants import (
    G_FERMI,
    M_B_CHARGED,
    M_B_ZERO,
    M_CHARM,
    M_K_CHARGED,
    M_K_STAR_ZERO,
    M_TOP,
    M_W,
    SIN2_THETA_W,
    V_TB,
    V_TS,
)
from darkscan.physics.form_factors import a0_b_to_kstar, f0_b_to_k
from darkscan.physics.kinematics import lambda_sqrt_norm

B_TO_K = "B+ -> K+ a"
B_TO_KSTAR = "B0 -> K*0 a"


def loop_function_w(x: ArrayLike) -> Array:
    """f(x) = x [1 - x + x ln x] / (1 - x)^2 of the W-quark loop (f(1) = 1/2, f(0) = 0)."""
    x = np.asarray(x, dtype=float)
    d = x - 1.0
    near_one = np.abs(d) < 1e-4
    d_safe = np.where(near_one, 1.0, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = x * (1.0 - x + x * np.log(np.where(x > 0, x, 1.0))) / np.square(d_safe)
    # Expansion around x = 1: x (1/2 - d/6 + d^2/12) (1 - x + x ln x = d^2/2 - d^3/6 + d^4/12 ...).
    series = x * (0.5 - d / 6.0 + d * d / 12.0)
    return np.where(near_one, series, np.where(x > 0, exact, 0.0))


def b_to_s_coupling(g_aw: ArrayLike) -> Array:
    """|g_sb| [GeV^-1] of L = -g_sb (d a) sbar gamma P_L b induced by g_aW [GeV^-1] (one loop).

    |g_sb| = 3 sqrt(2) G_F m_W^2 / (16 pi^2) |V_tb V_ts| [f(x_t) - f(x_c)] g_aW.
    """
    x_t = (M_TOP / M_W) ** 2
    x_c = (M_CHARM / M_W) ** 2
    loop = float(loop_function_w(x_t) - loop_function_w(x_c))
    pref = 3.0 * np.sqrt(2.0) * G_FERMI * M_W**2 / (16.0 * np.pi**2) * V_TB * V_TS * loop
    return pref * np.asarray(g_aw, dtype=float)


def _width_b_to_k_a(g_sb: Array, mass: Array, m_b: float, m_k: float, vector: bool) -> Array:
    """Gamma(B -> K(*) a) [GeV] for the derivative operator of g_sb; 0 where closed."""
    lam_sqrt = m_b**2 * lambda_sqrt_norm(m_b, m_k, mass)  # lambda^(1/2)(m_B^2, m_K^2, m^2)
    is_open = lam_sqrt > 0
    q2 = np.where(is_open, np.square(mass), 0.0)  # keep the form-factor poles out of reach
    if vector:
        amp2 = np.square(0.5 * g_sb * (m_b**2 - m_k**2) * f0_b_to_k(q2))
        phase_space = lam_sqrt
    else:
        amp2 = np.square(0.5 * g_sb * a0_b_to_kstar(q2))
        phase_space = lam_sqrt**3
    return np.where(is_open, amp2 * phase_space / (16.0 * np.pi * m_b**3), 0.0)


@dataclass(frozen=True)
class WALP(Model):
    """ALP coupled to SU(2)_L gauge bosons: L = -(g_aW/4) a W W~, g_aW in GeV^-1 (m < m_Z)."""

    #: sin^2(theta_W) used for g_agg = g_aW sin^2(theta_W) (MS-bar at m_Z by default).
    sin2_theta_w: float = SIN2_THETA_W

    name: ClassVar[str] = "alp-w"
    mediator: ClassVar[str] = "a"
    summary: ClassVar[str] = (
        "axion-like particle coupled to W bosons, L = -(g_aW/4) a W Wtilde [g_aW in GeV^-1]; "
        "a -> gamma gamma with g_agg = g_aW sin^2 theta_W"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("g_aW", "ALP-SU(2)_L coupling, L = -(g_aW/4) a W^a Wtilde^a", "GeV^-1"),
    )
    channels: ClassVar[tuple[str, ...]] = ("gamma gamma",)
    productions: ClassVar[tuple[Production, ...]] = (
        Production(
            ALP_STRAHLUNG,
            "ALP-strahlung through an s-channel photon with g_agg = g_aW sin^2 theta_W "
            "(Z exchange neglected)",
        ),
    )
    b_decay_modes: ClassVar[tuple[str, ...]] = (B_TO_K, B_TO_KSTAR)

    def __post_init__(self) -> None:
        s2 = self.sin2_theta_w
        if not np.isfinite(s2) or not 0.0 < s2 < 1.0:
            raise ValueError(f"sin2_theta_w must lie in (0, 1), got {s2}")

    def g_agg_effective(self, g_aw: ArrayLike) -> Array:
        """Photon coupling g_agg = g_aW sin^2(theta_W) [GeV^-1]."""
        return as_float_array(g_aw, "g_aW") * self.sin2_theta_w

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        return {"gamma gamma": width_alp_to_photons(mass, c["g_aW"] * self.sin2_theta_w)}

    def _dsigma_dz(self, process, s, mass, c, z):
        return dsigma_dz_alp_strahlung(s, mass, c["g_aW"] * self.sin2_theta_w, z)

    def _sigma_z_range(self, process, s, mass, c, z_lo, z_hi):
        return sigma_alp_strahlung(s, mass, c["g_aW"] * self.sin2_theta_w, z_lo, z_hi)

    def _b_decay_width(self, mode: str, mass: Array, c: dict[str, Array]) -> Array:
        g_sb = b_to_s_coupling(c["g_aW"])
        if mode == B_TO_K:
            return _width_b_to_k_a(g_sb, mass, M_B_CHARGED, M_K_CHARGED, vector=True)
        return _width_b_to_k_a(g_sb, mass, M_B_ZERO, M_K_STAR_ZERO, vector=False)
