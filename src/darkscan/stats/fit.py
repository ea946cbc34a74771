"""Extended unbinned maximum-likelihood fits for bump hunts, profile-likelihood limits and
discovery significance.

Model layer (declarative, immutable):

* :class:`Parameter` - a floating (or fixed) parameter with optional limits and an optional
  Gaussian constraint ``(theta - value)^2 / (2 constraint^2)`` (a systematic uncertainty; the
  nominal ``value`` plays the role of the global observable). Parameters with the same
  ``name`` are the same parameter everywhere (shared between categories).
* :class:`Component` - a shape from :mod:`darkscan.stats.pdfs` with its parameters: a plain
  number is a FIXED constant, a :class:`Parameter` floats (unless ``fixed=True``). Background
  components carry a yield (events in the fit range; always floating unless given as a fixed
  :class:`Parameter`). Polynomials take coefficients ``c0..ck`` (Chebyshev) or ``b0..bk``
  (Bernstein); the zeroth defaults to the constant 1 (the scale cancels in the normalisation).
* :class:`Category` - one data set: fit range ``[lo, hi]``, an optional signal component and
  background components. The expected signal yield is ``N_s = mu * eff`` where ``mu`` is the
  signal strength shared by all categories (parameter name ``"mu"``) and ``eff`` is the
  category's efficiency x luminosity factor (a number, or a constrained :class:`Parameter`
  for its uncertainty). With ``eff = 1`` ``mu`` is in signal events; with
  ``eff = efficiency x luminosity [fb^-1]`` it is a cross section [fb].

Default parameter names are ``"<category>.<component>.<param>"`` and
``"<category>.<component>.N"`` for yields, ``"<category>.eff"`` for the efficiency.

Likelihood (:class:`UnbinnedNLL`, errordef 0.5)::

    NLL = - sum_i w_i log( sum_j N_j f_j(x_i) ) + sum_j N_j + sum_k (theta_k - c_k)^2 / (2 s_k^2)

with ``f_j`` normalised on the category's range. Costs of several categories add up with
``+`` (simultaneous fit; parameters are merged by name, constraints counted once). Fits use
:class:`iminuit.Minuit` (migrad, then hesse) on a plain numpy NLL. Fixed-shape components and
polynomial backgrounds are precomputed as basis rows, so one NLL evaluation is one
matrix-vector product, one log and one dot product over the events.

Weighted events (``weights=``) give ``- sum_i w_i log nu(x_i) + sum_j N_j``. CAVEAT: the point
estimate is consistent, but the inverse Hessian of a weighted NLL is NOT the covariance of the
estimates unless all weights are 1: errors, limits and significances from weighted fits need
a correction (sandwich estimator / bootstrap) which this module does not apply.

Asimov data sets are not binned: they are weighted pseudo-events at composite Gauss-Legendre
nodes ``x_i`` over ``[lo, hi]`` (panels refined around peaks and joints), with weights
``nu(x_i) * w_i``, so that the weighted NLL equals the expected NLL
``- integral nu log nu' + integral nu'`` up to quadrature error (see :meth:`UnbinnedNLL.asimov`).

Limits (:func:`upper_limit_profile`) use the test statistic q~_mu with asymptotic formulae
(Cowan, Cranmer, Gross, Vitells, EPJC 71 (2011) 1554) and CLs or CLs+b; ``sigma`` of mu-hat
comes from the background-only Asimov data set (``q_mu,A = mu^2 / sigma^2``), which also gives
the expected bands. :func:`discovery_significance` uses q0, ``Z = sqrt(q0)``. Failed fits are
flagged with :data:`~darkscan.stats.results.STATUS_FAILED`; no exception escapes from the
limit and significance functions once their arguments are valid.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from iminuit import Minuit
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from darkscan.stats import pdfs
from darkscan.stats.results import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_WIDENED,
    LimitResult,
    SignificanceResult,
)

__all__ = [
    "Category",
    "Component",
    "FitResult",
    "Parameter",
    "ProfileScan",
    "UnbinnedNLL",
    "asimov_data",
    "discovery_significance",
    "fit",
    "generate",
    "profile_scan",
    "upper_limit_profile",
]

FloatArray = NDArray[np.float64]

POI = "mu"
_TINY = 1e-300
_BIG = 1e30


# ---------------------------------------------------------------------------------------------
# declarative model
@dataclass(frozen=True)
class Parameter:
    """A model parameter.

    ``value`` is the start value and, for a constrained parameter, the nominal value (centre
    of the Gaussian constraint of width ``constraint``). ``limits`` are ``(low, high)`` with
    None for unbounded. ``name`` shares the parameter between components/categories; ``step``
    is Minuit's initial step (default: constraint width, or a heuristic).
    """

    value: float
    fixed: bool = False
    limits: tuple[float | None, float | None] = (None, None)
    constraint: float | None = None
    name: str | None = None
    step: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(float(self.value)):
            raise ValueError(f"parameter {self.name or ''}: non-finite value {self.value}")
        lo, hi = self.limits
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"parameter {self.name or ''}: limits {self.limits} need lo < hi")
        if self.constraint is not None and not (
            math.isfinite(self.constraint) and self.constraint > 0
        ):
            raise ValueError(f"parameter {self.name or ''}: constraint width must be > 0")
        if self.step is not None and not (math.isfinite(self.step) and self.step > 0):
            raise ValueError(f"parameter {self.name or ''}: step must be > 0")


@dataclass(frozen=True)
class Component:
    """A shape with its parameters (number = fixed constant, :class:`Parameter` = floating)
    and, for backgrounds, its yield (a start value, or a :class:`Parameter`; None: the data
    size divided among the backgrounds). The yield of a signal component is ``mu * eff``."""

    name: str
    shape: pdfs.Shape
    params: Mapping[str, float | Parameter] = field(default_factory=dict)
    yield_: float | Parameter | None = None


@dataclass(frozen=True)
class Category:
    """One data set: fit range ``[lo, hi]`` (units of x), components, and ``eff`` (signal
    yield per unit of ``mu``)."""

    lo: float
    hi: float
    backgrounds: Sequence[Component]
    signal: Component | None = None
    eff: float | Parameter = 1.0
    name: str = "cat"

    def __post_init__(self) -> None:
        pdfs._check_range(self.lo, self.hi)
        names = [c.name for c in self.components]
        if len(set(names)) != len(names):
            raise ValueError(f"category {self.name}: duplicate component names {names}")
        if not self.components:
            raise ValueError(f"category {self.name}: no components")
        eff = self.eff.value if isinstance(self.eff, Parameter) else self.eff
        if not (math.isfinite(float(eff)) and float(eff) > 0):
            raise ValueError(f"category {self.name}: eff must be finite and > 0, got {eff}")

    @property
    def components(self) -> tuple[Component, ...]:
        sig = (self.signal,) if self.signal is not None else ()
        return sig + tuple(self.backgrounds)


@dataclass(frozen=True)
class _Spec:
    """A resolved (global) parameter."""

    name: str
    value: float
    fixed: bool
    limits: tuple[float | None, float | None]
    constraint: float | None
    step: float


Ref = str | float  # a global parameter name, or a constant


@dataclass(frozen=True)
class _CompSpec:
    name: str
    shape: pdfs.Shape
    params: tuple[Ref, ...]
    yields: tuple[Ref, ...]  # the yield is the product of these


def _default_step(value: float, constraint: float | None) -> float:
    if constraint is not None:
        return constraint
    return 0.1 * abs(value) if value != 0 else 0.1


def _spec_from(
    name: str,
    p: float | Parameter,
    *,
    floating_number: bool,
    step: float | None,
    limits: tuple[float | None, float | None] = (None, None),
) -> _Spec | float:
    """A Parameter -> _Spec; a number -> constant (or a floating _Spec if floating_number)."""
    if isinstance(p, Parameter):
        lim = p.limits if p.limits != (None, None) else limits
        return _Spec(
            p.name or name,
            float(p.value),
            p.fixed,
            lim,
            p.constraint,
            p.step or step or _default_step(float(p.value), p.constraint),
        )
    value = float(p)
    if not math.isfinite(value):
        raise ValueError(f"parameter {name}: non-finite value {value}")
    if floating_number:
        return _Spec(name, value, False, limits, None, step or _default_step(value, None))
    return value


def _shape_params(comp: Component, prefix: str) -> list[tuple[str, float | Parameter]]:
    shape, given = comp.shape, dict(comp.params)
    if shape.variadic:
        letter = shape.param_names[0]
        idx = {}
        for key in given:
            if not (key.startswith(letter) and key[len(letter) :].isdigit()):
                raise ValueError(
                    f"{prefix}: {shape.name} coefficients are named {letter}0, {letter}1, ...; "
                    f"got {key!r}"
                )
            idx[int(key[len(letter) :])] = key
        order = max(idx, default=0)
        out = []
        for j in range(order + 1):
            if j in idx:
                out.append((f"{letter}{j}", given[idx[j]]))
            elif j == 0:
                out.append((f"{letter}0", 1.0))
            else:
                raise ValueError(f"{prefix}: coefficient {letter}{j} missing")
        return out
    unknown = set(given) - set(shape.param_names)
    if unknown:
        raise ValueError(
            f"{prefix}: unknown {shape.name} parameters {sorted(unknown)}; "
            f"expected {shape.param_names}"
        )
    out = []
    for pname in shape.param_names:
        if pname in given:
            out.append((pname, given[pname]))
        elif pname in shape.defaults:
            out.append((pname, shape.defaults[pname]))
        else:
            raise ValueError(f"{prefix}: {shape.name} parameter {pname!r} not given")
    return out


def _resolve(cat: Category, n_events: float) -> tuple[list[_Spec], list[_CompSpec]]:
    """Global parameter specs and component specs of a category."""
    specs: list[_Spec] = []
    comps: list[_CompSpec] = []

    def ref(s: _Spec | float) -> Ref:
        if isinstance(s, _Spec):
            specs.append(s)
            return s.name
        return s

    nb = len(cat.backgrounds)
    for comp in cat.components:
        if not isinstance(comp.shape, pdfs.Shape):
            raise TypeError(f"component {comp.name}: shape must be a darkscan.stats.pdfs shape")
        prefix = f"{cat.name}.{comp.name}"
        prefs = []
        for pname, p in _shape_params(comp, prefix):
            dom = comp.shape.domains.get(pname, (None, None))
            prefs.append(
                ref(
                    _spec_from(f"{prefix}.{pname}", p, floating_number=False, step=None, limits=dom)
                )
            )
        if comp is cat.signal:
            if comp.yield_ is not None:
                raise ValueError(f"{prefix}: the signal yield is mu * eff, do not give yield_")
            mu_step = 0.2 * max(math.sqrt(max(n_events, 1.0)), 1.0)
            eff_value = cat.eff.value if isinstance(cat.eff, Parameter) else float(cat.eff)
            yrefs = (
                ref(_Spec(POI, 0.0, False, (None, None), None, mu_step / eff_value)),
                ref(_spec_from(f"{cat.name}.eff", cat.eff, floating_number=False, step=None)),
            )
        else:
            y = comp.yield_ if comp.yield_ is not None else max(n_events, 1.0) / nb
            yv = y.value if isinstance(y, Parameter) else float(y)
            step = max(math.sqrt(abs(yv)), 1.0)
            yrefs = (ref(_spec_from(f"{prefix}.N", y, floating_number=True, step=step)),)
        comps.append(_CompSpec(comp.name, comp.shape, tuple(prefs), yrefs))
    return specs, comps


def _merge_specs(specs: Sequence[_Spec]) -> dict[str, _Spec]:
    table: dict[str, _Spec] = {}
    for s in specs:
        old = table.get(s.name)
        if old is None:
            table[s.name] = s
            continue
        if s.name == POI:
            table[s.name] = old if old.step <= s.step else s
            continue
        if (old.fixed, old.limits, old.constraint) != (s.fixed, s.limits, s.constraint) or (
            old.constraint is not None and old.value != s.value
        ):
            raise ValueError(f"parameter {s.name!r} is declared twice with different settings")
    return table


# ---------------------------------------------------------------------------------------------
# data validation
def _check_data(
    cat: Category, data: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray | None]:
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"category {cat.name}: data must be 1-D, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"category {cat.name}: data is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"category {cat.name}: data contains non-finite values")
    outside = int(np.count_nonzero((x < cat.lo) | (x > cat.hi)))
    if outside:
        raise ValueError(
            f"category {cat.name}: {outside} of {x.size} data values lie outside the fit range "
            f"[{cat.lo}, {cat.hi}]"
        )
    if weights is None:
        return np.ascontiguousarray(x), None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != x.shape:
        raise ValueError(f"category {cat.name}: weights shape {w.shape} != data shape {x.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"category {cat.name}: weights contain non-finite values")
    return np.ascontiguousarray(x), np.ascontiguousarray(w)


# ---------------------------------------------------------------------------------------------
# compiled likelihood term of one category
class _Term:
    """Expected density ``nu(x) = sum_j N_j f_j(x)`` of one category at fixed events ``x``."""

    def __init__(
        self,
        cat: Category,
        comps: list[_CompSpec],
        x: FloatArray,
        w: FloatArray | None,
        index: Mapping[str, int],
    ) -> None:
        self.cat, self.x, self.w = cat, x, w
        lo, hi = float(cat.lo), float(cat.hi)

        def iref(r: Ref) -> tuple[int, float]:
            return (index[r], 0.0) if isinstance(r, str) else (-1, float(r))

        rows: list[FloatArray] = []
        self.fixed_rows: list[tuple[tuple[tuple[int, float], ...], int]] = []
        self.poly: list[
            tuple[tuple[tuple[int, float], ...], slice, list[tuple[int, float]], FloatArray]
        ] = []
        self.nonlinear: list[
            tuple[tuple[tuple[int, float], ...], pdfs.Shape, list[tuple[int, float]]]
        ] = []
        self.yields: list[tuple[tuple[int, float], ...]] = []
        for c in comps:
            yref = tuple(iref(r) for r in c.yields)
            prefs = [iref(r) for r in c.params]
            self.yields.append(yref)
            if all(i < 0 for i, _ in prefs):
                rows.append(c.shape.pdf(x, *[v for _, v in prefs], lo=lo, hi=hi))
                self.fixed_rows.append((yref, len(rows) - 1))
            elif c.shape.variadic:
                order = len(prefs) - 1
                start = len(rows)
                rows.extend(c.shape.basis(x, order, lo=lo, hi=hi))  # type: ignore[attr-defined]
                integ = c.shape.basis_integrals(order, lo=lo, hi=hi)  # type: ignore[attr-defined]
                self.poly.append((yref, slice(start, start + order + 1), prefs, integ))
            else:
                self.nonlinear.append((yref, c.shape, prefs))
        self.nrows = len(rows)
        self.matrix = np.ascontiguousarray(np.array(rows)) if rows else None
        self._cache: dict[int, tuple[tuple[float, ...], FloatArray]] = {}
        self.lo, self.hi = lo, hi

    @staticmethod
    def _val(p: FloatArray, r: tuple[int, float]) -> float:
        return p[r[0]] if r[0] >= 0 else r[1]

    def _yield(self, p: FloatArray, refs: tuple[tuple[int, float], ...]) -> float:
        y = 1.0
        for r in refs:
            y *= p[r[0]] if r[0] >= 0 else r[1]
        return y

    def total(self, p: FloatArray) -> float:
        return float(sum(self._yield(p, y) for y in self.yields))

    def density(self, p: FloatArray) -> FloatArray | None:
        """nu(x) at the events, or None where the parameters give no valid density."""
        val = self._val
        if self.matrix is not None:
            a = np.empty(self.nrows)
            for yref, row in self.fixed_rows:
                a[row] = self._yield(p, yref)
            for yref, sl, prefs, integ in self.poly:
                c = np.array([val(p, r) for r in prefs])
                norm = float(c @ integ)
                if not norm != 0:
                    return None
                a[sl] = self._yield(p, yref) * (c / norm)
            d = a @ self.matrix
        else:
            d = np.zeros_like(self.x)
        for k, (yref, shape, prefs) in enumerate(self.nonlinear):
            pv = tuple(float(val(p, r)) for r in prefs)
            hit = self._cache.get(k)
            if hit is not None and hit[0] == pv:
                f = hit[1]
            else:
                try:
                    f = shape.pdf(self.x, *pv, lo=self.lo, hi=self.hi)
                except ValueError:  # parameters outside the shape's domain
                    return None
                self._cache[k] = (pv, f)
            d = d + self._yield(p, yref) * f
        return d

    def nll(self, p: FloatArray) -> float:
        d = self.density(p)
        if d is None:
            return _BIG
        if not d.min() > 0:
            d = np.maximum(d, _TINY)
        logd = np.log(d)
        s = float(logd.sum()) if self.w is None else float(self.w @ logd)
        return self.total(p) - s


# ---------------------------------------------------------------------------------------------
class UnbinnedNLL:
    """Extended unbinned negative log-likelihood of one or more categories (module doc).

    Call it with a parameter vector (order :attr:`names`); add costs with ``+`` for a
    simultaneous fit. ``errordef`` is 0.5 (:attr:`iminuit.Minuit.LIKELIHOOD`).
    """

    errordef = Minuit.LIKELIHOOD

    def __init__(
        self, category: Category, data: ArrayLike, weights: ArrayLike | None = None
    ) -> None:
        x, w = _check_data(category, data, weights)
        self._build([(category, x, w)], centres={}, start={})

    @classmethod
    def _from_parts(
        cls,
        parts: list[tuple[Category, FloatArray, FloatArray | None]],
        centres: Mapping[str, float],
        start: Mapping[str, float],
    ) -> UnbinnedNLL:
        self = cls.__new__(cls)
        self._build(parts, centres, start)
        return self

    def _build(
        self,
        parts: list[tuple[Category, FloatArray, FloatArray | None]],
        centres: Mapping[str, float],
        start: Mapping[str, float],
    ) -> None:
        names = [c.name for c, _, _ in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"categories must have distinct names, got {names}")
        self.parts = parts
        specs: list[_Spec] = []
        resolved = []
        for cat, x, w in parts:
            n_ev = float(x.size if w is None else w.sum())
            s, comps = _resolve(cat, n_ev)
            specs.extend(s)
            resolved.append(comps)
        table = _merge_specs(specs)
        self.names: tuple[str, ...] = tuple(table)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.specs = table
        self.start = np.array([start.get(n, table[n].value) for n in self.names], float)
        self.fixed = np.array([table[n].fixed for n in self.names], bool)
        self.limits = [table[n].limits for n in self.names]
        self.steps = np.array([table[n].step for n in self.names], float)
        cons = [n for n in self.names if table[n].constraint is not None]
        self.centres = {n: float(centres.get(n, table[n].value)) for n in cons}
        self._c_idx = np.array([self.index[n] for n in cons], int)
        self._c_mu = np.array([self.centres[n] for n in cons], float)
        self._c_sig = np.array([table[n].constraint for n in cons], float)
        self.terms = [
            _Term(cat, comps, x, w, self.index)
            for (cat, x, w), comps in zip(parts, resolved, strict=True)
        ]

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(c for c, _, _ in self.parts)

    def __add__(self, other: UnbinnedNLL) -> UnbinnedNLL:
        if not isinstance(other, UnbinnedNLL):
            return NotImplemented
        return UnbinnedNLL._from_parts(
            self.parts + other.parts,
            {**other.centres, **self.centres},
            {
                **dict(zip(other.names, other.start, strict=True)),
                **dict(zip(self.names, self.start, strict=True)),
            },
        )

    def __call__(self, p: ArrayLike) -> float:
        p = np.asarray(p, float)
        total = 0.0
        for t in self.terms:
            total += t.nll(p)
        if self._c_idx.size:
            r = (p[self._c_idx] - self._c_mu) / self._c_sig
            total += 0.5 * float(r @ r)
        return total if math.isfinite(total) else _BIG

    def vector(self, values: Mapping[str, float] | None = None) -> FloatArray:
        """Parameter vector from start values updated with ``values`` (by name)."""
        p = self.start.copy()
        for k, v in (values or {}).items():
            if k not in self.index:
                raise ValueError(f"unknown parameter {k!r}; parameters are {self.names}")
            if not math.isfinite(float(v)):
                raise ValueError(f"parameter {k!r}: non-finite value {v}")
            p[self.index[k]] = float(v)
        return p

    def value(self, values: Mapping[str, float] | None = None) -> float:
        """The NLL at the start values updated with ``values``; names that are not parameters
        of this cost are ignored (so the values of a simultaneous fit can be passed to the
        cost of one category)."""
        known = {k: v for k, v in (values or {}).items() if k in self.index}
        return self(self.vector(known))

    def expected_density(
        self, x: ArrayLike, values: Mapping[str, float] | None = None, category: int = 0
    ) -> FloatArray:
        """``nu(x)`` (events per unit x) of one category at the given parameter values."""
        cat = self.parts[category][0]
        xx = np.asarray(x, float).ravel()
        _, comps = _resolve(cat, 1.0)
        term = _Term(cat, comps, xx, None, self.index)
        d = term.density(self.vector(values))
        if d is None:
            raise ValueError(f"category {cat.name}: no valid density at these parameter values")
        return d.reshape(np.shape(x))

    def asimov(
        self, values: Mapping[str, float] | None = None, *, panels: int = 48, order: int = 16
    ) -> UnbinnedNLL:
        """The same model on its Asimov data set at ``values`` (others: start values).

        Each category's data are replaced by the composite Gauss-Legendre nodes of
        :func:`asimov_data` with weights ``nu(x_i) w_i``; constraint centres (global
        observables) are set to the parameter values, which are also the start values.
        """
        p = self.vector(values)
        vals = dict(zip(self.names, p.tolist(), strict=True))
        parts = []
        for k, (cat, _, _) in enumerate(self.parts):
            nodes, qw = _quadrature(cat, vals, panels, order)
            dens = self.expected_density(nodes, vals, category=k)
            parts.append((cat, nodes, dens * qw))
        return UnbinnedNLL._from_parts(parts, {n: vals[n] for n in self.centres}, vals)


def _quadrature(
    cat: Category, values: Mapping[str, float], panels: int, order: int
) -> tuple[FloatArray, FloatArray]:
    if panels < 1 or order < 1:
        raise ValueError("panels and order must be >= 1")
    lo, hi = float(cat.lo), float(cat.hi)
    _, comps = _resolve(cat, 1.0)
    edges = [np.linspace(lo, hi, panels + 1)]
    for c in comps:
        pv = [values[r] if isinstance(r, str) else r for r in c.params]
        try:
            bp = c.shape.breakpoints(*pv, lo=lo, hi=hi)
        except (ValueError, TypeError):
            continue
        edges.append(bp[(bp > lo) & (bp < hi)])
    e = np.unique(np.concatenate(edges))
    e = e[np.concatenate([[True], np.diff(e) > 1e-12 * (hi - lo)])]
    e[-1] = hi
    t, wt = np.polynomial.legendre.leggauss(order)
    half = 0.5 * np.diff(e)
    mid = 0.5 * (e[1:] + e[:-1])
    nodes = (mid[:, None] + half[:, None] * t[None, :]).ravel()
    weights = (half[:, None] * wt[None, :]).ravel()
    return nodes, weights


def asimov_data(
    cost: UnbinnedNLL,
    values: Mapping[str, float] | None = None,
    *,
    category: int = 0,
    panels: int = 48,
    order: int = 16,
) -> tuple[FloatArray, FloatArray]:
    """Asimov data set of one category as weighted pseudo-events ``(x, w)``.

    ``x`` are composite Gauss-Legendre nodes (``order`` per panel, ``panels`` equal panels
    plus breakpoints from the shapes: peak +- k sigma, tail joints, ARGUS endpoint) and
    ``w = nu(x) * quadrature weight``, so ``sum w g(x) = integral nu g`` for smooth ``g``;
    in particular ``sum w = total expected yield``.
    """
    p = cost.vector(values)
    vals = dict(zip(cost.names, p.tolist(), strict=True))
    cat = cost.parts[category][0]
    nodes, qw = _quadrature(cat, vals, panels, order)
    return nodes, cost.expected_density(nodes, vals, category=category) * qw


def generate(
    category: Category, values: Mapping[str, float] | None = None, rng: Any = None
) -> FloatArray:
    """A toy data set: Poisson yields per component, shapes sampled by inverse cdf.

    ``values`` override the Parameter values by global name (``"mu"`` defaults to 0).
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    specs, comps = _resolve(category, 1.0)
    vals = {s.name: s.value for s in specs}
    vals.update(values or {})
    out = []
    for c in comps:
        y = 1.0
        for r in c.yields:
            y *= vals[r] if isinstance(r, str) else r
        if not y >= 0:
            raise ValueError(f"component {c.name}: expected yield {y} < 0")
        pv = [vals[r] if isinstance(r, str) else r for r in c.params]
        out.append(c.shape.rvs(gen.poisson(y), *pv, lo=category.lo, hi=category.hi, rng=gen))
    x = np.concatenate(out)
    gen.shuffle(x)
    return x


