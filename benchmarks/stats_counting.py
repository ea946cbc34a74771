"""Speed of the counting-experiment limits, against pyhf measured in the same run.

Goals (issue): asymptotic CLs limits with +-1, +-2 sigma bands for 1e4 counting hypotheses
in under 1 s on one core, at least 1000x faster than looping pyhf's ``upper_limit`` over the
same hypotheses with equal results; toy-based CLs for 1e3 hypotheses x 1e4 toys in under
60 s on 2 cores.

Prints the wall times (best of --repeat), the ratios to the goals, the speed-up over pyhf
(pyhf timed on --pyhf-points hypotheses and scaled) and the largest relative difference of
the six limits to pyhf on those hypotheses. The background uncertainty is pyhf's
``uncorrelated_background`` (a Poisson auxiliary count), our ``constraint="poisson"``.

    python benchmarks/stats_counting.py [--points 10000] [--toy-points 1000] [--toys 10000]
                                        [--workers 2] [--skip-toys] [--json] [--out FILE]
"""

from __future__ import annotations

import os

# single-threaded numerical libraries (the asymptotic goal is on one core): before numpy
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

KEYS = (
    "observed",
    "expected_minus2",
    "expected_minus1",
    "expected_median",
    "expected_plus1",
    "expected_plus2",
)


def hypotheses(k: int, seed: int):
    """Counting hypotheses as in a mass scan: b from 0.5 to 1000, 3-60 % uncertainty."""
    rng = np.random.default_rng(seed)
    b = 10 ** rng.uniform(-0.3, 3.0, k)
    sb = b * rng.uniform(0.03, 0.6, k)
    n = rng.poisson(b).astype(float)
    return n, b, sb


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def pyhf_fit_failed(pyhf, model, data, mu: float, n: float, b: float, sb: float) -> bool:
    """True if pyhf's conditional fit at ``mu`` (observed or Asimov data) has a worse
    likelihood, in pyhf's own model, than our closed-form profile (pyhf did not converge)."""
    from darkscan.stats import counting as c

    m, _ = c._build(n, b, sb, 1.0, 0.0, "poisson", "gaussian")
    ref = c._reference(m)
    asimov = model.expected_data(pyhf.infer.mle.fixed_poi_fit(0.0, data, model))
    s = float(model.expected_actualdata([mu, 1.0])[0]) - b  # signal events at mu
    for d, ours in ((data, m), (asimov, c._asimov(m, ref))):
        _, nll_pyhf = pyhf.infer.mle.fixed_poi_fit(mu, d, model, return_fitted_val=True)
        gamma = max(float(c._profile(ours, np.array([s])).b[0]) / b, 1e-10)
        if float(-2 * model.logpdf([mu, gamma], d)[0]) < float(nll_pyhf) - 1e-4:
            return True
    return False


def explained(pyhf, model, data, k: int, mu: float, n: float, b: float, sb: float) -> bool:
    """A difference is pyhf's failure if pyhf's own CLs (curve k) at our limit is 0.05 (its
    root finder was misled by failed fits elsewhere) or its fit at our limit is worse."""
    cls, expected = pyhf.infer.hypotest(mu, data, model, return_expected_set=True)
    value = float(cls) if k == 0 else float(expected[k - 1])
    return abs(value / 0.05 - 1) < 0.01 or pyhf_fit_failed(pyhf, model, data, mu, n, b, sb)


