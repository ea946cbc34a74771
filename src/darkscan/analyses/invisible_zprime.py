"""Belle II search for an invisible Z' in e+e- -> mu+ mu- Z' (PRL 130, 231801; 79.7 fb^-1).

Seeds 000 and 003: two opposite-charge muons (pT > 0.4 GeV) and nothing else; the recoil
(missing) momentum points into the barrel calorimeter; no extra photon activity; the muon pair
is not back to back (opening angle < 179 deg in the CM); tau pairs suppressed by the
transverse momentum of the pair; then the Punzi-net (or, without torch, the best hand-made
cuts per mass by the Punzi figure of merit); counting in recoil-mass windows of +-2 sigma;
90 % CL CLs limits on sigma(e+e- -> mu mu Z') x BR(Z' -> invisible), converted to g' of the
L_mu - L_tau model (fully invisible by default, vanilla with --model vanilla).
"""

from __future__ import annotations

import numpy as np

from darkscan.analyses.base import (
    Analysis,
    Background,
    Cut,
    Interpretation,
    Limits,
    Published,
    Signal,
    Windows,
)
from darkscan.analysis.variables import two_track_variables

#: Belle II ECL barrel polar coverage used for the recoil direction [deg].
BARREL_DEG = (33.0, 128.0)


def zprime_sigma_fb(collider, mass: float) -> float:
    """sigma(e+e- -> mu mu Z') [fb] at g' = 1 with ISR, no cuts (the efficiency reference)."""
    from darkscan.models.zprime import cross_section_mumu_zprime_fb

    return float(
        cross_section_mumu_zprime_fb(collider.sqrt_s, mass, 1.0, isr=True, collider=collider.name)
    )


ANALYSIS = Analysis(
    name="invisible-zprime",
    title="Belle II invisible Z' (L_mu - L_tau), e+e- -> mu+ mu- Z', Z' -> invisible",
    experiment="belle2",
    lumi_fb=79.7,
    reference=Published(
        "Belle II, PRL 130, 231801 (2023)",
        observable="g_prime",
        cl=0.90,
        summary="90 % CL g' from about 3e-3 at low Z' mass to about 1 at 8 GeV (fully invisible"
        " and vanilla); (g-2)_mu explanation excluded for 0.8 < M_Z' < 5 GeV",
    ),
    signal=Signal(
        "ee-mumu-zprime",
        masses=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 7.5, 8.0),
        events=20_000,
        params={"g_prime": 1.0},
    ),
    backgrounds=(
        Background(
            "mu mu (gamma)",
            "ee-mumu",
            1_500_000,
            {"bias": {"photon_theta_lab_deg": ((25.0, 135.0),), "photon_e_min_gev": 0.05}},
        ),
        # taus forced to the modes that can fake two muons (mu, pi): exact weights
        Background("tau tau (gamma)", "ee-tautau", 1_000_000, {"tau_modes": ("mu", "pi")}),
        Background(
            "e e mu mu",
            "ee-eemumu",
            600_000,
            {
                "lepton_theta_deg": (17.0, 150.0),
                "lepton_min_pt": 0.4,
                "electrons_lost_theta_deg": (17.0, 150.0),
            },
        ),
    ),
    preselection=(
        Cut("two opposite-charge tracks", lambda t: t["q_sum"] == 0),
        Cut("both muon ID", lambda t: t["mu_id_min"] > 0.5),
        Cut("pT > 0.4 GeV", lambda t: (t["pt1"] > 0.4) & (t["pt2"] > 0.4)),
        Cut(
            "recoil into the barrel ECL",
            lambda t: (
                (t["recoil_theta_lab"] > BARREL_DEG[0]) & (t["recoil_theta_lab"] < BARREL_DEG[1])
            ),
        ),
        Cut("no extra photon > 0.1 GeV", lambda t: t["n_extra_clusters"] == 0),
        Cut("no KLM veto", lambda t: t.get("klm_veto", np.zeros_like(t["q_sum"])) == 0),
        Cut("opening angle < 179 deg (CM)", lambda t: t["opening_angle_cm"] < 179.0),
        Cut(
            "trigger",
            lambda t: (
                t.get("trg_two_track", np.ones_like(t["q_sum"], bool))
                | t.get("trg_single_muon", np.zeros_like(t["q_sum"], bool))
            ),
        ),
    ),
    features=(
        "recoil_mass",
        "recoil_p_cm",
        "pt_mumu_cm",
        "p_mumu_cm",
        "p1_cm",
        "p2_cm",
        "opening_angle_cm",
        "recoil_theta_lab",
        "m_mumu",
    ),
    cut_grid={
        "pt_mumu_cm": (">", tuple(np.linspace(0.0, 3.0, 13))),
        "opening_angle_cm": ("<", (120.0, 140.0, 150.0, 160.0, 170.0, 175.0, 179.0)),
        "recoil_p_cm": (">", (0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)),
    },
    scan=Windows("recoil_mass", n_sigma=2.0, step_sigma=0.5, mass_min=0.1, mass_max=8.0),
    limits=Limits(cl=0.90, method="cls", bkg_syst_rel=0.10, global_toys=500),
    interpret=Interpretation(
        coupling="g_prime",
        models={"fully-invisible": "zprime-lmu-ltau-invisible", "vanilla": "zprime-lmu-ltau"},
        default_model="fully-invisible",
        sigma_fb=zprime_sigma_fb,
        reference_coupling=1.0,
        channel="invisible",
    ),
    variables=two_track_variables,
    description=__doc__ or "",
)
