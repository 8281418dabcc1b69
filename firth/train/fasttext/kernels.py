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

from firth.train.kernels import _fill_sentence, _sig_loss, job_extent, lcg, noise_sample, prefetch_row, uniform24  # noqa: E402


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
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    h = np.zeros(dim, np.float32)
    grad = np.zeros(dim, np.float32)
    acc = np.zeros(dim, np.float32)
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
            if hi - lo <= 1:
                continue
            if i + 1 < n:  # the next centre word's rows load while this one trains
                nx = buf[i + 1]
                for p in range(sub_off[nx], sub_off[nx + 1]):
                    prefetch_row(syn0, sub_rows[p])
            p0 = sub_off[w]
            p1 = sub_off[w + 1]
            for k in range(dim):
                h[k] = 0.0
                acc[k] = 0.0
            for p in range(p0, p1):
                row = sub_rows[p]
                for k in range(dim):
                    h[k] += syn0[row, k]
            inv = np.float32(1.0 / (p1 - p0))
            for k in range(dim):
                h[k] *= inv
            scale = sub_scale[w]
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for k in range(dim):
                    grad[k] = 0.0
                for d in range(negative + 1):
                    if d == 0:
                        t = c
                        label = 1
                    else:
                        r = lcg(r)
                        t = noise_sample(r, prob, alias)
                        if t == c:
                            continue
                        label = 0
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += h[k] * syn1[t, k]
                    sg, ls = _sig_loss(f, label)
                    loss += ls
                    g = np.float32((label - sg) * alpha)
                    for k in range(dim):
                        grad[k] += g * syn1[t, k]
                        syn1[t, k] += g * h[k]
                for k in range(dim):
                    acc[k] += grad[k]
                    h[k] += scale * grad[k]
                pairs += 1
            for p in range(p0, p1):
                row = sub_rows[p]
                for k in range(dim):
                    syn0[row, k] += acc[k]
    return loss, total, pairs


@numba.njit(nogil=True, fastmath=True, cache=True)
def train_ft_cbow(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias,
                  window, negative, alpha0, alpha1, seed):
    """fastText CBOW: the centre word is predicted from the mean of all subword rows of all
    context words (a list: a row appears as often as it occurs); the hidden gradient is
    added to each of those entries, as Facebook's ``Model::update``. Returns (loss, words, examples)."""
    dim = syn0.shape[1]
    total, maxlen = job_extent(offsets, s0, s1)
    buf = np.empty(maxlen, np.int32)
    h = np.zeros(dim, np.float32)
    grad = np.zeros(dim, np.float32)
    r = np.uint64(seed)
    uw = np.uint64(window)
    loss = 0.0
    examples = 0
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
            if hi - lo <= 1:
                continue
            for k in range(dim):
                h[k] = 0.0
                grad[k] = 0.0
            cnt = 0
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for p in range(sub_off[c], sub_off[c + 1]):
                    row = sub_rows[p]
                    for k in range(dim):
                        h[k] += syn0[row, k]
                cnt += sub_off[c + 1] - sub_off[c]
            inv = np.float32(1.0 / cnt)
            for k in range(dim):
                h[k] *= inv
            for d in range(negative + 1):
                if d == 0:
                    t = w
                    label = 1
                else:
                    r = lcg(r)
                    t = noise_sample(r, prob, alias)
                    if t == w:
                        continue
                    label = 0
                f = np.float32(0.0)
                for k in range(dim):
                    f += h[k] * syn1[t, k]
                sg, ls = _sig_loss(f, label)
                loss += ls
                g = np.float32((label - sg) * alpha)
                for k in range(dim):
                    grad[k] += g * syn1[t, k]
                    syn1[t, k] += g * h[k]
            for j in range(lo, hi):
                if j == i:
                    continue
                c = buf[j]
                for p in range(sub_off[c], sub_off[c + 1]):
                    row = sub_rows[p]
                    for k in range(dim):
                        syn0[row, k] += grad[k]
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
