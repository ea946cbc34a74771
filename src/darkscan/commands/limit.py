"""``darkscan limit counting``: upper limits with expected bands for counting experiments.

One hypothesis from the options, or many from a CSV / parquet file (``--input``) with the
columns ``n_obs``, ``bkg``, ``bkg_unc`` and optionally ``eff``, ``eff_unc`` (other columns,
such as a mass, are carried through to the output). Limits are on the signal strength
``mu`` with ``mu * eff`` expected signal events: events of signal for ``eff = 1``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("cls", "cls-asymptotic", "clsb", "cls-exact", "cls-toys", "clsb-toys", "bayes", "fc")
#: Below this expected background ``--method cls`` uses the exact classical CLs.
CLS_EXACT_BELOW_BKG = 10.0
_METHOD_TITLES = {
    "cls": f"CLs (exact Poisson for bkg < {CLS_EXACT_BELOW_BKG:g}, else asymptotic q~_mu)",
    "cls-asymptotic": "CLs (asymptotic, q~_mu)",
    "clsb": "CLs+b (asymptotic, q~_mu)",
    "cls-exact": "CLs (classical, exact Poisson)",
    "cls-toys": "CLs (toys, q~_mu)",
    "clsb-toys": "CLs+b (toys, q~_mu)",
    "bayes": "Bayesian (flat prior)",
    "fc": "Feldman-Cousins",
}
RESULT_KEYS = (
    "observed",
    "expected_median",
    "expected_minus1",
    "expected_plus1",
    "expected_minus2",
    "expected_plus2",
)
INPUT_COLUMNS = ("n_obs", "bkg", "bkg_unc", "eff", "eff_unc")
REQUIRED_COLUMNS = ("n_obs", "bkg", "bkg_unc")


def add_parser(subparsers: Any) -> None:
    """Register ``darkscan limit`` (and its ``counting`` kind) on the top-level sub-parsers."""
    p = subparsers.add_parser(
        "limit",
        help="upper limits with expected bands (CLs, toys, Bayesian, Feldman-Cousins)",
        description="Upper limits with expected +-1, +-2 sigma bands.",
    )
    kinds = p.add_subparsers(dest="limit_kind", metavar="KIND", required=True)
    pc = kinds.add_parser(
        "counting",
        help="counting experiments: n observed events over an expected background",
        description=(
            "Upper limits on the signal strength mu of counting experiments (signal = mu x eff "
            "events; events of signal for --eff 1, a cross section in fb for --eff = "
            "efficiency x luminosity in fb^-1). Methods: cls / clsb - asymptotic CLs / CLs+b "
            "with q~_mu (Cowan et al. 2011, the pyhf convention); cls-exact - classical CLs on "
            "the count (exact Poisson, uncertainties averaged over their priors); cls-toys / "
            "clsb-toys - with pseudo-experiments; bayes - flat prior in mu; fc - "
            "Feldman-Cousins (two-sided: a lower end too). Many hypotheses at once with "
            "--input FILE (CSV or parquet with columns n_obs, bkg, bkg_unc and optionally eff, "
            "eff_unc; other columns are carried through)."
        ),
    )
    pc.add_argument("--n-obs", type=float, help="observed events (weighted counts allowed)")
    pc.add_argument("--bkg", type=float, help="expected background events")
    pc.add_argument(
        "--bkg-unc",
        type=float,
        default=0.0,
        help="absolute uncertainty of the background (default 0)",
    )
    pc.add_argument(
        "--eff",
        type=float,
        default=1.0,
        help="signal events per unit mu: efficiency (x luminosity) (default 1)",
    )
    pc.add_argument(
        "--eff-unc", type=float, default=0.0, help="absolute uncertainty of --eff (default 0)"
    )
    pc.add_argument("--cl", type=float, default=0.95, help="confidence level (default 0.95)")
    pc.add_argument(
        "--method",
        choices=METHODS,
        default="cls",
        help="statistical method (default cls: asymptotic CLs)",
    )
    pc.add_argument(
        "--constraint",
        choices=("poisson", "gaussian", "lognormal"),
        default="poisson",
        help=(
            "background constraint: poisson (auxiliary count, pyhf's uncorrelated_background; "
            "default), gaussian (truncated at 0) or lognormal. bayes uses a truncated "
            "Gaussian prior for poisson and gaussian; fc has its own treatment"
        ),
    )
    pc.add_argument(
        "--eff-constraint",
        choices=("gaussian", "lognormal"),
        default="gaussian",
        help="efficiency constraint (default gaussian, truncated at 0)",
    )
    pc.add_argument(
        "--toys",
        type=int,
        default=10_000,
        help="pseudo-experiments per hypothesis test for *-toys (default 10000)",
    )
    pc.add_argument(
        "--workers", type=int, default=None, help="threads for *-toys (default: all cores)"
    )
    pc.add_argument("--input", type=Path, help="CSV or parquet file of hypotheses")
    pc.add_argument("--json", action="store_true", help="print machine-readable JSON to stdout")
    pc.add_argument(
        "--out",
        type=Path,
        help="also write the result to this file (atomically; .json, .parquet or CSV)",
    )
    pc.add_argument(
        "--seed", type=int, default=0, help="random seed of the toys (recorded for provenance)"
    )


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------
def _check_value(where: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{where}: must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{where}: must be >= 0, got {value:g}")
    return value


def _from_options(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], list[dict]]:
    if args.n_obs is None or args.bkg is None:
        raise ValueError("give --n-obs and --bkg (or --input FILE)")
    cols = {}
    for name in INPUT_COLUMNS:
        opt = "--" + name.replace("_", "-")
        cols[name] = np.array([_check_value(opt, float(getattr(args, name)))])
    return cols, [{}]


def _read_table(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows (dicts) of a CSV or parquet file."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
            msg = f"{path}: reading parquet needs pyarrow (pip install pyarrow)"
            raise ValueError(msg) from exc
        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure is a bad input file
            raise ValueError(f"{path}: not a readable parquet file ({exc})") from exc
        return list(table.column_names), table.to_pylist()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text (CSV) file") from exc
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: empty file (a header line n_obs,bkg,bkg_unc is needed)")
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    names = [n.strip() for n in (reader.fieldnames or [])]
    rows = [{(k or "").strip(): v for k, v in r.items()} for r in reader]
    return names, rows


def _from_file(path: Path, args: argparse.Namespace) -> tuple[dict[str, np.ndarray], list[dict]]:
    names, rows = _read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)} "
            f"(have: {', '.join(names) or 'none'}; need n_obs, bkg, bkg_unc; optional eff, "
            "eff_unc)"
        )
    if not rows:
        raise ValueError(f"{path}: no data rows")
    cols: dict[str, list[float]] = {c: [] for c in INPUT_COLUMNS}
    extras: list[dict] = []
    defaults = {"eff": float(args.eff), "eff_unc": float(args.eff_unc)}
    for i, row in enumerate(rows, start=1):
        for c in INPUT_COLUMNS:
            raw = row.get(c) if c in names else None
            if raw is None and c in defaults:
                val = defaults[c]
            else:
                where = f"{path}: row {i}, column '{c}'"
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    raise ValueError(f"{where}: empty value")
                try:
                    val = float(raw)
                except (TypeError, ValueError):
                    raise ValueError(f"{where}: {raw!r} is not a number") from None
                _check_value(where, val)
            cols[c].append(val)
        extras.append({k: _plain(v) for k, v in row.items() if k not in INPUT_COLUMNS and k})
    return {c: np.asarray(v, float) for c, v in cols.items()}, extras


def _plain(v: Any) -> Any:
    """CSV strings that are numbers become numbers (a mass column stays numeric)."""
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return v
        return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
    return v


# --------------------------------------------------------------------------------------------
# computation
# --------------------------------------------------------------------------------------------
def _compute(cols: dict[str, np.ndarray], args: argparse.Namespace):
    n, b, sb, e, se = (cols[c] for c in INPUT_COLUMNS)
    method, cl = args.method, float(args.cl)
    if not 0.0 < cl < 1.0:
        raise ValueError(f"--cl must be in (0, 1), got {args.cl}")
    if method in ("cls", "cls-asymptotic", "clsb"):
        from darkscan.stats.counting import upper_limit_asymptotic, upper_limit_exact

        asym = upper_limit_asymptotic(
            n,
            b,
            sb,
            e,
            se,
            cl,
            constraint=args.constraint,
            eff_constraint=args.eff_constraint,
            method="clsb" if method == "clsb" else "cls",
        )
        small = np.asarray(b, float) < CLS_EXACT_BELOW_BKG
        if method != "cls" or not np.any(small):
            return asym
        # few events: the asymptotic formulae fail (1.35 instead of ln 10 = 2.303 events at
        # n = b = 0, 90 % CL); use the classical CLs there
        exact = upper_limit_exact(
            n, b, sb, e, se, cl, constraint=args.constraint, eff_constraint=args.eff_constraint
        )
        fields = {
            k: np.where(small, getattr(exact, k), getattr(asym, k))
            for k in RESULT_KEYS + ("status",)
        }
        return asym._replace(**fields, method="cls-exact" if np.all(small) else "cls-hybrid")
    if method == "cls-exact":
        from darkscan.stats.counting import upper_limit_exact

        return upper_limit_exact(
            n, b, sb, e, se, cl, constraint=args.constraint, eff_constraint=args.eff_constraint
        )
    if method in ("cls-toys", "clsb-toys"):
        from darkscan.stats.toys import upper_limit_toys

        if args.toys < 10:
            raise ValueError(f"--toys must be >= 10, got {args.toys}")
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        with _progress(n.size, quiet=args.json) as progress:
            return upper_limit_toys(
                n,
                b,
                sb,
                e,
                se,
                cl,
                constraint=args.constraint,
                eff_constraint=args.eff_constraint,
                method=method.split("-")[0],
                n_toys=args.toys,
                seed=args.seed,
                workers=args.workers,
                progress=progress,
            )
    if method == "bayes":
        mod = _optional("darkscan.stats.bayes", method)
        prior = {"lognormal": "lognormal"}.get(args.constraint, "truncated-gaussian")
        prior_eff = {"lognormal": "lognormal"}.get(args.eff_constraint, "truncated-gaussian")
        return mod.upper_limit_bayes(n, b, sb, e, se, cl, prior_bkg=prior, prior_eff=prior_eff)
    mod = _optional("darkscan.stats.feldman_cousins", method)
    if np.any(se > 0):
        raise ValueError("--method fc does not take an efficiency uncertainty (--eff-unc 0)")
    return mod.interval_fc(n, b, sb, e, cl)


def _optional(module: str, method: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(
            f"--method {method} needs {module}, which is not available ({exc})"
        ) from exc


class _progress:
    """A rich progress bar on stderr (only on a terminal) as a ``progress(done, total)``."""

    def __init__(self, total: int, quiet: bool):
        self.total = total
        self.enabled = sys.stderr.isatty() and not quiet and total > 0
        self._bar = None
        self._task = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("toys", total=self.total)
        return self._update

    def _update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------
def _records(result, cols, extras) -> list[dict[str, Any]]:
    recs = []
    for i, rec in enumerate(result.to_records()):
        out: dict[str, Any] = dict(extras[i])
        for c in INPUT_COLUMNS:
            out[c] = float(cols[c][i])
        out.update(rec)
        recs.append(out)
    return recs


def _json_safe(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Non-finite limits (no sensitivity) become null: strict JSON parsers accept it."""
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in recs
    ]


