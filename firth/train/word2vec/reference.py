"""Slow, readable plain-NumPy oracle of the word2vec kernels in ``kernels.py``.

Same updates, same random draws (word2vec.c's LCG in Python integers, consumed in the same
order), so on a tiny corpus the Numba kernels must give the same matrices up to float
rounding. Also the loss of one training example and its exact gradient, for checking
against finite differences.

Notation: for an input vector ``h`` (skip-gram: the context word's row of ``syn0``; CBOW:
the sum or mean of the context rows) and targets ``t_0 = centre word`` (label 1) and
``t_1..t_k`` negatives (label 0), the loss is

    L = -log σ(h·u_{t0}) - Σ_j log σ(-h·u_{tj})        (u = rows of syn1)

and with ``g_j = (label_j - σ(h·u_tj))``: ``∂L/∂u_tj = -g_j h``, ``∂L/∂h = -Σ_j g_j u_tj``.
A step of SGD with rate α adds ``α g_j h`` to ``u_tj`` and ``α Σ_j g_j u_tj`` to ``h``'s
rows (CBOW-mean adds the full ∂L/∂h step to every context row, as word2vec.c does).
"""

from __future__ import annotations

import math

import numpy as np

MASK64 = (1 << 64) - 1


def lcg(r: int) -> int:
    return (r * 25214903917 + 11) & MASK64


def uniform24(r: int) -> float:
    return ((r >> 24) & 0xFFFFFF) / 16777216.0


def noise_sample(r: int, prob, alias) -> int:
    n = len(prob)
    k = ((r >> 32) * n) >> 32
    coin = ((r >> 8) & 0xFFFFFF) / 16777216.0
    return k if coin < prob[k] else int(alias[k])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def example_loss(h, U, labels) -> float:
    """Negative log-likelihood of one example: rows U (targets) scored against h."""
    f = U @ h
    return float(np.sum(np.where(labels > 0, np.logaddexp(0.0, -f), np.logaddexp(0.0, f))))


def example_grad(h, U, labels):
    """(dL/dh, dL/dU) of ``example_loss``."""
    f = U @ h
    g = labels - sigmoid(f)
    return -(g @ U), -np.outer(g, h)


def _fill_sentence(ids, a, b, keep, r):
    sent = []
    for k in range(a, b):
        w = int(ids[k])
        if keep[w] < 1.0:
            r = lcg(r)
            if keep[w] < uniform24(r):
                continue
        sent.append(w)
    return sent, r


def _alpha(alpha0, alpha1, done, total):
    return float(np.float32(alpha0 + (alpha1 - alpha0) * (done / max(total, 1))))


def _sentences(offsets, s0, s1):
    total = int(offsets[s1] - offsets[s0])
    return total, [(int(offsets[s]), int(offsets[s + 1])) for s in range(s0, s1)]


def _window(r, window):
    r = lcg(r)
    return r, window - (r >> 16) % window


def train_sg_pairs(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram, one (centre, context) pair at a time. Returns (loss, words, pairs)."""
    r = int(seed)
    total, sents = _sentences(offsets, s0, s1)
    loss, pairs, done = 0.0, 0, 0
    for a, b in sents:
        alpha = _alpha(alpha0, alpha1, done, total)
        done += b - a
        sent, r = _fill_sentence(ids, a, b, keep, r)
        for i, w in enumerate(sent):
            r, bw = _window(r, window)
            for j in range(max(0, i - bw), min(len(sent), i + bw + 1)):
                if j == i:
                    continue
                c = sent[j]
                neu1e = np.zeros(syn0.shape[1])
                for d in range(negative + 1):
                    if d == 0:
                        t, label = w, 1.0
                    else:
                        r = lcg(r)
                        t, label = noise_sample(r, prob, alias), 0.0
                        if t == w:
                            continue
                    f = float(syn0[c] @ syn1[t])
                    loss += math.log1p(math.exp(-f)) if label else math.log1p(math.exp(f))
                    g = (label - sigmoid(f)) * alpha
                    neu1e += g * syn1[t]
                    syn1[t] += g * syn0[c]
                syn0[c] += neu1e
                pairs += 1
    return loss, total, pairs


def train_sg_batch(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed):
    """Skip-gram HogBatch: per centre word, all context rows against shared targets."""
    r = int(seed)
    total, sents = _sentences(offsets, s0, s1)
    loss, pairs, done = 0.0, 0, 0
    for a, b in sents:
        alpha = _alpha(alpha0, alpha1, done, total)
        done += b - a
        sent, r = _fill_sentence(ids, a, b, keep, r)
        for i, w in enumerate(sent):
            r, bw = _window(r, window)
            ctx = [sent[j] for j in range(max(0, i - bw), min(len(sent), i + bw + 1)) if j != i]
            if not ctx:
                continue
            tgt, lab = [w], [1.0]
            for _ in range(negative):
                r = lcg(r)
                t = noise_sample(r, prob, alias)
                if t != w:
                    tgt.append(t)
                    lab.append(0.0)
            C = syn0[ctx].astype(np.float64)  # (nc, d), values before the update
            T = syn1[tgt].astype(np.float64)  # (nt, d)
            lab = np.array(lab)
            F = C @ T.T
            loss += float(np.sum(np.where(lab > 0, np.logaddexp(0.0, -F), np.logaddexp(0.0, F))))
            G = (lab[None, :] - sigmoid(F)) * alpha
            gin = G @ T
            gout = G.T @ C
            for q, t in enumerate(tgt):
                syn1[t] += gout[q]
            for p, c in enumerate(ctx):
                syn0[c] += gin[p]
            pairs += len(ctx)
    return loss, total, pairs


def train_cbow(ids, offsets, s0, s1, syn0, syn1, keep, prob, alias, window, negative, alpha0, alpha1, seed, cbow_mean):
    """CBOW: the mean (or sum) of the context rows predicts the centre word."""
    r = int(seed)
    total, sents = _sentences(offsets, s0, s1)
    loss, examples, done = 0.0, 0, 0
    for a, b in sents:
        alpha = _alpha(alpha0, alpha1, done, total)
        done += b - a
        sent, r = _fill_sentence(ids, a, b, keep, r)
        for i, w in enumerate(sent):
            r, bw = _window(r, window)
            ctx = [sent[j] for j in range(max(0, i - bw), min(len(sent), i + bw + 1)) if j != i]
            if not ctx:
                continue
            h = syn0[ctx].sum(axis=0)
            if cbow_mean:
                h = h / len(ctx)
            neu1e = np.zeros(syn0.shape[1])
            for d in range(negative + 1):
                if d == 0:
                    t, label = w, 1.0
                else:
                    r = lcg(r)
                    t, label = noise_sample(r, prob, alias), 0.0
                    if t == w:
                        continue
                f = float(h @ syn1[t])
                loss += math.log1p(math.exp(-f)) if label else math.log1p(math.exp(f))
                g = (label - sigmoid(f)) * alpha
                neu1e += g * syn1[t]
                syn1[t] += g * h
            for c in ctx:
                syn0[c] += neu1e
            examples += 1
    return loss, total, examples
