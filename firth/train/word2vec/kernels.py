"""Numba kernels for word2vec training (skip-gram / CBOW with negative sampling).

Every kernel processes a *job*: a range of sentences ``[s0, s1)`` of an encoded corpus
(``ids`` int32, ``offsets`` int64), for one epoch, in one thread, with the GIL released
(``nogil=True``), so several Python threads can train the same float32 matrices at once
(Hogwild). Nothing in here allocates per sentence or calls back into Python.

Randomness is word2vec.c's 64-bit linear congruential generator
``r = r * 25214903917 + 11 (mod 2**64)``, seeded per job from (seed, epoch, job) by
``job_seed``. The draws are taken in a fixed order, which ``reference.py`` reproduces
exactly (it is the readable oracle of these kernels):

* per token, when its keep-probability is < 1: one draw, kept iff
  ``keep[w] >= ((r >> 24) & 0xFFFFFF) / 2**24`` (subsampling happens before windowing);
* per position: one draw, reduced window ``b = window - (r >> 16) % window`` (1..window);
* per negative: one draw, an alias-table sample (``noise_sample``).

Updates follow word2vec.c: skip-gram predicts the centre word from each context word
(``syn0[context]`` is the input row); CBOW predicts it from the sum or mean of the context
rows and adds the hidden-layer gradient to every context row (for the mean, word2vec.c and
gensim do not divide it by the window size; neither do we). A negative equal to the
positive word is skipped. The sigmoid and the loss (the negative log-likelihood
``softplus(-f)`` / ``softplus(f)``, summed in float64) come from tables on [-8, 8] read with
linear interpolation (within 2e-6 of the exact functions; exact formulas outside).

``tied`` training passes the same array as ``syn0`` and ``syn1``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import _fill_sentence, _sig_loss, job_extent, lcg, noise_sample


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_pairs(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, classic word2vec.c per-pair updates. Returns (loss, words, pairs)."""
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    neu1e = np.zeros(dim, np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    pairs = 0
    done = 0
    for s in range(s0, s1):
        a = offsets[s]
        b = offsets[s + 1]
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1)))
        done += b - a
        n, r = _fill_sentence(ids, a, b, keep, buf, r)
        for i in range(n):
            w = buf[i]
            r = lcg(r)
            bw = window - np.int64((r >> np.uint64(16)) % uw)
            lo = max(0, i - bw)
            hi = min(n, i + bw + 1)
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    neu1e[k] = 0.0
                for d in range(negative + 1):
                    if d == 0:
                        t = w
                        label = 1
                    else:
                        r = lcg(r)
                        t = noise_sample(r, prob, alias)
                        if t == w:
                            continue
                        label = 0
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += syn0[c, k] * syn1[t, k]
                    sg, ls = _sig_loss(f, label)
                    loss += ls
                    g = np.float32((label - sg) * alpha)
                    for k in range(dim):  # one pass: neu1e from the old row, then update it
                        neu1e[k] += g * syn1[t, k]
                        syn1[t, k] += g * syn0[c, k]
                for k in range(dim):
                    syn0[c, k] += neu1e[k]
                pairs += 1
    return loss, total, pairs


@njit(nogil=True, fastmath=True, cache=True)
def train_cbow(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed, cbow_mean):
    """CBOW with negative sampling (context mean or sum). Returns (loss, words, examples)."""
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    neu1 = np.zeros(dim, np.float32)
    neu1e = np.zeros(dim, np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    examples = 0
    done = 0
    for s in range(s0, s1):
        a = offsets[s]
        b = offsets[s + 1]
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1)))
        done += b - a
        n, r = _fill_sentence(ids, a, b, keep, buf, r)
        for i in range(n):
            w = buf[i]
            r = lcg(r)
            bw = window - np.int64((r >> np.uint64(16)) % uw)
            lo = max(0, i - bw)
            hi = min(n, i + bw + 1)
            for k in range(dim):
                neu1[k] = 0.0
                neu1e[k] = 0.0
            cw = 0
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    neu1[k] += syn0[c, k]
                cw += 1
            if cw == 0:
                continue
            if cbow_mean:
                inv = np.float32(1.0 / cw)
                for k in range(dim):
                    neu1[k] *= inv
            for d in range(negative + 1):
                if d == 0:
                    t = w
                    label = 1
                else:
                    r = lcg(r)
                    t = noise_sample(r, prob, alias)
                    if t == w:
                        continue
                    label = 0
                f = np.float32(0.0)
                for k in range(dim):
                    f += neu1[k] * syn1[t, k]
                sg, ls = _sig_loss(f, label)
                loss += ls
                g = np.float32((label - sg) * alpha)
                for k in range(dim):
                    neu1e[k] += g * syn1[t, k]
                    syn1[t, k] += g * neu1[k]
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    syn0[c, k] += neu1e[k]
            examples += 1
    return loss, total, examples