# ---------------------------------------------------------------------------------------------
# fitting
@dataclass(frozen=True)
class FitResult:
    """Result of :func:`fit`: values/errors by parameter name (errors 0 for fixed ones),
    the NLL at the minimum, and the fit status. ``valid`` = migrad converged (valid minimum)
    and, if hesse ran, the covariance is accurate and positive definite."""

    names: tuple[str, ...]
    values: dict[str, float]
    errors: dict[str, float]
    nll: float
    valid: bool
    converged: bool
    covariance_valid: bool
    covariance: FloatArray | None
    nfcn: int
    message: str = ""

    @property
    def status(self) -> str:
        return STATUS_OK if self.valid else STATUS_FAILED

    def pull(self, name: str, cost: UnbinnedNLL) -> float:
        """``(value - centre) / width`` of a constrained parameter."""
        spec = cost.specs[name]
        if spec.constraint is None:
            raise ValueError(f"parameter {name!r} is not constrained")
        return (self.values[name] - cost.centres[name]) / spec.constraint


def _failed(cost: UnbinnedNLL, message: str) -> FitResult:
    nan = dict.fromkeys(cost.names, math.nan)
    return FitResult(cost.names, nan, dict(nan), math.nan, False, False, False, None, 0, message)


def fit(
    cost: UnbinnedNLL,
    *,
    start: Mapping[str, float] | None = None,
    fix: Mapping[str, float] | None = None,
    hesse: bool = True,
    strategy: int = 1,
    tol: float = 0.1,
) -> FitResult:
    """Minimise ``cost`` with migrad (then hesse unless ``hesse=False``).

    ``start`` overrides start values, ``fix`` fixes parameters at the given values (both by
    name). Convergence problems give ``valid=False``; exceptions raised by Minuit are caught
    and reported as a failed result (``message``). Bad arguments raise ``ValueError``.
    """
    p0 = cost.vector({**(start or {}), **(fix or {})})
    fixed = cost.fixed.copy()
    for k in fix or {}:
        fixed[cost.index[k]] = True
    if np.all(fixed):  # nothing to minimise: the NLL at the given values
        nll = cost(p0)
        ok = nll < _BIG
        values = dict(zip(cost.names, p0.tolist(), strict=True))
        zeros = dict.fromkeys(cost.names, 0.0)
        return FitResult(
            cost.names,
            values,
            zeros,
            nll,
            ok,
            ok,
            ok,
            None,
            1,
            "" if ok else "no valid density at the fixed values",
        )
    m = Minuit(cost, p0, name=cost.names)
    m.errors = cost.steps
    m.limits = cost.limits
    m.fixed = fixed
    m.strategy = strategy
    m.tol = tol
    m.print_level = 0
    try:
        m.migrad()
        converged = bool(m.valid)
        cov_ok = converged
        if hesse and converged:
            m.hesse()
            cov_ok = bool(m.valid and m.accurate and not m.fmin.has_made_posdef_covar)
        elif not hesse:
            cov_ok = bool(m.fmin.has_covariance and m.fmin.has_accurate_covar)
    except Exception as exc:  # Minuit/numpy errors become a failed fit, never fatal
        return _failed(cost, f"{type(exc).__name__}: {exc}")
    values = dict(zip(cost.names, (float(v) for v in m.values), strict=True))
    errors = {n: (0.0 if fixed[i] else float(m.errors[i])) for i, n in enumerate(cost.names)}
    cov = None
    if m.covariance is not None:
        cov = np.array(m.covariance, float)
    valid = converged and (cov_ok or not hesse)
    msg = "" if valid else f"migrad valid={converged}, covariance ok={cov_ok}"
    return FitResult(
        cost.names, values, errors, float(m.fval), valid, converged, cov_ok, cov, int(m.nfcn), msg
    )


