"""Detector parameter files: loading, validation errors, and the numbers the seeds give."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from darkscan.detector.config import (
    ConfigError,
    EnergyResolution,
    config_from_dict,
    experiment_names,
    fit_energy_resolution,
    get_config,
    load_config,
)

PARAMS = Path(__file__).resolve().parents[2] / "src" / "darkscan" / "detector" / "params"


def raw(name: str) -> dict:
    return yaml.safe_load((PARAMS / f"{name}.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "belle2.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ----------------------------------------------------------------------------- loading


def test_shipped_experiments_load():
    assert experiment_names() == ["babar", "belle", "belle2"]
    for name in experiment_names():
        cfg = get_config(name)
        assert cfg.name == name
        assert cfg.collider == name
        assert Path(cfg.source).name == f"{name}.yaml"


@pytest.mark.parametrize(
    ("alias", "name"),
    [("Belle II", "belle2"), ("BaBar", "babar"), ("belle-ii", "belle2"), ("BELLE", "belle")],
)
def test_aliases(alias, name):
    assert get_config(alias) is get_config(name)


def test_unknown_experiment_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown experiment 'cleo'.*babar.*belle.*belle2"):
        get_config("cleo")
    with pytest.raises(ValueError, match="must be a name"):
        get_config(3)  # type: ignore[arg-type]


def test_config_is_frozen():
    cfg = get_config("belle2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.tracking.pt_min_gev = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.pid.muon.fake_rates["pion"] = 0.5  # type: ignore[index]


def test_round_trip_from_dict_equals_file():
    assert config_from_dict(raw("babar"), str(PARAMS / "babar.yaml")) == get_config("babar")


# ----------------------------------------------------------------------------- errors


def test_missing_key_names_file_and_key(tmp_path):
    data = raw("belle2")
    del data["tracking"]["pt_min_gev"]
    with pytest.raises(ConfigError, match=r"belle2\.yaml: missing key 'tracking\.pt_min_gev'"):
        load_config(write(tmp_path, data))


def test_wrong_type_names_key(tmp_path):
    data = raw("belle2")
    data["tracking"]["pt_resolution"]["a_per_gev"] = "abc"
    with pytest.raises(
        ConfigError, match=r"belle2\.yaml: tracking\.pt_resolution\.a_per_gev: expected a number"
    ):
        load_config(write(tmp_path, data))
    data = raw("belle2")
    data["calorimeter"]["efficiency"] = True  # a bool is not a number here
    with pytest.raises(ConfigError, match=r"calorimeter\.efficiency: expected a number"):
        load_config(write(tmp_path, data))
    data = raw("belle2")
    data["calorimeter"]["barrel"] = [32.2]
    with pytest.raises(ConfigError, match=r"calorimeter\.barrel: expected 2 entries"):
        load_config(write(tmp_path, data))


def test_unknown_key_lists_valid(tmp_path):
    data = raw("belle")
    data["klm"]["klong_eficiency"] = 0.5
    with pytest.raises(
        ConfigError, match=r"belle\.yaml: klm: unknown key\(s\) \['klong_eficiency'\]"
    ):
        load_config(write(tmp_path, data, "belle.yaml"))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("calorimeter", "efficiency"), 1.5, r"calorimeter: efficiency must be in \[0, 1\]"),
        (("tracking", "theta_min_deg"), 160.0, r"tracking: theta range"),
        (("calorimeter", "forward"), [12.4, 40.0], r"calorimeter: calorimeter regions overlap"),
        (("pid", "muon", "acceptance"), "rich", r"pid\.muon: acceptance 'rich' unknown"),
        (("pid", "kaon", "fake_rates"), {"pion": 0.1}, r"pid: kaon\.fake_rates lacks"),
        (("collider",), "lep", r"collider 'lep' unknown; valid: \['belle2', 'belle', 'babar'\]"),
        (("tracking", "vertex", "efficiency"), [1.0, 1.0], r"tracking\.vertex: radius_cm"),
    ],
)
def test_bad_values(tmp_path, path, value, message):
    data = raw("belle2")
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, data))


def test_trigger_line_errors(tmp_path):
    data = raw("belle2")
    data["trigger"]["lines"]["single_photon_1gev"]["type"] = "magic"
    with pytest.raises(ConfigError, match=r"unknown line type 'magic'; valid: \['ecl', 'tracks'"):
        load_config(write(tmp_path, data))
    data = raw("belle2")
    data["trigger"]["lines"]["single_photon"]["any_of"] = ["single_photon_3gev"]
    with pytest.raises(ConfigError, match="refers to 'single_photon_3gev', which is not defined"):
        load_config(write(tmp_path, data))
    data = raw("belle2")
    del data["trigger"]["lines"]["two_track"]["n_min"]
    with pytest.raises(ConfigError, match=r"missing key 'trigger\.lines\.two_track\.n_min'"):
        load_config(write(tmp_path, data))


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tracking: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="missing key 'name'"):
        load_config(empty)


# ----------------------------------------------------------------------------- the numbers


def test_belle2_numbers_from_the_seeds():
    cfg = get_config("belle2")
    assert (cfg.tracking.theta_min_deg, cfg.tracking.theta_max_deg) == (17.0, 150.0)
    cal = cfg.calorimeter
    assert (cal.forward, cal.barrel, cal.backward) == ((12.4, 31.4), (32.2, 128.7), (130.7, 155.1))
    assert cal.phi_cracks is None
    assert cal.photon_threshold_gev == 0.05
    assert cfg.magnetic_field_t == 1.5
    # sigma_pT/pT ~ 0.4 % (at 1 GeV), sigma_E/E 4 % at 0.1 GeV and 1.6 % at 8 GeV
    assert float(cfg.tracking.pt_resolution.relative(1.0, 1.0)) == pytest.approx(0.004, rel=0.01)
    np.testing.assert_allclose(cal.energy_resolution.relative([0.1, 8.0]), [0.04, 0.016], rtol=1e-4)
    assert float(cfg.tracking.vertex.resolution(0.0)) == pytest.approx(15e-4)
    assert cfg.pid.muon.efficiency == 0.9 and cfg.pid.kaon.efficiency == 0.9
    assert cfg.pid.kaon.fake_rates["pion"] == 0.1
    assert set(cfg.trigger.names) >= {
        "single_photon_1gev",
        "single_photon_2gev",
        "single_muon",
        "two_track",
        "single_track_nn",
    }


def test_energy_resolution_fit_reproduces_yaml():
    cfg = get_config("belle2").calorimeter.energy_resolution
    fit = fit_energy_resolution(((0.1, 0.04), (8.0, 0.016)), cfg.b_gev_quarter)
    assert fit.a_gev == pytest.approx(cfg.a_gev, rel=1e-3)
    assert fit.c == pytest.approx(cfg.c, rel=1e-3)
    with pytest.raises(ValueError, match="no real solution"):
        fit_energy_resolution(((0.1, 0.001), (8.0, 0.016)), 0.0081)


def test_energy_resolution_limits():
    res = EnergyResolution(0.01, 0.02, 0.03)
    # noise dominates at low energy, the constant term at high energy
    assert float(res.relative(1e-4)) == pytest.approx(0.01 / 1e-4, rel=1e-3)
    assert float(res.relative(1e8)) == pytest.approx(0.03, rel=1e-3)
    assert float(res.relative(1.0)) == pytest.approx(math.sqrt(0.01**2 + 0.02**2 + 0.03**2))


def test_regions_and_cracks():
    cal = get_config("belle2").calorimeter
    theta = np.radians([10.0, 20.0, 31.8, 90.0, 129.5, 140.0, 160.0])
    assert cal.region_of(np.cos(theta)).tolist() == [-1, 0, -1, 1, -1, 2, -1]
    babar = get_config("babar").calorimeter
    assert babar.region_of(np.cos(np.radians([20.0, 90.0, 150.0]))).tolist() == [0, 1, -1]
    cracks = babar.phi_cracks
    assert cracks is not None and cracks.count == 40
    phi = np.radians([0.0, 0.05, 0.15, 4.5, 9.0, -9.05, 180.0])
    assert cracks.in_crack(phi).tolist() == [True, True, False, False, True, True, True]


def test_babar_and_belle_specifics():
    babar = get_config("babar")
    assert babar.klm.name == "IFR"
    assert {"single_photon_l1", "single_photon_l3", "single_photon"} <= set(babar.trigger.names)
    l1 = next(line for line in babar.trigger.lines if line.name == "single_photon_l1")
    assert (l1.frame, l1.e_min_gev) == ("lab", 0.8)
    belle = get_config("belle")
    assert not any("photon" in n for n in belle.trigger.names)  # Belle had none
    np.testing.assert_allclose(
        babar.calorimeter.energy_resolution.relative(1.0), math.hypot(0.0232, 0.0185)
    )
