"""Reconstructed events: what the fast simulation (or a real-data ntuple) hands the analysis.

:class:`RecoEvents` holds jagged reconstructed objects in CSR form
(:class:`darkscan.generators.base.Objects`) and per-event columns:

* ``tracks``: charged tracks; columns at least ``p4`` (n, 4) lab [GeV] with the mass hypothesis
  of the best PID, ``charge``, ``pdg_true``, ``pid_e``, ``pid_mu``, ``pid_pi``, ``pid_K``
  (probability-like scores in [0, 1]), ``vertex`` (n, 3) [cm];
* ``clusters``: calorimeter clusters (photons and unmatched showers); columns at least ``p4``
  (n, 4) lab [GeV] (massless), ``region`` (0 forward endcap, 1 barrel, 2 backward endcap),
  ``pdg_true``, ``e9e21``-like shower-shape variables the detector provides;
* ``event``: per-event columns; always ``weight`` [fb per event] and trigger flags
  ``trg_<line>`` (bool); plus generator truth columns prefixed ``truth_``.

The meta mapping carries provenance (process, generator, experiment, seed, version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from darkscan.generators.base import Objects


@dataclass(frozen=True)
class RecoEvents:
    """Reconstructed events: ``tracks``, ``clusters`` (CSR objects) and per-event columns."""

    tracks: Objects
    clusters: Objects
    event: Mapping[str, NDArray[Any]]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "weight" not in self.event:
            raise ValueError("RecoEvents.event needs a 'weight' column")
        n = len(self.event["weight"])
        if self.tracks.n_events != n or self.clusters.n_events != n:
            raise ValueError("RecoEvents: tracks, clusters and event columns disagree on n_events")
        for k, v in self.event.items():
            if len(v) != n:
                raise ValueError(f"RecoEvents event column '{k}' must have one entry per event")

    @property
    def n_events(self) -> int:
        return int(len(self.event["weight"]))

    def select(self, mask: NDArray[np.bool_]) -> RecoEvents:
        mask = np.asarray(mask, bool)
        return RecoEvents(
            self.tracks.select_events(mask),
            self.clusters.select_events(mask),
            {k: v[mask] for k, v in self.event.items()},
            self.meta,
        )
