"""Importers for the hazardous-site inventory, de-duplication and the default build.

One module per source family (:mod:`~riskmap.sources.gppd`,
:mod:`~riskmap.sources.gem`, :mod:`~riskmap.sources.geodar`,
:mod:`~riskmap.sources.usgs`, :mod:`~riskmap.sources.fineprint`,
:mod:`~riskmap.sources.literature`), :mod:`~riskmap.sources.dedupe` and
:mod:`~riskmap.sources.build` (``riskmap data build-sites``). Category and
status mapping tables are data: ``riskmap/sources/mappings.toml``.
"""

from riskmap.sources._common import SourceResult, mappings
from riskmap.sources.build import (BASINS, DIVIDE_BUFFER_KM, BuildResult, assign_basins, basin_regions,
                                   build_inventory, build_sites, derive_countries, read_all_sources)
from riskmap.sources.dedupe import dedupe_sites, name_key, name_score, transliterate
from riskmap.sources.summary import HAZARD_FIELDS, print_summary, summarize_sites

__all__ = [
    "SourceResult", "mappings", "BASINS", "DIVIDE_BUFFER_KM", "BuildResult", "assign_basins", "basin_regions",
    "build_inventory", "build_sites", "derive_countries", "read_all_sources", "dedupe_sites", "name_key",
    "name_score", "transliterate", "HAZARD_FIELDS", "print_summary", "summarize_sites",
]
