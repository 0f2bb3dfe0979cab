"""On-disk cache of the per-basin exposure indexes (:mod:`riskmap.basin_index`).

Files live in the user's cache folder, are named by a digest of the basin
data and of the code the index depends on, hold plain arrays (coordinates, offsets, WKB
bytes and a JSON table of them, :func:`_pack_arrays`; nothing is unpickled), are authenticated
with a key of this user before they are read, and are written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import scipy
import shapely


#: Bump when the layout of the per-basin index changes (invalidates the index-cache files).
INDEX_CACHE_VERSION = 6
#: Suffix of the index-cache files (``.pkl``: pickles of version 1, removed when a basin's file is rewritten).
_SUFFIX = ".idx"


def _index_cache_file(basin: Any) -> Path | None:
    """Cache file of a basin loaded unchanged from ``data/basins/<id>.gpkg``; None otherwise.

    The name holds a digest of the GeoPackage (sha256 taken when it was
    loaded), the basin's ``basins.json`` entry, :data:`INDEX_CACHE_VERSION`,
    the source of this module, :mod:`riskmap.network` and :mod:`riskmap._geo`
    and the numpy/scipy/shapely/pyproj versions, so that any change of data
    or code misses.
    The folder is the user's cache, ``$XDG_CACHE_HOME/riskmap/index-cache``
    (default ``~/.cache``), never the data folder, which may be an installed
    package; ``$RISKMAP_INDEX_CACHE`` names another folder and
    ``RISKMAP_INDEX_CACHE=off`` disables the cache.
    """
    src = getattr(basin, "source_file", None)
    setting = os.environ.get("RISKMAP_INDEX_CACHE", "")
    if src is None or setting.lower() in ("0", "off", "no", "false"):
        return None
    gpkg, digest = src
    h = hashlib.sha256()
    every = getattr(basin, "countries_file", None)  # the countries sites are located in (Basin.land_countries)
    for part in (digest, every[1] if every else "-", json.dumps(getattr(basin, "meta", None) or {}, sort_keys=True, default=str),
                 str(INDEX_CACHE_VERSION), _module_digest()):
        h.update(part.encode("utf-8") + b"\0")
    folder = Path(setting) if setting else _user_cache_dir() / "index-cache"
    return folder / f"{getattr(basin, 'id', 'basin')}-{h.hexdigest()[:24]}{_SUFFIX}"


@functools.lru_cache(maxsize=1)
def _module_digest() -> str:
    """Digest of the code an index depends on: basin_index, spatial_index, network, flowgrid, _geo, library versions."""
    from riskmap import _geo, basin_index, flowgrid, network, spatial_index

    h = hashlib.sha256()
    for mod in (basin_index.__file__, spatial_index.__file__, network.__file__, flowgrid.__file__, _geo.__file__):
        h.update(Path(mod).read_bytes())
    h.update(f"{np.__version__} {scipy.__version__} {shapely.__version__} {pyproj.__version__}".encode())
    return h.hexdigest()


def _user_cache_dir() -> Path:
    """Riskmap's folder in the user's cache: ``$XDG_CACHE_HOME/riskmap`` (default ``~/.cache/riskmap``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskmap"


def _cache_secret() -> bytes | None:
    """The key of this user authenticating index-cache files (created on first use; None: no cache).

    Stored in ``$XDG_CACHE_HOME/riskmap/index-cache.key`` (default ``~/.cache``), mode 0600. A cache
    file not written with it (copied in with a data folder, tampered with) is ignored, never read.
    """
    path = _user_cache_dir() / "index-cache.key"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
        key = path.read_bytes()
    except OSError:  # another process just created it, or no writable home: try reading, else no cache
        try:
            key = path.read_bytes()
        except OSError:
            return None
    return key if len(key) == 32 else None


def _mac(key: bytes, data: bytes | memoryview) -> bytes:
    """Keyed BLAKE2b (32 bytes) of a cache file's content: authenticates it before it is read."""
    return hashlib.blake2b(data, key=key, digest_size=32).digest()


def _pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """One buffer: 8-byte header length, JSON header (name, dtype, shape, offset), then the raw arrays (8-aligned).

    Plain numbers only (object arrays are refused), so reading needs no pickle and no per-array parsing.
    """
    table, chunks, pos = [], [], 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.hasobject:
            raise TypeError(f"index cache: {name} is an object array")
        raw = arr.tobytes()
        table.append([name, arr.dtype.str, list(arr.shape), pos])
        chunks.append(raw + bytes(-len(raw) % 8))
        pos += len(chunks[-1])
    head = json.dumps(table).encode("utf-8")
    head += b" " * (-len(head) % 8)
    return len(head).to_bytes(8, "little") + head + b"".join(chunks)


def _unpack_arrays(data: memoryview) -> dict[str, np.ndarray]:
    """The arrays of :func:`_pack_arrays` (views into ``data``; raises ValueError/KeyError/TypeError when malformed)."""
    n = int.from_bytes(data[:8], "little")
    base = 8 + n
    out = {}
    for name, dtype, shape, off in json.loads(bytes(data[8:base])):
        dt = np.dtype(dtype)
        if dt.hasobject:
            raise TypeError(name)
        count = int(np.prod(shape, dtype=np.int64))
        out[name] = np.frombuffer(data, dtype=dt, count=count, offset=base + off).reshape(shape)
    return out


def _read_index_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached index arrays, or None (missing, not authenticated, unreadable: rebuilt)."""
    key = _cache_secret()
    try:
        with open(path, "rb") as f:
            blob = bytearray(os.fstat(f.fileno()).st_size)  # writable: the arrays are views into it
            if f.readinto(blob) != len(blob):
                return None
    except OSError:
        return None
    if key is None or len(blob) < 40:
        return None
    data = memoryview(blob)[32:]
    if not hmac.compare_digest(bytes(blob[:32]), _mac(key, data)):
        return None
    try:
        return _unpack_arrays(data)  # plain arrays only, never pickles
    except (ValueError, KeyError, TypeError):
        return None


def _write_index_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically; drop older cache files of the same basin. A read-only folder is skipped."""
    key = _cache_secret()
    if key is None:
        return
    data = _pack_arrays(arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_mac(key, data))
                f.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        stem = path.name.rsplit('-', 1)[0]
        for old in [*path.parent.glob(f"{stem}-*{_SUFFIX}"), *path.parent.glob(f"{stem}-*.pkl")]:
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return
