"""The event table: generated and reconstructed events on disk (parquet, or ROOT via uproot).

One row per event. Jagged objects (generator particles, tracks, clusters) become list columns
that share their offsets within a collection; a (n, k) object column is split into k list
columns; per-event columns stay flat. Column names (the *darkscan columns*):

========================  ==============================================================
generator particles       ``mc_pdg``, ``mc_E``, ``mc_px``, ``mc_py``, ``mc_pz`` [GeV],
(:class:`EventBatch`)     ``mc_vx``, ``mc_vy``, ``mc_vz`` [cm], ``mc_<extra>``
tracks                    ``trk_E``, ``trk_px``, ``trk_py``, ``trk_pz``, ``trk_vx`` ...,
(:class:`RecoEvents`)     ``trk_charge``, ``trk_pdg_true``, ``trk_pid_e``, ``trk_pid_mu``,
                          ``trk_pid_pi``, ``trk_pid_K``, ``trk_<extra>``
clusters                  ``clu_E``, ``clu_px``, ``clu_py``, ``clu_pz``, ``clu_region``,
                          ``clu_pdg_true``, ``clu_<extra>``
per event                 ``weight`` [fb per event]; generator truth ``truth_<name>``;
                          reconstructed-event columns by their own names (``trg_<line>``,
                          ``truth_<name>`` ...); a (n, k) per-event column -> ``<name>_0..k-1``
========================  ==============================================================

Record columns named ``p4`` (E, px, py, pz) and ``vertex`` (vx, vy, vz) are split into those
components; any other (n, k) column ``c`` into ``c_0 .. c_{k-1}``. A reconstructed file may
also carry the generator particles (``mc_*``) of the same events: :func:`read_events` with
``level="gen"`` returns them as an :class:`EventBatch` (``gen_weight`` holds the generator
weight where it differs from the reconstructed ``weight``).

Provenance (a JSON object) sits in the parquet footer under the key ``darkscan`` (and in a
``TObjString`` named ``darkscan_meta`` in ROOT files): ``process``, ``generator``,
``seed``, ``experiment``, ``collider``, ``sqrt_s``, ``lumi_fb``, ``parameters``,
``darkscan_version``, ``created`` (UTC, ISO 8601), ``n_events``, ``n_chunks``,
``cross_section_fb`` (sum of weights), ``sum_w2_fb2``, ``effective_lumi_fb`` (sum w / sum w^2),
``level`` (``gen`` or ``reco``) and ``layout`` (how record columns map to table columns), plus
any key of the first batch's ``meta`` and of the writer's ``meta``.

Writing streams chunk by chunk (:class:`EventWriter`; each chunk is one parquet row group or
one ROOT basket set) into a temporary file beside the target, renamed over it only when the
writer closes cleanly: a failed or interrupted run leaves no partial file. Reading streams too
(:func:`iter_events`, memory bounded by ``batch_size``), or at once (:func:`read_events`).

ROOT files: one TTree (``tree``, as basf2's event-based ntuples) with Belle II / basf2-style
branch names (:data:`BELLE2_BRANCHES`): each collection is a jagged group with a counter
branch (``nMCParticles``, ``nTracks``, ``nClusters``) and branches ``<prefix>_<variable>``
named after basf2 variables (``mc_PDG``, ``trk_px``, ``trk_muonID``, ``clu_clusterE9E21``...);
``__event__`` numbers the events and ``__weight__`` holds the weight. Real ntuples are read
through a *schema*: a mapping from darkscan columns to branch names (a string: one branch,
jagged or one value per event; a list of strings: fixed slots, e.g. the two muons of a flat
candidate ntuple ``["mu_0_px", "mu_1_px"]``), given as a dict or a JSON / YAML file
(:func:`load_schema`), optionally ``{"tree": NAME, "columns": {...}}``. Trees may be TTrees or
RNTuples. Float branches feeding integer columns (basf2 writes ``charge``, ``mcPDG`` as
doubles) are cast when integral; NaN or inf in momenta, vertices or weights is an error naming
the branch.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from darkscan.detector.base import RecoEvents
from darkscan.generators.base import EventBatch, Objects

FORMAT_NAME = "darkscan-events"
FORMAT_VERSION = 1
META_KEY = "darkscan"
ROOT_META_KEY = "darkscan_meta"
ROOT_TREE = "tree"
DEFAULT_CHUNK_SIZE = 100_000
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".root": "root"}
#: fast codecs (random-like doubles barely compress): snappy for parquet; LZ4 for ROOT
#: (read by ROOT >= 6.12; ZLIB, ROOT's classic default, writes ~10x slower through uproot).
DEFAULT_COMPRESSION = {"parquet": "snappy", "root": "lz4"}

#: record collection -> column prefix; and the prefix -> ROOT counter branch.
COLLECTIONS = {"particles": "mc", "tracks": "trk", "clusters": "clu"}
ROOT_COUNTERS = {"mc": "nMCParticles", "trk": "nTracks", "clu": "nClusters"}
#: (n, k) record columns split into named components.
COMPONENTS = {"p4": ("E", "px", "py", "pz"), "vertex": ("vx", "vy", "vz")}
#: record columns holding integers (a float branch with integral values is cast; NaN in
#: ``pdg_true``, basf2's "no MC match", becomes 0).
INTEGER_COLUMNS = frozenset({"pdg", "pdg_true", "charge", "region"})
#: record columns that must be finite (NaN or inf is an error, naming the column).
FINITE_COLUMNS = frozenset({"p4", "vertex", "weight"})

#: darkscan column -> Belle II / basf2-style ROOT branch (columns not listed keep their name).
BELLE2_BRANCHES: dict[str, str] = {
    "weight": "__weight__",
    # generator particles (basf2 MC-particle variables: PDG, E, px..., x/y/z production vertex)
    "mc_pdg": "mc_PDG",
    "mc_vx": "mc_x",
    "mc_vy": "mc_y",
    "mc_vz": "mc_z",
    # tracks (charged particles): kinematics, vertex, truth match and PID likelihood ratios
    "trk_vx": "trk_x",
    "trk_vy": "trk_y",
    "trk_vz": "trk_z",
    "trk_pdg_true": "trk_mcPDG",
    "trk_pid_e": "trk_electronID",
    "trk_pid_mu": "trk_muonID",
    "trk_pid_pi": "trk_pionID",
    "trk_pid_K": "trk_kaonID",
    # clusters (photons): truth match, shower shape. (``clu_region`` keeps its name: basf2's
    # clusterReg counts 1 forward, 2 barrel, 3 backward; darkscan's region 0, 1, 2.)
    "clu_pdg_true": "clu_mcPDG",
    "clu_e9e21": "clu_clusterE9E21",
}


class EventFileError(ValueError):
    """A file that is not a readable event table (truncated, corrupt, wrong schema)."""


# --------------------------------------------------------------------------------------------
# flat (table-like) representation shared by the parquet and ROOT back ends


@dataclass
class _Flat:
    """Columns of one chunk: collections (shared offsets) and flat per-event columns."""

    n_events: int
    collections: dict[str, tuple[NDArray[np.int64], dict[str, NDArray[Any]]]] = field(
        default_factory=dict
    )
    event: dict[str, NDArray[Any]] = field(default_factory=dict)


def _split_columns(
    columns: Mapping[str, NDArray[Any]], prefix: str, what: str
) -> tuple[dict[str, NDArray[Any]], dict[str, str | list[str]]]:
    """Record columns -> flat table columns named ``prefix + name`` and the layout."""
    out: dict[str, NDArray[Any]] = {}
    layout: dict[str, str | list[str]] = {}

    def put(name: str, arr: NDArray[Any]) -> None:
        if name in out:
            raise ValueError(f"{what}: two columns map to the table column '{name}'")
        out[name] = arr

    for key, col in columns.items():
        a = np.asarray(col)
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{what} column '{key}' has dtype {a.dtype}; only numbers and bools")
        if a.ndim == 1:
            put(prefix + key, a)
            layout[key] = prefix + key
        elif a.ndim == 2:
            comps = COMPONENTS.get(key)
            names = (
                [prefix + c for c in comps]
                if comps is not None and len(comps) == a.shape[1]
                else [f"{prefix}{key}_{j}" for j in range(a.shape[1])]
            )
            for j, n in enumerate(names):
                put(n, np.ascontiguousarray(a[:, j]))
            layout[key] = names
        else:
            raise ValueError(f"{what} column '{key}' has {a.ndim} dimensions; at most 2")
    return out, layout


def _flatten_records(
    events: EventBatch | RecoEvents, truth: EventBatch | None
) -> tuple[_Flat, dict[str, Any]]:
    """Split a record into flat columns and the layout that reassembles it."""
    if isinstance(events, EventBatch):
        if truth is not None:
            raise ValueError("truth= goes with RecoEvents; an EventBatch is its own truth")
        gen, reco = events, None
    elif isinstance(events, RecoEvents):
        gen, reco = truth, events
        if gen is not None and gen.n_events != reco.n_events:
            raise ValueError(
                f"truth has {gen.n_events} events, the reconstructed events {reco.n_events}"
            )
    else:
        raise TypeError(f"expected EventBatch or RecoEvents, got {type(events).__name__}")
    n = events.n_events
    flat = _Flat(n)
    layout: dict[str, Any] = {"objects": {}, "gen": None, "reco": None}

    def add_objects(name: str, obj: Objects) -> None:
        prefix = COLLECTIONS[name]
        cols, lay = _split_columns(obj.columns, prefix + "_", name)
        flat.collections[prefix] = (np.asarray(obj.offsets, np.int64), cols)
        layout["objects"][name] = {"prefix": prefix, "columns": lay}

    def add_event(cols: dict[str, NDArray[Any]]) -> None:
        for k, v in cols.items():
            if k in flat.event and not np.array_equal(flat.event[k], v, equal_nan=True):
                raise ValueError(f"per-event column '{k}' is given twice with different values")
            flat.event[k] = v

    if reco is not None:
        add_objects("tracks", reco.tracks)
        add_objects("clusters", reco.clusters)
        cols, lay = _split_columns(reco.event, "", "event")
        add_event(cols)
        layout["reco"] = {"event": lay}
    if gen is not None:
        add_objects("particles", gen.particles)
        wname = "weight"
        if reco is not None and not np.array_equal(reco.event["weight"], gen.weight):
            wname = "gen_weight"
        # the reconstruction may carry the same truth columns: add_event checks they agree
        cols, lay = _split_columns(dict(gen.truth), "truth_", "truth")
        add_event({wname: np.asarray(gen.weight), **cols})
        layout["gen"] = {"weight": wname, "truth": lay}
    return flat, layout


def _file_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in meta.items():
        out[str(k)] = _jsonable(v)
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


# --------------------------------------------------------------------------------------------
# writing


def _format_of(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the event-file format of '{path}' from its suffix; valid: "
            f"{sorted(SUFFIXES)}"
        )
    return fmt


class EventWriter:
    """Stream events chunk by chunk into a parquet or ROOT file (format from the suffix).

    Use as a context manager::

        with EventWriter("mumu.parquet", meta={"seed": 1}) as out:
            for rng in rngs:
                out.write(process.generate(100_000, rng, BELLE2))

    Each :meth:`write` appends one chunk (a parquet row group); memory stays bounded by the
    chunk. The data go to a hidden temporary file in the target folder which replaces
    ``path`` only on a clean :meth:`close`; an exception inside the ``with`` block (or
    :meth:`abort`) removes it, so no partial file is ever left behind. All chunks must have
    the same columns; the provenance in the file is ``meta`` merged over the first chunk's
    ``meta``, plus the totals (events, chunks, cross section, effective luminosity).

    ``compression``: the codec (default :data:`DEFAULT_COMPRESSION`); ``branches``: ROOT
    branch names overriding :data:`BELLE2_BRANCHES` (kept in the file's metadata, so the file
    reads back without a schema).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        meta: Mapping[str, Any] | None = None,
        compression: str | None = None,
        branches: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = _format_of(self.path)
        self.meta = dict(meta or {})
        self.compression = compression or DEFAULT_COMPRESSION[self.format]
        self.branches = {**BELLE2_BRANCHES, **(branches or {})}
        self.n_events = 0
        self.n_chunks = 0
        self._sum_w = 0.0
        self._sum_w2 = 0.0
        self._first_meta: dict[str, Any] = {}
        self._layout: dict[str, Any] | None = None
        self._columns: list[str] | None = None
        self._schema: Any = None
        self._writer: Any = None
        self._root: Any = None
        self._tmp: Path | None = None
        self._closed = False
        self._aborted = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        os.close(fd)
        self._tmp = Path(tmp)

    # context manager ---------------------------------------------------------------------
    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # a writer dropped without close(): leave nothing behind
        if not getattr(self, "_closed", True):
            self.abort()

    # --------------------------------------------------------------------------------------
    def write(self, events: EventBatch | RecoEvents, truth: EventBatch | None = None) -> None:
        """Append one chunk: an :class:`EventBatch`, or :class:`RecoEvents` with optionally
        the generator ``truth`` of the same events."""
        if self._closed:
            raise ValueError(f"the writer of '{self.path}' is closed")
        try:
            flat, layout = _flatten_records(events, truth)
            if self._layout is None:
                self._layout = layout
                self._first_meta = _file_meta(events.meta)
                gen = events if isinstance(events, EventBatch) else truth
                if gen is not None:
                    self._first_meta.setdefault("process", gen.process)
            elif layout != self._layout:
                raise ValueError(
                    f"chunk {self.n_chunks} of '{self.path}' has a different column layout "
                    f"from the first chunk: {layout} != {self._layout}"
                )
            if self.format == "parquet":
                self._write_parquet(flat)
            else:
                self._write_root(flat)
        except BaseException:
            self.abort()
            raise
        w = np.asarray(flat.event["weight"], float)
        self.n_events += flat.n_events
        self.n_chunks += 1
        self._sum_w += float(np.sum(w))
        self._sum_w2 += float(np.sum(w * w))

    def _write_parquet(self, flat: _Flat) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = _flat_to_arrow(flat)
        if self._writer is None:
            self._schema = table.schema
            # dictionary encoding pays for integer columns (PDG ids, flags), not for floats
            ints = [
                f.name
                for f in self._schema
                if not pa.types.is_floating(getattr(f.type, "value_type", f.type))
            ]
            self._writer = pq.ParquetWriter(
                str(self._tmp), self._schema, compression=self.compression, use_dictionary=ints
            )
        elif not table.schema.equals(self._schema):
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
                raise ValueError(
                    f"chunk {self.n_chunks} of '{self.path}' does not match the file's "
                    f"columns: {exc}"
                ) from exc
        if table.num_rows or self.n_chunks == 0:
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _write_root(self, flat: _Flat) -> None:
        import uproot

        data = _flat_to_root(flat, self.branches, first_event=self.n_events)
        if self._root is None:
            algo = self.compression.lower()
            codecs = {"lz4": uproot.LZ4, "zlib": uproot.ZLIB, "zstd": uproot.ZSTD}
            if algo not in codecs and algo != "none":
                raise ValueError(
                    f"ROOT compression '{self.compression}'; valid: {[*codecs, 'none']}"
                )
            comp = codecs[algo](1) if algo in codecs else None
            self._root = uproot.recreate(str(self._tmp), compression=comp)
            types = {k: _root_type(v) for k, v in data.items()}
            self._root.mktree(
                ROOT_TREE,
                types,
                title="darkscan events",
                counter_name=lambda group: ROOT_COUNTERS.get(group, f"n{group}"),
            )
            self._columns = list(data)
        elif list(data) != self._columns:
            raise ValueError(
                f"chunk {self.n_chunks} of '{self.path}' has branches {list(data)}, "
                f"the file {self._columns}"
            )
        if flat.n_events:
            self._root[ROOT_TREE].extend(data)

    def provenance(self) -> dict[str, Any]:
        """The metadata the file gets on :meth:`close`."""
        from darkscan import __version__

        meta = {**self._first_meta, **_file_meta(self.meta)}
        meta.update(
            format=FORMAT_NAME,
            format_version=FORMAT_VERSION,
            level="reco" if (self._layout or {}).get("reco") else "gen",
            darkscan_version=__version__,
            created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            n_events=self.n_events,
            n_chunks=self.n_chunks,
            cross_section_fb=self._sum_w,
            sum_w2_fb2=self._sum_w2,
            effective_lumi_fb=self._sum_w / self._sum_w2 if self._sum_w2 > 0 else 0.0,
            layout=self._layout,
        )
        if self.format == "root":
            meta["branches"] = self.branches
        return meta

    def close(self) -> Path:
        """Finish the file and move it into place; returns the path."""
        if self._aborted:
            raise ValueError(f"writing '{self.path}' failed earlier: nothing was written")
        if self._closed:
            return self.path
        try:
            if self._layout is None:
                raise ValueError(f"no events were written to '{self.path}'")
            text = json.dumps(self.provenance(), allow_nan=True)
            if self._writer is not None:
                self._writer.add_key_value_metadata({META_KEY: text})
                self._writer.close()
                self._writer = None
            if self._root is not None:
                self._root[ROOT_META_KEY] = text
                self._root.close()
                self._root = None
            with open(self._tmp, "rb+") as fh:  # type: ignore[arg-type]
                os.fsync(fh.fileno())
            os.replace(self._tmp, self.path)  # type: ignore[arg-type]
            self._tmp = None
            self._closed = True
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (the target file is left untouched)."""
        if not self._closed:
            self._aborted = True
        self._closed = True
        for handle in (self._writer, self._root):
            if handle is not None:
                try:
                    handle.close()
                except Exception:  # noqa: BLE001 - the file is being thrown away
                    pass
        self._writer = self._root = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def write_events(
    path: str | os.PathLike[str],
    events: EventBatch | RecoEvents,
    *,
    truth: EventBatch | None = None,
    meta: Mapping[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    compression: str | None = None,
) -> Path:
    """Write a whole record (in chunks of ``chunk_size`` events) atomically to ``path``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    n = events.n_events
    with EventWriter(path, meta=meta, compression=compression) as out:
        for start in range(0, max(n, 1), chunk_size):
            stop = min(start + chunk_size, n)
            if n <= chunk_size:
                out.write(events, truth)
            else:
                tpart = None if truth is None else slice_events(truth, start, stop)
                out.write(slice_events(events, start, stop), tpart)
    return Path(path)


