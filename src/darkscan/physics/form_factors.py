"""Hadronic B -> K(*) form factors (q^2 in GeV^2), shared by every b -> s mediator.

Light-cone sum-rule fits of Ball & Zwicky, PRD 71, 014015 and 014029 (2005):

* f0(q^2) = 0.330 / (1 - q^2 / 37.46 GeV^2)                          (B -> K, scalar)
* A0(q^2) = 1.364 / (1 - q^2 / 27.88) - 0.990 / (1 - q^2 / 36.78)     (B -> K*, A0)

with <K|sbar b|B> = (m_B^2 - m_K^2) / (m_b - m_s) f0 and
<K*|sbar gamma5 b|B> = 2 m_K* (eps*.q) A0 / (m_b + m_s) (up to a phase).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def f0_b_to_k(q2: ArrayLike) -> NDArray[np.float64]:
    """Scalar B -> K form factor f0(q^2)."""
    return 0.330 / (1.0 - np.asarray(q2, dtype=float) / 37.46)


def a0_b_to_kstar(q2: ArrayLike) -> NDArray[np.float64]:
    """B -> K* form factor A0(q^2)."""
    q2 = np.asarray(q2, dtype=float)
    return 1.364 / (1.0 - q2 / 27.88) - 0.990 / (1.0 - q2 / 36.78)
