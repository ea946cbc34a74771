"""SM QED backgrounds: e+e- -> mu+mu-(gamma), tau+tau-(gamma), gamma gamma(gamma), e+e-(gamma).

Conventions
-----------
* Units GeV, fb; weights in fb per event (see :mod:`darkscan.generators.base`).
* Events are generated in the centre-of-mass (CM) frame with its z axis along the e- beam
  ("frame F"), then rotated onto the e- direction in the CM and boosted to the lab frame of the
  collider (crossing angle included): ``p_lab = p_F @ frame.T``. Truth columns that say ``_cm``
  are in frame F (so ``photon_cos_cm > 0`` is a photon along the e- beam).
* QED only (no Z exchange: its interference with the photon is ~1e-3 at 10.58 GeV).
* Momenta labels of the exact matrix element: e-(p1) e+(p2) -> f-(q1) f+(q2) gamma(k).
* ``generate(n)`` returns exactly n events (those in the generation region: acceptance,
  :class:`Bias`); ``meta["n_tried"]`` counts the tries. Events are i.i.d. tries whose values v
  estimate the cross section (E[v] = sigma, v = 0 outside the region); stopping at the n-th
  accepted try T, the weights v (n - 1) / (n (T - 1)) sum to an unbiased estimate of the
  cross section in the region (negative-binomial stopping; tested).

Physics of the fermion pairs (:class:`MuMuGamma`, :class:`TauTauGamma`)
------------------------------------------------------------------------
Born: d sigma / d cos = (pi alpha^2 / 2 s) beta [1 + cos^2 + (1 - beta^2) sin^2], integral
(4 pi alpha^2 / 3 s) beta (3 - beta^2) / 2 (massless beams, massive fermions of velocity beta).

``radiation="exact"`` (default): exact O(alpha) QED with a photon-energy slice at
``k_min_gev`` (CM):

* omega > k_min: the exact tree-level e+e- -> f f gamma matrix element with the full electron
  and fermion masses (:func:`msq_ffgamma`): initial-state (ISR) and final-state (FSR) radiation.
  The polynomials come from 4-dimensional Dirac traces and are checked in the tests against a
  brute-force helicity sum with explicit Dirac matrices (1e-10), the soft limit (Born times the
  eikonal factor, including the sign of the ISR-FSR interference) and Bonneau-Martin's
  angle-integrated ISR spectrum (which tests the electron-mass terms). Phase space:
  multichannel importance sampling (Kleiss-Pittau weights f / sum_i alpha_i g_i) with four
  channels: ISR soft (omega ~ 1/omega, photon polar angle ~ 1 / (1 - beta_e^2 cos^2), so the pT
  that decides whether the photon is lost is exact), ISR radiative return (s' ~ 1/s'), and FSR
  off either fermion ((q + k)^2 - m^2 ~ 1/that, which holds both the soft and the collinear
  pole).
* omega < k_min: two-body events with the Born weight times
  1 + delta_ISR(eps) + delta_FSR(eps), eps = k_min / E_beam. delta_ISR is the standard
  O(alpha) soft + virtual result (2 alpha / pi) [(L - 1) ln eps + 3/4 L - 1 + pi^2 / 6],
  L = ln(s / m_e^2), plus the O(eps) hard-collinear term. delta_FSR (exact in the fermion
  mass) is fixed by unitarity: Schwinger's O(alpha) FSR correction to the total rate (his
  interpolating mass formula; 3 alpha / 4 pi for massless fermions) minus the exact hard FSR
  above k_min integrated by deterministic quadrature (:func:`fsr_soft_virtual`); in the
  massless limit this reproduces (2 alpha / pi) [(L_f - 1) ln eps + 3/4 L_f - 1 + pi^2 / 6]
  (tested). The total does not depend on k_min (tested to 0.3 %).
* The ISR-FSR interference (charge-odd) is part of :func:`msq_ffgamma` but is **not** used by
  default (``me_parts``): its soft + virtual counterpart (the box diagrams) is not
  implemented, and the hard part alone would leave a ln(k_min) dependence in the
  forward-backward asymmetry. It changes the charge asymmetry at the per-cent level and
  charge-symmetric rates not at all.
* Higher orders are not included (no exponentiation): the O(alpha) total is ~1.3 % below the
  all-order structure-function result for mu mu.

``radiation="isr"``: the structure-function ISR of :mod:`darkscan.physics.isr` (Kuraev-Fadin
radiator, order 2, all orders in the leading logs; one photon carrying the radiated
four-momentum with the eikonal angular distribution) times the Born cross section at s'; no
FSR. Fastest mode with photons.

``radiation="isr2"``: per-beam structure functions (:func:`beam_structure_function`, O(alpha)
Kuraev-Fadin form per beam): one photon from each beam with its own eikonal direction, so the
system recoiling against the fermion pair has a mass (two lost ISR photons fake a massive
invisible particle); Born at s' = (P - k1 - k2)^2; no FSR.

``radiation="born"``: Born only (no photon).

Vacuum polarisation (``vacuum_polarization=True``): the photon propagator at virtuality q^2 is
multiplied by alpha(q^2) / alpha = 1 / (1 - Delta alpha(q^2)), with the exact one-loop lepton
loops and the hadronic part from a dispersion integral over darkscan's R(sqrt s)
(:func:`delta_alpha`; it gives Delta alpha_had(m_Z^2) = 0.02757 vs the PDG 0.02766). The ISR
part of the matrix element uses q^2 = s', the FSR part q^2 = s. The generators leave the
narrow J/psi, psi(2S), Upsilon(1S-3S) out of the propagator (their off-peak dispersive part
changes sigma(mu mu) at 10.58 GeV by ~0.1 %; on their peaks they are the radiative return
e+e- -> gamma J/psi -> gamma mu mu, a separate process that a smooth s' sampling cannot
resolve). :func:`delta_alpha` itself includes them.

Biased generation
-----------------
:class:`Bias` restricts the generation to where an analysis looks, with exact weights:
``photon_theta_lab_deg`` windows (the hardest photon must fly into one of them in the lab; the
ISR channels then sample the photon only in the corresponding CM band), a minimum photon CM
energy, and a generic ``keep`` predicate on the generated batch (for taus also
``TauTauGamma(tau_modes=...)``). The weights keep the normalisation of the unbiased sample, so
``lumi * sum(w)`` is the expected yield in the region and :meth:`EventBatch.effective_lumi_fb`
the luminosity the sample stands for (``benchmarks/flagship_backgrounds.py``).

Photons and e+e- (:class:`GammaGammaGamma`, :class:`Bhabha`)
------------------------------------------------------------
Born (massless electrons; Bhabha with s- and t-channel and vacuum polarisation) times
structure-function ISR with collinear photons, generated inside a polar acceptance (CM or lab)
with importance sampling of the t-channel poles in the hard-process frame (see the classes).
FSR and initial-final interference are not included.

Cross sections at Belle II (sqrt(s) = 10.579 GeV, 1e6 events, MC errors < 0.1 %; Belle II
Physics Book references in brackets): mu mu(gamma) 1.122 nb exact O(alpha), 1.137 nb
structure function (1.137 per-beam) [1.148]; tau tau(gamma) 0.913 exact, 0.904 structure
function [0.919]; gamma gamma(gamma), 10-170 deg CM: 4.94 nb [4.99]; e+e-(gamma), 10-170 deg
CM: 296.5 nb [~300]. Point-like Born mu mu: 0.7760 nb (0.832 with VP).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.colliders import Collider
from darkscan.generators.base import EventBatch, Objects, Process
from darkscan.physics import isr as isr_sf
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_ELECTRON, M_MUON, M_TAU
from darkscan.physics.lorentz import boost, rotate_from_z

Array = NDArray[np.float64]

#: Radiation modes of the fermion-pair generators.
RADIATION_MODES: tuple[str, ...] = ("exact", "isr", "isr2", "born")
#: Events per internal chunk (memory ~ a few hundred bytes per event and chunk).
CHUNK: int = 1 << 13
E_CHARGE2: float = 4.0 * np.pi * ALPHA_EM


# =============================================================================== checks
def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _check_radiation(radiation: str) -> str:
    if radiation not in RADIATION_MODES:
        raise ValueError(f"unknown radiation mode '{radiation}'; valid: {list(RADIATION_MODES)}")
    return radiation


# =============================================================================== vacuum pol.
def delta_alpha_leptonic(s: ArrayLike) -> Array:
    """Real part of the one-loop lepton (e, mu, tau) vacuum polarisation Delta alpha(s).

    alpha(s) = alpha / (1 - Delta alpha(s)); per lepton of mass m, with b^2 = 1 - 4 m^2 / s:
    (alpha / 3 pi) [-8/3 + b^2 + (b/2)(3 - b^2) ln|(1 + b)/(1 - b)|] for s < 0 or s > 4 m^2,
    and its continuation -8/3 - a^2 + a (3 + a^2) arccot(a), a^2 = 4 m^2 / s - 1, in between.
    Exactly 0 at s = 0, -(alpha / 15 pi) s / m^2 for |s| << m^2 (positive for spacelike s),
    ln(|s| / m^2) - 5/3 per lepton for |s| >> m^2. ``s`` in GeV^2.
    """
    s = np.asarray(s, dtype=float)
    out = np.zeros(s.shape)
    for m in (M_ELECTRON, M_MUON, M_TAU):
        r = np.divide(4.0 * m * m, s, out=np.full(s.shape, np.inf), where=s != 0)
        outside = (r < 1.0) & np.isfinite(r)  # s < 0 (r < 0) or s > 4 m^2
        b2 = np.where(outside, 1.0 - r, 0.0)
        b = np.sqrt(b2)
        with np.errstate(divide="ignore", invalid="ignore"):
            log = np.log(np.abs((1.0 + b) / np.where(outside, 1.0 - b, 1.0)))
            val_out = -8.0 / 3.0 + b2 + 0.5 * b * (3.0 - b2) * log
            a2 = np.where(~outside & np.isfinite(r), r - 1.0, 0.0)
            a = np.sqrt(a2)
            arccot = np.arctan2(1.0, a)
            val_in = -8.0 / 3.0 - a2 + a * (3.0 + a2) * arccot
        # small |s|: the series -(alpha/3pi) s / (5 m^2) avoids the cancellation
        small = np.abs(s) < 1e-3 * m * m
        val = np.where(outside, val_out, val_in)
        val = np.where(small, -s / (5.0 * m * m), val)
        val = np.where(s == 0, 0.0, val)
        out += val
    return ALPHA_EM / (3.0 * np.pi) * out


def _imag_delta_alpha_leptonic(s: Array) -> Array:
    """Im Delta alpha from lepton loops: (alpha / 3) b (3 - b^2) / 2 above each threshold."""
    out = np.zeros(s.shape)
    for m in (M_ELECTRON, M_MUON, M_TAU):
        above = s > 4.0 * m * m
        b2 = np.where(above, 1.0 - 4.0 * m * m / np.where(above, s, 1.0), 0.0)
        out += np.where(above, 0.5 * np.sqrt(b2) * (3.0 - b2), 0.0)
    return ALPHA_EM / 3.0 * out


#: sqrt(s) above which R is taken constant (perturbative, five flavours) in the dispersion
#: integral, and that constant's asymptotic tail is integrated analytically.
_DISPERSION_TOP: float = 40.0


def _r_split(e: Array) -> tuple[Array, Array]:
    """(R without the narrow quarkonia, R of the narrow quarkonia) at energies e [GeV]."""
    from darkscan.physics import r_ratio

    total = r_ratio.r_hadrons(e)
    narrow = r_ratio.r_components(e)["narrow"]
    return total - narrow, narrow


@functools.cache
def _narrow_poles() -> tuple[tuple[float, float, float], ...]:
    """(M^2, M Gamma, integral of R over s [GeV^2]) of the narrow quarkonia, read off the
    R parametrisation's own Breit-Wigners (R = c / ((M^2 - s)^2 + (M Gamma)^2))."""
    from darkscan.physics import r_ratio

    rows = []
    for m2, mg2, c in r_ratio._narrow_table():  # noqa: SLF001 - same package, documented use
        mg = float(np.sqrt(mg2))
        rows.append((float(m2), mg, float(c) * np.pi / mg))
    return tuple(rows)


@functools.cache
def _dispersion_nodes() -> tuple[Array, Array, Array, float]:
    """Trapezoid nodes in t = sqrt(x): (x, weight for dx, smooth R, R at the top)."""
    from darkscan.physics.r_ratio import R_THRESHOLD

    t = np.concatenate(
        [
            np.arange(R_THRESHOLD, 2.0, 0.0005),
            np.arange(2.0, 11.0, 0.002),
            np.arange(11.0, _DISPERSION_TOP + 1e-9, 0.05),
        ]
    )
    dt = np.empty_like(t)
    dt[1:-1] = 0.5 * (t[2:] - t[:-2])
    dt[0] = 0.5 * (t[1] - t[0])
    dt[-1] = 0.5 * (t[-1] - t[-2])
    smooth, _ = _r_split(t)
    return t * t, 2.0 * t * dt, smooth, float(smooth[-1] + _r_split(t[-1:])[1][0])


def _delta_alpha_narrow(s: Array) -> Array:
    """Dispersive (real) part of the narrow quarkonia: each a pole at z = M^2 - i M Gamma,
    -(alpha / 3 pi) A Re[1 / (z - s) - 1 / z] (A = integral of its R over s)."""
    s = np.asarray(s, dtype=float)
    out = np.zeros(s.shape)
    for m2, mg, area in _narrow_poles():
        z = complex(m2, -mg)
        out += -ALPHA_EM * area / (3.0 * np.pi) * (1.0 / (z - s.astype(complex)) - 1.0 / z).real
    return out


