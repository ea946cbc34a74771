"""Dark photon A' from kinetic mixing, optionally decaying to Dirac dark matter chi.

Lagrangian (mass basis, to first order in eps)::

    L = - 1/4 F'_{mu nu} F'^{mu nu} + 1/2 m^2 A'_mu A'^mu
        + eps e J^mu_em A'_mu + g_D chibar gamma^mu chi A'_mu,   alpha_D = g_D^2 / (4 pi)

so A' couples to every charged SM fermion f with eps e Q_f.

Widths (r_x = m_x^2 / m^2, beta_x = sqrt(1 - 4 r_x)):

* Gamma(A' -> l+ l-) = (alpha eps^2 m / 3) (1 + 2 r_l) beta_l
* Gamma(A' -> hadrons) = (alpha eps^2 m / 3) R(m), with R = sigma(e+e- -> hadrons) /
  sigma_point(e+e- -> mu+ mu-) from :mod:`darkscan.physics.r_ratio` (darkscan's own
  parametrisation: rho, omega, phi, excited rho / omega / phi, perturbative continuum with
  charm threshold, J/psi and psi(2S)).
* Gamma(A' -> chi chibar) = (alpha_D m / 3) (1 + 2 r_chi) beta_chi, reported as ``invisible``.

The dark-matter mass is a fixed parameter, either absolute (``m_chi`` [GeV]) or as a fraction
of the A' mass (``chi_mass_ratio``; the usual benchmark is m_A' = 3 m_chi with alpha_D = 0.5).
With neither set, A' has no dark decays (the *visible* dark photon).

Production e+e- -> gamma A' (tree level, massless electrons, z = cos theta*_gamma, r = m^2/s)::

    d sigma / dz = (2 pi alpha^2 eps^2 / s) (1 - r) [(1 + z^2) + 4 r / (1 - r)^2] / (1 - z^2)

integrated in closed form: the antiderivative of [(1 + z^2) + k] / (1 - z^2) is
-z + (2 + k) artanh(z). The total cross section diverges logarithmically as |z| -> 1,
so an angular range is always needed in practice (the photon must be seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from darkscan.models.base import INVISIBLE, Array, Coupling, Model, Production
from darkscan.physics.constants import ALPHA_EM, M_ELECTRON, M_MUON, M_TAU
from darkscan.physics.r_ratio import r_hadrons
from darkscan.physics.widths import width_vector_to_fermions


@dataclass(frozen=True)
class DarkPhoton(Model):
    """Dark photon A' (kinetic mixing eps), optionally with Dirac dark matter chi."""

    m_chi: float | None = None
    chi_mass_ratio: float | None = None

    name: ClassVar[str] = "dark-photon"
    mediator: ClassVar[str] = "A'"
    summary: ClassVar[str] = (
        "kinetically mixed dark photon, L = eps e J_em.A' + g_D chibar gamma chi A'"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("eps", "kinetic mixing with the photon", "1"),
        Coupling(
            "alpha_d",
            "dark coupling g_D^2/(4 pi) to chi (used with a dark-matter mass)",
            "1",
            default=0.5,
        ),
    )
    channels: ClassVar[tuple[str, ...]] = ("e+e-", "mu+mu-", "tau+tau-", "hadrons", INVISIBLE)
    productions: ClassVar[tuple[Production, ...]] = (
        Production("e+e- -> gamma A'", "single photon plus A' (mono-photon if A' is invisible)"),
    )

    def __post_init__(self) -> None:
        if self.m_chi is not None and self.chi_mass_ratio is not None:
            raise ValueError("give either m_chi or chi_mass_ratio, not both")
        for label in ("m_chi", "chi_mass_ratio"):
            value = getattr(self, label)
            if value is not None and (not np.isfinite(value) or value < 0):
                raise ValueError(f"{label} must be finite and >= 0, got {value}")

    @property
    def has_dark_matter(self) -> bool:
        return self.m_chi is not None or self.chi_mass_ratio is not None

    def chi_mass(self, mass: Array) -> Array:
        """Dark-matter mass [GeV] for A' mass ``mass`` (inf without dark matter)."""
        if self.m_chi is not None:
            return np.full_like(mass, self.m_chi)
        if self.chi_mass_ratio is not None:
            return self.chi_mass_ratio * mass
        return np.full_like(mass, np.inf)

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        a_eps = ALPHA_EM * np.square(c["eps"])
        widths = {
            "e+e-": width_vector_to_fermions(mass, a_eps, M_ELECTRON),
            "mu+mu-": width_vector_to_fermions(mass, a_eps, M_MUON),
            "tau+tau-": width_vector_to_fermions(mass, a_eps, M_TAU),
            "hadrons": a_eps * mass / 3.0 * r_hadrons(mass),
        }
        if self.has_dark_matter:
            m_chi = self.chi_mass(mass)
            widths[INVISIBLE] = width_vector_to_fermions(mass, c["alpha_d"], m_chi)
        else:
            widths[INVISIBLE] = np.zeros_like(mass)
        return widths

    # -- e+e- -> gamma A'
    def _dsigma_dz(self, process, s, mass, c, z):
        r = mass * mass / s
        pref = 2.0 * np.pi * ALPHA_EM**2 * np.square(c["eps"]) / s * (1.0 - r)
        return pref * ((1.0 + z * z) + 4.0 * r / np.square(1.0 - r)) / (1.0 - z * z)

    def _sigma_z_range(self, process, s, mass, c, z_lo, z_hi):
        r = mass * mass / s
        k = 4.0 * r / np.square(1.0 - r)
        pref = 2.0 * np.pi * ALPHA_EM**2 * np.square(c["eps"]) / s * (1.0 - r)

        def antiderivative(z):
            return -z + (2.0 + k) * np.arctanh(z)

        return pref * (antiderivative(z_hi) - antiderivative(z_lo))
