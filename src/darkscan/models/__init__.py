"""Mediator models of the B-factory dark-sector programme, one file each.

Every model answers the same verbs (see :class:`darkscan.models.base.Model`): partial widths,
total width, branching fractions, c tau, decay probability between two radii and, where a
closed form exists, e+e- production cross sections. Look a model up by name::

    from darkscan.models import get_model
    ap = get_model("dark-photon")
    ap.branching_fractions([0.5, 1.0, 2.0], eps=1e-3)
"""

from __future__ import annotations

import importlib
from typing import Any

from darkscan.models.base import INVISIBLE, Coupling, Model, Production

#: name -> (module, class, fixed parameters). Imported lazily so that `darkscan model` is fast.
_REGISTRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    "dark-photon": ("darkscan.models.dark_photon", "DarkPhoton", {}),
    "dark-photon-invisible": (
        "darkscan.models.dark_photon",
        "DarkPhoton",
        {"chi_mass_ratio": 1.0 / 3.0},
    ),
    "zprime-lmu-ltau": ("darkscan.models.zprime", "LmuLtauZPrime", {}),
    "zprime-lmu-ltau-invisible": (
        "darkscan.models.zprime",
        "LmuLtauZPrime",
        {"benchmark": "fully-invisible"},
    ),
    "alp-photon": ("darkscan.models.alp_photon", "PhotonALP", {}),
    "alp-w": ("darkscan.models.alp_w", "WALP", {}),
    "alp-leptons": ("darkscan.models.alp_leptons", "LeptonALP", {}),
    "dark-scalar": ("darkscan.models.dark_scalar", "DarkScalar", {}),
    "leptophilic-scalar": ("darkscan.models.leptophilic_scalar", "LeptophilicScalar", {}),
    "muonphilic-scalar": ("darkscan.models.leptophilic_scalar", "MuonphilicScalar", {}),
    "dark-higgs": ("darkscan.models.dark_higgs", "DarkHiggs", {}),
    "inelastic-dm": ("darkscan.models.inelastic_dm", "InelasticDM", {}),
    "tau-lfv-alpha": ("darkscan.models.tau_lfv", "TauLFVAlpha", {}),
}


def model_names() -> list[str]:
    """Names of every registered model."""
    return list(_REGISTRY)


def get_model(name: str, **parameters: Any) -> Model:
    """Instantiate the model registered as ``name`` (fixed parameters may be overridden)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model '{name}'; valid: {model_names()}")
    module, cls, defaults = _REGISTRY[name]
    klass = getattr(importlib.import_module(module), cls)
    try:
        model = klass(**{**defaults, **parameters})
    except TypeError as exc:
        import dataclasses

        valid = [f.name for f in dataclasses.fields(klass)]
        raise ValueError(f"bad parameter for model '{name}': {exc}; valid: {valid}") from exc
    # The registry name wins over the class default (one class may serve several benchmarks).
    object.__setattr__(model, "name", name)
    return model


def list_models() -> list[dict[str, Any]]:
    """Every registered model described as plain data."""
    return [get_model(n).describe() for n in model_names()]


__all__ = [
    "INVISIBLE",
    "Coupling",
    "Model",
    "Production",
    "get_model",
    "list_models",
    "model_names",
]
