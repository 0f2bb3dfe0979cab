"""The site record: columns, controlled vocabularies and validation.

Every part of riskmap speaks this schema. It is the bottom layer of the
package and imports nothing else from riskmap except the error types.

The schema is documented for users in ``docs/schema.md``; the tables there are
generated from :data:`COLUMNS` (see ``tests/test_schema.py``, which checks the
two agree).

Missing values stay missing: numeric fields are ``NaN`` and text fields are
``None`` when the source does not give them. Nothing is ever filled with ``0``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapValidationError
from riskmap._iso3 import ISO3_CODES, ISO3_NAMES

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "COORD_PRECISIONS",
    "WGK_CLASSES",
    "COLUMNS",
    "Column",
    "ValidationIssue",
    "ValidationReport",
    "column_names",
    "validate_sites",
    "empty_sites",
    "parse_substances",
    "format_substances",
]

#: Controlled vocabulary of site categories (value -> description).
CATEGORIES: dict[str, str] = {
    "tailings_metal": "Tailings management facility, metal ore (Pb, Zn, Cu, Au, Sb, Hg ...)",
    "tailings_uranium": "Tailings management facility or waste dump, uranium legacy",
    "tailings_red_mud": "Red mud (bauxite residue) basin of an alumina refinery",
    "tailings_ash": "Ash and slag landfill or pond of a thermal power plant",
    "mine": "Mine or mining district (open pit, underground), incl. iron ore and chromite",
    "smelter_refinery": "Smelter, metallurgical plant, alumina refinery, iron and steel works",
    "chemical_plant": "Chemical, fertiliser or pharmaceutical plant",
    "oil_refinery_depot": "Oil refinery, oil or fuel depot, LNG terminal",
    "oil_gas_extraction": "Oil or gas field, well cluster, gas processing",
    "pipeline": "Oil or gas pipeline (line feature)",
    "thermal_power_plant": "Thermal power plant (coal, lignite, gas, oil, nuclear)",
    "dam_reservoir": "Dam and reservoir (hydropower, irrigation, water supply)",
    "landfill": "Landfill or waste dump (municipal, industrial, hazardous)",
    "other": "Any other hazardous activity",
}

#: Categories that are tailings management facilities (THI/TRI apply).
TMF_CATEGORIES = frozenset(
    {"tailings_metal", "tailings_uranium", "tailings_red_mud", "tailings_ash"}
)

#: Operating status vocabulary.
STATUSES: dict[str, str] = {
    "operating": "In operation (incl. partly operating)",
    "closed": "Closed, retired, mothballed or idle; not remediated",
    "abandoned": "Abandoned without an operator (orphan legacy site)",
    "remediated": "Remediation completed or under way",
    "under_construction": "Under construction",
    "planned": "Planned, permitted or announced",
    "unknown": "Status not stated by the source",
}

#: How good a coordinate is.
COORD_PRECISIONS: dict[str, str] = {
    "exact": "Facility location from the source, accurate to about 100 m",
    "approximate": "Near the facility (same site or valley), within a few km",
    "town": "Coordinates of the nearest town or municipality, not of the facility",
    "estimated": "Estimated location (e.g. a helper or analyst guess), check before use",
}

#: Divide buffer (km) by coordinate precision: a site outside every basin outline
#: but within this distance of one belongs to the nearest basin (its coordinate
#: may be that far off). ``lines`` applies to pipelines and footprints. Used by
#: the inventory build (riskmap.databuild.sites) and by riskmap.exposure.assess alike.
DIVIDE_BUFFER_KM: dict[str, float] = {
    "exact": 2.0, "approximate": 5.0, "town": 10.0, "estimated": 10.0, "lines": 5.0,
}

#: German water hazard classes (WGK); ``unknown`` is treated as WGK 3 by the WRI.
WGK_CLASSES = ("1", "2", "3", "unknown")


@dataclass(frozen=True)
class Column:
    """One column of the site schema.

    Attributes
    ----------
    name : str
        Column name as it appears in files.
    kind : str
        ``"text"``, ``"number"``, ``"date"``, ``"json"`` or ``"geometry"``.
    required : bool
        Whether a file without the column is refused.
    description : str
        What the column means, with its unit.
    vocabulary : tuple of str, optional
        The allowed values for a controlled column.
    """

    name: str
    kind: str
    required: bool
    description: str
    vocabulary: tuple[str, ...] | None = None


#: The site schema, in the documented, stable column order.
COLUMNS: tuple[Column, ...] = (
    Column("site_id", "text", True, "Unique identifier of the site within the inventory"),
    Column("name", "text", True, "Name of the facility (as in the source)"),
    Column("category", "text", True, "Kind of hazardous activity", tuple(CATEGORIES)),
    Column("status", "text", False, "Operating status (blank = unknown)", tuple(STATUSES)),
    Column("country", "text", False, "ISO 3166-1 alpha-3 code (Kosovo XKX); derived from the location when blank"),
    Column("coord_precision", "text", True, "How good the coordinates are", tuple(COORD_PRECISIONS)),
    Column("source", "text", True, "Short name of the source dataset or document"),
    Column("source_id", "text", False, "Identifier of the record in the source"),
    Column("source_url", "text", False, "Link to the source record or evidence"),
    Column("licence", "text", False, "Licence of the source record (e.g. CC BY 4.0)"),
    Column("last_verified", "date", False, "Date the record was last checked against its source (YYYY-MM-DD)"),
    Column("source_refs", "json", False, "All source references of a merged site: JSON list of 'source:source_id'"),
    Column("substances", "json", False, "Hazardous substances: JSON list of {name, quantity_t, wgk}"),
    Column("tailings_volume_m3", "number", False, "Tailings volume in cubic metres"),
    Column("tailings_area_ha", "number", False, "Tailings facility area in hectares"),
    Column("dam_height_m", "number", False, "Height of the tailings or water-retaining dam in metres"),
    Column("tailings_type", "text", False, "Kind of tailings (e.g. Pb-Zn flotation, uranium mill, red mud)"),
    Column("dam_condition", "text", False, "Dam or facility condition: good, fair, poor, failed, unknown"),
    Column("reservoir_volume_m3", "number", False, "Reservoir volume in cubic metres (dams)"),
    Column("capacity_mw", "number", False, "Installed capacity in MW (power plants)"),
    Column("capacity_t_yr", "number", False, "Production or throughput capacity in tonnes per year"),
    Column("notes", "text", False, "Free text: evidence, caveats, conflicting values"),
    Column("name_source", "text", False,
           "Where the name comes from: a source key (e.g. gem-ghpt, grand, icmm) or 'geonames' for a name "
           "made from the nearest GeoNames place (e.g. 'Dam near Foca')"),
    Column("alt_names", "text", False, "Alternative names of the site, separated by ' | '"),
    Column("field_sources", "json", False,
           "Who supplied field values merged after the build (questionnaire returns): JSON object "
           "field -> 'questionnaire <ISO3> <date> (respondent: <their source>)'; fields not listed come "
           "from the site's own sources"),
)

_BY_NAME = {c.name: c for c in COLUMNS}
NUMERIC_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "number")
TEXT_COLUMNS = tuple(c.name for c in COLUMNS if c.kind in ("text", "date", "json"))
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)
DAM_CONDITIONS = ("good", "fair", "poor", "failed", "unknown")

#: Regions where riskmap's basins lie (lon_min, lat_min, lon_max, lat_max).
AOI_BOXES: dict[str, tuple[float, float, float, float]] = {
    "western_balkans": (15.0, 39.0, 24.0, 46.0),
    "central_asia": (58.0, 36.0, 80.0, 48.0),
}

#: Non-ISO codes seen in practice (Natural Earth, IOC) and their ISO3 equivalent.
_COUNTRY_ALIASES = {"KOS": "XKX", "KAB": "KAZ", "UNK": "XKX", "RKS": "XKX"}
_COUNTRY_HINTS = {"KYR": "KGZ", "TAJ": "TJK", "MKO": "MKD", "MAC": "MKD", "BOS": "BIH",
                  "SER": "SRB", "MON": "MNE", "KAS": "KAZ", "UZ": "UZB", "KG": "KGZ",
                  "TJ": "TJK", "KZ": "KAZ", "AL": "ALB", "MK": "MKD", "ME": "MNE",
                  "BA": "BIH", "RS": "SRB", "XK": "XKX"}


def column_names() -> list[str]:
    """Return the schema's column names in their stable order (without geometry).

    Examples
    --------
    >>> column_names()[:3]
    ['site_id', 'name', 'category']
    """
    return [c.name for c in COLUMNS]


def empty_sites() -> gpd.GeoDataFrame:
    """Return an empty site GeoDataFrame with every schema column, in EPSG:4326."""
    data: dict[str, Any] = {}
    for c in COLUMNS:
        data[c.name] = pd.Series(dtype="float64" if c.kind == "number" else "object")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


# --------------------------------------------------------------------------
# Validation report
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        The input file (or ``"<memory>"``).
    row : int or None
        1-based data row (feature) number; ``None`` for file-level problems.
    column : str or None
        The column concerned.
    reason : str
        What is wrong.
    fix : str
        What to do about it.
    severity : str
        ``"error"`` (the row is not usable) or ``"warning"`` (kept, possibly repaired).
    line : int or None
        For text files, the 1-based line in the file (header is line 1).
    """

    file: str
    row: int | None
    column: str | None
    reason: str
    fix: str
    severity: str = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{self.severity.upper()}: {', '.join(where)}: {self.reason}. Fix: {self.fix}"


