"""Speed of the mediator-physics layer: dark photon widths and branching fractions.

Goal (issue 2): 1e6 (mass, coupling) points in under 1 s on one core, no Python loop.
Prints the wall time (best of --repeat), the ratio to the goal, and the speed-up over a
per-point Python loop through the same API (measured on a subset and scaled).

    python benchmarks/model_widths.py [--points 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-points", type=int, default=2000)
    parser.add_argument("--model", default="dark-photon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="write the JSON result to this file")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from darkscan.io import atomic_write_json
    from darkscan.models import get_model

    rng = np.random.default_rng(args.seed)
    model = get_model(args.model)
    coupling = model.couplings[0].name
    mass = rng.uniform(0.0, 10.0, args.points)
    eps = 10 ** rng.uniform(-6, -2, args.points)

    def vectorised() -> None:
        model.total_width(mass, **{coupling: eps})
        model.branching_fractions(mass, **{coupling: eps})

    vectorised()  # warm up imports and caches
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        widths = model.partial_widths(mass, **{coupling: eps})
        total = np.sum(np.stack(list(widths.values())), axis=0)
        brs = {ch: w / np.where(total > 0, total, 1.0) for ch, w in widths.items()}
        times.append(time.perf_counter() - t0)
    best = min(times)
    # The public API, which validates input and computes widths for BRs and total separately.
    t0 = time.perf_counter()
    vectorised()
    api = time.perf_counter() - t0

    n_loop = min(args.loop_points, args.points)
    t0 = time.perf_counter()
    for i in range(n_loop):
        model.branching_fractions(mass[i], **{coupling: eps[i]})
    loop = (time.perf_counter() - t0) / n_loop * args.points

    result = {
        "model": args.model,
        "points": args.points,
        "widths_and_brs_s": best,
        "api_total_width_plus_brs_s": api,
        "goal_s": 1.0,
        "ratio_to_goal": best / 1.0,
        "python_loop_estimate_s": loop,
        "speedup_vs_loop": loop / best,
        "channels": list(brs),
    }
    if args.out:
        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.model}: partial widths + total + BRs for {args.points:.0e} points")
        print(
            f"  vectorised (best of {args.repeat}): {best:.3f} s -> {best / 1.0:.2f} x the 1 s goal"
        )
        print(f"  public API total_width() + branching_fractions(): {api:.3f} s")
        print(
            f"  per-point Python loop (scaled from {n_loop}): {loop:.1f} s "
            f"-> vectorised is {loop / best:.0f}x faster"
        )


if __name__ == "__main__":
    main()
