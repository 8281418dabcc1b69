"""Numba kernel for batched analogy search (imported lazily by :mod:`.analogy`).

``S[u, j]`` holds the cosine between question word ``u`` (one row per distinct word used as
a, b or c in any question) and vocabulary word ``j_off + j`` (the caller passes the
vocabulary in slices so that S stays small; ``best_*`` carry the running maxima, as
order-preserving int32 keys, from slice to slice). For each question (a, b, c) the kernel
forms, over the vocabulary,

* 3CosAdd: ``S[b] + S[c] - S[a]`` (= cos(d, b̂ + ĉ − â) times a per-question constant, so the
  arg max is the same as gensim's ``most_similar(positive=[b, c], negative=[a])``);
* 3CosMul: ``P(b) P(c) / (P(a) + eps)`` with ``P = (1 + cos) / 2`` (Levy & Goldberg 2014),

masks the question words (and their case variants: the CSR lists ``eptr``/``eidx``), and
keeps the arg max per question (the maximum is taken over the float bits mapped to
ordered integers, which vectorizes). Work is split into chunks of questions (one per task, run in
parallel) and, inside a chunk, into column blocks small enough that the rows of ``S`` the
chunk reads stay in cache. A block's maximum replaces the running one only when strictly
larger and the first index reaching it is taken, so ties go to the more frequent word.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NEG = np.float32(-1e30)


@njit(inline="always")
def _key(i):  # pragma: no cover - compiled
    """Order-preserving map float32 bits -> int32 (for finite floats): integer max vectorizes
    where Numba's NaN-aware float max does not."""
    return i ^ ((i >> 31) & np.int32(0x7FFFFFFF))


@njit(inline="always")
def _block_max(tmp, ti, B, best, arg, q, j0):  # pragma: no cover - compiled
    m = np.int32(-2147483647)
    for j in range(B):
        m = max(m, _key(ti[j]))
    if m > best[q]:
        for j in range(B):
            if _key(ti[j]) == m:
                best[q] = m
                arg[q] = j0 + j
                break


@njit(parallel=True, fastmath=True, error_model="numpy", cache=True)
def analogy_search(S, j_off, qa, qb, qc, eptr, eidx, eps, do_add, do_mul, block, chunk,
                   best_add, arg_add, best_mul, arg_mul):  # pragma: no cover - compiled
    nq = qa.shape[0]
    V = S.shape[1]
    half = np.float32(0.5)
    one = np.float32(1.0)
    e = np.float32(eps)
    nchunks = (nq + chunk - 1) // chunk
    for ci in prange(nchunks):
        q0 = ci * chunk
        q1 = min(nq, q0 + chunk)
        t_add = np.empty(block, dtype=np.float32)
        t_mul = np.empty(block, dtype=np.float32)
        i_add = t_add.view(np.int32)
        i_mul = t_mul.view(np.int32)
        for j0 in range(0, V, block):
            j1 = min(V, j0 + block)
            B = j1 - j0
            for q in range(q0, q1):
                ra = S[qa[q], j0:j1]
                rb = S[qb[q], j0:j1]
                rc = S[qc[q], j0:j1]
                if do_add:
                    for j in range(B):
                        t_add[j] = rb[j] + rc[j] - ra[j]
                if do_mul:
                    for j in range(B):
                        t_mul[j] = ((one + rb[j]) * half) * ((one + rc[j]) * half) / ((one + ra[j]) * half + e)
                for k in range(eptr[q], eptr[q + 1]):
                    jj = eidx[k] - j_off - j0
                    if jj >= 0 and jj < B:
                        t_add[jj] = NEG
                        t_mul[jj] = NEG
                if do_add:
                    _block_max(t_add, i_add, B, best_add, arg_add, q, j_off + j0)
                if do_mul:
                    _block_max(t_mul, i_mul, B, best_mul, arg_mul, q, j_off + j0)
