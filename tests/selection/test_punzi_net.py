"""Punzi-net: numpy scoring, save/load, comparison, fallback without torch, training."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.selection.cuts import optimise_cuts
from darkscan.selection.punzi import punzi_fom, split_table, toy_table, window_yields
from darkscan.selection.punzi_net import (
    PunziNetFallbackWarning,
    PunziNetResult,
    TorchUnavailableError,
    compare_fom,
    load_punzi_net,
    optimise_selection,
    torch_available,
    train_punzi_net,
)

FEATURES = ["x1", "x2", "x3"]
CUT_FEATURES = {
    "x1": (">", np.linspace(-1.0, 1.5, 8)),
    "x2": ("<", np.linspace(-1.5, 1.0, 8)),
}


def _args(hyp, lumi=79.7):
    return hyp["masses"], hyp["window_lo"], hyp["window_hi"], hyp["sigma_total_fb"], lumi


def _hand_net(hyp, table) -> PunziNetResult:
    """A fixed network (no torch): logit = 4 * relu(v) - 2 with v = (x1 - x2)/sqrt 2 - 0.3."""
    w1 = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]]) / np.sqrt(2.0)
    b1 = np.array([-0.3, 0.3])
    w2 = np.array([[4.0, 0.0]])
    b2 = np.array([-2.0])
    zeros = np.zeros(hyp["masses"].size)
    net = PunziNetResult(
        feature_names=tuple(FEATURES),
        hidden=(2,),
        mean=np.zeros(3),
        std=np.ones(3),
        layers=((w1, b1), (w2, b2)),
        masses=hyp["masses"],
        fom=zeros,
        eff=zeros,
        bkg_events=zeros,
        sensitivity=zeros,
        soft_eff=zeros,
        soft_bkg_events=zeros,
        soft_sensitivity=zeros,
        lumi_fb=79.7,
    )
    return net.evaluate(table, hyp["window_lo"], hyp["window_hi"], hyp["sigma_total_fb"])


# ------------------------------------------------------------------ no torch needed


def test_numpy_score_save_load(tmp_path):
    table, hyp = toy_table(np.random.default_rng(1), n_signal_per_mass=100, n_background=1000)
    net = _hand_net(hyp, table)
    v = (table["x1"] - table["x2"]) / np.sqrt(2.0) - 0.3
    expected = 1.0 / (1.0 + np.exp(-(4.0 * np.maximum(v, 0.0) - 2.0)))
    assert_allclose(net.score(table), expected, rtol=1e-12)
    # reported performance = hard cut at 0.5 through window_yields
    eff, bkg = window_yields(table, *_args(hyp), expected > 0.5)
    assert_allclose(net.eff, eff)
    assert_allclose(net.fom, punzi_fom(eff, bkg))
    path = net.save(tmp_path / "net" / "punzi_net.npz")
    back = load_punzi_net(path)
    assert back.feature_names == net.feature_names
    assert_allclose(back.score(table), net.score(table), rtol=0)
    assert_allclose(back.fom, net.fom, rtol=0)
    assert set(net.state_dict) >= {"layers.0.weight", "layers.1.bias", "input_mean"}
    assert not list(path.parent.glob(".*.tmp"))  # atomic write leaves no temporary file


def test_compare_fom():
    table, hyp = toy_table(np.random.default_rng(2), n_signal_per_mass=200, n_background=4000)
    net = _hand_net(hyp, table)
    cuts = optimise_cuts(table, CUT_FEATURES, *_args(hyp))
    cmp = compare_fom(cuts, net)
    assert_allclose(cmp["ratio"], net.fom / cuts.fom)
    assert cmp["n_masses"] == hyp["masses"].size
    assert cmp["n_net_better"] == int(np.sum(net.fom > cuts.fom))
    assert cmp["net_wins"] == (cmp["mean_ratio"] > 1)
    other = dict(hyp, masses=hyp["masses"] + 0.5)
    with pytest.raises(ValueError, match="same masses"):
        compare_fom(
            optimise_cuts(
                dict(table, mass_gen=table["mass_gen"] + 0.5), CUT_FEATURES, *_args(other)
            ),
            net,
        )


def test_score_bad_input():
    table, hyp = toy_table(np.random.default_rng(1), n_signal_per_mass=20, n_background=100)
    net = _hand_net(hyp, table)
    with pytest.raises(ValueError, match="x2"):
        net.score({k: v for k, v in table.items() if k != "x2"})
    with pytest.raises(ValueError, match="equal length"):
        net.score(dict(table, x3=table["x3"][:5]))
    with pytest.raises(ValueError, match="NaN"):
        net.score(dict(table, x1=np.full(table["x1"].size, np.nan)))


def test_without_torch_falls_back_to_cuts(monkeypatch):
    # a None entry in sys.modules makes `import torch` raise ImportError
    monkeypatch.setitem(sys.modules, "torch", None)
    assert not torch_available()
    table, hyp = toy_table(np.random.default_rng(3), n_signal_per_mass=100, n_background=2000)
    with pytest.raises(TorchUnavailableError, match="ml"):
        train_punzi_net(table, FEATURES, *_args(hyp), seed=1, progress=False)
    with pytest.warns(PunziNetFallbackWarning, match="falling back to the hand-made cuts"):
        out = optimise_selection(table, CUT_FEATURES, FEATURES, *_args(hyp), seed=1)
    assert out.method == "cuts" and out.net is None and out.comparison is None
    assert "torch" in out.message
    assert_allclose(out.cuts.fom, optimise_cuts(table, CUT_FEATURES, *_args(hyp)).fom)


def test_package_imports_without_torch():
    # a fresh interpreter where `import torch` fails: the package imports, scoring works
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "import darkscan.selection as s\n"
        "assert not s.torch_available()\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ------------------------------------------------------------------ with torch


@pytest.fixture(scope="module")
def torch():
    """torch, imported once per module (its import takes seconds); skips without it."""
    return pytest.importorskip("torch")


def _tiny(seed=0, **kw):
    table, hyp = toy_table(np.random.default_rng(4), n_signal_per_mass=150, n_background=3000)
    opts = dict(seed=seed, epochs_pretrain=2, epochs_punzi=15, hidden=(8, 8), progress=False)
    opts.update(kw)
    return table, hyp, train_punzi_net(table, FEATURES, *_args(hyp), **opts)


def test_training_tiny_is_deterministic_and_consistent(torch):
    table, hyp, net = _tiny(seed=7)
    _, _, again = _tiny(seed=7)
    _, _, other = _tiny(seed=8)
    for k, v in net.state_dict.items():
        assert np.array_equal(v, again.state_dict[k]), k
    assert not np.array_equal(net.layers[0][0], other.layers[0][0])
    s = net.score(table)
    assert np.all((s >= 0) & (s <= 1))
    eff, bkg = window_yields(table, *_args(hyp), s > 0.5)
    assert_allclose(net.eff, eff)
    assert_allclose(net.bkg_events, bkg)
    assert_allclose(net.fom, punzi_fom(eff, bkg))
    assert net.history["bce"].shape == (2,) and net.history["punzi"].shape == (15,)
    assert np.all(np.isfinite(net.soft_sensitivity)) and np.all(net.soft_sensitivity > 0)
    # the Punzi phase lowers its loss
    assert net.history["punzi"].min() < net.history["punzi"][0]


def test_training_restores_torch_state(torch):
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _tiny(seed=1)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_training_bad_input(torch):
    table, hyp = toy_table(np.random.default_rng(1), n_signal_per_mass=20, n_background=200)
    args = _args(hyp)
    with pytest.raises(ValueError, match="'nope'"):
        train_punzi_net(table, ["x1", "nope"], *args, seed=0, progress=False)
    with pytest.raises(ValueError, match="equal length"):
        train_punzi_net(dict(table, x1=table["x1"][:3]), FEATURES, *args, seed=0, progress=False)
    with pytest.raises(ValueError, match="no signal events generated"):
        train_punzi_net(
            table,
            FEATURES,
            [1.0, 9.0],
            [0.9, 8.9],
            [1.1, 9.1],
            [1.0, 1.0],
            1.0,
            seed=0,
            progress=False,
        )
    with pytest.raises(ValueError, match="hidden"):
        train_punzi_net(table, FEATURES, *args, seed=0, hidden=(), progress=False)


def test_trained_net_save_load_roundtrip(torch, tmp_path):
    table, hyp, net = _tiny(seed=3)
    back = load_punzi_net(net.save(tmp_path / "net.npz"))
    assert_allclose(back.score(table), net.score(table), rtol=0)
    assert_allclose(back.history["punzi"], net.history["punzi"])
    assert back.seed == 3


@pytest.mark.slow
def test_net_beats_rectangular_cuts_on_diagonal_problem(torch):
    """Diagonal signal/background boundary: the net's mean FOM >= the best cuts' per mass.

    Both selections are optimised on one half of the sample and measured on the other.
    """
    table, hyp = toy_table(np.random.default_rng(10), n_signal_per_mass=1000, n_background=40000)
    train, test = split_table(table, 0.5, np.random.default_rng(11))
    cut_features = dict(CUT_FEATURES, x3=("<", np.linspace(-1.0, 2.0, 6)))
    out = optimise_selection(
        train,
        cut_features,
        FEATURES,
        *_args(hyp),
        seed=0,
        eval_table=test,
        epochs_pretrain=5,
        epochs_punzi=100,
        progress=False,
    )
    assert out.method == "punzi-net"
    cmp = out.comparison
    assert cmp["net_wins"], cmp
    assert cmp["mean_ratio"] > 1.2
    assert np.mean(out.net.sensitivity) < np.mean(out.cuts.sensitivity)
