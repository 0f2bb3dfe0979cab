"""The ``riskmap`` command line: one thin face over the Python API.

Every command calls the same public functions a notebook would; no analysis
lives here. ``riskmap --help`` and ``riskmap COMMAND --help`` document each.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import click

from riskmap._cli_basin import BASIN
from riskmap._console import console_text
from riskmap._errors import RiskmapDataWarning, RiskmapError, RiskmapOutputError, RiskmapValidationError
from riskmap._paths import DATA_DIR, data_dir_is_writable_default, default_sources_dir


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"riskmap: error: {console_text(message, multiline=True)}", err=True)
    sys.exit(code)


def _echo(message: str, err: bool = False) -> None:
    """``click.echo`` of a message that may quote user text (terminal controls shown escaped)."""
    click.echo(console_text(message, multiline=True), err=err)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit(143)`` so outputs being written clean up their temporary files."""
    import signal

    def _handler(signum, frame):  # noqa: ARG001
        sys.exit(128 + signum)

    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _handler)
    except ValueError:  # not the main thread (e.g. an embedding application): leave it alone
        pass


def _show_data_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Print riskmap's data warnings (dropped rows, several layers ...) as one stderr line each."""
    if issubclass(category, RiskmapDataWarning):
        _echo(f"riskmap: warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


class _Group(click.Group):
    """A click group that turns riskmap's own errors into clean messages."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", RiskmapDataWarning)
                warnings.showwarning = _show_data_warning
                return super().invoke(ctx)
        except RiskmapValidationError as e:
            _echo(str(e.report), err=True)
            sys.exit(1)
        except RiskmapOutputError as e:  # disk full, unwritable: exit 1 like any OSError below
            _fail(str(e), code=1)
        except RiskmapError as e:
            _fail(str(e))
        except OSError as e:  # unwritable/missing output folder, disk full: one line, not a traceback
            where = f"{e.filename}: " if e.filename else ""
            _fail(f"{where}{e.strerror or e}", code=1)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from riskmap._about import version_report

    click.echo(version_report())
    ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the riskmap version and the date, checksum and folder of its data, then exit.")
def main() -> None:
    """riskmap: transboundary technological risk inventories, maps and reports
    for the Drin, Drina and Syr Darya basins."""
    _exit_on_sigterm()


@main.group()
def data() -> None:
    """Build the bundled reference data (hydrography, sites) from public sources."""


@main.group()
def sites() -> None:
    """Inspect the site inventory."""


SITES_CSV = DATA_DIR / "sites" / "sites.csv"


def site_read_options(f: Callable) -> Callable:
    """``--strict``, ``--layer`` and ``--crs``: how every command that reads sites reads them."""
    f = click.option("--crs", default=None,
                     help="CRS of x/y columns or of a vector file without one, e.g. EPSG:32634.")(f)
    f = click.option("--layer", default=None,
                     help="Layer (GeoPackage) or sheet (XLSX) to read, by name or 0-based index "
                          "(default: the first, with a warning naming all when there are several).")(f)
    f = click.option("--strict", is_flag=True,
                     help="Refuse the file (exit 1, nothing written) when any row is invalid; "
                          "default: drop invalid rows and say how many and why.")(f)
    return f


def _read_sites(path: Path, strict: bool = False, layer: str | None = None, crs: str | None = None) -> Any:
    """read_sites with the command's options; dropped rows are reported on stderr (RiskmapDataWarning)."""
    from riskmap.io import read_sites

    return read_sites(path, strict=strict, layer=layer, crs=crs)


def _not_input(outputs: Any, *inputs: Any) -> None:
    """Refuse an output path that is one of the inputs (before anything is read or written)."""
    from riskmap.io import check_output_not_input

    check_output_not_input(outputs, [i for i in inputs if i is not None])


SOURCES_OPTION = click.option(
    "--sources", type=click.Path(path_type=Path), default=None,
    help="Folder of public source datasets (default: $RISKMAP_SOURCES or ../shared/data/sources).")


DATA_DIR_OPTION = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Data folder to write into (<DIR>/basins, <DIR>/sites, <DIR>/natech) instead of riskmap's own "
         "(default: $RISKMAP_DATA_DIR, or data/ in a source checkout; required for an installed package).")


