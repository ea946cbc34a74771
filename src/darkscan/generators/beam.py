"""Beam-energy spread: per-event beam energies applied to generated events.

Every generator works at the collider's nominal beams. :func:`apply_beam_energy_spread` gives
each event its own beam energies, E- (1 + d-) and E+ (1 + d+) with d+- Gaussian of standard
deviation ``Collider.beam_energy_spread`` (relative, per beam; see :mod:`darkscan.colliders`),
and moves the event to them:

1. every particle is boosted from the lab to the nominal CM frame;
2. the CM three-momenta of the event are scaled by one factor lambda, with each particle's
   energy recomputed from its own mass, lambda solved (Newton, per event) so that the sum of
   the energies equals the new sqrt(s'): the total CM momentum stays zero and energy is
   conserved exactly, masses are kept exactly;
3. the event is boosted to the lab with the velocity of its own beams (crossing angle included).

The CM axes of the shifted beams differ from the nominal ones by a rotation of order the
spread (1e-3 rad), neglected, as is the change of the cross section across the spread (the
weights are kept; sigma changes by ~ 2 d sqrt(s) / sqrt(s) ~ 1e-3 for 1/s processes). Where it
matters: recoil and missing masses computed with the nominal beams. With dP = P_nominal -
P_true the recoil mass^2 of an invisible X becomes m_X^2 + 2 dP.p_X + dP^2: a first-order
smearing ~ 2 E_X sigma_E (~ 0.05 GeV^2 for E_X = 5 GeV at Belle II), largest for
single-photon searches where M_X^2 = s - 2 sqrt(s) E*_gamma moves by 2 sqrt(s) dsqrt(s)
~ 0.12 GeV^2 when sqrt(s) is taken nominal. Records that store a decaying parent with its
daughters get each particle moved alone: the parent's four-momentum then equals the sum of
its daughters' to O(spread x (m / E)^2). Vertices are not changed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from darkscan.colliders import Collider
from darkscan.generators.base import EventBatch, Objects
from darkscan.physics.lorentz import boost

Array = NDArray[np.float64]


def beam_four_momenta(
    collider: Collider, d_minus: NDArray[np.float64], d_plus: NDArray[np.float64]
) -> tuple[Array, Array]:
    """Four-momenta (n, 4) [GeV] of beams with relative energy shifts ``d_minus``, ``d_plus``
    (massless beams along the collider's nominal directions)."""
    d_minus = np.asarray(d_minus, float)
    d_plus = np.asarray(d_plus, float)
    return (
        (1.0 + d_minus)[:, None] * collider.p_minus[None, :],
        (1.0 + d_plus)[:, None] * collider.p_plus[None, :],
    )


def _solve_scale(p2: Array, m2: Array, event: NDArray[np.int64], n_events: int, target: Array):
    """Per-event lambda with sum_i sqrt(lambda^2 p_i^2 + m_i^2) = target (Newton from 1)."""
    lam = np.ones(n_events)
    for _ in range(30):
        e = np.sqrt(lam[event] ** 2 * p2 + m2)
        f = np.bincount(event, e, minlength=n_events) - target
        df = np.bincount(event, lam[event] * p2 / np.where(e > 0, e, 1.0), minlength=n_events)
        step = np.divide(f, df, out=np.zeros(n_events), where=df > 0)
        lam = lam - step
        if np.all(np.abs(step) < 1e-14):
            break
    return lam


def apply_beam_energy_spread(
    batch: EventBatch, collider: Collider, rng: np.random.Generator
) -> EventBatch:
    """``batch`` with every event moved to its own randomly spread beam energies (see the
    module docstring); truth columns ``beam_e_minus`` and ``beam_e_plus`` [GeV] are added and
    ``meta["beam_energy_spread"]`` records the relative spreads used. A collider with zero
    spread returns the batch unchanged (apart from the truth columns)."""
    if not isinstance(batch, EventBatch):
        raise ValueError(f"batch must be an EventBatch, got {type(batch).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    s_minus, s_plus = collider.beam_energy_spread
    n_ev = batch.n_events
    d_minus = s_minus * rng.standard_normal(n_ev)
    d_plus = s_plus * rng.standard_normal(n_ev)
    truth = {
        **dict(batch.truth),
        "beam_e_minus": collider.e_minus * (1.0 + d_minus),
        "beam_e_plus": collider.e_plus * (1.0 + d_plus),
    }
    meta = {**dict(batch.meta), "beam_energy_spread": [float(s_minus), float(s_plus)]}
    parts = batch.particles
    p4 = np.asarray(parts.columns["p4"], float)
    if (s_minus == 0.0 and s_plus == 0.0) or p4.shape[0] == 0:
        return EventBatch(parts, batch.weight, batch.process, truth, meta)
    event = parts.event_index()
    p_minus, p_plus = beam_four_momenta(collider, d_minus, d_plus)
    total = p_minus + p_plus
    sqrt_s_new = np.sqrt(total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1))
    cm = boost(p4, -collider.boost)
    m2 = np.maximum(cm[:, 0] ** 2 - np.sum(cm[:, 1:] ** 2, axis=1), 0.0)
    p2 = np.sum(cm[:, 1:] ** 2, axis=1)
    lam = _solve_scale(p2, m2, event, n_ev, sqrt_s_new)
    out = np.empty_like(cm)
    out[:, 1:] = cm[:, 1:] * lam[event][:, None]
    out[:, 0] = np.sqrt(lam[event] ** 2 * p2 + m2)
    beta = (total[:, 1:] / total[:, :1])[event]
    lab = boost(out, beta)
    columns = {**dict(parts.columns), "p4": lab}
    return EventBatch(Objects(parts.offsets, columns), batch.weight, batch.process, truth, meta)


__all__ = ["apply_beam_energy_spread", "beam_four_momenta"]
