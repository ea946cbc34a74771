"""The declarative description of a search: what an analysis file writes down.

An :class:`Analysis` names its experiment and data set, its signal and background processes,
its selection, its scan, its statistics and its interpretation, plus the published result it
reproduces. :mod:`darkscan.analyses.runner` executes any such description over the shared
layers (generators, detector, stats, models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Table = dict[str, NDArray]


@dataclass(frozen=True)
class Published:
    """The published result an analysis reproduces (for plots and the summary)."""

    citation: str
    observable: str
    cl: float
    summary: str = ""


@dataclass(frozen=True)
class Signal:
    """Signal process generated at ``masses`` [GeV] (efficiency and resolution are
    interpolated between them), ``events`` each; ``mass_param`` names the process parameter
    that carries the mediator mass."""

    process: str
    masses: tuple[float, ...]
    events: int
    params: Mapping[str, Any] = field(default_factory=dict)
    mass_param: str = "mass"


@dataclass(frozen=True)
class Background:
    """An SM background sample: ``events`` generated (weighted/biased) events of ``process``."""

    label: str
    process: str
    events: int
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut:
    """One named requirement on the event table (``func(table) -> bool mask``)."""

    name: str
    func: Callable[[Table], NDArray[np.bool_]]


@dataclass(frozen=True)
class Windows:
    """Counting windows of +- ``n_sigma`` resolution on ``variable``, spaced by
    ``step_sigma`` resolutions, from ``mass_min`` to ``mass_max`` [GeV]."""

    variable: str
    n_sigma: float = 2.0
    step_sigma: float = 0.5
    mass_min: float = 0.1
    mass_max: float = 8.0
    bin_width: float = 0.002


@dataclass(frozen=True)
class Limits:
    """Statistics: confidence level, method, background systematic (relative)."""

    cl: float = 0.90
    method: str = "cls"
    bkg_syst_rel: float = 0.10
    global_toys: int = 2000


@dataclass(frozen=True)
class Interpretation:
    """Coupling interpretation of a cross-section limit.

    ``sigma_fb(collider, mass)`` is the production cross section [fb] at the coupling value
    ``reference_coupling`` (the normalisation the signal efficiencies refer to); the limit on
    the coupling is ``reference_coupling * sqrt(sigma_UL / (sigma_fb * BR))`` with ``BR`` the
    branching fraction into ``channel`` of the chosen model (``models``: option name ->
    darkscan.models registry name). Valid when sigma x BR scales as coupling^2 (narrow
    mediator, BR independent of the coupling).
    """

    coupling: str
    models: Mapping[str, str]
    default_model: str
    sigma_fb: Callable[[Any, float], float]
    reference_coupling: float = 1.0
    channel: str = "invisible"


@dataclass(frozen=True)
class Analysis:
    name: str
    title: str
    experiment: str
    lumi_fb: float
    reference: Published
    signal: Signal
    backgrounds: tuple[Background, ...]
    preselection: tuple[Cut, ...]
    features: tuple[str, ...]
    cut_grid: Mapping[str, tuple[str, tuple[float, ...]]]
    scan: Windows
    limits: Limits
    interpret: Interpretation
    variables: Callable[..., Table] | None = None
    description: str = ""
    quote_masses: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 6.0, 8.0)
