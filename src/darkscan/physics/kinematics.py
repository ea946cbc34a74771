"""Kinematics on numpy arrays: Kallen function, two-body momenta and velocities.

All functions broadcast over their arguments and never return NaN below threshold: a channel
that is closed returns exactly 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def kallen(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> NDArray[np.float64]:
    """Kallen triangle function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc."""
    a, b, c = (np.asarray(x, dtype=float) for x in (a, b, c))
    return a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c)


def safe_divide(num: ArrayLike, den: ArrayLike, fill: float = 0.0) -> NDArray[np.float64]:
    """num / den with ``fill`` wherever den == 0 (no warnings, no NaN from 0/0)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.full(num.shape, fill, dtype=float)
    np.divide(num, den, out=out, where=den != 0)
    return out


def beta_pair(mass: ArrayLike, m_daughter: ArrayLike) -> NDArray[np.float64]:
    """Velocity of each daughter in a decay to two equal masses, sqrt(1 - 4 m_d^2 / m^2).

    Exactly 0 at and below threshold (m <= 2 m_d) and for m = 0.
    """
    mass = np.asarray(mass, dtype=float)
    r = safe_divide(4.0 * np.square(m_daughter), np.square(mass), fill=np.inf)
    return np.sqrt(np.clip(1.0 - r, 0.0, None))


def lambda_sqrt_norm(m_parent: ArrayLike, m1: ArrayLike, m2: ArrayLike) -> NDArray[np.float64]:
    """sqrt(lambda(1, m1^2/M^2, m2^2/M^2)); exactly 0 when the decay is closed (M <= m1 + m2)."""
    m_parent = np.asarray(m_parent, dtype=float)
    m2p = np.square(m_parent)
    x1 = safe_divide(np.square(m1), m2p, fill=np.inf)
    x2 = safe_divide(np.square(m2), m2p, fill=np.inf)
    open_ = np.asarray(m_parent > np.asarray(m1) + np.asarray(m2))
    lam = np.where(open_, kallen(1.0, x1, x2), 0.0)
    return np.sqrt(np.clip(lam, 0.0, None))


def two_body_momentum(m_parent: ArrayLike, m1: ArrayLike, m2: ArrayLike) -> NDArray[np.float64]:
    """Daughter momentum [GeV] in the rest frame of a parent of mass M decaying to m1 + m2."""
    return 0.5 * np.asarray(m_parent, dtype=float) * lambda_sqrt_norm(m_parent, m1, m2)
