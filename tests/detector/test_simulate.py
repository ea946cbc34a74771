"""Fast detector simulation: resolutions and efficiencies against the configured numbers,
acceptance edges, trigger logic on hand-built events, reproducibility and chunking."""

from __future__ import annotations

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest

from darkscan.colliders import get_collider
from darkscan.detector.config import (
    ClusterAngleResolution,
    DetectorConfig,
    EnergyResolution,
    PtResolution,
    TrackAngleResolution,
    get_config,
)
from darkscan.detector.simulate import (
    _slice_batch,
    concatenate_reco,
    configured_resolutions,
    simulate,
    simulate_iter,
)
from darkscan.generators.base import EventBatch, Objects
from darkscan.physics import lorentz
from darkscan.physics.constants import M_K_CHARGED, M_MUON, M_PI_CHARGED

MASS = {11: 0.000511, 13: M_MUON, 211: M_PI_CHARGED, 321: M_K_CHARGED, 22: 0.0, 130: 0.497611}


def particle(pdg, p, theta_deg, phi_deg=30.0, vertex=(0.0, 0.0, 0.0)):
    """(pdg, p4, vertex) of a particle with momentum p [GeV] at lab angles (theta, phi)."""
    m = MASS.get(abs(pdg), 0.0)
    t, f = math.radians(theta_deg), math.radians(phi_deg)
    p4 = [math.hypot(p, m), p * math.sin(t) * math.cos(f), p * math.sin(t) * math.sin(f),
          p * math.cos(t)]  # fmt: skip
    return pdg, p4, vertex


def batch_of(events, weight=1.0, truth=None):
    """EventBatch from a list of events, each a list of (pdg, p4, vertex)."""
    counts = [len(e) for e in events]
    flat = [x for e in events for x in e]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cols = {
        "pdg": np.array([x[0] for x in flat], np.int64).reshape(-1),
        "p4": np.array([x[1] for x in flat], float).reshape(-1, 4),
        "vertex": np.array([x[2] for x in flat], float).reshape(-1, 3),
    }
    return EventBatch(Objects(offsets, cols), np.full(len(events), weight), "test", truth or {})


def repeated(n, *parts):
    """n identical events (fast path for large samples)."""
    pdg = np.array([x[0] for x in parts])
    p4 = np.array([x[1] for x in parts], float)
    vtx = np.array([x[2] for x in parts], float)
    cols = {
        "pdg": np.tile(pdg, (n, 1)),
        "p4": np.tile(p4, (n, 1, 1)),
        "vertex": np.tile(vtx, (n, 1, 1)),
    }
    return EventBatch(Objects.from_fixed(cols, len(parts)), np.ones(n), "test")


def ideal(cfg: DetectorConfig) -> DetectorConfig:
    """The same acceptance with perfect resolution and unit efficiencies everywhere."""
    tr = cfg.tracking
    vtx = dataclasses.replace(
        tr.vertex,
        resolution_cm=(0.0,) * len(tr.vertex.radius_cm),
        efficiency=(1.0,) * len(tr.vertex.radius_cm),
    )
    tracking = dataclasses.replace(
        tr,
        efficiency=1.0,
        pt_resolution=PtResolution(0.0, 0.0),
        angle_resolution=TrackAngleResolution(0.0, 0.0),
        vertex=vtx,
    )
    cal = dataclasses.replace(
        cfg.calorimeter,
        efficiency=1.0,
        energy_resolution=EnergyResolution(0.0, 0.0, 0.0),
        angle_resolution=ClusterAngleResolution(0.0, 0.0),
    )
    lines = tuple(
        dataclasses.replace(line, efficiency=1.0) if hasattr(line, "efficiency") else line
        for line in cfg.trigger.lines
    )
    trigger = dataclasses.replace(cfg.trigger, lines=lines)
    return dataclasses.replace(cfg, tracking=tracking, calorimeter=cal, trigger=trigger)


def rng(seed=1):
    return np.random.default_rng(seed)


def binomial_ok(k, n, p, nsigma=4.0):
    return abs(k / n - p) < nsigma * math.sqrt(p * (1 - p) / n) + 1e-12


def first_track(reco):
    """Columns of the first track of every event that has one."""
    has = reco.tracks.counts > 0
    idx = reco.tracks.offsets[:-1][has]
    return {k: v[idx] for k, v in reco.tracks.columns.items()}, has