def time_pyhf(n, b, sb, ours) -> dict:
    """Loop pyhf's upper_limit (its default toms748 root finder) over the hypotheses."""
    import pyhf

    pyhf.set_backend("numpy")
    per, diffs, raised, fit_failed = [], [], 0, 0
    for i in range(n.size):
        scale = float(ours[3, i])  # signal template = our median limit: mu ~ 1
        model = pyhf.simplemodels.uncorrelated_background(
            signal=[scale], bkg=[float(b[i])], bkg_uncertainty=[float(sb[i])]
        )
        data = [float(n[i]), *model.config.auxdata]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            try:
                obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(data, model)
                theirs = np.array([float(obs), *(float(e) for e in exp)]) * scale
            except Exception:  # noqa: BLE001 - pyhf's root finder fails on some points
                theirs = None
            per.append(time.perf_counter() - t0)
            if theirs is None or not np.all(np.isfinite(theirs)):
                raised += 1
                continue
            rel = np.abs(ours[:, i] / theirs - 1)
            bad = [
                k
                for k in np.flatnonzero(rel >= 0.01)
                if explained(pyhf, model, data, k, ours[k, i] / scale, n[i], b[i], sb[i])
            ]
            fit_failed += bool(bad)
            keep = np.ones(rel.size, bool)
            keep[bad] = False
            diffs.append(float(rel[keep].max(initial=0.0)))
    return {
        "pyhf_version": pyhf.__version__,
        "points": int(n.size),
        "seconds_per_hypothesis": float(np.mean(per)),
        "pyhf_raised": raised,
        "pyhf_fit_failures": fit_failed,
        "max_rel_diff": max(diffs) if diffs else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--points",
        type=int,
        default=10_000,
        help="hypotheses for the asymptotic limits (default 1e4)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--pyhf-points",
        type=int,
        default=8,
        help="hypotheses timed with pyhf (default 8; 0 skips pyhf)",
    )
    parser.add_argument(
        "--toy-points", type=int, default=1000, help="hypotheses for the toy limits (default 1e3)"
    )
    parser.add_argument("--toys", type=int, default=10_000, help="toys per test (default 1e4)")
    parser.add_argument("--workers", type=int, default=2, help="threads for the toys (default 2)")
    parser.add_argument("--skip-toys", action="store_true", help="skip the toy benchmark")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write the JSON result to this file (atomically)")
    args = parser.parse_args()

    from darkscan.io import atomic_write_json
    from darkscan.stats.counting import upper_limit_asymptotic
    from darkscan.stats.toys import upper_limit_toys

    n, b, sb = hypotheses(args.points, args.seed)
    upper_limit_asymptotic(n[:50], b[:50], sb[:50])  # warm up imports
    t_asym, res = best_of(lambda: upper_limit_asymptotic(n, b, sb, cl=0.95), args.repeat)
    ours = np.array([np.asarray(getattr(res, k), float) for k in KEYS])
    result: dict = {
        "asymptotic": {
            "hypotheses": args.points,
            "seconds": t_asym,
            "goal_seconds": 1.0,
            "ratio_to_goal": t_asym / 1.0 * (1e4 / args.points),
            "per_hypothesis_us": t_asym / args.points * 1e6,
            "status_ok": int(np.sum(res.status == "ok")),
        }
    }
    if args.pyhf_points > 0:
        try:
            k = min(args.pyhf_points, args.points)
            ph = time_pyhf(n[:k], b[:k], sb[:k], ours[:, :k])
            ph["speedup"] = ph["seconds_per_hypothesis"] / (t_asym / args.points)
            ph["speedup_goal"] = 1000.0
            result["pyhf"] = ph
        except ImportError:
            result["pyhf"] = None
    if not args.skip_toys:
        tn, tb, tsb = hypotheses(args.toy_points, args.seed + 1)
        t0, c0 = time.perf_counter(), time.process_time()
        tres = upper_limit_toys(
            tn, tb, tsb, cl=0.95, n_toys=args.toys, seed=args.seed, workers=args.workers
        )
        t_toys = time.perf_counter() - t0
        cpu_toys = time.process_time() - c0  # all threads: robust to other processes
        scale = (1e3 * 1e4) / (args.toy_points * args.toys)
        result["toys"] = {
            "hypotheses": args.toy_points,
            "toys": args.toys,
            "workers": args.workers,
            "seconds": t_toys,
            "cpu_seconds": cpu_toys,
            "goal_seconds": 60.0,
            "ratio_to_goal": t_toys * scale / 60.0,
            "status_ok": int(np.sum(tres.status == "ok")),
            "status_widened": int(np.sum(tres.status == "bracket-widened")),
        }
    if args.out:
        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    a = result["asymptotic"]
    print(
        f"asymptotic CLs + bands, {a['hypotheses']} hypotheses: {a['seconds']:.3f} s "
        f"(best of {args.repeat}, one thread; goal 1 s for 1e4 -> ratio "
        f"{a['ratio_to_goal']:.3f}); {a['per_hypothesis_us']:.1f} us per hypothesis"
    )
    ph = result.get("pyhf")
    if ph:
        diff = "n/a" if ph["max_rel_diff"] is None else f"{ph['max_rel_diff']:.1e}"
        print(
            f"pyhf {ph['pyhf_version']} upper_limit loop on {ph['points']} hypotheses: "
            f"{ph['seconds_per_hypothesis']:.3f} s per hypothesis; speed-up "
            f"{ph['speedup']:.0f}x (goal >= 1000x); max relative difference of the six "
            f"limits {diff} where pyhf's fits converge; pyhf raised on "
            f"{ph['pyhf_raised']}; its fits failed on {ph['pyhf_fit_failures']} (there "
            f"pyhf's own CLs at our limit is 0.05, or its fit is worse than ours)"
        )
    elif "pyhf" in result:
        print("pyhf not installed: no comparison")
    if "toys" in result:
        tt = result["toys"]
        print(
            f"toy CLs + bands, {tt['hypotheses']} hypotheses x {tt['toys']} toys, "
            f"{tt['workers']} threads: {tt['seconds']:.1f} s wall (goal 60 s for 1e3 x 1e4 -> "
            f"ratio {tt['ratio_to_goal']:.2f}); {tt['cpu_seconds']:.1f} CPU-s, i.e. "
            f"{tt['cpu_seconds'] / tt['workers']:.1f} s on {tt['workers']} free cores; ok "
            f"{tt['status_ok']}, widened {tt['status_widened']}"
        )


if __name__ == "__main__":
    main()
