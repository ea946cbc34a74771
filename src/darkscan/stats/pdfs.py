"""Probability densities for bump hunts, truncated and normalised on a fit range ``[lo, hi]``.

Every shape is a module-level object with the same verbs (numba-stats style)::

    pdfs.crystalball.pdf(x, mu, sigma, alpha, n, lo=lo, hi=hi)
    pdfs.crystalball.cdf(x, mu, sigma, alpha, n, lo=lo, hi=hi)
    pdfs.crystalball.rvs(size, mu, sigma, alpha, n, lo=lo, hi=hi, rng=seed_or_generator)

Conventions (common to all shapes):

* ``x``, ``lo``, ``hi`` and every location/width parameter share one unit (usually GeV);
  slopes are in inverse units of ``x``. ``pdf`` is in units of 1/x and integrates to 1 over
  ``[lo, hi]``; it is 0 outside the range, and ``cdf`` is 0 below ``lo`` and 1 above ``hi``.
* Normalisation integrals are in closed form (error function, incomplete gamma function,
  polynomial antiderivatives), never numerical quadrature.
* Parameters are scalars; ``x`` may be any array (the result has its shape). Invalid
  parameters (non-finite, ``sigma <= 0``, ``n <= 1``, ``lo >= hi``...) raise ``ValueError``.
* ``rvs`` draws by inversion of the exact cdf: a fine grid (refined around peaks) brackets
  each uniform number, and bracketed Newton steps polish it to machine precision. ``rng`` is a
  :class:`numpy.random.Generator`, a seed, or None.

Shapes and their parameters:

* :data:`gauss` ``(mu, sigma)``;
* :data:`crystalball` ``(mu, sigma, alpha, n)``, one-sided Crystal Ball with the power-law tail
  on the LOW side (``x < mu - alpha*sigma``, radiative tail of a mass peak), ``alpha > 0``,
  ``n > 1``; the same function as :data:`scipy.stats.crystalball` with ``beta = alpha``,
  ``m = n``. Mirror ``x`` for a high-side tail, or use :data:`dscb`;
* :data:`dscb` ``(mu, sigma, alpha_l, n_l, alpha_r, n_r)``, double-sided Crystal Ball: Gaussian
  core of width ``sigma`` between ``mu - alpha_l*sigma`` and ``mu + alpha_r*sigma`` and a power
  law tail on each side (value and slope continuous at both joints);
* :data:`chebyshev` ``(c0, c1, ..., ck)``: ``sum_j c_j T_j(t)``, ``t = (2x - lo - hi)/(hi - lo)``
  in [-1, 1]; the overall scale of the coefficients cancels in the normalisation (fits fix
  ``c0 = 1``);
* :data:`bernstein` ``(b0, ..., bk)``: ``sum_j b_j C(k, j) t^j (1 - t)^(k - j)``,
  ``t = (x - lo)/(hi - lo)``; non-negative coefficients guarantee a non-negative density.
  Positivity of polynomials is NOT enforced here: it is the fitter's job (a negative density
  is reported by ``rvs``, and penalised by the likelihood);
* :data:`exponential` ``(k,)``: ``exp(k x)``, slope ``k`` in 1/x (``k < 0`` falls);
* :data:`argus` ``(m0, chi, p=0.5)``: ``x (1 - x^2/m0^2)^p exp(-chi^2 (1 - x^2/m0^2) / 2)`` for
  ``0 <= x < m0`` (0 above the endpoint ``m0``), ``chi >= 0``, ``p > -1``; ``p = 0.5`` is the
  ARGUS function of :data:`scipy.stats.argus`, general ``p`` as RooArgusBG (with
  ``c = -chi^2/2``). Normalised with the regularised incomplete gamma function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.polynomial import chebyshev as _cheb
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "Shape",
    "argus",
    "bernstein",
    "chebyshev",
    "crystalball",
    "dscb",
    "exponential",
    "gauss",
    "SHAPES",
]

FloatArray = NDArray[np.float64]

_SQRT2PI = math.sqrt(2.0 * math.pi)
#: Peak offsets (in units of sigma) that the sampling grid and Asimov quadrature refine around.
_PEAK_OFFSETS = np.array([-8, -5, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 5, 8], float)


def _check_range(lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"fit range must be finite, got lo={lo}, hi={hi}")
    if not lo < hi:
        raise ValueError(f"fit range needs lo < hi, got lo={lo}, hi={hi}")
    return lo, hi


def _phi_interval(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Phi(b) - Phi(a) for a <= b, accurate in both tails (uses the mirrored form when a > 0)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    return np.where(a > 0, special.ndtr(-a) - special.ndtr(-b), special.ndtr(b) - special.ndtr(a))


def _tail_integral(z1: ArrayLike, z2: ArrayLike, alpha: float, n: float) -> FloatArray:
    """Integral over [z1, z2] (both <= -alpha) of the low-side power-law tail in z units.

    The tail is ``exp(-alpha^2/2) * u^-n`` with ``u = 1 - alpha (z + alpha) / n >= 1``, which is
    continuous in value and slope with ``exp(-z^2/2)`` at ``z = -alpha``; its antiderivative is
    ``exp(-alpha^2/2) * n / (alpha (n - 1)) * u^(1 - n)`` (finite at ``z = -inf`` for n > 1).
    """
    u1 = 1.0 - alpha * (np.asarray(z1, float) + alpha) / n
    u2 = 1.0 - alpha * (np.asarray(z2, float) + alpha) / n
    scale = math.exp(-0.5 * alpha * alpha) * n / (alpha * (n - 1.0))
    with np.errstate(divide="ignore", over="ignore"):
        return scale * (np.power(u2, 1.0 - n) - np.power(u1, 1.0 - n))


def _tail_value(z: FloatArray, alpha: float, n: float) -> FloatArray:
    u = np.maximum(1.0 - alpha * (z + alpha) / n, 1.0)
    return math.exp(-0.5 * alpha * alpha) * np.power(u, -n)


def _as_rng(rng: Any) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class Shape:
    """A density family truncated to ``[lo, hi]``: ``pdf``, ``cdf``, ``rvs`` and helpers.

    Subclasses provide the unnormalised density ``_density(x, lo, hi, *params)`` and its
    closed-form integral ``_integral(a, b, lo, hi, *params)`` over ``[a, b]`` (``a <= b``
    elementwise, both inside ``[lo, hi]``), plus ``_check``. They are stateless.
    """

    #: Short name used in error messages and by the model layer.
    name: str = "shape"
    #: Parameter names in positional order (for variadic shapes: the prefix of the names).
    param_names: tuple[str, ...] = ()
    #: Default values of trailing optional parameters.
    defaults: dict[str, float] = {}
    #: Open/closed domain of each parameter, used by fitters as default limits.
    domains: dict[str, tuple[float | None, float | None]] = {}
    #: True for polynomials, whose parameters are a variable-length coefficient list.
    variadic: bool = False

    def __repr__(self) -> str:
        return f"<darkscan.stats.pdfs.{self.name}>"

    # -- to be provided by subclasses -------------------------------------------------------
    def _check(self, params: tuple[float, ...], lo: float, hi: float) -> tuple[float, ...]:
        raise NotImplementedError

    def _density(self, x: FloatArray, lo: float, hi: float, *params: float) -> FloatArray:
        raise NotImplementedError

    def _integral(
        self, a: ArrayLike, b: ArrayLike, lo: float, hi: float, *params: float
    ) -> FloatArray:
        raise NotImplementedError

    def breakpoints(self, *params: float, lo: float, hi: float) -> FloatArray:
        """Points in ``[lo, hi]`` where the density has structure (peak, joints, endpoint)."""
        return np.empty(0)

    # -- public verbs -------------------------------------------------------------------------
    def _prepare(self, params: Sequence[float], lo: float, hi: float) -> tuple[Any, ...]:
        lo, hi = _check_range(lo, hi)
        params = tuple(float(p) for p in params)
        if not all(math.isfinite(p) for p in params):
            raise ValueError(f"{self.name}: non-finite parameter in {params}")
        return (lo, hi, *self._check(params, lo, hi))

    def norm(self, *params: float, lo: float, hi: float) -> float:
        """Integral of the unnormalised density over ``[lo, hi]`` (closed form)."""
        lo, hi, *p = self._prepare(params, lo, hi)
        return float(self._integral(lo, hi, lo, hi, *p))

    def pdf(self, x: ArrayLike, *params: float, lo: float, hi: float) -> FloatArray:
        """Density normalised to 1 on ``[lo, hi]`` (units 1/x), 0 outside."""
        lo, hi, *p = self._prepare(params, lo, hi)
        x = np.asarray(x, float)
        norm = float(self._integral(lo, hi, lo, hi, *p))
        if not norm > 0:
            raise ValueError(f"{self.name}: density integrates to {norm} on [{lo}, {hi}]")
        inside = (x >= lo) & (x <= hi)
        return np.where(inside, self._density(np.clip(x, lo, hi), lo, hi, *p) / norm, 0.0)

    def logpdf(self, x: ArrayLike, *params: float, lo: float, hi: float) -> FloatArray:
        """Natural log of :meth:`pdf` (-inf where the density is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x, *params, lo=lo, hi=hi))

    def cdf(self, x: ArrayLike, *params: float, lo: float, hi: float) -> FloatArray:
        """Cumulative distribution on ``[lo, hi]``: 0 at and below ``lo``, 1 at and above ``hi``."""
        lo, hi, *p = self._prepare(params, lo, hi)
        x = np.asarray(x, float)
        norm = float(self._integral(lo, hi, lo, hi, *p))
        if not norm > 0:
            raise ValueError(f"{self.name}: density integrates to {norm} on [{lo}, {hi}]")
        return np.clip(self._integral(lo, np.clip(x, lo, hi), lo, hi, *p) / norm, 0.0, 1.0)

    def rvs(self, size: int, *params: float, lo: float, hi: float, rng: Any = None) -> FloatArray:
        """``size`` random numbers from the truncated density (inverse cdf, see module doc)."""
        lo, hi, *p = self._prepare(params, lo, hi)
        size = int(size)
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        u = _as_rng(rng).random(size)
        return self._inverse_cdf(u, tuple(p), lo, hi)

    def ppf(self, q: ArrayLike, *params: float, lo: float, hi: float) -> FloatArray:
        """Quantile function (inverse of :meth:`cdf`) for ``q`` in [0, 1]."""
        lo, hi, *p = self._prepare(params, lo, hi)
        q = np.asarray(q, float)
        if np.any((q < 0) | (q > 1) | ~np.isfinite(q)):
            raise ValueError("ppf needs probabilities in [0, 1]")
        return self._inverse_cdf(q.ravel(), tuple(p), lo, hi).reshape(q.shape)

    def _inverse_cdf(
        self, u: FloatArray, p: tuple[float, ...], lo: float, hi: float, grid: int = 4097
    ) -> FloatArray:
        bp = self.breakpoints(*p, lo=lo, hi=hi)
        xs = np.unique(np.concatenate([np.linspace(lo, hi, grid), bp[(bp > lo) & (bp < hi)]]))
        norm = float(self._integral(lo, hi, lo, hi, *p))
        if not norm > 0:
            raise ValueError(f"{self.name}: density integrates to {norm} on [{lo}, {hi}]")
        cs = self._integral(lo, xs, lo, hi, *p) / norm
        if np.any(np.diff(cs) < -1e-9) or np.any(self._density(xs, lo, hi, *p) < 0):
            raise ValueError(f"{self.name}: density is negative somewhere in [{lo}, {hi}]")
        cs = np.maximum.accumulate(np.clip(cs, 0.0, 1.0))
        cs[-1] = 1.0
        idx = np.clip(np.searchsorted(cs, u, side="right") - 1, 0, xs.size - 2)
        left, right = xs[idx], xs[idx + 1]
        width = cs[idx + 1] - cs[idx]
        frac = np.where(width > 0, (u - cs[idx]) / np.where(width > 0, width, 1.0), 0.5)
        x = left + np.clip(frac, 0.0, 1.0) * (right - left)
        for _ in range(4):  # bracketed Newton polish on the exact cdf
            f = self._integral(lo, x, lo, hi, *p) / norm - u
            d = self._density(x, lo, hi, *p) / norm
            step = np.where(d > 0, f / np.where(d > 0, d, 1.0), 0.0)
            x = np.clip(x - step, left, right)
        return x