def _source_folders(command: str) -> list[str]:
    """The dataset folders ``riskmap data COMMAND`` reads from the sources folder."""
    if command == "build-reference":
        from riskmap._reference_build import DAM_SOURCES, SOURCES

        return sorted({*SOURCES.values(), *(d for d, _ in DAM_SOURCES.values())})
    if command == "build-natech":
        from riskmap._natech_build import FAULTS_SRC, QUAKES_SRC

        return sorted({FAULTS_SRC.parts[0], QUAKES_SRC.parts[0]})
    from riskmap.sources import fineprint, gem, geodar, gppd, literature, usgs

    return sorted({fineprint.FILE.split("/")[0], gem.DIR, geodar.FILE.split("/")[0], gppd.FILE.split("/")[0],
                   literature.FILE.split("/")[0], usgs.DIR})


def _sources(path: Path | None, command: str) -> Path:
    """The source folder for ``riskmap data COMMAND``, or a clear error naming the expected layout."""
    p = path or default_sources_dir()
    need = _source_folders(command)
    missing = [d for d in need if not (p / d).is_dir()]
    if p.is_dir() and not missing:
        return p
    if path is not None:
        where = f"--sources {p}"
    elif os.environ.get("RISKMAP_SOURCES"):
        where = f"RISKMAP_SOURCES={p}"
    else:
        where = f"the default {p} (../shared/data/sources beside a source checkout)"
    problem = "is not a folder" if not p.is_dir() else f"lacks {', '.join(missing)}"
    layout = "\n".join(f"  SOURCES/{d}/" for d in need)
    _fail(f"riskmap data {command} needs the public source datasets, but {where} {problem}.\n"
          f"Pass --sources SOURCES or set RISKMAP_SOURCES=SOURCES, a folder with one sub-folder per "
          f"dataset (each with its SOURCE.md):\n{layout}")
    raise AssertionError  # unreachable: _fail exits


def _build_out(out_dir: Path | None, data_dir: Path | None, product: str) -> Path:
    """Where ``riskmap data build-*`` writes ``product``: never into an installed package."""
    if out_dir is not None:
        return out_dir
    if data_dir is not None:
        return data_dir / product
    if not data_dir_is_writable_default():
        _fail(f"riskmap is installed as a package: its bundled data ({DATA_DIR}) are read-only and are "
              f"never rebuilt inside the installation. Choose a folder for the rebuilt data with "
              f"--data-dir DIR (or set RISKMAP_DATA_DIR=DIR); riskmap reads them from there when "
              f"RISKMAP_DATA_DIR=DIR is set.")
    return DATA_DIR / product


def _say_where(out: Path, product: str) -> None:
    """Tell the user how to use data written outside riskmap's data folder."""
    root = out.resolve().parent
    if os.path.realpath(root) == os.path.realpath(DATA_DIR) and out.name == product:
        return
    if out.name == product:
        click.echo(f"note: riskmap reads these data only with RISKMAP_DATA_DIR={root} "
                   f"(it now reads {DATA_DIR})", err=True)
    else:
        click.echo(f"note: riskmap reads data from DIR/{product} with RISKMAP_DATA_DIR=DIR; "
                   f"{out} is not such a folder (it now reads {DATA_DIR})", err=True)


# ---------------------------------------------------------------- validate


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Refuse the whole file on any error (default: lenient).")
@click.option("--crs", default=None, help="CRS of x/y columns or of a vector file without one, e.g. EPSG:32634.")
@click.option("--layer", default=None, help="Layer (GeoPackage) or sheet (XLSX) to read.")
@click.option("--report", "report_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the issues as CSV to this file.")
def validate(file: Path, strict: bool, crs: str | None, layer: str | None, report_out: Path | None) -> None:
    """Validate a site file against the schema and print every problem.

    Each problem names the file, line/row, column, reason and a fix. Exits 1
    when there are errors, 0 otherwise (warnings alone do not fail).
    """
    from riskmap.io import atomic_write_text, neutralise_formula, read_sites

    _not_input(report_out, file)
    try:
        with warnings.catch_warnings():  # the full report is printed below
            warnings.simplefilter("ignore", RiskmapDataWarning)
            sites_gdf = read_sites(file, strict=False, crs=crs, layer=layer)
        report = sites_gdf.attrs["validation"]
    except RiskmapValidationError as e:
        report = e.report
    _echo(str(report))
    if report_out is not None:
        issues = report.to_frame().astype(object).map(neutralise_formula)  # file names, values: user text
        atomic_write_text(report_out, issues.to_csv(index=False, lineterminator="\n"))
    if report.errors or (strict and report.issues and not report.ok):
        sys.exit(1)


