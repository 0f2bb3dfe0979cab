"""The ``riskmap`` command line, shared parts: the top group, error handling, read options, data folders.

Every command calls the same public functions a notebook would; no analysis
lives here. ``riskmap --help`` and ``riskmap COMMAND --help`` document each.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import click

from riskmap._cli_basin import BASIN

from riskmap._console import console_text
from riskmap._errors import (
    RiskmapDataWarning,
    RiskmapError,
    RiskmapInputError,
    RiskmapOutputError,
    RiskmapValidationError,
)
from riskmap._paths import DATA_DIR, data_dir_is_writable_default, default_sources_dir
from riskmap.i18n import LANGUAGES, _, use_lang


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


@contextlib.contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn riskmap's own errors (and OS errors) into one clean message on stderr and an exit code."""
    try:
        yield
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


class _Group(click.Group):
    """A click group that turns riskmap's own errors into clean messages."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        with _clean_errors(), warnings.catch_warnings():
            warnings.simplefilter("always", RiskmapDataWarning)
            warnings.showwarning = _show_data_warning
            return super().invoke(ctx)


#: Environment variable giving the default output language of every command (``en`` or ``ru``).
LANG_ENV = "RISKMAP_LANG"


class _LangChoice(click.Choice):
    """``--lang``'s choice; a bad value from ``$RISKMAP_LANG`` is refused naming the variable, not only the option."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            from click.core import ParameterSource

            if ctx is None or param is None or param.name is None or \
                    ctx.get_parameter_source(param.name) is not ParameterSource.ENVIRONMENT:
                raise
            self.fail(_("{value} comes from the environment variable {env} and is not one of {choices}; set "
                        "{env} to en or ru, or unset it").format(
                value=repr(value), env=LANG_ENV, choices=", ".join(repr(c) for c in self.choices)), param, ctx)


def lang_option(f: Callable) -> Callable:
    """``--lang en|ru``: run the whole command in that language (:func:`riskmap.i18n.use_lang`).

    Every document, table and message the command writes follows the language,
    through the context, without the functions underneath taking an argument.
    Errors are reported inside the context too, so they are in the same language.
    The default is ``$RISKMAP_LANG``, else English.
    """

    @functools.wraps(f)
    def wrapper(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
        with use_lang(lang), _clean_errors():
            return f(*args, **kwargs)

    return click.option(
        "--lang", type=_LangChoice(LANGUAGES, case_sensitive=False), default=None, envvar=LANG_ENV,
        help=f"Language of the documents and messages: en (English) or ru (Russian). "
             f"Default: ${LANG_ENV}, else en.")(wrapper)


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
    """riskmap: transboundary technological risk inventories, maps and reports.

    Covers the Drin, Drina and Syr Darya basins.
    """
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
    """The pipeline's read step with the command's options; dropped rows are reported on stderr."""
    from riskmap.pipeline import ReadOptions, read_step

    return read_step(path, read=ReadOptions(strict=strict, layer=layer, crs=crs)).sites


def _prepare(path: Path, strict: bool, layer: str | None, crs: str | None, **steps: Any) -> Any:
    """:func:`riskmap.pipeline.prepare` with the command's read options (``steps``: its keywords)."""
    from riskmap.pipeline import ReadOptions, prepare

    return prepare(path, read=ReadOptions(strict=strict, layer=layer, crs=crs), **steps)


def _not_input(outputs: Any, *inputs: Any) -> None:
    """Refuse an output path that is one of the inputs (before anything is read or written)."""
    from riskmap.io import check_output_not_input

    check_output_not_input(outputs, [i for i in inputs if i is not None])


#: Extensions of other documents than CSV, refused for a CSV output (besides riskmap's own formats).
_NOT_CSV = (".xls", ".ods", ".html", ".htm", ".pdf", ".png", ".zip")


def _csv_output(path: Path | None, option: str) -> None:
    """Refuse a CSV output named with another format's extension (``--report r.xlsx``), before any work."""
    from riskmap.io import FORMATS

    if path is None:
        return
    ext = path.suffix.lower()
    if FORMATS.get(ext, "csv") != "csv" or ext in _NOT_CSV:
        raise click.BadParameter(_("{path}: this option writes a CSV file, not {ext}; name the file .csv").format(
            path=path, ext=repr(path.suffix)), param_hint=option)


def _output_format(path: Path, fmt: str | None, option: str = "--out") -> str:
    """The format of an output file (:func:`riskmap.io.output_format`), checked before any work."""
    from riskmap._errors import RiskmapInputError
    from riskmap.io import output_format

    try:
        return output_format(path, fmt)
    except RiskmapInputError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


def score_options(f: Callable) -> Callable:
    """``--params`` and ``--raster``: how every command that scores sites scores them."""
    f = click.option("--raster", "raster_opts", multiple=True, metavar="NAME=PATH",
                     help="A GeoTIFF to sample at sites and along the downstream corridor (repeatable); "
                          "NAME 'flood_depth' (metres) also feeds the Natech flood class; "
                          "NAME 'HAZARD:SCENARIO' (e.g. flood:present, flood:2050) adds a climate "
                          "scenario (docs/contingency.md).")(f)
    f = click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     default=None, help="TOML file overriding the default scoring parameters (docs/hazard.md).")(f)
    return f


def _score_options(params_file: Path | None, raster_opts: tuple[str, ...]) -> Any:
    """The :class:`riskmap.pipeline.ScoreOptions` of ``--params``/``--raster`` (checked before any work)."""
    from riskmap.params import load_params
    from riskmap.pipeline import ScoreOptions
    from riskmap.rasters import check_raster_name

    rasters: dict[str, Path] = {}
    for opt in raster_opts:
        name, sep, path = opt.partition("=")
        if not sep or not name.strip() or not path.strip():
            _fail(_("--raster {value}: write NAME=PATH, e.g. --raster flood_depth=depth.tif").format(value=repr(opt)))
        try:
            check_raster_name(name.strip())
        except RiskmapInputError:
            _fail(_("--raster {value}: the name may hold letters, digits and _ only (e.g. flood_depth), "
                    "optionally :SCENARIO").format(value=repr(opt)))
        if not Path(path).is_file():
            _fail(_("--raster {value}: file {path} not found").format(value=repr(opt), path=path))
        rasters[name.strip()] = Path(path)
    params = load_params(params_file)  # a bad file fails here, naming it, before any site is read
    return ScoreOptions(params=params, rasters=rasters or None)


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
        from riskmap.databuild.reference import DAM_SOURCES, SOURCES

        return sorted({*SOURCES.values(), *(d for d, _ in DAM_SOURCES.values())})
    if command == "build-hydrology":
        from riskmap.databuild.hydrology import GAUGES_SRC, GRAND_SRC

        return sorted({GAUGES_SRC.parts[0], GRAND_SRC.parts[0]})
    if command == "build-natech":
        from riskmap.databuild.natech import FAULTS_SRC, QUAKES_SRC

        return sorted({FAULTS_SRC.parts[0], QUAKES_SRC.parts[0]})
    from riskmap.databuild.sites import fineprint, gem, geodar, gppd, literature, usgs

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


_BASIN_CHOICE = BASIN