class ProfileScan(NamedTuple):
    """Profile likelihood in the parameter of interest: ``q = 2 (NLL(mu) - NLL_min)``."""

    mu: FloatArray
    q: FloatArray
    nll: FloatArray
    valid: NDArray[np.bool_]
    mu_hat: float
    nll_min: float


class _Profiler:
    """Conditional fits with warm starts and a cache (one cost, one parameter of interest)."""

    def __init__(
        self,
        cost: UnbinnedNLL,
        poi: str,
        start: Mapping[str, float] | None = None,
        best: FitResult | None = None,
    ) -> None:
        if poi not in cost.index:
            raise ValueError(f"parameter of interest {poi!r} not in the model {cost.names}")
        self.cost, self.poi = cost, poi
        self.best = best if best is not None else fit(cost, start=start)
        if not self.best.converged:
            self.best = fit(cost, start=start, strategy=2)
        self.cache: dict[float, FitResult] = {}
        self.nll_min = self.best.nll

    @property
    def mu_hat(self) -> float:
        return self.best.values[self.poi]

    def conditional(self, mu: float) -> FitResult:
        mu = float(mu)
        hit = self.cache.get(mu)
        if hit is not None:
            return hit
        start = self.best.values
        if self.cache:
            near = min(self.cache, key=lambda m: abs(m - mu))
            if self.cache[near].converged and abs(near - mu) < abs(self.mu_hat - mu):
                start = self.cache[near].values
        res = fit(self.cost, start=start, fix={self.poi: mu}, hesse=False)
        if not res.converged:
            res = fit(
                self.cost, start=self.best.values, fix={self.poi: mu}, hesse=False, strategy=2
            )
        self.cache[mu] = res
        if res.converged and res.nll < self.nll_min:
            self.nll_min = res.nll
        return res

    def q(self, mu: float) -> tuple[float, bool]:
        res = self.conditional(mu)
        return max(2.0 * (res.nll - self.nll_min), 0.0), res.converged


