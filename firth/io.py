"""File helpers shared by every module: atomic writes and transparent decompression."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import tempfile
from pathlib import Path

from firth.errors import FirthError

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(is_dir: bool) -> int:
    """The mode a plain open()/mkdir() would give (mkstemp/mkdtemp make 0600/0700)."""
    return (0o777 if is_dir else 0o666) & ~_umask()


def _opener(path: Path):
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC.items():
        if head.startswith(magic):
            return opener
    return open


def open_binary(path) -> io.BufferedIOBase:
    """Open a file for reading bytes, decompressing .gz/.bz2/.xz by content (not name)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, expected a file")
    opener = _opener(path)
    return opener(path, "rb")


def open_text(path, errors: str = "strict") -> io.TextIOBase:
    """Open a UTF-8 text file (maybe compressed). Decoding errors name the file."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors=errors, newline=None)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception the temporary file is removed, so no partial output is left behind.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise FirthError(f"{path}: directory {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode(False))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path):
    """Build a directory under a temporary name and rename it into place on success."""
    import shutil

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise FirthError(f"{path}: directory {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, _default_mode(True))
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