def _slice_objects(obj: Objects, start: int, stop: int) -> Objects:
    off = obj.offsets[start : stop + 1]
    lo, hi = int(off[0]), int(off[-1])
    return Objects(off - lo, {k: v[lo:hi] for k, v in obj.columns.items()})


def slice_events(events: EventBatch | RecoEvents, start: int, stop: int) -> Any:
    """Events ``start:stop`` of a record (views, no copy of the object columns)."""
    if isinstance(events, EventBatch):
        return EventBatch(
            _slice_objects(events.particles, start, stop),
            events.weight[start:stop],
            events.process,
            {k: v[start:stop] for k, v in events.truth.items()},
            events.meta,
        )
    return RecoEvents(
        _slice_objects(events.tracks, start, stop),
        _slice_objects(events.clusters, start, stop),
        {k: v[start:stop] for k, v in events.event.items()},
        events.meta,
    )


# --------------------------------------------------------------------------------------------
# parquet back end


def _flat_to_arrow(flat: _Flat) -> Any:
    import pyarrow as pa

    arrays: dict[str, Any] = {}
    for _prefix, (offsets, cols) in flat.collections.items():
        large = offsets[-1] >= 2**31
        off = pa.array(offsets if large else offsets.astype(np.int32))
        klass = pa.LargeListArray if large else pa.ListArray
        for name, values in cols.items():
            arrays[name] = klass.from_arrays(off, pa.array(values))
    for name, values in flat.event.items():
        arrays[name] = pa.array(values)
    return pa.table(arrays)


