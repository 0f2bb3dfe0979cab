"""Output language: gettext catalogues (Babel), number and date formats, country names.

English is the source language; every user-facing string is written in English
in the code, marked with :func:`_` (or :func:`N_` where it is stored before it
is shown), and translated from the gettext catalogues in ``riskmap/locale``.
Russian is the second language (``lang="ru"``). The catalogues are plain ``.po``
files, one per gettext domain (``common``, ``maps``, ``report``, ``report_text``,
``contingency``, ``exercise``, ``questionnaire``, ``spill``, ``cli``); they are compiled in memory when first used, so a
checkout and a wheel read the same files. ``python -m riskmap._i18n_catalog``
re-extracts the messages and updates the catalogues.

The output language is a context (:func:`use_lang`), set once by the command
or API function that writes a document; everything beneath it (labels, numbers,
dates, country names) follows it. It is a :mod:`contextvars` variable, so
threads and notebooks each keep their own.

Only what riskmap writes is translated. Data are never translated: site names,
notes and every field read from a file stay as they are, and the schema keeps
the original names; country names and (where a source gives one) town names are
shown in the output language.

Examples
--------
>>> from riskmap.i18n import _, use_lang, format_number, country_name
>>> _("unknown")
'unknown'
>>> with use_lang("ru"):
...     _("unknown"), format_number(12345.678, 1), country_name("KGZ")
('неизвестно', '12\xa0345,7', 'Кыргызстан')
>>> format_number(12345.678, 1)
'12,345.7'
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import functools
import io
import math
from collections.abc import Iterator
from importlib import resources
from typing import Any

from riskmap._errors import RiskmapInputError

__all__ = [
    "LANGUAGES", "DEFAULT_LANG", "DOMAINS", "check_lang", "use_lang", "current_lang",
    "_", "N_", "gettext", "ngettext", "pgettext", "format_number", "format_int", "format_percent",
    "format_date", "parse_number", "country_name", "country_label", "town_name", "language_name", "translations",
]

#: Output languages: English (the source language) and Russian.
LANGUAGES: tuple[str, ...] = ("en", "ru")
#: The language used when none is given.
DEFAULT_LANG = "en"
#: The gettext domains, one ``.po`` file each in ``riskmap/locale/<lang>/LC_MESSAGES``.
DOMAINS: tuple[str, ...] = ("common", "maps", "report", "report_text", "contingency", "exercise",
                             "questionnaire", "spill", "cli")

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("riskmap_lang", default=DEFAULT_LANG)

#: Country short names where the UN terminology (UNTERM, the name used in UNECE documents in
#: Russian) differs from CLDR. CLDR's Russian "Киргизия" is not the name the Kyrgyz Republic
#: uses in Russian, nor the UN's; UNTERM and the Constitution of the Kyrgyz Republic give
#: "Кыргызстан". Kosovo has no ISO code: XKX, as the EU and the World Bank use.
_UNTERM_NAMES: dict[str, dict[str, str]] = {
    "ru": {"KGZ": "Кыргызстан", "MKD": "Северная Македония", "XKX": "Косово"},
    "en": {"XKX": "Kosovo", "MKD": "North Macedonia"},
}


def check_lang(lang: str | None) -> str:
    """Return ``lang`` as a supported language code, or raise a clear error.

    ``None`` means the current language (see :func:`use_lang`).

    Examples
    --------
    >>> check_lang("RU")
    'ru'
    >>> check_lang(None)
    'en'
    >>> check_lang("fr")
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: unknown language 'fr': riskmap writes en (English) or ru (Russian)
    """
    if lang is None:
        return _LANG.get()
    code = str(lang).strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise RiskmapInputError(f"unknown language {lang!r}: riskmap writes en (English) or ru (Russian)")
    return code


@contextlib.contextmanager
def use_lang(lang: str | None) -> Iterator[str]:
    """Write everything inside the ``with`` block in ``lang`` (``None`` keeps the current one).

    Examples
    --------
    >>> with use_lang("ru"):
    ...     current_lang()
    'ru'
    >>> current_lang()
    'en'
    """
    code = check_lang(lang)
    token = _LANG.set(code)
    try:
        yield code
    finally:
        _LANG.reset(token)


def current_lang() -> str:
    """The language in effect (``"en"`` outside any :func:`use_lang` block)."""
    return _LANG.get()


@functools.cache
def translations(lang: str) -> Any:
    """The merged gettext translations of every domain for ``lang`` (a ``babel.support.Translations``).

    The ``.po`` files are compiled in memory (fuzzy entries are left out, as
    ``msgfmt`` does); English has no catalogue and returns the messages as written.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    lang = check_lang(lang)
    if lang == DEFAULT_LANG:
        return NullTranslations()
    merged: Any = None
    base = resources.files("riskmap") / "locale" / lang / "LC_MESSAGES"
    for domain in DOMAINS:
        po = base / f"{domain}.po"
        if not po.is_file():
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=domain)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        buf.seek(0)
        t = Translations(buf, domain=domain)
        if merged is None:
            merged = t
        else:
            merged.merge(t)  # one lookup table; the tests require one translation per message
    return merged if merged is not None else NullTranslations()


