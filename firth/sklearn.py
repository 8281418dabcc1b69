"""scikit-learn transformer: texts -> averaged (optionally TF-IDF-weighted) word vectors.

The lecture's "a document is the mean of its words' vectors" as a drop-in feature step::

    from sklearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression
    from firth.sklearn import MeanEmbeddingVectorizer

    clf = make_pipeline(MeanEmbeddingVectorizer("vectors.firth", weighting="tfidf"),
                        LogisticRegression(max_iter=1000))
    clf.fit(train_texts, train_labels); clf.score(test_texts, test_labels)

It follows scikit-learn's estimator rules (``__init__`` only stores its arguments, ``fit``
never changes them, learnt state ends in ``_``), so ``clone``, ``Pipeline`` and
``GridSearchCV`` work. ``vectors`` is a path (loaded once per process and shared by every
clone, memory-mapped for firth's native format) or a loaded
:class:`~firth.vectors.KeyedVectors` (``clone`` deep-copies objects, so a path is cheaper in
a grid search). Needs the ``sklearn`` extra: ``pip install 'firth[sklearn]'``.
"""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np

from firth.errors import FirthError
from firth.vectors import KeyedVectors, load_vectors

try:
    from sklearn.base import BaseEstimator, TransformerMixin
except ImportError as e:  # an optional extra: say how to get it
    raise ImportError("firth.sklearn needs scikit-learn: pip install 'firth[sklearn]'") from e

WEIGHTINGS = ("mean", "tfidf")
_LOADED: dict[tuple, KeyedVectors] = {}  # (path, size, mtime) -> vectors, shared by clones


def _vectors_from(spec) -> KeyedVectors:
    if isinstance(spec, KeyedVectors):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        st = os.stat(spec) if os.path.exists(spec) else None
        if st is None:
            raise FirthError(f"{spec}: no such vectors file")
        key = (os.path.abspath(spec), st.st_size, st.st_mtime_ns)
        if key not in _LOADED:
            _LOADED[key] = load_vectors(spec)
        return _LOADED[key]
    raise FirthError(f"vectors={spec!r}: give a vectors file path or a firth KeyedVectors")


class MeanEmbeddingVectorizer(TransformerMixin, BaseEstimator):
    """Texts (strings, split on whitespace and normalised as the vectors were trained, or
    token lists) to the mean of their words' vectors.

    weighting: "mean" (every occurrence counts once) or "tfidf" (each occurrence weighted by
        its word's inverse document frequency in the texts given to ``fit``: scikit-learn's
        smoothed ``idf = ln((1 + n) / (1 + df)) + 1``, so the weighted mean is
        sum(tf * idf * v) / sum(tf * idf)).
    unit_words: average unit-length word vectors (each word counts by direction only).
    A text with no word that has a vector becomes the zero vector.
    """

    def __init__(self, vectors=None, weighting: str = "mean", unit_words: bool = False):
        self.vectors = vectors
        self.weighting = weighting
        self.unit_words = unit_words

    def _kv(self) -> KeyedVectors:
        if self.vectors is None:
            raise FirthError("MeanEmbeddingVectorizer: vectors= is required (a vectors file or a KeyedVectors)")
        return _vectors_from(self.vectors)

    def _tokens(self, kv: KeyedVectors, doc) -> list[str]:
        if isinstance(doc, str):
            return kv.normalizer.tokens(doc)
        return [kv.normalize(t) for t in doc]

    def fit(self, X, y=None):
        if self.weighting not in WEIGHTINGS:
            raise FirthError(f"weighting={self.weighting!r}: expected one of {', '.join(WEIGHTINGS)}")
        kv = self._kv()
        self.dim_ = kv.vector_size
        if self.weighting == "tfidf":
            df: Counter = Counter()
            n = 0
            for doc in X:
                df.update(set(self._tokens(kv, doc)))
                n += 1
            self.n_docs_ = n
            self.idf_ = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
        return self

    def transform(self, X) -> np.ndarray:
        if not hasattr(self, "dim_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("MeanEmbeddingVectorizer: call fit before transform")
        kv = self._kv()
        if kv.vector_size != self.dim_:
            raise FirthError(f"vectors have {kv.vector_size} dimensions, but the transformer was fitted with {self.dim_}")
        docs = list(X)
        out = np.zeros((len(docs), self.dim_), dtype=np.float32)
        unseen_idf = math.log(1 + getattr(self, "n_docs_", 0)) + 1.0  # df = 0
        for r, doc in enumerate(docs):
            counts = Counter(t for t in self._tokens(kv, doc) if kv.has_vector(t))
            if not counts:
                continue
            words = list(counts)
            weights = np.array([counts[w] for w in words], dtype=np.float32)
            if self.weighting == "tfidf":
                weights *= np.array([self.idf_.get(w, unseen_idf) for w in words], dtype=np.float32)
            out[r] = kv.get_mean_vector(words, weights, pre_normalize=self.unit_words)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.array([f"dim{i}" for i in range(self.dim_)], dtype=object)
