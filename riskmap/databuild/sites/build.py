"""Build the default site inventory ``data/sites/`` from the public sources.

Steps (:func:`build_sites`):

1. run every importer (GPPD, GEM trackers, GeoDAR, USGS, FINEPRINT, literature);
2. derive the country from the location (see 3.) and merge records of the same
   facility over the whole AOI (:func:`riskmap.databuild.sites.dedupe.dedupe_sites`), so a
   facility is in or out as one site, at its best coordinate;
3. keep the sites inside the three basins: the basin outlines
   ``data/basins/<basin>.gpkg`` (layer ``outline``) buffered by
   :data:`DIVIDE_BUFFER_KM` for sites on the divide, or, while the outlines do
   not exist, the documented fallback regions of ``basin_fallback.toml``
   (TFDD basins cut by hand-drawn envelopes); lines (pipelines) are clipped
   to the buffered basin;
   Countries come from ``data/basins/countries.gpkg``, else the Natural Earth
   admin-0 polygons of the sources folder (Kosovo ``XKX``), the source's
   country kept in ``notes`` when they differ;
4. write ``sites.csv``, ``sites.gpkg``, ``merges.csv``, ``SOURCES.md`` and
   ``PROVENANCE.json``.

The build is deterministic: the same inputs give a byte-identical ``sites.csv``.
"""

from __future__ import annotations

import datetime as _dt
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.schema import DIVIDE_BUFFER_KM as DIVIDE_BUFFER_BY_PRECISION
from riskmap._errors import RiskmapInputError, RiskmapValidationError
from riskmap._geo import local_aeqd
from riskmap._paths import DATA_DIR
from riskmap.io import atomic_write_text, csv_text, read_sites, write_sites
from riskmap.schema import column_names
from riskmap.basin_assign import BASINS, assign_basins, divide_buffers, outline_regions
from riskmap.databuild.sites._common import SourceResult, sha256
from riskmap.databuild.sites.dedupe import dedupe_sites
from riskmap.databuild.sites.fineprint import read_fineprint
from riskmap.databuild.sites.gem import GEM_READERS
from riskmap.databuild.sites.geodar import read_geodar
from riskmap.databuild.sites.gppd import read_gppd
from riskmap.databuild.sites.grand import attach_grand, fill_grand_volumes
from riskmap.databuild.sites.icmm import read_icmm
from riskmap.databuild.sites.literature import read_literature
from riskmap.databuild.town_names import SOURCE as TOWN_NAMES_SOURCE
from riskmap.databuild.town_names import write_town_names
from riskmap.databuild.sites.names import PLACE_MIN_POPULATION, PLACES_FILE, name_sites, places_layer, read_places
from riskmap.databuild.sites.usgs import read_usgs

__all__ = ["BASINS", "DIVIDE_BUFFER_KM", "read_all_sources", "basin_regions", "assign_basins", "divide_buffers",
           "derive_countries", "build_inventory", "build_sites", "BuildResult"]

#: The one divide-buffer table (km by coordinate precision): :data:`riskmap.schema.DIVIDE_BUFFER_KM`.
DIVIDE_BUFFER_KM = DIVIDE_BUFFER_BY_PRECISION
FALLBACK_FILE = Path(__file__).with_name("basin_fallback.toml")
READERS = (read_literature, *GEM_READERS, read_gppd, read_geodar, read_usgs, read_fineprint, read_icmm)


@dataclass
class BuildResult:
    """Outcome of :func:`build_inventory`."""

    sites: gpd.GeoDataFrame
    merges: pd.DataFrame
    results: list[SourceResult]
    region_method: str
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    volume_joins: pd.DataFrame = field(default_factory=pd.DataFrame)
    places: Any = None


def read_all_sources(sources_dir: str | Path) -> list[SourceResult]:
    """Run every importer on the sources folder.

    Examples
    --------
    >>> results = read_all_sources(default_sources_dir())  # doctest: +SKIP
    >>> [r.key for r in results][:2]  # doctest: +SKIP
    ['literature', 'gem-gcpt']
    """
    sources_dir = Path(sources_dir)
    if not sources_dir.is_dir():
        raise RiskmapInputError(f"{sources_dir}: source folder not found")
    results = [reader(sources_dir) for reader in READERS]
    # GRanD names the GeoDAR dams it shares an id with; its other dams are a source of their own
    results.append(attach_grand(results, sources_dir))
    return results


