"""The HogBatch skip-gram kernel (register-blocked, draws taken per sentence, in-place output
update) against its plain-NumPy reference, for the block shapes, tied matrices, determinism,
and its sigmoid / loss tables against the exact functions."""

from __future__ import annotations

import numpy as np
import pytest

from firth.train import kernels as TK
from firth.train.vocab import Vocab
from firth.train.word2vec import reference as R
from firth.train.word2vec.hogbatch import _grad_loss, train_sg_batch


def _corpus(seed=0, n_sent=10, vocab=30):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    lens = rng.integers(1, 25, size=n_sent)
    lens[0] = 1  # a one-word sentence: one window draw, no negatives
    ids = rng.choice(vocab, size=int(lens.sum()), p=p).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    v = Vocab([f"w{i}" for i in range(vocab)], np.bincount(ids, minlength=vocab).astype(np.int64) + 1)
    return ids, offsets, v.keep_probs(0.02), *v.noise_table(0.75), vocab


def _weights(V, d, seed=1):
    rng = np.random.default_rng(seed)
    return [((rng.random((V, d), dtype=np.float32) - 0.5) / d * 20).astype(np.float32) for _ in range(2)]


def _args(ids, offsets, keep, prob, alias, window, negative, seed, s0=0, s1=None):
    """(Sentences, Job, Sampling) of sentences [s0, s1) (all by default), lr 0.05 -> 0.01."""
    s1 = len(offsets) - 1 if s1 is None else s1
    return (TK.Sentences(ids, offsets), TK.Job(s0, s1, 0.05, 0.01, np.uint64(seed)),
            TK.Sampling(keep, prob, alias, window, negative))


def _run(fn, syn0, syn1, sents, job, sampling):
    return fn(sents, job, syn0, syn1, sampling)


# negatives 5 (targets in blocks of 3 + 3), 4 (3 + 2), 1 (1 + 1), 7 (3 + 3 + 2); dims that are
# and are not multiples of the vector width (100 and 300 have their own compiled copy of the
# window update); windows giving 1..2*window context rows
@pytest.mark.parametrize("negative,window,dim", [(5, 5, 100), (4, 3, 7), (1, 2, 16), (7, 4, 33), (5, 2, 300)])
@pytest.mark.parametrize("tied", [False, True])
def test_matches_reference(negative, window, dim, tied):
    ids, offsets, keep, prob, alias, V = _corpus()
    syn0, syn1 = _weights(V, dim)
    if tied:
        syn1 = syn0
    r0 = syn0.astype(np.float64)
    r1 = r0 if tied else syn1.astype(np.float64)
    args = _args(ids, offsets, keep, prob, alias, window, negative, TK.job_seed(3, 1, 2))
    got = _run(train_sg_batch, syn0, syn1, *args)
    ref = _run(R.train_sg_batch, r0, r1, *args)
    assert got[1] == ref[1] == offsets[-1]
    assert got[2] == ref[2] > 30  # same windows and subsampling
    assert got[0] == pytest.approx(ref[0], rel=1e-4)
    assert np.abs(r0 - _weights(V, dim)[0]).max() > 1e-3  # not vacuous
    np.testing.assert_allclose(syn0, r0, rtol=0, atol=2e-5)
    np.testing.assert_allclose(syn1, r1, rtol=0, atol=2e-5)


def test_deterministic_and_job_ranges_compose():
    ids, offsets, keep, prob, alias, V = _corpus(seed=4, n_sent=14)
    runs = []
    for _ in range(2):
        a, b = _weights(V, 20)
        out = _run(train_sg_batch, a, b, *_args(ids, offsets, keep, prob, alias, 4, 5, 9))
        runs.append((out, a, b))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1]) and np.array_equal(runs[0][2], runs[1][2])


def test_grad_loss_tables_match_exact_functions():
    f = np.concatenate([np.linspace(-20, 20, 801), [-16.0, 16.0, -15.999, 15.999, 0.0]]).astype(np.float32)
    x = f.astype(np.float64)
    sig = 1.0 / (1.0 + np.exp(-x))
    G = np.empty((1, 2), np.float32)
    for i in range(len(f)):
        F = np.array([[f[i], f[i]]], np.float32)
        pos = _grad_loss(F, G, 1, 1, np.float32(1.0))  # the positive only: softplus(-f)
        assert G[0, 0] == pytest.approx(1.0 - sig[i], abs=2e-6)
        assert pos == pytest.approx(np.logaddexp(0.0, -x[i]), rel=1e-6, abs=3e-6)
        both = _grad_loss(F, G, 1, 2, np.float32(0.5))  # + a negative with the same score: softplus(f)
        assert G[0, 1] == pytest.approx(-0.5 * sig[i], abs=1e-6)
        assert both == pytest.approx(np.logaddexp(0.0, -x[i]) + np.logaddexp(0.0, x[i]), rel=1e-6, abs=6e-6)


def test_grad_loss_of_a_nan_score_stays_in_bounds():
    F = np.array([[np.nan, 1.0]], np.float32)
    G = np.empty_like(F)
    loss = _grad_loss(F, G, 1, 2, np.float32(0.1))
    assert not np.isfinite(loss)  # reported as divergence by the trainer, no stray read


def test_job_in_the_middle_matches_reference():
    """A job that starts past sentence 0 (its lr schedule counts only its own words)."""
    ids, offsets, keep, prob, alias, V = _corpus(seed=5, n_sent=12)
    syn0, syn1 = _weights(V, 12)
    r0, r1 = syn0.astype(np.float64), syn1.astype(np.float64)
    args = _args(ids, offsets, keep, prob, alias, 3, 4, 11, s0=4, s1=9)
    got = _run(train_sg_batch, syn0, syn1, *args)
    ref = _run(R.train_sg_batch, r0, r1, *args)
    assert got[1] == ref[1] == offsets[9] - offsets[4]
    assert got[2] == ref[2] > 10
    assert got[0] == pytest.approx(ref[0], rel=1e-4)
    np.testing.assert_allclose(syn0, r0, rtol=0, atol=2e-5)
    np.testing.assert_allclose(syn1, r1, rtol=0, atol=2e-5)
