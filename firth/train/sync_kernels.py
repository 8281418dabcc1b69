"""Numba loops of the syncs. The overlapped sync (:mod:`firth.train.sync_overlap`): one pass
over the synced rows to take this rank's deltas (and their bfloat16 wire form), one pass to
apply the summed deltas. The blocking sync (:mod:`firth.train.sync`): one pass over the due
rows to flag those this rank changed (``changed_flags``), ``take_deltas`` for the changed
ones, ``set_sums`` to apply the sums. Each works on a slice of the rows, so a sync splits its
rows between threads. The NumPy spelling (fancy-index copies, a subtraction, a concatenation, a
conversion) made five passes and as many temporaries per sync and cost as much as a fifth of
the training time at 2 ranks (benchmarks/RESULTS.md); ``reference_take`` and
``reference_apply`` are that spelling, the oracle of the tests (``sync.changed_rows`` is
``changed_flags``' oracle).

bfloat16 travels as its 16 raw bits (``uint16``): the upper half of the float32, rounded to
nearest, ties to even, as torch's conversion does (NaN kept a NaN).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from firth.train.kernels import prefetch_row

# rows ahead whose lines are requested while this one is worked on: the due rows are scattered
# over matrices far larger than the caches. Against the loops without it (2026-12-03, d = 100,
# 20,000 sorted rows of 200,000, best of 40): take 142 -> 56 ns, apply 300 -> 59 ns per row (with
# the vectorised finiteness test below); 2 rows ahead gave 77 / 85 ns.
# benchmarks/cost_distributed.py prints the kernels' cost per row on the machine it runs on.
AHEAD = 4


@njit(nogil=True, cache=True, inline="always")
def _bf16_bits(u):
    """bfloat16 bits of the float32 whose bits are ``u`` (uint32)."""
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    q = (u >> np.uint32(16)) | np.uint32(0x40)  # a NaN stays a (quiet) NaN: rounding could make it inf
    # a select, not a branch: the loop over a row vectorises
    return np.uint16(q if (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000) else r)


@njit(nogil=True, cache=True, inline="always")
def _prefetch_ahead(m, base, rows, i):
    """Request the lines of row ``rows[i + AHEAD]`` of both matrices (see AHEAD)."""
    if i + AHEAD < len(rows):
        prefetch_row(m, rows[i + AHEAD])
        prefetch_row(base, rows[i + AHEAD])


@njit(nogil=True, cache=True, inline="always")
def _new_row(base, r, s, new, nu):
    """``new = base[r] + s``; True when an element of it is inf or NaN (every exponent bit
    set). An OR of flags, not an early exit per element, so the loop vectorises."""
    bad = np.uint32(0)
    for j in range(len(new)):
        new[j] = base[r, j] + s[j]
        bad |= np.uint32((nu[j] & np.uint32(0x7F800000)) == np.uint32(0x7F800000))
    return bad != 0


@njit(nogil=True, cache=True)
def take_deltas(m, base, rows, own, wire32, wire16, at, bf16):
    """``own[at + i] = m[rows[i]] - base[rows[i]]``, and the same into the wire buffer:
    ``wire32[at + i]`` (float32) or, if ``bf16``, its bfloat16 bits into ``wire16[at + i]``.
    Returns ``at + len(rows)``."""
    d, n = m.shape[1], len(rows)
    for i in range(n):
        _prefetch_ahead(m, base, rows, i)
        r = rows[i]
        o = own[at + i]
        for j in range(d):
            o[j] = m[r, j] - base[r, j]
        if bf16:
            ou = o.view(np.uint32)
            for j in range(d):
                wire16[at + i, j] = _bf16_bits(ou[j])
        else:
            for j in range(d):
                wire32[at + i, j] = o[j]
    return at + n


@njit(nogil=True, cache=True)
def apply_sums(m, base, rows, own, sum32, sum16, at, bf16, div):
    """Per synced row: ``s`` is the summed delta (``sum32[at + i]``, or if ``bf16`` the
    bfloat16 bits ``sum16[at + i]`` widened), divided by ``div[i]`` when ``div`` is not empty
    (``hot`` rows: the mean over the ranks); ``base[r] + s`` must be finite (else return ``r``;
    that row is left as it was), then ``m[r] += s - own``, ``base[r] = base[r] + s``.
    Returns -1 when every row was finite."""
    d, n = m.shape[1], len(rows)
    su = np.empty(d, np.uint32)
    sf = su.view(np.float32)
    new = np.empty(d, np.float32)
    nu = new.view(np.uint32)
    for i in range(n):
        _prefetch_ahead(m, base, rows, i)
        r = rows[i]
        if bf16:
            for j in range(d):
                su[j] = np.uint32(sum16[at + i, j]) << np.uint32(16)
        else:
            for j in range(d):
                sf[j] = sum32[at + i, j]
        if len(div):
            q = div[i]
            for j in range(d):
                sf[j] = sf[j] / q
        if _new_row(base, r, sf, new, nu):
            return r
        for j in range(d):
            m[r, j] += sf[j] - own[at + i, j]
            base[r, j] = new[j]
    return -1


@njit(nogil=True, cache=True)
def changed_flags(m, base, rows, out):
    """``out[i] = 1`` where row ``rows[i]`` of ``m`` differs from ``base`` in any element (a
    NaN differs), else 0. The blocking sync's scan: fastText's n-gram rows are all due at every
    sync, and the NumPy spelling (copy the due rows of both matrices, subtract, compare, reduce)
    was ~45% of a rank's sync time at 8 ranks (benchmarks/RESULTS.md)."""
    d, n = m.shape[1], len(rows)
    for i in range(n):
        _prefetch_ahead(m, base, rows, i)
        r = rows[i]
        acc = np.uint8(0)
        for j in range(d):  # an OR, not an early exit: vectorises, and most rows are unchanged
            acc |= np.uint8(m[r, j] != base[r, j])
        out[i] = acc


