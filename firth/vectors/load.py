"""``load_vectors``: any supported file, detected from its content, as the right vectors class.

The codecs in :mod:`firth.vectors.formats` read plain data; this module builds
:class:`~firth.vectors.keyed.KeyedVectors` or :class:`~firth.vectors.fasttext.FastTextVectors`
from it. It is the one place that knows both the formats and the classes (see
docs/ARCHITECTURE.md: why the classes never import this module).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from firth.errors import FirthError
from firth.vectors.fasttext import FastTextVectors
from firth.vectors.formats import detect_format
from firth.vectors.formats.fasttext_bin import read_fasttext_bin
from firth.vectors.formats.native import read_native
from firth.vectors.formats.word2vec import read_word2vec
from firth.vectors.keyed import KeyedVectors

# The classes a native archive may name (never an arbitrary import from a file).
NATIVE_CLASSES = {cls.NATIVE_CLASS: cls for cls in (KeyedVectors, FastTextVectors)}


def load_vectors(path, limit: int | None = None, mmap: bool = True, unicode_errors: str = "strict") -> KeyedVectors:
    """Load vectors from any supported format; ``limit`` keeps the N first (most frequent)."""
    if limit is not None and limit < 1:
        raise FirthError(f"--limit {limit}: must be a positive number of words")
    fmt = detect_format(path)
    if fmt == "native":
        return load_native(path, limit, mmap)
    if fmt == "fasttext-bin":
        return load_fasttext_bin(path, limit=limit)
    words, vectors = read_word2vec(path, fmt, limit, unicode_errors)
    return KeyedVectors(words, vectors)


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
