"""The click type of every command's basin argument (top layer, used by :mod:`riskmap.cli`).

Names resolve through :mod:`riskmap.basins` (identifier or display name, any
case, reference or imported basins of riskmap's data folder), so an unknown
basin is refused while click parses the command line, before any work, with
the list of known basins.
"""

from __future__ import annotations

from typing import Any

import click

from riskmap._errors import RiskmapInputError
from riskmap.basins import known_basins, resolve_basin


class BasinParam(click.ParamType):
    """A basin name converted to its identifier (``Drina`` -> ``drina``)."""

    name = "basin"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the basin identifier, or fail with the known basins listed."""
        try:
            return resolve_basin(value)
        except RiskmapInputError as e:
            self.fail(str(e), param, ctx)

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str:
        """``[drin|drina|syr_darya|...]`` in help texts (the basins of the data folder)."""
        try:
            return "[" + "|".join(known_basins()) + "]"
        except RiskmapInputError:
            return "BASIN"


#: The one basin parameter type of the CLI.
BASIN = BasinParam()
