"""Punzi figure of merit, Punzi-net sensitivity and per-mass window yields.

Conventions
-----------
*Event table*: a flat ``dict[str, np.ndarray]``, one entry per candidate event after the
preselection, all columns of the same length:

* feature columns (floats);
* ``weight`` [fb per event]: the expected number of events is ``lumi_fb * weight``;
* ``is_signal`` (bool);
* ``mass_gen`` [GeV]: the generated mediator mass of a signal event, NaN for background;
* ``recoil_mass`` [GeV]: the scanned observable.

*Mass hypotheses*: ``masses`` (n_m,) [GeV] with a window ``window_lo <= recoil_mass <
window_hi`` each, and ``sigma_total_fb`` (n_m,): the cross section the signal weights of each
generated mass are normalised to, so that the efficiency of a selection at mass ``m`` is

    eff_m = sum(weight * selected, signal events generated at m, recoil_mass in window m)
            / sigma_total_fb[m]

(preselection included), and the expected background is

    B_m = lumi_fb * sum(weight * selected, background events, recoil_mass in window m).

A signal event belongs to the hypothesis whose mass equals its ``mass_gen`` (relative
tolerance :data:`MASS_RTOL`); signal generated at masses not in ``masses`` is ignored.

*Figures of merit* (a = number of sigmas of the discovery target, b = the z value of the
power, Punzi, PHYSTAT 2003, arXiv:physics/0308063; Punzi-net: Abudinen et al.,
Eur. Phys. J. C 82, 121 (2022)):

* ``punzi_fom = eff / (a/2 + sqrt(B))`` (larger is better);
* ``punzi_sensitivity = (a^2/8 + 9 b^2/13 + a sqrt(B) + (b/2) sqrt(b^2 + 4 a sqrt(B) + 4 B))
  / (eff L)`` [fb] (smaller is better): the smallest cross section discoverable at ``a``
  sigma with power ``Phi(b)`` (b = 1.28155: 90 %).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MASS_RTOL",
    "REQUIRED_COLUMNS",
    "MassHypotheses",
    "check_table",
    "mass_hypotheses",
    "punzi_fom",
    "punzi_sensitivity",
    "signal_mass_index",
    "split_table",
    "toy_table",
    "window_pairs",
    "window_yields",
]

#: columns every event table must carry
REQUIRED_COLUMNS = ("weight", "is_signal", "mass_gen", "recoil_mass")
#: relative tolerance matching a signal event's ``mass_gen`` to a mass hypothesis
MASS_RTOL = 1e-6
#: largest number of (mass, event) pairs handled at once by the pair expansion
_PAIR_CHUNK = 4_000_000


def punzi_fom(eff: ArrayLike, bkg_events: ArrayLike, a: float = 3.0) -> NDArray[np.float64]:
    """Punzi figure of merit ``eff / (a/2 + sqrt(B))`` (broadcasting; larger is better).

    ``eff`` is the signal efficiency (0..1), ``bkg_events`` the expected background count
    ``B >= 0`` in the signal window, ``a`` the significance (in sigma) of the discovery target.
    """
    eff = np.asarray(eff, dtype=np.float64)
    bkg = np.asarray(bkg_events, dtype=np.float64)
    if a <= 0:
        raise ValueError(f"a must be > 0, got {a}")
    if np.any(bkg < 0):
        raise ValueError("bkg_events must be >= 0")
    return eff / (0.5 * a + np.sqrt(bkg))


def punzi_sensitivity(
    eff: ArrayLike,
    bkg_events: ArrayLike,
    lumi_fb: float,
    a: float = 3.0,
    b: float = 1.28155,
) -> NDArray[np.float64]:
    """Punzi-net sensitivity [fb]: the smallest discoverable cross section (smaller is better).

    ``S = (a^2/8 + 9 b^2/13 + a sqrt(B) + (b/2) sqrt(b^2 + 4 a sqrt(B) + 4 B)) / (eff L)``
    (Eur. Phys. J. C 82, 121 (2022)), ``L = lumi_fb`` [fb^-1]. ``eff = 0`` gives ``inf``.
    Broadcasts over ``eff`` and ``bkg_events``.
    """
    eff = np.asarray(eff, dtype=np.float64)
    bkg = np.asarray(bkg_events, dtype=np.float64)
    if not lumi_fb > 0:
        raise ValueError(f"lumi_fb must be > 0, got {lumi_fb}")
    if np.any(bkg < 0):
        raise ValueError("bkg_events must be >= 0")
    if np.any(eff < 0):
        raise ValueError("eff must be >= 0")
    sqrt_b = np.sqrt(bkg)
    numerator = (
        a * a / 8.0
        + 9.0 * b * b / 13.0
        + a * sqrt_b
        + 0.5 * b * np.sqrt(b * b + 4.0 * a * sqrt_b + 4.0 * bkg)
    )
    with np.errstate(divide="ignore"):
        return numerator / (eff * lumi_fb)


# --------------------------------------------------------------------------------------
# table and hypothesis validation
# --------------------------------------------------------------------------------------


def check_table(table: Mapping[str, ArrayLike], columns: Sequence[str] = ()) -> dict[str, NDArray]:
    """Validate an event table; return it with the required columns as numpy arrays.

    Raises ``ValueError`` naming a missing column (and listing the available ones) or the
    columns whose lengths differ.
    """
    if not isinstance(table, Mapping):
        raise ValueError(f"table must be a mapping of column name -> array, got {type(table)}")
    needed = list(REQUIRED_COLUMNS) + [c for c in columns if c not in REQUIRED_COLUMNS]
    missing = [c for c in needed if c not in table]
    if missing:
        raise ValueError(
            f"table is missing column(s) {missing}; available columns: {sorted(table)}"
        )
    out = {c: np.asarray(table[c]) for c in needed}
    lengths = {c: (v.shape[0] if v.ndim >= 1 else -1) for c, v in out.items()}
    if len(set(lengths.values())) != 1 or any(v.ndim != 1 for v in out.values()):
        raise ValueError(f"table columns must be 1-d arrays of equal length, got {lengths}")
    out["is_signal"] = out["is_signal"].astype(bool)
    for c in ("weight", "mass_gen", "recoil_mass"):
        out[c] = out[c].astype(np.float64)
    if not np.all(np.isfinite(out["weight"])):
        raise ValueError("column 'weight' must be finite")
    return out


@dataclass(frozen=True)
class MassHypotheses:
    """Validated mass hypotheses (each (n_m,)): masses and windows [GeV], sigma_total_fb [fb]."""

    masses: NDArray[np.float64]
    window_lo: NDArray[np.float64]
    window_hi: NDArray[np.float64]
    sigma_total_fb: NDArray[np.float64]

    @property
    def n(self) -> int:
        return int(self.masses.size)


def mass_hypotheses(
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
) -> MassHypotheses:
    """Validate the per-mass arrays (1-d, equal length, lo < hi, sigma > 0)."""
    arrays = {
        "masses": np.atleast_1d(np.asarray(masses, dtype=np.float64)),
        "window_lo": np.atleast_1d(np.asarray(window_lo, dtype=np.float64)),
        "window_hi": np.atleast_1d(np.asarray(window_hi, dtype=np.float64)),
        "sigma_total_fb": np.atleast_1d(np.asarray(sigma_total_fb, dtype=np.float64)),
    }
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) != 1 or arrays["masses"].ndim != 1:
        raise ValueError(
            f"masses, window_lo, window_hi, sigma_total_fb must be 1-d of equal length: {shapes}"
        )
    if arrays["masses"].size == 0:
        raise ValueError("masses must not be empty")
    if not np.all(arrays["window_hi"] > arrays["window_lo"]):
        raise ValueError("window_hi must be > window_lo for every mass")
    if not np.all(arrays["sigma_total_fb"] > 0):
        raise ValueError("sigma_total_fb must be > 0 for every mass")
    return MassHypotheses(**arrays)


def signal_mass_index(mass_gen: NDArray, is_signal: NDArray, masses: NDArray) -> NDArray:
    """Index into ``masses`` of each event's generated mass; -1 for background / no match."""
    order = np.argsort(masses, kind="stable")
    sorted_m = masses[order]
    index = np.full(mass_gen.shape, -1, dtype=np.int64)
    valid = is_signal & np.isfinite(mass_gen)
    mg = mass_gen[valid]
    pos = np.clip(np.searchsorted(sorted_m, mg), 1, max(sorted_m.size - 1, 1))
    # nearest of the two neighbours
    lower = np.clip(pos - 1, 0, sorted_m.size - 1)
    upper = np.clip(pos, 0, sorted_m.size - 1)
    pick = np.where(np.abs(sorted_m[upper] - mg) < np.abs(sorted_m[lower] - mg), upper, lower)
    tol = MASS_RTOL * np.maximum(np.abs(mg), 1e-3)
    ok = np.abs(sorted_m[pick] - mg) <= tol
    idx = np.where(ok, order[pick], -1)
    index[valid] = idx
    return index


