"""Speed and memory of the fast detector simulation.

Goal (issue 4): 1e6 events in under 1 s; memory bounded by the chunk size. Builds a synthetic
sample of e+e- -> mu+ mu- gamma events directly (photon energy uniform in 0.05-4 GeV and
isotropic in the CM frame, the mu mu system decaying isotropically, boosted to the lab; no
generator needed), then times ``simulate`` (best of --repeat), prints the ratio to the 1 s
goal, and the working memory traced by ``tracemalloc`` (peak minus the output still held)
for the sample in one slice and in slices (automatic, or --chunk events).

    python benchmarks/detector_speed.py [--events 1000000] [--experiment belle2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time


def build_mumugamma(n_events: int, rng, collider):  # noqa: ANN001, ANN201
    """Synthetic mu+ mu- gamma events in the lab of ``collider`` (flat weights of 1 fb)."""
    import numpy as np

    from darkscan.generators.base import EventBatch, Objects
    from darkscan.physics.constants import M_MUON
    from darkscan.physics.lorentz import boost, four_vector, two_body_decay

    sqrt_s = collider.sqrt_s
    e_gamma = rng.uniform(0.05, 4.0, n_events)
    cos_g = rng.uniform(-1.0, 1.0, n_events)
    phi_g = rng.uniform(0.0, 2.0 * np.pi, n_events)
    sin_g = np.sqrt(1.0 - cos_g**2)
    gamma = four_vector(
        e_gamma, e_gamma * sin_g * np.cos(phi_g), e_gamma * sin_g * np.sin(phi_g), e_gamma * cos_g
    )
    recoil = np.zeros((n_events, 4))
    recoil[:, 0] = sqrt_s - e_gamma
    recoil[:, 1:] = -gamma[:, 1:]
    mu1, mu2 = two_body_decay(
        recoil,
        M_MUON,
        M_MUON,
        rng.uniform(-1.0, 1.0, n_events),
        rng.uniform(0.0, 2.0 * np.pi, n_events),
    )
    beta = collider.boost
    p4 = np.stack([boost(mu1, beta), boost(mu2, beta), boost(gamma, beta)], axis=1)
    pdg = np.tile(np.array([13, -13, 22]), (n_events, 1))
    particles = Objects.from_fixed(
        {"pdg": pdg, "p4": p4, "vertex": np.zeros((n_events, 3, 3))}, n_per_event=3
    )
    return EventBatch(particles, np.ones(n_events), "synthetic mu mu gamma")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--experiment", default="belle2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--chunk", type=int, default=None, help="events per slice (default: automatic)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="threads (default: the CPUs available, <= 4)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write the JSON result to this file")
    args = parser.parse_args()
    if args.events < 1:
        parser.error("--events must be positive")

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np

    from darkscan.colliders import get_collider
    from darkscan.detector.config import get_config
    from darkscan.detector.simulate import simulate
    from darkscan.io import atomic_write_json

    cfg = get_config(args.experiment)
    collider = get_collider(cfg.collider)
    batch = build_mumugamma(args.events, np.random.default_rng(args.seed), collider)
    simulate(batch.select(np.arange(batch.n_events) < 1000), cfg, np.random.default_rng(0))
    from darkscan.detector.simulate import default_workers

    workers = args.workers or default_workers()
    times, cpu, single = [], [], []
    for i in range(args.repeat):
        rng = np.random.default_rng(args.seed + 1 + i)
        t0, c0 = time.perf_counter(), time.process_time()
        reco = simulate(batch, cfg, rng, chunk_events=args.chunk, workers=workers)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        simulate(batch, cfg, rng, chunk_events=args.chunk, workers=1)
        single.append(time.perf_counter() - t0)
    best = min(times)

    result = {
        "experiment": cfg.name,
        "events": args.events,
        "particles": int(batch.particles.offsets[-1]),
        "simulate_s": best,
        "workers": workers,
        "simulate_s_one_thread": min(single),
        "all_runs_s": times,
        "cpu_s": min(cpu),
        "load_average_1min": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "events_per_s": args.events / best,
        "goal_s_per_1e6": 1.0,
        "ratio_to_goal": best / (args.events / 1e6),
        "tracks": int(reco.tracks.offsets[-1]),
        "clusters": int(reco.clusters.offsets[-1]),
        "trigger_rates": {
            k: float(np.mean(v)) for k, v in reco.event.items() if k.startswith("trg_")
        },
    }
    if not args.no_memory:
        import tracemalloc

        working = {}
        for label, chunk in (("one_slice", args.events), ("sliced", args.chunk)):
            tracemalloc.start()
            out = simulate(batch, cfg, np.random.default_rng(args.seed), chunk_events=chunk)
            current, peak = tracemalloc.get_traced_memory()  # current: the output
            tracemalloc.stop()
            working[label] = (peak - current) / 2**20
            del out
        result.update(
            {
                "input_mib": sum(v.nbytes for v in batch.particles.columns.values()) / 2**20,
                "output_mib": current / 2**20,
                "working_mib_one_slice": working["one_slice"],
                "working_mib_sliced": working["sliced"],
                "chunk_events": args.chunk,
            }
        )
    if args.out:
        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{cfg.name}: fast simulation of {args.events:.0e} mu mu gamma events "
            f"({result['particles']} particles)"
        )
        print(
            f"  best of {args.repeat}: {best:.3f} s -> {result['ratio_to_goal']:.2f} x the goal "
            f"(1 s per 1e6 events), {result['events_per_s']:.2e} events/s; CPU {min(cpu):.3f} s, "
            f"load average {result['load_average_1min']:.1f} on {os.cpu_count()} CPUs"
        )
        print(
            f"  threads: {workers} (one thread: {result['simulate_s_one_thread']:.3f} s, "
            f"speed-up {result['simulate_s_one_thread'] / best:.2f})"
        )
        if not args.no_memory:
            chunk = "automatic slices" if args.chunk is None else f"slices of {args.chunk} events"
            print(
                f"  working memory beyond the output ({result['output_mib']:.0f} MiB): "
                f"{result['working_mib_one_slice']:.0f} MiB in one slice, "
                f"{result['working_mib_sliced']:.1f} MiB in {chunk}"
            )


if __name__ == "__main__":
    main()
