"""Vocabulary: counts, pruning, frequency order, subsampling and the noise distribution.

``Vocab.from_counts(words, counts, min_count, max_vocab)`` keeps words with
``count >= min_count``, then the ``max_vocab`` most frequent, ordered by decreasing count;
ties are broken by first occurrence in the corpus (the order of ``words``), so the result
never depends on hashing or dictionary order.

Subsampling uses the keep-probability of word2vec.c and gensim (not the paper's
``sqrt(t/f)``), for a word of count c in a corpus of T (retained) tokens with threshold s::

    keep(c) = min(1, (sqrt(c / (s*T)) + 1) * (s*T) / c)

The noise distribution for negative sampling is ``count ** ns_exponent``, normalised
(0.75 as in word2vec; 1.0 is the plain corpus frequency; 0 uniform), sampled in O(1) with
an alias table (``noise_table``).
"""

from __future__ import annotations

import numpy as np

from firth.errors import FirthError


class Vocab:
    """Words in decreasing frequency order with their counts."""

    def __init__(self, words, counts):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        self.index = {w: i for i, w in enumerate(self.words)}
        self._noise = {}

    def __len__(self):
        return len(self.words)

    def __contains__(self, w):
        return w in self.index

    @property
    def total(self) -> int:
        """Number of corpus tokens that are in the vocabulary (T)."""
        return int(self.counts.sum())

    @classmethod
    def from_counts(cls, words, counts, min_count: int = 5, max_vocab: int | None = None, source: str = "corpus"):
        """Prune and sort a raw vocabulary. Returns (vocab, mapping raw index -> new index or -1)."""
        counts = np.asarray(counts, dtype=np.int64)
        if min_count < 1:
            raise FirthError(f"--min-count: must be >= 1, got {min_count}")
        if max_vocab is not None and max_vocab < 1:
            raise FirthError(f"--max-vocab: must be >= 1, got {max_vocab}")
        cand = np.flatnonzero(counts >= min_count)
        if len(cand) == 0:
            most = int(counts.max()) if len(counts) else 0
            raise FirthError(
                f"{source}: no word occurs at least min_count={min_count} times "
                f"(the most frequent occurs {most} times); lower --min-count or give a larger corpus"
            )
        # decreasing count, ties by first occurrence (stable sort on the raw order)
        order = cand[np.argsort(-counts[cand], kind="stable")]
        if max_vocab is not None:
            order = order[:max_vocab]
        mapping = np.full(len(counts), -1, dtype=np.int32)
        mapping[order] = np.arange(len(order), dtype=np.int32)
        return cls([words[i] for i in order], counts[order]), mapping

    def keep_probs(self, sample: float) -> np.ndarray:
        """Subsampling keep-probability of each word (float32, 1.0 when sample == 0)."""
        if sample < 0:
            raise FirthError(f"--sample: must be >= 0, got {sample}")
        c = self.counts.astype(np.float64)
        if sample == 0:
            return np.ones(len(c), dtype=np.float32)
        st = sample * self.total
        p = (np.sqrt(c / st) + 1.0) * st / c
        return np.minimum(p, 1.0).astype(np.float32)

    def noise_distribution(self, ns_exponent: float = 0.75) -> np.ndarray:
        """Probabilities proportional to count ** ns_exponent (float64, sums to 1)."""
        p = self.counts.astype(np.float64) ** float(ns_exponent)
        return p / p.sum()

    def noise_table(self, ns_exponent: float = 0.75):
        """Alias table (prob float32, alias int32) for O(1) negative sampling."""
        key = float(ns_exponent)
        if key not in self._noise:
            from firth.train.kernels import build_alias

            self._noise[key] = build_alias(self.noise_distribution(ns_exponent))
        return self._noise[key]
