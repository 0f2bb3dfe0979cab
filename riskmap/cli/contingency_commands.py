"""``riskmap contingency`` and ``riskmap exercise``: joint contingency planning documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from riskmap._cli_basin import BASIN
from riskmap._console import console_text
from riskmap.i18n import _, format_number, ngettext
from riskmap.cli._base import (
    SITES_CSV,
    _echo,
    _not_input,
    _read_sites,
    lang_option,
    main,
    site_read_options,
)

_PARAMS = click.option("--params", "params_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                       default=None, help="Release-scenario parameters overriding riskmap/params/contingency.toml.")
_CONTACTS = click.option("--contacts", "contacts_file",
                         type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                         help="Contact points: CSV with country,role,organisation,contact "
                              "(template: riskmap/params/contacts_template.csv); default: 'to be supplied'.")
_SITES_FILE = click.option("--sites-file", "sites_file",
                           type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                           help="Site inventory (default: the bundled data/sites/sites.csv).")


@main.command("contingency")
@click.argument("basin", type=BASIN)
@click.option("--sites", "sites_spec", default=None,
              help="top:N (best priority rank with a transboundary path; default top:5) or site ids, comma-separated.")
@_PARAMS
@_CONTACTS
@_SITES_FILE
@click.option("--no-pdf", is_flag=True, help="Write the HTML documents only.")
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder.")
@site_read_options
@lang_option
def contingency_cmd(basin: str, sites_spec: str | None, params_file: Path | None, contacts_file: Path | None,
                    sites_file: Path | None, no_pdf: bool, out: Path, strict: bool, layer: str | None,
                    crs: str | None) -> None:
    """Contingency plan annex of BASIN: scenario cards, notification timelines and matrix, SOP checklist.

    Each card runs the spill model from a site with a release scenario from
    the documented defaults (riskmap/params/contingency.toml). Method and
    limits: docs/contingency.md.
    """
    from riskmap.contingency import build_contingency, contingency_outputs

    _not_input([out, *contingency_outputs(basin, out)], sites_file or SITES_CSV, params_file, contacts_file)
    inventory = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None
    plan = build_contingency(basin, out, sites=sites_spec, params=params_file, contacts=contacts_file,
                             inventory=inventory, pdf=not no_pdf)
    _echo_plan(plan)


def _echo_plan(plan: Any) -> None:
    """Print each scenario card with whom to notify first, and the files written."""
    import pandas as pd

    for c in plan.cards:
        msg = ""
        if len(c.notifications):
            first = c.notifications.iloc[0]
            when = (_("before the first checkpoint") if pd.isna(first["warning_h_fast"])
                    else _("{hours} h fast case").format(hours=format_number(first["warning_h_fast"], 1)))
            msg = _("; first to notify: {who} ({when})").format(who=first["notified"], when=when)
        _echo(console_text(_("card: {name} ({site_id}){first}").format(name=c.site["name"],
                                                                        site_id=c.site["site_id"], first=msg)))
    for p in plan.files:
        _echo(_("wrote {path}").format(path=console_text(str(p))))


@main.command("exercise")
@click.argument("basin", type=BASIN)
@click.option("--site", "site_id", required=True, help="Inventory site_id of the release.")
@click.option("--start", default="2027-05-12 06:00", show_default=True,
              help="Wall-clock time of the release (YYYY-MM-DD HH:MM, local time as given).")
@_PARAMS
@_CONTACTS
@_SITES_FILE
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder.")
@site_read_options
@lang_option
def exercise_cmd(basin: str, site_id: str, start: str, params_file: Path | None, contacts_file: Path | None,
                 sites_file: Path | None, out: Path, strict: bool, layer: str | None, crs: str | None) -> None:
    """Tabletop-exercise pack for a release at --site in BASIN: facilitator and participant packs, evaluation sheet.

    Inject times are the spill model's arrival times in wall-clock time from
    --start; the participant pack holds no model result. Same inputs give
    byte-identical files. Method: docs/contingency.md.
    """
    from riskmap.exercise import build_exercise, exercise_outputs, parse_start

    parse_start(start)  # refuse a bad time before any work
    _not_input([out, *exercise_outputs(site_id, out)], sites_file or SITES_CSV, params_file, contacts_file)
    inventory = _read_sites(sites_file, strict, layer, crs) if sites_file is not None else None
    pack = build_exercise(basin, site_id, out, start=start, params=params_file, contacts=contacts_file,
                          inventory=inventory)
    _echo(ngettext("{n} inject from {start}", "{n} injects from {start}", len(pack.injects)).format(
        n=len(pack.injects), start=f"{pack.start:%Y-%m-%d %H:%M}"))
    for p in pack.files:
        _echo(_("wrote {path}").format(path=console_text(str(p))))
