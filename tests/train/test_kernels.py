"""Numba kernels against the plain-NumPy reference; gradients against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from firth.train import kernels as TK
from firth.train.word2vec import kernels as K
from firth.train.word2vec.hogbatch import train_sg_batch
from firth.train.word2vec import reference as R
from firth.train.vocab import Vocab


def _tiny(seed=0, n_sent=12, vocab=25):
    rng = np.random.default_rng(seed)
    # Zipf-like ids so that subsampling and repeated words both happen
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    lens = rng.integers(1, 30, size=n_sent)
    ids = rng.choice(vocab, size=int(lens.sum()), p=p).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    counts = np.bincount(ids, minlength=vocab).astype(np.int64) + 1
    v = Vocab([f"w{i}" for i in range(vocab)], counts)
    keep = v.keep_probs(0.02)
    prob, alias = v.noise_table(0.75)
    return ids, offsets, keep, prob, alias, vocab


def _weights(V, d, seed=1):
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((V, d), dtype=np.float32) - 0.5) / d * 20).astype(np.float32)
    syn1 = ((rng.random((V, d), dtype=np.float32) - 0.5) / d * 20).astype(np.float32)
    return syn0, syn1


def test_lcg_and_sampler_match_reference():
    ids, offsets, keep, prob, alias, V = _tiny()
    seed = TK.job_seed(7, 2, 3)
    draws = TK.sample_noise_many(prob, alias, np.uint64(seed), 1000)
    r, ref = seed, []
    for _ in range(1000):
        r = R.lcg(r)
        ref.append(R.noise_sample(r, prob, alias))
    assert list(draws) == ref
    assert TK.job_seed(7, 2, 3) == TK.job_seed(7, 2, 3) != TK.job_seed(7, 2, 4)


CASES = [
    ("sg_pairs", False, ()),
    ("sg_batch", False, ()),
    ("cbow", False, (True,)),
    ("cbow", False, (False,)),
    ("sg_pairs", True, ()),
    ("cbow", True, (True,)),
]


@pytest.mark.parametrize("name,tied,extra", CASES)
def test_kernel_matches_reference(name, tied, extra):
    ids, offsets, keep, prob, alias, V = _tiny()
    d, window, negative = 8, 3, 4
    syn0, syn1 = _weights(V, d)
    if tied:
        syn1 = syn0
    r0 = syn0.astype(np.float64)
    r1 = r0 if tied else syn1.astype(np.float64)
    kern = {"sg_pairs": K.train_sg_pairs, "sg_batch": train_sg_batch, "cbow": K.train_cbow}[name]
    ref = {"sg_pairs": R.train_sg_pairs, "sg_batch": R.train_sg_batch, "cbow": R.train_cbow}[name]
    seed = TK.job_seed(1, 0, 0)
    ns = len(offsets) - 1
    sents, sampling = TK.Sentences(ids, offsets), TK.Sampling(keep, prob, alias, window, negative)
    job = TK.Job(0, ns, 0.05, 0.01, np.uint64(seed))
    out_k = kern(sents, job, syn0, syn1, sampling, *extra)
    out_r = ref(sents, job, r0, r1, sampling, *extra)
    assert out_k[1] == out_r[1] == offsets[-1]
    assert out_k[2] == out_r[2] > 50  # same number of examples: same windows and subsampling
    assert out_k[0] == pytest.approx(out_r[0], rel=1e-4)
    moved = np.abs(r0 - _weights(V, d)[0]).max()
    assert moved > 1e-3  # the test is not vacuous
    np.testing.assert_allclose(syn0, r0, rtol=0, atol=1e-5)
    np.testing.assert_allclose(syn1, r1, rtol=0, atol=1e-5)


def test_batch_differs_from_pairs_but_only_a_little():
    ids, offsets, keep, prob, alias, V = _tiny()
    a0, a1 = _weights(V, 8)
    b0, b1 = _weights(V, 8)
    ns = len(offsets) - 1
    sents, job, sampling = TK.Sentences(ids, offsets), TK.Job(0, ns, 0.05, 0.01, np.uint64(5)), TK.Sampling(keep, prob, alias, 3, 4)
    K.train_sg_pairs(sents, job, a0, a1, sampling)
    train_sg_batch(sents, job, b0, b1, sampling)
    assert not np.array_equal(a0, b0)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    d, k = 6, 5
    h = rng.normal(size=d)
    U = rng.normal(size=(k + 1, d))
    labels = np.array([1.0] + [0.0] * k)
    gh, gU = R.example_grad(h, U, labels)
    eps = 1e-6
    for i in range(d):
        e = np.zeros(d)
        e[i] = eps
        fd = (R.example_loss(h + e, U, labels) - R.example_loss(h - e, U, labels)) / (2 * eps)
        assert fd == pytest.approx(gh[i], abs=1e-6)
    for j in range(k + 1):
        for i in range(d):
            E = np.zeros_like(U)
            E[j, i] = eps
            fd = (R.example_loss(h, U + E, labels) - R.example_loss(h, U - E, labels)) / (2 * eps)
            assert fd == pytest.approx(gU[j, i], abs=1e-6)


def test_kernel_step_is_minus_alpha_gradient():
    """One skip-gram pair: the kernel's change of the rows equals -alpha * dL/d(rows)."""
    V, d, negative, alpha = 30, 5, 3, 0.1
    ids = np.array([0, 1], dtype=np.int32)  # one sentence "w0 w1", window 1: two pairs
    offsets = np.array([0, 2], dtype=np.int64)
    keep = np.ones(V, np.float32)
    prob, alias = TK.build_alias(np.full(V, 1.0 / V))
    syn0, syn1 = _weights(V, d, seed=4)
    s0, s1 = syn0.astype(np.float64), syn1.astype(np.float64)
    seed = 99
    K.train_sg_pairs(TK.Sentences(ids, offsets), TK.Job(0, 1, alpha, alpha, np.uint64(seed)), syn0, syn1,
                     TK.Sampling(keep, prob, alias, 1, negative))
    # replay the draws: window draw, then negatives for pair (centre 0, context 1), etc.
    r = seed
    for centre, context in ((0, 1), (1, 0)):
        r = R.lcg(r)  # window (always 1 here)
        tg = [centre]
        for _ in range(negative):
            r = R.lcg(r)
            t = R.noise_sample(r, prob, alias)
            if t != centre:
                tg.append(t)
        labels = np.array([1.0] + [0.0] * (len(tg) - 1))
        # sequential over targets, as word2vec.c: apply one target at a time
        neu1e = np.zeros(d)
        for t, lab in zip(tg, labels):
            gh, gU = R.example_grad(s0[context], s1[[t]], np.array([lab]))
            neu1e += -alpha * gh
            s1[t] += -alpha * gU[0]
        s0[context] += neu1e
    np.testing.assert_allclose(syn0, s0, atol=1e-6)
    np.testing.assert_allclose(syn1, s1, atol=1e-6)


def test_sigmoid_and_loss_tables_are_accurate():
    f = np.concatenate([np.linspace(-12, 12, 20001), [-8.0, 8.0, 0.0, -7.9999, 7.9999]]).astype(np.float32)
    f64 = f.astype(np.float64)
    for label in (1, 0):
        s, loss = TK.sig_loss_many(f, label)
        np.testing.assert_allclose(s, 1 / (1 + np.exp(-f64)), atol=3e-6)
        exact = np.logaddexp(0, -f64) if label else np.logaddexp(0, f64)
        np.testing.assert_allclose(loss, exact, atol=3e-6)


def test_prefetch_row_is_only_a_hint():
    from numba import njit

    from firth.train.kernels import prefetch_row

    @njit
    def touch(a, rows):
        for r in rows:
            prefetch_row(a, r)
        return a.sum()

    a = np.arange(5 * 37, dtype=np.float32).reshape(5, 37)  # rows not a multiple of a cache line
    before = a.copy()
    assert touch(a, np.array([0, 4, 2])) == before.sum()
    np.testing.assert_array_equal(a, before)
