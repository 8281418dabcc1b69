"""Vocabulary pruning and order, subsampling probabilities, the noise sampler."""

from __future__ import annotations

import numpy as np
import pytest

from firth.train.kernels import build_alias, sample_noise_many
from firth.errors import FirthError
from firth.train.vocab import Vocab


def test_min_count_and_frequency_order():
    v, mapping = Vocab.from_counts(["a", "b", "c", "d", "e"], [3, 9, 1, 9, 5], min_count=2)
    assert v.words == ["b", "d", "e", "a"]  # ties b/d broken by first occurrence
    assert list(v.counts) == [9, 9, 5, 3]
    assert list(mapping) == [3, 0, -1, 1, 2]
    assert v.total == 26


def test_max_vocab_keeps_most_frequent_deterministically():
    words = [f"w{i}" for i in range(6)]
    v, _ = Vocab.from_counts(words, [5, 7, 5, 5, 1, 7], min_count=1, max_vocab=4)
    assert v.words == ["w1", "w5", "w0", "w2"]


def test_nothing_left_after_min_count():
    with pytest.raises(FirthError, match=r"no word occurs at least min_count=5 times \(the most frequent occurs 3"):
        Vocab.from_counts(["a", "b"], [3, 1], min_count=5)


def test_keep_probability_is_word2vec_c_formula():
    v = Vocab(["a", "b", "c"], [10_000, 100, 1])
    s, T = 1e-3, 10_101
    expect = [(np.sqrt(c / (s * T)) + 1) * (s * T) / c for c in (10_000, 100, 1)]
    got = v.keep_probs(s)
    assert got == pytest.approx(np.minimum(expect, 1.0), rel=1e-6)
    assert got[0] < got[1] < 1 and got[2] == 1.0  # capped at 1
    assert np.all(v.keep_probs(0) == 1)
    # gensim's value for the same word (its formula written the same way)
    assert got[0] == pytest.approx((np.sqrt(10_000 / (s * T)) + 1) * (s * T) / 10_000, rel=1e-6)


def test_noise_distribution_exponent():
    v = Vocab(["a", "b"], [16, 1])
    assert v.noise_distribution(1.0) == pytest.approx([16 / 17, 1 / 17])
    assert v.noise_distribution(0.75) == pytest.approx([8 / 9, 1 / 9])
    assert v.noise_distribution(0.0) == pytest.approx([0.5, 0.5])


def test_alias_table_is_exact():
    rng = np.random.default_rng(0)
    p = rng.random(50) ** 3
    p /= p.sum()
    prob, alias = build_alias(p)
    # probability mass implied by the table equals p
    implied = prob.astype(np.float64) / len(p)
    np.add.at(implied, alias, (1.0 - prob.astype(np.float64)) / len(p))
    assert np.max(np.abs(implied - p)) < 1e-6


@pytest.mark.parametrize("exponent", [0.75, 1.0])
def test_sampler_empirical_distribution(exponent):
    counts = np.array([5000, 1200, 800, 300, 120, 60, 30, 10, 5, 5, 2, 1] * 20, dtype=np.int64)
    v = Vocab([f"w{i}" for i in range(len(counts))], counts)
    p = v.noise_distribution(exponent)
    prob, alias = v.noise_table(exponent)
    n = 2_000_000
    draws = sample_noise_many(prob, alias, 12345, n)
    freq = np.bincount(draws, minlength=len(p)) / n
    assert np.max(np.abs(freq - p)) < 1e-3
    # chi-square goodness of fit: 239 degrees of freedom, 99.9% quantile ~ 321
    expected = p * n
    chi2 = float(np.sum((freq * n - expected) ** 2 / expected))
    assert chi2 < 321, chi2
