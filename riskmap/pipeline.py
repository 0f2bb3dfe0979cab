"""The main job: map, report and inventory exports for every basin, with an index page.

``riskmap demo -o out/`` (and ``make demo``) call :func:`run_all`; a notebook
can call the same function. It loads the bundled inventory once, assesses
transboundary exposure and scores hazards for all sites, then writes per
basin an offline interactive map, an HTML (and PDF) report and a CSV export,
and finally ``index.html`` linking them.
"""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from collections.abc import Callable, Mapping, Sequence

import geopandas as gpd
import pandas as pd

from riskmap._paths import DATA_DIR
from riskmap.basins import BASIN_NAMES, basin_label  # noqa: F401 - BASIN_NAMES: the one registry, re-exported
from riskmap.i18n import _, current_lang, format_date, format_int
from riskmap.io import atomic_write_text, read_sites

__all__ = ["run_all", "prepare", "prepare_sites", "pdf_available", "Prepared", "ReadOptions",
           "AssessOptions", "ScoreOptions", "read_step", "assess_step", "score_step", "exposure_matrix_of",
           "write_map_and_report", "LeftOut", "basin_step"]


@dataclass(frozen=True)
class ReadOptions:
    """How a site file is read (the CLI's ``--strict``, ``--layer``, ``--crs``)."""

    strict: bool = False
    layer: str | None = None
    crs: str | None = None


@dataclass(frozen=True)
class AssessOptions:
    """Options of :func:`riskmap.exposure.assess` (the ``riskmap assess`` options)."""

    max_snap_km: float = 5.0
    near_border_km: float = 10.0
    velocity_ms: float = 1.0


@dataclass(frozen=True)
class ScoreOptions:
    """Options of :func:`riskmap.hazard.score`: parameters (a TOML path or dict) and rasters."""

    params: Any = None
    rasters: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Prepared:
    """Sites after the pipeline's steps, with what was done to them.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The frame after the last step run.
    validation : riskmap.schema.ValidationReport or None
        The validation report of the file read (``None`` for a frame given
        without one).
    source : pathlib.Path or None
        The file read, if the sites came from a file.
    assessed, scored : bool
        Whether :func:`assess_step` / :func:`score_step` ran.
    """

    sites: gpd.GeoDataFrame
    validation: Any = None
    source: Path | None = None
    assessed: bool = False
    scored: bool = False
    steps: tuple[str, ...] = field(default=())
    left_out: LeftOut | None = None

    def subset(self, mask: Any) -> Prepared:
        """The same preparation for a row subset (e.g. one basin)."""
        return replace(self, sites=self.sites[mask])


@dataclass(frozen=True)
class LeftOut:
    """Sites of the input left out of one basin's outputs because they lie outside it.

    Attributes
    ----------
    basin : str
        The basin chosen.
    n_input, n_kept : int
        Sites of the input (after validation) and those in ``basin``.
    elsewhere : tuple of (basin id, count)
        Left-out sites per other bundled basin.
    no_basin : int
        Left-out sites in no bundled basin.
    """

    basin: str
    n_input: int
    n_kept: int
    elsewhere: tuple[tuple[str, int], ...] = ()
    no_basin: int = 0

    @property
    def n(self) -> int:
        """Number of sites left out."""
        return self.n_input - self.n_kept

    def message(self, file: str | None = None) -> str:
        """The console/report sentence: how many sites were left out, and where they lie."""
        from riskmap.i18n import ngettext

        where = [_("{n} in {basin}").format(n=format_int(n), basin=basin_label(b))
                 for b, n in self.elsewhere]
        if self.no_basin:
            where.append(_("{n} in no bundled basin").format(n=format_int(self.no_basin)))
        src = file or _("the input")
        if self.n_kept == 0:
            return ngettext("no site of {file} lies in the {basin} basin: its {n} site is left out ({where})",
                            "no site of {file} lies in the {basin} basin: all {n} are left out ({where})",
                            self.n).format(file=src, basin=basin_label(self.basin), n=format_int(self.n),
                                           where=", ".join(where))
        return ngettext("{n} of the {total} sites of {file} is left out: outside the {basin} basin ({where})",
                        "{n} of the {total} sites of {file} are left out: outside the {basin} basin ({where})",
                        self.n).format(n=format_int(self.n), total=format_int(self.n_input), file=src,
                                       basin=basin_label(self.basin), where=", ".join(where))


def _left_out(sites: pd.DataFrame, basin: str) -> tuple[Any, LeftOut]:
    """The mask of ``basin``'s sites and the count of the others, per basin they lie in."""
    where = sites["basin"].astype("string") if "basin" in sites.columns else pd.Series(pd.NA, index=sites.index,
                                                                                      dtype="string")
    mask = where.eq(basin).fillna(False).to_numpy(dtype=bool)
    other = where[~mask]
    counts = other.value_counts(dropna=True).sort_index()
    return mask, LeftOut(basin=basin, n_input=len(sites), n_kept=int(mask.sum()),
                         elsewhere=tuple((str(b), int(n)) for b, n in counts.items()),
                         no_basin=int(other.isna().sum()))