def _delta_alpha_hadronic_direct(s: Array, narrow: bool = True) -> Array:
    """Re Delta alpha_had(s) = -(alpha s / 3 pi) P int R(x) / (x (x - s)) dx, evaluated for each
    s by a subtracted trapezoid rule (the smooth part), closed forms for the narrow quarkonia
    and for the constant-R tail above _DISPERSION_TOP."""
    x, wx, r, r_top = _dispersion_nodes()
    a, b = float(x[0]), float(x[-1])
    s = np.atleast_1d(np.asarray(s, dtype=float))
    out = np.empty(s.shape)
    timelike = (s > a) & (s < b)
    r_at_s = np.zeros(s.shape)
    if np.any(timelike):
        r_at_s[timelike] = _r_split(np.sqrt(s[timelike]))[0]
    for lo in range(0, s.size, 256):  # bounded memory: 256 x n_nodes at a time
        sl = slice(lo, lo + 256)
        si = s[sl, None]
        d = x[None, :] - si
        d = np.where(np.abs(d) < 1e-300, 1e-300, d)
        integrand = (r[None, :] - r_at_s[sl, None]) / (x[None, :] * d)
        integral = np.sum(wx * integrand, axis=1)
        si = s[sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            analytic = (np.log(np.abs((b - si) / b)) - np.log(np.abs((si - a) / a))) / si
        analytic = np.where(si == 0, 0.0, analytic)
        integral = integral + r_at_s[sl] * analytic
        # constant-R tail above b: P int_b^inf dx / (x (x - s)) = ln(b / |b - s|) / s
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = np.log(b / np.abs(b - si)) / np.where(si == 0, 1.0, si)
        tail = np.where(si == 0, 1.0 / b, tail)
        integral = integral + r_top * tail
        out[sl] = -ALPHA_EM * si / (3.0 * np.pi) * integral
    return out + _delta_alpha_narrow(s) if narrow else out


@functools.cache
def _hadronic_table() -> tuple[Array, Array, Array, Array]:
    """Re Delta alpha_had tabulated in sqrt(s) (timelike) and in ln(-s) (spacelike)."""
    # 1 MeV where R has structure (below 2 GeV, psi(3770), Upsilon(4S)), 5 MeV elsewhere
    fine = [(0.0, 2.0), (3.6, 3.95), (10.45, 10.75)]
    e = np.unique(
        np.concatenate(
            [np.arange(0.0, 12.0 + 1e-9, 0.005)]
            + [np.arange(lo, hi + 1e-9, 0.001) for lo, hi in fine]
        ).round(6)
    )
    e = e + 0.00025  # keep the targets off the trapezoid nodes
    timelike = _delta_alpha_hadronic_direct(e * e, narrow=False)
    log_q2 = np.linspace(np.log(1e-6), np.log(400.0), 400)
    spacelike = _delta_alpha_hadronic_direct(-np.exp(log_q2), narrow=False)
    return e, timelike, log_q2, spacelike


def delta_alpha_hadronic(s: ArrayLike, narrow: bool = True) -> Array:
    """Re Delta alpha_had(s) from the dispersion integral over darkscan's R (GeV^2 in).

    The continuum part is tabulated on first use (~1 s; timelike 0 < sqrt(s) < 12 GeV in 1 MeV
    steps where R has structure, 5 MeV elsewhere; spacelike 1e-6 < -s < 400 GeV^2) and
    linearly interpolated (outside: computed directly); the narrow J/psi, psi(2S),
    Upsilon(1S-3S) are added in closed form unless ``narrow=False``.
    """
    s = np.asarray(s, dtype=float)
    e_tab, t_tab, lq_tab, sp_tab = _hadronic_table()
    flat = s.ravel()
    out = np.empty(flat.shape)
    pos = flat >= 0
    e = np.sqrt(np.where(pos, flat, 0.0))
    out[pos] = np.interp(e[pos], e_tab, t_tab, left=0.0)
    neg = ~pos
    if np.any(neg):
        lq = np.log(-flat[neg])
        out[neg] = np.interp(lq, lq_tab, sp_tab, left=0.0)
    outside = (pos & (e > e_tab[-1])) | (neg & (np.log(np.abs(flat) + 1e-300) > lq_tab[-1]))
    if np.any(outside):
        out[outside] = _delta_alpha_hadronic_direct(flat[outside], narrow=False)
    out = out.reshape(s.shape)
    return out + _delta_alpha_narrow(s) if narrow else out


def delta_alpha(s: ArrayLike) -> NDArray[np.complex128]:
    """Complex Delta alpha(s) = leptonic + hadronic; Im = (alpha / 3)(R(s) + lepton terms) for
    timelike s above threshold (0 for spacelike s)."""
    from darkscan.physics.r_ratio import r_hadrons

    s = np.asarray(s, dtype=float)
    re = delta_alpha_leptonic(s) + delta_alpha_hadronic(s)
    im = _imag_delta_alpha_leptonic(s)
    pos = s > 0
    if np.any(pos):
        im = im + np.where(pos, ALPHA_EM / 3.0 * r_hadrons(np.sqrt(np.where(pos, s, 0.0))), 0.0)
    return re + 1j * im


def vp_factor(s: ArrayLike) -> Array:
    """|alpha(s) / alpha|^2 = 1 / |1 - Delta alpha(s)|^2: the factor on a squared photon
    propagator of virtuality s [GeV^2]."""
    return 1.0 / np.abs(1.0 - delta_alpha(s)) ** 2


# =============================================================================== Born
def fermion_velocity(s: ArrayLike, m_f: float) -> Array:
    """beta = sqrt(1 - 4 m^2 / s) (0 at and below threshold)."""
    s = np.asarray(s, dtype=float)
    r = np.divide(4.0 * m_f * m_f, s, out=np.full(s.shape, np.inf), where=s > 0)
    return np.sqrt(np.clip(1.0 - r, 0.0, None))


def born_ff_dsigma_dcos(s: ArrayLike, cos_theta: ArrayLike, m_f: float) -> Array:
    """d sigma / d cos(theta) [fb] of e+e- -> f+ f- (massless e, fermion mass m_f, point-like,
    alpha(0)): (pi alpha^2 / 2 s) beta [1 + c^2 + (1 - beta^2)(1 - c^2)]."""
    s = np.asarray(s, dtype=float)
    c = np.asarray(cos_theta, dtype=float)
    b = fermion_velocity(s, m_f)
    shape = 1.0 + c * c + (1.0 - b * b) * (1.0 - c * c)
    return np.pi * ALPHA_EM**2 / (2.0 * s) * b * shape * GEV2_TO_FB


def born_ff_sigma(s: ArrayLike, m_f: float) -> Array:
    """sigma(e+e- -> f+ f-) [fb] = (4 pi alpha^2 / 3 s) beta (3 - beta^2) / 2 (point-like)."""
    s = np.asarray(s, dtype=float)
    b = fermion_velocity(s, m_f)
    return 4.0 * np.pi * ALPHA_EM**2 / (3.0 * s) * b * (3.0 - b * b) / 2.0 * GEV2_TO_FB


def born_gammagamma_sigma(s: float, cos_max: float) -> float:
    """sigma(e+e- -> gamma gamma) [fb] with both photons at |cos theta*| < cos_max (massless
    electrons): (2 pi alpha^2 / s) [ln((1 + c)/(1 - c)) - c] (identical photons counted once)."""
    c = float(cos_max)
    return 2.0 * np.pi * ALPHA_EM**2 / s * (np.log((1.0 + c) / (1.0 - c)) - c) * GEV2_TO_FB


def bhabha_dsigma_dcos(s: ArrayLike, cos_theta: ArrayLike, vacuum_polarization: bool = False):
    """d sigma / d cos(theta) [fb] of Bhabha scattering (massless, QED, theta = e- scattering
    angle): (pi alpha^2 / s) [(s^2 + u^2) / t^2 Z_t + (t^2 + u^2) / s^2 Z_s + 2 u^2 / (s t)
    Re(z_s z_t^*)], t = -s (1 - c)/2, u = -s (1 + c)/2, z = alpha(q^2)/alpha, Z = |z|^2."""
    s = np.asarray(s, dtype=float)
    c = np.asarray(cos_theta, dtype=float)
    t = -0.5 * s * (1.0 - c)
    u = -0.5 * s * (1.0 + c)
    if vacuum_polarization:
        zs = 1.0 / (1.0 - delta_alpha(s))
        zt = 1.0 / (1.0 - delta_alpha(t))
    else:
        zs = zt = np.ones(np.broadcast(s, c).shape, dtype=complex)
    val = (
        (s * s + u * u) / (t * t) * np.abs(zt) ** 2
        + (t * t + u * u) / (s * s) * np.abs(zs) ** 2
        + 2.0 * u * u / (s * t) * (zs * np.conj(zt)).real
    )
    return np.pi * ALPHA_EM**2 / s * val * GEV2_TO_FB


def bhabha_sigma(s: float, cos_min: float, cos_max: float) -> float:
    """Bhabha Born cross section [fb] for cos_min < cos(theta_e-) < cos_max (closed form of
    :func:`bhabha_dsigma_dcos` without vacuum polarisation)."""

    def primitive(c: float) -> float:
        # integrand (pi a^2/s) [ 4 (1 + ((1+c)/2)^2)/(1-c)^2 + (1 + c^2)/2 - (1+c)^2/(1-c) ]
        # = (pi a^2/s) [ 8/(1-c)^2 - 4/(1-c) + 1 + ... ]: written out as
        # (1+c)^2/4 = 1 - (1-c) + (1-c)^2/4, so 4(1 + (1+c)^2/4)/(1-c)^2 = 8/(1-c)^2 - 4/(1-c) + 1
        # (1+c)^2/(1-c) = 4/(1-c) - 4 + (1-c)
        w = 1.0 - c
        term_t = 8.0 / w + 4.0 * np.log(w) - w  # primitive of 8/w^2 - 4/w + 1 in c (dw = -dc)
        term_s = 0.5 * (c + c**3 / 3.0)
        term_i = 4.0 * np.log(w) + 4.0 * c + 0.5 * w * w  # primitive of -(4/w - 4 + w)
        return term_t + term_s + term_i

    return np.pi * ALPHA_EM**2 / s * (primitive(cos_max) - primitive(cos_min)) * GEV2_TO_FB


# =============================================================================== exact ME
#: Spin-summed numerators of e-(p1) e+(p2) -> f-(q1) f+(q2) gamma(k), from 4-d Dirac traces
#: (photon polarisation sum -g): ``T[part, i, j]`` in units of 64 e^6, with the dot products
#: named ``kp1 = k.p1``, ``p1q2 = p1.q2``, ... and ``me2 = m_e^2``, ``mf2 = m_f^2``. Diagram i of
#: the ISR pair radiates off the e- (i = 1, propagator denominator -2 k.p1) or the e+ (i = 2,
#: -2 k.p2); of the FSR pair off the f- (1, +2 k.q1) or the f+ (2, +2 k.q2). ISR and FSR
#: amplitudes are M_I = (e^3 / s') [vbar(p2) O u(p1)] [ubar(q1) gamma v(q2)] and
#: M_F = (e^3 / s) [vbar(p2) gamma u(p1)] [ubar(q1) O' v(q2)]; "int" is M_I M_F^* (summed).
_ME_TERMS: dict[tuple[str, int, int], str] = {
    ("isr", 1, 1): (
        "- 4 mf2 me2 me2 + 4 kp1 mf2 me2 + 2 kp2 mf2 me2 - 2 mf2 me2 p1p2 - 2 me2 me2 q1q2 "
        "+ 2 kp1 kp2 mf2 + 2 kp1 me2 q1q2 + 2 kq1 me2 p2q2 + 2 kq2 me2 p2q1 - 2 me2 p1q1 p2q2 "
        "- 2 me2 p1q2 p2q1 + 2 kp1 kq1 p2q2 + 2 kp1 kq2 p2q1"
    ),
    ("isr", 1, 2): (
        "- kp1 mf2 me2 - kp2 mf2 me2 + 4 mf2 me2 p1p2 - 2 kp1 mf2 p1p2 - kp1 me2 q1q2 "
        "- 2 kp2 mf2 p1p2 - kp2 me2 q1q2 - 2 kq1 kq2 me2 + 2 mf2 p1p2 p1p2 + 2 me2 p1p2 q1q2 "
        "- kp1 p1q1 p2q2 - kp1 p1q2 p2q1 + 2 kp1 p2q1 p2q2 + 2 kp2 p1q1 p1q2 - kp2 p1q1 p2q2 "
        "- kp2 p1q2 p2q1 - kq1 p1p2 p1q2 - kq1 p1p2 p2q2 - kq2 p1p2 p1q1 - kq2 p1p2 p2q1 "
        "+ 2 p1p2 p1q1 p2q2 + 2 p1p2 p1q2 p2q1"
    ),
    ("isr", 2, 1): (
        "- kp1 mf2 me2 - kp2 mf2 me2 + 4 mf2 me2 p1p2 - 2 kp1 mf2 p1p2 - kp1 me2 q1q2 "
        "- 2 kp2 mf2 p1p2 - kp2 me2 q1q2 - 2 kq1 kq2 me2 + 2 mf2 p1p2 p1p2 + 2 me2 p1p2 q1q2 "
        "- kp1 p1q1 p2q2 - kp1 p1q2 p2q1 + 2 kp1 p2q1 p2q2 + 2 kp2 p1q1 p1q2 - kp2 p1q1 p2q2 "
        "- kp2 p1q2 p2q1 - kq1 p1p2 p1q2 - kq1 p1p2 p2q2 - kq2 p1p2 p1q1 - kq2 p1p2 p2q1 "
        "+ 2 p1p2 p1q1 p2q2 + 2 p1p2 p1q2 p2q1"
    ),
    ("isr", 2, 2): (
        "- 4 mf2 me2 me2 + 2 kp1 mf2 me2 + 4 kp2 mf2 me2 - 2 mf2 me2 p1p2 - 2 me2 me2 q1q2 "
        "+ 2 kp1 kp2 mf2 + 2 kp2 me2 q1q2 + 2 kq1 me2 p1q2 + 2 kq2 me2 p1q1 - 2 me2 p1q1 p2q2 "
        "- 2 me2 p1q2 p2q1 + 2 kp2 kq1 p1q2 + 2 kp2 kq2 p1q1"
    ),
    ("fsr", 1, 1): (
        "- 4 mf2 mf2 me2 - 4 kq1 mf2 me2 - 2 kq2 mf2 me2 - 2 mf2 mf2 p1p2 - 2 mf2 me2 q1q2 "
        "- 2 kp1 mf2 p2q2 - 2 kp2 mf2 p1q2 + 2 kq1 kq2 me2 - 2 kq1 mf2 p1p2 - 2 mf2 p1q1 p2q2 "
        "- 2 mf2 p1q2 p2q1 + 2 kp1 kq1 p2q2 + 2 kp2 kq1 p1q2"
    ),
    ("fsr", 1, 2): (
        "+ kq1 mf2 me2 + kq2 mf2 me2 + 4 mf2 me2 q1q2 - 2 kp1 kp2 mf2 + kq1 mf2 p1p2 "
        "+ 2 kq1 me2 q1q2 + kq2 mf2 p1p2 + 2 kq2 me2 q1q2 + 2 mf2 p1p2 q1q2 + 2 me2 q1q2 q1q2 "
        "+ kp1 p2q1 q1q2 + kp1 p2q2 q1q2 + kp2 p1q1 q1q2 + kp2 p1q2 q1q2 + kq1 p1q1 p2q2 "
        "+ kq1 p1q2 p2q1 - 2 kq1 p1q2 p2q2 - 2 kq2 p1q1 p2q1 + kq2 p1q1 p2q2 + kq2 p1q2 p2q1 "
        "+ 2 p1q1 p2q2 q1q2 + 2 p1q2 p2q1 q1q2"
    ),
    ("fsr", 2, 1): (
        "+ kq1 mf2 me2 + kq2 mf2 me2 + 4 mf2 me2 q1q2 - 2 kp1 kp2 mf2 + kq1 mf2 p1p2 "
        "+ 2 kq1 me2 q1q2 + kq2 mf2 p1p2 + 2 kq2 me2 q1q2 + 2 mf2 p1p2 q1q2 + 2 me2 q1q2 q1q2 "
        "+ kp1 p2q1 q1q2 + kp1 p2q2 q1q2 + kp2 p1q1 q1q2 + kp2 p1q2 q1q2 + kq1 p1q1 p2q2 "
        "+ kq1 p1q2 p2q1 - 2 kq1 p1q2 p2q2 - 2 kq2 p1q1 p2q1 + kq2 p1q1 p2q2 + kq2 p1q2 p2q1 "
        "+ 2 p1q1 p2q2 q1q2 + 2 p1q2 p2q1 q1q2"
    ),
    ("fsr", 2, 2): (
        "- 4 mf2 mf2 me2 - 2 kq1 mf2 me2 - 4 kq2 mf2 me2 - 2 mf2 mf2 p1p2 - 2 mf2 me2 q1q2 "
        "- 2 kp1 mf2 p2q1 - 2 kp2 mf2 p1q1 + 2 kq1 kq2 me2 - 2 kq2 mf2 p1p2 - 2 mf2 p1q1 p2q2 "
        "- 2 mf2 p1q2 p2q1 + 2 kp1 kq2 p2q1 + 2 kp2 kq2 p1q1"
    ),
    ("int", 1, 1): (
        "- 2 kp1 mf2 me2 + 2 kq1 mf2 me2 - 4 mf2 me2 p1q1 + kp1 kp2 mf2 - kp1 mf2 p1p2 "
        "- kp1 mf2 p2q1 - kp1 mf2 p2q2 - kp1 me2 q1q2 + kp2 mf2 p1q1 + kq1 kq2 me2 "
        "+ kq1 mf2 p1p2 + kq1 me2 p1q2 + kq1 me2 p2q2 + kq1 me2 q1q2 - kq2 me2 p1q1 "
        "- 2 mf2 p1p2 p1q1 - 2 me2 p1q1 q1q2 + 2 kp1 kq1 p2q2 - 2 kp1 p1q1 p2q2 - kp1 p1q2 p2q1 "
        "- kp1 p2q1 q1q2 - kp2 p1q1 p1q2 + kq1 p1p2 p1q2 + 2 kq1 p1q1 p2q2 + kq1 p1q2 p2q1 "
        "+ kq2 p1q1 p2q1 - 2 p1q1 p1q1 p2q2 - 2 p1q1 p1q2 p2q1"
    ),
    ("int", 1, 2): (
        "+ 2 kp1 mf2 me2 - 2 kq2 mf2 me2 + 4 mf2 me2 p1q2 - kp1 kp2 mf2 + kp1 mf2 p1p2 "
        "+ kp1 mf2 p2q1 + kp1 mf2 p2q2 + kp1 me2 q1q2 - kp2 mf2 p1q2 - kq1 kq2 me2 "
        "+ kq1 me2 p1q2 - kq2 mf2 p1p2 - kq2 me2 p1q1 - kq2 me2 p2q1 - kq2 me2 q1q2 "
        "+ 2 mf2 p1p2 p1q2 + 2 me2 p1q2 q1q2 - 2 kp1 kq2 p2q1 + kp1 p1q1 p2q2 + 2 kp1 p1q2 p2q1 "
        "+ kp1 p2q2 q1q2 + kp2 p1q1 p1q2 - kq1 p1q2 p2q2 - kq2 p1p2 p1q1 - kq2 p1q1 p2q2 "
        "- 2 kq2 p1q2 p2q1 + 2 p1q1 p1q2 p2q2 + 2 p1q2 p1q2 p2q1"
    ),
    ("int", 2, 1): (
        "+ 2 kp2 mf2 me2 - 2 kq1 mf2 me2 + 4 mf2 me2 p2q1 - kp1 kp2 mf2 - kp1 mf2 p2q1 "
        "+ kp2 mf2 p1p2 + kp2 mf2 p1q1 + kp2 mf2 p1q2 + kp2 me2 q1q2 - kq1 kq2 me2 "
        "- kq1 mf2 p1p2 - kq1 me2 p1q2 - kq1 me2 p2q2 - kq1 me2 q1q2 + kq2 me2 p2q1 "
        "+ 2 mf2 p1p2 p2q1 + 2 me2 p2q1 q1q2 + kp1 p2q1 p2q2 - 2 kp2 kq1 p1q2 + kp2 p1q1 p2q2 "
        "+ kp2 p1q1 q1q2 + 2 kp2 p1q2 p2q1 - kq1 p1p2 p2q2 - kq1 p1q1 p2q2 - 2 kq1 p1q2 p2q1 "
        "- kq2 p1q1 p2q1 + 2 p1q1 p2q1 p2q2 + 2 p1q2 p2q1 p2q1"
    ),
    ("int", 2, 2): (
        "- 2 kp2 mf2 me2 + 2 kq2 mf2 me2 - 4 mf2 me2 p2q2 + kp1 kp2 mf2 + kp1 mf2 p2q2 "
        "- kp2 mf2 p1p2 - kp2 mf2 p1q1 - kp2 mf2 p1q2 - kp2 me2 q1q2 + kq1 kq2 me2 "
        "- kq1 me2 p2q2 + kq2 mf2 p1p2 + kq2 me2 p1q1 + kq2 me2 p2q1 + kq2 me2 q1q2 "
        "- 2 mf2 p1p2 p2q2 - 2 me2 p2q2 q1q2 - kp1 p2q1 p2q2 + 2 kp2 kq2 p1q1 - 2 kp2 p1q1 p2q2 "
        "- kp2 p1q2 p2q1 - kp2 p1q2 q1q2 + kq1 p1q2 p2q2 + kq2 p1p2 p2q1 + 2 kq2 p1q1 p2q2 "
        "+ kq2 p1q2 p2q1 - 2 p1q1 p2q2 p2q2 - 2 p1q2 p2q1 p2q2"
    ),
}
#: The ten independent dot products the polynomials use.
DOT_NAMES: tuple[str, ...] = (
    "kp1", "kp2", "kq1", "kq2", "p1p2", "p1q1", "p1q2", "p2q1", "p2q2", "q1q2",
)  # fmt: skip
_MASS_NAMES = ("me2", "mf2")


def _parse_polynomial(text: str) -> list[tuple[float, tuple[str, ...]]]:
    """'- 4 mf2 me2 me2 + kp1 kq1 p2q2 ...' -> [(coefficient, factors), ...]."""
    terms = []
    for sign, coef, body in re.findall(r"([+-])\s*(\d+)?\s*((?:[a-z][a-z0-9]*\s*)+)", text):
        c = float(coef) if coef else 1.0
        terms.append((-c if sign == "-" else c, tuple(body.split())))
    return terms


class _PolynomialSet:
    """Polynomials in the dot products, with the squared masses folded into the coefficients,
    evaluated as (monomial matrix) @ (coefficients): one product per distinct monomial."""

    def __init__(self, keys: Sequence[tuple[str, int, int]], m_e: float, m_f: float) -> None:
        masses = {"me2": m_e * m_e, "mf2": m_f * m_f}
        coefs: dict[tuple[str, ...], NDArray[np.float64]] = {}
        for col, key in enumerate(keys):
            for c, factors in _parse_polynomial(_ME_TERMS[key]):
                value = c
                dots = []
                for f in factors:
                    if f in masses:
                        value *= masses[f]
                    else:
                        dots.append(f)
                mono = tuple(sorted(dots))
                coefs.setdefault(mono, np.zeros(len(keys)))[col] += value
        self.monomials = list(coefs)
        self.coef_t = np.ascontiguousarray(np.array([coefs[m] for m in self.monomials]).T)

    def __call__(self, dots: dict[str, Array]) -> Array:
        """Values (n_polynomials, n_points) at the dot products ``dots`` (1-d arrays)."""
        n = len(next(iter(dots.values())))
        mat = np.empty((len(self.monomials), n))
        cache: dict[tuple[str, ...], Array] = {}
        for row, mono in enumerate(self.monomials):
            if not mono:
                mat[row] = 1.0
                continue
            prefix = mono[:-1]
            if prefix and prefix not in cache:
                prod = dots[prefix[0]]
                for f in prefix[1:]:
                    prod = prod * dots[f]
                cache[prefix] = prod
            if prefix:
                np.multiply(cache[prefix], dots[mono[-1]], out=mat[row])
            else:
                mat[row] = dots[mono[-1]]
        return self.coef_t @ mat


_PART_KEYS: dict[str, list[tuple[str, int, int]]] = {
    "isr": [("isr", 1, 1), ("isr", 1, 2), ("isr", 2, 2)],
    "fsr": [("fsr", 1, 1), ("fsr", 1, 2), ("fsr", 2, 2)],
    "int": [("int", 1, 1), ("int", 1, 2), ("int", 2, 1), ("int", 2, 2)],
}


@functools.cache
def _polynomials(m_e: float, m_f: float, parts: tuple[str, ...]) -> _PolynomialSet:
    """One polynomial set for several parts (their monomials are computed once)."""
    return _PolynomialSet([key for part in parts for key in _PART_KEYS[part]], m_e, m_f)


def msq_ffgamma_dots(
    dots: dict[str, Array], s: Array, s_prime: Array, m_f: float, parts: Sequence[str]
) -> dict[str, Array]:
    """sum over spins and photon polarisations of |M|^2 / e^6 [GeV^-2] by part ("isr",
    "fsr", "int" = 2 Re M_ISR M_FSR^*), from the dot products (names :data:`DOT_NAMES`)."""
    out = {}
    kp1, kp2, kq1, kq2 = dots["kp1"], dots["kp2"], dots["kq1"], dots["kq2"]
    bad = [p for p in parts if p not in _PART_KEYS]
    if bad:
        raise ValueError(f"unknown matrix-element part(s) {bad}; valid: isr, fsr, int")
    values = _polynomials(M_ELECTRON, float(m_f), tuple(parts))(dots)
    row = 0
    for part in parts:
        t = values[row : row + len(_PART_KEYS[part])]
        row += len(_PART_KEYS[part])
        if part == "isr":
            val = t[0] / (kp1 * kp1) + 2.0 * t[1] / (kp1 * kp2) + t[2] / (kp2 * kp2)
            out[part] = 16.0 * val / (s_prime * s_prime)
        elif part == "fsr":
            val = t[0] / (kq1 * kq1) + 2.0 * t[1] / (kq1 * kq2) + t[2] / (kq2 * kq2)
            out[part] = 16.0 * val / (s * s)
        elif part == "int":
            val = t[0] / (kp1 * kq1) + t[1] / (kp1 * kq2) + t[2] / (kp2 * kq1) + t[3] / (kp2 * kq2)
            out[part] = -32.0 * val / (s * s_prime)
    return out


def _mdot(a: Array, b: Array) -> Array:
    return (
        a[..., 0] * b[..., 0]
        - a[..., 1] * b[..., 1]
        - a[..., 2] * b[..., 2]
        - a[..., 3] * b[..., 3]
    )


def msq_ffgamma(
    p1: ArrayLike,
    p2: ArrayLike,
    q1: ArrayLike,
    q2: ArrayLike,
    k: ArrayLike,
    m_f: float,
    parts: Sequence[str] = ("isr", "fsr", "int"),
) -> dict[str, Array]:
    """Exact tree-level sum_spins,pol |M|^2 [GeV^-2, in units of e^6] of
    e-(p1) e+(p2) -> f-(q1) f+(q2) gamma(k) for four-momenta (..., 4) [GeV], by part.

    The cross section is d sigma = (1 / 2 s) (1/4) e^6 sum(parts) dPhi_3. Electron mass
    m_e (PDG) and fermion mass ``m_f`` exact. Momenta are assumed on shell and conserving.
    """
    mom = {n: np.atleast_2d(np.asarray(v, dtype=float)) for n, v in zip(
        ("p1", "p2", "q1", "q2", "k"), (p1, p2, q1, q2, k), strict=True)}  # fmt: skip
    dots = {n: _mdot(*np.broadcast_arrays(mom[a], mom[b])) for n, (a, b) in _DOT_PAIRS.items()}
    s = _mdot(mom["p1"] + mom["p2"], mom["p1"] + mom["p2"])
    sp = _mdot(mom["q1"] + mom["q2"], mom["q1"] + mom["q2"])
    s, sp = np.broadcast_arrays(s, sp)
    dots = {n: np.broadcast_to(v, s.shape).ravel() for n, v in dots.items()}
    res = msq_ffgamma_dots(dots, s.ravel(), sp.ravel(), m_f, parts)
    return {n: v.reshape(s.shape) for n, v in res.items()}


# =============================================================================== S+V terms
def delta_isr_soft_virtual(s: float, eps: float) -> float:
    """O(alpha) ISR soft + virtual correction for photons below eps * E_beam (CM):
    (2 alpha / pi) [(L - 1) ln eps + 3/4 L - 1 + pi^2 / 6] + beta (eps^2 / 4 - eps),
    L = ln(s / m_e^2), beta = (2 alpha / pi)(L - 1). The last term is the hard-collinear part of
    the spectrum below eps, (beta / 2)[(1 + (1 - x)^2) - 2] / x, which the eikonal soft formula
    drops (it makes the slice independent of eps to O(beta eps^3); m_e^2 << s)."""
    big_l = np.log(s / M_ELECTRON**2)
    beta = 2.0 * ALPHA_EM / np.pi * (big_l - 1.0)
    soft = (
        2.0 * ALPHA_EM / np.pi * ((big_l - 1.0) * np.log(eps) + 0.75 * big_l - 1.0 + np.pi**2 / 6)
    )
    return float(soft + beta * (0.25 * eps * eps - eps))


def schwinger_fsr_total(beta: float) -> float:
    """O(alpha) FSR correction to the total e+e- -> f f rate relative to the massive Born:
    Schwinger's interpolation alpha [pi / (2 beta) - (3 + beta)/4 (pi/2 - 3 / (4 pi))]
    (-> 3 alpha / 4 pi for massless fermions; the QED analogue of the heavy-quark
    C_F alpha_s correction, within ~1 % of the exact function)."""
    b = float(beta)
    return ALPHA_EM * (np.pi / (2.0 * b) - (3.0 + b) / 4.0 * (np.pi / 2.0 - 3.0 / (4.0 * np.pi)))


def _gauss_panels(a: float, b: float, n_panels: int, n_nodes: int) -> tuple[Array, Array]:
    t, w = np.polynomial.legendre.leggauss(n_nodes)
    edges = np.linspace(a, b, n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * w).ravel()


@functools.cache
def fsr_hard_sigma(s: float, m_f: float, k_min: float) -> float:
    """Hard FSR cross section [fb, alpha(0), no VP] of e+e- -> f f gamma with photon CM energy
    above ``k_min`` [GeV], integrated over all angles (exact FSR matrix element, massless
    beams), by deterministic quadrature: ln(omega) x artanh(beta' cos theta*) Gauss-Legendre
    (theta* the fermion angle to the photon axis in the f f rest frame) and an exact average
    over the beam direction (six axes: the integrand is quadratic in it)."""
    sqrt_s = np.sqrt(s)
    w_max = (s - 4.0 * m_f * m_f) / (2.0 * sqrt_s)
    if not 0 < k_min < w_max:
        raise ValueError(f"k_min must lie in (0, {w_max:g}) GeV, got {k_min!r}")
    u, wu = _gauss_panels(np.log(k_min), np.log(w_max), 12, 16)
    omega = np.exp(u)
    m2 = s - 2.0 * sqrt_s * omega
    bp = np.sqrt(np.clip(1.0 - 4.0 * m_f * m_f / m2, 0.0, None))
    tt, wt = _gauss_panels(-1.0, 1.0, 16, 16)
    # per omega: t in (-artanh bp, artanh bp)
    amax = np.arctanh(np.minimum(bp, 1.0 - 1e-16))
    t = tt[None, :] * amax[:, None]
    c = np.tanh(t) / bp[:, None]
    dc_dt = (1.0 - (bp[:, None] * c) ** 2) / bp[:, None] * amax[:, None]
    sn = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
    om = np.broadcast_to(omega[:, None], c.shape)
    e_star = 0.5 * np.sqrt(m2)[:, None] * np.ones_like(c)
    p_star = np.sqrt(np.clip(e_star**2 - m_f * m_f, 0.0, None))
    q1_rest = np.stack([e_star, p_star * sn, np.zeros_like(c), p_star * c], axis=-1)
    q2_rest = q1_rest * np.array([1.0, -1.0, -1.0, -1.0])
    beta_q = np.zeros((*c.shape, 3))
    beta_q[..., 2] = -om / (sqrt_s - om)
    q1 = boost(q1_rest, beta_q)
    q2 = boost(q2_rest, beta_q)
    k = np.stack([om, 0 * om, 0 * om, om], axis=-1)
    e_b = 0.5 * sqrt_s
    total = np.zeros(c.shape)
    for axis in np.vstack([np.eye(3), -np.eye(3)]):
        p1 = np.concatenate([[e_b], e_b * axis])
        p2 = np.concatenate([[e_b], -e_b * axis])
        mom = {"p1": p1, "p2": p2, "q1": q1, "q2": q2, "k": k}
        dots = {n: _mdot(mom[_DOT_PAIRS[n][0]], mom[_DOT_PAIRS[n][1]]).ravel() for n in DOT_NAMES}
        t_f = _polynomials(0.0, float(m_f), ("fsr",))(dots)
        kq1, kq2 = dots["kq1"], dots["kq2"]
        val = t_f[0] / (kq1 * kq1) + 2.0 * t_f[1] / (kq1 * kq2) + t_f[2] / (kq2 * kq2)
        total += (16.0 * val / (s * s)).reshape(c.shape) / 6.0
    # d Phi_3 = omega d omega d Omega_k / (2 (2 pi)^3) x beta' / (32 pi^2) d Omega*
    jac = om * om * (1.0 / (4.0 * np.pi**2)) * (bp[:, None] / (32.0 * np.pi**2)) * 2.0 * np.pi
    integrand = total * jac * dc_dt
    value = np.sum(wu[:, None] * wt[None, :] * integrand)
    return float(value * E_CHARGE2**3 / (8.0 * s) * GEV2_TO_FB)


def fsr_soft_virtual(s: float, m_f: float, k_min: float) -> float:
    """O(alpha) FSR soft + virtual correction (relative to the Born) for photons below
    ``k_min`` [GeV, CM]: Schwinger's total FSR correction minus the exact hard part."""
    beta = float(fermion_velocity(s, m_f))
    return schwinger_fsr_total(beta) - fsr_hard_sigma(float(s), float(m_f), float(k_min)) / float(
        born_ff_sigma(s, m_f)
    )


#: momenta of each dot-product name.
_DOT_PAIRS: dict[str, tuple[str, str]] = {
    "kp1": ("k", "p1"), "kp2": ("k", "p2"), "kq1": ("k", "q1"), "kq2": ("k", "q2"),
    "p1p2": ("p1", "p2"), "p1q1": ("p1", "q1"), "p1q2": ("p1", "q2"),
    "p2q1": ("p2", "q1"), "p2q2": ("p2", "q2"), "q1q2": ("q1", "q2"),
}  # fmt: skip


# =============================================================================== frames
def cm_to_lab_matrix(collider: Collider) -> Array:
    """4x4 matrix L with p_lab = L @ p_F for four-vectors given in frame F (the CM frame with
    z along the e- beam): a rotation of z onto the e- direction seen in the CM, then the boost
    of the CM (crossing angle included)."""
    beta = collider.boost
    e_dir = boost(collider.p_minus, -beta)[1:]
    basis = np.eye(4)
    rotated = rotate_from_z(basis, np.broadcast_to(e_dir, (4, 3)))
    return boost(rotated, np.broadcast_to(beta, (4, 3))).T


def _to_lab(p: Array, frame: Array) -> Array:
    return p @ frame.T


def _lab_cos_theta(direction_f: Array, frame: Array) -> Array:
    """Lab cos(theta) of massless particles with unit directions (..., 3) in frame F."""
    p = np.concatenate([np.ones((*direction_f.shape[:-1], 1)), direction_f], axis=-1)
    lab = _to_lab(p, frame)
    return lab[..., 3] / np.linalg.norm(lab[..., 1:], axis=-1)


def _merge_intervals(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def photon_cm_bands(
    windows_deg: Sequence[tuple[float, float]], frame: Array
) -> list[tuple[float, float]]:
    """cos(theta_F) bands that contain every frame-F direction of a massless particle whose lab
    polar angle lies in one of ``windows_deg`` (conservative: 0.25 deg margin; the exact lab
    cut is applied after generation)."""
    theta = np.radians(np.arange(0.0, 180.0 + 1e-9, 0.02))
    phi = np.radians(np.arange(0.0, 360.0, 5.0))
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    d = np.stack(np.broadcast_arrays(st * np.cos(phi), st * np.sin(phi), ct), axis=-1)
    lab_theta = np.degrees(np.arccos(np.clip(_lab_cos_theta(d, frame), -1.0, 1.0)))
    margin = 0.25
    bands = []
    for lo, hi in windows_deg:
        inside = (lab_theta >= lo - margin) & (lab_theta <= hi + margin)
        rows = np.flatnonzero(np.any(inside, axis=1))
        if rows.size == 0:
            continue
        t_lo = theta[max(rows[0] - 1, 0)]
        t_hi = theta[min(rows[-1] + 1, theta.size - 1)]
        c_hi = 1.0 if rows[0] == 0 else float(np.cos(t_lo))
        c_lo = -1.0 if rows[-1] == theta.size - 1 else float(np.cos(t_hi))
        bands.append((c_lo, c_hi))
    return _merge_intervals(bands)


# =============================================================================== samplers
class _EikonalBands:
    """Photon polar angle in frame F with density ~ 1 / (1 - b^2 cos^2) on a union of cos
    bands (b the beam velocity); the variable t = artanh(b cos) is uniform on each band."""

    def __init__(self, s: float, bands: Sequence[tuple[float, float]] | None) -> None:
        self.one_m_b2 = 4.0 * M_ELECTRON**2 / s
        self.b = float(np.sqrt(1.0 - self.one_m_b2))
        t_max = float(np.log((1.0 + self.b) / np.sqrt(self.one_m_b2)))
        if bands is None:
            self.t_bands = [(-t_max, t_max)]
        else:
            self.t_bands = [(self._t(lo, t_max), self._t(hi, t_max)) for lo, hi in bands]
        self.lengths = np.array([hi - lo for lo, hi in self.t_bands])
        self.total_t = float(np.sum(self.lengths))
        self.full_t = 2.0 * t_max
        if self.total_t <= 0:
            raise ValueError("the photon angular bands are empty")
        #: fraction of the full 1 / (1 - b^2 c^2) distribution inside the bands.
        self.fraction = self.total_t / self.full_t

    def _t(self, c: float, t_max: float) -> float:
        if c >= 1.0:
            return t_max
        if c <= -1.0:
            return -t_max
        return float(np.arctanh(self.b * c))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """(cos, sin) of n photons."""
        u = rng.random(n) * self.total_t
        edges = np.concatenate([[0.0], np.cumsum(self.lengths)])
        idx = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(self.t_bands) - 1)
        starts = np.array([lo for lo, _ in self.t_bands])
        t = starts[idx] + (u - edges[idx])
        cos = np.tanh(t) / self.b
        sech2 = 1.0 / np.square(np.cosh(t))
        sin = np.sqrt(np.clip(sech2 - self.one_m_b2, 0.0, None)) / self.b
        return cos, sin

    def density(self, cos: Array, one_m_b2c2: Array) -> Array:
        """Density in cos (0 outside the bands); one_m_b2c2 = 1 - b^2 cos^2 (precise)."""
        t = np.arctanh(np.clip(self.b * cos, -1.0 + 1e-16, 1.0 - 1e-16))
        inside = np.zeros(cos.shape, bool)
        for lo, hi in self.t_bands:
            inside |= (t >= lo) & (t <= hi)
        return np.where(inside, self.b / (self.total_t * one_m_b2c2), 0.0)


def sample_born_cos(u: Array, beta: Array) -> Array:
    """Inverse-CDF sample of cos(theta) from 1 + c^2 + (1 - beta^2)(1 - c^2) = a + b c^2
    (a = 2 - beta^2, b = beta^2) for uniforms u: the real root of the depressed cubic
    c^3 + p c + q = 0, p = 3a/b, written without cancellation (Vieta)."""
    b = np.square(beta)
    a = 2.0 - b
    small = b < 1e-9
    bb = np.where(small, 1.0, b)
    p = 3.0 * a / bb
    q = 3.0 / bb * ((2.0 * a + 2.0 * bb / 3.0) * u - a - bb / 3.0)
    disc = np.sqrt(0.25 * q * q + p**3 / 27.0)
    big_a = np.cbrt(0.5 * np.abs(q) + disc)
    root = -np.sign(q) * (big_a - p / (3.0 * big_a))
    return np.where(small, 2.0 * u - 1.0, np.clip(root, -1.0, 1.0))


def beam_structure_function(x: ArrayLike, s: float) -> Array:
    """Per-beam O(alpha) leading-log structure function (Kuraev-Fadin form):
    D(x) = b x^(b - 1)(1 + 3b/4) - b (1 - x/2), b = (alpha / pi)(ln(s / m_e^2) - 1), the
    fraction x of the beam energy radiated; D convolved with itself is the two-beam radiator
    of :mod:`darkscan.physics.isr` to O(alpha)."""
    x = np.asarray(x, dtype=float)
    b = 0.5 * float(isr_sf.isr_beta(s))
    ok = (x > 0) & (x < 1)
    xs = np.where(ok, x, 0.5)
    return np.where(ok, b * xs ** (b - 1.0) * (1.0 + 0.75 * b) - b * (1.0 - 0.5 * xs), 0.0)


def _sample_beam_x(n: int, rng: np.random.Generator, s: float, x_top: float) -> tuple[Array, Array]:
    """x in (0, x_top) of one beam and weight D(x) / g(x): g = 0.8 b x^(b-1) / x_top^b
    + 0.2 / ((1 - x) ln(1 / (1 - x_top))) (the second channel for s' -> threshold)."""
    b = 0.5 * float(isr_sf.isr_beta(s))
    u = rng.random(n)
    pole = rng.random(n) < 0.2
    lam = -np.log1p(-x_top)
    x = np.where(pole, -np.expm1(-lam * u), x_top * np.exp(np.log1p(-u) / b))
    x = np.minimum(x, np.nextafter(x_top, 0.0))
    # weight = D / g without 0/0: divide numerator and denominator by b x^(b-1)
    reduced = (1.0 + 0.75 * b) - (1.0 - 0.5 * x) * x ** (1.0 - b)
    g_red = 0.8 / x_top**b + 0.2 * x ** (1.0 - b) / (b * lam * (1.0 - x))
    return x, reduced / g_red


def _sample_beam_photon_cos(n: int, rng: np.random.Generator, s: float, sign: float):
    """(cos, sin) of a photon radiated by the e- (sign +1) or e+ (sign -1) beam: density
    ~ 1 / (1 - b sign cos) in frame F (b the beam velocity), with sin from 1 - b cos."""
    one_m_b2 = 4.0 * M_ELECTRON**2 / s
    b = np.sqrt(1.0 - one_m_b2)
    one_m_b = one_m_b2 / (1.0 + b)
    y = one_m_b * np.exp(rng.random(n) * np.log((1.0 + b) / one_m_b))  # 1 - b c' in (1-b, 1+b)
    one_m_c = (y - one_m_b) / b
    one_p_c = (1.0 + b - y) / b
    sin = np.sqrt(np.clip(one_m_c * one_p_c, 0.0, None))
    cos = (1.0 - y) / b
    return sign * cos, sin


def _unit_vectors(cos: Array, sin: Array, phi: Array) -> Array:
    """Unit vectors (n, 3) from polar (cos, sin) and azimuth phi in [0, 2 pi)."""
    out = np.empty((len(cos), 3))
    cp = np.cos(phi)
    out[:, 0] = cp
    # sin(phi) from cos(phi): one transcendental call instead of two
    out[:, 1] = np.copysign(np.sqrt(np.maximum(1.0 - cp * cp, 0.0)), np.pi - phi)
    out[:, :2] *= sin[:, None]
    out[:, 2] = cos
    return out


class _UniformTable:
    """Linear interpolation on a uniform grid (x0 + i dx), clamped at both ends: ~10x faster
    than np.interp's binary search."""

    def __init__(self, x0: float, dx: float, values: Array) -> None:
        self.x0, self.inv_dx = float(x0), 1.0 / float(dx)
        self.values = np.asarray(values, dtype=float)
        self.slopes = np.append(np.diff(self.values), 0.0)
        self.top = float(self.values.size - 1)

    def __call__(self, x: Array) -> Array:
        u = (np.asarray(x, dtype=float) - self.x0) * self.inv_dx
        np.clip(u, 0.0, self.top, out=u)
        i = u.astype(np.intp)
        u -= i
        return self.values[i] + u * self.slopes[i]


def _boost_rows(p: Array, beta: Array) -> Array:
    """Boost four-vectors p (n, 4) by velocities beta (n, 3) (as lorentz.boost, fewer
    temporaries; |beta| < 1 is guaranteed by the callers)."""
    b2 = np.einsum("ij,ij->i", beta, beta)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.einsum("ij,ij->i", beta, p[:, 1:])
    coef = np.divide(gamma - 1.0, b2, out=np.zeros_like(b2), where=b2 > 0) * bp + gamma * p[:, 0]
    out = np.empty_like(p)
    out[:, 0] = gamma * (p[:, 0] + bp)
    np.multiply(beta, coef[:, None], out=out[:, 1:])
    out[:, 1:] += p[:, 1:]
    return out


def _isotropic(n: int, rng: np.random.Generator) -> Array:
    cos = 2.0 * rng.random(n) - 1.0
    sin = np.sqrt(np.clip(1.0 - cos * cos, 0.0, None))
    return _unit_vectors(cos, sin, 2.0 * np.pi * rng.random(n))


def _massive(p3: Array, m: ArrayLike) -> Array:
    out = np.empty((len(p3), 4))
    out[:, 1:] = p3
    out[:, 0] = np.sqrt(np.einsum("ij,ij->i", p3, p3) + np.square(m))
    return out


# =============================================================================== bias
@dataclass(frozen=True)
class Bias:
    """Where to generate (exact weights; see the module docstring).

    * ``photon_theta_lab_deg``: windows (lo, hi) [deg] of the lab polar angle; the hardest
      photon must fly into one of them (events without a photon are not generated);
    * ``photon_e_min_gev``: minimum photon energy in the CM frame [GeV];
    * ``keep``: a function of the generated :class:`EventBatch` returning a boolean mask
      (e.g. a recoil-mass window or both muons in the tracker); applied last.
    """

    photon_theta_lab_deg: tuple[tuple[float, float], ...] | None = None
    photon_e_min_gev: float = 0.0
    keep: Callable[[EventBatch], NDArray[np.bool_]] | None = None

    def __post_init__(self) -> None:
        if self.photon_theta_lab_deg is not None:
            wins = tuple((float(a), float(b)) for a, b in self.photon_theta_lab_deg)
            for lo, hi in wins:
                if not 0.0 <= lo < hi <= 180.0:
                    raise ValueError(
                        f"photon_theta_lab_deg windows need 0 <= lo < hi <= 180, got {(lo, hi)}"
                    )
            object.__setattr__(self, "photon_theta_lab_deg", wins)
        if not np.isfinite(self.photon_e_min_gev) or self.photon_e_min_gev < 0:
            raise ValueError(f"photon_e_min_gev must be >= 0, got {self.photon_e_min_gev!r}")
        if self.keep is not None and not callable(self.keep):
            raise ValueError("keep must be callable (EventBatch -> boolean mask)")

    @property
    def needs_photon(self) -> bool:
        return self.photon_theta_lab_deg is not None or self.photon_e_min_gev > 0

    @staticmethod
    def photon_missed(
        collider: Collider, gaps_deg: Sequence[tuple[float, float]] = (), **kwargs: Any
    ) -> Bias:
        """Photon outside the calorimeter's polar coverage of ``collider`` or in one of the
        ``gaps_deg`` (e.g. Belle II barrel-endcap gaps ((31.4, 32.2), (128.7, 130.7)))."""
        lo, hi = collider.calorimeter_theta_deg
        return Bias(photon_theta_lab_deg=((0.0, lo), *gaps_deg, (hi, 180.0)), **kwargs)


#: Tries without a single accepted event after which generation gives up (empty region).
MAX_EMPTY_TRIES: int = 2_000_000


def _accept_exactly(
    n: int,
    make_chunk: Callable[[int], tuple[EventBatch, NDArray[np.int64]]],
    chunk: int = CHUNK,
) -> tuple[EventBatch | None, int]:
    """Run ``make_chunk(m)`` (accepted events of m i.i.d. tries, weights = per-try
    estimates of the cross section [fb], and the try index of each accepted event) until ``n``
    events are accepted. Returns the first n (weights rescaled) and the number of tries T up to
    the n-th acceptance.

    With A the acceptance probability and v the per-try value, sigma = E[v] = A E[v | accepted];
    sum(v_accepted) / n estimates E[v | accepted] and (n - 1)/(T - 1) estimates A without bias
    (negative-binomial stopping), independently: the weights v (n - 1) / (n (T - 1)) sum to an
    unbiased estimate of sigma (n = 1: v / T).
    """
    pieces: list[EventBatch] = []
    accepted = tries = 0
    last_index = 0
    while accepted < n:
        need = n - accepted
        # tries for this round: enough for the events still needed at the acceptance seen so
        # far (+20 %), between 256 and ``chunk`` (small requests stay cheap)
        rate = (accepted + 1.0) / (tries + 1.0)
        m = int(min(chunk, max(256, np.ceil(1.2 * need / min(rate, 1.0)))))
        batch, index = make_chunk(m)
        if batch.n_events >= need:
            last_index = tries + int(index[need - 1])
            batch = batch.select(np.arange(batch.n_events) < need)
        pieces.append(batch)
        accepted += batch.n_events
        tries += m
        if accepted == 0 and tries >= MAX_EMPTY_TRIES:
            raise ValueError(
                f"no event accepted in {tries} tries: the generation region (bias / acceptance) "
                "is empty or far too small"
            )
    if not pieces:
        return None, 0
    out = EventBatch.concatenate(pieces)
    t = last_index + 1
    scale = (n - 1) / (n * (t - 1)) if n > 1 and t > 1 else 1.0 / t
    return EventBatch(out.particles, out.weight * scale, out.process, out.truth, out.meta), t


def _as_bias(bias: Bias | dict[str, Any] | None) -> Bias | None:
    if bias is None or isinstance(bias, Bias):
        return bias
    if isinstance(bias, dict):
        return Bias(**bias)
    raise ValueError(f"bias must be a Bias, a dict of its fields or None, got {type(bias)}")


# =============================================================================== f f (gamma)
@functools.cache
def _vp_table(m_threshold: float, sqrt_s_max: float) -> tuple[Array, Array]:
    """|alpha(s')/alpha|^2 on a 0.5 MeV grid in sqrt(s'), without the narrow quarkonia (see
    the module docstring)."""
    e0 = max(m_threshold - 0.001, 0.0)
    e = e0 + 0.0005 * np.arange(int((sqrt_s_max + 0.002 - e0) / 0.0005) + 1)
    s = e * e
    re = delta_alpha_leptonic(s) + delta_alpha_hadronic(s, narrow=False)
    smooth, _ = _r_split(e)
    im = _imag_delta_alpha_leptonic(s) + ALPHA_EM / 3.0 * smooth
    return e, 1.0 / ((1.0 - re) ** 2 + im * im)


@dataclass
class _Context:
    """Per-call constants of the fermion-pair generation."""

    s: float
    sqrt_s: float
    e_beam: float
    p_beam: float
    beta_e: float
    mass: float
    k_min: float
    w_max: float
    delta_min: float
    delta_max: float
    bands: _EikonalBands
    alphas: Array
    vp: Callable[[Array], Array]
    e_min: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _FermionPairGamma(Process):
    """e+e- -> f+ f- (gamma); see the module docstring for the physics and the parameters.

    Parameters
    ----------
    radiation : "exact" (O(alpha) exact matrix element with a k_min slice), "isr"
        (structure-function ISR, no FSR) or "born".
    k_min_gev : photon CM energy [GeV] separating two-body (soft + virtual) from three-body
        events in the exact mode (default 0.01 GeV: well below any calorimeter threshold).
    vacuum_polarization : multiply by |alpha(q^2)/alpha|^2 (see :func:`vp_factor`).
    bias : a :class:`Bias` (or a dict of its fields) restricting the generation.
    soft_fraction : share of the n events drawn as two-body events in the exact mode.
    channel_fractions : multichannel weights (ISR soft, ISR return, FSR f-, FSR f+).
    isr_order : order of the structure function in the "isr" mode (1 or 2).
    me_parts : parts of the exact matrix element used above k_min ("isr", "fsr", "int"; the
        soft + virtual slice follows: delta_ISR with "isr", delta_FSR with "fsr"; "int" has no
        soft + virtual counterpart, see the module docstring). Default ("isr", "fsr").
    """

    fermion_mass: ClassVar[float]
    fermion_pdg: ClassVar[int]
    #: tries per internal chunk (memory and speed; the physics does not depend on it).
    chunk_size: ClassVar[int] = CHUNK

    radiation: str = "exact"
    k_min_gev: float = 0.01
    vacuum_polarization: bool = True
    bias: Bias | dict[str, Any] | None = None
    soft_fraction: float = 0.3
    channel_fractions: tuple[float, float, float, float] = (0.45, 0.15, 0.2, 0.2)
    isr_order: int = 2
    me_parts: tuple[str, ...] = ("isr", "fsr")

    def __post_init__(self) -> None:
        _check_radiation(self.radiation)
        self.me_parts = tuple(self.me_parts)
        bad = [p for p in self.me_parts if p not in ("isr", "fsr", "int")]
        if bad or not self.me_parts or len(set(self.me_parts)) != len(self.me_parts):
            raise ValueError(
                f"me_parts must be distinct names from ['isr', 'fsr', 'int'], got {self.me_parts}"
            )
        _check_positive("k_min_gev", self.k_min_gev)
        self.bias = _as_bias(self.bias)
        if not 0.0 <= self.soft_fraction < 1.0:
            raise ValueError(f"soft_fraction must lie in [0, 1), got {self.soft_fraction!r}")
        fr = np.asarray(self.channel_fractions, dtype=float)
        if fr.shape != (4,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0):
            raise ValueError("channel_fractions must be 4 non-negative numbers summing to 1")
        if self.isr_order not in isr_sf.ISR_ORDERS:
            raise ValueError(f"isr_order must be one of {list(isr_sf.ISR_ORDERS)}")

    # ------------------------------------------------------------------ public helpers
    def threshold_check(self, s: float) -> None:
        m = self.fermion_mass
        if s <= 4.0 * m * m:
            raise ValueError(
                f"sqrt(s) = {np.sqrt(s):.4g} GeV is below the {self.name} threshold "
                f"2 m = {2 * m:.4g} GeV"
            )

    def born_sigma_fb(self, collider: Collider) -> float:
        """Point-like Born cross section [fb] at the collider's sqrt(s) (alpha(0), no VP)."""
        s = collider.sqrt_s**2
        self.threshold_check(s)
        return float(born_ff_sigma(s, self.fermion_mass))

    def soft_virtual_factor(self, collider: Collider) -> float:
        """1 + delta_ISR + delta_FSR of the two-body slice (exact mode) at this collider."""
        s = collider.sqrt_s**2
        eps = self.k_min_gev / (0.5 * np.sqrt(s))
        factor = 1.0
        if "isr" in self.me_parts:
            factor += delta_isr_soft_virtual(s, eps)
        if "fsr" in self.me_parts:
            factor += fsr_soft_virtual(s, self.fermion_mass, self.k_min_gev)
        return factor

    # ------------------------------------------------------------------ generation
    def _context(self, collider: Collider, frame: Array) -> _Context:
        s = collider.sqrt_s**2
        self.threshold_check(s)
        sqrt_s = float(np.sqrt(s))
        m = self.fermion_mass
        w_max = (s - 4.0 * m * m) / (2.0 * sqrt_s)
        if self.radiation == "exact" and not self.k_min_gev < w_max:
            raise ValueError(f"k_min_gev must be below the maximum photon energy {w_max:.4g} GeV")
        bias = self.bias
        bands = None
        if bias is not None and bias.photon_theta_lab_deg is not None:
            bands = photon_cm_bands(bias.photon_theta_lab_deg, frame)
            if not bands:
                raise ValueError("the photon windows of the bias are empty")
        if self.vacuum_polarization:
            e_tab, v_tab = _vp_table(round(2.0 * m, 6), round(sqrt_s, 6))
            table = _UniformTable(e_tab[0], e_tab[1] - e_tab[0], v_tab)

            def vp(s_: Array) -> Array:
                return table(np.sqrt(np.maximum(s_, 0.0)))
        else:

            def vp(s_: Array) -> Array:
                return np.ones(np.shape(s_))

        e_beam = 0.5 * sqrt_s
        return _Context(
            s=s,
            sqrt_s=sqrt_s,
            e_beam=e_beam,
            p_beam=float(np.sqrt(e_beam**2 - M_ELECTRON**2)),
            beta_e=float(np.sqrt(1.0 - 4.0 * M_ELECTRON**2 / s)),
            mass=m,
            k_min=float(self.k_min_gev),
            w_max=float(w_max),
            delta_min=float(self.k_min_gev * m * m / sqrt_s),
            delta_max=float((sqrt_s - m) ** 2 - m * m),
            bands=_EikonalBands(s, bands),
            alphas=np.asarray(self.channel_fractions, dtype=float),
            vp=vp,
            e_min=0.0 if bias is None else float(bias.photon_e_min_gev),
        )

    def _born_chunk(self, n: int, rng: np.random.Generator, ctx: _Context, scale: float):
        """Two-body events in frame F with weight ``scale`` x shape-normalised Born."""
        beta = np.full(n, float(fermion_velocity(ctx.s, ctx.mass)))
        cos = sample_born_cos(rng.random(n), beta)
        sin = np.sqrt(np.clip(1.0 - cos * cos, 0.0, None))
        d = _unit_vectors(cos, sin, 2.0 * np.pi * rng.random(n))
        p = np.sqrt(ctx.e_beam**2 - ctx.mass**2)
        q1 = _massive(p * d, ctx.mass)
        q2 = _massive(-p * d, ctx.mass)
        return q1, q2, np.zeros((n, 4)), np.full(n, scale)

    def _isr_chunk(self, n: int, rng: np.random.Generator, ctx: _Context):
        """Structure-function ISR x Born(s') events in frame F; weight in fb x n."""
        m = ctx.mass
        x_max = 1.0 - 4.0 * m * m / ctx.s
        xs = isr_sf.sample_x(n, rng, ctx.s, x_max=x_max, order=self.isr_order, pole=0.0)
        if self.bias is not None and self.bias.photon_theta_lab_deg is not None:
            cos, sin = ctx.bands.sample(n, rng)
            phi = 2.0 * np.pi * rng.random(n)
            band_weight = ctx.bands.fraction
        else:
            cos, sin, phi = isr_sf.sample_photon_direction(n, rng, ctx.s)
            band_weight = 1.0
        soft = xs.x < isr_sf.X_SOFT
        x_kin = np.where(soft, 0.0, xs.x)
        k0 = 0.5 * ctx.sqrt_s * x_kin
        k = np.concatenate([k0[:, None], k0[:, None] * _unit_vectors(cos, sin, phi)], axis=1)
        beta_h = -k[:, 1:] / (ctx.sqrt_s - k0)[:, None]
        s_prime = ctx.s * (1.0 - xs.x)
        s_kin = ctx.s * (1.0 - x_kin)
        beta_f = fermion_velocity(s_kin, m)
        c = sample_born_cos(rng.random(n), beta_f)
        sn = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        d = _unit_vectors(c, sn, 2.0 * np.pi * rng.random(n))
        p = 0.5 * np.sqrt(s_kin) * beta_f
        q1 = _boost_rows(_massive(p[:, None] * d, m), beta_h)
        q2 = -q1 - k
        q2[:, 0] += ctx.sqrt_s
        w = xs.weight * born_ff_sigma(s_prime, m) * ctx.vp(s_prime) * band_weight
        k[soft] = 0.0
        return q1, q2, k, w

    def _isr2_chunk(self, n: int, rng: np.random.Generator, ctx: _Context):
        """Per-beam structure functions: one photon from each beam (so a recoil mass against
        the pair), Born(s') of the hard system, s' = (P - k1 - k2)^2; no FSR. Photons below
        x_soft of their beam are dropped (s' shifts < 1e-5 relative). Weight in fb x n;
        photons (n, 2, 4)."""
        m, sqrt_s, s = ctx.mass, ctx.sqrt_s, ctx.s
        x_top = 1.0 - 4.0 * m * m / s
        x1, w1 = _sample_beam_x(n, rng, s, x_top)
        x2, w2 = _sample_beam_x(n, rng, s, x_top)
        c1, s1 = _sample_beam_photon_cos(n, rng, s, +1.0)
        c2, s2 = _sample_beam_photon_cos(n, rng, s, -1.0)
        soft1, soft2 = x1 < isr_sf.X_SOFT, x2 < isr_sf.X_SOFT
        e1 = np.where(soft1, 0.0, 0.5 * sqrt_s * x1)
        e2 = np.where(soft2, 0.0, 0.5 * sqrt_s * x2)
        k1 = np.concatenate(
            [e1[:, None], e1[:, None] * _unit_vectors(c1, s1, 2 * np.pi * rng.random(n))], 1
        )
        k2 = np.concatenate(
            [e2[:, None], e2[:, None] * _unit_vectors(c2, s2, 2 * np.pi * rng.random(n))], 1
        )
        hard = -(k1 + k2)
        hard[:, 0] += sqrt_s
        s_prime = _mdot(hard, hard)
        ok = s_prime > 4.0 * m * m
        s_ok = np.where(ok, s_prime, s)
        beta_f = fermion_velocity(s_ok, m)
        c = sample_born_cos(rng.random(n), beta_f)
        sn = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        d = _unit_vectors(c, sn, 2.0 * np.pi * rng.random(n))
        p = 0.5 * np.sqrt(s_ok) * beta_f
        beta_h = np.where(ok[:, None], hard[:, 1:] / hard[:, :1], 0.0)
        q1 = _boost_rows(_massive(p[:, None] * d, m), beta_h)
        q2 = hard - q1
        w = np.where(ok, w1 * w2 * born_ff_sigma(s_ok, m) * ctx.vp(s_ok), 0.0)
        return q1, q2, np.stack([k1, k2], axis=1), w

    def _hard_chunk(self, n: int, rng: np.random.Generator, ctx: _Context):
        """Three-body events (omega > k_min) in frame F from the four channels; the returned
        weight is f / sum_i alpha_i g_i [fb] (divide by the number of hard tries)."""
        m, sqrt_s, s, e_b = ctx.mass, ctx.sqrt_s, ctx.s, ctx.e_beam
        n_a, n_b, n_c1, n_c2 = rng.multinomial(n, ctx.alphas)
        n_i = n_a + n_b
        # --- ISR channels: omega, photon direction, fermion direction in the f f frame
        u = rng.random(n_i)
        omega = np.empty(n_i)
        omega[:n_a] = ctx.k_min * (ctx.w_max / ctx.k_min) ** u[:n_a]
        omega[n_a:] = e_b - (e_b - ctx.k_min) * ((e_b - ctx.w_max) / (e_b - ctx.k_min)) ** u[n_a:]
        cos, sin = ctx.bands.sample(n_i, rng)
        phi = 2.0 * np.pi * rng.random(n_i)
        k_i = np.concatenate([omega[:, None], omega[:, None] * _unit_vectors(cos, sin, phi)], 1)
        p_star = np.sqrt(np.clip(0.25 * (s - 2.0 * sqrt_s * omega) - m * m, 0.0, None))
        d = _isotropic(n_i, rng) * p_star[:, None]
        beta_q = -k_i[:, 1:] / (sqrt_s - omega)[:, None]
        q1_i = _boost_rows(_massive(d, m), beta_q)
        q2_i = -q1_i - k_i
        q2_i[:, 0] += sqrt_s
        # --- FSR channels: the spectator fermion, then (radiating fermion + photon) decays
        out = [(q1_i, q2_i, k_i)]
        for n_c, radiator_is_minus in ((n_c1, True), (n_c2, False)):
            delta = ctx.delta_min * (ctx.delta_max / ctx.delta_min) ** rng.random(n_c)
            mk2 = m * m + delta
            mk = np.sqrt(mk2)
            lam = (s - (mk + m) ** 2) * (s - (mk - m) ** 2)
            p_sp = np.sqrt(np.clip(lam, 0.0, None)) / (2.0 * sqrt_s)
            spect = _massive(_isotropic(n_c, rng) * p_sp[:, None], m)
            big_k = -spect
            big_k[:, 0] += sqrt_s
            w_k = delta / (2.0 * mk)
            dk = _isotropic(n_c, rng) * w_k[:, None]
            beta_k = big_k[:, 1:] / big_k[:, :1]
            k_c = _boost_rows(np.concatenate([w_k[:, None], dk], 1), beta_k)
            rad = big_k - k_c
            out.append((rad, spect, k_c) if radiator_is_minus else (spect, rad, k_c))
        q1 = np.concatenate([o[0] for o in out])
        q2 = np.concatenate([o[1] for o in out])
        k = np.concatenate([o[2] for o in out])
        return q1, q2, k, self._hard_weight(q1, q2, k, ctx)

    def _hard_weight(self, q1: Array, q2: Array, k: Array, ctx: _Context) -> Array:
        m, sqrt_s, s, e_b, p_b, b = ctx.mass, ctx.sqrt_s, ctx.s, ctx.e_beam, ctx.p_beam, ctx.beta_e
        omega = k[:, 0]
        cos = k[:, 3] / omega
        sin2 = (k[:, 1] ** 2 + k[:, 2] ** 2) / (omega * omega)
        one_m_b2c2 = (1.0 - b * b) + b * b * sin2
        pos = cos >= 0
        one_p_bc = np.where(pos, 1.0 + b * cos, one_m_b2c2 / (1.0 - b * cos))
        one_m_bc = np.where(pos, one_m_b2c2 / (1.0 + b * cos), 1.0 - b * cos)
        dots = {
            "kp1": omega * e_b * one_m_bc,
            "kp2": omega * e_b * one_p_bc,
            "kq1": _mdot(k, q1),
            "kq2": _mdot(k, q2),
            "p1p2": np.full(omega.shape, e_b * e_b + p_b * p_b),
            "p1q1": e_b * q1[:, 0] - p_b * q1[:, 3],
            "p1q2": e_b * q2[:, 0] - p_b * q2[:, 3],
            "p2q1": e_b * q1[:, 0] + p_b * q1[:, 3],
            "p2q2": e_b * q2[:, 0] + p_b * q2[:, 3],
            "q1q2": _mdot(q1, q2),
        }
        s_prime = s - 2.0 * sqrt_s * omega
        me = msq_ffgamma_dots(dots, np.full(omega.shape, s), s_prime, m, self.me_parts)
        vp_s = float(ctx.vp(np.array([s]))[0])
        total = np.zeros(omega.shape)
        if "isr" in me:
            total += me["isr"] * ctx.vp(s_prime)
        if "fsr" in me:
            total += me["fsr"] * vp_s
        if "int" in me:  # Re(z(s) z(s')^*) ~ sqrt(|z(s)|^2 |z(s')|^2) (phases neglected)
            total += me["int"] * np.sqrt(vp_s * ctx.vp(s_prime))
        f = 0.25 * E_CHARGE2**3 / (2.0 * s * b) * total * GEV2_TO_FB
        # channel densities with respect to d Phi_3
        beta_p = np.sqrt(np.clip(1.0 - 4.0 * m * m / s_prime, 0.0, None))
        jac_i = omega / (2.0 * (2.0 * np.pi) ** 3) * beta_p / (32.0 * np.pi**2)
        rho_c = ctx.bands.density(cos, one_m_b2c2)
        in_w = (omega >= ctx.k_min) & (omega <= ctx.w_max)
        rho_a = np.where(in_w, 1.0 / (omega * np.log(ctx.w_max / ctx.k_min)), 0.0)
        log_b = np.log((e_b - ctx.k_min) / (e_b - ctx.w_max))
        rho_b = np.where(in_w, 1.0 / ((e_b - omega) * log_b), 0.0)
        common = rho_c / (8.0 * np.pi**2) / np.where(jac_i > 0, jac_i, np.inf)
        g = ctx.alphas[0] * rho_a * common + ctx.alphas[1] * rho_b * common
        log_d = np.log(ctx.delta_max / ctx.delta_min)
        for alpha_c, rad, spect in ((ctx.alphas[2], q1, q2), (ctx.alphas[3], q2, q1)):
            delta = 2.0 * _mdot(k, rad)
            ok = (delta >= ctx.delta_min) & (delta <= ctx.delta_max)
            mk = np.sqrt(m * m + delta)
            p_sp = np.sqrt(np.sum(spect[:, 1:] ** 2, axis=1))
            p_in = delta / (2.0 * mk)
            g_c = 32.0 * np.pi**3 * sqrt_s * mk / (delta * log_d * p_sp * p_in)
            g = g + alpha_c * np.where(ok, g_c, 0.0)
        inside = in_w & (omega >= ctx.e_min) & (g > 0)
        return np.where(inside, f / np.where(g > 0, g, 1.0), 0.0)

    def _soft_sigma(self, ctx: _Context) -> float:
        """Cross section [fb] of the two-body (omega < k_min) slice of the exact mode."""
        factor = 1.0
        if "isr" in self.me_parts:
            factor += delta_isr_soft_virtual(ctx.s, ctx.k_min / ctx.e_beam)
        if "fsr" in self.me_parts:
            factor += fsr_soft_virtual(ctx.s, ctx.mass, ctx.k_min)
        if factor <= 0:
            raise ValueError(
                f"k_min_gev = {ctx.k_min} GeV makes the two-body weight negative "
                f"(1 + delta = {factor:.3f}); use a larger k_min_gev"
            )
        return float(born_ff_sigma(ctx.s, ctx.mass) * ctx.vp(np.array([ctx.s]))[0] * factor)

    def _try_chunk(self, m: int, rng: np.random.Generator, ctx: _Context):
        """(q1, q2, k, v) in frame F for m i.i.d. tries; v estimates the cross section [fb]
        (E[v] = sigma; 0 outside the generation region)."""
        if self.radiation == "born":
            return self._born_chunk(m, rng, ctx, ctx.extra["sigma"])
        if self.radiation == "isr":
            return self._isr_chunk(m, rng, ctx)
        if self.radiation == "isr2":
            return self._isr2_chunk(m, rng, ctx)
        # exact: each try is a two-body (soft + virtual) event with probability f_soft, else
        # a three-body multichannel try
        f_soft = ctx.extra["soft_fraction"]
        soft = rng.random(m) < f_soft if f_soft > 0 else np.zeros(m, bool)
        n_soft = int(soft.sum())
        q1, q2, k = np.empty((m, 4)), np.empty((m, 4)), np.zeros((m, 4))
        v = np.empty(m)
        if n_soft:
            a, b, _, _ = self._born_chunk(n_soft, rng, ctx, 1.0)
            q1[soft], q2[soft] = a, b
            v[soft] = ctx.extra["sigma_soft"] / f_soft
        if m - n_soft:
            hard = ~soft
            a, b, kk, w = self._hard_chunk(m - n_soft, rng, ctx)
            # the channels come in blocks: spread them over the hard slots in random order
            order = rng.permutation(m - n_soft)
            q1[hard], q2[hard], k[hard] = a[order], b[order], kk[order]
            v[hard] = w[order] / (1.0 - f_soft)
        return q1, q2, k, v

    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """Exactly ``n_events`` weighted events in the lab (with a :class:`Bias`: events in
        its region); ``meta["n_tried"]`` is the number of tries that took."""
        n = self.check_n_events(n_events)
        frame = cm_to_lab_matrix(collider)
        ctx = self._context(collider, frame)
        needs_photon = self.bias is not None and self.bias.needs_photon
        if self.radiation == "born":
            if needs_photon:
                raise ValueError("a photon bias needs a radiation mode with photons")
            ctx.extra["sigma"] = float(
                born_ff_sigma(ctx.s, ctx.mass) * ctx.vp(np.array([ctx.s]))[0]
            )
        if self.radiation == "exact":
            ctx.extra["soft_fraction"] = 0.0 if needs_photon else self.soft_fraction
            ctx.extra["sigma_soft"] = self._soft_sigma(ctx)

        def make_chunk(m: int) -> tuple[EventBatch, NDArray[np.int64]]:
            q1, q2, k, v = self._try_chunk(m, rng, ctx)
            return self._finish_chunk(q1, q2, k, v, ctx, frame, rng)

        batch, tries = _accept_exactly(n, make_chunk, self.chunk_size)
        if batch is None:
            batch, _ = self._finish_chunk(*(np.zeros((0, 4)),) * 3, np.zeros(0), ctx, frame, rng)
        meta = {
            "process": self.name,
            "generator": f"darkscan.qed.{type(self).__name__}",
            "radiation": self.radiation,
            "collider": collider.name,
            "sqrt_s": ctx.sqrt_s,
            "n_tried": tries,
            "k_min_gev": self.k_min_gev,
            "vacuum_polarization": self.vacuum_polarization,
            "biased": self.bias is not None,
        }
        return EventBatch(batch.particles, batch.weight, batch.process, batch.truth, meta)

    def _finish_chunk(self, q1, q2, k, w, ctx: _Context, frame: Array, rng):
        """Bias cuts, truth and the lab-frame event record of one chunk: (batch of the
        accepted events, their indices among the tries)."""
        if k.ndim == 2:
            k = k[:, None, :]
        keep = w != 0
        present = k[:, :, 0] > 0
        if k.shape[1] == 1:
            hardest = k[:, 0]
        else:
            hardest = k[np.arange(len(w)), np.argmax(k[:, :, 0], axis=1)]
        has_photon = hardest[:, 0] > 0
        bias = self.bias
        if bias is not None and bias.photon_theta_lab_deg is not None:
            safe = np.where(has_photon, hardest[:, 0], 1.0)[:, None]
            cos_lab = _lab_cos_theta(hardest[:, 1:] / safe, frame)
            theta = np.degrees(np.arccos(np.clip(cos_lab, -1.0, 1.0)))
            in_win = np.zeros(len(w), bool)
            for lo, hi in bias.photon_theta_lab_deg:
                in_win |= (theta >= lo) & (theta <= hi)
            keep &= has_photon & in_win
        if bias is not None and bias.photon_e_min_gev > 0:
            keep &= hardest[:, 0] >= bias.photon_e_min_gev
        idx = np.flatnonzero(keep)
        if idx.size != len(w):
            q1, q2, k, w = q1[idx], q2[idx], k[idx], w[idx]
            present, hardest, has_photon = present[idx], hardest[idx], has_photon[idx]
        q12 = q1 + q2
        recoil = -q12
        recoil[:, 0] += ctx.sqrt_s
        truth = {
            "sqrt_s_prime": np.sqrt(np.maximum(_mdot(q12, q12), 0.0)),
            "recoil_mass": np.sqrt(np.maximum(_mdot(recoil, recoil), 0.0)),
            "photon_e_cm": hardest[:, 0],
            "photon_cos_cm": np.where(
                has_photon, hardest[:, 3] / np.where(has_photon, hardest[:, 0], 1.0), 0.0
            ),
        }
        batch = self._make_batch(q1, q2, k, present, w, truth, rng, frame)
        if bias is not None and bias.keep is not None:
            mask = np.asarray(bias.keep(batch), bool)
            batch, idx = batch.select(mask), idx[mask]
        return batch, idx

    def _make_batch(
        self,
        q1: Array,
        q2: Array,
        k: Array,
        present: NDArray[np.bool_],
        weight: Array,
        truth: dict[str, Array],
        rng: np.random.Generator,
        frame: Array,
    ) -> EventBatch:
        """Particles f-, f+, photons in the lab (frame-F momenta in; k (n, P, 4) with the
        photons that are ``present``)."""
        objects = _pair_objects(q1, q2, k, present, frame, (self.fermion_pdg, -self.fermion_pdg))
        return EventBatch(objects, weight, self.name, truth)


def _pair_objects(
    a: Array, b: Array, k: Array, present: NDArray[np.bool_], frame: Array, pdg: tuple[int, int]
) -> Objects:
    """Objects (a, b, photons...) per event in the lab from frame-F four-momenta; ``k`` is
    (n, P, 4) or (n, 4) and ``present`` (n, P) or (n,) says which photons exist."""
    if k.ndim == 2:
        k, present = k[:, None, :], present[:, None]
    n = len(a)
    n_ph = present.sum(axis=1)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(2 + n_ph, out=offsets[1:])
    start = offsets[:-1]
    flat = np.empty((int(offsets[-1]), 4))
    flat[start] = a
    flat[start + 1] = b
    codes = np.full(len(flat), 22, np.int64)
    codes[start] = pdg[0]
    codes[start + 1] = pdg[1]
    slot = start + 2
    for j in range(k.shape[1]):
        has = present[:, j]
        flat[slot[has]] = k[has, j]
        slot = slot + has
    return Objects(
        offsets, {"pdg": codes, "p4": _to_lab(flat, frame), "vertex": np.zeros((len(flat), 3))}
    )


@dataclass
class MuMuGamma(_FermionPairGamma):
    """e+e- -> mu+ mu- (gamma) (registered as ``ee-mumu``); particles mu-, mu+, [gamma]."""

    name: ClassVar[str] = "ee-mumu"
    description: ClassVar[str] = (
        "e+e- -> mu+ mu- (gamma): exact O(alpha) QED with masses, hard-photon multichannel"
    )
    fermion_mass: ClassVar[float] = M_MUON
    fermion_pdg: ClassVar[int] = 13


@dataclass
class TauTauGamma(_FermionPairGamma):
    """e+e- -> tau+ tau- (gamma) (registered as ``ee-tautau``), taus decayed by
    :mod:`darkscan.generators.tau_decays`; particles: the tau- products, the tau+ products,
    [gamma]. Truth: ``tau_minus_p4``, ``tau_plus_p4`` (lab), ``tau_minus_mode``,
    ``tau_plus_mode`` (indices into ``tau_decays.MODES``).

    ``tau_modes`` (biased generation) restricts both taus to these decay modes; the weights
    are multiplied by (sum of their branching fractions)^2, e.g. ``("mu",)`` for
    tau tau -> mu mu + 4 nu.
    """

    name: ClassVar[str] = "ee-tautau"
    description: ClassVar[str] = (
        "e+e- -> tau+ tau- (gamma): exact O(alpha) QED with masses, tau decays (tau_decays)"
    )
    fermion_mass: ClassVar[float] = M_TAU
    fermion_pdg: ClassVar[int] = 15
    chunk_size: ClassVar[int] = 8 * CHUNK  # the tau decays run per chunk: amortise overhead

    tau_modes: tuple[str, ...] | None = None
    #: decay the taus (False: store them as pdg -+15, e.g. for speed or external decays).
    decay: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tau_modes is not None and not self.decay:
            raise ValueError("tau_modes needs decay=True")
        from darkscan.generators import tau_decays

        if self.tau_modes is not None:
            self.tau_modes = tuple(self.tau_modes)
            bad = [m for m in self.tau_modes if m not in tau_decays.MODES]
            if bad or not self.tau_modes:
                raise ValueError(
                    f"unknown tau decay mode(s) {bad}; valid: {list(tau_decays.MODES)}"
                )

    def _make_batch(self, q1, q2, k, present, weight, truth, rng, frame) -> EventBatch:
        n = len(weight)
        taus = _to_lab(np.concatenate([q1, q2]), frame)
        if not self.decay:
            return EventBatch(
                _pair_objects(q1, q2, k, present, frame, (15, -15)), weight, self.name, truth
            )
        from darkscan.generators import tau_decays

        charge = np.concatenate([-np.ones(n, np.int64), np.ones(n, np.int64)])
        decays, factor = tau_decays.decay_taus(taus, charge, rng, modes=self.tau_modes)
        prod = decays.products
        counts = prod.counts
        # order per event: tau- products (slot 0), tau+ products (slot 1), photons (slot 2)
        ph_event, ph_slot = np.nonzero(present)
        n_gamma = len(ph_event)
        tau_event = np.concatenate([np.arange(n), np.arange(n)])
        ev = np.concatenate([np.repeat(tau_event, counts), ph_event])
        slot = np.concatenate([np.repeat(np.repeat([0, 1], n), counts), 2 + ph_slot])
        order = np.lexsort((slot, ev))
        photons = _to_lab(k[ph_event, ph_slot], frame)
        cols_p4 = np.concatenate([prod.columns["p4"], photons])[order]
        cols_pdg = np.concatenate([prod.columns["pdg"], np.full(n_gamma, 22, np.int64)])[order]
        cols_vtx = np.concatenate([prod.columns["vertex"], np.zeros((n_gamma, 3))])[order]
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(ev, minlength=n), out=offsets[1:])
        objects = Objects(offsets, {"pdg": cols_pdg, "p4": cols_p4, "vertex": cols_vtx})
        truth = {
            **truth,
            "tau_minus_p4": taus[:n],
            "tau_plus_p4": taus[n:],
            "tau_minus_mode": decays.mode[:n],
            "tau_plus_mode": decays.mode[n:],
        }
        return EventBatch(objects, weight * factor[:n] * factor[n:], self.name, truth)


