"""Commands on a site file: ``validate``, ``sites summary``, ``questionnaire write/merge``."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from riskmap._cli_basin import BASIN

from riskmap._errors import RiskmapDataWarning, RiskmapInputError, RiskmapValidationError
from riskmap.i18n import _, ngettext
from riskmap.cli._base import (
    SITES_CSV,
    _csv_output,
    _echo,
    _fail,
    _Group,
    _not_input,
    _read_sites,
    lang_option,
    main,
    site_read_options,
    sites,
)

# ---------------------------------------------------------------- validate


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Refuse the whole file on any error (default: lenient).")
@click.option("--crs", default=None, help="CRS of x/y columns or of a vector file without one, e.g. EPSG:32634.")
@click.option("--layer", default=None, help="Layer (GeoPackage) or sheet (XLSX) to read.")
@click.option("--report", "report_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the issues as CSV to this file.")
@lang_option
def validate(file: Path, strict: bool, crs: str | None, layer: str | None, report_out: Path | None) -> None:
    """Validate a site file against the schema and print every problem.

    Each problem names the file, line/row, column, reason and a fix. Exits 1
    when there are errors, 0 otherwise (warnings alone do not fail).
    """
    from riskmap.io import atomic_write_text, csv_text, read_sites

    _not_input(report_out, file)
    _csv_output(report_out, "--report")
    try:
        with warnings.catch_warnings():  # the full report is printed below
            warnings.simplefilter("ignore", RiskmapDataWarning)
            sites_gdf = read_sites(file, strict=False, crs=crs, layer=layer)
        report = sites_gdf.attrs["validation"]
    except RiskmapValidationError as e:
        report = e.report
    _echo(str(report))
    if report_out is not None:
        # file names, values: user text
        atomic_write_text(report_out, csv_text(report.to_frame().astype(object)))
    if report.errors or (strict and report.issues and not report.ok):
        sys.exit(1)

@sites.command("summary")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_read_options
@lang_option
def sites_summary_cmd(file: Path | None, strict: bool, layer: str | None, crs: str | None) -> None:
    """Counts by basin, country, category and status, and the share of records with each hazard field filled.

    Default file: data/sites/sites.csv.

    The file is summarised as it is (every row); rows that the other commands
    would drop are counted on stderr (with --strict the file is refused).
    """
    from riskmap.io import read_table
    from riskmap.inventory import print_summary

    path = file or SITES_CSV
    if not path.exists():
        _fail(_("{path} not found; run `riskmap data build-sites` first or give a FILE").format(path=path))
    try:
        _read_sites(path, strict, layer, crs)  # the dropped-rows message, like every command
    except RiskmapValidationError as e:
        if strict or not e.report.errors[-1].reason.startswith("no usable site"):
            raise
        _echo("riskmap: warning: " + _("{file}: none of the {n} rows is usable (full list: riskmap validate "
                                        "{file})").format(file=e.report.file, n=e.report.n_rows), err=True)
    with warnings.catch_warnings():  # said once above
        warnings.simplefilter("ignore", RiskmapDataWarning)
        table, _report = read_table(path, layer=layer, crs=crs)
    table = table.replace({"": None}) if hasattr(table, "replace") else table
    print_summary(table, title=str(path))

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
@lang_option
def questionnaire_write_cmd(basin: str, country: str, out: Path, sites_file: Path | None) -> None:
    """Write the questionnaire workbook for BASIN and one country."""
    from riskmap.io import read_sites
    from riskmap.questionnaire import questionnaire_sites, write_questionnaire

    path = sites_file or SITES_CSV
    try:  # also a symbolic or hard link to the inventory (os.path.samefile)
        _not_input(out, path)
    except RiskmapInputError:
        _fail(_("{path}: is the inventory read; choose another output file").format(path=out))
    inv = read_sites(path)
    write_questionnaire(basin, country, out, sites=inv)  # in the language of --lang (the context)
    n = len(questionnaire_sites(inv, basin, country.strip().upper()))
    _echo(ngettext("wrote {path}: {n} site of {country} in the {basin} basin",
                   "wrote {path}: {n} sites of {country} in the {basin} basin", n).format(
        path=out, n=n, country=country.strip().upper(), basin=basin))


@questionnaire.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: sites.csv, provenance.csv, conflicts.csv, issues.csv, returns.json.")
@click.option("--sites", "sites_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Inventory to merge into (default: data/sites/sites.csv).")
@click.option("--score/--no-score", default=True, show_default=True,
              help="Assess and score the touched sites before and after, and report the change.")
@lang_option
def questionnaire_merge_cmd(files: tuple[Path, ...], out: Path, sites_file: Path | None, score: bool) -> None:
    """Merge returned questionnaires (FILES: .xlsx or .csv) into the inventory, with provenance."""
    from rich.console import Console
    from rich.markup import escape

    from riskmap.questionnaire import merge_returns, read_inventory, score_change, write_merge

    path = sites_file or SITES_CSV
    inv = read_inventory(path)  # rows failing validation are kept aside, reported and written back
    res = merge_returns(files, inv)
    write_merge(res, out, inputs=[*files, path])
    console = Console(stderr=True)
    for issue in res.report.issues:
        console.print(escape(str(issue)), soft_wrap=True)  # cell text is data, not markup
    acts = res.provenance["action"].value_counts()
    n_dup = sum(1 for f in res.files if f.get("duplicate_of"))
    if n_dup:
        _echo(ngettext("{n} return skipped: same content as a return merged before (issues.csv)",
                       "{n} returns skipped: same content as a return merged before (issues.csv)", n_dup).format(
            n=n_dup))
    if len(res.invalid):
        _echo(ngettext("{n} inventory row fails validation: kept unchanged in sites.csv, nothing merged into it",
                       "{n} inventory rows fail validation: kept unchanged in sites.csv, nothing merged into them",
                       len(res.invalid)).format(n=len(res.invalid)))
    _echo(_("merged {files} return(s) into {out}/sites.csv: {filled} values filled, {confirmed} confirmed, "
            "{conflicts} conflicts (previous kept, see conflicts.csv), {new} new sites; {errors} errors and "
            "{warnings} warnings (issues.csv)").format(
        files=len(files) - n_dup, out=out, filled=int(acts.get("filled", 0)), confirmed=int(acts.get("confirmed", 0)),
        conflicts=len(res.conflicts), new=len(res.new_ids), errors=len(res.report.errors),
        warnings=len(res.report.warnings)))
    if score:
        ch = score_change(inv.sites, res)
        _echo(_("scores: {moved} of {touched} touched sites moved from 'insufficient data' to a score "
                "({before} were insufficient before, {after} after)").format(
            moved=ch["moved"], touched=ch["touched"], before=ch["before_insufficient"],
            after=ch["after_insufficient"]))
    if res.report.errors:
        sys.exit(1)
