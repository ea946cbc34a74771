"""Tau lepton decays on arrays (tau polarisation and spin correlations neglected).

Modes and branching fractions (PDG 2024, Review of Particle Physics; the K modes are lumped
into the pion modes of the same topology, see ``LUMPED``):

=========  =====================================  ==========  =========================
name       tau- final state                       PDG BR      model
=========  =====================================  ==========  =========================
e          e- nubar_e nu_tau                      17.82 %     V-A matrix element
mu         mu- nubar_mu nu_tau                    17.39 %     V-A matrix element
pi         pi- nu_tau  (+ K- nu 0.696 %)          10.82 %     two-body, isotropic
rho        pi- pi0 nu_tau (+ K- pi0 0.433 %)      25.49 %     rho Breit-Wigner, exact current
a1_1prong  pi- pi0 pi0 nu_tau (+ pi- 3pi0 1.04 %)  9.26 %     a1 Breit-Wigner x phase space
a1_3prong  pi- pi- pi+ nu_tau (ex. K0)             9.31 %     a1 Breit-Wigner x phase space
3pi_pi0    pi- pi- pi+ pi0 nu_tau (ex. K0)         4.62 %     phase space (V-A weight)
=========  =====================================  ==========  =========================

The listed modes (with the lumped K modes) sum to 96.88 %; the remaining 3.12 % (K0 modes,
eta modes, 5 prongs, ...) are distributed over the five hadronic modes in proportion to their
rates, so the leptonic branching fractions stay at their PDG values (:data:`BRANCHING_FRACTIONS`
holds the values used, summing to 1). The tau+ decays are the charge conjugates.

Kinematics (tau rest frame, then boosted to the tau momentum):

* leptonic: |M|^2 ~ (p_tau . p_nubar)(p_l . p_nu_tau), exact with the charged-lepton mass. It
  depends only on m_X^2 = (p_l + p_nu_tau)^2, whose density
  (m_tau^2 - m_X^2)^2 (m_X^2 - m_l^2)^2 / m_X^2 is inverted from a table; X -> l nu_tau is then
  isotropic. The charged-lepton spectrum is Michel's, x^2 (3 - 2x) for m_l -> 0 (tested).
* pi nu: p_pi = (m_tau^2 - m_pi^2) / (2 m_tau), isotropic.
* rho: d Gamma / d m^2 ~ (1 - m^2/m_tau^2)^2 (1 + 2 m^2/m_tau^2) beta^3 |BW_rho|^2 (Tsai's
  formula with a P-wave energy-dependent width), and the pion direction in the rho frame from
  the exact V-A current, ~ m_tau^2 cos^2 + m^2 sin^2 about the rho flight direction.
* a1 modes: d Gamma / d m^2 ~ (1 - m^2/m_tau^2)^2 (1 + 2 m^2/m_tau^2) |BW_a1|^2 Phi_3(m)
  (constant-width Breit-Wigner, m_a1 = 1.23 GeV, Gamma = 0.42 GeV) and flat three-pion phase
  space inside (no rho pi substructure: a documented simplification).
* 3pi_pi0: the V-A factor times the four-pion phase-space volume, flat inside.
* pi0 -> gamma gamma (isotropic) is decayed; the final particles are e, mu, pi+-, photons and
  neutrinos (pdg 12, 14, 16 with signs).

Decay vertices: the tau flies an exponential distance with mean (|p|/m) c tau before decaying
(c tau = 87.03 um); daughters carry that vertex [cm] (production at the origin).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.generators.base import Objects
from darkscan.physics.constants import (
    HBAR_GEV_S,
    HBARC_GEV_CM,
    M_ELECTRON,
    M_MUON,
    M_PI_CHARGED,
    M_PI_ZERO,
    M_TAU,
    TAU_TAU_S,
)
from darkscan.physics.lorentz import rotate_from_z

Array = NDArray[np.float64]

#: PDG 2024 branching fractions of the explicit modes, with the K modes lumped in (see doc).
PDG_BR: dict[str, float] = {
    "e": 0.1782,
    "mu": 0.1739,
    "pi": 0.1082 + 0.00696,
    "rho": 0.2549 + 0.00433,
    "a1_1prong": 0.0926 + 0.0104,
    "a1_3prong": 0.0931,
    "3pi_pi0": 0.0462,
}
#: Modes that are lumped into the explicit ones (PDG 2024 BR): K- nu -> pi, K- pi0 nu -> rho,
#: pi- 3pi0 nu -> a1_1prong; everything else is spread over the hadronic modes.
LUMPED: dict[str, float] = {"K- nu": 0.00696, "K- pi0 nu": 0.00433, "pi- 3pi0 nu": 0.0104}
LEPTONIC = ("e", "mu")
HADRONIC = ("pi", "rho", "a1_1prong", "a1_3prong", "3pi_pi0")


def _normalised_brs() -> dict[str, float]:
    lep = sum(PDG_BR[m] for m in LEPTONIC)
    had = sum(PDG_BR[m] for m in HADRONIC)
    scale = (1.0 - lep) / had
    return {m: PDG_BR[m] * (scale if m in HADRONIC else 1.0) for m in PDG_BR}


#: Branching fractions used for generation (sum to 1).
BRANCHING_FRACTIONS: dict[str, float] = _normalised_brs()
MODES: tuple[str, ...] = tuple(BRANCHING_FRACTIONS)

#: Tau lifetime c tau [cm].
CTAU_CM: float = TAU_TAU_S * HBARC_GEV_CM / HBAR_GEV_S
M_RHO, G_RHO = 0.77526, 0.1491
M_A1, G_A1 = 1.230, 0.420


# ============================================================================ helpers
def _p2(m: Array | float, m1: Array | float, m2: Array | float) -> Array:
    """Two-body momentum in the rest frame of mass m (0 below threshold)."""
    m = np.asarray(m, dtype=float)
    lam = (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)
    return np.sqrt(np.clip(lam, 0.0, None)) / (2.0 * np.where(m > 0, m, 1.0))


def _boost_rows(p: Array, beta: Array) -> Array:
    """Boost four-vectors p (n, 4) by velocities beta (n, 3), |beta| < 1."""
    b2 = np.einsum("ij,ij->i", beta, beta)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.einsum("ij,ij->i", beta, p[:, 1:])
    coef = np.divide(gamma - 1.0, b2, out=np.zeros_like(b2), where=b2 > 0) * bp + gamma * p[:, 0]
    out = np.empty_like(p)
    out[:, 0] = gamma * (p[:, 0] + bp)
    np.multiply(beta, coef[:, None], out=out[:, 1:])
    out[:, 1:] += p[:, 1:]
    return out


def _isotropic_dirs(n: int, rng: np.random.Generator) -> Array:
    c = 2.0 * rng.random(n) - 1.0
    s = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
    phi = 2.0 * np.pi * rng.random(n)
    out = np.empty((n, 3))
    cp = np.cos(phi)
    out[:, 0] = cp
    out[:, 1] = np.copysign(np.sqrt(np.maximum(1.0 - cp * cp, 0.0)), np.pi - phi)
    out[:, :2] *= s[:, None]
    out[:, 2] = c
    return out


def _four(p3: Array, m: ArrayLike) -> Array:
    out = np.empty((len(p3), 4))
    out[:, 1:] = p3
    out[:, 0] = np.sqrt(np.einsum("ij,ij->i", p3, p3) + np.square(m))
    return out


def _two_body_iso(parent: Array, m1: ArrayLike, m2: ArrayLike, rng: np.random.Generator):
    """Isotropic two-body decay of ``parent`` (n, 4); daughters in the parent's frame."""
    mp = np.sqrt(np.clip(parent[:, 0] ** 2 - np.sum(parent[:, 1:] ** 2, axis=1), 0.0, None))
    p = _p2(mp, m1, m2)
    d = _isotropic_dirs(len(parent), rng) * p[:, None]
    beta = parent[:, 1:] / parent[:, :1]
    first = _boost_rows(_four(d, m1), beta)
    return first, parent - first


