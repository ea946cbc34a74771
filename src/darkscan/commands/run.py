"""``darkscan run ANALYSIS``: a whole search from nothing to limits and plots."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a search end to end (generate, simulate, select, scan, limits, plots)",
        description=(
            "Run an analysis: signal and SM backgrounds at the experiment's beams, fast "
            "simulation, selection (Punzi-net with the 'ml' extra, else the best hand-made "
            "cuts), recoil-mass windows, CLs limits with bands, local and global significance, "
            "the coupling interpretation; writes limits.csv, limits.json, summary.json and "
            "plots under --out (atomically). Without --data the observed column is a "
            "background-only pseudo-experiment drawn with --seed."
        ),
    )
    p.add_argument("name", nargs="?", help="analysis name (see --list)")
    p.add_argument("--list", action="store_true", help="list the analyses")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out/)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--lumi", type=float, default=None, help="integrated luminosity [fb^-1]")
    p.add_argument("--model", default=None, help="coupling interpretation (analysis-specific)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="observed events: parquet or ROOT ntuple (Belle II-style branches)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every sample size (e.g. 0.05 for a quick run)",
    )
    net = p.add_mutually_exclusive_group()
    net.add_argument(
        "--net",
        dest="use_net",
        action="store_true",
        default=None,
        help="require the Punzi-net (needs torch)",
    )
    net.add_argument(
        "--no-net",
        dest="use_net",
        action="store_false",
        help="use the hand-made cuts even if torch is installed",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the plots")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from darkscan.analyses import analysis_names, get_analysis

    if args.list:
        entries = []
        for n in analysis_names():
            a = get_analysis(n)
            entries.append(
                {
                    "name": n,
                    "title": a.title,
                    "experiment": a.experiment,
                    "lumi_fb": a.lumi_fb,
                    "reference": a.reference.citation,
                }
            )
        if args.json:
            print(json.dumps(entries, indent=2))
        else:
            for e in entries:
                print(f"{e['name']:24s} {e['title']} [{e['reference']}]")
        return 0
    if not args.name:
        raise ValueError(f"give an analysis name; valid: {analysis_names()}")
    if args.scale <= 0:
        raise ValueError(f"--scale must be > 0, got {args.scale}")
    analysis = get_analysis(args.name)
    from darkscan.analyses.runner import run_analysis

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    result = run_analysis(
        analysis,
        out=args.out,
        seed=args.seed,
        lumi_fb=args.lumi,
        scale=args.scale,
        model=args.model,
        data=args.data,
        use_net=args.use_net,
        progress=not args.json and sys.stderr.isatty(),
        plots=not args.no_plots,
        log=log,
    )
    s = result.summary
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"{s['title']}")
    print(
        f"  {s['lumi_fb']:g} fb^-1, selection: {s['selection']}, model: {s['model']}, "
        f"observed: {s['observed_from']}"
    )
    print(f"  {s['n_mass_points']} mass points ({s['n_failed_points']} failed)")
    print(
        "  expected 90 % CL limits on "
        + s["coupling"]
        + ": "
        + ", ".join(f"{m} GeV: {v:.2g}" for m, v in s["expected_coupling_ul"].items())
    )
    print(f"  published: {s['reference']['summary']}")
    ms = s["most_significant"]
    print(
        f"  largest excess: {ms['mass_gev']:.3f} GeV, local Z = {ms['local_z']:.2f} "
        f"(asymptotic; local p from toys {ms['local_p_toys']:.3g}), global p = "
        f"{ms['global_p']:.3g}, Z = {ms['global_z']:.2f} ({ms['toys']} toys)"
    )
    t = s["timings_s"]
    print(
        f"  wall time {t['total_s']:.1f} s, python peak memory "
        f"{s['python_peak_memory_mb']:.0f} MB; outputs in {result.out}/"
    )
    return 0
