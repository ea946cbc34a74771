"""``darkscan generate``: listing, chunked seeded generation into files, bad input.

The tests register their own toy process (Born e+e- -> l+ l-, built here with EventBatch) so
that they do not depend on the real generators.
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

import darkscan.generators as generators
from darkscan.cli import main
from darkscan.commands.generate import generate_to_file, parse_param
from darkscan.detector.base import RecoEvents
from darkscan.events import read_events, read_metadata
from darkscan.generators.base import EventBatch, Objects, Process
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, M_MUON
from darkscan.physics.lorentz import boost


def born_sigma_fb(s: float, m: float) -> float:
    """sigma(e+e- -> l+l-) at Born level: 4 pi alpha^2 / (3 s) * beta (3 - beta^2) / 2."""
    beta = np.sqrt(1 - 4 * m * m / s)
    return 4 * np.pi * ALPHA_EM**2 / (3 * s) * beta * (3 - beta**2) / 2 * GEV2_TO_FB


class ToyLeptonPair(Process):
    """e+e- -> l+ l- at Born level, cos(theta) uniform with weight d sigma / d cos / g."""

    name = "toy-ll"
    description = "toy e+e- -> l+l- (Born; test only)"

    def __init__(self, m_lepton: float = M_MUON, fail_at_call: int | None = None):
        self.m = float(m_lepton)
        self.fail_at_call = fail_at_call
        self.calls = 0

    def generate(self, n_events, rng, collider):
        n = self.check_n_events(n_events)
        self.calls += 1
        if self.fail_at_call is not None and self.calls >= self.fail_at_call:
            raise RuntimeError("generator crashed")
        sqrt_s = collider.sqrt_s
        if 2 * self.m >= sqrt_s:
            raise ValueError(
                f"m_lepton = {self.m} GeV is above threshold: 2 m >= sqrt(s) = {sqrt_s:.3f} GeV"
            )
        s = sqrt_s**2
        beta = np.sqrt(1 - 4 * self.m**2 / s)
        c = rng.uniform(-1, 1, n)
        phi = rng.uniform(0, 2 * np.pi, n)
        dsig = (
            2 * np.pi * ALPHA_EM**2 / (4 * s) * beta * (1 + c**2 + (1 - beta**2) * (1 - c**2))
        ) * GEV2_TO_FB
        weight = dsig * 2.0 / max(n, 1)
        k = beta * sqrt_s / 2
        st = np.sqrt(1 - c**2)
        p = np.stack([np.full(n, sqrt_s / 2), k * st * np.cos(phi), k * st * np.sin(phi), k * c], 1)
        pbar = p * np.array([1, -1, -1, -1])
        p4 = boost(np.stack([p, pbar], 1), collider.boost)
        particles = Objects.from_fixed(
            {
                "pdg": np.tile(np.array([13, -13], np.int32), (n, 1)),
                "p4": p4,
                "vertex": np.zeros((n, 2, 3)),
            },
            2,
        )
        return EventBatch(particles, weight, self.name, {"cos_theta_star": c}, {"toy": True})


@pytest.fixture
def toy(monkeypatch):
    module = types.ModuleType("darkscan_test_toys")
    module.ToyLeptonPair = ToyLeptonPair
    monkeypatch.setitem(sys.modules, "darkscan_test_toys", module)
    monkeypatch.setitem(generators._REGISTRY, "toy-ll", ("darkscan_test_toys", "ToyLeptonPair", {}))
    monkeypatch.setitem(generators._REGISTRY, "toy-missing", ("darkscan_test_nowhere", "X", {}))
    return "toy-ll"


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_list(capsys, toy):
    rc, out, _ = run(capsys, "generate", "--list", "--json")
    assert rc == 0
    entries = {e["name"]: e for e in json.loads(out)}
    assert set(generators.process_names()) == set(entries)
    assert entries["toy-ll"]["available"] and "Born" in entries["toy-ll"]["description"]
    assert not entries["toy-missing"]["available"] and entries["toy-missing"]["error"]
    rc, out, _ = run(capsys, "generate", "--list")
    assert rc == 0 and "toy-ll" in out and "ee-mumu" in out


@pytest.mark.parametrize("suffix", [".parquet", ".root"])
def test_generate_small_sample(capsys, tmp_path, toy, suffix):
    out = tmp_path / f"mumu{suffix}"
    args = ["generate", toy, "--events", 3000, "--chunk-size", 700, "--seed", 5]
    rc, stdout, _ = run(capsys, *args, "--out", out, "--json", "--lumi", 79.7)
    assert rc == 0, stdout
    summary = json.loads(stdout)
    assert summary["n_events"] == 3000 and summary["n_chunks"] == 5
    # chunk weights are rescaled: the file's sum of weights estimates the Born cross section
    sigma = born_sigma_fb(10.58**2, M_MUON)
    assert summary["cross_section_fb"] == pytest.approx(
        sigma, abs=5 * summary["cross_section_err_fb"]
    )
    assert summary["cross_section_err_fb"] < 0.01 * sigma
    assert summary["expected_events"] == pytest.approx(79.7 * summary["cross_section_fb"])
    assert summary["effective_lumi_fb"] > 0.9 * 3000 / sigma
    ev = read_events(out)
    assert isinstance(ev, EventBatch) and ev.n_events == 3000
    assert ev.cross_section_fb == pytest.approx(summary["cross_section_fb"], rel=1e-12)
    meta = ev.meta
    assert meta["process"] == "toy-ll" and meta["seed"] == 5 and meta["experiment"] == "belle2"
    assert meta["lumi_fb"] == 79.7 and meta["chunk_size"] == 700 and meta["toy"] is True
    assert meta["generator"].endswith("ToyLeptonPair")
    # momentum conservation survives the file: sum of the two muons = beams
    total = np.add.reduceat(ev.particles.columns["p4"], ev.particles.offsets[:-1], axis=0)
    from darkscan.colliders import BELLE2

    np.testing.assert_allclose(total, np.broadcast_to(BELLE2.p_total, total.shape), atol=1e-9)


def test_same_seed_same_events(capsys, tmp_path, toy):
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"]
    for path, seed in zip(paths, (1, 1, 2), strict=True):
        rc, _, _ = run(
            capsys,
            "generate",
            toy,
            "--events",
            500,
            "--chunk-size",
            128,
            "--seed",
            seed,
            "--out",
            path,
        )
        assert rc == 0
    a, b, c = (read_events(p) for p in paths)
    np.testing.assert_array_equal(a.particles.columns["p4"], b.particles.columns["p4"])
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.particles.columns["p4"], c.particles.columns["p4"])


def test_text_summary_and_experiment(capsys, tmp_path, toy):
    out = tmp_path / "babar.parquet"
    rc, stdout, _ = run(
        capsys, "generate", toy, "--experiment", "babar", "--events", 100, "--out", out
    )
    assert rc == 0
    assert "cross section" in stdout and "effective luminosity" in stdout and str(out) in stdout
    assert read_metadata(out)["experiment"] == "babar"


def _fake_simulate(batch, collider, rng):
    """Tracks = the generator muons smeared by 1 %, no clusters."""
    p = batch.particles
    p4 = p.columns["p4"] * (1 + 0.01 * rng.standard_normal((len(p.columns["p4"]), 1)))
    tracks = Objects(p.offsets, {"p4": p4, "charge": -np.sign(p.columns["pdg"]).astype(np.int8)})
    clusters = Objects(np.zeros(batch.n_events + 1, np.int64), {"p4": np.zeros((0, 4))})
    event = {"weight": batch.weight, "trg_2trk": np.ones(batch.n_events, bool)}
    return RecoEvents(tracks, clusters, event, {"detector": collider.name})


def test_simulate_writes_reco_plus_truth(capsys, tmp_path, toy, monkeypatch):
    module = types.ModuleType("darkscan.detector.simulate")
    module.simulate = _fake_simulate
    monkeypatch.setitem(sys.modules, "darkscan.detector.simulate", module)
    out = tmp_path / "reco.parquet"
    rc, _, _ = run(
        capsys, "generate", toy, "--events", 300, "--chunk-size", 100, "--simulate", "--out", out
    )
    assert rc == 0
    reco = read_events(out)
    truth = read_events(out, level="gen")
    assert isinstance(reco, RecoEvents) and reco.n_events == 300
    assert reco.meta["simulated"] is True and reco.meta["detector"] == "belle2"
    np.testing.assert_array_equal(reco.tracks.offsets, truth.particles.offsets)
    np.testing.assert_array_equal(reco.event["weight"], truth.weight)


def test_simulate_missing_falls_back_with_a_note(capsys, tmp_path, toy, monkeypatch):
    monkeypatch.setitem(sys.modules, "darkscan.detector.simulate", None)  # import fails
    out = tmp_path / "gen.parquet"
    rc, _, err = run(capsys, "generate", toy, "--events", 10, "--simulate", "--out", out)
    assert rc == 0 and "not available" in err
    assert isinstance(read_events(out), EventBatch)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["nope", "--events", "10"], "valid: "),
        (["toy-ll", "--events", "10", "--experiment", "lep"], "belle2"),
        (["toy-ll", "--events", "-5"], "--events"),
        (["toy-ll", "--events", "10", "--param", "m_lepton=6"], "threshold"),
        (["toy-ll", "--events", "10", "--param", "m_lepton"], "NAME=VALUE"),
        (["toy-ll", "--events", "10", "--param", "spin=2"], "bad parameter"),
        (["toy-ll", "--events", "10", "--chunk-size", "0"], "--chunk-size"),
        (["toy-ll"], "--events"),
        ([], "process name"),
        (["toy-missing", "--events", "10"], "not available"),
    ],
)
def test_bad_input(capsys, tmp_path, toy, extra, message):
    out = tmp_path / "x.parquet"
    rc, _, err = run(capsys, "generate", *extra, "--out", out)
    assert rc == 2
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_bad_output_suffix(capsys, tmp_path, toy):
    rc, _, err = run(capsys, "generate", toy, "--events", 5, "--out", tmp_path / "x.csv")
    assert rc == 2 and ".parquet" in err and ".root" in err


def test_existing_corrupt_file_is_reported(capsys, tmp_path, toy):
    out = tmp_path / "old.parquet"
    rc, _, _ = run(capsys, "generate", toy, "--events", 200, "--out", out)
    assert rc == 0
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])  # an earlier run cut short by a full disk
    rc, _, err = run(capsys, "generate", toy, "--events", 200, "--out", out)
    assert rc == 2 and "corrupt" in err and "--overwrite" in err
    assert out.read_bytes() == data[: len(data) // 2]
    rc, _, _ = run(capsys, "generate", toy, "--events", 200, "--out", out, "--overwrite")
    assert rc == 0 and read_events(out).n_events == 200


def test_existing_good_file_needs_overwrite(capsys, tmp_path, toy):
    out = tmp_path / "old.root"
    assert run(capsys, "generate", toy, "--events", 20, "--out", out)[0] == 0
    rc, _, err = run(capsys, "generate", toy, "--events", 30, "--out", out)
    assert rc == 2 and "20 events of 'toy-ll'" in err and "--overwrite" in err


def test_crash_mid_run_leaves_no_file(tmp_path, toy):
    proc = ToyLeptonPair(fail_at_call=3)
    from darkscan.colliders import BELLE2

    with pytest.raises(RuntimeError, match="crashed"):
        generate_to_file(proc, BELLE2, 1000, tmp_path / "x.parquet", chunk_size=100)
    assert list(tmp_path.iterdir()) == []


def test_zero_events(capsys, tmp_path, toy):
    out = tmp_path / "none.parquet"
    rc, stdout, _ = run(capsys, "generate", toy, "--events", 0, "--out", out, "--json")
    assert rc == 0 and json.loads(stdout)["n_events"] == 0
    assert read_events(out).n_events == 0


def test_parse_param():
    assert parse_param("mass=1.5") == ("mass", 1.5)
    assert parse_param("n=3") == ("n", 3)
    assert parse_param("isr=false") == ("isr", False)
    assert parse_param("benchmark = fully-invisible") == ("benchmark", "fully-invisible")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_param("=1")


def test_simulate_with_the_real_detector(capsys, tmp_path, toy):
    pytest.importorskip("darkscan.detector.simulate")
    out = tmp_path / "reco.root"
    rc, stdout, _ = run(
        capsys, "generate", toy, "--events", 200, "--simulate", "--out", out, "--json"
    )
    assert rc == 0 and json.loads(stdout)["level"] == "reco"
    reco, truth = read_events(out), read_events(out, level="gen")
    assert isinstance(reco, RecoEvents) and reco.n_events == 200
    assert truth.n_events == 200 and set(truth.particles.columns) >= {"pdg", "p4", "vertex"}
    assert reco.tracks.counts.sum() > 0


def test_beam_spread_option(capsys, tmp_path, toy):
    from darkscan.colliders import BELLE2

    paths = [tmp_path / "flat.parquet", tmp_path / "spread.parquet"]
    for path, extra in zip(paths, ((), ("--beam-spread",)), strict=True):
        rc, _, _ = run(
            capsys, "generate", toy, "--events", 2000, "--seed", 4, "--out", path, *extra
        )
        assert rc == 0
    flat, spread = (read_events(p) for p in paths)
    # the generator's own stream is untouched by the option
    np.testing.assert_array_equal(flat.weight, spread.weight)
    total = np.add.reduceat(spread.particles.columns["p4"], spread.particles.offsets[:-1], axis=0)
    sqrt_s = np.sqrt(total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1))
    assert np.std(sqrt_s) == pytest.approx(BELLE2.sqrt_s_spread_gev, rel=0.1)
    assert "beam_e_minus" in spread.truth and "beam_e_minus" not in flat.truth
