"""Four-lepton QED backgrounds: e+e- -> e+e- mu+mu-, e+e- e+e- (two-photon) and mu+mu- mu+mu-.

What is computed
----------------
**e+e- -> e+e- l+l-** (:class:`EEMuMu` ``ee-eemumu``, :class:`EEEE` ``ee-eeee``) is dominated at
B factories by the *multiperipheral* (two-photon) graphs: each beam radiates a space-like
photon, q1 = p1 - p1' (from the e-) and q2 = p2 - p2' (from the e+), and gamma* gamma* -> l+ l-
through t- and u-channel lepton exchange; the scattered e+- mostly go down the beam pipes.
``matrix_element``:

* ``"exact"`` (default): the exact tree-level |M|^2 of the two multiperipheral graphs, spins
  summed, all masses kept, both photons off shell, over the full four-body phase space: it
  contains the gamma* gamma* -> l+ l- cross sections for transverse and scalar photons, their
  Q^2 fall-off and the azimuthal correlations of Budnev et al. (Phys. Rept. 15 (1975) 181)
  without expanding in Q^2. **Approximation**: the other graph classes (bremsstrahlung,
  conversion, annihilation) and, for e+e- e+e-, the interference with the graphs where the
  identical e+- are exchanged are neglected; they matter for tagged or large-angle
  configurations. Result at the Y(4S) (Belle II beams): sigma(e+e- mu+mu-, W > 0.5 GeV) =
  18.6 nb against 18.9 nb (Belle II Physics Book, AAFH with all graphs): -1.7 %;
  sigma(e+e- e+e-, all e+e- masses > 0.5 GeV) = 36.4 nb against 39.7 nb: -8 %.
* ``"epa"``: the double equivalent-photon approximation with the same phase-space sampling:
  the Budnev transverse flux with its full Q^2 dependence, per photon::

      dN = (alpha / pi) dx/x dQ^2/Q^2 [1 - x + x^2/2 - (1 - x) Q^2_min / Q^2] dphi / 2 pi,
      Q^2_min = m_e^2 x^2 / (1 - x) (exactly 2 m_e^2 w^2 / (E E' + p p' - m_e^2)),

  (x = omega / E_beam the photon energy fraction in the CM frame) times the real-photon
  gamma gamma -> l+ l- cross section (Breit-Wheeler, masses kept) differential in the lepton
  angle, evaluated at the actual pair mass W, with photon virtualities Q^2 < W^2
  (:data:`EPA_Q2_MAX_OVER_W2`), beyond which the real-photon cross section overestimates the
  virtual one. The electrons are generated from the flux (energy E (1 - x), angle from Q^2,
  uniform azimuth: transverse momentum sqrt(Q^2 (1 - x) - ...)), so their kinematics are
  physical. sigma(e+e- mu+mu-, W > 0.5 GeV) = 19.9 nb (+7 % over exact); e+e- e+e-: 43.6 nb.

Exact matrix element: the spin sums of the e+- lines give the tensors
L_i = 2 [P_i P_i - q_i q_i - Q_i^2 g] (P_i = p_i + p_i'); by gauge invariance
L_i = 8 m_e^2 P_i P_i / P_i^2 + 2 Q_i^2 (e_i1 e_i1 + e_i2 e_i2) with unit vectors e_i1 (in the
scattering plane) and e_i2 (normal to it) orthogonal to q_i and P_i. Each vector is shifted by
a multiple of q_i so that its product with the other beam vanishes, which removes the ~E/m_e
large components before the contraction. The 3 x 3 polarisation pairs and 4 lepton helicity
states are amplitudes u-bar(k1) [e1 S(k1 - q1) e2 + e2 S(k1 - q2) e1] v(k2) evaluated with
explicit Dirac spinors (chiral representation, component-major arrays, vectorised over events).
Checks (tests/generators/test_two_photon.py): an independent evaluation with explicit electron
currents (1e-6); at Q^2 < 1e-6 GeV^2 exact / EPA = 1 within 1e-3; the on-shell lepton part =
the Breit-Wheeler |M|^2 (1e-9); the EPA sampler = the double-EPA quadrature (0.2 %).

**e+e- -> mu+mu- mu+mu-** (:class:`MuMuMuMu` ``ee-mumumumu``): all 12 tree-level QED graphs --
for each of the two ways to pair the mu- with the mu+, the s-channel photon making one pair
that radiates the virtual photon making the other (2 x 2 graphs) and both photons off the
electron line (2 graphs) -- with the relative minus sign of the identical-fermion exchange:
|M|^2 exact at tree level, beyond the "e+e- -> mu mu gamma*, gamma* -> mu mu" factorisation
(Z exchange neglected, O(s / m_Z^2)). sigma = 0.336 nb at the Y(4S), 88 % from e+e- ->
gamma* gamma* (0.06 nb from the graphs with the s-channel photon); the identical-fermion
interference lowers it by 3.6 %. Phase space: a multichannel
mixture following the poles -- "e+e- -> gamma* -> pair + gamma*(-> pair)" with dM^2 / M^2
virtual-photon masses and the 1 / (s_(mu gamma*) - m^2) radiation propagator, and "e+e- ->
gamma* gamma*" with the t/u-channel electron propagator -- for both pairings, the density being
the mixture evaluated at every point. Checks: the four-body phase-space volume, and the
e+e- -> gamma* gamma* graphs against the factorised closed form
(1/2) int rho(M1^2) rho(M2^2) sigma(e+e- -> V V) dM1^2 dM2^2, rho = alpha / (3 pi M^2) (1 + 2 m^2 /
M^2) beta (0.3 %).

Sampling (e+e- l+l-) and weights
--------------------------------
Variables (CM frame, z along the e- beam): photon energy fractions x1, x2 through
tau = x1 x2 (density ~ tau^-``tau_power``, tau > W_min^2 / s, which loses nothing because
W^2 <= x1 x2 s) and rapidity y = ln(x1 / x2) / 2 (uniform); virtualities Q_i^2 with density
~ 1 / (Q^2 (1 + Q^2 / (tau s))) between the kinematic limits; uniform azimuths; the lepton
angle theta* in the gamma* gamma* rest frame, measured from q1, from a mixture of the t- and
u-channel poles 1 / (1 -+ b cos) (b the effective velocity, free of cancellations) and a flat
part. The weight is |M|^2 x phase space / density [fb per event]: the sum of weights estimates
the cross section inside the generation cuts (max weight / mean ~ 3 for e+e- mu+mu-). Points
outside the cuts are not stored: ``generate(n)`` samples points until n are inside the cuts,
after N points (``meta["n_trials"]``, ``meta["efficiency"]`` = n / N), and normalises the weights
with (n - 1) / (N - 1), the unbiased acceptance estimate of this negative-binomial stopping rule,
so that the sum of weights is an unbiased estimate of the cross section.

Generation cuts and biasing (exact weights, where the analysis looks)
---------------------------------------------------------------------
* ``min_pair_mass`` [GeV]: W = m(l+ l-) of the produced pair > min_pair_mass (0.5 GeV: the
  definition of the Belle II reference cross sections). :class:`EEEE`: by default all four
  e+ e- combinations must pass it (``all_pairs_mass_cut``), the observable version of the cut
  for identical particles; cutting only the pair made by the photons gives 72 nb, the extra
  half coming from a produced e+- collinear with a scattered one.
* ``max_q2`` [GeV^2]: both photon virtualities below it (an untagged definition).
* ``electrons_lost_theta_deg = (theta_fwd, theta_bwd)``: keep only events where the scattered
  e- has lab polar angle < theta_fwd and the e+ > theta_bwd (both down the beam pipes). The
  Q^2 range is cut down with the rigorous bound (:func:`lost_electron_q2_bound`)
  Q^2 <= 2 E [A gamma (1 + beta) (1 - cos psi_max) E' + A m_e] (psi: angle to the own beam in
  the lab, A = E_beam,lab / E_beam,CM, gamma (1 + beta) the largest Doppler factor of the boost),
  so the restriction costs nothing and is exact; the cut itself is applied in the lab.
  Configurations where an electron is lost on the *opposite* side (e- backwards beyond
  theta_bwd) are not generated: 12 fb, 1.4e-5 of the e+e- mu+mu- flagship region.
* ``lepton_theta_deg = (lo, hi)``, ``lepton_min_pt`` [GeV]: keep only events where both
  produced leptons have lab polar angle in [lo, hi] and transverse momentum >= lepton_min_pt.
  With these cuts the sampling densities change (exactly compensated in the weights):
  :data:`REGION_SHARE` of tau above 4 (pt_min^2 + m^2) / s, of y inside the lepton acceptance
  (in CM rapidity) and of cos(theta*) in the central range where pT can pass the cut.

The flagship region of the Belle II invisible-Z' search (both muons at 17-150 deg with
pT > 0.4 GeV, e- < 17 deg and e+ > 150 deg) has sigma = 0.85 nb: 6.8e7 events in 79.7 fb^-1.
Biased exact generation (``electrons_lost_theta_deg=(17, 150), lepton_theta_deg=(17, 150),
lepton_min_pt=0.4``) makes ~1.1e5 events per second of one core (31 % of the sampled points
pass) with an effective luminosity of 0.72 fb^-1 per 1e6 events: 79.7 fb^-1 takes ~1.1e8 events,
~16 core-minutes, ~8-9 minutes on 2 cores (the EPA mode is no faster: its weights spread more).

Lab frame and record
--------------------
Events are generated in the CM frame and taken to the lab with
:func:`darkscan.generators.signal_photon.cm_to_lab_matrix` (crossing angle included): the sum of
the four stored four-momenta equals p(e-) + p(e+) of the collider. Particles per event, in this
order: e-, e+, l-, l+ (EEMuMu, EEEE) or mu-, mu+, mu-, mu+ (MuMuMuMu); vertex (0, 0, 0). Truth
columns: ``pair_mass`` W [GeV], ``q2_electron``, ``q2_positron`` (Q^2 [GeV^2]), ``x_electron``,
``x_positron``, ``cos_theta_star`` (EEMuMu, EEEE); ``m12``, ``m34``, ``m14``, ``m32`` (masses of
the mu- mu+ pairs (1, 2), (3, 4), (1, 4), (3, 2) [GeV], MuMuMuMu).

Not included: radiative corrections (ISR, vacuum polarisation), Z exchange, hadronic final
states (e+e- -> e+e- hadrons).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan import __version__
from darkscan.colliders import Collider
from darkscan.generators.base import EventBatch, Objects, Process
from darkscan.generators.signal_photon import cm_to_lab_matrix
from darkscan.physics import lorentz
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_ELECTRON, M_MUON

Array = NDArray[np.float64]
CArray = NDArray[np.complex128]

#: Version of the generators of this module (bumped when the generated events change).
GENERATOR_VERSION = "1.0"
#: Photon virtuality limit of the EPA mode, in units of W^2 (Q^2 < W^2).
EPA_Q2_MAX_OVER_W2 = 1.0
#: Phase-space points per vectorised block (memory: ~3 kB per point in the matrix element).
CHUNK_SIZE = 16384
MATRIX_ELEMENTS: tuple[str, ...] = ("exact", "epa")
E_CHARGE2 = 4.0 * np.pi * ALPHA_EM


# ============================================================================ Dirac algebra
# Chiral representation, gamma^0 = [[0, 1], [1, 0]], gamma^k = [[0, s_k], [-s_k, 0]]. Arrays are
# component-major: four-vectors (4, ...) with upper-index components (E, px, py, pz), spinors
# (4, ...) complex; a "barred" spinor is stored as the row that multiplies a spinor,
# bar(psi) . chi = psi^dagger gamma^0 chi. Component-major layout keeps every arithmetic
# operation on contiguous arrays (twice as fast as (..., 4) in numpy).


def _slash(a: ArrayLike, psi: CArray) -> CArray:
    """a-slash psi = gamma^mu a_mu psi; ``a`` real or complex (4, ...), broadcast with psi."""
    a0, ax, ay, az = a
    ap = a0 + az
    am = a0 - az
    t = ax + 1j * ay
    tb = ax - 1j * ay
    p0, p1, p2, p3 = psi
    out = np.empty((4, *np.broadcast_shapes(np.shape(a0), p0.shape)), dtype=np.complex128)
    np.multiply(am, p2, out=out[0, ...])
    out[0] -= tb * p3
    np.multiply(ap, p3, out=out[1, ...])
    out[1] -= t * p2
    np.multiply(ap, p0, out=out[2, ...])
    out[2] += tb * p1
    np.multiply(t, p0, out=out[3, ...])
    out[3] += am * p1
    return out


def _rslash(b: CArray, a: ArrayLike) -> CArray:
    """The row b times a-slash (b a barred spinor (4, ...))."""
    a0, ax, ay, az = a
    ap = a0 + az
    am = a0 - az
    t = ax + 1j * ay
    tb = ax - 1j * ay
    b0, b1, b2, b3 = b
    out = np.empty((4, *np.broadcast_shapes(np.shape(a0), b0.shape)), dtype=np.complex128)
    np.multiply(ap, b2, out=out[0, ...])
    out[0] += t * b3
    np.multiply(tb, b2, out=out[1, ...])
    out[1] += am * b3
    np.multiply(am, b0, out=out[2, ...])
    out[2] -= t * b1
    np.multiply(ap, b1, out=out[3, ...])
    out[3] -= tb * b0
    return out


def _bar(psi: CArray) -> CArray:
    """The Dirac adjoint psi^dagger gamma^0 as a row (4, ...)."""
    return np.conj(psi[[2, 3, 0, 1]])


def _current(b: CArray, chi: CArray) -> CArray:
    """psi-bar gamma^mu chi (upper index, (4, ...)) for the barred row ``b`` and spinor ``chi``."""
    b0, b1, b2, b3 = b
    c0, c1, c2, c3 = chi
    out = np.empty((4, *np.broadcast_shapes(b0.shape, c0.shape)), dtype=np.complex128)
    out[0] = b0 * c2 + b1 * c3 + b2 * c0 + b3 * c1
    out[1] = b0 * c3 + b1 * c2 - b2 * c1 - b3 * c0
    out[2] = 1j * (b1 * c2 + b2 * c1 - b0 * c3 - b3 * c0)
    out[3] = b0 * c2 - b1 * c3 - b2 * c0 + b3 * c1
    return out


def _helicity_states(p: Array) -> tuple[CArray, CArray, Array]:
    """Two-component helicity eigenstates xi_+, xi_- (2, ...) along the 3-momentum of ``p``
    (4, ...) and |p|; half-angle cosines and sines free of cancellation in both hemispheres."""
    px, py, pz = p[1], p[2], p[3]
    pt = np.hypot(px, py)
    pp = np.sqrt(pt * pt + pz * pz)
    safe_pp = np.where(pp > 0, pp, 1.0)
    big = np.where(pp > 0, np.sqrt((pp + np.abs(pz)) / (2.0 * safe_pp)), 1.0)
    small = pt / (2.0 * safe_pp * big)
    fwd = pz >= 0
    c = np.where(fwd, big, small)
    s = np.where(fwd, small, big)
    eph = np.where(pt > 0, (px + 1j * py) / np.where(pt > 0, pt, 1.0), 1.0 + 0j)
    xp = np.stack([c + 0j, eph * s])
    xm = np.stack([-np.conj(eph) * s, c + 0j])
    return xp, xm, pp


def _spinors(p: Array, m: float, kind: str) -> CArray:
    """Helicity spinors (4, 2, ...) of momentum p (4, ...): u(p) (kind "u") or v(p) ("v"),
    axis 1 the helicity +, -.

    u_h = (sqrt(E - h|p|) xi_h, sqrt(E + h|p|) xi_h); v_h = (sqrt(E + h|p|) xi_-h,
    -sqrt(E - h|p|) xi_-h), so that sum_h u u-bar = p-slash + m, sum_h v v-bar = p-slash - m.
    E - |p| = m^2 / (E + |p|) is computed without cancellation.
    """
    xp, xm, pp = _helicity_states(p)
    lo = np.sqrt(m * m / (p[0] + pp))
    hi = np.sqrt(p[0] + pp)
    if kind == "u":
        plus = np.concatenate([lo * xp, hi * xp])
        minus = np.concatenate([hi * xm, lo * xm])
    else:
        plus = np.concatenate([hi * xm, -lo * xm])
        minus = np.concatenate([lo * xp, -hi * xp])
    return np.stack([plus, minus], axis=1)


def _mdot(a: ArrayLike, b: ArrayLike) -> Array:
    """Minkowski product of component-major four-vectors (4, ...)."""
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def _chain2(
    b: CArray, psi: CArray, e1: ArrayLike, e2: ArrayLike, k1: Array, k2: Array, m: float
) -> CArray:
    """b [e1-slash S(K1) e2-slash + e2-slash S(K2) e1-slash] psi, S(K) = (K-slash + m)/(K^2 - m^2).

    Shapes (component-major, events last): b (4, hb, N) barred rows, psi (4, hp, N), e1
    (4, n1, N), e2 (4, n2, N), K (4, N). Returns (n1, n2, hb, hp, N). K1 (K2) is the momentum
    of the fermion line between the two vertices when e1 (e2) sits next to ``b``. Evaluated as
    rows (b e1-slash, b e2-slash S(K2)) times columns (S(K1) e2-slash psi, e1-slash psi).
    """
    e1 = np.asarray(e1)
    e2 = np.asarray(e2)
    inv1 = 1.0 / (_mdot(k1, k1) - m * m)
    inv2 = 1.0 / (_mdot(k2, k2) - m * m)
    row1 = _rslash(b[:, None], e1[:, :, None])  # (4, n1, hb, N)
    col1 = _slash(e2[:, :, None], psi[:, None])  # (4, n2, hp, N)
    col1 = (_slash(k1[:, None, None], col1) + m * col1) * inv1
    row2 = _rslash(b[:, None], e2[:, :, None])  # (4, n2, hb, N)
    row2 = (_rslash(row2, k2[:, None, None]) + m * row2) * inv2
    col2 = _slash(e1[:, :, None], psi[:, None])  # (4, n1, hp, N)
    out = row1[0][:, None, :, None] * col1[0][None, :, None]
    for i in range(4):
        if i:
            out += row1[i][:, None, :, None] * col1[i][None, :, None]
        out += row2[i][None, :, :, None] * col2[i][:, None, None]
    return out


# ============================================================================ closed forms
def q2_min(x: ArrayLike, e_beam: float, m: float = M_ELECTRON) -> Array:
    """Smallest virtuality Q^2 [GeV^2] of a photon taking the energy fraction x of a beam of
    energy ``e_beam`` and mass m: 2 m^2 w^2 / (E E' + p p' - m^2) (~ m^2 x^2 / (1 - x))."""
    x = np.asarray(x, dtype=float)
    p = np.sqrt(e_beam * e_beam - m * m)
    e1 = e_beam * (1.0 - x)
    p1 = np.sqrt(np.clip((e1 - m) * (e1 + m), 0.0, None))
    w = e_beam * x
    return 2.0 * m * m * w * w / (e_beam * e1 + p * p1 - m * m)


def q2_max(x: ArrayLike, e_beam: float, m: float = M_ELECTRON) -> Array:
    """Kinematic maximum of Q^2 [GeV^2] (backward scattering): 2 (E E' + p p') - 2 m^2."""
    x = np.asarray(x, dtype=float)
    p = np.sqrt(e_beam * e_beam - m * m)
    e1 = e_beam * (1.0 - x)
    p1 = np.sqrt(np.clip((e1 - m) * (e1 + m), 0.0, None))
    return 2.0 * (e_beam * e1 + p * p1) - 2.0 * m * m


def photon_flux_density(x: ArrayLike, q2: ArrayLike, q2_min: ArrayLike) -> Array:
    """Budnev transverse photon flux dN / (dx dQ^2) [GeV^-2] of an electron (azimuth-integrated):
    (alpha / pi) / (x Q^2) [1 - x + x^2 / 2 - (1 - x) Q^2_min / Q^2]; zero below Q^2_min."""
    x, q2, qmin = (np.asarray(v, dtype=float) for v in (x, q2, q2_min))
    val = ALPHA_EM / (np.pi * x * q2) * (1.0 - x + 0.5 * x * x - (1.0 - x) * qmin / q2)
    return np.where(q2 >= qmin, val, 0.0)


def photon_flux(x: ArrayLike, q2_min: ArrayLike, q2_max: ArrayLike) -> Array:
    """dN / dx: the Budnev flux integrated over q2_min < Q^2 < q2_max (closed form),
    (alpha / pi x) [(1 - x + x^2/2) ln(Q2max / Q2min) - (1 - x) (1 - Q2min / Q2max)]."""
    x, lo, hi = (np.asarray(v, dtype=float) for v in (x, q2_min, q2_max))
    return (
        ALPHA_EM
        / (np.pi * x)
        * ((1.0 - x + 0.5 * x * x) * np.log(hi / lo) - (1.0 - x) * (1.0 - lo / hi))
    )


def gamma_gamma_to_ll_me2(w: ArrayLike, cos_theta: ArrayLike, m: float) -> Array:
    """Spin- and polarisation-averaged |M|^2 of gamma gamma -> l+ l- (real photons),
    2 e^4 [u'/t' + t'/u' - 4 m^2 (1/t' + 1/u') - 4 m^4 (1/t' + 1/u')^2], t' = t - m^2 etc.,
    with the lepton at angle theta to a photon in the pair rest frame (pair mass w)."""
    w, c = (np.asarray(v, dtype=float) for v in (w, cos_theta))
    s = w * w
    beta = np.sqrt(np.clip(1.0 - 4.0 * m * m / s, 0.0, None))
    tp = -0.5 * s * (1.0 - beta * c)
    up = -0.5 * s * (1.0 + beta * c)
    inv = 1.0 / tp + 1.0 / up
    return 2.0 * E_CHARGE2**2 * (up / tp + tp / up - 4.0 * m * m * inv - 4.0 * m**4 * inv * inv)


def gamma_gamma_to_ll_dcos_fb(w: ArrayLike, cos_theta: ArrayLike, m: float) -> Array:
    """d sigma / d cos(theta) [fb] of gamma gamma -> l+ l- (Breit-Wheeler, differential),
    beta / (32 pi W^2) |M|^2; zero below threshold."""
    w = np.asarray(w, dtype=float)
    s = w * w
    beta = np.sqrt(np.clip(1.0 - 4.0 * m * m / s, 0.0, None))
    val = beta / (32.0 * np.pi * s) * gamma_gamma_to_ll_me2(w, cos_theta, m) * GEV2_TO_FB
    return np.where(beta > 0, val, 0.0)


def gamma_gamma_to_ll_cross_section_fb(w: ArrayLike, m: float) -> Array:
    """Breit-Wheeler cross section sigma(gamma gamma -> l+ l-) [fb] at pair mass w:
    (2 pi alpha^2 / W^2) [(3 - beta^4) ln((1 + beta) / (1 - beta)) - 2 beta (2 - beta^2)]."""
    w = np.asarray(w, dtype=float)
    s = w * w
    r = np.clip(4.0 * m * m / s, 0.0, 1.0)
    beta = np.sqrt(1.0 - r)
    log = np.log1p(beta) - np.log(np.where(beta > 0, r / (1.0 + beta), 1.0))
    val = 2.0 * np.pi * ALPHA_EM**2 / s * ((3.0 - beta**4) * log - 2.0 * beta * (2.0 - beta * beta))
    return np.where(beta > 0, val * GEV2_TO_FB, 0.0)


# ============================================================================ sampling helpers
def _power_law(u: Array, lo: float, hi: float, power: float) -> tuple[Array, Array]:
    """x in [lo, hi] with density ~ x^-power; returns (x, density)."""
    if abs(power - 1.0) < 1e-12:
        span = np.log(hi / lo)
        x = lo * np.exp(u * span)
        return x, 1.0 / (x * span)
    b = 1.0 - power
    a_lo, a_hi = lo**b, hi**b
    x = (a_lo + u * (a_hi - a_lo)) ** (1.0 / b)
    return x, x**-power * (b / (a_hi - a_lo))


def _q2_sample(u: Array, lo: Array, hi: Array, lam2: Array) -> tuple[Array, Array]:
    """Q^2 in [lo, hi] with density ~ 1 / (Q^2 (1 + Q^2 / lam2)); returns (Q^2, density)."""
    g_lo = -np.log1p(lam2 / lo)
    g_hi = -np.log1p(lam2 / hi)
    span = g_hi - g_lo
    q2 = lam2 / np.expm1(-(g_lo + u * span))
    q2 = np.clip(q2, lo, hi)
    return q2, 1.0 / (q2 * (1.0 + q2 / lam2) * span)


def _pole_density(omc: Array, b: Array, om: Array) -> Array:
    """Normalised density b / ((1 - b c) ln((1 + b) / (1 - b))) on [-1, 1], given 1 - c, b and
    om = 1 - b (computed without cancellation by the caller)."""
    log = np.log1p(b) - np.log(om)
    return b / ((om + b * omc) * log)


def _pole_sample(u: Array, b: Array, om: Array) -> Array:
    """1 - c for c drawn from :func:`_pole_density` (inverse CDF, free of cancellation)."""
    log = np.log1p(b) - np.log(om)
    return om * np.expm1((1.0 - u) * log) / b


def _angle_mixture(
    u_choice: Array, u: Array, b1: Array, om1: Array, b2: Array, om2: Array, flat: float
) -> tuple[Array, Array, Array]:
    """cos(theta) from (1 - flat) x [t-pole (c -> +1), u-pole (c -> -1)] + flat x uniform.

    Returns (1 - c, 1 + c, density)."""
    pole = 0.5 * (1.0 - flat)
    first = u_choice < pole
    second = (u_choice >= pole) & (u_choice < 2.0 * pole)
    omc = np.where(first, _pole_sample(u, b1, om1), 1.0 - (2.0 * u - 1.0))
    opc_second = _pole_sample(u, b2, om2)
    omc = np.where(second, 2.0 - opc_second, omc)
    opc = np.where(second, opc_second, 2.0 - omc)
    omc = np.clip(omc, 0.0, 2.0)
    opc = np.clip(opc, 0.0, 2.0)
    dens = pole * (_pole_density(omc, b1, om1) + _pole_density(opc, b2, om2)) + 0.5 * flat
    return omc, opc, dens


def _angle_mixture_density(
    omc: Array, opc: Array, b1: Array, om1: Array, b2: Array, om2: Array, flat: float
) -> Array:
    """Density of :func:`_angle_mixture` at (1 - c, 1 + c)."""
    pole = 0.5 * (1.0 - flat)
    return pole * (_pole_density(omc, b1, om1) + _pole_density(opc, b2, om2)) + 0.5 * flat


def _to_rest(q: Array, parent: Array, mass: Array) -> Array:
    """``q`` seen in the rest frame of ``parent`` (pure boost; mass > 0)."""
    e_p = parent[..., 0]
    pq = np.einsum("...i,...i->...", parent[..., 1:], q[..., 1:])
    out = np.empty(np.broadcast_shapes(q.shape, parent.shape))
    out[..., 0] = (e_p * q[..., 0] - pq) / mass
    coef = (pq / (e_p + mass) - q[..., 0]) / mass
    out[..., 1:] = q[..., 1:] + coef[..., None] * parent[..., 1:]
    return out


def _from_rest(q: Array, parent: Array, mass: Array) -> Array:
    """``q`` given in the rest frame of ``parent`` taken to the frame of ``parent``."""
    e_p = parent[..., 0]
    pq = np.einsum("...i,...i->...", parent[..., 1:], q[..., 1:])
    out = np.empty(np.broadcast_shapes(q.shape, parent.shape))
    out[..., 0] = (e_p * q[..., 0] + pq) / mass
    coef = (pq / (e_p + mass) + q[..., 0]) / mass
    out[..., 1:] = q[..., 1:] + coef[..., None] * parent[..., 1:]
    return out


def _decay_about_axis(
    parent: Array, mass: Array, axis: Array, m1: float, omc: Array, opc: Array, phi: Array
) -> tuple[Array, Array]:
    """Two-body decay of ``parent`` (n, 4) of mass ``mass`` into equal masses m1, daughter 1
    at (theta, phi) about ``axis`` (a 3-vector in the parent rest frame); 1 - cos and 1 + cos
    given separately (accuracy near the poles). Returns the daughters in the parent's frame."""
    k = np.sqrt(np.clip(0.25 * mass * mass - m1 * m1, 0.0, None))
    sin = np.sqrt(omc * opc)
    cos = 0.5 * (opc - omc)
    rest = np.empty((parent.shape[0], 4))
    rest[:, 0] = 0.5 * mass
    rest[:, 1] = k * sin * np.cos(phi)
    rest[:, 2] = k * sin * np.sin(phi)
    rest[:, 3] = k * cos
    rest = lorentz.rotate_from_z(rest, axis)
    first = _from_rest(rest, parent, mass)
    return first, parent - first


