"""Beam-energy spread applied to generated events."""

import dataclasses

import numpy as np
import pytest

from darkscan.colliders import BABAR, BELLE2
from darkscan.generators import get_process
from darkscan.generators.beam import apply_beam_energy_spread, beam_four_momenta


def _mass2(p):
    return p[..., 0] ** 2 - np.sum(p[..., 1:] ** 2, axis=-1)


@pytest.fixture(scope="module")
def tautau():
    return get_process("ee-tautau").generate(3000, np.random.default_rng(3), BELLE2)


@pytest.mark.parametrize("collider", [BELLE2, BABAR])
def test_events_move_to_their_own_beams_exactly(tautau, collider):
    batch = tautau
    if collider is BABAR:
        batch = get_process("ee-mumu").generate(3000, np.random.default_rng(4), BABAR)
    out = apply_beam_energy_spread(batch, collider, np.random.default_rng(5))
    ev = out.particles.event_index()
    p4 = out.particles.columns["p4"]
    total = np.stack([np.bincount(ev, p4[:, k], minlength=out.n_events) for k in range(4)], 1)
    d_m = out.truth["beam_e_minus"] / collider.e_minus - 1.0
    d_p = out.truth["beam_e_plus"] / collider.e_plus - 1.0
    pm, pp = beam_four_momenta(collider, d_m, d_p)
    # generated events conserve the nominal beams; the moved ones their own
    ev0 = batch.particles.event_index()
    p0 = batch.particles.columns["p4"]
    total0 = np.stack([np.bincount(ev0, p0[:, k], minlength=batch.n_events) for k in range(4)], 1)
    np.testing.assert_allclose(total0, np.broadcast_to(collider.p_total, total0.shape), atol=1e-8)
    np.testing.assert_allclose(total, pm + pp, atol=1e-8)
    # masses exactly kept
    np.testing.assert_allclose(_mass2(p4), _mass2(p0), atol=1e-9)
    # the spread of sqrt(s) is the collider's
    sqrt_s = np.sqrt(_mass2(total))
    assert np.std(sqrt_s) == pytest.approx(collider.sqrt_s_spread_gev, rel=0.06)
    assert np.mean(sqrt_s) == pytest.approx(
        collider.sqrt_s, abs=4 * collider.sqrt_s_spread_gev / 50
    )
    assert out.meta["beam_energy_spread"] == list(collider.beam_energy_spread)


def test_no_spread_changes_nothing_and_seed_reproduces(tautau):
    flat = dataclasses.replace(BELLE2, beam_energy_spread=(0.0, 0.0))
    out = apply_beam_energy_spread(tautau, flat, np.random.default_rng(1))
    np.testing.assert_array_equal(out.particles.columns["p4"], tautau.particles.columns["p4"])
    a = apply_beam_energy_spread(tautau, BELLE2, np.random.default_rng(9))
    b = apply_beam_energy_spread(tautau, BELLE2, np.random.default_rng(9))
    np.testing.assert_array_equal(a.particles.columns["p4"], b.particles.columns["p4"])
    np.testing.assert_array_equal(a.weight, tautau.weight)


def test_recoil_mass_squared_smearing_matches_first_order():
    """The recoil against a Born mu pair computed with the nominal beams is the beam shift
    (nominal minus true beams): its mass^2 follows from the drawn beam energies alone and is
    of second order in the spread (4 dE- dE+ ~ 1e-5 GeV^2), while a massive recoil X moves
    by 2 dP.p_X at first order."""
    batch = get_process("ee-mumu", radiation="born").generate(
        4000, np.random.default_rng(2), BELLE2
    )
    out = apply_beam_energy_spread(batch, BELLE2, np.random.default_rng(8))
    p4 = out.particles.columns["p4"].reshape(-1, 2, 4).sum(axis=1)
    recoil = BELLE2.p_total - p4
    m2 = _mass2(recoil)
    d_m = out.truth["beam_e_minus"] - BELLE2.e_minus
    d_p = out.truth["beam_e_plus"] - BELLE2.e_plus
    pm, pp = beam_four_momenta(BELLE2, d_m / BELLE2.e_minus, d_p / BELLE2.e_plus)
    exact = _mass2(BELLE2.p_total - (pm + pp))  # recoil of the true beams' total vs nominal
    # the mu pair carries the true beams' total: recoil = nominal - true = -(shift), massless-ish
    np.testing.assert_allclose(m2, exact, atol=1e-7)
    assert np.std(m2) < 10 * BELLE2.sqrt_s_spread_gev**2


def test_bad_input():
    with pytest.raises(ValueError, match="beam_energy_spread"):
        dataclasses.replace(BELLE2, beam_energy_spread=(-1e-3, 0.0))
    with pytest.raises(ValueError, match="EventBatch"):
        apply_beam_energy_spread("x", BELLE2, np.random.default_rng(1))  # type: ignore[arg-type]
