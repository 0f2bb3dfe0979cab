"""What a report is made of: :class:`ReportInputs`, and gathering them for a basin.

:func:`report_inputs` takes sites already read, assessed and scored
(:func:`riskmap.pipeline.prepare`) with the basin's hydrography, exposure
matrix and provenance files; :func:`prepare_inputs` runs the pipeline first.
No analysis is done here. :mod:`riskmap.report` renders the inputs (and
re-exports every name of this module).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR
from riskmap.basins import resolve_basin

__all__ = ["ReportInputs", "assessment_basins", "prepare_inputs", "report_inputs"]


@dataclass
class ReportInputs:
    """Everything a report is rendered from (already loaded, assessed and scored).

    Attributes
    ----------
    basin_id : str
        ``drin``, ``drina`` or ``syr_darya`` (any id for synthetic inputs).
    sites : geopandas.GeoDataFrame
        The basin's sites with exposure and hazard columns (those missing are
        reported as not computed).
    basin : Basin or dict, optional
        ``riskmap.hydrography.Basin`` (or a dict with the same keys):
        ``outline``, ``reaches``, ``lakes``, ``countries``, ``borders``,
        ``towns``, ``meta``.
    matrix : pandas.DataFrame, optional
        Transboundary exposure matrix (``riskmap.exposure.exposure_matrix``).
    sites_provenance, basins_provenance : dict, optional
        Contents of ``data/sites/PROVENANCE.json`` and ``data/basins/PROVENANCE.json``.
    interactive_map : str, optional
        File name (relative to the report) of the interactive map.
    input_files : dict, optional
        Label -> path of input files whose SHA-256 goes into the footer.
    basin_name : str, optional
        Display name (default from the basin's meta or the id).
    other_provenance : dict, optional
        Use (e.g. ``"Natech screening"``) -> provenance dict of further inputs
        (``data/natech/PROVENANCE.json``); their sources are cited too.
    validation : riskmap.schema.ValidationReport, optional
        The validation report of the input file; its dropped rows (row,
        column, reason) are listed in the data-quality section.
    left_out : riskmap.pipeline.LeftOut, optional
        Sites of the input file outside the basin (stated in the same section).
    """

    basin_id: str
    sites: gpd.GeoDataFrame
    basin: Any = None
    matrix: pd.DataFrame | None = None
    sites_provenance: dict | None = None
    basins_provenance: dict | None = None
    interactive_map: str | None = None
    input_files: dict[str, Path] = field(default_factory=dict)
    basin_name: str | None = None
    other_provenance: dict[str, dict] = field(default_factory=dict)
    validation: Any = None
    left_out: Any = None


def _read_json(p: Path) -> dict | None:
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RiskmapInputError(f"{p}: cannot read provenance JSON: {e}") from None


def assessment_basins(basin: str, data_dir: str | Path | None = None) -> list[str]:
    """Every basin whose hydrography is in the data folder (``basin`` included): what sites are assessed against.

    Sites are assessed against all of them and then the basin's are selected,
    so a site near a divide belongs to one basin only, in every output.
    """
    from riskmap.hydrography import list_basins

    data = Path(data_dir) if data_dir is not None else DATA_DIR
    found = [b for b in list_basins(data_dir) if (data / "basins" / f"{b}.gpkg").is_file()]
    return found if basin in found else [*found, basin]


def prepare_inputs(basin: str, *, sites: gpd.GeoDataFrame | str | os.PathLike | None = None,
                   data_dir: str | Path | None = None, read: Any = None,
                   score_options: Any = None) -> ReportInputs:
    """Read, assess and score the sites of one basin, then gather the report's inputs.

    The steps are :func:`riskmap.pipeline.prepare` (always run: a file that
    already carries computed columns is assessed and scored again) followed
    by :func:`report_inputs`.

    Parameters
    ----------
    basin : str
        ``drin``, ``drina`` or ``syr_darya``.
    sites : geopandas.GeoDataFrame or path, optional
        Sites to use instead of the bundled inventory.
    data_dir : path, optional
        Alternative ``data/`` folder.
    read : riskmap.pipeline.ReadOptions, optional
        How a site file is read (``strict``, ``layer``, ``crs``).
    score_options : riskmap.pipeline.ScoreOptions, optional
        Scoring parameters and rasters (the CLI's ``--params``, ``--raster``).

    The sites are assessed against every basin and then the basin's are
    selected, so that a site near a divide belongs to one basin only and the
    report, map, export and demo show the same inventory of a basin.

    Examples
    --------
    >>> inputs = prepare_inputs("drina")  # doctest: +SKIP
    """
    from riskmap.pipeline import prepare

    basin = resolve_basin(basin, data_dir)  # "Drina" / "DRINA" name the drina basin (riskmap.basins)
    prepared = prepare(sites, basins=assessment_basins(basin, data_dir), read=read, data_dir=data_dir,
                       score_options=score_options)
    return report_inputs(basin, prepared, data_dir=data_dir, score_options=score_options)


def _input_files(basin: str, data: Path, source: Path | None) -> dict[str, Path]:
    files: dict[str, Path] = {}
    if source is not None and source.resolve() == (data / "sites" / "sites.csv").resolve():
        files["site inventory"] = source
    for label, f in (("basin hydrography", data / "basins" / f"{basin}.gpkg"),
                     ("basin metadata", data / "basins" / "basins.json"),
                     ("site provenance", data / "sites" / "PROVENANCE.json"),
                     ("hydrography provenance", data / "basins" / "PROVENANCE.json")):
        if f.is_file():
            files[label] = f
    return files


def report_inputs(basin: str, prepared: Any, *, data_dir: str | Path | None = None,
                  score_options: Any = None) -> ReportInputs:
    """The report's inputs from prepared sites (:func:`riskmap.pipeline.prepare`); no analysis reruns.

    Parameters
    ----------
    basin : str
        Basin id; the sites are narrowed to those assessed in it.
    prepared : riskmap.pipeline.Prepared
        Read, assessed and (normally) scored sites.
    data_dir : path, optional
        Alternative ``data/`` folder (basin, provenance files).
    score_options : riskmap.pipeline.ScoreOptions, optional
        Not used: the sites carry their one ranking from the score step (kept for callers).

    Examples
    --------
    >>> from riskmap.pipeline import prepare
    >>> report_inputs("drina", prepare(basins=["drina"])).basin_id
    'drina'
    """
    from riskmap.hydrography import load_basin
    from riskmap.pipeline import basin_step, exposure_matrix_of

    data = Path(data_dir) if data_dir is not None else DATA_DIR
    b = load_basin(basin, data_dir=data_dir) if data_dir is not None else load_basin(basin)
    if prepared.assessed:
        prepared = basin_step(prepared, basin)  # says how many sites of the file lie outside the basin
    return ReportInputs(
        basin_id=basin, sites=prepared.sites, basin=b, matrix=exposure_matrix_of(prepared, basin),
        sites_provenance=_read_json(data / "sites" / "PROVENANCE.json"),
        basins_provenance=_read_json(data / "basins" / "PROVENANCE.json"),
        other_provenance={k: v for k, v in {
            "Natech screening": _read_json(data / "natech" / "PROVENANCE.json")}.items() if v},
        input_files=_input_files(basin, data, prepared.source), validation=prepared.validation,
        left_out=prepared.left_out)