def _check_theta_range(value: Any, name: str) -> tuple[float, float] | None:
    """A polar-angle range (lo, hi) [deg] as a tuple of floats; also accepts the strings
    "lo,hi" or "(lo, hi)" (command-line parameters)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip().strip("()[]").split(",")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (theta_min, theta_max) in degrees") from exc
    if not 0.0 <= lo < hi <= 180.0:
        raise ValueError(f"{name} must satisfy 0 <= theta_min < theta_max <= 180, got {value!r}")
    return lo, hi


def _check_number(value: float, name: str, lo: float, hi: float = np.inf) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not (np.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value!r}")
    return v


def _cos_pt(p: Array) -> tuple[Array, Array]:
    """(cos theta, pT) of row-major four-vectors (..., 4) to the z axis."""
    pt = np.hypot(p[..., 1], p[..., 2])
    pp = np.hypot(pt, p[..., 3])
    return p[..., 3] / np.where(pp > 0, pp, 1.0), pt


def _lepton_region_mask(
    leptons: list[Array], theta_deg: tuple[float, float] | None, min_pt: float
) -> NDArray[np.bool_]:
    """All ``leptons`` (lab (n, 4)) inside the polar-angle range and above min_pt."""
    keep = np.ones(leptons[0].shape[0], dtype=bool)
    for lep in leptons:
        c, pt = _cos_pt(lep)
        if theta_deg is not None:
            keep &= (c <= np.cos(np.radians(theta_deg[0]))) & (
                c >= np.cos(np.radians(theta_deg[1]))
            )
        if min_pt > 0:
            keep &= pt >= min_pt
    return keep


#: Sampled points after which a generation that accepts fewer than n points gives up.
MAX_TRIALS_PER_EVENT = 10_000


def _first_points(ok: NDArray[np.bool_], limit: int) -> tuple[NDArray[np.int64], int]:
    """Indices of the first ``limit`` True entries of ``ok`` and the number of points examined
    up to the last of them (all of ``ok`` when it has fewer)."""
    idx = np.nonzero(ok)[0]
    if idx.size >= limit:
        idx = idx[:limit]
        return idx, int(idx[-1]) + 1 if limit > 0 else 0
    return idx, int(ok.size)


def _accepted_events(
    chunk: Any, n: int, rng: np.random.Generator, collider: Collider
) -> tuple[Array, Array, dict[str, Array], int]:
    """Exactly n accepted events from blocks ``chunk(size, rng, collider, limit)``, which
    return (lab four-momenta, f / rho, truth, block index of each accepted point, points used)
    with f / rho evaluated for the first ``limit`` points inside the cuts only. Points are used
    in order until the n-th is accepted, after N points in all (the rest of the last block is
    discarded unseen by the weights); with this negative-binomial stopping rule
    (n - 1) / (N - 1) is the unbiased estimate of the acceptance, so the weights
    f / rho x (n - 1) / (n (N - 1)) sum to an unbiased estimate of the cross section
    (n = 1: 1 / N). Returns (p4, weights [fb], truth, N)."""
    parts: list[tuple] = []
    have, trials, rate = 0, 0, 0.5
    while have < n:
        need = n - have
        size = int(min(CHUNK_SIZE, max(1024, 2.0 * need / max(rate, 1e-3))))
        p4, w, truth, idx, used = chunk(size, rng, collider, need)
        rate = max(w.size, 1) / used if used else rate
        if w.size >= need:
            trials += int(idx[need - 1]) + 1
            parts.append((p4[:need], w[:need], {k: v[:need] for k, v in truth.items()}))
            have = n
        else:
            trials += used
            parts.append((p4, w, truth))
            have += w.size
            if trials > MAX_TRIALS_PER_EVENT * n + 10 * CHUNK_SIZE:
                raise ValueError(
                    f"the generation cuts accept {have} of {trials} sampled points: "
                    f"{n} events are out of reach; loosen the cuts"
                )
    if n == 0:
        return np.zeros((0, 4, 4)), np.zeros(0), {}, 0
    norm = (n - 1) / (n * (trials - 1)) if n > 1 else 1.0 / trials
    p4 = np.concatenate([p[0] for p in parts])
    weight = np.concatenate([p[1] for p in parts]) * norm
    truth = {k: np.concatenate([p[2][k] for p in parts]) for k in parts[0][2]}
    return p4, weight, truth, trials


def _objects(p4: Array, pdg: tuple[int, ...]) -> Objects:
    n, k = p4.shape[:2]
    offsets = np.arange(n + 1, dtype=np.int64) * k
    return Objects(
        offsets,
        {
            "pdg": np.tile(np.asarray(pdg, dtype=np.int64), n),
            "p4": p4.reshape(n * k, 4),
            "vertex": np.zeros((n * k, 3)),
        },
    )


# ============================================================================ e+e- -> e+e- l+l-
@dataclass(frozen=True)
class _Scatter:
    """A beam lepton radiating a space-like photon (row-major (n, 4) four-vectors, CM frame)."""

    p_out: Array  # scattered lepton
    q: Array  # photon, p_beam - p_out
    q2: Array  # Q^2 = -q^2 > 0
    qmin: Array  # kinematic Q^2_min at this x
    omc: Array  # 1 - cos(theta) of the scattered lepton to its beam
    sign: float  # +1: e- beam along +z, -1: e+ beam along -z

    def take(self, idx: NDArray[np.int64]) -> _Scatter:
        return _Scatter(
            self.p_out[idx], self.q[idx], self.q2[idx], self.qmin[idx], self.omc[idx], self.sign
        )


def _scatter(
    x: Array, q2: Array, phi: Array, e: float, p: float, m: float, sign: float
) -> _Scatter:
    """Scattered lepton of energy E (1 - x), virtuality Q^2, azimuth phi, beam (E, 0, 0, sign p);
    1 - cos(theta) = (Q^2 - Q^2_min) / (2 p p') and q_z = sign [(p - p') + p' (1 - cos)]
    computed without cancellation."""
    e1 = e * (1.0 - x)
    p1 = np.maximum(np.sqrt(np.clip((e1 - m) * (e1 + m), 0.0, None)), 1e-300)
    w = e * x
    qmin = q2_min(x, e, m)
    omc = np.clip((q2 - qmin) / (2.0 * p * p1), 0.0, 2.0)
    pt = p1 * np.sqrt(omc * (2.0 - omc))
    n = x.shape[0]
    p_out = np.empty((n, 4))
    p_out[:, 0] = e1
    p_out[:, 1] = pt * np.cos(phi)
    p_out[:, 2] = pt * np.sin(phi)
    p_out[:, 3] = sign * p1 * (1.0 - omc)
    q = np.empty((n, 4))
    q[:, 0] = w
    q[:, 1:3] = -p_out[:, 1:3]
    q[:, 3] = sign * (w * (e + e1) / (p + p1) + p1 * omc)
    return _Scatter(p_out, q, q2, qmin, omc, sign)


def _photon_basis(sc: _Scatter, e: float, p: float, m: float) -> Array:
    """Polarisation vectors (4, 3, n) of the spin-summed lepton tensor of one photon, scaled so
    that L^{mu nu} / Q^4 = sum_a v_a^mu v_a^nu modulo gauge terms:
    v_0 ~ sqrt(8 m^2 / (4 m^2 + Q^2)) P / Q^2 (P = p + p'), v_1, v_2 ~ sqrt(2) e_1,2 / Q with
    e_1 (in the scattering plane) and e_2 (normal to it) orthogonal to p and p'. Each vector is
    shifted by a multiple of q so that its product with the other beam n vanishes."""
    n = sc.q.shape[0]
    sign = sc.sign
    e1 = sc.p_out[:, 0]
    p1 = np.maximum(np.sqrt(np.clip((e1 - m) * (e1 + m), 0.0, None)), 1e-300)
    pt = np.hypot(sc.p_out[:, 1], sc.p_out[:, 2])
    safe_pt = np.where(pt > 0, pt, 1.0)
    cphi = np.where(pt > 0, sc.p_out[:, 1] / safe_pt, 1.0)
    sphi = np.where(pt > 0, sc.p_out[:, 2] / safe_pt, 0.0)
    # e_1 = (gam p / E, beta rho + sign gam z): D = p E' - E p' cos(theta) > 0 (no cancellation)
    d = m * m * (e * e - e1 * e1) / (p * e1 + e * p1) + e * p1 * sc.omc
    t = pt * e / d
    beta = 1.0 / np.sqrt(1.0 + (t * m / e) ** 2)
    gam = beta * t
    q = sc.q.T
    qn = q[0] * e + sign * q[3] * p  # q . n, n = (E, 0, 0, -sign p)
    out = np.empty((4, 3, n))
    # v_0: P - (P.n / q.n) q = 2 p_beam - (2 p_beam.n / q.n) q
    ratio = 2.0 * (e * e + p * p) / qn
    scale0 = np.sqrt(8.0 * m * m / (4.0 * m * m + sc.q2)) / sc.q2
    out[0, 0] = (2.0 * e - ratio * q[0]) * scale0
    out[1, 0] = -ratio * q[1] * scale0
    out[2, 0] = -ratio * q[2] * scale0
    out[3, 0] = (sign * 2.0 * p - ratio * q[3]) * scale0
    scale = np.sqrt(2.0 / sc.q2)
    shift = 2.0 * gam * p / qn  # e_1 . n / q . n
    out[0, 1] = (gam * p / e - shift * q[0]) * scale
    out[1, 1] = (beta * cphi - shift * q[1]) * scale
    out[2, 1] = (beta * sphi - shift * q[2]) * scale
    out[3, 1] = (sign * gam - shift * q[3]) * scale
    out[0, 2] = 0.0
    out[1, 2] = -sphi * scale
    out[2, 2] = cphi * scale
    out[3, 2] = 0.0
    return out


def multiperipheral_me2(
    sc1: _Scatter, sc2: _Scatter, k1: Array, k2: Array, e_beam: float, m_lepton: float
) -> Array:
    """Spin-averaged |M|^2 (dimensionless) of the two multiperipheral graphs of
    e-(p1) e+(p2) -> e-(p1') e+(p2') l-(k1) l+(k2), from the gauge-shifted polarisation bases
    of the two photons (module docstring); k1, k2 row-major (n, 4), CM frame."""
    m = M_ELECTRON
    p = np.sqrt((e_beam - m) * (e_beam + m))
    v1 = _photon_basis(sc1, e_beam, p, m)
    v2 = _photon_basis(sc2, e_beam, p, m)
    k1t, k2t = k1.T, k2.T
    ub = _bar(_spinors(k1t, m_lepton, "u"))
    v = _spinors(k2t, m_lepton, "v")
    t = _chain2(ub, v, v1, v2, k1t - sc1.q.T, k1t - sc2.q.T, m_lepton)
    return 0.25 * E_CHARGE2**4 * np.sum(t.real**2 + t.imag**2, axis=(0, 1, 2, 3))


def _collider_frame(collider: Collider) -> dict[str, float]:
    """Numbers of the lab <-> CM relation used by the electron-loss bound."""
    e_cm = 0.5 * collider.sqrt_s
    beta = float(np.linalg.norm(collider.boost))
    gamma = 1.0 / np.sqrt(1.0 - beta * beta)
    return {
        "a_minus": collider.e_minus / e_cm,
        "a_plus": collider.e_plus / e_cm,
        "doppler": gamma * (1.0 + beta),
        "crossing": collider.crossing_angle_rad,
        "rapidity": float(np.arctanh(collider.boost[2])),
    }


def lost_electron_q2_bound(
    x: ArrayLike, e_beam: float, psi_max_rad: float, a: float, doppler: float, m: float = M_ELECTRON
) -> Array:
    """Upper bound on Q^2 [GeV^2] of a photon whose scattered lepton (CM energy E (1 - x)) makes
    a lab angle <= psi_max with its own (massless) beam. The invariant p'.k_beam gives
    E'(1 - v' cos psi*) <= A [gamma (1 + beta) (1 - cos psi_max) E' + m] (A = E_beam,lab /
    E_beam,CM, gamma (1 + beta) the largest Doppler factor of the CM -> lab boost), and
    Q^2 <= 2 E E' (1 - v' cos psi*) for the massive beam (E - p <= m^2 / E)::

        Q^2 <= 2 E [A gamma (1 + beta) (1 - cos psi_max) E (1 - x) + A m]
    """
    x = np.asarray(x, dtype=float)
    return 2.0 * e_beam * (a * doppler * (1.0 - np.cos(psi_max_rad)) * e_beam * (1.0 - x) + a * m)


#: Share of the tau and rapidity densities put inside the region implied by lepton cuts.
REGION_SHARE = 0.8


@dataclass(frozen=True)
class _TwoPhotonPair(Process):
    """e+e- -> e+e- l+l- through the multiperipheral (two-photon) graphs; see module docstring.

    Parameters: ``min_pair_mass`` [GeV] (cut on the produced pair mass W, > 2 m_l);
    ``matrix_element`` ("exact" or "epa"); ``electrons_lost_theta_deg`` (theta_fwd, theta_bwd)
    [deg] or None; ``lepton_theta_deg`` (lo, hi) [deg] or None; ``lepton_min_pt`` [GeV];
    ``tau_power``: importance-sampling exponent of tau = x1 x2 (smaller: more events at high
    W; any value in [0.5, 3] gives the same cross section); ``flat_fraction``: flat share of the
    lepton-angle density (None: 0.1, or 0.5 with lepton cuts); ``max_q2`` [GeV^2]: both photon
    virtualities below it (e.g. an untagged definition), None: no cut. Angle ranges may also be
    given as strings "lo,hi". With lepton cuts, :data:`REGION_SHARE` of tau, of the pair
    rapidity and of cos(theta*) are drawn inside the ranges the cuts point to (pair mass above
    2 sqrt(pt_min^2 + m^2), rapidity inside the lepton acceptance, central angles): a density
    change only, compensated in the weights.
    """

    min_pair_mass: float = 0.5
    matrix_element: str = "exact"
    electrons_lost_theta_deg: tuple[float, float] | None = None
    lepton_theta_deg: tuple[float, float] | None = None
    lepton_min_pt: float = 0.0
    tau_power: float = 2.0
    flat_fraction: float | None = None
    max_q2: float | None = None

    lepton_mass: ClassVar[float]
    lepton_pdg: ClassVar[int]

    def __post_init__(self) -> None:
        if self.matrix_element not in MATRIX_ELEMENTS:
            raise ValueError(
                f"unknown matrix_element '{self.matrix_element}'; valid: {list(MATRIX_ELEMENTS)}"
            )
        w_min = _check_number(self.min_pair_mass, "min_pair_mass", 0.0)
        if not w_min > 2.0 * self.lepton_mass:
            raise ValueError(
                f"min_pair_mass must be above the pair threshold 2 m_l = "
                f"{2.0 * self.lepton_mass:.6g} GeV, got {self.min_pair_mass!r}"
            )
        for name in ("electrons_lost_theta_deg", "lepton_theta_deg"):
            object.__setattr__(self, name, _check_theta_range(getattr(self, name), name))
        _check_number(self.lepton_min_pt, "lepton_min_pt", 0.0)
        _check_number(self.tau_power, "tau_power", 0.5, 3.0)
        if self.flat_fraction is not None:
            _check_number(self.flat_fraction, "flat_fraction", 0.0, 1.0)
        if self.max_q2 is not None and not _check_number(self.max_q2, "max_q2", 0.0) > 0:
            raise ValueError(f"max_q2 must be > 0, got {self.max_q2!r}")

    # ---------------------------------------------------------------- public
    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """``n_events`` weighted events [fb per event] inside the generation cuts (module
        docstring); ``meta["n_trials"]``: the phase-space points sampled for them."""
        n = self.check_n_events(n_events)
        sqrt_s = collider.sqrt_s
        if not self.min_pair_mass < sqrt_s - 2.0 * M_ELECTRON:
            raise ValueError(
                f"min_pair_mass = {self.min_pair_mass} GeV is above the kinematic limit "
                f"sqrt(s) - 2 m_e = {sqrt_s - 2.0 * M_ELECTRON:.4f} GeV at {collider.name}"
            )
        p_lab, weight, truth, n_trials = _accepted_events(self._chunk, n, rng, collider)
        pdg = (11, -11, self.lepton_pdg, -self.lepton_pdg)
        meta = {
            "process": self.name,
            "generator": f"{__name__}.{type(self).__name__}",
            "generator_version": GENERATOR_VERSION,
            "darkscan_version": __version__,
            "params": dataclasses.asdict(self),
            "collider": collider.name,
            "sqrt_s": sqrt_s,
            "n_trials": n_trials,
            "efficiency": float(n / n_trials) if n else 0.0,
            "weight_unit": "fb",
        }
        return EventBatch(_objects(p_lab, pdg), weight, self.name, truth, meta)

    # ---------------------------------------------------------------- internals
    def _lepton_cuts(self) -> bool:
        return self.lepton_theta_deg is not None or self.lepton_min_pt > 0

    def _flat(self) -> float:
        if self.flat_fraction is not None:
            return float(self.flat_fraction)
        return 0.5 if self._lepton_cuts() else 0.1

    def _extra_cuts(self, sc1: _Scatter, sc2: _Scatter, k1: Array, k2: Array) -> NDArray[np.bool_]:
        """Process-specific generation cuts (CM frame); none by default."""
        return np.ones(k1.shape[0], dtype=bool)

    def _sample_x(
        self, u_tau: Array, u_y: Array, u_pick: Array, s: float, x_max: float, frame: dict
    ) -> tuple[Array, Array, Array]:
        """(x1, x2, density in (x1, x2)); dx1 dx2 = dtau dy. tau = x1 x2 ~ tau^-power and
        y = ln(x1 / x2) / 2 uniform; with lepton cuts, a mixture: REGION_SHARE of tau above
        4 (pt_min^2 + m^2) / s and (independently) of y inside the lepton acceptance."""
        w_min = max(self.min_pair_mass, 2.0 * self.lepton_mass)
        tau_lo, tau_hi = w_min * w_min / s, x_max * x_max
        if not self._lepton_cuts():
            tau, dens = _power_law(u_tau, tau_lo, tau_hi, self.tau_power)
            y_max = np.log(x_max / np.sqrt(tau))
            y = (2.0 * u_y - 1.0) * y_max
            rt = np.sqrt(tau)
            return rt * np.exp(y), rt * np.exp(-y), dens / (2.0 * y_max)
        share = REGION_SHARE
        pt_min = self.lepton_min_pt
        tau_reg = min(max(4.0 * (pt_min * pt_min + self.lepton_mass**2) / s, tau_lo), tau_hi)
        t_full, _ = _power_law(u_tau, tau_lo, tau_hi, self.tau_power)
        t_reg, _ = _power_law(u_tau, tau_reg, tau_hi, self.tau_power)
        tau = np.where(u_pick < share, t_reg, t_full)
        d_reg = np.where(
            tau >= tau_reg, _power_law_density(tau, tau_reg, tau_hi, self.tau_power), 0.0
        )
        dens = (1.0 - share) * _power_law_density(tau, tau_lo, tau_hi, self.tau_power)
        dens += share * d_reg
        y_max = np.log(x_max / np.sqrt(tau))
        theta = self.lepton_theta_deg or (0.0, 180.0)
        eta_hi = -np.log(np.tan(np.radians(max(theta[0], 1.0)) / 2.0))
        eta_lo = -np.log(np.tan(np.radians(min(theta[1], 179.0)) / 2.0))
        centre = 0.5 * (eta_lo + eta_hi) - frame["rapidity"]
        half = 0.5 * (eta_hi - eta_lo)
        r_lo = np.maximum(centre - half, -y_max)
        r_hi = np.minimum(centre + half, y_max)
        has_reg = r_hi > r_lo
        width = np.where(has_reg, r_hi - r_lo, 1.0)
        in_y = (u_y < share) & has_reg
        u3 = np.where(u_y < share, u_y / share, (u_y - share) / (1.0 - share))
        y = np.where(in_y, r_lo + u3 * width, (2.0 * u3 - 1.0) * y_max)
        d_y = np.where(
            has_reg,
            (1.0 - share) / (2.0 * y_max) + share * ((y >= r_lo) & (y <= r_hi)) / width,
            1.0 / (2.0 * y_max),
        )
        rt = np.sqrt(tau)
        return rt * np.exp(y), rt * np.exp(-y), dens * d_y

    def _chunk(
        self, n: int, rng: np.random.Generator, collider: Collider, limit: int
    ) -> tuple[Array, Array, dict[str, Array], NDArray[np.int64], int]:
        """One block of n points, the weights evaluated for the first ``limit`` inside the
        cuts (see :func:`_accepted_events`)."""
        m, ml = M_ELECTRON, self.lepton_mass
        sqrt_s = collider.sqrt_s
        s = sqrt_s * sqrt_s
        e = 0.5 * sqrt_s
        p = np.sqrt((e - m) * (e + m))
        frame = _collider_frame(collider)
        u = rng.random((n, 12))
        x_max = 1.0 - m / e
        x1, x2, dens = self._sample_x(u[:, 0], u[:, 1], u[:, 9], s, x_max, frame)
        lam2 = x1 * x2 * s
        scatters = []
        ok = np.ones(n, dtype=bool)
        for i, (x, sign) in enumerate(((x1, 1.0), (x2, -1.0))):
            lo = q2_min(x, e, m)
            hi = q2_max(x, e, m)
            if self.electrons_lost_theta_deg is not None:
                t_fwd, t_bwd = np.radians(self.electrons_lost_theta_deg)
                if sign > 0:
                    psi, a = t_fwd, frame["a_minus"]
                else:
                    psi, a = np.pi - t_bwd + frame["crossing"], frame["a_plus"]
                if psi < np.pi:
                    hi = np.minimum(hi, lost_electron_q2_bound(x, e, psi, a, frame["doppler"], m))
            if self.max_q2 is not None:
                hi = np.minimum(hi, self.max_q2)
            ok &= hi > lo
            hi = np.maximum(hi, lo * (1.0 + 1e-12))
            q2, dq = _q2_sample(u[:, 2 + i], lo, hi, lam2)
            dens = dens * dq
            scatters.append(_scatter(x, q2, 2.0 * np.pi * u[:, 4 + i], e, p, m, sign))
        sc1, sc2 = scatters
        pair = sc1.q + sc2.q
        w_min = max(self.min_pair_mass, 2.0 * ml)
        w2 = lorentz.mass2(pair)
        ok &= w2 > w_min * w_min
        w = np.sqrt(np.where(ok, w2, 4.0 * w_min * w_min))
        # lepton angle in the pair rest frame, measured from q1: poles of the t and u channels
        qa, qb = sc1.q2, sc2.q2
        q0a = (w * w - qa + qb) / (2.0 * w)
        q0b = w - q0a
        qz = np.sqrt(q0a * q0a + qa)
        beta = np.sqrt(np.clip(1.0 - 4.0 * ml * ml / (w * w), 0.0, None))
        one_m_beta = 4.0 * ml * ml / (w * w) / (1.0 + beta)
        b1 = np.maximum(beta * w * qz / (qa + w * q0a), 1e-12)
        b2 = np.maximum(beta * w * qz / (qb + w * q0b), 1e-12)
        om1 = np.clip(
            (qa * (1.0 - w / (q0a + qz)) + w * qz * one_m_beta) / (qa + w * q0a), 1e-300, 1.0
        )
        om2 = np.clip(
            (qb * (1.0 - w / (q0b + qz)) + w * qz * one_m_beta) / (qb + w * q0b), 1e-300, 1.0
        )
        omc, opc, dc = _angle_mixture(u[:, 6], u[:, 7], b1, om1, b2, om2, self._flat())
        if self.lepton_min_pt > 0:
            # lepton pT ~ (beta W / 2) sin(theta*): REGION_SHARE of the points at the central
            # angles |cos| < c_reg where pT can pass the cut, with the shape 1 / (1 - b^2 cos^2)
            # of the poles truncated there (a density change only)
            c_reg = np.sqrt(np.clip(1.0 - (2.0 * self.lepton_min_pt / (beta * w)) ** 2, 0.0, 1.0))
            c_reg = np.minimum(c_reg + 0.1, 1.0)
            bb = 0.99 * beta
            a_reg = np.arctanh(bb * c_reg)
            central = u[:, 10] < REGION_SHARE
            c_c = np.tanh((2.0 * u[:, 11] - 1.0) * a_reg) / bb
            omc = np.where(central, 1.0 - c_c, omc)
            opc = np.where(central, 1.0 + c_c, opc)
            cos = 0.5 * (opc - omc)
            d_reg = np.where(
                np.abs(cos) <= c_reg, bb / (2.0 * a_reg * (1.0 - (bb * cos) ** 2)), 0.0
            )
            dc_std = _angle_mixture_density(omc, opc, b1, om1, b2, om2, self._flat())
            dc = (1.0 - REGION_SHARE) * dc_std + REGION_SHARE * d_reg
        dens = dens * dc
        axis = _to_rest(sc1.q, pair, w)[:, 1:]
        k1, k2 = _decay_about_axis(pair, w, axis, ml, omc, opc, 2.0 * np.pi * u[:, 8])
        ok &= self._extra_cuts(sc1, sc2, k1, k2)
        p_cm = np.stack([sc1.p_out, sc2.p_out, k1, k2], axis=1)
        p_lab = p_cm @ cm_to_lab_matrix(collider).T
        if self._lepton_cuts():
            ok &= _lepton_region_mask(
                [p_lab[:, 2], p_lab[:, 3]], self.lepton_theta_deg, self.lepton_min_pt
            )
        if self.electrons_lost_theta_deg is not None:
            lo_deg, hi_deg = self.electrons_lost_theta_deg
            ok &= _cos_pt(p_lab[:, 0])[0] > np.cos(np.radians(lo_deg))
            ok &= _cos_pt(p_lab[:, 1])[0] < np.cos(np.radians(hi_deg))
        idx, used = _first_points(ok, limit)
        s1, s2 = sc1.take(idx), sc2.take(idx)
        if self.matrix_element == "exact":
            me2 = multiperipheral_me2(s1, s2, k1[idx], k2[idx], e, ml)
            jac = (e / (4.0 * p * (2.0 * np.pi) ** 3)) ** 2 * beta[idx] / (32.0 * np.pi**2)
            # |M|^2 / flux x dPhi_4 per unit (x1, x2, Q1^2, Q2^2, cos theta*) density, with the
            # three azimuths' densities 1 / (2 pi) taken out
            weight = GEV2_TO_FB * me2 / (8.0 * e * p) * jac * (2.0 * np.pi) ** 3 / dens[idx]
        else:
            wi = w[idx]
            inside = (s1.q2 < EPA_Q2_MAX_OVER_W2 * wi * wi) & (s2.q2 < EPA_Q2_MAX_OVER_W2 * wi * wi)
            flux = photon_flux_density(x1[idx], s1.q2, s1.qmin) * photon_flux_density(
                x2[idx], s2.q2, s2.qmin
            )
            cos = 0.5 * (opc[idx] - omc[idx])
            dsig = gamma_gamma_to_ll_dcos_fb(wi, cos, ml)
            weight = np.where(inside, flux * dsig, 0.0) / dens[idx]
        truth = {
            "pair_mass": w[idx],
            "q2_electron": s1.q2,
            "q2_positron": s2.q2,
            "x_electron": x1[idx],
            "x_positron": x2[idx],
            "cos_theta_star": 0.5 * (opc[idx] - omc[idx]),
        }
        keep = weight > 0
        truth = {k: v[keep] for k, v in truth.items()}
        return p_lab[idx][keep], weight[keep], truth, idx[keep], used


def _power_law_density(x: Array, lo: float, hi: float, power: float) -> Array:
    """Normalised density ~ x^-power on [lo, hi] (0 outside)."""
    if abs(power - 1.0) < 1e-12:
        val = 1.0 / (x * np.log(hi / lo))
    else:
        b = 1.0 - power
        val = x**-power * (b / (hi**b - lo**b))
    return np.where((x >= lo) & (x <= hi), val, 0.0)


@dataclass(frozen=True)
class EEMuMu(_TwoPhotonPair):
    """e+e- -> e+e- mu+mu- (two-photon), see the module docstring."""

    name: ClassVar[str] = "ee-eemumu"
    description: ClassVar[str] = "e+e- -> e+e- mu+mu- (multiperipheral two-photon graphs)"
    lepton_mass: ClassVar[float] = M_MUON
    lepton_pdg: ClassVar[int] = 13


@dataclass(frozen=True)
class EEEE(_TwoPhotonPair):
    """e+e- -> e+e- e+e- (two-photon), see the module docstring.

    ``all_pairs_mass_cut`` (default True): the four e+ e- combinations must all have a mass
    above ``min_pair_mass`` (the identical e+- make "the produced pair" unobservable; this is
    the symmetric, observable version of the cut, which the reference cross section follows);
    False: only the pair made by the two photons is cut.
    """

    all_pairs_mass_cut: bool = True

    name: ClassVar[str] = "ee-eeee"
    description: ClassVar[str] = "e+e- -> e+e- e+e- (multiperipheral two-photon graphs)"
    lepton_mass: ClassVar[float] = M_ELECTRON
    lepton_pdg: ClassVar[int] = 11

    def _extra_cuts(self, sc1: _Scatter, sc2: _Scatter, k1: Array, k2: Array) -> NDArray[np.bool_]:
        if not self.all_pairs_mass_cut:
            return np.ones(k1.shape[0], dtype=bool)
        m2 = self.min_pair_mass**2
        return (
            (lorentz.mass2(sc1.p_out + k2) > m2)
            & (lorentz.mass2(k1 + sc2.p_out) > m2)
            & (lorentz.mass2(sc1.p_out + sc2.p_out) > m2)
        )


# ============================================================================ e+e- -> mu+mu- mu+mu-
def _currents(p_minus: Array, p_plus: Array, m: float) -> CArray:
    """Currents u-bar(p-) gamma^mu v(p+) (4, 4, N): axis 1 = 2 h(p-) + h(p+) (outgoing pair)."""
    ub = _bar(_spinors(p_minus.T, m, "u"))  # (4, 2, N)
    v = _spinors(p_plus.T, m, "v")
    j = _current(ub[:, :, None], v[:, None, :])  # (4, 2, 2, N)
    return j.reshape(4, 4, -1)


FOUR_MUON_GRAPHS: tuple[str, ...] = ("fsr_ab", "fsr_cd", "isr")


def four_muon_amplitudes(
    a: Array,
    b: Array,
    c: Array,
    d: Array,
    e_beam: float,
    graphs: tuple[str, ...] = FOUR_MUON_GRAPHS,
) -> CArray:
    """Helicity amplitudes of e-(p1) e+(p2) -> mu-(a) mu+(b) mu-(c) mu+(d) for the pairing
    (a b)(c d) (6 graphs), shape (2,) * 6 + (N,) over (h_a, h_b, h_c, h_d, h_e-, h_e+), in units
    of e^4 (dimension GeV^-4). ``graphs``: a subset of :data:`FOUR_MUON_GRAPHS`: "fsr_ab" (the
    s-channel photon makes (a b), which radiates the photon making (c d)), "fsr_cd" (the same
    with the pairs exchanged), "isr" (both photons off the electron line). CM frame, (N, 4).
    """
    m, me = M_MUON, M_ELECTRON
    n = a.shape[0]
    pz = np.sqrt((e_beam - me) * (e_beam + me))
    p1 = np.tile(np.array([e_beam, 0.0, 0.0, pz]), (n, 1)).T
    p2 = np.tile(np.array([e_beam, 0.0, 0.0, -pz]), (n, 1)).T
    j_ab = _currents(a, b, m)  # (4, 4, N) index 2 h_a + h_b
    j_cd = _currents(c, d, m)
    q_ab, q_cd = (a + b).T, (c + d).T
    m2_ab, m2_cd = _mdot(q_ab, q_ab), _mdot(q_cd, q_cd)
    out = np.zeros((2, 2, 2, 2, 2, 2, n), dtype=np.complex128)
    if "fsr_ab" in graphs or "fsr_cd" in graphs:
        u_e = _spinors(p1, me, "u")
        vb_e = _bar(_spinors(p2, me, "v"))
        j_e = _current(vb_e[:, :, None], u_e[:, None, :]).reshape(4, 4, n)  # 2 h_e+ + h_e-
        s = _mdot(p1 + p2, p1 + p2)
        ptot = p1 + p2
        for xm, xp, j_y, q_y, m2_y, order in (
            (a, b, j_cd, q_cd, m2_cd, "ab"),
            (c, d, j_ab, q_ab, m2_ab, "cd"),
        ):
            if "fsr_" + order not in graphs:
                continue
            ub = _bar(_spinors(xm.T, m, "u"))
            v = _spinors(xp.T, m, "v")
            xmt = xm.T
            t = _chain2(ub, v, j_y, j_e, xmt + q_y, xmt - ptot, m) / (s * m2_y)
            # t: (4 [2 h_y- + h_y+], 4 [2 h_e+ + h_e-], h_x-, h_x+, N)
            t = t.reshape(2, 2, 2, 2, 2, 2, n)  # (hy-, hy+, he+, he-, hx-, hx+)
            if order == "ab":  # x = (a, b), y = (c, d)
                out += t.transpose(4, 5, 0, 1, 3, 2, 6)
            else:  # x = (c, d), y = (a, b)
                out += t.transpose(0, 1, 4, 5, 3, 2, 6)
    if "isr" in graphs:
        u_e = _spinors(p1, me, "u")
        vb_e = _bar(_spinors(p2, me, "v"))
        k1 = p1 - q_cd  # J_ab next to v-bar(p2): line momentum after emitting (c d) from p1
        k2 = p1 - q_ab
        t = _chain2(vb_e, u_e, j_ab, j_cd, k1, k2, me) / (m2_ab * m2_cd)
        # t: (4 [2 h_a + h_b], 4 [2 h_c + h_d], h_e+, h_e-, N)
        t = t.reshape(2, 2, 2, 2, 2, 2, n)
        out += t.transpose(0, 1, 2, 3, 5, 4, 6)
    return out


def four_muon_me2(
    a: Array,
    b: Array,
    c: Array,
    d: Array,
    e_beam: float,
    graphs: tuple[str, ...] = FOUR_MUON_GRAPHS,
    interference: bool = True,
) -> Array:
    """Spin-averaged |M|^2 (dimensionless) of e+e- -> mu-(a) mu+(b) mu-(c) mu+(d): the graphs of
    both pairings with the identical-fermion sign, M = M(ab)(cd) - M(cb)(ad) (all 12 graphs by
    default). ``interference=False``: |M(ab)(cd)|^2 + |M(cb)(ad)|^2 instead."""
    m1 = four_muon_amplitudes(a, b, c, d, e_beam, graphs)
    m2 = four_muon_amplitudes(c, b, a, d, e_beam, graphs)  # pairing (c b)(a d)
    m2 = m2.transpose(2, 1, 0, 3, 4, 5, 6)
    axes = (0, 1, 2, 3, 4, 5)
    if interference:
        amp = m1 - m2
        total = np.sum(amp.real**2 + amp.imag**2, axis=axes)
    else:
        total = np.sum(m1.real**2 + m1.imag**2, axis=axes)
        total += np.sum(m2.real**2 + m2.imag**2, axis=axes)
    return 0.25 * E_CHARGE2**4 * total


def _phi2(m2: Array, ma: Array | float, mb: Array | float) -> Array:
    """Two-body phase-space volume int dPhi_2 = lambda^(1/2)(M^2, ma^2, mb^2) / (8 pi M^2)."""
    lam = (m2 - (ma + mb) ** 2) * (m2 - (ma - mb) ** 2)
    return np.sqrt(np.clip(lam, 0.0, None)) / (8.0 * np.pi * m2)


def _log_density(x: Array, lo: Array | float, hi: Array | float, shift: float = 0.0) -> Array:
    """Normalised density ~ 1 / (x - shift) on [lo, hi] (0 outside)."""
    val = 1.0 / ((x - shift) * np.log((hi - shift) / (lo - shift)))
    return np.where((x >= lo) & (x <= hi), val, 0.0)


def _log_sample(u: Array, lo: Array | float, hi: Array | float, shift: float = 0.0) -> Array:
    return shift + (lo - shift) * ((hi - shift) / (lo - shift)) ** u


def _vv_pole(s: float, m2a: Array, m2b: Array) -> tuple[Array, Array]:
    """(v, 1 - v) of the t/u-channel poles of e+e- -> V(a) V(b): |t - m_e^2| ~ 1 - v cos."""
    x = s - m2a - m2b
    lam = np.sqrt(np.clip(x * x - 4.0 * m2a * m2b, 0.0, None))
    return lam / x, 4.0 * m2a * m2b / (x * (x + lam))


def _cos_of(p: Array) -> tuple[Array, Array]:
    """(1 - cos, 1 + cos) of the polar angle of p (n, 4) to +z, free of cancellation."""
    pp = np.sqrt(np.sum(p[:, 1:] ** 2, axis=1))
    pt2 = p[:, 1] ** 2 + p[:, 2] ** 2
    fwd = p[:, 3] >= 0
    big = 1.0 + np.abs(p[:, 3]) / pp
    small = pt2 / (pp * pp * big)
    return np.where(fwd, small, big), np.where(fwd, big, small)


@dataclass(frozen=True)
class MuMuMuMu(Process):
    """e+e- -> mu+mu- mu+mu-: exact tree-level QED (12 graphs, identical-fermion sign), see the
    module docstring. Generation cuts (exact, lab frame): ``lepton_theta_deg`` (lo, hi) [deg]
    and ``lepton_min_pt`` [GeV] on all four muons; ``min_pair_mass`` [GeV]: every mu+ mu-
    combination above it (0: no cut, the cross section is finite). Particles per event:
    mu-, mu+, mu-, mu+ (in no particular pairing). For studies and validation: ``graphs``, a
    subset of :data:`FOUR_MUON_GRAPHS` (per pairing), and ``interference`` (False: the two
    pairings are added incoherently).
    """

    min_pair_mass: float = 0.0
    lepton_theta_deg: tuple[float, float] | None = None
    lepton_min_pt: float = 0.0
    graphs: tuple[str, ...] = FOUR_MUON_GRAPHS
    interference: bool = True

    name: ClassVar[str] = "ee-mumumumu"
    description: ClassVar[str] = "e+e- -> mu+mu- mu+mu- (all tree-level QED graphs)"
    #: Channel probabilities: FSR with (a b) primary, FSR with (c d) primary, ISR.
    channel_weights: ClassVar[tuple[float, float, float]] = (0.3, 0.3, 0.4)

    def __post_init__(self) -> None:
        _check_number(self.min_pair_mass, "min_pair_mass", 0.0)
        object.__setattr__(
            self, "lepton_theta_deg", _check_theta_range(self.lepton_theta_deg, "lepton_theta_deg")
        )
        _check_number(self.lepton_min_pt, "lepton_min_pt", 0.0)
        bad = [g for g in self.graphs if g not in FOUR_MUON_GRAPHS]
        if bad or not self.graphs:
            raise ValueError(
                f"graphs must be a non-empty subset of {list(FOUR_MUON_GRAPHS)}, "
                f"got {self.graphs!r}"
            )

    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """``n_events`` weighted events [fb per event] inside the generation cuts;
        ``meta["n_trials"]``: the phase-space points sampled for them."""
        n = self.check_n_events(n_events)
        sqrt_s = collider.sqrt_s
        if not 4.0 * M_MUON < sqrt_s or not 2.0 * max(self.min_pair_mass, 2 * M_MUON) < sqrt_s:
            raise ValueError(
                f"min_pair_mass = {self.min_pair_mass} GeV: two pairs above it do not fit in "
                f"sqrt(s) = {sqrt_s:.4f} GeV at {collider.name}"
            )
        p_lab, weight, truth, n_trials = _accepted_events(self._chunk, n, rng, collider)
        meta = {
            "process": self.name,
            "generator": f"{__name__}.{type(self).__name__}",
            "generator_version": GENERATOR_VERSION,
            "darkscan_version": __version__,
            "params": dataclasses.asdict(self),
            "collider": collider.name,
            "sqrt_s": sqrt_s,
            "n_trials": n_trials,
            "efficiency": float(n / n_trials) if n else 0.0,
            "weight_unit": "fb",
        }
        return EventBatch(_objects(p_lab, (13, -13, 13, -13)), weight, self.name, truth, meta)

    # ---------------------------------------------------------------- phase space
    def _density(self, a: Array, b: Array, c: Array, d: Array, s: float) -> Array:
        """Density (per unit of the Lorentz-invariant dPhi_4) of the channel mixture in the
        labelling (a b)(c d), at the given points."""
        m = M_MUON
        sq = np.sqrt(s)
        m2_lo = 4.0 * m * m
        out = np.zeros(a.shape[0])
        w_fsr_ab, w_fsr_cd, w_isr = self.channel_weights
        two_pi = 2.0 * np.pi
        for (xm, xp, ym, yp), wch in (((a, b, c, d), w_fsr_ab), ((c, d, a, b), w_fsr_cd)):
            q = ym + yp
            m2v = lorentz.mass2(q)
            mv = np.sqrt(np.clip(m2v, m2_lo, None))
            g_v = _log_density(m2v, m2_lo, (sq - 2.0 * m) ** 2) * two_pi
            dec_v = 1.0 / _phi2(m2v, m, m)
            sub = np.zeros(a.shape[0])
            for radiator in (xm, xp):
                sx = lorentz.mass2(radiator + q)
                g_x = _log_density(sx, (m + mv) ** 2, (sq - m) ** 2, shift=m * m) * two_pi
                # spectator direction uniform: density 1 / Phi_2 per dPhi_2
                sub += 0.5 * g_x / (_phi2(s, np.sqrt(np.clip(sx, 0, None)), m) * _phi2(sx, m, mv))
            out += wch * g_v * dec_v * sub
        q1, q2 = a + b, c + d
        m2a, m2b = lorentz.mass2(q1), lorentz.mass2(q2)
        ma = np.sqrt(np.clip(m2a, m2_lo, None))
        g1 = _log_density(m2a, m2_lo, (sq - 2.0 * m) ** 2) * two_pi
        g2 = _log_density(m2b, m2_lo, (sq - ma) ** 2) * two_pi
        v, om = _vv_pole(s, m2a, m2b)
        omc, opc = _cos_of(q1)
        h = 0.5 * (_pole_density(omc, v, om) + _pole_density(opc, v, om))
        mb = np.sqrt(np.clip(m2b, m2_lo, None))
        dens_isr = g1 * g2 * h * 2.0 / _phi2(s, ma, mb) / (_phi2(m2a, m, m) * _phi2(m2b, m, m))
        out += w_isr * dens_isr
        return out

    def _sample(self, n: int, rng: np.random.Generator, s: float) -> tuple[Array, ...]:
        """Points (a, b, c, d) in the CM frame from the channel mixture (labelling (a b)(c d))."""
        m = M_MUON
        sq = np.sqrt(s)
        m2_lo = 4.0 * m * m
        u = rng.random((n, 12))
        rest = np.zeros((n, 4))
        rest[:, 0] = sq
        w_fsr_ab, w_fsr_cd, _ = self.channel_weights
        choice = np.where(u[:, 0] < w_fsr_ab, 0, np.where(u[:, 0] < w_fsr_ab + w_fsr_cd, 1, 2))
        # ---- FSR: primary pair (x-, x+), radiated V -> (y-, y+); the radiator recoils in X
        m2v = _log_sample(u[:, 1], m2_lo, (sq - 2.0 * m) ** 2)
        mv = np.sqrt(m2v)
        sx = _log_sample(u[:, 2], (m + mv) ** 2, (sq - m) ** 2, shift=m * m)
        mx = np.sqrt(sx)
        x_sys, spect = lorentz.two_body_decay(
            rest, mx, m, 2.0 * u[:, 3] - 1.0, 2.0 * np.pi * u[:, 4]
        )
        radiator, vec = lorentz.two_body_decay(
            x_sys, m, mv, 2.0 * u[:, 5] - 1.0, 2.0 * np.pi * u[:, 6]
        )
        ym, yp = lorentz.two_body_decay(vec, m, m, 2.0 * u[:, 7] - 1.0, 2.0 * np.pi * u[:, 8])
        from_minus = u[:, 9] < 0.5
        xm = np.where(from_minus[:, None], radiator, spect)
        xp = np.where(from_minus[:, None], spect, radiator)
        # ---- ISR: e+e- -> V1 V2 with the t/u-channel poles
        m2a = _log_sample(u[:, 1], m2_lo, (sq - 2.0 * m) ** 2)
        ma = np.sqrt(m2a)
        m2b = _log_sample(u[:, 2], m2_lo, (sq - ma) ** 2)
        v, om = _vv_pole(s, m2a, m2b)
        pick = u[:, 3] < 0.5
        omc_pole = _pole_sample(u[:, 10], v, om)
        omc = np.where(pick, omc_pole, 2.0 - omc_pole)
        cos = 1.0 - omc
        v1, v2 = lorentz.two_body_decay(rest, ma, np.sqrt(m2b), cos, 2.0 * np.pi * u[:, 4])
        i_a, i_b = lorentz.two_body_decay(v1, m, m, 2.0 * u[:, 5] - 1.0, 2.0 * np.pi * u[:, 6])
        i_c, i_d = lorentz.two_body_decay(v2, m, m, 2.0 * u[:, 7] - 1.0, 2.0 * np.pi * u[:, 8])
        sel = [choice[:, None] == k for k in range(3)]
        a = np.select(sel, [xm, ym, i_a])
        b = np.select(sel, [xp, yp, i_b])
        c = np.select(sel, [ym, xm, i_c])
        d = np.select(sel, [yp, xp, i_d])
        # identical muons: exchange the two mu- with probability 1/2
        swap = (u[:, 11] < 0.5)[:, None]
        return np.where(swap, c, a), b, np.where(swap, a, c), d

    def _chunk(
        self, n: int, rng: np.random.Generator, collider: Collider, limit: int
    ) -> tuple[Array, Array, dict[str, Array], NDArray[np.int64], int]:
        sqrt_s = collider.sqrt_s
        s = sqrt_s * sqrt_s
        e = 0.5 * sqrt_s
        a, b, c, d = self._sample(n, rng, s)
        p_cm = np.stack([a, b, c, d], axis=1)
        p_lab = p_cm @ cm_to_lab_matrix(collider).T
        ok = np.ones(n, dtype=bool)
        if self.lepton_theta_deg is not None or self.lepton_min_pt > 0:
            ok &= _lepton_region_mask(
                [p_lab[:, i] for i in range(4)], self.lepton_theta_deg, self.lepton_min_pt
            )
        masses = {
            "m12": lorentz.mass(a + b),
            "m34": lorentz.mass(c + d),
            "m14": lorentz.mass(a + d),
            "m32": lorentz.mass(c + b),
        }
        if self.min_pair_mass > 0:
            for v in masses.values():
                ok &= v > self.min_pair_mass
        idx, used = _first_points(ok, limit)
        ai, bi, ci, di = a[idx], b[idx], c[idx], d[idx]
        dens = 0.5 * (self._density(ai, bi, ci, di, s) + self._density(ci, bi, ai, di, s))
        me2 = four_muon_me2(ai, bi, ci, di, e, tuple(self.graphs), self.interference)
        p = np.sqrt((e - M_ELECTRON) * (e + M_ELECTRON))
        # 1/4 spin average is in me2; 1/(2! 2!) for the identical mu- and mu+
        weight = GEV2_TO_FB * me2 / (8.0 * e * p) * 0.25 / dens
        truth = {k: v[idx] for k, v in masses.items()}
        keep = weight > 0
        truth = {k: v[keep] for k, v in truth.items()}
        return p_lab[idx][keep], weight[keep], truth, idx[keep], used
