"""Inelastic dark matter (iDM): the excited state chi2, decaying as chi2 -> chi1 A'* -> chi1 f fbar.

Model: a Dirac fermion of dark charge 1 under a broken U(1)_D (gauge coupling g_D,
alpha_D = g_D^2 / (4 pi)) whose small Majorana masses split it into two Majorana states
chi1 (stable, the relic) and chi2, m_chi2 = m_chi1 + Delta. The vector current becomes purely
off-diagonal, g_D psibar gamma^mu psi = i g_D chibar_1 gamma^mu chi_2, and the dark photon
(kinetic mixing eps, mass m_A') couples to the SM as eps e J_em. In the limit Delta -> 0 the
chi1 <-> chi2 transition is the charge (gamma^0, "Fermi") transition of the Dirac fermion, which
fixes the sign of the m_chi1 m_chi2 term below.

Which particle the verbs describe
---------------------------------
``mass`` = m_chi2 [GeV], the long-lived state whose decay chi2 -> chi1 e+e- gives the
non-pointing displaced vertex of the Belle II search (arXiv:2505.09705). Broadcast parameters,
passed like couplings:

* ``delta``: *fractional* splitting (m_chi2 - m_chi1) / m_chi1 (dimensionless, >= 0), so that
  m_chi1 = m_chi2 / (1 + delta) and the absolute splitting is Delta = m_chi2 delta / (1 + delta);
* ``m_aprime`` [GeV] (> 0): the dark-photon mass (a broadcast mass parameter);
* ``eps``: kinetic mixing; ``alpha_d``: dark coupling g_D^2 / (4 pi).

Channels: ``chi1 e+e-``, ``chi1 mu+mu-``, ``chi1 tau+tau-``, ``chi1 hadrons`` (A'* -> hadrons
through R(mu) of :mod:`darkscan.physics.r_ratio`; below ~1 GeV mostly pi+ pi-) and ``chi1 A'``:
the two-body decay into an on-shell A' (Delta > m_A') that has no open decay itself (eps = 0,
or m_A' < 2 m_e with A' -> 3 gamma neglected), i.e. invisible. An on-shell A' that does decay
is contained in the f fbar channels through its Breit-Wigner. Neglected:
chi2 -> chi1 gamma (loop dipole) and chi2 -> chi1 nu nubar (through A'-Z mixing, suppressed by
m_A'^4 / m_Z^4).

Width (exact three-body, numerical). With M2 = m_chi2, M1 = m_chi1, D = M2 - M1 and mu the
e+e- (f fbar) invariant mass, the decay factorises through the conserved lepton current::

    Gamma_f = (alpha eps^2 / (3 pi)) int_0^(D^2) ds mu^2 Gamma_2(mu) R_f(mu)
              / ((s - m_A'^2)^2 + m_A'^2 Gamma_A'^2),          s = mu^2,
    Gamma_2(mu) = Gamma(chi2 -> chi1 V(mu)) at g = g_D
                = (alpha_D p / (2 M2^2 mu^2)) (D^2 - mu^2) (4 M1 M2 + D^2 + 2 mu^2),
    p = sqrt((D^2 - mu^2)(S^2 - mu^2)) / (2 M2),  S = M1 + M2,

(the bracket (M2^2 - M1^2)^2/mu^2 + M1^2 + M2^2 - 6 M1 M2 - 2 mu^2 of the spin sum, factorised
so that no cancellation occurs at small splitting), with R_f(mu) = (1 + 2 r_f) beta_f for
leptons (electron mass kept) and the full A' propagator. Gamma_A' = Gamma(A' -> SM) +
Gamma(A' -> chi1 chi2), the latter (alpha_D m_A'/3) lambda^(1/2)(1, r1, r2)
[1 - (r1 + r2)/2 - (r1 - r2)^2/2 + 3 sqrt(r1 r2)] when open. The integral uses
:func:`darkscan.models.dark_higgs.offshell_dark_photon_integral` (fixed node grids,
vectorised). Every width is proportional to eps^2 alpha_D as long as the A' is off shell
(Delta < m_A'); for Delta > m_A' the A' is produced on shell and the channels carry
Gamma(chi2 -> chi1 A') BR(A' -> f) (eps-independent for eps > 0), or ``chi1 A'`` carries the
whole Gamma(chi2 -> chi1 A') when the A' cannot decay (eps = 0 or m_A' < 2 m_e).

Small-splitting limit (Delta << m_chi, m_A'; Delta >> m_e), checked in the tests::

    Gamma(chi2 -> chi1 e+e-) = 4 eps^2 alpha alpha_D Delta^5 / (15 pi m_A'^4)

with the absolute splitting Delta. It is the vector ("Fermi") beta-decay rate
G^2 Delta^5 / (60 pi^3) with G = eps e g_D / m_A'^2: the form quoted in the iDM literature
(e.g. Izaguirre, Krnjaic, Shuve, PRD 93, 063523 (2016)), re-derived here from the Delta -> 0
limit of Gamma_2 above.
The exact width approaches it as 1 - (3/2) Delta / m_chi2 + O(Delta^2 / m_A'^2, m_e^2 / Delta^2)
and agrees with a direct Dalitz-plot integration of the full |M|^2 to ~1e-4 (tests).

Dark Higgs of the Belle II model
--------------------------------
The Belle II search e+e- -> h' A'* -> h' chi1 chi2 has 7 parameters: 4 masses (m_chi1,
m_chi2, m_A', m_h'), alpha_D, eps and the Higgs mixing angle theta of h'. The first six enter
the verbs above; :meth:`InelasticDM.dark_higgs_widths` gives the h' -> x+x- widths (theta
mixing, those of :class:`darkscan.models.dark_scalar.DarkScalar`), valid for h' lighter than
m_A' and 2 m_chi1 as in that search (otherwise see :class:`darkscan.models.dark_higgs.DarkHiggs`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from darkscan.models.base import Array, Coupling, Model
from darkscan.models.dark_higgs import (
    SPECTRAL_CHANNELS,
    dark_photon_visible_width,
    offshell_dark_photon_integral,
)
from darkscan.models.dark_scalar import DarkScalar
from darkscan.physics.constants import ALPHA_EM
from darkscan.physics.kinematics import lambda_sqrt_norm, safe_divide

#: chi2 -> chi1 f fbar channels and the A'* final state each one integrates.
_SPECTRAL_OF = {f"chi1 {ch}": ch for ch in SPECTRAL_CHANNELS}
#: chi2 -> chi1 A' with an on-shell A' that has no open decay (invisible).
CHI1_APRIME = "chi1 A'"

_MIXING = DarkScalar()


def width_aprime_to_chi1_chi2(
    m_a: ArrayLike, m1: ArrayLike, m2: ArrayLike, alpha_d: ArrayLike
) -> Array:
    """Gamma(A' -> chi1 chi2) [GeV] for the off-diagonal vector coupling g_D (0 when closed):
    (alpha_D m_A / 3) lambda^(1/2)(1, r1, r2) [1 - (r1 + r2)/2 - (r1 - r2)^2/2 + 3 sqrt(r1 r2)],
    r_i = m_i^2 / m_A^2; the Dirac (alpha_D m/3)(1 + 2r) beta for m1 = m2."""
    m_a = np.asarray(m_a, dtype=float)
    r1 = safe_divide(np.square(m1), np.square(m_a))
    r2 = safe_divide(np.square(m2), np.square(m_a))
    bracket = 1.0 - 0.5 * (r1 + r2) - 0.5 * np.square(r1 - r2) + 3.0 * np.sqrt(r1 * r2)
    return np.asarray(alpha_d) * m_a / 3.0 * lambda_sqrt_norm(m_a, m1, m2) * bracket


def mu2_width_chi2_to_chi1_vector(
    m2: ArrayLike, m1: ArrayLike, splitting: ArrayLike, alpha_d: ArrayLike, mu: ArrayLike
) -> Array:
    """mu^2 Gamma(chi2 -> chi1 V) [GeV^3] for a vector V of mass mu coupled with g_D:
    alpha_D p (D^2 - mu^2)(4 m1 m2 + D^2 + 2 mu^2) / (2 m2^2), p = sqrt((D^2 - mu^2)
    ((m1 + m2)^2 - mu^2)) / (2 m2), D = ``splitting`` = m2 - m1 (passed to avoid cancellation);
    0 for mu >= D. Finite at mu = 0 (the longitudinal 1/mu^2 is cancelled)."""
    m2, m1, d, mu = (np.asarray(x, dtype=float) for x in (m2, m1, splitting, mu))
    mu2 = mu * mu
    d2 = np.clip(d * d - mu2, 0.0, None)
    p = np.sqrt(d2 * np.clip(np.square(m1 + m2) - mu2, 0.0, None)) / (2.0 * m2)
    return np.asarray(alpha_d) * p * d2 * (4.0 * m1 * m2 + d * d + 2.0 * mu2) / (2.0 * m2 * m2)


def small_splitting_width(
    splitting: ArrayLike, m_a: ArrayLike, eps: ArrayLike, alpha_d: ArrayLike
) -> Array:
    """Closed-form limit Gamma(chi2 -> chi1 e+e-) = 4 eps^2 alpha alpha_D Delta^5/(15 pi m_A^4)
    [GeV], absolute splitting Delta [GeV] (valid for m_e << Delta << m_chi, m_A')."""
    return (
        4.0
        * np.square(eps)
        * ALPHA_EM
        * np.asarray(alpha_d)
        * np.asarray(splitting, dtype=float) ** 5
        / (15.0 * np.pi * np.asarray(m_a, dtype=float) ** 4)
    )


@dataclass(frozen=True)
class InelasticDM(Model):
    """Excited inelastic-DM state chi2 (mass = m_chi2) decaying to chi1 + SM through A'*."""

    name: ClassVar[str] = "inelastic-dm"
    mediator: ClassVar[str] = "chi2"
    summary: ClassVar[str] = (
        "inelastic DM: Majorana chi1, chi2 = chi1 (1 + delta), off-diagonal dark photon coupling "
        "i g_D chibar1 gamma chi2 A'; verbs describe chi2 -> chi1 f fbar"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("eps", "kinetic mixing of the dark photon with the photon", "1"),
        Coupling("alpha_d", "dark gauge coupling g_D^2 / (4 pi)", "1"),
        Coupling("m_aprime", "dark photon mass m_A' (broadcast mass parameter)", "GeV"),
        Coupling(
            "delta", "fractional splitting (m_chi2 - m_chi1) / m_chi1 (broadcast parameter)", "1"
        ),
    )
    channels: ClassVar[tuple[str, ...]] = (*_SPECTRAL_OF, CHI1_APRIME)

    # -- masses
    def chi_masses(self, mass: ArrayLike, **couplings: ArrayLike) -> tuple[Array, Array, Array]:
        """(m_chi1, m_chi2, Delta = m_chi2 - m_chi1) [GeV] for chi2 mass ``mass``."""
        m, c = self._prepare(mass, couplings)
        return self._masses(m, c["delta"])

    @staticmethod
    def _masses(m2: Array, delta: Array) -> tuple[Array, Array, Array]:
        return m2 / (1.0 + delta), m2, m2 * delta / (1.0 + delta)

    def aprime_width(self, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Total A' width [GeV] at m_A' used in the propagator: SM + chi1 chi2 (when open)."""
        m, c = self._prepare(mass, couplings)
        return self._aprime_width(m, c)

    def _aprime_width(self, mass: Array, c: dict[str, Array]) -> Array:
        m1, m2, _ = self._masses(mass, c["delta"])
        return dark_photon_visible_width(c["m_aprime"], c["eps"]) + width_aprime_to_chi1_chi2(
            c["m_aprime"], m1, m2, c["alpha_d"]
        )

    # -- chi2 widths
    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        m_a = c["m_aprime"]
        if np.any(m_a <= 0):
            raise ValueError("m_aprime must be > 0 for the inelastic-DM widths")
        m1, m2, split = self._masses(mass, c["delta"])
        m2 = np.where(m2 > 0, m2, 1.0)  # m_chi2 = 0: empty range, keep the kernel finite
        nodes = (x[..., None] for x in (m2, m1, split, c["alpha_d"]))
        kernel = functools.partial(mu2_width_chi2_to_chi1_vector, *nodes)
        # At eps = 0 the f fbar widths vanish; evaluate them at eps = 1 there (a finite A' width
        # even for an on-shell A') and zero them afterwards.
        eps2 = np.square(c["eps"])
        safe = dict(c, eps=np.where(eps2 > 0, c["eps"], 1.0))
        integrals = offshell_dark_photon_integral(
            kernel, split, m_a, self._aprime_width(mass, safe), tuple(_SPECTRAL_OF.values())
        )
        pref = ALPHA_EM * eps2 / (3.0 * np.pi)
        widths = {ch: pref * integrals[spec] for ch, spec in _SPECTRAL_OF.items()}
        # On-shell A' without any open decay (eps = 0, or m_A' < 2 m_e): chi2 -> chi1 A'.
        stable_on_shell = (split > m_a) & (self._aprime_width(mass, c) == 0)
        two_body = mu2_width_chi2_to_chi1_vector(m2, m1, split, c["alpha_d"], m_a) / m_a**2
        widths[CHI1_APRIME] = np.where(stable_on_shell, two_body, 0.0)
        return widths

    # -- the dark Higgs of the iDM + h' model
    def dark_higgs_widths(self, m_hprime: ArrayLike, theta: ArrayLike) -> dict[str, Array]:
        """Partial widths [GeV] of h' -> x+x- (and the other Higgs-mixing channels) for mass
        ``m_hprime`` [GeV] and mixing angle ``theta``: those of the dark scalar
        (:class:`~darkscan.models.dark_scalar.DarkScalar`), proportional to theta^2."""
        return _MIXING.partial_widths(m_hprime, theta=theta)


__all__ = [
    "CHI1_APRIME",
    "InelasticDM",
    "mu2_width_chi2_to_chi1_vector",
    "small_splitting_width",
    "width_aprime_to_chi1_chi2",
]