def basin_regions(data_dir: str | Path | None = None, sources_dir: str | Path | None = None,
                  ) -> tuple[gpd.GeoDataFrame, str]:
    """The three basin regions (``basin``, geometry, EPSG:4326) and how they were obtained.

    Uses ``<data_dir>/basins/<basin>.gpkg`` layer ``outline`` when all three
    exist; otherwise the fallback of ``basin_fallback.toml`` built from the
    TFDD polygons in ``sources_dir``.

    Returns
    -------
    regions : geopandas.GeoDataFrame
    method : str
        ``"outlines"`` or ``"fallback"``.
    """
    try:
        return outline_regions(data_dir), "outlines"
    except RiskmapInputError:
        if sources_dir is None:
            raise RiskmapInputError("basin outlines missing and no sources folder given for the fallback") from None
    with FALLBACK_FILE.open("rb") as fh:
        cfg = tomllib.load(fh)
    tdir = Path(sources_dir) / "tfdd-international-basins"
    tfdd = pd.concat([gpd.read_file(tdir / f, layer="basins") for f in
                      ("tfdd_basins_western_balkans.gpkg", "tfdd_basins_central_asia.gpkg")])
    geoms = []
    for b in BASINS:
        c = cfg[b]
        base = shapely.union_all(tfdd.loc[tfdd["BCODE"].isin(c["tfdd"]), "geometry"].values)
        region = shapely.intersection(shapely.make_valid(base), shapely.Polygon(c["envelope"]))
        for code, box in c.get("tfdd_extra", {}).items():
            extra = shapely.union_all(tfdd.loc[tfdd["BCODE"] == code, "geometry"].values)
            region = shapely.union(region, shapely.intersection(shapely.make_valid(extra), shapely.Polygon(box)))
        geoms.append(region)
    return gpd.GeoDataFrame({"basin": list(BASINS)}, geometry=geoms, crs="EPSG:4326"), "fallback"


def _country_polygons(data_dir: Path, sources_dir: Path | None) -> tuple[gpd.GeoDataFrame | None, str]:
    p = data_dir / "basins" / "countries.gpkg"
    if p.exists():
        g = gpd.read_file(p, layer="countries")
        return g[["iso3", "geometry"]].to_crs("EPSG:4326"), "data/basins/countries.gpkg"
    if sources_dir is None:
        return None, "source country names"
    ne = Path(sources_dir) / "natural-earth-10m-admin0-v5.1.2"
    parts = []
    for f in ("ne10m_admin0_western_balkans.gpkg", "ne10m_admin0_central_asia.gpkg"):
        if (ne / f).exists():
            g = gpd.read_file(ne / f, layer="admin_0_countries")
            parts.append(g[["ADM0_A3", "geometry"]].rename(columns={"ADM0_A3": "iso3"}))
    if not parts:
        return None, "source country names"
    g = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    g["iso3"] = g["iso3"].replace({"KOS": "XKX", "KAB": "KAZ"})
    g = g.dissolve("iso3", as_index=False)
    return g, "Natural Earth 10m admin-0 v5.1.2 (sources folder; fallback until data/basins/countries.gpkg exists)"


def _near_country(geom: Any, iso3: str, countries: gpd.GeoDataFrame, tol_km: float) -> bool:
    """Whether ``geom`` lies within ``tol_km`` of country ``iso3`` (local equidistant projection)."""
    poly = countries.loc[countries["iso3"] == iso3, "geometry"]
    if poly.empty:
        return False
    c = shapely.centroid(geom)
    crs = local_aeqd(round(c.x, 5), round(c.y, 5))
    g = gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(crs).iloc[0]
    p = poly.to_crs(crs).union_all()
    return bool(shapely.distance(g, p) <= tol_km * 1000.0)


#: A site whose location falls in another country than the source says keeps the
#: source's country when it lies within this distance (km) of that country
#: (dams on border rivers, coarse country polygons).
BORDER_TOLERANCE_KM = 2.0


