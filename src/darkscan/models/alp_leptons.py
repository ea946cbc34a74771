"""Axion-like particle a with a universal (flavour-diagonal) coupling to charged leptons.

Lagrangian (derivative, shift-symmetric coupling; l = e, mu, tau)::

    L = 1/2 (d a)^2 - 1/2 m^2 a^2 + (c_ll / (2 f_a)) (d_mu a) sum_l lbar gamma^mu gamma5 l

with the coupling ``g_ll`` = c_ll / f_a in GeV^-1. Integrating by parts with the equations of
motion, d_mu(lbar gamma^mu gamma5 l) = 2 i m_l lbar gamma5 l + (anomaly), turns it into a
pseudoscalar Yukawa coupling -i (g_ll m_l) a lbar gamma5 l plus an a F F~ term (from the ABJ
anomaly, d_mu j5^mu contains -(alpha / 2 pi) F F~) that cancels the heavy-lepton limit of the
Yukawa loop.

Widths (beta_l = sqrt(1 - 4 m_l^2 / m^2); a pseudoscalar gives one power of beta)::

    Gamma(a -> l+ l-)      = g_ll^2 m_l^2 m beta_l / (8 pi)
    Gamma(a -> gamma gamma) = |g_agg,eff|^2 m^3 / (64 pi)
    g_agg,eff = (alpha / pi) g_ll sum_l B1(tau_l),   tau_l = 4 m_l^2 / m^2

normalised like L = -(g_agg/4) a F F~ (:mod:`darkscan.models.alp_photon`), the overall sign
dropped. The loop function (Bauer, Neubert, Thamm, JHEP 12 (2017) 044 convention)::

    B1(tau) = 1 - tau f(tau)^2,
    f(tau)  = arcsin(1 / sqrt(tau))                                       tau >= 1
            = pi/2 + (i/2) ln[(1 + sqrt(1 - tau)) / (1 - sqrt(1 - tau))]   tau < 1

is complex above the l+ l- threshold. Light leptons (m >> m_l): B1 -> 1, the anomaly value,
g_agg,eff -> (alpha/pi) g_ll per lepton. Heavy leptons (m << m_l) decouple:
B1 = -(1/(3 tau) + 8/(45 tau^2) + ...) = -m^2 / (12 m_l^2) + O(m^4/m_l^4). In the Feynman
parameter form tau f(tau)^2 = 2 int_0^1 dx int_0^(1-x) dy 1 / (1 - 4 x y / tau - i0).

No quark or hadronic couplings (those arise only at two loops and are neglected), no e+e-
production cross section in closed form: the photon coupling is a loop form factor that depends
on the photon virtualities (the on-shell g_agg,eff does not apply to e+e- -> gamma* -> gamma a),
and radiation off the leptons (e+e- -> l+ l- a) needs a three-body matrix element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.models.alp_photon import width_alp_to_photons
from darkscan.models.base import Array, Coupling, Model, as_float_array
from darkscan.physics.constants import ALPHA_EM, M_ELECTRON, M_MUON, M_TAU
from darkscan.physics.kinematics import beta_pair, safe_divide

#: Below this 1/tau the series of B1 replaces the closed form (cancellation in 1 - tau f^2).
_SERIES_BELOW = 1e-3


def b1_loop(tau: ArrayLike) -> NDArray[np.complex128]:
    """Fermion-loop function B1(tau) = 1 - tau f(tau)^2 of the a -> gamma gamma amplitude.

    ``tau`` = 4 m_f^2 / m_a^2 (inf for m_a = 0, giving 0). Complex for tau < 1.
    """
    tau = np.asarray(tau, dtype=float)
    if np.any(np.isnan(tau)) or np.any(tau < 0):
        raise ValueError("tau must be >= 0 (and not NaN)")
    u = safe_divide(1.0, tau, fill=np.inf)  # 1 / tau = m_a^2 / (4 m_f^2)
    above = tau < 1.0  # above the f fbar threshold
    # Heavy fermion: -(u/3 + 8u^2/45 + 4u^3/35 + 128u^4/1575) from the series of arcsin^2.
    small = u < _SERIES_BELOW
    us = np.where(small, u, 0.0)
    series = -us * (1.0 / 3.0 + us * (8.0 / 45.0 + us * (4.0 / 35.0 + us * 128.0 / 1575.0)))
    # tau >= 1: real f = arcsin(1 / sqrt(tau)).
    below = ~above & ~small
    tb = np.where(below, tau, 1.0)
    closed_below = 1.0 - tb * np.square(np.arcsin(1.0 / np.sqrt(tb)))
    # tau < 1: f = pi/2 + (i/2) L, s = sqrt(1 - tau),
    # L = ln[(1 + s)/(1 - s)] = 2 ln(1 + s) - ln(tau) (no cancellation for small tau).
    ta = np.where(above & (tau > 0), tau, 1.0)
    s = np.sqrt(1.0 - ta)
    big_l = 2.0 * np.log1p(s) - np.log(ta)
    f_above = 0.5 * np.pi + 0.5j * big_l
    closed_above = 1.0 - ta * np.square(f_above)
    out = np.where(small, series, np.where(below, closed_below, closed_above))
    # tau = 0 (massless fermion) is the anomaly value exactly.
    return np.where(tau == 0, 1.0 + 0.0j, out)


@dataclass(frozen=True)
class LeptonALP(Model):
    """ALP with a universal derivative coupling to charged leptons, g_ll = c_ll / f_a [GeV^-1]."""

    name: ClassVar[str] = "alp-leptons"
    mediator: ClassVar[str] = "a"
    summary: ClassVar[str] = (
        "axion-like particle coupled to leptons, L = (g_ll/2) d_mu a sum_l lbar gamma^mu "
        "gamma5 l [g_ll = c_ll/f_a in GeV^-1]; a -> gamma gamma through the lepton loop"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling(
            "g_ll",
            "universal ALP-lepton coupling c_ll/f_a, L = (g_ll/2) (d a) lbar gamma gamma5 l",
            "GeV^-1",
        ),
    )
    channels: ClassVar[tuple[str, ...]] = ("e+e-", "mu+mu-", "tau+tau-", "gamma gamma")

    #: Lepton masses [GeV] by decay channel.
    lepton_masses: ClassVar[dict[str, float]] = {
        "e+e-": M_ELECTRON,
        "mu+mu-": M_MUON,
        "tau+tau-": M_TAU,
    }

    def g_agg_effective(self, mass: ArrayLike, g_ll: ArrayLike) -> NDArray[np.complex128]:
        """Complex on-shell photon coupling (alpha/pi) g_ll sum_l B1(4 m_l^2/m^2) [GeV^-1]."""
        m = as_float_array(mass, "mass")
        g = as_float_array(g_ll, "g_ll")
        return self._g_agg_eff(*np.broadcast_arrays(m, g))

    def _g_agg_eff(self, mass: Array, g_ll: Array) -> NDArray[np.complex128]:
        m2 = np.square(mass)
        loop = sum(
            b1_loop(safe_divide(4.0 * m_l**2, m2, fill=np.inf))
            for m_l in self.lepton_masses.values()
        )
        return ALPHA_EM / np.pi * g_ll * loop

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        g2 = np.square(c["g_ll"])
        widths = {
            ch: g2 * m_l**2 * mass * beta_pair(mass, m_l) / (8.0 * np.pi)
            for ch, m_l in self.lepton_masses.items()
        }
        widths["gamma gamma"] = width_alp_to_photons(mass, np.abs(self._g_agg_eff(mass, c["g_ll"])))
        return widths
