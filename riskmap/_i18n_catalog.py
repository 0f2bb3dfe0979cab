"""Maintain the gettext catalogues: extract the messages, update the ``.po`` files, check them.

Run ``python -m riskmap._i18n_catalog update`` after changing a user-facing
string (``make i18n`` does the same); new messages appear in the Russian ``.po``
files with an empty translation, which ``python -m riskmap._i18n_catalog check``
(and the test suite) reports until a translator fills it in.

Which file belongs to which domain is :data:`DOMAIN_FILES` (first match wins;
everything else is ``common``). Python files are searched for ``_``, ``N_``,
``gettext``, ``ngettext`` and ``pgettext``; Jinja templates for ``_``/``gettext``
and ``{% trans %}``; the map's JavaScript for ``t("...")``.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from riskmap.i18n import DOMAINS, LANGUAGES

__all__ = ["DOMAIN_FILES", "domain_of", "extract", "update", "problems", "main"]

_PKG = Path(__file__).resolve().parent
_LOCALE = _PKG / "locale"

#: Domain of each source file, by glob relative to the package (first match wins; default ``common``).
DOMAIN_FILES: tuple[tuple[str, str], ...] = (
    ("map_*.py", "maps"),
    ("maps.py", "maps"),
    ("assets/riskmap/*.js", "maps"),
    ("report_sections.py", "report_text"),
    ("report_values.py", "report_text"),
    ("report_sources.py", "report_text"),
    ("report_tables.py", "report_text"),
    ("report_quality.py", "report_text"),
    ("report_ranking.py", "report_text"),
    ("report_prose.py", "report_text"),
    ("report*.py", "report"),
    ("templates/report*.j2", "report"),
    ("contingency*.py", "contingency"),
    ("exercise.py", "exercise"),
    ("templates/contingency_exercise*.j2", "exercise"),
    ("templates/contingency*.j2", "contingency"),
    ("questionnaire/*.py", "questionnaire"),
    ("spill*.py", "spill"),
    ("cli/*.py", "cli"),
    ("_cli_basin.py", "cli"),
    ("_console.py", "cli"),
)

_PY_KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def domain_of(rel: str) -> str:
    """The gettext domain of a package file (path relative to ``riskmap/``).

    Examples
    --------
    >>> domain_of("map_layers.py"), domain_of("templates/report.html.j2"), domain_of("hazard.py")
    ('maps', 'report', 'common')
    """
    for pattern, domain in DOMAIN_FILES:
        if fnmatch.fnmatch(rel, pattern):
            return domain
    return "common"


def _sources() -> Iterable[tuple[Path, str, str]]:
    for path in sorted(_PKG.rglob("*")):
        rel = path.relative_to(_PKG).as_posix()
        if rel.startswith(("_data/", "databuild/", "locale/")) or "__pycache__" in rel:
            continue  # data building writes files for maintainers, in English
        if rel == "_i18n_catalog.py":
            continue
        if path.suffix == ".py":
            yield path, rel, "python"
        elif path.suffix == ".j2":
            yield path, rel, "jinja2.ext:babel_extract"
        elif path.suffix == ".js" and rel.startswith("assets/riskmap/"):
            yield path, rel, "javascript"


def extract() -> dict[str, Any]:
    """Extract every marked message, as one ``babel.messages.Catalog`` template per domain."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    cats = {d: Catalog(project="riskmap", domain=d, charset="utf-8") for d in DOMAINS}
    for path, rel, method in _sources():
        keywords: dict[str, Any] = _PY_KEYWORDS if method == "python" else {"_": None, "gettext": None,
                                                                          "ngettext": (1, 2), "t": None}
        options = {"extensions": "jinja2.ext.i18n", "trimmed": "true"} if method.startswith("jinja2") else {}
        for lineno, msg, comments, context in extract_from_file(method, str(path), keywords=keywords,
                                                               options=options, strip_comment_tags=True):
            cats[domain_of(rel)].add(msg, locations=[(rel, lineno)], auto_comments=comments, context=context)
    return cats


def _po_path(lang: str, domain: str) -> Path:
    return _LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"


