"""firth's native vectors archive (``.firth``): a zip of JSON and ``.npy`` members, never pickle.

The first member is ``firth.json`` (format version, the vectors class, normaliser, training
settings), then ``words.txt`` (one word per line), ``vectors.npy`` and optional
``counts.npy`` and extra ``*.npy`` arrays (a fastText model's word and n-gram rows). Members
are stored, not compressed, so ``vectors.npy`` is memory-mapped straight from the archive.

A codec of plain data (:class:`NativeData`): it never imports the vectors classes; the
classes write themselves through :func:`write_native` and ``load_vectors`` builds the class
named in the archive from :func:`read_native`'s result.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firth.errors import FirthError, check_version
from firth.io import atomic_write
from firth.npyfile import check_shape, read_header
from firth.text import Normalizer

NATIVE_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"
_ZIP_MAGIC = ZIP_MAGIC


@dataclass
class NativeData:
    """What a firth archive holds (arrays maybe memory-mapped, read-only)."""

    cls_name: str
    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    normalizer: Normalizer = field(default_factory=Normalizer)
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # the class's own settings (fastText: minn, maxn, bucket)
    arrays: dict = field(default_factory=dict)  # the class's own arrays, name -> array


# Bounds for members read into memory (a zip member's declared size is the attacker's number):
# firth.json is a small header; a word takes at most _MAX_WORD bytes plus its newline.
_MAX_HEADER = 16 << 20
_MAX_WORD = 4096
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
               struct.error, OverflowError)


def _read_member(path: Path, zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A member's bytes through a size-limited stream: at most ``cap`` bytes are ever held,
    whatever the archive declares (a zip bomb's ``words.txt`` ends here, not in memory)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise FirthError(f"{path}: archive has no {name}; the file is corrupt") from None
    if info.file_size > cap:
        raise FirthError(f"{path}: {name} declares {info.file_size} bytes, more than a firth archive holds "
                         f"there ({cap}); the file is corrupt or hostile")
    try:
        with zf.open(info) as m:
            data = m.read(cap + 1)
    except _ZIP_ERRORS as e:
        raise FirthError(f"{path}: corrupt archive: cannot read {name} ({str(e)[:200] or type(e).__name__})") from None
    if len(data) > cap or len(data) != info.file_size:
        raise FirthError(f"{path}: {name} holds {len(data)} bytes but declares {info.file_size}; the file is corrupt")
    return data


def _npy_member(path: Path, zf: zipfile.ZipFile, name: str, mmap: bool, shape, kind: str = "f", limit=None):
    """A stored ``.npy`` member, its header checked (dtype, ``shape`` with None free, byte
    count against the member's declared size and the file's real size) before any allocation."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise FirthError(f"{path}: archive has no {name}; the file is corrupt") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise FirthError(f"{path}: {name} is compressed; firth archives store arrays uncompressed")
    where = f"{path}: {name}"
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if info.header_offset < 0 or info.header_offset + 30 > size:
            raise FirthError(f"{path}: corrupt archive (bad header offset for {name})")
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != _ZIP_MAGIC:
            raise FirthError(f"{path}: corrupt archive (bad header for {name})")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        fh.seek(start)
        shp, dtype, fortran, offset = read_header(fh, where)
    if dtype.kind not in kind:
        raise FirthError(f"{where}: array of dtype {dtype}; the file is corrupt")
    check_shape(where, shp, shape)
    nbytes = math.prod(shp) * dtype.itemsize
    if offset - start + nbytes != info.file_size:
        raise FirthError(f"{where}: the array needs {offset - start + nbytes} bytes but the member declares "
                         f"{info.file_size}; the file is corrupt")
    if offset + nbytes > size:
        raise FirthError(f"{path}: truncated: {name} needs {nbytes} bytes past offset {offset}")
    order = "F" if fortran else "C"
    if limit is not None and shp and shp[0] > limit and not fortran:
        shp = (limit, *shp[1:])
        nbytes = math.prod(shp) * dtype.itemsize
    if mmap and nbytes > 0:
        arr = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shp, order=order)
    else:
        with open(path, "rb") as fh:
            fh.seek(offset)
            arr = np.frombuffer(fh.read(nbytes), dtype=dtype).reshape(shp, order=order)
    if limit is not None:
        arr = arr[:limit]
    return arr


def _header_int(path, header, key, lo, hi):
    v = header.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise FirthError(f"{path}: firth.json: {key} {v!r} is not a number in {lo}..{hi}; the file is corrupt")
    return v


