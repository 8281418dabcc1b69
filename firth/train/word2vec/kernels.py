"""Numba kernels for word2vec training (skip-gram / CBOW with negative sampling).

Every kernel processes a *job* (``Job``: a range of sentences ``[s0, s1)``, the learning
rates, the seed) of an encoded corpus (``Sentences``: ``ids`` int32, ``offsets`` int64), for
one epoch, in one thread, with the GIL released
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

The window, the draws and the negative-sampling update are the inlined helpers of
``firth.train.kernels`` (``sentence``, ``reduced_window``, ``ns_step``), so each kernel reads
like its reference: for each sentence, for each position, the update.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import add_row, add_to_row, job_start, ns_step, reduced_window, scale_by, sentence, zero


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_sg_pairs(sents, job, syn0, syn1, sampling):
    """Skip-gram, classic word2vec.c per-pair updates: each context row predicts the centre
    word. ``sents``/``job``/``sampling``: ``firth.train.kernels.Sentences``/``Job``/``Sampling``.
    Returns (loss, words, pairs)."""
    total, buf, r = job_start(sents, job)
    neu1e = np.zeros(syn0.shape[1], np.float32)
    loss, pairs = 0.0, 0
    for s in range(job.s0, job.s1):
        n, alpha, r = sentence(sents, s, job, total, sampling.keep, buf, r)
        for i in range(n):
            lo, hi, r = reduced_window(i, n, sampling.window, r)
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                loss, r = ns_step(syn0[c], buf[i], syn1, sampling, alpha, neu1e, loss, r)
                add_to_row(syn0, c, neu1e)
                pairs += 1
    return loss, total, pairs


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _context_sum(syn0, buf, lo, hi, i, neu1):
    """neu1 = the sum of the context rows buf[lo..hi-1] but i. Returns their number."""
    zero(neu1)
    for j in range(lo, hi):
        if j != i:
            add_row(neu1, syn0, buf[j])
    return hi - lo - 1


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_cbow(sents, job, syn0, syn1, sampling, cbow_mean):
    """CBOW with negative sampling: the context mean (or sum) predicts the centre word, and
    the hidden gradient is added to every context row. Returns (loss, words, examples)."""
    total, buf, r = job_start(sents, job)
    neu1, neu1e = np.zeros(syn0.shape[1], np.float32), np.zeros(syn0.shape[1], np.float32)
    loss, examples = 0.0, 0
    for s in range(job.s0, job.s1):
        n, alpha, r = sentence(sents, s, job, total, sampling.keep, buf, r)
        for i in range(n):
            lo, hi, r = reduced_window(i, n, sampling.window, r)
            cw = _context_sum(syn0, buf, lo, hi, i, neu1)
            if cw == 0:
                continue
            if cbow_mean:
                scale_by(neu1, np.float32(1.0 / cw))
            loss, r = ns_step(neu1, buf[i], syn1, sampling, alpha, neu1e, loss, r)
            for j in range(lo, hi):
                if j != i:
                    add_to_row(syn0, buf[j], neu1e)
            examples += 1
    return loss, total, examples