@dataclass
class ValidationReport:
    """All problems found while loading one file.

    Attributes
    ----------
    file : str
        The file the report is about.
    n_rows : int
        Rows read.
    n_kept : int
        Rows kept (valid, possibly repaired).
    issues : list of ValidationIssue
    """

    file: str
    n_rows: int = 0
    n_kept: int = 0
    issues: list[ValidationIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[ValidationIssue]:
        """Issues that make a row (or the file) unusable."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        """Issues that were repaired or that deserve a look."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def add(self, row: int | None, column: str | None, reason: str, fix: str,
            severity: str = "error", line: int | None = None) -> None:
        """Record one issue."""
        self.issues.append(ValidationIssue(self.file, row, column, reason, fix, severity, line))

    def to_frame(self) -> pd.DataFrame:
        """The issues as a DataFrame (one row per issue)."""
        cols = ["severity", "file", "line", "row", "column", "reason", "fix"]
        return pd.DataFrame([{c: getattr(i, c) for c in cols} for i in self.issues], columns=cols)

    def summary(self) -> str:
        """One line: rows read, kept, errors and warnings."""
        return (f"{self.file}: {self.n_rows} rows read, {self.n_kept} kept, "
                f"{len(self.errors)} errors, {len(self.warnings)} warnings")

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(str(i) for i in self.issues)])


# --------------------------------------------------------------------------
# Substances (a list field)
# --------------------------------------------------------------------------


