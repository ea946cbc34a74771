"""The event table: parquet and ROOT round trips, chunking, streaming, atomicity, bad files."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from darkscan.detector.base import RecoEvents
from darkscan.events import (
    BELLE2_BRANCHES,
    EventFileError,
    EventWriter,
    check_event_file,
    iter_events,
    load_schema,
    read_events,
    read_metadata,
    write_events,
)
from darkscan.generators.base import EventBatch, Objects

SUFFIXES = [".parquet", ".root"]


def _objects(rng, n, cols, max_per_event=5):
    counts = rng.integers(0, max_per_event, n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    m = int(offsets[-1])
    return Objects(offsets, {k: f(m) for k, f in cols.items()})


def make_batch(n, seed=1):
    rng = np.random.default_rng(seed)
    particles = _objects(
        rng,
        n,
        {
            "pdg": lambda m: rng.choice([13, -13, 22, 55], m).astype(np.int32),
            "p4": lambda m: rng.normal(size=(m, 4)),
            "vertex": lambda m: rng.normal(size=(m, 3)),
            "from_decay": lambda m: rng.random(m) < 0.3,
        },
    )
    truth = {"x_isr": rng.random(n), "p4_mediator": rng.normal(size=(n, 4))}
    meta = {"generator": "toy", "seed": np.int64(7), "parameters": {"mass": 1.5}}
    return EventBatch(particles, rng.exponential(size=n), "toy-process", truth, meta)


def make_reco(n, seed=2):
    rng = np.random.default_rng(seed)
    tracks = _objects(
        rng,
        n,
        {
            "p4": lambda m: rng.normal(size=(m, 4)),
            "charge": lambda m: rng.choice([-1, 1], m).astype(np.int8),
            "pdg_true": lambda m: rng.choice([13, -13, 211], m),
            "pid_mu": lambda m: rng.random(m),
            "vertex": lambda m: rng.normal(size=(m, 3)),
        },
    )
    clusters = _objects(
        rng,
        n,
        {
            "p4": lambda m: rng.normal(size=(m, 4)),
            "region": lambda m: rng.integers(0, 3, m),
            "e9e21": lambda m: rng.random(m),
        },
    )
    event = {
        "weight": rng.exponential(size=n),
        "trg_ffo": rng.random(n) < 0.5,
        "truth_x_isr": rng.random(n),
    }
    return RecoEvents(tracks, clusters, event, {"process": "toy-process", "experiment": "belle2"})


def assert_objects_equal(a: Objects, b: Objects):
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert set(a.columns) == set(b.columns)
    for k in a.columns:
        assert a.columns[k].dtype == b.columns[k].dtype, k
        np.testing.assert_array_equal(a.columns[k], b.columns[k], err_msg=k)


def assert_batch_equal(a: EventBatch, b: EventBatch):
    assert_objects_equal(a.particles, b.particles)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert set(a.truth) == set(b.truth)
    for k in a.truth:
        np.testing.assert_array_equal(a.truth[k], b.truth[k], err_msg=k)


def assert_reco_equal(a: RecoEvents, b: RecoEvents):
    assert_objects_equal(a.tracks, b.tracks)
    assert_objects_equal(a.clusters, b.clusters)
    assert set(a.event) == set(b.event)
    for k in a.event:
        assert a.event[k].dtype == b.event[k].dtype, k
        np.testing.assert_array_equal(a.event[k], b.event[k], err_msg=k)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_generator_events_round_trip(tmp_path, suffix):
    batch = make_batch(500)
    path = write_events(tmp_path / f"ev{suffix}", batch, meta={"lumi_fb": 79.7}, chunk_size=128)
    back = read_events(path)
    assert isinstance(back, EventBatch)
    assert_batch_equal(batch, back)
    assert back.process == "toy-process"
    meta = back.meta
    assert meta["generator"] == "toy" and meta["seed"] == 7 and meta["parameters"] == {"mass": 1.5}
    assert meta["lumi_fb"] == 79.7 and meta["level"] == "gen"
    assert meta["n_events"] == 500 and meta["n_chunks"] == 4
    assert meta["cross_section_fb"] == pytest.approx(batch.cross_section_fb, rel=1e-12)
    assert meta["effective_lumi_fb"] == pytest.approx(batch.effective_lumi_fb(), rel=1e-12)
    assert meta["darkscan_version"] and meta["created"]
    assert read_metadata(path)["n_events"] == 500


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_reco_events_with_truth_round_trip(tmp_path, suffix):
    reco = make_reco(300)
    truth = make_batch(300)
    # the simulation copies the generator weight and truth columns
    truth = EventBatch(
        truth.particles, reco.event["weight"], truth.process, {"x_isr": reco.event["truth_x_isr"]}
    )
    path = write_events(tmp_path / f"reco{suffix}", reco, truth=truth, chunk_size=100)
    back = read_events(path)
    assert isinstance(back, RecoEvents)
    assert_reco_equal(reco, back)
    gen = read_events(path, level="gen")
    assert_batch_equal(truth, gen)
    assert back.meta["level"] == "reco" and back.meta["experiment"] == "belle2"


def test_reco_truth_with_other_weight_kept_apart(tmp_path):
    reco = make_reco(50)
    truth = make_batch(50)
    with pytest.raises(ValueError, match="truth_x_isr"):  # the two disagree on a truth column
        write_events(tmp_path / "r.parquet", reco, truth=truth)
    assert list(tmp_path.iterdir()) == []
    truth = EventBatch(truth.particles, truth.weight, truth.process, {})
    path = write_events(tmp_path / "r.parquet", reco, truth=truth)
    np.testing.assert_array_equal(read_events(path).event["weight"], reco.event["weight"])
    np.testing.assert_array_equal(read_events(path, level="gen").weight, truth.weight)
    with pytest.raises(ValueError, match="level"):
        read_events(path, level="sim")


def test_generator_file_has_no_reco_level(tmp_path):
    path = write_events(tmp_path / "g.parquet", make_batch(10))
    with pytest.raises(EventFileError, match="reco"):
        read_events(path, level="reco")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_chunked_write_equals_single_write(tmp_path, suffix):
    batch = make_batch(1000)
    one = read_events(write_events(tmp_path / f"one{suffix}", batch, chunk_size=10_000))
    many = read_events(write_events(tmp_path / f"many{suffix}", batch, chunk_size=37))
    assert_batch_equal(one, many)
    assert one.meta["n_chunks"] == 1 and many.meta["n_chunks"] == 28
    assert one.meta["cross_section_fb"] == pytest.approx(many.meta["cross_section_fb"], 1e-12)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_streaming_read_in_bounded_batches(tmp_path, suffix):
    batch = make_batch(1000)
    path = write_events(tmp_path / f"s{suffix}", batch, chunk_size=300)
    parts = list(iter_events(path, batch_size=64))
    assert all(p.n_events <= 64 for p in parts)
    assert sum(p.n_events for p in parts) == 1000
    assert_batch_equal(batch, EventBatch.concatenate(parts))
    with pytest.raises(ValueError, match="batch_size"):
        next(iter_events(path, batch_size=0))


def test_streaming_memory_is_bounded_by_the_batch(tmp_path):
    """numpy memory while streaming 200k events in batches of 2k stays far below the sample's
    size (~40 MB of particles)."""
    n = 200_000
    rng = np.random.default_rng(3)
    offsets = np.arange(n + 1, dtype=np.int64) * 4
    m = 4 * n
    batch = EventBatch(
        Objects(
            offsets,
            {
                "pdg": np.full(m, 13, np.int32),
                "p4": rng.normal(size=(m, 4)),
                "vertex": np.zeros((m, 3)),
            },
        ),
        np.ones(n),
        "toy",
    )
    path = write_events(tmp_path / "big.parquet", batch, chunk_size=20_000)
    del batch
    tracemalloc.start()
    try:
        total = 0.0
        for part in iter_events(path, batch_size=2_000):
            total += float(part.particles.columns["p4"][:, 0].sum())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4e6, f"peak traced memory {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_exception_mid_write_leaves_no_file(tmp_path, suffix):
    path = tmp_path / f"ev{suffix}"
    with pytest.raises(RuntimeError, match="boom"), EventWriter(path) as out:
        out.write(make_batch(100))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_old_file(tmp_path):
    path = write_events(tmp_path / "ev.parquet", make_batch(20))
    before = path.read_bytes()
    with pytest.raises(RuntimeError), EventWriter(path) as out:
        out.write(make_batch(30))
        raise RuntimeError("interrupted")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ev.parquet"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_chunks_with_other_columns_are_rejected(tmp_path, suffix):
    path = tmp_path / f"ev{suffix}"
    other = make_batch(10)
    other = EventBatch(other.particles, other.weight, other.process, {})
    with pytest.raises(ValueError, match="layout"), EventWriter(path) as out:
        out.write(make_batch(10))
        out.write(other)
    assert list(tmp_path.iterdir()) == []


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no events"), EventWriter(tmp_path / "e.parquet"):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_empty_sample(tmp_path, suffix):
    batch = make_batch(0)
    back = read_events(write_events(tmp_path / f"e{suffix}", batch))
    assert back.n_events == 0 and back.meta["n_events"] == 0


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_file_is_a_clear_error(tmp_path, suffix, keep):
    path = write_events(tmp_path / f"ev{suffix}", make_batch(2000), chunk_size=500)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(EventFileError, match="truncated or") as info:
        read_events(path)
    assert str(path) in str(info.value)
    with pytest.raises(EventFileError):
        check_event_file(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_garbage_file_is_a_clear_error(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(EventFileError, match="corrupt"):
        read_events(path)


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_events(tmp_path / "none.parquet")
    with pytest.raises(ValueError, match=r"\.parquet"):
        read_events(tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"\.root"):
        EventWriter(tmp_path / "x.h5")


def test_foreign_parquet_with_darkscan_columns(tmp_path):
    """A parquet file written by other tools with darkscan column names (no metadata)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "mc_pdg": pa.array([[13, -13], [22]], pa.list_(pa.int64())),
            "mc_E": [[5.0, 6.0], [1.0]],
            "mc_px": [[0.1, -0.1], [0.0]],
            "mc_py": [[0.0, 0.0], [1.0]],
            "mc_pz": [[4.0, -5.0], [0.0]],
            "mc_vx": [[0.0, 0.0], [0.0]],
            "mc_vy": [[0.0, 0.0], [0.0]],
            "mc_vz": [[0.0, 0.0], [0.0]],
            "weight": [1.5, 2.5],
            "truth_m": [0.3, 0.4],
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    ev = read_events(tmp_path / "f.parquet")
    assert isinstance(ev, EventBatch)
    np.testing.assert_array_equal(ev.particles.counts, [2, 1])
    np.testing.assert_array_equal(ev.particles.columns["p4"][0], [5.0, 0.1, 0.0, 4.0])
    np.testing.assert_array_equal(ev.truth["m"], [0.3, 0.4])
    assert ev.cross_section_fb == 4.0


