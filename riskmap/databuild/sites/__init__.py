"""Importers for the hazardous-site inventory, de-duplication and the default build.

One module per source family (:mod:`~riskmap.databuild.sites.gppd`,
:mod:`~riskmap.databuild.sites.gem`, :mod:`~riskmap.databuild.sites.geodar`,
:mod:`~riskmap.databuild.sites.usgs`, :mod:`~riskmap.databuild.sites.fineprint`,
:mod:`~riskmap.databuild.sites.literature`), :mod:`~riskmap.databuild.sites.dedupe` and
:mod:`~riskmap.databuild.sites.build` (``riskmap data build-sites``). Category and
status mapping tables are data: ``riskmap/databuild/sites/mappings.toml``.
"""

from riskmap.databuild.sites._common import SourceResult, make_sites, map_values, mappings
from riskmap.databuild.sites.build import (BASINS, DIVIDE_BUFFER_KM, BuildResult, assign_basins, basin_regions,
                                   build_inventory, build_sites, derive_countries, read_all_sources)
from riskmap.databuild.sites.dedupe import dedupe_sites, name_key, name_score, transliterate
from riskmap.inventory import HAZARD_FIELDS, print_summary, summarize_sites

__all__ = [
    "SourceResult", "make_sites", "map_values", "mappings",
    "BASINS", "DIVIDE_BUFFER_KM", "BuildResult", "assign_basins", "basin_regions",
    "build_inventory", "build_sites", "derive_countries", "read_all_sources", "dedupe_sites", "name_key",
    "name_score", "transliterate", "HAZARD_FIELDS", "print_summary", "summarize_sites",
]