def _from_bundled(prepared: Prepared) -> bool:
    """True when the sites are the bundled inventory (its other basins are not "left out")."""
    file = getattr(prepared.validation, "file", None) or prepared.source
    try:
        return file is not None and Path(str(file)).resolve() == bundled_inventory().resolve()
    except OSError:
        return False


def basin_step(prepared: Prepared, basin: str, *, warn: bool = True) -> Prepared:
    """The sites of one basin: the one place a basin's sites are selected, saying how many are left out.

    Sites of a user's file outside ``basin`` are counted per basin they lie in
    (``Prepared.left_out``) and, with ``warn``, stated in a
    :class:`riskmap.RiskmapDataWarning` (the command line prints it); the
    bundled inventory's other basins are not a warning.

    Parameters
    ----------
    prepared : Prepared
        Assessed sites (:func:`prepare`).
    basin : str
        Basin id.
    warn : bool
        Warn when sites of a user's file are left out.

    Returns
    -------
    Prepared
        The subset, with ``left_out``.

    Examples
    --------
    >>> p = basin_step(prepare(score=False), "drina")
    >>> set(p.sites["basin"]), p.left_out.n_kept == len(p.sites)
    ({'drina'}, True)
    """
    mask, left = _left_out(prepared.sites, basin)
    if warn and left.n and not _from_bundled(prepared):
        import warnings

        from riskmap._errors import RiskmapDataWarning

        file = getattr(prepared.validation, "file", None) or prepared.source
        warnings.warn(left.message(Path(str(file)).name if file is not None else None), RiskmapDataWarning,
                      stacklevel=2)
    return replace(prepared, sites=prepared.sites[mask], left_out=left, steps=(*prepared.steps, "basin"))


def bundled_inventory(data_dir: str | Path | None = None) -> Path:
    """Path of the inventory in ``data_dir`` (default the bundled ``data/sites/sites.csv``)."""
    return Path(data_dir or DATA_DIR) / "sites" / "sites.csv"


def read_step(sites: gpd.GeoDataFrame | str | Path | None = None, *, read: ReadOptions | None = None,
              data_dir: str | Path | None = None) -> Prepared:
    """Step 1: read and validate a site file (a frame is taken as already read).

    Parameters
    ----------
    sites : GeoDataFrame, path or None
        A frame (its ``attrs["validation"]`` is kept), a site file, or ``None``
        for the inventory of ``data_dir`` (default the bundled one).
    read : ReadOptions, optional
        ``strict``, ``layer``, ``crs`` for :func:`riskmap.io.read_sites`.
    data_dir : path, optional
        Alternative data folder.

    Returns
    -------
    Prepared
        The validated sites, not assessed.

    Examples
    --------
    >>> read_step().sites.crs.to_epsg()
    4326
    """
    if isinstance(sites, gpd.GeoDataFrame):
        return Prepared(sites=sites, validation=sites.attrs.get("validation"), steps=("given",))
    opts = read or ReadOptions()
    path = Path(sites) if sites is not None else bundled_inventory(data_dir)
    if sites is None and not path.is_file():
        from riskmap._errors import RiskmapInputError

        raise RiskmapInputError(f"{path}: no site inventory; run 'riskmap data build-sites' or pass sites")
    frame = read_sites(path, strict=opts.strict, layer=opts.layer, crs=opts.crs)
    return Prepared(sites=frame, validation=frame.attrs.get("validation"), source=path, steps=("read",))


def assess_step(prepared: Prepared, *, basins: Any = None, options: AssessOptions | None = None,
                data_dir: str | Path | None = None) -> Prepared:
    """Step 2: transboundary exposure (:func:`riskmap.exposure.assess`), always computed.

    Columns of the input named like exposure's computed columns follow the
    rule of :func:`riskmap.schema.set_aside_computed` (kept as ``<name>_input``
    when they differ).
    """
    from riskmap.exposure import assess

    o = options or AssessOptions()
    kw: dict[str, Any] = {"max_snap_km": o.max_snap_km, "near_border_km": o.near_border_km,
                          "velocity_ms": o.velocity_ms}
    if data_dir is not None:
        kw["data_dir"] = data_dir
    out = assess(prepared.sites, basins, **kw)
    return replace(prepared, sites=out, assessed=True, steps=(*prepared.steps, "assess"))


