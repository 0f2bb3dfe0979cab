"""Terminal-safe text: user text (site names, notes, file contents) never drives the terminal.

Every console output of riskmap that can hold user text (``spill``,
``sites summary``, ``assess``, ``score``, ``demo`` progress, ``validate``
messages quoting values, error messages) goes through :func:`console_text`.
C0 and C1 control characters (ESC and so ANSI/OSC escape sequences, BEL,
backspace, carriage return, ...), DEL and the Unicode bidirectional
controls are shown as visible escapes (``\\x1b``, ``\\u202e``) instead of
being sent raw, so a site named ``"\\x1b[2J"`` cannot clear the screen,
retitle the window or reorder the text around it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["console_text"]

#: C0 controls except newline (kept only in multi-line mode), DEL, C1 controls, bidi controls.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def console_text(value: Any, *, multiline: bool = False) -> str:
    """Return ``str(value)`` with every terminal control character shown as a visible escape.

    Parameters
    ----------
    value : Any
        Text to print (converted with ``str``).
    multiline : bool
        Keep line feeds (messages of several lines); by default they are
        escaped too, so one value stays on one line.

    Examples
    --------
    >>> console_text("Trep\\u00e7a\\x1b[2J")
    'Trepça\\\\x1b[2J'
    >>> console_text("a\\nb"), console_text("a\\nb", multiline=True)
    ('a\\\\x0ab', 'a\\nb')
    """
    text = value if isinstance(value, str) else str(value)
    return (_UNSAFE if multiline else _UNSAFE_ONE_LINE).sub(_visible, text)
