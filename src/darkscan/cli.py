"""The ``darkscan`` command: one sub-command per verb.

``darkscan model NAME --mass ... --COUPLING ...`` tabulates a mediator model (widths, branching
fractions, c tau, production cross section); ``darkscan model --list`` lists the models.
Every sub-command takes ``--json`` (machine-readable output on stdout), ``--out FILE``
(written atomically) and ``--seed`` (recorded; commands that draw random numbers use it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darkscan import __version__
from darkscan.commands import generate as _generate
from darkscan.commands import limit as _limit
from darkscan.commands import run as _run


def _coupling_option_names() -> list[str]:
    """Every coupling name of every registered model (each becomes a ``--name`` option)."""
    from darkscan.models import get_model, model_names

    names: list[str] = []
    for m in model_names():
        try:
            model = get_model(m)
        except ImportError:  # pragma: no cover - a model module failing to import
            continue
        for c in model.couplings:
            if c.name not in names:
                names.append(c.name)
    return names


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON to stdout")
    p.add_argument("--out", type=Path, help="also write the result to this file (atomically)")
    p.add_argument("--seed", type=int, default=0, help="random seed (recorded for provenance)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="darkscan",
        description="Dark-sector searches at e+e- B-factories (Belle II, Belle, BaBar).",
    )
    parser.add_argument("--version", action="version", version=f"darkscan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    pm = sub.add_parser(
        "model",
        help="widths, branching fractions, c tau and production of a mediator model",
        description=(
            "Tabulate a mediator model over masses and couplings. Masses and couplings take a "
            "comma list (0.5,1,2) or a grid start:stop:n[:log]; several values give every "
            "combination. sigma_fb is the tree-level e+e- production cross section at the "
            "collider's sqrt(s) with the photon (first particle) inside the calorimeter."
        ),
    )
    pm.add_argument("name", nargs="?", help="model name (see --list)")
    pm.add_argument("--list", action="store_true", help="list the models and their couplings")
    pm.add_argument("--mass", default=None, help="mediator mass(es) [GeV]")
    pm.add_argument(
        "--collider", default="belle2", help="collider for sigma_fb: belle2 (default), belle, babar"
    )
    pm.add_argument("--process", default=None, help="production process (default: the first)")
    pm.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="fixed model parameter, e.g. --set m_chi=0.1 or --set benchmark=fully-invisible",
    )
    pm.add_argument("--plot", type=Path, help="draw branching fractions against mass to FILE.png")
    for name in _coupling_option_names():
        pm.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"coupling_{name}",
            default=None,
            help=f"coupling {name} (value, list or grid)",
        )
    _add_common(pm)
    _limit.add_parser(sub)
    _generate.add_parser(sub)
    _run.add_parser(sub)
    return parser


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ValueError(f"--set expects PARAM=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), float(value)
    except ValueError:
        return key.strip(), value.strip()


def _cmd_model(args: argparse.Namespace) -> int:
    from darkscan.colliders import get_collider
    from darkscan.io import atomic_write_csv, atomic_write_json
    from darkscan.models import get_model, list_models
    from darkscan.models.table import flatten_row, model_table, parse_values

    if args.list:
        entries = list_models()
        if args.json:
            print(json.dumps(entries, indent=2))
        else:
            from rich.table import Table

            table = Table(title="darkscan models")
            for col in ("name", "mediator", "couplings", "channels", "production"):
                table.add_column(col)
            for e in entries:
                table.add_row(
                    e["name"],
                    e["mediator"],
                    ", ".join(f"{c['name']} [{c['unit']}]" for c in e["couplings"]),
                    ", ".join(e["channels"]),
                    ", ".join(e["productions"] + e["b_decays"]),
                )
            _console().print(table)
        if args.out:
            atomic_write_json(args.out, entries)
        return 0
    if not args.name:
        raise ValueError("give a model name (darkscan model --list shows them)")
    params = dict(_parse_param(t) for t in args.set)
    model = get_model(args.name, **params)
    collider = get_collider(args.collider)
    if args.mass is None:
        raise ValueError("--mass is required (e.g. --mass 0.5,1,2 or --mass 0.1:8:50)")
    masses = parse_values(args.mass, "--mass")
    given = {
        k[len("coupling_") :]: v
        for k, v in vars(args).items()
        if k.startswith("coupling_") and v is not None
    }
    unknown = sorted(set(given) - set(model.coupling_names))
    if unknown:
        raise ValueError(
            f"coupling(s) {unknown} do not belong to model '{model.name}'; "
            f"valid: {list(model.coupling_names)}"
        )
    couplings = {n: parse_values(v, f"--{n.replace('_', '-')}") for n, v in given.items()}
    rows = model_table(model, masses, couplings, collider, process=args.process)
    if args.json:
        for r in rows:
            r.pop("partial_widths", None)
        print(json.dumps(rows, indent=2))
    else:
        _print_model_table(model, rows)
    if args.out:
        if args.out.suffix == ".json":
            atomic_write_json(args.out, rows)
        else:
            flat = [flatten_row(r) for r in rows]
            atomic_write_csv(args.out, flat, list(flat[0]))
    if args.plot:
        from darkscan.plots import plot_branching_fractions

        plot_branching_fractions(model, masses, {n: v[0] for n, v in couplings.items()}, args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return 0


def _console():
    from rich.console import Console

    # Piped output gets a wide console so no column is cut.
    return Console() if sys.stdout.isatty() else Console(width=240)


def _print_model_table(model: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    coupling_names = list(rows[0]["couplings"]) if rows else []
    proc = rows[0]["process"] if rows else None
    title = f"{model.name} ({model.mediator})"
    if proc:
        title += f": sigma({proc}) at {rows[0]['collider']}, sqrt(s) = {rows[0]['sqrt_s']:.3f} GeV"
    table = Table(title=title)
    table.add_column("mass \\[GeV]", justify="right")
    for n in coupling_names:
        table.add_column(n, justify="right")
    table.add_column("Gamma \\[GeV]", justify="right")
    table.add_column("c tau \\[cm]", justify="right")
    for ch in model.channels:
        table.add_column(f"BR {ch}", justify="right")
    if proc:
        table.add_column("sigma \\[fb]", justify="right")
    for r in rows:
        cells = [f"{r['mass']:.4g}"] + [f"{r['couplings'][n]:.3g}" for n in coupling_names]
        cells += [f"{r['total_width']:.4g}", f"{r['ctau_cm']:.4g}"]
        cells += [f"{r['br'][ch]:.4f}" for ch in model.channels]
        if proc:
            cells.append(f"{r['sigma_fb']:.4g}")
        table.add_row(*cells)
    _console().print(table)
    if rows and "br_production" in rows[0]:
        for r in rows:
            prods = ", ".join(f"BR({k}) = {v:.3g}" for k, v in r["br_production"].items())
            print(f"m = {r['mass']:.4g} GeV: {prods}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {
        "model": _cmd_model,
        "limit": _limit.run,
        "generate": _generate.run,
        "run": _run.run,
    }
    try:
        return handlers[args.command](args)
    except ValueError as exc:
        print(f"darkscan {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
