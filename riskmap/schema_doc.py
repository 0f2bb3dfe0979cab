"""The Markdown of ``docs/schema.md``, rendered from the site schema (:mod:`riskmap.schema`).

The column table and the vocabularies come from :data:`riskmap.schema.COLUMNS`
and the vocabularies; the prose around them is :data:`_MD_INTRO` and
:data:`_MD_REFERENCE`. ``tests/test_schema.py`` checks that ``docs/schema.md``
is :func:`schema_markdown`; ``riskmap.schema.schema_markdown`` stays importable.
"""

from __future__ import annotations

from riskmap.schema import CATEGORIES, COLUMNS, COORD_PRECISIONS, DAM_CONDITIONS, STATUSES, TMF_CATEGORIES

__all__ = ["schema_markdown"]

#: The Markdown of docs/schema.md before the column table (one item a line).
_MD_INTRO: tuple[str, ...] = (
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
    "replaced by 0. A blank `status` means `unknown`; a blank `country` is derived from the location",
    "(and `assess` says so: `country_check` is `derived from location`, not `ok`).",
    "",
    "| column | kind | required | description |",
    "|---|---|---|---|",
)

#: The Markdown of docs/schema.md after the vocabularies (one item a line).
_MD_REFERENCE: tuple[str, ...] = (
    "",
    "### `dam_condition`",
    "",
    "{dam_conditions}",
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
    "Coordinates in degrees, minutes and seconds (`42°0'36\"N`) are refused; the fix gives the decimal",
    "degrees to write (`42.01`). A `site_id` or `source_id` that Excel saved in scientific notation",
    "(`1,23457E+11`) is kept with a warning: its other digits are lost.",
    "",
    "Also refused: numbers with underscores (`1_9.3`; Python would read 19.3), dates with anything after",
    "the date (`2024-01-01garbage`; `YYYY-MM-DD` or an ISO date-time only), NaN or infinite coordinates",
    "in a geometry or in `geometry_wkt`, `geometry_wkt` outside the lon/lat range (projected metres),",
    "lines and polygons wider than 180 degrees of longitude (crossing the antimeridian: they would",
    "become a band around the globe), two columns whose names differ only in case (`lon` and `LON`),",
    "and XLSX formula cells that have no saved value (they would read as blank; open and save the",
    "workbook in Excel or LibreOffice), and a GeometryCollection mixing points, lines and polygons (one",
    "site is one kind of geometry; a collection of one kind is read as its multi-geometry, with a",
    "warning). A site at (0, 0), far from the three basins or outside every country polygon (at sea) is",
    "kept with a warning.",
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
)


def schema_markdown() -> str:
    """Render the schema as Markdown (the content of ``docs/schema.md``).

    The column table and the vocabularies come from :data:`riskmap.schema.COLUMNS` and the vocabularies;
    the prose around them from :data:`_MD_INTRO` and :data:`_MD_REFERENCE`. Regenerate the doc with
    ``python -c "from riskmap.schema import schema_markdown; print(schema_markdown(), end='')" > docs/schema.md``.

    Returns
    -------
    str
        The Markdown, without a final newline.

    Examples
    --------
    >>> text = schema_markdown()
    >>> text.splitlines()[0]
    '# The riskmap site schema'
    >>> "| `site_id` | text | yes |" in text
    True
    """
    out = list(_MD_INTRO)
    out += [f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.description} |" for c in COLUMNS]
    out += ["", "## Controlled vocabularies", ""]
    for title, vocab in (("category", CATEGORIES), ("status", STATUSES),
                         ("coord_precision", COORD_PRECISIONS)):
        out += [f"### `{title}`", "", "| value | meaning |", "|---|---|"]
        out += [f"| `{k}` | {v} |" for k, v in vocab.items()]
        out.append("")
    out.append("Tailings management facilities (the THI/TRI indices apply) are the categories "
               + ", ".join(f"`{c}`" for c in sorted(TMF_CATEGORIES)) + ".")
    out += _MD_REFERENCE
    out[out.index("{dam_conditions}")] = ", ".join(f"`{d}`" for d in DAM_CONDITIONS)
    return "\n".join(out)