def parse_substances(value: Any) -> list[dict[str, Any]] | None:
    """Parse the ``substances`` field into a list of dicts.

    Accepts a JSON list of objects with ``name``, ``quantity_t`` (tonnes, or
    null when unknown) and ``wgk`` (1, 2, 3 or ``"unknown"``), or an already
    parsed list. Blank values give ``None``.

    Raises
    ------
    ValueError
        If the value is not a list of such objects.

    Examples
    --------
    >>> parse_substances('[{"name": "cyanide", "quantity_t": 12, "wgk": 3}]')
    [{'name': 'cyanide', 'quantity_t': 12.0, 'wgk': '3'}]
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, list):
        raise ValueError("must be a JSON list of objects")
    out = []
    for k, item in enumerate(value, 1):
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise ValueError(f"item {k} must be an object with a 'name'")
        q = item.get("quantity_t")
        if q is None or (isinstance(q, str) and q.strip().lower() in ("", "unknown")):
            qty = None
        else:
            try:
                qty = float(q)
            except (TypeError, ValueError):
                raise ValueError(f"item {k}: quantity_t {q!r} is not a number") from None
            if not math.isfinite(qty) or qty < 0:
                raise ValueError(f"item {k}: quantity_t must be a non-negative number")
        w = item.get("wgk", "unknown")
        w = "unknown" if w is None else str(w).strip().lower()
        if w.endswith(".0"):
            w = w[:-2]
        if w not in WGK_CLASSES:
            raise ValueError(f"item {k}: wgk {item.get('wgk')!r} is not one of 1, 2, 3, unknown")
        out.append({"name": str(item["name"]).strip(), "quantity_t": qty, "wgk": w})
    return out


def format_substances(items: list[dict[str, Any]] | None) -> str | None:
    """Serialise substances as compact, key-sorted JSON (``None`` when empty)."""
    if not items:
        return None
    return json.dumps(items, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

_LON_ALIASES = ("lon", "longitude", "lng", "long", "x")
_LAT_ALIASES = ("lat", "latitude", "y")


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and not v.strip()


def _to_number(v: Any, decimal_comma: bool) -> float:
    """Parse a number; raise ValueError with a short reason."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        f = float(v)
    else:
        s = str(v).strip().replace("\u00a0", "").replace(" ", "")
        if decimal_comma and s.count(",") == 1 and "." not in s:
            s = s.replace(",", ".")
        if "_" in s:  # Python's float() reads "1_9.3" as 19.3; no spreadsheet or survey means that
            raise ValueError(f"{v!r} is not a number (underscore)")
        try:
            f = float(s)
        except ValueError:
            raise ValueError(f"{v!r} is not a number") from None
    if not math.isfinite(f):
        raise ValueError(f"{v!r} is not a finite number")
    return f


