"""Dark Higgs h' of a spontaneously broken dark U(1), with its dark photon A'.

Lagrangian (dark Higgs field S of dark charge 1, gauge coupling g_D, <S> = v_D / sqrt(2))::

    L = |D_mu S|^2 - V(S) - 1/4 F'^2 + eps e J_em . A',   D_mu = d_mu - i g_D A'_mu,
    S = (v_D + h') / sqrt(2)   =>   1/2 m_A'^2 A'^2 (1 + h'/v_D)^2,   m_A' = g_D v_D,

so the h'A'A' vertex is i 2 g_D m_A' g^{mu nu} and alpha_D = g_D^2 / (4 pi). Optionally h' mixes
with the SM Higgs by a small angle theta and then couples to SM particles like the dark scalar
of :mod:`darkscan.models.dark_scalar` (whose widths are reused unchanged).

Parameters (all broadcast together, like every coupling of a darkscan model)
----------------------------------------------------------------------------
* ``mass`` = m_h' [GeV];
* ``eps``: kinetic mixing; ``alpha_d``: g_D^2 / (4 pi); ``theta``: Higgs mixing (default 0);
* ``m_aprime`` [GeV]: the dark-photon mass. It is a *broadcast mass parameter* passed like a
  coupling (``Coupling("m_aprime", ..., "GeV")``), so that one call evaluates a whole
  (m_A', m_h') plane, as the Belle II dark-Higgsstrahlung search scans it. It must be > 0 for
  the widths (the h' -> A'A' rate grows as 1 / m_A'^2 at fixed alpha_D).

Decays (x = m_A'^2 / m_h'^2)
----------------------------
``A'A'`` (m_h' >= 2 m_A'): the analogue of H -> ZZ with g_HZZ -> 2 g_D m_A'::

    Gamma = alpha_D m_h'^3 / (8 m_A'^2) sqrt(1 - 4x) (1 - 4x + 12 x^2).

``A'A'*`` (m_A' < m_h' < 2 m_A'): h' -> A' A'* -> A' + SM, the virtual A'* of mass mu going to
e+e-, mu+mu-, tau+tau- and hadrons (eps^2 alpha_D suppressed)::

    Gamma = (2 alpha eps^2 / (3 pi)) int_0^(m_h' - m_A') dmu mu^3 Gamma_2(mu) R_vis(mu)
            / ((mu^2 - m_A'^2)^2 + m_A'^2 Gamma_A'^2),
    Gamma_2(mu) = (g_V^2 / (8 pi m_h'^2)) p [2 + (m_h'^2 - m_A'^2 - mu^2)^2 / (4 m_A'^2 mu^2)],

with g_V = 2 g_D m_A', p the two-body momentum of h' -> A'(m_A') V(mu) and R_vis(mu) =
Gamma(A'(mu) -> SM) / (alpha eps^2 mu / 3) = sum_l (1 + 2 r_l) beta_l + R_hadrons(mu)
(:mod:`darkscan.physics.r_ratio`). The factor 2 for either A' being off shell cancels the 1/2 of
identical bosons. For massless fermions and Gamma_A' -> 0 the integral is the Keung-Marciano
function: Gamma = alpha alpha_D eps^2 m_h' R_KM(x) R_vis / (12 pi) (tested). The split between
``A'A'`` and ``A'A'*`` at m_h' = 2 m_A' is the narrow-width prescription; it differs from a
doubly-off-shell calculation only within ~Gamma_A' of the threshold.

Mixing channels (theta > 0): those of :class:`~darkscan.models.dark_scalar.DarkScalar`
(``e+e-``, ``mu+mu-``, ``tau+tau-``, ``gamma gamma``, ``pi+pi-``, ...), at any m_h'.

m_h' < m_A' with theta = 0: the only decay is h' -> A'* A'* -> 4 SM (eps^4 alpha_D, neglected),
so h' is stable: total width 0, c tau = inf and, by the base convention, branching fractions 0
in every channel. This is the "invisible h'" of the Belle II search (PRL 130, 071804 (2023)).

Production: dark Higgsstrahlung e+e- -> A'* -> A' h'
----------------------------------------------------
z = cos(theta*) of the A' in the e+e- centre-of-mass frame, r_A = m_A'^2 / s,
lambda = lambda(1, m_A'^2 / s, m_h'^2 / s). The spin-averaged |M|^2 =
16 pi^2 alpha alpha_D eps^2 s (4 m_A'^2 + 2 p^2 sin^2 theta) / (s - m_A'^2)^2 gives::

    d sigma / dz = (pi alpha alpha_D eps^2 / (3 s)) lambda^(1/2) / (1 - r_A)^2
                   [6 r_A + (3/4) lambda (1 - z^2)],
    sigma        = (pi alpha alpha_D eps^2 / (3 s)) lambda^(1/2) (lambda + 12 r_A) / (1 - r_A)^2

(Batell, Pospelov, Ritz, PRD 79, 115008 (2009)). It is exactly 0 for sqrt(s) <= m_A' + m_h'
(:meth:`DarkHiggs.kinematic_limit`). At sqrt(s) = 10.58 GeV, m_A' = 4 GeV, m_h' = 1 GeV:
sigma / (eps^2 alpha_D) = 7.43e7 fb, so the Belle II cross-section limit of 1.7 fb corresponds
to eps^2 alpha_D ~ 2.3e-8 (published: 1.7e-8 at best, with BR(A' -> mu mu) and efficiency
folded in).

Numerics of the off-shell integrals (shared with :mod:`darkscan.models.inelastic_dm`)
-----------------------------------------------------------------------------------
:func:`offshell_dark_photon_integral` integrates kernel(mu) R_c(mu) / |D_A'(s)|^2 over
s = mu^2 on a fixed number of nodes per point (~570), without Python loops over points: geometric
node series around the A' pole (from 10^-3 of max(pole width, distance of the pole from the
range)) and towards the upper end point, a covering of the range dense at its end point, and
nodes at the narrow vector mesons. On each panel the Breit-Wigner factor is integrated
exactly, the spectral function R_c through its exact panel average (R_c is tabulated once on a
fine global grid, refined above thresholds and across omega, phi, J/psi, psi(2S), Upsilon(nS),
so that their peaks are integrated exactly) and the smooth kernel by the trapezoidal rule.
Checks (tests): the Keung-Marciano closed form to 3e-5, the narrow-width limit to 1e-5 and an
adaptive quadrature with the full R (J/psi included) to 1e-4. The propagator uses the constant
width Gamma_A'(m_A'); this is inaccurate only when m_A' lies within a narrow meson's width
and Gamma_A' exceeds it (A'-meson mixing then needs a coupled-channel treatment).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from particle import Particle

from darkscan.models.base import Array, Coupling, Model, Production
from darkscan.models.dark_photon import DarkPhoton
from darkscan.models.dark_scalar import DarkScalar
from darkscan.physics.constants import (
    ALPHA_EM,
    M_ELECTRON,
    M_K_CHARGED,
    M_K_ZERO,
    M_MUON,
    M_PI_CHARGED,
    M_TAU,
)
from darkscan.physics.kinematics import kallen, safe_divide

# ============================================================================ spectral functions
#: Final states of a (virtual) dark photon, the "spectral channels" of the off-shell integrals.
SPECTRAL_CHANNELS: tuple[str, ...] = ("e+e-", "mu+mu-", "tau+tau-", "hadrons")
_VISIBLE_DARK_PHOTON = DarkPhoton()
#: Upper end [GeV] of the tabulated spectral functions; R is held constant above.
R_TABLE_MAX = 40.0


def dark_photon_r(channel: str, mu: ArrayLike) -> Array:
    """R_c(mu) = Gamma(A'(mu) -> c) / (alpha eps^2 mu / 3) for a dark photon of mass mu [GeV].

    ``channel``: one of :data:`SPECTRAL_CHANNELS`, ``"visible"`` (their sum) or ``"unit"``
    (R = 1: one massless unit-charge fermion, for validation). The widths are those of the
    visible :class:`~darkscan.models.dark_photon.DarkPhoton`: (1 + 2 r_l) beta_l for leptons,
    R(mu) of :mod:`darkscan.physics.r_ratio` for hadrons.
    """
    mu = np.asarray(mu, dtype=float)
    if channel == "unit":
        return np.ones_like(mu)
    valid = (*SPECTRAL_CHANNELS, "visible", "unit")
    if channel not in valid:
        raise ValueError(f"unknown spectral channel '{channel}'; valid: {list(valid)}")
    widths = _VISIBLE_DARK_PHOTON.partial_widths(mu, eps=1.0)
    chosen = SPECTRAL_CHANNELS if channel == "visible" else (channel,)
    return safe_divide(sum(widths[ch] for ch in chosen), ALPHA_EM * mu / 3.0)


def _table_grid() -> Array:
    """Global mu grid [GeV]: log-spaced, refined above thresholds and around narrow mesons."""
    parts = [np.array([0.0]), np.geomspace(5e-4, R_TABLE_MAX, 40000)]
    thresholds = 2.0 * np.array([M_ELECTRON, M_MUON, M_PI_CHARGED, M_K_CHARGED, M_K_ZERO, M_TAU])
    parts.append(
        (
            thresholds[:, None] * (1.0 + np.concatenate([[0.0], np.geomspace(1e-10, 3e-2, 50)]))
        ).ravel()
    )
    # omega, phi, J/psi, psi(2S), psi(3770), Upsilon(1S, 2S, 3S, 4S): Breit-Wigner-mapped points.
    phase = np.linspace(-np.arctan(400.0), np.arctan(400.0), 801)
    for pdgid in (223, 333, 443, 100443, 30443, 553, 100553, 200553, 300553):
        p = Particle.from_pdgid(pdgid)
        mass, width = float(p.mass) / 1e3, float(p.width) / 1e3
        parts.append(mass + 0.5 * width * np.tan(phase))
    grid = np.unique(np.concatenate(parts))
    grid = grid[(grid >= 0.0) & (grid <= R_TABLE_MAX)]
    return np.append(grid, 1e6)  # flat continuation far above the table


@functools.cache
def _spectral_table(channel: str) -> tuple[Array, Array, Array]:
    """(grid, R_c at the grid, cumulative trapezoid integral of R_c) for a spectral channel."""
    grid = _table_grid()
    r = dark_photon_r(channel, grid)
    r[-1] = r[-2]  # constant above R_TABLE_MAX
    c0 = np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(grid))])
    return grid, r, c0


def _spectral_panel_integrals(channel: str, mu: Array, dmu: Array) -> Array:
    """int R_c(mu) dmu over the panels between consecutive nodes ``mu`` (sorted along the last
    axis; ``dmu`` = their differences computed without cancellation), R_c linear between the
    nodes of the global table. Panels shorter than 1e-7 mu use the mean of the end values."""
    if channel == "unit":
        return dmu
    grid, r, c0 = _spectral_table(channel)
    k = np.clip(np.searchsorted(grid, mu, side="right") - 1, 0, grid.size - 2)
    x = mu - grid[k]
    slope = (r[k + 1] - r[k]) / (grid[k + 1] - grid[k])
    r_node = r[k] + slope * x
    cumulative = c0[k] + x * (r[k] + 0.5 * slope * x)
    long_panel = cumulative[..., 1:] - cumulative[..., :-1]
    short_panel = 0.5 * (r_node[..., 1:] + r_node[..., :-1]) * dmu
    return np.where(dmu > 1e-7 * mu[..., 1:], long_panel, short_panel)


# ============================================================================ off-shell integral
#: Nodes per point: geometric series on each side of the pole and towards the upper end
#: point, a covering of the whole range dense at the end point (sqrt threshold there) and
#: nodes around the narrow vector mesons of R.
_N_POLE = 160
_N_END = 48
_N_COVER = 160
_T_POLE = np.linspace(0.0, 1.0, _N_POLE)
_T_POLE_HALF = _T_POLE + 0.5 / (_N_POLE - 1)
_T_END = np.linspace(0.0, 1.0, _N_END)
_T_COVER = 1.0 - np.square(1.0 - np.linspace(0.0, 1.0, _N_COVER))


@functools.cache
def _narrow_nodes() -> Array:
    """mu nodes [GeV] at and around the narrow vector mesons (M, M +- 3 Gamma, M +- 30 Gamma)."""
    out = []
    for pdgid in (223, 333, 443, 100443, 553, 100553, 200553):
        p = Particle.from_pdgid(pdgid)
        mass, width = float(p.mass) / 1e3, float(p.width) / 1e3
        out.append(mass + width * np.array([-30.0, -3.0, 0.0, 3.0, 30.0]))
    return np.concatenate(out)


def _breit_wigner_panel(u_a: Array, u_b: Array, du: Array, g: Array) -> Array:
    """int_{u_a}^{u_b} du / (u^2 + g^2) for u_a <= u_b (``du`` = u_b - u_a), g >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        arc = np.arctan2(g * du, g * g + u_a * u_b) / g
        no_width = du / (u_a * u_b)
    out = np.where(g > 0, arc, no_width)
    return np.where(du > 0, out, 0.0)


def offshell_dark_photon_integral(
    kernel: Callable[[Array], Array],
    mu_max: ArrayLike,
    m_pole: ArrayLike,
    width_pole: ArrayLike,
    channels: tuple[str, ...],
) -> dict[str, Array]:
    """I_c = int_0^(mu_max^2) ds kernel(mu) R_c(mu) / ((s - m^2)^2 + m^2 Gamma^2), s = mu^2.

    ``kernel`` maps the node array mu (shape ``S + (N,)``, S the broadcast shape of the other
    arguments) to kernel values of the same shape; it must be smooth in s on the scale of the
    panels (it is interpolated linearly). ``m_pole`` > 0 and ``width_pole`` >= 0 are the A'
    mass and total width [GeV]; R_c is :func:`dark_photon_r`. 0 where ``mu_max`` <= 0.

    On each panel between consecutive nodes the Breit-Wigner factor is integrated exactly, R_c
    enters through its exact panel average and the kernel through the mean of its end-point
    values, so that a pole (however narrow) or a narrow meson inside the range costs no accuracy.
    A pole inside the range with zero width gives inf unless R_c vanishes at the pole.
    """
    mu_max, m, gam = np.broadcast_arrays(
        np.asarray(mu_max, float), np.asarray(m_pole, float), np.asarray(width_pole, float)
    )
    mu_max = np.maximum(mu_max, 0.0)[..., None]
    m = m[..., None]
    gam = gam[..., None]
    # Nodes as offsets w = mu - m from the pole (so that widths far below 1e-16 m are resolved).
    w_lo, w_hi = -m, mu_max - m
    dist = np.maximum(-w_hi, 0.0)  # the pole lies above the range by this much (else 0)
    scale = np.maximum(np.maximum(dist, 0.5 * gam), 1e-14 * m)
    w0 = 1e-3 * scale
    span = np.maximum(m, np.abs(w_hi))
    pole = w0 * (span / w0) ** _T_POLE
    # Second series: the other side of a pole inside the range, else interleaved on the near side.
    other = np.where(dist > 0, -w0 * (span / w0) ** _T_POLE_HALF, pole)
    length = np.maximum(mu_max, 1e-300)
    d0 = 1e-8 * length
    ends = w_hi - d0 * (length / d0) ** _T_END
    cover = w_lo + mu_max * _T_COVER
    narrow = _narrow_nodes() - m
    w = np.concatenate([-pole, other, np.zeros_like(w_lo), ends, cover, narrow], axis=-1)
    w = np.sort(np.clip(w, w_lo, w_hi), axis=-1)
    mu = np.minimum(np.clip(m + w, 0.0, None), mu_max)
    k = kernel(mu)
    k_avg = 0.5 * (k[..., 1:] + k[..., :-1])
    w_a, w_b = w[..., :-1], w[..., 1:]
    dmu = w_b - w_a
    # s - m^2 = w (2m + w) and its panel difference, free of cancellation near the pole.
    u_a, u_b = w_a * (2.0 * m + w_a), w_b * (2.0 * m + w_b)
    bw = _breit_wigner_panel(u_a, u_b, dmu * (2.0 * m + w_a + w_b), m * gam)
    weight = k_avg * safe_divide(bw, dmu)
    out = {}
    for ch in channels:
        spectral = _spectral_panel_integrals(ch, mu, dmu)
        # A panel without spectral weight contributes nothing, even at a zero-width pole.
        with np.errstate(invalid="ignore"):
            out[ch] = np.sum(np.where(spectral > 0, weight * spectral, 0.0), axis=-1)
    return out


# ============================================================================ h' widths
def width_hprime_to_aprimes(m_h: ArrayLike, m_a: ArrayLike, alpha_d: ArrayLike) -> Array:
    """Gamma(h' -> A'A') [GeV] = alpha_D m_h^3 / (8 m_A^2) sqrt(1 - 4x)(1 - 4x + 12x^2),
    x = m_A^2 / m_h^2; exactly 0 for m_h <= 2 m_A."""
    m_h = np.asarray(m_h, dtype=float)
    m_a = np.asarray(m_a, dtype=float)
    x = safe_divide(np.square(m_a), np.square(m_h), fill=np.inf)
    is_open = x < 0.25
    xs = np.where(is_open, x, 0.0)
    m_a2 = np.where(is_open, np.square(m_a), 1.0)
    value = (
        np.asarray(alpha_d)
        * m_h**3
        / (8.0 * m_a2)
        * np.sqrt(1.0 - 4.0 * xs)
        * (1.0 - 4.0 * xs + 12.0 * xs * xs)
    )
    return np.where(is_open, value, 0.0)


def _two_body_vector_kernel(m_h: Array, m_a: Array, alpha_d: Array) -> Callable[[Array], Array]:
    """mu -> mu^2 Gamma_2(h' -> A'(m_a) V(mu)) without the identical-particle 1/2 [GeV^3]."""
    m_h = m_h[..., None]
    m_a = m_a[..., None]
    alpha_d = alpha_d[..., None]

    def kernel(mu: Array) -> Array:
        mu2 = mu * mu
        lam = np.clip(kallen(m_h**2, m_a**2, mu2), 0.0, None)
        p = np.sqrt(lam) / (2.0 * m_h)
        # g_V^2 / (8 pi) = 2 alpha_D m_A^2; the longitudinal term's 1/mu^2 cancels mu^2.
        longitudinal = np.square(m_h**2 - m_a**2 - mu2) / (4.0 * m_a**2)
        return 2.0 * alpha_d * m_a**2 / m_h**2 * p * (2.0 * mu2 + longitudinal)

    return kernel


def dark_photon_visible_width(m_a: ArrayLike, eps: ArrayLike) -> Array:
    """Gamma(A' -> SM) [GeV] = (alpha eps^2 m_A / 3) R_vis(m_A): the visible dark photon's width."""
    return _VISIBLE_DARK_PHOTON.total_width(m_a, eps=eps)


def width_hprime_to_aprime_offshell(
    m_h: ArrayLike,
    m_a: ArrayLike,
    alpha_d: ArrayLike,
    eps: ArrayLike,
    *,
    mu_max: ArrayLike | None = None,
    spectral: str = "visible",
) -> Array:
    """Gamma(h' -> A' A'* -> A' + SM) [GeV], the A'* integral of the module docstring.

    By default the virtual mass runs up to m_h - m_A and the width is 0 unless
    m_A < m_h < 2 m_A. ``mu_max`` overrides the upper limit (it may then include the A' pole:
    the narrow-width check) and ``spectral`` the A'* final states (a :func:`dark_photon_r`
    channel); both are for validation.
    """
    m_h, m_a, alpha_d, eps = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (m_h, m_a, alpha_d, eps))
    )
    if mu_max is None:
        is_open = (m_h > m_a) & (m_h < 2.0 * m_a)
        upper = np.where(is_open, m_h - m_a, 0.0)
    else:
        upper = np.minimum(np.asarray(mu_max, dtype=float), np.maximum(m_h - m_a, 0.0))
    gamma_a = dark_photon_visible_width(m_a, eps)
    # Where the range is empty the kernel is never weighted: keep it finite (m_h = 0 allowed).
    kernel = _two_body_vector_kernel(np.where(upper > 0, m_h, 1.5 * m_a), m_a, alpha_d)
    integral = offshell_dark_photon_integral(kernel, upper, m_a, gamma_a, (spectral,))[spectral]
    return ALPHA_EM * np.square(eps) / (3.0 * np.pi) * integral


