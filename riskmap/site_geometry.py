"""Site geometries of one kind: GeometryCollections read as the multi-geometry they hold, or refused.

A site is a point, a line (pipelines) or a polygon footprint, and each kind
goes to its own GeoPackage layer (:func:`riskmap.export.export`). A
GeoJSON ``GeometryCollection`` (or a ``GEOMETRYCOLLECTION`` in
``geometry_wkt``) holding one kind of part is that kind's multi-geometry;
one mixing points, lines and polygons says nothing about which the site is
and is refused with its row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from riskmap.i18n import _

__all__ = ["collection_parts", "flatten_collections"]

#: shapely's type id of a GeometryCollection.
_COLLECTION = 7


def collection_parts(geom: Any) -> list[Any]:
    """The non-empty simple parts of a geometry, nested collections opened.

    Examples
    --------
    >>> gc = shapely.from_wkt("GEOMETRYCOLLECTION (POINT (1 2), GEOMETRYCOLLECTION (POINT (3 4)))")
    >>> [p.wkt for p in collection_parts(gc)]
    ['POINT (1 2)', 'POINT (3 4)']
    """
    parts = [geom]
    while any(shapely.get_type_id(p) in (4, 5, 6, _COLLECTION) for p in parts):
        parts = [q for p in parts for q in shapely.get_parts(p)]
    return [p for p in parts if not p.is_empty]


def _kind_names(dims: set[int]) -> str:
    names = {0: _("points"), 1: _("lines"), 2: _("polygons")}
    return ", ".join(names[d] for d in sorted(dims))


def _one_kind(parts: list[Any], dim: int) -> Any:
    """The multi-geometry (or single geometry) of simple parts of one dimension.

    Polygons are not merged here: overlapping or invalid ones make an invalid
    MultiPolygon, which the validation's repair step fixes with ``make_valid``
    and reports (a union of invalid polygons would raise a GEOS error).
    """
    if len(parts) == 1:
        return parts[0]
    make = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    return make(parts)


def flatten_collections(geoms: np.ndarray, cells: Any, column: str) -> None:
    """Replace GeometryCollections of one kind by that kind's geometry; refuse mixed ones (in place).

    ``cells`` is the validation's shared state (``err`` and ``bad``); ``column``
    names the geometry column in the report (``geometry`` or ``geometry_wkt``).
    An empty collection is left for the empty-geometry check.
    """
    cand = np.flatnonzero(~cells.bad)
    if not len(cand):
        return
    types = shapely.get_type_id(np.asarray(geoms[cand], dtype=object))
    for i in cand[types == _COLLECTION]:
        parts = collection_parts(geoms[i])
        if not parts:
            continue
        dims = {int(shapely.get_dimensions(p)) for p in parts}
        if len(dims) > 1:
            cells.err(i, column, _("a GeometryCollection mixing {kinds}: a site is one point, line or polygon "
                                   "footprint").format(kinds=_kind_names(dims)),
                      _("keep the site's footprint, line or point only, or split it into several sites"))
            cells.bad[i] = True
            continue
        geoms[i] = _one_kind(parts, dims.pop())
        cells.err(i, column, _("a GeometryCollection, read as a {type} ({n} part(s))").format(
            n=len(parts), type=geoms[i].geom_type),
                  _("nothing to do, or write the site as that geometry type"), "warning")
