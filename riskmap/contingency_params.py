"""Release-scenario parameters and contact points of a contingency plan.

:func:`load_contingency_params` reads the documented defaults of
``riskmap/params/contingency.toml`` with the user's overrides (checked, naming file
and key); :func:`read_contacts` reads the contact points the user supplies
(never invented). Used by :mod:`riskmap.contingency` and :mod:`riskmap.exercise`.
"""

from __future__ import annotations

import copy
import csv
import io as _io
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._iso3 import ISO3_NAMES
from riskmap._paths import PARAMS_DIR
from riskmap.i18n import N_, _

__all__ = ["CONTACTS_TEMPLATE", "CONTACT_COLUMNS", "DEFAULT_CONTINGENCY_FILE", "PARAM_TEXTS", "load_contingency_params",
           "read_contacts"]

#: Default release-scenario parameters.
DEFAULT_CONTINGENCY_FILE = PARAMS_DIR / "contingency.toml"
#: The shipped, empty contacts template (header only: no invented contacts).
CONTACTS_TEMPLATE = PARAMS_DIR / "contacts_template.csv"
#: Columns of a contacts file.
CONTACT_COLUMNS = ("country", "role", "organisation", "contact")
#: The texts of the shipped ``contingency.toml`` (marked so that the defaults read in the output
#: language; a text the user changes with ``--params`` is shown as given).
PARAM_TEXTS: tuple[str, ...] = (
    N_("riskmap contingency defaults v1 (planning assumptions, not official UNECE figures)"),
    N_("stored quantity unknown: nominal release of {mass} of a dissolved, conservative substance "
       "(riskmap planning assumption; change nominal_mass_t)"),
    N_("riskmap planning assumption: one third of the stored volume. Rico, Benito and Diez-Herrero (2008), "
       "Floods from tailings dam failures, Journal of Hazardous Materials 154, 79-87, show that only part of "
       "the stored tailings is released and fit outflow against stored volume (r2 = 0.86); use their relation "
       "or a site study instead"),
    N_("riskmap planning assumption, not from a source: 1 g of dissolved conservative contaminant per m3 of "
       "released tailings; replace with pore-water analyses of the site"),
)


def _check_number(value: Any, path: Path, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise RiskmapInputError(f"{path}: {key}: expected a number, got {value!r}")
    if not lo <= float(value) <= hi:
        raise RiskmapInputError(f"{path}: {key}: {value!r} is outside {lo:g}..{hi:g}")
    return float(value)


def _check_categories(categories: list[Any], path: Path) -> None:
    """``tailings.categories``: schema category names only (an unknown name would match no site, in silence)."""
    from riskmap.schema import CATEGORIES

    bad = [c for c in categories if not isinstance(c, str) or c not in CATEGORIES]
    if bad:
        raise RiskmapInputError(_("{path}: tailings.categories: not a site category: {bad}; use any of "
                                  "{known}").format(path=path, bad=", ".join(repr(b) for b in bad),
                                                    known=", ".join(CATEGORIES)))


def load_contingency_params(path: str | Path | Mapping | None = None) -> dict[str, Any]:
    """The release-scenario parameters: the shipped defaults, overridden by a user TOML file or dict.

    Parameters
    ----------
    path : path or mapping, optional
        A TOML file with any of the keys of ``riskmap/params/contingency.toml``.

    Returns
    -------
    dict
        ``meta``, ``tailings`` and ``exercise`` tables, checked.

    Raises
    ------
    RiskmapInputError
        Unreadable file, unknown key, wrong type or out-of-range number (naming file and key).

    Examples
    --------
    >>> load_contingency_params()["meta"]["nominal_mass_t"]
    10.0
    """
    from riskmap.params import _read_toml

    base = _read_toml(DEFAULT_CONTINGENCY_FILE, "contingency parameter")
    if path is None:
        user, where = {}, DEFAULT_CONTINGENCY_FILE
    elif isinstance(path, Mapping):
        user, where = dict(path), Path("<params>")
    else:
        where = Path(path)
        user = _read_toml(where, "contingency parameter")
    out = copy.deepcopy(base)
    for table, values in user.items():
        if table not in base:
            raise RiskmapInputError(f"{where}: unknown table [{table}]; known: {', '.join(sorted(base))}")
        if not isinstance(values, Mapping):
            raise RiskmapInputError(_("{path}: {table} must be a table ([{table}] followed by its keys), got {value}")
                                    .format(path=where, table=table, value=repr(values)))
        for key, v in values.items():
            if key not in base[table]:
                raise RiskmapInputError(f"{where}: [{table}] unknown key {key!r}; known: {', '.join(base[table])}")
            if type(v) is not type(base[table][key]) and not (isinstance(base[table][key], float)
                                                               and isinstance(v, int) and not isinstance(v, bool)):
                raise RiskmapInputError(f"{where}: [{table}] {key}: expected "
                                        f"{type(base[table][key]).__name__}, got {v!r}")
            out[table][key] = float(v) if isinstance(base[table][key], float) else v
    m, t = out["meta"], out["tailings"]
    _check_number(m["nominal_mass_t"], where, "meta.nominal_mass_t", 1e-6, 1e5)
    _check_number(m["duration_h"], where, "meta.duration_h", 0, 720)
    _check_number(m["threshold_mg_l"], where, "meta.threshold_mg_l", 1e-9, 1e6)
    _check_number(m["top_n"], where, "meta.top_n", 1, 100)
    _check_number(t["release_fraction"], where, "tailings.release_fraction", 1e-9, 1)
    _check_number(t["dissolved_load_kg_m3"], where, "tailings.dissolved_load_kg_m3", 0, 1e3)
    _check_number(t["max_mass_kg"], where, "tailings.max_mass_kg", 1e-3, 1e8)
    _check_categories(t["categories"], where)
    if m["model"] not in ("jobson", "jobson-max", "ade"):
        raise RiskmapInputError(f"{where}: meta.model: {m['model']!r} is not jobson, jobson-max or ade")
    e = out["exercise"]
    _check_number(e["first_report_h"], where, "exercise.first_report_h", 0, 720)
    _check_number(e["verification_h"], where, "exercise.verification_h", 0, 720)
    if m["discharge"] not in ("mean", "low"):
        raise RiskmapInputError(f"{where}: meta.discharge: {m['discharge']!r} is not mean or low")
    return out


def read_contacts(path: str | Path | None) -> pd.DataFrame:
    """Read a contacts file (CSV: ``country, role, organisation, contact``); ``None`` gives an empty table.

    ``country`` is an ISO3 code (``KGZ``) as used in the basin data. Text is kept as
    data (never interpreted); the shipped template
    (``riskmap/params/contacts_template.csv``) holds the header only. A row with more
    fields than the header (an unquoted comma in an organisation or a phone list) is
    refused rather than cut.

    Raises
    ------
    RiskmapInputError
        Missing file or column, a repeated column, a row with more fields than the header,
        an empty or non-ISO3 country, naming file, row and column.

    Examples
    --------
    >>> read_contacts(None).columns.tolist()
    ['country', 'role', 'organisation', 'contact']
    """
    if path is None:
        return pd.DataFrame(columns=list(CONTACT_COLUMNS))
    p = Path(path)
    rows = _contact_rows(p)
    header = _contact_header(p, rows)
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in r):
            continue
        if any(x.strip() for x in r[len(header):]):  # empty trailing fields (Excel) are harmless
            raise RiskmapInputError(_(
                "{path}: row {row}: {n} fields, the header has {m}; put values holding a comma in double quotes "
                '(e.g. "Ministry of Interior, Sector for Emergency Management")').format(
                path=p, row=i, n=len(r), m=len(header)))
        out.append(_contact_record(p, i, {c: (r[header.index(c)].strip() if header.index(c) < len(r) else "")
                                          for c in CONTACT_COLUMNS}))
    return pd.DataFrame(out, columns=list(CONTACT_COLUMNS))