def test_parquet_nan_weight_and_nulls_are_errors(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"weight": [1.0, np.nan], "x": [1, 2]}), tmp_path / "n.parquet")
    with pytest.raises(EventFileError, match="NaN"):
        read_events(tmp_path / "n.parquet")
    pq.write_table(pa.table({"weight": [1.0, None]}), tmp_path / "m.parquet")
    with pytest.raises(EventFileError, match="null"):
        read_events(tmp_path / "m.parquet")


# ---------------------------------------------------------------------------------- ROOT


def test_root_branches_follow_the_belle2_scheme(tmp_path):
    import uproot

    reco = make_reco(20)
    path = write_events(tmp_path / "r.root", reco, truth=None)
    with uproot.open(path) as fh:
        names = set(fh["tree"].keys())
    assert {"__event__", "__weight__", "nTracks", "nClusters", "trk_px", "trk_muonID"} <= names
    assert {"trk_mcPDG", "trk_x", "clu_region", "clu_clusterE9E21", "trg_ffo"} <= names
    path = write_events(tmp_path / "g.root", make_batch(20))
    with uproot.open(path) as fh:
        names = set(fh["tree"].keys())
        np.testing.assert_array_equal(fh["tree"]["__event__"].array(library="np"), np.arange(20))
    assert {"nMCParticles", "mc_PDG", "mc_E", "mc_px", "mc_x", "truth_x_isr"} <= names
    assert {"truth_p4_mediator_0", "truth_p4_mediator_3"} <= names


