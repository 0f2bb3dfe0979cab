"""File formats riskmap reads and writes: extension -> format, Shapefile field names."""

from __future__ import annotations

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