def _contact_rows(p: Path) -> list[list[str]]:
    """The CSV rows of contacts file ``p`` (its header first)."""
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RiskmapInputError(_("{path}: contacts file not found").format(path=p)) from None
    except UnicodeDecodeError:
        raise RiskmapInputError(_("{path}: not UTF-8 text; save the contacts file as UTF-8 CSV").format(
            path=p)) from None
    except IsADirectoryError:
        raise RiskmapInputError(_("{path}: is a folder, not a contacts file").format(path=p)) from None
    try:
        return list(csv.reader(_io.StringIO(text)))
    except csv.Error as e:
        raise RiskmapInputError(_("{path}: malformed CSV: {error}; check quotes on that line").format(
            path=p, error=e)) from None


def _contact_header(p: Path, rows: list[list[str]]) -> list[str]:
    """The lower-case header of a contacts file, with every column of :data:`CONTACT_COLUMNS`, none repeated."""
    if not rows:
        raise RiskmapInputError(_("{path}: empty file; expected the header {header}").format(
            path=p, header=",".join(CONTACT_COLUMNS)))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CONTACT_COLUMNS if c not in header]
    if missing:
        raise RiskmapInputError(_("{path}: row 1: missing column(s) {missing}; expected {header}").format(
            path=p, missing=", ".join(missing), header=",".join(CONTACT_COLUMNS)))
    repeated = sorted({c for c in CONTACT_COLUMNS if header.count(c) > 1})
    if repeated:
        raise RiskmapInputError(_("{path}: row 1: column(s) {columns} appear more than once; keep one of each")
                                .format(path=p, columns=", ".join(repeated)))
    return header


def _contact_record(p: Path, row: int, rec: dict[str, str]) -> dict[str, str]:
    """One contact with its country checked (ISO3) and upper-cased."""
    if not re.fullmatch(r"[A-Za-z]{3}", rec["country"]):
        raise RiskmapInputError(_("{path}: row {row}, column country: {value} is not an ISO3 code "
                                  "(e.g. KGZ, UZB, BIH)").format(path=p, row=row, value=repr(rec["country"])))
    rec["country"] = rec["country"].upper()
    if rec["country"] not in ISO3_NAMES:
        raise RiskmapInputError(_("{path}: row {row}, column country: {value} is not a country code "
                                  "(ISO 3166-1 alpha-3, or XKX for Kosovo)").format(
            path=p, row=row, value=repr(rec["country"])))
    if not (rec["organisation"] or rec["contact"]):
        raise RiskmapInputError(_("{path}: row {row}: neither organisation nor contact given").format(
            path=p, row=row))
    return rec
