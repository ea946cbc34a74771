"""Generated events as columnar arrays, and the interface every process generator follows.

Event record (:class:`EventBatch`): jagged particle lists stored CSR-style, i.e. flat particle
arrays plus ``offsets`` (event i owns particles ``offsets[i]:offsets[i+1]``), per-event weights
and truth columns. Conventions:

* four-momenta (E, px, py, pz) in GeV in the **lab** frame (z along the e- beam), production
  vertices in cm; only final-state particles are stored (long-lived mediators are stored with
  their decay products when they decay inside the detector volume; see each generator);
* ``weight`` is in fb per event: sum(weight) estimates the generated cross section, so a
  sample stands for the expected yield ``lumi_fb * sum(weight)``; its *effective luminosity*
  is (sum w)^2 / sum(w^2) / sum(w) [fb^-1];
* dark-sector particles use the PDG MC numbering reserved for dark matter and mediators:
  52 (fermion DM chi), 54 (scalar or pseudoscalar mediator S, a, h', phi), 55 (vector mediator
  A', Z'); neutrinos 12/14/16.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from darkscan.colliders import Collider

PDG_CHI = 52
PDG_SCALAR_MEDIATOR = 54
PDG_VECTOR_MEDIATOR = 55
#: PDG ids that never leave a signal in the detector.
INVISIBLE_PDG = frozenset({12, 14, 16, PDG_CHI})


@dataclass(frozen=True)
class Objects:
    """Jagged per-event objects in CSR form: ``columns[name][offsets[i]:offsets[i+1]]``."""

    offsets: NDArray[np.int64]
    columns: Mapping[str, NDArray[Any]]

    def __post_init__(self) -> None:
        off = np.asarray(self.offsets)
        if off.ndim != 1 or off.size < 1 or off[0] != 0 or np.any(np.diff(off) < 0):
            raise ValueError("Objects.offsets must start at 0 and be non-decreasing")
        for name, col in self.columns.items():
            if len(col) != off[-1]:
                raise ValueError(
                    f"Objects column '{name}' has {len(col)} rows, offsets say {off[-1]}"
                )

    @property
    def n_events(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def counts(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    def event_index(self) -> NDArray[np.int64]:
        """Event number of every object."""
        return np.repeat(np.arange(self.n_events), self.counts)

    def select_events(self, mask: NDArray[np.bool_]) -> Objects:
        """Keep the objects of the events where ``mask`` is True."""
        mask = np.asarray(mask, bool)
        keep = mask[self.event_index()]
        counts = self.counts[mask]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Objects(offsets, {k: v[keep] for k, v in self.columns.items()})

    def select_objects(self, mask: NDArray[np.bool_]) -> Objects:
        """Keep the objects where ``mask`` (one entry per object) is True."""
        mask = np.asarray(mask, bool)
        counts = np.bincount(self.event_index()[mask], minlength=self.n_events)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Objects(offsets, {k: v[mask] for k, v in self.columns.items()})

    @staticmethod
    def concatenate(parts: Sequence[Objects]) -> Objects:
        counts = np.concatenate([p.counts for p in parts]) if parts else np.zeros(0, np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        names = list(parts[0].columns) if parts else []
        return Objects(offsets, {n: np.concatenate([p.columns[n] for p in parts]) for n in names})

    @staticmethod
    def from_fixed(columns: Mapping[str, NDArray[Any]], n_per_event: int) -> Objects:
        """Objects with exactly ``n_per_event`` per event; columns are (n_events, k[, ...])."""
        first = next(iter(columns.values()))
        n_events = first.shape[0]
        offsets = np.arange(n_events + 1, dtype=np.int64) * n_per_event
        flat = {k: v.reshape(n_events * n_per_event, *v.shape[2:]) for k, v in columns.items()}
        return Objects(offsets, flat)


@dataclass(frozen=True)
class EventBatch:
    """Generator-level events: particles (``pdg``, ``p4`` [GeV], ``vertex`` [cm]), weights [fb]
    and per-event truth columns."""

    particles: Objects
    weight: NDArray[np.float64]
    process: str
    truth: Mapping[str, NDArray[Any]] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for col in ("pdg", "p4", "vertex"):
            if col not in self.particles.columns:
                raise ValueError(f"EventBatch particles need a '{col}' column")
        if len(self.weight) != self.particles.n_events:
            raise ValueError("EventBatch: one weight per event")
        for k, v in self.truth.items():
            if len(v) != len(self.weight):
                raise ValueError(f"EventBatch truth column '{k}' must have one entry per event")

    @property
    def n_events(self) -> int:
        return int(len(self.weight))

    @property
    def cross_section_fb(self) -> float:
        """Sum of weights [fb]: the cross section this batch estimates."""
        return float(np.sum(self.weight))

    def effective_lumi_fb(self) -> float:
        """Luminosity [fb^-1] with the same relative statistical precision as this sample."""
        s1, s2 = float(np.sum(self.weight)), float(np.sum(np.square(self.weight)))
        return s1 / s2 if s2 > 0 else 0.0

    def select(self, mask: NDArray[np.bool_]) -> EventBatch:
        mask = np.asarray(mask, bool)
        return EventBatch(
            self.particles.select_events(mask),
            self.weight[mask],
            self.process,
            {k: v[mask] for k, v in self.truth.items()},
            self.meta,
        )

    @staticmethod
    def concatenate(batches: Sequence[EventBatch]) -> EventBatch:
        if not batches:
            raise ValueError("nothing to concatenate")
        truth_keys = list(batches[0].truth)
        return EventBatch(
            Objects.concatenate([b.particles for b in batches]),
            np.concatenate([b.weight for b in batches]),
            batches[0].process,
            {k: np.concatenate([b.truth[k] for b in batches]) for k in truth_keys},
            batches[0].meta,
        )


class Process(ABC):
    """An e+e- (or B-decay) process generator at a collider's beams.

    ``generate`` returns *weighted* events at the lab frame of ``collider``; the weights carry
    the cross section (fb per event). Generators draw all random numbers from ``rng``.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def generate(self, n_events: int, rng: np.random.Generator, collider: Collider) -> EventBatch:
        """``n_events`` weighted events."""

    def check_n_events(self, n_events: int) -> int:
        if not isinstance(n_events, int | np.integer) or n_events < 0:
            raise ValueError(f"n_events must be a non-negative integer, got {n_events!r}")
        return int(n_events)
