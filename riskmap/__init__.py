"""riskmap: transboundary technological risk inventories, maps and reports.

riskmap loads hazardous industrial sites and tailings management facilities
for the Drin, Drina and Syr Darya basins, finds who is exposed downstream
across borders, scores hazards, and renders offline maps, reports and
inventory exports.

The public API is re-exported here; heavy modules (maps, reports) are only
imported when first used.

Examples
--------
>>> import riskmap
>>> sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from riskmap._errors import RiskmapError, RiskmapInputError, RiskmapValidationError
from riskmap._paths import DATA_DIR, PARAMS_DIR
from riskmap.io import read_sites, write_sites
from riskmap.schema import ValidationReport, validate_sites

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in {"maps", "report", "export", "hydrography", "exposure", "hazard", "spill",
                "rasters", "sources", "schema", "io"}:
        return importlib.import_module(f"riskmap.{name}")
    raise AttributeError(f"module 'riskmap' has no attribute {name!r}")


__all__ = [
    "DATA_DIR",
    "PARAMS_DIR",
    "RiskmapError",
    "RiskmapInputError",
    "RiskmapValidationError",
    "ValidationReport",
    "read_sites",
    "validate_sites",
    "write_sites",
    "__version__",
    *_LAZY,
]
