"""Execute an :class:`~darkscan.analyses.base.Analysis`: generate, simulate, select, scan,
compute limits and interpret them; write the outputs atomically.

Statistics of the scan. Every generated background event ``i`` carries a weight ``w_i`` [fb];
at luminosity ``L`` it stands for ``L w_i`` expected events. The selection of mass hypothesis
``j`` (its cuts or the Punzi-net score, and its recoil-mass window) is a 0/1 matrix
``A[j, i]``, so the expected background of every window is ``b = A (L w)`` in one product, with
the Monte Carlo uncertainty ``sqrt(A (L w)^2)`` and a relative systematic added in quadrature.
A background-only pseudo-experiment draws ``n_i ~ Poisson(L w_i)`` for every event (the exact
Poisson process of the weighted sample), giving correlated counts ``A n`` in overlapping
windows: the observed column without ``--data`` and the whole-scan toys of the global
significance. With ``--data`` the observed counts are ``A 1`` over the data events.

Signal efficiency and resolution come from signal samples at a few generated masses and are
interpolated to the scan masses (the per-mass cut thresholds too).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from darkscan.analyses.base import Analysis, Table
from darkscan.colliders import get_collider
from darkscan.io import atomic_write_csv, atomic_write_json
from darkscan.stats.counting import discovery_asymptotic, upper_limit_asymptotic
from darkscan.stats.scan import global_significance

LIMIT_COLUMNS = (
    "mass_gev",
    "sigma_ul_obs_fb",
    "sigma_ul_exp_fb",
    "sigma_ul_exp_m1",
    "sigma_ul_exp_p1",
    "sigma_ul_exp_m2",
    "sigma_ul_exp_p2",
    "coupling_ul_obs",
    "coupling_ul_exp",
    "coupling_ul_exp_m1",
    "coupling_ul_exp_p1",
    "local_z",
    "status",
    "efficiency",
    "resolution_gev",
    "window_lo_gev",
    "window_hi_gev",
    "bkg_events",
    "bkg_unc_events",
    "n_obs",
    "selection",
)


def _concat(tables: list[Table]) -> Table:
    keys = set(tables[0])
    for t in tables[1:]:
        keys &= set(t)
    return {k: np.concatenate([t[k] for t in tables]) for k in sorted(keys)}


def _apply(table: Table, mask: NDArray[np.bool_]) -> Table:
    return {k: v[mask] for k, v in table.items()}


@dataclass
class Progress:
    """A thin wrapper over rich's progress bar that can be disabled."""

    enabled: bool = True
    _progress: Any = field(default=None, init=False)

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import (
                Progress as RichProgress,
            )

            self._progress = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def task(self, description: str, total: int) -> Callable[[], None]:
        if self._progress is None:
            return lambda: None
        tid = self._progress.add_task(description, total=total)
        return lambda: self._progress.advance(tid)


def simulate_sample(
    process: str,
    params: dict[str, Any],
    n_events: int,
    rng: np.random.Generator,
    analysis: Analysis,
    chunk: int = 200_000,
) -> tuple[Table, dict[str, Any]]:
    """Generate, simulate and reconstruct ``n_events`` of ``process`` in chunks (memory bounded
    by ``chunk``); returns the preselected event table and sample information."""
    from darkscan.detector.simulate import simulate
    from darkscan.generators import get_process

    collider = get_collider(analysis.experiment)
    proc = get_process(process, **params)
    variables = analysis.variables
    tables = []
    flow = np.zeros(len(analysis.preselection) + 1)
    sum_w = sum_w2 = 0.0
    n_gen = 0
    n_chunks = max(1, int(np.ceil(n_events / chunk)))
    for k in range(n_chunks):
        n = min(chunk, n_events - k * chunk)
        batch = proc.generate(n, rng, collider)
        scale = n / n_events  # each chunk's weights estimate the full cross section
        w = batch.weight * scale
        batch = type(batch)(batch.particles, w, batch.process, batch.truth, batch.meta)
        sum_w += float(np.sum(w))
        sum_w2 += float(np.sum(w * w))
        n_gen += batch.n_events
        reco = simulate(batch, analysis.experiment, rng)
        table = variables(reco, collider)
        mask = np.ones(len(table["weight"]), bool)
        flow[0] += float(np.sum(table["weight"]))
        for c, cut in enumerate(analysis.preselection):
            mask &= cut.func(table)
            flow[c + 1] += float(np.sum(table["weight"][mask]))
        tables.append(_apply(table, mask))
    info = {
        "process": process,
        "params": {k: str(v) for k, v in params.items()},
        "events": n_gen,
        "cross_section_fb": sum_w,
        "effective_lumi_fb": sum_w / sum_w2 if sum_w2 > 0 else 0.0,
        "cutflow_fb": dict(
            zip(
                ["two tracks", *[c.name for c in analysis.preselection]], flow.tolist(), strict=True
            )
        ),
    }
    return _concat(tables), info


