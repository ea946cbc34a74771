"""Punzi FOM / sensitivity formulas, window yields against a brute-force loop, table checks."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.selection.punzi import (
    punzi_fom,
    punzi_sensitivity,
    signal_mass_index,
    split_table,
    toy_table,
    window_pairs,
    window_yields,
)

B_90 = 1.28155  # z value of 90 % power


# ------------------------------------------------------------------ formulas


def test_punzi_fom_hand_values():
    # eff / (a/2 + sqrt(B))
    assert punzi_fom(0.5, 0.0) == pytest.approx(0.5 / 1.5)
    assert punzi_fom(0.2, 16.0) == pytest.approx(0.2 / 5.5)
    assert punzi_fom(0.3, 9.0, a=5.0) == pytest.approx(0.3 / 5.5)


def test_punzi_fom_broadcasts():
    eff = np.array([0.1, 0.2, 0.4])[:, None]
    bkg = np.array([0.0, 4.0])[None, :]
    out = punzi_fom(eff, bkg)
    assert out.shape == (3, 2)
    assert_allclose(out[:, 1], [0.1 / 3.5, 0.2 / 3.5, 0.4 / 3.5])


def test_punzi_sensitivity_hand_values():
    # B = 0: (a^2/8 + 9 b^2/13 + b^2/2) / (eff L); b^2 = 1.6423704, a = 3
    # 1.125 + 1.1370257 + 0.8211852 = 3.0832109
    assert punzi_sensitivity(1.0, 0.0, 1.0) == pytest.approx(3.0832109, rel=1e-6)
    assert punzi_sensitivity(0.5, 0.0, 10.0) == pytest.approx(3.0832109 / 5.0, rel=1e-6)
    # B = 100: 1.125 + 1.1370257 + 30 + 0.640775 * sqrt(1.6423704 + 120 + 400)
    # sqrt(521.6423704) = 22.8394915 -> 14.6349750; total 46.8970007
    assert punzi_sensitivity(0.25, 100.0, 4.0) == pytest.approx(46.8970007, rel=1e-7)


def test_punzi_sensitivity_limits():
    # large B: S * eff * L / sqrt(B) -> a + b
    big = np.array([1e6, 1e10])
    s = punzi_sensitivity(0.3, big, 2.0)
    assert_allclose(s * 0.3 * 2.0 / np.sqrt(big), 3.0 + B_90, rtol=2e-3)
    # scales as 1 / (eff L); zero efficiency: infinite
    assert punzi_sensitivity(0.1, 7.0, 3.0) == pytest.approx(2 * punzi_sensitivity(0.2, 7.0, 3.0))
    assert np.isinf(punzi_sensitivity(0.0, 7.0, 3.0))


def test_formula_bad_input():
    with pytest.raises(ValueError, match="bkg_events"):
        punzi_fom(0.1, -1.0)
    with pytest.raises(ValueError, match="a must be"):
        punzi_fom(0.1, 1.0, a=0.0)
    with pytest.raises(ValueError, match="lumi_fb"):
        punzi_sensitivity(0.1, 1.0, 0.0)
    with pytest.raises(ValueError, match="eff"):
        punzi_sensitivity(-0.1, 1.0, 1.0)


# ------------------------------------------------------------------ window yields


def _small_table(rng: np.random.Generator, n_sig_per_mass: int = 30, n_bkg: int = 200):
    masses = np.array([1.0, 2.0, 3.5])
    mg = np.repeat(masses, n_sig_per_mass)
    ns = mg.size
    table = {
        "recoil_mass": np.concatenate([rng.normal(mg, 0.2), rng.uniform(0, 5, n_bkg)]),
        "weight": np.concatenate([rng.uniform(0.5, 1.5, ns) / 40, rng.uniform(0.1, 2.0, n_bkg)]),
        "is_signal": np.concatenate([np.ones(ns, bool), np.zeros(n_bkg, bool)]),
        "mass_gen": np.concatenate([mg, np.full(n_bkg, np.nan)]),
        "x": rng.normal(size=ns + n_bkg),
    }
    hyp = {
        "masses": masses,
        "window_lo": masses - 0.3,
        "window_hi": masses + np.array([0.3, 0.5, 0.4]),
        "sigma_total_fb": np.array([1.0, 0.8, 1.2]),
    }
    return table, hyp


def _brute_force(table, hyp, lumi, sel):
    n_m = hyp["masses"].size
    eff = np.zeros(n_m)
    bkg = np.zeros(n_m)
    for m in range(n_m):
        lo, hi = hyp["window_lo"][m], hyp["window_hi"][m]
        for i in range(table["weight"].size):
            x = table["recoil_mass"][i]
            if not lo <= x < hi:
                continue
            if table["is_signal"][i]:
                if table["mass_gen"][i] == hyp["masses"][m]:
                    eff[m] += table["weight"][i] * sel[i] / hyp["sigma_total_fb"][m]
            else:
                bkg[m] += lumi * table["weight"][i] * sel[i]
    return eff, bkg


@pytest.mark.parametrize("kind", ["all", "mask", "soft"])
def test_window_yields_matches_brute_force(kind):
    rng = np.random.default_rng(11)
    table, hyp = _small_table(rng)
    n = table["weight"].size
    sel = {
        "all": np.ones(n, bool),
        "mask": table["x"] > 0.0,
        "soft": 1.0 / (1.0 + np.exp(-table["x"])),
    }[kind]
    args = (hyp["masses"], hyp["window_lo"], hyp["window_hi"], hyp["sigma_total_fb"], 3.0)
    eff, bkg = window_yields(table, *args, None if kind == "all" else sel)
    eff_ref, bkg_ref = _brute_force(table, hyp, 3.0, sel.astype(float))
    assert_allclose(eff, eff_ref, rtol=1e-12)
    assert_allclose(bkg, bkg_ref, rtol=1e-12)


def test_window_yields_edges_nan_and_missing_mass():
    table = {
        "recoil_mass": np.array([0.9, 1.1, 1.0, 1.2, np.nan, 1.0]),
        "weight": np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        "is_signal": np.array([False, False, True, True, False, True]),
        # the last signal event: generated at 1 GeV up to rounding
        "mass_gen": np.array([np.nan, np.nan, 1.0, 1.0, np.nan, 1.0 + 1e-12]),
    }
    # windows [lo, hi): 1.2 is outside [0.9, 1.2); NaN recoil never counts
    eff, bkg = window_yields(table, [1.0, 5.0], [0.9, 4.0], [1.2, 6.0], [10.0, 1.0], 2.0)
    assert eff[0] == pytest.approx((4.0 + 32.0) / 10.0)
    assert np.isnan(eff[1])  # no signal generated at 5 GeV
    assert_allclose(bkg, [2.0 * 3.0, 0.0])


def test_signal_mass_index():
    masses = np.array([3.0, 1.0, 2.0])
    mg = np.array([1.0, 2.0 * (1 + 1e-9), 3.0, 2.5, np.nan, 1.0])
    sig = np.array([True, True, True, True, True, False])
    assert signal_mass_index(mg, sig, masses).tolist() == [1, 2, 0, -1, -1, -1]


def test_window_pairs_chunked_equals_dense():
    x = np.sort(np.random.default_rng(3).uniform(0, 10, 500))
    lo = np.array([0.0, 2.0, 2.5, 9.0, 11.0])
    hi = np.array([1.0, 4.0, 3.0, 20.0, 12.0])
    pairs = [
        (m, e) for pm, pe in window_pairs(x, lo, hi, chunk=37) for m, e in zip(pm, pe, strict=True)
    ]
    dense = [(m, e) for m in range(lo.size) for e in range(x.size) if lo[m] <= x[e] < hi[m]]
    assert sorted(pairs) == dense


def test_window_yields_bad_input():
    rng = np.random.default_rng(1)
    table, hyp = _small_table(rng)
    args = (hyp["masses"], hyp["window_lo"], hyp["window_hi"], hyp["sigma_total_fb"], 1.0)
    bad = dict(table)
    del bad["recoil_mass"]
    with pytest.raises(ValueError, match="recoil_mass"):
        window_yields(bad, *args)
    bad = dict(table, weight=table["weight"][:-1])
    with pytest.raises(ValueError, match="equal length"):
        window_yields(bad, *args)
    with pytest.raises(ValueError, match="selected_mask_or_weights"):
        window_yields(table, *args, np.ones(3, bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        window_yields(table, *args, np.full(table["weight"].size, 1.5))
    with pytest.raises(ValueError, match="window_hi"):
        window_yields(table, hyp["masses"], hyp["window_hi"], hyp["window_lo"], [1, 1, 1], 1.0)
    with pytest.raises(ValueError, match="equal length"):
        window_yields(table, hyp["masses"], hyp["window_lo"][:2], hyp["window_hi"], [1, 1, 1], 1)
    with pytest.raises(ValueError, match="lumi_fb"):
        window_yields(table, *args[:-1], -1.0)


# ------------------------------------------------------------------ helpers


def test_split_table_conserves_yields_and_is_seeded():
    table, hyp = toy_table(np.random.default_rng(5), n_signal_per_mass=50, n_background=500)
    a, b = split_table(table, 0.3, np.random.default_rng(9))
    a2, _ = split_table(table, 0.3, np.random.default_rng(9))
    assert a["weight"].size + b["weight"].size == table["weight"].size
    assert np.array_equal(a["recoil_mass"], a2["recoil_mass"])
    # weight * fraction summed over both parts restores the total exactly
    assert a["weight"].sum() * 0.3 + b["weight"].sum() * 0.7 == pytest.approx(table["weight"].sum())
    with pytest.raises(ValueError, match="fraction"):
        split_table(table, 1.0, np.random.default_rng(0))


def test_toy_table_is_seeded_and_normalised():
    t1, hyp = toy_table(np.random.default_rng(4), n_signal_per_mass=100, n_background=1000)
    t2, _ = toy_table(np.random.default_rng(4), n_signal_per_mass=100, n_background=1000)
    assert all(np.array_equal(t1[k], t2[k], equal_nan=True) for k in t1)
    # signal weights of every mass sum to sigma_total_fb (preselection efficiency 1)
    idx = signal_mass_index(t1["mass_gen"], t1["is_signal"], hyp["masses"])
    sums = np.bincount(idx[idx >= 0], weights=t1["weight"][idx >= 0])
    assert_allclose(sums, hyp["sigma_total_fb"])