def _parse_date(v: Any, s: str) -> str:
    """ISO date of a cell: a date/datetime object, ``YYYY-MM-DD`` or an ISO date-time; nothing else.

    ``2024-01-01garbage`` raises ValueError (only the first ten characters must
    not be enough).
    """
    if isinstance(v, (_dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return _dt.date.fromisoformat(s).isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", s):
        return _dt.datetime.fromisoformat(s.replace("Z", "+00:00")).date().isoformat()
    raise ValueError(s)


def _suggest(value: str, allowed: Iterable[str]) -> str:
    """Closest allowed value: most shared words first, then string similarity."""
    allowed = list(allowed)
    norm = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    words = set(norm.split("_")) - {""}
    best = max(allowed, key=lambda a: (len(words & set(a.split("_"))),
                                       difflib.SequenceMatcher(None, norm, a).ratio()))
    return best


def _refuse_ambiguous_columns(df: pd.DataFrame, report: ValidationReport) -> None:
    """Refuse columns that differ only in case (``lon`` and ``LON``) where riskmap looks names up
    case-insensitively: which one would be used is not defined."""
    known = set(_BY_NAME) | set(_LON_ALIASES) | set(_LAT_ALIASES) | {"geometry_wkt"}
    groups: dict[str, list[str]] = {}
    for c in df.columns:
        if isinstance(df, gpd.GeoDataFrame) and c == df.geometry.name:
            continue
        groups.setdefault(str(c).lower(), []).append(str(c))
    clash = {k: v for k, v in groups.items() if len(v) > 1 and k in known}
    if not clash:
        return
    for k, cols in sorted(clash.items()):
        report.add(None, k, f"ambiguous columns {', '.join(repr(c) for c in cols)}: names differ only in case",
                   f"keep one of them (or rename the other, e.g. '{cols[1]}_2')")
    raise RiskmapValidationError(report)


def _nonfinite_rows(geoms: np.ndarray) -> np.ndarray:
    """Boolean mask: geometries with a NaN or infinite coordinate."""
    bad = np.zeros(len(geoms), dtype=bool)
    if len(geoms):
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        if len(xy):
            bad[np.unique(idx[~np.isfinite(xy).all(axis=1)])] = True
    return bad


def _location_warnings(geoms: np.ndarray, rows: np.ndarray, countries: gpd.GeoDataFrame | None,
                       err: Any) -> None:
    """Warn (not refuse) about sites at (0, 0), far from riskmap's regions, or outside every country."""
    if not len(geoms):
        return
    rep = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(rep), shapely.get_y(rep)
    zero = (np.abs(x) < 1e-9) & (np.abs(y) < 1e-9)
    far = ~zero & ~_in_aoi(x, y)
    for i in np.flatnonzero(zero):
        err(rows[i], "geometry", "the site is at (0, 0), in the Gulf of Guinea: a missing coordinate written as 0?",
            "give the real coordinates, or leave them blank if unknown", "warning")
    for i in np.flatnonzero(far):
        err(rows[i], "geometry",
            f"the site ({x[i]:.4g}, {y[i]:.4g}) is far from riskmap's basins (Drin, Drina in the Western "
            "Balkans; Syr Darya in Central Asia): wrong coordinates, or another continent?",
            "check the coordinates (lon/lat order, sign); it will be 'outside' in every assessment", "warning")
    if countries is None or not len(countries):
        return
    near = np.flatnonzero(~zero & ~far)
    if not len(near):
        return
    land = _land(countries)
    on_land = shapely.intersects(land, geoms[near])
    for i in near[~on_land]:
        err(rows[i], "geometry",
            f"the site ({x[i]:.4g}, {y[i]:.4g}) is outside every country polygon (at sea, or wrong coordinates?)",
            "check the coordinates", "warning")


_LAND_CACHE: dict[int, Any] = {}


def _land(countries: gpd.GeoDataFrame) -> Any:
    """Union of the country polygons in EPSG:4326, prepared for fast vectorised tests (cached)."""
    key = id(countries)
    if key not in _LAND_CACHE:
        c = countries.to_crs("EPSG:4326") if countries.crs is not None and not countries.crs.equals("EPSG:4326") \
            else countries
        land = shapely.union_all(np.asarray(c.geometry.values))
        shapely.prepare(land)
        _LAND_CACHE.clear()
        _LAND_CACHE[key] = (countries, land)  # keep the frame alive so its id is not reused
    return _LAND_CACHE[key][1]


def _in_aoi(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(lon), dtype=bool)
    for x0, y0, x1, y1 in AOI_BOXES.values():
        inside |= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


def validate_sites(
    df: pd.DataFrame,
    *,
    file: str = "<memory>",
    strict: bool = False,
    line_offset: int | None = None,
    decimal_comma: bool = False,
    countries: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Validate a table of sites against the schema.

    Parameters
    ----------
    df : pandas.DataFrame or geopandas.GeoDataFrame
        Raw records. Either a geometry column (any CRS; reprojected to
        EPSG:4326) or ``lon``/``lat`` columns (aliases: longitude, lng, x;
        latitude, y) in WGS84 decimal degrees.
    file : str
        Name used in the report.
    strict : bool
        If True, raise :class:`~riskmap._errors.RiskmapValidationError` when any
        error is found; if False (lenient), keep the good rows and report the bad.
    line_offset : int, optional
        For text files: file line of data row 1 (2 for a CSV with one header
        line), so issues also name the line.
    decimal_comma : bool
        Accept ``1,5`` as 1.5 in numeric columns (semicolon-separated CSV).
    countries : geopandas.GeoDataFrame, optional
        Country polygons with an ``iso3`` column, used to derive ``country``
        when blank. Without it a blank country stays blank.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        The valid rows with every schema column, in schema order, EPSG:4326.
    report : ValidationReport

    Raises
    ------
    RiskmapValidationError
        In strict mode when the report holds errors, or in any mode when the
        file as a whole is unusable (e.g. a required column is missing).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"site_id": ["a"], "name": ["Mine"], "category": ["mine"],
    ...     "lon": [19.3], "lat": [43.3], "source": ["survey"], "coord_precision": ["exact"]})
    >>> sites, report = validate_sites(raw)
    >>> report.ok, len(sites)
    (True, 1)
    """
    report = ValidationReport(file=file, n_rows=len(df))
    df = df.copy()
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    _refuse_ambiguous_columns(df, report)
    lower = {c.lower(): c for c in df.columns}
    rename = {}
    for c in list(df.columns):
        cl = c.lower()
        if cl in _BY_NAME and c != cl:
            rename[c] = cl
    df = df.rename(columns=rename)
    lower = {c.lower(): c for c in df.columns}

    n = len(df)
    bad = np.zeros(n, dtype=bool)

    def line_of(i: int) -> int | None:
        return None if line_offset is None else line_offset + i

    def err(i: int | None, col: str | None, reason: str, fix: str, severity: str = "error") -> None:
        report.add(None if i is None else i + 1, col, reason, fix, severity,
                   None if i is None else line_of(i))

    # ---- geometry -----------------------------------------------------
    has_geom = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns \
        and (~df.geometry.isna()).any()
    lon_col = next((lower[a] for a in _LON_ALIASES if a in lower), None)
    lat_col = next((lower[a] for a in _LAT_ALIASES if a in lower), None)

    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if not has_geom and (lon_col is None or lat_col is None):
        missing.append("lon/lat (or a geometry)")
    if missing:
        for c in missing:
            report.add(None, c, "required column is missing",
                       f"add a column '{c}' (see docs/schema.md; found columns: "
                       f"{', '.join(map(str, df.columns)) or 'none'})")
        raise RiskmapValidationError(report)

    geoms = np.full(n, None, dtype=object)
    if has_geom:
        g = df.geometry
        nonfinite = _nonfinite_rows(np.asarray(g.values, dtype=object))
        for i in np.flatnonzero(nonfinite):
            err(i, "geometry", "geometry has NaN or infinite coordinates",
                "give real coordinates, or remove the feature")
        bad |= nonfinite
        if nonfinite.any():
            g = g.where(~nonfinite, None)
        if g.crs is None:
            err(None, "geometry", "the file has no CRS; assumed WGS84 (EPSG:4326)",
                "declare the CRS in the file or pass crs=", "warning")
        elif not g.crs.equals("EPSG:4326"):
            try:
                g = g.to_crs("EPSG:4326")
            except Exception as e:  # noqa: BLE001 - pyproj: a CRS that cannot be transformed
                report.add(None, "geometry", f"cannot reproject from {g.crs} to EPSG:4326 ({e})",
                           "reproject the file to EPSG:4326 first")
                raise RiskmapValidationError(report) from None
        geoms = np.asarray(g.values, dtype=object)
        after = _nonfinite_rows(geoms) & ~bad  # points outside the projection's domain
        for i in np.flatnonzero(after):
            err(i, "geometry", f"coordinates cannot be converted from {g.crs if df.crs is None else df.crs} "
                "to lon/lat (outside the projection's area?)", "check the coordinates and the file's CRS")
        bad |= after
    else:
        lons = np.full(n, np.nan)
        lats = np.full(n, np.nan)
        for i, (xv, yv) in enumerate(zip(df[lon_col].tolist(), df[lat_col].tolist())):
            for col, v, arr in ((lon_col, xv, lons), (lat_col, yv, lats)):
                if _blank(v):
                    err(i, col, "coordinate is blank", "give decimal degrees (WGS84)")
                    bad[i] = True
                    continue
                try:
                    arr[i] = _to_number(v, decimal_comma)
                except ValueError as e:
                    err(i, col, f"unparseable coordinate: {e}",
                        "write decimal degrees with a point, e.g. 43.3563")
                    bad[i] = True
        ok = ~bad
        projected = ok & ((np.abs(lons) > 360) | (np.abs(lats) > 360))
        in_aoi = _in_aoi(lons, lats)
        in_aoi_swapped = _in_aoi(lats, lons)
        # swapped: the point is outside riskmap's regions (or out of range) but
        # falls inside one when latitude and longitude are exchanged
        swapped_range = np.zeros(n, dtype=bool)
        swapped_aoi = ok & ~projected & ~in_aoi & in_aoi_swapped
        out_range = ok & ~projected & ~swapped_aoi & ((np.abs(lons) > 180) | (np.abs(lats) > 90))
        for i in np.flatnonzero(projected):
            err(i, f"{lon_col}/{lat_col}",
                f"coordinates ({lons[i]:g}, {lats[i]:g}) look projected (metres), not degrees",
                "reproject to WGS84 lon/lat, or load the file with crs='EPSG:xxxx' "
                "(e.g. riskmap validate FILE --crs EPSG:32634)")
        for i in np.flatnonzero(swapped_range | swapped_aoi):
            err(i, f"{lon_col}/{lat_col}",
                f"latitude and longitude are probably swapped (lon={lons[i]:g}, lat={lats[i]:g})",
                f"swap them: lon={lats[i]:g}, lat={lons[i]:g}")
        for i in np.flatnonzero(out_range):
            col = lat_col if abs(lats[i]) > 90 else lon_col
            err(i, col, f"coordinate out of range (lon={lons[i]:g}, lat={lats[i]:g})",
                "longitude must be within -180..180 and latitude within -90..90")
        bad |= projected | swapped_range | swapped_aoi | out_range
        pts = shapely.points(np.where(bad, 0.0, lons), np.where(bad, 0.0, lats))
        geoms = np.where(bad, None, pts)
        if "geometry_wkt" in lower:
            # lines/polygons in tabular files: WKT wins over the lon/lat label point
            for i, w in enumerate(df[lower["geometry_wkt"]].tolist()):
                if bad[i] or _blank(w):
                    continue
                try:
                    geoms[i] = shapely.from_wkt(str(w))
                except shapely.errors.GEOSException as e:
                    err(i, "geometry_wkt", f"unparseable WKT geometry ({e})",
                        "give a WKT LineString/Polygon in lon/lat, or leave blank for points")
                    bad[i] = True
                    continue
                if _nonfinite_rows(np.array([geoms[i]], dtype=object))[0]:
                    err(i, "geometry_wkt", "WKT geometry has NaN or infinite coordinates",
                        "give real lon/lat coordinates")
                    bad[i] = True

    # empty / invalid geometry
    bad_before_geom = bad.copy()
    for i in range(n):
        if bad[i]:
            continue
        gm = geoms[i]
        if gm is None or gm.is_empty:
            err(i, "geometry", "geometry is empty", "give a point (lon/lat) or a polygon footprint")
            bad[i] = True
            continue
        if not gm.is_valid:
            why = shapely.is_valid_reason(gm)
            fixed = shapely.make_valid(gm)
            if fixed.geom_type == "GeometryCollection":
                polys = [p for p in fixed.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(polys) if polys else fixed
            geoms[i] = fixed
            err(i, "geometry", f"invalid geometry ({why}); repaired with make_valid",
                "check the repaired footprint", "warning")

    # lon/lat range (vector files without a CRS, projected WKT) and antimeridian crossings, vectorised
    gcol = "geometry" if has_geom else "geometry_wkt"
    cand = np.flatnonzero(~bad)
    b = shapely.bounds(np.asarray(geoms[cand], dtype=object)) if len(cand) else np.zeros((0, 4))
    outside = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    wide = ~outside & (b[:, 2] - b[:, 0] > 180)
    for k in np.flatnonzero(outside):
        if has_geom:
            err(cand[k], gcol, "geometry coordinates outside lon/lat range (projected data without a CRS?)",
                "declare the file's CRS or reproject it to EPSG:4326")
        else:
            err(cand[k], gcol, f"WKT coordinates outside lon/lat range (x {b[k, 0]:g}..{b[k, 2]:g}, "
                f"y {b[k, 1]:g}..{b[k, 3]:g}): projected (metres)?",
                "write the WKT in WGS84 longitude/latitude degrees")
    for k in np.flatnonzero(wide):
        err(cand[k], gcol, f"geometry spans {b[k, 2] - b[k, 0]:.0f} degrees of longitude: it crosses the "
            "antimeridian (or mixes hemispheres) and would become a band around the globe",
            "split it at 180 degrees, or check the coordinates' signs")
    bad[cand[outside | wide]] = True
    n_out_of_range = int(outside.sum())

    # ---- text / vocabulary columns ---------------------------------------
    out: dict[str, list[Any]] = {c.name: [None] * n for c in COLUMNS}

    def text_val(v: Any) -> str | None:
        if _blank(v):
            return None
        s = str(v).strip()
        if s.endswith(".0") and isinstance(v, (float, np.floating)):
            s = s[:-2]
        return s

    ids_seen: dict[str, int] = {}
    for c in COLUMNS:
        if c.name not in df.columns:
            continue
        values = df[c.name].tolist()
        for i, v in enumerate(values):
            if c.kind == "number":
                if _blank(v):
                    out[c.name][i] = np.nan
                    continue
                try:
                    f = _to_number(v, decimal_comma)
                except ValueError as e:
                    err(i, c.name, f"unparseable number: {e}",
                        "write a plain number (no units), or leave blank when unknown")
                    bad[i] = True
                    continue
                if f < 0:
                    err(i, c.name, f"negative value {f:g}", "quantities cannot be negative; leave blank when unknown")
                    bad[i] = True
                    continue
                out[c.name][i] = f
                continue
            s = text_val(v)
            if c.name == "substances":
                try:
                    out[c.name][i] = format_substances(parse_substances(v))
                except ValueError as e:
                    err(i, c.name, f"bad substances list: {e}",
                        'write e.g. [{"name": "sodium cyanide", "quantity_t": 12, "wgk": 3}]')
                    bad[i] = True
                continue
            if c.name == "source_refs" and s is not None:
                try:
                    refs = json.loads(s)
                    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
                        raise ValueError
                except ValueError:
                    err(i, c.name, "source_refs must be a JSON list of strings",
                        'write e.g. ["gem-gcpt:G100000108106", "wri-gppd:WRI1019881"]')
                    bad[i] = True
                    continue
            if c.name == "field_sources" and s is not None:
                try:
                    fs = json.loads(s)
                    if not isinstance(fs, dict) or not all(isinstance(v, str) for v in fs.values()):
                        raise ValueError
                except ValueError:
                    err(i, c.name, "field_sources must be a JSON object of field -> text",
                        'write e.g. {"tailings_volume_m3": "questionnaire MNE 2026-11-03"}')
                    bad[i] = True
                    continue
            if c.vocabulary and s is not None:
                key = s.lower().replace(" ", "_").replace("-", "_")
                if key not in c.vocabulary:
                    err(i, c.name, f"unknown {c.name} {s!r}",
                        f"use one of {', '.join(c.vocabulary)}; closest: {_suggest(s, c.vocabulary)!r}")
                    bad[i] = True
                    continue
                s = key
            if c.name == "dam_condition" and s is not None:
                if s.lower() not in DAM_CONDITIONS:
                    err(i, c.name, f"unknown dam_condition {s!r}",
                        f"use one of {', '.join(DAM_CONDITIONS)}; closest: {_suggest(s, DAM_CONDITIONS)!r}")
                    bad[i] = True
                    continue
                s = s.lower()
            if c.name == "country" and s is not None:
                code = s.upper()
                if code in _COUNTRY_ALIASES:
                    err(i, c.name, f"country code {s!r} is not ISO 3166-1 alpha-3",
                        f"converted to {_COUNTRY_ALIASES[code]!r}", "warning")
                    code = _COUNTRY_ALIASES[code]
                if code not in ISO3_CODES:
                    hint = _country_hint(s)
                    err(i, c.name, f"unknown country code {s!r}",
                        f"use an ISO 3166-1 alpha-3 code (Kosovo: XKX){hint}")
                    bad[i] = True
                    continue
                s = code
            if c.kind == "date" and s is not None:
                try:
                    s = _parse_date(v, s)
                except ValueError:
                    err(i, c.name, f"unparseable date {s!r}", "write the date as YYYY-MM-DD")
                    bad[i] = True
                    continue
            if c.required and s is None:
                err(i, c.name, "required value is blank", f"fill in '{c.name}'")
                bad[i] = True
                continue
            if c.name == "site_id" and s is not None:
                if s in ids_seen:
                    err(i, c.name, f"duplicate site_id {s!r} (first used in row {ids_seen[s] + 1})",
                        "give every site a unique site_id")
                    bad[i] = True
                    continue
                ids_seen[s] = i
            out[c.name][i] = s

    for i in range(n):
        if out["status"][i] is None:
            out["status"][i] = "unknown"

    keep = ~bad
    data = {c.name: [v for v, k in zip(out[c.name], keep) if k] for c in COLUMNS}
    frame = pd.DataFrame(data)
    for c in COLUMNS:
        frame[c.name] = frame[c.name].astype("float64" if c.kind == "number" else "object")
        if c.kind != "number":
            frame[c.name] = frame[c.name].where(frame[c.name].notna(), None)
    # columns outside the schema are kept (after the schema columns), never dropped silently
    used = {lon_col, lat_col, "geometry_wkt", "geometry"}
    if isinstance(df, gpd.GeoDataFrame):
        used.add(df.geometry.name)
    extra = [c for c in df.columns if c not in _BY_NAME and c not in used]
    for c in extra:
        frame[c] = [v for v, k in zip(df[c].tolist(), keep) if k]
    sites = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(geoms[keep]), crs="EPSG:4326"),
                             crs="EPSG:4326")
    if has_geom and df.geometry.crs is None and n_out_of_range and n_out_of_range == int((~bad_before_geom).sum()):
        report.add(None, "geometry",
                   "the coordinates are not longitude/latitude and the file declares no CRS "
                   "(a Shapefile without its .prj file?)",
                   "give the CRS, e.g. riskmap validate FILE --crs EPSG:32634 (the same --crs works with "
                   "every command), or add the .prj file")
    _location_warnings(np.asarray(sites.geometry.values, dtype=object), np.flatnonzero(keep), countries, err)
    if countries is not None and len(sites):
        _derive_country(sites, countries)
    report.n_kept = len(sites)
    report.issues.sort(key=lambda i: (i.row is not None, i.row or 0))
    if strict and not report.ok:
        raise RiskmapValidationError(report)
    return sites, report


# --------------------------------------------------------------------------
# Input columns named like computed columns
# --------------------------------------------------------------------------


def set_aside_computed(frame: pd.DataFrame, names: Iterable[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename input columns that a step is about to compute to ``<name>_input``.

    A file may carry a column that happens to be named like one that
    :func:`riskmap.exposure.assess` or :func:`riskmap.hazard.score` writes
    (``exposure_class``, ``priority_score`` ...): the step must compute its
    own value and must not lose the user's. Call :func:`settle_computed` on
    the step's result.

    Returns
    -------
    (frame, moved)
        The renamed frame and ``{name: new_name}``.
    """
    present = [c for c in names if c in frame.columns]
    if not present:
        return frame, {}
    moved: dict[str, str] = {}
    for c in present:
        new, k = f"{c}_input", 2
        while new in frame.columns or new in moved.values():
            new, k = f"{c}_input{k}", k + 1
        moved[c] = new
    return frame.rename(columns=moved), moved


def _canon(v: Any) -> Any:
    """A comparable form of a cell: numbers rounded, containers recursively, blanks ''."""
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_canon(x) for x in v]
    if _blank(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, (int, float, np.integer, np.floating)):
        return repr(round(float(v), 6))
    return str(v)


