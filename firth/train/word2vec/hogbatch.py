"""Numba kernel for skip-gram "HogBatch" (Ji et al. 2016; pWord2Vec's scheme).

A window's context words share one set of negatives, so each centre word's update is a
few small dense products (scores, input and output gradients) computed from the values
before the update, then applied. Grouped parameters (``Sentences``, ``Job``, ``Sampling``),
the sentence, window and noise draws (the inlined helpers of ``firth.train.kernels``) and
the loss as in ``firth.train.word2vec.kernels``; ``firth.train.word2vec.reference.train_sg_batch`` is the
readable oracle.

How it is made fast (benchmarks/RESULTS.md, issue 18, "HogBatch kernel speed"):

* register blocking: each pass over ``dim`` serves several products at once: three
  (context, target) dots per load of a context row; two context rows' input gradients from
  three target rows; two target rows' updates from three context rows. A pass over 100
  floats is a handful of vector instructions, so the loads and loop overhead, not the
  multiplies, were the cost;
* the row length is a compile-time constant for dim 100 and 300 (the window update is
  compiled three times: 100, 300, any), so a row's tail needs no loop;
* no output-gradient buffer: ``syn1[t] += sum_p G[p, t] syn0[c_p]`` is added in place
  (it reads only ``syn0``, which changes afterwards); only when ``syn0`` and ``syn1`` are
  one matrix (``--tied``) does it go through a buffer, so every product still sees the
  values before the window's update;
* a sentence's draws (reduced windows, negatives) are taken before its windows are
  trained, in the same order as before, so the next window's target rows can be
  prefetched while the current one trains (``prefetch_row``);
* the sigmoid and the loss of a window come from one branch-free pass over its scores,
  with tables on [-16, 16] (``_grad_loss``; within 3e-6 of the exact functions).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import job_start, lcg, ns_target, prefetch_row, reduced_window, sentence

# sigmoid(x) and softplus(-x) = -log sigmoid(x) on [-16, 16], 128 steps per unit, read with
# linear interpolation (error < 3e-6 in the range; beyond it the sigmoid is within 1.2e-7 of
# 0 or 1 and the loss is continued linearly, within 1.2e-7)
_TMAX = 16.0
_TSCALE = 128.0
_TN = int(2 * _TMAX * _TSCALE)
_TX = np.linspace(-_TMAX, _TMAX, _TN + 1)
SIG16 = (1.0 / (1.0 + np.exp(-_TX))).astype(np.float32)
SOFTPLUS_NEG16 = np.log1p(np.exp(-_TX)).astype(np.float32)


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _grad_loss(F, G, nc, nt, alpha):
    """G[p, q] = alpha * (label_q - sigmoid(F[p, q])) (label 1 for q == 0, else 0); returns
    the window's loss, sum of softplus(-F) (q == 0) and softplus(F) (q > 0), in float32."""
    loss = np.float32(0.0)
    for p in range(nc):
        for q in range(nt):
            f = F[p, q]
            fc = min(max(f, np.float32(-_TMAX)), np.float32(_TMAX))
            x = (fc + np.float32(_TMAX)) * np.float32(_TSCALE)
            i = min(max(np.int64(x), 0), _TN - 1)  # clamped as an integer too: a NaN score reads in bounds
            fr = x - np.float32(i)
            s = SIG16[i] + fr * (SIG16[i + 1] - SIG16[i])
            sp = SOFTPLUS_NEG16[i] + fr * (SOFTPLUS_NEG16[i + 1] - SOFTPLUS_NEG16[i])
            lab = np.float32(1.0) if q == 0 else np.float32(0.0)
            # softplus(-f) (continued linearly below -16) + f for label 0
            loss += sp + max(f, np.float32(-_TMAX)) - lab * f
            G[p, q] = (lab - s) * alpha
    return loss


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _dots(syn0, syn1, ctx, nc, tgt, nt, F, dim):
    """F[p, q] = syn0[ctx[p]] . syn1[tgt[q]], up to three targets per pass over a context row."""
    for p in range(nc):
        c = ctx[p]
        q = 0
        while q + 2 < nt:
            t0 = tgt[q]
            t1 = tgt[q + 1]
            t2 = tgt[q + 2]
            f0 = np.float32(0.0)
            f1 = np.float32(0.0)
            f2 = np.float32(0.0)
            for k in range(dim):
                x = syn0[c, k]
                f0 += x * syn1[t0, k]
                f1 += x * syn1[t1, k]
                f2 += x * syn1[t2, k]
            F[p, q] = f0
            F[p, q + 1] = f1
            F[p, q + 2] = f2
            q += 3
        while q < nt:
            t0 = tgt[q]
            f0 = np.float32(0.0)
            for k in range(dim):
                f0 += syn0[c, k] * syn1[t0, k]
            F[p, q] = f0
            q += 1


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _two_from_three(out, r0, r1, src, i0, i1, i2, a0, a1, a2, b0, b1, b2, add, dim):
    """out[r0] (+)= a0 src[i0] + a1 src[i1] + a2 src[i2], then out[r1] (+)= b0 src[i0] + ...,
    element by element in that order (r0 == r1 adds both); ``add`` False assigns. The
    register block of the gradient products: each source row loaded once for two outputs."""
    for k in range(dim):
        x0 = src[i0, k]
        x1 = src[i1, k]
        x2 = src[i2, k]
        v0 = a0 * x0 + a1 * x1 + a2 * x2
        v1 = b0 * x0 + b1 * x1 + b2 * x2
        if add:  # loop-invariant: compiled as two loops
            out[r0, k] += v0
            out[r1, k] += v1
        else:
            out[r0, k] = v0
            out[r1, k] = v1


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _two_from_one(out, r0, r1, src, i0, a0, b0, dim):
    """out[r0] += a0 src[i0], then out[r1] += b0 src[i0] (the blocks' remainder)."""
    for k in range(dim):
        x0 = src[i0, k]
        out[r0, k] += a0 * x0
        out[r1, k] += b0 * x0


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _gin(syn1, tgt, nt, G, nc, gin, dim):
    """gin[p] = sum_q G[p, q] syn1[tgt[q]] (from syn1 before the update): two context rows
    x three targets per pass, the first pass assigning."""
    for p in range(0, nc, 2):
        p1 = p + 1 if p + 1 < nc else G.shape[0] - 1  # an odd last row pairs with the scratch row
        q = 0
        while q + 2 < nt:
            _two_from_three(gin, p, p1, syn1, tgt[q], tgt[q + 1], tgt[q + 2], G[p, q], G[p, q + 1], G[p, q + 2],
                            G[p1, q], G[p1, q + 1], G[p1, q + 2], q > 0, dim)
            q += 3
        if q == 0:
            for k in range(dim):
                gin[p, k] = 0.0
                gin[p1, k] = 0.0
        while q < nt:
            _two_from_one(gin, p, p1, syn1, tgt[q], G[p, q], G[p1, q], dim)
            q += 1


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _gout(syn0, ctx, nc, G, tgt, nt, out, rows, dim):
    """out[rows[q]] += sum_p G[p, q] syn0[ctx[p]]: two targets x three context rows per pass.
    ``rows``: each target's output row, ``tgt`` (out = syn1, in place) or 0..nt-1 (a buffer)."""
    for q in range(0, nt, 2):
        r0 = rows[q]
        q1 = q + 1 if q + 1 < nt else q
        w = np.float32(1.0) if q + 1 < nt else np.float32(0.0)  # an odd last target: its pair adds nothing
        r1 = rows[q1]
        p = 0
        while p + 2 < nc:
            _two_from_three(out, r0, r1, syn0, ctx[p], ctx[p + 1], ctx[p + 2], G[p, q], G[p + 1, q], G[p + 2, q],
                            w * G[p, q1], w * G[p + 1, q1], w * G[p + 2, q1], True, dim)
            p += 3
        while p < nc:
            _two_from_one(out, r0, r1, syn0, ctx[p], G[p, q], w * G[p, q1], dim)
            p += 1


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _window(syn0, syn1, ctx, nc, tgt, nt, F, G, gin, gout, brows, alpha, tied, dim):
    """One window: scores, gradients, updates (all products from the values before it).
    Returns its loss."""
    _dots(syn0, syn1, ctx, nc, tgt, nt, F, dim)
    loss = _grad_loss(F, G, nc, nt, alpha)
    _gin(syn1, tgt, nt, G, nc, gin, dim)
    if tied:  # syn1 is syn0: the output gradients from the rows before any update
        for q in range(nt):
            for k in range(dim):
                gout[q, k] = 0.0
        _gout(syn0, ctx, nc, G, tgt, nt, gout, brows, dim)
        for q in range(nt):
            t = tgt[q]
            for k in range(dim):
                syn1[t, k] += gout[q, k]
    else:  # in place: reads only syn0, which changes below
        _gout(syn0, ctx, nc, G, tgt, nt, syn1, tgt, dim)
    for p in range(nc):
        c = ctx[p]
        for k in range(dim):
            syn0[c, k] += gin[p, k]
    return loss


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _work(maxlen, sampling, dim, tied):
    """A job's buffers: a sentence's draws (per position: context bounds ``lo``, ``hi``,
    targets ``tgt`` and their number ``nt``), then a window's context rows ``ctx``, scores
    ``F``, gradients ``G`` (+ a scratch row, ``_gin``), input gradients ``gin``, and the
    output gradients ``gout`` with their rows ``brows`` (a buffer only for ``--tied``)."""
    nt_max, nc_max = sampling.negative + 1, 2 * sampling.window
    return (np.empty(maxlen, np.int64), np.empty(maxlen, np.int64), np.empty((maxlen, nt_max), np.int64),
            np.empty(maxlen, np.int64), np.empty(nc_max, np.int64), np.empty((nc_max, nt_max), np.float32),
            np.zeros((nc_max + 1, nt_max), np.float32), np.zeros((nc_max + 1, dim), np.float32),
            np.empty((nt_max if tied else 0, dim), np.float32), np.arange(nt_max))


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _sentence_draws(buf, n, sampling, r, lo, hi, tgt, nt):
    """Every window's draws of a sentence, in the order the windows take them: position i's
    context is ``buf[lo[i]:hi[i]]`` but i, its targets ``tgt[i, :nt[i]]`` (the centre word,
    then the noise draws that are not it). Returns r."""
    for i in range(n):
        lo[i], hi[i], r = reduced_window(i, n, sampling.window, r)
        tgt[i, 0] = buf[i]
        k = 1
        for d in range(1, sampling.negative + 1):
            t, _, r = ns_target(d, buf[i], r, sampling.prob, sampling.alias)
            if t >= 0:
                tgt[i, k] = t
                k += 1
        nt[i] = k
    return r


