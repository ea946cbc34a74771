"""Speed of darkscan's own event generators: weighted events per second on one core.

Goal (issue 4): darkscan's 2- and 3-body generators with matrix-element weights and ISR make
at least 1e6 events/s per core. Every process in :data:`PROCESSES` is generated ``--events``
at a time (best of ``--repeat``), single-threaded (OMP / BLAS threads pinned to 1), with the
full event record (CSR particles, weights, truth). Prints the rate from the wall time and from
the process CPU time (the two agree on an idle machine; on a shared one the CPU-time rate is
the per-core figure) and its ratio to the goal (>= 1 meets it).

    python benchmarks/generators_speed.py [--events 1000000] [--repeat 3] [--only alp] [--json]

To benchmark another generator, append an entry to PROCESSES: a label, the registry name of
the process (``darkscan.generators.get_process``) and its parameters.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

#: Goal: events per second per core.
GOAL_EVENTS_PER_S = 1e6

#: The benchmarked processes (label, registry name, parameters); append yours here.
PROCESSES: list[dict[str, Any]] = [
    {
        "label": "e+e- -> gamma A'(invisible), ISR",
        "process": "ee-gamma-aprime",
        "params": {"mass": 1.0, "eps": 1e-3},
    },
    {
        "label": "e+e- -> gamma A'(-> mu mu, displaced), ISR",
        "process": "ee-gamma-aprime",
        "params": {"mass": 1.0, "eps": 1e-3, "decay": "visible", "channel": "mu+mu-"},
    },
    {
        "label": "e+e- -> gamma a(-> gamma gamma), ISR",
        "process": "ee-gamma-alp",
        "params": {"mass": 1.0, "g_agg": 1e-3},
    },
    {
        "label": "e+e- -> A'(-> mu mu) h'(invisible), ISR",
        "process": "ee-aprime-hprime",
        "params": {"m_aprime": 4.0, "m_hprime": 1.0, "eps": 1e-3, "alpha_d": 0.5},
    },
    {
        "label": "e+e- -> mu mu Z'(invisible), ISR, mu in 17-150",
        "process": "ee-mumu-zprime",
        "params": {"mass": 1.0, "g_prime": 1e-2},
    },
    {
        "label": "e+e- -> mu mu Z'(invisible), ISR, no cut",
        "process": "ee-mumu-zprime",
        "params": {"mass": 1.0, "g_prime": 1e-2, "muon_theta_lab_deg": None},
    },
    # SM QED backgrounds (darkscan.generators.qed)
    {"label": "QED mu mu, Born x VP", "process": "ee-mumu", "params": {"radiation": "born"}},
    {
        "label": "QED mu mu (gamma), SF ISR x Born",
        "process": "ee-mumu",
        "params": {"radiation": "isr"},
    },
    {
        "label": "QED mu mu (2 gamma), per-beam SF ISR",
        "process": "ee-mumu",
        "params": {"radiation": "isr2"},
    },
    {
        "label": "QED mu mu (gamma), exact O(alpha) ME",
        "process": "ee-mumu",
        "params": {"radiation": "exact"},
    },
    {
        "label": "QED tau tau (gamma), SF ISR, taus",
        "process": "ee-tautau",
        "params": {"radiation": "isr", "decay": False},
    },
    {
        "label": "QED tau tau (gamma), exact, taus",
        "process": "ee-tautau",
        "params": {"radiation": "exact", "decay": False},
    },
    {
        "label": "QED tau tau (gamma), exact + tau decays",
        "process": "ee-tautau",
        "params": {"radiation": "exact"},
    },
    {"label": "QED gamma gamma (gamma), 10-170, SF ISR", "process": "ee-gammagamma", "params": {}},
    {"label": "QED e+e- (gamma), 10-170, SF ISR", "process": "ee-bhabha", "params": {}},
    # four-body two-photon / four-lepton backgrounds: outside the 2-/3-body goal ("goal":
    # False), at most "max_events" per call; "events" counts sampled phase-space points
    {"label": "ee mu mu, exact ME, W > 0.5", "process": "ee-eemumu", "params": {}, "goal": False},
    {
        "label": "ee mu mu, EPA, W > 0.5",
        "process": "ee-eemumu",
        "params": {"matrix_element": "epa"},
        "goal": False,
    },
    {
        "label": "ee mu mu, exact, flagship region (biased)",
        "process": "ee-eemumu",
        "params": {
            "electrons_lost_theta_deg": (17.0, 150.0),
            "lepton_theta_deg": (17.0, 150.0),
            "lepton_min_pt": 0.4,
        },
        "goal": False,
    },
    {
        "label": "ee ee, exact ME, all m(ee) > 0.5",
        "process": "ee-eeee",
        "params": {},
        "goal": False,
    },
    {
        "label": "mu mu mu mu, exact ME (12 graphs)",
        "process": "ee-mumumumu",
        "params": {},
        "goal": False,
        "max_events": 100_000,
    },
]


def bench_one(entry: dict[str, Any], n: int, repeat: int, seed: int, collider) -> dict[str, Any]:
    from darkscan.generators import get_process

    proc = get_process(entry["process"], **entry["params"])
    n = min(n, entry.get("max_events", n))
    rng = np.random.default_rng(seed)
    proc.generate(min(n, 10_000), rng, collider)  # warm up imports and caches
    walls, cpus = [], []
    batch = None
    for _ in range(repeat):
        del batch  # free the previous batch before timing the next one
        w0, c0 = time.perf_counter(), time.process_time()
        batch = proc.generate(n, rng, collider)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    wall, cpu = min(walls), min(cpus)
    return {
        "label": entry["label"],
        "process": entry["process"],
        "params": entry["params"],
        "events": n,
        "particles_per_event": batch.particles.offsets[-1] / max(n, 1),
        "cross_section_fb": batch.cross_section_fb,
        "wall_s": wall,
        "cpu_s": cpu,
        "events_per_s_wall": n / wall,
        "events_per_s_cpu": n / cpu,
        "ratio_to_goal_wall": n / wall / GOAL_EVENTS_PER_S,
        "ratio_to_goal_cpu": n / cpu / GOAL_EVENTS_PER_S,
        "goal": entry.get("goal", True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per generate call")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per process (best)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--collider", default="belle2")
    parser.add_argument("--only", help="benchmark only the processes whose label or name has this")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write the JSON result to this file")
    args = parser.parse_args()
    if args.events <= 0 or args.repeat <= 0:
        parser.error("--events and --repeat must be positive")

    from darkscan.colliders import get_collider
    from darkscan.io import atomic_write_json

    collider = get_collider(args.collider)
    chosen = [
        e
        for e in PROCESSES
        if args.only is None or args.only in e["label"] or args.only in e["process"]
    ]
    if not chosen:
        parser.error(f"--only {args.only!r} matches none of {[e['label'] for e in PROCESSES]}")
    results = [bench_one(e, args.events, args.repeat, args.seed, collider) for e in chosen]
    summary = {
        "goal_events_per_s": GOAL_EVENTS_PER_S,
        "collider": collider.name,
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "results": results,
        "all_meet_goal_cpu": all(r["ratio_to_goal_cpu"] >= 1 for r in results if r["goal"]),
    }
    if args.out:
        atomic_write_json(args.out, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"generators at {collider.name}: {args.events:.0e} weighted events per call, "
        f"best of {args.repeat}, one thread (goal {GOAL_EVENTS_PER_S:.0e} events/s per core)"
    )
    for r in results:
        print(
            f"  {r['label']:45s} {r['events_per_s_cpu']:10.3g} ev/s (cpu) "
            f"-> {r['ratio_to_goal_cpu']:5.2f} x goal | {r['events_per_s_wall']:10.3g} ev/s "
            f"(wall) -> {r['ratio_to_goal_wall']:5.2f} x"
        )
    if summary["load_average"] is not None:
        print(
            f"  (load average {summary['load_average'][0]:.1f}: wall rates suffer on a busy host)"
        )


if __name__ == "__main__":
    main()
