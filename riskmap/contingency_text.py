"""Display texts of the contingency and exercise documents, in the output language.

Numbers with the language's separators (:func:`_loc`), hours, concentrations,
masses and populations (``unknown`` when missing), checkpoint and kind labels,
country codes or names, dates (:func:`date_time_text`) and the Kosovo footnote.
Used by the other ``contingency_*`` modules and :mod:`riskmap.exercise`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from riskmap.i18n import _, country_label, current_lang, pgettext

__all__ = ["checkpoint_label", "date_time_text", "decimal_text", "kind_label", "mass_text"]

UNKNOWN = "unknown"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == "" or v.strip().lower() in ("unknown", "nan", "none")
    if isinstance(v, (list, tuple, dict)):
        return len(v) == 0
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _loc(text: str) -> str:
    """A number written by Python's format (``1,234.5``, ``0.012``) with the current language's separators.

    The numbers are rounded by Python's format in every language, so English is
    unchanged and Russian shows the same digits (``1 234,5``, no-break space).

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     _loc("1,234.5") == "1\u00a0234,5"
    True
    """
    if current_lang() == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def _unknown() -> str:
    from riskmap.i18n import UNKNOWN as _UNKNOWN_TEXT

    return _(_UNKNOWN_TEXT)


def _code_or_label(code: Any) -> str:
    """ISO3 codes as written in English (as before), country names in other languages."""
    return str(code) if current_lang() == "en" else " / ".join(country_label(c) for c in _parts(code))


def kind_label(kind: Any) -> str:
    """The display name of a checkpoint kind (``border``, ``town``, ...); English: the kind itself."""
    labels = {"border": pgettext("checkpoint kind", "border"), "town": pgettext("checkpoint kind", "town"),
              "reservoir": pgettext("checkpoint kind", "reservoir"), "lake": pgettext("checkpoint kind", "lake"),
              "outlet": pgettext("checkpoint kind", "outlet")}
    return labels.get(str(kind), str(kind))


def checkpoint_label(name: Any, kind: Any = None, country: Any = None) -> str:
    """A spill checkpoint's name in the current language: :func:`riskmap.spill.checkpoint_label`.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     checkpoint_label("border KGZ -> UZB", "border")
    'граница Кыргызстан → Узбекистан'
    """
    from riskmap.spill import checkpoint_label as _label

    return _label(name, kind, country)


def _value_label(key: str, v: Any) -> str:
    """Category, status and coordinate precision codes: as written in English, their labels otherwise."""
    if current_lang() == "en" or not isinstance(v, str):
        return v
    from riskmap.map_text import CATEGORY_LABELS, PRECISION_LABELS, STATUS_LABELS

    table = {"category": CATEGORY_LABELS, "status": STATUS_LABELS, "coord_precision": PRECISION_LABELS}.get(key)
    if key == "country":
        return country_label(v)
    if table is None:
        return v
    if v.strip().lower() == "unknown":
        return _unknown()
    return _(table[v]) if v in table else v


def _parts(country: Any) -> list[str]:
    return [p for p in str(country).split("|") if p and p.lower() not in ("nan", "none", "")]


def _fmt_value(v: Any, unit: str) -> str:
    unit = _(unit) if unit else ""
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return f"{_loc(f'{float(v):,.6g}')} {unit}".strip()
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return f"{v} {unit}".strip()


def mass_text(kg: float) -> str:
    """A released mass in the current language: tonnes from 1,000 kg, else kilograms (4 significant digits).

    Parameters
    ----------
    kg : float
        The mass in kilograms.

    Returns
    -------
    str
        E.g. ``"10 t"`` (Russian ``"10 т"``) or ``"500 kg"``.

    Examples
    --------
    >>> mass_text(10_000.0), mass_text(500.0)
    ('10 t', '500 kg')
    """
    if kg >= 1000:
        return _("{value} t").format(value=_loc(f"{kg / 1000:,.4g}"))
    return _("{value} kg").format(value=_loc(f"{kg:,.4g}"))


def decimal_text(v: Any) -> str:
    """A number with one decimal and grouped thousands in the current language; "unknown" when missing.

    The hours and river km of the scenario cards and the exercise packs.

    Parameters
    ----------
    v : object
        A number, None or NaN.

    Returns
    -------
    str
        E.g. ``"1,234.6"`` (Russian ``"1 234,6"``), or the word for unknown.

    Examples
    --------
    >>> decimal_text(1234.56), decimal_text(float("nan"))
    ('1,234.6', 'unknown')
    """
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return _unknown()
    return _loc(f"{v:,.1f}")


def _mg(v: Any) -> str:
    return _unknown() if v is None or pd.isna(v) else _loc(f"{v:.3g}")


def _population(v: Any) -> str:
    return _unknown() if pd.isna(v) else _loc(f"{v:,.0f}")


def _discharge_label(which: Any) -> str:
    """The discharge case of the spill run (``mean``/``low``) in the current language."""
    labels = {"mean": pgettext("discharge case", "mean"), "low": pgettext("discharge case", "low")}
    return labels.get(str(which), str(which))


def date_time_text(when: Any, suffix: str = "") -> str:
    """A date and time as written in the documents, in the current language.

    English ``2027-05-12 06:00`` (as before); Russian ``12 мая 2027 г., 06:00``
    (:func:`riskmap.i18n.format_date`).

    Examples
    --------
    >>> import datetime as dt
    >>> from riskmap.i18n import use_lang
    >>> date_time_text(dt.datetime(2027, 5, 12, 6, 0))
    '2027-05-12 06:00'
    >>> with use_lang("ru"):
    ...     date_time_text(dt.datetime(2027, 5, 12, 6, 0), " UTC") == "12 мая 2027\u202fг., 06:00 UTC"
    True
    """
    from riskmap.i18n import format_date

    if current_lang() == "en":
        return when.strftime("%Y-%m-%d %H:%M") + suffix
    return f"{format_date(when)}, {when:%H:%M}{suffix}"


def _kosovo_note(codes: Any) -> str:
    """The Kosovo footnote when Kosovo* is named in a document ("" otherwise)."""
    from riskmap._iso3 import kosovo_note

    return kosovo_note() if "XKX" in set(codes) else ""
