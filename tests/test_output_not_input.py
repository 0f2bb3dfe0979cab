"""No command writes over its input (issue 13, item 3).

An output path that is an input (same path, another spelling of it, a
symbolic link or a hard link to it) is refused with a clear message, exit
code 2, and the input is left byte for byte as it was.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from riskmap import RiskmapInputError
from riskmap.cli import main
from riskmap.io import check_output_not_input

CSV = ("site_id,name,category,coord_precision,source,lon,lat\n"
       "a,Mine A,mine,exact,test,19.3563,43.3563\n"
       "b,Mine B,minee,exact,test,19.3563,43.3563\n")


@pytest.fixture()
def inv(tmp_path):
    p = tmp_path / "inv.csv"
    p.write_text(CSV)
    return p


def _aliases(inv):
    """The input itself, other spellings, symbolic links (plain, relative, chained, via a folder), a hard link."""
    d = inv.parent
    sym = d / "link.csv"
    sym.symlink_to(inv)
    rel = d / "rel.csv"
    rel.symlink_to(inv.name)
    chain = d / "chain.csv"
    chain.symlink_to(sym)
    folder = d / "folder_link"
    folder.symlink_to(d, target_is_directory=True)
    hard = d / "hard.csv"
    os.link(inv, hard)
    return {"same": inv, "dotted": d / "." / ".." / d.name / inv.name, "symlink": sym, "relative symlink": rel,
            "chained symlinks": chain, "linked folder": folder / inv.name, "hardlink": hard}


CASES = {
    "assess": lambda i, o: ["assess", str(i), "-o", str(o)],
    "score": lambda i, o: ["score", str(i), "-o", str(o)],
    "validate --report": lambda i, o: ["validate", str(i), "--report", str(o)],
    "export": lambda i, o: ["export", "drina", "--sites", str(i), "-o", str(o)],
    "map": lambda i, o: ["map", "drina", "--sites", str(i), "-o", str(o)],
    "matrix": lambda i, o: ["matrix", str(i), "-o", str(o)],
    "spill": lambda i, o: ["spill", "a", "--mass", "1t", "--sites", str(i), "-o", str(o)],
}


@pytest.mark.parametrize("how", ["same", "dotted", "symlink", "relative symlink", "chained symlinks",
                                 "linked folder", "hardlink"])
@pytest.mark.parametrize("cmd", sorted(CASES))
def test_output_over_input_is_refused(cmd, how, inv):
    out = _aliases(inv)[how]
    before = inv.read_bytes()
    res = CliRunner().invoke(main, CASES[cmd](inv, out))
    assert res.exit_code == 2, (cmd, how, res.output)
    assert "the output would overwrite the input file" in res.output
    assert "Traceback" not in res.output
    assert inv.read_bytes() == before
    assert [p.name for p in inv.parent.iterdir() if p.name.startswith(".")] == []  # no temporary file
    assert out.is_symlink() == (how in ("symlink", "relative symlink", "chained symlinks"))  # links kept


def test_score_refuses_to_overwrite_its_params_file(inv, tmp_path):
    params = tmp_path / "p.toml"
    params.write_text("[priority]\nhazard_weight = 0.5\nexposure_weight = 0.5\n")
    res = CliRunner().invoke(main, ["score", str(inv), "-o", str(params), "--params", str(params)])
    assert res.exit_code == 2 and "would overwrite the input file" in res.output
    assert params.read_text().startswith("[priority]")


def test_report_refuses_output_folder_that_overwrites_input(tmp_path):
    sub = tmp_path / "x"
    sub.mkdir()
    inv = sub / "drina_report.html"
    os.symlink(tmp_path / "real.csv", inv)
    (tmp_path / "real.csv").write_text(CSV)
    res = CliRunner().invoke(main, ["report", "drina", "--sites", str(tmp_path / "real.csv"), "-o", str(sub),
                                    "--no-pdf"])
    assert res.exit_code == 2 and "would overwrite the input file" in res.output
    assert (tmp_path / "real.csv").read_text() == CSV


def test_different_files_are_accepted(inv, tmp_path):
    res = CliRunner().invoke(main, ["validate", str(inv), "--report", str(tmp_path / "issues.csv")])
    assert res.exit_code == 1  # the file has an error row; the report is written
    assert "minee" in (tmp_path / "issues.csv").read_text()
    assert inv.read_text() == CSV


def test_helper_compares_shapefile_components(tmp_path):
    shp = tmp_path / "in.shp"
    for ext in (".shp", ".dbf", ".shx"):
        shp.with_suffix(ext).write_bytes(b"x")
    with pytest.raises(RiskmapInputError, match="would overwrite"):
        check_output_not_input(tmp_path / "in.SHP".lower(), [shp])
    with pytest.raises(RiskmapInputError, match="would overwrite"):
        check_output_not_input(shp, [tmp_path / "." / "in.shp"])
    check_output_not_input(tmp_path / "other.shp", [shp])
    check_output_not_input(None, [shp])


def test_import_hydrosheds_refuses_to_overwrite_its_input(tmp_path):
    basins = tmp_path / "drina_hs.gpkg"
    basins.write_bytes(b"not really a geopackage")
    rivers = tmp_path / "rivers.gpkg"
    rivers.write_bytes(b"x")
    res = CliRunner().invoke(main, ["data", "import-hydrosheds", "--basins", str(basins), "--rivers", str(rivers),
                                    "--outlet", "19.33,44.90", "--name", "drina_hs", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "would overwrite the input file" in res.output
    assert basins.read_bytes() == b"not really a geopackage"


def test_helper_sees_through_links_on_both_sides(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text(CSV)
    given = tmp_path / "given.csv"
    given.symlink_to(real)  # the input is named through one link ...
    out = tmp_path / "out.csv"
    out.symlink_to(given)  # ... and the output is a link to that link
    with pytest.raises(RiskmapInputError, match=f"^{out}: the output would overwrite the input file {given}"):
        check_output_not_input(out, [given])
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "new.csv")
    check_output_not_input(dangling, [given])  # a link to a file that is not an input: accepted
    assert real.read_text() == CSV


def test_spill_csv_sidecar_hard_linked_to_an_input_is_refused(tmp_path):
    """``spill -o x.csv`` also writes ``x.scenario.json``: a hard link of an input there is refused too."""
    disch = tmp_path / "discharge.toml"
    disch.write_text("# discharge table\n", encoding="utf-8")
    os.link(disch, tmp_path / "res.scenario.json")
    r = CliRunner().invoke(main, ["spill", "19.3,43.3", "--mass", "1t", "--discharge", str(disch),
                                  "-o", str(tmp_path / "res.csv")])
    assert r.exit_code == 2, r.output
    assert "res.scenario.json: the output would overwrite the input file" in r.output
    assert disch.read_text(encoding="utf-8") == "# discharge table\n"
    assert not (tmp_path / "res.csv").exists()
