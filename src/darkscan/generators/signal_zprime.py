"""Signal generator e+e- -> mu+ mu- Z': an L_mu - L_tau Z' radiated off a final-state muon.

Process and matrix element
--------------------------
e-(p1) e+(p2) -> gamma* -> mu-(q1) mu+(q2) Z'(k), the Z' (vector coupling ``g_prime`` to
muons, none to electrons) emitted from either muon line. The exact spin-summed tree-level
|M|^2 with full muon and Z' masses is the closed form
:func:`darkscan.models.zprime.msq_mumu_zprime_reduced` (derived from the Dirac traces of both
diagrams with the massive polarisation sum -g + k k / M^2, whose k k term cancels between the
two diagrams). Beams massless; photon exchange only (the Z boson changes the rate by O(1 %) at
10.58 GeV); no interference between ISR and FSR; the Z' is narrow (produced on shell).

Phase space and weights (the hard CM frame, e- along +z)
--------------------------------------------------------
Exact three-body phase space d Phi_3 = |k| p* / (256 pi^5 Q) dE_k dOmega_k dOmega* in the
variables

* ``eta`` = arccosh(E_k / M), uniform on [0, eta_max]: the Z' energy, i.e. the mu+ mu- mass
  Q^2 = s - 2 sqrt(s) E_k + M^2 and the recoil mass. dE_k = |k| d eta; flat in eta matches the
  soft-Z' behaviour d sigma / dE_k ~ |k| / E_k^2 (log-like above E_k ~ M);
* the Z' direction (cos theta_k, phi_k) in the CM, uniform;
* the mu- direction in the mu+ mu- rest frame, c = cos theta* to the mu+ mu- flight direction
  and phi*, with phi* uniform and c from a two-channel mixture adapted to the FSR poles:
  y1 = 2 q1.k + M^2 = A + B c and y2 = A - B c are linear in c, and c is drawn with density
  (1/2)(1/y1 + 1/y2) / L, L = ln((A + B) / (A - B)) / B (each channel inverted in closed form,
  A - B evaluated without cancellation, so the collinear regions theta(mu, Z') ~ m / E are
  sampled exactly).

The weight of a try is |M|^2 / (2 s) d Phi_3 / (density) [GeV^-2], converted to fb and divided
by the number of tries: sum(weight) estimates the cross section, i.e.
:func:`darkscan.models.zprime.cross_section_mumu_zprime_fb` (with the same ``isr`` and cut)
times g'^2 and the branching fraction. The weights are nearly flat (max / mean ~ 2.5-3.5,
(sum w)^2 / (N sum w^2) ~ 0.65-0.75 without ISR). Everything is vectorised over tries, in
chunks of :data:`CHUNK` with the four-vectors stored by component, and interleaved into the
CSR record once at the end.

Initial-state radiation (``isr=True``, default)
-----------------------------------------------
The structure-function radiator of :mod:`darkscan.physics.isr` (Kuraev-Fadin, order
``isr_order``): x = 1 - s'/s with its weight W(x) / g(x), x_max = 1 - (M + 2 m_mu)^2 / s, a
pole channel ~1 / (1 - x) for the ~1/s' growth of the hard cross section; one photon (pdg 22) of
CM energy x sqrt(s) / 2 with the eikonal (or collinear) angular distribution is stored with the
event when x >= :data:`darkscan.physics.isr.X_SOFT`, and the hard system (mass sqrt(s')) recoils
against it. Softer photons are not emitted (kinematics at s, weight kept).

Lab frame
---------
The nominal CM frame is rotated so that its z axis is the e- beam direction seen in the CM,
then boosted with the collider's full boost (crossing angle included): one constant Lorentz
matrix per collider.

Generation cut (generate where the analysis looks)
--------------------------------------------------
``muon_theta_lab_deg=(17, 150)`` (default, the Belle II tracking acceptance): both radiating
muons inside the lab polar-angle range. Tries are drawn in chunks until ``n_events`` pass;
the weights are normalised with Haldane's unbiased acceptance estimate (n - 1) / (N - 1) for N
tries up to the n-th accepted event (``n_events >= 2``; plain 1 / N for a single event), so
sum(weight) is an unbiased estimate of the cross section inside the cut. ``None``: no cut.

Z' in the event record
----------------------
``decay="invisible"`` (default): the Z' is stored as pdg 55 (invisible benchmark: the detector
must treat an undecayed 55 as invisible), weights multiplied by BR(Z' -> invisible) of
``benchmark`` ("fully-invisible" by default: BR = 1). ``decay="mu+mu-"`` (M > 2 m_mu): the Z'
decays isotropically in its rest frame (the production-decay spin correlation is neglected) to
mu- mu+ at a displaced vertex drawn from its lab decay length beta gamma c tau (``benchmark``
"vanilla" by default; weights multiplied by BR(Z' -> mu+ mu-)).

Per-event truth columns (unprefixed in the EventBatch; the detector simulation and the event
files add ``truth_``): ``truth_recoil_mass2`` [GeV^2] (recoil mass squared against the
radiating mu+ mu- pair with the nominal beams, = M^2 at tree level without ISR),
``truth_m_mumu`` [GeV] (that pair's mass), ``truth_e_zprime_cm`` [GeV] and
``truth_cos_theta_zprime_cm`` (Z' in the nominal CM, angle to the e- beam),
``truth_sqrt_s_hat`` [GeV] (after ISR), ``truth_isr_x`` (sampled x, 0 without ISR),
``truth_m_zprime`` [GeV].

Particle order in each event: mu- (13), mu+ (-13) from the hard process; the Z' (55), or its
decay mu- mu+; then the ISR photon (22) if one was emitted. Vertices at the origin [cm] except
for the visible Z' decay products.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from darkscan.colliders import Collider
from darkscan.generators.base import PDG_VECTOR_MEDIATOR, EventBatch, Objects, Process
from darkscan.models.zprime import (
    LmuLtauZPrime,
    msq_mumu_zprime_reduced,
    mumu_zprime_eta_max,
    mumu_zprime_kinematics,
)
from darkscan.physics import isr as isr_mod
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_MUON
from darkscan.physics.lorentz import boost, boost_to_rest, rotate_from_z

Array = NDArray[np.float64]

#: Tries handled in one vectorised pass (arrays of 128 kB stay in the L2 cache).
CHUNK: int = 16_384
#: Z' decay modes of the generator.
DECAYS: tuple[str, ...] = ("invisible", "mu+mu-")
_PDG_PHOTON = 22


def cm_to_lab_matrix(collider: Collider) -> Array:
    """4x4 matrix L with p_lab = p_cm @ L for four-vectors (E, px, py, pz) given in the nominal
    CM frame with the e- beam along +z: a rotation taking +z to the e- direction seen in the CM,
    then the collider's boost (crossing angle included)."""
    p_minus_cm = boost_to_rest(collider.p_minus, collider.p_total)
    axis = p_minus_cm[1:]
    basis = np.eye(4)
    return boost(rotate_from_z(basis, axis), collider.boost)


