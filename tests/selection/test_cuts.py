"""Per-mass rectangular-cut optimisation by the Punzi FOM."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.selection.cuts import CutResult, optimise_cuts
from darkscan.selection.punzi import punzi_fom, split_table, toy_table, window_yields


def _hyp_args(hyp, lumi=79.7):
    return hyp["masses"], hyp["window_lo"], hyp["window_hi"], hyp["sigma_total_fb"], lumi


def _known_optimum_table():
    """Signal x ~ U(0, 1), background x ~ U(0, 10) (deterministic grids); y never separates.

    For a cut x < t the FOM t / (1.5 + sqrt(B0 t / 10)) rises for t <= 1 and falls beyond:
    the optimum is t = 1 at every mass; cutting on y (same distribution for signal and
    background) only lowers the FOM, so "no cut" wins there.
    """
    masses = np.array([1.0, 2.0])
    n_s, n_b = 400, 4000
    xs = (np.arange(n_s) + 0.5) / n_s
    xb = 10 * (np.arange(n_b) + 0.5) / n_b
    ys = (np.arange(n_s) * 7 % n_s + 0.5) / n_s
    yb = (np.arange(n_b) * 13 % n_b + 0.5) / n_b
    mg = np.repeat(masses, n_s)
    table = {
        "x": np.concatenate([xs, xs, xb]),
        "y": np.concatenate([ys, ys, yb]),
        "recoil_mass": np.concatenate([mg, np.tile(np.linspace(0.5, 2.5, 100), n_b // 100)]),
        "weight": np.concatenate([np.full(2 * n_s, 1.0 / n_s), np.full(n_b, 0.5)]),
        "is_signal": np.concatenate([np.ones(2 * n_s, bool), np.zeros(n_b, bool)]),
        "mass_gen": np.concatenate([mg, np.full(n_b, np.nan)]),
    }
    hyp = {
        "masses": masses,
        "window_lo": masses - 0.25,
        "window_hi": masses + 0.25,
        "sigma_total_fb": np.ones(2),
    }
    return table, hyp


def test_known_optimum():
    table, hyp = _known_optimum_table()
    feats = {
        "x": ("<", np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0])),
        "y": ("<", np.array([0.5, 0.9])),
    }
    res = optimise_cuts(table, feats, *_hyp_args(hyp, 1.0))
    assert isinstance(res, CutResult)
    assert_allclose(res.thresholds["x"], [1.0, 1.0])
    assert np.all(np.isinf(res.thresholds["y"]))
    assert_allclose(res.eff, [1.0, 1.0])
    # background in window: 4000 events * 0.5 fb * (1/10 in x) * (window share)
    eff, bkg = window_yields(table, *_hyp_args(hyp, 1.0), table["x"] < 1.0)
    assert_allclose(res.bkg_events, bkg)
    assert_allclose(res.fom, punzi_fom(1.0, bkg))
    # without the "no cut" option the loosest y threshold is kept
    res2 = optimise_cuts(table, feats, *_hyp_args(hyp, 1.0), allow_no_cut=False)
    assert_allclose(res2.thresholds["y"], [0.9, 0.9])


def test_grid_scan_equals_brute_force_and_beats_every_candidate():
    table, hyp = toy_table(np.random.default_rng(3), n_signal_per_mass=300, n_background=6000)
    feats = {
        "x1": (">", np.linspace(-1.0, 1.5, 6)),
        "x2": ("<", np.linspace(-1.5, 1.0, 6)),
        "x3": ("<", np.array([-0.5, 0.5, 1.5])),
    }
    args = _hyp_args(hyp)
    res = optimise_cuts(table, feats, *args, allow_no_cut=False)
    # brute force over every combination with the vectorised window yields
    best = np.full(hyp["masses"].size, -np.inf)
    for t1, t2, t3 in itertools.product(*(v[1] for v in feats.values())):
        mask = (table["x1"] > t1) & (table["x2"] < t2) & (table["x3"] < t3)
        eff, bkg = window_yields(table, *args, mask)
        fom = punzi_fom(eff, bkg)
        assert np.all(res.fom >= fom - 1e-12)
        best = np.maximum(best, fom)
    assert_allclose(res.fom, best, rtol=1e-12)
    # the reported thresholds reproduce the reported numbers
    for i in range(hyp["masses"].size):
        eff, bkg = window_yields(table, *args, res.mask(table, i))
        assert eff[i] == pytest.approx(res.eff[i], rel=1e-12)
        assert bkg[i] == pytest.approx(res.bkg_events[i], rel=1e-12, abs=1e-12)
    assert np.all(res.fom > res.fom_no_cut)


def test_evaluate_on_same_table_reproduces_and_on_other_table_is_honest():
    table, hyp = toy_table(np.random.default_rng(8), n_signal_per_mass=400, n_background=8000)
    feats = {"x1": (">", np.linspace(-1, 1.5, 8)), "x2": ("<", np.linspace(-1.5, 1, 8))}
    args = _hyp_args(hyp)
    res = optimise_cuts(table, feats, *args)
    same = res.evaluate(table, *args[1:])
    assert_allclose(same.fom, res.fom, rtol=1e-12)
    assert_allclose(same.fom_no_cut, res.fom_no_cut, rtol=1e-12)
    assert_allclose(same.sensitivity, res.sensitivity, rtol=1e-12)
    train, test = split_table(table, 0.5, np.random.default_rng(1))
    on_test = optimise_cuts(train, feats, *args).evaluate(test, *args[1:])
    # optimised on one half, measured on the other: no better than optimised on it directly
    direct = optimise_cuts(test, feats, *args)
    assert np.all(on_test.fom <= direct.fom + 1e-12)
    rows = res.as_rows()
    assert len(rows) == hyp["masses"].size and "cut_x1_gt" in rows[0]


def test_nan_feature_fails_every_cut():
    table, hyp = _known_optimum_table()
    table = dict(table, x=table["x"].copy())
    table["x"][::2] = np.nan
    res = optimise_cuts(table, {"x": ("<", [0.5, 1.0])}, *_hyp_args(hyp, 1.0))
    mask = res.mask(table, 0)
    assert not np.any(mask[np.isnan(table["x"])])
    eff, bkg = window_yields(table, *_hyp_args(hyp, 1.0), mask)
    assert_allclose([eff[0], bkg[0]], [res.eff[0], res.bkg_events[0]])


def test_bad_input():
    table, hyp = _known_optimum_table()
    args = _hyp_args(hyp, 1.0)
    with pytest.raises(ValueError, match="'z'"):
        optimise_cuts(table, {"z": ("<", [1.0])}, *args)
    with pytest.raises(ValueError, match="direction"):
        optimise_cuts(table, {"x": ("<=", [1.0])}, *args)
    with pytest.raises(ValueError, match="thresholds"):
        optimise_cuts(table, {"x": ("<", [])}, *args)
    with pytest.raises(ValueError, match="at least one"):
        optimise_cuts(table, {}, *args)
    with pytest.raises(ValueError, match="equal length"):
        optimise_cuts(dict(table, x=table["x"][:10]), {"x": ("<", [1.0])}, *args)
    with pytest.raises(ValueError, match=r"masses \[5.0\]"):
        optimise_cuts(table, {"x": ("<", [1.0])}, [1.0, 5.0], [0.5, 4.5], [1.5, 5.5], [1, 1], 1.0)
    res = optimise_cuts(table, {"x": ("<", [1.0])}, *args)
    with pytest.raises(ValueError, match="mass_index"):
        res.mask(table, 2)
