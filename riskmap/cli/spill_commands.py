"""``riskmap spill``: a spill scenario from a site down the river network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from riskmap._cli_basin import BASIN

from riskmap._console import console_text
from riskmap.i18n import _, current_lang, format_int, format_number, ngettext, pgettext
from riskmap.cli._base import (
    SITES_CSV,
    _echo,
    _not_input,
    _read_sites,
    lang_option,
    main,
    site_read_options,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from riskmap.spill import SpillResult

# [spill commands]


def _num(v, nd: int = 1) -> str:  # noqa: ANN001
    """A table number with ``nd`` decimals in the current language; ``-`` when missing."""
    import pandas as pd

    if v is None or pd.isna(v):
        return "-"
    return f"{v:.{nd}f}" if current_lang() == "en" else format_number(v, nd, group=False)


def _gen(v: float) -> str:
    """``f"{v:g}"`` with a decimal comma in Russian (masses, thresholds, buffers)."""
    text = f"{v:g}"
    return text if current_lang() == "en" else text.replace(".", ",")


def _sig(v) -> str:  # noqa: ANN001
    """Three significant digits (``1.2e-05``), a decimal comma in Russian; ``-`` when missing."""
    import pandas as pd

    if v is None or pd.isna(v):
        return "-"
    text = f"{v:.3g}"
    return text if current_lang() == "en" else text.replace(".", ",")


def _flow(v) -> str:  # noqa: ANN001
    """A discharge (m3/s): whole numbers from 10 up, two significant digits below (a creek's 0.35 is not 0)."""
    import pandas as pd

    if v is None or pd.isna(v):
        return "-"
    if abs(v) >= 10:
        return _num(v, 0)
    text = f"{v:.2g}"
    return text if current_lang() == "en" else text.replace(".", ",")


@main.command("spill")
@click.argument("site_id", required=False)
@click.option("--all", "all_basin", type=BASIN, default=None,
              help="Batch: run the scenario for the priority sites of this basin (one summary row each).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="With --all: how many priority sites.")
@click.option("--mass", required=True, help="Released mass, e.g. 10t, 500kg.")
@click.option("--duration", default="0", show_default=True, help="Release duration, e.g. 2h, 30min (0 = instantaneous).")
@click.option("--discharge", default="mean", show_default=True,
              help="mean, low, or a discharge TOML file (format of riskmap/params/discharge.toml).")
@click.option("--model", type=click.Choice(["jobson", "jobson-max", "ade"]), default="jobson", show_default=True,
              help="Jobson (1996) most-probable / maximum-probable velocity, or 1-D advection-dispersion.")
@click.option("--threshold", type=click.FloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="Concentration threshold (mg/L) for the 'hours above threshold' column.")
@click.option("--basin", type=BASIN, default=None,
              help="Basin (default: the site's basin, or the nearest network for lon,lat).")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Inventory holding SITE_ID (default: data/sites/sites.csv).")
@click.option("--max-snap-km", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Farthest distance from the mapped river network at which a point is still accepted.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the result: .html (table, plot, assumptions), .csv or .geojson (timestamped path).")
@site_read_options
@lang_option
def spill_cmd(site_id: str | None, all_basin: str | None, top: int, mass: str, duration: str, discharge: str,
              model: str, threshold: float, basin: str | None, sites_file: Path | None, max_snap_km: float,
              out: Path | None, strict: bool, layer: str | None, crs: str | None) -> None:
    """Spill scenario from SITE_ID (an inventory site_id, lon,lat, or reach:<id>) down to the basin outlet.

    Prints the checkpoint table (borders, lakes/reservoirs, towns, outlet): arrival of the
    leading edge and the peak, peak concentration, hours above the threshold, with the
    fast (maximum-probable velocity) band. Method and limits: docs/spill.md.
    """
    from riskmap import spill as sp

    disch_file = Path(discharge) if discharge not in ("mean", "low") else None
    sidecar = sp.scenario_sidecar(out) if out is not None and out.suffix.lower() == ".csv" else None
    _not_input([out, sidecar], sites_file or SITES_CSV, disch_file)  # the scenario JSON beside a CSV too
    if (site_id is None) == (all_basin is None):
        raise click.UsageError(_("give either SITE_ID or --all BASIN"))
    if all_basin is not None and out is not None and out.suffix.lower() != ".csv":  # before any work
        raise click.UsageError(_("with --all, -o must be a .csv file (the summary table)"))
    if out is not None and out.suffix.lower() not in (".csv", ".geojson", ".json", ".html", ".htm"):
        raise click.BadParameter(_("{path}: the spill result is written as .csv, .geojson or .html").format(
            path=out), param_hint="--out")
    sp.parse_mass(mass)  # refuse a mass without a unit before any work
    inventory = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None  # else: bundled
    options = dict(discharge=discharge, model=model, threshold_mg_l=threshold, max_snap_km=max_snap_km)
    if all_basin is not None:
        _spill_batch(all_basin, top, inventory, mass, duration, out, **options)
        return
    if site_id is None:  # unreachable: checked above; narrows the type
        raise click.UsageError("give either SITE_ID or --all BASIN")
    res = sp.simulate_site(site_id, mass, duration, sites=inventory, basin=basin, **options)
    _print_result(res)
    if out is not None:
        _echo(_("wrote {path}").format(path=sp.write_result(res, out)))
        if out.suffix.lower() == ".csv":
            _echo(_("wrote {path} (the scenario of that table)").format(path=sp.scenario_sidecar(out)))


def _print_result(res: SpillResult) -> None:
    """Print a spill scenario: the checkpoint table, the overland route, population, notes, assumptions."""
    from rich.console import Console
    from rich.markup import escape

    con = Console(width=max(Console().width, 150))
    con.print(result_table(res))
    p = res.params
    if p.get("snap_km"):
        con.print("[bold]" + escape(_("km and hours include")) + "[/bold] " + escape(
            _("{km} km overland/unmapped from the site to the mapped river (straight line at the first reach's "
              "velocity: approximate)").format(km=format_number(p["snap_km"], 1))), highlight=False)
    pop = p.get("downstream_population") or {}
    if pop:
        con.print("[bold]" + escape(_("Downstream population")) + "[/bold] " + escape(
            _("(GeoNames towns within {km} km of the path):").format(km=_gen(p["town_buffer_km"]))) + " "
                  + escape(console_text(", ".join(f"{k} {format_int(v)}" for k, v in pop.items()))),
                  highlight=False)
    for checkpoint, note in res.notes():
        con.print("[bold]" + escape(_("Note")) + f"[/bold] ({escape(console_text(checkpoint))}): "
                  f"{escape(console_text(note))}", highlight=False)
    con.print("[bold]" + escape(_("Uncertainty:")) + f"[/bold] {escape(console_text(res.uncertainty['statement']))}",
              markup=True, highlight=False)
    con.print("[bold]" + escape(_("Assumptions:")) + "[/bold]", markup=True)
    for a in res.assumptions:
        con.print(f"  - {console_text(a)}", markup=False, highlight=False)


def result_table(res: SpillResult) -> Table:
    """The checkpoint table of a spill scenario as a rich Table (every text escaped).

    The table ``riskmap spill`` prints, in the current language: one row per checkpoint
    with its hours and peak (ranges in brackets); a checkpoint in the mixing zone says so
    instead of showing a dash.

    Parameters
    ----------
    res : riskmap.SpillResult
        The scenario (:func:`riskmap.simulate_spill`).

    Returns
    -------
    rich.table.Table
        The table, ready for ``rich.console.Console.print``.

    Examples
    --------
    >>> import riskmap
    >>> t = result_table(riskmap.simulate_spill((19.29, 43.78), 1000, basin="drina"))
    >>> [c.header for c in t.columns][:3], t.row_count > 1
    (['checkpoint', 'kind', 'km'], True)
    """
    import pandas as pd
    from rich.markup import escape
    from rich.table import Table

    p = res.params
    t = Table(title=escape(console_text(
        _("Spill {mass} kg at {site} ({basin}), model {model}, {discharge}").format(
            mass=_gen(p["mass_kg"]), site=p["site"], basin=p["basin"], model=p["model"],
            discharge=p["discharge"]))), title_justify="left")
    for col in (pgettext("cli table", "checkpoint"), pgettext("cli table", "kind"), pgettext("cli table", "km"),
                pgettext("cli table", "lead h (range)"), pgettext("cli table", "peak h"),
                pgettext("cli table", "peak mg/L (range)"),
                _("h>{threshold}").format(threshold=_gen(p["threshold_mg_l"])), pgettext("cli table", "country"),
                pgettext("cli table", "Q m3/s"), pgettext("cli table", "basis"),
                pgettext("cli table", "pop.")):
        t.add_column(escape(col), overflow="fold")
    f = _num
    for r in res.table().itertuples(index=False):
        t.add_row(escape(console_text(r.checkpoint)), escape(console_text(r.kind)),
                  f(r.river_km),
                  f"{f(r.leading_edge_h)} ({f(r.leading_edge_h_low)}-{f(r.leading_edge_h_high)})", f(r.peak_time_h),
                  *_peak_cells(r),
                  escape(console_text(r.country)), _flow(r.discharge_m3s),
                  escape(console_text(r.discharge_basis)) + (
                      "" if pd.isna(r.volume_source) or not r.volume_source
                      else _("; volume {source}").format(source=escape(console_text(r.volume_source)))),
                  "-" if pd.isna(r.population) else format_int(int(r.population)))
    return t


def _peak_cells(r) -> tuple[str, str]:  # noqa: ANN001
    """The peak mg/L (range) and hours-above-threshold cells of a checkpoint row.

    A checkpoint in the mixing zone (peak within about 1 h of travel) has no cross-section peak:
    its cells say so instead of showing ``-`` (the row's note gives the reason and the fully
    mixed value).
    """
    import pandas as pd

    from riskmap.spill_table import in_mixing_zone

    if pd.isna(r.peak_mg_l) and in_mixing_zone(float(r.peak_time_h)):
        return pgettext("cli table", "mixing zone (see note)"), pgettext("cli table", "mixing zone")
    return (f"{_sig(r.peak_mg_l)} ({_sig(r.peak_mg_l_low)}-{_sig(r.peak_mg_l_high)})",
            _num(r.above_threshold_h))


def _spill_batch(basin: str, top: int, inventory, mass: str, duration: str, out: Path | None, **opts) -> None:
    """``riskmap spill --all BASIN``: one scenario per priority site, a summary table (and CSV with -o)."""
    from rich.console import Console

    from riskmap import spill as sp

    sites = sp.priority_sites(basin, top, inventory)
    summary = sp.simulate_batch(sites, mass, duration, **opts)
    con = Console(width=max(Console().width, 110))
    con.print(_batch_table(summary, mass, basin))
    if out is not None:
        if out.suffix.lower() != ".csv":
            raise click.UsageError(_("with --all, -o must be a .csv file (the summary table)"))
        _echo(_("wrote {path}").format(path=sp.write_batch_summary(summary, out)))
    if summary["error"].notna().all():
        raise click.ClickException(_("no priority site could be routed"))


def _batch_table(summary: pd.DataFrame, mass: str, basin: str) -> Table:
    """The summary of ``riskmap spill --all`` as a rich Table (every text escaped)."""
    import pandas as pd
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(console_text(ngettext(
        "Spill {mass} at the {n} priority site of {basin}", "Spill {mass} at the {n} priority sites of {basin}",
        len(summary)).format(mass=mass, n=len(summary), basin=basin))), title_justify="left")
    for col in (pgettext("cli table", "site"), pgettext("cli table", "first border"), pgettext("cli table", "km"),
                pgettext("cli table", "lead h (range)"), pgettext("cli table", "peak mg/L"),
                pgettext("cli table", "downstream pop."),
                pgettext("cli table", "error")):
        t.add_column(escape(col), overflow="fold")
    f = _num
    for r in summary.itertuples(index=False):
        t.add_row(escape(console_text(r.name)), escape(console_text(r.first_border or "-")),
                  f(getattr(r, "first_border_km", None)),
                  f"{f(getattr(r, 'arrival_h', None))} ({f(getattr(r, 'arrival_h_low', None))}-"
                  f"{f(getattr(r, 'arrival_h_high', None))})",
                  _sig(getattr(r, "peak_mg_l", None)),
                  "-" if pd.isna(getattr(r, "downstream_population", None))
                  else format_int(int(r.downstream_population)),
                  escape(console_text(r.error or "")))
    return t