def _list_parts(col: Any, name: str, path: Path) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """(offsets from 0, values) of a list column without copying the values."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    inner = col.flatten()
    if col.null_count or inner.null_count:
        raise EventFileError(f"{path}: column '{name}' has missing (null) entries")
    off = np.asarray(col.offsets, np.int64)
    values = inner.to_numpy(zero_copy_only=False)
    return off - off[0], values


def _flat_column(col: Any, name: str, path: Path) -> NDArray[Any]:
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if col.null_count:
        raise EventFileError(f"{path}: column '{name}' has missing (null) entries")
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)) and not (
        pa.types.is_boolean(col.type)
    ):
        raise EventFileError(f"{path}: column '{name}' has type {col.type}, expected numbers")
    return col.to_numpy(zero_copy_only=False)


def _arrow_to_flat(table: Any, path: Path) -> _Flat:
    """A pyarrow Table / RecordBatch with darkscan columns -> flat chunk."""
    import pyarrow as pa

    flat = _Flat(table.num_rows)
    names = list(table.schema.names)
    for name in names:
        col = table.column(name)
        prefix = name.split("_", 1)[0]
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            if prefix not in ROOT_COUNTERS:
                raise EventFileError(
                    f"{path}: list column '{name}' belongs to no collection "
                    f"(prefixes {sorted(ROOT_COUNTERS)})"
                )
            off, values = _list_parts(col, name, path)
            _add_object_column(flat, prefix, name, off, values, path)
        else:
            flat.event[name] = _flat_column(col, name, path)
    return flat


def _add_object_column(
    flat: _Flat, prefix: str, name: str, offsets: NDArray[np.int64], values: Any, path: Path
) -> None:
    if prefix in flat.collections:
        off0, cols = flat.collections[prefix]
        if not np.array_equal(off0, offsets):
            first = next(iter(cols), "?")
            raise EventFileError(
                f"{path}: column '{name}' has other object counts than '{first}' "
                f"(columns of one collection must agree)"
            )
        cols[name] = values
    else:
        flat.collections[prefix] = (offsets, {name: values})


def _parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise FileNotFoundError(f"event file '{path}' does not exist")
    try:
        # no pre-buffering: it caches every column chunk read until the file is closed, so
        # streaming memory would grow with the file instead of the batch
        return pq.ParquetFile(str(path), pre_buffer=False, buffer_size=1 << 20)
    except (pa.ArrowException, OSError) as exc:
        raise EventFileError(
            f"{path}: not a readable parquet event file (truncated or corrupt, e.g. left by an "
            f"interrupted run; delete it and write it again): {exc}"
        ) from exc


def _parquet_meta(pf: Any) -> dict[str, Any]:
    kv = pf.metadata.metadata or {}
    raw = kv.get(META_KEY.encode())
    return json.loads(raw) if raw else {}


# --------------------------------------------------------------------------------------------
# ROOT back end (uproot)


def _root_type(value: Any) -> Any:
    import awkward as ak

    if isinstance(value, ak.Array):
        return value.type
    a = np.asarray(value)
    return a.dtype


def _flat_to_root(flat: _Flat, branches: Mapping[str, str], first_event: int) -> dict[str, Any]:
    import awkward as ak

    data: dict[str, Any] = {
        "__event__": np.arange(first_event, first_event + flat.n_events, dtype=np.int64)
    }
    for prefix, (offsets, cols) in flat.collections.items():
        fields = {}
        for name, values in cols.items():
            branch = branches.get(name, name)
            if not branch.startswith(prefix + "_"):
                raise ValueError(
                    f"ROOT branch '{branch}' for column '{name}' must start with '{prefix}_'"
                )
            layout = ak.contents.ListOffsetArray(
                ak.index.Index64(offsets), ak.contents.NumpyArray(np.ascontiguousarray(values))
            )
            fields[branch[len(prefix) + 1 :]] = ak.Array(layout)
        if fields:
            data[prefix] = ak.zip(fields)
    for name, values in flat.event.items():
        data[branches.get(name, name)] = np.ascontiguousarray(values)
    return data


def _open_root(path: Path) -> Any:
    import uproot

    if not path.exists():
        raise FileNotFoundError(f"event file '{path}' does not exist")
    try:
        fh = uproot.open(str(path))
    except Exception as exc:  # noqa: BLE001 - uproot raises many kinds on a bad file
        raise EventFileError(
            f"{path}: not a readable ROOT file (truncated or corrupt, e.g. left by an "
            f"interrupted run; delete it and write it again): {exc}"
        ) from exc
    end, size = int(getattr(fh.file, "fEND", 0)), path.stat().st_size
    if end > size:
        fh.close()
        raise EventFileError(
            f"{path}: truncated or corrupt ROOT file: it has {size} bytes, its header says "
            f"{end} (e.g. left by an interrupted run; delete it and write it again)"
        )
    return fh


def _root_meta(fh: Any) -> dict[str, Any]:
    if ROOT_META_KEY in fh:
        return json.loads(str(fh[ROOT_META_KEY]))
    return {}


_ROOT_TREE_CLASSES = ("TTree", "ROOT::RNTuple")


def _root_tree(fh: Any, path: Path, tree: str | None) -> Any:
    trees = [k.split(";")[0] for k, c in fh.classnames().items() if c in _ROOT_TREE_CLASSES]
    if tree is None:
        if ROOT_TREE in trees:
            tree = ROOT_TREE
        elif len(trees) == 1:
            tree = trees[0]
        else:
            raise EventFileError(f"{path}: give the tree to read (tree=...); trees: {trees}")
    if tree not in trees:
        raise EventFileError(f"{path}: no TTree '{tree}'; trees in the file: {trees}")
    return fh[tree]


def load_schema(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A ROOT schema from a dict or a JSON / YAML file: ``{"tree": NAME (optional),
    "columns": {darkscan column: branch | [branches]}}`` or just the column mapping."""
    if isinstance(source, Mapping):
        spec = dict(source)
    else:
        p = Path(source)
        text = p.read_text()
        if p.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:  # pragma: no cover - PyYAML absent
                raise ValueError(f"reading the schema '{p}' needs PyYAML") from exc
            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
        if not isinstance(spec, Mapping):
            raise ValueError(f"schema file '{p}' must hold a mapping")
    columns = spec.get("columns", spec) if "columns" in spec else spec
    columns = {k: v for k, v in columns.items() if k != "tree"}
    for col, br in columns.items():
        ok = isinstance(br, str) or (
            isinstance(br, Sequence) and br and all(isinstance(b, str) for b in br)
        )
        if not ok:
            raise ValueError(f"schema: column '{col}' needs a branch name or a list of names")
    return {"tree": spec.get("tree"), "columns": dict(columns)}


