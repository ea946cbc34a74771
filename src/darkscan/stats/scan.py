"""Whole scans: the typed results table, look-elsewhere effect and global significance.

* :class:`ScanTable` - one row per mass hypothesis (mass, observed and expected limits with
  bands, local significance, status); a failed point is flagged in ``status``, never fatal.
* :func:`scan_counting` - limits and local significance for every window of a counting scan
  in one vectorised call.
* :func:`toys_max_local_z` - pseudo-experiments of the *whole* scan: Poisson counts in fine
  bins of the observable, summed into (overlapping, hence correlated) windows; returns the
  largest local Z of each toy.
* :func:`global_significance` - global p-value (and Z) of the largest observed local excess
  from those toys (the trials factor follows as p_global / p_local).
* :func:`upcrossings`, :func:`gross_vitells` - the Gross-Vitells estimate (Eur. Phys. J. C
  70 (2010) 525): E[N(u)] = N(u0) exp(-(u - u0)/2) upcrossings of q0 = Z^2 above u, and
  p_global ~ p_local + E[N(u)] for u = Z_local^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from darkscan.io import atomic_write_csv, atomic_write_json
from darkscan.stats.counting import discovery_asymptotic, upper_limit_asymptotic
from darkscan.stats.results import STATUS_FAILED, LimitResult, SignificanceResult

_COLUMNS = (
    "mass",
    "observed",
    "expected_median",
    "expected_minus1",
    "expected_plus1",
    "expected_minus2",
    "expected_plus2",
    "local_z",
    "status",
)


class ScanTable(NamedTuple):
    """One row per hypothesis of a scan (all arrays of equal length)."""

    mass: NDArray[np.float64]
    observed: NDArray[np.float64]
    expected_median: NDArray[np.float64]
    expected_minus1: NDArray[np.float64]
    expected_plus1: NDArray[np.float64]
    expected_minus2: NDArray[np.float64]
    expected_plus2: NDArray[np.float64]
    local_z: NDArray[np.float64]
    status: NDArray[np.str_]

    @classmethod
    def from_results(
        cls,
        mass: ArrayLike,
        limits: LimitResult,
        significance: SignificanceResult | None = None,
    ) -> ScanTable:
        mass = np.atleast_1d(np.asarray(mass, float))
        n = mass.size

        def col(a: Any) -> NDArray[np.float64]:
            arr = np.broadcast_to(np.asarray(a, float), (n,)).copy()
            return arr

        status = np.broadcast_to(np.asarray(limits.status), (n,)).astype(str).copy()
        z = col(np.nan) if significance is None else col(significance.z)
        if significance is not None:
            bad_sig = np.broadcast_to(np.asarray(significance.status), (n,)) == STATUS_FAILED
            status = np.where(bad_sig & (status == "ok"), STATUS_FAILED, status)
        return cls(
            mass,
            col(limits.observed),
            col(limits.expected_median),
            col(limits.expected_minus1),
            col(limits.expected_plus1),
            col(limits.expected_minus2),
            col(limits.expected_plus2),
            z,
            status,
        )

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.mass.size)

    def to_records(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(self.mass.size):
            row: dict[str, Any] = {}
            for c in _COLUMNS:
                v = getattr(self, c)[i]
                row[c] = str(v) if c == "status" else float(v)
            rows.append(row)
        return rows

    def write_csv(self, path: str | Path) -> Path:
        return atomic_write_csv(path, self.to_records(), _COLUMNS)

    def write_json(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_records())

    def most_significant(self) -> int:
        """Index of the largest local Z (ignoring failed points and NaN)."""
        z = np.where(
            (self.status != STATUS_FAILED) & np.isfinite(self.local_z), self.local_z, -np.inf
        )
        return int(np.argmax(z))


def scan_counting(
    mass: ArrayLike,
    n_obs: ArrayLike,
    bkg: ArrayLike,
    bkg_unc: ArrayLike = 0.0,
    eff: ArrayLike = 1.0,
    eff_unc: ArrayLike = 0.0,
    *,
    cl: float = 0.95,
    constraint: str = "poisson",
    method: str = "cls",
) -> ScanTable:
    """Asymptotic limits with bands and local Z for every window of a counting scan."""
    limits = upper_limit_asymptotic(
        n_obs, bkg, bkg_unc, eff, eff_unc, cl, constraint=constraint, method=method
    )
    sig = discovery_asymptotic(n_obs, bkg, bkg_unc, constraint=constraint)
    return ScanTable.from_results(mass, limits, sig)


def window_matrix(bin_edges: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> NDArray[np.float64]:
    """(n_windows, n_bins) fraction of each fine bin inside each window [lo, hi)."""
    e = np.asarray(bin_edges, float)
    lo = np.asarray(lo, float)[:, None]
    hi = np.asarray(hi, float)[:, None]
    overlap = np.clip(np.minimum(hi, e[None, 1:]) - np.maximum(lo, e[None, :-1]), 0.0, None)
    return overlap / np.diff(e)[None, :]


def toys_max_local_z(
    bin_bkg: ArrayLike,
    windows: ArrayLike,
    n_toys: int,
    rng: np.random.Generator,
    *,
    bkg_unc_rel: float = 0.0,
    chunk: int = 2000,
    return_curves: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Largest local Z over all windows in ``n_toys`` background-only pseudo-scans.

    ``bin_bkg`` are the expected background counts in fine bins of the scanned observable and
    ``windows`` the (n_windows, n_bins) weight matrix (:func:`window_matrix`), so overlapping
    windows share events exactly as in data. The local Z of each window uses the asymptotic
    discovery test with the window's expected background (relative uncertainty
    ``bkg_unc_rel``, Poisson-auxiliary constraint). ``return_curves`` also returns the local Z
    of every window (n_toys, n_windows) for upcrossing counts.
    """
    bin_bkg = np.asarray(bin_bkg, float)
    w = np.asarray(windows, float)
    if w.ndim != 2 or w.shape[1] != bin_bkg.size:
        raise ValueError("windows must have shape (n_windows, n_bins) matching bin_bkg")
    if n_toys < 1:
        raise ValueError("n_toys must be >= 1")
    b_win = w @ bin_bkg
    unc = bkg_unc_rel * b_win
    maxima = np.empty(n_toys)
    curves = np.empty((n_toys, w.shape[0])) if return_curves else None
    for start in range(0, n_toys, chunk):  # bounded memory: chunks of toys
        stop = min(start + chunk, n_toys)
        counts = rng.poisson(bin_bkg, size=(stop - start, bin_bkg.size)).astype(float)
        n_win = counts @ w.T
        z = discovery_asymptotic(n_win, b_win[None, :], unc[None, :]).z
        maxima[start:stop] = z.max(axis=1)
        if curves is not None:
            curves[start:stop] = z
    return (maxima, curves) if return_curves else maxima