# [hydrography commands]


@data.command("build-reference")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/basins).")
@click.option("--date", "build_date", default=None,
              help="Build date for PROVENANCE (default: $SOURCE_DATE_EPOCH or now, UTC).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG overviews.")
def build_reference_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None,
                        build_date: str | None, no_plots: bool) -> None:
    """Build the reference hydrography (data/basins) from the public sources."""
    from riskmap._reference_build import build_reference

    src = _sources(sources, "build-reference")
    out = _build_out(out_dir, data_dir, "basins")
    meta = build_reference(src, out, date=build_date, plots=not no_plots)
    for b, m in meta.items():
        x = m["measured"]
        iou = f"IoU {x['iou_tfdd']}" if x.get("iou_tfdd") is not None else f"{x['share_in_tfdd']:.0%} inside TFDD {x['tfdd_code']}"
        click.echo(f"{b}: {x['area_km2']:,.0f} km2 (error {x['area_error_pct']} %), {iou}, "
                   f"{x['n_reaches']} reaches, riparian {', '.join(m['riparian'])}")
    click.echo(f"written to {out}")
    _say_where(out, "basins")


@data.command("import-hydrosheds")
@click.option("--basins", "basins_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="HydroBASINS polygons (e.g. hybas_eu_lev08_v1c.shp).")
@click.option("--rivers", "rivers_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="HydroRIVERS lines (e.g. HydroRIVERS_v10_eu.shp).")
@click.option("--outlet", required=True, help="Outlet as LON,LAT.")
@click.option("--name", required=True, help="Basin identifier for the output file (e.g. drina_hydrosheds).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/basins).")
@DATA_DIR_OPTION
def import_hydrosheds_cmd(basins_path: Path, rivers_path: Path, outlet: str, name: str,
                          out_dir: Path | None, data_dir: Path | None) -> None:
    """Build a basin from user-supplied HydroSHEDS (HydroBASINS + HydroRIVERS)."""
    from riskmap.hydrosheds import import_hydrosheds

    try:
        lon, lat = (float(v) for v in outlet.split(","))
    except ValueError:
        _fail(f"--outlet must be LON,LAT (got {outlet!r})")
    out = _build_out(out_dir, data_dir, "basins")
    _not_input([out / f"{name}.gpkg", out / "basins.json"], basins_path, rivers_path)
    path = import_hydrosheds(basins_path, rivers_path, outlet=(lon, lat), name=name, out_dir=out)
    click.echo(f"written {path}")
    _say_where(out, "basins")

# [sites commands]


@data.command("build-sites")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/sites).")
@click.option("--buffer-km", type=float, default=None,
              help="One divide buffer (km) around the basin outlines for every site "
                   "(default: by coordinate precision, exact 2 ... town 10 km).")
def build_sites_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None,
                    buffer_km: float | None) -> None:
    """Build data/sites/ (sites.csv, sites.gpkg, merges.csv, SOURCES.md, PROVENANCE.json)
    from the public sources: import, keep the three basins, de-duplicate."""
    from riskmap.sources.build import build_sites

    from riskmap.questionnaire import return_files, returns_step

    src = _sources(sources, "build-sites")
    out = _build_out(out_dir, data_dir, "sites")
    returns = out / "returns"
    # basin outlines: from --data-dir when it holds them (a full rebuild there), else riskmap's own
    outlines = data_dir if data_dir is not None and (data_dir / "basins").is_dir() else None
    res = build_sites(src, out, data_dir=outlines, buffer_km=buffer_km, after=returns_step(returns))
    if return_files(returns):
        click.echo(f"included {len(return_files(returns))} questionnaire return(s) from {returns} "
                   "(see SOURCES.md, returns_*.csv)")
    counts = res.sites["basin"].value_counts().sort_index()
    click.echo(f"wrote {out}/sites.csv: {len(res.sites)} sites ("
               + ", ".join(f"{b} {n}" for b, n in counts.items()) + f"); {len(res.merges)} merges; "
               f"basin regions: {res.region_method}")
    if res.region_method != "outlines":
        click.echo("note: basin outlines data/basins/<basin>.gpkg not found; used the documented fallback "
                   "regions. Re-run after `riskmap data build-reference`.", err=True)
    _say_where(out, "sites")


