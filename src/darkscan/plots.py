"""Plots: matplotlib figures written atomically (Agg backend, no display needed)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from darkscan.io import atomic_savefig


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_branching_fractions(
    model,
    masses: Sequence[float],
    couplings: Mapping[str, float],
    path: str | os.PathLike[str],
    n_points: int = 800,
):
    """Branching fractions against mass on a dense log grid spanning ``masses``
    (0.01-10 GeV for a single mass)."""
    plt = _pyplot()
    lo, hi = float(np.min(masses)), float(np.max(masses))
    if hi <= lo or lo <= 0:
        lo, hi = 0.01, 10.0
    grid = np.geomspace(lo, hi, n_points)
    brs = model.branching_fractions(grid, **couplings)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for ch, br in brs.items():
        if np.any(br > 1e-4):
            ax.plot(grid, br, label=ch)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1.5)
    ax.set_xlabel(f"m({model.mediator}) [GeV]")
    ax.set_ylabel("branching fraction")
    label = ", ".join(f"{k} = {v:g}" for k, v in couplings.items())
    ax.set_title(f"{model.name}" + (f" ({label})" if label else ""))
    ax.legend(fontsize="small", ncol=2)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
    return path