def profile_scan(
    cost: UnbinnedNLL, mu: ArrayLike, *, poi: str = POI, start: Mapping[str, float] | None = None
) -> ProfileScan:
    """Profile-likelihood scan: conditional fits at each value of ``poi``."""
    prof = _Profiler(cost, poi, start)
    mus = np.atleast_1d(np.asarray(mu, float))
    nll = np.array([prof.conditional(m).nll for m in mus])
    valid = np.array([prof.conditional(m).converged for m in mus])
    q = np.maximum(2.0 * (nll - prof.nll_min), 0.0)
    return ProfileScan(mus, q, nll, valid, prof.mu_hat, prof.nll_min)


# ---------------------------------------------------------------------------------------------
# asymptotic limits and significance
def _cls_pvalues(q: float, qa: float) -> tuple[float, float]:
    """(p_{s+b}, 1 - p_b) for q~_mu given q_mu,A = mu^2/sigma^2 (CCGV eqs. 65-67)."""
    sa = math.sqrt(max(qa, 1e-300))
    if q <= qa:
        sq = math.sqrt(q)
        return float(special.ndtr(-sq)), float(special.ndtr(sa - sq))
    return float(special.ndtr(-(q + qa) / (2 * sa))), float(special.ndtr((qa - q) / (2 * sa)))


