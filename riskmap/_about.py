"""riskmap's version and the version, date and checksum of the data it reads.

``__version__`` is the package version (PEP 440; ``pyproject.toml`` reads it
from here). The data have no release number of their own: they are identified
by their build date (the ``build_date`` of each ``PROVENANCE.json``), the
riskmap version that built them, and a SHA-256 checksum over every file of
``basins/``, ``sites/`` and ``natech/`` (relative path and content hash, in
sorted order). The checksum is computed on first use and cached (about 20 ms
for the 3 MB of bundled data), never at import.

Examples
--------
>>> from riskmap._about import version_string
>>> version_string()  # doctest: +SKIP
'riskmap 0.1.0 (data 2026-11-27 sha256:932f068c69c2)'
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

#: Characters of the data checksum shown in footers and attributions.
SHORT_SHA = 12


def _files(data_dir: Path) -> list[Path]:
    from riskmap._paths import DATA_PRODUCTS

    out: list[Path] = []
    for product in DATA_PRODUCTS:
        folder = data_dir / product
        if folder.is_dir():
            out += [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return sorted(out, key=lambda p: p.relative_to(data_dir).as_posix())


def _build_dates(data_dir: Path) -> dict[str, Any]:
    from riskmap._paths import DATA_PRODUCTS

    dates: dict[str, Any] = {}
    for product in DATA_PRODUCTS:
        f = data_dir / product / "PROVENANCE.json"
        try:
            prov = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(prov, dict):
            dates[product] = {"build_date": str(prov.get("build_date") or "unknown"),
                              "built_by": str(prov.get("riskmap_version") or "unknown")}
    return dates


@functools.lru_cache(maxsize=8)
def _data_info(data_dir: str) -> dict[str, Any]:
    from riskmap._paths import DATA_DIR, DATA_ORIGIN

    root = Path(data_dir)
    files = _files(root)
    digest = hashlib.sha256()
    size = 0
    for p in files:
        content = p.read_bytes()
        size += len(content)
        digest.update(f"{p.relative_to(root).as_posix()}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    products = _build_dates(root)
    dates = sorted(v["build_date"][:10] for v in products.values() if v["build_date"] != "unknown")
    built_by = sorted({v["built_by"] for v in products.values()})
    return {
        "path": str(root),
        "origin": DATA_ORIGIN if os.path.realpath(root) == os.path.realpath(DATA_DIR) else "argument",
        "date": dates[-1] if dates else "unknown",
        "built_by": ", ".join(built_by) if built_by else "unknown",
        "products": products,
        "files": len(files),
        "bytes": size,
        "sha256": digest.hexdigest() if files else None,
    }


def data_info(data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Version information of a riskmap data folder (default: the data riskmap reads).

    Parameters
    ----------
    data_dir : path, optional
        A data folder holding ``basins/``, ``sites/``, ``natech/``; default
        :data:`riskmap.DATA_DIR`.

    Returns
    -------
    dict
        ``path``, ``origin`` (``package``, ``checkout``, ``RISKMAP_DATA_DIR`` or
        ``argument``), ``date`` (latest build date, ``YYYY-MM-DD``, or
        ``"unknown"``), ``built_by`` (riskmap version(s) that built the data),
        ``products`` (per product: ``build_date``, ``built_by``), ``files``,
        ``bytes`` and ``sha256`` (None when the folder holds no data). Cached
        per folder: call ``riskmap._about._data_info.cache_clear()`` after
        rebuilding data in the same session.

    Examples
    --------
    >>> info = data_info()
    >>> sorted(info)[:3]
    ['built_by', 'bytes', 'date']
    """
    from riskmap._paths import DATA_DIR

    return dict(_data_info(str(Path(data_dir) if data_dir is not None else DATA_DIR)))


def data_version(data_dir: str | os.PathLike | None = None) -> str:
    """Short identifier of the data: ``"2026-11-27 sha256:932f068c69c2"``.

    ``"none"`` when the folder holds no riskmap data.
    """
    info = data_info(data_dir)
    if info["sha256"] is None:
        return "none"
    return f"{info['date']} sha256:{info['sha256'][:SHORT_SHA]}"


def version_label(data_dir: str | os.PathLike | None = None) -> str:
    """``"0.1.0 (data 2026-11-27 sha256:932f068c69c2)"``: the text after "riskmap" in footers."""
    return f"{__version__} (data {data_version(data_dir)})"


def version_string(data_dir: str | os.PathLike | None = None) -> str:
    """The package and data versions in one line, for footers and file metadata.

    Examples
    --------
    >>> version_string().startswith("riskmap " + __version__ + " (data ")
    True
    """
    return f"riskmap {version_label(data_dir)}"


def version_text(data_dir: str | os.PathLike | None = None) -> str:
    """:func:`version_string` for readers, in the current output language (:mod:`riskmap.i18n`).

    English is :func:`version_string` exactly; other languages translate "data" and
    write the data date in their format (the checksum stays, for audits).

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> version_text() == version_string()
    True
    >>> with use_lang("ru"):
    ...     "(данные от " in version_text()
    True
    """
    from riskmap.i18n import _, current_lang, format_date

    if current_lang() == "en":
        return version_string(data_dir)
    info = data_info(data_dir)
    try:
        date = format_date(str(info["date"]))
    except ValueError:
        date = str(info["date"])
    sha = f" sha256:{str(info['sha256'])[:12]}" if info.get("sha256") else ""
    return f"riskmap {__version__} " + _("(data {date})").format(date=f"{date}{sha}")


def version_metadata() -> dict[str, str]:
    """Version keys for file metadata (GeoPackage layer metadata, XLSX properties)."""
    info = data_info()
    return {"riskmap_version": __version__, "riskmap_data_date": str(info["date"]),
            "riskmap_data_sha256": str(info["sha256"] or "none"), "generator": version_string()}


def version_report() -> str:
    """What ``riskmap --version`` prints: package version, data date, checksum, folder."""
    info = data_info()
    origin = {"package": "bundled with the package", "checkout": "source checkout",
              "RISKMAP_DATA_DIR": "from $RISKMAP_DATA_DIR"}.get(info["origin"], info["origin"])
    lines = [f"riskmap {__version__}"]
    if info["sha256"] is None:
        lines.append(f"data: none found in {info['path']} ({origin})")
    else:
        lines += [f"data: built {info['date']} by riskmap {info['built_by']}; "
                  f"{info['files']} files, {info['bytes'] / 1e6:.1f} MB",
                  f"data sha256: {info['sha256']}",
                  f"data folder: {info['path']} ({origin})"]
    return "\n".join(lines)