# ========================================================================= 2 -> 2 in acceptance
def max_aberration(beta: ArrayLike) -> Array:
    """Largest change [rad] of the direction of a massless particle under a boost of speed
    beta: at cos(alpha) = (sqrt(1 - beta^2) - 1) / beta from the boost axis."""
    b = np.clip(np.asarray(beta, dtype=float), 1e-300, 1.0 - 1e-15)
    ca = (np.sqrt(1.0 - b * b) - 1.0) / b
    c_new = (ca + b) / (1.0 + b * ca)
    return np.where(b > 1e-12, np.arccos(ca) - np.arccos(np.clip(c_new, -1.0, 1.0)), 0.0)


@functools.cache
def _vp_complex_tables(sqrt_s_max: float) -> tuple[Array, Array, Array, Array, Array]:
    """(sqrt(s) grid, |z_s|^2, Re z_s, ln(-t) grid, z_t) with z = 1 / (1 - Delta alpha)."""
    e = 0.0005 * np.arange(1, int((sqrt_s_max + 0.002) / 0.0005) + 1)
    s = e * e
    re = delta_alpha_leptonic(s) + delta_alpha_hadronic(s, narrow=False)
    smooth, _ = _r_split(e)
    im = _imag_delta_alpha_leptonic(s) + ALPHA_EM / 3.0 * smooth
    den = (1.0 - re) ** 2 + im * im
    lt = np.linspace(np.log(1e-6), np.log(sqrt_s_max**2 * 1.01), 2000)
    t = -np.exp(lt)
    zt = 1.0 / (1.0 - delta_alpha_leptonic(t) - delta_alpha_hadronic(t))
    return e, 1.0 / den, (1.0 - re) / den, lt, zt


