"""``riskmap assess``, ``matrix`` and ``score``: the pipeline's steps on a site file, written to a file."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import click
from rich.markup import escape as escape_markup

from riskmap._cli_basin import BASIN

from riskmap._console import console_text
from riskmap._errors import RiskmapDataWarning
from riskmap.i18n import _, ngettext, pgettext
from riskmap.cli._base import (
    SITES_CSV,
    _csv_output,
    _output_format,
    _echo,
    _fail,
    _not_input,
    _prepare,
    _score_options,
    lang_option,
    main,
    score_options,
    site_read_options,
)

# [exposure commands]

def _print_matrices(assessed, basin: str | None = None, weight: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from riskmap.exposure import exposure_matrix

    m = exposure_matrix(assessed, basin=basin, weight=weight)
    console = Console()
    if m.empty:
        console.print(escape(_("no sites in any basin") if basin is None
                             else _("no sites in basin {basin}").format(basin=basin)))
        return
    for b in m.index.get_level_values("basin").unique():
        sub = m.xs(b, level="basin")
        ds_cols = [c for c in sub.columns if c not in ("sites", "transboundary") and sub[c].abs().sum() > 0]
        what = _("sum of {column}").format(column=weight) if weight else pgettext("cli table", "number of sites")
        t = Table(title=escape(console_text(_("{basin}: origin country x downstream country ({what})").format(
            basin=b, what=what))))
        t.add_column(escape(pgettext("cli table", "origin")), no_wrap=True)
        for c in ds_cols:
            t.add_column(escape(console_text(c)), justify="right", no_wrap=True)
        for c in (pgettext("cli table", "transboundary"), pgettext("cli table", "sites")):
            t.add_column(escape(c), justify="right", no_wrap=True)
        for origin, row in sub.iterrows():
            t.add_row(escape(console_text(origin)), *[_matrix_cell(row[c], "·") for c in ds_cols],
                      _matrix_cell(row["transboundary"]), _matrix_cell(row["sites"]))
        console.print(t)


def _matrix_cell(x: Any, zero: str | None = None) -> str:
    """A matrix number for the terminal: ``unknown`` (translated) for a sum of unknown weights, never ``nan``."""
    from riskmap.i18n import UNKNOWN

    if math.isnan(float(x)):
        return escape_markup(_(UNKNOWN))
    if zero is not None and not x:
        return zero
    return f"{x:g}"


def _warn_unknown_weights(assessed: Any, column: str, src: Path) -> None:
    """Say how many sites in a basin have no ``--weight`` value: the sums leave them out (never as 0)."""
    in_basin = assessed["basin"].notna() if "basin" in assessed.columns else None
    values = assessed[column] if in_basin is None else assessed.loc[in_basin, column]
    n, total = int(values.isna().sum()), len(values)
    if n:
        warnings.warn(ngettext(
            "{path}: {n} of {total} sites has no {column}: the sums leave it out (unknown, not 0); a sum of only "
            "such sites is unknown",
            "{path}: {n} of {total} sites have no {column}: the sums leave them out (unknown, not 0); a sum of only "
            "such sites is unknown", n).format(path=src, n=n, total=total, column=column), RiskmapDataWarning, stacklevel=2)


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
@lang_option
def assess_cmd(sites_file: Path | None, out: Path, max_snap_km: float, near_border_km: float,
               velocity: float, basins: tuple[str, ...], strict: bool, layer: str | None,
               crs: str | None) -> None:
    """Find each site's basin, downstream countries, border distance and exposure class.

    SITES_FILE defaults to the bundled data/sites/sites.csv. Writes the enriched
    inventory to OUT (format from the extension) and prints, per basin, the
    origin x downstream country matrix. Method: docs/exposure.md.
    """
    from riskmap.io import write_sites
    from riskmap.pipeline import AssessOptions

    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(_("{path} not found; give a SITES_FILE or run `riskmap data build-sites`").format(path=src))
    _not_input(out, src)
    _output_format(out, None)
    opts = AssessOptions(max_snap_km=max_snap_km, near_border_km=near_border_km, velocity_ms=velocity)
    assessed = _prepare(src, strict, layer, crs, basins=list(basins) or None, score=False,
                        assess_options=opts).sites
    write_sites(assessed, out)
    _echo_exposure_counts(assessed, out)
    _print_matrices(assessed)


def _echo_exposure_counts(assessed: Any, out: Path) -> None:
    """Print the number of assessed sites per exposure class."""
    counts = assessed["exposure_class"].value_counts()
    classes = (("very high", pgettext("cli table", "very high")), ("high", pgettext("cli table", "high")),
               ("medium", pgettext("cli table", "medium")), ("low", pgettext("cli table", "low")),
               ("outside", pgettext("cli table", "outside")))
    _echo(ngettext("{n} site assessed ({classes}) -> {out}", "{n} sites assessed ({classes}) -> {out}",
                   len(assessed)).format(n=len(assessed), out=out,
                                         classes=", ".join(f"{w}: {counts.get(k, 0)}" for k, w in classes)))


@main.command("matrix")
@click.argument("sites_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--basin", type=BASIN, default=None,
              help="Show one basin only.")
@click.option("--weight", default=None,
              help="Sum this numeric column (e.g. capacity_mw, or hazard_score of a file written by "
                   "`riskmap score`) instead of counting sites.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the matrix as CSV.")
@site_read_options
@lang_option
def matrix_cmd(sites_file: Path | None, basin: str | None, weight: str | None, out: Path | None,
               strict: bool, layer: str | None, crs: str | None) -> None:
    """Print the origin x downstream country matrix of the sites, per basin.

    SITES_FILE (default data/sites/sites.csv) is assessed first (a file written
    by `riskmap assess` is assessed again; equal columns are not duplicated).
    """
    from riskmap.exposure import exposure_matrix
    from riskmap.io import atomic_write_text, csv_text
    from riskmap.pipeline import basin_step

    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(_("{path} not found; give a SITES_FILE or run `riskmap data build-sites`").format(path=src))
    _not_input(out, src)
    _csv_output(out, "--out")
    prepared = _prepare(src, strict, layer, crs, score=False)  # all basins: a site belongs to one, as in the report
    assessed = (basin_step(prepared, basin) if basin else prepared).sites  # basin_step: how many lie outside it
    if weight is not None:
        assessed, weight = _weight_column(assessed, weight, src)
        _warn_unknown_weights(assessed, weight, src)
    _print_matrices(assessed, basin=basin, weight=weight)
    if out is not None:
        m = exposure_matrix(assessed, basin=basin, weight=weight).reset_index()
        atomic_write_text(out, csv_text(m))
        _echo(_("matrix -> {path}").format(path=out))

def _weight_column(assessed: Any, weight: str, src: Path) -> tuple[Any, str]:
    """The sites and the numeric column ``--weight`` names (any case, a display header, or lon/lat).

    Refuses, naming the column and a value, a column that is missing or holds text.
    """
    import numpy as np
    import pandas as pd

    from riskmap.io import machine_headers

    key = machine_headers([weight]).get(weight, weight).strip()
    lower = {str(c).lower(): c for c in assessed.columns}
    if key.lower() in ("lon", "lat", "longitude", "latitude") and key.lower() not in lower:
        pts = assessed.geometry.representative_point()
        assessed = assessed.assign(**{key: pts.x if key.lower().startswith("lon") else pts.y})
        lower[key.lower()] = key
    col = lower.get(key.lower())
    numeric = ", ".join(str(c) for c in assessed.select_dtypes("number").columns[:10])
    if col is None:
        _fail(_("--weight {column}: no such column in {path}; numeric columns: {columns}").format(
            column=repr(weight), path=src, columns=numeric))
    values = assessed[col]
    nums = pd.to_numeric(values.where(values.map(lambda v: isinstance(v, (int, float, np.number, str))), None),
                         errors="coerce")
    text = values.notna() & nums.isna() & ~values.map(lambda v: isinstance(v, str) and not v.strip())
    if text.any():
        _fail(_("--weight {column}: the column holds text, not numbers ({n} of {total} values, e.g. {example}); "
                "choose a numeric column: {columns}").format(
            column=repr(weight), n=int(text.sum()), total=len(values), example=repr(str(values[text].iloc[0])[:40]),
            columns=numeric))
    return assessed.assign(**{str(col): nums.astype(float)}), str(col)


@main.command("score")
@click.argument("sites_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.csv, .xlsx, .gpkg, .geojson, .parquet).")
@score_options
@site_read_options
@lang_option
def score_cmd(sites_file: Path | None, out: Path, params_file: Path | None, raster_opts: tuple[str, ...],
              strict: bool, layer: str | None, crs: str | None) -> None:
    """Assess exposure, then score hazard (WRI, THI/TRI, Natech) and rank sites per basin.

    SITES_FILE defaults to the bundled data/sites/sites.csv.
    """
    from riskmap.io import write_sites

    src = sites_file or SITES_CSV
    if not src.exists():
        _fail(_("{path} not found; give a SITES_FILE").format(path=src))
    options = _score_options(params_file, raster_opts)
    _not_input(out, src, params_file, *(options.rasters or {}).values())
    _output_format(out, None)
    params = options.params
    scored = _prepare(src, strict, layer, crs, score_options=options).sites
    write_sites(scored, out)
    st = scored["score_status"].value_counts()
    _echo(ngettext("{n} site scored ({statuses}); parameters: {params} -> {out}",
                   "{n} sites scored ({statuses}); parameters: {params} -> {out}", len(scored)).format(
        n=len(scored), statuses=", ".join(f"{_status_word(k)}: {v}" for k, v in st.items()), params=params["label"],
        out=out))


def _status_word(status: Any) -> str:
    """A ``score_status`` value in the output language (an unknown value as it is)."""
    words = {"scored": pgettext("score status", "scored"), "proxy": pgettext("score status", "proxy"),
             "insufficient data": pgettext("score status", "insufficient data")}
    return words.get(str(status), str(status))