def signal_mass_index_checked(
    t: Mapping[str, NDArray], masses: NDArray, who: str
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """:func:`signal_mass_index` plus the check that every mass has signal events.

    Returns ``(m_idx, has, n_gen)``: the mass index per event, the events that have one and
    the number of generated signal events per mass. ``who`` names the caller in the error.
    """
    m_idx = signal_mass_index(t["mass_gen"], t["is_signal"], masses)
    has = m_idx >= 0
    n_gen = np.bincount(m_idx[has], minlength=masses.size)
    if np.any(n_gen == 0):
        raise ValueError(
            f"no signal events generated at masses {masses[n_gen == 0].tolist()} GeV: "
            f"{who} needs signal at every mass hypothesis"
        )
    return m_idx, has, n_gen


def _selection_weights(selected: ArrayLike, n: int) -> NDArray[np.float64]:
    sel = np.asarray(selected)
    if sel.shape != (n,):
        raise ValueError(
            f"selected_mask_or_weights must have shape ({n},) like the table, got {sel.shape}"
        )
    if sel.dtype == bool:
        return sel.astype(np.float64)
    sel = sel.astype(np.float64)
    if not np.all((sel >= 0) & (sel <= 1)):
        raise ValueError("selected_mask_or_weights must be a bool mask or weights in [0, 1]")
    return sel


def window_pairs(
    sorted_x: NDArray, window_lo: NDArray, window_hi: NDArray, chunk: int = _PAIR_CHUNK
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """All (mass index, position in ``sorted_x``) pairs with ``lo_m <= x < hi_m``, in chunks.

    ``sorted_x`` must be sorted ascending; the events inside window ``m`` are the contiguous
    range ``[searchsorted(lo_m), searchsorted(hi_m))``, expanded without a loop over events.
    """
    start = np.searchsorted(sorted_x, window_lo, side="left")
    stop = np.searchsorted(sorted_x, window_hi, side="left")
    length = np.maximum(stop - start, 0)
    n_m = length.size
    m0 = 0
    while m0 < n_m:
        # take masses until the chunk is full (at least one mass)
        cum = np.cumsum(length[m0:])
        m1 = m0 + max(int(np.searchsorted(cum, chunk, side="right")), 1)
        lens = length[m0:m1]
        total = int(lens.sum())
        m_idx = np.repeat(np.arange(m0, m1, dtype=np.int64), lens)
        first = np.cumsum(lens) - lens
        offset = np.arange(total, dtype=np.int64) - np.repeat(first, lens)
        yield m_idx, np.repeat(start[m0:m1], lens) + offset
        m0 = m1


def window_yields(
    table: Mapping[str, ArrayLike],
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
    lumi_fb: float,
    selected_mask_or_weights: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Signal efficiency and expected background in each mass window after a selection.

    ``selected_mask_or_weights``: a boolean mask (hard selection) or per-event weights in
    [0, 1] (soft selection, e.g. a network output); ``None`` selects every event.

    Returns ``(eff, bkg_events)``, each (n_m,): ``eff`` as in the module docstring (NaN at a
    mass with no signal event generated at it), ``bkg_events`` = expected background count
    for ``lumi_fb`` [fb^-1]. Vectorised: background by sorting on ``recoil_mass`` and a
    cumulative sum, signal by a ``bincount`` over each event's own mass hypothesis.
    """
    if not lumi_fb > 0:
        raise ValueError(f"lumi_fb must be > 0, got {lumi_fb}")
    t = check_table(table)
    hyp = mass_hypotheses(masses, window_lo, window_hi, sigma_total_fb)
    n = t["weight"].size
    if selected_mask_or_weights is None:
        sel = np.ones(n)
    else:
        sel = _selection_weights(selected_mask_or_weights, n)
    w = t["weight"] * sel
    x = t["recoil_mass"]
    sig = t["is_signal"]
    n_m = hyp.n

    # background: sort, cumulative sum, difference at the window edges
    bkg = ~sig & np.isfinite(x)
    order = np.argsort(x[bkg], kind="stable")
    xb = x[bkg][order]
    cum = np.concatenate([[0.0], np.cumsum(w[bkg][order])])
    lo = np.searchsorted(xb, hyp.window_lo, side="left")
    hi = np.searchsorted(xb, hyp.window_hi, side="left")
    bkg_events = lumi_fb * np.maximum(cum[np.maximum(hi, lo)] - cum[lo], 0.0)

    # signal: each event counts for its own mass hypothesis only
    m_idx = signal_mass_index(t["mass_gen"], sig, hyp.masses)
    has = m_idx >= 0
    mi = m_idx[has]
    inside = (x[has] >= hyp.window_lo[mi]) & (x[has] < hyp.window_hi[mi])
    sum_w = np.bincount(mi[inside], weights=w[has][inside], minlength=n_m)
    n_gen = np.bincount(mi, minlength=n_m)
    eff = np.where(n_gen > 0, sum_w / hyp.sigma_total_fb, np.nan)
    return eff, bkg_events


def split_table(
    table: Mapping[str, ArrayLike], fraction: float, rng: np.random.Generator
) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    """Split a weighted table at random into two statistically independent halves.

    Each event goes to the first part with probability ``fraction``; weights are divided by
    ``fraction`` (first part) or ``1 - fraction`` (second) so that both parts still estimate
    the full expected yields. Use the first part to train/optimise, the second to evaluate.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    t = check_table(table)
    n = t["weight"].size
    first = rng.random(n) < fraction
    parts = []
    for mask, f in ((first, fraction), (~first, 1.0 - fraction)):
        part = {k: np.asarray(v)[mask] for k, v in table.items()}
        part["weight"] = t["weight"][mask] / f
        parts.append(part)
    return parts[0], parts[1]


def toy_table(
    rng: np.random.Generator,
    masses: ArrayLike = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
    n_signal_per_mass: int = 1000,
    n_background: int = 40000,
    sigma_total_fb: float = 1.0,
    bkg_cross_section_fb: float = 250.0,
    correlated: bool = True,
) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
    """A synthetic event table for tests and examples (not physics).

    Signal at mass ``m``: ``recoil_mass ~ N(m, 0.05 + 0.02 m)``; background ``recoil_mass``
    flat in [0, 8] GeV. Features ``x1``, ``x2`` (``x3``: uninformative, N(0, 1)). With
    ``correlated`` (default), in the rotated coordinates ``u = (x1 + x2)/sqrt 2`` (along the
    diagonal) and ``v = (x1 - x2)/sqrt 2`` (across it): background ``u ~ N(0, 2)``,
    ``v ~ N(0, 0.35)``; signal ``u ~ N(0, 1)``, ``v ~ N(0.6 + 0.05 (m - <m>), 0.3)``: the best
    selection is a diagonal cut on ``v``, which rectangular cuts on ``x1``, ``x2`` only
    approximate. Otherwise independent Gaussians: signal around (0.35, -0.35), background
    around (-0.5, 0.5), width 0.5 and 1. Signal weights are
    ``sigma_total_fb / n_signal_per_mass`` (preselection efficiency 1), background weights
    ``bkg_cross_section_fb / n_background``.

    Returns ``(table, hypotheses)`` with hypotheses ``masses``, ``window_lo``, ``window_hi``
    (+-2 sigma) and ``sigma_total_fb``.
    """
    masses = np.asarray(masses, dtype=np.float64)
    n_m = masses.size
    res = 0.05 + 0.02 * masses
    m_sig = np.repeat(masses, n_signal_per_mass)
    r_sig = np.repeat(res, n_signal_per_mass)
    ns = m_sig.size
    shift = 0.05 * (m_sig - masses.mean())
    if correlated:
        # (u, v): along and across the diagonal; signal elongated along it, offset across
        u_sig = rng.normal(0.0, 1.0, ns)
        v_sig = rng.normal(0.6, 0.3, ns) + shift
        u = rng.normal(0.0, 2.0, n_background)
        v = rng.normal(0.0, 0.35, n_background)
        sig_x1, sig_x2 = (u_sig + v_sig) / np.sqrt(2.0), (u_sig - v_sig) / np.sqrt(2.0)
        bkg_x1, bkg_x2 = (u + v) / np.sqrt(2.0), (u - v) / np.sqrt(2.0)
    else:
        sig_x1 = rng.normal(0.35, 0.5, ns) + shift
        sig_x2 = rng.normal(-0.35, 0.5, ns)
        bkg_x1 = rng.normal(-0.5, 1.0, n_background)
        bkg_x2 = rng.normal(0.5, 1.0, n_background)
    table = {
        "x1": np.concatenate([sig_x1, bkg_x1]),
        "x2": np.concatenate([sig_x2, bkg_x2]),
        "x3": rng.normal(0.0, 1.0, ns + n_background),
        "recoil_mass": np.concatenate([rng.normal(m_sig, r_sig), rng.uniform(0, 8, n_background)]),
        "weight": np.concatenate(
            [
                np.full(ns, sigma_total_fb / n_signal_per_mass),
                np.full(n_background, bkg_cross_section_fb / n_background),
            ]
        ),
        "is_signal": np.concatenate([np.ones(ns, bool), np.zeros(n_background, bool)]),
        "mass_gen": np.concatenate([m_sig, np.full(n_background, np.nan)]),
    }
    hyp = {
        "masses": masses,
        "window_lo": masses - 2 * res,
        "window_hi": masses + 2 * res,
        "sigma_total_fb": np.full(n_m, float(sigma_total_fb)),
    }
    return table, hyp
