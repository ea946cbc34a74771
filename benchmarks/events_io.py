"""Speed and memory of the event table (darkscan.events): chunked write and read.

1e6 generator-level events (4 particles each: pdg, p4, vertex; a weight and two truth columns,
264 bytes per event in memory) are written chunk by chunk through ``EventWriter`` and read back
streaming (``iter_events``) and at once (``read_events``). Each phase runs in its own process
so that its peak resident memory (``getrusage`` max RSS, minus the RSS before the phase) is its
own. The peer is pyarrow itself on the same tables (``ParquetWriter.write_table`` and
``iter_batches`` without conversion): the floor any parquet layer on top can reach; ratios are
darkscan / peer. Memory must be bounded by the chunk, not the sample: the streaming phases are
also run with 5x fewer events and the peak memories compared.

    python benchmarks/events_io.py [--events 1000000] [--chunk-size 100000] [--format parquet]
                                   [--repeat 3] [--json] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_PER_EVENT = 4
BYTES_PER_EVENT = N_PER_EVENT * (4 + 4 * 8 + 3 * 8) + 3 * 8


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def _chunk(n: int, k: int):
    import numpy as np

    from darkscan.generators.base import EventBatch, Objects

    rng = np.random.default_rng(k)
    m = n * N_PER_EVENT
    particles = Objects(
        np.arange(n + 1, dtype=np.int64) * N_PER_EVENT,
        {
            "pdg": rng.choice(np.array([13, -13, 22, 55], np.int32), m),
            "p4": rng.normal(size=(m, 4)),
            "vertex": rng.normal(scale=0.01, size=(m, 3)),
        },
    )
    truth = {"x_isr": rng.random(n), "cos_theta_star": rng.uniform(-1, 1, n)}
    return EventBatch(particles, rng.exponential(size=n), "bench", truth)


def _chunks(events: int, chunk: int):
    for k, start in enumerate(range(0, events, chunk)):
        yield _chunk(min(chunk, events - start), k)


def phase(name: str, path: str, events: int, chunk: int) -> dict:
    """One measurement in this process: seconds spent in I/O calls and peak memory."""
    import numpy as np
    import pyarrow.parquet as pq

    from darkscan.events import EventWriter, iter_events, read_events

    if name in ("write", "read-stream", "read-all"):  # the lazily imported back ends
        import awkward  # noqa: F401
        import uproot  # noqa: F401
    base = _rss_mb()
    seconds = 0.0
    if name == "write":
        with EventWriter(path) as out:
            for batch in _chunks(events, chunk):
                t0 = time.perf_counter()
                out.write(batch)
                seconds += time.perf_counter() - t0
                del batch
            t0 = time.perf_counter()
        seconds += time.perf_counter() - t0
    elif name == "peer-write":
        from darkscan.events import _flat_to_arrow, _flatten_records

        writer = None
        for batch in _chunks(events, chunk):
            table = _flat_to_arrow(_flatten_records(batch, None)[0])
            del batch
            t0 = time.perf_counter()
            if writer is None:  # the settings EventWriter uses
                ints = [f.name for f in table.schema if "double" not in str(f.type)]
                writer = pq.ParquetWriter(
                    path, table.schema, compression="snappy", use_dictionary=ints
                )
            writer.write_table(table)
            seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        writer.close()
        seconds += time.perf_counter() - t0
    elif name == "read-stream":
        t0 = time.perf_counter()
        total = 0
        for part in iter_events(path, batch_size=chunk):
            total += part.n_events
            float(np.sum(part.particles.columns["p4"][:, 0]))
        seconds = time.perf_counter() - t0
        assert total == events, (total, events)
    elif name == "peer-read":
        t0 = time.perf_counter()
        total = sum(rb.num_rows for rb in pq.ParquetFile(path).iter_batches(batch_size=chunk))
        seconds = time.perf_counter() - t0
        assert total == events
    elif name == "read-all":
        t0 = time.perf_counter()
        ev = read_events(path)
        seconds = time.perf_counter() - t0
        assert ev.n_events == events
    else:
        raise ValueError(f"unknown phase {name!r}")
    return {"phase": name, "seconds": seconds, "peak_mb": _peak_mb() - base}


def _run_phase(name: str, path: Path, events: int, chunk: int) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--path", str(path)]
    cmd += ["--events", str(events), "--chunk-size", str(chunk)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--format", choices=("parquet", "root"), default="parquet")
    parser.add_argument("--repeat", type=int, default=3, help="timings to take the best of")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="write the JSON result to this file")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.path, args.events, args.chunk_size)))
        return

    mb = args.events * BYTES_PER_EVENT / 1e6
    peers = args.format == "parquet"
    with tempfile.TemporaryDirectory(prefix="darkscan-bench-") as tmp:
        path = Path(tmp) / f"events.{args.format}"
        small = Path(tmp) / f"small.{args.format}"
        peer = Path(tmp) / "peer.parquet"

        def best(name: str, p: Path, n: int) -> dict:
            runs = [_run_phase(name, p, n, args.chunk_size) for _ in range(args.repeat)]
            return {
                "seconds": min(r["seconds"] for r in runs),
                "peak_mb": min(r["peak_mb"] for r in runs),
            }

        res = {"write": best("write", path, args.events)}
        res["file_mb"] = path.stat().st_size / 1e6
        res["read-stream"] = best("read-stream", path, args.events)
        res["read-all"] = best("read-all", path, args.events)
        n_small = max(args.events // 5, args.chunk_size)
        _run_phase("write", small, n_small, args.chunk_size)
        res["read-stream-small"] = best("read-stream", small, n_small)
        res["write-small"] = best("write", small, n_small)
        if peers:
            res["peer-write"] = best("peer-write", peer, args.events)
            res["peer-read"] = best("peer-read", peer, args.events)

    result = {
        "events": args.events,
        "chunk_size": args.chunk_size,
        "format": args.format,
        "data_mb": mb,
        "file_mb": res["file_mb"],
        "write_s": res["write"]["seconds"],
        "write_mb_per_s": mb / res["write"]["seconds"],
        "write_peak_mb": res["write"]["peak_mb"],
        "read_stream_s": res["read-stream"]["seconds"],
        "read_stream_mb_per_s": mb / res["read-stream"]["seconds"],
        "read_stream_peak_mb": res["read-stream"]["peak_mb"],
        "read_all_s": res["read-all"]["seconds"],
        "read_all_peak_mb": res["read-all"]["peak_mb"],
        "events_small": n_small,
        "read_stream_peak_mb_small": res["read-stream-small"]["peak_mb"],
        "write_peak_mb_small": res["write-small"]["peak_mb"],
        "chunk_data_mb": args.chunk_size * BYTES_PER_EVENT / 1e6,
    }
    if peers:
        result["peer_write_s"] = res["peer-write"]["seconds"]
        result["peer_read_s"] = res["peer-read"]["seconds"]
        result["write_ratio_to_pyarrow"] = result["write_s"] / result["peer_write_s"]
        result["read_ratio_to_pyarrow"] = result["read_stream_s"] / result["peer_read_s"]
    if args.out:
        from darkscan.io import atomic_write_json

        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    r = result
    print(
        f"{r['events']:,} events x {N_PER_EVENT} particles ({r['data_mb']:.0f} MB in memory) "
        f"-> {r['format']} {r['file_mb']:.0f} MB, chunks of {r['chunk_size']:,} "
        f"({r['chunk_data_mb']:.0f} MB); best of {args.repeat}"
    )
    print(
        f"write:        {r['write_s']:.2f} s  {r['write_mb_per_s']:.0f} MB/s  "
        f"peak +{r['write_peak_mb']:.0f} MB"
    )
    print(
        f"read stream:  {r['read_stream_s']:.2f} s  {r['read_stream_mb_per_s']:.0f} MB/s  "
        f"peak +{r['read_stream_peak_mb']:.0f} MB"
    )
    print(f"read all:     {r['read_all_s']:.2f} s  peak +{r['read_all_peak_mb']:.0f} MB")
    print(
        f"memory bounded by the chunk: peak with {r['events_small']:,} events: write "
        f"+{r['write_peak_mb_small']:.0f} MB, read stream +{r['read_stream_peak_mb_small']:.0f}"
        f" MB (ratio full/small: write {r['write_peak_mb'] / r['write_peak_mb_small']:.2f}, "
        f"read {r['read_stream_peak_mb'] / r['read_stream_peak_mb_small']:.2f})"
    )
    if peers:
        print(
            f"ratio to pyarrow alone (same tables, no conversion): write "
            f"{r['write_ratio_to_pyarrow']:.2f}x, streaming read {r['read_ratio_to_pyarrow']:.2f}x"
        )


if __name__ == "__main__":
    main()
