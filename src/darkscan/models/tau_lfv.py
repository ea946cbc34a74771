"""Invisible boson alpha of the lepton-flavour-violating decay tau -> l alpha (l = e, mu).

The search (Belle II, PRL 130, 181803 (2023), 62.8 fb^-1) looks for a two-body peak in the
normalised lepton energy x_l = 2 E_l / m_tau of the signal tau in its (pseudo-)rest frame, on
top of the three-body spectrum of tau -> l nu nu. It quotes, per lepton flavour and alpha mass,
the ratio

    br_ratio_l = B(tau -> l alpha) / B(tau -> l nu nu)

and that ratio is the "coupling" of this model (``br_ratio_e``, ``br_ratio_mu``; both default
0, dimensionless). No Lagrangian is assumed: alpha may be an ALP, a scalar or a vector with
flavour-violating couplings, and it is stable or decays into invisible dark states.

The mediator alpha itself is therefore *stable and invisible by construction*:

* channels ``("invisible",)``; total width 0; c tau = inf;
* ``branching_fractions`` returns BR(invisible) = 1 exactly (overriding the base convention
  that a zero-width particle has BR 0 in every channel).

Extra verbs (tau rest frame; the daughter lepton mass is kept):

* :meth:`TauLFVAlpha.tau_branching_fraction`: B(tau -> l alpha) = br_ratio_l * B(tau -> l nu nu)
  with the PDG averages B(tau -> e nu nu) = 0.1782 and B(tau -> mu nu nu) = 0.1739; exactly 0
  where the decay is closed (m_alpha >= m_tau - m_l);
* :meth:`TauLFVAlpha.tau_partial_width`: that branching fraction times Gamma_tau = hbar / tau_tau;
* :meth:`TauLFVAlpha.lepton_energy_tau_frame`: E_l = (m_tau^2 + m_l^2 - m_alpha^2) / (2 m_tau);
* :meth:`TauLFVAlpha.lepton_momentum_tau_frame`: p_l = sqrt(E_l^2 - m_l^2)
  (= m_tau / 2 lambda^(1/2)(1, m_l^2/m_tau^2, m_alpha^2/m_tau^2));
* :meth:`TauLFVAlpha.x_lepton`: x_l = 2 E_l / m_tau. For a massless alpha,
  E_l = m_tau / 2 (1 + m_l^2 / m_tau^2) and x_l = 1 + m_l^2 / m_tau^2.

Out-of-range rule for the kinematics: a mass m_alpha > m_tau - m_l (decay closed) raises
ValueError naming the limit; at m_alpha = m_tau - m_l exactly the lepton is at rest (p_l = 0).
The rate verbs instead return exactly 0 for closed masses, so scans may cross the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from darkscan.models.base import INVISIBLE, Array, Coupling, Model, as_float_array
from darkscan.physics.constants import HBAR_GEV_S, LEPTON_MASSES, M_TAU, TAU_TAU_S
from darkscan.physics.kinematics import two_body_momentum

#: PDG averages of the SM leptonic tau branching fractions B(tau -> l nu nu).
TAU_BR_LNUNU: dict[str, float] = {"e": 0.1782, "mu": 0.1739}
#: Daughter leptons of tau -> l alpha and their coupling names.
LEPTONS: tuple[str, ...] = ("e", "mu")
_COUPLING_OF = {"e": "br_ratio_e", "mu": "br_ratio_mu"}


def _check_lepton(lepton: str) -> str:
    if lepton not in LEPTONS:
        raise ValueError(f"unknown lepton '{lepton}' for tau -> l alpha; valid: {list(LEPTONS)}")
    return lepton


def alpha_mass_limit(lepton: str) -> float:
    """Largest alpha mass [GeV] for which tau -> l alpha is open: m_tau - m_l."""
    return M_TAU - LEPTON_MASSES[_check_lepton(lepton)]


@dataclass(frozen=True)
class TauLFVAlpha(Model):
    """Invisible boson alpha from tau -> l alpha; rates given as ratios to B(tau -> l nu nu)."""

    name: ClassVar[str] = "tau-lfv-alpha"
    mediator: ClassVar[str] = "alpha"
    summary: ClassVar[str] = (
        "invisible boson of tau -> l alpha (LFV); couplings are B(tau -> l alpha)/B(tau -> l nu nu)"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("br_ratio_e", "B(tau -> e alpha) / B(tau -> e nu nu)", "1", default=0.0),
        Coupling("br_ratio_mu", "B(tau -> mu alpha) / B(tau -> mu nu nu)", "1", default=0.0),
    )
    channels: ClassVar[tuple[str, ...]] = (INVISIBLE,)

    # ------------------------------------------------------------------ the stable alpha
    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        return {INVISIBLE: np.zeros_like(mass)}

    def branching_fractions(self, mass: ArrayLike, **couplings: ArrayLike) -> dict[str, Array]:
        """BR(invisible) = 1 everywhere: alpha is stable and invisible by construction."""
        m, _ = self._prepare(mass, couplings)
        return {INVISIBLE: np.ones_like(m)}

    # ------------------------------------------------------------------ tau decay rates
    def tau_branching_fraction(self, lepton: str, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """B(tau -> l alpha) = br_ratio_l * B(tau -> l nu nu); exactly 0 for a closed decay
        (m_alpha >= m_tau - m_l). ``mass`` = m_alpha [GeV]."""
        _check_lepton(lepton)
        m, c = self._prepare(mass, couplings)
        ratio = c[_COUPLING_OF[lepton]]
        is_open = m < alpha_mass_limit(lepton)
        return np.where(is_open, ratio * TAU_BR_LNUNU[lepton], 0.0)

    def tau_partial_width(self, lepton: str, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Gamma(tau -> l alpha) [GeV] = B(tau -> l alpha) hbar / tau_tau (PDG tau lifetime)."""
        return self.tau_branching_fraction(lepton, mass, **couplings) * HBAR_GEV_S / TAU_TAU_S

    # ------------------------------------------------------------------ two-body kinematics
    @staticmethod
    def _open_mass(lepton: str, mass: ArrayLike) -> Array:
        limit = alpha_mass_limit(lepton)
        m = as_float_array(mass, "mass")
        if np.any(m > limit):
            raise ValueError(
                f"tau -> {lepton} alpha is closed for mass > m_tau - m_{lepton} = {limit:.6g} GeV; "
                f"got {m[m > limit].ravel()[:3].tolist()}"
            )
        return m

    def lepton_energy_tau_frame(self, lepton: str, mass: ArrayLike) -> Array:
        """Lepton energy [GeV] in the tau rest frame: (m_tau^2 + m_l^2 - m_alpha^2) / (2 m_tau)."""
        m = self._open_mass(lepton, mass)
        m_l = LEPTON_MASSES[lepton]
        return (M_TAU**2 + m_l**2 - np.square(m)) / (2.0 * M_TAU)

    def lepton_momentum_tau_frame(self, lepton: str, mass: ArrayLike) -> Array:
        """Lepton momentum [GeV] in the tau rest frame (0 exactly at m_alpha = m_tau - m_l)."""
        m = self._open_mass(lepton, mass)
        return two_body_momentum(M_TAU, LEPTON_MASSES[lepton], m)

    def x_lepton(self, lepton: str, mass: ArrayLike) -> Array:
        """Normalised lepton energy x_l = 2 E_l / m_tau of the two-body signal peak."""
        return 2.0 * self.lepton_energy_tau_frame(lepton, mass) / M_TAU
