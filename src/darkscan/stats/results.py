"""Typed, immutable result records shared by every statistical method.

All limits are on the signal-strength parameter of the model they came from: for counting
experiments the expected signal is ``mu * eff`` events, so with ``eff = 1`` (the default) the
limits are in events of signal, and with ``eff`` = efficiency x luminosity [fb^-1] they are
cross sections [fb].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

#: Status codes of a hypothesis (one per point; a failed point is flagged, never fatal).
STATUS_OK = "ok"
STATUS_WIDENED = "bracket-widened"
STATUS_FAILED = "failed"


class LimitResult(NamedTuple):
    """Upper limits with expected bands for an array of hypotheses (all arrays same shape).

    ``expected_minus2 <= expected_minus1 <= expected_median <= expected_plus1 <= expected_plus2``
    are the limits expected under the background-only hypothesis at the 2.3, 15.9, 50, 84.1 and
    97.7 % quantiles. ``lower`` is set by two-sided methods (Feldman-Cousins), else None.
    """

    observed: NDArray[np.float64]
    expected_median: NDArray[np.float64]
    expected_minus1: NDArray[np.float64]
    expected_plus1: NDArray[np.float64]
    expected_minus2: NDArray[np.float64]
    expected_plus2: NDArray[np.float64]
    status: NDArray[np.str_]
    method: str
    cl: float
    lower: NDArray[np.float64] | None = None

    @classmethod
    def from_bands(
        cls,
        observed: NDArray[np.float64],
        bands: NDArray[np.float64],
        status: NDArray[np.str_],
        method: str,
        cl: float,
        shape: tuple[int, ...],
        lower: NDArray[np.float64] | None = None,
    ) -> LimitResult:
        """Build from flat arrays: ``bands`` is (N, 5), the expected limits at -2, -1, 0, +1,
        +2 sigma; everything is reshaped to ``shape``."""
        b = np.asarray(bands, float)
        return cls(
            observed=np.asarray(observed, float).reshape(shape),
            expected_median=b[:, 2].reshape(shape),
            expected_minus1=b[:, 1].reshape(shape),
            expected_plus1=b[:, 3].reshape(shape),
            expected_minus2=b[:, 0].reshape(shape),
            expected_plus2=b[:, 4].reshape(shape),
            status=np.asarray(status).reshape(shape),
            method=method,
            cl=cl,
            lower=None if lower is None else np.asarray(lower, float).reshape(shape),
        )

    def to_records(self) -> list[dict[str, float | str | None]]:
        """One plain dict per hypothesis with the JSON keys of ``darkscan limit``."""
        keys = (
            "observed",
            "expected_median",
            "expected_minus1",
            "expected_plus1",
            "expected_minus2",
            "expected_plus2",
        )
        arrays = {k: np.atleast_1d(np.asarray(getattr(self, k), float)) for k in keys}
        status = np.atleast_1d(np.asarray(self.status))
        lower = None if self.lower is None else np.atleast_1d(np.asarray(self.lower, float))
        out = []
        for i in range(arrays["observed"].size):
            rec: dict[str, float | str | None] = {k: float(arrays[k].ravel()[i]) for k in keys}
            if lower is not None:
                rec["lower"] = float(lower.ravel()[i])
            rec["status"] = str(status.ravel()[i]) if status.size > 1 else str(status.ravel()[0])
            rec["method"] = self.method
            rec["cl"] = self.cl
            out.append(rec)
        return out


class SignificanceResult(NamedTuple):
    """Local discovery p-values and significances (Z = Phi^-1(1 - p)) per hypothesis."""

    p_value: NDArray[np.float64]
    z: NDArray[np.float64]
    status: NDArray[np.str_]
    method: str
