"""Numba kernels of the neighbour search: int8 screening of every row against a few queries.

``search.py`` holds the readable versions (``screen_reference``); a test checks they agree.
Imported only by the background build of a :class:`~firth.explore.search.NeighbourIndex`,
so starting the server never waits for Numba.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _quantize_block(unit, codes, scale, resid, cnorm):
    """Store each unit row as int8 codes * scale; resid is the exact L2 norm of what the
    codes miss (the bound on any query's score error, by Cauchy-Schwarz) and cnorm the L2
    norm of codes * scale; both rounded up."""
    n, d = unit.shape
    for i in range(n):
        m = np.float32(0.0)
        for j in range(d):
            a = abs(unit[i, j])
            if a > m:
                m = a
        sc = m / np.float32(127.0) if m > 0 else np.float32(1.0)
        scale[i] = sc
        e = 0.0
        cn = 0.0
        for j in range(d):
            c = np.int8(np.rint(unit[i, j] / sc))
            codes[i, j] = c
            v = np.float64(c) * np.float64(sc)
            r = np.float64(unit[i, j]) - v
            e += r * r
            cn += v * v
        resid[i] = np.float32(np.sqrt(e) * (1 + 1e-6))  # rounded up, so it stays a bound
        cnorm[i] = np.float32(np.sqrt(cn) * (1 + 1e-6))


@numba.njit(cache=True, nogil=True, fastmath=True, parallel=True)
def screen(codes, scale, resid, queries, qn, q1, tol, lo, hi):
    """Interval [lo, hi] holding each unit row's exact cosine with each query:
    approx = scale[i] * (codes[i] . queries[k]); the error is at most resid[i] * |q_k| (the
    codes' residual) plus ``tol`` * (127 scale[i] |q_k|_1 + |q_k|) (float32 rounding of
    this sum and of the exact one). One pass over the int8 codes, the bound fused in."""
    n, d = codes.shape
    m = queries.shape[0]
    for i in numba.prange(n):
        for k in range(m):
            acc = np.float32(0.0)
            for j in range(d):
                acc += np.float32(codes[i, j]) * queries[k, j]
            a = acc * scale[i]
            e = resid[i] * qn[k] + tol * (np.float32(127.0) * scale[i] * q1[k] + qn[k])
            lo[i, k] = max(a - e, np.float32(-1.0))
            hi[i, k] = min(a + e, np.float32(1.0))


LANES = 64  # codes rows are padded with zeros to a multiple of this (see screen_one)


@numba.njit(cache=True, nogil=True, parallel=True)
def screen_one(codes3, scale, resid, cnorm, qc2, sq, qn, rqn, tol, hi):
    """Upper bound ``hi[i]`` of unit row i's float32 cosine with one query given as int8
    codes ``qc`` * ``sq`` (+ a residual of norm ``rqn``; the query's norm is ``qn``).
    ``codes3`` and ``qc2`` are the (zero-padded) codes viewed as blocks of LANES:
    (rows, blocks, LANES) and (blocks, LANES).

    Row = scale*codes + r (|r| <= resid), query = sq*qc + rq (|rq| <= rqn), so
    row . query = scale*sq*(codes . qc) + scale*codes . rq + r . query, and the last two
    terms are at most cnorm*rqn + resid*qn (Cauchy-Schwarz). codes . qc is summed in int32,
    exactly (|sum| <= d * 127 * 127 < 2**31; converted to float32 exactly below 2**24);
    ``tol`` covers the few float32 roundings here and those of the exact dot product the
    answer is scored with.

    Speed: each block has a fixed trip count and indices LLVM knows are in range, so it is
    vectorised whole (vpmaddwd); a plain loop over d = 300 left a scalar tail, and computed
    indices (b * LANES + j) were not vectorised at all."""
    n, nb, lanes = codes3.shape
    for i in numba.prange(n):
        acc = np.int32(0)
        for b in range(nb):
            s = np.int32(0)
            for j in range(LANES):
                s += np.int32(codes3[i, b, j]) * np.int32(qc2[b, j])
            acc += s
        # Numba types the sums int64; truncating to int32 (exact: |acc| < 2**31) before
        # anything else reads them lets LLVM sum in 32 bits (vpmaddwd), not 64 (vpmuldq)
        hi[i] = np.float32(np.int32(acc)) * (scale[i] * sq) + (resid[i] * qn + cnorm[i] * rqn + tol)


def quantize(unit: np.ndarray):
    """(codes int8, scale, resid, cnorm float32) of a block of unit rows."""
    n, d = unit.shape
    codes = np.empty((n, d), dtype=np.int8)
    scale = np.empty(n, dtype=np.float32)
    resid = np.empty(n, dtype=np.float32)
    cnorm = np.empty(n, dtype=np.float32)
    _quantize_block(np.ascontiguousarray(unit, dtype=np.float32), codes, scale, resid, cnorm)
    return codes, scale, resid, cnorm
