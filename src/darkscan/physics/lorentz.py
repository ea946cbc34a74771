"""Four-vectors on arrays: shape (..., 4) with components (E, px, py, pz) in GeV.

Metric (+, -, -, -). Every function broadcasts over leading axes and has no Python loop over
events.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def four_vector(e: ArrayLike, px: ArrayLike, py: ArrayLike, pz: ArrayLike) -> Array:
    """Stack components into (..., 4)."""
    return np.stack(np.broadcast_arrays(*(np.asarray(x, float) for x in (e, px, py, pz))), -1)


def dot(a: ArrayLike, b: ArrayLike) -> Array:
    """Minkowski product a.b = a0 b0 - a.b."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return a[..., 0] * b[..., 0] - np.sum(a[..., 1:] * b[..., 1:], axis=-1)


def mass2(p: ArrayLike) -> Array:
    """Invariant mass squared p^2 [GeV^2] (may be slightly negative from rounding)."""
    return dot(p, p)


def mass(p: ArrayLike) -> Array:
    """Invariant mass sqrt(max(p^2, 0)) [GeV]."""
    return np.sqrt(np.clip(mass2(p), 0.0, None))


def p3(p: ArrayLike) -> Array:
    """|p| [GeV]."""
    return np.linalg.norm(np.asarray(p, float)[..., 1:], axis=-1)


def pt(p: ArrayLike) -> Array:
    """Transverse momentum sqrt(px^2 + py^2) [GeV] (transverse to the z axis)."""
    p = np.asarray(p, float)
    return np.hypot(p[..., 1], p[..., 2])


def cos_theta(p: ArrayLike) -> Array:
    """cos of the polar angle to +z (0 for a null 3-momentum)."""
    p = np.asarray(p, float)
    norm = p3(p)
    return np.divide(p[..., 3], norm, out=np.zeros_like(norm), where=norm > 0)


def phi(p: ArrayLike) -> Array:
    p = np.asarray(p, float)
    return np.arctan2(p[..., 2], p[..., 1])


def boost(p: ArrayLike, beta: ArrayLike) -> Array:
    """Boost four-vectors ``p`` by velocity ``beta`` (..., 3): the result is p seen from a frame
    moving with -beta, i.e. a particle at rest becomes one moving with +beta."""
    p = np.asarray(p, float)
    beta = np.asarray(beta, float)
    b2 = np.sum(beta * beta, axis=-1)
    if np.any(b2 >= 1.0):
        raise ValueError("boost: |beta| must be < 1")
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    coef = np.divide(gamma - 1.0, b2, out=np.zeros_like(b2), where=b2 > 0)
    e = gamma * (p[..., 0] + bp)
    vec = p[..., 1:] + (coef * bp + gamma * p[..., 0])[..., None] * beta
    return np.concatenate([e[..., None], vec], axis=-1)


def boost_to_rest(p: ArrayLike, frame: ArrayLike) -> Array:
    """Express ``p`` in the rest frame of the four-momentum ``frame``."""
    frame = np.asarray(frame, float)
    return boost(p, -frame[..., 1:] / frame[..., :1])


def boost_from_rest(p: ArrayLike, frame: ArrayLike) -> Array:
    """Take ``p`` given in the rest frame of ``frame`` to the frame where ``frame`` is given."""
    frame = np.asarray(frame, float)
    return boost(p, frame[..., 1:] / frame[..., :1])


def rotate_from_z(p: ArrayLike, axis: ArrayLike) -> Array:
    """Rotate ``p`` (defined with +z as reference axis) so that +z goes to the unit ``axis``.

    The rotation is by theta about the y axis, then by phi about z (theta, phi of ``axis``).
    """
    p = np.asarray(p, float)
    axis = np.asarray(axis, float)
    norm = np.linalg.norm(axis, axis=-1)
    ct = np.divide(axis[..., 2], norm, out=np.ones_like(norm), where=norm > 0)
    st = np.sqrt(np.clip(1.0 - ct * ct, 0.0, None))
    ph = np.arctan2(axis[..., 1], axis[..., 0])
    cp, sp = np.cos(ph), np.sin(ph)
    x, y, z = p[..., 1], p[..., 2], p[..., 3]
    x1 = ct * x + st * z
    z1 = -st * x + ct * z
    x2 = cp * x1 - sp * y
    y2 = sp * x1 + cp * y
    return np.stack([p[..., 0], x2, y2, z1], axis=-1)


def two_body_decay(
    parent: ArrayLike, m1: ArrayLike, m2: ArrayLike, cos_theta_rest: ArrayLike, phi_rest: ArrayLike
) -> tuple[Array, Array]:
    """Decay ``parent`` (..., 4) into masses m1, m2 with daughter-1 direction (cos theta, phi)
    in the parent rest frame, angles measured from the parent's flight direction (the helicity
    frame; for a parent at rest, from +z). Returns the daughters in the frame of ``parent``.
    """
    parent = np.asarray(parent, float)
    m = mass(parent)
    m1 = np.asarray(m1, float)
    m2 = np.asarray(m2, float)
    lam = (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)
    if np.any(lam < -1e-9 * np.maximum(m, 1.0) ** 4):
        raise ValueError("two_body_decay: parent mass below m1 + m2")
    q = np.sqrt(np.clip(lam, 0.0, None)) / np.where(m > 0, 2.0 * m, 1.0)
    ct = np.asarray(cos_theta_rest, float)
    st = np.sqrt(np.clip(1.0 - ct * ct, 0.0, None))
    ph = np.asarray(phi_rest, float)
    d1 = four_vector(np.sqrt(q * q + m1 * m1), q * st * np.cos(ph), q * st * np.sin(ph), q * ct)
    d2 = four_vector(np.sqrt(q * q + m2 * m2), -d1[..., 1], -d1[..., 2], -d1[..., 3])
    flight = parent[..., 1:]
    at_rest = np.linalg.norm(flight, axis=-1) == 0
    axis = np.where(at_rest[..., None], np.array([0.0, 0.0, 1.0]), flight)
    d1 = rotate_from_z(d1, axis)
    d2 = rotate_from_z(d2, axis)
    return boost_from_rest(d1, parent), boost_from_rest(d2, parent)
