"""The bundled data: the cartographic reference, then the DEM basins (:func:`build_bundled`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap.basins import read_meta
from riskmap.databuild.dem.build import build_from_dem
from riskmap.databuild.dem.join import join_downstream

# ---------------------------------------------------------------- the bundled data: reference + DEM Syr Darya

#: The bundled basins built from a DEM after the cartographic reference: basin id ->
#: (DEM file under the sources folder, junction/outlet on the main stem at the grid edge, stream km2).
BUNDLED_DEM_BASINS: dict[str, tuple[str, tuple[float, float], float]] = {
    "syr_darya": ("gebco-2023-15s-syr-darya/gebco_2023_15s_syr_darya.tif", (66.15, 44.427), 300.0),
}

#: Terminal sinks bundled with a DEM basin: basin id -> ((sub-basin label, lake file under the sources
#: folder, layer, lake name), ...). The Arnasay-Aydarkul lakes (UZB) are an endorheic depression fed
#: from the Syr Darya (Shardara spillway since 1969, drainage of the Golodnaya steppe): part of the
#: Syr Darya basin in the usual delineations, with no outflow back to the river.
BUNDLED_SINKS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "syr_darya": (("Arnasay-Aydarkul (terminal)",
                   "natural-earth-10m-physical-v4.0.0/ne10m_physical_central_asia.gpkg", "lakes", "Aydar Ko\u2018l"),),
}


def bundled_sinks(sources: Path, bid: str) -> list[tuple[str, Any]]:
    """(label, lake polygon) of :data:`BUNDLED_SINKS` for one basin, read from the sources folder."""
    out = []
    for label, rel, layer, lake in BUNDLED_SINKS.get(bid, ()):
        path = sources / rel
        if not path.is_file():
            raise RiskmapInputError(f"{path}: not found (the {label!r} sink lake of {bid}); see its SOURCE.md")
        g = gpd.read_file(path, layer=layer)
        hit = g[g["name"] == lake]
        if hit.empty:
            raise RiskmapInputError(f"{path}: no lake named {lake!r} in layer {layer!r} (the {label!r} sink of {bid})")
        out.append((label, shapely.union_all(hit.geometry.values)))
    return out


def build_bundled(sources: str | Path, out_dir: str | Path, *, date: str | None = None,
                  plots: bool = True) -> dict[str, Any]:
    """Rebuild ``data/basins`` as bundled: the cartographic reference, then the DEM basins.

    The reference is built into a temporary folder next to ``out_dir`` (its Syr Darya reaches are
    the burn lines and its lower course the part joined below the DEM grid); its files are moved
    into ``out_dir``, then every basin of :data:`BUNDLED_DEM_BASINS` is rebuilt from its DEM into
    ``out_dir`` and joined to the cartographic course below the grid. No input is overwritten and
    the temporary folder is removed.

    Returns
    -------
    dict
        The final ``basins.json`` content.
    """
    import os
    import shutil
    import tempfile

    from riskmap.databuild.reference import build_reference
    from riskmap.databuild.reference.products import _plot
    from riskmap.databuild.reference.specs import BASIN_SPECS
    from riskmap.hydrography import load_basin

    sources, out = Path(sources), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".reference-", dir=out.parent) as t:
        ref = Path(t) / "basins"
        build_reference(sources, ref, date=date, plots=plots)
        for f in sorted(ref.iterdir()):
            os.replace(f, out / f.name)  # same file system: atomic per file
        carto = Path(t) / "carto"
        carto.mkdir()
        for bid, (dem, junction, km2) in BUNDLED_DEM_BASINS.items():
            shutil.copy2(out / f"{bid}.gpkg", carto / f"{bid}.gpkg")
            shutil.copy2(out / "basins.json", carto / "basins.json")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the basin meets the grid edge at the junction (joined below)
                build_from_dem([sources / dem], outlet=junction, name=bid, burn_path=carto / f"{bid}.gpkg",
                               stream_km2=km2, data_dir=out, allow_partial=True,
                               display_name=BASIN_SPECS[bid].name if bid in BASIN_SPECS else bid, date=date,
                               sinks=bundled_sinks(sources, bid))
            join_downstream(bid, bid, data_dir=out, carto_dir=carto, date=date)
            if plots and bid in BASIN_SPECS:
                b = load_basin(bid, out)
                _plot(out / f"{bid}.png", BASIN_SPECS[bid], b.outline, b.sub_basins, b.reaches, b.lakes,
                      b.borders, b.towns)
    return read_meta(out)
