"""Build a basin's hydrography from a digital elevation model (DEM).

``riskmap data build-from-dem DEM [DEM ...] --outlet LON,LAT --name NAME`` and
:func:`build_from_dem` write ``<data>/basins/<NAME>.gpkg`` with the same layers and
columns as the reference build (``outline``, ``sub_basins``, ``reaches``, ``lakes``,
``countries``, ``borders``, ``towns``, ``dams``), a ``basins.json`` entry and a
PROVENANCE record, so :func:`riskmap.hydrography.load_basin` and every other part of
riskmap use the result unchanged.

Method (every tolerance is a module constant, documented in ``docs/hydrography.md``):

1. Read one or more tiles (GeoTIFF, SRTM ``.hgt``, NetCDF: anything rasterio reads) in
   geographic coordinates; several tiles must share CRS and cell size and touch each other;
   they are mosaicked with :func:`rasterio.merge.merge`.
2. Nodata regions connected to the grid edge (and cells at or below :data:`SEA_M` connected
   to the edge) are "outside" (sea, no coverage); interior nodata cells are voids, filled by
   inverse-distance interpolation (:func:`rasterio.fill.fillnodata`, at most
   :data:`VOID_SEARCH_CELLS` cells away).
3. Stream burning: the mapped rivers (by default the bundled reaches of every bundled basin
   crossing the DEM; or ``burn``, a line file) are rasterised and lowered by :data:`BURN_M`.
4. D8 flow directions (depressions filled, outlets at the grid edge and the outside) and
   upstream area with pyflwdir; the outlet snaps to the nearest stream cell within
   :data:`OUTLET_SNAP_KM` (the network ends there).
5. Streams: cells of upstream area >= ``stream_km2`` in the outlet's basin, cut at confluences
   and into pieces of at most :data:`MAX_REACH_KM`; attributes: ``reach_id``, ``downstream_id``,
   ``length_km`` (geodesic), ``dist_to_outlet_km``, ``upland_km2``, ``slope`` (m/m, void-filled
   DEM before burning), Strahler ``order``, ``name`` (the mapped river followed by at least
   :data:`NAME_SHARE` of the reach's sample points within :data:`NAME_M`), ``country`` /
   ``is_border`` (the one border-river rule of :mod:`riskmap.databuild.border_rivers`: the river
   follows the border line), ``waterbody``, ``sub_basin``.
6. Outline and sub-basins from the flow directions (the catchments of the named tributaries
   larger than :data:`SUB_BASIN_MIN_SHARE` of the basin), vectorised with
   :func:`rasterio.features.shapes` and simplified as a coverage (no gaps, no overlaps) with a
   tolerance of :data:`SIMPLIFY_CELLS` cell.
7. Lakes, towns, dams, countries and borders from the bundled data (dams re-attached to the
   nearest new reach within :data:`DAM_SNAP_M`).

Examples
--------
>>> from riskmap.databuild.dem import build_from_dem
>>> build_from_dem(["N42E019.hgt"], outlet=(19.245, 42.44), name="moraca",
...                data_dir="/tmp/rm")  # doctest: +SKIP
PosixPath('/tmp/rm/basins/moraca.gpkg')
"""

from __future__ import annotations

from riskmap.databuild.dem.build import DemBuildOptions, build_from_dem, build_with_options, parse_outlet
from riskmap.databuild.dem.bundled import BUNDLED_DEM_BASINS, BUNDLED_SINKS, build_bundled, bundled_sinks
from riskmap.databuild.dem.conditioning import bundled_rivers, burn, read_burn
from riskmap.databuild.dem.constants import (
    BURN_M,
    DAM_SNAP_M,
    MAX_REACH_KM,
    MAX_VOID_SHARE,
    NAME_M,
    NAME_SHARE,
    OUTLET_SNAP_KM,
    RIPARIAN_MIN_KM2,
    RIPARIAN_MIN_SHARE,
    SAMPLE_M,
    SEA_M,
    SIMPLIFY_CELLS,
    STREAM_KM2,
    SUB_BASIN_MIN_SHARE,
    TOWN_M,
    VOID_SEARCH_CELLS,
)
from riskmap.databuild.dem.flowgrid_io import FLOWGRID_NODATA, flowgrid_path, save_flowgrid
from riskmap.databuild.dem.grid import DemGrid, read_dem
from riskmap.databuild.dem.join import join_downstream
from riskmap.databuild.dem.routing import check_cover, route, snap_outlet
from riskmap.databuild.dem.stems import NAMED_STEMS, name_stems
from riskmap.databuild.dem.vectorise import extract_reaches, label_reaches, polygons, sub_basin_raster

__all__ = [
    "DemBuildOptions", "build_with_options", "BUNDLED_SINKS", "bundled_sinks",
    "BUNDLED_DEM_BASINS", "BURN_M", "DAM_SNAP_M", "DemGrid", "FLOWGRID_NODATA", "MAX_REACH_KM",
    "MAX_VOID_SHARE", "NAMED_STEMS", "NAME_M", "NAME_SHARE", "OUTLET_SNAP_KM", "RIPARIAN_MIN_KM2",
    "RIPARIAN_MIN_SHARE", "SAMPLE_M", "SEA_M", "SIMPLIFY_CELLS", "STREAM_KM2", "SUB_BASIN_MIN_SHARE",
    "TOWN_M", "VOID_SEARCH_CELLS", "build_bundled", "build_from_dem", "bundled_rivers", "burn",
    "check_cover", "extract_reaches", "flowgrid_path", "join_downstream", "label_reaches", "name_stems",
    "parse_outlet", "polygons", "read_burn", "read_dem", "route", "save_flowgrid", "snap_outlet",
    "sub_basin_raster",
]