def _bracket(
    f: Callable[[float], float], a: float, b: float, *, max_widen: int = 30
) -> tuple[float, float, bool]:
    """Widen ``[a, b]`` upwards (b -> a + 2 (b - a)) until ``f`` changes sign."""
    fa, fb = f(a), f(b)
    if not math.isfinite(fa) or fa <= 0:
        raise RuntimeError(f"no sign change: f({a:.4g}) = {fa:.4g} at the lower end")
    widened = False
    for _ in range(max_widen):
        if not math.isfinite(fb):
            raise RuntimeError(f"f({b:.4g}) is not finite")
        if fb < 0:
            return a, b, widened
        a, fa = b, fb
        b = a + 2.0 * (b - a) if b > 0 else 1.0
        fb = f(b)
        widened = True
    raise RuntimeError("could not bracket the limit")


def _nan_limit(method: str, cl: float) -> LimitResult:
    nan = np.array(math.nan)
    return LimitResult(nan, nan, nan, nan, nan, nan, np.array(STATUS_FAILED), method, cl)


def upper_limit_profile(
    cost: UnbinnedNLL,
    *,
    cl: float = 0.95,
    method: str = "cls",
    poi: str = POI,
    bands: bool = True,
    start: Mapping[str, float] | None = None,
    asimov_panels: int = 48,
    asimov_order: int = 16,
) -> LimitResult:
    """Asymptotic profile-likelihood upper limit on ``poi`` (the signal strength ``mu``).

    Test statistic q~_mu (mu-hat clipped at 0, q = 0 for mu-hat > mu); ``method`` "cls"
    (limit where p_{s+b} / (1 - p_b) = 1 - cl) or "clsb" (CLs+b: p_{s+b} = 1 - cl), as in
    :func:`darkscan.stats.counting.upper_limit_asymptotic` ("CLs", "CLs+b" are accepted).
    ``sigma(mu)`` comes from the background-only Asimov data set generated at the conditional
    fit with ``mu = 0`` (nuisances and global observables at their fitted values), as do the
    expected median and +-1, +-2 sigma bands: ``sqrt(q_mu,A) = Phi^-1(1 - alpha Phi(N)) + N``
    for CLs, ``Phi^-1(1 - alpha) + N`` for CLs+b (a band whose target is <= 0, i.e. the CLs+b
    -2 sigma band at 95 % CL, is extrapolated linearly from the median and is negative).
    Returns a :class:`~darkscan.stats.results.LimitResult` of 0-d arrays in units of ``mu``.
    Failed fits give NaN and ``status = "failed"`` (with a RuntimeWarning saying why);
    ``"bracket-widened"`` means the limit lay more than 5 sigma above mu-hat.
    """
    method = {"CLs": "cls", "CLs+b": "clsb"}.get(method, method)
    if method not in ("cls", "clsb"):
        raise ValueError(f"method must be 'cls' or 'clsb', got {method!r}")
    if not 0 < cl < 1:
        raise ValueError(f"cl must be in (0, 1), got {cl}")
    if poi not in cost.index:
        raise ValueError(f"parameter of interest {poi!r} not in the model {cost.names}")
    name = f"profile-{method}-asymptotic"
    alpha = 1.0 - cl
    try:
        return _upper_limit(
            cost, cl, alpha, method, name, poi, bands, start, asimov_panels, asimov_order
        )
    except Exception as exc:  # a failed fit or root search: flag, never raise
        warnings.warn(
            f"upper_limit_profile failed: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2
        )
        return _nan_limit(name, cl)