# ----------------------------------------------------------------------------- resolutions

EXPERIMENTS = ["belle2", "babar", "belle"]


@pytest.mark.parametrize("exp", EXPERIMENTS)
@pytest.mark.parametrize(("pdg", "pt"), [(13, 1.0), (13, 4.0), (321, 0.5)])
def test_track_pt_resolution(exp, pdg, pt):
    cfg = get_config(exp)
    n = 100_000
    reco = simulate(repeated(n, particle(pdg, pt, 90.0)), cfg, rng())
    t, _ = first_track(reco)
    pt_reco = np.hypot(t["p4"][:, 1], t["p4"][:, 2])
    width = np.std((pt_reco - pt) / pt)
    m = MASS[pdg]
    expected = float(cfg.tracking.pt_resolution.relative(pt, pt / math.hypot(pt, m)))
    assert width == pytest.approx(expected, rel=0.05)
    assert abs(np.mean(pt_reco) / pt - 1) < 5 * expected / math.sqrt(len(pt_reco))


@pytest.mark.parametrize("exp", EXPERIMENTS)
@pytest.mark.parametrize("energy", [0.1, 1.0, 8.0])
def test_cluster_energy_resolution(exp, energy):
    cfg = get_config(exp)
    n = 100_000
    reco = simulate(repeated(n, particle(22, energy, 90.0)), cfg, rng())
    e = reco.clusters.columns["p4"][:, 0]
    expected = float(cfg.calorimeter.energy_resolution.relative(energy))
    assert np.std(e / energy - 1) == pytest.approx(expected, rel=0.05)
    assert abs(np.mean(e) / energy - 1) < 5 * expected / math.sqrt(e.size)


def test_seed_resolution_numbers_are_produced():
    """Belle II: 4 % at 0.1 GeV, 1.6 % at 8 GeV (seed 003), ~0.4 % pT resolution at 1 GeV."""
    ref = configured_resolutions("belle2")
    assert ref["cluster_sigma_e_over_e_0.1gev"] == pytest.approx(0.04, rel=1e-3)
    assert ref["cluster_sigma_e_over_e_8gev"] == pytest.approx(0.016, rel=1e-3)
    assert ref["track_sigma_pt_over_pt_1gev"] == pytest.approx(0.004, rel=0.01)
    assert ref["vertex_sigma_ip_cm"] == pytest.approx(15e-4)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_angular_resolutions(exp):
    cfg = get_config(exp)
    n = 100_000
    reco = simulate(repeated(n, particle(22, 1.0, 90.0), particle(13, 1.0, 60.0)), cfg, rng())
    c = reco.clusters.columns["p4"]
    c = c[reco.clusters.columns["pdg_true"] == 22]
    d_theta = np.arccos(c[:, 3] / np.linalg.norm(c[:, 1:], axis=1)) - math.pi / 2
    expected = float(cfg.calorimeter.angle_resolution.sigma(1.0))
    assert np.std(d_theta) == pytest.approx(expected, rel=0.05)
    t, _ = first_track(reco)
    d_theta = np.arccos(t["p4"][:, 3] / np.linalg.norm(t["p4"][:, 1:], axis=1)) - math.pi / 3
    beta = 1.0 / math.hypot(1.0, M_MUON)
    expected = float(cfg.tracking.angle_resolution.sigma(1.0, beta))
    assert np.std(d_theta) == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("radius", [0.0, 20.0])
def test_vertex_resolution(radius):
    cfg = get_config("belle2")
    n = 100_000
    vertex = (0.0, radius, 5.0)
    reco = simulate(repeated(n, particle(13, 2.0, 90.0, 90.0, vertex)), cfg, rng())
    t, _ = first_track(reco)
    v = t["vertex"]
    # the track runs along y: the impact parameter is along x, z0 along z, nothing along y
    expected = float(cfg.tracking.vertex.resolution(radius))
    assert np.std(v[:, 0]) == pytest.approx(expected, rel=0.05)
    assert np.std(v[:, 2] - 5.0) == pytest.approx(expected, rel=0.05)
    np.testing.assert_allclose(v[:, 1], radius, atol=1e-6)
    if radius == 0.0:
        assert expected == pytest.approx(15e-4)


# ----------------------------------------------------------------------------- efficiencies


