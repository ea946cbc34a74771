"""Plots of an analysis run (matplotlib, Agg; every file written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from darkscan.io import atomic_savefig
from darkscan.plots import _pyplot


def make_all(
    analysis,
    out: Path,
    rows,
    summary,
    signal,
    background,
    sig_score,
    bkg_score,
    lumi,
    cuts,
    net,
    gen_masses,
    gen_lo,
    gen_hi,
) -> list[Path]:
    """Recoil spectrum, cut flow, FOM per mass, cross-section limits, coupling exclusion."""
    plt = _pyplot()
    paths = [
        _recoil_spectrum(plt, analysis, out, summary, signal, background, lumi),
        _cutflow(plt, analysis, out, summary, lumi),
        _fom(plt, out, summary),
        _sigma_limits(plt, analysis, out, rows, summary),
        _coupling(plt, analysis, out, rows, summary),
    ]
    return [p for p in paths if p is not None]


def _recoil_spectrum(plt, analysis, out, summary, signal, background, lumi) -> Path:
    var = analysis.scan.variable
    edges = np.linspace(0.0, analysis.scan.mass_max + 1.0, 91)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = [b["label"] for b in summary["backgrounds"]]
    stacks = [background[var][background["sample"] == k] for k in range(len(labels))]
    weights = [lumi * background["weight"][background["sample"] == k] for k in range(len(labels))]
    if any(len(s) for s in stacks):
        ax.hist(
            stacks,
            bins=edges,
            weights=weights,
            stacked=True,
            label=labels,
            histtype="stepfilled",
            alpha=0.7,
        )
    g_show = 0.01
    for m in (1.0, 4.0, 7.0):
        sel = np.isclose(signal["mass_gen"], m)
        if np.any(sel):
            ax.hist(
                signal[var][sel],
                bins=edges,
                weights=lumi * g_show**2 * signal["weight"][sel],
                histtype="step",
                lw=1.5,
                label=f"Z' {m:g} GeV, g' = {g_show:g}",
            )
    ax.set_yscale("log")
    ax.set_xlabel("recoil mass [GeV]")
    ax.set_ylabel(f"events / {edges[1] - edges[0]:.2g} GeV ({lumi:g} fb$^{{-1}}$)")
    ax.set_title("after the preselection")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / "recoil_mass.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _cutflow(plt, analysis, out, summary, lumi) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = list(summary["backgrounds"][0]["cutflow_fb"]) if summary["backgrounds"] else []
    x = np.arange(len(names))
    for b in summary["backgrounds"]:
        ax.plot(x, np.asarray(list(b["cutflow_fb"].values())) * lumi, "o-", label=b["label"])
    for s in summary["signal_samples"][:: max(1, len(summary["signal_samples"]) // 4)]:
        vals = np.asarray(list(s["cutflow_fb"].values())) * lumi * 0.01**2
        ax.plot(x, vals, "s--", label=f"Z' {s['mass_gev']:g} GeV (g' = 0.01)")
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize="small")
    ax.set_yscale("log")
    ax.set_ylabel(f"events ({lumi:g} fb$^{{-1}}$)")
    ax.legend(fontsize="x-small")
    ax.set_title("cut flow")
    fig.tight_layout()
    path = out / "cutflow.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _fom(plt, out, summary) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    m = [r["mass_gev"] for r in summary["fom"]]
    ax.plot(m, [r["fom_cuts"] for r in summary["fom"]], "o-", label="best hand-made cuts")
    if any(r["fom_net"] is not None for r in summary["fom"]):
        ax.plot(m, [r["fom_net"] for r in summary["fom"]], "s-", label="Punzi-net")
    ax.set_xlabel("Z' mass [GeV]")
    ax.set_ylabel("Punzi FOM  eps / (a/2 + sqrt(B))")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("figure of merit per mass")
    fig.tight_layout()
    path = out / "fom.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _sigma_limits(plt, analysis, out, rows, summary) -> Path:
    m = np.array([r["mass_gev"] for r in rows])

    def col(k: str) -> np.ndarray:
        return np.array([r[k] for r in rows])

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.fill_between(
        m, col("sigma_ul_exp_m2"), col("sigma_ul_exp_p2"), color="gold", label="expected +-2 sigma"
    )
    ax.fill_between(
        m,
        col("sigma_ul_exp_m1"),
        col("sigma_ul_exp_p1"),
        color="limegreen",
        label="expected +-1 sigma",
    )
    ax.plot(m, col("sigma_ul_exp_fb"), "k--", label="expected")
    ax.plot(m, col("sigma_ul_obs_fb"), "k-", lw=1, label="observed")
    ax.set_yscale("log")
    ax.set_xlabel("Z' mass [GeV]")
    ax.set_ylabel(f"{int(analysis.limits.cl * 100)} % CL upper limit on sigma x BR [fb]")
    ax.set_title(
        f"{analysis.experiment}, {summary['lumi_fb']:g} fb$^{{-1}}$ "
        f"({summary['observed_from'][:40]})",
        fontsize="small",
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / "sigma_limits.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _coupling(plt, analysis, out, rows, summary) -> Path:
    from darkscan.models.zprime import DELTA_A_MU_ERR, DELTA_A_MU_EXP, g_prime_for_delta_a_mu

    m = np.array([r["mass_gev"] for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    grid = np.geomspace(max(m.min(), 1e-3), m.max(), 200)
    lo = g_prime_for_delta_a_mu(grid, DELTA_A_MU_EXP - 2 * DELTA_A_MU_ERR)
    hi = g_prime_for_delta_a_mu(grid, DELTA_A_MU_EXP + 2 * DELTA_A_MU_ERR)
    ax.fill_between(
        grid, lo, hi, color="tab:green", alpha=0.3, label="(g-2)$_\\mu$ favoured (+-2 sigma)"
    )
    exp = np.array([r["coupling_ul_exp"] for r in rows])
    ax.fill_between(
        m,
        [r["coupling_ul_exp_m1"] for r in rows],
        [r["coupling_ul_exp_p1"] for r in rows],
        color="limegreen",
        alpha=0.5,
        label="expected +-1 sigma",
    )
    ax.plot(m, exp, "k--", label="expected")
    ax.plot(m, [r["coupling_ul_obs"] for r in rows], "k-", lw=1, label="observed")
    ax.plot(
        [0.1, 1.0, 8.0], [3e-3, 3e-3, 1.0], "r:", label="published: ~3e-3 (low mass) to ~1 (8 GeV)"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Z' mass [GeV]")
    ax.set_ylabel(f"{int(analysis.limits.cl * 100)} % CL upper limit on g'")
    ax.set_title(f"{summary['model']} Z', {summary['lumi_fb']:g} fb$^{{-1}}$", fontsize="small")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / "coupling_exclusion.png"
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path
