"""Numba kernels for fastText training: SGNS / CBOW updates over subwords.

The training updates are Facebook fastText's (``Model::update`` with the negative-sampling
loss), which differ from word2vec's in one place: the input side is the **average** of the
word's rows (its own row and its n-gram rows), and the gradient of that average is added,
unscaled, to every one of those rows (fastText divides the gradient by the number of rows
only for supervised models). :mod:`firth.train.fasttext.reference` holds the same
updates in plain NumPy; a test checks that they agree.
"""

from __future__ import annotations

from collections import namedtuple

import numba
import numpy as np

from firth.train.kernels import (
    add_rows, add_to_rows, job_start, lcg, ns_step, prefetch_row, reduced_window, scale_by, sentence, uniform24, zero)


# ---------------------------------------------------------------------------- training
#
# Shared with word2vec (firth.train.kernels, inlined): the grouped parameters (``Sentences``,
# ``Job``, ``Sampling``), the LCG, the order of the random draws (subsampling per token,
# window per position, one draw per negative), the negative-sampling update ``ns_step``, and
# the job interface ``(sents, job, syn0, syn1, sub, sampling) -> (loss, words, examples)``.
#
# ``sub`` is a ``Subwords``: ``off`` / ``rows`` is the CSR subword table
# (firth.vectors.subwords.subword_table): the rows of ``syn0`` that make word w are
# ``rows[off[w]:off[w+1]]`` (its own row, then ``V + hash % bucket`` per n-gram, with
# repeats). ``scale[w]`` is sum over the list of each row's multiplicity / list length:
# adding a gradient g to every list entry moves the *mean* of the list by ``scale[w] * g``
# (1.0 without repeats).


Subwords = namedtuple("Subwords", "off rows scale")
Subwords.__doc__ = "Each word's rows of syn0: ``rows[off[w]:off[w + 1]]``, and ``scale`` (``subword_scale``)."


@numba.njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_ft_sg(sents, job, syn0, syn1, sub, sampling):
    """fastText skip-gram: each context word is predicted from the centre word's subword mean.

    Facebook updates the centre word's rows after every (centre, context) pair and recomputes
    the mean for the next pair. Here the mean ``h`` is computed once per centre word and moved
    by ``sub.scale * grad`` after each pair (exactly where the row updates would put it), while
    the row updates themselves are summed and applied once per centre word: the same result in
    exact arithmetic (the pairs of one centre word only write ``syn1``), with a fraction of
    the memory traffic. Returns (loss, words, pairs).
    """
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
            if i + 1 < n:  # the next centre word's rows load while this one trains
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
                loss, r = ns_step(h, buf[j], syn1, sampling, alpha, grad, loss, r)
                for k in range(dim):
                    acc[k] += grad[k]
                    h[k] += scale * grad[k]
                pairs += 1
            add_to_rows(syn0, sub.rows, sub.off[w], sub.off[w + 1], acc)
    return loss, total, pairs


@numba.njit(nogil=True, fastmath=True, cache=True, inline="always")
def _context_rows_sum(syn0, sub, buf, lo, hi, i, h):
    """h = the sum of the subword rows of the context words buf[lo..hi-1] but i, as one list
    (a row counts as often as it occurs). Returns the list's length."""
    zero(h)
    cnt = 0
    for j in range(lo, hi):
        if j != i:
            c = buf[j]
            add_rows(h, syn0, sub.rows, sub.off[c], sub.off[c + 1])
            cnt += sub.off[c + 1] - sub.off[c]
    return cnt


@numba.njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_ft_cbow(sents, job, syn0, syn1, sub, sampling):
    """fastText CBOW: the centre word is predicted from the mean of all subword rows of all
    context words (a list: a row appears as often as it occurs); the hidden gradient is
    added to each of those entries, as Facebook's ``Model::update``. Returns (loss, words, examples)."""
    dim = syn0.shape[1]
    total, buf, r = job_start(sents, job)
    h, grad = np.zeros(dim, np.float32), np.zeros(dim, np.float32)
    loss, examples = 0.0, 0
    for s in range(job.s0, job.s1):
        n, alpha, r = sentence(sents, s, job, total, sampling.keep, buf, r)
        for i in range(n):
            lo, hi, r = reduced_window(i, n, sampling.window, r)
            cnt = _context_rows_sum(syn0, sub, buf, lo, hi, i, h)
            if cnt == 0:
                continue
            scale_by(h, np.float32(1.0 / cnt))
            loss, r = ns_step(h, buf[i], syn1, sampling, alpha, grad, loss, r)
            for j in range(lo, hi):
                if j != i:
                    c = buf[j]
                    add_to_rows(syn0, sub.rows, sub.off[c], sub.off[c + 1], grad)
            examples += 1
    return loss, total, examples


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