def _basf2_like_ntuple(path, n=50, seed=4):
    """A flat candidate ntuple as basf2's VariablesToNtuple writes it (every variable a double),
    for e+e- -> mu+ mu- candidates, plus an event-based jagged photon list."""
    import awkward as ak
    import uproot

    rng = np.random.default_rng(seed)
    data = {
        "__experiment__": np.full(n, 1003, np.int32),
        "__run__": np.full(n, 12, np.int32),
        "__event__": np.arange(n, dtype=np.uint32),
        "__candidate__": np.zeros(n, np.int32),
        "__ncandidates__": np.ones(n, np.int32),
        "__weight__": np.ones(n),
        "recoilMassSquared": rng.normal(1.0, 0.5, n),
    }
    for i in (0, 1):
        for var in ("E", "px", "py", "pz", "muonID"):
            data[f"mu_{i}_{var}"] = rng.random(n)
        data[f"mu_{i}_charge"] = np.full(n, 1.0 if i == 0 else -1.0)
        data[f"mu_{i}_mcPDG"] = np.full(n, -13.0 if i == 0 else 13.0)
    counts = rng.integers(0, 4, n)
    gamma = ak.zip(
        {
            "E": ak.unflatten(rng.random(counts.sum()), counts),
            "clusterReg": ak.unflatten(rng.integers(1, 4, counts.sum()).astype(float), counts),
        }
    )
    branches = {**data, "gamma": gamma}
    with uproot.recreate(path) as fh:  # a TTree, as basf2 writes
        types = {k: v.dtype if isinstance(v, np.ndarray) else v.type for k, v in branches.items()}
        fh.mktree("ntuple", types)
        fh["ntuple"].extend(branches)
    return data, counts