def _upper_limit(cost, cl, alpha, method, name, poi, bands, start, panels, order):
    data = _Profiler(cost, poi, start)
    if not data.best.converged:
        raise RuntimeError(f"global fit failed ({data.best.message})")
    mu_hat = data.mu_hat
    bkg = data.conditional(0.0)
    if not bkg.converged:
        raise RuntimeError("background-only fit failed")
    ref_nll = data.best.nll if mu_hat >= 0 else bkg.nll
    asimov_cost = cost.asimov({**bkg.values, poi: 0.0}, panels=panels, order=order)
    asim = _Profiler(asimov_cost, poi, None, best=fit(asimov_cost, start={**bkg.values, poi: 0.0}))
    if not asim.best.converged:
        raise RuntimeError("Asimov fit failed")
    # the Asimov minimum is at mu = 0 by construction; keep the lowest NLL seen
    asim.nll_min = min(asim.best.nll, asimov_cost.value({**bkg.values, poi: 0.0}))
    sigma_a = asim.best.errors[poi]
    if not (math.isfinite(sigma_a) and sigma_a > 0):
        raise RuntimeError(f"Asimov error on {poi} is {sigma_a}")
    failures: list[str] = []

    def q_obs(mu: float) -> float:
        if mu_hat >= mu:
            return 0.0
        res = data.conditional(mu)
        if not res.converged:
            failures.append(f"conditional fit at {poi}={mu:.4g}")
        ref = data.nll_min if mu_hat >= 0 else ref_nll
        return max(2.0 * (res.nll - ref), 0.0)

    def q_asimov(mu: float) -> float:
        qa, ok = asim.q(mu)
        if not ok:
            failures.append(f"Asimov conditional fit at {poi}={mu:.4g}")
        return qa

    def f_obs(mu: float) -> float:
        psb, clb = _cls_pvalues(q_obs(mu), q_asimov(mu))
        p = psb / clb if method == "cls" else psb
        return p - alpha

    lower = max(mu_hat, 0.0) + 0.1 * sigma_a
    upper = max(mu_hat, 0.0) + 5.0 * sigma_a
    a, b, widened = _bracket(f_obs, lower, upper)
    observed = optimize.brentq(f_obs, a, b, xtol=1e-4 * sigma_a, rtol=1e-6)

    expected = {}
    if bands:
        for n_sig in (-2, -1, 0, 1, 2):
            if method == "cls":
                target = special.ndtri(1.0 - alpha * special.ndtr(n_sig)) + n_sig
            else:
                target = special.ndtri(1.0 - alpha) + n_sig
            expected[n_sig] = target
        med_target = expected[0]

        def g(mu: float, t: float) -> float:
            return t - math.sqrt(q_asimov(mu))

        solved = {}
        for n_sig, t in sorted(expected.items(), key=lambda kv: kv[0] != 0):
            if t <= 0:
                continue
            guess = sigma_a * t
            ea, eb, _ = _bracket(lambda m, t=t: g(m, t), 0.2 * guess, 1.5 * guess)
            solved[n_sig] = optimize.brentq(
                lambda m, t=t: g(m, t), ea, eb, xtol=1e-4 * sigma_a, rtol=1e-6
            )
        for n_sig, t in expected.items():
            if n_sig not in solved:  # t <= 0 (CLs+b lower bands): linear extrapolation
                solved[n_sig] = solved[0] * t / med_target
        exp_vals = [solved[k] for k in (0, -1, 1, -2, 2)]
    else:
        exp_vals = [math.nan] * 5
    status = STATUS_WIDENED if widened else STATUS_OK
    if failures:
        warnings.warn(
            "upper_limit_profile: " + "; ".join(sorted(set(failures))[:5]),
            RuntimeWarning,
            stacklevel=3,
        )
        status = STATUS_FAILED
    arr = [np.array(float(v)) for v in (observed, *exp_vals)]
    return LimitResult(*arr, status=np.array(status), method=name, cl=cl)


