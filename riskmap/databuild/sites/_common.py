"""Shared helpers of the site importers: mapping tables, result type, countries."""

from __future__ import annotations

import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._iso3 import ISO3_NAMES
from riskmap.io import sha256_file
from riskmap.schema import COLUMNS, NUMERIC_COLUMNS
from riskmap._text import slug  # noqa: F401 - used by the importers

MAPPINGS_FILE = Path(__file__).with_name("mappings.toml")


@lru_cache(maxsize=1)
def mappings() -> dict[str, Any]:
    """The mapping tables of ``riskmap/databuild/sites/mappings.toml`` (cached)."""
    with MAPPINGS_FILE.open("rb") as fh:
        return tomllib.load(fh)


@dataclass
class SourceResult:
    """What one importer produced.

    Attributes
    ----------
    key : str
        Short source name, used in ``source`` and in ``source_refs`` (e.g. ``gem-gcpt``).
    title : str
        Human-readable dataset name and release.
    sites : geopandas.GeoDataFrame
        Records in the site schema (plus geometry), EPSG:4326.
    rows_read : int
        Rows (or units) read from the input files.
    dropped : collections.Counter
        Rows dropped, by reason.
    licence, attribution : str
        Licence of the source and the attribution text to show.
    files : list of pathlib.Path
        Input files read.
    release : str
        Release or research date of the source as published (may be a month).
    aggregation : str
        How rows were aggregated into sites (blank: one row = one site).
    """

    key: str
    title: str
    sites: gpd.GeoDataFrame
    rows_read: int
    dropped: Counter = field(default_factory=Counter)
    licence: str = ""
    attribution: str = ""
    files: list[Path] = field(default_factory=list)
    release: str = ""
    aggregation: str = ""


def require(path: Path) -> Path:
    """Return ``path`` or raise a clear error when the source file is absent."""
    if not path.exists():
        raise RiskmapInputError(f"{path}: source file not found; check --sources")
    return path


