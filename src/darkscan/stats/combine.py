"""Combination of counting channels (or data sets) sharing one signal strength.

The combined likelihood is the product of the channels' likelihoods (each with its own
background and efficiency nuisances, :mod:`darkscan.stats.counting` conventions), with one
parameter of interest ``mu``: channel ``c`` expects ``mu * eff_c + b_c`` events. Arrays have a
trailing *channel* axis: ``n_obs[..., c]`` (hypotheses first, channels last); every hypothesis
is combined independently and the whole scan is one vectorised call.

Asymptotic CLs with ``q~_mu`` (CCGV 2011): with ``D(mu)`` the summed profiled half deviance,
``q~_mu = 2 [D(mu) - min_{0 <= m <= mu} D(m)]``, which equals CCGV's definition for the
(convex) counting likelihood: 0 when ``mu_hat > mu``, the ``mu = 0`` fit as reference when
``mu_hat < 0``. The background-only Asimov data set is built channel by channel at the
conditional fit ``mu = 0`` (which factorises over channels).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from darkscan.stats import counting as _c
from darkscan.stats.results import LimitResult

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _channel_models(n_obs, bkg, bkg_unc, eff, eff_unc, constraint, eff_constraint):
    arrays = np.broadcast_arrays(
        *(np.asarray(a, float) for a in (n_obs, bkg, bkg_unc, eff, eff_unc))
    )
    if arrays[0].ndim < 1:
        raise ValueError("combine: inputs need a trailing channel axis (shape (..., n_channels))")
    shape = arrays[0].shape[:-1]
    n_ch = arrays[0].shape[-1]
    models = []
    for c in range(n_ch):  # a loop over the few channels, not over hypotheses
        m, _ = _c._build(*(a[..., c] for a in arrays), constraint, eff_constraint)
        models.append(m)
    return models, shape


def _total_dev(models, mu) -> NDArray[np.float64]:
    return np.sum([_c._profile(m, mu).dev for m in models], axis=0)


def _min_dev_below(models, mu, n_iter: int = 60) -> NDArray[np.float64]:
    """min over m in [0, mu] of D(m) by a vectorised golden-section search (D convex)."""
    lo = np.zeros_like(mu)
    hi = np.array(mu, float)
    x1 = hi - _GOLDEN * (hi - lo)
    x2 = lo + _GOLDEN * (hi - lo)
    f1, f2 = _total_dev(models, x1), _total_dev(models, x2)
    for _ in range(n_iter):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        fx = _total_dev(models, np.where(left, x1n, x2n))
        f1, f2 = np.where(left, fx, f2), np.where(left, f1, fx)
        x1, x2 = x1n, x2n
    ends = np.minimum(_total_dev(models, np.zeros_like(mu)), _total_dev(models, mu))
    return np.minimum(np.minimum(f1, f2), ends)


def qmu_tilde_combined(models, mu) -> NDArray[np.float64]:
    """q~_mu of the product likelihood for flat per-channel models (internal)."""
    mu = np.asarray(mu, float)
    return np.maximum(2.0 * (_total_dev(models, mu) - _min_dev_below(models, mu)), 0.0)


def upper_limit_combined(
    n_obs: ArrayLike,
    bkg: ArrayLike,
    bkg_unc: ArrayLike = 0.0,
    eff: ArrayLike = 1.0,
    eff_unc: ArrayLike = 0.0,
    cl: float = 0.95,
    *,
    constraint: str = "poisson",
    eff_constraint: str = "gaussian",
    method: str = "cls",
) -> LimitResult:
    """Asymptotic CLs (or CLs+b) upper limit on the common ``mu`` with expected bands.

    Inputs broadcast to ``(..., n_channels)``; the result has shape ``(...)``. With one
    channel this reproduces :func:`darkscan.stats.counting.upper_limit_asymptotic`.
    """
    cl = _c._check_cl(cl)
    _c._check_choice("method", method, ("cls", "clsb"))
    models, shape = _channel_models(n_obs, bkg, bkg_unc, eff, eff_unc, constraint, eff_constraint)
    asimov = [_c._asimov(m, _c._reference(m)) for m in models]
    nh = models[0].size
    alpha = 1.0 - cl
    z_alpha = np.sqrt(-2.0 * np.log(alpha))
    # a sensible search range from the single-channel guesses (the most sensitive channel)
    guesses = np.stack(
        [_c._initial_hi(m, np.sqrt(1.0 / np.maximum(m.b_par, 1e-300))) for m in models]
    )
    eff_tot = np.sum([m.e_aux for m in models], axis=0)
    live = eff_tot > 0
    hi0 = np.where(live, np.min(guesses, axis=0), 1.0)
    out = {k: np.full(nh, np.inf) for k in ("observed", *_c._BAND_KEYS)}
    status = np.full(nh, _c._ST_FAILED, np.int8)
    idx = np.flatnonzero(live)
    if idx.size:
        ms = [m.take(idx) for m in models]
        ma = [m.take(idx) for m in asimov]

        def f_obs(mu, j):
            sub = [m.take(j) for m in ms]
            suba = [m.take(j) for m in ma]
            q = qmu_tilde_combined(sub, mu)
            qa = np.maximum(2.0 * (_total_dev(suba, mu) - _total_dev(suba, np.zeros_like(mu))), 0.0)
            return z_alpha - np.sqrt(-2.0 * _c._log_p_asymptotic(q, qa, method))

        obs, code = _c._find_roots(f_obs, hi0[idx], z_alpha)
        out["observed"][idx] = obs
        codes = [code]
        for key, target in zip(_c._BAND_KEYS, _c._band_targets(alpha, method), strict=True):
            if target <= 0:  # e.g. the CLs+b -2 sigma band: no positive solution
                out[key][idx] = 0.0
                continue

            def f_exp(mu, j, target=target):
                suba = [m.take(j) for m in ma]
                qa = 2.0 * (_total_dev(suba, mu) - _total_dev(suba, np.zeros_like(mu)))
                return target - np.sqrt(np.maximum(qa, 0.0))

            val, c = _c._find_roots(f_exp, hi0[idx], target)
            out[key][idx] = val
            codes.append(c)
        status[idx] = _c._combine_status(*codes)
    return _c._limit_result(out, status, shape, f"{method}-asymptotic-combined", cl)