def sample_quadratic_cos(u: ArrayLike, a: ArrayLike, b: ArrayLike) -> Array:
    """Inverse-CDF sample of cos in [-1, 1] with density ~ a + b cos^2 (a > 0, b >= 0)."""
    u, a, b = (np.asarray(x, dtype=float) for x in (u, a, b))
    r = b / a
    small = r < 1e-9
    rr = np.where(small, 1.0, r)
    p = 3.0 / rr
    q = 3.0 / rr * ((2.0 + 2.0 * rr / 3.0) * u - 1.0 - rr / 3.0)
    disc = np.sqrt(0.25 * q * q + p**3 / 27.0)
    big_a = np.cbrt(0.5 * np.abs(q) + disc)
    root = -np.sign(q) * (big_a - p / (3.0 * big_a))
    return np.where(small, 2.0 * u - 1.0, np.clip(root, -1.0, 1.0))


def _inverse_cdf_table(density, lo: float, hi: float, n: int = 20001) -> tuple[Array, Array]:
    """(cdf, x) grid for inverse-CDF sampling of ``density`` on [lo, hi] (trapezoid)."""
    x = np.linspace(lo, hi, n)
    f = np.clip(density(x), 0.0, None)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
    return cdf / cdf[-1], x


def leptonic_mx2_density(mx2: ArrayLike, m_lepton: float) -> Array:
    """Density of m_X^2 = (p_l + p_nu_tau)^2 in tau -> l nu nu (V-A, unnormalised)."""
    z = np.asarray(mx2, dtype=float)
    mt2, ml2 = M_TAU**2, m_lepton**2
    ok = (z > ml2) & (z < mt2)
    return np.where(ok, (mt2 - z) ** 2 * (z - ml2) ** 2 / np.where(ok, z, 1.0), 0.0)


