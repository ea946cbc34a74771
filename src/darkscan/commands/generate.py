"""``darkscan generate``: weighted events of a process at an experiment, written to a file.

``darkscan generate PROCESS --experiment belle2 --events N --out FILE`` generates N events in
chunks of ``--chunk-size``, each chunk with its own random stream spawned from ``--seed``
(``numpy.random.SeedSequence(seed).spawn``: the same seed and chunk size give the same bits),
and streams them into FILE (``.parquet``, or ``.root`` with Belle II-style branch names, see
:mod:`darkscan.events`) through an atomic writer: memory is bounded by the chunk size and a
failed or interrupted run leaves no file. With ``--simulate`` the fast detector simulation
runs on each chunk and the file holds the reconstructed events plus the generator truth.
``darkscan generate --list`` lists the processes.

The summary gives the events, the cross section they estimate (sum of weights [fb], with its
Monte Carlo error sqrt(sum w^2 - (sum w)^2 / N)), the effective luminosity
(sum w / sum w^2 [fb^-1]) and, with ``--lumi``, the expected yield at that luminosity.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from darkscan.events import DEFAULT_CHUNK_SIZE, SUFFIXES, EventFileError, EventWriter


def add_parser(subparsers: Any) -> None:
    """Register ``darkscan generate`` on the top-level sub-parsers."""
    p = subparsers.add_parser(
        "generate",
        help="generate weighted events of a process into a parquet or ROOT file",
        description=(
            "Generate N weighted events of PROCESS at an experiment's beams and write them "
            "(in chunks, memory bounded by --chunk-size) to --out: .parquet (default format) or "
            ".root (uproot, Belle II-style branch names). Each chunk draws from its own random "
            "stream spawned from --seed, so the same seed and chunk size give the same events. "
            "The file is written atomically: a failed run leaves nothing behind."
        ),
    )
    p.add_argument("process", nargs="?", help="process name (see --list)")
    p.add_argument("--list", action="store_true", help="list the processes")
    p.add_argument(
        "--experiment", default="belle2", help="belle2 (default), belle or babar: sets the beams"
    )
    p.add_argument("--events", type=int, default=None, help="number of events to generate")
    p.add_argument("--out", type=Path, help="output file (.parquet or .root)")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"events per chunk (default {DEFAULT_CHUNK_SIZE}); bounds the memory",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="process parameter, e.g. --param mass=1.0 --param eps=1e-3 (repeatable)",
    )
    p.add_argument(
        "--simulate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="run the fast detector simulation and write reconstructed events (+ truth)",
    )
    p.add_argument(
        "--lumi", type=float, default=None, help="luminosity [fb^-1] to quote the yield for"
    )
    p.add_argument(
        "--beam-spread",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="give every event its own beam energies (the collider's beam-energy spread)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON to stdout")


# ---------------------------------------------------------------------------------------------


def process_list() -> list[dict[str, Any]]:
    """Every registered process with its description; ``available`` is False (and ``error``
    says why) where its module cannot be imported in this build."""
    import darkscan.generators as gen

    registry: Mapping[str, tuple[str, str, dict[str, Any]]] = getattr(gen, "_REGISTRY", {})
    out = []
    for name in gen.process_names():
        entry: dict[str, Any] = {"name": name, "available": False, "description": ""}
        module, cls, _defaults = registry.get(name, ("", "", {}))
        try:
            klass = getattr(importlib.import_module(module), cls)
            entry["available"] = True
            entry["description"] = str(getattr(klass, "description", "") or "")
        except (ImportError, AttributeError, ValueError) as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


def parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` -> (name, int | float | bool | str)."""
    if "=" not in text:
        raise ValueError(f"--param expects NAME=VALUE, got {text!r}")
    key, value = (s.strip() for s in text.split("=", 1))
    if not key:
        raise ValueError(f"--param expects NAME=VALUE, got {text!r}")
    for conv in (int, float):
        try:
            return key, conv(value)
        except ValueError:
            pass
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    return key, value


def get_experiment(name: str) -> Any:
    """The collider of an experiment, with an error listing the valid names."""
    from darkscan.colliders import COLLIDERS, get_collider

    try:
        return get_collider(name)
    except ValueError:
        raise ValueError(f"unknown experiment '{name}'; valid: {list(COLLIDERS)}") from None


