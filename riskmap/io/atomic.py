"""Atomic outputs: temporary files renamed into place, stale temporaries, outputs never over inputs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any
from collections.abc import Iterator


from riskmap._errors import (RiskmapError, RiskmapInputError, RiskmapOutputError)


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------


#: Prefix of every temporary file or folder riskmap writes next to an output
#: (``.riskmap-tmp.<output name>.<pid>.<random>``); see :func:`atomic_path`.
TMP_PREFIX = ".riskmap-tmp."

#: Errors of the GDAL writers (pyogrio) that mean "the file could not be written".
_WRITE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
try:  # pyogrio is a geopandas dependency; its errors are not OSError subclasses
    import pyogrio.errors as _pyogrio_errors

    _WRITE_ERRORS = (OSError, _pyogrio_errors.DataSourceError, _pyogrio_errors.DataLayerError,
                     _pyogrio_errors.FieldError, _pyogrio_errors.GeometryError, _pyogrio_errors.CRSError)
except ImportError:  # pragma: no cover
    pass


def _arrow_writes() -> bool:
    """Whether GDAL writes GeoDataFrames through Arrow (pyarrow installed, GDAL >= 3.8): much faster."""
    try:
        import pyarrow  # noqa: F401
        import pyogrio

        return tuple(pyogrio.__gdal_version__[:2]) >= (3, 8)
    except (ImportError, AttributeError):  # pragma: no cover
        return False


_USE_ARROW = _arrow_writes()


def _tmp_prefix(path: Path) -> str:
    return f"{TMP_PREFIX}{path.name}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def _remove_path(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files a killed riskmap write of ``path`` left behind.

    A write that is killed outright (``SIGKILL``, power loss) cannot clean up
    after itself. Its temporary files and folders are named
    ``.riskmap-tmp.<output name>.<pid>.<random>`` (plus ``-journal``/``-wal``
    files GDAL adds); those of the same output whose process is no longer
    running are removed here, before every new write of that output.

    Returns
    -------
    list of pathlib.Path
        The removed paths.
    """
    path = Path(path)
    prefix = _tmp_prefix(path)
    removed: list[Path] = []
    try:
        entries = [e for e in path.parent.iterdir() if e.name.startswith(prefix)]
    except OSError:
        return removed
    for e in entries:
        pid_text = e.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid == os.getpid() or _pid_alive(pid):
            continue  # this process, or a writer still running
        _remove_path(e)
        removed.append(e)
    return removed


def _remove_tmp(tmp: Path) -> None:
    """Remove a temporary output and the side files a driver may have added (``-journal``, ``-wal``)."""
    _remove_path(tmp)
    with contextlib.suppress(OSError):
        for e in tmp.parent.iterdir():
            if e.name.startswith(tmp.name):
                _remove_path(e)


def _make_tmp_name(path: Path, suffix: str, directory: bool = False) -> Path:
    prefix = f"{_tmp_prefix(path)}{os.getpid()}."
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers (GDAL) want to create the file themselves
    return Path(tmp)


def _output_error(path: Path, e: BaseException) -> RiskmapOutputError:
    reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return RiskmapOutputError(f"{path}: cannot write the output: {reason}; nothing was written "
                              "(an existing file is unchanged)")


