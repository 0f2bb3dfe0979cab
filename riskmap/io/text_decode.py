"""The text of a CSV file: UTF-8 (with or without BOM) or UTF-16 with its BOM; anything else refused clearly.

Excel's "Unicode Text" and several database exports write UTF-16 with a byte
order mark; riskmap reads those. UTF-16 without a BOM is recognised by its
zero bytes and refused with a message that says so (it was "contains NUL
bytes; it is not a text CSV"). Other encodings (CP1251, CP1250 ...) are
refused with the line and byte where UTF-8 decoding stopped.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _

__all__ = ["decode_csv_bytes"]


def _looks_utf16(raw: bytes) -> bool:
    """True when zero bytes sit at every other position (ASCII text in UTF-16 without a BOM)."""
    head = raw[:4000]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.3


def decode_csv_bytes(raw: bytes, path: Path) -> str:
    """The text of ``raw`` (the bytes of the CSV file ``path``).

    Raises
    ------
    RiskmapInputError
        The file is not UTF-8 or UTF-16 with a BOM, or holds NUL characters.

    Examples
    --------
    >>> decode_csv_bytes("site_id\\tname\\n".encode("utf-16"), Path("x.txt"))
    'site_id\\tname\\n'
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise RiskmapInputError(_("{path}: the file starts as UTF-16 but is not valid UTF-16 ({error}); "
                                      "save it as UTF-8 (in Excel: 'CSV UTF-8')").format(path=path, error=e.reason)
                                    ) from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            if _looks_utf16(raw):
                raise _utf16_without_bom(path) from None
            line = raw[: e.start].count(b"\n") + 1
            raise RiskmapInputError(
                _("{path}: line {line}: the file is not UTF-8 (byte {byte} at offset {offset}); save it as UTF-8 "
                  "(in Excel: 'CSV UTF-8')").format(path=path, line=line, byte=f"0x{raw[e.start]:02x}",
                                                     offset=e.start)) from None
    if "\x00" in text:
        if _looks_utf16(raw):
            raise _utf16_without_bom(path)
        raise RiskmapInputError(_("{path}: the file contains NUL bytes; it is not a text CSV").format(path=path))
    return text


def _utf16_without_bom(path: Path) -> RiskmapInputError:
    return RiskmapInputError(_("{path}: the file looks like UTF-16 text without a byte order mark; save it as "
                               "UTF-8 (in Excel: 'CSV UTF-8')").format(path=path))