def _cos_sin(phi: Array) -> tuple[Array, Array]:
    """(cos phi, sin phi) from t = tan(phi / 2): cos = (1 - t^2) / (1 + t^2), sin = 2 t / (1 + t^2)
    (one tangent instead of a sine and a cosine; the poles of tan are not floating-point
    numbers, so any finite phi is fine)."""
    t = np.tan(0.5 * phi)
    t2 = t * t
    inv = 1.0 / (1.0 + t2)
    return (1.0 - t2) * inv, (2.0 * inv) * t


def _cos_sin_uniform_azimuth(r: Array) -> tuple[Array, Array]:
    """(cos phi, sin phi) for phi = pi (2 r - 1), uniform in [-pi, pi) for r uniform in [0, 1)."""
    return _cos_sin(np.pi * (2.0 * r - 1.0))


class HardSample(NamedTuple):
    """Weighted tries of the hard process in its CM frame (e- along +z), g' = 1."""

    cols: Array  #: (n_slots, 4, n) four-vectors by component: slot 0 mu-, 1 mu+, 2 Z' [GeV]
    q: Array  #: mu+ mu- invariant mass [GeV]
    cos_theta_k: Array  #: cos of the Z' polar angle to the e- beam
    weight: Array  #: |M|^2 / (2 s) dPhi_3 / density [GeV^-2]

    def p4(self) -> Array:
        """(n, 3, 4) array of (mu-, mu+, Z') four-vectors."""
        return np.ascontiguousarray(self.cols[:3].transpose(2, 0, 1))


