import csv
import json

import pytest

from darkscan.cli import main


def run(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_model_json_keys(capsys):
    rc, out, _ = run(capsys, "model", "dark-photon", "--mass", "0.5,1,2", "--eps", "1e-3", "--json")
    assert rc == 0
    rows = json.loads(out)
    assert [r["mass"] for r in rows] == [0.5, 1.0, 2.0]
    for r in rows:
        for key in ("mass", "total_width", "ctau_cm", "br", "sigma_fb"):
            assert key in r
        assert set(r["br"]) == {"e+e-", "mu+mu-", "tau+tau-", "hadrons", "invisible"}
        assert abs(sum(r["br"].values()) - 1) < 1e-12
        assert r["sigma_fb"] > 0
    assert 0.314 <= rows[1]["br"]["mu+mu-"] <= 0.319


def test_model_table_and_outputs(capsys, tmp_path):
    csv_path = tmp_path / "t.csv"
    png = tmp_path / "br.png"
    rc, out, _ = run(
        capsys,
        "model",
        "dark-photon",
        "--mass",
        "0.1:2:4",
        "--eps",
        "1e-3,1e-4",
        "--out",
        str(csv_path),
        "--plot",
        str(png),
    )
    assert rc == 0
    assert "BR mu+mu-" in out and "sigma" in out
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 8 and "br_mu+mu-" in rows[0]
    assert png.stat().st_size > 1000


def test_model_list(capsys):
    rc, out, _ = run(capsys, "model", "--list", "--json")
    assert rc == 0
    names = {e["name"] for e in json.loads(out)}
    assert {"dark-photon", "zprime-lmu-ltau", "alp-photon", "dark-scalar"} <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model", "nope", "--mass", "1"], "valid: "),
        (["model", "zprime-lmu-ltau", "--mass", "1", "--eps", "1e-3"], "g_prime"),
        (["model", "dark-photon", "--mass", "-1", "--eps", "1e-3"], "mass"),
        (["model", "dark-photon", "--mass", "1", "--eps", "nan"], "eps"),
        (["model", "dark-photon", "--mass", "a,b", "--eps", "1"], "--mass"),
        (["model", "dark-photon", "--eps", "1"], "--mass"),
        (["model", "dark-photon", "--mass", "1", "--eps", "1", "--collider", "lep"], "belle2"),
    ],
)
def test_model_bad_input(capsys, args, message):
    rc, _, err = run(capsys, *args)
    assert rc == 2
    assert message in err


def test_help_mentions_common_options(capsys):
    with pytest.raises(SystemExit):
        main(["model", "--help"])
    out = capsys.readouterr().out
    for opt in ("--json", "--out", "--seed", "--plot", "--list"):
        assert opt in out
