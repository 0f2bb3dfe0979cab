"""``riskmap map``, ``report``, ``export`` and ``demo``: the outputs, from prepared sites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from riskmap._cli_basin import BASIN

from riskmap._console import console_text
from riskmap._errors import RiskmapError
from riskmap.i18n import _, current_lang, format_number, ngettext
from riskmap.cli._base import (
    _BASIN_CHOICE,
    SITES_CSV,
    _echo,
    _not_input,
    _output_format,
    _prepare,
    _read_sites,
    _score_options,
    lang_option,
    main,
    score_options,
    site_read_options,
)

# [map commands]


@main.command("map")
@click.argument("basin", type=BASIN)
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output HTML file: one self-contained page that works offline.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Site file in any format riskmap reads (default: the bundled data/sites/sites.csv).")
@click.option("--online-tiles", is_flag=True,
              help="Also offer an OpenStreetMap tile layer (needs the internet; off until switched on).")
@click.option("--no-score", is_flag=True, help="Skip the hazard scoring (markers coloured by exposure class).")
@click.option("--cluster/--no-cluster", default=None,
              help="Cluster site markers (default: when there are more than 200 sites).")
@score_options
@site_read_options
@lang_option
def map_cmd(basin: str, out: Path, sites_file: Path | None, online_tiles: bool, no_score: bool,
            cluster: bool | None, params_file: Path | None, raster_opts: tuple[str, ...], strict: bool,
            layer: str | None, crs: str | None) -> None:
    """Write an interactive risk map of BASIN (drin, drina, syr_darya) to one HTML file.

    Sites are assessed (downstream countries, first border crossing) and scored
    (hazard priority) before mapping. The page has switchable layers, a legend,
    a scale bar, fullscreen and a site search, and needs no network. Method and
    symbols: docs/maps.md.
    """
    from riskmap.hydrography import load_basin
    from riskmap.maps import basin_map, map_info, save_map

    src = sites_file or SITES_CSV
    options = _score_options(params_file, raster_opts)
    _not_input(out, src, params_file, *(options.rasters or {}).values())
    sites_gdf = None
    if src.exists():
        sites_gdf = _map_sites(basin, src, (strict, layer, crs), None if no_score else options)
    elif sites_file is None:
        _echo("riskmap: warning: " + _("{path} not found; drawing the basin without sites").format(path=src),
              err=True)
    m = basin_map(load_basin(basin), sites_gdf, online_tiles=online_tiles, cluster=cluster)
    save_map(m, out)
    _echo_map_summary(basin, map_info(m), out, online_tiles)


def _map_sites(basin: str, src: Path, read: tuple[bool, str | None, str | None], options: Any) -> Any:
    """The sites of BASIN for its map: assessed against all basins, scored unless ``options`` is None.

    ``read`` is ``(strict, layer, crs)``. A scoring failure is a warning: the map then colours the
    sites by exposure class.
    """
    from riskmap.pipeline import basin_step, score_step
    from riskmap.report import assessment_basins

    strict, layer, crs = read
    prepared = _prepare(src, strict, layer, crs, score=False,
                        basins=assessment_basins(basin))  # all basins, then this one's sites
    prepared = basin_step(prepared, basin)  # warns how many sites of the file lie outside BASIN
    if options is not None:
        try:
            prepared = score_step(prepared, options=options)
        except RiskmapError as e:  # keep the map: exposure colours instead of priority
            _echo("riskmap: warning: " + _("hazard scoring skipped: {error}").format(error=e), err=True)
    return prepared.sites


def _echo_map_summary(basin: str, info: dict[str, Any], out: Path, online_tiles: bool) -> None:
    """Print the sites left off the map (no coordinates) and the one-line summary of ``riskmap map``."""
    if info.get("dropped_no_geometry"):
        n = info["dropped_no_geometry"]
        _echo("riskmap: warning: " + ngettext("{n} site without coordinates is not on the map",
                                              "{n} sites without coordinates are not on the map", n).format(n=n),
              err=True)
    size_mb = out.stat().st_size / 1e6
    _echo(ngettext("{basin}: {n} site ({approximate} approximate locations), {reaches} river reaches{clustered} "
                   "-> {out} ({size} MB{tiles})",
                   "{basin}: {n} sites ({approximate} approximate locations), {reaches} river reaches{clustered} "
                   "-> {out} ({size} MB{tiles})",
                   info["sites"] if current_lang() != "en" else 2).format(  # English: "1 sites", as scripts read it
        basin=basin, n=info["sites"], approximate=info.get("approximate", 0), reaches=info["reaches"],
        clustered=_(", clustered") if info["clustered"] else "", out=out, size=format_number(size_mb, 1),
        tiles=_(", online tiles offered") if online_tiles else _(", offline")))


# [report and export commands]

def _report_inputs(basin: str, sites_file: Path | None, strict: bool = False, layer: str | None = None,
                   crs: str | None = None, options: Any = None) -> Any:
    """Report inputs of BASIN: the pipeline's read, assess (all basins) and score steps on the site file."""
    from riskmap.pipeline import ReadOptions
    from riskmap.report import prepare_inputs

    return prepare_inputs(basin, sites=sites_file or SITES_CSV, read=ReadOptions(strict=strict, layer=layer, crs=crs),
                          score_options=options)