def load_simulator() -> tuple[Callable[..., Any] | None, str]:
    """The fast simulation ``darkscan.detector.simulate.simulate`` or (None, why not)."""
    try:
        module = importlib.import_module("darkscan.detector.simulate")
        return module.simulate, ""
    except (ImportError, AttributeError) as exc:
        return None, f"the detector simulation is not available in this build ({exc})"


def _call_simulate(simulate: Callable[..., Any], batch: Any, collider: Any, rng: Any) -> Any:
    """Call ``simulate(batch, ...)`` passing the collider / experiment and rng by the names its
    signature uses."""
    kwargs: dict[str, Any] = {}
    for name in list(inspect.signature(simulate).parameters)[1:]:
        if name in ("rng", "random", "generator"):
            kwargs[name] = rng
        elif name == "collider":
            kwargs[name] = collider
        elif name in ("experiment", "detector", "config"):
            kwargs[name] = collider.name
    return simulate(batch, **kwargs)


def generate_to_file(
    process: Any,
    collider: Any,
    n_events: int,
    path: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    seed: int = 0,
    simulate: Callable[..., Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    beam_spread: bool = False,
) -> dict[str, Any]:
    """Generate ``n_events`` of ``process`` at ``collider`` in chunks and stream them to
    ``path`` (atomically). Returns the file's provenance (totals included).

    Chunk k draws from ``default_rng`` of the k-th child of ``SeedSequence(seed)`` (the
    generator from its first grandchild, the detector simulation, if given, from its second):
    the same (seed, chunk_size) gives the same events. Each chunk of n events comes from
    ``process.generate(n, ...)``, whose weights estimate the cross section on their own; they
    are scaled by n / n_events so that the sum over the whole file estimates it (fb per event,
    as everywhere). ``beam_spread``: every event gets its own beam energies
    (:func:`darkscan.generators.beam.apply_beam_energy_spread`, drawn from the chunk's third
    grandchild)."""
    if not isinstance(n_events, int | np.integer) or n_events < 0:
        raise ValueError(f"the number of events must be a non-negative integer, got {n_events}")
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"the chunk size must be a positive integer, got {chunk_size}")
    root = np.random.SeedSequence(seed)
    n_chunks = max(1, math.ceil(n_events / chunk_size))
    with EventWriter(path, meta=meta) as out:
        done = 0
        for _ in range(n_chunks):
            (child,) = root.spawn(1)  # stateful: chunk k gets the k-th child
            gen_seq, sim_seq, beam_seq = child.spawn(3)
            n = min(chunk_size, n_events - done)
            batch = process.generate(n, np.random.default_rng(gen_seq), collider)
            if batch.n_events != n:
                name = getattr(process, "name", type(process).__name__)
                raise ValueError(f"process '{name}' returned {batch.n_events} events, {n} asked")
            if beam_spread:
                from darkscan.generators.beam import apply_beam_energy_spread

                batch = apply_beam_energy_spread(batch, collider, np.random.default_rng(beam_seq))
            if n != n_events:  # a chunk's weights estimate sigma alone: rescale to the sample
                batch = dataclasses.replace(batch, weight=batch.weight * (n / n_events))
            if simulate is None:
                out.write(batch)
            else:
                reco = _call_simulate(simulate, batch, collider, np.random.default_rng(sim_seq))
                out.write(reco, batch if reco.n_events == batch.n_events else None)
            done += n
            if progress is not None:
                progress(n)
        info = out.provenance()
    info["file"] = str(path)
    return info


# ---------------------------------------------------------------------------------------------


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream) if stream.isatty() else Console(file=stream, width=200)


def _cmd_list(args: argparse.Namespace) -> int:
    entries = process_list()
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="darkscan processes")
    table.add_column("name")
    table.add_column("available")
    table.add_column("description")
    for e in entries:
        about = escape(e["description"] if e["available"] else e.get("error", ""))
        table.add_row(e["name"], "yes" if e["available"] else "no", about)
    _console().print(table)
    return 0


def _check_existing(out: Path, overwrite: bool) -> None:
    if not out.exists() or overwrite:
        return
    from darkscan.events import check_event_file

    try:
        meta = check_event_file(out)
    except (EventFileError, ValueError) as exc:
        raise ValueError(
            f"--out {out} exists and is not a readable event file (corrupt or truncated, e.g. "
            f"by an interrupted earlier run): {exc}. Remove it or pass --overwrite"
        ) from None
    what = f"{meta.get('n_events', '?')} events of '{meta.get('process', '?')}'"
    raise ValueError(f"--out {out} exists ({what}); pass --overwrite to replace it")


