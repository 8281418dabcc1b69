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

from firth.train.word2vec.reference import _alpha, _fill_sentence, _sentences, lcg, noise_sample


def _sigmoid_loss(f: float, label: int):
    s = 1.0 / (1.0 + np.exp(-f))
    loss = np.logaddexp(0.0, -f) if label else np.logaddexp(0.0, f)
    return s, float(loss)


def _update(syn0, syn1, rows, target, negatives, alpha):
    """One fastText example: input rows (list, repeats allowed) -> target, with negatives."""
    h = syn0[rows].mean(axis=0, dtype=np.float64)
    grad = np.zeros_like(h)
    loss = 0.0
    for t, label in [(target, 1)] + [(n, 0) for n in negatives]:
        f = float(h @ syn1[t])
        s, ls = _sigmoid_loss(f, label)
        loss += ls
        g = alpha * (label - s)
        grad += g * syn1[t]
        syn1[t] += (g * h).astype(syn1.dtype)
    for r in rows:
        syn0[r] += grad.astype(syn0.dtype)
    return loss


def _negatives(r, prob, alias, negative, target):
    out = []
    for _ in range(negative):
        r = lcg(r)
        t = noise_sample(r, prob, alias)
        if t != target:
            out.append(t)
    return out, r


def train_ft_sg(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias, window, negative,
                alpha0, alpha1, seed):
    """fastText skip-gram, example by example. Returns (loss, words, pairs)."""
    total, sents = _sentences(offsets, s0, s1)
    r = int(seed)
    loss, pairs, done = 0.0, 0, 0
    for a, b in sents:
        alpha = _alpha(alpha0, alpha1, done, total)
        done += b - a
        sent, r = _fill_sentence(ids, a, b, keep, r)
        n = len(sent)
        for i, w in enumerate(sent):
            r = lcg(r)
            bw = window - (r >> 16) % window
            lo, hi = max(0, i - bw), min(n, i + bw + 1)
            if hi - lo <= 1:
                continue
            rows = [int(x) for x in sub_rows[sub_off[w] : sub_off[w + 1]]]
            for j in range(lo, hi):
                if j == i:
                    continue
                negs, r = _negatives(r, prob, alias, negative, sent[j])
                loss += _update(syn0, syn1, rows, sent[j], negs, alpha)
                pairs += 1
    return loss, total, pairs


def train_ft_cbow(ids, offsets, s0, s1, syn0, syn1, sub_off, sub_rows, keep, prob, alias, window, negative,
                  alpha0, alpha1, seed):
    """fastText CBOW, example by example. Returns (loss, words, examples)."""
    total, sents = _sentences(offsets, s0, s1)
    r = int(seed)
    loss, examples, done = 0.0, 0, 0
    for a, b in sents:
        alpha = _alpha(alpha0, alpha1, done, total)
        done += b - a
        sent, r = _fill_sentence(ids, a, b, keep, r)
        n = len(sent)
        for i, w in enumerate(sent):
            r = lcg(r)
            bw = window - (r >> 16) % window
            lo, hi = max(0, i - bw), min(n, i + bw + 1)
            if hi - lo <= 1:
                continue
            rows = []
            for j in range(lo, hi):
                if j != i:
                    c = sent[j]
                    rows.extend(int(x) for x in sub_rows[sub_off[c] : sub_off[c + 1]])
            negs, r = _negatives(r, prob, alias, negative, w)
            loss += _update(syn0, syn1, rows, w, negs, alpha)
            examples += 1
    return loss, total, examples
