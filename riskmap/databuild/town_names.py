"""Town names in Russian for the output language (``data/sites/town_names.csv``).

Source: Natural Earth 1:10m populated places v4.0.0 (layer ``populated_places_v4_full``),
column ``NAME_RU`` (public domain). Two kinds of town are matched, never by a guess:

- the Natural Earth towns of the basin files (``towns`` layers): by name and country,
  the v4 and v5 layers being the same places (1:1 on name and ``ADM0_A3``, see SOURCE.md);
- the GeoNames places of ``data/sites/places.csv`` (spill checkpoints, site names): by
  the ``GEONAMEID`` that Natural Earth records for its place.

A town without such a match keeps its original name in every language: a
transliteration would be riskmap's invention, not a source's. Written by
``riskmap data build-sites`` (after ``places.csv``), read by
:func:`riskmap.i18n.town_name`.

Examples
--------
>>> from riskmap._paths import default_sources_dir
>>> t = town_names_table(default_sources_dir())  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyogrio

from riskmap.io import atomic_write_text

__all__ = ["TOWN_NAMES_FILE", "SOURCE", "town_names_table", "write_town_names"]

#: File name in ``data/sites``.
TOWN_NAMES_FILE = "town_names.csv"
#: The source, as cited in the file and its provenance.
SOURCE = "Natural Earth 10m populated places v4.0.0 NAME_RU (public domain)"
_FOLDER = "natural-earth-10m-populated-places"
_FILES = ("ne10m_populated_places_western_balkans.gpkg", "ne10m_populated_places_central_asia.gpkg")
_A3_FIX = {"KOS": "XKX", "SDS": "SSD", "SAH": "ESH", "PSX": "PSE"}


def _ne_v4(sources: Path) -> pd.DataFrame:
    frames = []
    for name in _FILES:
        path = Path(sources) / _FOLDER / name
        df = pyogrio.read_dataframe(path, layer="populated_places_v4_full", read_geometry=False,
                                    columns=["NAME", "NAME_RU", "ADM0_A3", "GEONAMEID"])
        frames.append(df)
    ne = pd.concat(frames, ignore_index=True)
    ne["country"] = ne["ADM0_A3"].astype(str).replace(_A3_FIX)
    ne["NAME_RU"] = ne["NAME_RU"].astype("string").str.strip()
    ne = ne[ne["NAME_RU"].notna() & (ne["NAME_RU"] != "")]
    return ne.drop_duplicates(["NAME", "country"])


def town_names_table(sources: str | Path, places_csv: str | Path | None = None) -> pd.DataFrame:
    """Russian names of Natural Earth towns and of the GeoNames places matched by GeoNames id.

    Columns: ``name`` (as riskmap shows it), ``country`` (ISO3), ``name_ru``,
    ``match`` (``natural-earth name`` or ``geonameid``), ``geonameid`` (GeoNames
    rows only), ``source``.
    """
    ne = _ne_v4(Path(sources))
    rows = pd.DataFrame({"name": ne["NAME"].astype(str), "country": ne["country"], "name_ru": ne["NAME_RU"],
                         "match": "natural-earth name", "geonameid": ""})
    if places_csv is not None and Path(places_csv).is_file():
        pl = pd.read_csv(places_csv, dtype={"geonameid": str, "name": str, "country": str})
        gid = pd.to_numeric(ne["GEONAMEID"], errors="coerce")
        by_id = ne.assign(gid=gid.astype("Int64").astype("string"))[gid.notna() & (gid > 0)]
        hit = pl.merge(by_id[["gid", "NAME_RU"]], left_on="geonameid", right_on="gid", how="inner")
        rows = pd.concat([rows, pd.DataFrame({"name": hit["name"], "country": hit["country"],
                                              "name_ru": hit["NAME_RU"], "match": "geonameid",
                                              "geonameid": hit["geonameid"]})], ignore_index=True)
    rows["source"] = SOURCE
    rows = rows.drop_duplicates(["name", "country", "name_ru"])
    return rows.sort_values(["country", "name", "match"]).reset_index(drop=True)


def write_town_names(sources: str | Path, out_dir: str | Path) -> Path:
    """Write ``town_names.csv`` into ``out_dir`` (which holds ``places.csv``); returns its path."""
    out = Path(out_dir)
    table = town_names_table(sources, out / "places.csv")
    buf = io.StringIO()
    table.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return atomic_write_text(out / TOWN_NAMES_FILE, buf.getvalue())