def michel_spectrum(x: ArrayLike) -> Array:
    """Massless-lepton Michel spectrum of x = 2 E_l / m_tau: 2 x^2 (3 - 2 x) on [0, 1]."""
    x = np.asarray(x, dtype=float)
    return np.where((x >= 0) & (x <= 1), 2.0 * x * x * (3.0 - 2.0 * x), 0.0)


def rho_mass2_density(m2: ArrayLike) -> Array:
    """d Gamma / d m^2 of tau -> pi pi0 nu (unnormalised): Tsai's V-A factor x beta^3 |BW|^2."""
    m2 = np.asarray(m2, dtype=float)
    mt2 = M_TAU**2
    m = np.sqrt(np.clip(m2, 1e-12, None))
    p = _p2(m, M_PI_CHARGED, M_PI_ZERO)
    p_rho = _p2(M_RHO, M_PI_CHARGED, M_PI_ZERO)
    width = G_RHO * (M_RHO / m) * (p / p_rho) ** 3
    bw2 = M_RHO**4 / ((M_RHO**2 - m2) ** 2 + (M_RHO * width) ** 2)
    lep = (1.0 - m2 / mt2) ** 2 * (1.0 + 2.0 * m2 / mt2)
    beta3 = (2.0 * p / m) ** 3
    ok = (m > M_PI_CHARGED + M_PI_ZERO) & (m2 < mt2)
    return np.where(ok, lep * beta3 * bw2, 0.0)


@functools.cache
def _phase_space_volume(masses: tuple[float, ...]) -> tuple[Array, Array]:
    """Relative n-body phase-space volume Phi_n(M) on a grid of M (recursive quadrature)."""
    m_top = M_TAU
    grid = np.linspace(sum(masses), m_top, 801)
    if len(masses) == 2:
        return grid, _p2(grid, masses[0], masses[1]) / np.where(grid > 0, grid, 1.0)
    sub_grid, sub_vol = _phase_space_volume(masses[:-1])
    out = np.zeros_like(grid)
    for i, big_m in enumerate(grid):  # 801 grid points, each a vectorised quadrature
        m_sub = np.linspace(sum(masses[:-1]), max(big_m - masses[-1], sum(masses[:-1])), 400)
        integrand = (
            _p2(big_m, m_sub, masses[-1]) / big_m * np.interp(m_sub, sub_grid, sub_vol) * 2 * m_sub
        )
        out[i] = np.trapezoid(integrand, m_sub)
    return grid, out


def hadronic_mass2_density(m2: ArrayLike, masses: tuple[float, ...], resonance: bool) -> Array:
    """d Gamma / d m^2 of tau -> nu + (n pions) in the phase-space models (unnormalised)."""
    m2 = np.asarray(m2, dtype=float)
    mt2 = M_TAU**2
    m = np.sqrt(np.clip(m2, 0.0, None))
    grid, vol = _phase_space_volume(tuple(masses))
    lep = (1.0 - m2 / mt2) ** 2 * (1.0 + 2.0 * m2 / mt2)
    bw2 = (M_A1 * G_A1) ** 2 / ((M_A1**2 - m2) ** 2 + (M_A1 * G_A1) ** 2) if resonance else 1.0
    ok = (m > sum(masses)) & (m2 < mt2)
    return np.where(ok, lep * bw2 * np.interp(m, grid, vol), 0.0)


