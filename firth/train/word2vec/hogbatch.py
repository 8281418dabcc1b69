"""Numba kernel for skip-gram "HogBatch" (Ji et al. 2016; pWord2Vec's scheme).

A window's context words share one set of negatives, so each centre word's update is a
few small dense products (scores, input and output gradients) computed from the values
before the update, then applied. Job interface, random draws and loss tables as in
``firth.train.word2vec.kernels``; ``firth.train.word2vec.reference.train_sg_batch`` is the
readable oracle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import _fill_sentence, _sig_loss, job_extent, lcg, noise_sample


@njit(nogil=True, fastmath=True, cache=True)
def train_sg_batch(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, "HogBatch" (Ji et al. 2016): a window's context words share negatives.

    For centre word w with context rows C (|C| <= 2*window) and targets T = (w, n_1..n_k),
    the scores C·Tᵀ, the input gradients G·T and the output gradients Gᵀ·C are small dense
    products computed from the values before the update, then applied.
    Returns (loss, words, pairs).
    """
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    nt_max = negative + 1
    nc_max = 2 * window
    ctx = np.empty(nc_max, np.int64)
    tgt = np.empty(nt_max, np.int64)
    lab = np.empty(nt_max, np.float32)
    G = np.empty((nc_max, nt_max), np.float32)
    gin = np.empty((nc_max, dim), np.float32)
    gout = np.empty((nt_max, dim), np.float32)
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
            nc = 0
            for j in range(lo, hi):
                if j != i:
                    ctx[nc] = buf[j]
                    nc += 1
            if nc == 0:
                continue
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
            # scores, gradient coefficients and both gradients, all from the values
            # before this window's update: per context row p, its dots with the shared
            # targets, then gin[p] += G[p, q] * syn1[t_q] and gout[q] += G[p, q] * syn0[c_p]
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
                t = tgt[q]
                for k in range(dim):
                    syn1[t, k] += gout[q, k]
            for p in range(nc):
                c = ctx[p]
                for k in range(dim):
                    syn0[c, k] += gin[p, k]
            pairs += nc
    return loss, total, pairs
