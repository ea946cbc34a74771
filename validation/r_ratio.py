"""Validate darkscan's R(sqrt s) against a measured R compilation (0.28-2 GeV).

Prints the 50 MeV-bin comparison (bin centre, mean measured R, mean darkscan R at the same
energies, ratio), the worst ratio, R(1 GeV) with the dark photon's BR(A' -> mu mu) it implies,
and the time to evaluate R at 1e6 points. The phi bin [1.00, 1.05) is reported separately:
the digitised points there are broader than the phi allowed by its PDG electronic width.

    python validation/r_ratio.py [--data FILE] [--json] [--out plot.png]

The data file (two columns: sqrt(s) [GeV], R) is looked for in $DARKSCAN_REFERENCE_DATA, then
in ../shared/reference/data next to the repository; it is never copied into the project.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from darkscan.physics.constants import M_MUON
from darkscan.physics.r_ratio import binned_comparison, r_hadrons

DATA_NAME = "R_hadrons_ALPINIST.dat"
PHI_BIN = (1.0, 1.05)


def default_data_path() -> Path:
    env = os.environ.get("DARKSCAN_REFERENCE_DATA")
    base = (
        Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared/reference/data"
    )
    return base / DATA_NAME


def br_mumu(mass: float, r: float) -> float:
    """BR(A' -> mu mu) from the lepton widths (units of alpha eps^2 m / 3) and R."""

    def lepton(m_l: float) -> float:
        x = (m_l / mass) ** 2
        return (1 + 2 * x) * np.sqrt(max(1 - 4 * x, 0.0)) if 4 * x < 1 else 0.0

    g_mm = lepton(M_MUON)
    return g_mm / (1.0 + g_mm + r)  # e+e- massless, tau closed at 1 GeV


def timing(points: int) -> float:
    e = np.random.default_rng(1).uniform(0.0, 11.0, points)
    r_hadrons(e)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        r_hadrons(e)
        best = min(best, time.perf_counter() - t0)
    return best


def plot(x: np.ndarray, y: np.ndarray, rows: list[dict], path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not available: no plot written", file=sys.stderr)
        return False
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    grid = np.linspace(0.28, 2.2, 20000)
    ax.plot(grid, r_hadrons(grid), lw=1, label="darkscan R")
    ax.plot(x, y, "o", ms=3, color="k", label="measured (digitised compilation)")
    ax.set_yscale("log")
    ax.set_ylabel("R")
    ax.legend()
    centres = [r["centre"] for r in rows]
    axr.plot(centres, [r["ratio"] for r in rows], "s", ms=4)
    axr.axhspan(0.85, 1.15, color="0.9")
    axr.axhline(1.0, color="k", lw=0.5)
    axr.set_ylabel("darkscan / data\n(50 MeV bins)")
    axr.set_xlabel("sqrt(s) [GeV]")
    axr.set_ylim(0.4, 1.6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="measured R file")
    parser.add_argument("--json", action="store_true", help="print a JSON summary only")
    parser.add_argument("--out", help="write a PNG plot of R vs data to this file")
    parser.add_argument("--points", type=int, default=1_000_000, help="points for the timing")
    args = parser.parse_args()

    path = args.data or default_data_path()
    r1 = float(r_hadrons(1.0))
    result: dict = {
        "data_file": str(path),
        "R(1 GeV)": r1,
        "BR_mumu(1 GeV)": br_mumu(1.0, r1),
        "timing_s": {"points": args.points, "best_of_3": timing(args.points)},
    }
    rows: list[dict] = []
    if path.is_file():
        data = np.loadtxt(path, comments="#")
        x, y = data[:, 0], data[:, 1]
        rows = binned_comparison(x, y, lo=0.3, hi=2.0, width=0.05)

        def is_phi(row: dict) -> bool:
            return bool(np.isclose(row["lo"], PHI_BIN[0]))

        def worst(sel: list[dict]) -> dict:
            return max(sel, key=lambda r: abs(np.log(r["ratio"])))

        result["bins"] = rows
        result["worst"] = worst(rows)
        result["worst_excluding_phi_bin"] = worst([r for r in rows if not is_phi(r)])
        result["phi_bin"] = next(r for r in rows if is_phi(r))
        if args.out and plot(x, y, rows, args.out):
            result["plot"] = args.out
    else:
        result["error"] = f"data file {path} not found: bin comparison skipped"

    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if rows:
        print(f"{'centre':>7} {'n':>3} {'data':>9} {'darkscan':>9} {'ratio':>7}")
        for r in rows:
            flag = "  (phi bin)" if np.isclose(r["lo"], PHI_BIN[0]) else ""
            print(
                f"{r['centre']:7.3f} {r['n']:3d} {r['data']:9.3f} {r['model']:9.3f} "
                f"{r['ratio']:7.3f}{flag}"
            )
        w, wx = result["worst"], result["worst_excluding_phi_bin"]
        print(f"worst ratio (all bins): {w['ratio']:.3f} at {w['centre']:.3f} GeV")
        print(f"worst ratio (without the phi bin): {wx['ratio']:.3f} at {wx['centre']:.3f} GeV")
    else:
        print(result["error"])
    print(f"R(1.000 GeV) = {r1:.4f}   BR(A' -> mu mu, 1 GeV) = {result['BR_mumu(1 GeV)']:.4f}")
    t = result["timing_s"]
    print(f"r_hadrons on {t['points']} points: {t['best_of_3'] * 1e3:.1f} ms (best of 3)")
    if "plot" in result:
        print(f"plot written to {result['plot']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
