"""Values in the report's words: numbers, counts, shares, exposure classes and table cells in the output language.

The small helpers every section of the report shares (:mod:`riskmap.report_sources`,
:mod:`riskmap.report_tables`, :mod:`riskmap.report_quality`,
:mod:`riskmap.report_ranking`, :mod:`riskmap.report_prose`). English output is
as written; other languages group thousands and use their decimal sign
(:func:`riskmap.i18n.format_number`). Messages belong to the gettext domain
``report_text``.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from typing import Any
from collections.abc import Iterable

import numpy as np
import pandas as pd

from riskmap._text import is_missing
from riskmap.i18n import _, country_label, current_lang, format_int, format_number, pgettext
from riskmap.report_figures import EXPOSURE_ORDER as _EXPOSURE_ORDER


def _en() -> bool:
    """True when the output language is English (the source language: text as written)."""
    return current_lang() == "en"


def _int(n: Any) -> str:
    """A count in a sentence: as written in English (``1234``), grouped in other languages (``1 234``)."""
    return str(n) if _en() else format_int(n)


def _dec(x: float, digits: int = 0) -> str:
    """A number in a sentence with ``digits`` decimals: ``12.5`` in English, ``12,5`` in Russian."""
    return f"{x:.{digits}f}" if _en() else format_number(x, digits)


def _cap(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def exposure_name(code: Any) -> str:
    """Name of an exposure class in the output language (``very high`` -> ``очень высокий``).

    Examples
    --------
    >>> exposure_name("very high"), exposure_name(None)
    ('very high', 'unknown')
    """
    if _missing(code) or code == "unknown":
        return _("unknown")
    names = {"very high": pgettext("exposure class", "very high"), "high": pgettext("exposure class", "high"),
             "medium": pgettext("exposure class", "medium"), "low": pgettext("exposure class", "low"),
             "outside": pgettext("exposure class", "outside")}
    return names.get(str(code), str(code))


def _value_label(key: Any) -> str:
    """Default label of a counted value: exposure classes and "unknown" in the output language, else as is."""
    return exposure_name(key) if key in _EXPOSURE_ORDER or key == "unknown" else str(key)


_missing = is_missing


def cell_text(v: Any, digits: int = 2) -> str:
    """Format a value for a table cell in the current language; missing values read 'unknown'.

    Parameters
    ----------
    v : object
        A number, bool, list of codes, text, or a missing value.
    digits : int
        Decimals of a fractional number.

    Returns
    -------
    str
        Grouped thousands and ``digits`` decimals (Russian: no-break-space thousands, decimal comma),
        yes/no, ``A → B`` for a list (ISO3 codes as country names), or the text.

    Examples
    --------
    >>> cell_text(1234.5, 1), cell_text(12345), cell_text(True), cell_text(None), cell_text(["BIH", "SRB"])
    ('1,234.5', '12,345', 'yes', 'unknown', 'Bosnia and Herzegovina → Serbia')
    """
    if _missing(v):
        return _("unknown")
    if isinstance(v, (bool, np.bool_)):
        return _("yes") if v else _("no")
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if _en() else format_int(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) >= 1000:
            return f"{int(f):,}" if _en() else format_int(f)
        return f"{f:,.{digits}f}" if _en() else format_number(f, digits)
    if isinstance(v, (list, tuple)):
        return " → ".join(country_label(x) if isinstance(x, str) and _looks_iso(x) else str(x) for x in v)
    return str(v)


#: Bidi classes that can reorder the text around a name (right-to-left letters and explicit controls).
_BIDI_ACTIVE = frozenset({"R", "AL", "RLE", "RLO", "LRE", "LRO", "RLI", "LRI", "FSI", "PDF", "PDI"})


def _name(v: Any) -> str:
    """A site name for prose and tables (:func:`cell_text`), bidi-isolated when it holds right-to-left text or controls.

    A name such as ``"abc\u202eexe.txt"`` would otherwise reverse the rest of the sentence it stands in
    (in the HTML and in the PDF); FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE confines it.

    Examples
    --------
    >>> _name("Trepca"), _name("abc\u202eexe") == "\u2068abc\u202eexe\u2069"
    ('Trepca', True)
    """
    text = cell_text(v)
    if any(unicodedata.bidirectional(ch) in _BIDI_ACTIVE for ch in text):
        return "\u2068" + text + "\u2069"
    return text


def _looks_iso(x: str) -> bool:
    return all(len(p) == 3 and p.isupper() for p in x.split("|"))


def _as_list(v: Any) -> list:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, str) and v.startswith("["):
        try:
            out = json.loads(v)
            return out if isinstance(out, list) else []
        except json.JSONDecodeError:
            return []
    return []


def _as_dict(v: Any) -> dict:
    if isinstance(v, dict):
        return v
    if isinstance(v, str) and v.startswith("{"):
        try:
            out = json.loads(v)
            return out if isinstance(out, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def count_rows(series: pd.Series, order: Iterable[str] | None = None, label=_value_label) -> list[dict[str, Any]]:
    """Counts of values (missing counted as 'unknown'), in vocabulary order then by count.

    ``label`` names a value; the default shows exposure classes and "unknown" in the output language.

    Parameters
    ----------
    series : pandas.Series
        The values.
    order : iterable of str, optional
        The vocabulary: its values come first, in this order; the others follow by count.
    label : callable
        Value -> its label.

    Returns
    -------
    list of dict
        Per value: ``key``, ``label``, ``n`` and ``pct`` (share of all values, %).

    Examples
    --------
    >>> [(r["key"], r["label"], r["n"]) for r in count_rows(pd.Series(["high", None, "high"]), ("very high", "high"))]
    [('high', 'high', 2), ('unknown', 'unknown', 1)]
    """
    s = series.astype(object).where(series.notna(), "unknown").map(str)
    vc = s.value_counts()
    keys = [k for k in (order or []) if k in vc.index]
    keys += sorted((k for k in vc.index if k not in keys), key=lambda k: (-vc[k], k))
    total = int(vc.sum())
    return [{"key": k, "label": label(k), "n": int(vc[k]),
             "pct": (100.0 * vc[k] / total) if total else float("nan")} for k in keys]


def _sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _version() -> str:
    """Package version and the data's date and checksum, e.g. ``0.1.0 (data 2026-11-27 sha256:932f068c69c2)``."""
    from riskmap._about import version_label

    return version_label()


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def share_text(n: int, total: int) -> str:
    """``n`` as a share of ``total``: ``25 %`` (a no-break space before the sign in Russian).

    Parameters
    ----------
    n, total : int
        The part and the whole (0 % when the whole is 0).

    Returns
    -------
    str
        The rounded percentage.

    Examples
    --------
    >>> share_text(1, 3), share_text(0, 0)
    ('33 %', '0 %')
    """
    if _en():
        return f"{100.0 * n / total:.0f} %" if total else "0 %"
    return format_number(100.0 * n / total if total else 0.0, 0) + "\u00a0%"
