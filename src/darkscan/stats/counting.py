"""Counting experiments, vectorised over hypotheses: profile likelihood, CLs limits, significance.

Conventions
-----------
Every argument broadcasts (numpy rules) and every result has the broadcast shape: one element
per hypothesis (a mass point, a selection, ...). There is no Python loop over hypotheses.

* ``n_obs`` - observed events (non-integer, weighted counts allowed: the Poisson term uses
  ``n log(nu) - nu``, the continuous extension);
* ``bkg`` - expected background ``b`` (events), ``bkg_unc`` - its *absolute* uncertainty;
* ``eff`` - signal yield per unit signal strength (efficiency, or efficiency x luminosity in
  fb^-1 to get a cross-section limit in fb), ``eff_unc`` - its absolute uncertainty;
* ``mu`` - the parameter of interest (signal strength), ``mu >= 0``; the expected signal is
  ``s = mu * eff`` events, so with ``eff = 1`` the limits are in events of signal.

The likelihood of one hypothesis is ``L(mu, b, e) = Pois(n | mu e + b) C_b(b) C_e(e)`` with
the background constraint ``C_b`` chosen by ``constraint``:

``"poisson"`` (default)
    pyhf's ``uncorrelated_background`` (``shapesys``): an auxiliary count ``m = (b0/sigma_b)^2``
    observed with expectation ``tau b``, ``tau = b0 / sigma_b^2``. For ``b0 = 0`` (where
    pyhf is undefined) ``m = 0`` and ``tau = 1/sigma_b``: the background is then constrained
    to ``b <~ sigma_b`` by ``exp(-b / sigma_b)``.
``"gaussian"``
    ``Gauss(b0 | b, sigma_b)`` with ``b >= 0`` (the profile stops at the boundary).
``"lognormal"``
    ``b = b0 kappa^theta``, ``theta ~ N(0, 1)``, ``kappa = 1 + sigma_b / b0`` (the CMS
    ``lnN`` convention). A zero background stays zero.

The efficiency constraint ``eff_constraint`` is ``"gaussian"`` (``e >= 0``) or
``"lognormal"`` (``kappa = 1 + eff_unc / eff``); ``eff_unc = 0`` fixes it. A zero
efficiency means no sensitivity: every limit is ``+inf`` with status ``failed`` (as wherever
no finite limit exists, e.g. a Gaussian efficiency uncertainty so large that ``e = 0`` is
allowed).

Test statistics are those of Cowan, Cranmer, Gross and Vitells, Eur. Phys. J. C 71 (2011)
1554 (CCGV): ``q~_mu`` (eq. 16) for upper limits and ``q_0`` (eq. 12) for discovery. The
asymptotic CLs uses the Asimov ``sigma`` from the background-only Asimov data set built with
the nuisance parameters at their conditional fit to the observed data (auxiliary data
included), as pyhf does. Conditional MLEs are closed forms (the Poisson and Gaussian
constraints give a quadratic), else a safeguarded Newton iteration (log-normal, efficiency).
Internally every likelihood is written as a half deviance from its saturated value, so that
``q`` stays exact for backgrounds of 1e12 events.

Limits are found by a vectorised bracketed root finder (Illinois regula falsi with bisection
safeguards). A bracket that does not contain the limit is widened (status
:data:`~darkscan.stats.results.STATUS_WIDENED`); a point where no limit is found below
``mu * eff ~ 1e15`` gets ``+inf`` and :data:`~darkscan.stats.results.STATUS_FAILED`.
No NaN is ever returned for valid input and nothing raises for a hard point.

:func:`upper_limit_exact` is the classical CLs on the event count (LEP style: exact Poisson
for a known background, the background and efficiency uncertainties averaged over their
priors, Cousins-Highland). It gives ``ln(10) = 2.303`` events at 90 % CL for ``n = 0``,
``b = 0``, where the asymptotic formulae (invalid at so few events) give 1.353.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from darkscan.checks import nonnegative_array
from darkscan.stats.results import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_WIDENED,
    LimitResult,
    SignificanceResult,
)

__all__ = [
    "BAND_SIGMAS",
    "CONSTRAINTS",
    "EFF_CONSTRAINTS",
    "discovery_asymptotic",
    "expected_cls_asymptotic",
    "pvalues_asymptotic",
    "qmu_tilde",
    "q0",
    "upper_limit_asymptotic",
    "upper_limit_exact",
]

CONSTRAINTS = ("poisson", "gaussian", "lognormal")
EFF_CONSTRAINTS = ("gaussian", "lognormal")
#: Order of the expected-limit bands (in sigma of the background-only distribution).
BAND_SIGMAS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_BAND_KEYS = (
    "expected_minus2",
    "expected_minus1",
    "expected_median",
    "expected_plus1",
    "expected_plus2",
)

_ST_OK, _ST_WIDENED, _ST_FAILED = 0, 1, 2
_STATUS_NAMES = np.array([STATUS_OK, STATUS_WIDENED, STATUS_FAILED])
_TINY = 1e-300


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _as_array(name: str, value: ArrayLike) -> NDArray[np.float64]:
    return nonnegative_array(name, value)


def _check_cl(cl: float) -> float:
    cl = float(cl)
    if not 0.0 < cl < 1.0:
        raise ValueError(f"cl must be in (0, 1), got {cl}")
    return cl


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")
    return value


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------
class _Model:
    """Flat arrays of counting models sharing one constraint family (internal).

    ``b_aux``/``e_aux`` are the auxiliary measurements expressed in units of ``b``/``e``
    (poisson: ``m / tau``; gaussian: the measured value; lognormal: the value at
    ``theta = theta_aux``); ``b_par``/``e_par`` are ``tau`` (poisson), ``sigma`` (gaussian) or
    ``log(kappa)`` (lognormal); ``*_free`` marks elements with an uncertainty.
    """

    __slots__ = (
        "n",
        "b_aux",
        "b_par",
        "b_free",
        "e_aux",
        "e_par",
        "e_free",
        "bkind",
        "ekind",
        "_consts",
    )
    _FIELDS = ("n", "b_aux", "b_par", "b_free", "e_aux", "e_par", "e_free", "bkind", "ekind")

    def __init__(self, n, b_aux, b_par, b_free, e_aux, e_par, e_free, bkind, ekind):
        self.n = n
        self.b_aux = b_aux
        self.b_par = b_par
        self.b_free = b_free
        self.e_aux = e_aux
        self.e_par = e_par
        self.e_free = e_free
        self.bkind = bkind
        self.ekind = ekind
        self._consts = None  # per-model constants of the Poisson profile (fits at many mu)

    def poisson_consts(self):
        """``(tau, 2 m, 4 (1 + tau) m, 1 / (2 (1 + tau)), 1 + tau, free.all())`` with
        ``m = tau b_aux``, computed once per model."""
        if self._consts is None:
            tau = self.b_par
            mm = tau * self.b_aux
            t1 = 1.0 + tau
            self._consts = (tau, 2.0 * mm, 4.0 * t1 * mm, 0.5 / t1, t1, bool(self.b_free.all()))
        return self._consts

    @property
    def size(self) -> int:
        return self.n.size

    def take(self, idx: NDArray[np.intp]) -> _Model:
        return _Model(
            self.n[idx],
            self.b_aux[idx],
            self.b_par[idx],
            self.b_free[idx],
            self.e_aux[idx],
            self.e_par[idx],
            self.e_free[idx],
            self.bkind,
            self.ekind,
        )

    def replace(self, **kw: NDArray) -> _Model:
        vals = {k: getattr(self, k) for k in self._FIELDS}
        vals.update(kw)
        return _Model(**vals)


def _build(n_obs, bkg, bkg_unc, eff, eff_unc, constraint, eff_constraint, mu=None):
    """Validate and broadcast the public arguments into a flat :class:`_Model` and a shape
    (and the flattened ``mu`` when given, broadcast with the rest)."""
    _check_choice("constraint", constraint, CONSTRAINTS)
    _check_choice("eff_constraint", eff_constraint, EFF_CONSTRAINTS)
    arrays = [
        _as_array(nm, v)
        for nm, v in (
            ("n_obs", n_obs),
            ("bkg", bkg),
            ("bkg_unc", bkg_unc),
            ("eff", eff),
            ("eff_unc", eff_unc),
        )
    ]
    if mu is not None:
        arrays.append(_as_array("mu", mu))
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise ValueError(f"n_obs, bkg, bkg_unc, eff, eff_unc do not broadcast: {exc}") from exc
    shape = arrays[0].shape
    flat = [np.array(a, dtype=float).ravel() for a in arrays]
    n, b, sb, e, se = flat[:5]
    model = _model_from(n, b, sb, e, se, constraint, eff_constraint)
    if mu is not None:
        return model, shape, flat[5]
    return model, shape


def _model_from(n, b, sb, e, se, constraint, eff_constraint) -> _Model:
    if constraint == "poisson":
        b_free = sb > 0
        safe = np.where(b_free, sb, 1.0)
        b_par = np.where(b > 0, b / safe**2, 1.0 / safe)  # tau
    elif constraint == "gaussian":
        b_free = sb > 0
        b_par = sb.copy()
    else:
        b_free = (sb > 0) & (b > 0)
        b_par = np.log1p(sb / np.where(b > 0, b, 1.0))
    e_free = (se > 0) & (e > 0)
    if eff_constraint == "gaussian":
        e_par = se.copy()
    else:
        e_par = np.log1p(se / np.where(e > 0, e, 1.0))
    return _Model(n, b.copy(), b_par, b_free, e.copy(), e_par, e_free, constraint, eff_constraint)


# --------------------------------------------------------------------------------------------
# likelihood pieces (half deviances: -log L relative to its saturated value)
# --------------------------------------------------------------------------------------------
def _half_dev(k, lam):
    """``lam - k + k log(k / lam)`` (>= 0): the Poisson half deviance, exact near lam = k
    (``lam`` for ``k = 0``, ``+inf`` for ``lam = 0 < k``)."""
    d = lam - k
    with np.errstate(divide="ignore", invalid="ignore"):
        return d - k * np.log1p(d / np.where(k > 0, k, 1.0))


def _lognormal_b(n, s, b_aux, k, free):
    """Conditional MLE of a log-normal background ``b = b_aux exp(k t)`` given signal ``s``.

    Maximises ``n log(s + b) - b - t^2/2`` over ``t`` by Newton steps kept inside a bracket
    that provably contains the maximum (bisection otherwise). Returns ``(b, t)``.
    """
    kk = np.where(free, k, 1.0)
    ba = np.where(free, b_aux, 1.0)
    # bracket: t* >= -W(k^2 b)/k >= -log1p(k^2 b)/k ; t* > 0 needs b < n
    lo = -(np.log1p(kk * kk * ba) / kk) - 1.0
    with np.errstate(divide="ignore"):
        up = np.where(n > 0, np.log(np.maximum(n, _TINY) / ba) / kk, 0.0)
    hi = np.minimum(np.maximum(up, 0.0), kk * n) + 1.0
    # start from the Gaussian approximation of the constraint (sigma = k b_aux)
    bg = _gauss_b(n, s, ba, kk * ba)
    with np.errstate(divide="ignore"):
        t = np.clip(np.log(np.maximum(bg, ba * 1e-12) / ba) / kk, lo, hi)
    idx = np.flatnonzero(free)
    t_out = np.zeros_like(n)
    if idx.size:  # j indexes the free subset
        nf, sf, bf, kf = n[idx], s[idx], ba[idx], kk[idx]
        t_out[idx] = _newton(
            lambda x, j: _lognormal_b_gh(x, nf[j], sf[j], bf[j], kf[j]),
            t[idx],
            lo[idx],
            hi[idx],
        )
    b = np.where(free, ba * np.exp(kk * t_out), b_aux)
    return b, t_out


def _lognormal_b_gh(t, n, s, ba, k):
    b = ba * np.exp(k * t)
    nu = s + b
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(n > 0, n / nu, 0.0)
        g = k * b * (r - 1.0) - t
        h = k * k * b * (r * s / nu - 1.0) - 1.0
    return g, h


def _gauss_b(n, s, g, sigma):
    """Conditional MLE of ``b >= 0`` for ``n log(s+b) - b - (b-g)^2 / (2 sigma^2)``."""
    s2 = sigma * sigma
    p = s + s2 - g
    q = s2 * (n - s) + g * s
    disc = p * p + 4.0 * q
    root = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(p > 0, 2.0 * q / (p + root), 0.5 * (root - p))
    b = np.where(disc < 0, 0.0, b)
    return np.maximum(np.nan_to_num(b, nan=0.0), 0.0)


def _profile_b(m: _Model, s, curvature: bool = False):
    """Conditional MLE of the background for signal ``s`` (events) at fixed efficiency.

    Returns ``(b_hat, D_b, C_bb)``: the estimate, the constraint half deviance at it and, if
    ``curvature``, the second derivative of the constraint log term (``-inf`` where ``b`` is
    fixed or at its bound, for the Schur complement of the efficiency profile; else None).
    """
    n, ba, par, free = m.n, m.b_aux, m.b_par, m.b_free
    with np.errstate(divide="ignore", invalid="ignore"):
        if m.bkind == "poisson":
            # (1 + tau) b^2 + a b - m s = 0 with a = (1 + tau) s - n - m; the positive root,
            # written without cancellation for either sign of a
            tau, mm2, c4, inv2t1, t1, all_free = m.poisson_consts()
            a = t1 * s - n - 0.5 * mm2
            w = np.sqrt(a * a + c4 * s) + np.abs(a)
            b = np.where(a > 0, mm2 * s / w, w * inv2t1)
            if all_free:  # the common case (toys): no masking
                db = tau * _half_dev(ba, b)
            else:
                b = np.where(free, b, ba)
                db = np.where(free, tau * _half_dev(ba, b), 0.0)
            cbb = np.where(free & (b > 0), -0.5 * mm2 / (b * b), -np.inf) if curvature else None
        elif m.bkind == "gaussian":
            b = np.where(free, _gauss_b(n, s, ba, par), ba)
            sig = np.where(free, par, 1.0)
            db = np.where(free, 0.5 * ((b - ba) / sig) ** 2, 0.0)
            cbb = np.where(free & (b > 0), -1.0 / (sig * sig), -np.inf) if curvature else None
        else:
            b, t = _lognormal_b(n, s, ba, par, free)
            kk = np.where(free, par, 1.0)
            db = 0.5 * t * t
            cbb = (
                np.where(free & (b > 0), (t * kk - 1.0) / (kk * kk * b * b), -np.inf)
                if curvature
                else None
            )
    return b, db, cbb


class _Profile(NamedTuple):
    dev: NDArray[np.float64]  # total half deviance at the conditional MLE
    b: NDArray[np.float64]
    e: NDArray[np.float64]


def _profile(m: _Model, mu) -> _Profile:
    """Conditional MLE of the nuisance parameters at signal strength ``mu`` (arrays)."""
    mu = np.broadcast_to(np.asarray(mu, float), m.n.shape)
    e = m.e_aux
    efree = m.e_free & (mu > 0)
    if efree.any():
        e = e.copy()
        de = np.zeros_like(e)
        j = np.flatnonzero(efree)
        e[j], de[j] = _profile_e(m.take(j), mu[j])
    else:
        de = 0.0
    s = mu * e
    b, db, _ = _profile_b(m, s)
    dev = _half_dev(m.n, s + b) + db + de
    return _Profile(dev, b, e)


def _profile_e(m: _Model, mu):
    """Profile of the efficiency (with the background profiled inside): ``(e_hat, D_e)``."""
    n, ea, par = m.n, m.e_aux, m.e_par
    logn = m.ekind == "lognormal"

    def grad_hess(x, j):
        sub = m.take(j)
        muj = mu[j]
        if logn:
            ee = sub.e_aux * np.exp(sub.e_par * x)
        else:
            ee = np.maximum(x, 0.0)
        s = muj * ee
        b, _, cbb = _profile_b(sub, s, curvature=True)
        nu = s + b
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(sub.n > 0, sub.n / nu, 0.0)
            w = np.where(sub.n > 0, sub.n / (nu * nu), 0.0)
            hbb = -w + cbb
            heb = -w * muj
            schur = np.where(np.isfinite(hbb) & (hbb < 0), heb * heb / hbb, 0.0)
            hee = -w * muj * muj - schur
            dl = muj * (r - 1.0)
            if logn:
                k = sub.e_par
                g = dl * k * ee - x
                h = k * k * ee * dl + (k * ee) ** 2 * hee - 1.0
            else:
                sig2 = sub.e_par**2
                g = dl - (ee - sub.e_aux) / sig2
                h = hee - 1.0 / sig2
        return g, h

    if logn:
        k = par
        lo = -(np.log1p(mu * k * k * ea) / k) - 1.0
        with np.errstate(divide="ignore"):
            up = np.where(n > 0, np.log(np.maximum(n, _TINY) / (mu * ea)) / k, 0.0)
        hi = np.minimum(np.maximum(up, 0.0), k * n) + 1.0
        x = _newton(grad_hess, np.zeros_like(n), lo, hi)
        e = ea * np.exp(k * x)
        return e, 0.5 * x * x
    lo = np.zeros_like(n)
    # the gradient is provably negative there (also for a toy measurement e_aux < 0)
    hi = np.maximum(ea, 0.0) + par * (np.sqrt(n) + 1.0)
    g0, _ = grad_hess(lo, np.arange(n.size))
    x = np.zeros_like(n)  # g(0) <= 0: the maximum is on the boundary e = 0
    inner = np.flatnonzero(g0 > 0)
    if inner.size:
        # relative precision on e keeps s = mu e exact even where e_hat ~ 1/mu is tiny
        x[inner] = _newton(
            lambda xx, j: grad_hess(xx, inner[j]), ea[inner], lo[inner], hi[inner], xscale=0.0
        )
    return x, 0.5 * ((x - ea) / par) ** 2


def _newton(
    grad_hess: Callable, x0, lo, hi, max_iter: int = 80, tol: float = 1e-13, xscale: float = 1.0
):
    """Zero of a gradient that is > 0 at ``lo`` and < 0 at ``hi`` (a 1-D maximum), vectorised.

    Newton steps are taken when the curvature is negative and the step stays inside the
    current bracket, bisection otherwise; converged elements drop out of the work set.
    Converged when a step is below ``tol * (|x| + xscale)``.
    """
    x = np.clip(np.asarray(x0, float), lo, hi)
    lo = np.array(lo, float)
    hi = np.array(hi, float)
    active = np.arange(x.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        xa = x[active]
        g, h = grad_hess(xa, active)
        la = np.where(g > 0, xa, lo[active])
        ha = np.where(g < 0, xa, hi[active])
        ok = (h < 0) & np.isfinite(h) & np.isfinite(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(ok, -g / np.where(ok, h, -1.0), 0.0)
        scale = tol * (xscale + np.abs(xa))
        # a Newton step below the tolerance is convergence (it may not move x at all)
        tiny = ok & (np.abs(step) <= scale)
        xn = xa + step
        xn = np.where(tiny | (ok & (xn > la) & (xn < ha)), xn, 0.5 * (la + ha))
        done = (g == 0) | tiny | (ha - la <= scale)
        xn = np.where(g == 0, xa, xn)
        x[active] = xn
        lo[active] = la
        hi[active] = ha
        active = active[~done]
    return x


# --------------------------------------------------------------------------------------------
# test statistics
# --------------------------------------------------------------------------------------------
class _Reference(NamedTuple):
    mu_hat: NDArray[np.float64]  # unconditional MLE (may be negative or +-inf)
    dev_hat: NDArray[np.float64]  # half deviance at the unconditional MLE
    dev0: NDArray[np.float64]  # half deviance of the conditional fit at mu = 0
    b0: NDArray[np.float64]  # conditional MLE of b at mu = 0
    e0: NDArray[np.float64]


def _unconditional(m: _Model):
    """Unconditional fit in closed form: the main count is saturated and the constraints
    sit at their auxiliary measurements (``b >= 0``, ``e >= 0`` bounds included).
    Returns ``(mu_hat, dev_hat)``; ``mu_hat`` is +-inf where the efficiency fit is zero."""
    if m.bkind != "gaussian" and not m.e_free.any() and (m.e_aux > 0).all():  # fast path
        return (m.n - m.b_aux) / m.e_aux, 0.0
    b_hat = np.where(m.b_free & (m.bkind == "gaussian"), np.maximum(m.b_aux, 0.0), m.b_aux)
    dev_hat = np.zeros_like(m.n)
    if m.bkind == "gaussian":
        sig = np.where(m.b_free, m.b_par, 1.0)
        dev_hat = dev_hat + np.where(m.b_free, 0.5 * ((b_hat - m.b_aux) / sig) ** 2, 0.0)
    e_hat = np.maximum(m.e_aux, 0.0)
    if m.ekind == "gaussian":
        sig = np.where(m.e_free, m.e_par, 1.0)
        dev_hat = dev_hat + np.where(m.e_free, 0.5 * ((e_hat - m.e_aux) / sig) ** 2, 0.0)
    excess = m.n - b_hat
    with np.errstate(divide="ignore", invalid="ignore"):
        mu_hat = np.where(
            e_hat > 0, excess / np.where(e_hat > 0, e_hat, 1.0), np.sign(excess) * np.inf
        )
    return np.nan_to_num(mu_hat, nan=0.0), dev_hat


def _reference(m: _Model) -> _Reference:
    """Unconditional fit and the conditional fit at ``mu = 0``."""
    mu_hat, dev_hat = _unconditional(m)
    p0 = _profile(m, np.zeros_like(m.n))
    return _Reference(mu_hat, np.broadcast_to(dev_hat, m.n.shape), p0.dev, p0.b, p0.e)


def _qtilde(m: _Model, mu, ref: _Reference):
    """``q~_mu`` of CCGV eq. (16) and the conditional fit, for arrays of models and mu."""
    prof = _profile(m, mu)
    dref = np.where(ref.mu_hat < 0, ref.dev0, ref.dev_hat)
    q = 2.0 * (prof.dev - dref)
    # (NaN-free by construction; +inf only for data impossible under mu, e.g. n > 0 = s + b)
    q = np.where(ref.mu_hat > mu, 0.0, np.maximum(q, 0.0))
    return q, prof


def _asimov(m: _Model, ref: _Reference) -> _Model:
    """Background-only Asimov data: main and auxiliary counts at the mu = 0 conditional fit."""
    return m.replace(n=ref.b0.copy(), b_aux=ref.b0.copy(), e_aux=ref.e0.copy())


def _log_p_asymptotic(q, qa, method: str):
    """log CLs (or log CLs+b) from ``q~_mu`` and its Asimov value (CCGV eqs. 65-67)."""
    q = np.maximum(q, 0.0)
    qa = np.maximum(qa, 0.0)
    sq = np.sqrt(q)
    sqa = np.sqrt(qa)
    first = q <= qa
    safe = np.where(qa > _TINY, 2.0 * sqa, 1.0)
    x_sb = np.where(first, sq, (q + qa) / safe)
    log_psb = special.log_ndtr(-x_sb)
    if method == "clsb":
        return np.where(qa > _TINY, log_psb, np.where(q > 0, log_psb, np.log(0.5)))
    x_b = np.where(first, sq - sqa, (q - qa) / safe)
    log_cls = log_psb - special.log_ndtr(-x_b)
    return np.where(qa > _TINY, np.minimum(log_cls, 0.0), 0.0)


def _band_targets(alpha: float, method: str) -> NDArray[np.float64]:
    """sqrt(q_mu,A) at which the expected CLs (CLs+b) of each band equals alpha."""
    n = np.asarray(BAND_SIGMAS)
    if method == "clsb":
        return n - special.ndtri(alpha)
    return n - special.ndtri(alpha * special.ndtr(n))


# --------------------------------------------------------------------------------------------
# vectorised root finding
# --------------------------------------------------------------------------------------------
def _find_roots(
    f: Callable,
    hi,
    flo,
    *,
    rtol: float = 1e-10,
    ftol: float = 1e-12,
    max_iter: int = 200,
    max_widen: int = 25,
    widen: float = 4.0,
):
    """Roots of functions decreasing through zero on ``[0, hi]``, one per element.

    ``f(x, idx)`` evaluates the functions of elements ``idx`` at ``x``; ``f(0) = flo > 0``.
    The upper end is multiplied by ``widen`` until ``f(hi) < 0`` (status widened); elements
    that never change sign return ``+inf`` (status failed). Illinois regula falsi with a
    bisection step whenever three steps in a row fail to halve ``|f|``; converged when the
    bracket is below ``rtol`` relative or ``|f| <= ftol`` (the functions are O(1) near the
    root, so this is a relative precision of about ``ftol`` on the limit).
    Returns ``(x, status_code)``.
    """
    hi = np.array(hi, float)
    lo = np.zeros_like(hi)
    flo = np.array(np.broadcast_to(flo, hi.shape), float)
    code = np.zeros(hi.shape, np.int8)
    fhi = _clean(f(hi, np.arange(hi.size)))
    for _ in range(max_widen):
        j = np.flatnonzero(fhi >= 0)
        if j.size == 0:
            break
        lo[j] = hi[j]
        flo[j] = fhi[j]
        hi[j] *= widen
        fhi[j] = _clean(f(hi[j], j))
        code[j] = _ST_WIDENED
    nofound = fhi >= 0
    code[nofound] = _ST_FAILED
    x = np.where(nofound, np.inf, 0.5 * (lo + hi))
    active = np.flatnonzero(~nofound)
    side = np.zeros(hi.shape, np.int8)
    slow = np.zeros(hi.shape, np.int8)
    last = np.full(hi.shape, np.inf)  # |f| of the previous iterate
    for _ in range(max_iter):
        if active.size == 0:
            break
        a, b, fa, fb = lo[active], hi[active], flo[active], fhi[active]
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = (a * fb - b * fa) / (fb - fa)
        bis = ~np.isfinite(xs) | (xs <= a) | (xs >= b) | (slow[active] >= 3)
        xs = np.where(bis, 0.5 * (a + b), xs)
        fx = _clean(f(xs, active))
        pos = fx > 0
        # Illinois: halve the function value at an end point kept twice in a row
        sd = side[active]
        fb = np.where(pos & (sd == 1), 0.5 * fb, fb)
        fa = np.where(~pos & (sd == -1), 0.5 * fa, fa)
        a = np.where(pos, xs, a)
        fa = np.where(pos, fx, fa)
        b = np.where(pos, b, xs)
        fb = np.where(pos, fb, fx)
        side[active] = np.where(pos, 1, -1)
        # a bisection whenever three steps in a row fail to halve |f|
        afx = np.abs(fx)
        slow[active] = np.where(bis | (afx <= 0.5 * last[active]), 0, slow[active] + 1)
        last[active] = afx
        lo[active], hi[active], flo[active], fhi[active] = a, b, fa, fb
        x[active] = xs
        done = (fx == 0) | (b - a <= rtol * b) | (afx <= ftol)
        active = active[~done]
    if active.size:
        code[active] = _ST_FAILED
        x[active] = 0.5 * (lo[active] + hi[active])
    return x, code


def _clean(v):
    """NaN (never expected) counts as 'not yet below the threshold': conservative."""
    return np.where(np.isnan(v), 1.0, v)


def _initial_hi(m: _Model, sb) -> NDArray[np.float64]:
    """A generous guess of the upper limit in mu (most limits lie below it)."""
    b = m.b_aux
    spread = np.sqrt(m.n + b + sb * sb + 1.0)
    s_hi = 1.5 * (3.0 + np.maximum(m.n - b, 0.0) + 4.0 * spread)
    rel = np.where(m.e_aux > 0, m.e_aux, 1.0)
    rel_unc = np.where(
        m.e_free, (np.exp(m.e_par) - 1.0) if m.ekind == "lognormal" else m.e_par / rel, 0.0
    )
    s_hi = s_hi * (1.0 + 4.0 * np.minimum(rel_unc, 1.0))
    return s_hi / rel


def _combine_status(*codes) -> NDArray[np.int8]:
    return np.maximum.reduce([np.asarray(c, np.int8) for c in codes])


# --------------------------------------------------------------------------------------------
# public API: asymptotic
# --------------------------------------------------------------------------------------------
def qmu_tilde(
    mu: ArrayLike,
    n_obs: ArrayLike,
    bkg: ArrayLike,
    bkg_unc: ArrayLike = 0.0,
    eff: ArrayLike = 1.0,
    eff_unc: ArrayLike = 0.0,
    *,
    constraint: str = "poisson",
    eff_constraint: str = "gaussian",
    asimov: bool = False,
) -> NDArray[np.float64]:
    """The test statistic ``q~_mu`` (CCGV eq. 16) on the observed data, or with
    ``asimov=True`` on the background-only Asimov data set (``q_mu,A``). Broadcasts."""
    m, shape, muf = _build(n_obs, bkg, bkg_unc, eff, eff_unc, constraint, eff_constraint, mu=mu)
    ref = _reference(m)
    if asimov:
        m = _asimov(m, ref)
        ref = _reference(m)
    q, _ = _qtilde(m, muf, ref)
    return q.reshape(shape)


def q0(
    n_obs: ArrayLike, bkg: ArrayLike, bkg_unc: ArrayLike = 0.0, *, constraint: str = "poisson"
) -> NDArray[np.float64]:
    """Discovery test statistic ``q_0`` (CCGV eq. 12): 0 for a deficit. Broadcasts."""
    m, shape = _build(n_obs, bkg, bkg_unc, 1.0, 0.0, constraint, "gaussian")
    ref = _reference(m)
    q = np.where(ref.mu_hat > 0, 2.0 * (ref.dev0 - ref.dev_hat), 0.0)
    return np.maximum(q, 0.0).reshape(shape)


def pvalues_asymptotic(
    mu: ArrayLike,
    n_obs: ArrayLike,
    bkg: ArrayLike,
    bkg_unc: ArrayLike = 0.0,
    eff: ArrayLike = 1.0,
    eff_unc: ArrayLike = 0.0,
    *,
    constraint: str = "poisson",
    eff_constraint: str = "gaussian",
) -> dict[str, NDArray[np.float64]]:
    """Observed ``CLs``, ``CLs+b`` and ``CLb`` at signal strength ``mu`` (asymptotic).

    ``mu`` broadcasts with the model arrays (e.g. ``mu[:, None]`` against hypotheses for a
    scan). ``CLb = P(q~_mu >= q_obs | 0)`` so that ``CLs = CLs+b / CLb``.
    """
    q = qmu_tilde(
        mu, n_obs, bkg, bkg_unc, eff, eff_unc, constraint=constraint, eff_constraint=eff_constraint
    )
    qa = qmu_tilde(
        mu,
        n_obs,
        bkg,
        bkg_unc,
        eff,
        eff_unc,
        constraint=constraint,
        eff_constraint=eff_constraint,
        asimov=True,
    )
    log_clsb = _log_p_asymptotic(q, qa, "clsb")
    log_cls = _log_p_asymptotic(q, qa, "cls")
    return {
        "cls": np.exp(log_cls),
        "clsb": np.exp(log_clsb),
        "clb": np.exp(np.minimum(log_clsb - log_cls, 0.0)),
    }


def expected_cls_asymptotic(
    mu: ArrayLike,
    n_obs: ArrayLike,
    bkg: ArrayLike,
    bkg_unc: ArrayLike = 0.0,
    eff: ArrayLike = 1.0,
    eff_unc: ArrayLike = 0.0,
    *,
    constraint: str = "poisson",
    eff_constraint: str = "gaussian",
) -> NDArray[np.float64]:
    """Expected CLs at ``mu`` for the bands :data:`BAND_SIGMAS` (last axis, length 5):
    ``CLs_N = Phi(N - sqrt(q_mu,A)) / Phi(N)``."""
    qa = qmu_tilde(
        mu,
        n_obs,
        bkg,
        bkg_unc,
        eff,
        eff_unc,
        constraint=constraint,
        eff_constraint=eff_constraint,
        asimov=True,
    )
    n = np.asarray(BAND_SIGMAS)
    sqa = np.sqrt(qa)[..., None]
    return special.ndtr(n - sqa) / special.ndtr(n)


def upper_limit_asymptotic(
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
    bracket: ArrayLike | None = None,
) -> LimitResult:
    """Asymptotic upper limits on ``mu`` with expected bands, for arrays of hypotheses.

    ``method="cls"`` is the modified frequentist CLs = CLs+b / CLb, ``"clsb"`` plain CLs+b,
    both with ``q~_mu`` and the asymptotic distributions of CCGV (the ``q <= q_A`` and
    ``q > q_A`` branches included; ``q~ = 0`` when ``mu_hat > mu`` and the ``mu = 0`` fit is
    the reference when ``mu_hat < 0``). Expected limits solve ``CLs_N(mu) = 1 - cl`` with
    ``CLs_N = Phi(N - sqrt(q_mu,A)) / Phi(N)`` for N = -2..2.

    ``bracket`` is an optional guess of the upper end of the search in ``mu`` (scalar or
    per hypothesis); it is widened automatically when it does not contain the limit.
    The limits are on ``mu``: events of signal when ``eff = 1``. See the module docstring
    for the constraint conventions.
    """
    cl = _check_cl(cl)
    _check_choice("method", method, ("cls", "clsb"))
    m, shape = _build(n_obs, bkg, bkg_unc, eff, eff_unc, constraint, eff_constraint)
    sb = np.broadcast_to(np.asarray(bkg_unc, float), shape).ravel()
    alpha = 1.0 - cl
    nh = m.size
    out = {k: np.full(nh, np.inf) for k in ("observed", *_BAND_KEYS)}
    status = np.full(nh, _ST_FAILED, np.int8)  # zero efficiency: no sensitivity, no limit
    live = np.flatnonzero(m.e_aux > 0)
    if live.size:
        ml = m.take(live)
        hi0 = _initial_hi(ml, sb[live]) if bracket is None else _bracket_hi(bracket, shape, live)
        obs, exp, code = _solve_asymptotic(ml, alpha, method, hi0)
        out["observed"][live] = obs
        for k, key in enumerate(_BAND_KEYS):
            out[key][live] = exp[k]
        status[live] = code
    return _limit_result(out, status, shape, f"{method}-asymptotic", cl)


def _bracket_hi(bracket, shape, live):
    hi = np.broadcast_to(np.asarray(bracket, float), shape).ravel()[live]
    if np.any(~np.isfinite(hi)) or np.any(hi <= 0):
        raise ValueError("bracket must be positive and finite")
    return hi.copy()


def _solve_asymptotic(m: _Model, alpha: float, method: str, hi0):
    ref = _reference(m)
    ma = _asimov(m, ref)
    ref_a = _reference(ma)
    z_alpha = np.sqrt(-2.0 * np.log(alpha))

    def f_obs(mu, j):
        # sqrt(-2 log CLs) grows about linearly with mu: regula falsi converges fast
        q, _ = _qtilde(m.take(j), mu, _take_ref(ref, j))
        qa, _ = _qtilde(ma.take(j), mu, _take_ref(ref_a, j))
        return np.sqrt(-2.0 * _log_p_asymptotic(q, qa, method)) - z_alpha

    nh = m.size
    obs, code_obs = _find_roots(lambda mu, j: -f_obs(mu, j), hi0, z_alpha)
    targets = _band_targets(alpha, method)
    # the five bands solve sqrt(q_mu,A)(mu) = target: one stacked root search
    rep = np.tile(np.arange(nh), 5)
    tgt = np.repeat(targets, nh)
    pos = tgt > 0
    exp = np.zeros(5 * nh)
    code_exp = np.zeros(5 * nh, np.int8)
    jj = np.flatnonzero(pos)
    if jj.size:
        mr = ma.take(rep[jj])
        rr = _take_ref(ref_a, rep[jj])
        tj = tgt[jj]

        def f_exp(mu, j):
            qa, _ = _qtilde(mr.take(j), mu, _take_ref(rr, j))
            return tj[j] - np.sqrt(qa)

        # the median lies below the observed-limit guess: start the bands from the same guess
        exp[jj], code_exp[jj] = _find_roots(f_exp, np.tile(hi0, 5)[jj], tj)
    exp = exp.reshape(5, nh)
    code = _combine_status(code_obs, *code_exp.reshape(5, nh))
    return obs, exp, code


def _take_ref(ref: _Reference, j) -> _Reference:
    return _Reference(*(a[j] for a in ref))


def _limit_result(out, status, shape, method, cl, lower=None) -> LimitResult:
    def shaped(a):
        return np.asarray(a, float).reshape(shape)

    return LimitResult(
        observed=shaped(out["observed"]),
        expected_median=shaped(out["expected_median"]),
        expected_minus1=shaped(out["expected_minus1"]),
        expected_plus1=shaped(out["expected_plus1"]),
        expected_minus2=shaped(out["expected_minus2"]),
        expected_plus2=shaped(out["expected_plus2"]),
        status=_STATUS_NAMES[np.asarray(status, int)].reshape(shape),
        method=method,
        cl=cl,
        lower=None if lower is None else shaped(lower),
    )


def discovery_asymptotic(
    n_obs: ArrayLike, bkg: ArrayLike, bkg_unc: ArrayLike = 0.0, *, constraint: str = "poisson"
) -> SignificanceResult:
    """Local discovery p-value and significance ``Z = sqrt(q_0)`` (CCGV eq. 53).

    ``p = 1 - Phi(Z)``; a deficit (``n < b``) gives ``q_0 = 0``, ``p = 0.5``, ``Z = 0``.
    For a known background ``q_0 = 2 (n log(n/b) - n + b)``.
    """
    q = q0(n_obs, bkg, bkg_unc, constraint=constraint)
    z = np.sqrt(q)
    p = special.ndtr(-z)
    return SignificanceResult(
        p_value=p, z=z, status=np.full(q.shape, STATUS_OK), method="asymptotic"
    )


# --------------------------------------------------------------------------------------------
# public API: classical CLs on the count (exact Poisson, Cousins-Highland for uncertainties)
# --------------------------------------------------------------------------------------------
def _log_gammaincc(a, x):
    """``log Q(a, x)`` (regularised upper incomplete gamma), finite where ``Q`` underflows."""
    a = np.asarray(a, float)
    x = np.asarray(x, float)
    a, x = np.broadcast_arrays(a, x)
    q = special.gammaincc(a, x)
    out = np.empty(a.shape)
    big = q > 1e-280
    out[big] = np.log(q[big])
    small = ~big
    if small.any():
        aa, xx = a[small], x[small]
        # continued fraction of Q(a, x) (converges fast for x > a, which underflow implies)
        t = np.zeros_like(xx)
        for k in range(80, 0, -1):
            t = k * (k - aa) / (xx + 2 * k + 1 - aa - t)
        out[small] = -xx + aa * np.log(xx) - special.gammaln(aa) - np.log(xx + 1 - aa - t)
    return out


_GL_CACHE: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}


def _gl_unit(k: int):
    """Gauss-Legendre nodes and weights on (0, 1)."""
    if k not in _GL_CACHE:
        x, w = np.polynomial.legendre.leggauss(k)
        _GL_CACHE[k] = (0.5 * (x + 1.0), 0.5 * w)
    return _GL_CACHE[k]


def _prior_nodes(center, unc, kind: str, k: int):
    """Quadrature nodes (n, k) and log weights of the nuisance prior, by its quantiles.

    gaussian: truncated at 0; lognormal: ``center (1 + unc/center)^Z``; poisson/gamma: mean
    ``center`` and standard deviation ``unc`` (exponential of mean ``unc`` if center = 0).
    """
    u, w = _gl_unit(k)
    c = center[:, None]
    sd = unc[:, None]
    free = sd > 0
    sds = np.where(free, sd, 1.0)
    if kind == "gaussian":
        p0 = special.ndtr(-c / sds)
        vals = c + sds * special.ndtri(p0 + u * (1.0 - p0))
        vals = np.maximum(vals, 0.0)
    elif kind == "lognormal":
        k_ln = np.log1p(sds / np.where(c > 0, c, 1.0))
        vals = c * np.exp(k_ln * special.ndtri(u))
    else:
        shape = np.where(c > 0, (c / sds) ** 2, 1.0)
        scale = np.where(c > 0, sds**2 / np.where(c > 0, c, 1.0), sds)
        vals = special.gammaincinv(shape, u) * scale
    vals = np.where(free, vals, c)
    logw = np.where(free, np.log(w), np.where(np.arange(k) == 0, 0.0, -np.inf))
    return vals, np.broadcast_to(logw, vals.shape)


def _logsumexp(x, axis=-1):
    mx = np.max(x, axis=axis, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - mx), axis=axis)) + np.squeeze(mx, axis)


def upper_limit_exact(
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
    nodes: int = 32,
) -> LimitResult:
    """Classical CLs (or CLs+b) upper limits on the event count, with expected bands.

    For a known background ``CLs(s) = P(N <= n | s + b) / P(N <= n | b)
    = Q(n + 1, s + b) / Q(n + 1, b)`` (``Q`` the regularised upper incomplete gamma, which also
    extends it to weighted counts). Uncertainties on ``b`` and ``eff`` are averaged over their
    priors in numerator and denominator (Cousins-Highland hybrid), by Gauss-Legendre
    quadrature (``nodes`` per nuisance) in the prior quantile: ``gaussian`` is truncated at
    zero, ``lognormal`` as in :func:`upper_limit_asymptotic`, ``poisson`` is the gamma prior of
    mean ``bkg`` and standard deviation ``bkg_unc``. Expected limits are the limits at the
    background-only quantiles of ``n`` (a discrete distribution: bands may coincide).

    ``n = 0``, ``b = 0`` gives ``ln(1/(1 - cl))`` events (2.303 at 90 % CL).
    """
    cl = _check_cl(cl)
    _check_choice("method", method, ("cls", "clsb"))
    _check_choice("constraint", constraint, CONSTRAINTS)
    _check_choice("eff_constraint", eff_constraint, EFF_CONSTRAINTS)
    arrays = [
        _as_array(nm, v)
        for nm, v in (
            ("n_obs", n_obs),
            ("bkg", bkg),
            ("bkg_unc", bkg_unc),
            ("eff", eff),
            ("eff_unc", eff_unc),
        )
    ]
    arrays = np.broadcast_arrays(*arrays)
    shape = arrays[0].shape
    n, b, sb, e, se = (np.array(a, float).ravel() for a in arrays)
    alpha = 1.0 - cl
    nh = n.size
    out = {k: np.full(nh, np.inf) for k in ("observed", *_BAND_KEYS)}
    status = np.full(nh, _ST_FAILED, np.int8)  # zero efficiency: infinite limits
    live = np.flatnonzero(e > 0)
    if live.size:
        kb = nodes if np.any(sb[live] > 0) else 1
        ke = nodes if np.any(se[live] > 0) else 1
        bn, lbw = _prior_nodes(b[live], sb[live], constraint, kb)
        ekind = "gaussian" if eff_constraint == "gaussian" else "lognormal"
        en, lew = _prior_nodes(e[live], se[live], ekind, ke)
        # background-only quantiles of n (prior predictive): integer bisection
        qn = _count_quantiles(bn, lbw, special.ndtr(np.asarray(BAND_SIGMAS)))
        counts = np.concatenate([n[live][None, :], qn], axis=0)  # (6, nh_live)
        nl = live.size
        rep = np.tile(np.arange(nl), 6)
        cnt = counts.ravel()
        log_den = _logsumexp(lbw[rep] + _log_gammaincc(cnt[:, None] + 1.0, bn[rep]))
        log_alpha = np.log(alpha)

        rows = max(1, 2_000_000 // (kb * ke))

        def f(mu, j):
            val = np.empty(j.size)
            for c0 in range(0, j.size, rows):  # bounded memory: rows x ke x kb nodes
                jc = j[c0 : c0 + rows]
                r = rep[jc]
                lam = mu[c0 : c0 + rows, None, None] * en[r][:, :, None] + bn[r][:, None, :]
                lw = lew[r][:, :, None] + lbw[r][:, None, :]
                lq = _log_gammaincc(cnt[jc][:, None, None] + 1.0, lam)
                val[c0 : c0 + rows] = _logsumexp((lw + lq).reshape(jc.size, -1))
            if method == "cls":
                val = val - log_den[j]
            return np.minimum(val, 0.0) - log_alpha

        rel = np.where(se[live] > 0, se[live] / e[live], 0.0)[rep]
        s_hi = 1.5 * (3.0 + cnt + 4.0 * np.sqrt(cnt + 1.0)) * (1.0 + 4.0 * np.minimum(rel, 1.0))
        hi = s_hi / e[live][rep]
        x, code = _find_roots(f, hi, -log_alpha)
        x = x.reshape(6, nl)
        out["observed"][live] = x[0]
        for k, key in enumerate(_BAND_KEYS):
            out[key][live] = x[k + 1]
        status[live] = _combine_status(*code.reshape(6, nl))
    return _limit_result(out, status, shape, f"{method}-exact", cl)


def _count_quantiles(bn, lbw, probs):
    """Smallest integer k with P(N <= k) >= p under the background prior predictive."""
    nh = bn.shape[0]
    bmax = np.max(np.where(np.isfinite(lbw), bn, 0.0), axis=1)
    out = np.empty((len(probs), nh))
    for i, p in enumerate(probs):
        lo = np.full(nh, -1.0)  # CDF(lo) < p (CDF(-1) = 0)
        hi = np.ceil(bmax + 12.0 * np.sqrt(bmax) + 12.0)  # CDF(hi) >= p
        while True:
            gap = hi - lo > 1
            if not gap.any():
                break
            mid = np.floor(0.5 * (lo + hi))
            j = np.flatnonzero(gap)
            cdf = _logsumexp(lbw[j] + _log_gammaincc(mid[j][:, None] + 1.0, bn[j]))
            ok = cdf >= np.log(p)
            hi[j] = np.where(ok, mid[j], hi[j])
            lo[j] = np.where(ok, lo[j], mid[j])
        out[i] = hi
    return out
