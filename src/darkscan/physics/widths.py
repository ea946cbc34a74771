"""Generic two-body decay widths shared by the mediator models (GeV, natural units)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.physics.kinematics import beta_pair, safe_divide


def width_vector_to_fermions(
    mass: ArrayLike, coupling_alpha: ArrayLike, m_f: ArrayLike
) -> NDArray[np.float64]:
    """Gamma(V -> f fbar) [GeV] for a vector coupling g fbar gamma^mu f V_mu, alpha_c = g^2/(4 pi):

    Gamma = (alpha_c m / 3)(1 + 2 m_f^2 / m^2) sqrt(1 - 4 m_f^2 / m^2); exactly 0 below threshold.
    """
    mass = np.asarray(mass, dtype=float)
    r = safe_divide(np.square(m_f), np.square(mass))
    return np.asarray(coupling_alpha) * mass / 3.0 * (1.0 + 2.0 * r) * beta_pair(mass, m_f)
