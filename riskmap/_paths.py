"""Where riskmap finds its bundled data and the public source datasets.

This module is the one place that resolves data paths. The bundled data
(``basins/``, ``sites/``, ``natech/``) are found, in this order:

1. ``$RISKMAP_DATA_DIR`` when set (a user's own or rebuilt data folder);
2. the copy installed with the package, ``riskmap/_data`` inside the wheel,
   read through :mod:`importlib.resources` (extracted to a temporary folder
   for the life of the process when riskmap is imported from a zip file);
3. ``data/`` at the root of a source checkout (editable installs and
   ``PYTHONPATH`` use); the repository keeps its data there and the build maps
   that folder onto ``riskmap/_data`` (``[tool.setuptools.package-dir]`` in
   ``pyproject.toml``), so there is no second committed copy.

:data:`DATA_ORIGIN` says which one was used (``"RISKMAP_DATA_DIR"``,
``"package"`` or ``"checkout"``): data bundled inside an installed package are
read-only, and the ``riskmap data build-*`` commands refuse to write there.
"""

from __future__ import annotations

import atexit
import importlib.resources
import os
import shutil
import tempfile
from importlib.abc import Traversable
from pathlib import Path

#: The package folder.
PACKAGE_DIR = Path(__file__).resolve().parent
#: ``data/`` at the root of a source checkout (exists only there).
CHECKOUT_DATA_DIR = PACKAGE_DIR.parent / "data"
#: Name of the bundled data folder inside the installed package.
BUNDLED_DATA_NAME = "_data"
#: The product folders of a riskmap data folder.
DATA_PRODUCTS = ("basins", "sites", "natech")
#: Parameter files shipped with riskmap (index weights, discharges).
PARAMS_DIR = PACKAGE_DIR / "params"


def _extract(node: Traversable, dest: Path) -> None:
    """Copy a resource tree (e.g. inside a zip file) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for child in node.iterdir():
        if child.is_dir():
            _extract(child, dest / child.name)
        else:
            (dest / child.name).write_bytes(child.read_bytes())


def _bundled_data_dir() -> Path | None:
    """The data installed inside the package (``riskmap/_data``), or None in a checkout."""
    try:
        res = importlib.resources.files(__package__ or "riskmap").joinpath(BUNDLED_DATA_NAME)
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - not imported as a package
        return None
    if not res.is_dir():
        return None
    if isinstance(res, Path):  # an ordinary installed package: read in place
        return res
    tmp = Path(tempfile.mkdtemp(prefix="riskmap-data-"))  # zip import: extract once per process
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    _extract(res, tmp)
    return tmp


def _resolve_data_dir() -> tuple[Path, str]:
    env = os.environ.get("RISKMAP_DATA_DIR")
    if env:
        return Path(env).expanduser(), "RISKMAP_DATA_DIR"
    bundled = _bundled_data_dir()
    if bundled is not None:
        return bundled, "package"
    return CHECKOUT_DATA_DIR, "checkout"


#: Folder of the derived data (``basins/``, ``sites/``, ``natech/``); see the module docstring.
#: DATA_ORIGIN: ``"RISKMAP_DATA_DIR"``, ``"package"`` (read-only, inside the install) or ``"checkout"``.
DATA_DIR, DATA_ORIGIN = _resolve_data_dir()


def data_dir_is_writable_default() -> bool:
    """Whether the ``riskmap data build-*`` commands may write into :data:`DATA_DIR` by default.

    False when the data are the copy bundled inside an installed package
    (site-packages or a zip): rebuilt data then go to a folder the user names
    (``--data-dir`` or ``RISKMAP_DATA_DIR``).
    """
    return DATA_ORIGIN != "package"


def default_sources_dir() -> Path:
    """The public source datasets: ``$RISKMAP_SOURCES`` or ``../shared/data/sources`` beside the checkout."""
    env = os.environ.get("RISKMAP_SOURCES")
    if env:
        return Path(env).expanduser()
    return PACKAGE_DIR.parent.parent / "shared" / "data" / "sources"
