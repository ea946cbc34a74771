import numpy as np
from numpy.testing import assert_allclose

from darkscan.physics import lorentz as lv


def test_boost_roundtrip_and_invariance():
    rng = np.random.default_rng(1)
    p = lv.four_vector(10.0, *rng.normal(size=(3, 100)))
    beta = rng.uniform(-0.5, 0.5, size=(100, 3))
    q = lv.boost(p, beta)
    assert_allclose(lv.mass2(q), lv.mass2(p), rtol=1e-10, atol=1e-9)
    assert_allclose(lv.boost(q, -beta), p, atol=1e-12)


def test_particle_at_rest_moves_with_beta():
    p = lv.four_vector(2.0, 0.0, 0.0, 0.0)
    q = lv.boost(p, [0.0, 0.0, 0.6])
    assert_allclose(q, [2.5, 0.0, 0.0, 1.5])


def test_two_body_decay_conserves_momentum_and_masses():
    rng = np.random.default_rng(2)
    n = 1000
    parent = lv.four_vector(
        np.full(n, 6.0), rng.normal(size=n), rng.normal(size=n), rng.normal(size=n) + 2
    )
    d1, d2 = lv.two_body_decay(
        parent, 0.105, 0.5, rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    )
    assert_allclose(d1 + d2, parent, atol=1e-10)
    assert_allclose(lv.mass(d1), 0.105, rtol=1e-6)
    assert_allclose(lv.mass(d2), 0.5, rtol=1e-8)


def test_rest_frame_helpers():
    frame = lv.four_vector(5.0, 1.0, 2.0, 3.0)
    rest = lv.boost_to_rest(frame, frame)
    assert_allclose(rest[1:], 0.0, atol=1e-12)
    assert_allclose(rest[0], lv.mass(frame))
    assert_allclose(lv.boost_from_rest(rest, frame), frame, atol=1e-12)
