"""Numba kernels for fastText training: SGNS / CBOW updates over subwords.

The training updates are Facebook fastText's (``Model::update`` with the negative-sampling
loss), which differ from word2vec's in one place: the input side is the **average** of the
word's rows (its own row and its n-gram rows), and the gradient of that average is added,
unscaled, to every one of those rows (fastText divides the gradient by the number of rows
only for supervised models). :mod:`firth.train.fasttext.reference` holds the same
updates in plain NumPy; a test checks that they agree.
"""

from __future__ import annotations

import numba
import numpy as np


# ---------------------------------------------------------------------------- training
#
# Shared with word2vec (firth.train.kernels): the LCG, the order of the random draws
# (subsampling per token, window per position, one draw per negative), the alias noise
# sampler, the exact stable sigmoid/loss, and the job interface
# ``(ids, offsets, s0, s1, ...) -> (loss, words, examples)``.
#
# ``sub_off`` / ``sub_rows`` is the CSR subword table (firth.vectors.subwords.subword_table):
# the rows of ``syn0`` that make word w are ``sub_rows[sub_off[w]:sub_off[w+1]]`` (its own
# row, then ``V + hash % bucket`` per n-gram, with repeats). ``sub_scale[w]`` is
# sum over the list of each row's multiplicity / list length: adding a gradient g to every
# list entry moves the *mean* of the list by ``sub_scale[w] * g`` (1.0 without repeats).

from firth.train.kernels import (add_rows, for_each_window, lcg, ns_update, prefetch_row, scale,  # noqa: E402
                                 sum_rows, uniform24)


@numba.njit(nogil=True, fastmath=True, cache=True)
def _ft_sg_window(buf, n, i, lo, hi, r, alpha, args):
    syn0, syn1, sub_off, sub_rows, sub_scale, prob, alias, negative, h, grad, acc = args
    w = buf[i]
    if i + 1 < n:  # the next centre word's rows load while this one trains
        nx = buf[i + 1]
        for p in range(sub_off[nx], sub_off[nx + 1]):
            prefetch_row(syn0, sub_rows[p])
    p0 = sub_off[w]
    p1 = sub_off[w + 1]
    h[:] = 0.0
    acc[:] = 0.0
    sum_rows(h, syn0, sub_rows, p0, p1)
    scale(h, np.float32(1.0 / (p1 - p0)))
    move = sub_scale[w]
    loss = 0.0
    for j in range(lo, hi):
        if j != i:
            grad[:] = 0.0
            ls, r = ns_update(h, buf[j], syn1, grad, r, negative, prob, alias, alpha)
            loss += ls
            for k in range(h.shape[0]):
                acc[k] += grad[k]
                h[k] += move * grad[k]
    add_rows(syn0, sub_rows, p0, p1, acc)
    return r, loss, hi - lo - 1


@numba.njit(nogil=True, fastmath=True, cache=True)
def train_ft_sg(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, sub_scale, keep, prob, alias,
                window, negative, alpha0, alpha1, seed):
    """fastText skip-gram: each context word is predicted from the centre word's subword mean.

    Facebook updates the centre word's rows after every (centre, context) pair and recomputes
    the mean for the next pair. Here the mean ``h`` is computed once per centre word and moved
    by ``sub_scale * grad`` after each pair (exactly where the row updates would put it), while
    the row updates themselves are summed and applied once per centre word: the same result in
    exact arithmetic (the pairs of one centre word only write ``syn1``), with a fraction of
    the memory traffic. Returns (loss, words, pairs).
    """
    work = np.zeros((3, syn0.shape[1]), np.float32)
    args = (syn0, syn1, sub_off, sub_rows, sub_scale, prob, alias, negative, work[0], work[1], work[2])
    return for_each_window(ids, offsets, s0, s1, keep, window, alpha0, alpha1, seed, _ft_sg_window, args)


@numba.njit(nogil=True, fastmath=True, cache=True)
def _ft_cbow_window(buf, n, i, lo, hi, r, alpha, args):
    syn0, syn1, sub_off, sub_rows, prob, alias, negative, h, grad = args
    h[:] = 0.0
    grad[:] = 0.0
    cnt = 0
    for j in range(lo, hi):
        if j != i:
            c = buf[j]
            sum_rows(h, syn0, sub_rows, sub_off[c], sub_off[c + 1])
            cnt += sub_off[c + 1] - sub_off[c]
    scale(h, np.float32(1.0 / cnt))
    loss, r = ns_update(h, buf[i], syn1, grad, r, negative, prob, alias, alpha)
    for j in range(lo, hi):
        if j != i:
            add_rows(syn0, sub_rows, sub_off[buf[j]], sub_off[buf[j] + 1], grad)
    return r, loss, 1


@numba.njit(nogil=True, fastmath=True, cache=True)
def train_ft_cbow(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias,
                  window, negative, alpha0, alpha1, seed):
    """fastText CBOW: the centre word is predicted from the mean of all subword rows of all
    context words (a list: a row appears as often as it occurs); the hidden gradient is
    added to each of those entries, as Facebook's ``Model::update``. Returns (loss, words, examples)."""
    work = np.zeros((2, syn0.shape[1]), np.float32)
    args = (syn0, syn1, sub_off, sub_rows, prob, alias, negative, work[0], work[1])
    return for_each_window(ids, offsets, s0, s1, keep, window, alpha0, alpha1, seed, _ft_cbow_window, args)


@numba.njit(nogil=True, cache=True)
def uniform_rows(out, r0, r1, lim, seed):
    """Rows r0..r1 of ``out`` uniform in [-lim, lim), each row from its own generator.

    The state of row r depends only on (seed, r) (a splitmix64 step), so any split of the
    rows over threads gives the same matrix. Why not NumPy: filling the 2M-row bucket
    matrix with ``Generator.random`` took 2.2 s of a 8.5 s run; this takes a tenth of that
    and runs on every worker thread.
    """
    dim = out.shape[1]
    for r in range(r0, r1):
        z = np.uint64(seed) + np.uint64(r + 1) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        state = z ^ (z >> np.uint64(31))
        for k in range(dim):
            state = lcg(state)
            out[r, k] = (uniform24(state) * np.float32(2.0) - np.float32(1.0)) * lim


@numba.njit(nogil=True, cache=True)
def subword_scale(sub_off, sub_rows):
    """Per word: (sum over its row list of each row's multiplicity) / list length (float32)."""
    out = np.ones(sub_off.shape[0] - 1, np.float32)
    for w in range(out.shape[0]):
        rows = sub_rows[sub_off[w] : sub_off[w + 1]]
        tot = 0
        for x in rows:
            for y in rows:
                tot += x == y
        if rows.shape[0]:
            out[w] = np.float32(tot / rows.shape[0])
    return out
