"""B-factory colliders: beams, centre-of-mass energy, boost and data sets.

Lab frame convention: z along the electron (e-) beam, the positron beam in the x-z plane at
angle pi - theta_c to z for a full crossing angle theta_c. The centre-of-mass (CM) frame is
reached by the boost beta = (p_e- + p_e+) / (E_e- + E_e+), which has a small x component when the
beams cross.

Beam energies and data sets are the ones quoted in the seed talks
(``shared/reference/physics.md``): SuperKEKB 7.007 on 4.000 GeV with 83 mrad full crossing,
KEKB 8.0 on 3.5 GeV with 22 mrad, PEP-II 9.0 on 3.1 GeV head-on (and its Y(3S), Y(2S) running
with 8.6 and 8.05 GeV electrons on 3.12 GeV positrons). Calorimeter polar-angle coverage (lab):
Belle II ECL 12.4-155.1 deg (seeds); Belle ECL 12.4-155.1 deg (same geometry, documented
assumption); BaBar EMC 15.8-141.8 deg (-0.775 < cos theta < 0.962, BaBar NIM A479 (2002) 1).

Beam-energy spreads (relative sigma_E / E per beam, e- then e+; documented assumptions, the
seeds quote none): SuperKEKB design 6.4e-4 (HER) and 8.1e-4 (LER), KEKB 6.7e-4 and 7.1e-4,
PEP-II 6.1e-4 and 7.7e-4; they give sigma(sqrt s) = 5.4, 5.2 and 5.2 MeV
(:attr:`Collider.sqrt_s_spread_gev`). Generators work at the nominal beams;
:func:`darkscan.generators.beam.apply_beam_energy_spread` spreads them event by event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class DataSet:
    """A recorded (or projected) data set: integrated luminosity at given beam energies."""

    name: str
    lumi_fb: float
    e_minus: float
    e_plus: float
    note: str = ""

    @property
    def sqrt_s(self) -> float:
        return 2.0 * float(np.sqrt(self.e_minus * self.e_plus))


@dataclass(frozen=True)
class Collider:
    """An asymmetric e+e- collider with its detector's photon acceptance and data sets."""

    name: str
    experiment: str
    e_minus: float
    e_plus: float
    crossing_angle_rad: float
    calorimeter_theta_deg: tuple[float, float]
    datasets: tuple[DataSet, ...] = field(default_factory=tuple)
    #: relative beam-energy spreads sigma_E / E of the e- and e+ beams
    beam_energy_spread: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if len(self.beam_energy_spread) != 2 or not all(
            0.0 <= float(x) < 0.05 for x in self.beam_energy_spread
        ):
            raise ValueError(
                "beam_energy_spread must be two relative spreads in [0, 0.05), got "
                f"{self.beam_energy_spread!r}"
            )

    @property
    def sqrt_s_spread_gev(self) -> float:
        """Gaussian spread [GeV] of sqrt(s) from the beam-energy spreads (first order):
        sqrt(s) / 2 * sqrt(s_-^2 + s_+^2)."""
        a, b = self.beam_energy_spread
        return 0.5 * self.sqrt_s * float(np.hypot(a, b))

    @property
    def p_minus(self) -> NDArray[np.float64]:
        """Electron-beam four-momentum (E, px, py, pz) [GeV] (massless beams)."""
        return np.array([self.e_minus, 0.0, 0.0, self.e_minus])

    @property
    def p_plus(self) -> NDArray[np.float64]:
        """Positron-beam four-momentum [GeV], at pi - crossing angle to the z axis."""
        a = self.crossing_angle_rad
        return self.e_plus * np.array([1.0, np.sin(a), 0.0, -np.cos(a)])

    @property
    def p_total(self) -> NDArray[np.float64]:
        return self.p_minus + self.p_plus

    @property
    def sqrt_s(self) -> float:
        """Centre-of-mass energy [GeV]: sqrt(2 E- E+ (1 + cos theta_c))."""
        p = self.p_total
        return float(np.sqrt(p[0] ** 2 - np.sum(p[1:] ** 2)))

    @property
    def boost(self) -> NDArray[np.float64]:
        """Velocity (beta_x, beta_y, beta_z) of the CM frame in the lab."""
        p = self.p_total
        return p[1:] / p[0]

    @property
    def beta_gamma(self) -> float:
        """|beta| gamma of the CM frame (0.287 Belle II, 0.425 Belle, 0.56 BaBar)."""
        p = self.p_total
        return float(np.linalg.norm(p[1:]) / self.sqrt_s)

    def dataset(self, name: str) -> DataSet:
        for d in self.datasets:
            if d.name == name:
                return d
        raise ValueError(
            f"unknown data set '{name}' for {self.name}; valid: {[d.name for d in self.datasets]}"
        )

    def cm_cos_theta(self, theta_lab_deg: ArrayLike) -> NDArray[np.float64]:
        """cos(theta*) in the CM frame of a massless particle at lab polar angle theta.

        Uses the longitudinal boost only (the crossing angle's transverse boost changes the
        polar angle by at most ~beta_x, 0.02 rad at Belle II, and is neglected here).
        """
        c = np.cos(np.radians(np.asarray(theta_lab_deg, dtype=float)))
        bz = self.boost[2]
        return (c - bz) / (1.0 - bz * c)

    def photon_cos_theta_cm_range(self) -> tuple[float, float]:
        """(cos_min, cos_max) in the CM frame covered by the calorimeter for photons."""
        lo, hi = self.calorimeter_theta_deg
        c_fwd, c_bwd = self.cm_cos_theta([lo, hi])
        return float(c_bwd), float(c_fwd)