def _write(path: Path, recs: list[dict[str, Any]], single: bool) -> None:
    from darkscan.io import atomic_write_bytes, atomic_write_csv, atomic_write_text

    suffix = path.suffix.lower()
    if suffix == ".json":
        obj = _json_safe(recs)
        atomic_write_text(path, json.dumps(obj[0] if single else obj, indent=2) + "\n")
    elif suffix in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(recs), buf)
        atomic_write_bytes(path, buf.getvalue())
    else:
        atomic_write_csv(path, recs, list(recs[0]))


def _fmt(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else ("inf" if v > 0 else "nan")


def _print_table(recs: list[dict[str, Any]], args: argparse.Namespace, result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=240)
    unit = "events of signal" if all(r["eff"] == 1.0 for r in recs) else "mu (signal = mu x eff)"
    title = f"{_METHOD_TITLES[args.method]} upper limits at {args.cl:g} CL, in {unit}"
    table = Table(title=title)
    extra = [
        k
        for k in recs[0]
        if k not in INPUT_COLUMNS
        and k not in RESULT_KEYS
        and k not in ("lower", "status", "method", "cl")
    ]
    show_eff = any(r["eff"] != 1.0 or r["eff_unc"] != 0.0 for r in recs)
    inputs = ["n_obs", "bkg", "bkg_unc"] + (["eff", "eff_unc"] if show_eff else [])
    for k in extra + inputs:
        table.add_column(k, justify="right")
    if result.lower is not None:
        table.add_column("lower", justify="right")
    for label in ("observed", "expected", "-2 sigma", "-1 sigma", "+1 sigma", "+2 sigma"):
        table.add_column(label, justify="right")
    table.add_column("status")
    for r in recs:
        cells = [str(r[k]) for k in extra] + [f"{r[k]:.4g}" for k in inputs]
        if result.lower is not None:
            cells.append(_fmt(r["lower"]))
        cells += [
            _fmt(r[k])
            for k in (
                "observed",
                "expected_median",
                "expected_minus2",
                "expected_minus1",
                "expected_plus1",
                "expected_plus2",
            )
        ]
        cells.append(r["status"])
        table.add_row(*cells)
    console.print(table)
    if args.method in ("cls-asymptotic", "clsb"):
        small = sum(1 for r in recs if r["bkg"] < 3.0)
        if small:
            print(
                f"note: {small} hypothesis(es) with bkg < 3 events, where the asymptotic "
                "formulae are approximate; cross-check with --method cls-exact or cls-toys",
                file=sys.stderr,
            )


def run(args: argparse.Namespace) -> int:
    """Run ``darkscan limit KIND``; input errors raise ValueError (exit status 2)."""
    if getattr(args, "limit_kind", None) != "counting":  # pragma: no cover - argparse requires
        raise ValueError("give a limit kind: darkscan limit counting ...")
    if args.input is not None:
        if args.n_obs is not None or args.bkg is not None:
            raise ValueError("give either --input FILE or --n-obs/--bkg, not both")
        cols, extras = _from_file(args.input, args)
    else:
        cols, extras = _from_options(args)
    result = _compute(cols, args)
    recs = _records(result, cols, extras)
    single = args.input is None
    if args.json:
        obj = _json_safe(recs)
        print(json.dumps(obj[0] if single else obj, indent=2))
    else:
        _print_table(recs, args, result)
    if args.out:
        _write(args.out, recs, single)
        if not args.json:
            print(f"wrote {args.out}")
    return 0
