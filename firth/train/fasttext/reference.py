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

from firth.train.word2vec.reference import Draws, input_update, job_words, train_cbow, windows


def _rows(sub, w):
    return [int(x) for x in sub.rows[sub.off[w] : sub.off[w + 1]]]


def train_ft_sg(sents, job, syn0, syn1, sub, sampling):
    """fastText skip-gram, example by example (``sub.scale`` is not used). Returns (loss, words, pairs)."""
    rng = Draws(job.seed)
    loss, pairs = 0.0, 0
    for alpha, w, ctx in windows(sents, job, sampling, rng):
        for c in ctx:
            loss += input_update(syn0, syn1, _rows(sub, w), c, rng.negatives(sampling, c), alpha)
            pairs += 1
    return loss, job_words(sents, job), pairs


def train_ft_cbow(sents, job, syn0, syn1, sub, sampling):
    """fastText CBOW, example by example: word2vec's CBOW over the context words' subword rows
    (mean). Returns (loss, words, examples)."""
    return train_cbow(sents, job, syn0, syn1, sampling, True, rows_of=lambda w: _rows(sub, w))
