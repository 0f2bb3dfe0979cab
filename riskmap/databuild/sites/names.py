"""Readable, unique site names for the inventory build.

Steps (:func:`name_sites`, run by the build after de-duplication and basin
assignment):

1. ICMM-style cross-reference tails are cut ("Guri Kuq Including: See Alt
   Names" -> "Guri Kuq", the original kept in ``alt_names``); a **placeholder** name (:func:`is_placeholder`: "Dam (GeoDAR 611)",
   "Oil pipeline route P1234 (GEM GOIT)", code-like names such as "Kyrgy12")
   is replaced by "<Kind> near <place>" from the nearest GeoNames place
   (:data:`NEAR_KM`; places with at least :data:`MIN_POPULATION` inhabitants
   first, else any place); a pipeline gets "<Kind> <place A>-<place B>" from
   its two ends. ``name_source`` becomes ``geonames`` and the placeholder goes
   to ``alt_names``. GRanD names (joined on the GRanD id) were already set by
   :func:`riskmap.databuild.sites.grand.attach_grand`.
2. **unique within a basin**: sites sharing a name get, in turn, the river
   (nearest named reach of ``data/basins/<basin>.gpkg`` within
   :data:`RIVER_KM`), the nearest place, their kind, and finally their source
   id, in parentheses, until the names differ: "Kam (chromite mine)".

:func:`readable` tells whether a name is human-readable (used by the tests and
the summary): not a placeholder and holding a word of three letters or more.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._geo import local_aeqd
from riskmap.databuild.sites._common import read_csv, to_number

__all__ = ["places_layer", "PLACE_MIN_POPULATION", "ISO2_TO_ISO3", "is_placeholder", "readable", "read_places",
           "nearest_places", "name_sites", "NEAR_KM", "MIN_POPULATION", "RIVER_KM", "PLACES_FILE"]

PLACES_FILE = "geonames-cities500/cities500_riskmap_boxes.csv"
#: Largest distance (km) from a site to the place it is named after.
NEAR_KM = 25.0
#: Places with at least this population are preferred for naming.
MIN_POPULATION = 1000
#: Largest distance (km) from a site to the river reach used to disambiguate.
RIVER_KM = 3.0

_PLACEHOLDERS = (
    re.compile(r"^dam \(geodar \d+\)$", re.I),
    re.compile(r"^.*pipeline route p\d+ \(gem goit\)$", re.I),
    re.compile(r"^[a-z]+\d+$", re.I),  # codes: "Kyrgy12"
)
_SOURCE_LABEL = {"geodar": "GeoDAR", "grand": "GRanD", "icmm": "ICMM", "usgs-pge-ni-cr": "USGS"}
#: Fallback distance (km): a site with no place within NEAR_KM is named "<kind>, N km <dir> of <place>".
FAR_KM = 75.0
_KIND = {
    "dam_reservoir": "Dam", "mine": "Mine", "pipeline": "Pipeline", "thermal_power_plant": "Power plant",
    "smelter_refinery": "Plant", "tailings_metal": "Tailings", "tailings_uranium": "Uranium tailings",
    "tailings_red_mud": "Red mud basin", "tailings_ash": "Ash landfill", "chemical_plant": "Chemical plant",
    "oil_refinery_depot": "Oil depot", "oil_gas_extraction": "Oil/gas field", "landfill": "Landfill",
    "other": "Site",
}


def is_placeholder(name: object) -> bool:
    """True for a missing name or a placeholder such as ``'Dam (GeoDAR 611)'``.

    Examples
    --------
    >>> is_placeholder("Dam (GeoDAR 611)"), is_placeholder("Kyrgy12"), is_placeholder("Fierza")
    (True, True, False)
    """
    if not isinstance(name, str) or not name.strip():
        return True
    return any(p.search(name.strip()) for p in _PLACEHOLDERS)


def readable(name: object) -> bool:
    """True when a name is human-readable: not a placeholder, with a word of >= 3 letters.

    Examples
    --------
    >>> readable("Dam near Foča"), readable("Dam (GeoDAR 611)"), readable("Kam")
    (True, False, True)
    """
    return not is_placeholder(name) and bool(re.search(r"[^\W\d_]{3,}", str(name)))


def read_places(sources_dir: str | Path) -> gpd.GeoDataFrame:
    """GeoNames places of the boxes: ``geonameid``, ``name``, ``country2``, ``population`` (NaN for 0), geometry."""
    path = Path(sources_dir) / PLACES_FILE
    raw = read_csv(path)
    pop = to_number(raw["population"])
    return gpd.GeoDataFrame({
        "geonameid": raw["geonameid"], "name": raw["name"].str.strip(), "country2": raw["countrycode"],
        "population": pop.mask(pop <= 0), "boxes": raw["boxes"],
    }, geometry=gpd.points_from_xy(to_number(raw["longitude"]), to_number(raw["latitude"])), crs="EPSG:4326")


#: Places bundled in ``data/sites/places.csv`` for downstream exposure: at least this many inhabitants
#: (GeoNames population; 0 = unknown, left out).
PLACE_MIN_POPULATION = 1000
#: GeoNames country codes of the boxes -> ISO3 (Kosovo XK -> XKX).
ISO2_TO_ISO3 = {"AL": "ALB", "BA": "BIH", "ME": "MNE", "MK": "MKD", "RS": "SRB", "XK": "XKX", "HR": "HRV",
                "GR": "GRC", "KG": "KGZ", "KZ": "KAZ", "TJ": "TJK", "UZ": "UZB", "TM": "TKM", "CN": "CHN"}


def places_layer(places: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, margin_deg: float = 0.1,
                 min_population: float = PLACE_MIN_POPULATION) -> gpd.GeoDataFrame:
    """The places of the bundled ``places.csv``: population >= ``min_population`` inside a basin's bounding box.

    ``regions`` has ``basin`` and the outline geometry; the box is the
    outline's bounds widened by ``margin_deg``. Columns: ``geonameid``,
    ``name``, ``country`` (ISO3), ``population``, ``basin_box``, geometry.
    """
    keep = places["population"] >= min_population
    out = []
    for row in regions.itertuples():
        x0, y0, x1, y1 = row.geometry.bounds
        g = places[keep & places.geometry.x.between(x0 - margin_deg, x1 + margin_deg)
                   & places.geometry.y.between(y0 - margin_deg, y1 + margin_deg)].copy()
        g["basin_box"] = row.basin
        out.append(g)
    g = gpd.GeoDataFrame(pd.concat(out, ignore_index=True), crs="EPSG:4326")
    g = g.groupby("geonameid", sort=False).agg({"name": "first", "country2": "first", "population": "first",
                                                 "basin_box": lambda s: "|".join(sorted(s)),
                                                 "geometry": "first"}).reset_index()
    g = gpd.GeoDataFrame(g, geometry="geometry", crs="EPSG:4326")
    g["country"] = g["country2"].map(ISO2_TO_ISO3)
    g = g.sort_values(["basin_box", "country", "name", "geonameid"], kind="mergesort").reset_index(drop=True)
    return g[["geonameid", "name", "country", "population", "basin_box", "geometry"]]


def _local_crs(geoms: gpd.GeoSeries) -> str:
    c = shapely.centroid(shapely.union_all(shapely.envelope(geoms.values)))
    return local_aeqd(round(c.x, 4), round(c.y, 4))  # type: ignore[return-value]


def nearest_places(points_: gpd.GeoSeries, places: gpd.GeoDataFrame, max_km: float = NEAR_KM,
                   min_population: float = MIN_POPULATION) -> pd.DataFrame:
    """Nearest place of each point: a place of ``min_population`` or more within ``max_km``, else any place.

    Distances in a local azimuthal equidistant projection of each region (the
    Balkan and Central Asian sites are handled separately). Returns ``place``
    (None when none is within ``max_km``) and ``place_km``, indexed like ``points_``.
    """
    out = pd.DataFrame({"place": pd.Series([None] * len(points_), index=points_.index, dtype=object),
                        "place_km": np.nan, "bearing": None}, index=points_.index)
    if points_.empty or places.empty:
        return out
    west = (points_.x < 40).to_numpy()
    for mask in (west, ~west):
        if not mask.any():
            continue
        pts = points_[mask]
        crs = _local_crs(pts)
        p_loc = gpd.GeoDataFrame(geometry=pts.to_crs(crs).values, index=pts.index, crs=crs)
        pl = places.to_crs(crs)
        for pool in (pl[pl["population"] >= min_population], pl):
            todo = out.loc[pts.index, "place"].isna()
            if not todo.any() or pool.empty:
                continue
            j = gpd.sjoin_nearest(p_loc[todo.to_numpy()], pool[["name", "geometry"]], how="left",
                                  max_distance=max_km * 1000.0, distance_col="_d")
            j = j[~j.index.duplicated(keep="first")].dropna(subset=["name"])
            out.loc[j.index, "place"] = j["name"].to_numpy()
            out.loc[j.index, "place_km"] = (j["_d"] / 1000.0).round(1).to_numpy()
            # compass direction from the place to the point (in the local projection)
            src = pool.geometry.loc[j["index_right"]].to_numpy()
            dx = shapely.get_x(p_loc.geometry.loc[j.index].to_numpy()) - shapely.get_x(src)
            dy = shapely.get_y(p_loc.geometry.loc[j.index].to_numpy()) - shapely.get_y(src)
            octant = np.round(np.degrees(np.arctan2(dx, dy)) % 360 / 45).astype(int) % 8
            out.loc[j.index, "bearing"] = np.array(["N", "NE", "E", "SE", "S", "SW", "W", "NW"])[octant]
    return out


def _kind(row: pd.Series) -> str:
    kind = _KIND.get(row["category"], "Site")
    notes = str(row.get("notes") or "")
    if row["category"] == "pipeline":
        m = re.match(r"^(.*?pipeline)", str(row["name"]), re.I)
        kind = m.group(1).capitalize() if m else kind
    elif row["category"] == "mine":
        m = re.search(r"commodities ([a-z ]+?)[,;(]", notes + ";")
        if m:
            kind = f"{m.group(1).strip().capitalize()} mine"
    return kind


def _rivers(sites: gpd.GeoDataFrame, data_dir: Path | None) -> pd.Series:
    out = pd.Series([None] * len(sites), index=sites.index, dtype=object)
    if data_dir is None:
        return out
    for b in sites["basin"].dropna().unique():
        p = Path(data_dir) / "basins" / f"{b}.gpkg"
        if not p.exists():
            continue
        reaches = gpd.read_file(p, layer="reaches")
        reaches = reaches[reaches["name"].notna()]
        sel = sites["basin"] == b
        if reaches.empty or not sel.any():
            continue
        crs = _local_crs(reaches.geometry)
        s = gpd.GeoDataFrame(geometry=sites.geometry[sel].to_crs(crs).values, index=sites.index[sel], crs=crs)
        r = reaches[["name", "geometry"]].to_crs(crs)
        j = gpd.sjoin_nearest(s, r, how="left", max_distance=RIVER_KM * 1000.0)
        j = j[~j.index.duplicated(keep="first")].dropna(subset=["name"])
        out.loc[j.index] = j["name"].str.replace(r"\s*\(.*\)$", "", regex=True).to_numpy()
    return out


def _add_alt(current: object, extra: str) -> str:
    parts = [p for p in str(current).split(" | ") if p] if isinstance(current, str) else []
    if extra not in parts:
        parts.append(extra)
    return " | ".join(parts)


def name_sites(sites: gpd.GeoDataFrame, places: gpd.GeoDataFrame, data_dir: str | Path | None = None,
               ) -> gpd.GeoDataFrame:
    """Replace placeholder names and make names unique within each basin (see the module docstring).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Inventory with ``basin``, ``name``, ``category``, ``name_source``, ``alt_names``.
    places : geopandas.GeoDataFrame
        :func:`read_places`.
    data_dir : path, optional
        Folder holding ``basins/<basin>.gpkg`` (river names for disambiguation).

    Examples
    --------
    >>> named = name_sites(sites, read_places(default_sources_dir()))  # doctest: +SKIP
    """
    from riskmap.databuild.sites.icmm import clean_icmm_name, with_kind

    out = sites.copy()
    out["name_source"] = out["name_source"].where(out["name_source"].notna(), out["source"])
    # cross-reference tails ("Guri Kuq Including: See Alt Names") are not part of a name
    cleaned = out["name"].map(lambda n: clean_icmm_name(n) if isinstance(n, str) else n)
    tail = (cleaned != out["name"]) & cleaned.map(lambda n: isinstance(n, str) and bool(n))
    for idx in out.index[tail]:
        out.at[idx, "alt_names"] = _add_alt(out.at[idx, "alt_names"], out.at[idx, "name"])
        out.at[idx, "name"] = cleaned.at[idx]
    anchor = out.geometry.representative_point()
    near = nearest_places(anchor, places)
    ph = out["name"].map(is_placeholder)
    far = nearest_places(anchor[ph], places, max_km=FAR_KM, min_population=0)
    is_line = out.geom_type.str.contains("Line").to_numpy()
    ends = pd.DataFrame(index=out.index, columns=["a", "b"], dtype=object)
    if (ph & is_line).any():
        lines = out.geometry[ph & is_line]
        parts = lines.explode(index_parts=False)
        first = shapely.get_point(parts.groupby(level=0).head(1).values, 0)
        last = shapely.get_point(parts.groupby(level=0).tail(1).values, -1)
        first = gpd.GeoSeries(first, index=lines.index, crs="EPSG:4326")
        last = gpd.GeoSeries(last, index=lines.index, crs="EPSG:4326")
        ends.loc[lines.index, "a"] = nearest_places(first, places)["place"]
        ends.loc[lines.index, "b"] = nearest_places(last, places)["place"]
    for i in np.flatnonzero(ph.to_numpy()):  # only the placeholder rows
        idx = out.index[i]
        row = out.loc[idx]
        kind = _kind(row)
        a, b = ends.at[idx, "a"], ends.at[idx, "b"]
        if is_line[i] and isinstance(a, str) and isinstance(b, str) and a != b:
            new = f"{kind} {a}-{b}"
        elif isinstance(near.at[idx, "place"], str):
            new = f"{kind} near {near.at[idx, 'place']}"
        elif isinstance(far.at[idx, "place"], str):
            new = f"{kind}, {far.at[idx, 'place_km']:.0f} km {far.at[idx, 'bearing']} of {far.at[idx, 'place']}"
        else:
            continue
        if isinstance(row["name"], str) and row["name"].strip():
            out.at[idx, "alt_names"] = _add_alt(row["alt_names"], row["name"].strip())
        out.at[idx, "name"] = new
        out.at[idx, "name_source"] = "geonames"
    # a bare ICMM place name ("Birac") gets its commodity and asset type ("Birac alumina refinery")
    for idx in out.index[out["name_source"] == "icmm"]:
        kinded = with_kind(out.at[idx, "name"], out.at[idx, "notes"])
        if kinded != out.at[idx, "name"]:
            out.at[idx, "alt_names"] = _add_alt(out.at[idx, "alt_names"], out.at[idx, "name"])
            out.at[idx, "name"] = kinded
    return _make_unique(out, near, data_dir)


def _make_unique(out: gpd.GeoDataFrame, near: pd.DataFrame, data_dir: str | Path | None) -> gpd.GeoDataFrame:
    rivers = _rivers(out, Path(data_dir) if data_dir is not None else None)
    key = out["basin"].fillna("") + "\x00"

    def dup_mask() -> pd.Series:
        return (key + out["name"].str.casefold()).duplicated(keep=False)

    suffixes = (
        lambda idx: rivers.at[idx] if isinstance(rivers.at[idx], str) and rivers.at[idx].casefold()
        not in out.at[idx, "name"].casefold() else None,
        lambda idx: f"near {near.at[idx, 'place']}" if isinstance(near.at[idx, "place"], str)
        and near.at[idx, "place"].casefold() not in out.at[idx, "name"].casefold() else None,
        lambda idx: _kind(out.loc[idx]).lower(),
        lambda idx: _where(idx) if isinstance(near.at[idx, "place"], str) and near.at[idx, "place_km"] >= 0.5
        else None,
        lambda idx: f"{_SOURCE_LABEL.get(out.at[idx, 'source'], out.at[idx, 'source'])} {out.at[idx, 'source_id']}",
    )
    def _where(idx: object) -> str:
        where = f"{near.at[idx, 'place_km']:.0f} km {near.at[idx, 'bearing']} of {near.at[idx, 'place']}"
        tail = f" near {near.at[idx, 'place']}"
        if out.at[idx, "name"].endswith(tail):  # "Dam near X" -> "Dam, 6 km SW of X"
            out.at[idx, "name"] = out.at[idx, "name"][: -len(tail)] + ", " + where
            return ""
        return where

    for fn in suffixes:
        d = dup_mask()
        if not d.any():
            break
        groups = (key + out["name"].str.casefold())[d]
        for _, members in groups.groupby(groups):
            cand = {idx: fn(idx) for idx in members.index}
            vals = [v for v in cand.values() if v]
            if len(set(vals)) < 2 and len(vals) == len(cand):
                continue  # this suffix does not tell them apart
            for idx, v in cand.items():
                if v:
                    out.at[idx, "name"] = f"{out.at[idx, 'name']} ({v})"
    return out
