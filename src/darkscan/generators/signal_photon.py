"""Two-body dark-sector signals with initial-state radiation: e+e- -> gamma A', gamma a, A' h'.

Every generator here follows the same chain, vectorised over events (no Python loop over
events):

1. **ISR** (:mod:`darkscan.physics.isr`): x from the Kuraev-Fadin radiator (weight W / g), one
   photon in the CM frame with the eikonal (or collinear) angular distribution; the hard
   process happens at s' = s (1 - x) in the rest frame of the recoiling system, reached from the
   CM frame by a pure boost. ISR photons with x < ``isr_x_soft`` are not emitted (kinematics at
   x = 0, weight at the sampled x: the total stays exact). ``isr=False`` switches ISR off.
   The structure function is the collinear (leading-log) approximation: a hard ISR photon at
   a large angle is described only approximately (it overlaps with the tree-level photon of
   gamma A'), which matters only for events with two energetic photons in the detector.
2. **Hard process** in its rest frame (the "hard frame"): theta* is the polar angle of the first
   particle of the process name (the photon in gamma A' and gamma a, the A' in A' h') to +z,
   the e- beam direction (exactly without ISR or with collinear ISR; to within the small ISR
   photon angle otherwise); phi* is uniform. cos(theta*) is drawn by importance sampling of the
   exact differential cross section of the model (:mod:`darkscan.models`) and the weight is
   d sigma / d cos / g [fb]; with ISR the cross section is evaluated at s'.
3. **CM -> lab**: the constant Lorentz transformation of :func:`cm_to_lab_matrix` (a rotation
   that puts the CM-frame e- beam along +z, then the collider's full boost, crossing angle
   included). Final-state four-momenta are then exactly conserved: the sum of all stored
   particles equals p(e-) + p(e+) of the collider in every event.
4. **Decays** of visible mediators in the lab: isotropic in the mediator rest frame (spin
   correlations neglected), decay point at distance beta gamma c tau * Exp(1) along the flight
   direction from the interaction point (0, 0, 0). The decay products are stored at that vertex
   however far it is: the detector simulation decides what is reconstructed.

Weights are fb per event: the sum of weights estimates the cross section inside the generation
cuts, including ISR and the decay branching fraction of the stored channel. Particles of an
event are stored in a fixed order: the hard-process particles (decay products replacing their
mediator), then the ISR photon when one was emitted. Truth columns (one entry per event):

* ``cos_theta_star``: cos(theta*) in the hard frame (see 2.);
* ``x_isr``: the ISR energy fraction used in the kinematics (0 for no or a soft photon);
* ``m_x2``: recoil mass squared against the first particle X of the process,
  (p_e- + p_e+ - p_X)^2 = s + m_X^2 - 2 sqrt(s) E*_X [GeV^2] with the nominal beams (m_A'^2,
  m_a^2 and m_h'^2 without ISR);
* ``decay_length_cm``: lab flight distance of the decaying mediator (visible decays only).

Processes
---------
:class:`GammaDarkPhoton` ``ee-gamma-aprime``: d sigma / dz has poles 1 / (1 - z^2); z is drawn
from g ~ 1 / (1 - z^2) on the generation range (z = tanh of a uniform rapidity), so that the
weight f / g is bounded, within a factor (2 + k) / (1 + k), k = 4 r / (1 - r)^2. The cross
section grows like 1 / (s' - m^2) as ISR pushes s' towards m^2 (the photon becomes soft):
``e_gamma_min``, a minimal photon energy in the hard frame, bounds s' and the ISR sampler has a
channel for that growth. ``decay="invisible"``: A' stored as one particle, PDG 55, whose
momentum is the missing momentum, with BR(A' -> invisible) = 1 (the mono-photon benchmark,
A' -> chi chi dominant). ``decay="visible"``: A' -> l+ l- (``channel`` "e+e-" or "mu+mu-"),
weight times BR of the visible dark photon of the model, c tau from its total width.

:class:`GammaALP` ``ee-gamma-alp``: d sigma / dz ~ (1 + z^2) is sampled exactly (cubic
inversion), the weight is the model's cross section at s' over the generation range;
a -> gamma gamma isotropic in the ALP rest frame (three photons), displaced by the ALP c tau.

:class:`DarkHiggsstrahlung` ``ee-aprime-hprime``: d sigma / dz = a + b (1 - z^2) (z of the A')
with s'-dependent a, b from the model, sampled exactly per event as a mixture of a flat and a
parabolic (inverted by the trigonometric solution of the cubic) density; A' -> mu+ mu-
(``channel``), h' stored undecayed, PDG 54: with m_h' < m_A' and no Higgs mixing h' only
decays through two off-shell A' (~eps^4) and leaves the detector (Belle II, PRL 130, 071804
(2023)); m_h' >= m_A' is refused (h' -> A' A'(*) decays are not simulated).

Stable mediators stored undecayed (PDG 54 or 55) never leave a signal in the detector.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from darkscan import __version__
from darkscan.colliders import Collider
from darkscan.generators.base import (
    PDG_SCALAR_MEDIATOR,
    PDG_VECTOR_MEDIATOR,
    EventBatch,
    Objects,
    Process,
)
from darkscan.models import get_model
from darkscan.physics import isr as isr_mod
from darkscan.physics import lorentz
from darkscan.physics.constants import LEPTON_MASSES

Array = NDArray[np.float64]

#: Version of the generators of this module (bumped when the generated events change).
GENERATOR_VERSION = "1.0"
PDG_PHOTON = 22
#: PDG codes of the negative lepton by channel name.
LEPTON_PDG: dict[str, int] = {"e+e-": 11, "mu+mu-": 13}
#: Widening of the default photon generation range beyond the calorimeter, in rapidity
#: artanh(cos theta*) on each side (covers the longitudinal ISR boosts up to x ~ 0.4).
RAPIDITY_MARGIN = 0.25


# ============================================================================ frames
@functools.cache
def cm_to_lab_matrix(collider: Collider) -> Array:
    """4x4 Lorentz transformation (E, px, py, pz)_lab = L @ (E, px, py, pz)_cm.

    The CM frame has the e- beam along +z and the e+ beam along -z: L is the rotation taking
    +z to the e- direction seen from the frame reached from the lab by the pure boost
    -beta_cm (tilted when the beams cross), followed by the boost +beta_cm. Its inverse takes
    lab vectors to this CM frame.
    """
    beta = collider.boost
    n = lorentz.boost(collider.p_minus, -beta)[1:]
    n = n / np.linalg.norm(n)
    # Rodrigues: the smallest rotation taking +z to n (about z x n), R = I + [v] + [v]^2 / (1 + c).
    v = np.array([-n[1], n[0], 0.0])
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    rot = np.eye(4)
    rot[1:, 1:] = np.eye(3) + vx + vx @ vx / (1.0 + n[2])
    columns = [lorentz.boost(rot[:, mu], beta) for mu in range(4)]
    return np.stack(columns, axis=1)


def lab_to_cm_matrix(collider: Collider) -> Array:
    """Inverse of :func:`cm_to_lab_matrix` (eta L^T eta, eta the metric)."""
    eta = np.diag([1.0, -1.0, -1.0, -1.0])
    return eta @ cm_to_lab_matrix(collider).T @ eta


# Four-vectors inside the generators are "structures of arrays": tuples (E, px, py, pz) of
# contiguous (n,) arrays, several times faster than strided (n, k, 4) arrays. They are never
# modified in place (a transformation may return an input component unchanged).
V4 = tuple[Array, Array, Array, Array]


def _transform(matrix: Array, v: V4) -> V4:
    """Constant 4x4 transformation of a V4, skipping the exact zeros and ones of ``matrix``."""
    out = []
    for row in matrix:
        acc = None
        for c, comp in zip(row, v, strict=True):
            if c == 0.0:
                continue
            term = comp if c == 1.0 else c * comp
            acc = term if acc is None else acc + term
        out.append(np.zeros_like(v[0]) if acc is None else acc)
    return tuple(out)  # type: ignore[return-value]


def _from_rest(q: V4, parent: V4, mass: Array | float) -> V4:
    """``q`` given in the rest frame of ``parent`` (axes parallel, pure boost) taken to the frame
    of ``parent`` (mass ``mass`` > 0): E = (E_P q0 + P.q) / m,
    q_vec + P_vec ((P.q) / (m (E_P + m)) + q0 / m), free of the 1 - beta^2 cancellation of
    very boosted parents."""
    e_p, px, py, pz = parent
    pq = px * q[1] + py * q[2] + pz * q[3]
    inv_m = 1.0 / mass
    coef = (pq / (e_p + mass) + q[0]) * inv_m
    return ((e_p * q[0] + pq) * inv_m, q[1] + coef * px, q[2] + coef * py, q[3] + coef * pz)


def _minus(a: V4, b: V4) -> V4:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


def _cos_sin(phi: Array) -> tuple[Array, Array]:
    """cos(phi), sin(phi) for phi in [0, 2 pi): one cosine and a square root (np.sin and np.cos
    are the slowest ufuncs of the chain); |sin| is exact to ~1e-8 absolute near phi = 0, pi."""
    c = np.cos(phi)
    s = np.sqrt(1.0 - c * c)
    return c, np.copysign(s, np.pi - phi, out=s)


def _cos_sin_phi(rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    """cos(phi), sin(phi) of a uniform azimuth (one uniform number per event)."""
    return _cos_sin((2.0 * np.pi) * rng.random(n))


def _polar(e: Array, p: Array | float, cos: Array, sin: Array, cphi: Array, sphi: Array) -> V4:
    """Four-vector of energy e and momentum p along (theta, phi)."""
    ps = p * sin
    return (e, ps * cphi, ps * sphi, p * cos)


class _Decayed(NamedTuple):
    d1: V4
    d2: V4
    vertex: tuple[Array, Array, Array]
    distance: Array


def _decay_isotropic(
    parent: V4, mass: float, m_daughter: float, ctau_cm: float, rng: np.random.Generator
) -> _Decayed:
    """Isotropic two-body decay of ``parent`` [lab] into two particles of mass ``m_daughter``.

    The decay point is parent_vec / mass * c tau * Exp(1) [cm] from the origin (flight distance
    beta gamma c tau Exp(1)). Random numbers: cos, phi of daughter 1 in the rest frame, then the
    exponential decay time.
    """
    n = parent[0].shape[0]
    cos = 2.0 * rng.random(n) - 1.0
    cphi, sphi = _cos_sin_phi(rng, n)
    q = float(np.sqrt(max(0.25 * mass * mass - m_daughter * m_daughter, 0.0)))
    sin = np.sqrt(1.0 - cos * cos)
    rest = _polar(np.full(n, 0.5 * mass), q, cos, sin, cphi, sphi)
    d1 = _from_rest(rest, parent, mass)
    d2 = _minus(parent, d1)
    scale = rng.standard_exponential(n) * (ctau_cm / mass)
    vertex = (parent[1] * scale, parent[2] * scale, parent[3] * scale)
    distance = np.sqrt(parent[1] ** 2 + parent[2] ** 2 + parent[3] ** 2) * scale
    return _Decayed(d1, d2, vertex, distance)


# ============================================================================ common machinery
class _Hard(NamedTuple):
    """First particle of the two-body hard process in the hard frame (the second one recoils),
    weight [fb] (f / g, before the 1 / n), cos(theta*)."""

    first: V4
    weight: Array
    cos_theta_star: Array


class _Slot(NamedTuple):
    """A final-state particle of every event: four-momentum, PDG id, vertex (None = origin)."""

    p4: V4
    pdg: int
    vertex: tuple[Array, Array, Array] | None = None


def _check_range(rng_: tuple[float, float] | None, name: str, closed: bool) -> None:
    if rng_ is None:
        return
    try:
        lo, hi = (float(v) for v in rng_)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (cos_min, cos_max), got {rng_!r}") from exc
    bound_ok = (-1.0 <= lo and hi <= 1.0) if closed else (-1.0 < lo and hi < 1.0)
    if not (bound_ok and lo < hi):
        inside = "[-1, 1]" if closed else "(-1, 1) (the cross section has poles at +-1)"
        raise ValueError(f"{name} must satisfy cos_min < cos_max inside {inside}, got {rng_!r}")


def _check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">=" if allow_zero else ">"
        raise ValueError(f"{name} must be finite and {bound} 0, got {value!r}")


@dataclass(frozen=True)
class _TwoBodyISR(Process):
    """Shared chain: ISR -> two-body hard process in its rest frame -> CM -> lab -> decays.

    ISR fields (keyword-only): ``isr`` (on/off), ``isr_order`` (1 or 2, the radiator order),
    ``isr_nonlog`` (add the non-log constant), ``isr_x_max`` (cap on x, below the kinematic
    limit), ``isr_x_soft`` (x below which no ISR photon is emitted),
    ``isr_angular`` ("eikonal" or "collinear"); see :mod:`darkscan.physics.isr`.
    """

    isr: bool = field(default=True, kw_only=True)
    isr_order: int = field(default=1, kw_only=True)
    isr_nonlog: bool = field(default=False, kw_only=True)
    isr_x_max: float | None = field(default=None, kw_only=True)
    isr_x_soft: float = field(default=isr_mod.X_SOFT, kw_only=True)
    isr_angular: str = field(default="eikonal", kw_only=True)

    def __post_init__(self) -> None:
        if self.isr_order not in isr_mod.ISR_ORDERS:
            raise ValueError(f"isr_order must be one of {list(isr_mod.ISR_ORDERS)}")
        if self.isr_angular not in isr_mod.ISR_ANGULAR:
            raise ValueError(
                f"unknown isr_angular '{self.isr_angular}'; valid: {list(isr_mod.ISR_ANGULAR)}"
            )
        if self.isr_x_max is not None and not 0.0 < self.isr_x_max < 1.0:
            raise ValueError(f"isr_x_max must lie in (0, 1), got {self.isr_x_max!r}")
        if not 0.0 <= self.isr_x_soft < 1.0:
            raise ValueError(f"isr_x_soft must lie in [0, 1), got {self.isr_x_soft!r}")

    # -- hooks
    def _masses(self) -> tuple[float, float]:
        """Masses [GeV] of the two hard-process particles."""
        raise NotImplementedError

    def _s_min(self, collider: Collider) -> float:
        """Smallest s' [GeV^2] of the hard process (threshold and generation cuts); raises
        ValueError when the process is closed at the collider."""
        raise NotImplementedError

    def _pole(self, s: float) -> float | None:
        """y0 = s_pole / s where the hard cross section grows like 1 / (s' - s_pole)."""
        return None

    def _hard(
        self, rng: np.random.Generator, s_hat: Array, s_kin: Array, collider: Collider
    ) -> _Hard:
        raise NotImplementedError

    def _decay(
        self, first: V4, second: V4, rng: np.random.Generator
    ) -> tuple[list[_Slot], dict[str, Array]]:
        """Final-state slots (decay products replacing mediators) and decay truth columns."""
        raise NotImplementedError

    def _meta_extra(self, collider: Collider) -> dict[str, Any]:
        return {}

    # -- the chain
    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """``n_events`` weighted events [fb per event] in the lab frame of ``collider``.

        Random numbers, in this order: ISR x, ISR photon direction, hard-process angles,
        decays (see each process).
        """
        n = self.check_n_events(n_events)
        sqrt_s = collider.sqrt_s
        s = sqrt_s * sqrt_s
        x_max = 1.0 - self._s_min(collider) / s
        lam = cm_to_lab_matrix(collider)
        if self.isr:
            if self.isr_x_max is not None:
                x_max = min(x_max, self.isr_x_max)
            x, w_isr = isr_mod.sample_x(
                n,
                rng,
                s,
                x_max=x_max,
                order=self.isr_order,
                nonlog=self.isr_nonlog,
                pole=self._pole(s),
            )
            cos_k, sin_k, phi_k = isr_mod.sample_photon_direction(
                n, rng, s, angular=self.isr_angular
            )
            emitted = x >= self.isr_x_soft
            x_kin = np.where(emitted, x, 0.0)
            s_hat = s * (1.0 - x)
            s_kin = s * (1.0 - x_kin)
        else:
            x_max = 0.0
            x_kin = np.zeros(n)
            s_hat = s_kin = np.full(n, s)
        hard = self._hard(rng, s_hat, s_kin, collider)
        first_cm = hard.first
        if self.isr:
            k0 = (0.5 * sqrt_s) * x_kin
            k_sin = k0 * sin_k
            cphi_k, sphi_k = _cos_sin(phi_k)
            k_cm = (k0, k_sin * cphi_k, k_sin * sphi_k, k0 * cos_k)
            recoil = (sqrt_s - k0, -k_cm[1], -k_cm[2], -k_cm[3])
            first_cm = _from_rest(first_cm, recoil, np.sqrt(s_kin))
            k_lab = _transform(lam, k_cm)
        m_first, _ = self._masses()
        m_x2 = (s + m_first * m_first) - (2.0 * sqrt_s) * first_cm[0]
        first = _transform(lam, first_cm)
        p_tot = collider.p_total
        second = tuple(p_tot[i] - first[i] for i in range(4))
        if self.isr:
            second = _minus(second, k_lab)
        slots, decay_truth = self._decay(first, second, rng)  # type: ignore[arg-type]
        weight = hard.weight if not self.isr else w_isr * hard.weight
        weight *= 1.0 / max(n, 1)  # mean of f / g -> the sum of weights is the cross section
        if self.isr:
            slots.append(_Slot(k_lab, PDG_PHOTON))
        particles = _assemble(slots, n, emitted if self.isr else None)
        truth = {"cos_theta_star": hard.cos_theta_star, "x_isr": x_kin, "m_x2": m_x2}
        truth.update(decay_truth)
        meta = {
            "process": self.name,
            "generator": f"{__name__}.{type(self).__name__}",
            "generator_version": GENERATOR_VERSION,
            "darkscan_version": __version__,
            "params": dataclasses.asdict(self),
            "collider": collider.name,
            "sqrt_s": sqrt_s,
            "x_max": float(x_max),  # ISR range (0 without ISR)
            "weight_unit": "fb",
            **self._meta_extra(collider),
        }
        return EventBatch(particles, weight, self.name, truth, meta)


_VOID32 = np.dtype((np.void, 32))
_VOID24 = np.dtype((np.void, 24))
#: Events per block when interleaving the component arrays into the CSR record (the
#: transposition is memory bound: blocks that fit in the L2 cache make it ~8x faster).
_BLOCK = 4096


def _assemble(slots: list[_Slot], n: int, last_present: NDArray[np.bool_] | None) -> Objects:
    """CSR record of the slots in order; the last slot is kept only where ``last_present``
    (None: every slot in every event). Blocks of events are interleaved into a dense
    (block, k, 4) buffer and compacted as 32-byte rows straight into the output."""
    k = len(slots)
    offsets = np.arange(n + 1, dtype=np.int64) * k
    if last_present is not None:
        offsets -= np.arange(n + 1, dtype=np.int64)
        offsets[1:] += np.cumsum(last_present)
    total = int(offsets[-1])
    p4 = np.empty((total, 4))
    vertex = np.zeros((total, 3))
    pdg_slots = np.array([s.pdg for s in slots], dtype=np.int64)
    pdg = np.empty(total, dtype=np.int64)
    with_vertex = [j for j, s in enumerate(slots) if s.vertex is not None]
    block = min(_BLOCK, n)
    buf = np.empty((block, k, 4))
    vbuf = np.zeros((block, k, 3))
    keep_buf = np.ones((block, k), dtype=bool)
    pdg_tile = np.tile(pdg_slots, block)
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        nb = b1 - b0
        dense = buf[:nb]
        for j, slot in enumerate(slots):
            for c in range(4):
                dense[:, j, c] = slot.p4[c][b0:b1]
        o0, o1 = offsets[b0], offsets[b1]
        if last_present is None:
            p4[o0:o1] = dense.reshape(-1, 4)
            pdg[o0:o1] = pdg_tile[: nb * k]
        else:
            keep = keep_buf[:nb]
            keep[:, k - 1] = last_present[b0:b1]
            keep_flat = keep.ravel()
            rows = dense.reshape(-1, 4).view(_VOID32).ravel()[keep_flat]
            p4[o0:o1] = rows.view(np.float64).reshape(-1, 4)
            pdg[o0:o1] = pdg_tile[: nb * k][keep_flat]
        if with_vertex:
            vdense = vbuf[:nb]
            for j in with_vertex:
                for c in range(3):
                    vdense[:, j, c] = slots[j].vertex[c][b0:b1]  # type: ignore[index]
            if last_present is None:
                vertex[o0:o1] = vdense.reshape(-1, 3)
            else:
                rows = vdense.reshape(-1, 3).view(_VOID24).ravel()[keep_flat]
                vertex[o0:o1] = rows.view(np.float64).reshape(-1, 3)
    return Objects(offsets, {"pdg": pdg, "p4": p4, "vertex": vertex})


def _photon_gen_range(given: tuple[float, float] | None, collider: Collider) -> tuple[float, float]:
    """The photon generation range in cos(theta*): ``given``, else the calorimeter acceptance
    mapped to the CM frame, widened by :data:`RAPIDITY_MARGIN` in rapidity on each side."""
    if given is not None:
        return float(given[0]), float(given[1])
    lo, hi = collider.photon_cos_theta_cm_range()
    return (
        float(np.tanh(np.arctanh(lo) - RAPIDITY_MARGIN)),
        float(np.tanh(np.arctanh(hi) + RAPIDITY_MARGIN)),
    )


def _hard_s_min_photon(mass: float, e_min: float) -> float:
    """Smallest s' at which a photon recoiling against ``mass`` has hard-frame energy e_min."""
    return (e_min + np.sqrt(e_min * e_min + mass * mass)) ** 2


def _photon_first(rng: np.random.Generator, s_kin: Array, mass: float, z: Array, sin: Array) -> V4:
    """The photon of gamma + X(mass) at cos(theta*) = z in the hard frame (draws phi)."""
    cphi, sphi = _cos_sin_phi(rng, z.shape[0])
    e = (s_kin - mass * mass) / (2.0 * np.sqrt(s_kin))
    return _polar(e, e, z, sin, cphi, sphi)


# ============================================================================ e+e- -> gamma A'
_DARK_PHOTON = get_model("dark-photon")


def _lepton(channel: str) -> tuple[int, float]:
    """(PDG id of l-, mass [GeV]) of a lepton-pair channel."""
    return LEPTON_PDG[channel], LEPTON_MASSES[channel.split("+")[0]]


@dataclass(frozen=True)
class GammaDarkPhoton(_TwoBodyISR):
    """e+e- -> gamma A' (kinetic mixing ``eps``), A' invisible or decaying to a lepton pair.

    ``mass`` [GeV]: the A' mass (>= 0; > 2 m_l for a visible decay). ``decay``: "invisible"
    (A' stored, PDG 55, BR = 1) or "visible" (A' -> ``channel``, "e+e-" or "mu+mu-").
    ``cos_theta_range``: the generation cut on the photon's cos(theta*) in the hard frame,
    inside (-1, 1) (default: the calorimeter acceptance mapped to the CM frame, widened by
    :data:`RAPIDITY_MARGIN`). ``e_gamma_min`` [GeV]: minimal photon energy in the hard frame
    (bounds the ISR range; must be below (s - m^2) / (2 sqrt(s)); > 0 with ISR).
    Particles per event: gamma, A' (or l-, l+), [ISR gamma].
    """

    mass: float
    eps: float = 1e-3
    decay: str = "invisible"
    channel: str = "e+e-"
    cos_theta_range: tuple[float, float] | None = None
    e_gamma_min: float = 0.1

    name: ClassVar[str] = "ee-gamma-aprime"
    description: ClassVar[str] = "e+e- -> gamma A' (dark photon), A' invisible or -> l+ l-, ISR"
    decays: ClassVar[tuple[str, ...]] = ("invisible", "visible")

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(self.mass, "mass", allow_zero=True)
        _check_positive(self.eps, "eps")
        _check_positive(self.e_gamma_min, "e_gamma_min", allow_zero=not self.isr)
        if self.decay not in self.decays:
            raise ValueError(f"unknown decay '{self.decay}'; valid: {list(self.decays)}")
        if self.decay == "visible":
            if self.channel not in LEPTON_PDG:
                raise ValueError(f"unknown channel '{self.channel}'; valid: {list(LEPTON_PDG)}")
            m_l = _lepton(self.channel)[1]
            if not self.mass > 2.0 * m_l:
                raise ValueError(
                    f"mass {self.mass} GeV is below the {self.channel} threshold {2 * m_l:.6f} GeV"
                )
        _check_range(self.cos_theta_range, "cos_theta_range", closed=False)

    def _masses(self):
        return 0.0, float(self.mass)

    def _s_min(self, collider: Collider) -> float:
        s = collider.sqrt_s**2
        if not self.mass < collider.sqrt_s:
            raise ValueError(
                f"mass {self.mass} GeV must be below sqrt(s) = {collider.sqrt_s:.4f} GeV"
            )
        s_min = _hard_s_min_photon(self.mass, self.e_gamma_min)
        if not s_min < s:
            e_max = (s - self.mass**2) / (2.0 * collider.sqrt_s)
            raise ValueError(
                f"e_gamma_min = {self.e_gamma_min} GeV is above the photon energy "
                f"{e_max:.4f} GeV of e+e- -> gamma A' at m = {self.mass} GeV"
            )
        return s_min

    def _pole(self, s: float) -> float | None:
        return self.mass**2 / s

    def _hard(self, rng, s_hat, s_kin, collider):
        lo, hi = _photon_gen_range(self.cos_theta_range, collider)
        a_lo, a_hi = np.arctanh(lo), np.arctanh(hi)
        n = s_hat.shape[0]
        # g(z) ~ 1 / (1 - z^2): z = tanh(t), t uniform; sqrt(1 - z^2) = 1 / cosh(t).
        t = a_lo + (a_hi - a_lo) * rng.random(n)
        z = np.tanh(t)
        sin = 1.0 / np.cosh(t)
        first = _photon_first(rng, s_kin, self.mass, z, sin)
        dsigma = _DARK_PHOTON.dsigma_dcos_fb(np.sqrt(s_hat), self.mass, z, eps=self.eps)
        weight = dsigma * (sin * sin) * ((a_hi - a_lo) * self._branching_fraction())
        return _Hard(first, weight, z)

    def _branching_fraction(self) -> float:
        if self.decay == "invisible":
            return 1.0
        return float(_DARK_PHOTON.branching_fraction(self.channel, self.mass, eps=self.eps))

    def _ctau_cm(self) -> float:
        return float(_DARK_PHOTON.ctau_cm(self.mass, eps=self.eps))

    def _decay(self, first, second, rng):
        if self.decay == "invisible":
            return [_Slot(first, PDG_PHOTON), _Slot(second, PDG_VECTOR_MEDIATOR)], {}
        pdg, m_l = _lepton(self.channel)
        dec = _decay_isotropic(second, self.mass, m_l, self._ctau_cm(), rng)
        slots = [
            _Slot(first, PDG_PHOTON),
            _Slot(dec.d1, pdg, dec.vertex),
            _Slot(dec.d2, -pdg, dec.vertex),
        ]
        return slots, {"decay_length_cm": dec.distance}

    def _meta_extra(self, collider):
        extra = {
            "cos_theta_range": list(_photon_gen_range(self.cos_theta_range, collider)),
            "branching_fraction": self._branching_fraction(),
        }
        if self.decay == "visible":
            extra["ctau_cm"] = self._ctau_cm()
        return extra


# ============================================================================ e+e- -> gamma a
_ALP = get_model("alp-photon")


@dataclass(frozen=True)
class GammaALP(_TwoBodyISR):
    """e+e- -> gamma a (ALP-strahlung, coupling ``g_agg`` [GeV^-1]), a -> gamma gamma.

    ``mass`` > 0 [GeV]. ``cos_theta_range``: generation range of the recoil photon's
    cos(theta*) in the hard frame (default: the full range, the cross section is finite).
    ``e_gamma_min`` [GeV]: minimal recoil-photon energy in the hard frame (default 0).
    Particles per event: recoil gamma, gamma, gamma (a decay, displaced), [ISR gamma].
    """

    mass: float
    g_agg: float = 1e-3
    cos_theta_range: tuple[float, float] | None = None
    e_gamma_min: float = 0.0

    name: ClassVar[str] = "ee-gamma-alp"
    description: ClassVar[str] = "e+e- -> gamma a (ALP), a -> gamma gamma (3 photons), ISR"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(self.mass, "mass")
        _check_positive(self.g_agg, "g_agg")
        _check_positive(self.e_gamma_min, "e_gamma_min", allow_zero=True)
        _check_range(self.cos_theta_range, "cos_theta_range", closed=True)

    @property
    def _range(self) -> tuple[float, float]:
        if self.cos_theta_range is None:
            return -1.0, 1.0
        return float(self.cos_theta_range[0]), float(self.cos_theta_range[1])

    def _masses(self):
        return 0.0, float(self.mass)

    def _s_min(self, collider):
        s = collider.sqrt_s**2
        if not self.mass < collider.sqrt_s:
            raise ValueError(
                f"mass {self.mass} GeV must be below sqrt(s) = {collider.sqrt_s:.4f} GeV"
            )
        s_min = _hard_s_min_photon(self.mass, self.e_gamma_min)
        if not s_min < s:
            raise ValueError(f"e_gamma_min = {self.e_gamma_min} GeV is above the photon energy")
        return s_min

    def _hard(self, rng, s_hat, s_kin, collider):
        lo, hi = self._range
        n = s_hat.shape[0]
        t_lo, t_hi = lo + lo**3 / 3.0, hi + hi**3 / 3.0
        t = t_lo + (t_hi - t_lo) * rng.random(n)
        # z + z^3/3 = t: z = q - 1/q, q = cbrt(a + sqrt(a^2 + 1)), a = 3t/2 (exact inversion).
        a = 1.5 * t
        q = np.cbrt(a + np.sqrt(a * a + 1.0))
        z = np.minimum(np.maximum(q - 1.0 / q, lo), hi)
        sin = np.sqrt(1.0 - z * z)
        first = _photon_first(rng, s_kin, self.mass, z, sin)
        weight = _ALP.cross_section_fb(
            np.sqrt(s_hat), self.mass, cos_theta_min=lo, cos_theta_max=hi, g_agg=self.g_agg
        )
        return _Hard(first, weight, z)

    def _ctau_cm(self) -> float:
        return float(_ALP.ctau_cm(self.mass, g_agg=self.g_agg))

    def _decay(self, first, second, rng):
        dec = _decay_isotropic(second, self.mass, 0.0, self._ctau_cm(), rng)
        slots = [
            _Slot(first, PDG_PHOTON),
            _Slot(dec.d1, PDG_PHOTON, dec.vertex),
            _Slot(dec.d2, PDG_PHOTON, dec.vertex),
        ]
        return slots, {"decay_length_cm": dec.distance}

    def _meta_extra(self, collider):
        return {"cos_theta_range": list(self._range), "ctau_cm": self._ctau_cm()}


# ============================================================================ e+e- -> A' h'
_DARK_HIGGS = get_model("dark-higgs")


@dataclass(frozen=True)
class DarkHiggsstrahlung(_TwoBodyISR):
    """e+e- -> A' h' (dark Higgsstrahlung), A' -> l+ l-, h' invisible (m_h' < m_A').

    Masses [GeV]: ``m_aprime`` > 2 m_l, 0 <= ``m_hprime`` < ``m_aprime`` (> 0 with ISR).
    Couplings: ``eps`` (kinetic mixing), ``alpha_d`` (g_D^2 / 4 pi). ``cos_theta_range``:
    generation range of the A' cos(theta*) in the hard frame (default: full range). The weight
    includes BR(A' -> l l) of the visible dark photon. Particles per event: l-, l+ (at the A'
    decay vertex), h' (PDG 54, invisible), [ISR gamma].
    """

    m_aprime: float
    m_hprime: float
    eps: float = 1e-3
    alpha_d: float = 0.5
    channel: str = "mu+mu-"
    cos_theta_range: tuple[float, float] | None = None

    name: ClassVar[str] = "ee-aprime-hprime"
    description: ClassVar[str] = (
        "e+e- -> A' h' (dark Higgsstrahlung), A' -> l+ l-, h' invisible (m_h' < m_A'), ISR"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_positive(self.m_aprime, "m_aprime")
        _check_positive(self.m_hprime, "m_hprime", allow_zero=not self.isr)
        _check_positive(self.eps, "eps")
        _check_positive(self.alpha_d, "alpha_d")
        if self.channel not in LEPTON_PDG:
            raise ValueError(f"unknown channel '{self.channel}'; valid: {list(LEPTON_PDG)}")
        m_l = _lepton(self.channel)[1]
        if not self.m_aprime > 2.0 * m_l:
            raise ValueError(
                f"m_aprime {self.m_aprime} GeV is below the {self.channel} threshold "
                f"{2 * m_l:.6f} GeV"
            )
        if not self.m_hprime < self.m_aprime:
            raise ValueError(
                "m_hprime must be below m_aprime (invisible h'); h' -> A' A'(*) decays are "
                f"not simulated (got m_hprime={self.m_hprime}, m_aprime={self.m_aprime})"
            )
        _check_range(self.cos_theta_range, "cos_theta_range", closed=True)

    @property
    def _range(self) -> tuple[float, float]:
        if self.cos_theta_range is None:
            return -1.0, 1.0
        return float(self.cos_theta_range[0]), float(self.cos_theta_range[1])

    def _couplings(self) -> dict[str, float]:
        return {"eps": self.eps, "alpha_d": self.alpha_d, "m_aprime": self.m_aprime}

    def _masses(self):
        return float(self.m_aprime), float(self.m_hprime)

    def _s_min(self, collider):
        threshold = self.m_aprime + self.m_hprime
        if not threshold < collider.sqrt_s:
            raise ValueError(
                f"m_aprime + m_hprime = {threshold} GeV must be below sqrt(s) = "
                f"{collider.sqrt_s:.4f} GeV"
            )
        return threshold * threshold

    def _pole(self, s):
        # sigma(s') ~ 1 / (s' - m_A'^2) above threshold when m_h' << m_A' (massless h' limit).
        return self.m_aprime**2 / s

    def _hard(self, rng, s_hat, s_kin, collider):
        lo, hi = self._range
        n = s_hat.shape[0]
        rs_hat = np.sqrt(s_hat)
        c = self._couplings()
        # d sigma / dz = a + b (1 - z^2) [model]: a = value at z = +-1, b = value at 0 minus a.
        a = _DARK_HIGGS.dsigma_dcos_fb(rs_hat, self.m_hprime, 1.0, **c)
        b = _DARK_HIGGS.dsigma_dcos_fb(rs_hat, self.m_hprime, 0.0, **c) - a
        flat = a * (hi - lo)
        parabola = b * ((hi - lo) - (hi**3 - lo**3) / 3.0)
        sigma = flat + parabola  # = the model's closed-form integral over [lo, hi]
        u_channel = rng.random(n) * sigma
        u = rng.random(n)
        z_flat = lo + (hi - lo) * u
        # Density ~ (1 - z^2): F(z) = (3z - z^3 + 2) / 4, z = 2 sin(asin(2F - 1) / 3).
        f_lo, f_hi = (3 * lo - lo**3 + 2) / 4.0, (3 * hi - hi**3 + 2) / 4.0
        f = f_lo + (f_hi - f_lo) * u
        z_par = 2.0 * np.sin(np.arcsin(2.0 * f - 1.0) * (1.0 / 3.0))  # |z_par| <= 1 exactly
        z = np.where(u_channel < flat, z_flat, z_par)
        sin = np.sqrt(1.0 - z * z)
        cphi, sphi = _cos_sin_phi(rng, n)
        m_a2, m_h2 = self.m_aprime**2, self.m_hprime**2
        e_a = (s_kin + (m_a2 - m_h2)) / (2.0 * np.sqrt(s_kin))
        p = np.sqrt(np.maximum(e_a * e_a - m_a2, 0.0))
        first = _polar(e_a, p, z, sin, cphi, sphi)
        return _Hard(first, sigma * self._branching_fraction(), z)

    def _branching_fraction(self) -> float:
        return float(_DARK_PHOTON.branching_fraction(self.channel, self.m_aprime, eps=self.eps))

    def _ctau_cm(self) -> float:
        return float(_DARK_PHOTON.ctau_cm(self.m_aprime, eps=self.eps))

    def _decay(self, first, second, rng):
        pdg, m_l = _lepton(self.channel)
        dec = _decay_isotropic(first, self.m_aprime, m_l, self._ctau_cm(), rng)
        slots = [
            _Slot(dec.d1, pdg, dec.vertex),
            _Slot(dec.d2, -pdg, dec.vertex),
            _Slot(second, PDG_SCALAR_MEDIATOR),
        ]
        return slots, {"decay_length_cm": dec.distance}

    def _meta_extra(self, collider):
        return {
            "cos_theta_range": list(self._range),
            "branching_fraction": self._branching_fraction(),
            "ctau_cm": self._ctau_cm(),
        }


__all__ = [
    "GENERATOR_VERSION",
    "DarkHiggsstrahlung",
    "GammaALP",
    "GammaDarkPhoton",
    "cm_to_lab_matrix",
    "lab_to_cm_matrix",
]
