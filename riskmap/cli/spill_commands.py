"""``riskmap spill``: a spill scenario from a site down the river network."""

from __future__ import annotations

from pathlib import Path

import click

from riskmap._cli_basin import BASIN

from riskmap._console import console_text
from riskmap.cli._base import (
    SITES_CSV,
    _echo,
    _not_input,
    _read_sites,
    main,
    site_read_options,
)

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
    inventory = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None  # else: bundled
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