@njit(nogil=True, fastmath=True, cache=True, inline="always")
def _context(buf, lo, hi, i, ctx):
    """ctx = buf[lo..hi-1] but position i. Returns their number."""
    nc = 0
    for j in range(lo, hi):
        if j != i:
            ctx[nc] = buf[j]
            nc += 1
    return nc


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_sg_batch(sents, job, syn0, syn1, sampling):
    """Skip-gram, "HogBatch" (Ji et al. 2016): a window's context words share negatives.
    ``sents``/``job``/``sampling``: ``firth.train.kernels.Sentences``/``Job``/``Sampling``.

    For centre word w with context rows C (|C| <= 2*window) and targets T = (w, n_1..n_k),
    the scores C·Tᵀ, the input gradients G·T and the output gradients Gᵀ·C are small dense
    products computed from the values before the update, then applied. A sentence's draws
    are taken before its windows train, so the next window's rows can be prefetched.
    Returns (loss, words, pairs).
    """
    dim, tied = syn0.shape[1], syn0.ctypes.data == syn1.ctypes.data
    total, buf, r = job_start(sents, job)
    lo, hi, tgt, nt, ctx, F, G, gin, gout, brows = _work(buf.shape[0], sampling, dim, tied)
    loss, pairs = 0.0, 0
    for s in range(job.s0, job.s1):
        n, alpha, r = sentence(sents, s, job, total, sampling.keep, buf, r)
        if n < 2:  # one word: its window draw, no context, so no negatives
            r = lcg(r) if n == 1 else r
            continue
        r = _sentence_draws(buf, n, sampling, r, lo, hi, tgt, nt)
        for i in range(n):
            if i + 1 < n:  # the next window's target rows and its new context row
                for q in range(nt[i + 1]):
                    prefetch_row(syn1, tgt[i + 1, q])
                if i + 1 + sampling.window < n:
                    prefetch_row(syn0, buf[i + 1 + sampling.window])
            nc = _context(buf, lo[i], hi[i], i, ctx)
            # the window's update, compiled for a few dims with the row length a constant
            # (the tail of a row is unrolled: 1.13x at dim 100) and for any other
            if dim == 100:
                loss += _window(syn0, syn1, ctx, nc, tgt[i], nt[i], F, G, gin, gout, brows, alpha, tied, 100)
            elif dim == 300:
                loss += _window(syn0, syn1, ctx, nc, tgt[i], nt[i], F, G, gin, gout, brows, alpha, tied, 300)
            else:
                loss += _window(syn0, syn1, ctx, nc, tgt[i], nt[i], F, G, gin, gout, brows, alpha, tied, dim)
            pairs += nc
    return loss, total, pairs
