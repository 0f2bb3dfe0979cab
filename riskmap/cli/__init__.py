"""The ``riskmap`` command line: one thin face over the Python API.

Every command calls the same public functions a notebook would; no analysis
lives here. ``riskmap --help`` and ``riskmap COMMAND --help`` document each.
One module per command group:

- :mod:`riskmap.cli._base`: the top group ``main``, error handling, the read options
  (``--strict``, ``--layer``, ``--crs``), output-not-input checks, data folders;
- :mod:`riskmap.cli.data_commands`: ``riskmap data build-reference|import-hydrosheds|build-sites|build-natech``;
- :mod:`riskmap.cli.site_commands`: ``validate``, ``sites summary``, ``questionnaire``;
- :mod:`riskmap.cli.analysis_commands`: ``assess``, ``matrix``, ``score``;
- :mod:`riskmap.cli.output_commands`: ``map``, ``report``, ``export``, ``demo``;
- :mod:`riskmap.cli.spill_commands`: ``spill``.
"""

from __future__ import annotations

from riskmap.cli import (  # noqa: F401 - importing a command module registers its commands
    analysis_commands,
    contingency_commands,
    data_commands,
    output_commands,
    site_commands,
    spill_commands,
)
from riskmap.cli._base import SITES_CSV, main  # noqa: F401

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
