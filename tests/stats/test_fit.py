"""Extended unbinned fits: yields, simultaneous fits, Asimov, constraints, limits, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from darkscan.stats import fit as fitmod
from darkscan.stats import pdfs
from darkscan.stats.fit import (
    Category,
    Component,
    Parameter,
    UnbinnedNLL,
    asimov_data,
    discovery_significance,
    fit,
    generate,
    profile_scan,
    upper_limit_profile,
)
from darkscan.stats.results import STATUS_FAILED, STATUS_OK, LimitResult, SignificanceResult

LO, HI = 4.5, 5.5
CB = {"mu": 5.0, "sigma": 0.02, "alpha": 1.5, "n": 3.0}
TRUTH = {
    "mu": 200.0,
    "cat.bkg.N": 2000.0,
    "cat.bkg.c1": -0.3,
    "cat.bkg.c2": 0.1,
    "cat.bkg.c3": -0.05,
}


def cb_cheb(name: str = "cat", eff: float | Parameter = 1.0, nb: float = 2000.0) -> Category:
    sig = Component("sig", pdfs.crystalball, CB)
    coeffs = {f"c{j}": Parameter(0.0) for j in (1, 2, 3)}
    bkg = Component("bkg", pdfs.chebyshev, coeffs, yield_=nb)
    return Category(LO, HI, [bkg], signal=sig, eff=eff, name=name)


def gauss_exp(
    name: str = "cat",
    nb: float = 500.0,
    eff: float | Parameter = 1.0,
    sigma: float | Parameter = 0.02,
) -> Category:
    sig = Component("sig", pdfs.gauss, {"mu": 5.0, "sigma": sigma})
    bkg = Component("bkg", pdfs.exponential, {"k": Parameter(-1.0)}, yield_=nb)
    return Category(LO, HI, [bkg], signal=sig, eff=eff, name=name)


def flat_counting(b: float) -> Category:
    """Signal and background both flat, background known: a Poisson counting experiment."""
    flat = {"c0": 1.0}
    bkg = Component("bkg", pdfs.chebyshev, flat, yield_=Parameter(b, fixed=True))
    return Category(0.0, 1.0, [bkg], signal=Component("sig", pdfs.chebyshev, flat))


# ---------------------------------------------------------------------------------------------
# yields and pulls
def _pulls(n_toys: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cat = cb_cheb()
    out = []
    for _ in range(n_toys):
        x = generate(cat, TRUTH, rng=rng)
        res = fit(UnbinnedNLL(cat, x))
        assert res.valid, res.message
        out.append([(res.values[k] - TRUTH[k]) / res.errors[k] for k in ("mu", "cat.bkg.N")])
    return np.array(out)


def test_fit_recovers_yields_fast():
    pulls = _pulls(3, seed=11)
    assert np.all(np.abs(pulls) < 4)


def test_pulls_of_yields_30_toys():
    pulls = _pulls(30, seed=12)
    mean, std = pulls.mean(axis=0), pulls.std(axis=0, ddof=1)
    # mean ~ N(0, 1/sqrt(30) = 0.18), std ~ 1 +- 0.13
    assert np.all(np.abs(mean) < 0.65), mean
    assert np.all((std > 0.6) & (std < 1.45)), std


@pytest.mark.slow
def test_pulls_of_yields_300_toys():
    pulls = _pulls(300, seed=13)
    mean, std = pulls.mean(axis=0), pulls.std(axis=0, ddof=1)
    assert np.all(np.abs(mean) < 0.2), mean
    assert np.all((std > 0.88) & (std < 1.12)), std


def test_fit_result_fields():
    x = generate(cb_cheb(), TRUTH, rng=3)
    cost = UnbinnedNLL(cb_cheb(), x)
    res = fit(cost)
    assert res.valid and res.converged and res.covariance_valid and res.status == STATUS_OK
    assert res.names == cost.names == ("mu", "cat.bkg.c1", "cat.bkg.c2", "cat.bkg.c3", "cat.bkg.N")
    assert res.covariance.shape == (5, 5)
    assert_allclose(np.sqrt(np.diag(res.covariance)), [res.errors[n] for n in res.names])
    assert res.nll == pytest.approx(cost.value(res.values))
    # extended ML: the fitted yields add up to the number of events
    assert res.values["mu"] + res.values["cat.bkg.N"] == pytest.approx(x.size, rel=1e-4)


def test_fixed_parameters_and_errors():
    x = generate(cb_cheb(), TRUTH, rng=4)
    cost = UnbinnedNLL(cb_cheb(), x)
    res = fit(cost, fix={"cat.bkg.c3": -0.05, "mu": 150.0})
    assert res.valid
    assert res.values["cat.bkg.c3"] == -0.05 and res.errors["cat.bkg.c3"] == 0.0
    assert res.values["mu"] == 150.0


def test_floating_signal_shape_and_bernstein_argus_paths():
    rng = np.random.default_rng(21)
    # floating mean and width of the signal (non-linear path), Bernstein background
    sig = Component("sig", pdfs.gauss, {"mu": Parameter(5.0), "sigma": Parameter(0.03)})
    bern = Component("bkg", pdfs.bernstein, {"b1": Parameter(1.0), "b2": Parameter(1.0)})
    cat = Category(LO, HI, [bern], signal=sig)
    truth = {
        "mu": 400.0,
        "cat.sig.mu": 5.01,
        "cat.sig.sigma": 0.025,
        "cat.bkg.N": 3000.0,
        "cat.bkg.b1": 0.6,
        "cat.bkg.b2": 1.4,
    }
    x = generate(cat, truth, rng=rng)
    res = fit(UnbinnedNLL(cat, x))
    assert res.valid
    for k, v in truth.items():
        assert abs(res.values[k] - v) < 4 * res.errors[k], k
    # ARGUS background with a floating shape parameter (chi), fixed endpoint
    arg = Component("bkg", pdfs.argus, {"m0": 5.29, "chi": Parameter(8.0)})
    cat2 = Category(
        5.2, 5.29, [arg], signal=Component("sig", pdfs.gauss, {"mu": 5.279, "sigma": 0.003})
    )
    truth2 = {"mu": 100.0, "cat.bkg.N": 2000.0, "cat.bkg.chi": 12.0}
    x2 = generate(cat2, truth2, rng=rng)
    res2 = fit(UnbinnedNLL(cat2, x2))
    assert res2.valid
    for k, v in truth2.items():
        assert abs(res2.values[k] - v) < 4 * res2.errors[k], k
    assert cat2.components[0].name == "sig"


# ---------------------------------------------------------------------------------------------
# simultaneous fits
def test_simultaneous_fit_shares_mu_and_shrinks_its_error():
    rng = np.random.default_rng(5)
    a, b = cb_cheb("a", eff=1.0), cb_cheb("b", eff=0.7, nb=3000.0)
    ta = {"mu": 150.0, "a.bkg.N": 2000.0}
    tb = {"mu": 150.0, "b.bkg.N": 3000.0}
    xa, xb = generate(a, ta, rng=rng), generate(b, tb, rng=rng)
    ca, cb = UnbinnedNLL(a, xa), UnbinnedNLL(b, xb)
    both = ca + cb
    assert both.names.count("mu") == 1
    assert {"a.bkg.N", "b.bkg.N"} <= set(both.names)
    ra, rb, rab = fit(ca), fit(cb), fit(both)
    assert ra.valid and rb.valid and rab.valid
    err = rab.errors["mu"]
    assert err < ra.errors["mu"] and err < rb.errors["mu"]
    # independent data sets: 1/sigma^2 adds up (to a few per cent)
    comb = (ra.errors["mu"] ** -2 + rb.errors["mu"] ** -2) ** -0.5
    assert err == pytest.approx(comb, rel=0.05)
    assert rab.nll == pytest.approx(ca.value(rab.values) + cb.value(rab.values))


def test_composition_rejects_duplicate_category_names():
    x = generate(cb_cheb(), TRUTH, rng=1)
    with pytest.raises(ValueError, match="distinct names"):
        UnbinnedNLL(cb_cheb(), x) + UnbinnedNLL(cb_cheb(), x)


def test_shared_parameter_by_name_and_conflicts():
    shared = Parameter(-1.0, name="slope")
    a = Category(LO, HI, [Component("bkg", pdfs.exponential, {"k": shared})], name="a")
    b = Category(LO, HI, [Component("bkg", pdfs.exponential, {"k": shared})], name="b")
    xa = generate(a, {"a.bkg.N": 500.0, "slope": -1.0}, rng=1)
    xb = generate(b, {"b.bkg.N": 500.0, "slope": -1.0}, rng=2)
    cost = UnbinnedNLL(a, xa) + UnbinnedNLL(b, xb)
    assert cost.names.count("slope") == 1
    assert fit(cost).valid
    other = Category(
        LO,
        HI,
        [Component("bkg", pdfs.exponential, {"k": Parameter(-1.0, name="slope", constraint=0.1)})],
        name="c",
    )
    with pytest.raises(ValueError, match="declared twice"):
        UnbinnedNLL(a, xa) + UnbinnedNLL(other, xb)


# ---------------------------------------------------------------------------------------------
# Asimov
ASIMOV_TRUTH = {"mu": 40.0, "cat.bkg.N": 1000.0, "cat.bkg.k": -1.0}


def _binned_expected_nll(gen: dict, test: dict, nbins: int = 200_000) -> float:
    edges = np.linspace(LO, HI, nbins + 1)

    def nu(v):
        return v["cat.bkg.N"] * np.diff(
            pdfs.exponential.cdf(edges, v["cat.bkg.k"], lo=LO, hi=HI)
        ) + v["mu"] * np.diff(pdfs.gauss.cdf(edges, 5.0, 0.02, lo=LO, hi=HI))

    n0, n1 = nu(gen), nu(test)
    # -sum nu_b log(nu'_b / width) + sum nu'_b -> -int nu log nu' + int nu' as bins shrink
    return float(-(n0 * np.log(n1 / np.diff(edges))).sum() + n1.sum())


def test_asimov_nll_equals_fine_binned_expected_nll():
    cat = gauss_exp(nb=1000.0)
    cost = UnbinnedNLL(cat, generate(cat, ASIMOV_TRUTH, rng=1))
    asimov = cost.asimov(ASIMOV_TRUTH)
    x, w = asimov_data(cost, ASIMOV_TRUTH)
    assert w.sum() == pytest.approx(1040.0, rel=1e-12)
    assert x.size < 3000 and np.all((x > LO) & (x < HI))
    for test in (
        ASIMOV_TRUTH,
        {"mu": 0.0, "cat.bkg.N": 1030.0, "cat.bkg.k": -1.3},
        {"mu": 80.0, "cat.bkg.N": 950.0, "cat.bkg.k": -0.7},
    ):
        assert asimov.value(test) == pytest.approx(
            _binned_expected_nll(ASIMOV_TRUTH, test), abs=1e-4
        )


def test_asimov_fit_returns_injected_values():
    for cat, truth in ((gauss_exp(nb=1000.0), ASIMOV_TRUTH), (cb_cheb(), TRUTH)):
        cost = UnbinnedNLL(cat, generate(cat, truth, rng=2))
        asimov = cost.asimov(truth)
        # start away from the truth
        start = {k: v * 1.3 + 0.05 for k, v in truth.items()}
        res = fit(asimov, start=start, tol=1e-4)
        assert res.valid
        for k, v in truth.items():
            assert res.values[k] == pytest.approx(v, abs=1e-3 * res.errors[k]), k


def test_asimov_sets_constraint_centres():
    cat = gauss_exp(eff=Parameter(1.0, constraint=0.1))
    cost = UnbinnedNLL(cat, generate(cat, {"mu": 10.0}, rng=3))
    asimov = cost.asimov({"mu": 0.0, "cat.eff": 1.05})
    assert asimov.centres == {"cat.eff": 1.05}
    assert cost.centres == {"cat.eff": 1.0}


# ---------------------------------------------------------------------------------------------
# Gaussian constraints
def test_constraint_on_degenerate_efficiency_returns_prior():
    """eff only enters as mu * eff: its post-fit value/error are the constraint's, and the
    relative error of mu is the quadrature sum of statistics and the eff uncertainty."""
    rng = np.random.default_rng(8)
    free = gauss_exp()
    cons = gauss_exp(eff=Parameter(1.0, constraint=0.1))
    x = generate(free, {"mu": 300.0}, rng=rng)
    rf, rc = fit(UnbinnedNLL(free, x)), fit(UnbinnedNLL(cons, x))
    assert rf.valid and rc.valid
    assert rc.values["cat.eff"] == pytest.approx(1.0, abs=1e-3)
    assert rc.errors["cat.eff"] == pytest.approx(0.1, rel=0.02)
    mu = rf.values["mu"]
    expect = math.hypot(rf.errors["mu"], 0.1 * mu)
    assert rc.errors["mu"] == pytest.approx(expect, rel=0.05)
    assert rc.values["mu"] * rc.values["cat.eff"] == pytest.approx(mu, rel=1e-3)


def test_constraint_combines_with_data_like_a_weighted_mean():
    rng = np.random.default_rng(9)
    cat = gauss_exp(nb=800.0)
    x = generate(cat, {"mu": 50.0, "cat.bkg.N": 800.0}, rng=rng)
    free = fit(UnbinnedNLL(cat, x))
    s_data, k_data = free.errors["cat.bkg.k"], free.values["cat.bkg.k"]
    centre = k_data + 1.5 * s_data  # a 1.5 sigma tension with the data
    cons_cat = gauss_exp(nb=800.0)
    bkg = Component(
        "bkg", pdfs.exponential, {"k": Parameter(centre, constraint=s_data)}, yield_=800.0
    )
    cons_cat = Category(LO, HI, [bkg], signal=cons_cat.signal)
    cost = UnbinnedNLL(cons_cat, x)
    res = fit(cost)
    assert res.valid
    # equal weights: halfway, error / sqrt(2)
    assert res.values["cat.bkg.k"] == pytest.approx(0.5 * (k_data + centre), abs=0.05 * s_data)
    assert res.errors["cat.bkg.k"] == pytest.approx(s_data / math.sqrt(2), rel=0.05)
    assert res.pull("cat.bkg.k", cost) == pytest.approx(-0.75, abs=0.05)
    with pytest.raises(ValueError, match="not constrained"):
        res.pull("mu", cost)


def test_constraint_pulls_over_toys():
    """Toys with the global observable (constraint centre) fluctuated: pulls are ~N(0, 1)."""
    rng = np.random.default_rng(10)
    sig_width = 0.03
    pulls = []
    for _ in range(20):
        centre = rng.normal(sig_width, 0.003)
        cat = gauss_exp(sigma=Parameter(centre, constraint=0.003, limits=(0.01, 0.06)))
        x = generate(cat, {"mu": 300.0, "cat.sig.sigma": sig_width}, rng=rng)
        cost = UnbinnedNLL(cat, x)
        res = fit(cost)
        assert res.valid
        pulls.append((res.values["cat.sig.sigma"] - sig_width) / res.errors["cat.sig.sigma"])
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.8 and 0.5 < pulls.std(ddof=1) < 1.6


# ---------------------------------------------------------------------------------------------
# weighted events
def test_weights_of_two_equal_duplicated_events():
    cat = gauss_exp()
    x = generate(cat, {"mu": 30.0}, rng=12)
    rw = fit(UnbinnedNLL(cat, x, weights=np.full(x.size, 2.0)))
    rd = fit(UnbinnedNLL(cat, np.concatenate([x, x])))
    assert rw.valid and rd.valid
    for k in rw.names:
        assert rw.values[k] == pytest.approx(rd.values[k], rel=1e-3, abs=1e-3 * rd.errors[k])
    assert rw.nll == pytest.approx(rd.nll, abs=1e-4)


def test_weighted_fit_total_yield_is_sum_of_weights():
    cat = gauss_exp()
    x = generate(cat, {"mu": 30.0}, rng=13)
    w = np.random.default_rng(1).uniform(0.5, 1.5, x.size)
    res = fit(UnbinnedNLL(cat, x, weights=w), tol=1e-3)
    assert res.valid
    assert res.values["mu"] + res.values["cat.bkg.N"] == pytest.approx(w.sum(), rel=1e-4)


# ---------------------------------------------------------------------------------------------
# profile likelihood, limits, significance
def test_profile_scan_is_parabolic_for_large_samples():
    cat = cb_cheb()
    x = generate(cat, TRUTH, rng=14)
    cost = UnbinnedNLL(cat, x)
    best = fit(cost)
    m, s = best.values["mu"], best.errors["mu"]
    scan = profile_scan(cost, [m - s, m, m + s])
    assert scan.valid.all()
    assert_allclose(scan.q, [1.0, 0.0, 1.0], atol=0.1)
    assert scan.mu_hat == pytest.approx(m)


@pytest.mark.parametrize(("n_obs", "pyhf_obs"), [(25, 14.675435404947418), (14, 6.363011308528405)])
def test_limit_matches_counting_experiment(n_obs, pyhf_obs):
    """Flat signal on flat known background = one-bin counting experiment with b = 20.

    Reference values: pyhf 0.7.6, asymptotic q~_mu CLs, model with one normfactor sample of 1
    and a background of 20 (expected bands 5.0794, 6.9960, 10.0898, 14.7917, 21.0778)."""
    cost = UnbinnedNLL(flat_counting(20.0), np.linspace(0.01, 0.99, n_obs))
    res = upper_limit_profile(cost)
    assert isinstance(res, LimitResult) and res.status == STATUS_OK
    assert float(res.observed) == pytest.approx(pyhf_obs, rel=1e-4)
    bands = [
        res.expected_minus2,
        res.expected_minus1,
        res.expected_median,
        res.expected_plus1,
        res.expected_plus2,
    ]
    assert_allclose(
        np.array(bands, float),
        [5.07936807, 6.99597204, 10.08982629, 14.7917003, 21.07784274],
        rtol=1e-4,
    )
    assert res.method == "profile-cls-asymptotic" and res.cl == 0.95
    assert res.to_records()[0]["status"] == "ok"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_limit_pyhf_cross_check_live():
    pyhf = pytest.importorskip("pyhf")
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [1.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "b", "data": [8.0], "modifiers": []},
                ],
            }
        ]
    }
    model = pyhf.Model(spec, poi_name="mu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
            [11.0], model, scan=None, level=0.05, par_bounds=[(0, 100)], rtol=1e-8
        )
    res = upper_limit_profile(UnbinnedNLL(flat_counting(8.0), np.linspace(0.01, 0.99, 11)))
    assert float(res.observed) == pytest.approx(float(obs), rel=1e-4)
    assert float(res.expected_median) == pytest.approx(float(exp[2]), rel=1e-4)


def test_cls_plus_b_is_below_cls():
    cost = UnbinnedNLL(flat_counting(20.0), np.linspace(0.01, 0.99, 18))
    cls = upper_limit_profile(cost)
    clsb = upper_limit_profile(cost, method="clsb", cl=0.95)
    alias = upper_limit_profile(cost, method="CLs+b", cl=0.95)
    assert float(alias.observed) == float(clsb.observed)
    assert float(clsb.observed) < float(cls.observed)
    # CLs+b median: sigma * 1.645 with sigma = median_CLs / 1.96 to first order
    assert float(clsb.expected_median) < float(cls.expected_median)
    assert clsb.method == "profile-clsb-asymptotic"


def _toy_limits(n_toys: int, seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    cat = gauss_exp()
    uls, median = [], math.nan
    for i in range(n_toys):
        x = generate(cat, {"mu": 0.0}, rng=rng)
        res = upper_limit_profile(UnbinnedNLL(cat, x), bands=(i == 0))
        assert res.status == STATUS_OK
        if i == 0:
            median = float(res.expected_median)
            assert (
                res.expected_minus2
                < res.expected_minus1
                < median
                < res.expected_plus1
                < res.expected_plus2
            )
        uls.append(float(res.observed))
    return np.array(uls), median


def test_background_only_toy_limits_fast():
    uls, median = _toy_limits(6, seed=15)
    assert 0.5 < np.median(uls) / median < 1.8


@pytest.mark.slow
def test_background_only_toy_limits_match_asimov_median():
    uls, median = _toy_limits(60, seed=16)
    assert np.median(uls) == pytest.approx(median, rel=0.15)
    assert 0.3 < np.mean(uls < median) < 0.7


def test_discovery_significance_counting_formula():
    b, n = 20.0, 35
    cost = UnbinnedNLL(flat_counting(b), np.linspace(0.01, 0.99, n))
    res = discovery_significance(cost)
    assert isinstance(res, SignificanceResult) and res.status == STATUS_OK
    z = math.sqrt(2 * (n * math.log(n / b) - (n - b)))
    assert float(res.z) == pytest.approx(z, rel=1e-4)
    assert float(res.p_value) == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-3)
    deficit = discovery_significance(UnbinnedNLL(flat_counting(b), np.linspace(0.01, 0.99, 12)))
    assert float(deficit.z) == 0.0 and float(deficit.p_value) == 0.5


def test_discovery_significance_with_injected_signal():
    cat = gauss_exp()
    x = generate(cat, {"mu": 80.0}, rng=17)
    res = discovery_significance(UnbinnedNLL(cat, x))
    assert res.status == STATUS_OK and float(res.z) > 4


def test_failed_fits_are_flagged_not_raised(monkeypatch):
    cost = UnbinnedNLL(flat_counting(20.0), np.linspace(0.01, 0.99, 25))

    def broken(*args, **kwargs):
        raise RuntimeError("minimiser exploded")

    monkeypatch.setattr(fitmod, "fit", broken)
    with pytest.warns(RuntimeWarning, match="exploded"):
        res = upper_limit_profile(cost)
    assert res.status == STATUS_FAILED and math.isnan(float(res.observed))
    with pytest.warns(RuntimeWarning, match="exploded"):
        sig = discovery_significance(cost)
    assert sig.status == STATUS_FAILED and math.isnan(float(sig.z))


def test_invalid_fit_is_flagged(monkeypatch):
    cost = UnbinnedNLL(flat_counting(20.0), np.linspace(0.01, 0.99, 25))
    real = fitmod.fit

    def invalid(*args, **kwargs):
        res = real(*args, **kwargs)
        return fitmod.FitResult(
            res.names,
            res.values,
            res.errors,
            res.nll,
            False,
            False,
            False,
            None,
            res.nfcn,
            "forced",
        )

    monkeypatch.setattr(fitmod, "fit", invalid)
    with pytest.warns(RuntimeWarning, match="global fit failed"):
        res = upper_limit_profile(cost)
    assert res.status == STATUS_FAILED


def test_minuit_exception_becomes_failed_fit(monkeypatch):
    cost = UnbinnedNLL(flat_counting(20.0), np.linspace(0.01, 0.99, 25))

    def boom(self, *a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(fitmod.Minuit, "migrad", boom)
    res = fit(cost)
    assert not res.valid and res.status == STATUS_FAILED and "boom" in res.message


# ---------------------------------------------------------------------------------------------
# bad input
def test_bad_data_raise_value_errors():
    cat = gauss_exp()
    with pytest.raises(ValueError, match="empty"):
        UnbinnedNLL(cat, [])
    with pytest.raises(ValueError, match=r"2 of 4 data values lie outside the fit range"):
        UnbinnedNLL(cat, [4.6, 4.4, 5.0, 6.0])
    with pytest.raises(ValueError, match="non-finite"):
        UnbinnedNLL(cat, [4.6, np.nan])
    with pytest.raises(ValueError, match="1-D"):
        UnbinnedNLL(cat, [[4.6, 4.7]])
    with pytest.raises(ValueError, match="weights shape"):
        UnbinnedNLL(cat, [4.6, 4.7], weights=[1.0])
    with pytest.raises(ValueError, match="weights contain non-finite"):
        UnbinnedNLL(cat, [4.6, 4.7], weights=[1.0, np.inf])


def test_bad_parameters_raise_value_errors():
    with pytest.raises(ValueError, match="non-finite"):
        Parameter(np.nan)
    with pytest.raises(ValueError, match="constraint"):
        Parameter(1.0, constraint=0.0)
    with pytest.raises(ValueError, match="limits"):
        Parameter(1.0, limits=(2.0, 1.0))
    with pytest.raises(ValueError, match="non-finite"):
        UnbinnedNLL(Category(LO, HI, [Component("b", pdfs.exponential, {"k": np.inf})]), [5.0])
    cost = UnbinnedNLL(gauss_exp(), [4.6, 5.0])
    with pytest.raises(ValueError, match="non-finite"):
        fit(cost, start={"mu": np.nan})
    with pytest.raises(ValueError, match="unknown parameter"):
        fit(cost, start={"nope": 1.0})
    with pytest.raises(ValueError, match="not given"):
        UnbinnedNLL(Category(LO, HI, [Component("b", pdfs.gauss, {"mu": 5.0})]), [5.0])
    with pytest.raises(ValueError, match="unknown gauss parameters"):
        UnbinnedNLL(
            Category(LO, HI, [Component("b", pdfs.gauss, {"mu": 5.0, "sigma": 1.0, "s": 1})]), [5.0]
        )
    with pytest.raises(ValueError, match="coefficient c1 missing"):
        UnbinnedNLL(Category(LO, HI, [Component("b", pdfs.chebyshev, {"c3": 0.1})]), [5.0])
    with pytest.raises(ValueError, match="lo < hi"):
        Category(5.0, 5.0, [Component("b", pdfs.exponential, {"k": -1.0})])
    with pytest.raises(ValueError, match="duplicate component"):
        Category(LO, HI, [Component("b", pdfs.exponential, {"k": -1.0})] * 2)
    with pytest.raises(ValueError, match="eff"):
        Category(LO, HI, [Component("b", pdfs.exponential, {"k": -1.0})], eff=0.0)
    with pytest.raises(ValueError, match="method"):
        upper_limit_profile(cost, method="bayes")
    with pytest.raises(ValueError, match="cl"):
        upper_limit_profile(cost, cl=1.5)
    with pytest.raises(ValueError, match="parameter of interest"):
        discovery_significance(cost, poi="xsec")


def test_out_of_domain_shape_parameters_do_not_crash_the_fit():
    """A floating width is bounded by the shape's domain; the NLL never raises."""
    cat = gauss_exp(sigma=Parameter(0.02))
    x = generate(cat, {"mu": 100.0}, rng=18)
    cost = UnbinnedNLL(cat, x)
    assert cost.specs["cat.sig.sigma"].limits == (0.0, None)
    p = cost.vector({"cat.sig.sigma": 0.02})
    p[cost.index["cat.sig.sigma"]] = -1.0
    assert cost(p) >= 1e29
    assert fit(cost).valid


def test_simultaneous_limit_is_stronger_than_each_category():
    rng = np.random.default_rng(19)
    a, b = gauss_exp("a"), gauss_exp("b", eff=0.8)
    ca = UnbinnedNLL(a, generate(a, {"mu": 0.0}, rng=rng))
    cb = UnbinnedNLL(b, generate(b, {"mu": 0.0}, rng=rng))
    la, lb, lab = (upper_limit_profile(c) for c in (ca, cb, ca + cb))
    assert lab.status == STATUS_OK
    assert float(lab.expected_median) < min(float(la.expected_median), float(lb.expected_median))
    # two similar categories: the median improves by about sqrt(2)
    assert float(la.expected_median) / float(lab.expected_median) == pytest.approx(1.35, abs=0.2)