def read_csv(path: Path) -> pd.DataFrame:
    """Read a source CSV as text (blank cells are empty strings)."""
    require(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read CSV: {e}") from None


sha256 = sha256_file  # hex SHA-256 of a source file (riskmap.io.sha256_file)


def to_number(s: pd.Series, missing: Iterable[float] = ()) -> pd.Series:
    """Parse numbers; blanks, unparseable values and the ``missing`` codes become NaN."""
    v = pd.to_numeric(s.astype(str).str.strip().replace({"": None, "--": None}), errors="coerce")
    for m in missing:
        v = v.mask(v == m)
    return v.astype("float64")


def _name_to_iso3() -> dict[str, str]:
    table = {v.lower(): k for k, v in ISO3_NAMES.items()}
    table.update({k.lower(): v for k, v in mappings()["country_names"].items()})
    return table


def country_codes(names: pd.Series) -> pd.Series:
    """Map source country names (or ISO3 codes) to ISO3; unknown -> None."""
    table = _name_to_iso3()
    out = []
    for n in names.astype(str):
        n = n.strip()
        up = n.upper()
        if up in ISO3_NAMES:
            out.append(up)
        elif up in ("KOS", "XKX"):
            out.append("XKX")
        else:
            out.append(table.get(n.lower()))
    return pd.Series(out, index=names.index, dtype=object)


def map_values(values: pd.Series, table: dict[str, str], what: str, source: str) -> pd.Series:
    """Map raw values through a table; a value absent from the table raises.

    The importers map each source's status and category words through ``mappings.toml``
    (:func:`mappings`): a new word in a source release stops the build instead of being guessed.

    Parameters
    ----------
    values : pandas.Series
        Raw values (stripped before the look-up).
    table : dict of str to str
        Raw value -> riskmap value (``"drop:<reason>"`` drops the row).
    what : str
        The field, for the error message.
    source : str
        The source file, for the error message.

    Returns
    -------
    pandas.Series
        The mapped values.

    Raises
    ------
    riskmap.RiskmapInputError
        A value is not in the table (all such values are listed).

    Examples
    --------
    >>> map_values(pd.Series([" operating", "retired"]), {"operating": "operating", "retired": "closed"},
    ...            "status", "x.csv").tolist()
    ['operating', 'closed']
    """
    raw = values.astype(str).str.strip()
    missing = sorted(set(raw) - set(table))
    if missing:
        raise RiskmapInputError(
            f"{source}: {what} value(s) {missing} not in riskmap/databuild/sites/mappings.toml; add them")
    return raw.map(table)


def split_drop(mapped: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split mapped values into (keep mask, drop reason or None)."""
    is_drop = mapped.astype(str).str.startswith("drop:")
    reason = mapped.where(is_drop).str.slice(5)
    return ~is_drop, reason


def make_sites(data: dict[str, Any], geometry: Any, index: pd.Index | None = None) -> gpd.GeoDataFrame:
    """Assemble a schema-ordered GeoDataFrame from column values.

    Every column of the site schema is present, in its order: numbers as floats (NaN when
    absent), text as objects (None when absent or blank).

    Parameters
    ----------
    data : dict
        Column name -> values (a sequence of the geometry's length, or one scalar for all rows).
    geometry : sequence of shapely geometries
        The sites' geometries in EPSG:4326.
    index : pandas.Index, optional
        Unused: the result has a 0..n-1 index.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites (EPSG:4326).

    Examples
    --------
    >>> import shapely
    >>> s = make_sites({"site_id": ["a"], "name": [" "], "capacity_mw": [12]}, [shapely.Point(19.0, 43.0)])
    >>> s.loc[0, "site_id"], s.loc[0, "name"], float(s.loc[0, "capacity_mw"]), s.crs.to_epsg()
    ('a', None, 12.0, 4326)
    """
    n = len(geometry)
    frame = pd.DataFrame(index=range(n))
    for c in COLUMNS:
        v = data.get(c.name)
        if v is None:
            frame[c.name] = np.nan if c.kind == "number" else None
        else:
            vals = list(v) if not np.isscalar(v) else [v] * n
            frame[c.name] = pd.Series(vals, dtype="float64" if c.kind == "number" else object).to_numpy()
    for c in frame.columns:
        if c not in NUMERIC_COLUMNS:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
            frame[c] = frame[c].map(lambda x: None if isinstance(x, str) and not x.strip() else x)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(geometry), crs="EPSG:4326"), crs="EPSG:4326")


def points(lon: pd.Series, lat: pd.Series) -> gpd.GeoSeries:
    """Points from lon/lat strings or numbers."""
    return gpd.GeoSeries.from_xy(to_number(lon), to_number(lat), crs="EPSG:4326")


def valid_xy(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """True where lon/lat parse as finite numbers."""
    x, y = to_number(lon), to_number(lat)
    return x.notna() & y.notna() & x.between(-180, 180) & y.between(-90, 90)


def join_notes(*parts: Iterable[Any]) -> list[str | None]:
    """Row-wise join of note fragments with '; ' (blank fragments skipped)."""
    out = []
    for row in zip(*parts):
        frags = [str(p).strip() for p in row if p is not None and not (isinstance(p, float) and np.isnan(p))
                 and str(p).strip()]
        out.append("; ".join(frags) or None)
    return out


def strip_accents(s: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def refs(key: str, ids: Iterable[Any]) -> list[str]:
    """``source_refs`` cells: a JSON list with the record's own ``key:id``."""
    import json

    return [json.dumps([f"{key}:{i}"], ensure_ascii=False) for i in ids]


#: Order used to give an aggregated plant the status of its "most present" unit.
STATUS_ORDER = ["operating", "under_construction", "closed", "abandoned", "remediated", "planned", "unknown"]


def best_status(statuses: pd.Series) -> str:
    """Plant status from unit statuses: operating > under construction > closed > ... > planned."""
    present = set(statuses.dropna())
    return next((s for s in STATUS_ORDER if s in present), "unknown")
