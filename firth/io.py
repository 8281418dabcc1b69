"""File helpers shared by every module: safe outputs and transparent decompression.

Outputs follow three rules (issue 13):

* **Never destroy what firth did not write.** An existing output path is replaced only when it
  is firth's own output of the same kind: a directory holding a ``firth-output.json`` marker
  with that kind (or, for outputs written before the marker existed, a ``config.json`` /
  ``meta.json`` / ``checkpoint.json`` whose ``format`` starts with ``firth``), or an empty
  directory. An output that names one of the command's inputs is refused.
* **Crash-consistent replacement.** New output is built under a temporary sibling name and
  swapped in with one ``renameat2(RENAME_EXCHANGE)`` where the kernel offers it; elsewhere the
  old output is first renamed to a fixed backup name (``.NAME.firth-old``) that the next run
  restores if the kill came between the two renames. At every point the path holds a complete
  old or a complete new output.
* **One-line errors.** Write errors (no space, no permission, read-only place) become a
  FirthError naming the path; the temporary output is removed and the old output is intact.

``FIRTH_FAULT=rename:N`` (tests only) kills the process with SIGKILL just before its N-th
rename, so the crash-consistency tests can stop a replacement at every step.
"""

from __future__ import annotations

import bz2
import contextlib
import ctypes
import ctypes.util
import errno
import gzip
import io
import json
import lzma
import os
import shutil
import signal
import tempfile
from pathlib import Path

from firth.errors import FirthError

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
MARKER = "firth-output.json"
_LEGACY_META = ("config.json", "meta.json", "checkpoint.json")


# ------------------------------------------------------------------ reading


def _opener(path: Path):
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC.items():
        if head.startswith(magic):
            return opener
    return open


class _Decompressed(io.RawIOBase):
    """A decompressing stream whose corrupt-data errors (EOFError, lzma/zlib/bz2 errors)
    become one-line FirthErrors naming the file; no fileno, so callers know the size is unknown."""

    def __init__(self, stream, path: Path):
        self._s, self._path = stream, path

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            return self._s.readinto(b)
        except (EOFError, OSError, ValueError, lzma.LZMAError) as e:
            raise FirthError(f"{self._path}: corrupt compressed data ({str(e)[:200] or type(e).__name__})") from None

    def close(self) -> None:
        self._s.close()
        super().close()


def open_binary(path) -> io.BufferedIOBase:
    """Open a file for reading bytes, decompressing .gz/.bz2/.xz by content (not name)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, expected a file")
    try:
        opener = _opener(path)
        if opener is open:
            return open(path, "rb")
        return io.BufferedReader(_Decompressed(opener(path, "rb"), path))
    except OSError as e:
        raise FirthError(f"{path}: cannot read ({e.strerror or e})") from None


def open_text(path, errors: str = "strict") -> io.TextIOBase:
    """Open a UTF-8 text file (maybe compressed). Decoding errors name the file."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors=errors, newline=None)


def read_json(path, what: str = "file", expect=dict):
    """A JSON file's content, checked to be ``expect`` (dict by default); one-line errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FirthError(f"{path}: missing; not a firth {what}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FirthError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e}); not a firth {what}") from None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise FirthError(f"{path}: not valid JSON ({e}); not a firth {what}") from None
    if expect is not None and not isinstance(value, expect):
        raise FirthError(f"{path}: expected a JSON {expect.__name__}, found {type(value).__name__}; not a firth {what}")
    return value


# ------------------------------------------------------------------ fault hook and renames

_renames = 0


def _fault_point() -> None:
    """FIRTH_FAULT=rename:N: SIGKILL this process just before its N-th rename (tests)."""
    global _renames
    spec = os.environ.get("FIRTH_FAULT", "")
    if not spec.startswith("rename:"):
        return
    _renames += 1
    if _renames == int(spec.split(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)


def _rename(src, dst) -> None:
    _fault_point()
    os.replace(src, dst)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). False where unsupported."""
    global _libc
    if os.environ.get("FIRTH_NO_EXCHANGE"):
        return False
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            _libc.renameat2  # noqa: B018 -- AttributeError where libc lacks it
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    _fault_point()
    rc = _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # filesystem or kernel without it: the backup scheme is used
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ------------------------------------------------------------------ output checks


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(is_dir: bool) -> int:
    """The mode a plain open()/mkdir() would give (mkstemp/mkdtemp make 0600/0700)."""
    return (0o777 if is_dir else 0o666) & ~_umask()


def _backup_of(path: Path) -> Path:
    return path.parent / f".{path.name}.firth-old"


