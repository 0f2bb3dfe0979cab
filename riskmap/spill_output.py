"""Files of a spill scenario: the checkpoint table (CSV + scenario JSON), the timestamped path, the HTML page.

:func:`write_result` writes one :class:`riskmap.spill_result.SpillResult` by the
file's extension; :func:`write_batch_summary` writes the summary table of
``riskmap spill --all BASIN``. Every text cell of a CSV is quoted and
formula-neutralised, every text of the HTML escaped; files are written
atomically. Used by :mod:`riskmap.spill` and ``riskmap spill``.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.spill_result import SpillResult

__all__ = ["write_result", "scenario_sidecar", "write_batch_summary"]


def scenario_sidecar(path: str | Path) -> Path:
    """The JSON file beside a spill CSV holding its scenario: ``x.csv`` -> ``x.scenario.json``.

    Examples
    --------
    >>> scenario_sidecar("out/spill.csv").as_posix()
    'out/spill.scenario.json'
    """
    p = Path(path)
    return p.with_name(f"{p.stem}.scenario.json")


def write_result(result: SpillResult, path: str | Path) -> Path:
    """Write a spill result: ``.csv`` (checkpoint table), ``.geojson`` (timestamped path) or ``.html``.

    The CSV holds the checkpoint table only: a plain RFC 4180 table (text cells
    quoted and formula-neutralised) that spreadsheets and ``pandas.read_csv``
    open as is. The scenario (parameters including the site name, uncertainty
    statement, assumptions) is free text, so it is written beside it as JSON,
    :func:`scenario_sidecar` (``x.csv`` -> ``x.scenario.json``). The HTML
    escapes every text and embeds the concentration plot, so it works offline.

    Examples
    --------
    >>> write_result(result, "spill.csv")  # doctest: +SKIP
    """
    from riskmap.io import atomic_write_text

    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".csv":
        return _write_csv(result, p)
    if ext in (".geojson", ".json"):
        return atomic_write_text(p, json.dumps(result.to_geojson_timestamped(), ensure_ascii=False))
    if ext in (".html", ".htm"):
        return atomic_write_text(p, _html_page(result, _plot_png_base64(result)))
    raise RiskmapInputError(f"{p}: unknown output type {ext!r}; use .csv, .geojson or .html")


def write_batch_summary(summary: pd.DataFrame, path: str | Path) -> Path:
    """Write the summary table of :func:`riskmap.spill.simulate_batch` as CSV (text cells neutralised).

    Raises
    ------
    riskmap.RiskmapInputError
        ``path`` is not a ``.csv`` file.
    """
    from riskmap.io import atomic_write_text, csv_text

    p = Path(path)
    if p.suffix.lower() != ".csv":
        raise RiskmapInputError(f"{p}: the summary of a spill batch is written as .csv, not {p.suffix!r}")
    return atomic_write_text(p, csv_text(summary, float_format="%.6g", quoting=csv.QUOTE_NONNUMERIC))


def _write_csv(result: SpillResult, p: Path) -> Path:
    """The checkpoint table as CSV and the scenario beside it as JSON (:func:`scenario_sidecar`)."""
    from riskmap._about import version_string
    from riskmap.io import atomic_write_text, csv_text

    # the scenario (parameters, uncertainty, assumptions) is free text holding user text (the
    # site name): it goes to a JSON sidecar, never into CSV lines a spreadsheet would split into
    # cells; the CSV is the checkpoint table only, every text cell quoted and formula-neutralised
    atomic_write_text(scenario_sidecar(p), json.dumps(
        {"riskmap spill": {k: v for k, v in result.params.items()},
         "uncertainty": result.uncertainty.get("statement", ""),
         "assumptions": list(result.assumptions), "table": p.name,
         "generated_by": version_string()},
        ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n")
    return atomic_write_text(p, csv_text(result.table(), float_format="%.6g", quoting=csv.QUOTE_NONNUMERIC))


def _plot_png_base64(result: SpillResult) -> str:
    """The concentration plot of ``result`` as a base64 PNG (for an offline HTML page)."""
    import base64
    import io as _io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    result.plot(ax=ax)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _cell(v: Any) -> str:
    """A table cell as escaped HTML text (floats with 4 significant digits, NaN empty).

    Examples
    --------
    >>> _cell(1234.5678), _cell(float("nan")), _cell("<b>"), _cell(None)
    ('1235', '', '&lt;b&gt;', '')
    """
    if isinstance(v, float):
        return "" if not np.isfinite(v) else f"{v:.4g}"
    return html.escape("" if v is None else str(v))


def _html_page(result: SpillResult, img: str) -> str:
    """The scenario as one offline HTML page: parameters, table, uncertainty, assumptions, plot."""
    from riskmap._about import version_string

    e, fmt = html.escape, _cell
    tab = result.table()
    rows = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in r) + "</tr>"
                   for r in tab.itertuples(index=False))
    heads = "".join(f"<th>{e(c)}</th>" for c in tab.columns)
    prm = result.params
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>riskmap spill scenario</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #bbb;padding:3px 6px;text-align:right}}th{{background:#eee}}td:first-child{{text-align:left}}</style>
</head><body>
<h1>Spill scenario: {e(str(prm.get("site")))}</h1>
<p>Mass {fmt(prm.get("mass_kg"))} kg, release duration {fmt(prm.get("duration_h"))} h, model {e(str(prm.get("model")))},
discharge {e(str(prm.get("discharge")))}, threshold {fmt(prm.get("threshold_mg_l"))} mg/L.
Times in hours after the start of the release; concentrations in mg/L.</p>
<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>
<h2>Uncertainty</h2><p>{e(str(result.uncertainty.get("statement", "")))}</p>
<h2>Assumptions</h2><ul>{"".join(f"<li>{e(a)}</li>" for a in result.assumptions)}</ul>
<img alt="concentration at each checkpoint" src="data:image/png;base64,{img}">
<p>Method: docs/spill.md (Jobson 1996, USGS WRIR 96-4013; Fischer 1975). Not an operational
warning model: use for contingency planning only.</p>
<p><small>Generated by {e(version_string())}.</small></p>
</body></html>"""

