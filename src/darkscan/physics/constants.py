"""Physical constants in darkscan's units (GeV, cm, fb, natural units).

Particle masses and lifetimes come from the PDG tables shipped with the ``particle`` package
(scikit-hep), converted from MeV / ns to GeV / s. Couplings and conversion factors are
CODATA / PDG values quoted here.
"""

from __future__ import annotations

from particle import Particle

#: Fine-structure constant at q^2 = 0 (Thomson limit).
ALPHA_EM: float = 1.0 / 137.035999084
#: Fermi constant [GeV^-2].
G_FERMI: float = 1.1663788e-5
#: Higgs vacuum expectation value v = (sqrt(2) G_F)^(-1/2) [GeV] (= 246.22 GeV).
HIGGS_VEV: float = (2.0**0.5 * G_FERMI) ** -0.5
#: sin^2(theta_W) in the MS-bar scheme at m_Z.
SIN2_THETA_W: float = 0.23122
#: hbar * c [GeV cm].
HBARC_GEV_CM: float = 1.973269804e-14
#: hbar [GeV s].
HBAR_GEV_S: float = 6.582119569e-25
#: (hbar c)^2 converting GeV^-2 to fb: 0.3893793721 mb GeV^2 = 3.893793721e11 fb GeV^2.
GEV2_TO_FB: float = 3.893793721e11
#: Strong coupling at m_Z.
ALPHA_S_MZ: float = 0.1180


def _mass_gev(pdgid: int) -> float:
    return float(Particle.from_pdgid(pdgid).mass) / 1000.0


def _lifetime_s(pdgid: int) -> float:
    return float(Particle.from_pdgid(pdgid).lifetime) * 1e-9


M_ELECTRON: float = _mass_gev(11)
M_MUON: float = _mass_gev(13)
M_TAU: float = _mass_gev(15)
M_PI_CHARGED: float = _mass_gev(211)
M_PI_ZERO: float = _mass_gev(111)
M_K_CHARGED: float = _mass_gev(321)
M_K_ZERO: float = _mass_gev(311)
M_K_STAR_ZERO: float = _mass_gev(313)
M_K_STAR_CHARGED: float = _mass_gev(323)
M_B_CHARGED: float = _mass_gev(521)
M_B_ZERO: float = _mass_gev(511)
M_Z: float = _mass_gev(23)
M_W: float = _mass_gev(24)
M_TOP: float = _mass_gev(6)
#: Quark masses [GeV]: PDG MS-bar running masses for s (at 2 GeV), c (at m_c), b (at m_b).
M_STRANGE: float = _mass_gev(3)
M_CHARM: float = _mass_gev(4)
M_BOTTOM: float = _mass_gev(5)
TAU_B_CHARGED_S: float = _lifetime_s(521)
TAU_B_ZERO_S: float = _lifetime_s(511)
TAU_TAU_S: float = _lifetime_s(15)

#: Charged-lepton masses by channel name.
LEPTON_MASSES: dict[str, float] = {"e": M_ELECTRON, "mu": M_MUON, "tau": M_TAU}

#: CKM magnitudes |V_ts|, |V_tb|, |V_td| (PDG 2024 global fit).
V_TS: float = 0.0415
V_TB: float = 0.999118
V_TD: float = 0.00857

#: Mass of the lightest open-charm meson D0 [GeV] (open-charm threshold 2 m_D).
M_D_ZERO: float = _mass_gev(421)