# ---------------------------------------------------------------------------------------------
class _Gauss(Shape):
    name = "gauss"
    param_names = ("mu", "sigma")
    domains = {"sigma": (0.0, None)}

    def _check(self, params, lo, hi):
        if len(params) != 2:
            raise ValueError(f"gauss takes (mu, sigma), got {len(params)} parameters")
        mu, sigma = params
        if not sigma > 0:
            raise ValueError(f"gauss: sigma must be > 0, got {sigma}")
        return mu, sigma

    def _density(self, x, lo, hi, mu, sigma):
        z = (x - mu) / sigma
        return np.exp(-0.5 * z * z)

    def _integral(self, a, b, lo, hi, mu, sigma):
        za = (np.asarray(a, float) - mu) / sigma
        zb = (np.asarray(b, float) - mu) / sigma
        return sigma * _SQRT2PI * _phi_interval(za, zb)

    def breakpoints(self, *params, lo, hi):
        mu, sigma = params[:2]
        return mu + sigma * _PEAK_OFFSETS


class _CrystalBall(Shape):
    name = "crystalball"
    param_names = ("mu", "sigma", "alpha", "n")
    domains = {"sigma": (0.0, None), "alpha": (0.0, None), "n": (1.0, None)}

    def _check(self, params, lo, hi):
        if len(params) != 4:
            raise ValueError(f"crystalball takes (mu, sigma, alpha, n), got {len(params)}")
        mu, sigma, alpha, n = params
        if not sigma > 0:
            raise ValueError(f"crystalball: sigma must be > 0, got {sigma}")
        if not alpha > 0:
            raise ValueError(f"crystalball: alpha must be > 0, got {alpha}")
        if not n > 1:
            raise ValueError(f"crystalball: n must be > 1, got {n}")
        return mu, sigma, alpha, n

    def _density(self, x, lo, hi, mu, sigma, alpha, n):
        z = (x - mu) / sigma
        return np.where(z > -alpha, np.exp(-0.5 * z * z), _tail_value(z, alpha, n))

    def _integral(self, a, b, lo, hi, mu, sigma, alpha, n):
        za = (np.asarray(a, float) - mu) / sigma
        zb = (np.asarray(b, float) - mu) / sigma
        left = _tail_integral(np.minimum(za, -alpha), np.minimum(zb, -alpha), alpha, n)
        core = _SQRT2PI * _phi_interval(np.maximum(za, -alpha), np.maximum(zb, -alpha))
        return sigma * (left + core)

    def breakpoints(self, *params, lo, hi):
        mu, sigma, alpha = params[:3]
        extra = [-alpha, -12.0, -20.0, -40.0]
        return mu + sigma * np.concatenate([_PEAK_OFFSETS, extra])