def _belle2_sets() -> tuple[DataSet, ...]:
    lumis = [0.276, 0.455, 8.34, 62.8, 63.3, 79.7, 178.0, 189.0, 365.0, 575.0, 50000.0]
    return tuple(
        DataSet(f"{lumi:g}fb", lumi, 7.007, 4.0, "Y(4S) data set quoted in the seeds")
        for lumi in lumis
    )


BELLE2 = Collider(
    name="belle2",
    experiment="Belle II at SuperKEKB",
    e_minus=7.007,
    e_plus=4.0,
    crossing_angle_rad=0.083,
    calorimeter_theta_deg=(12.4, 155.1),
    datasets=_belle2_sets(),
    beam_energy_spread=(6.4e-4, 8.1e-4),
)

BELLE = Collider(
    name="belle",
    experiment="Belle at KEKB",
    e_minus=8.0,
    e_plus=3.5,
    crossing_angle_rad=0.022,
    calorimeter_theta_deg=(12.4, 155.1),
    datasets=(
        DataSet("Y4S", 711.0, 8.0, 3.5, "772 M BB pairs"),
        DataSet("on+off", 626.0, 8.0, 3.5, "562 fb^-1 on + 64 fb^-1 off-peak (60 MeV below)"),
    ),
    beam_energy_spread=(6.7e-4, 7.1e-4),
)

BABAR = Collider(
    name="babar",
    experiment="BaBar at PEP-II",
    e_minus=9.0,
    e_plus=3.1,
    crossing_angle_rad=0.0,
    calorimeter_theta_deg=(15.8, 141.8),
    datasets=(
        DataSet("Y4S", 432.0, 9.0, 3.1, "on-peak Y(4S)"),
        DataSet("Y4S-off", 53.0, 9.0 * 0.99621, 3.1 * 0.99621, "off-peak, 40 MeV below Y(4S)"),
        DataSet("Y3S", 28.0, 8.6, 3.12, "Y(3S) running (single-photon trigger)"),
        DataSet("Y2S", 14.0, 8.05, 3.12, "Y(2S) running (single-photon trigger)"),
    ),
    beam_energy_spread=(6.1e-4, 7.7e-4),
)

COLLIDERS: dict[str, Collider] = {c.name: c for c in (BELLE2, BELLE, BABAR)}


def get_collider(name: str) -> Collider:
    """Collider by name (``belle2``, ``belle``, ``babar``)."""
    key = name.lower().replace(" ", "").replace("-", "").replace("_", "")
    key = {"belleii": "belle2", "superkekb": "belle2", "kekb": "belle", "pepii": "babar"}.get(
        key, key
    )
    if key not in COLLIDERS:
        raise ValueError(f"unknown collider '{name}'; valid: {list(COLLIDERS)}")
    return COLLIDERS[key]
