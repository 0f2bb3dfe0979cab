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
from riskmap.i18n import N_

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
        if table not in base or not isinstance(values, Mapping):
            raise RiskmapInputError(f"{where}: unknown table [{table}]; known: {', '.join(sorted(base))}")
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
    (``riskmap/params/contacts_template.csv``) holds the header only.

    Raises
    ------
    RiskmapInputError
        Missing file or column, an empty or non-ISO3 country, naming file, row and column.

    Examples
    --------
    >>> read_contacts(None).columns.tolist()
    ['country', 'role', 'organisation', 'contact']
    """
    if path is None:
        return pd.DataFrame(columns=list(CONTACT_COLUMNS))
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RiskmapInputError(f"{p}: contacts file not found") from None
    except UnicodeDecodeError:
        raise RiskmapInputError(f"{p}: not UTF-8 text; save the contacts file as UTF-8 CSV") from None
    except IsADirectoryError:
        raise RiskmapInputError(f"{p}: is a folder, not a contacts file") from None
    rows = list(csv.reader(_io.StringIO(text)))
    if not rows:
        raise RiskmapInputError(f"{p}: empty file; expected the header {','.join(CONTACT_COLUMNS)}")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CONTACT_COLUMNS if c not in header]
    if missing:
        raise RiskmapInputError(f"{p}: row 1: missing column(s) {', '.join(missing)}; "
                                f"expected {','.join(CONTACT_COLUMNS)}")
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in r):
            continue
        rec = {c: (r[header.index(c)].strip() if header.index(c) < len(r) else "") for c in CONTACT_COLUMNS}
        if not re.fullmatch(r"[A-Za-z]{3}", rec["country"]):
            raise RiskmapInputError(f"{p}: row {i}, column country: {rec['country']!r} is not an ISO3 code "
                                    "(e.g. KGZ, UZB, BIH)")
        rec["country"] = rec["country"].upper()
        if rec["country"] not in ISO3_NAMES:
            raise RiskmapInputError(f"{p}: row {i}, column country: {rec['country']!r} is not a country code "
                                    "(ISO 3166-1 alpha-3, or XKX for Kosovo)")
        if not (rec["organisation"] or rec["contact"]):
            raise RiskmapInputError(f"{p}: row {i}: neither organisation nor contact given")
        out.append(rec)
    return pd.DataFrame(out, columns=list(CONTACT_COLUMNS))
