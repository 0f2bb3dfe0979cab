"""The ``riskmap`` command line: one thin face over the Python API.

Every command calls the same public functions a notebook would; no analysis
lives here. ``riskmap --help`` and ``riskmap COMMAND --help`` document each.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskmap._errors import RiskmapError, RiskmapValidationError
from riskmap._paths import DATA_DIR, default_sources_dir


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"riskmap: error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """A click group that turns riskmap's own errors into clean messages."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except RiskmapValidationError as e:
            click.echo(str(e.report), err=True)
            sys.exit(1)
        except RiskmapError as e:
            _fail(str(e))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskmap")
def main() -> None:
    """riskmap: transboundary technological risk inventories, maps and reports
    for the Drin, Drina and Syr Darya basins."""


@main.group()
def data() -> None:
    """Build the bundled reference data (hydrography, sites) from public sources."""


@main.group()
def sites() -> None:
    """Inspect the site inventory."""


SITES_CSV = DATA_DIR / "sites" / "sites.csv"
SOURCES_OPTION = click.option(
    "--sources", type=click.Path(path_type=Path), default=None,
    help="Folder of public source datasets (default: $RISKMAP_SOURCES or ../shared/data/sources).")


def _sources(path: Path | None) -> Path:
    p = path or default_sources_dir()
    if not p.is_dir():
        _fail(f"source folder {p} not found; pass --sources")
    return p


# ---------------------------------------------------------------- validate


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Refuse the whole file on any error (default: lenient).")
@click.option("--crs", default=None, help="CRS of x/y columns or of a vector file without one, e.g. EPSG:32634.")
@click.option("--layer", default=None, help="Layer (GeoPackage) or sheet (XLSX) to read.")
@click.option("--report", "report_out", type=click.Path(path_type=Path), default=None,
              help="Also write the issues as CSV to this file.")
def validate(file: Path, strict: bool, crs: str | None, layer: str | None, report_out: Path | None) -> None:
    """Validate a site file against the schema and print every problem.

    Each problem names the file, line/row, column, reason and a fix. Exits 1
    when there are errors, 0 otherwise (warnings alone do not fail).
    """
    from riskmap.io import atomic_write_text, read_sites

    try:
        sites_gdf = read_sites(file, strict=False, crs=crs, layer=layer)
        report = sites_gdf.attrs["validation"]
    except RiskmapValidationError as e:
        report = e.report
    click.echo(str(report))
    if report_out is not None:
        atomic_write_text(report_out, report.to_frame().to_csv(index=False, lineterminator="\n"))
    if report.errors or (strict and report.issues and not report.ok):
        sys.exit(1)


# [hydrography commands]

# [sites commands]

# [exposure commands]

# [hazard commands]

# [map commands]

# [report and export commands]

# [spill commands]

# [demo command]


if __name__ == "__main__":  # pragma: no cover
    main()