@sites.command("summary")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_read_options
def sites_summary_cmd(file: Path | None, strict: bool, layer: str | None, crs: str | None) -> None:
    """Counts by basin, country, category and status, and the share of records
    with each hazard field filled (default file: data/sites/sites.csv).

    The file is summarised as it is (every row); rows that the other commands
    would drop are counted on stderr (with --strict the file is refused)."""
    from riskmap.io import read_table
    from riskmap.sources.summary import print_summary

    path = file or SITES_CSV
    if not path.exists():
        _fail(f"{path} not found; run `riskmap data build-sites` first or give a FILE")
    try:
        _read_sites(path, strict, layer, crs)  # the dropped-rows message, like every command
    except RiskmapValidationError as e:
        if strict or not e.report.errors[-1].reason.startswith("no usable site"):
            raise
        click.echo(f"riskmap: warning: {e.report.file}: none of the {e.report.n_rows} rows is usable "
                   f"(full list: riskmap validate {e.report.file})", err=True)
    with warnings.catch_warnings():  # said once above
        warnings.simplefilter("ignore", RiskmapDataWarning)
        table, _ = read_table(path, layer=layer, crs=crs)
    table = table.replace({"": None}) if hasattr(table, "replace") else table
    print_summary(table, title=str(path))

# [exposure commands]


# ---------------------------------------------------------------- questionnaire