def test_tracking_and_displaced_efficiency():
    cfg = get_config("belle2")
    n = 50_000
    for radius in (0.0, 50.0, 100.0):
        vertex = (0.0, radius, 0.0)
        reco = simulate(repeated(n, particle(13, 2.0, 90.0, 90.0, vertex)), cfg, rng())
        k = int(np.sum(reco.tracks.counts))
        p = cfg.tracking.efficiency * float(cfg.tracking.vertex.efficiency_factor(radius))
        assert binomial_ok(k, n, p), (radius, k / n, p)
    assert p == 0.0


def test_photon_efficiency_and_threshold():
    cfg = get_config("belle2")
    n = 50_000
    reco = simulate(repeated(n, particle(22, 1.0, 90.0)), cfg, rng())
    assert binomial_ok(int(reco.clusters.counts.sum()), n, cfg.calorimeter.efficiency)
    soft = simulate(repeated(1000, particle(22, 0.03, 90.0)), ideal(cfg), rng())
    assert soft.clusters.counts.sum() == 0  # below the 50 MeV threshold


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_pid_efficiencies_and_fake_rates(exp):
    cfg = get_config(exp)
    pid = cfg.pid
    n = 40_000
    wp = pid.working_point
    cases = [
        (13, "pid_mu", pid.muon.efficiency),
        (211, "pid_mu", pid.muon.fake_rates["pion"]),
        (321, "pid_K", pid.kaon.efficiency),
        (211, "pid_K", pid.kaon.fake_rates["pion"]),
        (211, "pid_pi", 1 - pid.kaon.fake_rates["pion"]),
        (11, "pid_e", pid.electron.efficiency),
        (211, "pid_e", pid.electron.fake_rates["pion"]),
        (13, "pid_e", pid.electron.fake_rates["muon"]),
    ]
    for pdg, column, rate in cases:
        reco = simulate(repeated(n, particle(pdg, 2.0, 90.0, 33.3)), ideal(cfg), rng(pdg))
        score = reco.tracks.columns[column]
        assert score.size == n
        assert np.all((score >= 0) & (score <= 1))
        assert binomial_ok(int(np.sum(score > wp)), n, rate), (pdg, column, rate)


def test_muon_id_below_threshold_and_outside_klm():
    cfg = get_config("belle2")
    n = 40_000
    outside = cfg.pid.muon.pass_rate_outside
    for p, theta in ((0.5, 90.0), (2.0, 20.0)):  # below 0.7 GeV; forward of the KLM (25 deg)
        reco = simulate(repeated(n, particle(13, p, theta)), ideal(cfg), rng())
        k = int(np.sum(reco.tracks.columns["pid_mu"] > cfg.pid.working_point))
        assert binomial_ok(k, n, outside)


def test_mass_hypothesis_and_charge():
    cfg = ideal(get_config("belle2"))
    wp = cfg.pid.working_point
    ev = [particle(13, 2.0, 90.0), particle(-13, 2.0, 80.0), particle(211, 2.0, 70.0),
          particle(-11, 2.0, 60.0), particle(321, 2.0, 100.0)]  # fmt: skip
    reco = simulate(repeated(2000, *ev), cfg, rng())
    t = reco.tracks.columns
    np.testing.assert_array_equal(t["charge"][:5], [-1, 1, 1, 1, 1])
    masses = {"e": 0.000511, "mu": M_MUON, "pi": M_PI_CHARGED, "K": M_K_CHARGED}

    def best(e, mu, pi, k):  # the documented rule, track by track
        if e > wp and e >= mu:
            return "e"
        if mu > wp:
            return "mu"
        return "K" if k > pi else "pi"

    cols = zip(t["pid_e"], t["pid_mu"], t["pid_pi"], t["pid_K"], strict=True)
    expected = np.array([masses[best(*x)] for x in cols])
    np.testing.assert_allclose(lorentz.mass(t["p4"]), expected, atol=1e-4)
    # identified muons carry the muon mass
    is_mu = t["pdg_true"] == 13
    frac = np.mean(np.abs(lorentz.mass(t["p4"][is_mu]) - M_MUON) < 1e-4)
    assert frac == pytest.approx(cfg.pid.muon.efficiency, abs=0.03)


# ----------------------------------------------------------------------------- acceptance