def _norm_cell(v: Any) -> str:
    if isinstance(v, (list, tuple, np.ndarray, dict)):
        return json.dumps(_canon(v), sort_keys=True)
    if _blank(v):
        return ""
    if isinstance(v, str):
        t = v.strip()
        if t.startswith(("[", "{")):
            try:
                return json.dumps(_canon(json.loads(t)), sort_keys=True)
            except (ValueError, TypeError):
                return t
        if t.lower() in ("true", "false"):
            return t.lower()
        try:
            return repr(round(float(t), 6))
        except ValueError:
            return t
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    try:
        return repr(round(float(v), 6))
    except (TypeError, ValueError):
        return str(v)


def settle_computed(out: pd.DataFrame, moved: dict[str, str], step: str) -> pd.DataFrame:
    """Drop set-aside input columns equal to the computed ones; keep the others and warn.

    An input column whose values equal what riskmap computed (e.g. a file
    written by ``riskmap assess`` and read back) adds nothing and is dropped;
    one that differs stays as ``<name>_input`` and a
    :class:`~riskmap.RiskmapDataWarning` names it.
    """
    if not moved:
        return out
    import warnings

    from riskmap._errors import RiskmapDataWarning

    kept = []
    for c, new in moved.items():
        same = c in out.columns and bool((out[c].map(_norm_cell) == out[new].map(_norm_cell)).all())
        if same:
            out = out.drop(columns=new)
        else:
            kept.append(f"'{c}' (kept as '{new}')")
    if kept:
        warnings.warn(f"{step}: the input has column(s) {', '.join(kept)} named like riskmap's computed "
                      "columns; the computed values are used and the file's values are kept under the new name "
                      "(docs/schema.md, 'Columns riskmap computes')", RiskmapDataWarning, stacklevel=3)
    return out