BASF2_SCHEMA = {
    "tree": "ntuple",
    "columns": {
        "weight": "__weight__",
        "trk_E": ["mu_0_E", "mu_1_E"],
        "trk_px": ["mu_0_px", "mu_1_px"],
        "trk_py": ["mu_0_py", "mu_1_py"],
        "trk_pz": ["mu_0_pz", "mu_1_pz"],
        "trk_charge": ["mu_0_charge", "mu_1_charge"],
        "trk_pdg_true": ["mu_0_mcPDG", "mu_1_mcPDG"],
        "trk_pid_mu": ["mu_0_muonID", "mu_1_muonID"],
        "clu_E": "gamma_E",
        "clu_clusterReg": "gamma_clusterReg",
        "recoil_mass2": "recoilMassSquared",
        "exp": "__experiment__",
    },
}


@pytest.mark.parametrize("form", ["dict", "json", "yaml"])
def test_read_basf2_style_ntuple_through_a_schema(tmp_path, form):
    path = tmp_path / "basf2.root"
    data, counts = _basf2_like_ntuple(path)
    if form == "dict":
        schema = BASF2_SCHEMA
    elif form == "json":
        schema = tmp_path / "schema.json"
        schema.write_text(json.dumps(BASF2_SCHEMA))
    else:
        yaml = pytest.importorskip("yaml")
        schema = tmp_path / "schema.yaml"
        schema.write_text(yaml.safe_dump(BASF2_SCHEMA))
    ev = read_events(path, schema=schema)
    assert isinstance(ev, RecoEvents) and ev.n_events == 50
    np.testing.assert_array_equal(ev.tracks.counts, 2)
    p4 = ev.tracks.columns["p4"]
    np.testing.assert_array_equal(p4[0::2, 1], data["mu_0_px"])
    np.testing.assert_array_equal(p4[1::2, 0], data["mu_1_E"])
    assert ev.tracks.columns["charge"].dtype.kind == "i"
    np.testing.assert_array_equal(ev.tracks.columns["charge"][:4], [1, -1, 1, -1])
    np.testing.assert_array_equal(ev.clusters.counts, counts)
    # clusters have an energy but no momentum components: "E" stays a column of its own
    assert set(ev.clusters.columns) == {"E", "clusterReg"}
    np.testing.assert_array_equal(ev.event["recoil_mass2"], data["recoilMassSquared"])
    np.testing.assert_array_equal(ev.event["exp"], 1003)
    # streaming gives the same events
    parts = list(iter_events(path, schema=schema, batch_size=16))
    assert [p.n_events for p in parts] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.concatenate([p.event["weight"] for p in parts]), 1.0)


def test_default_belle2_names_read_without_schema(tmp_path):
    """A tree following darkscan's Belle II-style names is read without metadata or schema."""
    import awkward as ak
    import uproot

    counts = np.array([2, 0, 1])
    mk = lambda v: ak.unflatten(np.asarray(v, float), counts)  # noqa: E731
    trk = ak.zip(
        {
            "E": mk([1, 2, 3]),
            "px": mk([0.1, 0.2, 0.3]),
            "py": mk([0, 0, 0]),
            "pz": mk([1, 2, 3]),
            "muonID": mk([0.9, 0.1, 0.5]),
            "charge": ak.unflatten(np.array([1, -1, 1], np.int32), counts),
        }
    )
    with uproot.recreate(tmp_path / "t.root") as fh:
        fh.mktree(
            "tree", {"trk": trk.type, "__weight__": np.float64}, counter_name=lambda _: "nTracks"
        )
        fh["tree"].extend({"trk": trk, "__weight__": np.array([1.0, 2.0, 3.0])})
    ev = read_events(tmp_path / "t.root")
    assert isinstance(ev, RecoEvents)
    np.testing.assert_array_equal(ev.tracks.counts, counts)
    np.testing.assert_array_equal(ev.tracks.columns["pid_mu"], [0.9, 0.1, 0.5])
    np.testing.assert_array_equal(ev.tracks.columns["p4"][:, 3], [1, 2, 3])
    assert BELLE2_BRANCHES["trk_pid_mu"] == "trk_muonID"


