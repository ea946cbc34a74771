"""Fast detector simulation: generator particles (lab frame) -> :class:`RecoEvents`.

``simulate(batch, "belle2", rng)`` applies one experiment's parameter file
(:mod:`darkscan.detector.config`) to an :class:`~darkscan.generators.base.EventBatch`. The work
is vectorised over the flat (CSR) particle arrays, with no Python loop over events or
particles, and runs over slices of the batch (``chunk_events``; by default slices of about
``AUTO_CHUNK_PARTICLES`` particles, which keeps the temporaries in the CPU caches), so the
working memory is bounded by the slice, not by the sample; :func:`simulate_iter` streams
batches.

What happens to each particle (|pdg|):

* e, mu, pi+-, K+-, p (11, 13, 211, 321, 2212) -> a **track** when inside the polar window,
  above the pT threshold and accepted with probability ``efficiency x factor(r)`` (r: the
  transverse radius of the production vertex). The transverse momentum is smeared with
  sigma_pT/pT = a pT (+) b/beta, the direction with a (+) b/(p beta) in theta and in the
  azimuthal arc. The track ``vertex`` is the point of closest approach to the true production
  vertex, smeared across the track in the transverse plane (d0) and along z (z0) with the
  radius-dependent resolution. PID scores ``pid_e``, ``pid_mu``, ``pid_K`` in [0, 1] pass the
  working point with the configured efficiency (target species inside its acceptance and
  momentum range) or fake rate (other species); ``pid_pi = 1 - pid_K``. Passing scores are
  uniform in (wp, 1), failing ones in (0, wp). ``p4`` is on the mass shell of the best
  hypothesis: a lepton whose score passes the working point (the higher if both do),
  otherwise the kaon or pion, whichever scores higher.
* gamma (22) and e (shower: the full energy), the MIP deposit of mu and charged hadrons
  (``mip_energy_gev``, capped at the kinetic energy) and K_L / n (with the interaction
  probability, a fraction of the kinetic energy) -> a **calorimeter deposit** when the
  direction lies in a live region: the gaps between the regions and, for BaBar, the phi
  cracks pointing to the IR are dead; charged particles must reach the barrel
  (pT > 0.3 B R / 2) and their azimuth at the calorimeter is bent by the field. Energies are
  smeared with a/E (+) b/E^(1/4) (+) c; deposits above ``photon_threshold_gev`` survive with
  ``efficiency``. A deposit of a particle that has a track is attached to it (track column
  ``e_cluster``); the others are the ``clusters`` (photons, electrons outside the tracking
  acceptance, ...), whose direction is smeared with a/sqrt(E) (+) b.
* K_L (130) and n (2112) in the KLM/IFR window and above ``hadron_p_min_gev``, photons the
  calorimeter missed (gaps, cracks, inefficiency) above ``photon_recovery_e_min_gev``, and
  untracked muons that reach the KLM -> a **KLM cluster without a track**, counted in the
  event columns ``klm_n_neutral`` and ``klm_veto``.
* pi0 (111) is first decayed to two photons (isotropic in its rest frame). Neutrinos and
  dark-sector particles (12, 14, 16, 52, 54, 55) are invisible. Anything else is dropped and
  counted in ``meta['n_unsimulated']`` / ``meta['unsimulated_pdg']``.

Triggers (event columns ``trg_<line>``) act on the reconstructed objects: tracks and all
calorimeter deposits (track-matched ones included, as the calorimeter trigger sees them; their
direction is the track's at the IP), with E* in the CM frame of the experiment's collider; a
line fires with its plateau efficiency when its condition holds.

Output (:class:`~darkscan.detector.base.RecoEvents`): ``tracks`` with ``p4`` [GeV], ``charge``,
``pdg_true``, ``pid_e``, ``pid_mu``, ``pid_pi``, ``pid_K``, ``vertex`` [cm], ``e_cluster``
[GeV, 0 without a deposit] and ``mc_index`` (position of the generator particle in its event;
for pi0 photons, the pi0's); ``clusters`` with ``p4`` (massless), ``region`` (0 forward, 1
barrel, 2 backward), ``pdg_true``, ``e9e21`` (a caricature of the lateral shower shape,
uniform in a per-class range) and ``mc_index``; event columns ``weight``, ``trg_<line>``,
``klm_n_neutral``, ``klm_veto`` and the generator truth as ``truth_<name>``. The arithmetic
runs in float32 (relative precision 6e-8, far below every resolution); ``p4`` and ``vertex``
are float64, and ``p4`` is exactly on its mass shell.

Random numbers: the batch is simulated in slices; slice i draws from the i-th child
generator spawned from ``rng`` (``rng.spawn``), so the slices are independent streams and can
run in parallel threads (``workers``) with the same bits whatever the number of threads.
Within a slice the draws come in a fixed order of blocks: pi0 decay angles; track efficiency;
track smearing (3 normals per track); vertex smearing (2 normals per track); PID (3 float32
uniforms per track); neutral-hadron interactions; deposit energy smearing (1 normal) and
efficiency (1 float32 uniform) per deposit; cluster direction smearing (2 normals) and shower
shape (1 uniform) per cluster; KLM efficiency; one float32 uniform per event for every trigger
line with efficiency < 1. Each block is sized by the number of candidates in the slice. The
same input, seed and slicing give the same bits. A different slicing draws different streams:
the results agree exactly in everything that does not depend on random numbers (acceptance,
truth links, and all outputs when the resolutions are zero and the efficiencies 0 or 1) and
statistically otherwise. Streaming slices through :func:`simulate_iter` with one generator
gives the same bits as ``simulate(..., chunk_events=)`` with the same slices (each call spawns
the next children of ``rng``).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray
from particle import Particle

from darkscan.colliders import get_collider
from darkscan.detector.base import RecoEvents
from darkscan.detector.config import (
    ECL_REGIONS,
    TRACK_SPECIES,
    CombinedTriggerLine,
    DetectorConfig,
    EclTriggerLine,
    TrackTriggerLine,
    get_config,
)
from darkscan.generators.base import EventBatch, Objects
from darkscan.physics.constants import M_ELECTRON, M_K_CHARGED, M_MUON, M_PI_CHARGED
from darkscan.physics.lorentz import boost, two_body_decay

#: Default slice size (particles) when ``chunk_events`` is not given.
AUTO_CHUNK_PARTICLES = 1 << 17

# particle kinds (track species first, in TRACK_SPECIES order)
E, MU, PI, K, P, GAMMA, KLONG, NEUTRON, PI0, INVISIBLE, UNKNOWN = range(11)
_KIND_OF_ABS_PDG = {11: E, 13: MU, 211: PI, 321: K, 2212: P, 22: GAMMA, 130: KLONG}
_KIND_OF_ABS_PDG |= {2112: NEUTRON, 111: PI0}
_KIND_OF_ABS_PDG |= {12: INVISIBLE, 14: INVISIBLE, 16: INVISIBLE, 52: INVISIBLE}
_KIND_OF_ABS_PDG |= {54: INVISIBLE, 55: INVISIBLE}
_LUT_SIZE = 4096
_KIND_LUT = np.full(_LUT_SIZE, UNKNOWN, np.int8)
for _pdg, _kind in _KIND_OF_ABS_PDG.items():
    _KIND_LUT[_pdg] = _kind

_M_PROTON = float(Particle.from_pdgid(2212).mass) / 1000.0
_M_NEUTRON = float(Particle.from_pdgid(2112).mass) / 1000.0
_M_KLONG = float(Particle.from_pdgid(130).mass) / 1000.0
#: mass of every kind [GeV] (pi0 / invisible / unknown: unused)
_KIND_MASS = np.array(
    [M_ELECTRON, M_MUON, M_PI_CHARGED, M_K_CHARGED, _M_PROTON, 0.0, _M_KLONG, _M_NEUTRON]
    + [0.0] * 3
)
_KIND_MASS32 = _KIND_MASS.astype(np.float32)
#: charge of track species by (pdg > 0) * 5 + species (e-: 11, mu-: 13, pi+: 211, K+, p)
_CHARGE_LUT = np.array([1, 1, -1, -1, -1, -1, -1, 1, 1, 1], np.int8)
#: shower-shape class of every kind (0 electromagnetic, 1 MIP, 2 hadronic)
_SHAPE_CLASS = np.array([0, 1, 1, 1, 1, 0, 2, 2, 0, 0, 0], np.intp)
#: GeV / (T m): pT = 0.3 B R for a helix of radius R
_C_GEV_PER_T_M = 0.299792458


def _kind_of(pdg: NDArray[np.integer]) -> NDArray[np.int8]:
    a = np.abs(pdg)
    kind = _KIND_LUT[np.minimum(a, _LUT_SIZE - 1)]
    kind[a >= _LUT_SIZE - 1] = UNKNOWN
    return kind


def _charge(species: NDArray[np.int8], pdg: NDArray[np.int64]) -> NDArray[np.int8]:
    """Electric charge of track species from the sign of the pdg code."""
    return _CHARGE_LUT[(pdg > 0) * np.int8(5) + species]


def _resolve(experiment: str | DetectorConfig) -> DetectorConfig:
    if isinstance(experiment, DetectorConfig):
        return experiment
    return get_config(experiment)


# ---------------------------------------------------------------------------------------------
# public entry points


def simulate(
    batch: EventBatch,
    experiment: str | DetectorConfig,
    rng: np.random.Generator,
    *,
    chunk_events: int | None = None,
    workers: int | None = None,
) -> RecoEvents:
    """Fast detector simulation of ``batch`` for ``experiment`` (name or config).

    The batch is processed in slices of ``chunk_events`` events (default: slices of about
    ``AUTO_CHUNK_PARTICLES`` particles), which bounds the working memory by the slice; the
    result is their concatenation. ``workers`` threads simulate slices in parallel (default
    :func:`default_workers`); the output does not depend on it. See the module docstring for
    the random-number streams.
    """
    if not isinstance(batch, EventBatch):
        raise ValueError(f"batch must be an EventBatch, got {type(batch).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if chunk_events is not None and (
        isinstance(chunk_events, bool)
        or not isinstance(chunk_events, int | np.integer)
        or chunk_events < 1
    ):
        raise ValueError(f"chunk_events must be a positive integer, got {chunk_events!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    cfg = _resolve(experiment)
    offsets = np.asarray(batch.particles.offsets)
    bounds = _chunk_bounds(offsets, batch.n_events, chunk_events)
    streams = rng.spawn(len(bounds) - 1)
    if len(bounds) == 2:
        return _simulate_batch(batch, cfg, streams[0])
    # upper bounds on the numbers of tracks and clusters, slice by slice (bounded memory)
    pdg = np.asarray(batch.particles.columns["pdg"])
    max_tracks = max_clusters = 0
    for lo, hi in zip(offsets[bounds[:-1]], offsets[bounds[1:]], strict=True):
        kind = _kind_of(pdg[lo:hi])
        max_tracks += int(np.count_nonzero(kind <= P))
        max_clusters += int(np.count_nonzero(kind <= NEUTRON) + 2 * np.count_nonzero(kind == PI0))
    assembler = _Assembler(batch.n_events, max_tracks, max_clusters)
    jobs = [
        (int(a), int(b), stream)
        for a, b, stream in zip(bounds[:-1], bounds[1:], streams, strict=True)
    ]

    def run(job: tuple[int, int, np.random.Generator]) -> RecoEvents:
        a, b, stream = job
        return _simulate_batch(_slice_batch(batch, a, b), cfg, stream)

    n_workers = min(default_workers() if workers is None else workers, len(jobs))
    if n_workers == 1:
        for job in jobs:
            assembler.add(run(job))
        return assembler.result()
    # numpy releases the GIL in its array loops and random fills: slices run in threads, at
    # most n_workers + 1 in flight (memory bounded by the slice), assembled in order
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        pending: deque[Future[RecoEvents]] = deque()
        for job in jobs:
            pending.append(pool.submit(run, job))
            if len(pending) > n_workers:
                assembler.add(pending.popleft().result())
        while pending:
            assembler.add(pending.popleft().result())
    return assembler.result()


def default_workers() -> int:
    """Threads used by :func:`simulate` by default: the CPUs this process may run on (at
    most 4); ``DARKSCAN_THREADS`` overrides."""
    env = os.environ.get("DARKSCAN_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"DARKSCAN_THREADS must be a positive integer, got {env!r}") from None
        if value < 1:
            raise ValueError(f"DARKSCAN_THREADS must be a positive integer, got {env!r}")
        return value
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


class _Assembler:
    """Collects the slices of one batch into output arrays allocated once (upper bounds on
    the numbers of tracks and clusters; the unused tail is never touched), so the output is
    written once instead of being concatenated."""

    def __init__(self, n_events: int, max_tracks: int, max_clusters: int) -> None:
        self.n_events = n_events
        self.capacity = {"tracks": max_tracks, "clusters": max_clusters}
        self.cols: dict[str, dict[str, NDArray[Any]]] = {}
        self.offsets = {k: np.zeros(n_events + 1, np.int64) for k in self.capacity}
        self.fill = dict.fromkeys(self.capacity, 0)
        self.event: dict[str, NDArray[Any]] = {}
        self.n_done = 0
        self.meta: dict[str, Any] = {}
        self.unsimulated: set[int] = set()
        self.n_unsimulated = 0

    def add(self, part: RecoEvents) -> None:
        a, b = self.n_done, self.n_done + part.n_events
        for name, obj in (("tracks", part.tracks), ("clusters", part.clusters)):
            if name not in self.cols:
                self.cols[name] = {
                    k: np.empty((self.capacity[name], *v.shape[1:]), v.dtype)
                    for k, v in obj.columns.items()
                }
            cols = self.cols[name]
            lo = self.fill[name]
            m = int(obj.offsets[-1])
            for k, v in obj.columns.items():
                cols[k][lo : lo + m] = v
            self.offsets[name][a + 1 : b + 1] = obj.offsets[1:] + lo
            self.fill[name] = lo + m
        for k, v in part.event.items():
            if k not in self.event:
                self.event[k] = np.empty((self.n_events, *v.shape[1:]), v.dtype)
            self.event[k][a:b] = v
        if not self.meta:
            self.meta = dict(part.meta)
        self.n_unsimulated += int(part.meta.get("n_unsimulated", 0))
        self.unsimulated.update(int(x) for x in part.meta.get("unsimulated_pdg", []))
        self.n_done = b

    def result(self) -> RecoEvents:
        objs = {
            name: Objects(self.offsets[name], {k: v[: self.fill[name]] for k, v in cols.items()})
            for name, cols in self.cols.items()
        }
        meta = {
            **self.meta,
            "n_unsimulated": self.n_unsimulated,
            "unsimulated_pdg": sorted(self.unsimulated),
        }
        return RecoEvents(objs["tracks"], objs["clusters"], self.event, meta)


def simulate_iter(
    batches: Iterable[EventBatch],
    experiment: str | DetectorConfig,
    rng: np.random.Generator,
    *,
    chunk_events: int | None = None,
) -> Iterator[RecoEvents]:
    """Simulate a stream of batches one at a time (memory bounded by the largest batch)."""
    cfg = _resolve(experiment)
    for batch in batches:
        yield simulate(batch, cfg, rng, chunk_events=chunk_events)


def _chunk_bounds(
    offsets: NDArray[np.int64], n_events: int, chunk_events: int | None
) -> NDArray[np.int64]:
    """Event boundaries of the slices: [0, ..., n_events]."""
    if chunk_events is not None:
        inner = np.arange(int(chunk_events), n_events, int(chunk_events), dtype=np.int64)
    else:
        targets = np.arange(AUTO_CHUNK_PARTICLES, offsets[-1], AUTO_CHUNK_PARTICLES)
        inner = np.unique(np.searchsorted(offsets, targets))
        inner = inner[(inner > 0) & (inner < n_events)]
    return np.concatenate([[0], inner, [n_events]]).astype(np.int64)


def _slice_batch(batch: EventBatch, start: int, stop: int) -> EventBatch:
    """Events ``start:stop`` of ``batch`` (views, no copy of the particle arrays)."""
    off = batch.particles.offsets[start : stop + 1]
    lo, hi = int(off[0]), int(off[-1])
    particles = Objects(off - lo, {k: v[lo:hi] for k, v in batch.particles.columns.items()})
    return EventBatch(
        particles,
        batch.weight[start:stop],
        batch.process,
        {k: v[start:stop] for k, v in batch.truth.items()},
        batch.meta,
    )


def concatenate_reco(parts: list[RecoEvents]) -> RecoEvents:
    """Concatenate reconstructed batches (columns and meta of the first one; the counts of
    unsimulated particles are summed)."""
    if not parts:
        raise ValueError("nothing to concatenate")
    meta = dict(parts[0].meta)
    if "n_unsimulated" in meta:
        meta["n_unsimulated"] = int(sum(p.meta.get("n_unsimulated", 0) for p in parts))
        meta["unsimulated_pdg"] = sorted(
            {int(x) for p in parts for x in p.meta.get("unsimulated_pdg", [])}
        )
    return RecoEvents(
        Objects.concatenate([p.tracks for p in parts]),
        Objects.concatenate([p.clusters for p in parts]),
        {k: np.concatenate([p.event[k] for p in parts]) for k in parts[0].event},
        meta,
    )


def configured_resolutions(experiment: str | DetectorConfig) -> Mapping[str, float]:
    """Reference values of the configured resolutions (for checks and reports): track
    sigma_pT/pT at pT = 1 GeV (beta = 1), cluster sigma_E/E at 0.1, 1 and 8 GeV, vertex
    resolution at the IP [cm]."""
    cfg = _resolve(experiment)
    res = cfg.calorimeter.energy_resolution
    return {
        "track_sigma_pt_over_pt_1gev": float(cfg.tracking.pt_resolution.relative(1.0, 1.0)),
        "cluster_sigma_e_over_e_0.1gev": float(res.relative(0.1)),
        "cluster_sigma_e_over_e_1gev": float(res.relative(1.0)),
        "cluster_sigma_e_over_e_8gev": float(res.relative(8.0)),
        "vertex_sigma_ip_cm": float(cfg.tracking.vertex.resolution(0.0)),
    }


# ---------------------------------------------------------------------------------------------
# helpers


def _offsets_from_event_index(ev: NDArray[np.int64], n_events: int) -> NDArray[np.int64]:
    out = np.zeros(n_events + 1, np.int64)
    np.cumsum(np.bincount(ev, minlength=n_events), out=out[1:])
    return out


def _segment_argmax(
    values: NDArray[np.float64], ev: NDArray[np.int64], offsets: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per-event maximum of ``values`` (objects sorted by event ``ev`` with CSR ``offsets``)
    and the index of its first occurrence (-inf / -1 for events without objects)."""
    n_events = offsets.size - 1
    vmax = np.full(n_events, -np.inf, values.dtype)
    arg = np.full(n_events, -1, np.int64)
    if values.size == 0:
        return vmax, arg
    nonempty = offsets[1:] > offsets[:-1]
    vmax[nonempty] = np.maximum.reduceat(values, offsets[:-1][nonempty])
    at_max = np.flatnonzero(values == vmax[ev])
    first = np.ones(at_max.size, bool)
    first[1:] = ev[at_max[1:]] != ev[at_max[:-1]]
    at_max = at_max[first]
    arg[ev[at_max]] = at_max
    return vmax, arg