@njit(nogil=True, cache=True)
def set_sums(m, base, rows, summed, at):
    """The blocking sync's apply: ``m[r] = base[r] = base[r] + summed[at + i]`` for row ``r =
    rows[i]`` (the rank's threads wait at the barrier, so ``m - base`` is inside the sum).
    Returns the first row whose new value is not finite (that row and those after it are left
    as they were; the job fails), or -1."""
    d, n = m.shape[1], len(rows)
    new = np.empty(d, np.float32)
    nu = new.view(np.uint32)
    for i in range(n):
        _prefetch_ahead(m, base, rows, i)
        r = rows[i]
        if _new_row(base, r, summed[at + i], new, nu):
            return r
        for j in range(d):
            m[r, j] = new[j]
            base[r, j] = new[j]
    return -1


def reference_take(m, base, rows):
    """The NumPy spelling of :func:`take_deltas` (float32 deltas of ``rows``)."""
    return m[rows] - base[rows]


def reference_apply(m, base, rows, own, summed, div=None):
    """The NumPy spelling of :func:`apply_sums` for float32 sums (in place)."""
    if div is not None:
        summed = summed / np.asarray(div, np.float32)[:, None]
    new = base[rows] + summed
    m[rows] += summed - own
    base[rows] = new


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 raw bits (uint16), as :func:`take_deltas` writes them."""
    x = np.ascontiguousarray(x, np.float32)
    out = np.empty(x.shape, np.uint16)
    flat, o = x.reshape(-1), out.reshape(-1)
    for i in range(len(flat)):
        o[i] = _bf16_bits_py(flat[i])
    return out


def _bf16_bits_py(x) -> int:
    u = int(np.float32(x).view(np.uint32))
    if (u & 0x7F800000) == 0x7F800000 and u & 0x007FFFFF:
        return (u >> 16) | 0x40
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFFFFFF) >> 16