def resolution(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """Core resolution: half the weighted 15.9-84.1 % interquantile range."""
    if values.size < 5:
        return float("nan")
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    cw /= cw[-1]
    lo, hi = np.interp([0.1587, 0.8413], cw, values[order])
    return float(0.5 * (hi - lo))


def scan_masses(gen_masses: NDArray, sigma: NDArray, window) -> NDArray[np.float64]:
    """Scan grid from ``mass_min`` to ``mass_max`` in steps of ``step_sigma`` resolutions."""
    out = [window.mass_min]
    while True:
        s = float(np.interp(out[-1], gen_masses, sigma))
        nxt = out[-1] + max(window.step_sigma * s, window.bin_width)
        if nxt > window.mass_max:
            break
        out.append(nxt)
    return np.asarray(out)


def selection_matrix(
    table: Table,
    thresholds: dict[str, tuple[str, NDArray]] | None,
    score: NDArray | None,
    score_cut: float,
    variable: str,
    lo: NDArray,
    hi: NDArray,
) -> NDArray[np.bool_]:
    """(n_masses, n_events) boolean matrix: event passes hypothesis j's selection and window."""
    x = table[variable][None, :]
    a = (x >= lo[:, None]) & (x < hi[:, None])
    if score is not None:
        a &= (score >= score_cut)[None, :]
    if thresholds:
        for name, (direction, thr) in thresholds.items():
            col = table[name][None, :]
            a &= (col < thr[:, None]) if direction == "<" else (col > thr[:, None])
    return a


@dataclass
class RunResult:
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    out: Path


def run_analysis(
    analysis: Analysis,
    *,
    out: Path,
    seed: int = 1,
    lumi_fb: float | None = None,
    scale: float = 1.0,
    model: str | None = None,
    data: Path | None = None,
    use_net: bool | None = None,
    net_epochs: tuple[int, int] = (5, 150),
    progress: bool = True,
    plots: bool = True,
    log: Callable[[str], None] = print,
) -> RunResult:
    """Run ``analysis`` end to end; see the module docstring. ``scale`` multiplies every
    sample size (0.05 for a quick test run)."""
    t_start = time.perf_counter()
    tracemalloc.start()
    lumi = float(analysis.lumi_fb if lumi_fb is None else lumi_fb)
    if not np.isfinite(lumi) or lumi <= 0:
        raise ValueError(f"--lumi must be a positive number of fb^-1, got {lumi_fb!r}")
    interp = analysis.interpret
    model_name = model or interp.default_model
    if model_name not in interp.models:
        raise ValueError(f"unknown --model '{model_name}'; valid: {list(interp.models)}")
    collider = get_collider(analysis.experiment)
    seeds = np.random.SeedSequence(seed).spawn(
        len(analysis.signal.masses) + len(analysis.backgrounds) + 3
    )
    sig = analysis.signal
    gen_masses = np.asarray(sig.masses, float)
    timings: dict[str, float] = {}

    # ---------------------------------------------------------------- samples
    t0 = time.perf_counter()
    sig_tables, sig_info = [], []
    bkg_tables, bkg_info = [], []
    with Progress(progress) as bar:
        step = bar.task("signal samples", len(gen_masses))
        for k, m in enumerate(gen_masses):
            params = {**sig.params, sig.mass_param: float(m)}
            n = max(200, int(sig.events * scale))
            t, info = simulate_sample(
                sig.process, params, n, np.random.default_rng(seeds[k]), analysis
            )
            t["is_signal"] = np.ones(len(t["weight"]), bool)
            t["mass_gen"] = np.full(len(t["weight"]), m)
            sig_tables.append(t)
            sig_info.append(info)
            step()
        step = bar.task("background samples", len(analysis.backgrounds))
        for k, bk in enumerate(analysis.backgrounds):
            n = max(1000, int(bk.events * scale))
            t, info = simulate_sample(
                bk.process,
                dict(bk.params),
                n,
                np.random.default_rng(seeds[len(gen_masses) + k]),
                analysis,
            )
            t["is_signal"] = np.zeros(len(t["weight"]), bool)
            t["mass_gen"] = np.full(len(t["weight"]), np.nan)
            t["sample"] = np.full(len(t["weight"]), k)
            info["label"] = bk.label
            info["selected_events"] = int(len(t["weight"]))
            info["expected_after_preselection"] = float(np.sum(t["weight"]) * lumi)
            w_sel = t["weight"]
            s2 = float(np.sum(w_sel * w_sel))
            # the luminosity the selected sample stands for (its relative MC precision)
            info["effective_lumi_selected_fb"] = float(np.sum(w_sel)) / s2 if s2 > 0 else 0.0
            bkg_tables.append(t)
            bkg_info.append(info)
            step()
    timings["samples_s"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- normalisation
    sigma_ref = np.array([interp_sigma(analysis, collider, m) for m in gen_masses])
    var = analysis.scan.variable
    res = np.array([resolution(t[var], t["weight"]) for t in sig_tables])
    good = np.isfinite(res) & (res > 0)
    if good.sum() < 2:
        raise ValueError("too few signal events pass the preselection to measure resolutions")
    res = np.where(good, res, np.interp(gen_masses, gen_masses[good], res[good]))
    res = np.maximum(res, analysis.scan.bin_width)
    n_sig = analysis.scan.n_sigma
    gen_lo = np.clip(gen_masses - n_sig * res, 0.0, None)
    gen_hi = gen_masses + n_sig * res
    signal = _concat(sig_tables)
    background = _concat(bkg_tables)
    both = _concat([signal, {**background}])
    # the signal weights of mass m sum to sigma_ref[m] x acceptance at generation
    # (sigma_total_fb normalises efficiencies to the full cross section)

    # ---------------------------------------------------------------- selection
    t0 = time.perf_counter()
    from darkscan.selection.cuts import optimise_cuts
    from darkscan.selection.punzi_net import torch_available

    features = {k: (d, np.asarray(v, float)) for k, (d, v) in analysis.cut_grid.items()}
    # optimise / train on one half of the simulated events, measure the FOM on the other
    from darkscan.selection.punzi import split_table

    train, test = split_table(both, 0.5, np.random.default_rng(seeds[-3]))
    cuts_train = optimise_cuts(train, features, gen_masses, gen_lo, gen_hi, sigma_ref, lumi)
    cuts = cuts_train.evaluate(test, gen_lo, gen_hi, sigma_ref, lumi)
    net = None
    net_note = ""
    fom_cmp = None
    want_net = torch_available() if use_net is None else use_net
    if want_net and not torch_available():
        raise ValueError("--net needs torch: pip install 'darkscan[ml]'")
    if not want_net:
        net_note = (
            "torch is not installed: the Punzi-net is skipped and the hand-made cuts are used"
            if not torch_available()
            else "Punzi-net disabled (--no-net)"
        )
    if want_net:
        from darkscan.selection.punzi_net import compare_fom, train_punzi_net

        net = train_punzi_net(
            train,
            list(analysis.features),
            gen_masses,
            gen_lo,
            gen_hi,
            sigma_ref,
            lumi,
            seed=seed,
            epochs_pretrain=net_epochs[0],
            epochs_punzi=net_epochs[1],
            progress=progress,
            eval_table=test,
        )
        fom_cmp = compare_fom(cuts, net)
    timings["selection_s"] = time.perf_counter() - t0
    if net_note:
        log(f"note: {net_note}")

    # ---------------------------------------------------------------- scan
    t0 = time.perf_counter()
    masses = scan_masses(gen_masses, res, analysis.scan)
    sigma_m = np.interp(masses, gen_masses, res)
    lo = np.clip(masses - n_sig * sigma_m, 0.0, None)
    hi = masses + n_sig * sigma_m
    use_net_sel = net is not None
    if use_net_sel:
        thresholds = None
        bkg_score = net.score(background)
        sig_score = net.score(signal)
        selection_name = "punzi-net"
        gen_eff = np.asarray(net.eff, float)
    else:
        thresholds = {
            name: (features[name][0], _interp_thresholds(masses, gen_masses, cuts.thresholds[name]))
            for name in features
        }
        bkg_score = sig_score = None
        selection_name = "cuts"
        gen_eff = np.asarray(cuts.eff, float)
    eff = np.interp(masses, gen_masses, gen_eff)
    a_bkg = selection_matrix(background, thresholds, bkg_score, 0.5, var, lo, hi)
    lw = lumi * background["weight"]
    b = a_bkg.astype(float) @ lw
    b_mc2 = a_bkg.astype(float) @ (lw * lw)
    w_floor = float(np.max(lw)) if lw.size else 1.0
    b_unc = np.sqrt(b_mc2 + (analysis.limits.bkg_syst_rel * b) ** 2)
    b_unc = np.where(b > 0, b_unc, w_floor)  # no MC event in the window: one event's worth
    rng_obs = np.random.default_rng(seeds[-1])
    if data is not None:
        data_table = load_data(analysis, Path(data), collider)
        dscore = net.score(data_table) if use_net_sel else None
        n_obs = selection_matrix(data_table, thresholds, dscore, 0.5, var, lo, hi).sum(axis=1)
        n_obs = n_obs.astype(float)
        observed_from = f"data: {data}"
    else:
        n_obs = a_bkg.astype(float) @ rng_obs.poisson(lw).astype(float)
        observed_from = f"background-only pseudo-experiment (seed {seed})"
    lim = upper_limit_asymptotic(
        n_obs, b, b_unc, eff * lumi, 0.0, analysis.limits.cl, method=analysis.limits.method
    )
    sig_local = discovery_asymptotic(n_obs, b, b_unc)
    # whole-scan toys for the global significance
    n_toys = max(50, int(analysis.limits.global_toys * min(scale, 1.0)))
    z_toys = np.empty((n_toys, masses.size), np.float32)
    rng_toys = np.random.default_rng(seeds[-2])
    af = a_bkg.astype(np.float32)
    for start in range(0, n_toys, 50):
        stop = min(start + 50, n_toys)
        counts = rng_toys.poisson(lw, size=(stop - start, lw.size)).astype(np.float32) @ af.T
        z_toys[start:stop] = discovery_asymptotic(counts, b[None, :], b_unc[None, :]).z
    maxima = z_toys.max(axis=1)
    z_obs = np.where(np.isfinite(sig_local.z), sig_local.z, 0.0)
    j_best = int(np.argmax(z_obs))
    glob = global_significance(float(z_obs[j_best]), maxima)
    # the local p-value of that window from the same toys: with a background known only to
    # the precision of the weighted simulation the asymptotic local Z is not calibrated
    p_local_toys = float(max(np.mean(z_toys[:, j_best] >= z_obs[j_best]), 1.0 / n_toys))
    timings["scan_and_limits_s"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- interpretation
    g_ref = interp.reference_coupling
    # the cross section is smooth in mass: log-interpolate it from the generated masses
    sigma_at_ref = np.exp(np.interp(masses, gen_masses, np.log(np.maximum(sigma_ref, 1e-300))))
    br = interp_branching(analysis, model_name, masses)
    denom = sigma_at_ref * br

    def coupling(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, g_ref * np.sqrt(np.asarray(x) / denom), np.inf)

    g_obs, g_exp = coupling(lim.observed), coupling(lim.expected_median)
    g_m1, g_p1 = coupling(lim.expected_minus1), coupling(lim.expected_plus1)
    rows = []
    for j, m in enumerate(masses):
        st = str(lim.status[j])
        if not (eff[j] > 0):
            st = "failed"
        rows.append(
            {
                "mass_gev": float(m),
                "sigma_ul_obs_fb": float(lim.observed[j]),
                "sigma_ul_exp_fb": float(lim.expected_median[j]),
                "sigma_ul_exp_m1": float(lim.expected_minus1[j]),
                "sigma_ul_exp_p1": float(lim.expected_plus1[j]),
                "sigma_ul_exp_m2": float(lim.expected_minus2[j]),
                "sigma_ul_exp_p2": float(lim.expected_plus2[j]),
                "coupling_ul_obs": float(g_obs[j]),
                "coupling_ul_exp": float(g_exp[j]),
                "coupling_ul_exp_m1": float(g_m1[j]),
                "coupling_ul_exp_p1": float(g_p1[j]),
                "local_z": float(z_obs[j]),
                "status": st,
                "efficiency": float(eff[j]),
                "resolution_gev": float(sigma_m[j]),
                "window_lo_gev": float(lo[j]),
                "window_hi_gev": float(hi[j]),
                "bkg_events": float(b[j]),
                "bkg_unc_events": float(b_unc[j]),
                "n_obs": float(n_obs[j]),
                "selection": selection_name,
            }
        )

    # ---------------------------------------------------------------- outputs
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(out / "limits.csv", rows, LIMIT_COLUMNS)
    atomic_write_json(out / "limits.json", rows)
    quoted = {}
    for mq in analysis.quote_masses:
        quoted[f"{mq:g}"] = float(np.interp(mq, masses, [r["coupling_ul_exp"] for r in rows]))
    fom_rows = [
        {
            "mass_gev": float(m),
            "fom_cuts": float(cuts.fom[k]),
            "fom_net": float(net.fom[k]) if net is not None else None,
            "ratio_net_over_cuts": float(net.fom[k] / cuts.fom[k])
            if net is not None and cuts.fom[k] > 0
            else None,
        }
        for k, m in enumerate(gen_masses)
    ]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    timings["total_s"] = time.perf_counter() - t_start
    summary = {
        "analysis": analysis.name,
        "title": analysis.title,
        "experiment": analysis.experiment,
        "lumi_fb": lumi,
        "seed": seed,
        "scale": scale,
        "model": model_name,
        "coupling": interp.coupling,
        "selection": selection_name,
        "selection_note": net_note,
        "observed_from": observed_from,
        "n_mass_points": int(masses.size),
        "n_failed_points": int(sum(r["status"] == "failed" for r in rows)),
        "expected_coupling_ul": quoted,
        "reference": {
            "citation": analysis.reference.citation,
            "summary": analysis.reference.summary,
        },
        "most_significant": {
            "mass_gev": float(masses[j_best]),
            "local_z": glob.z_local,
            "local_p_toys": p_local_toys,
            "trials_factor_toys": glob.p_global / p_local_toys,
            "global_p": glob.p_global,
            "global_z": glob.z_global,
            "trials_factor": glob.trials_factor,
            "toys": n_toys,
        },
        "backgrounds": bkg_info,
        "signal_samples": [
            {"mass_gev": float(m), **i, "resolution_gev": float(r), "efficiency_selected": float(e)}
            for m, i, r, e in zip(gen_masses, sig_info, res, gen_eff, strict=True)
        ],
        "fom": fom_rows,
        "fom_comparison": None if fom_cmp is None else _plain(fom_cmp),
        "timings_s": timings,
        "python_peak_memory_mb": peak / 2**20,
    }
    if plots:
        from darkscan.analyses import plotting

        plotting.make_all(
            analysis,
            out,
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
        )
    atomic_write_json(out / "summary.json", summary)
    return RunResult(rows, summary, out)


def _plain(obj: Any) -> Any:
    """numpy containers and scalars -> plain Python for JSON."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _interp_thresholds(masses: NDArray, gen_masses: NDArray, thr: NDArray) -> NDArray:
    """Per-mass thresholds at the scan masses: linear interpolation where both neighbours are
    finite, else the nearest generated mass's value (a 'no cut' +-inf stays as it is)."""
    thr = np.asarray(thr, float)
    finite = np.isfinite(thr)
    nearest = thr[np.abs(masses[:, None] - gen_masses[None, :]).argmin(axis=1)]
    if finite.sum() < 2:
        return nearest
    lin = np.interp(masses, gen_masses[finite], thr[finite])
    idx = np.searchsorted(gen_masses, masses).clip(1, len(gen_masses) - 1)
    both_finite = finite[idx - 1] & finite[idx]
    return np.where(both_finite, lin, nearest)


def interp_sigma(analysis: Analysis, collider, mass: float) -> float:
    """Signal cross section [fb] at the interpretation's reference coupling."""
    return float(analysis.interpret.sigma_fb(collider, float(mass)))


def interp_branching(analysis: Analysis, model: str, masses: NDArray) -> NDArray[np.float64]:
    """BR into the interpretation channel (coupling-independent; evaluated at 1e-3)."""
    from darkscan.models import get_model

    mdl = get_model(analysis.interpret.models[model])
    return mdl.branching_fraction(
        analysis.interpret.channel, masses, **{analysis.interpret.coupling: 1e-3}
    )


def load_data(analysis: Analysis, path: Path, collider) -> Table:
    """Read real (or simulated) data into the analysis table, with the preselection applied."""
    from darkscan.events import read_events

    if not path.exists():
        raise ValueError(f"--data: file not found: {path}")
    reco = read_events(path, level="reco")
    table = analysis.variables(reco, collider)
    for key in (analysis.scan.variable, *analysis.features):
        if key not in table:
            raise ValueError(f"--data {path}: no column for '{key}'")
        bad = ~np.isfinite(np.asarray(table[key], float))
        if np.any(bad):
            raise ValueError(f"--data {path}: {int(bad.sum())} non-finite values in '{key}'")
    mask = np.ones(len(table["weight"]), bool)
    for cut in analysis.preselection:
        mask &= cut.func(table)
    return _apply(table, mask)


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2)
