"""Build the map context layers (``data/context/``) from the public sources.

The basin maps draw lakes and reservoirs outside and around the basins (the
North Aral Sea at the mouth of the Syr Darya, Lake Skadar/Shkodra beside the
Drin ...) from this small derived layer. It reads (never modifies) the Natural
Earth 1:10m physical copies under the sources folder (see their ``SOURCE.md``)
and writes:

- ``data/context/lakes.gpkg`` (layer ``lakes``): ``name`` (missing names stay
  empty, never invented), ``kind`` (``lake``, ``reservoir``, ``alkaline lake``
  from Natural Earth's ``featurecla``), ``aoi``, ``source``, geometry
  (Polygon/MultiPolygon, EPSG:4326, as in the source);
- ``data/context/PROVENANCE.json``: sources with sha256, licence, attribution,
  processing steps, riskmap version and build date.

Run ``python -m riskmap.databuild.map_context [SOURCES_DIR]``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR, default_sources_dir
from riskmap.io import atomic_write_text, sha256_file, write_layers

__all__ = ["build_map_context", "LAKE_SOURCES"]

_NE = Path("natural-earth-10m-physical-v4.0.0")

#: (source file, layer, aoi) of every lake layer used.
LAKE_SOURCES: tuple[tuple[Path, str, str], ...] = (
    (_NE / "ne10m_physical_central_asia.gpkg", "lakes", "central_asia"),
    (_NE / "ne10m_physical_western_balkans.gpkg", "lakes", "western_balkans"),
    (_NE / "ne10m_physical_western_balkans.gpkg", "lakes_europe", "western_balkans"),
)

_ATTRIBUTION = {
    "title": "Natural Earth 1:10m lakes and reservoirs (v4.0.0, incl. the Europe supplement), AOI subset",
    "licence": "public domain (Natural Earth); conversion repository CC0",
    "attribution": "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com.",
    "url": "https://www.naturalearthdata.com/downloads/10m-physical-vectors/10m-lakes/",
    "caveat": ("1:10 million cartographic outlines for display only; small reservoirs (e.g. on the Drina) are "
               "not in Natural Earth. The Aral Sea outline is Natural Earth's present-day extent."),
}


def _kind(featurecla: pd.Series) -> pd.Series:
    f = featurecla.astype("string").str.strip().str.lower()
    return f.where(f.isin(["lake", "reservoir", "alkaline lake"]), "lake").fillna("lake")


def _lakes(src: Path) -> gpd.GeoDataFrame:
    parts = []
    for rel, layer, aoi in LAKE_SOURCES:
        g = gpd.read_file(src / rel, layer=layer)
        if g.crs is not None and not g.crs.equals("EPSG:4326"):
            g = g.to_crs("EPSG:4326")
        g = g[~(g.geometry.isna() | g.geometry.is_empty)]
        name = g["name"].astype("string").str.strip() if "name" in g.columns else pd.Series(pd.NA, index=g.index)
        parts.append(gpd.GeoDataFrame({"name": name.replace("", pd.NA), "kind": _kind(g["featurecla"]),
                                       "aoi": aoi, "source": f"{rel.parent.name}/{rel.name}:{layer}"},
                                      geometry=g.geometry.to_numpy(), crs="EPSG:4326"))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")


def build_map_context(sources: str | Path | None = None, out_dir: str | Path | None = None) -> dict:
    """Build ``data/context/lakes.gpkg`` and ``PROVENANCE.json``.

    Parameters
    ----------
    sources : path, optional
        Folder of public source datasets (default: ``riskmap._paths.default_sources_dir()``).
    out_dir : path, optional
        Output folder (default: ``data/context``).

    Returns
    -------
    dict
        ``lakes`` (feature count) and ``out_dir``.

    Raises
    ------
    RiskmapInputError
        A source file is missing.

    Examples
    --------
    >>> build_map_context()  # doctest: +SKIP
    {'lakes': 37, 'out_dir': '.../data/context'}
    """
    src = Path(sources) if sources is not None else default_sources_dir()
    out = Path(out_dir) if out_dir is not None else DATA_DIR / "context"
    files = sorted({rel for rel, _, _ in LAKE_SOURCES})
    for rel in files:
        if not (src / rel).is_file():
            raise RiskmapInputError(f"{src / rel}: source file not found (pass the sources folder)")
    lakes = _lakes(src)
    out.mkdir(parents=True, exist_ok=True)
    write_layers(out / "lakes.gpkg", {"lakes": lakes})
    try:
        from importlib.metadata import version

        rv = version("riskmap")
    except Exception:  # noqa: BLE001
        rv = "unknown"
    prov = {
        "riskmap_version": rv,
        "build_date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "products": {"lakes.gpkg": {
            **_ATTRIBUTION,
            "sources": [{"path": str(rel), "sha256": sha256_file(src / rel)} for rel in files],
            "features": int(len(lakes)),
            "by_aoi": {str(k): int(v) for k, v in lakes["aoi"].value_counts().sort_index().items()},
            "steps": ["read layers lakes (both AOIs) and lakes_europe (western Balkans)",
                      "drop empty geometries", "kind from featurecla (lake, reservoir, alkaline lake)",
                      "keep name (missing names stay empty), geometry unchanged"],
        }},
    }
    atomic_write_text(out / "PROVENANCE.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    return {"lakes": int(len(lakes)), "out_dir": str(out)}


if __name__ == "__main__":  # pragma: no cover - data build entry point
    print(build_map_context(sys.argv[1] if len(sys.argv) > 1 else None))
