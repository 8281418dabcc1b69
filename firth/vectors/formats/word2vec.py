"""word2vec C text and binary vectors, and fastText ``.vec`` (word2vec text, lines ending in a space).

A codec of plain data: ``(words, float32 matrix)`` in and out; it never imports the vectors
classes. Every number read is checked (header sizes, line widths, truncation) before use;
a bad file gives one line naming the file and the line.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.io import atomic_write, open_binary

WORD2VEC_FORMATS = ("word2vec-text", "word2vec-binary", "vec")
MAX_DIM = 1 << 20


def _plain_size(f) -> int | None:
    """Bytes left in an uncompressed file (None for a compressed stream: unknown)."""
    raw = getattr(f, "raw", None)
    if isinstance(f, io.BufferedReader) and raw is not None and hasattr(raw, "fileno"):
        try:
            return os.fstat(raw.fileno()).st_size - f.tell()
        except OSError:
            return None
    return None


def _header(path: Path, f, fmt: str):
    """Parse 'N D' (or infer D from a headerless text file). Returns (n or None, d, first_line_or_None)."""
    line = f.readline()
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        n, d = int(parts[0]), int(parts[1])
        if not 0 < d <= MAX_DIM:
            raise FirthError(f"{path}: line 1: header says {d} dimensions (firth reads 1..{MAX_DIM}); the header is wrong")
        return n, d, None
    if fmt == "word2vec-text":  # headerless
        return None, len(parts) - 1, line
    raise FirthError(f"{path}: line 1: expected a header 'N_WORDS DIM'")


def read_word2vec(path, fmt: str, limit: int | None = None, unicode_errors: str = "strict") -> tuple[list[str], np.ndarray]:
    """(words, float32 vectors) of a word2vec text (``fmt='word2vec-text'``, also .vec / GloVe)
    or binary (``'word2vec-binary'``) file; ``limit`` keeps the first N."""
    path = Path(path)
    with open_binary(path) as f:
        n, d, pending = _header(path, f, fmt)
        want = n if n is not None else None
        if limit is not None:
            want = limit if want is None else min(limit, want)
        if fmt == "word2vec-binary":
            words, vecs = _read_binary_rows(f, path, n, d, want, unicode_errors)
        else:
            words, vecs, lineno = _read_text_rows(f, path, n, d, want, pending, unicode_errors)
            if n is not None and limit is None:
                _check_no_more_rows(f, path, n, lineno)
        return _finish(path, words, vecs)


def _read_binary_rows(f, path, n, d, want, unicode_errors):
    """The ``want`` (word, 4*d little-endian float32 bytes) records after the header."""
    step = 4 * d
    left = _plain_size(f)
    # each vector takes at least a one-byte word, a space and 4*d bytes: a header
    # claiming 10**12 rows is refused here, before anything is allocated
    if left is not None and want * (step + 2) > left + want:
        raise FirthError(f"{path}: header promises {n} vectors of {d} dimensions, but the file holds at most "
                         f"{left // (step + 1)}; the header is wrong or the file truncated")
    block = max(want, 1) if left is not None else 65536  # compressed: grow as data arrives
    chunks: list[np.ndarray] = []
    words: list[str] = []
    for i in range(want):
        if i % block == 0:
            chunks.append(np.empty((min(block, want - i), d), dtype=np.float32))
        word = _read_word(f, path, i, n, unicode_errors)
        buf = f.read(step)
        if len(buf) != step:
            raise FirthError(f"{path}: truncated: vector {i + 1} of {n} ({word!r}) is incomplete")
        chunks[-1][i % block] = np.frombuffer(buf, dtype="<f4")
        words.append(word)
    vecs = chunks[0] if len(chunks) == 1 else np.concatenate(chunks) if chunks else np.zeros((0, d), np.float32)
    return words, vecs


def _read_text_rows(f, path, n, d, want, pending, unicode_errors):
    """Up to ``want`` (all if None) lines 'word v1 .. vd' after the header (``pending``: a first
    line already read, when there is no header). Returns (words, vectors, last line number read)."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    lineno = 0 if n is None else 1
    pending_lines = [pending] if pending is not None else []
    while want is None or len(words) < want:
        raw = pending_lines.pop() if pending_lines else f.readline()
        lineno += 1
        if not raw:
            if n is not None and len(words) < (want or 0):
                raise FirthError(f"{path}: truncated: header promises {n} vectors, found {len(words)}")
            break
        parts = _split_text_line(path, lineno, raw, d, unicode_errors)
        if parts is None:
            continue
        try:
            rows.append(np.array(parts[1:], dtype=np.float32))
        except ValueError:
            raise FirthError(f"{path}: line {lineno}: a value is not a number") from None
        words.append(parts[0])
    return words, (np.stack(rows) if rows else np.zeros((0, d), dtype=np.float32)), lineno


