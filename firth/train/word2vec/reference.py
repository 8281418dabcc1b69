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


class Draws:
    """word2vec.c's generator, consumed in the kernels' order."""

    def __init__(self, seed: int):
        self.r = int(seed)

    def negatives(self, sampling, target: int) -> list[int]:
        """One draw per negative; a draw equal to ``target`` is skipped."""
        out = []
        for _ in range(sampling.negative):
            self.r = lcg(self.r)
            t = noise_sample(self.r, sampling.prob, sampling.alias)
            if t != target:
                out.append(t)
        return out


def windows(sents, job, sampling, rng: Draws):
    """Every position of a job in order: (learning rate, centre word, context words).

    Per sentence, the subsampling draws; per position, the reduced-window draw; the lr is
    linear in the words of the job before the sentence (as float32, as the kernels do).
    ``sents``, ``job``, ``sampling``: the kernels' ``Sentences``, ``Job``, ``Sampling``.
    """
    offsets, window = sents.offsets, sampling.window
    total = int(offsets[job.s1] - offsets[job.s0])
    for s in range(job.s0, job.s1):
        a, b = int(offsets[s]), int(offsets[s + 1])
        done = a - int(offsets[job.s0])
        alpha = float(np.float32(job.alpha0 + (job.alpha1 - job.alpha0) * (done / max(total, 1))))
        sent, rng.r = _fill_sentence(sents.ids, a, b, sampling.keep, rng.r)
        for i, w in enumerate(sent):
            rng.r = lcg(rng.r)
            bw = window - (rng.r >> 16) % window
            yield alpha, w, [sent[j] for j in range(max(0, i - bw), min(len(sent), i + bw + 1)) if j != i]


def ns_step(h, target: int, negatives, syn1, alpha: float):
    """One negative-sampling example: score ``target`` (label 1) and ``negatives`` (label 0)
    against ``h``, update their ``syn1`` rows. Returns (loss, gradient step for h's rows)."""
    grad = np.zeros(len(h))
    loss = 0.0
    for t, label in [(target, 1.0)] + [(n, 0.0) for n in negatives]:
        f = float(h @ syn1[t])
        loss += float(np.logaddexp(0.0, -f) if label else np.logaddexp(0.0, f))
        g = (label - sigmoid(f)) * alpha
        grad += g * syn1[t]
        syn1[t] += g * h
    return loss, grad


def input_update(syn0, syn1, rows, target: int, negatives, alpha: float, mean: bool = True) -> float:
    """One example whose input is the mean (or the sum) of the ``syn0`` rows ``rows`` (a list,
    repeats allowed): ``ns_step``, then its gradient step added to every entry of the list
    (word2vec.c's CBOW, fastText's ``Model::update``). Returns the loss."""
    h = syn0[rows].sum(axis=0, dtype=np.float64)
    if mean:
        h = h / len(rows)
    loss, grad = ns_step(h, target, negatives, syn1, alpha)
    for r in rows:
        syn0[r] += grad.astype(syn0.dtype)
    return loss


def job_words(sents, job) -> int:
    """The words of a job (before subsampling)."""
    return int(sents.offsets[job.s1] - sents.offsets[job.s0])


def train_sg_pairs(sents, job, syn0, syn1, sampling):
    """Skip-gram, one (centre, context) pair at a time. Returns (loss, words, pairs)."""
    rng = Draws(job.seed)
    loss, pairs = 0.0, 0
    for alpha, w, ctx in windows(sents, job, sampling, rng):
        for c in ctx:  # h is the row itself (a view), as in word2vec.c: tied, it moves with syn1[c]
            ls, grad = ns_step(syn0[c], w, rng.negatives(sampling, w), syn1, alpha)
            syn0[c] += grad
            loss += ls
            pairs += 1
    return loss, job_words(sents, job), pairs


def train_sg_batch(sents, job, syn0, syn1, sampling):
    """Skip-gram HogBatch: per centre word, all context rows against shared targets."""
    rng = Draws(job.seed)
    loss, pairs = 0.0, 0
    for alpha, w, ctx in windows(sents, job, sampling, rng):
        if not ctx:
            continue
        tgt = [w] + rng.negatives(sampling, w)
        lab = np.array([1.0] + [0.0] * (len(tgt) - 1))
        C = syn0[ctx].astype(np.float64)  # (nc, d), values before the update
        T = syn1[tgt].astype(np.float64)  # (nt, d)
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
    return loss, job_words(sents, job), pairs


def train_cbow(sents, job, syn0, syn1, sampling, cbow_mean, rows_of=lambda w: [w]):
    """CBOW: the mean (or sum) of the context words' rows predicts the centre word. A word's
    rows are ``rows_of(word)``: its own row (word2vec), its subword rows (fastText)."""
    rng = Draws(job.seed)
    loss, examples = 0.0, 0
    for alpha, w, ctx in windows(sents, job, sampling, rng):
        if not ctx:
            continue
        rows = [r for c in ctx for r in rows_of(c)]
        loss += input_update(syn0, syn1, rows, w, rng.negatives(sampling, w), alpha, cbow_mean)
        examples += 1
    return loss, job_words(sents, job), examples