def sample_hard(
    n: int,
    rng: np.random.Generator,
    sqrt_s_hat: Array | float,
    mass: float,
    *,
    n_slots: int = 3,
) -> HardSample:
    """``n`` weighted tries of e- e+ -> mu- mu+ Z' at CM energy ``sqrt_s_hat`` [GeV] (scalar or
    (n,)), Z' mass ``mass`` [GeV], g' = 1, in the hard CM frame with the e- along +z (module
    docstring: variables and densities). Five uniform numbers per try from ``rng``; the mean
    weight estimates the cross section [GeV^-2]. Four-vectors are returned component-wise
    (``cols``, slots beyond 3 left uninitialised for the caller)."""
    rs = np.asarray(sqrt_s_hat, dtype=float)
    s = rs * rs
    big_m = float(mass)
    r = rng.random((5, n))
    eta_max = mumu_zprime_eta_max(rs, big_m)
    kin = mumu_zprime_kinematics(rs, r[0] * eta_max, big_m)
    a, b, amb = kin.a, kin.b, kin.a_minus_b
    # cos theta* of the mu-: channel 1 (r1 < 1/2) ~ 1/y1 = 1/(A + B c), channel 2 ~ 1/y2, with
    # sgn = +1 / -1: (A + sgn B c) = (A - B) exp(t ln((A + B) / (A - B))), t uniform.
    ln_ratio = np.log1p(2.0 * b / amb)
    upper = r[1] >= 0.5
    sgn = 1.0 - 2.0 * upper
    t = 2.0 * r[1] - upper
    em1 = np.expm1(t * ln_ratio)
    b_safe = np.maximum(b, 1e-300)  # b = 0 has zero phase space (weight 0, no NaN)
    one_pm = amb * em1 / b_safe  # 1 + sgn c, without cancellation at the collinear poles
    y_small = amb + amb * em1
    y1 = a + sgn * (y_small - a)
    y2 = 2.0 * a - y1
    c = sgn * (one_pm - 1.0)
    sin_c = np.sqrt(np.maximum(one_pm * (2.0 - one_pm), 0.0))
    inv_density_c = (ln_ratio / b_safe) * y1 * y2 / a
    # Z' direction (khat) and the helicity frame of the mu+ mu- system, z' = -khat,
    # x' = (ck cpk, ck spk, -sk), y' = (-spk, cpk, 0); azimuths uniform in [-pi, pi).
    ck = 2.0 * r[2] - 1.0
    sk = 2.0 * np.sqrt(r[2] * (1.0 - r[2]))
    cpk, spk = _cos_sin_uniform_azimuth(r[3])
    cps, sps = _cos_sin_uniform_azimuth(r[4])
    p_t = kin.p_star * sin_c
    tx, ty = p_t * cps, p_t * sps
    inv_q = 1.0 / kin.q
    gamma = kin.e_q * inv_q
    bg = kin.k * inv_q
    e_star = 0.5 * kin.q
    pz_star = kin.p_star * c
    q_long = gamma * pz_star + bg * e_star  # mu- momentum along z' = -khat
    w_perp = tx * ck - q_long * sk
    cols = np.empty((n_slots, 4, n))
    q1, q2, k = cols[0], cols[1], cols[2]
    np.multiply(gamma, e_star, out=q1[0])
    q1[0] += bg * pz_star
    np.multiply(cpk, w_perp, out=q1[1])
    q1[1] -= ty * spk
    np.multiply(spk, w_perp, out=q1[2])
    q1[2] += ty * cpk
    np.multiply(tx, -sk, out=q1[3])
    q1[3] -= q_long * ck
    kx = kin.k * sk
    k[0] = kin.e_k
    np.multiply(kx, cpk, out=k[1])
    np.multiply(kx, spk, out=k[2])
    np.multiply(kin.k, ck, out=k[3])
    np.subtract(kin.e_q, q1[0], out=q2[0])
    np.add(q1[1:], k[1:], out=q2[1:])
    np.negative(q2[1:], out=q2[1:])
    # u = p1.q1 - p2.q1 = -sqrt(s) q1_z, v = -sqrt(s) q2_z
    r_me = msq_mumu_zprime_reduced(s, y1, y2, -rs * q1[3], -rs * q2[3], big_m)
    # |M|^2 / (2 s) * |k|^2 p* / (256 pi^5 Q) * (eta_max 4 pi 2 pi) / density(c), |M|^2 =
    # 4 pi^2 alpha^2 R / s^2: the constants combine to alpha^2 / (16 pi).
    weight = (ALPHA_EM**2 / (16.0 * np.pi)) * r_me * (kin.k * kin.k) * kin.p_star * inv_q
    weight *= eta_max * inv_density_c / (s * s * s)
    return HardSample(cols, kin.q, ck, weight)


