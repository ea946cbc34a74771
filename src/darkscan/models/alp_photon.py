"""Axion-like particle a coupled to photons only (the "photophilic" ALP).

Lagrangian (F~^{mu nu} = 1/2 eps^{mu nu rho sigma} F_{rho sigma}, eps^{0123} = +1)::

    L = 1/2 (d a)^2 - 1/2 m^2 a^2 - (g_agg / 4) a F_{mu nu} F~^{mu nu}

with ``g_agg`` in GeV^-1 (g_agg = 4 e^2 C_gg / f_a in the C_gg a/f_a e^2 F F~ convention, up to
the sign). The Feynman rule of the a gamma(k1, mu) gamma(k2, nu) vertex is
g_agg eps^{mu nu rho sigma} k1_rho k2_sigma (up to a phase).

Width (the only channel)::

    Gamma(a -> gamma gamma) = g_agg^2 m^3 / (64 pi)

Production e+e- -> gamma a through an s-channel photon ("ALP-strahlung", three photons when
a -> gamma gamma), massless electrons, z = cos theta*_gamma, r = m^2 / s::

    d sigma / dz = (alpha g_agg^2 / 64) (1 - r)^3 (1 + z^2)
    sigma(z_lo < z < z_hi) = (alpha g_agg^2 / 64) (1 - r)^3 [(z_hi - z_lo) + (z_hi^3 - z_lo^3) / 3]
    sigma(full range)      = (alpha g_agg^2 / 24) (1 - r)^3

(derived from the vertex above: 1/4 sum |M|^2 = (e^2 g_agg^2 / 8) (1 - r)^2 s (1 + z^2) with
d sigma / dz = |k| / (32 pi s |p|) 1/4 sum |M|^2; checked against a numerical trace evaluation
of the same amplitude). Unlike e+e- -> gamma A' the cross section is finite at |z| -> 1 and
independent of s far above threshold. The Z-exchange contribution (an a Z gamma coupling) is not
part of this model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from darkscan.models.base import Array, Coupling, Model, Production
from darkscan.physics.constants import ALPHA_EM

#: Name of the ALP-strahlung process shared by every ALP model with a photon coupling.
ALP_STRAHLUNG = "e+e- -> gamma a"


def width_alp_to_photons(mass: ArrayLike, g_agg: ArrayLike) -> Array:
    """Gamma(a -> gamma gamma) = g_agg^2 m^3 / (64 pi) [GeV] for g_agg [GeV^-1], mass [GeV]."""
    mass = np.asarray(mass, dtype=float)
    return np.square(np.asarray(g_agg, dtype=float)) * mass**3 / (64.0 * np.pi)


def dsigma_dz_alp_strahlung(s: Array, mass: Array, g_agg: Array, z: Array) -> Array:
    """d sigma(e+e- -> gamma a) / d cos(theta*_gamma) [GeV^-2], photon exchange only.

    = (alpha g_agg^2 / 64) (1 - m^2/s)^3 (1 + z^2); the caller guarantees s > m^2.
    """
    r = mass * mass / s
    return ALPHA_EM * np.square(g_agg) / 64.0 * (1.0 - r) ** 3 * (1.0 + z * z)


def sigma_alp_strahlung(s: Array, mass: Array, g_agg: Array, z_lo: Array, z_hi: Array) -> Array:
    """sigma(e+e- -> gamma a) [GeV^-2] for z_lo < cos(theta*_gamma) < z_hi (closed form)."""
    r = mass * mass / s
    angular = (z_hi - z_lo) + (z_hi**3 - z_lo**3) / 3.0
    return ALPHA_EM * np.square(g_agg) / 64.0 * (1.0 - r) ** 3 * angular


@dataclass(frozen=True)
class PhotonALP(Model):
    """ALP with a photon coupling only: L = -(g_agg/4) a F F~, g_agg in GeV^-1."""

    name: ClassVar[str] = "alp-photon"
    mediator: ClassVar[str] = "a"
    summary: ClassVar[str] = (
        "axion-like particle coupled to photons, L = -(g_agg/4) a F Ftilde [g_agg in GeV^-1]"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("g_agg", "ALP-photon coupling, L = -(g_agg/4) a F Ftilde", "GeV^-1"),
    )
    channels: ClassVar[tuple[str, ...]] = ("gamma gamma",)
    productions: ClassVar[tuple[Production, ...]] = (
        Production(
            ALP_STRAHLUNG,
            "ALP-strahlung through an s-channel photon (three photons for a -> gamma gamma)",
        ),
    )

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        return {"gamma gamma": width_alp_to_photons(mass, c["g_agg"])}

    def _dsigma_dz(self, process, s, mass, c, z):
        return dsigma_dz_alp_strahlung(s, mass, c["g_agg"], z)

    def _sigma_z_range(self, process, s, mass, c, z_lo, z_hi):
        return sigma_alp_strahlung(s, mass, c["g_agg"], z_lo, z_hi)