class _DoubleCrystalBall(Shape):
    name = "dscb"
    param_names = ("mu", "sigma", "alpha_l", "n_l", "alpha_r", "n_r")
    domains = {
        "sigma": (0.0, None),
        "alpha_l": (0.0, None),
        "n_l": (1.0, None),
        "alpha_r": (0.0, None),
        "n_r": (1.0, None),
    }

    def _check(self, params, lo, hi):
        if len(params) != 6:
            raise ValueError(
                f"dscb takes (mu, sigma, alpha_l, n_l, alpha_r, n_r), got {len(params)}"
            )
        mu, sigma, al, nl, ar, nr = params
        if not sigma > 0:
            raise ValueError(f"dscb: sigma must be > 0, got {sigma}")
        if not (al > 0 and ar > 0):
            raise ValueError(f"dscb: alpha_l and alpha_r must be > 0, got {al}, {ar}")
        if not (nl > 1 and nr > 1):
            raise ValueError(f"dscb: n_l and n_r must be > 1, got {nl}, {nr}")
        return mu, sigma, al, nl, ar, nr

    def _density(self, x, lo, hi, mu, sigma, al, nl, ar, nr):
        z = (x - mu) / sigma
        core = np.exp(-0.5 * np.clip(z, -al, ar) ** 2)
        return np.where(
            z < -al, _tail_value(z, al, nl), np.where(z > ar, _tail_value(-z, ar, nr), core)
        )

    def _integral(self, a, b, lo, hi, mu, sigma, al, nl, ar, nr):
        za = (np.asarray(a, float) - mu) / sigma
        zb = (np.asarray(b, float) - mu) / sigma
        left = _tail_integral(np.minimum(za, -al), np.minimum(zb, -al), al, nl)
        core = _SQRT2PI * _phi_interval(np.clip(za, -al, ar), np.clip(zb, -al, ar))
        right = _tail_integral(-np.maximum(zb, ar), -np.maximum(za, ar), ar, nr)
        return sigma * (left + core + right)

    def breakpoints(self, *params, lo, hi):
        mu, sigma, al, _, ar, _ = params
        extra = [-al, ar, -12.0, -20.0, -40.0, 12.0, 20.0, 40.0]
        return mu + sigma * np.concatenate([_PEAK_OFFSETS, extra])