def _boost_cols(cols: Array, beta: Array) -> None:
    """In place: boost the four-vectors ``cols`` (m, 4, n) by per-event velocities (3, n)."""
    b2 = beta[0] * beta[0] + beta[1] * beta[1] + beta[2] * beta[2]
    gamma = 1.0 / np.sqrt(1.0 - b2)
    coef = gamma * gamma / (gamma + 1.0)  # (gamma - 1) / beta^2, stable at beta -> 0
    for p in cols:
        bp = beta[0] * p[1] + beta[1] * p[2] + beta[2] * p[3]
        f = coef * bp + gamma * p[0]
        p[0] += bp
        p[0] *= gamma
        for i in range(3):
            p[i + 1] += f * beta[i]


class _Chunk(NamedTuple):
    """Tries of one vectorised pass: lab four-vectors by component, weights and the cut."""

    cols: Array  # (k, 4, n) lab frame, slots in record order (last: ISR photon if isr)
    vertex: Array | None  # (k, 3, n) production vertices [cm]; None: all at the origin
    has_photon: NDArray[np.bool_] | None  # None without ISR
    table: Array  # (1 + len(_TRUTH_KEYS), n): the weight [fb per try, before dividing by the
    # number of tries; g'^2 and BR included], then the truth columns
    accepted: NDArray[np.bool_] | None  # None: no cut

    @property
    def weight(self) -> Array:
        return self.table[0]

    def head(self, size: int) -> _Chunk:
        """The first ``size`` tries."""
        return _Chunk(
            self.cols[..., :size],
            None if self.vertex is None else self.vertex[..., :size],
            None if self.has_photon is None else self.has_photon[:size],
            self.table[:, :size],
            None if self.accepted is None else self.accepted[:size],
        )

    @property
    def n_accepted(self) -> int:
        return len(self.weight) if self.accepted is None else int(np.count_nonzero(self.accepted))


#: Events per block when interleaving component arrays into the CSR record (in-cache blocks).
_BLOCK = 4096
_ROW32 = np.dtype((np.void, 32))
_ROW24 = np.dtype((np.void, 24))