def score_step(prepared: Prepared, *, options: ScoreOptions | None = None,
               data_dir: str | Path | None = None) -> Prepared:
    """Step 3: hazard scores and priority ranks (:func:`riskmap.hazard.score`), always computed."""
    from riskmap.hazard import load_natech_layers, score

    o = options or ScoreOptions()
    kw: dict[str, Any] = {"params": o.params, "rasters": dict(o.rasters) if o.rasters else None}
    if data_dir is not None:
        kw["natech"] = load_natech_layers(prepared.sites, data_dir=data_dir)
    out = score(prepared.sites, **kw)
    return replace(prepared, sites=out, scored=True, steps=(*prepared.steps, "score"))


def prepare(sites: gpd.GeoDataFrame | str | Path | None = None, *, basins: Any = None, assess: bool = True,
            score: bool = True, read: ReadOptions | None = None, assess_options: AssessOptions | None = None,
            score_options: ScoreOptions | None = None, data_dir: str | Path | None = None) -> Prepared:
    """Read/validate, then assess, then score: the explicit steps every output shares.

    Each step runs when asked, whatever columns the input carries (a file
    written by ``riskmap score`` and read back is assessed and scored again;
    equal values are not duplicated, see :func:`riskmap.schema.settle_computed`).

    Parameters
    ----------
    sites : GeoDataFrame, path or None
        The inventory; default the bundled ``data/sites/sites.csv``.
    basins : str or list, optional
        Basins to assess against (default all).
    assess, score : bool
        Run :func:`assess_step` / :func:`score_step` (scoring needs assessing).
    read, assess_options, score_options : optional
        Options of the three steps.
    data_dir : path, optional
        Alternative data folder (with ``basins/``, ``sites/``, ``natech/``).

    Returns
    -------
    Prepared

    Examples
    --------
    >>> p = prepare(basins=["drina"], score=False)
    >>> p.assessed, p.scored
    (True, False)
    """
    if score and not assess:
        from riskmap._errors import RiskmapInputError

        raise RiskmapInputError("scoring needs assessed sites: prepare(..., assess=True)")
    out = read_step(sites, read=read, data_dir=data_dir)
    if assess:
        out = assess_step(out, basins=basins, options=assess_options, data_dir=data_dir)
    if score:
        out = score_step(out, options=score_options, data_dir=data_dir)
    return out


