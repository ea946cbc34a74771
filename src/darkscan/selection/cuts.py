"""Hand-made rectangular cuts optimised per mass hypothesis by the Punzi figure of merit.

For each mass hypothesis the grid of candidate thresholds (one cut per feature, direction
``"<"``: keep ``x < t``, or ``">"``: keep ``x > t``) is scanned and the combination with the
largest ``punzi_fom(eff, B, a)`` is kept (table and window conventions:
:mod:`darkscan.selection.punzi`).

The scan is vectorised over masses, events and threshold combinations at once: each event
falls in one cell of the threshold grid (per feature, the number of thresholds it fails), the
weighted cell counts are accumulated per mass window with one ``bincount`` and a cumulative sum
along every feature axis gives the yields of all combinations. Cost ~ O(pairs + n_m * cells)
with ``pairs`` the number of (window, background event) pairs and ``cells = prod(k_i + 1)``.

A NaN feature value fails every cut on that feature (numpy comparison semantics), also the
"no cut" threshold (``+inf`` for ``"<"``, ``-inf`` for ``">"``) that is added to every
feature's candidates unless ``allow_no_cut=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.selection.punzi import (
    check_table,
    mass_hypotheses,
    punzi_fom,
    punzi_sensitivity,
    signal_mass_index,
    signal_mass_index_checked,
    window_pairs,
)

__all__ = ["DIRECTIONS", "CutResult", "optimise_cuts"]

#: allowed cut directions: keep events with ``x < t`` or ``x > t``
DIRECTIONS = ("<", ">")
#: largest threshold grid (number of cells) the scan accepts
MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class CutResult:
    """Best rectangular cuts per mass hypothesis.

    Attributes (n_m = number of mass hypotheses):

    * ``masses`` (n_m,) [GeV];
    * ``directions``: feature name -> ``"<"`` or ``">"``;
    * ``thresholds``: feature name -> (n_m,) best threshold per mass (``+-inf``: no cut);
    * ``fom`` (n_m,): Punzi FOM ``eff / (a/2 + sqrt(B))`` at the best cuts;
    * ``eff`` (n_m,), ``bkg_events`` (n_m,): signal efficiency and expected background in
      the window at the best cuts; ``sensitivity`` (n_m,) [fb]: Punzi-net sensitivity there;
    * ``fom_no_cut`` (n_m,): the FOM of the preselection alone (window only);
    * ``a``, ``lumi_fb``.
    """

    masses: NDArray[np.float64]
    directions: dict[str, str]
    thresholds: dict[str, NDArray[np.float64]]
    fom: NDArray[np.float64]
    eff: NDArray[np.float64]
    bkg_events: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    fom_no_cut: NDArray[np.float64]
    a: float
    lumi_fb: float

    def mask(self, table: Mapping[str, ArrayLike], mass_index: int) -> NDArray[np.bool_]:
        """Events of ``table`` passing the cuts of mass hypothesis ``mass_index``.

        Only the feature cuts: the recoil-mass window is not applied.
        """
        n_m = self.masses.size
        if not -n_m <= int(mass_index) < n_m:
            raise ValueError(f"mass_index must be in [0, {n_m}), got {mass_index}")
        t = check_table(table, list(self.directions))
        keep = np.ones(t["weight"].size, dtype=bool)
        for name, direction in self.directions.items():
            x = np.asarray(t[name], dtype=np.float64)
            thr = self.thresholds[name][mass_index]
            keep &= (x < thr) if direction == "<" else (x > thr)
        return keep

    def evaluate(
        self,
        table: Mapping[str, ArrayLike],
        window_lo: ArrayLike,
        window_hi: ArrayLike,
        sigma_total_fb: ArrayLike,
        lumi_fb: float | None = None,
    ) -> CutResult:
        """The same cuts applied to another (e.g. statistically independent) table.

        Returns a new :class:`CutResult` with the thresholds unchanged and ``fom``, ``eff``,
        ``bkg_events``, ``sensitivity``, ``fom_no_cut`` measured on ``table``
        (``lumi_fb`` defaults to this result's).
        """
        lumi_fb = self.lumi_fb if lumi_fb is None else float(lumi_fb)
        if not lumi_fb > 0:
            raise ValueError(f"lumi_fb must be > 0, got {lumi_fb}")
        t = check_table(table, list(self.directions))
        hyp = mass_hypotheses(self.masses, window_lo, window_hi, sigma_total_fb)
        n_m = hyp.n

        def passes(events: NDArray[np.int64], m: NDArray[np.int64]) -> NDArray[np.bool_]:
            keep = np.ones(events.size, dtype=bool)
            for name, direction in self.directions.items():
                x = np.asarray(t[name], dtype=np.float64)[events]
                thr = self.thresholds[name][m]
                keep &= (x < thr) if direction == "<" else (x > thr)
            return keep

        x = t["recoil_mass"]
        w = t["weight"]
        m_idx = signal_mass_index(t["mass_gen"], t["is_signal"], hyp.masses)
        ev = np.flatnonzero(m_idx >= 0)
        mi = m_idx[ev]
        inside = (x[ev] >= hyp.window_lo[mi]) & (x[ev] < hyp.window_hi[mi])
        ev, mi = ev[inside], mi[inside]
        n_gen = np.bincount(m_idx[m_idx >= 0], minlength=n_m)
        ok = passes(ev, mi)
        eff = np.bincount(mi[ok], weights=w[ev[ok]], minlength=n_m) / hyp.sigma_total_fb
        eff_all = np.bincount(mi, weights=w[ev], minlength=n_m) / hyp.sigma_total_fb
        eff = np.where(n_gen > 0, eff, np.nan)
        eff_all = np.where(n_gen > 0, eff_all, np.nan)

        bkg = np.flatnonzero(~t["is_signal"] & np.isfinite(x))
        bkg = bkg[np.argsort(x[bkg], kind="stable")]
        b_sel = np.zeros(n_m)
        b_all = np.zeros(n_m)
        for pm, pe in window_pairs(x[bkg], hyp.window_lo, hyp.window_hi):
            events = bkg[pe]
            ok = passes(events, pm)
            b_sel += np.bincount(pm[ok], weights=w[events[ok]], minlength=n_m)
            b_all += np.bincount(pm, weights=w[events], minlength=n_m)
        b_sel = lumi_fb * np.maximum(b_sel, 0.0)
        b_all = lumi_fb * np.maximum(b_all, 0.0)
        return CutResult(
            masses=self.masses,
            directions=dict(self.directions),
            thresholds={k: v.copy() for k, v in self.thresholds.items()},
            fom=punzi_fom(eff, b_sel, a=self.a),
            eff=eff,
            bkg_events=b_sel,
            sensitivity=punzi_sensitivity(eff, b_sel, lumi_fb, a=self.a),
            fom_no_cut=punzi_fom(eff_all, b_all, a=self.a),
            a=self.a,
            lumi_fb=lumi_fb,
        )

    def as_rows(self) -> list[dict[str, float]]:
        """One dict per mass (for CSV/JSON output)."""
        rows = []
        for i, m in enumerate(self.masses):
            row = {"mass": float(m)}
            for name, direction in self.directions.items():
                row[f"cut_{name}_{'lt' if direction == '<' else 'gt'}"] = float(
                    self.thresholds[name][i]
                )
            row.update(
                fom=float(self.fom[i]),
                eff=float(self.eff[i]),
                bkg_events=float(self.bkg_events[i]),
                sensitivity_fb=float(self.sensitivity[i]),
                fom_no_cut=float(self.fom_no_cut[i]),
            )
            rows.append(row)
        return rows


def _cell_index(x: NDArray, direction: str, thresholds: NDArray) -> NDArray[np.int64]:
    """Per event, the index of the first threshold (in tightness order) it passes.

    ``thresholds`` are ordered tightest first; the event passes threshold ``j`` iff
    ``j >= cell``; ``cell == k`` means it fails them all (NaN always fails).
    """
    k = thresholds.size
    if direction == "<":
        # ascending thresholds; passes t_j iff x < t_j iff j >= #(t <= x)
        cell = np.searchsorted(thresholds, x, side="right")
    else:
        # descending thresholds; passes t_j iff x > t_j iff j >= #(t >= x)
        cell = np.searchsorted(-thresholds, -x, side="right")
    cell = np.where(np.isnan(x), k, cell)
    return cell.astype(np.int64)


def optimise_cuts(
    table: Mapping[str, ArrayLike],
    features: Mapping[str, tuple[str, ArrayLike]],
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
    lumi_fb: float,
    a: float = 3.0,
    *,
    allow_no_cut: bool = True,
) -> CutResult:
    """Per mass hypothesis, the threshold combination maximising the Punzi FOM.

    ``features`` maps a feature (table column) to ``(direction, candidate thresholds)`` with
    direction ``"<"`` (keep ``x < t``) or ``">"`` (keep ``x > t``). All combinations of one
    threshold per feature are scanned (a full grid; ``allow_no_cut`` adds the "no cut"
    threshold per feature). Ties are broken towards the first combination in the order
    features x tightest-first thresholds. Every mass must have signal events generated at it.
    """
    if not lumi_fb > 0:
        raise ValueError(f"lumi_fb must be > 0, got {lumi_fb}")
    if not features:
        raise ValueError("features must name at least one feature")
    t = check_table(table, list(features))
    hyp = mass_hypotheses(masses, window_lo, window_hi, sigma_total_fb)
    n_m = hyp.n

    names = list(features)
    directions: dict[str, str] = {}
    grids: list[NDArray[np.float64]] = []
    for name in names:
        spec = features[name]
        if not (isinstance(spec, tuple | list) and len(spec) == 2):
            raise ValueError(f"features[{name!r}] must be (direction, thresholds), got {spec!r}")
        direction, thr = spec
        if direction not in DIRECTIONS:
            raise ValueError(
                f"features[{name!r}]: direction must be one of {DIRECTIONS}, got {direction!r}"
            )
        thr = np.unique(np.asarray(thr, dtype=np.float64).ravel())
        if thr.size == 0 or np.any(np.isnan(thr)):
            raise ValueError(f"features[{name!r}]: thresholds must be non-empty, without NaN")
        if allow_no_cut:
            thr = np.unique(np.append(thr, np.inf if direction == "<" else -np.inf))
        if direction == ">":
            thr = thr[::-1].copy()
        directions[name] = direction
        grids.append(thr)
    shape = tuple(g.size for g in grids)
    cell_shape = tuple(k + 1 for k in shape)
    n_cells = int(np.prod(cell_shape))
    if n_cells * n_m > MAX_CELLS * 10 or n_cells > MAX_CELLS:
        raise ValueError(
            f"threshold grid too large ({n_cells} cells x {n_m} masses): use fewer features "
            "or thresholds"
        )

    # flat cell index of each event in the threshold grid
    cell = np.zeros(t["weight"].size, dtype=np.int64)
    for name, thr in zip(names, grids, strict=True):
        x = np.asarray(t[name], dtype=np.float64)
        cell = cell * (thr.size + 1) + _cell_index(x, directions[name], thr)

    x = t["recoil_mass"]
    w = t["weight"]
    sig = t["is_signal"]

    # signal: each event in its own mass window
    m_idx, has, n_gen = signal_mass_index_checked(t, hyp.masses, "optimise_cuts")
    mi = m_idx[has]
    inside = (x[has] >= hyp.window_lo[mi]) & (x[has] < hyp.window_hi[mi])
    sig_hist = np.bincount(
        mi[inside] * n_cells + cell[has][inside],
        weights=w[has][inside],
        minlength=n_m * n_cells,
    )

    # background: (window, event) pairs from the recoil-mass order
    bkg = ~sig & np.isfinite(x)
    order = np.argsort(x[bkg], kind="stable")
    xb = x[bkg][order]
    wb = w[bkg][order]
    cb = cell[bkg][order]
    bkg_hist = np.zeros(n_m * n_cells)
    for pm, pe in window_pairs(xb, hyp.window_lo, hyp.window_hi):
        bkg_hist += np.bincount(pm * n_cells + cb[pe], weights=wb[pe], minlength=n_m * n_cells)

    def cumulate(hist: NDArray) -> NDArray:
        h = hist.reshape((n_m, *cell_shape))
        for axis in range(1, h.ndim):
            h = np.cumsum(h, axis=axis)
        return h[(slice(None), *(slice(0, k) for k in shape))]

    eff_grid = cumulate(sig_hist) / hyp.sigma_total_fb.reshape((n_m,) + (1,) * len(shape))
    bkg_grid = np.maximum(lumi_fb * cumulate(bkg_hist), 0.0)
    fom_grid = punzi_fom(eff_grid, bkg_grid, a=a).reshape(n_m, -1)
    best = np.argmax(fom_grid, axis=1)
    rows = np.arange(n_m)
    eff = eff_grid.reshape(n_m, -1)[rows, best]
    bkg_events = bkg_grid.reshape(n_m, -1)[rows, best]
    best_nd = np.unravel_index(best, shape)
    thresholds = {
        name: thr[best_nd[i]] for i, (name, thr) in enumerate(zip(names, grids, strict=True))
    }

    # preselection alone: every event passes (cell index 0 everywhere is not guaranteed)
    eff_all = sig_hist.reshape(n_m, -1).sum(axis=1) / hyp.sigma_total_fb
    bkg_all = lumi_fb * np.maximum(bkg_hist.reshape(n_m, -1).sum(axis=1), 0.0)
    return CutResult(
        masses=hyp.masses,
        directions=directions,
        thresholds=thresholds,
        fom=fom_grid[rows, best],
        eff=eff,
        bkg_events=bkg_events,
        sensitivity=punzi_sensitivity(eff, bkg_events, lumi_fb, a=a),
        fom_no_cut=punzi_fom(eff_all, bkg_all, a=a),
        a=float(a),
        lumi_fb=float(lumi_fb),
    )
