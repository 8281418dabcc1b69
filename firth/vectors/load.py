"""``load_vectors``: any supported file, detected from its content, as the right vectors class.

The codecs in :mod:`firth.vectors.formats` read plain data; this module builds
:class:`~firth.vectors.keyed.KeyedVectors` or :class:`~firth.vectors.fasttext.FastTextVectors`
from it. It is the one place that knows both the formats and the classes (see
docs/ARCHITECTURE.md: why the classes never import this module).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from firth.errors import FirthError
from firth.vectors.fasttext import FastTextVectors
from firth.vectors.formats import detect_format
from firth.vectors.formats.fasttext_bin import read_fasttext_bin
from firth.vectors.formats.native import read_native
from firth.vectors.formats.word2vec import read_word2vec
from firth.vectors.keyed import KeyedVectors

# The classes a native archive may name (never an arbitrary import from a file).
NATIVE_CLASSES = {cls.NATIVE_CLASS: cls for cls in (KeyedVectors, FastTextVectors)}


def load_vectors(path, limit: int | None = None, mmap: bool = True, unicode_errors: str = "strict",
                 nonfinite: str = "error") -> KeyedVectors:
    """Load vectors from any supported format; ``limit`` keeps the N first (most frequent).

    Rows holding NaN or infinity are refused, naming the first such word
    (``nonfinite="drop"`` leaves those words out instead, for word2vec/.vec/native files).
    """
    if limit is not None and limit < 1:
        raise FirthError(f"--limit {limit}: must be a positive number of words")
    if nonfinite not in ("error", "drop"):
        raise FirthError(f"nonfinite={nonfinite!r}: expected 'error' or 'drop'")
    fmt = detect_format(path)
    if fmt == "native":
        kv = load_native(path, limit, mmap)
    elif fmt == "fasttext-bin":
        kv = load_fasttext_bin(path, limit=limit)
    else:
        words, vectors = read_word2vec(path, fmt, limit, unicode_errors)
        kv = KeyedVectors(words, vectors)
    return _finite(path, kv, nonfinite)


def _bad_rows(matrix: np.ndarray) -> np.ndarray:
    """Indices of rows with NaN/inf, scanned in blocks (a memory-mapped matrix stays mapped)."""
    bad = []
    for s in range(0, matrix.shape[0], 65536):
        block = np.asarray(matrix[s : s + 65536])
        ok = np.isfinite(block).all(axis=1)
        if not ok.all():
            bad.append(s + np.flatnonzero(~ok))
    return np.concatenate(bad) if bad else np.zeros(0, np.int64)


def _finite(path, kv: KeyedVectors, nonfinite: str) -> KeyedVectors:
    bad = _bad_rows(kv.vectors)
    if isinstance(kv, FastTextVectors):
        ngram_bad = _bad_rows(kv.vectors_ngrams)
        if len(ngram_bad):
            raise FirthError(f"{path}: n-gram row {int(ngram_bad[0])} holds NaN or infinity ({len(ngram_bad)} such "
                             "rows); the model diverged in training or the file is damaged")
    if not len(bad):
        return kv
    first = kv.index_to_key[int(bad[0])]
    if nonfinite == "error" or isinstance(kv, FastTextVectors):
        how = "" if isinstance(kv, FastTextVectors) else "; load_vectors(..., nonfinite='drop') leaves them out"
        raise FirthError(f"{path}: the vector of {first!r} holds NaN or infinity ({len(bad)} such words){how}")
    keep = np.setdiff1d(np.arange(len(kv)), bad)
    if not len(keep):
        raise FirthError(f"{path}: every vector holds NaN or infinity")
    warnings.warn(f"{path}: left out {len(bad)} words whose vectors hold NaN or infinity (first: {first!r})",
                  stacklevel=3)
    words = [kv.index_to_key[i] for i in keep]
    counts = None if kv.counts is None else np.asarray(kv.counts)[keep]
    return KeyedVectors(words, np.asarray(kv.vectors)[keep], counts, kv.normalizer, kv.meta)


def save_vectors(kv: KeyedVectors, path, format: str = "native") -> None:
    """Write ``kv`` to ``path`` atomically in one of ``firth.vectors.formats.FORMATS`` (``kv.save``)."""
    kv.save(path, format=format)


def load_native(path, limit: int | None = None, mmap: bool = True) -> KeyedVectors:
    """A firth archive as the class it names (KeyedVectors or FastTextVectors)."""
    data = read_native(path, limit, mmap)
    cls = NATIVE_CLASSES.get(data.cls_name)
    if cls is None:
        raise FirthError(f"{path}: unknown vectors class {data.cls_name!r}")
    return cls._from_native(data.words, data.vectors, data.counts, data.normalizer, data.meta, data.extra, data.arrays)


def load_fasttext_bin(path, limit: int | None = None, output: bool = False) -> FastTextVectors:
    """A Facebook ``.bin`` as :class:`FastTextVectors` (vectors equal to ``get_word_vector``).

    ``limit`` keeps the N most frequent words; all n-gram rows are kept, so unseen words (and
    the words cut by ``limit``) still get their n-gram vectors.
    """
    fb = read_fasttext_bin(path, limit=limit, output=output)
    for note in fb.notes:
        warnings.warn(f"{fb.path}: {note}", stacklevel=2)
    nwords = fb.nwords_total
    keep = len(fb.words)
    if not keep:
        raise FirthError(f"{fb.path}: the fastText model has no words")
    a = fb.args
    maxn = a["maxn"]
    word_rows = fb.input[:keep]
    ngram_rows = fb.input[nwords:] if maxn > 0 else fb.input[nwords:nwords]
    meta = {
        "source": "facebook-fasttext",
        "fasttext_args": {k: v for k, v in a.items()},
        "model": fb.model_name,
        "ntokens": int(fb.ntokens),
    }
    if fb.notes:
        meta["note"] = " ".join(fb.notes)
    return FastTextVectors(
        fb.words, word_rows, ngram_rows, a["minn"], maxn, counts=fb.counts, meta=meta, output=fb.output,
    )