class GlobalSignificance(NamedTuple):
    z_local: float
    p_local: float
    p_global: float
    p_global_error: float
    z_global: float
    trials_factor: float
    method: str


def _z_from_p(p: float) -> float:
    return float(-special.ndtri(min(max(p, 1e-300), 1.0))) if p < 1.0 else 0.0


def global_significance(z_local_max: float, toy_maxima: ArrayLike) -> GlobalSignificance:
    """Global p-value of the largest observed local Z from whole-scan toys."""
    t = np.asarray(toy_maxima, float)
    n = t.size
    k = int(np.sum(t >= z_local_max))
    p = k / n
    # with no toy above, quote the 68 % upper bound on p instead of 0
    p_err = np.sqrt(max(p * (1 - p), 1.0 / n) / n)
    p_quote = p if k > 0 else 1.14 / n
    p_loc = float(special.ndtr(-z_local_max))
    return GlobalSignificance(
        float(z_local_max),
        p_loc,
        p_quote,
        float(p_err),
        _z_from_p(p_quote),
        p_quote / p_loc if p_loc > 0 else np.inf,
        "toys",
    )


def upcrossings(z_curves: ArrayLike, level: float) -> NDArray[np.int64]:
    """Number of upcrossings of q0 = Z^2 above ``level`` along the last (mass) axis."""
    q = np.square(np.asarray(z_curves, float))
    above = q > level
    return np.sum(~above[..., :-1] & above[..., 1:], axis=-1)


def gross_vitells(z_local_max: float, n_up_ref: float, u_ref: float = 0.5) -> GlobalSignificance:
    """Gross-Vitells: p_global = p_local + N(u_ref) exp(-(u - u_ref) / 2), u = Z_local^2.

    ``n_up_ref`` is the mean number of upcrossings at the low reference level ``u_ref``
    (from the observed curve or, better, averaged over a few background-only toys).
    """
    u = z_local_max**2
    p_loc = float(special.ndtr(-z_local_max))
    p = min(1.0, p_loc + n_up_ref * np.exp(-(u - u_ref) / 2.0))
    return GlobalSignificance(
        float(z_local_max),
        p_loc,
        p,
        float("nan"),
        _z_from_p(p),
        p / p_loc if p_loc > 0 else np.inf,
        "gross-vitells",
    )


def scan_table_from_rows(rows: Sequence[dict[str, Any]]) -> ScanTable:
    """Rebuild a table from :meth:`ScanTable.to_records` rows (e.g. read back from JSON)."""
    cols = {
        c: np.array([r[c] for r in rows], dtype=str if c == "status" else float) for c in _COLUMNS
    }
    return ScanTable(**cols)
