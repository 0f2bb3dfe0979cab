"""The text encoding of a Shapefile that does not state it (no ``.cpg`` file, no code page in the ``.dbf``).

GDAL then reads the ``.dbf`` as ISO-8859-1, and Cyrillic written in CP1251
("Бајина Башта") comes out as "Áà¼èíà Áàøòà" without a word. riskmap
re-reads such a file as UTF-8 when every text value is valid UTF-8 (a
modern tool that left out the ``.cpg``), and otherwise warns, naming the
column and asking for the ``.cpg`` file. Files with a ``.cpg`` or a code
page are read as they say.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap._errors import RiskmapDataWarning, RiskmapInputError
from riskmap.i18n import _
from riskmap.schema import ValidationReport

__all__ = ["missing_parts", "require_parts", "undeclared_encoding", "shapefile_text_check"]

#: Byte offset of the language driver id (code page) in a dBASE header.
_LDID_OFFSET = 29


def _sibling(path: Path, suffix: str) -> Path | None:
    """The component file of a Shapefile with ``suffix`` in any case, or None."""
    stem = path.name[: -len(path.suffix)]
    try:  # names compared, not globbed: a '[' or '*' in the file name is a character, not a pattern
        found = [e for e in path.parent.iterdir() if e.name[: -len(e.suffix) or None] == stem]
    except OSError:
        return None
    return next((e for e in sorted(found) if e.suffix.lower() == suffix), None)


def missing_parts(path: Path) -> list[str]:
    """The required component files (``.shx``, ``.dbf``) missing beside the Shapefile ``path``.

    Examples
    --------
    >>> missing_parts(Path("/nonexistent/sites.shp"))
    ['.shx', '.dbf']
    """
    return [s for s in (".shx", ".dbf") if _sibling(path, s) is None]


def require_parts(path: Path) -> None:
    """Refuse a Shapefile whose ``.shx`` or ``.dbf`` is missing (:class:`RiskmapInputError` naming them)."""
    missing = missing_parts(path)
    if missing:
        raise RiskmapInputError(_(
            "{path}: the Shapefile's {parts} file(s) are missing beside it (the .dbf holds the columns, the .shx "
            "the index); copy every file of the Shapefile ({stem}.shp, .shx, .dbf, .prj, .cpg) into one folder"
        ).format(path=path, parts=", ".join(missing), stem=path.stem))


def undeclared_encoding(path: Path) -> bool:
    """True when the Shapefile ``path`` has no ``.cpg`` file and its ``.dbf`` names no code page."""
    if _sibling(path, ".cpg") is not None:
        return False
    dbf = _sibling(path, ".dbf")
    if dbf is None:
        return False
    with open(dbf, "rb") as fh:
        head = fh.read(_LDID_OFFSET + 1)
    return len(head) > _LDID_OFFSET and head[_LDID_OFFSET] == 0


def _non_ascii(df: pd.DataFrame) -> dict[str, list[str]]:
    """Text values with non-ASCII characters, by column."""
    out: dict[str, list[str]] = {}
    for c in df.columns:
        if c == getattr(df, "_geometry_column_name", None):
            continue
        vals = [v for v in df[c].tolist() if isinstance(v, str) and not v.isascii()]
        if vals:
            out[str(c)] = vals
    return out


def _utf8(values: list[str]) -> bool:
    """True when every value, read as ISO-8859-1, is really UTF-8 bytes."""
    try:
        for v in values:
            v.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def shapefile_text_check(path: Path, df: pd.DataFrame, report: ValidationReport, reread: Any) -> pd.DataFrame:
    """``df`` read from a Shapefile without a stated encoding: re-read as UTF-8, or warn.

    ``reread(encoding)`` reads the file again with that encoding.
    """
    if not undeclared_encoding(path):
        return df
    texts = _non_ascii(df)
    if not texts:
        return df
    if all(_utf8(v) for v in texts.values()):
        return reread("UTF-8")
    column, values = next(iter(texts.items()))
    reason = _("the Shapefile states no text encoding (no .cpg file); its text was read as ISO-8859-1 and may "
               "be garbled, e.g. {value}").format(value=repr(values[0][:40]))
    fix = _("add a file {cpg} holding the encoding's name, e.g. CP1251 (Cyrillic) or CP1250 (Central European "
            "Latin), and read the file again").format(cpg=path.with_suffix(".cpg").name)
    report.add(None, column, reason, fix, "warning")
    warnings.warn(f"{path}: {reason}; {fix}", RiskmapDataWarning, stacklevel=6)
    return df
