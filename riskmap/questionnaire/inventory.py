"""The inventory side of a merge: its rows that fail validation, and the fixed columns a return shows."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapDataWarning
from riskmap.i18n import _
from riskmap.io import neutralise_formula, neutralise_frame, read_sites, read_table, sites_to_table
from riskmap.io.cells import xlsx_safe_text
from riskmap.questionnaire.fields import SITES_CSV  # noqa: F401 - the doctest's inventory
from riskmap.schema import ValidationReport, validate_sites


@dataclasses.dataclass
class Inventory:
    """An inventory file as read for a merge: the valid sites and, kept aside, the rows that failed validation.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The valid rows (:func:`riskmap.io.read_sites`).
    invalid : pandas.DataFrame
        The rows that failed validation, as read (index = position in the file).
    positions : list of int
        Position in the file of each row of ``sites``.
    report : riskmap.schema.ValidationReport
        The validation report of the file.
    n_unreadable : int
        Rows that could not be read at all (a CSV line with too many fields): reported, not in ``invalid``.
    """

    sites: gpd.GeoDataFrame
    invalid: pd.DataFrame
    positions: list[int]
    report: ValidationReport
    n_unreadable: int = 0


_POS = "__riskmap_position"


def read_inventory(path: str | Path) -> Inventory:
    """Read the inventory a merge goes into, keeping the rows that fail validation aside (never dropped).

    The merge cannot fill a row that fails validation, but :func:`write_merge`
    writes it back unchanged at its place, and :func:`merge_returns` reports
    it (row, site id, reasons).

    Examples
    --------
    >>> inv = read_inventory(SITES_CSV)
    >>> len(inv.invalid)
    0
    """
    from riskmap.io import _bundled_countries  # noqa: PLC0415

    with warnings.catch_warnings():  # every dropped row is reported by the merge instead
        warnings.simplefilter("ignore", RiskmapDataWarning)
        sites = read_sites(path)
    raw, opts = read_table(path)
    raw = raw.reset_index(drop=True)
    tagged = raw.copy()
    tagged[_POS] = range(len(raw))
    valid, _rep = validate_sites(tagged, file=str(path), strict=False, line_offset=opts["line_offset"],
                                 decimal_comma=opts["decimal_comma"], countries=_bundled_countries())
    positions = [int(x) for x in valid[_POS]]
    invalid = raw.drop(index=positions)
    report = sites.attrs["validation"]
    return Inventory(sites, invalid, positions, report, max(0, report.n_rows - len(raw)))

def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())



#: Fixed column of a site sheet -> inventory column it shows.
_FIXED_SOURCE = {"inventory_status": "status", "inventory_source": "source"}


def _shown(v: Any) -> str:
    """A value in a message: quoted and shortened, ``blank`` when missing."""
    if _missing(v):
        return _("blank")
    text = f"{v:.7g}" if isinstance(v, float) else str(v)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _fixed_value(out: gpd.GeoDataFrame, i: int, key: str) -> Any:
    """The inventory's value of fixed column ``key`` at row position ``i`` (as the workbook writes it)."""
    if key in ("lon", "lat"):
        g = out.geometry.iat[i]
        if g is None or g.is_empty:
            return None
        pt = g if g.geom_type == "Point" else g.representative_point()
        return round(float(pt.x if key == "lon" else pt.y), 6)
    col = _FIXED_SOURCE.get(key, key)
    v = out[col].iat[i] if col in out.columns else None
    return v.item() if isinstance(v, np.generic) else v


def _fixed_same(key: str, old: Any, new: Any) -> bool:
    """Whether the returned fixed cell ``new`` still shows the inventory's ``old`` value."""
    from riskmap.questionnaire.returns import _parse_list  # noqa: PLC0415

    if _missing(old) or _missing(new):
        return _missing(old) and _missing(new)
    if key in ("lon", "lat"):
        try:
            x = float(new) if not isinstance(new, str) else float(new.strip().replace(",", "."))
        except ValueError:
            return False
        return abs(x - float(old)) <= 2e-6
    if key in ("coord_precision", "inventory_status"):
        try:
            new = _parse_list(new, "status" if key == "inventory_status" else key)[0]
        except ValueError:
            return False
    if str(old).strip() == str(new).strip():
        return True
    # the workbook shows formula-like text with an apostrophe and control characters as _x001B_ escapes
    return str(xlsx_safe_text(neutralise_formula(str(old)))).strip() == str(new).strip()


def with_invalid_rows(sites: gpd.GeoDataFrame, n_new: int, invalid: pd.DataFrame,
                      positions: list[int] | None) -> pd.DataFrame:
    """The merged ``sites`` as a CSV table with the inventory rows that failed validation back at their place.

    ``n_new`` new sites are at the end of ``sites``; ``positions`` gives the
    place in the inventory file of each other row (None: in order).
    """
    table = sites_to_table(sites)
    n_inv = len(sites) - n_new
    positions = positions if positions is not None else list(range(n_inv))
    order = [float(p) for p in positions] + [math.inf] * n_new
    raw = invalid.copy()
    if isinstance(raw, gpd.GeoDataFrame):  # a vector inventory: the geometry as lon/lat or WKT
        geom = raw.geometry
        is_pt = (geom.geom_type == "Point").to_numpy()
        raw["lon"] = [g.x if p else None for g, p in zip(geom, is_pt)]
        raw["lat"] = [g.y if p else None for g, p in zip(geom, is_pt)]
        raw["geometry_wkt"] = [None if p or g is None else g.wkt for g, p in zip(geom, is_pt)]
        raw = pd.DataFrame(raw.drop(columns=[geom.name]))
    raw = neutralise_frame(raw.astype(object).where(raw.notna(), None))
    table["__order"] = order
    raw["__order"] = [float(i) for i in raw.index]
    full = pd.concat([table, raw], ignore_index=True, sort=False)
    full = full.sort_values("__order", kind="mergesort").drop(columns="__order")
    return full.reset_index(drop=True)
