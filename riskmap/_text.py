"""Text helpers shared by the inventory build and the questionnaire: transliteration and slugs."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["transliterate", "slug"]

# Serbian/Macedonian/Russian/Kyrgyz/Kazakh/Uzbek Cyrillic -> Latin.
_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "ѓ": "gj", "е": "e", "ё": "e",
    "є": "e", "ж": "zh", "з": "z", "ѕ": "dz", "и": "i", "і": "i", "ї": "i", "й": "y", "ј": "j", "к": "k",
    "ќ": "kj", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "ң": "ng", "о": "o", "ө": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ў": "u", "ү": "u", "ұ": "u", "ф": "f", "х": "h",
    "һ": "h", "ҳ": "h", "қ": "q", "ғ": "g", "ә": "a", "ц": "c", "ч": "ch", "џ": "dz", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
# Latin letters that Unicode does not decompose into base + accent.
_LATIN = {"đ": "dj", "ð": "d", "ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"}


def transliterate(text: str) -> str:
    """Latin transliteration without diacritics, preserving case.

    Cyrillic is transliterated (ш -> sh, ђ -> dj, љ -> lj), Latin accents are
    stripped (č -> c, ë -> e) and letters without a decomposition are mapped
    (đ -> dj, ł -> l).

    Examples
    --------
    >>> transliterate("Пљевља")
    'Pljevlja'
    >>> transliterate("Višegrad, Đurđevac, Vau i Dejës")
    'Visegrad, Djurdjevac, Vau i Dejes'
    """
    out = []
    for ch in str(text):
        low = ch.lower()
        rep = _CYR.get(low, _LATIN.get(low))
        if rep is None:
            out.append(ch)
        elif ch != low and rep:
            out.append(rep[0].upper() + rep[1:])
        else:
            out.append(rep)
    s = unicodedata.normalize("NFKD", "".join(out))
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def slug(text: str, maxlen: int = 48) -> str:
    """ASCII slug for ids: ``'Višegrad dam (Drina)'`` -> ``'visegrad-dam-drina'``."""
    s = re.sub(r"[^a-z0-9]+", "-", transliterate(text).lower()).strip("-")
    return s[:maxlen].rstrip("-")


def is_missing(v: object) -> bool:
    """True for None, pandas NA/NaT, a float NaN or a blank string (a cell with no value).

    Examples
    --------
    >>> [is_missing(x) for x in (None, float("nan"), " ", "x", 0)]
    [True, True, True, False, False]
    """
    import math

    import pandas as pd

    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()