def _assemble(chunks: list[_Chunk], pdg_slots: NDArray[np.int64]) -> tuple[Objects, int]:
    """CSR particle record of the accepted tries of ``chunks`` (slots in order, the last slot
    kept only where ``has_photon`` when that is given); returns it and the number of events.
    Blocks of tries are transposed into a dense (block, k, 4) buffer and compacted as 32-byte
    rows straight into the output."""
    k = len(pdg_slots)
    counts_parts = []
    for ch in chunks:
        cnt = np.full(len(ch.weight), k, dtype=np.int64)
        if ch.has_photon is not None:
            cnt -= ~ch.has_photon
        counts_parts.append(cnt if ch.accepted is None else cnt[ch.accepted])
    counts = np.concatenate(counts_parts) if counts_parts else np.zeros(0, np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    p4 = np.empty((total, 4))
    pdg = np.empty(total, dtype=np.int64)
    vertex = np.zeros((total, 3))
    buf = np.empty((_BLOCK, k, 4))
    vbuf = np.empty((_BLOCK, k, 3))
    keep_buf = np.ones((_BLOCK, k), dtype=bool)
    pdg_tile = np.tile(pdg_slots, _BLOCK)
    o = 0
    for ch in chunks:
        n = len(ch.weight)
        for b0 in range(0, n, _BLOCK):
            b1 = min(b0 + _BLOCK, n)
            nb = b1 - b0
            dense = buf[:nb]
            dense[...] = ch.cols[:, :, b0:b1].transpose(2, 0, 1)
            keep = keep_buf[:nb]
            keep[...] = True
            if ch.has_photon is not None:
                keep[:, k - 1] = ch.has_photon[b0:b1]
            if ch.accepted is not None:
                keep &= ch.accepted[b0:b1, None]
            flat = keep.ravel()
            rows = dense.reshape(-1, 4).view(_ROW32).ravel()[flat]
            m = len(rows)
            p4[o : o + m] = rows.view(np.float64).reshape(-1, 4)
            pdg[o : o + m] = pdg_tile[: nb * k][flat]
            if ch.vertex is not None:
                vdense = vbuf[:nb]
                vdense[...] = ch.vertex[:, :, b0:b1].transpose(2, 0, 1)
                vrows = vdense.reshape(-1, 3).view(_ROW24).ravel()[flat]
                vertex[o : o + m] = vrows.view(np.float64).reshape(-1, 3)
            o += m
    return Objects(offsets, {"pdg": pdg, "p4": p4, "vertex": vertex}), len(counts)


_TRUTH_KEYS = (
    "recoil_mass2",
    "m_mumu",
    "e_zprime_cm",
    "cos_theta_zprime_cm",
    "sqrt_s_hat",
    "isr_x",
)


class MuMuZPrime(Process):
    """e+e- -> mu+ mu- Z' with the Z' radiated off a muon (L_mu - L_tau, coupling ``g_prime``).

    Parameters: ``mass`` [GeV] of the Z' (0 < mass < sqrt(s) - 2 m_mu, checked against the
    collider at generation), ``g_prime`` (weights scale as g'^2), ``isr`` (structure-function
    ISR, default on), ``muon_theta_lab_deg`` (generation cut: both muons inside this lab polar
    angle range [deg]; ``None`` for none; the strings "17,150" and "none" are accepted for the
    command line), ``decay`` ("invisible": the Z' is stored as pdg 55;
    "mu+mu-": decayed), ``benchmark`` of :class:`~darkscan.models.zprime.LmuLtauZPrime` for the
    branching fraction (default "fully-invisible" for the invisible decay, "vanilla" for
    mu+ mu-), ``isr_order`` (1 or 2) and ``isr_angular`` ("eikonal" or "collinear").
    Weights in fb per event. See the module docstring for the method.
    """

    name: ClassVar[str] = "ee-mumu-zprime"
    description: ClassVar[str] = (
        "e+e- -> mu+ mu- Z' (L_mu - L_tau Z' radiated off a muon), exact 2->3 matrix element"
    )

    def __init__(
        self,
        mass: float,
        g_prime: float = 1.0,
        *,
        isr: bool = True,
        muon_theta_lab_deg: tuple[float, float] | str | None = (17.0, 150.0),
        decay: str = "invisible",
        benchmark: str | None = None,
        isr_order: int = 1,
        isr_angular: str = "eikonal",
    ) -> None:
        try:
            mass = float(mass)
            g_prime = float(g_prime)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"mass and g_prime must be numbers: {exc}") from exc
        if not (np.isfinite(mass) and mass > 0):
            raise ValueError(f"mass must be a finite number > 0 GeV, got {mass!r}")
        if not (np.isfinite(g_prime) and g_prime >= 0):
            raise ValueError(f"g_prime must be finite and >= 0, got {g_prime!r}")
        if decay not in DECAYS:
            raise ValueError(f"unknown decay '{decay}'; valid: {list(DECAYS)}")
        if benchmark is None:
            benchmark = "fully-invisible" if decay == "invisible" else "vanilla"
        self.model = LmuLtauZPrime(benchmark=benchmark)  # validates the benchmark name
        if decay == "mu+mu-" and mass <= 2.0 * M_MUON:
            raise ValueError(
                f"decay 'mu+mu-' needs mass > 2 m_mu = {2 * M_MUON:.6g} GeV, got {mass!r}"
            )
        # BR does not depend on g' (all widths ~ g'^2): evaluate at g' = 1.
        br = float(self.model.branching_fraction(decay, mass, g_prime=1.0))
        if br <= 0:
            raise ValueError(
                f"BR(Z' -> {decay}) = 0 in benchmark '{benchmark}' at mass {mass} GeV; "
                "choose another decay or benchmark"
            )
        if isinstance(muon_theta_lab_deg, str):  # from the command line: "17,150" or "none"
            text = muon_theta_lab_deg.strip().lower()
            muon_theta_lab_deg = None if text in ("none", "off", "") else text.split(",")
        if muon_theta_lab_deg is not None:
            try:
                lo, hi = (float(x) for x in muon_theta_lab_deg)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    "muon_theta_lab_deg must be (lo, hi) in deg, 'lo,hi' or None, got "
                    f"{muon_theta_lab_deg!r}"
                ) from exc
            if not 0.0 <= lo < hi <= 180.0:
                raise ValueError(
                    f"muon_theta_lab_deg must satisfy 0 <= lo < hi <= 180 deg, got {(lo, hi)}"
                )
            muon_theta_lab_deg = (lo, hi)
        if isr_order not in isr_mod.ISR_ORDERS:
            raise ValueError(f"unknown isr_order {isr_order!r}; valid: {list(isr_mod.ISR_ORDERS)}")
        if isr_angular not in isr_mod.ISR_ANGULAR:
            raise ValueError(
                f"unknown isr_angular '{isr_angular}'; valid: {list(isr_mod.ISR_ANGULAR)}"
            )
        self.mass = mass
        self.g_prime = g_prime
        self.isr = bool(isr)
        self.muon_theta_lab_deg = muon_theta_lab_deg
        self.decay = decay
        self.benchmark = benchmark
        self.branching_fraction = br
        self.isr_order = int(isr_order)
        self.isr_angular = isr_angular

    # ------------------------------------------------------------------ checks
    def check_collider(self, collider: Collider) -> float:
        """sqrt(s) of ``collider``; ValueError if the Z' mass is at or above threshold."""
        sqrt_s = collider.sqrt_s
        limit = sqrt_s - 2.0 * M_MUON
        if not self.mass < limit:
            raise ValueError(
                f"mass {self.mass} GeV is above threshold for e+e- -> mu mu Z' at sqrt(s) = "
                f"{sqrt_s:.6g} GeV: allowed range 0 < mass < sqrt(s) - 2 m_mu = {limit:.6g} GeV"
            )
        return sqrt_s

    # ------------------------------------------------------------------ sampling
    def _chunk(
        self,
        n: int,
        rng: np.random.Generator,
        collider: Collider,
        lab: Array,
        theta_range: tuple[float, float] | None,
    ) -> _Chunk:
        """``n`` tries: ISR, hard process, Z' decay (visible option), lab frame, cut."""
        sqrt_s = collider.sqrt_s
        s = sqrt_s * sqrt_s
        big_m = self.mass
        visible = self.decay != "invisible"
        # slots in the CM: mu-, mu+, Z', [d1, d2 (visible)], [photon (isr)]
        n_slots = 3 + 2 * visible + self.isr
        if self.isr:
            x_max = 1.0 - (big_m + 2.0 * M_MUON) ** 2 / s
            smp = isr_mod.sample_x(
                n, rng, s, x_max=x_max, order=self.isr_order, pole=0.0, pole_fraction=0.2
            )
            x, w_isr = smp.x, smp.weight
            has_photon = x >= isr_mod.X_SOFT
            x_kin = np.where(has_photon, x, 0.0)
            cos_g, sin_g, phi_g = isr_mod.sample_photon_direction(
                n, rng, s, angular=self.isr_angular
            )
            sqrt_s_hat = np.sqrt(s * (1.0 - x_kin))
            hard = sample_hard(n, rng, sqrt_s_hat, big_m, n_slots=n_slots)
            cols = hard.cols
            # ISR photon k and recoiling hard system as in isr.photon_and_recoil, by component:
            # k0 = x sqrt(s) / 2, velocity of the hard system -k / (sqrt(s) - k0).
            g = cols[-1]
            np.multiply(0.5 * sqrt_s, x_kin, out=g[0])
            kt = g[0] * sin_g
            cos_phi_g, sin_phi_g = _cos_sin(phi_g)
            np.multiply(kt, cos_phi_g, out=g[1])
            np.multiply(kt, sin_phi_g, out=g[2])
            np.multiply(g[0], cos_g, out=g[3])
            _boost_cols(cols[:3], g[1:] / (g[0] - sqrt_s))
            weight = hard.weight * w_isr
            rec = cols[2] + g  # = p_beams - q1 - q2 in the nominal CM frame
            recoil2 = rec[0] * rec[0] - rec[1] * rec[1] - rec[2] * rec[2] - rec[3] * rec[3]
            kv = cols[2]
            k_abs = np.sqrt(kv[1] * kv[1] + kv[2] * kv[2] + kv[3] * kv[3])
            cos_k = kv[3] / np.maximum(k_abs, 1e-300)
        else:
            x = 0.0
            has_photon = None
            sqrt_s_hat = sqrt_s
            hard = sample_hard(n, rng, sqrt_s, big_m, n_slots=n_slots)
            cols = hard.cols
            weight = hard.weight
            kv = cols[2]
            recoil2 = kv[0] * kv[0] - kv[1] * kv[1] - kv[2] * kv[2] - kv[3] * kv[3]
            cos_k = hard.cos_theta_k
        table = np.empty((1 + len(_TRUTH_KEYS), n))
        np.multiply(weight, GEV2_TO_FB * self.g_prime**2 * self.branching_fraction, out=table[0])
        # rows in the order of _TRUTH_KEYS
        table[1] = recoil2
        table[2] = hard.q
        table[3] = cols[2, 0]
        table[4] = cos_k
        table[5] = sqrt_s_hat
        table[6] = x
        if visible:
            # Z' -> mu- mu+ isotropic in its rest frame, then boosted with the Z'
            r = rng.random((3, n))
            d = cols[3:5]
            p_star = np.sqrt(0.25 * big_m * big_m - M_MUON * M_MUON)
            cth = 2.0 * r[0] - 1.0
            sth = 2.0 * np.sqrt(r[0] * (1.0 - r[0]))
            cph, sph = _cos_sin_uniform_azimuth(r[1])
            d[:, 0] = 0.5 * big_m
            d[0, 1] = p_star * sth * cph
            d[0, 2] = p_star * sth * sph
            d[0, 3] = p_star * cth
            np.negative(d[0, 1:], out=d[1, 1:])
            _boost_cols(d, cols[2, 1:] / cols[2, 0])
        # lab frame: one (4 x 4) @ (4 x n) product per slot
        cols = np.matmul(lab.T, cols)
        vertex = None
        if visible:
            # decay point = (k_lab / M) c tau Exp(1) [cm]: flight with beta gamma = |k| / M
            ctau = float(self.model.ctau_cm(big_m, g_prime=max(self.g_prime, 1e-300)))
            flight = -np.log1p(-r[2]) * (ctau / big_m)
            vertex = np.zeros((n_slots, 3, n))
            np.multiply(cols[2, 1:], flight, out=vertex[3])
            vertex[4] = vertex[3]
            cols = np.delete(cols, 2, axis=0)
            vertex = np.delete(vertex, 2, axis=0)
        accepted = None
        if theta_range is not None:
            c_fwd, c_bwd = np.cos(np.radians(theta_range))
            for i in (0, 1):
                p = cols[i]
                pabs = np.sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3])
                ok = (p[3] < c_fwd * pabs) & (p[3] > c_bwd * pabs)
                accepted = ok if accepted is None else accepted & ok
        return _Chunk(cols, vertex, has_photon, table, accepted)

    def _tries(
        self,
        n_wanted: int,
        rng: np.random.Generator,
        collider: Collider,
        theta_range: tuple[float, float] | None,
    ) -> tuple[list[_Chunk], int, int]:
        """Chunks of tries until ``n_wanted`` are accepted (the last chunk truncated after the
        n-th accepted try): (chunks, number of tries, number accepted)."""
        lab = cm_to_lab_matrix(collider)
        chunks: list[_Chunk] = []
        n_acc = n_tried = 0
        while n_acc < n_wanted:
            if n_tried >= 100_000 and n_acc == 0:
                raise ValueError(
                    f"no event passes muon_theta_lab_deg={theta_range} in {n_tried} tries"
                )
            frac = n_acc / n_tried if n_tried else (1.0 if theta_range is None else 0.7)
            size = int(min(CHUNK, (n_wanted - n_acc) / max(frac, 1e-3) * 1.05 + 64))
            if theta_range is None:
                size = min(CHUNK, n_wanted - n_acc)
            ch = self._chunk(size, rng, collider, lab, theta_range)
            if ch.accepted is not None:
                cum = np.cumsum(ch.accepted)
                if n_acc + int(cum[-1]) >= n_wanted:
                    size = int(np.searchsorted(cum, n_wanted - n_acc)) + 1
                    ch = ch.head(size)
            chunks.append(ch)
            n_tried += size
            n_acc += ch.n_accepted
        return chunks, n_tried, n_acc

    # ------------------------------------------------------------------ public
    def integrate_fb(
        self,
        n_tries: int,
        rng: np.random.Generator,
        collider: Collider,
        *,
        muon_theta_lab_deg: tuple[float, float] | None = None,
    ) -> float:
        """Cross section [fb] (g'^2 and BR included) inside ``muon_theta_lab_deg`` (``None``:
        no cut) from ``n_tries`` weighted tries, without building events."""
        n_tries = self.check_n_events(n_tries)
        self.check_collider(collider)
        lab = cm_to_lab_matrix(collider)
        total = 0.0
        done = 0
        while done < n_tries:
            size = min(CHUNK, n_tries - done)
            ch = self._chunk(size, rng, collider, lab, muon_theta_lab_deg)
            w = ch.weight if ch.accepted is None else ch.weight[ch.accepted]
            total += float(np.sum(w))
            done += size
        return total / n_tries if n_tries else 0.0

    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """``n_events`` weighted events [fb per event] in the lab frame of ``collider``."""
        n = self.check_n_events(n_events)
        sqrt_s = self.check_collider(collider)
        chunks, n_tried, n_acc = self._tries(n, rng, collider, self.muon_theta_lab_deg)
        pdg_slots = [13, -13] + ([PDG_VECTOR_MEDIATOR] if self.decay == "invisible" else [13, -13])
        pdg_slots += [_PDG_PHOTON] if self.isr else []
        particles, _ = _assemble(chunks, np.array(pdg_slots, dtype=np.int64))
        parts = [c.table if c.accepted is None else c.table[:, c.accepted] for c in chunks]
        table = np.concatenate(parts, axis=1) if parts else np.zeros((1 + len(_TRUTH_KEYS), 0))
        weight = table[0]
        truth = {key: table[i + 1] for i, key in enumerate(_TRUTH_KEYS)}
        # Haldane: (n - 1) / (N - 1) is unbiased for the acceptance when stopping at the n-th.
        if n_acc >= 2:
            norm = (n_acc - 1) / (n_tried - 1) / n_acc
        else:
            norm = 1.0 / max(n_tried, 1)
        weight *= norm
        truth["m_zprime"] = np.full(n, self.mass)
        meta: dict[str, Any] = {
            "process": self.name,
            "generator": "darkscan.generators.signal_zprime.MuMuZPrime",
            "collider": collider.name,
            "sqrt_s": sqrt_s,
            "mass": self.mass,
            "g_prime": self.g_prime,
            "isr": self.isr,
            "isr_order": self.isr_order,
            "isr_angular": self.isr_angular,
            "muon_theta_lab_deg": self.muon_theta_lab_deg,
            "decay": self.decay,
            "benchmark": self.benchmark,
            "branching_fraction": self.branching_fraction,
            "n_tried": n_tried,
        }
        return EventBatch(particles, weight, self.name, truth, meta)
