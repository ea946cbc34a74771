"""``darkscan limit counting``: JSON keys, file round trips, input errors."""

from __future__ import annotations

import csv
import json
import math

import pytest

from darkscan.cli import main

KEYS = (
    "observed",
    "expected_median",
    "expected_minus1",
    "expected_plus1",
    "expected_minus2",
    "expected_plus2",
)


def run(capsys, *args):
    rc = main(["limit", "counting", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_single_hypothesis_keys(capsys):
    rc, out, _ = run(
        capsys,
        "--n-obs",
        "3",
        "--bkg",
        "1.2",
        "--bkg-unc",
        "0.3",
        "--cl",
        "0.9",
        "--method",
        "cls",
        "--json",
    )
    assert rc == 0
    rec = json.loads(out)
    assert isinstance(rec, dict)
    for k in KEYS:
        assert isinstance(rec[k], float) and rec[k] > 0
    assert rec["expected_minus2"] <= rec["expected_minus1"] <= rec["expected_median"]
    assert rec["expected_median"] <= rec["expected_plus1"] <= rec["expected_plus2"]
    assert rec["status"] == "ok" and rec["cl"] == 0.9 and "lower" not in rec


def test_classical_cls_n0_b0(capsys):
    rc, out, _ = run(
        capsys, "--n-obs", "0", "--bkg", "0", "--cl", "0.9", "--method", "cls-exact", "--json"
    )
    assert rc == 0
    assert json.loads(out)["observed"] == pytest.approx(math.log(10), rel=1e-9)


def test_table_output_and_small_count_note(capsys):
    rc, out, err = run(
        capsys, "--n-obs", "3", "--bkg", "1.2", "--bkg-unc", "0.3", "--method", "cls-asymptotic"
    )
    assert rc == 0
    assert "observed" in out and "+2 sigma" in out and "events of signal" in out
    assert "approximate" in err


def test_default_cls_is_exact_for_few_events(capsys):
    # the check: n = 0, b = 0 gives ln 10 = 2.303 events at 90 % CL for CLs
    rc, out, _ = run(capsys, "--n-obs", "0", "--bkg", "0", "--cl", "0.9", "--json")
    assert rc == 0
    rec = json.loads(out)
    assert rec["observed"] == pytest.approx(math.log(10.0), rel=1e-9)
    assert rec["method"] == "cls-exact"
    # many events: the asymptotic formulae
    rc, out, _ = run(capsys, "--n-obs", "120", "--bkg", "100", "--bkg-unc", "5", "--json")
    assert json.loads(out)["method"] == "cls-asymptotic"


def test_csv_round_trip(capsys, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("mass,n_obs,bkg,bkg_unc,eff\n0.5,3,1.2,0.3,1\n1.5,0,0,0,0.5\n2.5,12,10,2,0.8\n")
    dst = tmp_path / "out.csv"
    rc, out, _ = run(capsys, "--input", str(src), "--cl", "0.9", "--json", "--out", str(dst))
    assert rc == 0
    recs = json.loads(out)
    assert [r["mass"] for r in recs] == [0.5, 1.5, 2.5]
    assert [r["eff"] for r in recs] == [1.0, 0.5, 0.8]
    with dst.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    for r, row in zip(recs, rows, strict=True):
        for k in KEYS:
            assert float(row[k]) == pytest.approx(r[k], rel=1e-12)
    # the output table is a valid input again (extra columns are carried through)
    rc, out2, _ = run(capsys, "--input", str(dst), "--cl", "0.9", "--json")
    assert rc == 0
    assert [r["observed"] for r in json.loads(out2)] == [r["observed"] for r in recs]
    # a single-hypothesis run equals the file row
    rc, out3, _ = run(
        capsys,
        "--n-obs",
        "12",
        "--bkg",
        "10",
        "--bkg-unc",
        "2",
        "--eff",
        "0.8",
        "--cl",
        "0.9",
        "--json",
    )
    assert json.loads(out3)["observed"] == pytest.approx(recs[2]["observed"], rel=1e-12)


def test_parquet_input_and_json_out(capsys, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {"n_obs": [3.0, 5.0], "bkg": [1.0, 4.0], "bkg_unc": [0.2, 1.0], "mass": [1.0, 2.0]}
        ),
        src,
    )
    dst = tmp_path / "out.json"
    rc, _, _ = run(capsys, "--input", str(src), "--method", "cls-exact", "--out", str(dst))
    assert rc == 0
    recs = json.loads(dst.read_text())
    assert len(recs) == 2 and recs[1]["mass"] == 2.0 and recs[1]["method"] == "cls-exact"


def test_zero_efficiency_is_null_in_json(capsys):
    rc, out, _ = run(capsys, "--n-obs", "3", "--bkg", "1", "--eff", "0", "--json")
    assert rc == 0
    rec = json.loads(out)
    assert rec["observed"] is None and rec["status"] == "failed"


def test_toys_deterministic(capsys):
    args = (
        "--n-obs",
        "3",
        "--bkg",
        "1.2",
        "--bkg-unc",
        "0.3",
        "--method",
        "cls-toys",
        "--toys",
        "500",
        "--seed",
        "3",
        "--json",
    )
    _, a, _ = run(capsys, *args)
    _, b, _ = run(capsys, *args)
    assert json.loads(a) == json.loads(b)
    assert json.loads(a)["method"] == "cls-toys"


@pytest.mark.parametrize("method", ["bayes", "fc"])
def test_other_methods(capsys, method):
    rc, out, _ = run(
        capsys,
        "--n-obs",
        "3",
        "--bkg",
        "1.2",
        "--bkg-unc",
        "0.3",
        "--cl",
        "0.9",
        "--method",
        method,
        "--json",
    )
    assert rc == 0
    rec = json.loads(out)
    assert rec["observed"] > 0
    assert ("lower" in rec) == (method == "fc")


@pytest.mark.parametrize(
    "content,needle",
    [
        ("n_obs,bkg\n1,2\n", "missing column(s) 'bkg_unc'"),
        ("n_obs,bkg,bkg_unc\n1,-2,0\n", "row 1, column 'bkg': must be >= 0"),
        ("n_obs,bkg,bkg_unc\n1,2,0\n1,nan,0\n", "row 2, column 'bkg': must be finite"),
        ("n_obs,bkg,bkg_unc\nabc,2,0\n", "row 1, column 'n_obs': 'abc' is not a number"),
        ("n_obs,bkg,bkg_unc\n1,2,\n", "row 1, column 'bkg_unc': empty value"),
        ("n_obs,bkg,bkg_unc\n", "no data rows"),
    ],
)
def test_bad_input_file(capsys, tmp_path, content, needle):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    rc, _, err = run(capsys, "--input", str(src))
    assert rc == 2
    assert "bad.csv" in err and needle in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--n-obs", "1", "--bkg", "-1"), "--bkg: must be >= 0"),
        (("--n-obs", "inf", "--bkg", "1"), "--n-obs: must be finite"),
        (("--n-obs", "1"), "give --n-obs and --bkg"),
        (("--n-obs", "1", "--bkg", "1", "--cl", "1.5"), "--cl must be in (0, 1)"),
        (("--input", "does-not-exist.csv"), "does-not-exist.csv: no such file"),
        (("--n-obs", "1", "--bkg", "1", "--eff-unc", "0.1", "--method", "fc"), "--eff-unc"),
    ],
)
def test_bad_options(capsys, args, needle):
    rc, _, err = run(capsys, *args)
    assert rc == 2
    assert needle in err


def test_unknown_method_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["limit", "counting", "--n-obs", "1", "--bkg", "1", "--method", "magic"])
    assert exc.value.code == 2
    assert "magic" in capsys.readouterr().err