@functools.cache
def _tables() -> dict[str, tuple[Array, Array]]:
    mt2 = M_TAU**2
    return {
        "e": _inverse_cdf_table(lambda z: leptonic_mx2_density(z, M_ELECTRON), M_ELECTRON**2, mt2),
        "mu": _inverse_cdf_table(lambda z: leptonic_mx2_density(z, M_MUON), M_MUON**2, mt2),
        "rho": _inverse_cdf_table(rho_mass2_density, (M_PI_CHARGED + M_PI_ZERO) ** 2, mt2),
        "a1_1prong": _inverse_cdf_table(
            lambda z: hadronic_mass2_density(z, _PIONS["a1_1prong"], True),
            sum(_PIONS["a1_1prong"]) ** 2,
            mt2,
        ),
        "a1_3prong": _inverse_cdf_table(
            lambda z: hadronic_mass2_density(z, _PIONS["a1_3prong"], True),
            sum(_PIONS["a1_3prong"]) ** 2,
            mt2,
        ),
        "3pi_pi0": _inverse_cdf_table(
            lambda z: hadronic_mass2_density(z, _PIONS["3pi_pi0"], False),
            sum(_PIONS["3pi_pi0"]) ** 2,
            mt2,
        ),
    }


@functools.cache
def _inverse_tables() -> dict[str, tuple[Array, Array]]:
    """x(u) on a uniform grid of 2^16 + 1 values of the CDF u (and its forward differences)."""
    u = np.linspace(0.0, 1.0, (1 << 16) + 1)
    out = {}
    for name, (cdf, x) in _tables().items():
        val = np.interp(u, cdf, x)
        out[name] = (val, np.append(np.diff(val), 0.0))
    return out


def _sample_table(name: str, u: Array) -> Array:
    """Inverse-CDF sample: linear interpolation of x(u) (direct indexing, no search)."""
    val, slope = _inverse_tables()[name]
    v = u * (val.size - 1)
    i = np.minimum(v.astype(np.intp), val.size - 2)
    return val[i] + (v - i) * slope[i]


#: tau- daughter codes of every mode, in the order the decay functions return them.
_MODE_CODES: dict[str, tuple[int, ...]] = {
    "e": (11, -12, 16),
    "mu": (13, -14, 16),
    "pi": (-211, 16),
    "rho": (-211, 111, 16),
    "a1_1prong": (-211, 111, 111, 16),
    "a1_3prong": (-211, -211, 211, 16),
    "3pi_pi0": (-211, -211, 211, 111, 16),
}
#: Pion content (masses, tau- pdg codes) of the multi-pion modes, in order.
_PIONS: dict[str, tuple[float, ...]] = {
    "a1_1prong": (M_PI_CHARGED, M_PI_ZERO, M_PI_ZERO),
    "a1_3prong": (M_PI_CHARGED, M_PI_CHARGED, M_PI_CHARGED),
    "3pi_pi0": (M_PI_CHARGED, M_PI_CHARGED, M_PI_CHARGED, M_PI_ZERO),
}
_PION_PDG: dict[str, tuple[int, ...]] = {
    "a1_1prong": (-211, 111, 111),
    "a1_3prong": (-211, -211, 211),
    "3pi_pi0": (-211, -211, 211, 111),
}