def output_kind(path) -> str | None:
    """The kind of firth output directory at ``path`` ("classifier", "search-index", ...),
    "" for an empty directory, or None when it is not firth's output (or not a directory)."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return None
    marker = path / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            return str(info["kind"]) if isinstance(info, dict) and info.get("firth") else None
        except (OSError, ValueError, KeyError):
            return None
    for name in _LEGACY_META:  # written before the marker existed
        with contextlib.suppress(OSError, ValueError):
            info = json.loads((path / name).read_text(encoding="utf-8"))
            if isinstance(info, dict) and str(info.get("format", "")).startswith("firth"):
                return "legacy"
    try:
        return "" if not any(path.iterdir()) else None
    except OSError:
        return None


def _same_file(a: Path, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def recover(path) -> None:
    """Finish a replacement a kill interrupted: restore the backup if the path is missing,
    drop it if the new output made it into place."""
    path = Path(path)
    backup = _backup_of(path)
    if not backup.is_dir() or output_kind(backup) is None:
        return
    if not path.exists():
        os.replace(backup, path)
        _fsync_dir(path.parent)
    else:
        shutil.rmtree(backup, ignore_errors=True)


def check_output(path, kind: str | None = None, *, is_dir: bool = False, inputs=(), option: str = "output",
                 accept=None) -> Path:
    """Fail fast, before any work: raise a one-line FirthError unless ``path`` can be written.

    ``kind``: for directories, the kind of firth output that may be replaced there.
    ``accept(path) -> bool``: for files, whether an existing file may be replaced (e.g. it is
    a vectors file); None: any regular file may be, like ``cp``.
    ``inputs``: paths the command reads; the output may not be one of them (or contain one).
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    for inp in inputs:
        if inp is None:
            continue
        if _same_file(path, inp) or Path(os.path.abspath(inp)) == Path(os.path.abspath(path)):
            raise FirthError(f"{path}: the {option} is also an input of this command; choose another {option} path")
        if is_dir and path.is_dir() and Path(os.path.abspath(inp)).is_relative_to(os.path.abspath(path)):
            raise FirthError(f"{path}: the {option} directory contains the input {inp}; choose another {option} path")
    if not parent.exists():
        raise FirthError(f"{path}: directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise FirthError(f"{path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FirthError(f"{path}: cannot write in {parent} (permission denied or read-only); choose another {option} path")
    try:  # access() says yes to root everywhere and knows nothing of /proc: create a file there
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise FirthError(f"{path}: cannot write in {parent} ({e.strerror or e}); choose another {option} path") from None
    here = Path(os.path.abspath(path))
    if Path.cwd().is_relative_to(here) or str(path.name) in ("", ".", ".."):
        raise FirthError(f"{path}: the {option} may not be the current directory or one above it; name a new path")
    if is_dir:
        recover(path)
    if path.is_symlink() or path.exists():
        if is_dir:
            if not path.is_dir():
                raise FirthError(f"{path}: exists and is a file; firth writes a directory here: choose another {option} path")
            found = output_kind(path)
            if found is None or (found not in ("", "legacy") and kind is not None and found != kind):
                what = "not a firth output" if found is None else f"a firth {found}, not a {kind}"
                raise FirthError(f"{path}: exists and is {what}; firth replaces only its own {kind or 'output'} "
                                 f"directories: choose another {option} path or remove it yourself")
        elif path.is_dir():
            raise FirthError(f"{path}: is a directory; give a file name for the {option}")
        elif accept is not None and not accept(path):
            raise FirthError(f"{path}: exists and is not a {kind or 'firth output'} file; firth does not overwrite "
                             f"other files: choose another {option} path or remove it yourself")
    return path


# ------------------------------------------------------------------ writers


def check_file_output(path, inputs=(), option: str = "-o", kind: str = "vectors", accept=None) -> Path:
    """:func:`check_output` for a file output, also refused inside an input *directory* (a
    later run would read it as input)."""
    path = check_output(path, kind, inputs=inputs, option=option, accept=accept)
    here = Path(os.path.abspath(path))
    for inp in inputs:
        if inp is not None and Path(inp).is_dir() and here.is_relative_to(os.path.abspath(inp)):
            raise FirthError(f"{path}: the {option} file would be inside the input directory {inp}, where a later "
                             f"run would read it as input; choose another {option} path")
    return path


def _write_error(path: Path, e: OSError) -> FirthError:
    why = e.strerror or str(e)
    if e.errno is None:  # numpy's tofile: "N requested and M written", no errno: say why if we can
        with contextlib.suppress(OSError):
            st = os.statvfs(path.parent if str(path.parent) else ".")
            if st.f_bavail * st.f_frsize < (1 << 20):
                why = f"{os.strerror(errno.ENOSPC)}: {why}"
    return FirthError(f"{path}: cannot write ({why}); nothing was changed there")


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", inputs=(), kind: str | None = None, accept=None):
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception the temporary file is removed, so no partial output is left behind;
    OSErrors (disk full, permission) become one-line FirthErrors.
    """
    path = check_output(path, kind, is_dir=False, inputs=inputs, accept=accept)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise _write_error(path, e) from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode(False))
        _rename(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, (BrokenPipeError, FileNotFoundError)):
            raise _write_error(path, e) from None
        raise


@contextlib.contextmanager
def atomic_dir(path, kind: str = "output", inputs=()):
    """Build a directory under a temporary name and swap it into place on success.

    ``kind`` is recorded in the directory's ``firth-output.json`` marker; an existing
    directory at ``path`` is replaced only when it is firth's output of the same kind
    (see :func:`check_output`). On failure nothing at ``path`` changes.
    """
    path = check_output(path, kind, is_dir=True, inputs=inputs)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise _write_error(path, e) from None
    try:
        yield tmp
        (tmp / MARKER).write_text(json.dumps({"firth": 1, "kind": kind}) + "\n", encoding="utf-8")
        os.chmod(tmp, _default_mode(True))
        _fsync_dir(tmp)
        if path.exists() and _exchange(tmp, path):
            _fsync_dir(parent)
            shutil.rmtree(tmp, ignore_errors=True)  # now the old output
            return
        if path.exists():
            backup = _backup_of(path)
            _rename(path, backup)  # a kill here: the next run restores the backup (recover())
            _rename(tmp, path)
            _fsync_dir(parent)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            _rename(tmp, path)
            _fsync_dir(parent)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            raise _write_error(path, e) from None
        raise
