"""Numba kernels for fastText: composing word vectors, and SGNS / CBOW updates over subwords.

The training updates are Facebook fastText's (``Model::update`` with the negative-sampling
loss), which differ from word2vec's in one place: the input side is the **average** of the
word's rows (its own row and its n-gram rows), and the gradient of that average is added,
unscaled, to every one of those rows (fastText divides the gradient by the number of rows
only for supervised models). :mod:`firth.embeddings.fasttext_reference` holds the same
updates in plain NumPy; a test checks that they agree.
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