def keung_marciano(x: ArrayLike) -> Array:
    """Keung-Marciano R(x) of H -> V V* -> V f fbar (massless f), x = m_V^2 / m_H^2 in (1/4, 1)."""
    x = np.asarray(x, dtype=float)
    return (
        3.0
        * (1.0 - 8.0 * x + 20.0 * x**2)
        / np.sqrt(4.0 * x - 1.0)
        * np.arccos((3.0 * x - 1.0) / (2.0 * x**1.5))
        - (1.0 - x) / (2.0 * x) * (2.0 - 13.0 * x + 47.0 * x**2)
        - 1.5 * (1.0 - 6.0 * x + 4.0 * x**2) * np.log(x)
    )


# ============================================================================ the model
_MIXING = DarkScalar()


@dataclass(frozen=True)
class DarkHiggs(Model):
    """Dark Higgs h' (mass = m_h') with dark photon A' of broadcast mass ``m_aprime``."""

    name: ClassVar[str] = "dark-higgs"
    mediator: ClassVar[str] = "h'"
    summary: ClassVar[str] = (
        "dark Higgs of a broken U(1)_D: h'A'A' vertex 2 g_D m_A', A' kinetic mixing eps, "
        "optional Higgs mixing theta; e+e- -> A' h' (dark Higgsstrahlung)"
    )
    couplings: ClassVar[tuple[Coupling, ...]] = (
        Coupling("eps", "kinetic mixing of the dark photon with the photon", "1"),
        Coupling("alpha_d", "dark gauge coupling g_D^2 / (4 pi)", "1"),
        Coupling("m_aprime", "dark photon mass m_A' (broadcast mass parameter)", "GeV"),
        Coupling("theta", "mixing angle of h' with the SM Higgs", "1", default=0.0),
    )
    channels: ClassVar[tuple[str, ...]] = ("A'A'", "A'A'*", *DarkScalar.channels)
    productions: ClassVar[tuple[Production, ...]] = (
        Production("e+e- -> A' h'", "dark Higgsstrahlung through an s-channel A'*"),
    )

    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        m_a = c["m_aprime"]
        if np.any(m_a <= 0):
            raise ValueError("m_aprime must be > 0 for the dark Higgs widths")
        widths = {
            "A'A'": width_hprime_to_aprimes(mass, m_a, c["alpha_d"]),
            "A'A'*": width_hprime_to_aprime_offshell(mass, m_a, c["alpha_d"], c["eps"]),
        }
        widths.update(_MIXING.partial_widths(mass, theta=c["theta"]))
        return widths

    # -- e+e- -> A' h'
    def kinematic_limit(self, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Threshold sqrt(s) = m_A' + m_h' [GeV] of e+e- -> A' h'."""
        m, c = self._prepare(mass, couplings)
        return m + c["m_aprime"]

    def _higgsstrahlung(self, s: Array, mass: Array, c: dict[str, Array]):
        """(prefactor [GeV^-2] with lambda^(1/2)/(1 - r_A)^2, lambda, r_A); 0 when closed."""
        r_a = np.square(c["m_aprime"]) / s
        r_h = np.square(mass) / s
        is_open = np.sqrt(s) > mass + c["m_aprime"]
        lam = np.where(is_open, kallen(1.0, r_a, r_h), 0.0)
        lam = np.clip(lam, 0.0, None)
        one_minus = np.where(is_open, 1.0 - r_a, 1.0)
        pref = (
            np.pi
            * ALPHA_EM
            * c["alpha_d"]
            * np.square(c["eps"])
            / (3.0 * s)
            * np.sqrt(lam)
            / np.square(one_minus)
        )
        return np.where(is_open, pref, 0.0), lam, r_a

    def _dsigma_dz(self, process, s, mass, c, z):
        pref, lam, r_a = self._higgsstrahlung(s, mass, c)
        return pref * (6.0 * r_a + 0.75 * lam * (1.0 - z * z))

    def _sigma_z_range(self, process, s, mass, c, z_lo, z_hi):
        pref, lam, r_a = self._higgsstrahlung(s, mass, c)
        dz = z_hi - z_lo
        return pref * (6.0 * r_a * dz + 0.75 * lam * (dz - (z_hi**3 - z_lo**3) / 3.0))

    def _kinematic_limit(self, process: str, mass: Array, c: dict[str, Array]) -> Array:
        return mass + c["m_aprime"]


__all__ = [
    "R_TABLE_MAX",
    "SPECTRAL_CHANNELS",
    "DarkHiggs",
    "dark_photon_r",
    "dark_photon_visible_width",
    "keung_marciano",
    "offshell_dark_photon_integral",
    "width_hprime_to_aprime_offshell",
    "width_hprime_to_aprimes",
]
