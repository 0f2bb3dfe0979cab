"""Questionnaires for competent authorities: write the workbook, read the returns, merge them.

The hazard fields the indices need (substances, tailings volume and area, dam
height and condition) are not in any public dataset for these countries; in
UNECE practice they come from operators and authorities through
questionnaires. This module runs that loop (design: ``docs/questionnaire.md``):

- :func:`write_questionnaire` writes an XLSX workbook for one basin and
  country: an ``Instructions`` sheet, one sheet per site category with the
  country's sites pre-filled (id, name, location, what is known, with its
  source) and the missing fields as validated, unlocked input cells (lists
  for status, WGK class and dam condition, numeric ranges, units in the
  header), a ``New sites`` sheet, and hidden ``lists`` and ``_meta`` sheets.
  Every sheet is protected (no password: it prevents accidents, not
  tampering); the fixed columns, ids included, are locked.
- :func:`read_return` reads a returned workbook (or a CSV with the same
  column keys) cell by cell, understands what it can (moved columns, renamed
  sheets, decimal commas, dates as text, category and condition names in
  Serbian/Montenegrin/Bosnian, Albanian, Macedonian and Russian, merged
  cells) and reports the rest precisely (file, sheet, row, column, reason,
  fix) in a :class:`riskmap.schema.ValidationReport`. Formulas are never
  evaluated: they are reported.
- :func:`merge_returns` merges the values into an inventory with provenance:
  a blank field is filled (``field_sources`` names the questionnaire and the
  respondent's source), an equal value is recorded as confirmed, a differing
  value is a **conflict**: the previous value is kept and the conflict
  recorded. New sites get their own ``site_id`` (``q-<iso3>-<name>``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._iso3 import ISO3_CODES, ISO3_NAMES
from riskmap._paths import DATA_DIR
from riskmap.io import atomic_path, atomic_write_text, neutralise_formula, read_sites, sha256_file, write_sites
from riskmap.schema import (CATEGORIES, COORD_PRECISIONS, DAM_CONDITIONS, STATUSES, TMF_CATEGORIES, WGK_CLASSES,
                            ValidationIssue, ValidationReport, format_substances, parse_substances, validate_sites)

__all__ = ["FIELDS", "N_SUBSTANCES", "TERMS", "write_questionnaire", "read_return", "merge_returns",
           "write_merge", "ReturnData", "MergeResult", "questionnaire_sites", "return_files", "returns_step"]

#: Substance rows offered per site.
N_SUBSTANCES = 3
#: The format version written to the hidden ``_meta`` sheet.
FORMAT_VERSION = "1"
SITES_CSV = DATA_DIR / "sites" / "sites.csv"


@dataclasses.dataclass(frozen=True)
class Field:
    """One input column of the questionnaire."""

    key: str
    kind: str  # number, text, list, date
    label: str
    unit: str = ""
    vocabulary: tuple[str, ...] = ()
    lo: float = 0.0
    hi: float = 1e13


def _substance_fields() -> list[Field]:
    out = []
    for k in range(1, N_SUBSTANCES + 1):
        out += [Field(f"substance_{k}_name", "text", f"Substance {k}: name"),
                Field(f"substance_{k}_quantity_t", "number", f"Substance {k}: quantity", "t", hi=1e9),
                Field(f"substance_{k}_wgk", "list", f"Substance {k}: WGK class (1, 2, 3, unknown)", "",
                      WGK_CLASSES)]
    return out


#: Every input field, in sheet order.
FIELDS: dict[str, Field] = {f.key: f for f in [
    Field("status", "list", "Operating status", "", tuple(STATUSES)),
    Field("tailings_volume_m3", "number", "Tailings volume", "m3"),
    Field("tailings_area_ha", "number", "Tailings facility area", "ha", hi=1e6),
    Field("dam_height_m", "number", "Dam height", "m", hi=400),
    Field("tailings_type", "text", "Kind of tailings (e.g. Pb-Zn flotation)"),
    Field("dam_condition", "list", "Dam / facility condition", "", DAM_CONDITIONS),
    Field("reservoir_volume_m3", "number", "Reservoir volume", "m3"),
    Field("capacity_mw", "number", "Installed capacity", "MW", hi=1e5),
    Field("capacity_t_yr", "number", "Production / throughput capacity", "t/yr", hi=1e10),
    *_substance_fields(),
    Field("respondent_source", "text", "Your source for these values (document, register, inspection)"),
    Field("respondent_date", "date", "Date of the information (YYYY-MM-DD)"),
    Field("comment", "text", "Comment"),
]}
_SUBST = [f.key for f in _substance_fields()]
_ALWAYS = ["status", *_SUBST, "respondent_source", "respondent_date", "comment"]
_TAILINGS = ["tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type", "dam_condition"]
#: Input fields asked per category (others: :data:`_DEFAULT_FIELDS`).
CATEGORY_FIELDS: dict[str, list[str]] = {
    **{c: _TAILINGS for c in TMF_CATEGORIES},
    "dam_reservoir": ["dam_height_m", "dam_condition", "reservoir_volume_m3", "capacity_mw"],
    "thermal_power_plant": ["capacity_mw", *_TAILINGS],
    "pipeline": ["capacity_t_yr"],
}
_DEFAULT_FIELDS = ["capacity_t_yr", *_TAILINGS]
#: Fixed (locked) columns of a site sheet.
FIXED = ["site_id", "name", "basin", "lon", "lat", "coord_precision", "inventory_status", "known_values",
         "inventory_source"]
#: Extra fixed-layout columns of the New sites sheet (all unlocked).
NEW_SITE_COLUMNS = ["new_site_name", "category", "lon", "lat", "coord_precision"]
_LABELS = {"site_id": "Site id (fixed, do not change)", "name": "Name (fixed)", "basin": "Basin (fixed)",
           "lon": "Longitude (WGS84, decimal degrees)", "lat": "Latitude (WGS84, decimal degrees)",
           "coord_precision": "Coordinate precision", "inventory_status": "Status in the inventory (fixed)",
           "known_values": "Already known (value, source) (fixed)", "inventory_source": "Inventory source (fixed)",
           "new_site_name": "Name of the site", "category": "Category"}

#: Category, status, condition and WGK words in the basin countries' languages (and English variants),
#: normalised (lower case, no accents, spaces -> _), understood on reading.
TERMS: dict[str, dict[str, str]] = {
    "status": {
        "u_radu": "operating", "aktivan": "operating", "aktivno": "operating", "radi": "operating",
        "ne_pune": "operating", "aktiv": "operating", "funksional": "operating", "deistvuiushchii": "operating",
        "active": "operating", "in_operation": "operating", "zatvoren": "closed", "zatvoreno": "closed",
        "mbyllur": "closed", "zakryt": "closed", "closed_down": "closed", "napusten": "abandoned",
        "napusteno": "abandoned", "braktisur": "abandoned", "zabroshen": "abandoned", "sanirano": "remediated",
        "saniran": "remediated", "rehabilituar": "remediated", "rekultivirovan": "remediated",
        "u_izgradnji": "under_construction", "ne_ndertim": "under_construction", "planiran": "planned",
        "planifikuar": "planned", "nepoznato": "unknown", "panjohur": "unknown", "neizvestno": "unknown",
    },
    "dam_condition": {
        "dobro": "good", "dobar": "good", "mire": "good", "e_mire": "good", "khoroshee": "good",
        "zadovoljavajuce": "fair", "srednje": "fair", "mesatare": "fair", "udovletvoritelnoe": "fair",
        "lose": "poor", "los": "poor", "keq": "poor", "e_keqe": "poor", "plokhoe": "poor", "bad": "poor",
        "srusena": "failed", "srusen": "failed", "razrushena": "failed", "nepoznato": "unknown",
        "panjohur": "unknown", "neizvestno": "unknown",
    },
    "category": {
        "jaloviste": "tailings_metal", "flotacijsko_jaloviste": "tailings_metal", "rudnik": "mine",
        "mine_shaft": "mine", "miniere": "mine", "minierë": "mine", "rudnik_uglja": "mine",
        "termoelektrana": "thermal_power_plant", "hidroelektrana": "dam_reservoir", "brana": "dam_reservoir",
        "akumulacija": "dam_reservoir", "dige": "dam_reservoir", "hidrocentral": "dam_reservoir",
        "topionica": "smelter_refinery", "shkrirje": "smelter_refinery", "hemijska_industrija": "chemical_plant",
        "deponija": "landfill", "pepeliste": "tailings_ash", "crveni_mulj": "tailings_red_mud",
        "khvostokhranilishche": "tailings_metal", "rudnik_urana": "tailings_uranium", "plotina": "dam_reservoir",
        "tec": "thermal_power_plant", "ges": "dam_reservoir", "shakhta": "mine", "karer": "mine",
    },
    "coord_precision": {"tocno": "exact", "precizno": "exact", "sakte": "exact", "priblizno": "approximate",
                        "perafersisht": "approximate", "grad": "town", "naselje": "town", "qytet": "town"},
    "wgk": {"wgk_1": "1", "wgk_2": "2", "wgk_3": "3", "wgk1": "1", "wgk2": "2", "wgk3": "3", "nwg": "unknown",
            "nepoznato": "unknown"},
}
_VOCAB = {"status": tuple(STATUSES), "dam_condition": DAM_CONDITIONS, "category": tuple(CATEGORIES),
          "coord_precision": tuple(COORD_PRECISIONS), "wgk": WGK_CLASSES}
_CYR = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "e", "ж": "zh",
                      "з": "z", "и": "i", "й": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
                      "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ф": "f",
                      "х": "kh", "ц": "c", "ч": "ch", "џ": "dz", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
                      "ь": "", "э": "e", "ю": "iu", "я": "ia", "ѓ": "gj", "ќ": "kj", "ѕ": "dz"})


def _norm(text: Any) -> str:
    s = str(text).strip().lower().translate(_CYR).replace("đ", "dj").replace("ë", "e")
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


# --------------------------------------------------------------------------- sites of a questionnaire


def questionnaire_sites(sites: pd.DataFrame, basin: str, country: str) -> pd.DataFrame:
    """The point sites of ``basin`` in ``country`` (the rows a questionnaire pre-fills), sorted by category, id."""
    sel = (sites["basin"] == basin) & (sites["country"] == country)
    out = sites[sel].copy()
    return out.sort_values(["category", "site_id"], kind="mergesort")


def _known(row: pd.Series, fields: list[str]) -> str:
    parts = []
    fs = json.loads(row["field_sources"]) if isinstance(row.get("field_sources"), str) else {}
    for f in [*fields, "substances"]:
        v = row.get(f)
        if v is None or (isinstance(v, float) and math.isnan(v)) or f in _SUBST:
            continue
        parts.append(f"{f} = {v:.6g}" if isinstance(v, float) else f"{f} = {v}")
        parts[-1] += f" ({fs.get(f, row.get('source'))})"
    return "; ".join(parts) or "nothing yet"


# --------------------------------------------------------------------------- writing


def _instructions(basin: str, country: str, n_sites: int, today: str) -> list[str]:
    return [
        f"Questionnaire on hazardous activities: {basin} basin, {ISO3_NAMES.get(country, country)} ({country})",
        f"Generated by riskmap on {today} for the UNECE Industrial Accidents Convention work; {n_sites} sites.",
        "",
        "What we ask",
        "1. Each sheet named after a site category lists the sites riskmap knows in your country and basin.",
        "   Grey columns are fixed (the site id must not change). White columns are for your answers.",
        "2. Fill what you know: volumes, areas, heights, dam condition, substances held on site (name,",
        "   quantity in tonnes, German water hazard class WGK 1/2/3 or 'unknown'). Leave unknown cells blank:",
        "   blank means unknown, never 0.",
        "3. For every row you fill, give your source (register, permit, inspection report, operator) and the",
        "   date of the information (YYYY-MM-DD) in the last columns.",
        "4. Sites we missed: add them on the 'New sites' sheet with name, category, longitude and latitude",
        "   (WGS84 decimal degrees, e.g. 19.2594 and 42.4411) and what you know.",
        "5. Type values, not formulas: formulas are not evaluated and are reported back to you.",
        "",
        "Units are in the second header row. Numbers: a decimal point or a decimal comma are both read",
        "(1234.5 or 1234,5); do not use thousands separators. Drop-down lists show the accepted words;",
        "the words in Serbian/Montenegrin/Bosnian, Albanian, Macedonian and Russian listed in riskmap's",
        "documentation (docs/questionnaire.md) are understood too.",
        "",
        "What happens next: riskmap reads your return (`riskmap questionnaire merge`), reports every cell it",
        "could not read (sheet, row, column, reason, fix), fills the blank fields with your values and records",
        "your source; where your value differs from a published one, both are kept and the difference is listed",
        "for review. Nothing you send is dropped silently.",
    ]


def _style_header(ws: Any, ncols: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for c in range(1, ncols + 1):
        ws.cell(1, c).font = Font(bold=True, color="555555", size=8)
        ws.cell(2, c).font = Font(bold=True)
        ws.cell(2, c).alignment = Alignment(wrap_text=True, vertical="top")
        for r in (1, 2):
            ws.cell(r, c).fill = PatternFill("solid", fgColor="DDDDDD")
    ws.freeze_panes = "C3"
    ws.row_dimensions[2].height = 45


def _validation_for(key: str, lists: dict[str, str]) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    f = FIELDS.get(key)
    if key in ("category", "coord_precision") or (f is not None and f.kind == "list"):
        vocab = key if key in lists else ("wgk" if key.endswith("_wgk") else key)
        dv = DataValidation(type="list", formula1=lists[vocab], allow_blank=True, showErrorMessage=True,
                            errorTitle="Not in the list", error="Choose a value from the list (or leave blank).")
    elif key in ("lon", "lat"):
        lim = 180 if key == "lon" else 90
        dv = DataValidation(type="decimal", operator="between", formula1=str(-lim), formula2=str(lim),
                            allow_blank=True, showErrorMessage=True, errorTitle="Not a coordinate",
                            error=f"Decimal degrees between -{lim} and {lim} (WGS84).")
    elif f is not None and f.kind == "number":
        dv = DataValidation(type="decimal", operator="between", formula1=f"{f.lo:g}", formula2=f"{f.hi:.0f}",
                            allow_blank=True, showErrorMessage=True, errorTitle="Not a valid number",
                            error=f"A number between {f.lo:g} and {f.hi:g} {f.unit} (blank when unknown).")
    elif f is not None and f.kind == "date":
        dv = DataValidation(type="date", operator="between", formula1="18264", formula2="73051", allow_blank=True,
                            showErrorMessage=True, errorTitle="Not a date", error="A date, e.g. 2026-11-03.")
    else:
        return None
    return dv


def _header_label(key: str) -> str:
    f = FIELDS.get(key)
    if f is None:
        return _LABELS.get(key, key)
    return f"{f.label} ({f.unit})" if f.unit else f.label


def _write_sheet(wb: Any, title: str, keys: list[str], fixed: set[str], rows: list[list[Any]],
                 lists: dict[str, str], n_blank: int = 0) -> None:
    from openpyxl.styles import PatternFill, Protection

    ws = wb.create_sheet(title)
    for c, k in enumerate(keys, 1):
        ws.cell(1, c, k)
        ws.cell(2, c, _header_label(k))
    _style_header(ws, len(keys))
    grey = PatternFill("solid", fgColor="EEEEEE")
    n = len(rows) + n_blank
    for r, row in enumerate(rows, 3):
        for c, v in enumerate(row, 1):
            ws.cell(r, c, neutralise_formula(v) if isinstance(v, str) else v)
    for c, k in enumerate(keys, 1):
        for r in range(3, 3 + n):
            cell = ws.cell(r, c)
            if k in fixed:
                cell.fill = grey
            else:
                cell.protection = Protection(locked=False)
        letter = ws.cell(1, c).column_letter
        ws.column_dimensions[letter].width = 14 if k not in ("name", "known_values", "new_site_name") else 36
        dv = None if k in fixed else _validation_for(k, lists)
        if dv is not None and n:
            dv.add(f"{letter}3:{letter}{2 + n}")
            ws.add_data_validation(dv)
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # respondents may widen columns
    ws.protection.formatRows = False


def write_questionnaire(basin: str, country: str, path: str | Path, *, sites: pd.DataFrame | None = None,
                        today: str | None = None, new_site_rows: int = 50) -> Path:
    """Write the questionnaire workbook for one basin and country.

    Parameters
    ----------
    basin : str
        ``drin``, ``drina`` or ``syr_darya``.
    country : str
        ISO3 code (Kosovo ``XKX``).
    path : path
        The ``.xlsx`` file to write (atomically).
    sites : pandas.DataFrame, optional
        The inventory (default: the bundled ``data/sites/sites.csv``), with a ``basin`` column.
    today : str, optional
        Date written to the workbook (default: today, UTC).
    new_site_rows : int
        Empty, validated rows on the ``New sites`` sheet.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> write_questionnaire("drina", "MNE", "mne_drina.xlsx")  # doctest: +SKIP
    """
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise RiskmapInputError(f"{path}: the questionnaire is an .xlsx workbook; give a file name ending in .xlsx")
    country = country.strip().upper()
    if country not in ISO3_CODES and country != "XKX":
        raise RiskmapInputError(f"unknown country code {country!r}: use ISO 3166-1 alpha-3 (Kosovo XKX)")
    if sites is None:
        sites = read_sites(SITES_CSV)
    if "basin" not in sites.columns:
        raise RiskmapInputError("the inventory has no 'basin' column (use data/sites/sites.csv or an assessed file)")
    if basin not in set(sites["basin"].dropna()):
        raise RiskmapInputError(f"basin {basin!r} has no sites; basins: {', '.join(sorted(set(sites['basin'].dropna())))}")
    today = today or _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    sel = questionnaire_sites(sites, basin, country)
    if sel.empty:
        raise RiskmapInputError(f"no sites of {country} in the {basin} basin; countries there: "
                                f"{', '.join(sorted(set(sites.loc[sites['basin'] == basin, 'country'].dropna())))}")
    wb = Workbook()
    ins = wb.active
    ins.title = "Instructions"
    for r, line in enumerate(_instructions(basin, country, len(sel), today), 1):
        ins.cell(r, 1, line)
    ins.column_dimensions["A"].width = 110
    ins.protection.sheet = True
    lw = wb.create_sheet("lists")
    lists = {}
    for c, (k, vocab) in enumerate(_VOCAB.items(), 1):
        lw.cell(1, c, k)
        for r, v in enumerate(vocab, 2):
            lw.cell(r, c, v)
        letter = lw.cell(1, c).column_letter
        lists[k] = f"lists!${letter}$2:${letter}${1 + len(vocab)}"
    lw.sheet_state = "hidden"
    lw.protection.sheet = True
    pts = sel.geometry.representative_point()
    for cat, grp in sel.groupby("category", sort=True):
        fields = CATEGORY_FIELDS.get(cat, _DEFAULT_FIELDS)
        keys = FIXED + ["status"] + [f for f in fields] + [k for k in _ALWAYS if k != "status"]
        rows = []
        for idx, row in grp.iterrows():
            fixed_vals = [row["site_id"], row["name"], row["basin"], round(float(pts[idx].x), 6),
                          round(float(pts[idx].y), 6), row["coord_precision"], row["status"],
                          _known(row, fields), row["source"]]
            rows.append(fixed_vals + [None] * (len(keys) - len(FIXED)))
        _write_sheet(wb, cat[:31], keys, set(FIXED), rows, lists)
    new_keys = NEW_SITE_COLUMNS + ["status", *dict.fromkeys(_TAILINGS + ["reservoir_volume_m3", "capacity_mw",
                                                                        "capacity_t_yr"]),
                                   *[k for k in _ALWAYS if k != "status"]]
    _write_sheet(wb, "New sites", new_keys, set(), [], lists, n_blank=new_site_rows)
    meta = wb.create_sheet("_meta")
    for r, (k, v) in enumerate([("format", f"riskmap questionnaire {FORMAT_VERSION}"), ("basin", basin),
                                ("country", country), ("generated", today), ("sites", len(sel))], 1):
        meta.cell(r, 1, k)
        meta.cell(r, 2, v)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass
class ReturnData:
    """What one returned file holds after reading.

    Attributes
    ----------
    file : str
    country, basin : str or None
        From the workbook's ``_meta`` sheet (None for CSV returns).
    values : pandas.DataFrame
        One row per readable value: ``site_id``, ``field``, ``value``, ``sheet``, ``row``, ``column``,
        ``respondent_source``, ``respondent_date``.
    new_sites : list of dict
        One dict per new site (schema-like keys plus ``sheet``, ``row``, ``respondent_*``).
    report : riskmap.schema.ValidationReport
    """

    file: str
    country: str | None
    basin: str | None
    values: pd.DataFrame
    new_sites: list[dict[str, Any]]
    report: ValidationReport


class _Issues:
    def __init__(self, report: ValidationReport, file: str) -> None:
        self.report, self.file = report, file

    def add(self, sheet: str | None, row: int | None, col: str | None, reason: str, fix: str,
            severity: str = "error") -> None:
        where = self.file if sheet is None else f"{self.file}, sheet '{sheet}'"
        self.report.issues.append(ValidationIssue(where, row, col, reason, fix, severity))


_SKIP_SHEETS = {"instructions", "lists", "_meta"}


def _col_name(letter: str | None, key: str) -> str:
    return f"{letter} ({key})" if letter else key


def _parse_number(v: Any, f: Field) -> float:
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a number")
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
    else:
        s = str(v).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
        if re.fullmatch(r"-?\d+,\d{3}", s):
            raise ValueError(f"{v!r} is ambiguous (decimal comma or thousands separator?)")
        if re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+", s):  # 1.234,5
            s = s.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(,\d{3})+\.\d+", s):  # 1,234.5
            s = s.replace(",", "")
        elif s.count(",") == 1 and "." not in s:  # decimal comma
            s = s.replace(",", ".")
        try:
            x = float(s)
        except ValueError:
            raise ValueError(f"{v!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{v!r} is not a finite number")
    if x < f.lo:
        raise ValueError(f"negative value {x:g}" if x < 0 else f"{x:g} is below {f.lo:g}")
    if x > f.hi:
        raise ValueError(f"{x:g} {f.unit} is above the plausible maximum {f.hi:g}")
    return x


def _parse_date(v: Any) -> str:
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 18264 <= float(v) <= 73051:
        return (_dt.date(1899, 12, 30) + _dt.timedelta(days=int(v))).isoformat()  # Excel serial day
    s = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y.", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return _dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    if re.fullmatch(r"\d{4}(-\d{2})?", s):
        return s
    raise ValueError(f"{v!r} is not a date")


def _parse_list(v: Any, vocab_key: str) -> tuple[str, str | None]:
    """(value, note) where note says which translation was applied."""
    vocab = _VOCAB[vocab_key]
    raw = v
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    n = _norm(v)
    if n in vocab:
        return n, None
    if vocab_key == "wgk" and n.replace("wgk", "").strip("_") in vocab:
        return n.replace("wgk", "").strip("_"), None
    hit = TERMS.get(vocab_key, {}).get(n)
    if hit:
        return hit, f"{raw!r} read as {hit!r}"
    close = difflib.get_close_matches(n, list(vocab) + list(TERMS.get(vocab_key, {})), n=1, cutoff=0.5)
    sug = TERMS.get(vocab_key, {}).get(close[0], close[0]) if close else None
    raise ValueError(f"unknown {vocab_key} {raw!r}" + (f" (closest: {sug!r})" if sug else ""))


def _header_map(cells: list[Any]) -> dict[int, str]:
    """Column position -> field key, from a header row of keys or labels (moved columns are fine)."""
    known = {k: k for k in [*FIXED, *NEW_SITE_COLUMNS, *FIELDS]}
    by_label = {_norm(_header_label(k)): k for k in known}
    out = {}
    for i, v in enumerate(cells):
        if v is None or not str(v).strip():
            continue
        n = _norm(v)
        n_nounit = _norm(re.sub(r"\s*\([^)]*\)\s*$", "", str(v)))
        key = known.get(n) or by_label.get(n) or known.get(n_nounit) or by_label.get(n_nounit)
        if key:
            out[i] = key
        else:
            out[i] = "?" + str(v)
    return out


def _sheet_rows(ws: Any) -> tuple[list[list[Any]], list[list[str]], list[str]]:
    """Cell values, cell data types and column letters of a worksheet."""
    from openpyxl.utils import get_column_letter

    values, types = [], []
    for row in ws.iter_rows():
        values.append([c.value for c in row])
        types.append([getattr(c, "data_type", "n") for c in row])
    ncol = max((len(r) for r in values), default=0)
    return values, types, [get_column_letter(i + 1) for i in range(ncol)]


def _read_table_rows(issues: _Issues, sheet: str, values: list[list[Any]], types: list[list[str]],
                     letters: list[str], merged: list[str], values_out: list[dict], new_out: list[dict]) -> None:
    hdr_row = next((r for r in range(min(6, len(values)))
                    if any(_norm(v) in ("site_id", "new_site_name") for v in values[r] if v is not None)), None)
    if hdr_row is None:
        if any(any(v not in (None, "") for v in r) for r in values):
            issues.add(sheet, None, None, "no header row with 'site_id' or 'new_site_name' in the first 6 rows; "
                       "the sheet was not read", "keep the two header rows of the questionnaire (keys in row 1)",
                       "error")
        return
    hmap = _header_map(values[hdr_row])
    for i, k in hmap.items():
        if k.startswith("?"):
            issues.add(sheet, hdr_row + 1, _col_name(letters[i], k[1:]), f"column header {k[1:]!r} not recognised; "
                       "its values were not read", "restore the header from the blank questionnaire", "error")
    keys = {k: i for i, k in hmap.items() if not k.startswith("?")}
    is_new = "new_site_name" in keys
    for rng in merged:
        issues.add(sheet, None, rng, f"merged cells {rng}: only the top-left cell's value was read, the other "
                   "cells count as blank", "unmerge the cells and fill each row", "warning")
    first = hdr_row + 1
    if first < len(values):  # skip the label row under the keys
        idc = keys.get("new_site_name" if is_new else "site_id")
        lab = values[first][idc] if idc is not None and idc < len(values[first]) else None
        if lab is not None and _norm(lab) == _norm(_header_label("new_site_name" if is_new else "site_id")):
            first += 1
    for r in range(first, len(values)):
        row, typ = values[r], types[r]
        excel_row = r + 1

        def cell(k: str) -> tuple[Any, str | None, bool]:
            i = keys.get(k)
            if i is None or i >= len(row):
                return None, None, False
            v = row[i]
            is_formula = typ[i] == "f" or (isinstance(v, str) and v.startswith("=") and len(v) > 1)
            return v, letters[i], is_formula

        inputs = [k for k in keys if k in FIELDS or (is_new and k in NEW_SITE_COLUMNS)]
        present = [k for k in inputs if cell(k)[0] not in (None, "") and not (isinstance(cell(k)[0], str)
                                                                             and not cell(k)[0].strip())]
        if not present:
            continue
        parsed: dict[str, Any] = {}
        failed: set[str] = set()
        for k in present:
            v, letter, formula = cell(k)
            col = _col_name(letter, k)
            if formula:
                issues.add(sheet, excel_row, col, f"formula {str(v)[:60]!r} not evaluated (riskmap reads typed "
                           "values only); the cell was not read", "type the value itself")
                failed.add(k)
                continue
            try:
                if k in ("lon", "lat"):
                    parsed[k] = _parse_number(v, Field(k, "number", k, lo=-180 if k == "lon" else -90,
                                                       hi=180 if k == "lon" else 90))
                elif k in ("category", "coord_precision"):
                    parsed[k], note = _parse_list(v, k)
                    if note:
                        issues.add(sheet, excel_row, col, note, "none needed (documented translation)", "warning")
                elif k in FIELDS:
                    f = FIELDS[k]
                    if f.kind == "number":
                        parsed[k] = _parse_number(v, f)
                        if isinstance(v, str):
                            issues.add(sheet, excel_row, col, f"number typed as text {v!r} read as {parsed[k]:g}",
                                       "none needed", "warning")
                    elif f.kind == "date":
                        parsed[k] = _parse_date(v)
                    elif f.kind == "list":
                        parsed[k], note = _parse_list(v, "wgk" if k.endswith("_wgk") else k)
                        if note:
                            issues.add(sheet, excel_row, col, note, "none needed (documented translation)",
                                       "warning")
                    else:
                        parsed[k] = str(v).strip()
                else:
                    parsed[k] = str(v).strip()
            except ValueError as e:
                fix = {"number": "write a plain number in the unit of the header (no units, no text), or leave "
                                 "blank when unknown",
                       "date": "write the date as YYYY-MM-DD",
                       "list": "choose a value from the drop-down list"}.get(
                    FIELDS[k].kind if k in FIELDS else ("list" if k in ("category", "coord_precision")
                                                        else "number"), "check the value")
                issues.add(sheet, excel_row, col, str(e), fix)
                failed.add(k)
        subs = []
        for n in range(1, N_SUBSTANCES + 1):
            nm, q, w = (parsed.pop(f"substance_{n}_name", None), parsed.pop(f"substance_{n}_quantity_t", None),
                        parsed.pop(f"substance_{n}_wgk", None))
            if nm is None and (q is not None or w is not None):
                issues.add(sheet, excel_row, _col_name(cell(f"substance_{n}_name")[1], f"substance_{n}_name"),
                           f"substance {n}: quantity or WGK given without a substance name; not read",
                           "give the substance name")
            elif nm is not None:
                subs.append({"name": nm, "quantity_t": q, "wgk": w or "unknown"})
        if subs:
            parsed["substances"] = format_substances(parse_substances(subs))
        meta = {"sheet": sheet, "row": excel_row, "respondent_source": parsed.pop("respondent_source", None),
                "respondent_date": parsed.pop("respondent_date", None), "comment": parsed.pop("comment", None)}
        if is_new:
            letters_of = {k: cell(k)[1] for k in keys}
            new_out.append({**parsed, **meta, "_letters": letters_of, "_failed": failed})
            continue
        sid_v, sid_letter, _ = cell("site_id")
        sid = str(sid_v).strip() if sid_v not in (None, "") else None
        if sid is None:
            issues.add(sheet, excel_row, _col_name(sid_letter, "site_id"), "the row has answers but no site_id; "
                       "not read", "restore the site id (the id column is protected), or use the New sites sheet")
            continue
        for k, v in parsed.items():
            values_out.append({"site_id": sid, "field": k, "value": v, "column": _col_name(cell(
                k if k != "substances" else "substance_1_name")[1], k), **meta})


def read_return(path: str | Path) -> ReturnData:
    """Read one returned questionnaire (``.xlsx``, or ``.csv`` with the same column keys).

    Never raises on bad cells: every problem is in ``report`` (file, sheet,
    row, column, reason, fix). Raises :class:`~riskmap._errors.RiskmapInputError`
    only when the file cannot be opened at all.

    Examples
    --------
    >>> ret = read_return("mne_drina_returned.xlsx")  # doctest: +SKIP
    >>> print(ret.report)  # doctest: +SKIP
    """
    path = Path(path)
    report = ValidationReport(file=str(path))
    issues = _Issues(report, str(path))
    values: list[dict] = []
    new: list[dict] = []
    country = basin = None
    suffix = path.suffix.lower()
    if not path.exists():
        raise RiskmapInputError(f"{path}: no such file")
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, data_only=False)
        except Exception as e:  # noqa: BLE001 - any reader failure is an input problem
            raise RiskmapInputError(f"{path}: cannot read the workbook ({type(e).__name__}: {e})") from None
        if "_meta" in wb.sheetnames:
            meta = {str(r[0]): r[1] for r in wb["_meta"].iter_rows(values_only=True) if r and r[0]}
            country, basin = meta.get("country"), meta.get("basin")
        else:
            issues.add(None, None, None, "no _meta sheet: country and basin unknown (taken from the inventory per "
                       "site)", "return the workbook riskmap wrote, not a copy of its sheets", "warning")
        for ws in wb.worksheets:
            if ws.title.strip().lower() in _SKIP_SHEETS:
                continue
            vals, types, letters = _sheet_rows(ws)
            _read_table_rows(issues, ws.title, vals, types, letters, [str(r) for r in ws.merged_cells.ranges],
                             values, new)
    elif suffix == ".csv":
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python", header=None,
                             encoding="utf-8-sig")
        except Exception as e:  # noqa: BLE001
            raise RiskmapInputError(f"{path}: cannot read the CSV ({type(e).__name__}: {e})") from None
        vals = [[None if v == "" else v for v in r] for r in df.to_numpy().tolist()]
        types = [["s"] * len(r) for r in vals]
        from openpyxl.utils import get_column_letter

        _read_table_rows(issues, "csv", vals, types, [get_column_letter(i + 1) for i in range(df.shape[1])], [],
                         values, new)
    else:
        raise RiskmapInputError(f"{path}: a questionnaire return is an .xlsx workbook or a .csv file")
    cols = ["site_id", "field", "value", "sheet", "row", "column", "respondent_source", "respondent_date", "comment"]
    report.n_rows = len(values) + len(new)
    return ReturnData(str(path), country, basin, pd.DataFrame(values, columns=cols), new, report)


# --------------------------------------------------------------------------- merging


@dataclasses.dataclass
class MergeResult:
    """Outcome of :func:`merge_returns`.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The merged inventory.
    provenance : pandas.DataFrame
        One row per value read: ``site_id``, ``field``, ``value``, ``previous``, ``action`` (``filled``,
        ``confirmed``, ``conflict: previous kept``, ``new site``, ``rejected``), ``source``,
        ``respondent_source``, ``file``, ``sheet``, ``row``, ``column``.
    conflicts : pandas.DataFrame
        The ``conflict`` rows of ``provenance``.
    report : riskmap.schema.ValidationReport
        Every problem of every file.
    new_ids : list of str
        ``site_id`` of the added sites.
    files : list of dict
        ``file``, ``sha256``, ``country``, ``basin`` of each return merged.
    """

    sites: gpd.GeoDataFrame
    provenance: pd.DataFrame
    conflicts: pd.DataFrame
    report: ValidationReport
    new_ids: list[str]
    files: list[dict[str, Any]]


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a).strip().lower() == str(b).strip().lower()


def _label(country: str | None, date: str | None) -> str:
    return f"questionnaire {country or 'unknown country'} {date or 'undated'}"


def _new_site_id(country: str, name: str, taken: set[str]) -> str:
    from riskmap.sources._common import slug  # noqa: PLC0415 - text helper only

    base = f"q-{country.lower()}-{slug(name, 40) or 'site'}"
    sid, k = base, 2
    while sid in taken:
        sid, k = f"{base}-{k}", k + 1
    taken.add(sid)
    return sid


def merge_returns(files: Iterable[str | Path], sites: gpd.GeoDataFrame | None = None) -> MergeResult:
    """Merge returned questionnaires into an inventory, with provenance and conflicts.

    Files are merged in the order given: for a blank field, the first return
    that answers it fills it and a later, different answer is a conflict.

    Parameters
    ----------
    files : paths
        Returned ``.xlsx`` workbooks or ``.csv`` files.
    sites : geopandas.GeoDataFrame, optional
        The inventory (default: the bundled ``data/sites/sites.csv``).

    Examples
    --------
    >>> res = merge_returns(["mne_returned.xlsx"])  # doctest: +SKIP
    >>> res.conflicts  # doctest: +SKIP
    """
    base = read_sites(SITES_CSV) if sites is None else sites
    out = base.copy()
    for c in ("field_sources", "source_refs", "notes"):
        if c not in out.columns:
            out[c] = None
        out[c] = out[c].astype(object)
    pos = {sid: i for i, sid in enumerate(out["site_id"])}
    report = ValidationReport(file="questionnaire returns")
    prov: list[dict] = []
    new_rows: list[dict] = []
    new_geoms: list[Any] = []
    taken = set(out["site_id"])
    file_info = []
    for f in files:
        ret = read_return(f)
        file_info.append({"file": Path(f).name, "sha256": sha256_file(f), "country": ret.country,
                          "basin": ret.basin})
        report.issues.extend(ret.report.issues)
        rep = _Issues(report, str(f))
        touched: dict[int, list[str]] = {}
        for v in ret.values.to_dict("records"):
            sid = v["site_id"]
            base_row = {"site_id": sid, "field": v["field"], "value": v["value"], "source": None,
                        "respondent_source": v["respondent_source"], "file": Path(f).name, "sheet": v["sheet"],
                        "row": v["row"], "column": v["column"]}
            if sid not in pos:
                close = difflib.get_close_matches(sid, list(pos), n=1, cutoff=0.6)
                rep.add(v["sheet"], v["row"], "site_id", f"site_id {sid!r} is not in the inventory"
                        + (f" (closest: {close[0]!r})" if close else "") + "; the row's values were not merged",
                        "the id column is protected: restore the id from the blank questionnaire, or enter the "
                        "site on the New sites sheet")
                prov.append({**base_row, "previous": None, "action": "rejected: unknown site_id"})
                continue
            i = pos[sid]
            country = ret.country or out["country"].iat[i]
            if ret.country and out["country"].iat[i] != ret.country:
                rep.add(v["sheet"], v["row"], "site_id", f"site {sid!r} is in {out['country'].iat[i]}, not in "
                        f"{ret.country} (the questionnaire's country); merged anyway", "check the row", "warning")
            if v["respondent_date"] is None:
                rep.add(v["sheet"], v["row"], "respondent_date", "no date for this row's information: recorded "
                        "as 'undated'", "give the date of the information (YYYY-MM-DD)", "warning")
            src = _label(country, v["respondent_date"])
            base_row["source"] = src
            field = v["field"]
            prev = out[field].iat[i] if field in out.columns else None
            if field == "status" and prev == "unknown":
                prev = None
            if _missing(prev):
                out.iloc[i, out.columns.get_loc(field)] = v["value"]
                action = "filled"
                fs = json.loads(out["field_sources"].iat[i]) if isinstance(out["field_sources"].iat[i], str) else {}
                who = src + (f" (respondent: {v['respondent_source']})" if v["respondent_source"] else "")
                fs[field] = who
                out.iloc[i, out.columns.get_loc("field_sources")] = json.dumps(fs, ensure_ascii=False,
                                                                               sort_keys=True)
                touched.setdefault(i, []).append(field)
            elif _same(prev, v["value"]):
                action = "confirmed"
            else:
                action = "conflict: previous kept"
            prev_out = prev.item() if isinstance(prev, np.generic) else prev
            prov.append({**base_row, "previous": None if _missing(prev_out) else prev_out, "action": action})
            ref = f"questionnaire-{country}:{Path(f).name}#{v['sheet']}!{v['row']}"
            refs = json.loads(out["source_refs"].iat[i]) if isinstance(out["source_refs"].iat[i], str) else []
            if ref not in refs:
                out.iloc[i, out.columns.get_loc("source_refs")] = json.dumps(refs + [ref], ensure_ascii=False)
        for i, fields in touched.items():
            note = f"{Path(f).name}: filled {', '.join(fields)}"
            cur = out["notes"].iat[i]
            out.iloc[i, out.columns.get_loc("notes")] = "; ".join(filter(None, [cur if isinstance(cur, str) else "",
                                                                               note]))
        if ret.new_sites:
            _add_new_sites(ret, f, rep, taken, new_rows, new_geoms, prov, out)
    if new_rows:
        add = gpd.GeoDataFrame(pd.DataFrame(new_rows), geometry=new_geoms, crs="EPSG:4326")
        out = gpd.GeoDataFrame(pd.concat([out, add], ignore_index=True), geometry=out.geometry.name,
                               crs="EPSG:4326")
    cols = ["site_id", "field", "value", "previous", "action", "source", "respondent_source", "file", "sheet",
            "row", "column"]
    provenance = pd.DataFrame(prov, columns=cols)
    conflicts = provenance[provenance["action"].str.startswith("conflict")].reset_index(drop=True)
    report.n_rows = len(provenance)
    report.n_kept = int(provenance["action"].isin(["filled", "confirmed", "new site"]).sum())
    return MergeResult(out, provenance, conflicts, report, [r["site_id"] for r in new_rows], file_info)


def _add_new_sites(ret: ReturnData, f: str | Path, rep: _Issues, taken: set[str], new_rows: list[dict],
                   new_geoms: list[Any], prov: list[dict], inventory: gpd.GeoDataFrame) -> None:
    """Validate the New sites rows with the schema validation and append the good ones."""
    rows = ret.new_sites
    recs = []
    for r in rows:
        if not r.get("coord_precision") and "coord_precision" not in r["_failed"]:
            rep.add(r["sheet"], r["row"], _col_name(r["_letters"].get("coord_precision"), "coord_precision"),
                    "coordinate precision blank: 'estimated' assumed", "choose exact, approximate, town or estimated",
                    "warning")
        country = ret.country
        date = r.get("respondent_date")
        recs.append({
            "site_id": f"pending-{r['row']}", "name": r.get("new_site_name"), "category": r.get("category"),
            "status": r.get("status"), "country": None, "coord_precision": r.get("coord_precision") or "estimated",
            "source": _label(country, date), "source_id": f"{Path(f).name}#{r['sheet']}!{r['row']}",
            "licence": "questionnaire return: terms of the responding authority", "lon": r.get("lon"),
            "lat": r.get("lat"), "substances": r.get("substances"),
            **{k: r.get(k) for k in ("tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type",
                                     "dam_condition", "reservoir_volume_m3", "capacity_mw", "capacity_t_yr")},
            "notes": "; ".join(filter(None, [f"respondent source: {r.get('respondent_source')}"
                                             if r.get("respondent_source") else None, r.get("comment")])) or None,
        })
    from riskmap.io import _bundled_countries  # noqa: PLC0415 - country polygons for the new points

    df = pd.DataFrame(recs)
    valid, vrep = validate_sites(df, file=str(f), countries=_bundled_countries())
    bad_rows = set()
    for iss in vrep.issues:
        r = rows[iss.row - 1] if iss.row else None
        col = iss.column
        if r is not None and col in r["_failed"]:
            bad_rows.add(r["row"])  # already reported when the cell was read
            continue
        if r is not None and col in r.get("_letters", {}):
            col = _col_name(r["_letters"][col], col)
        rep.add(r["sheet"] if r else None, r["row"] if r else None, col, iss.reason, iss.fix, iss.severity)
        if iss.severity == "error" and r is not None:
            bad_rows.add(r["row"])
    kept = [r for r in rows if r["row"] not in bad_rows]
    for r in rows:
        if r["row"] in bad_rows:
            prov.append({"site_id": None, "field": "(new site)", "value": r.get("new_site_name"), "previous": None,
                         "action": "rejected: invalid new site", "source": _label(ret.country, r.get("respondent_date")),
                         "respondent_source": r.get("respondent_source"), "file": Path(f).name, "sheet": r["sheet"],
                         "row": r["row"], "column": None})
    for k, (idx, v) in enumerate(valid.iterrows()):
        r = kept[k]
        rec = v.drop(labels=[valid.geometry.name]).to_dict()
        country = rec.get("country") or ret.country or "unknown"
        rec["site_id"] = _new_site_id(country, str(rec["name"]), taken)
        rec["source_refs"] = json.dumps([f"questionnaire-{country}:{rec['source_id']}"], ensure_ascii=False)
        rec["name_source"] = rec["source"]
        filled = [c for c in ("status", "substances", "tailings_volume_m3", "tailings_area_ha", "dam_height_m",
                              "tailings_type", "dam_condition", "reservoir_volume_m3", "capacity_mw", "capacity_t_yr")
                  if not _missing(rec.get(c)) and not (c == "status" and rec.get(c) == "unknown")]
        who = rec["source"] + (f" (respondent: {r.get('respondent_source')})" if r.get("respondent_source") else "")
        rec["field_sources"] = json.dumps({c: who for c in filled}, ensure_ascii=False, sort_keys=True) \
            if filled else None
        if "basin" in inventory.columns:
            rec["basin"] = _basin_of(valid.geometry.iloc[k], ret.basin, rep, r)
        new_rows.append(rec)
        new_geoms.append(valid.geometry.iloc[k])
        prov.append({"site_id": rec["site_id"], "field": "(new site)", "value": rec["name"], "previous": None,
                     "action": "new site", "source": rec["source"], "respondent_source": r.get("respondent_source"),
                     "file": Path(f).name, "sheet": r["sheet"], "row": r["row"], "column": None})


def _basin_of(point: Any, expected: str | None, rep: _Issues, row: dict) -> str | None:
    """Basin of a new site from its location (outlines + divide buffer); warns when it is not ``expected``."""
    from riskmap.sources.build import assign_basins, basin_regions  # noqa: PLC0415

    try:
        regions, _ = basin_regions()
    except RiskmapInputError:
        return expected
    g = gpd.GeoDataFrame({"coord_precision": ["estimated"]}, geometry=[point], crs="EPSG:4326")
    found = assign_basins(g, regions)[0].iloc[0]
    if found != expected:
        rep.add(row["sheet"], row["row"], "lon/lat",
                f"the new site lies {'in the ' + found + ' basin' if found else 'outside the three basins'}"
                + (f", not in the {expected} basin of this questionnaire" if expected else "")
                + f"; recorded with basin {found or expected}", "check the coordinates (WGS84 decimal degrees)",
                "warning")
    return found or expected


def write_merge(result: MergeResult, out_dir: str | Path, inputs: Iterable[str | Path] = ()) -> list[Path]:
    """Write a merge: ``sites.csv``, ``provenance.csv``, ``conflicts.csv``, ``issues.csv``, ``returns.json``.

    Refuses to write over any of ``inputs`` (the returns and the inventory read).
    """
    out_dir = Path(out_dir)
    targets = [out_dir / n for n in ("sites.csv", "provenance.csv", "conflicts.csv", "issues.csv", "returns.json")]
    ins = {Path(p).resolve() for p in inputs}
    for t in targets:
        if t.resolve() in ins:
            raise RiskmapInputError(f"{t}: is an input of this merge; choose another output folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_sites(result.sites, targets[0])

    atomic_write_text(targets[1], _csv_text(result.provenance))
    atomic_write_text(targets[2], _csv_text(result.conflicts))
    atomic_write_text(targets[3], _csv_text(result.report.to_frame()))
    atomic_write_text(targets[4], json.dumps({"returns": result.files, "new_sites": result.new_ids},
                                             indent=2, ensure_ascii=False) + "\n")
    return targets


def _csv_text(df: pd.DataFrame) -> str:
    d = df.copy()
    for c in d.columns:
        if d[c].dtype == object or pd.api.types.is_string_dtype(d[c]):
            d[c] = d[c].astype(object).map(neutralise_formula)
    return d.to_csv(index=False, lineterminator="\n")


def return_files(returns_dir: str | Path) -> list[Path]:
    """The returns in a folder (``*.xlsx`` and ``*.csv``, sorted by name; other files are ignored)."""
    d = Path(returns_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in (".xlsx", ".csv")
                  and not p.name.startswith((".", "~$")))


def returns_step(returns_dir: str | Path) -> Any:
    """The ``after`` step of :func:`riskmap.sources.build.build_sites` that merges ``returns_dir``.

    The returns are inputs like any other source: the built ``sites.csv``
    includes them, ``returns_provenance.csv``, ``returns_conflicts.csv`` and
    ``returns_issues.csv`` are written beside it, and ``SOURCES.md`` lists each
    return with its SHA-256.
    """
    files = return_files(returns_dir)

    def after(sites: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str], dict[str, Any]]:
        title = "Questionnaire returns"
        if not files:
            return sites, {}, {"title": title, "files": [],
                               "lines": [f"None: `{Path(returns_dir).name}/` holds no returned questionnaire "
                                         "(*.xlsx, *.csv). Put returns there and rebuild; see docs/questionnaire.md."]}
        res = merge_returns(files, sites)
        merged = res.sites.sort_values("site_id", kind="mergesort").reset_index(drop=True)
        try:
            ch = score_change(sites, res)
            change = {k: ch[k] for k in ("touched", "moved", "before_insufficient", "after_insufficient")}
        except Exception as e:  # noqa: BLE001 - scoring needs data/basins; the merge stands without it
            change = {"error": f"not scored: {type(e).__name__}: {e}"}
        acts = res.provenance["action"].value_counts()
        lines = [f"- `{f['file']}` ({f['country'] or 'country from the inventory'}, {f['basin'] or 'basin n/a'}): "
                 f"sha256 {f['sha256']}" for f in res.files]
        lines += ["", f"Values filled: {int(acts.get('filled', 0))}; confirmed: {int(acts.get('confirmed', 0))}; "
                  f"conflicts (previous value kept): {len(res.conflicts)}; new sites: {len(res.new_ids)}; "
                  f"problems reported: {len(res.report.errors)} errors, {len(res.report.warnings)} warnings "
                  "(`returns_issues.csv`).",
                  "Scores of the touched sites: " + (f"{change['moved']} of {change['touched']} moved from "
                                                     "'insufficient data' to a score" if "moved" in change
                                                     else change["error"]) + "."]
        out_files = {"returns_provenance.csv": _csv_text(res.provenance),
                     "returns_conflicts.csv": _csv_text(res.conflicts),
                     "returns_issues.csv": _csv_text(res.report.to_frame())}
        return merged, out_files, {"title": title, "files": res.files, "lines": lines, "score_change": change}

    return after


def score_change(before: gpd.GeoDataFrame, result: MergeResult) -> dict[str, Any]:
    """Assess and score the sites a merge touched, before and after; count the moves to a score.

    Returns ``touched``, ``before_insufficient``, ``after_insufficient``,
    ``moved`` (insufficient data before, a score after) and ``table`` (per
    site: ``site_id``, ``name``, ``before``, ``after``, ``hazard_score``).
    """
    from riskmap.pipeline import prepare  # noqa: PLC0415 - analysis, only when scoring

    ok = result.provenance["action"].isin(["filled", "new site"])
    ids = sorted(set(result.provenance.loc[ok, "site_id"].dropna()))
    after_sites = result.sites[result.sites["site_id"].isin(ids)]
    before_sites = before[before["site_id"].isin(ids)]
    a = prepare(after_sites).sites.set_index("site_id")
    b = prepare(before_sites).sites.set_index("site_id") if len(before_sites) else None
    rows = []
    for sid in ids:
        st_b = b.loc[sid, "score_status"] if b is not None and sid in b.index else "(new site)"
        rows.append({"site_id": sid, "name": a.loc[sid, "name"], "before": st_b, "after": a.loc[sid, "score_status"],
                     "hazard_score": a.loc[sid, "hazard_score"]})
    t = pd.DataFrame(rows, columns=["site_id", "name", "before", "after", "hazard_score"])
    ins = "insufficient data"
    return {"touched": len(t), "before_insufficient": int((t["before"] == ins).sum()),
            "after_insufficient": int((t["after"] == ins).sum()),
            "moved": int(((t["before"] == ins) & (t["after"] != ins)).sum()), "table": t}