def derive_countries(sites: gpd.GeoDataFrame, countries: gpd.GeoDataFrame | None,
                     border_tolerance_km: float = BORDER_TOLERANCE_KM) -> gpd.GeoDataFrame:
    """Set ``country`` from the location; keep the source's value in ``notes`` when it differs.

    When the location falls in another country than the source says but
    within ``border_tolerance_km`` of the source's country, the source's
    country is kept (noted). Points outside every polygon (coast, lakes) keep
    the source's country.
    Lines get the single country they lie in, or none (the countries crossed
    go to ``notes``).
    """
    out = sites.copy()
    if countries is None or out.empty:
        return out
    j = gpd.sjoin(out[["geometry"]], countries[["iso3", "geometry"]], how="left", predicate="intersects")
    j = j.dropna(subset=["iso3"]).reset_index()
    j = j.drop_duplicates(subset=[j.columns[0], "iso3"])
    grp = j.groupby(j.columns[0])["iso3"]
    n_cross = grp.size().reindex(out.index, fill_value=0).to_numpy()
    first = grp.min().reindex(out.index).to_numpy(dtype=object)
    listed = grp.agg(lambda s: ", ".join(sorted(s))).reindex(out.index).to_numpy(dtype=object)
    src = out["country"].to_numpy(dtype=object)
    # one country -> that country; several (lines) -> none; none (coast, lakes) -> the source's
    val = np.where(n_cross == 1, first, np.where(n_cross > 1, None, src))
    notes = out["notes"].to_numpy(dtype=object).copy()

    def add(mask: np.ndarray, texts: np.ndarray) -> None:
        for k in np.flatnonzero(mask):  # only the few rows concerned
            notes[k] = "; ".join(filter(None, [notes[k], texts[k]]))

    add(n_cross > 1, np.array(["crosses " + str(t) for t in listed], dtype=object))
    differ = np.array([a is not None and b is not None and a != b for a, b in zip(src, val)])
    near = np.zeros(len(out), dtype=bool)
    for k in np.flatnonzero(differ):
        near[k] = _near_country(out.geometry.iloc[k], src[k], countries, border_tolerance_km)
    add(differ & near, np.array([f"location falls in {v}, within {border_tolerance_km:g} km of the source's "
                                 f"country {o}: source kept" for v, o in zip(val, src)], dtype=object))
    add(differ & ~near, np.array([f"country from location {v}; source says {o}" for v, o in zip(val, src)],
                                 dtype=object))
    val = np.where(differ & near, src, val)
    out["country"] = pd.Series(val, index=out.index, dtype=object)
    out["notes"] = pd.Series(notes, index=out.index, dtype=object)
    return out


def build_inventory(sources_dir: str | Path, data_dir: str | Path | None = None,
                    buffer_km: float | None = None) -> BuildResult:
    """Import, derive countries, de-duplicate and keep the sites of the three basins (no writing).

    Examples
    --------
    >>> res = build_inventory(default_sources_dir())  # doctest: +SKIP
    >>> res.sites["basin"].value_counts()  # doctest: +SKIP
    """
    sources_dir = Path(sources_dir)
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    results = read_all_sources(sources_dir)
    allsites = pd.concat([r.sites for r in results], ignore_index=True)
    allsites = gpd.GeoDataFrame(allsites, geometry="geometry", crs="EPSG:4326")
    countries, cmethod = _country_polygons(data_dir, sources_dir)
    allsites = derive_countries(allsites, countries)
    # de-duplicate over the whole AOI first, so a facility is in or out as one
    # site, placed at its best coordinate (not by whichever source is nearer the divide)
    merged, merges = dedupe_sites(allsites)
    regions, method = basin_regions(data_dir, sources_dir)
    basin, geom = assign_basins(merged, regions, buffer_km)
    clipped = ~geom.geom_equals_exact(merged.geometry, tolerance=0) & merged.geom_type.ne("Point")
    merged = merged.set_geometry(geom.values)
    note = ("line clipped to the basin (+"
            f"{buffer_km if buffer_km is not None else DIVIDE_BUFFER_KM['lines']:g} km)")
    sel = clipped & basin.notna()
    merged.loc[sel, "notes"] = merged.loc[sel, "notes"].map(lambda s: "; ".join(filter(None, [s, note])))
    inside = basin.notna().to_numpy()
    merged["basin"] = basin
    stats: dict[str, dict[str, Any]] = {r.key: {"outside": 0, "merged": 0, "kept": 0} for r in results}
    source_of = dict(zip(allsites["site_id"], allsites["source"]))
    for refs_cell, ok in zip(merged["source_refs"], inside):
        for r in json.loads(refs_cell):
            stats[r.split(":", 1)[0]]["kept" if ok else "outside"] += 1
    kept_ids = set(merged.loc[inside, "site_id"])
    merges = merges[merges["kept_id"].isin(kept_ids)].reset_index(drop=True)
    for m in merges.itertuples():
        for sid in json.loads(m.merged_ids):
            stats[source_of[sid]]["merged"] += 1
    cols = column_names()
    merged = gpd.GeoDataFrame(merged.loc[inside, cols + ["basin", "geometry"]], geometry="geometry",
                              crs="EPSG:4326")
    merged = merged.sort_values("site_id", kind="mergesort").reset_index(drop=True)
    merged, joins = fill_grand_volumes(merged, sources_dir)
    places = read_places(sources_dir)
    merged = name_sites(merged, places, data_dir)
    res = BuildResult(merged, merges, results, method, stats, joins)
    res.places = places_layer(places, regions)
    res.stats["_country_method"] = {"method": cmethod}  # type: ignore[assignment]
    return res


