"""File formats riskmap reads and writes: extension -> format, Shapefile field names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


from riskmap._errors import (RiskmapInputError)
from riskmap.i18n import _


#: Extension -> format name.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".shp": "shp",
}

#: Shapefile field names are limited to 10 characters: schema name -> short name.
SHAPEFILE_NAMES: dict[str, str] = {
    "coord_precision": "coord_prec",
    "last_verified": "last_verif",
    "source_refs": "src_refs",
    "tailings_volume_m3": "tail_vol",
    "tailings_area_ha": "tail_area",
    "dam_height_m": "dam_height",
    "tailings_type": "tail_type",
    "dam_condition": "dam_cond",
    "reservoir_volume_m3": "res_vol",
    "capacity_mw": "cap_mw",
    "capacity_t_yr": "cap_t_yr",
    "name_source": "name_src",
    "field_sources": "field_srcs",
}
_SHAPEFILE_BACK = {v: k for k, v in SHAPEFILE_NAMES.items()}

#: Short human headers of an export's XLSX ``sites`` sheet and ``--excel`` CSV (machine names: the
#: ``data_dictionary`` sheet, column ``column``; other columns keep their machine name as header).
#: Reading a file maps them back (:func:`machine_headers`), so such a file can be validated again.
DISPLAY_HEADERS: dict[str, str] = {
    "site_id": "Site ID", "name": "Name", "category": "Category", "status": "Status",
    "country": "Country", "coord_precision": "Coordinate precision", "source": "Source",
    "source_id": "Source record ID", "source_url": "Source link", "licence": "Licence",
    "last_verified": "Last verified", "source_refs": "All source references",
    "substances": "Hazardous substances", "tailings_volume_m3": "Tailings volume (m³)",
    "tailings_area_ha": "Tailings area (ha)", "dam_height_m": "Dam height (m)",
    "tailings_type": "Tailings type", "dam_condition": "Dam condition",
    "reservoir_volume_m3": "Reservoir volume (m³)", "capacity_mw": "Capacity (MW)",
    "capacity_t_yr": "Capacity (t/year)", "notes": "Notes", "name_source": "Name from",
    "alt_names": "Other names", "field_sources": "Field values supplied by",
    "lon": "Longitude (WGS84)", "lat": "Latitude (WGS84)", "geometry_wkt": "Line geometry (WKT)",
    "basin": "Basin", "sub_basin": "Sub-basin", "in_basin": "Inside basin outline",
    "country_check": "Country check", "border_km": "Distance to border (km)",
    "border_neighbour": "Country across nearest border", "reach_id": "River reach ID",
    "reach_name": "River reach", "snap_km": "Distance to river (km)", "drainage_by": "Drainage found by",
    "downstream_countries": "Countries downstream",
    "first_border_river_km": "River km to first border", "outlet_river_km": "River km to basin outlet",
    "river_km_basis": "River km basis", "continuation": "Beyond the basin outlet",
    "travel_time_h": "Travel time to first border (h)",
    "transboundary_downstream": "Transboundary downstream", "near_border": "Near a border",
    "on_border_water": "On border water", "exposure_class": "Exposure class",
    "wri": "Water Risk Index (WRI)", "wri_band": "WRI band", "thi": "Tailings Hazard Index (THI)",
    "tri": "Tailings Risk Index (TRI)", "natech_seismic": "Natech seismic score",
    "natech_flood": "Natech flood score", "hazard_score": "Hazard score", "priority_score": "Priority score",
    "priority_rank": "Priority rank", "rank_basis": "Rank based on", "score_status": "Score status",
    "completeness": "Data completeness",
    "score_terms": "Priority score terms", "score_reason": "Why it ranks here",
    "params_label": "Parameter set", "natech_fault_km": "Distance to active fault (km)",
    "natech_max_mw": "Largest nearby earthquake (Mw)", "natech_water_km": "Distance to water (km)",
    "exposure_score": "Exposure score",
}
_MACHINE_NAMES = {v.casefold(): k for k, v in DISPLAY_HEADERS.items()}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise RiskmapInputError(f"{path}: unknown format {fmt!r}; use one of {sorted(set(FORMATS.values()))}")
        return fmt
    f = FORMATS.get(path.suffix.lower())
    if f is None:
        raise RiskmapInputError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"use one of {', '.join(sorted(FORMATS))}")
    return f


def output_format(path: Path, fmt: str | None) -> str:
    """The format to write ``path`` in: ``fmt``, else the extension's; refused when the two disagree.

    One format is never written under another format's extension (``--format gpkg -o x.csv``);
    an unknown extension with an explicit ``fmt`` is accepted.

    Examples
    --------
    >>> output_format(Path("x.gpkg"), None)
    'gpkg'
    >>> output_format(Path("x.csv"), "gpkg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: x.csv: the extension '.csv' is for csv files, not gpkg; ...
    """
    f = _format_of(path, fmt)
    ext = FORMATS.get(path.suffix.lower())
    if ext is not None and ext != f:
        raise RiskmapInputError(_("{path}: the extension {ext} is for {ext_format} files, not {format}; name the "
                                  "output with a {format} extension or drop the format option").format(
            path=path, ext=repr(path.suffix), ext_format=ext, format=f))
    return f


def machine_headers(columns: list[str]) -> dict[str, str]:
    """Renames of display headers (``Site ID``, any case) to machine names (``site_id``).

    A display header is left alone when its machine name (any case) is a column too: ``Name`` stays
    ``Name``, which validation reads as ``name`` anyway.

    Examples
    --------
    >>> machine_headers(["Site ID", "Name", "lat", "Latitude (WGS84)", "my column"])
    {'Site ID': 'site_id'}
    """
    present = {str(c).strip().lower() for c in columns}
    out: dict[str, str] = {}
    for c in columns:
        name = _MACHINE_NAMES.get(str(c).strip().casefold())
        if name is not None and name not in present and name not in out.values():
            out[c] = name
    return out


#: Header names that mark a row as the header row (schema columns, display headers, coordinate columns).
_KNOWN_HEADERS = {*_MACHINE_NAMES, *(k.casefold() for k in DISPLAY_HEADERS),
                  "lon", "lat", "longitude", "latitude", "lng", "long", "x", "y", "geometry_wkt"}


def known_headers(cells: Sequence[object]) -> int:
    """How many cells are known column names (schema names, display headers, coordinate columns; any case)."""
    return sum(1 for v in cells if v is not None and str(v).strip().lstrip("\ufeff").strip("\"").casefold()
               in _KNOWN_HEADERS)


def header_row_index(rows: Sequence[Sequence[object]], look: int = 10) -> int:
    """The index of the header row among the first ``look`` rows: 0, or the row below title lines.

    Hand-made tables often carry a title line (and blank lines) above the header. A later row is
    the header when it holds at least two known column names (``site_id``, ``Name``, ``lat`` ...),
    the first row holds fewer, and every row above it has fewer filled cells than it.

    Examples
    --------
    >>> header_row_index([["Sites of the Drina basin", ""], ["site_id", "name"], ["a", "Mine"]])
    1
    >>> header_row_index([["site_id", "name"], ["a", "Mine"]])
    0
    """
    def filled(r: Sequence[object]) -> int:
        return sum(1 for v in r if v is not None and str(v).strip() and str(v) != "nan")


    if not rows or known_headers(rows[0]) >= 2:
        return 0
    for k, r in enumerate(rows[1:look], start=1):
        if known_headers(r) >= 2 and all(filled(above) < filled(r) for above in rows[:k]):
            return k
    return 0