def _default_columns(branch_names: Sequence[str], meta: Mapping[str, Any]) -> dict[str, Any]:
    """darkscan column -> branch for a tree written by darkscan or following the Belle II-style
    names of :data:`BELLE2_BRANCHES` (other branches keep their names)."""
    mapping = {**BELLE2_BRANCHES, **meta.get("branches", {})}
    inverse = {b: c for c, b in mapping.items()}
    skip = set(ROOT_COUNTERS.values()) | {"__event__"}
    columns: dict[str, Any] = {}
    for b in branch_names:
        if b in skip or (b.startswith("__") and b not in inverse):
            continue
        columns[inverse.get(b, b)] = b
    return columns


def _ak_numeric(arr: Any, branch: str, path: Path) -> tuple[NDArray[Any] | None, NDArray[Any]]:
    """(counts or None for one value per event, flat values) of an uproot branch."""
    import awkward as ak

    try:
        if arr.ndim == 1:
            counts, values = None, ak.to_numpy(arr)
        elif arr.ndim == 2:
            counts = np.asarray(ak.num(arr, axis=1), np.int64)
            values = ak.to_numpy(ak.flatten(arr, axis=1))
        else:
            raise TypeError
    except (TypeError, ValueError) as exc:
        raise EventFileError(
            f"{path}: branch '{branch}' has type {arr.type}; expected numbers (one per event or "
            "one per object)"
        ) from exc
    if values.dtype.kind not in "biuf":
        raise EventFileError(f"{path}: branch '{branch}' has type {arr.type}; expected numbers")
    return counts, values