def gettext(message: str) -> str:
    """``message`` in the current language (itself if the catalogue has no translation)."""
    if _LANG.get() == DEFAULT_LANG:
        return message
    return str(translations(_LANG.get()).gettext(message))


#: The usual gettext alias; ``_("text")`` is what the message extractor looks for.
_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for the catalogue without translating it now (translate with ``_`` when shown).

    Examples
    --------
    >>> N_("Operating")
    'Operating'
    """
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` (Russian has three forms: 1 объект, 2 объекта, 5 объектов).

    Examples
    --------
    >>> ngettext("%(n)s site", "%(n)s sites", 2) % {"n": 2}
    '2 sites'
    """
    if _LANG.get() == DEFAULT_LANG:
        return singular if n == 1 else plural
    return str(translations(_LANG.get()).ngettext(singular, plural, n))


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, disambiguated by ``context`` (``msgctxt``)."""
    if _LANG.get() == DEFAULT_LANG:
        return message
    return str(translations(_LANG.get()).pgettext(context, message))


#: The text of a missing value ("unknown", never zero).
UNKNOWN = N_("unknown")


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def format_number(x: Any, digits: int = 0, *, group: bool = True, missing: str = UNKNOWN) -> str:
    """``x`` with ``digits`` decimals in the current language's format; missing values are ``missing``.

    English: ``12,345.7``; Russian: ``12 345,7`` (no-break space, decimal comma).

    Examples
    --------
    >>> format_number(0.5, 2), format_number(None), format_number(1234567)
    ('0.50', 'unknown', '1,234,567')
    >>> with use_lang("ru"):
    ...     format_number(0.5, 2), format_number(None), format_number(-1234.5, 1, group=False)
    ('0,50', 'неизвестно', '-1234,5')
    >>> with use_lang("ru"):
    ...     format_number(1234567)
    '1\xa0234\xa0567'
    """
    from babel.numbers import format_decimal

    if _missing(x):
        return gettext(missing)
    pattern = ("#,##0" if group else "0") + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(float(x), format=pattern, locale=_LANG.get(), decimal_quantization=True))


def format_int(x: Any, missing: str = UNKNOWN) -> str:
    """A whole number with thousands separators (``12,345`` / ``12 345``)."""
    return format_number(x, 0, missing=missing)


def format_percent(x: Any, digits: int = 0, missing: str = UNKNOWN) -> str:
    """A fraction as a percentage (``0.953`` -> ``95.3 %``; Russian ``95,3 %``).

    Examples
    --------
    >>> format_percent(0.953, 1) == "95.3\u00a0%"  # a no-break space before the sign
    True
    """
    if _missing(x):
        return gettext(missing)
    return format_number(float(x) * 100.0, digits) + "\u00a0%"


def format_date(d: Any, fmt: str = "long") -> str:
    """A date in the current language (``27 November 2026`` / ``27 ноября 2026 г.``).

    Accepts a ``date``, ``datetime`` or ISO text; ``fmt`` is a Babel/CLDR width
    (``"short"``, ``"medium"``, ``"long"``).

    Examples
    --------
    >>> format_date("2026-11-27")
    '27 November 2026'
    >>> with use_lang("ru"):
    ...     format_date("2026-11-27") == "27 ноября 2026\u202fг."
    True
    """
    from babel.dates import format_date as _fd

    if isinstance(d, str):
        d = _dt.date.fromisoformat(d[:10])
    if isinstance(d, _dt.datetime):
        d = d.date()
    if _LANG.get() == "en" and fmt == "long":
        return f"{d.day} {d.strftime('%B')} {d.year}"  # the international (UN) order, not "November 27"
    return str(_fd(d, format=fmt, locale=_LANG.get()))


def parse_number(text: Any, lang: str | None = None) -> float:
    """A number written in either language (``"1 234,5"``, ``"1,234.5"``, ``"0,7"``) as a float.

    A single comma followed by other than exactly three digits is a decimal comma;
    spaces (also no-break and thin spaces) and apostrophes group thousands.
    Raises ``ValueError`` when the text is not a number.

    Examples
    --------
    >>> parse_number("1 234,5"), parse_number("1,234.5"), parse_number("0,7"), parse_number("12")
    (1234.5, 1234.5, 0.7, 12.0)
    >>> parse_number("1,234", lang="ru"), parse_number("1,234", lang="en")
    (1.234, 1234.0)
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip()
    for sp in (" ", "\u00a0", "\u202f", "\u2009", "'", "\u2019"):
        s = s.replace(sp, "")
    if "," in s and "." in s:
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
    elif s.count(",") == 1:
        head, tail = s.split(",")
        thousands = len(tail) == 3 and check_lang(lang) == "en"
        s = head + tail if thousands else head + "." + tail
    elif s.count(",") > 1:
        s = s.replace(",", "")
    if not s or s.lower() in {"nan", "inf", "-inf", "+inf", "infinity"}:
        raise ValueError(f"not a number: {text!r}")
    return float(s)


