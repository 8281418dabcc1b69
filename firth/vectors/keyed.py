"""KeyedVectors: words and their vectors, and what one does with them.

Familiar to gensim users (``kv["king"]``, ``most_similar``, analogies) but never silently
wrong: every lookup goes through the normaliser the vectors were trained with, unknown words
raise :class:`~firth.errors.UnknownWordError` with close spellings, and similarity queries
are one matrix product over unit-length rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np

from firth.errors import FirthError, UnknownWordError
from firth.text import Normalizer
from firth.vectors.formats.native import NativeData, write_native
from firth.vectors.formats.word2vec import WORD2VEC_FORMATS, write_word2vec

_MISSING = object()
EPS_COSMUL = 1e-3  # Levy & Goldberg (2014), 3CosMul's epsilon


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # zero rows stay zero instead of becoming NaN
    return (m / norms).astype(np.float32, copy=False)


class KeyedVectors:
    """A vocabulary (most frequent first) and a float32 matrix with one row per word."""

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
        normalizer: Normalizer | None = None,
        meta: dict | None = None,
    ):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise FirthError(f"vectors must be a 2-d matrix, got shape {vectors.shape}")
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        if len(words) != vectors.shape[0]:
            raise FirthError(f"{len(words)} words but {vectors.shape[0]} vectors")
        self.index_to_key: list[str] = list(words)
        self.key_to_index: dict[str, int] = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            dup = _first_duplicate(self.index_to_key)
            raise FirthError(f"word {dup!r} appears twice in the vocabulary")
        self.vectors = vectors
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise FirthError(f"{len(words)} words but {counts.shape[0]} counts")
        self.counts = counts
        self.normalizer = normalizer or Normalizer()
        self.meta = dict(meta or {})
        self._normed: np.ndarray | None = None

    # ----------------------------------------------------------------- basics
    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} words x {self.vector_size} dims>"

    def normalize(self, token: str) -> str:
        """The vocabulary key for a raw token (the training normalisation)."""
        return self.normalizer(token)

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self.normalize(word) in self.key_to_index

    def has_index_for(self, word: str) -> bool:
        return word in self

    def has_vector(self, word: str) -> bool:
        """Whether a vector can be given for ``word``: the vocabulary here; fastText
        vectors also compose one for unseen words."""
        return word in self

    def get_index(self, word: str, default=_MISSING) -> int:
        i = self.key_to_index.get(self.normalize(word))
        if i is None:
            if default is _MISSING:
                raise UnknownWordError(word, self.suggest(word))
            return default
        return i

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        i = self.get_index(word)
        return self.get_normed()[i] if norm else self.vectors[i]

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.get_vector(key)
        if isinstance(key, (int, np.integer)):
            return self.vectors[key]
        return np.stack([self[k] for k in key])

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Close spellings among the most frequent 50,000 words (for error messages)."""
        key = self.normalize(word)
        pool = self.index_to_key[:50_000]
        return difflib.get_close_matches(key, pool, n=n, cutoff=0.75)

    def get_normed(self) -> np.ndarray:
        """Unit-length rows, computed once and cached."""
        if self._normed is None:
            self._normed = _unit_rows(np.asarray(self.vectors, dtype=np.float32))
        return self._normed

    def limit(self, n: int) -> "KeyedVectors":
        """The ``n`` most frequent words (a view: no copy of the matrix)."""
        n = min(int(n), len(self))
        return KeyedVectors(
            self.index_to_key[:n], self.vectors[:n],
            None if self.counts is None else self.counts[:n], self.normalizer, self.meta,
        )

    # --------------------------------------------------------- similarities
    def _as_unit(self, item) -> np.ndarray:
        if isinstance(item, str):
            return self.get_vector(item, norm=True)
        v = np.asarray(item, dtype=np.float32)
        if v.shape != (self.vector_size,):
            raise FirthError(f"a query vector must have {self.vector_size} values, got shape {v.shape}")
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(np.dot(self._as_unit(w1), self._as_unit(w2)))

    def n_similarity(self, ws1: Iterable[str], ws2: Iterable[str]) -> float:
        """Cosine similarity of the mean vectors of two word sets."""
        a, b = self.mean_vector(list(ws1)), self.mean_vector(list(ws2))
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))

    def _top(self, scores: np.ndarray, topn: int, exclude: set[int]) -> list[tuple[str, float]]:
        k = min(len(scores), topn + len(exclude))
        if k <= 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k]
        best = part[np.argsort(-scores[part], kind="stable")]
        out = []
        for i in best:
            if int(i) in exclude:
                continue
            out.append((self.index_to_key[i], float(scores[i])))
            if len(out) == topn:
                break
        return out

    @staticmethod
    def _listify(x) -> list:
        if x is None:
            return []
        if isinstance(x, (str, np.ndarray)):
            return [x]
        return list(x)

    def most_similar(self, positive=None, negative=None, topn: int = 10, restrict_vocab: int | None = None):
        """Nearest neighbours of the mean of ``positive`` minus ``negative`` (unit vectors),
        as gensim computes them; input words are excluded from the answer."""
        positive, negative = self._listify(positive), self._listify(negative)
        if not positive and not negative:
            raise FirthError("most_similar needs at least one word or vector")
        mean = np.zeros(self.vector_size, dtype=np.float32)
        exclude = set()
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for it in items:
                mean += sign * self._as_unit(it)
                if isinstance(it, str):
                    exclude.add(self.get_index(it))
        return self.similar_by_vector(mean, topn=topn, restrict_vocab=restrict_vocab, _exclude=exclude)

    def similar_by_vector(self, vector, topn: int = 10, restrict_vocab: int | None = None, _exclude=()):
        unit = self._as_unit(vector)
        normed = self.get_normed()
        if restrict_vocab:
            normed = normed[:restrict_vocab]
        scores = normed @ unit
        return self._top(scores, topn, set(_exclude))

    def similar_by_word(self, word: str, topn: int = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int = 10, restrict_vocab: int | None = None):
        """3CosMul (Levy & Goldberg 2014): argmax prod cos'(x, p) / (prod cos'(x, n) + eps),
        cosines shifted to [0, 1] by (cos + 1) / 2, eps = 0.001."""
        positive, negative = self._listify(positive), self._listify(negative)
        if not positive:
            raise FirthError("most_similar_cosmul needs at least one positive word")
        normed = self.get_normed()
        if restrict_vocab:
            normed = normed[:restrict_vocab]
        exclude = {self.get_index(w) for w in positive + negative if isinstance(w, str)}
        pos = [(normed @ self._as_unit(w) + 1) / 2 for w in positive]
        neg = [(normed @ self._as_unit(w) + 1) / 2 for w in negative]
        scores = np.prod(pos, axis=0) / (np.prod(neg, axis=0) + EPS_COSMUL) if neg else np.prod(pos, axis=0)
        return self._top(scores, topn, exclude)

    def analogy(self, a: str, b: str, c: str, method: str = "add", topn: int = 1, restrict_vocab: int | None = None):
        """``a : b :: c : ?`` (man : king :: woman : queen). method "add" is 3CosAdd
        (b - a + c), "mul" is 3CosMul. The three question words are never answers."""
        if method == "add":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        if method == "mul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        raise FirthError(f"analogy method {method!r}: expected 'add' (3CosAdd) or 'mul' (3CosMul)")

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the mean of the others' unit vectors."""
        words = [w for w in words if self.has_vector(w)]
        if not words:
            raise FirthError("doesnt_match: none of the words has a vector")
        units = np.stack([self.get_vector(w, norm=True) for w in words])
        mean = units.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        return words[int(np.argmin(units @ mean))]

    def mean_vector(self, tokens, allow_empty: bool = False) -> np.ndarray:
        """A document as the average of its words' vectors (unknown words skipped).

        ``tokens`` is a list of tokens or a string (whitespace-split, then normalised).
        With no known word at all, raises FirthError unless ``allow_empty`` (then zeros).
        """
        if isinstance(tokens, str):
            tokens = self.normalizer.tokens(tokens)
        idx = [i for i in (self.get_index(t, None) for t in tokens) if i is not None]
        if not idx:
            if allow_empty:
                return np.zeros(self.vector_size, dtype=np.float32)
            raise FirthError("mean_vector: none of the words is in the vocabulary")
        return np.asarray(self.vectors[idx], dtype=np.float32).mean(axis=0)

    # ------------------------------------------------------------------ I/O
    NATIVE_CLASS = "KeyedVectors"  # the class name a native archive records (load_vectors builds it)

    def save(self, path, format: str = "native") -> None:
        """Write the vectors atomically: format native | word2vec-text | word2vec-binary | vec."""
        if format == "native":
            extra, arrays = self._native_payload()
            write_native(path, NativeData(self.NATIVE_CLASS, self.index_to_key, self.vectors, self.counts,
                                          self.normalizer, self.meta, extra, arrays))
        elif format in WORD2VEC_FORMATS:
            write_word2vec(path, self.index_to_key, self.vectors, format)
        elif format == "fasttext-bin":
            raise FirthError(
                f"--format fasttext-bin: {type(self).__name__} has no character n-grams; only fastText "
                "vectors (trained with --model fasttext-sg|fasttext-cbow, or read from a .bin) can be written as a Facebook .bin"
            )
        else:
            raise FirthError(f"--format {format!r}: expected one of native, {', '.join(WORD2VEC_FORMATS)}, fasttext-bin")

    # Subclasses (fastText) add arrays and settings to the native format through these.
    def _native_payload(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {}

    @classmethod
    def _from_native(cls, words, vectors, counts, normalizer, meta, extra: dict, arrays: dict):
        return cls(words, vectors, counts, normalizer, meta)


def _first_duplicate(words):
    seen = set()
    for w in words:
        if w in seen:
            return w
        seen.add(w)
    return None