def _root_chunk_to_flat(chunk: Any, columns: Mapping[str, Any], n_events: int, path: Path) -> _Flat:
    flat = _Flat(n_events)
    seen_counts: dict[str, tuple[str, NDArray[np.int64]]] = {}
    for col, spec in columns.items():
        prefix = col.split("_", 1)[0]
        is_object = prefix in ROOT_COUNTERS
        if isinstance(spec, str):
            counts, values = _ak_numeric(chunk[spec], spec, path)
            if not is_object:
                if counts is not None:
                    raise EventFileError(
                        f"{path}: branch '{spec}' (column '{col}') holds several values per "
                        "event; per-event columns need one"
                    )
                flat.event[col] = values
                continue
            if counts is None:
                counts = np.ones(n_events, np.int64)
            label = spec
        else:
            parts = []
            for b in spec:
                c, v = _ak_numeric(chunk[b], b, path)
                if c is not None:
                    raise EventFileError(
                        f"{path}: branch '{b}' (a slot of column '{col}') must hold one value "
                        "per event"
                    )
                parts.append(v)
            if not is_object:
                raise EventFileError(
                    f"{path}: per-event column '{col}' maps to several branches {list(spec)}"
                )
            values = np.stack(parts, axis=1).reshape(-1)
            counts = np.full(n_events, len(spec), np.int64)
            label = ",".join(spec)
        if prefix in seen_counts:
            other, c0 = seen_counts[prefix]
            if not np.array_equal(c0, counts):
                raise EventFileError(
                    f"{path}: branches '{label}' and '{other}' disagree on the number of "
                    f"objects per event (both feed the '{prefix}_' collection)"
                )
        else:
            seen_counts[prefix] = (label, counts)
        offsets = np.zeros(n_events + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        _add_object_column(flat, prefix, col, offsets, values, path)
    return flat


# --------------------------------------------------------------------------------------------
# reading


def _infer_layout(flat_columns: Mapping[str, bool]) -> dict[str, Any]:
    """Layout of a table without darkscan metadata, from its column names.

    ``flat_columns``: column name -> True for list (object) columns."""
    layout: dict[str, Any] = {"objects": {}, "gen": None, "reco": None}
    for coll, prefix in COLLECTIONS.items():
        names = [c for c, is_list in flat_columns.items() if is_list and c.startswith(prefix + "_")]
        if not names:
            continue
        cols: dict[str, Any] = {}
        used: set[str] = set()
        for key, comps in COMPONENTS.items():
            full = [f"{prefix}_{c}" for c in comps]
            if all(f in names for f in full):
                cols[key] = full
                used.update(full)
        for n in names:
            if n not in used:
                cols[n[len(prefix) + 1 :]] = n
        layout["objects"][coll] = {"prefix": prefix, "columns": cols}
    scalars = [c for c, is_list in flat_columns.items() if not is_list]
    if "tracks" in layout["objects"] or "clusters" in layout["objects"]:
        layout["reco"] = {"event": {c: c for c in scalars if c != "gen_weight"}}
    if "particles" in layout["objects"]:
        layout["gen"] = {
            "weight": "gen_weight" if "gen_weight" in scalars else "weight",
            "truth": {c[len("truth_") :]: c for c in scalars if c.startswith("truth_")},
        }
    if layout["gen"] is None and layout["reco"] is None:
        layout["reco"] = {"event": {c: c for c in scalars}}
    return layout


def _needed_columns(layout: Mapping[str, Any], level: str) -> list[str]:
    def names(spec: Mapping[str, Any]) -> list[str]:
        out: list[str] = []
        for v in spec.values():
            out.extend([v] if isinstance(v, str) else v)
        return out

    cols: list[str] = []
    if level == "gen":
        cols += names(layout["objects"]["particles"]["columns"])
        cols.append(layout["gen"]["weight"])
        cols += names(layout["gen"]["truth"])
    else:
        for coll in ("tracks", "clusters"):
            if coll in layout["objects"]:
                cols += names(layout["objects"][coll]["columns"])
        cols += names(layout["reco"]["event"])
    return list(dict.fromkeys(cols))


def _pick_level(layout: Mapping[str, Any], level: str | None, path: Path) -> str:
    have = [lv for lv in ("reco", "gen") if layout.get(lv)]
    if level is None:
        return have[0]
    if level not in ("gen", "reco"):
        raise ValueError(f"level must be 'gen' or 'reco', got {level!r}")
    if level not in have:
        raise EventFileError(f"{path}: holds no {level}-level events (it has {have})")
    return level


def _assemble(
    flat: _Flat,
    layout: Mapping[str, Any],
    level: str,
    meta: Mapping[str, Any],
    path: Path,
    branches: Mapping[str, Any] | None = None,
) -> EventBatch | RecoEvents:
    """Flat columns -> EventBatch / RecoEvents; ``branches`` (darkscan column -> ROOT branch)
    only names the branches in error messages."""

    def where(name: str) -> str:
        branch = (branches or {}).get(name)
        return f"column '{name}'" + (f" (branch {branch!r})" if branch is not None else "")

    def column(src: Mapping[str, NDArray[Any]], spec: str | list[str], key: str) -> NDArray[Any]:
        names = [spec] if isinstance(spec, str) else spec
        for n in names:
            if n not in src:
                raise EventFileError(f"{path}: missing column '{n}' (for '{key}')")
        a = src[spec] if isinstance(spec, str) else np.column_stack([src[n] for n in names])
        if key in INTEGER_COLUMNS and a.dtype.kind == "f":
            if key == "pdg_true":
                a = np.where(np.isnan(a), 0.0, a)
            if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise EventFileError(
                    f"{path}: {where(names[0])} must hold integers ('{key}'); found "
                    "non-integral or NaN values"
                )
            a = a.astype(np.int64)
        if key in FINITE_COLUMNS and a.dtype.kind == "f":
            bad = ~np.isfinite(a)
            if np.any(bad):
                worst = names[int(np.argmax(bad.reshape(len(a), -1).sum(axis=0)))]
                raise EventFileError(
                    f"{path}: {where(worst)} has {int(bad.sum())} NaN or infinite values "
                    f"(in '{key}')"
                )
        return a

    def objects(coll: str) -> Objects:
        spec = layout["objects"].get(coll)
        if spec is None or not spec["columns"]:
            return Objects(np.zeros(flat.n_events + 1, np.int64), {})
        prefix = spec["prefix"]
        if prefix not in flat.collections:
            first = next(iter(spec["columns"].values()))
            raise EventFileError(f"{path}: missing column '{first}' (collection {coll})")
        offsets, cols = flat.collections[prefix]
        return Objects(offsets, {k: column(cols, v, k) for k, v in spec["columns"].items()})

    if level == "gen":
        particles = objects("particles")
        for need in ("pdg", "p4", "vertex"):
            if need not in particles.columns:
                raise EventFileError(f"{path}: generator particles lack the '{need}' column")
        gen = layout["gen"]
        weight = column(flat.event, gen["weight"], "weight")
        truth = {k: column(flat.event, v, k) for k, v in gen["truth"].items()}
        return EventBatch(
            particles, weight.astype(float), str(meta.get("process", "unknown")), truth, meta
        )
    event = {k: column(flat.event, v, k) for k, v in layout["reco"]["event"].items()}
    if "weight" not in event:
        raise EventFileError(f"{path}: missing the per-event 'weight' column")
    return RecoEvents(objects("tracks"), objects("clusters"), event, meta)


class _Source:
    """An opened event file: metadata, layout and a chunk iterator."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        schema: str | os.PathLike[str] | Mapping[str, Any] | None,
        tree: str | None,
    ) -> None:
        self.path = Path(path)
        self.format = _format_of(self.path)
        self.columns: dict[str, Any] = {}
        if self.format == "parquet":
            if schema is not None:
                raise ValueError("schema= maps ROOT branches; parquet files use darkscan columns")
            self.pf = _parquet_file(self.path)
            self.meta = _parquet_meta(self.pf)
            arrow_schema = self.pf.schema_arrow
            import pyarrow as pa

            is_list = {
                f.name: pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
                for f in arrow_schema
            }
            self.available = is_list
        else:
            self.fh = _open_root(self.path)
            try:
                self._open_tree(schema, tree)
            except ValueError:
                self.fh.close()
                raise
            except Exception as exc:  # noqa: BLE001 - uproot's many kinds of read errors
                self.fh.close()
                raise EventFileError(
                    f"{self.path}: not a readable ROOT event file (truncated or corrupt; write "
                    f"it again): {exc}"
                ) from exc
        layout = self.meta.get("layout")
        self.layout = layout if layout else _infer_layout(self.available)
        if "weight" not in self.available and "gen_weight" not in self.available:
            self.close()
            where = (
                "branch '__weight__' (or the schema's branch for 'weight')"
                if self.format == "root"
                else "column 'weight'"
            )
            raise EventFileError(f"{self.path}: no per-event weight: {where} is missing")

    def _open_tree(
        self, schema: str | os.PathLike[str] | Mapping[str, Any] | None, tree: str | None
    ) -> None:
        self.meta = _root_meta(self.fh)
        spec = load_schema(schema) if schema is not None else None
        self.tree = _root_tree(self.fh, self.path, tree or (spec or {}).get("tree"))
        names = list(self.tree.keys())
        if spec is not None:
            self.meta = {}  # a user schema reads the file as a foreign ntuple
            self.columns = spec["columns"]
        else:
            self.columns = _default_columns(names, self.meta)
        for col, br in self.columns.items():
            for b in [br] if isinstance(br, str) else br:
                if b not in names:
                    raise EventFileError(
                        f"{self.path}: branch '{b}' (column '{col}') is not in the tree; "
                        f"branches: {sorted(names)[:40]}"
                    )
        self.available = {c: c.split("_", 1)[0] in ROOT_COUNTERS for c in self.columns}

    def close(self) -> None:
        if self.format == "root":
            self.fh.close()

    def chunks(self, level: str, batch_size: int) -> Iterator[_Flat]:
        """The needed columns in chunks of at most ``batch_size`` events (one empty chunk for
        a file without events)."""
        needed = _needed_columns(self.layout, level)
        missing = [c for c in needed if c not in self.available]
        if missing:
            raise EventFileError(f"{self.path}: missing column(s) {missing}")
        if self.format == "parquet":
            import pyarrow as pa

            try:
                if self.pf.metadata.num_rows == 0:
                    yield _arrow_to_flat(self.pf.schema_arrow.empty_table().select(needed), "")
                    return
                for rb in self.pf.iter_batches(batch_size=batch_size, columns=needed):
                    yield _arrow_to_flat(rb, self.path)
            except (pa.ArrowException, OSError) as exc:
                raise EventFileError(
                    f"{self.path}: corrupt data (truncated or damaged file; write it again): {exc}"
                ) from exc
            return
        cols = {c: self.columns[c] for c in needed}
        branches = list(
            dict.fromkeys(b for v in cols.values() for b in ([v] if isinstance(v, str) else v))
        )
        try:
            if self.tree.num_entries == 0:
                arr = self.tree.arrays(filter_name=branches, entry_stop=0, library="ak")
                yield _root_chunk_to_flat(arr, cols, 0, self.path)
                return
            parts = self.tree.iterate(filter_name=branches, step_size=batch_size, library="ak")
            for arr in parts:
                yield _root_chunk_to_flat(arr, cols, len(arr), self.path)
        except EventFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - uproot's many decompression errors
            raise EventFileError(
                f"{self.path}: corrupt data (truncated or damaged file; write it again): {exc}"
            ) from exc


def _concat_objects(parts: list[Objects]) -> Objects:
    if len(parts) == 1:
        return parts[0]
    counts = np.concatenate([p.counts for p in parts])
    offsets = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    names = list(parts[0].columns)
    return Objects(offsets, {n: np.concatenate([p.columns[n] for p in parts]) for n in names})


def _concat_records(parts: list[Any]) -> EventBatch | RecoEvents:
    """One record from consecutive parts of one file (same columns)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, EventBatch):
        return EventBatch(
            _concat_objects([p.particles for p in parts]),
            np.concatenate([p.weight for p in parts]),
            first.process,
            {k: np.concatenate([p.truth[k] for p in parts]) for k in first.truth},
            first.meta,
        )
    return RecoEvents(
        _concat_objects([p.tracks for p in parts]),
        _concat_objects([p.clusters for p in parts]),
        {k: np.concatenate([p.event[k] for p in parts]) for k in first.event},
        first.meta,
    )


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance stored in an event file (empty for a foreign file)."""
    src = _Source(path, None, None)
    src.close()
    return dict(src.meta)


def iter_events(
    path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_CHUNK_SIZE,
    level: str | None = None,
    schema: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    tree: str | None = None,
) -> Iterator[EventBatch | RecoEvents]:
    """Stream an event file in batches of at most ``batch_size`` events (bounded memory).

    ``level``: ``"gen"`` (an :class:`EventBatch`) or ``"reco"`` (:class:`RecoEvents`);
    default the reconstructed events where the file has them. ``schema`` and ``tree`` are
    for ROOT ntuples (see :func:`load_schema`)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    src = _Source(path, schema, tree)
    try:
        lv = _pick_level(src.layout, level, src.path)
        for flat in src.chunks(lv, batch_size):
            yield _assemble(flat, src.layout, lv, src.meta, src.path, src.columns)
    finally:
        src.close()


