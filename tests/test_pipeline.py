"""The main job (`riskmap demo` / `make demo`): every output per basin, linked from index.html."""

from __future__ import annotations

import re

import pandas as pd
from click.testing import CliRunner

import riskmap
from riskmap.cli import main
from riskmap.maps import external_references


def test_demo_builds_linked_outputs_for_every_basin(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["demo", "-o", str(out), "--no-pdf"])
    assert res.exit_code == 0, res.output
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((out / link).is_file() for link in links), links
    inv = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv", strict=True)
    for basin in ("drin", "drina", "syr_darya"):
        assert f"{basin}_map.html" in links and f"{basin}_report.html" in links
        csv = pd.read_csv(out / f"{basin}_sites.csv")
        # every inventory site of the basin is in its CSV and counted on the index page
        assert sorted(csv["site_id"]) == sorted(inv.loc[inv["basin"] == basin, "site_id"])
        assert f"<td>{len(csv)}</td>" in index
        for page in (f"{basin}_map.html", f"{basin}_report.html"):
            assert external_references((out / page).read_text(encoding="utf-8")) == [], page