def test_calorimeter_acceptance_edges_belle2():
    cfg = ideal(get_config("belle2"))
    thetas = [10.0, 13.0, 31.0, 31.8, 33.0, 90.0, 128.0, 129.5, 131.0, 155.0, 156.0]
    kept = [False, True, True, False, True, True, True, False, True, True, False]
    region = [-1, 0, 0, -1, 1, 1, 1, -1, 2, 2, -1]
    reco = simulate(batch_of([[particle(22, 2.0, t)] for t in thetas]), cfg, rng())
    assert reco.clusters.counts.tolist() == [int(k) for k in kept]
    assert reco.clusters.columns["region"].tolist() == [r for r in region if r >= 0]
    # the photon lost in the barrel/endcap gap leaves no energy anywhere
    np.testing.assert_allclose(reco.clusters.columns["p4"][:, 0], 2.0, rtol=1e-6)


def test_babar_cracks_point_to_the_ip():
    cfg = ideal(get_config("babar"))
    phis = [0.0, 0.05, 4.5, 9.0, 13.5, 180.0]
    reco = simulate(batch_of([[particle(22, 2.0, 90.0, f)] for f in phis]), cfg, rng())
    assert reco.clusters.counts.tolist() == [0, 0, 1, 0, 1, 0]
    # no backward endcap at BaBar; Belle II has no cracks
    reco = simulate(batch_of([[particle(22, 2.0, 150.0)]]), cfg, rng())
    assert reco.clusters.counts.tolist() == [0]
    b2 = simulate(
        batch_of([[particle(22, 2.0, 90.0, f)] for f in phis]), ideal(get_config("belle2")), rng()
    )
    assert b2.clusters.counts.tolist() == [1] * len(phis)


def test_tracking_acceptance_edges():
    cfg = ideal(get_config("belle2"))
    thetas = [16.0, 18.0, 90.0, 149.0, 151.0]
    reco = simulate(batch_of([[particle(13, 2.0, t)] for t in thetas]), cfg, rng())
    assert reco.tracks.counts.tolist() == [0, 1, 1, 1, 0]
    soft = simulate(batch_of([[particle(13, 0.04, 90.0)]]), cfg, rng())
    assert soft.tracks.counts.tolist() == [0]  # below the 50 MeV pT threshold


def test_electrons_and_muons_in_the_calorimeter():
    cfg = ideal(get_config("belle2"))
    events = [
        [particle(11, 3.0, 90.0)],  # track with its shower attached
        [particle(11, 3.0, 14.0)],  # forward endcap, outside tracking: an unmatched cluster
        [particle(13, 3.0, 90.0)],  # MIP deposit attached to the track
        [particle(13, 0.25, 90.0)],  # pT below the reach of the barrel (0.28 GeV)
    ]
    reco = simulate(batch_of(events), cfg, rng())
    assert reco.tracks.counts.tolist() == [1, 0, 1, 1]
    assert reco.clusters.counts.tolist() == [0, 1, 0, 0]
    e_cluster = reco.tracks.columns["e_cluster"]
    assert e_cluster[0] == pytest.approx(3.0, rel=1e-6)
    assert e_cluster[1] == pytest.approx(cfg.calorimeter.mip_energy_gev, rel=1e-6)
    assert e_cluster[2] == 0.0
    assert reco.clusters.columns["pdg_true"].tolist() == [11]
    # the electron's cluster is bent in phi by the field, not in theta
    c = reco.clusters.columns["p4"][0]
    assert math.degrees(math.acos(c[3] / 3.0)) == pytest.approx(14.0, abs=1e-3)


def test_pi0_decays_to_two_photons():
    cfg = ideal(get_config("belle2"))
    m_pi0 = 0.1349768
    p4 = [math.hypot(3.0, m_pi0), 0.0, 3.0, 0.0]
    batch = batch_of([[particle(13, 1.0, 60.0), (111, p4, (0, 0, 0))]] * 2000)
    reco = simulate(batch, cfg, rng())
    c = reco.clusters
    assert np.all(c.columns["pdg_true"] == 22)
    assert np.all(c.columns["mc_index"] == 1)  # both photons point back to the pi0
    both = c.counts == 2
    assert both.mean() > 0.9
    first = c.offsets[:-1][both]
    sums = c.columns["p4"][first] + c.columns["p4"][first + 1]
    np.testing.assert_allclose(lorentz.mass(sums), m_pi0, rtol=1e-4)


