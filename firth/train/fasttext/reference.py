"""Slow, readable plain-NumPy oracle of the fastText training kernels.

This is Facebook's ``Model::update`` written out literally, one (input, target) example at a
time: compute the hidden vector as the mean of the input rows, score the positive target and
the negatives, accumulate the hidden gradient, update the output rows, then add the gradient
to **every** input row (with repeats). The Numba skip-gram kernel reorganises this (one mean
per centre word, moved along instead of recomputed; row updates summed and applied once per
centre word); on a tiny corpus both must give the same matrices up to float rounding.

Random draws are word2vec's (firth.train.word2vec.reference): same generator, same order.
"""

from __future__ import annotations

import numpy as np

from firth.train.word2vec.reference import Draws, ns_step, windows


def _update(syn0, syn1, rows, target, negatives, alpha):
    """One fastText example: input rows (list, repeats allowed) -> target, with negatives;
    the hidden gradient is added to every row of the list."""
    loss, grad = ns_step(syn0[rows].mean(axis=0, dtype=np.float64), target, negatives, syn1, alpha)
    for r in rows:
        syn0[r] += grad.astype(syn0.dtype)
    return loss


def _rows(sub_off, sub_rows, w):
    return [int(x) for x in sub_rows[sub_off[w] : sub_off[w + 1]]]


def train_ft_sg(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias, window, negative,
                alpha0, alpha1, seed):
    """fastText skip-gram, example by example. Returns (loss, words, pairs)."""
    rng = Draws(seed)
    loss, pairs = 0.0, 0
    for alpha, w, ctx in windows(ids, offsets, s0, s1, keep, window, alpha0, alpha1, rng):
        for c in ctx:
            loss += _update(syn0, syn1, _rows(sub_off, sub_rows, w), c, rng.negatives(prob, alias, negative, c), alpha)
            pairs += 1
    return loss, int(offsets[s1] - offsets[s0]), pairs


def train_ft_cbow(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias, window, negative,
                  alpha0, alpha1, seed):
    """fastText CBOW, example by example. Returns (loss, words, examples)."""
    rng = Draws(seed)
    loss, examples = 0.0, 0
    for alpha, w, ctx in windows(ids, offsets, s0, s1, keep, window, alpha0, alpha1, rng):
        if not ctx:
            continue
        rows = [r for c in ctx for r in _rows(sub_off, sub_rows, c)]
        loss += _update(syn0, syn1, rows, w, rng.negatives(prob, alias, negative, w), alpha)
        examples += 1
    return loss, int(offsets[s1] - offsets[s0]), examples
