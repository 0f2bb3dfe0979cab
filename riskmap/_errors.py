"""Error types raised by riskmap (private helpers; re-exported from ``riskmap``)."""

from __future__ import annotations

from typing import Any


class RiskmapError(Exception):
    """Base class of every error riskmap raises on purpose."""


class RiskmapValidationError(RiskmapError, ValueError):
    """Input data failed validation.

    Attributes
    ----------
    report : riskmap.schema.ValidationReport
        Every problem found, each naming file, row, column, reason and fix.
    """

    def __init__(self, report: Any, message: str | None = None) -> None:
        self.report = report
        if message is None:
            errs = report.errors or report.issues
            head = "\n".join(str(e) for e in errs[:20])
            more = f"\n... and {len(errs) - 20} more" if len(errs) > 20 else ""
            message = f"{report.summary()}\n{head}{more}"
        super().__init__(message)


class RiskmapInputError(RiskmapError, ValueError):
    """A file or argument cannot be used (unreadable, unknown format, out of range)."""


class RiskmapOutputError(RiskmapError, OSError):
    """An output could not be written (disk full, no permission, a driver failure).

    The message names the user's output path, never a temporary file; nothing
    was written and an existing file at that path is unchanged.
    """


class RiskmapDataWarning(UserWarning):
    """Input rows were dropped or look suspicious; the data were still loaded.

    The command line prints these as ``riskmap: warning: ...`` on stderr; in a
    notebook they show as ordinary Python warnings. The full list of problems
    is in ``sites.attrs["validation"]`` (a :class:`riskmap.schema.ValidationReport`).
    """
