"""Build the Natech reference layers (``data/natech/``) from the public sources.

Reads (never modifies) the GEM Global Active Faults and ISC-GEM catalogue
copies under the sources folder (see their ``SOURCE.md``), clips them to
riskmap's AOI boxes and writes:

- ``data/natech/faults.gpkg`` (layer ``faults``): ``fault_id``, ``name``,
  ``catalog_name``, ``slip_type``, ``net_slip_rate``, ``average_dip``,
  ``activity_confidence``, ``aoi``, geometry (clipped LineStrings, EPSG:4326);
- ``data/natech/earthquakes.gpkg`` (layer ``earthquakes``): ``eventid``,
  ``time`` (ISO 8601, repaired: the source lost the separator between date
  and time, ``1902-08-2203:00:00.00`` -> ``1902-08-22T03:00:00.00``),
  ``year``, ``mw``, ``depth_km``, ``aoi``, geometry (Point);
- ``data/natech/PROVENANCE.json``: sources with sha256, licences, attribution,
  processing steps, riskmap version and build date.

Both products are share-alike: GEM faults CC BY-SA 4.0, ISC-GEM CC BY-SA 3.0.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import tomllib

from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR, default_sources_dir
from riskmap.io import atomic_write_text, sha256_file, write_layers
from riskmap.schema import AOI_BOXES

__all__ = ["build_natech", "fix_isc_date"]

FAULTS_SRC = Path("gem-global-active-faults") / "gem_active_faults_2017-05_aoi.geojson"
QUAKES_SRC = Path("isc-gem-earthquake-catalogue") / "isc_gem_cat_aoi.csv"

#: Titles, licences, attribution and caveats of the two sources (``natech.toml`` beside this module).
ATTRIBUTION_FILE = Path(__file__).with_name("natech.toml")
with ATTRIBUTION_FILE.open("rb") as _fh:
    _ATTRIBUTION: dict[str, dict[str, str]] = tomllib.load(_fh)

_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})T?\s*(\d{2}:\d{2}:\d{2}(?:\.\d+)?)?$")


def fix_isc_date(value: str | None) -> str | None:
    """Repair the ISC-GEM copy's ``date`` field into ISO 8601.

    Examples
    --------
    >>> fix_isc_date("1902-08-2203:00:00.00")
    '1902-08-22T03:00:00.00'
    >>> fix_isc_date("1963-07-26 04:17:14.00")
    '1963-07-26T04:17:14.00'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    m = _DATE_RE.match(str(value).strip())
    if not m:
        return None
    d, t = m.groups()
    try:
        _dt.date.fromisoformat(d)
    except ValueError:
        return None
    return f"{d}T{t}" if t else d


def _boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"aoi": list(AOI_BOXES)},
                            geometry=[shapely.box(*b) for b in AOI_BOXES.values()], crs="EPSG:4326")


def _faults(path: Path) -> gpd.GeoDataFrame:
    f = gpd.read_file(path)
    if f.crs is None:
        f = f.set_crs("EPSG:4326")
    f = f.to_crs("EPSG:4326")
    f = f[~(f.geometry.isna() | f.geometry.is_empty)].reset_index(drop=True)
    f["fault_id"] = np.arange(1, len(f) + 1)
    keep = ["fault_id", "name", "catalog_name", "slip_type", "net_slip_rate", "average_dip",
            "activity_confidence"]
    for c in keep:
        if c not in f.columns:
            f[c] = None
    clipped = gpd.overlay(f[keep + ["geometry"]], _boxes(), how="intersection", keep_geom_type=True)
    clipped = clipped[~clipped.geometry.is_empty].sort_values(["aoi", "fault_id"]).reset_index(drop=True)
    for c in keep[1:] + ["aoi"]:
        clipped[c] = clipped[c].astype(object).where(clipped[c].notna(), None)
    return clipped[keep + ["aoi", "geometry"]]


