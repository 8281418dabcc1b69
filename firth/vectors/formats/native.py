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
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_write
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


def _npy_member(path: Path, zf: zipfile.ZipFile, name: str, mmap: bool, limit=None):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise FirthError(f"{path}: archive has no {name}; the file is corrupt") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise FirthError(f"{path}: {name} is compressed; firth archives store arrays uncompressed")
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != _ZIP_MAGIC:
            raise FirthError(f"{path}: corrupt archive (bad header for {name})")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        fh.seek(start)
        try:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(fh)
        except ValueError as e:
            raise FirthError(f"{path}: corrupt array {name}: {e}") from None
        if dtype.hasobject:
            raise FirthError(f"{path}: {name} holds Python objects; refusing to load it")
        offset = fh.tell()
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if offset + nbytes > os.path.getsize(path):
        raise FirthError(f"{path}: truncated: {name} needs {nbytes} bytes past offset {offset}")
    order = "F" if fortran else "C"
    if mmap and nbytes > 0:
        arr = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)
    else:
        with open(path, "rb") as fh:
            fh.seek(offset)
            arr = np.frombuffer(fh.read(nbytes), dtype=dtype).reshape(shape, order=order)
    if limit is not None:
        arr = arr[:limit]
    return arr


def read_native(path, limit: int | None = None, mmap: bool = True) -> NativeData:
    """Read a firth archive: plain data (the caller builds the vectors class named in it)."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FirthError(f"{path}: truncated or corrupt firth archive (no zip directory at its end)") from None
    with zf:
        try:
            header = json.loads(zf.read("firth.json").decode("utf-8"))
        except (KeyError, ValueError, zipfile.BadZipFile) as e:
            raise FirthError(f"{path}: corrupt firth.json ({e})") from None
        if header.get("format") != "firth-vectors":
            raise FirthError(f"{path}: not a firth vectors archive")
        if int(header.get("version", 0)) > NATIVE_VERSION:
            raise FirthError(f"{path}: written by a newer firth (format version {header['version']}); upgrade firth")
        try:
            text = zf.read("words.txt").decode("utf-8")
        except (KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
            raise FirthError(f"{path}: corrupt word list ({e})") from None
        words = text.split("\n") if text else []
        if limit is not None:
            words = words[:limit]
        vectors = _npy_member(path, zf, "vectors.npy", mmap, limit)
        if vectors.shape[0] != len(words) or vectors.ndim != 2:
            raise FirthError(f"{path}: corrupt archive: {len(words)} words but vectors of shape {vectors.shape}")
        counts = _npy_member(path, zf, "counts.npy", False, limit) if "counts.npy" in zf.namelist() else None
        arrays = {name: _npy_member(path, zf, f"{name}.npy", mmap) for name in header.get("arrays", [])}
    return NativeData(
        cls_name=str(header.get("class", "KeyedVectors")), words=words, vectors=vectors, counts=counts,
        normalizer=Normalizer.from_dict(header.get("normalizer")), meta=header.get("meta", {}),
        extra=header.get("extra", {}), arrays=arrays,
    )


def _write_npy(zf: zipfile.ZipFile, name: str, arr: np.ndarray) -> None:
    # The .npy header, then the array's own buffer in 64 MiB slices: np.lib.format.write_array
    # copies a non-file stream through 16 MiB tobytes() chunks, twice as slow on the 800 MB
    # bucket matrix of a fastText model.
    arr = np.ascontiguousarray(arr)
    if arr.dtype.hasobject:
        raise FirthError(f"{name}: object arrays cannot be stored")
    with zf.open(name, "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(arr))
        data = memoryview(arr.reshape(-1)).cast("B") if arr.size else memoryview(b"")
        step = 1 << 26
        for s in range(0, len(data), step):
            f.write(data[s : s + step])


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
            zf.writestr("words.txt", "\n".join(data.words))
            _write_npy(zf, "vectors.npy", np.asarray(data.vectors, dtype=np.float32))
            if data.counts is not None:
                _write_npy(zf, "counts.npy", np.asarray(data.counts, dtype=np.int64))
            for name, arr in sorted(data.arrays.items()):
                _write_npy(zf, f"{name}.npy", arr)
