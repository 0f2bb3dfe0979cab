"""Read and write sites and layers in every supported format, atomically.

Readers return validated GeoDataFrames in EPSG:4326 (see
:func:`riskmap.schema.validate_sites`); writers never leave a half-written
file: they write a temporary file next to the target and rename it into
place. Inputs are only ever opened for reading.

Supported formats (by file extension): CSV (``.csv``, UTF-8 with or without
BOM, comma or semicolon separated), Excel (``.xlsx``), GeoJSON (``.geojson``,
``.json``), GeoPackage (``.gpkg``), GeoParquet (``.parquet``) and Shapefile
(``.shp``).

The implementation is split by job: :mod:`riskmap.io.formats` (extensions,
Shapefile names), :mod:`riskmap.io.atomic` (atomic outputs, temporaries,
outputs never over inputs), :mod:`riskmap.io.cells` (spreadsheet formula
neutralisation, JSON cells), :mod:`riskmap.io.readers` and
:mod:`riskmap.io.writers`. Every name is importable from ``riskmap.io``.
"""

from __future__ import annotations

from riskmap.io.atomic import (
    TMP_PREFIX,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    check_output_not_input,
    output_target,
    remove_stale_temps,
    sha256_file,
)
from riskmap.io.cells import (_unneutralise, csv_text, json_cells, neutralise_array, neutralise_formula,
                              neutralise_frame, xlsx_safe_frame)
from riskmap.io.formats import (DISPLAY_HEADERS, FORMATS, SHAPEFILE_NAMES, _format_of, machine_headers,
                                output_format)
from riskmap.io.readers import (
    EXPORT_SITE_LAYERS,
    _bundled_countries,
    dropped_rows_message,
    list_layers,
    read_export_site_layers,
    read_layer,
    read_sites,
    read_table,
)
from riskmap.io.writers import (
    SHAPEFILE_PARTS,
    sites_to_table,
    table_to_csv_bytes,
    table_to_excel_csv_bytes,
    write_layers,
    write_sites,
)

__all__ = [
    "FORMATS",
    "read_sites",
    "read_table",
    "write_sites",
    "write_layers",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_bytes",
    "sites_to_table",
    "table_to_csv_bytes",
    "neutralise_formula",
    "neutralise_array",
    "neutralise_frame",
    "csv_text",
    "json_cells",
    "sha256_file",
    "remove_stale_temps",
    "TMP_PREFIX",
    "dropped_rows_message",
    "check_output_not_input",
    "output_target",
    "output_format",
    "DISPLAY_HEADERS",
    "machine_headers",
    "list_layers",
]

