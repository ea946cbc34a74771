import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.stats.scan import (
    ScanTable,
    global_significance,
    gross_vitells,
    scan_counting,
    scan_table_from_rows,
    toys_max_local_z,
    upcrossings,
    window_matrix,
)


def test_scan_table_and_roundtrip(tmp_path):
    mass = np.linspace(1, 5, 5)
    table = scan_counting(
        mass,
        [0, 3, 10, 4, 2],
        [1, 2, 5, 4, 0],
        [0.1, 0.3, 1, 0.5, 0.1],
        eff=[1, 1, 1, 0, 1],
        cl=0.9,
    )
    assert isinstance(table, ScanTable)
    assert len(table) == 5
    assert table.status[3] == "failed" and table.observed[3] == np.inf
    assert np.all(np.isfinite(table.local_z))
    assert table.most_significant() == 4  # 2 events on a background of 0 +- 0.1
    table.write_csv(tmp_path / "scan.csv")
    table.write_json(tmp_path / "scan.json")
    back = scan_table_from_rows(json.loads((tmp_path / "scan.json").read_text()))
    assert_allclose(back.observed, table.observed)
    assert list(back.status) == list(table.status)


def test_window_matrix_fractions():
    w = window_matrix([0, 1, 2, 3], [0.5, 1.0], [1.5, 3.0])
    assert_allclose(w, [[0.5, 0.5, 0.0], [0.0, 1.0, 1.0]])


def test_single_window_global_equals_local():
    # one window: the largest local Z of toys follows the local distribution, so the
    # global p-value equals the local one (within MC error)
    rng = np.random.default_rng(5)
    bkg = np.full(10, 10.0)
    w = np.ones((1, 10))
    maxima = toys_max_local_z(bkg, w, 20000, rng)
    g = global_significance(2.0, maxima)
    # discrete Poisson: compare to the exact tail of N >= n(Z=2) for b = 100
    assert abs(g.p_global - g.p_local) < 0.015
    assert g.trials_factor == pytest.approx(g.p_global / g.p_local)


def test_many_independent_windows_trials_factor():
    rng = np.random.default_rng(6)
    n_win = 20
    bkg = np.full(n_win, 400.0)
    w = np.eye(n_win)
    maxima = toys_max_local_z(bkg, w, 20000, rng)
    g = global_significance(2.5, maxima)
    expected = 1 - (1 - g.p_local) ** n_win  # independent windows
    assert abs(g.p_global - expected) < 4 * g.p_global_error + 0.01


def test_gross_vitells_against_toys_for_correlated_windows():
    rng = np.random.default_rng(7)
    n_bins = 400
    bkg = np.full(n_bins, 50.0)
    centres = np.arange(10, n_bins - 10, 2)
    w = window_matrix(np.arange(n_bins + 1), centres - 8, centres + 8)
    maxima, curves = toys_max_local_z(bkg, w, 4000, rng, return_curves=True)
    n_up = upcrossings(curves[:200], 0.5).mean()
    toy = global_significance(3.0, maxima)
    gv = gross_vitells(3.0, n_up, 0.5)
    # Gross-Vitells is an asymptotic (slightly conservative) estimate of the toy answer
    assert toy.p_global - 3 * toy.p_global_error < gv.p_global < 1.6 * toy.p_global
    assert upcrossings(np.array([0, 2, 0, 2, 2, 0]), 1.0) == 2


def test_bad_input():
    with pytest.raises(ValueError, match="windows"):
        toys_max_local_z(np.ones(3), np.ones((2, 4)), 10, np.random.default_rng(0))