def read_events(
    path: str | os.PathLike[str],
    *,
    level: str | None = None,
    schema: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    tree: str | None = None,
) -> EventBatch | RecoEvents:
    """Read a whole event file (see :func:`iter_events` for the arguments)."""
    src = _Source(path, schema, tree)
    try:
        lv = _pick_level(src.layout, level, src.path)
        parts = [
            _assemble(flat, src.layout, lv, src.meta, src.path, src.columns)
            for flat in src.chunks(lv, DEFAULT_CHUNK_SIZE)
        ]
        return _concat_records(parts)
    finally:
        src.close()


def check_event_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Open ``path`` and read its footer/metadata; raise :class:`EventFileError` when it is
    truncated or corrupt. Returns the provenance (cheap: no event data is read)."""
    src = _Source(path, None, None)
    try:
        if src.format == "parquet":
            n = src.pf.metadata.num_rows
        else:
            n = src.tree.num_entries
        if src.meta and int(src.meta.get("n_events", n)) != n:
            raise EventFileError(
                f"{src.path}: holds {n} events, its metadata says {src.meta['n_events']}"
            )
        return dict(src.meta)
    finally:
        src.close()


__all__ = [
    "BELLE2_BRANCHES",
    "DEFAULT_CHUNK_SIZE",
    "EventFileError",
    "EventWriter",
    "check_event_file",
    "iter_events",
    "load_schema",
    "read_events",
    "read_metadata",
    "write_events",
]