def _country_hint(s: str) -> str:
    up = s.strip().upper()
    if up in _COUNTRY_HINTS:
        code = _COUNTRY_HINTS[up]
        return f"; did you mean {code!r} ({ISO3_NAMES[code]})?"
    name_hits = [code for code, name in ISO3_NAMES.items() if name.lower() == s.strip().lower()]
    if name_hits:
        return f"; did you mean {name_hits[0]!r}?"
    close = difflib.get_close_matches(up, list(ISO3_CODES), n=1, cutoff=0.6)
    return f"; closest code: {close[0]!r} ({ISO3_NAMES.get(close[0], '')})" if close else ""


def _derive_country(sites: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> None:
    """Fill blank ``country`` values from country polygons (in place)."""
    blank = sites["country"].isna().to_numpy()
    if not blank.any():
        return
    pts = sites.geometry[blank].representative_point()
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=pts, crs=sites.crs),
                  countries[["iso3", "geometry"]].to_crs(sites.crs), how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    sites.loc[blank, "country"] = j["iso3"].reindex(sites.index[blank]).where(
        j["iso3"].notna(), None).to_numpy()


def schema_markdown() -> str:
    """Render the schema as Markdown (the content of ``docs/schema.md``).

    Regenerate the doc with
    ``python -c "from riskmap.schema import schema_markdown; print(schema_markdown(), end='')" > docs/schema.md``.
    """
    out = [
        "# The riskmap site schema",
        "",
        "Generated from `riskmap/schema.py` by `riskmap.schema.schema_markdown()`; do not edit by hand.",
        "",
        "Every inventory record riskmap reads, writes or analyses has these columns, in this order, plus a",
        "geometry: a WGS84 (EPSG:4326) point, or a polygon footprint / line (pipelines). In CSV and XLSX the",
        "geometry is given as `lon`, `lat` (the point, or a representative point) and `geometry_wkt` (only for",
        "non-point geometries). On input, `longitude`/`lng`/`x` and `latitude`/`y` are accepted as aliases, and",
        "any vector format with a CRS is reprojected.",
        "",
        "**Missing values stay missing**: blank cells are read as missing (NaN for numbers) and are never",
        "replaced by 0. A blank `status` means `unknown`; a blank `country` is derived from the location.",
        "",
        "| column | kind | required | description |",
        "|---|---|---|---|",
    ]
    for c in COLUMNS:
        out.append(f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.description} |")
    out += ["", "## Controlled vocabularies", ""]
    for title, vocab in (("category", CATEGORIES), ("status", STATUSES),
                         ("coord_precision", COORD_PRECISIONS)):
        out += [f"### `{title}`", "", "| value | meaning |", "|---|---|"]
        out += [f"| `{k}` | {v} |" for k, v in vocab.items()]
        out.append("")
    out += [
        "Tailings management facilities (the THI/TRI indices apply) are the categories "
        + ", ".join(f"`{c}`" for c in sorted(TMF_CATEGORIES)) + ".",
        "",
        "### `dam_condition`",
        "",
        ", ".join(f"`{d}`" for d in DAM_CONDITIONS),
        "",
        "### `substances`",
        "",
        "A JSON list of objects `{\"name\": str, \"quantity_t\": number or null, \"wgk\": 1 | 2 | 3 | \"unknown\"}`:",
        "the substance, its quantity in tonnes (null when unknown) and its German water hazard class",
        "(WGK 1 slightly, 2 clearly, 3 strongly water-endangering). Example:",
        "`[{\"name\": \"sodium cyanide\", \"quantity_t\": 12, \"wgk\": 3}]`.",
        "",
        "### `source_refs`",
        "",
        "A JSON list of `\"source:source_id\"` strings: every source record merged into the site.",
        "",
        "### `country`",
        "",
        "ISO 3166-1 alpha-3. Kosovo has no ISO code and uses `XKX`; Natural Earth's `KOS` is accepted and",
        "converted with a warning, and the Baikonur lease `KAB` is Kazakhstan (`KAZ`).",
        "",
        "## Validation",
        "",
        "`riskmap validate FILE` (or `riskmap.read_sites(FILE)`, whose report is in",
        "`sites.attrs[\"validation\"]`) reports every problem with the file, line/row, column, reason and a",
        "suggested fix: missing required columns, unparseable numbers, coordinates out of range, probably",
        "swapped latitude/longitude, coordinates that look projected (metres), empty or invalid geometries",
        "(invalid ones are repaired with `make_valid` and reported as warnings), duplicate `site_id`, unknown",
        "category, status, coordinate precision or country code (with the closest allowed value), bad",
        "substance lists and dates. The lenient mode (default) keeps the good rows; `--strict` refuses the",
        "file. The command exits 1 when there are errors.",
        "",
        "Also refused: numbers with underscores (`1_9.3`; Python would read 19.3), dates with anything after",
        "the date (`2024-01-01garbage`; `YYYY-MM-DD` or an ISO date-time only), NaN or infinite coordinates",
        "in a geometry or in `geometry_wkt`, `geometry_wkt` outside the lon/lat range (projected metres),",
        "lines and polygons wider than 180 degrees of longitude (crossing the antimeridian: they would",
        "become a band around the globe), two columns whose names differ only in case (`lon` and `LON`),",
        "and XLSX formula cells that have no saved value (they would read as blank; open and save the",
        "workbook in Excel or LibreOffice). A site at (0, 0), far from the three basins or outside every",
        "country polygon (at sea) is kept with a warning.",
        "",
        "## Reading sites in every command",
        "",
        "Every command that reads a site file (`assess`, `score`, `matrix`, `map`, `report`, `export`,",
        "`spill --sites`, `demo --sites`, `sites summary`) validates it the same way and:",
        "",
        "- prints on stderr how many rows it dropped and why (a tally by column and reason), pointing to",
        "  `riskmap validate FILE` for the full list; `riskmap.read_sites` issues the same line as a",
        "  `riskmap.RiskmapDataWarning` and returns the full report in `sites.attrs[\"validation\"]`;",
        "- with `--strict`, refuses the file (exit 1, nothing written) when any row is invalid;",
        "- refuses a file with no usable row at all (exit 1), e.g. a projected Shapefile without its `.prj`",
        "  (give the CRS with `--crs EPSG:xxxx`, accepted by the same commands);",
        "- reads the layer (GeoPackage) or sheet (XLSX) given with `--layer NAME` or `--layer INDEX`",
        "  (0-based); without it, the first, with a warning naming all layers when there are several.",
        "",
        "The report (`riskmap report`) lists the dropped rows (row, line, column, reason) in its data-quality",
        "section. No command writes over one of its inputs: an output path that is an input file (also",
        "through a symbolic or hard link) is refused before anything is read or written.",
        "",
        "## Columns riskmap computes",
        "",
        "`assess` writes the exposure columns (`sub_basin`, `in_basin`, `border_km`, ... `exposure_class`:",
        "docs/exposure.md) and `score` the hazard columns (`wri` ... `priority_score`, `priority_rank`,",
        "`score_status`, `exposure_score`, `natech_fault_km` ...: docs/hazard.md). They are always computed",
        "afresh. When an input file already has a column of one of those names, the file's values are kept",
        "as `<name>_input` (e.g. `exposure_class_input`) and a warning names the column; when they equal",
        "the computed values (a riskmap output read back), the copy is dropped. `country` is an inventory",
        "column (only blanks are filled) and `basin`, written by `riskmap data build-sites`, is recomputed.",
        "",
    ]
    return "\n".join(out)
