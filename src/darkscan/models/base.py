"""The interface every mediator model answers: the same verbs, arrays in and arrays out.

A model is a frozen dataclass whose fields are its *fixed parameters* (for example the dark
matter mass of an invisible dark photon); its *couplings* (eps, g_prime, g_agg, theta, ...)
and the mediator mass are arguments of every verb and broadcast with numpy rules, so one call
evaluates a whole (mass x coupling) grid without a Python loop.

Conventions shared by all models:

* masses, momenta and widths in GeV, lengths in cm, cross sections in fb;
* a closed channel (below threshold) has a partial width of exactly 0, never NaN;
* branching fractions of a particle with zero total width are 0 in every channel (a particle
  that is stable by construction overrides this, see :mod:`darkscan.models.tau_lfv`);
* a production cross section above the kinematic limit is exactly 0;
* the angle range of a cross section refers to the polar angle theta* of the *first* particle
  of the process name (the photon in e+e- -> gamma A'), in the e+e- centre-of-mass frame with
  z along the electron beam.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate

from darkscan.checks import nonnegative_array
from darkscan.physics.constants import (
    GEV2_TO_FB,
    HBAR_GEV_S,
    HBARC_GEV_CM,
    TAU_B_CHARGED_S,
    TAU_B_ZERO_S,
)
from darkscan.physics.kinematics import safe_divide

Array = NDArray[np.float64]

#: Channel name that collects every final state invisible to the detector.
INVISIBLE = "invisible"


@dataclass(frozen=True)
class Coupling:
    """A coupling of a model: keyword name, meaning, unit and (optional) default value."""

    name: str
    description: str
    unit: str = "1"
    default: float | None = None


@dataclass(frozen=True)
class Production:
    """An e+e- production process with a closed-form cross section."""

    name: str
    description: str


def as_float_array(value: ArrayLike, name: str, *, allow_inf: bool = False) -> Array:
    """Convert to a float array; raise ValueError naming ``name`` if non-finite or negative."""
    return nonnegative_array(name, value, allow_inf=allow_inf)


class Model(ABC):
    """Base class of every mediator model. Subclasses are frozen dataclasses.

    Subclasses set the class attributes and implement :meth:`_partial_widths`; those with a
    closed-form e+e- production cross section also implement :meth:`_dsigma_dz` and
    :meth:`_sigma_z_range` (both in GeV^-2, angle integration done in closed form).
    """

    #: Registry name, e.g. ``"dark-photon"``.
    name: ClassVar[str]
    #: Symbol of the mediator, e.g. ``"A'"``.
    mediator: ClassVar[str]
    #: One-line description including the Lagrangian convention.
    summary: ClassVar[str]
    couplings: ClassVar[tuple[Coupling, ...]]
    #: Decay channels, named by their final state (``"e+e-"``, ``"mu+mu-"``, ``"invisible"``...).
    channels: ClassVar[tuple[str, ...]]
    productions: ClassVar[tuple[Production, ...]] = ()
    #: Exclusive B-meson decays producing the mediator, e.g. ``"B+ -> K+ S"``.
    b_decay_modes: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ validation
    @property
    def coupling_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.couplings)

    def parameters(self) -> dict[str, Any]:
        """Fixed parameters of this model instance (the dataclass fields)."""
        if dataclasses.is_dataclass(self):
            return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {}

    def _couplings(self, given: Mapping[str, ArrayLike]) -> dict[str, Array]:
        valid = self.coupling_names
        unknown = sorted(set(given) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown coupling(s) {unknown} for model '{self.name}'; valid: {list(valid)}"
            )
        out: dict[str, Array] = {}
        for c in self.couplings:
            if c.name in given:
                out[c.name] = as_float_array(given[c.name], c.name)
            elif c.default is not None:
                out[c.name] = np.asarray(c.default, dtype=float)
            else:
                raise ValueError(
                    f"model '{self.name}' needs coupling '{c.name}' ({c.description}); "
                    f"couplings: {list(valid)}"
                )
        return out

    def _prepare(self, mass: ArrayLike, given: Mapping[str, ArrayLike]):
        m = as_float_array(mass, "mass")
        c = self._couplings(given)
        arrays = np.broadcast_arrays(m, *c.values())
        return np.asarray(arrays[0], dtype=float), {
            k: np.asarray(a, dtype=float) for k, a in zip(c, arrays[1:], strict=True)
        }

    def check_channel(self, channel: str) -> str:
        if channel not in self.channels:
            raise ValueError(
                f"unknown channel '{channel}' for model '{self.name}'; valid: {list(self.channels)}"
            )
        return channel

    # ------------------------------------------------------------------ widths
    @abstractmethod
    def _partial_widths(self, mass: Array, c: dict[str, Array]) -> dict[str, Array]:
        """Partial widths [GeV] by channel on broadcast arrays (validated inputs)."""

    def partial_widths(self, mass: ArrayLike, **couplings: ArrayLike) -> dict[str, Array]:
        """Partial widths [GeV] for every channel, broadcast over mass and couplings."""
        m, c = self._prepare(mass, couplings)
        widths = self._partial_widths(m, c)
        return {ch: np.broadcast_to(widths[ch], m.shape).astype(float) for ch in self.channels}

    def partial_width(self, channel: str, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Partial width [GeV] of one channel."""
        self.check_channel(channel)
        return self.partial_widths(mass, **couplings)[channel]

    def total_width(self, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Total width [GeV]: the sum over :attr:`channels`."""
        widths = self.partial_widths(mass, **couplings)
        return np.sum(np.stack(list(widths.values())), axis=0)

    def branching_fractions(self, mass: ArrayLike, **couplings: ArrayLike) -> dict[str, Array]:
        """Branching fractions by channel (0 everywhere the total width is 0)."""
        widths = self.partial_widths(mass, **couplings)
        total = np.sum(np.stack(list(widths.values())), axis=0)
        return {ch: safe_divide(w, total) for ch, w in widths.items()}

    def branching_fraction(self, channel: str, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        self.check_channel(channel)
        return self.branching_fractions(mass, **couplings)[channel]

    def ctau_cm(self, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Proper decay length c tau = hbar c / Gamma_total [cm]; inf for a zero width."""
        return safe_divide(HBARC_GEV_CM, self.total_width(mass, **couplings), fill=np.inf)

    def decay_length_cm(
        self, mass: ArrayLike, momentum: ArrayLike, **couplings: ArrayLike
    ) -> Array:
        """Mean lab-frame decay length beta gamma c tau = (p / m) c tau [cm] at momentum p [GeV]."""
        m = as_float_array(mass, "mass")
        p = as_float_array(momentum, "momentum")
        ctau = self.ctau_cm(m, **couplings)
        bg = safe_divide(p, m, fill=np.inf)
        with np.errstate(invalid="ignore"):
            length = bg * ctau
        # 0 * inf (a stable particle at rest) has no finite decay length: call it inf.
        return np.where(np.isnan(length), np.inf, length)

    def decay_probability(
        self,
        mass: ArrayLike,
        momentum: ArrayLike,
        r_min_cm: ArrayLike,
        r_max_cm: ArrayLike,
        *,
        sin_theta: ArrayLike | None = None,
        **couplings: ArrayLike,
    ) -> Array:
        """Probability that the mediator decays between two lab-frame radii.

        ``momentum`` is the lab momentum [GeV]. Without ``sin_theta`` the radii are distances
        from the interaction point along the flight direction; with the polar angle's sine they
        are transverse (cylindrical) radii, the flight distance being r / sin(theta).
        P = exp(-d_min / L) - exp(-d_max / L), L = beta gamma c tau.
        """
        r_min = as_float_array(r_min_cm, "r_min_cm")
        r_max = as_float_array(r_max_cm, "r_max_cm", allow_inf=True)
        if np.any(r_max < r_min):
            raise ValueError("r_max_cm must be >= r_min_cm")
        length = self.decay_length_cm(mass, momentum, **couplings)
        if sin_theta is not None:
            s = as_float_array(sin_theta, "sin_theta")
            if np.any(s > 1):
                raise ValueError("sin_theta must lie in [0, 1]")
            r_min = safe_divide(r_min, s, fill=np.inf)
            r_max = safe_divide(r_max, s, fill=np.inf)
        with np.errstate(invalid="ignore", divide="ignore"):
            p_min = np.where(length > 0, np.exp(-safe_divide(r_min, length, fill=np.inf)), 0.0)
            p_max = np.where(length > 0, np.exp(-safe_divide(r_max, length, fill=np.inf)), 0.0)
        # Zero decay length: decays exactly at the origin.
        at_origin = (length == 0) & (np.asarray(r_min) == 0)
        return np.where(at_origin, 1.0, np.clip(p_min - p_max, 0.0, 1.0))

    # ------------------------------------------------------------------ production
    def check_production(self, process: str | None) -> Production:
        if not self.productions:
            raise ValueError(
                f"model '{self.name}' has no closed-form e+e- production cross section; its "
                "production is computed numerically by darkscan.generators"
            )
        if process is None:
            return self.productions[0]
        for p in self.productions:
            if p.name == process:
                return p
        raise ValueError(
            f"unknown process '{process}' for model '{self.name}'; "
            f"valid: {[p.name for p in self.productions]}"
        )

    def _dsigma_dz(
        self, process: str, s: Array, mass: Array, c: dict[str, Array], z: Array
    ) -> Array:
        """d sigma / d cos(theta*) [GeV^-2] of ``process``."""
        raise NotImplementedError  # pragma: no cover - only for models with productions

    def _sigma_z_range(
        self, process: str, s: Array, mass: Array, c: dict[str, Array], z_lo: Array, z_hi: Array
    ) -> Array:
        """Closed-form integral of :meth:`_dsigma_dz` over z_lo < cos(theta*) < z_hi [GeV^-2]."""
        raise NotImplementedError  # pragma: no cover

    def _kinematic_limit(self, process: str, mass: Array, c: dict[str, Array]) -> Array:
        """Threshold in sqrt(s) [GeV] for producing the mediator of ``mass`` (default: the
        mass itself, for a massless partner such as the photon)."""
        return mass

    def _production_inputs(
        self,
        process: str | None,
        sqrt_s: ArrayLike,
        mass: ArrayLike,
        cos_theta_min: ArrayLike,
        cos_theta_max: ArrayLike,
        couplings: Mapping[str, ArrayLike],
    ):
        proc = self.check_production(process).name
        rs = as_float_array(sqrt_s, "sqrt_s")
        z_lo = np.asarray(cos_theta_min, dtype=float)
        z_hi = np.asarray(cos_theta_max, dtype=float)
        if np.any(~np.isfinite(z_lo) | ~np.isfinite(z_hi)) or np.any((z_lo < -1) | (z_hi > 1)):
            raise ValueError("cos_theta_min and cos_theta_max must lie in [-1, 1]")
        m, c = self._prepare(mass, couplings)
        arrays = np.broadcast_arrays(rs, m, z_lo, z_hi, *c.values())
        rs, m, z_lo, z_hi = arrays[:4]
        c = {k: a for k, a in zip(c, arrays[4:], strict=True)}
        return proc, rs, m, z_lo, z_hi, c

    def cross_section_fb(
        self,
        sqrt_s: ArrayLike,
        mass: ArrayLike,
        *,
        process: str | None = None,
        cos_theta_min: ArrayLike = -1.0,
        cos_theta_max: ArrayLike = 1.0,
        **couplings: ArrayLike,
    ) -> Array:
        """e+e- production cross section [fb] at centre-of-mass energy ``sqrt_s`` [GeV].

        Tree level, no initial-state radiation, integrated over cos(theta*) of the first
        particle of the process in [cos_theta_min, cos_theta_max]. Exactly 0 above the
        kinematic limit and for an empty angular range.
        """
        proc, rs, m, z_lo, z_hi, c = self._production_inputs(
            process, sqrt_s, mass, cos_theta_min, cos_theta_max, couplings
        )
        s = rs * rs
        is_open = (rs > self._kinematic_limit(proc, m, c)) & (z_hi > z_lo)
        # Evaluate on safe values where closed, then zero them.
        s_safe = np.where(is_open, s, 4.0 * np.square(self._kinematic_limit(proc, m, c)) + 1.0)
        zl = np.where(is_open, z_lo, 0.0)
        zh = np.where(is_open, z_hi, 0.5)
        with np.errstate(all="ignore"):
            sigma = self._sigma_z_range(proc, s_safe, m, c, zl, zh)
        return np.where(is_open, sigma * GEV2_TO_FB, 0.0)

    def dsigma_dcos_fb(
        self,
        sqrt_s: ArrayLike,
        mass: ArrayLike,
        cos_theta: ArrayLike,
        *,
        process: str | None = None,
        **couplings: ArrayLike,
    ) -> Array:
        """Differential cross section d sigma / d cos(theta*) [fb] (0 above threshold)."""
        proc, rs, m, z, _, c = self._production_inputs(
            process, sqrt_s, mass, cos_theta, 1.0, couplings
        )
        s = rs * rs
        is_open = rs > self._kinematic_limit(proc, m, c)
        s_safe = np.where(is_open, s, 4.0 * np.square(self._kinematic_limit(proc, m, c)) + 1.0)
        with np.errstate(all="ignore"):
            d = self._dsigma_dz(proc, s_safe, m, c, z)
        return np.where(is_open, d * GEV2_TO_FB, 0.0)

    def cross_section_numerical_fb(
        self,
        sqrt_s: float,
        mass: float,
        *,
        process: str | None = None,
        cos_theta_min: float = -1.0,
        cos_theta_max: float = 1.0,
        **couplings: float,
    ) -> float:
        """Cross section [fb] by adaptive quadrature of :meth:`dsigma_dcos_fb` (a cross-check
        of the closed form; scalar inputs)."""
        value, _ = integrate.quad(
            lambda z: float(self.dsigma_dcos_fb(sqrt_s, mass, z, process=process, **couplings)),
            cos_theta_min,
            cos_theta_max,
            epsabs=0.0,
            epsrel=1e-9,
            limit=200,
        )
        return value

    # ------------------------------------------------------------------ B decays
    def check_b_decay(self, mode: str) -> str:
        if mode not in self.b_decay_modes:
            raise ValueError(
                f"unknown B decay '{mode}' for model '{self.name}'; "
                f"valid: {list(self.b_decay_modes)}"
            )
        return mode

    def _b_decay_width(self, mode: str, mass: Array, c: dict[str, Array]) -> Array:
        """Partial width [GeV] of the B decay ``mode`` (0 where closed)."""
        raise NotImplementedError  # pragma: no cover - only for models with B decays

    def b_decay_width(self, mode: str, mass: ArrayLike, **couplings: ArrayLike) -> Array:
        """Partial width [GeV] of the exclusive B decay ``mode`` producing the mediator."""
        self.check_b_decay(mode)
        m, c = self._prepare(mass, couplings)
        return np.broadcast_to(self._b_decay_width(mode, m, c), m.shape).astype(float)

    def b_decay_branching_fraction(
        self, mode: str, mass: ArrayLike, **couplings: ArrayLike
    ) -> Array:
        """BR of ``mode`` = width x tau_B / hbar with the PDG B+ or B0 lifetime."""
        tau = TAU_B_CHARGED_S if mode.startswith(("B+", "B-")) else TAU_B_ZERO_S
        return self.b_decay_width(mode, mass, **couplings) * tau / HBAR_GEV_S

    # ------------------------------------------------------------------ description
    def describe(self) -> dict[str, Any]:
        """Registry entry as plain data (for ``darkscan model --list``)."""
        return {
            "name": self.name,
            "mediator": self.mediator,
            "summary": self.summary,
            "couplings": [dataclasses.asdict(c) for c in self.couplings],
            "channels": list(self.channels),
            "productions": [p.name for p in self.productions],
            "b_decays": list(self.b_decay_modes),
            "parameters": self.parameters(),
        }
