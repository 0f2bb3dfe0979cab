"""The one registry of basin identifiers and display names (bottom layer).

riskmap ships three reference basins (:data:`REFERENCE_BASINS`); more can be
imported into a data folder with ``riskmap data import-hydrosheds`` (listed in
``<data>/basins/basins.json``). Every command's basin argument, the Python API
(:func:`riskmap.hydrography.load_basin`) and the spill's basin search resolve
names here: case-insensitively, by identifier or display name, and an unknown
name is refused with the list of known ones.

Examples
--------
>>> resolve_basin("Syr Darya")
'syr_darya'
>>> basin_name("drina")
'Drina'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskmap import _paths
from riskmap._errors import RiskmapInputError
from riskmap.i18n import N_, gettext

__all__ = ["REFERENCE_BASINS", "BASIN_IDS", "BASIN_NAMES", "basins_dir", "read_meta", "known_basins",
           "basin_name", "basin_label", "reference_name_label", "resolve_basin"]

#: The reference basins bundled with riskmap: identifier -> display name, in display order.
REFERENCE_BASINS: dict[str, str] = {"drin": N_("Drin"), "drina": N_("Drina"), "syr_darya": N_("Syr Darya")}
#: Identifiers of the reference basins, in display order.
BASIN_IDS: tuple[str, ...] = tuple(REFERENCE_BASINS)
#: Display names of the reference basins (same object as :data:`REFERENCE_BASINS`).
BASIN_NAMES: dict[str, str] = REFERENCE_BASINS


def basins_dir(data_dir: str | Path | None = None) -> Path:
    """The folder holding ``<basin>.gpkg``: ``data_dir/basins`` when it exists, else ``data_dir``.

    ``data_dir`` defaults to riskmap's data folder (``$RISKMAP_DATA_DIR`` or the bundled data).
    """
    d = Path(data_dir) if data_dir is not None else _paths.DATA_DIR
    return d / "basins" if (d / "basins").is_dir() else d


def read_meta(folder: Path) -> dict[str, Any]:
    """``basins.json`` of a basins folder (imported basins and their metadata); ``{}`` when absent."""
    p = Path(folder) / "basins.json"
    if not p.is_file():
        return {}
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RiskmapInputError(f"{p}: cannot read basins.json: {e}") from None
    if not isinstance(meta, dict):
        raise RiskmapInputError(f"{p}: basins.json must hold an object of basin id -> metadata")
    return meta


def known_basins(data_dir: str | Path | None = None) -> dict[str, str]:
    """Basins present in the data folder: identifier -> display name.

    The reference basins first (those whose GeoPackage exists), then the
    imported ones listed in ``basins.json``, sorted by identifier.

    Examples
    --------
    >>> known_basins()
    {'drin': 'Drin', 'drina': 'Drina', 'syr_darya': 'Syr Darya'}
    """
    d = basins_dir(data_dir)
    meta = read_meta(d)
    out = {b: name for b, name in REFERENCE_BASINS.items() if (d / f"{b}.gpkg").is_file()}
    for b in sorted(k for k in meta if k not in REFERENCE_BASINS and (d / f"{k}.gpkg").is_file()):
        m = meta[b] if isinstance(meta[b], dict) else {}
        out[b] = str(m.get("name") or b)
    return out


def basin_name(basin_id: str, data_dir: str | Path | None = None) -> str:
    """Display name of a basin (its identifier when it has none).

    Examples
    --------
    >>> basin_name("syr_darya")
    'Syr Darya'
    """
    if basin_id in REFERENCE_BASINS:
        return REFERENCE_BASINS[basin_id]
    return known_basins(data_dir).get(basin_id, basin_id)


def basin_label(basin_id: str, data_dir: str | Path | None = None) -> str:
    """:func:`basin_name` in the current output language (:mod:`riskmap.i18n`); imported basins as named.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     basin_label("syr_darya")
    'Сырдарья'
    """
    return reference_name_label(basin_name(basin_id, data_dir))


def reference_name_label(name: str) -> str:
    """A reference basin's display name in the current output language; any other name as given.

    The one place the names of :data:`REFERENCE_BASINS` are translated (maps, reports,
    contingency documents); imported basins keep the name they were given.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     reference_name_label("Syr Darya"), reference_name_label("Lake Nowhere")
    ('Сырдарья', 'Lake Nowhere')
    """
    return gettext(name) if name in REFERENCE_BASINS.values() else name


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold().replace(" ", "_").replace("-", "_")


def resolve_basin(name: str, data_dir: str | Path | None = None) -> str:
    """Identifier of the basin called ``name`` (identifier or display name, any case).

    Raises
    ------
    RiskmapInputError
        When no basin of the data folder has that name; the message lists the known basins.

    Examples
    --------
    >>> resolve_basin("DRINA")
    'drina'
    >>> resolve_basin("Foo")
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: unknown basin 'Foo'; known basins: drin (Drin), drina (Drina), syr_darya (Syr Darya)
    """
    known = known_basins(data_dir)
    want = _key(name)
    for b, display in known.items():
        if want in (_key(b), _key(display)):
            return b
    listing = ", ".join(f"{b} ({n})" for b, n in known.items()) or f"none in {basins_dir(data_dir)}"
    raise RiskmapInputError(f"unknown basin {name!r}; known basins: {listing}")