@dataclass
class _TwoBodyInAcceptance(Process):
    """e+e- -> a b with structure-function ISR, both final particles inside a polar acceptance.

    The direction of particle a is drawn in the rest frame of the hard system (which recoils
    against the ISR photon) with importance sampling of the t-channel pole, inside the polar
    range that covers the acceptance after the boost: for collinear ISR (default) the exact
    image of the band for both particles; for the eikonal photon direction the band widened
    by the largest aberration of the boost (:func:`max_aberration`), never closer than 0.5 deg
    to the beam (a pair with one particle there cannot have both particles accepted). Both
    particles must be accepted (cut applied exactly, in the lab for ``frame="lab"``). The hard
    frame's beam axis is taken along z (exact for collinear ISR; the eikonal photon's pT is
    ~m_e).

    Parameters
    ----------
    theta_min_deg, theta_max_deg : polar acceptance [deg] of both final particles.
    frame : "cm" (frame F) or "lab".
    radiation : "isr" (structure function, order ``isr_order``) or "born".
    e_min_gev : minimum CM energy of each final particle [GeV].
    keep : optional predicate on the batch (biased generation, exact weights).
    """

    theta_min_deg: float = 10.0
    theta_max_deg: float = 170.0
    frame: str = "cm"
    radiation: str = "isr"
    e_min_gev: float = 0.0
    isr_order: int = 2
    #: ISR photon direction: "collinear" (default) or "eikonal". The eikonal tail of hard
    #: photons at wide angles boosts small-angle Born configurations into the acceptance, an
    #: artefact of the collinear factorisation for t-channel processes (x 40 on Bhabha).
    isr_angular: str = "collinear"
    keep: Callable[[EventBatch], NDArray[np.bool_]] | None = None

    pdg_a: ClassVar[int]
    pdg_b: ClassVar[int]
    identical: ClassVar[bool] = False
    pole_fraction: ClassVar[float] = 0.8

    def __post_init__(self) -> None:
        if not 0.0 < self.theta_min_deg < self.theta_max_deg < 180.0:
            raise ValueError(
                "need 0 < theta_min_deg < theta_max_deg < 180 (the t-channel pole makes the "
                f"cross section infinite at 0 and 180), got {self.theta_min_deg}, "
                f"{self.theta_max_deg}"
            )
        if self.frame not in ("cm", "lab"):
            raise ValueError(f"unknown frame '{self.frame}'; valid: ['cm', 'lab']")
        if self.radiation not in ("isr", "born"):
            raise ValueError(f"unknown radiation mode '{self.radiation}'; valid: ['isr', 'born']")
        if self.isr_order not in isr_sf.ISR_ORDERS:
            raise ValueError(f"isr_order must be one of {list(isr_sf.ISR_ORDERS)}")
        if self.isr_angular not in isr_sf.ISR_ANGULAR:
            raise ValueError(
                f"unknown isr_angular '{self.isr_angular}'; valid: {list(isr_sf.ISR_ANGULAR)}"
            )
        if not np.isfinite(self.e_min_gev) or self.e_min_gev < 0:
            raise ValueError(f"e_min_gev must be >= 0, got {self.e_min_gev!r}")

    # hooks
    def _born_h(self, s_prime: Array, cos_h: Array, ctx: dict[str, Any]) -> Array:
        raise NotImplementedError

    def _pole_sample(self, u: Array, c_lo: float, c_hi: float) -> Array:
        raise NotImplementedError

    def _pole_density(self, c: Array, c_lo: float, c_hi: float) -> Array:
        raise NotImplementedError

    def _band(self, frame: Array) -> tuple[float, float]:
        if self.frame == "cm":
            return float(np.cos(np.radians(self.theta_max_deg))), float(
                np.cos(np.radians(self.theta_min_deg))
            )
        bands = photon_cm_bands([(self.theta_min_deg, self.theta_max_deg)], frame)
        return bands[0][0], min(bands[-1][1], float(np.cos(np.radians(0.5))))

    def _accepted(self, p_f: Array, frame: Array) -> NDArray[np.bool_]:
        d = p_f[:, 1:] / np.linalg.norm(p_f[:, 1:], axis=1)[:, None]
        cos = _lab_cos_theta(d, frame) if self.frame == "lab" else d[:, 2]
        lo, hi = np.cos(np.radians(self.theta_max_deg)), np.cos(np.radians(self.theta_min_deg))
        return (cos >= lo) & (cos <= hi) & (p_f[:, 0] >= self.e_min_gev)

    def _chunk(self, n: int, rng: np.random.Generator, ctx: dict[str, Any]):
        s, sqrt_s, frame = ctx["s"], ctx["sqrt_s"], ctx["frame"]
        c_lo, c_hi = ctx["band"]
        if self.radiation == "isr":
            xs = isr_sf.sample_x(
                n, rng, s, x_max=1.0 - 1e-4, order=self.isr_order, pole=0.0, pole_fraction=0.3
            )
            cos_k, sin_k, phi_k = isr_sf.sample_photon_direction(
                n, rng, s, angular=self.isr_angular
            )
            x, w = xs.x, xs.weight
        else:
            x, w = np.zeros(n), np.ones(n)
            cos_k, sin_k, phi_k = np.ones(n), np.zeros(n), np.zeros(n)
        soft = x < isr_sf.X_SOFT
        x_kin = np.where(soft, 0.0, x)
        k0 = 0.5 * sqrt_s * x_kin
        k = np.concatenate([k0[:, None], k0[:, None] * _unit_vectors(cos_k, sin_k, phi_k)], 1)
        beta_h = -k[:, 1:] / (sqrt_s - k0)[:, None]
        # polar range in the hard frame that covers the acceptance band of frame F
        if self.radiation == "born" or self.isr_angular == "collinear":
            # boost along z: exact image of the band, intersected with the image of the
            # band for the partner (at -cos_h)
            bz = beta_h[:, 2]
            f_lo, f_hi = (c_lo - bz) / (1.0 - bz * c_lo), (c_hi - bz) / (1.0 - bz * c_hi)
            lo_h, hi_h = np.maximum(f_lo, -f_hi), np.minimum(f_hi, -f_lo)
            empty = hi_h <= lo_h
            lo_h, hi_h = np.where(empty, -0.5, lo_h), np.where(empty, 0.5, hi_h)
        else:
            # widen the band by the largest aberration of |beta_h| (floor 0.5 deg: a pair with
            # one particle closer to the beam cannot have both particles accepted)
            delta = max_aberration(np.linalg.norm(beta_h, axis=1))
            floor = np.radians(0.5)
            th_lo = np.maximum(np.arccos(c_hi) - delta, floor)
            th_hi = np.minimum(np.arccos(c_lo) + delta, np.pi - floor)
            lo_h, hi_h = np.cos(th_hi), np.cos(th_lo)
            empty = np.zeros(n, bool)
        u = rng.random(n)
        pole = rng.random(n) < self.pole_fraction
        c = np.where(pole, self._pole_sample(u, lo_h, hi_h), lo_h + (hi_h - lo_h) * u)
        g = (self.pole_fraction * self._pole_density(c, lo_h, hi_h)
             + (1.0 - self.pole_fraction) / (hi_h - lo_h))  # fmt: skip
        sn = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        n_h = _unit_vectors(c, sn, 2.0 * np.pi * rng.random(n))
        s_kin = s * (1.0 - x_kin)
        e_h = 0.5 * np.sqrt(s_kin)
        pa = _boost_rows(e_h[:, None] * np.concatenate([np.ones((n, 1)), n_h], 1), beta_h)
        pb = -pa - k
        pb[:, 0] += sqrt_s
        s_prime = s * (1.0 - x)
        dsig = self._born_h(s_prime, c, ctx)  # d sigma / d cos_h
        weight = np.where(empty, 0.0, w * dsig / g * (0.5 if self.identical else 1.0))
        ok = self._accepted(pa, frame) & self._accepted(pb, frame)
        k[soft] = 0.0
        return pa, pb, k, np.where(ok, weight, 0.0)

    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """Exactly ``n_events`` weighted events inside the acceptance (and ``keep``);
        ``meta["n_tried"]`` is the number of tries that took."""
        n = self.check_n_events(n_events)
        frame = cm_to_lab_matrix(collider)
        s = collider.sqrt_s**2
        ctx: dict[str, Any] = {"s": s, "sqrt_s": float(np.sqrt(s)), "frame": frame}
        ctx["band"] = self._band(frame)
        self._prepare(ctx)

        def make_chunk(m: int) -> tuple[EventBatch, NDArray[np.int64]]:
            pa, pb, k, w = self._chunk(m, rng, ctx)
            idx = np.flatnonzero(w != 0)
            pa, pb, k, w = pa[idx], pb[idx], k[idx], w[idx]
            if self.identical:  # random labelling of identical particles
                swap = rng.random(len(w)) < 0.5
                pa, pb = np.where(swap[:, None], pb, pa), np.where(swap[:, None], pa, pb)
            truth = {
                "sqrt_s_prime": np.sqrt(np.maximum(_mdot(pa + pb, pa + pb), 0.0)),
                "photon_e_cm": k[:, 0],
            }
            objects = _pair_objects(pa, pb, k, k[:, 0] > 0, frame, (self.pdg_a, self.pdg_b))
            batch = EventBatch(objects, w, self.name, truth)
            if self.keep is not None:
                mask = np.asarray(self.keep(batch), bool)
                batch, idx = batch.select(mask), idx[mask]
            return batch, idx

        batch, tries = _accept_exactly(n, make_chunk)
        if batch is None:
            batch, _ = make_chunk(0)
        meta = {
            "process": self.name,
            "generator": f"darkscan.qed.{type(self).__name__}",
            "radiation": self.radiation,
            "collider": collider.name,
            "sqrt_s": float(np.sqrt(s)),
            "n_tried": tries,
            "acceptance_deg": (self.theta_min_deg, self.theta_max_deg, self.frame),
        }
        return EventBatch(batch.particles, batch.weight, batch.process, batch.truth, meta)

    def _prepare(self, ctx: dict[str, Any]) -> None:
        """Per-call setup (tables)."""


