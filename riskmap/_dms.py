"""Coordinates written in degrees, minutes and seconds (``42°0'36"N``), for the validation's fix.

riskmap reads decimal degrees only; a coordinate in degrees-minutes-seconds is
refused, and the report's fix gives the decimal value to write instead.
"""

from __future__ import annotations

import re

__all__ = ["dms_to_decimal"]

_NUM = r"\d+(?:[.,]\d+)?"
_DMS = re.compile(
    rf"""^\s*(?P<h1>[NSEW])?\s*
    (?P<d>{_NUM})\s*(?:°|º|˚|deg|d|:|\s)\s*
    (?:(?P<m>{_NUM})\s*(?:'|′|’|min|m|:|\s)?\s*)?
    (?:(?P<s>{_NUM})\s*(?:"|″|”|''|sec|s)?\s*)?
    (?P<h2>[NSEW])?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _num(text: str | None) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def dms_to_decimal(text: str) -> float | None:
    """Decimal degrees of a degrees-minutes-seconds coordinate, or None when ``text`` is not one.

    S and W give negative values; degrees must be at most 180, minutes and seconds below 60.

    Examples
    --------
    >>> round(dms_to_decimal("19°37'29\\"E"), 4)
    19.6247
    >>> dms_to_decimal("42°0'36\\"N")
    42.01
    >>> dms_to_decimal("S 12 30")
    -12.5
    >>> dms_to_decimal("abc") is None, dms_to_decimal("19°75'") is None, dms_to_decimal("1506 43") is None
    (True, True, True)
    """
    m = _DMS.match(str(text))
    if not m or (m["h1"] and m["h2"]):
        return None
    deg, mins, secs = _num(m["d"]), _num(m["m"]), _num(m["s"])
    if deg > 180 or mins >= 60 or secs >= 60 or (m["s"] and not m["m"]):
        return None
    value = deg + mins / 60 + secs / 3600
    hemi = (m["h1"] or m["h2"] or "").upper()
    return round(-value if hemi in ("S", "W") else value, 6)