def _quakes(path: Path) -> tuple[gpd.GeoDataFrame, int]:
    q = pd.read_csv(path, dtype={"date": str, "eventid": str})
    for c in ("lat", "lon", "mw", "depth"):
        if c not in q.columns:
            raise RiskmapInputError(f"{path}: column {c!r} missing")
    q["time"] = q["date"].map(fix_isc_date)
    bad = int(q["time"].isna().sum())
    lon = pd.to_numeric(q["lon"], errors="coerce")
    lat = pd.to_numeric(q["lat"], errors="coerce")
    ok = lon.notna() & lat.notna()
    inside = np.zeros(len(q), dtype=bool)
    aoi = np.full(len(q), None, dtype=object)
    for name, (x0, y0, x1, y1) in AOI_BOXES.items():
        m = ok & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        aoi[m.to_numpy()] = name
        inside |= m.to_numpy()
    q = q[inside].copy()
    out = gpd.GeoDataFrame({
        "eventid": q["eventid"].astype(str).to_numpy(),
        "time": q["time"].to_numpy(dtype=object),
        "year": pd.to_numeric(q["time"].str[:4], errors="coerce").astype("Int64").to_numpy(),
        "mw": pd.to_numeric(q["mw"], errors="coerce").to_numpy(),
        "depth_km": pd.to_numeric(q["depth"], errors="coerce").to_numpy(),
        "aoi": aoi[inside],
    }, geometry=gpd.points_from_xy(lon[inside], lat[inside]), crs="EPSG:4326")
    return out.sort_values(["aoi", "time", "eventid"]).reset_index(drop=True), bad


def build_natech(sources: str | Path | None = None, out_dir: str | Path | None = None) -> dict:
    """Build ``data/natech/{faults,earthquakes}.gpkg`` and ``PROVENANCE.json``.

    Parameters
    ----------
    sources : path, optional
        Folder of public source datasets (default: ``riskmap._paths.default_sources_dir()``).
    out_dir : path, optional
        Output folder (default: ``data/natech``).

    Returns
    -------
    dict
        Counts per product (``faults``, ``earthquakes``) and the output paths.

    Examples
    --------
    >>> build_natech()  # doctest: +SKIP
    {'faults': 416, 'earthquakes': 472, ...}
    """
    src = Path(sources) if sources is not None else default_sources_dir()
    out = Path(out_dir) if out_dir is not None else DATA_DIR / "natech"
    fp, qp = src / FAULTS_SRC, src / QUAKES_SRC
    for p in (fp, qp):
        if not p.exists():
            raise RiskmapInputError(f"{p}: source file not found (pass --sources DIR)")
    faults = _faults(fp)
    quakes, bad_dates = _quakes(qp)
    out.mkdir(parents=True, exist_ok=True)
    write_layers(out / "faults.gpkg", {"faults": faults})
    write_layers(out / "earthquakes.gpkg", {"earthquakes": quakes})
    try:
        from importlib.metadata import version

        rv = version("riskmap")
    except Exception:  # noqa: BLE001
        rv = "unknown"
    prov = {
        "riskmap_version": rv,
        "build_date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aoi_boxes": {k: list(v) for k, v in AOI_BOXES.items()},
        "products": {
            "faults.gpkg": {
                **_ATTRIBUTION["faults"],
                "sources": [{"path": str(FAULTS_SRC), "sha256": sha256_file(fp)}],
                "features": int(len(faults)),
                "by_aoi": {str(k): int(v) for k, v in faults["aoi"].value_counts().sort_index().items()},
                "steps": ["read GeoJSON (EPSG:4326)", "drop empty geometries", "number features fault_id",
                          "clip lines to the AOI boxes (intersection; a fault crossing no box is dropped)",
                          "keep name, catalog_name, slip_type, net_slip_rate, average_dip, activity_confidence"],
            },
            "earthquakes.gpkg": {
                **_ATTRIBUTION["earthquakes"],
                "sources": [{"path": str(QUAKES_SRC), "sha256": sha256_file(qp)}],
                "features": int(len(quakes)),
                "by_aoi": {str(k): int(v) for k, v in quakes["aoi"].value_counts().sort_index().items()},
                "mw_range": [float(quakes["mw"].min()), float(quakes["mw"].max())] if len(quakes) else None,
                "unparseable_dates": bad_dates,
                "steps": ["read CSV", "repair date field: 'YYYY-MM-DDhh:mm:ss.ss' -> 'YYYY-MM-DDThh:mm:ss.ss'",
                          "keep events inside the AOI boxes", "keep eventid, time, year, mw, depth_km"],
            },
        },
        "licence_note": ("Both products are share-alike (CC BY-SA): redistribute derived layers under the "
                         "same licence with the attributions above."),
    }
    atomic_write_text(out / "PROVENANCE.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    return {"faults": int(len(faults)), "earthquakes": int(len(quakes)), "out_dir": str(out),
            "unparseable_dates": bad_dates}
