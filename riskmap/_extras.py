"""Optional features and the ``pip install 'riskmap[EXTRA]'`` that enables each.

A plain ``pip install riskmap`` stays lean: GeoParquet support (``pyarrow``)
and browser-printed PDF reports (``playwright``) are extras. When one of these
features is asked for without its package, riskmap raises a
:class:`MissingExtraError` naming the extra to install, instead of an
``ImportError`` traceback.
"""

from __future__ import annotations

import importlib

from riskmap._errors import RiskmapInputError

#: module -> (extra, feature that needs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "pyarrow": ("parquet", "GeoParquet (.parquet) files"),
    "playwright": ("pdf", "PDF reports (printed with headless Chromium)"),
}


class MissingExtraError(RiskmapInputError):
    """An optional feature was asked for but its optional package is not installed."""


def available(module: str) -> bool:
    """Whether the optional ``module`` can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def missing_message(module: str) -> str:
    """The message for a missing optional package, naming the extra to install.

    Examples
    --------
    >>> missing_message("pyarrow")
    "GeoParquet (.parquet) files need the optional package 'pyarrow': pip install 'riskmap[parquet]'"
    """
    extra, feature = EXTRAS[module]
    return f"{feature} need the optional package '{module}': pip install 'riskmap[{extra}]'"


def require(module: str, context: str = "") -> None:
    """Raise :class:`MissingExtraError` unless the optional ``module`` is installed.

    Parameters
    ----------
    module : str
        A key of :data:`EXTRAS`.
    context : str, optional
        Prefix for the message, e.g. the file being read (``"out.parquet: "``).
    """
    if not available(module):
        raise MissingExtraError(f"{context}{missing_message(module)}")