class _Exponential(Shape):
    name = "exponential"
    param_names = ("k",)

    def _check(self, params, lo, hi):
        if len(params) != 1:
            raise ValueError(f"exponential takes (k,), got {len(params)} parameters")
        return params

    # The density is exp(k (x - ref)) with ref = lo for k <= 0 and hi for k > 0, so that it
    # never overflows; the reference point is a constant factor and cancels in the pdf.
    def _density(self, x, lo, hi, k):
        return np.exp(k * (x - (lo if k <= 0 else hi)))

    def _integral(self, a, b, lo, hi, k):
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        # int_a^b exp(k (t - r)) dt = exp(k (a - r)) (b - a) exprel(k (b - a))    (k <= 0, r = lo)
        #                           = exp(k (b - r)) (b - a) exprel(-k (b - a))   (k > 0, r = hi)
        if k <= 0:
            return np.exp(k * (a - lo)) * (b - a) * special.exprel(k * (b - a))
        return np.exp(k * (b - hi)) * (b - a) * special.exprel(-k * (b - a))

    def breakpoints(self, *params, lo, hi):
        (k,) = params
        if k == 0:
            return np.empty(0)
        scale = 1.0 / abs(k)
        steps = scale * np.array([0.25, 0.5, 1, 2, 4, 8, 16, 32])
        return lo + steps if k < 0 else hi - steps