def flat_phase_space(
    total: Array, masses: tuple[float, ...], rng: np.random.Generator
) -> list[Array]:
    """Flat n-body phase space of systems ``total`` (n, 4) into ``masses`` (GENBOD with
    accept-reject on the product of two-body momenta; rounds over the remaining events)."""
    n = len(total)
    big_m = np.sqrt(np.clip(total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1), 0.0, None))
    k = len(masses)
    m = np.asarray(masses)
    excess = big_m - m.sum()
    # weight bound: product over splittings of the largest possible momentum
    w_max = np.ones(n)
    for i in range(1, k):
        w_max *= _p2(m[: i + 1].sum() + excess, m[:i].sum(), m[i])
    out = [np.zeros((n, 4)) for _ in range(k)]
    todo = np.arange(n)
    while todo.size:
        ex = excess[todo]
        u = np.sort(rng.random((todo.size, k - 2)), axis=1) if k > 2 else np.zeros((todo.size, 0))
        inter = [np.full(todo.size, m[0])]
        for i in range(1, k - 1):
            inter.append(m[: i + 1].sum() + u[:, i - 1] * ex)
        inter.append(big_m[todo])
        w = np.ones(todo.size)
        for i in range(1, k):
            w *= _p2(inter[i], inter[i - 1], m[i])
        acc = rng.random(todo.size) * w_max[todo] <= w
        idx = todo[acc]
        if idx.size:
            # build from the top: system i -> (system i-1) + particle i, isotropic
            current = total[idx]
            for i in range(k - 1, 0, -1):
                sub_m = inter[i - 1][acc]
                sub, last = _two_body_iso_masses(current, sub_m, m[i], rng)
                out[i][idx] = last
                current = sub
            out[0][idx] = current
        todo = todo[~acc]
    return out


def _two_body_iso_masses(parent: Array, m1: Array, m2: float, rng: np.random.Generator):
    return _two_body_iso(parent, m1, m2, rng)


# ============================================================================ decays
@dataclass(frozen=True)
class TauDecays:
    """Decay products of n taus: CSR :class:`Objects` (``pdg``, ``p4`` [GeV], ``vertex`` [cm])
    with one entry list per tau, and the mode index of each tau (into :data:`MODES`)."""

    products: Objects
    mode: NDArray[np.int64]

    MODES: ClassVar[tuple[str, ...]] = MODES


def _decay_rest(mode: str, n: int, rng: np.random.Generator) -> tuple[list[Array], list[int]]:
    """Daughters (list of (n, 4) in the tau- rest frame) and their tau- pdg codes."""
    mt = M_TAU
    tau = np.zeros((n, 4))
    tau[:, 0] = mt
    if mode in LEPTONIC:
        ml, pdg_l, pdg_nu = (M_ELECTRON, 11, -12) if mode == "e" else (M_MUON, 13, -14)
        mx2 = _sample_table(mode, rng.random(n))
        mx = np.sqrt(mx2)
        p_nubar = (mt * mt - mx2) / (2.0 * mt)
        d = _isotropic_dirs(n, rng)
        nubar = _four(d * p_nubar[:, None], 0.0)
        x_sys = _four(-d * p_nubar[:, None], mx)
        lep, nu_tau = _two_body_iso(x_sys, ml, 0.0, rng)
        return [lep, nubar, nu_tau], [pdg_l, pdg_nu, 16]
    if mode == "pi":
        p = float(_p2(mt, M_PI_CHARGED, 0.0))
        d = _isotropic_dirs(n, rng) * p
        return [_four(d, M_PI_CHARGED), _four(-d, 0.0)], [-211, 16]
    if mode == "rho":
        m2 = _sample_table("rho", rng.random(n))
        m = np.sqrt(m2)
        p = (mt * mt - m2) / (2.0 * mt)
        d = _isotropic_dirs(n, rng)
        rho = _four(d * p[:, None], m)
        nu = _four(-d * p[:, None], 0.0)
        # pion direction in the rho frame: a + b cos^2 about the rho flight direction
        c = sample_quadratic_cos(rng.random(n), m2, mt * mt - m2)
        s = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        phi = 2.0 * np.pi * rng.random(n)
        q = _p2(m, M_PI_CHARGED, M_PI_ZERO)
        local = np.stack([s * np.cos(phi), s * np.sin(phi), c], axis=-1) * q[:, None]
        pi_rest = _four(local, M_PI_CHARGED)
        pi0_rest = _four(-local, M_PI_ZERO)
        pi_rest = rotate_from_z(pi_rest, d)
        pi0_rest = rotate_from_z(pi0_rest, d)
        beta = rho[:, 1:] / rho[:, :1]
        pi = _boost_rows(pi_rest, beta)
        return [pi, rho - pi, nu], [-211, 111, 16]
    masses = _PIONS[mode]
    m2 = _sample_table(mode, rng.random(n))
    m = np.sqrt(m2)
    p = (mt * mt - m2) / (2.0 * mt)
    d = _isotropic_dirs(n, rng)
    system = _four(d * p[:, None], m)
    nu = _four(-d * p[:, None], 0.0)
    pions = flat_phase_space(system, masses, rng)
    return [*pions, nu], [*_PION_PDG[mode], 16]


