"""Experimental variants of fastText training (issue 18), switched on by ``FIRTH_FT_VARIANT``.

Test-only, not an option: ``FIRTH_FT_VARIANT=sigmoid,init`` (comma-separated) makes
:class:`~firth.train.fasttext.FastText` train with

* ``sigmoid``: Facebook's sigmoid, a 513-entry table over [-8, 8] read without interpolation
  (index ``int((x + 8) * 512 / 16)``), exactly 0 / 1 beyond +-8, and its 513-entry log table
  for the loss (``Loss::sigmoid`` / ``Loss::log`` in fastText's src/loss.cc), instead of
  firth's interpolated tables;
* ``init``: Facebook's start-up of the input matrix with ``thread`` threads: it fills blocks
  of ``rows * dim // 10`` floats, one per thread, so with fewer than 10 threads only the
  first ``threads / 10`` of the (words + all buckets) matrix is uniform and the rest is zero
  (``DenseMatrix::uniform`` in src/densematrix.cc); firth fills all rows.

Used to measure whether either explains the Google *family* gap (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os

import numba
import numpy as np

from firth.train.kernels import (
    add_rows, add_to_rows, job_start, lcg, noise_sample, prefetch_row, reduced_window, scale_by, sentence, zero)

KNOWN = ("sigmoid", "init")


def active() -> set[str]:
    """The variants named in ``FIRTH_FT_VARIANT`` (unknown names are an error)."""
    names = {x.strip() for x in os.environ.get("FIRTH_FT_VARIANT", "").split(",") if x.strip()}
    bad = names - set(KNOWN)
    if bad:
        raise ValueError(f"FIRTH_FT_VARIANT: unknown variant(s) {sorted(bad)}; known: {', '.join(KNOWN)}")
    return names


# fastText's tables (src/loss.cc): SIGMOID_TABLE_SIZE = LOG_TABLE_SIZE = 512, MAX_SIGMOID = 8
FB_SIG = np.array([1.0 / (1.0 + np.exp(-(i * 16.0 / 512 - 8.0))) for i in range(513)], np.float32)
FB_LOG = np.array([np.log((i + 1e-5) / 512) for i in range(513)], np.float32)


@numba.njit(nogil=True, cache=True, inline="always")
def fb_sigmoid(f):
    if f < -8.0:
        return np.float32(0.0)
    if f > 8.0:
        return np.float32(1.0)
    return FB_SIG[np.int64((f + np.float32(8.0)) * np.float32(512.0) / np.float32(16.0))]


@numba.njit(nogil=True, cache=True, inline="always")
def fb_log(x):
    if x > 1.0:
        return np.float32(0.0)
    return FB_LOG[np.int64(x * np.float32(512.0))]


@numba.njit(nogil=True, cache=True, inline="always")
def ns_step_fb(h, positive, syn1, sampling, alpha, grad, loss, r):
    """``firth.train.kernels.ns_step`` with fastText's sigmoid and log tables."""
    dim = h.shape[0]
    zero(grad)
    for d in range(sampling.negative + 1):
        if d == 0:
            t, label = positive, 1
        else:
            r = lcg(r)
            t = noise_sample(r, sampling.prob, sampling.alias)
            label = 0
            if t == positive:
                continue
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * syn1[t, k]
        sg = fb_sigmoid(f)
        loss += -fb_log(sg) if label else -fb_log(np.float32(1.0) - sg)
        g = np.float32((label - sg) * alpha)
        for k in range(dim):
            grad[k] += g * syn1[t, k]
            syn1[t, k] += g * h[k]
    return loss, r


@numba.njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_ft_sg_fb(sents, job, syn0, syn1, sub, sampling):
    """``kernels.train_ft_sg`` with ``ns_step_fb``."""
    dim = syn0.shape[1]
    total, buf, r = job_start(sents, job)
    h, grad, acc = np.zeros(dim, np.float32), np.zeros(dim, np.float32), np.zeros(dim, np.float32)
    loss, pairs = 0.0, 0
    for s in range(job.s0, job.s1):
        n, alpha, r = sentence(sents, s, job, total, sampling.keep, buf, r)
        for i in range(n):
            lo, hi, r = reduced_window(i, n, sampling.window, r)
            if hi - lo <= 1:
                continue
            if i + 1 < n:
                nx = buf[i + 1]
                for p in range(sub.off[nx], sub.off[nx + 1]):
                    prefetch_row(syn0, sub.rows[p])
            w = buf[i]
            zero(h)
            add_rows(h, syn0, sub.rows, sub.off[w], sub.off[w + 1])
            scale_by(h, np.float32(1.0 / (sub.off[w + 1] - sub.off[w])))
            zero(acc)
            scale = sub.scale[w]
            for j in range(lo, hi):
                if j == i:
                    continue
                loss, r = ns_step_fb(h, buf[j], syn1, sampling, alpha, grad, loss, r)
                for k in range(dim):
                    acc[k] += grad[k]
                    h[k] += scale * grad[k]
                pairs += 1
            add_to_rows(syn0, sub.rows, sub.off[w], sub.off[w + 1], acc)
    return loss, total, pairs


def fb_init_zero(syn0, nwords: int, used, n_buckets: int, threads: int) -> int:
    """Zero what fastText's ``DenseMatrix::uniform`` with ``threads`` threads leaves zero in the
    (nwords + n_buckets) x dim input matrix: floats from ``min(threads, 10) * (m * dim // 10)``
    on. ``used`` maps compact rows ``nwords + j`` to dense rows ``nwords + used[j]`` (None:
    dense). Returns the number of rows touched."""
    dim = syn0.shape[1]
    first = min(max(threads, 1), 10) * (((nwords + n_buckets) * dim) // 10)  # first zero float
    dense_rows = np.arange(syn0.shape[0], dtype=np.int64)
    if used is not None:
        dense_rows[nwords:] = nwords + np.asarray(used, np.int64)
    start = dense_rows * dim
    touched = 0
    for r in np.nonzero(start + dim > first)[0]:
        k0 = max(0, first - int(start[r]))
        syn0[r, k0:] = 0.0
        touched += 1
    return touched
