"""Reading and writing vectors: firth's native archive, word2vec C text/binary, fastText .vec.

The input format is detected from the file's content (magic number or header), never from
its name. Every write is atomic (temporary file + rename).

Native format (``.firth``): an uncompressed zip archive whose first member is ``firth.json``
(format version, class, normaliser, training settings), then ``words.txt`` (one word per
line), ``vectors.npy`` and optional ``counts.npy`` and extra ``*.npy`` arrays. Members are
stored, not compressed, so ``vectors.npy`` is memory-mapped straight from the archive; no
pickle is involved anywhere.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_write, open_binary
from firth.text import Normalizer

FORMATS = ("native", "word2vec-text", "word2vec-binary", "vec", "fasttext-bin")
NATIVE_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"
_FASTTEXT_MAGIC = struct.pack("<i", 793712314)  # Facebook fastText .bin / .ftz
# Classes that may appear in a native archive (no arbitrary imports from files).
_NATIVE_CLASSES = {
    "KeyedVectors": ("firth.embeddings.vectors", "KeyedVectors"),
    "FastTextVectors": ("firth.embeddings.fasttext_vectors", "FastTextVectors"),
}


# ---------------------------------------------------------------- detection
def detect_format(path) -> str:
    """'native', 'fasttext-bin', 'word2vec-binary' or 'word2vec-text' (also .vec/GloVe text)."""
    path = Path(path)
    if not path.exists():
        raise FirthError(f"{path}: no such file")
    if path.is_dir():
        raise FirthError(f"{path}: is a directory, expected a vectors file")
    if path.stat().st_size == 0:
        raise FirthError(f"{path}: file is empty")
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(_ZIP_MAGIC):
        if head[30:40] == b"firth.json":
            return "native"
        raise FirthError(f"{path}: a zip archive, but not a firth vectors file (no firth.json first)")
    if head.startswith(_FASTTEXT_MAGIC):
        return "fasttext-bin"
    with open_binary(path) as f:
        header = f.readline(1024)
        try:
            first = header.decode("utf-8").split()
        except UnicodeDecodeError:
            raise FirthError(f"{path}: not a vectors file (first line is not UTF-8 text)") from None
        if len(first) == 2 and all(t.isdigit() for t in first):
            line = f.readline(int(first[1]) * 40 + 4096)
            try:
                parts = line.decode("utf-8").split()
                if len(parts) == int(first[1]) + 1:
                    [float(x) for x in parts[1:]]
                    return "word2vec-text"
            except (UnicodeDecodeError, ValueError):
                pass
            return "word2vec-binary"
        if len(first) > 2:
            try:
                [float(x) for x in first[1:]]
                return "word2vec-text"  # headerless text (GloVe style)
            except ValueError:
                pass
    raise FirthError(
        f"{path}: unrecognised vectors format (expected a firth archive, word2vec text/binary, "
        "a .vec file or a fastText .bin)"
    )


# ------------------------------------------------------------------ loading
def load_vectors(path, limit: int | None = None, mmap: bool = True, unicode_errors: str = "strict"):
    """Load vectors from any supported format; ``limit`` keeps the N first (most frequent)."""
    if limit is not None and limit < 1:
        raise FirthError(f"--limit {limit}: must be a positive number of words")
    fmt = detect_format(path)
    if fmt == "native":
        return _load_native(Path(path), limit, mmap)
    if fmt == "fasttext-bin":
        try:
            from firth.embeddings.fasttext_format import load_fasttext_bin
        except ImportError:
            raise FirthError(f"{path}: a Facebook fastText .bin model; reading it is not supported yet") from None
        return load_fasttext_bin(path, limit=limit)
    return _load_word2vec(Path(path), fmt, limit, unicode_errors)


def _header(path: Path, f, fmt: str):
    """Parse 'N D' (or infer D from a headerless text file). Returns (n or None, d, first_line_or_None)."""
    line = f.readline()
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        n, d = int(parts[0]), int(parts[1])
        if d <= 0:
            raise FirthError(f"{path}: header says {d} dimensions")
        return n, d, None
    if fmt == "word2vec-text":  # headerless
        return None, len(parts) - 1, line
    raise FirthError(f"{path}: line 1: expected a header 'N_WORDS DIM'")


def _load_word2vec(path: Path, fmt: str, limit, unicode_errors):
    from firth.embeddings.vectors import KeyedVectors

    with open_binary(path) as f:
        n, d, pending = _header(path, f, fmt)
        want = n if n is not None else None
        if limit is not None:
            want = limit if want is None else min(limit, want)
        words: list[str] = []
        rows: list[np.ndarray] = []
        if fmt == "word2vec-binary":
            vecs = np.empty((want, d), dtype=np.float32)
            step = 4 * d
            for i in range(want):
                word = _read_word(f, path, i, n, unicode_errors)
                buf = f.read(step)
                if len(buf) != step:
                    raise FirthError(f"{path}: truncated: vector {i + 1} of {n} ({word!r}) is incomplete")
                vecs[i] = np.frombuffer(buf, dtype="<f4")
                words.append(word)
            return _finish(KeyedVectors, path, words, vecs)
        lineno = 0 if n is None else 1
        pending_lines = [pending] if pending is not None else []
        while want is None or len(words) < want:
            raw = pending_lines.pop() if pending_lines else f.readline()
            lineno += 1
            if not raw:
                if n is not None and len(words) < (want or 0):
                    raise FirthError(f"{path}: truncated: header promises {n} vectors, found {len(words)}")
                break
            try:
                text = raw.decode("utf-8", errors=unicode_errors)
            except UnicodeDecodeError as e:
                raise FirthError(f"{path}: line {lineno}: not UTF-8 ({e.reason} at byte {e.start})") from None
            parts = text.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) == 1 and not parts[0].strip():
                continue
            if len(parts) != d + 1:
                parts = text.split()
            if len(parts) != d + 1:
                raise FirthError(f"{path}: line {lineno}: expected a word and {d} values, found {len(parts) - 1} values")
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError:
                raise FirthError(f"{path}: line {lineno}: a value is not a number") from None
            words.append(parts[0])
        vecs = np.stack(rows) if rows else np.zeros((0, d), dtype=np.float32)
        return _finish(KeyedVectors, path, words, vecs)


def _read_word(f, path, i, n, unicode_errors) -> str:
    chars = bytearray()
    while True:
        ch = f.read(1)
        if not ch:
            raise FirthError(f"{path}: truncated: header promises {n} vectors, file ends in vector {i + 1}")
        if ch == b" ":
            break
        if ch != b"\n" or chars:  # word2vec.c puts a newline after each vector
            chars += ch
        if len(chars) > 10_000:
            raise FirthError(f"{path}: malformed binary vectors: word {i + 1} is over 10,000 bytes (wrong format?)")
    try:
        return chars.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError:
        raise FirthError(f"{path}: word {i + 1} is not valid UTF-8; load with unicode_errors='replace'") from None


def _finish(cls, path, words, vecs):
    if not words:
        raise FirthError(f"{path}: no vectors in file")
    if len(set(words)) != len(words):
        seen, dup = set(), None
        for w in words:
            if w in seen:
                dup = w
                break
            seen.add(w)
        raise FirthError(f"{path}: word {dup!r} appears twice")
    return cls(words, vecs)


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


def _load_native(path: Path, limit, mmap):
    import importlib

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
        cls_name = header.get("class", "KeyedVectors")
        if cls_name not in _NATIVE_CLASSES:
            raise FirthError(f"{path}: unknown vectors class {cls_name!r}")
        module, attr = _NATIVE_CLASSES[cls_name]
        cls = getattr(importlib.import_module(module), attr)
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
    normalizer = Normalizer.from_dict(header.get("normalizer"))
    return cls._from_native(words, vectors, counts, normalizer, header.get("meta", {}), header.get("extra", {}), arrays)


# ------------------------------------------------------------------ saving
def save_vectors(kv, path, format: str = "native") -> None:
    """Write ``kv`` to ``path`` atomically in one of FORMATS."""
    if format not in FORMATS:
        raise FirthError(f"--format {format!r}: expected one of {', '.join(FORMATS)}")
    if format not in ("native", "fasttext-bin"):
        for w in kv.index_to_key:
            if not w or any(c.isspace() for c in w):
                raise FirthError(f"word {w!r} contains whitespace or is empty: the {format} format cannot hold it; use --format native")
    path = Path(path)
    if format == "fasttext-bin":
        if not hasattr(kv, "save_facebook"):
            raise FirthError(
                f"--format fasttext-bin: {type(kv).__name__} has no character n-grams; only fastText "
                "vectors (trained with --model fasttext-sg|fasttext-cbow, or read from a .bin) can be written as a Facebook .bin"
            )
        kv.save_facebook(path)
    elif format == "native":
        _save_native(kv, path)
    elif format == "word2vec-binary":
        with atomic_write(path, "wb") as f:
            f.write(f"{len(kv)} {kv.vector_size}\n".encode())
            vecs = np.asarray(kv.vectors, dtype="<f4")
            for i, w in enumerate(kv.index_to_key):
                f.write(w.encode("utf-8") + b" " + vecs[i].tobytes() + b"\n")
    else:  # word2vec-text and fastText .vec are the same format; .vec ends lines with a space
        tail = " \n" if format == "vec" else "\n"
        with atomic_write(path, "wb") as f:
            buf = io.StringIO()
            buf.write(f"{len(kv)} {kv.vector_size}\n")
            vecs = np.asarray(kv.vectors, dtype=np.float32)
            for start in range(0, len(kv), 4096):
                block = vecs[start : start + 4096]
                for w, row in zip(kv.index_to_key[start : start + 4096], block):
                    # %.9g round-trips float32 exactly
                    buf.write(w + " " + " ".join(["%.9g" % x for x in row.tolist()]) + tail)
                f.write(buf.getvalue().encode("utf-8"))
                buf.seek(0)
                buf.truncate()


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


def _save_native(kv, path: Path) -> None:
    for w in kv.index_to_key:
        if "\n" in w or "\r" in w:
            raise FirthError(f"word {w!r} contains a line break; cannot store it")
    extra, arrays = kv._native_payload()
    header = {
        "format": "firth-vectors",
        "version": NATIVE_VERSION,
        "class": type(kv).__name__ if type(kv).__name__ in _NATIVE_CLASSES else "KeyedVectors",
        "n_words": len(kv),
        "dim": kv.vector_size,
        "normalizer": kv.normalizer.to_dict(),
        "meta": kv.meta,
        "extra": extra,
        "arrays": sorted(arrays),
    }
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr("firth.json", json.dumps(header, indent=1, sort_keys=True))
            zf.writestr("words.txt", "\n".join(kv.index_to_key))
            _write_npy(zf, "vectors.npy", np.asarray(kv.vectors, dtype=np.float32))
            if kv.counts is not None:
                _write_npy(zf, "counts.npy", np.asarray(kv.counts, dtype=np.int64))
            for name, arr in sorted(arrays.items()):
                _write_npy(zf, f"{name}.npy", arr)