def test_schema_errors_name_file_and_branch(tmp_path):
    path = tmp_path / "basf2.root"
    _basf2_like_ntuple(path)
    cols = BASF2_SCHEMA["columns"]
    bad = {"tree": "ntuple", "columns": {**cols, "trk_px": ["mu_0_px", "mu_1_pxx"]}}
    with pytest.raises(EventFileError, match="mu_1_pxx") as info:
        read_events(path, schema=bad)
    assert "basf2.root" in str(info.value)
    with pytest.raises(EventFileError, match="'nope'"):
        read_events(path, schema={"tree": "nope", "columns": cols})
    # a per-event column fed by a jagged branch
    with pytest.raises(EventFileError, match="one"):
        read_events(path, schema={"tree": "ntuple", "columns": {**cols, "m": "gamma_E"}})
    # two branches of one collection with different object counts
    with pytest.raises(EventFileError, match="disagree"):
        read_events(path, schema={"tree": "ntuple", "columns": {**cols, "clu_px": "mu_0_px"}})
    # no weight
    no_w = {k: v for k, v in cols.items() if k != "weight"}
    with pytest.raises(EventFileError, match="__weight__"):
        read_events(path, schema={"tree": "ntuple", "columns": no_w})
    with pytest.raises(ValueError, match="branch name"):
        load_schema({"columns": {"trk_px": 3}})


def test_root_nan_and_non_integer_pdg_are_errors(tmp_path):
    import uproot

    n = 4
    base = {"__weight__": np.ones(n), "mu_0_E": np.ones(n), "mu_0_px": np.zeros(n)}
    base.update(mu_0_py=np.zeros(n), mu_0_pz=np.ones(n), mu_0_mcPDG=np.full(n, 13.0))
    schema = {
        "columns": {
            "weight": "__weight__",
            "trk_E": "mu_0_E",
            "trk_px": "mu_0_px",
            "trk_py": "mu_0_py",
            "trk_pz": "mu_0_pz",
            "trk_pdg_true": "mu_0_mcPDG",
        }
    }
    # these are written as RNTuples (uproot's default for a dict), read like TTrees
    nan_px = {**base, "mu_0_px": np.array([0.0, np.nan, 0.0, 0.0])}
    with uproot.recreate(tmp_path / "a.root") as fh:
        fh["ntuple"] = nan_px
    with pytest.raises(EventFileError, match="NaN") as info:
        read_events(tmp_path / "a.root", schema=schema)
    assert "mu_0_px" in str(info.value) and "trk_px" in str(info.value)
    frac_pdg = {**base, "mu_0_mcPDG": np.array([13.0, 13.5, 13.0, 13.0])}
    with uproot.recreate(tmp_path / "b.root") as fh:
        fh["ntuple"] = frac_pdg
    with pytest.raises(EventFileError, match="integers"):
        read_events(tmp_path / "b.root", schema=schema)
    with uproot.recreate(tmp_path / "c.root") as fh:
        fh["ntuple"] = {**base, "mu_0_mcPDG": np.array([13.0, np.nan, -13.0, 13.0])}
    ev = read_events(tmp_path / "c.root", schema=schema)
    # NaN: no MC match in basf2 -> 0
    np.testing.assert_array_equal(ev.tracks.columns["pdg_true"], [13, 0, -13, 13])
    assert ev.clusters.n_events == n and ev.clusters.counts.sum() == 0


def test_parquet_rejects_a_schema(tmp_path):
    path = write_events(tmp_path / "g.parquet", make_batch(5))
    with pytest.raises(ValueError, match="schema"):
        read_events(path, schema={"weight": "w"})


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".root", "zlib"), (".root", "none"), (".parquet", "zstd")]
)
def test_other_codecs_round_trip(tmp_path, suffix, codec):
    batch = make_batch(200)
    back = read_events(write_events(tmp_path / f"c{suffix}", batch, compression=codec))
    assert_batch_equal(batch, back)


def test_unknown_root_codec(tmp_path):
    with pytest.raises(ValueError, match="lz4"):
        write_events(tmp_path / "c.root", make_batch(5), compression="brotli")
    assert list(tmp_path.iterdir()) == []


def test_a_swallowed_error_still_leaves_no_file(tmp_path):
    path = tmp_path / "e.parquet"
    other = make_batch(10)
    other = EventBatch(other.particles, other.weight, other.process, {})
    with pytest.raises(ValueError, match="failed earlier"), EventWriter(path) as out:
        out.write(make_batch(10))
        with pytest.raises(ValueError, match="layout"):
            out.write(other)
    assert list(tmp_path.iterdir()) == []
