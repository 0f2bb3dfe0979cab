"""The site record: columns, controlled vocabularies and validation.

Every part of riskmap speaks this schema. It is the bottom layer of the
package and imports nothing else from riskmap except the error types.

The schema is documented for users in ``docs/schema.md``; the tables there are
generated from :data:`COLUMNS` by :func:`riskmap.schema_doc.schema_markdown` (see
``tests/test_schema.py``, which checks the two agree).

Missing values stay missing: numeric fields are ``NaN`` and text fields are
``None`` when the source does not give them. Nothing is ever filled with ``0``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.i18n import N_


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
    "validate_sites",  # noqa: F822  (lazy, from riskmap.validation)
    "empty_sites",
    "parse_substances",
    "format_substances",
]

#: Controlled vocabulary of site categories (value -> description; descriptions marked for translation,
#: shown with ``riskmap.i18n._``).
CATEGORIES: dict[str, str] = {
    "tailings_metal": N_("Tailings management facility, metal ore (Pb, Zn, Cu, Au, Sb, Hg ...)"),
    "tailings_uranium": N_("Tailings management facility or waste dump, uranium legacy"),
    "tailings_red_mud": N_("Red mud (bauxite residue) basin of an alumina refinery"),
    "tailings_ash": N_("Ash and slag landfill or pond of a thermal power plant"),
    "mine": N_("Mine or mining district (open pit, underground), incl. iron ore and chromite"),
    "smelter_refinery": N_("Smelter, metallurgical plant, alumina refinery, iron and steel works"),
    "chemical_plant": N_("Chemical, fertiliser or pharmaceutical plant"),
    "oil_refinery_depot": N_("Oil refinery, oil or fuel depot, LNG terminal"),
    "oil_gas_extraction": N_("Oil or gas field, well cluster, gas processing"),
    "pipeline": N_("Oil or gas pipeline (line feature)"),
    "thermal_power_plant": N_("Thermal power plant (coal, lignite, gas, oil, nuclear)"),
    "dam_reservoir": N_("Dam and reservoir (hydropower, irrigation, water supply)"),
    "landfill": N_("Landfill or waste dump (municipal, industrial, hazardous)"),
    "other": N_("Any other hazardous activity"),
}

#: Categories that are tailings management facilities (THI/TRI apply).
TMF_CATEGORIES = frozenset(
    {"tailings_metal", "tailings_uranium", "tailings_red_mud", "tailings_ash"}
)

#: Operating status vocabulary.
STATUSES: dict[str, str] = {
    "operating": N_("In operation (incl. partly operating)"),
    "closed": N_("Closed, retired, mothballed or idle; not remediated"),
    "abandoned": N_("Abandoned without an operator (orphan legacy site)"),
    "remediated": N_("Remediation completed or under way"),
    "under_construction": N_("Under construction"),
    "planned": N_("Planned, permitted or announced"),
    "unknown": N_("Status not stated by the source"),
}

#: How good a coordinate is.
COORD_PRECISIONS: dict[str, str] = {
    "exact": N_("Facility location from the source, accurate to about 100 m"),
    "approximate": N_("Near the facility (same site or valley), within a few km"),
    "town": N_("Coordinates of the nearest town or municipality, not of the facility"),
    "estimated": N_("Estimated location (e.g. a helper or analyst guess), check before use"),
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
        from riskmap.i18n import _

        where = [self.file]
        if self.line is not None:
            where.append(_("line {n}").format(n=self.line))
        if self.row is not None:
            where.append(_("row {n}").format(n=self.row))
        if self.column:
            where.append(_("column '{column}'").format(column=self.column))
        severity = {"error": _("ERROR"), "warning": _("WARNING")}.get(self.severity, self.severity.upper())
        return _("{severity}: {where}: {reason}. Fix: {fix}").format(
            severity=severity, where=", ".join(where), reason=self.reason, fix=self.fix)


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
        df = pd.DataFrame([{c: getattr(i, c) for c in cols} for i in self.issues], columns=cols)
        for c in ("line", "row"):  # whole numbers, blank where an issue concerns the whole file (not 2.0 / NaN)
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
        return df

    def summary(self) -> str:
        """One line: rows read, kept, errors and warnings."""
        from riskmap.i18n import _

        return _("{file}: {rows} rows read, {kept} kept, {errors} errors, {warnings} warnings").format(
            file=self.file, rows=self.n_rows, kept=self.n_kept, errors=len(self.errors),
            warnings=len(self.warnings))

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
# Cell helper shared with riskmap.validation
# --------------------------------------------------------------------------


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and not v.strip()



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


def __getattr__(name: str) -> Any:
    """``validate_sites`` (:mod:`riskmap.validation`) and ``schema_markdown`` (:mod:`riskmap.schema_doc`), lazily."""
    if name == "validate_sites":
        from riskmap.validation import validate_sites

        return validate_sites
    if name == "schema_markdown":
        from riskmap.schema_doc import schema_markdown

        return schema_markdown
    raise AttributeError(f"module 'riskmap.schema' has no attribute {name!r}")
