"""Input checks shared by every layer: errors that name the offending parameter."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def nonnegative_array(
    name: str, value: ArrayLike, *, allow_inf: bool = False
) -> NDArray[np.float64]:
    """``value`` as a float array; ValueError naming ``name`` if it is not numeric, not finite
    (``+inf`` allowed with ``allow_inf``) or negative."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {value!r}") from exc
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be finite, got {arr[bad].ravel()[0]}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {arr[arr < 0].ravel()[0]}")
    return arr
