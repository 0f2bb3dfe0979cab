"""Notebooks are stored without outputs and execute end to end (nbclient)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {k} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {k} has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("RISKMAP_NOTEBOOK_OUT")
    os.environ["RISKMAP_NOTEBOOK_OUT"] = str(tmp_path)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(NB_DIR)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("RISKMAP_NOTEBOOK_OUT", None)
        else:
            os.environ["RISKMAP_NOTEBOOK_OUT"] = env_before
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


@pytest.mark.slow
def test_getting_started_matches_the_cli(tmp_path):
    """Notebook 01's exported inventory agrees with `riskmap assess` on the same data."""
    import pandas as pd
    from click.testing import CliRunner
    from nbclient import NotebookClient

    from riskmap.cli import main

    nb = nbformat.read(NB_DIR / "01_getting_started.ipynb", as_version=4)
    os.environ["RISKMAP_NOTEBOOK_OUT"] = str(tmp_path)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(NB_DIR)}}).execute()
    finally:
        os.environ.pop("RISKMAP_NOTEBOOK_OUT", None)
    cli_csv = tmp_path / "cli_assessed.csv"
    res = CliRunner().invoke(main, ["assess", "-o", str(cli_csv)])
    assert res.exit_code == 0, res.output
    nb_df = pd.read_csv(tmp_path / "sites_assessed.csv").set_index("site_id").sort_index()
    cli_df = pd.read_csv(cli_csv).set_index("site_id").sort_index()
    assert list(nb_df.index) == list(cli_df.index)
    for col in ("basin", "country", "exposure_class", "downstream_countries"):
        assert nb_df[col].fillna("").astype(str).tolist() == cli_df[col].fillna("").astype(str).tolist(), col
    pd.testing.assert_series_equal(nb_df["first_border_river_km"], cli_df["first_border_river_km"],
                                   check_exact=False, rtol=1e-9)