class _Argus(Shape):
    name = "argus"
    param_names = ("m0", "chi", "p")
    defaults = {"p": 0.5}
    domains = {"m0": (0.0, None), "chi": (0.0, None), "p": (-1.0, None)}

    def _prepare(self, params, lo, hi):
        if len(params) == 2:
            params = (*params, 0.5)
        return super()._prepare(params, lo, hi)

    def _check(self, params, lo, hi):
        if len(params) != 3:
            raise ValueError(f"argus takes (m0, chi[, p]), got {len(params)} parameters")
        m0, chi, p = params
        if not m0 > 0:
            raise ValueError(f"argus: endpoint m0 must be > 0, got {m0}")
        if not chi >= 0:
            raise ValueError(f"argus: chi must be >= 0, got {chi}")
        if not p > -1:
            raise ValueError(f"argus: p must be > -1, got {p}")
        if lo < 0:
            raise ValueError(f"argus is defined for x >= 0, got lo={lo}")
        if not lo < m0:
            raise ValueError(f"argus: lo={lo} must be below the endpoint m0={m0}")
        return m0, chi, p

    def _density(self, x, lo, hi, m0, chi, p):
        v = np.clip(1.0 - (x / m0) ** 2, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * np.power(v, p) * np.exp(-0.5 * chi * chi * v)
        return np.where(v > 0, out, 0.0)

    @staticmethod
    def _v_integral(v1, v2, chi, p):
        """int_{v1}^{v2} v^p exp(-chi^2 v / 2) dv for 0 <= v1 <= v2 <= 1 (incomplete gamma)."""
        a = p + 1.0
        c = 0.5 * chi * chi
        s1, s2 = c * v1, c * v2
        if c * np.max(v2) < 1e-7:  # chi -> 0: series in s, error O(s^2)
            f = lambda v: np.power(v, a) / a * (1.0 - a / (a + 1.0) * c * v)  # noqa: E731
            return f(v2) - f(v1)
        lower = special.gammainc(a, s2) - special.gammainc(a, s1)
        upper = special.gammaincc(a, s1) - special.gammaincc(a, s2)
        diff = np.where(special.gammainc(a, s1) > 0.5, upper, lower)
        return np.exp(special.gammaln(a) - a * math.log(c)) * diff

    def _integral(self, a, b, lo, hi, m0, chi, p):
        # x dx = -(m0^2 / 2) dv with v = 1 - x^2/m0^2: the x-integral is an integral in v.
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        va = np.clip(1.0 - (a / m0) ** 2, 0.0, 1.0)
        vb = np.clip(1.0 - (b / m0) ** 2, 0.0, 1.0)
        return 0.5 * m0 * m0 * self._v_integral(vb, va, chi, p)

    def breakpoints(self, *params, lo, hi):
        m0 = params[0]
        return np.concatenate([[m0], m0 - (m0 - lo) * 0.5 ** np.arange(1, 30)])

    def pdf(self, x, m0, chi, p=0.5, *, lo, hi):  # type: ignore[override]
        """ARGUS density (module doc); ``p`` defaults to 0.5."""
        return super().pdf(x, m0, chi, p, lo=lo, hi=hi)

    def cdf(self, x, m0, chi, p=0.5, *, lo, hi):  # type: ignore[override]
        """ARGUS cumulative distribution; ``p`` defaults to 0.5."""
        return super().cdf(x, m0, chi, p, lo=lo, hi=hi)

    def rvs(self, size, m0, chi, p=0.5, *, lo, hi, rng=None):  # type: ignore[override]
        """ARGUS random numbers; ``p`` defaults to 0.5."""
        return super().rvs(size, m0, chi, p, lo=lo, hi=hi, rng=rng)


class _Polynomial(Shape):
    variadic = True

    def _check(self, params, lo, hi):
        if len(params) == 0:
            raise ValueError(f"{self.name} needs at least one coefficient")
        return params

    def basis(self, x: ArrayLike, order: int, *, lo: float, hi: float) -> FloatArray:
        """Basis functions evaluated at x, shape ``(order + 1, x.size)`` (unnormalised)."""
        raise NotImplementedError

    def basis_integrals(self, order: int, *, lo: float, hi: float) -> FloatArray:
        """Integral of each basis function over ``[lo, hi]`` (closed form)."""
        raise NotImplementedError


class _Chebyshev(_Polynomial):
    name = "chebyshev"
    param_names = ("c",)

    @staticmethod
    def _t(x, lo, hi):
        return (2.0 * np.asarray(x, float) - lo - hi) / (hi - lo)

    def _density(self, x, lo, hi, *c):
        return _cheb.chebval(self._t(x, lo, hi), np.asarray(c))

    def _integral(self, a, b, lo, hi, *c):
        anti = _cheb.chebint(np.asarray(c, float), lbnd=-1.0)
        ta, tb = self._t(a, lo, hi), self._t(b, lo, hi)
        return 0.5 * (hi - lo) * (_cheb.chebval(tb, anti) - _cheb.chebval(ta, anti))

    def basis(self, x, order, *, lo, hi):
        lo, hi = _check_range(lo, hi)
        t = (2.0 * np.asarray(x, float).ravel() - lo - hi) / (hi - lo)
        out = np.empty((order + 1, t.size))
        out[0] = 1.0
        if order >= 1:
            out[1] = t
        for j in range(2, order + 1):
            out[j] = 2.0 * t * out[j - 1] - out[j - 2]
        return out

    def basis_integrals(self, order, *, lo, hi):
        lo, hi = _check_range(lo, hi)
        j = np.arange(order + 1)
        # int_{-1}^{1} T_j = 2 / (1 - j^2) for even j, 0 for odd j
        jj = j.astype(float)
        even = np.where(j % 2 == 0, 2.0 / np.where(j % 2 == 0, 1.0 - jj**2, 1.0), 0.0)
        return 0.5 * (hi - lo) * even


class _Bernstein(_Polynomial):
    name = "bernstein"
    param_names = ("b",)

    @staticmethod
    def _basis_t(t, k):
        t = np.asarray(t, float)
        j = np.arange(k + 1).reshape((-1,) + (1,) * t.ndim)
        binom = special.comb(k, j)
        return binom * np.power(t, j) * np.power(1.0 - t, k - j)

    @staticmethod
    def _t(x, lo, hi):
        return (np.asarray(x, float) - lo) / (hi - lo)

    def _density(self, x, lo, hi, *b):
        b = np.asarray(b, float)
        basis = self._basis_t(self._t(x, lo, hi), b.size - 1)
        return np.tensordot(b, basis, axes=1)

    def _primitive(self, t, b):
        # int_0^t B_{j,k} = (1/(k+1)) sum_{i=j+1}^{k+1} B_{i,k+1}(t)
        # => sum_j b_j int B_{j,k} = (1/(k+1)) sum_{i=1}^{k+1} B_{i,k+1}(t) * cumsum(b)[i-1]
        k = b.size - 1
        basis = self._basis_t(t, k + 1)
        weights = np.concatenate([[0.0], np.cumsum(b)])
        return np.tensordot(weights, basis, axes=1) / (k + 1)

    def _integral(self, a, b_, lo, hi, *b):
        coeffs = np.asarray(b, float)
        ta, tb = self._t(a, lo, hi), self._t(b_, lo, hi)
        return (hi - lo) * (self._primitive(tb, coeffs) - self._primitive(ta, coeffs))

    def basis(self, x, order, *, lo, hi):
        lo, hi = _check_range(lo, hi)
        t = (np.asarray(x, float).ravel() - lo) / (hi - lo)
        return self._basis_t(t, order)

    def basis_integrals(self, order, *, lo, hi):
        lo, hi = _check_range(lo, hi)
        return np.full(order + 1, (hi - lo) / (order + 1))


gauss: Shape = _Gauss()
crystalball: Shape = _CrystalBall()
dscb: Shape = _DoubleCrystalBall()
exponential: Shape = _Exponential()
argus: Shape = _Argus()
chebyshev: _Polynomial = _Chebyshev()
bernstein: _Polynomial = _Bernstein()

#: All shapes by name.
SHAPES: dict[str, Shape] = {
    s.name: s for s in (gauss, crystalball, dscb, exponential, argus, chebyshev, bernstein)
}
