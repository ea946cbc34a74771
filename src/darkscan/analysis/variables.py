"""Two-track (+ missing momentum) reconstruction variables, as Belle II defines them.

Input: :class:`~darkscan.detector.base.RecoEvents` (simulated or read from an ntuple). Output:
a flat table ``dict[str, ndarray]`` with one row per event that has exactly two tracks; the
event's index in the input is ``event_index``. Conventions: lab frame z along the e- beam; the
CM frame is reached with the collider's boost (crossing angle included; CM axes parallel to the
lab axes); energies and momenta in GeV, angles in degrees.

* ``recoil_mass2`` = (p_beams - p_1 - p_2)^2 = s + M_mumu^2 - 2 sqrt(s) E*_mumu [GeV^2], and
  ``recoil_mass`` = sqrt(max(recoil_mass2, 0)) [GeV];
* ``recoil_theta_lab`` polar angle of the recoil (missing) momentum in the lab [deg],
  ``recoil_p_cm`` its momentum in the CM [GeV];
* ``opening_angle_cm`` angle between the two tracks in the CM [deg];
* ``pt_mumu_cm`` transverse momentum of the pair in the CM; ``p1_cm``, ``p2_cm`` momenta;
* ``e_extra`` summed lab energy of calorimeter clusters not attached to the tracks [GeV],
  ``n_extra_clusters`` their number above ``cluster_threshold``;
* ``pt1``, ``pt2`` lab transverse momenta, ``q_sum`` the sum of charges,
  ``mu_id_min`` the smaller of the two muon-ID scores.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from darkscan.colliders import Collider
from darkscan.detector.base import RecoEvents
from darkscan.physics import lorentz as lv

Table = dict[str, NDArray]


def two_track_variables(
    reco: RecoEvents, collider: Collider, *, cluster_threshold: float = 0.1
) -> Table:
    """Variables of every event with exactly two tracks (see the module docstring)."""
    counts = reco.tracks.counts
    sel = np.flatnonzero(counts == 2)
    first = reco.tracks.offsets[sel]
    p4 = reco.tracks.columns["p4"]
    p1, p2 = p4[first], p4[first + 1]
    charge = reco.tracks.columns["charge"]
    pid_mu = reco.tracks.columns["pid_mu"]
    beams = collider.p_total
    beta = collider.boost
    recoil = beams[None, :] - p1 - p2
    c1, c2 = lv.boost(p1, -beta), lv.boost(p2, -beta)
    pair_cm = c1 + c2
    cosang = np.sum(c1[:, 1:] * c2[:, 1:], axis=1) / np.maximum(lv.p3(c1) * lv.p3(c2), 1e-300)
    # extra calorimeter energy: clusters are showers not attached to a track
    clu_e = reco.clusters.columns["p4"][:, 0]
    keep = clu_e > cluster_threshold
    ev = reco.clusters.event_index()
    e_extra = np.bincount(ev[keep], weights=clu_e[keep], minlength=reco.n_events)
    n_extra = np.bincount(ev[keep], minlength=reco.n_events)
    m2 = lv.mass2(recoil)
    table: Table = {
        "event_index": sel,
        "weight": np.asarray(reco.event["weight"], float)[sel],
        "recoil_mass2": m2,
        "recoil_mass": np.sqrt(np.clip(m2, 0.0, None)),
        "recoil_theta_lab": np.degrees(np.arccos(np.clip(lv.cos_theta(recoil), -1, 1))),
        "recoil_p_lab": lv.p3(recoil),
        "recoil_p_cm": lv.p3(lv.boost(recoil, -beta)),
        "opening_angle_cm": np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0))),
        "pt_mumu_cm": lv.pt(pair_cm),
        "p_mumu_cm": lv.p3(pair_cm),
        "m_mumu": lv.mass(p1 + p2),
        "p1_cm": lv.p3(c1),
        "p2_cm": lv.p3(c2),
        "pt1": lv.pt(p1),
        "pt2": lv.pt(p2),
        "q_sum": charge[first] + charge[first + 1],
        "mu_id_min": np.minimum(pid_mu[first], pid_mu[first + 1]),
        "e_extra": e_extra[sel],
        "n_extra_clusters": n_extra[sel].astype(float),
    }
    for key in ("klm_veto", "klm_n_neutral"):
        if key in reco.event:
            table[key] = np.asarray(reco.event[key], float)[sel]
    for key, col in reco.event.items():
        if key.startswith("trg_") or key.startswith("truth_"):
            table[key] = np.asarray(col)[sel]
    return table
