"""``riskmap data ...``: build the bundled reference data (hydrography, sites, Natech layers) from public sources."""

from __future__ import annotations

from pathlib import Path

import click

from riskmap.cli._base import (
    DATA_DIR_OPTION,
    SOURCES_OPTION,
    _build_out,
    _fail,
    _not_input,
    _say_where,
    _sources,
    data,
)

# [hydrography commands]


def _not_a_reference_basin(name: str, out: Path) -> None:
    """Refuse to import a basin under a reference basin's name into riskmap's own data folder.

    ``--name drina`` would replace the curated ``data/basins/drina.gpkg`` (lakes, towns, river names, border
    stretches) and its ``basins.json`` entry with a bare import; elsewhere (``--out``, ``--data-dir``) it is the
    user's own folder.
    """
    import os

    from riskmap._paths import DATA_DIR
    from riskmap.basins import REFERENCE_BASINS

    if name in REFERENCE_BASINS and os.path.realpath(out) == os.path.realpath(DATA_DIR / "basins"):
        _fail(f"--name {name}: {name} is a reference basin of riskmap (built by `riskmap data build-reference`); "
              f"this would replace {out / (name + '.gpkg')}. Choose another name (e.g. {name}_hydrosheds), or "
              f"write into another folder with --out or --data-dir")


def _iso_date(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--date``: an ISO 8601 date or date and time (recorded as given), else a usage error naming the option."""
    import datetime as _dt

    if value is None:
        return None
    try:
        _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write an ISO 8601 date, e.g. 2026-01-31 or 2026-01-31T12:00:00Z",
                                 param=param) from None
    return value


@data.command("build-reference")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/basins).")
@click.option("--date", "build_date", default=None, callback=_iso_date,
              help="Build date for PROVENANCE (default: $SOURCE_DATE_EPOCH or now, UTC).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG overviews.")
def build_reference_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None,
                        build_date: str | None, no_plots: bool) -> None:
    """Build the reference hydrography (data/basins) from the public sources.

    First the cartographic reference, then the Syr Darya from the GEBCO DEM joined to its
    cartographic lower course.
    """
    from riskmap.databuild.dem import build_bundled

    src = _sources(sources, "build-reference")
    out = _build_out(out_dir, data_dir, "basins")
    meta = build_bundled(src, out, date=build_date, plots=not no_plots)
    for b, m in meta.items():
        x = m["measured"]
        iou = (f"IoU {x['iou_tfdd']}" if x.get("iou_tfdd") is not None
               else f"{x['share_in_tfdd']:.0%} inside TFDD {x['tfdd_code']}" if "share_in_tfdd" in x
               else "built from a DEM")
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
    from riskmap.databuild.hydrosheds import import_hydrosheds

    try:
        lon, lat = (float(v) for v in outlet.split(","))
    except ValueError:
        _fail(f"--outlet must be LON,LAT (got {outlet!r})")
    out = _build_out(out_dir, data_dir, "basins")
    _not_a_reference_basin(name, out)
    _not_input([out / f"{name}.gpkg", out / "basins.json"], basins_path, rivers_path)
    path = import_hydrosheds(basins_path, rivers_path, outlet=(lon, lat), name=name, out_dir=out)
    click.echo(f"written {path}")
    _say_where(out, "basins")


@data.command("build-from-dem")
@click.argument("dems", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--outlet", required=True, help="Outlet as LON,LAT (a point on the river at the basin outlet).")
@click.option("--name", required=True, help="Basin identifier for the output file (e.g. moraca_dem).")
@click.option("--burn", "burn_path", type=click.Path(path_type=Path), default=None,
              help="River lines to burn into the DEM (default: the bundled reaches crossing the DEM).")
@click.option("--stream-km2", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Upstream area (km2) from which a cell is a river (default 100).")
@click.option("--allow-partial", is_flag=True,
              help="Build a basin cut off by the DEM edge (warns) instead of refusing.")
@click.option("--display-name", default=None, help="Display name (default: NAME).")
@click.option("--join-downstream", "join", default=None, metavar="BASIN",
              help="Continue the basin below the DEM outlet with the course of this cartographic basin "
                   "(e.g. syr_darya: the lower Syr Darya west of the GEBCO grid).")
@click.option("--join-from", "join_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the basin named by --join-downstream (default: the bundled data).")
@DATA_DIR_OPTION
def build_from_dem_cmd(dems: tuple[Path, ...], outlet: str, name: str, burn_path: Path | None,
                       stream_km2: float | None, allow_partial: bool, display_name: str | None,
                       join: str | None, join_dir: Path | None, data_dir: Path | None) -> None:
    """Build a basin's hydrography (data/basins/NAME.gpkg) from DEM tiles (GeoTIFF, SRTM .hgt)."""
    import warnings

    from riskmap.databuild.dem import STREAM_KM2, build_from_dem, parse_outlet

    out = _build_out(None, data_dir, "basins")
    _not_a_reference_basin(name, out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = build_from_dem(list(dems), outlet=parse_outlet(outlet), name=name, burn_path=burn_path,
                              stream_km2=STREAM_KM2 if stream_km2 is None else stream_km2, data_dir=out,
                              allow_partial=allow_partial, display_name=display_name)
        if join:
            from riskmap.databuild.dem import join_downstream

            path = join_downstream(name, join, data_dir=out, carto_dir=join_dir)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    from riskmap.hydrography import load_basin

    b = load_basin(name, out)
    m = b.meta.get("measured", {})
    click.echo(f"{name}: {m.get('area_km2', 0):,.0f} km2, {m.get('n_reaches')} reaches, "
               f"{m.get('network_km', 0):,.0f} river km, riparian {', '.join(b.meta.get('riparian', []))}")
    click.echo(f"written {path}")
    _say_where(out, "basins")


# [sites commands]


@data.command("build-sites")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/sites).")
@click.option("--buffer-km", type=click.FloatRange(min=0), default=None,
              help="One divide buffer (km) around the basin outlines for every site "
                   "(default: by coordinate precision, exact 2 ... town 10 km).")
def build_sites_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None,
                    buffer_km: float | None) -> None:
    """Build data/sites/ from the public sources: import, keep the three basins, de-duplicate.

    Writes sites.csv, sites.gpkg, merges.csv, SOURCES.md and PROVENANCE.json.
    """
    from riskmap.questionnaire import return_files, returns_step
    from riskmap.databuild.sites.build import build_sites

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