def _split_text_line(path, lineno, raw, d, unicode_errors):
    """A line's word and d values as strings; None for a blank line."""
    if len(raw) > 64 * d + (1 << 16):  # ~20 characters a number, plus the word
        raise FirthError(f"{path}: line {lineno + 1}: over {len(raw)} bytes for {d} values; not a vectors line")
    try:
        text = raw.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError as e:
        raise FirthError(f"{path}: line {lineno}: not UTF-8 ({e.reason} at byte {e.start})") from None
    parts = text.rstrip("\n").rstrip(" ").split(" ")
    if len(parts) == 1 and not parts[0].strip():
        return None
    if len(parts) != d + 1:
        parts = text.split()
    if len(parts) != d + 1:
        raise FirthError(f"{path}: line {lineno}: expected a word and {d} values, found {len(parts) - 1} values")
    return parts


def _check_no_more_rows(f, path, n, lineno):
    """The header is not trusted: more rows than it says are an error, not silently dropped."""
    while True:
        extra = f.readline(1 << 16)
        if not extra:
            return
        lineno += 1
        if extra.strip():
            raise FirthError(f"{path}: line {lineno}: the header says {n} vectors but the file has more; "
                             "fix the header's first number")


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


def _finish(path, words, vecs):
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
    return words, vecs


# ------------------------------------------------------------------ writing
# Characters a word cannot hold in each format, and why. word2vec.c's ReadWord ends a word
# only at ' ', '\t' and '\n' (and drops '\r'), so words with other whitespace (NBSP, U+3000,
# U+2028, U+0085, '\v', '\f') are written byte for byte as word2vec.c writes them; firth's
# and gensim's readers split lines on ' ' and keep them. Facebook fastText reads .vec words
# with ``operator>>``, which also splits on '\v' and '\f' (C-locale isspace), so .vec refuses
# those two. Non-ASCII whitespace is never a separator for a byte-level C reader.
_W2V_BREAKS = frozenset(" \t\n\r")
_VEC_BREAKS = _W2V_BREAKS | frozenset("\v\f")

def write_word2vec(path, words, vectors, format: str) -> None:
    """Write ``words`` and ``vectors`` atomically as ``format`` (one of WORD2VEC_FORMATS)."""
    if format not in WORD2VEC_FORMATS:
        raise FirthError(f"--format {format!r}: expected one of {', '.join(WORD2VEC_FORMATS)}")
    breaks = _VEC_BREAKS if format == "vec" else _W2V_BREAKS
    for w in words:
        if not w or any(c in breaks for c in w):
            raise FirthError(f"word {w!r} is empty or holds whitespace that {format} readers split words on "
                             f"({''.join(sorted(breaks))!r}): the format cannot hold it; use --format native")
    path = Path(path)
    if format == "word2vec-binary":
        vecs = np.asarray(vectors, dtype="<f4")
        with atomic_write(path, "wb") as f:
            f.write(f"{len(words)} {vecs.shape[1]}\n".encode())
            for i, w in enumerate(words):
                f.write(w.encode("utf-8", errors="surrogateescape") + b" " + vecs[i].tobytes() + b"\n")
    else:  # word2vec-text and fastText .vec are the same format; .vec ends lines with a space
        tail = " \n" if format == "vec" else "\n"
        vecs = np.asarray(vectors, dtype=np.float32)
        with atomic_write(path, "wb") as f:
            buf = io.StringIO()
            buf.write(f"{len(words)} {vecs.shape[1]}\n")
            for start in range(0, len(words), 4096):
                block = vecs[start : start + 4096]
                for w, row in zip(words[start : start + 4096], block):
                    # %.9g round-trips float32 exactly
                    buf.write(w + " " + " ".join(["%.9g" % x for x in row.tolist()]) + tail)
                f.write(buf.getvalue().encode("utf-8", errors="surrogateescape"))
                buf.seek(0)
                buf.truncate()