def _provenance(res: BuildResult, sources_dir: Path, buffer_km: float | None) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("riskmap")
    except PackageNotFoundError:  # pragma: no cover
        ver = "unknown"
    per = {}
    for r in res.results:
        st = res.stats[r.key]
        drops = {k: int(v) for k, v in sorted(r.dropped.items()) if v}
        if st["outside"]:
            drops["outside the three basins"] = st["outside"]
        per[r.key] = {
            "title": r.title, "licence": r.licence, "attribution": r.attribution, "release": r.release,
            "rows_read": r.rows_read, "records_after_import": len(r.sites),
            "in_inventory": st["kept"], "of_which_merged_into_another_site": st["merged"],
            "dropped": drops, "aggregation": r.aggregation,
            "files": [{"path": str(p.relative_to(sources_dir)), "sha256": sha256(p)} for p in r.files],
        }
    return {
        "product": "data/sites/sites.csv", "riskmap_version": ver,
        "build_date": _dt.datetime.now(_dt.UTC).date().isoformat(),
        "basin_regions": res.region_method,
        "divide_buffer_km": buffer_km if buffer_km is not None else dict(DIVIDE_BUFFER_BY_PRECISION),
        "country_method": res.stats["_country_method"]["method"],
        "sites": len(res.sites), "merges": len(res.merges), "sources": per,
        "places": {"file": "places.csv", "source": PLACES_FILE,
                   "sha256": sha256(Path(sources_dir) / PLACES_FILE) if (Path(sources_dir) / PLACES_FILE).exists()
                   else None, "licence": "CC BY 4.0", "attribution": "GeoNames (geonames.org)",
                   "rule": f"GeoNames cities500 places with population >= {PLACE_MIN_POPULATION} inside a basin "
                           "outline's bounding box widened by 0.1 degree",
                   "rows": 0 if res.places is None else len(res.places)},
        "names": {k: int(v) for k, v in res.sites["name_source"].value_counts().sort_index().items()},
        "grand_volume_joins": res.volume_joins.to_dict("records"),
    }


def _sources_md(prov: dict[str, Any], res: BuildResult) -> str:
    region = ("basin outlines data/basins/<basin>.gpkg (layer outline)" if res.region_method == "outlines" else
              "FALLBACK regions (TFDD basins cut by hand-drawn envelopes, riskmap/databuild/sites/basin_fallback.toml); "
              "rebuild when data/basins outlines exist")
    lines = [
        "# Sources of the site inventory", "",
        "Generated by `riskmap data build-sites`; do not edit by hand. Details: `PROVENANCE.json`, "
        "method: `docs/sources.md`.", "",
        f"- Build date: {prov['build_date']}; riskmap {prov['riskmap_version']}",
        f"- Basin membership: {region}, plus a divide buffer for sites near the outline (km): "
        + (f"{prov['divide_buffer_km']:g}" if not isinstance(prov["divide_buffer_km"], dict) else
           ", ".join(f"{k} {v:g}" for k, v in prov["divide_buffer_km"].items())),
        f"- Country: from the location ({prov['country_method']})",
        f"- Sites: {prov['sites']}; merges of duplicate records: {prov['merges']} (see `merges.csv`)",
        "- Names (column `name_source`): " + ", ".join(f"{k} {v}" for k, v in prov["names"].items())
        + "; `geonames` = a placeholder name (e.g. GeoDAR's \"Dam (GeoDAR 611)\") replaced by the kind and "
        "the nearest GeoNames place (riskmap/databuild/sites/names.py); the replaced name is kept in `alt_names`",
        f"- Places (`places.csv`, {prov['places']['rows']} rows, for site names and downstream population "
        f"exposure): {prov['places']['rule']}; GeoNames (geonames.org), CC BY 4.0",
        f"- GRanD v1.3: dam names and volumes joined on the GRanD id carried by GeoDAR; "
        f"{len(prov['grand_volume_joins'])} further volume(s) joined by location and name "
        "(rule in riskmap/databuild/sites/grand.py)", "",
        "| source | licence | rows read | in inventory | merged | dropped (reason: n) |",
        "|---|---|---|---|---|---|",
    ]
    for key, s in prov["sources"].items():
        drops = "; ".join(f"{k}: {v}" for k, v in s["dropped"].items()) or "none"
        lines.append(f"| {s['title']} (`{key}`) | {s['licence']} | {s['rows_read']} | {s['in_inventory']} | "
                     f"{s['of_which_merged_into_another_site']} | {drops} |")
    lines += ["", "## Attribution", ""]
    for key, s in prov["sources"].items():
        lines.append(f"- **{s['title']}** (`{key}`): {s['attribution']}")
    lines += ["", "Kosovo: XKX, in accordance with UN Security Council resolution 1244.", ""]
    return "\n".join(lines)