class _QuestionnaireGroup(_Group):
    """``riskmap questionnaire BASIN ...`` writes; ``riskmap questionnaire merge ...`` merges."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["write", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_QuestionnaireGroup)
def questionnaire() -> None:
    """Questionnaires for competent authorities (docs/questionnaire.md).

    \b
    riskmap questionnaire BASIN --country ISO3 -o FILE.xlsx    write the workbook
    riskmap questionnaire merge FILES... -o OUT_DIR             merge returned workbooks/CSV
    """


@questionnaire.command("write")
@click.argument("basin", type=BASIN)
@click.option("--country", required=True, help="ISO3 code of the country (Kosovo XKX).")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx workbook to write.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Inventory with a basin column (default: data/sites/sites.csv).")
def questionnaire_write_cmd(basin: str, country: str, out: Path, sites_file: Path | None) -> None:
    """Write the questionnaire workbook for BASIN and one country."""
    from riskmap.io import read_sites
    from riskmap.questionnaire import questionnaire_sites, write_questionnaire

    path = sites_file or SITES_CSV
    if out.resolve() == path.resolve():
        _fail(f"{out}: is the inventory read; choose another output file")
    inv = read_sites(path)
    write_questionnaire(basin, country, out, sites=inv)
    n = len(questionnaire_sites(inv, basin, country.strip().upper()))
    click.echo(f"wrote {out}: {n} sites of {country.strip().upper()} in the {basin} basin")


@questionnaire.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: sites.csv, provenance.csv, conflicts.csv, issues.csv, returns.json.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Inventory to merge into (default: data/sites/sites.csv).")
@click.option("--score/--no-score", default=True, show_default=True,
              help="Assess and score the touched sites before and after, and report the change.")
def questionnaire_merge_cmd(files: tuple[Path, ...], out: Path, sites_file: Path | None, score: bool) -> None:
    """Merge returned questionnaires (FILES: .xlsx or .csv) into the inventory, with provenance."""
    from rich.console import Console
    from rich.markup import escape

    from riskmap.io import read_sites
    from riskmap.questionnaire import merge_returns, score_change, write_merge

    path = sites_file or SITES_CSV
    inv = read_sites(path)
    res = merge_returns(files, inv)
    write_merge(res, out, inputs=[*files, path])
    console = Console(stderr=True)
    for issue in res.report.issues:
        console.print(escape(str(issue)), soft_wrap=True)  # cell text is data, not markup
    acts = res.provenance["action"].value_counts()
    click.echo(f"merged {len(files)} return(s) into {out}/sites.csv: {int(acts.get('filled', 0))} values filled, "
               f"{int(acts.get('confirmed', 0))} confirmed, {len(res.conflicts)} conflicts (previous kept, see "
               f"conflicts.csv), {len(res.new_ids)} new sites; {len(res.report.errors)} errors and "
               f"{len(res.report.warnings)} warnings (issues.csv)")
    if score:
        ch = score_change(inv, res)
        click.echo(f"scores: {ch['moved']} of {ch['touched']} touched sites moved from 'insufficient data' to a "
                   f"score ({ch['before_insufficient']} were insufficient before, {ch['after_insufficient']} after)")
    if res.report.errors:
        sys.exit(1)


def _print_matrices(assessed, basin: str | None = None, weight: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from riskmap.exposure import exposure_matrix

    m = exposure_matrix(assessed, basin=basin, weight=weight)
    console = Console()
    if m.empty:
        console.print("no sites in any basin" if basin is None else f"no sites in basin {basin}")
        return
    for b in m.index.get_level_values("basin").unique():
        sub = m.xs(b, level="basin")
        ds_cols = [c for c in sub.columns if c not in ("sites", "transboundary") and sub[c].abs().sum() > 0]
        what = f"sum of {weight}" if weight else "number of sites"
        t = Table(title=escape(console_text(f"{b}: origin country x downstream country ({what})")))
        t.add_column("origin", no_wrap=True)
        for c in ds_cols + ["transboundary", "sites"]:
            t.add_column(escape(console_text(c)), justify="right", no_wrap=True)
        for origin, row in sub.iterrows():
            t.add_row(escape(console_text(origin)), *[(f"{row[c]:g}" if row[c] else "·") for c in ds_cols],
                      f"{row['transboundary']:g}", f"{row['sites']:g}")
        console.print(t)


@main.command("assess")
@click.argument("sites_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.csv, .xlsx, .gpkg, .geojson, .parquet).")
@click.option("--max-snap-km", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="Snap sites to a river reach within this distance; farther sites are allocated "
                   "to the nearest reach of their sub-basin.")
@click.option("--near-border-km", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Distance to a border below which a site is flagged near_border.")
@click.option("--velocity", "velocity", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Mean flow velocity (m/s) for the travel time to the first border.")
@click.option("--basin", "basins", multiple=True, type=BASIN,
              help="Assess against these basins only (repeatable; default all three).")
@site_read_options
def assess_cmd(sites_file: Path | None, out: Path, max_snap_km: float, near_border_km: float,
               velocity: float, basins: tuple[str, ...], strict: bool, layer: str | None,
               crs: str | None) -> None:
    """Find each site's basin, downstream countries, border distance and exposure class.

    SITES_FILE defaults to the bundled data/sites/sites.csv. Writes the enriched
    inventory to OUT (format from the extension) and prints, per basin, the
    origin x downstream country matrix. Method: docs/exposure.md.
    """
    from riskmap.exposure import assess
    from riskmap.io import write_sites

    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(f"{src} not found; give a SITES_FILE or run `riskmap data build-sites`")
    _not_input(out, src)
    sites_gdf = _read_sites(src, strict, layer, crs)
    assessed = assess(sites_gdf, list(basins) or None, max_snap_km=max_snap_km,
                      near_border_km=near_border_km, velocity_ms=velocity)
    write_sites(assessed, out)
    counts = assessed["exposure_class"].value_counts()
    _echo(f"{len(assessed)} sites assessed ("
          + ", ".join(f"{k}: {counts.get(k, 0)}" for k in ("very high", "high", "medium", "low", "outside"))
          + f") -> {out}")
    _print_matrices(assessed)


@main.command("matrix")
@click.argument("sites_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--basin", type=BASIN, default=None,
              help="Show one basin only.")
@click.option("--weight", default=None, help="Sum this column (e.g. hazard_score) instead of counting sites.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the matrix as CSV.")
@site_read_options
def matrix_cmd(sites_file: Path | None, basin: str | None, weight: str | None, out: Path | None,
               strict: bool, layer: str | None, crs: str | None) -> None:
    """Print the origin x downstream country matrix of the sites, per basin.

    SITES_FILE (default data/sites/sites.csv) is assessed first unless it
    already carries the exposure columns (the output of `riskmap assess`).
    """
    from riskmap.exposure import assess, exposure_matrix
    from riskmap.io import atomic_write_text, neutralise_formula

    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(f"{src} not found; give a SITES_FILE or run `riskmap data build-sites`")
    _not_input(out, src)
    sites_gdf = _read_sites(src, strict, layer, crs)
    if "downstream_countries" in sites_gdf.columns and "basin" in sites_gdf.columns:
        assessed = sites_gdf
    else:
        assessed = assess(sites_gdf, [basin] if basin else None)
    if weight is not None and weight not in assessed.columns:
        _fail(f"--weight {weight!r}: no such column in {src}")
    _print_matrices(assessed, basin=basin, weight=weight)
    if out is not None:
        m = exposure_matrix(assessed, basin=basin, weight=weight).reset_index()
        m = m.map(neutralise_formula) if hasattr(m, "map") else m
        atomic_write_text(out, m.to_csv(index=False, lineterminator="\n"))
        click.echo(f"matrix -> {out}")

# [hazard commands]


@data.command("build-natech")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/natech).")
def build_natech_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None) -> None:
    """Build data/natech/{faults,earthquakes}.gpkg (GEM faults, ISC-GEM) clipped to the AOIs."""
    from riskmap._natech_build import build_natech

    src = _sources(sources, "build-natech")
    out = _build_out(out_dir, data_dir, "natech")
    res = build_natech(src, out)
    click.echo(f"faults: {res['faults']}, earthquakes: {res['earthquakes']} -> {res['out_dir']}")
    _say_where(out, "natech")


@main.command("score")
@click.argument("sites_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.csv, .xlsx, .gpkg, .geojson, .parquet).")
@click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="TOML file overriding the default scoring parameters (docs/hazard.md).")
@click.option("--raster", "raster_opts", multiple=True, metavar="NAME=PATH",
              help="A GeoTIFF to sample at sites and along the downstream corridor (repeatable); "
                   "NAME 'flood_depth' (metres) also feeds the Natech flood class.")
@site_read_options
def score_cmd(sites_file: Path | None, out: Path, params_file: Path | None, raster_opts: tuple[str, ...],
              strict: bool, layer: str | None, crs: str | None) -> None:
    """Assess exposure, then score hazard (WRI, THI/TRI, Natech) and rank sites per basin.

    SITES_FILE defaults to the bundled data/sites/sites.csv.
    """
    from riskmap.hazard import load_params, score
    from riskmap.io import write_sites

    rasters = {}
    for opt in raster_opts:
        name, sep, path = opt.partition("=")
        if not sep or not name.strip() or not path.strip():
            _fail(f"--raster {opt!r}: write NAME=PATH, e.g. --raster flood_depth=depth.tif")
        if not Path(path).exists():
            _fail(f"--raster {opt!r}: file {path} not found")
        rasters[name.strip()] = Path(path)
    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(f"{src} not found; give a SITES_FILE")
    _not_input(out, src, params_file, *rasters.values())
    params = load_params(params_file)
    sites_gdf = _read_sites(src, strict, layer, crs)
    try:
        from riskmap.exposure import assess
    except ImportError:
        _fail("riskmap.exposure is not available: cannot assess exposure")
    assessed = assess(sites_gdf)
    scored = score(assessed, params=params, rasters=rasters or None)
    write_sites(scored, out)
    st = scored["score_status"].value_counts()
    _echo(f"{len(scored)} sites scored ({', '.join(f'{k}: {v}' for k, v in st.items())}); "
          f"parameters: {params['label']} -> {out}")

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
@site_read_options
def map_cmd(basin: str, out: Path, sites_file: Path | None, online_tiles: bool, no_score: bool,
            cluster: bool | None, strict: bool, layer: str | None, crs: str | None) -> None:
    """Write an interactive risk map of BASIN (drin, drina, syr_darya) to one HTML file.

    Sites are assessed (downstream countries, first border crossing) and scored
    (hazard priority) before mapping. The page has switchable layers, a legend,
    a scale bar, fullscreen and a site search, and needs no network. Method and
    symbols: docs/maps.md.
    """
    from riskmap.hydrography import load_basin
    from riskmap.maps import basin_map, save_map

    src = sites_file or SITES_CSV
    _not_input(out, src)
    sites_gdf = None
    if src.exists():
        sites_gdf = _read_sites(src, strict, layer, crs)
        from riskmap.exposure import assess

        sites_gdf = assess(sites_gdf, [basin])
        if not no_score:
            try:
                from riskmap.hazard import score

                sites_gdf = score(sites_gdf)
            except RiskmapError as e:  # keep the map: exposure colours instead of priority
                _echo(f"riskmap: warning: hazard scoring skipped: {e}", err=True)
    elif sites_file is None:
        click.echo(f"riskmap: warning: {src} not found; drawing the basin without sites", err=True)
    m = basin_map(load_basin(basin), sites_gdf, online_tiles=online_tiles, cluster=cluster)
    save_map(m, out)
    info = m._riskmap_info
    if info.get("dropped_no_geometry"):
        click.echo(f"riskmap: warning: {info['dropped_no_geometry']} sites without coordinates are not on the map",
                   err=True)
    size_mb = out.stat().st_size / 1e6
    click.echo(f"{basin}: {info['sites']} sites ({info.get('approximate', 0)} approximate locations), "
               f"{info['reaches']} river reaches{', clustered' if info['clustered'] else ''} "
               f"-> {out} ({size_mb:.1f} MB{', online tiles offered' if online_tiles else ', offline'})")


# [report and export commands]

_BASIN_CHOICE = BASIN


def _report_inputs(basin: str, sites_file: Path | None, strict: bool = False, layer: str | None = None,
                   crs: str | None = None):
    from riskmap.report import prepare_inputs

    sites_gdf = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None
    return prepare_inputs(basin, sites=sites_gdf)


@main.command("report")
@click.argument("basin", type=_BASIN_CHOICE)
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder for <basin>_report.html (+ .pdf and <basin>_map.html).")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="Also print a PDF with headless Chromium (/usr/bin/chromium or $RISKMAP_CHROMIUM).")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Site file to report instead of the bundled inventory.")
@site_read_options
def report_cmd(basin: str, out_dir: Path, pdf: bool, sites_file: Path | None, strict: bool,
               layer: str | None, crs: str | None) -> None:
    """Write the self-contained HTML (and PDF) inventory report of BASIN.

    Rows of --sites that fail validation are listed in the report's data-quality section."""
    from riskmap.report import build_report

    _not_input([out_dir / f"{basin}_{k}" for k in ("report.html", "report.pdf", "map.html")],
               sites_file or SITES_CSV)
    path = build_report(_report_inputs(basin, sites_file, strict, layer, crs), out_dir, pdf=pdf)
    click.echo(f"wrote {path}")
    if pdf:
        click.echo(f"wrote {path.with_suffix('.pdf')}")