# [hazard commands]


@data.command("build-hydrology")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Basins folder holding <basin>.gpkg (default: data/basins).")
def build_hydrology_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None) -> None:
    """Build data/basins/{gauges,reservoirs}.csv (GRDC stations, GRanD volumes) for the spill model."""
    from riskmap.databuild.hydrology import build_hydrology

    src = _sources(sources, "build-hydrology")
    out = _build_out(out_dir, data_dir, "basins")
    res = build_hydrology(src, out)
    click.echo(f"gauges: {res['gauges']} ({res['gauges_used']} used), reservoirs: {res['reservoirs']} "
               f"({res['with_volume']} with a volume) -> {res['out_dir']}")
    _say_where(out, "basins")


@data.command("build-natech")
@SOURCES_OPTION
@DATA_DIR_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/natech).")
def build_natech_cmd(sources: Path | None, data_dir: Path | None, out_dir: Path | None) -> None:
    """Build data/natech/{faults,earthquakes}.gpkg (GEM faults, ISC-GEM) clipped to the AOIs."""
    from riskmap.databuild.natech import build_natech

    src = _sources(sources, "build-natech")
    out = _build_out(out_dir, data_dir, "natech")
    res = build_natech(src, out)
    click.echo(f"faults: {res['faults']}, earthquakes: {res['earthquakes']} -> {res['out_dir']}")
    _say_where(out, "natech")