def _stable_header(cat: Any, lang: str, domain: str) -> None:
    """Fixed header fields, so that re-running ``update`` changes nothing unless a message did."""
    import datetime as dt

    from riskmap._about import __version__

    fixed = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    cat.header_comment = (f"# riskmap: {lang} translations, gettext domain {domain!r}.\n"
                          "# Terminology: riskmap/locale/glossary.csv (one term, one translation).\n"
                          "# Update with: python -m riskmap._i18n_catalog update")
    cat.project, cat.version = "riskmap", __version__.split("+")[0]
    cat.msgid_bugs_address = ""
    cat.last_translator = "riskmap developers"
    cat.language_team = f"{lang} (riskmap)"
    cat.creation_date = cat.revision_date = fixed
    cat.fuzzy = False


def update(langs: Iterable[str] = LANGUAGES[1:]) -> dict[str, int]:
    """Re-extract and update each language's ``.po`` files in place; returns new messages per file.

    Existing translations are kept; messages no longer in the code are dropped
    (not kept as obsolete entries: the catalogue is the code's, not an archive).
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    from riskmap.io.atomic import atomic_path

    templates = extract()
    added: dict[str, int] = {}
    for lang in langs:
        for domain, tmpl in templates.items():
            path = _po_path(lang, domain)
            if path.is_file():
                with path.open("rb") as fh:
                    cat = read_po(fh, locale=lang, domain=domain)
            else:
                cat = Catalog(locale=lang, domain=domain, project="riskmap", charset="utf-8")
            before = {m.id for m in cat if m.id}
            cat.update(tmpl, no_fuzzy_matching=True)
            cat.obsolete.clear()
            _stable_header(cat, lang, domain)
            added[f"{lang}/{domain}"] = sum(1 for m in cat if m.id and m.id not in before)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                write_po(fh, cat, width=100, sort_output=True, include_lineno=False, omit_header=False)
    return added


def problems(lang: str = "ru") -> list[str]:
    """Every message of the code without a usable ``lang`` translation, and every inconsistency.

    Reported: messages missing from the catalogue, empty or fuzzy translations,
    ``%(name)s``/``{name}`` placeholders that differ between source and
    translation, and a message translated differently in two domains.
    """
    import re

    from babel.messages.pofile import read_po

    out: list[str] = []
    seen: dict[Any, tuple[str, Any]] = {}
    ph = re.compile(r"%\([a-z_0-9]+\)[sdfr]|%[sd]|\{[a-z_0-9]*(?::[^}]*)?\}")
    for domain, tmpl in extract().items():
        path = _po_path(lang, domain)
        cat = None
        if path.is_file():
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang, domain=domain)
        for msg in tmpl:
            if not msg.id:
                continue
            where = f"{msg.locations[0][0]}:{msg.locations[0][1]}" if msg.locations else "?"
            tr = cat.get(msg.id, msg.context) if cat is not None else None
            label = msg.id if isinstance(msg.id, str) else msg.id[0]
            if tr is None:
                out.append(f"{lang}/{domain}.po: missing {label!r} ({where})")
                continue
            strings = tr.string if isinstance(tr.string, (list, tuple)) else [tr.string]
            if not all(strings) or tr.fuzzy:
                out.append(f"{lang}/{domain}.po: {'fuzzy' if tr.fuzzy else 'untranslated'} {label!r} ({where})")
                continue
            src = sorted(ph.findall(label))
            for s in strings:
                got = ph.findall(s or "")
                plural_ok = isinstance(msg.id, tuple) and set(got) <= set(src)  # "один объект" needs no %(n)s
                if sorted(got) != src and not plural_ok:
                    out.append(f"{lang}/{domain}.po: placeholders differ in {label!r}: {s!r}")
            key = (msg.id, msg.context)
            if key in seen and seen[key][1] != tr.string:
                out.append(f"{lang}: {label!r} is translated differently in {seen[key][0]} and {domain}")
            seen.setdefault(key, (domain, tr.string))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m riskmap._i18n_catalog update|check``."""
    args = sys.argv[1:] if argv is None else argv
    cmd = args[0] if args else "check"
    if cmd == "update":
        for k, n in update().items():
            if n:
                print(f"{k}.po: {n} new message(s) to translate")
        cmd = "check"
    if cmd == "check":
        found = problems()
        for p in found:
            print(p)
        print(f"{len(found)} problem(s)")
        return 1 if found else 0
    print("usage: python -m riskmap._i18n_catalog update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