#: What a path that is not a regular file is, for messages (``stat`` test, description).
_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def _kind_error(path: Path, mode: int, where: str = "it is") -> RiskmapOutputError | None:
    """The refusal of output ``path`` whose existing file (``mode``) is not a regular file, else ``None``."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a file")
    return RiskmapOutputError(f"{path}: cannot write the output: {where} {kind}, not a regular file; "
                              "riskmap writes outputs only to regular files; nothing was written")


def output_target(path: str | os.PathLike) -> Path:
    """The file an output path is written to, refusing anything that is not a regular file.

    A symbolic link is followed (through a chain of links) to the file it
    points to: riskmap writes that file, so the link stays a link and shows the
    new content. A dangling link is followed too: its target is written as a
    new output. An existing output (or link target) that is not a regular
    file (a directory, a named pipe, a device, a socket) is refused: riskmap
    never replaces it with a file and never writes into it.

    Parameters
    ----------
    path : str or os.PathLike
        The user's output path.

    Returns
    -------
    pathlib.Path
        ``path`` itself, or the path a symbolic link at ``path`` resolves to.

    Raises
    ------
    RiskmapOutputError
        If the output is not a regular file (or a link loop), naming ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "real.csv").write_text("a\\n")
    2
    >>> (d / "link.csv").symlink_to(d / "real.csv")
    >>> output_target(d / "link.csv") == (d / "real.csv").resolve()
    True
    >>> output_target(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapOutputError: ...: cannot write the output: it is a directory, not a regular file; ...
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target  # a new output (or the missing target of a dangling link)
    except OSError as e:  # a link loop, no permission to look
        raise _output_error(path, e) from None
    err = _kind_error(path, mode, "it is" if target == path else f"it links to {target}, which is")
    if err is not None:
        raise err
    return target


def _recheck_target(path: Path, target: Path) -> None:
    """Refuse, just before the rename, a target that was replaced by a non-regular file meanwhile."""
    with contextlib.suppress(FileNotFoundError):
        err = _kind_error(path, os.lstat(target).st_mode, "it is" if target == path else f"{target} is")
        if err is not None:
            raise err


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    If the body raises (any exception, including ``KeyboardInterrupt`` and
    ``SystemExit``), the temporary file and any side files of it are removed
    and ``path`` is left untouched (an existing file is never
    half-overwritten). A write error (disk full, permission, a GDAL write
    failure) becomes a :class:`~riskmap.RiskmapOutputError` naming ``path``,
    never the temporary name. Temporary files of earlier writes of ``path``
    whose process was killed are removed first (:func:`remove_stale_temps`).

    A symbolic link at ``path`` is written through: the temporary file is
    made next to the file it points to and renamed onto that file, so the
    link stays a link (:func:`output_target`). An existing ``path`` that is
    not a regular file (a directory, named pipe, device or socket) is refused
    with a :class:`~riskmap.RiskmapOutputError` before anything is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    >>> sorted(p.name for p in d.iterdir())
    ['out.txt']
    """
    path = Path(path)
    target = output_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        tmp_path = _make_tmp_name(target, path.suffix if suffix is None else suffix)
    except OSError as e:
        raise _output_error(path, e) from None
    try:
        try:
            yield tmp_path
            _recheck_target(path, target)
            os.replace(tmp_path, target)
        except RiskmapError:
            raise
        except _WRITE_ERRORS as e:
            raise _output_error(path, e) from None
    finally:
        _remove_tmp(tmp_path)


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks (provenance records, report footers)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _with_parts(path: Path) -> list[Path]:
    """A path plus, for a Shapefile, its component files (``.dbf``, ``.shx`` ...)."""
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(ext) for ext in _SHP_PARTS]
    return [path]


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_not_input(outputs: Any, inputs: Any) -> None:
    """Refuse to write an output over one of the command's input files.

    A path is the same file as an input when both resolve to the same real
    path (symbolic links followed) or, where both exist, when they are the
    same file on disk (``os.path.samefile``: hard links too). Shapefiles are
    compared with all their component files.

    Parameters
    ----------
    outputs, inputs : path or iterable of paths
        ``None`` entries are ignored.

    Raises
    ------
    RiskmapInputError
        If an output is an input; nothing has been written at that point.

    Examples
    --------
    >>> check_output_not_input("out.csv", ["sites.csv"])
    >>> check_output_not_input("sites.csv", ["./sites.csv"])
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: sites.csv: the output would overwrite the input file sites.csv; write to another file
    """
    def paths(x: Any) -> list[Path]:
        if x is None:
            return []
        if isinstance(x, (str, os.PathLike)):
            return [Path(x)]
        return [Path(p) for p in x if p is not None]

    ins = [(i, part) for i in paths(inputs) for part in _with_parts(i)]
    for out in paths(outputs):
        for part in _with_parts(out):
            for given, inp in ins:
                if _same_file(part, inp):
                    raise RiskmapInputError(
                        f"{out}: the output would overwrite the input file {given}; write to another file")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))
