"""Event generators: darkscan's own vectorised signal and SM background processes.

Look a process up by name (``darkscan generate --list`` prints them)::

    from darkscan.generators import get_process
    proc = get_process("ee-gamma-aprime", mass=1.0, eps=1e-3)
    batch = proc.generate(100_000, rng, BELLE2)
"""

from __future__ import annotations

import importlib
from typing import Any

from darkscan.generators.base import EventBatch, Objects, Process

#: name -> (module, class, default parameters); imported lazily.
_REGISTRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    # signal
    "ee-gamma-aprime": ("darkscan.generators.signal_photon", "GammaDarkPhoton", {}),
    "ee-gamma-alp": ("darkscan.generators.signal_photon", "GammaALP", {}),
    "ee-mumu-zprime": ("darkscan.generators.signal_zprime", "MuMuZPrime", {}),
    "ee-aprime-hprime": ("darkscan.generators.signal_photon", "DarkHiggsstrahlung", {}),
    # SM backgrounds (darkscan's own)
    "ee-mumu": ("darkscan.generators.qed", "MuMuGamma", {}),
    "ee-tautau": ("darkscan.generators.qed", "TauTauGamma", {}),
    "ee-gammagamma": ("darkscan.generators.qed", "GammaGammaGamma", {}),
    "ee-bhabha": ("darkscan.generators.qed", "Bhabha", {}),
    "ee-eemumu": ("darkscan.generators.two_photon", "EEMuMu", {}),
    "ee-eeee": ("darkscan.generators.two_photon", "EEEE", {}),
    "ee-mumumumu": ("darkscan.generators.two_photon", "MuMuMuMu", {}),
}


def process_names() -> list[str]:
    return list(_REGISTRY)


def get_process(name: str, **parameters: Any) -> Process:
    """Instantiate the process registered as ``name``."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown process '{name}'; valid: {process_names()}")
    module, cls, defaults = _REGISTRY[name]
    try:
        klass = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"process '{name}' is not available in this build: {exc}") from exc
    try:
        return klass(**{**defaults, **parameters})
    except TypeError as exc:
        raise ValueError(f"bad parameter for process '{name}': {exc}") from exc


__all__ = ["EventBatch", "Objects", "Process", "get_process", "process_names"]
