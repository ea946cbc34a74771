import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.colliders import BABAR, BELLE, BELLE2, get_collider


def test_sqrt_s_and_boosts():
    assert_allclose(BELLE2.sqrt_s, 10.58, atol=0.005)
    assert_allclose(BELLE.sqrt_s, 10.58, atol=0.005)
    assert_allclose(BABAR.sqrt_s, 10.58, atol=0.02)
    assert_allclose(BELLE2.beta_gamma, 0.287, atol=0.002)
    assert_allclose(BELLE.beta_gamma, 0.425, atol=0.002)
    assert_allclose(BABAR.beta_gamma, 0.56, atol=0.005)
    # crossing angle: a transverse boost component
    assert BELLE2.boost[0] > 0 and BABAR.boost[0] == 0


def test_babar_runs():
    assert_allclose(BABAR.dataset("Y3S").sqrt_s, 10.355, atol=0.01)
    assert_allclose(BABAR.dataset("Y2S").sqrt_s, 10.023, atol=0.01)
    assert_allclose(BABAR.dataset("Y4S").sqrt_s - BABAR.dataset("Y4S-off").sqrt_s, 0.04, atol=1e-3)
    with pytest.raises(ValueError, match="valid"):
        BABAR.dataset("Y5S")


def test_cm_angle_mapping_is_aberration():
    # theta = 90 deg in the lab is backward in the CM for a forward boost
    c = BELLE2.cm_cos_theta(90.0)
    assert_allclose(c, -BELLE2.boost[2], rtol=1e-12)
    lo, hi = BELLE2.photon_cos_theta_cm_range()
    assert -1 < lo < 0 < hi < 1


def test_get_collider():
    assert get_collider("Belle II") is BELLE2
    assert get_collider("BaBar") is BABAR
    with pytest.raises(ValueError, match="valid"):
        get_collider("lep")
    assert np.isfinite(BELLE2.sqrt_s)