def prepare_sites(sites: gpd.GeoDataFrame | str | Path | None = None, *,
                  data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load (strictly, if a file), assess and score sites: :func:`prepare` returning the frame.

    Parameters
    ----------
    sites : GeoDataFrame, path or None
        The inventory; default the bundled ``data/sites/sites.csv``.
    data_dir : Path, optional
        Alternative data folder (with ``basins/``).

    Returns
    -------
    geopandas.GeoDataFrame
        Sites with the exposure and hazard columns.

    Examples
    --------
    >>> scored = prepare_sites()  # doctest: +SKIP
    >>> scored.groupby("basin").size()  # doctest: +SKIP
    """
    return prepare(sites, read=ReadOptions(strict=True), data_dir=data_dir).sites


def exposure_matrix_of(sites: gpd.GeoDataFrame | Prepared, basin: Any) -> pd.DataFrame | None:
    """The origin x downstream matrix of one basin, or ``None`` when the sites are not assessed.

    A :class:`Prepared` says whether it was assessed; a plain frame (e.g. a
    file written by ``riskmap assess``) needs the two columns the matrix is
    counted from, ``basin`` and ``downstream_countries``.
    """
    from riskmap.exposure import exposure_matrix

    if basin is None:
        return None
    if isinstance(sites, Prepared):
        if not sites.assessed:
            return None
        sites = sites.sites
    elif not {"basin", "downstream_countries"} <= set(sites.columns):
        return None
    return exposure_matrix(sites, str(basin))


def pdf_available() -> bool:
    """True when reports can be printed to PDF (Playwright and a Chromium are installed)."""
    import importlib.util

    from riskmap.report_pdf import find_browser

    return importlib.util.find_spec("playwright") is not None and find_browser() is not None


def run_all(out_dir: str | Path, *, basins: Sequence[str] | None = None,
            sites: gpd.GeoDataFrame | str | Path | None = None, pdf: bool | None = None,
            progress: Callable[[str], Any] | None = None, score_options: ScoreOptions | None = None) -> Path:
    """Build map, report and CSV for each basin into ``out_dir`` plus ``index.html``.

    Parameters
    ----------
    out_dir : path
        Output folder (created).
    basins : sequence of str, optional
        Basin ids; default all (``drin``, ``drina``, ``syr_darya``).
    sites : GeoDataFrame or path, optional
        Inventory; default the bundled one.
    pdf : bool, optional
        Also print each report to PDF (needs Chromium). Default: when
        :func:`pdf_available`, else the PDFs are skipped with a message.
    progress : callable, optional
        Called with a short message before each step (the CLI shows a progress bar).
    score_options : ScoreOptions, optional
        Scoring parameters and rasters (``riskmap demo --params/--raster``).

    Returns
    -------
    pathlib.Path
        The ``index.html`` written.

    Examples
    --------
    >>> run_all("out")  # doctest: +SKIP
    PosixPath('out/index.html')
    """
    from riskmap.export import export
    from riskmap.hydrography import list_basins
    from riskmap.report import report_inputs

    say = progress or (lambda msg: None)
    if pdf is None:
        pdf = pdf_available()
        if not pdf:
            from riskmap._extras import EXTRAS, available

            say(_("Chromium not found (apt install chromium): reports are written as HTML only, no PDF")
                if available("playwright") else
                _("no PDF reports (HTML only): pip install 'riskmap[{extra}]' to print them").format(
                    extra=EXTRAS["playwright"][0]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    basins = list(basins or list_basins())
    say(_("assessing exposure and scoring hazards"))
    prepared = prepare(sites, read=ReadOptions(strict=True), score_options=score_options)
    rows = []
    for k, b in enumerate(basins, 1):
        say(_("[{k}/{n}] {basin}: interactive map and report").format(k=k, n=len(basins), basin=basin_label(b)))
        inputs = report_inputs(b, prepared, score_options=score_options)
        map_path, report_path = write_map_and_report(inputs, out, pdf=pdf)
        say(_("[{k}/{n}] {basin}: CSV").format(k=k, n=len(basins), basin=basin_label(b)))
        csv_path = export(inputs.sites, out / f"{b}_sites.csv", basin=b)
        pdf_path = report_path.with_suffix(".pdf")
        rows.append((b, len(inputs.sites), map_path.name, report_path.name,
                     pdf_path.name if pdf_path.exists() else None, csv_path.name))
    index = out / "index.html"
    atomic_write_text(index, _index_html(rows))
    say(_("wrote {path}").format(path=index))
    return index


def write_map_and_report(inputs: Any, out_dir: str | Path, *, pdf: bool = True,
                         generated_at: _dt.datetime | None = None) -> tuple[Path, Path]:
    """Write ``<basin>_map.html`` and the report linking it: two explicit outputs of one basin.

    Parameters
    ----------
    inputs : riskmap.report.ReportInputs
        Prepared report inputs (with ``basin`` loaded).
    out_dir : path
        Output folder (created).
    pdf : bool
        Also print the report to PDF.
    generated_at : datetime, optional
        Footer date of the report.

    Returns
    -------
    (map_path, report_path)
    """
    from riskmap.maps import basin_map, save_map
    from riskmap.report import build_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    map_path = save_map(basin_map(inputs.basin, inputs.sites), out / f"{inputs.basin_id}_map.html")
    report = build_report(replace(inputs, interactive_map=map_path.name), out, pdf=pdf, generated_at=generated_at)
    return map_path, report


def _index_html(rows: list[tuple[str, int, str, str, str | None, str]]) -> str:
    """The demo's ``index.html``, in the current output language (links, counts, date, Kosovo note)."""
    from riskmap._about import version_text
    from riskmap._iso3 import kosovo_note

    e = html.escape
    names = {"map": _("interactive map"), "report": _("report"), "pdf": _("report (PDF)"), "csv": _("inventory CSV")}
    items = []
    for b, n, m, r, p, c in rows:
        links = [f'<a href="{e(m)}">{e(names["map"])}</a>', f'<a href="{e(r)}">{e(names["report"])}</a>']
        if p:
            links.append(f'<a href="{e(p)}">{e(names["pdf"])}</a>')
        links.append(f'<a href="{e(c)}">{e(names["csv"])}</a>')
        items.append(f"<tr><th>{e(basin_label(b))}</th><td>{e(format_int(n))}</td><td>{' · '.join(links)}</td></tr>")
    version = version_text()
    footer = _("{version}, generated {date}.").format(version=version, date=format_date(_dt.date.today()))
    title = _("riskmap: transboundary risk outputs")
    intro = _("Hazardous sites and tailings facilities, their transboundary exposure and hazard scores, for three "
              "transboundary river basins. Every file here works offline.")
    heads = (_("basin"), _("number of sites"), _("outputs"), _("riskmap outputs"))
    return f"""<!DOCTYPE html>
<html lang="{e(current_lang())}"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em 1em;text-align:left}}</style>
</head><body>
<h1>{e(heads[3])}</h1>
<p>{e(intro)}</p>
<table><thead><tr><th>{e(heads[0])}</th><th>{e(heads[1])}</th><th>{e(heads[2])}</th></tr></thead><tbody>
{''.join(items)}
</tbody></table>
<p><small>{e(footer)} {e(kosovo_note())}</small></p>
</body></html>
"""
