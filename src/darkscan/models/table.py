"""Tabulate a model over (mass x coupling) grids: the data behind ``darkscan model``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from darkscan.colliders import Collider
from darkscan.models.base import Model


def parse_values(text: str, option: str) -> list[float]:
    """Parse ``"0.5,1,2"``, ``"start:stop:n"`` (linear) or ``"start:stop:n:log"``.

    Raises ValueError naming ``option`` on malformed input.
    """
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("lin", "log")):
                raise ValueError("expected start:stop:n or start:stop:n:log")
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1:
                raise ValueError("n must be >= 1")
            if len(parts) == 4 and parts[3] == "log":
                if start <= 0 or stop <= 0:
                    raise ValueError("a log grid needs start, stop > 0")
                return np.geomspace(start, stop, n).tolist()
            return np.linspace(start, stop, n).tolist()
        values = [float(v) for v in text.split(",") if v.strip()]
        if not values:
            raise ValueError("no values")
        return values
    except ValueError as exc:
        raise ValueError(
            f"{option}: cannot parse {text!r} ({exc}); use a comma list like 0.5,1,2 or a grid "
            "start:stop:n[:log]"
        ) from None


def model_table(
    model: Model,
    masses: Sequence[float],
    couplings: Mapping[str, Sequence[float]],
    collider: Collider,
    *,
    process: str | None = None,
) -> list[dict[str, Any]]:
    """One record per (mass, couplings) point: widths, BRs, c tau and production.

    ``sigma_fb`` is the tree-level e+e- production cross section at the collider's sqrt(s) with
    the first particle of the process inside the calorimeter's polar acceptance mapped to the
    CM frame (None when the model has no closed-form production). Models produced in B decays
    also carry ``br_production`` (B decay mode -> branching fraction).
    """
    names = list(couplings)
    grids = np.meshgrid(
        np.asarray(masses, float), *[np.asarray(couplings[n], float) for n in names], indexing="ij"
    )
    mass = grids[0].ravel()
    cvals = {n: g.ravel() for n, g in zip(names, grids[1:], strict=True)}
    widths = model.partial_widths(mass, **cvals)
    total = model.total_width(mass, **cvals)
    brs = model.branching_fractions(mass, **cvals)
    ctau = model.ctau_cm(mass, **cvals)
    sigma = None
    proc_name = None
    if model.productions:
        proc_name = model.check_production(process).name
        z_lo, z_hi = collider.photon_cos_theta_cm_range()
        sigma = model.cross_section_fb(
            collider.sqrt_s,
            mass,
            process=proc_name,
            cos_theta_min=z_lo,
            cos_theta_max=z_hi,
            **cvals,
        )
    b_brs = {
        mode: model.b_decay_branching_fraction(mode, mass, **cvals) for mode in model.b_decay_modes
    }
    rows: list[dict[str, Any]] = []
    for i in range(mass.size):
        row: dict[str, Any] = {
            "model": model.name,
            "mass": float(mass[i]),
            "couplings": {n: float(cvals[n][i]) for n in names},
            "total_width": float(total[i]),
            "ctau_cm": float(ctau[i]),
            "br": {ch: float(brs[ch][i]) for ch in model.channels},
            "partial_widths": {ch: float(widths[ch][i]) for ch in model.channels},
            "sigma_fb": None if sigma is None else float(sigma[i]),
            "process": proc_name,
            "collider": collider.name,
            "sqrt_s": collider.sqrt_s,
        }
        if b_brs:
            row["br_production"] = {mode: float(v[i]) for mode, v in b_brs.items()}
        rows.append(row)
    return rows


def flatten_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A flat dict (``br_<channel>``, ``<coupling>``) for CSV output."""
    flat: dict[str, Any] = {"model": row["model"], "mass": row["mass"]}
    flat.update(row["couplings"])
    flat["total_width"] = row["total_width"]
    flat["ctau_cm"] = row["ctau_cm"]
    for ch, v in row["br"].items():
        flat[f"br_{ch}"] = v
    flat["sigma_fb"] = row["sigma_fb"]
    for mode, v in row.get("br_production", {}).items():
        flat[f"br_{mode}"] = v
    return flat