def discovery_significance(
    cost: UnbinnedNLL, *, poi: str = POI, start: Mapping[str, float] | None = None
) -> SignificanceResult:
    """Local discovery significance from q0 (asymptotic): ``Z = sqrt(q0)``, ``p = 1 - Phi(Z)``,
    with ``q0 = 2 (NLL(mu=0) - NLL(mu-hat))`` for mu-hat > 0 and 0 otherwise (p = 0.5).
    Returns a :class:`~darkscan.stats.results.SignificanceResult` of 0-d arrays."""
    if poi not in cost.index:
        raise ValueError(f"parameter of interest {poi!r} not in the model {cost.names}")
    name = "profile-asymptotic"
    try:
        prof = _Profiler(cost, poi, start)
        if not prof.best.converged:
            raise RuntimeError(f"global fit failed ({prof.best.message})")
        bkg = prof.conditional(0.0)
        if not bkg.converged:
            raise RuntimeError("background-only fit failed")
        q0 = max(2.0 * (bkg.nll - prof.nll_min), 0.0) if prof.mu_hat > 0 else 0.0
    except Exception as exc:
        warnings.warn(
            f"discovery_significance failed: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )
        nan = np.array(math.nan)
        return SignificanceResult(nan, nan, np.array(STATUS_FAILED), name)
    z = math.sqrt(q0)
    return SignificanceResult(
        np.array(float(special.ndtr(-z))), np.array(z), np.array(STATUS_OK), name
    )