@dataclass
class GammaGammaGamma(_TwoBodyInAcceptance):
    """e+e- -> gamma gamma (gamma) (registered as ``ee-gammagamma``): Born
    d sigma / d Omega = (alpha^2 / s)(1 + c^2)/(1 - c^2) (massless electrons; identical
    photons: weight 1/2 with both labellings generated) times structure-function ISR; both
    photons inside the acceptance. No vacuum polarisation at this order."""

    name: ClassVar[str] = "ee-gammagamma"
    description: ClassVar[str] = "e+e- -> gamma gamma (gamma): Born + structure-function ISR"
    pdg_a: ClassVar[int] = 22
    pdg_b: ClassVar[int] = 22
    identical: ClassVar[bool] = True

    def _born_h(self, s_prime: Array, cos_h: Array, ctx: dict[str, Any]) -> Array:
        c2 = cos_h * cos_h
        return 2.0 * np.pi * ALPHA_EM**2 / s_prime * (1.0 + c2) / (1.0 - c2) * GEV2_TO_FB

    def _pole_sample(self, u: Array, c_lo: float, c_hi: float) -> Array:
        a, b = np.arctanh(c_lo), np.arctanh(c_hi)
        return np.tanh(a + (b - a) * u)

    def _pole_density(self, c: Array, c_lo: float, c_hi: float) -> Array:
        return 1.0 / ((np.arctanh(c_hi) - np.arctanh(c_lo)) * (1.0 - c * c))

    def born_sigma_fb(self, collider: Collider) -> float:
        """Born cross section [fb] in a symmetric CM acceptance (closed form)."""
        if self.frame != "cm" or not np.isclose(self.theta_min_deg + self.theta_max_deg, 180.0):
            raise ValueError("the closed form needs a symmetric CM acceptance")
        return born_gammagamma_sigma(collider.sqrt_s**2, np.cos(np.radians(self.theta_min_deg)))