def build_sites(sources_dir: str | Path, out_dir: str | Path | None = None, *, data_dir: str | Path | None = None,
                buffer_km: float | None = None, after: Any = None) -> BuildResult:
    """Build and write the default inventory.

    Writes ``sites.csv``, ``sites.gpkg``, ``merges.csv``, ``SOURCES.md`` and ``PROVENANCE.json``.

    Parameters
    ----------
    sources_dir : path
        Folder of the public source datasets.
    out_dir : path, optional
        Output folder (default ``data/sites``).
    data_dir : path, optional
        Folder holding ``basins/`` (default: riskmap's data folder).
    buffer_km : float, optional
        One divide buffer (km) for every site; default: by coordinate precision
        (``[divide_buffer_km]`` in ``mappings.toml``).
    after : callable, optional
        ``after(sites) -> (sites, files, info)`` applied to the built sites
        before writing: extra files (name -> text) are written next to the
        inventory and ``info`` (with ``title``, ``lines``) becomes a section
        of ``SOURCES.md`` and ``PROVENANCE.json`` (``after``). The CLI passes
        the questionnaire returns of ``<out>/returns/`` this way.

    Raises
    ------
    RiskmapValidationError
        If the written inventory does not validate with zero errors.

    Examples
    --------
    >>> res = build_sites(default_sources_dir())  # doctest: +SKIP
    """
    sources_dir = Path(sources_dir)
    out = Path(out_dir) if out_dir is not None else (Path(data_dir) if data_dir else DATA_DIR) / "sites"
    res = build_inventory(sources_dir, data_dir, buffer_km)
    extra_files: dict[str, str] = {}
    info: dict[str, Any] = {}
    if after is not None:
        res.sites, extra_files, info = after(res.sites)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_sites(res.sites, out / "sites.csv")
    check = read_sites(csv_path, derive_country=False)
    report = check.attrs["validation"]
    if not report.ok:
        raise RiskmapValidationError(report)
    write_sites(res.sites, out / "sites.gpkg")
    atomic_write_text(out / "merges.csv", csv_text(res.merges))
    for name, text in extra_files.items():
        atomic_write_text(out / name, text)
    if res.places is not None:
        pl = pd.DataFrame(res.places.drop(columns="geometry"))
        pl["lon"] = res.places.geometry.x.round(5)
        pl["lat"] = res.places.geometry.y.round(5)
        pl["population"] = pl["population"].astype("int64")
        atomic_write_text(out / "places.csv", csv_text(pl))
    names_path = write_town_names(sources_dir, out)
    prov = _provenance(res, sources_dir, buffer_km)
    n_names = sum(1 for _ in open(names_path, encoding="utf-8")) - 1
    prov["town_names"] = {"file": names_path.name, "source": TOWN_NAMES_SOURCE, "rows": n_names,
                          "rule": "Natural Earth towns by name and country; GeoNames places by the GEONAMEID "
                                  "Natural Earth records; no match: the original name in every language"}
    if info:
        prov["after"] = info
    md = _sources_md(prov, res)
    md += (f"\n- Town names in Russian (`{names_path.name}`, {n_names} rows, for the Russian maps and reports): "
           f"{prov['town_names']['source']}; {prov['town_names']['rule']}\n")
    if info:
        md += "\n".join(["", f"## {info.get('title', 'After the build')}", "", *info.get("lines", []), ""])
    atomic_write_text(out / "PROVENANCE.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "SOURCES.md", md)
    return res