@main.command("export")
@click.argument("basin", type=_BASIN_CHOICE)
@click.option("--format", "fmt", type=click.Choice(["csv", "gpkg", "xlsx", "geojson", "parquet"]),
              default=None, help="Output format (default: from the file extension).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Site file to export instead of the bundled inventory.")
@site_read_options
def export_cmd(basin: str, fmt: str | None, out: Path, sites_file: Path | None, strict: bool,
               layer: str | None, crs: str | None) -> None:
    """Export the assessed and scored sites of BASIN (columns: docs/data_dictionary.md)."""
    from riskmap.export import export

    _not_input(out, sites_file or SITES_CSV)
    inputs = _report_inputs(basin, sites_file, strict, layer, crs)
    path = export(inputs.sites, out, fmt, basin=inputs.basin, matrix=inputs.matrix)
    _echo(f"wrote {path} ({len(inputs.sites)} sites)")


# [spill commands]


@main.command("spill")
@click.argument("site_id")
@click.option("--mass", required=True, help="Released mass, e.g. 10t, 500kg.")
@click.option("--duration", default="0", show_default=True, help="Release duration, e.g. 2h, 30min (0 = instantaneous).")
@click.option("--discharge", default="mean", show_default=True,
              help="mean, low, or a discharge TOML file (format of riskmap/params/discharge.toml).")
