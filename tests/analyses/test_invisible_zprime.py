"""The flagship analysis, run end to end at a tiny scale (seconds)."""

import csv
import json

import numpy as np
import pytest

from darkscan.analyses import analysis_names, get_analysis
from darkscan.analyses.runner import LIMIT_COLUMNS, run_analysis
from darkscan.cli import main

REQUIRED = (
    "mass_gev",
    "sigma_ul_obs_fb",
    "sigma_ul_exp_fb",
    "sigma_ul_exp_m1",
    "sigma_ul_exp_p1",
    "sigma_ul_exp_m2",
    "sigma_ul_exp_p2",
    "coupling_ul_obs",
    "coupling_ul_exp",
    "local_z",
    "status",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    res = run_analysis(
        get_analysis("invisible-zprime"),
        out=out,
        seed=3,
        scale=0.004,
        use_net=False,
        progress=False,
        plots=False,
        log=lambda m: None,
    )
    return res


def test_registry():
    assert "invisible-zprime" in analysis_names()
    with pytest.raises(ValueError, match="valid"):
        get_analysis("nope")


def test_outputs_and_columns(quick_run):
    out = quick_run.out
    rows = list(csv.DictReader((out / "limits.csv").open()))
    assert set(REQUIRED) <= set(rows[0])
    assert list(rows[0]) == list(LIMIT_COLUMNS)
    masses = np.array([float(r["mass_gev"]) for r in rows])
    assert masses[0] == pytest.approx(0.1) and masses[-1] <= 8.0
    assert np.all(np.diff(masses) > 0)
    assert {r["status"] for r in rows} <= {"ok", "bracket-widened", "failed"}
    js = json.loads((out / "limits.json").read_text())
    assert len(js) == len(rows)
    ok = [r for r in js if r["status"] != "failed"]
    assert len(ok) > 0.8 * len(js)
    for r in ok:
        assert r["sigma_ul_exp_m2"] <= r["sigma_ul_exp_fb"] <= r["sigma_ul_exp_p2"]
        assert 0 < r["coupling_ul_exp"] < np.inf
    summary = json.loads((out / "summary.json").read_text())
    assert summary["selection"] == "cuts"
    assert set(summary["expected_coupling_ul"]) == {"0.5", "1", "2", "4", "6", "8"}
    # no temporary files left behind
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_coupling_is_consistent_with_sigma(quick_run):
    from darkscan.models.zprime import cross_section_mumu_zprime_fb

    r = next(r for r in quick_run.rows if r["status"] == "ok" and r["mass_gev"] > 2)
    sigma1 = cross_section_mumu_zprime_fb(10.579178887294013, r["mass_gev"], 1.0, isr=True)
    g = np.sqrt(r["sigma_ul_exp_fb"] / sigma1)
    assert g == pytest.approx(r["coupling_ul_exp"], rel=0.05)  # log-interpolated sigma


def test_bad_inputs(tmp_path, capsys):
    a = get_analysis("invisible-zprime")
    with pytest.raises(ValueError, match="model"):
        run_analysis(a, out=tmp_path, model="nope", progress=False, plots=False)
    with pytest.raises(ValueError, match="lumi"):
        run_analysis(a, out=tmp_path, lumi_fb=-1, progress=False, plots=False)
    assert main(["run", "nope"]) == 2
    assert "valid" in capsys.readouterr().err
    assert main(["run", "--list"]) == 0
    assert "invisible-zprime" in capsys.readouterr().out


@pytest.mark.slow
def test_runs_on_a_data_file(tmp_path):
    """--data: a file the simulation writes (parquet and ROOT with Belle II-style branches)."""
    from darkscan.colliders import BELLE2
    from darkscan.detector.simulate import simulate
    from darkscan.events import write_events
    from darkscan.generators import get_process

    rng = np.random.default_rng(2)
    batch = get_process("ee-mumu-zprime", mass=3.0, g_prime=1.0).generate(3000, rng, BELLE2)
    reco = simulate(batch, "belle2", rng)
    for suffix in ("parquet", "root"):
        path = write_events(tmp_path / f"data.{suffix}", reco)
        res = run_analysis(
            get_analysis("invisible-zprime"),
            out=tmp_path / suffix,
            seed=1,
            scale=0.004,
            use_net=False,
            progress=False,
            plots=False,
            data=path,
            log=lambda m: None,
        )
        n_obs = np.array([r["n_obs"] for r in res.rows])
        assert np.all(n_obs == np.round(n_obs)) and n_obs.max() > 0
        assert res.summary["observed_from"].startswith("data")
    with pytest.raises(ValueError, match="not found"):
        run_analysis(
            get_analysis("invisible-zprime"),
            out=tmp_path / "x",
            scale=0.004,
            use_net=False,
            progress=False,
            plots=False,
            data=tmp_path / "missing.root",
        )
