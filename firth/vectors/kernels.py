"""Numba code of the read side: composing fastText word vectors, and subword hashing of a whole vocabulary.

``subwords.py`` holds the readable Python versions (``ngrams``, ``fnv1a_hash``); these
kernels do every word of a vocabulary at once (for loading and training); tests check they agree.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def compose_rows(word_rows, ngram_rows, offsets, ids, out):
    """out[k] = (word_rows[k] + sum ngram_rows[ids[offsets[k]:offsets[k+1]]]) / (1 + count),
    summed in float32 in Facebook's order (word row first), scaled by float32(1 / n)."""
    n_words = out.shape[0]
    dim = out.shape[1]
    for k in range(n_words):
        for d in range(dim):
            out[k, d] = word_rows[k, d]
        s = offsets[k]
        e = offsets[k + 1]
        for p in range(s, e):
            r = ids[p]
            for d in range(dim):
                out[k, d] += ngram_rows[r, d]
        scale = np.float32(1.0 / (1 + e - s))
        for d in range(dim):
            out[k, d] *= scale


@numba.njit(cache=True, nogil=True)
def count_and_fill(buf, offsets, minn, maxn, bucket, base, out, fill):
    # One pass counts (fill=False) or writes (fill=True) the rows of every word.
    n_words = offsets.shape[0] - 1
    total = 0
    for k in range(n_words):
        s = offsets[k]
        e = offsets[k + 1]
        for i in range(s, e):
            if (buf[i] & 0xC0) == 0x80:
                continue
            h = np.int64(2166136261)
            j = i
            n = 1
            while j < e and n <= maxn:
                c = buf[j]
                j += 1
                sc = np.int64(c) - 256 if c >= 128 else np.int64(c)
                h = ((h ^ (sc & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
                while j < e and (buf[j] & 0xC0) == 0x80:
                    c = buf[j]
                    j += 1
                    sc = np.int64(c) - 256 if c >= 128 else np.int64(c)
                    h = ((h ^ (sc & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
                if n >= minn and not (n == 1 and (i == s or j == e)):
                    if fill:
                        out[total] = base + h % bucket
                    total += 1
                n += 1
    return total

@numba.njit(cache=True, nogil=True)
def per_word_counts(buf, offsets, minn, maxn):
    n_words = offsets.shape[0] - 1
    counts = np.zeros(n_words, np.int64)
    for k in range(n_words):
        s = offsets[k]
        e = offsets[k + 1]
        c = 0
        for i in range(s, e):
            if (buf[i] & 0xC0) == 0x80:
                continue
            j = i
            n = 1
            while j < e and n <= maxn:
                j += 1
                while j < e and (buf[j] & 0xC0) == 0x80:
                    j += 1
                if n >= minn and not (n == 1 and (i == s or j == e)):
                    c += 1
                n += 1
        counts[k] = c
    return counts

@numba.njit(cache=True, nogil=True)
def hash_bytes(buf):
    h = np.int64(2166136261)
    for i in range(buf.shape[0]):
        c = buf[i]
        sc = np.int64(c) - 256 if c >= 128 else np.int64(c)
        h = ((h ^ (sc & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h