def test_invisible_and_unknown_particles():
    cfg = get_config("belle2")
    batch = batch_of(
        [[particle(12, 1.0, 90.0), particle(52, 1.0, 90.0)], [particle(310, 1.0, 90.0)]]
    )
    reco = simulate(batch, cfg, rng())
    assert reco.tracks.counts.sum() == 0 and reco.clusters.counts.sum() == 0
    assert reco.meta["n_unsimulated"] == 1 and reco.meta["unsimulated_pdg"] == [310]


def test_klm_veto():
    cfg = get_config("belle2")
    klm = cfg.klm
    n = 40_000
    reco = simulate(repeated(n, particle(130, 2.0, 90.0)), cfg, rng())
    assert binomial_ok(int(reco.event["klm_veto"].sum()), n, klm.klong_efficiency)
    # a photon lost in the barrel/backward gap is recovered by the KLM with its efficiency
    reco = simulate(repeated(n, particle(22, 2.0, 129.5)), cfg, rng())
    assert reco.clusters.counts.sum() == 0
    assert binomial_ok(int(reco.event["klm_veto"].sum()), n, klm.photon_recovery_efficiency)
    # a photon seen by the calorimeter never fires the KLM veto
    reco = simulate(repeated(1000, particle(22, 2.0, 90.0)), ideal(cfg), rng())
    assert not reco.event["klm_veto"].any()
    # an untracked muon that reaches the KLM (between 150 and 155 deg)
    reco = simulate(batch_of([[particle(13, 2.0, 152.0)]]), ideal(cfg), rng())
    assert reco.event["klm_n_neutral"].tolist() == [1]


# ----------------------------------------------------------------------------- triggers


def cm_photon(collider, e_star, theta_star_deg, phi_star_deg=0.0):
    """Lab (pdg, p4, vertex) of a photon given in the CM frame."""
    _, p4, vtx = particle(22, e_star, theta_star_deg, phi_star_deg)
    return 22, lorentz.boost(np.array(p4), collider.boost).tolist(), vtx


def cm_pair(collider, pdg, e_star, theta_star_deg=80.0):
    """Two particles back to back in the CM frame (the second with the opposite pdg code)."""
    m = MASS.get(abs(pdg), 0.0)
    p = math.sqrt(e_star**2 - m**2)
    a = particle(pdg, p, theta_star_deg, 20.0)
    b = particle(-pdg if pdg != 22 else 22, p, 180.0 - theta_star_deg, 200.0)
    beta = collider.boost
    return [(x[0], lorentz.boost(np.array(x[1]), beta).tolist(), x[2]) for x in (a, b)]