@functools.cache
def _alpha2(iso3: str) -> str | None:
    import pycountry

    rec = pycountry.countries.get(alpha_3=iso3)
    return rec.alpha_2 if rec is not None else None


def country_name(code: Any, lang: str | None = None) -> str | None:
    """Short name of an ISO 3166-1 alpha-3 code in ``lang`` (the current language by default).

    Names come from CLDR (via Babel), except where the UN terminology differs
    (UNTERM: Кыргызстан). Kosovo (``XKX``) is returned without the asterisk;
    the callers that show it add the footnote. Unknown codes are returned as given.

    Examples
    --------
    >>> country_name("BIH"), country_name("BIH", "ru"), country_name("MKD", "ru")
    ('Bosnia and Herzegovina', 'Босния и Герцеговина', 'Северная Македония')
    >>> country_name("XKX", "ru"), country_name("UZB", "ru"), country_name("Atlantis", "ru")
    ('Косово', 'Узбекистан', 'Atlantis')
    """
    if _missing(code) or str(code).strip() == "":
        return None
    code = str(code).strip().upper() if len(str(code).strip()) == 3 else str(code).strip()
    lang = check_lang(lang)
    fixed = _UNTERM_NAMES.get(lang, {}).get(code)
    if fixed:
        return fixed
    if lang == "en":
        from riskmap._iso3 import ISO3_NAMES

        return ISO3_NAMES.get(code, code)
    a2 = _alpha2(code) if len(code) == 3 else None
    if a2 is None:
        return code
    from babel import Locale

    return str(Locale.parse(lang).territories.get(a2, code))


def country_label(code: Any) -> str:
    """A country for readers: an ISO3 code or a ``"BIH|SRB"`` border pair in the current language.

    Kosovo gets its asterisk (the footnote goes with the document); a missing code
    (None, NaN, blank, ``"unknown"``, ``"nan"``, ``"none"``) is "unknown". The one
    helper of the report's text and the contingency documents.

    Examples
    --------
    >>> country_label("XKX"), country_label("BIH|SRB"), country_label(None)
    ('Kosovo*', 'Bosnia and Herzegovina / Serbia (border)', 'unknown')
    >>> with use_lang("ru"):
    ...     country_label("KGZ|UZB"), country_label("XKX"), country_label("unknown")
    ('Кыргызстан / Узбекистан (граница)', 'Косово*', 'неизвестно')
    """
    if _missing(code) or str(code).strip().lower() in ("", "unknown", "nan", "none"):
        return gettext(UNKNOWN)
    code = str(code)
    if "|" in code:
        return gettext("{countries} (border)").format(countries=" / ".join(country_label(c) for c in code.split("|")))
    name = country_name(code) or code
    return f"{name}*" if code == "XKX" else name


def language_name(lang: str) -> str:
    """The name of a language in that language (``English``, ``Русский``), for a language switch.

    Examples
    --------
    >>> language_name("ru")
    'Русский'
    """
    from babel import Locale

    return str(Locale.parse(check_lang(lang)).get_display_name(check_lang(lang))).capitalize()


#: Town names in other languages, from a cited source, in ``data/sites`` (``riskmap data build-sites`` writes it).
TOWN_NAMES_FILE = "town_names.csv"


@functools.cache
def _town_names() -> dict[tuple[str, str], dict[str, str]]:
    import csv

    from riskmap._paths import DATA_DIR

    path = DATA_DIR / "sites" / TOWN_NAMES_FILE
    if not path.is_file():
        return {}
    out: dict[tuple[str, str], dict[str, str]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["country"], row["name"].casefold())
            out.setdefault(key, {}).update({k[5:]: v for k, v in row.items() if k.startswith("name_") and v})
    return out


def town_name(name: Any, country: Any = None, lang: str | None = None) -> Any:
    """A town's name in ``lang`` where a cited source gives one, else the name as given.

    The Russian names are Natural Earth's ``NAME_RU`` (populated places), matched
    to the towns riskmap uses (Natural Earth and GeoNames) by country and name;
    see ``data/sites/town_names.csv`` and ``data/sites/SOURCES.md``. Without a match the
    original name is kept (a transliteration would be invented, not sourced).
    ``country`` is the ISO3 code; it may be omitted when the name is unambiguous.

    Examples
    --------
    >>> town_name("Shkodër", "ALB"), town_name("Shkodër", "ALB", "ru"), town_name("Banja Luka", lang="ru")
    ('Shkodër', 'Шкодер', 'Баня-Лука')
    >>> town_name("A town nobody named", "ALB", "ru")
    'A town nobody named'
    """
    if _missing(name):
        return name
    lang = check_lang(lang)
    if lang == DEFAULT_LANG:
        return name
    names = _town_names()
    key = str(name).strip().casefold()
    if country is not None and not _missing(country):
        hit = names.get((str(country).strip().upper(), key))
    else:
        hits = [v for (c, n), v in names.items() if n == key]
        hit = hits[0] if len(hits) == 1 else None
    return hit.get(lang, name) if hit else name
