"""Detector parameter files: one YAML file per experiment, loaded into frozen dataclasses.

``get_config("belle2")`` reads ``darkscan/detector/params/belle2.yaml`` (also ``babar``,
``belle``); ``load_config(path)`` reads any file with the same schema. Every key is checked:
a missing key, an unknown key (typos), a wrong type or an out-of-range value raises
:class:`ConfigError` (a ``ValueError``) naming the file and the dotted key, e.g.
``belle2.yaml: tracking.pt_resolution.a_per_gev: expected a number, got str 'abc'``.

Conventions (also in the YAML files): angles are lab polar angles in degrees, momenta and
energies in GeV, lengths in cm, efficiencies and rates in [0, 1]. Resolution formulas:

* tracks: sigma_pT / pT = a pT (+) b / beta; sigma_theta = sigma_phi = a (+) b / (p beta);
* clusters: sigma_E / E = a / E (+) b / E^(1/4) (+) c; sigma_angle = a / sqrt(E) (+) b;

where (+) is the sum in quadrature. The numbers, their sources (seed talks, ``physics.md``)
and the assumptions made where the seeds give none are documented next to each key in the
YAML files.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Species that can leave a track, in the order used by the fast simulation.
TRACK_SPECIES = ("electron", "muon", "pion", "kaon", "proton")
#: Calorimeter regions, in the order of the ``region`` id (0 forward, 1 barrel, 2 backward).
ECL_REGIONS = ("forward", "barrel", "backward")
#: Acceptances a particle-ID selector can require.
PID_ACCEPTANCES = ("tracking", "ecl", "klm")


class ConfigError(ValueError):
    """A detector parameter file is missing a key, has an unknown key or a bad value."""


def _real(x: ArrayLike) -> NDArray[np.floating]:
    """``x`` as a floating-point array, keeping float32 (the fast simulation's working
    precision) and converting anything else to float64."""
    a = np.asarray(x)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


def _check_positive(name: str, value: float, allow_zero: bool = True) -> None:
    if value < 0.0 or (value == 0.0 and not allow_zero) or not math.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")


def _check_theta(lo: float, hi: float, what: str = "theta") -> None:
    if not 0.0 <= lo < hi <= 180.0:
        raise ValueError(f"{what} range must satisfy 0 <= min < max <= 180 deg, got ({lo}, {hi})")


def _cos_window(lo_deg: float, hi_deg: float) -> tuple[float, float]:
    """(cos_min, cos_max) of a polar-angle window [lo, hi] deg."""
    return math.cos(math.radians(hi_deg)), math.cos(math.radians(lo_deg))


# ---------------------------------------------------------------------------------------------
# tracking


@dataclass(frozen=True)
class PtResolution:
    """sigma_pT / pT = a pT (+) b / beta (pT in GeV)."""

    a_per_gev: float
    b: float

    def __post_init__(self) -> None:
        _check_positive("a_per_gev", self.a_per_gev)
        _check_positive("b", self.b)

    def relative(self, pt: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """sigma_pT / pT at transverse momentum ``pt`` [GeV] and velocity ``beta``."""
        return np.hypot(self.a_per_gev * _real(pt), self.b / _real(beta))


@dataclass(frozen=True)
class TrackAngleResolution:
    """sigma_theta = sigma_phi = a (+) b / (p beta) [rad] (p in GeV)."""

    a_rad: float
    b_rad_gev: float

    def __post_init__(self) -> None:
        _check_positive("a_rad", self.a_rad)
        _check_positive("b_rad_gev", self.b_rad_gev)

    def sigma(self, p: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        pb = _real(p) * _real(beta)
        return np.hypot(self.a_rad, self.b_rad_gev / pb)


@dataclass(frozen=True)
class VertexConfig:
    """Track vertex resolution and the displaced-track efficiency factor against the
    transverse radius r of the production vertex (piecewise linear in r; constant beyond the
    last point). A displaced two-track vertex is reconstructed with probability
    (efficiency x factor(r))^2."""

    radius_cm: tuple[float, ...]
    resolution_cm: tuple[float, ...]
    efficiency: tuple[float, ...]

    def __post_init__(self) -> None:
        r = np.asarray(self.radius_cm, float)
        n = r.size
        if n < 1 or r[0] != 0.0 or np.any(np.diff(r) <= 0):
            raise ValueError("radius_cm must start at 0 and increase strictly")
        if len(self.resolution_cm) != n or len(self.efficiency) != n:
            raise ValueError(
                f"radius_cm, resolution_cm and efficiency need the same length, got "
                f"{n}, {len(self.resolution_cm)}, {len(self.efficiency)}"
            )
        for s in self.resolution_cm:
            _check_positive("resolution_cm", s)
        for e in self.efficiency:
            _check_fraction("efficiency", e)

    def resolution(self, r_cm: ArrayLike) -> NDArray[np.float64]:
        """Vertex resolution per coordinate [cm] at production radius ``r_cm``."""
        return np.interp(r_cm, self.radius_cm, self.resolution_cm)

    def efficiency_factor(self, r_cm: ArrayLike) -> NDArray[np.float64]:
        """Per-track reconstruction factor at production radius ``r_cm``."""
        return np.interp(r_cm, self.radius_cm, self.efficiency)


@dataclass(frozen=True)
class TrackingConfig:
    """Charged-particle tracking: acceptance, efficiency, resolutions, vertexing."""

    theta_min_deg: float
    theta_max_deg: float
    pt_min_gev: float
    efficiency: float
    pt_resolution: PtResolution
    angle_resolution: TrackAngleResolution
    vertex: VertexConfig

    def __post_init__(self) -> None:
        _check_theta(self.theta_min_deg, self.theta_max_deg)
        _check_positive("pt_min_gev", self.pt_min_gev)
        _check_fraction("efficiency", self.efficiency)

    @property
    def cos_window(self) -> tuple[float, float]:
        return _cos_window(self.theta_min_deg, self.theta_max_deg)


# ---------------------------------------------------------------------------------------------
# calorimeter


@dataclass(frozen=True)
class EnergyResolution:
    """sigma_E / E = a / E (+) b / E^(1/4) (+) c (E in GeV): noise ``a`` [GeV], stochastic
    ``b`` [GeV^(1/4)], constant ``c``."""

    a_gev: float
    b_gev_quarter: float
    c: float

    def __post_init__(self) -> None:
        _check_positive("a_gev", self.a_gev)
        _check_positive("b_gev_quarter", self.b_gev_quarter)
        _check_positive("c", self.c)

    def relative(self, e_gev: ArrayLike) -> NDArray[np.float64]:
        e = _real(e_gev)
        return np.sqrt((self.a_gev / e) ** 2 + self.b_gev_quarter**2 / np.sqrt(e) + self.c**2)


def fit_energy_resolution(
    points: tuple[tuple[float, float], tuple[float, float]], b_gev_quarter: float
) -> EnergyResolution:
    """Solve a and c of sigma_E/E = a/E (+) b/E^(1/4) (+) c through two (E [GeV], sigma_E/E)
    points for a fixed stochastic term ``b`` (two equations linear in a^2 and c^2)."""
    (e1, r1), (e2, r2) = points
    b2 = b_gev_quarter**2
    m = np.array([[1.0 / e1**2, 1.0], [1.0 / e2**2, 1.0]])
    rhs = np.array([r1**2 - b2 / math.sqrt(e1), r2**2 - b2 / math.sqrt(e2)])
    a2, c2 = np.linalg.solve(m, rhs)
    if a2 < 0 or c2 < 0:
        raise ValueError(f"no real solution for {points} with b = {b_gev_quarter}")
    return EnergyResolution(float(math.sqrt(a2)), b_gev_quarter, float(math.sqrt(c2)))


@dataclass(frozen=True)
class ClusterAngleResolution:
    """sigma_theta = sigma_phi = a / sqrt(E) (+) b [rad] (E in GeV)."""

    a_rad_sqrt_gev: float
    b_rad: float

    def __post_init__(self) -> None:
        _check_positive("a_rad_sqrt_gev", self.a_rad_sqrt_gev)
        _check_positive("b_rad", self.b_rad)

    def sigma(self, e_gev: ArrayLike) -> NDArray[np.float64]:
        return np.hypot(self.a_rad_sqrt_gev / np.sqrt(_real(e_gev)), self.b_rad)


@dataclass(frozen=True)
class PhiCracks:
    """Inactive azimuthal cracks between calorimeter modules that point to the interaction
    region: ``count`` cracks at phi = offset + k 360/count, each ``width_deg`` wide (full
    width), in the listed regions. A shower whose axis falls in a crack is lost."""

    count: int
    width_deg: float
    offset_deg: float
    regions: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be >= 1, got {self.count}")
        if not 0.0 < self.width_deg < 360.0 / self.count:
            raise ValueError(f"width_deg must be in (0, 360/count), got {self.width_deg}")
        for r in self.regions:
            if r not in ECL_REGIONS:
                raise ValueError(f"unknown region '{r}'; valid: {list(ECL_REGIONS)}")

    def in_crack(self, phi_rad: ArrayLike) -> NDArray[np.bool_]:
        """True where the azimuth ``phi_rad`` lies inside a crack."""
        pitch = 2.0 * math.pi / self.count
        d = np.mod(_real(phi_rad) - math.radians(self.offset_deg), pitch)
        half = 0.5 * math.radians(self.width_deg)
        return (d < half) | (d > pitch - half)


@dataclass(frozen=True)
class CalorimeterConfig:
    """Electromagnetic calorimeter: regions (polar-angle windows, gaps in between are dead),
    optional pointing phi cracks, resolutions, thresholds and simple responses to muons,
    charged and neutral hadrons."""

    forward: tuple[float, float] | None
    barrel: tuple[float, float]
    backward: tuple[float, float] | None
    phi_cracks: PhiCracks | None
    barrel_radius_cm: float
    energy_resolution: EnergyResolution
    angle_resolution: ClusterAngleResolution
    photon_threshold_gev: float
    efficiency: float
    mip_energy_gev: float
    neutral_hadron_interaction_probability: float
    neutral_hadron_energy_fraction: float
    e9e21_em: tuple[float, float]
    e9e21_mip: tuple[float, float]
    e9e21_hadron: tuple[float, float]

    def __post_init__(self) -> None:
        windows = [w for w in (self.forward, self.barrel, self.backward) if w is not None]
        for name, w in zip(ECL_REGIONS, (self.forward, self.barrel, self.backward), strict=True):
            if w is not None:
                if len(w) != 2:
                    raise ValueError(f"{name} must be [theta_min_deg, theta_max_deg]")
                _check_theta(*w, what=name)
        for w1, w2 in zip(windows[:-1], windows[1:], strict=True):
            if w1[1] > w2[0]:
                raise ValueError(f"calorimeter regions overlap or are out of order: {w1}, {w2}")
        _check_positive("barrel_radius_cm", self.barrel_radius_cm, allow_zero=False)
        _check_positive("photon_threshold_gev", self.photon_threshold_gev, allow_zero=False)
        _check_fraction("efficiency", self.efficiency)
        _check_positive("mip_energy_gev", self.mip_energy_gev)
        _check_fraction(
            "neutral_hadron_interaction_probability", self.neutral_hadron_interaction_probability
        )
        _check_fraction("neutral_hadron_energy_fraction", self.neutral_hadron_energy_fraction)
        for name in ("e9e21_em", "e9e21_mip", "e9e21_hadron"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"{name} must be [lo, hi] with 0 <= lo <= hi <= 1")
        if self.phi_cracks is not None:
            for r in self.phi_cracks.regions:
                if getattr(self, r) is None:
                    raise ValueError(f"phi_cracks.regions names '{r}', which is not configured")

    @property
    def theta_range_deg(self) -> tuple[float, float]:
        """Outer polar-angle limits of the calorimeter [deg]."""
        windows = [w for w in (self.forward, self.barrel, self.backward) if w is not None]
        return windows[0][0], windows[-1][1]

    def region_of(self, cos_theta: ArrayLike) -> NDArray[np.int8]:
        """Region id (0 forward, 1 barrel, 2 backward, -1 gap or outside) of directions; a
        region [theta_min, theta_max] covers cos(theta_max) < cos(theta) <= cos(theta_min)."""
        c = _real(cos_theta)
        region = np.full(c.shape, -1, np.int8)
        for rid, window in enumerate((self.forward, self.barrel, self.backward)):
            if window is not None:
                lo, hi = _cos_window(*window)
                region[(c > lo) & (c <= hi)] = rid
        return region


# ---------------------------------------------------------------------------------------------
# KLM / IFR


@dataclass(frozen=True)
class KlmConfig:
    """Muon and K_L detector (Belle/Belle II KLM, BaBar IFR): muon reach, neutral-hadron
    detection and the recovery of photons the calorimeter missed."""

    name: str
    theta_min_deg: float
    theta_max_deg: float
    muon_p_min_gev: float
    klong_efficiency: float
    neutron_efficiency: float
    hadron_p_min_gev: float
    photon_recovery_efficiency: float
    photon_recovery_e_min_gev: float

    def __post_init__(self) -> None:
        _check_theta(self.theta_min_deg, self.theta_max_deg)
        for f in ("klong_efficiency", "neutron_efficiency", "photon_recovery_efficiency"):
            _check_fraction(f, getattr(self, f))
        for f in ("muon_p_min_gev", "hadron_p_min_gev", "photon_recovery_e_min_gev"):
            _check_positive(f, getattr(self, f))

    @property
    def cos_window(self) -> tuple[float, float]:
        return _cos_window(self.theta_min_deg, self.theta_max_deg)


# ---------------------------------------------------------------------------------------------
# particle identification


@dataclass(frozen=True)
class IdConfig:
    """One particle-ID selector (score > working point): ``efficiency`` for the target species
    inside its acceptance and momentum range, ``fake_rates`` for every other track species,
    ``pass_rate_outside`` for the target species outside (fake rates apply everywhere)."""

    efficiency: float
    fake_rates: Mapping[str, float]
    p_min_gev: float
    p_max_gev: float | None
    acceptance: str
    pass_rate_outside: float

    def __post_init__(self) -> None:
        _check_fraction("efficiency", self.efficiency)
        _check_fraction("pass_rate_outside", self.pass_rate_outside)
        _check_positive("p_min_gev", self.p_min_gev)
        if self.p_max_gev is not None and self.p_max_gev <= self.p_min_gev:
            raise ValueError("p_max_gev must be larger than p_min_gev")
        if self.acceptance not in PID_ACCEPTANCES:
            raise ValueError(
                f"acceptance '{self.acceptance}' unknown; valid: {list(PID_ACCEPTANCES)}"
            )
        for k, v in self.fake_rates.items():
            if k not in TRACK_SPECIES:
                raise ValueError(f"fake_rates: unknown species '{k}'; valid: {TRACK_SPECIES}")
            _check_fraction(f"fake_rates.{k}", v)
        object.__setattr__(self, "fake_rates", types.MappingProxyType(dict(self.fake_rates)))


@dataclass(frozen=True)
class PidConfig:
    """Particle ID scores in [0, 1]; ``score > working_point`` selects with the configured
    efficiency / fake rate. ``pid_pi = 1 - pid_K`` (binary kaon/pion separation)."""

    working_point: float
    electron: IdConfig
    muon: IdConfig
    kaon: IdConfig

    def __post_init__(self) -> None:
        if not 0.0 < self.working_point < 1.0:
            raise ValueError(f"working_point must be in (0, 1), got {self.working_point}")
        for target in ("electron", "muon", "kaon"):
            missing = set(TRACK_SPECIES) - {target} - set(getattr(self, target).fake_rates)
            if missing:
                raise ValueError(f"{target}.fake_rates lacks {sorted(missing)}")
            if target in getattr(self, target).fake_rates:
                raise ValueError(f"{target}.fake_rates must not list its own species")

    def pass_table(self, target: str) -> NDArray[np.float64]:
        """Pass probability of each species in TRACK_SPECIES order for selector ``target``
        (the target's own entry is its in-acceptance efficiency)."""
        cfg: IdConfig = getattr(self, target)
        return np.array([cfg.fake_rates.get(s, cfg.efficiency) for s in TRACK_SPECIES])


# ---------------------------------------------------------------------------------------------
# triggers


@dataclass(frozen=True)
class BackToBackVeto:
    """Bhabha / gamma gamma veto: the two most energetic calorimeter deposits are back to back
    in the CM frame (acollinearity below ``max_acollinearity_deg``) and each has
    E* > ``min_energy_cm_gev``."""

    min_energy_cm_gev: float
    max_acollinearity_deg: float

    def __post_init__(self) -> None:
        _check_positive("min_energy_cm_gev", self.min_energy_cm_gev)
        if not 0.0 < self.max_acollinearity_deg < 180.0:
            raise ValueError("max_acollinearity_deg must be in (0, 180)")


@dataclass(frozen=True)
class EclTriggerLine:
    """Calorimeter line: the most energetic deposit (E* in the CM frame or E in the lab, by
    ``frame``) exceeds ``e_min_gev`` and lies inside the polar window; optionally no other
    deposit above ``max_other_energy_gev`` (lab), the back-to-back veto, and a track veto
    (at most ``max_tracks`` tracks with p > ``track_p_min_gev``)."""

    name: str
    e_min_gev: float
    frame: str = "cm"
    theta_min_deg: float = 0.0
    theta_max_deg: float = 180.0
    max_other_energy_gev: float | None = None
    veto_back_to_back: bool = False
    max_tracks: int | None = None
    track_p_min_gev: float = 0.0
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        if self.frame not in ("cm", "lab"):
            raise ValueError(f"frame must be 'cm' or 'lab', got '{self.frame}'")
        _check_positive("e_min_gev", self.e_min_gev)
        _check_theta(self.theta_min_deg, self.theta_max_deg)
        _check_fraction("efficiency", self.efficiency)
        if self.max_tracks is not None and self.max_tracks < 0:
            raise ValueError("max_tracks must be >= 0")


@dataclass(frozen=True)
class TrackTriggerLine:
    """Track line: at least ``n_min`` reconstructed tracks with pT > ``pt_min_gev`` in the
    polar window; optionally |z| of the track vertex below ``max_abs_z_cm`` (neural z-vertex
    trigger), a muon reaching the KLM (``klm_muon``) and the back-to-back veto."""

    name: str
    n_min: int
    pt_min_gev: float
    theta_min_deg: float = 0.0
    theta_max_deg: float = 180.0
    max_abs_z_cm: float | None = None
    klm_muon: bool = False
    veto_back_to_back: bool = False
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        if self.n_min < 1:
            raise ValueError(f"n_min must be >= 1, got {self.n_min}")
        _check_positive("pt_min_gev", self.pt_min_gev)
        _check_theta(self.theta_min_deg, self.theta_max_deg)
        _check_fraction("efficiency", self.efficiency)


@dataclass(frozen=True)
class CombinedTriggerLine:
    """Logical combination of lines defined earlier in the file: all of ``all_of`` and at
    least one of ``any_of`` (an empty list is ignored)."""

    name: str
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.any_of and not self.all_of:
            raise ValueError("needs a non-empty any_of or all_of")


TriggerLine = EclTriggerLine | TrackTriggerLine | CombinedTriggerLine
_LINE_TYPES: dict[str, type] = {
    "ecl": EclTriggerLine,
    "tracks": TrackTriggerLine,
    "combined": CombinedTriggerLine,
}


@dataclass(frozen=True)
class TriggerConfig:
    """Trigger lines, evaluated in file order; each gives the event column ``trg_<name>``."""

    back_to_back: BackToBackVeto
    lines: tuple[TriggerLine, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for line in self.lines:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", line.name):
                raise ValueError(f"line name '{line.name}' must match [a-z][a-z0-9_]*")
            if line.name in seen:
                raise ValueError(f"duplicate line '{line.name}'")
            if isinstance(line, CombinedTriggerLine):
                for ref in (*line.any_of, *line.all_of):
                    if ref not in seen:
                        raise ValueError(
                            f"line '{line.name}' refers to '{ref}', which is not defined "
                            f"before it; defined: {sorted(seen)}"
                        )
            seen.add(line.name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(line.name for line in self.lines)


# ---------------------------------------------------------------------------------------------
# the whole detector


@dataclass(frozen=True)
class DetectorConfig:
    """All fast-simulation parameters of one experiment (``source``: the file it came from)."""

    name: str
    description: str
    collider: str
    magnetic_field_t: float
    tracking: TrackingConfig
    calorimeter: CalorimeterConfig
    klm: KlmConfig
    pid: PidConfig
    trigger: TriggerConfig
    source: str = ""

    def __post_init__(self) -> None:
        _check_positive("magnetic_field_t", self.magnetic_field_t, allow_zero=False)
        from darkscan.colliders import COLLIDERS

        if self.collider not in COLLIDERS:
            raise ValueError(f"collider '{self.collider}' unknown; valid: {list(COLLIDERS)}")


# ---------------------------------------------------------------------------------------------
# loading


def _type_name(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _convert(tp: Any, value: Any, key: str, file: str) -> Any:
    """Convert the YAML ``value`` at dotted ``key`` to the annotated type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, key, file)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key, file)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{file}: {key}: expected a number, got {_type_name(value)}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{file}: {key}: expected an integer, got {_type_name(value)}")
        return int(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: {key}: expected true/false, got {_type_name(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{file}: {key}: expected a string, got {_type_name(value)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{file}: {key}: expected a list, got {_type_name(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{key}[{i}]", file) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{file}: {key}: expected {len(args)} entries, got {len(value)}")
        return tuple(
            _convert(a, v, f"{key}[{i}]", file)
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin in (Mapping, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: {key}: expected a mapping, got {_type_name(value)}")
        return {str(k): _convert(args[1], v, f"{key}.{k}", file) for k, v in value.items()}
    raise TypeError(f"unsupported annotation {tp!r} at {key}")  # pragma: no cover


def _build(cls: type, data: Any, key: str, file: str, **extra: Any) -> Any:
    """Build dataclass ``cls`` from the mapping ``data`` found at dotted ``key``."""
    where = f"{key}" if key else "top level"
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: {where}: expected a mapping, got {_type_name(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in extra}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{file}: {where}: unknown key(s) {unknown}; valid: {sorted(fields)}")
    kwargs: dict[str, Any] = dict(extra)
    for name, f in fields.items():
        sub = f"{key}.{name}" if key else name
        if name not in data:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise ConfigError(f"{file}: missing key '{sub}'")
            continue
        if cls is TriggerConfig and name == "lines":
            kwargs[name] = _build_lines(data[name], sub, file)
        else:
            kwargs[name] = _convert(hints[name], data[name], sub, file)
    try:
        return cls(**kwargs)
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{file}: {where}: {exc}") from None


def _build_lines(data: Any, key: str, file: str) -> tuple[TriggerLine, ...]:
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: {key}: expected a mapping of line name -> line")
    lines = []
    for name, spec in data.items():
        sub = f"{key}.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{file}: {sub}: expected a mapping, got {_type_name(spec)}")
        if "type" not in spec:
            raise ConfigError(f"{file}: missing key '{sub}.type' (valid: {list(_LINE_TYPES)})")
        kind = spec["type"]
        if kind not in _LINE_TYPES:
            raise ConfigError(
                f"{file}: {sub}.type: unknown line type {kind!r}; valid: {list(_LINE_TYPES)}"
            )
        body = {k: v for k, v in spec.items() if k != "type"}
        lines.append(_build(_LINE_TYPES[kind], body, sub, file, name=str(name)))
    return tuple(lines)


def config_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> DetectorConfig:
    """Validate a parsed parameter mapping into a :class:`DetectorConfig`."""
    file = Path(source).name if source != "<dict>" else source
    return _build(DetectorConfig, dict(data), "", file, source=str(source))


def load_config(path: str | Path) -> DetectorConfig:
    """Load and validate a detector parameter file (YAML)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read detector parameter file '{path}': {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from None
    return config_from_dict(data if data is not None else {}, str(path))


def experiment_names() -> list[str]:
    """Experiments with a parameter file shipped with darkscan."""
    folder = resources.files("darkscan.detector") / "params"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


_ALIASES = {"belleii": "belle2", "superkekb": "belle2", "kekb": "belle", "pepii": "babar"}


@functools.cache
def _cached(name: str) -> DetectorConfig:
    folder = resources.files("darkscan.detector") / "params"
    with resources.as_file(folder / f"{name}.yaml") as path:
        return load_config(path)


def get_config(experiment: str) -> DetectorConfig:
    """The shipped parameters of ``experiment`` (``belle2``, ``babar``, ``belle``; case,
    spaces, dashes and underscores are ignored, 'Belle II' works)."""
    if not isinstance(experiment, str):
        raise ValueError(f"experiment must be a name, got {experiment!r}")
    key = experiment.lower().replace(" ", "").replace("-", "").replace("_", "")
    key = _ALIASES.get(key, key)
    valid = experiment_names()
    if key not in valid:
        raise ValueError(f"unknown experiment '{experiment}'; valid: {valid}")
    return _cached(key)


__all__ = [
    "ConfigError",
    "DetectorConfig",
    "TRACK_SPECIES",
    "config_from_dict",
    "experiment_names",
    "fit_energy_resolution",
    "get_config",
    "load_config",
]