def test_belle2_single_photon_lines():
    cfg = ideal(get_config("belle2"))
    col = get_collider("belle2")
    events = [
        [particle(22, 1.5, 90.0)],  # 0: E* ~ 1.6 GeV alone in the barrel
        [particle(22, 1.5, 90.0), particle(22, 0.5, 60.0)],  # 1: another cluster > 0.3 GeV
        [particle(22, 1.5, 90.0), particle(22, 0.2, 60.0)],  # 2: another one < 0.3 GeV
        [particle(22, 3.0, 90.0), particle(22, 0.5, 60.0)],  # 3: E* > 2 GeV, not back to back
        cm_pair(col, 22, 5.29),  # 4: gamma gamma: vetoed
        [particle(22, 1.5, 20.0)],  # 5: forward endcap: outside the 1 GeV line, < 2 GeV
        cm_pair(col, 11, 5.29),  # 6: Bhabha: vetoed
        [cm_photon(col, 0.8, 90.0)],  # 7: below 1 GeV in the CM frame
    ]
    ev = simulate(batch_of(events), cfg, rng()).event
    assert ev["trg_single_photon_1gev"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert ev["trg_single_photon_2gev"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    assert ev["trg_single_photon"].tolist() == [1, 0, 1, 1, 0, 0, 0, 0]


def test_belle2_track_lines():
    cfg = ideal(get_config("belle2"))
    col = get_collider("belle2")
    events = [
        [particle(13, 2.0, 90.0)],  # 0: single muon into the KLM
        [particle(211, 2.0, 90.0)],  # 1: a pion does not reach the KLM
        cm_pair(col, 13, 5.29),  # 2: mu mu: two tracks, no calorimeter veto (MIPs)
        cm_pair(col, 11, 5.29),  # 3: Bhabha: two tracks but the Bhabha veto
        [particle(13, 2.0, 90.0, vertex=(0.0, 0.0, 20.0))],  # 4: outside the NN z window
        [particle(13, 0.5, 90.0)],  # 5: too soft for the neural trigger
        [],  # 6: empty event
    ]
    ev = simulate(batch_of(events), cfg, rng()).event
    assert ev["trg_single_muon"].tolist() == [1, 0, 1, 0, 1, 0, 0]
    assert ev["trg_two_track"].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert ev["trg_single_track_nn"].tolist() == [1, 1, 1, 1, 0, 0, 0]


def test_babar_single_photon_trigger():
    cfg = ideal(get_config("babar"))
    col = get_collider("babar")
    events = [
        [particle(22, 0.7, 90.0)],  # 0: fails L1 (E_lab < 0.8 GeV)
        [cm_photon(col, 1.5, 90.0, 4.5)],  # 1: L1 and L3 (E* > 1 GeV, no track)
        [cm_photon(col, 1.5, 90.0, 4.5), particle(13, 1.0, 90.0)],  # 2: the track veto
        [cm_photon(col, 2.5, 90.0, 4.5), particle(13, 1.0, 90.0)],  # 3: E* > 2 GeV
    ]
    ev = simulate(batch_of(events), cfg, rng()).event
    assert ev["trg_single_photon_l1"].tolist() == [0, 1, 1, 1]
    assert ev["trg_single_photon_l3"].tolist() == [0, 1, 0, 1]
    assert ev["trg_single_photon"].tolist() == [0, 1, 0, 1]
    belle = simulate(batch_of(events), ideal(get_config("belle")), rng()).event
    assert not any("photon" in k for k in belle)


def test_trigger_efficiency():
    cfg = get_config("belle2")
    line = next(x for x in cfg.trigger.lines if x.name == "single_photon_1gev")
    n = 40_000
    ev = simulate(repeated(n, particle(22, 1.5, 90.0)), cfg, rng()).event
    p = line.efficiency * cfg.calorimeter.efficiency  # the cluster itself may be lost
    assert binomial_ok(int(ev["trg_single_photon_1gev"].sum()), n, p)


# ----------------------------------------------------------------------------- bookkeeping


def mixed_batch(n, seed=3, pi0=True):
    """mu+ mu- gamma (+ a K_L every other event, + a pi0 every third) in the Belle II lab."""
    r = np.random.default_rng(seed)
    col = get_collider("belle2")
    events = []
    for i in range(n):
        e = []
        for pdg in (13, -13, 22):
            c, f = r.uniform(-1, 1), r.uniform(0, 360)
            e.append(particle(pdg, r.uniform(0.05, 4.0), math.degrees(math.acos(c)), f))
        if i % 2:
            e.append(particle(130, 1.5, 70.0, r.uniform(0, 360)))
        if pi0 and i % 3 == 0:
            e.append((111, [math.hypot(1.0, 0.135), 0.6, 0.0, 0.8], (0.0, 0.0, 0.0)))
        events.append(e)
    truth = {"x": np.arange(n, dtype=float)}
    del col
    return batch_of(events, weight=2.5, truth=truth)


def assert_reco_equal(a, b, skip=()):
    for name in ("tracks", "clusters"):
        oa, ob = getattr(a, name), getattr(b, name)
        np.testing.assert_array_equal(oa.offsets, ob.offsets)
        for k in oa.columns:
            if k not in skip:
                np.testing.assert_array_equal(oa.columns[k], ob.columns[k], err_msg=f"{name}.{k}")
    assert set(a.event) == set(b.event)
    for k in a.event:
        np.testing.assert_array_equal(a.event[k], b.event[k], err_msg=k)


def test_same_seed_same_output():
    batch = mixed_batch(3000)
    a = simulate(batch, "belle2", rng(7))
    b = simulate(batch, "belle2", rng(7))
    assert_reco_equal(a, b)
    c = simulate(batch, "belle2", rng(8))
    assert not np.array_equal(a.tracks.columns["pid_mu"], c.tracks.columns["pid_mu"])
    assert a.event["weight"].tolist() == [2.5] * 3000
    np.testing.assert_array_equal(a.event["truth_x"], np.arange(3000))
    assert a.meta["experiment"] == "belle2" and a.meta["process"] == "test"


def test_chunks_equal_whole_for_the_deterministic_parts():
    batch = mixed_batch(3000, pi0=False)  # pi0 decay angles are random
    cfg = dataclasses.replace(
        ideal(get_config("belle2")),
        klm=dataclasses.replace(get_config("belle2").klm, klong_efficiency=1.0,
                                photon_recovery_efficiency=0.0),
    )  # fmt: skip
    cfg = dataclasses.replace(
        cfg,
        calorimeter=dataclasses.replace(
            cfg.calorimeter, neutral_hadron_interaction_probability=0.0
        ),
    )
    whole = simulate(batch, cfg, rng(1), chunk_events=batch.n_events)
    for chunk in (97, 1000):
        part = simulate(batch, cfg, rng(2), chunk_events=chunk)
        # random only: PID scores (hence the mass hypothesis), e9e21, pi0 decay angles
        assert_reco_equal(whole, part, skip=("pid_e", "pid_mu", "pid_pi", "pid_K", "p4", "e9e21"))
        for obj in ("tracks",):
            pa = getattr(whole, obj).columns["p4"][:, 1:]
            pb = getattr(part, obj).columns["p4"][:, 1:]
            np.testing.assert_array_equal(pa, pb)


def test_chunked_equals_streamed_slices_exactly():
    batch = mixed_batch(2000)
    chunked = simulate(batch, "belle2", rng(5), chunk_events=300)
    slices = [_slice_batch(batch, a, min(a + 300, 2000)) for a in range(0, 2000, 300)]
    streamed = concatenate_reco(list(simulate_iter(slices, "belle2", rng(5))))
    assert_reco_equal(chunked, streamed)
    assert chunked.meta["n_unsimulated"] == 0


def test_default_slicing_is_statistically_equivalent():
    batch = repeated(60_000, particle(13, 2.0, 90.0), particle(22, 1.0, 90.0))
    a = simulate(batch, "belle2", rng(1))  # automatic slices
    b = simulate(batch, "belle2", rng(1), chunk_events=60_000)
    for reco in (a, b):
        assert binomial_ok(int(reco.tracks.counts.sum()), 60_000, 0.98)


def test_memory_is_bounded_by_the_chunk():
    batch = repeated(
        100_000, particle(13, 2.0, 90.0), particle(-13, 2.0, 60.0), particle(22, 1.0, 100.0)
    )
    working = {}
    for chunk in (100_000, 5_000):
        tracemalloc.start()
        reco = simulate(batch, "belle2", rng(), chunk_events=chunk)
        current, peak = tracemalloc.get_traced_memory()  # current: the output, still alive
        tracemalloc.stop()
        working[chunk] = peak - current
        del reco
    # the temporaries scale with the chunk (3 MB here), not with the sample (60 MB)
    assert working[5_000] < 0.2 * working[100_000]


def test_empty_and_bad_input():
    cfg = get_config("belle2")
    empty = batch_of([])
    reco = simulate(empty, cfg, rng())
    assert reco.n_events == 0 and reco.tracks.n_events == 0
    reco = simulate(batch_of([[], [particle(13, 1.0, 90.0)], []]), cfg, rng())
    assert reco.n_events == 3
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        simulate(empty, cfg, 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_events must be a positive integer"):
        simulate(empty, cfg, rng(), chunk_events=0)
    with pytest.raises(ValueError, match=r"unknown experiment 'lep'; valid: \['babar'"):
        simulate(empty, "lep", rng())
    with pytest.raises(ValueError, match="EventBatch"):
        simulate("events", cfg, rng())  # type: ignore[arg-type]


def test_speed_benchmark_runs(tmp_path):
    """Smoke test of benchmarks/detector_speed.py (the 1e6-event timing is run by hand)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "detector_speed.py"
    out = tmp_path / "speed.json"
    cmd = [sys.executable, str(script), "--events", "3000", "--repeat", "1", "--chunk", "1000",
           "--json", "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.read_text())
    assert json.loads(proc.stdout) == result
    assert result["events"] == 3000 and result["particles"] == 9000
    assert result["working_mib_sliced"] < result["working_mib_one_slice"]
    assert set(result["trigger_rates"]) >= {"trg_single_photon", "trg_two_track"}


def test_threads_do_not_change_the_bits():
    batch = mixed_batch(3000)
    one = simulate(batch, "belle2", rng(7), chunk_events=400, workers=1)
    two = simulate(batch, "belle2", rng(7), chunk_events=400, workers=2)
    assert_reco_equal(one, two)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        simulate(batch, "belle2", rng(7), workers=0)
