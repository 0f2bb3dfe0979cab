"""riskmap: transboundary technological risk inventories, maps and reports.

riskmap loads hazardous industrial sites and tailings management facilities
for the Drin, Drina and Syr Darya basins, finds who is exposed downstream
across borders, scores hazards, and renders offline maps, reports and
inventory exports.

``riskmap.__version__`` is the package version (PEP 440);
``riskmap.__data_version__`` the date and checksum of the data riskmap reads
(``riskmap.data_info()`` for details, ``riskmap.version_string()`` for both
in one line, as printed in output footers and ``riskmap --version``).

The public API is re-exported here; heavy modules (maps, reports) are only
imported when first used.

Examples
--------
>>> import riskmap
>>> sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")
>>> sorted(sites["basin"].dropna().unique())
['drin', 'drina', 'syr_darya']
"""

from __future__ import annotations

import importlib
from typing import Any

from riskmap._errors import (RiskmapDataWarning, RiskmapError, RiskmapInputError, RiskmapOutputError,
                             RiskmapValidationError)
from riskmap._about import __version__
from riskmap._paths import DATA_DIR, PARAMS_DIR
from riskmap.io import read_sites, write_sites
from riskmap.schema import ValidationReport
from riskmap.validation import validate_sites

# public name -> (module, attribute) that defines it (imported lazily)
_LAZY: dict[str, tuple[str, str]] = {
    "list_basins": ("riskmap.hydrography", "list_basins"),
    "load_basin": ("riskmap.hydrography", "load_basin"),
    "Basin": ("riskmap.hydrography", "Basin"),
    "RiverNetwork": ("riskmap.network", "RiverNetwork"),
    "import_hydrosheds": ("riskmap.databuild.hydrosheds", "import_hydrosheds"),
    "assess": ("riskmap.exposure", "assess"),
    "exposure_matrix": ("riskmap.exposure", "exposure_matrix"),
    "score": ("riskmap.hazard", "score"),
    "load_params": ("riskmap.params", "load_params"),
    "rank": ("riskmap.hazard", "rank"),
    "sample": ("riskmap.rasters", "sample"),
    "zonal_stats": ("riskmap.rasters", "zonal_stats"),
    "basin_map": ("riskmap.maps", "basin_map"),
    "save_map": ("riskmap.maps", "save_map"),
    "build_report": ("riskmap.report", "build_report"),
    "export_sites": ("riskmap.export", "export"),
    "read_export": ("riskmap.export", "read_export"),
    "simulate_spill": ("riskmap.spill", "simulate_spill"),
    "SpillResult": ("riskmap.spill", "SpillResult"),
    "build_sites": ("riskmap.databuild.sites", "build_sites"),
    "summarize_sites": ("riskmap.inventory", "summarize_sites"),
    "prepare_sites": ("riskmap.pipeline", "prepare_sites"),
    "prepare": ("riskmap.pipeline", "prepare"),
    "run_all": ("riskmap.pipeline", "run_all"),
    "data_info": ("riskmap._about", "data_info"),
    "data_version": ("riskmap._about", "data_version"),
    "version_string": ("riskmap._about", "version_string"),
}

#: ``riskmap.<old name>`` -> the module's place in the data build package
_MOVED: dict[str, str] = {"sources": "riskmap.databuild.sites", "hydrosheds": "riskmap.databuild.hydrosheds"}


def __getattr__(name: str) -> Any:
    if name == "__data_version__":  # the bundled data's date and checksum, computed on first use
        from riskmap._about import data_version

        return data_version()
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _MOVED:  # modules of the data build, moved to riskmap.databuild (issue 14)
        return importlib.import_module(_MOVED[name])
    if name in {"maps", "report", "export", "hydrography", "exposure", "hazard",
                "spill", "rasters", "schema", "io", "pipeline", "network", "inventory", "params", "natech",
                "validation", "discharge", "transport", "basin_index", "population", "basins"}:
        return importlib.import_module(f"riskmap.{name}")
    raise AttributeError(f"module 'riskmap' has no attribute {name!r}")


__all__ = [
    "DATA_DIR",
    "PARAMS_DIR",
    "RiskmapDataWarning",
    "RiskmapError",
    "RiskmapInputError",
    "RiskmapOutputError",
    "RiskmapValidationError",
    "ValidationReport",
    "read_sites",
    "validate_sites",
    "write_sites",
    "__version__",
    "__data_version__",
    *_LAZY,
]
