"""Where riskmap finds its bundled data and the public source datasets."""

from __future__ import annotations

import os
from pathlib import Path

#: The package folder.
PACKAGE_DIR = Path(__file__).resolve().parent
#: Bundled derived data (``data/basins``, ``data/sites``), next to the package in a checkout.
DATA_DIR = Path(os.environ.get("RISKMAP_DATA_DIR", PACKAGE_DIR.parent / "data"))
#: Parameter files shipped with riskmap (index weights, discharges).
PARAMS_DIR = PACKAGE_DIR / "params"


def default_sources_dir() -> Path:
    """The public source datasets: ``$RISKMAP_SOURCES`` or ``../shared/data/sources`` beside the checkout."""
    env = os.environ.get("RISKMAP_SOURCES")
    if env:
        return Path(env)
    return PACKAGE_DIR.parent.parent / "shared" / "data" / "sources"
