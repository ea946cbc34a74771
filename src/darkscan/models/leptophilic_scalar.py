"""Leptophilic and muonphilic CP-even scalars (Yukawa couplings to charged leptons only).

Units: masses and widths in GeV; r_l = m_l^2/m^2, beta_l = sqrt(1 - 4 r_l), tau_l = m^2/(4 m_l^2).
Every width is exactly 0 below its threshold. There is no closed-form e+e- production (the
processes e+e- -> tau+ tau- phi_L and e+e- -> mu+ mu- S are 2 -> 3, computed by
:mod:`darkscan.generators`), so :attr:`productions` is empty.

Leptophilic scalar phi_L (``leptophilic-scalar``, coupling ``xi``, dimensionless)::

    L = - xi sum_{l = e, mu, tau} (m_l / v) lbar l phi_L,   v = 246.22 GeV

* Gamma(phi_L -> l+ l-) = xi^2 m_l^2 m beta_l^3 / (8 pi v^2)
* Gamma(phi_L -> gamma gamma) = xi^2 alpha^2 m^3 / (256 pi^3 v^2) |sum_l A_1/2(tau_l)|^2

Muonphilic scalar S (``muonphilic-scalar``, coupling ``g_s``, dimensionless)::

    L = - g_s mubar mu S

* Gamma(S -> mu+ mu-) = g_s^2 m beta_mu^3 / (8 pi)
* Gamma(S -> gamma gamma) = g_s^2 alpha^2 m^3 / (256 pi^3 m_mu^2) |A_1/2(tau_mu)|^2

The photon widths are the one-loop lepton triangles: for L = -y_f S fbar f,
Gamma = alpha^2 m^3 / (256 pi^3) |sum_f (y_f / m_f) N_c Q_f^2 A_1/2(tau_f)|^2 with the complex
loop function A_1/2 of :func:`darkscan.models.dark_scalar.scalar_loop_fermion`
(4/3 for a heavy lepton, -> 0 like ln^2(4 tau)/tau for a light one). Below 2 m_e the photon
channel is the only one, so BR(gamma gamma) = 1 there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from darkscan.models.base import Array, Coupling, Model
from darkscan.models.dark_scalar import (
    loop_tau,
    scalar_loop_fermion,
    width_scalar_to_fermions,
    width_scalar_to_photons,
)
from darkscan.physics.constants import HIGGS_VEV, M_ELECTRON, M_MUON, M_TAU

_LEPTONS = {"e+e-": M_ELECTRON, "mu+mu-": M_MUON, "tau+tau-": M_TAU}


@dataclass(frozen=True)
class LeptophilicScalar(Model):
    """phi_L with Higgs-like couplings to charged leptons only, L = -xi sum (m_l/v) lbar l phi_L."""

    name: ClassVar[str] = "leptophilic-scalar"
    mediator: ClassVar[str] = "phi_L"
    summary: ClassVar[str] = (
        "leptophilic scalar, L = -xi sum_l (m_l/v) lbar l phi_L (decays to leptons and, via "
        "lepton loops, photons)"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("xi", "coupling strength in units of the Higgs Yukawa m_l/v", "1"),
    )
    channels: ClassVar[tuple[str, ...]] = ("e+e-", "mu+mu-", "tau+tau-", "gamma gamma")

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        xi = c["xi"]
        widths = {
            ch: width_scalar_to_fermions(mass, xi * m_l / HIGGS_VEV, m_l)
            for ch, m_l in _LEPTONS.items()
        }
        amp = sum(scalar_loop_fermion(loop_tau(mass, m_l)) for m_l in _LEPTONS.values())
        widths["gamma gamma"] = np.square(xi) * width_scalar_to_photons(mass, amp / HIGGS_VEV)
        return widths


@dataclass(frozen=True)
class MuonphilicScalar(Model):
    """Scalar coupled to muons only, L = -g_s mubar mu S."""

    name: ClassVar[str] = "muonphilic-scalar"
    mediator: ClassVar[str] = "S"
    summary: ClassVar[str] = (
        "muonphilic scalar, L = -g_s mubar mu S (decays to mu+mu- and, via the muon loop, photons)"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (Coupling("g_s", "Yukawa coupling to muons", "1"),)
    channels: ClassVar[tuple[str, ...]] = ("mu+mu-", "gamma gamma")

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        g = c["g_s"]
        amp = scalar_loop_fermion(loop_tau(mass, M_MUON)) / M_MUON
        return {
            "mu+mu-": width_scalar_to_fermions(mass, g, M_MUON),
            "gamma gamma": np.square(g) * width_scalar_to_photons(mass, amp),
        }
