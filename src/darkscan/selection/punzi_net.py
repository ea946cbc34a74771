"""Punzi-net: a neural-network selection trained on the Punzi sensitivity of all masses at once.

After Abudinen et al., "Punzi-loss", Eur. Phys. J. C 82, 121 (2022), as used by Belle II for
the invisible Z' search (PRL 130, 231801 (2023)):

1. a small multilayer perceptron (inputs standardised; ReLU hidden layers; one sigmoid output
   ``s`` in [0, 1]) is **pre-trained** with a weighted binary cross-entropy: signal weights
   normalised per generated mass so that every mass counts equally (signal total 1),
   background weights proportional to the event weights (background total 1);
2. it is then trained on the **Punzi loss**: the output is a *soft cut* (each event counts
   with weight ``s``), giving differentiable per-mass yields ``eff_m(s)``, ``B_m(s)``
   (:func:`darkscan.selection.punzi.window_yields` conventions) and the loss is the Punzi
   sensitivity ``S_m`` [fb] averaged over all mass hypotheses::

       S_m = (a^2/8 + 9 b^2/13 + a sqrt(B_m) + (b/2) sqrt(b^2 + 4 a sqrt(B_m) + 4 B_m))
             / (eff_m L)

   (a = 3, b = 1.28155). The epoch with the smallest loss is kept.

The final selection is the hard cut ``s > 0.5``; its per-mass FOM / efficiency / background are
reported together with the soft-cut sensitivity. Pre-training runs over shuffled
mini-batches, the Punzi phase full-batch (the loss is a sum over the whole sample, restricted
to the events inside some mass window); both single-threaded and seeded: the same seed gives
the same network. The table's ``recoil_mass`` may itself be an input feature: the single
network can then adapt its cut to the mass hypothesis.

torch is an optional extra (``pip install darkscan[ml]``). Without it :func:`torch_available`
is false, :func:`train_punzi_net` raises :class:`TorchUnavailableError` and
:func:`optimise_selection` falls back to the hand-made cuts with a
:class:`PunziNetFallbackWarning`. A trained net is evaluated in numpy (:meth:`PunziNetResult.score`)
and saved / loaded without torch.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.io import atomic_write_bytes
from darkscan.selection.cuts import CutResult, optimise_cuts
from darkscan.selection.punzi import (
    check_table,
    mass_hypotheses,
    punzi_fom,
    punzi_sensitivity,
    signal_mass_index_checked,
    window_yields,
)

__all__ = [
    "FORMAT_NAME",
    "PunziNetFallbackWarning",
    "PunziNetResult",
    "SelectionOutcome",
    "TorchUnavailableError",
    "compare_fom",
    "load_punzi_net",
    "optimise_selection",
    "torch_available",
    "train_punzi_net",
]

FORMAT_NAME = "darkscan-punzi-net"
FORMAT_VERSION = 1
_INSTALL_HINT = "install the ml extra: pip install 'darkscan[ml]' (torch==2.13.0)"


class TorchUnavailableError(ImportError):
    """torch (the ``ml`` extra) is not installed."""


class PunziNetFallbackWarning(UserWarning):
    """The Punzi-net could not be trained (no torch): the hand-made cuts are used instead."""


def torch_available() -> bool:
    """Whether torch (the ``ml`` extra) can be imported."""
    try:
        importlib.import_module("torch")
    except ImportError:
        return False
    return True


def _import_torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise TorchUnavailableError(f"the Punzi-net needs torch: {_INSTALL_HINT}") from exc


# --------------------------------------------------------------------------------------
# numpy forward pass (shared by training evaluation, scoring and loaded nets)
# --------------------------------------------------------------------------------------


def _relu(x: NDArray) -> NDArray:
    return np.maximum(x, 0.0)


def _forward_numpy(
    x_std: NDArray[np.float64], layers: Sequence[tuple[NDArray, NDArray]]
) -> NDArray[np.float64]:
    h = x_std
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = _relu(h)
    logit = h[:, 0]
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))


@dataclass(frozen=True)
class PunziNetResult:
    """A trained Punzi-net and its per-mass performance.

    Per mass (n_m,): ``fom``, ``eff``, ``bkg_events``, ``sensitivity`` [fb] for the hard cut
    ``score > cut`` (``cut = 0.5``); ``soft_eff``, ``soft_bkg_events``, ``soft_sensitivity``
    for the soft cut (the training objective). ``history`` holds the loss per epoch
    (``"bce"``, ``"punzi"`` [fb]); ``evaluated_on`` says which table the numbers come from.
    The network: ``feature_names``, standardisation ``mean``/``std`` and ``layers`` (a tuple
    of (weight (out, in), bias (out,)) float64 arrays, ReLU between layers, sigmoid output).
    """

    feature_names: tuple[str, ...]
    hidden: tuple[int, ...]
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    layers: tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]
    masses: NDArray[np.float64]
    fom: NDArray[np.float64]
    eff: NDArray[np.float64]
    bkg_events: NDArray[np.float64]
    sensitivity: NDArray[np.float64]
    soft_eff: NDArray[np.float64]
    soft_bkg_events: NDArray[np.float64]
    soft_sensitivity: NDArray[np.float64]
    lumi_fb: float
    a: float = 3.0
    b: float = 1.28155
    cut: float = 0.5
    seed: int | None = None
    history: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    train_seconds: float = 0.0
    evaluated_on: str = "training table"

    def score(self, table: Mapping[str, ArrayLike]) -> NDArray[np.float64]:
        """Network output in [0, 1] for every event of ``table`` (numpy; no torch needed)."""
        x = _feature_matrix(table, self.feature_names)
        return _forward_numpy((x - self.mean) / self.std, self.layers)

    def mask(self, table: Mapping[str, ArrayLike]) -> NDArray[np.bool_]:
        """Events passing the hard cut ``score > cut`` (the same for every mass)."""
        return self.score(table) > self.cut

    @property
    def state_dict(self) -> dict[str, NDArray[np.float64]]:
        """Parameters and standardisation as named numpy arrays (torch naming)."""
        out = {"input_mean": self.mean, "input_std": self.std}
        for i, (w, b) in enumerate(self.layers):
            out[f"layers.{i}.weight"] = w
            out[f"layers.{i}.bias"] = b
        return out

    def evaluate(
        self,
        table: Mapping[str, ArrayLike],
        window_lo: ArrayLike,
        window_hi: ArrayLike,
        sigma_total_fb: ArrayLike,
        lumi_fb: float | None = None,
        evaluated_on: str = "evaluation table",
    ) -> PunziNetResult:
        """The same network with its performance measured on ``table``."""
        lumi_fb = self.lumi_fb if lumi_fb is None else float(lumi_fb)
        perf = _performance(self, table, self.masses, window_lo, window_hi, sigma_total_fb, lumi_fb)
        return _replace(self, lumi_fb=lumi_fb, evaluated_on=evaluated_on, **perf)

    def save(self, path: str | Path) -> Path:
        """Write the network (npz: arrays + JSON metadata; no pickle) atomically."""
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "hidden": list(self.hidden),
            "n_layers": len(self.layers),
            "lumi_fb": self.lumi_fb,
            "a": self.a,
            "b": self.b,
            "cut": self.cut,
            "seed": self.seed,
            "train_seconds": self.train_seconds,
            "evaluated_on": self.evaluated_on,
        }
        arrays: dict[str, NDArray] = dict(self.state_dict)
        for name in (
            "masses",
            "fom",
            "eff",
            "bkg_events",
            "sensitivity",
            "soft_eff",
            "soft_bkg_events",
            "soft_sensitivity",
        ):
            arrays[f"perf.{name}"] = getattr(self, name)
        for k, v in self.history.items():
            arrays[f"history.{k}"] = v
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return atomic_write_bytes(path, buf.getvalue())

    def as_rows(self) -> list[dict[str, float]]:
        """One dict per mass (for CSV/JSON output)."""
        return [
            {
                "mass": float(m),
                "fom": float(self.fom[i]),
                "eff": float(self.eff[i]),
                "bkg_events": float(self.bkg_events[i]),
                "sensitivity_fb": float(self.sensitivity[i]),
                "soft_sensitivity_fb": float(self.soft_sensitivity[i]),
            }
            for i, m in enumerate(self.masses)
        ]


def load_punzi_net(path: str | Path) -> PunziNetResult:
    """Read a network written by :meth:`PunziNetResult.save` (numpy only)."""
    with np.load(Path(path), allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    if "meta" not in data:
        raise ValueError(f"{path} is not a {FORMAT_NAME} file (no metadata)")
    meta = json.loads(data.pop("meta").tobytes().decode("utf-8"))
    if meta.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a {FORMAT_NAME} file (format {meta.get('format')!r})")
    layers = tuple(
        (data[f"layers.{i}.weight"], data[f"layers.{i}.bias"]) for i in range(meta["n_layers"])
    )
    history = {k[len("history.") :]: v for k, v in data.items() if k.startswith("history.")}
    perf = {k[len("perf.") :]: v for k, v in data.items() if k.startswith("perf.")}
    return PunziNetResult(
        feature_names=tuple(meta["feature_names"]),
        hidden=tuple(meta["hidden"]),
        mean=data["input_mean"],
        std=data["input_std"],
        layers=layers,
        lumi_fb=float(meta["lumi_fb"]),
        a=float(meta["a"]),
        b=float(meta["b"]),
        cut=float(meta["cut"]),
        seed=meta["seed"],
        history=history,
        train_seconds=float(meta["train_seconds"]),
        evaluated_on=meta["evaluated_on"],
        **perf,
    )


def _replace(result: PunziNetResult, **changes: Any) -> PunziNetResult:
    return dataclasses.replace(result, **changes)


def _feature_matrix(table: Mapping[str, ArrayLike], names: Sequence[str]) -> NDArray[np.float64]:
    if not isinstance(table, Mapping):
        raise ValueError(f"table must be a mapping of column name -> array, got {type(table)}")
    missing = [n for n in names if n not in table]
    if missing:
        raise ValueError(
            f"table is missing feature column(s) {missing}; available columns: {sorted(table)}"
        )
    cols = [np.asarray(table[n], dtype=np.float64) for n in names]
    lengths = {n: c.shape for n, c in zip(names, cols, strict=True)}
    if len({c.shape for c in cols}) != 1 or cols[0].ndim != 1:
        raise ValueError(f"feature columns must be 1-d of equal length, got {lengths}")
    x = np.stack(cols, axis=1)
    bad = [n for n, c in zip(names, cols, strict=True) if not np.all(np.isfinite(c))]
    if bad:
        raise ValueError(f"feature column(s) {bad} contain NaN or inf: fill or drop them first")
    return x


def _performance(
    net: PunziNetResult,
    table: Mapping[str, ArrayLike],
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
    lumi_fb: float,
) -> dict[str, NDArray[np.float64]]:
    s = net.score(table)
    args = (table, masses, window_lo, window_hi, sigma_total_fb, lumi_fb)
    eff, bkg = window_yields(*args, s > net.cut)
    soft_eff, soft_bkg = window_yields(*args, s)
    return {
        "masses": np.asarray(masses, dtype=np.float64),
        "fom": punzi_fom(eff, bkg, a=net.a),
        "eff": eff,
        "bkg_events": bkg,
        "sensitivity": punzi_sensitivity(eff, bkg, lumi_fb, a=net.a, b=net.b),
        "soft_eff": soft_eff,
        "soft_bkg_events": soft_bkg,
        "soft_sensitivity": punzi_sensitivity(soft_eff, soft_bkg, lumi_fb, a=net.a, b=net.b),
    }


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------


def _progress(enabled: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]Punzi-net[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )


def train_punzi_net(
    table: Mapping[str, ArrayLike],
    feature_names: Sequence[str],
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
    lumi_fb: float,
    *,
    seed: int,
    epochs_pretrain: int = 5,
    epochs_punzi: int = 150,
    hidden: Sequence[int] = (32, 32),
    progress: bool = True,
    batch_size: int = 1024,
    learning_rate_pretrain: float = 3e-3,
    learning_rate_punzi: float = 3e-3,
    a: float = 3.0,
    b: float = 1.28155,
    eval_table: Mapping[str, ArrayLike] | None = None,
) -> PunziNetResult:
    """Train a Punzi-net on ``table`` for all mass hypotheses at once.

    ``feature_names``: the input columns (finite floats). ``masses``, ``window_lo``,
    ``window_hi``, ``sigma_total_fb``, ``lumi_fb``: as in
    :func:`darkscan.selection.punzi.window_yields`; every mass needs signal events generated
    at it. ``epochs_pretrain``: passes over the table in shuffled mini-batches of
    ``batch_size`` with the weighted BCE; ``epochs_punzi``: full-batch Adam steps on the Punzi
    loss (a sum over the whole sample). ``seed`` fixes the initialisation;
    training runs on one CPU thread (the caller's torch thread count and RNG state are
    restored afterwards). ``eval_table``: if given, the reported performance is measured on
    it (an independent sample, e.g. from :func:`~darkscan.selection.punzi.split_table`)
    instead of on the training table.
    """
    torch = _import_torch()
    t0 = time.perf_counter()
    names = tuple(feature_names)
    if not names:
        raise ValueError("feature_names must name at least one column")
    if not lumi_fb > 0:
        raise ValueError(f"lumi_fb must be > 0, got {lumi_fb}")
    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h < 1 for h in hidden):
        raise ValueError(f"hidden must be a non-empty sequence of positive sizes, got {hidden}")
    if epochs_pretrain < 0 or epochs_punzi < 0:
        raise ValueError("epochs_pretrain and epochs_punzi must be >= 0")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    t = check_table(table, names)
    x_raw = _feature_matrix(table, names)
    hyp = mass_hypotheses(masses, window_lo, window_hi, sigma_total_fb)
    n_m = hyp.n
    n = x_raw.shape[0]
    w = t["weight"]
    sig = t["is_signal"]
    rec = t["recoil_mass"]
    m_idx, has, n_gen = signal_mass_index_checked(t, hyp.masses, "the Punzi-net")
    if not np.any(~sig):
        raise ValueError("table has no background events")

    mean = x_raw.mean(axis=0)
    std = x_raw.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_std = (x_raw - mean) / std

    # pre-training weights: every mass counts equally, signal total 1, background total 1
    sum_w_mass = np.bincount(m_idx[has], weights=w[has], minlength=n_m)
    bce_w = np.zeros(n)
    bce_w[has] = w[has] / sum_w_mass[m_idx[has]] / n_m
    bkg_w = np.abs(w[~sig])
    bce_w[~sig] = bkg_w / bkg_w.sum()

    # soft-cut yields: signal by its own window, background by a cumulative sum over recoil;
    # the Punzi phase only needs the events inside some window ("relevant" events)
    sig_ev = np.flatnonzero(has)
    sig_m = m_idx[sig_ev]
    sig_in = (rec[sig_ev] >= hyp.window_lo[sig_m]) & (rec[sig_ev] < hyp.window_hi[sig_m])
    sig_ev, sig_m = sig_ev[sig_in], sig_m[sig_in]
    bkg_ev = np.flatnonzero(~sig & np.isfinite(rec))
    bkg_ev = bkg_ev[np.argsort(rec[bkg_ev], kind="stable")]
    xb = rec[bkg_ev]
    lo = np.searchsorted(xb, hyp.window_lo, side="left")
    hi = np.maximum(np.searchsorted(xb, hyp.window_hi, side="left"), lo)
    covered = np.zeros(xb.size + 1)
    np.add.at(covered, lo, 1.0)
    np.add.at(covered, hi, -1.0)
    in_any = np.cumsum(covered)[:-1] > 0
    # keep sorted background inside some window; re-index the window edges to that subset
    kept_before = np.concatenate([[0], np.cumsum(in_any)])
    lo, hi = kept_before[lo], kept_before[hi]
    bkg_ev = bkg_ev[in_any]
    relevant = np.concatenate([sig_ev, bkg_ev])
    n_sig_rel = sig_ev.size

    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            net = _build_mlp(torch, len(names), hidden)
            tx = torch.as_tensor(x_std, dtype=torch.float32)
            ty = torch.as_tensor(sig.astype(np.float32))
            tbce_w = torch.as_tensor(bce_w, dtype=torch.float32)
            # relevant events: signal in its own window first, then sorted background
            tx_rel = torch.as_tensor(x_std[relevant], dtype=torch.float32)
            t_sig_m = torch.as_tensor(sig_m)
            t_sig_w = torch.as_tensor(w[sig_ev] / hyp.sigma_total_fb[sig_m], dtype=torch.float64)
            t_bkg_w = torch.as_tensor(lumi_fb * w[bkg_ev], dtype=torch.float64)
            t_lo = torch.as_tensor(lo)
            t_hi = torch.as_tensor(hi)
            zero = torch.zeros(1, dtype=torch.float64)

            def punzi_loss(logit_rel):
                s = torch.sigmoid(logit_rel).to(torch.float64)
                eff = torch.zeros(n_m, dtype=torch.float64).index_add(
                    0, t_sig_m, s[:n_sig_rel] * t_sig_w
                )
                cum = torch.cat([zero, torch.cumsum(s[n_sig_rel:] * t_bkg_w, 0)])
                bkg = (cum[t_hi] - cum[t_lo]).clamp_min(0.0)
                return _torch_sensitivity(torch, eff, bkg, lumi_fb, a, b).mean()

            history = {"bce": np.zeros(epochs_pretrain), "punzi": np.zeros(epochs_punzi)}
            with _progress(progress) as bar:
                task = bar.add_task("BCE pre-training", total=epochs_pretrain + epochs_punzi)
                opt = _Adam(torch, net.parameters(), lr=learning_rate_pretrain)
                gen = torch.Generator().manual_seed(int(seed))
                norm = float(tbce_w.sum())
                for epoch in range(epochs_pretrain):
                    perm = torch.randperm(n, generator=gen)
                    total = 0.0
                    for start in range(0, n, batch_size):
                        idx = perm[start : start + batch_size]
                        opt.zero_grad()
                        # unbiased estimate of the full-sample weighted BCE
                        loss = torch.nn.functional.binary_cross_entropy_with_logits(
                            net(tx[idx])[:, 0], ty[idx], weight=tbce_w[idx], reduction="sum"
                        ) * (n / (idx.numel() * norm))
                        loss.backward()
                        opt.step()
                        total += loss.item() * idx.numel() / n
                    history["bce"][epoch] = total
                    bar.update(task, advance=1, description=f"BCE {total:.4f}")

                opt = _Adam(torch, net.parameters(), lr=learning_rate_punzi)
                best_loss = np.inf
                best_state = _state_numpy(net)
                for epoch in range(epochs_punzi):
                    opt.zero_grad()
                    loss = punzi_loss(net(tx_rel)[:, 0])
                    value = loss.item()
                    if value < best_loss:
                        # parameters before this step produced this loss
                        best_loss = value
                        best_state = _state_numpy(net)
                    loss.backward()
                    opt.step()
                    history["punzi"][epoch] = value
                    bar.update(task, advance=1, description=f"Punzi loss {value:.4g} fb")
                if epochs_punzi:
                    with torch.no_grad():
                        value = float(punzi_loss(net(tx_rel)[:, 0]))
                    if value < best_loss:
                        best_state = _state_numpy(net)
                else:
                    best_state = _state_numpy(net)
    finally:
        torch.set_num_threads(old_threads)

    layers = tuple(
        (best_state[f"{i}.weight"], best_state[f"{i}.bias"])
        for i in range(0, 2 * len(hidden) + 1, 2)
    )
    result = PunziNetResult(
        feature_names=names,
        hidden=hidden,
        mean=mean,
        std=std,
        layers=layers,
        masses=hyp.masses,
        fom=np.zeros(n_m),
        eff=np.zeros(n_m),
        bkg_events=np.zeros(n_m),
        sensitivity=np.zeros(n_m),
        soft_eff=np.zeros(n_m),
        soft_bkg_events=np.zeros(n_m),
        soft_sensitivity=np.zeros(n_m),
        lumi_fb=float(lumi_fb),
        a=float(a),
        b=float(b),
        seed=int(seed),
        history=history,
        train_seconds=time.perf_counter() - t0,
    )
    if eval_table is None:
        perf = _performance(
            result, table, hyp.masses, hyp.window_lo, hyp.window_hi, hyp.sigma_total_fb, lumi_fb
        )
        return _replace(result, **perf)
    return result.evaluate(eval_table, hyp.window_lo, hyp.window_hi, hyp.sigma_total_fb)


class _Adam:
    """Adam (Kingma & Ba 2014, bias-corrected; betas 0.9, 0.999, eps 1e-8).

    A few lines instead of ``torch.optim.Adam``: constructing any ``torch.optim`` optimiser
    imports ``torch._dynamo`` (seconds of start-up on a small machine).
    """

    def __init__(self, torch: Any, params: Any, lr: float) -> None:
        self.torch = torch
        self.params = [p for p in params if p.requires_grad]
        self.lr = float(lr)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        c1 = 1.0 - 0.9**self.t
        c2 = 1.0 - 0.999**self.t
        with self.torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v, strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                m.mul_(0.9).add_(g, alpha=0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                denom = (v / c2).sqrt_().add_(1e-8)
                p.addcdiv_(m, denom, value=-self.lr / c1)


def _build_mlp(torch: Any, n_in: int, hidden: tuple[int, ...]) -> Any:
    mods = []
    prev = n_in
    for h in hidden:
        mods += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    mods.append(torch.nn.Linear(prev, 1))
    return torch.nn.Sequential(*mods)


def _state_numpy(net: Any) -> dict[str, NDArray[np.float64]]:
    return {k: v.detach().cpu().numpy().astype(np.float64) for k, v in net.state_dict().items()}


def _torch_sensitivity(torch: Any, eff: Any, bkg: Any, lumi_fb: float, a: float, b: float) -> Any:
    """Punzi-net sensitivity in torch (differentiable; sqrt guarded at B = 0)."""
    sqrt_b = torch.sqrt(bkg.clamp_min(1e-12))
    num = (
        a * a / 8.0
        + 9.0 * b * b / 13.0
        + a * sqrt_b
        + 0.5 * b * torch.sqrt(b * b + 4.0 * a * sqrt_b + 4.0 * bkg)
    )
    return num / (eff.clamp_min(1e-12) * lumi_fb)


# --------------------------------------------------------------------------------------
# comparison and fallback
# --------------------------------------------------------------------------------------


def compare_fom(cut_result: CutResult, net_result: PunziNetResult) -> dict[str, Any]:
    """Per-mass Punzi FOM of the net against the best hand-made cuts.

    Returns ``masses``, ``fom_cuts``, ``fom_net``, ``ratio`` (net / cuts, per mass),
    ``mean_ratio``, ``n_net_better`` (masses where the net's FOM is larger), ``n_masses``
    and ``net_wins`` (the mean ratio exceeds 1). Both results must share the mass hypotheses
    (and should be measured on the same table).
    """
    m_c = np.asarray(cut_result.masses)
    m_n = np.asarray(net_result.masses)
    if m_c.shape != m_n.shape or not np.allclose(m_c, m_n, rtol=1e-9, atol=0):
        raise ValueError("cut_result and net_result must have the same masses")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(net_result.fom) / np.asarray(cut_result.fom)
    finite = np.isfinite(ratio)
    return {
        "masses": m_c.copy(),
        "fom_cuts": np.asarray(cut_result.fom).copy(),
        "fom_net": np.asarray(net_result.fom).copy(),
        "ratio": ratio,
        "mean_ratio": float(np.mean(ratio[finite])) if finite.any() else float("nan"),
        "n_net_better": int(np.sum(net_result.fom > cut_result.fom)),
        "n_masses": int(m_c.size),
        "net_wins": bool(finite.any() and np.mean(ratio[finite]) > 1.0),
    }


@dataclass(frozen=True)
class SelectionOutcome:
    """Hand-made cuts, the Punzi-net (``None`` without torch) and their comparison.

    ``method`` is ``"punzi-net"`` when a net was trained, ``"cuts"`` otherwise; ``message``
    says which and why.
    """

    cuts: CutResult
    net: PunziNetResult | None
    comparison: dict[str, Any] | None
    method: str
    message: str


def optimise_selection(
    table: Mapping[str, ArrayLike],
    cut_features: Mapping[str, tuple[str, ArrayLike]],
    net_features: Sequence[str],
    masses: ArrayLike,
    window_lo: ArrayLike,
    window_hi: ArrayLike,
    sigma_total_fb: ArrayLike,
    lumi_fb: float,
    *,
    seed: int,
    use_net: bool = True,
    eval_table: Mapping[str, ArrayLike] | None = None,
    a: float = 3.0,
    **net_options: Any,
) -> SelectionOutcome:
    """Best hand-made cuts per mass and, when torch is available, the Punzi-net.

    Without torch (or with ``use_net=False``) the hand-made cuts are the selection and a
    :class:`PunziNetFallbackWarning` says so (torch missing only). With ``eval_table`` both
    selections are optimised on ``table`` and measured on ``eval_table``.
    ``net_options`` go to :func:`train_punzi_net` (``epochs_pretrain``, ``hidden``...).
    """
    windows = (window_lo, window_hi, sigma_total_fb)
    cuts = optimise_cuts(table, cut_features, masses, *windows, lumi_fb, a=a)
    if eval_table is not None:
        cuts = cuts.evaluate(eval_table, *windows, lumi_fb)
    if not use_net:
        return SelectionOutcome(cuts, None, None, "cuts", "Punzi-net disabled: hand-made cuts")
    if not torch_available():
        message = f"torch is not installed: falling back to the hand-made cuts ({_INSTALL_HINT})"
        warnings.warn(message, PunziNetFallbackWarning, stacklevel=2)
        return SelectionOutcome(cuts, None, None, "cuts", message)
    net = train_punzi_net(
        table,
        net_features,
        masses,
        *windows,
        lumi_fb,
        seed=seed,
        a=a,
        eval_table=eval_table,
        **net_options,
    )
    comparison = compare_fom(cuts, net)
    verdict = "better" if comparison["net_wins"] else "not better"
    message = (
        f"Punzi-net trained: mean FOM ratio net/cuts = {comparison['mean_ratio']:.3f} "
        f"({verdict}; net better at {comparison['n_net_better']}/{comparison['n_masses']} masses)"
    )
    return SelectionOutcome(cuts, net, comparison, "punzi-net", message)