@main.command("report")
@click.argument("basin", type=_BASIN_CHOICE)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder for <basin>_report.html (+ .pdf and <basin>_map.html).")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="Also print a PDF with headless Chromium, Chrome or Edge (found on PATH, or $RISKMAP_CHROMIUM).")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Site file to report instead of the bundled inventory.")
@score_options
@site_read_options
@lang_option
def report_cmd(basin: str, out_dir: Path, pdf: bool, sites_file: Path | None, params_file: Path | None,
               raster_opts: tuple[str, ...], strict: bool, layer: str | None, crs: str | None) -> None:
    """Write the self-contained HTML (and PDF) inventory report of BASIN.

    Rows of --sites that fail validation are listed in the report's data-quality section.
    """
    from riskmap.pipeline import write_map_and_report

    options = _score_options(params_file, raster_opts)
    _not_input([out_dir / f"{basin}_{k}" for k in ("report.html", "report.pdf", "report_provenance.json",
                                                    "map.html")],
               sites_file or SITES_CSV, params_file, *(options.rasters or {}).values())
    map_path, path = write_map_and_report(_report_inputs(basin, sites_file, strict, layer, crs, options), out_dir,
                                          pdf=pdf)
    _echo(_("wrote {path}").format(path=map_path))
    _echo(_("wrote {path}").format(path=path))
    if pdf:
        _echo(_("wrote {path}").format(path=path.with_suffix(".pdf")))


#: The formats of ``riskmap export`` (:data:`riskmap.export.EXPORT_FORMATS`).
_EXPORT_CHOICES = ["csv", "gpkg", "xlsx", "geojson", "parquet"]


@main.command("export")
@click.argument("basin", type=_BASIN_CHOICE)
@click.option("--format", "fmt", type=click.Choice(_EXPORT_CHOICES),
              default=None, help="Output format (default: from the file extension).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Site file to export instead of the bundled inventory.")
@click.option("--excel", is_flag=True,
              help="CSV for Excel in any locale: UTF-8 with BOM, ';' separator, decimal comma, human headers.")
@score_options
@site_read_options
@lang_option
def export_cmd(basin: str, fmt: str | None, out: Path, sites_file: Path | None, excel: bool,
               params_file: Path | None, raster_opts: tuple[str, ...], strict: bool,
               layer: str | None, crs: str | None) -> None:
    """Export the assessed and scored sites of BASIN (columns: docs/data_dictionary.md)."""
    from riskmap.export import export

    options = _score_options(params_file, raster_opts)
    _not_input(out, sites_file or SITES_CSV, params_file, *(options.rasters or {}).values())
    out_fmt = _output_format(out, fmt)  # never one format under another's extension (before any work)
    if out_fmt not in _EXPORT_CHOICES:
        raise click.BadParameter(_("{path}: riskmap exports {formats}, not {format}").format(
            path=out, formats=", ".join(_EXPORT_CHOICES), format=out_fmt), param_hint="--out")
    if excel and out_fmt != "csv":
        raise click.BadParameter(_("{path}: --excel applies to CSV output only").format(path=out),
                                 param_hint="--excel")
    inputs = _report_inputs(basin, sites_file, strict, layer, crs, options)
    path = export(inputs.sites, out, fmt, basin=inputs.basin, matrix=inputs.matrix, excel=excel)
    _echo(ngettext("wrote {path} ({n} site)", "wrote {path} ({n} sites)", len(inputs.sites)).format(
        path=path, n=len(inputs.sites)))

# [demo command]


@main.command()
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out"), show_default=True, help="Output folder.")
@click.option("--basin", "basins", multiple=True, type=BASIN, help="Only this basin (repeatable); default all three.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Inventory file (default: the bundled data/sites/sites.csv).")
@click.option("--pdf/--no-pdf", default=None,
              help="Print reports to PDF (needs Chromium, Chrome or Edge). Default: when one is installed.")
@score_options
@site_read_options
@lang_option
def demo(out_dir: Path, basins: tuple[str, ...], sites_file: Path | None, pdf: bool | None,
         params_file: Path | None, raster_opts: tuple[str, ...], strict: bool,
         layer: str | None, crs: str | None) -> None:
    """The main job: maps, reports and inventory CSVs of every basin.

    Validates the bundled inventory, then builds for every basin an offline
    interactive map, a report (HTML, PDF) and an inventory CSV, plus
    OUT/index.html linking them.
    """
    from riskmap.hydrography import list_basins

    path = sites_file or SITES_CSV
    options = _score_options(params_file, raster_opts)
    written = [out_dir / "index.html"]
    for b in basins or list_basins():
        written += [out_dir / f"{b}_{k}" for k in ("map.html", "report.html", "report.pdf", "report_provenance.json",
                                                    "sites.csv")]
    _not_input(written, path, params_file, *(options.rasters or {}).values())
    inv = _read_sites(path, strict or sites_file is None, layer, crs)
    index = _run_all_with_progress(out_dir, inv, list(basins) or None, pdf, options)
    _echo(_("open {path}").format(path=index))


def _run_all_with_progress(out_dir: Path, inv: Any, basins: list[str] | None, pdf: bool | None,
                           options: Any) -> Path:
    """:func:`riskmap.pipeline.run_all` with the inventory summary and a spinner on stderr."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from riskmap.pipeline import run_all

    console = Console(stderr=True)
    report = inv.attrs["validation"]
    # the file name is user text
    console.print("[bold]" + escape(_("inventory")) + "[/bold] " + escape(console_text(report.summary())))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as prog:  # the spinner line goes when done
        task = prog.add_task("starting", total=None)

        def step(msg: str) -> None:
            msg = console_text(msg)  # messages hold user paths: not markup, not terminal codes
            prog.update(task, description=escape(msg))
            prog.console.print(escape(msg))  # plain lines: no timestamp or file:line suffix

        return run_all(out_dir, basins=basins, sites=inv, pdf=pdf, progress=step, score_options=options)
