"""Speed of one extended unbinned maximum-likelihood fit (darkscan.stats.fit).

Goal (issue: bump-hunt fits): one fit of 1e5 events, Crystal Ball signal with fixed shape plus
a 3rd-order Chebyshev background (floating signal strength, background yield and the three
background coefficients), in under 0.2 s. The timed call is the public API end to end:
building the cost from the data (validation, basis precomputation) and ``fit`` (iminuit migrad
+ hesse); best of --repeat. Also reported: migrad alone on a prebuilt cost, and one NLL call.

    python benchmarks/fit_unbinned.py [--events 100000] [--repeat 5] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

GOAL_S = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="expected events in the toy")
    parser.add_argument("--repeat", type=int, default=5, help="timings to take the best of")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--signal-fraction", type=float, default=0.05)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write the JSON result to this file")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from iminuit import Minuit

    from darkscan.io import atomic_write_json
    from darkscan.stats import pdfs
    from darkscan.stats.fit import Category, Component, Parameter, UnbinnedNLL, fit, generate

    sig = Component("sig", pdfs.crystalball, {"mu": 5.0, "sigma": 0.02, "alpha": 1.5, "n": 3.0})
    coeffs = {f"c{j}": Parameter(0.0) for j in (1, 2, 3)}
    bkg = Component("bkg", pdfs.chebyshev, coeffs, yield_=Parameter(float(args.events)))
    cat = Category(4.5, 5.5, [bkg], signal=sig)
    ns = args.signal_fraction * args.events
    truth = {
        "mu": ns,
        "cat.bkg.N": args.events - ns,
        "cat.bkg.c1": -0.3,
        "cat.bkg.c2": 0.1,
        "cat.bkg.c3": -0.05,
    }
    x = generate(cat, truth, rng=args.seed)

    def one_fit():
        return fit(UnbinnedNLL(cat, x))

    res = one_fit()  # warm-up (imports, caches)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = one_fit()
        times.append(time.perf_counter() - t0)
    best = min(times)

    cost = UnbinnedNLL(cat, x)
    migrad_times, nfcn = [], 0
    for _ in range(args.repeat):
        m = Minuit(cost, cost.start, name=cost.names)
        m.errors = cost.steps
        t0 = time.perf_counter()
        m.migrad()
        migrad_times.append(time.perf_counter() - t0)
        nfcn = m.nfcn
    p = cost.start
    t0 = time.perf_counter()
    for _ in range(50):
        cost(p)
    per_call = (time.perf_counter() - t0) / 50

    result = {
        "events": int(x.size),
        "model": "crystalball(fixed) + chebyshev(3) with floating yields and coefficients",
        "fit_s": best,
        "fit_times_s": times,
        "goal_s": GOAL_S,
        "ratio_to_goal": best / GOAL_S,
        "migrad_only_s": min(migrad_times),
        "migrad_nfcn": int(nfcn),
        "fit_nfcn": res.nfcn,
        "nll_call_s": per_call,
        "valid": res.valid,
        "values": res.values,
        "errors": res.errors,
        "truth": truth,
    }
    if args.out:
        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"extended unbinned fit, {x.size} events, {result['model']}")
        print(
            f"  build cost + migrad + hesse (best of {args.repeat}): {best:.4f} s "
            f"-> {best / GOAL_S:.2f} x the {GOAL_S} s goal; valid={res.valid}, "
            f"{res.nfcn} NLL calls"
        )
        print(
            f"  migrad alone: {min(migrad_times):.4f} s ({nfcn} calls); one NLL call: "
            f"{per_call * 1e3:.3f} ms"
        )
        print(f"  mu = {res.values['mu']:.1f} +- {res.errors['mu']:.1f} (true {ns:.1f})")


if __name__ == "__main__":
    main()