def _decay_pi0(p4: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """pi0 -> gamma gamma, isotropic in the pi0 frame."""
    return _two_body_iso(p4, 0.0, 0.0, rng)


def decay_taus(
    p4: ArrayLike,
    charge: ArrayLike,
    rng: np.random.Generator,
    *,
    modes: tuple[str, ...] | None = None,
    production_vertex: ArrayLike | None = None,
) -> tuple[TauDecays, Array]:
    """Decay taus with four-momenta ``p4`` (n, 4) [GeV] and charges +-1.

    ``modes`` restricts the decays to a subset of :data:`MODES` (biased generation): each tau
    then decays only into them, with relative rates kept, and the returned per-tau weight
    factor is the sum of their branching fractions (1 without a restriction). Returns
    (:class:`TauDecays`, weight factor (n,)). pi0s are decayed to photons.
    """
    p4 = np.asarray(p4, dtype=float)
    charge = np.asarray(charge)
    if p4.ndim != 2 or p4.shape[1] != 4:
        raise ValueError("p4 must have shape (n, 4)")
    if charge.shape != (len(p4),) or not np.all(np.isin(charge, (-1, 1))):
        raise ValueError("charge must hold one +1 or -1 per tau")
    allowed = MODES if modes is None else tuple(modes)
    bad = [m for m in allowed if m not in MODES]
    if bad or not allowed:
        raise ValueError(f"unknown tau decay mode(s) {bad}; valid: {list(MODES)}")
    n = len(p4)
    br = np.array([BRANCHING_FRACTIONS[m] for m in allowed])
    factor = float(br.sum())
    mode_local = np.searchsorted(np.cumsum(br / factor), rng.random(n), side="right")
    mode_local = np.minimum(mode_local, len(allowed) - 1)
    mode_idx = np.array([MODES.index(m) for m in allowed])[mode_local]
    # flight and vertex
    mass = np.sqrt(np.clip(p4[:, 0] ** 2 - np.sum(p4[:, 1:] ** 2, axis=1), 0.0, None))
    flight = rng.exponential(1.0, n) * CTAU_CM / np.where(mass > 0, mass, M_TAU)
    vertex = p4[:, 1:] * flight[:, None]
    if production_vertex is not None:
        vertex = vertex + np.asarray(production_vertex, dtype=float)
    beta = p4[:, 1:] / p4[:, :1]
    # final-state multiplicity of each mode (pi0 -> 2 photons) -> direct placement, no sort
    mult = {name: sum(2 if c == 111 else 1 for c in _MODE_CODES[name]) for name in allowed}
    counts = np.array([mult[name] for name in allowed])[mode_local]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    p4_out = np.empty((total, 4))
    pdg_out = np.empty(total, np.int64)
    for li, name in enumerate(allowed):
        sel = np.flatnonzero(mode_local == li)
        if sel.size == 0:
            continue
        daughters, codes = _decay_rest(name, sel.size, rng)
        b_sel = beta[sel]
        start = offsets[sel]
        sign = charge[sel]  # tau- -> codes as listed; tau+ -> conjugates
        slot = 0
        for d, code in zip(daughters, codes, strict=True):
            lab = _boost_rows(d, b_sel)
            if code == 111:
                for g in _decay_pi0(lab, rng):
                    p4_out[start + slot] = g
                    pdg_out[start + slot] = 22
                    slot += 1
                continue
            p4_out[start + slot] = lab
            pdg_out[start + slot] = np.where(sign < 0, code, -code)
            slot += 1
    tau_idx = np.repeat(np.arange(n), counts)
    products = Objects(offsets, {"pdg": pdg_out, "p4": p4_out, "vertex": vertex[tau_idx]})
    return TauDecays(products, mode_idx.astype(np.int64)), np.full(n, factor)


__all__ = [
    "BRANCHING_FRACTIONS",
    "CTAU_CM",
    "LUMPED",
    "MODES",
    "PDG_BR",
    "TauDecays",
    "decay_taus",
    "flat_phase_space",
    "leptonic_mx2_density",
    "michel_spectrum",
    "rho_mass2_density",
    "sample_quadratic_cos",
]
