"""Exact nearest neighbours over a (memory-mapped) matrix, fast, without normalising it first.

A page must start in a second or two on a 1,000,000 x 300 model (1.2 GB), so nothing is
computed eagerly. Queries are answered two ways, both **exact** (the same top k as cosine
over the unit-length matrix):

* before the index is built: blocked search over the matrix itself (each block normalised
  on the fly, row norms cached as they are computed);
* once :meth:`NeighbourIndex.build` has run (a background thread of the server): an int8
  copy of the unit rows (a quarter of the bytes) screens every row, with a per-row bound on
  the screening error (the exact norm of the quantisation residual, by Cauchy-Schwarz, plus
  the float32 rounding of the sums); only rows whose bound could reach the k-th best exact
  score are re-scored exactly. So the top k never differs from the exact one. A single
  query (neighbours, 3CosAdd) is itself quantised to int8 (its residual joins the bound)
  and screened with int32 dot products (``kernels.screen_one``) into a buffer kept between
  queries; several queries (3CosMul) use the float32 screen (``kernels.screen``).

Scores are ``(row / |row|) @ unit_query`` with the float32 unit rows of
``KeyedVectors.get_normed()``, summed in float64 and rounded to float32 (:func:`_cos`), so
a row's score does not depend on which other rows it is scored with (float32 BLAS sums
rows in different orders by position, which broke ties between equal rows).
"""

from __future__ import annotations

import threading

import numpy as np

_U = 2.0**-24  # float32 unit roundoff
BLOCK = 1 << 16  # rows per block of the exact path (64k x 300 float32 = 78 MB)
# One parallel kernel at a time: Numba's workqueue threading layer refuses concurrent
# launches, and on a small machine two would only fight for the same cores. Rows go to the
# threads in chunks as they ask for them (not one fixed half each), so a thread whose core
# is taken by another process does not hold up the whole query.
_KERNEL_LOCK = threading.Lock()
_CHUNK = 16384  # rows per chunk of a parallel screen (about 5 MB of int8 codes)


def _one_at_a_time(fn, *args):
    import numba

    with _KERNEL_LOCK:
        old = numba.set_parallel_chunksize(_CHUNK)
        try:
            return fn(*args)
        finally:
            numba.set_parallel_chunksize(old)


