"""Reading ``.npy`` arrays from untrusted files: the header is checked before any allocation.

``np.load`` trusts the header: a shape of (2**62, 4) asks for exabytes, a wrong dtype or
rank reaches Numba kernels that index out of bounds. :func:`load_npy` reads the header
itself and checks dtype, rank, shape (against what the caller expects) and the byte count
against the bytes actually present, and never unpickles (object arrays are refused).
"""

from __future__ import annotations

import os

import numpy as np
from numpy.lib import format as npformat

from firth.errors import FirthError

_KINDS = {"f": "floating point", "i": "integer", "u": "unsigned integer", "b": "boolean"}


def read_header(f, where: str):
    """(shape, dtype, fortran_order, header_end) of an open ``.npy`` file, validated."""
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(f, max_header_size=10_000)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as e:  # numpy parses the header with tokenize/ast: any of their errors
        if isinstance(e, MemoryError):
            raise
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise FirthError(f"{where}: not a valid .npy array ({msg[:200]})") from None
    if dtype.hasobject or dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise FirthError(f"{where}: array of dtype {dtype} refused (firth stores plain numbers, never Python objects)")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise FirthError(f"{where}: bad array shape {shape!r}")
    return shape, dtype, fortran, f.tell()


def _describe(shape) -> str:
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"


def check_shape(where: str, shape, expected) -> None:
    """``expected``: a tuple whose entries are ints or None (any size)."""
    if len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected)):
        raise FirthError(f"{where}: array of shape {tuple(shape)}, expected {_describe(expected)}; "
                         "the file is damaged or does not belong with the rest of the model")


def load_npy(path, *, kind: str, shape, where: str | None = None, mmap: bool = False, finite: bool = False):
    """A validated array from a ``.npy`` file.

    ``kind``: numpy dtype kind(s) accepted ("f", "i", "iu", ...). ``shape``: expected shape,
    None entries free. The data must be complete (byte count from the header vs file size).
    ``mmap``: map read-only instead of reading. ``finite``: refuse NaN/inf values.
    """
    where = where or str(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FirthError(f"{where}: missing; the model is incomplete") from None
    except OSError as e:
        raise FirthError(f"{where}: cannot read ({e.strerror or e})") from None
    with f:
        shp, dtype, fortran, offset = read_header(f, where)
        if dtype.kind not in kind:
            raise FirthError(f"{where}: array of dtype {dtype}, expected {' or '.join(_KINDS[k] for k in kind)}")
        check_shape(where, shp, shape)
        count = 1
        for n in shp:
            count *= n
        need = count * dtype.itemsize
        have = os.fstat(f.fileno()).st_size - offset
        if need != have:
            raise FirthError(f"{where}: header promises {need} bytes of data but the file holds {have}; "
                             "the file is truncated or damaged")
        if mmap and count:
            arr = np.memmap(f, dtype=dtype, mode="r", offset=offset, shape=shp, order="F" if fortran else "C")
        else:
            arr = np.fromfile(f, dtype=dtype, count=count).reshape(shp, order="F" if fortran else "C")
    if finite and dtype.kind == "f" and count and not np.isfinite(arr).all():
        raise FirthError(f"{where}: holds NaN or infinite values; the model is damaged (retrain it)")
    return arr
