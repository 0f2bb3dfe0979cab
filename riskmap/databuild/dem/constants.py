"""Tolerances and defaults of the DEM hydrography builder (documented in docs/hydrography.md)."""

from __future__ import annotations

# ---------------------------------------------------------------- parameters

#: Depth (m) by which the mapped river cells are lowered before routing (stream burning).
BURN_M = 20.0
#: Default stream threshold: upstream area (km2) from which a cell is a stream.
STREAM_KM2 = 100.0
#: Longest reach (km); longer stream segments are split into equal parts.
MAX_REACH_KM = 10.0
#: The outlet moves to the cell of largest upstream area within this distance (km).
OUTLET_SNAP_KM = 5.0
#: Interior voids are interpolated from valid cells at most this many cells away.
VOID_SEARCH_CELLS = 100
#: Refuse a DEM whose interior voids exceed this share of its valid cells.
MAX_VOID_SHARE = 0.25
#: Cells at or below this elevation (m) connected to the grid edge are sea.
SEA_M = 0.0
#: Spacing of sample points along reaches (m).
SAMPLE_M = 250.0
#: Mapped-river names are transferred to reaches whose sample points lie within this distance (m) ...
NAME_M = 3000.0
#: ... for at least this share of the reach's sample points.
NAME_SHARE = 0.5
#: A named tributary becomes a sub-basin when its catchment is at least this share of the basin.
SUB_BASIN_MIN_SHARE = 0.05
#: Outline simplification tolerance, in cells (coverage simplification: no gaps between sub-basins).
SIMPLIFY_CELLS = 1.0
#: Dams of the bundled data are re-attached to the nearest new reach within this distance (m).
DAM_SNAP_M = 3000.0
#: Bundled towns within this distance of the outline are kept (m).
TOWN_M = 10_000.0
#: Countries with at least this share of the basin area are riparian (as the reference build).
RIPARIAN_MIN_SHARE = 0.02
RIPARIAN_MIN_KM2 = 20.0
_NODATA = -9999.0