def run(args: argparse.Namespace) -> int:
    """The ``darkscan generate`` handler."""
    if args.list:
        return _cmd_list(args)
    if not args.process:
        raise ValueError("give a process name (darkscan generate --list shows them)")
    if args.events is None:
        raise ValueError("--events N is required")
    if args.events < 0:
        raise ValueError(f"--events must be >= 0, got {args.events}")
    if args.chunk_size < 1:
        raise ValueError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    if args.out is None:
        raise ValueError("--out FILE is required (.parquet or .root)")
    if args.out.suffix.lower() not in SUFFIXES:
        raise ValueError(f"--out {args.out}: unknown format; valid suffixes: {sorted(SUFFIXES)}")
    if args.lumi is not None and not (args.lumi >= 0 and math.isfinite(args.lumi)):
        raise ValueError(f"--lumi must be a finite luminosity >= 0 [fb^-1], got {args.lumi}")
    from darkscan.generators import get_process

    collider = get_experiment(args.experiment)
    params = dict(parse_param(t) for t in args.param)
    process = get_process(args.process, **params)
    _check_existing(args.out, args.overwrite)

    simulate = None
    if args.simulate:
        simulate, why = load_simulator()
        if simulate is None:
            print(
                f"darkscan generate: note: {why}; writing generator-level events", file=sys.stderr
            )
    meta = {
        "process": args.process,
        "generator": f"darkscan:{type(process).__module__}.{type(process).__name__}",
        "parameters": params,
        "seed": args.seed,
        "chunk_size": args.chunk_size,
        "experiment": collider.name,
        "collider": collider.experiment,
        "sqrt_s": collider.sqrt_s,
        "e_minus": collider.e_minus,
        "e_plus": collider.e_plus,
        "lumi_fb": args.lumi,
        "simulated": simulate is not None,
    }
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} events"),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        transient=True,
        disable=args.json,
    ) as bar:
        task = bar.add_task(f"{args.process} @ {collider.name}", total=args.events)
        info = generate_to_file(
            process,
            collider,
            args.events,
            args.out,
            chunk_size=args.chunk_size,
            seed=args.seed,
            simulate=simulate,
            meta=meta,
            progress=lambda n: bar.advance(task, n),
            beam_spread=args.beam_spread,
        )
    seconds = time.perf_counter() - t0
    summary = {
        "file": str(args.out),
        "process": args.process,
        "experiment": collider.name,
        "level": info["level"],
        "n_events": info["n_events"],
        "n_chunks": info["n_chunks"],
        "seed": args.seed,
        "cross_section_fb": info["cross_section_fb"],
        "cross_section_err_fb": _mc_error(info),
        "effective_lumi_fb": info["effective_lumi_fb"],
        "lumi_fb": args.lumi,
        "expected_events": None if args.lumi is None else args.lumi * info["cross_section_fb"],
        "seconds": seconds,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    return 0


def _mc_error(info: Mapping[str, Any]) -> float:
    """Monte Carlo error of the cross section [fb]: sqrt(sum w^2 - (sum w)^2 / N)."""
    n = info["n_events"]
    if n < 2:
        return 0.0
    var = info["sum_w2_fb2"] - info["cross_section_fb"] ** 2 / n
    return math.sqrt(max(var, 0.0))


def _print_summary(s: Mapping[str, Any]) -> None:
    chunks = f"{s['n_chunks']} chunk" + ("s" if s["n_chunks"] != 1 else "")
    lines = [
        f"wrote {s['n_events']:,} {s['level']}-level events of {s['process']} at "
        f"{s['experiment']} to {s['file']} ({chunks}, {s['seconds']:.1f} s)",
        f"cross section: {s['cross_section_fb']:.6g} +- {s['cross_section_err_fb']:.3g} fb",
        f"effective luminosity: {s['effective_lumi_fb']:.6g} fb^-1",
    ]
    if s["lumi_fb"] is not None:
        lines.append(f"expected events at {s['lumi_fb']:g} fb^-1: {s['expected_events']:.6g}")
    print("\n".join(lines))