@click.option("--model", type=click.Choice(["jobson", "jobson-max", "ade"]), default="jobson", show_default=True,
              help="Jobson (1996) most-probable / maximum-probable velocity, or 1-D advection-dispersion.")
@click.option("--threshold", type=float, default=0.01, show_default=True,
              help="Concentration threshold (mg/L) for the 'hours above threshold' column.")
@click.option("--basin", type=BASIN, default=None,
              help="Basin (default: the site's basin, or the nearest network for lon,lat).")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Inventory holding SITE_ID (default: data/sites/sites.csv).")
@click.option("--max-snap-km", type=float, default=10.0, show_default=True,
              help="Farthest distance from the mapped river network at which a point is still accepted.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the result: .html (table, plot, assumptions), .csv or .geojson (timestamped path).")
@site_read_options
def spill_cmd(site_id: str, mass: str, duration: str, discharge: str, model: str, threshold: float,
              basin: str | None, sites_file: Path | None, max_snap_km: float, out: Path | None,
              strict: bool, layer: str | None, crs: str | None) -> None:
    """Spill scenario from SITE_ID (an inventory site_id, lon,lat, or reach:<id>) down to the basin outlet.

    Prints the checkpoint table (borders, lakes/reservoirs, towns, outlet): arrival of the
    leading edge and the peak, peak concentration, hours above the threshold, with the
    fast (maximum-probable velocity) band. Method and limits: docs/spill.md.
    """
    import pandas as pd
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from riskmap import spill as sp

    disch_file = Path(discharge) if discharge not in ("mean", "low") else None
    _not_input(out, sites_file or SITES_CSV, disch_file)
    inventory = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None
    site, basin = sp.locate_release(site_id, inventory, basin=basin, max_snap_km=max_snap_km)
    res = sp.simulate_spill(site, mass, duration, discharge=discharge, model=model, basin=basin,
                            threshold_mg_l=threshold, max_snap_km=max_snap_km)
    con = Console(width=max(Console().width, 110))
    p = res.params
    t = Table(title=escape(console_text(
        f"Spill {p['mass_kg']:g} kg at {p['site']} ({basin}), model {model}, {p['discharge']}")),
              title_justify="left")
    for col in ("checkpoint", "kind", "km", "lead h", "peak h", "peak mg/L",
                f"h>{threshold:g}", "country", "fast lead h", "high mg/L"):
        t.add_column(col, overflow="fold")

    def f(v, nd=1):
        return "-" if v is None or (isinstance(v, float) and not pd.notna(v)) else f"{v:.{nd}f}"

    for r in res.table().itertuples(index=False):
        t.add_row(escape(console_text(r.checkpoint)), escape(console_text(r.kind)), f(r.river_km),
                  f(r.leading_edge_h), f(r.peak_time_h),
                  "-" if pd.isna(r.peak_mg_l) else f"{r.peak_mg_l:.3g}", f(r.above_threshold_h),
                  escape(console_text(r.country)), f(r.leading_edge_h_fast),
                  "-" if pd.isna(r.peak_mg_l_high) else f"{r.peak_mg_l_high:.3g}")
    con.print(t)
    seen: set[str] = set()
    for r in res.table().itertuples(index=False):
        if r.note and r.note not in seen:
            seen.add(r.note)
            con.print(f"[bold]Note[/bold] ({escape(console_text(r.checkpoint))}): {escape(console_text(r.note))}",
                      highlight=False)
    con.print(f"[bold]Uncertainty:[/bold] {escape(console_text(res.uncertainty['statement']))}", markup=True,
              highlight=False)
    con.print("[bold]Assumptions:[/bold]", markup=True)
    for a in res.assumptions:
        con.print(f"  - {console_text(a)}", markup=False, highlight=False)
    if out is not None:
        _echo(f"wrote {sp.write_result(res, out)}")
        if out.suffix.lower() == ".csv":
            _echo(f"wrote {sp.scenario_sidecar(out)} (the scenario of that table)")

