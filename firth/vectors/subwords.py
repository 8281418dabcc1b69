"""fastText subwords: character n-grams of ``<word>`` and Facebook's hashing of them.

Exactly what Facebook's fastText (``Dictionary::computeSubwords``) does, so that n-gram ids
agree with theirs and a ``.bin`` model read by firth gives the same vectors:

* the word is wrapped as ``<word>``; its n-grams are all runs of ``minn <= n <= maxn``
  **Unicode characters** (Facebook walks UTF-8 and never splits a multi-byte character, which
  is the same thing);
* the result is a **list with repeats** ("banana" yields "ana" twice, and both rows count in
  the average);
* ``<word>`` itself is one of them when its length (with the brackets) is ``<= maxn``;
* a lone ``<`` or ``>`` is never an n-gram (matters only when ``minn == 1``);
* the end-of-sentence token ``</s>`` has no subwords;
* each n-gram is hashed with Facebook's 32-bit FNV-1a variant, which XORs the UTF-8 bytes in
  as *signed* chars (so a byte >= 0x80 is sign-extended to 0xFFFFFFxx before the XOR), and
  taken modulo ``bucket``; its row in the input matrix is ``nwords + hash % bucket``.

Two implementations: plain Python (``ngrams``, ``fnv1a_hash``, ``ngram_hashes``: readable, the
reference) and Numba (``subword_table``: every word of a vocabulary at once, for training and
loading); a test checks they agree.
"""

from __future__ import annotations

import numpy as np

BOW = "<"
EOW = ">"
EOS = "</s>"

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def fnv1a_hash(data: str | bytes) -> int:
    """Facebook fastText's ``Dictionary::hash``: 32-bit FNV-1a over UTF-8 bytes as signed chars."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    h = _FNV_OFFSET
    for b in data:
        sb = b - 256 if b >= 128 else b  # int8_t(c)
        h ^= sb & 0xFFFFFFFF  # uint32_t(int8_t(c)): sign extension
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def ngrams(word: str, minn: int = 3, maxn: int = 6) -> list[str]:
    """The character n-grams of ``<word>`` in Facebook's order (a list, with repeats).

    >>> ngrams("where", 3, 3)
    ['<wh', 'whe', 'her', 'ere', 're>']
    """
    if word == EOS or maxn <= 0:
        return []
    w = BOW + word + EOW
    out = []
    L = len(w)
    for i in range(L):
        for n in range(1, maxn + 1):
            if i + n > L:
                break
            if n >= minn and not (n == 1 and (i == 0 or i + n == L)):
                out.append(w[i : i + n])
    return out


def ngram_hashes(word: str, minn: int = 3, maxn: int = 6, bucket: int = 2_000_000) -> list[int]:
    """Bucket ids (``hash % bucket``, 0-based; add ``nwords`` for the matrix row) of ``ngrams``."""
    if bucket <= 0:
        return []
    return [fnv1a_hash(g) % bucket for g in ngrams(word, minn, maxn)]


def subword_rows(word: str, vocab_index: int | None, nwords: int, minn: int, maxn: int, bucket: int) -> list[int]:
    """Rows of the input matrix that make up ``word``'s vector, as Facebook's ``getSubwords``.

    An in-vocabulary word has its own row first, then its n-gram rows; an unseen word only
    its n-gram rows (maybe none).
    """
    rows = [] if vocab_index is None else [vocab_index]
    rows.extend(nwords + h for h in ngram_hashes(word, minn, maxn, bucket))
    return rows


# ----------------------------------------------------------------------------- Numba version


def _pack_words(words) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 of every ``<word>`` (``</s>`` left empty) concatenated, with offsets (n+1,)."""
    parts = []
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    pos = 0
    for i, w in enumerate(words):
        b = b"" if w == EOS else (BOW + w + EOW).encode("utf-8", errors="surrogateescape")
        parts.append(b)
        pos += len(b)
        offsets[i + 1] = pos
    buf = np.frombuffer(b"".join(parts), dtype=np.uint8) if pos else np.zeros(0, np.uint8)
    return buf, offsets


def fnv1a_hash_numba(data: str | bytes) -> int:
    """Numba version of :func:`fnv1a_hash` (for tests; the tables use the fused loop)."""
    from firth.vectors.kernels import hash_bytes

    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    return int(hash_bytes(np.frombuffer(data, dtype=np.uint8) if data else np.zeros(0, np.uint8)))


def subword_table(words, minn: int = 3, maxn: int = 6, bucket: int = 2_000_000, include_word: bool = True,
                  base: int | None = None):
    """Subword rows of every word of a vocabulary, in CSR form (Numba).

    Returns ``(offsets, rows)``: the rows of word ``k`` are ``rows[offsets[k]:offsets[k+1]]``,
    its own row ``k`` first when ``include_word`` (as Facebook's ``words_[k].subwords``), then
    ``base + hash % bucket`` for each n-gram; ``base`` defaults to ``len(words)`` (Facebook's
    row numbering of one input matrix); ``base=0`` gives plain bucket ids. Int32 (checked).
    """
    from firth.vectors.kernels import count_and_fill, per_word_counts  # numba: only when tables are built

    words = list(words)
    nwords = len(words)
    if base is None:
        base = nwords
    if base + max(bucket, 0) >= 2**31:
        raise ValueError("nwords + bucket must be < 2**31")
    buf, offs = _pack_words(words)
    active = maxn > 0 and bucket > 0
    counts = per_word_counts(buf, offs, minn, maxn) if active else np.zeros(nwords, np.int64)
    extra = 1 if include_word else 0
    offsets = np.zeros(nwords + 1, dtype=np.int64)
    np.cumsum(counts + extra, out=offsets[1:])
    flat = np.empty(int(counts.sum()), dtype=np.int64)
    if active:
        count_and_fill(buf, offs, minn, maxn, bucket, np.int64(base), flat, True)
    if not include_word:
        return offsets, flat.astype(np.int32)
    rows = np.empty(int(offsets[-1]), dtype=np.int32)
    starts = offsets[:-1]
    rows[starts] = np.arange(nwords, dtype=np.int32)
    mask = np.ones(rows.shape[0], dtype=bool)
    mask[starts] = False
    rows[mask] = flat
    return offsets, rows
