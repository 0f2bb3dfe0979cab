"""Build the reference hydrography (``data/basins/``) from public sources.

Inputs (read-only, under the sources folder, see each ``SOURCE.md``):

- Natural Earth 1:10m admin-0 v5.1.2 (countries, derived shared borders),
- Natural Earth 1:10m physical v4.0.0 (named rivers, lake centre lines, lakes),
- GSHHG 2.3.7 / WDBII rivers (denser, unnamed river lines),
- Natural Earth 1:10m populated places v5.0.1 (checkpoint towns),
- TFDD international basins (validation only: never written into a product).

Modules, in build order: :mod:`.specs` (parameters; the tables are ``specs.toml``
and ``basins.toml`` beside it), :mod:`.lines` (countries, river lines, noding),
:mod:`.reaches` (basin tree, reaches), :mod:`.outlines` (allocation),
:mod:`.products` (dams, towns, files, provenance; :func:`build_reference`).

Method (details and tolerances in ``docs/hydrography.md``):

1. Lines: GSHHG permanent rivers (levels 1-4) plus NE rivers where GSHHG has no
   line within :data:`~riskmap.databuild.reference.specs.NE_COVER_M`; straight "lake links" join river ends at a
   lake shore to the lake centre; Lake Prespa gets a documented karst link to
   Lake Ohrid. Intermittent rivers (5-7) and canals (8-10) are dropped.
2. Noding: every line end within :data:`~riskmap.databuild.reference.specs.SNAP_M` of another line is snapped
   onto it and that line is split there.
3. Per basin: the connected network upstream of the outlet (excluding the
   receiving river), a shortest-path tree toward the outlet (loops dropped),
   distributary mouths (Drin branch at Lezhe) re-oriented toward their mouth.
4. Reaches: tree chains between confluences, split where the country / border
   label changes and to at most :data:`~riskmap.databuild.reference.specs.MAX_REACH_KM`; attributes per contract.
5. Outlines: land (union of countries) gridded at :data:`~riskmap.databuild.reference.specs.GRID_M`; each cell goes
   to the nearest river vertex of any river system of the region (plus dam
   anchors of systems missing from both networks, :data:`~riskmap.databuild.reference.specs.UNMAPPED_SYSTEMS`, and
   tributary anchors, ``BasinSpec.anchors``); cells of the target basin form the
   outline, labelled by sub-basin.
6. Dams: GEM Global Hydropower Tracker plants on the network (layer ``dams``);
   the dam's reach marks its reservoir (``waterbody``), whose extent is unknown.
"""

from riskmap.databuild.reference.products import build_date, build_reference, ghpt_dams, write_provenance
from riskmap.databuild.reference.specs import BASIN_SPECS, DAM_SOURCES, SOURCES, BasinSpec

__all__ = ["build_date", "build_reference", "ghpt_dams", "write_provenance", "BASIN_SPECS", "BasinSpec", "DAM_SOURCES", "SOURCES"]