def read_native(path, limit: int | None = None, mmap: bool = True) -> NativeData:
    """Read a firth archive: plain data (the caller builds the vectors class named in it).

    Every member is checked against firth.json (word count, dimension) and against the
    file's real size before it is read; members are read through size-limited streams."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        raise FirthError(f"{path}: truncated or corrupt firth archive (no zip directory at its end)") from None
    with zf:
        try:
            header = json.loads(_read_member(path, zf, "firth.json", _MAX_HEADER).decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise FirthError(f"{path}: corrupt firth.json ({str(e)[:200]})") from None
        if not isinstance(header, dict):
            raise FirthError(f"{path}: firth.json is a JSON {type(header).__name__}, not an object; the file is corrupt")
        if header.get("format") != "firth-vectors":
            raise FirthError(f"{path}: not a firth vectors archive")
        check_version(path, header.get("version", 0), NATIVE_VERSION, "firth.json is corrupt")
        size = os.path.getsize(path)
        n = _header_int(path, header, "n_words", 0, size) if "n_words" in header else None
        dim = _header_int(path, header, "dim", 1, 1 << 20) if "dim" in header else None
        cap = (n if n is not None else size) * (_MAX_WORD + 1)
        raw = _read_member(path, zf, "words.txt", min(cap, max(size * 64, 1 << 20)))
        # surrogateescape: words that are not UTF-8 (a fastText .bin's raw bytes) round-trip
        text = raw.decode("utf-8", errors="surrogateescape")
        words = text.split("\n") if text else []
        if n is not None and len(words) != n:
            raise FirthError(f"{path}: words.txt holds {len(words)} words but firth.json says {n}; the file is corrupt")
        total = len(words)
        if limit is not None:
            words = words[:limit]
        vectors = _npy_member(path, zf, "vectors.npy", mmap, (total, dim), "f", limit)
        counts = None
        if "counts.npy" in zf.namelist():
            counts = _npy_member(path, zf, "counts.npy", False, (total,), "iu", limit)
            if len(counts) and int(counts.min()) < 0:
                raise FirthError(f"{path}: counts.npy holds negative counts; the file is corrupt")
        names = header.get("arrays", [])
        if not isinstance(names, list) or not all(isinstance(x, str) and x.isidentifier() for x in names):
            raise FirthError(f"{path}: firth.json: 'arrays' must be a list of names; the file is corrupt")
        arrays = {name: _npy_member(path, zf, f"{name}.npy", mmap, (None, vectors.shape[1])) for name in names}
        for key in ("meta", "extra"):
            if not isinstance(header.get(key, {}), dict):
                raise FirthError(f"{path}: firth.json: '{key}' must be an object; the file is corrupt")
        try:
            normalizer = Normalizer.from_dict(header.get("normalizer"))
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise FirthError(f"{path}: firth.json: bad normaliser ({str(e)[:200]}); the file is corrupt") from None
    return NativeData(
        cls_name=str(header.get("class", "KeyedVectors")), words=words, vectors=vectors, counts=counts,
        normalizer=normalizer, meta=header.get("meta", {}), extra=header.get("extra", {}), arrays=arrays,
    )


def _write_npy(zf: zipfile.ZipFile, name: str, arr: np.ndarray) -> None:
    # The .npy header, then the array's own buffer in 64 MiB slices: np.lib.format.write_array
    # copies a non-file stream through 16 MiB tobytes() chunks, twice as slow on the 800 MB
    # bucket matrix of a fastText model. An array given block by block (``shape``, ``dtype``,
    # ``blocks()``: a fastText model's compact n-gram rows) is written densely, a block at a time.
    if not isinstance(arr, np.ndarray) and hasattr(arr, "blocks"):
        _write_npy_blocks(zf, name, arr)
        return
    arr = np.ascontiguousarray(arr)
    if arr.dtype.hasobject:
        raise FirthError(f"{name}: object arrays cannot be stored")
    with zf.open(name, "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(arr))
        data = memoryview(arr.reshape(-1)).cast("B") if arr.size else memoryview(b"")
        step = 1 << 26
        for s in range(0, len(data), step):
            f.write(data[s : s + step])


def _write_npy_blocks(zf: zipfile.ZipFile, name: str, arr) -> None:
    dtype = np.dtype(arr.dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(arr.shape)}
    rows = 0
    with zf.open(name, "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, header)
        for block in arr.blocks():
            block = np.ascontiguousarray(block, dtype=dtype)
            rows += block.shape[0]
            f.write(memoryview(block.reshape(-1)).cast("B") if block.size else b"")
    if rows != arr.shape[0]:
        raise FirthError(f"{name}: {rows} rows written of {arr.shape[0]}; not saved")


def write_native(path, data: NativeData) -> None:
    """Write ``data`` as a firth archive, atomically."""
    for w in data.words:
        if "\n" in w or "\r" in w:
            raise FirthError(f"word {w!r} contains a line break; cannot store it")
    header = {
        "format": "firth-vectors",
        "version": NATIVE_VERSION,
        "class": data.cls_name,
        "n_words": len(data.words),
        "dim": int(data.vectors.shape[1]),
        "normalizer": data.normalizer.to_dict(),
        "meta": data.meta,
        "extra": data.extra,
        "arrays": sorted(data.arrays),
    }
    with atomic_write(Path(path), "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("firth.json", json.dumps(header, indent=1, sort_keys=True))
            zf.writestr("words.txt", "\n".join(data.words).encode("utf-8", errors="surrogateescape"))
            _write_npy(zf, "vectors.npy", np.asarray(data.vectors, dtype=np.float32))
            if data.counts is not None:
                _write_npy(zf, "counts.npy", np.asarray(data.counts, dtype=np.int64))
            for name, arr in sorted(data.arrays.items()):
                _write_npy(zf, f"{name}.npy", arr)
