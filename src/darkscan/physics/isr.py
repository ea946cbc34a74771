"""Initial-state radiation (ISR) from the electron structure function (Kuraev-Fadin radiator).

Conventions
-----------
``x`` is the fraction of the centre-of-mass energy carried off by ISR: the hard process happens
at ``s' = s (1 - x)``. The radiated energy is emitted as **one** photon of CM energy
``x sqrt(s) / 2`` (the structure-function approach gives the total radiated four-momentum;
splitting it into several photons does not change s' and is not attempted). Units: GeV.

Radiator (E. A. Kuraev, V. S. Fadin, Sov. J. Nucl. Phys. 41 (1985) 466), with
``L = ln(s / m_e^2)`` and ``beta = (2 alpha / pi) (L - 1)`` (0.0877 at sqrt(s) = 10.58 GeV)::

    order 1:  W(x) = Delta beta x^(beta - 1) - beta (1 - x/2),   Delta = 1 + 3 beta / 4
    order 2:  W(x) = Delta beta x^(beta - 1) - beta (1 - x/2)
                     + (beta^2 / 8) [4 (2 - x) ln(1/x) - (1 + 3 (1 - x)^2) / x ln(1 - x) - 6 + x],
              Delta = 1 + 3 beta / 4 + beta^2 (9/32 - pi^2/12)

The x^(beta - 1) term resums the soft photons (with the soft + virtual factor Delta), the rest
is the hard-collinear emission. Both orders keep the leading logarithms only, so that
``int_0^1 W dx = 1`` exactly (the Gribov-Lipatov sum rule: the hard-photon term -3 beta / 4
cancels the 3 beta / 4 of Delta; at order 2 the bracket integrates to 2 pi^2 / 3 - 9/4, which
cancels beta^2 (9/32 - pi^2/12)). ``nonlog=True`` adds the non-logarithmic one-loop constant of
Kuraev-Fadin's Delta, alpha / pi (pi^2 / 3 - 1/2) = +0.65 %, to Delta (then int W = 1.0065);
the non-leading (alpha / pi)^2 terms of Delta are not included (< 1e-4).

Sampling and weights (:func:`sample_x`)
---------------------------------------
x is drawn from a mixture of (i) ``g_soft = beta x^(beta - 1) / x_max^beta`` on (0, x_max],
which absorbs the integrable singularity exactly (x = x_max u^(1/beta)), and optionally (ii) a
"pole" channel ``g_pole = 1 / (Lambda (1 - x - y0))`` for hard processes whose cross section
grows like 1 / (s' - y0 s) towards the end of the x range (radiative return towards a
threshold; ``y0 = pole``). The weight ``W(x) / g(x)`` is evaluated in a form free of 0 / 0,
so that ``E[weight f(x)] = int_0^x_max W(x) f(x) dx`` exactly for any f.

Soft photons (x_soft)
---------------------
The radiator is integrable but x reaches 1e-100 and below. Generators treat an ISR photon with
``x < x_soft`` (default :data:`X_SOFT`, a 53 keV photon at 10.58 GeV) as *soft*: the
kinematics use x = 0 (no photon stored, hard process at s) while the weight keeps the sampled
x, so the total cross section stays exact and the kinematic bias is below x_soft (a recoil mass
squared shift below x_soft s = 1.1e-3 GeV^2).

Photon direction (:func:`sample_photon_direction`)
--------------------------------------------------
``angular="eikonal"`` (default): in the CM frame, d N / d cos(theta) ~ 1 / (1 - b^2 cos^2 theta)
with b = sqrt(1 - 4 m_e^2 / s) the beam velocity: the collinear-enhanced emission off either
beam (the peaks at theta = 0 and pi are the e- and e+ emissions), whose integral reproduces
the collinear logarithm ~ L. The photon's transverse momentum, which decides whether it is
lost down the beam pipe, is then realistic: the angle to the beam is log-flat between
~m_e / E_beam and ~1 (median 2 sqrt(m_e / sqrt(s)) = 0.014 rad at 10.58 GeV).
``angular="collinear"``: exactly along either beam, with equal probability (pT = 0). The
azimuth is uniform. The hard system recoils against the photon: it has mass sqrt(s') whatever
the photon direction, and is boosted with velocity ``-k / (sqrt(s) - k0)``
(:func:`photon_and_recoil`).

Checks (tests/physics/test_isr.py): the sum rule, the closed-form CDF against quadrature, the
sampler against the analytic W, and :func:`convolve` for sigma0 ~ 1 / s against the closed
form :func:`inverse_s_correction`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from darkscan.physics.constants import ALPHA_EM, M_ELECTRON

Array = NDArray[np.float64]

#: Orders of the radiator that are implemented.
ISR_ORDERS: tuple[int, ...] = (1, 2)
#: Photon angular distributions of :func:`sample_photon_direction`.
ISR_ANGULAR: tuple[str, ...] = ("eikonal", "collinear")
#: Default soft-photon cut on x (ISR photons below it are not emitted, see module docstring).
X_SOFT: float = 1e-5
#: Non-logarithmic one-loop constant of the Kuraev-Fadin Delta: alpha / pi (pi^2 / 3 - 1/2).
NONLOG_CONSTANT: float = ALPHA_EM / np.pi * (np.pi**2 / 3.0 - 0.5)


# ============================================================================ the radiator
def isr_beta(s: ArrayLike) -> Array:
    """beta = (2 alpha / pi)(ln(s / m_e^2) - 1) for s [GeV^2]."""
    s = np.asarray(s, dtype=float)
    if np.any(~(s > 4.0 * M_ELECTRON**2)):
        raise ValueError("s must be above (2 m_e)^2")
    return 2.0 * ALPHA_EM / np.pi * (np.log(s / M_ELECTRON**2) - 1.0)


def _check_order(order: int) -> int:
    if order not in ISR_ORDERS:
        raise ValueError(f"unknown ISR order {order!r}; valid: {list(ISR_ORDERS)}")
    return int(order)


def soft_factor(beta: ArrayLike, order: int = 1, nonlog: bool = False) -> Array:
    """Delta, the factor of beta x^(beta - 1) in the radiator (see the module docstring)."""
    _check_order(order)
    beta = np.asarray(beta, dtype=float)
    delta = 1.0 + 0.75 * beta
    if order == 2:
        delta = delta + beta * beta * (9.0 / 32.0 - np.pi**2 / 12.0)
    if nonlog:
        delta = delta + NONLOG_CONSTANT
    return delta


def _reduced(x: Array, beta: Array | float, delta: Array | float, order: int) -> Array:
    """R(x) = W(x) x^(1 - beta) / beta, finite on [0, 1) (R(0) = Delta)."""
    x1b = x ** (1.0 - beta)
    out = delta - (1.0 - 0.5 * x) * x1b
    if order == 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            ln1mx = np.log1p(-x)
            bracket = x1b * ((6.0 - 3.0 * x) * ln1mx - 4.0 * (2.0 - x) * np.log(x) - 6.0 + x)
            bracket = bracket - 4.0 * x ** (-beta) * ln1mx
        out = out + 0.125 * beta * np.where(x > 0, bracket, 0.0)
    return out


def radiator(x: ArrayLike, s: ArrayLike, *, order: int = 1, nonlog: bool = False) -> Array:
    """W(x): probability density of the fractional CM energy loss x in (0, 1) at s [GeV^2].

    inf at x = 0 (integrable), 0 outside (0, 1).
    """
    _check_order(order)
    x = np.asarray(x, dtype=float)
    beta = isr_beta(s)
    delta = soft_factor(beta, order, nonlog)
    inside = (x > 0) & (x < 1)
    xs = np.where(inside, x, 0.5)
    with np.errstate(divide="ignore"):
        value = beta * xs ** (beta - 1.0) * _reduced(xs, beta, delta, order)
    return np.where(inside, value, np.where(x == 0, np.inf, 0.0))


def radiator_cdf(x: ArrayLike, s: ArrayLike, *, order: int = 1, nonlog: bool = False) -> Array:
    """int_0^x W(t) dt in closed form (x clipped to [0, 1]).

    order 1: Delta x^beta - beta (x - x^2/4); order 2 adds (beta^2 / 8) C(x) with
    C(x) = (2x^2 - 8x) ln x - (3/2)(1 - x)(3 - x) ln(1 - x) + 4 Li2(x) - 5x/2 + x^2/4.
    """
    _check_order(order)
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    beta = isr_beta(s)
    delta = soft_factor(beta, order, nonlog)
    out = delta * x**beta - beta * (x - 0.25 * x * x)
    if order == 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            xlogx = np.where(x > 0, (2.0 * x * x - 8.0 * x) * np.log(np.where(x > 0, x, 1.0)), 0.0)
            omx = 1.0 - x
            l1 = np.where(omx > 0, omx * np.log(np.where(omx > 0, omx, 1.0)), 0.0)
        c = xlogx - 1.5 * (3.0 - x) * l1 + 4.0 * special.spence(1.0 - x) - 2.5 * x + 0.25 * x * x
        out = out + 0.125 * beta * beta * c
    return out


# ============================================================================ sampling
class ISRSample(NamedTuple):
    """Sampled energy-loss fractions and their weights W(x) / g(x)."""

    x: Array
    weight: Array


def sample_x(
    n: int,
    rng: np.random.Generator,
    s: float,
    *,
    x_max: float = 1.0,
    order: int = 1,
    nonlog: bool = False,
    pole: float | None = None,
    pole_fraction: float = 0.2,
) -> ISRSample:
    """Draw ``n`` values of x in (0, x_max] with weights W(x) / g(x) (see the module docstring).

    ``pole`` (a y0 = s_threshold / s with y0 < 1 - x_max) adds the channel
    g ~ 1 / (1 - x - y0) with probability ``pole_fraction``, for hard cross sections that grow
    like 1 / (s' - y0 s). One uniform number per event is drawn from ``rng``.
    """
    _check_order(order)
    if not 0.0 < x_max <= 1.0:
        raise ValueError(f"x_max must lie in (0, 1], got {x_max!r}")
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    beta = float(isr_beta(s))
    delta = float(soft_factor(beta, order, nonlog))
    xm_beta = x_max**beta
    u = rng.random(n)
    if pole is None:
        x = x_max * np.exp(np.log1p(-u) / beta)
        np.minimum(x, np.nextafter(x_max, 0.0) if x_max >= 1.0 else x_max, out=x)
        return ISRSample(x, xm_beta * _reduced(x, beta, delta, order))
    if not 0.0 <= pole < 1.0 - x_max:
        raise ValueError(f"pole must lie in [0, 1 - x_max) = [0, {1 - x_max:g}), got {pole!r}")
    if not 0.0 < pole_fraction < 1.0:
        raise ValueError(f"pole_fraction must lie in (0, 1), got {pole_fraction!r}")
    f_soft = 1.0 - pole_fraction
    one_m_y0 = 1.0 - pole
    lam = np.log(one_m_y0 / (1.0 - x_max - pole))
    soft = u < f_soft
    # Conditional uniforms in (0, 1] for each channel, from the same u.
    u_soft = 1.0 - u / f_soft
    v_pole = (1.0 - u) / pole_fraction
    x_from_soft = x_max * np.exp(np.log(np.where(soft, u_soft, 1.0)) / beta)
    x_from_pole = -one_m_y0 * np.expm1(-lam * np.where(soft, 1.0, v_pole))
    x = np.where(soft, x_from_soft, x_from_pole)
    np.minimum(x, np.nextafter(x_max, 0.0) if x_max >= 1.0 else x_max, out=x)
    ratio = x ** (1.0 - beta) * (xm_beta / (beta * lam)) / (1.0 - x - pole)
    weight = xm_beta * _reduced(x, beta, delta, order) / (f_soft + pole_fraction * ratio)
    return ISRSample(x, weight)


def sample_photon_direction(
    n: int, rng: np.random.Generator, s: float, *, angular: str = "eikonal"
) -> tuple[Array, Array, Array]:
    """(cos theta, sin theta, phi) of the ISR photon in the CM frame (z along the e- beam).

    ``eikonal``: d N / d cos ~ 1 / (1 - b^2 cos^2), b = sqrt(1 - 4 m_e^2 / s), drawn as
    cos = tanh(t) / b with t uniform in (-artanh b, artanh b); sin theta is computed from
    sech^2 t without cancellation. ``collinear``: cos = +-1 with equal probability.
    Two uniform numbers per event.
    """
    if angular not in ISR_ANGULAR:
        raise ValueError(f"unknown ISR angular distribution '{angular}'; valid: {ISR_ANGULAR}")
    u = rng.random(n)
    phi = 2.0 * np.pi * rng.random(n)
    if angular == "collinear":
        cos = np.where(u < 0.5, 1.0, -1.0)
        return cos, np.zeros(n), phi
    one_m_b2 = 4.0 * M_ELECTRON**2 / s
    b = np.sqrt(1.0 - one_m_b2)
    a_max = np.log((1.0 + b) / np.sqrt(one_m_b2))  # artanh(b) without cancellation
    t = (2.0 * u - 1.0) * a_max
    cos = np.tanh(t) / b
    sech2 = 1.0 / np.square(np.cosh(t))
    sin = np.sqrt(np.clip(sech2 - one_m_b2, 0.0, None)) / b
    return cos, sin, phi


def photon_and_recoil(
    x: ArrayLike, sqrt_s: float, cos_theta: ArrayLike, sin_theta: ArrayLike, phi: ArrayLike
) -> tuple[Array, Array]:
    """ISR photon k and recoiling hard system P = p_beams - k, both (n, 4) in the CM frame.

    k0 = x sqrt(s) / 2; P = (sqrt(s) - k0, -k) has mass sqrt(s (1 - x)) for any photon
    direction, and velocity -k / (sqrt(s) - k0) (|velocity| = x / (2 - x)).
    """
    x = np.asarray(x, dtype=float)
    k0 = 0.5 * sqrt_s * x
    st = np.asarray(sin_theta, dtype=float)
    k = np.empty((*x.shape, 4))
    k[..., 0] = k0
    k[..., 1] = k0 * st * np.cos(phi)
    k[..., 2] = k0 * st * np.sin(phi)
    k[..., 3] = k0 * np.asarray(cos_theta, dtype=float)
    recoil = -k
    recoil[..., 0] += sqrt_s
    return k, recoil


# ============================================================================ convolution
def _gauss_legendre_panels(a: float, b: float, n_panels: int, n_nodes: int) -> tuple[Array, Array]:
    """Nodes and weights of a composite Gauss-Legendre rule on [a, b]."""
    t, w = np.polynomial.legendre.leggauss(n_nodes)
    edges = np.linspace(a, b, n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * w).ravel()


def convolve(
    sigma0: Callable[[Array], ArrayLike],
    s: float,
    *,
    x_max: float,
    order: int = 1,
    nonlog: bool = False,
    pole: float = 0.0,
    x_split: float = 0.05,
    n_panels: int = 64,
    n_nodes: int = 16,
) -> float:
    """sigma_ISR(s) = int_0^x_max W(x) sigma0(s (1 - x)) dx by deterministic quadrature.

    ``sigma0`` maps an array of s' [GeV^2] to cross sections (any unit; the result has it) and
    must be smooth on [s (1 - x_max), s]. Below ``x_split`` the variable t = x^beta removes
    the x^(beta - 1) singularity (W dx = R(x) dt); above it v = -ln(1 - x - pole) flattens a
    growth ~ 1 / (s' - pole s) of sigma0 (``pole`` < 1 - x_max). Composite Gauss-Legendre,
    ``n_panels`` x ``n_nodes`` nodes on each part (relative accuracy ~1e-10 for smooth sigma0).
    """
    _check_order(order)
    if not 0.0 < x_max <= 1.0:
        raise ValueError(f"x_max must lie in (0, 1], got {x_max!r}")
    if not 0.0 <= pole < 1.0 - x_max:
        raise ValueError(f"pole must lie in [0, 1 - x_max), got {pole!r}")
    beta = float(isr_beta(s))
    delta = float(soft_factor(beta, order, nonlog))
    x1 = min(x_split, x_max)
    t, wt = _gauss_legendre_panels(0.0, x1**beta, n_panels, n_nodes)
    x_a = t ** (1.0 / beta)
    total = float(
        np.sum(wt * _reduced(x_a, beta, delta, order) * np.asarray(sigma0(s * (1.0 - x_a))))
    )
    if x_max > x1:
        v1, v2 = -np.log(1.0 - x1 - pole), -np.log(1.0 - x_max - pole)
        v, wv = _gauss_legendre_panels(v1, v2, n_panels, n_nodes)
        jac = np.exp(-v)  # dx / dv = 1 - x - pole
        x_b = 1.0 - pole - jac
        w_b = beta * x_b ** (beta - 1.0) * _reduced(x_b, beta, delta, order)
        total += float(np.sum(wv * jac * w_b * np.asarray(sigma0(s * (1.0 - x_b)))))
    return total


def inverse_s_correction(s: float, x_max: float) -> float:
    """Closed form of int_0^x_max W(x) / (1 - x) dx (order 1, no nonlog constant): the ISR
    correction factor sigma_ISR / sigma0 for a point-like sigma0 ~ 1/s (e+e- -> mu+ mu-).

    With int_0^x_m beta x^(beta - 1) / (1 - x) dx = x_m^beta 2F1(1, beta; 1 + beta; x_m) and
    (1 - x/2) / (1 - x) = 1/2 + 1 / (2 (1 - x)):
    Delta x_m^beta 2F1(1, beta; 1 + beta; x_m) - beta (x_m / 2 - ln(1 - x_m) / 2).
    """
    if not 0.0 < x_max < 1.0:
        raise ValueError(f"x_max must lie in (0, 1), got {x_max!r}")
    beta = float(isr_beta(s))
    delta = 1.0 + 0.75 * beta
    hyp = float(special.hyp2f1(1.0, beta, 1.0 + beta, x_max))
    return delta * x_max**beta * hyp - beta * (0.5 * x_max - 0.5 * np.log1p(-x_max))


__all__ = [
    "ISRSample",
    "ISR_ANGULAR",
    "ISR_ORDERS",
    "NONLOG_CONSTANT",
    "X_SOFT",
    "convolve",
    "inverse_s_correction",
    "isr_beta",
    "photon_and_recoil",
    "radiator",
    "radiator_cdf",
    "sample_photon_direction",
    "sample_x",
    "soft_factor",
]
