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

Each kernel is the job loop of :func:`firth.train.kernels.for_each_window` with its own
step for one window; the negative-sampling update is ``ns_update`` there, written once for
word2vec's and fastText's kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import _sig_loss, add_row, for_each_window, lcg, noise_sample, ns_update, scale, sum_row


@njit(nogil=True, fastmath=True, cache=True)
def _sg_pairs_window(buf, n, i, lo, hi, r, alpha, args):
    syn0, syn1, prob, alias, negative, neu1e = args
    loss = 0.0
    for j in range(lo, hi):
        if j != i:
            neu1e[:] = 0.0
            ls, r = ns_update(syn0[buf[j]], buf[i], syn1, neu1e, r, negative, prob, alias, alpha)
            loss += ls
            add_row(syn0, buf[j], neu1e)
    return r, loss, hi - lo - 1


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_pairs(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, classic word2vec.c per-pair updates: the context word's row predicts the
    centre word. Returns (loss, words, pairs)."""
    args = (syn0, syn1, prob, alias, negative, np.zeros(syn0.shape[1], np.float32))
    return for_each_window(ids, offsets, s0, s1, keep, window, alpha0, alpha1, seed, _sg_pairs_window, args)


@njit(nogil=True, fastmath=True, cache=True)
def _sg_batch_window(buf, n, i, lo, hi, r, alpha, args):
    syn0, syn1, prob, alias, negative, ctx, tgt, lab, G, gin, gout = args
    dim = syn0.shape[1]
    w = buf[i]
    nc = 0
    for j in range(lo, hi):
        if j != i:
            ctx[nc] = buf[j]
            nc += 1
    tgt[0] = w
    lab[0] = 1.0
    nt = 1
    for d in range(negative):
        r = lcg(r)
        t = noise_sample(r, prob, alias)
        if t != w:
            tgt[nt] = t
            lab[nt] = 0.0
            nt += 1
    # scores, gradient coefficients and both gradients, all from the values before this
    # window's update: per context row p, its dots with the shared targets, then
    # gin[p] += G[p, q] * syn1[t_q] and gout[q] += G[p, q] * syn0[c_p]
    loss = 0.0
    for q in range(nt):
        for k in range(dim):
            gout[q, k] = 0.0
    for p in range(nc):
        c = ctx[p]
        for q in range(nt):
            t = tgt[q]
            f = np.float32(0.0)
            for k in range(dim):
                f += syn0[c, k] * syn1[t, k]
            sg, ls = _sig_loss(f, lab[q] > 0.5)
            loss += ls
            G[p, q] = np.float32((lab[q] - sg) * alpha)
        for k in range(dim):
            gin[p, k] = 0.0
        for q in range(nt):
            g = G[p, q]
            t = tgt[q]
            for k in range(dim):
                gin[p, k] += g * syn1[t, k]
                gout[q, k] += g * syn0[c, k]
    for q in range(nt):
        add_row(syn1, tgt[q], gout[q])
    for p in range(nc):
        add_row(syn0, ctx[p], gin[p])
    return r, loss, nc


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_batch(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, "HogBatch" (Ji et al. 2016): a window's context words share negatives.

    For centre word w with context rows C (|C| <= 2*window) and targets T = (w, n_1..n_k),
    the scores C·Tᵀ, the input gradients G·T and the output gradients Gᵀ·C are small dense
    products computed from the values before the update, then applied.
    Returns (loss, words, pairs).
    """
    nt, nc, dim = negative + 1, 2 * window, syn0.shape[1]
    args = (syn0, syn1, prob, alias, negative, np.empty(nc, np.int64), np.empty(nt, np.int64),
            np.empty(nt, np.float32), np.empty((nc, nt), np.float32), np.empty((nc, dim), np.float32),
            np.empty((nt, dim), np.float32))
    return for_each_window(ids, offsets, s0, s1, keep, window, alpha0, alpha1, seed, _sg_batch_window, args)


@njit(nogil=True, fastmath=True, cache=True)
def _cbow_window(buf, n, i, lo, hi, r, alpha, args):
    syn0, syn1, prob, alias, negative, cbow_mean, neu1, neu1e = args
    neu1[:] = 0.0
    neu1e[:] = 0.0
    for j in range(lo, hi):
        if j != i:
            sum_row(neu1, syn0, buf[j])
    if cbow_mean:
        scale(neu1, np.float32(1.0 / (hi - lo - 1)))
    loss, r = ns_update(neu1, buf[i], syn1, neu1e, r, negative, prob, alias, alpha)
    for j in range(lo, hi):
        if j != i:
            add_row(syn0, buf[j], neu1e)
    return r, loss, 1


@njit(nogil=True, fastmath=True, cache=True)
def train_cbow(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed, cbow_mean):
    """CBOW with negative sampling (context mean or sum). Returns (loss, words, examples)."""
    dim = syn0.shape[1]
    args = (syn0, syn1, prob, alias, negative, cbow_mean, np.zeros(dim, np.float32), np.zeros(dim, np.float32))
    return for_each_window(ids, offsets, s0, s1, keep, window, alpha0, alpha1, seed, _cbow_window, args)