def _tilt(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    pz: NDArray[np.float64],
    pt: NDArray[np.float64],
    p: NDArray[np.float64],
    sigma: NDArray[np.float64],
    z_theta: NDArray[np.float64],
    z_phi: NDArray[np.float64],
) -> tuple[NDArray[np.float64], ...]:
    """Tilt momenta by the small angles a = sigma z_theta along e_theta and b = sigma z_phi
    along e_phi: p + p (a e_theta + b e_phi), whose length is p sqrt(1 + a^2 + b^2).
    Returns (x, y, z, 1 + a^2 + b^2). Needs pt > 0."""
    a = sigma * z_theta
    b = sigma * z_phi
    f = 1.0 + a * pz / pt  # e_theta = (pz px, pz py, -pt^2) / (p pt)
    g = b * p / pt  # e_phi = (-py, px, 0) / pt
    return px * f - g * py, py * f + g * px, pz - a * pt, 1.0 + a * a + b * b


def _decay_pi0(
    kind: NDArray[np.int8],
    pdg: NDArray[np.int64],
    p4: NDArray[np.float64],
    vtx: NDArray[np.float64],
    src: NDArray[np.int64],
    offsets: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[Any, ...]:
    """Replace every pi0 by its two photons (isotropic in the pi0 rest frame)."""
    is_pi0 = kind == PI0
    rep = 1 + is_pi0.astype(np.int64)
    ends = np.cumsum(rep)
    take = np.repeat(np.arange(kind.size), rep)
    first = (ends - rep)[is_pi0]
    cos_t = rng.uniform(-1.0, 1.0, first.size)
    phi = rng.uniform(0.0, 2.0 * np.pi, first.size)
    g1, g2 = two_body_decay(p4[is_pi0], 0.0, 0.0, cos_t, phi)
    new_p4 = p4[take]
    new_p4[first], new_p4[first + 1] = g1, g2
    new_kind = kind[take]
    new_kind[first] = new_kind[first + 1] = GAMMA
    new_pdg = pdg[take]
    new_pdg[first] = new_pdg[first + 1] = 22
    new_offsets = np.concatenate([[0], ends])[offsets]
    return new_kind, new_pdg, new_p4, vtx[take], src[take], new_offsets


def _pt_reach(cfg: DetectorConfig) -> float:
    """pT [GeV] at which a track's helix diameter equals the calorimeter barrel radius."""
    radius_m = cfg.calorimeter.barrel_radius_cm / 100.0
    return 0.5 * _C_GEV_PER_T_M * cfg.magnetic_field_t * radius_m


def _ecl_region(
    cfg: DetectorConfig,
    kind: NDArray[np.int8],
    pdg: NDArray[np.int64],
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    pt: NDArray[np.float64],
    cos_t: NDArray[np.float64],
) -> NDArray[np.int8]:
    """Calorimeter region hit by every particle that can deposit energy (-1: none, a gap, a
    crack, or a charged particle curling up before the barrel)."""
    cal = cfg.calorimeter
    region = cal.region_of(cos_t)
    pt_reach = _pt_reach(cfg)
    dead = (kind > NEUTRON) | ((kind <= P) & (pt <= pt_reach) & (region == 1))
    region[dead] = -1
    cracks = cal.phi_cracks
    if cracks is not None:
        ids = [ECL_REGIONS.index(r) for r in cracks.regions]
        live = np.flatnonzero(np.isin(region, ids))
        phi = np.arctan2(py[live], px[live])
        ch = np.flatnonzero(kind[live] <= P)
        i = live[ch]
        phi[ch] -= _charge(kind[i], pdg[i]) * np.arcsin(np.minimum(1.0, pt_reach / pt[i]))
        region[live[cracks.in_crack(phi)]] = -1
    return region


def _pid_tables(cfg: DetectorConfig) -> list[tuple[Any, ...]]:
    """Per selector (e, mu, K): (config, slope, offset, rate) float32 look-up tables indexed by
    code = species + 5 inside (+ 10 when the score passes), so that
    score = slope[code] u + offset[code] for a uniform u (pass: u < rate[code])."""
    pid = cfg.pid
    wp = pid.working_point
    out = []
    for target in ("electron", "muon", "kaon"):
        idc = getattr(pid, target)
        rate_in = pid.pass_table(target)
        rate_out = rate_in.copy()
        rate_out[TRACK_SPECIES.index(target)] = idc.pass_rate_outside
        rate = np.concatenate([rate_out, rate_in])
        # failing (u >= rate): wp (u - rate) / (1 - rate); passing: wp + (1 - wp) u / rate
        fail_slope = wp / np.where(rate < 1, 1.0 - rate, 1.0)
        pass_slope = (1.0 - wp) / np.where(rate > 0, rate, 1.0)
        slope = np.concatenate([fail_slope, pass_slope]).astype(np.float32)
        offset = np.concatenate([-rate * fail_slope, np.full(rate.size, wp)]).astype(np.float32)
        out.append((idc, slope, offset, rate.astype(np.float32)))
    return out


def _identify(
    cfg: DetectorConfig,
    rng: np.random.Generator,
    species: NDArray[np.int8],
    p: NDArray[np.float64],
    in_ecl: NDArray[np.bool_],
    in_klm: NDArray[np.bool_],
) -> tuple[NDArray[np.float32], ...]:
    """PID scores (pid_e, pid_mu, pid_pi, pid_K) of tracks of the given true species: passing
    scores uniform in (wp, 1) with the configured probability, failing ones in (0, wp)."""
    u = rng.random((3, species.size), dtype=np.float32)
    scores = []
    for j, (idc, slope, offset, rate) in enumerate(_pid_tables(cfg)):
        inside = {"ecl": in_ecl, "klm": in_klm}.get(idc.acceptance)
        if idc.p_min_gev > 0:
            above = p >= idc.p_min_gev
            inside = above if inside is None else inside & above
        if idc.p_max_gev is not None:
            below = p <= idc.p_max_gev
            inside = below if inside is None else inside & below
        if inside is None:  # the whole tracking acceptance
            code = species + np.int8(len(TRACK_SPECIES))
        else:
            code = species + np.int8(len(TRACK_SPECIES)) * inside
        uj = u[j]
        code += np.int8(2 * len(TRACK_SPECIES)) * (uj < rate[code])
        scores.append(slope[code] * uj + offset[code])
    pid_e, pid_mu, pid_k = scores
    return pid_e, pid_mu, 1 - pid_k, pid_k


def _best_mass(pid_e, pid_mu, pid_pi, pid_k, wp: float) -> NDArray[np.float32]:  # noqa: ANN001
    """Mass of the best hypothesis: a lepton whose score passes the working point (the higher
    of the two if both do), otherwise kaon or pion, whichever score is higher."""
    m = np.where(pid_k > pid_pi, np.float32(M_K_CHARGED), np.float32(M_PI_CHARGED))
    m = np.where(pid_mu > wp, np.float32(M_MUON), m)
    return np.where((pid_e > wp) & (pid_e >= pid_mu), np.float32(M_ELECTRON), m)


# ---------------------------------------------------------------------------------------------
# the simulation of one slice


def _simulate_batch(batch: EventBatch, cfg: DetectorConfig, rng: np.random.Generator) -> RecoEvents:
    n_ev = batch.n_events
    parts = batch.particles
    gen_offsets = np.asarray(parts.offsets, np.int64)
    pdg = np.asarray(parts.columns["pdg"]).astype(np.int64, copy=False)
    p4 = np.asarray(parts.columns["p4"], float)
    vtx = np.asarray(parts.columns["vertex"], float)
    if p4.shape != (pdg.size, 4) or vtx.shape != (pdg.size, 3):
        raise ValueError("EventBatch particles: p4 must be (n, 4) and vertex (n, 3)")
    kind = _kind_of(pdg)
    unknown = kind == UNKNOWN
    meta: dict[str, Any] = {
        **dict(batch.meta),
        "process": batch.process,
        "experiment": cfg.name,
        "detector_config": cfg.source,
        "n_unsimulated": int(np.count_nonzero(unknown)),
        "unsimulated_pdg": sorted(int(x) for x in np.unique(pdg[unknown])),
    }
    src = None  # flat index of the generator particle (None: the identity)
    offsets = gen_offsets
    if np.any(kind == PI0):
        src = np.arange(pdg.size, dtype=np.int64)
        kind, pdg, p4, vtx, src, offsets = _decay_pi0(kind, pdg, p4, vtx, src, offsets, rng)
    n = kind.size
    ev = np.repeat(np.arange(n_ev, dtype=np.int32), np.diff(offsets))

    def mc_index(idx: NDArray[np.int64]) -> NDArray[np.int32]:
        """Position of the generator particle inside its event."""
        first = gen_offsets.astype(np.int32)[ev[idx]]
        return (idx if src is None else src[idx]).astype(np.int32) - first

    # working precision float32 (relative 6e-8, far below every resolution): twice the
    # arithmetic throughput of float64; the outputs are float64
    energy, px, py, pz = np.asarray(p4, np.float32).T.copy()
    pt = np.sqrt(px * px + py * py)
    p = np.sqrt(pt * pt + pz * pz)
    cos_t = np.divide(pz, p, out=np.ones(n, np.float32), where=p > 0)
    region = _ecl_region(cfg, kind, pdg, px, py, pt, cos_t)
    klm = cfg.klm
    k_lo, k_hi = klm.cos_window
    at_origin = not vtx.any()
    prompt = at_origin or not np.any(vtx[:, :2])  # every production vertex on the beam line

    # ----------------------------------------------------------------- tracks
    tr = cfg.tracking
    c_lo, c_hi = tr.cos_window
    cand = np.flatnonzero((kind <= P) & (cos_t >= c_lo) & (cos_t <= c_hi) & (pt > tr.pt_min_gev))
    eff0 = tr.efficiency * float(tr.vertex.efficiency_factor(0.0))
    if prompt:
        it = cand[rng.random(cand.size) < eff0]
        r_t = None
    else:
        r_cand = np.hypot(vtx[cand, 0], vtx[cand, 1]).astype(np.float32)
        eff = np.full(cand.size, eff0)
        displaced = np.flatnonzero(r_cand > 0)
        eff[displaced] = tr.efficiency * tr.vertex.efficiency_factor(r_cand[displaced])
        keep = np.flatnonzero(rng.random(cand.size) < eff)
        it, r_t = cand[keep], r_cand[keep]
    n_t = it.size
    species = kind[it]
    t_px, t_py, t_pz, pt_t, p_t = px[it], py[it], pz[it], pt[it], p[it]
    beta = p_t / energy[it]
    z = rng.standard_normal((3, n_t), dtype=np.float32)
    pt_reco = pt_t * np.abs(1.0 + tr.pt_resolution.relative(pt_t, beta) * z[0])
    dx, dy, dz, _ = _tilt(
        t_px, t_py, t_pz, pt_t, p_t, tr.angle_resolution.sigma(p_t, beta), z[1], z[2]
    )
    scale = pt_reco / np.sqrt(dx * dx + dy * dy)
    t_p4 = np.empty((n_t, 4))
    t_p4[:, 1] = dx * scale
    t_p4[:, 2] = dy * scale
    tpz = dz * scale
    t_p4[:, 3] = tpz
    # vertex: the point of closest approach, smeared across the track in the transverse plane
    # (d0) and along the beam (z0)
    z = rng.standard_normal((2, n_t), dtype=np.float32)
    sig_v = float(tr.vertex.resolution(0.0))
    t_vtx = np.zeros((n_t, 3)) if at_origin else vtx[it]
    if r_t is not None:
        sig_v = np.full(n_t, sig_v, np.float32)
        displaced = np.flatnonzero(r_t > 0)
        sig_v[displaced] = tr.vertex.resolution(r_t[displaced])
    d0 = (sig_v / pt_t) * z[0]
    t_vtx[:, 0] -= d0 * t_py
    t_vtx[:, 1] += d0 * t_px
    t_vtx[:, 2] += sig_v * z[1]
    t_in_klm = (cos_t[it] >= k_lo) & (cos_t[it] <= k_hi)
    pid_e, pid_mu, pid_pi, pid_k = _identify(cfg, rng, species, p_t, region[it] >= 0, t_in_klm)
    m_hyp = _best_mass(pid_e, pid_mu, pid_pi, pid_k, cfg.pid.working_point)
    t_p = np.sqrt(pt_reco * pt_reco + tpz * tpz)
    # energy from the float64 components: p4 is on the mass shell of the hypothesis exactly
    t_p4[:, 0] = np.sqrt(np.einsum("ij,ij->i", t_p4[:, 1:], t_p4[:, 1:]) + m_hyp.astype(float) ** 2)
    t_ev = ev[it]
    track_row = np.full(n, -1, np.int32)
    track_row[it] = np.arange(n_t)

    # ----------------------------------------------------------------- calorimeter deposits
    cal = cfg.calorimeter
    live = np.flatnonzero(region >= 0)
    lk = kind[live]
    e_dep = energy[live]  # photons and electrons shower fully
    mip = np.flatnonzero((lk >= MU) & (lk <= P))
    e_dep[mip] = np.minimum(cal.mip_energy_gev, e_dep[mip] - _KIND_MASS32[lk[mip]])
    nh = np.flatnonzero(lk >= KLONG)
    if nh.size:
        interacts = rng.random(nh.size) < cal.neutral_hadron_interaction_probability
        kinetic = e_dep[nh] - _KIND_MASS32[lk[nh]]
        e_dep[nh] = np.where(interacts, cal.neutral_hadron_energy_fraction * kinetic, 0)
        has_dep = np.flatnonzero(e_dep > 0)
        live, e_dep = live[has_dep], e_dep[has_dep]
    n_d = live.size
    e_meas = rng.standard_normal(n_d, dtype=np.float32)
    e_meas *= cal.energy_resolution.relative(e_dep)
    e_meas += 1.0
    e_meas *= e_dep
    u_eff = rng.random(n_d, dtype=np.float32)
    det = np.flatnonzero((e_meas > cal.photon_threshold_gev) & (u_eff < cal.efficiency))
    d_idx = live[det]  # particle index of every detected deposit (ascending)
    d_e = e_meas[det]
    d_row = track_row[d_idx]
    matched = d_row >= 0
    mi = np.flatnonzero(matched)
    e_cluster = np.zeros(n_t)
    e_cluster[d_row[mi]] = d_e[mi]

    # unmatched deposits are the clusters: smear the direction, bend charged ones in phi
    ci = np.flatnonzero(~matched)
    c_idx = d_idx[ci]
    c_e = d_e[ci]
    n_c = ci.size
    z = rng.standard_normal((2, n_c), dtype=np.float32)
    c_p = p[c_idx]
    cx, cy, cz, norm2 = _tilt(
        px[c_idx], py[c_idx], pz[c_idx], pt[c_idx], c_p, cal.angle_resolution.sigma(c_e), z[0], z[1]
    )
    ck = kind[c_idx]
    ch = np.flatnonzero(ck <= P)
    if ch.size:
        i = c_idx[ch]
        ang = -_charge(kind[i], pdg[i]) * np.arcsin(np.minimum(1.0, _pt_reach(cfg) / pt[i]))
        ca, sa = np.cos(ang), np.sin(ang)
        x0, y0 = cx[ch], cy[ch]
        cx[ch], cy[ch] = ca * x0 - sa * y0, sa * x0 + ca * y0
    inv = 1.0 / (c_p * np.sqrt(norm2))
    c_u = (cx * inv, cy * inv, cz * inv)  # unit vectors
    c_p4 = np.empty((n_c, 4))
    for k in range(3):
        c_p4[:, k + 1] = c_u[k] * c_e
    c_p4[:, 0] = np.sqrt(np.einsum("ij,ij->i", c_p4[:, 1:], c_p4[:, 1:]))  # massless exactly
    shape_class = _SHAPE_CLASS[ck]
    lo_hi = np.array([cal.e9e21_em, cal.e9e21_mip, cal.e9e21_hadron], np.float32)
    e9e21 = rng.random(n_c, dtype=np.float32)
    e9e21 *= (lo_hi[:, 1] - lo_hi[:, 0])[shape_class]
    e9e21 += lo_hi[shape_class, 0]
    clusters = Objects(
        _offsets_from_event_index(ev[c_idx], n_ev),
        {
            "p4": c_p4,
            "region": region[c_idx],
            "pdg_true": pdg[c_idx].astype(np.int32),
            "e9e21": e9e21,
            "mc_index": mc_index(c_idx),
        },
    )

    # ----------------------------------------------------------------- KLM / IFR
    # neutral hadrons, photons the calorimeter missed, and untracked muons reaching the KLM
    maybe = (kind >= GAMMA) & (kind <= NEUTRON)
    maybe[d_idx[kind[d_idx] == GAMMA]] = False  # photons seen by the calorimeter
    klm_cand = np.flatnonzero(maybe & (cos_t >= k_lo) & (cos_t <= k_hi))
    kc = kind[klm_cand]
    ec = energy[klm_cand]
    ok = np.where(
        kc == GAMMA, ec > klm.photon_recovery_e_min_gev, p[klm_cand] > klm.hadron_p_min_gev
    )
    klm_cand, kc = klm_cand[ok], kc[ok]
    eff = np.array([klm.photon_recovery_efficiency, klm.klong_efficiency, klm.neutron_efficiency])
    klm_hits = klm_cand[rng.random(klm_cand.size) < eff[kc - GAMMA]]
    mu = np.flatnonzero(kind == MU)
    mu = mu[
        (track_row[mu] < 0)
        & (cos_t[mu] >= k_lo)
        & (cos_t[mu] <= k_hi)
        & (p[mu] > klm.muon_p_min_gev)
    ]
    klm_n = np.bincount(np.concatenate([ev[klm_hits], ev[mu]]), minlength=n_ev)

    t_offsets = _offsets_from_event_index(t_ev, n_ev)
    tracks = Objects(
        t_offsets,
        {
            "p4": t_p4,
            "charge": _charge(species, pdg[it]),
            "pdg_true": pdg[it].astype(np.int32),
            "pid_e": pid_e,
            "pid_mu": pid_mu,
            "pid_pi": pid_pi,
            "pid_K": pid_k,
            "vertex": t_vtx,
            "e_cluster": e_cluster,
            "mc_index": mc_index(it),
        },
    )

    # ----------------------------------------------------------------- triggers
    # Deposits too soft to matter for any line are left out (exact: see _Trigger.threshold).
    sel = np.flatnonzero(d_e > _Trigger.threshold(cfg))
    s_idx = d_idx[sel]
    s_p = p[s_idx]
    s_u = [px[s_idx] / s_p, py[s_idx] / s_p, pz[s_idx] / s_p]  # tracks: direction at the IP
    cluster_pos = np.full(d_e.size, -1, np.int32)
    cluster_pos[ci] = np.arange(n_c)
    pos = cluster_pos[sel]
    own = np.flatnonzero(pos >= 0)
    pos = pos[own]
    for k in range(3):
        s_u[k][own] = c_u[k][pos]
    trig = _Trigger(
        cfg,
        n_ev,
        d_e=d_e[sel],
        d_u=s_u,
        d_ev=ev[s_idx],
        t_ev=t_ev,
        t_offsets=t_offsets,
        t_p=t_p,
        t_pt=pt_reco,
        t_pz=tpz,
        t_z=t_vtx[:, 2],
        t_klm_muon=(species == MU) & t_in_klm & (p_t > klm.muon_p_min_gev),
    )
    event: dict[str, NDArray[Any]] = {"weight": np.asarray(batch.weight, float)}
    event.update(trig.flags(rng))
    event["klm_n_neutral"] = klm_n.astype(np.int32)
    event["klm_veto"] = klm_n > 0
    for k, v in batch.truth.items():
        event[f"truth_{k}"] = np.asarray(v)
    return RecoEvents(tracks, clusters, event, meta)


class _Trigger:
    """Trigger lines on reconstructed objects: calorimeter deposits ``d_*`` (lab energy
    [GeV], unit direction, event index) and tracks ``t_*``."""

    def __init__(self, cfg: DetectorConfig, n_events: int, **obj: Any) -> None:
        self.cfg = cfg
        self.n = n_events
        self.o = obj
        self._cache: dict[str, Any] = {}
        self.d_offsets = _offsets_from_event_index(obj["d_ev"], n_events)
        self.beta = get_collider(cfg.collider).boost
        self.offsets = {"d": self.d_offsets, "t": obj["t_offsets"]}

    @staticmethod
    def threshold(cfg: DetectorConfig) -> float:
        """Lab energy below which no deposit can change any line: E* <= gamma (1 + |beta|) E
        for a massless deposit, so a deposit below every CM threshold / (gamma (1 + |beta|)),
        every lab threshold and every 'other deposit' threshold is irrelevant (the leading
        deposits and the counts above the thresholds are unchanged without it)."""
        beta = get_collider(cfg.collider).boost
        b = float(np.linalg.norm(beta))
        boost_max = (1.0 + b) / math.sqrt(1.0 - b * b)
        cuts = []
        veto = False
        for line in cfg.trigger.lines:
            if isinstance(line, EclTriggerLine):
                cuts.append(line.e_min_gev / (boost_max if line.frame == "cm" else 1.0))
                if line.max_other_energy_gev is not None:
                    cuts.append(line.max_other_energy_gev)
            if isinstance(line, EclTriggerLine | TrackTriggerLine) and line.veto_back_to_back:
                veto = True
        if veto:
            cuts.append(cfg.trigger.back_to_back.min_energy_cm_gev / boost_max)
        return 0.999 * min(cuts) if cuts else math.inf

    def _e_cm(self) -> NDArray[np.float64]:
        """E* = gamma E (1 - beta.u) of the (massless) deposits in the CM frame."""
        if "e_cm" not in self._cache:
            bx, by, bz = (float(b) for b in self.beta)
            gamma = 1.0 / math.sqrt(1.0 - bx * bx - by * by - bz * bz)
            ux, uy, uz = self.o["d_u"]
            self._cache["e_cm"] = gamma * self.o["d_e"] * (1.0 - bx * ux - by * uy - bz * uz)
        return self._cache["e_cm"]

    def _leading(self, frame: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        key = f"lead_{frame}"
        if key not in self._cache:
            values = self._e_cm() if frame == "cm" else self.o["d_e"]
            self._cache[key] = _segment_argmax(values, self.o["d_ev"], self.d_offsets)
        return self._cache[key]

    def _cm_direction(self, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        """CM-frame unit vectors of the deposits ``idx``."""
        e = self.o["d_e"][idx]
        p4 = np.stack([e] + [e * u[idx] for u in self.o["d_u"]], axis=-1)
        p4_cm = boost(p4, -self.beta)
        return p4_cm[:, 1:] / p4_cm[:, :1]

    def _back_to_back(self) -> NDArray[np.bool_]:
        """The two most energetic deposits (CM) each above the veto energy and back to back:
        only events with two deposits above the veto energy can have it, so the search runs
        over those deposits alone."""
        if "b2b" not in self._cache:
            veto = self.cfg.trigger.back_to_back
            e_cm = self._e_cm()
            above = e_cm > veto.min_energy_cm_gev
            two = self._count("d", above) >= 2
            idx = np.flatnonzero(above & two[self.o["d_ev"]])
            ev = self.o["d_ev"][idx]
            offsets = _offsets_from_event_index(ev, self.n)
            _, i1 = _segment_argmax(e_cm[idx], ev, offsets)
            rest = e_cm[idx]
            rest[i1[i1 >= 0]] = -np.inf
            _, i2 = _segment_argmax(rest, ev, offsets)
            sel = np.flatnonzero(i2 >= 0)
            n1 = self._cm_direction(idx[i1[sel]])
            n2 = self._cm_direction(idx[i2[sel]])
            b2b = np.zeros(self.n, bool)
            b2b[sel] = np.sum(n1 * n2, axis=1) < -math.cos(math.radians(veto.max_acollinearity_deg))
            self._cache["b2b"] = b2b
        return self._cache["b2b"]

    def _count(self, kind: str, mask: NDArray[np.bool_]) -> NDArray[np.int32]:
        """Per-event number of deposits (``kind`` 'd') or tracks ('t') where ``mask``."""
        offsets = self.offsets[kind]
        cumulative = np.zeros(mask.size + 1, np.int32)
        np.cumsum(mask, out=cumulative[1:])
        return cumulative[offsets[1:]] - cumulative[offsets[:-1]]

    def _ecl_line(self, line: EclTriggerLine) -> NDArray[np.bool_]:
        e_lead, i_lead = self._leading(line.frame)
        fired = e_lead > line.e_min_gev  # -inf without deposits
        cz = self.o["d_u"][2][i_lead[fired]]
        c_lo, c_hi = np.cos(np.radians([line.theta_max_deg, line.theta_min_deg]))
        fired[fired] = (cz >= c_lo) & (cz <= c_hi)
        if line.max_other_energy_gev is not None:
            e = self.o["d_e"]
            above = self._count("d", e > line.max_other_energy_gev)
            lead_above = np.zeros(self.n, np.int64)
            lead_above[fired] = e[i_lead[fired]] > line.max_other_energy_gev
            fired &= (above - lead_above) == 0
        if line.veto_back_to_back:
            fired &= ~self._back_to_back()
        if line.max_tracks is not None:
            n_trk = self._count("t", self.o["t_p"] > line.track_p_min_gev)
            fired &= n_trk <= line.max_tracks
        return fired

    def _track_line(self, line: TrackTriggerLine) -> NDArray[np.bool_]:
        if "t_cos" not in self._cache:
            self._cache["t_cos"] = self.o["t_pz"] / self.o["t_p"]
        cos_t = self._cache["t_cos"]
        c_lo, c_hi = np.cos(np.radians([line.theta_max_deg, line.theta_min_deg]))
        sel = (self.o["t_pt"] > line.pt_min_gev) & (cos_t >= c_lo) & (cos_t <= c_hi)
        if line.max_abs_z_cm is not None:
            sel &= np.abs(self.o["t_z"]) < line.max_abs_z_cm
        if line.klm_muon:
            sel &= self.o["t_klm_muon"]
        fired = self._count("t", sel) >= line.n_min
        if line.veto_back_to_back:
            fired &= ~self._back_to_back()
        return fired

    def flags(self, rng: np.random.Generator) -> dict[str, NDArray[np.bool_]]:
        """``trg_<line>`` for every line, in file order (efficiency draws in that order)."""
        out: dict[str, NDArray[np.bool_]] = {}
        for line in self.cfg.trigger.lines:
            if isinstance(line, CombinedTriggerLine):
                fired = np.ones(self.n, bool)
                for ref in line.all_of:
                    fired &= out[f"trg_{ref}"]
                if line.any_of:
                    fired &= np.logical_or.reduce([out[f"trg_{r}"] for r in line.any_of])
            else:
                if isinstance(line, EclTriggerLine):
                    fired = self._ecl_line(line)
                else:
                    fired = self._track_line(line)
                if line.efficiency < 1.0:
                    fired &= rng.random(self.n, dtype=np.float32) < line.efficiency
            out[f"trg_{line.name}"] = fired
        return out


__all__ = [
    "AUTO_CHUNK_PARTICLES",
    "concatenate_reco",
    "configured_resolutions",
    "simulate",
    "simulate_iter",
]
