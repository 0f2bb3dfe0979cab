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
from pathlib import Path
from typing import Any, Callable, Sequence

import geopandas as gpd

from riskmap._paths import DATA_DIR
from riskmap.basins import BASIN_NAMES
from riskmap.io import atomic_write_text, read_sites

__all__ = ["run_all", "prepare_sites", "pdf_available"]


def prepare_sites(sites: gpd.GeoDataFrame | str | Path | None = None, *,
                  data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load (if needed), assess and score sites: the analysis every output shares.

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
    from riskmap.exposure import assess
    from riskmap.hazard import score

    if sites is None:
        sites = (data_dir or DATA_DIR) / "sites" / "sites.csv"
    if not isinstance(sites, gpd.GeoDataFrame):
        sites = read_sites(sites, strict=True)
    assessed = assess(sites, data_dir=data_dir)
    return score(assessed)


def pdf_available() -> bool:
    """True when reports can be printed to PDF (Playwright and a Chromium are installed)."""
    import importlib.util
    import os

    exe = os.environ.get("RISKMAP_CHROMIUM", "/usr/bin/chromium")
    return importlib.util.find_spec("playwright") is not None and Path(exe).exists()


def run_all(out_dir: str | Path, *, basins: Sequence[str] | None = None,
            sites: gpd.GeoDataFrame | str | Path | None = None, pdf: bool | None = None,
            progress: Callable[[str], Any] | None = None) -> Path:
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
    from riskmap.report import build_report

    say = progress or (lambda msg: None)
    if pdf is None:
        pdf = pdf_available()
        if not pdf:
            from riskmap._extras import EXTRAS, available

            say("Chromium not found (apt install chromium): reports are written as HTML only, no PDF"
                if available("playwright") else
                f"no PDF reports (HTML only): pip install 'riskmap[{EXTRAS['playwright'][0]}]' to print them")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    basins = list(basins or list_basins())
    say("assessing exposure and scoring hazards")
    scored = prepare_sites(sites)
    rows = []
    for b in basins:
        sub = scored[scored["basin"] == b]
        say(f"{BASIN_NAMES.get(b, b)}: interactive map and report")
        report_path = build_report(b, out, sites=sub, pdf=pdf)  # also writes <basin>_map.html
        map_path = out / f"{b}_map.html"
        say(f"{BASIN_NAMES.get(b, b)}: CSV")
        csv_path = export(sub, out / f"{b}_sites.csv", basin=b)
        pdf_path = report_path.with_suffix(".pdf")
        rows.append((b, len(sub), map_path.name, report_path.name,
                     pdf_path.name if pdf_path.exists() else None, csv_path.name))
    index = out / "index.html"
    atomic_write_text(index, _index_html(rows))
    say(f"wrote {index}")
    return index


def _index_html(rows: list[tuple[str, int, str, str, str | None, str]]) -> str:
    from riskmap._about import version_string

    e = html.escape
    items = []
    for b, n, m, r, p, c in rows:
        links = [f'<a href="{e(m)}">interactive map</a>', f'<a href="{e(r)}">report</a>']
        if p:
            links.append(f'<a href="{e(p)}">report (PDF)</a>')
        links.append(f'<a href="{e(c)}">inventory CSV</a>')
        items.append(f"<tr><th>{e(BASIN_NAMES.get(b, b))}</th><td>{n}</td><td>{' · '.join(links)}</td></tr>")
    today = _dt.date.today().isoformat()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>riskmap: transboundary risk outputs</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em 1em;text-align:left}}</style>
</head><body>
<h1>riskmap outputs</h1>
<p>Hazardous sites and tailings facilities, their transboundary exposure and hazard scores, for three
transboundary river basins. Every file here works offline.</p>
<table><thead><tr><th>basin</th><th>sites</th><th>outputs</th></tr></thead><tbody>
{''.join(items)}
</tbody></table>
<p><small>{e(version_string())}, generated {today}. References to Kosovo shall be understood to be in
the context of United Nations Security Council resolution 1244 (1999).</small></p>
</body></html>
"""