@dataclass
class Bhabha(_TwoBodyInAcceptance):
    """e+e- -> e+e- (gamma) (registered as ``ee-bhabha``): Born (s and t channel, massless,
    :func:`bhabha_dsigma_dcos`) with vacuum polarisation at q^2 = s' and t, times
    structure-function ISR; e- and e+ inside the acceptance; the e- direction is drawn with
    importance sampling ~ 1 / (1 - cos)^2 (the t-channel pole). FSR and initial-final
    interference are not included."""

    name: ClassVar[str] = "ee-bhabha"
    description: ClassVar[str] = "e+e- -> e+e- (gamma): Born (s+t, VP) + structure-function ISR"
    pdg_a: ClassVar[int] = 11
    pdg_b: ClassVar[int] = -11

    vacuum_polarization: bool = True

    def _prepare(self, ctx: dict[str, Any]) -> None:
        if self.vacuum_polarization:
            e, zs2, re_zs, lt, zt = _vp_complex_tables(round(ctx["sqrt_s"], 6))
            de, dlt = e[1] - e[0], lt[1] - lt[0]
            ctx["vp"] = (
                _UniformTable(e[0], de, zs2),
                _UniformTable(e[0], de, re_zs),
                _UniformTable(lt[0], dlt, zt),
            )

    def _born_h(self, s_prime: Array, cos_h: Array, ctx: dict[str, Any]) -> Array:
        s = s_prime
        t = -0.5 * s * (1.0 - cos_h)
        u = -0.5 * s * (1.0 + cos_h)
        if self.vacuum_polarization:
            abs2_tab, re_tab, t_tab = ctx["vp"]
            rs = np.sqrt(s)
            zs_abs2 = abs2_tab(rs)
            zs_re = re_tab(rs)
            zt = t_tab(np.log(-t))
        else:
            zs_abs2 = zs_re = zt = 1.0
        val = (
            (s * s + u * u) / (t * t) * zt * zt
            + (t * t + u * u) / (s * s) * zs_abs2
            + 2.0 * u * u / (s * t) * zs_re * zt
        )
        return np.pi * ALPHA_EM**2 / s * val * GEV2_TO_FB  # d sigma / d cos

    def _pole_sample(self, u: Array, c_lo: float, c_hi: float) -> Array:
        a, b = 1.0 / (1.0 - c_lo), 1.0 / (1.0 - c_hi)
        return 1.0 - 1.0 / (a + (b - a) * u)

    def _pole_density(self, c: Array, c_lo: float, c_hi: float) -> Array:
        return 1.0 / ((1.0 / (1.0 - c_hi) - 1.0 / (1.0 - c_lo)) * (1.0 - c) ** 2)

    def born_sigma_fb(self, collider: Collider) -> float:
        """Born cross section [fb] (no VP) in the CM acceptance (closed form)."""
        if self.frame != "cm":
            raise ValueError("the closed form needs a CM acceptance")
        lo, hi = np.cos(np.radians(self.theta_max_deg)), np.cos(np.radians(self.theta_min_deg))
        return bhabha_sigma(collider.sqrt_s**2, lo, hi)