class NeighbourIndex:
    def __init__(self, vectors: np.ndarray, block: int = BLOCK, keep_rows: bool = True):
        if vectors.ndim != 2:
            raise ValueError("vectors must be 2-d")
        self.vectors = vectors
        self.n, self.dim = vectors.shape
        self.block = int(block)
        self._norms = np.zeros(self.n, dtype=np.float32)
        self._have_norm = np.zeros((self.n + self.block - 1) // self.block, dtype=bool)
        self.keep_rows = keep_rows
        self._units = None  # the unit rows in memory (keep_rows), once built
        self._codes = self._scale = self._resid = self._cnorm = None
        self._hi = None  # the single-query screen's output, reused (under _qlock)
        self._qlock = threading.Lock()
        self.ready = threading.Event()  # set when the int8 screen is built

    # --------------------------------------------------------------- building
    def build(self, progress=None) -> None:
        """Build the int8 screen (and every row norm) block by block; safe to run in a
        thread while queries are answered by the exact path.

        With ``keep_rows`` the unit rows are also kept in memory (as large as the matrix):
        a query re-scores a few dozen rows scattered over the file, and a page of a memory
        map that the kernel has evicted costs a disk read (about 1 ms here: on this machine
        DAMON pages out file pages unused for a few seconds, so without the copy a query
        spent more time reading rows than screening a million)."""
        from firth.explore.kernels import LANES, quantize

        padded = -(-self.dim // LANES) * LANES  # zero codes after dim: screen_one's blocks
        codes = np.zeros((self.n, padded), dtype=np.int8)
        scale = np.empty(self.n, dtype=np.float32)
        resid = np.empty(self.n, dtype=np.float32)
        cnorm = np.empty(self.n, dtype=np.float32)
        units = np.empty((self.n, self.dim), dtype=np.float32) if self.keep_rows else None
        for b, s in enumerate(range(0, self.n, self.block)):
            e = min(self.n, s + self.block)
            unit = self._unit_block(b, s, e)
            codes[s:e, : self.dim], scale[s:e], resid[s:e], cnorm[s:e] = quantize(unit)
            if units is not None:
                units[s:e] = unit
            if progress:
                progress(e, self.n)
        self._codes, self._scale, self._resid, self._cnorm = codes, scale, resid, cnorm
        self._cnorm_max = float(cnorm.max()) if self.n else 0.0
        self._hi = np.empty(self.n, dtype=np.float32)
        self._units = units
        self.ready.set()

    def _unit_block(self, b: int, s: int, e: int) -> np.ndarray:
        """Rows s:e (within block b) divided by their norms, as KeyedVectors.get_normed()."""
        rows = np.asarray(self.vectors[s:e], dtype=np.float32)
        if self._have_norm[b]:
            norms = self._norms[s:e]
        else:
            norms = np.linalg.norm(rows, axis=1)
            norms[norms == 0] = 1.0  # zero rows stay zero instead of becoming NaN
            if e == min(self.n, s + self.block):  # a whole block: remember its norms
                self._norms[s:e] = norms
                self._have_norm[b] = True
        return rows / norms[:, None]

    def exact_rows(self, idx: np.ndarray) -> np.ndarray:
        """Unit-length rows ``idx`` (float32, as get_normed() gives them)."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        if self._units is not None:  # the same numbers, computed once by build()
            return self._units[idx]
        order = np.argsort(idx)
        rows = np.empty((len(idx), self.dim), dtype=np.float32)
        rows[order] = self.vectors[idx[order]]  # sorted reads: sequential pages of the memmap
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return rows / norms

    # ----------------------------------------------------------------- search
    def search(self, query: np.ndarray, k: int = 10, exclude=(), restrict: int | None = None):
        """Top ``k`` rows by cosine with the unit vector ``query``: (indices, scores), best
        first, ties by index; rows in ``exclude`` are never returned."""
        return self.search_fn([query], _first, k, exclude, restrict, _bounds_add)

    def search_fn(self, queries, combine, k, exclude=(), restrict=None, bounds=None):
        """Top ``k`` of ``combine(cosines)`` where cosines is (rows, len(queries)); ``bounds``
        (lo, hi, combine) -> (lo_score, hi_score) maps per-query cosine intervals to score
        intervals (without it, or before build(), every row is scored exactly)."""
        n = self.n if restrict is None else max(0, min(int(restrict), self.n))
        Q = np.ascontiguousarray(np.stack([np.asarray(q, dtype=np.float32) for q in queries]))
        excl = np.asarray(sorted({int(i) for i in exclude if 0 <= int(i) < n}), dtype=np.int64)
        k = max(0, min(int(k), n - len(excl)))
        if k == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if self.ready.is_set() and bounds is not None:
            return self._screened(Q, combine, bounds, k, excl, n)
        return self._exact(Q, combine, k, excl, n, bounds)

    def _exact(self, Q, combine, k, excl, n, bounds=None):
        """Blocked exact search. With ``bounds``, each block is first scored with float32
        BLAS (error at most (d + 2) u |row| |q|, doubled here) and only rows whose upper
        bound reaches the block's k-th lower bound are scored with :func:`_cos`."""
        margin = np.float32(2 * (self.dim + 2) * _U * 1.01)
        best_i, best_s = [], []
        for b, s in enumerate(range(0, n, self.block)):
            e = min(n, s + self.block)
            unit = self._unit_block(b, s, e)
            out = excl[(excl >= s) & (excl < e)] - s
            if bounds is None:
                rows = np.arange(e - s)
                scores = combine(_cos(unit, Q))
            else:
                c32 = unit @ Q.T
                lo, hi = bounds(c32 - margin, c32 + margin, combine)
                lo[out] = hi[out] = -np.inf
                kth = lo[_top_k(lo, k)].min()
                rows = np.flatnonzero(hi >= kth)
                scores = combine(_cos(unit[rows], Q))
            scores[np.isin(rows, out)] = -np.inf
            top = _top_k(scores, k)
            top = np.flatnonzero(scores >= scores[top].min())  # and every row tied with the k-th
            best_i.append(rows[top] + s)
            best_s.append(scores[top])
        return _merge(np.concatenate(best_i), np.concatenate(best_s), k)

    def _screened(self, Q, combine, bounds, k, excl, n):
        if len(Q) == 1 and bounds is _bounds_add:
            with self._qlock:  # one query at a time uses the buffer
                hi = self._hi[:n]
                self.screen_one(Q[0], hi)
                return self._rerank(hi, Q, combine, k, excl)
        from firth.explore.kernels import screen

        lo = np.empty((n, len(Q)), dtype=np.float32)
        hi = np.empty((n, len(Q)), dtype=np.float32)
        qn = np.linalg.norm(Q, axis=1).astype(np.float32)
        q1 = np.abs(Q).sum(axis=1).astype(np.float32)
        Qp = np.zeros((len(Q), self._codes.shape[1]), dtype=np.float32)  # the codes' zero padding
        Qp[:, : self.dim] = Q
        _one_at_a_time(screen, self._codes[:n], self._scale[:n], self._resid[:n], Qp, qn, q1,
                          np.float32((self.dim + 2) * _U), lo, hi)
        lo, hi = bounds(lo, hi, combine)
        return self._rerank(hi, Q, combine, k, excl)

    def screen_one(self, q: np.ndarray, hi: np.ndarray) -> None:
        """hi[i] >= the float32 cosine of unit row i with the unit query q, for i < len(hi)
        (kernels.screen_one; screen_one_reference is its readable version)."""
        from firth.explore.kernels import LANES, screen_one

        n = len(hi)
        qc, *rest = self._query_terms(q)
        _one_at_a_time(screen_one, self._codes[:n].reshape(n, -1, LANES), self._scale[:n], self._resid[:n],
                       self._cnorm[:n], qc.reshape(-1, LANES), *rest, hi)

    def _query_terms(self, q: np.ndarray):
        """(codes, scale, |q|, |residual|, tol) of one query, norms rounded up; tol bounds
        the float32 roundings: the screen's few and the exact dot product's d (relative to
        |row| |q| <= max cnorm-ish * |q|), doubled."""
        q = np.asarray(q, dtype=np.float32)
        m = float(np.abs(q).max()) if len(q) else 0.0
        sq = np.float32(m / 127.0 if m > 0 else 1.0)
        qc = np.zeros(self._codes.shape[1], dtype=np.int8)  # padded as the codes are
        qc[: self.dim] = np.rint(q / sq).clip(-127, 127)
        q64 = q.astype(np.float64)
        rqn = float(np.linalg.norm(q64 - qc[: self.dim].astype(np.float64) * float(sq))) * (1 + 1e-6)
        qn = float(np.linalg.norm(q64)) * (1 + 1e-6)
        tol = 2 * (self.dim + 16) * _U * max(1.0, self._cnorm_max + 1e-3) * (qn + rqn)
        return qc, sq, np.float32(qn), np.float32(rqn), np.float32(tol)

    def _rerank(self, hi, Q, combine, k, excl):
        """The exact top k from upper bounds ``hi`` of every row's score."""
        hi[excl] = -np.inf
        # a first guess (the best by the screen) scored exactly gives a k-th best score ...
        guess = np.setdiff1d(_top_k_fast(hi, 2 * k + 8), excl)
        gs = combine(_cos(self.exact_rows(guess), Q))
        kth = np.sort(gs)[-k] if len(gs) >= k else -np.inf
        # ... and every row whose upper bound reaches it is scored exactly
        cand = np.setdiff1d(np.flatnonzero(hi >= kth), excl)
        return _merge(cand, combine(_cos(self.exact_rows(cand), Q)), k)


def _cos(rows: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(rows, queries) cosines of unit float32 rows: float64 sums rounded to float32.
    einsum, not BLAS: the same sum for a row wherever it stands, and no OpenBLAS threads
    spinning against the screen's OpenMP ones on a small machine."""
    return np.einsum("ij,kj->ik", rows.astype(np.float64), Q.astype(np.float64)).astype(np.float32)


def _first(cos):
    return cos[:, 0]


def _bounds_add(lo, hi, combine):
    return combine(lo), combine(hi)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    if k >= len(scores):
        return np.arange(len(scores))
    return np.argpartition(-scores, k - 1)[:k]


def _top_k_fast(x: np.ndarray, k: int) -> np.ndarray:
    """About the k largest of x (at least k of the largest): a threshold from a 1-in-64
    sample, then a partition of what passes it (a full argpartition of 1M scores is 15 ms)."""
    if len(x) <= 64 * k:
        return _top_k(x, k)
    sample = x[::64]
    t = np.partition(sample, len(sample) - k)[len(sample) - k]
    pool = np.flatnonzero(x >= t)  # holds the sample's k best, so at least k rows
    return pool[_top_k(x[pool], k)]


def _merge(idx: np.ndarray, scores: np.ndarray, k: int):
    keep = scores > -np.inf  # excluded rows
    idx, scores = idx[keep], scores[keep]
    order = np.lexsort((idx, -scores))[:k]  # best first, ties by index (most frequent first)
    return idx[order].astype(np.int64), scores[order].astype(np.float32)


def screen_one_reference(codes, scale, resid, cnorm, qc, sq, qn, rqn, tol) -> np.ndarray:
    """The readable version of kernels.screen_one (float64)."""
    dots = codes.astype(np.int64) @ np.asarray(qc, dtype=np.int64)
    return dots * (scale.astype(np.float64) * float(sq)) + (resid * float(qn) + cnorm * float(rqn) + float(tol))


def screen_reference(codes, scale, queries) -> np.ndarray:
    """The readable version of kernels.screen's approximation (float64): scale * codes . q."""
    return (codes.astype(np.float64) @ np.asarray(queries, dtype=np.float64).T) * scale[:, None]
