"""How long darkscan needs to produce the flagship backgrounds on 2 cores.

Flagship: Belle II invisible Z' (e+e- -> mu+ mu- + missing momentum, 79.7 fb^-1, PRL 130,
231801). Its dominant backgrounds are mu mu (gamma) with the photon(s) undetected and
tau tau (gamma) -> mu mu (or mis-identified pions) + neutrinos. The search region, at generator
level here: exactly two charged tracks, both inside the tracker (17-150 deg, lab), and the
recoil momentum p_beams - p_track1 - p_track2 above 0.5 GeV, pointing into the barrel
calorimeter (33-128 deg, lab). (A photon in the barrel would be detected; the detector
simulation decides how often it is missed, this estimate needs only where it goes.)

For each sample (biased or not) the script generates ``--events`` events on one core (more
tries with a bias), keeps the events in the region and measures the effective luminosity of
the region sample per CPU second, L_eff = (sum w)^2 / sum w^2 / sum w. The time to reach
L_eff >= 79.7 fb^-1 on two cores (two independent seeds, one per core) is
79.7 fb^-1 / (L_eff per CPU second) / 2.

    python benchmarks/flagship_backgrounds.py [--events 500000] [--json]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

LUMI_FB = 79.7
TRACK_DEG = (17.0, 150.0)
RECOIL_DEG = (33.0, 128.0)
RECOIL_P_MIN = 0.5


def in_region(batch, collider) -> np.ndarray:
    """Exactly two charged tracks (e, mu, pi) in the tracker, recoil (> 0.5 GeV) into the
    barrel."""
    from darkscan.physics.lorentz import cos_theta

    p = batch.particles
    pdg = np.abs(p.columns["pdg"])
    charged = np.isin(pdg, (11, 13, 211))
    theta = np.degrees(np.arccos(np.clip(cos_theta(p.columns["p4"]), -1, 1)))
    ev = p.event_index()
    n_ch = np.bincount(ev[charged], minlength=batch.n_events)
    in_trk = charged & (theta >= TRACK_DEG[0]) & (theta <= TRACK_DEG[1])
    n_in = np.bincount(ev[in_trk], minlength=batch.n_events)
    p_ch = np.zeros((batch.n_events, 4))
    np.add.at(p_ch, ev[charged], p.columns["p4"][charged])
    recoil = np.asarray(collider.p_total) - p_ch
    th_rec = np.degrees(np.arccos(np.clip(cos_theta(recoil), -1, 1)))
    p_rec = np.linalg.norm(recoil[:, 1:], axis=1)
    in_barrel = (th_rec >= RECOIL_DEG[0]) & (th_rec <= RECOIL_DEG[1])
    return (n_ch == 2) & (n_in == 2) & in_barrel & (p_rec > RECOIL_P_MIN)


def samples():
    from darkscan.generators import qed

    barrel_photon = qed.Bias(photon_theta_lab_deg=(RECOIL_DEG,))
    return [
        ("mu mu (gamma), exact O(alpha), unbiased", qed.MuMuGamma()),
        ("mu mu (gamma), exact, photon into barrel", qed.MuMuGamma(bias=barrel_photon)),
        ("mu mu (2 gamma), per-beam SF ISR", qed.MuMuGamma(radiation="isr2")),
        ("tau tau (gamma), exact, all decays", qed.TauTauGamma()),
        ("tau tau (gamma), exact, taus -> mu/pi only", qed.TauTauGamma(tau_modes=("mu", "pi"))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500_000, help="events per sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from darkscan.colliders import BELLE2

    rows = []
    for label, proc in samples():
        rng = np.random.default_rng(args.seed)
        proc.generate(1000, rng, BELLE2)  # warm up tables
        c0 = time.process_time()
        batch = proc.generate(args.events, rng, BELLE2)
        cpu = time.process_time() - c0
        sel = batch.select(in_region(batch, BELLE2))
        s1, s2 = float(np.sum(sel.weight)), float(np.sum(sel.weight**2))
        lumi = s1 / s2 if s2 > 0 else 0.0
        rows.append(
            {
                "sample": label,
                "events": batch.n_events,
                "tries": batch.meta["n_tried"],
                "cpu_s": cpu,
                "tries_per_s": batch.meta["n_tried"] / cpu,
                "region_sigma_fb": s1,
                "region_events": sel.n_events,
                "region_eff_lumi_fb": lumi,
                "eff_lumi_fb_per_cpu_s": lumi / cpu,
                "wall_s_2_cores": LUMI_FB / (lumi / cpu) / 2 if lumi > 0 else float("inf"),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"flagship region at Belle II; time for L_eff >= {LUMI_FB} fb^-1 on 2 cores")
    for r in rows:
        print(
            f"  {r['sample']:44s} {r['tries_per_s']:9.3g} tries/s  sigma_region "
            f"{r['region_sigma_fb']:9.4g} fb  L_eff/cpu-s {r['eff_lumi_fb_per_cpu_s']:8.3g} fb^-1"
            f"  -> {r['wall_s_2_cores']:8.1f} s"
        )


if __name__ == "__main__":
    main()