# [demo command]


@main.command()
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out"), show_default=True, help="Output folder.")
@click.option("--basin", "basins", multiple=True, type=BASIN, help="Only this basin (repeatable); default all three.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Inventory file (default: the bundled data/sites/sites.csv).")
@click.option("--pdf/--no-pdf", default=None,
              help="Print reports to PDF (needs Chromium). Default: when Chromium is installed.")
@site_read_options
def demo(out_dir: Path, basins: tuple[str, ...], sites_file: Path | None, pdf: bool | None, strict: bool,
         layer: str | None, crs: str | None) -> None:
    """The main job: validate the bundled inventory, then build for every basin an
    offline interactive map, a report (HTML, PDF) and an inventory CSV, plus
    OUT/index.html linking them."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from riskmap.hydrography import list_basins
    from riskmap.pipeline import run_all

    console = Console(stderr=True)
    path = sites_file or SITES_CSV
    written = [out_dir / "index.html"]
    for b in basins or list_basins():
        written += [out_dir / f"{b}_{k}" for k in ("map.html", "report.html", "report.pdf", "sites.csv")]
    _not_input(written, path)
    inv = _read_sites(path, strict or sites_file is None, layer, crs)
    report = inv.attrs["validation"]
    console.print(f"[bold]inventory[/bold] {escape(console_text(report.summary()))}")  # the file name is user text
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=False) as prog:
        task = prog.add_task("starting", total=None)

        def step(msg: str) -> None:
            msg = console_text(msg)  # messages hold user paths: not markup, not terminal codes
            prog.update(task, description=escape(msg))
            prog.console.log(escape(msg))

        index = run_all(out_dir, basins=list(basins) or None, sites=inv, pdf=pdf, progress=step)
    click.echo(f"open {index}")


if __name__ == "__main__":  # pragma: no cover
    main()
